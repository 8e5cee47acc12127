//! `ingest`: raw log objects in (access logs and CloudTrail), Parquet lake out, through the same
//! decoders as SQL.
//!
//! Objects are listed like a table's, those the manifest already holds are skipped, and the
//! rest are fetched and decoded in parallel on rayon. A single writer thread receives the
//! batches over a bounded channel (so decoding cannot run ahead of writing and fill memory) and
//! writes them into the run's staging folder; the run is then committed (see [`super`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use arrow::array::RecordBatch;
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::prelude::SessionContext;
use object_store::{ObjectMeta, ObjectStore};
use rayon::prelude::*;

use super::writer::TableWriter;
use super::{ACCESS_LOGS_DIR, CLOUDTRAIL_DIR, IngestedObject, Lake, REJECTS_DIR, RunRecord};
use crate::error::{Error, Result};
use crate::format::access_log::DecoderOptions;
use crate::format::access_log::schema::{COLUMNS, is_computed, stored_schema};
use crate::format::{LogKind, Reject, cloudtrail, rejects};
use crate::scan::{ObjectScan, Output, ScanLog, ScanOptions};
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

/// Lists every object under the locations, each once, in name order.
pub async fn list_objects(ctx: &SessionContext, locations: &[LogLocation]) -> Result<Vec<Listed>> {
    let state = ctx.state();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for location in locations {
        location.register_store(ctx.runtime_env().as_ref())?;
        let store = ctx
            .runtime_env()
            .object_store(location.url.object_store())?;
        let metas: Vec<ObjectMeta> = list(&location.url, &state, &store).await?;
        for meta in metas {
            let name = object_display_name(&location.store_url(), &meta.location);
            if !crate::format::is_ignored(&name) && seen.insert(name.clone()) {
                out.push(Listed {
                    name,
                    meta,
                    store: Arc::clone(&store),
                    local: location.store_url().as_str().starts_with("file:"),
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

async fn list(
    url: &ListingTableUrl,
    state: &datafusion::execution::SessionState,
    store: &Arc<dyn ObjectStore>,
) -> Result<Vec<ObjectMeta>> {
    Ok(crate::source::list::list_all(url, state, store.as_ref()).await?)
}

#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    pub strict: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    pub run: Option<String>,
    /// Objects decoded by this run.
    pub ingested: Vec<IngestedObject>,
    /// Objects the lake already held.
    pub already: usize,
    /// Objects already ingested whose size has changed since (not ingested again).
    pub changed: Vec<String>,
    /// Objects that could not be fetched or read, and why: not recorded as ingested, so the
    /// next run tries them again.
    pub failed: Vec<(String, String)>,
    pub files: Vec<String>,
}

/// What became of one object.
enum Outcome {
    Ingested(IngestedObject),
    Unreadable(String, String),
}

enum Message {
    AccessLogs(RecordBatch),
    CloudTrail(RecordBatch),
    Rejects(String, &'static str, Vec<Reject>),
}

/// Ingests the objects under `locations` that the lake does not hold yet.
pub async fn ingest(
    ctx: &SessionContext,
    locations: &[LogLocation],
    lake: &Lake,
    options: &IngestOptions,
    log: &ScanLog,
) -> Result<IngestReport> {
    let listed = list_objects(ctx, locations).await?;
    let held = lake.ingested()?;
    let mut report = IngestReport::default();
    let mut todo = Vec::new();
    for object in listed {
        match held.get(&object.name) {
            Some(previous) if previous.size != object.meta.size => report.changed.push(object.name),
            Some(_) => report.already += 1,
            None => todo.push(object),
        }
    }
    if todo.is_empty() {
        return Ok(report);
    }
    if let Some(bar) = log.progress() {
        bar.set_length(todo.iter().map(|o| o.meta.size).sum());
    }

    let run = run_id();
    let staging = lake.staging(&run);
    let stored = |names: Vec<(&str, bool)>| -> Vec<usize> {
        names
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.1)
            .map(|(i, _)| i)
            .collect()
    };
    let access_projection = stored(COLUMNS.iter().map(|c| (c.name, is_computed(c))).collect());
    let trail_projection = stored(
        cloudtrail::schema::columns()
            .iter()
            .map(|c| (c.name, cloudtrail::schema::is_computed(c)))
            .collect(),
    );
    let scan_options = Arc::new(ScanOptions {
        decoder: DecoderOptions {
            projection: Some(access_projection),
            strict: options.strict,
            ..Default::default()
        },
        cloudtrail_projection: Some(trail_projection),
        cloudtrail_prefilter: None,
        output: Output::Ingest,
    });

    let (sender, receiver) = sync_channel::<Message>(16);
    let writer = {
        let staging = staging.clone();
        let run = run.clone();
        std::thread::spawn(move || write_all(receiver, &staging, &run))
    };
    let handle = tokio::runtime::Handle::current();
    let log = log.clone();
    let results: Vec<Outcome> = tokio::task::block_in_place(|| {
        todo.par_iter()
            .map(|object| {
                let raw = handle.block_on(crate::source::read(
                    &object.store,
                    &object.meta,
                    object.local,
                ));
                let raw = match raw {
                    Ok(raw) => raw,
                    Err(e) => {
                        // Nothing of it is written: the next run reads it again.
                        log.unreadable(&object.name, &e.to_string());
                        return Outcome::Unreadable(object.name.clone(), e.to_string());
                    }
                };
                let mut scan = ObjectScan::new(
                    &object.name,
                    raw,
                    Arc::clone(&scan_options),
                    Some(log.clone()),
                );
                let mut stopped = None;
                while let Some(batch) = scan.next() {
                    let message = match (batch, scan.kind()) {
                        (Ok(b), Some(LogKind::CloudTrail)) => Message::CloudTrail(b),
                        (Ok(b), _) => Message::AccessLogs(b),
                        (Err(e), _) => {
                            stopped = Some(e);
                            break;
                        }
                    };
                    if sender.send(message).is_err() {
                        break;
                    }
                }
                let mut counts = scan.counts();
                let kind = scan.kind();
                let mut rejects = scan.take_rejects();
                if let Some(e) = stopped {
                    // The rows before the error are kept (they are written); the rest of the
                    // object is one reject that says why, and the other objects go on.
                    counts.rejects += 1;
                    rejects.push(Reject::new(
                        0,
                        0,
                        format!("decoding stopped after {} rows: {e}", counts.rows),
                        "",
                    ));
                }
                if !rejects.is_empty() {
                    let name = crate::scan::reject_kind(kind.unwrap_or(LogKind::Empty));
                    let _ = sender.send(Message::Rejects(object.name.clone(), name, rejects));
                }
                Outcome::Ingested(IngestedObject {
                    object: object.name.clone(),
                    size: object.meta.size,
                    kind: kind.unwrap_or(LogKind::Empty).name().to_string(),
                    rows: counts.rows,
                    rejects: counts.rejects,
                })
            })
            .collect()
    });
    drop(sender);
    let files = writer.join().map_err(|_| Error::Lake {
        path: staging.clone(),
        message: "the writer thread panicked".into(),
    })??;

    for result in results {
        match result {
            Outcome::Ingested(object) => report.ingested.push(object),
            Outcome::Unreadable(name, why) => report.failed.push((name, why)),
        }
    }
    let record = RunRecord {
        run: run.clone(),
        committed_at: chrono::Utc::now().to_rfc3339(),
        objects: report.ingested.clone(),
        files: files.clone(),
    };
    if !record.objects.is_empty() || !record.files.is_empty() {
        lake.commit(&record)?;
        report.run = Some(run);
        report.files = files;
    }
    Ok(report)
}

fn write_all(
    receiver: Receiver<Message>,
    staging: &std::path::Path,
    run: &str,
) -> Result<Vec<String>> {
    let time = |schema: &arrow::datatypes::SchemaRef, name: &str| schema.index_of(name).ok();
    let access_schema = stored_schema();
    let trail_schema = cloudtrail::schema::stored_schema();
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
            Message::AccessLogs(batch) => access.write(&batch)?,
            Message::CloudTrail(batch) => trail.write(&batch)?,
            Message::Rejects(object, kind, list) => {
                rejected.write(&rejects::to_batch(&object, kind, &list)?)?
            }
        }
    }
    let mut files = access.finish()?;
    files.extend(trail.finish()?);
    files.extend(rejected.finish()?);
    Ok(files)
}

/// Run ids sort by time: `20261122T075501Z-1a2b3c4d`.
fn run_id() -> String {
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{now}-{}", &random[..8])
}
