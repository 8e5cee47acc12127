//! A table over raw log objects.
//!
//! DataFusion's `ListingTable` gives every listed object its own statistics, each a vector of
//! unknown column statistics (about 9 KB for `access_logs`): with the thousands of small
//! objects S3 delivers access logs in, allocating and freeing those costs more than some of the
//! objects take to decode. [`RawLogTable`] lists the same way (`ListingTableUrl`, so folders,
//! globs and `s3://` prefixes behave as before; local folders through
//! [`crate::source::list`]), keeps no per-object statistics, spreads the objects over the
//! partitions by size rather than by name, and puts runs of small objects behind one file of
//! the plan ([`Bundle`]; `EXPLAIN` names a bundle by its first object).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Result;
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::{ListingTableUrl, PartitionedFile};
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use object_store::ObjectMeta;
use object_store::list::PaginatedListStore;

use super::format::LogFormat;
use super::opener::Bundle;
use super::timefilter::{TimeColumns, range_of};
use crate::source::list::list_in_window;
use crate::source::prune::KeyWindow;

/// How a raw-log table's objects are listed and fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fetching {
    /// Requests in flight to an object store (listing, and fetching objects).
    pub concurrency: usize,
    /// How late a delivery may be named after its records ([`crate::source::prune`]).
    pub slack_ms: i64,
}

impl Default for Fetching {
    fn default() -> Self {
        Fetching {
            concurrency: 64,
            slack_ms: crate::source::prune::DEFAULT_SLACK_MS,
        }
    }
}

pub struct RawLogTable {
    /// Where the objects are; all in one object store.
    pub(super) urls: Vec<ListingTableUrl>,
    pub(super) format: Arc<LogFormat>,
    schema: SchemaRef,
    /// The table's time columns, when its objects can be pruned by a time restriction.
    pub(super) time: Option<TimeColumns>,
    /// The store's page-by-page listing (S3), for listing only what a time window needs.
    lister: Option<Arc<dyn PaginatedListStore>>,
    pub(super) fetching: Fetching,
}

impl std::fmt::Debug for RawLogTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawLogTable")
            .field("urls", &self.urls)
            .field("time", &self.time)
            .field("fetching", &self.fetching)
            .finish()
    }
}

impl RawLogTable {
    /// Where the table's objects are.
    pub fn urls(&self) -> &[ListingTableUrl] {
        &self.urls
    }

    pub fn new(urls: Vec<ListingTableUrl>, format: LogFormat) -> Self {
        RawLogTable {
            urls,
            schema: format.schema(),
            format: Arc::new(format),
            time: None,
            lister: None,
            fetching: Fetching::default(),
        }
    }

    /// Objects are left out when their keys say they cannot hold records of the time range a
    /// query's filters on `time` allow.
    pub fn pruned_by(mut self, time: TimeColumns, fetching: Fetching) -> Self {
        self.time = Some(time);
        self.fetching = fetching;
        self
    }

    /// Lists through `lister` (the same store's page-by-page listing) when pruning.
    pub fn listing_with(mut self, lister: Option<Arc<dyn PaginatedListStore>>) -> Self {
        self.lister = lister;
        self
    }
}

#[async_trait]
impl TableProvider for RawLogTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Filters are taken to prune objects by time (and applied again above the scan).
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(store_url) = self.urls.first().map(ListingTableUrl::object_store) else {
            return Ok(Arc::new(EmptyExec::new(self.schema())));
        };
        let store = state.runtime_env().object_store(&store_url)?;
        // Paths can overlap (a folder and a file in it): each object once. One location lists
        // each object once already.
        let mut seen = HashSet::new();
        let mut files = Vec::new();
        let several = self.urls.len() > 1;
        let range = self
            .time
            .map_or_else(Default::default, |time| range_of(filters, time));
        let window = KeyWindow::new(range, self.fetching.slack_ms);
        for url in &self.urls {
            let lister = self.lister.as_ref();
            let concurrency = self.fetching.concurrency;
            for meta in
                list_in_window(url, state, store.as_ref(), lister, &window, concurrency).await?
            {
                if !several || seen.insert(meta.location.clone()) {
                    files.push(PartitionedFile::from(meta));
                }
            }
        }
        let groups = balance(files, state.config().target_partitions())
            .into_iter()
            .map(bundle_small)
            .collect();
        let source = self.format.file_source(TableSchema::from(self.schema()));
        let config = FileScanConfigBuilder::new(store_url, source)
            .with_file_groups(groups)
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        self.format.create_physical_plan(state, config).await
    }
}

