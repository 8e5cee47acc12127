//! `s3trawl detect`: run the detection pack over a time window.
//!
//! ```text
//! s3trawl detect --logs sample-logs
//! s3trawl detect --lake lake --since 24h --fail-on high --format json -o findings.json
//! ```
//!
//! Exit code: 0 when no finding reaches `--fail-on`, 1 when one does, 2 on error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::detect::config::Config;
use crate::detect::run::{Outcome, Spill, Window, parse_time, prepare, run};
use crate::detect::{Detection, Severity, pack, udf};

use crate::report;
use crate::scan::ScanLog;
use anyhow::Context;

use super::Global;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindingFormat {
    Table,
    Json,
    Ndjson,
    Csv,
    Md,
}

/// What `detect` and `report` share: where the logs are, the window, the pack and its config.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// Log objects: files, folders (read recursively), globs or s3://bucket/prefix.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub logs: Vec<String>,
    /// A Parquet lake written by `s3trawl ingest`.
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Start of the window: 2026-11-01, 2026-11-01T06:00:00Z, or 24h / 7d before now
    /// (default: the start of the data).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the window, exclusive (default: the end of the data).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Days before the window that serve as the baseline.
    #[arg(long, value_name = "N")]
    pub baseline_days: Option<u32>,
    /// Run only these detections (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "ID,…")]
    pub only: Vec<String>,
    /// The TOML config: allow-lists, threat lists, per-detection settings.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A folder of your own detections (*.sql with the same header), added to the pack.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Refuse access-log records with unknown trailing fields.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  s3trawl detect --logs sample-logs\n  s3trawl detect --lake lake --since 24h --fail-on high --format json\n  s3trawl detect --list"
)]
pub struct Args {
    #[command(flatten)]
    pub selection: Selection,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FindingFormat,
    /// Exit with 1 when a finding reaches this severity.
    #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = super::severity())]
    pub fail_on: Severity,
    /// Write the findings to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// List the detections of the pack and exit.
    #[arg(long)]
    pub list: bool,
    /// Print the rendered SQL of one detection and its plan with run-time figures
    /// (EXPLAIN ANALYZE) instead of running the pack: for writing and tuning rules.
    #[arg(long, value_name = "ID")]
    pub explain: Option<String>,
}

/// The prepared pieces of a detection run.
pub struct Prepared {
    pub ctx: datafusion::prelude::SessionContext,
    pub detections: Vec<Detection>,
    pub window: Window,
    pub config: Arc<Config>,
    pub log: ScanLog,
    /// The decoded history of raw logs, held so that it lasts as long as the run (and is
    /// removed with it).
    pub spill: Option<Spill>,
}

pub fn load_pack(selection: &Selection) -> anyhow::Result<(Vec<Detection>, Arc<Config>)> {
    let config = match &selection.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let mut detections = pack::load(selection.rules.as_deref())?;
    if !selection.only.is_empty() {
        for id in &selection.only {
            if !detections.iter().any(|d| &d.id == id) {
                anyhow::bail!(
                    "--only names an unknown detection: {id} (see `s3trawl detect --list`)"
                );
            }
        }
        detections.retain(|d| selection.only.contains(&d.id));
    }
    for id in config.detections.keys() {
        if !detections.iter().any(|d| &d.id == id) && selection.only.is_empty() {
            anyhow::bail!("the config has settings for an unknown detection: {id}");
        }
    }
    // Every value the config gives a detection has its parameter's type, before anything runs.
    for d in &detections {
        if let Some(settings) = config.detections.get(&d.id) {
            d.typed_overrides(&settings.params)?;
        }
    }
    Ok((detections, Arc::new(config)))
}

