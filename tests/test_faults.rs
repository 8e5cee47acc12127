//! Faults between s3trawl and S3, through a fault-injecting proxy of our own
//! (`tests/faults/proxy.py`, on 127.0.0.1) in front of moto: connections reset mid-body,
//! bodies cut short, 500 and 503 SlowDown answers and stalls are retried; an object that still
//! fails is named, the others are read, the exit code is 2, and `ingest` does not record it,
//! so the next run completes the lake with every row exactly once. A `kill -9` during
//! `ingest`, then a rerun: every row exactly once.
//!
//! Needs `python3`; moto is started by the tests (and installed into `target/` when missing).

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::moto::Moto;
use common::proxy::Proxy;
use common::{ok, stderr, stdout};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

const BUCKET: &str = "fault-logs";

/// Generated gzip access-log objects in `dir/logs`, uploaded under `logs/`; their names.
fn upload(moto: &Moto, dir: &Path, objects: u32, size: &str) -> Vec<String> {
    let local = dir.join("logs");
    ok(common::s3trawl(&[
        "generate",
        "access-logs",
        "--out",
        local.to_str().unwrap(),
        "--size",
        size,
        "--objects",
        &objects.to_string(),
        "--gzip",
    ]));
    moto.create_bucket(BUCKET);
    let store = moto.store(BUCKET);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&local)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        let data = std::fs::read(local.join(name)).unwrap();
        runtime
            .block_on(store.put(
                &ObjectPath::from(format!("logs/{name}")),
                PutPayload::from(data),
            ))
            .unwrap();
    }
    assert_eq!(names.len(), objects as usize);
    names
}

fn run(moto: &Moto, proxy: &Proxy, dir: &Path, args: &[&str]) -> Output {
    moto.command(&proxy.endpoint, dir, args)
        .env("S3TRAWL_S3_RETRIES", "3")
        .env("S3TRAWL_S3_TIMEOUT", "1")
        .env("S3TRAWL_S3_BACKOFF_MS", "20")
        .output()
        .unwrap()
}

fn count(dir: &Path, args: &[&str], sql: &str) -> u64 {
    let mut all = vec!["sql", "--format", "csv"];
    all.extend_from_slice(args);
    all.push(sql);
    let out = ok(common::s3trawl_in(dir, &all));
    out.lines().nth(1).unwrap().trim().parse().unwrap()
}

/// Rows per object in the local copy.
fn rows_of(dir: &Path, name: &str) -> u64 {
    count(
        dir,
        &["--logs", "logs"],
        &format!("SELECT count(*) FROM access_logs WHERE log_object LIKE '%{name}'"),
    )
}

