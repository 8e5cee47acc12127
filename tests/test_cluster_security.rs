//! The cluster as an attacker who reaches its ports meets it: without the secret nothing runs
//! and no executor joins; with it, a client can only ask read-only questions over the data
//! roots, refused at the scheduler and, when a plan skips that check, at the executor; with TLS
//! nothing of a query or of the logs crosses the network in the clear. Each role is a process
//! of the built binary on 127.0.0.1, stopped when the test ends however it ends.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::cluster::*;
use common::moto::free_port;
use common::{command_in, ok, stderr, stdout};

/// The binary as a client of `cluster`, with `env` (not the test secret) and a time limit.
fn client(dir: &Path, cluster: &Cluster, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = command_in(dir);
    c.args(["-q", "--cluster", &cluster.url])
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null());
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for `role` to exit (within `secs`) and returns its exit code.
fn exit_code(role: &mut Role, secs: u64) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = role.child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            Instant::now() < deadline,
            "still running after {secs} s:\n{}",
            role.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A file outside every data root, holding `content`.
fn outside_file(content: &str) -> (tempfile::TempDir, PathBuf) {
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("2026-11-20-11-15-07-0C9D8E7F6A5B4C3D");
    std::fs::write(&file, content).unwrap();
    (outside, file)
}

const SECRET_LINE: &str = "root:$6$this-is-a-shadow-line-nobody-may-read:19000:0:99999:7:::";

#[test]
fn a_client_without_the_secret_or_with_a_wrong_one_exits_2_before_any_task_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lake = lake(dir);
    let lake = lake.to_str().unwrap();
    let cluster = Cluster::start(dir);
    let wrong_file = dir.join("wrong.secret");
    std::fs::write(&wrong_file, "a wrong secret of enough length\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrong_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let before = cluster.tasks();
    let commands: [&[&str]; 4] = [
        &["sql", "--lake", lake, "SELECT count(*) FROM access_logs"],
        &["shell", "--lake", lake],
        &["detect", "--lake", lake],
        &["report", "--lake", lake, "--out", "report"],
    ];
    for args in commands {
        let none = client(dir, &cluster, &[], args);
        assert_eq!(none.status.code(), Some(2), "{args:?}: {}", stderr(&none));
        let err = stderr(&none);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("no cluster secret"), "{args:?}: {err}");

        let wrong = client(
            dir,
            &cluster,
            &[("S3TRAWL_CLUSTER_SECRET", "a wrong secret of enough length")],
            args,
        );
        assert_eq!(wrong.status.code(), Some(2), "{args:?}: {}", stderr(&wrong));
        let err = stderr(&wrong);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("refused this client") && err.contains("secret is missing or wrong"),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("a wrong secret"),
            "the secret is never printed: {err}"
        );
        assert!(stdout(&wrong).is_empty(), "{}", stdout(&wrong));

        let mut with_file = vec!["--secret-file", wrong_file.to_str().unwrap()];
        with_file.extend_from_slice(args);
        let wrong = client(dir, &cluster, &[], &with_file);
        assert_eq!(wrong.status.code(), Some(2), "{args:?}: {}", stderr(&wrong));
    }
    assert_eq!(cluster.tasks(), before, "no task ran for a refused client");
    assert!(
        cluster.scheduler.log().contains("refused a request"),
        "{}",
        cluster.scheduler.log()
    );
    assert!(!report_written(dir), "no report for a refused client");
    // With the secret, the same command runs.
    let right = client(
        dir,
        &cluster,
        &[("S3TRAWL_CLUSTER_SECRET", SECRET)],
        commands[0],
    );
    assert!(ok(right).contains('\n'));
    assert!(cluster.tasks().iter().sum::<usize>() > before.iter().sum::<usize>());
}

fn report_written(dir: &Path) -> bool {
    dir.join("report").join("report.json").exists()
}

