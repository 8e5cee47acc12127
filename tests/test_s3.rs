//! `s3://` locations against an S3-compatible server (moto's, started by the test on
//! 127.0.0.1 and stopped when the test ends): listing, reading plain, gzipped and damaged
//! objects, globs, both tables, `rejects`, `ingest` and `detect` give what the same objects
//! give from a local folder, with `s3://` names; a missing bucket is an error that names it.
//!
//! Starts moto (`tests/common/moto.rs` installs it into `target/` when it is missing).

mod common;

use std::path::{Path, PathBuf};

use common::moto::Moto;
use common::{corpora, gzip, log_files_under, ok, stderr, stdout};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

const BUCKET: &str = "trawl-logs";

/// The objects of the test, by key under `logs/`: every access-log and CloudTrail log file of
/// the shared corpora, plain and gzipped, a gzip object cut in half, a binary object, and keys
/// with a space and a Hive-style `date=` folder.
fn objects() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let name = |p: &PathBuf| {
        let dir = p.parent().unwrap().file_name().unwrap().to_string_lossy();
        format!("{dir}-{}", p.file_name().unwrap().to_string_lossy())
    };
    let access = log_files_under(&corpora().join("access-logs"));
    assert!(access.len() >= 5, "the access-log corpus is there");
    for path in &access {
        let data = std::fs::read(path).unwrap();
        out.push((format!("access/{}", name(path)), data.clone()));
        out.push((format!("access-gz/{}.gz", name(path)), gzip(&data)));
    }
    let big = std::fs::read(&access[0]).unwrap().repeat(40);
    let cut = gzip(&big);
    out.push((
        "access-gz/damaged.log.gz".into(),
        cut[..cut.len() / 2].to_vec(),
    ));
    out.push((
        "access/binary.bin".into(),
        vec![0, 159, 146, 150, 255, 0, 7],
    ));
    out.push((
        "access/date=2026-11-01/with space.log".into(),
        std::fs::read(&access[1]).unwrap(),
    ));
    let mut trail = log_files_under(&corpora().join("cloudtrail"));
    for entry in std::fs::read_dir(corpora().join("cloudtrail/opentelemetry")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            trail.push(path);
        }
    }
    assert!(trail.len() >= 5, "the CloudTrail corpus is there");
    for path in &trail {
        let data = std::fs::read(path).unwrap();
        out.push((format!("cloudtrail/{}", name(path)), data.clone()));
        out.push((format!("cloudtrail-gz/{}.json.gz", name(path)), gzip(&data)));
    }
    out
}

/// The same objects in a local folder and under `s3://BUCKET/logs/`, plus one object outside
/// the prefix.
fn setup(moto: &Moto, local: &Path) {
    moto.create_bucket(BUCKET);
    let store = moto.store(BUCKET);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for (key, data) in objects() {
            let file = local.join("logs").join(&key);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &data).unwrap();
            store
                .put(
                    &ObjectPath::from(format!("logs/{key}")),
                    PutPayload::from(data),
                )
                .await
                .expect("upload to moto");
        }
        let outside = std::fs::read(&log_files_under(&corpora().join("access-logs"))[0]).unwrap();
        store
            .put(&ObjectPath::from("other/outside.log"), outside.into())
            .await
            .unwrap();
    });
}

/// The lines of a CSV answer, with local object names written as their `s3://` names, sorted.
fn normalized(csv: &str, local: &Path) -> Vec<String> {
    let local_prefix = format!("{}/", local.join("logs").display());
    let mut lines: Vec<String> = csv
        .lines()
        .map(|l| l.replace(&local_prefix, &format!("s3://{BUCKET}/logs/")))
        .collect();
    lines.sort();
    lines
}

