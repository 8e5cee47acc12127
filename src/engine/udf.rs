//! Athena functions that AWS's documented queries use and DataFusion lacks.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, TimestampMillisecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::joda::Pattern;
use crate::format::access_log::schema::UTC;

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into()))
}

/// `parse_datetime(value, joda_pattern)`: a string parsed with a Joda-Time pattern, as in
/// Athena. A timestamp is returned as it is (our `requestdatetime` is already one, while in
/// AWS's Athena table it is a string that queries parse), so those queries run unchanged.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ParseDatetime {
    signature: Signature,
}

impl ParseDatetime {
    pub fn new() -> Self {
        ParseDatetime {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for ParseDatetime {
    fn default() -> Self {
        Self::new()
    }
}

pub fn parse_datetime() -> ScalarUDF {
    ScalarUDF::from(ParseDatetime::new())
}

fn is_text(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null
    ) || matches!(t, DataType::Dictionary(_, v) if is_text(v))
}

impl ScalarUDFImpl for ParseDatetime {
    fn name(&self) -> &str {
        "parse_datetime"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let value_ok = is_text(&arg_types[0])
            || matches!(
                arg_types[0],
                DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
            );
        if !value_ok || !is_text(&arg_types[1]) {
            return plan_err!(
                "parse_datetime(value, pattern) takes a string or timestamp and a string pattern, not {} and {}",
                arg_types[0],
                arg_types[1]
            );
        }
        Ok(timestamp_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let [value, pattern] = args.args.as_slice() else {
            return exec_err!("parse_datetime takes two arguments");
        };
        let scalar_input = matches!(value, ColumnarValue::Scalar(_))
            && matches!(pattern, ColumnarValue::Scalar(_));
        let values = value.to_array(rows)?;
        let patterns = pattern.to_array(rows)?;
        let out = if matches!(
            values.data_type(),
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
        ) {
            cast(&values, &timestamp_type())?
        } else {
            parse_strings(
                &cast(&values, &DataType::Utf8)?,
                &cast(&patterns, &DataType::Utf8)?,
            )?
        };
        if scalar_input {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

fn parse_strings(values: &ArrayRef, patterns: &ArrayRef) -> Result<ArrayRef> {
    let values = values.as_string::<i32>();
    let patterns = patterns.as_string::<i32>();
    let mut compiled: Option<(String, Pattern)> = None;
    let mut out = Vec::with_capacity(values.len());
    for i in 0..values.len() {
        if values.is_null(i) || patterns.is_null(i) {
            out.push(None);
            continue;
        }
        let text = patterns.value(i);
        if compiled.as_ref().is_none_or(|(p, _)| p != text) {
            let pattern =
                Pattern::compile(text).map_err(datafusion::error::DataFusionError::Execution)?;
            compiled = Some((text.to_string(), pattern));
        }
        let Some((_, pattern)) = &compiled else {
            unreachable!("compiled above")
        };
        match pattern.parse(values.value(i)) {
            Some(ms) => out.push(Some(ms)),
            None => {
                return exec_err!(
                    "parse_datetime: '{}' does not match the pattern '{}'",
                    values.value(i),
                    text
                );
            }
        }
    }
    Ok(Arc::new(
        TimestampMillisecondArray::from(out).with_timezone(UTC),
    ))
}
