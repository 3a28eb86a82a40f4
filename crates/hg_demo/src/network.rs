//! Network tables: DNS queries seen by the domain controller (`DnsEvents`), web-proxy / firewall
//! records (`CommonSecurityLog`) and hourly bytes sent per host (`NetworkBytes`).

use crate::common::{weekday, DemoRng, DAY, HOUR, MIN, MS, SEC};
use crate::org::{
    host_index, HostRole, C2_DOMAIN, C2_IP, HOSTS, MALVERTISING_DOMAIN, MALVERTISING_IP,
    NETBIOS_DOMAIN, PAYLOAD_DOMAIN, PAYLOAD_IP, PAYLOAD_URL, PHISH_DOMAIN, PHISH_IP, USERS,
};
use crate::story;

/// A window during which a user is signed in on a workstation (browsing happens then).
#[derive(Clone, Copy, Debug)]
pub struct SessionWindow {
    /// Index into [`HOSTS`].
    pub host: usize,
    /// Index into [`USERS`], `None` for the administrator's account.
    pub user: Option<usize>,
    /// Start (ns since the epoch).
    pub start: i64,
    /// End (ns since the epoch).
    pub end: i64,
}

/// One DNS query row.
pub struct DnsRow {
    /// Query time.
    pub t: i64,
    /// Client address.
    pub client_ip: String,
    /// Queried name.
    pub name: String,
    /// Answer addresses, comma-separated ("" when none).
    pub addresses: String,
    /// Query type (`A`, `AAAA`).
    pub query_type: &'static str,
    /// DNS result code (0 NOERROR, 3 NXDOMAIN).
    pub result_code: i32,
}

/// One proxy / firewall row.
pub struct ProxyRow {
    /// Request time.
    pub t: i64,
    /// Source (internal) address.
    pub source_ip: String,
    /// Source port.
    pub source_port: i32,
    /// `DOMAIN\user` of the request, "" when unauthenticated.
    pub user: String,
    /// Destination address.
    pub dest_ip: String,
    /// Destination port.
    pub dest_port: i32,
    /// Destination host name.
    pub dest_host: String,
    /// Full request URL.
    pub url: String,
    /// HTTP method.
    pub method: &'static str,
    /// User agent.
    pub user_agent: &'static str,
    /// Bytes sent by the client.
    pub sent: i64,
    /// Bytes received by the client.
    pub received: i64,
    /// `allow` or `block-url`.
    pub action: &'static str,
    /// URL category of the proxy.
    pub category: &'static str,
}

const CHROME_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
const EDGE_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0";
const OFFICE_UA: &str =
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";
const SYSTEM_UA: &str = "Microsoft-Delivery-Optimization/10.0";
const POWERSHELL_UA: &str =
    "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-GB) WindowsPowerShell/5.1.22621.4391";
const BACKDOOR_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36";

