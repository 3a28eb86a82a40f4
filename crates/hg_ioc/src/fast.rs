//! Hand-written candidate finding: where the leftmost-first union of the patterns in
//! `patterns.rs` can start a match, and the exact match of the frequent shapes (dotted names,
//! IPv6 candidates, hex runs, CVE ids) without running a regular expression.
//!
//! Every function here mirrors one pattern of `patterns.rs` *exactly* (leftmost-first, greedy,
//! ASCII case-insensitive), or is documented as a necessary condition (a superset) that decides
//! whether the pattern's own anchored regex needs to run. The differential test in `scan.rs`
//! checks the result against the union regex on seeded inputs.

/// In the email local-part class `[a-z0-9_%+-]` (the "word" runs the scanner walks over).
pub(crate) const W: u8 = 1;
/// In the label class `[a-z0-9_-]`.
pub(crate) const LABEL: u8 = 2;
/// Can start a match while not being in `W`: `.`, `/`, `\`, `:`, `~`.
pub(crate) const START_OTHER: u8 = 4;
/// `%` or `+`: in `W` but not in `LABEL`.
pub(crate) const PCT_PLUS: u8 = 8;
/// `-`.
pub(crate) const DASH: u8 = 16;
/// `%`.
pub(crate) const PCT: u8 = 32;
/// A hex digit `[0-9a-fA-F]`.
pub(crate) const HEX: u8 = 64;

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric() || c == b'_';
        if alnum {
            t[b] = W | LABEL;
        }
        if c.is_ascii_hexdigit() {
            t[b] |= HEX;
        }
        match c {
            b'-' => t[b] = W | LABEL | DASH,
            b'%' => t[b] = W | PCT_PLUS | PCT,
            b'+' => t[b] = W | PCT_PLUS,
            b'.' | b'/' | b'\\' | b':' | b'~' => t[b] = START_OTHER,
            _ => {}
        }
        b += 1;
    }
    t
}

/// Byte classes for the scanner (bit set of the constants above).
pub(crate) static CLASS: [u8; 256] = class_table();

/// In the Linux path segment class (`[a-z0-9._+~%=#$@-]`, ASCII case-insensitive, or any
/// non-ASCII byte).
const LSEG: u8 = 1;
/// In the URL userinfo class (`[a-z0-9._~!$&'()*+,;=:%-]`).
const USERINFO: u8 = 2;
/// In the class of the rest of a URL (`[^\s\x00-\x1f\x7f"'<>]`).
const URL_REST: u8 = 4;
/// In the Windows path segment class (`[^\\/:*?"'<>|,;\x00-\x20\x7f]`).
const WIN_SEG: u8 = 8;
/// A byte that makes a host need refanging: a space, `[`, `(`, `{`, `]` or non-ASCII.
const HOST_MARKER: u8 = 16;
/// In the class of a canonical (lower-case) domain label, `[a-z0-9_-]`.
const DNS_LABEL: u8 = 32;

const fn sets_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut sets = 0;
        if matches!(c.to_ascii_lowercase(), b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'+' | b'~' | b'%' | b'=' | b'#' | b'$' | b'@' | b'-')
            || c >= 0x80
        {
            sets |= LSEG;
        }
        if c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'%'
            )
        {
            sets |= USERINFO;
        }
        if c > 0x20 && c != 0x7f && !matches!(c, b'"' | b'\'' | b'<' | b'>') {
            sets |= URL_REST;
        }
        if c > 0x20
            && c != 0x7f
            && !matches!(
                c,
                b'\\' | b'/' | b':' | b'*' | b'?' | b'"' | b'\'' | b'<' | b'>' | b'|' | b',' | b';'
            )
        {
            sets |= WIN_SEG;
        }
        if c >= 0x80 || matches!(c, b' ' | b'[' | b'(' | b'{' | b']') {
            sets |= HOST_MARKER;
        }
        if matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_') {
            sets |= DNS_LABEL;
        }
        t[b] = sets;
        b += 1;
    }
    t
}

/// Membership of each byte in the path, userinfo and URL classes above (one look-up instead of
/// a chain of comparisons in the matchers' inner loops).
static SETS: [u8; 256] = sets_table();

