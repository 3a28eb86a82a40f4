//! Observables: classification through `hg_ioc`, and the checks before anything is sent upstream.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use hg_ioc::{IocExtractor, IocMatch, IocType};
use serde::{Deserialize, Serialize};

/// Longest observable accepted (a longer value is reported as bad format, never looked up).
pub const MAX_OBSERVABLE_LEN: usize = 8 * 1024;

/// An observable ready to look up.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Observable {
    /// As given.
    pub value: String,
    /// Type name (`ipv4`, `dns`, `sha256_hash`, ...), `unknown` when not one indicator.
    pub ioc_type: String,
    /// Refanged canonical value (lower-case host and hashes).
    pub canonical: String,
    /// The parsed type, `None` for `unknown`.
    #[serde(skip)]
    pub kind: Option<IocType>,
}

fn extractor() -> &'static IocExtractor {
    static EXTRACTOR: OnceLock<IocExtractor> = OnceLock::new();
    EXTRACTOR.get_or_init(|| {
        IocExtractor::builder()
            .include_paths(true)
            .defanged(true)
            .build()
            .unwrap_or_else(|_| unreachable_extractor())
    })
}

// The default builder has no custom patterns, so `build` cannot fail; this keeps the code free
// of `unwrap` while making a regression loud.
#[cold]
fn unreachable_extractor() -> IocExtractor {
    panic!("hg_ioc rejected its own default extractor")
}

/// Classifies `value`: its type from `type_hint` when given (`file_hash` is resolved by length),
/// else the first `hg_ioc` type that covers the whole value; the canonical form from `hg_ioc`.
pub fn classify(value: &str, type_hint: Option<&str>) -> Observable {
    let trimmed = value.trim();
    let unknown = || Observable {
        value: value.to_string(),
        ioc_type: "unknown".to_string(),
        canonical: trimmed.to_string(),
        kind: None,
    };
    if trimmed.is_empty() || trimmed.len() > MAX_OBSERVABLE_LEN {
        return unknown();
    }
    let hint = type_hint
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| h.to_ascii_lowercase());
    let wanted: Option<IocType> = match hint.as_deref() {
        None => None,
        Some("file_hash" | "hash") => match trimmed.len() {
            32 => Some(IocType::Md5Hash),
            40 => Some(IocType::Sha1Hash),
            64 => Some(IocType::Sha256Hash),
            128 => Some(IocType::Sha512Hash),
            _ => None,
        },
        Some("hostname" | "domain") => Some(IocType::Dns),
        Some(other) => IocType::parse(other),
    };
    let mut found: Option<(IocType, String)> = None;
    let mut first: Option<(IocType, String)> = None;
    extractor().extract(trimmed, &mut |m: &IocMatch<'_>| {
        if m.start == 0 && m.end == trimmed.len() {
            if first.is_none() {
                first = Some((m.ioc_type, m.canonical.to_string()));
            }
            if found.is_none() && Some(m.ioc_type) == wanted {
                found = Some((m.ioc_type, m.canonical.to_string()));
            }
        }
    });
    let chosen = match (hint.is_some(), found, first) {
        (true, Some(f), _) => Some(f),
        (true, None, _) => {
            // The caller named a type the value does not have: keep the caller's name so every
            // provider reports the mismatch, rather than silently looking up something else.
            return Observable {
                value: value.to_string(),
                ioc_type: hint.unwrap_or_default(),
                canonical: trimmed.to_string(),
                kind: None,
            };
        }
        (false, _, first) => first,
    };
    match chosen {
        Some((kind, canonical)) => Observable {
            value: value.to_string(),
            ioc_type: kind.name().to_string(),
            canonical,
            kind: Some(kind),
        },
        None => unknown(),
    }
}

/// Whether an address is globally routable (not private, loopback, link-local, documentation,
/// shared, benchmarking, multicast, reserved or otherwise special-purpose: the IANA registries).
pub fn is_global_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 192 && b == 88 && c == 99)
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224)
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_global_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || s[0] & 0xfe00 == 0xfc00 // unique local
        || s[0] & 0xffc0 == 0xfe80 // link-local
        || s[0] & 0xff00 == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x3fff && s[1] & 0xf000 == 0) // documentation (RFC 9637)
        || (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only
        || (s[0] == 0x2001 && s[1] < 0x0200 && !(s[1] == 1 && s[2] == 0 && s[3] == 0)) // IETF protocol assignments
        || s[0] == 0x2002) // 6to4 relays carry IPv4 inside; not a host address
}

