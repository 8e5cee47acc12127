//! `ingest`: raw log objects in (access logs and CloudTrail), Parquet lake out, through the same
//! decoders as SQL.
//!
//! Objects are listed like a table's ([`list_in_window`]); on S3, from where the last run's
//! listing got to (less the delivery slack) or from `--since`. Those the manifest already holds
//! with the same size and ETag are skipped; one whose ETag or size changed is ingested again
//! and its old rows taken out ([`super::replace`]). The rest are fetched with up to
//! `--s3-concurrency` requests in flight (within a memory budget) and decoded on rayon as they
//! arrive ([`super::fetch`]). A single writer thread receives the batches over a bounded channel (so decoding
//! cannot run ahead of writing and fill memory), leaves out access-log records the lake
//! already holds ([`super::dedupe`]) and writes the rest into the run's staging folder; the run
//! is then committed (see [`super`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use datafusion::prelude::SessionContext;
use object_store::{ObjectMeta, ObjectStore};

use super::dedupe::Seen;
use super::fetch::{Message, Outcome, fetch_and_decode};
use super::replace;
use super::writer::TableWriter;
use super::{ACCESS_LOGS_DIR, CLOUDTRAIL_DIR, IngestedObject, Lake, REJECTS_DIR, RunRecord};
use crate::engine::table::Fetching;
use crate::error::{Error, Result};
use crate::format::access_log::schema::stored_schema;
use crate::format::{cloudtrail, rejects};
use crate::scan::ScanLog;
use crate::source::keydate::key_time;
use crate::source::list::list_in_window;
use crate::source::prune::{EARLY_MS, KeyWindow, TimeRange, is_from_the_future};
use crate::source::{LogLocation, object_display_name};

/// One object found by listing.
#[derive(Clone)]
pub struct Listed {
    pub name: String,
    pub meta: ObjectMeta,
    pub store: Arc<dyn ObjectStore>,
    /// On the local file system: read directly, not through the store.
    pub local: bool,
}

/// What listing found: every object under the locations that the window leaves in, each once,
/// in name order; per location URL, the latest time a listed key's name carries (names from
/// the future left out); and the objects named from the future.
pub struct Listing {
    pub objects: Vec<Listed>,
    pub latest: BTreeMap<String, i64>,
    pub future: Vec<String>,
}

