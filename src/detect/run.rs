//! A detection run, from its inputs to its findings: the library's `detect` and `report`.
//!
//! In: a [`RunSpec`] — where the logs are (raw locations and/or a lake), the window, the pack
//! (built-in, `--rules`, `--only`) and the config. [`Run::prepare`] loads and checks the pack
//! and the config, opens the tables ([`crate::engine::open`]) and registers the window views
//! ([`super::history`]); [`Run::execute`] runs each detection and gives an [`Outcome`]: typed
//! findings, the detections that ran, and the ones that failed with a [`DetectionError`] each.
//! Nothing here prints or picks an exit code; the command line does.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

use super::config::Config;
use super::error::{DetectionError, Error};
use super::findings::findings;
use super::history::{Spill, prepare};
use super::window::Window;
use super::{Detection, Finding, Param, pack, udf};
use crate::engine::table::Fetching;
use crate::engine::{EngineOptions, Sources};
use crate::scan::ScanLog;
use crate::sigma::Skipped;
use crate::source::LogLocation;
use crate::source::prune::{KeyWindow, TimeRange};

/// What a run reads and runs.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// Raw log locations (already resolved).
    pub logs: Vec<LogLocation>,
    /// A lake written by `ingest`.
    pub lake: Option<PathBuf>,
    /// Milliseconds since the epoch; `None`: from the start, to the end of the data.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Days before the window that serve as the baseline (else the config's, else 7).
    pub baseline_days: Option<u32>,
    /// Only these detections (empty: all).
    pub only: Vec<String>,
    /// The TOML config: allow-lists, threat lists, per-detection settings.
    pub config: Option<PathBuf>,
    /// A folder of the user's own detections, added to the pack.
    pub rules: Option<PathBuf>,
    /// Sigma rule files or folders, translated and added to the pack (with the config's).
    pub sigma: Vec<PathBuf>,
    /// Refuse access-log records with unknown trailing fields.
    pub strict: bool,
    pub threads: Option<usize>,
    /// How raw logs are listed and fetched.
    pub fetching: Fetching,
    /// Requests in flight to S3 as the user asked (`None`: the config's, else
    /// `fetching`'s).
    pub s3_concurrency: Option<usize>,
    /// A Ballista cluster that runs the queries.
    pub cluster: Option<crate::cluster::Client>,
    /// The memory budget and spill folder.
    pub memory: crate::engine::memory::Memory,
    /// Whether the budget was given (`--memory-limit`): else the config's `memory_limit` sets it.
    pub memory_given: bool,
}

/// The pack a spec selects (the built-in detections, `--rules`, Sigma rules) and its config.
#[derive(Debug)]
pub struct Pack {
    pub detections: Vec<Detection>,
    pub config: Arc<Config>,
    /// Sigma rules that do not run, and why.
    pub skipped: Vec<Skipped>,
}