/// Whether `b` may be in a canonical domain label (see [`DNS_LABEL`]).
#[inline]
pub(crate) fn is_dns_label_byte(b: u8) -> bool {
    SETS[usize::from(b)] & DNS_LABEL != 0
}

/// Whether `b` makes a host need refanging (see [`HOST_MARKER`]).
#[inline]
pub(crate) fn is_host_marker(b: u8) -> bool {
    SETS[usize::from(b)] & HOST_MARKER != 0
}

#[inline]
pub(crate) fn at(hay: &[u8], i: usize) -> u8 {
    hay.get(i).copied().unwrap_or(0)
}

/// Whether `b` is a hex digit (one table look-up).
#[inline]
pub(crate) fn is_hex(b: u8) -> bool {
    CLASS[usize::from(b)] & HEX != 0
}

#[inline]
fn lower(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

#[inline]
pub(crate) fn is_label_byte(b: u8) -> bool {
    CLASS[usize::from(b)] & LABEL != 0
}

/// Whether `hay[i..]` starts with `lit` (lower-case ASCII), ignoring ASCII case.
#[inline]
pub(crate) fn starts_with_ci(hay: &[u8], i: usize, lit: &[u8]) -> bool {
    hay.get(i..i + lit.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(lit))
}

/// End of the run of label bytes starting at `i`.
#[inline]
pub(crate) fn label_run_end(hay: &[u8], i: usize) -> usize {
    crate::block::label_end(hay, i)
}

/// The dot separator of `patterns.rs` followed by a label, tried at `i` in the pattern's order:
/// `\x20?(?:[.]|(.)|{.}|[dot]|(dot)|{dot})\x20?`, `[.`, `.]`, `.` (defanged) or `.` (plain).
/// Returns the end of the label when one of them matches.
///
/// Inlined into the dotted-name loop: the plain dot (the common case) and the bytes that begin
/// no separator (the end of nearly every name) are decided here, the defanged forms out of line.
#[inline(always)]
fn sep_then_label(hay: &[u8], i: usize, defanged: bool) -> Option<usize> {
    let b = at(hay, i);
    // Alternatives 1 and 2 need a space or a bracket at `i`, so at a plain dot only `.]` (then
    // its label, defanged) or the plain `.` (then its label) can match.
    if b == b'.' && (!defanged || at(hay, i + 1) != b']') {
        return label_at(hay, i + 1);
    }
    // Every other form begins with a bracket, or a space followed by a bracket.
    if !defanged
        || !(matches!(b, b'.' | b'[' | b'(' | b'{')
            || (b == b' ' && matches!(at(hay, i + 1), b'[' | b'(' | b'{')))
    {
        return None;
    }
    defanged_sep_then_label(hay, i)
}

/// The end of the label run at `j`, when a label byte is there.
#[inline(always)]
fn label_at(hay: &[u8], j: usize) -> Option<usize> {
    is_label_byte(at(hay, j)).then(|| label_run_end(hay, j))
}

/// [`sep_then_label`] when defanged separators are on and `hay[i]` begins one of the bracketed
/// forms (or `.]`).
#[cold]
#[inline(never)]
fn defanged_sep_then_label(hay: &[u8], i: usize) -> Option<usize> {
    if at(hay, i) == b'.' {
        return if at(hay, i + 1) == b']' {
            label_at(hay, i + 2)
        } else {
            label_at(hay, i + 1)
        };
    }
    // Alternative 1: optional space, bracketed dot, optional space (greedy spaces).
    let lead = usize::from(at(hay, i) == b' ');
    let j = i + lead;
    if let Some(len) = bracketed_dot_len(hay, j) {
        let k = j + len;
        if at(hay, k) == b' ' {
            if let Some(e) = label_at(hay, k + 1) {
                return Some(e);
            }
        }
        if let Some(e) = label_at(hay, k) {
            return Some(e);
        }
    }
    // Without the leading space the bracket would have to be at `i`, which then is a space.
    match (at(hay, i), at(hay, i + 1)) {
        (b'[', b'.') => {
            if let Some(e) = label_at(hay, i + 2) {
                return Some(e);
            }
        }
        (b'.', b']') => {
            if let Some(e) = label_at(hay, i + 2) {
                return Some(e);
            }
        }
        _ => {}
    }
    None
}

/// Length of `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)` or `{dot}` at `i`.
fn bracketed_dot_len(hay: &[u8], i: usize) -> Option<usize> {
    let close = match at(hay, i) {
        b'[' => b']',
        b'(' => b')',
        b'{' => b'}',
        _ => return None,
    };
    if at(hay, i + 1) == b'.' && at(hay, i + 2) == close {
        return Some(3);
    }
    if starts_with_ci(hay, i + 1, b"dot") && at(hay, i + 4) == close {
        return Some(5);
    }
    None
}

/// The dotted-name pattern `[a-z0-9_][a-z0-9_-]*(?:SEP[a-z0-9_-]+)+` anchored at `s`.
pub(crate) fn dotted_at(hay: &[u8], s: usize, defanged: bool) -> Option<usize> {
    let first = at(hay, s);
    if !is_label_byte(first) || first == b'-' {
        return None;
    }
    dotted_from(hay, label_run_end(hay, s), defanged)
}

/// The `(?:SEP[a-z0-9_-]+)+` part of the dotted-name pattern, after a first label ending at
/// `label_end`.
#[inline(always)]
pub(crate) fn dotted_from(hay: &[u8], label_end: usize, defanged: bool) -> Option<usize> {
    if !may_begin_sep(at(hay, label_end), defanged) {
        return None;
    }
    let mut i = label_end;
    let mut seps = 0;
    while let Some(e) = sep_then_label(hay, i, defanged) {
        i = e;
        seps += 1;
    }
    (seps > 0).then_some(i)
}

/// Whether the byte at `i` may begin a dot separator (a cheap necessary condition).
#[inline]
pub(crate) fn may_begin_sep(b: u8, defanged: bool) -> bool {
    if defanged {
        matches!(b, b'.' | b'[' | b'(' | b'{' | b' ')
    } else {
        b == b'.'
    }
}

/// The IPv6 candidate pattern `[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}`
/// anchored at `s` (greedy everywhere; no backtracking can change its outcome because each part
/// is followed by a byte outside its class).
#[cfg(test)]
pub(crate) fn ipv6_at(hay: &[u8], s: usize) -> Option<usize> {
    ipv6_candidate(hay, s).map(|(end, _)| end)
}

/// [`ipv6_at`], and whether the candidate can be an address at all: it holds a `::`, or it has
/// every group (seven colons, or six and a dotted tail). The same necessary condition as
/// `validate::ipv6_canonical`'s first test, read from the counts of this pass: clock times
/// (`17:54:59`) and MAC addresses are refused without another look at their bytes.
#[inline(always)]
pub(crate) fn ipv6_candidate(hay: &[u8], s: usize) -> Option<(usize, bool)> {
    let mut i = s;
    let mut n = 0;
    while n < 4 && is_hex(at(hay, i)) {
        i += 1;
        n += 1;
    }
    let mut groups = 0;
    // A colon right after a colon of the candidate (an empty group between them) is a `::`.
    let (mut double, mut previous_empty) = (false, false);
    while groups < 7 && at(hay, i) == b':' {
        double |= previous_empty;
        i += 1;
        let mut k = 0;
        while k < 4 && is_hex(at(hay, i)) {
            i += 1;
            k += 1;
        }
        previous_empty = k == 0;
        groups += 1;
    }
    if groups < 2 {
        return None;
    }
    let mut dots = 0;
    while dots < 3 && at(hay, i) == b'.' && at(hay, i + 1).is_ascii_digit() {
        i += 1;
        let mut k = 0;
        while k < 3 && at(hay, i).is_ascii_digit() {
            i += 1;
            k += 1;
        }
        dots += 1;
    }
    let complete = (groups == 7 && dots == 0) || (groups == 6 && dots > 0);
    Some((i, double || complete))
}

/// The hash pattern `[0-9a-f]{32}[0-9a-f]*` anchored at `s` (the scanner inlines it; the
/// differential test checks this form).
#[cfg(test)]
pub(crate) fn hash_at(hay: &[u8], s: usize) -> Option<usize> {
    let mut i = s;
    while at(hay, i).is_ascii_hexdigit() {
        i += 1;
    }
    (i - s >= 32).then_some(i)
}

/// The CVE pattern `cve-[0-9]{4}-[0-9]{4,7}` anchored at `s`.
pub(crate) fn cve_at(hay: &[u8], s: usize) -> Option<usize> {
    if !starts_with_ci(hay, s, b"cve-") {
        return None;
    }
    let digits = |from: usize, max: usize| {
        let mut k = 0;
        while k < max && at(hay, from + k).is_ascii_digit() {
            k += 1;
        }
        k
    };
    if digits(s + 4, 4) != 4 || at(hay, s + 8) != b'-' {
        return None;
    }
    let k = digits(s + 9, 7);
    (k >= 4).then_some(s + 9 + k)
}

/// Whether a URL scheme and scheme separator start at `s` (exact: the rest of the URL pattern is
/// optional, so the URL pattern matches at `s` exactly when this holds).
#[inline]
pub(crate) fn url_at(hay: &[u8], s: usize, defanged: bool) -> bool {
    // Every scheme begins with one of these letters; most positions asked about do not.
    matches!(lower(at(hay, s)), b'h' | b's' | b'f' | b't' | b'l')
        && scheme_ends(hay, s, defanged)
            .into_iter()
            .flatten()
            .any(|e| scheme_sep_len(hay, e, defanged).is_some())
}

/// Where a scheme starting at `s` can end, in the pattern's preference order (the optional
/// trailing `s` is greedy): `h[tx]{2}ps?`, `s?f[tx]ps?`, `telnet`, `ldaps?`, `file` (without
/// the `x` forms when not defanged).
fn scheme_ends(hay: &[u8], s: usize, defanged: bool) -> [Option<usize>; 2] {
    let tx = |b: u8| {
        let b = lower(b);
        b == b't' || (defanged && b == b'x')
    };
    let optional_s = |e: usize| {
        if lower(at(hay, e)) == b's' {
            [Some(e + 1), Some(e)]
        } else {
            [Some(e), None]
        }
    };
    match lower(at(hay, s)) {
        b'h' if tx(at(hay, s + 1)) && tx(at(hay, s + 2)) && lower(at(hay, s + 3)) == b'p' => {
            optional_s(s + 4)
        }
        b's' | b'f' => {
            let f = if lower(at(hay, s)) == b's' { s + 1 } else { s };
            if lower(at(hay, f)) == b'f' && tx(at(hay, f + 1)) && lower(at(hay, f + 2)) == b'p' {
                optional_s(f + 3)
            } else if starts_with_ci(hay, s, b"file") {
                [Some(s + 4), None]
            } else {
                [None, None]
            }
        }
        b't' if starts_with_ci(hay, s, b"telnet") => [Some(s + 6), None],
        b'l' if starts_with_ci(hay, s, b"ldap") => optional_s(s + 4),
        _ => [None, None],
    }
}

/// Registry hives in the pattern's order.
const HIVES: [&[u8]; 11] = [
    b"hkey_local_machine",
    b"hkey_current_user",
    b"hkey_classes_root",
    b"hkey_users",
    b"hkey_current_config",
    b"hkey_performance_data",
    b"hklm",
    b"hkcu",
    b"hkcr",
    b"hku",
    b"hkcc",
];

/// Start positions of hives that end exactly at `end` (where `:\` or `\` follows), `>= from`.
pub(crate) fn hive_suffix_starts(hay: &[u8], from: usize, end: usize, out: &mut Vec<usize>) {
    for hive in HIVES {
        if let Some(s) = end.checked_sub(hive.len()) {
            if s >= from && starts_with_ci(hay, s, hive) {
                out.push(s);
            }
        }
    }
}

#[inline]
fn is_lseg_byte(b: u8) -> bool {
    SETS[usize::from(b)] & LSEG != 0
}

/// Whether a match can start at `i`, a byte outside word runs that is in the `START_OTHER`
/// class (`.`, `/`, `\`, `:`, `~`): a necessary condition, decided by the byte after it. From
/// such a byte only these can match: a Windows root `.\`, `..\` or `\\`, a Linux path `./`,
/// `../` or `/` and a segment byte, an IPv6 candidate `:` then a hex digit or `:`, or a
/// Linux path `~`.
#[inline]
pub(crate) fn other_may_start(hay: &[u8], i: usize) -> bool {
    let next = at(hay, i + 1);
    match hay[i] {
        b'.' => matches!(next, b'.' | b'\\' | b'/'),
        b'/' => is_lseg_byte(next),
        b'\\' => next == b'\\',
        b':' => next == b':' || is_hex(next),
        _ => true,
    }
}

/// Whether an e-mail match can go on after a local-part run ending at `run_end`: exact for a
/// local part ending there (an `@`, a defanged `[at]`/`(@)`/... marker, optionally after one
/// space), and `true` before a `.` (the local part may go on with another piece).
#[inline]
pub(crate) fn may_continue_local_part(hay: &[u8], run_end: usize, defanged: bool) -> bool {
    match at(hay, run_end) {
        b'.' | b'@' => true,
        b' ' => defanged && matches!(at(hay, run_end + 1), b'[' | b'(' | b'{'),
        b'[' | b'(' | b'{' => defanged && matches!(at(hay, run_end + 1), b'a' | b'A' | b'@'),
        _ => false,
    }
}

/// End of the e-mail local part `[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*` starting at `s` (which
/// must be a `W` byte).
pub(crate) fn local_part_end(hay: &[u8], s: usize) -> usize {
    let in_w = |b: u8| CLASS[usize::from(b)] & W != 0;
    let mut i = s;
    loop {
        i = crate::block::word_end(hay, i);
        if at(hay, i) == b'.' && in_w(at(hay, i + 1)) {
            i += 1;
        } else {
            return i;
        }
    }
}

/// The parts of a URL as the anchored `url_parts` pattern of `patterns.rs` splits them:
/// `scheme`, `sep`, optional `userinfo` (with its `@`), optional `host`, optional `port`, each
/// a byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UrlParts {
    pub scheme: (usize, usize),
    pub sep: (usize, usize),
    pub userinfo: Option<(usize, usize)>,
    pub host: Option<(usize, usize)>,
    pub port: Option<(usize, usize)>,
}

