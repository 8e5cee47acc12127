//! `ingest s3://…` as a nightly cron job, on an S3-compatible server (moto's, on 127.0.0.1)
//! behind our proxy, which logs every request: the second run lists only what was delivered
//! since the first (plus the delivery slack) and fetches only new or changed objects; an object
//! whose ETag changed is ingested again without leaving its old rows; a record S3 delivered
//! twice is not added again, while the lines of one multi-object delete (one request ID and
//! time, a key each) are all kept.
//!
//! Needs `python3`; moto is started by the tests (and installed into `target/` when missing).

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::moto::Moto;
use common::proxy::Proxy;
use common::{access_record, ok, stderr, stdout};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

const BUCKET: &str = "cron-logs";
const DAYS: i64 = 10;
/// Deliveries a day (flat names, by delivery time), three records each.
const HOURS: [i64; 4] = [3, 9, 15, 21];

fn day(i: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap() + Duration::days(i)
}

fn key(t: DateTime<Utc>, n: usize) -> String {
    format!("logs/{}-{n:016X}", t.format("%Y-%m-%d-%H-%M-%S"))
}

/// Three GETs in the hours before `t`.
fn delivery(t: DateTime<Utc>, n: usize) -> Vec<String> {
    (1..=3)
        .map(|i| {
            let id = format!("R{n:06}{i}");
            access_record(
                t - Duration::minutes(40 * i),
                &id,
                "REST.GET.OBJECT",
                &format!("k{n}-{i}"),
            )
        })
        .collect()
}

/// One multi-object delete: the request's line and a line per key, all under one request ID
/// and time.
fn batch_delete(t: DateTime<Utc>) -> Vec<String> {
    let mut lines = vec![access_record(
        t,
        "BATCHDEL0001",
        "REST.POST.MULTI_OBJECT_DELETE",
        "-",
    )];
    lines.extend((0..5).map(|i| {
        access_record(
            t,
            "BATCHDEL0001",
            "BATCH.DELETE.OBJECT",
            &format!("doomed/{i}.csv"),
        )
    }));
    lines
}

struct Lab {
    moto: Moto,
    proxy: Proxy,
    store: Box<dyn ObjectStore>,
    dir: tempfile::TempDir,
}

impl Lab {
    fn put(&self, key: &str, lines: &[String]) {
        let body = lines.concat().into_bytes();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(
                self.store
                    .put(&ObjectPath::from(key), PutPayload::from(body)),
            )
            .unwrap();
    }