/// Benign sites: (name, address, category, weight, path examples).
const SITES: &[(&str, &str, &str, u32, &[&str])] = &[
    (
        "login.microsoftonline.com",
        "20.190.159.2",
        "computer-and-internet-info",
        14,
        &["/common/oauth2/v2.0/authorize", "/common/login"],
    ),
    (
        "outlook.office365.com",
        "52.96.165.18",
        "web-based-email",
        16,
        &["/mail/", "/owa/service.svc"],
    ),
    (
        "teams.microsoft.com",
        "52.113.194.132",
        "business-and-economy",
        12,
        &["/v2/", "/api/mt/emea/beta/users"],
    ),
    (
        "www.office.com",
        "13.107.6.156",
        "business-and-economy",
        6,
        &["/", "/launch/word"],
    ),
    (
        "larkspurlabs.sharepoint.com",
        "13.107.136.10",
        "online-storage-and-backup",
        12,
        &[
            "/sites/Finance/Shared%20Documents",
            "/sites/Projects/SitePages/Home.aspx",
        ],
    ),
    (
        "www.google.com",
        "142.250.187.196",
        "search-engines",
        14,
        &[
            "/search?q=vat+rates+2026",
            "/search?q=excel+xlookup",
            "/search?q=train+times",
        ],
    ),
    (
        "www.bing.com",
        "13.107.21.200",
        "search-engines",
        5,
        &["/search?q=weather", "/search?q=holiday+calendar"],
    ),
    (
        "github.com",
        "140.82.121.4",
        "computer-and-internet-info",
        4,
        &["/", "/notifications"],
    ),
    (
        "en.wikipedia.org",
        "185.15.59.224",
        "reference-and-research",
        5,
        &["/wiki/Double-entry_bookkeeping", "/wiki/ISO_8601"],
    ),
    (
        "www.bbc.co.uk",
        "151.101.0.81",
        "news",
        6,
        &["/news", "/weather"],
    ),
    (
        "stackoverflow.com",
        "104.18.32.7",
        "computer-and-internet-info",
        3,
        &["/questions/tagged/powershell", "/questions/tagged/excel"],
    ),
    (
        "www.linkedin.com",
        "13.107.42.14",
        "social-networking",
        5,
        &["/feed/", "/jobs/"],
    ),
    (
        "www.amazon.co.uk",
        "54.239.33.91",
        "shopping",
        3,
        &["/", "/gp/cart/view.html"],
    ),
    (
        "zoom.us",
        "170.114.52.2",
        "business-and-economy",
        3,
        &["/j/81234567890", "/signin"],
    ),
];

/// Addresses the servers and Windows itself contact (updates, telemetry).
const SYSTEM_SITES: &[(&str, &str, &str)] = &[
    (
        "settings-win.data.microsoft.com",
        "20.42.65.92",
        "/settings/v3.0/wsd/muse",
    ),
    (
        "fe3cr.delivery.mp.microsoft.com",
        "52.137.102.105",
        "/ClientWebService/client.asmx",
    ),
    (
        "v10.events.data.microsoft.com",
        "20.189.173.3",
        "/OneCollector/1.0/",
    ),
    ("go.microsoft.com", "23.55.124.32", "/fwlink/?LinkID=121721"),
    (
        "ctldl.windowsupdate.com",
        "93.184.221.240",
        "/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
    ),
];

