//! The `rejects` table: every line (or object) that could not be read as records, with the
//! object, line number, byte offset, reason and raw text, so nothing is lost silently.

use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringViewArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;

use super::Reject;

pub const COLUMNS: &[(&str, &str)] = &[
    ("log_object", "Local path or URL of the object"),
    (
        "log_line",
        "1-based line number in the decompressed object (0: the object as a whole)",
    ),
    (
        "byte_offset",
        "Byte offset of the line in the decompressed object",
    ),
    (
        "log_kind",
        "What the object was read as (access_log, cloudtrail, …)",
    ),
    ("reason", "Why the line is not a record"),
    (
        "raw_line",
        "The line as read (invalid UTF-8 replaced; cut at 16 KiB)",
    ),
];

pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("log_object", DataType::Utf8View, false),
                Field::new("log_line", DataType::Int64, false),
                Field::new("byte_offset", DataType::Int64, false),
                Field::new("log_kind", DataType::Utf8View, false),
                Field::new("reason", DataType::Utf8View, false),
                Field::new("raw_line", DataType::Utf8View, false),
            ]))
        })
        .clone()
}

/// The rejects of one object as a batch of [`schema()`].
pub fn to_batch(object: &str, kind: &str, rejects: &[Reject]) -> Result<RecordBatch, ArrowError> {
    let n = rejects.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringViewArray::from_iter_values(std::iter::repeat_n(
            object, n,
        ))),
        Arc::new(Int64Array::from_iter_values(
            rejects.iter().map(|r| r.line as i64),
        )),
        Arc::new(Int64Array::from_iter_values(
            rejects.iter().map(|r| r.byte_offset as i64),
        )),
        Arc::new(StringViewArray::from_iter_values(std::iter::repeat_n(
            kind, n,
        ))),
        Arc::new(StringViewArray::from_iter_values(
            rejects.iter().map(|r| r.reason.as_str()),
        )),
        Arc::new(StringViewArray::from_iter_values(
            rejects.iter().map(|r| r.raw.as_str()),
        )),
    ];
    RecordBatch::try_new(schema(), columns)
}
