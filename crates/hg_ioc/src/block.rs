//! Word runs found 16 bytes at a time: the scanner's walk spends most of its time in runs of
//! `[a-z0-9_%+-]` bytes (about four in five bytes of logs and command lines), and a byte loop
//! there pays a load, a table look-up and a branch per byte plus a mispredicted exit per run.
//! With 128-bit SIMD (SSE2 on x86_64, `simd128` in wasm, through the `wide` crate) one block
//! classification gives the run's end and the three byte classes the scanner needs from it
//! (`%`, `%`/`+`, `-`) with no per-byte branch.
//!
//! Targets without 128-bit SIMD use the byte loop; both give the same answer (a unit test
//! compares them on every position of seeded inputs). Which targets have the SIMD form is
//! decided once, by `build.rs`: `cfg(hg_simd_blocks)`.

use crate::fast::{CLASS, DASH, PCT, PCT_PLUS, W};

/// The run flags [`word_run`] reports: the bits of `CLASS` the scanner reads from a run.
pub(crate) const RUN_FLAGS: u8 = PCT | PCT_PLUS | DASH;

/// End of the run of word bytes (`W`) starting at `s` (`hay[s]` must be one) and the
/// [`RUN_FLAGS`] bits of its bytes' classes, by the byte loop.
#[cfg_attr(all(not(test), hg_simd_blocks), allow(dead_code))]
#[inline]
pub(crate) fn word_run_bytewise(hay: &[u8], s: usize) -> (usize, u8) {
    let mut i = s;
    let mut flags = 0;
    while i < hay.len() {
        let class = CLASS[usize::from(hay[i])];
        if class & W == 0 {
            break;
        }
        flags |= class;
        i += 1;
    }
    (i, flags & RUN_FLAGS)
}

#[cfg(hg_simd_blocks)]
mod simd {
    use wide::u8x16;

    /// ASCII letters and digits (all ones in their bytes).
    #[inline(always)]
    pub(super) fn alnum(v: u8x16) -> u8x16 {
        // `x - lo <= len - 1` (unsigned, wrapping), as `min(t, len - 1) == t`.
        let in_range = |x: u8x16, lo: u8, len: u8| {
            let t = x - u8x16::splat(lo);
            t.min(u8x16::splat(len - 1)).cmp_eq(t)
        };
        in_range(v | u8x16::splat(0x20), b'a', 26) | in_range(v, b'0', 10)
    }

    /// Bit masks of a 16-byte block (bit k for byte k): word bytes, and the word bytes that
    /// carry a run flag (`%`, `+`, `-`).
    #[inline(always)]
    pub(super) fn classify(block: [u8; 16]) -> (u32, u32) {
        let v = u8x16::new(block);
        let eq = |c: u8| v.cmp_eq(u8x16::splat(c));
        let flagged = eq(b'%') | eq(b'+') | eq(b'-');
        let word = alnum(v) | eq(b'_') | flagged;
        (word.move_mask() as u32, flagged.move_mask() as u32)
    }
}

/// [`word_run_bytewise`], a 16-byte block at a time.
#[cfg(hg_simd_blocks)]
#[inline]
pub(crate) fn word_run(hay: &[u8], s: usize) -> (usize, u8) {
    let mut i = s;
    let mut flags = 0u8;
    loop {
        // Zero bytes after the end are not word bytes: the run stops at the end.
        let block = block_at(hay, i);
        let (word, flagged) = simd::classify(block);
        // Bit 16 is never a word byte: `len` is at most 16.
        let len = (!word).trailing_zeros() as usize;
        if flagged & ((1u32 << len) - 1) != 0 {
            // A `%`, `+` or `-` in this part of the run (the rarer case): its flags by table,
            // read from `hay` (the run's bytes are all there) so that the block stays in a
            // register.
            flags |= hay[i..i + len]
                .iter()
                .fold(0, |acc, &b| acc | CLASS[usize::from(b)])
                & RUN_FLAGS;
        }
        i += len;
        if len < 16 {
            return (i, flags);
        }
    }
}

/// [`word_run_bytewise`] (no 128-bit SIMD on this target).
#[cfg(not(hg_simd_blocks))]
#[inline]
pub(crate) fn word_run(hay: &[u8], s: usize) -> (usize, u8) {
    word_run_bytewise(hay, s)
}

