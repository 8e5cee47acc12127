//! The log formats as DataFusion file formats.
//!
//! `access_logs` and `rejects` are `ListingTable`s over the user's paths whose file format is
//! [`LogFormat`]: DataFusion lists the objects (recursively, through `object_store`, so local
//! folders, globs and `s3://` prefixes behave alike), spreads them over partitions, pushes the
//! projection down, and asks [`LogOpener`] (in [`super::opener`]) for each object's batches,
//! which come from the one decoding path in [`crate::scan`]. Filters on `cloudtrail` that
//! accept only some text values of a column ([`super::pushdown`]) reach its decoder. Each object is sniffed on its own, so a table simply yields
//! nothing for objects of another kind.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, Statistics};
use datafusion::config::ConfigOptions;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::physical_plan::{FileOpener, FileScanConfig, FileSource};
use datafusion::datasource::projection::{ProjectionOpener, SplitProjection};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::filter_pushdown::{FilterPushdownPropagation, PushedDown};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::projection::ProjectionExprs;
use datafusion::physical_plan::{DisplayFormatType, ExecutionPlan};
use object_store::{ObjectMeta, ObjectStore};

use super::opener::{BUNDLE_READ_AHEAD, LogOpener};
use super::pushdown::accepted_values;
use crate::format::access_log::DecoderOptions;
use crate::format::access_log::decoder::DEFAULT_BATCH_SIZE;
use crate::format::{access_log, cloudtrail, rejects};
use crate::scan::{Output, ScanLog, ScanOptions};

/// A log table's file format: which table it feeds and how strictly it reads.
#[derive(Clone)]
pub struct LogFormat {
    pub(super) output: Output,
    pub(super) strict: bool,
    /// Where scans report their counts and rejects (the data tables only, so that a query
    /// reading `rejects` too does not count them twice).
    log: Option<ScanLog>,
    /// Objects to leave out because a lake read in the same query already holds them.
    pub(super) skip: Arc<HashSet<String>>,
    /// Objects of a bundle fetched ahead of the one being decoded, per partition.
    pub(super) fetch_ahead: usize,
}

impl fmt::Debug for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogFormat")
            .field("output", &self.output)
            .field("strict", &self.strict)
            .finish()
    }
}

impl LogFormat {
    pub fn new(output: Output, strict: bool, log: Option<ScanLog>) -> Self {
        LogFormat {
            output,
            strict,
            log,
            skip: Arc::default(),
            fetch_ahead: BUNDLE_READ_AHEAD,
        }
    }

    /// Fetches `n` objects of a bundle ahead of the one being decoded (in each partition).
    pub fn fetching_ahead(mut self, n: usize) -> Self {
        self.fetch_ahead = n.max(1);
        self
    }

    /// Leaves out the named objects (those a lake in the same query already holds).
    pub fn skipping(mut self, skip: Arc<HashSet<String>>) -> Self {
        self.skip = skip;
        self
    }

    pub fn schema(&self) -> SchemaRef {
        match self.output {
            Output::AccessLogs | Output::Ingest => access_log::schema::schema(),
            Output::CloudTrail => cloudtrail::schema::schema(),
            Output::Rejects => rejects::schema(),
        }
    }
}

#[async_trait]
impl FileFormat for LogFormat {
    /// Log objects have no telling extension (S3 delivers access logs without one), so every
    /// listed object is read and sniffed.
    fn get_ext(&self) -> String {
        String::new()
    }

    fn get_ext_with_compression(&self, _compression: &FileCompressionType) -> Result<String> {
        Ok(String::new())
    }

    /// Compression is sniffed per object, not declared.
    fn compression_type(&self) -> Option<FileCompressionType> {
        None
    }

    async fn infer_schema(
        &self,
        _state: &dyn Session,
        _store: &Arc<dyn ObjectStore>,
        _objects: &[ObjectMeta],
    ) -> Result<SchemaRef> {
        Ok(self.schema())
    }

    async fn infer_stats(
        &self,
        _state: &dyn Session,
        _store: &Arc<dyn ObjectStore>,
        table_schema: SchemaRef,
        _object: &ObjectMeta,
    ) -> Result<Statistics> {
        Ok(Statistics::new_unknown(&table_schema))
    }

    async fn create_physical_plan(
        &self,
        _state: &dyn Session,
        conf: FileScanConfig,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(DataSourceExec::from_data_source(conf))
    }

    fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        Arc::new(LogSource::new(self.clone(), table_schema))
    }
}

