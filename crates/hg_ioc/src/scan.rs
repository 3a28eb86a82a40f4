//! The scanner: one leftmost-first pass over the text, candidates handed to the validators.

use std::cell::RefCell;

use regex_automata::meta::Regex;
use regex_automata::util::syntax;
#[cfg(test)]
use regex_automata::{Anchored, Input};

use crate::block;
use crate::fast::{self, at, CLASS, DASH, PCT, PCT_PLUS, START_OTHER, W};
use crate::patterns;
#[cfg(test)]
use crate::patterns::PatternSet;
use crate::refang::{
    at_marker_len, has_bracketed_dot, is_defanged_scheme_separator, refang_dots, refang_host,
    refang_host_str, refang_scheme,
};
use crate::validate::{
    hash_type_for_len, ipv4_canonical, ipv4_from_dotted, ipv6_canonical, is_domain, plain_name,
    DomainContext, PlainName,
};
use crate::{IocError, IocExtractor, IocMatch, IocSink, IocType};

/// How many levels of URLs inside URLs are searched (`a.com/?u=http%3A%2F%2Fb.com%2F%3Fu%3D...`).
/// Each level reads the URL's bytes once more, so this bounds the extra work per URL.
pub const MAX_URL_NESTING: usize = 2;

/// Longest e-mail local part (RFC 5321).
const MAX_EMAIL_LOCAL_LEN: usize = 64;

#[derive(Debug)]
pub(crate) struct Scanner {
    defanged: bool,
    custom: Vec<Regex>,
    ignore_tlds: bool,
}

fn compile(patterns: &[String], case_insensitive: bool) -> Result<Regex, String> {
    let syntax = syntax::Config::new()
        .unicode(false)
        .utf8(false)
        .case_insensitive(case_insensitive);
    Regex::builder()
        .syntax(syntax)
        .configure(Regex::config().utf8_empty(false))
        .build_many(patterns)
        .map_err(|e| e.to_string())
}

/// Maps offsets in the searched bytes back to offsets in the caller's text: the identity for the
/// text itself, a table for a percent-decoded copy (entry = text offset of the byte's source).
#[derive(Clone, Copy)]
enum Mapping<'m> {
    Identity,
    Table { map: &'m [usize], end: usize },
}

impl Mapping<'_> {
    /// `hay[a..b]` as text when `hay` is the caller's text itself (no UTF-8 check needed).
    fn text(self, text: &str, a: usize, b: usize) -> Option<&str> {
        match self {
            Mapping::Identity => text.get(a..b),
            Mapping::Table { .. } => None,
        }
    }

    fn at(self, i: usize) -> usize {
        match self {
            Mapping::Identity => i,
            Mapping::Table { map, end } => map.get(i).copied().unwrap_or(end),
        }
    }
}

/// Delivers matches to the sink, dropping types the extractor does not report.
struct Emitter<'t, 's, S: IocSink + ?Sized> {
    text: &'t str,
    extractor: &'t IocExtractor,
    all_types: bool,
    sink: &'s mut S,
}

impl<S: IocSink + ?Sized> Emitter<'_, '_, S> {
    fn wants(&self, ioc_type: IocType) -> bool {
        self.all_types || self.extractor.is_enabled(ioc_type)
    }

    fn emit(&mut self, ioc_type: IocType, start: usize, end: usize, canonical: &str) {
        if !self.wants(ioc_type) || start >= end {
            return;
        }
        // `get` refuses spans off character boundaries instead of panicking.
        let Some(observable) = self.text.get(start..end) else {
            return;
        };
        let type_name = match ioc_type {
            IocType::Custom(i) => self.extractor.custom_name(i),
            builtin => builtin.name(),
        };
        self.sink.ioc(&IocMatch {
            ioc_type,
            type_name,
            observable,
            canonical,
            start,
            end,
        });
    }
}

/// Reusable buffers for canonical values.
#[derive(Default)]
struct Scratch {
    canonical: String,
    host: String,
    other: String,
    /// The percent-decoded tail of a URL and the text offset of each of its bytes (taken out
    /// while in use: a URL nested in the decoded tail gets buffers of its own).
    decoded: Vec<u8>,
    decoded_map: Vec<usize>,
}

impl Scratch {
    fn capacity(&self) -> usize {
        self.canonical.capacity()
            + self.host.capacity()
            + self.other.capacity()
            + self.decoded.capacity()
            + self.decoded_map.capacity() * std::mem::size_of::<usize>()
    }
}

/// Buffers above this size (after a huge URL, say) are not kept for the next call.
const MAX_KEPT_BUFFER: usize = 1 << 16;

