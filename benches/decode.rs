//! Decoder and end-to-end benchmarks on generated access logs (`Throughput::Bytes`, so
//! criterion reports MB/s of uncompressed log).
//!
//! `cargo bench --bench decode` runs them; `cargo bench --bench decode -- --save-baseline main`
//! and `-- --baseline main` compare against a saved run. Figures are in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use s3trawl::engine::{EngineOptions, Sources, new_context, register_tables};
use s3trawl::format::access_log::{AccessLogDecoder, DecoderOptions};
use s3trawl::generate::{AccessLogGenerator, CloudTrailGenerator};
use s3trawl::scan::{Output, ScanLog, ScanOptions, decode_all};
use s3trawl::source::LogLocation;

const START_MS: i64 = 1_793_491_200_000; // 2026-11-01

fn logs(bytes: usize, seed: u64) -> Vec<u8> {
    AccessLogGenerator::new(seed, START_MS).lines(bytes, 100.0)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn decode(data: &[u8], projection: Option<Vec<usize>>) -> usize {
    let mut d = AccessLogDecoder::new(
        "bench",
        &DecoderOptions {
            projection,
            ..Default::default()
        },
    );
    let mut pos = 0;
    let mut rows = 0;
    loop {
        let used = d.decode(&data[pos..], true);
        pos += used;
        match d.flush().unwrap() {
            Some(b) => rows += b.num_rows(),
            None if used == 0 => break,
            None => {}
        }
    }
    rows
}

fn decoder(c: &mut Criterion) {
    let mut group = c.benchmark_group("access_log_decoder");
    group.sample_size(20);
    for (name, size) in [("1MiB", 1 << 20), ("16MiB", 16 << 20)] {
        let data = logs(size, 1);
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_with_input(BenchmarkId::new("all_columns", name), &data, |b, d| {
            b.iter(|| decode(black_box(d), None))
        });
        group.bench_with_input(BenchmarkId::new("operation_only", name), &data, |b, d| {
            b.iter(|| decode(black_box(d), Some(vec![6])))
        });
        group.bench_with_input(BenchmarkId::new("no_columns", name), &data, |b, d| {
            b.iter(|| decode(black_box(d), Some(vec![])))
        });
    }
    group.finish();
}

fn object_scan(c: &mut Criterion) {
    let mut group = c.benchmark_group("object_scan");
    group.sample_size(10);
    let data = logs(32 << 20, 2);
    let gz = gzip(&data);
    group.throughput(Throughput::Bytes(data.len() as u64));
    for (name, raw) in [
        ("plain_32MiB", Bytes::from(data.clone())),
        ("gzip_32MiB", Bytes::from(gz)),
    ] {
        group.bench_with_input(BenchmarkId::new("all_columns", name), &raw, |b, raw| {
            b.iter(|| {
                let options = ScanOptions::new(Output::AccessLogs);
                let (batches, _) = decode_all("bench", raw.clone(), options).unwrap();
                batches.len()
            })
        });
    }
    group.finish();
}

/// `SELECT operation, count(*) … GROUP BY 1` over files: many small objects and a few large.
fn sql_end_to_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("sql_group_by_operation");
    group.sample_size(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, objects, size, compress) in [
        ("small_objects_500x20KiB_gzip", 500, 20 << 10, true),
        ("large_objects_2x24MiB_gzip", 2, 24 << 20, true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut total = 0;
        for i in 0..objects {
            let data = logs(size, 100 + i as u64);
            total += data.len();
            let raw = if compress { gzip(&data) } else { data };
            std::fs::write(dir.path().join(format!("object-{i:05}.gz")), raw).unwrap();
        }
        group.throughput(Throughput::Bytes(total as u64));
        let location = LogLocation::parse(dir.path().to_str().unwrap()).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let ctx = new_context(&EngineOptions::default()).unwrap();
                    let log = ScanLog::new();
                    register_tables(
                        &ctx,
                        &Sources {
                            logs: std::slice::from_ref(&location),
                            lake: None,
                            ..Default::default()
                        },
                        false,
                        &log,
                    )
                    .await
                    .unwrap();
                    let batches = ctx
                        .sql("SELECT operation, count(*) FROM access_logs GROUP BY 1")
                        .await
                        .unwrap()
                        .collect()
                        .await
                        .unwrap();
                    Arc::new(batches).len()
                })
            })
        });
    }
    group.finish();
}

fn cloudtrail(c: &mut Criterion) {
    let mut group = c.benchmark_group("cloudtrail_decoder");
    group.sample_size(10);
    let data = CloudTrailGenerator::new(3, START_MS).log_file(16 << 20, 500.0);
    let raw = Bytes::from(data);
    group.throughput(Throughput::Bytes(raw.len() as u64));
    let eventname = s3trawl::format::cloudtrail::schema::index_of("eventname");
    let identity = s3trawl::format::cloudtrail::schema::index_of("useridentity");
    for (name, projection) in [
        ("all_columns", None),
        ("eventname_and_identity", Some(vec![eventname, identity])),
        ("no_columns", Some(vec![])),
    ] {
        group.bench_with_input(BenchmarkId::new(name, "16MiB"), &raw, |b, raw| {
            b.iter(|| {
                let options = ScanOptions {
                    cloudtrail_projection: projection.clone(),
                    ..ScanOptions::new(Output::CloudTrail)
                };
                decode_all("bench", raw.clone(), options).unwrap().0.len()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("sql_cloudtrail_deletes_per_principal");
    group.sample_size(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut total = 0;
    for i in 0..40 {
        let data = CloudTrailGenerator::new(200 + i, START_MS + i as i64 * 3_600_000)
            .log_file(1 << 20, 500.0);
        total += data.len();
        std::fs::write(
            dir.path().join(format!("trail-{i:03}.json.gz")),
            gzip(&data),
        )
        .unwrap();
    }
    group.throughput(Throughput::Bytes(total as u64));
    let location = LogLocation::parse(dir.path().to_str().unwrap()).unwrap();
    group.bench_function("40x1MiB_gzip", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let ctx = new_context(&EngineOptions::default()).unwrap();
                register_tables(&ctx, &Sources { logs: std::slice::from_ref(&location), lake: None, ..Default::default() }, false, &ScanLog::new()).await.unwrap();
                let q = "SELECT useridentity.arn, count(*) FROM cloudtrail WHERE eventname IN ('DeleteObject', 'DeleteObjects') GROUP BY 1";
                ctx.sql(q).await.unwrap().collect().await.unwrap().len()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, decoder, object_scan, sql_end_to_end, cloudtrail);
criterion_main!(benches);
