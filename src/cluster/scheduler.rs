//! The scheduler role: Ballista's scheduler behind our own gRPC server, which admits only
//! requests with the cluster's secret (over TLS when configured) and only read-only plans over
//! its data roots ([`super::guard`]).
//!
//! In: a bind address, credentials, data roots. Out: a running scheduler until SIGTERM or
//! Ctrl-C. Executors pull their tasks (Ballista's pull-based scheduling): they connect to the
//! scheduler, never the other way round, so the scheduler needs no connection into an
//! executor to hand out work. Only the scheduling service is served: no REST API, no Flight
//! proxy, no Flight SQL.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::serde::protobuf::execute_query_params::Query;
use ballista_core::serde::protobuf::scheduler_grpc_server::{SchedulerGrpc, SchedulerGrpcServer};
use ballista_core::serde::protobuf::*;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::create_scheduler;
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::logical_plan::AsLogicalPlan;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use tonic::{Request, Response, Status};

use super::auth::Credentials;
use super::codec::{LogicalCodec, PhysicalCodec};
use super::guard::{DataRoots, PhysicalGuard, check_logical, check_settings};
use super::{cluster_settings, stopped};
use crate::engine::functions_state;
use crate::error::{Error, Result};

/// A scheduler's settings.
#[derive(Debug, Clone)]
pub struct SchedulerSpec {
    pub bind: SocketAddr,
    pub credentials: Credentials,
    pub roots: Arc<DataRoots>,
}

/// Runs a scheduler until SIGTERM or Ctrl-C.
pub async fn run_scheduler(spec: SchedulerSpec) -> Result<()> {
    let bind = spec.bind;
    let failed = |message: String| Error::Cluster {
        address: bind.to_string(),
        message,
    };
    let mut config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: bind.ip().to_string(),
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        use_tls: spec.credentials.tls(),
        enable_embedded_flight_proxy: false,
        ..SchedulerConfig::default()
    };
    config.override_logical_codec = Some(Arc::new(LogicalCodec::guarded(Arc::clone(&spec.roots))));
    config.override_physical_codec =
        Some(Arc::new(PhysicalCodec::guarded(Arc::clone(&spec.roots))));
    config.override_create_grpc_client_endpoint = Some(spec.credentials.endpoint_override());
    let roots = Arc::clone(&spec.roots);
    config = config.with_override_session_builder(Arc::new(move |config: SessionConfig| {
        guarded_state(config, &roots)
            .map_err(|e| datafusion::error::DataFusionError::External(e.into()))
    }));
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| failed(e.to_string()))?;
    config.validate().map_err(|e| failed(e.to_string()))?;
    let config = Arc::new(config);
    let scheduler =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::clone(&config))
            .await
            .map_err(|e| failed(e.to_string()))?;
    let service = SchedulerGrpcServer::new(Guarded {
        inner: scheduler,
        roots: spec.roots,
    })
    .max_encoding_message_size(config.grpc_server_max_encoding_message_size as usize)
    .max_decoding_message_size(config.grpc_server_max_decoding_message_size as usize);
    spec.credentials
        .server("the scheduler", bind)?
        .add_service(service)
        .serve_with_shutdown(bind, stopped())
        .await
        .map_err(|e| failed(format!("cannot serve: {e}")))
}

/// The scheduler's session for a job: our functions, the cluster's settings, and the physical
/// guard after every other physical optimizer rule.
fn guarded_state(
    config: SessionConfig,
    roots: &Arc<DataRoots>,
) -> Result<datafusion::execution::SessionState> {
    let state = functions_state(cluster_settings(config))?;
    let mut rules = state.physical_optimizers().to_vec();
    rules.push(Arc::new(PhysicalGuard(Arc::clone(roots))));
    Ok(SessionStateBuilder::new_from_existing(state)
        .with_physical_optimizer_rules(rules)
        .build())
}

/// Ballista's scheduling service, with each query checked before it becomes a job.
struct Guarded {
    inner: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>,
    roots: Arc<DataRoots>,
}

