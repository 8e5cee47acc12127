//! What a cluster agrees to run: read-only queries over its data roots, nothing else.
//!
//! In: a plan a client sent (logical, on the scheduler) or a task's plan (physical, on the
//! scheduler after listing and again on the executor that runs it), and the machine's data roots
//! (`--data-root`: local folders and `s3://bucket/prefix`es). Out: the plan unchanged, or a
//! refusal that says what was refused and why.
//!
//! The rules, checked where a hostile client cannot skip them (a client can send any plan):
//! - no statement that writes or changes state: DML, DDL, `COPY … TO`, `SET`, and no plan node
//!   that writes (`DataSinkExec`);
//! - every table is a raw-log table, a Parquet/CSV/JSON listing table or an in-memory table the
//!   plan carries; any other source is refused, since we cannot say what it reads;
//! - every location, and every object a scan reads, is under a data root once `..`, symlinks
//!   and globs are resolved (local files by their canonical path, checked again per object on
//!   the executor, right before it is read);
//! - settings that change where a session reads or writes (`datafusion.catalog.location`,
//!   `datafusion.runtime.*`) are refused.
//!
//! A refusal names the location as the client gave it, never a file the listing found (the
//! scheduler must not tell a client which files exist outside its roots).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result};
use datafusion::config::ConfigOptions;
use datafusion::datasource::listing::{ListingTable, ListingTableUrl};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::{MemTable, source_as_provider};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use object_store::path::Path as ObjectPath;

use crate::engine::table::RawLogTable;

/// Where a cluster role may read: local folders (canonical) and S3 prefixes.
#[derive(Debug, Clone, Default)]
pub struct DataRoots {
    local: Vec<PathBuf>,
    /// Bucket and key prefix (empty, or ending in `/`).
    s3: Vec<(String, String)>,
}

/// Why a plan was refused.
fn refused(message: impl Into<String>) -> DataFusionError {
    DataFusionError::Plan(format!("refused by the cluster: {}", message.into()))
}

impl DataRoots {
    /// Roots from `--data-root` values: a local folder (which must exist) or
    /// `s3://bucket[/prefix]`.
    pub fn parse(given: &[String]) -> std::result::Result<DataRoots, String> {
        let mut roots = DataRoots::default();
        for root in given {
            if let Some(rest) = root.strip_prefix("s3://") {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(format!("--data-root {root}: no bucket"));
                }
                let prefix = prefix.trim_start_matches('/');
                if prefix.split('/').any(|s| s == ".." || s == ".") {
                    return Err(format!("--data-root {root}: `.` or `..` in the prefix"));
                }
                let prefix = if prefix.is_empty() || prefix.ends_with('/') {
                    prefix.to_string()
                } else {
                    format!("{prefix}/")
                };
                roots.s3.push((bucket.to_string(), prefix));
            } else if root.contains("://") {
                return Err(format!(
                    "--data-root {root}: a local folder or s3://bucket/prefix"
                ));
            } else {
                let canonical = Path::new(root)
                    .canonicalize()
                    .map_err(|e| format!("--data-root {root}: {e}"))?;
                if !canonical.is_dir() {
                    return Err(format!("--data-root {root}: not a folder"));
                }
                roots.local.push(canonical);
            }
        }
        Ok(roots)
    }

    pub fn is_empty(&self) -> bool {
        self.local.is_empty() && self.s3.is_empty()
    }

    /// The roots, as a user would write them.
    pub fn describe(&self) -> String {
        let mut all: Vec<String> = self.local.iter().map(|p| p.display().to_string()).collect();
        all.extend(self.s3.iter().map(|(b, p)| format!("s3://{b}/{p}")));
        if all.is_empty() {
            "none".to_string()
        } else {
            all.join(", ")
        }
    }

    fn outside(&self, what: &str) -> DataFusionError {
        if self.is_empty() {
            refused(format!(
                "{what}: this machine has no --data-root, so it reads nothing"
            ))
        } else {
            refused(format!("{what} is outside every data root"))
        }
    }

    /// Checks a table's location (a folder, a file or a glob).
    pub fn check_location(&self, url: &ListingTableUrl) -> Result<()> {
        let shown = url.as_str().to_string();
        // A glob cannot climb out of its prefix unless it names `..` itself.
        if let Some(glob) = url.get_glob()
            && glob.as_str().split('/').any(|s| s == "..")
        {
            return Err(self.outside(&shown));
        }
        self.check_object(url.object_store(), url.prefix(), &shown)
    }

    /// Checks an object or a prefix of the store `store`; `shown` names it in a refusal.
    pub fn check_object(
        &self,
        store: ObjectStoreUrl,
        path: &ObjectPath,
        shown: &str,
    ) -> Result<()> {
        let store = store.as_str().trim_end_matches('/').to_string();
        if store == "file:" || store == "file://" {
            let local = PathBuf::from(format!("/{}", path.as_ref()));
            if self.local_is_inside(&local) {
                return Ok(());
            }
            return Err(self.outside(shown));
        }
        if let Some(bucket) = store.strip_prefix("s3://") {
            let key = path.as_ref();
            let parts_ok = !key.split('/').any(|s| s == ".." || s == ".");
            let inside = self.s3.iter().any(|(b, prefix)| {
                b == bucket && (key.starts_with(prefix.as_str()) || format!("{key}/") == *prefix)
            });
            if parts_ok && inside {
                return Ok(());
            }
            return Err(self.outside(shown));
        }
        Err(refused(format!(
            "{shown}: only local files and s3:// locations can be read"
        )))
    }

    /// Whether `path` (absolute) is under a local root once `..` and symlinks are resolved. A
    /// path that does not exist yet is judged by its nearest existing ancestor, and the rest
    /// must not climb.
    fn local_is_inside(&self, path: &Path) -> bool {
        if self.local.is_empty() {
            return false;
        }
        let mut existing = path.to_path_buf();
        let mut rest: Vec<std::ffi::OsString> = Vec::new();
        let canonical = loop {
            match existing.canonicalize() {
                Ok(c) => break c,
                Err(_) => {
                    let Some(name) = existing.file_name() else {
                        return false;
                    };
                    rest.push(name.to_os_string());
                    if !existing.pop() {
                        return false;
                    }
                }
            }
        };
        if rest.iter().any(|c| {
            matches!(
                Path::new(c).components().next(),
                Some(Component::ParentDir | Component::CurDir)
            )
        }) {
            return false;
        }
        self.local.iter().any(|root| canonical.starts_with(root))
    }
}

