//! Scale-out on Apache DataFusion Ballista: the scheduler and executor roles of this binary, and
//! the client side of `--cluster df://HOST:PORT`.
//!
//! In: addresses and a work folder. Out: running roles, or a session state whose queries the
//! scheduler plans and the executors run. Every role has the same functions as a local session
//! ([`crate::engine::functions_state`]): the client registers them after Ballista's upgrade of
//! its state (which replaces the function lists), the scheduler builds its sessions with them,
//! the executors resolve them by name. Lake tables are Parquet listing tables, which Ballista's
//! plan codec carries as they are; raw-log tables and their scans cross in our codecs
//! ([`codec`]), and their rejects come back to the client by a query ([`rejects`]).

pub mod codec;
pub mod rejects;
mod stores;

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::AsArray;
use arrow::datatypes::DataType;
use ballista_core::RuntimeProducer;
use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::common::ScalarValue;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::optimizer::{Optimizer, OptimizerRule};
use datafusion::prelude::SessionConfig;
use datafusion::prelude::SessionContext;

use crate::engine::functions_state;
use crate::error::{Error, Result};
use codec::{LogicalCodec, PhysicalCodec};

/// `df://HOST:PORT` (or `HOST:PORT`) as the host and port.
pub fn parse_address(url: &str) -> Result<(String, u16)> {
    let bad = |message: &str| Error::Cluster {
        address: url.to_string(),
        message: message.to_string(),
    };
    let rest = url.strip_prefix("df://").unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| bad("expected df://HOST:PORT"))?;
    if host.is_empty() || host.contains('/') {
        return Err(bad("expected df://HOST:PORT"));
    }
    let port = port
        .parse()
        .map_err(|_| bad("the port is not a number from 1 to 65535"))?;
    Ok((host.to_string(), port))
}

/// `state` turned into one whose queries run on the scheduler at `url`, once the scheduler
/// answers there.
pub fn client_state(state: SessionState, url: &str) -> Result<SessionState> {
    let (host, port) = parse_address(url)?;
    reachable(url, &host, port)?;
    let config = state
        .config()
        .clone()
        .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::default()));
    let config = cluster_settings(config);
    // The client sends its optimised logical plan to the scheduler, which optimises it again.
    // Two rules rename expressions to `__datafusion_extracted_N` in a way that does not survive
    // the plan codec (a projection's field names come back qualified): they run on the
    // scheduler only.
    let state = SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .with_optimizer_rules(client_optimizer_rules())
        .build();
    Ok(state.upgrade_for_ballista(format!("http://{host}:{port}"))?)
}

/// The version this binary reports to a cluster's client (`S3TRAWL_REPORTED_VERSION` stands in
/// for it, to try a mismatch without building two binaries).
fn reported_version() -> String {
    std::env::var("S3TRAWL_REPORTED_VERSION")
        .unwrap_or_else(|_| env!("CARGO_PKG_VERSION").to_string())
}

/// `s3trawl_version()`: the version of the binary that evaluates it. Volatile, so that a query
/// on a cluster evaluates it on an executor rather than the client folding it.
pub fn version_udf() -> ScalarUDF {
    create_udf(
        "s3trawl_version",
        vec![],
        DataType::Utf8,
        Volatility::Volatile,
        Arc::new(|_: &[ColumnarValue]| {
            Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
                reported_version(),
            ))))
        }),
    )
}

/// Whether the cluster behind `ctx` runs this version of s3trawl: its plans and codecs are this
/// version's, and another may read them differently or not at all.
pub async fn check_version(ctx: &SessionContext, url: &str) -> Result<()> {
    let ours = reported_version();
    let mismatch = |message: String| Error::Cluster {
        address: url.to_string(),
        message,
    };
    let batches = ctx
        .sql("SELECT s3trawl_version() AS v")
        .await?
        .collect()
        .await
        .map_err(|e| {
            mismatch(format!(
                "the cluster cannot run the plans of s3trawl {ours} (is it another version?): {}",
                e.to_string().lines().next().unwrap_or_default()
            ))
        })?;
    let theirs = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            b.column(0)
                .as_string_opt::<i32>()
                .map(|v| v.value(0).to_string())
        })
        .unwrap_or_default();
    if theirs != ours {
        return Err(mismatch(format!(
            "the cluster runs s3trawl {theirs} and this is {ours}: run one version on every machine"
        )));
    }
    Ok(())
}

/// `config` with what a query on the cluster needs besides a local one's settings.
fn cluster_settings(config: SessionConfig) -> SessionConfig {
    config
        // Ballista 55's adaptive planner (its default) did not finish a window function over
        // empty input: it planned stage after stage (thousands a minute) for
        // `SELECT row_number() OVER (PARTITION BY a …) FROM t WHERE a = 'none'`, lake or raw
        // logs. The static planner ends such a query.
        .with_ballista_adaptive_query_planner(false)
        // The static planner swaps a hash join's inputs once the stage below has run, after
        // DataFusion built the join's dynamic filter: that fails the task and leaves the job
        // waiting forever. (A dynamic filter does not cross stages anyway.)
        .set_bool(
            "datafusion.optimizer.enable_join_dynamic_filter_pushdown",
            false,
        )
}

