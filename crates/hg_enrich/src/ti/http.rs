//! HTTP plumbing shared by the upstream providers: a sliding-window rate limit, a concurrency
//! limit, a per-request timeout, retries with exponential backoff that honour `Retry-After`, and
//! a cap on the size of a response body.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Largest response body read from a provider.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Limits of one provider.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpLimits {
    /// At most this many requests start within any `window` (`None`: no rate limit).
    pub max_requests: Option<u32>,
    /// The window of `max_requests`.
    pub window: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Time allowed for one request, body included.
    pub timeout: Duration,
    /// Further attempts after a 429, a 5xx, a timeout or a connection failure.
    pub max_retries: u32,
    /// First backoff without `Retry-After`; doubled on each attempt.
    pub backoff: Duration,
    /// Longest wait accepted from `Retry-After` (longer: the 429 is reported instead).
    pub max_retry_wait: Duration,
}

impl HttpLimits {
    /// Defaults: no rate limit, 4 in flight, 30 s timeout, 2 retries from 1 s, waits of up to 60 s.
    pub fn standard() -> HttpLimits {
        HttpLimits {
            max_requests: None,
            window: Duration::from_secs(60),
            concurrency: 4,
            timeout: Duration::from_secs(30),
            max_retries: 2,
            backoff: Duration::from_secs(1),
            max_retry_wait: Duration::from_secs(60),
        }
    }
}

/// Where and how a provider is reached.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Base URL (the service's by default; a fake upstream in tests, a mirror on site).
    pub base_url: String,
    /// The key, sent only in the provider's header (never in a URL).
    pub auth_key: Option<String>,
    /// The limits.
    pub limits: HttpLimits,
}

/// A sliding-window limiter: at most `max` starts in any `window`.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    starts: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    /// A limiter of `max` per `window` (`max` 0 is treated as 1).
    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            max: max.max(1),
            window,
            starts: Mutex::new(VecDeque::new()),
        }
    }

    /// Waits until a request may start, and records it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut starts = self
                    .starts
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let now = Instant::now();
                while starts
                    .front()
                    .is_some_and(|&t| now.duration_since(t) >= self.window)
                {
                    starts.pop_front();
                }
                if starts.len() < self.max as usize {
                    starts.push_back(now);
                    return;
                }
                match starts.front() {
                    Some(&oldest) => (oldest + self.window).saturating_duration_since(now),
                    None => Duration::ZERO,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// What one request came to after its retries.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// An HTTP answer (any status).
    Response {
        /// HTTP status.
        status: u16,
        /// Canonical reason phrase.
        reason: String,
        /// Body (at most [`MAX_BODY_BYTES`]).
        body: Vec<u8>,
    },
    /// No usable answer: timeout, connection failure, oversize body.
    Failed(String),
}

/// The shared client and limits of one provider.
#[derive(Debug)]
pub(crate) struct Transport {
    pub client: reqwest::Client,
    pub limits: HttpLimits,
    pub limiter: Option<RateLimiter>,
    pub in_flight: Semaphore,
}

impl Transport {
    pub fn new(limits: HttpLimits) -> Result<Transport, String> {
        let client = reqwest::Client::builder()
            .timeout(limits.timeout)
            .user_agent(concat!("huntglass/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Transport {
            client,
            limiter: limits
                .max_requests
                .map(|max| RateLimiter::new(max, limits.window)),
            in_flight: Semaphore::new(limits.concurrency.max(1)),
            limits,
        })
    }

    /// Sends the request `build` makes (once per attempt), retrying as the limits say.
    pub async fn fetch(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Fetched {
        let Ok(_permit) = self.in_flight.acquire().await else {
            return Fetched::Failed("the provider is shutting down".into());
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(limiter) = &self.limiter {
                limiter.acquire().await;
            }
            let outcome = self.once(&build).await;
            let retry_wait = match &outcome {
                Ok((status, _, _, retry_after)) if is_retryable(*status) => match retry_after {
                    Some(wait) if *wait > self.limits.max_retry_wait => None,
                    Some(wait) => Some(*wait),
                    None => Some(self.backoff(attempt)),
                },
                Ok(_) => None,
                Err((_, retryable)) if *retryable => Some(self.backoff(attempt)),
                Err(_) => None,
            };
            match (retry_wait, attempt <= self.limits.max_retries) {
                (Some(wait), true) => tokio::time::sleep(wait).await,
                _ => {
                    return match outcome {
                        Ok((status, reason, body, _)) => Fetched::Response {
                            status,
                            reason,
                            body,
                        },
                        Err((message, _)) => Fetched::Failed(message),
                    }
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.limits
            .backoff
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.limits.max_retry_wait)
    }

    #[allow(clippy::type_complexity)]
    async fn once(
        &self,
        build: &impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<(u16, String, Vec<u8>, Option<Duration>), (String, bool)> {
        let mut response = build(&self.client).send().await.map_err(describe)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err((
                    format!("the response is larger than {MAX_BODY_BYTES} bytes"),
                    false,
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((
            status.as_u16(),
            status.canonical_reason().unwrap_or("").to_string(),
            body,
            retry_after,
        ))
    }
}

fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// A message for a failed request (never the URL's query, which holds no key anyway) and
/// whether trying again may help.
fn describe(e: reqwest::Error) -> (String, bool) {
    if e.is_timeout() {
        ("the request timed out".into(), true)
    } else if e.is_connect() {
        (format!("cannot connect: {}", root_cause(&e)), true)
    } else if e.is_body() || e.is_decode() {
        (
            format!("reading the response failed: {}", root_cause(&e)),
            true,
        )
    } else {
        (format!("the request failed: {}", root_cause(&e)), false)
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// `Retry-After` as delta-seconds or an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let target = parse_imf_fixdate(value)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(target.saturating_sub(now)))
}

fn parse_imf_fixdate(value: &str) -> Option<u64> {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    let rest = value.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u64
        + 1;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), as in Howard Hinnant's algorithm.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + (*h * 3600 + *m * 60 + *s) as i64;
    u64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_imf_fixdate("Sun, 06 Foo 1994 08:49:37 GMT"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_holds_the_fifth_request_for_a_window() {
        let limiter = RateLimiter::new(4, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..4 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(60));
        assert!(start.elapsed() < Duration::from_secs(61));
        // Eight more: two further windows.
        for _ in 0..8 {
            limiter.acquire().await;
        }
        assert!(start.elapsed() >= Duration::from_secs(180));
    }
}
