//! A log bucket laid out as AWS lays it out, on an S3-compatible server (moto's, on
//! 127.0.0.1) behind our proxy, which logs every request: 30 days of server access logs flat
//! (`PREFIX/YYYY-MM-DD-HH-MM-SS-UNIQUE`), partitioned by delivery time and by event time
//! (`PREFIX/ACCOUNT/REGION/BUCKET/YYYY/MM/DD/…`), and an organisation trail of two accounts
//! in two regions, with late deliveries (hours after their records; days, under event-time
//! partitions), CloudTrail events in the minute after their file's name, and keys with no
//! date. A one-day query fetches about a day of objects, lists about a day of keys, and gives
//! the answer a full scan gives and the records themselves say.
//!
//! Needs `python3`; moto is started by the tests (and installed into `target/` when missing).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::moto::Moto;
use common::proxy::Proxy;
use common::{gzip, ok};
use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::list::PaginatedListStore;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use s3trawl::source::prune::{DEFAULT_SLACK_MS, KeyWindow, TimeRange};
use s3trawl::source::walk::list_window;

const BUCKET: &str = "org-logs";
const DAYS: i64 = 30;

fn first_day() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 20, 0, 0, 0).unwrap()
}

fn day(i: i64) -> DateTime<Utc> {
    first_day() + Duration::days(i)
}

/// One access-log record at `t` (AWS's documented example, with its own request ID).
fn access_record(t: DateTime<Utc>, id: usize) -> String {
    common::access_record(
        t,
        &format!("{id:016X}"),
        "REST.GET.OBJECT",
        &format!("key-{id}"),
    )
}

