//! The executor role: Ballista's executor, pulling its tasks from the scheduler over an
//! authenticated connection, serving task output (Arrow Flight) and its control service
//! (gRPC) only to requests with the cluster's secret, and running only plans that read under
//! its data roots ([`super::guard`]).
//!
//! In: the scheduler's address, bind addresses, a work folder, credentials, data roots. Out:
//! a running executor until SIGTERM, Ctrl-C or the scheduler's stop request. Every connection
//! it makes (to the scheduler, to other executors for shuffles) carries the secret's token and
//! TLS when configured ([`super::auth`]); every task's plan is checked again here, right before
//! it runs, so a plan that skipped the scheduler's check still reads nothing outside the roots.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, PollInfo,
    SchemaResult, Ticket,
};
use ballista_core::client::BallistaClient;
use ballista_core::client_pool::{BallistaClientPool, PooledClient};
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::error::BallistaError;
use ballista_core::extension::BallistaConfigGrpcEndpoint;
use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::decode_protobuf;
use ballista_core::serde::protobuf::executor_grpc_server::{ExecutorGrpc, ExecutorGrpcServer};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::*;
use ballista_core::serde::scheduler::Action as BallistaAction;
use ballista_core::utils::GrpcClientConfig;
use ballista_core::utils::GrpcServerConfig;
use ballista_core::{ConfigProducer, JobId, RuntimeProducer};
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_executor::flight_service::BallistaFlightService;
use ballista_executor::shutdown::Shutdown;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use tonic::transport::Endpoint;
use tonic::{Request, Response, Status, Streaming};

use super::auth::{Credentials, source_of};
use super::codec::{LogicalCodec, PhysicalCodec};
use super::guard::{DataRoots, check_physical};
use crate::engine::functions_state;
use crate::error::{Error, Result};

/// An executor's settings.
#[derive(Debug, Clone)]
pub struct ExecutorSpec {
    /// The scheduler's host and port.
    pub scheduler: (String, u16),
    /// Where the executor serves its results (Arrow Flight).
    pub bind: SocketAddr,
    /// Where the executor takes the scheduler's control requests (gRPC).
    pub grpc_bind: SocketAddr,
    /// Shuffle files and spills.
    pub work_dir: PathBuf,
    /// Tasks at once.
    pub slots: usize,
    /// The memory pool's size in bytes (`None`: Ballista's share of the machine).
    pub memory_limit: Option<u64>,
    pub credentials: Credentials,
    pub roots: Arc<DataRoots>,
}

/// Runs an executor until SIGTERM, Ctrl-C or the scheduler's stop request.
pub async fn run_executor(spec: ExecutorSpec) -> Result<()> {
    let failed = |message: String| Error::Cluster {
        address: spec.bind.to_string(),
        message,
    };
    std::fs::create_dir_all(&spec.work_dir).map_err(|e| Error::io(&spec.work_dir, e))?;
    restrict(&spec.work_dir);
    admitted_by_scheduler(&spec).await?;
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
    // Each task's session: the shuffle fetches to other executors carry the token, over TLS
    // when configured.
    let credentials = spec.credentials.clone();
    let configs: ConfigProducer = Arc::new(move || {
        SessionConfig::new_with_ballista()
            .with_ballista_use_tls(credentials.tls())
            .with_ballista_override_create_grpc_client_endpoint(credentials.endpoint_override())
    });
    let engine = GuardedEngine {
        inner: Arc::new(DefaultExecutionEngine::with_client_pool(Arc::new(
            SharedClients::default(),
        ))),
        roots: Arc::clone(&spec.roots),
    };
    let flight_credentials = spec.credentials.clone();
    let config = ExecutorProcessConfig {
        bind_host: spec.bind.ip().to_string(),
        external_host: Some(spec.bind.ip().to_string()),
        port: spec.bind.port(),
        grpc_port: spec.grpc_bind.port(),
        scheduler_host: spec.scheduler.0.clone(),
        scheduler_port: spec.scheduler.1,
        scheduler_connect_timeout_seconds: 30,
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        vcores: spec.slots.max(1),
        work_dir: Some(spec.work_dir.display().to_string()),
        memory_pool_size: spec.memory_limit,
        executor_heartbeat_interval_seconds: 5,
        override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&functions))),
        override_runtime_producer: Some(runtimes),
        override_config_producer: Some(configs),
        override_execution_engine: Some(Arc::new(engine)),
        override_logical_codec: Some(Arc::new(LogicalCodec::guarded(Arc::clone(&spec.roots)))),
        override_physical_codec: Some(Arc::new(PhysicalCodec::guarded(Arc::clone(&spec.roots)))),
        override_create_grpc_client_endpoint: Some(spec.credentials.endpoint_override()),
        override_arrow_flight_service: Some(Arc::new(
            move |work_dir: String,
                  address: SocketAddr,
                  mut shutdown: Shutdown,
                  _: GrpcServerConfig| {
                let credentials = flight_credentials.clone();
                tokio::spawn(async move {
                    let service = FlightServiceServer::new(GuardedFlight {
                        inner: BallistaFlightService::new(work_dir),
                    })
                    .max_decoding_message_size(16 << 20)
                    .max_encoding_message_size(16 << 20);
                    credentials
                        .server("an executor's results", address)
                        .map_err(|e| BallistaError::General(e.to_string()))?
                        .add_service(service)
                        .serve_with_shutdown(address, shutdown.recv())
                        .await
                        .map_err(BallistaError::TonicError)
                })
            },
        )),
        ..ExecutorProcessConfig::default()
    };
    // The scheduler's control requests (stop, cancel, remove a job's files).
    let control = ExecutorGrpcServer::new(Control {
        work_dir: spec.work_dir.clone(),
    });
    let control = spec
        .credentials
        .server("an executor", spec.grpc_bind)?
        .add_service(control)
        .serve(spec.grpc_bind);
    let control = tokio::spawn(control);
    eprintln!("s3trawl: executor admitted by the scheduler");
    let outcome = start_executor_process(Arc::new(config))
        .await
        .map_err(|e| failed(e.to_string()));
    control.abort();
    outcome
}

