//! A realistic benign week of S3 access logs and CloudTrail for one account, with one
//! planted attack per detection family on the last day, and a manifest that says where each
//! attack's records are (object and line) and which detections must find it.
//!
//! The benign week is what a small production account looks like: an application role
//! reading and writing through VPC addresses all day, a nightly ETL job reading tens of
//! gigabytes, nightly backups and their lifecycle expirations, a website served through a
//! CloudFront origin access identity, people reading finance reports from the office, a
//! partner uploading files cross-account, a CI user deploying releases, AWS Config reading
//! every bucket's settings, administrators changing a policy now and then, and internet
//! scanners probing anonymously. CloudTrail logs management events and write data events for
//! every bucket, and read data events for the finance bucket.
//!
//! The same seed gives the same bytes.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Rng;

pub const ACCOUNT: &str = "111122223333";
const OWNER: &str = "4f5b1c0e9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c";
const PARTNER_ACCOUNT: &str = "444455556666";
const EXTERNAL_ACCOUNT: &str = "999988887777";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

const SDK_JAVA: &str = "aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy";
const SPARK: &str = "aws-sdk-java/1.12.262 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/25.402-b06 java/1.8.0_402 scala/2.12.15 vendor/Amazon.com_Inc. cfg/retry-mode/legacy Spark/3.5.1";
const CLI: &str = "aws-cli/2.17.4 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.94-99.176.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3.cp";
const CONSOLE: &str = "S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.219-186.866.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.412-b08 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard";
const BOTO3: &str = "Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#6.5.0-1022-aws md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.131";
const BACKUP_AGENT: &str = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2 AWSBackup";
const KALI_CLI: &str = "aws-cli/2.13.5 Python/3.11.4 Linux/6.3.0-kali1-amd64 exe/x86_64.kali.2023 prompt/off command/s3api.get-object";
const BROWSERS: [&str; 3] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
];

const APP_BUCKET: &str = "acme-app-data";
const WWW_BUCKET: &str = "acme-www";
const ANALYTICS_BUCKET: &str = "acme-analytics";
const BACKUP_BUCKET: &str = "acme-backups";
const FINANCE_BUCKET: &str = "finance-reports";
const PARTNER_BUCKET: &str = "partner-drop";
const EXPORTS_BUCKET: &str = "customer-exports";
const BUCKETS: [&str; 7] = [
    APP_BUCKET,
    WWW_BUCKET,
    ANALYTICS_BUCKET,
    BACKUP_BUCKET,
    FINANCE_BUCKET,
    PARTNER_BUCKET,
    EXPORTS_BUCKET,
];

const OAI: &str = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL";

/// What to generate.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    pub seed: u64,
    /// Midnight (UTC) of the first day, in ms.
    pub start_ms: i64,
    /// Days, the last of which holds the attacks (at least 3).
    pub days: u32,
    /// Traffic volume relative to the default (about 7,000 access-log lines a day).
    pub scale: f64,
}

/// One record of a planted attack: the object (relative to the scenario folder) and line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PlantedRecord {
    pub object: String,
    pub line: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attack {
    pub name: String,
    pub family: String,
    pub description: String,
    /// The detection that must find it.
    pub detection: String,
    /// Other detections that must also fire on it.
    pub also: Vec<String>,
    pub ips: Vec<String>,
    pub principals: Vec<String>,
    pub records: Vec<PlantedRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub seed: u64,
    pub start: String,
    pub days: u32,
    /// The window to analyse: the last day.
    pub since: String,
    pub until: String,
    pub baseline_days: u32,
    pub access_log_lines: u64,
    pub access_log_objects: u64,
    pub cloudtrail_records: u64,
    pub cloudtrail_objects: u64,
    /// The detect command for this scenario, from its folder.
    pub command: String,
    pub attacks: Vec<Attack>,
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn access_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("[%d/%b/%Y:%H:%M:%S +0000]").to_string())
        .unwrap_or_default()
}

/// One access-log request; `None` fields are written as `-`.
#[derive(Clone)]
struct Req<'a> {
    bucket: &'a str,
    ip: &'a str,
    requester: Option<&'a str>,
    op: &'a str,
    key: Option<String>,
    status: u16,
    error: Option<&'a str>,
    sent: Option<u64>,
    size: Option<u64>,
    agent: &'a str,
    version: Option<String>,
    signed: bool,
    tls: bool,
    acl: bool,
}

impl<'a> Req<'a> {
    fn new(bucket: &'a str, ip: &'a str, requester: Option<&'a str>, op: &'a str) -> Self {
        Req {
            bucket,
            ip,
            requester,
            op,
            key: None,
            status: 200,
            error: None,
            sent: None,
            size: None,
            agent: SDK_JAVA,
            version: None,
            signed: requester.is_some(),
            tls: true,
            acl: false,
        }
    }
}

/// A record being collected: its time, its text and the attack it belongs to.
struct Rec {
    time_ms: i64,
    text: String,
    attack: Option<usize>,
}

struct Collector {
    rng: Rng,
    /// Access-log records by (bucket, hour).
    access: BTreeMap<(String, i64), Vec<Rec>>,
    /// CloudTrail records by hour.
    trail: BTreeMap<i64, Vec<Rec>>,
    attack: Option<usize>,
    request_seq: u64,
}

