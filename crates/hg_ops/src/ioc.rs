//! The IoC operations over Arrow: `ioc.extract`, `ioc.validate` and `ioc.type_of` (engine: `hg_ioc`).
//!
//! # `ioc.extract`
//!
//! Input: a table with the string columns named by `columns` (Utf8, LargeUtf8, Utf8View or a
//! dictionary of those; null cells are skipped). Output: one row per indicator occurrence, in
//! input row order, then `columns` order, then text order (a URL is followed by its host):
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `IoCType` | utf8 | the type name (`ipv4`, `dns`, `url`, ..., `sha512_hash`, `cve`, `registry_key`) |
//! | `Observable` | utf8 | the text as written (possibly defanged) |
//! | `Canonical` | utf8 | the refanged value (host and hashes lower case, CVE upper case) |
//! | `SourceIndex` | int64 | the 0-based row of the input table |
//! | `Column` | utf8 | the input column the text came from |
//! | `Start`, `End` | int64 | byte offsets of `Observable` in that cell's UTF-8 text |
//!
//! Every occurrence is reported (the reference deduplicates per row and type; callers that want
//! that deduplicate on `SourceIndex, IoCType, Observable`).
//!
//! Options: `columns` (required; a string or a list), `types` (the reference's `ioc_types`;
//! default all types), `include_paths` (default **true**: the engine's default; the Python
//! DataFrame mode passes `false` as the reference does), `defanged` (default true), `ignore_tlds`
//! (default false). Type names are the reference's, plus `sha512_hash`, `cve`, `registry_key`;
//! the reference's pattern-less names are accepted as aliases: `file_hash` (every hash type) and
//! `hostname` (`dns`).
//!
//! # `ioc.validate` and `ioc.type_of`
//!
//! Input: a table with one string column (`column`, default `Value`). Output: one row per input
//! row: `Valid` (boolean: the whole value is one indicator of `ioc_type`) or `IoCType` (the type
//! of the whole value, `unknown` when it is none, as the reference's `get_ioc_type`); a null
//! value gives null.
//!
//! Compiled extractors are cached (a few distinct option sets at most), since building one
//! compiles the patterns.

use std::sync::{Arc, Mutex};