/// Optimizer rules the client leaves to the scheduler (see [`client_state`]).
const SCHEDULER_ONLY_RULES: [&str; 2] = ["extract_leaf_expressions", "push_down_leaf_projections"];

/// The optimizer rules of a cluster's client: DataFusion's, less [`SCHEDULER_ONLY_RULES`].
pub fn client_optimizer_rules() -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    Optimizer::new()
        .rules
        .into_iter()
        .filter(|rule| !SCHEDULER_ONLY_RULES.contains(&rule.name()))
        .collect()
}

/// Whether something listens at the scheduler's address (one clear error, before any query).
fn reachable(url: &str, host: &str, port: u16) -> Result<()> {
    let unreachable = |why: String| Error::Cluster {
        address: url.to_string(),
        message: format!("the scheduler cannot be reached: {why}"),
    };
    let addresses: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| unreachable(e.to_string()))?
        .collect();
    let mut last = String::from("no address");
    for address in addresses {
        match TcpStream::connect_timeout(&address, Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(unreachable(last))
}

/// Runs a scheduler on `bind` until SIGTERM or Ctrl-C.
pub async fn run_scheduler(bind: SocketAddr) -> Result<()> {
    let mut config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: bind.ip().to_string(),
        ..SchedulerConfig::default()
    };
    config.override_logical_codec = Some(Arc::new(LogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(PhysicalCodec::default()));
    config = config.with_override_session_builder(Arc::new(|config: SessionConfig| {
        functions_state(cluster_settings(config))
            .map_err(|e| datafusion::error::DataFusionError::External(e.into()))
    }));
    let failed = |e: ballista_core::error::BallistaError| Error::Cluster {
        address: bind.to_string(),
        message: e.to_string(),
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(failed)?;
    tokio::select! {
        served = start_server(cluster, bind, Arc::new(config)) => served.map_err(failed),
        _ = stopped() => Ok(()),
    }
}

/// SIGTERM or Ctrl-C.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// An executor's settings.
#[derive(Debug, Clone)]
pub struct ExecutorSpec {
    /// The scheduler's host and port.
    pub scheduler: (String, u16),
    /// Where the executor serves its results (Arrow Flight).
    pub bind: SocketAddr,
    /// Where the executor takes tasks (gRPC).
    pub grpc_bind: SocketAddr,
    /// Shuffle files and spills.
    pub work_dir: PathBuf,
    /// Tasks at once.
    pub slots: usize,
    /// The memory pool's size in bytes (`None`: Ballista's share of the machine).
    pub memory_limit: Option<u64>,
}

/// Runs an executor until SIGTERM, Ctrl-C or the scheduler's stop request.
pub async fn run_executor(spec: ExecutorSpec) -> Result<()> {
    let failed = |message: String| Error::Cluster {
        address: spec.bind.to_string(),
        message,
    };
    std::fs::create_dir_all(&spec.work_dir).map_err(|e| Error::io(&spec.work_dir, e))?;
    let functions = functions_state(SessionConfig::new())?;
    // Ballista decodes a task's plan with one runtime and runs it with another: they share one
    // registry of object stores, so that a store registered while decoding is there to run
    // with. Spills go to the work folder, as with Ballista's own runtimes.
    let registry: Arc<dyn ObjectStoreRegistry> = Arc::new(DefaultObjectStoreRegistry::new());
    let spills = spec.work_dir.clone();
    let runtimes: RuntimeProducer = Arc::new(move |_: &SessionConfig| {
        Ok(Arc::new(
            RuntimeEnvBuilder::new()
                .with_temp_file_path(spills.clone())
                .with_object_store_registry(Arc::clone(&registry))
                .build()?,
        ))
    });
    let config = ExecutorProcessConfig {
        bind_host: spec.bind.ip().to_string(),
        external_host: Some(spec.bind.ip().to_string()),
        port: spec.bind.port(),
        grpc_port: spec.grpc_bind.port(),
        scheduler_host: spec.scheduler.0.clone(),
        scheduler_port: spec.scheduler.1,
        scheduler_connect_timeout_seconds: 30,
        vcores: spec.slots.max(1),
        work_dir: Some(spec.work_dir.display().to_string()),
        memory_pool_size: spec.memory_limit,
        executor_heartbeat_interval_seconds: 5,
        override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&functions))),
        override_runtime_producer: Some(runtimes),
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("df://127.0.0.1:50050").unwrap(),
            ("127.0.0.1".to_string(), 50050)
        );
        assert_eq!(
            parse_address("sched.example:7000/").unwrap(),
            ("sched.example".to_string(), 7000)
        );
        for bad in [
            "df://",
            "df://host",
            "df://host:x",
            "df://:5",
            "df://host:70000",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }
}
