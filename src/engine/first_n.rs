//! `first_n(value, key, n)` and `last_n(value, key, n)`: the `n` values with the smallest
//! (largest) `key`, in that order, as a list; NULL values are skipped.
//!
//! They do what `array_slice(array_agg(value ORDER BY key), 1, n)` does, in memory bounded by
//! `n` per group. DataFusion 55's order-sensitive `array_agg` keeps and re-sorts every value
//! of a group, which on a week of logs made single detections take minutes; the detections
//! pick their evidence rows with these instead.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;

#[derive(Debug, PartialEq, Eq, Hash)]
struct FirstN {
    name: &'static str,
    descending: bool,
    signature: Signature,
}

/// `first_n(value, key, n)`: the values with the smallest keys, smallest first.
pub fn first_n() -> AggregateUDF {
    AggregateUDF::from(FirstN {
        name: "first_n",
        descending: false,
        signature: Signature::any(3, Volatility::Immutable),
    })
}

/// `last_n(value, key, n)`: the values with the largest keys, largest first.
pub fn last_n() -> AggregateUDF {
    AggregateUDF::from(FirstN {
        name: "last_n",
        descending: true,
        signature: Signature::any(3, Volatility::Immutable),
    })
}

fn list_of(t: &DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(t.clone(), true)))
}

/// `t` with its string and binary views (at any depth) as plain strings and binaries: the type
/// the values are kept and exchanged in. A view array points into every buffer of the arrays
/// it was gathered from, and DataFusion slices and gathers the states group by group: with
/// views, each slice clones the list of thousands of buffers the concatenated states share
/// (2.5 s for 512 groups in `mass-delete-by-ip`); plain strings are sliced by offsets.
fn plain(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| Arc::new(f.as_ref().clone().with_data_type(plain(f.data_type()))))
                .collect(),
        ),
        DataType::List(f) => DataType::List(Arc::new(
            f.as_ref().clone().with_data_type(plain(f.data_type())),
        )),
        other => other.clone(),
    }
}

impl AggregateUDFImpl for FirstN {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(list_of(&arg_types[0]))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let value = &plain(args.input_fields[0].data_type());
        let key = &plain(args.input_fields[1].data_type());
        Ok(vec![
            Arc::new(Field::new(
                format!("{}_values", args.name),
                list_of(value),
                true,
            )),
            Arc::new(Field::new(
                format!("{}_keys", args.name),
                list_of(key),
                true,
            )),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let n = match args
            .exprs
            .get(2)
            .and_then(|e| e.downcast_ref::<Literal>())
            .map(Literal::value)
        {
            Some(ScalarValue::Int64(Some(n))) if *n > 0 => *n as usize,
            Some(ScalarValue::Int32(Some(n))) if *n > 0 => *n as usize,
            Some(ScalarValue::UInt64(Some(n))) if *n > 0 => *n as usize,
            _ => {
                return exec_err!(
                    "{}: the third argument must be a positive number",
                    self.name
                );
            }
        };
        Ok(Box::new(FirstNAccumulator {
            n: n.min(10_000),
            descending: self.descending,
            value_type: args.expr_fields[0].data_type().clone(),
            plain_value: plain(args.expr_fields[0].data_type()),
            plain_key: plain(args.expr_fields[1].data_type()),
            items: Vec::new(),
        }))
    }
}

#[derive(Debug)]
struct FirstNAccumulator {
    n: usize,
    descending: bool,
    /// The type of the values as given (and returned).
    value_type: DataType,
    /// The types values and keys are kept in (see [`plain`]).
    plain_value: DataType,
    plain_key: DataType,
    /// Kept in output order: best first.
    items: Vec<(ScalarValue, ScalarValue)>,
}

impl FirstNAccumulator {
    /// Whether key `a` comes before key `b` in the output (NULL keys last).
    fn order(&self, a: &ScalarValue, b: &ScalarValue) -> Ordering {
        match (a.is_null(), b.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => {
                let o = a.partial_cmp(b).unwrap_or(Ordering::Equal);
                if self.descending { o.reverse() } else { o }
            }
        }
    }

    /// The output order of two entries: by key, then (for equal keys) by value, so that the
    /// result does not depend on the order in which partitions deliver rows.
    fn order_items(
        &self,
        a: (&ScalarValue, &ScalarValue),
        b: (&ScalarValue, &ScalarValue),
    ) -> Ordering {
        self.order(a.0, b.0).then_with(|| {
            a.1.partial_cmp(b.1)
                .unwrap_or_else(|| a.1.to_string().cmp(&b.1.to_string()))
        })
    }

