//! Who may talk to the proxy: the per-start token, the Host and Origin checks, and the page cookie.
//!
//! Every request must name this server in `Host` (`127.0.0.1:PORT` or `localhost:PORT`): a web
//! page that rebinds its own DNS name to 127.0.0.1 still sends its name and gets 403. A request
//! carrying an `Origin` other than this server's own gets 403, whatever it asks for.
//!
//! `/api/*` needs the token, either as `Authorization: Bearer TOKEN` (the Python client, scripts)
//! or as the page cookie. The demo pages get the cookie this way: opening
//! `http://127.0.0.1:PORT/?token=TOKEN` (the page URL with the printed token, as Jupyter's) answers a redirect to the
//! same page without the token plus `Set-Cookie: hg_token_PORT=TOKEN; HttpOnly; SameSite=Strict;
//! Path=/`. Page scripts then call `/api/*` with `credentials: "same-origin"`; they never see the
//! token (HttpOnly), and other origins cannot use it: SameSite=Strict keeps it off cross-site
//! requests, and the Origin check refuses same-site pages on other ports (cookies ignore ports,
//! so a page at localhost:8888 would otherwise send it). Cookie-authenticated requests must also
//! not be marked `Sec-Fetch-Site: cross-site` / `same-site`. We chose the cookie over a bootstrap
//! endpoint that hands out the token because any local process (another user's too) could call
//! such an endpoint, while the token in the printed URL reaches only whoever can read this
//! process's output or its 0600 token file. Pages opened without the token still load (the
//! scenario files under `/data/` need no token) but their API calls get 401.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use crate::error::ProxyError;
use crate::secret::{constant_time_eq, Secret};

/// A new random token: 32 bytes from the operating system, as 64 hex digits.
pub fn new_token() -> Result<Secret, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(Secret::new(
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ))
}

/// Request activity, for `--exit-after-idle`.
pub struct Activity {
    started: Instant,
    last_ms: AtomicU64,
    active: AtomicUsize,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            started: Instant::now(),
            last_ms: AtomicU64::new(0),
            active: AtomicUsize::new(0),
        }
    }
}

impl Activity {
    fn touch(&self) {
        self.last_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Seconds since the last request ended, or 0 while one is running.
    pub fn idle_seconds(&self) -> u64 {
        if self.active.load(Ordering::Relaxed) > 0 {
            return 0;
        }
        let now = self.started.elapsed().as_millis() as u64;
        now.saturating_sub(self.last_ms.load(Ordering::Relaxed)) / 1000
    }
}

struct ActiveRequest(Arc<Guard>);

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        self.0.activity.touch();
        self.0.activity.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The checks of one server.
pub struct Guard {
    port: u16,
    token: Secret,
    /// Request activity.
    pub activity: Activity,
}

impl Guard {
    /// Checks for a server on `port` with `token`.
    pub fn new(port: u16, token: Secret) -> Guard {
        Guard {
            port,
            token,
            activity: Activity::default(),
        }
    }

    /// Name of the page cookie (per port: cookies do not separate ports).
    pub fn cookie_name(&self) -> String {
        format!("hg_token_{}", self.port)
    }

    fn host_ok(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        // A bare address or `localhost` (no port) cannot be a rebinding name either.
        let host = host.to_ascii_lowercase();
        host == "127.0.0.1"
            || host == "localhost"
            || host == format!("127.0.0.1:{}", self.port)
            || host == format!("localhost:{}", self.port)
    }

    fn origin_ok(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN) {
            None => true,
            Some(origin) => {
                let origin = origin.to_str().unwrap_or("").to_ascii_lowercase();
                origin == format!("http://127.0.0.1:{}", self.port)
                    || origin == format!("http://localhost:{}", self.port)
            }
        }
    }

    fn bearer_ok(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .is_some_and(|t| constant_time_eq(t.trim().as_bytes(), self.token.expose().as_bytes()))
    }

    fn cookie_ok(&self, headers: &HeaderMap) -> bool {
        let name = self.cookie_name();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(k, v)| {
                k == name && constant_time_eq(v.as_bytes(), self.token.expose().as_bytes())
            })
    }

    fn query_token<'a>(&self, query: Option<&'a str>) -> Option<&'a str> {
        query?
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
    }
}

/// The middleware: Host and Origin for everything, the token for `/api/*`, the cookie for pages
/// opened with `?token=`.
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    if !guard.host_ok(headers) {
        return ProxyError::Forbidden(format!(
            "huntglass answers requests for Host 127.0.0.1:{port} or localhost:{port} only (DNS-rebinding protection)",
            port = guard.port
        ))
        .into_response();
    }
    if !guard.origin_ok(headers) {
        return ProxyError::Forbidden("requests from other origins are refused".into())
            .into_response();
    }
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        let authorized = if guard.bearer_ok(headers) {
            true
        } else if guard.cookie_ok(headers) {
            let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
            if matches!(site, Some(s) if s != "same-origin" && s != "none") {
                return ProxyError::Forbidden(
                    "cookie-authenticated API calls must come from the proxy's own pages".into(),
                )
                .into_response();
            }
            true
        } else {
            false
        };
        if !authorized {
            return ProxyError::Unauthorized(
                "the API needs the token printed by `huntglass serve` (Authorization: Bearer TOKEN; pages: open the printed URL with ?token=)".into(),
            )
            .into_response();
        }
    } else if let Some(token) = guard.query_token(request.uri().query()) {
        if !constant_time_eq(token.as_bytes(), guard.token.expose().as_bytes()) {
            return ProxyError::Unauthorized(
                "wrong token in the URL: open the URL printed by `huntglass serve`".into(),
            )
            .into_response();
        }
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SEE_OTHER;
        let cookie = format!(
            "{}={}; HttpOnly; SameSite=Strict; Path=/",
            guard.cookie_name(),
            guard.token.expose()
        );
        if let (Ok(location), Ok(cookie)) =
            (HeaderValue::from_str(path), HeaderValue::from_str(&cookie))
        {
            response.headers_mut().insert(header::LOCATION, location);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
        }
        return response;
    }
    guard.activity.active.fetch_add(1, Ordering::Relaxed);
    let active = ActiveRequest(Arc::clone(&guard));
    let response = next.run(request).await;
    // The request stays active until its body has been sent (long query streams).
    let (parts, body) = response.into_parts();
    let body = Body::from_stream(body.into_data_stream().map(move |chunk| {
        let _keep = &active;
        chunk
    }));
    Response::from_parts(parts, body)
}
