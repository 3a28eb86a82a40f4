//! Office 365 audit records (`OfficeActivity`): ordinary mail and file sessions of every user, a
//! legitimate administrator session, and the attacker's session with the compromised user's
//! credentials (forwarding rules, mailbox permissions, role-group membership).

use serde_json::json;

use crate::common::{weekday, DemoRng, DAY, HOUR, MIN, SEC};
use crate::org::{upn, ATTACKER_IP, FORWARD_ADDRESS, OFFICE_EGRESS_IP, TENANT_ID, USERS};
use crate::story;

/// One audit record.
pub struct OfficeRow {
    /// Event time.
    pub t: i64,
    /// Record type (`ExchangeItem`, `ExchangeAdmin`, `SharePointFileOperation`, `AzureActiveDirectoryStsLogon`).
    pub record_type: &'static str,
    /// Operation name.
    pub operation: &'static str,
    /// Workload (`Exchange`, `SharePoint`, `OneDrive`, `AzureActiveDirectory`).
    pub workload: &'static str,
    /// Result status.
    pub result: &'static str,
    /// User principal name.
    pub user_id: String,
    /// `Regular` or `Admin`.
    pub user_type: &'static str,
    /// Stable per-user key.
    pub user_key: String,
    /// Client address.
    pub client_ip: String,
    /// User agent.
    pub user_agent: &'static str,
    /// Object operated on.
    pub object_id: Option<String>,
    /// Mailbox owner for mailbox operations.
    pub mailbox_owner: Option<String>,
    /// File name for file operations.
    pub source_file: Option<String>,
    /// Site URL for file operations.
    pub site_url: Option<&'static str>,
    /// Cmdlet parameters (JSON array of `{Name, Value}`) for admin operations.
    pub parameters: Option<String>,
}

/// Organization name written to `OrganizationName`.
pub const ORGANIZATION_NAME: &str = "larkspurlabs.onmicrosoft.com";
/// Organization id written to `OrganizationId`.
pub const ORGANIZATION_ID: &str = TENANT_ID;

const BROWSER_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
const OUTLOOK_UA: &str =
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";
const ATTACKER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0";
const SITE_FINANCE: &str = "https://larkspurlabs.sharepoint.com/sites/Finance/";
const SITE_PROJECTS: &str = "https://larkspurlabs.sharepoint.com/sites/Projects/";

#[derive(Clone, Copy, PartialEq)]
enum Op {
    MailRead,
    Send,
    Delete,
    Update,
    FileAccessed,
    FileModified,
    FileUploaded,
    FileDownloaded,
    FilePreviewed,
    Search,
}

fn op_info(op: Op) -> (&'static str, &'static str, &'static str) {
    match op {
        Op::MailRead => ("MailItemsAccessed", "Exchange", "ExchangeItem"),
        Op::Send => ("Send", "Exchange", "ExchangeItem"),
        Op::Delete => ("MoveToDeletedItems", "Exchange", "ExchangeItem"),
        Op::Update => ("Update", "Exchange", "ExchangeItem"),
        Op::FileAccessed => ("FileAccessed", "SharePoint", "SharePointFileOperation"),
        Op::FileModified => ("FileModified", "SharePoint", "SharePointFileOperation"),
        Op::FileUploaded => ("FileUploaded", "OneDrive", "SharePointFileOperation"),
        Op::FileDownloaded => ("FileDownloaded", "SharePoint", "SharePointFileOperation"),
        Op::FilePreviewed => ("FilePreviewed", "SharePoint", "SharePointFileOperation"),
        Op::Search => ("SearchQueryPerformed", "SharePoint", "SharePointSearch"),
    }
}

fn next_op(rng: &mut DemoRng, current: Op) -> Op {
    let mail = matches!(current, Op::MailRead | Op::Send | Op::Delete | Op::Update);
    let choices: &[(Op, u32)] = if mail {
        &[
            (Op::MailRead, 50),
            (Op::Send, 14),
            (Op::Delete, 10),
            (Op::Update, 6),
            (Op::FileAccessed, 10),
            (Op::FilePreviewed, 5),
            (Op::Search, 5),
        ]
    } else {
        &[
            (Op::FileAccessed, 34),
            (Op::FileModified, 16),
            (Op::FilePreviewed, 10),
            (Op::FileDownloaded, 8),
            (Op::FileUploaded, 6),
            (Op::Search, 6),
            (Op::MailRead, 20),
        ]
    };
    *rng.weighted(choices)
}

fn user_key(index: usize) -> String {
    format!("10032003{:08X}", 0x5A17_0000 + index as u32 * 0x1F3)
}

fn parameters(pairs: &[(&str, &str)]) -> String {
    let list: Vec<serde_json::Value> = pairs
        .iter()
        .map(|(n, v)| json!({"Name": n, "Value": v}))
        .collect();
    serde_json::Value::Array(list).to_string()
}

