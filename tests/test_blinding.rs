//! The people s3trawl watches write some of its input: requests (and so log text), sometimes
//! objects in a shared lake folder, rule files they send, webhooks they name. Each test is one
//! way they tried to blind it, steer it or reach through it, named after the attack.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{command_in, gzip, ok, project, s3trawl_in, stderr, stdout};
use serde_json::Value;

/// The scenario (a week of logs with planted attacks) in `dir`; its manifest.
fn scenario(dir: &Path) -> Value {
    ok(s3trawl_in(
        dir,
        &["-q", "generate", "scenario", "--out", dir.to_str().unwrap()],
    ));
    serde_json::from_str(&std::fs::read_to_string(dir.join("scenario.json")).unwrap()).unwrap()
}

/// Every file under `dir`.
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

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// An access-log line with its request ID and user agent replaced: the user agent is the last
/// quoted field (the referer the one before; the request URI, when it is there, before that),
/// the request ID the field before the operation.
fn decoy_line(line: &str, agent: &str) -> String {
    let quotes: Vec<usize> = line.match_indices('"').map(|(i, _)| i).collect();
    if quotes.len() < 4 {
        return line.to_string();
    }
    let (open, close) = (quotes[quotes.len() - 2], quotes[quotes.len() - 1]);
    let with_agent = format!("{}{agent}{}", &line[..open + 1], &line[close..]);
    let mut fields: Vec<String> = with_agent.split(' ').map(str::to_string).collect();
    if let Some(op) = fields.iter().position(|f| {
        ["REST.", "BATCH.", "S3.", "WEBSITE."]
            .iter()
            .any(|p| f.starts_with(p))
    }) {
        fields[op - 1] = format!("DECOY{}", fields[op - 1]);
    }
    fields.join(" ")
}

