//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod cluster;
pub mod moto;
pub mod proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::RecordBatch;
use bytes::Bytes;
use s3trawl::format::access_log::DecoderOptions;
use s3trawl::scan::{ObjectReport, Output as ScanOutput, ScanOptions, decode_all};

/// `../shared/corpora`, beside the project (`S3TRAWL_TEST_CORPORA` names another folder, for
/// trying the tests without it).
pub fn corpora() -> PathBuf {
    std::env::var_os("S3TRAWL_TEST_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"))
}

/// Whether the shared corpora are there. Without them a test that reads them is skipped, and
/// says so; under CI (`CI` set), their absence is a failure.
pub fn corpora_present() -> bool {
    let dir = corpora();
    if dir.is_dir() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: CI must run with the shared corpora beside the project",
        dir.display()
    );
    eprintln!(
        "SKIPPED: {} is absent (the shared corpora beside the project); this test reads them",
        dir.display()
    );
    false
}

/// Returns from the test (skipped, and said so) when the shared corpora are absent outside CI.
#[macro_export]
macro_rules! need_corpora {
    () => {
        if !$crate::common::corpora_present() {
            return;
        }
    };
}

pub fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Decodes bytes as one object with the default options.
pub fn decode_bytes(name: &str, raw: &[u8]) -> (Vec<RecordBatch>, ObjectReport) {
    decode_with(name, raw, DecoderOptions::default())
}

pub fn decode_with(
    name: &str,
    raw: &[u8],
    decoder: DecoderOptions,
) -> (Vec<RecordBatch>, ObjectReport) {
    decode_all(
        name,
        Bytes::copy_from_slice(raw),
        ScanOptions {
            decoder,
            cloudtrail_projection: None,
            cloudtrail_prefilter: None,
            output: ScanOutput::AccessLogs,
        },
    )
    .expect("decoding never fails as a whole")
}

pub fn decode_file(path: &Path) -> (Vec<RecordBatch>, ObjectReport) {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    decode_bytes(&path.display().to_string(), &raw)
}

/// Rows as JSON objects (nulls explicit), as arrow's JSON writer renders them.
pub fn rows(batches: &[RecordBatch]) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let mut out = Vec::new();
    {
        let mut w = arrow::json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow::json::writer::LineDelimited>(&mut out);
        for b in batches {
            w.write(b).unwrap();
        }
        w.finish().unwrap();
    }
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| match serde_json::from_str(l).unwrap() {
            serde_json::Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        })
        .collect()
}

pub fn non_blank_lines(raw: &[u8]) -> u64 {
    raw.split(|b| *b == b'\n')
        .filter(|l| l.iter().any(|b| !matches!(b, b' ' | b'\t' | b'\r')))
        .count() as u64
}

/// The `s3trawl` binary to run in `dir`, with none of the user's settings: no config found in
/// their config folder, none of the `S3TRAWL_*` variables.
pub fn command_in(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_s3trawl"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", dir.join("no-such-config-folder"));
    for var in [
        "S3TRAWL_CONFIG",
        "S3TRAWL_LAKE",
        "S3TRAWL_THREADS",
        "S3TRAWL_S3_CONCURRENCY",
        "S3TRAWL_DELIVERY_SLACK",
        "S3TRAWL_CLUSTER",
        "S3TRAWL_CLUSTER_SECRET",
        "S3TRAWL_TLS_CERT",
        "S3TRAWL_TLS_KEY",
        "S3TRAWL_TLS_CA",
    ] {
        c.env_remove(var);
    }
    c
}

/// Runs the `s3trawl` binary in `dir`.
pub fn s3trawl_in(dir: &Path, args: &[&str]) -> Output {
    command_in(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn s3trawl(args: &[&str]) -> Output {
    s3trawl_in(&project(), args)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A real 26-field line from the AWS documentation (via the OpenTelemetry corpus).
pub fn doc_line() -> String {
    std::fs::read_to_string(corpora().join("access-logs/opentelemetry/valid_s3_access_log.log"))
        .unwrap()
        .trim_end()
        .to_string()
}

/// The `.log` files under `dir` (recursively), in path order.
pub fn log_files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "log") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// One server access-log record at `t` in AWS's documented shape (27 fields), with its own
/// request ID, operation and key.
pub fn access_record(
    t: chrono::DateTime<chrono::Utc>,
    request_id: &str,
    operation: &str,
    key: &str,
) -> String {
    format!(
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be source-bucket [{}] 192.0.2.3 \
         79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be {request_id} {operation} {key} \
         \"GET /source-bucket/{key} HTTP/1.1\" 200 - 113 113 7 6 \"-\" \"S3Console/0.4\" - \
         s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 \
         ECDHE-RSA-AES128-GCM-SHA256 AuthHeader source-bucket.s3.us-west-1.amazonaws.com TLSv1.2 - - us-west-1\n",
        t.format("%d/%b/%Y:%H:%M:%S +0000")
    )
}