use arrow_array::builder::{ArrayBuilder, BooleanBuilder, Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use hg_arrow::{HgArrowError, StringColumn, Table};
use hg_ioc::{IocExtractor, IocMatch, IocType};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::{parse_options, OpError, OpInfo, Operation, OptionInfo, MAX_OUTPUT_BATCH_BYTES};

/// The output columns of `ioc.extract`, in order.
pub const EXTRACT_COLUMNS: [&str; 7] = [
    "IoCType",
    "Observable",
    "Canonical",
    "SourceIndex",
    "Column",
    "Start",
    "End",
];

const DEFANGED: OptionInfo = OptionInfo {
    name: "defanged",
    type_name: "boolean",
    required: false,
    default: "true",
    description:
        "Recognise defanged forms (hxxp, [.], (.), [dot], [at], ...) and refang them in Canonical.",
};

const IGNORE_TLDS: OptionInfo = OptionInfo {
    name: "ignore_tlds",
    type_name: "boolean",
    required: false,
    default: "false",
    description:
        "Accept domains whose suffix is not in the public suffix list (host.corp, x.local).",
};

static EXTRACT_INFO: OpInfo = OpInfo {
    name: "ioc.extract",
    description: "Find indicators of compromise (IPs, domains, URLs, e-mail addresses, hashes, paths, CVEs, registry keys) in string columns.",
    input: "a table with the string columns named by `columns`",
    output: "IoCType: utf8, Observable: utf8, Canonical: utf8, SourceIndex: int64 (input row), Column: utf8, Start: int64, End: int64 (byte offsets in the cell); one row per occurrence",
    options: &[
        OptionInfo {
            name: "columns",
            type_name: "string or list of strings",
            required: true,
            default: "null",
            description: "The input columns to scan.",
        },
        OptionInfo {
            name: "types",
            type_name: "string or list of strings",
            required: false,
            default: "null",
            description: "Report only these types (ipv4, ipv6, dns, url, email, md5_hash, sha1_hash, sha256_hash, sha512_hash, windows_path, linux_path, cve, registry_key; aliases file_hash, hostname); null = all. A listed path type is reported whatever include_paths says.",
        },
        OptionInfo {
            name: "include_paths",
            type_name: "boolean",
            required: false,
            default: "true",
            description: "Whether the default type set (types = null) includes windows_path and linux_path.",
        },
        DEFANGED,
        IGNORE_TLDS,
    ],
};

static VALIDATE_INFO: OpInfo = OpInfo {
    name: "ioc.validate",
    description: "Tell for each value whether the whole of it is one indicator of the given type.",
    input: "a table with the string column `column`",
    output: "Valid: bool (null for a null value); one row per input row",
    options: &[
        OptionInfo {
            name: "column",
            type_name: "string",
            required: false,
            default: "\"Value\"",
            description: "The input column holding the values.",
        },
        OptionInfo {
            name: "ioc_type",
            type_name: "string",
            required: true,
            default: "null",
            description: "The type to check (a type name of ioc.extract, or file_hash / hostname).",
        },
        DEFANGED,
        IGNORE_TLDS,
    ],
};

static TYPE_OF_INFO: OpInfo = OpInfo {
    name: "ioc.type_of",
    description: "Name the type of each value when the whole of it is one indicator.",
    input: "a table with the string column `column`",
    output: "IoCType: utf8 (the type, `unknown` when none, null for a null value); one row per input row",
    options: &[
        OptionInfo {
            name: "column",
            type_name: "string",
            required: false,
            default: "\"Value\"",
            description: "The input column holding the values.",
        },
        DEFANGED,
        IGNORE_TLDS,
    ],
};

/// `ioc.extract`: indicators in string columns, one row per occurrence.
#[derive(Debug, Default)]
pub struct ExtractOp;

/// `ioc.validate`: whether each value is wholly one indicator of a type.
#[derive(Debug, Default)]
pub struct ValidateOp;

/// `ioc.type_of`: the type of each value that is wholly one indicator.
#[derive(Debug, Default)]
pub struct TypeOfOp;

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ExtractOptions {
    #[serde(deserialize_with = "string_list")]
    columns: Option<Vec<String>>,
    #[serde(deserialize_with = "string_list")]
    types: Option<Vec<String>>,
    include_paths: Option<bool>,
    defanged: Option<bool>,
    ignore_tlds: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ValidateOptions {
    column: Option<String>,
    ioc_type: Option<String>,
    defanged: Option<bool>,
    ignore_tlds: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct TypeOfOptions {
    column: Option<String>,
    defanged: Option<bool>,
    ignore_tlds: Option<bool>,
}

/// A string or a list of strings (the reference accepts a single column name); null = absent.
fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let expected = "expected a string or a list of strings";
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(vec![s])),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(serde::de::Error::custom(format!(
                    "{expected}, got an element {other}"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(serde::de::Error::custom(format!("{expected}, got {other}"))),
    }
}

/// What a type name given by the caller stands for.
fn resolve_type(name: &str) -> Option<Vec<IocType>> {
    if let Some(t) = IocType::parse(name) {
        return Some(vec![t]);
    }
    if name.eq_ignore_ascii_case("file_hash") {
        return Some(vec![
            IocType::Md5Hash,
            IocType::Sha1Hash,
            IocType::Sha256Hash,
            IocType::Sha512Hash,
        ]);
    }
    name.eq_ignore_ascii_case("hostname")
        .then(|| vec![IocType::Dns])
}

fn valid_type_names() -> String {
    let mut names: Vec<&str> = IocType::BUILTIN.iter().map(|t| t.name()).collect();
    names.extend(["file_hash", "hostname"]);
    names.join(", ")
}

fn resolve_types(op: &OpInfo, key: &str, names: &[String]) -> Result<Vec<IocType>, OpError> {
    let mut types = Vec::new();
    for name in names {
        let resolved = resolve_type(name).ok_or_else(|| OpError::BadOption {
            op: op.name.to_string(),
            key: key.to_string(),
            message: format!(
                "unknown IoC type '{name}'; valid types: {}",
                valid_type_names()
            ),
        })?;
        types.extend(resolved);
    }
    types.sort();
    types.dedup();
    Ok(types)
}

#[derive(Clone, PartialEq, Eq, Debug)]
struct ExtractorKey {
    types: Option<Vec<IocType>>,
    include_paths: bool,
    defanged: bool,
    ignore_tlds: bool,
}

/// Most distinct compiled extractors kept (each holds its compiled patterns).
const EXTRACTOR_CACHE_SIZE: usize = 8;

static EXTRACTORS: Mutex<Vec<(ExtractorKey, Arc<IocExtractor>)>> = Mutex::new(Vec::new());

/// The cached extractor with every type and paths on, as `ioc.validate` and `ioc.type_of` use it.
fn all_types_extractor(
    op: &OpInfo,
    defanged: Option<bool>,
    ignore_tlds: Option<bool>,
) -> Result<Arc<IocExtractor>, OpError> {
    extractor(
        op,
        ExtractorKey {
            types: None,
            include_paths: true,
            defanged: defanged.unwrap_or(true),
            ignore_tlds: ignore_tlds.unwrap_or(false),
        },
    )
}

fn extractor(op: &OpInfo, key: ExtractorKey) -> Result<Arc<IocExtractor>, OpError> {
    {
        let cache = EXTRACTORS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, found)) = cache.iter().find(|(k, _)| *k == key) {
            return Ok(Arc::clone(found));
        }
    }
    let mut builder = IocExtractor::builder()
        .include_paths(key.include_paths)
        .defanged(key.defanged)
        .ignore_tlds(key.ignore_tlds);
    if let Some(types) = &key.types {
        builder = builder.types(types.iter().copied());
    }
    let built = Arc::new(builder.build().map_err(|e| OpError::Engine {
        op: op.name.to_string(),
        message: e.to_string(),
    })?);
    let mut cache = EXTRACTORS.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= EXTRACTOR_CACHE_SIZE {
        cache.remove(0);
    }
    cache.push((key, Arc::clone(&built)));
    Ok(built)
}

fn input_error(op: &OpInfo) -> impl Fn(HgArrowError) -> OpError + '_ {
    move |source| OpError::Input {
        op: op.name.to_string(),
        source,
    }
}

