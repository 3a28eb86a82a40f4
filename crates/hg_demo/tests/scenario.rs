//! Properties of the generated scenario: determinism, volume by scale, schemas, the coherence of
//! the process trees, the attack story and the encoded payloads.

use std::collections::HashMap;
use std::io::Read;

use arrow_array::{
    Array, Int32Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, TimeUnit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hg_demo::{generate, org, story, DemoTable, Scenario, START_NS};

const SEC: i64 = 1_000_000_000;

fn scenario() -> &'static Scenario {
    static SCENARIO: std::sync::OnceLock<Scenario> = std::sync::OnceLock::new();
    SCENARIO.get_or_init(|| generate(hg_demo::DEFAULT_SEED, 1).expect("scale 1 generates"))
}

fn table<'a>(s: &'a Scenario, name: &str) -> &'a DemoTable {
    s.table(name)
        .unwrap_or_else(|| panic!("table {name} missing"))
}

fn strings(t: &DemoTable, column: &str) -> Vec<String> {
    let mut out = Vec::new();
    for batch in &t.batches {
        let array = batch
            .column_by_name(column)
            .unwrap_or_else(|| panic!("{column} missing in {}", t.name));
        let array = array
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("Utf8 column");
        out.extend((0..array.len()).map(|i| {
            if array.is_null(i) {
                String::new()
            } else {
                array.value(i).to_string()
            }
        }));
    }
    out
}

fn times(t: &DemoTable, column: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for batch in &t.batches {
        let array = batch.column_by_name(column).expect("time column");
        let array = array
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .expect("ns timestamps");
        out.extend(array.values().iter().copied());
    }
    out
}

fn int64s(t: &DemoTable, column: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for batch in &t.batches {
        let array = batch.column_by_name(column).expect("int64 column");
        out.extend(
            array
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("Int64")
                .values()
                .iter()
                .copied(),
        );
    }
    out
}

fn ipc_bytes(s: &Scenario) -> Vec<Vec<u8>> {
    s.tables
        .iter()
        .map(|t| hg_arrow::write_ipc_stream(&t.schema, &t.batches).expect("IPC"))
        .collect()
}

#[test]
fn same_seed_and_scale_give_identical_bytes_and_another_seed_differs() {
    let a = ipc_bytes(scenario());
    let b = ipc_bytes(&generate(hg_demo::DEFAULT_SEED, 1).unwrap());
    assert_eq!(a, b);
    let c = ipc_bytes(&generate(hg_demo::DEFAULT_SEED + 1, 1).unwrap());
    assert_ne!(a[0], c[0], "another seed changes the process events");
}

#[test]
fn scale_is_validated() {
    assert!(generate(1, 0)
        .unwrap_err()
        .to_string()
        .contains("scale must be between 1 and"));
    assert!(generate(1, hg_demo::MAX_SCALE + 1).is_err());
}

#[test]
fn row_counts_grow_with_scale_and_the_attack_stays_once() {
    let one = scenario();
    let counts1: HashMap<&str, usize> = one.tables.iter().map(|t| (t.name, t.num_rows())).collect();
    assert!(
        counts1["SecurityEvent"] >= 10_000,
        "scale 1 has {} process events",
        counts1["SecurityEvent"]
    );
    assert_eq!(counts1["NetworkBytes"], org::HOSTS.len() * 7 * 24);
    let three = generate(hg_demo::DEFAULT_SEED, 3).unwrap();
    let counts3: HashMap<&str, usize> = three
        .tables
        .iter()
        .map(|t| (t.name, t.num_rows()))
        .collect();
    for name in [
        "SecurityEvent",
        "LogonEvents",
        "OfficeActivity",
        "DnsEvents",
        "CommonSecurityLog",
    ] {
        let ratio = counts3[name] as f64 / counts1[name] as f64;
        assert!(
            ratio > 2.4 && ratio < 3.4,
            "{name}: scale 3 / scale 1 = {ratio}"
        );
    }
    assert_eq!(counts3["SecurityAlert"], counts1["SecurityAlert"]);
    assert_eq!(counts3["NetworkBytes"], counts1["NetworkBytes"]);
    let stage1 = story::stage1_command();
    let found = strings(table(&three, "SecurityEvent"), "CommandLine")
        .iter()
        .filter(|c| **c == stage1)
        .count();
    assert_eq!(
        found, 1,
        "the encoded first stage runs exactly once at scale 3"
    );
    // Scale 100 must reach a million process events: 1.2e6 expected, linear in scale (checked above).
    let per_scale = (counts3["SecurityEvent"] - counts1["SecurityEvent"]) as f64 / 2.0;
    assert!(
        counts1["SecurityEvent"] as f64 + 99.0 * per_scale >= 1_000_000.0,
        "scale 100 would have too few events"
    );
}

