//! Security alerts (`SecurityAlert`) raised along the attack, plus a few low-severity ones.

use serde_json::{json, Value};

use crate::common::{hex_id, DAY, HOUR, MIN, SEC};
use crate::org::{
    host_index, upn, IpLocation, ATTACKER_IP, ATTACKER_LOCATION, C2_DOMAIN, C2_IP, C2_LOCATION,
    DNS_DOMAIN, HOSTS, MALVERTISING_DOMAIN, NETBIOS_DOMAIN, PAYLOAD_IP, PAYLOAD_LOCATION,
    PAYLOAD_MD5, PAYLOAD_SHA256, PAYLOAD_URL, PHISH_DOMAIN, USERS,
};
use crate::story;

/// One alert.
pub struct AlertRow {
    /// Time the alert was generated.
    pub t: i64,
    /// First activity covered.
    pub start: i64,
    /// Last activity covered.
    pub end: i64,
    /// Alert name.
    pub name: &'static str,
    /// `High`, `Medium`, `Low`, `Informational`.
    pub severity: &'static str,
    /// Description.
    pub description: String,
    /// Provider name.
    pub provider: &'static str,
    /// Product name.
    pub product: &'static str,
    /// Alert type identifier.
    pub alert_type: &'static str,
    /// Alert id.
    pub id: String,
    /// Host name or user principal name.
    pub compromised_entity: String,
    /// MITRE ATT&CK tactics, comma-separated.
    pub tactics: &'static str,
    /// Entities (JSON array).
    pub entities: String,
    /// Extended properties (JSON object).
    pub extended: String,
}

fn host_entity(id: u32, name: &str) -> Value {
    json!({"$id": id.to_string(), "HostName": name, "DnsDomain": DNS_DOMAIN, "NetBiosName": name, "OSFamily": "Windows", "Type": "host"})
}

fn account_entity(id: u32, sam: &str) -> Value {
    json!({"$id": id.to_string(), "Name": sam, "NTDomain": NETBIOS_DOMAIN, "UPNSuffix": DNS_DOMAIN, "Type": "account"})
}

/// An `ip` entity with the `Location` an alert provider adds (Sentinel's geolocation fields).
fn ip_entity(id: u32, address: &str, location: &IpLocation) -> Value {
    json!({
        "$id": id.to_string(),
        "Address": address,
        "Location": {
            "CountryCode": location.country_code,
            "CountryName": location.country_name,
            "State": location.state,
            "City": location.city,
            "Latitude": location.latitude,
            "Longitude": location.longitude,
            "Asn": location.asn,
            "Organization": location.organization,
        },
        "Type": "ip",
    })
}

fn process_entity(id: u32, pid: u32, command_line: &str, image: &str) -> Value {
    json!({"$id": id.to_string(), "ProcessId": hex_id(u64::from(pid)), "CommandLine": command_line, "ImageFile": {"Name": image}, "Type": "process"})
}

