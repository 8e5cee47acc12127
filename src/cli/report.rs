//! `s3trawl report`: the scheduled anomaly report of a window, as `report.json`, `report.md`
//! and a self-contained `report.html` in `--out DIR`, with what is new since the previous
//! report written there (the state file `s3trawl-state.json` beside them).
//!
//! ```text
//! s3trawl report --lake lake --since 24h --out /var/reports/s3
//! ```
//!
//! Exit code: 0 when no *new* finding reaches `--fail-on` (or any finding, with
//! `--alert all`), 1 when one does, 2 on error or when the window holds no records at all
//! (no report is written and the state does not advance, unless `--allow-empty`). Nightly cron
//! jobs alert on exit code 1.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::detect::{Run, Severity};
use crate::report::build::{self, Heading};
use crate::report::state::State;

use super::Global;
use super::color::{self, Stream};
use super::selection::{Selection, print_errors, print_skipped};

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
    /// Also write the findings as `findings.ocsf.jsonl` (OCSF Detection Findings) and/or
    /// `findings.asff.jsonl` (ASFF batches for Security Hub; the config's aws_account_id and
    /// aws_region).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ocsf,asff")]
    pub export: Vec<Export>,
    /// Post a digest of the new findings (JSON with a Slack-compatible `text`) to this URL;
    /// nothing is posted when nothing is new. https only, public addresses only, redirects not
    /// followed; the URL is never printed (its host is) [default: S3TRAWL_WEBHOOK_URL, else the
    /// config's webhook_url].
    #[arg(
        long,
        value_name = "URL",
        env = "S3TRAWL_WEBHOOK_URL",
        hide_env_values = true
    )]
    pub webhook: Option<String>,
    /// Let the webhook be plain http:// (the digest and the URL cross the network in the clear).
    #[arg(long)]
    pub allow_http_webhook: bool,
    /// Let the webhook be on this machine or a private, link-local or other non-public address.
    #[arg(long)]
    pub allow_private_webhook: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Export {
    Ocsf,
    Asff,
}

pub async fn run_command(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    // Read the state first: a damaged one stops the run before any work.
    let mut state = State::load(&args.out)?;
    let spec = args.selection.spec(global)?;
    let log = super::scan_log(global, None, "decoding");
    let run = Run::prepare(&spec, log).await?;
    run.log.finish_progress();
    print_skipped(&run.skipped);
    // An empty window writes no report and leaves the state where it was: the next run
    // compares with the last report that saw logs.
    let window = super::selection::check_window(&run, args.selection.allow_empty).await?;
    if window == super::selection::WindowCheck::Stop {
        return Ok(ExitCode::from(2));
    }
    let outcome = super::selection::execute(&run, global).await;
    super::summary::print(&run.log.summary());
    print_errors(&outcome);
    let mut sources: Vec<String> = args.selection.logs.clone();
    if let Some(lake) = &args.selection.lake {
        sources.push(format!("lake {}", lake.display()));
    }
    let heading = Heading {
        title: args.title.clone(),
        sources,
        generated_at_ms: chrono::Utc::now().timestamp_millis(),
    };
    let report = build::build(&run, &outcome, &state, heading).await?;
    build::write(&args.out, &report)?;
    for export in &args.export {
        let (name, text) = match export {
            Export::Ocsf => (
                "findings.ocsf.jsonl",
                crate::report::export::ocsf(
                    &outcome.findings,
                    chrono::Utc::now().timestamp_millis(),
                ),
            ),
            Export::Asff => (
                "findings.asff.jsonl",
                crate::report::export::asff(
                    &outcome.findings,
                    &crate::report::export::AsffTarget::from_config(&run.config)
                        .map_err(anyhow::Error::msg)?,
                    &report.generated_at,
                ),
            ),
        };
        let path = args.out.join(name);
        crate::report::files::write_atomic(
            &path,
            crate::report::escape::json(&text).as_bytes(),
            crate::report::files::Access::Shared,
        )
        .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let webhook = args
        .webhook
        .clone()
        .or_else(|| run.config.settings.webhook_url.clone());
    if let Some(url) = &webhook {
        match crate::report::webhook::digest(&report) {
            Some(body) => {
                let allowed = crate::report::webhook::Allowed {
                    http: args.allow_http_webhook,
                    private: args.allow_private_webhook,
                };
                crate::report::webhook::post(url, &body, 4, allowed).await?;
                eprintln!(
                    "s3trawl: posted the {} new findings to the webhook",
                    report.counts.new
                );
            }
            None => eprintln!("s3trawl: nothing new: nothing posted to the webhook"),
        }
    }
    if window == super::selection::WindowCheck::EmptyAllowed {
        eprintln!("s3trawl: the window held no records: the state was not advanced");
    } else if build::advance(&mut state, &outcome, &report) {
        state.save(&args.out)?;
    }
    // The counts by severity, most severe first, coloured on a terminal.
    let on = global.color.colours(Stream::Stderr);
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            let n = report
                .counts
                .by_severity
                .get(s.name())
                .copied()
                .unwrap_or(0);
            (n > 0).then(|| color::severity(on, *s, &format!("{n} {s}")))
        })
        .collect();
    eprintln!(
        "s3trawl: report written to {}: {} findings{}, {} new since the previous report",
        args.out.join("report.html").display(),
        report.counts.findings,
        if by_severity.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_severity.join(", "))
        },
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
