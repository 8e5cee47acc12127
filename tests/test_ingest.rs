//! `s3trawl ingest` and `s3trawl sql --lake`: idempotent, atomic, and answering like the raw
//! logs; `s3trawl schema`.

mod common;

use std::path::Path;

use common::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn csv_in(dir: &Path, args: &[&str], q: &str) -> String {
    let mut all: Vec<&str> = vec!["sql"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "csv", q]);
    ok(s3trawl_in(dir, &all))
}

const QUERIES: &[&str] = &[
    "SELECT * FROM cloudtrail ORDER BY log_object, log_line",
    "SELECT * FROM access_logs ORDER BY log_object, log_line",
    "SELECT operation, count(*) AS n, sum(bytessent) AS sent FROM access_logs GROUP BY 1 ORDER BY 1",
    "SELECT timestamp, min(requestdatetime) AS first FROM access_logs GROUP BY 1 ORDER BY 1",
    "SELECT * FROM rejects ORDER BY log_object, log_line",
    "SELECT count(*) AS n FROM access_logs WHERE requester IS NULL",
];

#[test]
fn ingest_twice_adds_nothing_and_the_lake_answers_like_the_logs() {
    need_corpora!();
    let work = tempfile::tempdir().unwrap();
    copy_dir(&project().join("sample-logs"), &work.path().join("logs"));
    let dir = work.path();
    let first = ok(s3trawl_in(dir, &["ingest", "logs", "--lake", "lake"]));
    assert!(
        first.starts_with("ingested 5 objects (28 rows, 1 reject)"),
        "{first}"
    );
    let files = files_under(&dir.join("lake/access_logs"));
    assert_eq!(files.len(), 2, "one file per day: {files:?}");
    assert!(
        files.iter().any(|f| f.contains("/date=2026-11-19/"))
            && files.iter().any(|f| f.contains("/date=2026-11-20/"))
    );
    assert_eq!(
        files_under(&dir.join("lake/_staging")),
        Vec::<String>::new()
    );

    let second = ok(s3trawl_in(dir, &["ingest", "logs", "--lake", "lake"]));
    assert!(second.starts_with("ingested 0 objects"), "{second}");
    assert!(second.contains("5 already in the lake"), "{second}");
    assert_eq!(files_under(&dir.join("lake/access_logs")), files);

    for q in QUERIES {
        let raw = csv_in(dir, &["--logs", "logs"], q);
        let lake = csv_in(dir, &["--lake", "lake"], q);
        assert_eq!(lake, raw, "{q}");
        // Raw logs and the lake together: objects the lake holds are not counted twice.
        let both = csv_in(dir, &["--logs", "logs", "--lake", "lake"], q);
        assert_eq!(both, raw, "{q}");
    }
    assert_eq!(
        csv_in(
            dir,
            &["--lake", "lake"],
            "SELECT count(*) AS n FROM access_logs"
        ),
        "n\n22\n"
    );

    // A new object is ingested alone.
    std::fs::write(dir.join("logs/new-object"), doc_line() + "\n").unwrap();
    let third = ok(s3trawl_in(dir, &["ingest", "logs", "--lake", "lake"]));
    assert!(
        third.starts_with("ingested 1 object (1 row, 0 rejects)"),
        "{third}"
    );
    assert_eq!(
        csv_in(
            dir,
            &["--lake", "lake"],
            "SELECT count(*) AS n FROM access_logs"
        ),
        "n\n23\n"
    );
    let both = csv_in(
        dir,
        &["--logs", "logs", "--lake", "lake"],
        "SELECT count(*) AS n FROM access_logs",
    );
    assert_eq!(both, "n\n23\n");
}

