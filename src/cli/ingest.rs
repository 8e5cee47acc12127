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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  s3trawl ingest --logs sample-logs --lake lake\n  s3trawl sql --lake lake \"SELECT count(*) FROM access_logs\""
)]
pub struct Args {
    /// Log objects: files, folders (read recursively), globs or s3://bucket/prefix (as
    /// --logs, like every other command; given without the flag they are taken the same).
    #[arg(value_name = "PATH", required_unless_present = "logs")]
    pub paths: Vec<String>,
    /// Log objects, as for sql, detect and report (the same as the positional paths).
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub logs: Vec<String>,
    /// The lake folder (created if missing).
    #[arg(long, value_name = "DIR", env = "S3TRAWL_LAKE")]
    pub lake: PathBuf,
    /// What to print on stdout: a sentence, or a JSON summary for scripts (objects, rows,
    /// rejects, bytes, seconds, per table, and what was skipped, replaced or failed).
    #[arg(long, value_enum, default_value = "text")]
    pub format: SummaryFormat,
    /// Refuse records with unknown trailing fields instead of keeping them in `extra_fields`.
    #[arg(long)]
    pub strict: bool,
    /// Only objects whose keys can hold records from this time on (the forms of detect's
    /// --since: 2026-11-01, an RFC 3339 time, today, yesterday, 24h, 7d …; objects whose keys carry no date are
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
    let started = std::time::Instant::now();
    if global.cluster.is_some() {
        eprintln!(
            "s3trawl: ingest runs on this machine; the cluster is for sql, shell, detect and report"
        );
    }
    let paths: Vec<String> = args.logs.iter().chain(&args.paths).cloned().collect();
    let locations = super::parse_locations(&paths, global)?;
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
        // Ingest writes the lake here; the cluster reads it.
        cluster: None,
        memory: global.memory.clone(),
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
    let duplicates: u64 = report.duplicates.values().sum();
    match args.format {
        SummaryFormat::Text => writeln!(
            super::output::stdout(),
            "ingested {objects} {} ({rows} {}, {rejects} {}) into {} ({} new {}); {} already in the lake",
            plural(objects, "object", "objects"),
            plural(rows, "row", "rows"),
            plural(rejects, "reject", "rejects"),
            args.lake.display(),
            report.files.len(),
            plural(report.files.len() as u64, "file", "files"),
            report.already,
        )?,
        SummaryFormat::Json => {
            let mut tables: std::collections::BTreeMap<&str, serde_json::Value> =
                Default::default();
            for object in &report.ingested {
                let table = match object.kind.as_str() {
                    "access_log" => "access_logs",
                    "cloudtrail" => "cloudtrail",
                    _ => "other",
                };
                let entry = tables.entry(table).or_insert_with(
                    || serde_json::json!({"objects": 0, "rows": 0, "rejects": 0, "bytes": 0}),
                );
                for (key, n) in [
                    ("objects", 1),
                    ("rows", object.rows),
                    ("rejects", object.rejects),
                    ("bytes", object.size),
                ] {
                    entry[key] = (entry[key].as_u64().unwrap_or(0) + n).into();
                }
            }
            let summary_json = serde_json::json!({
                "lake": args.lake.display().to_string(),
                "objects": objects,
                "rows": rows,
                "rejects": rejects,
                "bytes": report.ingested.iter().map(|o| o.size).sum::<u64>(),
                "decompressed_bytes": summary.bytes,
                "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
                "tables": tables,
                "files": report.files.len(),
                "already": report.already,
                "changed": report.changed,
                "rows_replaced": report.rows_replaced,
                "duplicates": duplicates,
                "failed": report.failed.iter().map(|(object, error)| {
                    serde_json::json!({"object": object, "error": error})
                }).collect::<Vec<_>>(),
                "from_the_future": report.future,
            });
            writeln!(
                super::output::stdout(),
                "{}",
                serde_json::to_string_pretty(&summary_json)?
            )?;
        }
    }
    for name in &report.future {
        eprintln!(
            "s3trawl: {} is named after now: AWS could not have delivered it yet, so someone else wrote it into the log bucket; read, but where the next run starts listing did not move (detection log-object-from-the-future)",
            crate::report::escape::terminal(name)
        );
    }
    for name in &report.changed {
        eprintln!(
            "s3trawl: {name} has changed since it was ingested (ETag or size): ingested again, its old rows replaced"
        );
    }
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
    Ok(
        if !report.failed.is_empty() || super::summary::not_a_log_location(&summary).is_some() {
            ExitCode::from(2)
        } else if args.fail_on_rejects && rejects > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}
