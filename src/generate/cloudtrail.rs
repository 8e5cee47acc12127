//! Synthetic CloudTrail records and log files.
//!
//! Records carry nested identities (IAM users, assumed roles with their session context and
//! issuer, AWS services), S3 data events with `additionalEventData` and `tlsDetails`, and
//! bucket management events whose policies name a `Principal` that is sometimes `"*"` and
//! sometimes an object, the shape that defeats schema inference.

use std::fmt::Write as _;

use super::{Rng, Zipf};
use crate::format::time::civil_from_days;

const DATA_EVENTS: &[(&str, u32)] = &[
    ("GetObject", 520),
    ("PutObject", 160),
    ("HeadObject", 90),
    ("ListObjects", 60),
    ("DeleteObject", 25),
    ("DeleteObjects", 6),
    ("CopyObject", 15),
    ("GetObjectAcl", 5),
    ("GetObjectTagging", 5),
];

const MANAGEMENT_EVENTS: &[&str] = &[
    "GetBucketPolicy",
    "PutBucketPolicy",
    "GetBucketAcl",
    "PutBucketAcl",
    "GetBucketVersioning",
    "PutBucketVersioning",
    "GetBucketEncryption",
    "ListBuckets",
    "GetBucketLocation",
    "PutBucketPublicAccessBlock",
];

const AGENTS: &[&str] = &[
    "[aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/adaptive]",
    "[aws-cli/2.17.4 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.94-99.176.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3.cp]",
    "[Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#5.10.218-208.862.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.131]",
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.219-186.866.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.412-b08 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard]",
    "AWS Internal",
    "s3.amazonaws.com",
];

/// Writes realistic CloudTrail records, one after another in time.
pub struct CloudTrailGenerator {
    rng: Rng,
    account: String,
    identities: Vec<String>,
    identity_zipf: Zipf,
    ips: Vec<String>,
    ip_zipf: Zipf,
    buckets: Vec<String>,
    time_ms: i64,
}

impl CloudTrailGenerator {
    pub fn new(seed: u64, start_ms: i64) -> Self {
        let mut rng = Rng::new(seed ^ 0xC10D);
        let account = format!("{:012}", 100_000_000_000 + rng.below(900_000_000_000));
        let identities = (0..120)
            .map(|i| match i % 4 {
                0 => format!(
                    r#"{{"type":"IAMUser","principalId":"AIDA{}","arn":"arn:aws:iam::{account}:user/user-{i}","accountId":"{account}","accessKeyId":"AKIA{}","userName":"user-{i}"}}"#,
                    rng.hex(16, true),
                    rng.hex(16, true)
                ),
                1 | 2 => {
                    let role = format!("service-role-{}", i / 4);
                    let session = format!("i-0{}", rng.hex(16, false));
                    format!(
                        r#"{{"type":"AssumedRole","principalId":"AROA{}:{session}","arn":"arn:aws:sts::{account}:assumed-role/{role}/{session}","accountId":"{account}","accessKeyId":"ASIA{}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA{}","arn":"arn:aws:iam::{account}:role/{role}","accountId":"{account}","userName":"{role}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"2026-11-01T00:00:00Z","mfaAuthenticated":"false"}},"ec2RoleDelivery":"2.0"}}}}"#,
                        rng.hex(16, true),
                        rng.hex(16, true),
                        rng.hex(16, true)
                    )
                }
                _ => r#"{"type":"AWSService","invokedBy":"s3.amazonaws.com"}"#.to_string(),
            })
            .collect();
        let ips = (0..2000)
            .map(|_| {
                format!(
                    "{}.{}.{}.{}",
                    3 + rng.below(220),
                    rng.below(256),
                    rng.below(256),
                    1 + rng.below(254)
                )
            })
            .collect();
        let buckets = (0..15)
            .map(|i| format!("corp-{}-{i:02}", ["data", "logs", "backup"][i % 3]))
            .collect();
        CloudTrailGenerator {
            rng,
            account,
            identities,
            identity_zipf: Zipf::new(120, 1.1),
            ips,
            ip_zipf: Zipf::new(2000, 1.05),
            buckets,
            time_ms: start_ms,
        }
    }

    pub fn time_ms(&self) -> i64 {
        self.time_ms
    }

    fn time(&self) -> String {
        let (y, m, d) = civil_from_days(self.time_ms.div_euclid(86_400_000));
        let s = self.time_ms.div_euclid(1000).rem_euclid(86_400);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }

