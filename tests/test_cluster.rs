//! A Ballista cluster of this binary on 127.0.0.1 — a scheduler and two executors, each a
//! process of `s3trawl cluster …`, stopped when the test ends however it ends — answering
//! `sql --cluster` and `detect --cluster` over a lake and over raw logs exactly as the local
//! engine does, rejects included.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::cluster::*;
use common::moto::free_port;
use common::{command_in, gzip, ok, project, stderr, stdout};

/// Raw logs: a generated week of access logs and CloudTrail with planted attacks (and the
/// config to detect them with), the sample logs, and objects that are not all log records (a
/// file of access-log lines with junk among them, a gzip object cut short). The locations, and
/// the scenario's folder.
fn raw_logs(dir: &Path) -> (Vec<String>, PathBuf) {
    let raw = dir.join("raw");
    let scenario = raw.join("scenario");
    ok(command_in(dir)
        .args(["-q", "generate", "scenario", "--out"])
        .arg(&scenario)
        .output()
        .unwrap());
    let samples = project().join("sample-logs");
    let bad = raw.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let access =
        std::fs::read_to_string(samples.join("access/2026-11-20-11-15-07-0C9D8E7F6A5B4C3D"))
            .unwrap();
    // Dated by its name inside the scenario's window (it holds no record to date it by).
    std::fs::write(
        bad.join("2026-11-07-12-00-00-JUNKJUNKJUNKJUNK"),
        "this is not a log record\n\u{1b}[2J a line with a terminal escape\n",
    )
    .unwrap();
    let zipped = gzip(access.as_bytes());
    std::fs::write(
        bad.join("2026-11-07-13-00-00-CUTCUTCUTCUTCUTC.gz"),
        &zipped[..zipped.len() / 2],
    )
    .unwrap();
    let locations = [
        scenario.join("access"),
        scenario.join("cloudtrail"),
        samples,
        bad,
    ]
    .iter()
    .map(|p| p.to_str().unwrap().to_string())
    .collect();
    (locations, scenario)
}

