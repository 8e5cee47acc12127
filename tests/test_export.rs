//! Findings reach the tools security teams use: OCSF Detection Findings checked against the
//! attributes OCSF's schema requires (ocsf-schema 1.9.0-dev: `base_event`, `finding`,
//! `detection_finding`, `finding_info`, `metadata`, `product`, `analytic`, `evidences`,
//! `attack`), ASFF batches checked by botocore's own validator against Security Hub's
//! `BatchImportFindings` model, and the report's webhook digest against a server on 127.0.0.1
//! (retried after a 500, only new findings, attacker text escaped).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{project, s3trawl, stderr, stdout};
use serde_json::Value;

/// A rule of ours whose findings carry what an attacker writes (a user agent as the entity).
fn hostile_rule(dir: &Path, findings: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("many.sql"),
        format!(
            "-- id: export-test\n-- title: Export test\n-- severity: high\n-- family: test\n\
             -- mitre: T1537 Transfer Data to Cloud Account, T1685.002\n\n\
             SELECT concat('<!channel> *x* `y` <https://evil.example|click> #', value) AS entity, \
             'arn:aws:iam::111122223333:user/x' AS principal, '203.0.113.7' AS ip, 'bucket-a' AS bucket, \
             3 AS count, '2026-11-07T10:00:00Z' AS first_seen, '2026-11-07T11:00:00Z' AS last_seen, \
             [named_struct('log_object', 'o.log', 'log_line', 7, 'key', 'k')] AS evidence \
             FROM generate_series(1, {findings})"
        ),
    )
    .unwrap();
}

fn config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("s3trawl.toml");
    std::fs::write(
        &path,
        "[settings]\naws_account_id = \"111122223333\"\naws_region = \"eu-west-1\"\n",
    )
    .unwrap();
    path
}

fn object<'a>(v: &'a Value, what: &str) -> &'a serde_json::Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {v}"))
}

/// The attributes OCSF requires of a Detection Finding and its objects, with their types.
fn check_ocsf(event: &Value) {
    let e = object(event, "the event");
    let int = |k: &str| {
        e.get(k)
            .and_then(Value::as_i64)
            .unwrap_or_else(|| panic!("{k}: a required integer: {event}"))
    };
    // base_event
    let activity = int("activity_id");
    assert_eq!(int("category_uid"), 2, "Findings");
    assert_eq!(int("class_uid"), 2004, "Detection Finding");
    assert_eq!(
        int("type_uid"),
        2004 * 100 + activity,
        "type_uid = class_uid * 100 + activity_id"
    );
    assert!((1..=3).contains(&activity), "Create, Update or Close");
    assert!(matches!(int("severity_id"), 0..=6 | 99));
    assert!(
        int("time") > 1_000_000_000_000,
        "time: milliseconds since the epoch"
    );
    let metadata = object(&e["metadata"], "metadata");
    assert!(metadata["version"].is_string(), "metadata.version");
    let product = object(&metadata["product"], "metadata.product");
    assert!(
        product.contains_key("name") || product.contains_key("uid"),
        "product: name or uid"
    );
    // finding
    let info = object(&e["finding_info"], "finding_info");
    assert!(
        info["uid"].as_str().is_some_and(|u| !u.is_empty()),
        "finding_info.uid"
    );
    for t in ["first_seen_time", "last_seen_time"] {
        if let Some(v) = info.get(t) {
            assert!(v.is_i64(), "{t}: timestamp_t");
        }
    }
    if let Some(analytic) = info.get("analytic") {
        assert!(analytic["type_id"].is_i64(), "analytic.type_id is required");
        assert!(analytic.get("name").or(analytic.get("uid")).is_some());
    }
    if let Some(attacks) = info.get("attacks") {
        for a in attacks.as_array().unwrap() {
            let a = object(a, "attack");
            assert!(
                ["tactic", "technique", "sub_technique"]
                    .iter()
                    .any(|k| a.contains_key(*k)),
                "an attack needs a tactic, technique or sub-technique"
            );
        }
    }
    // detection_finding
    for evidence in e["evidences"].as_array().expect("evidences") {
        let ev = object(evidence, "evidence");
        assert!(
            [
                "actor",
                "api",
                "connection_info",
                "data",
                "database",
                "databucket",
                "device",
                "dst_endpoint",
                "email",
                "file",
                "process",
                "query",
                "resources",
                "src_endpoint",
                "url",
                "user",
                "job",
                "script"
            ]
            .iter()
            .any(|k| ev.contains_key(*k)),
            "an evidence artifact needs one of its attributes: {evidence}"
        );
    }
}

#[test]
fn ocsf_detection_findings_have_what_the_schema_requires() {
    let d = tempfile::tempdir().unwrap();
    hostile_rule(&d.path().join("rules"), 3);
    for (logs, rules) in [
        (vec!["sample-logs"], None),
        (vec!["sample-logs"], Some(d.path().join("rules"))),
    ] {
        let mut args = vec!["detect", "--quiet", "--format", "ocsf", "--logs"];
        args.extend(logs);
        let rules_arg;
        if let Some(r) = &rules {
            rules_arg = r.to_str().unwrap().to_string();
            args.extend(["--rules", &rules_arg]);
        }
        let o = s3trawl(&args);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
        let lines: Vec<Value> = stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(!lines.is_empty());
        for event in &lines {
            check_ocsf(event);
        }
        if rules.is_some() {
            let ours = lines
                .iter()
                .find(|e| e["finding_info"]["analytic"]["uid"] == "export-test")
                .unwrap();
            assert_eq!(
                ours["finding_info"]["attacks"][0]["technique"]["uid"],
                "T1537"
            );
            assert_eq!(
                ours["finding_info"]["attacks"][1]["sub_technique"]["uid"],
                "T1685.002"
            );
            assert_eq!(ours["severity_id"], 4);
            assert_eq!(ours["evidences"][0]["data"]["log_line"], 7);
            assert_eq!(ours["src_endpoint"]["ip"], "203.0.113.7");
        }
    }
}

