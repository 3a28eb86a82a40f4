//! The recursion: scan a text, decode its candidates, expand each layer, report, scan again.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

use crate::codecs::{self, Produced};
use crate::expand::{self, Stream};
use crate::scan::{self, Candidate, Kind, ScanSettings};
use crate::{DecodeSink, DecodedRecord, Decoder, Encoding, Hashes, Limit, Reference, Unpacked};

/// Where a layer sits in the decode tree.
#[derive(Clone)]
struct Place {
    reference: Reference,
    index: String,
    parent: Option<String>,
    original: String,
    span: Range<usize>,
    /// The `depth` attribute of the display tag (members sit one below their archive).
    display_depth: usize,
}

/// A candidate's decoded bytes before expansion.
struct Decoded {
    bytes: Vec<u8>,
    chain: Vec<Encoding>,
    file_type: Option<&'static str>,
    truncated: bool,
    utf16_hint: bool,
}

/// What a layer is made of when it is reported.
struct Layer {
    bytes: Vec<u8>,
    chain: Vec<Encoding>,
    file_name: String,
    file_type: Option<String>,
    /// `[type]` or `[archive] Filename: member`, as in the reference's tags.
    tag_name: String,
    stopped_by: Option<Limit>,
    error: Option<String>,
    utf16_hint: bool,
}

/// Longest `0x` literal read as a number rather than as encoded content (64 bits).
const MAX_NUMBER_HEX_DIGITS: usize = 16;

pub(crate) struct Run<'a, S: DecodeSink + ?Sized> {
    decoder: &'a Decoder,
    sink: &'a mut S,
    scan: ScanSettings,
    used: usize,
    records: usize,
    stopped: Vec<Limit>,
    halted: bool,
}

impl<'a, S: DecodeSink + ?Sized> Run<'a, S> {
    pub(crate) fn new(decoder: &'a Decoder, sink: &'a mut S) -> Self {
        let s = &decoder.settings;
        let scan = ScanSettings {
            base64: decoder.enabled(Encoding::Base64),
            base64url: decoder.enabled(Encoding::Base64Url),
            hex: decoder.enabled(Encoding::Hex),
            percent: decoder.enabled(Encoding::Percent),
            char_codes: decoder.enabled(Encoding::CharCodes),
            min_base64_len: s.min_base64_len,
            powershell: s.powershell_switches,
        };
        Run {
            decoder,
            sink,
            scan,
            used: 0,
            records: 0,
            stopped: Vec::new(),
            halted: false,
        }
    }

    pub(crate) fn unpack(self, input: &str) -> Unpacked {
        let (full_decoded_string, records, stopped_by) = self.unpack_borrowed(input);
        Unpacked {
            full_decoded_string: full_decoded_string.into_owned(),
            records,
            stopped_by,
        }
    }

    /// As [`Run::unpack`], with the display string borrowed from `input` when nothing in it
    /// decodes (most rows of a log column): no copy per plain row.
    pub(crate) fn unpack_borrowed(mut self, input: &str) -> (Cow<'_, str>, usize, Vec<Limit>) {
        let full_decoded_string = self.scan_text(input, 1, None);
        (full_decoded_string, self.records, self.stopped)
    }

    fn remaining(&self) -> usize {
        self.decoder
            .settings
            .limits
            .max_total_output_bytes
            .saturating_sub(self.used)
    }

    fn note_limit(&mut self, limit: Limit) {
        if !self.stopped.contains(&limit) {
            self.stopped.push(limit);
        }
        if matches!(limit, Limit::MaxTotalOutputBytes | Limit::MaxRecords) {
            self.halted = true;
        }
    }

    /// Pushes a record unless the record budget is spent (then one row says so). A record
    /// cut short by the total output budget is still pushed; what follows it is not.
    fn emit(&mut self, record: DecodedRecord) -> bool {
        if self.halted {
            return false;
        }
        if self.records >= self.decoder.settings.limits.max_records {
            self.sink.record(limit_record(&record, Limit::MaxRecords));
            self.records += 1;
            self.note_limit(Limit::MaxRecords);
            return false;
        }
        let stopped_by = record.stopped_by;
        self.sink.record(record);
        self.records += 1;
        if let Some(limit) = stopped_by {
            self.note_limit(limit);
        }
        true
    }