impl Collector {
    fn access(&mut self, t: i64, r: Req<'_>) {
        let rng = &mut self.rng;
        self.request_seq += 1;
        let request_id = format!("{}{:04X}", rng.hex(12, true), self.request_seq % 0xFFFF);
        let key = r.key.clone();
        let uri = match (r.op, &key) {
            (op, _) if op.starts_with("S3.") || op.starts_with("BATCH.") => "-".to_string(),
            ("REST.POST.MULTI_OBJECT_DELETE", _) => {
                format!("\"POST /{}?delete HTTP/1.1\"", r.bucket)
            }
            (op, Some(k)) => {
                let method = op.split('.').nth(1).unwrap_or("GET");
                let method = if method == "COPY" { "PUT" } else { method };
                format!("\"{method} /{}/{k} HTTP/1.1\"", r.bucket)
            }
            (op, None) => {
                let method = op.split('.').nth(1).unwrap_or("GET");
                format!("\"{method} /{}/ HTTP/1.1\"", r.bucket)
            }
        };
        let total = 5 + rng.below(120);
        let turnaround = total.saturating_sub(2 + rng.below(3));
        let host_id = rng.base64(76);
        let num = |v: Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
        let line = format!(
            "{OWNER} {bucket} {time} {ip} {requester} {request_id} {op} {key} {uri} {status} {error} {sent} {size} {total} {turnaround} \"-\" \"{agent}\" {version} {host_id} {sigv} {cipher} {auth} {bucket}.s3.us-east-1.amazonaws.com {tls} - {acl}",
            bucket = r.bucket,
            time = access_time(t),
            ip = r.ip,
            requester = r.requester.unwrap_or("-"),
            op = r.op,
            key = key.as_deref().unwrap_or("-"),
            status = r.status,
            error = r.error.unwrap_or("-"),
            sent = num(r.sent),
            size = num(r.size),
            agent = r.agent,
            version = r.version.as_deref().unwrap_or("-"),
            sigv = if r.signed { "SigV4" } else { "-" },
            cipher = if r.tls { "TLS_AES_128_GCM_SHA256" } else { "-" },
            auth = if r.signed { "AuthHeader" } else { "-" },
            tls = if r.tls { "TLSv1.3" } else { "-" },
            acl = if r.acl { "Yes" } else { "-" },
        );
        self.access
            .entry((r.bucket.to_string(), t.div_euclid(HOUR)))
            .or_default()
            .push(Rec {
                time_ms: t,
                text: line,
                attack: self.attack,
            });
    }

    fn trail(&mut self, t: i64, mut record: Value) {
        let rng = &mut self.rng;
        if let Value::Object(m) = &mut record {
            m.insert("eventVersion".into(), json!("1.10"));
            m.insert("eventTime".into(), json!(iso(t)));
            m.insert("awsRegion".into(), json!("us-east-1"));
            m.insert("requestID".into(), json!(rng.hex(16, true)));
            m.insert(
                "eventID".into(),
                json!(format!(
                    "{}-{}-{}-{}-{}",
                    rng.hex(8, false),
                    rng.hex(4, false),
                    rng.hex(4, false),
                    rng.hex(4, false),
                    rng.hex(12, false)
                )),
            );
            m.insert("eventType".into(), json!("AwsApiCall"));
            m.insert("recipientAccountId".into(), json!(ACCOUNT));
            m.entry("eventSource").or_insert(json!("s3.amazonaws.com"));
            let data = m
                .get("eventCategory")
                .and_then(Value::as_str)
                .is_some_and(|c| c == "Data");
            m.entry("managementEvent").or_insert(json!(!data));
            m.entry("eventCategory").or_insert(json!("Management"));
        }
        self.trail.entry(t.div_euclid(HOUR)).or_default().push(Rec {
            time_ms: t,
            text: record.to_string(),
            attack: self.attack,
        });
    }

    fn between(&mut self, from: i64, to: i64) -> i64 {
        from + self.rng.below((to - from).max(1) as u64) as i64
    }

    fn count(&mut self, mean: f64) -> u64 {
        (mean * (0.85 + 0.3 * self.rng.unit())).round().max(0.0) as u64
    }
}

fn iam_user(name: &str) -> Value {
    json!({
        "type": "IAMUser",
        "principalId": format!("AIDA{}", name.to_ascii_uppercase().replace('-', "")),
        "arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        "accountId": ACCOUNT,
        "accessKeyId": format!("AKIA{:0<16}", name.to_ascii_uppercase().replace('-', "")),
        "userName": name,
    })
}

fn role_session(role: &str, session: &str) -> Value {
    json!({
        "type": "AssumedRole",
        "principalId": format!("AROA{}:{session}", role.to_ascii_uppercase().replace('-', "")),
        "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"),
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLESESSION01",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": format!("AROA{}", role.to_ascii_uppercase().replace('-', "")), "arn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"), "accountId": ACCOUNT, "userName": role},
            "attributes": {"creationDate": "2026-11-01T00:00:00Z", "mfaAuthenticated": "false"}
        }
    })
}

fn tls_details(bucket: &str) -> Value {
    json!({"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": format!("{bucket}.s3.us-east-1.amazonaws.com")})
}

/// Who makes a call: the identity, the source address and the user agent.
struct Who<'a> {
    identity: Value,
    ip: &'a str,
    agent: &'a str,
}

/// A data event on an object; `bytes` are those transferred in and out.
fn object_event(
    name: &str,
    who: &Who<'_>,
    bucket: &str,
    key: &str,
    extra_params: Value,
    (bytes_in, bytes_out): (u64, u64),
) -> Value {
    let Who {
        identity,
        ip,
        agent,
    } = who;
    let mut params = json!({"bucketName": bucket, "Host": format!("{bucket}.s3.us-east-1.amazonaws.com"), "key": key});
    if let (Value::Object(p), Value::Object(e)) = (&mut params, extra_params) {
        p.extend(e);
    }
    json!({
        "userIdentity": identity,
        "eventName": name,
        "eventCategory": "Data",
        "sourceIPAddress": ip,
        "userAgent": format!("[{agent}]"),
        "requestParameters": params,
        "responseElements": null,
        "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": bytes_in, "bytesTransferredOut": bytes_out, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": "EXAMPLEHOSTID"},
        "resources": [
            {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}
        ],
        "readOnly": name.starts_with("Get") || name.starts_with("Head") || name.starts_with("List"),
        "tlsDetails": tls_details(bucket),
    })
}

