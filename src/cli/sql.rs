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
    /// Output format [default: what -o FILE's extension names (.csv, .json, .ndjson, .jsonl,
    /// .parquet), else table].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the result to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Rows the table format shows, or inf [default: 40 on a terminal, all into a pipe or a
    /// file].
    #[arg(long, value_name = "N|inf")]
    pub maxrows: Option<output::MaxRows>,
    /// CSV exactly as the data is: no `'` before cells a spreadsheet would run as a formula
    /// (`=`, `+`, `-`, `@`) and control characters kept (for data pipelines, not spreadsheets).
    #[arg(long)]
    pub raw_csv: bool,
    /// Read the statement from FILE.
    #[arg(
        long = "file",
        short = 'f',
        value_name = "FILE",
        conflicts_with_all = ["query", "execute"]
    )]
    pub file: Option<PathBuf>,
    /// The statement (instead of the last argument).
    #[arg(
        long = "execute",
        short = 'e',
        value_name = "SQL",
        conflicts_with = "query"
    )]
    pub execute: Option<String>,
    /// Exit 1 when any line (or object) could not be read as records, after writing the
    /// result (the rejects are in the `rejects` table).
    #[arg(long)]
    pub fail_on_rejects: bool,
    /// The SQL statement (after `--logs PATH…`, the last value is the statement; a last value
    /// that is a path and not SQL is an error).
    #[arg(value_name = "SQL")]
    pub query: Option<String>,
}

pub async fn run(mut args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    // `--logs` takes every value up to the next flag, the statement included: the last one is
    // the statement, unless it is a path rather than SQL.
    if args.query.is_none()
        && args.file.is_none()
        && args.execute.is_none()
        && args.tables.logs.len() > 1
        && let Some(last) = args.tables.logs.pop()
    {
        // A statement with a typo is still the statement (its parser error says what is
        // wrong); only a value that is neither SQL nor starts like it is refused here.
        if !looks_like_sql(&last) && !starts_like_sql(&last) {
            anyhow::bail!(
                "the last argument, {last:?}, is not a SQL statement{}: give the statement as \
                 the last argument (after `--logs PATH…`), with -e SQL, or with -f FILE",
                if std::path::Path::new(&last).exists() || last.contains("://") {
                    " but a path"
                } else {
                    ""
                }
            );
        }
        args.query = Some(last);
    }
    let query = match (&args.query, &args.execute, &args.file) {
        (Some(q), _, _) | (None, Some(q), _) => q.clone(),
        (None, None, Some(f)) => {
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?
        }
        (None, None, None) => {
            anyhow::bail!(
                "no SQL statement given: the last argument, -e SQL or -f FILE \
                 (`s3trawl shell` opens an interactive session)"
            )
        }
    };
    let log = super::scan_log(global, None, "decoding");
    let ctx = args.tables.session(global, &log).await?;

    let frame = crate::engine::names::sql(&ctx, &query).await?;
    let stream = frame.execute_stream().await?;
    let max_rows = output::MaxRows::resolve(args.maxrows, args.output.as_deref());
    let result = output::write_stream(
        stream,
        Format::resolve(args.format, args.output.as_deref()),
        args.output.as_deref(),
        max_rows,
        args.raw_csv,
    )
    .await;
    log.finish_progress();
    let summary = log.summary();
    super::summary::print(&summary);
    result?;
    Ok(super::summary::exit_code(&summary, args.fail_on_rejects))
}

/// Whether `text` is a SQL statement rather than a path: DataFusion's parser reads it.
fn looks_like_sql(text: &str) -> bool {
    datafusion::sql::parser::DFParser::parse_sql(text).is_ok_and(|s| !s.is_empty())
}

/// Whether `text` starts with a SQL statement's first word and is not a path that exists: a
/// statement with a typo further on (`SELECT * FORM t`).
fn starts_like_sql(text: &str) -> bool {
    const FIRST_WORDS: [&str; 12] = [
        "select", "with", "explain", "describe", "desc", "show", "copy", "create", "insert",
        "values", "set", "drop",
    ];
    let text = text.trim_start();
    let first = text
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or_default();
    text.len() > first.len()
        && FIRST_WORDS.iter().any(|w| first.eq_ignore_ascii_case(w))
        && !std::path::Path::new(text).exists()
}

#[cfg(test)]
mod tests {
    use super::{looks_like_sql, starts_like_sql};

    #[test]
    fn a_statement_with_a_typo_is_still_the_statement() {
        assert!(starts_like_sql("SELECT * FORM t"));
        assert!(starts_like_sql("select count(*) form access_logs"));
        for path in ["logs", "select", "selection/2026", "/var/log/s3"] {
            assert!(!starts_like_sql(path), "{path}");
        }
    }

    #[test]
    fn statements_and_paths_are_told_apart() {
        for sql in [
            "SELECT 1",
            "select operation, count(*) from access_logs group by 1",
            "WITH a AS (SELECT 1) SELECT * FROM a",
            "  -- a comment\nSELECT 1",
            "DESCRIBE access_logs",
            "SHOW TABLES",
            "EXPLAIN SELECT 1",
            "COPY (SELECT 1) TO 'out.parquet'",
        ] {
            assert!(looks_like_sql(sql), "{sql}");
        }
        for path in [
            "logs",
            "sample-logs/access",
            "/var/log/s3",
            "s3://bucket/prefix/",
            "logs/2026-11-*",
            "./a.log",
            "",
        ] {
            assert!(!looks_like_sql(path), "{path}");
        }
    }
}