/// Loads the pack, registers the tables and the window views.
pub async fn prepare_run(selection: &Selection, global: &Global) -> anyhow::Result<Prepared> {
    if selection.logs.is_empty() && selection.lake.is_none() {
        anyhow::bail!("say where the logs are: --logs PATH… or --lake DIR");
    }
    let (detections, config) = load_pack(selection)?;
    let now = chrono::Utc::now().timestamp_millis();
    let since = selection
        .since
        .as_deref()
        .map(|s| parse_time(s, now))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let until = selection
        .until
        .as_deref()
        .map(|s| parse_time(s, now))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        anyhow::bail!("--since must be before --until");
    }
    let window = Window {
        since,
        until,
        baseline_days: selection
            .baseline_days
            .or(config.settings.baseline_days)
            .unwrap_or(7),
    };
    let mut global = global.clone();
    if !global.s3_concurrency_given
        && let Some(n) = config.settings.s3_concurrency
    {
        if n == 0 {
            anyhow::bail!("the config's s3_concurrency must be at least 1");
        }
        global.fetching.concurrency = usize::from(n);
    }
    let global = &global;
    let log = ScanLog::new().with_progress(global.progress_bar(None, "decoding"));
    let (ctx, locations) = super::tables_session(
        &selection.logs,
        selection.lake.as_deref(),
        selection.strict,
        global,
        &log,
    )
    .await?;
    udf::register(&ctx, &config);
    // Raw logs are decoded once into temporary Parquet files; a lake is read where it is.
    let spill = if locations.is_empty() {
        None
    } else {
        Some(Spill::new().context("creating a temporary folder for the decoded history")?)
    };
    let rejects = crate::detect::rejects::Sources {
        log: spill.is_some().then_some(&log),
        lake: selection.lake.is_some(),
    };
    prepare(&ctx, &window, spill.as_ref(), rejects)
        .await
        .context("preparing the window")?;
    log.finish_progress();
    Ok(Prepared {
        ctx,
        detections,
        window,
        config,
        log,
        spill,
    })
}

pub fn print_errors(outcome: &Outcome) {
    for (id, error) in &outcome.errors {
        eprintln!(
            "s3trawl: detection {id} failed: {}",
            report::escape::terminal(&error.split_whitespace().collect::<Vec<_>>().join(" "))
        );
    }
}

pub async fn run_command(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    if args.list {
        let (detections, _) = load_pack(&args.selection)?;
        for d in &detections {
            writeln!(
                super::output::stdout(),
                "{:<45} {:<8} {:<14} {}",
                d.id,
                d.severity.name(),
                d.family,
                d.title
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let prepared = prepare_run(&args.selection, global).await?;
    if let Some(id) = &args.explain {
        let d = prepared
            .detections
            .iter()
            .find(|d| &d.id == id)
            .with_context(|| format!("--explain names an unknown detection: {id}"))?;
        let overrides = prepared
            .config
            .detections
            .get(id)
            .map(|s| s.params.clone())
            .unwrap_or_default();
        let sql = d.render(&overrides, &prepared.window.builtins())?;
        writeln!(super::output::stdout(), "{sql}\n")?;
        let started = std::time::Instant::now();
        let batches = prepared
            .ctx
            .sql(&format!("EXPLAIN ANALYZE {sql}"))
            .await?
            .collect()
            .await?;
        writeln!(
            super::output::stdout(),
            "{}",
            arrow::util::pretty::pretty_format_batches(&batches)?
        )?;
        eprintln!("s3trawl: {id} ran in {:.2?}", started.elapsed());
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = run(
        &prepared.ctx,
        &prepared.detections,
        &prepared.window,
        &prepared.config,
    )
    .await;
    super::summary::print(&prepared.log.summary());
    let text = match args.format {
        FindingFormat::Table => report::table(&outcome.findings),
        FindingFormat::Json => report::json(&outcome.findings),
        FindingFormat::Ndjson => report::ndjson(&outcome.findings),
        FindingFormat::Csv => report::csv(&outcome.findings),
        FindingFormat::Md => report::markdown(&outcome.findings),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            use std::io::Write;
            let mut out = super::output::stdout();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    if outcome.suppressed > 0 {
        eprintln!(
            "s3trawl: {} findings suppressed by the config's allow-lists",
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
