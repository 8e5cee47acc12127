//! The DataFusion session: log tables over raw objects or over the Parquet lake, plus the
//! Athena functions and coercions that let AWS's documented queries run unchanged.
//!
//! Tables: `access_logs` and `rejects`. Over raw logs they are listing tables whose file format
//! decodes log objects ([`format::LogFormat`]); over a lake they are Parquet listing tables
//! partitioned by `date`, wrapped in a view that presents exactly the raw tables' columns. When
//! both are given (or raw logs span several object stores), the table is a `UNION ALL` view of
//! its parts, so every query sees one table whatever the sources.

pub mod coerce;
pub mod format;
pub mod joda;
pub mod udf;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SessionStateBuilder;
use datafusion::optimizer::Analyzer;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Error, Result};
use crate::format::access_log::schema::{COLUMNS, is_computed, stored_schema};
use crate::format::rejects;
use crate::lake;
use crate::scan::{Output, ScanLog};
use crate::source::LogLocation;
use format::LogFormat;

/// How a session reads logs.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Threads (DataFusion partitions); `None` for one per core.
    pub threads: Option<usize>,
    /// Refuse records with unknown trailing fields.
    pub strict: bool,
}

/// A session with the Athena compatibility pieces and no tables yet.
pub fn new_context(options: &EngineOptions) -> Result<SessionContext> {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .set_bool(
            "datafusion.execution.listing_table_ignore_subdirectory",
            false,
        )
        .set_bool("datafusion.execution.collect_statistics", false);
    if let Some(threads) = options.threads {
        config = config.with_target_partitions(threads.max(1));
    }
    let mut rules = vec![Arc::new(coerce::LikeOnAnyType) as _];
    rules.extend(Analyzer::new().rules);
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_analyzer_rules(rules)
        .build();
    let mut ctx = SessionContext::new_with_state(state);
    ctx.register_udf(udf::parse_datetime());
    datafusion_functions_json::register_all(&mut ctx)?;
    Ok(ctx)
}

/// Where a table's rows come from.
pub struct Sources<'a> {
    pub logs: &'a [LogLocation],
    pub lake: Option<&'a Path>,
}

/// Registers `access_logs` and `rejects` over the given sources. Scans of raw logs report to
/// `log`. Given both raw logs and a lake, raw objects the lake already holds are left out, so
/// "what was ingested plus what arrived since" is counted once.
pub async fn register_tables(
    ctx: &SessionContext,
    sources: &Sources<'_>,
    strict: bool,
    log: &ScanLog,
) -> Result<()> {
    for output in [Output::AccessLogs, Output::Rejects] {
        let name = match output {
            Output::AccessLogs => "access_logs",
            Output::Rejects => "rejects",
        };
        let mut parts = Vec::new();
        // With a lake in the same query, raw objects it already holds are read from the lake only.
        let skip = Arc::new(match sources.lake {
            Some(dir) if !sources.logs.is_empty() => lake::read_ingested(dir)?,
            _ => Default::default(),
        });
        // Raw logs: one listing table per object store (a listing table reads from one store).
        let mut by_store: Vec<(String, Vec<ListingTableUrl>)> = Vec::new();
        for location in sources.logs {
            location.register_store(ctx.runtime_env().as_ref())?;
            let store = location.store_url().as_str().to_string();
            match by_store.iter_mut().find(|(s, _)| *s == store) {
                Some((_, urls)) => urls.push(location.url.clone()),
                None => by_store.push((store, vec![location.url.clone()])),
            }
        }
        for (i, (_, urls)) in by_store.into_iter().enumerate() {
            let log = (output == Output::AccessLogs).then(|| log.clone());
            let format = LogFormat::new(output, strict, log).skipping(Arc::clone(&skip));
            let schema = format.schema();
            let options = ListingOptions::new(Arc::new(format)).with_file_extension("");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(schema);
            let part = format!("__raw_{name}_{i}");
            ctx.register_table(&part, Arc::new(ListingTable::try_new(config)?))?;
            parts.push(format!("SELECT * FROM {part}"));
        }
        if let Some(dir) = sources.lake {
            parts.push(register_lake_table(ctx, dir, output).await?);
        }
        if parts.is_empty() {
            return Err(Error::Location(
                String::new(),
                "no logs given: use --logs PATH or --lake DIR".into(),
            ));
        }
        ctx.sql(&format!(
            "CREATE VIEW {name} AS {}",
            parts.join(" UNION ALL ")
        ))
        .await?;
    }
    Ok(())
}

/// Registers the lake's Parquet table for `output` and returns the SELECT that presents it with
/// the raw table's columns.
async fn register_lake_table(ctx: &SessionContext, dir: &Path, output: Output) -> Result<String> {
    let (name, schema, partitioned) = match output {
        Output::AccessLogs => (lake::ACCESS_LOGS_DIR, stored_schema(), true),
        Output::Rejects => (lake::REJECTS_DIR, rejects::schema(), false),
    };
    let table_dir: PathBuf = dir.join(name);
    if !table_dir.is_dir() {
        return Err(Error::Lake {
            path: dir.to_path_buf(),
            message: "not a lake (run `s3trawl ingest … --lake DIR` first)".into(),
        });
    }
    let url = ListingTableUrl::parse(format!(
        "{}/",
        table_dir
            .canonicalize()
            .map_err(|e| Error::io(&table_dir, e))?
            .display()
    ))?;
    let mut options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    if partitioned {
        options = options.with_table_partition_cols(vec![("date".to_string(), DataType::Utf8)]);
    }
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema.clone());
    let part = format!("__lake_{name}");
    ctx.register_table(&part, Arc::new(ListingTable::try_new(config)?))?;
    let select = match output {
        Output::AccessLogs => {
            let columns: Vec<String> = COLUMNS
                .iter()
                .map(|c| {
                    if is_computed(c) {
                        format!(
                            "arrow_cast(replace(date, '-', '/'), 'Utf8View') AS \"{}\"",
                            c.name
                        )
                    } else {
                        format!("\"{}\"", c.name)
                    }
                })
                .collect();
            format!("SELECT {} FROM {part}", columns.join(", "))
        }
        Output::Rejects => format!("SELECT * FROM {part}"),
    };
    Ok(select)
}
