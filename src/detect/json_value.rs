//! Helpers for the JSON values of CloudTrail's request parameters.

use serde_json::Value;

/// A JSON value as a list: an array's items, nothing for null, else the value alone (IAM and
/// S3 write one item or a list of them interchangeably).
pub fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}