/// Whether the scheduler takes this executor's token: one request before anything else, so
/// that a wrong secret is one clear line and exit 2 rather than a loop of refused polls.
async fn admitted_by_scheduler(spec: &ExecutorSpec) -> Result<()> {
    let (host, port) = &spec.scheduler;
    let address = format!("{host}:{port}");
    let failed = |message: String| Error::Cluster {
        address: address.clone(),
        message,
    };
    let endpoint = Endpoint::from_shared(format!("http://{address}"))
        .map_err(|e| failed(e.to_string()))?
        .connect_timeout(Duration::from_secs(10));
    let endpoint = spec
        .credentials
        .endpoint(endpoint)
        .map_err(|e| failed(e.to_string()))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let channel = loop {
        match endpoint.connect().await {
            Ok(channel) => break channel,
            Err(e) if std::time::Instant::now() > deadline => {
                return Err(failed(format!(
                    "the scheduler cannot be reached: {}",
                    source_of(&e)
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    let probe = SchedulerGrpcClient::new(channel)
        .get_job_status(GetJobStatusParams {
            job_id: "s3trawl-admission-probe".into(),
        })
        .await;
    match probe {
        Err(status) if status.code() == tonic::Code::Unauthenticated => Err(failed(
            "the scheduler refused this executor: the cluster secret is missing or wrong".into(),
        )),
        Err(status) if status.code() == tonic::Code::Unavailable => Err(failed(format!(
            "the scheduler cannot be reached: {}",
            status.message()
        ))),
        _ => Ok(()),
    }
}

/// The work folder is the executor's alone (shuffle files hold query results).
fn restrict(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
}

/// Whether a job id names one folder of the work folder (Ballista's ids are short
/// alphanumerics; a crafted one could climb out).
fn plain_job_id(job_id: &str) -> bool {
    !job_id.is_empty()
        && job_id.len() <= 128
        && job_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Ballista's execution engine, with each task's plan checked before it runs.
struct GuardedEngine {
    inner: Arc<dyn ExecutionEngine>,
    roots: Arc<DataRoots>,
}

impl ExecutionEngine for GuardedEngine {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> datafusion::error::Result<Arc<dyn QueryStageExecutor>> {
        if !plain_job_id(job_id.as_str()) {
            return Err(datafusion::error::DataFusionError::Plan(
                "refused by the cluster: a job id that is not a plain name".into(),
            ));
        }
        check_physical(&plan, &self.roots)?;
        self.inner.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )
    }
}

/// One client per executor, shared by every shuffle fetch to it (HTTP/2 carries the fetches
/// side by side; a connection costs a TLS handshake). Ballista's own pool is private to its
/// crate, and the engine that checks plans replaces the one that would have used it.
#[derive(Default)]
struct SharedClients {
    clients: std::sync::Mutex<std::collections::HashMap<(String, u16), BallistaClient>>,
}

impl std::fmt::Debug for SharedClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedClients")
    }
}

#[tonic::async_trait]
impl BallistaClientPool for SharedClients {
    async fn acquire(
        &self,
        host: &str,
        port: u16,
        config: &GrpcClientConfig,
        customize_endpoint: Option<Arc<BallistaConfigGrpcEndpoint>>,
    ) -> ballista_core::error::Result<PooledClient> {
        let key = (host.to_string(), port);
        let known = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let client = match known {
            Some(client) => client,
            None => {
                let client = BallistaClient::try_new(
                    host,
                    port,
                    config.max_message_size,
                    config.use_tls,
                    customize_endpoint,
                    config.io_retries_times,
                    config.io_retry_wait_time_ms,
                    config.initial_connection_window_size,
                    config.initial_stream_window_size,
                )
                .await?;
                self.clients
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, client.clone());
                client
            }
        };
        Ok(PooledClient::new(client, Box::new(|_| {})))
    }

    async fn evict_idle(&self) {}
}

/// The scheduler's requests to an executor that pulls its tasks.
struct Control {
    work_dir: PathBuf,
}

#[tonic::async_trait]
impl ExecutorGrpc for Control {
    async fn launch_task(
        &self,
        _: Request<LaunchTaskParams>,
    ) -> std::result::Result<Response<LaunchTaskResult>, Status> {
        Err(Status::unimplemented("this executor pulls its tasks"))
    }

    async fn launch_multi_task(
        &self,
        _: Request<LaunchMultiTaskParams>,
    ) -> std::result::Result<Response<LaunchMultiTaskResult>, Status> {
        Err(Status::unimplemented("this executor pulls its tasks"))
    }

    async fn stop_executor(
        &self,
        request: Request<StopExecutorParams>,
    ) -> std::result::Result<Response<StopExecutorResult>, Status> {
        log::warn!(
            target: "ballista::s3trawl",
            "the scheduler asked this executor to stop: {}",
            request.get_ref().reason
        );
        // The same clean stop as SIGTERM (the scheduler is told, running tasks drain).
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            // SAFETY: kill(2) on our own pid with a signal the executor handles; no memory is
            // shared with the call.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGTERM);
            }
        }
        Ok(Response::new(StopExecutorResult {}))
    }

    async fn cancel_tasks(
        &self,
        _: Request<CancelTasksParams>,
    ) -> std::result::Result<Response<CancelTasksResult>, Status> {
        // A pulled task runs to its end; the scheduler ignores the output of a cancelled job.
        Ok(Response::new(CancelTasksResult { cancelled: false }))
    }

    async fn remove_job_data(
        &self,
        request: Request<RemoveJobDataParams>,
    ) -> std::result::Result<Response<RemoveJobDataResult>, Status> {
        let params = request.into_inner();
        if !plain_job_id(&params.job_id) {
            return Err(Status::invalid_argument(
                "a job id that is not a plain name",
            ));
        }
        let job = self.work_dir.join(&params.job_id);
        let removed = if params.remove_stage_ids.is_empty() {
            std::fs::remove_dir_all(&job)
        } else {
            params
                .remove_stage_ids
                .iter()
                .try_for_each(|stage| std::fs::remove_dir_all(job.join(stage.to_string())))
        };
        match removed {
            Ok(()) => Ok(Response::new(RemoveJobDataResult {})),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Response::new(RemoveJobDataResult {}))
            }
            Err(e) => Err(Status::internal(e.to_string())),
        }
    }
}

