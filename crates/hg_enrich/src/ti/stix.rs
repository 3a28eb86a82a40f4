//! STIX 2.1 bundles: indicators and a checked parser of their patterns.
//!
//! The whole pattern grammar (observation expressions joined by `AND`/`OR`/`FOLLOWEDBY`,
//! qualifiers, comparison expressions with every operator and literal kind) is parsed, so a
//! malformed pattern is an error naming the indicator and the position. Only equality
//! comparisons on the paths a look-up can use become feed entries: `ipv4-addr:value`,
//! `ipv6-addr:value`, `domain-name:value`, `url:value`, `email-addr:value` and
//! `file:hashes.<MD5|SHA-1|SHA-256|SHA-512>`.

use serde_json::Value;

use super::feed::FeedEntry;
use super::observable::classify;
use super::Severity;

/// Longest pattern parsed.
pub const MAX_PATTERN_LEN: usize = 64 * 1024;
/// Deepest nesting of brackets and parentheses in a pattern.
pub const MAX_PATTERN_DEPTH: usize = 64;

/// Why a bundle or a pattern was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StixError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(String),
    /// JSON but not a bundle.
    #[error("not a STIX bundle: {0}")]
    NotBundle(String),
    /// An object of the bundle is malformed.
    #[error("object {index} ({id}): {message}")]
    Object {
        /// Position in `objects`.
        index: usize,
        /// Its id, or `(no id)`.
        id: String,
        /// What was wrong.
        message: String,
    },
    /// A pattern does not parse.
    #[error("pattern error at character {position}: {message}")]
    Pattern {
        /// 0-based character offset.
        position: usize,
        /// What was wrong.
        message: String,
    },
}

/// The (type name, value) pairs of the usable equality comparisons of a pattern, or why it does
/// not parse.
pub fn parse_pattern(pattern: &str) -> Result<Vec<(&'static str, String)>, StixError> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(StixError::Pattern {
            position: MAX_PATTERN_LEN,
            message: format!("longer than {MAX_PATTERN_LEN} bytes"),
        });
    }
    let tokens = tokenize(pattern)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        end: pattern.chars().count(),
        found: Vec::new(),
        depth: 0,
    };
    parser.pattern()?;
    if let Some(t) = parser.tokens.get(parser.at) {
        return Err(parser.error_at(t.pos, format!("unexpected {}", t.kind.describe())));
    }
    Ok(parser.found)
}

/// The indicators of a bundle: `Some(entry)` per usable comparison, `None` per indicator that
/// yields none (revoked, another pattern language, only unsupported comparisons).
pub fn parse_bundle(bytes: &[u8]) -> Result<Vec<Option<FeedEntry>>, StixError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| StixError::Json(e.to_string()))?;
    let Some(obj) = root.as_object() else {
        return Err(StixError::NotBundle(
            "the top level is not an object".into(),
        ));
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("bundle") => {}
        Some(other) => {
            return Err(StixError::NotBundle(format!(
                "\"type\" is {other:?}, expected \"bundle\""
            )))
        }
        None => return Err(StixError::NotBundle("no \"type\": \"bundle\"".into())),
    }
    let objects = match obj.get("objects") {
        None => return Ok(Vec::new()),
        Some(Value::Array(objects)) => objects,
        Some(_) => return Err(StixError::NotBundle("\"objects\" is not an array".into())),
    };
    let mut out = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let fail = |id: &str, message: String| StixError::Object {
            index,
            id: id.to_string(),
            message,
        };
        let Some(o) = object.as_object() else {
            return Err(fail("(no id)", "not a JSON object".into()));
        };
        let id = o.get("id").and_then(Value::as_str).unwrap_or("(no id)");
        let Some(kind) = o.get("type").and_then(Value::as_str) else {
            return Err(fail(id, "no \"type\"".into()));
        };
        if kind != "indicator" {
            continue;
        }
        if !o.contains_key("id") {
            return Err(fail(id, "indicator without an \"id\"".into()));
        }
        let Some(pattern) = o.get("pattern").and_then(Value::as_str) else {
            return Err(fail(id, "indicator without a string \"pattern\"".into()));
        };
        let pattern_type = o
            .get("pattern_type")
            .and_then(Value::as_str)
            .unwrap_or("stix");
        if pattern_type != "stix" || o.get("revoked").and_then(Value::as_bool) == Some(true) {
            out.push(None);
            continue;
        }
        let comparisons = parse_pattern(pattern).map_err(|e| fail(id, e.to_string()))?;
        let severity = indicator_severity(o);
        let tags: Vec<String> = ["indicator_types", "labels"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
        let description = o
            .get("description")
            .or_else(|| o.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut extra = serde_json::Map::new();
        for key in [
            "name",
            "confidence",
            "valid_from",
            "valid_until",
            "created",
            "modified",
            "pattern",
        ] {
            if let Some(v) = o.get(key) {
                extra.insert(key.to_string(), v.clone());
            }
        }
        let mut any = false;
        for (ioc_type, value) in comparisons {
            let observable = classify(&value, Some(ioc_type));
            if observable.kind.is_none() {
                // A CIDR block, a wildcard or a malformed value: valid STIX, not a look-up key.
                continue;
            }
            any = true;
            out.push(Some(FeedEntry {
                ioc_type: observable.ioc_type,
                value: observable.canonical,
                severity,
                description: description.clone(),
                tags: tags.clone(),
                source: id.to_string(),
                extra: extra.clone(),
            }));
        }
        if !any {
            out.push(None);
        }
    }
    Ok(out)
}

