//! Running detections over a time window.
//!
//! The window is `[since, until)`; the baseline is the `baseline_days` before `since`. Each
//! table gets three views the detections query: `window_<table>` (the window),
//! `baseline_<table>` (the baseline) and `history_<table>` (both, for comparisons of each
//! event with what came before it). Over raw logs, the history is decoded once (only the
//! columns detections use) into Parquet files in a temporary folder, so a pack of thirty-odd
//! queries costs one decode and memory stays bounded whatever the span; over a lake the views
//! read the lake's Parquet files directly. `window_rejects` holds, per object, what could not
//! be read (see [`super::rejects`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use serde_json::Value;

use super::config::Config;
use super::{Detection, Evidence, Finding, Param, Severity};
use crate::engine::cells::Columns;
use crate::format::cloudtrail::json::iso_time;
use crate::format::time::Civil;

/// The time span analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Milliseconds since the epoch; `None`: from the start of the data.
    pub since: Option<i64>,
    /// Exclusive; `None`: to the end of the data.
    pub until: Option<i64>,
    pub baseline_days: u32,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            since: None,
            until: None,
            baseline_days: 7,
        }
    }
}

const DAY_MS: i64 = 86_400_000;
/// Far enough from any log to mean "unbounded" in SQL comparisons.
const EARLIEST: i64 = 0;
const LATEST: i64 = 253_402_300_799_000; // 9999-12-31T23:59:59Z

impl Window {
    pub fn baseline_start(&self) -> i64 {
        self.since.map_or(EARLIEST, |s| {
            s.saturating_sub(i64::from(self.baseline_days) * DAY_MS)
        })
    }

    /// The values `${since}`, `${until}`, `${baseline_start}` and `${baseline_days}` take.
    pub fn builtins(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "since".into(),
                timestamp_literal(self.since.unwrap_or(EARLIEST)),
            ),
            (
                "until".into(),
                timestamp_literal(self.until.unwrap_or(LATEST)),
            ),
            (
                "baseline_start".into(),
                timestamp_literal(self.baseline_start()),
            ),
            ("baseline_days".into(), self.baseline_days.to_string()),
        ])
    }
}

/// A SQL literal of the UTC timestamp type the tables use.
pub fn timestamp_literal(ms: i64) -> String {
    format!("arrow_cast(to_timestamp_millis({ms}), 'Timestamp(ms, \"UTC\")')")
}

/// `2026-11-01`, `2026-11-01T12:00:00Z`, or a time before now: `24h`, `7d`, `30m`.
/// The earliest time a span may reach back to: 0001-01-01T00:00:00Z.
const MIN_TIME_MS: i64 = -62_135_596_800_000;

pub fn parse_time(s: &str, now_ms: i64) -> Result<i64, String> {
    let t = s.trim();
    if let Some((number, unit)) = t.find(|c: char| !c.is_ascii_digit()).map(|i| t.split_at(i))
        && !number.is_empty()
        && let Ok(n) = number.parse::<i64>()
    {
        let unit_ms = match unit {
            "m" | "min" => Some(60_000),
            "h" => Some(3_600_000),
            "d" => Some(DAY_MS),
            "w" => Some(7 * DAY_MS),
            _ => None,
        };
        if let Some(u) = unit_ms {
            // Checked: `200000000000d` is before any time a log can hold, not a wrap-around.
            return n
                .checked_mul(u)
                .and_then(|back| now_ms.checked_sub(back))
                .filter(|ms| *ms >= MIN_TIME_MS)
                .ok_or_else(|| {
                    format!("'{s}' reaches back before the year 1 (use a shorter span)")
                });
        }
    }
    if t.len() == 10
        && let [y, m, d] = t.split('-').collect::<Vec<_>>()[..]
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse(), m.parse(), d.parse())
        && let Some(ms) = Civil::date(y, m, d).to_epoch_millis(0)
    {
        return Ok(ms);
    }
    iso_time(t).ok_or_else(|| {
        format!("not a time: '{s}' (use 2026-11-01, 2026-11-01T12:00:00Z, 24h or 7d)")
    })
}

