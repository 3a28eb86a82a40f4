//! Putting the service together: the router, the token file, start-up lines and shutdown.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;

use crate::api::{self, ApiState};
use crate::auth::{self, Guard};
use crate::config::Config;
use crate::error::ProxyError;
use crate::provider::ProviderSet;
use crate::queries::QueryLibrary;
use crate::secret::Secret;
use crate::static_files::{self, StaticConfig};

/// Largest request body accepted by the API.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// A failure to start or run the service.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The port could not be bound.
    #[error("cannot listen on {address}: {problem}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        problem: String,
    },
    /// The token could not be generated or its file written.
    #[error("{0}")]
    Token(String),
    /// The server failed while running.
    #[error("serving: {0}")]
    Serve(String),
}

/// Everything the service needs.
pub struct ServeOptions {
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Pages, assets and scenario files.
    pub statics: StaticConfig,
    /// The configuration (provider sections for the enrichment routes).
    pub config: Arc<Config>,
    /// The query library.
    pub library: Arc<QueryLibrary>,
    /// The query providers.
    pub providers: ProviderSet,
    /// Stop after this long without requests.
    pub exit_after_idle: Option<Duration>,
    /// Stop when the process that started this one exits.
    pub exit_with_parent: bool,
    /// Where to write the token file (default: [`default_token_file`]).
    pub token_file: Option<PathBuf>,
}

/// The folder of token files: `$HUNTGLASS_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/huntglass`, else
/// `~/.cache/huntglass`.
pub fn runtime_dir() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("HUNTGLASS_RUNTIME_DIR") {
        return dir;
    }
    if let Some(dir) = var("XDG_RUNTIME_DIR") {
        return dir.join("huntglass");
    }
    var("HOME")
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache")
        .join("huntglass")
}

/// The token file of a server on `port`: `<runtime_dir>/serve-<port>.json`.
pub fn default_token_file(port: u16) -> PathBuf {
    runtime_dir().join(format!("serve-{port}.json"))
}

/// Writes `{url, port, token, pid}` to `path`, readable by the user only (0600, folder 0700).
pub fn write_token_file(path: &Path, port: u16, token: &Secret) -> Result<(), String> {
    let problem = |what: &str, e: std::io::Error| format!("{}: cannot {what}: {e}", path.display());
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(dir)
            .map_err(|e| problem("create its folder", e))?;
    }
    let content = serde_json::json!({
        "url": format!("http://127.0.0.1:{port}/"),
        "port": port,
        "token": token.expose(),
        "pid": std::process::id(),
    })
    .to_string();
    // A stale file of an earlier server is replaced, never written through (it may be a link).
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(problem("replace the old token file", e)),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| problem("create", e))?;
    file.write_all(content.as_bytes())
        .map_err(|e| problem("write", e))?;
    Ok(())
}

/// The whole app: pages, assets, data and the API behind the checks of `guard`.
pub fn router(
    statics: StaticConfig,
    api_state: ApiState,
    config: &Config,
    guard: Arc<Guard>,
) -> Router {
    let api_state = Arc::new(api_state);
    let api = Router::new()
        .route("/api/health", get(api::health))
        .route("/api/queries", get(api::list_queries))
        .route("/api/query", post(api::run_query))
        .with_state(api_state)
        .merge(crate::enrich_routes::routes(config))
        .merge(crate::geo_routes::routes(config))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES));
    api.merge(static_files::router(statics))
        .layer(axum::middleware::from_fn_with_state(guard, auth::check))
}

async fn api_not_found() -> ProxyError {
    ProxyError::NotFound(
        "no such API route (see GET /api/health, /api/queries, POST /api/query)".into(),
    )
}

/// Binds 127.0.0.1:`port`, writes the token file, prints the URL, `token: <value>` and the token
/// file's path to `out`, and serves until Ctrl-C / SIGTERM, the idle limit or the parent's exit.
pub async fn serve(options: ServeOptions, out: &mut (dyn Write + Send)) -> Result<(), ServeError> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| ServeError::Bind {
            address,
            problem: e.to_string(),
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| ServeError::Bind {
            address,
            problem: e.to_string(),
        })?
        .port();
    let token = auth::new_token()
        .map_err(|e| ServeError::Token(format!("no randomness from the operating system: {e}")))?;
    let token_file = options
        .token_file
        .clone()
        .unwrap_or_else(|| default_token_file(port));
    write_token_file(&token_file, port, &token).map_err(ServeError::Token)?;
    let guard = Arc::new(Guard::new(port, token.clone()));
    let app = router(
        options.statics,
        ApiState {
            library: options.library,
            providers: options.providers,
        },
        &options.config,
        Arc::clone(&guard),
    );
    // The first line is the one scripts wait for; the token is printed once, on its own line.
    let lines = format!(
        "huntglass serving http://127.0.0.1:{port}/\ntoken: {token}\ntoken file: {file} (pages: open http://127.0.0.1:{port}/?token=<token> to use the API)\n",
        token = token.expose(),
        file = token_file.display()
    );
    let printed = out.write_all(lines.as_bytes()).and_then(|_| out.flush());
    if let Err(e) = printed {
        let _ = std::fs::remove_file(&token_file);
        return Err(ServeError::Serve(format!(
            "writing the start-up lines: {e}"
        )));
    }
    let stop = stop_signal(
        Arc::clone(&guard),
        options.exit_after_idle,
        options.exit_with_parent,
    );
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await;
    let _ = std::fs::remove_file(&token_file);
    served.map_err(|e| ServeError::Serve(e.to_string()))
}

/// Resolves on Ctrl-C, SIGTERM, the idle limit, or the parent's exit (whichever comes first).
async fn stop_signal(guard: Arc<Guard>, idle: Option<Duration>, with_parent: bool) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let watch = async {
        #[cfg(unix)]
        let parent = std::os::unix::process::parent_id();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            if let Some(limit) = idle {
                if guard.activity.idle_seconds() >= limit.as_secs().max(1) {
                    eprintln!("huntglass: no request for {} s, stopping", limit.as_secs());
                    return;
                }
            }
            #[cfg(unix)]
            if with_parent && std::os::unix::process::parent_id() != parent {
                eprintln!("huntglass: the parent process exited, stopping");
                return;
            }
            #[cfg(not(unix))]
            let _ = with_parent;
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
        _ = watch => {},
    }
}
