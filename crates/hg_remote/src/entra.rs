//! Microsoft Entra ID tokens: client credentials and device code (RFC 8628) against a
//! configurable authority, cached and refreshed before they expire.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http::Http;
use crate::{QueryEvent, RemoteError, ResultSink, Secret};

/// Azure CLI's public client id, which azure-identity's device-code credential also uses when no
/// application of one's own is registered.
pub const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// How the token is obtained.
#[derive(Clone, Debug)]
pub enum EntraFlow {
    /// A service principal's client id and secret (`grant_type=client_credentials`).
    ClientSecret {
        /// Application (client) id.
        client_id: String,
        /// Client secret.
        client_secret: Secret,
    },
    /// Interactive sign-in by device code; the prompt goes to the sink as
    /// [`QueryEvent::SignIn`] (and, from the proxy, to its console).
    DeviceCode {
        /// Public client id.
        client_id: String,
    },
}

/// Token settings.
#[derive(Clone, Debug)]
pub struct EntraConfig {
    /// Authority host, e.g. `https://login.microsoftonline.com`.
    pub authority: String,
    /// Tenant id (GUID) or verified domain.
    pub tenant_id: String,
    /// Flow and credentials.
    pub flow: EntraFlow,
    /// Scope asked for (`https://api.loganalytics.io/.default`).
    pub scope: String,
    /// A cached token is renewed when it has less than this left.
    pub refresh_margin: Duration,
    /// Shortest wait between device-code polls (the server's `interval` applies when longer).
    pub min_poll_interval: Duration,
    /// Longest a device-code sign-in is waited for.
    pub max_sign_in_wait: Duration,
}

struct CachedToken {
    access: Secret,
    expires_at: Instant,
    refresh: Option<Secret>,
}

/// Obtains and caches tokens (one refresh at a time; concurrent callers share it).
pub struct EntraAuth {
    cfg: EntraConfig,
    http: Http,
    cache: tokio::sync::Mutex<Option<CachedToken>>,
}