/// The scenario's findings as (detection, entity, severity, count), from `detect … --format json`.
fn findings(dir: &Path, logs: &[&Path], config: &Path) -> Vec<(String, String, String, u64)> {
    let mut args = vec!["-q", "detect", "--logs"];
    args.extend(logs.iter().map(|p| p.to_str().unwrap()));
    args.extend([
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
    let o = s3trawl_in(dir, &args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let all: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let mut out: Vec<_> = all
        .iter()
        .map(|f| {
            (
                f["detection"].as_str().unwrap().to_string(),
                f["entity"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// One decoy request from the same key or address with an allow-listed user agent used to hide
/// the attacker's findings: suppression was judged on the group's `min(useragent)`. Now every
/// allow-list leaves out the requests it matches, one by one, before anything is grouped: a copy
/// of every request of the week with the allowed agent changes no finding.
#[test]
fn a_decoy_request_with_an_allowed_user_agent_hides_no_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    scenario(dir);
    let config = dir.join("allow.toml");
    let base = std::fs::read_to_string(dir.join("s3trawl.toml")).unwrap();
    // The README's example allow-list, added to the scenario's config.
    let allow = if base.contains("[allow]") {
        base.replace("[allow]", "[allow]\nuser_agents = [\"*Veeam*\"]")
    } else {
        format!("{base}\n[allow]\nuser_agents = [\"*Veeam*\"]\n")
    };
    std::fs::write(&config, allow).unwrap();
    let (access, trail) = (dir.join("access"), dir.join("cloudtrail"));
    let before = findings(dir, &[&access, &trail], &config);
    assert!(
        before.iter().any(|f| f.2 == "high"),
        "the scenario's attacks: {before:?}"
    );

    // A decoy of every request: same key and address, the allowed agent.
    let agent = "Veeam Backup & Replication";
    let decoys = dir.join("decoys");
    for file in files_under(&access) {
        let text = std::fs::read(&file).unwrap();
        let text = if file.extension().is_some_and(|e| e == "gz") {
            gunzip(&text)
        } else {
            text
        };
        let lines: String = String::from_utf8_lossy(&text)
            .lines()
            .map(|l| format!("{}\n", decoy_line(l, agent)))
            .collect();
        let name = file.file_name().unwrap().to_str().unwrap();
        let out = decoys
            .join("access")
            .join(format!("{}DECOY", &name[..name.len().min(30)]));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(out, lines).unwrap();
    }
    for file in files_under(&trail) {
        if !file.to_str().unwrap().ends_with(".json.gz")
            || file.to_str().unwrap().contains("Digest")
        {
            continue;
        }
        let mut doc: Value =
            serde_json::from_slice(&gunzip(&std::fs::read(&file).unwrap())).unwrap();
        for record in doc["Records"].as_array_mut().unwrap() {
            record["userAgent"] = Value::String(agent.into());
            let id = record["eventID"].as_str().unwrap_or("x").to_string();
            record["eventID"] = Value::String(format!("decoy-{id}"));
        }
        let name = file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".json.gz", "_DECOY.json.gz");
        let out = decoys.join("cloudtrail").join(name);
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(out, gzip(doc.to_string().as_bytes())).unwrap();
    }
    let (decoy_access, decoy_trail) = (decoys.join("access"), decoys.join("cloudtrail"));
    let after = findings(
        dir,
        &[&access, &trail, &decoy_access, &decoy_trail],
        &config,
    );
    assert_eq!(after, before, "the decoys hid or changed findings");

    // Without the allow-list the decoys are requests like any other (so they did reach the
    // detections above, and were left out by the rule, not by accident).
    let plain = dir.join("plain.toml");
    std::fs::write(&plain, base).unwrap();
    let counted = findings(dir, &[&access, &trail, &decoy_access, &decoy_trail], &plain);
    assert_ne!(counted, before, "the decoys were never read");

    // A group is left out when all of its requests are: allow-listing the attacker's address
    // leaves none of its findings, and every other finding as it was.
    let attacker = "185.220.101.47";
    let by_address = dir.join("address.toml");
    std::fs::write(
        &by_address,
        std::fs::read_to_string(&config).unwrap().replace(
            "user_agents = [\"*Veeam*\"]",
            &format!("ips = [\"{attacker}\"]"),
        ),
    )
    .unwrap();
    let left = findings(dir, &[&access, &trail], &by_address);
    let expected: Vec<_> = before
        .iter()
        .filter(|f| !f.1.contains(attacker))
        .cloned()
        .collect();
    assert!(expected.len() < before.len(), "the attacker had findings");
    assert_eq!(left, expected);
}

/// A manifest record planted in a shared lake folder pointed `removed`, `replaced`, `files` and
/// its run id outside the lake (and through a symlink in it): the next ordinary `ingest`
/// deleted and overwrote files there. Now the record is refused, naming the entry, and nothing
/// changes.
#[test]
fn a_planted_manifest_changes_nothing_outside_the_lake() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lake = dir.join("lake");
    let samples = project().join("sample-logs");
    ok(s3trawl_in(
        dir,
        &[
            "-q",
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            samples.join("access").to_str().unwrap(),
        ],
    ));
    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim.parquet");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&outside, lake.join("access_logs").join("date=2099-01-01")).unwrap();
    let planted = [
        serde_json::json!({"run": "0000-evil", "committed_at": "x", "objects": [], "files": [],
            "removed": ["../outside/victim.parquet"]}),
        serde_json::json!({"run": "0000-evil", "committed_at": "x", "objects": [], "files": [],
            "replaced": ["access_logs/../../outside/victim.parquet"]}),
        serde_json::json!({"run": "0000-evil", "committed_at": "x", "objects": [],
            "files": ["/tmp/evil.parquet"]}),
        serde_json::json!({"run": "../../outside", "committed_at": "x", "objects": [], "files": []}),
        serde_json::json!({"run": "0000-evil", "committed_at": "x", "objects": [],
            "files": [], "removed": ["access_logs/date=2099-01-01/victim.parquet"]}),
    ];
    for record in planted {
        let path = lake.join("_manifest").join("0000-evil.json");
        std::fs::write(&path, record.to_string()).unwrap();
        let o = s3trawl_in(
            dir,
            &[
                "-q",
                "ingest",
                "--lake",
                lake.to_str().unwrap(),
                samples.join("cloudtrail").to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{record}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("refused manifest record") && err.contains("0000-evil.json"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "precious",
            "{record}"
        );
        assert!(outside.read_dir().unwrap().count() == 1, "{record}");
        std::fs::remove_file(&path).unwrap();
    }
}

/// The detection run with `rules` (a folder of SQL detections) and `sigma` files, over the
/// sample logs: its output, and how long it took.
fn run_rules(dir: &Path, extra: &[&str]) -> (std::process::Output, Duration) {
    let samples = project().join("sample-logs");
    let mut args = vec![
        "-q",
        "detect",
        "--logs",
        samples.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let o = s3trawl_in(dir, &args);
    (o, started.elapsed())
}

/// A `--rules` file that was a program: `COPY … TO` wrote a file, `CREATE EXTERNAL TABLE` read
/// one into a finding, and a rule with a built-in's id silently replaced it. Now a rule is one
/// query or it is refused before anything runs, and an id is its own.
#[test]
fn a_sql_rule_file_that_writes_reads_files_or_takes_a_builtin_id_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let written = dir.join("pwned.csv");
    let header = "-- id: {ID}\n-- title: t\n-- severity: high\n-- family: integrity\n-- sources: access_logs\n";
    for (id, body) in [
        (
            "copy-out",
            format!(
                "COPY (SELECT 'x' AS entity) TO '{}' STORED AS CSV",
                written.display()
            ),
        ),
        (
            "read-shadow",
            "CREATE EXTERNAL TABLE s (line VARCHAR) STORED AS CSV LOCATION '/etc/passwd'"
                .to_string(),
        ),
        (
            "two-statements",
            "SELECT 1 AS entity; SELECT 2 AS entity".to_string(),
        ),
        (
            "set-it",
            "SET datafusion.execution.batch_size = 1".to_string(),
        ),
        ("mass-delete", "SELECT 'decoy' AS entity".to_string()),
    ] {
        let rules = dir.join(format!("rules-{id}"));
        std::fs::create_dir_all(&rules).unwrap();
        std::fs::write(
            rules.join("rule.sql"),
            format!("{}{body}\n", header.replace("{ID}", id)),
        )
        .unwrap();
        let (o, took) = run_rules(dir, &["--rules", rules.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{id}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(
            err.contains(if id == "mass-delete" {
                "built-in"
            } else {
                "refused"
            }),
            "{id}: {err}"
        );
        assert!(stdout(&o).is_empty(), "{id}: nothing ran");
        assert!(!written.exists(), "{id}: COPY wrote a file");
        assert!(took < Duration::from_secs(30), "{id}: {took:?}");
    }
}

/// Writes a Sigma rule for CloudTrail with `detection` (YAML, indented two spaces) into `dir`.
fn sigma_rule(dir: &Path, name: &str, id: &str, detection: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yml"));
    std::fs::write(
        &path,
        format!(
            "title: {name}\nid: {id}\nstatus: test\nlevel: high\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}"
        ),
    )
    .unwrap();
    path
}

/// Sigma rules that were programs or bombs: a field name and values that broke out of their
/// string literals into the SQL; a 50,000-deep condition that aborted the run; 40 nested `not`
/// that never finished; `1 of a*a*…b` in exponential time; 200,000 values under `|all`; an id
/// colliding with a built-in's. Each is refused (or made inert) within seconds, with its file
/// and reason, and the rest of the pack still runs.
#[test]
fn hostile_sigma_rules_are_refused_or_inert_and_run_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rules = dir.join("sigma");
    std::fs::create_dir_all(&rules).unwrap();
    // Break-outs: a field name and values with quotes, on a field that is there.
    sigma_rule(
        &rules,
        "breakout",
        "breakout-1",
        "  selection:\n    eventName:\n      - \"x' OR '1'='1\"\n      - \"y') OR true OR ('\"\n    requestParameters.bucketName = 'a' OR 1=1 --:\n      - \"z\"\n  condition: selection\n",
    );
    let deep = format!("{}selection{}", "(".repeat(50_000), ")".repeat(50_000));
    sigma_rule(
        &rules,
        "deep",
        "deep-1",
        &format!("  selection:\n    eventName: GetObject\n  condition: {deep}\n"),
    );
    let deeper = format!("{}selection{}", "(".repeat(20), ")".repeat(20));
    sigma_rule(
        &rules,
        "deep2",
        "deep-2",
        &format!("  selection:\n    eventName: GetObject\n  condition: {deeper}\n"),
    );
    let many: String = (0..5_000).map(|i| format!("      - v{i}\n")).collect();
    sigma_rule(
        &rules,
        "values2",
        "values-2",
        &format!("  selection:\n    eventName|all:\n{many}  condition: selection\n"),
    );
    let nots = format!("{}selection", "not ".repeat(40));
    sigma_rule(
        &rules,
        "nots",
        "nots-1",
        &format!("  selection:\n    eventName: GetObject\n  condition: {nots}\n"),
    );
    let mut searches = String::new();
    for i in 0..60 {
        searches.push_str(&format!(
            "  s{}:\n    eventName: GetObject\n",
            "a".repeat(i)
        ));
    }
    let pattern = format!("{}b", "a*".repeat(60));
    sigma_rule(
        &rules,
        "pattern",
        "pattern-1",
        &format!("{searches}  condition: 1 of {pattern}\n"),
    );
    let values: String = (0..200_000).map(|i| format!("      - v{i}\n")).collect();
    sigma_rule(
        &rules,
        "values",
        "values-1",
        &format!("  selection:\n    eventName|all:\n{values}  condition: selection\n"),
    );
    let (o, took) = run_rules(dir, &["--sigma", rules.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert!(took < Duration::from_secs(60), "{took:?}");
    let err = stderr(&o);
    for name in ["deep", "deep2", "nots", "values", "values2"] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("{name}.yml")) && l.contains("refused")),
            "{name}: {err}"
        );
    }
    // The quantifier's pattern is judged in linear time (no search matches it).
    assert!(err.contains("pattern.yml skipped"), "{err}");
    // The break-out rule ran, and matched nothing: its values are values.
    let found = stdout(&o);
    assert!(!found.contains("sigma:breakout-1"), "{found}");
    assert!(
        found.contains("\"detection\""),
        "the rest of the pack ran: {found}"
    );
    let converted = ok(s3trawl_in(
        dir,
        &[
            "sigma",
            "convert",
            rules.join("breakout.yml").to_str().unwrap(),
        ],
    ));
    assert!(converted.contains("'x'' or ''1''=''1'"), "{converted}");

    // Two rules with one id is an error, not a choice made silently (a Sigma id cannot be a
    // built-in's: they run as `sigma:ID`; a SQL rule's can, see above).
    let clash = dir.join("clash");
    std::fs::create_dir_all(&clash).unwrap();
    sigma_rule(
        &clash,
        "one",
        "same-id",
        "  selection:\n    eventName: GetObject\n  condition: selection\n",
    );
    sigma_rule(
        &clash,
        "two",
        "same-id",
        "  selection:\n    eventName: PutObject\n  condition: selection\n",
    );
    let (o, _) = run_rules(dir, &["--sigma", clash.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("sigma:same-id"), "{}", stderr(&o));
}

/// Log text that reached a terminal, a spreadsheet, a chat or a rendered Markdown file: an
/// object key that retitled the terminal, formulas, links, mentions and a right-to-left override
/// that made `…exe` read `…png`. Every sink shows them inert.
#[test]
fn hostile_log_text_reaches_no_sink_alive() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let t = chrono::Utc::now() - chrono::Duration::hours(2);
    // A credential file's name (so that a detection fires and shows it), with a terminal title
    // escape, a CSI, a link, a mention and a right-to-left override before it.
    let hostile_key = "README.txt\u{1b}]0;pwned\u{7}\u{9b}2J[x](https://evil.example)@channel\u{202e}gnp.exe/.env";
    let agent = "=HYPERLINK(\"https://evil.example\",\"x\") www.evil.example ![i](https://evil.example/i.png)";
    let line = common::access_record(t, "HOSTILE0001", "REST.GET.OBJECT", "PLACEHOLDER")
        .replace("PLACEHOLDER", hostile_key)
        .replace("S3Console/0.4", agent);
    std::fs::write(
        logs.join(t.format("%Y-%m-%d-%H-%M-%S-0123456789ABCDEF").to_string()),
        line,
    )
    .unwrap();
    let mut outputs = Vec::new();
    for format in ["csv", "json", "ndjson", "md", "ocsf", "table"] {
        let o = s3trawl_in(
            dir,
            &[
                "-q",
                "detect",
                "--logs",
                logs.to_str().unwrap(),
                "--since",
                "24h",
                "--format",
                format,
            ],
        );
        outputs.push((format.to_string(), stdout(&o)));
    }
    for format in ["csv", "json", "ndjson", "table"] {
        let o = s3trawl_in(
            dir,
            &[
                "-q",
                "sql",
                "--logs",
                logs.to_str().unwrap(),
                "--format",
                format,
                "SELECT key, useragent FROM access_logs",
            ],
        );
        outputs.push((format!("sql {format}"), ok(o)));
    }
    let report = dir.join("report");
    let o = s3trawl_in(
        dir,
        &[
            "-q",
            "report",
            "--logs",
            logs.to_str().unwrap(),
            "--since",
            "24h",
            "--out",
            report.to_str().unwrap(),
        ],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    for name in ["report.md", "report.html", "report.json"] {
        outputs.push((
            name.to_string(),
            std::fs::read_to_string(report.join(name)).unwrap(),
        ));
    }
    for (sink, text) in &outputs {
        // The table cuts long cells; every other sink shows the key.
        if !sink.ends_with("table") {
            assert!(
                text.contains("README.txt"),
                "{sink} shows the finding or row:\n{text}"
            );
        }
    }
    for (sink, text) in &outputs {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{9b}') && !text.contains('\u{7}'),
            "{sink}: a control character"
        );
        assert!(
            !text.contains('\u{202e}'),
            "{sink}: a bidirectional override"
        );
        if sink.contains("csv") {
            assert!(
                !text.contains(",=HYPERLINK") && !text.contains(",\"=HYPERLINK"),
                "{sink}: a live formula:\n{text}"
            );
        }
        if sink.ends_with("md") {
            assert!(
                !text.contains("](https://") && !text.contains("https://evil"),
                "{sink}: a live link:\n{text}"
            );
            assert!(
                !text.contains("@channel") && !text.contains("www.evil"),
                "{sink}: a mention or link:\n{text}"
            );
        }
        if sink.ends_with("html") {
            assert!(
                !text.contains("<a href=\"https://evil"),
                "{sink}: a live link"
            );
        }
    }
}

/// A webhook receiver on 127.0.0.1 that answers every request with `status` (and `Location`
/// when it redirects); the bodies it received.
fn receiver(
    status: u16,
    location: Option<String>,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = vec![0u8; 1 << 20];
            let mut n = 0;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            while let Ok(k) = stream.read(&mut buf[n..]) {
                if k == 0 {
                    break;
                }
                n += k;
                let text = String::from_utf8_lossy(&buf[..n]);
                if let Some(head) = text.find("\r\n\r\n") {
                    let length: usize = text[..head]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if n >= head + 4 + length {
                        break;
                    }
                }
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let location = location
                .clone()
                .map(|l| format!("Location: {l}\r\n"))
                .unwrap_or_default();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\n{location}Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (port, got)
}

/// The webhook posted to plain http, followed a 307 to another origin with the digest, took
/// link-local and loopback targets, and printed its secret URL in errors. Now: https only,
/// public addresses only, no redirect followed, the URL never printed.
#[test]
fn the_webhook_follows_no_redirect_and_refuses_what_it_should() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    scenario(dir);
    let (elsewhere, elsewhere_got) = receiver(200, None);
    let (redirecting, redirect_got) =
        receiver(307, Some(format!("http://127.0.0.1:{elsewhere}/stolen")));
    let report = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "-q",
            "report",
            "--logs",
            "access",
            "cloudtrail",
            "--config",
            "s3trawl.toml",
            "--since",
            "2026-11-07",
            "--until",
            "2026-11-08",
            "--baseline-days",
            "6",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        s3trawl_in(dir, &args)
    };
    let secret_url = format!("http://127.0.0.1:{redirecting}/services/T0/B0/SECRETTOKEN");
    let o = report(
        "r1",
        &[
            "--webhook",
            &secret_url,
            "--allow-http-webhook",
            "--allow-private-webhook",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("redirect") && !err.contains("SECRETTOKEN"),
        "{err}"
    );
    assert_eq!(redirect_got.lock().unwrap().len(), 1);
    assert!(
        elsewhere_got.lock().unwrap().is_empty(),
        "the digest followed the redirect"
    );

    for (url, why) in [
        (
            format!("http://127.0.0.1:{elsewhere}/hook/SECRETTOKEN"),
            "plain http",
        ),
        (
            format!("https://127.0.0.1:{elsewhere}/hook/SECRETTOKEN"),
            "loopback",
        ),
        (
            "https://169.254.169.254/latest/SECRETTOKEN".to_string(),
            "link-local",
        ),
    ] {
        let o = report("r2", &["--webhook", &url]);
        assert_eq!(o.status.code(), Some(2), "{url}");
        let err = stderr(&o);
        assert!(
            err.contains(why) && !err.contains("SECRETTOKEN"),
            "{url}: {err}"
        );
    }
    assert!(elsewhere_got.lock().unwrap().is_empty());

    // From the environment, and it reaches the receiver when allowed.
    let o = command_in(dir)
        .env(
            "S3TRAWL_WEBHOOK_URL",
            format!("http://127.0.0.1:{elsewhere}/hook/SECRETTOKEN"),
        )
        .args([
            "-q",
            "report",
            "--logs",
            "access",
            "cloudtrail",
            "--config",
            "s3trawl.toml",
            "--since",
            "2026-11-07",
            "--until",
            "2026-11-08",
            "--baseline-days",
            "6",
            "--out",
            "r3",
            "--allow-http-webhook",
            "--allow-private-webhook",
        ])
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert!(!stderr(&o).contains("SECRETTOKEN"));
    assert_eq!(elsewhere_got.lock().unwrap().len(), 1);
}

/// A `./s3trawl.toml` planted in the working folder disabled every detection unseen; a symlink
/// planted in `report --out` made the report overwrite its target; a planted state file decided
/// what is new. Now a found config is named on stderr, and files are written by atomic rename,
/// never through a symlink, state 0600.
#[test]
fn planted_config_symlinks_and_files_change_nothing_unseen() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let samples = project().join("sample-logs");
    std::fs::write(
        dir.join("s3trawl.toml"),
        "[detections.mass-delete]\nenabled = false\n",
    )
    .unwrap();
    let o = s3trawl_in(
        dir,
        &[
            "detect",
            "--logs",
            samples.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let err = stderr(&o);
    assert!(
        err.contains("using the config s3trawl.toml")
            || err.contains("using the config ./s3trawl.toml"),
        "{err}"
    );
    let o = s3trawl_in(
        dir,
        &[
            "-q",
            "detect",
            "--logs",
            samples.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(!stderr(&o).contains("using the config"), "-q hides it");

    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let target = dir.join("target.txt");
    std::fs::write(&target, "precious").unwrap();
    for name in [
        "report.html",
        "report.md",
        "report.json",
        ".report.html.tmp",
    ] {
        std::os::unix::fs::symlink(&target, out.join(name)).unwrap();
    }
    let o = s3trawl_in(
        dir,
        &[
            "-q",
            "report",
            "--logs",
            samples.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    assert!(
        !std::fs::symlink_metadata(out.join("report.html"))
            .unwrap()
            .is_symlink()
    );
    let state = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().contains("state"))
        .expect("a state file");
    assert_eq!(
        state.metadata().unwrap().permissions().mode() & 0o777,
        0o600
    );

    // -o through a planted symlink: refused.
    let o_file = dir.join("findings.csv");
    std::os::unix::fs::symlink(&target, &o_file).unwrap();
    let o = s3trawl_in(
        dir,
        &[
            "-q",
            "sql",
            "--logs",
            samples.to_str().unwrap(),
            "-o",
            o_file.to_str().unwrap(),
            "SELECT 1",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
}

/// The decoded history (log contents) sat in a 0755 folder of 0644 files and survived SIGTERM
/// and SIGKILL. Now it is the user's alone, removed on SIGTERM, and a killed run's folder is
/// swept by the next run.
#[test]
fn the_decoded_history_is_private_and_does_not_outlive_its_run() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let temp = dir.join("tmp");
    std::fs::create_dir_all(&temp).unwrap();
    // What a killed run left (its process id names no process).
    let stale = temp.join("s3trawl-history-999999999-deadbeef");
    std::fs::create_dir_all(stale.join("access_logs")).unwrap();
    let logs = dir.join("logs");
    ok(s3trawl_in(
        dir,
        &[
            "-q",
            "generate",
            "access-logs",
            "--size",
            "200MB",
            "--objects",
            "40",
            "--out",
            logs.to_str().unwrap(),
        ],
    ));
    let mut child = command_in(dir)
        .env("TMPDIR", &temp)
        .args(["-q", "detect", "--logs", logs.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let spill = loop {
        let found = std::fs::read_dir(&temp)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("s3trawl-history-")
                    && *p != stale
            });
        if let Some(found) = found
            && found.join("access_logs").exists()
        {
            break found;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its spill was seen"
        );
        assert!(Instant::now() < deadline, "no spill folder appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!stale.exists(), "the stale folder was swept");
    assert_eq!(
        std::fs::metadata(&spill).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status}");
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("interrupted"), "{err}");
    assert!(!spill.exists(), "the spill outlived its run");
}