/// A summary without its note of the CloudTrail digest files skipped: they hold no records and
/// no rejects, so only the scans that met them know of them, and on a cluster those are the
/// executors'.
fn without_digest_note(summary: &str) -> String {
    summary
        .lines()
        .filter(|l| !(l.starts_with("s3trawl: ") && l.contains("digest")))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Every file under `dir`, in path order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Aggregations, DISTINCT, joins, window functions, ORDER BY/LIMIT, our functions and UDAF,
/// CloudTrail's struct fields and JSON functions, a filter the CloudTrail decoder applies.
const QUERIES: &[&str] = &[
    "SELECT operation, count(*) AS n FROM access_logs GROUP BY operation ORDER BY n DESC, operation",
    "SELECT count(DISTINCT remoteip) AS ips, min(requestdatetime) AS first, max(requestdatetime) AS last FROM access_logs",
    "SELECT requester, operation, count(*) OVER (PARTITION BY requester) AS per_requester FROM access_logs ORDER BY requester, operation, per_requester LIMIT 20",
    "SELECT date_trunc('hour', parse_datetime(requestdatetime, 'dd/MMM/yyyy:HH:mm:ss Z')) AS hour, count(*) AS n FROM access_logs GROUP BY 1 ORDER BY 1",
    "SELECT eventname, useridentity.arn AS arn, count(*) AS n FROM cloudtrail GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
    "SELECT json_extract_scalar(requestparameters, '$.bucketName') AS bucket, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY 1 NULLS FIRST",
    "SELECT a.remoteip, count(*) AS n FROM access_logs a JOIN access_logs b ON a.requestid = b.requestid GROUP BY 1 ORDER BY 2 DESC, 1",
    "SELECT remoteip, first_n(key, requestdatetime, 2) AS keys FROM access_logs GROUP BY remoteip ORDER BY remoteip",
    "SELECT c.sourceipaddress, count(*) AS n FROM cloudtrail c WHERE c.sourceipaddress IN (SELECT remoteip FROM access_logs) GROUP BY 1 ORDER BY 1",
    "SELECT log_kind, count(*) AS n FROM rejects GROUP BY 1 ORDER BY 1",
    // Handed to the CloudTrail decoder as a prefilter, which crosses with the scan.
    "SELECT eventsource, eventname, count(*) AS n FROM cloudtrail WHERE eventname IN ('GetObject', 'PutObject', 'DeleteObjects') GROUP BY 1, 2 ORDER BY 1, 2",
];

#[test]
fn the_cluster_answers_as_the_local_engine_and_survives_a_lost_executor() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lake = lake(dir);
    let lake = lake.to_str().unwrap();
    let mut cluster = Cluster::start(dir);
    let url = cluster.url.clone();

    for q in QUERIES {
        let local = ok(run(
            dir,
            None,
            &["sql", "--lake", lake, "--format", "csv", q],
        ));
        let remote = ok(run(
            dir,
            Some(&url),
            &["sql", "--lake", lake, "--format", "csv", q],
        ));
        assert!(local.lines().count() > 1, "{q} answers nothing:\n{local}");
        assert_eq!(remote, local, "{q}");
    }

    // The detection pack: the same findings and the same exit code (1: findings).
    let local = run(dir, None, &["detect", "--lake", lake, "--format", "json"]);
    let remote = run(
        dir,
        Some(&url),
        &["detect", "--lake", lake, "--format", "json"],
    );
    assert_eq!(local.status.code(), Some(1), "{}", stderr(&local));
    assert_eq!(
        remote.status.code(),
        local.status.code(),
        "{}",
        stderr(&remote)
    );
    assert!(
        stdout(&local).contains("\"detection\""),
        "{}",
        stdout(&local)
    );
    assert_eq!(stdout(&remote), stdout(&local));
    assert_eq!(stderr(&remote), stderr(&local));

    let tasks = cluster.tasks();
    assert!(
        tasks.iter().all(|&n| n > 0),
        "both executors ran tasks: {tasks:?}"
    );

    // Raw logs: the same rows, decoded by the executors.
    let (raw, scenario) = raw_logs(dir);
    for q in QUERIES {
        let args = sql_over(&raw, q);
        let local = ok(run(dir, None, &args));
        let remote = ok(run(dir, Some(&url), &args));
        assert!(local.lines().count() > 1, "{q} answers nothing:\n{local}");
        assert_eq!(remote, local, "{q} over raw logs");
    }
    // Queries whose input is empty (Ballista's adaptive planner looped forever on a window
    // function over nothing), over the lake and over raw logs without a single reject.
    let clean = [raw[0].clone(), raw[1].clone()];
    let nothing = "SELECT operation, row_number() OVER (PARTITION BY operation ORDER BY requestdatetime) AS k FROM access_logs WHERE httpstatus = 999";
    for args in [
        vec!["sql", "--lake", lake, "--format", "csv", nothing],
        sql_over(&clean, nothing),
        sql_over(&clean, QUERIES[0]),
    ] {
        let remote = run_within(dir, &url, &args, 120);
        let local = run(dir, None, &args);
        assert_eq!(stdout(&remote), ok(local), "{args:?}");
        assert!(stderr(&remote).is_empty(), "{}", stderr(&remote));
    }
    // The shell, statements on stdin: the same answers and rejects summary.
    let statements = format!("{};\n{};\n", QUERIES[0], QUERIES[4]);
    let mut shell = vec!["shell", "--format", "csv", "--logs"];
    shell.extend(raw.iter().map(String::as_str));
    let local = run_with_input(dir, None, &shell, &statements, 300);
    let remote = run_with_input(dir, Some(&url), &shell, &statements, 300);
    let answers = ok(local.clone());
    assert!(
        answers.contains("REST.GET.OBJECT") && answers.contains("eventname"),
        "{answers}"
    );
    assert_eq!(ok(remote.clone()), answers);
    assert_eq!(stderr(&remote), without_digest_note(&stderr(&local)));
    // The rejects: the same summary on stderr (the scans' reports stay on the executors; the
    // client asks the cluster for them).
    let q =
        "SELECT (SELECT count(*) FROM access_logs) AS a, (SELECT count(*) FROM cloudtrail) AS c";
    let local = run(dir, None, &sql_over(&raw, q));
    let remote = run(dir, Some(&url), &sql_over(&raw, q));
    assert_eq!(local.status.code(), Some(0), "{}", stderr(&local));
    assert_eq!(remote.status.code(), local.status.code());
    assert_eq!(stdout(&remote), stdout(&local));
    let summary = stderr(&local);
    for needle in ["JUNKJUNK", "CUTCUT", "not a log record", "rejects"] {
        assert!(summary.contains(needle), "{needle}: {summary}");
    }
    assert!(!summary.contains('\u{1b}'), "escaped: {summary}");
    assert_eq!(stderr(&remote), without_digest_note(&summary));
    // The detection pack over the scenario's raw logs, with its config and window: the planted
    // attacks found alike, rejects (`unparsed-records`) included.
    let config = scenario.join("s3trawl.toml");
    let mut detect = vec!["detect", "--logs"];
    detect.extend(raw.iter().map(String::as_str));
    detect.extend([
        "--config",
        config.to_str().unwrap(),
        "--since",
        "2026-11-07",
        "--until",
        "2026-11-08",
        "--baseline-days",
        "6",
        "--format",
        "json",
    ]);
    let local = run(dir, None, &detect);
    let remote = run(dir, Some(&url), &detect);
    assert_eq!(local.status.code(), Some(1), "{}", stderr(&local));
    assert_eq!(
        remote.status.code(),
        local.status.code(),
        "{}",
        stderr(&remote)
    );
    let findings = stdout(&local);
    let planted: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scenario.join("scenario.json")).unwrap())
            .unwrap();
    for attack in planted["attacks"].as_array().unwrap() {
        let id = attack["detection"].as_str().unwrap();
        assert!(findings.contains(&format!("\"{id}\"")), "{id}: {findings}");
    }
    assert!(findings.contains("\"unparsed-records\""), "{findings}");
    assert_eq!(stdout(&remote), findings);
    assert_eq!(stderr(&remote), without_digest_note(&stderr(&local)));

    // The report of the same window: the same document, but for the time it was made.
    let report = |cluster: Option<&str>, out: &str| {
        let mut args = detect.clone();
        args[0] = "report";
        let n = args.len();
        args.truncate(n - 2);
        args.extend(["--out", out]);
        let o = run(dir, cluster, &args);
        let json = std::fs::read_to_string(dir.join(out).join("report.json")).unwrap_or_default();
        let json: String = json
            .lines()
            .filter(|l| !l.contains("\"generated_at\""))
            .collect::<Vec<_>>()
            .join("\n");
        (o, json)
    };
    let (local, local_json) = report(None, "report-local");
    let (remote, remote_json) = report(Some(&url), "report-remote");
    assert_eq!(local.status.code(), Some(1), "{}", stderr(&local));
    assert_eq!(
        remote.status.code(),
        local.status.code(),
        "{}",
        stderr(&remote)
    );
    assert!(local_json.contains("\"mass-delete\""), "{local_json}");
    assert_eq!(remote_json, local_json);

    // One executor lost: the next query still succeeds, on the other.
    cluster.executors[1].stop();
    let before = cluster.tasks()[0];
    let q = QUERIES[0];
    let local = ok(run(
        dir,
        None,
        &["sql", "--lake", lake, "--format", "csv", q],
    ));
    let remote = ok(run(
        dir,
        Some(&url),
        &["sql", "--lake", lake, "--format", "csv", q],
    ));
    assert_eq!(remote, local);
    assert!(cluster.tasks()[0] > before, "the executor left ran it");

    // SIGTERM stops the executor left, and the scheduler, cleanly.
    let executor = &mut cluster.executors[0];
    let pid = executor.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = executor.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the executor ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}: {}", executor.log());
    assert!(
        executor.log().contains("s3trawl: stopped"),
        "{}",
        executor.log()
    );
    let pid = cluster.scheduler.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = cluster.scheduler.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the scheduler ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}: {}", cluster.scheduler.log());
    assert!(cluster.scheduler.log().contains("s3trawl: stopped"));
}

