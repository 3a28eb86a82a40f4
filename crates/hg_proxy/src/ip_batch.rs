//! The request body shared by the address routes (`/api/geo`, `/api/whois`):
//! `{"ips": ["8.8.8.8", ...]}`, refused with a message naming the expected shape or the limit.

use axum::extract::rejection::JsonRejection;
use axum::Json;
use serde::Deserialize;

use crate::error::ProxyError;

/// `{"ips": [...]}` as posted.
#[derive(Deserialize)]
pub(crate) struct IpBatch {
    ips: Vec<String>,
}

/// The addresses of a posted batch, at most `limit` of them.
pub(crate) fn addresses(
    body: Result<Json<IpBatch>, JsonRejection>,
    limit: usize,
) -> Result<Vec<String>, ProxyError> {
    let Json(IpBatch { ips }) = body.map_err(|e| {
        ProxyError::BadRequest(format!(
            "expected {{\"ips\": [strings]}}: {}",
            e.body_text()
        ))
    })?;
    if ips.len() > limit {
        return Err(ProxyError::BadRequest(format!(
            "{} addresses in one request, over the limit of {limit}",
            ips.len()
        )));
    }
    Ok(ips)
}
