//! s3trawl: SQL, detections and reports over Amazon S3 server access logs and CloudTrail.
//!
//! Where a log line becomes a row: [`format`]. Where objects are found, fetched and
//! decompressed: [`source`]. Where rows meet SQL: [`engine`]. Where rows become a Parquet lake:
//! [`lake`]. The command line is in the binary (`src/cli`).

pub mod detect;
pub mod engine;
pub mod error;
pub mod format;
pub mod generate;
pub mod lake;
pub mod report;
pub mod scan;
pub mod source;
