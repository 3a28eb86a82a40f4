//! Process-event schemas: which columns hold the process, its parent, the time and the context.

use std::collections::BTreeMap;

use crate::ProcTreeError;

/// The columns of one kind of process-creation event.
///
/// The four required fields name the process, its id, its parent's id and its creation time;
/// the others are used when the input has them (a missing optional column is simply not used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcSchema {
    /// Schema name (`windows_4688`, ..., `custom`).
    pub name: String,
    /// Creation time of the process.
    pub time_stamp: String,
    /// Image name or path of the new process.
    pub process_name: String,
    /// Id of the new process (decimal or `0x` hex text, or a number).
    pub process_id: String,
    /// Id of the parent (creator) process.
    pub parent_id: String,
    /// Image name or path of the parent, when the events record it (used to match parents).
    pub parent_name: Option<String>,
    /// Creation time of the parent, when the events record it (exact parent matching).
    pub parent_time: Option<String>,
    /// Command line.
    pub cmd_line: Option<String>,
    /// Account name.
    pub user_name: Option<String>,
    /// Logon session id.
    pub logon_id: Option<String>,
    /// Host name: parents are matched on the same host only.
    pub host: Option<String>,
    /// Column holding the event type, used with `event_id_identifier` to keep only process
    /// creations.
    pub event_id_column: Option<String>,
    /// Value of `event_id_column` that marks a process creation (compared as display text).
    pub event_id_identifier: Option<String>,
    /// Separator of the path elements of `process_name` (`\` or `/`).
    pub path_separator: char,
}

/// The keys a column mapping (custom schema) accepts.
pub const MAPPING_KEYS: &[&str] = &[
    "time_stamp",
    "process_name",
    "process_id",
    "parent_id",
    "parent_name",
    "parent_time",
    "cmd_line",
    "user_name",
    "logon_id",
    "host_name_column",
    "event_id_column",
    "event_id_identifier",
    "path_separator",
];

fn s(v: &str) -> String {
    v.to_string()
}

fn o(v: &str) -> Option<String> {
    Some(v.to_string())
}

impl ProcSchema {
    /// Windows Security event 4688 as Microsoft Sentinel's `SecurityEvent` table stores it.
    pub fn windows_4688() -> ProcSchema {
        ProcSchema {
            name: s("windows_4688"),
            time_stamp: s("TimeGenerated"),
            process_name: s("NewProcessName"),
            process_id: s("NewProcessId"),
            parent_id: s("ProcessId"),
            parent_name: o("ParentProcessName"),
            parent_time: None,
            cmd_line: o("CommandLine"),
            user_name: o("SubjectUserName"),
            logon_id: o("SubjectLogonId"),
            host: o("Computer"),
            event_id_column: o("EventID"),
            event_id_identifier: o("4688"),
            path_separator: '\\',
        }
    }

    /// Sysmon event 1 (process create).
    pub fn sysmon_1() -> ProcSchema {
        ProcSchema {
            name: s("sysmon_1"),
            time_stamp: s("UtcTime"),
            process_name: s("Image"),
            process_id: s("ProcessId"),
            parent_id: s("ParentProcessId"),
            parent_name: o("ParentImage"),
            parent_time: None,
            cmd_line: o("CommandLine"),
            user_name: o("User"),
            logon_id: o("LogonId"),
            host: o("Computer"),
            event_id_column: o("EventID"),
            event_id_identifier: o("1"),
            path_separator: '\\',
        }
    }

    /// Microsoft Defender for Endpoint `DeviceProcessEvents`. The parent's creation time
    /// (`InitiatingProcessCreationTime`) makes parent matching exact; the process's own
    /// creation time is `ProcessCreationTime` when present (else `Timestamp`, see
    /// [`ProcSchema::resolve`]).
    pub fn mde() -> ProcSchema {
        ProcSchema {
            name: s("mde"),
            time_stamp: s("Timestamp"),
            process_name: s("FileName"),
            process_id: s("ProcessId"),
            parent_id: s("InitiatingProcessId"),
            parent_name: o("InitiatingProcessFileName"),
            parent_time: o("InitiatingProcessCreationTime"),
            cmd_line: o("ProcessCommandLine"),
            user_name: o("AccountName"),
            logon_id: o("LogonId"),
            host: o("DeviceName"),
            event_id_column: o("ActionType"),
            event_id_identifier: o("ProcessCreated"),
            path_separator: '\\',
        }
    }