/// Length of the scheme separator at `i` (`://`, or defanged `[://]`, `[:]//`, `(:)//`,
/// `{:}//`).
fn scheme_sep_len(hay: &[u8], i: usize, defanged: bool) -> Option<usize> {
    if at(hay, i) == b':' && at(hay, i + 1) == b'/' && at(hay, i + 2) == b'/' {
        return Some(3);
    }
    (defanged
        && [&b"[://]"[..], b"[:]//", b"(:)//", b"{:}//"]
            .iter()
            .any(|form| starts_with_ci(hay, i, form)))
    .then_some(5)
}

/// The length of the scheme at `s` when the URL there begins with `https://`, `http://` or
/// `ftp://` written in lower case (most URLs): what [`scheme_ends`] and the separator give for
/// them (the longest scheme first, then `://`), read as one comparison each.
#[inline]
fn plain_scheme_len(hay: &[u8], s: usize) -> Option<usize> {
    let rest = hay.get(s..)?;
    if rest.starts_with(b"https://") {
        Some(5)
    } else if rest.starts_with(b"http://") {
        Some(4)
    } else if rest.starts_with(b"ftp://") {
        Some(3)
    } else {
        None
    }
}

/// Splits the URL starting at `s` in `hay` (cut at the URL candidate's end) into its parts,
/// following the `url_parts` pattern's leftmost-first, greedy choices exactly.
pub(crate) fn url_parts(hay: &[u8], s: usize, defanged: bool) -> Option<UrlParts> {
    let (scheme_end, sep_end) = match plain_scheme_len(hay, s) {
        Some(len) => (s + len, s + len + 3),
        None => scheme_ends(hay, s, defanged)
            .into_iter()
            .flatten()
            .find_map(|e| scheme_sep_len(hay, e, defanged).map(|len| (e, e + len)))?,
    };
    let mut i = sep_end;
    let mut userinfo = None;
    let u = crate::block::userinfo_end(hay, i);
    if u > i && at(hay, u) == b'@' {
        userinfo = Some((i, u + 1));
        i = u + 1;
    }
    let host_end = if at(hay, i) == b'[' {
        let mut r = i + 1;
        while r < hay.len() && (hay[r].is_ascii_hexdigit() || hay[r] == b':' || hay[r] == b'.') {
            r += 1;
        }
        if r == i + 1 {
            None
        } else if at(hay, r) == b']' {
            Some(r + 1)
        } else if at(hay, r) == b'%' {
            let mut z = r + 1;
            while z < hay.len()
                && (hay[z].is_ascii_alphanumeric() || matches!(hay[z], b'_' | b'.' | b'~' | b'-'))
            {
                z += 1;
            }
            (z > r + 1 && at(hay, z) == b']').then_some(z + 1)
        } else {
            None
        }
    } else {
        None
    };
    // The bracketed form failed or is absent: labels (`[` cannot start a label).
    let host_end = host_end.or_else(|| {
        is_label_byte(at(hay, i)).then(|| {
            let mut e = label_run_end(hay, i);
            while let Some(next) = sep_then_label(hay, e, defanged) {
                e = next;
            }
            e
        })
    });
    let host = host_end.map(|e| (i, e));
    if let Some(e) = host_end {
        i = e;
    }
    let mut port = None;
    if at(hay, i) == b':' && at(hay, i + 1).is_ascii_digit() {
        let mut k = 0;
        while k < 5 && at(hay, i + 1 + k).is_ascii_digit() {
            k += 1;
        }
        port = Some((i, i + 1 + k));
    }
    Some(UrlParts {
        scheme: (s, scheme_end),
        sep: (scheme_end, sep_end),
        userinfo,
        host,
        port,
    })
}