thread_local! {
    static BUFFERS: RefCell<(Scratch, Finder)> = RefCell::new(Default::default());
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Drops trailing sentence punctuation and closing brackets that have no opening partner in the
/// match, never going below `min_end`. Bracket counts are taken once, so this is linear.
fn trim_trailing(hay: &[u8], start: usize, mut end: usize, min_end: usize) -> usize {
    let span = &hay[start..end];
    // Brackets are counted only when the match ends in a closing one (rare), in one pass.
    let mut balance = [0isize; 3];
    if matches!(
        span.last(),
        Some(b')' | b']' | b'}') | Some(b'.' | b',' | b';' | b':' | b'!' | b'?' | b'\'' | b'*')
    ) {
        for &b in span {
            match b {
                b'(' => balance[0] += 1,
                b')' => balance[0] -= 1,
                b'[' => balance[1] += 1,
                b']' => balance[1] -= 1,
                b'{' => balance[2] += 1,
                b'}' => balance[2] -= 1,
                _ => {}
            }
        }
    }
    while end > min_end {
        let slot = match hay[end - 1] {
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b'\'' | b'*' => None,
            b')' => Some(0),
            b']' => Some(1),
            b'}' => Some(2),
            _ => break,
        };
        if let Some(slot) = slot {
            if balance[slot] >= 0 {
                break;
            }
            balance[slot] += 1;
        }
        end -= 1;
    }
    end
}

/// Whether no match can start anywhere in the `W` run `hay[s..e]` (byte classes `flags`): the
/// most common run, a plain word followed by a space or punctuation, is passed over without
/// looking at its positions.
///
/// Every pattern that can start inside a run needs one of: a byte after the run that may begin
/// a scheme separator, an `@` marker, a dot separator, a drive or hive separator or an IPv6
/// colon (`:`, `[`, `(`, `{`, `.`, `@`, `\`, or a space followed by a bracket); a `%` in the
/// run (percent-escapes, `%ENV%` roots); or a run of at least 13 bytes (`cve-YYYY-NNNN`, and
/// hashes of 32+). This is a necessary condition for every pattern in every option set.
#[inline]
fn run_is_inert(hay: &[u8], s: usize, e: usize, flags: u8) -> bool {
    flags & PCT == 0
        && e - s < 13
        && match AFTER_RUN[usize::from(at(hay, e))] {
            AFTER_RUN_INERT => true,
            AFTER_RUN_SPACE => !matches!(at(hay, e + 1), b'[' | b'(' | b'{'),
            _ => false,
        }
}

/// What the byte after a word run says about the run, for [`run_is_inert`] (one look-up
/// instead of a chain of comparisons): it may continue a match begun in the run
/// (`AFTER_RUN_LIVE`), it is a space (then the byte after it decides), or neither.
const AFTER_RUN_LIVE: u8 = 0;
const AFTER_RUN_INERT: u8 = 1;
const AFTER_RUN_SPACE: u8 = 2;

static AFTER_RUN: [u8; 256] = {
    let mut t = [AFTER_RUN_INERT; 256];
    let live = b":[({.@\\";
    let mut k = 0;
    while k < live.len() {
        t[live[k] as usize] = AFTER_RUN_LIVE;
        k += 1;
    }
    t[b' ' as usize] = AFTER_RUN_SPACE;
    t
};

/// Per-scan state of [`Scanner::next_match`].
#[derive(Default)]
struct Finder {
    run: RunCache,
    email: MatchMemo,
}

/// The analysis of one run of `W` bytes: its bounds and the positions inside it where a match
/// can start (sorted), with forward-only cursors so that resuming inside it costs no rescan.
#[derive(Default)]
struct RunCache {
    start: usize,
    end: usize,
    has_pct_plus: bool,
    last_pct_plus: Option<usize>,
    pct_plus_cursor: usize,
    candidates: Vec<usize>,
    cursor: usize,
}

/// The e-mail pattern's outcome for the last local-part chain looked at. Every start inside one
/// chain (`a.b.c` before an `@` marker) has the same tail, so the same match end or the same
/// failure: remembering it keeps the scan linear on long chains.
///
/// It also keeps the parts of the last URL the matcher found (its start and parts), which the
/// URL handler then uses instead of splitting the URL again.
#[derive(Default)]
struct MatchMemo {
    from: usize,
    local_end: usize,
    result: Option<usize>,
    url: Option<(usize, fast::UrlParts)>,
}

impl MatchMemo {
    /// End of the e-mail match at `s` (a `W` byte); `search(local_end)` runs the pattern when
    /// the chain through `s` was not seen yet.
    ///
    /// Most chains (dotted names, file names) are followed by no `@` marker: one block scan to
    /// the first byte that is neither a word byte nor a dot settles them, for every start up
    /// to that byte, without following the chain label by label (see
    /// [`fast::may_begin_at_marker`]).
    fn email_end(
        &mut self,
        hay: &[u8],
        s: usize,
        defanged: bool,
        search: impl FnOnce(usize) -> Option<usize>,
    ) -> Option<usize> {
        if !(self.from <= s && s < self.local_end) {
            self.from = s;
            let stop = block::chain_end(hay, s);
            if fast::may_begin_at_marker(hay, stop, defanged) {
                let local_end = fast::local_part_end(hay, s);
                self.local_end = local_end;
                self.result = search(local_end);
            } else {
                self.local_end = stop;
                self.result = None;
            }
        }
        self.result
    }
}

impl Scanner {
    pub(crate) fn new(
        defanged: bool,
        ignore_tlds: bool,
        custom: &[(String, String)],
    ) -> Result<Scanner, IocError> {
        let custom = custom
            .iter()
            .map(|(name, pattern)| {
                compile(std::slice::from_ref(pattern), false).map_err(|message| {
                    IocError::InvalidCustomPattern {
                        name: name.clone(),
                        message,
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Scanner {
            defanged,
            custom,
            ignore_tlds,
        })
    }

    pub(crate) fn scan<S: IocSink + ?Sized>(
        &self,
        text: &str,
        extractor: &IocExtractor,
        sink: &mut S,
    ) {
        let mut emitter = Emitter {
            text,
            extractor,
            all_types: false,
            sink,
        };
        self.scan_builtin(&mut emitter);
        for (index, regex) in self.custom.iter().enumerate() {
            let ioc_type = IocType::Custom(index as u16);
            for m in regex.find_iter(text.as_bytes()) {
                if let Some(observable) = text.get(m.range()) {
                    emitter.emit(ioc_type, m.start(), m.end(), observable);
                }
            }
        }
    }

    pub(crate) fn scan_all_types<S: IocSink + ?Sized>(
        &self,
        text: &str,
        extractor: &IocExtractor,
        sink: &mut S,
    ) {
        let mut emitter = Emitter {
            text,
            extractor,
            all_types: true,
            sink,
        };
        self.scan_builtin(&mut emitter);
    }

    fn scan_builtin<S: IocSink + ?Sized>(&self, em: &mut Emitter<'_, '_, S>) {
        // Records are often a hundred bytes or so: allocating the buffers on every call cost
        // about as much as scanning, so each thread keeps one set. A sink that extracts again
        // from inside its callback finds them in use and gets fresh ones.
        BUFFERS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffers) => {
                let (scratch, finder) = &mut *buffers;
                self.scan_with(em, scratch, finder);
                if scratch.capacity() > MAX_KEPT_BUFFER || finder.run.candidates.capacity() > 1024 {
                    *buffers = Default::default();
                }
            }
            Err(_) => self.scan_with(em, &mut Scratch::default(), &mut Finder::default()),
        });
    }

    fn scan_with<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        scratch: &mut Scratch,
        finder: &mut Finder,
    ) {
        let hay = em.text.as_bytes();
        // Nothing found in an earlier text may be reused (the buffers outlive the call).
        finder.run.start = 0;
        finder.run.end = 0;
        // (No pre-scan for `@`: the gate in `match_at` lets only local parts followed by an `@`
        // marker or a dot through, and each chain is read once thanks to the memo.)
        finder.email = MatchMemo::default();
        // Re-scans after a rejected URL host are paid from this budget, so the total work stays
        // within twice the input length however the input is crafted.
        let mut budget = hay.len();
        let mut pos = 0;
        while let Some((start, pattern, end)) = self.next_match(hay, pos, finder) {
            let url_parts = match finder.email.url.take() {
                Some((url_start, parts)) if url_start == start => Some(parts),
                _ => None,
            };
            let resume = self.dispatch(
                em,
                scratch,
                hay,
                (pattern, start, end),
                url_parts,
                &mut budget,
            );
            pos = resume.max(start + 1);
        }
    }

    /// Hands one candidate of the union (`(pattern id of patterns.rs, start, end)`) to its
    /// handler, with a URL's parts when the matcher already split it; returns where the search
    /// goes on.
    fn dispatch<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        scratch: &mut Scratch,
        hay: &[u8],
        (pattern, start, end): (usize, usize, usize),
        url_parts: Option<fast::UrlParts>,
        budget: &mut usize,
    ) -> usize {
        match pattern {
            patterns::PAT_URL => self.on_url(
                em,
                scratch,
                hay,
                Mapping::Identity,
                (start, end, url_parts),
                0,
                Some(budget),
            ),
            patterns::PAT_EMAIL => self.on_email(em, scratch, hay, start, end),
            patterns::PAT_REGISTRY => on_registry(em, hay, start, end),
            patterns::PAT_WINDOWS_PATH => self.on_windows_path(em, scratch, hay, start, end),
            patterns::PAT_LINUX_PATH => on_linux_path(em, scratch, hay, start, end),
            patterns::PAT_CVE => on_cve(em, scratch, hay, start, end),
            patterns::PAT_IPV6 => on_ipv6(em, scratch, hay, start, end),
            // Consumed like any candidate of the pattern, and reported as nothing.
            patterns::PAT_IPV6_REFUSED => end,
            patterns::PAT_HASH => on_hash(em, scratch, hay, start, end),
            _ => self.on_dotted(em, scratch, hay, start, end),
        }
    }

    /// The leftmost match at or after `pos` of the union of the patterns (in `patterns.rs`
    /// order, leftmost-first), as `(start, pattern id, end)`: exactly what one unanchored search
    /// of that union would report, found without running it.
    ///
    /// The text is walked once as runs of `W` bytes (`[a-z0-9_%+-]`) and single other bytes.
    /// Only these positions can start a match: the first byte of a run (from `pos`), the
    /// `.`/`/`/`\`/`:`/`~` bytes, and inside a run: a URL scheme or registry hive ending the run
    /// before its separator, a drive letter before `:\`, up to four hex digits before `:`, the
    /// last `[a-z0-9_]` segment before a dot separator, each `%`, each `cve-` and each start of
    /// a 32+ hex run. Each is then checked against every pattern in priority order
    /// ([`Scanner::match_at`]).
    fn next_match(
        &self,
        hay: &[u8],
        pos: usize,
        finder: &mut Finder,
    ) -> Option<(usize, usize, usize)> {
        let n = hay.len();
        let mut i = pos;
        // A search resuming inside the run the previous search analysed (a match ended in the
        // middle of it) reuses that analysis, so a run is walked once however many matches it
        // holds. Both that run and each new one go through the one call of `run_match` below.
        let mut from = (finder.run.start < pos && pos < finder.run.end).then_some(pos);
        loop {
            if let Some(from) = from {
                if let Some(found) = self.run_match(hay, from, &mut finder.run, &mut finder.email) {
                    return Some(found);
                }
                i = finder.run.end;
            }
            // The walk to the next run in which a match may start.
            loop {
                if i >= n {
                    return None;
                }
                let class = CLASS[usize::from(hay[i])];
                if class & W == 0 {
                    if class & START_OTHER != 0 && fast::other_may_start(hay, i) {
                        if let Some((pattern, end)) = self.match_at_other(hay, i, &mut finder.email)
                        {
                            return Some((i, pattern, end));
                        }
                    }
                    i += 1;
                    continue;
                }
                let s = i;
                let (run_end, flags) = block::word_run(hay, s);
                i = run_end;
                if run_is_inert(hay, s, i, flags) {
                    continue;
                }
                let run = &mut finder.run;
                run.start = s;
                run.end = i;
                run.has_pct_plus = flags & PCT_PLUS != 0;
                run.last_pct_plus = if run.has_pct_plus {
                    hay[s..i]
                        .iter()
                        .rposition(|&b| b == b'%' || b == b'+')
                        .map(|p| s + p)
                } else {
                    None
                };
                run.pct_plus_cursor = s;
                run.cursor = 0;
                run.candidates.clear();
                self.run_candidates(hay, s, i, flags, &mut run.candidates);
                if run.candidates.len() > 1 {
                    run.candidates.sort_unstable();
                    run.candidates.dedup();
                }
                from = Some(s);
                break;
            }
        }
    }

    /// The first match starting in `hay[pos..run.end]` of the analysed run: `pos` itself, then
    /// the run's candidates after it, with the dotted-name start for `pos` merged in.
    fn run_match(
        &self,
        hay: &[u8],
        pos: usize,
        run: &mut RunCache,
        email: &mut MatchMemo,
    ) -> Option<(usize, usize, usize)> {
        let e = run.end;
        // The dotted-name pattern can start after the last `%`/`+` (not on a `-`), and only
        // when a separator may follow the run.
        let dotted = if fast::may_begin_sep(at(hay, e), self.defanged) {
            let mut d = match run.last_pct_plus {
                Some(p) if p >= pos => p + 1,
                _ => pos,
            };
            while d < e && hay[d] == b'-' {
                d += 1;
            }
            (d > pos && d < e).then_some(d)
        } else {
            None
        };
        if let Some((pattern, end)) = self.run_candidate(hay, pos, run, email) {
            return Some((pos, pattern, end));
        }
        while run.candidates.get(run.cursor).is_some_and(|&c| c <= pos) {
            run.cursor += 1;
        }
        let mut dotted = dotted;
        let mut k = run.cursor;
        loop {
            let next = run.candidates.get(k).copied();
            let c = match (next, dotted) {
                (Some(c), Some(d)) if d < c => {
                    dotted = None;
                    d
                }
                (Some(c), Some(d)) if d == c => {
                    dotted = None;
                    k += 1;
                    c
                }
                (Some(c), _) => {
                    k += 1;
                    c
                }
                (None, Some(d)) => {
                    dotted = None;
                    d
                }
                (None, None) => return None,
            };
            if let Some((pattern, end)) = self.run_candidate(hay, c, run, email) {
                return Some((c, pattern, end));
            }
        }
    }

    /// [`Scanner::match_at`] for a candidate inside the run, with the end of its label run
    /// found by a cursor that only moves forward (candidates come in increasing order).
    #[inline(always)]
    fn run_candidate(
        &self,
        hay: &[u8],
        c: usize,
        run: &mut RunCache,
        email: &mut MatchMemo,
    ) -> Option<(usize, usize)> {
        let label_end = if run.has_pct_plus {
            run.pct_plus_cursor = run.pct_plus_cursor.max(c);
            while run.pct_plus_cursor < run.end && !matches!(hay[run.pct_plus_cursor], b'%' | b'+')
            {
                run.pct_plus_cursor += 1;
            }
            run.pct_plus_cursor
        } else {
            run.end
        };
        self.match_at(hay, c, run.end, label_end, email)
    }

    /// Positions inside the run `hay[s..e]` (after its first byte) where a match can start.
    fn run_candidates(&self, hay: &[u8], s: usize, e: usize, flags: u8, out: &mut Vec<usize>) {
        let next = at(hay, e);
        if matches!(next, b':' | b'[' | b'(' | b'{') {
            for len in 3..=6 {
                if let Some(c) = e.checked_sub(len) {
                    if c > s && fast::url_at(hay, c, self.defanged) {
                        out.push(c);
                    }
                }
            }
            if next == b':' {
                let mut k = 0;
                while k < 4 && e - k > s && fast::is_hex(hay[e - k - 1]) {
                    k += 1;
                }
                if k > 0 {
                    out.push(e - k);
                }
                if at(hay, e + 1) == b'\\' {
                    if e > s {
                        out.push(e - 1);
                    }
                    fast::hive_suffix_starts(hay, s, e, out);
                }
            }
        } else if next == b'\\' {
            fast::hive_suffix_starts(hay, s, e, out);
        }
        if flags & PCT != 0 {
            out.extend((s + 1..e).filter(|&k| hay[k] == b'%'));
        }
        if flags & DASH != 0 && e - s >= 13 {
            out.extend(
                (s + 3..e)
                    .filter(|&k| hay[k] == b'-' && fast::starts_with_ci(hay, k - 3, b"cve"))
                    .map(|k| k - 3),
            );
        }
        if e - s >= 32 {
            let mut k = s;
            while k < e {
                // Hex runs found 16 bytes at a time (a hash is one run of 32 or more).
                let h = block::hex_end(hay, k).min(e);
                if h - k >= 32 {
                    out.push(k);
                }
                k = h + 1;
            }
        }
    }

    /// [`Scanner::match_at`] at a byte outside the word runs (`.`, `/`, `\`, `:`, `~`), kept
    /// out of line: the walk's loop stays small, and these starts are rarer than runs.
    #[inline(never)]
    fn match_at_other(
        &self,
        hay: &[u8],
        s: usize,
        email: &mut MatchMemo,
    ) -> Option<(usize, usize)> {
        self.match_at(hay, s, s, s, email)
    }

    /// The preferred match of the union anchored at `s` (pattern id and end), if any: the
    /// patterns in priority order, each decided by an exact hand check, or by a necessary
    /// condition followed by that pattern's own anchored regex.
    ///
    /// `run_end` is the end of the `W` run holding `s` and `label_end` the end of the label run
    /// from `s` (both `s` itself when `hay[s]` is not a `W` byte); with them each
    /// pattern is gated in O(1): a scheme or hive is a whole run followed by its separator, a
    /// local part needs a `.` or an `@` marker after the run, a label ends where the run does.
    #[inline(always)]
    fn match_at(
        &self,
        hay: &[u8],
        s: usize,
        run_end: usize,
        label_end: usize,
        email: &mut MatchMemo,
    ) -> Option<(usize, usize)> {
        let defanged = self.defanged;
        let first = hay[s];
        let lower = first | 0x20;
        let after_run = at(hay, run_end);
        // Each pattern is only tried where its first byte allows it to start.
        if matches!(lower, b'h' | b'f' | b's' | b't' | b'l')
            && (3..=6).contains(&(run_end - s))
            && matches!(after_run, b':' | b'[' | b'(' | b'{')
        {
            if let Some((parts, end)) = fast::url_match(hay, s, defanged) {
                email.url = Some((s, parts));
                return Some((patterns::PAT_URL, end));
            }
        }
        if CLASS[usize::from(first)] & W != 0
            && fast::may_continue_local_part(hay, run_end, defanged)
        {
            if let Some(end) = email.email_end(hay, s, defanged, |local_end| {
                fast::email_end(hay, local_end, defanged)
            }) {
                return Some((patterns::PAT_EMAIL, end));
            }
        }
        if lower == b'h' && matches!(after_run, b':' | b'\\') {
            if let Some(end) = fast::registry_end(hay, s) {
                return Some((patterns::PAT_REGISTRY, end));
            }
        }
        if matches!(first, b'\\' | b'%' | b'.') || at(hay, s + 1) == b':' {
            if let Some(end) = fast::windows_path_end(hay, s) {
                return Some((patterns::PAT_WINDOWS_PATH, end));
            }
        }
        if matches!(first, b'/' | b'.' | b'~') {
            if let Some(end) = fast::linux_path_end(hay, s) {
                return Some((patterns::PAT_LINUX_PATH, end));
            }
        }
        if lower == b'c' {
            if let Some(end) = fast::cve_at(hay, s) {
                return Some((patterns::PAT_CVE, end));
            }
        }
        // The hex-led patterns. Hex digits are `W` bytes, so a hex run from `s` lies inside
        // the word run: an IPv6 candidate's first group (at most four hex digits, then `:`) is
        // the whole run, followed by a `:`; a hash (32+ hex digits) needs a run of 32 or more.
        let run_len = run_end - s;
        if run_len <= 4 && after_run == b':' && hay[s..run_end].iter().all(|&b| fast::is_hex(b)) {
            if let Some((end, may_be_address)) = fast::ipv6_candidate(hay, s) {
                let pattern = if may_be_address {
                    patterns::PAT_IPV6
                } else {
                    patterns::PAT_IPV6_REFUSED
                };
                return Some((pattern, end));
            }
        }
        if run_len >= 32 {
            let hex_end = block::hex_end(hay, s);
            if hex_end - s >= 32 {
                return Some((patterns::PAT_HASH, hex_end));
            }
        }
        if first == b'-' || CLASS[usize::from(first)] & fast::LABEL == 0 {
            return None;
        }
        fast::dotted_from(hay, label_end, defanged).map(|end| (patterns::PAT_DOTTED, end))
    }

    /// A dotted name: an IPv4 address, a domain, or neither (version numbers, file names). When
    /// neither, its plain labels may still be whole hashes (`<sha256>.exe` after a prefix) and
    /// its `-`-separated parts IPv4 addresses (`10.0.0.1-10.0.0.9`).
    fn on_dotted<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        sc: &mut Scratch,
        hay: &[u8],
        start: usize,
        end: usize,
    ) -> usize {
        // Dotted names are ASCII at both ends, so this slice of the caller's text exists.
        let Some(span) = em.text.get(start..end) else {
            return end;
        };
        // An IPv4 address (digits and dots only, so plain and numeric) is parsed at once; any
        // other name starting with a digit goes the general way below.
        let digit_first = span.as_bytes()[0].is_ascii_digit();
        if digit_first {
            if let Some(address) = ipv4_canonical(span, &mut sc.other) {
                em.emit(IocType::Ipv4, start, end, address);
                return end;
            }
        }
        // A name written plainly (`[A-Za-z0-9_.-]`, most names) is validated from the facts of
        // one pass, in place when it is in lower case (it is then its own canonical form), else
        // on a lower-cased copy; other names are refanged first.
        let facts = plain_name(hay, start, end);
        if digit_first && facts.is_some_and(|facts| facts.numeric) {
            // Digits and dots written plainly (a version number, an OID): its canonical form is
            // the span itself, just refused as an address above.
            return end;
        }
        let (canonical, defanged): (&str, bool) = match facts {
            Some(facts) if !facts.upper => (span, false),
            Some(_) => {
                sc.canonical.clear();
                sc.canonical.push_str(span);
                sc.canonical.make_ascii_lowercase();
                (&sc.canonical, false)
            }
            None => {
                sc.canonical.clear();
                let defanged = refang_host_str(span, &mut sc.canonical);
                (&sc.canonical, defanged)
            }
        };
        let numeric = match facts {
            Some(facts) => facts.numeric,
            None => canonical.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
        };
        if numeric {
            if let Some(address) = ipv4_canonical(canonical, &mut sc.other) {
                em.emit(IocType::Ipv4, start, end, address);
            }
            return end;
        }
        let domain = match facts {
            Some(facts) => facts.is_domain(canonical, DomainContext::Bare, false, self.ignore_tlds),
            None => is_domain(canonical, DomainContext::Bare, defanged, self.ignore_tlds),
        };
        if domain {
            em.emit(IocType::Dns, start, end, canonical);
            return end;
        }
        if defanged {
            return end;
        }
        // Plain token: the canonical form is the lower-cased text, offsets line up. Its
        // dot-separated labels may be hashes (only looked at when one has a hash's length, or
        // when the name holds other bytes), its `-`-separated parts IPv4 addresses.
        let token = &hay[start..end];
        let marker = facts.is_none();
        // The shortest hash has 32 digits: most tokens (file names, versions) are shorter and
        // need no look at their labels.
        let hash_label = token.len() >= 32
            && token
                .split(|&b| b == b'.')
                .any(|label| hash_type_for_len(label.len()).is_some());
        let dash = token.contains(&b'-');
        let mut offset = 0;
        for label in
            token
                .split(|&b| b == b'.')
                .take(if hash_label || marker { usize::MAX } else { 0 })
        {
            if let Some(ioc_type) = hash_type_for_len(label.len()) {
                if label.iter().all(u8::is_ascii_hexdigit) {
                    let s = start + offset;
                    em.emit(
                        ioc_type,
                        s,
                        s + label.len(),
                        &canonical[offset..offset + label.len()],
                    );
                }
            }
            offset += label.len() + 1;
        }
        if dash {
            let mut offset = 0;
            for part in token.split(|&b| b == b'-') {
                if part.iter().all(|b| b.is_ascii_digit() || *b == b'.')
                    && ipv4_from_dotted(&canonical[offset..offset + part.len()], &mut sc.other)
                {
                    let s = start + offset;
                    em.emit(IocType::Ipv4, s, s + part.len(), &sc.other);
                }
                offset += part.len() + 1;
            }
        }
        end
    }

    fn on_email<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        sc: &mut Scratch,
        hay: &[u8],
        start: usize,
        end: usize,
    ) -> usize {
        let span = &hay[start..end];
        let Some(at) = span
            .iter()
            .position(|&b| matches!(b, b'@' | b'[' | b'(' | b'{' | b' '))
        else {
            return end;
        };
        let Some(at_len) = at_marker_len(&span[at..]) else {
            return end;
        };
        let domain_start = start + at + at_len;
        sc.host.clear();
        // A domain written plainly (most) is validated from the facts of one pass.
        let facts = plain_name(hay, domain_start, end);
        let defanged = match (facts, em.text.get(domain_start..end)) {
            (Some(facts), Some(domain)) => {
                sc.host.push_str(domain);
                if facts.upper {
                    sc.host.make_ascii_lowercase();
                }
                false
            }
            (None, Some(domain)) => refang_host_str(domain, &mut sc.host),
            (_, None) => refang_host(&hay[domain_start..end], &mut sc.host),
        } || at_len != 1;
        let domain_ok = |host: &str| match facts {
            Some(facts) => facts.is_domain(host, DomainContext::Host, defanged, self.ignore_tlds),
            None => is_domain(host, DomainContext::Host, defanged, self.ignore_tlds),
        };
        if at > MAX_EMAIL_LOCAL_LEN || !domain_ok(&sc.host) {
            // The domain part may still be something else (`user@10.0.0.1`): scan it again.
            return domain_start;
        }
        sc.canonical.clear();
        sc.canonical
            .push_str(em.text.get(start..start + at).unwrap_or_default());
        sc.canonical.push('@');
        sc.canonical.push_str(&sc.host);
        em.emit(IocType::Email, start, end, &sc.canonical);
        em.emit(IocType::Dns, domain_start, end, &sc.host);
        end
    }

    fn on_windows_path<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        sc: &mut Scratch,
        hay: &[u8],
        start: usize,
        end: usize,
    ) -> usize {
        if start > 0 && is_word_byte(hay[start - 1]) {
            return end;
        }
        let span = &hay[start..end];
        let unc = span.starts_with(b"\\\\");
        let root_len = if span.starts_with(b"\\\\?\\") {
            7
        } else {
            let from = if unc { 2 } else { 0 };
            span[from..]
                .iter()
                .position(|&b| b == b'\\')
                .map_or(span.len(), |i| from + i + 1)
        };
        let trimmed = trim_trailing(hay, start, end, start + root_len);
        if trimmed <= start + root_len {
            return end;
        }
        if let Some(path) = em.text.get(start..trimmed) {
            em.emit(IocType::WindowsPath, start, trimmed, path);
        }
        if unc && !matches!(span.get(2), Some(b'?' | b'.')) && root_len > 3 {
            let (host_start, host_end) = (start + 2, start + root_len - 1);
            sc.host.clear();
            refang_host(&hay[host_start..host_end], &mut sc.host);
            self.emit_host(em, sc, host_start, host_end);
        }
        trimmed
    }

    /// Emits a server name (refanged, in `sc.host`) as ipv4 or dns if it is one.
    fn emit_host<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        sc: &mut Scratch,
        start: usize,
        end: usize,
    ) {
        if sc.host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            if ipv4_from_dotted(&sc.host, &mut sc.other) {
                em.emit(IocType::Ipv4, start, end, &sc.other);
            }
        } else if sc.host.contains('.')
            && is_domain(&sc.host, DomainContext::Host, true, self.ignore_tlds)
        {
            em.emit(IocType::Dns, start, end, &sc.host);
        }
    }

    /// A URL candidate in `hay[start..end]` (the text itself, or a percent-decoded copy of part
    /// of it at `depth` > 0). Returns where the search goes on.
    #[allow(clippy::too_many_arguments)]
    fn on_url<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        sc: &mut Scratch,
        hay: &[u8],
        mapping: Mapping<'_>,
        (start, end, known_parts): (usize, usize, Option<fast::UrlParts>),
        depth: usize,
        budget: Option<&mut usize>,
    ) -> usize {
        let Some(parts) =
            known_parts.or_else(|| fast::url_parts(&hay[..end], start, self.defanged))
        else {
            return end;
        };
        let (scheme, sep) = (parts.scheme, parts.sep);
        let (userinfo, host, port) = (parts.userinfo, parts.host, parts.port);
        let authority_end = [Some(sep), userinfo, host, port]
            .iter()
            .flatten()
            .map(|g| g.1)
            .max()
            .unwrap_or(sep.1);
        let trimmed = trim_trailing(hay, start, end, authority_end);
        // Most URLs hold no bracket, `%` or `:` after their scheme separator: then their rest
        // needs no refang and holds no nested URL, and neither is searched for.
        let marks = block::url_tail_marks(hay, sep.1, trimmed);
        // The facts of a host written plainly, read once for both ways below.
        let host_facts = match host {
            Some((a, b)) if hay.get(a) != Some(&b'[') => plain_name(hay, a, b),
            _ => None,
        };
        // A URL written in its canonical form (most URLs) is reported as written.
        if let Some(host_ok) = self.verbatim_url(
            em,
            hay,
            mapping,
            (&parts, host_facts),
            (start, authority_end, trimmed),
            marks,
        ) {
            if !host_ok {
                return rejected_url_resume(budget, authority_end, end);
            }
            if depth < MAX_URL_NESTING && sep.1 < trimmed && marks {
                self.nested_urls(em, sc, hay, mapping, sep.1, trimmed, depth + 1);
            }
            return trimmed;
        }

        sc.canonical.clear();
        let mut defanged = refang_scheme(&hay[scheme.0..scheme.1], &mut sc.canonical);
        let is_file = sc.canonical == "file";
        defanged |= is_defanged_scheme_separator(&hay[sep.0..sep.1]);
        sc.canonical.push_str("://");
        if let Some((a, b)) = userinfo {
            match mapping.text(em.text, a, b) {
                Some(written) => sc.canonical.push_str(written),
                None => sc.canonical.push_str(&String::from_utf8_lossy(&hay[a..b])),
            }
        }
        // Validate the host; remember its canonical form and its span for the derived match.
        let mut host_match: Option<(IocType, usize, usize)> = None;
        let host_ok = match host {
            None => is_file,
            Some((a, b)) if hay[a] == b'[' => {
                let inner_end = hay[a..b]
                    .iter()
                    .position(|&c| c == b'%' || c == b']')
                    .map_or(b, |i| a + i);
                let inner = match mapping.text(em.text, a + 1, inner_end) {
                    Some(inner) => inner,
                    None => std::str::from_utf8(&hay[a + 1..inner_end]).unwrap_or_default(),
                };
                if ipv6_canonical(inner, &mut sc.host) {
                    sc.canonical.push('[');
                    sc.canonical.push_str(&sc.host);
                    sc.canonical.push(']');
                    host_match = Some((IocType::Ipv6, a + 1, inner_end));
                    true
                } else {
                    false
                }
            }
            Some((a, b)) => {
                sc.host.clear();
                // A host written plainly (most): copied (lower-cased if needed) and validated
                // from the facts of one pass; else refanged and validated the general way.
                let facts = host_facts;
                if let Some(facts) = facts {
                    match mapping.text(em.text, a, b) {
                        Some(written) => sc.host.push_str(written),
                        // A plain name is ASCII.
                        None => sc.host.extend(hay[a..b].iter().map(|&c| char::from(c))),
                    }
                    if facts.upper {
                        sc.host.make_ascii_lowercase();
                    }
                } else {
                    defanged |= match mapping.text(em.text, a, b) {
                        Some(written) => refang_host_str(written, &mut sc.host),
                        None => refang_host(&hay[a..b], &mut sc.host),
                    };
                }
                let numeric = match facts {
                    Some(facts) => facts.numeric,
                    None => sc.host.bytes().all(|c| c.is_ascii_digit() || c == b'.'),
                };
                let domain = |host: &str, defanged: bool| match facts {
                    Some(facts) => {
                        facts.is_domain(host, DomainContext::Host, defanged, self.ignore_tlds)
                    }
                    None => is_domain(host, DomainContext::Host, defanged, self.ignore_tlds),
                };
                if numeric {
                    if ipv4_from_dotted(&sc.host, &mut sc.other) {
                        std::mem::swap(&mut sc.host, &mut sc.other);
                        host_match = Some((IocType::Ipv4, a, b));
                        true
                    } else {
                        false
                    }
                } else if domain(&sc.host, defanged) {
                    if sc.host.contains('.') {
                        host_match = Some((IocType::Dns, a, b));
                    }
                    true
                } else {
                    false
                }
            }
        };
        if !host_ok {
            return rejected_url_resume(budget, authority_end, end);
        }
        if host.is_some() && host_match.as_ref().is_none_or(|h| h.0 != IocType::Ipv6) {
            sc.canonical.push_str(&sc.host);
        }
        if let Some((a, b)) = port {
            // Digits and a colon: ASCII.
            sc.canonical
                .extend(hay[a..b].iter().map(|&digit| char::from(digit)));
        }
        match mapping.text(em.text, authority_end, trimmed) {
            // No bracket in the rest (`marks`): no defanged dot to refang.
            Some(rest) if !marks => sc.canonical.push_str(rest),
            Some(rest) => refang_dots(rest, &mut sc.canonical),
            None => refang_dots(
                &String::from_utf8_lossy(&hay[authority_end..trimmed]),
                &mut sc.canonical,
            ),
        }

        em.emit(
            IocType::Url,
            mapping.at(start),
            mapping.at(trimmed),
            &sc.canonical,
        );
        if let Some((ioc_type, a, b)) = host_match {
            em.emit(ioc_type, mapping.at(a), mapping.at(b), &sc.host);
        }
        if depth < MAX_URL_NESTING && sep.1 < trimmed && marks {
            self.nested_urls(em, sc, hay, mapping, sep.1, trimmed, depth + 1);
        }
        trimmed
    }

    /// A URL (`hay[start..trimmed]`, its authority ending at `authority_end`) whose canonical
    /// form is its own bytes: a plain lower-case scheme, `://`, a host written plainly in lower
    /// case (a name, or an IPv4 address without leading zeros), no defanged dot after the
    /// authority, and valid UTF-8. Such a URL (most of them) is validated and reported with its
    /// bytes as the canonical value, and its host with the host's bytes, without building either.
    /// `host_facts` are the [`PlainName`] facts of its host, `marks` is
    /// [`block::url_tail_marks`] of the part after the scheme separator.
    /// Returns `None` (nothing done) for any other URL, else whether its host is valid (the URL
    /// and its host were then reported).
    fn verbatim_url<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        hay: &[u8],
        mapping: Mapping<'_>,
        (parts, host_facts): (&fast::UrlParts, Option<PlainName>),
        (start, authority_end, trimmed): (usize, usize, usize),
        marks: bool,
    ) -> Option<bool> {
        let (a, b) = parts.host?;
        if !is_plain_scheme(&hay[parts.scheme.0..parts.scheme.1])
            || &hay[parts.sep.0..parts.sep.1] != b"://"
        {
            return None;
        }
        let facts = host_facts?;
        // (`marks` covers the rest: no bracket in it, no bracketed dot.)
        if facts.upper || (marks && has_bracketed_dot(&hay[authority_end..trimmed])) {
            return None;
        }
        let url = match mapping {
            // The caller's text: only the ends need to be character boundaries.
            Mapping::Identity => em.text.get(start..trimmed)?,
            Mapping::Table { .. } => std::str::from_utf8(&hay[start..trimmed]).ok()?,
        };
        // A plain name is ASCII, so its ends are character boundaries.
        let host = &url[a - start..b - start];
        let host_type = if facts.numeric {
            // Written into only for an address with a leading zero (another canonical form,
            // left to the general way).
            let mut leading_zero = String::new();
            if ipv4_canonical(host, &mut leading_zero).is_none() {
                return Some(false);
            }
            if !leading_zero.is_empty() {
                return None;
            }
            IocType::Ipv4
        } else if facts.is_domain(host, DomainContext::Host, false, self.ignore_tlds) {
            IocType::Dns
        } else {
            return Some(false);
        };
        em.emit(IocType::Url, mapping.at(start), mapping.at(trimmed), url);
        if host_type == IocType::Ipv4 || facts.is_dotted() {
            em.emit(host_type, mapping.at(a), mapping.at(b), host);
        }
        Some(true)
    }

    /// Looks for URLs inside `hay[from..to]` (the part of a URL after its `://`), decoding
    /// percent-escapes first when there are any.
    #[allow(clippy::too_many_arguments)]
    fn nested_urls<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        sc: &mut Scratch,
        hay: &[u8],
        mapping: Mapping<'_>,
        from: usize,
        to: usize,
        depth: usize,
    ) {
        let part = &hay[from..to];
        let Some(first_percent) = memchr::memchr(b'%', part) else {
            self.search_urls(em, sc, hay, mapping, from, to, depth);
            return;
        };
        // Every scheme separator holds a `:`, and a decoded `:` was written `:` or `%3A`: without
        // either there is nothing to decode for.
        if memchr::memchr(b':', part).is_none() && !has_escaped_colon(&part[first_percent..]) {
            return;
        }
        let (mut decoded, mut map) = (
            std::mem::take(&mut sc.decoded),
            std::mem::take(&mut sc.decoded_map),
        );
        decoded.clear();
        map.clear();
        decoded.reserve(part.len());
        map.reserve(part.len());
        // The bytes between escapes are copied in runs, their offsets mapped in runs.
        let copy_run = |decoded: &mut Vec<u8>, map: &mut Vec<usize>, a: usize, b: usize| {
            decoded.extend_from_slice(&part[a..b]);
            match mapping {
                Mapping::Identity => map.extend(from + a..from + b),
                Mapping::Table { .. } => map.extend((from + a..from + b).map(|k| mapping.at(k))),
            }
        };
        let mut i = 0;
        let mut next_percent = Some(first_percent);
        while let Some(p) = next_percent {
            copy_run(&mut decoded, &mut map, i, p);
            let hex = |c: u8| char::from(c).to_digit(16);
            let escaped = match (part.get(p + 1), part.get(p + 2)) {
                (Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| (h * 16 + l) as u8),
                _ => None,
            };
            match escaped {
                Some(byte) => {
                    decoded.push(byte);
                    map.push(mapping.at(from + p));
                    i = p + 3;
                }
                None => {
                    copy_run(&mut decoded, &mut map, p, p + 1);
                    i = p + 1;
                }
            }
            next_percent = memchr::memchr(b'%', &part[i..]).map(|k| i + k);
        }
        copy_run(&mut decoded, &mut map, i, part.len());
        let inner = Mapping::Table {
            map: &map,
            end: mapping.at(to),
        };
        self.search_urls(em, sc, &decoded, inner, 0, decoded.len(), depth);
        (sc.decoded, sc.decoded_map) = (decoded, map);
    }

    #[allow(clippy::too_many_arguments)]
    fn search_urls<S: IocSink + ?Sized>(
        &self,
        em: &mut Emitter<'_, '_, S>,
        sc: &mut Scratch,
        hay: &[u8],
        mapping: Mapping<'_>,
        from: usize,
        to: usize,
        depth: usize,
    ) {
        // Every scheme separator holds a `:`: without one there is no URL to look for.
        if memchr::memchr(b':', &hay[from..to]).is_none() {
            return;
        }
        // The leftmost position at or after `pos` where the URL pattern matches (anchored there,
        // the matcher gives the pattern's leftmost-first end), in `hay[..to]`: what one
        // unanchored search of the pattern would report. A scheme starts with one of `hfstl`.
        // Only positions 3 to 6 bytes (a scheme's length) before a byte that can begin a scheme
        // separator are tried; `sep` is a forward-only cursor on those bytes, so the search reads
        // the tail once however many URLs it holds.
        //
        // Every scheme separator has its `:` first or right after its opening bracket, so only
        // those bytes are visited (found with memchr): a scheme can end nowhere else, and the
        // leftmost match is the same as when every bracket is visited too.
        let cut = &hay[..to];
        let defanged = self.defanged;
        let next_sep = |from: usize| -> Option<usize> {
            let colon = from + memchr::memchr(b':', cut.get(from..)?)?;
            Some(
                if defanged && colon > from && matches!(cut[colon - 1], b'[' | b'(' | b'{') {
                    colon - 1
                } else {
                    colon
                },
            )
        };
        let mut sep = from;
        let mut pos = from;
        while pos < to {
            let mut found = None;
            let mut s = pos;
            while found.is_none() {
                sep = sep.max(s + 3);
                match next_sep(sep) {
                    Some(next) => sep = next,
                    None => {
                        sep = to;
                        break;
                    }
                }
                // A scheme ending at `sep` starts at `sep - 6` at the earliest; every start
                // before that and from `s` on would need a separator before `sep`.
                found = (s.max(sep.saturating_sub(6))..=sep - 3).find_map(|t| {
                    if matches!(cut[t] | 0x20, b'h' | b'f' | b's' | b't' | b'l') {
                        fast::url_match(cut, t, defanged).map(|(parts, end)| (t, end, parts))
                    } else {
                        None
                    }
                });
                s = sep - 2;
            }
            let Some((start, end, parts)) = found else {
                break;
            };
            // The parts the matcher found are those of the URL cut at its end (see `url_match`).
            let resume = self.on_url(em, sc, hay, mapping, (start, end, Some(parts)), depth, None);
            pos = resume.max(start + 1);
        }
    }
}

