//! Model bytes: `HGSM`, a little-endian u16 format version, then the raw counts in postcard (a
//! compact serde format). Probabilities are not stored: they are derived again on load, so a
//! loaded model is exactly the trained one.

use super::counts::ModelCounts;
use crate::AnalyticsError;

/// The four bytes every saved model starts with.
pub const MAGIC: &[u8; 4] = b"HGSM";
/// The format version written by this build (and the only one it reads).
pub const FORMAT_VERSION: u16 = 1;

pub(crate) fn encode(counts: &ModelCounts) -> Result<Vec<u8>, AnalyticsError> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    let body = postcard::to_allocvec(counts)
        .map_err(|e| AnalyticsError::Output(format!("serializing the model: {e}")))?;
    out.extend_from_slice(&body);
    Ok(out)
}

pub(crate) fn decode(bytes: &[u8]) -> Result<ModelCounts, AnalyticsError> {
    let bad = |m: String| AnalyticsError::ModelBytes(m);
    if bytes.len() < 6 || &bytes[..4] != MAGIC {
        return Err(bad(
            "not a huntglass session model (the bytes do not start with HGSM)".into(),
        ));
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "format version {version} is not supported (this build reads version {FORMAT_VERSION})"
        )));
    }
    // serde pre-allocates at most a bounded amount per length prefix, so a forged length cannot
    // make this allocate more than the input can describe.
    let (counts, rest) = postcard::take_from_bytes::<ModelCounts>(&bytes[6..])
        .map_err(|e| bad(format!("corrupt or truncated model: {e}")))?;
    if !rest.is_empty() {
        return Err(bad(format!(
            "{} unexpected bytes after the model",
            rest.len()
        )));
    }
    Ok(counts)
}