fn column_types(t: &DemoTable) -> Vec<(String, DataType)> {
    t.schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect()
}

#[test]
fn every_table_has_its_documented_schema() {
    let s = scenario();
    let names: Vec<&str> = s.tables.iter().map(|t| t.name).collect();
    assert_eq!(names, hg_demo::TABLE_NAMES);
    let ts = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
    let expect = |t: &DemoTable, columns: &[&str]| {
        let got: Vec<String> = column_types(t).into_iter().map(|(n, _)| n).collect();
        assert_eq!(got, columns, "columns of {}", t.name);
        for batch in &t.batches {
            assert_eq!(batch.schema(), t.schema);
        }
        let (_, time_type) = column_types(t)
            .into_iter()
            .find(|(n, _)| n == "TimeGenerated")
            .expect("TimeGenerated");
        assert_eq!(time_type, ts, "{} TimeGenerated", t.name);
    };
    expect(
        table(s, "SecurityEvent"),
        &[
            "TenantId",
            "Account",
            "EventID",
            "TimeGenerated",
            "Computer",
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "NewProcessId",
            "NewProcessName",
            "TokenElevationType",
            "ProcessId",
            "CommandLine",
            "ParentProcessName",
            "TargetLogonId",
            "SourceComputerId",
            "TimeCreatedUtc",
        ],
    );
    expect(
        table(s, "LogonEvents"),
        &[
            "TenantId",
            "Account",
            "EventID",
            "TimeGenerated",
            "SourceComputerId",
            "Computer",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectUserSid",
            "TargetUserName",
            "TargetDomainName",
            "TargetUserSid",
            "TargetLogonId",
            "LogonProcessName",
            "LogonType",
            "AuthenticationPackageName",
            "Status",
            "SubStatus",
            "IpAddress",
            "WorkstationName",
        ],
    );
    expect(
        table(s, "SecurityAlert"),
        &[
            "TenantId",
            "TimeGenerated",
            "AlertName",
            "AlertSeverity",
            "Description",
            "ProviderName",
            "VendorName",
            "ProductName",
            "AlertType",
            "SystemAlertId",
            "CompromisedEntity",
            "Status",
            "Tactics",
            "StartTimeUtc",
            "EndTimeUtc",
            "Entities",
            "ExtendedProperties",
        ],
    );
    expect(
        table(s, "OfficeActivity"),
        &[
            "TimeGenerated",
            "RecordType",
            "Operation",
            "OfficeWorkload",
            "ResultStatus",
            "UserId",
            "UserType",
            "UserKey",
            "ClientIP",
            "UserAgent",
            "OrganizationId",
            "OrganizationName",
            "OfficeObjectId",
            "MailboxOwnerUPN",
            "SourceFileName",
            "Site_Url",
            "Parameters",
        ],
    );
    expect(
        table(s, "NetworkBytes"),
        &["TimeGenerated", "Computer", "TotalBytesSent"],
    );
    expect(
        table(s, "DnsEvents"),
        &[
            "TimeGenerated",
            "Computer",
            "EventId",
            "SubType",
            "ClientIP",
            "Name",
            "IPAddresses",
            "QueryType",
            "ResultCode",
        ],
    );
    expect(
        table(s, "CommonSecurityLog"),
        &[
            "TimeGenerated",
            "DeviceVendor",
            "DeviceProduct",
            "DeviceVersion",
            "DeviceEventClassID",
            "Activity",
            "LogSeverity",
            "DeviceAction",
            "ApplicationProtocol",
            "Protocol",
            "SourceIP",
            "SourcePort",
            "SourceUserName",
            "DestinationIP",
            "DestinationPort",
            "DestinationHostName",
            "RequestURL",
            "RequestMethod",
            "RequestClientApplication",
            "DeviceCustomString1",
            "DeviceCustomString1Label",
            "SentBytes",
            "ReceivedBytes",
        ],
    );
    let event_ids = |b: &RecordBatch| {
        b.column_by_name("EventID")
            .unwrap()
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap()
            .values()
            .to_vec()
    };
    assert!(table(s, "SecurityEvent")
        .batches
        .iter()
        .flat_map(event_ids)
        .all(|e| e == 4688));
    assert!(table(s, "LogonEvents")
        .batches
        .iter()
        .flat_map(event_ids)
        .all(|e| e == 4624 || e == 4625));
}

