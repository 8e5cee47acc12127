//! The real access-log lines in `../shared/corpora/access-logs/`: every line is a row or a
//! reject with a stated reason, and fields equal the oracles that come with the corpora.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::{Value, json};

fn log_files() -> Vec<PathBuf> {
    log_files_under(&corpora().join("access-logs"))
}

#[test]
fn every_line_is_a_row_or_a_reject_with_a_reason() {
    need_corpora!();
    let files = log_files();
    assert!(files.len() >= 9, "corpora found: {files:?}");
    let mut rows_total = 0;
    for file in &files {
        let raw = std::fs::read(file).unwrap();
        let (batches, report) = decode_file(file);
        let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
        assert_eq!(
            rows + report.counts.rejects,
            non_blank_lines(&raw),
            "{}",
            file.display()
        );
        rows_total += rows;
        let name = file.file_name().unwrap().to_str().unwrap();
        if name == "too_few_values.log" {
            assert_eq!(rows, 0);
            assert_eq!(report.rejects.len(), 1);
            let r = &report.rejects[0];
            assert_eq!((r.line, r.byte_offset), (1, 0));
            assert!(
                r.reason.contains("truncated record") && r.reason.contains("HTTP status"),
                "{}",
                r.reason
            );
        } else {
            assert!(
                report.rejects.is_empty(),
                "{}: {:?}",
                file.display(),
                report.rejects
            );
        }
    }
    assert_eq!(rows_total, 30);
}

/// Our column for each field of Elastic's expected output.
const ELASTIC_FIELDS: &[(&str, &str)] = &[
    ("authentication_type", "authtype"),
    ("bucket", "bucket_name"),
    ("bucket_owner", "bucketowner"),
    ("bytes_sent", "bytessent"),
    ("cipher_suite", "ciphersuite"),
    ("error_code", "errorcode"),
    ("host_header", "endpoint"),
    ("host_id", "hostid"),
    ("http_status", "httpstatus"),
    ("key", "key"),
    ("object_size", "objectsize"),
    ("operation", "operation"),
    ("remote_ip", "remoteip"),
    ("request_id", "requestid"),
    ("request_uri", "request_uri"),
    ("requester", "requester"),
    ("signature_version", "sigv"),
    ("tls_version", "tlsversion"),
    ("total_time", "totaltime"),
    ("turn_around_time", "turnaroundtime"),
    ("user_agent", "useragent"),
    ("version_id", "versionid"),
];