/// Shannon entropy in bits per character over the character frequencies.
pub fn shannon_entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut total = 0u32;
    for b in value.bytes() {
        counts[usize::from(b)] += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let n = f64::from(total);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Why an observable may not be sent to an upstream service, if it may not. Local providers
/// (feed, Tor list) need none of these checks: nothing leaves the machine.
pub fn upstream_refusal(observable: &Observable) -> Option<String> {
    let kind = observable.kind?;
    match kind {
        IocType::Ipv4 | IocType::Ipv6 => match observable.canonical.parse::<IpAddr>() {
            Ok(ip) if !is_global_ip(ip) => Some(
                "IP address is not global (private or reserved addresses are never sent upstream)."
                    .into(),
            ),
            Ok(_) => None,
            Err(_) => Some(format!("{} is not an IP address.", observable.canonical)),
        },
        IocType::Url => {
            let host = url_host(&observable.canonical)?;
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<IpAddr>() {
                if !is_global_ip(ip) {
                    return Some(
                        "Host part of URL is a private or reserved IP address (never sent upstream)."
                            .into(),
                    );
                }
            } else if !host.contains('.') {
                return Some("Host is an unqualified domain name.".into());
            }
            if observable
                .canonical
                .to_ascii_lowercase()
                .starts_with("file:")
            {
                return Some("file URLs are never sent upstream.".into());
            }
            None
        }
        IocType::Md5Hash | IocType::Sha1Hash | IocType::Sha256Hash | IocType::Sha512Hash => {
            if shannon_entropy(&observable.canonical) < 3.0 {
                Some("String has too low an entropy to be a hash.".into())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The host of a URL (`scheme://[userinfo@]host[:port]/...`), without port.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port.find(']').map(|end| &host_port[..=end]);
    }
    Some(host_port.split(':').next().unwrap_or(host_port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_and_refangs() {
        let o = classify("evil[.]example[.]com", None);
        assert_eq!(
            (o.ioc_type.as_str(), o.canonical.as_str()),
            ("dns", "evil.example.com")
        );
        let o = classify("hxxp://Bad.example.net/x", None);
        assert_eq!(o.ioc_type, "url");
        assert_eq!(o.canonical, "http://bad.example.net/x");
        let o = classify("D41D8CD98F00B204E9800998ECF8427E", Some("file_hash"));
        assert_eq!(o.ioc_type, "md5_hash");
        assert_eq!(classify("not an ioc", None).ioc_type, "unknown");
        assert_eq!(classify("", None).ioc_type, "unknown");
        // A named type the value does not have keeps the caller's name and no kind.
        let o = classify("8.8.8.8", Some("url"));
        assert_eq!((o.ioc_type.as_str(), o.kind), ("url", None));
    }

    #[test]
    fn global_addresses() {
        for ip in ["8.8.8.8", "185.220.101.45", "2606:4700::1111"] {
            assert!(is_global_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "203.0.113.77",
            "198.51.100.23",
            "192.0.2.1",
            "224.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_global_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn entropy_matches_the_reference_examples() {
        assert!((shannon_entropy("d41d8cd98f00b204e9800998ecf8427e") - 3.391).abs() < 0.001);
        assert_eq!(shannon_entropy(&"a".repeat(32)), 0.0);
        assert!((shannon_entropy("abababab") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn upstream_refusals() {
        let refuse = |v: &str| upstream_refusal(&classify(v, None));
        assert!(refuse("10.0.0.1").is_some());
        assert!(refuse("8.8.8.8").is_none());
        assert!(refuse("http://192.168.1.1/x").is_some());
        assert!(refuse("http://evil.example.com/x").is_none());
        assert!(refuse(&"a".repeat(32)).is_some());
        assert!(refuse("d41d8cd98f00b204e9800998ecf8427e").is_none());
        assert_eq!(
            url_host("http://u:p@h.example.com:8080/x"),
            Some("h.example.com")
        );
        assert_eq!(url_host("http://[2001:db8::1]:80/"), Some("[2001:db8::1]"));
    }
}
