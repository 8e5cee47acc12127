//! The window's rejects, per object, for the `unparsed-records` detection: what could not be
//! read is itself a finding, so a line crafted to be rejected cannot hide a request.
//!
//! In: the rejects of raw logs as the scans of the history saw them ([`ScanLog`]; no second
//! decoding), and the lake's `rejects` table. Out: the table `window_rejects`, one row per
//! object with rejects: `log_object`, `log_kind`, `rejects` (how many), `first_line`,
//! `first_offset`, `reason` and `raw_line` of the first, `records_from`/`records_to` (the time
//! span of the object's records, if it has any) and `key_time` (the time in its name).
//!
//! A reject has no time of its own. An object belongs to the window when its records do
//! (their span overlaps the window); an object without records is dated by its name, with a
//! day of slack for late delivery; an object with neither is always in the window, since
//! nothing shows it is not.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

use super::window::Window;
use crate::format::Reject;
use crate::scan::{ObjectRejects, ScanLog};
use crate::source::keydate::key_time;

/// Slack for an object dated by its name only: deliveries come late (access logs are best
/// effort, hours at times) and a name is the delivery's time, not its events'.
const NAME_SLACK_MS: i64 = 86_400_000;

/// The longest first raw line kept per object (the `rejects` table has it whole).
const RAW_SHOWN: usize = 300;

/// An object's rejects, the time span of its records, and the time in its name.
type Dated = (ObjectRejects, Option<(i64, i64)>, Option<i64>);

/// Where the rejects come from.
pub struct Sources<'a> {
    /// The scans of raw logs (they have all run when the history was decoded).
    pub log: Option<&'a ScanLog>,
    /// Whether a lake is read (its `rejects` table is `__lake_rejects`).
    pub lake: bool,
    /// The lake's folder, whose manifest names the objects it holds.
    pub lake_dir: Option<&'a std::path::Path>,
    /// How late a delivery may be (keys named later than now plus this are from the future).
    pub slack_ms: i64,
}

/// Registers `window_rejects` (see the module documentation).
pub async fn register(ctx: &SessionContext, window: &Window, sources: Sources<'_>) -> Result<()> {
    let mut objects: Vec<ObjectRejects> = sources
        .log
        .map(ScanLog::rejected_objects)
        .unwrap_or_default();
    if sources.lake {
        objects.extend(lake_rejects(ctx).await?);
    }
    let (spans, first_lines) = record_spans(ctx).await?;
    register_future_objects(ctx, &sources, &spans, &first_lines)?;
    let since = window.since.unwrap_or(i64::MIN);
    let until = window.until.unwrap_or(i64::MAX);
    let rows: Vec<Dated> = objects
        .into_iter()
        .map(|o| {
            let span = spans.get(&o.object).copied();
            let named = key_time(&o.object);
            (o, span, named)
        })
        .filter(|(_, span, named)| match (span, named) {
            (Some((from, to)), _) => *to >= since && *from < until,
            (None, Some(t)) => {
                t.saturating_add(NAME_SLACK_MS) >= since && t.saturating_sub(NAME_SLACK_MS) < until
            }
            (None, None) => true,
        })
        .collect();
    let schema = schema();
    let utc = |v: Vec<Option<i64>>| {
        Arc::new(TimestampMillisecondArray::from(v).with_timezone("UTC")) as ArrayRef
    };
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.0.object.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0.kind))),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.0.rejects as i64),
            )),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.0.first.line as i64),
            )),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.0.first.byte_offset as i64),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.0.first.reason.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| shown(&r.0.first.raw)),
            )),
            utc(rows.iter().map(|r| r.1.map(|s| s.0)).collect()),
            utc(rows.iter().map(|r| r.1.map(|s| s.1)).collect()),
            utc(rows.iter().map(|r| r.2).collect()),
        ],
    )?;
    let table = MemTable::try_new(schema, vec![vec![batch]])?;
    ctx.register_table("window_rejects", Arc::new(table))?;
    Ok(())
}

/// Registers `window_future_objects`: the objects the run's sources hold whose keys name a time
/// after now plus the delivery slack (`log_object`, `key_time`, `records_from`, `records_to`),
/// for the `log-object-from-the-future` detection. Whatever their records' times: an object
/// AWS could not have delivered yet was written by someone else, and its name was chosen to
/// be where no one looks.
fn register_future_objects(
    ctx: &SessionContext,
    sources: &Sources<'_>,
    spans: &BTreeMap<String, (i64, i64)>,
    first_lines: &BTreeMap<String, i64>,
) -> Result<()> {
    let future_after = crate::source::prune::future_after(sources.slack_ms);
    let mut names: Vec<String> = sources.log.map(ScanLog::object_names).unwrap_or_default();
    if let Some(dir) = sources.lake_dir {
        names.extend(
            crate::lake::read_ingested(dir).map_err(|e| DataFusionError::External(e.into()))?,
        );
    }
    names.retain(|n| crate::source::prune::is_from_the_future(n, future_after));
    names.sort();
    names.dedup();
    let time = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("log_object", DataType::Utf8, false),
        Field::new("key_time", time.clone(), true),
        Field::new("records_from", time.clone(), true),
        Field::new("records_to", time, true),
        Field::new("first_line", DataType::Int64, false),
    ]));
    let utc = |v: Vec<Option<i64>>| {
        Arc::new(TimestampMillisecondArray::from(v).with_timezone("UTC")) as ArrayRef
    };
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from_iter_values(names.iter())),
            utc(names
                .iter()
                .map(|n| key_time(n).or_else(|| crate::source::keydate::partition_day(n)))
                .collect()),
            utc(names.iter().map(|n| spans.get(n).map(|s| s.0)).collect()),
            utc(names.iter().map(|n| spans.get(n).map(|s| s.1)).collect()),
            Arc::new(Int64Array::from_iter_values(
                names
                    .iter()
                    .map(|n| first_lines.get(n).copied().unwrap_or(0)),
            )),
        ],
    )?;
    let table = MemTable::try_new(schema, vec![vec![batch]])?;
    ctx.register_table("window_future_objects", Arc::new(table))?;
    Ok(())
}