/// The URL pattern anchored at `s`: [`url_parts`] then the optional rest
/// `[/?#][^\s\x00-\x1f\x7f"'<>]*` (every part is optional and taken greedily when it can match).
#[cfg(test)]
pub(crate) fn url_end(hay: &[u8], s: usize, defanged: bool) -> Option<usize> {
    url_match(hay, s, defanged).map(|(_, end)| end)
}

/// [`url_end`] with the parts [`url_parts`] found: they are the parts of the URL cut at its end
/// too (every part lies before the end, and cutting the text only ends a failing look-ahead
/// earlier), so the scanner hands them to the URL handler instead of splitting the URL again.
pub(crate) fn url_match(hay: &[u8], s: usize, defanged: bool) -> Option<(UrlParts, usize)> {
    let parts = url_parts(hay, s, defanged)?;
    let mut i = [Some(parts.sep), parts.userinfo, parts.host, parts.port]
        .iter()
        .flatten()
        .map(|g| g.1)
        .max()
        .unwrap_or(parts.sep.1);
    if matches!(at(hay, i), b'/' | b'?' | b'#') {
        i = crate::block::url_rest_end(hay, i + 1);
    }
    Some((parts, i))
}

/// (The byte loop of targets without 128-bit SIMD, and the reference of its unit test.)
#[cfg_attr(all(not(test), hg_simd_blocks), allow(dead_code))]
#[inline]
pub(crate) fn is_url_rest_byte(b: u8) -> bool {
    SETS[usize::from(b)] & URL_REST != 0
}