/// `files` in at most `n` groups of about equal bytes (largest first, each to the lightest
/// group), each group in name order so plans are the same from run to run.
fn balance(files: Vec<PartitionedFile>, n: usize) -> Vec<FileGroup> {
    let n = n.max(1).min(files.len());
    if n == 0 {
        return Vec::new();
    }
    // Positions are sorted, not the files (a `PartitionedFile` is a few hundred bytes to move,
    // and sorting 10,000 of them twice by path was a tenth of a small-object scan's time):
    // names are compared once, for a rank, and every later order is by integers.
    let mut by_name: Vec<usize> = (0..files.len()).collect();
    by_name.sort_unstable_by(|&a, &b| files[a].path().cmp(files[b].path()));
    let mut rank = vec![0; files.len()];
    for (r, &i) in by_name.iter().enumerate() {
        rank[i] = r;
    }
    // Largest first; equal sizes in name order (the sort is stable).
    let mut by_size = by_name;
    by_size.sort_by_key(|&i| std::cmp::Reverse(files[i].object_meta.size));
    let mut groups: Vec<(u64, Vec<usize>)> = (0..n).map(|_| (0, Vec::new())).collect();
    for i in by_size {
        let lightest = groups
            .iter_mut()
            .min_by_key(|(bytes, _)| *bytes)
            .expect("at least one group");
        lightest.0 += files[i].object_meta.size.max(1);
        lightest.1.push(i);
    }
    let mut files: Vec<Option<PartitionedFile>> = files.into_iter().map(Some).collect();
    groups
        .into_iter()
        .map(|(_, mut members)| {
            members.sort_unstable_by_key(|&i| rank[i]);
            FileGroup::new(
                members
                    .into_iter()
                    .map(|i| files[i].take().expect("each file in one group"))
                    .collect(),
            )
        })
        .collect()
}

/// Objects below this size are read in bundles ([`Bundle`]).
const BUNDLE_BELOW: u64 = 1 << 20;
/// A bundle ends at this many objects or bytes.
const BUNDLE_OBJECTS: usize = 1024;
const BUNDLE_BYTES: u64 = 32 << 20;

/// Runs of small objects in `group` as one `PartitionedFile` each (the first object's, its size
/// the bundle's, the objects in its extensions); larger objects stay as they are. The order of
/// the objects is kept.
fn bundle_small(group: FileGroup) -> FileGroup {
    let mut out = Vec::new();
    let mut run: Vec<ObjectMeta> = Vec::new();
    let mut run_bytes = 0;
    let flush = |run: &mut Vec<ObjectMeta>, run_bytes: &mut u64, out: &mut Vec<PartitionedFile>| {
        match run.len() {
            0 => {}
            1 => out.push(PartitionedFile::from(run.pop().expect("one"))),
            _ => {
                let mut first = run[0].clone();
                first.size = *run_bytes;
                out.push(PartitionedFile::from(first).with_extension(Bundle(std::mem::take(run))));
            }
        }
        *run_bytes = 0;
    };
    for file in group.into_inner() {
        if file.object_meta.size >= BUNDLE_BELOW || file.extension::<Bundle>().is_some() {
            flush(&mut run, &mut run_bytes, &mut out);
            out.push(file);
            continue;
        }
        run_bytes += file.object_meta.size;
        run.push(file.object_meta);
        if run.len() >= BUNDLE_OBJECTS || run_bytes >= BUNDLE_BYTES {
            flush(&mut run, &mut run_bytes, &mut out);
        }
    }
    flush(&mut run, &mut run_bytes, &mut out);
    FileGroup::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::path::Path;

    fn file(name: &str, size: u64) -> PartitionedFile {
        PartitionedFile::from(ObjectMeta {
            location: Path::from(name),
            last_modified: chrono::DateTime::UNIX_EPOCH,
            size,
            e_tag: None,
            version: None,
        })
    }

    #[test]
    fn groups_are_balanced_by_size_and_in_name_order() {
        let files = vec![
            file("a", 100),
            file("b", 10),
            file("c", 10),
            file("d", 60),
            file("e", 30),
        ];
        let groups = balance(files, 2);
        let names: Vec<Vec<String>> = groups
            .iter()
            .map(|g| g.iter().map(|f| f.path().to_string()).collect())
            .collect();
        assert_eq!(names, vec![vec!["a", "c"], vec!["b", "d", "e"]]);
        assert_eq!(balance(vec![file("x", 1)], 4).len(), 1);
        assert!(balance(Vec::new(), 2).is_empty());
    }

    #[test]
    fn small_objects_are_bundled_in_order() {
        let big = BUNDLE_BELOW;
        let group = FileGroup::new(vec![
            file("a", 10),
            file("b", 20),
            file("c", big),
            file("d", 30),
            file("e", big + 1),
            file("f", 40),
            file("g", 50),
        ]);
        let out = bundle_small(group);
        let shape: Vec<(String, u64, Vec<String>)> = out
            .iter()
            .map(|f| {
                let members = f
                    .extension::<Bundle>()
                    .map(|b| b.0.iter().map(|m| m.location.to_string()).collect())
                    .unwrap_or_default();
                (f.path().to_string(), f.object_meta.size, members)
            })
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shape,
            vec![
                ("a".into(), 30, s(&["a", "b"])),
                ("c".into(), big, vec![]),
                ("d".into(), 30, vec![]),
                ("e".into(), big + 1, vec![]),
                ("f".into(), 90, s(&["f", "g"])),
            ]
        );
        // A long run is cut at BUNDLE_OBJECTS.
        let many = FileGroup::new(
            (0..BUNDLE_OBJECTS + 5)
                .map(|i| file(&format!("{i:05}"), 1))
                .collect(),
        );
        let sizes: Vec<u64> = bundle_small(many)
            .iter()
            .map(|f| f.object_meta.size)
            .collect();
        assert_eq!(sizes, vec![BUNDLE_OBJECTS as u64, 5]);
    }
}