/// Ballista's Flight service, serving only files of plainly named jobs.
struct GuardedFlight {
    inner: BallistaFlightService,
}

type Inner = BallistaFlightService;

/// Refuses a fetch whose job id could name a file outside the work folder.
fn check_fetch(bytes: &[u8]) -> std::result::Result<(), Status> {
    match decode_protobuf(bytes) {
        Ok(BallistaAction::FetchPartition { job_id, .. }) if !plain_job_id(job_id.as_str()) => Err(
            Status::permission_denied("refused by the cluster: a job id that is not a plain name"),
        ),
        _ => Ok(()),
    }
}

#[tonic::async_trait]
impl FlightService for GuardedFlight {
    type HandshakeStream = <Inner as FlightService>::HandshakeStream;
    type ListFlightsStream = <Inner as FlightService>::ListFlightsStream;
    type DoGetStream = <Inner as FlightService>::DoGetStream;
    type DoPutStream = <Inner as FlightService>::DoPutStream;
    type DoExchangeStream = <Inner as FlightService>::DoExchangeStream;
    type DoActionStream = <Inner as FlightService>::DoActionStream;
    type ListActionsStream = <Inner as FlightService>::ListActionsStream;

    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> std::result::Result<Response<Self::HandshakeStream>, Status> {
        self.inner.handshake(request).await
    }

    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> std::result::Result<Response<Self::ListFlightsStream>, Status> {
        self.inner.list_flights(request).await
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<FlightInfo>, Status> {
        self.inner.get_flight_info(request).await
    }

    async fn poll_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<PollInfo>, Status> {
        self.inner.poll_flight_info(request).await
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<SchemaResult>, Status> {
        self.inner.get_schema(request).await
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> std::result::Result<Response<Self::DoGetStream>, Status> {
        check_fetch(&request.get_ref().ticket)?;
        self.inner.do_get(request).await
    }

    async fn do_put(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> std::result::Result<Response<Self::DoPutStream>, Status> {
        Err(Status::permission_denied(
            "refused by the cluster: nothing is written here",
        ))
    }

    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> std::result::Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("do_exchange"))
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> std::result::Result<Response<Self::DoActionStream>, Status> {
        check_fetch(&request.get_ref().body)?;
        self.inner.do_action(request).await
    }

    async fn list_actions(
        &self,
        request: Request<Empty>,
    ) -> std::result::Result<Response<Self::ListActionsStream>, Status> {
        self.inner.list_actions(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::plain_job_id;

    #[test]
    fn job_ids_that_could_climb_are_not_plain() {
        assert!(plain_job_id("aBc1234"));
        assert!(plain_job_id("job_1-2"));
        for bad in ["", "..", "../x", "/etc", "a/b", "a b", "a\0b"] {
            assert!(!plain_job_id(bad), "{bad:?}");
        }
    }
}