/// Generates the alerts. `stage1_pid` and `payload_pid` are the process ids of the encoded
/// PowerShell and of the payload on the compromised host.
pub fn generate(start: i64, stage1_pid: u32, payload_pid: u32) -> Vec<AlertRow> {
    let victim_host = story::COMPROMISED_HOST;
    let victim = USERS[story::COMPROMISED_USER].sam;
    let victim_ip = HOSTS[host_index(victim_host).unwrap_or(0)].ip;
    let mut rows = Vec::new();
    let mut alert = |t: i64,
                     span: (i64, i64),
                     name: &'static str,
                     severity: &'static str,
                     description: String,
                     product: (&'static str, &'static str),
                     alert_type: &'static str,
                     entity: String,
                     tactics: &'static str,
                     entities: Vec<Value>,
                     extended: Value| {
        let n = rows.len() as u32 + 1;
        rows.push(AlertRow {
            t: start + t,
            start: start + span.0,
            end: start + span.1,
            name,
            severity,
            description,
            provider: product.0,
            product: product.1,
            alert_type,
            id: format!(
                "2517{n:04}-5c3e-4d1f-9a8b-{:012x}",
                0x1d2c3b4a5f60u64 + u64::from(n) * 0x1111
            ),
            compromised_entity: entity,
            tactics,
            entities: Value::Array(entities).to_string(),
            extended: extended.to_string(),
        });
    };
    let endpoint = ("MDATP", "Microsoft Defender for Endpoint");
    let analytics = ("ASI Scheduled Alerts", "Azure Sentinel");
    alert(
        3 * HOUR + 15 * MIN,
        (3 * HOUR + 2 * MIN, 3 * HOUR + 9 * MIN),
        "Antimalware signature update failed",
        "Informational",
        "Microsoft Defender Antivirus could not download a signature update; the next scheduled update succeeded.".into(),
        endpoint,
        "WindowsDefenderAv_SignatureUpdateFailed",
        "LRK-FS01".into(),
        "",
        vec![host_entity(2, "LRK-FS01")],
        json!({"Error code": "0x80072ee2", "Signature version": "1.421.112.0"}),
    );
    alert(
        DAY + 10 * HOUR + 14 * MIN + 30 * SEC,
        (
            DAY + 10 * HOUR + 14 * MIN + 3 * SEC,
            DAY + 14 * HOUR + 52 * MIN + 40 * SEC,
        ),
        "Access to a credential-phishing site was blocked",
        "Low",
        format!("Two users opened links to {PHISH_DOMAIN}; the web proxy blocked both requests."),
        analytics,
        "ProxyBlockedPhishing",
        "LRK-WS102".into(),
        "InitialAccess",
        vec![
            host_entity(2, "LRK-WS102"),
            account_entity(3, "rpatel"),
            host_entity(4, "LRK-WS106"),
            account_entity(5, "lgarcia"),
            json!({"$id": "6", "DomainName": PHISH_DOMAIN, "Type": "dns"}),
        ],
        json!({"Blocked requests": "2"}),
    );
    alert(
        DAY + 23 * HOUR + 16 * MIN,
        (story::SPRAY_START, story::SPRAY_SUCCESS),
        "Password spray against multiple accounts",
        "Medium",
        format!(
            "{} failed network logons for {} different accounts from {ATTACKER_IP} on LRK-DC01 within ten minutes, followed by a successful logon as {victim}.",
            story::SPRAY_FAILURES,
            story::SPRAY_FAILURES - story::SPRAY_FAILURES / 5
        ),
        analytics,
        "PasswordSpray",
        "LRK-DC01".into(),
        "CredentialAccess",
        vec![host_entity(2, "LRK-DC01"), ip_entity(3, ATTACKER_IP, &ATTACKER_LOCATION), account_entity(4, victim)],
        json!({"Failed logons": story::SPRAY_FAILURES.to_string(), "Successful account": victim}),
    );
    let stage1 = story::stage1_command();
    alert(
        story::ENCODED_POWERSHELL + 6 * SEC,
        (story::DOC_OPEN, story::ENCODED_POWERSHELL),
        "Office application launched an encoded PowerShell command",
        "High",
        format!("WINWORD.EXE opened {} and started powershell.exe with an encoded command that downloads {PAYLOAD_URL}.", story::DOCUMENT_PATH),
        endpoint,
        "SuspiciousOfficeChildProcess",
        victim_host.into(),
        "Execution, InitialAccess",
        vec![host_entity(2, victim_host), account_entity(3, victim), process_entity(4, stage1_pid, &stage1, "powershell.exe"), json!({"$id": "5", "Url": PAYLOAD_URL, "Type": "url"}), ip_entity(6, PAYLOAD_IP, &PAYLOAD_LOCATION)],
        json!({"Parent process": "WINWORD.EXE", "Document": story::DOCUMENT_PATH}),
    );
    alert(
        story::PAYLOAD_START + 8 * SEC,
        (story::PAYLOAD_START, story::PAYLOAD_START + 5 * SEC),
        "Persistence through a Run key and a logon scheduled task",
        "Medium",
        format!("A PowerShell process created the Run value MsUpdate and the scheduled task {} pointing at {}.", story::TASK_NAME, story::PAYLOAD_PATH),
        endpoint,
        "PersistenceRunKeyScheduledTask",
        victim_host.into(),
        "Persistence",
        vec![
            host_entity(2, victim_host),
            account_entity(3, victim),
            json!({"$id": "4", "Name": "msupd.exe", "Directory": r"C:\Users\mbennett\AppData\Roaming\Microsoft\Update", "FileHashes": [{"Algorithm": "SHA256", "Value": PAYLOAD_SHA256}, {"Algorithm": "MD5", "Value": PAYLOAD_MD5}], "Type": "file"}),
            process_entity(5, payload_pid, &format!("\"{}\"", story::PAYLOAD_PATH), "msupd.exe"),
        ],
        json!({"Registry key": r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run", "Task name": story::TASK_NAME}),
    );
    alert(
        story::DISCOVERY_START + 3 * story::DISCOVERY_STEP + 5 * SEC,
        (story::DISCOVERY_START, story::DISCOVERY_START + 3 * story::DISCOVERY_STEP),
        "Domain reconnaissance from an unusual process",
        "Low",
        "msupd.exe ran whoami /all, net group \"Domain Admins\" /domain and nltest /domain_trusts through cmd.exe.".into(),
        endpoint,
        "DomainReconnaissance",
        victim_host.into(),
        "Discovery",
        vec![host_entity(2, victim_host), account_entity(3, victim), process_entity(4, payload_pid, &format!("\"{}\"", story::PAYLOAD_PATH), "msupd.exe")],
        json!({"Commands": "3"}),
    );
    alert(
        story::BEACON_START + 30 * MIN,
        (story::BEACON_START, story::BEACON_START + 25 * MIN),
        "Periodic connections to a known command-and-control domain",
        "High",
        format!("{victim_host} ({victim_ip}) connects to {C2_DOMAIN} ({C2_IP}) about every 300 seconds."),
        analytics,
        "BeaconingC2",
        victim_host.into(),
        "CommandAndControl",
        vec![host_entity(2, victim_host), ip_entity(3, C2_IP, &C2_LOCATION), json!({"$id": "4", "DomainName": C2_DOMAIN, "Type": "dns"})],
        json!({"Period seconds": "300", "Connections in window": "6"}),
    );
    alert(
        story::MAILBOX_SESSION + 38 * MIN,
        (story::MAILBOX_SESSION, story::MAILBOX_SESSION + 32 * MIN),
        "Suspicious inbox forwarding rule and mailbox permission changes",
        "High",
        format!("{} signed in from {ATTACKER_IP}, created an inbox rule forwarding mail externally, granted itself access to another mailbox and joined the Organization Management role group.", upn(victim)),
        ("OATP", "Office 365"),
        "OfficeMailboxTakeover",
        upn(victim),
        "Collection, Exfiltration, PrivilegeEscalation",
        vec![account_entity(2, victim), ip_entity(3, ATTACKER_IP, &ATTACKER_LOCATION), json!({"$id": "4", "Recipient": crate::org::FORWARD_ADDRESS, "Type": "mailMessage"})],
        json!({"Operations": "New-InboxRule, Set-InboxRule, Add-MailboxPermission, Add-MailboxFolderPermission, Add-RoleGroupMember, Set-Mailbox"}),
    );
    alert(
        story::EXFIL_1 + 24 * MIN,
        (story::EXFIL_1, story::EXFIL_1 + 2 * MIN),
        "Unusual volume of data sent to an external address",
        "Medium",
        format!(
            "{victim_host} sent {} bytes to {C2_IP} in one hour, far above its baseline.",
            story::EXFIL_BYTES
        ),
        analytics,
        "UnusualOutboundVolume",
        victim_host.into(),
        "Exfiltration",
        vec![
            host_entity(2, victim_host),
            ip_entity(3, C2_IP, &C2_LOCATION),
        ],
        json!({"Bytes sent": story::EXFIL_BYTES.to_string()}),
    );
    alert(
        3 * DAY + 13 * HOUR + 21 * MIN,
        (3 * DAY + 13 * HOUR + 20 * MIN + 11 * SEC, 3 * DAY + 13 * HOUR + 20 * MIN + 12 * SEC),
        "Connection to a malvertising domain",
        "Low",
        format!("LRK-WS103 followed an advertising redirect through {MALVERTISING_DOMAIN}; no download followed."),
        analytics,
        "MalvertisingDomain",
        "LRK-WS103".into(),
        "InitialAccess",
        vec![host_entity(2, "LRK-WS103"), json!({"$id": "3", "DomainName": MALVERTISING_DOMAIN, "Type": "dns"})],
        json!({}),
    );
    rows.sort_by_key(|r| r.t);
    rows
}
