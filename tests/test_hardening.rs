//! What faults and hostile text cannot do: cut and damaged deliveries keep their complete
//! records, a huge line is one reject in its true place, stderr and DDL stay inert, an error's
//! text cannot pass for a closed pipe, and user input cannot overflow or inject.

mod common;

use std::io::Write;
use std::path::Path;

use common::*;
use flate2::Compression;
use flate2::write::GzEncoder;

/// `n` distinct real CloudTrail records (the Panther rule tests' logs), compact JSON.
fn real_records(n: usize) -> Vec<String> {
    let text =
        std::fs::read_to_string(corpora().join("detections/panther/cloudtrail_rule_tests.jsonl"))
            .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let records: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|t| t.get("log").cloned())
        .filter(|r| {
            r.get("eventTime").is_some_and(|t| t.is_string())
                && r.get("eventVersion").is_some()
                && r.get("eventName").is_some()
        })
        .map(|r| r.to_string())
        .filter(|r| seen.insert(r.clone()))
        .take(n)
        .collect();
    assert_eq!(records.len(), n, "the corpus holds {n} usable records");
    records
}

/// A CloudTrail log file of these records, and where each record starts in it.
fn document(records: &[String]) -> (String, Vec<usize>) {
    let mut text = String::from("{\"Records\":[");
    let mut starts = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        starts.push(text.len());
        text.push_str(r);
    }
    text.push_str("]}");
    (text, starts)
}

fn csv_rows(dir: &Path, sql: &str) -> (Vec<String>, String) {
    let o = s3trawl(&[
        "sql",
        "--logs",
        dir.to_str().unwrap(),
        "--format",
        "csv",
        sql,
    ]);
    let err = stderr(&o);
    let out = ok(o);
    (out.lines().skip(1).map(str::to_string).collect(), err)
}

fn trail_path(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("AWSLogs/123456789012/CloudTrail/us-east-1/2026/03/14");
    std::fs::create_dir_all(&p).unwrap();
    p.join("123456789012_CloudTrail_us-east-1_20260314T1000Z_abc.json.gz")
}

#[test]
fn a_cut_gzip_delivery_keeps_its_complete_records() {
    need_corpora!();
    let records = real_records(40);
    let (text, starts) = document(&records);
    // The whole delivery reads as 40 rows.
    let whole = tempfile::tempdir().unwrap();
    std::fs::write(trail_path(whole.path()), gzip(text.as_bytes())).unwrap();
    let (n, _) = csv_rows(whole.path(), "SELECT count(*) FROM cloudtrail");
    assert_eq!(n, ["40"]);

    // Cut inside the 17th record: the compressed stream ends there.
    let cut = starts[16] + records[16].len() / 2;
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(&text.as_bytes()[..cut]).unwrap();
    e.flush().unwrap();
    let kept = e.get_ref().len();
    e.write_all(&text.as_bytes()[cut..]).unwrap();
    let mut gz = e.finish().unwrap();
    gz.truncate(kept);
    let d = tempfile::tempdir().unwrap();
    std::fs::write(trail_path(d.path()), &gz).unwrap();

    let (n, err) = csv_rows(d.path(), "SELECT count(*) FROM cloudtrail");
    assert_eq!(n, ["16"], "the 16 complete records");
    assert!(err.contains("1 reject in 1 object"), "{err}");
    let (ids, _) = csv_rows(d.path(), "SELECT eventid FROM cloudtrail ORDER BY log_line");
    let expected: Vec<String> = records[..16]
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(r).unwrap();
            v["eventID"].as_str().unwrap_or("").to_string()
        })
        .collect();
    let mut got = ids.clone();
    got.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(got, want);
    let (rejects, _) = csv_rows(d.path(), "SELECT log_kind, reason FROM rejects");
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert!(
        rejects[0].starts_with("cloudtrail,") && rejects[0].contains("truncated"),
        "{rejects:?}"
    );
}

