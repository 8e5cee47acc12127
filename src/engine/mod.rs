//! The DataFusion session: log tables over raw objects or over the Parquet lake, plus the
//! Athena functions and coercions that let AWS's documented queries run unchanged.
//!
//! Tables: `access_logs`, `cloudtrail` and `rejects`. Over raw logs they are tables of listed
//! objects ([`table::RawLogTable`]) whose file format decodes log objects
//! ([`format::LogFormat`]); over a lake they are Parquet listing tables
//! partitioned by `date`, wrapped in a view that presents exactly the raw tables' columns. When
//! both are given (or raw logs span several object stores), the table is a `UNION ALL` view of
//! its parts, so every query sees one table whatever the sources.

pub mod cells;
pub mod coerce;
pub mod first_n;
pub mod format;
pub mod joda;
pub mod memory;
pub mod names;
mod opener;
mod pushdown;
pub mod table;
pub mod timefilter;
pub mod udf;
pub mod wire;

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

use arrow::datatypes::SchemaRef;

use crate::error::{Error, Result};
use crate::format::{access_log, cloudtrail, rejects};
use crate::lake;
use crate::scan::{Output, ScanLog};
use crate::source::LogLocation;
use format::LogFormat;
use table::RawLogTable;

/// The objects a scan's file stands for: itself, or the small objects of a bundle.
pub fn objects_of(
    file: &datafusion::datasource::listing::PartitionedFile,
) -> Vec<&object_store::ObjectMeta> {
    match file.extension::<opener::Bundle>() {
        Some(bundle) => bundle.0.iter().collect(),
        None => vec![&file.object_meta],
    }
}

/// How a session reads logs.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Threads (DataFusion partitions); `None` for one per core.
    pub threads: Option<usize>,
    /// Refuse records with unknown trailing fields.
    pub strict: bool,
    /// A Ballista cluster that runs the queries, else this process.
    pub cluster: Option<crate::cluster::Client>,
    /// The memory budget and spill folder of a local session.
    pub memory: memory::Memory,
}

/// A session with the Athena compatibility pieces and no tables yet; on `options.cluster`'s
/// scheduler when one is given.
pub fn new_context(options: &EngineOptions) -> Result<SessionContext> {
    let mut config = our_settings(SessionConfig::new().with_information_schema(true));
    if let Some(threads) = options.threads {
        config = config.with_target_partitions(threads.max(1));
    }
    let mut state = SessionStateBuilder::new_from_existing(session_state(config))
        .with_runtime_env(options.memory.runtime()?)
        .build();
    if let Some(client) = &options.cluster {
        state = crate::cluster::client_state(state, client)?;
    }
    let mut ctx = SessionContext::new_with_state(state);
    // After the cluster's upgrade of the state, which replaces its function lists.
    register_functions(&mut ctx)?;
    Ok(ctx)
}

/// `config` with the settings our tables' meaning depends on: a folder's objects are all of
/// those under it, subfolders included; no statistics are gathered from objects; NULLs sort
/// last in both directions, as in Athena, Trino and DuckDB (`ORDER BY bytes DESC` lists the
/// top talkers first, not the rows without a value; `NULLS FIRST` still says otherwise).
fn our_settings(config: SessionConfig) -> SessionConfig {
    config
        .set_str("datafusion.sql_parser.default_null_ordering", "nulls_last")
        .set_bool(
            "datafusion.execution.listing_table_ignore_subdirectory",
            false,
        )
        .set_bool("datafusion.execution.collect_statistics", false)
}

/// A session state with the Athena coercions but not yet our functions.
fn session_state(config: SessionConfig) -> datafusion::execution::SessionState {
    let mut rules = vec![Arc::new(coerce::LikeOnAnyType) as _];
    rules.extend(Analyzer::new().rules);
    SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_analyzer_rules(rules)
        .build()
}

/// Our functions and Athena's, on a session.
fn register_functions(ctx: &mut SessionContext) -> Result<()> {
    ctx.register_udaf(first_n::first_n());
    ctx.register_udaf(first_n::last_n());
    ctx.register_udf(udf::parse_datetime());
    ctx.register_udf(udf::from_iso8601_timestamp());
    datafusion_functions_json::register_all(ctx)?;
    // Athena's names win over the JSON crate's where both exist.
    ctx.register_udf(udf::json_extract_scalar());
    ctx.register_udf(udf::json_extract());
    ctx.register_udf(udf::replace());
    ctx.register_udf(crate::cluster::version_udf());
    Ok(())
}

