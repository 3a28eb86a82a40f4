//! Validators: what a candidate found by the patterns must satisfy to be reported.

use std::net::Ipv6Addr;
use std::str::FromStr;

use psl::{Info, List, Psl, Type};

/// Longest domain name in presentation form (RFC 1035 limits 255 octets on the wire).
pub(crate) const MAX_DOMAIN_LEN: usize = 253;
/// Longest label (RFC 1035).
pub(crate) const MAX_LABEL_LEN: usize = 63;

/// Common file-name extensions. A bare two-label name (`name.ext`, not inside a URL or an
/// e-mail address and not written defanged) whose last label is one of these is a file name, not
/// a domain, even when the extension is also a public suffix (`.zip`, `.mov`, `.sh`, `.py`, ...).
/// Three or more labels (`cdn.evil.zip`), a URL host (`http://evil.zip/`), an e-mail domain or a
/// defanged form (`evil[.]zip`) are read as domains.
pub(crate) const FILE_EXTENSIONS: &[&str] = &[
    "7z", "apk", "app", "asp", "aspx", "avi", "bak", "bat", "bin", "bmp", "bz2", "c", "cab", "cfg",
    "class", "cmd", "conf", "cpl", "cpp", "cs", "css", "csv", "dat", "db", "deb", "dll", "dmg",
    "doc", "docm", "docx", "drv", "elf", "eml", "exe", "gif", "go", "gz", "h", "hta", "htm",
    "html", "ico", "img", "ini", "iso", "jar", "java", "jpeg", "jpg", "js", "jse", "json", "jsp",
    "ko", "lnk", "log", "md", "mov", "mp3", "mp4", "msc", "msg", "msi", "msp", "ocx", "one", "out",
    "pdb", "pdf", "php", "pif", "pl", "png", "ppt", "pptm", "pptx", "ps", "ps1", "psd1", "psm1",
    "py", "pyc", "rar", "rb", "reg", "rpm", "rs", "rtf", "run", "scr", "sh", "so", "sql", "svg",
    "sys", "tar", "tgz", "tmp", "ts", "txt", "vbe", "vbs", "vhd", "vhdx", "wav", "wsf", "xls",
    "xlsm", "xlsx", "xml", "xz", "yaml", "yml", "zip",
];

/// `ext` (at most 8 bytes) packed into a `u64`, first byte most significant and zero-padded:
/// for names without NUL bytes the numbers sort like the names.
const fn pack_extension(ext: &[u8]) -> u64 {
    let mut packed = 0u64;
    let mut i = 0;
    while i < 8 {
        packed <<= 8;
        if i < ext.len() {
            packed |= ext[i] as u64;
        }
        i += 1;
    }
    packed
}

/// [`FILE_EXTENSIONS`] packed by [`pack_extension`], in the same (sorted) order: a look-up is a
/// binary search over integers instead of string comparisons.
static PACKED_FILE_EXTENSIONS: [u64; FILE_EXTENSIONS.len()] = {
    let mut packed = [0u64; FILE_EXTENSIONS.len()];
    let mut i = 0;
    while i < packed.len() {
        packed[i] = pack_extension(FILE_EXTENSIONS[i].as_bytes());
        i += 1;
    }
    packed
};

/// Whether `ext` (lower-case) is in [`FILE_EXTENSIONS`].
pub(crate) fn is_file_extension(ext: &str) -> bool {
    ext.len() <= 8
        && PACKED_FILE_EXTENSIONS
            .binary_search(&pack_extension(ext.as_bytes()))
            .is_ok()
}

/// The outcome of checking a dotted name made only of digits and dots.
///
/// Exactly four decimal parts of 1-3 digits, each 0-255. A fifth part (`1.2.3.4.5`) means a
/// version number or an OID, not an address. Leading zeros are read as decimal and dropped
/// from the canonical form; the common form (no leading zero) is its own canonical form and is
/// copied whole. On x86_64 an address (at most 15 bytes) is classified as one 16-byte block and
/// its parts are found from the dot positions, without a loop whose exit depends on the digits
/// (octet lengths vary unpredictably); elsewhere byte by byte (same results, unit-tested).
pub(crate) fn ipv4_from_dotted(canonical_dotted: &str, out: &mut String) -> bool {
    ipv4_parse(canonical_dotted, out, true)
}

/// The canonical form of the IPv4 address `dotted` (see [`ipv4_from_dotted`]): `dotted` itself
/// when it has no leading zero (most addresses: nothing is copied), else the form written into
/// `out`.
pub(crate) fn ipv4_canonical<'a>(dotted: &'a str, out: &'a mut String) -> Option<&'a str> {
    if !ipv4_parse(dotted, out, false) {
        return None;
    }
    // A canonical address is never empty: an empty `out` means `dotted` is its own.
    Some(if out.is_empty() { dotted } else { out.as_str() })
}

