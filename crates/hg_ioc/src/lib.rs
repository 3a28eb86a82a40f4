//! IoC extraction for huntglass: patterns, validation, defang/refang and byte spans, in linear time.
//!
//! # Use
//!
//! ```
//! use hg_ioc::{IocExtractor, IocType};
//!
//! let extractor = IocExtractor::builder().build().unwrap();
//! let mut found = Vec::new();
//! extractor.extract("beacon to hxxps://Evil[.]example[.]com/a from 10.1.2.3", &mut |m: &hg_ioc::IocMatch<'_>| {
//!     found.push((m.ioc_type, m.canonical.to_string(), m.start, m.end));
//! });
//! assert_eq!(found[0], (IocType::Url, "https://evil.example.com/a".to_string(), 10, 40));
//! assert_eq!(found[1], (IocType::Dns, "evil.example.com".to_string(), 18, 38));
//! assert_eq!(found[2], (IocType::Ipv4, "10.1.2.3".to_string(), 46, 54));
//! ```
//!
//! # Design
//!
//! The patterns of `patterns.rs` (one per kind of candidate, in priority order) define what a
//! *candidate* is: the scan reports exactly the matches that one leftmost-first search of their
//! union would, but finds them without running it. A single forward walk over the text visits
//! runs of word bytes (`[a-z0-9_%+-]`) and the few other bytes that can start a match (`.`, `/`,
//! `\`, `:`, `~`); inside a run only a handful of positions can start one (a scheme or registry
//! hive right before its separator, up to four hex digits before `:`, each `%`, each `cve-`, the
//! start of a 32+ hex run, the last label before a dot). Each such position is checked against
//! the patterns in priority order by hand-written matchers (`fast.rs`) that follow the patterns'
//! leftmost-first, greedy semantics exactly; a differential test compares every matcher with its
//! pattern's anchored regex at every position, and the whole scan with the union search, on
//! seeded inputs. Validators then decide (public suffix list, IPv6 parsing, URL host checks).
//! The ends of word runs, domain labels, e-mail local-part pieces, URL tails, URL userinfo, hex
//! runs and Windows path segments are found 16 bytes at a time with SIMD compares (`block.rs`,
//! through the `wide` crate: SSE2 on x86_64, `simd128` in wasm, a byte loop elsewhere;
//! unit-tested against the byte loops): the cost there was less the bytes than the mispredicted
//! exit of each short loop. Hosts, e-mail domains and bare dotted names written plainly are
//! classified the same way and their label syntax is checked on bit masks (`validate::plain_name`).
//! What is already canonical is not copied: a URL written in its canonical form (most) is
//! reported with its own text (or its own decoded bytes when nested) as the canonical value, and
//! a plain lower-case name or an IPv4 address without leading zeros likewise. IPv6 candidates
//! that cannot be addresses (clock times, MAC addresses) are refused by the finder itself, still
//! consuming their span so that the leftmost-first cut is the same.
//! Work that cannot find anything is skipped on an exact necessary condition read by one block
//! scan: a local-part chain (`a.b.c`) followed by no `@` marker is no e-mail from any start in it,
//! and a URL whose part after `://` holds no bracket, `%` or `:` has no defanged dot to refang
//! there and no nested URL. IPv6 addresses written as hex groups and colons are read by the
//! crate's own reader; dotted tails and anything it refuses go to `std`'s parser, which decides.
//! Because every type takes part in the one walk, the text is cut the same way whichever types
//! are enabled: a file name inside a Windows path is never mistaken for a domain, a URL's tail
//! is never a Linux path. Disabled types are simply not reported.
//!
//! Priority when candidates overlap: an earlier start wins; at the same start the order is url,
//! email, registry_key, windows_path, linux_path, cve, ipv6, hashes, then dotted names
//! (ipv4/dns). A found IoC also yields its parts: a URL its host (dns, ipv4 or ipv6), an e-mail
//! address its domain (dns), a UNC path its server (dns or ipv4), a Linux path the IPv4
//! addresses among its segments (`/dev/tcp/10.0.0.1/4444`), each with its own offsets.
//! URLs nested in a URL (plain, or percent-encoded as in `?u=http%3A%2F%2Fevil.com`) are found
//! and reported with the offsets of their written form and their decoded canonical value.
//!
//! Rules (each one is kept as a case in `tests/cases/ioc/`):
//! - ipv4: exactly four decimal parts of 0-255 in a dotted run of its own (`1.2.3.4.5`, `v1.2.3.4`
//!   and `999.1.1.1` are not addresses).
//! - ipv6: any RFC 4291 form (`::`, embedded IPv4, link-local; a `%zone` is left out of the
//!   observable), validated by parsing; clock times (`12:30:45`) and MAC addresses fail it.
//! - dns: labels of `a-z 0-9 - _`, an alphabetic TLD, and a suffix known to the compiled-in
//!   public suffix list (unless `ignore_tlds`). A bare `name.ext` whose last label is a common
//!   file extension is a file name even when the extension is also a TLD (`payload.zip`,
//!   `install.sh`); `cdn.payload.zip`, `http://payload.zip/`, `a@payload.zip` and
//!   `payload[.]zip` are domains.
//! - url: http(s), ftp(s), sftp, telnet, ldap(s), file; the host is validated like a domain or an
//!   IP address; trailing sentence punctuation and unbalanced closing brackets are not part of it.
//! - email: the domain is validated like any domain.
//! - hashes: a hex run of exactly 32, 40, 64 or 128 digits (md5, sha1, sha256, sha512).
//! - windows_path: a drive (`C:\`), UNC (`\\server\share`, `\\?\C:\`, `\\.\pipe`), `%ENV%\` or
//!   `.\`/`..\` root; folders may contain spaces (`Program Files`) but a word before a space may
//!   not contain a dot, so a path does not swallow the arguments after it.
//! - linux_path: a `/`, `~/`, `./` or `../` root at the start of a word, no spaces or `:`, and at
//!   least two segments after a bare `/` (so `/c` switches and `12/31/2024` are not paths).
//! - cve: `CVE-YYYY-NNNN...`; registry_key: a hive (`HKLM`, `HKEY_LOCAL_MACHINE`, ...) and a path.
//!
//! Defanged forms (on by default): `hxxp(s)`, `fxp`, `sfxp`, `[.]`, `(.)`, `{.}`, `[dot]`,
//! `(dot)`, `{dot}` (optionally with spaces around them), `[.` and `.]`, `[at]`, `(at)`, `[@]`,
//! `[://]`, `[:]//`, and mixes of these. `observable` is the text as written; `canonical` is
//! refanged with the host (and hashes, CVE ids) in lower (upper for CVE) case.
//!
//! # Input safety
//!
//! The extractor is meant for attacker-controlled text (command lines, logs, e-mail, decoded
//! payloads) of any size:
//! - Time: linear in the input. The walk reads each byte once; a run's candidate positions are
//!   worked out once and kept while matches inside the run are handled (forward-only cursors),
//!   and e-mail local parts are scanned once per chain. Each matcher reads only its own match
//!   plus a few bytes, or, when it fails, a stretch that no other attempt of the same matcher
//!   reads again. Re-scans after a rejected URL host are capped by a budget equal to the input
//!   length, and the search for nested URLs (the URL matcher tried only a scheme's length
//!   before each possible separator of the URL's tail) covers each URL at most
//!   [`MAX_URL_NESTING`] times.
//! - Memory: per-thread scratch buffers proportional to the longest match (dropped after a call
//!   that grew them past 64 KiB), and a percent-decoded copy of a URL's tail while its nested
//!   URLs are searched. Nothing grows with the number of matches: results go to the caller's
//!   [`IocSink`] as they are found.
//! - No panics: slicing goes through checked accessors; every reported span lies on UTF-8
//!   character boundaries of the input (patterns match ASCII at both ends).
//! - Results are not deduplicated: every occurrence is reported with its offsets.