#[test]
fn an_executor_without_the_secret_is_never_given_a_task() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lake = lake(dir);
    let cluster = Cluster::start(dir);
    let scheduler = cluster.url.trim_start_matches("df://").to_string();
    let executor = |name: &str, env: &[(&str, &str)]| {
        let flight = format!("127.0.0.1:{}", free_port());
        let grpc = format!("127.0.0.1:{}", free_port());
        let work = dir.join(name);
        Role::start(
            dir,
            name,
            env,
            &[
                "executor",
                "--scheduler",
                &scheduler,
                "--bind",
                &flight,
                "--grpc-bind",
                &grpc,
                "--work-dir",
                work.to_str().unwrap(),
                "--data-root",
                dir.to_str().unwrap(),
            ],
        )
    };
    let mut wrong = executor(
        "wrong",
        &[("S3TRAWL_CLUSTER_SECRET", "a wrong secret of enough length")],
    );
    assert_eq!(exit_code(&mut wrong, 40), Some(2), "{}", wrong.log());
    assert!(
        wrong.log().contains("refused this executor"),
        "{}",
        wrong.log()
    );
    let mut none = executor("none", &[]);
    assert_eq!(exit_code(&mut none, 20), Some(2), "{}", none.log());
    assert!(none.log().contains("no cluster secret"), "{}", none.log());

    // An executor that is not ours (no token at all) asking for work directly: refused, and
    // never handed a task while queries run.
    use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
    use ballista_core::serde::protobuf::*;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let poll = |client: &mut SchedulerGrpcClient<tonic::transport::Channel>| {
        runtime.block_on(client.poll_work(PollWorkParams {
            metadata: Some(ExecutorRegistration {
                id: "intruder".into(),
                host: Some("127.0.0.1".into()),
                port: 1,
                grpc_port: 2,
                specification: Some(ExecutorSpecification {
                    resources: vec![ExecutorResource {
                        resource: Some(executor_resource::Resource::Vcores(4)),
                    }],
                }),
                ..Default::default()
            }),
            num_free_vcores: 4,
            task_status: vec![],
        }))
    };
    let mut intruder = runtime.block_on(async {
        SchedulerGrpcClient::connect(format!("http://{scheduler}"))
            .await
            .unwrap()
    });
    let refused = poll(&mut intruder).unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    let q = "SELECT operation, count(*) FROM access_logs GROUP BY 1";
    let answer = run(
        dir,
        Some(&cluster.url),
        &["sql", "--lake", lake.to_str().unwrap(), q],
    );
    ok(answer);
    let refused = poll(&mut intruder).unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert!(!wrong.log().contains("Finished task"));
}

#[test]
fn copy_to_create_external_table_and_reads_outside_the_data_roots_are_refused_at_the_scheduler() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lake = lake(dir);
    let lake = lake.to_str().unwrap();
    let cluster = Cluster::start(dir);
    let (_outside, secret) = outside_file(&format!("{SECRET_LINE}\n"));

    // COPY … TO writes nothing, inside the roots or not.
    for target in [
        dir.join("written.csv"),
        secret.parent().unwrap().join("profile.sh"),
    ] {
        let copy = format!(
            "COPY (SELECT 'echo pwned' AS line) TO '{}' STORED AS CSV",
            target.display()
        );
        let out = run(dir, Some(&cluster.url), &["sql", "--lake", lake, &copy]);
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("refused by the cluster: COPY"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!target.exists(), "{} was written", target.display());
    }
    // A table created over a file outside the roots cannot be read through the cluster.
    let statements = format!(
        "CREATE EXTERNAL TABLE t (line VARCHAR) STORED AS CSV LOCATION '{}';\nSELECT * FROM t;\n",
        secret.display()
    );
    let out = run_with_input(
        dir,
        Some(&cluster.url),
        &["shell", "--lake", lake],
        &statements,
        120,
    );
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("shadow-line"), "{all}");
    assert!(all.contains("outside every data root"), "{all}");
    // Raw logs outside the roots, by path, by `..`, by a symlink planted inside a root, by a
    // glob: refused, their lines never shown.
    let link = dir.join("planted");
    std::os::unix::fs::symlink(secret.parent().unwrap(), &link).unwrap();
    for location in [
        secret.display().to_string(),
        format!(
            "{}/../{}/{}",
            dir.display(),
            secret
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap(),
            secret.file_name().unwrap().to_str().unwrap()
        ),
        format!("{}/", link.display()),
        format!("{}/*", secret.parent().unwrap().display()),
    ] {
        let out = run(
            dir,
            Some(&cluster.url),
            &["sql", "--logs", &location, "SELECT raw_line FROM rejects"],
        );
        assert_eq!(out.status.code(), Some(2), "{location}: {}", stdout(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains("shadow-line"), "{location}: {all}");
        assert!(all.contains("outside every data root"), "{location}: {all}");
    }
}