#[test]
fn every_table_lies_in_the_week_in_time_order() {
    for t in &scenario().tables {
        let ts = times(t, "TimeGenerated");
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{} is sorted", t.name);
        assert!(
            ts.iter()
                .all(|&x| (hg_demo::START_NS..hg_demo::END_NS).contains(&x)),
            "{} within the week",
            t.name
        );
    }
}

struct Proc {
    t: i64,
    host: String,
    pid: String,
    ppid: String,
    image: String,
    parent_image: String,
    cmd: String,
}

fn processes(s: &Scenario) -> Vec<Proc> {
    let t = table(s, "SecurityEvent");
    let time = times(t, "TimeGenerated");
    let host = strings(t, "Computer");
    let pid = strings(t, "NewProcessId");
    let ppid = strings(t, "ProcessId");
    let image = strings(t, "NewProcessName");
    let parent = strings(t, "ParentProcessName");
    let cmd = strings(t, "CommandLine");
    (0..time.len())
        .map(|i| Proc {
            t: time[i],
            host: host[i].clone(),
            pid: pid[i].clone(),
            ppid: ppid[i].clone(),
            image: image[i].clone(),
            parent_image: parent[i].clone(),
            cmd: cmd[i].clone(),
        })
        .collect()
}

#[test]
fn every_parent_was_created_earlier_on_the_same_host_and_ids_are_reused() {
    let procs = processes(scenario());
    // Latest creation of each (host, pid) so far, walking in time order.
    let mut latest: HashMap<(String, String), (i64, String)> = HashMap::new();
    let mut reused = 0;
    let mut roots = 0;
    for p in &procs {
        assert!(
            p.pid.starts_with("0x") && u32::from_str_radix(&p.pid[2..], 16).is_ok(),
            "hex pid {}",
            p.pid
        );
        if p.ppid == "0x4" {
            roots += 1;
            assert_eq!(p.parent_image, "System");
        } else {
            let (t, image) = latest
                .get(&(p.host.clone(), p.ppid.clone()))
                .unwrap_or_else(|| {
                    panic!(
                        "parent {} of {} on {} never created",
                        p.ppid, p.image, p.host
                    )
                });
            assert!(*t < p.t, "parent created before the child");
            assert_eq!(
                image, &p.parent_image,
                "parent image of {} on {}",
                p.image, p.host
            );
        }
        if latest
            .insert((p.host.clone(), p.pid.clone()), (p.t, p.image.clone()))
            .is_some()
        {
            reused += 1;
        }
    }
    assert_eq!(
        roots,
        org::HOSTS.len(),
        "one declared root (smss.exe) per host"
    );
    assert!(reused > 100, "process ids are reused ({reused} times)");
}

#[test]
fn attack_chain_runs_in_order_on_the_compromised_host() {
    let procs = processes(scenario());
    let on_host: Vec<&Proc> = procs
        .iter()
        .filter(|p| p.host == story::COMPROMISED_HOST)
        .collect();
    let find = |pred: &dyn Fn(&Proc) -> bool, what: &str| -> &Proc {
        let hits: Vec<&&Proc> = on_host.iter().filter(|p| pred(p)).collect();
        assert_eq!(hits.len(), 1, "exactly one {what}");
        hits[0]
    };
    let word = find(
        &|p| p.cmd.contains("Invoice_Nov2026.docm"),
        "WINWORD.EXE opening the document",
    );
    assert!(word.image.ends_with("WINWORD.EXE") && word.parent_image.ends_with("OUTLOOK.EXE"));
    assert_eq!(word.t, START_NS + story::DOC_OPEN);
    let stage1 = find(&|p| p.cmd.contains(" -enc "), "encoded PowerShell");
    assert!(stage1.parent_image.ends_with("WINWORD.EXE") && stage1.ppid == word.pid);
    assert!(stage1
        .cmd
        .starts_with("powershell.exe -nop -w hidden -enc "));
    let payload = find(
        &|p| p.image == story::PAYLOAD_PATH && p.parent_image.ends_with("powershell.exe"),
        "payload start",
    );
    assert_eq!(payload.ppid, stage1.pid);
    let reg = find(
        &|p| p.image.ends_with("reg.exe") && p.cmd.contains("CurrentVersion\\Run"),
        "Run key",
    );
    let task = find(
        &|p| p.image.ends_with("schtasks.exe") && p.cmd.contains("/create"),
        "scheduled task",
    );
    let whoami = find(
        &|p| p.image.ends_with("whoami.exe") && p.cmd.contains("/all") && p.t > stage1.t,
        "whoami /all",
    );
    let net = find(
        &|p| p.image.ends_with("net.exe") && p.cmd.contains("Domain Admins"),
        "net group",
    );
    let nltest = find(&|p| p.image.ends_with("nltest.exe"), "nltest");
    let order = [
        word.t, stage1.t, payload.t, reg.t, task.t, whoami.t, net.t, nltest.t,
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "chain in order: {order:?}"
    );
    let hostile = find(
        &|p| p.cmd.contains(story::HOSTILE_MARKUP),
        "hostile command line",
    );
    assert!(hostile.t > nltest.t);
    let exfil: Vec<&&Proc> = on_host
        .iter()
        .filter(|p| p.cmd.contains("Compress-Archive"))
        .collect();
    assert_eq!(exfil.len(), 2);
    assert_eq!(exfil[0].t, START_NS + story::EXFIL_1);
}