/// A session state with `config` (and [`our_settings`]) and every function a query of ours may
/// call: what a cluster's scheduler plans with and its executors run with.
pub fn functions_state(config: SessionConfig) -> Result<datafusion::execution::SessionState> {
    let mut ctx = SessionContext::new_with_state(session_state(our_settings(config)));
    register_functions(&mut ctx)?;
    Ok(ctx.state())
}

/// A session with `access_logs`, `cloudtrail` and `rejects` over `sources` (what `sql`,
/// `shell`, `detect` and `report` read); the scans of raw logs report to `log` (on a cluster,
/// once the cluster is known to run this version, they run on the executors and report there:
/// see [`crate::cluster::rejects`]).
pub async fn open(
    options: &EngineOptions,
    sources: &Sources<'_>,
    log: &ScanLog,
) -> Result<SessionContext> {
    let ctx = new_context(options)?;
    if let Some(client) = &options.cluster {
        crate::cluster::check_version(&ctx, &client.url).await?;
    }
    register_tables(&ctx, sources, options.strict, log).await?;
    Ok(ctx)
}

/// Where a table's rows come from.
#[derive(Default)]
pub struct Sources<'a> {
    pub logs: &'a [LogLocation],
    pub lake: Option<&'a Path>,
    /// How raw logs are listed and fetched.
    pub fetching: table::Fetching,
}