mod block;
mod fast;
#[doc(hidden)]
pub mod patterns;
mod refang;
mod scan;
mod validate;

use std::fmt;

pub use scan::MAX_URL_NESTING;

/// The kinds of indicator the extractor reports.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum IocType {
    /// An IPv4 address (`ipv4`).
    Ipv4,
    /// An IPv6 address (`ipv6`).
    Ipv6,
    /// A domain name with a known public suffix (`dns`).
    Dns,
    /// A URL (`url`).
    Url,
    /// An e-mail address (`email`).
    Email,
    /// 32 hex digits (`md5_hash`).
    Md5Hash,
    /// 40 hex digits (`sha1_hash`).
    Sha1Hash,
    /// 64 hex digits (`sha256_hash`).
    Sha256Hash,
    /// 128 hex digits (`sha512_hash`).
    Sha512Hash,
    /// A Windows file path (`windows_path`).
    WindowsPath,
    /// A Linux/Unix file path (`linux_path`).
    LinuxPath,
    /// A CVE identifier (`cve`).
    Cve,
    /// A Windows registry key (`registry_key`).
    RegistryKey,
    /// A caller-defined pattern: the index of the pattern in the order it was added.
    Custom(u16),
}

impl IocType {
    /// Every built-in type, in the reference's registration order then the added types.
    pub const BUILTIN: [IocType; 13] = [
        IocType::Ipv4,
        IocType::Ipv6,
        IocType::Dns,
        IocType::Url,
        IocType::Email,
        IocType::WindowsPath,
        IocType::LinuxPath,
        IocType::Md5Hash,
        IocType::Sha1Hash,
        IocType::Sha256Hash,
        IocType::Sha512Hash,
        IocType::Cve,
        IocType::RegistryKey,
    ];

