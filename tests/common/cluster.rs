//! A Ballista cluster of this binary on 127.0.0.1 for the tests: a scheduler and two executors,
//! each a process of `s3trawl cluster …` with the test secret and data roots, stopped when the
//! test ends however it ends; and the client run against it, time-limited.

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use super::moto::{free_port, wait_for_port};
use super::{command_in, ok, project};

/// One role's process and its log (stderr and stdout).
pub struct Role {
    pub child: Child,
    pub log: PathBuf,
}

impl Role {
    pub fn start(dir: &Path, name: &str, env: &[(&str, &str)], args: &[&str]) -> Role {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = command_in(dir)
            .envs(env.iter().copied())
            .args(["cluster"])
            .args(args)
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("the binary runs");
        Role { child, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The secret of the clusters the tests start (clients get it from the environment).
pub const SECRET: &str = "the test cluster's secret, long enough";

/// `SECRET` in a file only its owner can read, as the roles take it.
pub fn secret_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("cluster.secret");
    if !path.exists() {
        std::fs::write(&path, format!("{SECRET}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

/// How the roles of a test cluster are started.
#[derive(Clone, Default)]
pub struct Setup<'a> {
    /// Environment of every role.
    pub env: Vec<(&'a str, &'a str)>,
    /// `--data-root`s of the scheduler (default: the test's folder and the sample logs).
    pub scheduler_roots: Option<Vec<String>>,
    /// `--data-root`s of the executors (default: as the scheduler's).
    pub executor_roots: Option<Vec<String>>,
    /// Arguments every role and client gets (TLS).
    pub extra: Vec<String>,
}

/// A scheduler and two executors with one slot each.
pub struct Cluster {
    pub scheduler: Role,
    pub executors: Vec<Role>,
    pub url: String,
    /// The ports every role listens on.
    pub ports: Vec<u16>,
}

impl Cluster {
    pub fn start(dir: &Path) -> Cluster {
        Cluster::start_with(dir, &[])
    }

    /// A cluster whose roles have `env` set.
    pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Cluster {
        Cluster::start_as(
            dir,
            Setup {
                env: env.to_vec(),
                ..Setup::default()
            },
        )
    }

    pub fn start_as(dir: &Path, setup: Setup) -> Cluster {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let secret = secret_file(dir);
        let default_roots = vec![
            dir.to_str().unwrap().to_string(),
            project().join("sample-logs").to_str().unwrap().to_string(),
        ];
        let with_roots = |args: &[&str], roots: &[String]| -> Vec<String> {
            let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            all.extend([
                "--secret-file".to_string(),
                secret.to_str().unwrap().to_string(),
            ]);
            for root in roots {
                all.extend(["--data-root".to_string(), root.clone()]);
            }
            all.extend(setup.extra.iter().cloned());
            all
        };
        let scheduler_roots = setup.scheduler_roots.clone().unwrap_or(default_roots);
        let executor_roots = setup
            .executor_roots
            .clone()
            .unwrap_or(scheduler_roots.clone());
        let args = with_roots(&["scheduler", "--bind", &bind], &scheduler_roots);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut scheduler = Role::start(dir, "scheduler", &setup.env, &args);
        wait_for_port(port, &mut scheduler.child, "the scheduler", &scheduler.log);
        let mut ports = vec![port];
        let executors: Vec<Role> = (1..=2)
            .map(|i| {
                let (flight, grpc) = (free_port(), free_port());
                ports.extend([flight, grpc]);
                let flight = format!("127.0.0.1:{flight}");
                let grpc = format!("127.0.0.1:{grpc}");
                let work = dir.join(format!("work-{i}"));
                let args = with_roots(
                    &[
                        "executor",
                        "--scheduler",
                        &bind,
                        "--bind",
                        &flight,
                        "--grpc-bind",
                        &grpc,
                        "--work-dir",
                        work.to_str().unwrap(),
                        "--slots",
                        "1",
                        "--memory-limit",
                        "1GiB",
                    ],
                    &executor_roots,
                );
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Role::start(dir, &format!("executor-{i}"), &setup.env, &args)
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !executors
            .iter()
            .all(|e| e.log().contains("Starting poll work loop"))
        {
            assert!(
                Instant::now() < deadline,
                "executors did not register in 60 s:\n{}",
                executors
                    .iter()
                    .map(Role::log)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Cluster {
            scheduler,
            executors,
            url: format!("df://{bind}"),
            ports,
        }
    }

    /// Tasks each executor has completed so far.
    pub fn tasks(&self) -> Vec<usize> {
        self.executors
            .iter()
            .map(|e| e.log().matches("Finished task").count())
            .collect()
    }
}

/// A lake of the sample logs (access logs and CloudTrail).
pub fn lake(dir: &Path) -> PathBuf {
    let lake = dir.join("lake");
    let samples = project().join("sample-logs");
    ok(command_in(dir)
        .args(["-q", "ingest", "--lake", lake.to_str().unwrap()])
        .arg(&samples)
        .output()
        .unwrap());
    lake
}

/// `sql --logs LOCATIONS… --format csv QUERY`.
pub fn sql_over<'a>(locations: &'a [String], query: &'a str) -> Vec<&'a str> {
    let mut args = vec!["sql", "--logs"];
    args.extend(locations.iter().map(String::as_str));
    args.extend(["--format", "csv", query]);
    args
}

/// The binary on the cluster, failing the test when it takes over `secs` seconds (the process
/// is killed). Its output is read as it comes, so a long one cannot stall it.
pub fn run_within(dir: &Path, cluster: &str, args: &[&str], secs: u64) -> Output {
    run_with_input(dir, Some(cluster), args, "", secs)
}

/// The binary with `args` (`-q`, `--cluster` when given) and `input` on stdin, failing the test
/// when it takes over `secs` seconds.
pub fn run_with_input(
    dir: &Path,
    cluster: Option<&str>,
    args: &[&str],
    input: &str,
    secs: u64,
) -> Output {
    use std::io::{Read, Write};
    let mut c = command_in(dir);
    c.arg("-q");
    if let Some(url) = cluster {
        c.args(["--cluster", url])
            .env("S3TRAWL_CLUSTER_SECRET", SECRET);
    }
    let mut child = c
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} did not finish in {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// The binary with `args` (`-q`, and `--cluster` when given; a run on the cluster that takes
/// over 5 minutes fails the test rather than hang it).
pub fn run(dir: &Path, cluster: Option<&str>, args: &[&str]) -> Output {
    if let Some(url) = cluster {
        return run_within(dir, url, args, 300);
    }
    command_in(dir)
        .arg("-q")
        .args(args)
        .output()
        .expect("the binary runs")
}