/// Length of `[at]`, `(at)`, `{at}`, `[@]`, `(@)` or `{@}` at `i`.
fn bracketed_at_len(hay: &[u8], i: usize) -> Option<usize> {
    let close = match at(hay, i) {
        b'[' => b']',
        b'(' => b')',
        b'{' => b'}',
        _ => return None,
    };
    if starts_with_ci(hay, i + 1, b"at") && at(hay, i + 3) == close {
        return Some(4);
    }
    if at(hay, i + 1) == b'@' && at(hay, i + 2) == close {
        return Some(3);
    }
    None
}

/// Whether an `@` marker of the e-mail pattern may begin at `i`: an `@`, or with defanged forms
/// an opening bracket or a space and then one (what [`email_end`] looks for at a local part's
/// end).
///
/// A necessary condition that also holds for chains: if it fails at the first byte `x` after
/// `s` that is neither a word byte nor a dot, no e-mail starts anywhere in `s..x`. The local
/// part from such a start ends at `x` or at a dot before it, and a dot begins no marker.
#[inline]
pub(crate) fn may_begin_at_marker(hay: &[u8], i: usize, defanged: bool) -> bool {
    match at(hay, i) {
        b'@' => true,
        b'[' | b'(' | b'{' => defanged,
        b' ' => defanged && matches!(at(hay, i + 1), b'[' | b'(' | b'{'),
        _ => false,
    }
}

