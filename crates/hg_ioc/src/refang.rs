//! Refanging: turning a defanged observable into its canonical form.
//!
//! Only the forms the patterns accept are rewritten (see `patterns.rs`), so refanging never
//! changes text that the patterns did not recognise as a marker.

use crate::patterns::{DEFANGED_ATS, DEFANGED_SCHEME_SEPARATORS};

/// Length of the defanged marker from `forms` that `bytes` starts with (ASCII case-insensitive).
fn starts_with_any(bytes: &[u8], forms: &[&str]) -> Option<usize> {
    forms
        .iter()
        .find(|form| {
            bytes.len() >= form.len() && bytes[..form.len()].eq_ignore_ascii_case(form.as_bytes())
        })
        .map(|form| form.len())
}

/// Length of the defanged dot at the start of `bytes`: the first of `DEFANGED_DOTS` it starts
/// with (ASCII case-insensitive), or of their first six forms when `bracketed_only`. Decided
/// from the first byte instead of trying every form.
#[inline]
fn defanged_dot_len(bytes: &[u8], bracketed_only: bool) -> Option<usize> {
    let at = |k: usize| bytes.get(k).copied().unwrap_or(0);
    let close = match at(0) {
        b'[' => b']',
        b'(' => b')',
        b'{' => b'}',
        b'.' => return (!bracketed_only && at(1) == b']').then_some(2),
        _ => return None,
    };
    if bytes.len() >= 5 && bytes[1..4].eq_ignore_ascii_case(b"dot") && at(4) == close {
        Some(5)
    } else if at(1) == b'.' && at(2) == close {
        Some(3)
    } else if !bracketed_only && close == b']' && at(1) == b'.' {
        Some(2)
    } else {
        None
    }
}

/// Writes `src` (a host or a dotted name) lower-cased with every defanged dot written as `.` and
/// the spaces that may surround a bracketed dot removed. Returns whether a defanged form was seen.
pub(crate) fn refang_host(src: &[u8], out: &mut String) -> bool {
    match std::str::from_utf8(src) {
        Ok(text) => refang_host_str(text, out),
        Err(_) => refang_host_marked(src, out),
    }
}

/// [`refang_host`] for text already known to be UTF-8 (a slice of the caller's text): the common
/// plain name is copied in one piece without validating it again.
pub(crate) fn refang_host_str(src: &str, out: &mut String) -> bool {
    if !src.bytes().any(crate::fast::is_host_marker) {
        let start = out.len();
        out.push_str(src);
        out[start..].make_ascii_lowercase();
        return false;
    }
    refang_host_marked(src.as_bytes(), out)
}

