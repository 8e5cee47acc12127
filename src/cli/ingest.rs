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
    /// Only objects whose keys can hold records from this time on: 2026-11-01,
    /// 2026-11-01T06:00:00Z, or 24h / 7d before now (objects whose keys carry no date are
    /// always read). Without it, a run on s3:// lists only keys named since the last run's
    /// listing got to (less --delivery-slack); a local folder is always listed whole.
    #[arg(long, value_name = "TIME", conflicts_with = "full")]
    pub since: Option<String>,
    /// List every key of an s3:// location, not only those named since the last run (for
    /// objects copied into the bucket later under older names).
    #[arg(long)]
    pub full: bool,
    /// Exit 1 when any line (or object) could not be read as records (they are in the lake's
    /// `rejects` table).
    #[arg(long)]
    pub fail_on_rejects: bool,
}

pub async fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let locations = super::parse_locations(&args.paths, global)?;
    let now = chrono::Utc::now().timestamp_millis();
    let since = args
        .since
        .as_deref()
        .map(|s| crate::detect::parse_time(s, now))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let ctx = engine::new_context(&EngineOptions {
        threads: global.threads,
        strict: args.strict,
    })?;
    let lake = Lake::open(&args.lake)?;
    let log = super::scan_log(global, Some(0), "ingesting");
    let report = ingest(
        &ctx,
        &locations,
        &lake,
        &IngestOptions {
            strict: args.strict,
            fetching: global.fetching,
            since,
            full: args.full,
        },
        &log,
    )
    .await;
    log.finish_progress();
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
            "s3trawl: {name} has changed since it was ingested (ETag or size): ingested again, its old rows replaced"
        );
    }
    let duplicates: u64 = report.duplicates.values().sum();
    if duplicates > 0 {
        eprintln!(
            "s3trawl: {duplicates} access-log {} already in the lake (delivered twice) {} not added again",
            plural(duplicates, "record", "records"),
            if duplicates == 1 { "was" } else { "were" },
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
