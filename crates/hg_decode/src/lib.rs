//! Bounded recursive decoding of encoded content for huntglass, with the chain of encodings of every layer.
//!
//! # Use
//!
//! ```
//! use hg_decode::{Decoder, DecodedRecord, Encoding};
//!
//! let decoder = Decoder::builder().build().unwrap();
//! // powershell -enc <base64 of the UTF-16LE text "Write-Host hi">
//! let line = "powershell -enc VwByAGkAdABlAC0ASABvAHMAdAAgAGgAaQA=";
//! let mut rows: Vec<DecodedRecord> = Vec::new();
//! let out = decoder.unpack(line, &mut |r: DecodedRecord| rows.push(r));
//! assert_eq!(rows.len(), 1);
//! assert_eq!(rows[0].decoded_string.as_deref(), Some("Write-Host hi"));
//! assert_eq!(rows[0].chain, vec![Encoding::Base64, Encoding::Utf16Le]);
//! assert_eq!(rows[0].encoding_type, "utf-16");
//! assert!(out.full_decoded_string.contains(">Write-Host hi</decoded>"));
//! ```
//!
//! # Design
//!
//! The input text is scanned for *candidates* of every enabled encoding: one pass over runs of
//! word bytes finds base64, URL-safe base64 and hex runs (a short word costs one table look-up
//! per byte) and notes on the way which trigger bytes (`%`, `\`, `x`, `[`, `(`) occur; only
//! then do the searches for the explicit forms (`%41`, `\x41`, `0x41`, `[char]`,
//! `fromCharCode(`) run, with `memchr`. A text in which nothing decodes is passed through
//! borrowed, never copied.
//! Candidates are taken in text order; where two overlap, the earlier one wins and, at the same
//! start, the more explicit one (char codes, `\x` escapes, `0x` lists, percent escapes, `0x`
//! literals, plain hex, URL-safe base64 (kept only if it reads as text), base64). A candidate that does not decode leaves its
//! span free for the others.
//!
//! Each decoded candidate becomes a *layer*: its bytes are sniffed and expanded: gzip, zlib and
//! raw deflate are decompressed (folded into the same layer, as the reference folds gzip), zip
//! and tar archives yield one layer per member, and a member that is itself compressed or an
//! archive (a `.gz` in a tar) is expanded into child layers. Every layer is reported as a
//! [`DecodedRecord`] with the chain of encodings that led to it ([`Encoding`]), its hashes and a
//! printable preview. Layers whose content is text are scanned again at the next depth.
//!
//! Detector evidence differs: base64 follows the reference's candidate rule (30 or more
//! characters of `A-Z a-z 0-9 + /` and CR/LF, then up to two `=`, with Python's padding rules),
//! and any result (text or binary) is reported. Implicit forms (plain hex runs, URL-safe base64,
//! raw deflate, and `0x` literals of at most 16 digits, which are mostly numbers such as flags
//! and handles) are reported only when the result is plausible: UTF-8 or UTF-16 text that is
//! mostly printable, or bytes with a known file signature. Explicit forms (`\x41`, `0x41,0x42`,
//! longer `0x4142...`, `%41`, `[char]65`, `fromCharCode(65)`, a base64 argument of PowerShell's
//! `-EncodedCommand` or any of its abbreviations) are reported whatever they decode to.
//!
//! The output columns and the display string follow the reference (MSTICPy's base64 unpacking):
//! `reference`, `original_string`, `file_name`, `file_type`, `input_bytes`, `decoded_string`,
//! `encoding_type`, `file_hashes` (here [`Hashes`]), `md5`, `sha1`, `sha256`, `printable_bytes`,
//! and per row of a column (see [`Decoder::unpack_rows`]) `src_index`, the source text and
//! `full_decoded_string`. Where we deliberately differ from the reference (every occurrence is
//! its own row; nested references name their real parent; members of archives are expanded;
//! UTF-16LE is recognised), `tests/cases/decode/` records the case and the reason.
//! [`DecoderBuilder::reference_mode`] turns off everything the reference does not do.
//!
//! # Input safety
//!
//! The decoder is meant for attacker-controlled text and every limit is set on the
//! [`DecoderBuilder`] (defaults in [`Limits::default`]):
//! - `max_depth` (20): how many times decoded text is scanned again. Candidates found past it are
//!   reported as one row per text whose `stopped_by` is [`Limit::MaxDepth`], not decoded.
//! - `max_total_output_bytes` (64 MiB): all bytes produced for one input (every decoded or
//!   decompressed layer) count against it. Decompression is streamed with bounded reads, so no
//!   buffer ever grows past the remaining budget.
//! - `max_expansion_ratio` (100) with `expansion_floor_bytes` (1 MiB): one decompression may
//!   produce at most `max(ratio x compressed size, floor)` bytes.
//! - `max_archive_members` (1,000) and `max_member_size` (16 MiB) per archive / member.
//! - `max_records` (10,000) rows per input.
//!
//! When a limit stops a layer, its row says which ([`DecodedRecord::stopped_by`]); the row keeps
//! the bytes produced up to the limit (its hashes cover that prefix) and it is not scanned
//! further. Once the total output or the record budget of an input is spent, one row says so and
//! the rest of that input is left as it is. Time is linear in the input plus the bytes produced:
//! each layer's text is scanned a fixed number of times and every decoder is a single pass.
//! `printable_bytes` covers at most `max_preview_bytes` (64 KiB) bytes. Malformed input (bad
//! padding, truncated or corrupt archives and streams) never fails the call: the layer is
//! reported as far as it decodes with [`DecodedRecord::error`] set, or not at all when nothing
//! decodes. The crate has no `unsafe`, no panicking index on input data, and needs no clock,
//! file system or network, so it builds for `wasm32-unknown-unknown`.