    /// Appends one record (a JSON object) to `out`; `gap_ms` is the mean time between events.
    pub fn record(&mut self, out: &mut String, gap_ms: f64) {
        let r = &mut self.rng;
        self.time_ms += r.exp(gap_ms) as i64;
        let identity = self.identities[self.identity_zipf.sample(r)].clone();
        let ip = if identity.contains("AWSService") {
            "s3.amazonaws.com".to_string()
        } else {
            self.ips[self.ip_zipf.sample(r)].clone()
        };
        let bucket = r.pick(&self.buckets).clone();
        let account = self.account.clone();
        let key = format!(
            "prefix/{}/part-{:05}.parquet",
            r.hex(6, false),
            r.below(100_000)
        );
        let agent = *r.pick(AGENTS);
        let management = r.chance(0.08);
        let (name, request, response, additional, category, read_only) = if management {
            let name = *r.pick(MANAGEMENT_EVENTS);
            let request = match name {
                "PutBucketPolicy" => {
                    let principal = if r.chance(0.3) {
                        r#""*""#.to_string()
                    } else {
                        format!(r#"{{"AWS":"arn:aws:iam::{account}:root"}}"#)
                    };
                    let policy = format!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"s","Effect":"Allow","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
                    );
                    format!(
                        r#"{{"bucketPolicy":{policy},"bucketName":"{bucket}","Host":"{bucket}.s3.us-east-1.amazonaws.com","policy":""}}"#
                    )
                }
                "PutBucketVersioning" => format!(
                    r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.amazonaws.com","versioning":"","VersioningConfiguration":{{"Status":"Enabled","xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"}}}}"#
                ),
                "ListBuckets" => r#"{"Host":"s3.us-east-1.amazonaws.com"}"#.to_string(),
                _ => format!(
                    r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.us-east-1.amazonaws.com"}}"#
                ),
            };
            (
                name,
                request,
                "null".to_string(),
                format!(
                    r#"{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{}","bytesTransferredOut":0}}"#,
                    r.base64(76)
                ),
                "Management",
                name.starts_with("Get") || name.starts_with("List"),
            )
        } else {
            let total: u32 = DATA_EVENTS.iter().map(|e| e.1).sum();
            let mut x = r.below(u64::from(total)) as u32;
            let name = DATA_EVENTS.iter().find(|e| {
                if x < e.1 {
                    true
                } else {
                    x -= e.1;
                    false
                }
            });
            let name = name.map_or("GetObject", |e| e.0);
            let size = (r.exp(2_000_000.0) as u64).max(1);
            let (bytes_in, bytes_out) = match name {
                "PutObject" => (size, 0),
                "GetObject" => (0, size),
                _ => (0, 0),
            };
            let request = if name == "DeleteObjects" {
                format!(
                    r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.us-east-1.amazonaws.com","delete":"","Delete":{{"Object":[{{"Key":"{key}"}}],"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"}}}}"#
                )
            } else {
                format!(
                    r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.us-east-1.amazonaws.com","key":"{key}"}}"#
                )
            };
            let response = if name == "PutObject" {
                r#"{"x-amz-server-side-encryption":"AES256"}"#.to_string()
            } else {
                "null".to_string()
            };
            let acl = if r.chance(0.02) {
                r#","aclRequired":"Yes""#
            } else {
                ""
            };
            let additional = format!(
                r#"{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":{bytes_in},"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{}","bytesTransferredOut":{bytes_out}{acl}}}"#,
                r.base64(76)
            );
            (
                name,
                request,
                response,
                additional,
                "Data",
                matches!(
                    name,
                    "GetObject"
                        | "HeadObject"
                        | "ListObjects"
                        | "GetObjectAcl"
                        | "GetObjectTagging"
                ),
            )
        };
        let error = if r.chance(0.02) {
            r#""errorCode":"AccessDenied","errorMessage":"Access Denied","#.to_string()
        } else {
            String::new()
        };
        let resources = if management {
            format!(
                r#"[{{"accountId":"{account}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#
            )
        } else {
            format!(
                r#"[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/{key}"}},{{"accountId":"{account}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#
            )
        };
        let time = self.time();
        let r = &mut self.rng;
        let _ = write!(
            out,
            r#"{{"eventVersion":"1.10","userIdentity":{identity},"eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"{agent}",{error}"requestParameters":{request},"responseElements":{response},"additionalEventData":{additional},"requestID":"{}","eventID":"{}-{}-{}-{}-{}","readOnly":{read_only},"resources":{resources},"eventType":"AwsApiCall","managementEvent":{management},"recipientAccountId":"{account}","eventCategory":"{category}","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{bucket}.s3.us-east-1.amazonaws.com"}}}}"#,
            r.hex(16, true),
            r.hex(8, false),
            r.hex(4, false),
            r.hex(4, false),
            r.hex(4, false),
            r.hex(12, false),
        );
    }

    /// A delivered log file, `{"Records":[…]}`, of about `bytes` bytes.
    pub fn log_file(&mut self, bytes: usize, gap_ms: f64) -> Vec<u8> {
        let mut out = String::with_capacity(bytes + 4096);
        out.push_str("{\"Records\":[");
        let mut first = true;
        while out.len() < bytes {
            if !first {
                out.push(',');
            }
            first = false;
            self.record(&mut out, gap_ms);
        }
        out.push_str("]}");
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{Output, ScanOptions, decode_all};

    #[test]
    fn generated_files_are_valid_cloudtrail() {
        let data = CloudTrailGenerator::new(7, 1_793_491_200_000).log_file(1 << 20, 1000.0);
        let value: serde_json::Value = serde_json::from_slice(&data).unwrap();
        let records = value["Records"].as_array().unwrap().len();
        let (batches, report) = decode_all(
            "gen",
            bytes::Bytes::from(data),
            ScanOptions::new(Output::CloudTrail),
        )
        .unwrap();
        assert!(report.rejects.is_empty());
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), records);
        assert!(records > 300);
    }
}
