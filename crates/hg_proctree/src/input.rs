//! Reading the schema's columns: process ids (numbers, decimal or `0x` hex text, other text),
//! creation times (timestamps or ISO-8601 text), names (text, interned lower-case).

use crate::FastMap;

use arrow_schema::DataType;
use hg_arrow::time::Civil;
use hg_arrow::{HgArrowError, StringColumn, Table};

use crate::ProcTreeError;

/// Bit set on the key of an id that is neither a number nor hex/decimal text (GUIDs, names).
const TEXT_ID_BIT: u64 = 1 << 63;

/// Longest text accepted as a time or id before it is refused (a corrupt or hostile cell).
pub(crate) const MAX_FIELD_BYTES: usize = 256;

/// An id column: numbers or text.
pub(crate) enum IdColumn {
    Text(StringColumn),
    Number(Vec<f64>),
}

/// Interns non-numeric id texts so that equal texts get equal keys in both id columns.
#[derive(Default)]
pub(crate) struct IdInterner {
    texts: FastMap<String, u64>,
}

impl IdInterner {
    fn key_of_text(&mut self, text: &str) -> u64 {
        let t = text.trim();
        if let Some(v) = parse_numeric_id(t) {
            return v;
        }
        let lowered = t.to_ascii_lowercase();
        let next = self.texts.len() as u64 | TEXT_ID_BIT;
        *self.texts.entry(lowered).or_insert(next)
    }
}

/// `0x`-prefixed hex or plain decimal text as a number.
pub(crate) fn parse_numeric_id(t: &str) -> Option<u64> {
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if !hex.is_empty() && hex.len() <= 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return u64::from_str_radix(hex, 16)
                .ok()
                .filter(|v| v & TEXT_ID_BIT == 0);
        }
        return None;
    }
    if !t.is_empty() && t.len() <= 19 && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<u64>().ok();
    }
    None
}

impl IdColumn {
    pub(crate) fn read(table: &Table, name: &str) -> Result<IdColumn, ProcTreeError> {
        let dt = table.data_type(name)?.clone();
        if is_text(&dt) {
            return Ok(IdColumn::Text(table.strings(name)?));
        }
        if dt.is_numeric() {
            return Ok(IdColumn::Number(table.numbers_f64(name)?));
        }
        Err(HgArrowError::WrongType {
            name: name.to_string(),
            expected: "a process id column (integers or text)".into(),
            found: dt.to_string(),
        }
        .into())
    }

    /// The matching key of a row (`None` for null, NaN, negative or fractional numbers).
    pub(crate) fn key(&self, row: usize, interner: &mut IdInterner) -> Option<u64> {
        match self {
            IdColumn::Text(c) => c
                .get(row)
                .filter(|t| !t.trim().is_empty())
                .map(|t| interner.key_of_text(t)),
            IdColumn::Number(v) => number_key(v[row]),
        }
    }

    /// The id as written (text as is, numbers as integers), for keys and placeholders.
    pub(crate) fn raw(&self, row: usize) -> Option<RawId> {
        match self {
            IdColumn::Text(c) => c.get(row).map(|t| RawId::Text(t.trim().to_string())),
            IdColumn::Number(v) => number_key(v[row]).map(RawId::Number),
        }
    }
}

fn number_key(v: f64) -> Option<u64> {
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 9.0e15).then_some(v as u64)
}

/// An id value as the input wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawId {
    Text(String),
    Number(u64),
}

impl std::fmt::Display for RawId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawId::Text(t) => f.write_str(t),
            RawId::Number(n) => write!(f, "{n}"),
        }
    }
}

