//! The command line: one file per subcommand, each with its arguments and `run`.

pub mod cluster;
pub mod color;
pub mod config;
pub mod detect;
pub mod generate;
pub mod ingest;
pub mod output;
pub mod report;
pub mod schema;
pub mod selection;
pub mod shell;
pub mod sigma;
pub mod sql;
pub mod summary;

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::error::Error;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "s3trawl",
    version,
    about = "SQL, detections and reports over Amazon S3 server access logs and CloudTrail",
    after_help = "Example:\n  s3trawl sql --logs sample-logs \"SELECT operation, count(*) FROM access_logs GROUP BY 1\""
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads (default: one per core).
    #[arg(long, global = true, env = "S3TRAWL_THREADS")]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Requests in flight to S3 (listing and fetching), whatever the number of cores
    /// [default: the config's `s3_concurrency`, else 64].
    #[arg(
        long,
        global = true,
        env = "S3TRAWL_S3_CONCURRENCY",
        value_parser = clap::value_parser!(u16).range(1..=1024)
    )]
    pub s3_concurrency: Option<u16>,
    /// How many hours after its records a log object may be delivered: objects whose key
    /// dates them this much after a query's time window are still read.
    #[arg(
        long,
        global = true,
        env = "S3TRAWL_DELIVERY_SLACK",
        default_value_t = 12,
        value_name = "HOURS",
        value_parser = clap::value_parser!(u16).range(0..=8760)
    )]
    pub delivery_slack: u16,
    /// The AWS profile for s3:// locations (shared config and credentials files; SSO,
    /// assume-role and credential_process profiles too). It wins over credentials in the
    /// environment; without it, the SDK's usual chain applies (environment, AWS_PROFILE, web
    /// identity, ECS and EC2 roles).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Colour severities: on a terminal (auto; never when NO_COLOR is set), always (even into a
    /// pipe), or never. Files written with -o are never coloured.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: color::ColorChoice,
    /// Run sql, shell, detect and report on an Apache DataFusion Ballista cluster: its
    /// scheduler's address (see `s3trawl cluster`), over a lake or raw logs.
    #[arg(
        long,
        global = true,
        env = "S3TRAWL_CLUSTER",
        value_name = "df://HOST:PORT"
    )]
    pub cluster: Option<String>,
    /// The memory this process may use [default: half of the machine's, or of its cgroup's
    /// limit]: queries spill to --temp-dir before they reach it, and a query that cannot fit
    /// ends with one line and exit 2. Sizes: 2GiB, 512MB, 1.5G (powers of 1024). detect and
    /// report also take the config's memory_limit.
    #[arg(
        long,
        global = true,
        env = "S3TRAWL_MEMORY_LIMIT",
        value_name = "SIZE",
        value_parser = crate::size::parse_size
    )]
    pub memory_limit: Option<u64>,
    /// Where queries spill when they outgrow the memory limit [default: the system's temporary
    /// folder].
    #[arg(long, global = true, env = "S3TRAWL_TEMP_DIR", value_name = "DIR")]
    pub temp_dir: Option<std::path::PathBuf>,
    /// The cluster's shared secret (a file only its owner can read; its first line), for the
    /// cluster's roles and its clients [default: the S3TRAWL_CLUSTER_SECRET variable].
    #[arg(long, global = true, value_name = "FILE")]
    pub secret_file: Option<std::path::PathBuf>,
    /// The cluster's TLS: this role's or client's certificate (PEM), with --tls-key and
    /// --tls-ca (see `s3trawl cluster certs`).
    #[arg(long, global = true, value_name = "FILE", env = "S3TRAWL_TLS_CERT")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The cluster's TLS: the private key of --tls-cert (PEM).
    #[arg(long, global = true, value_name = "FILE", env = "S3TRAWL_TLS_KEY")]
    pub tls_key: Option<std::path::PathBuf>,
    /// The cluster's TLS: the CA that signed every role's and client's certificate (PEM).
    #[arg(long, global = true, value_name = "FILE", env = "S3TRAWL_TLS_CA")]
    pub tls_ca: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one SQL statement over raw logs and/or a lake.
    Sql(sql::Args),
    /// An interactive SQL session over raw logs and/or a lake (statements from stdin without a terminal).
    Shell(shell::Args),
    /// Write raw logs into a Parquet lake, partitioned by day.
    Ingest(ingest::Args),
    /// Print a table's schema, or the Athena DDL for the lake.
    Schema(schema::Args),
    /// Run the detection pack over a time window; exit 1 when findings reach --fail-on.
    Detect(detect::Args),
    /// Write the scheduled anomaly report (JSON, Markdown, HTML) with what is new since the last one.
    Report(report::Args),
    /// Write deterministic synthetic logs (for trying the tool and for benchmarks).
    Generate(generate::Args),
    /// Show the effective configuration and where each part came from.
    Config(config::Args),
    /// Sigma rules: `sigma convert` prints each rule's SQL.
    Sigma(sigma::Args),
    /// Run this binary as a Ballista cluster's scheduler or executor (for --cluster).
    Cluster(cluster::Args),
    /// Print a shell's completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (s3trawl.1 and one per command) into DIR, or print s3trawl.1.
    Man {
        /// The folder for the pages (e.g. ~/.local/share/man/man1).
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
    },
}

