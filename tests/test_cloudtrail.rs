//! CloudTrail (issue #3): every fixture in the shared corpora loads (digests skipped, every
//! other record a row), each kind of real-world drift reads right, damage keeps the records
//! before it, and a folder mixing access logs and CloudTrail fills both tables.

mod common;

use std::path::Path;

use common::*;
use s3trawl::scan::{Output, ScanOptions, decode_all};
use serde_json::{Value, json};

fn decode_trail(
    name: &str,
    raw: &[u8],
) -> (
    Vec<serde_json::Map<String, Value>>,
    s3trawl::scan::ObjectReport,
) {
    let (batches, report) = decode_all(
        name,
        bytes::Bytes::copy_from_slice(raw),
        ScanOptions::new(Output::CloudTrail),
    )
    .unwrap();
    (rows(&batches), report)
}

fn decode_trail_file(
    path: &Path,
) -> (
    Vec<serde_json::Map<String, Value>>,
    s3trawl::scan::ObjectReport,
) {
    decode_trail(&path.display().to_string(), &std::fs::read(path).unwrap())
}

fn one(record: &str) -> serde_json::Map<String, Value> {
    let (mut rows, report) = decode_trail("t", record.as_bytes());
    assert!(report.rejects.is_empty(), "{:?}", report.rejects);
    assert_eq!(rows.len(), 1);
    rows.remove(0)
}

#[test]
fn corpus_fixtures_load_and_digests_are_skipped() {
    need_corpora!();
    let dir = corpora().join("cloudtrail");
    let mut total = 0;
    for (file, records) in [
        ("elastic-integrations/test-console-login-json.log", 1),
        ("elastic-integrations/test-copy-object-json.log", 1),
        ("elastic-integrations/test-delete-bucket-json.log", 1),
        ("elastic-integrations/test-get-bucket-policy-json.log", 1),
        ("elastic-integrations/test-put-bucket-logging-json.log", 1),
        (
            "elastic-integrations/test-put-bucket-versioning-json.log",
            1,
        ),
        ("elastic-integrations/test-put-object-json.log", 1),
        ("elastic-integrations/test-us-gov-arn.log", 1),
        ("opentelemetry/cloudtrail_log.json", 7),
    ] {
        let raw = std::fs::read(dir.join(file)).unwrap();
        let (rows, report) = decode_trail_file(&dir.join(file));
        assert!(report.rejects.is_empty(), "{file}: {:?}", report.rejects);
        let lines = non_blank_lines(&raw);
        assert_eq!(
            rows.len(),
            if file.ends_with(".log") {
                lines as usize
            } else {
                records
            },
            "{file}"
        );
        total += rows.len();
    }
    let (rows, report) =
        decode_trail_file(&dir.join("elastic-integrations/test-tls-details-json.log"));
    assert!(report.rejects.is_empty());
    assert_eq!(
        rows.len() as u64,
        non_blank_lines(
            &std::fs::read(dir.join("elastic-integrations/test-tls-details-json.log")).unwrap()
        )
    );
    total += rows.len();
    let (rows, report) = decode_trail_file(&dir.join("opentelemetry/cloudtrail_log_cw.json"));
    assert!(report.rejects.is_empty(), "{:?}", report.rejects);
    assert!(!rows.is_empty());
    assert_eq!(rows[0]["eventname"], json!("PutObject"));
    assert_eq!(
        rows[0]["s3_bucket"],
        json!("elastic-sar-bucket-fe44ff52c91b2efa4bccb8e07c85a202")
    );
    total += rows.len();
    for digest in [
        "elastic-integrations/test-cloudtrail-digest-json.log",
        "opentelemetry/cloudtrail_digest.json",
    ] {
        let (rows, report) = decode_trail_file(&dir.join(digest));
        assert!(rows.is_empty() && report.rejects.is_empty(), "{digest}");
        assert_eq!(report.kind, s3trawl::format::LogKind::Digest, "{digest}");
    }
    assert!(total >= 19);
}

