//! Seeded, deterministic generator of the built-in investigation scenario that every huntglass demo runs on.
//!
//! # The scenario
//!
//! One week (Monday 2026-11-02T00:00:00Z to Monday 2026-11-09T00:00:00Z) in a small organization,
//! Larkspur Labs (`LARKSPUR` / `larkspur-labs.com`): a domain controller `LRK-DC01`, a file server
//! `LRK-FS01` and seven workstations `LRK-WS101`..`LRK-WS107`, thirty users ([`org::USERS`]).
//! Ordinary activity fills the week; one attack runs through it, always at the same times:
//!
//! | time (UTC) | where | what |
//! |---|---|---|
//! | Tue 23:05-23:14 | LRK-DC01 | password spray from 203.0.113.77: 64 failed network logons (4625), then one success as `mbennett` at 23:14:41 |
//! | Wed 09:41:12 | LRK-WS104 | `mbennett` opens `Invoice_Nov2026.docm` from Outlook: OUTLOOK.EXE -> WINWORD.EXE |
//! | Wed 09:41:29 | LRK-WS104 | WINWORD.EXE -> `powershell.exe -nop -w hidden -enc ...` (UTF-16LE base64 of [`story::stage1_script`]) |
//! | Wed 09:41:35 | proxy | download of `http://files.docsign-verify.example.com/dl/upd.bin` (198.51.100.41) |
//! | Wed 09:41:41 | LRK-WS104 | the payload `msupd.exe` starts; `reg.exe add ...\Run /v MsUpdate`; `schtasks.exe /create ... /sc onlogon` (Deflate + base64 task command) |
//! | Wed 09:44:01-09:45:15 | LRK-WS104 | discovery from msupd.exe: `whoami /all`, `net group "Domain Admins" /domain`, `nltest /domain_trusts` |
//! | Wed 09:46:03 | LRK-WS104 | a command line carrying `<img src=x onerror=alert(1)>` |
//! | Wed 09:47:20 | LRK-WS104 | gzip + base64 collection script; Wed 09:48:03 base64-of-base64 second stage |
//! | Wed 09:42:10 onwards | proxy, DNS | beacon to `telemetry-sync.example.net` (198.51.100.23) every 300 s (+/- 20 s) to the end of the week |
//! | Thu 01:47-02:19 | OfficeActivity | session as `mbennett@larkspur-labs.com` from 203.0.113.77: New-InboxRule / Set-InboxRule forwarding to `m.bennett.archive@mailbox-relay.example.org`, Add-MailboxPermission and Add-MailboxFolderPermission on the CFO's mailbox, Add-RoleGroupMember (Organization Management), Set-Mailbox forwarding |
//! | Thu 02:01 and Fri 03:04 | LRK-WS104, proxy, NetworkBytes | two 5 GiB uploads to the C2: the two NetworkBytes outliers |
//!
//! Addresses and domains of the attacker are in documentation ranges (RFC 5737) and under the
//! reserved `example.*` domains; [`org::MALICIOUS_INDICATORS`] lists them for threat-intelligence
//! feeds. Alerts for each step are in `SecurityAlert`.
//!
//! # Determinism and limits
//!
//! Output depends only on `(seed, scale)`: every table draws from its own ChaCha8 stream keyed by
//! the seed, nothing reads a clock, the file system or the network, and the crate builds for
//! `wasm32-unknown-unknown`. `scale` (1..=[`MAX_SCALE`]) multiplies the background volume (process,
//! logon, DNS, proxy and Office events); the attack chain, the alerts and the hourly `NetworkBytes`
//! series do not grow. Scale 1 has about 13,500 process events (31,000 rows in all), scale 100 about 1.3 million
//! (2.75 million rows in all)
//! (roughly 1 GB of memory while generating).
//!
//! # Tables and columns
//!
//! All times are `Timestamp(ns, "UTC")`. Strings are Utf8; `(null)` marks nullable columns.
//!
//! **`SecurityEvent`**: Windows event 4688 (process creation), the columns of the reference's
//! `processes_on_host.csv`. Every process's parent is the latest earlier creation of its
//! `ProcessId` on the same `Computer`, except the declared roots whose `ProcessId` is `0x4`
//! (System). Process ids are reused after a process exits, as on Windows.
//! - `TenantId`: workspace id.
//! - `Account`: `DOMAIN\user` of the subject (`LARKSPUR\LRK-WS104$` for SYSTEM).
//! - `EventID` (Int32): 4688.
//! - `TimeGenerated`: creation time.
//! - `Computer`: host name.
//! - `SubjectUserSid`, `SubjectUserName`, `SubjectDomainName`: the subject account.
//! - `SubjectLogonId`: `0x3e7` (SYSTEM), `0x3e5`, `0x3e4`, or the interactive logon id (matches
//!   `TargetLogonId` of the session's 4624 in `LogonEvents`).
//! - `NewProcessId`, `ProcessId`: new and parent (creator) process ids as hex strings (`0x1a2c`).
//! - `NewProcessName`, `ParentProcessName`: image paths (`System` for the roots' parent).
//! - `TokenElevationType`: `%%1936` full, `%%1937` elevated, `%%1938` limited.
//! - `CommandLine`: full command line (attacker-controlled in places: treat as hostile text).
//! - `TargetLogonId`: `0x0`.
//! - `SourceComputerId`: agent id of the host.
//! - `TimeCreatedUtc`: same instant as `TimeGenerated`.
//!
//! **`LogonEvents`**: Windows events 4624 (success) and 4625 (failure), the columns of the
//! reference's `host_logons.csv` plus `SubStatus`.
//! - `TenantId`, `Account` (`DOMAIN\target user`), `EventID` (Int32), `TimeGenerated`,
//!   `SourceComputerId`, `Computer`.
//! - `SubjectUserName`, `SubjectDomainName`, `SubjectUserSid`: the requesting account (`-` for network logons).
//! - `TargetUserName`, `TargetDomainName`, `TargetUserSid`, `TargetLogonId`: the account logged on.
//! - `LogonProcessName` (`User32 `, `Kerberos`, `NtLmSsp `, `Advapi  `), `LogonType` (Int32: 2, 3, 4, 5, 7, 10),
//!   `AuthenticationPackageName`.
//! - `Status`, `SubStatus` (null on success; `0xc000006d` with `0xc000006a` bad password or `0xc0000064` unknown user).
//! - `IpAddress`, `WorkstationName`: source (`-` when local).
//!
//! **`SecurityAlert`**: `TenantId`, `TimeGenerated`, `AlertName`, `AlertSeverity` (`High`, `Medium`,
//! `Low`, `Informational`), `Description`, `ProviderName`, `VendorName` (`Microsoft`), `ProductName`,
//! `AlertType`, `SystemAlertId`, `CompromisedEntity` (host name, or the user's UPN for the Office
//! alert), `Status` (`New`), `Tactics` (comma-separated), `StartTimeUtc`, `EndTimeUtc`,
//! `Entities` (JSON array of entities with `$id` and `Type`: `host`, `account`, `process`, `ip`,
//! `url`, `file`, `dns`, `mailMessage`), `ExtendedProperties` (JSON object of strings). `ip`
//! entities carry the `Location` an alert provider adds (`CountryCode`, `CountryName`, `State`,
//! `City`, `Latitude`, `Longitude`, `Asn`, `Organization`): the attacker's addresses are
//! documentation ranges that no geolocation database places, so the alerts are where the story
//! says they are (documentation AS numbers, RFC 5398).
//!
//! **`OfficeActivity`**: Office 365 audit records. `TimeGenerated`, `RecordType`, `Operation`,
//! `OfficeWorkload` (`Exchange`, `SharePoint`, `OneDrive`, `AzureActiveDirectory`), `ResultStatus`,
//! `UserId` (UPN), `UserType`, `UserKey`, `ClientIP`, `UserAgent`, `OrganizationId`,
//! `OrganizationName`, `OfficeObjectId` (null), `MailboxOwnerUPN` (null), `SourceFileName` (null),
//! `Site_Url` (null), `Parameters` (null; JSON array of `{Name, Value}` for admin cmdlets).
//!
//! **`NetworkBytes`**: hourly `TimeGenerated`, `Computer`, `TotalBytesSent` (Int64): a daily cycle,
//! weekends lower, at most 8% noise, and exactly two outliers (the exfiltration hours on LRK-WS104).
//!
//! **`DnsEvents`**: queries answered by the domain controller. `TimeGenerated`, `Computer`
//! (`LRK-DC01`), `EventId` (Int32, 3008), `SubType` (`LookupQuery`), `ClientIP`, `Name`,
//! `IPAddresses` (comma-separated, "" for none), `QueryType` (`A`, `AAAA`), `ResultCode` (Int32: 0, 3).
//!
//! **`CommonSecurityLog`**: web proxy / firewall records (CEF). `TimeGenerated`, `DeviceVendor`,
//! `DeviceProduct`, `DeviceVersion`, `DeviceEventClassID` (`url`), `Activity`, `LogSeverity`,
//! `DeviceAction` (`allow`, `block-url`), `ApplicationProtocol`, `Protocol` (`TCP`), `SourceIP`,
//! `SourcePort` (Int32), `SourceUserName` (""), `DestinationIP`, `DestinationPort` (Int32),
//! `DestinationHostName`, `RequestURL`, `RequestMethod`, `RequestClientApplication` (user agent),
//! `DeviceCustomString1` (URL category), `DeviceCustomString1Label` (`URL Category`),
//! `SentBytes` (Int64), `ReceivedBytes` (Int64).

