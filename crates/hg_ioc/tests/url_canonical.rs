//! URL canonical values at the edges of the verbatim path (a URL written in its canonical form is
//! reported with its own text; any difference sends it the general way): a leading-zero IPv4 host,
//! an upper-case host, a defanged dot in the path only, a nested URL whose escapes are lower-case
//! (`%3a%2f%2f`), and an escaped tail without a colon (nothing nested to find).

use hg_ioc::IocExtractor;

fn found(text: &str) -> Vec<(String, String, String, usize, usize)> {
    let extractor = IocExtractor::builder().build().expect("builds");
    let mut rows: Vec<_> = extractor
        .extract_vec(text)
        .into_iter()
        .map(|m| (m.type_name, m.observable, m.canonical, m.start, m.end))
        .collect();
    rows.sort();
    rows
}

fn row(
    t: &str,
    observable: &str,
    canonical: &str,
    start: usize,
) -> (String, String, String, usize, usize) {
    (
        t.into(),
        observable.into(),
        canonical.into(),
        start,
        start + observable.len(),
    )
}

#[test]
fn leading_zero_ip_host_is_rewritten() {
    assert_eq!(
        found("http://010.001.0.1/a"),
        vec![
            row("ipv4", "010.001.0.1", "10.1.0.1", 7),
            row("url", "http://010.001.0.1/a", "http://10.1.0.1/a", 0),
        ]
    );
}

#[test]
fn plain_ip_host_is_its_own_canonical_form() {
    assert_eq!(
        found("http://10.1.0.1:8080/a?b=C"),
        vec![
            row("ipv4", "10.1.0.1", "10.1.0.1", 7),
            row(
                "url",
                "http://10.1.0.1:8080/a?b=C",
                "http://10.1.0.1:8080/a?b=C",
                0
            ),
        ]
    );
}

#[test]
fn upper_case_host_is_lowered_and_path_keeps_case() {
    assert_eq!(
        found("http://WWW.Example.COM/Path"),
        vec![
            row("dns", "WWW.Example.COM", "www.example.com", 7),
            row(
                "url",
                "http://WWW.Example.COM/Path",
                "http://www.example.com/Path",
                0
            ),
        ]
    );
}

#[test]
fn defanged_dot_in_path_only_is_refanged() {
    assert_eq!(
        found("see https://example.com/a[.]php?x=1 ok"),
        vec![
            row("dns", "example.com", "example.com", 12),
            row(
                "url",
                "https://example.com/a[.]php?x=1",
                "https://example.com/a.php?x=1",
                4
            ),
        ]
    );
}

#[test]
fn nested_url_with_lower_case_escapes() {
    let text = "https://a.com/r?u=https%3a%2f%2fevil.com%2fx";
    assert_eq!(
        found(text),
        vec![
            row("dns", "a.com", "a.com", 8),
            row("dns", "evil.com", "evil.com", 32),
            row(
                "url",
                "https%3a%2f%2fevil.com%2fx",
                "https://evil.com/x",
                18
            ),
            row("url", text, text, 0),
        ]
    );
}

#[test]
fn escaped_tail_without_colon_holds_no_nested_url() {
    let text = "https://a.com/r?u=evil.com%2Fx%20y";
    assert_eq!(
        found(text),
        vec![row("dns", "a.com", "a.com", 8), row("url", text, text, 0)]
    );
}

#[test]
fn nested_url_with_upper_case_host_is_built() {
    let text = "https://a.com/r?u=http%3A%2F%2FEvil.com%2Fx";
    assert_eq!(
        found(text),
        vec![
            row("dns", "Evil.com", "evil.com", 31),
            row("dns", "a.com", "a.com", 8),
            row("url", "http%3A%2F%2FEvil.com%2Fx", "http://evil.com/x", 18),
            row("url", text, text, 0),
        ]
    );
}
