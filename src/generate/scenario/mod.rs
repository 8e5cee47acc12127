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
use attacks::{plans, plant};
use benign::{benign_changes, benign_hour};

mod attacks;
mod benign;

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