#[derive(Clone)]
pub struct LogSource {
    pub(super) format: LogFormat,
    table_schema: TableSchema,
    projection: SplitProjection,
    pub(super) batch_size: Option<usize>,
    metrics: ExecutionPlanMetricsSet,
    /// Filters of the query that the CloudTrail decoder tests before building a row.
    pub(super) prefilter: Option<Arc<cloudtrail::Prefilter>>,
}

impl LogSource {
    /// An unprojected scan of `table_schema` in `format`.
    pub(super) fn new(format: LogFormat, table_schema: TableSchema) -> Self {
        LogSource {
            format,
            projection: SplitProjection::unprojected(&table_schema),
            table_schema,
            batch_size: None,
            metrics: ExecutionPlanMetricsSet::new(),
            prefilter: None,
        }
    }
}

impl FileSource for LogSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        _partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let file_indices = self.projection.file_indices.clone();
        // Each table's decoder builds its projected columns; the other builds none.
        let (access_log, cloudtrail, batch_projection) = match self.format.output {
            Output::AccessLogs | Output::Ingest => (Some(file_indices), Some(Vec::new()), None),
            Output::CloudTrail => (Some(Vec::new()), Some(file_indices), None),
            Output::Rejects => (Some(Vec::new()), Some(Vec::new()), Some(file_indices)),
        };
        let options = ScanOptions {
            decoder: DecoderOptions {
                batch_size: self.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
                strict: self.format.strict,
                projection: access_log,
                // Only the `rejects` table needs every reject verbatim; the others count them
                // and keep the first few for the summary and `unparsed-records`.
                keep_rejects: if self.format.output == Output::Rejects {
                    usize::MAX
                } else {
                    crate::scan::KEPT_REJECTS
                },
            },
            cloudtrail_projection: cloudtrail,
            cloudtrail_prefilter: self.prefilter.clone(),
            output: self.format.output,
        };
        let opener = Arc::new(LogOpener {
            store: object_store,
            store_url: base_config.object_store_url.clone(),
            options: Arc::new(options),
            batch_projection,
            log: self.format.log.clone(),
            skip: Arc::clone(&self.format.skip),
            fetch_ahead: self.format.fetch_ahead,
        });
        ProjectionOpener::try_new(
            self.projection.clone(),
            opener,
            self.table_schema.file_schema(),
        )
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        let mut source = self.clone();
        source.batch_size = Some(batch_size);
        Arc::new(source)
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        Some(&self.projection.source)
    }

    fn try_pushdown_projection(
        &self,
        projection: &ProjectionExprs,
    ) -> Result<Option<Arc<dyn FileSource>>> {
        let mut source = self.clone();
        let merged = self.projection.source.try_merge(projection)?;
        source.projection = SplitProjection::new(self.table_schema.file_schema(), &merged);
        Ok(Some(Arc::new(source)))
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn fmt_extra(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.prefilter {
            Some(p) => write!(f, ", prefilter={p}"),
            None => Ok(()),
        }
    }

    fn file_type(&self) -> &str {
        match self.format.output {
            Output::AccessLogs | Output::Ingest => "s3_access_log",
            Output::CloudTrail => "cloudtrail",
            Output::Rejects => "rejects",
        }
    }

    /// Line numbers are counted from an object's start, so an object is never split into byte
    /// ranges; a large object is decoded in parallel pieces by the scan instead.
    fn supports_repartitioning(&self) -> bool {
        false
    }

    /// `cloudtrail`: equality and `IN` tests on top-level text columns are handed to the decoder,
    /// which then builds no row for a record that fails them. The filters stay where they are
    /// (reported as not pushed down), so they are still applied exactly.
    fn try_pushdown_filters(
        &self,
        filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn FileSource>>> {
        let not_pushed = vec![PushedDown::No; filters.len()];
        if self.format.output != Output::CloudTrail {
            return Ok(FilterPushdownPropagation::with_parent_pushdown_result(
                not_pushed,
            ));
        }
        let mut prefilter = cloudtrail::Prefilter::default();
        for filter in &filters {
            if let Some(accepted) = accepted_values(filter) {
                if accepted.any_case {
                    prefilter.require_any_case(&accepted.column, accepted.values);
                } else {
                    prefilter.require(&accepted.column, accepted.values);
                }
            }
        }
        let propagation = FilterPushdownPropagation::with_parent_pushdown_result(not_pushed);
        if prefilter.is_empty() {
            return Ok(propagation);
        }
        let mut source = self.clone();
        source.prefilter = Some(Arc::new(prefilter));
        Ok(propagation.with_updated_node(Arc::new(source) as Arc<dyn FileSource>))
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        datafusion::physical_plan::apply_expression_roots(self.projection.source.iter(), f)
    }
}