/// [`ipv4_from_dotted`], writing an address without leading zeros into `out` only when
/// `copy_plain`.
#[inline]
fn ipv4_parse(canonical_dotted: &str, out: &mut String, copy_plain: bool) -> bool {
    #[cfg(target_arch = "x86_64")]
    return ipv4_from_dotted_block(canonical_dotted, out, copy_plain);
    #[cfg(not(target_arch = "x86_64"))]
    return ipv4_from_dotted_bytewise(canonical_dotted, out, copy_plain);
}

/// [`ipv4_from_dotted`] by one 16-byte block (x86_64).
#[cfg_attr(not(any(test, target_arch = "x86_64")), allow(dead_code))]
#[inline(always)]
fn ipv4_from_dotted_block(canonical_dotted: &str, out: &mut String, copy_plain: bool) -> bool {
    out.clear();
    let bytes = canonical_dotted.as_bytes();
    let n = bytes.len();
    if !(7..=15).contains(&n) {
        return false;
    }
    let mut block = [0u8; 16];
    block[..n].copy_from_slice(bytes);
    match ipv4_block_values(block, n) {
        Some((values, leading_zero)) => {
            push_ipv4(out, canonical_dotted, &values, leading_zero, copy_plain);
            true
        }
        None => false,
    }
}

/// The four values of the IPv4 address in the first `n` bytes of `block` (7 to 15; the bytes
/// after them are ignored) and whether a part has a leading zero.
#[cfg_attr(not(any(test, target_arch = "x86_64")), allow(dead_code))]
#[inline(always)]
fn ipv4_block_values(block: [u8; 16], n: usize) -> Option<([u16; 4], bool)> {
    let own = (1u32 << n) - 1;
    let (digits, dots) = crate::block::digit_dot_masks(block);
    let (digits, dots) = (digits & own, dots & own);
    if digits | dots != own || dots.count_ones() != 3 {
        return None;
    }
    let first = dots.trailing_zeros() as usize;
    let rest = dots & (dots - 1);
    let second = rest.trailing_zeros() as usize;
    let third = (rest & (rest - 1)).trailing_zeros() as usize;
    let bounds = [
        (0, first),
        (first + 1, second),
        (second + 1, third),
        (third + 1, n),
    ];
    let digit = |k: usize| u16::from(block[k % 16].wrapping_sub(b'0'));
    let mut values = [0u16; 4];
    let mut leading_zero = false;
    for (value, &(start, end)) in values.iter_mut().zip(&bounds) {
        let len = end - start;
        if len == 0 || len > 3 {
            return None;
        }
        // The last three bytes before `end`, the ones before the part weighted by zero
        // (`end - 3` may wrap: those bytes are never weighted).
        let (a, b, c) = (digit(end + 13), digit(end + 14), digit(end + 15));
        *value = c + u16::from(len >= 2) * 10 * b + u16::from(len >= 3) * 100 * a;
        if *value > 255 {
            return None;
        }
        leading_zero |= len > 1 && block[start] == b'0';
    }
    Some((values, leading_zero))
}

/// [`ipv4_from_dotted`] byte by byte: what wasm runs (the block form measured about 4% slower
/// there, as a whole kernel op, while it is faster natively), and the reference of the block
/// form's unit test.
#[cfg_attr(all(not(test), target_arch = "x86_64"), allow(dead_code))]
fn ipv4_from_dotted_bytewise(canonical_dotted: &str, out: &mut String, copy_plain: bool) -> bool {
    // Exactly four decimal parts of 1-3 digits, each 0-255. A fifth part (`1.2.3.4.5`) means a
    // version number or an OID, not an address. Leading zeros are read as decimal and dropped
    // from the canonical form. One pass over the bytes; the common form (no leading zero) is
    // its own canonical form and is copied whole.
    out.clear();
    let bytes = canonical_dotted.as_bytes();
    let mut values = [0u16; 4];
    let mut parts = 0;
    let mut leading_zero = false;
    let mut i = 0;
    loop {
        let part_start = i;
        let mut value = 0u16;
        // Up to four digits are read so that a fourth one is seen (and refused).
        while i < bytes.len() && bytes[i].is_ascii_digit() && i - part_start < 4 {
            value = value * 10 + u16::from(bytes[i] - b'0');
            i += 1;
        }
        let len = i - part_start;
        if len == 0 || len > 3 || value > 255 {
            return false;
        }
        leading_zero |= len > 1 && bytes[part_start] == b'0';
        values[parts] = value;
        parts += 1;
        if i == bytes.len() {
            break;
        }
        if bytes[i] != b'.' || parts == 4 {
            return false;
        }
        i += 1;
    }
    if parts != 4 {
        return false;
    }
    push_ipv4(out, canonical_dotted, &values, leading_zero, copy_plain);
    true
}