#[test]
fn a_crafted_plan_that_skips_the_schedulers_check_is_refused_at_the_executor() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_outside, secret) = outside_file(&format!("{SECRET_LINE}\n"));
    // A scheduler that lets everything through (as if the check were skipped), executors that
    // read only the test's folder.
    let cluster = Cluster::start_as(
        dir,
        Setup {
            scheduler_roots: Some(vec!["/".to_string()]),
            executor_roots: Some(vec![dir.to_str().unwrap().to_string()]),
            ..Setup::default()
        },
    );
    let out = run(
        dir,
        Some(&cluster.url),
        &[
            "sql",
            "--logs",
            secret.to_str().unwrap(),
            "SELECT raw_line FROM rejects",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("shadow-line"), "{all}");
    assert!(
        all.contains("refused by the cluster") && all.contains("outside every data root"),
        "{all}"
    );
    let logs: String = cluster.executors.iter().map(Role::log).collect();
    assert!(!logs.contains("shadow-line"), "{logs}");
}

#[test]
fn a_fetch_naming_a_file_outside_the_work_folder_is_refused() {
    use arrow_flight::Ticket;
    use arrow_flight::flight_service_client::FlightServiceClient;
    use ballista_core::serde::protobuf::{self, action::ActionType};
    use prost::Message;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cluster = Cluster::start(dir);
    let flight = cluster.ports[1];
    let credentials = s3trawl::cluster::Credentials::from_secret(SECRET);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{flight}")).unwrap();
        let channel = credentials
            .endpoint(endpoint)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = FlightServiceClient::new(channel);
        let action = protobuf::Action {
            action_type: Some(ActionType::FetchPartition(protobuf::FetchPartition {
                job_id: "../../../../etc".into(),
                stage_id: 1,
                partition_id: 0,
                host: "127.0.0.1".into(),
                port: u32::from(flight),
                ..Default::default()
            })),
            settings: vec![],
        };
        client
            .do_get(Ticket {
                ticket: action.encode_to_vec().into(),
            })
            .await
            .map(|_| ())
            .unwrap_err()
    });
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("not a plain name"), "{status:?}");
}