/// The whole program: parse arguments, run the command on a multi-threaded runtime, map the
/// outcome to an exit code.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let args = match Cli::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Deep plans (a cluster scheduler's, a detection's) need more than the 2 MiB default;
        // like Ballista's own binaries. Only what a thread uses is committed.
        .thread_stack_size(32 << 20)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3trawl: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    // Ctrl-C or SIGTERM ends a command cleanly: its future is dropped (temporary folders go
    // with it), a lake keeps the runs committed before, and one line says so. The shell
    // handles Ctrl-C itself; the cluster's roles stop on their own.
    let interruptible = !matches!(args.command, Command::Shell(_) | Command::Cluster(_));
    let memory_given = args.memory_limit.is_some();
    let memory = crate::engine::memory::Memory {
        limit: args
            .memory_limit
            .unwrap_or_else(crate::engine::memory::default_limit),
        temp_dir: None,
    };
    let what = interrupted_note(&args.command);
    let limit_said = format!(
        "{} memory limit{}",
        crate::size::show(memory.limit),
        if memory_given {
            ""
        } else {
            " (half of this machine's memory)"
        }
    );
    // Whatever no query pool accounts for (a decoder's buffers, a result being printed) is
    // still bounded: past the limit's margin the command ends with one line, not a kill.
    let over = (!matches!(args.command, Command::Cluster(_))).then(|| {
        let line = format!(
            "s3trawl: the command needs more than the {limit_said}; raise --memory-limit (or S3TRAWL_MEMORY_LIMIT), or narrow the query"
        );
        crate::engine::memory::watchdog(memory.limit, line)
    });
    let outcome = runtime.block_on(async {
        let over = async {
            if let Some(told) = over
                && told.await.is_ok()
            {
                return;
            }
            std::future::pending::<()>().await
        };
        let stop = async {
            if interruptible {
                interrupted().await
            } else {
                std::future::pending().await
            }
        };
        tokio::select! {
            outcome = run(args, Some(&matches)) => Ended::Done(outcome),
            () = stop => Ended::Interrupted,
            () = over => Ended::OverMemory,
        }
    });
    let outcome = match outcome {
        Ended::Done(outcome) => outcome,
        Ended::Interrupted => {
            eprintln!("s3trawl: interrupted: {what}");
            // Work still running on other threads (decoding, writing) is not waited for.
            runtime.shutdown_background();
            return ExitCode::from(130);
        }
        Ended::OverMemory => {
            // The command's future is dropped (its temporary folders go with it).
            eprintln!(
                "s3trawl: the command needs more than the {limit_said}; raise --memory-limit (or S3TRAWL_MEMORY_LIMIT), or narrow the query"
            );
            runtime.shutdown_background();
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if out_of_memory(&e) => {
            eprintln!(
                "s3trawl: the query needs more than the {limit_said}: {}; raise --memory-limit (or S3TRAWL_MEMORY_LIMIT), or narrow the query",
                crate::report::escape::terminal(describe(&e).lines().next().unwrap_or_default())
            );
            ExitCode::from(2)
        }
        Err(e) => {
            // A cluster's refusal comes back wrapped in Ballista's texts: the refusal alone.
            let text = describe(&e);
            let text = crate::cluster::refusal(&text).unwrap_or(text);
            // An error can quote log data (a value that failed to cast): escaped for stderr.
            eprintln!("s3trawl: {}", crate::report::escape::terminal(&text));
            ExitCode::from(2)
        }
    }
}