/// Writes a parsed address: the text as written when no part has a leading zero (it is its own
/// canonical form), else the four values in decimal.
fn push_ipv4(
    out: &mut String,
    dotted: &str,
    values: &[u16; 4],
    leading_zero: bool,
    copy_plain: bool,
) {
    if !leading_zero {
        if copy_plain {
            out.push_str(dotted);
        }
        return;
    }
    for (k, value) in values.iter().enumerate() {
        if k > 0 {
            out.push('.');
        }
        push_decimal(out, *value);
    }
}

fn push_decimal(out: &mut String, value: u16) {
    if value >= 100 {
        out.push(char::from(b'0' + (value / 100) as u8));
    }
    if value >= 10 {
        out.push(char::from(b'0' + (value / 10 % 10) as u8));
    }
    out.push(char::from(b'0' + (value % 10) as u8));
}

/// Parses an IPv6 address (any RFC 4291 text form, including `::` and an embedded dotted IPv4
/// tail) and writes its RFC 5952 form (lower case, longest zero run compressed).
pub(crate) fn ipv6_canonical(text: &str, out: &mut String) -> bool {
    out.clear();
    if text.len() > 45 || text == "::" {
        return false;
    }
    // Without a `::` every group is written: eight (seven colons), or six and a dotted IPv4
    // tail (six colons). Clock times and MAC addresses fail here without a parse. One pass
    // over the bytes counts the colons and sees `::` and `.`.
    let bytes = text.as_bytes();
    let (mut colons, mut double, mut dotted) = (0, false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' {
            colons += 1;
            double |= i > 0 && bytes[i - 1] == b':';
        }
        dotted |= b == b'.';
    }
    let complete = (colons == 7 && !dotted) || (colons == 6 && dotted);
    if !double && !complete {
        return false;
    }
    // The common form (hex groups and colons only) is read here; every other text, and every
    // text this reading refuses, goes to the standard parser, which decides.
    let addr = match ipv6_hex_groups(bytes) {
        Some(addr) => addr,
        None => match Ipv6Addr::from_str(text) {
            Ok(addr) => addr,
            Err(_) => return false,
        },
    };
    write_rfc5952(addr, out);
    true
}

/// An IPv6 address written with hex groups and colons only: one to eight groups of 1-4 hex
/// digits (any case) separated by `:`, with at most one `::` standing for one or more zero
/// groups (eight groups without it). `None` for anything else (a dotted tail, a zone, a stray
/// colon): the caller then asks `Ipv6Addr`'s parser, which accepts every address read here
/// with the same value (a unit test compares the two on seeded strings). About a tenth of the
/// standard parser's instructions.
fn ipv6_hex_groups(bytes: &[u8]) -> Option<Ipv6Addr> {
    let n = bytes.len();
    let (mut head, mut head_len) = ([0u16; 8], 0usize);
    let (mut tail, mut tail_len) = ([0u16; 8], 0usize);
    let mut double = false;
    let mut i = 0;
    if bytes.starts_with(b"::") {
        double = true;
        i = 2;
    }
    while i < n {
        let start = i;
        let mut value = 0u32;
        // A fifth digit is read so that it is seen (and refused).
        while i < n && i - start < 5 {
            match char::from(bytes[i]).to_digit(16) {
                Some(digit) => value = value << 4 | digit,
                None => break,
            }
            i += 1;
        }
        if !(1..=4).contains(&(i - start)) || head_len + tail_len == 8 {
            return None;
        }
        let group = u16::try_from(value).ok()?;
        if double {
            tail[tail_len] = group;
            tail_len += 1;
        } else {
            head[head_len] = group;
            head_len += 1;
        }
        if i == n {
            break;
        }
        if bytes[i] != b':' {
            return None;
        }
        i += 1;
        if bytes.get(i) == Some(&b':') {
            if double {
                return None;
            }
            double = true;
            i += 1;
        } else if i == n {
            return None;
        }
    }
    let groups = head_len + tail_len;
    if (double && groups > 7) || (!double && groups != 8) {
        return None;
    }
    let mut segments = [0u16; 8];
    segments[..head_len].copy_from_slice(&head[..head_len]);
    segments[8 - tail_len..].copy_from_slice(&tail[..tail_len]);
    Some(Ipv6Addr::from(segments))
}

