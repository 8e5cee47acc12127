//! `s3trawl sql` end to end: output formats, the rejects summary, exit codes, and AWS's
//! documented access-log queries running with only the table name changed.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::*;

const COUNT_BY_OPERATION: &str = "SELECT operation, count(*) AS requests FROM access_logs GROUP BY operation ORDER BY requests DESC, operation";

#[test]
fn table_output() {
    let out = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        COUNT_BY_OPERATION,
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[1].split('|').map(str::trim).collect::<Vec<_>>(),
        vec!["", "operation", "requests", ""]
    );
    assert_eq!(
        lines[3].split('|').map(str::trim).collect::<Vec<_>>(),
        vec!["", "REST.GET.OBJECT", "7", ""]
    );
    assert_eq!(lines.len(), 4 + 11, "{out}");
}

#[test]
fn csv_json_ndjson_output() {
    let q = "SELECT log_line, operation, httpstatus, requester FROM access_logs WHERE log_object LIKE '%7A1B2C3D4E5F6A7B' AND log_line <= 3 ORDER BY log_line";
    let csv = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "--format",
        "csv",
        q,
    ]));
    assert_eq!(
        csv,
        "log_line,operation,httpstatus,requester\n1,REST.PUT.OBJECT,200,arn:aws:iam::111122223333:user/alice\n2,REST.GET.OBJECT,200,arn:aws:iam::111122223333:user/alice\n3,REST.GET.OBJECT,200,\n"
    );
    let json = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "--format",
        "json",
        q,
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(
        v[2]["requester"],
        serde_json::Value::Null,
        "nulls are explicit"
    );
    assert_eq!(v[0]["httpstatus"], serde_json::json!(200));
    let nd = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "--format",
        "ndjson",
        q,
    ]));
    let rows: Vec<serde_json::Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["operation"], serde_json::json!("REST.GET.OBJECT"));
    // An empty result is still valid output.
    let empty = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "--format",
        "json",
        "SELECT * FROM access_logs WHERE false",
    ]));
    assert_eq!(empty.trim(), "[]");
    let empty = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "--format",
        "csv",
        "SELECT operation FROM access_logs WHERE false",
    ]));
    assert_eq!(empty, "operation\n");
}

#[test]
fn output_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let out = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "--format",
        "csv",
        "-o",
        path.to_str().unwrap(),
        "SELECT count(*) AS n FROM access_logs",
    ]));
    assert_eq!(out, "");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "n\n22\n");
}

#[test]
fn rejects_summary_on_stderr_and_rejects_table() {
    let o = s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "SELECT count(*) FROM access_logs",
    ]);
    let err = stderr(&o);
    assert!(o.status.success());
    assert!(err.contains("1 reject in 1 object"), "{err}");
    assert!(
        err.contains("2026-11-20-11-15-07-0C9D8E7F6A5B4C3D:4 (byte 1097): truncated record"),
        "{err}"
    );
    let csv = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "--format",
        "csv",
        "SELECT log_line, byte_offset, log_kind FROM rejects",
    ]));
    assert_eq!(csv, "log_line,byte_offset,log_kind\n4,1097,access_log\n");
    // rows + rejects = non-blank lines, over the whole sample.
    let csv = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "--format",
        "csv",
        "SELECT (SELECT count(*) FROM access_logs) + (SELECT count(*) FROM rejects) AS n",
    ]));
    assert_eq!(csv, "n\n23\n");
}

#[test]
fn globs_files_and_several_paths() {
    let one = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs/archive/2026-11-19.log.gz",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM access_logs",
    ]));
    assert_eq!(one, "n\n4\n");
    let glob = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs/access/2026-11-20-1*",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM access_logs",
    ]));
    assert_eq!(glob, "n\n18\n");
    let two = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs/access",
        "sample-logs/archive",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM access_logs",
    ]));
    assert_eq!(two, "n\n22\n");
    // Overlapping paths read each object once.
    let overlap = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "sample-logs/archive",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM access_logs",
    ]));
    assert_eq!(overlap, "n\n22\n");
}