mod alerts;
mod common;
pub mod feed;
mod logons;
mod network;
mod office;
pub mod org;
mod process;
pub mod story;

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};

use common::{
    field, i32_col, i64_col, str_col, str_opt_col, ts_col, ts_opt_col, ts_type, BATCH_ROWS, DAY,
    SEC,
};

pub use common::{DAY as DAY_NS, HOUR as HOUR_NS};

/// Start of the scenario week: 2026-11-02T00:00:00Z (a Monday), in ns since the Unix epoch.
pub const START_NS: i64 = 1_793_577_600 * SEC;
/// End (exclusive) of the scenario week.
pub const END_NS: i64 = START_NS + 7 * DAY;
/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 20_261_102;
/// Largest accepted scale (scale 100 is about 1.3 million process events).
pub const MAX_SCALE: u32 = 500;

/// Table names in the order they are generated and listed.
pub const TABLE_NAMES: [&str; 7] = [
    "SecurityEvent",
    "LogonEvents",
    "SecurityAlert",
    "OfficeActivity",
    "NetworkBytes",
    "DnsEvents",
    "CommonSecurityLog",
];

/// Errors of the generator.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The scale is outside `1..=MAX_SCALE`.
    #[error("scale must be between 1 and {max}, got {scale}")]
    Scale {
        /// The requested scale.
        scale: u32,
        /// [`MAX_SCALE`].
        max: u32,
    },
    /// A host ran out of free process ids (more concurrent processes than ids).
    #[error("host {host} ran out of free process ids")]
    ProcessIdsExhausted {
        /// The host.
        host: &'static str,
    },
    /// Building an Arrow batch failed.
    #[error("building the {table} table failed: {message}")]
    Arrow {
        /// The table.
        table: &'static str,
        /// Arrow's message.
        message: String,
    },
    /// A broken invariant of the generator itself (a bug, reported instead of panicking).
    #[error("scenario generator invariant broken: {0}")]
    Internal(&'static str),
}

