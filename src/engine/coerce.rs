//! Type coercions that Athena makes and DataFusion does not.
//!
//! AWS's documented access-log queries were written for a table where `httpstatus` is a
//! string (`WHERE httpstatus LIKE '5%'`); ours is an integer. This analyzer rule runs before
//! DataFusion's type coercion and casts a non-string operand of `LIKE`/`ILIKE` to a string, as
//! Presto's implicit conversions would.

use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

#[derive(Debug, Default)]
pub struct LikeOnAnyType;

fn is_stringish(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null
    ) || matches!(t, DataType::Dictionary(_, v) if is_stringish(v))
}

impl AnalyzerRule for LikeOnAnyType {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            let schema = merge_schema(&plan.inputs());
            plan.map_expressions(|expr| {
                expr.transform_up(|e| match e {
                    Expr::Like(mut like) => {
                        let mut changed = false;
                        for operand in [&mut like.expr, &mut like.pattern] {
                            if let Ok(t) = operand.get_type(&schema)
                                && !is_stringish(&t)
                            {
                                let inner = std::mem::replace(
                                    operand.as_mut(),
                                    Expr::Literal(datafusion::common::ScalarValue::Null, None),
                                );
                                **operand = Expr::Cast(Cast::new(Box::new(inner), DataType::Utf8));
                                changed = true;
                            }
                        }
                        let expr = Expr::Like(Like { ..like });
                        Ok(if changed {
                            Transformed::yes(expr)
                        } else {
                            Transformed::no(expr)
                        })
                    }
                    e => Ok(Transformed::no(e)),
                })
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "like_on_any_type"
    }
}
