//! C-ABI wasm module exposing the huntglass operation registry to the Python kernel (run by wasmtime).
//!
//! Built by `scripts/build.sh` (`cargo rustc --profile kernel-release --target
//! wasm32-unknown-unknown -p hg_kernel -- -C strip=symbols` with `-C target-feature=+simd128`)
//! into `hg_kernel.wasm` (no wasm-bindgen, no imports: the module needs nothing from its host).
//! It is built for speed rather than size: opt-level 3 and wasm SIMD ran IoC extraction about
//! twice as fast as the size-optimized `wasm-release` profile (`bench/ioc/results/kernel.md`).
//! `huntglass._kernel` instantiates it once per process and calls operations with Arrow IPC
//! stream bytes in and out, so kernel-side results are the browser's and the CLI's results,
//! and hostile payloads are parsed inside the wasm sandbox.
//!
//! # ABI (version [`ABI_VERSION`])
//!
//! All integers are wasm `i32`; pointers and lengths are byte offsets into the module's exported
//! `memory`.
//!
//! | export | meaning |
//! |---|---|
//! | `hg_abi_version() -> u32` | this ABI's version |
//! | `hg_alloc(len) -> ptr` | a buffer of `len` bytes for the host to fill; 0 when memory is exhausted |
//! | `hg_free(ptr, len) -> i32` | releases a buffer from `hg_alloc` (0), or refuses (-1) if `ptr`/`len` are not one |
//! | `hg_call(name_ptr, name_len, opts_ptr, opts_len, input_ptr, input_len) -> handle` | runs the operation named by the UTF-8 name with the JSON options on the Arrow IPC input; always returns a result handle (>= 1) |
//! | `hg_ops_list() -> handle` | the registry's description as JSON (see `hg_ops::Registry::list_json`) |
//! | `hg_result_status(handle) -> i32` | [`STATUS_OK`] (bytes = output), [`STATUS_OP_ERROR`] (bytes = UTF-8 message of the operation's error), [`STATUS_BAD_CALL`] (bytes = UTF-8 message: the host broke the ABI), -1 unknown handle |
//! | `hg_result_ptr(handle) -> ptr`, `hg_result_len(handle) -> len` | where the result's bytes are (0, 0 for an unknown handle) |
//! | `hg_result_free(handle) -> i32` | releases the result (0), -1 for an unknown handle |
//!
//! A host call is: `hg_alloc` three buffers (or one, holding the three parts), write name,
//! options and input into them, `hg_call`, read status and bytes, `hg_result_free`, `hg_free`.
//! Buffers may be reused for many calls. Zero-length parts may pass any pointer (use 0).
//!
//! # Safety against a careless host
//!
//! There is no `unsafe` code here: the kernel never dereferences a pointer it is given. Every
//! buffer the host may write is a `Box<[u8]>` the kernel owns, recorded by its address; a
//! `(ptr, len)` argument is resolved by looking up the buffer that contains it, and a range that
//! is not inside one live buffer is a [`STATUS_BAD_CALL`] result naming the argument, never a
//! read of arbitrary memory. Freeing a pointer twice or with the wrong length is refused.
//! Results are owned by the kernel until `hg_result_free`; the host only reads them.
//! The only attribute the `unsafe_code` lint flags is `#[no_mangle]` on the exports.
//!
//! A panic (a bug) aborts: wasmtime reports a trap and the Python side discards the instance and
//! makes a new one for the next call. Running out of the 4 GiB wasm32 memory while an operation
//! runs traps the same way; `hg_alloc` returns 0 instead when the requested buffer cannot be had.
//!
//! # Input limits
//!
//! Those of `hg_ops` (Arrow read limits, option size, output batch size) and of the engines.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use hg_ops::Registry;

/// The ABI version returned by `hg_abi_version`.
pub const ABI_VERSION: u32 = 1;
/// `hg_result_status`: the operation succeeded; the bytes are its Arrow IPC stream (or JSON).
pub const STATUS_OK: i32 = 0;
/// `hg_result_status`: the operation failed; the bytes are its UTF-8 error message.
pub const STATUS_OP_ERROR: i32 = 1;
/// `hg_result_status`: the call broke the ABI (a range outside the buffers, a name that is not
/// UTF-8); the bytes are a UTF-8 message.
pub const STATUS_BAD_CALL: i32 = 2;
/// `hg_result_status` of a handle that does not exist.
pub const STATUS_UNKNOWN_HANDLE: i32 = -1;

