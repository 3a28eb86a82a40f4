//! Logon events (4624 success, 4625 failure): the interactive logons of the process simulation,
//! background service, network and scheduled-task logons, a few mistyped passwords, and the
//! password spray against the domain controller that precedes the compromise.

use crate::common::{weekday, DemoRng, DAY, HOUR, MS, SEC};
use crate::org::{host_index, user_sid, HostRole, ATTACKER_IP, HOSTS, NETBIOS_DOMAIN, USERS};
use crate::story;

/// One logon event before it becomes an Arrow row.
pub struct LogonRow {
    /// Event time (ns since the Unix epoch).
    pub t: i64,
    /// Index into [`HOSTS`] of the host that logged the event.
    pub host: u8,
    /// 4624 or 4625.
    pub event_id: i32,
    /// Subject user name (`-` for network logons).
    pub subject_user: String,
    /// Subject domain name.
    pub subject_domain: String,
    /// Subject SID.
    pub subject_sid: String,
    /// Target user name.
    pub target_user: String,
    /// Target domain name.
    pub target_domain: String,
    /// Target SID.
    pub target_sid: String,
    /// Target logon id (`0x...`; `0x0` for failures).
    pub target_logon_id: String,
    /// Logon process name (padded as Windows logs it, e.g. `"User32 "`).
    pub logon_process: &'static str,
    /// Logon type (2 interactive, 3 network, 4 batch, 5 service, 10 remote interactive).
    pub logon_type: i32,
    /// Authentication package.
    pub auth_package: &'static str,
    /// Failure status (`0xc000006d`), `None` on success.
    pub status: Option<&'static str>,
    /// Failure sub-status (`0xc000006a` bad password, `0xc0000064` no such user).
    pub sub_status: Option<&'static str>,
    /// Source address (`-` when local).
    pub ip: String,
    /// Source workstation name (`-` when unknown).
    pub workstation: String,
}

impl LogonRow {
    /// The 4624 that starts an interactive (2) or remote-interactive (10) session.
    #[allow(clippy::too_many_arguments)]
    pub fn success_interactive(
        t: i64,
        host: usize,
        sam: &str,
        rid: u32,
        logon_id: u64,
        logon_type: i32,
        ip: &str,
        workstation: &str,
    ) -> LogonRow {
        LogonRow {
            t,
            host: host as u8,
            event_id: 4624,
            subject_user: format!("{}$", HOSTS[host].name),
            subject_domain: NETBIOS_DOMAIN.into(),
            subject_sid: "S-1-5-18".into(),
            target_user: sam.into(),
            target_domain: NETBIOS_DOMAIN.into(),
            target_sid: user_sid(rid),
            target_logon_id: format!("{logon_id:#x}"),
            logon_process: "User32 ",
            logon_type,
            auth_package: "Negotiate",
            status: None,
            sub_status: None,
            ip: ip.into(),
            workstation: workstation.into(),
        }
    }

    fn network(
        t: i64,
        host: usize,
        sam: &str,
        sid: String,
        logon_id: u64,
        ip: &str,
        workstation: &str,
    ) -> LogonRow {
        LogonRow {
            t,
            host: host as u8,
            event_id: 4624,
            subject_user: "-".into(),
            subject_domain: "-".into(),
            subject_sid: "S-1-0-0".into(),
            target_user: sam.into(),
            target_domain: NETBIOS_DOMAIN.into(),
            target_sid: sid,
            target_logon_id: format!("{logon_id:#x}"),
            logon_process: "Kerberos",
            logon_type: 3,
            auth_package: "Kerberos",
            status: None,
            sub_status: None,
            ip: ip.into(),
            workstation: workstation.into(),
        }
    }

    fn failure(
        t: i64,
        host: usize,
        sam: &str,
        logon_type: i32,
        sub_status: &'static str,
        ip: &str,
        workstation: &str,
    ) -> LogonRow {
        let network = logon_type == 3;
        LogonRow {
            t,
            host: host as u8,
            event_id: 4625,
            subject_user: if network {
                "-".into()
            } else {
                format!("{}$", HOSTS[host].name)
            },
            subject_domain: if network {
                "-".into()
            } else {
                NETBIOS_DOMAIN.into()
            },
            subject_sid: if network {
                "S-1-0-0".into()
            } else {
                "S-1-5-18".into()
            },
            target_user: sam.into(),
            target_domain: if network {
                "".into()
            } else {
                NETBIOS_DOMAIN.into()
            },
            target_sid: "S-1-0-0".into(),
            target_logon_id: "0x0".into(),
            logon_process: if network { "NtLmSsp " } else { "User32 " },
            logon_type,
            auth_package: if network { "NTLM" } else { "Negotiate" },
            status: Some("0xc000006d"),
            sub_status: Some(sub_status),
            ip: ip.into(),
            workstation: workstation.into(),
        }
    }
}