/// Bytes that end the rest of a URL (`[\s\x00-\x1f\x7f"'<>]`, as bytes: `<= 0x20`, `0x7f`,
/// `"`, `'`, `<`, `>`), for [`url_rest_end`].
#[cfg(hg_simd_blocks)]
#[inline(always)]
fn url_rest_stops(v: wide::u8x16) -> wide::u8x16 {
    use wide::u8x16;
    let eq = |c: u8| v.cmp_eq(u8x16::splat(c));
    v.min(u8x16::splat(0x20)).cmp_eq(v) | eq(0x7f) | eq(b'"') | eq(b'\'') | eq(b'<') | eq(b'>')
}

/// Bytes outside the Windows path segment class (`[\\/:*?"'<>|,;\x00-\x20\x7f]`), for
/// [`win_seg_end`].
#[cfg(hg_simd_blocks)]
#[inline(always)]
fn win_seg_stops(v: wide::u8x16) -> wide::u8x16 {
    use wide::u8x16;
    let eq = |c: u8| v.cmp_eq(u8x16::splat(c));
    v.min(u8x16::splat(0x20)).cmp_eq(v)
        | eq(0x7f)
        | eq(b'\\')
        | eq(b'/')
        | eq(b':')
        | eq(b'*')
        | eq(b'?')
        | eq(b'"')
        | eq(b'\'')
        | eq(b'<')
        | eq(b'>')
        | eq(b'|')
        | eq(b',')
        | eq(b';')
}

/// Bytes outside the label class `[a-z0-9_-]` (any case), for [`label_end`].
#[cfg(hg_simd_blocks)]
#[inline(always)]
fn label_stops(v: wide::u8x16) -> wide::u8x16 {
    let letter_or_digit = simd::alnum(v);
    let eq = |c: u8| v.cmp_eq(wide::u8x16::splat(c));
    !(letter_or_digit | eq(b'_') | eq(b'-'))
}

/// Bytes outside the URL userinfo class `[a-z0-9\-._~!$&'()*+,;=:%]` (any case), for
/// [`userinfo_end`].
#[cfg(hg_simd_blocks)]
#[inline(always)]
fn userinfo_stops(v: wide::u8x16) -> wide::u8x16 {
    let eq = |c: u8| v.cmp_eq(wide::u8x16::splat(c));
    // `!$&'()*+,` are 0x21, 0x24 and 0x26-0x2c; `-.` 0x2d-0x2e; `:;=` 0x3a, 0x3b, 0x3d.
    let t = v - wide::u8x16::splat(0x26);
    let amp_to_dot = t.min(wide::u8x16::splat(8)).cmp_eq(t);
    !(simd::alnum(v)
        | amp_to_dot
        | eq(b'!')
        | eq(b'$')
        | eq(b':')
        | eq(b';')
        | eq(b'=')
        | eq(b'_')
        | eq(b'~')
        | eq(b'%'))
}

/// Bytes that are not hex digits, for [`hex_end`].
#[cfg(hg_simd_blocks)]
#[inline(always)]
fn hex_stops(v: wide::u8x16) -> wide::u8x16 {
    use wide::u8x16;
    let in_range = |x: u8x16, lo: u8, len: u8| {
        let t = x - u8x16::splat(lo);
        t.min(u8x16::splat(len - 1)).cmp_eq(t)
    };
    !(in_range(v | u8x16::splat(0x20), b'a', 6) | in_range(v, b'0', 10))
}

/// Bytes outside the word class `[a-z0-9_%+-]` (any case), for [`word_end`].
#[cfg(hg_simd_blocks)]
#[inline(always)]
fn word_stops(v: wide::u8x16) -> wide::u8x16 {
    let letter_or_digit = simd::alnum(v);
    let eq = |c: u8| v.cmp_eq(wide::u8x16::splat(c));
    !(letter_or_digit | eq(b'_') | eq(b'-') | eq(b'%') | eq(b'+'))
}

/// Bytes outside the word class and not a dot, for [`chain_end`].
#[cfg(hg_simd_blocks)]
#[inline(always)]
fn chain_stops(v: wide::u8x16) -> wide::u8x16 {
    word_stops(v) & !v.cmp_eq(wide::u8x16::splat(b'.'))
}

