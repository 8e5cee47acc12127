//! `s3trawl ingest`: raw logs into a Parquet lake, once.
//!
//! ```text
//! s3trawl ingest sample-logs --lake lake
//! ```
//!
//! Writes `LAKE/access_logs/date=YYYY-MM-DD/*.parquet` (zstd) and `LAKE/rejects/*.parquet`.
//! Objects the lake already holds are skipped, so running it again adds nothing.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::engine::{self, EngineOptions};
use crate::lake::Lake;
use crate::lake::ingest::{IngestOptions, ingest};
use crate::scan::ScanLog;

use super::Global;
use super::summary::plural;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  s3trawl ingest sample-logs --lake lake\n  s3trawl sql --lake lake \"SELECT count(*) FROM access_logs\""
)]
pub struct Args {
    /// Log objects: files, folders (read recursively), globs or s3://bucket/prefix.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// The lake folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    /// Refuse records with unknown trailing fields instead of keeping them in `extra_fields`.
    #[arg(long)]
    pub strict: bool,
    /// Exit 1 when any line (or object) could not be read as records (they are in the lake's
    /// `rejects` table).
    #[arg(long)]
    pub fail_on_rejects: bool,
}

pub async fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let locations = super::parse_locations(&args.paths)?;
    let ctx = engine::new_context(&EngineOptions {
        threads: global.threads,
        strict: args.strict,
    })?;
    let lake = Lake::open(&args.lake)?;
    let log = ScanLog::new().with_progress(global.progress_bar(Some(0), "ingesting"));
    let report = ingest(
        &ctx,
        &locations,
        &lake,
        &IngestOptions {
            strict: args.strict,
        },
        &log,
    )
    .await;
    if let Some(bar) = log.progress() {
        bar.finish_and_clear();
    }
    let report = report?;
    let summary = log.summary();
    let objects = report.ingested.len() as u64;
    let rows: u64 = report.ingested.iter().map(|o| o.rows).sum();
    let rejects: u64 = report.ingested.iter().map(|o| o.rejects).sum();
    writeln!(
        super::output::stdout(),
        "ingested {objects} {} ({rows} {}, {rejects} {}) into {} ({} new {}); {} already in the lake",
        plural(objects, "object", "objects"),
        plural(rows, "row", "rows"),
        plural(rejects, "reject", "rejects"),
        args.lake.display(),
        report.files.len(),
        plural(report.files.len() as u64, "file", "files"),
        report.already,
    )?;
    for name in &report.changed {
        eprintln!(
            "s3trawl: {name} has changed size since it was ingested; it was not ingested again"
        );
    }
    super::summary::print(&summary);
    if !report.failed.is_empty() {
        eprintln!(
            "s3trawl: the {} {} that could not be read {} not recorded as ingested: the next run tries again",
            report.failed.len(),
            plural(report.failed.len() as u64, "object", "objects"),
            if report.failed.len() == 1 {
                "is"
            } else {
                "are"
            },
        );
    }
    Ok(if !report.failed.is_empty() {
        ExitCode::from(2)
    } else if args.fail_on_rejects && rejects > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
