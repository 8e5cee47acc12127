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

pub mod auth;
pub mod certs;
pub mod codec;
mod executor;
pub mod guard;
pub mod rejects;
mod scheduler;
mod stores;

pub use auth::{AuthSpec, Credentials};
pub use executor::{ExecutorSpec, run_executor};
pub use guard::DataRoots;
pub use scheduler::{SchedulerSpec, run_scheduler};

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::AsArray;
use arrow::datatypes::DataType;
use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use datafusion::common::ScalarValue;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::optimizer::{Optimizer, OptimizerRule};
use datafusion::prelude::SessionConfig;
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use codec::{LogicalCodec, PhysicalCodec};

/// A cluster as a client reaches it: the scheduler's address and the credentials.
#[derive(Debug, Clone)]
pub struct Client {
    /// `df://HOST:PORT` as given.
    pub url: String,
    pub credentials: Credentials,
}

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

/// `state` turned into one whose queries run on the cluster's scheduler, once the scheduler
/// answers there.
pub fn client_state(state: SessionState, client: &Client) -> Result<SessionState> {
    let url = client.url.as_str();
    let (host, port) = parse_address(url)?;
    reachable(url, &host, port)?;
    let credentials = &client.credentials;
    let config = state
        .config()
        .clone()
        .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::default()))
        // Every connection (to the scheduler, and to the executors for results) with the
        // secret's token, over TLS when configured.
        .with_ballista_override_create_grpc_client_endpoint(credentials.endpoint_override())
        .with_ballista_use_tls(credentials.tls());
    let config = cluster_settings(config);
    // The client sends its optimised logical plan to the scheduler, which optimises it again.
    // Two rules rename expressions to `__datafusion_extracted_N` in a way that does not survive
    // the plan codec (a projection's field names come back qualified): they run on the
    // scheduler only.
    let state = SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .with_optimizer_rules(client_optimizer_rules())
        .build();
    Ok(state.upgrade_for_ballista(format!("{}://{host}:{port}", credentials.scheme()))?)
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
            let text = e.to_string();
            if let Some(refusal) = refusal(&text) {
                return mismatch(refusal);
            }
            mismatch(format!(
                "the cluster cannot run the plans of s3trawl {ours} (is it another version?): {}",
                text.lines().next().unwrap_or_default()
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

/// The cluster's refusal in an error's text, as one line: a missing or wrong secret, a plan or
/// setting the cluster does not run, a TLS handshake that failed. Ballista passes the
/// scheduler's answers on as the debug text of gRPC statuses; this finds ours in them.
pub fn refusal(text: &str) -> Option<String> {
    if text.contains(auth::REFUSED) || text.contains("Unauthenticated") {
        return Some(format!(
            "the scheduler refused this client: {}",
            auth::REFUSED
        ));
    }
    if let Some(at) = text.find("refused by the cluster: ") {
        let rest = &text[at..];
        let end = rest.find(['"', '\\', '\n']).unwrap_or(rest.len());
        return Some(rest[..end].trim_end().to_string());
    }
    if text.contains("InvalidCertificate")
        || text.contains("CertificateRequired")
        || text.contains("tls handshake")
    {
        return Some(
            "the TLS handshake with the cluster failed: check --tls-cert, --tls-key and --tls-ca"
                .to_string(),
        );
    }
    None
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
        // What Ballista's session manager sets anyway (it warns for every session otherwise).
        .set_bool("datafusion.optimizer.enable_round_robin_repartition", false)
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