/// The first position at or after `i` holding a byte of `stops` (a SIMD byte-set test that
/// holds for the zero byte), or `hay.len()`.
#[cfg(hg_simd_blocks)]
#[inline(always)]
fn first_stop(hay: &[u8], mut i: usize, stops: impl Fn(wide::u8x16) -> wide::u8x16) -> usize {
    loop {
        // The zero bytes after the end are stop bytes: the scan ends at the end.
        let block = block_at(hay, i);
        let mask = stops(wide::u8x16::new(block)).move_mask() as u32 | 1 << 16;
        let len = mask.trailing_zeros() as usize;
        i += len;
        if len < 16 {
            return i;
        }
    }
}

/// Whether `b` is one of the bytes [`url_tail_marks`] looks for.
/// (The byte loop of targets without 128-bit SIMD, and the reference of its unit test.)
#[cfg_attr(all(not(test), hg_simd_blocks), allow(dead_code))]
#[inline]
pub(crate) fn is_url_tail_mark(b: u8) -> bool {
    matches!(b, b'[' | b'(' | b'{' | b'%' | b':')
}

/// Whether `hay[from..to]` holds a byte that begins a bracketed defanged dot (`[`, `(`, `{`),
/// a percent-escape or a colon: without one, the part of a URL after its scheme separator has
/// no defanged dot to refang and no nested URL to look for (every scheme separator holds a
/// `:`, written as such or as `%3A`). One pass, 16 bytes at a time, instead of a search for
/// each.
#[inline]
pub(crate) fn url_tail_marks(hay: &[u8], from: usize, to: usize) -> bool {
    #[cfg(hg_simd_blocks)]
    {
        use wide::u8x16;
        let mut i = from;
        while i < to {
            let v = u8x16::new(block_at(hay, i));
            let eq = |c: u8| v.cmp_eq(u8x16::splat(c));
            let marks = (eq(b'[') | eq(b'(') | eq(b'{') | eq(b'%') | eq(b':')).move_mask() as u32;
            // Only the bytes before `to` count.
            let own = if to - i >= 16 {
                0xffff
            } else {
                (1u32 << (to - i)) - 1
            };
            if marks & own != 0 {
                return true;
            }
            i += 16;
        }
        false
    }
    #[cfg(not(hg_simd_blocks))]
    {
        hay.get(from..to)
            .is_some_and(|part| part.iter().any(|&b| is_url_tail_mark(b)))
    }
}

/// End of the run of bytes from `i` that `in_set` accepts, by the byte loop.
#[inline(always)]
#[cfg_attr(all(not(test), hg_simd_blocks), allow(dead_code))]
fn span_end_bytewise(hay: &[u8], mut i: usize, in_set: impl Fn(u8) -> bool) -> usize {
    while i < hay.len() && in_set(hay[i]) {
        i += 1;
    }
    i
}

/// Defines `pub(crate) fn $name(hay, i) -> usize`: the end of the run from `i` of the bytes
/// `$stops` does not flag, by 16-byte blocks where SIMD is there (SSE2, wasm simd128), else by
/// the byte loop with `$in_set`.
macro_rules! span_end {
    ($(#[$doc:meta])* $name:ident, $stops:ident, $in_set:expr) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name(hay: &[u8], i: usize) -> usize {
            #[cfg(hg_simd_blocks)]
            return first_stop(hay, i, $stops);
            #[cfg(not(hg_simd_blocks))]
            return span_end_bytewise(hay, i, $in_set);
        }
    };
}

span_end! {
    /// End of the run of label bytes (`[a-z0-9_-]`, any case) from `i`.
    label_end, label_stops, crate::fast::is_label_byte
}

span_end! {
    /// End of the run of word bytes (`[a-z0-9_%+-]`, any case) from `i` ([`word_run`] without
    /// the flags).
    word_end, word_stops, |b| CLASS[usize::from(b)] & W != 0
}

span_end! {
    /// End of the run of word bytes and dots (`[a-z0-9_%+.-]`, any case) from `i`: no e-mail
    /// local part starting in it ends after it.
    chain_end, chain_stops, |b| CLASS[usize::from(b)] & W != 0 || b == b'.'
}

/// Bit masks of the ASCII digits and of the dots in a 16-byte block (bit k for byte k), for
/// the IPv4 parser (`wide` falls back to plain arrays without SIMD).
#[cfg_attr(not(any(test, target_arch = "x86_64")), allow(dead_code))]
#[inline]
pub(crate) fn digit_dot_masks(block: [u8; 16]) -> (u32, u32) {
    use wide::u8x16;
    let v = u8x16::new(block);
    let t = v - u8x16::splat(b'0');
    let digit = t.min(u8x16::splat(9)).cmp_eq(t);
    let dot = v.cmp_eq(u8x16::splat(b'.'));
    (digit.move_mask() as u32, dot.move_mask() as u32)
}