/// Writes `addr` as `Ipv6Addr`'s `Display` does (RFC 5952: lower-case hex without leading
/// zeros, the first longest run of two or more zero groups as `::`, IPv4-mapped addresses with
/// a dotted tail), without the formatting machinery (a unit test compares the two).
fn write_rfc5952(addr: Ipv6Addr, out: &mut String) {
    if let Some(v4) = addr.to_ipv4_mapped() {
        out.push_str("::ffff:");
        for (k, octet) in v4.octets().iter().enumerate() {
            if k > 0 {
                out.push('.');
            }
            push_decimal(out, u16::from(*octet));
        }
        return;
    }
    let segments = addr.segments();
    let (mut best_start, mut best_len, mut run_start, mut run_len) = (0, 0, 0, 0);
    for (i, &segment) in segments.iter().enumerate() {
        if segment == 0 {
            if run_len == 0 {
                run_start = i;
            }
            run_len += 1;
            if run_len > best_len {
                (best_start, best_len) = (run_start, run_len);
            }
        } else {
            run_len = 0;
        }
    }
    let push_groups = |out: &mut String, groups: &[u16]| {
        for (k, &group) in groups.iter().enumerate() {
            if k > 0 {
                out.push(':');
            }
            push_hex(out, group);
        }
    };
    if best_len > 1 {
        push_groups(out, &segments[..best_start]);
        out.push_str("::");
        push_groups(out, &segments[best_start + best_len..]);
    } else {
        push_groups(out, &segments);
    }
}

/// Lower-case hex without leading zeros.
fn push_hex(out: &mut String, value: u16) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut shift = 12;
    while shift > 0 && value >> shift == 0 {
        shift -= 4;
    }
    loop {
        out.push(char::from(DIGITS[usize::from((value >> shift) & 0xf)]));
        if shift == 0 {
            break;
        }
        shift -= 4;
    }
}

/// Where a domain candidate was found: this decides whether the file-extension rule applies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum DomainContext {
    /// A bare name in the text.
    Bare,
    /// The host of a URL, the domain of an e-mail address or the server of a UNC path.
    Host,
}

/// Checks a refanged, lower-case dotted name as a domain.
///
/// Syntax: 2+ labels (a URL host with `ignore_tlds` may have one), each 1-63 of `a-z 0-9 - _`
/// without a leading or trailing hyphen, at most 253 characters, last label alphabetic (or an
/// IDN `xn--` label). Then, unless `ignore_tlds`, the public suffix list must know the suffix and
/// a label must stand before an ICANN suffix (`co.uk` alone is not a domain; a private suffix
/// such as `github.io` is). Then the file-extension rule for bare names (see
/// [`FILE_EXTENSIONS`]).
pub(crate) fn is_domain(
    name: &str,
    context: DomainContext,
    defanged: bool,
    ignore_tlds: bool,
) -> bool {
    if name.is_empty() || name.len() > MAX_DOMAIN_LEN {
        return false;
    }
    // One pass over the labels: 1-63 bytes of `a-z 0-9 - _`, no hyphen at either end.
    let bytes = name.as_bytes();
    let mut labels = 0usize;
    let mut label_start = 0usize;
    loop {
        let mut j = label_start;
        while j < bytes.len() && bytes[j] != b'.' {
            if !crate::fast::is_dns_label_byte(bytes[j]) {
                return false;
            }
            j += 1;
        }
        let len = j - label_start;
        if len == 0 || len > MAX_LABEL_LEN || bytes[label_start] == b'-' || bytes[j - 1] == b'-' {
            return false;
        }
        labels += 1;
        if j == bytes.len() {
            break;
        }
        label_start = j + 1;
    }
    domain_after_labels(
        name,
        (labels, label_start, None),
        context,
        defanged,
        ignore_tlds,
    )
}

/// The rules of [`is_domain`] after its label syntax: for a name whose `labels` labels are
/// known to be 1-63 bytes of `a-z 0-9 - _` without a leading or trailing hyphen (the last one
/// starting at `last_start`), and whose length is at most 253. `dots`, when known, is the
/// name's dot positions as bits (bit `k` for byte `k`; names of at most 64 bytes): the public
/// suffix list then reads the labels from it instead of searching the bytes for dots.
pub(crate) fn domain_after_labels(
    name: &str,
    (labels, last_start, dots): (usize, usize, Option<u64>),
    context: DomainContext,
    defanged: bool,
    ignore_tlds: bool,
) -> bool {
    // Labels are ASCII, so this is the name's last label as text.
    let last = &name[last_start..];
    // (Neither form holds a `_`: letters only, or an IDN label checked for it.)
    let tld_ok = last.bytes().all(|b| b.is_ascii_lowercase())
        || (last.starts_with("xn--") && last.len() > 4 && !last.contains('_'));
    if !tld_ok {
        return false;
    }
    if labels < 2 && !(ignore_tlds && context == DomainContext::Host) {
        return false;
    }
    // The file-name rule needs no look-up, so it goes first (both rules must pass).
    if context == DomainContext::Bare && !defanged && labels == 2 && is_file_extension(last) {
        return false;
    }
    if !ignore_tlds {
        // What `psl::suffix` reports (a name here never ends with a dot): the suffix's
        // length and type, none when the list does not know it.
        let bytes = name.as_bytes();
        let Info { len, typ } = List.find(LabelsFromRight {
            name: bytes,
            end: bytes.len(),
            dots,
            done: false,
        });
        match typ {
            _ if len == 0 => return false,
            None => return false,
            Some(Type::Icann) if len == name.len() => return false,
            Some(_) => {}
        }
    }
    true
}

