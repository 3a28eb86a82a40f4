//! Arbitrary input (the fuzz seed corpus and seeded pseudo-random bytes biased towards IoC
//! syntax): no panics, and every match is a well-formed span of the input. The same checks as the
//! cargo-fuzz target `crates/hg_ioc/fuzz`, run briefly on every `cargo test`.

use hg_ioc::{IocExtractor, IocMatch};

fn extractors() -> Vec<IocExtractor> {
    (0..8u8)
        .map(|bits| {
            IocExtractor::builder()
                .defanged(bits & 1 == 0)
                .ignore_tlds(bits & 2 != 0)
                .include_paths(bits & 4 == 0)
                .build()
                .expect("builds")
        })
        .collect()
}

fn check(extractor: &IocExtractor, text: &str) -> usize {
    let mut count = 0;
    extractor.extract(text, &mut |m: &IocMatch<'_>| {
        count += 1;
        assert!(
            m.start < m.end && m.end <= text.len(),
            "span {}..{} in {text:?}",
            m.start,
            m.end
        );
        assert!(
            text.is_char_boundary(m.start) && text.is_char_boundary(m.end),
            "boundaries in {text:?}"
        );
        assert_eq!(&text[m.start..m.end], m.observable);
        assert!(!m.canonical.is_empty(), "empty canonical in {text:?}");
    });
    let _ = extractor.type_of(text);
    count
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn seed_corpus_never_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/extract");
    let extractors = extractors();
    let mut files = 0;
    for entry in std::fs::read_dir(dir).expect("seed corpus") {
        let data = std::fs::read(entry.expect("entry").path()).expect("readable");
        let text = String::from_utf8_lossy(data.get(1..).unwrap_or_default()).into_owned();
        for extractor in &extractors {
            check(extractor, &text);
        }
        files += 1;
    }
    assert!(files > 50);
}

#[test]
fn random_bytes_never_panic() {
    // Fragments of IoC syntax, so random strings often get deep into the validators.
    const PIECES: &[&str] = &[
        ".",
        "[.]",
        "(.)",
        "[dot]",
        "@",
        "[at]",
        ":",
        "::",
        "://",
        "[://]",
        "/",
        "\\",
        "\\\\",
        "%",
        "%3A%2F%2F",
        "%2",
        "hxxp",
        "http",
        "ftp",
        "file",
        "C:",
        "HKLM",
        "cve-2021-",
        "com",
        "zip",
        "co.uk",
        "10",
        "255",
        "256",
        "ffff",
        "d41d8cd98f00b204",
        " ",
        "\n",
        "é",
        "\u{1F600}",
        "(",
        ")",
        "]",
        "[",
        "{",
        "}",
        "'",
        "\"",
        "-",
        "_",
        "~",
        "..",
        "0",
        "a",
        "%APPDATA%",
    ];
    let extractors = extractors();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut total = 0;
    for round in 0..3000 {
        let mut text = String::new();
        let pieces = (rng.next() % 40) as usize;
        for _ in 0..pieces {
            if rng.next().is_multiple_of(5) {
                // Raw random byte, made valid UTF-8.
                let b = (rng.next() % 256) as u8;
                text.push_str(&String::from_utf8_lossy(&[b]));
            } else {
                text.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
            }
        }
        total += check(&extractors[round % extractors.len()], &text);
    }
    assert!(
        total > 0,
        "random inputs never produced a match: the generator is broken"
    );
}

#[test]
fn adversarial_shapes_finish() {
    // Long runs that keep candidates alive; they must complete (no timing assertion here).
    let extractor = IocExtractor::builder().build().expect("builds");
    let shapes = [
        "a.".repeat(50_000),
        "http://a.local/".repeat(5_000),
        "C:\\a b ".repeat(20_000),
        "1.".repeat(50_000),
        "f".repeat(100_000),
        ":".repeat(100_000),
        "x@".repeat(50_000),
        "(".repeat(50_000) + "http://a.com/" + &")".repeat(50_000),
        "%41".repeat(30_000),
    ];
    for text in &shapes {
        check(&extractor, text);
    }
}
