//! The fictional organization of the scenario: its domain, hosts, users and addresses, plus the
//! attacker's indicators. Everything here is fixed (independent of the seed) so that notebooks,
//! pages and tests can name them.

/// NetBIOS name of the Active Directory domain.
pub const NETBIOS_DOMAIN: &str = "LARKSPUR";
/// DNS / UPN suffix of the organization.
pub const DNS_DOMAIN: &str = "larkspur-labs.com";
/// The Log Analytics workspace (tenant) id written to `TenantId`.
pub const TENANT_ID: &str = "3b1f6c2e-8d4a-4f7e-9c21-6a5d0e7b9f14";
/// SID prefix of the domain's accounts.
pub const DOMAIN_SID: &str = "S-1-5-21-3623811015-3361044348-30300820";
/// The organization's public egress address (office NAT), seen by Office 365.
pub const OFFICE_EGRESS_IP: &str = "192.0.2.10";

/// What a host does; decides its services and whether users log on to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostRole {
    /// Domain controller and DNS server.
    DomainController,
    /// File server.
    FileServer,
    /// A user's workstation.
    Workstation,
}

/// One Windows host.
#[derive(Clone, Copy, Debug)]
pub struct Host {
    /// NetBIOS computer name (the `Computer` column).
    pub name: &'static str,
    /// Internal IPv4 address.
    pub ip: &'static str,
    /// Role of the host.
    pub role: HostRole,
    /// Index into [`USERS`] of the workstation's primary user.
    pub primary_user: Option<usize>,
    /// Agent id (`SourceComputerId`).
    pub agent_id: &'static str,
}

/// The hosts, in `Computer` sort order.
pub const HOSTS: &[Host] = &[
    Host {
        name: "LRK-DC01",
        ip: "10.20.0.10",
        role: HostRole::DomainController,
        primary_user: None,
        agent_id: "a4c1e7d2-51b9-4e0f-8a63-2f9d7c1b0e41",
    },
    Host {
        name: "LRK-FS01",
        ip: "10.20.0.11",
        role: HostRole::FileServer,
        primary_user: None,
        agent_id: "c9e2b7a0-3f14-4d8b-b5e6-7a1c0d9f2e52",
    },
    Host {
        name: "LRK-WS101",
        ip: "10.20.1.101",
        role: HostRole::Workstation,
        primary_user: Some(1),
        agent_id: "0e7d3c1a-9b24-4f5e-8d17-c6a2b9e0f163",
    },
    Host {
        name: "LRK-WS102",
        ip: "10.20.1.102",
        role: HostRole::Workstation,
        primary_user: Some(2),
        agent_id: "5b8a1f0c-2d37-4e9a-b1c4-e3f7d6a20b74",
    },
    Host {
        name: "LRK-WS103",
        ip: "10.20.1.103",
        role: HostRole::Workstation,
        primary_user: Some(3),
        agent_id: "7f2e9d4b-6c10-4a3b-9e58-1d0c5b7a3c85",
    },
    Host {
        name: "LRK-WS104",
        ip: "10.20.1.104",
        role: HostRole::Workstation,
        primary_user: Some(0),
        agent_id: "2a6c0b9e-4e71-4b2c-a3d9-8f5e1c4b7d96",
    },
    Host {
        name: "LRK-WS105",
        ip: "10.20.1.105",
        role: HostRole::Workstation,
        primary_user: Some(4),
        agent_id: "9d4f7a2c-1b58-4c6d-8e20-b7c3a9f1e0a7",
    },
    Host {
        name: "LRK-WS106",
        ip: "10.20.1.106",
        role: HostRole::Workstation,
        primary_user: Some(5),
        agent_id: "e1b5c8f3-7a92-4d0e-b6c1-3e9a2d5f8cb8",
    },
    Host {
        name: "LRK-WS107",
        ip: "10.20.1.107",
        role: HostRole::Workstation,
        primary_user: Some(6),
        agent_id: "4c9a3e6d-8f05-4b7a-9d32-5b1e7c0a4dc9",
    },
];

/// One user of the organization.
#[derive(Clone, Copy, Debug)]
pub struct User {
    /// sAMAccountName.
    pub sam: &'static str,
    /// Display name.
    pub display: &'static str,
    /// Relative id of the account SID.
    pub rid: u32,
}