/// A table of the session: its name, where its raw rows come from, and its lake folder.
struct TableDef {
    name: &'static str,
    output: Output,
    /// Columns, each with whether it is computed rather than stored in the lake.
    columns: Vec<(&'static str, bool)>,
    stored: SchemaRef,
    lake_dir: &'static str,
    partitioned: bool,
    /// The record time and day columns, for pruning objects by their keys.
    time: Option<timefilter::TimeColumns>,
}

fn tables() -> Vec<TableDef> {
    vec![
        TableDef {
            name: "access_logs",
            output: Output::AccessLogs,
            columns: access_log::schema::COLUMNS
                .iter()
                .map(|c| (c.name, access_log::schema::is_computed(c)))
                .collect(),
            stored: access_log::schema::stored_schema(),
            lake_dir: lake::ACCESS_LOGS_DIR,
            partitioned: true,
            time: time_columns(Output::AccessLogs),
        },
        TableDef {
            name: "cloudtrail",
            output: Output::CloudTrail,
            columns: cloudtrail::schema::columns()
                .iter()
                .map(|c| (c.name, cloudtrail::schema::is_computed(c)))
                .collect(),
            stored: cloudtrail::schema::stored_schema(),
            lake_dir: lake::CLOUDTRAIL_DIR,
            partitioned: true,
            time: time_columns(Output::CloudTrail),
        },
        TableDef {
            name: "rejects",
            output: Output::Rejects,
            columns: rejects::COLUMNS
                .iter()
                .map(|(name, _)| (*name, false))
                .collect(),
            stored: rejects::schema(),
            lake_dir: lake::REJECTS_DIR,
            partitioned: false,
            time: time_columns(Output::Rejects),
        },
    ]
}

/// The record time and day columns of the table `output` feeds, for pruning objects by their
/// keys (`rejects` has none).
fn time_columns(output: Output) -> Option<timefilter::TimeColumns> {
    match output {
        Output::AccessLogs => Some(timefilter::TimeColumns {
            time: "requestdatetime",
            day: "timestamp",
        }),
        Output::CloudTrail => Some(timefilter::TimeColumns {
            time: "eventtime",
            day: "timestamp",
        }),
        Output::Rejects | Output::Ingest => None,
    }
}

/// Registers `access_logs`, `cloudtrail` and `rejects` over the given sources. Scans of raw
/// logs report to `log`. Given both raw logs and a lake, raw objects the lake already holds are
/// left out, so "what was ingested plus what arrived since" is counted once.
pub async fn register_tables(
    ctx: &SessionContext,
    sources: &Sources<'_>,
    strict: bool,
    log: &ScanLog,
) -> Result<()> {
    // With a lake in the same query, raw objects it already holds are read from the lake only.
    let skip = Arc::new(match sources.lake {
        Some(dir) if !sources.logs.is_empty() => lake::read_ingested(dir)?,
        _ => Default::default(),
    });
    // Raw logs: one listing table per object store (a listing table reads from one store).
    type Lister = Option<Arc<dyn object_store::list::PaginatedListStore>>;
    let mut by_store: Vec<(String, Vec<ListingTableUrl>, Lister)> = Vec::new();
    for location in sources.logs {
        let lister = location.register_store(ctx.runtime_env().as_ref()).await?;
        let store = location.store_url().as_str().to_string();
        match by_store.iter_mut().find(|(s, _, _)| *s == store) {
            Some((_, urls, _)) => urls.push(location.url.clone()),
            None => by_store.push((store, vec![location.url.clone()], lister)),
        }
    }
    let partitions = ctx.state().config().target_partitions().max(1);
    if sources.logs.is_empty() && sources.lake.is_none() {
        return Err(Error::Location(
            String::new(),
            "no logs given: use --logs PATH or --lake DIR".into(),
        ));
    }
    for table in tables() {
        let mut parts = Vec::new();
        for (i, (store, urls, lister)) in by_store.iter().enumerate() {
            let log = (table.output != Output::Rejects).then(|| log.clone());
            let mut format = LogFormat::new(table.output, strict, log).skipping(Arc::clone(&skip));
            if !store.starts_with("file:") {
                // Each partition's share of the requests in flight (never more in all than
                // asked, unless there are more partitions than requests).
                format = format.fetching_ahead((sources.fetching.concurrency / partitions).max(1));
            }
            let part = format!("__raw_{}_{i}", table.name);
            let mut raw = RawLogTable::new(urls.clone(), format).listing_with(lister.clone());
            if let Some(time) = table.time {
                raw = raw.pruned_by(time, sources.fetching);
            }
            ctx.register_table(&part, Arc::new(raw))?;
            parts.push(format!("SELECT * FROM {part}"));
        }
        if table.output == Output::Rejects && !parts.is_empty() {
            // What a cluster's client asks for after its scans ran elsewhere.
            ctx.sql(&format!(
                "CREATE VIEW {} AS {}",
                crate::cluster::rejects::RAW_REJECTS,
                parts.join(" UNION ALL ")
            ))
            .await?;
        }
        if let Some(dir) = sources.lake {
            parts.push(register_lake_table(ctx, dir, &table)?);
        }
        ctx.sql(&format!(
            "CREATE VIEW {} AS {}",
            table.name,
            parts.join(" UNION ALL ")
        ))
        .await?;
    }
    Ok(())
}

/// Registers the lake's Parquet table and returns the SELECT that presents it with the raw
/// table's columns (computed ones derived from the `date` partition).
fn register_lake_table(ctx: &SessionContext, dir: &Path, table: &TableDef) -> Result<String> {
    if !lake::is_lake(dir) {
        return Err(Error::Lake {
            path: dir.to_path_buf(),
            message: "not a lake (run `s3trawl ingest … --lake DIR` first)".into(),
        });
    }
    let table_dir: PathBuf = dir.join(table.lake_dir);
    // A lake written before this table existed has no folder for it: an empty table.
    let _ = std::fs::create_dir_all(&table_dir);
    let url = ListingTableUrl::parse(format!(
        "{}/",
        table_dir
            .canonicalize()
            .map_err(|e| Error::io(&table_dir, e))?
            .display()
    ))?;
    let mut options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    if table.partitioned {
        options = options.with_table_partition_cols(vec![("date".to_string(), DataType::Utf8)]);
    }
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(table.stored.clone());
    let part = format!("__lake_{}", table.name);
    ctx.register_table(&part, Arc::new(ListingTable::try_new(config)?))?;
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|(name, computed)| {
            if *computed {
                format!(
                    "arrow_cast(CASE WHEN date = '{}' THEN NULL ELSE replace(date, '-', '/') END, 'Utf8View') AS \"{name}\"",
                    lake::writer::NO_DATE
                )
            } else {
                format!("\"{name}\"")
            }
        })
        .collect();
    Ok(format!("SELECT {} FROM {part}", columns.join(", ")))
}
