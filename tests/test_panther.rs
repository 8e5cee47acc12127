//! Conformance with Panther's rule tests (issue #4): for every Panther rule our pack also
//! covers, our verdict on each of its test events agrees with Panther's `expected_result`.
//!
//! The events come from `../shared/corpora/detections/panther/conformance_events.jsonl`
//! (Panther-normalised JSON). Each one is turned back into what AWS delivers — a CloudTrail
//! `{"Records":[…]}` file, or an access-log line — and `detect` runs over it alone, with the
//! mapped detections and the thresholds set to one event (Panther's tests check the per-event
//! predicate, not its thresholds). A rule "fires" when any mapped detection has a finding.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::{Map, Value, json};

/// How a Panther rule maps onto the pack.
struct Mapping {
    rule: &'static str,
    detections: &'static [&'static str],
    /// Config that reproduces Panther's per-deployment settings or per-event semantics.
    config: &'static str,
}

const MAPPINGS: &[Mapping] = &[
    Mapping {
        rule: "AWS.S3.BucketDeleted",
        detections: &["bucket-deleted"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.BucketPolicyModified",
        detections: &["bucket-policy-changed"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.CopyObject.CrossAccount.Encryption.KMS",
        detections: &["sse-c-or-foreign-kms-key"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.CopyObjectWithClientSideEncryption",
        detections: &["sse-c-or-foreign-kms-key"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.CopyObjectToExternalAccountBucket",
        detections: &["copy-to-external-account"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.DeleteBucketEncryption",
        detections: &["replication-or-encryption-removed"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.DeleteBucketReplication",
        detections: &["replication-or-encryption-removed"],
        config: "",
    },
    // Panther's rules alert per event and count to a threshold (50 in 60 minutes) in its own
    // engine; ours count per window: one delete in the window must fire.
    Mapping {
        rule: "AWS.S3.DeleteObject",
        detections: &["mass-delete"],
        config: "[detections.mass-delete]\nthreshold = 1\nhistory_factor = 0\n",
    },
    Mapping {
        rule: "AWS.S3.DeleteObjects",
        detections: &["mass-delete"],
        config: "[detections.mass-delete]\nthreshold = 1\nhistory_factor = 0\n",
    },
    Mapping {
        rule: "AWS.S3.DeletePublicAccessBlock",
        detections: &["public-access-block-removed"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.DisableBucketLogging",
        detections: &["server-access-logging-disabled"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.DisableMfaDelete",
        detections: &["versioning-suspended-or-mfa-delete-disabled"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.SuspendVersioning",
        detections: &["versioning-suspended-or-mfa-delete-disabled"],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.SecurityControlDisabling",
        detections: &[
            "server-access-logging-disabled",
            "versioning-suspended-or-mfa-delete-disabled",
        ],
        config: "",
    },
    Mapping {
        rule: "AWS.S3.RansomwareNoteUpload",
        detections: &["ransom-note-upload"],
        config: "",
    },
    // Panther's rule covers many services; only its S3 events are in our scope (below).
    Mapping {
        rule: "AWS.CloudTrail.ResourceMadePublic",
        detections: &["bucket-policy-public-or-external"],
        config: "",
    },
    // Panther asks its enrichment whether the bucket holds CloudTrail logs (mocked in the
    // tests); ours reports short expirations on every bucket, so the mock does not matter.
    Mapping {
        rule: "AWS.CloudTrail.ShortLifecycle",
        detections: &["short-lifecycle-expiration"],
        config: "[detections.short-lifecycle-expiration]\nmax_days = 6\n",
    },
    Mapping {
        rule: "AWS.CloudTrail.Stopped",
        detections: &["cloudtrail-tampering"],
        config: "",
    },
    Mapping {
        rule: "AWS.CloudTrail.EventSelectorsDisabled",
        detections: &["cloudtrail-tampering"],
        config: "",
    },
    // Panther's allow-list (a mock in its test) becomes our [allow] principals.
    Mapping {
        rule: "AWS.CloudTrail.SecurityConfigurationChange",
        detections: &["cloudtrail-tampering", "public-access-block-removed"],
        config: "",
    },
    // Panther alerts per event; ours counts a burst: one denied request is the threshold here.
    Mapping {
        rule: "AWS.S3.ServerAccess.Error",
        detections: &["access-denied-burst"],
        config: "[detections.access-denied-burst]\nthreshold = 1\n",
    },
    Mapping {
        rule: "AWS.S3.ServerAccess.Insecure",
        detections: &["plain-http-requests"],
        config: "",
    },
    // Panther's rule hard-codes AUTH_BUCKETS = {"example-bucket"}: our private_buckets setting.
    Mapping {
        rule: "AWS.S3.ServerAccess.Unauthenticated",
        detections: &["anonymous-access-to-private-bucket"],
        config: "[settings]\nprivate_buckets = [\"example-bucket\"]\n",
    },
];

/// Panther rules in the corpus that the pack does not cover, and why.
const NOT_COVERED: &[(&str, &str)] = &[
    (
        "AWS.S3.ServerAccess.IPWhitelist",
        "an allow-only IP policy per bucket; our threat lists and new-IP detections cover the reverse",
    ),
    (
        "AWS.S3.ServerAccess.UnknownRequester",
        "Panther's per-deployment map of bucket globs to allowed roles",
    ),
    ("AWS.IAMUser.ReconAccessDenied", "IAM events, not S3"),
    ("AWS.CloudTrail.UnauthorizedAPICall", "IAM events, not S3"),
    ("AWS.Macie.Evasion", "Macie events, not S3"),
    (
        "AWS.CloudTrail.VPCE.AccessDenied",
        "VPC endpoint policies: needs the endpoint inventory",
    ),
    (
        "AWS.CloudTrail.VPCE.ExternalPrincipal",
        "VPC endpoint policies: needs the endpoint inventory",
    ),
    (
        "AWS.CloudTrail.VPCE.S3ExternalIP",
        "VPC endpoint policies: needs the endpoint inventory",
    ),
    (
        "AWS.CloudTrail.VPCE.SensitiveAPICalls",
        "VPC endpoint policies: needs the endpoint inventory",
    ),
    (
        "AWS.S3.LargeDownload",
        "a scheduled-query result row, not an event (our bytes-out-spike works on history)",
    ),
];

fn panther() -> std::path::PathBuf {
    corpora().join("detections/panther")
}

/// Panther's `2024-11-25 17:51:21.000000000` as ISO 8601; ISO input is kept.
fn iso(time: &str) -> String {
    if time.contains('T') {
        return time.to_string();
    }
    let (date, clock) = time.split_once(' ').expect("date and time");
    format!("{date}T{}Z", &clock[..8])
}

/// A Panther CloudTrail event back as AWS delivers it.
fn cloudtrail_record(event: &Value) -> Value {
    let mut record: Map<String, Value> = event
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with("p_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(Value::String(t)) = record.get("eventTime") {
        let t = iso(t);
        record.insert("eventTime".into(), Value::String(t));
    }
    Value::Object(record)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A Panther access-log event back as the access-log line S3 delivers: absent fields are `-`.
fn access_line(event: &Value) -> String {
    let field = |name: &str| -> String {
        match event.get(name) {
            None | Some(Value::Null) => "-".into(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    };
    let quoted = |name: &str| -> String {
        match event.get(name) {
            None | Some(Value::Null) => "-".into(),
            Some(_) => format!("\"{}\"", field(name)),
        }
    };
    let time = field("time");
    let time = if time == "-" {
        "[22/Apr/2020:07:48:45 +0000]".to_string()
    } else {
        let (date, clock) = time.split_once(' ').unwrap();
        let parts: Vec<&str> = date.split('-').collect();
        let month: usize = parts[1].parse().unwrap();
        format!(
            "[{}/{}/{}:{} +0000]",
            parts[2],
            MONTHS[month - 1],
            parts[0],
            &clock[..8]
        )
    };
    [
        field("bucketowner"),
        field("bucket"),
        time,
        field("remoteip"),
        field("requester"),
        field("requestid"),
        field("operation"),
        field("key"),
        quoted("requesturi"),
        field("httpstatus"),
        field("errorcode"),
        field("bytessent"),
        field("objectsize"),
        field("totaltime"),
        field("turnaroundtime"),
        quoted("referrer"),
        quoted("useragent"),
        field("versionid"),
        field("hostid"),
        field("signatureversion"),
        field("ciphersuite"),
        field("authenticationtype"),
        field("hostheader"),
        field("tlsVersion"),
        field("accesspointarn"),
        field("aclrequired"),
    ]
    .join(" ")
}

/// A request on another bucket that no detection under test reacts to; it keeps the
/// access-log table non-empty when the event is CloudTrail.
const BENIGN: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be other-bucket \
    [01/Jan/2020:00:00:00 +0000] 198.51.100.10 arn:aws:iam::111122223333:user/alice REQ1 \
    REST.GET.OBJECT a.txt \"GET /a.txt HTTP/1.1\" 200 - 10 10 5 4 \"-\" \"aws-cli/2.17.4\" - \
    HOST SigV4 TLS_AES_128_GCM_SHA256 AuthHeader other-bucket.s3.amazonaws.com TLSv1.3 - -";

struct Verdict {
    fired: bool,
    findings: Vec<Value>,
}

fn run(mapping: &Mapping, log_type: &str, event: &Value, mocks: Option<&Value>) -> Verdict {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut config = mapping.config.to_string();
    if log_type == "AWS.S3ServerAccess" {
        std::fs::write(logs.join("access.log"), access_line(event) + "\n").unwrap();
    } else {
        std::fs::write(logs.join("access.log"), format!("{BENIGN}\n")).unwrap();
        std::fs::write(
            logs.join("trail.json"),
            json!({"Records": [cloudtrail_record(event)]}).to_string(),
        )
        .unwrap();
    }
    // Panther's ALLOW_LIST mock (user name and event name) as our allow-list of principals.
    for mock in mocks.and_then(Value::as_array).into_iter().flatten() {
        if mock["objectName"] == "ALLOW_LIST" {
            let list: Vec<Value> =
                serde_json::from_str(mock["returnValue"].as_str().unwrap()).unwrap();
            let names: Vec<String> = list
                .iter()
                .map(|e| format!("\"*:user/{}\"", e["userName"].as_str().unwrap()))
                .collect();
            config.push_str(&format!("[allow]\nprincipals = [{}]\n", names.join(", ")));
        }
    }
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, &config).unwrap();
    let only = mapping.detections.join(",");
    let args = [
        "detect",
        "--logs",
        logs.to_str().unwrap(),
        "--since",
        "2000-01-01",
        "--until",
        "2030-01-01",
        "--only",
        &only,
        "--config",
        config_path.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "info",
    ];
    let o = s3trawl_in(Path::new("."), &args);
    let err = stderr(&o);
    assert!(
        o.status.code().is_some_and(|c| c <= 1) && !err.contains("failed"),
        "{}: {err}",
        mapping.rule
    );
    let findings: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    // The exit code agrees with the findings: 1 with a finding (--fail-on info), 0 without.
    assert_eq!(
        o.status.code(),
        Some(i32::from(!findings.is_empty())),
        "{}",
        mapping.rule
    );
    Verdict {
        fired: !findings.is_empty(),
        findings,
    }
}

/// Events of `AWS.CloudTrail.ResourceMadePublic` on other services than S3 are out of scope.
fn in_scope(rule: &str, event: &Value) -> bool {
    rule != "AWS.CloudTrail.ResourceMadePublic"
        || event["eventSource"] == "s3.amazonaws.com" && event["eventName"] == "PutBucketPolicy"
}

#[test]
fn our_verdicts_agree_with_panthers_rule_tests() {
    need_corpora!();
    let text = std::fs::read_to_string(panther().join("conformance_events.jsonl")).unwrap();
    let mut checked: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut rules_seen = std::collections::BTreeSet::new();
    for line in text.lines() {
        let test: Value = serde_json::from_str(line).unwrap();
        let rule = test["rule_id"].as_str().unwrap();
        rules_seen.insert(rule.to_string());
        let Some(mapping) = MAPPINGS.iter().find(|m| m.rule == rule) else {
            assert!(
                NOT_COVERED.iter().any(|(r, _)| *r == rule),
                "{rule} is neither mapped nor listed as not covered"
            );
            continue;
        };
        let event = &test["event"];
        if !in_scope(rule, event) {
            continue;
        }
        let expected = test["expected"].as_bool().unwrap();
        let verdict = run(
            mapping,
            test["log_type"].as_str().unwrap(),
            event,
            test.get("mocks"),
        );
        let entry = checked.entry(mapping.rule).or_default();
        entry.0 += 1;
        if verdict.fired == expected {
            entry.1 += 1;
        } else {
            disagreements.push(format!(
                "{rule} / {}: Panther {expected}, ours {} {:?}",
                test["test_name"], verdict.fired, verdict.findings
            ));
        }
        // A finding points at the event: the only record of its object.
        for finding in &verdict.findings {
            for e in finding["evidence"].as_array().into_iter().flatten() {
                assert_eq!(e["log_line"], json!(1), "{rule}: {e}");
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // Every mapped rule was exercised, with at least one event of each verdict.
    for m in MAPPINGS {
        let (n, agreed) = checked.get(m.rule).copied().unwrap_or_default();
        assert!(n >= 2 && agreed == n, "{}: {agreed}/{n}", m.rule);
    }
    for (rule, _) in NOT_COVERED {
        assert!(rules_seen.contains(*rule), "{rule} is not in the corpus");
    }
    let total: usize = checked.values().map(|(n, _)| n).sum();
    assert!(total >= 80, "only {total} events checked");
}

/// The three raw attacker lines of Panther's compromised-root-credentials scenario
/// (`REST.GET.OBJECT` over TLS 1.1) are found by deprecated-tls with their log lines.
#[test]
fn panther_attacker_scenario_lines_use_deprecated_tls() {
    need_corpora!();
    let text =
        std::fs::read_to_string(panther().join("test_scenarios/attacker_s3_access.yml")).unwrap();
    let lines: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim().trim_start_matches("- ").trim();
            let l = l
                .strip_prefix('\'')
                .and_then(|l| l.strip_suffix('\''))
                .unwrap_or(l);
            (l.split(' ').count() > 17).then(|| l.replace("''", "'"))
        })
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("attacker.log"), lines.join("\n") + "\n").unwrap();
    let out = ok(s3trawl_in(
        Path::new("."),
        &[
            "detect",
            "--logs",
            dir.path().to_str().unwrap(),
            "--since",
            "2000-01-01",
            "--until",
            "2030-01-01",
            "--only",
            "deprecated-tls",
            "--format",
            "json",
            "--fail-on",
            "critical",
        ],
    ));
    let findings: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(findings.len(), 1, "{out}");
    let mut evidence: Vec<i64> = findings[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["log_line"].as_i64().unwrap())
        .collect();
    evidence.sort();
    assert_eq!(evidence, vec![1, 2, 3]);
}