/// Where the search goes on after a URL candidate whose host was refused: nothing here is a
/// URL, but URLs or names may follow the rejected authority (`hay[authority_end..end]` is read
/// again when the candidate's `budget` allows).
fn rejected_url_resume(budget: Option<&mut usize>, authority_end: usize, end: usize) -> usize {
    match budget {
        Some(budget) if *budget >= end - authority_end => {
            *budget -= end - authority_end;
            authority_end
        }
        Some(_) => end,
        None => authority_end,
    }
}

/// Whether a written scheme is one of the URL pattern's schemes in its canonical form (lower
/// case, not defanged).
/// Whether `bytes` hold a percent-escaped colon (`%3A` or `%3a`).
fn has_escaped_colon(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'%', bytes)
        .any(|p| bytes.get(p + 1) == Some(&b'3') && matches!(bytes.get(p + 2), Some(b'a' | b'A')))
}

fn is_plain_scheme(scheme: &[u8]) -> bool {
    matches!(
        scheme,
        b"http"
            | b"https"
            | b"ftp"
            | b"ftps"
            | b"sftp"
            | b"sftps"
            | b"telnet"
            | b"ldap"
            | b"ldaps"
            | b"file"
    )
}

fn on_registry<S: IocSink + ?Sized>(
    em: &mut Emitter<'_, '_, S>,
    hay: &[u8],
    start: usize,
    end: usize,
) -> usize {
    if start > 0 && is_word_byte(hay[start - 1]) {
        return end;
    }
    let root_len = hay[start..end]
        .iter()
        .position(|&b| b == b'\\')
        .map_or(end - start, |i| i + 1);
    let trimmed = trim_trailing(hay, start, end, start + root_len);
    if trimmed > start + root_len {
        if let Some(key) = em.text.get(start..trimmed) {
            em.emit(IocType::RegistryKey, start, trimmed, key);
        }
    }
    trimmed.max(start + root_len)
}