/// Reads the input and checks that `columns` exist and hold strings (also when there are no rows).
fn read_input(op: &OpInfo, input: &[u8], columns: &[String]) -> Result<Table, OpError> {
    let table = hg_arrow::read_ipc_stream(input).map_err(input_error(op))?;
    let schema_only = Table::new(table.schema().clone(), Vec::new()).map_err(input_error(op))?;
    for column in columns {
        schema_only.strings(column).map_err(input_error(op))?;
    }
    Ok(table)
}

/// Each batch of `table` with accessors for `columns` and the table row of its first row.
fn batches_with_columns<'t>(
    op: &'t OpInfo,
    table: &'t Table,
    columns: &'t [String],
) -> impl Iterator<Item = Result<(usize, usize, Vec<StringColumn>), OpError>> + 't {
    let mut first_row = 0usize;
    table.batches().iter().map(move |batch| {
        let one =
            Table::new(table.schema().clone(), vec![batch.clone()]).map_err(input_error(op))?;
        let accessors = columns
            .iter()
            .map(|c| one.strings(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(input_error(op))?;
        let start = first_row;
        first_row += batch.num_rows();
        Ok((start, batch.num_rows(), accessors))
    })
}

fn write_output(
    op: &OpInfo,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, OpError> {
    hg_arrow::write_ipc_stream(schema, batches).map_err(input_error(op))
}

fn batch(op: &OpInfo, schema: &SchemaRef, columns: Vec<ArrayRef>) -> Result<RecordBatch, OpError> {
    RecordBatch::try_new(Arc::clone(schema), columns).map_err(|e| OpError::Engine {
        op: op.name.to_string(),
        message: format!("building the output: {e}"),
    })
}

/// The output table of `ioc.extract` under construction.
struct ExtractOutput {
    schema: SchemaRef,
    ioc_type: StringBuilder,
    observable: StringBuilder,
    canonical: StringBuilder,
    source_index: Int64Builder,
    column: StringBuilder,
    start: Int64Builder,
    end: Int64Builder,
    pending_bytes: usize,
    batches: Vec<RecordBatch>,
}

impl ExtractOutput {
    fn new() -> Self {
        let utf8 = |name: &str| Field::new(name, DataType::Utf8, false);
        let int = |name: &str| Field::new(name, DataType::Int64, false);
        ExtractOutput {
            schema: Arc::new(Schema::new(vec![
                utf8("IoCType"),
                utf8("Observable"),
                utf8("Canonical"),
                int("SourceIndex"),
                utf8("Column"),
                int("Start"),
                int("End"),
            ])),
            ioc_type: StringBuilder::new(),
            observable: StringBuilder::new(),
            canonical: StringBuilder::new(),
            source_index: Int64Builder::new(),
            column: StringBuilder::new(),
            start: Int64Builder::new(),
            end: Int64Builder::new(),
            pending_bytes: 0,
            batches: Vec::new(),
        }
    }

    /// Sizes empty builders for an input batch holding about `text_bytes` bytes of text, so that
    /// they do not grow by doubling (each step a copy; wasm's allocator cannot remap pages as the
    /// native one does for large blocks). The guess (one indicator per 64 bytes, observables and
    /// canonical values half the text each) fits mixed logs (the benchmark corpus has one per 47
    /// bytes). It reserves about twice the text's size, at most about 90 MB per batch whatever
    /// the input; reserved bytes that are never written cost address space, not memory pages.
    fn reserve_for(&mut self, text_bytes: usize) {
        if self.source_index.len() != 0 {
            return;
        }
        let rows = (text_bytes / 64).min(1 << 20);
        let values = (text_bytes / 2).min(MAX_OUTPUT_BATCH_BYTES / 4);
        self.ioc_type = StringBuilder::with_capacity(rows, rows * 8);
        self.observable = StringBuilder::with_capacity(rows, values);
        self.canonical = StringBuilder::with_capacity(rows, values);
        self.source_index = Int64Builder::with_capacity(rows);
        self.column = StringBuilder::with_capacity(rows, rows * 8);
        self.start = Int64Builder::with_capacity(rows);
        self.end = Int64Builder::with_capacity(rows);
    }

    fn push(&mut self, m: &IocMatch<'_>, row: usize, column: &str) {
        self.ioc_type.append_value(m.type_name);
        self.observable.append_value(m.observable);
        self.canonical.append_value(m.canonical);
        self.source_index.append_value(to_i64(row));
        self.column.append_value(column);
        self.start.append_value(to_i64(m.start));
        self.end.append_value(to_i64(m.end));
        self.pending_bytes +=
            m.type_name.len() + m.observable.len() + m.canonical.len() + column.len();
    }

    fn finish_batch(&mut self, op: &OpInfo) -> Result<(), OpError> {
        if self.source_index.len() == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.ioc_type.finish()),
            Arc::new(self.observable.finish()),
            Arc::new(self.canonical.finish()),
            Arc::new(self.source_index.finish()),
            Arc::new(self.column.finish()),
            Arc::new(self.start.finish()),
            Arc::new(self.end.finish()),
        ];
        let done = batch(op, &self.schema, columns)?;
        self.batches.push(done);
        self.pending_bytes = 0;
        Ok(())
    }
}

