//! Names the targets where the 16-byte block scans (`src/block.rs`) run on SIMD: x86_64 with
//! SSE2 and wasm32 with simd128. One definition, `cfg(hg_simd_blocks)`, instead of the same
//! target condition on every item that depends on it.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hg_simd_blocks)");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let has = |feature: &str| features.split(',').any(|f| f == feature);
    if (arch == "x86_64" && has("sse2")) || (arch == "wasm32" && has("simd128")) {
        println!("cargo::rustc-cfg=hg_simd_blocks");
    }
}