fn schema() -> SchemaRef {
    let time = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("log_object", DataType::Utf8, false),
        Field::new("log_kind", DataType::Utf8, false),
        Field::new("rejects", DataType::Int64, false),
        Field::new("first_line", DataType::Int64, false),
        Field::new("first_offset", DataType::Int64, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("raw_line", DataType::Utf8, false),
        Field::new("records_from", time.clone(), true),
        Field::new("records_to", time.clone(), true),
        Field::new("key_time", time, true),
    ]))
}

fn shown(raw: &str) -> String {
    if raw.chars().count() <= RAW_SHOWN {
        return raw.to_string();
    }
    let head: String = raw.chars().take(RAW_SHOWN).collect();
    format!("{head}…")
}

/// The time span of each object's records in the history (baseline and window), and the line
/// of its first record.
type Spans = (BTreeMap<String, (i64, i64)>, BTreeMap<String, i64>);

async fn record_spans(ctx: &SessionContext) -> Result<Spans> {
    let sql = "SELECT arrow_cast(log_object, 'Utf8') AS o, \
        arrow_cast(arrow_cast(min(t), 'Timestamp(ms, \"UTC\")'), 'Int64') AS first, \
        arrow_cast(arrow_cast(max(t), 'Timestamp(ms, \"UTC\")'), 'Int64') AS last, \
        arrow_cast(min(line), 'Int64') AS line FROM ( \
        SELECT log_object, requestdatetime AS t, log_line AS line FROM __history_access_logs WHERE requestdatetime IS NOT NULL \
        UNION ALL SELECT log_object, eventtime, log_line FROM __history_cloudtrail WHERE eventtime IS NOT NULL) \
        GROUP BY log_object";
    let mut spans = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let objects = text(&batch, "o")?;
        let first = ints(&batch, "first")?;
        let last = ints(&batch, "last")?;
        let line = ints(&batch, "line")?;
        for i in 0..batch.num_rows() {
            if first.is_valid(i) && last.is_valid(i) {
                spans.insert(
                    objects.value(i).to_string(),
                    (first.value(i), last.value(i)),
                );
            }
            if line.is_valid(i) {
                lines.insert(objects.value(i).to_string(), line.value(i));
            }
        }
    }
    Ok((spans, lines))
}

/// The lake's rejects, summed up per object.
async fn lake_rejects(ctx: &SessionContext) -> Result<Vec<ObjectRejects>> {
    let first = |c: &str| format!("first_value({c} ORDER BY log_line, byte_offset)");
    let sql = format!(
        "SELECT arrow_cast(log_object, 'Utf8') AS o, arrow_cast({}, 'Utf8') AS kind, count(*) AS n, \
         {} AS line, {} AS byte_offset, arrow_cast({}, 'Utf8') AS reason, arrow_cast({}, 'Utf8') AS raw \
         FROM __lake_rejects GROUP BY log_object",
        first("log_kind"),
        first("log_line"),
        first("byte_offset"),
        first("reason"),
        first("raw_line"),
    );
    let mut out = Vec::new();
    for batch in ctx.sql(&sql).await?.collect().await? {
        let (objects, kinds, reasons, raws) = (
            text(&batch, "o")?,
            text(&batch, "kind")?,
            text(&batch, "reason")?,
            text(&batch, "raw")?,
        );
        let (counts, lines, offsets) = (
            ints(&batch, "n")?,
            ints(&batch, "line")?,
            ints(&batch, "byte_offset")?,
        );
        for i in 0..batch.num_rows() {
            out.push(ObjectRejects {
                object: objects.value(i).to_string(),
                kind: match kinds.value(i) {
                    "cloudtrail" => "cloudtrail",
                    "binary" => "binary",
                    _ => "access_log",
                },
                rejects: counts.value(i).max(0) as u64,
                first: Reject {
                    line: lines.value(i).max(0) as u64,
                    byte_offset: offsets.value(i).max(0) as u64,
                    reason: reasons.value(i).to_string(),
                    raw: raws.value(i).to_string(),
                },
            });
        }
    }
    Ok(out)
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| DataFusionError::Internal(format!("no column {name}")))
}

fn text<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a StringArray> {
    column(batch, name)?
        .as_string_opt::<i32>()
        .ok_or_else(|| DataFusionError::Internal(format!("{name} is not text")))
}

fn ints<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a Int64Array> {
    column(batch, name)?
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| DataFusionError::Internal(format!("{name} is not an integer")))
}