#[test]
fn s3_locations_read_like_local_folders() {
    need_corpora!();
    let moto = Moto::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(&moto, dir);
    let s3 = format!("s3://{BUCKET}/logs/");
    let local = dir.join("logs");
    let local = local.to_str().unwrap();

    let queries = [
        "SELECT log_object, count(*) AS n, count(distinct requestid) AS ids, sum(bytessent) AS bytes FROM access_logs GROUP BY 1",
        "SELECT log_object, log_line, byte_offset, log_kind, reason FROM rejects",
        "SELECT log_object, eventname, count(*) AS n, count(useridentity.arn) AS arns FROM cloudtrail GROUP BY 1, 2",
    ];
    for q in queries {
        let from_s3 = ok(moto.s3trawl(
            dir,
            &["sql", "--quiet", "--logs", &s3, "--format", "csv", q],
        ));
        let from_disk = ok(moto.s3trawl(
            dir,
            &["sql", "--quiet", "--logs", local, "--format", "csv", q],
        ));
        let (from_s3, from_disk) = (normalized(&from_s3, dir), normalized(&from_disk, dir));
        assert!(from_s3.len() > 4, "{q}: {from_s3:?}");
        assert_eq!(from_s3, from_disk, "{q}");
        assert!(from_s3.iter().all(|l| !l.contains("outside.log")), "{q}");
    }

    // Names, damage and the odd key, from the rejects and row counts read over S3.
    let rejects = ok(moto.s3trawl(
        dir,
        &["sql", "--quiet", "--logs", &s3, "--format", "csv",
          "SELECT log_object, log_line, reason FROM rejects WHERE log_object LIKE '%damaged%' OR log_object LIKE '%binary%' ORDER BY 1"],
    ));
    assert!(
        rejects.contains(&format!("s3://{BUCKET}/logs/access-gz/damaged.log.gz,")),
        "{rejects}"
    );
    assert!(
        rejects.contains(&format!(
            "s3://{BUCKET}/logs/access/binary.bin,0,not a log object"
        )),
        "{rejects}"
    );
    let damaged_rows = ok(moto.s3trawl(
        dir,
        &[
            "sql",
            "--quiet",
            "--logs",
            &s3,
            "--format",
            "csv",
            "SELECT count(*) FROM access_logs WHERE log_object LIKE '%damaged%'",
        ],
    ));
    let damaged_rows: u64 = damaged_rows.lines().nth(1).unwrap().parse().unwrap();
    assert!(damaged_rows > 0, "the lines before the damage are kept");
    let odd = ok(moto.s3trawl(
        dir,
        &[
            "sql",
            "--quiet",
            "--logs",
            &format!("s3://{BUCKET}/logs/access/date=2026-11-01/"),
            "--format",
            "csv",
            "SELECT DISTINCT log_object FROM access_logs",
        ],
    ));
    assert_eq!(
        odd.lines().nth(1),
        Some(format!("s3://{BUCKET}/logs/access/date=2026-11-01/with space.log").as_str())
    );

    // A glob reads only the objects it matches.
    let globbed = ok(moto.s3trawl(
        dir,
        &["sql", "--quiet", "--logs", &format!("s3://{BUCKET}/logs/access-gz/*.log.gz"),
          "--format", "csv", "SELECT DISTINCT log_object FROM access_logs UNION SELECT DISTINCT log_object FROM rejects"],
    ));
    let names: Vec<&str> = globbed.lines().skip(1).collect();
    assert!(names.len() >= 5, "{globbed}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with(&format!("s3://{BUCKET}/logs/access-gz/"))
                && n.ends_with(".log.gz")),
        "{globbed}"
    );

    // ingest from S3 into a local lake: the lake answers like the logs; a second run adds nothing.
    let lake = dir.join("lake");
    let lake = lake.to_str().unwrap();
    let first = moto.s3trawl(dir, &["ingest", "--quiet", &s3, "--lake", lake]);
    assert!(first.status.success(), "{}", stderr(&first));
    let count = |args: &[&str], q: &str| {
        let mut all = vec!["sql", "--quiet"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--format", "csv", q]);
        let out = ok(moto.s3trawl(dir, &all));
        out.lines().nth(1).unwrap().parse::<u64>().unwrap()
    };
    // Every object is there plain and gzipped: the lake keeps each access-log record once
    // (a record delivered twice is not added again), and every CloudTrail record and reject.
    for (table, logs_query) in [
        (
            "access_logs",
            "SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (log_object, log_line) FROM access_logs)",
        ),
        ("cloudtrail", "SELECT count(*) FROM cloudtrail"),
        ("rejects", "SELECT count(*) FROM rejects"),
    ] {
        let logs = count(&["--logs", &s3], logs_query);
        assert!(logs > 0, "{table}");
        let lake_query = format!("SELECT count(*) FROM {table}");
        assert_eq!(count(&["--lake", lake], &lake_query), logs, "{table}");
    }
    assert!(
        stderr(&first)
            .contains("records already in the lake (delivered twice) were not added again"),
        "{}",
        stderr(&first)
    );
    let again = moto.s3trawl(dir, &["ingest", &s3, "--lake", lake]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).starts_with("ingested 0 objects"),
        "{}",
        stdout(&again)
    );

    // detect over S3 finds what it finds over the same objects on disk.
    let findings = |location: &str| {
        let out = moto.s3trawl(dir, &["detect", "--logs", location, "--format", "csv"]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        let mut ids: Vec<String> = stdout(&out)
            .lines()
            .skip(1)
            .map(|l| l.split(',').take(2).collect::<Vec<_>>().join(","))
            .collect();
        ids.sort();
        ids
    };
    let over_s3 = findings(&s3);
    assert!(!over_s3.is_empty(), "the corpora trigger detections");
    assert_eq!(over_s3, findings(local));
}

#[test]
fn a_missing_bucket_or_server_is_an_error_that_names_it() {
    let moto = Moto::start();
    let tmp = tempfile::tempdir().unwrap();
    let out = moto.s3trawl(
        tmp.path(),
        &[
            "sql",
            "--logs",
            "s3://no-such-bucket-here/logs/",
            "SELECT count(*) FROM access_logs",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no-such-bucket-here"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("NoSuchBucket"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}