/// How a command's run ended.
enum Ended {
    Done(anyhow::Result<ExitCode>),
    Interrupted,
    OverMemory,
}

/// Whether the error is a query that ran out of its memory pool (by the error's type).
fn out_of_memory(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<datafusion::error::DataFusionError>()
            .is_some_and(crate::engine::memory::exhausted)
            || cause.downcast_ref::<Error>().is_some_and(
                |e| matches!(e, Error::DataFusion(d) if crate::engine::memory::exhausted(d)),
            )
            || cause
                .downcast_ref::<crate::detect::Error>()
                .is_some_and(crate::detect::Error::out_of_memory)
    })
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// What an interrupted command leaves behind, in one line.
fn interrupted_note(command: &Command) -> &'static str {
    match command {
        Command::Ingest(_) => {
            "the lake keeps every run committed before this one; this run's unfinished files are removed by the next ingest, which reads its objects again"
        }
        Command::Report(_) => {
            "no report was written and the state was not advanced; temporary files removed"
        }
        Command::Generate(_) => "the files written so far are incomplete",
        _ => "nothing more was written; temporary files removed",
    }
}

/// Runs the command `cli` holds; `matches` (when parsed from a command line) say where each
/// global setting's value came from.
pub async fn run(cli: Cli, matches: Option<&ArgMatches>) -> anyhow::Result<ExitCode> {
    if let Some(threads) = cli.threads {
        // rayon decodes large objects in pieces; keep it to the same number of threads.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global();
    }
    let progress = !cli.quiet && std::io::stderr().is_terminal();
    let global = Global {
        threads: cli.threads,
        progress,
        quiet: cli.quiet,
        fetching: crate::engine::table::Fetching {
            concurrency: cli
                .s3_concurrency
                .map_or(DEFAULT_S3_CONCURRENCY, usize::from),
            slack_ms: i64::from(cli.delivery_slack) * 3_600_000,
        },
        profile: cli.profile,
        memory_limit: cli.memory_limit,
        memory: crate::engine::memory::Memory {
            limit: cli
                .memory_limit
                .unwrap_or_else(crate::engine::memory::default_limit),
            temp_dir: cli.temp_dir,
        },
        cluster: cli.cluster,
        auth: crate::cluster::AuthSpec {
            secret_file: cli.secret_file,
            tls_cert: cli.tls_cert,
            tls_key: cli.tls_key,
            tls_ca: cli.tls_ca,
        },
        s3_concurrency_given: cli.s3_concurrency.is_some(),
        color: cli.color,
        origins: [
            "threads",
            "s3_concurrency",
            "delivery_slack",
            "color",
            "cluster",
        ]
        .into_iter()
        .filter_map(|id| {
            let m = matches?;
            let source = m.value_source(id)?;
            let arg = Cli::command()
                .get_arguments()
                .find(|a| a.get_id() == id)
                .cloned()?;
            let from = match source {
                ValueSource::CommandLine => format!("--{}", arg.get_long()?),
                ValueSource::EnvVariable => arg.get_env()?.to_string_lossy().into_owned(),
                _ => return None,
            };
            Some((id, from))
        })
        .collect(),
    };
    match cli.command {
        Command::Sql(args) => sql::run(args, &global).await,
        Command::Shell(args) => shell::run(args, &global).await,
        Command::Ingest(args) => ingest::run(args, &global).await,
        Command::Schema(args) => schema::run(&args),
        Command::Detect(args) => detect::run_command(args, &global).await,
        Command::Report(args) => report::run_command(args, &global).await,
        Command::Generate(args) => generate::run(&args, &global),
        Command::Config(args) => config::run(&args, &global),
        Command::Sigma(args) => sigma::run(&args),
        Command::Cluster(args) => cluster::run(args, &global).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "s3trawl", &mut output::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { out } => man(out.as_deref()),
    }
}