    /// Scans `text` at scan level `depth` and returns it with decoded candidates replaced by
    /// display tags.
    fn scan_text<'t>(&mut self, text: &'t str, depth: usize, parent: Option<&str>) -> Cow<'t, str> {
        if self.halted {
            return Cow::Borrowed(text);
        }
        let candidates = scan::find(text.as_bytes(), &self.scan);
        if candidates.is_empty() {
            return Cow::Borrowed(text);
        }
        let prefix = parent.map(|p| format!("{p}.")).unwrap_or_default();
        if depth > self.decoder.settings.limits.max_depth {
            let c = &candidates[0];
            let place = Place {
                reference: Reference {
                    prefix: prefix.clone(),
                    depth,
                    fragment: 1,
                },
                index: format!("{prefix}1"),
                parent: parent.map(str::to_owned),
                original: text.get(c.start..c.end).unwrap_or_default().to_owned(),
                span: c.start..c.end,
                display_depth: depth,
            };
            let record = bare_record(&place, Limit::MaxDepth);
            self.emit(record);
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut fragment = 0;
        for candidate in &candidates {
            if self.halted {
                break;
            }
            if candidate.start < copied {
                continue;
            }
            let Some(original) = text.get(candidate.start..candidate.end) else {
                continue;
            };
            let place = Place {
                reference: Reference {
                    prefix: prefix.clone(),
                    depth,
                    fragment: fragment + 1,
                },
                index: format!("{prefix}{}", fragment + 1),
                parent: parent.map(str::to_owned),
                original: original.to_owned(),
                span: candidate.start..candidate.end,
                display_depth: depth,
            };
            if self.remaining() == 0 {
                self.emit(bare_record(&place, Limit::MaxTotalOutputBytes));
                self.note_limit(Limit::MaxTotalOutputBytes);
                break;
            }
            let Some(decoded) = self.decode_candidate(original.as_bytes(), candidate) else {
                continue;
            };
            fragment += 1;
            out.push_str(&text[copied..candidate.start]);
            let shown = self.layer(decoded, &place);
            out.push_str(&shown);
            copied = candidate.end;
        }
        if copied == 0 {
            // Candidates were found but none decoded: the text stands as it is.
            return Cow::Borrowed(text);
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }

    fn decode_candidate(&mut self, raw: &[u8], candidate: &Candidate) -> Option<Decoded> {
        let budget = self.remaining();
        let settings = &self.decoder.settings;
        let mut file_type = None;
        let mut implicit = false;
        let (produced, encoding): (Produced, Encoding) = match candidate.kind {
            Kind::Base64 => {
                file_type = codecs::base64_prefix_type(raw);
                (codecs::base64(raw, false, false, budget)?, Encoding::Base64)
            }
            Kind::Base64Url => {
                implicit = true;
                (
                    codecs::base64(raw, true, true, budget)?,
                    Encoding::Base64Url,
                )
            }
            Kind::HexPlain => {
                implicit = true;
                (codecs::hex_digits(raw, budget)?, Encoding::Hex)
            }
            Kind::HexLiteral => {
                // Up to 16 digits a literal is a number (flags, handles, 64-bit values): only
                // reported when its bytes read as text or carry a signature.
                implicit = raw.len() <= 2 + MAX_NUMBER_HEX_DIGITS;
                (codecs::hex_digits(raw.get(2..)?, budget)?, Encoding::Hex)
            }
            Kind::HexEscapes | Kind::HexList => (codecs::hex_groups(raw, budget)?, Encoding::Hex),
            Kind::Percent => (codecs::percent(raw, budget)?, Encoding::Percent),
            Kind::CharCodes => (
                codecs::char_codes(&candidate.codes, budget)?,
                Encoding::CharCodes,
            ),
        };
        if implicit && !codecs::plausible(&produced.bytes, settings.utf16) {
            return None;
        }
        self.used += produced.bytes.len();
        Some(Decoded {
            bytes: produced.bytes,
            chain: vec![encoding],
            file_type,
            truncated: produced.truncated,
            utf16_hint: candidate.powershell,
        })
    }

    /// Expands one decoded candidate and reports it; returns its display fragment.
    fn layer(&mut self, decoded: Decoded, place: &Place) -> String {
        let settings = &self.decoder.settings;
        let container = decoded.file_type.or_else(|| {
            settings
                .sniff_signatures
                .then(|| codecs::sniff(&decoded.bytes))
                .flatten()
        });
        let layer = Layer {
            bytes: decoded.bytes,
            chain: decoded.chain,
            file_name: "unknown".to_owned(),
            file_type: decoded.file_type.map(str::to_owned),
            tag_name: String::new(),
            stopped_by: decoded.truncated.then_some(Limit::MaxTotalOutputBytes),
            error: None,
            utf16_hint: decoded.utf16_hint,
        };
        self.expand(layer, container, place)
    }

    /// Decompresses and unpacks a layer as far as the settings allow, then reports it.
    fn expand(&mut self, mut layer: Layer, mut container: Option<&str>, place: &Place) -> String {
        let settings = &self.decoder.settings;
        let limits = settings.limits.clone();
        // Compression folds into the same layer (as the reference folds gzip).
        loop {
            let stream = match container {
                Some("gz") if self.decoder.enabled(Encoding::Gzip) => Stream::Gzip,
                None if settings.sniff_signatures
                    && self.decoder.enabled(Encoding::Zlib)
                    && codecs::zlib_header(&layer.bytes) =>
                {
                    Stream::Zlib
                }
                _ => break,
            };
            let out = expand::decompress(stream, &layer.bytes, &limits, self.remaining());
            if stream == Stream::Zlib && (out.error.is_some() || out.bytes.is_empty()) {
                break;
            }
            self.used += out.bytes.len();
            layer.bytes = out.bytes;
            layer.stopped_by = layer.stopped_by.or(out.stopped_by);
            layer.error = out.error.map(|e| format!("{}: {e}", stream_name(stream)));
            match stream {
                Stream::Gzip => {
                    layer.chain.push(Encoding::Gzip);
                    layer.file_type = Some("gz".to_owned());
                    layer.file_name = "gzip_file".to_owned();
                }
                _ => {
                    layer.chain.push(Encoding::Zlib);
                    layer.file_type = Some("zlib".to_owned());
                }
            }
            if !settings.nested_compression || layer.stopped_by.is_some() {
                container = None;
                break;
            }
            container = codecs::sniff(&layer.bytes);
        }
        // PowerShell's DeflateStream idiom: raw deflate has no signature, so it is tried on
        // bytes that are neither text nor a known format, and kept only if it reads as such.
        if container.is_none()
            && layer.stopped_by.is_none()
            && self.decoder.enabled(Encoding::Deflate)
            && !layer.chain.contains(&Encoding::Gzip)
            && !layer.chain.contains(&Encoding::Zlib)
            && !codecs::plausible(&layer.bytes, settings.utf16)
        {
            let out = expand::decompress(Stream::Deflate, &layer.bytes, &limits, self.remaining());
            if out.error.is_none()
                && out.stopped_by.is_none()
                && !out.bytes.is_empty()
                && codecs::plausible(&out.bytes, settings.utf16)
            {
                self.used += out.bytes.len();
                layer.bytes = out.bytes;
                layer.chain.push(Encoding::Deflate);
                layer.file_type = Some("deflate".to_owned());
                container = if settings.nested_compression {
                    codecs::sniff(&layer.bytes)
                } else {
                    None
                };
            }
        }
        match container {
            Some("zip") if self.decoder.enabled(Encoding::Zip) => {
                self.archive(layer, Encoding::Zip, place)
            }
            Some("tar") if self.decoder.enabled(Encoding::Tar) => {
                self.archive(layer, Encoding::Tar, place)
            }
            _ => {
                layer.tag_name = match (&layer.file_type, layer.file_name.as_str()) {
                    (Some(t), "gzip_file") => format!("[{t}] Filename: gzip_file"),
                    (Some(t), _) => format!("[{t}]"),
                    (None, _) => "[None]".to_owned(),
                };
                self.leaf(layer, place)
            }
        }
    }

    /// Reports each member of an archive (and expands members that are compressed or archives).
    fn archive(&mut self, layer: Layer, kind: Encoding, place: &Place) -> String {
        let limits = self.decoder.settings.limits.clone();
        let type_name = if kind == Encoding::Zip { "zip" } else { "tar" };
        let mut remaining = self.remaining();
        let before = remaining;
        let archive = if kind == Encoding::Zip {
            expand::zip_members(&layer.bytes, &limits, &mut remaining)
        } else {
            expand::tar_members(&layer.bytes, &limits, &mut remaining)
        };
        self.used += before - remaining;
        if archive.members.is_empty() {
            // Nothing could be read: report the archive bytes themselves.
            let layer = Layer {
                file_type: Some(type_name.to_owned()),
                tag_name: format!("[{type_name}]"),
                stopped_by: layer.stopped_by.or(archive.stopped_by),
                error: archive.error.or(layer.error),
                ..layer
            };
            return self.leaf(layer, place);
        }
        let count = archive.members.len();
        let multiple = count > 1 || archive.stopped_by.is_some();
        let mut shown = String::new();
        if multiple {
            let _ = write!(
                shown,
                "<decoded value='multiple binary' type='multiple' index='{}' depth='{}'>",
                place.index, place.display_depth
            );
        }
        let mut chain = layer.chain.clone();
        chain.push(kind);
        for (n, member) in archive.members.into_iter().enumerate() {
            if self.halted {
                break;
            }
            let member_place = if multiple {
                Place {
                    index: format!("{}.{}", place.index, n + 1),
                    display_depth: place.display_depth + 1,
                    ..place.clone()
                }
            } else {
                place.clone()
            };
            let error = match (member.error, &archive.error) {
                (Some(e), _) => Some(e),
                (None, Some(e)) if n + 1 == count => Some(e.clone()),
                _ => None,
            };
            let member_layer = Layer {
                bytes: member.bytes,
                chain: chain.clone(),
                tag_name: format!("[{type_name}] Filename: {}", member.name),
                file_name: member.name,
                file_type: Some(type_name.to_owned()),
                stopped_by: member.stopped_by.or(layer.stopped_by),
                error,
                utf16_hint: false,
            };
            shown.push_str(&self.member(member_layer, &member_place));
        }
        if let Some(limit) = archive.stopped_by {
            let limit_place = Place {
                index: format!("{}.{}", place.index, count + 1),
                display_depth: place.display_depth + 1,
                ..place.clone()
            };
            let mut record = bare_record(&limit_place, limit);
            record.chain = chain;
            record.file_type = Some(type_name.to_owned());
            self.emit(record);
        }
        if multiple {
            shown.push_str("</decoded>");
        }
        shown
    }

    /// Reports a member; a member that is itself compressed or an archive gets child layers.
    fn member(&mut self, layer: Layer, place: &Place) -> String {
        let settings = &self.decoder.settings;
        let inner = if settings.expand_members && layer.stopped_by.is_none() {
            codecs::sniff(&layer.bytes)
                .filter(|t| matches!(*t, "gz" | "zip" | "tar"))
                .or_else(|| {
                    (self.decoder.enabled(Encoding::Zlib) && codecs::zlib_header(&layer.bytes))
                        .then_some("zlib")
                })
        } else {
            None
        };
        let Some(inner) = inner else {
            return self.leaf(layer, place);
        };
        let child = Layer {
            bytes: layer.bytes.clone(),
            chain: layer.chain.clone(),
            file_name: "unknown".to_owned(),
            file_type: None,
            tag_name: String::new(),
            stopped_by: None,
            error: None,
            utf16_hint: false,
        };
        let mut shown = self.leaf(layer, place);
        if self.halted {
            return shown;
        }
        let child_place = Place {
            reference: Reference {
                prefix: format!("{}.", place.index),
                depth: place.reference.depth,
                fragment: 1,
            },
            index: format!("{}.1", place.index),
            parent: Some(place.index.clone()),
            display_depth: place.display_depth + 1,
            ..place.clone()
        };
        let container = if inner == "zlib" { None } else { Some(inner) };
        let child_shown = self.expand(child, container, &child_place);
        // Nest the child inside the member's tag.
        if shown.ends_with("</decoded>") {
            shown.truncate(shown.len() - "</decoded>".len());
            shown.push_str(&child_shown);
            shown.push_str("</decoded>");
        }
        shown
    }

    /// Reports a final layer: classifies it as text or binary, pushes its record, scans its
    /// text one level deeper, and returns its display fragment.
    fn leaf(&mut self, mut layer: Layer, place: &Place) -> String {
        let settings = &self.decoder.settings;
        let (form, utf16) = codecs::classify(&layer.bytes, settings.utf16, layer.utf16_hint);
        if utf16 {
            layer.chain.push(Encoding::Utf16Le);
        }
        let printable = codecs::printable_bytes(&layer.bytes, settings.limits.max_preview_bytes);
        let file_type_shown = layer.file_type.clone().unwrap_or_else(|| "None".to_owned());
        let record = DecodedRecord {
            reference: place.reference.clone(),
            index: place.index.clone(),
            parent: place.parent.clone(),
            depth: place.reference.depth,
            chain: layer.chain,
            original_string: place.original.clone(),
            span: place.span.clone(),
            file_name: layer.file_name,
            file_type: layer.file_type,
            hashes: codecs::hashes(&layer.bytes),
            input_bytes: layer.bytes,
            decoded_string: form.text.clone(),
            encoding_type: form.encoding_type,
            printable_bytes: printable.clone(),
            stopped_by: layer.stopped_by,
            error: layer.error,
        };
        if !self.emit(record) {
            return place.original.clone();
        }
        match form.text {
            Some(text) => {
                let content = if layer.stopped_by.is_none() {
                    self.scan_text(&text, place.reference.depth + 1, Some(&place.index))
                } else {
                    Cow::Borrowed(text.as_str())
                };
                format!(
                    "<decoded type='string' name='{}' index='{}' depth='{}'>{content}</decoded>",
                    layer.tag_name, place.index, place.display_depth
                )
            }
            None => format!(
                "<decoded value='binary'  name='{}' type='{file_type_shown}' index='{}' depth='{}'>{printable}</decoded>",
                layer.tag_name, place.index, place.display_depth
            ),
        }
    }
}