const FILES: &[&str] = &[
    "Q4 budget.xlsx",
    "Board update.docx",
    "Supplier list.xlsx",
    "Project plan.docx",
    "Pricing 2027.xlsx",
    "Travel policy.pdf",
    "Onboarding.pptx",
];

fn base_row(
    t: i64,
    op: &'static str,
    workload: &'static str,
    record: &'static str,
    user: usize,
    ip: &str,
    ua: &'static str,
) -> OfficeRow {
    OfficeRow {
        t,
        record_type: record,
        operation: op,
        workload,
        result: "Succeeded",
        user_id: upn(USERS[user].sam),
        user_type: "Regular",
        user_key: user_key(user),
        client_ip: ip.into(),
        user_agent: ua,
        object_id: None,
        mailbox_owner: None,
        source_file: None,
        site_url: None,
        parameters: None,
    }
}

fn fill_object(rng: &mut DemoRng, row: &mut OfficeRow, op: Op, owner: &str) {
    match op {
        Op::MailRead | Op::Send | Op::Delete | Op::Update => {
            row.mailbox_owner = Some(owner.to_string());
            let folder = *rng.pick(&["Inbox", "Sent Items", "Inbox", "Archive"]);
            row.object_id = Some(format!("{owner}\\{folder}"));
        }
        Op::Search => {
            row.object_id = Some("https://larkspurlabs.sharepoint.com/search".into());
        }
        _ => {
            let site = if rng.chance(0.4) {
                SITE_FINANCE
            } else {
                SITE_PROJECTS
            };
            let file = *rng.pick(FILES);
            row.site_url = Some(site);
            row.source_file = Some(file.into());
            row.object_id = Some(format!("{site}Shared Documents/{file}"));
        }
    }
}

/// Generates the OfficeActivity rows, sorted by time.
pub fn generate(seed: u64, scale: u32, start: i64) -> Vec<OfficeRow> {
    let mut rng = DemoRng::new(seed, 5);
    let mut rows = Vec::new();
    for day in 0..7 {
        let day_start = start + day * DAY;
        let weekend = weekday(start, day_start) >= 5;
        for (u, user) in USERS.iter().enumerate() {
            let mean = if weekend { 0.15 } else { 2.2 } * f64::from(scale);
            let sessions = rng.around(mean, 0.5);
            let home_ip = format!("198.18.{}.{}", 10 + u, 20 + u * 3);
            for _ in 0..sessions {
                let mut t = day_start + 7 * HOUR + rng.range(0, 11 * 3600) * SEC;
                let ip = if rng.chance(0.75) {
                    OFFICE_EGRESS_IP.to_string()
                } else {
                    home_ip.clone()
                };
                let ua = if rng.chance(0.6) {
                    OUTLOOK_UA
                } else {
                    BROWSER_UA
                };
                let owner = upn(user.sam);
                rows.push(base_row(
                    t,
                    "UserLoggedIn",
                    "AzureActiveDirectory",
                    "AzureActiveDirectoryStsLogon",
                    u,
                    &ip,
                    ua,
                ));
                t += rng.range(2, 30) * SEC;
                let mut login = base_row(t, "MailboxLogin", "Exchange", "ExchangeItem", u, &ip, ua);
                login.mailbox_owner = Some(owner.clone());
                rows.push(login);
                let mut op = Op::MailRead;
                for _ in 0..rng.range(3, 14) {
                    t += rng.range(5, 900) * SEC;
                    let (name, workload, record) = op_info(op);
                    let mut row = base_row(t, name, workload, record, u, &ip, ua);
                    fill_object(&mut rng, &mut row, op, &owner);
                    rows.push(row);
                    op = next_op(&mut rng, op);
                }
            }
        }
    }
    admin_session(&mut rows, start);
    attacker_session(&mut rows, start);
    rows.sort_by(|a, b| (a.t, &a.user_id).cmp(&(b.t, &b.user_id)));
    rows
}

/// The administrator's legitimate Monday changes (so that admin operations are not rare by name alone).
fn admin_session(rows: &mut Vec<OfficeRow>, start: i64) {
    let admin = 1;
    let mut t = start + 11 * HOUR + 32 * MIN + 4 * SEC;
    let mut push = |rows: &mut Vec<OfficeRow>,
                    op: &'static str,
                    record: &'static str,
                    params: Option<String>,
                    dt: i64| {
        t += dt;
        let mut row = base_row(
            t,
            op,
            if record == "AzureActiveDirectoryStsLogon" {
                "AzureActiveDirectory"
            } else {
                "Exchange"
            },
            record,
            admin,
            OFFICE_EGRESS_IP,
            BROWSER_UA,
        );
        row.user_type = if record == "ExchangeAdmin" {
            "Admin"
        } else {
            "Regular"
        };
        row.parameters = params;
        rows.push(row);
    };
    push(
        rows,
        "UserLoggedIn",
        "AzureActiveDirectoryStsLogon",
        None,
        0,
    );
    push(
        rows,
        "Set-Mailbox",
        "ExchangeAdmin",
        Some(parameters(&[
            ("Identity", "xmartin"),
            ("CustomAttribute1", "Finance"),
        ])),
        40 * SEC,
    );
    push(
        rows,
        "Add-MailboxPermission",
        "ExchangeAdmin",
        Some(parameters(&[
            ("Identity", "finance-shared"),
            ("User", "xmartin"),
            ("AccessRights", "FullAccess"),
            ("InheritanceType", "All"),
        ])),
        95 * SEC,
    );
    push(
        rows,
        "Set-CASMailbox",
        "ExchangeAdmin",
        Some(parameters(&[
            ("Identity", "xmartin"),
            ("OWAEnabled", "True"),
        ])),
        60 * SEC,
    );
}