/// `x_severity` when given; else from `indicator_types` (benign: information,
/// anomalous-activity: warning, malicious-activity / compromised / attribution: high); else
/// `confidence` >= 80 high; else warning (the reference's default for a TI-table match).
fn indicator_severity(o: &serde_json::Map<String, Value>) -> Severity {
    if let Some(s) = o
        .get("x_severity")
        .and_then(Value::as_str)
        .and_then(Severity::parse)
    {
        return s;
    }
    let types: Vec<&str> = o
        .get("indicator_types")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if types
        .iter()
        .any(|t| matches!(*t, "malicious-activity" | "compromised" | "attribution"))
    {
        return Severity::High;
    }
    if types.contains(&"anomalous-activity") {
        return Severity::Warning;
    }
    if types.contains(&"benign") {
        return Severity::Information;
    }
    match o.get("confidence").and_then(Value::as_f64) {
        Some(c) if c >= 80.0 => Severity::High,
        _ => Severity::Warning,
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Open,        // [
    Close,       // ]
    LParen,      // (
    RParen,      // )
    Comma,       // ,
    Str(String), // 'text'
    Typed,       // t'..', h'..', b'..'
    Number,
    Op(&'static str),
    Word(String), // keyword or boolean
    Path(String), // object path (contains ':')
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::Open => "'['".into(),
            Kind::Close => "']'".into(),
            Kind::LParen => "'('".into(),
            Kind::RParen => "')'".into(),
            Kind::Comma => "','".into(),
            Kind::Str(_) => "a string".into(),
            Kind::Typed => "a typed literal".into(),
            Kind::Number => "a number".into(),
            Kind::Op(op) => format!("operator {op}"),
            Kind::Word(w) => format!("{w:?}"),
            Kind::Path(p) => format!("object path {p:?}"),
        }
    }
}

#[derive(Debug)]
struct Token {
    kind: Kind,
    pos: usize,
}

