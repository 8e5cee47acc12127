//! A detection's result rows become findings, read straight from the Arrow arrays.
//!
//! In: the batches a detection's SQL returned. Out: one [`Finding`] per row (entity, severity,
//! count, times, evidence records, any other column as `extra`), or a [`RowProblem`] that names
//! the row and the column that could not be read.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use serde_json::Value;

use super::error::{DetectionError, RowProblem};
use super::{Detection, Evidence, Finding, Severity};
use crate::engine::cells::Columns;

/// Maximum evidence rows kept per finding.
pub const MAX_EVIDENCE: usize = 10;

/// The findings in a detection's result, read from its Arrow arrays. A row that cannot be a
/// finding (no entity, a severity that is not one, a count that is not a whole number, evidence
/// without its object) is an error naming the detection, the row and the column.
pub(super) fn findings(
    d: &Detection,
    batches: &[RecordBatch],
    severity_override: Option<Severity>,
) -> Result<Vec<Finding>, DetectionError> {
    let mut out = Vec::new();
    let mut row_number = 0;
    for batch in batches {
        let columns = Columns::new(batch);
        for row in 0..columns.rows() {
            row_number += 1;
            let finding = finding(d, &columns, row, severity_override).map_err(|problem| {
                DetectionError::Row {
                    detection: d.id.clone(),
                    row: row_number,
                    problem,
                }
            })?;
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
) -> Result<Finding, RowProblem> {
    let text = |name: &str| columns.text(name, row);
    let entity = text("entity")?.ok_or(RowProblem::NoEntity)?;
    let row_severity = match text("severity")? {
        Some(s) => Some(s.parse::<Severity>().map_err(RowProblem::Severity)?),
        None => None,
    };
    let count = match columns.get("count") {
        None => 1,
        Some(_) => columns
            .integer("count", row)?
            .ok_or(RowProblem::NullCount)?,
    };
    let evidence = match columns.json("evidence", row)? {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .into_iter()
            .take(MAX_EVIDENCE)
            .map(evidence)
            .collect::<Result<_, _>>()?,
        other => return Err(RowProblem::EvidenceNotAList(other)),
    };
    let mut extra = BTreeMap::new();
    for name in columns.names() {
        if FINDING_COLUMNS.contains(&name) {
            continue;
        }
        let value = columns.json(name, row)?;
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
fn evidence(item: Value) -> Result<Evidence, RowProblem> {
    let Value::Object(mut fields) = item else {
        return Err(RowProblem::EvidenceNotARecord(item));
    };
    let log_object = match fields.remove("log_object") {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => {
            return Err(RowProblem::EvidenceWithoutObject);
        }
        Some(other) => other.to_string(),
    };
    let log_line = match fields.remove("log_line") {
        Some(Value::Null) | None => 0,
        Some(v) => v.as_i64().ok_or(RowProblem::EvidenceLine(v))?,
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
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn found(select: &str) -> Result<Vec<Finding>, String> {
        let d = Detection::parse(
            "-- id: demo\n-- title: Demo\n-- severity: low\n-- family: demo\n\nSELECT 1",
            "test",
        )
        .unwrap();
        let ctx = SessionContext::new();
        let batches = ctx.sql(select).await.unwrap().collect().await.unwrap();
        findings(&d, &batches, None).map_err(|e| e.to_string())
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
}
