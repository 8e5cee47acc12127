//! Synthetic S3 server access log lines.

use super::{Rng, Zipf};
use crate::format::time::civil_from_days;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

const AGENTS: &[&str] = &[
    "\"aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/adaptive\"",
    "\"aws-cli/2.17.4 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.94-99.176.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off md/command#s3.cp\"",
    "\"Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#5.10.218-208.862.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.131\"",
    "\"aws-sdk-go-v2/1.30.1 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.0 ft/s3-transfer\"",
    "\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\"",
    "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15\"",
    "\"S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.219-186.866.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.412-b08 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard\"",
    "\"aws-sdk-js/3.600.0 ua/2.0 os/linux#5.10.219 lang/js md/nodejs#20.15.0 api/s3#3.600.0\"",
    "\"Amazon CloudFront\"",
    "\"curl/8.8.0\"",
    "\"rclone/v1.67.0\"",
    "\"-\"",
];

/// (operation, HTTP method, weight, takes a key)
const OPERATIONS: &[(&str, &str, u32, bool)] = &[
    ("REST.GET.OBJECT", "GET", 520, true),
    ("REST.PUT.OBJECT", "PUT", 140, true),
    ("REST.HEAD.OBJECT", "HEAD", 100, true),
    ("REST.GET.BUCKET", "GET", 70, false),
    ("REST.DELETE.OBJECT", "DELETE", 15, true),
    ("REST.POST.MULTI_OBJECT_DELETE", "POST", 4, false),
    ("REST.COPY.OBJECT", "PUT", 12, true),
    ("REST.POST.UPLOADS", "POST", 8, true),
    ("REST.PUT.PART", "PUT", 30, true),
    ("REST.POST.UPLOAD", "POST", 8, true),
    ("REST.GET.ACL", "GET", 6, true),
    ("REST.GET.BUCKETPOLICY", "GET", 4, false),
    ("REST.GET.LOCATION", "GET", 10, false),
    ("REST.GET.TAGGING", "GET", 5, true),
    ("WEBSITE.GET.OBJECT", "GET", 10, true),
    ("S3.EXPIRE.OBJECT", "", 12, true),
    ("S3.TRANSITION_SIA.OBJECT", "", 4, true),
    ("S3.CREATE.DELETEMARKER", "", 3, true),
];

const EXTENSIONS: &[&str] = &[
    "json.gz", "parquet", "csv", "jpg", "png", "pdf", "html", "log.gz", "avro", "txt",
];

/// Writes realistic access-log lines, one request after another in time.
pub struct AccessLogGenerator {
    rng: Rng,
    ips: Vec<String>,
    ip_zipf: Zipf,
    principals: Vec<String>,
    principal_zipf: Zipf,
    buckets: Vec<String>,
    bucket_zipf: Zipf,
    prefixes: Vec<String>,
    op_cdf: Vec<u32>,
    time_ms: i64,
    /// Keys of a multi-object delete still to be logged.
    pending_batch: u32,
}