/// A Python that has botocore (moto depends on it; the S3 tests' harness installs moto into
/// target/test-moto when no Python has it).
fn python_with_botocore() -> Option<String> {
    let candidates = [
        "python3".to_string(),
        project()
            .join("target/test-moto/bin/python")
            .display()
            .to_string(),
        project()
            .join("target/ci-moto/bin/python")
            .display()
            .to_string(),
    ];
    let found = candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import botocore"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "botocore is missing: CI installs moto (and with it botocore)"
        );
        eprintln!("SKIPPED: no Python with botocore (pip install botocore)");
    }
    found
}

const VALIDATE: &str = r#"
import json, sys
import botocore.session
from botocore.validate import ParamValidator
model = botocore.session.get_session().get_service_model("securityhub")
shape = model.operation_model("BatchImportFindings").input_shape
bad = 0
for n, line in enumerate(open(sys.argv[1])):
    batch = json.loads(line)
    if len(batch) > 100:
        print(f"batch {n}: {len(batch)} findings (at most 100)"); bad += 1
    report = ParamValidator().validate({"Findings": batch}, shape)
    if report.has_errors():
        print(f"batch {n}: " + report.generate_report()); bad += 1
sys.exit(1 if bad else 0)
"#;

#[test]
fn asff_batches_are_valid_batch_import_findings_requests() {
    let d = tempfile::tempdir().unwrap();
    hostile_rule(&d.path().join("rules"), 250);
    let config = config(d.path());
    let o = s3trawl(&[
        "detect",
        "--quiet",
        "--format",
        "asff",
        "--logs",
        "sample-logs",
        "--rules",
        d.path().join("rules").to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let text = stdout(&o);
    let batches: Vec<Vec<Value>> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
    assert!(
        sizes.len() >= 3 && sizes.iter().all(|n| *n <= 100),
        "{sizes:?}"
    );
    let first = &batches[0][0];
    assert_eq!(first["AwsAccountId"], "111122223333");
    assert_eq!(
        first["ProductArn"],
        "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
    );
    let ids: std::collections::HashSet<&str> = batches
        .iter()
        .flatten()
        .map(|f| f["Id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        batches.iter().map(Vec::len).sum::<usize>(),
        "unique ids"
    );
    // Without the account in the config: an error that says what is missing.
    let o = s3trawl(&[
        "detect",
        "--quiet",
        "--format",
        "asff",
        "--logs",
        "sample-logs",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("aws_account_id"), "{}", stderr(&o));
    // botocore's own check of the request.
    let Some(python) = python_with_botocore() else {
        return;
    };
    let file = d.path().join("findings.asff.jsonl");
    std::fs::write(&file, &text).unwrap();
    let script = d.path().join("validate.py");
    std::fs::write(&script, VALIDATE).unwrap();
    let v = Command::new(python)
        .arg(&script)
        .arg(&file)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}{}", stdout(&v), stderr(&v));
}

/// A webhook receiver on 127.0.0.1: answers 500 to the first request, 200 after; keeps the
/// bodies.
fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let status = if n == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            kept.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
        }
    });
    (url, bodies)
}

#[test]
fn the_webhook_carries_only_new_findings_escaped_and_is_retried() {
    let d = tempfile::tempdir().unwrap();
    hostile_rule(&d.path().join("rules"), 2);
    let (url, bodies) = receiver();
    let out = d.path().join("report");
    let report = || {
        s3trawl(&[
            "report",
            "--quiet",
            "--logs",
            "sample-logs",
            "--rules",
            d.path().join("rules").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--webhook",
            &url,
            // The receiver is plain http on this machine: allowed for the test.
            "--allow-http-webhook",
            "--allow-private-webhook",
            "--export",
            "ocsf,asff",
            "--config",
            config(d.path()).to_str().unwrap(),
        ])
    };
    let o = report();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let posted = bodies.lock().unwrap().clone();
    assert_eq!(posted.len(), 2, "one failed attempt, one retry");
    assert_eq!(posted[0], posted[1]);
    let digest: Value = serde_json::from_str(&posted[1]).unwrap();
    let report_json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(digest["new"], report_json["counts"]["new"]);
    assert_eq!(
        digest["findings"].as_array().unwrap().len() as u64,
        report_json["counts"]["new"].as_u64().unwrap()
    );
    let text = digest["text"].as_str().unwrap();
    assert!(
        text.contains("&lt;!channel&gt;") && !text.contains("<!channel>"),
        "{text}"
    );
    assert!(!text.contains("<https://evil"), "{text}");
    assert!(text.contains("\\*x\\*"), "{text}");
    // The exports beside the report.
    for line in std::fs::read_to_string(out.join("findings.ocsf.jsonl"))
        .unwrap()
        .lines()
    {
        check_ocsf(&serde_json::from_str(line).unwrap());
    }
    assert!(out.join("findings.asff.jsonl").is_file());
    // The next report has nothing new: nothing is posted.
    let o = report();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing new"), "{}", stderr(&o));
    assert_eq!(bodies.lock().unwrap().len(), 2);
}