/// The e-mail pattern anchored at `s`, given the end of its local part (`local_part_end(s)`):
/// the `@` marker alternatives in order, then a dotted name.
pub(crate) fn email_end(hay: &[u8], local_end: usize, defanged: bool) -> Option<usize> {
    let i = local_end;
    if defanged {
        let lead = usize::from(at(hay, i) == b' ');
        if let Some(len) = bracketed_at_len(hay, i + lead) {
            let k = i + lead + len;
            if at(hay, k) == b' ' {
                if let Some(e) = dotted_at(hay, k + 1, defanged) {
                    return Some(e);
                }
            }
            if let Some(e) = dotted_at(hay, k, defanged) {
                return Some(e);
            }
        }
    }
    if at(hay, i) == b'@' {
        return dotted_at(hay, i + 1, defanged);
    }
    None
}

/// In the URL userinfo class `[a-z0-9\-._~!$&'()*+,;=:%]` (any case).
/// (The byte loop of targets without 128-bit SIMD, and the reference of its unit test.)
#[cfg_attr(all(not(test), hg_simd_blocks), allow(dead_code))]
#[inline]
pub(crate) fn is_userinfo_byte(b: u8) -> bool {
    SETS[usize::from(b)] & USERINFO != 0
}

/// Whether `b` is a hex digit (the byte loop's test for `block::hex_end`).
#[cfg_attr(all(not(test), hg_simd_blocks), allow(dead_code))]
#[inline]
pub(crate) fn is_hex_byte(b: u8) -> bool {
    is_hex(b)
}