/// Columns of each table the detections may use (the history held in memory).
const ACCESS_COLUMNS: &str = "bucketowner, bucket_name, requestdatetime, remoteip, requester, requestid, operation, key, httpstatus, errorcode, bytessent, objectsize, totaltime, useragent, versionid, sigv, ciphersuite, authtype, endpoint, tlsversion, accesspointarn, aclrequired, source_region, log_object, log_line";
const TRAIL_COLUMNS: &str = "useridentity, eventtime, eventsource, eventname, awsregion, sourceipaddress, useragent, errorcode, errormessage, requestparameters, responseelements, additionaleventdata, requestid, eventid, resources, eventtype, readonly, recipientaccountid, vpcendpointid, eventcategory, managementevent, tlsdetails, s3_bucket, s3_key, bytes_in, bytes_out, sigv, ciphersuite, authtype, aclrequired, tlsversion, log_object, log_line";

/// A temporary folder for the decoded history, removed when dropped.
#[derive(Debug)]
pub struct Spill(PathBuf);

impl Spill {
    pub fn new() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("s3trawl-history-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        Ok(Spill(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Registers the window views. With `spill`, the history is decoded into Parquet files there
/// first (raw logs); without, the views read the tables as they are (a lake).
pub async fn prepare(
    ctx: &SessionContext,
    window: &Window,
    spill: Option<&Spill>,
    rejects: super::rejects::Sources<'_>,
) -> datafusion::error::Result<()> {
    let start = timestamp_literal(window.baseline_start());
    let until = timestamp_literal(window.until.unwrap_or(LATEST));
    let since = timestamp_literal(window.since.unwrap_or(EARLIEST));
    for (table, time, columns) in [
        ("access_logs", "requestdatetime", ACCESS_COLUMNS),
        ("cloudtrail", "eventtime", TRAIL_COLUMNS),
    ] {
        let history =
            format!("SELECT {columns} FROM {table} WHERE {time} >= {start} AND {time} < {until}");
        if let Some(spill) = spill {
            spill_history(ctx, spill, table, &history).await?;
        } else {
            ctx.sql(&format!("CREATE VIEW history_{table} AS {history}"))
                .await?;
        }
        ctx.sql(&format!(
            "CREATE VIEW window_{table} AS SELECT * FROM history_{table} WHERE {time} >= {since}"
        ))
        .await?;
        ctx.sql(&format!(
            "CREATE VIEW baseline_{table} AS SELECT * FROM history_{table} WHERE {time} < {since}"
        ))
        .await?;
    }
    // After the history: its scans are what saw the raw logs' rejects.
    super::rejects::register(ctx, window, rejects).await
}

/// Decodes `history` into Parquet under `spill` and registers it as `history_<table>`.
async fn spill_history(
    ctx: &SessionContext,
    spill: &Spill,
    table: &str,
    history: &str,
) -> datafusion::error::Result<()> {
    let dir = spill.path().join(table);
    let mut options = TableParquetOptions::default();
    // Written once, read by every detection: fast compression, statistics for time pruning.
    options.global.compression = Some("zstd(1)".into());
    ctx.sql(history)
        .await?
        .write_parquet(
            &format!("{}/", dir.display()),
            DataFrameWriteOptions::new(),
            Some(options),
        )
        .await?;
    let written = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        })
        .unwrap_or(false);
    if written {
        ctx.register_parquet(
            format!("history_{table}"),
            format!("{}/", dir.display()),
            ParquetReadOptions::default(),
        )
        .await
    } else {
        // Nothing in the span: an empty table of the right shape.
        ctx.sql(&format!("CREATE TABLE history_{table} AS {history}"))
            .await?
            .collect()
            .await
            .map(drop)
    }
}

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Findings dropped by the config's allow-lists.
    pub suppressed: usize,
    /// Detections that failed, with why.
    pub errors: Vec<(String, String)>,
    /// Detections that ran.
    pub ran: Vec<String>,
}

/// Runs `detections` (already filtered) over the prepared views.
pub async fn run(
    ctx: &SessionContext,
    detections: &[Detection],
    window: &Window,
    config: &Arc<Config>,
) -> Outcome {
    let builtins = window.builtins();
    let mut outcome = Outcome::default();
    for d in detections {
        let settings = config.detections.get(&d.id);
        if settings.and_then(|s| s.enabled) == Some(false) {
            continue;
        }
        let overrides: BTreeMap<String, Param> =
            settings.map(|s| s.params.clone()).unwrap_or_default();
        outcome.ran.push(d.id.clone());
        let result = async {
            let sql = d.render(&overrides, &builtins).map_err(|e| e.to_string())?;
            let batches = ctx
                .sql(&sql)
                .await
                .map_err(|e| e.to_string())?
                .collect()
                .await
                .map_err(|e| e.to_string())?;
            findings(d, &batches, settings.and_then(|s| s.severity))
        }
        .await;
        match result {
            Ok(found) => {
                for f in found {
                    if suppressed(&f, config) {
                        outcome.suppressed += 1;
                    } else {
                        outcome.findings.push(f);
                    }
                }
            }
            Err(e) => outcome.errors.push((d.id.clone(), e)),
        }
    }
    outcome.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.detection.cmp(&b.detection))
            .then_with(|| a.entity.cmp(&b.entity))
    });
    outcome
}