/// Generates the DNS and proxy rows, both sorted by time.
pub fn generate(
    seed: u64,
    scale: u32,
    start: i64,
    end: i64,
    sessions: &[SessionWindow],
) -> (Vec<DnsRow>, Vec<ProxyRow>) {
    let mut rng = DemoRng::new(seed, 3);
    let mut dns = Vec::new();
    let mut proxy = Vec::new();
    // Browsing during sessions.
    for session in sessions {
        let host = &HOSTS[session.host];
        let user = match session.user {
            Some(u) => format!("{}\\{}", NETBIOS_DOMAIN.to_lowercase(), USERS[u].sam),
            None => format!(
                "{}\\{}",
                NETBIOS_DOMAIN.to_lowercase(),
                crate::org::ADMIN_ACCOUNT
            ),
        };
        let hours = (session.end - session.start) as f64 / HOUR as f64;
        let visits = rng.around(hours * 6.0 * f64::from(scale), 0.15);
        for _ in 0..visits {
            let t = session.start
                + rng.range(
                    60_000,
                    ((session.end - session.start) / MS - 60_000).max(60_001),
                ) * MS;
            let weights: Vec<(usize, u32)> =
                SITES.iter().enumerate().map(|(i, s)| (i, s.3)).collect();
            let site = &SITES[*rng.weighted(&weights)];
            let ua = if site.0 == "outlook.office365.com" && rng.chance(0.5) {
                OFFICE_UA
            } else if rng.chance(0.7) {
                CHROME_UA
            } else {
                EDGE_UA
            };
            if rng.chance(0.55) {
                let lead = rng_ms(&mut rng, 5, 120);
                dns.push(dns_row(&mut rng, t - lead, host.ip, site.0, site.1));
            }
            let requests = rng.range(1, 5);
            let mut rt = t;
            for _ in 0..requests {
                let path = *rng.pick(site.4);
                let sent = rng.range(400, 4_000);
                let received = rng.range(2_000, 900_000);
                proxy.push(ProxyRow {
                    t: rt,
                    source_ip: host.ip.into(),
                    source_port: rng.range(49_152, 65_535) as i32,
                    user: user.clone(),
                    dest_ip: site.1.into(),
                    dest_port: 443,
                    dest_host: site.0.into(),
                    url: format!("https://{}{}", site.0, path),
                    method: if rng.chance(0.85) { "GET" } else { "POST" },
                    user_agent: ua,
                    sent,
                    received,
                    action: "allow",
                    category: site.2,
                });
                rt += rng_ms(&mut rng, 50, 45_000);
            }
        }
    }
    // Windows and server background traffic on every host, every day.
    for host in HOSTS {
        let per_day = if host.role == HostRole::Workstation {
            10.0
        } else {
            14.0
        } * f64::from(scale);
        for day in 0..7 {
            let count = rng.around(per_day, 0.2);
            for _ in 0..count {
                let t = start + day * DAY + rng.range(0, DAY / MS - 1) * MS;
                let (name, ip, path) = *rng.pick(SYSTEM_SITES);
                if rng.chance(0.5) {
                    let lead = rng_ms(&mut rng, 5, 80);
                    dns.push(dns_row(&mut rng, t - lead, host.ip, name, ip));
                }
                proxy.push(ProxyRow {
                    t,
                    source_ip: host.ip.into(),
                    source_port: rng.range(49_152, 65_535) as i32,
                    user: String::new(),
                    dest_ip: ip.into(),
                    dest_port: if name.starts_with("ctldl") { 80 } else { 443 },
                    dest_host: name.into(),
                    url: format!(
                        "{}://{}{}",
                        if name.starts_with("ctldl") {
                            "http"
                        } else {
                            "https"
                        },
                        name,
                        path
                    ),
                    method: "GET",
                    user_agent: SYSTEM_UA,
                    sent: rng.range(300, 2_500),
                    received: rng.range(1_000, 400_000),
                    action: "allow",
                    category: "computer-and-internet-info",
                });
            }
        }
    }
    attack_traffic(&mut rng, start, end, &mut dns, &mut proxy);
    dns.sort_by(|a, b| (a.t, &a.client_ip).cmp(&(b.t, &b.client_ip)));
    proxy.sort_by(|a, b| {
        (a.t, &a.source_ip, a.source_port).cmp(&(b.t, &b.source_ip, b.source_port))
    });
    (dns, proxy)
}

fn rng_ms(rng: &mut DemoRng, lo: i64, hi: i64) -> i64 {
    rng.range(lo, hi) * MS
}

fn dns_row(rng: &mut DemoRng, t: i64, client: &str, name: &str, ip: &str) -> DnsRow {
    let aaaa = rng.chance(0.1);
    DnsRow {
        t,
        client_ip: client.into(),
        name: name.into(),
        addresses: if aaaa { String::new() } else { ip.into() },
        query_type: if aaaa { "AAAA" } else { "A" },
        result_code: 0,
    }
}

#[allow(clippy::too_many_arguments)]
fn malicious_request(
    t: i64,
    host: &str,
    user: &str,
    dest_ip: &str,
    dest_host: &str,
    url: String,
    method: &'static str,
    user_agent: &'static str,
    sent: i64,
    received: i64,
    action: &'static str,
    category: &'static str,
    port: i32,
) -> ProxyRow {
    let h = host_index(host).unwrap_or(0);
    ProxyRow {
        t,
        source_ip: HOSTS[h].ip.into(),
        source_port: 49_152 + ((t / MS) % 16_000) as i32,
        user: format!("{}\\{}", NETBIOS_DOMAIN.to_lowercase(), user),
        dest_ip: dest_ip.into(),
        dest_port: port,
        dest_host: dest_host.into(),
        url,
        method,
        user_agent,
        sent,
        received,
        action,
        category,
    }
}

