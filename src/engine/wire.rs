//! What a cluster's plans carry of a raw-log table and of its scans.
//!
//! In: a [`RawLogTable`] (the client sends it to the scheduler in a logical plan) or a scan of
//! log objects (a `FileScanConfig` over a [`LogSource`], which the scheduler sends to the
//! executors in a physical plan). Out: plain descriptions that serialise as JSON, and the table
//! or scan rebuilt from them on the other side. DataFusion's own plan encoding carries the
//! scan's file groups, projection and limit; this carries what it does not: the format and how
//! strictly it reads, the objects a lake already holds, the CloudTrail prefilter, and which
//! files of a group are bundles of small objects (with their objects). The scans' reports stay
//! on the machine that ran them; the client asks the cluster for the rejects instead
//! (`crate::cluster::rejects`).

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileSource};
use datafusion::datasource::table_schema::TableSchema;
use object_store::ObjectMeta;
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use super::format::{LogFormat, LogSource};
use super::opener::Bundle;
use super::table::{Fetching, RawLogTable};
use crate::format::cloudtrail::Prefilter;
use crate::scan::Output;

/// A [`LogFormat`] without its local report ([`crate::scan::ScanLog`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FormatWire {
    output: Output,
    strict: bool,
    /// Objects a lake read in the same query holds.
    skip: Vec<String>,
    fetch_ahead: usize,
}

impl FormatWire {
    fn of(format: &LogFormat) -> Self {
        let mut skip: Vec<String> = format.skip.iter().cloned().collect();
        skip.sort_unstable();
        FormatWire {
            output: format.output,
            strict: format.strict,
            skip,
            fetch_ahead: format.fetch_ahead,
        }
    }

    fn format(&self) -> LogFormat {
        LogFormat::new(self.output, self.strict, None)
            .skipping(Arc::new(self.skip.iter().cloned().collect()))
            .fetching_ahead(self.fetch_ahead)
    }
}

/// A location of a raw-log table: its URL and glob.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UrlWire {
    url: String,
    glob: Option<String>,
}

/// A [`RawLogTable`] as a logical plan carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableWire {
    urls: Vec<UrlWire>,
    format: FormatWire,
    /// Whether its objects are pruned by a time restriction.
    pruned: bool,
    fetching: Fetching,
}

impl TableWire {
    pub fn of(table: &RawLogTable) -> Self {
        TableWire {
            urls: table
                .urls
                .iter()
                .map(|u| UrlWire {
                    url: u.as_str().to_string(),
                    glob: u.get_glob().as_ref().map(|g| g.as_str().to_string()),
                })
                .collect(),
            format: FormatWire::of(&table.format),
            pruned: table.time.is_some(),
            fetching: table.fetching,
        }
    }

    /// The table's locations, as URLs.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        self.urls.iter().map(|u| u.url.as_str())
    }

    /// The table again (listing through the store the receiving machine registers).
    pub fn table(&self) -> Result<RawLogTable> {
        let urls = self
            .urls
            .iter()
            .map(|u| {
                let url = url::Url::parse(&u.url).map_err(|e| bad(format!("{}: {e}", u.url)))?;
                let glob = u
                    .glob
                    .as_deref()
                    .map(glob::Pattern::new)
                    .transpose()
                    .map_err(|e| bad(e.to_string()))?;
                ListingTableUrl::try_new(url, glob)
            })
            .collect::<Result<Vec<_>>>()?;
        let format = self.format.format();
        let output = format.output;
        let table = RawLogTable::new(urls, format);
        Ok(match super::time_columns(output).filter(|_| self.pruned) {
            Some(time) => table.pruned_by(time, self.fetching),
            None => table,
        })
    }
}

/// An object of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MetaWire {
    location: String,
    size: u64,
    /// Milliseconds since the epoch.
    modified: i64,
    e_tag: Option<String>,
    version: Option<String>,
}

impl MetaWire {
    fn of(meta: &ObjectMeta) -> Self {
        MetaWire {
            location: meta.location.to_string(),
            size: meta.size,
            modified: meta.last_modified.timestamp_millis(),
            e_tag: meta.e_tag.clone(),
            version: meta.version.clone(),
        }
    }

    fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            location: Path::from(self.location.as_str()),
            last_modified: chrono::DateTime::from_timestamp_millis(self.modified)
                .unwrap_or_default(),
            size: self.size,
            e_tag: self.e_tag.clone(),
            version: self.version.clone(),
        }
    }
}

/// What a scan of log objects carries beyond DataFusion's encoding of its `FileScanConfig`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ScanWire {
    format: FormatWire,
    batch_size: Option<usize>,
    prefilter: Option<Arc<Prefilter>>,
    /// Per file group, per file: the objects of a bundle, or nothing for a single object.
    bundles: Vec<Vec<Option<Vec<MetaWire>>>>,
}

impl ScanWire {
    /// `config`'s description, if it scans log objects.
    pub fn of(config: &FileScanConfig) -> Option<Self> {
        let source = config.file_source().downcast_ref::<LogSource>()?;
        let bundles = config
            .file_groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|file| {
                        file.extension::<Bundle>()
                            .map(|b| b.0.iter().map(MetaWire::of).collect())
                    })
                    .collect()
            })
            .collect();
        Some(ScanWire {
            format: FormatWire::of(&source.format),
            batch_size: source.batch_size,
            prefilter: source.prefilter.clone(),
            bundles,
        })
    }

    /// The scan's file source over `table_schema` (DataFusion's decoding then applies the
    /// projection to it).
    pub fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        let mut source = LogSource::new(self.format.format(), table_schema);
        source.batch_size = self.batch_size;
        source.prefilter = self.prefilter.clone();
        Arc::new(source)
    }

    /// `config` (decoded by DataFusion, which knows nothing of bundles) with its bundles again.
    pub fn restore_bundles(&self, mut config: FileScanConfig) -> Result<FileScanConfig> {
        let shape = |g: usize| bad(format!("file group {g} does not match its bundles"));
        if config.file_groups.len() != self.bundles.len() {
            return Err(shape(config.file_groups.len()));
        }
        for (g, (group, bundles)) in config.file_groups.iter_mut().zip(&self.bundles).enumerate() {
            if group.len() != bundles.len() {
                return Err(shape(g));
            }
            let files = std::mem::replace(group, FileGroup::new(Vec::new())).into_inner();
            *group = FileGroup::new(
                files
                    .into_iter()
                    .zip(bundles)
                    .map(|(file, bundle)| match bundle {
                        Some(objects) => file
                            .with_extension(Bundle(objects.iter().map(MetaWire::meta).collect())),
                        None => file,
                    })
                    .collect(),
            );
        }
        Ok(config)
    }
}

fn bad(message: String) -> DataFusionError {
    DataFusionError::Plan(format!("a raw-log scan from the cluster: {message}"))
}