/// The attacker's session with the compromised user's credentials, from [`ATTACKER_IP`].
fn attacker_session(rows: &mut Vec<OfficeRow>, start: i64) {
    let u = story::COMPROMISED_USER;
    let me = upn(USERS[u].sam);
    let cfo = upn(USERS[2].sam);
    let mut t = start + story::MAILBOX_SESSION;
    let mut push = |rows: &mut Vec<OfficeRow>,
                    dt: i64,
                    op: &'static str,
                    workload: &'static str,
                    record: &'static str|
     -> usize {
        t += dt;
        rows.push(base_row(
            t,
            op,
            workload,
            record,
            u,
            ATTACKER_IP,
            ATTACKER_UA,
        ));
        rows.len() - 1
    };
    push(
        rows,
        0,
        "UserLoggedIn",
        "AzureActiveDirectory",
        "AzureActiveDirectoryStsLogon",
    );
    let i = push(rows, 9 * SEC, "MailboxLogin", "Exchange", "ExchangeItem");
    rows[i].mailbox_owner = Some(me.clone());
    for n in 0..8 {
        let i = push(
            rows,
            (17 + n * 23) * SEC,
            "MailItemsAccessed",
            "Exchange",
            "ExchangeItem",
        );
        rows[i].mailbox_owner = Some(me.clone());
        rows[i].object_id = Some(format!("{me}\\Inbox"));
    }
    type AdminOp<'a> = (&'static str, i64, Vec<(&'a str, String)>);
    let admin_ops: [AdminOp; 6] = [
        (
            "New-InboxRule",
            72 * SEC,
            vec![
                ("Name", ".".into()),
                (
                    "SubjectOrBodyContainsWords",
                    "invoice;payment;wire;remittance".into(),
                ),
                ("ForwardTo", FORWARD_ADDRESS.into()),
                ("MarkAsRead", "True".into()),
                ("StopProcessingRules", "True".into()),
            ],
        ),
        (
            "Set-InboxRule",
            64 * SEC,
            vec![
                ("Identity", format!("{me}\\.")),
                ("MoveToFolder", "RSS Feeds".into()),
                ("ForwardTo", FORWARD_ADDRESS.into()),
            ],
        ),
        (
            "Add-MailboxPermission",
            131 * SEC,
            vec![
                ("Identity", cfo.clone()),
                ("User", me.clone()),
                ("AccessRights", "FullAccess".into()),
                ("InheritanceType", "All".into()),
            ],
        ),
        (
            "Add-MailboxFolderPermission",
            58 * SEC,
            vec![
                ("Identity", format!("{cfo}:\\Inbox")),
                ("User", me.clone()),
                ("AccessRights", "Owner".into()),
            ],
        ),
        (
            "Add-RoleGroupMember",
            107 * SEC,
            vec![
                ("Identity", "Organization Management".into()),
                ("Member", me.clone()),
            ],
        ),
        (
            "Set-Mailbox",
            49 * SEC,
            vec![
                ("Identity", me.clone()),
                ("ForwardingSmtpAddress", format!("smtp:{FORWARD_ADDRESS}")),
                ("DeliverToMailboxAndForward", "True".into()),
            ],
        ),
    ];
    for (op, dt, params) in admin_ops {
        let i = push(rows, dt, op, "Exchange", "ExchangeAdmin");
        let pairs: Vec<(&str, &str)> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
        rows[i].parameters = Some(parameters(&pairs));
        rows[i].object_id = Some(me.clone());
        rows[i].result = "True";
    }
    for n in 0..6 {
        let i = push(
            rows,
            (40 + n * 70) * SEC,
            "MailItemsAccessed",
            "Exchange",
            "ExchangeItem",
        );
        rows[i].mailbox_owner = Some(cfo.clone());
        rows[i].object_id = Some(format!("{cfo}\\Inbox"));
    }
    for file in [
        "Q4 budget.xlsx",
        "Pricing 2027.xlsx",
        "Bank details - suppliers.xlsx",
    ] {
        let i = push(
            rows,
            51 * SEC,
            "FileDownloaded",
            "SharePoint",
            "SharePointFileOperation",
        );
        rows[i].site_url = Some(SITE_FINANCE);
        rows[i].source_file = Some(file.into());
        rows[i].object_id = Some(format!("{SITE_FINANCE}Shared Documents/{file}"));
    }
}
