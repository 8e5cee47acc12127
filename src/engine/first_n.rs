//! `first_n(value, key, n)` and `last_n(value, key, n)`: the `n` values with the smallest
//! (largest) `key`, in that order, as a list; NULL values are skipped.
//!
//! They do what `array_slice(array_agg(value ORDER BY key), 1, n)` does, in memory bounded by
//! `n` per group. DataFusion 55's order-sensitive `array_agg` keeps and re-sorts every value
//! of a group, which on a week of logs made single detections take minutes; the detections
//! pick their evidence rows with these instead.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::compute::{SortOptions, cast};
use arrow::datatypes::{DataType, Field, FieldRef};
use arrow::row::{RowConverter, SortField};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
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

    /// A list of the values in their plain types (see [`plain`]): a list of string views made
    /// group by group holds a buffer per group, and every later slice or gather of the column
    /// clones the list of all of them (a join over 85 K groups' evidence took minutes).
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(list_of(&plain(&arg_types[0])))
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

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let n = self.n(&args)?;
        Ok(Box::new(FirstNGroups::new(
            n,
            self.descending,
            plain(args.expr_fields[0].data_type()),
            plain(args.expr_fields[1].data_type()),
        )?))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let n = self.n(&args)?;
        Ok(Box::new(FirstNAccumulator {
            n,
            descending: self.descending,
            plain_value: plain(args.expr_fields[0].data_type()),
            plain_key: plain(args.expr_fields[1].data_type()),
            converter: None,
            items: Vec::new(),
        }))
    }
}

impl FirstN {
    /// The third argument: how many values (a positive literal; at most 10,000).
    fn n(&self, args: &AccumulatorArgs) -> Result<usize> {
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
        Ok(n.min(10_000))
    }
}

/// The row format of (key, value) pairs: by key (descending for `last_n`, NULL keys last),
/// then by value, so that the result does not depend on the order in which partitions deliver
/// rows.
fn pair_converter(key: &DataType, value: &DataType, descending: bool) -> Result<RowConverter> {
    Ok(RowConverter::new(vec![
        SortField::new_with_options(
            key.clone(),
            SortOptions {
                descending,
                nulls_first: false,
            },
        ),
        SortField::new(value.clone()),
    ])?)
}

/// `array` in type `t` (a cast only when it is another type).
fn as_type(array: &ArrayRef, t: &DataType) -> Result<ArrayRef> {
    Ok(if array.data_type() == t {
        Arc::clone(array)
    } else {
        cast(array, t)?
    })
}

/// A list array of `child`'s values cut at `offsets`.
fn list_array(child: ArrayRef, t: &DataType, offsets: &[i32]) -> Result<ArrayRef> {
    Ok(Arc::new(arrow::array::ListArray::try_new(
        Arc::new(Field::new_list_field(t.clone(), true)),
        arrow::buffer::OffsetBuffer::new(offsets.to_vec().into()),
        child,
        None,
    )?))
}

/// Keeps row `i` of `keys`/`values` (whose row-format bytes are `sort`) among `items`, the best
/// `n` so far in output order, if it belongs there.
fn offer(
    items: &mut Vec<Item>,
    n: usize,
    sort: &[u8],
    keys: &ArrayRef,
    values: &ArrayRef,
    i: usize,
) -> Result<()> {
    if items.len() >= n
        && items
            .last()
            .is_some_and(|worst| sort >= worst.sort.as_slice())
    {
        return Ok(());
    }
    // A scalar from an array holds on to the whole batch (a string view, all of its buffers):
    // compacted, it keeps only its own bytes.
    let key = ScalarValue::try_from_array(keys, i)?.compacted();
    let value = ScalarValue::try_from_array(values, i)?.compacted();
    let at = items.partition_point(|it| it.sort.as_slice() < sort);
    items.insert(
        at,
        Item {
            sort: sort.to_vec(),
            key,
            value,
        },
    );
    items.truncate(n);
    Ok(())
}

/// `first_n`/`last_n` for every group of an aggregation at once: one row-format conversion per
/// batch, then per row a comparison of bytes against its group's worst kept value; what is
/// kept are references into the batches (a gather builds the lists once, at the end). The
/// per-group accumulator made a converter, a conversion and scalars per group and value, which
/// over 300 K groups of one or two rows each took most of a detection's time.
struct FirstNGroups {
    n: usize,
    plain_value: DataType,
    plain_key: DataType,
    converter: RowConverter,
    /// The batches rows are kept from: (values, keys), in the plain types.
    batches: Vec<(ArrayRef, ArrayRef)>,
    /// Rows the batches hold in all, and rows kept (to know when to compact).
    stored_rows: usize,
    /// Per group, the rows kept, best first.
    groups: Vec<Vec<Kept>>,
}

/// A row kept: its sort bytes and where it is.
struct Kept {
    sort: Box<[u8]>,
    batch: u32,
    row: u32,
}

