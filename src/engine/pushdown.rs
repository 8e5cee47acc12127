//! Which records a query's filters accept, for the CloudTrail decoder to build no row for the
//! others.
//!
//! In: a filter DataFusion offers the `cloudtrail` scan (a physical expression). Out: the
//! column and the text values it may have, when the filter is `column = 'text'`,
//! `column IN (…)` or an `OR` of those on one column; `None` for anything else. The filters
//! stay in the plan and are applied exactly: this only saves building rows that they drop.

use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, CastExpr, Column, InListExpr, Literal};

/// `column = 'text'`, `column IN ('a', 'b')`, or an `OR` of those on one column, as the column
/// and the values it may have.
pub(super) fn accepted_values(expr: &Arc<dyn PhysicalExpr>) -> Option<(String, Vec<String>)> {
    if let Some(binary) = expr.downcast_ref::<BinaryExpr>() {
        return match binary.op() {
            Operator::Eq => {
                let (column, value) =
                    match (column_name(binary.left()), text_literal(binary.right())) {
                        (Some(c), Some(v)) => (c, v),
                        _ => (column_name(binary.right())?, text_literal(binary.left())?),
                    };
                Some((column, vec![value]))
            }
            Operator::Or => {
                let (left, mut values) = accepted_values(binary.left())?;
                let (right, more) = accepted_values(binary.right())?;
                (left == right).then(|| {
                    values.extend(more);
                    (left, values)
                })
            }
            _ => None,
        };
    }
    let list = expr.downcast_ref::<InListExpr>()?;
    if list.negated() {
        return None;
    }
    let column = column_name(list.expr())?;
    let values = list
        .list()
        .iter()
        .map(text_literal)
        .collect::<Option<Vec<_>>>()?;
    Some((column, values))
}

/// The column an expression reads as is (through casts between string types).
fn column_name(expr: &Arc<dyn PhysicalExpr>) -> Option<String> {
    if let Some(column) = expr.downcast_ref::<Column>() {
        return Some(column.name().to_string());
    }
    let cast = expr.downcast_ref::<CastExpr>()?;
    matches!(
        cast.cast_type(),
        arrow::datatypes::DataType::Utf8
            | arrow::datatypes::DataType::Utf8View
            | arrow::datatypes::DataType::LargeUtf8
    )
    .then(|| column_name(cast.expr()))
    .flatten()
}

fn text_literal(expr: &Arc<dyn PhysicalExpr>) -> Option<String> {
    match expr.downcast_ref::<Literal>()?.value() {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
        _ => None,
    }
}
