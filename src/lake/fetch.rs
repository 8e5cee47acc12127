//! Fetching and decoding the objects of an `ingest` run.
//!
//! In: the objects to ingest (listed, not yet in the lake). Out: their batches and rejects
//! sent to the run's writer, and per object what became of it (ingested with its counts, or
//! unreadable and why). Objects on an object store are fetched with up to `--s3-concurrency`
//! requests in flight, their bytes waiting for a decoder within [`FETCH_BUDGET_KIB`], and each
//! is decoded on rayon as it arrives, through the same [`ObjectScan`] as SQL's tables.

use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use arrow::array::RecordBatch;
use futures::StreamExt;
use rayon::prelude::*;
use tokio::sync::Semaphore;

use super::IngestedObject;
use super::ingest::{IngestOptions, Listed};
use crate::format::access_log::DecoderOptions;
use crate::format::access_log::schema::{COLUMNS, is_computed};
use crate::format::{LogKind, Reject, cloudtrail};
use crate::scan::{ObjectScan, Output, ScanLog, ScanOptions};

/// What became of one object.
pub(super) enum Outcome {
    Ingested(IngestedObject),
    Unreadable(String, String),
}

/// What the decoders send the writer.
pub(super) enum Message {
    AccessLogs(RecordBatch),
    CloudTrail(RecordBatch),
    Rejects(String, &'static str, Vec<Reject>),
    /// Rejects the scan streamed as a batch of the `rejects` table (an object of many).
    RejectBatch(RecordBatch),
}

/// Bytes of fetched objects waiting to be decoded at most (an object larger than this is
/// fetched alone).
pub(super) const FETCH_BUDGET_KIB: usize = 512 * 1024;

/// Fetches the objects with up to `--s3-concurrency` requests in flight (their bytes waiting
/// for a decoder within [`FETCH_BUDGET_KIB`]) and decodes each on rayon as it arrives, sending
/// its batches to the writer.
pub(super) async fn fetch_and_decode(
    todo: Vec<Listed>,
    options: &IngestOptions,
    sender: &SyncSender<Message>,
    log: &ScanLog,
) -> Vec<Outcome> {
    let scan_options = scan_options(options);
    let budget = Arc::new(Semaphore::new(FETCH_BUDGET_KIB));
    let (fetched_tx, mut fetched_rx) = tokio::sync::mpsc::channel(rayon::current_num_threads());
    let concurrency = options.fetching.concurrency.max(1);
    let fetcher = tokio::spawn(async move {
        futures::stream::iter(todo)
            .map(|object| {
                let budget = Arc::clone(&budget);
                async move {
                    if object.local {
                        // Read (mapped) by the decoder itself, in parallel.
                        return (object, None, None);
                    }
                    let kib = object
                        .meta
                        .size
                        .div_ceil(1024)
                        .clamp(1, FETCH_BUDGET_KIB as u64);
                    let permit = budget
                        .acquire_many_owned(kib as u32)
                        .await
                        .expect("the budget is never closed");
                    let raw = crate::source::read(&object.store, &object.meta, false).await;
                    (object, Some(raw), Some(permit))
                }
            })
            .buffer_unordered(concurrency)
            .for_each(|fetched| {
                let tx = fetched_tx.clone();
                async move {
                    let _ = tx.send(fetched).await;
                }
            })
            .await;
    });
    let handle = tokio::runtime::Handle::current();
    let results = tokio::task::block_in_place(|| {
        std::iter::from_fn(|| fetched_rx.blocking_recv())
            .par_bridge()
            .map(|(object, raw, _permit)| {
                let raw = match raw {
                    Some(raw) => raw,
                    None => handle.block_on(crate::source::read(
                        &object.store,
                        &object.meta,
                        object.local,
                    )),
                };
                decode(&object, raw, &scan_options, sender, log)
            })
            .collect()
    });
    let _ = fetcher.await;
    results
}

fn scan_options(options: &IngestOptions) -> Arc<ScanOptions> {
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
    Arc::new(ScanOptions {
        decoder: DecoderOptions {
            projection: Some(access_projection),
            strict: options.strict,
            ..Default::default()
        },
        cloudtrail_projection: Some(trail_projection),
        cloudtrail_prefilter: None,
        output: Output::Ingest,
    })
}

/// Decodes one fetched object, sending its batches and rejects to the writer.
fn decode(
    object: &Listed,
    raw: Result<bytes::Bytes, object_store::Error>,
    scan_options: &Arc<ScanOptions>,
    sender: &SyncSender<Message>,
    log: &ScanLog,
) -> Outcome {
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            // Nothing of it is written: the next run reads it again.
            log.unreadable(&object.name, &e.to_string());
            log.object_done(object.meta.size);
            return Outcome::Unreadable(object.name.clone(), e.to_string());
        }
    };
    let mut scan = ObjectScan::new(
        &object.name,
        raw,
        Arc::clone(scan_options),
        Some(log.clone()),
    );
    let mut stopped = None;
    while let Some(batch) = scan.next() {
        let message = match (batch, scan.kind()) {
            (Ok(b), _) if b.schema() == crate::format::rejects::schema() => Message::RejectBatch(b),
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
        // The rows before the error are kept (they are written); the rest of the object is
        // one reject that says why, and the other objects go on.
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
    log.object_done(object.meta.size);
    Outcome::Ingested(IngestedObject {
        object: object.name.clone(),
        size: object.meta.size,
        etag: object.meta.e_tag.clone(),
        kind: kind.unwrap_or(LogKind::Empty).name().to_string(),
        rows: counts.rows,
        rejects: counts.rejects,
    })
}
