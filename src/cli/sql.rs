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

use anyhow::Context;

use super::Global;
use super::output::{self, Format};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  s3trawl sql --logs sample-logs \"SELECT operation, count(*) FROM access_logs GROUP BY 1\""
)]
pub struct Args {
    #[command(flatten)]
    pub tables: super::Tables,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the result to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Read the statement from FILE.
    #[arg(
        long = "file",
        short = 'f',
        value_name = "FILE",
        conflicts_with = "query"
    )]
    pub file: Option<PathBuf>,
    /// Exit 1 when any line (or object) could not be read as records, after writing the
    /// result (the rejects are in the `rejects` table).
    #[arg(long)]
    pub fail_on_rejects: bool,
    /// The SQL statement (after `--logs PATH…`, the last value is the statement).
    #[arg(value_name = "SQL")]
    pub query: Option<String>,
}

pub async fn run(mut args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    // `--logs` takes every value up to the next flag, the statement included.
    if args.query.is_none() && args.file.is_none() && args.tables.logs.len() > 1 {
        args.query = args.tables.logs.pop();
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
    let log = super::scan_log(global, None, "decoding");
    let ctx = args.tables.session(global, &log).await?;

    let frame = ctx.sql(&query).await?;
    let stream = frame.execute_stream().await?;
    let result = output::write_stream(stream, args.format, args.output.as_deref()).await;
    log.finish_progress();
    let summary = log.summary();
    super::summary::print(&summary);
    result?;
    Ok(super::summary::exit_code(&summary, args.fail_on_rejects))
}
