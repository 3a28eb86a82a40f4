//! The process-tree operation over Arrow: `proctree.build` (engine: `hg_proctree`).
//!
//! # `proctree.build`
//!
//! Input: process-creation events in one of the schemas of `hg_proctree` (Windows 4688, Sysmon
//! 1, Defender `DeviceProcessEvents`, Linux auditd) or any table with a column mapping. Output:
//! the input columns of every process in tree order (placeholder parents added) followed by
//! `proc_key` (utf8), `parent_key` (utf8), `path` (utf8), `source_index` (int64, the input row;
//! placeholders numbered from the input's row count), `parent_index` (int64), `depth` (int32,
//! 0 for roots), `child_count` (int32), `IsRoot`, `IsLeaf`, `IsBranch`, `IsPlaceholder`,
//! `IsOrphan` (boolean).
//!
//! Options: `schema` (null: detect from the columns; a name: `windows_4688`, `sysmon_1`, `mde`,
//! `linux_auditd`; an object: a column mapping with the keys of `hg_proctree::MAPPING_KEYS`),
//! `infer_parents` (default true), `match_host` (default true).

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use hg_proctree::{build_tree, BuildOptions, ProcTreeError, SchemaChoice};
use serde::Deserialize;
use serde_json::Value;

use crate::{parse_options, read_input, OpError, OpInfo, Operation, OptionInfo};

static BUILD_INFO: OpInfo = OpInfo {
    name: "proctree.build",
    description: "Build process trees from process-creation events: each process linked to its parent, placeholders for missing parents, in tree order.",
    input: "process-creation events (Windows 4688, Sysmon 1, Defender DeviceProcessEvents, Linux auditd, or any table with a column mapping)",
    output: "the input columns in tree order, then proc_key, parent_key, path: utf8; source_index, parent_index: int64; depth, child_count: int32; IsRoot, IsLeaf, IsBranch, IsPlaceholder, IsOrphan: boolean",
    options: &[
        OptionInfo {
            name: "schema",
            type_name: "string, object or null",
            required: false,
            default: "null",
            description: "null: detect from the columns; windows_4688, sysmon_1, mde, linux_auditd; or a mapping {process_name, process_id, parent_id, time_stamp, parent_name, parent_time, cmd_line, user_name, logon_id, host_name_column, event_id_column, event_id_identifier, path_separator} -> column.",
        },
        OptionInfo {
            name: "infer_parents",
            type_name: "boolean",
            required: false,
            default: "true",
            description: "Add a placeholder row for each parent the events name but do not contain (false: such processes become roots).",
        },
        OptionInfo {
            name: "match_host",
            type_name: "boolean",
            required: false,
            default: "true",
            description: "Link parents on the same host only (false links across hosts, as the reference does).",
        },
    ],
};

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct BuildOpOptions {
    schema: Value,
    infer_parents: bool,
    match_host: bool,
}

impl Default for BuildOpOptions {
    fn default() -> Self {
        BuildOpOptions {
            schema: Value::Null,
            infer_parents: true,
            match_host: true,
        }
    }
}

fn bad_schema(message: String) -> OpError {
    OpError::BadOption {
        op: BUILD_INFO.name.into(),
        key: "schema".into(),
        message,
    }
}

fn schema_choice(value: &Value) -> Result<SchemaChoice, OpError> {
    match value {
        Value::Null => Ok(SchemaChoice::Detect),
        Value::String(name) => Ok(SchemaChoice::Named(name.clone())),
        Value::Object(map) => {
            let mut mapping = BTreeMap::new();
            for (key, v) in map {
                match v {
                    Value::String(s) => {
                        mapping.insert(key.clone(), s.clone());
                    }
                    Value::Number(n) => {
                        mapping.insert(key.clone(), n.to_string());
                    }
                    Value::Null => {}
                    _ => {
                        return Err(bad_schema(format!(
                            "mapping key '{key}' must name a column (a string)"
                        )))
                    }
                }
            }
            Ok(SchemaChoice::Mapping(mapping))
        }
        _ => Err(bad_schema(
            "expected null, a schema name or a column mapping object".into(),
        )),
    }
}

/// `proctree.build`.
pub struct BuildOp;

