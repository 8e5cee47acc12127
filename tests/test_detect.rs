//! Every detection of the pack on a case that must fire and one that must not (issue #4),
//! through the `detect` command.

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

const OWNER: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One access-log record; every field has a benign default.
#[derive(Clone)]
struct Access {
    minute: i64,
    bucket: &'static str,
    ip: String,
    requester: Option<String>,
    op: &'static str,
    key: Option<String>,
    status: u16,
    error: &'static str,
    sent: Option<u64>,
    agent: &'static str,
    version: Option<&'static str>,
    sigv: &'static str,
    cipher: &'static str,
    tls: &'static str,
    acl: bool,
}

fn access() -> Access {
    Access {
        minute: 0,
        bucket: "data-bucket",
        ip: "198.51.100.10".into(),
        requester: Some("arn:aws:iam::111122223333:user/alice".into()),
        op: "REST.GET.OBJECT",
        key: Some("reports/q3.pdf".into()),
        status: 200,
        error: "-",
        sent: Some(1000),
        agent: "aws-sdk-java/2.25.60 Linux/5.10",
        version: None,
        sigv: "SigV4",
        cipher: "TLS_AES_128_GCM_SHA256",
        tls: "TLSv1.3",
        acl: false,
    }
}

/// Minutes after 2026-11-01T00:00:00Z as an access-log time.
fn log_time(minute: i64) -> String {
    let (day, rest) = (minute / 1440, minute % 1440);
    let date = 1 + day;
    let (month, date) = if date > 30 {
        (11, date - 30)
    } else {
        (10, date)
    };
    format!(
        "[{date:02}/{}/2026:{:02}:{:02}:00 +0000]",
        MONTHS[month],
        rest / 60,
        rest % 60
    )
}

fn iso_time(minute: i64) -> String {
    let (day, rest) = (minute / 1440, minute % 1440);
    let date = 1 + day;
    let (month, date) = if date > 30 {
        (12, date - 30)
    } else {
        (11, date)
    };
    format!(
        "2026-{month:02}-{date:02}T{:02}:{:02}:00Z",
        rest / 60,
        rest % 60
    )
}

impl Access {
    fn line(&self, n: usize) -> String {
        let key = self.key.clone().unwrap_or_else(|| "-".into());
        let method = self.op.split('.').nth(1).unwrap_or("GET");
        let uri = if self.op.starts_with("S3.") || self.op.starts_with("BATCH.") {
            "-".to_string()
        } else {
            format!("\"{method} /{key} HTTP/1.1\"")
        };
        format!(
            "{OWNER} {} {} {} {} REQ{n:013} {} {key} {uri} {} {} {} 100 5 4 \"-\" \"{}\" {} HOSTID{n} {} {} AuthHeader {}.s3.amazonaws.com {} - {}",
            self.bucket,
            log_time(self.minute),
            self.ip,
            self.requester.clone().unwrap_or_else(|| "-".into()),
            self.op,
            self.status,
            self.error,
            self.sent.map_or("-".into(), |s| s.to_string()),
            self.agent,
            self.version.unwrap_or("-"),
            self.sigv,
            self.cipher,
            self.bucket,
            self.tls,
            if self.acl { "Yes" } else { "-" },
        )
    }
}

/// A CloudTrail record: defaults merged with `fields` (a JSON object).
fn trail(minute: i64, fields: Value) -> Value {
    let mut base = json!({
        "eventVersion": "1.10",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"},
        "eventTime": iso_time(minute),
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.10",
        "userAgent": "[aws-cli/2.17.4]",
        "requestParameters": {"bucketName": "data-bucket", "key": "reports/q3.pdf"},
        "responseElements": null,
        "requestID": format!("R{minute}"),
        "eventID": format!("E{minute}-{}", fields.to_string().len()),
        "readOnly": true,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
    });
    if let (Value::Object(b), Value::Object(f)) = (&mut base, fields) {
        for (k, v) in f {
            b.insert(k, v);
        }
    }
    base
}

struct Case {
    access: Vec<Access>,
    /// Lines appended to the access log as they are.
    raw: Vec<String>,
    trail: Vec<Value>,
    config: Option<String>,
    args: Vec<String>,
    /// The access-log object's name (default `access.log`).
    name: Option<String>,
}

fn case() -> Case {
    Case {
        access: Vec::new(),
        raw: Vec::new(),
        trail: Vec::new(),
        config: None,
        args: Vec::new(),
        name: None,
    }
}