#[test]
fn faults_are_retried_then_named_and_the_next_run_completes_the_lake() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto.endpoint);
    let d = tempfile::tempdir().unwrap();
    let names = upload(&moto, d.path(), 8, "4MB");
    let total = count(
        d.path(),
        &["--logs", "logs"],
        "SELECT count(*) FROM access_logs",
    );
    let lost = rows_of(d.path(), &names[5]);
    assert!(total > 0 && lost > 0);
    let faults = serde_json::json!([
        {"path": names[0], "method": "GET", "fault": "slowdown", "times": 2},
        {"path": names[1], "method": "GET", "fault": "reset", "times": 1},
        {"path": names[2], "method": "GET", "fault": "truncate", "times": 2},
        {"path": names[3], "method": "GET", "fault": "stall", "seconds": 3, "times": 1},
        {"path": names[4], "method": "GET", "fault": "error", "times": 2},
        {"path": names[5], "method": "GET", "fault": "error"},
    ]);
    let s3 = format!("s3://{BUCKET}/logs/");

    // A query: every object but the one that keeps failing, which is named; exit 2.
    proxy.faults(faults.clone());
    let o = run(
        &moto,
        &proxy,
        d.path(),
        &[
            "sql",
            "--logs",
            &s3,
            "--format",
            "csv",
            "SELECT count(*) FROM access_logs",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().nth(1),
        Some((total - lost).to_string().as_str())
    );
    let err = stderr(&o);
    assert!(
        err.contains("1 object could not be read") && err.contains(&names[5]),
        "{err}"
    );
    for name in &names[..5] {
        assert!(!err.contains(name.as_str()), "{name} was retried: {err}");
    }
    let requests = proxy.requests();
    for (fault, times) in [("slowdown", 2), ("reset", 1), ("truncate", 2), ("stall", 1)] {
        assert_eq!(
            requests.matches(&format!("-> {fault}")).count(),
            times,
            "{requests}"
        );
    }

    // Ingest: the same, and the failed object is not recorded as ingested.
    proxy.faults(faults);
    let lake = d.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    let o = run(
        &moto,
        &proxy,
        d.path(),
        &["ingest", "--quiet", &s3, "--lake", lake_arg],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("ingested 7 objects"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains(&names[5]) && stderr(&o).contains("the next run tries again"),
        "{}",
        stderr(&o)
    );
    let in_lake = |sql: &str| count(d.path(), &["--lake", lake_arg], sql);
    assert_eq!(in_lake("SELECT count(*) FROM access_logs"), total - lost);
    assert_eq!(in_lake("SELECT count(*) FROM rejects"), 0);

    // The next run, with the server healthy, reads just that object: every row once.
    proxy.faults(serde_json::json!([]));
    let o = run(
        &moto,
        &proxy,
        d.path(),
        &["ingest", "--quiet", &s3, "--lake", lake_arg],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        // Listing starts from the object that failed (less the delivery slack), so only
        // the objects named from there on are listed again.
        stdout(&o).starts_with("ingested 1 object ") && stdout(&o).contains(" already in the lake"),
        "{}",
        stdout(&o)
    );
    assert_eq!(in_lake("SELECT count(*) FROM access_logs"), total);
    assert_eq!(
        in_lake("SELECT count(*) FROM (SELECT DISTINCT log_object, log_line FROM access_logs)"),
        total
    );
}

#[test]
fn a_killed_ingest_and_a_rerun_keep_every_row_exactly_once() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto.endpoint);
    let d = tempfile::tempdir().unwrap();
    upload(&moto, d.path(), 40, "8MB");
    let total = count(
        d.path(),
        &["--logs", "logs"],
        "SELECT count(*) FROM access_logs",
    );
    let s3 = format!("s3://{BUCKET}/logs/");
    let lake = d.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    // A slow server: the run takes seconds, and is killed in the middle.
    proxy.faults(
        serde_json::json!([{"method": "GET", "path": "/logs/", "fault": "delay", "seconds": 0.3}]),
    );
    let mut child = moto
        .command(
            &proxy.endpoint,
            d.path(),
            &["ingest", "--quiet", &s3, "--lake", lake_arg],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while proxy.requests().matches("-> delay").count() < 8 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{}",
            proxy.requests()
        );
        assert!(child.try_wait().unwrap().is_none(), "ingest ended too soon");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    proxy.faults(serde_json::json!([]));
    let o = run(
        &moto,
        &proxy,
        d.path(),
        &["ingest", "--quiet", &s3, "--lake", lake_arg],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !stdout(&o).starts_with("ingested 0 objects"),
        "the killed run had not committed everything: {}",
        stdout(&o)
    );
    let in_lake = |sql: &str| count(d.path(), &["--lake", lake_arg], sql);
    assert_eq!(in_lake("SELECT count(*) FROM access_logs"), total);
    assert_eq!(
        in_lake("SELECT count(*) FROM (SELECT DISTINCT log_object, log_line FROM access_logs)"),
        total
    );
    // And once more: nothing new.
    let o = run(
        &moto,
        &proxy,
        d.path(),
        &["ingest", "--quiet", &s3, "--lake", lake_arg],
    );
    assert!(
        stdout(&o).starts_with("ingested 0 objects"),
        "{}",
        stdout(&o)
    );
}
