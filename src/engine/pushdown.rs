//! Which records a query's filters accept, for the CloudTrail decoder to build no row for the
//! others.
//!
//! In: a filter DataFusion offers the `cloudtrail` scan (a physical expression). Out: the
//! column and the text values it may have, when the filter is `column = 'text'`,
//! `column IN (…)`, the same on `lower(column)` (as Sigma rules compare), or an `OR` of those
//! on one column; `None` for anything else. The filters
//! stay in the plan and are applied exactly: this only saves building rows that they drop.

use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::expressions::{BinaryExpr, CastExpr, Column, InListExpr, Literal};
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};

/// What a filter accepts of one column: its name, the values, and whether it compares them
/// without regard to case (`lower(column) = 'text'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Accepted {
    pub column: String,
    pub values: Vec<String>,
    pub any_case: bool,
}

/// `column = 'text'`, `column IN ('a', 'b')`, the same on `lower(column)`, or an `OR` of those
/// on one column: the column and the values it may have.
pub(super) fn accepted_values(expr: &Arc<dyn PhysicalExpr>) -> Option<Accepted> {
    if let Some(binary) = expr.downcast_ref::<BinaryExpr>() {
        return match binary.op() {
            Operator::Eq => {
                let ((column, any_case), value) =
                    match (subject(binary.left()), text_literal(binary.right())) {
                        (Some(c), Some(v)) => (c, v),
                        _ => (subject(binary.right())?, text_literal(binary.left())?),
                    };
                Some(Accepted {
                    column,
                    values: vec![value],
                    any_case,
                })
            }
            Operator::Or => {
                let mut left = accepted_values(binary.left())?;
                let right = accepted_values(binary.right())?;
                (left.column == right.column && left.any_case == right.any_case).then(|| {
                    left.values.extend(right.values);
                    left
                })
            }
            _ => None,
        };
    }
    let list = expr.downcast_ref::<InListExpr>()?;
    if list.negated() {
        return None;
    }
    let (column, any_case) = subject(list.expr())?;
    let values = list
        .list()
        .iter()
        .map(text_literal)
        .collect::<Option<Vec<_>>>()?;
    Some(Accepted {
        column,
        values,
        any_case,
    })
}

/// The column an expression reads (through casts between string types), and whether it is
/// lowercased first (`lower(column)`).
fn subject(expr: &Arc<dyn PhysicalExpr>) -> Option<(String, bool)> {
    if let Some(function) = expr.downcast_ref::<ScalarFunctionExpr>() {
        return match function.args() {
            [arg] if function.name() == "lower" => {
                subject(arg).and_then(|(c, any)| (!any).then_some((c, true)))
            }
            _ => None,
        };
    }
    column_name(expr).map(|c| (c, false))
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