fn on_linux_path<S: IocSink + ?Sized>(
    em: &mut Emitter<'_, '_, S>,
    sc: &mut Scratch,
    hay: &[u8],
    start: usize,
    end: usize,
) -> usize {
    // A path starts a word: after white space, a quote, `=`, an opening bracket or a list
    // separator, never glued to a name (`evil.com/x`) or a number (`12/31/2024`).
    let starts_word = start == 0
        || matches!(
            hay[start - 1],
            b' ' | b'\t'
                | b'\r'
                | b'\n'
                | b'"'
                | b'\''
                | b'`'
                | b'='
                | b'('
                | b'['
                | b'{'
                | b','
                | b';'
                | b'|'
                | b'<'
                | b'>'
                | b'&'
                | b':'
        );
    if !starts_word {
        return end;
    }
    let first_slash = hay[start..end].iter().position(|&b| b == b'/').unwrap_or(0);
    let trimmed = trim_trailing(hay, start, end, start + first_slash + 2);
    // Still a path after trimming: a root form with a segment, or two segments after `/`.
    let path = &hay[start..trimmed];
    let segments = path.split(|&b| b == b'/').filter(|s| !s.is_empty()).count();
    if segments >= 2 {
        if let Some(text) = em.text.get(start..trimmed) {
            em.emit(IocType::LinuxPath, start, trimmed, text);
        }
        // Segments that are IPv4 addresses are reported too (`/dev/tcp/10.0.0.1/4444`).
        let mut offset = start;
        for segment in path.split(|&b| b == b'/') {
            if segment.len() >= 7 && segment.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
                if let Some(dotted) = em.text.get(offset..offset + segment.len()) {
                    if ipv4_from_dotted(dotted, &mut sc.other) {
                        em.emit(IocType::Ipv4, offset, offset + segment.len(), &sc.other);
                    }
                }
            }
            offset += segment.len() + 1;
        }
    }
    trimmed
}