fn stream_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Gzip => "gzip",
        Stream::Zlib => "zlib",
        Stream::Deflate => "deflate",
    }
}

/// A row for a candidate that a limit kept from being decoded.
fn bare_record(place: &Place, limit: Limit) -> DecodedRecord {
    DecodedRecord {
        reference: place.reference.clone(),
        index: place.index.clone(),
        parent: place.parent.clone(),
        depth: place.reference.depth,
        chain: Vec::new(),
        original_string: place.original.clone(),
        span: place.span.clone(),
        file_name: "unknown".to_owned(),
        file_type: None,
        input_bytes: Vec::new(),
        decoded_string: None,
        encoding_type: "binary",
        hashes: Hashes::default(),
        printable_bytes: String::new(),
        stopped_by: Some(limit),
        error: None,
    }
}

/// The row that says the record budget is spent, placed where the next record would have been.
fn limit_record(next: &DecodedRecord, limit: Limit) -> DecodedRecord {
    DecodedRecord {
        chain: Vec::new(),
        file_name: "unknown".to_owned(),
        file_type: None,
        input_bytes: Vec::new(),
        decoded_string: None,
        encoding_type: "binary",
        hashes: Hashes::default(),
        printable_bytes: String::new(),
        stopped_by: Some(limit),
        error: None,
        ..next.clone()
    }
}
