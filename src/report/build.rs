//! A report from a detection run: the run's outcome and an activity summary of its window in,
//! the [`Report`] document out, with each finding marked new, escalated or known against the
//! state earlier reports left; then the files (`report.json`, `report.md`, `report.html`) and
//! the state's next record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datafusion::error::DataFusionError;

use super::document::{
    self, Counts, DetectionError, DetectionInfo, Report, ReportWindow, ReportedFinding, SkippedRule,
};
use super::html;
use super::state::{Run as StateRun, State};
use super::summary;
use crate::detect::{Outcome, Run};

/// Why a report could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("computing the activity summary")]
    Activity(#[source] DataFusionError),
    #[error("counting the lake's rejects")]
    Rejects(#[source] crate::detect::Error),
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] crate::error::Error),
}

/// What a report says about itself.
#[derive(Debug, Clone)]
pub struct Heading {
    pub title: String,
    /// Where the logs came from, as the user named them.
    pub sources: Vec<String>,
    /// When it is written, milliseconds since the epoch.
    pub generated_at_ms: i64,
}

/// `2026-11-01T06:00:00Z`.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The report of `run`'s `outcome`, its findings judged against `state`.
pub async fn build(
    run: &Run,
    outcome: &Outcome,
    state: &State,
    heading: Heading,
) -> Result<Report, Error> {
    let activity = summary::activity(&run.ctx, &run.window)
        .await
        .map_err(Error::Activity)?;
    let rejects = run.rejects().await.map_err(Error::Rejects)?;
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
    let detections: Vec<DetectionInfo> = run
        .detections
        .iter()
        .filter(|d| findings.iter().any(|f| f.finding.detection == d.id))
        .map(DetectionInfo::from)
        .collect();
    Ok(Report {
        title: heading.title,
        generated_at: iso(heading.generated_at_ms),
        tool: format!("s3trawl {}", env!("CARGO_PKG_VERSION")),
        window: ReportWindow {
            since: run.window.since.map(iso),
            until: run.window.until.map(iso),
            baseline_days: run.window.baseline_days,
        },
        sources: heading.sources,
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
            .map(|f| DetectionError {
                detection: f.detection.clone(),
                error: f.error.to_string(),
            })
            .collect(),
        skipped_rules: run
            .skipped
            .iter()
            .map(|s| SkippedRule {
                file: s.file.clone(),
                title: s.title.clone(),
                reason: s.reason.clone(),
            })
            .collect(),
    })
}

/// Writes `report.json`, `report.md` and `report.html` into `dir`, each replaced atomically.
pub fn write(dir: &Path, report: &Report) -> Result<(), Error> {
    write_file(dir, "report.json", &super::escape::json(&report.to_json()))?;
    write_file(dir, "report.md", &document::markdown(report))?;
    write_file(dir, "report.html", &html::render(report))
}

fn write_file(dir: &Path, name: &str, text: &str) -> Result<(), Error> {
    let path = dir.join(name);
    super::files::write_atomic(&path, text.as_bytes(), super::files::Access::Shared)
        .map_err(|source| Error::Write { path, source })
}

/// Records the report in `state` (what the next report compares with). Only a whole run
/// advances it: a failed detection must not make its findings look old tomorrow.
pub fn advance(state: &mut State, outcome: &Outcome, report: &Report) -> bool {
    if !outcome.errors.is_empty() {
        return false;
    }
    state.record(
        &outcome.findings,
        StateRun {
            generated_at: report.generated_at.clone(),
            since: report.window.since.clone(),
            until: report.window.until.clone(),
            findings: report.counts.findings,
            new: report.counts.new,
        },
    );
    true
}