    /// Linux auditd `SYSCALL_EXECVE` events as Microsoft Sentinel's `AuditLog` parser emits them.
    pub fn linux_auditd() -> ProcSchema {
        ProcSchema {
            name: s("linux_auditd"),
            time_stamp: s("TimeGenerated"),
            process_name: s("exe"),
            process_id: s("pid"),
            parent_id: s("ppid"),
            parent_name: None,
            parent_time: None,
            cmd_line: o("cmdline"),
            user_name: o("acct"),
            logon_id: o("ses"),
            host: o("Computer"),
            event_id_column: o("EventType"),
            event_id_identifier: o("SYSCALL_EXECVE"),
            path_separator: '/',
        }
    }

    /// The built-in schemas, in the order schema detection prefers them on a tie.
    pub fn builtin() -> Vec<ProcSchema> {
        vec![
            ProcSchema::windows_4688(),
            ProcSchema::linux_auditd(),
            ProcSchema::mde(),
            ProcSchema::sysmon_1(),
        ]
    }

    /// The built-in schema called `name` (also accepts the reference's names).
    pub fn named(name: &str) -> Result<ProcSchema, ProcTreeError> {
        let key = name.to_ascii_lowercase();
        let found = match key.as_str() {
            "windows_4688" | "windows" | "win" | "4688" | "win_event_sch" => {
                ProcSchema::windows_4688()
            }
            "sysmon_1" | "sysmon" | "sysmon_process_create_event_sch" => ProcSchema::sysmon_1(),
            "mde" | "deviceprocessevents" | "mde_event_sch" => ProcSchema::mde(),
            "linux_auditd" | "linux" | "auditd" | "lx_event_sch" => ProcSchema::linux_auditd(),
            _ => {
                return Err(ProcTreeError::Schema(format!(
                    "unknown schema '{name}'; built-in schemas: {}, or give a column mapping \
                     with the keys {}",
                    ProcSchema::builtin()
                        .iter()
                        .map(|s| s.name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                    MAPPING_KEYS.join(", ")
                )))
            }
        };
        Ok(found)
    }

    /// A schema from a column mapping (logical key -> column name, see [`MAPPING_KEYS`]);
    /// `process_name`, `process_id`, `parent_id` and `time_stamp` are required.
    pub fn from_mapping(mapping: &BTreeMap<String, String>) -> Result<ProcSchema, ProcTreeError> {
        for key in mapping.keys() {
            if !MAPPING_KEYS.contains(&key.as_str()) {
                return Err(ProcTreeError::Schema(format!(
                    "unknown schema key '{key}'; valid keys: {}",
                    MAPPING_KEYS.join(", ")
                )));
            }
        }
        let required = ["process_name", "process_id", "parent_id", "time_stamp"];
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|k| mapping.get(*k).is_none_or(|v| v.is_empty()))
            .collect();
        if !missing.is_empty() {
            return Err(ProcTreeError::Schema(format!(
                "the column mapping lacks the required keys {}",
                missing.join(", ")
            )));
        }
        let get = |k: &str| mapping.get(k).filter(|v| !v.is_empty()).cloned();
        let path_separator = match mapping.get("path_separator").map(String::as_str) {
            None | Some("") => '\\',
            Some(sep) => {
                let mut chars = sep.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => c,
                    _ => {
                        return Err(ProcTreeError::Schema(format!(
                            "path_separator must be one character, got '{sep}'"
                        )))
                    }
                }
            }
        };
        Ok(ProcSchema {
            name: s("custom"),
            time_stamp: get("time_stamp").unwrap_or_default(),
            process_name: get("process_name").unwrap_or_default(),
            process_id: get("process_id").unwrap_or_default(),
            parent_id: get("parent_id").unwrap_or_default(),
            parent_name: get("parent_name"),
            parent_time: get("parent_time"),
            cmd_line: get("cmd_line"),
            user_name: get("user_name"),
            logon_id: get("logon_id"),
            host: get("host_name_column"),
            event_id_column: get("event_id_column"),
            event_id_identifier: get("event_id_identifier"),
            path_separator,
        })
    }

    /// The required columns, in the order (process_name, process_id, parent_id, time_stamp).
    pub fn required_columns(&self) -> [&str; 4] {
        [
            &self.process_name,
            &self.process_id,
            &self.parent_id,
            &self.time_stamp,
        ]
    }

    fn optional_columns(&self) -> Vec<&str> {
        [
            &self.parent_name,
            &self.parent_time,
            &self.cmd_line,
            &self.user_name,
            &self.logon_id,
            &self.host,
            &self.event_id_column,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect()
    }

    /// Required columns that `columns` lacks.
    pub fn missing_required(&self, columns: &[String]) -> Vec<String> {
        self.required_columns()
            .iter()
            .filter(|c| !columns.iter().any(|x| x == *c))
            .map(|c| c.to_string())
            .collect()
    }

    /// This schema fitted to the columns that exist: optional columns that are absent are
    /// dropped (the Defender schema takes `ProcessCreationTime` as the creation time when
    /// present). Missing required columns are an error naming them and the columns that exist.
    pub fn resolve(&self, columns: &[String]) -> Result<ProcSchema, ProcTreeError> {
        let mut out = self.clone();
        if out.name == "mde" && columns.iter().any(|c| c == "ProcessCreationTime") {
            out.time_stamp = s("ProcessCreationTime");
        }
        let missing = out.missing_required(columns);
        if !missing.is_empty() {
            return Err(ProcTreeError::Schema(format!(
                "schema {} needs the columns {} which the input lacks; available columns: {}",
                out.name,
                missing.join(", "),
                list(columns)
            )));
        }
        let keep = |c: &mut Option<String>| {
            if c.as_ref().is_some_and(|name| !columns.contains(name)) {
                *c = None;
            }
        };
        keep(&mut out.parent_name);
        keep(&mut out.parent_time);
        keep(&mut out.cmd_line);
        keep(&mut out.user_name);
        keep(&mut out.logon_id);
        keep(&mut out.host);
        keep(&mut out.event_id_column);
        if out.event_id_column.is_none() {
            out.event_id_identifier = None;
        }
        Ok(out)
    }

    /// The built-in schema that fits `columns` best: every required column present, then the
    /// most optional columns present (ties go to the earlier schema of [`ProcSchema::builtin`]).
    /// When none fits, the error names each schema's missing columns.
    pub fn detect(columns: &[String]) -> Result<ProcSchema, ProcTreeError> {
        let mut best: Option<(usize, ProcSchema)> = None;
        let mut reasons = Vec::new();
        for schema in ProcSchema::builtin() {
            let missing = schema.missing_required(columns);
            // Defender data may lack `Timestamp` but carry `ProcessCreationTime`.
            let missing: Vec<String> =
                if schema.name == "mde" && columns.iter().any(|c| c == "ProcessCreationTime") {
                    missing.into_iter().filter(|c| c != "Timestamp").collect()
                } else {
                    missing
                };
            if !missing.is_empty() {
                reasons.push(format!("{} lacks {}", schema.name, missing.join(", ")));
                continue;
            }
            let score = schema
                .optional_columns()
                .iter()
                .filter(|c| columns.iter().any(|x| x == *c))
                .count();
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, schema));
            }
        }
        match best {
            Some((_, schema)) => schema.resolve(columns),
            None => Err(ProcTreeError::Schema(format!(
                "no process schema fits the input columns ({}); give a schema name or a column \
                 mapping with the keys process_name, process_id, parent_id and time_stamp. \
                 Available columns: {}",
                reasons.join("; "),
                list(columns)
            ))),
        }
    }
}