#[test]
fn the_spray_precedes_the_compromise() {
    let t = table(scenario(), "LogonEvents");
    let ip = strings(t, "IpAddress");
    let id = t
        .batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("EventID")
                .unwrap()
                .as_any()
                .downcast_ref::<Int32Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect::<Vec<_>>();
    let user = strings(t, "TargetUserName");
    let time = times(t, "TimeGenerated");
    let failures: Vec<usize> = (0..ip.len())
        .filter(|&i| ip[i] == org::ATTACKER_IP && id[i] == 4625)
        .collect();
    assert_eq!(failures.len(), story::SPRAY_FAILURES);
    let success: Vec<usize> = (0..ip.len())
        .filter(|&i| ip[i] == org::ATTACKER_IP && id[i] == 4624)
        .collect();
    assert_eq!(success.len(), 1);
    assert_eq!(user[success[0]], "mbennett");
    assert!(failures.iter().all(|&i| time[i] < time[success[0]]));
    assert!(time[success[0]] < START_NS + story::DOC_OPEN);
}

#[test]
fn network_bytes_have_exactly_two_clear_outliers_at_the_exfiltration_hours() {
    let t = table(scenario(), "NetworkBytes");
    let time = times(t, "TimeGenerated");
    let host = strings(t, "Computer");
    let bytes = int64s(t, "TotalBytesSent");
    // Median per (host, hour of day, weekend) as the expected value.
    let key = |i: usize| {
        let hours = (time[i] - START_NS) / (3600 * SEC);
        (host[i].clone(), hours % 24, (hours / 24) % 7 >= 5)
    };
    let mut groups: HashMap<(String, i64, bool), Vec<i64>> = HashMap::new();
    for (i, b) in bytes.iter().enumerate() {
        groups.entry(key(i)).or_default().push(*b);
    }
    let outliers: Vec<usize> = (0..time.len())
        .filter(|&i| {
            let mut g = groups[&key(i)].clone();
            g.sort();
            bytes[i] as f64 > 4.0 * g[g.len() / 2] as f64
        })
        .collect();
    assert_eq!(outliers.len(), 2, "outliers: {outliers:?}");
    let hour = 3600 * SEC;
    assert_eq!(time[outliers[0]], START_NS + story::EXFIL_1 / hour * hour);
    assert_eq!(time[outliers[1]], START_NS + story::EXFIL_2 / hour * hour);
    assert!(outliers.iter().all(|&i| host[i] == story::COMPROMISED_HOST));
    // A daily cycle and quieter weekends on a workstation.
    let mean = |pred: &dyn Fn(usize) -> bool| {
        let v: Vec<f64> = (0..time.len())
            .filter(|&i| host[i] == "LRK-WS101" && pred(i))
            .map(|i| bytes[i] as f64)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let hour_of = |i: usize| (time[i] - START_NS) / hour % 24;
    let day_of = |i: usize| (time[i] - START_NS) / hour / 24;
    assert!(
        mean(&|i| hour_of(i) == 14 && day_of(i) < 5)
            > 3.0 * mean(&|i| hour_of(i) == 2 && day_of(i) < 5)
    );
    assert!(mean(&|i| day_of(i) < 5) > 2.0 * mean(&|i| day_of(i) >= 5));
}

#[test]
fn the_beacon_repeats_every_five_minutes_with_jitter() {
    let t = table(scenario(), "CommonSecurityLog");
    let host = strings(t, "DestinationHostName");
    let url = strings(t, "RequestURL");
    let source = strings(t, "SourceIP");
    let time = times(t, "TimeGenerated");
    let beacons: Vec<i64> = (0..host.len())
        .filter(|&i| host[i] == org::C2_DOMAIN && url[i].contains("/poll"))
        .map(|i| time[i])
        .collect();
    assert!(beacons.len() > 1000, "{} beacons", beacons.len());
    assert_eq!(beacons[0], START_NS + story::BEACON_START);
    assert!((0..host.len())
        .filter(|&i| host[i] == org::C2_DOMAIN)
        .all(|i| source[i] == "10.20.1.104"));
    let gaps: Vec<i64> = beacons.windows(2).map(|w| (w[1] - w[0]) / SEC).collect();
    assert!(
        gaps.iter().all(|g| (255..=345).contains(g)),
        "gaps within 300 s +/- jitter"
    );
    let mean = gaps.iter().sum::<i64>() as f64 / gaps.len() as f64;
    assert!((mean - 300.0).abs() < 2.0, "mean period {mean}");
    assert!(gaps.iter().any(|&g| g != 300), "jitter present");
    // The malicious domains appear in DNS too.
    let dns = strings(table(scenario(), "DnsEvents"), "Name");
    for domain in [
        org::C2_DOMAIN,
        org::PAYLOAD_DOMAIN,
        org::PHISH_DOMAIN,
        org::MALVERTISING_DOMAIN,
    ] {
        assert!(dns.iter().any(|n| n == domain), "{domain} resolved");
    }
}

#[test]
fn the_mailbox_takeover_session_is_present() {
    let t = table(scenario(), "OfficeActivity");
    let ip = strings(t, "ClientIP");
    let op = strings(t, "Operation");
    let params = strings(t, "Parameters");
    let attacker: Vec<usize> = (0..ip.len())
        .filter(|&i| ip[i] == org::ATTACKER_IP)
        .collect();
    let ops: Vec<&str> = attacker.iter().map(|&i| op[i].as_str()).collect();
    for expected in [
        "New-InboxRule",
        "Set-InboxRule",
        "Add-MailboxPermission",
        "Add-MailboxFolderPermission",
        "Add-RoleGroupMember",
    ] {
        assert!(
            ops.contains(&expected),
            "{expected} in the attacker session"
        );
    }
    let rule = attacker
        .iter()
        .find(|&&i| op[i] == "New-InboxRule")
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&params[*rule]).unwrap();
    assert!(parsed
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["Value"] == org::FORWARD_ADDRESS));
    assert!(
        op.iter().filter(|o| *o == "MailItemsAccessed").count() > 500,
        "ordinary sessions dominate"
    );
}