/// The man pages: `s3trawl.1` and `s3trawl-COMMAND.1` for each command, into `dir`; without
/// it, `s3trawl.1` on stdout.
fn man(dir: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    use std::io::Write;
    let command = Cli::command();
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        output::stdout().write_all(&page)?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    let mut write = |name: String, command: clap::Command| -> anyhow::Result<()> {
        let path = dir.join(format!("{name}.1"));
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    for sub in command.get_subcommands() {
        let name = format!("s3trawl-{}", sub.get_name());
        write(name.clone(), sub.clone().name(name))?;
    }
    write("s3trawl".into(), command)?;
    eprintln!(
        "s3trawl: wrote {} man pages into {}",
        written.len(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where `sql` and `shell` read the tables from.
#[derive(Debug, clap::Args)]
pub struct Tables {
    /// Log objects: files, folders (read recursively), globs or s3://bucket/prefix.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub logs: Vec<String>,
    /// A Parquet lake written by `s3trawl ingest` (read instead of, or as well as, --logs).
    #[arg(long, value_name = "DIR", env = "S3TRAWL_LAKE")]
    pub lake: Option<std::path::PathBuf>,
    /// Refuse records with unknown trailing fields instead of keeping them in `extra_fields`.
    #[arg(long)]
    pub strict: bool,
}

impl Tables {
    /// A session with `access_logs`, `cloudtrail` and `rejects` over the given logs and/or
    /// lake.
    pub async fn session(
        &self,
        global: &Global,
        log: &crate::scan::ScanLog,
    ) -> anyhow::Result<datafusion::prelude::SessionContext> {
        if self.logs.is_empty() && self.lake.is_none() {
            anyhow::bail!("say where the logs are: --logs PATH… and/or --lake DIR");
        }
        let locations = parse_locations(&self.logs, global)?;
        let options = crate::engine::EngineOptions {
            threads: global.threads,
            strict: self.strict,
            cluster: global.cluster_client()?,
            memory: global.memory.clone(),
        };
        let sources = crate::engine::Sources {
            logs: &locations,
            lake: self.lake.as_deref(),
            fetching: global.fetching,
        };
        let ctx = crate::engine::open(&options, &sources, log).await?;
        if options.cluster.is_some() {
            // The scans run on the executors: the rejects of every object of --logs, asked for
            // now (a query's time restriction does not narrow them).
            crate::cluster::rejects::collect(&ctx, log, |_| true).await?;
        }
        Ok(ctx)
    }
}

/// The locations the user named, each resolved (a missing local path is an error), reached
/// with `--profile`.
pub fn parse_locations(
    given: &[String],
    global: &Global,
) -> anyhow::Result<Vec<crate::source::LogLocation>> {
    Ok(given
        .iter()
        .map(|l| {
            crate::source::LogLocation::parse(l).map(|l| l.with_profile(global.profile.as_deref()))
        })
        .collect::<Result<Vec<_>, _>>()?)
}

/// Options every command shares.
#[derive(Debug, Clone)]
pub struct Global {
    pub threads: Option<usize>,
    pub progress: bool,
    /// `-q`: nothing on stderr but errors and the final count of rejects.
    pub quiet: bool,
    /// How raw logs are listed and fetched.
    pub fetching: crate::engine::table::Fetching,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--memory-limit` as given.
    pub memory_limit: Option<u64>,
    /// The memory budget (`--memory-limit`, else the machine's default) and spill folder.
    pub memory: crate::engine::memory::Memory,
    /// `--cluster`: the scheduler that runs the queries.
    pub cluster: Option<String>,
    /// The cluster's secret and TLS files.
    pub auth: crate::cluster::AuthSpec,
    /// Whether `--s3-concurrency` (or its variable) was given: else a config may set it.
    pub s3_concurrency_given: bool,
    pub color: color::ColorChoice,
    /// Where global settings given on the command line or in the environment came from
    /// (`--threads`, `S3TRAWL_THREADS`, …), by argument id.
    pub origins: std::collections::BTreeMap<&'static str, String>,
}

/// Requests in flight to S3 unless the command line or a config says otherwise.
pub const DEFAULT_S3_CONCURRENCY: usize = 64;

impl Global {
    /// The cluster `--cluster` names, with this client's credentials (an error without a
    /// secret), or `None` to run here.
    pub fn cluster_client(&self) -> anyhow::Result<Option<crate::cluster::Client>> {
        let Some(url) = &self.cluster else {
            return Ok(None);
        };
        let credentials =
            crate::cluster::Credentials::load(&self.auth, &format!("client of {url}"))?;
        Ok(Some(crate::cluster::Client {
            url: url.clone(),
            credentials,
        }))
    }

    /// Where the global setting `id` came from, or `default`.
    pub fn origin(&self, id: &str, default: &str) -> String {
        self.origins
            .get(id)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    /// Progress of the scans as a bar on stderr, or nothing when stderr is not a terminal.
    pub fn progress_bar(
        &self,
        total: Option<u64>,
        message: &'static str,
    ) -> std::sync::Arc<dyn crate::scan::Progress> {
        if !self.progress {
            return std::sync::Arc::new(Bar(indicatif::ProgressBar::hidden()));
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        let template = match total {
            Some(_) => "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            None => "{spinner} {msg} {bytes} ({bytes_per_sec})",
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        std::sync::Arc::new(Bar(bar))
    }
}

impl Global {
    /// Progress of a detection run on stderr, "k/N" and the running detection's name, or
    /// nothing when stderr is not a terminal.
    pub fn detection_bar(&self) -> indicatif::ProgressBar {
        if !self.progress {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "detecting [{bar:30}] {pos}/{len} {msg} ({elapsed})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    }
}

/// Tells `bar` that detection `id`, the `n`th of `total`, starts.
pub fn detection_started(bar: &indicatif::ProgressBar, n: usize, total: usize, id: &str) {
    bar.set_length(total as u64);
    bar.set_position(n as u64);
    bar.set_message(crate::report::escape::terminal(id));
}

/// A log for a command's scans, their progress shown as `global` says.
pub fn scan_log(
    global: &Global,
    total: Option<u64>,
    message: &'static str,
) -> crate::scan::ScanLog {
    crate::scan::ScanLog::new().with_progress(global.progress_bar(total, message))
}

/// The scans' progress on an indicatif bar.
struct Bar(indicatif::ProgressBar);

impl crate::scan::Progress for Bar {
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn expect(&self, total: u64) {
        self.0.set_length(total);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A severity argument: one of the names, from the least severe to the most.
pub fn severity() -> impl clap::builder::TypedValueParser<Value = crate::detect::Severity> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(crate::detect::Severity::ALL.map(|s| s.name()))
        .try_map(|name| name.parse::<crate::detect::Severity>())
}

/// Whether the error is a write into a closed stdout, which ends a command successfully. Known
/// by the write that failed (or by a typed I/O error in the chain), never by an error's text,
/// which log data can carry.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    output::stdout_closed()
        || e.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                || cause
                    .downcast_ref::<Error>()
                    .is_some_and(Error::is_broken_pipe)
        })
}

/// One line: the error and its causes, each said once. A SQL parser error is its own message
/// (`sql parser error: Expected: …, found: FORM at Line: 1, Column: 10`), not DataFusion's
/// debug rendering of it followed by the same text again.
pub fn describe(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = match cause
            .downcast_ref::<datafusion::error::DataFusionError>()
            .map(datafusion::error::DataFusionError::find_root)
        {
            Some(datafusion::error::DataFusionError::SQL(parser, _)) => parser.to_string(),
            _ => cause.to_string(),
        };
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}