/// In the Windows path segment class `[^\\/:*?"'<>|,;\x00-\x20\x7f]`.
/// (The byte loop of targets without 128-bit SIMD, and the reference of its unit test.)
#[cfg_attr(all(not(test), hg_simd_blocks), allow(dead_code))]
#[inline]
pub(crate) fn is_win_seg_byte(b: u8) -> bool {
    SETS[usize::from(b)] & WIN_SEG != 0
}

/// The tail shared by Windows paths and registry keys, `(?:FOLDER\\)*SEG*` from `i`, where
/// `FOLDER` is `(?:NODOT+\x20)*SEG+`: each folder is words joined by single spaces, every word
/// before a space free of dots, ended by a backslash; then a last segment without spaces.
fn win_tail_end(hay: &[u8], mut i: usize) -> usize {
    'folders: loop {
        let mut j = i;
        loop {
            let word = j;
            j = crate::block::win_seg_end(hay, j);
            if j == word {
                break 'folders;
            }
            match at(hay, j) {
                b'\\' => {
                    i = j + 1;
                    continue 'folders;
                }
                b' ' if j < hay.len() && !hay[word..j].contains(&b'.') => j += 1,
                _ => break 'folders,
            }
        }
    }
    crate::block::win_seg_end(hay, i)
}

