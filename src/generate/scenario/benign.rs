//! The benign week: what a small production account's buckets see hour by hour, and the
//! administrators' occasional changes on the last day.
//!
//! In: the scenario's [`Collector`] and an hour (or the last day's start). Out: access-log
//! requests and CloudTrail events added to it, from the scenario's seeded random numbers.

// The records, names and constants of the scenario (see `super`).
use super::*;

/// Traffic volume by hour of day (UTC): busy in working hours, quiet at night.
fn diurnal(hour_of_day: i64) -> f64 {
    match hour_of_day {
        8..=17 => 1.4,
        18..=22 => 0.8,
        _ => 0.45,
    }
}

/// The benign traffic of one hour.
pub(super) fn benign_hour(c: &mut Collector, h: i64, scale: f64, www_pool: &[String]) {
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
pub(super) fn benign_changes(c: &mut Collector, day_start: i64) {
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