/// A management event on a bucket.
fn bucket_event(
    name: &str,
    identity: Value,
    ip: &str,
    agent: &str,
    bucket: &str,
    extra_params: Value,
) -> Value {
    let mut params =
        json!({"bucketName": bucket, "Host": format!("{bucket}.s3.us-east-1.amazonaws.com")});
    if let (Value::Object(p), Value::Object(e)) = (&mut params, extra_params) {
        p.extend(e);
    }
    json!({
        "userIdentity": identity,
        "eventName": name,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": params,
        "responseElements": null,
        "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "bytesTransferredOut": 0, "AuthenticationMethod": "AuthHeader"},
        "resources": [{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}],
        "readOnly": name.starts_with("Get") || name.starts_with("List"),
        "tlsDetails": tls_details(bucket),
    })
}

fn arn_user(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

fn arn_role(role: &str, session: &str) -> String {
    format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}")
}

/// Traffic volume by hour of day (UTC): busy in working hours, quiet at night.
fn diurnal(hour_of_day: i64) -> f64 {
    match hour_of_day {
        8..=17 => 1.4,
        18..=22 => 0.8,
        _ => 0.45,
    }
}

/// The benign traffic of one hour.
fn benign_hour(c: &mut Collector, h: i64, scale: f64, www_pool: &[String]) {
    let start = h * HOUR;
    let hod = h.rem_euclid(24);
    let day_index = h.div_euclid(24);
    let app = arn_role("app-server", "i-0a1b2c3d4e5f60718");
    let app_ips = ["10.0.1.10", "10.0.1.11", "10.0.1.12"];

    // The application: reads, writes, a few deletes, all day.
    let n = c.count(120.0 * diurnal(hod) * scale);
    for _ in 0..n {
        let t = c.between(start, start + HOUR);
        let ip = *c.rng.pick(&app_ips);
        let roll = c.rng.below(100);
        let (op, key) = if roll < 70 {
            (
                "REST.GET.OBJECT",
                format!("users/{}/avatar.jpg", 1 + c.rng.below(5000)),
            )
        } else if roll < 88 {
            (
                "REST.PUT.OBJECT",
                format!("uploads/2026/11/{}.json", c.rng.hex(16, false)),
            )
        } else if roll < 98 {
            (
                "REST.HEAD.OBJECT",
                format!("users/{}/avatar.jpg", 1 + c.rng.below(5000)),
            )
        } else {
            (
                "REST.DELETE.OBJECT",
                format!("uploads/2026/11/{}.json", c.rng.hex(16, false)),
            )
        };
        let mut r = Req::new(APP_BUCKET, ip, Some(&app), op);
        r.key = Some(key.clone());
        match op {
            "REST.GET.OBJECT" => {
                if c.rng.chance(0.01) {
                    r.status = 404;
                    r.error = Some("NoSuchKey");
                    r.sent = Some(243);
                } else {
                    let size = 2_000 + c.rng.below(200_000);
                    r.sent = Some(size);
                    r.size = Some(size);
                }
            }
            "REST.PUT.OBJECT" => r.size = Some(500 + c.rng.below(20_000)),
            "REST.DELETE.OBJECT" => r.status = 204,
            _ => r.size = Some(2_000 + c.rng.below(200_000)),
        }
        c.access(t, r.clone());
        if matches!(op, "REST.PUT.OBJECT" | "REST.DELETE.OBJECT") {
            let name = if op == "REST.PUT.OBJECT" {
                "PutObject"
            } else {
                "DeleteObject"
            };
            let e = object_event(
                name,
                &Who {
                    identity: role_session("app-server", "i-0a1b2c3d4e5f60718"),
                    ip,
                    agent: SDK_JAVA,
                },
                APP_BUCKET,
                &key,
                json!({}),
                (r.size.unwrap_or(0), 0),
            );
            c.trail(t + 1, e);
        }
    }

    // The website, served through CloudFront's origin access identity.
    let n = c.count(80.0 * diurnal(hod) * scale);
    for _ in 0..n {
        let t = c.between(start, start + HOUR);
        let ip = format!("130.176.{}.{}", 1 + c.rng.below(4), 10 + c.rng.below(20));
        let page = *c.rng.pick(&[
            "index.html",
            "assets/app.css",
            "assets/app.js",
            "img/logo.png",
            "about.html",
        ]);
        let mut r = Req::new(WWW_BUCKET, &ip, Some(OAI), "REST.GET.OBJECT");
        r.key = Some(page.to_string());
        r.agent = "Amazon CloudFront";
        let size = 4_000 + c.rng.below(90_000);
        r.sent = Some(size);
        r.size = Some(size);
        c.access(t, r);
    }
    // Internet background: an anonymous probe now and then, denied.
    if c.rng.chance(0.1) {
        let t = c.between(start, start + HOUR);
        let ip = c.rng.pick(www_pool).clone();
        let mut r = Req::new(FINANCE_BUCKET, &ip, None, "REST.GET.BUCKET");
        r.status = 403;
        r.error = Some("AccessDenied");
        r.sent = Some(243);
        r.agent = BROWSERS[c.rng.below(3) as usize];
        c.access(t, r);
    }

    // The nightly ETL job: tens of gigabytes read, then results written.
    if (1..=3).contains(&hod) {
        let etl = arn_role("etl-job", "etl-nightly");
        let n = c.count(600.0 * scale);
        for _ in 0..n {
            let t = c.between(start, start + HOUR);
            let mut r = Req::new(ANALYTICS_BUCKET, "10.0.2.20", Some(&etl), "REST.GET.OBJECT");
            r.key = Some(format!(
                "raw/dt={}/part-{:05}.parquet",
                day(start - DAY),
                c.rng.below(4000)
            ));
            let size = 20_000_000 + c.rng.below(40_000_000);
            r.sent = Some(size);
            r.size = Some(size);
            r.agent = SPARK;
            c.access(t, r);
        }
        if hod == 3 {
            for i in 0..(40.0 * scale).round() as u64 {
                let t = c.between(start, start + HOUR);
                let key = format!("curated/dt={}/part-{i:05}.parquet", day(start - DAY));
                let mut r = Req::new(ANALYTICS_BUCKET, "10.0.2.20", Some(&etl), "REST.PUT.OBJECT");
                r.key = Some(key.clone());
                r.size = Some(50_000_000 + c.rng.below(10_000_000));
                r.agent = SPARK;
                c.access(t, r.clone());
                let e = object_event(
                    "PutObject",
                    &Who {
                        identity: role_session("etl-job", "etl-nightly"),
                        ip: "10.0.2.20",
                        agent: SPARK,
                    },
                    ANALYTICS_BUCKET,
                    &key,
                    json!({}),
                    (r.size.unwrap_or(0), 0),
                );
                c.trail(t + 1, e);
            }
        }
    }

    // Nightly backups, and the lifecycle rule that expires old ones.
    if hod == 2 {
        let backup = arn_role("backup-role", "AWSBackup-nightly");
        for i in 0..(200.0 * scale).round() as u64 {
            let t = c.between(start, start + HOUR);
            let key = format!("db/{}/chunk-{i:05}.bin", day(start));
            let mut r = Req::new(BACKUP_BUCKET, "10.0.3.5", Some(&backup), "REST.PUT.OBJECT");
            r.key = Some(key.clone());
            r.size = Some(64 * 1024 * 1024);
            r.agent = BACKUP_AGENT;
            r.version = Some(c.rng.base64(32).replace(['+', '/', '='], "x"));
            c.access(t, r);
            let e = object_event(
                "PutObject",
                &Who {
                    identity: role_session("backup-role", "AWSBackup-nightly"),
                    ip: "10.0.3.5",
                    agent: BACKUP_AGENT,
                },
                BACKUP_BUCKET,
                &key,
                json!({}),
                (64 * 1024 * 1024, 0),
            );
            c.trail(t + 1, e);
        }
    }
    if hod == 5 {
        for i in 0..(200.0 * scale).round() as u64 {
            let t = c.between(start, start + 20 * 60_000);
            let mut r = Req::new(BACKUP_BUCKET, "-", Some("AmazonS3"), "S3.EXPIRE.OBJECT");
            r.key = Some(format!("db/{}/chunk-{i:05}.bin", day(start - 30 * DAY)));
            r.size = Some(64 * 1024 * 1024);
            r.signed = false;
            r.tls = false;
            r.agent = "-";
            c.access(t, r);
        }
    }

    // People reading finance reports from the office (and Bob from the VPN).
    if (8..=17).contains(&hod) {
        for (user, ips) in [
            ("alice", &["198.51.100.10"][..]),
            (
                "bob",
                &["198.51.100.11", "198.51.100.11", "203.0.113.5"][..],
            ),
        ] {
            let arn = arn_user(user);
            let n = c.count(6.0 * scale.max(0.5));
            for _ in 0..n {
                let t = c.between(start, start + HOUR);
                let ip = *c.rng.pick(ips);
                let list = c.rng.chance(0.15);
                let key = format!(
                    "reports/2026/{}-{:03}.pdf",
                    ["q3", "q4", "budget"][c.rng.below(3) as usize],
                    c.rng.below(200)
                );
                let size = 100_000 + c.rng.below(3_000_000);
                let agent = if user == "alice" { CONSOLE } else { CLI };
                let mut r = Req::new(
                    FINANCE_BUCKET,
                    ip,
                    Some(&arn),
                    if list {
                        "REST.GET.BUCKET"
                    } else {
                        "REST.GET.OBJECT"
                    },
                );
                if !list {
                    r.key = Some(key.clone());
                    r.size = Some(size);
                }
                r.sent = Some(if list { 4_000 } else { size });
                r.agent = agent;
                c.access(t, r);
                let e = if list {
                    bucket_event(
                        "ListObjects",
                        iam_user(user),
                        ip,
                        agent,
                        FINANCE_BUCKET,
                        json!({"prefix": "reports/", "list-type": "2"}),
                    )
                } else {
                    object_event(
                        "GetObject",
                        &Who {
                            identity: iam_user(user),
                            ip,
                            agent,
                        },
                        FINANCE_BUCKET,
                        &key,
                        json!({}),
                        (0, size),
                    )
                };
                let mut e = e;
                e["eventCategory"] = json!("Data");
                e["managementEvent"] = json!(false);
                c.trail(t + 1, e);
            }
        }
    }

    // The partner uploads files cross-account, without ACLs.
    let partner = format!("arn:aws:iam::{PARTNER_ACCOUNT}:user/partner-sync");
    for _ in 0..c.count(5.0 * scale.max(0.4)) {
        let t = c.between(start, start + HOUR);
        let key = format!("incoming/{}/{}.csv", day(start), c.rng.hex(12, false));
        let mut r = Req::new(
            PARTNER_BUCKET,
            "192.0.2.44",
            Some(&partner),
            "REST.PUT.OBJECT",
        );
        r.key = Some(key.clone());
        r.size = Some(10_000 + c.rng.below(500_000));
        r.agent = CLI;
        c.access(t, r.clone());
        let mut identity = iam_user("partner-sync");
        identity["arn"] = json!(partner);
        identity["accountId"] = json!(PARTNER_ACCOUNT);
        let e = object_event(
            "PutObject",
            &Who {
                identity,
                ip: "192.0.2.44",
                agent: CLI,
            },
            PARTNER_BUCKET,
            &key,
            json!({}),
            (r.size.unwrap_or(0), 0),
        );
        c.trail(t + 1, e);
    }

    // A reporting service account: small reads, and cleans up its temporary files.
    if hod == 6 {
        let svc = arn_user("svc-reporting");
        for i in 0..12 {
            let t = c.between(start, start + HOUR);
            let (op, key) = if i < 6 {
                ("REST.GET.OBJECT", format!("curated/summary-{i}.json"))
            } else {
                (
                    "REST.DELETE.OBJECT",
                    format!("tmp/report-{}-{i}.csv", day(start)),
                )
            };
            let mut r = Req::new(ANALYTICS_BUCKET, "10.0.5.9", Some(&svc), op);
            r.key = Some(key.clone());
            r.agent = BOTO3;
            if op == "REST.GET.OBJECT" {
                r.sent = Some(40_000);
                r.size = Some(40_000);
            } else {
                r.status = 204;
                let e = object_event(
                    "DeleteObject",
                    &Who {
                        identity: iam_user("svc-reporting"),
                        ip: "10.0.5.9",
                        agent: BOTO3,
                    },
                    ANALYTICS_BUCKET,
                    &key,
                    json!({}),
                    (0, 0),
                );
                c.trail(t + 1, e);
            }
            c.access(t, r);
        }
    }

    // The CI user deploys a release at noon.
    if hod == 12 {
        let ci = arn_user("ci-deployer");
        for i in 0..10 {
            let t = c.between(start, start + 10 * 60_000);
            let key = format!("releases/1.{day_index}.0/artifact-{i}.tar.gz");
            let mut r = Req::new(APP_BUCKET, "10.0.4.8", Some(&ci), "REST.PUT.OBJECT");
            r.key = Some(key.clone());
            r.size = Some(5_000_000);
            r.agent = CLI;
            c.access(t, r);
            let e = object_event(
                "PutObject",
                &Who {
                    identity: iam_user("ci-deployer"),
                    ip: "10.0.4.8",
                    agent: CLI,
                },
                APP_BUCKET,
                &key,
                json!({}),
                (5_000_000, 0),
            );
            c.trail(t + 1, e);
        }
    }

    // AWS Config reads every bucket's settings every six hours, through its service-linked role.
    if hod % 6 == 0 {
        let config_role = arn_role("AWSServiceRoleForConfig", "configLambdaExecution");
        for bucket in BUCKETS {
            for (event, op) in [
                ("GetBucketAcl", "REST.GET.ACL"),
                ("GetBucketPolicy", "REST.GET.BUCKETPOLICY"),
                ("GetBucketVersioning", "REST.GET.VERSIONING"),
                ("GetBucketLogging", "REST.GET.LOGGING_STATUS"),
                ("GetBucketEncryption", "REST.GET.ENCRYPTION"),
                ("GetBucketPublicAccessBlock", "REST.GET.PUBLIC_ACCESS_BLOCK"),
            ] {
                let t = c.between(start + 60_000, start + 5 * 60_000);
                let mut r = Req::new(bucket, "3.236.41.17", Some(&config_role), op);
                r.sent = Some(600);
                r.agent = "config.amazonaws.com";
                c.access(t, r);
                let mut identity = role_session("AWSServiceRoleForConfig", "configLambdaExecution");
                identity["invokedBy"] = json!("config.amazonaws.com");
                let mut params = serde_json::Map::new();
                params.insert(
                    event.trim_start_matches("GetBucket").to_ascii_lowercase(),
                    json!(""),
                );
                let e = bucket_event(
                    event,
                    identity,
                    "config.amazonaws.com",
                    "config.amazonaws.com",
                    bucket,
                    Value::Object(params),
                );
                c.trail(t + 1, e);
            }
        }
    }

    // An administrator looks around in the console during the day.
    if hod == 10 || hod == 15 {
        let t = c.between(start, start + HOUR);
        let e = json!({
            "userIdentity": iam_user("admin-jane"),
            "eventName": "ListBuckets",
            "sourceIPAddress": "198.51.100.12",
            "userAgent": CONSOLE,
            "requestParameters": {"Host": "s3.us-east-1.amazonaws.com"},
            "responseElements": null,
            "readOnly": true,
            "tlsDetails": tls_details("s3"),
        });
        c.trail(t, e);
        let bucket = *c.rng.pick(&BUCKETS);
        let e = bucket_event(
            "GetBucketPolicy",
            iam_user("admin-jane"),
            "198.51.100.12",
            CONSOLE,
            bucket,
            json!({"policy": ""}),
        );
        c.trail(t + 2_000, e);
    }
}