#[test]
fn alert_ip_entities_carry_the_location_of_the_story() {
    let s = scenario();
    let expected = [
        (org::ATTACKER_IP, org::ATTACKER_LOCATION),
        (org::C2_IP, org::C2_LOCATION),
        (org::PAYLOAD_IP, org::PAYLOAD_LOCATION),
    ];
    let mut seen: HashMap<String, usize> = HashMap::new();
    for entities in strings(table(s, "SecurityAlert"), "Entities") {
        let parsed: serde_json::Value = serde_json::from_str(&entities).unwrap();
        for entity in parsed.as_array().unwrap() {
            if entity["Type"] != "ip" {
                continue;
            }
            let address = entity["Address"].as_str().unwrap();
            let (_, location) = expected
                .iter()
                .find(|(ip, _)| *ip == address)
                .unwrap_or_else(|| panic!("ip entity {address} is not one of the story's"));
            let place = &entity["Location"];
            assert_eq!(place["CountryCode"], location.country_code, "{address}");
            assert_eq!(place["City"], location.city, "{address}");
            assert_eq!(
                place["Latitude"].as_f64(),
                Some(location.latitude),
                "{address}"
            );
            assert_eq!(
                place["Longitude"].as_f64(),
                Some(location.longitude),
                "{address}"
            );
            assert_eq!(
                place["Asn"].as_u64(),
                Some(u64::from(location.asn)),
                "{address}"
            );
            // Documentation AS numbers (RFC 5398) for documentation addresses.
            assert!((64496..=64511).contains(&location.asn), "{address}");
            *seen.entry(address.to_string()).or_default() += 1;
        }
    }
    // The spray and the mailbox takeover name the attacker, the beacon and the exfiltration the
    // C2 server, the encoded PowerShell the payload's host.
    assert_eq!(seen.get(org::ATTACKER_IP), Some(&2), "{seen:?}");
    assert_eq!(seen.get(org::C2_IP), Some(&2), "{seen:?}");
    assert_eq!(seen.get(org::PAYLOAD_IP), Some(&1), "{seen:?}");
}