/// One generated table.
#[derive(Clone, Debug)]
pub struct DemoTable {
    /// Sentinel table name.
    pub name: &'static str,
    /// One-line description (written to the manifest).
    pub description: &'static str,
    /// Schema shared by all batches.
    pub schema: SchemaRef,
    /// The rows, in time order.
    pub batches: Vec<RecordBatch>,
}

impl DemoTable {
    /// Total number of rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// The generated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Seed it was generated from.
    pub seed: u64,
    /// Scale it was generated at.
    pub scale: u32,
    /// [`START_NS`].
    pub start_ns: i64,
    /// [`END_NS`].
    pub end_ns: i64,
    /// The tables, in [`TABLE_NAMES`] order.
    pub tables: Vec<DemoTable>,
}

impl Scenario {
    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&DemoTable> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The manifest of CONTRACT "Built-in scenario files":
    /// `{seed, scale, start, end, tables: [{name, rows, file, description}]}` with RFC 3339 times
    /// and `file` = `<Table>.arrow`.
    pub fn manifest(&self) -> serde_json::Value {
        serde_json::json!({
            "seed": self.seed,
            "scale": self.scale,
            "start": "2026-11-02T00:00:00Z",
            "end": "2026-11-09T00:00:00Z",
            "tables": self.tables.iter().map(|t| serde_json::json!({
                "name": t.name,
                "rows": t.num_rows(),
                "file": format!("{}.arrow", t.name),
                "description": t.description,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Generates the scenario for `seed` at `scale`.
pub fn generate(seed: u64, scale: u32) -> Result<Scenario, DemoError> {
    generate_with_progress(seed, scale, &mut |_| {})
}

/// Generates the scenario, calling `progress` with each table's name once it is built.
pub fn generate_with_progress(
    seed: u64,
    scale: u32,
    progress: &mut dyn FnMut(&str),
) -> Result<Scenario, DemoError> {
    if scale == 0 || scale > MAX_SCALE {
        return Err(DemoError::Scale {
            scale,
            max: MAX_SCALE,
        });
    }
    let mut tables = Vec::with_capacity(TABLE_NAMES.len());
    let procs = process::simulate(seed, scale, START_NS, END_NS)?;
    let sessions: Vec<network::SessionWindow> = procs.sessions.clone();
    tables.push(security_event_table(&procs)?);
    progress("SecurityEvent");
    let payload_pid = procs.payload_pid;
    let stage1_pid = procs.stage1_pid;
    let interactive = procs.logons;
    drop(procs.rows);
    tables.push(logon_table(logons::generate(
        seed,
        scale,
        START_NS,
        interactive,
    ))?);
    progress("LogonEvents");
    tables.push(alert_table(alerts::generate(
        START_NS,
        stage1_pid,
        payload_pid,
    ))?);
    progress("SecurityAlert");
    tables.push(office_table(office::generate(seed, scale, START_NS))?);
    progress("OfficeActivity");
    tables.push(network_bytes_table(network::network_bytes(seed, START_NS))?);
    progress("NetworkBytes");
    let (dns, proxy) = network::generate(seed, scale, START_NS, END_NS, &sessions);
    tables.push(dns_table(dns)?);
    progress("DnsEvents");
    tables.push(proxy_table(proxy)?);
    progress("CommonSecurityLog");
    Ok(Scenario {
        seed,
        scale,
        start_ns: START_NS,
        end_ns: END_NS,
        tables,
    })
}

fn batches<R>(
    table: &'static str,
    schema: &SchemaRef,
    rows: &[R],
    columns: impl Fn(&[R]) -> Vec<ArrayRef>,
) -> Result<Vec<RecordBatch>, DemoError> {
    rows.chunks(BATCH_ROWS)
        .map(|chunk| {
            RecordBatch::try_new(schema.clone(), columns(chunk)).map_err(|e| DemoError::Arrow {
                table,
                message: e.to_string(),
            })
        })
        .collect()
}

fn schema(fields: Vec<arrow_schema::Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

fn utf8(name: &str) -> arrow_schema::Field {
    field(name, DataType::Utf8, false)
}

fn utf8_null(name: &str) -> arrow_schema::Field {
    field(name, DataType::Utf8, true)
}

fn security_event_table(procs: &process::ProcessOutput) -> Result<DemoTable, DemoError> {
    let schema = schema(vec![
        utf8("TenantId"),
        utf8("Account"),
        field("EventID", DataType::Int32, false),
        field("TimeGenerated", ts_type(), false),
        utf8("Computer"),
        utf8("SubjectUserSid"),
        utf8("SubjectUserName"),
        utf8("SubjectDomainName"),
        utf8("SubjectLogonId"),
        utf8("NewProcessId"),
        utf8("NewProcessName"),
        utf8("TokenElevationType"),
        utf8("ProcessId"),
        utf8("CommandLine"),
        utf8("ParentProcessName"),
        utf8("TargetLogonId"),
        utf8("SourceComputerId"),
        field("TimeCreatedUtc", ts_type(), true),
    ]);
    let subjects = process::subject_table();
    let names = &procs.interner;
    let elevation = |e: u16| match e {
        process::ELEV_ELEVATED => "%%1937",
        process::ELEV_LIMITED => "%%1938",
        _ => "%%1936",
    };
    let batches = batches("SecurityEvent", &schema, &procs.rows, |rows| {
        let subject = |r: &process::ProcRow| &subjects[r.host as usize][r.subject as usize];
        let pids: Vec<String> = rows
            .iter()
            .map(|r| common::hex_id(u64::from(r.pid)))
            .collect();
        let ppids: Vec<String> = rows
            .iter()
            .map(|r| common::hex_id(u64::from(r.ppid)))
            .collect();
        let logons: Vec<String> = rows
            .iter()
            .map(|r| process::logon_hex(r.logon_id))
            .collect();
        vec![
            str_col(rows.iter().map(|_| org::TENANT_ID)),
            str_col(rows.iter().map(|r| subject(r).account.as_str())),
            i32_col(rows.iter().map(|_| 4688)),
            ts_col(rows.iter().map(|r| r.t)),
            str_col(rows.iter().map(|r| org::HOSTS[r.host as usize].name)),
            str_col(rows.iter().map(|r| subject(r).sid.as_str())),
            str_col(rows.iter().map(|r| subject(r).user.as_str())),
            str_col(rows.iter().map(|r| subject(r).domain.as_str())),
            str_col(logons.iter().map(String::as_str)),
            str_col(pids.iter().map(String::as_str)),
            str_col(rows.iter().map(|r| names.get(r.image))),
            str_col(rows.iter().map(|r| elevation(r.elevation))),
            str_col(ppids.iter().map(String::as_str)),
            str_col(rows.iter().map(|r| r.cmd.as_str())),
            str_col(rows.iter().map(|r| names.get(r.parent_image))),
            str_col(rows.iter().map(|_| "0x0")),
            str_col(rows.iter().map(|r| org::HOSTS[r.host as usize].agent_id)),
            ts_opt_col(rows.iter().map(|r| Some(r.t))),
        ]
    })?;
    Ok(DemoTable {
        name: "SecurityEvent",
        description: "Windows process creation events (4688) of every host, with the attack chain on LRK-WS104",
        schema,
        batches,
    })
}

fn logon_table(rows: Vec<logons::LogonRow>) -> Result<DemoTable, DemoError> {
    let schema = schema(vec![
        utf8("TenantId"),
        utf8("Account"),
        field("EventID", DataType::Int32, false),
        field("TimeGenerated", ts_type(), false),
        utf8("SourceComputerId"),
        utf8("Computer"),
        utf8("SubjectUserName"),
        utf8("SubjectDomainName"),
        utf8("SubjectUserSid"),
        utf8("TargetUserName"),
        utf8("TargetDomainName"),
        utf8("TargetUserSid"),
        utf8("TargetLogonId"),
        utf8("LogonProcessName"),
        field("LogonType", DataType::Int32, false),
        utf8("AuthenticationPackageName"),
        utf8_null("Status"),
        utf8_null("SubStatus"),
        utf8("IpAddress"),
        utf8("WorkstationName"),
    ]);
    let batches = batches("LogonEvents", &schema, &rows, |rows| {
        let accounts: Vec<String> = rows
            .iter()
            .map(|r| {
                let domain = if r.target_domain.is_empty() {
                    org::NETBIOS_DOMAIN
                } else {
                    r.target_domain.as_str()
                };
                format!("{domain}\\{}", r.target_user)
            })
            .collect();
        vec![
            str_col(rows.iter().map(|_| org::TENANT_ID)),
            str_col(accounts.iter().map(String::as_str)),
            i32_col(rows.iter().map(|r| r.event_id)),
            ts_col(rows.iter().map(|r| r.t)),
            str_col(rows.iter().map(|r| org::HOSTS[r.host as usize].agent_id)),
            str_col(rows.iter().map(|r| org::HOSTS[r.host as usize].name)),
            str_col(rows.iter().map(|r| r.subject_user.as_str())),
            str_col(rows.iter().map(|r| r.subject_domain.as_str())),
            str_col(rows.iter().map(|r| r.subject_sid.as_str())),
            str_col(rows.iter().map(|r| r.target_user.as_str())),
            str_col(rows.iter().map(|r| r.target_domain.as_str())),
            str_col(rows.iter().map(|r| r.target_sid.as_str())),
            str_col(rows.iter().map(|r| r.target_logon_id.as_str())),
            str_col(rows.iter().map(|r| r.logon_process)),
            i32_col(rows.iter().map(|r| r.logon_type)),
            str_col(rows.iter().map(|r| r.auth_package)),
            str_opt_col(rows.iter().map(|r| r.status)),
            str_opt_col(rows.iter().map(|r| r.sub_status)),
            str_col(rows.iter().map(|r| r.ip.as_str())),
            str_col(rows.iter().map(|r| r.workstation.as_str())),
        ]
    })?;
    Ok(DemoTable {
        name: "LogonEvents",
        description: "Windows logon successes (4624) and failures (4625), with the password spray on LRK-DC01",
        schema,
        batches,
    })
}

fn alert_table(rows: Vec<alerts::AlertRow>) -> Result<DemoTable, DemoError> {
    let schema = schema(vec![
        utf8("TenantId"),
        field("TimeGenerated", ts_type(), false),
        utf8("AlertName"),
        utf8("AlertSeverity"),
        utf8("Description"),
        utf8("ProviderName"),
        utf8("VendorName"),
        utf8("ProductName"),
        utf8("AlertType"),
        utf8("SystemAlertId"),
        utf8("CompromisedEntity"),
        utf8("Status"),
        utf8("Tactics"),
        field("StartTimeUtc", ts_type(), false),
        field("EndTimeUtc", ts_type(), false),
        utf8("Entities"),
        utf8("ExtendedProperties"),
    ]);
    let batches = batches("SecurityAlert", &schema, &rows, |rows| {
        vec![
            str_col(rows.iter().map(|_| org::TENANT_ID)),
            ts_col(rows.iter().map(|r| r.t)),
            str_col(rows.iter().map(|r| r.name)),
            str_col(rows.iter().map(|r| r.severity)),
            str_col(rows.iter().map(|r| r.description.as_str())),
            str_col(rows.iter().map(|r| r.provider)),
            str_col(rows.iter().map(|_| "Microsoft")),
            str_col(rows.iter().map(|r| r.product)),
            str_col(rows.iter().map(|r| r.alert_type)),
            str_col(rows.iter().map(|r| r.id.as_str())),
            str_col(rows.iter().map(|r| r.compromised_entity.as_str())),
            str_col(rows.iter().map(|_| "New")),
            str_col(rows.iter().map(|r| r.tactics)),
            ts_col(rows.iter().map(|r| r.start)),
            ts_col(rows.iter().map(|r| r.end)),
            str_col(rows.iter().map(|r| r.entities.as_str())),
            str_col(rows.iter().map(|r| r.extended.as_str())),
        ]
    })?;
    Ok(DemoTable {
        name: "SecurityAlert",
        description:
            "Alerts raised along the attack (and a few low-severity ones), with Entities as JSON",
        schema,
        batches,
    })
}

fn office_table(rows: Vec<office::OfficeRow>) -> Result<DemoTable, DemoError> {
    let schema = schema(vec![
        field("TimeGenerated", ts_type(), false),
        utf8("RecordType"),
        utf8("Operation"),
        utf8("OfficeWorkload"),
        utf8("ResultStatus"),
        utf8("UserId"),
        utf8("UserType"),
        utf8("UserKey"),
        utf8("ClientIP"),
        utf8("UserAgent"),
        utf8("OrganizationId"),
        utf8("OrganizationName"),
        utf8_null("OfficeObjectId"),
        utf8_null("MailboxOwnerUPN"),
        utf8_null("SourceFileName"),
        utf8_null("Site_Url"),
        utf8_null("Parameters"),
    ]);
    let batches = batches("OfficeActivity", &schema, &rows, |rows| {
        vec![
            ts_col(rows.iter().map(|r| r.t)),
            str_col(rows.iter().map(|r| r.record_type)),
            str_col(rows.iter().map(|r| r.operation)),
            str_col(rows.iter().map(|r| r.workload)),
            str_col(rows.iter().map(|r| r.result)),
            str_col(rows.iter().map(|r| r.user_id.as_str())),
            str_col(rows.iter().map(|r| r.user_type)),
            str_col(rows.iter().map(|r| r.user_key.as_str())),
            str_col(rows.iter().map(|r| r.client_ip.as_str())),
            str_col(rows.iter().map(|r| r.user_agent)),
            str_col(rows.iter().map(|_| office::ORGANIZATION_ID)),
            str_col(rows.iter().map(|_| office::ORGANIZATION_NAME)),
            str_opt_col(rows.iter().map(|r| r.object_id.as_deref())),
            str_opt_col(rows.iter().map(|r| r.mailbox_owner.as_deref())),
            str_opt_col(rows.iter().map(|r| r.source_file.as_deref())),
            str_opt_col(rows.iter().map(|r| r.site_url)),
            str_opt_col(rows.iter().map(|r| r.parameters.as_deref())),
        ]
    })?;
    Ok(DemoTable {
        name: "OfficeActivity",
        description:
            "Office 365 audit records: ordinary sessions and the attacker's mailbox session",
        schema,
        batches,
    })
}

fn network_bytes_table(rows: Vec<(i64, usize, i64)>) -> Result<DemoTable, DemoError> {
    let schema = schema(vec![
        field("TimeGenerated", ts_type(), false),
        utf8("Computer"),
        field("TotalBytesSent", DataType::Int64, false),
    ]);
    let batches = batches("NetworkBytes", &schema, &rows, |rows| {
        vec![
            ts_col(rows.iter().map(|r| r.0)),
            str_col(rows.iter().map(|r| org::HOSTS[r.1].name)),
            i64_col(rows.iter().map(|r| r.2)),
        ]
    })?;
    Ok(DemoTable {
        name: "NetworkBytes",
        description: "Hourly bytes sent per host, with a daily cycle and two outliers",
        schema,
        batches,
    })
}

fn dns_table(rows: Vec<network::DnsRow>) -> Result<DemoTable, DemoError> {
    let schema = schema(vec![
        field("TimeGenerated", ts_type(), false),
        utf8("Computer"),
        field("EventId", DataType::Int32, false),
        utf8("SubType"),
        utf8("ClientIP"),
        utf8("Name"),
        utf8("IPAddresses"),
        utf8("QueryType"),
        field("ResultCode", DataType::Int32, false),
    ]);
    let batches = batches("DnsEvents", &schema, &rows, |rows| {
        vec![
            ts_col(rows.iter().map(|r| r.t)),
            str_col(rows.iter().map(|_| "LRK-DC01")),
            i32_col(rows.iter().map(|_| 3008)),
            str_col(rows.iter().map(|_| "LookupQuery")),
            str_col(rows.iter().map(|r| r.client_ip.as_str())),
            str_col(rows.iter().map(|r| r.name.as_str())),
            str_col(rows.iter().map(|r| r.addresses.as_str())),
            str_col(rows.iter().map(|r| r.query_type)),
            i32_col(rows.iter().map(|r| r.result_code)),
        ]
    })?;
    Ok(DemoTable {
        name: "DnsEvents",
        description: "DNS queries answered by the domain controller",
        schema,
        batches,
    })
}

fn proxy_table(rows: Vec<network::ProxyRow>) -> Result<DemoTable, DemoError> {
    let schema = schema(vec![
        field("TimeGenerated", ts_type(), false),
        utf8("DeviceVendor"),
        utf8("DeviceProduct"),
        utf8("DeviceVersion"),
        utf8("DeviceEventClassID"),
        utf8("Activity"),
        utf8("LogSeverity"),
        utf8("DeviceAction"),
        utf8("ApplicationProtocol"),
        utf8("Protocol"),
        utf8("SourceIP"),
        field("SourcePort", DataType::Int32, false),
        utf8("SourceUserName"),
        utf8("DestinationIP"),
        field("DestinationPort", DataType::Int32, false),
        utf8("DestinationHostName"),
        utf8("RequestURL"),
        utf8("RequestMethod"),
        utf8("RequestClientApplication"),
        utf8("DeviceCustomString1"),
        utf8("DeviceCustomString1Label"),
        field("SentBytes", DataType::Int64, false),
        field("ReceivedBytes", DataType::Int64, false),
    ]);
    let batches = batches("CommonSecurityLog", &schema, &rows, |rows| {
        vec![
            ts_col(rows.iter().map(|r| r.t)),
            str_col(rows.iter().map(|_| "Palo Alto Networks")),
            str_col(rows.iter().map(|_| "PAN-OS")),
            str_col(rows.iter().map(|_| "11.1.2")),
            str_col(rows.iter().map(|_| "url")),
            str_col(rows.iter().map(|_| "THREAT")),
            str_col(
                rows.iter()
                    .map(|r| if r.action == "allow" { "1" } else { "5" }),
            ),
            str_col(rows.iter().map(|r| r.action)),
            str_col(rows.iter().map(|r| {
                if r.dest_port == 443 {
                    "ssl"
                } else {
                    "web-browsing"
                }
            })),
            str_col(rows.iter().map(|_| "TCP")),
            str_col(rows.iter().map(|r| r.source_ip.as_str())),
            i32_col(rows.iter().map(|r| r.source_port)),
            str_col(rows.iter().map(|r| r.user.as_str())),
            str_col(rows.iter().map(|r| r.dest_ip.as_str())),
            i32_col(rows.iter().map(|r| r.dest_port)),
            str_col(rows.iter().map(|r| r.dest_host.as_str())),
            str_col(rows.iter().map(|r| r.url.as_str())),
            str_col(rows.iter().map(|r| r.method)),
            str_col(rows.iter().map(|r| r.user_agent)),
            str_col(rows.iter().map(|r| r.category)),
            str_col(rows.iter().map(|_| "URL Category")),
            i64_col(rows.iter().map(|r| r.sent)),
            i64_col(rows.iter().map(|r| r.received)),
        ]
    })?;
    Ok(DemoTable {
        name: "CommonSecurityLog",
        description:
            "Web proxy / firewall records: browsing, a few malicious sites and the C2 beacon",
        schema,
        batches,
    })
}
