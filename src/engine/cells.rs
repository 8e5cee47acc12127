//! Query results read cell by cell, straight from the Arrow arrays: a batch's columns found
//! by name, each cell as text, as an integer or as a JSON value (for what a report shows
//! verbatim), with no JSON text written and parsed back on the way.
//!
//! In: a [`RecordBatch`] and a row. Out: the cell's value, or a [`CellError`] that says which
//! column held what instead.
//!
//! The values are those the Arrow JSON writer gives: numbers and booleans as themselves,
//! times and dates in Arrow's display form, structs as objects (NULL fields included), lists
//! as arrays.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

/// A cell that is not what its column is read as.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column `{column}`: {problem}")]
pub struct CellError {
    pub column: String,
    pub problem: String,
}

/// A batch's columns by name.
pub struct Columns<'a> {
    batch: &'a RecordBatch,
}

impl<'a> Columns<'a> {
    pub fn new(batch: &'a RecordBatch) -> Self {
        Columns { batch }
    }

    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// The column called `name`, if the batch has one.
    pub fn get(&self, name: &str) -> Option<&'a dyn Array> {
        self.batch.column_by_name(name).map(|c| c.as_ref())
    }

    /// The names of the columns, in order.
    pub fn names(&self) -> impl Iterator<Item = &'a str> {
        self.batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
    }

    /// Column `name` at `row` as text (`None`: no such column, or NULL).
    pub fn text(&self, name: &str, row: usize) -> Result<Option<String>, CellError> {
        match self.get(name) {
            None => Ok(None),
            Some(a) => text(a, row).map_err(|p| at(name, p)),
        }
    }

    /// Column `name` at `row` as an integer (`None`: no such column, or NULL).
    pub fn integer(&self, name: &str, row: usize) -> Result<Option<i64>, CellError> {
        match self.get(name) {
            None => Ok(None),
            Some(a) => integer(a, row).map_err(|p| at(name, p)),
        }
    }

    /// Column `name` at `row` as a JSON value (`Null`: no such column, or NULL).
    pub fn json(&self, name: &str, row: usize) -> Result<Value, CellError> {
        match self.get(name) {
            None => Ok(Value::Null),
            Some(a) => json(a, row).map_err(|p| at(name, p)),
        }
    }
}

fn at(column: &str, problem: String) -> CellError {
    CellError {
        column: column.to_string(),
        problem,
    }
}

/// A cell as text: strings as they are, anything else as its JSON value's text (`3`, `true`,
/// a time's display form).
pub fn text(array: &dyn Array, row: usize) -> Result<Option<String>, String> {
    if is_null(array, row) {
        return Ok(None);
    }
    match array.data_type() {
        DataType::Utf8 => Ok(Some(array.as_string::<i32>().value(row).to_string())),
        DataType::LargeUtf8 => Ok(Some(array.as_string::<i64>().value(row).to_string())),
        DataType::Utf8View => Ok(Some(array.as_string_view().value(row).to_string())),
        _ => Ok(match json(array, row)? {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }),
    }
}

/// A cell as an integer: any integer type, a float or decimal with no fraction, or a string of
/// digits; anything else is an error that shows the value.
pub fn integer(array: &dyn Array, row: usize) -> Result<Option<i64>, String> {
    match json(array, row)? {
        Value::Null => Ok(None),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(v), _) => Ok(Some(v)),
            (None, Some(v)) if n.is_f64() && v.fract() == 0.0 && v.abs() < 9.0e18 => {
                Ok(Some(v as i64))
            }
            (None, Some(v)) if n.is_f64() => Err(format!("{v} is not a whole number")),
            _ => Err(format!("{n} does not fit a 64-bit integer")),
        },
        Value::String(t) => t
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("'{t}' is not an integer")),
        other => Err(format!("{other} is not an integer")),
    }
}