/// A buffer handed to the host: at least one byte long so that every buffer has its own address.
struct HostBuffer {
    bytes: Box<[u8]>,
    len: usize,
}

struct Outcome {
    status: i32,
    bytes: Box<[u8]>,
}

#[derive(Default)]
struct Kernel {
    /// Host-writable buffers by address.
    buffers: BTreeMap<usize, HostBuffer>,
    /// Results by handle.
    results: BTreeMap<u32, Outcome>,
    next_handle: u32,
}

static KERNEL: Mutex<Kernel> = Mutex::new(Kernel {
    buffers: BTreeMap::new(),
    results: BTreeMap::new(),
    next_handle: 1,
});

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::standard)
}

fn kernel() -> std::sync::MutexGuard<'static, Kernel> {
    // A poisoned lock only means an earlier call panicked; the maps are still consistent.
    KERNEL.lock().unwrap_or_else(|p| p.into_inner())
}

impl Kernel {
    fn alloc(&mut self, len: usize) -> usize {
        let mut bytes = Vec::new();
        if bytes.try_reserve_exact(len.max(1)).is_err() {
            return 0;
        }
        bytes.resize(len.max(1), 0u8);
        let bytes = bytes.into_boxed_slice();
        let ptr = bytes.as_ptr() as usize;
        self.buffers.insert(ptr, HostBuffer { bytes, len });
        ptr
    }

    fn free(&mut self, ptr: usize, len: usize) -> i32 {
        match self.buffers.get(&ptr) {
            Some(buffer) if buffer.len == len => {
                self.buffers.remove(&ptr);
                0
            }
            _ => -1,
        }
    }

    /// The bytes `ptr..ptr + len`, if they lie inside one live buffer.
    fn range(&self, ptr: usize, len: usize) -> Option<&[u8]> {
        if len == 0 {
            return Some(&[]);
        }
        let (&start, buffer) = self.buffers.range(..=ptr).next_back()?;
        let offset = ptr - start;
        let end = offset.checked_add(len)?;
        (end <= buffer.len).then(|| &buffer.bytes[offset..end])
    }

    /// Mutable bytes of a live buffer range (what the host writes through memory).
    fn range_mut(&mut self, ptr: usize, len: usize) -> Option<&mut [u8]> {
        let (&start, buffer) = self.buffers.range_mut(..=ptr).next_back()?;
        let offset = ptr - start;
        let end = offset.checked_add(len)?;
        (end <= buffer.len).then(|| &mut buffer.bytes[offset..end])
    }

    fn store(&mut self, status: i32, bytes: Vec<u8>) -> u32 {
        let mut handle = self.next_handle;
        while handle == 0 || self.results.contains_key(&handle) {
            handle = handle.wrapping_add(1);
        }
        self.next_handle = handle.wrapping_add(1);
        self.results.insert(
            handle,
            Outcome {
                status,
                bytes: bytes.into_boxed_slice(),
            },
        );
        handle
    }

    fn call(
        &mut self,
        name: (usize, usize),
        options: (usize, usize),
        input: (usize, usize),
    ) -> u32 {
        let outcome = self.run(name, options, input);
        match outcome {
            Ok(Ok(output)) => self.store(STATUS_OK, output),
            Ok(Err(op_error)) => self.store(STATUS_OP_ERROR, op_error.into_bytes()),
            Err(bad_call) => self.store(STATUS_BAD_CALL, bad_call.into_bytes()),
        }
    }

    /// `Err` = the host broke the ABI; `Ok(Err)` = the operation failed.
    fn run(
        &self,
        name: (usize, usize),
        options: (usize, usize),
        input: (usize, usize),
    ) -> Result<Result<Vec<u8>, String>, String> {
        let part = |what: &str, (ptr, len): (usize, usize)| {
            self.range(ptr, len).ok_or_else(|| {
                format!("hg_call: {what} range {ptr}+{len} is not inside a buffer from hg_alloc")
            })
        };
        let name_bytes = part("name", name)?;
        let options = part("options", options)?;
        let input = part("input", input)?;
        let name = std::str::from_utf8(name_bytes)
            .map_err(|e| format!("hg_call: the operation name is not UTF-8: {e}"))?;
        Ok(registry()
            .call(name, options, input)
            .map_err(|e| e.to_string()))
    }
}