impl AccessLogGenerator {
    /// Requests start at `start_ms` (milliseconds since the epoch).
    pub fn new(seed: u64, start_ms: i64) -> Self {
        let mut rng = Rng::new(seed);
        let ips = (0..5000)
            .map(|i| match i % 10 {
                0..=5 => format!(
                    "10.{}.{}.{}",
                    rng.below(256),
                    rng.below(256),
                    rng.below(254) + 1
                ),
                6 | 7 => format!(
                    "172.{}.{}.{}",
                    16 + rng.below(16),
                    rng.below(256),
                    rng.below(254) + 1
                ),
                _ => format!(
                    "{}.{}.{}.{}",
                    3 + rng.below(220),
                    rng.below(256),
                    rng.below(256),
                    rng.below(254) + 1
                ),
            })
            .collect();
        let principals = (0..300)
            .map(|i| {
                let account = 100_000_000_000 + rng.below(900_000_000_000);
                match i % 6 {
                    0 => format!("arn:aws:iam::{account}:user/user-{i}"),
                    1 | 2 => format!("arn:aws:sts::{account}:assumed-role/service-role-{}/i-0{}", i / 3, rng.hex(16, false)),
                    3 => format!("arn:aws:sts::{account}:assumed-role/AWSReservedSSO_Admin_{}/person{i}@example.com", rng.hex(16, false)),
                    4 => rng.hex(64, false),
                    _ => "-".to_string(),
                }
            })
            .collect();
        let buckets = (0..20)
            .map(|i| {
                format!(
                    "data-{}-{i:02}",
                    ["lake", "raw", "web", "backup", "exports"][i % 5]
                )
            })
            .collect();
        let prefixes = (0..200)
            .map(|i| {
                format!(
                    "{}/{}/year=2026/month={:02}",
                    ["events", "images", "reports", "tmp", "users"][i % 5],
                    rng.hex(6, false),
                    1 + i % 12
                )
            })
            .collect();
        let mut total = 0;
        let op_cdf = OPERATIONS
            .iter()
            .map(|o| {
                total += o.2;
                total
            })
            .collect();
        AccessLogGenerator {
            rng,
            ips,
            ip_zipf: Zipf::new(5000, 1.05),
            principals,
            principal_zipf: Zipf::new(300, 1.1),
            buckets,
            bucket_zipf: Zipf::new(20, 1.2),
            prefixes,
            op_cdf,
            time_ms: start_ms,
            pending_batch: 0,
        }
    }

