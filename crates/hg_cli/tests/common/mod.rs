//! Running one `huntglass` subcommand in the integration tests: a fresh temporary directory per
//! test, the command with optional stdin, and its JSON-lines answer or its error message.

// Each test crate includes this module and uses only some of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_huntglass");

/// One `huntglass` subcommand under test, e.g. `const CLI: Subcommand = Subcommand("ioc");`.
#[derive(Clone, Copy)]
pub struct Subcommand(pub &'static str);

impl Subcommand {
    /// An empty directory for one test (removed first if an earlier run left it).
    pub fn temp_dir(self, name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hg-cli-{}-{}-{name}", self.0, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    /// Runs `huntglass <subcommand> <args>`, writing `stdin` (if any) and closing it.
    pub fn run(self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(BIN)
            .arg(self.0)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs");
        {
            let mut input = child.stdin.take().expect("stdin");
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).expect("writes stdin");
            }
        }
        child.wait_with_output().expect("finishes")
    }

    /// The JSON objects a successful run writes, one per line.
    pub fn ok_jsonl(self, args: &[&str], stdin: Option<&str>) -> Vec<Value> {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "huntglass {} {args:?} failed: {}",
            self.0,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
            .collect()
    }

    /// The stderr of a run that must fail.
    pub fn failure(self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            !out.status.success(),
            "huntglass {} {args:?} should fail",
            self.0
        );
        String::from_utf8(out.stderr).expect("utf-8")
    }
}
