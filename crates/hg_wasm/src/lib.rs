//! Browser bindings of huntglass: the only crate that talks to JavaScript through wasm-bindgen.