/// Lists the objects under `locations` that may hold records from `--since` on, else, on S3,
/// only keys named from `listed_up_to` (per location URL) less the delivery slack.
pub async fn list_objects(
    ctx: &SessionContext,
    locations: &[LogLocation],
    listed_up_to: &BTreeMap<String, i64>,
    options: &IngestOptions,
) -> Result<Listing> {
    let state = ctx.state();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut latest = BTreeMap::new();
    let mut future = Vec::new();
    let slack = options.fetching.slack_ms;
    // A key named after this cannot be AWS's delivery yet: it is read, but it never moves
    // where the next run starts listing (one planted `2099-…` object would make every later
    // run skip the real deliveries).
    let future_after = crate::source::prune::future_after(slack);
    for location in locations {
        let lister = location.register_store(ctx.runtime_env().as_ref()).await?;
        let store = ctx
            .runtime_env()
            .object_store(location.url.object_store())?;
        let key = location.url.as_str().to_string();
        // Where to start: `--since`, else (on S3, unless `--full`) where the last run's listing
        // got to, less the delivery slack. A local folder is listed whole: that is cheap, and
        // files copied in later under older names are common there.
        let start = options.since.or_else(|| {
            (lister.is_some() && !options.full)
                .then(|| listed_up_to.get(&key))
                .flatten()
                .map(|t| t.saturating_sub(slack + EARLY_MS))
        });
        let window = KeyWindow::new(TimeRange::new(start, None), slack);
        let metas = list_in_window(
            &location.url,
            &state,
            store.as_ref(),
            lister.as_ref(),
            &window,
            options.fetching.concurrency,
        )
        .await?;
        if let Some(t) = metas
            .iter()
            .filter_map(|m| key_time(m.location.as_ref()))
            .filter(|t| *t <= future_after)
            .max()
        {
            latest.insert(key, t);
        }
        let local = location.store_url().as_str().starts_with("file:");
        for meta in metas {
            let name = object_display_name(&location.store_url(), &meta.location);
            if is_from_the_future(meta.location.as_ref(), future_after) {
                future.push(name.clone());
            }
            if !crate::format::is_ignored(&name) && seen.insert(name.clone()) {
                out.push(Listed {
                    name,
                    meta,
                    store: Arc::clone(&store),
                    local,
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    future.sort();
    future.dedup();
    Ok(Listing {
        objects: out,
        latest,
        future,
    })
}

#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    pub strict: bool,
    /// Requests in flight and the delivery slack (as for tables).
    pub fetching: Fetching,
    /// Only objects whose keys can hold records from this time on (milliseconds since the
    /// epoch), instead of from where the last run's listing got to; objects whose keys carry no
    /// date are always read.
    pub since: Option<i64>,
    /// List every key, not only those named since the last run (for objects copied into the
    /// bucket later under older names).
    pub full: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    pub run: Option<String>,
    /// Objects decoded by this run.
    pub ingested: Vec<IngestedObject>,
    /// Objects the lake already held.
    pub already: usize,
    /// Objects already ingested whose ETag or size has changed since: ingested again, their old
    /// rows taken out.
    pub changed: Vec<String>,
    /// Rows taken out of the lake because their object changed.
    pub rows_replaced: u64,
    /// Access-log records left out because the lake already held them, by object.
    pub duplicates: BTreeMap<String, u64>,
    /// Objects that could not be fetched or read, and why: not recorded as ingested, so the
    /// next run tries them again.
    pub failed: Vec<(String, String)>,
    /// Objects this run ingested whose keys name a time after now plus the delivery slack:
    /// someone other than AWS wrote them into the log bucket.
    pub future: Vec<String>,
    pub files: Vec<String>,
}

/// Ingests the objects under `locations` that the lake does not hold yet (or holds an older
/// version of).
pub async fn ingest(
    ctx: &SessionContext,
    locations: &[LogLocation],
    lake: &Lake,
    options: &IngestOptions,
    log: &ScanLog,
) -> Result<IngestReport> {
    let runs = lake.runs()?;
    let listing = list_objects(ctx, locations, &lake.listed_up_to()?, options).await?;
    let held = lake.ingested()?;
    let mut report = IngestReport {
        future: listing
            .future
            .iter()
            .filter(|name| !held.contains_key(*name))
            .cloned()
            .collect(),
        ..IngestReport::default()
    };
    let mut todo = Vec::new();
    for object in listing.objects {
        match held.get(&object.name) {
            Some(previous) if changed(previous, &object.meta) => {
                report.changed.push(object.name.clone());
                todo.push(object);
            }
            Some(_) => report.already += 1,
            None => todo.push(object),
        }
    }
    if todo.is_empty() {
        return Ok(report);
    }
    log.expect(todo.iter().map(|o| o.meta.size).sum());

    let run = run_id();
    let staging = lake.staging(&run);
    let changed: BTreeSet<String> = report.changed.iter().cloned().collect();
    let rewritten = replace::rewrite(
        lake.root(),
        &staging,
        &replace::files_holding(&runs, &changed),
    )?;
    report.rows_replaced = rewritten.rows_removed;

    let (sender, receiver) = sync_channel::<Message>(16);
    let writer = {
        let staging = staging.clone();
        let run = run.clone();
        let table = lake.root().join(ACCESS_LOGS_DIR);
        let exclude = changed.iter().cloned().collect();
        std::thread::spawn(move || write_all(receiver, &staging, &run, &table, exclude))
    };
    let results = fetch_and_decode(todo, options, &sender, log).await;
    drop(sender);
    let (files, duplicates) = writer.join().map_err(|_| Error::Lake {
        path: staging.clone(),
        message: "the writer thread panicked".into(),
    })??;

    for result in results {
        match result {
            Outcome::Ingested(object) => report.ingested.push(object),
            Outcome::Unreadable(name, why) => report.failed.push((name, why)),
        }
    }
    report.ingested.sort_by(|a, b| a.object.cmp(&b.object));
    report.failed.sort();
    report.duplicates = duplicates;
    // Listing may start later next time, but never after an object that could not be read.
    let first_failed = report
        .failed
        .iter()
        .filter_map(|(name, _)| key_time(name))
        .min();
    let listed_up_to = listing
        .latest
        .into_iter()
        .map(|(location, t)| (location, first_failed.map_or(t, |f| t.min(f))))
        .collect();
    let record = RunRecord {
        run: run.clone(),
        committed_at: chrono::Utc::now().to_rfc3339(),
        objects: report.ingested.clone(),
        files: files.clone(),
        replaced: rewritten.replaced,
        removed: rewritten.removed,
        duplicates: report.duplicates.clone(),
        listed_up_to,
    };
    if !record.objects.is_empty() || !record.files.is_empty() {
        lake.commit(&record)?;
        report.run = Some(run);
        report.files = files;
    }
    Ok(report)
}

/// Whether an object differs from the one ingested under its name: another size, or another
/// ETag where both are known.
fn changed(previous: &IngestedObject, now: &ObjectMeta) -> bool {
    previous.size != now.size
        || matches!((&previous.etag, &now.e_tag), (Some(a), Some(b)) if a != b)
}

/// Writes what the decoders send; the files written and the duplicate records left out.
fn write_all(
    receiver: Receiver<Message>,
    staging: &std::path::Path,
    run: &str,
    access_table: &std::path::Path,
    exclude: HashSet<String>,
) -> Result<(Vec<String>, BTreeMap<String, u64>)> {
    let time = |schema: &arrow::datatypes::SchemaRef, name: &str| schema.index_of(name).ok();
    let access_schema = stored_schema();
    let trail_schema = cloudtrail::schema::stored_schema();
    let mut seen = Seen::new(access_table, &access_schema, exclude)?;
    let mut access = TableWriter::new(
        staging,
        ACCESS_LOGS_DIR,
        run,
        access_schema.clone(),
        time(&access_schema, "requestdatetime"),
    );
    let mut trail = TableWriter::new(
        staging,
        CLOUDTRAIL_DIR,
        run,
        trail_schema.clone(),
        time(&trail_schema, "eventtime"),
    );
    let mut rejected = TableWriter::new(staging, REJECTS_DIR, run, rejects::schema(), None);
    for message in receiver {
        match message {
            Message::AccessLogs(batch) => access.write(&seen.filter(&batch)?)?,
            Message::CloudTrail(batch) => trail.write(&batch)?,
            Message::Rejects(object, kind, list) => {
                rejected.write(&rejects::to_batch(&object, kind, &list)?)?
            }
            Message::RejectBatch(batch) => rejected.write(&batch)?,
        }
    }
    let mut files = access.finish()?;
    files.extend(trail.finish()?);
    files.extend(rejected.finish()?);
    Ok((files, seen.duplicates))
}

/// Run ids sort by time: `20261122T075501Z-1a2b3c4d`.
fn run_id() -> String {
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{now}-{}", &random[..8])
}