/// The pack a spec selects, and its config, checked: unknown ids (in `--only` or in the
/// config) and config values of the wrong type are errors before anything runs.
pub fn load_pack(spec: &RunSpec) -> Result<Pack, Error> {
    let config = match &spec.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let mut detections = pack::load(spec.rules.as_deref())?;
    let mut sigma_paths = spec.sigma.clone();
    sigma_paths.extend(config.sigma.iter().cloned());
    let mut skipped = Vec::new();
    if !sigma_paths.is_empty() {
        let loaded = crate::sigma::load(&sigma_paths).map_err(Error::Sigma)?;
        if let Some((id, file, other)) = loaded.duplicates.first() {
            return Err(Error::DuplicateId {
                id: format!("sigma:{id}"),
                file: file.clone(),
                other: other.clone(),
            });
        }
        for d in loaded.detections {
            if let Some(other) = detections.iter().find(|e| e.id == d.id) {
                return Err(Error::DuplicateId {
                    id: d.id.clone(),
                    file: d.origin.clone(),
                    other: other.origin.clone(),
                });
            }
            detections.push(d);
        }
        skipped.extend(loaded.skipped);
    }
    if !spec.only.is_empty() {
        if let Some(id) = spec
            .only
            .iter()
            .find(|id| !detections.iter().any(|d| &d.id == *id))
        {
            return Err(Error::UnknownOnly(id.clone()));
        }
        detections.retain(|d| spec.only.contains(&d.id));
    }
    if spec.only.is_empty()
        && let Some(id) = config
            .detections
            .keys()
            .find(|id| !detections.iter().any(|d| &d.id == *id))
    {
        return Err(Error::UnknownInConfig(id.clone()));
    }
    // Every value the config gives a detection has its parameter's type, and every detection
    // is one query (no statement that writes, reads files or changes the session), before
    // anything runs.
    let builtins = Window::default().builtins();
    for d in &detections {
        let overrides = match config.detections.get(&d.id) {
            Some(settings) => {
                d.typed_overrides(&settings.params)?;
                settings.params.clone()
            }
            None => BTreeMap::new(),
        };
        let sql = d.render(&overrides, &builtins)?;
        super::query_only::check(&sql).map_err(|message| Error::NotAQuery {
            detection: d.id.clone(),
            origin: d.origin.clone(),
            message,
        })?;
    }
    Ok(Pack {
        detections,
        config: Arc::new(config),
        skipped,
    })
}

/// A run ready to execute: the tables open, the window's views registered.
pub struct Run {
    pub ctx: SessionContext,
    pub detections: Vec<Detection>,
    /// Sigma rules that do not run, and why.
    pub skipped: Vec<Skipped>,
    pub window: Window,
    pub config: Arc<Config>,
    /// What the scans of raw logs saw (counts, rejects, unreadable objects).
    pub log: ScanLog,
    /// Whether raw logs are read (else only a lake).
    reads_raw: bool,
    /// Requests of the window the allow-lists left out.
    left_out: u64,
    /// The decoded history of raw logs, held as long as the run (and removed with it).
    _spill: Option<Spill>,
}

impl Run {
    /// Loads the pack and config, opens the tables and registers the window's views. The
    /// scans of raw logs report to `log`.
    pub async fn prepare(spec: &RunSpec, log: ScanLog) -> Result<Run, Error> {
        if spec.logs.is_empty() && spec.lake.is_none() {
            return Err(Error::NoSources);
        }
        let Pack {
            detections,
            config,
            skipped,
        } = load_pack(spec)?;
        if let (Some(s), Some(u)) = (spec.since, spec.until)
            && s >= u
        {
            return Err(Error::EmptyWindow);
        }
        let window = Window {
            since: spec.since,
            until: spec.until,
            baseline_days: spec
                .baseline_days
                .or(config.settings.baseline_days)
                .unwrap_or(7),
        };
        let mut fetching = spec.fetching;
        match (spec.s3_concurrency, config.settings.s3_concurrency) {
            (Some(n), _) => fetching.concurrency = n,
            (None, Some(0)) => return Err(Error::NoConcurrency),
            (None, Some(n)) => fetching.concurrency = usize::from(n),
            (None, None) => {}
        }
        let mut memory = spec.memory.clone();
        if !spec.memory_given
            && let Some(size) = &config.settings.memory_limit
        {
            memory.limit = crate::size::parse_size(size).map_err(|message| {
                Error::Config(super::config::ConfigError {
                    path: spec
                        .config
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    message: format!("memory_limit: {message}"),
                })
            })?;
        }
        let ctx = crate::engine::open(
            &EngineOptions {
                threads: spec.threads,
                strict: spec.strict,
                cluster: spec.cluster.clone(),
                memory,
            },
            &Sources {
                logs: &spec.logs,
                lake: spec.lake.as_deref(),
                fetching,
            },
            &log,
        )
        .await?;
        udf::register(&ctx, &config);
        // Raw logs are decoded once into temporary Parquet files; a lake is read where it is.
        // On a cluster, raw logs too: the executors decode them for each detection, since a
        // file this machine writes is not theirs to read.
        let spill = if spec.logs.is_empty() || spec.cluster.is_some() {
            None
        } else {
            Some(Spill::new().map_err(Error::Spill)?)
        };
        if spec.cluster.is_some() && !spec.logs.is_empty() {
            // The executors decode the history: the rejects of the objects its scans read.
            let history =
                TimeRange::new(window.since.map(|_| window.baseline_start()), window.until);
            let read = KeyWindow::new(history, fetching.slack_ms);
            crate::cluster::rejects::collect(&ctx, &log, |key| read.may_hold(key))
                .await
                .map_err(Error::Prepare)?;
        }
        let rejects = super::rejects::Sources {
            log: (!spec.logs.is_empty()).then_some(&log),
            lake: spec.lake.is_some(),
            lake_dir: spec.lake.as_deref(),
            slack_ms: fetching.slack_ms,
        };
        let left_out = prepare(
            &ctx,
            &window,
            spill.as_ref(),
            config.has_allow_lists(),
            rejects,
        )
        .await
        .map_err(Error::Prepare)?;
        Ok(Run {
            ctx,
            detections,
            skipped,
            window,
            config,
            log,
            reads_raw: !spec.logs.is_empty(),
            left_out,
            _spill: spill,
        })
    }