/// The users; index 0 is the compromised user, index 1 the IT administrator.
pub const USERS: &[User] = &[
    User {
        sam: "mbennett",
        display: "Maya Bennett",
        rid: 1104,
    },
    User {
        sam: "jdoyle",
        display: "James Doyle",
        rid: 1105,
    },
    User {
        sam: "rpatel",
        display: "Riya Patel",
        rid: 1106,
    },
    User {
        sam: "tnguyen",
        display: "Thanh Nguyen",
        rid: 1107,
    },
    User {
        sam: "soconnor",
        display: "Siobhan O'Connor",
        rid: 1108,
    },
    User {
        sam: "lgarcia",
        display: "Luis Garcia",
        rid: 1109,
    },
    User {
        sam: "akowalski",
        display: "Anna Kowalski",
        rid: 1110,
    },
    User {
        sam: "bchen",
        display: "Bo Chen",
        rid: 1111,
    },
    User {
        sam: "dmiller",
        display: "Dana Miller",
        rid: 1112,
    },
    User {
        sam: "efischer",
        display: "Emil Fischer",
        rid: 1113,
    },
    User {
        sam: "fmorales",
        display: "Fernanda Morales",
        rid: 1114,
    },
    User {
        sam: "gwright",
        display: "Grace Wright",
        rid: 1115,
    },
    User {
        sam: "hsato",
        display: "Haruto Sato",
        rid: 1116,
    },
    User {
        sam: "ijohansson",
        display: "Ingrid Johansson",
        rid: 1117,
    },
    User {
        sam: "kadeyemi",
        display: "Kemi Adeyemi",
        rid: 1118,
    },
    User {
        sam: "lrossi",
        display: "Lorenzo Rossi",
        rid: 1119,
    },
    User {
        sam: "mkhan",
        display: "Mariam Khan",
        rid: 1120,
    },
    User {
        sam: "nlindqvist",
        display: "Nils Lindqvist",
        rid: 1121,
    },
    User {
        sam: "opetrov",
        display: "Oleg Petrov",
        rid: 1122,
    },
    User {
        sam: "pwalsh",
        display: "Padraig Walsh",
        rid: 1123,
    },
    User {
        sam: "qhuang",
        display: "Qing Huang",
        rid: 1124,
    },
    User {
        sam: "rsilva",
        display: "Rafael Silva",
        rid: 1125,
    },
    User {
        sam: "smuller",
        display: "Sophie Muller",
        rid: 1126,
    },
    User {
        sam: "tbrooks",
        display: "Tom Brooks",
        rid: 1127,
    },
    User {
        sam: "uokafor",
        display: "Uche Okafor",
        rid: 1128,
    },
    User {
        sam: "vdubois",
        display: "Valerie Dubois",
        rid: 1129,
    },
    User {
        sam: "wtanaka",
        display: "Wren Tanaka",
        rid: 1130,
    },
    User {
        sam: "xmartin",
        display: "Ximena Martin",
        rid: 1131,
    },
    User {
        sam: "ykim",
        display: "Yuna Kim",
        rid: 1132,
    },
    User {
        sam: "zahmed",
        display: "Zain Ahmed",
        rid: 1133,
    },
];

/// The IT administrator's separate admin account (used on the servers).
pub const ADMIN_ACCOUNT: &str = "adm-jdoyle";
/// Relative id of [`ADMIN_ACCOUNT`].
pub const ADMIN_RID: u32 = 1150;

/// The user principal name of a user.
pub fn upn(sam: &str) -> String {
    format!("{sam}@{DNS_DOMAIN}")
}

/// The SID of a domain account.
pub fn user_sid(rid: u32) -> String {
    format!("{DOMAIN_SID}-{rid}")
}

/// Index into [`HOSTS`] of the host of `name`.
pub fn host_index(name: &str) -> Option<usize> {
    HOSTS.iter().position(|h| h.name == name)
}

/// Kind of a malicious indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndicatorKind {
    /// IPv4 address.
    Ipv4,
    /// DNS name.
    Domain,
    /// Full URL.
    Url,
    /// SHA-256 file hash (lowercase hex).
    Sha256,
    /// MD5 file hash (lowercase hex).
    Md5,
    /// E-mail address.
    Email,
}

impl IndicatorKind {
    /// The observable type name used by TI feeds (`ipv4`, `dns`, `url`, `sha256_hash`, `md5_hash`, `email`).
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ipv4 => "ipv4",
            IndicatorKind::Domain => "dns",
            IndicatorKind::Url => "url",
            IndicatorKind::Sha256 => "sha256_hash",
            IndicatorKind::Md5 => "md5_hash",
            IndicatorKind::Email => "email",
        }
    }
}

/// One malicious indicator of the scenario (later shipped as the local TI feed).
#[derive(Clone, Copy, Debug)]
pub struct Indicator {
    /// What kind of observable this is.
    pub kind: IndicatorKind,
    /// The observable.
    pub value: &'static str,
    /// Severity a TI feed reports: `high`, `warning` or `information`.
    pub severity: &'static str,
    /// What it is in the story.
    pub description: &'static str,
}

/// Source of the password spray and of the attacker's mailbox session.
pub const ATTACKER_IP: &str = "203.0.113.77";
/// Command-and-control server address.
pub const C2_IP: &str = "198.51.100.23";
/// Command-and-control domain.
pub const C2_DOMAIN: &str = "telemetry-sync.example.net";
/// Host of the first-stage payload.
pub const PAYLOAD_IP: &str = "198.51.100.41";
/// Domain of the first-stage payload.
pub const PAYLOAD_DOMAIN: &str = "files.docsign-verify.example.com";
/// URL of the first-stage payload.
pub const PAYLOAD_URL: &str = "http://files.docsign-verify.example.com/dl/upd.bin";
/// Where an alert provider places an address: the `Location` of a Sentinel `ip` entity.
///
/// The scenario's attacker addresses are documentation ranges (RFC 5737), which no geolocation
/// database places; the alerts carry the place the story gives them, and documentation AS numbers
/// (RFC 5398).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IpLocation {
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: &'static str,
    /// Country name.
    pub country_name: &'static str,
    /// State or region.
    pub state: &'static str,
    /// City.
    pub city: &'static str,
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// Autonomous system number.
    pub asn: u32,
    /// Organization announcing the address (no dots: it is not a domain).
    pub organization: &'static str,
}

