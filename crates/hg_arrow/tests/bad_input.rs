//! Truncated, corrupted and hostile IPC bytes are errors, never panics.

use std::path::PathBuf;

use hg_arrow::{read_ipc_stream, read_ipc_stream_with_limits, HgArrowError, ReadLimits};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../tests/fixtures/ipc/{name}.arrow"));
    std::fs::read(path).expect("fixture exists")
}

#[test]
fn garbage_is_an_ipc_error() {
    for bytes in [
        &b""[..],
        b"not arrow at all",
        &[0xff; 64],
        &[0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 1, 2, 3],
    ] {
        match read_ipc_stream(bytes) {
            Err(HgArrowError::Ipc(message)) => assert!(!message.is_empty()),
            other => panic!("{bytes:?} gave {other:?}"),
        }
    }
}

#[test]
fn every_truncation_is_an_error_or_a_prefix_of_the_rows() {
    for name in ["timestamps", "dictionaries", "pandas", "lz4", "multibatch"] {
        let bytes = fixture(name);
        let full = read_ipc_stream(&bytes).unwrap().num_rows();
        for cut in 0..bytes.len() {
            // A stream cut exactly at a message boundary is a valid shorter stream; anywhere
            // else it must fail. Either way no panic and never more rows than were written.
            if let Ok(table) = read_ipc_stream(&bytes[..cut]) {
                assert!(table.num_rows() <= full, "{name} cut at {cut}");
                for column in table.column_names() {
                    let _ = table.column(&column);
                }
            }
        }
    }
}

#[test]
fn flipped_bytes_never_panic() {
    // Deterministic pseudo-random corruption (xorshift) of every fixture.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // HG_ARROW_FUZZ_ROUNDS raises the number of corrupted copies per fixture for a longer run.
    let rounds: usize = std::env::var("HG_ARROW_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    for name in [
        "timestamps",
        "strings",
        "dictionaries",
        "numbers",
        "pandas",
        "lz4",
        "polars_newest",
    ] {
        let original = fixture(name);
        for _ in 0..rounds {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            let outcome = std::panic::catch_unwind(|| exercise(&bytes));
            if outcome.is_err() {
                // Keep the input so the failure can be reproduced and added as a fixture.
                let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                    .join(format!("hg_arrow_fuzz_{name}.arrow"));
                std::fs::write(&path, &bytes).expect("writable target tmp dir");
                panic!(
                    "reading a corrupted {name} panicked; input saved to {}",
                    path.display()
                );
            }
        }
    }
}

/// Reads the bytes and every column through every accessor.
fn exercise(bytes: &[u8]) {
    if let Ok(table) = read_ipc_stream(bytes) {
        for column in table.column_names() {
            let _ = table.strings(&column);
            let _ = table.times_ns(&column);
            let _ = table.numbers_f64(&column);
            let _ = table.categorize(&column);
            for row in 0..table.num_rows() {
                let _ = table.display(&column, row);
            }
        }
    }
}

#[test]
fn a_compressed_buffer_declaring_a_huge_size_is_rejected_before_allocation() {
    let mut bytes = fixture("lz4");
    // Find a compressed buffer: its 8-byte little-endian length prefix equals 200 * 8 = 1600 for
    // the int64 and timestamp data buffers of the 200-row fixture.
    let needle = 1600i64.to_le_bytes();
    let at = bytes
        .windows(8)
        .position(|w| w == needle)
        .expect("a compressed data buffer");
    bytes[at..at + 8].copy_from_slice(&(1i64 << 60).to_le_bytes());
    match read_ipc_stream(&bytes) {
        Err(HgArrowError::Ipc(message)) => assert!(message.contains("decompressed"), "{message}"),
        other => panic!("expected a decompression error, got {other:?}"),
    }
}

#[test]
fn limits_bound_rows_and_decoded_bytes() {
    let bytes = fixture("lz4");
    let rows = ReadLimits {
        max_rows: 100,
        ..ReadLimits::default()
    };
    assert!(matches!(
        read_ipc_stream_with_limits(&bytes, rows),
        Err(HgArrowError::TooLarge(_))
    ));
    let decoded = ReadLimits {
        max_decoded_bytes: 1000,
        ..ReadLimits::default()
    };
    assert!(matches!(
        read_ipc_stream_with_limits(&bytes, decoded),
        Err(HgArrowError::TooLarge(_))
    ));
    let columns = ReadLimits {
        max_columns: 1,
        ..ReadLimits::default()
    };
    assert!(matches!(
        read_ipc_stream_with_limits(&bytes, columns),
        Err(HgArrowError::TooLarge(_))
    ));
}

#[test]
fn corruptions_that_panicked_arrow_rs_are_errors() {
    // Found by `flipped_bytes_never_panic` with HG_ARROW_FUZZ_ROUNDS=30000: the strings fixture
    // with a corrupted variadic buffer count of its Utf8View column (arrow-data panicked in
    // `typed_data` while validating offsets read from the wrong buffer).
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ipc-bad/strings_bad_variadic_count.arrow");
    let bytes = std::fs::read(path).expect("fixture exists");
    match read_ipc_stream(&bytes) {
        Err(HgArrowError::Ipc(message)) => assert!(message.contains("buffers"), "{message}"),
        other => panic!("expected an IPC error, got {other:?}"),
    }
}
