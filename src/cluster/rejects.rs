//! What the cluster's scans of raw logs could not read, brought back to the client.
//!
//! Locally every scan reports its rejects to the run's [`ScanLog`], which the command line
//! sums up on stderr (and exits 2 for an object that could not be read) and `detect` turns into
//! `unparsed-records` findings. On a cluster the scans run on the executors, whose reports stay
//! there, so the client asks the cluster for the raw logs' `rejects` (`__raw_rejects`: each
//! rejected line with its object, line and byte offset) and records them in its log: per object
//! the count and the first few, which is all the summary and the detection use. This reads the
//! raw logs a second time, on the cluster. The objects read without a reject, and the rows
//! read, are not known to the client.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

use crate::format::access_log::DecodeCounts;
use crate::format::{LogKind, Reject};
use crate::scan::{ObjectReport, SUMMARY_EXAMPLES, ScanLog};

/// The view over the raw logs' `rejects` (see [`crate::engine`]).
pub const RAW_REJECTS: &str = "__raw_rejects";

/// What an object that could not be read at all is rejected with (see [`crate::scan`]).
const UNREADABLE: &str = "cannot read the object: ";

/// Records in `log` the rejects of the raw logs of `ctx` (none when it reads a lake only) in
/// the objects `keep` accepts (by key: those a time window's scans read).
pub async fn collect(
    ctx: &SessionContext,
    log: &ScanLog,
    keep: impl Fn(&str) -> bool,
) -> Result<()> {
    if !ctx.table_exist(RAW_REJECTS)? {
        return Ok(());
    }
    let sql = format!(
        "SELECT arrow_cast(log_object, 'Utf8') AS o, arrow_cast(log_kind, 'Utf8') AS kind, \
         log_line, byte_offset, arrow_cast(reason, 'Utf8') AS reason, \
         arrow_cast(raw_line, 'Utf8') AS raw, n FROM ( \
           SELECT *, row_number() OVER (PARTITION BY log_object ORDER BY log_line, byte_offset) AS k, \
           count(*) OVER (PARTITION BY log_object) AS n FROM {RAW_REJECTS}) \
         WHERE k <= {SUMMARY_EXAMPLES} ORDER BY o, log_line, byte_offset"
    );
    let mut current: Option<ObjectReport> = None;
    for batch in ctx.sql(&sql).await?.collect().await? {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| DataFusionError::Internal(format!("no column {name}")))
        };
        let (objects, kinds, reasons, raws) = (
            column("o")?.as_string::<i32>(),
            column("kind")?.as_string::<i32>(),
            column("reason")?.as_string::<i32>(),
            column("raw")?.as_string::<i32>(),
        );
        let (lines, offsets, counts) = (
            column("log_line")?.as_primitive::<Int64Type>(),
            column("byte_offset")?.as_primitive::<Int64Type>(),
            column("n")?.as_primitive::<Int64Type>(),
        );
        for i in 0..batch.num_rows() {
            let object = objects.value(i);
            if !keep(object) {
                continue;
            }
            if current.as_ref().is_none_or(|r| r.object != object) {
                if let Some(done) = current.take() {
                    record(log, done);
                }
                current = Some(ObjectReport {
                    object: object.to_string(),
                    kind: kind_of(kinds.value(i)),
                    bytes: 0,
                    counts: DecodeCounts {
                        rejects: counts.value(i).max(0) as u64,
                        ..DecodeCounts::default()
                    },
                    rejects: Vec::new(),
                });
            }
            if let Some(report) = current.as_mut() {
                report.rejects.push(Reject {
                    line: lines.value(i).max(0) as u64,
                    byte_offset: offsets.value(i).max(0) as u64,
                    reason: reasons.value(i).to_string(),
                    raw: raws.value(i).to_string(),
                });
            }
        }
        check_nulls(&batch)?;
    }
    if let Some(done) = current {
        record(log, done);
    }
    Ok(())
}

fn record(log: &ScanLog, report: ObjectReport) {
    if let Some(why) = report
        .rejects
        .iter()
        .find(|r| r.line == 0)
        .and_then(|r| r.reason.strip_prefix(UNREADABLE))
    {
        log.unreadable(&report.object, why);
    }
    log.record(report);
}

/// The kind a `rejects` row names (`access_log`, `cloudtrail` or `binary`).
fn kind_of(name: &str) -> LogKind {
    match name {
        "cloudtrail" => LogKind::CloudTrail,
        "binary" => LogKind::Binary,
        _ => LogKind::AccessLog,
    }
}

/// The `rejects` columns are never null; a null would be a reject read wrong.
fn check_nulls(batch: &RecordBatch) -> Result<()> {
    match batch.columns().iter().position(|c| c.null_count() > 0) {
        Some(i) => Err(DataFusionError::Internal(format!(
            "the cluster's rejects have a null {}",
            batch.schema().field(i).name()
        ))),
        None => Ok(()),
    }
}
