//! s3trawl: SQL, detections and reports over Amazon S3 server access logs and CloudTrail.
//!
//! Where a log line becomes a row: [`format`]. Where objects are found, fetched and
//! decompressed: [`source`]. Where rows meet SQL: [`engine`]. Where rows become a Parquet lake:
//! [`lake`]. The command line, the one place that speaks `anyhow` and exit codes, is [`cli`]; it
//! lives in the library rather than in the binary so that the program's async code is compiled
//! once: a binary that polls a library's futures compiles every one of them again (the release
//! binary took 63 s to build on its own; `src/main.rs` now only calls [`cli::main`]).

pub mod cli;
pub mod detect;
pub mod engine;
pub mod error;
pub mod format;
pub mod generate;
pub mod lake;
pub mod report;
pub mod scan;
pub mod source;