fn on_cve<S: IocSink + ?Sized>(
    em: &mut Emitter<'_, '_, S>,
    sc: &mut Scratch,
    hay: &[u8],
    start: usize,
    end: usize,
) -> usize {
    let glued_before = start > 0 && is_word_byte(hay[start - 1]);
    let glued_after = hay.get(end).is_some_and(|b| b.is_ascii_digit());
    if !glued_before && !glued_after {
        // CVE ids are ASCII: copied whole, then upper-cased in place.
        sc.canonical.clear();
        sc.canonical
            .push_str(em.text.get(start..end).unwrap_or_default());
        sc.canonical.make_ascii_uppercase();
        em.emit(IocType::Cve, start, end, &sc.canonical);
    }
    end
}

fn on_ipv6<S: IocSink + ?Sized>(
    em: &mut Emitter<'_, '_, S>,
    sc: &mut Scratch,
    hay: &[u8],
    start: usize,
    end: usize,
) -> usize {
    let glued_before =
        start > 0 && (is_word_byte(hay[start - 1]) || matches!(hay[start - 1], b':' | b'.' | b']'));
    let glued_after = match hay.get(end) {
        Some(b) if is_word_byte(*b) || *b == b':' => true,
        Some(b'.') => hay.get(end + 1).is_some_and(u8::is_ascii_alphanumeric),
        _ => false,
    };
    if !glued_before && !glued_after {
        let candidate = em.text.get(start..end).unwrap_or_default();
        if ipv6_canonical(candidate, &mut sc.canonical) {
            em.emit(IocType::Ipv6, start, end, &sc.canonical);
        }
    }
    end
}