pub(crate) fn is_text(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

/// A time column as UTC nanoseconds per row (`None` for null): Arrow timestamps and dates, or
/// text in ISO-8601 form (`2024-01-02 03:04:05.123456`, `T` or space, optional `Z` / `+00:00`).
pub(crate) fn read_times(table: &Table, name: &str) -> Result<Vec<Option<i64>>, ProcTreeError> {
    let dt = table.data_type(name)?.clone();
    if is_text(&dt) {
        let col = table.strings(name)?;
        let mut out = Vec::with_capacity(col.len());
        let mut cache: FastMap<&str, i64> = FastMap::default();
        for row in 0..col.len() {
            match col.get(row).map(str::trim).filter(|t| !t.is_empty()) {
                None => out.push(None),
                Some(text) => {
                    if let Some(&v) = cache.get(text) {
                        out.push(Some(v));
                        continue;
                    }
                    let v = parse_time_text(text).ok_or_else(|| {
                        ProcTreeError::Input(HgArrowError::OutOfRange {
                            name: name.to_string(),
                            row,
                            detail: format!(
                                "'{}' is not a time (expected YYYY-MM-DD HH:MM:SS[.fraction][Z])",
                                shorten(text)
                            ),
                        })
                    })?;
                    if cache.len() < 1 << 16 {
                        cache.insert(text, v);
                    }
                    out.push(Some(v));
                }
            }
        }
        return Ok(out);
    }
    let times = table.times_ns(name)?;
    Ok((0..times.len()).map(|i| times.get(i)).collect())
}

fn shorten(text: &str) -> String {
    if text.len() <= 64 {
        return text.to_string();
    }
    let mut end = 64;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Parses `YYYY-MM-DD[ T]HH:MM[:SS[.fraction]][Z|+00:00|+0000]` or a bare date as UTC ns.
/// Other zone offsets are applied. Text longer than [`MAX_FIELD_BYTES`] is refused.
pub(crate) fn parse_time_text(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() > MAX_FIELD_BYTES || b.len() < 10 {
        return None;
    }
    let num = |s: &[u8]| -> Option<u32> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = num(&b[0..4])? as i64;
    let month = num(&b[5..7])?;
    let day = num(&b[8..10])?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut civil = Civil {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
    };
    let mut rest = &b[10..];
    let mut offset_secs: i64 = 0;
    if !rest.is_empty() {
        if rest[0] != b'T' && rest[0] != b' ' {
            return None;
        }
        rest = &rest[1..];
        if rest.len() < 5 || rest[2] != b':' {
            return None;
        }
        civil.hour = num(&rest[0..2])?;
        civil.minute = num(&rest[3..5])?;
        rest = &rest[5..];
        if rest.first() == Some(&b':') {
            if rest.len() < 3 {
                return None;
            }
            civil.second = num(&rest[1..3])?;
            rest = &rest[3..];
        }
        if rest.first() == Some(&b'.') || rest.first() == Some(&b',') {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            let mut nanos: u64 = 0;
            for (i, d) in rest[1..=digits].iter().enumerate() {
                if i < 9 {
                    nanos = nanos * 10 + (d - b'0') as u64;
                }
            }
            for _ in digits..9 {
                nanos *= 10;
            }
            civil.nanos = nanos as u32;
            rest = &rest[1 + digits..];
        }
        match rest {
            [] | [b'Z'] | [b'z'] => {}
            [sign @ (b'+' | b'-'), tail @ ..] => {
                let tail: Vec<u8> = tail.iter().copied().filter(|c| *c != b':').collect();
                if tail.len() != 4 && tail.len() != 2 {
                    return None;
                }
                let h = num(&tail[0..2])? as i64;
                let m = if tail.len() == 4 {
                    num(&tail[2..4])? as i64
                } else {
                    0
                };
                if h > 23 || m > 59 {
                    return None;
                }
                offset_secs = (h * 3600 + m * 60) * if *sign == b'+' { 1 } else { -1 };
            }
            _ => return None,
        }
        if civil.hour > 23 || civil.minute > 59 || civil.second > 60 {
            return None;
        }
    }
    civil
        .to_ns()?
        .checked_sub(offset_secs.checked_mul(1_000_000_000)?)
}

/// Interns names: each distinct text once, with its lower-case full form and lower-case base
/// name (after the last `\` or `/`) as small integers, so matching compares integers.
#[derive(Default, Debug, Clone)]
pub(crate) struct NameTable {
    lower: FastMap<String, u32>,
    /// Lower-case texts by id.
    pub(crate) lower_texts: Vec<String>,
}

/// The matching forms of one name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NameInfo {
    pub(crate) full: u32,
    pub(crate) base: u32,
    pub(crate) has_sep: bool,
}

impl NameTable {
    fn lower_id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.lower.get(text) {
            return id;
        }
        let id = self.lower_texts.len() as u32;
        self.lower.insert(text.to_string(), id);
        self.lower_texts.push(text.to_string());
        id
    }

    /// The matching forms of a raw name.
    pub(crate) fn intern(&mut self, raw: &str) -> NameInfo {
        let lowered = raw.trim().to_lowercase();
        let sep = lowered.rfind(['\\', '/']);
        let base_text = match sep {
            Some(i) => lowered[i + 1..].to_string(),
            None => lowered.clone(),
        };
        let full = self.lower_id(&lowered);
        let base = self.lower_id(&base_text);
        NameInfo {
            full,
            base,
            has_sep: sep.is_some(),
        }
    }

    /// Interns every row of a name column (distinct values once); `None` for null or empty.
    pub(crate) fn intern_column(&mut self, col: &StringColumn) -> Vec<Option<NameInfo>> {
        let mut seen: FastMap<&str, NameInfo> = FastMap::default();
        (0..col.len())
            .map(|row| {
                let text = col.get(row)?;
                if text.trim().is_empty() {
                    return None;
                }
                if let Some(info) = seen.get(text) {
                    return Some(*info);
                }
                let info = self.intern(text);
                seen.insert(text, info);
                Some(info)
            })
            .collect()
    }
}

