//! Fuzz target: any bytes, any settings; the decoder must not panic, must stay within its limits
//! and every record must be consistent (hashes of its bytes, spans inside the scanned text).
//! Run: `cargo +nightly fuzz run unpack` in crates/hg_decode (seeds in corpus/unpack).
#![no_main]

use hg_decode::{DecodedRecord, Decoder, Limits, Utf16Mode};
use libfuzzer_sys::fuzz_target;

/// Settings chosen by the first input byte: default or reference mode, the three UTF-16 modes,
/// default or small limits (small ones make every limit reachable by short inputs).
fn decoder(selector: u8) -> Decoder {
    let mut b = Decoder::builder();
    if selector & 1 != 0 {
        b = b.reference_mode();
    }
    b = b.utf16(match (selector >> 1) % 3 {
        0 => Utf16Mode::Auto,
        1 => Utf16Mode::Always,
        _ => Utf16Mode::Never,
    });
    if selector & 8 != 0 {
        b = b.limits(Limits {
            max_depth: 3,
            max_total_output_bytes: 64 * 1024,
            max_expansion_ratio: 4,
            expansion_floor_bytes: 1024,
            max_archive_members: 3,
            max_member_size: 4096,
            max_records: 16,
            max_preview_bytes: 64,
        });
    } else {
        // Default limits but a smaller output budget, so a run stays fast.
        b = b.max_total_output_bytes(4 << 20);
    }
    b.build().expect("valid settings")
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let decoder = decoder(selector);
    let limits = decoder.limits().clone();
    let mut records: Vec<DecodedRecord> = Vec::new();
    let out = decoder.unpack(&text, &mut |r: DecodedRecord| records.push(r));
    assert_eq!(out.records, records.len());
    assert!(
        records.len() <= limits.max_records + 1,
        "{} records",
        records.len()
    );
    let total: usize = records.iter().map(|r| r.input_bytes.len()).sum();
    assert!(
        total <= limits.max_total_output_bytes,
        "{total} bytes produced"
    );
    for r in &records {
        assert!(
            r.depth >= 1 && r.depth <= limits.max_depth + 1,
            "depth {}",
            r.depth
        );
        // A row that only says which limit stopped it (nothing decoded) has no bytes to hash.
        let bare = r.stopped_by.is_some() && r.input_bytes.is_empty() && r.hashes.md5.is_empty();
        if !bare {
            assert_eq!(r.hashes, hg_decode::hashes(&r.input_bytes));
        }
        assert!(r.printable_bytes.len() <= 3 * limits.max_preview_bytes);
        assert!(r.span.start <= r.span.end);
        if r.parent.is_none() {
            assert!(r.span.end <= text.len());
            assert_eq!(text.get(r.span.clone()), Some(r.original_string.as_str()));
        }
        if let Some(s) = &r.decoded_string {
            assert!(r.encoding_type == "utf-8" || r.encoding_type == "utf-16");
            assert!(!s.is_empty() || r.input_bytes.is_empty() || r.encoding_type == "utf-16");
        } else {
            assert_eq!(r.encoding_type, "binary");
        }
    }
});