#[test]
fn errors_exit_2_with_one_clear_line() {
    let o = s3trawl(&["sql", "--logs", "no/such/folder", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        "s3trawl: no such file or folder: no/such/folder"
    );
    let o = s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "SELECT nope FROM access_logs",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    let o = s3trawl(&["sql", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn broken_pipe_is_success() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_s3trawl"))
        .args([
            "sql",
            "--logs",
            "sample-logs",
            "--format",
            "ndjson",
            "SELECT * FROM access_logs CROSS JOIN (SELECT * FROM unnest(range(1, 2000)))",
        ])
        .current_dir(project())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    let (status, err) = close_stdout_and_wait(child);
    assert!(status.success(), "{status:?} {err}");
    assert!(!err.contains("Broken pipe"), "{err}");
}

/// Closes the reading end of the child's stdout, waits, and returns its status and stderr.
fn close_stdout_and_wait(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status, err)
}

/// A fixture for AWS's documented queries: one line per situation they look for.
fn aws_fixture() -> tempfile::TempDir {
    let base = doc_line();
    let dir = tempfile::tempdir().unwrap();
    let mk = |time: &str,
              ip: &str,
              requester: &str,
              op: &str,
              key: &str,
              status: &str,
              err: &str,
              sent: &str,
              size: &str| {
        base.replace("[06/Feb/2019:00:00:38 +0000]", &format!("[{time} +0000]"))
            .replace(
                "192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
                &format!("{ip} {requester}"),
            )
            .replace("REST.GET.VERSIONING -", &format!("{op} {key}"))
            .replace("200 - 113 - 7", &format!("{status} {err} {sent} {size} 7"))
    };
    let lines = [
        mk(
            "18/Feb/2017:07:30:00",
            "192.0.2.1",
            "arn:aws:iam::123456789123:user/user_name",
            "REST.DELETE.OBJECT",
            "images/picture.jpg",
            "204",
            "-",
            "-",
            "-",
        ),
        mk(
            "18/Feb/2017:07:40:00",
            "192.0.2.1",
            "arn:aws:iam::123456789123:user/user_name",
            "REST.GET.OBJECT",
            "prefix/images/picture.jpg",
            "200",
            "-",
            "1000",
            "1000",
        ),
        mk(
            "18/Feb/2017:09:40:00",
            "192.0.2.1",
            "arn:aws:iam::123456789123:user/other",
            "REST.GET.OBJECT",
            "prefix/images/picture.jpg",
            "200",
            "-",
            "1000",
            "1000",
        ),
        mk(
            "15/Jun/2022:10:00:00",
            "192.0.2.1",
            "arn:aws:iam::123456789123:user/other",
            "REST.GET.OBJECT",
            "a",
            "200",
            "-",
            "500",
            "500",
        ),
        mk(
            "15/Jul/2022:10:00:00",
            "192.0.2.1",
            "arn:aws:iam::123456789123:user/other",
            "REST.GET.OBJECT",
            "a",
            "200",
            "-",
            "70",
            "70",
        ),
        mk(
            "29/Jan/2024:12:00:00",
            "198.51.100.7",
            "-",
            "REST.GET.OBJECT",
            "b",
            "503",
            "SlowDown",
            "300",
            "-",
        ),
        mk(
            "01/Jul/2019:12:00:00",
            "198.51.100.7",
            "-",
            "REST.PUT.OBJECT",
            "c",
            "200",
            "-",
            "-",
            "42",
        ),
        mk(
            "01/Jul/2019:13:00:00",
            "198.51.100.8",
            "arn:aws:iam::123456789123:user/user_name",
            "REST.GET.OBJECT",
            "d",
            "200",
            "-",
            "42",
            "42",
        ),
        mk(
            "01/Jun/2022:00:00:00",
            "203.0.113.5",
            "arn:aws:iam::123456789123:user/acl",
            "REST.GET.OBJECT",
            "e",
            "200",
            "-",
            "1",
            "1",
        ),
    ];
    std::fs::write(dir.path().join("log"), lines.join("\n") + "\n").unwrap();
    dir
}

fn csv(dir: &tempfile::TempDir, q: &str) -> String {
    ok(s3trawl(&[
        "sql",
        "--logs",
        dir.path().to_str().unwrap(),
        "--format",
        "csv",
        q,
    ]))
}

#[test]
fn aws_documented_access_log_queries_run_unchanged() {
    need_corpora!();
    let d = aws_fixture();
    // S3 User Guide, "Using Amazon S3 server access logs to identify requests".
    assert_eq!(
        csv(
            &d,
            "SELECT requestdatetime, remoteip, requester, key \nFROM access_logs \nWHERE key = 'images/picture.jpg' \n    AND operation like '%DELETE%';"
        ),
        "requestdatetime,remoteip,requester,key\n2017-02-18T07:30:00Z,192.0.2.1,arn:aws:iam::123456789123:user/user_name,images/picture.jpg\n"
    );
    let all = csv(
        &d,
        "SELECT * \nFROM access_logs \nWHERE requester='arn:aws:iam::123456789123:user/user_name';",
    );
    assert_eq!(all.lines().count(), 1 + 3);
    let period = csv(
        &d,
        "SELECT *\nFROM access_logs\nWHERE Key='prefix/images/picture.jpg' \n    AND parse_datetime(RequestDateTime,'dd/MMM/yyyy:HH:mm:ss Z')\n    BETWEEN parse_datetime('2017-02-18:07:00:00','yyyy-MM-dd:HH:mm:ss')\n    AND parse_datetime('2017-02-18:08:00:00','yyyy-MM-dd:HH:mm:ss');",
    );
    assert_eq!(period.lines().count(), 2, "{period}");
    assert_eq!(
        csv(
            &d,
            "SELECT coalesce(SUM(bytessent), 0) AS bytessenttotal\nFROM access_logs\nWHERE remoteip='192.0.2.1'\nAND parse_datetime(requestdatetime,'dd/MMM/yyyy:HH:mm:ss Z')\nBETWEEN parse_datetime('2022-06-01','yyyy-MM-dd')\nAND parse_datetime('2022-07-01','yyyy-MM-dd');"
        ),
        "bytessenttotal\n500\n"
    );
    assert_eq!(
        csv(
            &d,
            "SELECT SUM(bytessent) AS uploadTotal,\n      SUM(objectsize) AS downloadTotal,\n      SUM(bytessent + objectsize) AS Total\nFROM access_logs\nWHERE RemoteIP='192.0.2.1'\nAND parse_datetime(RequestDateTime,'dd/MMM/yyyy:HH:mm:ss Z')\nBETWEEN parse_datetime('2022-06-01','yyyy-MM-dd')\nAND parse_datetime('2022-07-01','yyyy-MM-dd');"
        ),
        "uploadtotal,downloadtotal,total\n500,500,1000\n"
    );
    assert_eq!(
        csv(
            &d,
            "SELECT requestdatetime, key, httpstatus, errorcode, requestid, hostid \nFROM access_logs\nWHERE httpstatus like '5%' AND timestamp\nBETWEEN '2024/01/29'\nAND '2024/01/30'"
        ),
        "requestdatetime,key,httpstatus,errorcode,requestid,hostid\n2024-01-29T12:00:00Z,b,503,SlowDown,3E57427F3EXAMPLE,s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=\n"
    );
    let sigv = csv(
        &d,
        "SELECT requester, Sigv, Count(Sigv) as SigCount \nFROM access_logs\nGROUP BY requester, Sigv;",
    );
    assert!(
        sigv.contains("arn:aws:iam::123456789123:user/user_name,SigV4,3"),
        "{sigv}"
    );
    for (op, expect) in [("REST.PUT.OBJECT", 1), ("REST.GET.OBJECT", 1)] {
        let q = format!(
            "SELECT bucket_name, requester, remoteip, key, httpstatus, errorcode, requestdatetime\nFROM access_logs\nWHERE operation='{op}' AND\nparse_datetime(requestdatetime,'dd/MMM/yyyy:HH:mm:ss Z') \nBETWEEN parse_datetime('2019-07-01:00:42:42','yyyy-MM-dd:HH:mm:ss')\nAND \nparse_datetime('2019-07-02:00:42:42','yyyy-MM-dd:HH:mm:ss')"
        );
        assert_eq!(csv(&d, &q).lines().count(), 1 + expect, "{op}");
    }
    let anonymous = csv(
        &d,
        "SELECT bucket_name, requester, remoteip, key, httpstatus, errorcode, requestdatetime\nFROM access_logs\nWHERE requester IS NULL AND\nparse_datetime(requestdatetime,'dd/MMM/yyyy:HH:mm:ss Z') \nBETWEEN parse_datetime('2019-07-01:00:42:42','yyyy-MM-dd:HH:mm:ss')\nAND \nparse_datetime('2019-07-02:00:42:42','yyyy-MM-dd:HH:mm:ss')",
    );
    assert_eq!(
        anonymous,
        "bucket_name,requester,remoteip,key,httpstatus,errorcode,requestdatetime\namzn-s3-demo-bucket1,,198.51.100.7,c,200,,2019-07-01T12:00:00Z\n"
    );
    // S3 User Guide, "Identifying requests that required an ACL".
    let acl = csv(
        &d,
        "SELECT bucket_name, requester, key, operation, aclrequired, requestdatetime\nFROM access_logs\nWHERE aclrequired = 'Yes' AND parse_datetime(requestdatetime,'dd/MMM/yyyy:HH:mm:ss Z')\nBETWEEN parse_datetime('2022-05-10:00:00:00','yyyy-MM-dd:HH:mm:ss')\nAND parse_datetime('2022-08-10:00:00:00','yyyy-MM-dd:HH:mm:ss')",
    );
    assert_eq!(acl.lines().count(), 1 + 3, "{acl}");
    let acl = csv(
        &d,
        "SELECT bucket_name, requester, key, operation, aclrequired, requestdatetime\nFROM access_logs\nWHERE aclrequired = 'Yes' AND timestamp\nBETWEEN '2022/05/10'\nAND '2022/08/10'",
    );
    assert_eq!(acl.lines().count(), 1 + 3, "{acl}");
}

#[test]
fn parse_datetime_takes_strings_and_timestamps_and_refuses_mismatches() {
    need_corpora!();
    let d = aws_fixture();
    assert_eq!(
        csv(
            &d,
            "SELECT parse_datetime('06/Feb/2019:00:00:38 +0200', 'dd/MMM/yyyy:HH:mm:ss Z') AS a, parse_datetime(min(requestdatetime), 'x') AS b FROM access_logs"
        ),
        "a,b\n2019-02-05T22:00:38Z,2017-02-18T07:30:00Z\n"
    );
    let o = s3trawl(&[
        "sql",
        "--logs",
        d.path().to_str().unwrap(),
        "SELECT parse_datetime('2019/02/06', 'yyyy-MM-dd')",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("does not match the pattern"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_command_that_prints_treats_a_closed_pipe_as_success() {
    // The reader is gone before the command writes: the write fails with a broken pipe, which
    // must end the command quietly with success, never a panic.
    for args in [
        &["detect", "--list"][..],
        &["schema", "access_logs"][..],
        &["schema", "cloudtrail", "--athena"][..],
    ] {
        let child = Command::new(env!("CARGO_BIN_EXE_s3trawl"))
            .args(args)
            .current_dir(project())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (status, err) = close_stdout_and_wait(child);
        assert!(status.success(), "{args:?}: {status:?} {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// Many small objects are read in bundles (several objects behind one file of the plan, their
/// batches joined): every row and every reject is the same as when each object is read alone,
/// with its own object name and line numbers, whatever kind or damage its neighbours have.
#[test]
fn small_objects_read_together_give_what_each_gives_alone() {
    need_corpora!();
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    for entry in log_files_under(&corpora().join("access-logs")) {
        let text = String::from_utf8_lossy(&std::fs::read(entry).unwrap()).into_owned();
        lines.extend(text.lines().map(str::to_string));
    }
    assert!(lines.len() > 25, "{}", lines.len());
    let twice = [lines.clone(), lines.clone()].concat();
    let mut objects = Vec::new();
    for (i, chunk) in twice.chunks(1).enumerate() {
        let mut body = chunk.join("\n") + "\n";
        if i % 7 == 3 {
            body.push_str("garbage that is no log line\n");
        }
        let (name, raw) = if i % 2 == 0 {
            (format!("obj-{i:03}.log"), body.into_bytes())
        } else {
            (format!("obj-{i:03}.gz"), gzip(body.as_bytes()))
        };
        std::fs::write(dir.path().join(&name), raw).unwrap();
        objects.push(name);
    }
    // Neighbours of another kind, empty, and damaged.
    let trail = log_files_under(&corpora().join("cloudtrail")).remove(0);
    std::fs::copy(trail, dir.path().join("obj-500-trail.json")).unwrap();
    std::fs::write(dir.path().join("obj-501-empty.log"), b"").unwrap();
    let damaged = gzip(lines[..5].join("\n").as_bytes());
    std::fs::write(
        dir.path().join("obj-502-cut.gz"),
        &damaged[..damaged.len() - 9],
    )
    .unwrap();
    objects.extend(["obj-500-trail.json", "obj-501-empty.log", "obj-502-cut.gz"].map(String::from));

    let q = "SELECT * FROM (\
        SELECT 'row' AS t, log_object, log_line, requestid AS what, operation, key, bytessent \
        FROM access_logs \
        UNION ALL SELECT 'reject', log_object, log_line, reason, log_kind, raw_line, byte_offset \
        FROM rejects) ORDER BY log_object, t, log_line";
    let folder = dir.path().to_str().unwrap();
    let together = ok(s3trawl(&["sql", "--logs", folder, "--format", "csv", q]));
    let mut alone = String::from("t,log_object,log_line,what,operation,key,bytessent\n");
    for name in &objects {
        let path = dir.path().join(name);
        let csv = ok(s3trawl(&[
            "sql",
            "--logs",
            path.to_str().unwrap(),
            "--format",
            "csv",
            q,
        ]));
        alone.extend(csv.lines().skip(1).map(|l| format!("{l}\n")));
    }
    assert_eq!(together, alone);
    assert!(objects.len() > 50);
    assert!(together.matches("\nreject,").count() >= 10, "{together}");
    assert!(together.matches("\nrow,").count() >= 40, "{together}");
}

/// Athena's habit (and Trino's and DuckDB's): NULLs last whether the order is ascending or
/// descending, so "top talkers" starts with talkers; NULLS FIRST still says otherwise.
#[test]
fn nulls_sort_last_in_both_directions_as_in_athena() {
    for (order, null_first) in [("DESC", false), ("ASC", false), ("DESC NULLS FIRST", true)] {
        let out = ok(s3trawl(&[
            "sql",
            "--logs",
            "sample-logs",
            "--format",
            "csv",
            &format!(
                "SELECT errorcode IS NULL AS missing FROM access_logs ORDER BY errorcode {order}"
            ),
        ]));
        let missing: Vec<bool> = out.lines().skip(1).map(|r| r == "true").collect();
        assert!(
            missing.contains(&true) && missing.contains(&false),
            "{order}: {out}"
        );
        assert_eq!(missing[0], null_first, "{order}: {out}");
        assert_eq!(missing[missing.len() - 1], !null_first, "{order}: {out}");
    }
}

/// `-o FILE` writes what its extension names; an explicit `--format` wins.
#[test]
fn dash_o_infers_the_format_from_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let q = "SELECT operation, count(*) AS n FROM access_logs GROUP BY operation ORDER BY n DESC, operation";
    let write = |name: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        let mut args = vec!["sql", "--logs", "sample-logs", "-o", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(q);
        ok(s3trawl(&args));
        std::fs::read(&path).unwrap()
    };
    let csv = String::from_utf8(write("out.csv", &[])).unwrap();
    assert!(csv.starts_with("operation,n\nREST.GET.OBJECT,7\n"), "{csv}");
    let json: serde_json::Value = serde_json::from_slice(&write("out.json", &[])).unwrap();
    assert_eq!(json[0]["operation"], "REST.GET.OBJECT");
    for name in ["out.ndjson", "out.jsonl"] {
        let text = String::from_utf8(write(name, &[])).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["n"], 7, "{name}");
    }
    let parquet = write("out.parquet", &[]);
    assert_eq!(&parquet[..4], b"PAR1");
    let reader = parquet::file::reader::SerializedFileReader::new(
        std::fs::File::open(dir.path().join("out.parquet")).unwrap(),
    )
    .unwrap();
    use parquet::file::reader::FileReader;
    assert_eq!(reader.metadata().file_metadata().num_rows(), 11);
    let table = String::from_utf8(write("explicit.csv", &["--format", "table"])).unwrap();
    assert!(table.starts_with("+--"), "{table}");
    let unknown = String::from_utf8(write("out.txt", &[])).unwrap();
    assert!(unknown.starts_with("+--"), "{unknown}");
    // Parquet is binary: not onto a terminal or a pipe.
    let o = s3trawl(&["sql", "--logs", "sample-logs", "--format", "parquet", q]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("-o FILE"), "{}", stderr(&o));
    // detect too.
    let findings = dir.path().join("findings.json");
    let o = s3trawl(&[
        "detect",
        "--logs",
        "sample-logs",
        "--fail-on",
        "critical",
        "-o",
        findings.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let f: serde_json::Value = serde_json::from_slice(&std::fs::read(&findings).unwrap()).unwrap();
    assert!(f.as_array().is_some_and(|a| !a.is_empty()), "{f}");
}
