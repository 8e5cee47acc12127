//! s3trawl: SQL, detections and reports over Amazon S3 server access logs and CloudTrail.
//!
//! Where a log line becomes a row: [`format`]. Where objects are found, fetched and
//! decompressed: [`source`]. Where rows meet SQL: [`engine`]. Where rows become a Parquet lake:
//! [`lake`]. The command line, the one place that speaks `anyhow` and exit codes, is [`cli`]; it
//! lives in the library rather than in the binary so that the program's async code is compiled
//! once: a binary that polls a library's futures compiles every one of them again (the release
//! binary took 63 s to build on its own; `src/main.rs` now only calls [`cli::main`]).

pub mod cli;
pub mod cluster;
pub mod detect;
pub mod engine;
pub mod error;
pub mod format;
pub mod generate;
pub mod lake;
pub mod report;
pub mod scan;
pub mod sigma;
pub mod size;
pub mod source;

/// What the unit tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    /// `../shared/corpora` (or `S3TRAWL_TEST_CORPORA`), or `None` when it is absent outside
    /// CI: the test is then skipped and says so. Under CI (`CI` set) absence is a failure.
    pub fn corpora() -> Option<PathBuf> {
        let dir = std::env::var_os("S3TRAWL_TEST_CORPORA").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"),
            PathBuf::from,
        );
        if dir.is_dir() {
            return Some(dir);
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing: CI must run with the shared corpora beside the project",
            dir.display()
        );
        eprintln!("SKIPPED: {} is absent (the shared corpora)", dir.display());
        None
    }
}