#[test]
fn alerts_carry_entities_and_the_hostile_string_is_kept_verbatim() {
    let s = scenario();
    let t = table(s, "SecurityAlert");
    for entities in strings(t, "Entities") {
        let parsed: serde_json::Value = serde_json::from_str(&entities).unwrap();
        assert!(parsed
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["Type"].is_string() && e["$id"].is_string()));
    }
    let entity = strings(t, "CompromisedEntity");
    assert!(
        entity
            .iter()
            .filter(|e| *e == story::COMPROMISED_HOST)
            .count()
            >= 4
    );
    let cmd = strings(table(s, "SecurityEvent"), "CommandLine");
    assert_eq!(
        cmd.iter()
            .filter(|c| c.contains("<img src=x onerror=alert(1)>"))
            .count(),
        1
    );
    // Every indicator of the list shows up somewhere in the data.
    let mut haystack = String::new();
    for table in &s.tables {
        for field in table.schema.fields() {
            if field.data_type() == &DataType::Utf8 {
                haystack.push_str(&strings(table, field.name()).join("\n"));
            }
        }
    }
    for indicator in org::MALICIOUS_INDICATORS {
        assert!(
            haystack.contains(indicator.value),
            "{} appears in the data",
            indicator.value
        );
    }
}

/// The base64 argument between `FromBase64String('` and `'`.
fn quoted_base64(cmd: &str) -> &str {
    let start =
        cmd.find("FromBase64String('").expect("FromBase64String") + "FromBase64String('".len();
    let end = cmd[start..].find('\'').expect("closing quote");
    &cmd[start..start + end]
}

#[test]
fn encoded_payloads_decode_to_the_intended_scripts() {
    let cmd = strings(table(scenario(), "SecurityEvent"), "CommandLine");
    // UTF-16LE -enc.
    let enc = cmd.iter().find(|c| c.contains(" -enc ")).unwrap();
    let b64 = enc.rsplit(' ').next().unwrap();
    let bytes = STANDARD.decode(b64).unwrap();
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let stage1 = String::from_utf16(&units).unwrap();
    assert_eq!(stage1, story::stage1_script());
    assert!(stage1.contains(org::PAYLOAD_URL));
    // gzip + base64.
    let gz = cmd.iter().find(|c| c.contains("GzipStream")).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(STANDARD.decode(quoted_base64(gz)).unwrap().as_slice())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, story::collection_script());
    assert!(text.contains(org::C2_DOMAIN));
    // Deflate + base64 in the scheduled task (and inside the first stage).
    let task = cmd
        .iter()
        .find(|c| c.contains("schtasks.exe") && c.contains("DeflateStream"))
        .unwrap();
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(STANDARD.decode(quoted_base64(task)).unwrap().as_slice())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, story::beacon_script());
    // base64 of base64.
    let nested = cmd
        .iter()
        .find(|c| c.contains("GetString([Convert]::FromBase64String([Text.Encoding]"))
        .unwrap();
    let once = STANDARD.decode(quoted_base64(nested)).unwrap();
    let twice = STANDARD.decode(once).unwrap();
    assert_eq!(String::from_utf8(twice).unwrap(), story::stage2_script());
}

#[test]
fn interactive_logons_match_the_session_processes() {
    let s = scenario();
    let logons = table(s, "LogonEvents");
    let logon_ids: std::collections::HashSet<String> =
        strings(logons, "TargetLogonId").into_iter().collect();
    let events = table(s, "SecurityEvent");
    let accounts = strings(events, "SubjectUserName");
    let ids = strings(events, "SubjectLogonId");
    for (account, id) in accounts.iter().zip(&ids) {
        if org::USERS.iter().any(|u| u.sam == account) {
            assert!(
                logon_ids.contains(id),
                "logon {id} of {account} has its 4624"
            );
        }
    }
}
