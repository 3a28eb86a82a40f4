//! The huntglass proxy: an authenticated 127.0.0.1 service for the demo pages, the query library and data providers, holding the credentials.
//!
//! `huntglass serve` starts it ([`app::serve`]). It serves:
//! - the demo pages (`/`), widget assets (`/static/`) and the scenario files (`/data/`), see
//!   [`static_files`];
//! - `GET /api/health`, `GET /api/queries`, `POST /api/query` ([`api`]): the query library
//!   ([`queries`], YAML files under `queries/`) run by query providers ([`provider`]); the
//!   embedded one is [`local`] (SQL with Apache DataFusion over the scenario and local files),
//!   remote platforms plug in through [`provider::QueryProvider`] (crate `hg_remote`);
//! - `/api/ti`, `/api/geo`, `/api/whois` from [`enrich_routes`] (crate `hg_enrich`).
//!
//! # Security
//!
//! It binds 127.0.0.1 only. A 256-bit token from the operating system's randomness is made at each
//! start, written to a user-only file ([`app::default_token_file`], 0600 in a 0700 folder) and
//! printed once at start (`token: ...`). [`auth`] checks Host (DNS
//! rebinding) and Origin on every request and the token on `/api/*`; it explains how the pages
//! get the token (an HttpOnly SameSite=Strict cookie set when the printed URL is opened).
//! Credentials from the configuration ([`config`]) are [`secret::Secret`]s or stay inside the
//! provider sections; they never reach a response, a log line or an error message, and API errors
//! ([`error::ProxyError`]) carry messages written for the client, internals go to the log.
//!
//! # Arrow versions
//!
//! DataFusion 55 is built on Arrow 59 while the other crates use Arrow 60; the proxy and its
//! providers use DataFusion's, re-exported as [`arrow`], and scenario tables cross from `hg_demo`
//! as IPC bytes (a copy at start, about 30 ms for the scale-1 scenario).
//!
//! # Limits
//!
//! Request bodies 4 MiB ([`app::MAX_REQUEST_BYTES`]); configuration files 4 MiB and 32 levels;
//! query files 1 MiB, 2,000 files, 20,000 queries; list parameters 10,000 items; raw SQL 1 MiB;
//! `max_rows` up to 100 million; Arrow IPC stream files loaded into memory up to 2 GiB (other
//! formats are scanned lazily).

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod enrich_routes;
pub mod error;
pub mod geo_routes;
mod ip_batch;
pub mod local;
pub mod provider;
pub mod queries;
pub mod remote;
pub mod secret;
pub mod static_files;
pub mod whois_routes;

/// The Arrow crate the proxy and its providers share (DataFusion's).
pub use datafusion::arrow;

pub use app::{serve, ServeError, ServeOptions};
pub use config::{Config, ConfigError, ProviderSection, SectionKind};
pub use error::ProxyError;
pub use provider::{ProviderSet, QueryProvider, QueryRequest, QueryResult, ResultItem, RunOptions};
pub use queries::{ParamType, ParamValue, QueryDef, QueryLibrary};
pub use secret::Secret;
