//! The regular expressions of the scanner, built as strings for `regex-automata`'s meta engine.
//!
//! Every pattern is compiled without Unicode (`(?-u)` semantics: classes are bytes, `\s` is ASCII
//! white space) and case-insensitively, so no Unicode tables end up in the wasm build. The patterns
//! only *find candidates*; the validators in `validate.rs` decide. Every class excludes line
//! breaks, so no match spans two lines.

/// Pattern ids of the main scanner, in priority order: when two alternatives match at the same
/// start, the lower id wins (leftmost-first semantics), and an earlier start always wins.
pub(crate) const PAT_URL: usize = 0;
pub(crate) const PAT_EMAIL: usize = 1;
pub(crate) const PAT_REGISTRY: usize = 2;
pub(crate) const PAT_WINDOWS_PATH: usize = 3;
pub(crate) const PAT_LINUX_PATH: usize = 4;
pub(crate) const PAT_CVE: usize = 5;
pub(crate) const PAT_IPV6: usize = 6;
pub(crate) const PAT_HASH: usize = 7;
pub(crate) const PAT_DOTTED: usize = 8;
/// Not a pattern: what the finder reports for a candidate of [`PAT_IPV6`] that cannot be an
/// address (neither a `::` nor every group: clock times, MAC addresses). It is consumed like
/// any candidate of that pattern (same span, same priority) and reported as nothing.
pub(crate) const PAT_IPV6_REFUSED: usize = 9;

/// Written-out forms of the dot that defanged observables use, longest first. Refanging decides
/// them from their first byte (`refang::defanged_dot_len`); its unit test checks that against
/// this list, so that what the patterns accept is exactly what gets refanged.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const DEFANGED_DOTS: [&str; 8] =
    ["[dot]", "(dot)", "{dot}", "[.]", "(.)", "{.}", "[.", ".]"];

/// Written-out forms of `@` in defanged e-mail addresses.
pub(crate) const DEFANGED_ATS: [&str; 6] = ["[at]", "(at)", "{at}", "[@]", "(@)", "{@}"];

/// Written-out forms of `://` in defanged URLs.
pub(crate) const DEFANGED_SCHEME_SEPARATORS: [&str; 5] =
    ["[://]", "[:]//", "(:)//", "{:}//", "://"];

/// The pattern strings for one configuration (defanged forms on or off).
pub struct PatternSet {
    /// The alternatives of the main scanner, indexed by the `PAT_*` ids.
    pub main: Vec<String>,
    /// A URL on its own (used to look for URLs nested in a URL, after percent-decoding).
    pub url: String,
    /// The URL again, anchored, with capture groups for its parts.
    pub url_parts: String,
}

impl PatternSet {
    pub fn new(defanged: bool) -> PatternSet {
        // A dot between labels; defanged: also [.] (.) {.} [dot] (dot) {dot}, optionally with one
        // space on each side, and a half-bracketed [. or .].
        let sep = if defanged {
            r"(?:\x20?(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\})\x20?|\[\.|\.\]|\.)"
        } else {
            r"\."
        };
        let at = if defanged {
            r"(?:\x20?(?:\[at\]|\(at\)|\{at\}|\[@\]|\(@\)|\{@\})\x20?|@)"
        } else {
            "@"
        };
        let scheme = if defanged {
            r"(?:h[tx]{2}ps?|s?f[tx]ps?|telnet|ldaps?|file)"
        } else {
            r"(?:https?|s?ftps?|telnet|ldaps?|file)"
        };
        let scheme_sep = if defanged {
            r"(?:://|\[://\]|\[:\]//|\(:\)//|\{:\}//)"
        } else {
            "://"
        };
        let label = r"[a-z0-9_-]+";
        let dotted = format!(r"[a-z0-9_][a-z0-9_-]*(?:{sep}{label})+");

        // URL: scheme, separator, optional user info, host (bracketed IPv6 literal or labels),
        // optional port, then path/query/fragment up to white space, a quote or an angle bracket.
        let userinfo = r"[a-z0-9\-._~!$&'()*+,;=:%]+@";
        let host = format!(r"(?:\[[0-9a-f:.]+(?:%[a-z0-9_.~-]+)?\]|{label}(?:{sep}{label})*)");
        let port = r":[0-9]{1,5}";
        let rest = r"[/?#][^\s\x00-\x1f\x7f\x22'<>]*";
        let url = format!(r"{scheme}{scheme_sep}(?:{userinfo})?(?:{host})?(?:{port})?(?:{rest})?");
        let url_parts = format!(
            r"^(?P<scheme>{scheme})(?P<sep>{scheme_sep})(?:(?P<userinfo>{userinfo}))?(?P<host>{host})?(?P<port>{port})?"
        );

        let local = r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*";
        let email = format!(r"{local}{at}{dotted}");

        // Windows paths and registry keys: segments exclude the characters Windows forbids in
        // names plus `,` and `;` (list separators in command lines). A folder segment may hold
        // single spaces ("Program Files") but every word before a space must be free of dots, so
        // "x.exe out\file" is not read as a folder named "x.exe out".
        let seg = r#"[^\\/:*?"'<>|,;\x00-\x20\x7f]"#;
        let seg_nodot = r#"[^\\/:*?"'<>|,;.\x00-\x20\x7f]"#;
        let folder = format!(r"(?:{seg_nodot}+\x20)*{seg}+");
        let win_root =
            r"(?:\\\\\?\\[a-z]:\\|[a-z]:\\|\\\\[a-z0-9_.$@-]+\\|%[a-z_][a-z0-9_()]*%\\|\.{1,2}\\)";
        let windows_path = format!(r"{win_root}(?:{folder}\\)*{seg}*");
        let hive = r"(?:hkey_local_machine|hkey_current_user|hkey_classes_root|hkey_users|hkey_current_config|hkey_performance_data|hklm|hkcu|hkcr|hku|hkcc)";
        let registry = format!(r"{hive}:?\\(?:{folder}\\)*{seg}*");

        // Linux paths: no spaces, no `:` (so neither URL tails nor argument lists), at least two
        // segments after `/` or one after `~/`, `./`, `../`.
        let lseg = r"[a-z0-9._+~%=#$@\x80-\xff-]+";
        let linux_path =
            format!(r"(?:(?:~[a-z0-9_.-]*|\.{{1,2}})/{lseg}(?:/{lseg})*|/{lseg}(?:/{lseg})+)/?");

        let cve = r"cve-[0-9]{4}-[0-9]{4,7}";
        let ipv6 = r"[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}";
        let hash = r"[0-9a-f]{32}[0-9a-f]*";

        let mut main = vec![String::new(); 9];
        main[PAT_URL] = url.clone();
        main[PAT_EMAIL] = email;
        main[PAT_REGISTRY] = registry;
        main[PAT_WINDOWS_PATH] = windows_path;
        main[PAT_LINUX_PATH] = linux_path;
        main[PAT_CVE] = cve.to_string();
        main[PAT_IPV6] = ipv6.to_string();
        main[PAT_HASH] = hash.to_string();
        main[PAT_DOTTED] = dotted;
        PatternSet {
            main,
            url,
            url_parts,
        }
    }
}
