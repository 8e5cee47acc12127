//! `s3trawl sql`: one SQL statement over `access_logs` and `rejects`.
//!
//! ```text
//! s3trawl sql --logs sample-logs "SELECT operation, count(*) FROM access_logs GROUP BY 1"
//! s3trawl sql --lake lake --format csv -o out.csv "SELECT * FROM access_logs WHERE httpstatus >= 500"
//! ```
//!
//! The result goes to stdout (or `-o FILE`); a summary of the lines that could not be read goes
//! to stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::scan::ScanLog;
use anyhow::Context;

use super::Global;
use super::output::{self, Format};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  s3trawl sql --logs sample-logs \"SELECT operation, count(*) FROM access_logs GROUP BY 1\""
)]
pub struct Args {
    /// Log objects: files, folders (read recursively), globs or s3://bucket/prefix.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub logs: Vec<String>,
    /// A Parquet lake written by `s3trawl ingest` (read instead of, or as well as, --logs).
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the result to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Refuse records with unknown trailing fields instead of keeping them in `extra_fields`.
    #[arg(long)]
    pub strict: bool,
    /// Read the statement from FILE.
    #[arg(
        long = "file",
        short = 'f',
        value_name = "FILE",
        conflicts_with = "query"
    )]
    pub file: Option<PathBuf>,
    /// The SQL statement (after `--logs PATH…`, the last value is the statement).
    #[arg(value_name = "SQL")]
    pub query: Option<String>,
}

pub async fn run(mut args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    // `--logs` takes every value up to the next flag, the statement included.
    if args.query.is_none() && args.file.is_none() && args.logs.len() > 1 {
        args.query = args.logs.pop();
    }
    let query = match (&args.query, &args.file) {
        (Some(q), _) => q.clone(),
        (None, Some(f)) => {
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?
        }
        (None, None) => {
            anyhow::bail!("no SQL statement given (`s3trawl shell` opens an interactive session)")
        }
    };
    let log = ScanLog::new().with_progress(global.progress_bar(None, "decoding"));
    let (ctx, _) =
        super::tables_session(&args.logs, args.lake.as_deref(), args.strict, global, &log).await?;

    let frame = ctx.sql(&query).await?;
    let stream = frame.execute_stream().await?;
    let result = output::write_stream(stream, args.format, args.output.as_deref()).await;
    if let Some(bar) = log.progress() {
        bar.finish_and_clear();
    }
    super::summary::print(&log.summary());
    result?;
    Ok(ExitCode::SUCCESS)
}