impl EntraAuth {
    pub(crate) fn new(cfg: EntraConfig, http: Http) -> Self {
        if let EntraFlow::ClientSecret { client_secret, .. } = &cfg.flow {
            http.add_secret(client_secret);
        }
        Self {
            cfg,
            http,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    fn endpoint(&self, what: &str) -> String {
        format!(
            "{}/{}/oauth2/v2.0/{what}",
            self.cfg.authority.trim_end_matches('/'),
            self.cfg.tenant_id
        )
    }

    fn client_id(&self) -> &str {
        match &self.cfg.flow {
            EntraFlow::ClientSecret { client_id, .. } | EntraFlow::DeviceCode { client_id } => {
                client_id
            }
        }
    }

    /// A valid access token: the cached one while it has more than `refresh_margin` left, else a
    /// new one (refresh token first, where the flow gave one).
    pub async fn token(&self, sink: &mut dyn ResultSink) -> Result<Secret, RemoteError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref() {
            if c.expires_at > Instant::now() + self.cfg.refresh_margin {
                return Ok(c.access.clone());
            }
        }
        let refresh = cache.as_ref().and_then(|c| c.refresh.clone());
        let fresh = match (&self.cfg.flow, refresh) {
            (EntraFlow::ClientSecret { client_secret, .. }, _) => {
                let secret = client_secret.clone();
                let form = vec![
                    ("client_id", self.client_id().to_string()),
                    ("client_secret", secret.expose().to_string()),
                    ("scope", self.cfg.scope.clone()),
                    ("grant_type", "client_credentials".to_string()),
                ];
                self.token_request(&form, sink).await?
            }
            (EntraFlow::DeviceCode { .. }, Some(refresh)) => {
                let form = vec![
                    ("client_id", self.client_id().to_string()),
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", refresh.expose().to_string()),
                    ("scope", format!("{} offline_access", self.cfg.scope)),
                ];
                match self.token_request(&form, sink).await {
                    Ok(t) => t,
                    Err(RemoteError::Auth { .. }) => self.device_code(sink).await?,
                    Err(e) => return Err(e),
                }
            }
            (EntraFlow::DeviceCode { .. }, None) => self.device_code(sink).await?,
        };
        let access = fresh.access.clone();
        *cache = Some(fresh);
        Ok(access)
    }

    /// Forgets the cached token (after the API refused it).
    pub async fn invalidate(&self) {
        if let Some(c) = self.cache.lock().await.as_mut() {
            c.expires_at = Instant::now();
        }
    }

    async fn token_request(
        &self,
        form: &[(&str, String)],
        sink: &mut dyn ResultSink,
    ) -> Result<CachedToken, RemoteError> {
        let url = self.endpoint("token");
        let client = self.http.client().clone();
        let build = || client.post(&url).form(form);
        let resp = self.http.send(&build, sink).await?;
        let status = resp.status();
        if status.is_success() {
            let v = self.http.read_json(resp).await?;
            return self.parse_token(&v);
        }
        let detail = self.http.summary_of(resp).await;
        if status.is_client_error() {
            Err(RemoteError::Auth {
                provider: self.http.provider,
                detail: format!("token endpoint answered HTTP {}: {detail}", status.as_u16()),
            })
        } else {
            Err(RemoteError::Upstream {
                provider: self.http.provider,
                status: status.as_u16(),
                detail: format!("token endpoint: {detail}"),
            })
        }
    }

    fn parse_token(&self, v: &Value) -> Result<CachedToken, RemoteError> {
        let bad = |what: &str| RemoteError::Response {
            provider: self.http.provider,
            detail: format!("token reply: {what}"),
        };
        let access = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("no access_token"))?;
        // v2 sends a number, the v1 endpoint the same number as text.
        let expires_in = match v.get("expires_in") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            _ => None,
        }
        .ok_or_else(|| bad("expires_in missing or not a number"))?;
        let access = Secret::new(access);
        self.http.add_secret(&access);
        let refresh = v
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(Secret::new);
        if let Some(r) = &refresh {
            self.http.add_secret(r);
        }
        Ok(CachedToken {
            access,
            expires_at: Instant::now() + Duration::from_secs(expires_in.min(86_400)),
            refresh,
        })
    }

    async fn device_code(&self, sink: &mut dyn ResultSink) -> Result<CachedToken, RemoteError> {
        let provider = self.http.provider;
        let url = self.endpoint("devicecode");
        let client = self.http.client().clone();
        let form = [
            ("client_id", self.client_id().to_string()),
            ("scope", format!("{} offline_access", self.cfg.scope)),
        ];
        let build = || client.post(&url).form(&form);
        let resp = self.http.send(&build, sink).await?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            let detail = self.http.summary_of(resp).await;
            return Err(RemoteError::Auth {
                provider,
                detail: format!("device code request answered HTTP {status}: {detail}"),
            });
        }
        let v = self.http.read_json(resp).await?;
        let field = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| RemoteError::Response {
                    provider,
                    detail: format!("device code reply: no `{k}`"),
                })
        };
        let device_code = Secret::new(field("device_code")?);
        self.http.add_secret(&device_code);
        let user_code = field("user_code")?;
        let verification_uri = field("verification_uri")?;
        let message = v
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!("To sign in, open {verification_uri} and enter the code {user_code}.")
            });
        let expires_in = v.get("expires_in").and_then(Value::as_u64).unwrap_or(900);
        let mut interval =
            Duration::from_secs(v.get("interval").and_then(Value::as_u64).unwrap_or(5))
                .max(self.cfg.min_poll_interval);
        sink.event(QueryEvent::SignIn {
            message,
            verification_uri,
            user_code,
        });
        let deadline =
            Instant::now() + Duration::from_secs(expires_in).min(self.cfg.max_sign_in_wait);
        let token_url = self.endpoint("token");
        let poll_form = [
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:device_code".to_string(),
            ),
            ("client_id", self.client_id().to_string()),
            ("device_code", device_code.expose().to_string()),
        ];
        loop {
            if Instant::now() >= deadline {
                return Err(RemoteError::Auth {
                    provider,
                    detail: "device-code sign-in was not completed in time".into(),
                });
            }
            tokio::time::sleep(interval).await;
            let build = || client.post(&token_url).form(&poll_form);
            let resp = self.http.send(&build, sink).await?;
            let status = resp.status();
            if status.is_success() {
                let v = self.http.read_json(resp).await?;
                return self.parse_token(&v);
            }
            let body = self.http.read_body(resp).await.unwrap_or_default();
            let code = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            match code.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval += Duration::from_secs(5),
                _ => {
                    let detail = self.http.redact(&crate::http::summarize_body(&body));
                    let why = match code.as_str() {
                        "authorization_declined" => "the user declined the sign-in",
                        "expired_token" => "the device code expired before sign-in",
                        "bad_verification_code" => "the device code was not recognized",
                        _ => "device-code sign-in failed",
                    };
                    return Err(RemoteError::Auth {
                        provider,
                        detail: format!("{why} (HTTP {}: {detail})", status.as_u16()),
                    });
                }
            }
        }
    }
}
