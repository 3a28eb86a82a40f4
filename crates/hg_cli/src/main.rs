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
//! - `huntglass proctree [--schema S | --map k=col,...] [--format text|jsonl|csv|arrow] FILE`
//!   builds process trees from process-creation events through `proctree.build` (see [`proctree`]).
//! - `huntglass timeseries stl|periodic [options] FILE` finds time-series anomalies (STL) and
//!   periodic traffic (beaconing) through the `timeseries.*` operations (see [`timeseries`]).
//! - `huntglass serve [--port 8765] [--data DIR] [--config huntglass.toml] [--exit-after-idle SECS] ...`
//!   runs the proxy (`hg_proxy`) on 127.0.0.1 only: demo pages, widget assets, the scenario and the
//!   token-protected query API (see [`server`]).

mod decode;
mod demo_data;
mod input;
mod ioc;
mod proctree;
mod server;
mod sessions;
mod timeseries;

use std::path::PathBuf;

use anyhow::Result;
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
    /// Serve the demo pages, the widget assets, the scenario and the query API on http://127.0.0.1:PORT/.
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
        /// Query library folder (default: $HUNTGLASS_QUERIES, else the repository's queries/).
        #[arg(long)]
        queries: Option<PathBuf>,
        /// huntglass.toml (default: $HUNTGLASS_CONFIG; msticpyconfig.yaml is found through $MSTICPYCONFIG).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Stop after this many seconds without a request.
        #[arg(long, value_name = "SECS")]
        exit_after_idle: Option<u64>,
        /// Stop when the process that started this one exits.
        #[arg(long)]
        exit_with_parent: bool,
        /// Where to write {url, port, token, pid} (default: $HUNTGLASS_RUNTIME_DIR, else $XDG_RUNTIME_DIR/huntglass, else ~/.cache/huntglass; serve-PORT.json).
        #[arg(long)]
        token_file: Option<PathBuf>,
    },
    /// Group events into sessions and score how rare each session's actions are (CSV, JSON lines, Arrow).
    #[command(subcommand)]
    Sessions(sessions::SessionsCommand),
    /// Build process trees from process-creation events (CSV, JSON lines, Arrow): each process under its parent.
    Proctree(proctree::ProctreeArgs),
    /// Time-series anomalies (STL decomposition and residual scores) and periodic traffic (beaconing).
    #[command(subcommand)]
    Timeseries(timeseries::TimeseriesCommand),
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
            queries,
            config,
            exit_after_idle,
            exit_with_parent,
            token_file,
        } => server::run(server::ServeArgs {
            port,
            data,
            assets: resolve_dir(assets, "HUNTGLASS_ASSETS", "widgets/src/huntglass/static"),
            pages: resolve_dir(pages, "HUNTGLASS_PAGES", "examples/pages"),
            queries: resolve_dir(queries, "HUNTGLASS_QUERIES", "queries"),
            config,
            exit_after_idle,
            exit_with_parent,
            token_file,
        }),
        Command::Sessions(command) => sessions::run(command),
        Command::Proctree(args) => proctree::run(&args),
        Command::Timeseries(command) => timeseries::run(command),
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
