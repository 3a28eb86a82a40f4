//! Process forests from process-creation events (Windows 4688, Sysmon 1, Defender DeviceProcessEvents, Linux auditd or a column mapping).
//!
//! # Design
//!
//! [`build_forest`] reads the schema's columns from an Arrow [`hg_arrow::Table`] and links
//! every process to its parent; [`ProcessForest::to_record_batch`] returns the input columns in
//! tree order plus the tree columns ([`TREE_COLUMNS`]). The utilities
//! ([`ProcessForest::ancestors`], [`ProcessForest::descendants`], [`ProcessForest::siblings`],
//! [`ProcessForest::root`]) answer from the forest in memory. The crate needs no clock, file
//! system or network and builds for `wasm32-unknown-unknown`.
//!
//! **Schemas** ([`ProcSchema`]): Windows 4688 (`SecurityEvent`), Sysmon event 1, Defender
//! `DeviceProcessEvents`, Linux auditd (`SYSCALL_EXECVE`), or a column mapping with the
//! reference's logical names (`process_name`, `process_id`, `parent_id`, `time_stamp`,
//! optional `parent_name`, `parent_time`, `cmd_line`, `user_name`, `logon_id`,
//! `host_name_column`, `event_id_column`, `event_id_identifier`, `path_separator`). Without a
//! schema the best-fitting built-in one is detected from the columns; when none fits the error
//! lists each schema's missing columns and the columns that exist. Rows whose event column does
//! not carry the schema's process-creation value are dropped, as are exact duplicate events.
//!
//! **Parent linking.** Ids are numbers or text; `0x` hex and decimal texts are the same number
//! (`0x1f4` = `500`), any other text (a GUID) is matched case-insensitively. A process's
//! parent is the most recent process created at or before it with the parent's id **on the
//! same host** (the reference ignores the host and links across machines) and, when the events
//! record the parent's name, with that name (same lower-case path, or same file name when one
//! side is a bare file name). Because only earlier creations qualify, a reused id does not
//! adopt children of the process that held it before. When the events record the parent's
//! creation time (Defender), the parent is the process with that id and name created within
//! 1 ms of it. A process with a null parent id is a root.
//!
//! **Placeholders.** A parent that is named but absent becomes one placeholder node per
//! (host, parent id, parent name, parent creation time): `IsPlaceholder` is true, its time is
//! null (never 1970), its name, id and host columns carry what its children recorded, and its
//! children are marked `IsOrphan` (with `infer_parents` off they become roots instead).
//! Events are sorted by time first, so input order does not matter; equal times can in
//! theory make two processes each other's parent: one link of such a cycle is cut (that node
//! becomes an orphan root).
//!
//! **Output.** Rows are in tree order: each root (oldest first) followed by its subtree, children
//! oldest first (the reference orders by `path` text, that is by input row; sorting the output
//! by `path` gives that order). `source_index` is the input row (placeholders
//! are numbered from the input's row count), `parent_index` the parent's `source_index`,
//! `path` the zero-padded source indexes from the root joined by `/`, `depth` the number of
//! ancestors (0 for roots), `child_count` the number of children; `IsRoot`, `IsLeaf` (no
//! children) and `IsBranch` (not a root and has children) as in the reference; `proc_key` is
//! `lower-case name|id|YYYY-MM-DD HH:MM:SS.ffffff` (`...|placeholder` for placeholders,
//! `#<source_index>` appended on a clash) and `parent_key` the parent's `proc_key`.
//!
//! # Input limits
//!
//! At most [`MAX_ROWS`] events; trees at most [`MAX_DEPTH`] levels deep and [`MAX_PATH_BYTES`]
//! of paths in all (errors naming the limit, never a hang or a panic). Parent search looks at
//! most [`MAX_CANDIDATES`] earlier holders of an id on a host (a process whose parent id was
//! held by more processes of other names since the parent started gets a placeholder). Time
//! text longer than 256 bytes is refused. Building is O(n log n) in the events.

mod forest;
mod input;
mod output;
pub mod schema;

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use hg_arrow::Table;

pub use forest::{build_forest, ProcessForest};

/// Hash map of the engine: foldhash (fast on short keys, seeded per process, so log values
/// cannot be chosen ahead to collide; no OS randomness needed on wasm32).
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Hash set of the engine (see [`FastMap`]).
pub(crate) type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
pub use schema::{ProcSchema, MAPPING_KEYS};

/// Most process events accepted in one build.
pub const MAX_ROWS: usize = 20_000_000;

/// Deepest tree accepted (levels below a root).
pub const MAX_DEPTH: usize = 1_000;

/// Most bytes of `path` text over all rows.
pub const MAX_PATH_BYTES: usize = 1 << 30;

/// Most earlier holders of an id examined when looking for a parent.
pub const MAX_CANDIDATES: usize = 256;

/// The columns the build adds after the input columns, in order.
pub const TREE_COLUMNS: &[&str] = &[
    "proc_key",
    "parent_key",
    "path",
    "source_index",
    "parent_index",
    "depth",
    "child_count",
    "IsRoot",
    "IsLeaf",
    "IsBranch",
    "IsPlaceholder",
    "IsOrphan",
];

/// Why a forest could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProcTreeError {
    /// A column is missing, of the wrong type or unreadable.
    #[error("{0}")]
    Input(#[from] hg_arrow::HgArrowError),
    /// The schema is unknown, invalid or does not fit the columns.
    #[error("{0}")]
    Schema(String),
    /// The input passes a limit.
    #[error("{0}")]
    Limit(String),
}

/// Which schema to read the events with.
#[derive(Debug, Clone, Default)]
pub enum SchemaChoice {
    /// Detect it from the columns.
    #[default]
    Detect,
    /// A built-in schema by name (`windows_4688`, `sysmon_1`, `mde`, `linux_auditd`).
    Named(String),
    /// A column mapping (see [`MAPPING_KEYS`]).
    Mapping(BTreeMap<String, String>),
    /// A schema value.
    Schema(Box<ProcSchema>),
}

/// Options of a build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The schema.
    pub schema: SchemaChoice,
    /// Create placeholder parents for parents the events name but lack (default true).
    pub infer_parents: bool,
    /// Match parents on the same host only (default true; false links across hosts as the
    /// reference does).
    pub match_host: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            schema: SchemaChoice::Detect,
            infer_parents: true,
            match_host: true,
        }
    }
}

/// Builds the forest and returns it as a record batch (see [`ProcessForest::to_record_batch`]).
pub fn build_tree(table: &Table, options: &BuildOptions) -> Result<RecordBatch, ProcTreeError> {
    build_forest(table, options)?.to_record_batch(table)
}