impl Case {
    fn a(mut self, a: Access) -> Self {
        self.access.push(a);
        self
    }
    fn many(mut self, n: usize, f: impl Fn(usize) -> Access) -> Self {
        self.access.extend((0..n).map(f));
        self
    }
    fn t(mut self, minute: i64, fields: Value) -> Self {
        self.trail.push(trail(minute, fields));
        self
    }
    fn raw(mut self, line: &str) -> Self {
        self.raw.push(line.to_string());
        self
    }
    fn config(mut self, text: &str) -> Self {
        self.config = Some(text.to_string());
        self
    }
    fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Runs `detect --only id` and returns the findings.
    fn run(&self, id: &str) -> Vec<Value> {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        // A benign line on another bucket keeps every table non-empty.
        let mut lines: Vec<String> = vec![access().line(0)];
        lines.extend(self.access.iter().enumerate().map(|(i, a)| a.line(i + 1)));
        lines.extend(self.raw.iter().cloned());
        std::fs::write(
            logs.join(self.name.as_deref().unwrap_or("access.log")),
            lines.join("\n") + "\n",
        )
        .unwrap();
        if !self.trail.is_empty() {
            std::fs::write(
                logs.join("trail.json"),
                json!({"Records": self.trail}).to_string(),
            )
            .unwrap();
        }
        let mut args: Vec<String> = vec![
            "detect".into(),
            "--logs".into(),
            logs.display().to_string(),
            "--only".into(),
            id.into(),
            "--format".into(),
            "json".into(),
            "--fail-on".into(),
            "critical".into(),
        ];
        if let Some(c) = &self.config {
            let path = dir.path().join("config.toml");
            std::fs::write(&path, c).unwrap();
            args.push("--config".into());
            args.push(path.display().to_string());
        }
        args.extend(self.args.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = s3trawl_in(Path::new("."), &args);
        assert!(
            o.status.code().is_some_and(|c| c <= 1),
            "{id}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("failed"), "{id}: {}", stderr(&o));
        serde_json::from_str::<Vec<Value>>(&stdout(&o))
            .unwrap_or_else(|e| panic!("{id}: {e}: {}", stdout(&o)))
    }
}

fn fires(id: &str, c: &Case) -> Vec<Value> {
    let found = c.run(id);
    assert!(!found.is_empty(), "{id} should fire");
    for f in &found {
        assert_eq!(f["detection"], json!(id));
        if let Some(evidence) = f["evidence"].as_array() {
            for e in evidence {
                assert!(
                    e["log_object"].as_str().is_some_and(|o| o.ends_with(".log")
                        || o.ends_with(".json")
                        || o.contains("/2099-")),
                    "{id}: {e}"
                );
                assert!(e["log_line"].as_i64().is_some_and(|l| l >= 1), "{id}: {e}");
            }
        }
    }
    found
}

fn quiet(id: &str, c: &Case) {
    let found = c.run(id);
    assert!(found.is_empty(), "{id} should not fire: {found:#?}");
}

fn anonymous(a: Access) -> Access {
    Access {
        requester: None,
        sigv: "-",
        ..a
    }
}

#[test]
fn acl_dependent_requests() {
    let found = fires(
        "acl-dependent-requests",
        &case().a(Access {
            acl: true,
            bucket: "legacy",
            ..access()
        }),
    );
    let legacy = found
        .iter()
        .find(|f| f["bucket"] == json!("legacy"))
        .unwrap();
    assert_eq!(legacy["severity"], json!("low"));
    assert!(
        legacy["details"]
            .as_str()
            .unwrap()
            .contains("arn:aws:iam::111122223333:user/alice")
    );
    assert_eq!(legacy["extra"]["can_enforce_owner"], json!("no"));
    let ready = case()
        .a(Access {
            bucket: "modern",
            ..access()
        })
        .run("acl-dependent-requests");
    assert!(
        ready.iter().all(|f| f["severity"] == json!("info")),
        "{ready:?}"
    );
    assert!(
        ready
            .iter()
            .any(|f| f["bucket"] == json!("modern")
                && f["extra"]["can_enforce_owner"] == json!("yes"))
    );
}

#[test]
fn plain_http_requests() {
    fires(
        "plain-http-requests",
        &case().a(Access {
            cipher: "-",
            tls: "-",
            ..access()
        }),
    );
    quiet(
        "plain-http-requests",
        &case().a(Access {
            op: "S3.EXPIRE.OBJECT",
            cipher: "-",
            tls: "-",
            requester: Some("AmazonS3".into()),
            ..access()
        }),
    );
}

#[test]
fn deprecated_tls() {
    fires(
        "deprecated-tls",
        &case().a(Access {
            tls: "TLSV1.1",
            ..access()
        }),
    );
    fires(
        "deprecated-tls",
        &case().t(
            60,
            json!({"tlsDetails": {"tlsVersion": "TLSv1.1", "cipherSuite": "ECDHE-RSA-AES128-SHA"}}),
        ),
    );
    quiet(
        "deprecated-tls",
        &case().a(Access {
            tls: "TLSv1.2",
            ..access()
        }),
    );
}

#[test]
fn sigv2_requests() {
    fires(
        "sigv2-requests",
        &case().a(Access {
            sigv: "SigV2",
            ..access()
        }),
    );
    fires(
        "sigv2-requests",
        &case().t(
            60,
            json!({"additionalEventData": {"SignatureVersion": "SigV2"}}),
        ),
    );
    quiet(
        "sigv2-requests",
        &case().t(
            60,
            json!({"additionalEventData": {"SignatureVersion": "SigV4"}}),
        ),
    );
}

#[test]
fn sse_c_or_foreign_kms_key() {
    fires("sse-c-or-foreign-kms-key", &case().t(60, json!({"eventName": "PutObject", "requestParameters": {"bucketName": "b", "key": "k", "x-amz-server-side-encryption-customer-algorithm": "AES256"}})));
    fires("sse-c-or-foreign-kms-key", &case().t(60, json!({"eventName": "CopyObject", "requestParameters": {"bucketName": "b", "key": "k", "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:999999999999:key/x"}})));
    quiet("sse-c-or-foreign-kms-key", &case().t(60, json!({"eventName": "CopyObject", "requestParameters": {"bucketName": "b", "key": "k", "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:111122223333:key/x"}})));
}

fn deletes(n: usize, start: i64, who: &str, ip: &str) -> Vec<Access> {
    (0..n)
        .map(|i| Access {
            minute: start + (i as i64 % 20),
            op: "BATCH.DELETE.OBJECT",
            key: Some(format!("data/{who}-{i}.csv")),
            status: 204,
            sent: None,
            requester: Some(format!("arn:aws:iam::111122223333:user/{who}")),
            ip: ip.into(),
            ..access()
        })
        .collect()
}

#[test]
fn mass_delete() {
    let mut c = case();
    c.access = deletes(150, 2000, "mallory", "203.0.113.66");
    let found = fires("mass-delete", &c);
    assert_eq!(found[0]["count"], json!(150));
    assert_eq!(
        found[0]["principal"],
        json!("arn:aws:iam::111122223333:user/mallory")
    );
    assert_eq!(found[0]["severity"], json!("high"));
    // Below the threshold; lifecycle expirations are not anyone's deletes.
    let mut c = case().many(500, |i| Access {
        op: "S3.EXPIRE.OBJECT",
        requester: Some("AmazonS3".into()),
        ip: "-".into(),
        key: Some(format!("old/{i}")),
        minute: 2000,
        ..access()
    });
    c.access
        .extend(deletes(40, 2000, "mallory", "203.0.113.66"));
    quiet("mass-delete", &c);
    // One CloudTrail DeleteObjects request, which does not say how many objects it removed
    // (Stratus Red Team's batch-deletion ransomware): it counts as batch_weight deletes.
    let batch = json!({"eventName": "DeleteObjects", "eventCategory": "Data", "readOnly": false,
        "requestParameters": {"bucketName": "data-bucket", "Host": "data-bucket.s3.us-east-1.amazonaws.com", "delete": "", "x-id": "DeleteObjects"},
        "resources": [{"type": "AWS::S3::Object", "ARNPrefix": "arn:aws:s3:::data-bucket/"}, {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::data-bucket"}]});
    let found = fires("mass-delete", &case().t(2000, batch.clone()));
    assert_eq!(found[0]["count"], json!(50));
    // A principal that batch-deletes every hour is judged against that.
    let routine = (0..30).fold(case(), |c, h| c.t(60 * h, batch.clone()));
    let mut routine = routine.t(60 * 30, batch.clone());
    routine.args = vec!["--since".into(), "2026-11-02".into()];
    quiet("mass-delete", &routine);
    // As many deletes as the principal made in the baseline.
    let mut c = case();
    c.access = deletes(100, 100, "janitor", "10.0.0.5");
    c.access.extend(deletes(120, 3000, "janitor", "10.0.0.5"));
    c.args = vec!["--since".into(), "2026-11-02".into()];
    quiet("mass-delete", &c);
    c.args.clear();
    assert_eq!(
        c.run("mass-delete").len(),
        1,
        "without a baseline the first window is judged alone"
    );
}

#[test]
fn mass_delete_by_ip() {
    let mut c = case();
    c.access = deletes(150, 2000, "mallory", "203.0.113.66");
    let found = fires("mass-delete-by-ip", &c);
    assert_eq!(found[0]["ip"], json!("203.0.113.66"));
    let mut c = case();
    c.access = deletes(40, 2000, "mallory", "203.0.113.66");
    quiet("mass-delete-by-ip", &c);
}

#[test]
fn versioned_deletes() {
    fires(
        "versioned-deletes",
        &case().many(12, |i| Access {
            op: "REST.DELETE.OBJECT",
            version: Some("3HL4kqtJlcpXroDTDmJ"),
            status: 204,
            key: Some(format!("k{i}")),
            ..access()
        }),
    );
    quiet(
        "versioned-deletes",
        &case().many(12, |i| Access {
            op: "REST.DELETE.OBJECT",
            status: 204,
            key: Some(format!("k{i}")),
            ..access()
        }),
    );
}

#[test]
fn lifecycle_expirations() {
    fires(
        "lifecycle-expirations",
        &case().many(5, |i| Access {
            op: "S3.EXPIRE.OBJECT",
            requester: Some("AmazonS3".into()),
            ip: "-".into(),
            key: Some(format!("old/{i}")),
            ..access()
        }),
    );
    quiet("lifecycle-expirations", &case().a(access()));
}

#[test]
fn exfiltrate_then_delete() {
    let reads = |c: Case| {
        c.many(3, |i| Access {
            minute: 100 + i as i64,
            sent: Some(60 << 20),
            key: Some(format!("db/part{i}.csv")),
            ..access()
        })
    };
    let mut c = reads(case());
    c.access.extend(deletes(25, 300, "alice", "198.51.100.10"));
    let found = fires("exfiltrate-then-delete", &c);
    assert_eq!(found[0]["severity"], json!("critical"));
    let mut late = reads(case());
    late.access
        .extend(deletes(25, 100 + 2 * 1440, "alice", "198.51.100.10"));
    quiet("exfiltrate-then-delete", &late);
    // An application that reads and cleans up every day: judged against its baseline.
    let day = 1440;
    let mut routine = case().many(3, |i| Access {
        minute: day + 100 + i as i64,
        sent: Some(60 << 20),
        key: Some(format!("db/part{i}.csv")),
        ..access()
    });
    routine
        .access
        .extend(deletes(25, 300, "alice", "198.51.100.10"));
    routine
        .access
        .extend(deletes(25, day + 300, "alice", "198.51.100.10"));
    routine.args = vec!["--since".into(), "2026-11-02".into()];
    quiet("exfiltrate-then-delete", &routine);
}

#[test]
fn ransom_note_upload() {
    fires(
        "ransom-note-upload",
        &case().a(Access {
            op: "REST.PUT.OBJECT",
            key: Some("HOW_TO_DECRYPT_FILES.txt".into()),
            ..access()
        }),
    );
    fires("ransom-note-upload", &case().t(60, json!({"eventName": "PutObject", "requestParameters": {"bucketName": "b", "key": "docs/README_TO_RESTORE.txt"}})));
    // The note Stratus Red Team's S3 ransomware techniques leave.
    fires("ransom-note-upload", &case().t(60, json!({"eventName": "PutObject", "requestParameters": {"bucketName": "b", "key": "FILES-DELETED.txt"}})));
    quiet(
        "ransom-note-upload",
        &case().a(Access {
            op: "REST.PUT.OBJECT",
            key: Some("backups/restore-db.sh".into()),
            ..access()
        }),
    );
    quiet(
        "ransom-note-upload",
        &case().a(Access {
            op: "REST.PUT.OBJECT",
            key: Some("reports/decryption-notes.pdf".into()),
            ..access()
        }),
    );
}

#[test]
fn new_ip_for_principal() {
    let history = |c: Case| {
        c.many(48, |i| Access {
            minute: i as i64 * 60,
            ..access()
        })
    };
    let found = fires(
        "new-ip-for-principal",
        &history(case()).a(Access {
            minute: 3000,
            ip: "203.0.113.99".into(),
            ..access()
        }),
    );
    assert_eq!(found[0]["ip"], json!("203.0.113.99"));
    quiet(
        "new-ip-for-principal",
        &history(case()).a(Access {
            minute: 3000,
            ..access()
        }),
    );
    quiet(
        "new-ip-for-principal",
        &history(case()).a(Access {
            minute: 3000,
            ip: "10.1.2.3".into(),
            ..access()
        }),
    );
    // A principal without history is not judged.
    quiet(
        "new-ip-for-principal",
        &case().a(Access {
            minute: 3000,
            ip: "203.0.113.99".into(),
            requester: Some("arn:aws:iam::111122223333:user/new".into()),
            ..access()
        }),
    );
}

#[test]
fn anonymous_access_new_ip() {
    let history = |c: Case| {
        c.many(30, |i| Access {
            minute: i as i64 * 60,
            ..access()
        })
    };
    fires(
        "anonymous-access-new-ip",
        &history(case()).a(anonymous(Access {
            minute: 3000,
            ip: "203.0.113.5".into(),
            ..access()
        })),
    );
    quiet(
        "anonymous-access-new-ip",
        &history(case()).a(Access {
            minute: 3000,
            ip: "203.0.113.5".into(),
            ..access()
        }),
    );
}

#[test]
fn anonymous_access_to_private_bucket() {
    let c = case().a(anonymous(Access {
        bucket: "payroll-2026",
        ..access()
    }));
    assert!(
        c.run("anonymous-access-to-private-bucket").is_empty(),
        "nothing without the config"
    );
    let c = c.config("[settings]\nprivate_buckets = [\"payroll-*\"]\n");
    fires("anonymous-access-to-private-bucket", &c);
    // A denied anonymous probe is not access.
    let denied = case()
        .a(anonymous(Access {
            bucket: "payroll-2026",
            status: 403,
            error: "AccessDenied",
            ..access()
        }))
        .config("[settings]\nprivate_buckets = [\"payroll-*\"]\n");
    quiet("anonymous-access-to-private-bucket", &denied);
}

#[test]
fn threat_list_ip() {
    let c = case().a(Access {
        ip: "198.51.100.200".into(),
        ..access()
    });
    let found = fires(
        "threat-list-ip",
        &c.config("[[threat_lists]]\nname = \"tor\"\nentries = [\"198.51.100.192/26\"]\n"),
    );
    assert_eq!(found[0]["ip"], json!("198.51.100.200"));
    let c = case().a(Access {
        ip: "192.0.2.1".into(),
        ..access()
    });
    quiet(
        "threat-list-ip",
        &c.config("[[threat_lists]]\nname = \"tor\"\nentries = [\"198.51.100.192/26\"]\n"),
    );
}

#[test]
fn offensive_user_agent() {
    fires(
        "offensive-user-agent",
        &case().a(Access {
            agent: "sqlmap/1.8.2#stable (https://sqlmap.org)",
            ..access()
        }),
    );
    fires("offensive-user-agent", &case().t(60, json!({"userAgent": "aws-cli/1.29.16 Python/3.11.2 Linux/6.5.0-kali3-amd64 botocore/1.31.16"})));
    quiet("offensive-user-agent", &case().a(access()));
}

#[test]
fn access_denied_burst() {
    let denied = |i: usize, spread: i64| Access {
        minute: 500 + i as i64 * spread,
        status: 403,
        error: "AccessDenied",
        ip: "203.0.113.40".into(),
        key: Some(format!("guess/{i}")),
        requester: None,
        ..access()
    };
    fires("access-denied-burst", &case().many(25, |i| denied(i, 0)));
    quiet("access-denied-burst", &case().many(25, |i| denied(i, 30)));
}

#[test]
fn request_rate_spike() {
    let steady = |c: Case| {
        c.many(24 * 10, |i| Access {
            minute: (i / 10) as i64 * 60 + (i % 10) as i64,
            ..access()
        })
    };
    fires(
        "request-rate-spike",
        &steady(case()).many(600, |i| Access {
            minute: 30 * 60 + (i % 60) as i64,
            ..access()
        }),
    );
    quiet("request-rate-spike", &steady(case()));
}

#[test]
fn bytes_out_spike() {
    let steady = |c: Case| {
        c.many(24 * 2, |i| Access {
            minute: (i / 2) as i64 * 60,
            sent: Some(1 << 20),
            ..access()
        })
    };
    fires(
        "bytes-out-spike",
        &steady(case()).many(3, |i| Access {
            minute: 30 * 60 + i as i64,
            sent: Some(1 << 30),
            ..access()
        }),
    );
    quiet("bytes-out-spike", &steady(case()));
}

fn policy(principal: Value) -> Value {
    json!({"eventName": "PutBucketPolicy", "readOnly": false, "requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}}})
}

#[test]
fn bucket_policy_public_or_external() {
    let found = fires(
        "bucket-policy-public-or-external",
        &case().t(60, policy(json!("*"))),
    );
    assert_eq!(found[0]["severity"], json!("high"));
    let found = fires(
        "bucket-policy-public-or-external",
        &case().t(60, policy(json!({"AWS": "arn:aws:iam::999999999999:root"}))),
    );
    assert_eq!(found[0]["severity"], json!("medium"));
    quiet(
        "bucket-policy-public-or-external",
        &case().t(60, policy(json!({"Service": "cloudtrail.amazonaws.com"}))),
    );
    // CloudFront's origin access identity is AWS's principal, not another account's.
    quiet(
        "bucket-policy-public-or-external",
        &case().t(
            60,
            policy(json!({"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL"})),
        ),
    );
}

/// The issue's crafted policies: each form AWS counts as public is high, one confined by a
/// fixed VPC endpoint is not a finding.
#[test]
fn every_public_policy_form_is_high() {
    let with = |statement: Value| json!({"eventName": "PutBucketPolicy", "readOnly": false, "requestParameters": {"bucketName": "data-bucket", "bucketPolicy": {"Version": "2012-10-17", "Statement": [statement]}}});
    for statement in [
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-bucket/*", "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}),
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-bucket/*", "Condition": {"Null": {"aws:SourceVpce": "true"}}}),
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-bucket/*", "Condition": {"StringLike": {"aws:PrincipalArn": "*"}}}),
        json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-bucket/*"}),
    ] {
        let found = fires(
            "bucket-policy-public-or-external",
            &case().t(60, with(statement.clone())),
        );
        assert_eq!(found[0]["severity"], json!("high"), "{statement}");
    }
    quiet(
        "bucket-policy-public-or-external",
        &case().t(60, with(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-bucket/*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}))),
    );
}

#[test]
fn bucket_policy_changed() {
    fires(
        "bucket-policy-changed",
        &case().t(60, policy(json!({"Service": "cloudtrail.amazonaws.com"}))),
    );
    fires(
        "bucket-policy-changed",
        &case().t(60, json!({"eventName": "PutBucketAcl", "requestParameters": {"bucketName": "b", "x-amz-acl": ["private"]}})),
    );
    quiet(
        "bucket-policy-changed",
        &case().t(60, json!({"eventName": "PutBucketAcl", "errorCode": "AccessDenied", "requestParameters": {"bucketName": "b", "x-amz-acl": ["private"]}})),
    );
    quiet(
        "bucket-policy-changed",
        &case().t(60, json!({"eventName": "GetBucketPolicy"})),
    );
}

#[test]
fn acl_grant_public() {
    fires("acl-grant-public", &case().t(60, json!({"eventName": "PutBucketAcl", "requestParameters": {"bucketName": "b", "AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}}})));
    fires("acl-grant-public", &case().t(60, json!({"eventName": "PutObject", "requestParameters": {"bucketName": "b", "key": "k", "x-amz-acl": "public-read"}})));
    quiet("acl-grant-public", &case().t(60, json!({"eventName": "PutObject", "requestParameters": {"bucketName": "b", "key": "k", "x-amz-acl": "bucket-owner-full-control"}})));
}

#[test]
fn public_access_block_removed() {
    fires("public-access-block-removed", &case().t(60, json!({"eventName": "DeleteBucketPublicAccessBlock", "requestParameters": {"bucketName": "b"}})));
    fires("public-access-block-removed", &case().t(60, json!({"eventName": "PutBucketPublicAccessBlock", "requestParameters": {"bucketName": "b", "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": false, "RestrictPublicBuckets": true}}})));
    quiet("public-access-block-removed", &case().t(60, json!({"eventName": "PutBucketPublicAccessBlock", "requestParameters": {"bucketName": "b", "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}})));
}

#[test]
fn server_access_logging_disabled() {
    fires("server-access-logging-disabled", &case().t(60, json!({"eventName": "PutBucketLogging", "requestParameters": {"bucketName": "b", "BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}})));
    quiet("server-access-logging-disabled", &case().t(60, json!({"eventName": "PutBucketLogging", "requestParameters": {"bucketName": "b", "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "b/"}}}})));
}

#[test]
fn versioning_suspended_or_mfa_delete_disabled() {
    fires("versioning-suspended-or-mfa-delete-disabled", &case().t(60, json!({"eventName": "PutBucketVersioning", "requestParameters": {"bucketName": "b", "VersioningConfiguration": {"Status": "Suspended"}}})));
    fires("versioning-suspended-or-mfa-delete-disabled", &case().t(60, json!({"eventName": "PutBucketVersioning", "requestParameters": {"bucketName": "b", "VersioningConfiguration": {"Status": "Enabled", "MfaDelete": "Disabled"}}})));
    quiet("versioning-suspended-or-mfa-delete-disabled", &case().t(60, json!({"eventName": "PutBucketVersioning", "requestParameters": {"bucketName": "b", "VersioningConfiguration": {"Status": "Enabled"}}})));
}

#[test]
fn short_lifecycle_expiration() {
    let lifecycle = |bucket: &str, days: i64| json!({"eventName": "PutBucketLifecycle", "requestParameters": {"bucketName": bucket, "LifecycleConfiguration": {"Rule": {"Expiration": {"Days": days}, "Status": "Enabled", "ID": "r"}}}});
    let found = fires(
        "short-lifecycle-expiration",
        &case().t(60, lifecycle("org-cloudtrail-logs", 1)),
    );
    assert_eq!(found[0]["severity"], json!("high"));
    let found = fires(
        "short-lifecycle-expiration",
        &case().t(60, lifecycle("scratch", 3)),
    );
    assert_eq!(found[0]["severity"], json!("medium"));
    quiet(
        "short-lifecycle-expiration",
        &case().t(60, lifecycle("org-cloudtrail-logs", 365)),
    );
}

#[test]
fn replication_or_encryption_removed() {
    fires("replication-or-encryption-removed", &case().t(60, json!({"eventName": "DeleteBucketReplication", "requestParameters": {"bucketName": "b"}})));
    quiet(
        "replication-or-encryption-removed",
        &case().t(
            60,
            json!({"eventName": "PutBucketReplication", "requestParameters": {"bucketName": "b"}}),
        ),
    );
}

#[test]
fn object_lock_or_ownership_changed() {
    fires("object-lock-or-ownership-changed", &case().t(60, json!({"eventName": "PutBucketOwnershipControls", "requestParameters": {"bucketName": "b", "OwnershipControls": {"Rule": {"ObjectOwnership": "ObjectWriter"}}}})));
    quiet("object-lock-or-ownership-changed", &case().t(60, json!({"eventName": "PutBucketOwnershipControls", "requestParameters": {"bucketName": "b", "OwnershipControls": {"Rule": {"ObjectOwnership": "BucketOwnerEnforced"}}}})));
}

#[test]
fn cloudtrail_tampering() {
    fires("cloudtrail-tampering", &case().t(60, json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "requestParameters": {"name": "org-trail"}})));
    fires("cloudtrail-tampering", &case().t(60, json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "PutEventSelectors", "requestParameters": {"trailName": "t", "eventSelectors": [{"includeManagementEvents": false, "readWriteType": "All", "dataResources": []}]}})));
    quiet("cloudtrail-tampering", &case().t(60, json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StartLogging", "requestParameters": {"name": "org-trail"}})));
}

/// The real lab's false alarm: the account root adding CloudWatch Logs delivery to a trail, refused
/// for its own misconfiguration (InvalidCloudWatchLogsRoleArnException), is not tampering;
/// moving the trail's delivery, refused or not, is.
#[test]
fn a_trail_misconfiguration_is_not_tampering_but_a_reduction_is_failed_or_not() {
    let root = json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"});
    let adding = json!({"name": "management-events", "cloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111122223333:log-group:aws-cloudtrail-logs-111122223333-0b0c9d4e:*", "cloudWatchLogsRoleArn": "arn:aws:iam::111122223333:role/service-role/CloudTrailRoleForCloudWatchLogs"});
    let mut c = case();
    for minute in 60..64 {
        c = c.t(minute, json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "UpdateTrail", "userIdentity": root, "requestParameters": adding, "errorCode": "InvalidCloudWatchLogsRoleArnException", "errorMessage": "Access denied. Verify in IAM that the role has adequate permissions."}));
    }
    quiet("logging-tampering-attempt", &c);
    quiet("cloudtrail-tampering", &case().t(60, json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "UpdateTrail", "userIdentity": root, "requestParameters": adding})));
    let moved = json!({"name": "management-events", "s3BucketName": "attacker-sink-bucket"});
    let found = fires("logging-tampering-attempt", &case().t(60, json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "UpdateTrail", "requestParameters": moved, "errorCode": "InsufficientS3BucketPolicyException", "errorMessage": "Incorrect S3 bucket policy is detected for bucket: attacker-sink-bucket"})));
    assert_eq!(found[0]["severity"], json!("high"), "{}", found[0]);
    assert!(
        found[0]["details"]
            .as_str()
            .unwrap()
            .contains("attacker-sink-bucket"),
        "{}",
        found[0]
    );
    let found = fires("cloudtrail-tampering", &case().t(60, json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "UpdateTrail", "requestParameters": {"name": "t", "isMultiRegionTrail": false, "enableLogFileValidation": false}})));
    assert!(
        found[0]["details"]
            .as_str()
            .unwrap()
            .contains("multi-region off"),
        "{}",
        found[0]
    );
}

/// AWS's log-delivery service refused writing VPC flow logs (the real lab: 9,686 refusals, one
/// medium "burst"): one high log-delivery-failing per bucket and log type, and no burst.
#[test]
fn log_delivery_failing() {
    let delivery = json!({"type": "AWSService", "invokedBy": "delivery.logs.amazonaws.com"});
    let mut c = case();
    for minute in 60..90 {
        c = c.t(minute, json!({"eventName": "PutObject", "userIdentity": delivery, "sourceIPAddress": "delivery.logs.amazonaws.com", "userAgent": "delivery.logs.amazonaws.com", "requestParameters": {"bucketName": "flow-log-bucket", "key": format!("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/01/111122223333_vpcflowlogs_us-east-1_fl-0abc_20261101T{minute:04}Z_hash.log.gz"), "x-amz-acl": "bucket-owner-full-control"}, "errorCode": "AccessDenied", "errorMessage": "Access Denied", "readOnly": false}));
    }
    // The log bucket's own access log sees S3's access-log delivery refused too.
    for minute in 60..63 {
        c = c.a(Access {
            minute,
            bucket: "access-log-bucket",
            requester: Some("svc:logging.s3.amazonaws.com".into()),
            op: "REST.PUT.OBJECT",
            key: Some(format!(
                "data-bucket/2026-11-01-01-{minute:02}-00-ABCDEF0123456789"
            )),
            status: 403,
            error: "AccessDenied",
            agent: "aws-internal/3",
            ..access()
        });
    }
    let found = fires("log-delivery-failing", &c);
    assert_eq!(found.len(), 2, "{found:?}");
    let flow = found
        .iter()
        .find(|f| f["details"].as_str().unwrap().contains("VPC flow logs"))
        .expect("the flow logs");
    assert_eq!(flow["severity"], json!("high"));
    assert_eq!(flow["count"], json!(30));
    let details = flow["details"].as_str().unwrap();
    assert!(
        details.contains("flow-log-bucket")
            && details.contains("111122223333")
            && details.contains("AWSLogs/111122223333/vpcflowlogs/"),
        "{details}"
    );
    assert!(
        found.iter().any(|f| f["details"]
            .as_str()
            .unwrap()
            .contains("S3 server access logs")),
        "{found:?}"
    );
    quiet("access-denied-burst", &c);
    // An ordinary user's refused PutObject is not a delivery failing.
    quiet(
        "log-delivery-failing",
        &case().t(
            60,
            json!({"eventName": "PutObject", "errorCode": "AccessDenied"}),
        ),
    );
}

/// The real lab's identity steps, as a compromised IAM user took them: IAM enumerated from a new
/// address, an access key created, an inline policy put on itself, then S3. Each is a finding
/// that names the user's S3 activity in the window.
#[test]
fn the_identity_steps_of_a_compromised_user_are_findings_linked_to_its_s3_activity() {
    let mallory = json!({"type": "IAMUser", "principalId": "AIDAMALLORY", "arn": "arn:aws:iam::111122223333:user/mallory", "accountId": "111122223333", "userName": "mallory"});
    let iam = |minute: i64, name: &str, params: Value, error: Option<&str>| {
        let mut r = json!({"eventSource": "iam.amazonaws.com", "eventName": name, "userIdentity": mallory, "sourceIPAddress": "203.0.113.77", "requestParameters": params, "readOnly": false});
        if let Some(e) = error {
            r["errorCode"] = json!(e);
        }
        (minute, r)
    };
    let steps = vec![
        iam(60, "ListUsers", json!({}), None),
        iam(61, "ListRoles", json!({}), None),
        (
            62,
            json!({"eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity", "userIdentity": mallory, "sourceIPAddress": "203.0.113.77", "requestParameters": null}),
        ),
        iam(
            63,
            "ListAttachedUserPolicies",
            json!({"userName": "mallory"}),
            Some("AccessDenied"),
        ),
        (
            64,
            json!({"eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "userIdentity": mallory, "sourceIPAddress": "203.0.113.77", "requestParameters": {"userName": "mallory"}, "responseElements": {"accessKey": {"accessKeyId": "AKIAEXAMPLEKEY000001", "userName": "mallory", "status": "Active"}}}),
        ),
        iam(
            65,
            "PutUserPolicy",
            json!({"userName": "mallory", "policyName": "s3-all", "policyDocument": "{}"}),
            None,
        ),
        (
            66,
            json!({"eventName": "GetObject", "userIdentity": mallory, "sourceIPAddress": "203.0.113.77", "requestParameters": {"bucketName": "data-bucket", "key": "reports/q3.pdf"}}),
        ),
    ];
    let mut c = case();
    for (minute, r) in steps {
        c = c.t(minute, r);
    }
    let linked = |f: &Value| {
        assert!(
            f["details"].as_str().unwrap().contains("S3 in the window"),
            "{f}"
        );
        assert!(
            f["details"].as_str().unwrap().contains("data-bucket"),
            "{f}"
        );
    };
    let found = fires("iam-discovery-burst", &c);
    assert_eq!(
        found[0]["entity"],
        json!("arn:aws:iam::111122223333:user/mallory")
    );
    assert_eq!(found[0]["severity"], json!("high"), "{}", found[0]);
    linked(&found[0]);
    let found = fires("access-key-created", &c);
    assert!(
        found[0]["details"].as_str().unwrap().contains("for itself"),
        "{}",
        found[0]
    );
    linked(&found[0]);
    let found = fires("self-privilege-escalation", &c);
    assert!(
        found[0]["details"]
            .as_str()
            .unwrap()
            .contains("PutUserPolicy s3-all"),
        "{}",
        found[0]
    );
    linked(&found[0]);
    // An administrator changing another user is not self-escalation; a key for another user is high.
    let admin = json!({"type": "IAMUser", "principalId": "AIDAADMIN", "arn": "arn:aws:iam::111122223333:user/admin", "accountId": "111122223333", "userName": "admin"});
    let other = case()
        .t(60, json!({"eventSource": "iam.amazonaws.com", "eventName": "PutUserPolicy", "userIdentity": admin, "requestParameters": {"userName": "bob", "policyName": "p"}}))
        .t(61, json!({"eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "userIdentity": admin, "requestParameters": {"userName": "bob"}}));
    quiet("self-privilege-escalation", &other);
    // A refused CreateAccessKey created nothing.
    quiet("access-key-created", &case().t(60, json!({"eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "userIdentity": admin, "requestParameters": {"userName": "bob"}, "errorCode": "AccessDenied"})));
    let found = fires("access-key-created", &other);
    assert_eq!(found[0]["severity"], json!("high"), "{}", found[0]);
    // A principal that enumerated IAM in the baseline too (two days before) is not a burst.
    let mut usual = case();
    for (i, name) in ["ListUsers", "ListRoles", "ListPolicies"]
        .into_iter()
        .enumerate()
    {
        let i = i as i64;
        usual = usual.t(60 + i, iam(60 + i, name, json!({}), None).1);
        usual = usual.t(3000 + i, iam(3000 + i, name, json!({}), None).1);
    }
    usual.args = vec!["--since".into(), "2026-11-02".into()];
    quiet("iam-discovery-burst", &usual);
}

#[test]
fn root_user_activity() {
    let root = json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"});
    let found = fires("root-user-activity", &case()
        .t(60, json!({"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn", "userIdentity": root, "responseElements": {"ConsoleLogin": "Success"}}))
        .t(61, json!({"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "userIdentity": root, "requestParameters": {"bucketName": "data-bucket"}})));
    assert_eq!(found[0]["entity"], json!("111122223333"));
    let details = found[0]["details"].as_str().unwrap();
    assert!(
        details.starts_with("console sign-in") && details.contains("S3 in the window"),
        "{details}"
    );
    // What AWS does on root's behalf is not root activity.
    quiet("root-user-activity", &case().t(60, json!({"eventSource": "s3.amazonaws.com", "eventName": "PutObject", "userIdentity": {"type": "Root", "principalId": "111122223333", "accountId": "111122223333", "invokedBy": "cloudtrail.amazonaws.com"}})));
}

/// The real lab: thousands of events delivered by a multi-region and a regional trail (two
/// copies, one eventID). One event is one count; two events are two.
#[test]
fn an_event_delivered_by_two_trails_counts_once() {
    let stop = json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "requestParameters": {"name": "org-trail"}, "eventID": "3e1f5b2a-0000-4000-8000-000000000001"});
    let found = fires(
        "cloudtrail-tampering",
        &case().t(60, stop.clone()).t(60, stop.clone()),
    );
    assert_eq!(found[0]["count"], json!(1), "{}", found[0]);
    let mut other = stop.clone();
    other["eventID"] = json!("3e1f5b2a-0000-4000-8000-000000000002");
    let found = fires("cloudtrail-tampering", &case().t(60, stop).t(60, other));
    assert_eq!(found[0]["count"], json!(2), "{}", found[0]);
}

#[test]
fn logging_tampering_attempt() {
    need_corpora!();
    let refused = |source: &str, name: &str, params: Value, error: &str| json!({"eventSource": source, "eventName": name, "requestParameters": params, "errorCode": error, "errorMessage": "denied"});
    let found = fires(
        "logging-tampering-attempt",
        &case().t(
            60,
            refused(
                "cloudtrail.amazonaws.com",
                "StopLogging",
                json!({"name": "org-trail"}),
                "AccessDenied",
            ),
        ),
    );
    // A real refused StopLogging: Panther's test record "Error Stopping CloudTrail" (their
    // rule does not fire on it; an attempt to stop the trail is what this detection is for).
    let tests: Value = serde_json::from_str(
        &std::fs::read_to_string(
            corpora().join("detections/panther/tests/aws_cloudtrail_stopped.tests.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut record = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Error Stopping CloudTrail")
        .expect("Panther's refused StopLogging")["log"]
        .clone();
    assert_eq!(record["errorCode"], json!("InvalidTrailNameException"));
    record["eventTime"] = json!(iso_time(60));
    let real = fires("logging-tampering-attempt", &case().t(60, record));
    assert!(
        real[0]["details"]
            .as_str()
            .unwrap()
            .contains("StopLogging (InvalidTrailNameException)"),
        "{}",
        real[0]
    );
    // Stopping the trail reduces logging: high even refused (the intent is the finding).
    assert_eq!(found[0]["severity"], json!("high"));
    assert!(
        found[0]["details"]
            .as_str()
            .unwrap()
            .contains("StopLogging (AccessDenied)"),
        "{}",
        found[0]
    );
    // Probing several ways is high.
    let found = fires(
        "logging-tampering-attempt",
        &case()
            .t(
                60,
                refused(
                    "cloudtrail.amazonaws.com",
                    "DeleteTrail",
                    json!({"name": "org-trail"}),
                    "TrailNotFoundException",
                ),
            )
            .t(
                61,
                refused(
                    "cloudtrail.amazonaws.com",
                    "PutEventSelectors",
                    json!({"trailName": "org-trail", "eventSelectors": []}),
                    "AccessDenied",
                ),
            ),
    );
    assert_eq!(found[0]["severity"], json!("high"));
    fires(
        "logging-tampering-attempt",
        &case().t(
            60,
            refused(
                "s3.amazonaws.com",
                "PutBucketLogging",
                json!({"bucketName": "b", "BucketLoggingStatus": {}}),
                "AccessDenied",
            ),
        ),
    );
    fires(
        "logging-tampering-attempt",
        &case().t(
            60,
            refused(
                "s3.amazonaws.com",
                "DeleteBucketPolicy",
                json!({"bucketName": "b"}),
                "AccessDenied",
            ),
        ),
    );
    fires(
        "logging-tampering-attempt",
        &case().t(
            60,
            refused(
                "s3.amazonaws.com",
                "PutBucketVersioning",
                json!({"bucketName": "b", "VersioningConfiguration": {"Status": "Suspended"}}),
                "AccessDenied",
            ),
        ),
    );
    fires(
        "logging-tampering-attempt",
        &case().a(Access {
            op: "REST.DELETE.BUCKETPOLICY",
            key: None,
            status: 403,
            error: "AccessDenied",
            ..access()
        }),
    );
    // Successful calls are other detections'; refused harmless ones are nothing.
    quiet("logging-tampering-attempt", &case().t(60, json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "requestParameters": {"name": "org-trail"}})));
    quiet("logging-tampering-attempt", &case().t(60, refused("s3.amazonaws.com", "PutBucketLogging", json!({"bucketName": "b", "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "l", "TargetPrefix": "b/"}}}), "AccessDenied")));
    quiet(
        "logging-tampering-attempt",
        &case().t(
            60,
            refused(
                "cloudtrail.amazonaws.com",
                "StartLogging",
                json!({"name": "org-trail"}),
                "AccessDenied",
            ),
        ),
    );
}

#[test]
fn unparsed_records() {
    // A header crafted to be unreadable, and a line cut short: one finding for the object,
    // with the first reject's place.
    let found = fires(
        "unparsed-records",
        &case()
            .raw("this is not a log record")
            .raw(&access().line(5)[..120]),
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["count"], json!(2));
    assert_eq!(found[0]["severity"], json!("medium"));
    assert!(found[0]["entity"].as_str().unwrap().ends_with("access.log"));
    assert_eq!(found[0]["evidence"][0]["log_line"], json!(2));
    assert!(
        found[0]["details"].as_str().unwrap().contains("at line 2"),
        "{}",
        found[0]
    );
    quiet("unparsed-records", &case().a(access()));
}

#[test]
fn bucket_deleted() {
    fires(
        "bucket-deleted",
        &case().t(
            60,
            json!({"eventName": "DeleteBucket", "requestParameters": {"bucketName": "b"}}),
        ),
    );
    quiet("bucket-deleted", &case().t(60, json!({"eventName": "DeleteBucket", "errorCode": "BucketNotEmpty", "requestParameters": {"bucketName": "b"}})));
}

#[test]
fn credential_file_download() {
    let found = fires(
        "credential-file-download",
        &case().a(Access {
            key: Some("app/.env".into()),
            ..access()
        }),
    );
    assert_eq!(found[0]["severity"], json!("high"));
    let found = fires(
        "credential-file-download",
        &case().a(Access {
            key: Some("home/user/.ssh/id_rsa".into()),
            status: 403,
            error: "AccessDenied",
            ..access()
        }),
    );
    assert_eq!(found[0]["severity"], json!("medium"));
    quiet(
        "credential-file-download",
        &case().a(Access {
            key: Some("docs/environment.txt".into()),
            ..access()
        }),
    );
}

#[test]
fn bucket_config_enumeration() {
    const OPS: [&str; 5] = [
        "REST.GET.BUCKETPOLICY",
        "REST.GET.ACL",
        "REST.GET.LOGGING_STATUS",
        "REST.GET.VERSIONING",
        "REST.GET.ENCRYPTION",
    ];
    const BUCKETS: [&str; 4] = ["a-bucket", "b-bucket", "c-bucket", "d-bucket"];
    fires(
        "bucket-config-enumeration",
        &case().many(20, |i| Access {
            op: OPS[i % 5],
            bucket: BUCKETS[i / 5],
            key: None,
            minute: 100 + i as i64,
            ..access()
        }),
    );
    quiet(
        "bucket-config-enumeration",
        &case().many(5, |i| Access {
            op: OPS[i % 5],
            key: None,
            minute: 100 + i as i64,
            ..access()
        }),
    );
    // AWS Config reading every setting of every bucket through its service-linked role.
    let config_trail = (0..20).fold(case(), |c, i| {
        c.t(
            100 + i,
            json!({
                "eventName": (["GetBucketPolicy", "GetBucketAcl", "GetBucketLogging", "GetBucketVersioning", "GetBucketEncryption"][i as usize % 5]),
                "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForConfig/configLambdaExecution", "invokedBy": "config.amazonaws.com"},
                "sourceIPAddress": "config.amazonaws.com",
                "userAgent": "config.amazonaws.com",
                "requestParameters": {"bucketName": (BUCKETS[i as usize / 5])},
            }),
        )
    });
    quiet("bucket-config-enumeration", &config_trail);
}

#[test]
fn copy_to_external_account() {
    let copy = |other: &str| json!({"eventName": "CopyObject", "requestParameters": {"bucketName": "dest", "key": "k", "x-amz-copy-source": "src/k"}, "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::src/k"}, {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::src"}, {"accountId": other, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::dest"}]});
    fires(
        "copy-to-external-account",
        &case().t(60, copy("999999999999")),
    );
    quiet(
        "copy-to-external-account",
        &case().t(60, copy("111122223333")),
    );
}

#[test]
fn log_object_from_the_future() {
    // An object named in 2099 (its records of 2026): read, and reported.
    let found = fires(
        "log-object-from-the-future",
        &case()
            .a(access())
            .named("2099-12-31-23-59-59-0FF1CE0FF1CE0FF1"),
    );
    assert_eq!(found[0]["severity"], json!("high"));
    assert!(
        found[0]["entity"]
            .as_str()
            .unwrap()
            .ends_with("2099-12-31-23-59-59-0FF1CE0FF1CE0FF1")
    );
    // Named as AWS would name it now: nothing.
    let now = chrono::Utc::now().format("%Y-%m-%d-%H-%M-%S").to_string();
    quiet(
        "log-object-from-the-future",
        &case().a(access()).named(&format!("{now}-0123456789ABCDEF")),
    );
}

#[test]
fn every_detection_has_a_test_here() {
    let source: String = std::fs::read_to_string(project().join("tests/test_detect.rs"))
        .unwrap()
        .split_whitespace()
        .collect();
    for d in s3trawl::detect::pack::builtin().unwrap() {
        assert!(
            source.contains(&format!("fires(\"{}\"", d.id)),
            "no firing case for {}",
            d.id
        );
        assert!(
            source.contains(&format!("quiet(\"{}\"", d.id))
                || source.contains(&format!("run(\"{}\")", d.id)),
            "no quiet case for {}",
            d.id
        );
        assert!(
            !d.description.is_empty() && !d.action.is_empty() && !d.references.is_empty(),
            "{} lacks documentation",
            d.id
        );
    }
}

#[test]
fn the_decoded_history_is_spilled_to_a_temporary_folder_and_removed() {
    // Over raw logs the history goes to Parquet files in the temporary folder (memory stays
    // bounded whatever the span); they are gone once the run is over, findings or not.
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let lines: Vec<String> = (0..20).map(|i| access().line(i)).collect();
    std::fs::write(logs.join("access.log"), lines.join("\n") + "\n").unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_s3trawl"))
        .args([
            "detect",
            "--logs",
            &logs.display().to_string(),
            "--format",
            "json",
        ])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    assert!(!stderr(&o).contains("failed"), "{}", stderr(&o));
    serde_json::from_str::<Vec<Value>>(&stdout(&o)).unwrap();
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Logs for the silence tests: bucket `busy` and account 222222222222 keep delivering into the
/// window (from 2026-11-05); bucket `quiet` and account 111111111111 of an organisation trail
/// stop after 2026-11-01. Every request comes from 198.51.100.10.
fn silence_logs(root: &Path) {
    let folder = root.join("access");
    std::fs::create_dir_all(&folder).unwrap();
    let lines: Vec<String> = [("busy", 60), ("quiet", 61), ("busy", 4 * 1440 + 60)]
        .iter()
        .enumerate()
        .map(|(i, (bucket, minute))| {
            Access {
                minute: *minute,
                bucket,
                ..access()
            }
            .line(i + 1)
        })
        .collect();
    std::fs::write(
        folder.join("2026-11-01-00-00-00-0123456789ABCDEF"),
        lines.join("\n") + "\n",
    )
    .unwrap();
    for (account, day, minute) in [
        ("111111111111", "01", 90),
        ("222222222222", "01", 91),
        ("222222222222", "05", 4 * 1440 + 90),
    ] {
        let dir = root.join(format!(
            "trail/AWSLogs/o-abc123def4/{account}/CloudTrail/us-east-1/2026/11/{day}"
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let event = trail(minute, json!({"recipientAccountId": account}));
        std::fs::write(
            dir.join(format!(
                "{account}_CloudTrail_us-east-1_202611{day}T0000Z_abcdef.json"
            )),
            json!({"Records": [event]}).to_string(),
        )
        .unwrap();
    }
}

/// Silence is a finding: the bucket whose access logs stopped and the organisation trail's
/// account that stopped delivering are each a high logs-missing finding, with the last
/// record's time; the sources still delivering are not, even when an allow-list leaves out
/// every request of theirs in the window.
#[test]
fn logs_missing_when_a_source_goes_silent() {
    let dir = tempfile::tempdir().unwrap();
    silence_logs(dir.path());
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[allow]\nips = [\"198.51.100.10\"]\n").unwrap();
    let o = s3trawl_in(
        dir.path(),
        &[
            "detect",
            "--logs",
            "access",
            "trail",
            "--since",
            "2026-11-05",
            "--only",
            "logs-missing",
            "--format",
            "json",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let found: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let mut entities: Vec<String> = found
        .iter()
        .map(|f| f["entity"].as_str().unwrap().to_string())
        .collect();
    entities.sort();
    assert_eq!(entities.len(), 2, "{found:#?}");
    assert!(
        entities[0].starts_with("CloudTrail delivered to ")
            && entities[0]
                .ends_with("/trail/AWSLogs/o-abc123def4/111111111111/CloudTrail/us-east-1"),
        "{entities:?}"
    );
    assert_eq!(entities[1], "access logs of bucket quiet");
    for f in &found {
        assert_eq!(f["severity"], json!("high"));
    }
    let quiet = found
        .iter()
        .find(|f| f["entity"] == json!("access logs of bucket quiet"))
        .unwrap();
    assert_eq!(quiet["bucket"], json!("quiet"));
    assert_eq!(quiet["last_seen"], json!("2026-11-01T01:01:00Z"));
    assert!(
        quiet["details"]
            .as_str()
            .unwrap()
            .contains("the last at 2026-11-01T01:01:00"),
        "{quiet}"
    );
}

/// A window beside the data is not "all clear": exit 2, naming the span the data covers;
/// `--allow-empty` runs anyway with a warning.
#[test]
fn an_empty_window_is_an_error_naming_the_data_span() {
    let dir = tempfile::tempdir().unwrap();
    silence_logs(dir.path());
    let args = [
        "detect",
        "--logs",
        "access",
        "trail",
        "--since",
        "2027-06-01",
    ];
    let o = s3trawl_in(dir.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("holds no records")
            && err.contains("the data covers 2026-11-01T01:00:00Z to 2026-11-05T01:30:00Z"),
        "{err}"
    );
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let mut allowed = args.to_vec();
    allowed.push("--allow-empty");
    let o = s3trawl_in(dir.path(), &allowed);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: the window"), "{}", stderr(&o));
    // A location with no records at all says so.
    std::fs::create_dir_all(dir.path().join("nothing")).unwrap();
    let o = s3trawl_in(dir.path(), &["detect", "--logs", "nothing"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hold no records at all"),
        "{}",
        stderr(&o)
    );
}

/// A report of an empty window is not written and leaves the state where it was: the next
/// report compares with the last one that saw logs.
#[test]
fn an_empty_window_does_not_advance_the_report_state() {
    let dir = tempfile::tempdir().unwrap();
    silence_logs(dir.path());
    let out = dir.path().join("out");
    let report = |since: &str, extra: &[&str]| {
        let mut args = vec![
            "report", "--logs", "access", "trail", "--since", since, "--out", "out",
        ];
        args.extend_from_slice(extra);
        s3trawl_in(dir.path(), &args)
    };
    let o = report("2026-11-05", &[]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    let state = std::fs::read(out.join("s3trawl-state.json")).unwrap();
    let html = std::fs::read(out.join("report.html")).unwrap();
    let o = report("2027-06-01", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("report.html")).unwrap(), html);
    assert_eq!(
        std::fs::read(out.join("s3trawl-state.json")).unwrap(),
        state
    );
    let o = report("2027-06-01", &["--allow-empty"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("not advanced"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(out.join("s3trawl-state.json")).unwrap(),
        state
    );
}

/// A bucket whose access logs stop is a finding; one that keeps logging is not.
#[test]
fn logs_missing() {
    let window = |c: Case| Case {
        args: vec!["--since".into(), "2026-11-03".into()],
        ..c
    };
    let found = fires(
        "logs-missing",
        &window(
            case()
                .a(Access {
                    bucket: "gone",
                    minute: 10,
                    ..access()
                })
                .a(Access {
                    minute: 3 * 1440,
                    ..access()
                }),
        ),
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["entity"], json!("access logs of bucket gone"));
    assert_eq!(found[0]["last_seen"], json!("2026-11-01T00:10:00Z"));
    quiet(
        "logs-missing",
        &window(
            case()
                .a(Access {
                    bucket: "gone",
                    minute: 3 * 1440 + 5,
                    ..access()
                })
                .a(Access {
                    minute: 3 * 1440,
                    ..access()
                }),
        ),
    );
}
