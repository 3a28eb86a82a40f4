//! The Tor exit list, read from a file: the `exit-addresses` format of check.torproject.org
//! (`ExitNode` / `Published` / `LastStatus` / `ExitAddress` blocks) or a bulk list of one
//! address per line.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use serde::Serialize;
use serde_json::json;

use super::observable::Observable;
use super::{status, Severity, TiResult};

/// Largest exit list read.
pub const MAX_TOR_LIST_BYTES: u64 = 64 * 1024 * 1024;

/// Why an exit list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TorError {
    /// The file could not be read.
    #[error("cannot read the Tor exit list {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("Tor exit list {path}, line {line}: {message}")]
    Format {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What was wrong.
        message: String,
    },
}

/// One exit relay's record for an address.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct TorNode {
    /// Relay fingerprint (empty in a bulk list).
    #[serde(rename = "NodeID")]
    pub node_id: String,
    /// `LastStatus` date and time, as written (the reference kept only the date).
    #[serde(rename = "LastStatus")]
    pub last_status: String,
    /// When the address was last seen exiting, as written.
    #[serde(rename = "ExitAddressSeen")]
    pub exit_seen: String,
    /// `Published` date and time.
    #[serde(rename = "Published")]
    pub published: String,
}

/// Exit addresses in memory.
#[derive(Debug, Default)]
pub struct TorExitList {
    nodes: HashMap<IpAddr, TorNode>,
}

impl TorExitList {
    /// Reads a list file.
    pub fn load(path: &Path) -> Result<TorExitList, TorError> {
        let shown = path.display().to_string();
        let io = |source| TorError::Io {
            path: shown.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_TOR_LIST_BYTES {
            return Err(TorError::Format {
                path: shown,
                line: 0,
                message: format!("{size} bytes, more than the limit of {MAX_TOR_LIST_BYTES}"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        TorExitList::parse(&text).map_err(|(line, message)| TorError::Format {
            path: shown,
            line,
            message,
        })
    }

    /// Parses the text of a list; errors carry the 1-based line.
    pub fn parse(text: &str) -> Result<TorExitList, (usize, String)> {
        let mut list = TorExitList::default();
        let mut current = TorNode {
            node_id: String::new(),
            last_status: String::new(),
            exit_seen: String::new(),
            published: String::new(),
        };
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            match key {
                "ExitNode" => {
                    if rest.is_empty() {
                        return Err((line_no, "ExitNode without a fingerprint".into()));
                    }
                    current = TorNode {
                        node_id: rest.to_string(),
                        last_status: String::new(),
                        exit_seen: String::new(),
                        published: String::new(),
                    };
                }
                "Published" => current.published = rest.to_string(),
                "LastStatus" => current.last_status = rest.to_string(),
                "ExitAddress" => {
                    let (addr, seen) = rest.split_once(' ').unwrap_or((rest, ""));
                    let ip: IpAddr = addr
                        .parse()
                        .map_err(|_| (line_no, format!("{addr:?} is not an IP address")))?;
                    let mut node = current.clone();
                    node.exit_seen = seen.trim().to_string();
                    list.nodes.insert(ip, node);
                }
                bare => {
                    let ip: IpAddr = bare.parse().map_err(|_| {
                        (
                            line_no,
                            format!("unexpected line {line:?} (neither an exit-addresses field nor an address)"),
                        )
                    })?;
                    list.nodes.insert(
                        ip,
                        TorNode {
                            node_id: String::new(),
                            last_status: String::new(),
                            exit_seen: String::new(),
                            published: String::new(),
                        },
                    );
                }
            }
        }
        Ok(list)
    }

    /// Number of exit addresses.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The record of an address.
    pub fn get(&self, ip: &IpAddr) -> Option<&TorNode> {
        self.nodes.get(ip)
    }

    /// The normalized result: an exit address is a warning (Details NodeID, LastStatus); any other
    /// address is not found.
    pub fn lookup(&self, observable: &Observable, provider: &str, reference: &str) -> TiResult {
        let node = observable
            .canonical
            .parse::<IpAddr>()
            .ok()
            .and_then(|ip| self.nodes.get(&ip));
        match node {
            None => TiResult::not_found(
                observable,
                provider,
                serde_json::Value::Null,
                reference.to_string(),
            ),
            Some(node) => TiResult {
                ioc: observable.value.clone(),
                ioc_type: observable.ioc_type.clone(),
                safe_ioc: observable.canonical.clone(),
                provider: provider.to_string(),
                result: true,
                severity: Severity::Warning,
                details: json!({"NodeID": node.node_id, "LastStatus": node.last_status}),
                raw_result: serde_json::to_value(node).unwrap_or_default(),
                reference: reference.to_string(),
                status: status::OK,
                cached: false,
            },
        }
    }
}