fn attack_traffic(
    rng: &mut DemoRng,
    start: i64,
    end: i64,
    dns: &mut Vec<DnsRow>,
    proxy: &mut Vec<ProxyRow>,
) {
    let victim_host = story::COMPROMISED_HOST;
    let victim_ip = HOSTS[host_index(victim_host).unwrap_or(0)].ip;
    let victim = USERS[story::COMPROMISED_USER].sam;
    let a = |name: &str, ip: &str, t: i64, client: &str| DnsRow {
        t,
        client_ip: client.into(),
        name: name.into(),
        addresses: ip.into(),
        query_type: "A",
        result_code: 0,
    };
    // Payload download by the encoded PowerShell.
    let t = start + story::PAYLOAD_DOWNLOAD;
    dns.push(a(PAYLOAD_DOMAIN, PAYLOAD_IP, t - 41 * MS, victim_ip));
    proxy.push(malicious_request(
        t,
        victim_host,
        victim,
        PAYLOAD_IP,
        PAYLOAD_DOMAIN,
        PAYLOAD_URL.into(),
        "GET",
        POWERSHELL_UA,
        412,
        284_672,
        "allow",
        "unknown",
        80,
    ));
    // Collection upload, second stage, then the two exfiltration uploads.
    let upload = format!("https://{C2_DOMAIN}/api/v2/upload");
    proxy.push(malicious_request(
        start + story::COLLECTION + 6 * SEC,
        victim_host,
        victim,
        C2_IP,
        C2_DOMAIN,
        upload.clone(),
        "POST",
        POWERSHELL_UA,
        48_913,
        312,
        "allow",
        "unknown",
        443,
    ));
    proxy.push(malicious_request(
        start + story::STAGE2_FETCH + 2 * SEC,
        victim_host,
        victim,
        PAYLOAD_IP,
        PAYLOAD_IP,
        format!("http://{PAYLOAD_IP}/cfg/stage2.ps1"),
        "GET",
        POWERSHELL_UA,
        398,
        7_214,
        "allow",
        "unknown",
        80,
    ));
    for exfil in [story::EXFIL_1, story::EXFIL_2] {
        let t = start + exfil + 40 * SEC;
        dns.push(a(C2_DOMAIN, C2_IP, t - 30 * MS, victim_ip));
        proxy.push(malicious_request(
            t,
            victim_host,
            victim,
            C2_IP,
            C2_DOMAIN,
            upload.clone(),
            "POST",
            POWERSHELL_UA,
            story::EXFIL_BYTES,
            845,
            "allow",
            "unknown",
            443,
        ));
    }
    // The beacon: every BEACON_PERIOD with uniform jitter, until the end of the week.
    let mut slot = start + story::BEACON_START;
    let mut last_dns = start - DAY;
    let poll = format!("https://{C2_DOMAIN}/api/v2/poll?id=4c4c4544-0042-3510-8052-b4c04f4b4d32");
    let mut first = true;
    while slot < end {
        let jitter = if first {
            0
        } else {
            rng.range(-story::BEACON_JITTER / MS, story::BEACON_JITTER / MS) * MS
        };
        first = false;
        let t = slot + jitter;
        if t >= end {
            break;
        }
        if t - last_dns >= HOUR {
            dns.push(a(C2_DOMAIN, C2_IP, t - rng.range(10, 60) * MS, victim_ip));
            last_dns = t;
        }
        let received = if rng.chance(0.03) {
            rng.range(2_000, 9_000)
        } else {
            rng.range(180, 260)
        };
        proxy.push(malicious_request(
            t,
            victim_host,
            victim,
            C2_IP,
            C2_DOMAIN,
            poll.clone(),
            "GET",
            BACKDOOR_UA,
            rng.range(520, 610),
            received,
            "allow",
            "unknown",
            443,
        ));
        slot += story::BEACON_PERIOD;
    }
    // Two users click a credential-phishing link on Tuesday; the proxy blocks it.
    for (host, user, at) in [
        ("LRK-WS102", "rpatel", 10 * HOUR + 14 * MIN + 3 * SEC),
        ("LRK-WS106", "lgarcia", 14 * HOUR + 52 * MIN + 40 * SEC),
    ] {
        let t = start + DAY + at;
        let ip = HOSTS[host_index(host).unwrap_or(0)].ip;
        dns.push(a(PHISH_DOMAIN, PHISH_IP, t - 35 * MS, ip));
        proxy.push(malicious_request(t, host, user, PHISH_IP, PHISH_DOMAIN, format!("https://{PHISH_DOMAIN}/common/oauth2/authorize?client_id=4765445b&login_hint={user}%40larkspur-labs.com"), "GET", CHROME_UA, 1_204, 0, "block-url", "phishing", 443));
    }
    // A malvertising redirect on Thursday, allowed.
    let t = start + 3 * DAY + 13 * HOUR + 20 * MIN + 11 * SEC;
    let ip = HOSTS[host_index("LRK-WS103").unwrap_or(0)].ip;
    dns.push(a(MALVERTISING_DOMAIN, MALVERTISING_IP, t - 22 * MS, ip));
    proxy.push(malicious_request(t, "LRK-WS103", "tnguyen", MALVERTISING_IP, MALVERTISING_DOMAIN, format!("http://{MALVERTISING_DOMAIN}/r/aff?cid=88213&u=aHR0cDovL2Nkbi1hZHNydi5leGFtcGxlLm9yZy9sYW5k"), "GET", CHROME_UA, 733, 18_442, "allow", "malware", 80));
    // One mistyped internal name (NXDOMAIN), for realism.
    dns.push(DnsRow {
        t: start + 2 * DAY + 11 * HOUR,
        client_ip: HOSTS[4].ip.into(),
        name: "intranet.larkspur-lab.com".into(),
        addresses: String::new(),
        query_type: "A",
        result_code: 3,
    });
}