    /// Runs the detections (those the config does not disable) over the window.
    pub async fn execute(&self) -> Outcome {
        self.execute_reporting(|_, _, _| {}).await
    }

    /// [`Run::execute`], telling `starting` as each detection starts: how many ran before it,
    /// how many run in all, and its id (for progress).
    pub async fn execute_reporting(&self, mut starting: impl FnMut(usize, usize, &str)) -> Outcome {
        let builtins = self.window.builtins();
        let mut outcome = Outcome {
            suppressed: self.left_out as usize,
            ..Outcome::default()
        };
        let enabled = |d: &&Detection| {
            self.config.detections.get(&d.id).and_then(|s| s.enabled) != Some(false)
        };
        let total = self.detections.iter().filter(enabled).count();
        for (n, d) in self.detections.iter().filter(enabled).enumerate() {
            starting(n, total, &d.id);
            let settings = self.config.detections.get(&d.id);
            let overrides: BTreeMap<String, Param> =
                settings.map(|s| s.params.clone()).unwrap_or_default();
            outcome.ran.push(d.id.clone());
            let started = std::time::Instant::now();
            let result = async {
                let sql = d.render(&overrides, &builtins)?;
                let query = |source| DetectionError::Query {
                    detection: d.id.clone(),
                    source,
                };
                let batches = self
                    .ctx
                    .sql_with_options(&sql, super::query_only::options())
                    .await
                    .map_err(query)?
                    .collect()
                    .await
                    .map_err(query)?;
                findings(d, &batches, settings.and_then(|s| s.severity))
            }
            .await;
            outcome.timings.push((d.id.clone(), started.elapsed()));
            crate::engine::memory::give_back_freed_memory();
            match result {
                Ok(found) => outcome.findings.extend(found),
                Err(error) => outcome.errors.push(Failure {
                    detection: d.id.clone(),
                    error,
                }),
            }
        }
        // A total order: the same data gives the same output byte for byte (a detection may
        // give an entity several findings, one per bucket say).
        outcome.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.detection.cmp(&b.detection))
                .then_with(|| a.entity.cmp(&b.entity))
                .then_with(|| a.bucket.cmp(&b.bucket))
                .then_with(|| a.principal.cmp(&b.principal))
                .then_with(|| a.ip.cmp(&b.ip))
                .then_with(|| a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.last_seen.cmp(&b.last_seen))
                .then(a.count.cmp(&b.count))
                .then_with(|| a.details.cmp(&b.details))
        });
        outcome
    }

    /// One detection's SQL as it runs (parameters and window filled in), and its plan with
    /// run-time figures (`EXPLAIN ANALYZE`).
    pub async fn explain(&self, id: &str) -> Result<(String, Vec<RecordBatch>), Error> {
        let d = self
            .detections
            .iter()
            .find(|d| d.id == id)
            .ok_or_else(|| Error::UnknownExplained(id.to_string()))?;
        let overrides = self
            .config
            .detections
            .get(id)
            .map(|s| s.params.clone())
            .unwrap_or_default();
        let sql = d.render(&overrides, &self.window.builtins())?;
        let plan = self
            .ctx
            .sql(&format!("EXPLAIN ANALYZE {sql}"))
            .await?
            .collect()
            .await?;
        Ok((sql, plan))
    }

    /// What the window holds: its records (allow-listed ones too) and the objects with
    /// rejects it covers. Nothing at all means the logs do not reach the window (they stopped,
    /// or the window is wrong): never "all clear".
    pub async fn window_contents(&self) -> Result<WindowContents, Error> {
        let n = |sql: &'static str| async move {
            let batches = self.ctx.sql(sql).await?.collect().await?;
            let mut n = 0;
            for batch in &batches {
                let columns = crate::engine::cells::Columns::new(batch);
                for row in 0..columns.rows() {
                    n += columns.integer("n", row)?.unwrap_or(0);
                }
            }
            Ok::<u64, Error>(n.max(0) as u64)
        };
        Ok(WindowContents {
            records: n("SELECT count(*) AS n FROM __window_access_logs").await?
                + n("SELECT count(*) AS n FROM __window_cloudtrail").await?,
            objects_with_rejects: n("SELECT count(*) AS n FROM window_rejects").await?,
        })
    }

    /// The span of time the sources' records cover, whatever the window (None: no records at
    /// all). Over raw logs this reads every object again: only asked when the window is empty.
    pub async fn data_span(&self) -> Result<Option<(i64, i64)>, Error> {
        let batches = self
            .ctx
            .sql(
                "SELECT CAST(min(t) AS BIGINT) AS first, CAST(max(t) AS BIGINT) AS last FROM \
                 (SELECT requestdatetime AS t FROM access_logs UNION ALL SELECT eventtime FROM cloudtrail)",
            )
            .await?
            .collect()
            .await?;
        for batch in &batches {
            let columns = crate::engine::cells::Columns::new(batch);
            for row in 0..columns.rows() {
                if let (Some(first), Some(last)) = (
                    columns.integer("first", row)?,
                    columns.integer("last", row)?,
                ) {
                    return Ok(Some((first, last)));
                }
            }
        }
        Ok(None)
    }

    /// The rejects the run's sources hold: what the scans saw in raw logs, or, reading a lake
    /// only, its `rejects` table (counted when it was written).
    pub async fn rejects(&self) -> Result<u64, Error> {
        if self.reads_raw {
            return Ok(self.log.summary().rejects);
        }
        let batches = self
            .ctx
            .sql("SELECT count(*) AS n FROM rejects")
            .await?
            .collect()
            .await?;
        let mut n = 0;
        for batch in &batches {
            let columns = crate::engine::cells::Columns::new(batch);
            for row in 0..columns.rows() {
                n += columns.integer("n", row)?.unwrap_or(0);
            }
        }
        Ok(n.max(0) as u64)
    }
}

/// What a run's window holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowContents {
    /// Records of both tables, before any allow-list.
    pub records: u64,
    /// Objects with rejects the window covers.
    pub objects_with_rejects: u64,
}

impl WindowContents {
    pub fn is_empty(&self) -> bool {
        self.records == 0 && self.objects_with_rejects == 0
    }
}

/// A detection that failed, and why.
#[derive(Debug)]
pub struct Failure {
    pub detection: String,
    pub error: DetectionError,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Requests of the window the config's allow-lists left out (before any detection ran).
    pub suppressed: usize,
    /// Detections that failed.
    pub errors: Vec<Failure>,
    /// Detections that ran.
    pub ran: Vec<String>,
    /// How long each detection took.
    pub timings: Vec<(String, std::time::Duration)>,
}