#[test]
fn elastic_integrations_oracle() {
    need_corpora!();
    let dir = corpora().join("access-logs/elastic-integrations");
    let oracle: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.join("test-s3-server-access.log-expected.EXTRACT-aws.s3access.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let expected = oracle["expected"].as_array().unwrap();
    assert_eq!(expected.len(), 7);
    let (batches, _) = decode_file(&dir.join("test-s3-server-access.log"));
    let rows = rows(&batches);
    for (i, doc) in expected.iter().enumerate() {
        let row = &rows[i];
        let fields = doc["aws.s3access"].as_object().unwrap();
        for (theirs, ours) in ELASTIC_FIELDS {
            // Absent in the oracle means the log said `-`: NULL for us.
            let want = fields.get(*theirs).cloned().unwrap_or(Value::Null);
            assert_eq!(row[*ours], want, "line {}: {theirs} -> {ours}", i + 1);
        }
        let ts = doc["@timestamp"].as_str().unwrap().replace(".000Z", "Z");
        assert_eq!(
            row["requestdatetime"]
                .as_str()
                .unwrap()
                .replace(".000Z", "Z"),
            ts,
            "line {}",
            i + 1
        );
        assert_eq!(row["log_line"], json!(i + 1));
    }
    // Lines 8-10 have no oracle; check what the corpus README says of them.
    assert_eq!(rows[8]["httpstatus"], Value::Null, "HTTP status '-'");
    assert_eq!(rows[9]["operation"], json!("S3.EXPIRE.OBJECT"));
    assert_eq!(rows[9]["remoteip"], Value::Null);
    assert_eq!(
        rows[9]["request_uri"],
        Value::Null,
        "quoted \"-\" Request-URI"
    );
    assert_eq!(rows[9]["requester"], json!("AmazonS3"));
    assert_eq!(
        rows[9]["versionid"],
        json!("qsEq9bDa2VyxyZ4cz0c7oBnF67VYTTij")
    );
    assert_eq!(
        rows[8]["accesspointarn"],
        json!("arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP")
    );
    assert_eq!(rows[7]["aclrequired"], json!("Yes"));
    assert_eq!(rows[8]["aclrequired"], Value::Null);
}

#[test]
fn opentelemetry_too_many_values_oracle() {
    need_corpora!();
    let (batches, report) =
        decode_file(&corpora().join("access-logs/opentelemetry/too_many_values.log"));
    assert!(report.rejects.is_empty());
    let rows = rows(&batches);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    // too_many_values_expected.yaml
    assert_eq!(r["bucket_name"], json!("amzn-s3-demo-bucket1"));
    assert_eq!(
        r["bucketowner"],
        json!("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be")
    );
    assert_eq!(r["remoteip"], json!("192.0.2.3"));
    assert_eq!(
        r["requester"],
        json!("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be")
    );
    assert_eq!(r["requestid"], json!("3E57427F3EXAMPLE"));
    assert_eq!(r["operation"], json!("REST.GET.VERSIONING"));
    assert_eq!(
        r["request_uri"],
        json!("GET /amzn-s3-demo-bucket1?versioning HTTP/1.1")
    );
    assert_eq!(r["httpstatus"], json!(200));
    assert_eq!(r["bytessent"], json!(113));
    assert_eq!(r["totaltime"], json!(7));
    assert_eq!(r["useragent"], json!("S3Console/0.4"));
    assert_eq!(
        r["hostid"],
        json!("s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=")
    );
    assert_eq!(r["sigv"], json!("SigV4"));
    assert_eq!(r["ciphersuite"], json!("ECDHE-RSA-AES128-GCM-SHA256"));
    assert_eq!(r["authtype"], json!("AuthHeader"));
    assert_eq!(
        r["endpoint"],
        json!("amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com")
    );
    assert_eq!(r["tlsversion"], json!("TLSV1.2"));
    assert_eq!(
        r["accesspointarn"],
        json!("arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP")
    );
    assert_eq!(r["aclrequired"], json!("Yes"));
    assert_eq!(r["source_region"], json!("us-east-1"));
    assert_eq!(r["extra_fields"], json!("ExtraUnknownField"));
    // timeUnixNano: "1549411238000000000"
    assert_eq!(
        r["requestdatetime"]
            .as_str()
            .map(|t| t.trim_end_matches('Z').trim_end_matches(".000")),
        Some("2019-02-06T00:00:38")
    );
}

/// Every row of every corpus file, against a reviewed golden file. Regenerate with
/// `UPDATE_GOLDEN=1 cargo test --test test_access_log_corpora` and review the diff.
#[test]
fn golden_rows() {
    need_corpora!();
    let root = corpora().join("access-logs");
    let mut lines = Vec::new();
    for file in log_files() {
        let (batches, report) = decode_file(&file);
        let relative = file.strip_prefix(&root).unwrap().display().to_string();
        for mut row in rows(&batches) {
            row.insert("log_object".into(), json!(relative));
            lines.push(serde_json::to_string(&row).unwrap());
        }
        for r in report.rejects {
            lines.push(serde_json::to_string(&json!({"reject": relative, "line": r.line, "byte_offset": r.byte_offset, "reason": r.reason})).unwrap());
        }
    }
    let actual = lines.join("\n") + "\n";
    let golden = project().join("tests/golden/corpora-access-logs.ndjson");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &actual).unwrap();
    }
    let expected =
        std::fs::read_to_string(&golden).expect("golden file (UPDATE_GOLDEN=1 to create)");
    for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(a, e, "golden line {}", i + 1);
    }
    assert_eq!(actual.lines().count(), expected.lines().count());
}
