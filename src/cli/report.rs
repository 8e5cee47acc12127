//! `s3trawl report`: the scheduled anomaly report of a window, as `report.json`, `report.md`
//! and a self-contained `report.html` in `--out DIR`, with what is new since the previous
//! report written there (the state file `s3trawl-state.json` beside them).
//!
//! ```text
//! s3trawl report --lake lake --since 24h --out /var/reports/s3
//! ```
//!
//! Exit code: 0 when no *new* finding reaches `--fail-on` (or any finding, with
//! `--alert all`), 1 when one does, 2 on error. Nightly cron jobs alert on exit code 1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::detect::Severity;
use crate::detect::run::run;
use crate::report::document::{
    Counts, DetectionError, DetectionInfo, Report, ReportWindow, ReportedFinding,
};
use crate::report::state::{Run, State};
use crate::report::{document, html, summary};
use anyhow::Context;

use super::Global;
use super::detect::{Selection, prepare_run, print_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Alert {
    /// Only findings new (or escalated) since the previous report count for the exit code.
    New,
    /// Every finding counts.
    All,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  s3trawl report --logs sample-logs --out report\n  s3trawl report --lake lake --since 24h --out /var/reports/s3 --fail-on medium"
)]
pub struct Args {
    #[command(flatten)]
    pub selection: Selection,
    /// The folder for report.json, report.md, report.html and the state file.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Exit with 1 when a new finding reaches this severity.
    #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = super::severity())]
    pub fail_on: Severity,
    /// Which findings count for --fail-on: those new since the previous report, or all.
    #[arg(long, value_enum, default_value = "new")]
    pub alert: Alert,
    /// The report's title.
    #[arg(long, default_value = "S3 activity and anomaly report")]
    pub title: String,
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

pub async fn run_command(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    // Read the state first: a damaged one stops the run before any work.
    let mut state = State::load(&args.out)?;
    let prepared = prepare_run(&args.selection, global).await?;
    let outcome = run(
        &prepared.ctx,
        &prepared.detections,
        &prepared.window,
        &prepared.config,
    )
    .await;
    let scan = prepared.log.summary();
    super::summary::print(&scan);
    print_errors(&outcome);
    let activity = summary::activity(&prepared.ctx, &prepared.window)
        .await
        .context("computing the activity summary")?;
    let mut rejects = scan.rejects;
    if args.selection.logs.is_empty() {
        // A lake: its rejects were counted when it was written.
        let rows = crate::engine::query_json(&prepared.ctx, "SELECT count(*) AS n FROM rejects")
            .await
            .context("counting the lake's rejects")?;
        rejects = rows
            .first()
            .and_then(|r| r.get("n"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
    }

    let generated_at = iso(chrono::Utc::now().timestamp_millis());
    let findings: Vec<ReportedFinding> = outcome
        .findings
        .iter()
        .map(|f| ReportedFinding::new(f.clone(), state.novelty(f)))
        .collect();
    let mut by_severity: BTreeMap<String, usize> = BTreeMap::new();
    for f in &findings {
        *by_severity
            .entry(f.finding.severity.name().to_string())
            .or_default() += 1;
    }
    let detections: Vec<DetectionInfo> = prepared
        .detections
        .iter()
        .filter(|d| findings.iter().any(|f| f.finding.detection == d.id))
        .map(DetectionInfo::from)
        .collect();
    let mut sources: Vec<String> = args.selection.logs.clone();
    if let Some(lake) = &args.selection.lake {
        sources.push(format!("lake {}", lake.display()));
    }
    let window = ReportWindow {
        since: prepared.window.since.map(iso),
        until: prepared.window.until.map(iso),
        baseline_days: prepared.window.baseline_days,
    };
    let report = Report {
        title: args.title.clone(),
        generated_at: generated_at.clone(),
        tool: format!("s3trawl {}", env!("CARGO_PKG_VERSION")),
        window: window.clone(),
        sources,
        previous_report: state.runs.last().map(|r| r.generated_at.clone()),
        counts: Counts {
            findings: findings.len(),
            new: findings.iter().filter(|f| f.is_new()).count(),
            by_severity,
            rejects,
            suppressed: outcome.suppressed,
        },
        activity,
        gone: state.gone(&outcome.findings),
        findings,
        ran: outcome.ran.clone(),
        detections,
        errors: outcome
            .errors
            .iter()
            .map(|(d, e)| DetectionError {
                detection: d.clone(),
                error: e.clone(),
            })
            .collect(),
    };

    write(&args.out, "report.json", &report.to_json())?;
    write(&args.out, "report.md", &document::markdown(&report))?;
    write(&args.out, "report.html", &html::render(&report))?;
    // The state advances only when the run is whole: a failed detection must not make its
    // findings look old tomorrow.
    if outcome.errors.is_empty() {
        state.record(
            &outcome.findings,
            Run {
                generated_at,
                since: window.since,
                until: window.until,
                findings: report.counts.findings,
                new: report.counts.new,
            },
        );
        state.save(&args.out)?;
    }

    eprintln!(
        "s3trawl: report written to {}: {} findings, {} new since the previous report",
        args.out.join("report.html").display(),
        report.counts.findings,
        report.counts.new
    );
    if !outcome.errors.is_empty() {
        return Ok(ExitCode::from(2));
    }
    let alerting = report
        .findings
        .iter()
        .filter(|f| args.alert == Alert::All || f.is_new())
        .any(|f| f.finding.severity >= args.fail_on);
    Ok(if alerting {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
