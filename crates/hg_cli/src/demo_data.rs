//! `huntglass demo-data`: writes the built-in scenario to a directory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use arrow_array::{ArrayRef, RecordBatch, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

/// Scales from which progress lines are printed on stderr.
const PROGRESS_FROM_SCALE: u32 = 10;

/// Generates the scenario for `seed`/`scale` and writes `<Table>.arrow`, `<Table>.csv` and
/// `manifest.json` into `out`.
pub fn run(out: &Path, seed: u64, scale: u32) -> Result<()> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output directory {}", out.display()))?;
    let verbose = scale >= PROGRESS_FROM_SCALE;
    let started = Instant::now();
    if verbose {
        eprintln!("huntglass demo-data: generating scale {scale} (seed {seed})...");
    }
    let scenario = hg_demo::generate_with_progress(seed, scale, &mut |table| {
        if verbose {
            eprintln!(
                "  generated {table} ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    })
    .context("generating the scenario")?;
    for table in &scenario.tables {
        let arrow_path = out.join(format!("{}.arrow", table.name));
        let bytes = hg_arrow::write_ipc_stream(&table.schema, &table.batches)
            .with_context(|| format!("encoding {} as an Arrow IPC stream", table.name))?;
        std::fs::write(&arrow_path, bytes)
            .with_context(|| format!("cannot write {}", arrow_path.display()))?;
        let csv_path = out.join(format!("{}.csv", table.name));
        write_csv(&csv_path, &table.batches)
            .with_context(|| format!("cannot write {}", csv_path.display()))?;
        if verbose {
            eprintln!(
                "  wrote {} ({} rows, {:.1} s)",
                table.name,
                table.num_rows(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    write_ti_files(out)?;
    let manifest_path = out.join("manifest.json");
    let manifest = serde_json::to_string_pretty(&scenario.manifest())?;
    std::fs::write(&manifest_path, manifest + "\n")
        .with_context(|| format!("cannot write {}", manifest_path.display()))?;
    let rows: usize = scenario.tables.iter().map(|t| t.num_rows()).sum();
    eprintln!(
        "huntglass demo-data: {} tables, {rows} rows written to {} in {:.1} s",
        scenario.tables.len(),
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes the scenario's threat-intelligence files: the local feed as CSV and as a STIX 2.1
/// bundle, and a Tor exit list (read by the proxy's default TI configuration).
fn write_ti_files(out: &Path) -> Result<()> {
    let bundle = serde_json::to_string_pretty(&hg_demo::feed::ti_feed_stix())? + "\n";
    for (name, text) in [
        (hg_demo::feed::TI_FEED_CSV, hg_demo::feed::ti_feed_csv()),
        (hg_demo::feed::TI_FEED_STIX, bundle),
        (hg_demo::feed::TOR_EXIT_LIST, hg_demo::feed::tor_exit_list()),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Writes batches as CSV with a header; times as ISO 8601 UTC with a `Z` suffix.
fn write_csv(path: &Path, batches: &[RecordBatch]) -> Result<()> {
    let file = BufWriter::new(File::create(path)?);
    let mut writer = arrow_csv::WriterBuilder::new()
        .with_header(true)
        .with_timestamp_format("%Y-%m-%dT%H:%M:%S%.3fZ".to_string())
        .build(file);
    for batch in batches {
        writer.write(&without_time_zones(batch)?)?;
    }
    writer.into_inner().flush()?;
    Ok(())
}

/// The batch with every `Timestamp(ns, zone)` column relabelled zone-less (the values are UTC
/// already), so the CSV writer formats them without needing a time-zone database.
fn without_time_zones(batch: &RecordBatch) -> Result<RecordBatch> {
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        match field.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, Some(_)) => {
                let times = column
                    .as_any()
                    .downcast_ref::<TimestampNanosecondArray>()
                    .context("timestamp column of an unexpected array type")?;
                columns.push(Arc::new(times.clone().with_timezone_opt(None::<String>)));
                fields.push(Field::new(
                    field.name(),
                    DataType::Timestamp(TimeUnit::Nanosecond, None),
                    field.is_nullable(),
                ));
            }
            _ => {
                columns.push(column.clone());
                fields.push(field.as_ref().clone());
            }
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}