impl Operation for BuildOp {
    fn info(&self) -> &'static OpInfo {
        &BUILD_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = BUILD_INFO.name;
        let o: BuildOpOptions = parse_options(&BUILD_INFO, options)?;
        let options = BuildOptions {
            schema: schema_choice(&o.schema)?,
            infer_parents: o.infer_parents,
            match_host: o.match_host,
        };
        let table = read_input(op, input)?;
        let batch = build_tree(&table, &options).map_err(|e| match e {
            ProcTreeError::Input(source) => OpError::input(op, source),
            other => OpError::engine(op, other),
        })?;
        write_output(&batch).map_err(|source| OpError::input(op, source))
    }
}

/// The output batch as an Arrow IPC stream, written into a buffer reserved once for all of it:
/// a buffer grown by doubling copies up to the output's size again and, in the kernel's wasm
/// memory (which never shrinks), holds the old and the new buffer at once (1M processes give
/// about 420 MB of output).
fn write_output(batch: &RecordBatch) -> Result<Vec<u8>, hg_arrow::HgArrowError> {
    let ipc_error = |e: arrow_schema::ArrowError| hg_arrow::HgArrowError::Ipc(e.to_string());
    // Buffers are padded to 8 bytes and each has a little metadata; the rest is the data.
    let capacity = batch
        .get_array_memory_size()
        .saturating_add(64 * 1024 + batch.num_columns() * 256);
    let mut out = Vec::with_capacity(capacity);
    let mut writer =
        arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).map_err(ipc_error)?;
    writer.write(batch).map_err(ipc_error)?;
    writer.finish().map_err(ipc_error)?;
    drop(writer);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};

    use crate::Registry;

    fn input() -> Vec<u8> {
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "TimeGenerated",
                Arc::new(StringArray::from(vec![
                    "2024-01-01 00:00:00",
                    "2024-01-01 00:00:01",
                ])),
            ),
            (
                "NewProcessName",
                Arc::new(StringArray::from(vec!["C:\\a.exe", "C:\\b.exe"])),
            ),
            (
                "NewProcessId",
                Arc::new(StringArray::from(vec!["0x10", "0x20"])),
            ),
            (
                "ProcessId",
                Arc::new(StringArray::from(vec!["0x4", "0x10"])),
            ),
            ("EventID", Arc::new(Int64Array::from(vec![4688, 4688]))),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch =
            RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect())
                .unwrap();
        hg_arrow::write_ipc_stream(&schema, &[batch]).unwrap()
    }

    #[test]
    fn builds_with_detected_named_and_mapped_schemas() {
        let registry = Registry::standard();
        for options in [
            "",
            r#"{"schema": "windows_4688"}"#,
            r#"{"schema": {"process_name": "NewProcessName", "process_id": "NewProcessId", "parent_id": "ProcessId", "time_stamp": "TimeGenerated"}, "match_host": false}"#,
        ] {
            let out = registry
                .call("proctree.build", options.as_bytes(), &input())
                .unwrap();
            let table = hg_arrow::read_ipc_stream(&out).unwrap();
            // a placeholder for 0x4, then a.exe, then b.exe
            assert_eq!(table.num_rows(), 3, "{options}");
            assert_eq!(table.display("NewProcessId", 0).unwrap(), "0x4");
            assert_eq!(table.display("IsPlaceholder", 0).unwrap(), "true");
            assert_eq!(table.display("parent_index", 2).unwrap(), "0");
            assert_eq!(table.display("path", 2).unwrap(), "00002/00000/00001");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let registry = Registry::standard();
        let err = |options: &str| {
            registry
                .call("proctree.build", options.as_bytes(), &input())
                .unwrap_err()
                .to_string()
        };
        assert!(err(r#"{"schema": "nope"}"#).contains("unknown schema 'nope'"));
        assert!(err(r#"{"schema": 3}"#).contains("option 'schema'"));
        assert!(err(r#"{"schema": "linux_auditd"}"#)
            .contains("schema linux_auditd needs the columns exe, pid, ppid"));
        assert!(err(r#"{"schema": {"process_name": "X"}}"#).contains("lacks the required keys"));
        assert!(err(r#"{"depth": 3}"#).contains("unknown option 'depth'"));
    }
}