mod codecs;
mod engine;
mod expand;
mod scan;

use std::fmt;
use std::ops::Range;

/// One step in the chain of encodings that leads from the input text to a layer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Encoding {
    /// Standard base64 (`A-Z a-z 0-9 + /`).
    Base64,
    /// URL-safe base64 (`-` and `_` instead of `+` and `/`, padding optional).
    Base64Url,
    /// Hex digits: a plain run, a `0x` literal, a `0x41,0x42` list or `\x41` escapes.
    Hex,
    /// Percent-encoding (`%41`).
    Percent,
    /// A decimal (or `0x`) character-code array: `[char]72,101`, `[char[]](72,101)`, `fromCharCode(72,101)`.
    CharCodes,
    /// Bytes read as UTF-16LE text.
    Utf16Le,
    /// A gzip stream.
    Gzip,
    /// A zlib stream.
    Zlib,
    /// A raw deflate stream (PowerShell's `DeflateStream`).
    Deflate,
    /// A member of a zip archive.
    Zip,
    /// A member of a tar archive.
    Tar,
}

impl Encoding {
    /// Every encoding, in the order of [`Encoding::as_str`] documentation.
    pub const ALL: [Encoding; 11] = [
        Encoding::Base64,
        Encoding::Base64Url,
        Encoding::Hex,
        Encoding::Percent,
        Encoding::CharCodes,
        Encoding::Utf16Le,
        Encoding::Gzip,
        Encoding::Zlib,
        Encoding::Deflate,
        Encoding::Zip,
        Encoding::Tar,
    ];