/// Packets on the loopback interface to and from `ports` while `f` runs (tcpdump), or `None`
/// when tcpdump cannot capture here (outside CI only).
fn capture(dir: &Path, name: &str, ports: &[u16], f: impl FnOnce()) -> Option<Vec<u8>> {
    let file = dir.join(format!("{name}.pcap"));
    let filter = ports
        .iter()
        .map(|p| format!("tcp port {p}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let started = Command::new("tcpdump")
        .args(["-i", "lo", "-U", "-s", "0", "-w"])
        .arg(&file)
        .arg(&filter)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut tcpdump = match started {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "tcpdump is needed under CI (.ci/run installs it): {e}"
            );
            eprintln!("SKIPPED: no tcpdump here ({e})");
            return None;
        }
    };
    // tcpdump says "listening on lo" once it captures: wait for that line, not for a time.
    let mut err = tcpdump.stderr.take().unwrap();
    let (said, listening) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut seen = Vec::new();
        let mut buf = [0u8; 512];
        let mut told = false;
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if !told && holds(&seen, "listening on") {
                told = true;
                let _ = said.send(String::new());
            }
        }
        if !told {
            let _ = said.send(String::from_utf8_lossy(&seen).into_owned());
        }
    });
    match listening.recv_timeout(Duration::from_secs(60)) {
        Ok(text) if text.is_empty() => {}
        outcome => {
            let status = tcpdump.try_wait().unwrap();
            let _ = tcpdump.kill();
            let text = outcome.unwrap_or_else(|_| "no word in 60 s".into());
            assert!(
                std::env::var_os("CI").is_none(),
                "tcpdump cannot capture ({status:?}): {text}"
            );
            eprintln!("SKIPPED: tcpdump cannot capture here: {text}");
            return None;
        }
    }
    f();
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("kill")
        .args(["-INT", &tcpdump.id().to_string()])
        .status();
    let _ = tcpdump.wait();
    Some(std::fs::read(&file).unwrap())
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_tls_cluster_carries_no_sql_text_and_no_log_content_in_the_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lake = lake(dir);
    let lake = lake.to_str().unwrap();
    let certs = dir.join("certs");
    ok(command_in(dir)
        .args(["cluster", "certs", "--out"])
        .arg(&certs)
        .args(["--name", "cluster", "--name", "client"])
        .output()
        .unwrap());
    let pem = |name: &str| certs.join(name).to_str().unwrap().to_string();
    let tls = |who: &str| -> Vec<String> {
        vec![
            "--tls-cert".into(),
            pem(&format!("{who}.pem")),
            "--tls-key".into(),
            pem(&format!("{who}-key.pem")),
            "--tls-ca".into(),
            pem("ca.pem"),
        ]
    };
    // A marker only the query holds, and a value only the log holds.
    let query = "SELECT 'sql-marker-5a2f' AS m, requester, key FROM access_logs ORDER BY key";
    let log_value = "legacy-uploader";
    let (plain, encrypted) = {
        let clear = Cluster::start(dir);
        let plain = capture(dir, "clear", &clear.ports, || {
            let out = run(dir, Some(&clear.url), &["sql", "--lake", lake, query]);
            assert!(ok(out).contains("sql-marker-5a2f"));
        });
        drop(clear);
        let secure_dir = dir.join("tls");
        std::fs::create_dir_all(&secure_dir).unwrap();
        let secure = Cluster::start_as(
            &secure_dir,
            Setup {
                scheduler_roots: Some(vec![dir.to_str().unwrap().to_string()]),
                extra: tls("cluster"),
                ..Setup::default()
            },
        );
        let mut args: Vec<String> = tls("client");
        args.extend(["sql", "--lake", lake, query].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let encrypted = capture(dir, "tls", &secure.ports, || {
            let out = client(dir, &secure, &[("S3TRAWL_CLUSTER_SECRET", SECRET)], &args);
            let rows = ok(out);
            assert!(rows.contains("sql-marker-5a2f"), "{rows}");
            assert!(rows.contains(log_value), "{rows}");
        });
        // Without a client certificate the TLS cluster refuses the connection.
        let out = client(
            dir,
            &secure,
            &[("S3TRAWL_CLUSTER_SECRET", SECRET)],
            &["sql", "--lake", lake, query],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        (plain, encrypted)
    };
    let (Some(plain), Some(encrypted)) = (plain, encrypted) else {
        return;
    };
    // The capture sees the clear cluster's query and rows (so it would see them with TLS).
    assert!(
        holds(&plain, "sql-marker-5a2f"),
        "the capture missed the query"
    );
    assert!(holds(&plain, log_value), "the capture missed the rows");
    assert!(
        encrypted.len() > 10_000,
        "{} bytes captured",
        encrypted.len()
    );
    assert!(
        !holds(&encrypted, "sql-marker-5a2f"),
        "SQL text in the clear"
    );
    assert!(!holds(&encrypted, log_value), "log content in the clear");
    assert!(
        !holds(&encrypted, "s3trawl-cluster/"),
        "the token in the clear"
    );
}