/// Hourly bytes sent per host: a daily cycle, lower weekends, bounded noise, and exactly two
/// outliers (the exfiltration hours on the compromised host). Returns (time, host, bytes) rows.
pub fn network_bytes(seed: u64, start: i64) -> Vec<(i64, usize, i64)> {
    let mut rng = DemoRng::new(seed, 4);
    let mut rows = Vec::new();
    let victim = host_index(story::COMPROMISED_HOST).unwrap_or(0);
    let outliers = [story::EXFIL_1 / HOUR * HOUR, story::EXFIL_2 / HOUR * HOUR];
    for hour in 0..7 * 24 {
        let t = start + hour * HOUR;
        let hour_of_day = (hour % 24) as f64;
        let weekend = weekday(start, t) >= 5;
        for (h, host) in HOSTS.iter().enumerate() {
            let (base, amplitude, weekend_factor) = match host.role {
                HostRole::DomainController => (180e6, 0.35, 0.6),
                HostRole::FileServer => (900e6, 0.5, 0.35),
                HostRole::Workstation => (40e6, 0.8, 0.25),
            };
            let cycle =
                1.0 + amplitude * ((hour_of_day - 14.0) / 24.0 * std::f64::consts::TAU).cos();
            let noise = 1.0 + 0.08 * (2.0 * rng.unit() - 1.0);
            let day_factor = if weekend { weekend_factor } else { 1.0 };
            let mut bytes = (base * cycle * day_factor * noise).round() as i64;
            if h == victim && outliers.contains(&(hour * HOUR)) {
                bytes += story::EXFIL_BYTES;
            }
            rows.push((t, h, bytes));
        }
    }
    rows
}
