//! The scanner: one leftmost-first pass over the text, candidates handed to the validators.

use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};

use crate::patterns::{self, PatternSet};
use crate::refang::{
    at_marker_len, is_defanged_scheme_separator, refang_dots, refang_host, refang_scheme,
};
use crate::validate::{
    hash_type_for_len, ipv4_from_dotted, ipv6_canonical, is_domain, DomainContext,
};
use crate::{IocError, IocExtractor, IocMatch, IocSink, IocType};

/// How many levels of URLs inside URLs are searched (`a.com/?u=http%3A%2F%2Fb.com%2F%3Fu%3D...`).
/// Each level reads the URL's bytes once more, so this bounds the extra work per URL.
pub const MAX_URL_NESTING: usize = 2;

/// Longest e-mail local part (RFC 5321).
const MAX_EMAIL_LOCAL_LEN: usize = 64;

#[derive(Debug)]
pub(crate) struct Scanner {
    main: Regex,
    url: Regex,
    url_parts: Regex,
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
    captures: Option<Captures>,
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

impl Scanner {
    pub(crate) fn new(
        defanged: bool,
        ignore_tlds: bool,
        custom: &[(String, String)],
    ) -> Result<Scanner, IocError> {
        let set = PatternSet::new(defanged);
        let main = compile(&set.main, true).map_err(IocError::Internal)?;
        let url = compile(std::slice::from_ref(&set.url), true).map_err(IocError::Internal)?;
        let url_parts =
            compile(std::slice::from_ref(&set.url_parts), true).map_err(IocError::Internal)?;
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
            main,
            url,
            url_parts,
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
        let hay = em.text.as_bytes();
        let mut scratch = Scratch::default();
        // Re-scans after a rejected URL host are paid from this budget, so the total work stays
        // within twice the input length however the input is crafted.
        let mut budget = hay.len();
        let mut pos = 0;
        while pos < hay.len() {
            let Some(m) = self.main.search(&Input::new(hay).range(pos..)) else {
                break;
            };
            let (start, end) = (m.start(), m.end());
            let resume = match m.pattern().as_usize() {
                patterns::PAT_URL => self.on_url(
                    em,
                    &mut scratch,
                    hay,
                    Mapping::Identity,
                    start,
                    end,
                    0,
                    Some(&mut budget),
                ),
                patterns::PAT_EMAIL => self.on_email(em, &mut scratch, hay, start, end),
                patterns::PAT_REGISTRY => on_registry(em, hay, start, end),
                patterns::PAT_WINDOWS_PATH => {
                    self.on_windows_path(em, &mut scratch, hay, start, end)
                }
                patterns::PAT_LINUX_PATH => on_linux_path(em, &mut scratch, hay, start, end),
                patterns::PAT_CVE => on_cve(em, &mut scratch, hay, start, end),
                patterns::PAT_IPV6 => on_ipv6(em, &mut scratch, hay, start, end),
                patterns::PAT_HASH => on_hash(em, &mut scratch, hay, start, end),
                _ => self.on_dotted(em, &mut scratch, hay, start, end),
            };
            pos = resume.max(start + 1);
        }
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
        sc.canonical.clear();
        let defanged = refang_host(&hay[start..end], &mut sc.canonical);
        let numeric = sc
            .canonical
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.');
        if numeric {
            if ipv4_from_dotted(&sc.canonical, &mut sc.other) {
                em.emit(IocType::Ipv4, start, end, &sc.other);
            }
            return end;
        }
        if is_domain(
            &sc.canonical,
            DomainContext::Bare,
            defanged,
            self.ignore_tlds,
        ) {
            em.emit(IocType::Dns, start, end, &sc.canonical);
            return end;
        }
        if defanged {
            return end;
        }
        // Plain token: the canonical form is the lower-cased text, offsets line up.
        let token = &hay[start..end];
        let mut offset = 0;
        for label in token.split(|&b| b == b'.') {
            if let Some(ioc_type) = hash_type_for_len(label.len()) {
                if label.iter().all(u8::is_ascii_hexdigit) {
                    let s = start + offset;
                    em.emit(
                        ioc_type,
                        s,
                        s + label.len(),
                        &sc.canonical[offset..offset + label.len()],
                    );
                }
            }
            offset += label.len() + 1;
        }
        if token.contains(&b'-') {
            let mut offset = 0;
            for part in token.split(|&b| b == b'-') {
                if part.iter().all(|b| b.is_ascii_digit() || *b == b'.')
                    && ipv4_from_dotted(&sc.canonical[offset..offset + part.len()], &mut sc.other)
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
        let defanged = refang_host(&hay[domain_start..end], &mut sc.host) || at_len != 1;
        if at > MAX_EMAIL_LOCAL_LEN
            || !is_domain(&sc.host, DomainContext::Host, defanged, self.ignore_tlds)
        {
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
        start: usize,
        end: usize,
        depth: usize,
        budget: Option<&mut usize>,
    ) -> usize {
        let mut caps = sc
            .captures
            .take()
            .unwrap_or_else(|| self.url_parts.create_captures());
        self.url_parts.captures(
            Input::new(&hay[start..end]).anchored(Anchored::Yes),
            &mut caps,
        );
        let group = |name: &str| {
            caps.get_group_by_name(name)
                .map(|s| (start + s.start, start + s.end))
        };
        let (Some(scheme), Some(sep)) = (group("scheme"), group("sep")) else {
            sc.captures = Some(caps);
            return end;
        };
        let userinfo = group("userinfo");
        let host = group("host");
        let port = group("port");
        sc.captures = Some(caps);
        let authority_end = [Some(sep), userinfo, host, port]
            .iter()
            .flatten()
            .map(|g| g.1)
            .max()
            .unwrap_or(sep.1);
        let trimmed = trim_trailing(hay, start, end, authority_end);

        sc.canonical.clear();
        let mut defanged = refang_scheme(&hay[scheme.0..scheme.1], &mut sc.canonical);
        let is_file = sc.canonical == "file";
        defanged |= is_defanged_scheme_separator(&hay[sep.0..sep.1]);
        sc.canonical.push_str("://");
        if let Some((a, b)) = userinfo {
            sc.canonical.push_str(&String::from_utf8_lossy(&hay[a..b]));
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
                let inner = std::str::from_utf8(&hay[a + 1..inner_end]).unwrap_or_default();
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
                defanged |= refang_host(&hay[a..b], &mut sc.host);
                let numeric = sc.host.bytes().all(|c| c.is_ascii_digit() || c == b'.');
                if numeric {
                    if ipv4_from_dotted(&sc.host, &mut sc.other) {
                        std::mem::swap(&mut sc.host, &mut sc.other);
                        host_match = Some((IocType::Ipv4, a, b));
                        true
                    } else {
                        false
                    }
                } else if is_domain(&sc.host, DomainContext::Host, defanged, self.ignore_tlds) {
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
            // Nothing here is a URL, but URLs or names may follow the rejected authority.
            return match budget {
                Some(budget) if *budget >= end - authority_end => {
                    *budget -= end - authority_end;
                    authority_end
                }
                Some(_) => end,
                None => authority_end,
            };
        }
        if host.is_some() && host_match.as_ref().is_none_or(|h| h.0 != IocType::Ipv6) {
            sc.canonical.push_str(&sc.host);
        }
        if let Some((a, b)) = port {
            sc.canonical.push_str(&String::from_utf8_lossy(&hay[a..b]));
        }
        let rest = String::from_utf8_lossy(&hay[authority_end..trimmed]);
        refang_dots(&rest, &mut sc.canonical);

        em.emit(
            IocType::Url,
            mapping.at(start),
            mapping.at(trimmed),
            &sc.canonical,
        );
        if let Some((ioc_type, a, b)) = host_match {
            em.emit(ioc_type, mapping.at(a), mapping.at(b), &sc.host);
        }
        if depth < MAX_URL_NESTING && sep.1 < trimmed {
            self.nested_urls(em, sc, hay, mapping, sep.1, trimmed, depth + 1);
        }
        trimmed
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
        if part.contains(&b'%') {
            let mut decoded = Vec::with_capacity(part.len());
            let mut map = Vec::with_capacity(part.len());
            let mut i = 0;
            while i < part.len() {
                let hex = |c: u8| char::from(c).to_digit(16);
                if part[i] == b'%' && i + 2 < part.len() {
                    if let (Some(h), Some(l)) = (hex(part[i + 1]), hex(part[i + 2])) {
                        decoded.push((h * 16 + l) as u8);
                        map.push(mapping.at(from + i));
                        i += 3;
                        continue;
                    }
                }
                decoded.push(part[i]);
                map.push(mapping.at(from + i));
                i += 1;
            }
            let inner = Mapping::Table {
                map: &map,
                end: mapping.at(to),
            };
            self.search_urls(em, sc, &decoded, inner, 0, decoded.len(), depth);
        } else {
            self.search_urls(em, sc, hay, mapping, from, to, depth);
        }
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
        let mut pos = from;
        while pos < to {
            let Some(m) = self.url.search(&Input::new(&hay[..to]).range(pos..)) else {
                break;
            };
            let resume = self.on_url(em, sc, hay, mapping, m.start(), m.end(), depth, None);
            pos = resume.max(m.start() + 1);
        }
    }
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
        sc.canonical.clear();
        sc.canonical.extend(
            hay[start..end]
                .iter()
                .map(|&b| char::from(b.to_ascii_uppercase())),
        );
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
        let candidate = std::str::from_utf8(&hay[start..end]).unwrap_or_default();
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
        sc.canonical.clear();
        sc.canonical.extend(
            hay[start..end]
                .iter()
                .map(|&b| char::from(b.to_ascii_lowercase())),
        );
        em.emit(ioc_type, start, end, &sc.canonical);
    }
    end
}
