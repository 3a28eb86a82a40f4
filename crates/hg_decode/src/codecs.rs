//! Single-candidate decoders, text classification, file signatures, hashes and previews.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use md5::Digest;

use crate::{Hashes, Utf16Mode};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::RequireNone)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Bytes produced by a decoder and whether the output budget cut them short.
pub(crate) struct Produced {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

/// Decodes a base64 candidate with Python's non-validating rules: CR/LF are dropped, a data
/// length of 1 more than a multiple of 4 is invalid, 2 more needs `==`, 3 more needs `=`
/// (unless `padding_optional`). Empty output is a failure. At most `max_out` bytes are produced.
pub(crate) fn base64(
    candidate: &[u8],
    url_safe: bool,
    padding_optional: bool,
    max_out: usize,
) -> Option<Produced> {
    let mut data: Vec<u8> = Vec::with_capacity(candidate.len());
    let mut pads = 0usize;
    for &b in candidate {
        match b {
            b'\r' | b'\n' => {}
            b'=' => pads += 1,
            _ if pads > 0 => return None,
            _ => data.push(b),
        }
    }
    let needed_pads = match data.len() % 4 {
        0 => 0,
        1 => return None,
        2 => 2,
        _ => 1,
    };
    if pads < needed_pads && !padding_optional {
        return None;
    }
    let whole = (data.len() / 4) * 3
        + match data.len() % 4 {
            2 => 1,
            3 => 2,
            _ => 0,
        };
    let truncated = whole > max_out;
    if truncated {
        data.truncate((max_out / 3) * 4);
    }
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    let bytes = engine.decode(&data).ok()?;
    if bytes.is_empty() {
        return None;
    }
    Some(Produced { bytes, truncated })
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes an even run of hex digits.
pub(crate) fn hex_digits(digits: &[u8], max_out: usize) -> Option<Produced> {
    if digits.len() & 1 == 1 || digits.is_empty() {
        return None;
    }
    let take = (digits.len() / 2).min(max_out);
    let mut bytes = Vec::with_capacity(take);
    for pair in digits.chunks_exact(2).take(take) {
        bytes.push(hex_value(pair[0])? << 4 | hex_value(pair[1])?);
    }
    Some(Produced {
        truncated: take < digits.len() / 2,
        bytes,
    })
}

/// Decodes a run of `\xHH` escapes or a `0xHH` list: every hex group of one or two digits
/// that follows an `x` (or `X`) is one byte; everything else is separator.
pub(crate) fn hex_groups(text: &[u8], max_out: usize) -> Option<Produced> {
    let mut bytes = Vec::new();
    let mut truncated = false;
    let mut i = 0;
    while i < text.len() {
        if matches!(text[i], b'x' | b'X') {
            let mut value: u32 = 0;
            let mut digits = 0;
            while digits < 2 {
                match text.get(i + 1 + digits).copied().and_then(hex_value) {
                    Some(v) => {
                        value = value * 16 + u32::from(v);
                        digits += 1;
                    }
                    None => break,
                }
            }
            if digits > 0 {
                if bytes.len() >= max_out {
                    truncated = true;
                    break;
                }
                bytes.push(value as u8);
            }
            i += 1 + digits;
        } else {
            i += 1;
        }
    }
    if bytes.is_empty() {
        return None;
    }
    Some(Produced { bytes, truncated })
}

/// Decodes `%HH` escapes; other bytes are kept as they are.
pub(crate) fn percent(token: &[u8], max_out: usize) -> Option<Produced> {
    let mut bytes = Vec::with_capacity(token.len().min(max_out));
    let mut i = 0;
    let mut truncated = false;
    while i < token.len() {
        if bytes.len() >= max_out {
            truncated = true;
            break;
        }
        let b = token[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                token.get(i + 1).copied().and_then(hex_value),
                token.get(i + 2).copied().and_then(hex_value),
            ) {
                bytes.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        bytes.push(b);
        i += 1;
    }
    Some(Produced { bytes, truncated })
}

/// Turns character codes into UTF-8 text; a code that is not a Unicode scalar value fails.
pub(crate) fn char_codes(codes: &[u32], max_out: usize) -> Option<Produced> {
    let mut text = String::with_capacity(codes.len());
    let mut truncated = false;
    for &code in codes {
        let c = char::from_u32(code)?;
        if text.len() + c.len_utf8() > max_out {
            truncated = true;
            break;
        }
        text.push(c);
    }
    if text.is_empty() {
        return None;
    }
    Some(Produced {
        bytes: text.into_bytes(),
        truncated,
    })
}

/// How a layer's bytes read as text.
pub(crate) struct TextForm {
    /// `utf-8`, `utf-16` or `binary`.
    pub encoding_type: &'static str,
    pub text: Option<String>,
}

fn utf16_units(bytes: &[u8], big_endian: bool) -> Option<String> {
    if bytes.len() & 1 == 1 {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|p| {
        if big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// Python's `bytes.decode("utf-16")`: a byte-order mark chooses the order (and is dropped),
/// little-endian otherwise.
fn python_utf16(bytes: &[u8]) -> Option<String> {
    match bytes {
        [0xff, 0xfe, rest @ ..] => utf16_units(rest, false),
        [0xfe, 0xff, rest @ ..] => utf16_units(rest, true),
        _ => utf16_units(bytes, false),
    }
}

/// UTF-16LE that is very likely text: at least two units, no NUL unit, three quarters of the
/// high bytes zero (Latin text), valid surrogates.
fn looks_utf16le(bytes: &[u8]) -> bool {
    if bytes.len() < 4 || bytes.len() & 1 == 1 {
        return false;
    }
    let units = bytes.len() / 2;
    let mut zero_high = 0;
    for pair in bytes.chunks_exact(2) {
        if pair[0] == 0 && pair[1] == 0 {
            return false;
        }
        if pair[1] == 0 {
            zero_high += 1;
        }
    }
    zero_high * 4 >= units * 3
}

/// Reads a layer's bytes as text following `mode`; `utf16_hint` is set after a PowerShell
/// `-EncodedCommand` switch, where UTF-16LE that is not Latin text is still taken as UTF-16
/// unless the bytes are valid UTF-8 (some tools pass UTF-8 base64 after `-enc`).
/// Returns the form and whether UTF-16 was used.
pub(crate) fn classify(bytes: &[u8], mode: Utf16Mode, utf16_hint: bool) -> (TextForm, bool) {
    let utf16 = match mode {
        Utf16Mode::Never => None,
        Utf16Mode::Always => python_utf16(bytes),
        Utf16Mode::Auto => {
            if let [0xff, 0xfe, rest @ ..] = bytes {
                utf16_units(rest, false)
            } else if looks_utf16le(bytes) || (utf16_hint && std::str::from_utf8(bytes).is_err()) {
                utf16_units(bytes, false)
            } else {
                None
            }
        }
    };
    if let Some(text) = utf16 {
        return (
            TextForm {
                encoding_type: "utf-16",
                text: Some(text),
            },
            true,
        );
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (
            TextForm {
                encoding_type: "utf-8",
                text: Some(text.to_owned()),
            },
            false,
        ),
        Err(_) => (
            TextForm {
                encoding_type: "binary",
                text: None,
            },
            false,
        ),
    }
}

/// Text that a person could have written: no NUL, at least 90% of characters printable
/// (tab, CR and LF count as printable).
pub(crate) fn printable_text(text: &str) -> bool {
    let mut total = 0usize;
    let mut bad = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return false;
        }
        if c.is_control() && !matches!(c, '\t' | '\r' | '\n') {
            bad += 1;
        }
    }
    total > 0 && bad * 10 <= total
}

/// Whether bytes decoded by an implicit detector (plain hex, URL-safe base64, raw deflate)
/// are worth reporting: printable text, or a known file signature.
pub(crate) fn plausible(bytes: &[u8], mode: Utf16Mode) -> bool {
    if sniff(bytes).is_some() || zlib_header(bytes) {
        return true;
    }
    let (form, _) = classify(bytes, mode, false);
    form.text.as_deref().is_some_and(printable_text)
}

const PE_PREFIX: &str =
    "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The reference's file-type table, applied to the first 160 base64 characters with CR/LF
/// removed.
pub(crate) fn base64_prefix_type(candidate: &[u8]) -> Option<&'static str> {
    let head: Vec<u8> = candidate
        .iter()
        .copied()
        .filter(|b| !matches!(b, b'\r' | b'\n'))
        .take(160)
        .collect();
    let starts = |p: &str| head.starts_with(p.as_bytes());
    if let Some(rest) = head.strip_prefix(PE_PREFIX.as_bytes()) {
        if rest.starts_with(b"+AAAAA4fug") {
            return Some("exe");
        }
        if rest.starts_with(b"8AAAAA4fug") {
            return Some("dll");
        }
        if rest.starts_with(b"6AAAAA4fug") {
            return Some("sys");
        }
    }
    for (prefix, name) in [
        ("UEsDBBQAAAAIA", "zip"),
        ("UEsDBBQAAQAIA", "zip (pwd protected)"),
        ("H4sI", "gz"),
        ("N3q8ryccAAR", "7z"),
        ("UmFyIRoHAM", "rar"),
        ("JVBERi0xLjcNC", "pdf"),
        ("0M8R4KGxGuE", "msi"),
        ("TVNXSU0AAADQ", "wim"),
    ] {
        if starts(prefix) {
            return Some(name);
        }
    }
    if memchr::memmem::find(&head, b"DAxMDA3NzcAMDAwMDAwM").is_some() {
        return Some("tar");
    }
    None
}

/// File type from the bytes' signature (same names as the base64 prefix table).
pub(crate) fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x1f\x8b\x08") {
        return Some("gz");
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some("zip");
    }
    if bytes.get(257..262) == Some(b"ustar") {
        return Some("tar");
    }
    if bytes.starts_with(b"MZ") {
        return Some(pe_kind(bytes));
    }
    for (magic, name) in [
        (&b"7z\xbc\xaf\x27\x1c"[..], "7z"),
        (b"Rar!\x1a\x07", "rar"),
        (b"%PDF-", "pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "msi"),
        (b"MSWIM\0\0\0", "wim"),
    ] {
        if bytes.starts_with(magic) {
            return Some(name);
        }
    }
    None
}

/// `dll` when the PE header's characteristics have IMAGE_FILE_DLL, else `exe`.
fn pe_kind(bytes: &[u8]) -> &'static str {
    let lfanew = bytes
        .get(0x3c..0x40)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let characteristics = lfanew.and_then(|off| {
        let sig = bytes.get(off..off.checked_add(4)?)?;
        if sig != b"PE\0\0" {
            return None;
        }
        let at = off.checked_add(22)?;
        bytes
            .get(at..at + 2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
    });
    match characteristics {
        Some(c) if c & 0x2000 != 0 => "dll",
        _ => "exe",
    }
}

/// A zlib header (RFC 1950): deflate method, window <= 32K, check bits, no preset dictionary.
pub(crate) fn zlib_header(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
                && flg & 0x20 == 0
        }
        _ => false,
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

pub(crate) fn hashes(bytes: &[u8]) -> Hashes {
    Hashes {
        md5: to_hex(&md5::Md5::digest(bytes)),
        sha1: to_hex(&sha1::Sha1::digest(bytes)),
        sha256: to_hex(&sha2::Sha256::digest(bytes)),
    }
}

pub(crate) fn printable_bytes(bytes: &[u8], max: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let shown = &bytes[..bytes.len().min(max)];
    let mut out = String::with_capacity(shown.len() * 3);
    for (i, &b) in shown.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_padding_rules() {
        let ok = |s: &str| base64(s.as_bytes(), false, false, usize::MAX).map(|p| p.bytes);
        assert_eq!(ok("QUFB").as_deref(), Some(&b"AAA"[..]));
        assert_eq!(ok("QUE=").as_deref(), Some(&b"AA"[..]));
        assert_eq!(ok("QQ==").as_deref(), Some(&b"A"[..]));
        assert_eq!(ok("QQ="), None);
        assert_eq!(ok("QUE"), None);
        assert_eq!(ok("QUFBQ"), None);
        assert_eq!(ok("QU\r\nFB").as_deref(), Some(&b"AAA"[..]));
        assert_eq!(ok("\r\n\r\n"), None);
    }

    #[test]
    fn budget_truncates_base64() {
        let p = base64(b"QUFBQUFBQUFB", false, false, 4).unwrap();
        assert_eq!(p.bytes, b"AAA");
        assert!(p.truncated);
    }

    #[test]
    fn hex_forms() {
        assert_eq!(hex_digits(b"414243", 10).unwrap().bytes, b"ABC");
        assert!(hex_digits(b"41424", 10).is_none());
        assert_eq!(hex_groups(b"\\x41\\x42", 10).unwrap().bytes, b"AB");
        assert_eq!(hex_groups(b"0x41, 0x42,0x4", 10).unwrap().bytes, b"AB\x04");
    }

    #[test]
    fn utf16_detection() {
        let le: Vec<u8> = "hello".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let (form, used) = classify(&le, Utf16Mode::Auto, false);
        assert!(used);
        assert_eq!(form.text.as_deref(), Some("hello"));
        let (form, used) = classify(&le, Utf16Mode::Never, false);
        assert!(!used);
        assert_eq!(form.text.as_deref(), Some("h\0e\0l\0l\0o\0"));
        let (form, _) = classify(b"\xff\xfeh\0i\0", Utf16Mode::Always, false);
        assert_eq!(form.text.as_deref(), Some("hi"));
        let (form, _) = classify(b"\xff\x00\x01", Utf16Mode::Auto, false);
        assert_eq!(form.encoding_type, "binary");
    }

    #[test]
    fn known_hashes() {
        let h = hashes(b"abc");
        assert_eq!(h.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(h.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            h.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(printable_bytes(b"\x00\xffA", 2), "00 ff");
    }
}