/// Benign administration on the window day: changes that are recorded (info) but not alarming.
fn benign_changes(c: &mut Collector, day_start: i64) {
    let t = day_start + 11 * HOUR + 5 * 60_000;
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "AllowCloudFrontRead", "Effect": "Allow", "Principal": {"AWS": OAI}, "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{WWW_BUCKET}/*")}]});
    let e = bucket_event(
        "PutBucketPolicy",
        iam_user("admin-jane"),
        "198.51.100.12",
        CONSOLE,
        WWW_BUCKET,
        json!({"bucketPolicy": policy, "policy": ""}),
    );
    c.trail(t, e);
    let lifecycle = json!({"LifecycleConfiguration": {"Rule": [{"ID": "expire-old-backups", "Status": "Enabled", "Filter": {"Prefix": "db/"}, "Expiration": {"Days": 30}, "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}, "lifecycle": ""});
    let e = bucket_event(
        "PutBucketLifecycle",
        iam_user("admin-jane"),
        "198.51.100.12",
        CONSOLE,
        BACKUP_BUCKET,
        lifecycle,
    );
    c.trail(t + 60_000, e);
    let e = bucket_event(
        "PutBucketVersioning",
        iam_user("admin-jane"),
        "198.51.100.12",
        CONSOLE,
        PARTNER_BUCKET,
        json!({"VersioningConfiguration": {"Status": "Enabled"}, "versioning": ""}),
    );
    c.trail(t + 120_000, e);
}

struct Plan {
    name: &'static str,
    family: &'static str,
    description: &'static str,
    detection: &'static str,
    also: &'static [&'static str],
    ips: &'static [&'static str],
    principals: Vec<String>,
}

fn plans() -> Vec<Plan> {
    vec![
        Plan {
            name: "partner-acl-uploads",
            family: "acl",
            description: "The partner's new upload tool sets a canned ACL on every object: the bucket now depends on ACLs and cannot disable them yet.",
            detection: "acl-dependent-requests",
            also: &[],
            ips: &["192.0.2.44"],
            principals: vec![format!("arn:aws:iam::{PARTNER_ACCOUNT}:user/partner-sync")],
        },
        Plan {
            name: "sse-c-ransomware",
            family: "transport",
            description: "Leaked CI keys used from an unknown address re-encrypt objects in place with a customer-provided key (SSE-C), set a one-day expiration and leave a ransom note (the Codefinger technique).",
            detection: "sse-c-or-foreign-kms-key",
            also: &[
                "short-lifecycle-expiration",
                "ransom-note-upload",
                "new-ip-for-principal",
            ],
            ips: &["45.137.21.9"],
            principals: vec![arn_user("ci-deployer")],
        },
        Plan {
            name: "tor-recon",
            family: "anomalous-ip",
            description: "Anonymous enumeration of the finance bucket from a Tor exit node with the AWS CLI on Kali Linux: hundreds of denied requests in minutes.",
            detection: "offensive-user-agent",
            also: &[
                "threat-list-ip",
                "access-denied-burst",
                "anonymous-access-new-ip",
            ],
            ips: &["185.220.101.47"],
            principals: vec![],
        },
        Plan {
            name: "mass-delete",
            family: "deletes",
            description: "The reporting service account's keys, used from a VPS, delete 1,500 objects of the analytics bucket with multi-object deletes.",
            detection: "mass-delete",
            also: &["mass-delete-by-ip", "new-ip-for-principal"],
            ips: &["91.92.240.11"],
            principals: vec![arn_user("svc-reporting")],
        },
        Plan {
            name: "bulk-exfiltration",
            family: "exfiltration",
            description: "Bob's keys, used from an unknown address, download about 12 GB of finance reports in an hour and copy some into another account's bucket.",
            detection: "bytes-out-spike",
            also: &["copy-to-external-account", "new-ip-for-principal"],
            ips: &["103.75.190.12"],
            principals: vec![arn_user("bob")],
        },
        Plan {
            name: "exposure-and-tampering",
            family: "exposure",
            description: "An administrator's keys, used from an unknown address, remove Block Public Access from the exports bucket, make its policy public, disable its access logging and stop the CloudTrail trail.",
            detection: "bucket-policy-public-or-external",
            also: &[
                "public-access-block-removed",
                "server-access-logging-disabled",
                "cloudtrail-tampering",
                "new-ip-for-principal",
            ],
            ips: &["194.26.29.113"],
            principals: vec![arn_user("admin-jane")],
        },
    ]
}

fn plant(c: &mut Collector, index: usize, day_start: i64) {
    c.attack = Some(index);
    let at = |h: i64, m: i64| day_start + h * HOUR + m * 60_000;
    match index {
        // acl: the partner's uploads now carry a canned ACL.
        0 => {
            let partner = format!("arn:aws:iam::{PARTNER_ACCOUNT}:user/partner-sync");
            for i in 0..20 {
                let t = at(11, 0) + i * 90_000;
                let mut r = Req::new(
                    PARTNER_BUCKET,
                    "192.0.2.44",
                    Some(&partner),
                    "REST.PUT.OBJECT",
                );
                r.key = Some(format!("incoming/{}/acl-{i:03}.csv", day(day_start)));
                r.size = Some(120_000);
                r.agent = "aws-cli/2.17.4 md/command#s3.cp --acl bucket-owner-full-control";
                r.acl = true;
                c.access(t, r);
            }
        }
        // transport: SSE-C re-encryption, a one-day lifecycle, a ransom note.
        1 => {
            let ip = "45.137.21.9";
            let ci = arn_user("ci-deployer");
            for i in 0..60 {
                let t = at(14, 0) + i * 12_000;
                let key = format!("users/{}/avatar.jpg", 1 + i * 37);
                let mut r = Req::new(APP_BUCKET, ip, Some(&ci), "REST.COPY.OBJECT");
                r.key = Some(key.clone());
                r.size = Some(80_000);
                r.agent = BOTO3;
                c.access(t, r);
                let e = object_event(
                    "CopyObject",
                    &Who {
                        identity: iam_user("ci-deployer"),
                        ip,
                        agent: BOTO3,
                    },
                    APP_BUCKET,
                    &key,
                    json!({"x-amz-copy-source": format!("{APP_BUCKET}/{key}"), "x-amz-server-side-encryption-customer-algorithm": "AES256", "x-amz-server-side-encryption-customer-key-MD5": "bW9ja2VkbWQ1b2ZhY3VzdG9tZXJrZXk="}),
                    (80_000, 0),
                );
                c.trail(t + 500, e);
            }
            let lifecycle = json!({"LifecycleConfiguration": {"Rule": {"ID": "cleanup", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}}, "lifecycle": ""});
            let e = bucket_event(
                "PutBucketLifecycle",
                iam_user("ci-deployer"),
                ip,
                BOTO3,
                APP_BUCKET,
                lifecycle,
            );
            c.trail(at(14, 13), e);
            let key = "README-HOW-TO-RECOVER-YOUR-FILES.txt";
            let mut r = Req::new(APP_BUCKET, ip, Some(&ci), "REST.PUT.OBJECT");
            r.key = Some(key.to_string());
            r.size = Some(1_800);
            r.agent = BOTO3;
            c.access(at(14, 14), r);
            let e = object_event(
                "PutObject",
                &Who {
                    identity: iam_user("ci-deployer"),
                    ip,
                    agent: BOTO3,
                },
                APP_BUCKET,
                key,
                json!({}),
                (1_800, 0),
            );
            c.trail(at(14, 14) + 300, e);
        }
        // anomalous-ip: anonymous enumeration from a Tor exit with a Kali user agent.
        2 => {
            let ip = "185.220.101.47";
            for i in 0..240 {
                let t = at(3, 0) + i * 4_000;
                let (op, key) = if i % 12 == 0 {
                    ("REST.GET.BUCKET", None)
                } else {
                    let guess = [
                        "backup.zip",
                        "reports/2026/q3-001.pdf",
                        "export.csv",
                        "db.sql",
                        ".env",
                        "config.json",
                    ][i as usize % 6];
                    ("REST.GET.OBJECT", Some(guess.to_string()))
                };
                let mut r = Req::new(FINANCE_BUCKET, ip, None, op);
                r.key = key;
                r.status = 403;
                r.error = Some("AccessDenied");
                r.sent = Some(243);
                r.agent = KALI_CLI;
                c.access(t, r);
            }
        }
        // deletes: 1,500 objects deleted in multi-object deletes from a VPS.
        3 => {
            let ip = "91.92.240.11";
            let svc = arn_user("svc-reporting");
            for batch in 0..2 {
                let t0 = at(20, 0) + batch * 4 * 60_000;
                let mut r = Req::new(
                    ANALYTICS_BUCKET,
                    ip,
                    Some(&svc),
                    "REST.POST.MULTI_OBJECT_DELETE",
                );
                r.agent = BOTO3;
                r.sent = Some(60_000);
                c.access(t0, r);
                let keys = if batch == 0 { 1000 } else { 500 };
                for k in 0..keys {
                    let mut r = Req::new(ANALYTICS_BUCKET, ip, Some(&svc), "BATCH.DELETE.OBJECT");
                    r.key = Some(format!(
                        "curated/dt=2026-10-{:02}/part-{k:05}.parquet",
                        1 + (batch * 7 + k / 100) % 28
                    ));
                    r.status = 204;
                    r.agent = BOTO3;
                    c.access(t0 + 1 + k / 10, r);
                }
                let mut e = bucket_event(
                    "DeleteObjects",
                    iam_user("svc-reporting"),
                    ip,
                    BOTO3,
                    ANALYTICS_BUCKET,
                    json!({"delete": ""}),
                );
                e["eventCategory"] = json!("Data");
                e["managementEvent"] = json!(false);
                e["readOnly"] = json!(false);
                c.trail(t0 + 200, e);
            }
        }
        // exfiltration: 12 GB in an hour, and copies into another account's bucket.
        4 => {
            let ip = "103.75.190.12";
            let bob = arn_user("bob");
            for i in 0..400 {
                let t = at(16, 0) + i * 8_000;
                let key = format!(
                    "reports/archive/{}-{i:04}.pdf",
                    ["ledger", "payroll", "forecast"][i as usize % 3]
                );
                let size = 28_000_000 + (i as u64 * 7_919) % 6_000_000;
                let mut r = Req::new(FINANCE_BUCKET, ip, Some(&bob), "REST.GET.OBJECT");
                r.key = Some(key.clone());
                r.sent = Some(size);
                r.size = Some(size);
                r.agent = BOTO3;
                c.access(t, r);
                let e = object_event(
                    "GetObject",
                    &Who {
                        identity: iam_user("bob"),
                        ip,
                        agent: BOTO3,
                    },
                    FINANCE_BUCKET,
                    &key,
                    json!({}),
                    (0, size),
                );
                c.trail(t + 400, e);
            }
            let dest = "offsite-sync-7f3a";
            for i in 0..5 {
                let t = at(17, 0) + i * 30_000;
                let key = format!("reports/archive/payroll-{:04}.pdf", i * 3 + 1);
                let mut r = Req::new(FINANCE_BUCKET, ip, Some(&bob), "REST.COPY.OBJECT_GET");
                r.key = Some(key.clone());
                r.sent = Some(0);
                r.size = Some(30_000_000);
                r.agent = BOTO3;
                c.access(t, r);
                let mut e = object_event(
                    "CopyObject",
                    &Who {
                        identity: iam_user("bob"),
                        ip,
                        agent: BOTO3,
                    },
                    dest,
                    &key,
                    json!({"x-amz-copy-source": format!("{FINANCE_BUCKET}/{key}")}),
                    (0, 0),
                );
                e["resources"] = json!([
                    {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{FINANCE_BUCKET}/{key}")},
                    {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{FINANCE_BUCKET}")},
                    {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{dest}/{key}")},
                    {"accountId": EXTERNAL_ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{dest}")}
                ]);
                c.trail(t + 600, e);
            }
        }
        // exposure: public access block removed, policy made public, logging off, trail stopped.
        _ => {
            let ip = "194.26.29.113";
            let jane = || iam_user("admin-jane");
            let e = bucket_event(
                "DeleteBucketPublicAccessBlock",
                jane(),
                ip,
                BOTO3,
                EXPORTS_BUCKET,
                json!({"publicAccessBlock": ""}),
            );
            c.trail(at(22, 0), e);
            let policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{EXPORTS_BUCKET}/*")}]});
            let e = bucket_event(
                "PutBucketPolicy",
                jane(),
                ip,
                BOTO3,
                EXPORTS_BUCKET,
                json!({"bucketPolicy": policy, "policy": ""}),
            );
            c.trail(at(22, 1), e);
            let e = bucket_event(
                "PutBucketLogging",
                jane(),
                ip,
                BOTO3,
                EXPORTS_BUCKET,
                json!({"BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}, "logging": ""}),
            );
            c.trail(at(22, 2), e);
            let e = json!({
                "userIdentity": jane(),
                "eventSource": "cloudtrail.amazonaws.com",
                "eventName": "StopLogging",
                "sourceIPAddress": ip,
                "userAgent": BOTO3,
                "requestParameters": {"name": format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail")},
                "responseElements": null,
                "readOnly": false,
                "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "cloudtrail.us-east-1.amazonaws.com"},
            });
            c.trail(at(22, 3), e);
        }
    }
    c.attack = None;
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data)?;
    e.finish()
}

/// Writes the scenario into `dir` (access logs under `access/`, CloudTrail under
/// `cloudtrail/`, the config `s3trawl.toml`, its threat list, and `scenario.json`).
pub fn write(dir: &Path, options: &ScenarioOptions) -> std::io::Result<Manifest> {
    let days = options.days.max(3);
    let mut c = Collector {
        rng: Rng::new(options.seed ^ 0x5CE7_A210),
        access: BTreeMap::new(),
        trail: BTreeMap::new(),
        attack: None,
        request_seq: 0,
    };
    let www_pool: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "{}.{}.{}.{}",
                [45, 89, 104, 167, 193][i % 5],
                10 + i * 3,
                7 + i,
                20 + i * 5
            )
        })
        .collect();
    let first_hour = options.start_ms.div_euclid(HOUR);
    for h in first_hour..first_hour + i64::from(days) * 24 {
        benign_hour(&mut c, h, options.scale, &www_pool);
    }
    let last_day = options.start_ms + i64::from(days - 1) * DAY;
    benign_changes(&mut c, last_day);
    let plans = plans();
    for i in 0..plans.len() {
        plant(&mut c, i, last_day);
    }

    let mut records: Vec<Vec<PlantedRecord>> = vec![Vec::new(); plans.len()];
    let (mut access_lines, mut access_objects) = (0u64, 0u64);
    for ((bucket, hour), mut recs) in std::mem::take(&mut c.access) {
        recs.sort_by_key(|r| r.time_ms);
        // Delivered a few minutes after the hour, named as S3 names log objects.
        let delivered = (hour + 1) * HOUR + 5 * 60_000 + c.rng.below(600_000) as i64;
        let name = chrono::DateTime::from_timestamp_millis(delivered)
            .map(|t| t.format("%Y-%m-%d-%H-%M-%S").to_string())
            .unwrap_or_default();
        let rel = PathBuf::from("access")
            .join(bucket)
            .join(format!("{name}-{}", c.rng.hex(16, true)));
        let mut text = String::new();
        for (i, r) in recs.iter().enumerate() {
            text.push_str(&r.text);
            text.push('\n');
            if let Some(a) = r.attack {
                records[a].push(PlantedRecord {
                    object: rel.display().to_string(),
                    line: i as i64 + 1,
                });
            }
        }
        std::fs::create_dir_all(dir.join(rel.parent().unwrap_or(Path::new("."))))?;
        std::fs::write(dir.join(&rel), text)?;
        access_lines += recs.len() as u64;
        access_objects += 1;
    }
    let (mut trail_records, mut trail_objects) = (0u64, 0u64);
    for (hour, mut recs) in std::mem::take(&mut c.trail) {
        recs.sort_by_key(|r| r.time_ms);
        let start = hour * HOUR;
        let stamp = chrono::DateTime::from_timestamp_millis(start + 55 * 60_000)
            .map(|t| {
                (
                    t.format("%Y/%m/%d").to_string(),
                    t.format("%Y%m%dT%H%MZ").to_string(),
                )
            })
            .unwrap_or_default();
        let rel = PathBuf::from("cloudtrail")
            .join(format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1"))
            .join(&stamp.0)
            .join(format!(
                "{ACCOUNT}_CloudTrail_us-east-1_{}_{}.json.gz",
                stamp.1,
                c.rng.hex(16, false)
            ));
        let mut text = String::from("{\"Records\":[");
        for (i, r) in recs.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&r.text);
            if let Some(a) = r.attack {
                records[a].push(PlantedRecord {
                    object: rel.display().to_string(),
                    line: i as i64 + 1,
                });
            }
        }
        text.push_str("]}");
        std::fs::create_dir_all(dir.join(rel.parent().unwrap_or(Path::new("."))))?;
        std::fs::write(dir.join(&rel), gzip(text.as_bytes())?)?;
        trail_records += recs.len() as u64;
        trail_objects += 1;
    }

    std::fs::write(
        dir.join("tor-exit-nodes.txt"),
        "# Tor exit nodes (a sample of a published list)\n185.220.100.240/29\n185.220.101.0/24\n204.8.96.0/24\n",
    )?;
    std::fs::write(
        dir.join("s3trawl.toml"),
        "# The scenario's detection config: see README.md, section Config.\n\
         [[threat_lists]]\nname = \"tor-exits\"\nfile = \"tor-exit-nodes.txt\"\n\n\
         [settings]\nbaseline_days = 6\nprivate_buckets = [\"finance-*\", \"acme-backups\", \"customer-exports\"]\n",
    )?;
    let since = day(last_day);
    let until = day(last_day + DAY);
    let manifest = Manifest {
        seed: options.seed,
        start: day(options.start_ms),
        days,
        since: since.clone(),
        until: until.clone(),
        baseline_days: days - 1,
        access_log_lines: access_lines,
        access_log_objects: access_objects,
        cloudtrail_records: trail_records,
        cloudtrail_objects: trail_objects,
        command: format!(
            "s3trawl detect --logs access cloudtrail --config s3trawl.toml --since {since} --until {until} --baseline-days {}",
            days - 1
        ),
        attacks: plans
            .into_iter()
            .zip(records)
            .map(|(p, records)| Attack {
                name: p.name.into(),
                family: p.family.into(),
                description: p.description.into(),
                detection: p.detection.into(),
                also: p.also.iter().map(|s| s.to_string()).collect(),
                ips: p.ips.iter().map(|s| s.to_string()).collect(),
                principals: p.principals,
                records,
            })
            .collect(),
    };
    std::fs::write(
        dir.join("scenario.json"),
        serde_json::to_string_pretty(&manifest).map_err(std::io::Error::other)? + "\n",
    )?;
    Ok(manifest)
}