/// Checks a plan a client sent: read-only, over the data roots.
pub fn check_logical(plan: &LogicalPlan, roots: &DataRoots) -> Result<()> {
    plan.apply_with_subqueries(|node| {
        match node {
            LogicalPlan::Dml(_) => {
                return Err(refused("a statement that writes (INSERT, UPDATE, DELETE)"));
            }
            LogicalPlan::Ddl(_) => {
                return Err(refused(
                    "a statement that changes the catalog (CREATE, DROP …)",
                ));
            }
            LogicalPlan::Copy(_) => return Err(refused("COPY … TO writes files")),
            LogicalPlan::Statement(_) => {
                return Err(refused("a statement (SET, PREPARE, a transaction …)"));
            }
            LogicalPlan::TableScan(scan) => {
                let provider = source_as_provider(&scan.source)?;
                check_provider(provider.as_ref(), &scan.table_name.to_string(), roots)?;
            }
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map(|_| ())
}

fn check_provider(
    provider: &dyn datafusion::catalog::TableProvider,
    name: &str,
    roots: &DataRoots,
) -> Result<()> {
    if let Some(raw) = provider.downcast_ref::<RawLogTable>() {
        return raw.urls().iter().try_for_each(|u| roots.check_location(u));
    }
    if let Some(listing) = provider.downcast_ref::<ListingTable>() {
        return listing
            .table_paths()
            .iter()
            .try_for_each(|u| roots.check_location(u));
    }
    if provider.downcast_ref::<MemTable>().is_some() {
        return Ok(());
    }
    if let Some(plan) = provider.get_logical_plan() {
        return check_logical(&plan, roots);
    }
    Err(refused(format!(
        "table {name}: a source the cluster cannot check"
    )))
}

/// Leaves that read nothing outside the plan (or, for shuffles, only other executors' task
/// output): every other leaf but a checked scan is refused.
const HARMLESS_LEAVES: [&str; 6] = [
    "EmptyExec",
    "PlaceholderRowExec",
    "ShuffleReaderExec",
    "UnresolvedShuffleExec",
    "LazyMemoryExec",
    "RangeShuffleReaderExec",
];

/// Checks a physical plan: nothing writes, every object scanned is under a data root.
pub fn check_physical(plan: &Arc<dyn ExecutionPlan>, roots: &DataRoots) -> Result<()> {
    plan.apply(|node| {
        let name = node.name();
        if name == "DataSinkExec" {
            return Err(refused("a plan that writes (COPY … TO, INSERT)"));
        }
        if let Some(exec) = node.downcast_ref::<DataSourceExec>() {
            let source = exec.data_source();
            if let Some(scan) = source.downcast_ref::<FileScanConfig>() {
                for group in &scan.file_groups {
                    for file in group.iter() {
                        for object in crate::engine::objects_of(file) {
                            let shown = format!(
                                "{}{}",
                                scan.object_store_url.as_str(),
                                object.location.as_ref()
                            );
                            roots.check_object(
                                scan.object_store_url.clone(),
                                &object.location,
                                &shown,
                            )?;
                        }
                    }
                }
            } else if source.downcast_ref::<MemorySourceConfig>().is_none() {
                return Err(refused("a scan of a source the cluster cannot check"));
            }
        } else if node.children().is_empty() && !HARMLESS_LEAVES.contains(&name) {
            return Err(refused(format!(
                "a plan node the cluster cannot check ({name})"
            )));
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map(|_| ())
}

/// The scheduler's physical check, as the last of its physical optimizer rules (it sees the
/// objects the listing found).
#[derive(Debug)]
pub struct PhysicalGuard(pub Arc<DataRoots>);

impl PhysicalOptimizerRule for PhysicalGuard {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        check_physical(&plan, &self.0)?;
        Ok(plan)
    }

    fn name(&self) -> &str {
        "s3trawl_cluster_guard"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Settings a client may not send: they change where a session reads or writes.
pub fn check_settings<'a>(
    settings: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<()> {
    let defaults = ConfigOptions::default();
    let default_of = |key: &str| {
        defaults
            .entries()
            .into_iter()
            .find(|e| e.key == key)
            .and_then(|e| e.value)
    };
    for (key, value) in settings {
        let guarded = key.starts_with("datafusion.runtime.")
            || key == "datafusion.catalog.location"
            || key == "datafusion.catalog.format";
        if guarded && value.is_some() && value.map(str::to_string) != default_of(key) {
            return Err(refused(format!(
                "the setting {key} cannot be changed on the cluster"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> ListingTableUrl {
        ListingTableUrl::parse(s).unwrap()
    }

    #[test]
    fn local_locations_are_judged_after_dots_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("logs")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "x").unwrap();
        std::fs::write(root.join("logs/a.log"), "x").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), root.join("logs/planted")).unwrap();
        let roots = DataRoots::parse(&[root.display().to_string()]).unwrap();
        let r = root.display().to_string();
        for good in [
            format!("{r}/logs/"),
            format!("{r}/logs/a.log"),
            format!("{r}/logs/*.log"),
            format!("{r}/"),
            format!("{r}/not-yet/"),
        ] {
            roots
                .check_location(&url(&good))
                .unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            format!("{r}/../outside/secret"),
            format!("{r}/link/secret"),
            format!("{r}/logs/planted"),
            format!("{r}/link/"),
            "/etc/shadow".to_string(),
            "/".to_string(),
            format!("{r}/logs/../../outside/*"),
        ] {
            let e = roots.check_location(&url(&bad)).unwrap_err().to_string();
            assert!(e.contains("outside every data root"), "{bad}: {e}");
        }
        let none = DataRoots::default();
        let e = none
            .check_location(&url(&format!("{r}/logs/")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no --data-root"), "{e}");
    }

    #[test]
    fn s3_locations_are_judged_by_bucket_and_prefix() {
        let roots = DataRoots::parse(&["s3://logs/access".to_string()]).unwrap();
        let check = |s: &str| roots.check_location(&url(s)).is_ok();
        assert!(check("s3://logs/access/"));
        assert!(check("s3://logs/access/2026/x.gz"));
        assert!(!check("s3://logs/access-other/x"));
        assert!(!check("s3://logs/"));
        assert!(!check("s3://other/access/x"));
        assert!(!check("http://logs/access/x"));
        assert!(DataRoots::parse(&["s3://b/../x".to_string()]).is_err());
        assert!(DataRoots::parse(&["gs://b/x".to_string()]).is_err());
    }

    #[tokio::test]
    async fn statements_and_plans_that_write_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let roots = DataRoots::parse(&[dir.path().display().to_string()]).unwrap();
        let ctx = datafusion::prelude::SessionContext::new();
        let target = dir.path().join("out.csv");
        let state = ctx.state();
        for sql in [
            format!(
                "COPY (SELECT 1 AS x) TO '{}' STORED AS CSV",
                target.display()
            ),
            "CREATE TABLE t AS SELECT 1 AS x".to_string(),
            "CREATE VIEW v AS SELECT 1 AS x".to_string(),
            "SET datafusion.execution.batch_size = 10".to_string(),
        ] {
            let plan = state.create_logical_plan(&sql).await.unwrap();
            let e = check_logical(&plan, &roots).unwrap_err().to_string();
            assert!(e.contains("refused by the cluster"), "{sql}: {e}");
        }
        let copy = format!(
            "COPY (SELECT 1 AS x) TO '{}' STORED AS CSV",
            target.display()
        );
        let plan = state.create_logical_plan(&copy).await.unwrap();
        let physical = state.create_physical_plan(&plan).await.unwrap();
        let e = check_physical(&physical, &roots).unwrap_err().to_string();
        assert!(e.contains("writes"), "{e}");
        let read = state.create_logical_plan("SELECT 1 AS x").await.unwrap();
        check_logical(&read, &roots).unwrap();
        check_physical(&state.create_physical_plan(&read).await.unwrap(), &roots).unwrap();
    }

    #[test]
    fn settings_that_move_reads_or_writes_are_refused() {
        assert!(check_settings([("datafusion.execution.batch_size", Some("10"))]).is_ok());
        assert!(check_settings([("datafusion.catalog.location", Some("/etc"))]).is_err());
        assert!(check_settings([("datafusion.runtime.temp_directory", Some("/etc"))]).is_err());
        assert!(check_settings([("datafusion.catalog.location", None)]).is_ok());
    }
}