    /// The stable name used in outputs and test cases (`base64`, `base64url`, `hex`, `percent`,
    /// `char_codes`, `utf16le`, `gzip`, `zlib`, `deflate`, `zip`, `tar`).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::CharCodes => "char_codes",
            Encoding::Utf16Le => "utf16le",
            Encoding::Gzip => "gzip",
            Encoding::Zlib => "zlib",
            Encoding::Deflate => "deflate",
            Encoding::Zip => "zip",
            Encoding::Tar => "tar",
        }
    }

    /// Parses a name produced by [`Encoding::as_str`].
    pub fn parse(name: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.as_str() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which input-safety limit stopped a layer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Limit {
    /// Decoded text was not scanned again: `max_depth` reached.
    MaxDepth,
    /// The bytes produced for this input reached `max_total_output_bytes`.
    MaxTotalOutputBytes,
    /// A decompression produced more than `max_expansion_ratio` times its input.
    MaxExpansionRatio,
    /// An archive had more than `max_archive_members` members.
    MaxArchiveMembers,
    /// An archive member was larger than `max_member_size`.
    MaxMemberSize,
    /// This input produced `max_records` rows.
    MaxRecords,
}

impl Limit {
    /// The name of the builder setting (`max_depth`, `max_total_output_bytes`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::MaxDepth => "max_depth",
            Limit::MaxTotalOutputBytes => "max_total_output_bytes",
            Limit::MaxExpansionRatio => "max_expansion_ratio",
            Limit::MaxArchiveMembers => "max_archive_members",
            Limit::MaxMemberSize => "max_member_size",
            Limit::MaxRecords => "max_records",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The input-safety limits (see the crate documentation, "Input safety").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest scan level of decoded text (the input itself is level 1). Default 20.
    pub max_depth: usize,
    /// Bytes all layers of one input may produce together. Default 64 MiB.
    pub max_total_output_bytes: usize,
    /// Largest output/input ratio of one decompression (above the floor). Default 100.
    pub max_expansion_ratio: usize,
    /// A decompression may always produce this many bytes, whatever the ratio. Default 1 MiB.
    pub expansion_floor_bytes: usize,
    /// Members read from one archive. Default 1,000.
    pub max_archive_members: usize,
    /// Bytes read from one archive member. Default 16 MiB.
    pub max_member_size: usize,
    /// Rows reported for one input. Default 10,000.
    pub max_records: usize,
    /// Bytes shown in `printable_bytes`. Default 64 KiB.
    pub max_preview_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 20,
            max_total_output_bytes: 64 * 1024 * 1024,
            max_expansion_ratio: 100,
            expansion_floor_bytes: 1024 * 1024,
            max_archive_members: 1000,
            max_member_size: 16 * 1024 * 1024,
            max_records: 10_000,
            max_preview_bytes: 64 * 1024,
        }
    }
}

/// How decoded bytes are tried as UTF-16 text.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Utf16Mode {
    /// UTF-16LE when the bytes carry a `FF FE` mark, follow a PowerShell `-EncodedCommand`
    /// switch, or look like UTF-16LE text (even length, mostly zero high bytes, no NUL units).
    #[default]
    Auto,
    /// The reference's `utf16=True`: UTF-16 (byte-order mark honoured, little-endian otherwise)
    /// is tried before UTF-8 for every layer.
    Always,
    /// Never UTF-16 (the reference's default): such bytes decode as UTF-8 with NULs.
    Never,
}

/// Errors of building a [`Decoder`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// A limit was set to a value that would stop every decoding.
    #[error("limit {name} must be at least {min}, got {value}")]
    LimitTooSmall {
        /// The setting's name.
        name: &'static str,
        /// Its smallest accepted value.
        min: usize,
        /// The value given.
        value: usize,
    },
    /// `min_base64_len` outside 4..=4096.
    #[error("min_base64_len must be within 4..=4096, got {0}")]
    BadMinBase64Len(usize),
    /// An encoding that cannot be turned on or off as a detector or expansion.
    #[error("{0} is always applied where it is detected; it cannot be enabled or disabled")]
    NotSwitchable(Encoding),
}

/// md5, sha1 and sha256 of a layer's bytes, as lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Hashes {
    /// MD5.
    pub md5: String,
    /// SHA-1.
    pub sha1: String,
    /// SHA-256.
    pub sha256: String,
}

