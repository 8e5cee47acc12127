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

/// The arguments of a string function as `Utf8` arrays of the batch's rows, and whether they
/// were all scalars (the result is then a scalar too).
pub(crate) fn text_arguments(args: &ScalarFunctionArgs) -> Result<(Vec<ArrayRef>, bool)> {
    let scalar_input = args
        .args
        .iter()
        .all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let arrays = args
        .args
        .iter()
        .map(|a| Ok(cast(&a.to_array(args.number_rows)?, &DataType::Utf8)?))
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok((arrays, scalar_input))
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

/// `from_iso8601_timestamp(value)`: an ISO-8601 string as a UTC timestamp (a timestamp is
/// returned as it is, since our `eventtime` already is one while Athena's is a string).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FromIso8601 {
    signature: Signature,
}

pub fn from_iso8601_timestamp() -> ScalarUDF {
    ScalarUDF::from(FromIso8601 {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

impl ScalarUDFImpl for FromIso8601 {
    fn name(&self) -> &str {
        "from_iso8601_timestamp"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if !is_text(&arg_types[0]) && !matches!(arg_types[0], DataType::Timestamp(..)) {
            return plan_err!(
                "from_iso8601_timestamp takes a string or a timestamp, not {}",
                arg_types[0]
            );
        }
        Ok(timestamp_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let values = args.args[0].to_array(rows)?;
        let out: ArrayRef = if matches!(values.data_type(), DataType::Timestamp(..)) {
            cast(&values, &timestamp_type())?
        } else {
            let strings = cast(&values, &DataType::Utf8)?;
            let strings = strings.as_string::<i32>();
            let mut out = Vec::with_capacity(strings.len());
            for i in 0..strings.len() {
                if strings.is_null(i) {
                    out.push(None);
                    continue;
                }
                match crate::format::cloudtrail::json::iso_time(strings.value(i)) {
                    Some(ms) => out.push(Some(ms)),
                    None => {
                        return exec_err!(
                            "from_iso8601_timestamp: '{}' is not an ISO-8601 time",
                            strings.value(i)
                        );
                    }
                }
            }
            Arc::new(TimestampMillisecondArray::from(out).with_timezone(UTC))
        };
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// `json_extract_scalar(json, '$.path')` and `json_extract(json, '$.path')` with Athena's
/// (Presto's) meaning: the first gives a scalar as text (NULL for objects, arrays and JSON
/// null), the second the JSON text of whatever is there. Invalid JSON or a missing path is
/// NULL. Paths: `$`, `.key`, `["key"]`, `['key']`, `[index]`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonExtract {
    signature: Signature,
    scalar: bool,
}

pub fn json_extract_scalar() -> ScalarUDF {
    ScalarUDF::from(JsonExtract {
        signature: Signature::any(2, Volatility::Immutable),
        scalar: true,
    })
}

pub fn json_extract() -> ScalarUDF {
    ScalarUDF::from(JsonExtract {
        signature: Signature::any(2, Volatility::Immutable),
        scalar: false,
    })
}

impl ScalarUDFImpl for JsonExtract {
    fn name(&self) -> &str {
        if self.scalar {
            "json_extract_scalar"
        } else {
            "json_extract"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if !is_text(&arg_types[0]) || !is_text(&arg_types[1]) {
            return plan_err!(
                "{}(json, path) takes two strings, not {} and {}",
                self.name(),
                arg_types[0],
                arg_types[1]
            );
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (arrays, scalar_input) = text_arguments(&args)?;
        let (docs, paths) = (arrays[0].as_string::<i32>(), arrays[1].as_string::<i32>());
        let mut compiled: Option<(String, Vec<Step>)> = None;
        let mut out = arrow::array::StringBuilder::with_capacity(docs.len(), docs.len() * 16);
        for i in 0..docs.len() {
            if docs.is_null(i) || paths.is_null(i) {
                out.append_null();
                continue;
            }
            let path = paths.value(i);
            if compiled.as_ref().is_none_or(|(p, _)| p != path) {
                let steps =
                    parse_json_path(path).map_err(datafusion::error::DataFusionError::Execution)?;
                compiled = Some((path.to_string(), steps));
            }
            let Some((_, steps)) = &compiled else {
                unreachable!("compiled above")
            };
            out.append_option(extract(docs.value(i), steps, self.scalar));
        }
        let out: ArrayRef = Arc::new(out.finish());
        if scalar_input {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_json_path(path: &str) -> std::result::Result<Vec<Step>, String> {
    let bad = || format!("invalid JSON path '{path}'");
    let mut rest = path.trim().strip_prefix('$').ok_or_else(bad)?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(bad());
            }
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let r = r.trim_start();
            if let Some(q) = r.chars().next().filter(|c| *c == '"' || *c == '\'') {
                let body = &r[1..];
                let end = body.find(q).ok_or_else(bad)?;
                steps.push(Step::Key(body[..end].to_string()));
                rest = body[end + 1..]
                    .trim_start()
                    .strip_prefix(']')
                    .ok_or_else(bad)?;
            } else {
                let end = r.find(']').ok_or_else(bad)?;
                steps.push(Step::Index(r[..end].trim().parse().map_err(|_| bad())?));
                rest = &r[end + 1..];
            }
        } else {
            return Err(bad());
        }
    }
    Ok(steps)
}

fn extract(doc: &str, steps: &[Step], scalar: bool) -> Option<String> {
    use serde_json::value::RawValue;
    let mut value: &str = serde_json::from_str::<&RawValue>(doc).ok()?.get();
    for step in steps {
        value = match step {
            Step::Key(key) => crate::format::cloudtrail::json::exact_key(value, key)?,
            Step::Index(i) => *crate::format::cloudtrail::json::elements(value)?.get(*i)?,
        };
    }
    let text = value;
    match text.as_bytes().first()? {
        b'{' | b'[' if scalar => None,
        b'n' => None,
        b'"' if scalar => serde_json::from_str::<String>(text).ok(),
        _ => Some(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        let doc = r#"{"bucketName":"b","Host":["h1","h2"],"x-amz-acl":"private","n":3,"o":{"k":null,"t":true},"q":"a\"b"}"#;
        let get = |p: &str, s: bool| extract(doc, &parse_json_path(p).unwrap(), s);
        assert_eq!(get("$.bucketName", true).as_deref(), Some("b"));
        assert_eq!(get("$.bucketname", true), None, "paths are case-sensitive");
        assert_eq!(get("$.Host[1]", true).as_deref(), Some("h2"));
        assert_eq!(get("$.Host", true), None);
        assert_eq!(get("$.Host", false).as_deref(), Some(r#"["h1","h2"]"#));
        assert_eq!(get("$[\"x-amz-acl\"]", true).as_deref(), Some("private"));
        assert_eq!(get("$['x-amz-acl']", true).as_deref(), Some("private"));
        assert_eq!(get("$.n", true).as_deref(), Some("3"));
        assert_eq!(get("$.o.t", true).as_deref(), Some("true"));
        assert_eq!(get("$.o.k", true), None);
        assert_eq!(get("$.q", true).as_deref(), Some("a\"b"));
        assert_eq!(get("$.q", false).as_deref(), Some(r#""a\"b""#));
        assert_eq!(get("$.missing.deeper", true), None);
        assert!(parse_json_path("bucketName").is_err());
        assert!(parse_json_path("$.").is_err());
        assert_eq!(
            extract("not json", &parse_json_path("$.a").unwrap(), true),
            None
        );
    }
}

/// `replace(string, search[, replacement])`: Presto's two-argument form removes `search`
/// (AWS's CloudTrail queries use it to strip `arn:aws:s3:::`); the three-argument form is the
/// usual one.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Replace {
    signature: Signature,
}

pub fn replace() -> ScalarUDF {
    ScalarUDF::from(Replace {
        signature: Signature::variadic_any(Volatility::Immutable),
    })
}

impl ScalarUDFImpl for Replace {
    fn name(&self) -> &str {
        "replace"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if !(2..=3).contains(&arg_types.len()) || !arg_types.iter().all(is_text) {
            return plan_err!("replace takes two or three strings");
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let (arrays, scalar_input) = text_arguments(&args)?;
        let strings: Vec<&arrow::array::StringArray> =
            arrays.iter().map(|a| a.as_string::<i32>()).collect();
        let mut out = arrow::array::StringBuilder::new();
        for i in 0..rows {
            if strings.iter().any(|s| s.is_null(i)) {
                out.append_null();
                continue;
            }
            let with = strings.get(2).map_or("", |s| s.value(i));
            out.append_value(strings[0].value(i).replace(strings[1].value(i), with));
        }
        let out: ArrayRef = Arc::new(out.finish());
        if scalar_input {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}