/// The labels of a name from the last to the first, cut at the dots of a bit mask when one is
/// known, else at the dots found by searching the bytes. One iterator type for both: psl's
/// `find` is generic over it and its generated matcher is large (about 0.9 MB of wasm a copy).
struct LabelsFromRight<'a> {
    name: &'a [u8],
    /// Where the next label (going left) ends.
    end: usize,
    /// The dots left of `end` as bits, when known (names of at most 64 bytes).
    dots: Option<u64>,
    done: bool,
}

impl<'a> Iterator for LabelsFromRight<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        let dot = match &mut self.dots {
            Some(0) => None,
            Some(dots) => {
                let dot = 63 - dots.leading_zeros() as usize;
                *dots &= !(1u64 << dot);
                Some(dot)
            }
            None => self.name.get(..self.end)?.iter().rposition(|&b| b == b'.'),
        };
        let Some(dot) = dot else {
            self.done = true;
            return self.name.get(..self.end);
        };
        let label = self.name.get(dot + 1..self.end);
        self.end = dot;
        label
    }
}

/// What one pass over a name written only with `[A-Za-z0-9_.-]` tells the validators: a URL
/// host, an e-mail domain or a UNC server written plainly (no defanged marker) is checked from
/// these facts instead of scanning it once for markers, once more for digits and again for its
/// label syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PlainName {
    /// Whether it holds an upper-case letter (its canonical form is then a lower-cased copy).
    pub upper: bool,
    /// Whether it is made only of digits and dots.
    pub numeric: bool,
    /// The number of dot-separated labels.
    labels: usize,
    /// Where the last label starts.
    last_start: usize,
    /// Whether every label has 1-63 bytes and no hyphen at either end.
    labels_ok: bool,
    /// The dot positions as bits, for names of at most 64 bytes.
    dots: Option<u64>,
}

/// Bits of [`NAME_CLASS`]: a byte allowed in a plain name (`N_NAME`), an upper-case letter, a
/// letter, `_` or `-` (not numeric), a dot.
const N_NAME: u8 = 1;
const N_UPPER: u8 = 2;
const N_NON_NUMERIC: u8 = 4;
const N_DOT: u8 = 8;

const fn name_class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'0'..=b'9' => N_NAME,
            b'a'..=b'z' | b'_' | b'-' => N_NAME | N_NON_NUMERIC,
            b'A'..=b'Z' => N_NAME | N_NON_NUMERIC | N_UPPER,
            b'.' => N_NAME | N_DOT,
            _ => 0,
        };
        b += 1;
    }
    t
}

static NAME_CLASS: [u8; 256] = name_class_table();

/// Whether `bytes[start..end]` is a label of 1-63 bytes without a hyphen at either end.
#[inline]
fn label_ok(bytes: &[u8], start: usize, end: usize) -> bool {
    (1..=MAX_LABEL_LEN).contains(&end.wrapping_sub(start))
        && bytes[start] != b'-'
        && bytes[end - 1] != b'-'
}

/// The [`PlainName`] facts of `bytes`, or `None` when a byte lies outside `[A-Za-z0-9_.-]` (a
/// defanged marker, a space: the name then goes the general way).
///
/// A name of at most 64 bytes (nearly all) is classified 16 bytes at a time and its labels are
/// checked on the bit masks, without a branch per byte or per label: no two dots in a row or at
/// either end (no empty label), no hyphen next to a dot or at either end, and at least one dot
/// when the name is 64 bytes long (no label longer than 63).
///
/// The name is `hay[start..end]`: the blocks are read from `hay` itself (the bytes after the
/// name are left out of the masks), so no copy is made except at the end of `hay`.
#[inline(always)]
pub(crate) fn plain_name(hay: &[u8], start: usize, end: usize) -> Option<PlainName> {
    let bytes = hay.get(start..end)?;
    let n = bytes.len();
    if n == 0 || n > 64 {
        return plain_name_bytewise(bytes);
    }
    let bits = crate::block::name_bits(hay, start, end);
    if bits.outside != 0 {
        return None;
    }
    let (dots, hyphens) = (bits.dot, bits.hyphen);
    let last = 1u64 << (n - 1);
    let ends = (dots << 1) | 1 | (dots >> 1) | last;
    let labels_ok =
        dots & (1 | last | (dots >> 1)) == 0 && hyphens & ends == 0 && (n < 64 || dots != 0);
    Some(PlainName {
        upper: bits.upper != 0,
        numeric: bits.non_numeric == 0,
        labels: dots.count_ones() as usize + 1,
        last_start: if dots == 0 {
            0
        } else {
            64 - dots.leading_zeros() as usize
        },
        labels_ok,
        dots: Some(dots),
    })
}

