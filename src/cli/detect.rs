//! `s3trawl detect`: run the detection pack over a time window.
//!
//! ```text
//! s3trawl detect --logs sample-logs
//! s3trawl detect --lake lake --since 24h --fail-on high --format json -o findings.json
//! ```
//!
//! Exit code: 0 when no finding reaches `--fail-on`, 1 when one does, 2 on error or when the
//! window holds no records at all (unless `--allow-empty`).

use std::io::IsTerminal;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::detect::run::load_pack;
use crate::detect::{Run, Severity};
use crate::report;

use super::Global;
use super::color::{self, Stream};
use super::selection::{Selection, print_errors, print_skipped};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindingFormat {
    Table,
    Json,
    Ndjson,
    Csv,
    Md,
    /// OCSF Detection Findings (class 2004), one per line.
    Ocsf,
    /// AWS Security Finding Format, batches of at most 100 per line (for
    /// `aws securityhub batch-import-findings --findings`; the config's `aws_account_id` and
    /// `aws_region`).
    Asff,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  s3trawl detect --logs sample-logs\n  s3trawl detect --lake lake --since 24h --fail-on high --format json\n  s3trawl detect --list"
)]
pub struct Args {
    #[command(flatten)]
    pub selection: Selection,
    /// Output format [default: what -o FILE's extension names (.json, .ndjson, .jsonl, .csv,
    /// .md), else table].
    #[arg(long, value_enum)]
    pub format: Option<FindingFormat>,
    /// Exit with 1 when a finding reaches this severity.
    #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = super::severity())]
    pub fail_on: Severity,
    /// Write the findings to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// List the detections of the pack and exit (with --format json or ndjson: every field of
    /// each, parameters and defaults included).
    #[arg(long)]
    pub list: bool,
    /// Print the rendered SQL of one detection and its plan with run-time figures
    /// (EXPLAIN ANALYZE) instead of running the pack: for writing and tuning rules.
    #[arg(long, value_name = "ID")]
    pub explain: Option<String>,
    /// Rows of each detection the table shows, or inf (the most severe and largest first; the
    /// others are counted) [default: 20 on a terminal, all into a pipe or a file]. JSON, NDJSON,
    /// OCSF and ASFF always hold every finding.
    #[arg(long, value_name = "N|inf")]
    pub max_per_detection: Option<super::output::MaxRows>,
    /// Print how long each detection took, slowest first, on stderr (for tuning rules).
    #[arg(long)]
    pub timings: bool,
}

/// Findings of one detection a table on a terminal shows unless told otherwise.
const TERMINAL_PER_DETECTION: usize = 20;

impl FindingFormat {
    /// The format `--format` names, else what `-o FILE`'s extension names, else a table.
    fn resolve(given: Option<FindingFormat>, path: Option<&std::path::Path>) -> FindingFormat {
        given
            .or_else(|| {
                let ext = path?.extension()?.to_str()?.to_ascii_lowercase();
                match ext.as_str() {
                    "json" => Some(FindingFormat::Json),
                    "ndjson" | "jsonl" => Some(FindingFormat::Ndjson),
                    "csv" => Some(FindingFormat::Csv),
                    "md" => Some(FindingFormat::Md),
                    _ => None,
                }
            })
            .unwrap_or(FindingFormat::Table)
    }
}

