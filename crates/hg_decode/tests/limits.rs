//! Input safety at full scale (bombs built here, not committed) and mutation of the corpus
//! inputs: no panics, and every limit holds.

use std::io::Write;
use std::path::PathBuf;

use base64::Engine;
use hg_decode::{DecodedRecord, Decoder, Limit, RowContext};

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn unpack(decoder: &Decoder, input: &str) -> (hg_decode::Unpacked, Vec<DecodedRecord>) {
    let mut rows = Vec::new();
    let out = decoder.unpack(input, &mut |r: DecodedRecord| rows.push(r));
    (out, rows)
}

#[test]
fn one_gibibyte_gzip_bomb_stops_at_the_default_total() {
    // 1,024 concatenated gzip members of 1 MiB of zeros: 1 GiB from about 1 MB.
    let member = gzip(&vec![0u8; 1 << 20]);
    let bomb: Vec<u8> = member.repeat(1024);
    let decoder = Decoder::builder().build().unwrap();
    let (out, rows) = unpack(&decoder, &format!("payload {}", b64(&bomb)));
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.stopped_by, Some(Limit::MaxTotalOutputBytes));
    assert_eq!(row.input_bytes.len(), 64 * 1024 * 1024 - bomb.len());
    assert_eq!(out.stopped_by, vec![Limit::MaxTotalOutputBytes]);
    assert_eq!(row.printable_bytes.len(), 64 * 1024 * 3 - 1);
}

#[test]
fn small_gzip_bomb_stops_at_the_ratio_with_the_default_floor() {
    let bomb = gzip(&vec![b'A'; 8 << 20]);
    let decoder = Decoder::builder().build().unwrap();
    let (_, rows) = unpack(&decoder, &b64(&bomb));
    assert_eq!(rows[0].stopped_by, Some(Limit::MaxExpansionRatio));
    assert_eq!(rows[0].input_bytes.len(), (bomb.len() * 100).max(1 << 20));
}

#[test]
fn zip_with_thousands_of_members_stops_at_the_default_count() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..1500 {
        w.start_file(format!("f{i}.txt"), opts).unwrap();
        w.write_all(b"x y").unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    let decoder = Decoder::builder().build().unwrap();
    let (out, rows) = unpack(&decoder, &b64(&bytes));
    assert_eq!(rows.len(), 1001);
    assert_eq!(rows[1000].stopped_by, Some(Limit::MaxArchiveMembers));
    assert!(out.stopped_by.contains(&Limit::MaxArchiveMembers));
}

#[test]
fn thirty_levels_of_base64_stop_at_depth_twenty() {
    let mut text = "the core of thirty layers of base64".to_owned();
    for _ in 0..30 {
        text = format!("layer {}", b64(text.as_bytes()));
    }
    let decoder = Decoder::builder().build().unwrap();
    let (_, rows) = unpack(&decoder, &text);
    assert_eq!(rows.len(), 21);
    assert!(rows[..20].iter().all(|r| r.stopped_by.is_none()));
    assert_eq!(rows[20].stopped_by, Some(Limit::MaxDepth));
    assert_eq!(rows[20].depth, 21);
    assert_eq!(rows[19].depth, 20);
}

#[test]
fn rows_carry_their_source() {
    let decoder = Decoder::builder().build().unwrap();
    let payload = b64(b"row two carries the decoded payload text");
    let rows = [Some("nothing here"), None, Some(payload.as_str())];
    let mut seen = Vec::new();
    let n = decoder.unpack_rows(rows, &mut |row: &RowContext<'_>, r: DecodedRecord| {
        seen.push((
            row.src_index,
            row.source.to_owned(),
            row.full_decoded_string.to_owned(),
            r.decoded_string,
        ));
    });
    assert_eq!(n, 1);
    assert_eq!(seen[0].0, 2);
    assert_eq!(seen[0].1, payload);
    assert!(seen[0].2.starts_with("<decoded type='string'"));
    assert_eq!(
        seen[0].3.as_deref(),
        Some("row two carries the decoded payload text")
    );
}

/// A small deterministic generator (SplitMix64), so the mutation test needs no crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_corpus_inputs_never_panic_and_respect_limits() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/decode");
    let mut inputs = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            for case in v["cases"].as_array().unwrap() {
                inputs.push(case["input"].as_str().unwrap().to_owned());
            }
        }
    }
    let total = 200_000;
    let decoder = Decoder::builder()
        .max_total_output_bytes(total)
        .max_records(50)
        .max_member_size(50_000)
        .build()
        .unwrap();
    const ALPHABET: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=%\\x[]()0,";
    let mut rng = Rng(42);
    let mut decoded_rows = 0;
    for input in &inputs {
        for _ in 0..25 {
            let mut bytes = input.as_bytes().to_vec();
            match rng.below(3) {
                0 => bytes.truncate(rng.below(bytes.len() + 1)),
                1 => {
                    for _ in 0..1 + rng.below(4) {
                        if !bytes.is_empty() {
                            let at = rng.below(bytes.len());
                            bytes[at] = ALPHABET[rng.below(ALPHABET.len())];
                        }
                    }
                }
                _ => {
                    let at = rng.below(bytes.len() + 1);
                    let cut = rng.below(bytes.len() - at + 1);
                    bytes.drain(at..at + cut);
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let (out, rows) = unpack(&decoder, &text);
            assert!(rows.len() <= 51);
            let produced: usize = rows.iter().map(|r| r.input_bytes.len()).sum();
            // Archive members and their expanded children share bytes, so allow twice.
            assert!(produced <= 2 * total, "{produced} bytes");
            assert_eq!(out.records, rows.len());
            decoded_rows += rows.len();
        }
    }
    assert!(decoded_rows > 100, "mutations still decode something");
}