impl Guarded {
    /// Whether the query may run: its settings, and its plan read-only over the data roots.
    fn admit(&self, params: &ExecuteQueryParams) -> std::result::Result<(), Status> {
        let denied = |e: datafusion::error::DataFusionError| {
            Status::permission_denied(first_line(&e.to_string()))
        };
        check_settings(
            params
                .settings
                .iter()
                .map(|kv| (kv.key.as_str(), kv.value.as_deref())),
        )
        .map_err(denied)?;
        let bytes = match &params.query {
            Some(Query::LogicalPlan(bytes)) => bytes,
            Some(Query::PhysicalPlan(_)) | Some(Query::SubstraitPlan(_)) => {
                return Err(Status::permission_denied(
                    "refused by the cluster: it takes logical plans only",
                ));
            }
            None => return Err(Status::invalid_argument("no query")),
        };
        let state = guarded_state(cluster_settings(SessionConfig::new()), &self.roots)
            .map_err(|e| Status::internal(e.to_string()))?;
        let ctx = SessionContext::new_with_state(state);
        let codec = LogicalCodec::guarded(Arc::clone(&self.roots));
        let plan = LogicalPlanNode::try_decode(bytes)
            .and_then(|node| node.try_into_logical_plan(ctx.task_ctx().as_ref(), &codec))
            .map_err(denied)?;
        check_logical(&plan, &self.roots).map_err(denied)
    }
}

/// The first line of an error (DataFusion appends backtraces and contexts).
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

#[tonic::async_trait]
impl SchedulerGrpc for Guarded {
    async fn poll_work(
        &self,
        request: Request<PollWorkParams>,
    ) -> std::result::Result<Response<PollWorkResult>, Status> {
        SchedulerGrpc::poll_work(&self.inner, request).await
    }

    async fn register_executor(
        &self,
        request: Request<RegisterExecutorParams>,
    ) -> std::result::Result<Response<RegisterExecutorResult>, Status> {
        SchedulerGrpc::register_executor(&self.inner, request).await
    }

    async fn heart_beat_from_executor(
        &self,
        request: Request<HeartBeatParams>,
    ) -> std::result::Result<Response<HeartBeatResult>, Status> {
        SchedulerGrpc::heart_beat_from_executor(&self.inner, request).await
    }

    async fn update_task_status(
        &self,
        request: Request<UpdateTaskStatusParams>,
    ) -> std::result::Result<Response<UpdateTaskStatusResult>, Status> {
        SchedulerGrpc::update_task_status(&self.inner, request).await
    }

    async fn create_update_session(
        &self,
        request: Request<CreateUpdateSessionParams>,
    ) -> std::result::Result<Response<CreateUpdateSessionResult>, Status> {
        let settings = request.get_ref().settings.iter();
        check_settings(settings.map(|kv| (kv.key.as_str(), kv.value.as_deref())))
            .map_err(|e| Status::permission_denied(first_line(&e.to_string())))?;
        SchedulerGrpc::create_update_session(&self.inner, request).await
    }

    async fn remove_session(
        &self,
        request: Request<RemoveSessionParams>,
    ) -> std::result::Result<Response<RemoveSessionResult>, Status> {
        SchedulerGrpc::remove_session(&self.inner, request).await
    }

    type ExecuteQueryPushStream =
        <SchedulerServer<LogicalPlanNode, PhysicalPlanNode> as SchedulerGrpc>::ExecuteQueryPushStream;

    async fn execute_query_push(
        &self,
        request: Request<ExecuteQueryParams>,
    ) -> std::result::Result<Response<Self::ExecuteQueryPushStream>, Status> {
        self.admit(request.get_ref())?;
        SchedulerGrpc::execute_query_push(&self.inner, request).await
    }

    async fn execute_query(
        &self,
        request: Request<ExecuteQueryParams>,
    ) -> std::result::Result<Response<ExecuteQueryResult>, Status> {
        self.admit(request.get_ref())?;
        SchedulerGrpc::execute_query(&self.inner, request).await
    }

    async fn get_job_status(
        &self,
        request: Request<GetJobStatusParams>,
    ) -> std::result::Result<Response<GetJobStatusResult>, Status> {
        SchedulerGrpc::get_job_status(&self.inner, request).await
    }

    async fn get_job_metrics(
        &self,
        request: Request<GetJobMetricsParams>,
    ) -> std::result::Result<Response<GetJobMetricsResult>, Status> {
        SchedulerGrpc::get_job_metrics(&self.inner, request).await
    }

    async fn executor_stopped(
        &self,
        request: Request<ExecutorStoppedParams>,
    ) -> std::result::Result<Response<ExecutorStoppedResult>, Status> {
        SchedulerGrpc::executor_stopped(&self.inner, request).await
    }

    async fn cancel_job(
        &self,
        request: Request<CancelJobParams>,
    ) -> std::result::Result<Response<CancelJobResult>, Status> {
        SchedulerGrpc::cancel_job(&self.inner, request).await
    }

    async fn clean_job_data(
        &self,
        request: Request<CleanJobDataParams>,
    ) -> std::result::Result<Response<CleanJobDataResult>, Status> {
        SchedulerGrpc::clean_job_data(&self.inner, request).await
    }
}