#[test]
fn a_damaged_document_keeps_its_complete_records() {
    need_corpora!();
    let records = real_records(12);
    let garbage = "\n\u{1b}[0m\u{1b}]0;pwned\u{7}user@host:~$ ";
    // Minified and pretty-printed (a copy out of a terminal), each starting inside its first
    // record and ending inside its last, then garbage.
    let (minified, starts) = document(&records);
    let pretty = {
        let values: Vec<serde_json::Value> = records
            .iter()
            .map(|r| serde_json::from_str(r).unwrap())
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({ "Records": values })).unwrap()
    };
    let pretty_starts: Vec<usize> = pretty
        .match_indices("\n    {\n")
        .map(|(i, _)| i + 5)
        .collect();
    assert_eq!(pretty_starts.len(), 12);
    for (name, text, starts) in [
        ("minified", minified, starts),
        ("pretty", pretty, pretty_starts),
    ] {
        let from = starts[0] + 40;
        let to = starts[11] + 60;
        let damaged = format!("{}{garbage}", &text[from..to]);
        let d = tempfile::tempdir().unwrap();
        let p = trail_path(d.path()).with_extension("");
        std::fs::write(&p, damaged.as_bytes()).unwrap();
        let (n, err) = csv_rows(d.path(), "SELECT count(*) FROM cloudtrail");
        assert_eq!(n, ["10"], "{name}: records 2 to 11 are complete\n{err}");
        let (kinds, _) = csv_rows(d.path(), "SELECT DISTINCT log_kind FROM rejects");
        assert_eq!(kinds, ["cloudtrail"], "{name}");
        // The garbage reaches stderr escaped, never as control characters.
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{7}'),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn a_line_longer_than_the_window_is_one_reject_in_its_true_place() {
    need_corpora!();
    let line = doc_line();
    let long = 72usize << 20;
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(line.as_bytes()).unwrap();
    e.write_all(b"\n").unwrap();
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..72 {
        e.write_all(&chunk).unwrap();
    }
    e.write_all(b"\n").unwrap();
    e.write_all(line.as_bytes()).unwrap();
    e.write_all(b"\n").unwrap();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("2026-03-14-10-00-00-ABCDEF0123456789"),
        e.finish().unwrap(),
    )
    .unwrap();

    let (lines, _) = csv_rows(d.path(), "SELECT log_line FROM access_logs ORDER BY 1");
    assert_eq!(lines, ["1", "3"]);
    let o = ok(s3trawl(&[
        "sql",
        "--logs",
        d.path().to_str().unwrap(),
        "--format",
        "ndjson",
        "SELECT log_line, byte_offset, reason, character_length(raw_line) AS shown, raw_line FROM rejects",
    ]));
    let rejects: Vec<serde_json::Value> = o
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejects.len(), 1);
    let r = &rejects[0];
    assert_eq!(r["log_line"], 2);
    assert_eq!(r["byte_offset"], line.len() as u64 + 1);
    let reason = r["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("{long} bytes")), "{reason}");
    let shown = r["shown"].as_u64().unwrap();
    assert!((16 * 1024..17 * 1024).contains(&shown), "{shown}");
    let raw = r["raw_line"].as_str().unwrap();
    assert!(
        raw.starts_with("AAAA") && raw.ends_with(&format!("[{long} bytes in all]")),
        "{}",
        &raw[raw.len() - 40..]
    );
}

#[test]
fn an_errors_text_is_not_a_closed_pipe() {
    let o = s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "SELECT CAST('Broken pipe' AS INT)",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("Broken pipe"));
}

#[test]
fn a_closed_pipe_ends_the_command_successfully() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_s3trawl"))
        .args([
            "sql",
            "--logs",
            "sample-logs",
            "--format",
            "csv",
            "SELECT value FROM generate_series(1, 20000000)",
        ])
        .current_dir(project())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Read;
        let mut first = [0u8; 64];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn ddl_quotes_what_it_pastes() {
    let ddl = ok(s3trawl(&[
        "schema",
        "access_logs",
        "--athena",
        "--name",
        "logs.x` (a int); DROP TABLE y; --",
        "--location",
        "s3://b/it's\\here",
    ]));
    assert!(
        ddl.starts_with(
            "CREATE EXTERNAL TABLE IF NOT EXISTS logs.`x`` (a int); DROP TABLE y; --` ("
        ),
        "{ddl}"
    );
    assert!(
        ddl.contains("LOCATION 's3://b/it\\'s\\\\here/access_logs/'"),
        "{ddl}"
    );
    let o = s3trawl(&[
        "schema",
        "access_logs",
        "--athena",
        "--location",
        "s3://b/x'\n) LOCATION 's3://evil/",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("control character"), "{}", stderr(&o));
}

#[test]
fn time_arithmetic_on_user_input_is_checked() {
    let o = s3trawl(&[
        "detect",
        "--logs",
        "sample-logs",
        "--since",
        "200000000000d",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("before the year 1"), "{}", stderr(&o));
}

#[test]
fn config_values_have_their_parameters_types() {
    let d = tempfile::tempdir().unwrap();
    let config = d.path().join("s3trawl.toml");
    for (value, expected) in [
        ("\"50 OR 1=1\"", "expected an integer"),
        ("2.5", "expected an integer"),
        ("[1, 2]", "expected an integer"),
    ] {
        std::fs::write(
            &config,
            format!("[detections.mass-delete]\nthreshold = {value}\n"),
        )
        .unwrap();
        let o = s3trawl(&[
            "detect",
            "--logs",
            "sample-logs",
            "--config",
            config.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{value}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("detections.mass-delete.threshold") && err.contains(expected),
            "{value}: {err}"
        );
    }
    std::fs::write(&config, "[detections.mass-delete]\nthreshold = 5\n").unwrap();
    let o = s3trawl(&[
        "detect",
        "--logs",
        "sample-logs",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
}
