//! `s3trawl cluster scheduler|executor`: this binary as a Ballista cluster's roles, with the
//! same tables, functions and formats as a local session (see [`crate::cluster`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use crate::cluster::{
    Credentials, DataRoots, ExecutorSpec, SchedulerSpec, parse_address, run_executor, run_scheduler,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub role: Role,
}

#[derive(Debug, clap::Subcommand)]
pub enum Role {
    /// Plan queries and hand their tasks to the executors (clients connect with
    /// --cluster df://HOST:PORT).
    ///
    /// Every role and client needs the same secret (--secret-file or S3TRAWL_CLUSTER_SECRET);
    /// a plan that writes, or reads outside --data-root, is refused.
    Scheduler {
        /// Where to listen for clients and executors.
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
        bind: SocketAddr,
        /// A folder or s3://bucket/prefix queries may read (repeat for more); without one,
        /// every scan is refused.
        #[arg(long = "data-root", value_name = "LOCATION")]
        data_roots: Vec<String>,
    },
    /// Run the tasks a scheduler hands out; one line per completed task on stderr.
    Executor {
        /// The scheduler's address (HOST:PORT or df://HOST:PORT).
        #[arg(long, value_name = "HOST:PORT")]
        scheduler: String,
        /// Where to serve task results to other executors and clients (Arrow Flight).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50051")]
        bind: SocketAddr,
        /// Where to take the scheduler's control requests (gRPC: stop, remove a job's files).
        /// Tasks are pulled from the scheduler.
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50052")]
        grpc_bind: SocketAddr,
        /// A folder or s3://bucket/prefix tasks may read (repeat for more); without one, the
        /// executor reads nothing.
        #[arg(long = "data-root", value_name = "LOCATION")]
        data_roots: Vec<String>,
        /// Shuffle files and spills.
        #[arg(long, value_name = "DIR")]
        work_dir: PathBuf,
        /// Tasks run at once [default: one per core].
        #[arg(long, value_name = "N")]
        slots: Option<usize>,
    },
    /// Make a certificate authority and certificates for --tls-cert/--tls-key/--tls-ca (an
    /// existing CA in --out is reused).
    Certs {
        /// The folder for ca.pem, ca-key.pem (keep it off the cluster), NAME.pem and
        /// NAME-key.pem.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A certificate to make (repeat for more), e.g. scheduler, executor, client.
        #[arg(long = "name", value_name = "NAME", required = true)]
        names: Vec<String>,
        /// The host names and addresses the certificates are for (repeat for more).
        #[arg(long = "host", value_name = "HOST", default_values = ["127.0.0.1", "localhost"])]
        hosts: Vec<String>,
    },
}

pub async fn run(args: Args, global: &super::Global) -> anyhow::Result<ExitCode> {
    TaskLog::install();
    match args.role {
        Role::Scheduler { bind, data_roots } => {
            let credentials = Credentials::load(&global.auth, "the scheduler")?;
            let roots = roots(&data_roots)?;
            warn_if_exposed(&credentials, "the scheduler", bind, "plans and results");
            eprintln!(
                "s3trawl: scheduler v{} listening on {bind}{}, data roots: {}",
                env!("CARGO_PKG_VERSION"),
                if credentials.tls() { " (TLS)" } else { "" },
                roots.describe()
            );
            run_scheduler(SchedulerSpec {
                bind,
                credentials,
                roots,
            })
            .await?;
        }
        Role::Executor {
            scheduler,
            bind,
            grpc_bind,
            data_roots,
            work_dir,
            slots,
        } => {
            let credentials = Credentials::load(&global.auth, "the executor")?;
            let roots = roots(&data_roots)?;
            warn_if_exposed(&credentials, "the executor", bind, "task results");
            warn_if_exposed(&credentials, "the executor", grpc_bind, "control requests");
            let spec = ExecutorSpec {
                scheduler: parse_address(&scheduler)?,
                bind,
                grpc_bind,
                work_dir,
                slots: slots
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                // The global --memory-limit: the executor's pool [default: a share of the
                // machine's, as Ballista sizes it].
                memory_limit: global.memory_limit,
                credentials,
                roots,
            };
            eprintln!(
                "s3trawl: executor on {bind} (control on {grpc_bind}){}, {} slots, scheduler {}:{}, data roots: {}",
                if spec.credentials.tls() { " (TLS)" } else { "" },
                spec.slots,
                spec.scheduler.0,
                spec.scheduler.1,
                spec.roots.describe()
            );
            run_executor(spec).await?;
        }
        Role::Certs { out, names, hosts } => {
            let written = crate::cluster::certs::make(&out, &names, &hosts)?;
            eprintln!(
                "s3trawl: {} {} (--tls-ca on every role and client; keep ca-key.pem off the cluster)",
                if written.created_ca { "made" } else { "reused" },
                written.ca.display()
            );
            for (cert, key) in &written.certificates {
                eprintln!(
                    "s3trawl: made --tls-cert {} --tls-key {} (for {})",
                    cert.display(),
                    key.display(),
                    hosts.join(", ")
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
    }
    eprintln!("s3trawl: stopped");
    Ok(ExitCode::SUCCESS)
}

/// The data roots of `--data-root`, said out loud when there are none.
fn roots(given: &[String]) -> anyhow::Result<Arc<DataRoots>> {
    let roots = DataRoots::parse(given).map_err(anyhow::Error::msg)?;
    if roots.is_empty() {
        eprintln!("s3trawl: warning: no --data-root: every scan will be refused");
    }
    Ok(Arc::new(roots))
}

/// A warning when a role listens beyond this machine without TLS.
fn warn_if_exposed(credentials: &Credentials, role: &str, address: SocketAddr, what: &str) {
    if !credentials.tls() && !address.ip().is_loopback() {
        eprintln!(
            "s3trawl: warning: {role} listens on {address} without TLS: {what}, log contents and \
             the secret's token cross the network in the clear, and anyone who can read the \
             traffic can replay the token (give --tls-cert, --tls-key and --tls-ca)"
        );
    }
}

/// Ballista's log, on stderr: an executor's first poll of the scheduler, one line per completed
/// task, and warnings and errors (our own too: requests refused for want of the secret).
struct TaskLog;

impl TaskLog {
    fn install() {
        static LOG: TaskLog = TaskLog;
        if log::set_logger(&LOG).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    }
}

impl log::Log for TaskLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target().starts_with("ballista")
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let wanted = record.level() <= log::Level::Warn
            || message.starts_with("Finished task")
            || message.starts_with("Starting poll work loop");
        if wanted {
            eprintln!(
                "s3trawl: {} {}",
                record.level().as_str().to_ascii_lowercase(),
                crate::report::escape::terminal(&message)
            );
        }
    }

    fn flush(&self) {}
}