/// The reference's `reference` column: `(prefix, "{depth}.", "{fragment}")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The index of the layer whose text held this candidate plus `.`, or empty at top level.
    pub prefix: String,
    /// Scan level: 1 for the input, 2 for text decoded from it, ...
    pub depth: usize,
    /// 1-based number of the candidate within the scanned text.
    pub fragment: usize,
}

impl Reference {
    /// The three strings of the reference's tuple, e.g. `["1.", "2.", "1"]`.
    pub fn parts(&self) -> [String; 3] {
        [
            self.prefix.clone(),
            format!("{}.", self.depth),
            self.fragment.to_string(),
        ]
    }
}

/// One decoded layer: a row of the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedRecord {
    /// The reference's `reference` tuple.
    pub reference: Reference,
    /// This layer's path in the decode tree (`1`, `1.2`, `1.2.1`), as in the display tags.
    pub index: String,
    /// The path of the layer this one came from (None at top level).
    pub parent: Option<String>,
    /// Scan level (same as `reference.depth`).
    pub depth: usize,
    /// Encodings from the scanned text to this layer, outermost first.
    pub chain: Vec<Encoding>,
    /// The candidate text as found (for archive members: the archive's candidate).
    pub original_string: String,
    /// Byte offsets of `original_string` in the scanned text (the input or the parent's text).
    pub span: Range<usize>,
    /// Archive member name, `gzip_file` for gzip content, else `unknown`.
    pub file_name: String,
    /// File type: a signature name (`exe`, `dll`, `zip`, `gz`, `tar`, `pdf`, ...), for
    /// members the archive type, None when unknown.
    pub file_type: Option<String>,
    /// The layer's bytes.
    pub input_bytes: Vec<u8>,
    /// The layer as text, None for binary.
    pub decoded_string: Option<String>,
    /// `utf-8`, `utf-16` or `binary`.
    pub encoding_type: &'static str,
    /// Hashes of `input_bytes`.
    pub hashes: Hashes,
    /// Space-separated lowercase hex of the first `max_preview_bytes` bytes.
    pub printable_bytes: String,
    /// The limit that stopped this layer, if any.
    pub stopped_by: Option<Limit>,
    /// What was wrong with a malformed layer (corrupt archive or stream), if anything.
    pub error: Option<String>,
}

/// Receives the records of [`Decoder::unpack`] as they are produced.
pub trait DecodeSink {
    /// One decoded layer.
    fn record(&mut self, record: DecodedRecord);
}

impl<F: FnMut(DecodedRecord)> DecodeSink for F {
    fn record(&mut self, record: DecodedRecord) {
        self(record)
    }
}

/// Where a record of [`Decoder::unpack_rows`] came from.
#[derive(Debug)]
pub struct RowContext<'a> {
    /// 0-based position of the row in the input sequence (`src_index`).
    pub src_index: usize,
    /// The row's original text (the source column's value).
    pub source: &'a str,
    /// The row's text with every decoded candidate replaced by its display tag.
    pub full_decoded_string: &'a str,
}

/// Receives the records of [`Decoder::unpack_rows`] with their row.
pub trait RowSink {
    /// One decoded layer of the row described by `row`.
    fn record(&mut self, row: &RowContext<'_>, record: DecodedRecord);
}

impl<F: FnMut(&RowContext<'_>, DecodedRecord)> RowSink for F {
    fn record(&mut self, row: &RowContext<'_>, record: DecodedRecord) {
        self(row, record)
    }
}

/// The summary of one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpacked {
    /// The input with every decoded candidate replaced by a `<decoded ...>` tag (nested layers
    /// inside), as the reference's `decoded_string` return value / `full_decoded_string` column.
    pub full_decoded_string: String,
    /// Rows pushed to the sink.
    pub records: usize,
    /// Every limit that stopped some layer of this input.
    pub stopped_by: Vec<Limit>,
}

