//! Refanging: turning a defanged observable into its canonical form.
//!
//! Only the forms the patterns accept are rewritten (see `patterns.rs`), so refanging never
//! changes text that the patterns did not recognise as a marker.

use crate::patterns::{DEFANGED_ATS, DEFANGED_DOTS, DEFANGED_SCHEME_SEPARATORS};

/// Length of the defanged marker from `forms` that `bytes` starts with (ASCII case-insensitive).
fn starts_with_any(bytes: &[u8], forms: &[&str]) -> Option<usize> {
    forms
        .iter()
        .find(|form| {
            bytes.len() >= form.len() && bytes[..form.len()].eq_ignore_ascii_case(form.as_bytes())
        })
        .map(|form| form.len())
}

/// Writes `src` (a host or a dotted name) lower-cased with every defanged dot written as `.` and
/// the spaces that may surround a bracketed dot removed. Returns whether a defanged form was seen.
pub(crate) fn refang_host(src: &[u8], out: &mut String) -> bool {
    // Most names hold no marker at all: copy them in one piece.
    if src
        .iter()
        .all(|&b| b.is_ascii() && !matches!(b, b' ' | b'[' | b'(' | b'{' | b']'))
    {
        if let Ok(plain) = std::str::from_utf8(src) {
            let start = out.len();
            out.push_str(plain);
            out[start..].make_ascii_lowercase();
            return false;
        }
    }
    let mut defanged = false;
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        if b == b' ' {
            defanged = true;
            i += 1;
            continue;
        }
        if matches!(b, b'[' | b'(' | b'{') || (b == b'.' && src.get(i + 1) == Some(&b']')) {
            if let Some(len) = starts_with_any(&src[i..], &DEFANGED_DOTS) {
                out.push('.');
                defanged = true;
                i += len;
                continue;
            }
        }
        out.push(char::from(b.to_ascii_lowercase()));
        i += 1;
    }
    defanged
}

/// Writes `src` with defanged dots written as `.` and nothing else changed (URL paths keep case).
pub(crate) fn refang_dots(src: &str, out: &mut String) {
    let bytes = src.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if matches!(b, b'[' | b'(' | b'{') {
            if let Some(len) = starts_with_any(&bytes[i..], &DEFANGED_DOTS[..6]) {
                out.push_str(&src[copied..i]);
                out.push('.');
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&src[copied..]);
}

/// Length of the `@` marker (plain or defanged, with its optional spaces) at the start of `src`.
pub(crate) fn at_marker_len(src: &[u8]) -> Option<usize> {
    let mut i = 0;
    if src.first() == Some(&b' ') {
        i = 1;
    }
    if src.get(i) == Some(&b'@') && i == 0 {
        return Some(1);
    }
    let len = starts_with_any(&src[i..], &DEFANGED_ATS)?;
    let mut end = i + len;
    if src.get(end) == Some(&b' ') {
        end += 1;
    }
    Some(end)
}

/// The canonical scheme for a (possibly defanged) scheme: `hxxps` -> `https`, `fxp` -> `ftp`.
/// Returns whether the written scheme was defanged.
pub(crate) fn refang_scheme(src: &[u8], out: &mut String) -> bool {
    let start = out.len();
    for &b in src {
        out.push(char::from(b.to_ascii_lowercase()));
    }
    let written = out[start..].to_string();
    let canonical = match written.as_str() {
        s if s.starts_with('h') && s.len() >= 4 => {
            if s.ends_with('s') {
                "https"
            } else {
                "http"
            }
        }
        s if s.contains("fxp") || s.contains("ftp") => {
            let prefix = if s.starts_with('s') { "s" } else { "" };
            let suffix = if s.ends_with('s') { "s" } else { "" };
            out.truncate(start);
            out.push_str(prefix);
            out.push_str("ftp");
            out.push_str(suffix);
            return written.contains('x');
        }
        s => s,
    };
    let defanged = canonical != written;
    out.truncate(start);
    out.push_str(canonical);
    defanged
}

/// Whether a scheme separator is a defanged one (`[://]`, `[:]//`, ...).
pub(crate) fn is_defanged_scheme_separator(src: &[u8]) -> bool {
    starts_with_any(src, &DEFANGED_SCHEME_SEPARATORS[..4]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let mut out = String::new();
        assert!(refang_host(b"Evil[.]Example(.)co{.}uk", &mut out));
        assert_eq!(out, "evil.example.co.uk");
        out.clear();
        assert!(refang_host(b"evil [dot] com", &mut out));
        assert_eq!(out, "evil.com");
        out.clear();
        assert!(refang_host(b"1.2.3[.4", &mut out));
        assert_eq!(out, "1.2.3.4");
        out.clear();
        assert!(!refang_host(b"WWW.Contoso.COM", &mut out));
        assert_eq!(out, "www.contoso.com");
    }

    #[test]
    fn schemes() {
        let mut out = String::new();
        assert!(refang_scheme(b"hXXps", &mut out));
        assert_eq!(out, "https");
        out.clear();
        assert!(refang_scheme(b"sfxp", &mut out));
        assert_eq!(out, "sftp");
        out.clear();
        assert!(!refang_scheme(b"HTTP", &mut out));
        assert_eq!(out, "http");
    }

    #[test]
    fn ats() {
        assert_eq!(at_marker_len(b"@x"), Some(1));
        assert_eq!(at_marker_len(b" [at] x"), Some(6));
        assert_eq!(at_marker_len(b"(AT)x"), Some(4));
        assert_eq!(at_marker_len(b"x"), None);
    }
}