fn suppressed(f: &Finding, config: &Config) -> bool {
    let account = f.account.clone().or_else(|| {
        f.principal
            .as_deref()
            .and_then(super::udf::arn_account)
            .map(str::to_string)
    });
    f.ip.as_deref().is_some_and(|ip| config.ip_allowed(ip))
        || f.principal
            .as_deref()
            .is_some_and(|p| config.principal_allowed(p))
        || account
            .as_deref()
            .is_some_and(|a| config.account_allowed(a))
        || f.useragent
            .as_deref()
            .is_some_and(|u| config.agent_allowed(u))
}

/// Maximum evidence rows kept per finding.
pub const MAX_EVIDENCE: usize = 10;

/// The findings in a detection's result, read from its Arrow arrays. A row that cannot be a
/// finding (no entity, a severity that is not one, a count that is not a whole number, evidence
/// without its object) is an error naming the detection, the row and the column.
fn findings(
    d: &Detection,
    batches: &[RecordBatch],
    severity_override: Option<Severity>,
) -> Result<Vec<Finding>, String> {
    let mut out = Vec::new();
    let mut row_number = 0;
    for batch in batches {
        let columns = Columns::new(batch);
        for row in 0..columns.rows() {
            row_number += 1;
            let finding = finding(d, &columns, row, severity_override)
                .map_err(|e| format!("detection {}, result row {row_number}: {e}", d.id))?;
            out.push(finding);
        }
    }
    Ok(out)
}

/// The columns a finding is made of; any other column goes into `extra`.
const FINDING_COLUMNS: [&str; 13] = [
    "entity",
    "principal",
    "ip",
    "bucket",
    "account",
    "useragent",
    "first_seen",
    "last_seen",
    "details",
    "severity",
    "title",
    "count",
    "evidence",
];

fn finding(
    d: &Detection,
    columns: &Columns,
    row: usize,
    severity_override: Option<Severity>,
) -> Result<Finding, String> {
    let text = |name: &str| columns.text(name, row).map_err(|e| e.to_string());
    let entity = text("entity")?.ok_or_else(|| {
        "no `entity` column, or a NULL one (every finding needs its entity)".to_string()
    })?;
    let row_severity = match text("severity")? {
        Some(s) => Some(
            s.parse::<Severity>()
                .map_err(|e| format!("column `severity`: {e}"))?,
        ),
        None => None,
    };
    let count = match columns.get("count") {
        None => 1,
        Some(_) => columns
            .integer("count", row)
            .map_err(|e| e.to_string())?
            .ok_or("column `count` is NULL")?,
    };
    let evidence = match columns.json("evidence", row).map_err(|e| e.to_string())? {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .into_iter()
            .take(MAX_EVIDENCE)
            .map(evidence)
            .collect::<Result<_, _>>()?,
        other => return Err(format!("column `evidence` is not a list: {other}")),
    };
    let mut extra = BTreeMap::new();
    for name in columns.names() {
        if FINDING_COLUMNS.contains(&name) {
            continue;
        }
        let value = columns.json(name, row).map_err(|e| e.to_string())?;
        if !value.is_null() {
            extra.insert(name.to_string(), value);
        }
    }
    Ok(Finding {
        detection: d.id.clone(),
        severity: severity_override.or(row_severity).unwrap_or(d.severity),
        title: text("title")?.unwrap_or_else(|| d.title.clone()),
        family: d.family.clone(),
        entity,
        principal: text("principal")?,
        ip: text("ip")?,
        bucket: text("bucket")?,
        account: text("account")?,
        useragent: text("useragent")?,
        first_seen: text("first_seen")?,
        last_seen: text("last_seen")?,
        count,
        details: text("details")?,
        evidence,
        extra,
        mitre: d.mitre.clone(),
    })
}

