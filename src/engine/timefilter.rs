//! The range of record times a query's filters allow, for pruning objects by their keys.
//!
//! In: the filters DataFusion hands a raw-log table's scan (conjuncts, constants folded) and
//! the table's time columns. Out: a [`TimeRange`] that every row passing the filters lies in
//! (open where nothing restricts it). Understood: comparisons and `BETWEEN` of the record time
//! (`requestdatetime`, `eventtime`; also through `CAST`, `parse_datetime(col, …)` and
//! `from_iso8601_timestamp(col)`, which pass a timestamp through) with a constant time or
//! date, comparisons of the `timestamp` day column (`'yyyy/MM/dd'`) with a day, and `AND`/`OR`
//! of these. Anything else restricts nothing, so a range is never narrower than the rows.

use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};

use crate::source::prune::{DAY_MS, TimeRange, day_start};

/// A table's time columns: the record time (a timestamp) and the day text column.
#[derive(Debug, Clone, Copy)]
pub struct TimeColumns {
    pub time: &'static str,
    pub day: &'static str,
}

/// The range every row that passes all `filters` lies in.
pub fn range_of(filters: &[Expr], columns: TimeColumns) -> TimeRange {
    filters
        .iter()
        .fold(TimeRange::ALL, |r, f| r.and(range(f, columns)))
}

fn range(expr: &Expr, columns: TimeColumns) -> TimeRange {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => range(left, columns).and(range(right, columns)),
            Operator::Or => range(left, columns).hull(range(right, columns)),
            _ => comparison(left, *op, right, columns)
                .or_else(|| comparison(right, op.swap()?, left, columns))
                .unwrap_or(TimeRange::ALL),
        },
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => {
            let low = comparison(expr, Operator::GtEq, low, columns).unwrap_or(TimeRange::ALL);
            let high = comparison(expr, Operator::LtEq, high, columns).unwrap_or(TimeRange::ALL);
            low.and(high)
        }
        _ => TimeRange::ALL,
    }
}

/// `column OP constant`, if `left` is a time column and `right` a constant of a known kind.
fn comparison(left: &Expr, op: Operator, right: &Expr, columns: TimeColumns) -> Option<TimeRange> {
    let Expr::Literal(value, _) = right else {
        return None;
    };
    if let Some(granule) = time_column(left, columns) {
        let at = instant(value)?;
        return Some(bound(op, at, granule));
    }
    if is_column(left, columns.day) {
        let day = slashed_day(value)?;
        return Some(bound(op, day, DAY_MS));
    }
    None
}

/// The range of times `t` with `floor(t) OP at`, where `floor` rounds down to `granule` ms
/// (0: exact); widened by a millisecond at the top so rounding never narrows it.
fn bound(op: Operator, at: i64, granule: i64) -> TimeRange {
    let top = at.saturating_add(granule.max(1));
    match op {
        Operator::Eq => TimeRange::new(Some(at), Some(top)),
        Operator::Gt | Operator::GtEq => TimeRange::new(Some(at), None),
        Operator::Lt | Operator::LtEq => TimeRange::new(None, Some(top)),
        _ => TimeRange::ALL,
    }
}

/// How coarsely a time column is rounded in `expr` (0 for not at all), if `expr` is one.
fn time_column(expr: &Expr, columns: TimeColumns) -> Option<i64> {
    match expr {
        Expr::Column(_) => is_column(expr, columns.time).then_some(0),
        Expr::Cast(c) => Some(time_column(&c.expr, columns)?.max(granule(c.field.data_type())?)),
        Expr::TryCast(c) => Some(time_column(&c.expr, columns)?.max(granule(c.field.data_type())?)),
        Expr::ScalarFunction(f)
            if matches!(f.func.name(), "parse_datetime" | "from_iso8601_timestamp") =>
        {
            time_column(f.args.first()?, columns)
        }
        _ => None,
    }
}

/// How a cast to `ty` rounds a timestamp, if it keeps its order.
fn granule(ty: &DataType) -> Option<i64> {
    match ty {
        DataType::Timestamp(TimeUnit::Second, _) => Some(1000),
        DataType::Timestamp(_, _) => Some(0),
        DataType::Date32 | DataType::Date64 => Some(DAY_MS),
        _ => None,
    }
}

fn is_column(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Column(c) if c.name.eq_ignore_ascii_case(name))
}

/// A constant time in milliseconds since the epoch (rounded down).
fn instant(value: &ScalarValue) -> Option<i64> {
    Some(match value {
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1000)?,
        ScalarValue::TimestampMillisecond(Some(v), _) => *v,
        ScalarValue::TimestampMicrosecond(Some(v), _) => v.div_euclid(1000),
        ScalarValue::TimestampNanosecond(Some(v), _) => v.div_euclid(1_000_000),
        ScalarValue::Date32(Some(d)) => i64::from(*d) * DAY_MS,
        ScalarValue::Date64(Some(v)) => *v,
        _ => return None,
    })
}

