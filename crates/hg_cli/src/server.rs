//! `huntglass serve`: builds the proxy ([`hg_proxy`]) from the command line and runs it.
//!
//! The scenario is generated once (or read from `--data`) and serves both `/data/` and the
//! `local` query provider; the remote providers (Microsoft Sentinel, Splunk, Elasticsearch) come
//! from the configuration. The query library is `--queries`, else `$HUNTGLASS_QUERIES`, else the
//! repository's `queries/` folder, plus the configuration's `query_folders`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use hg_proxy::local::{scenario_dir_ipc, scenario_ipc, LocalProvider};
use hg_proxy::static_files::{DataSource, StaticConfig};
use hg_proxy::{Config, ProviderSet, QueryLibrary, ServeOptions};

/// What `huntglass serve` was asked for.
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// A `demo-data` folder instead of the generated scenario.
    pub data: Option<PathBuf>,
    /// Widget assets.
    pub assets: PathBuf,
    /// Demo pages.
    pub pages: PathBuf,
    /// Query library folder.
    pub queries: PathBuf,
    /// `huntglass.toml`.
    pub config: Option<PathBuf>,
    /// Stop after this many seconds without requests.
    pub exit_after_idle: Option<u64>,
    /// Stop when the parent process exits.
    pub exit_with_parent: bool,
    /// Token file path.
    pub token_file: Option<PathBuf>,
}

/// Runs the proxy until it is stopped.
pub fn run(args: ServeArgs) -> Result<()> {
    if !args.assets.join("widget.js").is_file() || !args.assets.join("hg_wasm_bg.wasm").is_file() {
        bail!(
            "widget assets not found in {} (widget.js and hg_wasm_bg.wasm): run `make build`, \
             or point --assets / HUNTGLASS_ASSETS at a directory holding them",
            args.assets.display()
        );
    }
    if !args.pages.join("index.html").is_file() {
        bail!(
            "demo pages not found: {} has no index.html; pass --pages / HUNTGLASS_PAGES",
            args.pages.display()
        );
    }
    let config = Config::load(args.config.clone()).context("reading the configuration")?;
    for warning in &config.warnings {
        eprintln!("huntglass: warning: {warning}");
    }
    let mut query_folders = vec![args.queries.clone()];
    query_folders.extend(config.query_folders.iter().cloned());
    let library = QueryLibrary::load(&query_folders).context("loading the query library")?;

    let (data, scenario_tables) = match &args.data {
        Some(dir) => {
            if !dir.join("manifest.json").is_file() {
                bail!(
                    "{} holds no manifest.json: write the scenario there with `huntglass demo-data --out {}`",
                    dir.display(),
                    dir.display()
                );
            }
            let tables = if config.local.scenario {
                scenario_dir_ipc(dir).context("reading the scenario for the local provider")?
            } else {
                Vec::new()
            };
            (DataSource::Directory(dir.clone()), tables)
        }
        None => {
            let scenario_dir = config.local.scenario_dir.clone();
            let scenario = hg_demo::generate(hg_demo::DEFAULT_SEED, 1)
                .context("generating the built-in scenario")?;
            let data = DataSource::memory(&scenario).map_err(anyhow::Error::msg)?;
            let tables = match (&scenario_dir, config.local.scenario) {
                (_, false) => Vec::new(),
                (Some(dir), true) => scenario_dir_ipc(dir).context("reading local.scenario_dir")?,
                (None, true) => scenario_ipc(&scenario).map_err(anyhow::Error::msg)?,
            };
            (data, tables)
        }
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let local = LocalProvider::new(&config.local, scenario_tables)
            .await
            .context("setting up the local provider")?;
        let mut providers = ProviderSet::default();
        providers.add(Arc::new(local));
        // MSSentinel / Splunk / Elastic from the configuration; an unconfigured one is listed with
        // what to configure.
        hg_proxy::remote::register(&config, &mut providers);
        let options = ServeOptions {
            port: args.port,
            statics: StaticConfig {
                pages: args.pages,
                assets: args.assets,
                data,
            },
            config: Arc::new(config),
            library: Arc::new(library),
            providers,
            exit_after_idle: args.exit_after_idle.map(Duration::from_secs),
            exit_with_parent: args.exit_with_parent,
            token_file: args.token_file,
        };
        let mut stdout = std::io::stdout();
        hg_proxy::serve(options, &mut stdout).await?;
        eprintln!("huntglass: stopped");
        Ok(())
    })
}