impl FirstNGroups {
    fn new(n: usize, descending: bool, plain_value: DataType, plain_key: DataType) -> Result<Self> {
        Ok(FirstNGroups {
            n,
            converter: pair_converter(&plain_key, &plain_value, descending)?,
            plain_value,
            plain_key,
            batches: Vec::new(),
            stored_rows: 0,
            groups: Vec::new(),
        })
    }

    /// Offers rows of the batch just stored (`rows`: their sort bytes) to their groups.
    fn offer_rows(&mut self, rows: &arrow::row::Rows, picks: impl Iterator<Item = (usize, usize)>) {
        let batch = (self.batches.len() - 1) as u32;
        for (i, g) in picks {
            let sort = rows.row(i);
            let sort = sort.as_ref();
            let items = &mut self.groups[g];
            if items.len() >= self.n && items.last().is_some_and(|worst| sort >= &*worst.sort) {
                continue;
            }
            let at = items.partition_point(|it| &*it.sort < sort);
            items.insert(
                at,
                Kept {
                    sort: sort.into(),
                    batch,
                    row: i as u32,
                },
            );
            items.truncate(self.n);
        }
    }

    /// Stores a batch's values and keys (for the rows offered from it).
    fn store(&mut self, values: ArrayRef, keys: ArrayRef) {
        self.stored_rows += values.len();
        self.batches.push((values, keys));
    }

    /// The kept rows of `groups` gathered into two list arrays (values, keys).
    fn gather(&self, groups: &[Vec<Kept>]) -> Result<(ArrayRef, ArrayRef)> {
        let mut offsets = Vec::with_capacity(groups.len() + 1);
        offsets.push(0i32);
        let mut at = Vec::new();
        for items in groups {
            at.extend(items.iter().map(|k| (k.batch as usize, k.row as usize)));
            offsets.push(at.len() as i32);
        }
        let pick = |column: usize, t: &DataType| -> Result<ArrayRef> {
            if at.is_empty() {
                return Ok(arrow::array::new_empty_array(t));
            }
            let arrays: Vec<&dyn Array> = self
                .batches
                .iter()
                .map(|(v, k)| if column == 0 { v.as_ref() } else { k.as_ref() })
                .collect();
            Ok(arrow::compute::interleave(&arrays, &at)?)
        };
        let list = |child: ArrayRef, t: &DataType| list_array(child, t, &offsets);
        Ok((
            list(pick(0, &self.plain_value)?, &self.plain_value)?,
            list(pick(1, &self.plain_key)?, &self.plain_key)?,
        ))
    }

    /// When the batches hold many more rows than are kept: the kept rows gathered into one
    /// batch, so memory follows what is kept rather than what passed.
    fn compact(&mut self) -> Result<()> {
        let kept: usize = self.groups.iter().map(Vec::len).sum();
        if self.batches.len() < 8 || self.stored_rows < 2 * kept.max(4096) {
            return Ok(());
        }
        let (values, keys) = self.gather(&self.groups)?;
        let (values, keys) = (values.as_list::<i32>(), keys.as_list::<i32>());
        let mut row = 0u32;
        for items in &mut self.groups {
            for k in items.iter_mut() {
                k.batch = 0;
                k.row = row;
                row += 1;
            }
        }
        self.batches = vec![(Arc::clone(values.values()), Arc::clone(keys.values()))];
        self.stored_rows = row as usize;
        Ok(())
    }

    fn take(&mut self, emit_to: EmitTo) -> Vec<Vec<Kept>> {
        emit_to.take_needed(&mut self.groups)
    }
}

