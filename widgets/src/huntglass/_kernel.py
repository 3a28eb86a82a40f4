"""Kernel-side operations: ``hg_kernel.wasm`` (the Rust operation registry) run by wasmtime.

Every kernel-side computation (``huntglass.ioc.extract`` and the engines that follow) goes
through :func:`call`: an operation name, a dict of options (sent as JSON) and a pyarrow Table
(sent as one Arrow IPC stream) in, a pyarrow Table out. The module is the same registry the
browser widgets and the ``huntglass`` command run, so results are identical everywhere, and
hostile text is parsed inside the wasm sandbox rather than in the Python process.

The module is compiled once per process (compiling takes seconds, so the compiled code is also
cached on disk per wasm hash and wasmtime version under ``$HUNTGLASS_CACHE_DIR`` or
``~/.cache/huntglass``; set ``HUNTGLASS_KERNEL_CACHE=0`` to turn that off) and instantiated
once. Calls are serialized by a lock (a wasm instance is single-threaded). An operation error
raises :class:`ValueError` carrying the Rust message; a trap (a bug in the kernel, or memory
exhausted) raises :class:`KernelTrapError` and the instance is replaced for the next call.

The ABI is documented in ``crates/hg_kernel/src/lib.rs``.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa

from ._widget import KERNEL_FILE as KERNEL_FILE  # the file name, defined beside the other assets
from ._widget import AssetsMissingError, static_dir

#: The ABI version this module speaks (``hg_abi_version``).
ABI_VERSION = 1

_STATUS_OK = 0
_STATUS_OP_ERROR = 1
_STATUS_BAD_CALL = 2

_lock = threading.RLock()
_kernel: _Kernel | None = None


class KernelTrapError(RuntimeError):
    """The kernel module trapped (a bug, or the 4 GiB wasm memory exhausted)."""


def kernel_path() -> Path:
    """Where ``hg_kernel.wasm`` is looked for (``HUNTGLASS_STATIC_DIR`` overrides the directory)."""
    return static_dir() / KERNEL_FILE


def _cache_dir() -> Path | None:
    if os.environ.get("HUNTGLASS_KERNEL_CACHE", "1") == "0":
        return None
    base = os.environ.get("HUNTGLASS_CACHE_DIR")
    return Path(base) if base else Path.home() / ".cache" / "huntglass"


class _Kernel:
    """One compiled module and one instance of it."""

    def __init__(self) -> None:
        import wasmtime

        self._wasmtime = wasmtime
        path = kernel_path()
        if not path.is_file():
            raise AssetsMissingError(
                f"huntglass kernel module missing: {path} does not exist. Build it with "
                "`make build` in the huntglass repository (it writes hg_kernel.wasm into "
                f"{static_dir()}), or install a released wheel."
            )
        wasm = path.read_bytes()
        self.wasm_hash = hashlib.sha256(wasm).hexdigest()[:16]
        self._engine = wasmtime.Engine()
        self._module = self._compile(wasm)
        self._instantiate()

    def _compile(self, wasm: bytes) -> Any:
        wasmtime = self._wasmtime
        cache = _cache_dir()
        if cache is None:
            return wasmtime.Module(self._engine, wasm)
        version = getattr(wasmtime, "__version__", None) or _wasmtime_version()
        cached = cache / f"hg_kernel-{self.wasm_hash}-wasmtime{version}.cwasm"
        if cached.is_file():
            try:
                # Read into memory rather than deserialize_file's mmap: a cache file truncated
                # by someone else while mapped would kill the process with SIGBUS.
                return wasmtime.Module.deserialize(self._engine, cached.read_bytes())
            except (wasmtime.WasmtimeError, OSError):
                pass  # stale or damaged: compile again and overwrite
        module = wasmtime.Module(self._engine, wasm)
        try:
            cache.mkdir(mode=0o700, parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(module.serialize())
            os.replace(partial, cached)
        except OSError:
            pass  # a read-only home only costs the compile time next process
        return module

    def _instantiate(self) -> None:
        wasmtime = self._wasmtime
        self._store = wasmtime.Store(self._engine)
        instance = wasmtime.Instance(self._store, self._module, [])
        exports = instance.exports(self._store)
        self._memory = exports["memory"]
        self._fn = {
            name: exports[name]
            for name in (
                "hg_abi_version",
                "hg_alloc",
                "hg_free",
                "hg_call",
                "hg_ops_list",
                "hg_result_status",
                "hg_result_ptr",
                "hg_result_len",
                "hg_result_free",
            )
        }
        abi = self._fn["hg_abi_version"](self._store)
        if abi != ABI_VERSION:
            raise RuntimeError(
                f"{kernel_path()} speaks kernel ABI {abi}, this package expects {ABI_VERSION}: "
                "rebuild with `make build`"
            )

    def _write(self, ptr: int, data: bytes | pa.Buffer) -> None:
        size = len(data)
        if size == 0:
            return
        if ptr + size > self._memory.data_len(self._store):
            raise RuntimeError(f"hg_kernel buffer {ptr}+{size} lies outside its memory")
        dst = self._memory.get_buffer_ptr(self._store, size, ptr)
        if isinstance(data, pa.Buffer):
            ctypes.memmove(dst, data.address, size)
        else:
            ctypes.memmove(dst, data, size)

    def _take_result(self, handle: int) -> tuple[int, bytes]:
        store, fn = self._store, self._fn
        status = fn["hg_result_status"](store, handle)
        ptr = fn["hg_result_ptr"](store, handle) & 0xFFFFFFFF
        length = fn["hg_result_len"](store, handle) & 0xFFFFFFFF
        data = b""
        if length:
            if ptr + length > self._memory.data_len(store):
                raise RuntimeError(f"hg_kernel result {ptr}+{length} lies outside its memory")
            # One copy into bytes (bytes(Memory.read(...)) copies twice: 2 x 420 MB for a 1M
            # process tree).
            src = self._memory.get_buffer_ptr(store, length, ptr)
            data = ctypes.string_at(ctypes.addressof(src), length)
        fn["hg_result_free"](store, handle)
        return status, data

    def call_bytes(self, op: str, options: bytes, stream: bytes | pa.Buffer) -> bytes:
        store, fn = self._store, self._fn
        name = op.encode("utf-8")
        total = len(name) + len(options) + len(stream)
        ptr = fn["hg_alloc"](store, total) & 0xFFFFFFFF
        if ptr == 0:
            raise MemoryError(f"hg_kernel cannot allocate {total} bytes for the input of {op}")
        try:
            self._write(ptr, name)
            self._write(ptr + len(name), options)
            self._write(ptr + len(name) + len(options), stream)
            handle = fn["hg_call"](
                store,
                ptr,
                len(name),
                ptr + len(name),
                len(options),
                ptr + len(name) + len(options),
                len(stream),
            )
            status, data = self._take_result(handle)
        finally:
            fn["hg_free"](store, ptr, total)
        if status == _STATUS_OK:
            return data
        message = data.decode("utf-8", errors="replace")
        if status == _STATUS_OP_ERROR:
            raise ValueError(message)
        raise RuntimeError(f"hg_kernel refused the call (status {status}): {message}")

    def ops_json(self) -> str:
        status, data = self._take_result(self._fn["hg_ops_list"](self._store))
        if status != _STATUS_OK:
            raise RuntimeError(f"hg_ops_list failed with status {status}")
        return data.decode("utf-8")


def _wasmtime_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wasmtime")
    except PackageNotFoundError:
        return "unknown"


def _get() -> _Kernel:
    global _kernel
    if _kernel is None:
        _kernel = _Kernel()
    return _kernel


def _guarded(action: Any, what: str) -> Any:
    """Run ``action(kernel)`` under the lock; a trap discards the instance."""
    global _kernel
    with _lock:
        kernel = _get()
        try:
            return action(kernel)
        except kernel._wasmtime.Trap as exc:
            _kernel = None  # the instance's state is unknown after a trap: start afresh
            raise KernelTrapError(f"hg_kernel trapped in {what}: {exc}") from exc


def call_bytes(op: str, options: dict[str, Any] | None, stream: bytes | pa.Buffer) -> bytes:
    """Run ``op`` on an Arrow IPC stream and return the output stream's bytes."""
    encoded = json.dumps(options or {}).encode("utf-8")
    return _guarded(lambda k: k.call_bytes(op, encoded, stream), op)


def call(op: str, options: dict[str, Any] | None, table: pa.Table) -> pa.Table:
    """Run the registry operation ``op`` with ``options`` on ``table``; return its output table.

    Raises :class:`ValueError` with the operation's message (unknown operation or option, a
    missing column naming the existing ones, bad input), :class:`AssetsMissingError` when
    ``hg_kernel.wasm`` is not built, :class:`KernelTrapError` on a trap.
    """
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    out = call_bytes(op, options, sink.getvalue())
    return pa.ipc.open_stream(pa.py_buffer(out)).read_all()


def operations() -> list[dict[str, Any]]:
    """The registry's operations with their options (``hg_ops_list``)."""
    listing = _guarded(lambda k: k.ops_json(), "hg_ops_list")
    return json.loads(listing)["operations"]


def reset() -> None:
    """Drop the loaded kernel (the next call loads ``hg_kernel.wasm`` again; used by tests)."""
    global _kernel
    with _lock:
        _kernel = None


@atexit.register
def _release_at_exit() -> None:
    # wasmtime's objects free their native handles in ``__del__``, which raises (printed as
    # "Exception ignored ... TypeError") once interpreter shutdown has cleared wasmtime's own
    # module globals: free ours while everything is still alive.
    reset()
    gc.collect()