/// [`plain_name`] byte by byte (names longer than 64 bytes, and the reference of its test).
fn plain_name_bytewise(bytes: &[u8]) -> Option<PlainName> {
    let mut seen = 0u8;
    let (mut labels, mut last_start, mut labels_ok) = (1usize, 0usize, true);
    let mut dots = 0u64;
    for (k, &b) in bytes.iter().enumerate() {
        let class = NAME_CLASS[usize::from(b)];
        if class == 0 {
            return None;
        }
        seen |= class;
        if class & N_DOT != 0 {
            if k < 64 {
                dots |= 1 << k;
            }
            labels_ok &= label_ok(bytes, last_start, k);
            labels += 1;
            last_start = k + 1;
        }
    }
    labels_ok &= label_ok(bytes, last_start, bytes.len());
    Some(PlainName {
        upper: seen & N_UPPER != 0,
        numeric: seen & N_NON_NUMERIC == 0,
        labels,
        last_start,
        labels_ok,
        dots: (bytes.len() <= 64).then_some(dots),
    })
}

impl PlainName {
    /// Whether the name has more than one label.
    pub(crate) fn is_dotted(self) -> bool {
        self.labels > 1
    }

    /// [`is_domain`] of the name these facts describe, given in lower case (`lower`: the name
    /// itself, or its lower-cased copy when it holds upper-case letters).
    pub(crate) fn is_domain(
        self,
        lower: &str,
        context: DomainContext,
        defanged: bool,
        ignore_tlds: bool,
    ) -> bool {
        self.labels_ok
            && lower.len() <= MAX_DOMAIN_LEN
            && domain_after_labels(
                lower,
                (self.labels, self.last_start, self.dots),
                context,
                defanged,
                ignore_tlds,
            )
    }
}

