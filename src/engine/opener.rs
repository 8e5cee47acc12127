//! Opening a log table's objects: a `PartitionedFile` (one object, or a [`Bundle`] of small
//! ones) in, a stream of record batches out.
//!
//! Each object is fetched (objects of a bundle with some fetched ahead, see
//! [`super::table::Fetching`]) and decoded through the one decoding path, [`ObjectScan`]; an
//! object that cannot be fetched becomes a reject naming it. Access-log batches of a bundle's
//! small objects are joined into full batches; CloudTrail's are handed on as they come (their
//! string columns are views into each object's text).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::BatchCoalescer;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::datasource::physical_plan::{FileOpenFuture, FileOpener};
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::{ObjectMeta, ObjectStore};

use crate::scan::{ObjectScan, Output, ScanLog, ScanOptions};
use crate::source::object_display_name;

pub(super) struct LogOpener {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) store_url: ObjectStoreUrl,
    pub(super) options: Arc<ScanOptions>,
    /// Columns of the rejects batches to keep (the decoder projects access-log batches itself).
    pub(super) batch_projection: Option<Vec<usize>>,
    pub(super) log: Option<ScanLog>,
    pub(super) skip: Arc<HashSet<String>>,
    pub(super) fetch_ahead: usize,
}

/// Small objects that one `PartitionedFile` stands for (its extension): they are read in turn
/// and, for access logs and rejects, their batches joined into full ones, so that ten thousand
/// objects of thirty lines cost the plan a few files and full batches instead of ten thousand
/// of each.
#[derive(Debug)]
pub struct Bundle(pub Vec<ObjectMeta>);

/// Objects of a bundle fetched ahead of the one being decoded by default (they are small; a
/// remote store gets its share of the requests in flight instead, see
/// [`super::table::Fetching`]).
pub(super) const BUNDLE_READ_AHEAD: usize = 8;

impl FileOpener for LogOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let bundle = file.extension::<Bundle>().map(|b| b.0.clone());
        let is_bundle = bundle.is_some();
        let objects: Vec<ObjectMeta> = bundle.unwrap_or_else(|| vec![file.object_meta]);
        let objects: Vec<(String, ObjectMeta)> = objects
            .into_iter()
            .map(|meta| (object_display_name(&self.store_url, &meta.location), meta))
            .filter(|(name, _)| !self.skip.contains(name) && !crate::format::is_ignored(name))
            .collect();
        let reader = ObjectReader {
            store: Arc::clone(&self.store),
            local: self.store_url.as_str().starts_with("file:"),
            options: Arc::clone(&self.options),
            log: self.log.clone(),
            projection: self.batch_projection.clone(),
        };
        if !is_bundle || objects.len() <= 1 {
            return Ok(Box::pin(async move {
                let mut batches = Vec::new();
                for (name, meta) in objects {
                    batches.push(reader.clone().scan(name, meta).await);
                }
                Ok(futures::stream::iter(batches.into_iter().flatten()).boxed())
            }));
        }
        let batch_size = self.options.decoder.batch_size;
        let fetch_ahead = self.fetch_ahead;
        // CloudTrail's string columns are views into each object's decompressed text: joining
        // its batches would keep every object's text alive until a batch fills (or copy it all),
        // so they are handed on as they come. Access-log batches own compact copies.
        let join = self.options.output != Output::CloudTrail;
        Ok(Box::pin(async move {
            let scans = futures::stream::iter(objects)
                .map(move |(name, meta)| {
                    let reader = reader.clone();
                    async move { futures::stream::iter(reader.scan(name, meta).await) }
                })
                .buffered(fetch_ahead)
                .flatten()
                .boxed();
            Ok(if join {
                coalesce(scans, batch_size)
            } else {
                scans
            })
        }))
    }
}

/// Reads one object and decodes it.
#[derive(Clone)]
struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    local: bool,
    options: Arc<ScanOptions>,
    log: Option<ScanLog>,
    /// Columns of the rejects batches to keep (the decoder projects access-log batches itself).
    projection: Option<Vec<usize>>,
}

impl ObjectReader {
    async fn scan(
        self,
        name: String,
        meta: ObjectMeta,
    ) -> impl Iterator<Item = Result<RecordBatch>> + Send + 'static {
        let raw = crate::source::read(&self.store, &meta, self.local).await;
        let (options, log, projection) = (self.options, self.log, self.projection);
        let scan = match raw {
            Ok(raw) => ObjectScan::new(&name, raw, options, log),
            Err(e) => ObjectScan::unreadable(&name, &e.to_string(), options, log),
        };
        scan.map(move |batch| {
            let batch = batch?;
            match &projection {
                Some(indices) => Ok(batch.project(indices)?),
                None => Ok(batch),
            }
        })
    }
}

/// Batches of `input` joined into batches of `batch_size` rows (the last may be shorter); an
/// error is passed on where it occurs, after the rows before it.
fn coalesce(
    input: BoxStream<'static, Result<RecordBatch>>,
    batch_size: usize,
) -> BoxStream<'static, Result<RecordBatch>> {
    struct State {
        input: BoxStream<'static, Result<RecordBatch>>,
        coalescer: Option<BatchCoalescer>,
        error: Option<DataFusionError>,
        done: bool,
    }
    let state = State {
        input,
        coalescer: None,
        error: None,
        done: false,
    };
    futures::stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(batch) = state
                .coalescer
                .as_mut()
                .and_then(BatchCoalescer::next_completed_batch)
            {
                return Some((Ok(batch), state));
            }
            if let Some(error) = state.error.take() {
                return Some((Err(error), state));
            }
            if state.done {
                return None;
            }
            match state.input.next().await {
                Some(Ok(batch)) => {
                    let coalescer = state
                        .coalescer
                        .get_or_insert_with(|| BatchCoalescer::new(batch.schema(), batch_size));
                    if let Err(e) = coalescer.push_batch(batch) {
                        state.error = Some(e.into());
                    }
                }
                Some(Err(error)) => {
                    // The rows before the error first.
                    if let Some(coalescer) = state.coalescer.as_mut()
                        && let Err(e) = coalescer.finish_buffered_batch()
                    {
                        state.error = Some(e.into());
                    } else {
                        state.error = Some(error);
                    }
                }
                None => {
                    state.done = true;
                    if let Some(coalescer) = state.coalescer.as_mut()
                        && let Err(e) = coalescer.finish_buffered_batch()
                    {
                        state.error = Some(e.into());
                    }
                }
            }
        }
    })
    .boxed()
}