/// Background logons over the week plus the password spray, merged with `interactive` and sorted.
pub fn generate(seed: u64, scale: u32, start: i64, interactive: Vec<LogonRow>) -> Vec<LogonRow> {
    let mut rng = DemoRng::new(seed, 2);
    let mut rows = interactive;
    let dc = host_index("LRK-DC01").unwrap_or(0);
    let fs = host_index("LRK-FS01").unwrap_or(1);
    let next_logon = |rng: &mut DemoRng| 0x1_0000_0000u64 + rng.range(0x10_0000, 0x7ff_ffff) as u64;
    for day in 0..7 {
        let day_start = start + day * DAY;
        let weekend = weekday(start, day_start) >= 5;
        for (h, host) in HOSTS.iter().enumerate() {
            // Service logons (type 5) and scheduled-task logons (type 4) on every host.
            let count = rng.around(18.0 * f64::from(scale), 0.2);
            for _ in 0..count {
                let t = day_start + rng.range(0, DAY / MS - 1) * MS;
                let (user, domain, sid, ltype) = if rng.chance(0.8) {
                    ("SYSTEM", "NT AUTHORITY", "S-1-5-18", 5)
                } else {
                    ("NETWORK SERVICE", "NT AUTHORITY", "S-1-5-20", 5)
                };
                let (user, ltype) = if rng.chance(0.1) {
                    (user, 4)
                } else {
                    (user, ltype)
                };
                rows.push(LogonRow {
                    t,
                    host: h as u8,
                    event_id: 4624,
                    subject_user: format!("{}$", host.name),
                    subject_domain: NETBIOS_DOMAIN.into(),
                    subject_sid: "S-1-5-18".into(),
                    target_user: user.into(),
                    target_domain: domain.into(),
                    target_sid: sid.into(),
                    target_logon_id: if sid == "S-1-5-18" {
                        "0x3e7".into()
                    } else {
                        "0x3e4".into()
                    },
                    logon_process: "Advapi  ",
                    logon_type: ltype,
                    auth_package: "Negotiate",
                    status: None,
                    sub_status: None,
                    ip: "-".into(),
                    workstation: "-".into(),
                });
            }
            // Workstations authenticate to the domain controller and the file server (type 3).
            if host.role == HostRole::Workstation {
                let user = host.primary_user.unwrap_or(0);
                let busy = if weekend { 0.1 } else { 1.0 };
                let count = rng.around(16.0 * busy * f64::from(scale), 0.2);
                for _ in 0..count {
                    let t = day_start + 7 * HOUR + rng.range(0, 11 * 3600 * 1000) * MS;
                    let (target, account, sid) = if rng.chance(0.5) {
                        (
                            dc,
                            format!("{}$", host.name),
                            format!("{}-{}", crate::org::DOMAIN_SID, 2000 + h),
                        )
                    } else {
                        (fs, USERS[user].sam.to_string(), user_sid(USERS[user].rid))
                    };
                    let logon = next_logon(&mut rng);
                    rows.push(LogonRow::network(
                        t, target, &account, sid, logon, host.ip, host.name,
                    ));
                }
                // Now and then a mistyped password at the lock screen, then a success.
                if !weekend && rng.chance(0.35) {
                    let t = day_start + 8 * HOUR + rng.range(0, 9 * 3600) * SEC;
                    rows.push(LogonRow::failure(
                        t,
                        h,
                        USERS[user].sam,
                        2,
                        "0xc000006a",
                        "127.0.0.1",
                        host.name,
                    ));
                    let logon = next_logon(&mut rng);
                    rows.push(LogonRow::success_interactive(
                        t + rng.range(4, 20) * SEC,
                        h,
                        USERS[user].sam,
                        USERS[user].rid,
                        logon,
                        7,
                        "127.0.0.1",
                        host.name,
                    ));
                }
            }
        }
        // Users without a managed workstation reach the file server from their laptops.
        if !weekend {
            let count = rng.around(40.0 * f64::from(scale), 0.2);
            for _ in 0..count {
                let u = 7 + rng.below((USERS.len() - 7) as u64) as usize;
                let t = day_start + 7 * HOUR + rng.range(0, 11 * 3600 * 1000) * MS;
                let ip = format!("10.20.2.{}", 20 + u);
                let ws = format!("LRK-LT{:03}", 200 + u);
                let logon = next_logon(&mut rng);
                rows.push(LogonRow::network(
                    t,
                    fs,
                    USERS[u].sam,
                    user_sid(USERS[u].rid),
                    logon,
                    &ip,
                    &ws,
                ));
            }
        }
    }
    // The password spray: many accounts, one password, from one external address.
    let spray_start = start + story::SPRAY_START;
    let spacing =
        (story::SPRAY_SUCCESS - story::SPRAY_START - 20 * SEC) / story::SPRAY_FAILURES as i64;
    let guessed = [
        "administrator",
        "admin",
        "backup",
        "scanner",
        "svc_sql",
        "test",
    ];
    for i in 0..story::SPRAY_FAILURES {
        let t = spray_start + i as i64 * spacing + rng.range(0, spacing / MS / 2) * MS;
        let (name, sub_status) = if i % 5 == 4 {
            (guessed[i / 5 % guessed.len()].to_string(), "0xc0000064")
        } else {
            (
                USERS[1 + i % (USERS.len() - 1)].sam.to_string(),
                "0xc000006a",
            )
        };
        rows.push(LogonRow::failure(
            t,
            dc,
            &name,
            3,
            sub_status,
            ATTACKER_IP,
            "DESKTOP-7QK2M1S",
        ));
    }
    let compromised = &USERS[story::COMPROMISED_USER];
    let mut success = LogonRow::network(
        start + story::SPRAY_SUCCESS,
        dc,
        compromised.sam,
        user_sid(compromised.rid),
        0x1_0a3f_5c21,
        ATTACKER_IP,
        "DESKTOP-7QK2M1S",
    );
    success.logon_process = "NtLmSsp ";
    success.auth_package = "NTLM";
    rows.push(success);
    rows.sort_by_key(|r| (r.t, r.host));
    rows
}
