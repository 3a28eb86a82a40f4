//! Fuzz target: any bytes, any options; the extractor must not panic and every match must be a
//! well-formed span of the input. Run: `cargo +nightly fuzz run extract` in crates/hg_ioc.
#![no_main]

use hg_ioc::{IocExtractor, IocMatch};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn extractors() -> &'static [IocExtractor] {
    static EXTRACTORS: OnceLock<Vec<IocExtractor>> = OnceLock::new();
    EXTRACTORS.get_or_init(|| {
        (0..8)
            .map(|bits: u8| {
                IocExtractor::builder()
                    .defanged(bits & 1 == 0)
                    .ignore_tlds(bits & 2 != 0)
                    .include_paths(bits & 4 == 0)
                    .build()
                    .expect("builds")
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let extractor = &extractors()[usize::from(selector % 8)];
    extractor.extract(&text, &mut |m: &IocMatch<'_>| {
        assert!(m.start < m.end && m.end <= text.len());
        assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
        assert_eq!(&text[m.start..m.end], m.observable);
        assert!(!m.canonical.is_empty());
    });
    let _ = extractor.type_of(&text);
});