fn list(columns: &[String]) -> String {
    if columns.is_empty() {
        "(none)".into()
    } else {
        columns.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn detects_each_builtin_schema() {
        for schema in ProcSchema::builtin() {
            let mut names: Vec<String> = schema
                .required_columns()
                .iter()
                .map(|s| s.to_string())
                .collect();
            names.extend(schema.optional_columns().iter().map(|s| s.to_string()));
            assert_eq!(ProcSchema::detect(&names).unwrap().name, schema.name);
        }
    }

    #[test]
    fn detection_failure_names_missing_columns() {
        let err = ProcSchema::detect(&cols(&["a", "pid"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("linux_auditd lacks exe, ppid, TimeGenerated"),
            "{err}"
        );
        assert!(err.contains("windows_4688 lacks NewProcessName"), "{err}");
        assert!(err.contains("Available columns: a, pid"), "{err}");
    }

    #[test]
    fn mapping_keys_are_checked() {
        let mut m = BTreeMap::new();
        m.insert("process_name".to_string(), "Name".to_string());
        let err = ProcSchema::from_mapping(&m).unwrap_err().to_string();
        assert!(err.contains("process_id, parent_id, time_stamp"), "{err}");
        m.insert("colour".into(), "x".into());
        let err = ProcSchema::from_mapping(&m).unwrap_err().to_string();
        assert!(err.contains("unknown schema key 'colour'"), "{err}");
    }

    #[test]
    fn resolve_drops_absent_optional_columns() {
        let s = ProcSchema::windows_4688()
            .resolve(&cols(&[
                "TimeGenerated",
                "NewProcessName",
                "NewProcessId",
                "ProcessId",
            ]))
            .unwrap();
        assert_eq!(s.parent_name, None);
        assert_eq!(s.event_id_identifier, None);
    }
}