    /// The type's name (the reference's names; `custom` for every custom pattern, whose own
    /// name is [`IocMatch::type_name`]).
    pub fn name(self) -> &'static str {
        match self {
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Dns => "dns",
            IocType::Url => "url",
            IocType::Email => "email",
            IocType::Md5Hash => "md5_hash",
            IocType::Sha1Hash => "sha1_hash",
            IocType::Sha256Hash => "sha256_hash",
            IocType::Sha512Hash => "sha512_hash",
            IocType::WindowsPath => "windows_path",
            IocType::LinuxPath => "linux_path",
            IocType::Cve => "cve",
            IocType::RegistryKey => "registry_key",
            IocType::Custom(_) => "custom",
        }
    }

    /// The built-in type with this name (ASCII case-insensitive), if any.
    pub fn parse(name: &str) -> Option<IocType> {
        IocType::BUILTIN
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// Whether this is one of the two path types (governed by `include_paths`).
    pub fn is_path(self) -> bool {
        matches!(self, IocType::WindowsPath | IocType::LinuxPath)
    }

    /// The type's bit in an enabled-types mask: its index in [`IocType::BUILTIN`] (a unit test
    /// checks the two agree), 0 for custom types.
    fn bit(self) -> u32 {
        let index = match self {
            IocType::Ipv4 => 0,
            IocType::Ipv6 => 1,
            IocType::Dns => 2,
            IocType::Url => 3,
            IocType::Email => 4,
            IocType::WindowsPath => 5,
            IocType::LinuxPath => 6,
            IocType::Md5Hash => 7,
            IocType::Sha1Hash => 8,
            IocType::Sha256Hash => 9,
            IocType::Sha512Hash => 10,
            IocType::Cve => 11,
            IocType::RegistryKey => 12,
            IocType::Custom(_) => return 0,
        };
        1 << index
    }
}

impl fmt::Display for IocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One indicator found in the text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IocMatch<'a> {
    /// The type.
    pub ioc_type: IocType,
    /// The type's name (a custom pattern's own name for [`IocType::Custom`]).
    pub type_name: &'a str,
    /// The text as written, `&text[start..end]`.
    pub observable: &'a str,
    /// The refanged canonical value: host, hash and scheme in lower case, CVE in upper case,
    /// defanged markers written plainly, IPv6 in RFC 5952 form, percent-encoded nested URLs decoded.
    pub canonical: &'a str,
    /// Byte offset of the first byte of `observable` in the text.
    pub start: usize,
    /// Byte offset one past the last byte of `observable` in the text.
    pub end: usize,
}

/// An [`IocMatch`] that owns its strings.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OwnedIocMatch {
    /// The type.
    pub ioc_type: IocType,
    /// The type's name.
    pub type_name: String,
    /// The text as written.
    pub observable: String,
    /// The refanged canonical value.
    pub canonical: String,
    /// Start byte offset.
    pub start: usize,
    /// End byte offset (exclusive).
    pub end: usize,
}