fn on_hash<S: IocSink + ?Sized>(
    em: &mut Emitter<'_, '_, S>,
    sc: &mut Scratch,
    hay: &[u8],
    start: usize,
    end: usize,
) -> usize {
    let glued_before = start > 0 && hay[start - 1].is_ascii_hexdigit();
    if let (false, Some(ioc_type)) = (glued_before, hash_type_for_len(end - start)) {
        // Hex digits are ASCII: copied whole, then lower-cased in place.
        sc.canonical.clear();
        sc.canonical
            .push_str(em.text.get(start..end).unwrap_or_default());
        sc.canonical.make_ascii_lowercase();
        em.emit(ioc_type, start, end, &sc.canonical);
    }
    end
}

#[cfg(test)]
mod tests {
    //! Differential test: the hand-written candidate finder against one unanchored
    //! leftmost-first search of the union of all patterns (the design it replaces), on seeded
    //! inputs built from IoC fragments, for every option combination.

    use super::*;
    use crate::OwnedIocMatch;

    /// The previous scanner: the union regex, searched unanchored from each resume position.
    fn scan_with_union(extractor: &IocExtractor, union: &Regex, text: &str) -> Vec<OwnedIocMatch> {
        let mut out: Vec<OwnedIocMatch> = Vec::new();
        let mut em = Emitter {
            text,
            extractor,
            all_types: false,
            sink: &mut out,
        };
        let scanner = &extractor.scanner;
        let hay = text.as_bytes();
        let mut scratch = Scratch::default();
        let mut budget = hay.len();
        let mut pos = 0;
        while pos < hay.len() {
            let Some(m) = union.search(&Input::new(hay).range(pos..)) else {
                break;
            };
            let resume = scanner.dispatch(
                &mut em,
                &mut scratch,
                hay,
                (m.pattern().as_usize(), m.start(), m.end()),
                None,
                &mut budget,
            );
            pos = resume.max(m.start() + 1);
        }
        out
    }

