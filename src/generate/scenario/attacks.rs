//! The planted attacks of the last day, one per detection family: what each is, which
//! detections must find it, and its records.
//!
//! In: the scenario's [`Collector`], an attack's index and the last day's start. Out: the
//! attack's access-log requests and CloudTrail events, marked as the attack's in the manifest.

// The records, names and constants of the scenario (see `super`).
use super::*;

pub(super) struct Plan {
    pub(super) name: &'static str,
    pub(super) family: &'static str,
    pub(super) description: &'static str,
    pub(super) detection: &'static str,
    pub(super) also: &'static [&'static str],
    pub(super) ips: &'static [&'static str],
    pub(super) principals: Vec<String>,
}

pub(super) fn plans() -> Vec<Plan> {
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

pub(super) fn plant(c: &mut Collector, index: usize, day_start: i64) {
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