/// Whether a process called `process` can be the parent recorded as `parent`: the same
/// lower-case text, or the same base name when either is a bare file name.
pub(crate) fn names_match(process: NameInfo, parent: NameInfo) -> bool {
    process.full == parent.full
        || ((!process.has_sep || !parent.has_sep) && process.base == parent.base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_hex_and_decimal_alike() {
        assert_eq!(parse_numeric_id("0x1610"), Some(0x1610));
        assert_eq!(parse_numeric_id("5648"), Some(5648));
        assert_eq!(parse_numeric_id("0x"), None);
        assert_eq!(parse_numeric_id("12a"), None);
        let mut i = IdInterner::default();
        let a = i.key_of_text("{ABC-1}");
        assert_eq!(i.key_of_text(" {abc-1} "), a);
        assert_ne!(a, i.key_of_text("{ABC-2}"));
        assert!(a & TEXT_ID_BIT != 0);
    }

    #[test]
    fn times_parse_iso_text() {
        let t = parse_time_text("2019-01-15 05:24:24.010").unwrap();
        assert_eq!(
            hg_arrow::time::format_timestamp_ms(t),
            "2019-01-15 05:24:24.010"
        );
        assert_eq!(
            parse_time_text("2019-01-15T05:24:24Z"),
            parse_time_text("2019-01-15 05:24:24")
        );
        assert_eq!(
            parse_time_text("2019-01-15T07:24:24+02:00"),
            parse_time_text("2019-01-15 05:24:24")
        );
        assert_eq!(
            parse_time_text("2019-01-15 05:24:24.123456789").unwrap() % 1_000_000_000,
            123_456_789
        );
        for bad in [
            "2019-13-01",
            "yesterday",
            "2019-01-15 5:24",
            "2019-01-15 05:24:24 junk",
            "",
        ] {
            assert_eq!(parse_time_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_match_full_or_bare() {
        let mut n = NameTable::default();
        let a = n.intern("C:\\Windows\\System32\\cmd.exe");
        let b = n.intern("c:\\windows\\system32\\CMD.EXE");
        let c = n.intern("cmd.exe");
        let d = n.intern("C:\\Temp\\cmd.exe");
        assert!(names_match(a, b));
        assert!(names_match(a, c));
        assert!(!names_match(a, d));
    }
}
