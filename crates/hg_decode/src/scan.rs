//! Candidate detection: one linear pass per detector over the text's bytes.

use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem::Finder;

// Searchers are built once: building one per scanned text costs more than scanning a short
// command line.
static BACKSLASH_X: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\x"));
static ZERO_X: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"0x"));
static FROM_CHAR_CODE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"fromCharCode("));

/// Candidate kinds, in priority order at equal start (most explicit first; URL-safe base64
/// before standard because it must read as text to be kept).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Kind {
    CharCodes,
    HexEscapes,
    HexList,
    Percent,
    HexLiteral,
    HexPlain,
    Base64Url,
    Base64,
}

#[derive(Debug)]
pub(crate) struct Candidate {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    /// A base64 argument of PowerShell's `-EncodedCommand` (or an abbreviation).
    pub powershell: bool,
    /// The parsed codes of a [`Kind::CharCodes`] candidate.
    pub codes: Vec<u32>,
}

pub(crate) struct ScanSettings {
    pub base64: bool,
    pub base64url: bool,
    pub hex: bool,
    pub percent: bool,
    pub char_codes: bool,
    pub min_base64_len: usize,
    pub powershell: bool,
}

/// Shortest plain hex run (digits), `0x` literal (digits), and item counts of lists.
const MIN_PLAIN_HEX: usize = 16;
/// A plain run of decimal digits this short is a number (a 64-bit value has at most 20 digits:
/// handles, ids, timestamps), not hex content.
const MAX_DECIMAL_NUMBER_DIGITS: usize = 20;
const MIN_HEX_LITERAL: usize = 8;
const MIN_LIST_ITEMS: usize = 4;
const MIN_PERCENT_ESCAPES: usize = 3;
const MIN_CHAR_CODES: usize = 4;
/// Shortest base64 argument accepted after an `-EncodedCommand` switch.
const MIN_POWERSHELL_B64: usize = 4;

const STD: u16 = 1; // A-Z a-z 0-9 + / CR LF
const URL: u16 = 2; // A-Z a-z 0-9 - _
const HEX: u16 = 4; // 0-9 a-f A-F
const WORD: u16 = 8; // A-Z a-z 0-9 + / = - _ (hex-run boundary)
const ANY: u16 = STD | URL; // every byte a base64, URL-safe base64 or hex run can hold

// Bytes every explicit form needs somewhere in the text: `\x41` needs `\` and `x`, `0x41` an
// `x`, `%41` a `%`, `[char]` a `[`, `fromCharCode(` a `(`. They share the class table so the
// word-run walk notes them as it goes (one OR per byte) instead of a second pass over the text.
const TRIGGER_PERCENT: u16 = 1 << 8;
const TRIGGER_BACKSLASH: u16 = 1 << 9;
const TRIGGER_BRACKET: u16 = 1 << 10;
const TRIGGER_PAREN: u16 = 1 << 11;
const TRIGGER_X: u16 = 1 << 12;
const ALL_TRIGGERS: u16 =
    TRIGGER_PERCENT | TRIGGER_BACKSLASH | TRIGGER_BRACKET | TRIGGER_PAREN | TRIGGER_X;

const fn class_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let alnum = b.is_ascii_alphanumeric();
        let mut c = 0;
        if alnum || b == b'+' || b == b'/' || b == b'\r' || b == b'\n' {
            c |= STD;
        }
        if alnum || b == b'-' || b == b'_' {
            c |= URL;
        }
        if b.is_ascii_hexdigit() {
            c |= HEX;
        }
        if alnum || b == b'+' || b == b'/' || b == b'=' || b == b'-' || b == b'_' {
            c |= WORD;
        }
        c |= match b {
            b'%' => TRIGGER_PERCENT,
            b'\\' => TRIGGER_BACKSLASH,
            b'[' => TRIGGER_BRACKET,
            b'(' => TRIGGER_PAREN,
            b'x' | b'X' => TRIGGER_X,
            _ => 0,
        };
        t[i] = c;
        i += 1;
    }
    t
}

static CLASS: [u16; 256] = class_table();

#[inline]
fn class_of(b: u8) -> u16 {
    CLASS[usize::from(b)]
}

#[inline]
fn is(b: u8, class: u16) -> bool {
    class_of(b) & class != 0
}