const DETECTORS: [Encoding; 5] = [
    Encoding::Base64,
    Encoding::Base64Url,
    Encoding::Hex,
    Encoding::Percent,
    Encoding::CharCodes,
];
const EXPANSIONS: [Encoding; 5] = [
    Encoding::Gzip,
    Encoding::Zlib,
    Encoding::Deflate,
    Encoding::Zip,
    Encoding::Tar,
];

/// Settings of a [`Decoder`] (see [`Decoder::builder`]).
#[derive(Clone, Debug)]
pub struct DecoderBuilder {
    limits: Limits,
    utf16: Utf16Mode,
    enabled: u16,
    min_base64_len: usize,
    powershell_switches: bool,
    sniff_signatures: bool,
    expand_members: bool,
    nested_compression: bool,
}

impl Default for DecoderBuilder {
    fn default() -> Self {
        let enabled = DETECTORS
            .iter()
            .chain(EXPANSIONS.iter())
            .fold(0, |acc, e| acc | e.bit());
        DecoderBuilder {
            limits: Limits::default(),
            utf16: Utf16Mode::Auto,
            enabled,
            min_base64_len: 30,
            powershell_switches: true,
            sniff_signatures: true,
            expand_members: true,
            nested_compression: true,
        }
    }
}

impl DecoderBuilder {
    /// The reference's behaviour: base64 only (30+ characters), gzip/zip/tar recognised by the
    /// reference's base64 prefixes only, one level of expansion (members are not sniffed, gzip
    /// content is not expanded further), no UTF-16 unless asked ([`Utf16Mode::Never`]), no
    /// PowerShell switch hints. Limits are unchanged.
    pub fn reference_mode(mut self) -> Self {
        self.enabled = Encoding::Base64.bit()
            | Encoding::Gzip.bit()
            | Encoding::Zip.bit()
            | Encoding::Tar.bit();
        self.utf16 = Utf16Mode::Never;
        self.min_base64_len = 30;
        self.powershell_switches = false;
        self.sniff_signatures = false;
        self.expand_members = false;
        self.nested_compression = false;
        self
    }

    /// Replaces all limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Sets `max_depth`.
    pub fn max_depth(mut self, v: usize) -> Self {
        self.limits.max_depth = v;
        self
    }
    /// Sets `max_total_output_bytes`.
    pub fn max_total_output_bytes(mut self, v: usize) -> Self {
        self.limits.max_total_output_bytes = v;
        self
    }
    /// Sets `max_expansion_ratio`.
    pub fn max_expansion_ratio(mut self, v: usize) -> Self {
        self.limits.max_expansion_ratio = v;
        self
    }
    /// Sets `expansion_floor_bytes`.
    pub fn expansion_floor_bytes(mut self, v: usize) -> Self {
        self.limits.expansion_floor_bytes = v;
        self
    }
    /// Sets `max_archive_members`.
    pub fn max_archive_members(mut self, v: usize) -> Self {
        self.limits.max_archive_members = v;
        self
    }
    /// Sets `max_member_size`.
    pub fn max_member_size(mut self, v: usize) -> Self {
        self.limits.max_member_size = v;
        self
    }
    /// Sets `max_records`.
    pub fn max_records(mut self, v: usize) -> Self {
        self.limits.max_records = v;
        self
    }
    /// Sets `max_preview_bytes`.
    pub fn max_preview_bytes(mut self, v: usize) -> Self {
        self.limits.max_preview_bytes = v;
        self
    }
    /// How UTF-16 text is recognised (default [`Utf16Mode::Auto`]).
    pub fn utf16(mut self, mode: Utf16Mode) -> Self {
        self.utf16 = mode;
        self
    }
    /// Shortest standard base64 candidate (default 30, the reference's rule).
    pub fn min_base64_len(mut self, v: usize) -> Self {
        self.min_base64_len = v;
        self
    }
    /// Turns a detector (base64, base64url, hex, percent, char_codes) or an expansion (gzip,
    /// zlib, deflate, zip, tar) on or off. `utf16le` is controlled by [`DecoderBuilder::utf16`].
    pub fn encoding(mut self, encoding: Encoding, on: bool) -> Self {
        if on {
            self.enabled |= encoding.bit();
        } else {
            self.enabled &= !encoding.bit();
        }
        self
    }
    /// Whether a base64 argument of `-EncodedCommand` (`-enc`, `-e`, `-ec`, ...) is decoded
    /// even when shorter than `min_base64_len` and read as UTF-16LE (default true).
    pub fn powershell_switches(mut self, on: bool) -> Self {
        self.powershell_switches = on;
        self
    }
    /// Whether archive members (and gzip content) are themselves expanded (default true).
    pub fn expand_members(mut self, on: bool) -> Self {
        self.expand_members = on;
        self.nested_compression = on;
        self
    }