/// Bit masks of a name of at most 64 bytes (bit k for byte k), for `validate::plain_name`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NameBits {
    /// Bytes outside `[A-Za-z0-9_.-]`.
    pub outside: u64,
    /// Upper-case letters.
    pub upper: u64,
    /// Letters, `_` and `-`.
    pub non_numeric: u64,
    /// Dots.
    pub dot: u64,
    /// Hyphens.
    pub hyphen: u64,
}

/// [`NameBits`] of one 16-byte block, by the byte loop.
#[cfg_attr(all(not(test), hg_simd_blocks), allow(dead_code))]
fn name_block_bytewise(block: [u8; 16]) -> NameBits {
    let mut bits = NameBits::default();
    for (k, &b) in block.iter().enumerate() {
        let bit = 1u64 << k;
        match b {
            b'0'..=b'9' => {}
            b'a'..=b'z' | b'_' => bits.non_numeric |= bit,
            b'A'..=b'Z' => {
                bits.non_numeric |= bit;
                bits.upper |= bit;
            }
            b'-' => {
                bits.non_numeric |= bit;
                bits.hyphen |= bit;
            }
            b'.' => bits.dot |= bit,
            _ => bits.outside |= bit,
        }
    }
    bits
}

/// [`NameBits`] of one 16-byte block by SIMD compares.
#[cfg(hg_simd_blocks)]
#[inline(always)]
fn name_block(block: [u8; 16]) -> NameBits {
    use wide::u8x16;
    let v = u8x16::new(block);
    let in_range = |lo: u8, len: u8| {
        let t = v - u8x16::splat(lo);
        t.min(u8x16::splat(len - 1)).cmp_eq(t)
    };
    let eq = |c: u8| v.cmp_eq(u8x16::splat(c));
    let (upper, hyphen, dot) = (in_range(b'A', 26), eq(b'-'), eq(b'.'));
    let non_numeric = in_range(b'a', 26) | upper | eq(b'_') | hyphen;
    let inside = non_numeric | in_range(b'0', 10) | dot;
    let mask = |m: u8x16| u64::from(m.move_mask() as u16);
    NameBits {
        outside: mask(!inside),
        upper: mask(upper),
        non_numeric: mask(non_numeric),
        dot: mask(dot),
        hyphen: mask(hyphen),
    }
}

/// [`name_block_bytewise`] (no 128-bit SIMD on this target).
#[cfg(not(hg_simd_blocks))]
#[inline]
fn name_block(block: [u8; 16]) -> NameBits {
    name_block_bytewise(block)
}

/// [`NameBits`] of the name `hay[start..end]` (at most 64 bytes are looked at; bytes past its
/// end are in no mask), 16 bytes at a time, read from `hay` itself.
#[inline(always)]
pub(crate) fn name_bits(hay: &[u8], start: usize, end: usize) -> NameBits {
    let n = end.saturating_sub(start).min(64);
    let mut bits = NameBits::default();
    let mut offset = 0;
    while offset < n {
        let b = name_block(block_at(hay, start + offset));
        bits.outside |= b.outside << offset;
        bits.upper |= b.upper << offset;
        bits.non_numeric |= b.non_numeric << offset;
        bits.dot |= b.dot << offset;
        bits.hyphen |= b.hyphen << offset;
        offset += 16;
    }
    // Only the name's own bytes count.
    let own = if n == 0 { 0 } else { u64::MAX >> (64 - n) };
    NameBits {
        outside: bits.outside & own,
        upper: bits.upper & own,
        non_numeric: bits.non_numeric & own,
        dot: bits.dot & own,
        hyphen: bits.hyphen & own,
    }
}

/// The 16 bytes at `i` (zero bytes past the end of `hay`).
#[inline(always)]
fn block_at(hay: &[u8], i: usize) -> [u8; 16] {
    match hay.get(i..i + 16) {
        Some(bytes) => bytes.try_into().unwrap_or([0; 16]),
        None => {
            let mut padded = [0u8; 16];
            let rest = hay.get(i..).unwrap_or_default();
            padded[..rest.len()].copy_from_slice(rest);
            padded
        }
    }
}