fn tokenize(pattern: &str) -> Result<Vec<Token>, StixError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let err = |position: usize, message: String| StixError::Pattern { position, message };
    let read_quoted = |start: usize| -> Result<(String, usize), StixError> {
        // `start` is at the opening quote.
        let mut text = String::new();
        let mut j = start + 1;
        loop {
            match chars.get(j) {
                None => return Err(err(start, "unterminated string".into())),
                Some('\\') => match chars.get(j + 1) {
                    Some(c @ ('\'' | '\\')) => {
                        text.push(*c);
                        j += 2;
                    }
                    _ => return Err(err(j, "bad escape (only \\' and \\\\ are allowed)".into())),
                },
                Some('\'') => return Ok((text, j + 1)),
                Some(c) => {
                    text.push(*c);
                    j += 1;
                }
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let pos = i;
        let simple = match c {
            '[' => Some(Kind::Open),
            ']' => Some(Kind::Close),
            '(' => Some(Kind::LParen),
            ')' => Some(Kind::RParen),
            ',' => Some(Kind::Comma),
            _ => None,
        };
        if let Some(kind) = simple {
            tokens.push(Token { kind, pos });
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '\'' {
            let (text, next) = read_quoted(i)?;
            tokens.push(Token {
                kind: Kind::Str(text),
                pos,
            });
            i = next;
            continue;
        }
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let op = match two.as_str() {
            "!=" => Some("!="),
            "<=" => Some("<="),
            ">=" => Some(">="),
            _ => match c {
                '=' => Some("="),
                '<' => Some("<"),
                '>' => Some(">"),
                _ => None,
            },
        };
        if let Some(op) = op {
            tokens.push(Token {
                kind: Kind::Op(op),
                pos,
            });
            i += op.len();
            continue;
        }
        if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            i += 1;
            while chars
                .get(i)
                .is_some_and(|d| d.is_ascii_digit() || *d == '.')
            {
                i += 1;
            }
            tokens.push(Token {
                kind: Kind::Number,
                pos,
            });
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == 'x' {
            if matches!(c, 't' | 'h' | 'b') && chars.get(i + 1) == Some(&'\'') {
                let (_, next) = read_quoted(i + 1)?;
                tokens.push(Token {
                    kind: Kind::Typed,
                    pos,
                });
                i = next;
                continue;
            }
            let mut word = String::new();
            while let Some(&d) = chars.get(i) {
                if d.is_ascii_alphanumeric() || matches!(d, '_' | '-' | ':' | '.') {
                    word.push(d);
                    i += 1;
                } else if d == '\'' && word.ends_with('.') && word.contains(':') {
                    let (segment, next) = read_quoted(i)?;
                    word.push('\'');
                    word.push_str(&segment);
                    word.push('\'');
                    i = next;
                } else if d == '[' && word.contains(':') {
                    // List index in a path: [*] or [N].
                    let close = chars[i..]
                        .iter()
                        .position(|&x| x == ']')
                        .ok_or_else(|| err(i, "unterminated list index".into()))?;
                    let inner: String = chars[i + 1..i + close].iter().collect();
                    if inner != "*" && inner.parse::<u64>().is_err() {
                        return Err(err(i, format!("bad list index [{inner}]")));
                    }
                    word.push('[');
                    word.push_str(&inner);
                    word.push(']');
                    i += close + 1;
                } else {
                    break;
                }
            }
            let kind = if word.contains(':') {
                Kind::Path(word)
            } else {
                Kind::Word(word.to_ascii_uppercase())
            };
            tokens.push(Token { kind, pos });
            continue;
        }
        return Err(err(pos, format!("unexpected character {c:?}")));
    }
    Ok(tokens)
}

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
    end: usize,
    found: Vec<(&'static str, String)>,
    depth: usize,
}

impl Parser<'_> {
    fn error_at(&self, position: usize, message: String) -> StixError {
        StixError::Pattern { position, message }
    }

    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.at).map(|t| &t.kind)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |t| t.pos)
    }

    fn expect(&mut self, want: &Kind, what: &str) -> Result<(), StixError> {
        match self.peek() {
            Some(k) if k == want => {
                self.at += 1;
                Ok(())
            }
            Some(k) => Err(self.error_at(
                self.pos(),
                format!("expected {what}, found {}", k.describe()),
            )),
            None => Err(self.error_at(self.end, format!("expected {what}, found the end"))),
        }
    }

    fn enter(&mut self) -> Result<(), StixError> {
        self.depth += 1;
        if self.depth > MAX_PATTERN_DEPTH {
            return Err(self.error_at(
                self.pos(),
                format!("nested deeper than {MAX_PATTERN_DEPTH}"),
            ));
        }
        Ok(())
    }

    fn is_word(&self, words: &[&str]) -> bool {
        matches!(self.peek(), Some(Kind::Word(w)) if words.contains(&w.as_str()))
    }

    /// observation (AND|OR|FOLLOWEDBY observation)*
    fn pattern(&mut self) -> Result<(), StixError> {
        self.observation()?;
        while self.is_word(&["AND", "OR", "FOLLOWEDBY"]) {
            self.at += 1;
            self.observation()?;
        }
        Ok(())
    }

    /// '[' comparisons ']' qualifiers* | '(' pattern ')' qualifiers*
    fn observation(&mut self) -> Result<(), StixError> {
        self.enter()?;
        match self.peek() {
            Some(Kind::Open) => {
                self.at += 1;
                self.comparisons()?;
                self.expect(&Kind::Close, "']'")?;
            }
            Some(Kind::LParen) => {
                self.at += 1;
                self.pattern()?;
                self.expect(&Kind::RParen, "')'")?;
            }
            Some(k) => {
                return Err(self.error_at(
                    self.pos(),
                    format!("expected '[' or '(', found {}", k.describe()),
                ))
            }
            None => return Err(self.error_at(self.end, "expected '[', found the end".into())),
        }
        self.qualifiers()?;
        self.depth -= 1;
        Ok(())
    }

    fn qualifiers(&mut self) -> Result<(), StixError> {
        loop {
            if self.is_word(&["WITHIN"]) {
                self.at += 1;
                self.expect(&Kind::Number, "a number after WITHIN")?;
                if !self.is_word(&["SECONDS"]) {
                    return Err(self.error_at(self.pos(), "expected SECONDS".into()));
                }
                self.at += 1;
            } else if self.is_word(&["REPEATS"]) {
                self.at += 1;
                self.expect(&Kind::Number, "a number after REPEATS")?;
                if !self.is_word(&["TIMES"]) {
                    return Err(self.error_at(self.pos(), "expected TIMES".into()));
                }
                self.at += 1;
            } else if self.is_word(&["START"]) {
                self.at += 1;
                self.expect(&Kind::Typed, "a t'...' timestamp after START")?;
                if !self.is_word(&["STOP"]) {
                    return Err(self.error_at(self.pos(), "expected STOP".into()));
                }
                self.at += 1;
                self.expect(&Kind::Typed, "a t'...' timestamp after STOP")?;
            } else {
                return Ok(());
            }
        }
    }

    /// comparison ((AND|OR) comparison)*
    fn comparisons(&mut self) -> Result<(), StixError> {
        self.comparison()?;
        while self.is_word(&["AND", "OR"]) {
            self.at += 1;
            self.comparison()?;
        }
        Ok(())
    }

    fn comparison(&mut self) -> Result<(), StixError> {
        if self.peek() == Some(&Kind::LParen) {
            self.enter()?;
            self.at += 1;
            self.comparisons()?;
            self.expect(&Kind::RParen, "')'")?;
            self.depth -= 1;
            return Ok(());
        }
        let path = match self.peek() {
            Some(Kind::Path(p)) => p.clone(),
            Some(k) => {
                return Err(self.error_at(
                    self.pos(),
                    format!(
                        "expected an object path (type:property), found {}",
                        k.describe()
                    ),
                ))
            }
            None => {
                return Err(self.error_at(self.end, "expected an object path, found the end".into()))
            }
        };
        self.at += 1;
        let negated = self.is_word(&["NOT"]);
        if negated {
            self.at += 1;
        }
        let op: String = match self.peek() {
            Some(Kind::Op(op)) => (*op).to_string(),
            Some(Kind::Word(w))
                if matches!(
                    w.as_str(),
                    "IN" | "LIKE" | "MATCHES" | "ISSUBSET" | "ISSUPERSET"
                ) =>
            {
                w.clone()
            }
            Some(k) => {
                return Err(self.error_at(
                    self.pos(),
                    format!(
                        "expected a comparison operator after {path}, found {}",
                        k.describe()
                    ),
                ))
            }
            None => {
                return Err(self.error_at(self.end, "expected an operator, found the end".into()))
            }
        };
        self.at += 1;
        if op == "IN" {
            self.expect(&Kind::LParen, "'(' after IN")?;
            loop {
                self.literal()?;
                if self.peek() == Some(&Kind::Comma) {
                    self.at += 1;
                } else {
                    break;
                }
            }
            self.expect(&Kind::RParen, "')' closing the IN list")?;
            return Ok(());
        }
        let value = self.literal()?;
        if op == "=" && !negated {
            if let (Some(ioc_type), Some(value)) = (usable_path(&path), value) {
                self.found.push((ioc_type, value));
            }
        }
        Ok(())
    }

    /// A literal; returns the text of a plain string.
    fn literal(&mut self) -> Result<Option<String>, StixError> {
        let value = match self.peek() {
            Some(Kind::Str(s)) => Some(s.clone()),
            Some(Kind::Number | Kind::Typed) => None,
            Some(Kind::Word(w)) if w == "TRUE" || w == "FALSE" => None,
            Some(k) => {
                return Err(self.error_at(
                    self.pos(),
                    format!("expected a value, found {}", k.describe()),
                ))
            }
            None => return Err(self.error_at(self.end, "expected a value, found the end".into())),
        };
        self.at += 1;
        Ok(value)
    }
}