impl From<&IocMatch<'_>> for OwnedIocMatch {
    fn from(m: &IocMatch<'_>) -> Self {
        OwnedIocMatch {
            ioc_type: m.ioc_type,
            type_name: m.type_name.to_string(),
            observable: m.observable.to_string(),
            canonical: m.canonical.to_string(),
            start: m.start,
            end: m.end,
        }
    }
}

/// Receives every indicator as it is found.
pub trait IocSink {
    /// Called once per indicator occurrence.
    fn ioc(&mut self, m: &IocMatch<'_>);
}

impl<F: FnMut(&IocMatch<'_>)> IocSink for F {
    fn ioc(&mut self, m: &IocMatch<'_>) {
        self(m)
    }
}

impl IocSink for Vec<OwnedIocMatch> {
    fn ioc(&mut self, m: &IocMatch<'_>) {
        self.push(OwnedIocMatch::from(m));
    }
}

/// Why an extractor could not be built.
#[derive(Debug, thiserror::Error)]
pub enum IocError {
    /// A custom pattern did not compile.
    #[error("custom IoC pattern '{name}' is not a valid regular expression: {message}")]
    InvalidCustomPattern {
        /// The pattern's name.
        name: String,
        /// What the regex compiler said.
        message: String,
    },
    /// A custom pattern's name is empty, repeated or the name of a built-in type.
    #[error("custom IoC pattern name '{0}' is empty, repeated or the name of a built-in type")]
    InvalidCustomName(String),
    /// More custom patterns than the type can number.
    #[error("too many custom IoC patterns (at most {max})")]
    TooManyCustomPatterns {
        /// The maximum.
        max: usize,
    },
    /// The built-in patterns failed to compile (a bug, reported rather than panicking).
    #[error("internal IoC pattern failed to compile: {0}")]
    Internal(String),
}

/// Options for [`IocExtractor`]; see [`IocExtractor::builder`].
#[derive(Clone, Debug)]
pub struct IocExtractorBuilder {
    types: Option<Vec<IocType>>,
    include_paths: bool,
    defanged: bool,
    ignore_tlds: bool,
    custom: Vec<(String, String)>,
}

impl IocExtractorBuilder {
    /// Report only these built-in types (default: all). Listing a path type reports it whatever
    /// `include_paths` says.
    pub fn types(mut self, types: impl IntoIterator<Item = IocType>) -> Self {
        self.types = Some(
            types
                .into_iter()
                .filter(|t| !matches!(t, IocType::Custom(_)))
                .collect(),
        );
        self
    }

    /// Whether the default type set includes `windows_path` and `linux_path` (default: true).
    pub fn include_paths(mut self, include: bool) -> Self {
        self.include_paths = include;
        self
    }

    /// Whether defanged forms are recognised (default: true).
    pub fn defanged(mut self, defanged: bool) -> Self {
        self.defanged = defanged;
        self
    }

    /// Accept domains without checking the public suffix list (default: false): `host.corp`,
    /// `intranet.local` and single-label URL hosts (`http://intranet/`) are then reported. Bare
    /// `name.ext` file names are still not domains.
    pub fn ignore_tlds(mut self, ignore: bool) -> Self {
        self.ignore_tlds = ignore;
        self
    }

    /// Adds a custom type: every match of `pattern` (regex syntax, bytes, no Unicode classes) is
    /// reported as [`IocType::Custom`] named `name`. Custom patterns run as a pass of their own
    /// after the built-in pass and take no part in overlap resolution.
    pub fn custom_pattern(mut self, name: impl Into<String>, pattern: impl Into<String>) -> Self {
        self.custom.push((name.into(), pattern.into()));
        self
    }