/// One evidence record: its object and line, and whatever else the detection shows.
fn evidence(item: Value) -> Result<Evidence, String> {
    let Value::Object(mut fields) = item else {
        return Err(format!("an evidence item is not a record: {item}"));
    };
    let log_object = match fields.remove("log_object") {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => {
            return Err("an evidence record has no `log_object`".to_string());
        }
        Some(other) => other.to_string(),
    };
    let log_line = match fields.remove("log_line") {
        Some(Value::Null) | None => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| format!("an evidence record's `log_line` is {v}"))?,
    };
    fields.retain(|_, v| !v.is_null());
    Ok(Evidence {
        log_object,
        log_line,
        fields: fields.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn found(select: &str) -> Result<Vec<Finding>, String> {
        let d = Detection::parse(
            "-- id: demo\n-- title: Demo\n-- severity: low\n-- family: demo\n\nSELECT 1",
            "test",
        )
        .unwrap();
        let ctx = SessionContext::new();
        let batches = ctx.sql(select).await.unwrap().collect().await.unwrap();
        findings(&d, &batches, None)
    }

    #[tokio::test]
    async fn findings_come_from_the_arrays_with_every_column() {
        let f = found(
            "SELECT 'alice' AS entity, 'high' AS severity, CAST(12 AS BIGINT) AS count, \
             TIMESTAMP '2026-11-01 10:00:00' AS first_seen, 3.5 AS ratio, \
             [named_struct('log_object', 'o.log', 'log_line', 7, 'key', 'k', 'x', NULL)] AS evidence",
        )
        .await
        .unwrap();
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.entity, "alice");
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.count, 12);
        assert_eq!(f.first_seen.as_deref(), Some("2026-11-01T10:00:00"));
        assert_eq!(f.extra.get("ratio"), Some(&serde_json::json!(3.5)));
        assert_eq!(f.evidence.len(), 1);
        assert_eq!(f.evidence[0].log_object, "o.log");
        assert_eq!(f.evidence[0].log_line, 7);
        assert_eq!(
            f.evidence[0].fields,
            BTreeMap::from([("key".to_string(), serde_json::json!("k"))])
        );
        // Without a count column a finding counts one; without severity, the detection's.
        let f = found("SELECT 'bob' AS entity").await.unwrap();
        assert_eq!((f[0].count, f[0].severity), (1, Severity::Low));
        // A whole decimal is its number (sums over decimals are; it once became 1).
        let f = found("SELECT 'c' AS entity, CAST(150.0 AS DECIMAL(10, 1)) AS count")
            .await
            .unwrap();
        assert_eq!(f[0].count, 150);
    }

    #[tokio::test]
    async fn a_row_that_cannot_be_a_finding_is_an_error_naming_it() {
        for (select, expected) in [
            (
                "SELECT 'a' AS entity, 'severe' AS severity",
                "unknown severity 'severe'",
            ),
            (
                "SELECT 'a' AS entity, 2.5 AS count",
                "2.5 is not a whole number",
            ),
            (
                "SELECT 'a' AS entity, 'many' AS count",
                "'many' is not an integer",
            ),
            (
                "SELECT 'a' AS entity, CAST(NULL AS BIGINT) AS count",
                "`count` is NULL",
            ),
            ("SELECT CAST(NULL AS VARCHAR) AS entity", "`entity`"),
            ("SELECT 'a' AS entity, 'x' AS evidence", "not a list"),
            (
                "SELECT 'a' AS entity, [named_struct('log_line', 1)] AS evidence",
                "no `log_object`",
            ),
        ] {
            let e = found(select).await.map(|f| f.len()).unwrap_err();
            assert!(
                e.starts_with("detection demo, result row 1: "),
                "{select}: {e}"
            );
            assert!(e.contains(expected), "{select}: {e}");
        }
    }

    #[test]
    fn times() {
        let now = Civil::date(2026, 11, 22).to_epoch_millis(0).unwrap();
        assert_eq!(parse_time("24h", now), Ok(now - DAY_MS));
        assert_eq!(parse_time("7d", now), Ok(now - 7 * DAY_MS));
        assert_eq!(
            parse_time("2026-11-01", now),
            Ok(Civil::date(2026, 11, 1).to_epoch_millis(0).unwrap())
        );
        assert_eq!(
            parse_time("2026-11-01T06:00:00Z", now),
            Ok(Civil::date(2026, 11, 1)
                .at(6, 0, 0)
                .to_epoch_millis(0)
                .unwrap())
        );
        assert!(parse_time("yesterday", now).is_err());
        // Spans that reach past any representable time are errors, not wrap-arounds.
        for huge in ["200000000000d", "9223372036854775807m", "15250284452w"] {
            let e = parse_time(huge, now).unwrap_err();
            assert!(e.contains("before the year 1"), "{huge}: {e}");
        }
    }
}