/// A cell as a JSON value.
pub fn json(array: &dyn Array, row: usize) -> Result<Value, String> {
    if is_null(array, row) {
        return Ok(Value::Null);
    }
    macro_rules! number {
        ($t:ty) => {
            Value::Number(Number::from(array.as_primitive::<$t>().value(row)))
        };
    }
    let float = |v: f64| Number::from_f64(v).map_or(Value::Null, Value::Number);
    Ok(match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => number!(Int8Type),
        DataType::Int16 => number!(Int16Type),
        DataType::Int32 => number!(Int32Type),
        DataType::Int64 => number!(Int64Type),
        DataType::UInt8 => number!(UInt8Type),
        DataType::UInt16 => number!(UInt16Type),
        DataType::UInt32 => number!(UInt32Type),
        DataType::UInt64 => number!(UInt64Type),
        DataType::Float16 => float(f64::from(array.as_primitive::<Float16Type>().value(row))),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            Value::String(text(array, row)?.unwrap_or_default())
        }
        DataType::List(_) => list(array.as_list::<i32>().value(row).as_ref())?,
        DataType::LargeList(_) => list(array.as_list::<i64>().value(row).as_ref())?,
        DataType::FixedSizeList(_, _) => list(array.as_fixed_size_list().value(row).as_ref())?,
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut object = Map::new();
            for (field, column) in fields.iter().zip(s.columns()) {
                object.insert(field.name().clone(), json(column.as_ref(), row)?);
            }
            Value::Object(object)
        }
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => {
            let shown = display(array, row)?;
            shown
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map_or(Value::String(shown), Value::Number)
        }
        _ => Value::String(display(array, row)?),
    })
}

/// NULL, also in a column of type Null (which has no validity buffer to ask).
fn is_null(array: &dyn Array, row: usize) -> bool {
    array.data_type() == &DataType::Null || array.is_null(row)
}

fn list(items: &dyn Array) -> Result<Value, String> {
    (0..items.len())
        .map(|i| json(items, i))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// Arrow's display form of a cell (times, dates, intervals, binary as hex, …).
fn display(array: &dyn Array, row: usize) -> Result<String, String> {
    let options = FormatOptions::new().with_display_error(true);
    let formatter = ArrayFormatter::try_new(array, &options).map_err(|e| e.to_string())?;
    Ok(formatter.value(row).to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, Float64Array, Int64Array, ListArray, StringArray, StructArray,
        TimestampMillisecondArray,
    };
    use arrow::datatypes::{Field, Fields, Int32Type};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    #[test]
    fn cells_read_as_the_json_writer_shows_them() {
        let b = batch(vec![
            (
                "s",
                Arc::new(StringArray::from(vec![Some("a\"b"), None])) as ArrayRef,
            ),
            ("n", Arc::new(Int64Array::from(vec![Some(3), Some(-1)]))),
            (
                "f",
                Arc::new(Float64Array::from(vec![Some(2.0), Some(2.5)])),
            ),
            (
                "t",
                Arc::new(TimestampMillisecondArray::from(vec![
                    Some(1_762_000_000_123),
                    None,
                ])),
            ),
        ]);
        let c = Columns::new(&b);
        assert_eq!(c.text("s", 0).unwrap().as_deref(), Some("a\"b"));
        assert_eq!(c.text("s", 1).unwrap(), None);
        assert_eq!(c.text("absent", 0).unwrap(), None);
        assert_eq!(c.text("n", 0).unwrap().as_deref(), Some("3"));
        assert_eq!(c.text("f", 0).unwrap().as_deref(), Some("2.0"));
        assert_eq!(
            c.text("t", 0).unwrap().as_deref(),
            Some("2025-11-01T12:26:40.123")
        );
        assert_eq!(c.json("t", 1).unwrap(), Value::Null);
        assert_eq!(c.integer("n", 1).unwrap(), Some(-1));
        assert_eq!(c.integer("f", 0).unwrap(), Some(2));
        let e = c.integer("f", 1).unwrap_err();
        assert_eq!(e.column, "f");
        assert!(e.problem.contains("2.5"), "{e}");
        assert!(c.integer("s", 0).is_err());
    }

    #[test]
    fn lists_of_structs_are_arrays_of_objects_with_their_nulls() {
        let fields = Fields::from(vec![
            Field::new("log_object", DataType::Utf8, true),
            Field::new("log_line", DataType::Int64, true),
        ]);
        let structs = StructArray::new(
            fields.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("o1"), None])) as ArrayRef,
                Arc::new(Int64Array::from(vec![Some(7), Some(8)])),
            ],
            None,
        );
        let item = Arc::new(Field::new("item", DataType::Struct(fields), true));
        let list = ListArray::new(
            item,
            arrow::buffer::OffsetBuffer::from_lengths([2]),
            Arc::new(structs),
            None,
        );
        let ints = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]);
        let b = batch(vec![
            ("evidence", Arc::new(list) as ArrayRef),
            ("ints", Arc::new(ints)),
        ]);
        let c = Columns::new(&b);
        assert_eq!(
            c.json("evidence", 0).unwrap(),
            serde_json::json!([
                {"log_object": "o1", "log_line": 7},
                {"log_object": null, "log_line": 8}
            ])
        );
        assert_eq!(c.text("ints", 0).unwrap().as_deref(), Some("[1]"));
    }
}