    /// `fast::url_parts` against the `url_parts` regex's capture groups at every URL candidate.
    fn check_url_parts(url_parts: &Regex, url: &Regex, text: &str, defanged: bool) {
        let hay = text.as_bytes();
        for m in url.find_iter(hay) {
            let mut caps = url_parts.create_captures();
            url_parts.captures(
                Input::new(&hay[m.start()..m.end()]).anchored(Anchored::Yes),
                &mut caps,
            );
            let group = |name: &str| {
                caps.get_group_by_name(name)
                    .map(|g| (m.start() + g.start, m.start() + g.end))
            };
            let expected = group("scheme").map(|scheme| fast::UrlParts {
                scheme,
                sep: group("sep").expect("sep"),
                userinfo: group("userinfo"),
                host: group("host"),
                port: group("port"),
            });
            let got = fast::url_parts(&hay[..m.end()], m.start(), defanged);
            assert_eq!(got, expected, "url parts of {:?}", &text[m.range()]);
        }
    }

    /// Every hand-written matcher against its pattern's anchored regex, at every position.
    fn check_matchers(singles: &[Regex], text: &str, defanged: bool) {
        let hay = text.as_bytes();
        for s in 0..hay.len() {
            let regex_end = |id: usize| {
                singles[id]
                    .search(&Input::new(hay).range(s..).anchored(Anchored::Yes))
                    .map(|m| m.end())
            };
            let email = if CLASS[usize::from(hay[s])] & W != 0 {
                fast::email_end(hay, fast::local_part_end(hay, s), defanged)
            } else {
                None
            };
            let hand = [
                (patterns::PAT_URL, fast::url_end(hay, s, defanged)),
                (patterns::PAT_EMAIL, email),
                (patterns::PAT_REGISTRY, fast::registry_end(hay, s)),
                (patterns::PAT_WINDOWS_PATH, fast::windows_path_end(hay, s)),
                (patterns::PAT_LINUX_PATH, fast::linux_path_end(hay, s)),
                (patterns::PAT_CVE, fast::cve_at(hay, s)),
                (patterns::PAT_IPV6, fast::ipv6_at(hay, s)),
                (patterns::PAT_HASH, fast::hash_at(hay, s)),
                (patterns::PAT_DOTTED, fast::dotted_at(hay, s, defanged)),
            ];
            for (id, got) in hand {
                assert_eq!(got, regex_end(id), "pattern {id} at {s} in {text:?}");
            }
        }
    }