/// Returns the ABI version ([`ABI_VERSION`]).
#[allow(unsafe_code)] // `no_mangle` only: the export needs its plain name.
#[no_mangle]
pub extern "C" fn hg_abi_version() -> u32 {
    ABI_VERSION
}

/// Allocates a zero-filled buffer of `len` bytes for the host to write; 0 if memory is exhausted.
#[allow(unsafe_code)] // `no_mangle` only.
#[no_mangle]
pub extern "C" fn hg_alloc(len: usize) -> usize {
    kernel().alloc(len)
}

/// Releases a buffer from [`hg_alloc`]: 0 on success, -1 (nothing freed) if `ptr` is not the
/// start of a live buffer of exactly `len` bytes.
#[allow(unsafe_code)] // `no_mangle` only.
#[no_mangle]
pub extern "C" fn hg_free(ptr: usize, len: usize) -> i32 {
    kernel().free(ptr, len)
}

/// Runs an operation; returns a result handle (see the crate docs for the statuses).
#[allow(unsafe_code)] // `no_mangle` only.
#[no_mangle]
pub extern "C" fn hg_call(
    name_ptr: usize,
    name_len: usize,
    opts_ptr: usize,
    opts_len: usize,
    input_ptr: usize,
    input_len: usize,
) -> u32 {
    kernel().call(
        (name_ptr, name_len),
        (opts_ptr, opts_len),
        (input_ptr, input_len),
    )
}

/// The registry's description as JSON, as a result handle (status [`STATUS_OK`]).
#[allow(unsafe_code)] // `no_mangle` only.
#[no_mangle]
pub extern "C" fn hg_ops_list() -> u32 {
    let listing = registry().list_json().into_bytes();
    kernel().store(STATUS_OK, listing)
}

/// The status of a result ([`STATUS_OK`], [`STATUS_OP_ERROR`], [`STATUS_BAD_CALL`]) or
/// [`STATUS_UNKNOWN_HANDLE`].
#[allow(unsafe_code)] // `no_mangle` only.
#[no_mangle]
pub extern "C" fn hg_result_status(handle: u32) -> i32 {
    kernel()
        .results
        .get(&handle)
        .map_or(STATUS_UNKNOWN_HANDLE, |r| r.status)
}

/// Where a result's bytes start (0 for an unknown handle).
#[allow(unsafe_code)] // `no_mangle` only.
#[no_mangle]
pub extern "C" fn hg_result_ptr(handle: u32) -> usize {
    kernel()
        .results
        .get(&handle)
        .map_or(0, |r| r.bytes.as_ptr() as usize)
}

/// How many bytes a result has (0 for an unknown handle).
#[allow(unsafe_code)] // `no_mangle` only.
#[no_mangle]
pub extern "C" fn hg_result_len(handle: u32) -> usize {
    kernel().results.get(&handle).map_or(0, |r| r.bytes.len())
}

/// Releases a result: 0, or -1 for an unknown handle.
#[allow(unsafe_code)] // `no_mangle` only.
#[no_mangle]
pub extern "C" fn hg_result_free(handle: u32) -> i32 {
    if kernel().results.remove(&handle).is_some() {
        0
    } else {
        -1
    }
}

/// What the host does through memory, for native tests (the kernel never needs it itself).
#[doc(hidden)]
pub mod host {
    use super::kernel;

    /// Writes `data` at `ptr` if that range lies inside a live buffer from `hg_alloc`.
    pub fn write(ptr: usize, data: &[u8]) -> bool {
        match kernel().range_mut(ptr, data.len()) {
            Some(target) => {
                target.copy_from_slice(data);
                true
            }
            None => false,
        }
    }

    /// A copy of a result's bytes (what the host reads at `hg_result_ptr`).
    pub fn result_bytes(handle: u32) -> Option<Vec<u8>> {
        kernel().results.get(&handle).map(|r| r.bytes.to_vec())
    }
}