/// Which trigger bytes occur in `text`, for settings that skip the word-run walk.
fn triggers(text: &[u8]) -> u16 {
    let mut seen = 0u16;
    for chunk in text.chunks(64) {
        for &b in chunk {
            seen |= class_of(b);
        }
        if seen & ALL_TRIGGERS == ALL_TRIGGERS {
            break;
        }
    }
    seen & ALL_TRIGGERS
}

/// Every candidate in `text`, sorted by start then priority.
pub(crate) fn find(text: &[u8], s: &ScanSettings) -> Vec<Candidate> {
    let mut out = Vec::new();
    let seen = if s.base64 || s.base64url || s.hex {
        word_runs(text, s, &mut out)
    } else if s.hex || s.percent || s.char_codes {
        triggers(text)
    } else {
        0
    };
    if s.hex && seen & TRIGGER_X != 0 {
        if seen & TRIGGER_BACKSLASH != 0 {
            hex_escapes(text, &mut out);
        }
        hex_lists(text, &mut out);
    }
    if s.percent && seen & TRIGGER_PERCENT != 0 {
        percent_tokens(text, &mut out);
    }
    if s.char_codes && seen & TRIGGER_BRACKET != 0 {
        char_code_arrays(text, &mut out);
    }
    if s.char_codes && seen & TRIGGER_PAREN != 0 {
        from_char_code(text, &mut out);
    }
    out.sort_by_key(|c| (c.start, c.kind));
    out
}

fn push(out: &mut Vec<Candidate>, start: usize, end: usize, kind: Kind) {
    out.push(Candidate {
        start,
        end,
        kind,
        powershell: false,
        codes: Vec::new(),
    });
}

