//! The `huntglass` command: `serve` for the demo pages and batch subcommands over the huntglass engines.
//!
//! - `huntglass demo-data --out DIR [--scale N] [--seed S]` writes the built-in scenario
//!   (`<Table>.arrow` IPC streams, `<Table>.csv` and `manifest.json`).
//! - `huntglass decode [--column C] [--format jsonl|csv] [FILE|-]` decodes encoded content
//!   layer by layer through the `decode.unpack` operation (see [`decode`]).
//! - `huntglass ioc [--types T,...] [--columns C,...] [--format jsonl|csv] [FILE|-]` reports
//!   indicators of compromise through the `ioc.extract` operation (see [`ioc`]).
//! - `huntglass sessions build|score ...` groups events into sessions and scores their rarity
//!   through the `sessions.*` operations (see [`sessions`]).
//! - `huntglass serve [--port 8765] [--data DIR] [--assets DIR] [--pages DIR]` serves the demo
//!   pages, the widget assets and the scenario on 127.0.0.1 only (see [`server`]).

mod decode;
mod demo_data;
mod ioc;
mod server;
mod sessions;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

/// huntglass: notebook toolkit for security investigations.
#[derive(Parser)]
#[command(name = "huntglass", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the built-in investigation scenario as Arrow IPC streams, CSV files and a manifest.
    DemoData {
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Multiplies the background volume (1 = about 13,500 process events, 100 = about 1.3 million).
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// Seed of the generator; the same seed and scale give identical files.
        #[arg(long, default_value_t = hg_demo::DEFAULT_SEED)]
        seed: u64,
    },
    /// Serve the demo pages, the widget assets and the scenario on http://127.0.0.1:PORT/.
    Serve {
        /// Port on 127.0.0.1; 0 picks a free one (the chosen URL is printed).
        #[arg(long, default_value_t = 8765)]
        port: u16,
        /// Serve the scenario files of this directory (from `demo-data`) instead of generating it in memory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Directory of widget.js and hg_wasm_bg.wasm (default: $HUNTGLASS_ASSETS, else the repository's built assets).
        #[arg(long)]
        assets: Option<PathBuf>,
        /// Directory of the demo pages (default: $HUNTGLASS_PAGES, else the repository's examples/pages).
        #[arg(long)]
        pages: Option<PathBuf>,
    },
    /// Group events into sessions and score how rare each session's actions are (CSV, JSON lines, Arrow).
    #[command(subcommand)]
    Sessions(sessions::SessionsCommand),
    /// Decode encoded content (base64, hex, gzip, zip, ...) layer by layer in a text, CSV, JSON-lines or Arrow IPC file.
    Decode(decode::DecodeArgs),
    /// Find indicators of compromise in a text, CSV, JSON-lines or Arrow IPC file (or stdin as text).
    Ioc {
        /// Report only these types, comma-separated (ipv4,ipv6,dns,url,email,md5_hash,...; default all).
        #[arg(long, value_delimiter = ',')]
        types: Option<Vec<String>>,
        /// Columns to scan in a CSV, JSON-lines or Arrow input, comma-separated (default: every text column).
        #[arg(long, value_delimiter = ',')]
        columns: Option<Vec<String>>,
        /// Output format: one JSON object per line, or CSV with a header.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ioc::Format,
        /// Accept domains whose suffix is not in the public suffix list (host.corp).
        #[arg(long)]
        ignore_tlds: bool,
        /// Do not recognise defanged forms (hxxp, [.], [at], ...).
        #[arg(long)]
        no_defang: bool,
        /// Input file (.csv, .jsonl/.ndjson/.json, .arrow/.arrows/.ipc, else plain text); `-` or none reads stdin as text.
        file: Option<PathBuf>,
    },
}

/// Where the repository this binary was built from keeps a directory.
fn repo_dir(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// Flag, else environment variable, else the repository default.
fn resolve_dir(flag: Option<PathBuf>, env_var: &str, default_relative: &str) -> PathBuf {
    flag.or_else(|| {
        std::env::var_os(env_var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| repo_dir(default_relative))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::DemoData { out, scale, seed } => demo_data::run(&out, seed, scale),
        Command::Serve {
            port,
            data,
            assets,
            pages,
        } => {
            let assets = resolve_dir(assets, "HUNTGLASS_ASSETS", "widgets/src/huntglass/static");
            let pages = resolve_dir(pages, "HUNTGLASS_PAGES", "examples/pages");
            serve(port, data, assets, pages)
        }
        Command::Sessions(command) => sessions::run(command),
        Command::Decode(args) => decode::run(&args),
        Command::Ioc {
            types,
            columns,
            format,
            ignore_tlds,
            no_defang,
            file,
        } => ioc::run(&ioc::IocArgs {
            input: file,
            types,
            columns,
            format,
            ignore_tlds,
            no_defang,
        }),
    }
}

fn serve(port: u16, data: Option<PathBuf>, assets: PathBuf, pages: PathBuf) -> Result<()> {
    if !assets.join("widget.js").is_file() || !assets.join("hg_wasm_bg.wasm").is_file() {
        bail!(
            "widget assets not found in {} (widget.js and hg_wasm_bg.wasm): run `make build`, \
             or point --assets / HUNTGLASS_ASSETS at a directory holding them",
            assets.display()
        );
    }
    if !pages.join("index.html").is_file() {
        bail!(
            "demo pages not found: {} has no index.html; pass --pages / HUNTGLASS_PAGES",
            pages.display()
        );
    }
    let data = match data {
        Some(dir) => {
            if !dir.join("manifest.json").is_file() {
                bail!(
                    "{} holds no manifest.json: write the scenario there with `huntglass demo-data --out {}`",
                    dir.display(),
                    dir.display()
                );
            }
            server::DataSource::Directory(dir)
        }
        None => {
            let scenario = hg_demo::generate(hg_demo::DEFAULT_SEED, 1)
                .context("generating the built-in scenario")?;
            server::DataSource::memory(&scenario)?
        }
    };
    let config = server::ServeConfig {
        pages,
        assets,
        data,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let bound = listener.local_addr().context("reading the bound address")?;
        let mut stdout = std::io::stdout();
        writeln!(
            stdout,
            "huntglass serving http://127.0.0.1:{}/",
            bound.port()
        )?;
        stdout.flush()?;
        axum::serve(listener, server::router(config))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving")?;
        eprintln!("huntglass: stopped");
        Ok(())
    })
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
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
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
