//! What `detect` and `report` share: where the logs are, the window, the pack and its config
//! as arguments, turned into the library's [`RunSpec`]; and how a run's failed detections are
//! told on stderr.

use std::path::PathBuf;

use crate::detect::{Outcome, Run, RunSpec, parse_time};
use crate::report;

use super::Global;

/// What `detect` and `report` share: where the logs are, the window, the pack and its config.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// Log objects: files, folders (read recursively), globs or s3://bucket/prefix.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub logs: Vec<String>,
    /// A Parquet lake written by `s3trawl ingest`.
    #[arg(long, value_name = "DIR", env = "S3TRAWL_LAKE")]
    pub lake: Option<PathBuf>,
    /// Start of the window: 2026-11-01, 2026-11-01T06:00:00Z, 2026-11-01T21:00:00+01:00 (any
    /// offset), now, today, yesterday (UTC days), or a span before now: 30m, 24h, 7d, 2w
    /// (default: the start of the data).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the window, exclusive, in the same forms as --since (default: the end of the
    /// data).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Days before the window that serve as the baseline.
    #[arg(long, value_name = "N")]
    pub baseline_days: Option<u32>,
    /// Run only these detections (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "ID,…")]
    pub only: Vec<String>,
    /// The TOML config: allow-lists, threat lists, per-detection settings (else
    /// S3TRAWL_CONFIG, ./s3trawl.toml, then $XDG_CONFIG_HOME/s3trawl/config.toml; see
    /// `s3trawl config show`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A folder of your own detections (*.sql with the same header), added to the pack.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Sigma rules (files, or folders read recursively) to run with the pack: CloudTrail rules
    /// (`product: aws, service: cloudtrail`) and ours for access logs (`service: s3_access`).
    #[arg(long, value_name = "PATH", num_args = 1.., action = clap::ArgAction::Append)]
    pub sigma: Vec<PathBuf>,
    /// Refuse access-log records with unknown trailing fields.
    #[arg(long)]
    pub strict: bool,
    /// Run even when the window holds no records at all (else that is an error, exit 2: logs
    /// that stopped arriving, or a window beside the data, are not "all clear").
    #[arg(long)]
    pub allow_empty: bool,
}

impl Selection {
    /// The run these arguments ask for: the pack's part only (for `--list`). A config found
    /// rather than named (the working folder's, the user's) is named on stderr unless
    /// `quiet`: a planted `./s3trawl.toml` must not change what runs unseen.
    pub fn pack_spec(&self, quiet: bool) -> RunSpec {
        let found = super::config::discover(self.config.as_deref());
        if let Some((path, origin)) = &found
            && !quiet
            && matches!(
                origin,
                super::config::Origin::CurrentFolder | super::config::Origin::UserConfig
            )
        {
            eprintln!(
                "s3trawl: using the config {} ({}; --config names another, -q hides this line)",
                report::escape::terminal(&path.display().to_string()),
                origin.describe()
            );
        }
        RunSpec {
            only: self.only.clone(),
            config: found.map(|(path, _)| path),
            rules: self.rules.clone(),
            sigma: self.sigma.clone(),
            ..RunSpec::default()
        }
    }

    /// The run these arguments ask for, times and locations resolved.
    pub fn spec(&self, global: &Global) -> anyhow::Result<RunSpec> {
        let now = chrono::Utc::now().timestamp_millis();
        let time = |given: &Option<String>| {
            given
                .as_deref()
                .map(|s| parse_time(s, now))
                .transpose()
                .map_err(anyhow::Error::msg)
        };
        Ok(RunSpec {
            logs: super::parse_locations(&self.logs, global)?,
            lake: self.lake.clone(),
            since: time(&self.since)?,
            until: time(&self.until)?,
            baseline_days: self.baseline_days,
            strict: self.strict,
            threads: global.threads,
            fetching: global.fetching,
            s3_concurrency: global
                .s3_concurrency_given
                .then_some(global.fetching.concurrency),
            cluster: global.cluster_client()?,
            memory: global.memory.clone(),
            memory_given: global.memory_limit.is_some(),
            ..self.pack_spec(global.quiet)
        })
    }
}

/// What a window holds, for whether a run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowCheck {
    /// It holds records or rejects.
    Holds,
    /// It holds nothing, and `--allow-empty` says go on (a warning was printed).
    EmptyAllowed,
    /// Stop with exit 2: the window holds nothing, or the location is not logs (the error
    /// and the reading summary were printed).
    Stop,
}

/// Whether a run goes on to its detections: a location that is not logs is an error
/// ([`super::summary::not_a_log_location`]), and so is a window that holds no records and no
/// rejects (naming the span the data covers) unless `--allow-empty` was given, then a warning.
pub async fn check_window(run: &Run, allow_empty: bool) -> anyhow::Result<WindowCheck> {
    if super::summary::not_a_log_location(&run.log.summary()).is_some() {
        super::summary::print(&run.log.summary());
        return Ok(WindowCheck::Stop);
    }
    if !run.window_contents().await?.is_empty() {
        return Ok(WindowCheck::Holds);
    }
    let iso = report::build::iso;
    let window = match (run.window.since, run.window.until) {
        (Some(s), Some(u)) => format!("from {} to {}", iso(s), iso(u)),
        (Some(s), None) => format!("from {} on", iso(s)),
        (None, Some(u)) => format!("before {}", iso(u)),
        (None, None) => "of all the data".to_string(),
    };
    let data = match run.data_span().await? {
        Some((first, last)) => format!("the data covers {} to {}", iso(first), iso(last)),
        None => "the logs hold no records at all (are they the right location?)".to_string(),
    };
    if allow_empty {
        eprintln!("s3trawl: warning: the window {window} holds no records: {data}");
        Ok(WindowCheck::EmptyAllowed)
    } else {
        eprintln!(
            "s3trawl: the window {window} holds no records: {data}. Logs that stopped \
             arriving are not \"all clear\": check the delivery, or the window (--since, \
             --until); --allow-empty runs anyway"
        );
        super::summary::print(&run.log.summary());
        Ok(WindowCheck::Stop)
    }
}

/// Runs the detections, with their progress on a terminal.
pub async fn execute(run: &Run, global: &Global) -> Outcome {
    let bar = global.detection_bar();
    let outcome = run
        .execute_reporting(|n, total, id| super::detection_started(&bar, n, total, id))
        .await;
    bar.finish_and_clear();
    outcome
}

pub fn print_errors(outcome: &Outcome) {
    for failure in &outcome.errors {
        if failure.error.out_of_memory() {
            let error = failure.error.to_string();
            let why = error.lines().next().unwrap_or_default();
            eprintln!(
                "s3trawl: detection {} needs more than the memory limit: raise --memory-limit (or the config's memory_limit) ({})",
                failure.detection,
                report::escape::terminal(why)
            );
            continue;
        }
        let error = failure.error.to_string();
        eprintln!(
            "s3trawl: detection {} failed: {}",
            failure.detection,
            report::escape::terminal(&error.split_whitespace().collect::<Vec<_>>().join(" "))
        );
    }
}

/// The Sigma rules that do not run, each with its file and why, on stderr.
pub fn print_skipped(skipped: &[crate::sigma::Skipped]) {
    for s in skipped {
        eprintln!(
            "s3trawl: Sigma rule {} skipped: {}",
            report::escape::terminal(&s.file),
            report::escape::terminal(&s.reason)
        );
    }
}