/// One pass over maximal runs of word bytes (every base64, URL-safe base64 and hex run lies
/// inside one). Most runs in ordinary text are short words and cost one table look-up per
/// byte; only runs long enough for some detector (or a short run right after a PowerShell
/// `-EncodedCommand` switch) are looked at again by the detectors, within the run. Returns the
/// trigger bytes seen on the way (see [`ALL_TRIGGERS`]).
fn word_runs(text: &[u8], s: &ScanSettings, out: &mut Vec<Candidate>) -> u16 {
    let mut detail = usize::MAX;
    if s.base64 || s.base64url {
        detail = detail.min(s.min_base64_len);
    }
    if s.hex {
        detail = detail.min(MIN_PLAIN_HEX.min(MIN_HEX_LITERAL + 2));
    }
    let n = text.len();
    let mut i = 0;
    // Whether the previous run starts like a switch (`-x`, `/x`, or after a dash character):
    // a cheap test before looking for `-EncodedCommand` behind a short run.
    let mut previous_switch_like = false;
    let mut seen = 0u16;
    while i < n {
        let class = class_of(text[i]);
        seen |= class;
        if class & ANY == 0 {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < n {
            let class = class_of(text[i]);
            if class & ANY == 0 {
                break;
            }
            seen |= class;
            i += 1;
        }
        let len = i - start;
        let after_switch = previous_switch_like;
        previous_switch_like = matches!(text[start], b'-' | b'/')
            || (start >= 3 && matches!(&text[start - 3..start], [0xe2, 0x80, 0x93..=0x95]));
        if len >= detail {
            if s.base64 {
                base64_runs(text, start..i, s, out);
            }
            if s.base64url {
                base64url_runs(text, start..i, s.min_base64_len, out);
            }
            if s.hex {
                hex_runs(text, start..i, out);
            }
        } else if s.base64
            && s.powershell
            && after_switch
            && len >= MIN_POWERSHELL_B64
            && follows_encoded_switch(text, start)
        {
            base64_runs(text, start..i, s, out);
        }
    }
    seen & ALL_TRIGGERS
}

/// The reference's rule: 30+ of `A-Za-z0-9+/` and CR/LF, then up to two `=`; plus shorter
/// runs that follow an `-EncodedCommand` switch. Looks at runs starting within `range`.
fn base64_runs(text: &[u8], range: Range<usize>, s: &ScanSettings, out: &mut Vec<Candidate>) {
    let n = text.len();
    let mut i = range.start;
    while i < range.end {
        if !is(text[i], STD) {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && is(text[i], STD) {
            i += 1;
        }
        let len = i - start;
        let mut end = i;
        while end < n && end - i < 2 && text[end] == b'=' {
            end += 1;
        }
        let powershell =
            s.powershell && len >= MIN_POWERSHELL_B64 && follows_encoded_switch(text, start);
        if len >= s.min_base64_len || powershell {
            out.push(Candidate {
                start,
                end,
                kind: Kind::Base64,
                powershell,
                codes: Vec::new(),
            });
        }
    }
}

/// Whether the text before `start` is a PowerShell `-EncodedCommand` switch or one of its
/// abbreviations (`-e`, `-en`, `-enc`, ..., `-ec`; `/` and dashes also introduce switches),
/// then white space and an optional quote.
pub(crate) fn follows_encoded_switch(text: &[u8], start: usize) -> bool {
    let mut j = start;
    if j > 0 && matches!(text[j - 1], b'"' | b'\'') {
        j -= 1;
    }
    let blank_end = j;
    while j > 0 && matches!(text[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    if j == blank_end {
        return false;
    }
    let token_end = j;
    while j > 0 && !text[j - 1].is_ascii_whitespace() && token_end - j <= 20 {
        j -= 1;
    }
    let token = &text[j..token_end];
    let name = match token {
        [b'-' | b'/', rest @ ..] => rest,
        [0xe2, 0x80, 0x93..=0x95, rest @ ..] => rest,
        _ => return false,
    };
    if name.is_empty() || name.len() > 14 {
        return false;
    }
    let lower: Vec<u8> = name.iter().map(u8::to_ascii_lowercase).collect();
    lower == b"ec" || b"encodedcommand".starts_with(&lower)
}

/// URL-safe base64: a run of `A-Za-z0-9-_` with at least one `-` or `_`, then up to two `=`.
fn base64url_runs(text: &[u8], range: Range<usize>, min_len: usize, out: &mut Vec<Candidate>) {
    let n = text.len();
    let mut i = range.start;
    while i < range.end {
        if !is(text[i], URL) {
            i += 1;
            continue;
        }
        let start = i;
        let mut url_only = false;
        while i < n && is(text[i], URL) {
            url_only |= matches!(text[i], b'-' | b'_');
            i += 1;
        }
        let mut end = i;
        while end < n && end - i < 2 && text[end] == b'=' {
            end += 1;
        }
        if url_only && i - start >= min_len {
            push(out, start, end, Kind::Base64Url);
        }
    }
}

/// Plain hex runs (whole tokens of 16+ even digits) and `0x` literals (8+ even digits).
fn hex_runs(text: &[u8], range: Range<usize>, out: &mut Vec<Candidate>) {
    let n = text.len();
    let mut i = range.start;
    while i < range.end {
        if !is(text[i], HEX) {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && is(text[i], HEX) {
            i += 1;
        }
        let digits = i - start;
        if digits & 1 == 1 || (i < n && is(text[i], WORD)) {
            continue;
        }
        let literal = start >= 2
            && text[start - 2] == b'0'
            && matches!(text[start - 1], b'x' | b'X')
            && (start == 2 || !text[start - 3].is_ascii_alphanumeric());
        if literal && digits >= MIN_HEX_LITERAL {
            push(out, start - 2, i, Kind::HexLiteral);
        } else if digits >= MIN_PLAIN_HEX
            && (start == 0 || !is(text[start - 1], WORD))
            && !(digits <= MAX_DECIMAL_NUMBER_DIGITS
                && text[start..i].iter().all(u8::is_ascii_digit))
        {
            push(out, start, i, Kind::HexPlain);
        }
    }
}

/// Runs of 4+ `\xHH` escapes.
fn hex_escapes(text: &[u8], out: &mut Vec<Candidate>) {
    let mut skip_to = 0;
    for p in BACKSLASH_X.find_iter(text) {
        if p < skip_to {
            continue;
        }
        let mut i = p;
        let mut items = 0;
        while text.get(i) == Some(&b'\\')
            && matches!(text.get(i + 1), Some(b'x' | b'X'))
            && text.get(i + 2).is_some_and(|b| b.is_ascii_hexdigit())
            && text.get(i + 3).is_some_and(|b| b.is_ascii_hexdigit())
        {
            i += 4;
            items += 1;
        }
        if items >= MIN_LIST_ITEMS {
            push(out, p, i, Kind::HexEscapes);
            skip_to = i;
        }
    }
}

/// Lists of 4+ `0xH` / `0xHH` items separated by commas or blanks (`0x48,0x65, 0x6c 0x6c`).
fn hex_lists(text: &[u8], out: &mut Vec<Candidate>) {
    let mut skip_to = 0;
    for p in ZERO_X.find_iter(text) {
        if p < skip_to || (p > 0 && text[p - 1].is_ascii_alphanumeric()) {
            continue;
        }
        let mut i = p;
        let mut items = 0;
        let mut end = p;
        loop {
            if !(text.get(i) == Some(&b'0') && text.get(i + 1) == Some(&b'x')) {
                break;
            }
            let mut d = i + 2;
            while d < text.len() && text[d].is_ascii_hexdigit() && d - (i + 2) < 3 {
                d += 1;
            }
            let digits = d - (i + 2);
            if digits == 0 || digits > 2 || (d < text.len() && is(text[d], WORD)) {
                break;
            }
            items += 1;
            end = d;
            i = d;
            while i < text.len() && matches!(text[i], b' ' | b'\t' | b',') {
                i += 1;
            }
        }
        if items >= MIN_LIST_ITEMS {
            push(out, p, end, Kind::HexList);
            skip_to = end;
        }
    }
}

fn percent_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`')
}

/// Tokens (between white space and quotes) holding 3+ valid `%HH` escapes.
fn percent_tokens(text: &[u8], out: &mut Vec<Candidate>) {
    let mut skip_to = 0;
    for p in memchr::memchr_iter(b'%', text) {
        if p < skip_to {
            continue;
        }
        let mut start = p;
        while start > skip_to && !percent_delimiter(text[start - 1]) {
            start -= 1;
        }
        let mut end = p;
        while end < text.len() && !percent_delimiter(text[end]) {
            end += 1;
        }
        skip_to = end;
        let token = &text[start..end];
        let escapes = memchr::memchr_iter(b'%', token)
            .filter(|&q| {
                token.get(q + 1).is_some_and(u8::is_ascii_hexdigit)
                    && token.get(q + 2).is_some_and(u8::is_ascii_hexdigit)
            })
            .count();
        if escapes >= MIN_PERCENT_ESCAPES {
            push(out, start, end, Kind::Percent);
        }
    }
}

fn starts_with_ignore_case(text: &[u8], at: usize, word: &[u8]) -> bool {
    text.get(at..at + word.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(word))
}

/// Parses one decimal (up to 7 digits) or `0x` (up to 6 hex digits) number at `at`.
fn number(text: &[u8], at: usize) -> Option<(u32, usize)> {
    if text.get(at) == Some(&b'0') && matches!(text.get(at + 1), Some(b'x' | b'X')) {
        let mut i = at + 2;
        let mut v: u32 = 0;
        while let Some(d) = text.get(i).and_then(|b| (*b as char).to_digit(16)) {
            if i - (at + 2) >= 6 {
                return None;
            }
            v = v * 16 + d;
            i += 1;
        }
        return (i > at + 2).then_some((v, i));
    }
    let mut i = at;
    let mut v: u32 = 0;
    while let Some(d) = text.get(i).and_then(|b| (*b as char).to_digit(10)) {
        if i - at >= 7 {
            return None;
        }
        v = v * 10 + d;
        i += 1;
    }
    (i > at).then_some((v, i))
}

/// `[char]72,101,...`, `[char]72+[char]101+...`, `[char[]](72,101,...)`, `[char[]]@(...)`.
fn char_code_arrays(text: &[u8], out: &mut Vec<Candidate>) {
    let mut skip_to = 0;
    for p in memchr::memchr_iter(b'[', text) {
        if p < skip_to {
            continue;
        }
        let marker = if starts_with_ignore_case(text, p, b"[char[]]") {
            8
        } else if starts_with_ignore_case(text, p, b"[char]") {
            6
        } else {
            continue;
        };
        let mut i = p + marker;
        let mut opened = false;
        while let Some(b' ' | b'\t' | b'@' | b'(') = text.get(i) {
            opened |= text[i] == b'(';
            i += 1;
        }
        let mut codes = Vec::new();
        let mut end = i;
        while let Some((v, after)) = number(text, i) {
            if after < text.len() && text[after].is_ascii_alphanumeric() {
                break;
            }
            codes.push(v);
            end = after;
            // Separator: blanks, parentheses and [char] casts around at least one ',' or '+'.
            let mut j = after;
            let mut joined = false;
            loop {
                match text.get(j) {
                    Some(b' ' | b'\t' | b'(' | b')') => j += 1,
                    Some(b',' | b'+') => {
                        joined = true;
                        j += 1;
                    }
                    Some(b'[') if starts_with_ignore_case(text, j, b"[char]") => j += 6,
                    _ => break,
                }
            }
            if !joined {
                break;
            }
            i = j;
        }
        let mut k = end;
        while matches!(text.get(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        if opened && text.get(k) == Some(&b')') {
            end = k + 1;
        }
        if codes.len() >= MIN_CHAR_CODES {
            skip_to = end;
            out.push(Candidate {
                start: p,
                end,
                kind: Kind::CharCodes,
                powershell: false,
                codes,
            });
        }
    }
}

/// JavaScript's `String.fromCharCode(72,101,...)`.
fn from_char_code(text: &[u8], out: &mut Vec<Candidate>) {
    const CALL: &[u8] = b"fromCharCode(";
    for p in FROM_CHAR_CODE.find_iter(text) {
        let start = if p >= 7 && &text[p - 7..p] == b"String." {
            p - 7
        } else {
            p
        };
        let mut i = p + CALL.len();
        let mut codes = Vec::new();
        loop {
            while matches!(text.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            let Some((v, after)) = number(text, i) else {
                break;
            };
            codes.push(v);
            i = after;
            while matches!(text.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            if text.get(i) == Some(&b',') {
                i += 1;
            } else {
                break;
            }
        }
        if text.get(i) == Some(&b')') && codes.len() >= MIN_CHAR_CODES {
            out.push(Candidate {
                start,
                end: i + 1,
                kind: Kind::CharCodes,
                powershell: false,
                codes,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ScanSettings {
        ScanSettings {
            base64: true,
            base64url: true,
            hex: true,
            percent: true,
            char_codes: true,
            min_base64_len: 30,
            powershell: true,
        }
    }

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        find(text.as_bytes(), &settings())
            .into_iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn switches() {
        for yes in [
            "-e ",
            "-ec ",
            "-enc ",
            "/ENC ",
            "-EncodedCommand ",
            "-enco '",
        ] {
            let t = format!("x {yes}AAAA");
            let start = t.len() - 4;
            assert!(follows_encoded_switch(t.as_bytes(), start), "{yes}");
        }
        for no in ["-ep ", "-encodedcommandx ", "-e", "enc "] {
            let t = format!("x {no}AAAA");
            let start = t.len() - 4;
            assert!(!follows_encoded_switch(t.as_bytes(), start), "{no}");
        }
    }

    #[test]
    fn decimal_numbers_are_not_hex() {
        assert_eq!(kinds("h=1948,i,4449205874793465,262144 x"), vec![]);
        assert_eq!(
            kinds("n 4449205874793465444920587479346544 x")[0].0,
            Kind::HexPlain
        );
    }

    #[test]
    fn detectors() {
        assert_eq!(
            kinds("a [char]72,101,108,108 b")[0].1,
            "[char]72,101,108,108"
        );
        assert_eq!(
            kinds("([char[]](72, 101,108,0x6c) -join '')")[0].1,
            "[char[]](72, 101,108,0x6c)"
        );
        assert_eq!(
            kinds("x \\x41\\x42\\x43\\x44 y")[0].1,
            "\\x41\\x42\\x43\\x44"
        );
        assert_eq!(
            kinds("{0x41, 0x42,0x43 0x44};")[0].1,
            "0x41, 0x42,0x43 0x44"
        );
        assert_eq!(kinds("v=0x41424344;")[0], (Kind::HexLiteral, "0x41424344"));
        assert_eq!(
            kinds("u a%20b%20c%41 x")[0],
            (Kind::Percent, "a%20b%20c%41")
        );
        assert!(kinds("deadbeefdeadbeefz").is_empty());
        assert_eq!(kinds("A".repeat(29).as_str()), vec![]);
        // An all-hex run is tried as hex first (it must read as text), then as base64.
        let thirty = "A".repeat(30);
        let both = kinds(&thirty);
        assert_eq!(
            both.iter().map(|k| k.0).collect::<Vec<_>>(),
            [Kind::HexPlain, Kind::Base64]
        );
    }
}