#[test]
fn interrupted_runs_are_rolled_back_or_forward() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    copy_dir(&project().join("sample-logs"), &dir.join("logs"));
    ok(s3trawl_in(dir, &["ingest", "logs", "--lake", "lake"]));
    let lake = dir.join("lake");

    // A run that crashed before its commit left a half-written file in staging: it is removed
    // and never read.
    let orphan = lake.join("_staging/20990101T000000.000Z-deadbeef/access_logs/date=2026-11-20");
    std::fs::create_dir_all(&orphan).unwrap();
    std::fs::write(orphan.join("part-x.parquet"), b"PAR1 half written").unwrap();
    assert_eq!(
        csv_in(
            dir,
            &["--lake", "lake"],
            "SELECT count(*) AS n FROM access_logs"
        ),
        "n\n22\n"
    );

    // A run that crashed after its commit but before moving a file into place.
    let placed = files_under(&lake.join("access_logs"));
    let moved = &placed[0];
    let manifest = files_under(&lake.join("_manifest"))
        .into_iter()
        .find(|f| f.ends_with(".json"))
        .unwrap();
    let run = Path::new(&manifest)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let relative = moved.strip_prefix(&format!("{}/", lake.display())).unwrap();
    let staged = lake.join("_staging").join(&run).join(relative);
    std::fs::create_dir_all(staged.parent().unwrap()).unwrap();
    std::fs::rename(moved, &staged).unwrap();

    let out = ok(s3trawl_in(dir, &["ingest", "logs", "--lake", "lake"]));
    assert!(out.starts_with("ingested 0 objects"), "{out}");
    assert_eq!(
        files_under(&lake.join("access_logs")),
        placed,
        "rolled forward"
    );
    assert_eq!(
        files_under(&lake.join("_staging")),
        Vec::<String>::new(),
        "staging cleaned"
    );
    assert_eq!(
        csv_in(
            dir,
            &["--lake", "lake"],
            "SELECT count(*) AS n FROM access_logs"
        ),
        "n\n22\n"
    );
}

#[test]
fn sql_lake_on_a_folder_that_is_not_a_lake_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = s3trawl(&["sql", "--lake", dir.path().to_str().unwrap(), "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a lake"), "{}", stderr(&o));
}

#[test]
fn schema_and_athena_ddl() {
    let listing = ok(s3trawl(&["schema", "access_logs"]));
    let names: Vec<&str> = listing
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names.len(), 31);
    assert_eq!(
        &names[..3],
        &["bucketowner", "bucket_name", "requestdatetime"]
    );
    assert!(
        listing.contains("httpstatus")
            && listing
                .lines()
                .any(|l| l.starts_with("httpstatus") && l.contains(" int "))
    );

    let ddl = ok(s3trawl(&[
        "schema",
        "access_logs",
        "--athena",
        "--location",
        "s3://my-bucket/lake",
    ]));
    assert!(
        ddl.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS access_logs ("),
        "{ddl}"
    );
    for column in [
        "`bucketowner` string",
        "`requestdatetime` timestamp",
        "`httpstatus` int",
        "`bytessent` bigint",
        "`aclrequired` string",
        "`source_region` string",
        "`log_line` bigint",
    ] {
        assert!(ddl.contains(column), "{column} in {ddl}");
    }
    assert!(
        !ddl.contains("`timestamp`"),
        "computed columns are not stored"
    );
    assert!(ddl.contains("PARTITIONED BY (`date` string)"));
    assert!(ddl.contains("LOCATION 's3://my-bucket/lake/access_logs/'"));
    assert!(
        ddl.contains("'storage.location.template'='s3://my-bucket/lake/access_logs/date=${date}/'")
    );
    // The DDL's columns are exactly the lake files' columns, in order.
    let stored: Vec<String> = s3trawl::format::access_log::schema::stored_schema()
        .fields()
        .iter()
        .map(|f| format!("`{}`", f.name()))
        .collect();
    let in_ddl: Vec<String> = ddl
        .lines()
        .filter(|l| l.starts_with("  `"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(in_ddl, stored);

    let rejects = ok(s3trawl(&["schema", "rejects", "--athena"]));
    assert!(rejects.contains("`raw_line` string") && !rejects.contains("PARTITIONED"));
}

/// `ingest --logs PATH…` as every other command takes its logs; positional paths still work
/// and give the same lake.
#[test]
fn ingest_takes_logs_like_every_other_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&project().join("sample-logs"), &dir.join("logs"));
    ok(s3trawl_in(
        dir,
        &["ingest", "--logs", "logs", "--lake", "flag"],
    ));
    ok(s3trawl_in(dir, &["ingest", "logs", "--lake", "positional"]));
    let q = "SELECT count(*) AS n FROM access_logs";
    let flag = csv_in(dir, &["--lake", "flag"], q);
    assert_eq!(flag, csv_in(dir, &["--lake", "positional"], q));
    assert_ne!(flag.lines().nth(1), Some("0"), "{flag}");
    let o = s3trawl_in(dir, &["ingest", "--lake", "none"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
