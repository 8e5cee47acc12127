//! `s3trawl report` (issue #4): the three files, what is new since the previous report, exit
//! codes for cron, inert attacker strings, and a state that survives only whole runs.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn report(args: &[&str]) -> std::process::Output {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    s3trawl(&all)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sample() -> String {
    project().join("sample-logs").display().to_string()
}

#[test]
fn report_files_and_what_is_new_since_the_previous_one() {
    need_corpora!();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let sample = sample();

    // First run: every finding is new; the sample has high findings, so cron hears about it.
    let o = report(&["--logs", &sample, "--out", out_s]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    for name in [
        "report.json",
        "report.md",
        "report.html",
        "s3trawl-state.json",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let first = read_json(&out.join("report.json"));
    let findings = first["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert_eq!(first["counts"]["findings"], findings.len());
    assert_eq!(first["counts"]["new"], findings.len());
    assert!(findings.iter().all(|f| f["status"] == "new"));
    assert_eq!(first["previous_report"], Value::Null);

    // The same findings `detect` gives, with their evidence.
    let detect: Vec<Value> = serde_json::from_str(&ok(s3trawl(&[
        "detect",
        "--logs",
        &sample,
        "--format",
        "json",
        "--fail-on",
        "critical",
    ])))
    .unwrap();
    assert_eq!(detect.len(), findings.len());
    for (d, f) in detect.iter().zip(findings) {
        assert_eq!(d["detection"], f["detection"]);
        assert_eq!(d["entity"], f["entity"]);
        assert_eq!(d["evidence"], f["evidence"]);
    }

    // The activity summary matches SQL over the same logs.
    let a = &first["activity"]["access_logs"];
    assert_eq!(a["requests"], 22);
    assert_eq!(first["activity"]["cloudtrail"]["events"], 6);
    assert_eq!(first["counts"]["rejects"], 1);
    let top_ips = a["top_ips"].as_array().unwrap();
    let sql = ok(s3trawl(&[
        "sql",
        "--logs",
        &sample,
        "--format",
        "json",
        "SELECT coalesce(remoteip, 'unknown') AS name, count(*) AS n FROM access_logs GROUP BY 1 ORDER BY n DESC, name LIMIT 1",
    ]));
    let top: Vec<Value> = serde_json::from_str(&sql).unwrap();
    assert_eq!(top_ips[0]["name"], top[0]["name"]);
    assert_eq!(top_ips[0]["requests"], top[0]["n"]);
    let points = first["activity"]["timeline"]["points"].as_array().unwrap();
    let requests: i64 = points
        .iter()
        .map(|p| p["access_requests"].as_i64().unwrap())
        .sum();
    let events: i64 = points
        .iter()
        .map(|p| p["cloudtrail_events"].as_i64().unwrap())
        .sum();
    assert_eq!((requests, events), (22, 6), "every request is on the chart");
    let acl = first["activity"]["acl_migration"].as_array().unwrap();
    assert_eq!(acl[0]["bucket"], "example-data");
    assert_eq!(acl[0]["can_enforce_owner"], false);

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## New since the previous report"));
    assert!(md.contains("## ACL migration"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(html.contains("Requests over time"));
    assert!(html.contains("Top talkers"));

    // Second run over the same logs: nothing new, exit 0 for cron.
    let o = report(&["--logs", &sample, "--out", out_s]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let second = read_json(&out.join("report.json"));
    assert_eq!(second["counts"]["new"], 0);
    assert_eq!(second["previous_report"], first["generated_at"]);
    assert!(
        second["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "known" && f["first_reported"] == first["generated_at"])
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Nothing new."));

    // --alert all: every finding counts.
    let o = report(&["--logs", &sample, "--out", out_s, "--alert", "all"]);
    assert_eq!(o.status.code(), Some(1));

    // New logs with one more attack: only it is new.
    let more = dir.path().join("more");
    std::fs::create_dir_all(&more).unwrap();
    let agent_line = doc_line().replace(
        "\"S3Console/0.4\"",
        "\"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)\"",
    );
    assert!(agent_line.contains("Nmap"));
    std::fs::write(more.join("attack.log"), agent_line + "\n").unwrap();
    let o = report(&["--logs", &sample, more.to_str().unwrap(), "--out", out_s]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let third = read_json(&out.join("report.json"));
    let new: Vec<&Value> = third["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] != "known")
        .collect();
    assert!(!new.is_empty());
    assert!(
        new.iter().any(|f| f["detection"] == "offensive-user-agent"),
        "{new:#?}"
    );
    assert!(
        new.iter().all(|f| f["evidence"][0]["log_object"]
            .as_str()
            .unwrap()
            .ends_with("attack.log")),
        "{new:#?}"
    );
}

#[test]
fn attacker_strings_are_inert_in_every_format() {
    need_corpora!();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let line = doc_line();
    let agent =
        "\"sqlmap/1.8 <script>alert(1)</script> [x](javascript:alert(2)) =cmd|' /C calc'!A0\"";
    let start = line
        .find("\"S3Console/0.4\"")
        .expect("the documentation line's agent");
    let hostile = format!(
        "{}{agent}{}",
        &line[..start],
        &line[start + "\"S3Console/0.4\"".len()..]
    );
    std::fs::write(logs.join("hostile.log"), hostile + "\n").unwrap();
    let out = dir.path().join("out");
    let o = report(&[
        "--logs",
        logs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let json = read_json(&out.join("report.json"));
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["detection"] == "offensive-user-agent")
        .expect("the sqlmap agent is found");
    assert!(
        f["useragent"].as_str().unwrap().contains("<script>"),
        "JSON keeps the text"
    );

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<script"), "no script element");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("href=\"javascript"));
    assert!(html.contains("Content-Security-Policy"));
    assert!(
        !html.contains("src=\"http") && !html.contains("url(http") && !html.contains("@import"),
        "the report fetches nothing"
    );

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("<script>"));
    assert!(!md.contains("](javascript"));
    assert!(md.contains("\\[x\\]\\(javascript:alert\\(2\\)\\)"));

    let csv = ok(s3trawl(&[
        "detect",
        "--logs",
        logs.to_str().unwrap(),
        "--only",
        "offensive-user-agent",
        "--format",
        "csv",
        "--fail-on",
        "critical",
    ]));
    assert!(
        !csv.lines()
            .any(|l| l.split(',').any(|c| c.starts_with('=')))
    );
}

#[test]
fn a_damaged_state_stops_the_run_and_a_failed_detection_does_not_advance_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let state = out.join("s3trawl-state.json");
    std::fs::write(&state, "{ half a state").unwrap();
    let sample = sample();
    let o = report(&["--logs", &sample, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("s3trawl-state.json"), "{}", stderr(&o));
    assert!(!out.join("report.html").exists());

    // A detection whose SQL fails: the report is written, exit 2, and the state stays away.
    std::fs::remove_file(&state).unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("broken.sql"),
        "-- id: broken-rule\n-- title: Broken\n-- severity: high\n-- description: d\n-- action: a\n-- references: r\nSELECT no_such_column AS entity FROM window_access_logs\n",
    )
    .unwrap();
    let o = report(&[
        "--logs",
        &sample,
        "--out",
        out.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("broken-rule"));
    let json = read_json(&out.join("report.json"));
    assert_eq!(json["errors"][0]["detection"], "broken-rule");
    assert!(
        !state.exists(),
        "a partial run must not mark findings as reported"
    );
}

#[test]
fn report_over_a_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let sample = sample();
    ok(s3trawl(&[
        "ingest",
        &sample,
        "--lake",
        lake.to_str().unwrap(),
    ]));
    let out = dir.path().join("out");
    let o = report(&[
        "--lake",
        lake.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--fail-on",
        "critical",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json = read_json(&out.join("report.json"));
    assert_eq!(json["activity"]["access_logs"]["requests"], 22);
    assert_eq!(json["activity"]["cloudtrail"]["events"], 6);
    assert_eq!(json["counts"]["rejects"], 1);
    assert!(json["counts"]["findings"].as_u64().unwrap() > 0);
}