/// The hash type for a run of hex digits of this length.
pub(crate) fn hash_type_for_len(len: usize) -> Option<crate::IocType> {
    match len {
        32 => Some(crate::IocType::Md5Hash),
        40 => Some(crate::IocType::Sha1Hash),
        64 => Some(crate::IocType::Sha256Hash),
        128 => Some(crate::IocType::Sha512Hash),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The labels read from the dot mask are the labels `rsplit` gives, in the same order.
    #[test]
    fn labels_from_dot_mask() {
        for name in [
            "a",
            "a.b",
            "www.example.co.uk",
            "x-1.y_2.z",
            "a.b.c.d.e.f.g.h.i.j.k.l.m",
        ] {
            let facts = plain_name(name.as_bytes(), 0, name.len()).expect("plain");
            let labels = |dots| -> Vec<&[u8]> {
                LabelsFromRight {
                    name: name.as_bytes(),
                    end: name.len(),
                    dots,
                    done: false,
                }
                .collect()
            };
            let split: Vec<&[u8]> = name.as_bytes().rsplit(|&b| b == b'.').collect();
            assert_eq!(
                labels(Some(facts.dots.expect("short name"))),
                split,
                "{name}"
            );
            assert_eq!(labels(None), split, "{name}");
        }
    }

    /// The block parser against the byte-by-byte one on strings of digits and dots (and a few
    /// other bytes) of every length up to 17.
    #[test]
    fn ipv4_block_parser_agrees() {
        const ALPHABET: &[u8] = b"0123456789...0019255x";
        let mut next = crate::seeded(0x9e37_79b9_7f4a_7c15u64);
        let mut fixed: Vec<String> = [
            "1.2.3.4",
            "255.255.255.255",
            "256.1.1.1",
            "01.02.003.4",
            "0.0.0.0",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1234.1.1.1",
            "10.0.17976.182",
            "1.2.3.04",
            "99.999.9.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..20000 {
            fixed.push(crate::seeded_text(&mut next, ALPHABET, 18));
        }
        for text in fixed {
            let (mut a, mut b) = (String::new(), String::new());
            let (x, y) = (
                ipv4_from_dotted_block(&text, &mut a, true),
                ipv4_from_dotted_bytewise(&text, &mut b, true),
            );
            assert_eq!((x, &a), (y, &b), "{text:?}");
            let mut c = String::new();
            assert_eq!(
                ipv4_canonical(&text, &mut c),
                x.then_some(a.as_str()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn file_extensions_sorted_for_binary_search() {
        let mut sorted = FILE_EXTENSIONS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, FILE_EXTENSIONS);
    }

    #[test]
    fn ipv4_rules() {
        let mut out = String::new();
        assert!(ipv4_from_dotted("10.0.0.1", &mut out));
        assert_eq!(out, "10.0.0.1");
        assert!(ipv4_from_dotted("010.001.000.255", &mut out));
        assert_eq!(out, "10.1.0.255");
        assert!(!ipv4_from_dotted("256.1.1.1", &mut out));
        assert!(!ipv4_from_dotted("1.2.3", &mut out));
        assert!(!ipv4_from_dotted("1.2.3.4.5", &mut out));
        assert!(!ipv4_from_dotted("1.2.3.1234", &mut out));
        assert!(!ipv4_from_dotted("1..2.3", &mut out));
        assert!(!ipv4_from_dotted("1.2.3.4.", &mut out));
        assert!(!ipv4_from_dotted(".1.2.3", &mut out));
        assert!(!ipv4_from_dotted("1.2.3.4a", &mut out));
        assert!(!ipv4_from_dotted("", &mut out));
        assert!(ipv4_from_dotted("0.0.0.0", &mut out));
        assert_eq!(out, "0.0.0.0");
        assert!(ipv4_from_dotted("255.255.255.255", &mut out));
        assert_eq!(out, "255.255.255.255");
    }

    #[test]
    fn ipv6_rules() {
        let mut out = String::new();
        assert!(ipv6_canonical("2001:DB8:0:0:0:0:0:1", &mut out));
        assert_eq!(out, "2001:db8::1");
        assert!(ipv6_canonical("::ffff:192.0.2.128", &mut out));
        assert!(!ipv6_canonical("12:30:45", &mut out));
        assert!(!ipv6_canonical("::", &mut out));
        assert!(!ipv6_canonical("1:2:3:4:5:6:7:8:9", &mut out));
        assert!(ipv6_canonical("1:2:3:4:5:6:7:8", &mut out));
        assert!(ipv6_canonical("1:2:3:4:5:6:1.2.3.4", &mut out));
        assert!(!ipv6_canonical("1:2:3:4:5:6:7:1.2.3.4", &mut out));
        assert!(!ipv6_canonical("2c:9f:aa:07:d1:3c", &mut out));
    }

    #[test]
    fn file_extension_lookup_equals_the_list() {
        for ext in FILE_EXTENSIONS {
            assert!(is_file_extension(ext), "{ext}");
        }
        for other in [
            "",
            "com",
            "ex",
            "exee",
            "zipx",
            "a",
            "docxx",
            "longerthan8",
            "7",
        ] {
            assert!(!is_file_extension(other), "{other}");
        }
    }

    /// Every address the hex-groups reader accepts is the standard parser's address, and
    /// every text it refuses without a dot is refused by the standard parser too.
    #[test]
    fn ipv6_hex_groups_agree_with_std() {
        const ALPHABET: &[u8] = b"0123456789abcdefABCDEF::::::.";
        let mut next = crate::seeded(0x3c6e_f372_fe94_f82b);
        let mut texts: Vec<String> = [
            "::1",
            "1::",
            "::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8::",
            "1::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:::2",
            ":1::",
            "1::2::3",
            "12345::",
            "fe80::1",
            "FE80::ABCD:0:0:1",
            "0000:0000::0000",
            "1:2:3:4:5:6:1.2.3.4",
            "::ffff:1.2.3.4",
            "1:",
            ":1",
            "::1:",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..60000 {
            texts.push(crate::seeded_text(&mut next, ALPHABET, 42));
            // Well-formed shapes too: 1-8 groups of 1-5 digits, a `::` somewhere or not.
            let groups = 1 + (next() % 8) as usize;
            let gap = (next() % 12) as usize;
            let mut text = String::new();
            for k in 0..groups {
                if k == gap {
                    text.push_str("::");
                } else if k > 0 {
                    text.push(':');
                }
                for _ in 0..1 + next() % 5 {
                    text.push(char::from(
                        b"0123456789abcdefABCDEF"[(next() % 22) as usize],
                    ));
                }
            }
            if gap == groups {
                text.push_str("::");
            }
            texts.push(text);
        }
        let mut accepted = 0;
        for text in &texts {
            let std = Ipv6Addr::from_str(text).ok();
            match ipv6_hex_groups(text.as_bytes()) {
                Some(addr) => {
                    assert_eq!(Some(addr), std, "{text}");
                    accepted += 1;
                }
                // Refused here: the standard parser decides (only dotted tails, which are
                // not read here, may be addresses).
                None => assert!(std.is_none() || text.contains('.'), "{text}"),
            }
        }
        assert!(accepted > 5000, "{accepted} addresses accepted");
    }

    #[test]
    fn rfc5952_writer_equals_display() {
        // xorshift over group patterns rich in zero runs, plus fixed corner cases.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut addresses: Vec<Ipv6Addr> = [
            "::1",
            "1::",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "0:0:1:0:0:1:0:0",
            "1:0:0:2:0:0:0:3",
            "fe80::1",
            "2001:db8::",
            "0:0:0:0:0:0:0:0",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        for _ in 0..20_000 {
            let r = next();
            let mut groups = [0u16; 8];
            for (k, g) in groups.iter_mut().enumerate() {
                *g = match (r >> (k * 3)) & 7 {
                    0..=3 => 0,
                    4 => 0xffff,
                    5 => (next() & 0xf) as u16,
                    _ => next() as u16,
                };
            }
            addresses.push(Ipv6Addr::from(groups));
        }
        let mut out = String::new();
        for addr in addresses {
            out.clear();
            write_rfc5952(addr, &mut out);
            assert_eq!(out, addr.to_string());
        }
    }

    /// The facts of one pass against the general validators, on seeded names over the plain
    /// alphabet (and a few bytes outside it), in every context and option.
    #[test]
    fn plain_name_facts_agree_with_is_domain() {
        const ALPHABET: &[u8] = b"abcxyzcomukdeioABZ0919_-....-x[ ";
        let mut next = crate::seeded(0x2545_f491_4f6c_dd1du64);
        let mut names: Vec<String> = ["", ".", "a.", ".a", "a..b", "a-.com", "-a.com", "evil.com"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        names.push(format!("{}.com", "a".repeat(64)));
        names.push(format!("{}.com", "a".repeat(63)));
        names.push(format!("{}com", "ab.".repeat(90)));
        names.push("a".repeat(64));
        names.push(format!("{}.c", "a".repeat(62)));
        names.push(format!("{}-", "a".repeat(63)));
        names.push(format!("{}.", "a".repeat(63)));
        for round in 0..30000 {
            let max_len = if round % 4 == 0 { 70 } else { 24 };
            names.push(crate::seeded_text(&mut next, ALPHABET, max_len));
        }
        for name in names {
            let facts = plain_name(name.as_bytes(), 0, name.len());
            let mut padded = name.clone().into_bytes();
            padded.extend_from_slice(b"x.-_A[");
            assert_eq!(facts, plain_name(&padded, 0, name.len()), "{name:?}");
            assert_eq!(facts, plain_name_bytewise(name.as_bytes()), "{name:?}");
            let plain = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            assert_eq!(facts.is_some(), plain, "{name:?}");
            let Some(facts) = facts else { continue };
            let lower = name.to_ascii_lowercase();
            assert_eq!(facts.upper, lower != name, "{name:?}");
            assert_eq!(
                facts.numeric,
                name.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
                "{name:?}"
            );
            for context in [DomainContext::Bare, DomainContext::Host] {
                for (defanged, ignore_tlds) in [(false, false), (true, false), (false, true)] {
                    assert_eq!(
                        facts.is_domain(&lower, context, defanged, ignore_tlds),
                        is_domain(&lower, context, defanged, ignore_tlds),
                        "{name:?} {context:?} {defanged} {ignore_tlds}"
                    );
                }
            }
        }
    }

    #[test]
    fn domain_rules() {
        use DomainContext::*;
        assert!(is_domain("www.bbc.co.uk", Bare, false, false));
        assert!(!is_domain("co.uk", Bare, false, false));
        assert!(is_domain("github.io", Bare, false, false));
        assert!(!is_domain("host.local", Bare, false, false));
        assert!(is_domain("host.local", Bare, false, true));
        assert!(!is_domain("cmd.exe", Bare, false, true));
        assert!(!is_domain("payload.zip", Bare, false, false));
        assert!(is_domain("payload.zip", Bare, true, false));
        assert!(is_domain("payload.zip", Host, false, false));
        assert!(is_domain("cdn.payload.zip", Bare, false, false));
        assert!(!is_domain("-bad.com", Bare, false, false));
        assert!(!is_domain("intranet", Host, false, false));
        assert!(is_domain("intranet", Host, false, true));
    }
}