    /// Runs `ingest` through the proxy: (stdout, stderr, objects fetched, listing requests,
    /// keys listed).
    fn ingest(&self, extra: &[&str]) -> (String, String, usize, usize, usize) {
        let before = self.proxy.requests().lines().count();
        let lake = self.lake();
        let mut args = vec![
            "ingest",
            "--quiet",
            "s3://cron-logs/logs/",
            "--lake",
            lake.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = self
            .moto
            .command(&self.proxy.endpoint, self.dir.path(), &args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let (mut gets, mut lists, mut keys) = (0, 0, 0);
        for line in self.proxy.requests().lines().skip(before) {
            if line.contains("list-type=2") {
                lists += 1;
            } else if line.starts_with("GET ") {
                gets += 1;
            } else if let Some(counts) = line.strip_prefix("= ") {
                // `= N keys M prefixes`
                keys += counts.split(' ').next().unwrap().parse::<usize>().unwrap();
            }
        }
        (stdout(&o), stderr(&o), gets, lists, keys)
    }

    fn lake(&self) -> std::path::PathBuf {
        self.dir.path().join("lake")
    }

    fn count(&self, sql: &str) -> u64 {
        let lake = self.lake();
        let out = ok(common::s3trawl_in(
            self.dir.path(),
            &[
                "sql",
                "--format",
                "csv",
                "--lake",
                lake.to_str().unwrap(),
                sql,
            ],
        ));
        out.lines().nth(1).unwrap().trim().parse().unwrap()
    }
}

fn lab() -> Lab {
    let moto = Moto::start();
    moto.create_bucket(BUCKET);
    let proxy = Proxy::start(&moto.endpoint);
    Lab {
        store: Box::new(moto.store(BUCKET)),
        moto,
        proxy,
        dir: tempfile::tempdir().unwrap(),
    }
}

fn assert_every_record_once(lab: &Lab, expected: u64) {
    assert_eq!(
        lab.count("SELECT count(*) FROM access_logs"),
        expected,
        "rows in the lake"
    );
    assert_eq!(
        lab.count(
            "SELECT count(*) FROM (SELECT DISTINCT requestid, operation, key FROM access_logs)"
        ),
        expected,
        "distinct records in the lake"
    );
}

#[test]
fn the_nightly_run_lists_and_fetches_only_what_is_new_and_adds_each_record_once() {
    let lab = lab();
    let mut n = 0;
    let mut records = 0u64;
    let mut keys_a_day = 0;
    let mut day9_15h = Vec::new();
    let mut day9_21h = String::new();
    for d in 0..DAYS {
        for h in HOURS {
            n += 1;
            let t = day(d) + Duration::hours(h);
            let mut lines = delivery(t, n);
            if d == 5 && h == 15 {
                lines.extend(batch_delete(t - Duration::minutes(5)));
            }
            records += lines.len() as u64;
            if d == DAYS - 1 && h == 15 {
                day9_15h = lines.clone();
            }
            if d == DAYS - 1 && h == 21 {
                day9_21h = key(t, n);
            }
            lab.put(&key(t, n), &lines);
        }
        keys_a_day = HOURS.len();
    }

    // The first run reads the bucket.
    let (out, _, gets, _, _) = lab.ingest(&[]);
    let objects = DAYS as usize * HOURS.len();
    assert!(
        out.starts_with(&format!(
            "ingested {objects} objects ({records} rows, 0 rejects)"
        )),
        "{out}"
    );
    assert_eq!(gets, objects);
    assert_every_record_once(&lab, records);
    assert_eq!(
        lab.count("SELECT count(*) FROM access_logs WHERE requestid = 'BATCHDEL0001'"),
        6,
        "every line of the multi-object delete"
    );

    // Delivered since: two new objects, one of which carries again two records delivered
    // before (S3 delivers some records twice) and a line of the multi-object delete; and the
    // last object of the first run, replaced (another ETag) by one of two records.
    let new_day = day(DAYS);
    n += 1;
    let fresh = delivery(new_day + Duration::hours(3), n);
    lab.put(&key(new_day + Duration::hours(3), n), &fresh);
    n += 1;
    let mut again = vec![day9_15h[0].clone(), day9_15h[2].clone()];
    again.push(batch_delete(day(5) + Duration::hours(15) - Duration::minutes(5))[3].clone());
    let one_new = delivery(new_day + Duration::hours(4), n).remove(0);
    again.push(one_new);
    lab.put(&key(new_day + Duration::hours(4), n), &again);
    let replaced = delivery(day(DAYS - 1) + Duration::hours(21), 900);
    lab.put(&day9_21h, &replaced[..2]);

    let (out, err, gets, lists, keys) = lab.ingest(&[]);
    assert!(
        out.starts_with("ingested 3 objects (9 rows, 0 rejects)"),
        "{out}\n{err}"
    );
    assert!(
        err.contains(&format!("s3://{BUCKET}/{day9_21h} has changed")),
        "{err}"
    );
    assert!(
        err.contains(
            "3 access-log records already in the lake (delivered twice) were not added again"
        ),
        "{err}"
    );
    assert_eq!(gets, 3, "fetched only the new and the changed objects");
    // The slack (12 hours) reaches back half a day before the last key listed: about two
    // days of keys at most (and the walk's first look at the folder, a page of 10), in a few
    // pages.
    assert!(
        keys <= 2 * keys_a_day + 10 && lists <= 10,
        "listed {keys} keys in {lists} requests"
    );
    // 3 + 1 new records, the changed object's 3 replaced by 2; the rest once.
    let expected = records + 4 - 1;
    assert_every_record_once(&lab, expected);
    assert_eq!(
        lab.count("SELECT count(*) FROM access_logs WHERE requestid = 'BATCHDEL0001'"),
        6
    );
    assert_eq!(
        lab.count(&format!(
            "SELECT count(*) FROM access_logs WHERE log_object = 's3://{BUCKET}/{day9_21h}'"
        )),
        2,
        "the changed object's rows are its new ones"
    );
    assert_eq!(
        lab.count("SELECT count(*) FROM access_logs WHERE requestid LIKE 'R000900%'"),
        2
    );

    policy_allows_every_request(&lab.proxy.requests());

    // Nothing new: nothing fetched, a page or two listed.
    let (out, _, gets, lists, _) = lab.ingest(&[]);
    assert!(out.starts_with("ingested 0 objects"), "{out}");
    assert_eq!(gets, 0);
    assert!(lists <= 10, "{lists} listing requests");
    assert_every_record_once(&lab, expected);

    // An object copied in later under an old name is found by `--full` (and only then).
    n += 1;
    let backfill = delivery(day(2) + Duration::hours(1), n);
    lab.put(&key(day(2) + Duration::hours(1), n), &backfill);
    let (out, _, gets, _, _) = lab.ingest(&[]);
    assert!(out.starts_with("ingested 0 objects"), "{out}");
    assert_eq!(gets, 0);
    let (out, _, gets, _, keys) = lab.ingest(&["--full"]);
    assert!(out.starts_with("ingested 1 object (3 rows"), "{out}");
    assert_eq!(gets, 1);
    assert!(keys > objects, "--full lists every key: {keys}");
    assert_every_record_once(&lab, expected + 3);
}

#[test]
fn since_limits_a_first_run_to_the_objects_that_can_hold_its_records() {
    let lab = lab();
    let mut n = 0;
    for d in 0..DAYS {
        for h in HOURS {
            n += 1;
            let t = day(d) + Duration::hours(h);
            lab.put(&key(t, n), &delivery(t, n));
        }
    }
    // From day 8 on: the objects named on days 8 and 9 (one named earlier holds nothing
    // later than its name).
    let (out, _, gets, _, _) = lab.ingest(&["--since", "2026-05-09"]);
    let expected_objects = 2 * HOURS.len();
    assert!(
        out.starts_with(&format!("ingested {expected_objects} objects")),
        "{out}"
    );
    assert_eq!(gets, expected_objects);
    assert_eq!(
        lab.count("SELECT count(*) FROM access_logs WHERE requestdatetime >= TIMESTAMP '2026-05-09 00:00:00'"),
        2 * HOURS.len() as u64 * 3
    );
}

/// The README's least-privilege policy (with `PREFIX` = `logs`) allows every request the runs
/// made: each listing's `prefix` matches its `s3:prefix` condition, and each object read is
/// under `logs/`.
fn policy_allows_every_request(log: &str) {
    let readme = std::fs::read_to_string(common::project().join("README.md")).unwrap();
    let section = &readme[readme.find("## Reading from S3").unwrap()..];
    let start = section.find("```json\n").unwrap() + 8;
    let end = start + section[start..].find("```").unwrap();
    let policy: serde_json::Value = serde_json::from_str(&section[start..end]).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let list = statements
        .iter()
        .find(|s| s["Action"] == "s3:ListBucket")
        .unwrap();
    let patterns: Vec<String> = list["Condition"]["StringLike"]["s3:prefix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().replace("PREFIX", "logs"))
        .collect();
    let allowed = |prefix: &str| {
        patterns.iter().any(|p| match p.strip_suffix('*') {
            Some(head) => prefix.starts_with(head),
            None => prefix == p,
        })
    };
    let read = statements
        .iter()
        .find(|s| s["Action"] == "s3:GetObject")
        .unwrap()["Resource"]
        .as_str()
        .unwrap()
        .replace("LOG-BUCKET", BUCKET)
        .replace("PREFIX", "logs");
    let read = read
        .trim_start_matches("arn:aws:s3:::")
        .trim_end_matches('*');
    let mut lists = 0;
    for line in log.lines().filter(|l| l.starts_with("GET ")) {
        let path = line[4..].split(' ').next().unwrap();
        if path.contains("list-type=2") {
            lists += 1;
            let prefix = path
                .split(['?', '&'])
                .find_map(|p| p.strip_prefix("prefix="))
                .unwrap_or("")
                .replace("%2F", "/");
            assert!(
                allowed(&prefix),
                "the policy refuses listing {prefix:?}: {patterns:?}"
            );
        } else {
            assert!(
                path[1..].starts_with(read),
                "the policy refuses reading {path}"
            );
        }
    }
    assert!(lists > 0);
}

/// Someone who can write into the log bucket plants one ordinary-looking object named far in
/// the future. Before, the next night's run started listing after 2099 and never read the real
/// deliveries again. Now the planted object is read and named, the position does not move, the
/// next real delivery is fetched, and `detect` reports the object (`log-object-from-the-future`).
#[test]
fn a_log_object_from_the_future_neither_stops_the_next_ingest_nor_goes_unreported() {
    let lab = lab();
    let mut n = 0;
    for d in 0..3 {
        for h in HOURS {
            n += 1;
            let t = day(d) + Duration::hours(h);
            lab.put(&key(t, n), &delivery(t, n));
        }
    }
    let (out, _, _, _, _) = lab.ingest(&[]);
    assert!(out.starts_with("ingested 12 objects"), "{out}");

    // The planted object: a record of day 2, a name of 2099.
    let planted = "logs/2099-12-31-23-59-59-0FF1CE0FF1CE0FF1";
    lab.put(
        planted,
        &[access_record(
            day(2) + Duration::hours(22),
            "PLANTED001",
            "REST.GET.OBJECT",
            "x",
        )],
    );
    let (out, err, _, _, _) = lab.ingest(&[]);
    assert!(out.starts_with("ingested 1 object"), "{out}");
    assert!(
        err.contains(&format!("s3://{BUCKET}/{planted} is named after now")),
        "{err}"
    );

    // The next real delivery is still listed and fetched.
    n += 1;
    let t = day(3) + Duration::hours(3);
    lab.put(&key(t, n), &delivery(t, n));
    let (out, err, gets, _, _) = lab.ingest(&[]);
    assert!(out.starts_with("ingested 1 object (3 rows"), "{out}\n{err}");
    assert_eq!(gets, 1);

    // The detection names it, over the lake and over the bucket itself (whatever the window).
    let lake = lab.lake();
    let o = common::s3trawl_in(
        lab.dir.path(),
        &[
            "detect",
            "--lake",
            lake.to_str().unwrap(),
            "--only",
            "log-object-from-the-future",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let found = stdout(&o);
    assert!(
        found.contains("\"log-object-from-the-future\"") && found.contains(planted),
        "{found}"
    );
    assert!(found.contains("\"high\""), "{found}");
    let o = lab
        .moto
        .command(
            &lab.proxy.endpoint,
            lab.dir.path(),
            &[
                "detect",
                "--logs",
                "s3://cron-logs/logs/",
                "--since",
                "2026-05-03",
                "--until",
                "2026-05-04",
                "--only",
                "log-object-from-the-future",
                "--format",
                "json",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains(planted), "{}", stdout(&o));
}