span_end! {
    /// End of the run of URL-rest bytes (`[^\s\x00-\x1f\x7f"'<>]`) from `i`.
    url_rest_end, url_rest_stops, crate::fast::is_url_rest_byte
}

span_end! {
    /// End of the run of URL userinfo bytes from `i`.
    userinfo_end, userinfo_stops, crate::fast::is_userinfo_byte
}

span_end! {
    /// End of the run of hex digits from `i`.
    hex_end, hex_stops, crate::fast::is_hex_byte
}

span_end! {
    /// End of the run of Windows path segment bytes from `i`.
    win_seg_end, win_seg_stops, crate::fast::is_win_seg_byte
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SIMD name classification against the byte loop's, on seeded blocks.
    #[test]
    fn name_blocks_agree_with_the_byte_loop() {
        const ALPHABET: &[u8] = b"azAZ09_-.[( \x00\xffx@";
        let mut next = crate::seeded(0x0123_4567_89ab_cdef);
        for _ in 0..5000 {
            let mut block = [0u8; 16];
            for b in block.iter_mut() {
                *b = ALPHABET[(next() % ALPHABET.len() as u64) as usize];
            }
            assert_eq!(name_block(block), name_block_bytewise(block), "{block:?}");
        }
        assert_eq!(name_bits(b"", 0, 0).outside, 0);
        assert_eq!(name_bits(b"a b", 0, 3).outside, 0b010);
        assert_eq!(name_bits(b"xa b.", 1, 4).outside, 0b010);
        assert_eq!(name_bits(b"xa b.", 1, 4).dot, 0);
        assert_eq!(name_bits(&[b'a'; 64], 0, 64).outside, 0);
    }

    /// Every start position of seeded inputs mixing word bytes (including `%`, `+`, `-`) with
    /// separators and non-ASCII bytes, runs of every length around the 16-byte blocks, and
    /// runs reaching the end of the text.
    #[test]
    fn blocks_agree_with_the_byte_loop() {
        const ALPHABET: &[u8] = b"aZ09_%+-.:/ \\@[\x00\xff\xc3-x\"'<>|,;*?\x7f\tfFgG!$&()=~#`^{}]\x25\x2c\x2f\x3a\x40\x60\x66\x67";
        let mut next = crate::seeded(0x2545_f491_4f6c_dd1du64);
        // Each block scan with the byte set it must stop at.
        type SpanEnd = fn(&[u8], usize) -> usize;
        type ByteSet = fn(u8) -> bool;
        let spans: [(&str, SpanEnd, ByteSet); 7] = [
            ("URL rest", url_rest_end, crate::fast::is_url_rest_byte),
            ("label", label_end, crate::fast::is_label_byte),
            ("word run", word_end, |b| CLASS[usize::from(b)] & W != 0),
            ("chain", chain_end, |b| {
                CLASS[usize::from(b)] & W != 0 || b == b'.'
            }),
            ("userinfo", userinfo_end, crate::fast::is_userinfo_byte),
            ("hex run", hex_end, crate::fast::is_hex_byte),
            ("Windows segment", win_seg_end, crate::fast::is_win_seg_byte),
        ];
        for round in 0..400 {
            let len = (next() % 80) as usize;
            let text: Vec<u8> = (0..len)
                .map(|k| {
                    // Long stretches of word bytes every few rounds.
                    if round % 3 == 0 && (k / 20) % 2 == 0 {
                        b"ab-%+9_Z"[(next() % 8) as usize]
                    } else {
                        ALPHABET[(next() % ALPHABET.len() as u64) as usize]
                    }
                })
                .collect();
            for s in 0..=text.len() {
                for (what, fast, in_set) in spans {
                    assert_eq!(
                        fast(&text, s),
                        span_end_bytewise(&text, s, in_set),
                        "{what} from {s} in {text:?}"
                    );
                }
                for to in s..=text.len() {
                    assert_eq!(
                        url_tail_marks(&text, s, to),
                        text[s..to].iter().any(|&b| is_url_tail_mark(b)),
                        "URL tail marks in {s}..{to} of {text:?}"
                    );
                }
                if s == text.len() || CLASS[usize::from(text[s])] & W == 0 {
                    continue;
                }
                assert_eq!(
                    word_run(&text, s),
                    word_run_bytewise(&text, s),
                    "run from {s} in {text:?}"
                );
            }
        }
    }
}