/// The type name a path's equality can be looked up as.
fn usable_path(path: &str) -> Option<&'static str> {
    let normalized: String = path
        .chars()
        .filter(|c| !matches!(c, '\'' | '-' | '_'))
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match normalized.as_str() {
        "ipv4addr:value" => "ipv4",
        "ipv6addr:value" => "ipv6",
        "domainname:value" => "dns",
        "url:value" => "url",
        "emailaddr:value" => "email",
        "file:hashes.md5" => "md5_hash",
        "file:hashes.sha1" => "sha1_hash",
        "file:hashes.sha256" => "sha256_hash",
        "file:hashes.sha512" => "sha512_hash",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(
            parse_pattern("[ipv4-addr:value = '198.51.100.23']").unwrap(),
            vec![("ipv4", "198.51.100.23".to_string())]
        );
        assert_eq!(
            parse_pattern("[file:hashes.'SHA-256' = 'ab' OR file:hashes.MD5 = 'cd'] AND [domain-name:value = 'x.example.com'] WITHIN 300 SECONDS").unwrap(),
            vec![
                ("sha256_hash", "ab".to_string()),
                ("md5_hash", "cd".to_string()),
                ("dns", "x.example.com".to_string())
            ]
        );
        assert_eq!(
            parse_pattern("[url:value = 'http://a.example.com/it\\'s' AND file:size > 10]")
                .unwrap(),
            vec![("url", "http://a.example.com/it's".to_string())]
        );
        // Non-equality and unknown paths parse but give nothing.
        assert!(parse_pattern("[domain-name:value MATCHES '^x' AND process:pid IN (1, 2)] START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'")
            .unwrap()
            .is_empty());
        assert!(parse_pattern("[ipv4-addr:value != '1.2.3.4']")
            .unwrap()
            .is_empty());
        assert!(parse_pattern(
            "[network-traffic:extensions.'http-request-ext'.request_header.host[*] = 'x']"
        )
        .unwrap()
        .is_empty());
    }

    #[test]
    fn malformed_patterns() {
        for (bad, needle) in [
            ("[ipv4-addr:value = '1.2.3.4'", "expected ']'"),
            ("ipv4-addr:value = '1.2.3.4'", "expected '[' or '('"),
            ("[ipv4-addr:value = '1.2.3.4]", "unterminated string"),
            (
                "[ipv4-addr:value '1.2.3.4']",
                "expected a comparison operator",
            ),
            ("[= '1.2.3.4']", "expected an object path"),
            ("[ipv4-addr:value = ]", "expected a value"),
            ("[a:b = 'x'] WITHIN SECONDS", "a number after WITHIN"),
            ("[a:b = 'x'] ]", "unexpected ']'"),
            ("[a:b = 'x' ; ]", "unexpected character ';'"),
            ("", "expected '['"),
        ] {
            let e = parse_pattern(bad).unwrap_err().to_string();
            assert!(e.contains(needle), "{bad:?}: {e}");
        }
        let deep = "(".repeat(100) + "[a:b = 'x']" + &")".repeat(100);
        assert!(parse_pattern(&deep)
            .unwrap_err()
            .to_string()
            .contains("nested deeper"));
    }
}