#[test]
fn an_unreachable_scheduler_or_a_bad_address_is_one_clear_line_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let nobody = format!("df://127.0.0.1:{}", free_port());
    let out = run(dir, Some(&nobody), &["sql", "--lake", ".", "SELECT 1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("the scheduler cannot be reached"), "{err}");

    let out = run(
        dir,
        Some("df://nohost"),
        &["sql", "--lake", ".", "SELECT 1"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected df://HOST:PORT"),
        "{}",
        stderr(&out)
    );
}

/// Raw logs in S3: the scheduler lists them and the executors fetch them with their own
/// credentials (the client's endpoint leads nowhere), and the answers and rejects are those of
/// a local run.
#[test]
fn raw_logs_in_s3_are_read_by_the_cluster_with_its_own_credentials() {
    use object_store::path::Path as ObjectPath;
    use object_store::{ObjectStoreExt, PutPayload};

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (raw, _) = raw_logs(dir);
    let moto = common::moto::Moto::start();
    moto.create_bucket("logs");
    let store = moto.store("logs");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The samples, the objects with rejects, and a day of the scenario's CloudTrail.
    let mut uploaded = 0;
    for (i, location) in raw.iter().enumerate().skip(1) {
        for file in files_under(Path::new(location)) {
            let name = file.strip_prefix(location).unwrap().to_str().unwrap();
            if i == 1 && !name.contains("/2026/11/07/") {
                continue;
            }
            let data = std::fs::read(&file).unwrap();
            runtime
                .block_on(store.put(
                    &ObjectPath::from(format!("{i}/{name}")),
                    PutPayload::from(data),
                ))
                .expect("upload to moto");
            uploaded += 1;
        }
    }
    assert!(uploaded > 20, "{uploaded} objects");
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let cluster = Cluster::start_as(
        dir,
        Setup {
            env: env.to_vec(),
            scheduler_roots: Some(vec!["s3://logs/".to_string()]),
            ..Setup::default()
        },
    );
    let here = |args: &[&str]| moto.s3trawl(dir, &[&["-q"], args].concat());
    let there = |args: &[&str]| {
        moto.command(
            "http://127.0.0.1:9",
            dir,
            &[&["-q", "--cluster", &cluster.url], args].concat(),
        )
        .env("S3TRAWL_S3_RETRIES", "0")
        .env("S3TRAWL_CLUSTER_SECRET", SECRET)
        .output()
        .unwrap()
    };
    let logs = vec!["s3://logs/".to_string()];
    for q in [QUERIES[0], QUERIES[4], QUERIES[5], QUERIES[9]] {
        let local = here(&sql_over(&logs, q));
        let remote = there(&sql_over(&logs, q));
        let local_rows = ok(local);
        assert!(local_rows.lines().count() > 1, "{q}: {local_rows}");
        assert_eq!(ok(remote), local_rows, "{q}");
    }
    let q =
        "SELECT (SELECT count(*) FROM access_logs) AS a, (SELECT count(*) FROM cloudtrail) AS c";
    let local = here(&sql_over(&logs, q));
    let remote = there(&sql_over(&logs, q));
    assert!(
        stderr(&local).contains("s3://logs/3/2026-11-07-12-00-00-JUNKJUNK"),
        "{}",
        stderr(&local)
    );
    assert_eq!(stdout(&remote), stdout(&local));
    assert_eq!(stderr(&remote), without_digest_note(&stderr(&local)));
    // The client alone cannot reach the bucket.
    let alone = moto
        .command("http://127.0.0.1:9", dir, &sql_over(&logs, q))
        .env("S3TRAWL_S3_RETRIES", "0")
        .output()
        .unwrap();
    assert_ne!(alone.status.code(), Some(0), "{}", stdout(&alone));
}

#[test]
fn a_cluster_of_another_version_is_one_clear_line_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lake = lake(dir);
    let cluster = Cluster::start_with(dir, &[("S3TRAWL_REPORTED_VERSION", "0.0.1-other")]);
    let out = run(
        dir,
        Some(&cluster.url),
        &["sql", "--lake", lake.to_str().unwrap(), "SELECT 1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("the cluster runs s3trawl 0.0.1-other and this is"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

/// Every query of the corpus, and queries with the detection functions bound to a config and an
/// in-memory table, cross the cluster's codecs (logical plan client → scheduler, physical plan
/// scheduler → executors) and give the same rows after the trip.
#[tokio::test]
async fn plans_round_trip_through_the_codecs() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake(tmp.path());
    let (raw, _) = raw_logs(tmp.path());
    let raw: Vec<s3trawl::source::LogLocation> = raw
        .iter()
        .map(|l| s3trawl::source::LogLocation::parse(l).unwrap())
        .collect();
    for (logs, lake, marks) in [
        (&[][..], Some(lake.as_path()), None),
        (
            &raw[..],
            None,
            Some(("s3trawl:rawlogs:", "s3trawl:logscan:")),
        ),
    ] {
        let ctx = s3trawl::engine::open(
            &Default::default(),
            &s3trawl::engine::Sources {
                logs,
                lake,
                fetching: Default::default(),
            },
            &s3trawl::scan::ScanLog::new(),
        )
        .await
        .unwrap();
        round_trips(ctx, tmp.path(), marks).await;
    }
}

/// The queries of the corpus over `ctx`'s tables (whose plans carry `marks` when they are
/// raw-log tables: the logical and the physical codec's), through the codecs.
async fn round_trips(
    ctx: datafusion::prelude::SessionContext,
    dir: &Path,
    marks: Option<(&str, &str)>,
) {
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::collect;
    use datafusion_proto::bytes::{
        logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
        physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
    };
    use s3trawl::cluster::codec::{LogicalCodec, PhysicalCodec};
    use std::sync::Arc;

    let contains =
        |bytes: &[u8], mark: &str| bytes.windows(mark.len()).any(|w| w == mark.as_bytes());
    let config = s3trawl::detect::config::Config::parse(
        r#"
[allow]
ips = ["10.0.0.0/8"]
[[threat_lists]]
name = "bad"
entries = ["192.0.2.0/24"]
"#,
        dir,
    )
    .unwrap();
    s3trawl::detect::udf::register(&ctx, &Arc::new(config));
    let rows = ctx
        .sql("SELECT remoteip, count(*) AS n FROM access_logs GROUP BY 1")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let schema = rows[0].schema();
    ctx.register_table(
        "in_memory",
        Arc::new(MemTable::try_new(schema, vec![rows]).unwrap()),
    )
    .unwrap();
    let bound = [
        "SELECT remoteip, allowed_ip(remoteip) AS allowed, threat_list(remoteip) AS list FROM access_logs GROUP BY 1 ORDER BY 1 NULLS FIRST",
        "SELECT remoteip, n, is_private_ip(remoteip) AS private FROM in_memory ORDER BY 1 NULLS FIRST",
    ];

    let logical = LogicalCodec::default();
    let physical = PhysicalCodec::default();
    // Where plans arrive: a session with our functions but no tables, no detection functions
    // and no config, as a scheduler's or an executor's.
    let remote = datafusion::prelude::SessionContext::new_with_state(
        s3trawl::engine::functions_state(datafusion::prelude::SessionConfig::new()).unwrap(),
    );
    assert!(
        remote
            .state()
            .scalar_functions()
            .get("threat_list")
            .is_none()
    );
    let task = remote.task_ctx();
    // What a cluster's client sends: the plan optimised by its rules.
    let client = datafusion::execution::SessionStateBuilder::new_from_existing(ctx.state())
        .with_optimizer_rules(s3trawl::cluster::client_optimizer_rules())
        .build();
    let mut nonempty = 0;
    for q in QUERIES.iter().chain(&bound) {
        let frame = ctx.sql(q).await.unwrap();
        let plan = client.optimize(frame.logical_plan()).unwrap();
        let want = pretty_format_batches(&frame.collect().await.unwrap())
            .unwrap()
            .to_string();

        let bytes = logical_plan_to_bytes_with_extension_codec(&plan, &logical).unwrap();
        if let Some((mark, _)) = marks
            && !q.contains("in_memory")
        {
            assert!(contains(&bytes, mark), "{q}: no raw-log table in the plan");
        }
        let back = logical_plan_from_bytes_with_extension_codec(&bytes, &task, &logical).unwrap();
        let got = remote
            .execute_logical_plan(back)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(
            pretty_format_batches(&got).unwrap().to_string(),
            want,
            "{q}"
        );

        let exec = ctx.state().create_physical_plan(&plan).await.unwrap();
        let shown = |p: &Arc<dyn datafusion::physical_plan::ExecutionPlan>| {
            datafusion::physical_plan::displayable(p.as_ref())
                .indent(true)
                .to_string()
        };
        let before = shown(&exec);
        if marks.is_some() && q.contains("eventname IN") {
            assert!(before.contains("prefilter=eventname IN"), "{before}");
        }
        let bytes = physical_plan_to_bytes_with_extension_codec(exec, &physical).unwrap();
        if let Some((_, mark)) = marks
            && !q.contains("in_memory")
        {
            assert!(
                contains(&bytes, mark),
                "{q}: no scan of log objects in the plan"
            );
        }
        let back = physical_plan_from_bytes_with_extension_codec(&bytes, &task, &physical).unwrap();
        // The same plan: files, bundles, projection, limit and prefilter.
        assert_eq!(shown(&back), before, "{q}");
        let got = collect(back, remote.task_ctx()).await.unwrap();
        assert_eq!(
            pretty_format_batches(&got).unwrap().to_string(),
            want,
            "{q}"
        );
        nonempty += usize::from(want.lines().count() > 4);
    }
    assert_eq!(
        nonempty,
        QUERIES.len() + bound.len(),
        "every query answers something"
    );

    // What the remote side computed with the functions it rebuilt used the config's lists.
    let q = bound[0];
    let want = pretty_format_batches(&ctx.sql(q).await.unwrap().collect().await.unwrap())
        .unwrap()
        .to_string();
    assert!(want.contains("| bad "), "{want}");
    assert!(want.contains("| true "), "{want}");
    // Without the codec the remote side cannot rebuild them at all.
    let plan = client
        .optimize(ctx.sql(q).await.unwrap().logical_plan())
        .unwrap();
    let plain = datafusion_proto::logical_plan::DefaultLogicalExtensionCodec {};
    // (Nor can the default codec write a raw-log table.)
    if let Ok(bytes) = logical_plan_to_bytes_with_extension_codec(&plan, &plain) {
        assert!(marks.is_none());
        assert!(logical_plan_from_bytes_with_extension_codec(&bytes, &task, &plain).is_err());
    }
}