/// The byte-by-byte refang of a host that may hold markers (see [`refang_host`]).
fn refang_host_marked(src: &[u8], out: &mut String) -> bool {
    let mut defanged = false;
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        if b == b' ' {
            defanged = true;
            i += 1;
            continue;
        }
        if matches!(b, b'[' | b'(' | b'{' | b'.') {
            if let Some(len) = defanged_dot_len(&src[i..], false) {
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
    // Every bracketed dot starts with an opening bracket: only those are looked at.
    while let Some(found) = memchr::memchr3(b'[', b'(', b'{', &bytes[i..]) {
        i += found;
        if let Some(len) = defanged_dot_len(&bytes[i..], true) {
            out.push_str(&src[copied..i]);
            out.push('.');
            i += len;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&src[copied..]);
}

/// Whether [`refang_dots`] would change `src`: it holds a bracketed defanged dot.
pub(crate) fn has_bracketed_dot(src: &[u8]) -> bool {
    let mut i = 0;
    while let Some(found) = memchr::memchr3(b'[', b'(', b'{', &src[i..]) {
        i += found;
        if defanged_dot_len(&src[i..], true).is_some() {
            return true;
        }
        i += 1;
    }
    false
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

/// `scheme` (at most 8 bytes) as a little-endian number, zero-padded.
const fn scheme_key(scheme: &str) -> u64 {
    let bytes = scheme.as_bytes();
    let mut key = 0u64;
    let mut i = 0;
    while i < bytes.len() {
        key |= (bytes[i] as u64) << (8 * i);
        i += 1;
    }
    key
}

/// The schemes of the URL pattern written plainly, with their [`scheme_key`].
const PLAIN_SCHEMES: [(u64, &str); 10] = {
    const NAMES: [&str; 10] = [
        "http", "https", "ftp", "ftps", "sftp", "sftps", "telnet", "ldap", "ldaps", "file",
    ];
    let mut table = [(0u64, ""); 10];
    let mut i = 0;
    while i < NAMES.len() {
        table[i] = (scheme_key(NAMES[i]), NAMES[i]);
        i += 1;
    }
    table
};

/// The canonical scheme for a (possibly defanged) scheme: `hxxps` -> `https`, `fxp` -> `ftp`.
/// Returns whether the written scheme was defanged.
pub(crate) fn refang_scheme(src: &[u8], out: &mut String) -> bool {
    // The common schemes written in lower case: literal copies (no copy call).
    match src {
        b"http" => {
            out.push_str("http");
            return false;
        }
        b"https" => {
            out.push_str("https");
            return false;
        }
        _ => {}
    }
    // The plain schemes (almost every URL) are their own canonical form in lower case: one
    // comparison of the lower-cased bytes as a number.
    if src.len() <= 8 {
        let mut lowered = [0u8; 8];
        for (to, from) in lowered.iter_mut().zip(src) {
            *to = from.to_ascii_lowercase();
        }
        let key = u64::from_le_bytes(lowered);
        if let Some(&(_, plain)) = PLAIN_SCHEMES.iter().find(|(k, _)| *k == key) {
            out.push_str(plain);
            return false;
        }
    }
    // Schemes are the pattern's `h[tx]{2}ps?`, `s?f[tx]ps?`, `telnet`, `ldaps?` or `file`:
    // decided from their letters without building the lower-cased text first.
    let lower = |k: usize| src.get(k).map_or(0, u8::to_ascii_lowercase);
    let n = src.len();
    let ends_in_s = n > 0 && lower(n - 1) == b's';
    if lower(0) == b'h' && n >= 4 {
        let canonical = if ends_in_s { "https" } else { "http" };
        out.push_str(canonical);
        return !src.eq_ignore_ascii_case(canonical.as_bytes());
    }
    let f = usize::from(lower(0) == b's');
    if n <= 5 && lower(f) == b'f' && matches!(lower(f + 1), b't' | b'x') && lower(f + 2) == b'p' {
        out.push_str(match (f == 1, ends_in_s && n == f + 4) {
            (true, true) => "sftps",
            (true, false) => "sftp",
            (false, true) => "ftps",
            (false, false) => "ftp",
        });
        return lower(f + 1) == b'x';
    }
    let start = out.len();
    for &b in src {
        out.push(char::from(b.to_ascii_lowercase()));
    }
    let written = &out[start..];
    let (canonical, defanged) = if written.starts_with('h') && written.len() >= 4 {
        let canonical = if written.ends_with('s') {
            "https"
        } else {
            "http"
        };
        (canonical, canonical != written)
    } else if written.contains("fxp") || written.contains("ftp") {
        let canonical = match (written.starts_with('s'), written.ends_with('s')) {
            (true, true) => "sftps",
            (true, false) => "sftp",
            (false, true) => "ftps",
            (false, false) => "ftp",
        };
        (canonical, written.contains('x'))
    } else {
        return false;
    };
    out.truncate(start);
    out.push_str(canonical);
    defanged
}

/// Whether a scheme separator is a defanged one (`[://]`, `[:]//`, ...).
pub(crate) fn is_defanged_scheme_separator(src: &[u8]) -> bool {
    // Every defanged form starts with a bracket (the plain `://` is the common case).
    !src.starts_with(b":") && starts_with_any(src, &DEFANGED_SCHEME_SEPARATORS[..4]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::DEFANGED_DOTS;

    /// `has_bracketed_dot` says whether `refang_dots` changes its input.
    #[test]
    fn bracketed_dot_detection_agrees_with_refang_dots() {
        let texts = [
            "/a/b?x=1", "/a[.]php", "/a(.)b", "/a{.}b", "/a[dot]b", "/a(DOT)b", "/a[.b", "/a[.",
            "/(x)", "/[", "{", "/a.]b", "/a[.]", "/x[y](.)", "", "/a[[.]]", "/%5B.%5D",
        ];
        for text in texts {
            let mut out = String::new();
            refang_dots(text, &mut out);
            assert_eq!(has_bracketed_dot(text.as_bytes()), out != text, "{text:?}");
        }
    }

    #[test]
    fn defanged_dot_forms() {
        let texts: [&[u8]; 14] = [
            b"[dot]x", b"(DoT)", b"{dot}", b"[.]", b"(.)", b"{.}", b"[.x", b".]", b"[dot)", b"(.]",
            b"[", b".", b"{d", b"x[.]",
        ];
        for text in texts {
            for k in 0..=text.len() {
                let bytes = &text[k..];
                assert_eq!(
                    defanged_dot_len(bytes, false),
                    starts_with_any(bytes, &DEFANGED_DOTS),
                    "{bytes:?}"
                );
                assert_eq!(
                    defanged_dot_len(bytes, true),
                    starts_with_any(bytes, &DEFANGED_DOTS[..6]),
                    "{bytes:?}"
                );
            }
        }
    }

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
        out.clear();
        assert!(!refang_scheme(b"FTPS", &mut out));
        assert_eq!(out, "ftps");
        out.clear();
        assert!(refang_scheme(b"hxxp", &mut out));
        assert_eq!(out, "http");
        out.clear();
        assert!(!refang_scheme(b"Telnet", &mut out));
        assert_eq!(out, "telnet");
        out.clear();
        assert!(refang_scheme(b"SFXPS", &mut out));
        assert_eq!(out, "sftps");
        out.clear();
        assert!(!refang_scheme(b"ldaps", &mut out));
        assert_eq!(out, "ldaps");
        out.clear();
        assert!(!refang_scheme(b"File", &mut out));
        assert_eq!(out, "file");
        out.clear();
        assert!(refang_scheme(b"hxxP", &mut out));
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