fn cloudtrail_record(t: DateTime<Utc>, account: &str, region: &str, id: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","principalId":"AIDA{id}","arn":"arn:aws:iam::{account}:user/u{id}","accountId":"{account}"}},"eventTime":"{}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"{region}","sourceIPAddress":"192.0.2.9","userAgent":"aws-cli/2","requestParameters":{{"bucketName":"b","key":"k{id}"}},"responseElements":null,"requestID":"R{id}","eventID":"E{id}","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"{account}","eventCategory":"Data"}}"#,
        t.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// The bucket's objects (key, body) and every record's time, by table and prefix.
struct Bucket {
    objects: Vec<(String, Vec<u8>)>,
    /// (prefix, record time)
    records: Vec<(&'static str, DateTime<Utc>)>,
}

fn bucket() -> Bucket {
    let mut objects = Vec::new();
    let mut records = Vec::new();
    let mut id = 0;
    let mut next = || {
        id += 1;
        id
    };
    let name = |t: DateTime<Utc>, n: usize| format!("{}-{n:016X}", t.format("%Y-%m-%d-%H-%M-%S"));
    for d in 0..DAYS {
        // Deliveries every six hours with records of the hours before (the first of the day
        // reaching back into the day before), and one the next morning, six hours late.
        let mut deliveries: Vec<(DateTime<Utc>, Vec<DateTime<Utc>>)> = [3, 9, 15, 21]
            .iter()
            .map(|&h| {
                let t = day(d) + Duration::hours(h);
                (
                    t,
                    vec![
                        t - Duration::minutes(60),
                        t - Duration::minutes(150),
                        t - Duration::minutes(210),
                    ],
                )
            })
            .collect();
        deliveries.push((
            day(d + 1) + Duration::hours(5),
            vec![day(d) + Duration::hours(23)],
        ));
        for (t, times) in deliveries {
            let n = next();
            let body: String = times.iter().map(|&r| access_record(r, next())).collect();
            let key = name(t, n);
            for (prefix, folder) in [
                ("flat", String::new()),
                (
                    "part",
                    format!(
                        "123456789012/eu-west-1/source-bucket/{}/",
                        t.format("%Y/%m/%d")
                    ),
                ),
            ] {
                objects.push((format!("{prefix}/{folder}{key}"), body.clone().into_bytes()));
                records.extend(times.iter().map(|&r| (prefix, r)));
            }
        }
        // Partitioned by event time: each object holds one day's records; one of them
        // delivered two days late.
        for (t, times) in [
            (
                day(d) + Duration::hours(10),
                vec![day(d) + Duration::hours(8), day(d) + Duration::hours(9)],
            ),
            (
                day(d + 2) + Duration::hours(1),
                vec![day(d) + Duration::hours(22)],
            ),
        ] {
            let body: String = times.iter().map(|&r| access_record(r, next())).collect();
            let key = format!(
                "event/123456789012/eu-west-1/source-bucket/{}/{}",
                day(d).format("%Y/%m/%d"),
                name(t, next())
            );
            objects.push((key, gzip(body.as_bytes())));
            records.extend(times.iter().map(|&r| ("event", r)));
        }
        // An organisation trail: files every twelve hours, one just after midnight holding the
        // day before's last event, and an event in the minute after its file's name.
        for account in ["111111111111", "222222222222"] {
            for region in ["us-east-1", "eu-west-1"] {
                for (t, times) in [
                    (
                        day(d) + Duration::minutes(2),
                        vec![day(d) - Duration::seconds(30)],
                    ),
                    (
                        day(d) + Duration::hours(6) + Duration::minutes(5),
                        vec![day(d) + Duration::hours(5)],
                    ),
                    (
                        day(d) + Duration::hours(18) + Duration::minutes(5),
                        vec![
                            day(d) + Duration::hours(18) + Duration::seconds(5 * 60 + 30),
                            day(d) + Duration::hours(17),
                        ],
                    ),
                ] {
                    let events: Vec<String> = times
                        .iter()
                        .map(|&r| cloudtrail_record(r, account, region, next()))
                        .collect();
                    let body = format!("{{\"Records\":[{}]}}", events.join(","));
                    let key = format!(
                        "ct/AWSLogs/o-abc123/{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_{:08x}.json.gz",
                        t.format("%Y/%m/%d"),
                        t.format("%Y%m%dT%H%MZ"),
                        next()
                    );
                    objects.push((key, gzip(body.as_bytes())));
                    records.extend(times.iter().map(|&r| ("ct", r)));
                }
            }
        }
    }
    // Keys without a date are always read.
    let odd = day(15) + Duration::hours(12);
    objects.push((
        "flat/notes.log".into(),
        access_record(odd, next()).into_bytes(),
    ));
    objects.push((
        "flat/2026-notes.log".into(),
        access_record(odd, next()).into_bytes(),
    ));
    records.push(("flat", odd));
    records.push(("flat", odd));
    Bucket { objects, records }
}

struct Lab {
    moto: Moto,
    proxy: Proxy,
    bucket: Bucket,
    dir: tempfile::TempDir,
}

fn lab() -> Lab {
    let moto = Moto::start();
    moto.create_bucket(BUCKET);
    let store = moto.store(BUCKET);
    let bucket = bucket();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        futures::stream::iter(&bucket.objects)
            .map(|(key, data)| {
                let store = &store;
                async move {
                    store
                        .put(
                            &ObjectPath::from(key.as_str()),
                            PutPayload::from(data.clone()),
                        )
                        .await
                }
            })
            .buffer_unordered(16)
            .for_each(|r| async {
                r.unwrap();
            })
            .await;
    });
    let proxy = Proxy::start(&moto.endpoint);
    Lab {
        moto,
        proxy,
        bucket,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Lab {
    /// Runs `sql` through the proxy; its output and the object fetches and listing requests
    /// it made.
    fn sql(&self, sql: &str, prefix: &str) -> (String, usize, usize) {
        let before = self.proxy.requests().lines().count();
        let location = format!("s3://{BUCKET}/{prefix}/");
        let out = ok(self
            .moto
            .command(
                &self.proxy.endpoint,
                self.dir.path(),
                &[
                    "sql", "--quiet", "--format", "csv", "--logs", &location, sql,
                ],
            )
            .output()
            .unwrap());
        let log = self.proxy.requests();
        let (mut gets, mut lists) = (0, 0);
        for line in log.lines().skip(before) {
            if line.contains("list-type=2") {
                lists += 1;
            } else if line.starts_with("GET ") {
                gets += 1;
            }
        }
        (out, gets, lists)
    }

    /// Objects under `prefix` whose key is dated within `days` of day `d`.
    fn objects_named_near(&self, prefix: &str, d: i64) -> usize {
        let from = day(d).format("%Y-%m-%d").to_string();
        let to = day(d + 1).format("%Y-%m-%d").to_string();
        let to_ct = day(d + 1).format("%Y%m%d").to_string();
        let from_ct = day(d).format("%Y%m%d").to_string();
        self.bucket
            .objects
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{prefix}/")))
            .filter(|(k, _)| {
                let name = k.rsplit('/').next().unwrap();
                [&from, &to, &from_ct, &to_ct]
                    .iter()
                    .any(|d| name.starts_with(d.as_str()) || name.contains(&format!("_{d}T")))
            })
            .count()
    }

    fn objects_under(&self, prefix: &str) -> usize {
        let folder = format!("{prefix}/");
        self.bucket
            .objects
            .iter()
            .filter(|(k, _)| k.starts_with(&folder))
            .count()
    }

    fn expected(&self, prefix: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> usize {
        self.bucket
            .records
            .iter()
            .filter(|(p, t)| *p == prefix && *t >= from && *t < to)
            .count()
    }
}

fn first_number(csv: &str) -> usize {
    csv.lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn one_day_reads_about_a_day_of_objects_and_answers_as_a_full_scan() {
    let lab = lab();
    let stamp = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    for (prefix, table, time) in [
        ("flat", "access_logs", "requestdatetime"),
        ("part", "access_logs", "requestdatetime"),
        ("event", "access_logs", "requestdatetime"),
        ("ct", "cloudtrail", "eventtime"),
    ] {
        for d in [0, 15, DAYS - 1] {
            let (from, to) = (stamp(day(d)), stamp(day(d + 1)));
            let columns = format!(
                "count(*) AS n, min({time}) AS first, max({time}) AS last, count(DISTINCT log_object) AS objects"
            );
            let pruned = format!(
                "SELECT {columns} FROM {table} WHERE {time} >= TIMESTAMP '{from}' AND {time} < TIMESTAMP '{to}'"
            );
            // The same rows, by a condition that prunes nothing.
            let full = format!(
                "SELECT {columns} FROM {table} WHERE {time} + INTERVAL '1 millisecond' > TIMESTAMP '{from}' AND {time} + INTERVAL '1 millisecond' <= TIMESTAMP '{to}'"
            );
            let (answer, gets, lists) = lab.sql(&pruned, prefix);
            let (scanned, all_gets, _) = lab.sql(&full, prefix);
            let what = format!("{prefix}, day {d}");
            assert_eq!(answer, scanned, "{what}");
            assert_eq!(
                first_number(&answer),
                lab.expected(prefix, day(d), day(d + 1)),
                "{what}: {answer}"
            );
            let total = lab.objects_under(prefix);
            assert_eq!(all_gets, total, "{what}: the full scan reads every object");
            // A day and the next (late deliveries), plus the undated keys; event-time
            // partitions also hold the day's objects delivered two days late.
            let near = lab.objects_named_near(prefix, d) + 2;
            assert!(
                gets <= near && gets < total / 10,
                "{what}: fetched {gets} objects (a day and the next: {near}; all: {total})"
            );
            assert!(lists <= 48, "{what}: {lists} listing requests");
        }
    }
    // The forms of AWS's example queries prune too.
    for sql in [
        "SELECT count(*) FROM access_logs WHERE timestamp = '2026/03/07'",
        "SELECT count(*) FROM access_logs WHERE parse_datetime(requestdatetime, 'dd/MMM/yyyy:HH:mm:ss Z') BETWEEN parse_datetime('2026-03-07:00:00:00', 'yyyy-MM-dd:HH:mm:ss') AND parse_datetime('2026-03-07:23:59:59', 'yyyy-MM-dd:HH:mm:ss')",
    ] {
        let (answer, gets, _) = lab.sql(sql, "part");
        assert_eq!(
            first_number(&answer),
            lab.expected("part", day(15), day(16)),
            "{sql}"
        );
        assert!(gets <= lab.objects_named_near("part", 15), "{sql}: {gets}");
    }
}

/// The walk itself: a one-day window over 30 days lists about two days of keys in each
/// layout, with the requests it takes.
#[test]
fn one_day_lists_about_two_days_of_keys() {
    let lab = lab();
    let lister: Arc<dyn PaginatedListStore> = Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(&lab.proxy.endpoint)
            .with_allow_http(true)
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .unwrap(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let d = 15;
    let range = TimeRange::new(
        Some(day(d).timestamp_millis()),
        Some(day(d + 1).timestamp_millis()),
    );
    let window = KeyWindow::new(range, DEFAULT_SLACK_MS);
    let mut per_prefix = BTreeMap::new();
    for prefix in ["flat", "part", "event", "ct"] {
        let (objects, stats) = runtime
            .block_on(list_window(&lister, &format!("{prefix}/"), &window, 64))
            .unwrap();
        let total = lab.objects_under(prefix);
        let per_day = total as f64 / DAYS as f64;
        per_prefix.insert(prefix, (objects.len(), stats));
        assert!(
            (stats.keys as f64) <= 2.0 * per_day + 20.0,
            "{prefix}: listed {} keys ({per_day} objects a day): {stats:?}",
            stats.keys
        );
        // Every object the window needs is among them.
        let needed: Vec<&String> = lab
            .bucket
            .objects
            .iter()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with(&format!("{prefix}/")) && window.may_hold(k))
            .collect();
        let found: std::collections::HashSet<String> =
            objects.iter().map(|m| m.location.to_string()).collect();
        for key in needed {
            assert!(found.contains(key), "{prefix}: {key} not listed");
        }
    }
    eprintln!("{per_prefix:?}");
}

/// The most requests the proxy was answering at once, over its log lines from `from` on.
fn most_in_flight(log: &str, from: usize) -> usize {
    log.lines()
        .skip(from)
        .filter_map(|l| l.rsplit_once(" inflight=").map(|(_, n)| n.parse().unwrap()))
        .max()
        .unwrap_or(0)
}

/// Fetches keep as many requests in flight as asked for, whatever the number of threads:
/// `--s3-concurrency` (default 64), or `s3_concurrency` in a detect config.
#[test]
fn fetches_keep_the_requests_in_flight_asked_for_whatever_the_threads() {
    let lab = lab();
    // Every object fetch waits 100 ms at the proxy, as over a slow network.
    lab.proxy.faults(serde_json::json!([
        {"method": "GET", "path": "/org-logs/flat/", "fault": "delay", "seconds": 0.1}
    ]));
    let objects = lab.objects_under("flat");
    let location = format!("s3://{BUCKET}/flat/");
    let run = |args: &[&str]| {
        let before = lab.proxy.requests().lines().count();
        ok(lab
            .moto
            .command(&lab.proxy.endpoint, lab.dir.path(), args)
            .output()
            .unwrap());
        most_in_flight(&lab.proxy.requests(), before)
    };
    let count = "SELECT count(*) FROM access_logs";
    for (threads, asked, expected) in [("1", None, 64), ("2", Some("16"), 16), ("1", Some("4"), 4)]
    {
        let mut args = vec!["sql", "--quiet", "--threads", threads, "--logs", &location];
        if let Some(n) = asked {
            args.extend(["--s3-concurrency", n]);
        }
        args.push(count);
        let most = run(&args);
        assert!(
            most <= expected && most * 4 >= expected * 3,
            "{threads} threads, --s3-concurrency {asked:?}: at most {most} requests in flight ({objects} objects)"
        );
    }
    let config = lab.dir.path().join("detect.toml");
    std::fs::write(&config, "[settings]\ns3_concurrency = 3\n").unwrap();
    let config = config.to_str().unwrap();
    let args = [
        "detect",
        "--quiet",
        "--threads",
        "2",
        "--logs",
        &location,
        "--config",
        config,
        "--since",
        "2026-01-01",
        "--format",
        "json",
    ];
    let before = lab.proxy.requests().lines().count();
    let o = lab
        .moto
        .command(&lab.proxy.endpoint, lab.dir.path(), &args)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{}",
        common::stderr(&o)
    );
    let most = most_in_flight(&lab.proxy.requests(), before);
    assert!(
        (2..=3).contains(&most),
        "the config's 3: at most {most} in flight"
    );
}

/// An object delivered after a run: key, body, records.
type NewObject = (String, Vec<u8>, usize);

/// A nightly `ingest` of each layout (flat, partitioned by delivery and by event time, an
/// organisation trail) after new deliveries within the delivery slack: the second run fetches
/// the new objects and nothing else, and adds their records.
#[test]
fn the_nightly_ingest_of_each_layout_fetches_only_the_new_deliveries() {
    let lab = lab();
    let new_day = day(DAYS);
    let name = |t: DateTime<Utc>, n: usize| format!("{}-{n:016X}", t.format("%Y-%m-%d-%H-%M-%S"));
    let access = |t: DateTime<Utc>, n: usize| access_record(t, 900_000 + n);
    // (prefix, new objects)
    let deliveries: Vec<(&str, Vec<NewObject>)> = vec![
        (
            "flat",
            vec![
                (
                    format!("flat/{}", name(new_day + Duration::hours(2), 1)),
                    access(new_day - Duration::hours(1), 1).into_bytes(),
                    1,
                ),
                (
                    format!("flat/{}", name(new_day + Duration::hours(4), 2)),
                    (access(new_day + Duration::hours(3), 2) + &access(new_day, 3)).into_bytes(),
                    2,
                ),
            ],
        ),
        (
            "part",
            vec![(
                format!(
                    "part/123456789012/eu-west-1/source-bucket/{}/{}",
                    new_day.format("%Y/%m/%d"),
                    name(new_day + Duration::hours(3), 4)
                ),
                access(new_day + Duration::hours(2), 4).into_bytes(),
                1,
            )],
        ),
        (
            "event",
            vec![
                // The lab's last event-time delivery is named on day 31 at 01:00 (day 29's,
                // two days late). Since then: day 30's last events, six hours late into day
                // 30's folder, and day 31's first.
                (
                    format!(
                        "event/123456789012/eu-west-1/source-bucket/{}/{}",
                        new_day.format("%Y/%m/%d"),
                        name(day(DAYS + 1) + Duration::hours(6), 5)
                    ),
                    gzip(access(day(DAYS + 1) - Duration::minutes(30), 5).as_bytes()),
                    1,
                ),
                (
                    format!(
                        "event/123456789012/eu-west-1/source-bucket/{}/{}",
                        day(DAYS + 1).format("%Y/%m/%d"),
                        name(day(DAYS + 1) + Duration::hours(3), 6)
                    ),
                    gzip(access(day(DAYS + 1) + Duration::hours(1), 6).as_bytes()),
                    1,
                ),
            ],
        ),
        (
            "ct",
            vec![(
                format!(
                    "ct/AWSLogs/o-abc123/222222222222/CloudTrail/eu-west-1/{}/222222222222_CloudTrail_eu-west-1_{}_{:08x}.json.gz",
                    new_day.format("%Y/%m/%d"),
                    (new_day + Duration::minutes(5)).format("%Y%m%dT%H%MZ"),
                    7
                ),
                gzip(
                    format!(
                        "{{\"Records\":[{}]}}",
                        cloudtrail_record(
                            new_day + Duration::minutes(1),
                            "222222222222",
                            "eu-west-1",
                            900_007
                        )
                    )
                    .as_bytes(),
                ),
                1,
            )],
        ),
    ];
    let store = lab.moto.store(BUCKET);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (prefix, new) in deliveries {
        let lake = lab.dir.path().join(format!("lake-{prefix}"));
        let lake = lake.to_str().unwrap();
        let location = format!("s3://{BUCKET}/{prefix}/");
        let ingest = || {
            let before = lab.proxy.requests().lines().count();
            let out = ok(lab
                .moto
                .command(
                    &lab.proxy.endpoint,
                    lab.dir.path(),
                    &["ingest", "--quiet", &location, "--lake", lake],
                )
                .output()
                .unwrap());
            let gets = lab
                .proxy
                .requests()
                .lines()
                .skip(before)
                .filter(|l| l.starts_with("GET ") && !l.contains("list-type=2"))
                .count();
            (out, gets)
        };
        let rows = || {
            let table = if prefix == "ct" {
                "cloudtrail"
            } else {
                "access_logs"
            };
            let out = ok(common::s3trawl_in(
                lab.dir.path(),
                &[
                    "sql",
                    "--format",
                    "csv",
                    "--lake",
                    lake,
                    &format!("SELECT count(*) FROM {table}"),
                ],
            ));
            first_number(&out)
        };
        let (_, gets) = ingest();
        assert_eq!(
            gets,
            lab.objects_under(prefix),
            "{prefix}: the first run reads every object"
        );
        let before = rows();
        for (key, body, _) in &new {
            runtime
                .block_on(store.put(
                    &ObjectPath::from(key.as_str()),
                    PutPayload::from(body.clone()),
                ))
                .unwrap();
        }
        let (out, gets) = ingest();
        assert_eq!(gets, new.len(), "{prefix}: {out}");
        let added: usize = new.iter().map(|(_, _, records)| records).sum();
        assert_eq!(rows(), before + added, "{prefix}");
    }
}