    /// Compiles the extractor.
    pub fn build(self) -> Result<IocExtractor, IocError> {
        let mut enabled = 0u32;
        match &self.types {
            Some(types) => types.iter().for_each(|t| enabled |= t.bit()),
            None => IocType::BUILTIN
                .iter()
                .filter(|t| self.include_paths || !t.is_path())
                .for_each(|t| enabled |= t.bit()),
        }
        if self.custom.len() > usize::from(u16::MAX) {
            return Err(IocError::TooManyCustomPatterns {
                max: usize::from(u16::MAX),
            });
        }
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.custom {
            if name.is_empty()
                || IocType::parse(name).is_some()
                || name == "custom"
                || names.contains(&name.as_str())
            {
                return Err(IocError::InvalidCustomName(name.clone()));
            }
            names.push(name);
        }
        let scanner = scan::Scanner::new(self.defanged, self.ignore_tlds, &self.custom)?;
        Ok(IocExtractor {
            scanner,
            enabled,
            options: self,
        })
    }
}

/// A compiled extractor: cheap to share between threads (`Send + Sync`), reusable for any
/// number of texts.
#[derive(Debug)]
pub struct IocExtractor {
    scanner: scan::Scanner,
    enabled: u32,
    options: IocExtractorBuilder,
}

impl IocExtractor {
    /// Starts building an extractor: all built-in types, paths included, defanged forms on,
    /// public-suffix validation on, no custom patterns.
    pub fn builder() -> IocExtractorBuilder {
        IocExtractorBuilder {
            types: None,
            include_paths: true,
            defanged: true,
            ignore_tlds: false,
            custom: Vec::new(),
        }
    }

    /// Whether this extractor reports `ioc_type`.
    pub fn is_enabled(&self, ioc_type: IocType) -> bool {
        match ioc_type {
            IocType::Custom(i) => usize::from(i) < self.options.custom.len(),
            builtin => self.enabled & builtin.bit() != 0,
        }
    }

    /// Whether defanged forms are recognised.
    pub fn defanged(&self) -> bool {
        self.options.defanged
    }

    /// Whether public-suffix validation is skipped.
    pub fn ignore_tlds(&self) -> bool {
        self.options.ignore_tlds
    }

    /// Finds every indicator in `text` and hands each to `sink`, built-in types in text order
    /// (a URL, e-mail or UNC path is followed by its parts and nested URLs), then the matches of
    /// each custom pattern.
    pub fn extract<S: IocSink + ?Sized>(&self, text: &str, sink: &mut S) {
        self.scanner.scan(text, self, sink);
    }

    /// Convenience: every indicator of `text` as owned values.
    pub fn extract_vec(&self, text: &str) -> Vec<OwnedIocMatch> {
        let mut out = Vec::new();
        self.extract(text, &mut out);
        out
    }

    /// Whether the whole of `value` is one indicator of `ioc_type` (the reference's `validate`).
    /// Uses this extractor's `defanged` and `ignore_tlds` settings, whatever types it reports.
    pub fn validate(&self, value: &str, ioc_type: IocType) -> bool {
        let mut found = false;
        self.scanner
            .scan_all_types(value, self, &mut |m: &IocMatch<'_>| {
                found |= m.ioc_type == ioc_type && m.start == 0 && m.end == value.len();
            });
        found
    }

    /// The type of `value` if the whole of it is one indicator (the first such type in scan
    /// order: a URL before its host), else `None`.
    pub fn type_of(&self, value: &str) -> Option<IocType> {
        let mut found = None;
        self.scanner
            .scan_all_types(value, self, &mut |m: &IocMatch<'_>| {
                if found.is_none() && m.start == 0 && m.end == value.len() {
                    found = Some(m.ioc_type);
                }
            });
        found
    }

    pub(crate) fn custom_name(&self, index: u16) -> &str {
        self.options
            .custom
            .get(usize::from(index))
            .map_or("custom", |(name, _)| name.as_str())
    }
}

/// A seeded xorshift64 generator for the unit tests that compare a fast path with its plain
/// version on generated inputs (deterministic, no dependency).
#[cfg(test)]
pub(crate) fn seeded(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// A text of fewer than `max_len` bytes drawn from `alphabet` (ASCII) by the generator `next`
/// ([`seeded`]): its length first, then each byte, so a test's inputs depend on its seed only.
#[cfg(test)]
pub(crate) fn seeded_text(next: &mut impl FnMut() -> u64, alphabet: &[u8], max_len: u64) -> String {
    let len = next() % max_len;
    (0..len)
        .map(|_| char::from(alphabet[(next() % alphabet.len() as u64) as usize]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::IocType;

    #[test]
    fn type_bits_follow_the_builtin_order() {
        for (index, t) in IocType::BUILTIN.iter().enumerate() {
            assert_eq!(t.bit(), 1 << index, "{t}");
        }
        assert_eq!(IocType::Custom(3).bit(), 0);
    }
}