/// Offsets and rows fit i64 on every platform (memory is smaller than 2^63 bytes).
fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Operation for ExtractOp {
    fn info(&self) -> &'static OpInfo {
        &EXTRACT_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = &EXTRACT_INFO;
        let opts: ExtractOptions = parse_options(op, options)?;
        let mut columns: Vec<String> = Vec::new();
        for c in opts.columns.unwrap_or_default() {
            if !columns.contains(&c) {
                columns.push(c);
            }
        }
        if columns.is_empty() {
            return Err(OpError::BadOption {
                op: op.name.to_string(),
                key: "columns".to_string(),
                message: "name at least one column".to_string(),
            });
        }
        let types = match &opts.types {
            Some(names) => Some(resolve_types(op, "types", names)?),
            None => None,
        };
        let extractor = extractor(
            op,
            ExtractorKey {
                types,
                include_paths: opts.include_paths.unwrap_or(true),
                defanged: opts.defanged.unwrap_or(true),
                ignore_tlds: opts.ignore_tlds.unwrap_or(false),
            },
        )?;
        let table = read_input(op, input, &columns)?;
        let mut out = ExtractOutput::new();
        for (part, input_batch) in batches_with_columns(op, &table, &columns).zip(table.batches()) {
            let (first_row, rows, accessors) = part?;
            out.reserve_for(
                columns
                    .iter()
                    .filter_map(|c| input_batch.column_by_name(c))
                    .map(|a| a.get_array_memory_size())
                    .sum(),
            );
            for row in 0..rows {
                for (name, accessor) in columns.iter().zip(&accessors) {
                    if let Some(text) = accessor.get(row) {
                        extractor.extract(text, &mut |m: &IocMatch<'_>| {
                            out.push(m, first_row + row, name)
                        });
                    }
                }
                if out.pending_bytes >= MAX_OUTPUT_BATCH_BYTES {
                    out.finish_batch(op)?;
                }
            }
            out.finish_batch(op)?;
        }
        write_sized_output(op, &out.schema, &out.batches)
    }
}

