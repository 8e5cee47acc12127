//! A table over raw log objects.
//!
//! DataFusion's `ListingTable` gives every listed object its own statistics, each a vector of
//! unknown column statistics (about 9 KB for `access_logs`): with the thousands of small
//! objects S3 delivers access logs in, allocating and freeing those costs more than some of the
//! objects take to decode. [`RawLogTable`] lists the same way (`ListingTableUrl`, so folders,
//! globs and `s3://` prefixes behave as before), keeps no per-object statistics, and spreads
//! the objects over the partitions by size rather than by name.

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
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use futures::TryStreamExt;

use super::format::LogFormat;

#[derive(Debug)]
pub struct RawLogTable {
    /// Where the objects are; all in one object store.
    urls: Vec<ListingTableUrl>,
    format: Arc<LogFormat>,
    schema: SchemaRef,
}

impl RawLogTable {
    pub fn new(urls: Vec<ListingTableUrl>, format: LogFormat) -> Self {
        RawLogTable {
            urls,
            schema: format.schema(),
            format: Arc::new(format),
        }
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

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(store_url) = self.urls.first().map(ListingTableUrl::object_store) else {
            return Ok(Arc::new(EmptyExec::new(self.schema())));
        };
        let store = state.runtime_env().object_store(&store_url)?;
        // Paths can overlap (a folder and a file in it): each object once.
        let mut seen = HashSet::new();
        let mut files = Vec::new();
        for url in &self.urls {
            let mut listed = url.list_all_files(state, store.as_ref(), "").await?;
            while let Some(meta) = listed.try_next().await? {
                if seen.insert(meta.location.clone()) {
                    files.push(PartitionedFile::from(meta));
                }
            }
        }
        let groups = balance(files, state.config().target_partitions());
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
fn balance(mut files: Vec<PartitionedFile>, n: usize) -> Vec<FileGroup> {
    let n = n.max(1).min(files.len());
    if n == 0 {
        return Vec::new();
    }
    files.sort_by(|a, b| {
        b.object_meta
            .size
            .cmp(&a.object_meta.size)
            .then_with(|| a.path().cmp(b.path()))
    });
    let mut groups: Vec<(u64, Vec<PartitionedFile>)> = (0..n).map(|_| (0, Vec::new())).collect();
    for file in files {
        let lightest = groups
            .iter_mut()
            .min_by_key(|(bytes, _)| *bytes)
            .expect("at least one group");
        lightest.0 += file.object_meta.size.max(1);
        lightest.1.push(file);
    }
    groups
        .into_iter()
        .map(|(_, mut files)| {
            files.sort_by(|a, b| a.path().cmp(b.path()));
            FileGroup::new(files)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectMeta;
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
}
