//! Arbitrary input (the fuzz seed corpus and seeded pseudo-random text built from encoded,
//! compressed, truncated and mutated fragments): no panic, every limit respected, every record
//! consistent, the same output twice. The same invariants as the `cargo fuzz` target
//! (`fuzz/fuzz_targets/unpack.rs`), bounded so that it runs in `cargo test`.

use std::io::Write;

use base64::Engine;
use hg_decode::{DecodedRecord, Decoder, Limits, Utf16Mode};

fn decoders() -> Vec<Decoder> {
    let small = Limits {
        max_depth: 3,
        max_total_output_bytes: 64 * 1024,
        max_expansion_ratio: 4,
        expansion_floor_bytes: 1024,
        max_archive_members: 3,
        max_member_size: 4096,
        max_records: 16,
        max_preview_bytes: 64,
    };
    vec![
        Decoder::builder().build().expect("default"),
        Decoder::builder()
            .reference_mode()
            .build()
            .expect("reference"),
        Decoder::builder()
            .utf16(Utf16Mode::Always)
            .limits(small.clone())
            .build()
            .expect("small"),
        Decoder::builder()
            .utf16(Utf16Mode::Never)
            .limits(small)
            .min_base64_len(8)
            .build()
            .expect("small, short base64"),
    ]
}

/// The invariants; returns the records for the determinism check.
fn check(decoder: &Decoder, text: &str) -> Vec<DecodedRecord> {
    let limits = decoder.limits().clone();
    let mut records: Vec<DecodedRecord> = Vec::new();
    let out = decoder.unpack(text, &mut |r: DecodedRecord| records.push(r));
    assert_eq!(out.records, records.len());
    assert!(
        records.len() <= limits.max_records + 1,
        "{} records for {text:?}",
        records.len()
    );
    let total: usize = records.iter().map(|r| r.input_bytes.len()).sum();
    assert!(
        total <= limits.max_total_output_bytes,
        "{total} bytes for {text:?}"
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
            assert_eq!(
                text.get(r.span.clone()),
                Some(r.original_string.as_str()),
                "{text:?}"
            );
        }
        match &r.decoded_string {
            Some(_) => assert!(r.encoding_type == "utf-8" || r.encoding_type == "utf-16"),
            None => assert_eq!(r.encoding_type, "binary"),
        }
    }
    records
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

const WORDS: [&str; 12] = [
    "powershell",
    "-enc",
    "cmd.exe",
    "/c",
    "http://evil.example.com/a",
    "10.0.0.1",
    "IEX",
    "FromBase64String",
    "[char]",
    "0x",
    "%41",
    "\\x41",
];

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn fragment(rng: &mut Rng, depth: usize) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    match rng.below(if depth > 2 { 6 } else { 12 }) {
        0 => WORDS[rng.below(WORDS.len())].to_string(),
        1 => {
            let n = rng.below(40);
            String::from_utf8_lossy(&rng.bytes(n)).into_owned()
        }
        2 => {
            let n = 20 + rng.below(60);
            b64.encode(rng.bytes(n))
        }
        3 => {
            let n = 10 + rng.below(40);
            rng.bytes(n).iter().map(|b| format!("{b:02x}")).collect()
        }
        4 => {
            let n = 3 + rng.below(20);
            rng.bytes(n).iter().map(|b| format!("%{b:02X}")).collect()
        }
        5 => {
            let codes: Vec<String> = (0..3 + rng.below(20))
                .map(|_| (32 + rng.below(95)).to_string())
                .collect();
            format!("[char[]]({})", codes.join(","))
        }
        6 => b64.encode(gzip(text(rng, depth + 1).as_bytes())),
        7 => {
            // Truncated compressed stream.
            let z = gzip(&rng.bytes(200));
            let cut = rng.below(z.len());
            b64.encode(&z[..cut])
        }
        8 => b64.encode(text(rng, depth + 1)),
        9 => url.encode(text(rng, depth + 1)),
        10 => {
            let utf16: Vec<u8> = text(rng, depth + 1)
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes())
                .collect();
            format!("powershell -e {}", b64.encode(utf16))
        }
        _ => {
            // A mutated encoded fragment.
            let mut s: Vec<u8> = b64.encode(text(rng, depth + 1)).into_bytes();
            for _ in 0..1 + rng.below(3) {
                if !s.is_empty() {
                    let at = rng.below(s.len());
                    s[at] = b"=/+-_ \n%"[rng.below(8)];
                }
            }
            String::from_utf8_lossy(&s).into_owned()
        }
    }
}

fn text(rng: &mut Rng, depth: usize) -> String {
    (0..1 + rng.below(6))
        .map(|_| fragment(rng, depth))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn seeded_random_texts_respect_the_limits() {
    let decoders = decoders();
    let mut rng = Rng(0x5eed_dec0_de00_0001);
    for _ in 0..600 {
        let input = text(&mut rng, 0);
        for decoder in &decoders {
            let first = check(decoder, &input);
            let again = check(decoder, &input);
            assert_eq!(first, again, "not deterministic for {input:?}");
        }
    }
}

#[test]
fn seed_corpus_respects_the_limits() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/unpack");
    let decoders = decoders();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("seed corpus") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("reads");
        let text = String::from_utf8_lossy(&bytes);
        for decoder in &decoders {
            check(decoder, &text);
        }
        n += 1;
    }
    assert!(n >= 10, "only {n} seeds in {}", dir.display());
}