/// End of the Windows path root at `s`: `\\?\C:\`, `C:\`, `\\server\`, `%ENV%\`, `.\` or
/// `..\`, in the pattern's order.
fn windows_root_end(hay: &[u8], s: usize) -> Option<usize> {
    match at(hay, s) {
        b'\\' => {
            if at(hay, s + 1) != b'\\' {
                return None;
            }
            if at(hay, s + 2) == b'?'
                && at(hay, s + 3) == b'\\'
                && at(hay, s + 4).is_ascii_alphabetic()
                && at(hay, s + 5) == b':'
                && at(hay, s + 6) == b'\\'
            {
                return Some(s + 7);
            }
            let mut i = s + 2;
            while i < hay.len()
                && matches!(lower(hay[i]), b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'$' | b'@' | b'-')
            {
                i += 1;
            }
            (i > s + 2 && at(hay, i) == b'\\').then_some(i + 1)
        }
        b'%' => {
            let first = lower(at(hay, s + 1));
            if !(first.is_ascii_lowercase() || first == b'_') {
                return None;
            }
            let mut i = s + 2;
            while i < hay.len()
                && matches!(lower(hay[i]), b'a'..=b'z' | b'0'..=b'9' | b'_' | b'(' | b')')
            {
                i += 1;
            }
            (at(hay, i) == b'%' && at(hay, i + 1) == b'\\').then_some(i + 2)
        }
        b'.' => {
            if at(hay, s + 1) == b'.' && at(hay, s + 2) == b'\\' {
                Some(s + 3)
            } else if at(hay, s + 1) == b'\\' {
                Some(s + 2)
            } else {
                None
            }
        }
        b if b.is_ascii_alphabetic() => {
            (at(hay, s + 1) == b':' && at(hay, s + 2) == b'\\').then_some(s + 3)
        }
        _ => None,
    }
}

/// The Windows path pattern anchored at `s`.
pub(crate) fn windows_path_end(hay: &[u8], s: usize) -> Option<usize> {
    windows_root_end(hay, s).map(|root| win_tail_end(hay, root))
}

/// The registry key pattern anchored at `s`: a hive (first in the pattern's order that fits),
/// `:?\`, then the Windows path tail.
pub(crate) fn registry_end(hay: &[u8], s: usize) -> Option<usize> {
    if lower(at(hay, s)) != b'h' || lower(at(hay, s + 1)) != b'k' {
        return None;
    }
    HIVES.iter().find_map(|hive| {
        if !starts_with_ci(hay, s, hive) {
            return None;
        }
        let e = s + hive.len();
        if at(hay, e) == b':' && at(hay, e + 1) == b'\\' {
            Some(win_tail_end(hay, e + 2))
        } else if at(hay, e) == b'\\' {
            Some(win_tail_end(hay, e + 1))
        } else {
            None
        }
    })
}

/// End of `(?:/LSEG)*` (greedy) from `i`, with the number of segments taken.
fn linux_segments_end(hay: &[u8], mut i: usize) -> (usize, usize) {
    let mut count = 0;
    while at(hay, i) == b'/' && is_lseg_byte(at(hay, i + 1)) {
        i += 1;
        while i < hay.len() && is_lseg_byte(hay[i]) {
            i += 1;
        }
        count += 1;
    }
    (i, count)
}

/// The Linux path pattern anchored at `s`:
/// `(?:(?:~[a-z0-9_.-]*|\.{1,2})/LSEG(?:/LSEG)*|/LSEG(?:/LSEG)+)/?`.
pub(crate) fn linux_path_end(hay: &[u8], s: usize) -> Option<usize> {
    let (end, segments, min) = match at(hay, s) {
        b'~' => {
            let mut i = s + 1;
            while matches!(lower(at(hay, i)), b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-') {
                i += 1;
            }
            let (end, n) = linux_segments_end(hay, i);
            (end, n, 1)
        }
        b'.' => {
            // `\.{1,2}` is greedy: two dots when there are two, else one.
            let slash = if at(hay, s + 1) == b'.' { s + 2 } else { s + 1 };
            let (end, n) = linux_segments_end(hay, slash);
            if n == 0 && slash == s + 2 {
                // Backtracking to one dot puts a `.` where the `/` must be: no match.
                return None;
            }
            (end, n, 1)
        }
        b'/' => {
            let (end, n) = linux_segments_end(hay, s);
            (end, n, 2)
        }
        _ => return None,
    };
    if segments < min {
        return None;
    }
    Some(if at(hay, end) == b'/' { end + 1 } else { end })
}