/// Midnight of a `yyyy/MM/dd` text constant.
fn slashed_day(value: &ScalarValue) -> Option<i64> {
    let text = match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => s,
        _ => return None,
    };
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'/' || b[7] != b'/' {
        return None;
    }
    day_start(
        text[0..4].parse().ok()?,
        text[5..7].parse().ok()?,
        text[8..10].parse().ok()?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::tree_node::TreeNode;
    use datafusion::prelude::{col, lit};

    const ACCESS: TimeColumns = TimeColumns {
        time: "requestdatetime",
        day: "timestamp",
    };

    fn ms(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    fn ts(text: &str) -> Expr {
        lit(ScalarValue::TimestampMillisecond(
            Some(ms(text)),
            Some("UTC".into()),
        ))
    }

    #[test]
    fn comparisons_and_their_combinations() {
        let a = ms("2026-03-14T00:00:00Z");
        let b = ms("2026-03-15T00:00:00Z");
        let t = || col("requestdatetime");
        let f = vec![
            t().gt_eq(ts("2026-03-14T00:00:00Z")),
            t().lt(ts("2026-03-15T00:00:00Z")),
        ];
        assert_eq!(range_of(&f, ACCESS), TimeRange::new(Some(a), Some(b + 1)));
        // Swapped sides, BETWEEN, OR, and what restricts nothing.
        let f = vec![ts("2026-03-15T00:00:00Z").gt(t())];
        assert_eq!(range_of(&f, ACCESS), TimeRange::new(None, Some(b + 1)));
        let f = vec![t().between(ts("2026-03-14T00:00:00Z"), ts("2026-03-15T00:00:00Z"))];
        assert_eq!(range_of(&f, ACCESS), TimeRange::new(Some(a), Some(b + 1)));
        let f = vec![t().not_between(ts("2026-03-14T00:00:00Z"), ts("2026-03-15T00:00:00Z"))];
        assert!(range_of(&f, ACCESS).is_all());
        let f = vec![
            t().eq(ts("2026-03-14T00:00:00Z"))
                .or(t().eq(ts("2026-03-15T00:00:00Z"))),
        ];
        assert_eq!(range_of(&f, ACCESS), TimeRange::new(Some(a), Some(b + 1)));
        let f = vec![
            t().gt(ts("2026-03-14T00:00:00Z"))
                .or(col("operation").eq(lit("x"))),
        ];
        assert!(range_of(&f, ACCESS).is_all());
        let f = vec![t().not_eq(ts("2026-03-14T00:00:00Z"))];
        assert!(range_of(&f, ACCESS).is_all());
        // The day column.
        let f = vec![col("timestamp").eq(lit("2026/03/14"))];
        assert_eq!(range_of(&f, ACCESS), TimeRange::new(Some(a), Some(b)));
        let f = vec![col("timestamp").gt_eq(lit("2026/03"))];
        assert!(range_of(&f, ACCESS).is_all());
        // A cast to a date rounds down to the day.
        let f = vec![
            Expr::Cast(datafusion::logical_expr::Cast::new(
                Box::new(t()),
                DataType::Date32,
            ))
            .lt_eq(lit(ScalarValue::Date32(Some((a / DAY_MS) as i32)))),
        ];
        assert_eq!(range_of(&f, ACCESS), TimeRange::new(None, Some(b)));
    }

    /// The forms of AWS's example queries, through DataFusion's planner: the filters a scan
    /// receives give the range.
    #[tokio::test]
    async fn planned_queries() {
        let ctx = crate::engine::new_context(&Default::default()).unwrap();
        // A raw-log table takes every filter into its scan, as the planner hands them over.
        let dir = tempfile::tempdir().unwrap();
        let url =
            datafusion::datasource::listing::ListingTableUrl::parse(dir.path().to_str().unwrap())
                .unwrap();
        let format =
            super::super::format::LogFormat::new(crate::scan::Output::AccessLogs, false, None);
        let table = super::super::table::RawLogTable::new(vec![url], format);
        ctx.register_table("t", std::sync::Arc::new(table)).unwrap();
        let a = ms("2026-03-14T00:00:00Z");
        let b = ms("2026-03-15T00:00:00Z");
        for (sql, want) in [
            (
                "requestdatetime >= TIMESTAMP '2026-03-14 00:00:00' AND requestdatetime < TIMESTAMP '2026-03-15 00:00:00'",
                TimeRange::new(Some(a), Some(b + 1)),
            ),
            (
                "requestdatetime BETWEEN '2026-03-14T00:00:00Z' AND '2026-03-15T00:00:00Z'",
                TimeRange::new(Some(a), Some(b + 1)),
            ),
            (
                "parse_datetime(requestdatetime, 'dd/MMM/yyyy:HH:mm:ss Z') BETWEEN parse_datetime('2026-03-14', 'yyyy-MM-dd') AND parse_datetime('2026-03-15', 'yyyy-MM-dd')",
                TimeRange::new(Some(a), Some(b + 1)),
            ),
            (
                "CAST(requestdatetime AS DATE) = DATE '2026-03-14'",
                TimeRange::new(Some(a), Some(b)),
            ),
            (
                "timestamp BETWEEN '2026/03/14' AND '2026/03/14'",
                TimeRange::new(Some(a), Some(b)),
            ),
            (
                "requestdatetime + INTERVAL '1 second' > TIMESTAMP '2026-03-14 00:00:00'",
                TimeRange::ALL,
            ),
        ] {
            let plan = ctx
                .sql(&format!("SELECT * FROM t WHERE {sql}"))
                .await
                .unwrap()
                .into_optimized_plan()
                .unwrap();
            let mut filters = Vec::new();
            plan.apply(|node| {
                if let datafusion::logical_expr::LogicalPlan::TableScan(scan) = node {
                    filters.extend(scan.filters.iter().cloned());
                }
                Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
            })
            .unwrap();
            assert_eq!(range_of(&filters, ACCESS), want, "{sql}: {filters:?}");
        }
    }
}