/// Location of [`ATTACKER_IP`] in the alerts.
pub const ATTACKER_LOCATION: IpLocation = IpLocation {
    country_code: "NL",
    country_name: "Netherlands",
    state: "North Holland",
    city: "Amsterdam",
    latitude: 52.37,
    longitude: 4.89,
    asn: 64501,
    organization: "Example VPS Hosting BV",
};
/// Location of [`C2_IP`] in the alerts.
pub const C2_LOCATION: IpLocation = IpLocation {
    country_code: "SG",
    country_name: "Singapore",
    state: "Central Singapore",
    city: "Singapore",
    latitude: 1.29,
    longitude: 103.85,
    asn: 64502,
    organization: "Example Cloud Pte Ltd",
};
/// Location of [`PAYLOAD_IP`] in the alerts.
pub const PAYLOAD_LOCATION: IpLocation = IpLocation {
    country_code: "DE",
    country_name: "Germany",
    state: "Hesse",
    city: "Frankfurt am Main",
    latitude: 50.11,
    longitude: 8.68,
    asn: 64503,
    organization: "Example Hosting GmbH",
};
/// Credential-phishing domain some users browse to (blocked by the proxy).
pub const PHISH_DOMAIN: &str = "login-micros0ft-secure.example.com";
/// Address of [`PHISH_DOMAIN`].
pub const PHISH_IP: &str = "203.0.113.145";
/// Malvertising domain visited once.
pub const MALVERTISING_DOMAIN: &str = "cdn-adsrv.example.org";
/// Address of [`MALVERTISING_DOMAIN`].
pub const MALVERTISING_IP: &str = "198.51.100.88";
/// External address the attacker's inbox rule forwards mail to.
pub const FORWARD_ADDRESS: &str = "m.bennett.archive@mailbox-relay.example.org";
/// SHA-256 of the payload `msupd.exe`.
pub const PAYLOAD_SHA256: &str = "9f2c4e81b7a05d3c6e19f0a8b24d7c53e1f9a06b8d2c4e7f13a5b9c0d6e8f247";
/// MD5 of the payload `msupd.exe`.
pub const PAYLOAD_MD5: &str = "5d41c8e2f09b7a36c1e4d8b02f7a9c63";

/// The malicious indicators of the scenario.
pub const MALICIOUS_INDICATORS: &[Indicator] = &[
    Indicator {
        kind: IndicatorKind::Ipv4,
        value: ATTACKER_IP,
        severity: "high",
        description: "Password spray source; attacker's mailbox session",
    },
    Indicator {
        kind: IndicatorKind::Ipv4,
        value: C2_IP,
        severity: "high",
        description: "Command-and-control server (beacon every ~300 s, exfiltration)",
    },
    Indicator {
        kind: IndicatorKind::Ipv4,
        value: PAYLOAD_IP,
        severity: "high",
        description: "First-stage payload download server",
    },
    Indicator {
        kind: IndicatorKind::Ipv4,
        value: PHISH_IP,
        severity: "warning",
        description: "Credential-phishing site",
    },
    Indicator {
        kind: IndicatorKind::Ipv4,
        value: MALVERTISING_IP,
        severity: "warning",
        description: "Malvertising redirector",
    },
    Indicator {
        kind: IndicatorKind::Domain,
        value: C2_DOMAIN,
        severity: "high",
        description: "Command-and-control domain",
    },
    Indicator {
        kind: IndicatorKind::Domain,
        value: PAYLOAD_DOMAIN,
        severity: "high",
        description: "First-stage payload domain",
    },
    Indicator {
        kind: IndicatorKind::Domain,
        value: PHISH_DOMAIN,
        severity: "warning",
        description: "Credential-phishing domain",
    },
    Indicator {
        kind: IndicatorKind::Domain,
        value: MALVERTISING_DOMAIN,
        severity: "warning",
        description: "Malvertising domain",
    },
    Indicator {
        kind: IndicatorKind::Url,
        value: PAYLOAD_URL,
        severity: "high",
        description: "First-stage payload URL",
    },
    Indicator {
        kind: IndicatorKind::Sha256,
        value: PAYLOAD_SHA256,
        severity: "high",
        description: "msupd.exe backdoor",
    },
    Indicator {
        kind: IndicatorKind::Md5,
        value: PAYLOAD_MD5,
        severity: "high",
        description: "msupd.exe backdoor",
    },
    Indicator {
        kind: IndicatorKind::Email,
        value: FORWARD_ADDRESS,
        severity: "warning",
        description: "Exfiltration mailbox of the forwarding rule",
    },
];