    /// Checks the settings and builds the decoder.
    pub fn build(self) -> Result<Decoder, DecodeError> {
        if self.enabled & Encoding::Utf16Le.bit() != 0 {
            return Err(DecodeError::NotSwitchable(Encoding::Utf16Le));
        }
        let l = &self.limits;
        for (name, value, min) in [
            ("max_total_output_bytes", l.max_total_output_bytes, 1),
            ("max_expansion_ratio", l.max_expansion_ratio, 1),
            ("max_archive_members", l.max_archive_members, 1),
            ("max_member_size", l.max_member_size, 1),
            ("max_records", l.max_records, 1),
        ] {
            if value < min {
                return Err(DecodeError::LimitTooSmall { name, min, value });
            }
        }
        if !(4..=4096).contains(&self.min_base64_len) {
            return Err(DecodeError::BadMinBase64Len(self.min_base64_len));
        }
        Ok(Decoder { settings: self })
    }
}

/// The decoder: immutable, cheap to share, reusable for any number of inputs.
#[derive(Clone, Debug)]
pub struct Decoder {
    settings: DecoderBuilder,
}

impl Decoder {
    /// Default settings: every detector and expansion, [`Utf16Mode::Auto`], [`Limits::default`].
    pub fn builder() -> DecoderBuilder {
        DecoderBuilder::default()
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.settings.limits
    }

    fn enabled(&self, e: Encoding) -> bool {
        self.settings.enabled & e.bit() != 0
    }

    /// Decodes one text, pushing one record per layer to `sink` (parents before children) and
    /// returning the display string. Never fails: see "Input safety".
    pub fn unpack(&self, input: &str, sink: &mut impl DecodeSink) -> Unpacked {
        engine::Run::new(self, sink).unpack(input)
    }

    /// Decodes a column: each row (None for a missing value) is unpacked on its own, with its own
    /// limits; its records go to `sink` with the row's context once the row is done. Rows
    /// without decodable content produce no records. Returns the number of records.
    pub fn unpack_rows<'a, I>(&self, rows: I, sink: &mut impl RowSink) -> usize
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        let mut total = 0;
        let mut buffer: Vec<DecodedRecord> = Vec::new();
        for (src_index, row) in rows.into_iter().enumerate() {
            let Some(source) = row else { continue };
            buffer.clear();
            let (full_decoded_string, _, _) =
                engine::Run::new(self, &mut |r: DecodedRecord| buffer.push(r))
                    .unpack_borrowed(source);
            if buffer.is_empty() {
                continue;
            }
            let context = RowContext {
                src_index,
                source,
                full_decoded_string: &full_decoded_string,
            };
            total += buffer.len();
            for record in buffer.drain(..) {
                sink.record(&context, record);
            }
        }
        total
    }
}

/// md5, sha1 and sha256 of `bytes`.
pub fn hashes(bytes: &[u8]) -> Hashes {
    codecs::hashes(bytes)
}

/// The reference's `printable_bytes`: space-separated lowercase hex of at most `max` bytes.
pub fn printable_bytes(bytes: &[u8], max: usize) -> String {
    codecs::printable_bytes(bytes, max)
}