impl GroupsAccumulator for FirstNGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let vals = as_type(&values[0], &self.plain_value)?;
        let keys = as_type(&values[1], &self.plain_key)?;
        let rows = self
            .converter
            .convert_columns(&[Arc::clone(&keys), Arc::clone(&vals)])?;
        self.store(Arc::clone(&vals), keys);
        let picks = group_indices.iter().copied().enumerate().filter(|&(i, _)| {
            !vals.is_null(i) && opt_filter.is_none_or(|f| f.is_valid(i) && f.value(i))
        });
        self.offer_rows(&rows, picks);
        self.compact()
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.take(emit_to);
        let (values, _) = self.gather(&groups)?;
        if self.groups.is_empty() {
            self.batches.clear();
            self.stored_rows = 0;
        }
        Ok(values)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
        let (values, keys) = self.gather(&groups)?;
        if self.groups.is_empty() {
            self.batches.clear();
            self.stored_rows = 0;
        }
        Ok(vec![values, keys])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let (vals, keys) = (values[0].as_list::<i32>(), values[1].as_list::<i32>());
        // A state batch is often a slice of a larger one, whose list children are the whole
        // (every slice shares them): only this slice's part is kept, copied, so that memory
        // (and what the pool is told) follows this batch rather than every batch it came with.
        let offsets = vals.value_offsets();
        let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
        let key_offsets = keys.value_offsets();
        if key_offsets[0] as usize != first || key_offsets[key_offsets.len() - 1] as usize != last {
            return datafusion::common::internal_err!(
                "first_n: a state whose keys and values do not line up"
            );
        }
        let own = |child: &ArrayRef, t: &DataType| -> Result<ArrayRef> {
            let part = child.slice(first, last - first);
            let part = as_type(&part, t)?;
            Ok(arrow::compute::concat(&[part.as_ref()])?)
        };
        let (child_values, child_keys) = (
            own(vals.values(), &self.plain_value)?,
            own(keys.values(), &self.plain_key)?,
        );
        let rows = self
            .converter
            .convert_columns(&[Arc::clone(&child_keys), Arc::clone(&child_values)])?;
        let mut picks = Vec::new();
        for (row, &g) in group_indices.iter().enumerate() {
            if vals.is_null(row) || keys.is_null(row) {
                continue;
            }
            for j in offsets[row] as usize - first..offsets[row + 1] as usize - first {
                if !child_values.is_null(j) {
                    picks.push((j, g));
                }
            }
        }
        self.store(child_values, child_keys);
        self.offer_rows(&rows, picks.into_iter());
        self.compact()
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        // Each row its own group: a list of its value (none when it is NULL or filtered out).
        let vals = as_type(&values[0], &self.plain_value)?;
        let keys = as_type(&values[1], &self.plain_key)?;
        let mut offsets = Vec::with_capacity(vals.len() + 1);
        offsets.push(0i32);
        let mut kept = Vec::with_capacity(vals.len());
        for i in 0..vals.len() {
            let keep = !vals.is_null(i) && opt_filter.is_none_or(|f| f.is_valid(i) && f.value(i));
            if keep {
                kept.push(i as u64);
            }
            offsets.push(kept.len() as i32);
        }
        let indices = arrow::array::UInt64Array::from(kept);
        let list = |child: ArrayRef, t: &DataType| list_array(child, t, &offsets);
        Ok(vec![
            list(
                arrow::compute::take(&vals, &indices, None)?,
                &self.plain_value,
            )?,
            list(
                arrow::compute::take(&keys, &indices, None)?,
                &self.plain_key,
            )?,
        ])
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self.groups.capacity() * size_of::<Vec<Kept>>()
            + self
                .groups
                .iter()
                .map(|g| {
                    g.capacity() * size_of::<Kept>() + g.iter().map(|k| k.sort.len()).sum::<usize>()
                })
                .sum::<usize>()
            + self
                .batches
                .iter()
                .map(|(v, k)| v.get_array_memory_size() + k.get_array_memory_size())
                .sum::<usize>()
    }
}

#[derive(Debug)]
struct FirstNAccumulator {
    n: usize,
    descending: bool,
    /// The types values and keys are kept in (see [`plain`]).
    plain_value: DataType,
    plain_key: DataType,
    /// Turns (key, value) pairs into bytes that sort in output order (made on first use).
    converter: Option<RowConverter>,
    /// Kept in output order: best first.
    items: Vec<Item>,
}

/// A value kept, with its key and the bytes that place it.
#[derive(Debug)]
struct Item {
    /// The row-format bytes of (key, value): the output order is their order.
    sort: Vec<u8>,
    key: ScalarValue,
    value: ScalarValue,
}

impl FirstNAccumulator {
    /// The converter of (key, value) pairs ([`pair_converter`]), made on first use.
    fn converter(&mut self) -> Result<&RowConverter> {
        if self.converter.is_none() {
            self.converter = Some(pair_converter(
                &self.plain_key,
                &self.plain_value,
                self.descending,
            )?);
        }
        Ok(self.converter.as_ref().expect("made above"))
    }

    /// Takes the rows of `values` (and their `keys`) that belong among the first `n`. Each row
    /// is placed by comparing bytes (the arrow row format): a row that does not make it costs a
    /// comparison, and only the rows kept become scalars.
    fn add(&mut self, values: &ArrayRef, keys: &ArrayRef) -> Result<()> {
        let values = if values.data_type() == &self.plain_value {
            Arc::clone(values)
        } else {
            cast(values, &self.plain_value)?
        };
        let keys = if keys.data_type() == &self.plain_key {
            Arc::clone(keys)
        } else {
            cast(keys, &self.plain_key)?
        };
        let rows = self
            .converter()?
            .convert_columns(&[Arc::clone(&keys), Arc::clone(&values)])?;
        for i in 0..values.len() {
            if values.is_null(i) {
                continue;
            }
            offer(
                &mut self.items,
                self.n,
                rows.row(i).as_ref(),
                &keys,
                &values,
                i,
            )?;
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
        let keys = self.items.iter().map(|it| it.key.clone()).collect();
        let values = self.items.iter().map(|it| it.value.clone()).collect();
        Ok(vec![
            Self::list(values, &self.plain_value)?,
            Self::list(keys, &self.plain_key)?,
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let values = self.items.iter().map(|it| it.value.clone()).collect();
        Self::list(values, &self.plain_value)
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self
                .items
                .iter()
                .map(|it| it.sort.capacity() + it.key.size() + it.value.size())
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

    /// String views in, plain strings out (see `return_type`), through partial and final
    /// aggregation over several partitions and small batches.
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
        assert_eq!(out.matches("Utf8View").count(), 0, "{out}");
        assert_eq!(out.matches("\"s\": Utf8)").count(), 3, "{out}");
    }
}