    const FRAGMENTS: &[&str] = &[
        " ",
        " ",
        " ",
        "  ",
        "\t",
        ".",
        ".",
        "..",
        "[.]",
        "(.)",
        "{.}",
        "[dot]",
        "(DOT)",
        "[.",
        ".]",
        " [.] ",
        "@",
        "[at]",
        " (at) ",
        "{@}",
        ":",
        "::",
        "://",
        "[://]",
        "[:]//",
        "/",
        "//",
        "\\",
        "\\\\",
        "~",
        "%",
        "+",
        "-",
        "_",
        "'",
        "\"",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "?",
        "#",
        "=",
        "&",
        ",",
        ";",
        "|",
        "<",
        ">",
        "*",
        "$",
        "!",
        "é",
        "http",
        "hxxps",
        "HTTPS",
        "ftp",
        "sfxp",
        "ldaps",
        "file",
        "telnet",
        "evil",
        "com",
        "co",
        "uk",
        "zip",
        "exe",
        "cmd",
        "example",
        "www",
        "a",
        "x",
        "Z9",
        "c",
        "C:",
        "c:\\",
        "\\\\srv\\",
        "\\\\?\\",
        "%APPDATA%",
        "%PROGRAMFILES(X86)%",
        "HKLM",
        "hkey_local_machine",
        "hku",
        "Software",
        "cve-2021-1234",
        "CVE-2020-12345678",
        "cve",
        "10",
        "0",
        "255",
        "256",
        "1.2.3.4",
        "192.168.1.1",
        "fe80",
        "2001:db8::1",
        "12:30:45",
        "ffff",
        "abcdef",
        "0123456789abcdef0123456789abcdef",
        "0123456789abcdef01234567",
        "dev",
        "tcp",
        "etc",
        "tmp",
        "user",
        "first.last",
        "%41",
        "%3A%2F%2F",
        "?u=",
        "a%2Eb",
        "\n",
        "xn--p1ai",
        "github.io",
    ];

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

    /// A candidate the finder refuses as an IPv6 address is refused by the validator too.
    #[test]
    fn refused_ipv6_candidates_are_not_addresses() {
        const ALPHABET: &[u8] = b"0123456789abcdef::::...fx 1";
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut refused, mut kept) = (0, 0);
        let mut out = String::new();
        for _ in 0..20_000 {
            let len = 1 + (rng.next() % 48) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize])
                .collect();
            let text = String::from_utf8(text).expect("ASCII");
            for s in 0..text.len() {
                let Some((end, may_be_address)) = fast::ipv6_candidate(text.as_bytes(), s) else {
                    continue;
                };
                if may_be_address {
                    kept += 1;
                } else {
                    refused += 1;
                    assert!(
                        !ipv6_canonical(&text[s..end], &mut out),
                        "{:?}",
                        &text[s..end]
                    );
                }
            }
        }
        assert!(
            refused > 1000 && kept > 1000,
            "{refused} refused, {kept} kept"
        );
        for clock in ["17:54:59", "00:00:00.123", "aa:bb:cc:dd:ee:ff"] {
            assert_eq!(
                fast::ipv6_candidate(clock.as_bytes(), 0).map(|c| c.1),
                Some(false)
            );
        }
        for address in [
            "1:2:3:4:5:6:7:8",
            "fe80::1",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
        ] {
            assert_eq!(
                fast::ipv6_candidate(address.as_bytes(), 0).map(|c| c.1),
                Some(true)
            );
        }
    }

    #[test]
    fn escaped_colons() {
        for (text, expected) in [
            ("%3A", true),
            ("%3a", true),
            ("x%2F%3Ay", true),
            ("%3", false),
            ("%", false),
            ("%2F%3B", false),
            ("%%3a", true),
            ("3A", false),
            ("", false),
        ] {
            assert_eq!(has_escaped_colon(text.as_bytes()), expected, "{text:?}");
        }
    }

    #[test]
    fn finder_equals_union_search() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for bits in 0..4u8 {
            let defanged = bits & 1 == 0;
            let extractor = IocExtractor::builder()
                .defanged(defanged)
                .ignore_tlds(bits & 2 != 0)
                .build()
                .expect("builds");
            let set = PatternSet::new(defanged);
            let union = compile(&set.main, true).expect("union compiles");
            let url_parts = compile(std::slice::from_ref(&set.url_parts), true).expect("compiles");
            let url = compile(std::slice::from_ref(&set.url), true).expect("compiles");
            let singles: Vec<Regex> = set
                .main
                .iter()
                .map(|p| compile(std::slice::from_ref(p), true).expect("compiles"))
                .collect();
            for round in 0..2500 {
                let pieces = 1 + (rng.next() % 40) as usize;
                let mut text = String::new();
                for _ in 0..pieces {
                    text.push_str(FRAGMENTS[(rng.next() % FRAGMENTS.len() as u64) as usize]);
                }
                check_url_parts(&url_parts, &url, &text, defanged);
                if round % 4 == 0 {
                    check_matchers(&singles, &text, defanged);
                }
                let fast = extractor.extract_vec(&text);
                let slow = scan_with_union(&extractor, &union, &text);
                assert_eq!(fast, slow, "round {round}, options {bits}, text {text:?}");
            }
        }
    }
}
