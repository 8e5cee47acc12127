//! `s3trawl cluster scheduler|executor`: this binary as a Ballista cluster's roles, with the
//! same tables, functions and formats as a local session (see [`crate::cluster`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cluster::{ExecutorSpec, parse_address, run_executor, run_scheduler};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub role: Role,
}

#[derive(Debug, clap::Subcommand)]
pub enum Role {
    /// Plan queries and hand their tasks to the executors (clients connect with
    /// --cluster df://HOST:PORT).
    Scheduler {
        /// Where to listen for clients and executors.
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
        bind: SocketAddr,
    },
    /// Run the tasks a scheduler hands out; one line per completed task on stderr.
    Executor {
        /// The scheduler's address (HOST:PORT or df://HOST:PORT).
        #[arg(long, value_name = "HOST:PORT")]
        scheduler: String,
        /// Where to serve task results to other executors and clients (Arrow Flight).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50051")]
        bind: SocketAddr,
        /// Where to take tasks from the scheduler (gRPC; the host is --bind's).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50052")]
        grpc_bind: SocketAddr,
        /// Shuffle files and spills.
        #[arg(long, value_name = "DIR")]
        work_dir: PathBuf,
        /// Tasks run at once [default: one per core].
        #[arg(long, value_name = "N")]
        slots: Option<usize>,
        /// The executor's memory pool, e.g. 4GiB or 512MB [default: a share of the machine's].
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        memory_limit: Option<u64>,
    },
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    TaskLog::install();
    match args.role {
        Role::Scheduler { bind } => {
            eprintln!(
                "s3trawl: scheduler v{} listening on {bind}",
                env!("CARGO_PKG_VERSION")
            );
            run_scheduler(bind).await?;
        }
        Role::Executor {
            scheduler,
            bind,
            grpc_bind,
            work_dir,
            slots,
            memory_limit,
        } => {
            let spec = ExecutorSpec {
                scheduler: parse_address(&scheduler)?,
                bind,
                grpc_bind,
                work_dir,
                slots: slots
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                memory_limit,
            };
            eprintln!(
                "s3trawl: executor on {bind} (tasks on {grpc_bind}), {} slots, scheduler {}:{}",
                spec.slots, spec.scheduler.0, spec.scheduler.1
            );
            run_executor(spec).await?;
        }
    }
    eprintln!("s3trawl: stopped");
    Ok(ExitCode::SUCCESS)
}

/// `4GiB`, `512MB`, `1000000` as bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 4GiB, 512MB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit (B, KB, KiB, MB, MiB, GB, GiB, TB, TiB)"
            ));
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// Ballista's log, on stderr: an executor's registration, one line per completed task, and
/// warnings and errors.
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
            || message.starts_with("Executor registration succeed");
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

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512MB"), Ok(512_000_000));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("4 parsecs").is_err());
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }
}