    /// The time of the last request written.
    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    /// Appends one line (with its line break) to `out`; `gap_ms` is the mean time between
    /// requests.
    pub fn line(&mut self, out: &mut Vec<u8>, gap_ms: f64) {
        use std::io::Write;
        let r = &mut self.rng;
        self.time_ms += r.exp(gap_ms) as i64;
        let (op, method, _, keyed) = if self.pending_batch > 0 {
            self.pending_batch -= 1;
            ("BATCH.DELETE.OBJECT", "", 0, true)
        } else {
            let total = *self.op_cdf.last().unwrap_or(&1);
            let x = r.below(u64::from(total)) as u32;
            OPERATIONS[self.op_cdf.partition_point(|c| *c <= x)]
        };
        if op == "REST.POST.MULTI_OBJECT_DELETE" {
            self.pending_batch = 1 + r.below(40) as u32;
        }
        let lifecycle = op.starts_with("S3.");
        let bucket = &self.buckets[self.bucket_zipf.sample(r)];
        let key = if keyed {
            format!(
                "{}/part-{:05}-{}.{}",
                r.pick(&self.prefixes),
                r.below(100_000),
                r.hex(8, false),
                r.pick(EXTENSIONS)
            )
        } else {
            "-".to_string()
        };
        let (ip, requester) = if lifecycle {
            ("-".to_string(), "AmazonS3".to_string())
        } else {
            (
                self.ips[self.ip_zipf.sample(r)].clone(),
                self.principals[self.principal_zipf.sample(r)].clone(),
            )
        };
        let days = self.time_ms.div_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let secs = self.time_ms.div_euclid(1000).rem_euclid(86_400);
        let size = (r.exp(2_000_000.0) as u64).max(1);
        let (status, error) = match r.below(1000) {
            0..=19 if !lifecycle => ("403", "AccessDenied"),
            20..=49 if method == "GET" || method == "HEAD" => ("404", "NoSuchKey"),
            50..=51 if !lifecycle => ("503", "SlowDown"),
            _ if lifecycle => ("-", "-"),
            _ if method == "DELETE" || op == "BATCH.DELETE.OBJECT" => ("204", "-"),
            _ => ("200", "-"),
        };
        let sent = match (method, status) {
            ("GET", "200") if keyed => size.to_string(),
            (_, "403" | "404" | "503") => (200 + r.below(200)).to_string(),
            ("GET" | "POST", _) => (100 + r.below(2000)).to_string(),
            _ => "-".to_string(),
        };
        let object_size = if keyed && status != "404" {
            size.to_string()
        } else {
            "-".to_string()
        };
        let total_time = if lifecycle {
            "-".to_string()
        } else {
            (1 + r.exp(40.0) as u64).to_string()
        };
        let turnaround = if lifecycle || method == "HEAD" {
            "-".to_string()
        } else {
            (1 + r.exp(20.0) as u64).to_string()
        };
        let uri = if lifecycle || op == "BATCH.DELETE.OBJECT" {
            if r.chance(0.5) {
                "\"-\"".to_string()
            } else {
                "-".to_string()
            }
        } else if keyed {
            format!(
                "\"{method} /{key}?x-id={} HTTP/1.1\"",
                ["GetObject", "PutObject", "HeadObject"][r.below(3) as usize]
            )
        } else {
            format!(
                "\"{method} /?list-type=2&prefix={}&max-keys=1000&encoding-type=url HTTP/1.1\"",
                r.pick(&self.prefixes)
            )
        };
        let referer = if r.chance(0.05) {
            format!("\"https://www.example.com/{} page.html\"", r.hex(4, false))
        } else {
            "\"-\"".to_string()
        };
        let agent = if lifecycle || op == "BATCH.DELETE.OBJECT" {
            "-"
        } else {
            r.pick(AGENTS)
        };
        let plain_http = !lifecycle && r.chance(0.02);
        let (sigv, cipher, auth, tls) = if lifecycle {
            ("-", "-", "-", "-")
        } else if requester == "-" {
            (
                "-",
                if plain_http {
                    "-"
                } else {
                    "TLS_AES_128_GCM_SHA256"
                },
                "-",
                if plain_http { "-" } else { "TLSv1.3" },
            )
        } else if plain_http {
            ("SigV4", "-", "AuthHeader", "-")
        } else if r.chance(0.005) {
            ("SigV2", "ECDHE-RSA-AES128-SHA", "QueryString", "TLSv1.1")
        } else {
            (
                "SigV4",
                if r.chance(0.5) {
                    "TLS_AES_128_GCM_SHA256"
                } else {
                    "ECDHE-RSA-AES128-GCM-SHA256"
                },
                "AuthHeader",
                if r.chance(0.5) { "TLSv1.3" } else { "TLSv1.2" },
            )
        };
        let version = if r.chance(0.1) {
            r.base64(32)
        } else {
            "-".to_string()
        };
        let host = if lifecycle {
            "-".to_string()
        } else {
            format!("{bucket}.s3.us-east-1.amazonaws.com")
        };
        let acl = if !lifecycle && r.chance(0.03) {
            "Yes"
        } else {
            "-"
        };
        let owner = "7c2e8a1b9d0f4e6a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a";
        let _ = write!(
            out,
            "{owner} {bucket} [{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000] {ip} {requester} {} {op} {key} {uri} {status} {error} {sent} {object_size} {total_time} {turnaround} {referer} {agent} {version} {}= {sigv} {cipher} {auth} {host} {tls} - {acl}",
            MONTHS[(m - 1) as usize],
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            r.hex(16, true),
            r.base64(75),
        );
        if r.chance(0.3) {
            out.extend_from_slice(b" us-east-1");
        }
        out.push(b'\n');
    }

    /// About `bytes` bytes of lines.
    pub fn lines(&mut self, bytes: usize, gap_ms: f64) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes + 1024);
        while out.len() < bytes {
            self.line(&mut out, gap_ms);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::access_log::{AccessLogDecoder, DecoderOptions};

    #[test]
    fn generated_lines_all_parse_and_are_deterministic() {
        let data = AccessLogGenerator::new(42, 1_763_000_000_000).lines(2 << 20, 50.0);
        assert_eq!(
            data,
            AccessLogGenerator::new(42, 1_763_000_000_000).lines(2 << 20, 50.0)
        );
        let mut d = AccessLogDecoder::new(
            "gen",
            &DecoderOptions {
                batch_size: 1 << 20,
                ..Default::default()
            },
        );
        d.decode(&data, true);
        let counts = d.counts();
        assert!(d.take_rejects().is_empty());
        let average = data.len() as u64 / counts.rows;
        assert!(
            (450..800).contains(&average),
            "average line length {average}"
        );
    }
}