pub async fn run_command(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let format = FindingFormat::resolve(args.format, args.output.as_deref());
    if args.list {
        let pack = load_pack(&args.selection.pack_spec(global.quiet))?;
        let detections = pack.detections;
        let mut out = super::output::data_stdout();
        match format {
            FindingFormat::Json => {
                let mut all: Vec<serde_json::Value> = detections
                    .iter()
                    .map(serde_json::to_value)
                    .collect::<Result<_, _>>()?;
                all.extend(pack.skipped.iter().map(
                    |s| serde_json::json!({"file": s.file, "title": s.title, "skipped": s.reason}),
                ));
                writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
            }
            FindingFormat::Ndjson => {
                for d in &detections {
                    writeln!(out, "{}", report::escape::json(&serde_json::to_string(d)?))?;
                }
                for s in &pack.skipped {
                    let line =
                        serde_json::json!({"file": s.file, "title": s.title, "skipped": s.reason});
                    writeln!(out, "{}", report::escape::json(&line.to_string()))?;
                }
            }
            _ => {
                // Written raw for its colours: every text in it escaped for the terminal.
                let mut out = super::output::stdout();
                let on = global.color.colours(Stream::Stdout);
                let t = report::escape::terminal;
                for d in &detections {
                    let severity = format!("{:<8}", d.severity.name());
                    writeln!(
                        out,
                        "{:<45} {} {:<14} {}",
                        t(&d.id),
                        color::severity(on, d.severity, &severity),
                        t(&d.family),
                        t(&d.title)
                    )?;
                }
                for s in &pack.skipped {
                    writeln!(
                        out,
                        "{:<45} {:<8} {:<14} {} (skipped: {})",
                        t(&s.file),
                        "-",
                        crate::sigma::FAMILY,
                        t(s.title.as_deref().unwrap_or("")),
                        t(&s.reason)
                    )?;
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let spec = args.selection.spec(global)?;
    let preparing = std::time::Instant::now();
    let run = Run::prepare(&spec, super::scan_log(global, None, "decoding")).await?;
    if args.timings {
        eprintln!(
            "s3trawl: {:>9.3} s  (opening the tables and decoding the history)",
            preparing.elapsed().as_secs_f64()
        );
    }
    run.log.finish_progress();
    print_skipped(&run.skipped);
    if let Some(id) = &args.explain {
        let started = std::time::Instant::now();
        let (sql, plan) = run.explain(id).await?;
        writeln!(super::output::stdout(), "{sql}\n")?;
        writeln!(
            super::output::stdout(),
            "{}",
            arrow::util::pretty::pretty_format_batches(&plan)?
        )?;
        eprintln!("s3trawl: {id} ran in {:.2?}", started.elapsed());
        return Ok(ExitCode::SUCCESS);
    }
    if super::selection::check_window(&run, args.selection.allow_empty).await?
        == super::selection::WindowCheck::Stop
    {
        return Ok(ExitCode::from(2));
    }
    let outcome = super::selection::execute(&run, global).await;
    if args.timings {
        let mut timings = outcome.timings.clone();
        timings.sort_by_key(|t| std::cmp::Reverse(t.1));
        for (id, took) in timings {
            eprintln!("s3trawl: {:>9.3} s  {id}", took.as_secs_f64());
        }
    }
    super::summary::print(&run.log.summary());
    let text = match format {
        FindingFormat::Table => {
            let on = args.output.is_none() && global.color.colours(Stream::Stdout);
            let limit = match args.max_per_detection {
                Some(super::output::MaxRows::Limit(n)) => Some(n),
                Some(super::output::MaxRows::Unlimited) => None,
                None if args.output.is_none() && std::io::stdout().is_terminal() => {
                    Some(TERMINAL_PER_DETECTION)
                }
                None => None,
            };
            report::table_limited(&outcome.findings, limit, |s, cell| {
                color::severity(on, s, cell)
            })
        }
        FindingFormat::Json => report::json(&outcome.findings),
        FindingFormat::Ndjson => report::ndjson(&outcome.findings),
        FindingFormat::Csv => report::csv(&outcome.findings),
        FindingFormat::Md => report::markdown(&outcome.findings),
        FindingFormat::Ocsf => {
            report::export::ocsf(&outcome.findings, chrono::Utc::now().timestamp_millis())
        }
        FindingFormat::Asff => report::export::asff(
            &outcome.findings,
            &report::export::AsffTarget::from_config(&run.config).map_err(anyhow::Error::msg)?,
            &report::build::iso(chrono::Utc::now().timestamp_millis()),
        ),
    };
    // JSON of every kind with its invisible characters escaped; the table's cells are
    // escaped as it is drawn (its colours are ours); anything else on a terminal inert.
    let text = match format {
        FindingFormat::Json | FindingFormat::Ndjson | FindingFormat::Ocsf | FindingFormat::Asff => {
            report::escape::json(&text)
        }
        _ => text,
    };
    match &args.output {
        Some(path) => {
            report::files::write_atomic(path, text.as_bytes(), report::files::Access::Shared)
                .with_context(|| format!("cannot write {}", path.display()))?
        }
        None => {
            use std::io::Write;
            let mut out: Box<dyn Write> = if format == FindingFormat::Table {
                Box::new(super::output::stdout())
            } else {
                super::output::data_stdout()
            };
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    if outcome.suppressed > 0 {
        eprintln!(
            "s3trawl: {} requests of the window left out by the config's allow-lists",
            outcome.suppressed
        );
    }
    print_errors(&outcome);
    if !outcome.errors.is_empty() {
        return Ok(ExitCode::from(2));
    }
    Ok(
        if report::max_severity(&outcome.findings).is_some_and(|s| s >= args.fail_on) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}