#[test]
fn opentelemetry_log_file_fields() {
    need_corpora!();
    let (rows, _) =
        decode_trail_file(&corpora().join("cloudtrail/opentelemetry/cloudtrail_log.json"));
    let r = &rows[0];
    assert_eq!(r["eventversion"], json!("1.08"));
    assert_eq!(r["eventtime"], json!("2023-07-19T21:17:28Z"));
    assert_eq!(r["useridentity"]["type"], json!("IAMUser"));
    assert_eq!(
        r["useridentity"]["arn"],
        json!("arn:aws:iam::123456789012:user/Mateo")
    );
    assert_eq!(r["useridentity"]["accountid"], json!("123456789012"));
    assert_eq!(
        r["useridentity"]["sessioncontext"]["attributes"]["mfaauthenticated"],
        json!("false")
    );
    assert_eq!(
        r["useridentity"]["sessioncontext"]["sessionissuer"]["arn"],
        Value::Null,
        "sessionIssuer: {{}}"
    );
    assert_eq!(r["readonly"], json!("false"));
    assert_eq!(r["managementevent"], json!("true"));
    assert_eq!(r["sessioncredentialfromconsole"], json!("true"));
    assert_eq!(r["tlsdetails"]["tlsversion"], json!("TLSv1.2"));
    assert_eq!(r["log_line"], json!(1));
    let rp: Value = serde_json::from_str(r["requestparameters"].as_str().unwrap()).unwrap();
    assert_eq!(
        rp["instancesSet"]["items"][0]["instanceId"],
        json!("i-EXAMPLE56126103cb")
    );
    // The role session.
    assert_eq!(
        rows[2]["useridentity"]["sessioncontext"]["sessionissuer"]["arn"],
        json!("arn:aws:iam::123456789012:role/Admin")
    );
    assert_eq!(
        rows[2]["resources"][0]["arn"],
        json!("arn:aws:sns:us-east-1:123456789012:ExampleSNSTopic")
    );
    assert_eq!(rows[2]["resources"][0]["accountid"], json!("123456789012"));
    // The Insight event has no identity and is still a row.
    let insight = rows
        .iter()
        .find(|r| r["eventcategory"] == json!("Insight"))
        .unwrap();
    assert_eq!(insight["useridentity"], Value::Null);
    assert!(
        insight["insightdetails"]
            .as_str()
            .unwrap()
            .contains("ApiCallRateInsight")
    );
    // An error record, an Identity Center user, an AWS service event.
    let error = rows
        .iter()
        .find(|r| r["errorcode"] == json!("TrailNotFoundException"))
        .unwrap();
    assert_eq!(error["responseelements"], Value::Null);
    let ic = rows
        .iter()
        .find(|r| r["useridentity"]["type"] == json!("IdentityCenterUser"))
        .unwrap();
    assert_eq!(ic["useridentity"]["userid"], json!("d-12345abcde"));
    assert_eq!(ic["useridentity"]["accesskeyid"], json!(""));
    let service = rows
        .iter()
        .find(|r| r["eventtype"] == json!("AwsServiceEvent"))
        .unwrap();
    assert_eq!(service["sourceipaddress"], json!("AWS Internal"));
    assert_eq!(service["useridentity"]["invokedby"], json!("AWS Internal"));
    assert!(
        service["serviceeventdetails"]
            .as_str()
            .unwrap()
            .contains("AUTOMATIC")
    );
    assert_eq!(
        rows.iter()
            .map(|r| r["log_line"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
}

#[test]
fn elastic_s3_data_events_fill_the_convenience_columns() {
    need_corpora!();
    let (rows, _) = decode_trail_file(
        &corpora().join("cloudtrail/elastic-integrations/test-put-object-json.log"),
    );
    let r = &rows[0];
    assert_eq!(r["eventname"], json!("PutObject"));
    assert_eq!(r["s3_bucket"], json!("elastic-cspm-cloudtrail-test-bucket"));
    assert_eq!(r["bytes_in"], json!(0));
    assert_eq!(r["sigv"], json!("SigV4"));
    assert_eq!(r["ciphersuite"], json!("TLS_AES_128_GCM_SHA256"));
    assert_eq!(r["authtype"], json!("AuthHeader"));
    assert_eq!(r["tlsversion"], json!("TLSv1.3"));
    assert_eq!(
        r["resources"][1]["accountid"],
        json!("000000000"),
        "lower-case accountid"
    );
    assert_eq!(
        r["resources"][0]["arn"],
        json!("arn:aws:s3:::elastic-cspm-cloudtrail-test-bucket/test.json")
    );
    assert_eq!(r["responseelements"], Value::Null);
    assert!(
        r["useragent"]
            .as_str()
            .unwrap()
            .starts_with("[aws-cli/2.17.60")
    );
    let (rows, _) =
        decode_trail_file(&corpora().join("cloudtrail/elastic-integrations/test-us-gov-arn.log"));
    assert!(
        rows[0]["useridentity"]["arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws-us-gov:"),
        "{:?}",
        rows[0]["useridentity"]
    );
}

#[test]
fn drift_key_case() {
    let r = one(
        r#"{"eventVersion":"1.08","USERIDENTITY":{"Type":"IAMUser","accountid":"111122223333","ARN":"arn:aws:iam::111122223333:user/a"},"eventtime":"2024-01-01T00:00:00Z","additionalEventData":{"cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","signatureVersion":"SigV4"}}"#,
    );
    assert_eq!(r["useridentity"]["accountid"], json!("111122223333"));
    assert_eq!(
        r["useridentity"]["arn"],
        json!("arn:aws:iam::111122223333:user/a")
    );
    assert_eq!(r["useridentity"]["type"], json!("IAMUser"));
    assert_eq!(r["eventtime"], json!("2024-01-01T00:00:00Z"));
    assert_eq!(r["ciphersuite"], json!("ECDHE-RSA-AES128-GCM-SHA256"));
    assert_eq!(r["sigv"], json!("SigV4"));
}

#[test]
fn drift_booleans_and_numbers_as_strings_or_values() {
    for (flag, mfa, bytes) in [
        ("true", "true", "42"),
        (r#""true""#, r#""true""#, r#""42""#),
        (r#""True""#, "true", "42.0"),
    ] {
        let r = one(&format!(
            r#"{{"eventName":"GetObject","readOnly":{flag},"userIdentity":{{"sessionContext":{{"attributes":{{"mfaAuthenticated":{mfa}}}}}}},"additionalEventData":{{"bytesTransferredOut":{bytes},"aclRequired":"Yes"}}}}"#
        ));
        assert_eq!(r["readonly"], json!("true"), "{flag}");
        assert_eq!(
            r["useridentity"]["sessioncontext"]["attributes"]["mfaauthenticated"],
            json!("true")
        );
        assert_eq!(r["bytes_out"], json!(42), "{bytes}");
        assert_eq!(r["aclrequired"], json!("Yes"));
    }
}

#[test]
fn drift_source_addresses_nulls_and_empty_objects() {
    for ip in [
        "s3.amazonaws.com",
        "AWS Internal",
        "203.0.113.5, 10.0.0.1",
        "2001:db8::1",
    ] {
        let r = one(&format!(
            r#"{{"eventName":"X","sourceIPAddress":"{ip}","requestParameters":null,"responseElements":null}}"#
        ));
        assert_eq!(r["sourceipaddress"], json!(ip));
        assert_eq!(r["requestparameters"], Value::Null);
        assert_eq!(r["s3_bucket"], Value::Null);
    }
    let r = one(
        r#"{"eventName":"X","userIdentity":{"type":"AssumedRole","accessKeyId":"","sessionContext":{"sessionIssuer":{},"webIdFederationData":{}}},"resources":null,"unknownField":{"nested":[1,2]}}"#,
    );
    assert_eq!(r["useridentity"]["accesskeyid"], json!(""));
    assert_eq!(
        r["useridentity"]["sessioncontext"]["sessionissuer"]["arn"],
        Value::Null
    );
    assert_eq!(r["resources"], Value::Null);
    let r = one(
        r#"{"eventName":"X","userIdentity":"not an object","tlsDetails":5,"eventTime":"not a time"}"#,
    );
    assert_eq!(r["useridentity"], Value::Null);
    assert_eq!(r["tlsdetails"], Value::Null);
    assert_eq!(r["eventtime"], Value::Null);
    assert_eq!(r["eventname"], json!("X"));
}

#[test]
fn drift_partitions_and_host_shapes() {
    for arn in [
        "arn:aws-us-gov:iam::123456789012:user/a",
        "arn:aws-cn:iam::123456789012:user/a",
    ] {
        let r = one(&format!(
            r#"{{"eventName":"PutObject","userIdentity":{{"arn":"{arn}"}},"requestParameters":{{"bucketName":"b","Host":"b.s3.amazonaws.com","key":"k"}}}}"#
        ));
        assert_eq!(r["useridentity"]["arn"], json!(arn));
        assert_eq!((&r["s3_bucket"], &r["s3_key"]), (&json!("b"), &json!("k")));
    }
    let r = one(
        r#"{"eventName":"ListObjects","requestParameters":{"bucketName":"b","host":["b.s3.amazonaws.com"]}}"#,
    );
    assert_eq!(r["s3_bucket"], json!("b"));
    assert!(
        r["requestparameters"]
            .as_str()
            .unwrap()
            .contains("\"host\":[\"b.s3.amazonaws.com\"]")
    );
}

#[test]
fn a_log_file_that_is_not_well_formed_is_read_the_careful_way() {
    // Well-formed log files are read in one pass; anything else starts over record by record,
    // and must give exactly what that reading gives: the good records as rows, a reject where
    // the problem is, the record index counting the refused record too.
    let (rows, report) = decode_trail(
        "/logs/odd.json",
        br#"{"Records":[{"eventName":"A","eventTime":"2026-11-01T00:00:00Z"},7,{"eventName":"C"}]}"#,
    );
    let names: Vec<_> = rows.iter().map(|r| r["eventname"].clone()).collect();
    assert_eq!(names, vec![json!("A"), json!("C")]);
    assert_eq!(
        rows[1]["log_line"],
        json!(3),
        "the refused record keeps its index"
    );
    assert_eq!(report.rejects.len(), 1, "{:?}", report.rejects);
    assert!(report.rejects[0].reason.contains("not a JSON object"));
    // Two documents glued together: both are read, nothing is counted twice.
    let (rows, report) = decode_trail(
        "/logs/two.json",
        br#"{"Records":[{"eventName":"A"},{"eventName":"B"}]}{"Records":[{"eventName":"C"}]}"#,
    );
    assert!(report.rejects.is_empty(), "{:?}", report.rejects);
    let names: Vec<_> = rows.iter().map(|r| r["eventname"].clone()).collect();
    assert_eq!(names, vec![json!("A"), json!("B"), json!("C")]);
}

#[test]
fn invalid_utf8_inside_a_record_is_replaced_not_rejected() {
    // A user agent with bytes that are not UTF-8 (Latin-1 'é' and a stray 0xff): the record is
    // a row, the bad bytes become U+FFFD, and the other records are untouched.
    let mut raw = br#"{"Records":[{"eventVersion":"1.08","eventTime":"2026-11-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","userAgent":"caf"#.to_vec();
    raw.extend_from_slice(b"\xe9 \xff");
    raw.extend_from_slice(br#"","sourceIPAddress":"198.51.100.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a"}},{"eventVersion":"1.08","eventTime":"2026-11-01T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","sourceIPAddress":"198.51.100.8"}]}"#);
    let (rows, report) = decode_trail("/logs/latin1.json", &raw);
    assert!(report.rejects.is_empty(), "{:?}", report.rejects);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["useragent"], json!("caf\u{fffd} \u{fffd}"));
    assert_eq!(rows[0]["eventname"], json!("GetObject"));
    assert_eq!(rows[1]["sourceipaddress"], json!("198.51.100.8"));
}

#[test]
fn a_truncated_file_keeps_the_records_before_the_damage() {
    need_corpora!();
    let text =
        std::fs::read_to_string(corpora().join("cloudtrail/opentelemetry/cloudtrail_log.json"))
            .unwrap();
    let cut = text.find("\"eventName\": \"Publish\"").unwrap();
    let (rows, report) = decode_trail("/logs/cut.json", &text.as_bytes()[..cut]);
    assert_eq!(rows.len(), 2, "the records before the damage");
    assert_eq!(report.rejects.len(), 1);
    assert_eq!(report.rejects[0].byte_offset as usize, cut);
    assert!(
        report.rejects[0].reason.contains("truncated or corrupt"),
        "{}",
        report.rejects[0].reason
    );
    // The same, gzipped and cut.
    let gz = gzip(text.as_bytes());
    let (rows, report) = decode_trail("/logs/cut.json.gz", &gz[..gz.len() * 3 / 4]);
    assert!(!rows.is_empty() && rows.len() < 7);
    assert!(
        report.rejects.iter().any(|r| r.reason.contains("damaged")),
        "{:?}",
        report.rejects
    );
}

#[test]
fn panther_cloudtrail_events_all_load() {
    need_corpora!();
    let dir = corpora().join("detections/panther");
    let mut events: Vec<Value> = Vec::new();
    for line in std::fs::read_to_string(dir.join("cloudtrail_rule_tests.jsonl"))
        .unwrap()
        .lines()
    {
        let v: Value = serde_json::from_str(line).unwrap();
        events.push(v["log"].clone());
    }
    for line in std::fs::read_to_string(dir.join("conformance_events.jsonl"))
        .unwrap()
        .lines()
    {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["log_type"] == json!("AWS.CloudTrail") {
            events.push(v["event"].clone());
        }
    }
    for file in [
        "test_scenarios/compromised-root-creds/attacker_cloudtrail.yml",
        "test_scenarios/compromised-root-creds/victim_cloudtrail.yml",
        "test_scenarios/enrichment-example/attacker_cloudtrail.yml",
        "test_scenarios/enrichment-example/victim_cloudtrail.yml",
    ] {
        let y: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let logs: Vec<Value> =
            serde_json::from_value(serde_json::to_value(&y["Logs"]).unwrap()).unwrap();
        assert!(!logs.is_empty(), "{file}");
        events.extend(logs);
    }
    assert!(events.len() > 570, "{}", events.len());
    // One record per line, and the same records as a delivered log file.
    let ndjson: String = events.iter().map(|e| e.to_string() + "\n").collect();
    let (rows, report) = decode_trail("panther.ndjson", ndjson.as_bytes());
    assert!(
        report.rejects.is_empty(),
        "{:?}",
        &report.rejects[..report.rejects.len().min(3)]
    );
    assert_eq!(rows.len(), events.len());
    let file = serde_json::to_vec_pretty(&json!({"Records": events})).unwrap();
    let (rows2, report) = decode_trail("panther.json", &gzip(&file));
    assert!(report.rejects.is_empty());
    assert_eq!(rows2.len(), events.len());
    let unreadable_times = rows
        .iter()
        .zip(&events)
        .filter(|(r, e)| r["eventtime"].is_null() && e.get("eventTime").is_some())
        .count();
    assert!(unreadable_times <= 2, "{unreadable_times} times not read");
    for (i, (row, event)) in rows.iter().zip(&events).enumerate() {
        assert_eq!(
            row["eventname"].as_str(),
            event
                .get("eventName")
                .or(event.get("eventname"))
                .and_then(Value::as_str),
            "event {i}"
        );
        if let Some(t) = event
            .get("eventTime")
            .and_then(Value::as_str)
            .filter(|t| t.len() >= 19 && t.starts_with("20"))
        {
            // Panther writes some times as `2025-01-21 17:49:47`.
            assert_eq!(
                row["eventtime"].as_str().map(|s| s[..19].to_string()),
                Some(t[..19].replacen(' ', "T", 1)),
                "event {i}"
            );
        }
    }
}

/// A folder as a user might have it: access logs and CloudTrail side by side, gzipped and
/// plain, with digest files and a README.
fn mixed_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let trail = corpora().join("cloudtrail");
    std::fs::create_dir_all(p.join("s3-access")).unwrap();
    std::fs::create_dir_all(p.join("AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/19"))
        .unwrap();
    std::fs::create_dir_all(p.join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/19"))
        .unwrap();
    for entry in std::fs::read_dir(project().join("sample-logs/access")).unwrap() {
        let e = entry.unwrap();
        std::fs::copy(e.path(), p.join("s3-access").join(e.file_name())).unwrap();
    }
    std::fs::copy(
        project().join("sample-logs/archive/2026-11-19.log.gz"),
        p.join("s3-access/2026-11-19.log.gz"),
    )
    .unwrap();
    let ct = p.join("AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/19");
    std::fs::write(
        ct.join("111122223333_CloudTrail_us-east-1_20230719T2135Z_a.json.gz"),
        gzip(&std::fs::read(trail.join("opentelemetry/cloudtrail_log.json")).unwrap()),
    )
    .unwrap();
    std::fs::copy(
        trail.join("elastic-integrations/test-put-object-json.log"),
        ct.join("put-object.json"),
    )
    .unwrap();
    std::fs::copy(
        trail.join("opentelemetry/cloudtrail_log_cw.json"),
        ct.join("cloudwatch-envelope.json"),
    )
    .unwrap();
    let digest = p.join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/19");
    std::fs::write(
        digest.join("111122223333_CloudTrail-Digest_us-east-1_x.json.gz"),
        gzip(&std::fs::read(trail.join("opentelemetry/cloudtrail_digest.json")).unwrap()),
    )
    .unwrap();
    std::fs::copy(
        trail.join("elastic-integrations/test-cloudtrail-digest-json.log"),
        digest.join("digest-2.json"),
    )
    .unwrap();
    std::fs::write(p.join("README.md"), "# These are our logs\n").unwrap();
    dir
}

fn csv_in(dir: &Path, q: &str) -> String {
    ok(s3trawl_in(
        dir,
        &["sql", "--logs", ".", "--format", "csv", q],
    ))
}

#[test]
fn a_mixed_folder_fills_both_tables() {
    need_corpora!();
    let d = mixed_folder();
    let o = s3trawl_in(
        d.path(),
        &[
            "sql",
            "--logs",
            ".",
            "--format",
            "csv",
            "SELECT (SELECT count(*) FROM access_logs) AS access, (SELECT count(*) FROM cloudtrail) AS trail, (SELECT count(*) FROM rejects) AS rejected",
        ],
    );
    let out = ok(o.clone());
    let cw_rows =
        decode_trail_file(&corpora().join("cloudtrail/opentelemetry/cloudtrail_log_cw.json"))
            .0
            .len();
    assert_eq!(
        out,
        format!("access,trail,rejected\n22,{},1\n", 7 + 1 + cw_rows)
    );
    let err = stderr(&o);
    assert!(err.contains("2 CloudTrail digest files skipped"), "{err}");
    assert_eq!(
        csv_in(
            d.path(),
            "SELECT log_kind, count(*) AS n FROM rejects GROUP BY 1"
        ),
        "log_kind,n\naccess_log,1\n"
    );
    let names = csv_in(
        d.path(),
        "SELECT eventname, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY 1",
    );
    assert!(
        names.contains("PutObject,")
            && names.contains("StartInstances,1")
            && names.contains("ConsoleLogin,1"),
        "{names}"
    );
}

#[test]
fn ingest_writes_cloudtrail_and_the_lake_answers_like_the_logs() {
    need_corpora!();
    let d = mixed_folder();
    let lake_dir = tempfile::tempdir().unwrap();
    let lake = lake_dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    let out = ok(s3trawl_in(d.path(), &["ingest", ".", "--lake", lake_arg]));
    assert!(
        out.starts_with("ingested 8 objects (31 rows, 1 reject)"),
        "{out}"
    );
    let days: Vec<String> = std::fs::read_dir(lake.join("cloudtrail"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        days.iter().all(|d| d.starts_with("date="))
            && days.contains(&"date=2023-07-19".to_string()),
        "{days:?}"
    );
    for q in [
        "SELECT * FROM cloudtrail ORDER BY log_object, log_line",
        "SELECT eventname, useridentity.arn, useridentity.sessioncontext.sessionissuer.arn AS issuer, s3_bucket, bytes_in FROM cloudtrail ORDER BY log_object, log_line",
        "SELECT timestamp, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY 1",
        "SELECT count(*) AS n FROM access_logs",
        "SELECT * FROM rejects ORDER BY log_object, log_line",
    ] {
        let raw = csv_in(d.path(), q);
        let from_lake = ok(s3trawl_in(
            d.path(),
            &["sql", "--lake", lake_arg, "--format", "csv", q],
        ));
        assert!(
            from_lake == raw,
            "{q}: the lake's answer differs from the raw logs'"
        );
    }
    let again = ok(s3trawl_in(d.path(), &["ingest", ".", "--lake", lake_arg]));
    assert!(again.starts_with("ingested 0 objects"), "{again}");
}

#[test]
fn schema_cloudtrail_athena() {
    let ddl = ok(s3trawl(&[
        "schema",
        "cloudtrail",
        "--athena",
        "--location",
        "s3://b/lake/",
    ]));
    assert!(ddl.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS cloudtrail ("));
    for column in [
        "`useridentity` struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string,sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>",
        "`eventtime` timestamp",
        "`resources` array<struct<arn:string,accountid:string,type:string>>",
        "`tlsdetails` struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>",
        "`bytes_out` bigint",
        "`requestparameters` string",
    ] {
        assert!(ddl.contains(column), "{column}\n{ddl}");
    }
    assert!(
        ddl.contains("PARTITIONED BY (`date` string)")
            && ddl.contains("LOCATION 's3://b/lake/cloudtrail/'")
    );
    assert!(!ddl.contains("`timestamp`"));
}

/// A CloudTrail fixture for AWS's documented queries.
fn trail_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let event = |time: &str,
                 name: &str,
                 arn: Option<&str>,
                 account: &str,
                 sigv: &str,
                 bucket: &str,
                 key: &str,
                 resources: &str| {
        let identity = match arn {
            Some(arn) => format!(
                r#"{{"type":"IAMUser","arn":"{arn}","accountId":"{account}","userName":"u","sessionContext":{{"attributes":{{"creationDate":"2019-07-05T09:00:00Z","mfaAuthenticated":"false"}},"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::123456789012:role/r"}}}}}}"#
            ),
            None => format!(r#"{{"type":"AWSAccount","accountId":"{account}","principalId":""}}"#),
        };
        format!(
            r#"{{"eventVersion":"1.08","userIdentity":{identity},"eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"[aws-cli/2.0]","requestParameters":{{"bucketName":"{bucket}","key":"{key}"}},"responseElements":null,"additionalEventData":{{"SignatureVersion":"{sigv}","bytesTransferredOut":10}},"requestID":"R{time}","eventID":"E{time}","readOnly":true,"resources":{resources},"eventType":"AwsApiCall","recipientAccountId":"123456789012"}}"#
        )
    };
    let records = [
        event(
            "2019-07-05T10:00:00Z",
            "PutObject",
            Some("arn:aws:iam::123456789012:user/ExampleUser"),
            "123456789012",
            "SigV4",
            "b1",
            "k1",
            r#"[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::b1/example/datafile.txt"},{"accountId":"123456789012","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b1"}]"#,
        ),
        event(
            "2019-07-05T11:00:00Z",
            "GetObject",
            Some("arn:aws:iam::123456789012:user/ExampleUser"),
            "123456789012",
            "SigV2",
            "b1",
            "k1",
            "null",
        ),
        event(
            "2019-07-05T12:00:00Z",
            "GetObject",
            None,
            "ANONYMOUS_PRINCIPAL",
            "SigV4",
            "my-bucket",
            "k2",
            "null",
        ),
        event(
            "2019-07-07T12:00:00Z",
            "DeleteBucket",
            Some("arn:aws:iam::123456789012:user/ExampleUser"),
            "123456789012",
            "SigV4",
            "b2",
            "",
            r#"[{"accountId":"123456789012","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b2"}]"#,
        ),
    ];
    std::fs::write(
        dir.path().join("trail.json"),
        format!("{{\"Records\":[{}]}}", records.join(",")),
    )
    .unwrap();
    dir
}

#[test]
fn aws_documented_cloudtrail_queries_run_with_only_the_table_name_changed() {
    let d = trail_fixture();
    let q = |sql: &str| csv_in(d.path(), sql);
    // Athena User Guide, "Querying AWS CloudTrail logs".
    let basic = q(
        "SELECT\n useridentity.arn,\n eventname,\n sourceipaddress,\n eventtime\nFROM cloudtrail\nLIMIT 100;",
    );
    assert_eq!(basic.lines().count(), 5);
    let nested = q(
        "SELECT \n    eventsource, \n    eventname,\n    useridentity.sessioncontext.attributes.creationdate,\n    useridentity.sessioncontext.sessionissuer.arn\nFROM cloudtrail\nWHERE useridentity.sessioncontext.sessionissuer.arn IS NOT NULL\nORDER BY eventsource, eventname\nLIMIT 10",
    );
    assert_eq!(nested.lines().count(), 4, "{nested}");
    assert!(nested.contains(
        "s3.amazonaws.com,DeleteBucket,2019-07-05T09:00:00Z,arn:aws:iam::123456789012:role/r"
    ));
    let anonymous = q(
        "SELECT *\nFROM cloudtrail\nWHERE \n    eventsource = 's3.amazonaws.com' AND \n    eventname in ('GetObject') AND \n    useridentity.accountid LIKE '%ANONYMOUS%' AND \n    useridentity.arn IS NULL AND\n    requestparameters LIKE '%my-bucket%';",
    );
    assert_eq!(anonymous.lines().count(), 2, "{anonymous}");
    // S3 User Guide, "Identifying Amazon S3 requests using CloudTrail".
    let sigv2 = q(
        "SELECT EventTime, EventName as S3_Action, requestParameters as Request_Parameters, awsregion as AWS_Region, sourceipaddress as Source_IP, useragent as User_Agent\nFROM cloudtrail\nWHERE eventsource='s3.amazonaws.com'\nAND json_extract_scalar(additionalEventData, '$.SignatureVersion')='SigV2'\nLIMIT 10;",
    );
    assert_eq!(sigv2.lines().count(), 2);
    assert!(sigv2.starts_with("eventtime,s3_action,request_parameters,aws_region,source_ip,user_agent\n2019-07-05T11:00:00Z,GetObject,"), "{sigv2}");
    assert_eq!(
        q(
            "SELECT useridentity.arn, Count(requestid) as RequestCount\nFROM cloudtrail\nWHERE eventsource='s3.amazonaws.com'\n    and json_extract_scalar(additionalEventData, '$.SignatureVersion')='SigV2'\nGroup by useridentity.arn"
        ),
        "useridentity.arn,requestcount\narn:aws:iam::123456789012:user/ExampleUser,1\n"
    );
    for (name, rows) in [("PutObject", 1), ("GetObject", 2)] {
        let out = q(&format!(
            "SELECT\n  eventTime, \n  eventName, \n  eventSource, \n  sourceIpAddress, \n  userAgent, \n  json_extract_scalar(requestParameters, '$.bucketName') as bucketName, \n  json_extract_scalar(requestParameters, '$.key') as object,\n  userIdentity.arn as userArn\nFROM\n  cloudtrail\nWHERE\n  eventName = '{name}'\n  AND eventTime BETWEEN '2019-07-05T00:00:00Z' and '2019-07-06T00:00:00Z'"
        ));
        assert_eq!(out.lines().count(), 1 + rows, "{name}: {out}");
    }
    let anon = q(
        "SELECT\n  eventTime, \n  eventName, \n  eventSource, \n  sourceIpAddress, \n  userAgent, \n  json_extract_scalar(requestParameters, '$.bucketName') as bucketName, \n  userIdentity.arn as userArn,\n  userIdentity.accountId \nFROM\n  cloudtrail\nWHERE\n  userIdentity.accountId='ANONYMOUS_PRINCIPAL'\n  AND eventTime BETWEEN '2019-07-05T00:00:00Z' and '2019-07-06T00:00:00Z'",
    );
    assert!(
        anon.lines()
            .nth(1)
            .unwrap()
            .contains(",my-bucket,,ANONYMOUS_PRINCIPAL"),
        "{anon}"
    );
    // `CROSS JOIN UNNEST(t.resources) unnested (resources_entry)` becomes a subquery that
    // unnests (the README's one-line rewrite); the rest is unchanged, Presto's two-argument
    // replace() included.
    let unnest = q(
        "SELECT \n    awsregion,\n    replace(unnested.resources_entry.ARN,'arn:aws:s3:::') as s3_resource,\n    eventname,\n    eventtime,\n    useragent\nFROM (SELECT *, unnest(resources) AS resources_entry FROM cloudtrail) unnested\nWHERE unnested.resources_entry.ARN LIKE '%example/datafile.txt'\nORDER BY eventtime",
    );
    assert_eq!(
        unnest,
        "awsregion,s3_resource,eventname,eventtime,useragent\nus-east-1,b1/example/datafile.txt,PutObject,2019-07-05T10:00:00Z,[aws-cli/2.0]\n"
    );
    let deleted = q(
        "SELECT \n    awsregion,\n    replace(unnested.resources_entry.ARN,'arn:aws:s3:::') as deleted_bucket,\n    eventtime AS time_deleted,\n    useridentity.username, \n    unnested.resources_entry.accountid as bucket_acct_id \nFROM (SELECT *, unnest(resources) AS resources_entry FROM cloudtrail) unnested\nWHERE eventname = 'DeleteBucket'\nORDER BY eventtime",
    );
    assert!(
        deleted.ends_with("us-east-1,b2,2019-07-07T12:00:00Z,u,123456789012\n"),
        "{deleted}"
    );
    // from_iso8601_timestamp, as older queries write it.
    assert_eq!(
        q(
            "SELECT count(*) AS n FROM cloudtrail WHERE from_iso8601_timestamp(eventtime) > from_iso8601_timestamp('2019-07-06T00:00:00Z')"
        ),
        "n\n1\n"
    );
}

#[test]
fn filters_tested_before_decoding_give_exactly_the_rows_sql_gives() {
    // `eventname = …`, `IN (…)` and `OR` on a top-level text column are tested on the raw
    // record, before its row is built; the answer must equal the same filter applied after
    // decoding (`(eventname || '')` cannot be tested early). The odd records: an escaped
    // name, a number, a null, a missing name, and a key in another case.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trail.json"),
        concat!(
            r#"{"Records":["#,
            r#"{"eventName":"DeleteObject","eventSource":"s3.amazonaws.com","userIdentity":{"arn":"arn:a"}},"#,
            r#"{"eventName":"GetObject","eventSource":"s3.amazonaws.com","userIdentity":{"arn":"arn:b"}},"#,
            r#"{"eventName":"Delete\u004fbject","eventSource":"s3.amazonaws.com","userIdentity":{"arn":"arn:c"}},"#,
            r#"{"eventName":5,"eventSource":"s3.amazonaws.com","userIdentity":{"arn":"arn:d"}},"#,
            r#"{"eventName":null,"userIdentity":{"arn":"arn:e"}},"#,
            r#"{"eventSource":"s3.amazonaws.com","userIdentity":{"arn":"arn:f"}},"#,
            r#"{"EVENTNAME":"DeleteObjects","eventSource":"iam.amazonaws.com","userIdentity":{"arn":"arn:g"}}"#,
            r#"]}"#
        ),
    )
    .unwrap();
    let q = |filter: &str| {
        csv_in(
            dir.path(),
            &format!(
                "SELECT log_line, eventname, useridentity.arn AS arn FROM cloudtrail \
                 WHERE {filter} ORDER BY log_line"
            ),
        )
    };
    let cases = [
        (
            "eventname = 'DeleteObject'",
            "(eventname || '') = 'DeleteObject'",
            2,
        ),
        (
            "eventname IN ('DeleteObject', 'DeleteObjects', '5')",
            "(eventname || '') IN ('DeleteObject', 'DeleteObjects', '5')",
            4,
        ),
        (
            "(eventname = 'GetObject' OR eventname = 'DeleteObjects') AND eventsource = 's3.amazonaws.com'",
            "((eventname || '') = 'GetObject' OR (eventname || '') = 'DeleteObjects') AND (eventsource || '') = 's3.amazonaws.com'",
            1,
        ),
        (
            "'DeleteObject' = eventname",
            "(eventname || '') = 'DeleteObject'",
            2,
        ),
        (
            "eventname NOT IN ('GetObject')",
            "(eventname || '') NOT IN ('GetObject')",
            4,
        ),
    ];
    for (pushed, kept, expected_rows) in cases {
        let early = q(pushed);
        assert_eq!(early, q(kept), "{pushed}");
        assert_eq!(
            early.lines().count() - 1,
            expected_rows,
            "{pushed}: {early}"
        );
    }
    // The record index counts the records left out.
    assert!(q("eventname = 'DeleteObjects'").contains("7,DeleteObjects,arn:g"));
    // The plan shows which filters are tested early (and the filter itself stays).
    let plan = csv_in(
        dir.path(),
        "EXPLAIN SELECT count(*) FROM cloudtrail WHERE eventname IN ('DeleteObject', 'DeleteObjects') AND eventsource = 's3.amazonaws.com'",
    );
    assert!(
        plan.contains("prefilter=eventname IN (DeleteObject, DeleteObjects) AND eventsource IN (s3.amazonaws.com)"),
        "{plan}"
    );
    assert!(plan.contains("FilterExec"), "{plan}");
    let plan = csv_in(
        dir.path(),
        "EXPLAIN SELECT count(*) FROM cloudtrail WHERE (eventname || '') = 'x'",
    );
    assert!(!plan.contains("prefilter"), "{plan}");
}