    fn add(&mut self, values: &ArrayRef, keys: &ArrayRef) -> Result<()> {
        for i in 0..values.len() {
            if values.is_null(i) {
                continue;
            }
            let mut key = ScalarValue::try_from_array(keys, i)?;
            if keys.data_type() != &self.plain_key {
                key = key.cast_to(&self.plain_key)?;
            }
            let full = self.items.len() >= self.n;
            if full
                && let Some((worst, _)) = self.items.last()
                && self.order(&key, worst) == Ordering::Greater
            {
                continue;
            }
            // A scalar from an array holds on to the whole batch (a string view, all of its
            // buffers): compacted, it keeps only its own bytes.
            let mut value = ScalarValue::try_from_array(values, i)?;
            if values.data_type() != &self.plain_value {
                value = value.cast_to(&self.plain_value)?;
            }
            let value = value.compacted();
            if full
                && let Some((worst_key, worst_value)) = self.items.last()
                && self.order_items((&key, &value), (worst_key, worst_value)) != Ordering::Less
            {
                continue;
            }
            let key = key.compacted();
            let at = self.items.partition_point(|(k, v)| {
                self.order_items((k, v), (&key, &value)) == Ordering::Less
            });
            self.items.insert(at, (key, value));
            self.items.truncate(self.n);
        }
        Ok(())
    }

    fn list(values: Vec<ScalarValue>, t: &DataType) -> Result<ScalarValue> {
        let array = if values.is_empty() {
            arrow::array::new_empty_array(t)
        } else {
            ScalarValue::iter_to_array(values)?
        };
        Ok(ScalarValue::List(Arc::new(
            SingleRowListArrayBuilder::new(array)
                .with_nullable(true)
                .build_list_array(),
        )))
    }
}

impl Accumulator for FirstNAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(&values[0], &values[1])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (values, keys) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for row in 0..values.len() {
            if values.is_null(row) || keys.is_null(row) {
                continue;
            }
            self.add(&values.value(row), &keys.value(row))?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let keys = self.items.iter().map(|(k, _)| k.clone()).collect();
        let values = self.items.iter().map(|(_, v)| v.clone()).collect();
        Ok(vec![
            Self::list(values, &self.plain_value)?,
            Self::list(keys, &self.plain_key)?,
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let values = self.items.iter().map(|(_, v)| v.clone()).collect();
        Self::list(values, &self.plain_value)?.cast_to(&list_of(&self.value_type))
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self
                .items
                .iter()
                .map(|(k, v)| k.size() + v.size())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    async fn one(sql: &str) -> String {
        let ctx = SessionContext::new();
        ctx.register_udaf(super::first_n());
        ctx.register_udaf(super::last_n());
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
    }

    #[tokio::test]
    async fn picks_the_extremes_in_order() {
        let data =
            "(VALUES ('a', 5), ('b', 1), ('c', 9), ('d', 3), (NULL, 0), ('e', NULL)) t(v, k)";
        let out = one(&format!(
            "SELECT first_n(v, k, 3) AS f, last_n(v, k, 2) AS l, first_n(v, k, 10) AS all_of_them FROM {data}"
        ))
        .await;
        assert!(out.contains("[b, d, a]"), "{out}");
        assert!(out.contains("[c, a]"), "{out}");
        assert!(out.contains("[b, d, a, c, e]"), "NULL keys last: {out}");
    }

    #[tokio::test]
    async fn ties_are_broken_by_value() {
        for data in [
            "('z', 1), ('a', 1), ('m', 1)",
            "('m', 1), ('z', 1), ('a', 1)",
        ] {
            let out = one(&format!(
                "SELECT first_n(v, k, 2) AS f FROM (VALUES {data}) t(v, k)"
            ))
            .await;
            assert!(out.contains("[a, m]"), "{out}");
        }
    }

    #[tokio::test]
    async fn per_group_and_with_structs() {
        let out = one(
            "SELECT g, first_n(named_struct('line', k, 'v', v), k, 2) AS e FROM \
             (VALUES (1, 'x', 30), (1, 'y', 10), (2, 'z', 20), (1, 'w', 20)) t(g, v, k) GROUP BY g ORDER BY g",
        )
        .await;
        assert!(
            out.contains("[{line: 10, v: y}, {line: 20, v: w}]"),
            "{out}"
        );
        assert!(out.contains("[{line: 20, v: z}]"), "{out}");
    }

    /// String views in, string views out, through partial and final aggregation over several
    /// partitions and small batches (the states travel as plain strings).
    #[tokio::test]
    async fn views_across_partitions() {
        use datafusion::prelude::SessionConfig;
        let ctx = SessionContext::new_with_config(
            SessionConfig::new()
                .with_target_partitions(4)
                .with_batch_size(7),
        );
        ctx.register_udaf(super::first_n());
        let e = "first_n(named_struct('k', k, 's', arrow_cast(concat('a string longer than twelve bytes ', k), 'Utf8View')), k, 2)";
        let sql = format!(
            "SELECT g, {e} AS e, arrow_typeof({e}) AS t FROM \
             (SELECT value % 3 AS g, value AS k FROM generate_series(1, 1000)) GROUP BY g ORDER BY g"
        );
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let out = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        for expected in [
            "[{k: 3, s: a string longer than twelve bytes 3}, {k: 6, s: a string longer than twelve bytes 6}]",
            "[{k: 1, s: a string longer than twelve bytes 1}, {k: 4, s: a string longer than twelve bytes 4}]",
            "[{k: 2, s: a string longer than twelve bytes 2}, {k: 5, s: a string longer than twelve bytes 5}]",
        ] {
            assert!(out.contains(expected), "{out}");
        }
        assert_eq!(out.matches("Utf8View").count(), 3, "{out}");
    }
}