/// The output stream written into a buffer sized for it up front: growing a multi-megabyte
/// buffer by doubling copies it about twice over (see [`ExtractOutput::reserve_for`]).
fn write_sized_output(
    op: &OpInfo,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, OpError> {
    let data: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
    // Schema and batch headers: a few hundred bytes each; buffers are padded to 8 bytes.
    let mut out = Vec::with_capacity(data + 4096 + 1024 * batches.len());
    let failed = |e: arrow_schema::ArrowError| OpError::Engine {
        op: op.name.to_string(),
        message: format!("writing the output: {e}"),
    };
    let mut writer = StreamWriter::try_new(&mut out, schema).map_err(failed)?;
    for batch in batches {
        writer.write(batch).map_err(failed)?;
    }
    writer.finish().map_err(failed)?;
    drop(writer);
    Ok(out)
}

/// Runs `per_value` over every value of the one input column, one output batch per input batch.
fn map_column(
    op: &OpInfo,
    input: &[u8],
    column: String,
    output: Field,
    mut per_batch: impl FnMut(&StringColumn, usize) -> ArrayRef,
) -> Result<Vec<u8>, OpError> {
    let columns = [column];
    let table = read_input(op, input, &columns)?;
    let schema: SchemaRef = Arc::new(Schema::new(vec![output]));
    let mut batches = Vec::new();
    for part in batches_with_columns(op, &table, &columns) {
        let (_, rows, accessors) = part?;
        let array = per_batch(&accessors[0], rows);
        batches.push(batch(op, &schema, vec![array])?);
    }
    write_output(op, &schema, &batches)
}

impl Operation for ValidateOp {
    fn info(&self) -> &'static OpInfo {
        &VALIDATE_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = &VALIDATE_INFO;
        let opts: ValidateOptions = parse_options(op, options)?;
        let type_name = opts.ioc_type.unwrap_or_default();
        let wanted = resolve_types(op, "ioc_type", std::slice::from_ref(&type_name))?;
        let extractor = all_types_extractor(op, opts.defanged, opts.ignore_tlds)?;
        let column = opts.column.unwrap_or_else(|| "Value".to_string());
        map_column(
            op,
            input,
            column,
            Field::new("Valid", DataType::Boolean, true),
            |values, rows| {
                let mut valid = BooleanBuilder::with_capacity(rows);
                for row in 0..rows {
                    valid.append_option(
                        values
                            .get(row)
                            .map(|v| wanted.iter().any(|t| extractor.validate(v, *t))),
                    );
                }
                Arc::new(valid.finish())
            },
        )
    }
}

impl Operation for TypeOfOp {
    fn info(&self) -> &'static OpInfo {
        &TYPE_OF_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = &TYPE_OF_INFO;
        let opts: TypeOfOptions = parse_options(op, options)?;
        let extractor = all_types_extractor(op, opts.defanged, opts.ignore_tlds)?;
        let column = opts.column.unwrap_or_else(|| "Value".to_string());
        map_column(
            op,
            input,
            column,
            Field::new("IoCType", DataType::Utf8, true),
            |values, rows| {
                let mut types = StringBuilder::with_capacity(rows, rows * 8);
                for row in 0..rows {
                    types.append_option(values.get(row).map(|v| {
                        extractor
                            .type_of(v)
                            .map_or("unknown", |t: IocType| t.name())
                    }));
                }
                Arc::new(types.finish())
            },
        )
    }
}
