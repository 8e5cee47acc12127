//! CloudTrail records in, Arrow record batches out.
//!
//! [`CloudTrailDecoder`] receives one record at a time (as the raw JSON text it occupies in
//! the object, see [`super::shapes`]), reads the keys the projected columns need with
//! [`json::slots`], and appends to builders shaped like the schema tree. Free-form objects
//! (`requestParameters`, …) are copied as the JSON text they are, never re-serialized.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, Int64Builder, ListArray, NullBufferBuilder, RecordBatch, RecordBatchOptions,
    StringViewArray, StringViewBuilder, StructArray, TimestampMillisecondBuilder, UInt32Array,
};
use arrow::buffer::{Buffer, OffsetBuffer};
use arrow::datatypes::{Fields, SchemaRef};
use arrow::error::ArrowError;

use super::json::{self, KeyIndex, flag, integer, iso_time, slots, text};
use super::lexer::{self, Lexer};
use super::schema::{Column, Kind, Node, RECORD, columns, schema, struct_fields};
use crate::format::access_log::schema::UTC;
use crate::format::time::format_day_slashed;

/// The text an object's records are read from, as an Arrow buffer: a string value that is a
/// slice of it becomes a view into it (no copy).
#[derive(Default)]
pub struct Source {
    buffer: Option<Buffer>,
}

impl Source {
    fn new(text: Buffer) -> Self {
        // Views address a buffer with 32-bit offsets.
        Source {
            buffer: (text.len() < u32::MAX as usize).then_some(text),
        }
    }

    /// Where `s` is in the buffer, if it is a slice of it.
    #[inline]
    fn locate(&self, s: &str) -> Option<(&Buffer, u32)> {
        let buffer = self.buffer.as_ref()?;
        let at = (s.as_ptr() as usize).checked_sub(buffer.as_ptr() as usize)?;
        (at + s.len() <= buffer.len()).then_some((buffer, at as u32))
    }
}

/// A string column whose values point into the object's text where they can (values longer
/// than a view holds inline, taken as they are written), and are copied otherwise (escaped
/// strings, values the decoder makes up).
struct TextBuilder {
    b: StringViewBuilder,
    /// The object's text as a block of the batch being built, once a value points into it.
    block: Option<u32>,
}

impl TextBuilder {
    fn new() -> Self {
        TextBuilder {
            b: StringViewBuilder::new(),
            block: None,
        }
    }

    #[inline]
    fn append(&mut self, value: Option<Cow<'_, str>>, source: &Source) {
        match value {
            Some(Cow::Borrowed(s)) => match source.locate(s) {
                Some((buffer, offset)) if s.len() > 12 => {
                    let block = match self.block {
                        Some(block) => block,
                        None => *self.block.insert(self.b.append_block(buffer.clone())),
                    };
                    // SAFETY: `block` was added with `append_block` for this batch (it is
                    // forgotten at `finish`); `offset..offset + len` lies inside it (`locate`
                    // checked); the bytes are a `&str`, so valid UTF-8.
                    unsafe { self.b.append_view_unchecked(block, offset, s.len() as u32) }
                }
                _ => self.b.append_value(s),
            },
            Some(Cow::Owned(s)) => self.b.append_value(s),
            None => self.b.append_null(),
        }
    }

    fn finish(&mut self) -> StringViewArray {
        self.block = None;
        self.b.finish()
    }
}

/// Builds one schema node.
enum NodeBuilder {
    Text(TextBuilder),
    Flag(TextBuilder),
    Json(TextBuilder),
    Struct {
        fields: Fields,
        keys: KeyIndex,
        children: Vec<NodeBuilder>,
        nulls: NullBufferBuilder,
        /// Where each child's value lies in the text last [`NodeBuilder::read`].
        pending: Vec<Option<(usize, usize)>>,
    },
    List {
        item: Box<NodeBuilder>,
        item_fields: Fields,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
    },
}

impl NodeBuilder {
    fn new(node: &Node) -> Self {
        match node.kind {
            Kind::Text => NodeBuilder::Text(TextBuilder::new()),
            Kind::Flag => NodeBuilder::Flag(TextBuilder::new()),
            Kind::Json => NodeBuilder::Json(TextBuilder::new()),
            Kind::Struct(children) => Self::new_struct(children),
            Kind::List(children) => NodeBuilder::List {
                item: Box::new(Self::new_struct(children)),
                item_fields: struct_fields(children),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(0),
            },
        }
    }

    fn new_struct(children: &[Node]) -> Self {
        NodeBuilder::Struct {
            fields: struct_fields(children),
            keys: KeyIndex::new(&children.iter().map(|c| c.key).collect::<Vec<_>>()),
            children: children.iter().map(NodeBuilder::new).collect(),
            nulls: NullBufferBuilder::new(0),
            pending: vec![None; children.len()],
        }
    }

    /// Reads the object at the lexer's position into a struct's `pending` positions, the
    /// objects of struct children into theirs in the same pass (each nesting level used to be
    /// lexed again from its parent's text: the session issuer of an identity three times).
    /// Keys match in any case; the last of duplicate keys wins. Nothing is appended.
    fn read(&mut self, lexer: &mut Lexer<'_>, depth: u32) -> lexer::Result<()> {
        let NodeBuilder::Struct {
            keys,
            children,
            pending,
            ..
        } = self
        else {
            lexer.value(depth)?;
            return Ok(());
        };
        pending.fill(None);
        lexer.object(depth, |lexer, key| {
            let Some(i) = json::slot_of(&*keys, key) else {
                lexer.value(depth + 1)?;
                return Ok(());
            };
            let start = lexer.position();
            match &mut children[i] {
                child @ NodeBuilder::Struct { .. } if lexer.peek() == Some(b'{') => {
                    child.read(lexer, depth + 1)?;
                }
                _ => {
                    lexer.value(depth + 1)?;
                }
            }
            pending[i] = Some((start, lexer.position()));
            Ok(())
        })
    }

    /// Appends the struct [`NodeBuilder::read`] last read from `text` (a present struct).
    fn append_read(&mut self, text: &str, source: &Source) {
        let NodeBuilder::Struct {
            children,
            pending,
            nulls,
            ..
        } = self
        else {
            unreachable!("only structs are read ahead");
        };
        nulls.append_non_null();
        for (child, at) in children.iter_mut().zip(pending.iter()) {
            let raw = at.map(|(start, end)| &text[start..end]);
            match child {
                // Its object was read with its parent's (a child whose value is not an object
                // is a null struct, below).
                NodeBuilder::Struct { .. } if raw.is_some_and(|r| r.starts_with('{')) => {
                    child.append_read(text, source);
                }
                _ => child.append(raw, source),
            }
        }
    }

    fn append(&mut self, raw: Option<&str>, source: &Source) {
        match self {
            NodeBuilder::Text(b) => b.append(text(raw), source),
            NodeBuilder::Flag(b) => b.append(flag(raw), source),
            NodeBuilder::Json(b) => b.append(json::json(raw).map(Cow::Borrowed), source),
            NodeBuilder::Struct { .. } => match raw {
                Some(r) if r.starts_with('{') && self.read(&mut Lexer::new(r), 0).is_ok() => {
                    self.append_read(r, source);
                }
                _ => self.append_null(source),
            },
            NodeBuilder::List {
                item,
                offsets,
                nulls,
                ..
            } => {
                let last = offsets.last().copied().unwrap_or(0);
                match raw.filter(|r| r.starts_with('[')) {
                    Some(r) => {
                        // One pass: each element that is an object is read as it is met.
                        // (Text the lexer delimited cannot fail here; if it did, the list
                        // would hold the elements before the failure.)
                        let mut appended = 0;
                        let _ = Lexer::new(r).array(0, |lexer| {
                            if lexer.peek() == Some(b'{') {
                                item.read(lexer, 1)?;
                                item.append_read(r, source);
                            } else {
                                item.append(Some(lexer.value(1)?), source);
                            }
                            appended += 1;
                            Ok(())
                        });
                        nulls.append_non_null();
                        offsets.push(last + appended);
                    }
                    None => {
                        nulls.append_null();
                        offsets.push(last);
                    }
                }
            }
        }
    }

    /// Appends a null (a struct's children null too).
    fn append_null(&mut self, source: &Source) {
        match self {
            NodeBuilder::Struct {
                children, nulls, ..
            } => {
                nulls.append_null();
                for child in children.iter_mut() {
                    child.append_null(source);
                }
            }
            other => other.append(None, source),
        }
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            NodeBuilder::Text(b) | NodeBuilder::Flag(b) | NodeBuilder::Json(b) => {
                Arc::new(b.finish())
            }
            NodeBuilder::Struct {
                fields,
                children,
                nulls,
                ..
            } => {
                let arrays = children
                    .iter_mut()
                    .map(NodeBuilder::finish)
                    .collect::<Result<Vec<_>, _>>()?;
                Arc::new(StructArray::try_new(
                    fields.clone(),
                    arrays,
                    nulls.finish(),
                )?)
            }
            NodeBuilder::List {
                item,
                item_fields,
                offsets,
                nulls,
            } => {
                let values = item.finish()?;
                let field = Arc::new(arrow::datatypes::Field::new(
                    "item",
                    arrow::datatypes::DataType::Struct(item_fields.clone()),
                    true,
                ));
                let offsets = OffsetBuffer::new(std::mem::replace(offsets, vec![0]).into());
                Arc::new(ListArray::try_new(field, offsets, values, nulls.finish())?)
            }
        })
    }
}

enum Builder {
    Node { record: usize, b: NodeBuilder },
    EventTime(TimestampMillisecondBuilder),
    Text { column: Column, b: TextBuilder },
    Int { column: Column, b: Int64Builder },
    LogLine(Int64Builder),
    LogObject,
    Day(TextBuilder),
}

/// The JSON keys of a record that the decoder reads, in slot order: the record's own fields,
/// then `eventTime`.
pub static RECORD_KEYS: LazyLock<KeyIndex> = LazyLock::new(|| {
    let mut keys: Vec<&'static str> = RECORD.iter().map(|n| n.key).collect();
    keys.push("eventTime");
    KeyIndex::new(&keys)
});

const EVENT_TIME: usize = RECORD.len();

const fn record_slot(name: &str) -> usize {
    let mut i = 0;
    while i < RECORD.len() {
        let (a, b) = (RECORD[i].name.as_bytes(), name.as_bytes());
        let mut same = a.len() == b.len();
        let mut j = 0;
        while same && j < a.len() {
            same = a[j] == b[j];
            j += 1;
        }
        if same {
            return i;
        }
        i += 1;
    }
    panic!("not a record field")
}

const ADDITIONAL: usize = record_slot("additionaleventdata");
const REQUEST: usize = record_slot("requestparameters");
const TLS: usize = record_slot("tlsdetails");

const ADDITIONAL_KEYS: &[&str] = &[
    "bytesTransferredIn",
    "bytesTransferredOut",
    "SignatureVersion",
    "CipherSuite",
    "AuthenticationMethod",
    "aclRequired",
];

/// Values that a record's top-level text fields must have for its row to be worth building: a
/// query's `eventname = 'DeleteObject'` or `eventsource IN (…)`, tested on the raw record so
/// that the rows it would discard are never built. The query still applies its own filter;
/// this only leaves out rows that filter is certain to drop (a missing or NULL field fails too,
/// as it does in SQL).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Prefilter {
    /// `(record slot, accepted values, without regard to case)`, all of which must hold.
    tests: Vec<(usize, Vec<String>, bool)>,
}

impl std::fmt::Display for Prefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (slot, accepted, any_case)) in self.tests.iter().enumerate() {
            let and = if i > 0 { " AND " } else { "" };
            let name = RECORD[*slot].name;
            if *any_case {
                write!(f, "{and}lower({name}) IN ({})", accepted.join(", "))?;
            } else {
                write!(f, "{and}{name} IN ({})", accepted.join(", "))?;
            }
        }
        Ok(())
    }
}

impl Prefilter {
    /// Requires the column `name` to be one of `values`; `false` (and no test) if the column is
    /// not a top-level text field of the record.
    pub fn require(&mut self, name: &str, values: Vec<String>) -> bool {
        self.add(name, values, false)
    }

    /// Requires `lower(name)` to be one of `values`. Admits a superset: any value equal to one
    /// of them in ASCII without regard to case, and any value that is not ASCII (its Unicode
    /// lowercase is the filter's to judge).
    pub fn require_any_case(&mut self, name: &str, values: Vec<String>) -> bool {
        self.add(name, values, true)
    }

    fn add(&mut self, name: &str, values: Vec<String>, any_case: bool) -> bool {
        let Ok(i) = schema().index_of(name) else {
            return false;
        };
        match columns()[i].column {
            Column::Record(r) if matches!(RECORD[r].kind, Kind::Text) => {
                self.tests.push((r, values, any_case));
                true
            }
            _ => false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tests.is_empty()
    }

    fn admits(&self, values: &json::Slots<'_>) -> bool {
        self.tests.iter().all(|(slot, accepted, any_case)| {
            text(values[*slot]).is_some_and(|v| {
                if *any_case {
                    !v.is_ascii() || accepted.iter().any(|a| a.eq_ignore_ascii_case(&v))
                } else {
                    accepted.iter().any(|a| *a == *v)
                }
            })
        })
    }
}

/// The decoder of one object's records.
pub struct CloudTrailDecoder {
    name: String,
    projection: Vec<usize>,
    schema: SchemaRef,
    builders: Vec<Builder>,
    object: StringViewArray,
    batch_size: usize,
    rows: usize,
    /// Records seen (the next record's `log_line` is this plus one).
    records: u64,
    batches: Vec<RecordBatch>,
    error: Option<ArrowError>,
    prefilter: Option<Arc<Prefilter>>,
    source: Source,
}

impl CloudTrailDecoder {
    /// `projection`: columns of [`schema()`] to build, in order (`None`: all).
    pub fn new(object: &str, projection: Option<&[usize]>, batch_size: usize) -> Self {
        let all = schema();
        let projection: Vec<usize> =
            projection.map_or_else(|| (0..all.fields().len()).collect(), <[usize]>::to_vec);
        let builders = projection
            .iter()
            .map(|&i| match columns()[i].column {
                Column::Record(r) => Builder::Node {
                    record: r,
                    b: NodeBuilder::new(&RECORD[r]),
                },
                Column::EventTime => {
                    Builder::EventTime(TimestampMillisecondBuilder::new().with_timezone(UTC))
                }
                c @ (Column::BytesIn | Column::BytesOut) => Builder::Int {
                    column: c,
                    b: Int64Builder::new(),
                },
                Column::LogLine => Builder::LogLine(Int64Builder::new()),
                Column::LogObject => Builder::LogObject,
                Column::Day => Builder::Day(TextBuilder::new()),
                c => Builder::Text {
                    column: c,
                    b: TextBuilder::new(),
                },
            })
            .collect();
        CloudTrailDecoder {
            name: object.to_string(),
            schema: Arc::new(
                all.project(&projection)
                    .expect("projection indices come from the schema"),
            ),
            projection,
            builders,
            object: StringViewArray::from_iter_values([object]),
            batch_size: batch_size.max(1),
            rows: 0,
            records: 0,
            batches: Vec::new(),
            error: None,
            prefilter: None,
            source: Source::default(),
        }
    }

    /// The object's text, as the buffer the records given to this decoder are slices of:
    /// string values are then views into it rather than copies.
    pub fn with_source(mut self, text: Buffer) -> Self {
        self.source = Source::new(text);
        self
    }

    /// Builds only the rows of records that `prefilter` admits (the others are still counted).
    pub fn with_prefilter(mut self, prefilter: Option<Arc<Prefilter>>) -> Self {
        self.prefilter = prefilter.filter(|p| !p.is_empty());
        self
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Records seen so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Counts a position for a record that is refused (so later records keep their index).
    pub fn skip_record(&mut self) -> u64 {
        self.records += 1;
        self.records
    }

    /// Appends one record; `false` (and no row) when it is not a JSON object.
    pub fn record(&mut self, raw: &str) -> bool {
        let Some(values) = slots(raw, &*RECORD_KEYS) else {
            self.records += 1;
            return false;
        };
        self.record_slots(&values);
        true
    }

    /// The keys of a record that [`Self::record_slots`] wants, in slot order.
    pub fn keys(&self) -> &'static KeyIndex {
        &RECORD_KEYS
    }

    /// Forgets every record and batch, as if just made.
    pub fn restart(&mut self) {
        let (name, projection) = (self.name.clone(), self.projection.clone());
        let prefilter = self.prefilter.take();
        let source = std::mem::take(&mut self.source);
        *self = Self::new(&name, Some(&projection), self.batch_size).with_prefilter(prefilter);
        self.source = source;
    }

    /// Appends one record given as the values of [`Self::keys`].
    pub fn record_slots(&mut self, values: &json::Slots<'_>) {
        self.records += 1;
        if self.prefilter.as_ref().is_some_and(|p| !p.admits(values)) {
            return;
        }
        let line = self.records;
        let time = text(values[EVENT_TIME]).and_then(|t| iso_time(&t));
        // Sub-objects the convenience columns read, each parsed once when needed.
        let mut request: Option<Option<json::Slots>> = None;
        let mut additional: Option<Option<json::Slots>> = None;
        let mut tls: Option<Option<json::Slots>> = None;
        let source = &self.source;
        for b in &mut self.builders {
            match b {
                Builder::Node { record, b } => b.append(values[*record], source),
                Builder::EventTime(b) => b.append_option(time),
                Builder::LogLine(b) => b.append_value(line as i64),
                Builder::LogObject => {}
                Builder::Day(b) => match time {
                    Some(t) => b.b.append_value(format_day_slashed(t, &mut [0u8; 10])),
                    None => b.b.append_null(),
                },
                Builder::Int { column, b } => {
                    let a = additional.get_or_insert_with(|| {
                        values[ADDITIONAL].and_then(|r| slots(r, ADDITIONAL_KEYS))
                    });
                    let v = a
                        .as_ref()
                        .and_then(|a| integer(a[if *column == Column::BytesIn { 0 } else { 1 }]));
                    b.append_option(v);
                }
                Builder::Text { column, b } => {
                    let value = match column {
                        Column::S3Bucket | Column::S3Key => {
                            let r = request.get_or_insert_with(|| {
                                values[REQUEST].and_then(|r| slots(r, &["bucketName", "key"][..]))
                            });
                            r.as_ref()
                                .and_then(|r| text(r[usize::from(*column == Column::S3Key)]))
                        }
                        Column::TlsVersion => {
                            let t = tls.get_or_insert_with(|| {
                                values[TLS]
                                    .and_then(|r| slots(r, &["tlsVersion", "cipherSuite"][..]))
                            });
                            match t.as_ref().and_then(|t| text(t[0])) {
                                Some(Cow::Borrowed(v)) => Some(normalize_tls(v)),
                                Some(Cow::Owned(v)) => Some(normalize_tls(&v).into_owned().into()),
                                None => None,
                            }
                        }
                        _ => {
                            let a = additional.get_or_insert_with(|| {
                                values[ADDITIONAL].and_then(|r| slots(r, ADDITIONAL_KEYS))
                            });
                            let a = a.as_ref();
                            match column {
                                Column::Sigv => a.and_then(|a| text(a[2])),
                                Column::CipherSuite => a.and_then(|a| text(a[3])).or_else(|| {
                                    let t = tls.get_or_insert_with(|| {
                                        values[TLS].and_then(|r| {
                                            slots(r, &["tlsVersion", "cipherSuite"][..])
                                        })
                                    });
                                    t.as_ref().and_then(|t| text(t[1]))
                                }),
                                Column::AuthType => a.and_then(|a| text(a[4])),
                                Column::AclRequired => a
                                    .and_then(|a| acl_required(text(a[5]).as_deref()))
                                    .map(Into::into),
                                _ => None,
                            }
                        }
                    };
                    b.append(value, source);
                }
            }
        }
        self.rows += 1;
        if self.rows >= self.batch_size {
            self.flush_into_batches();
        }
    }

    fn flush_into_batches(&mut self) {
        match self.flush() {
            Ok(Some(batch)) => self.batches.push(batch),
            Ok(None) => {}
            Err(e) => self.error = Some(e),
        }
    }

    /// Every batch decoded so far, the last partial one included.
    pub fn finish(&mut self) -> Result<Vec<RecordBatch>, ArrowError> {
        self.flush_into_batches();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(std::mem::take(&mut self.batches))
    }

    fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        if self.rows == 0 {
            return Ok(None);
        }
        let rows = std::mem::take(&mut self.rows);
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.builders.len());
        for b in &mut self.builders {
            arrays.push(match b {
                Builder::Node { b, .. } => b.finish()?,
                Builder::EventTime(b) => Arc::new(b.finish()),
                Builder::Text { b, .. } | Builder::Day(b) => Arc::new(b.finish()),
                Builder::Int { b, .. } | Builder::LogLine(b) => Arc::new(b.finish()),
                Builder::LogObject => {
                    arrow::compute::take(&self.object, &UInt32Array::from(vec![0u32; rows]), None)?
                }
            });
        }
        debug_assert!(arrays.iter().all(|a| a.len() == rows));
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options).map(Some)
    }
}

/// `TLSv1.2` whatever the spelling (`TLSV1.2`, `tlsv1.2`, `TLS 1.2`, `1.2`).
pub fn normalize_tls(v: &str) -> Cow<'_, str> {
    let t = v.trim();
    let rest = match t.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("tls") => t[3..].trim_start_matches(['v', 'V', ' ', '_']),
        _ => t,
    };
    let is_version = !rest.is_empty() && rest.bytes().all(|c| c.is_ascii_digit() || c == b'.');
    if !is_version || (t.len() == rest.len() + 4 && t.starts_with("TLSv")) {
        Cow::Borrowed(t)
    } else {
        Cow::Owned(format!("TLSv{rest}"))
    }
}

/// `Yes` for a true value, NULL for a false one, as in the access logs.
fn acl_required(v: Option<&str>) -> Option<&'static str> {
    let v = v?.trim();
    (v.eq_ignore_ascii_case("yes") || v.eq_ignore_ascii_case("true")).then_some("Yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_into_the_text_read_the_same_as_copies() {
        // Generated log files (nested identities, policies, escapes) and a record with escaped
        // and long values, read with the text as a view source and without, in small batches
        // (so each batch adds the text as its own block).
        let mut generator = crate::generate::cloudtrail::CloudTrailGenerator::new(3, 0);
        let mut texts: Vec<String> = (0..2)
            .map(|_| String::from_utf8(generator.log_file(100_000, 500.0)).unwrap())
            .collect();
        texts.push(
            r#"{"Records":[{"eventName":"Put\u004fbject with a long escaped name","userAgent":"a user agent well over twelve bytes","eventSource":"s3.amazonaws.com","userIdentity":{"arn":"arn:aws:iam::111122223333:user/someone-with-a-long-name"}}]}"#
                .to_string(),
        );
        for text in &texts {
            let read = |source: bool| {
                let mut d = CloudTrailDecoder::new("t", None, 7);
                if source {
                    d = d.with_source(Buffer::from(text.as_bytes().to_vec()));
                }
                // The decoder's text and the buffer must be the same bytes: read from it.
                let buffer = d.source.buffer.clone();
                let text: &str = match &buffer {
                    Some(b) => std::str::from_utf8(b.as_slice()).unwrap(),
                    None => text,
                };
                let mut sink = Collect(&mut d);
                super::super::shapes::read(text, &mut sink);
                d.finish().unwrap()
            };
            let (viewed, copied) = (read(true), read(false));
            assert!(!viewed.is_empty());
            for batch in viewed.iter().chain(&copied) {
                for column in batch.columns() {
                    // Views, prefixes, blocks, offsets and UTF-8 all as arrow requires.
                    column.to_data().validate_full().unwrap();
                }
            }
            assert_eq!(viewed, copied);
            let uses_views = viewed.iter().any(|b| {
                b.columns().iter().any(|c| {
                    c.as_any()
                        .downcast_ref::<StringViewArray>()
                        .is_some_and(|a| a.data_buffers().iter().any(|d| d.len() == text.len()))
                })
            });
            assert!(uses_views, "string columns point into the text");
        }
    }

    #[test]
    fn nested_objects_read_in_one_pass_keep_the_rules_of_each_level() {
        use arrow::array::AsArray;
        // Duplicate keys (the last wins, also when one is an object and the other not), keys in
        // another case, values of the wrong type, list elements that are not objects.
        let records = [
            r#"{"userIdentity":{"type":"A","SESSIONCONTEXT":{"sessionIssuer":{"userName":"first"}},"sessionContext":{"sessionIssuer":{"userName":"second"},"attributes":{"mfaAuthenticated":"TRUE"}}}}"#,
            r#"{"userIdentity":{"sessionContext":{"sessionIssuer":{"userName":"gone"}},"sessionContext":"not an object"}}"#,
            r#"{"userIdentity":{"sessionContext":"not an object","sessionContext":{"sessionIssuer":{"userName":"kept"}}}}"#,
            r#"{"userIdentity":"a string","resources":[{"ARN":"a"},"text",{"arn":"b","ARN":"c"},null,{}]}"#,
            r#"{"userIdentity":{"sessionContext":{"sessionIssuer":{"userName":"x"},"sessionIssuer":null}},"resources":{"ARN":"not a list"}}"#,
        ];
        let mut d = CloudTrailDecoder::new("t", None, 100);
        for r in records {
            assert!(d.record(r));
        }
        let batches = d.finish().unwrap();
        assert_eq!(batches.len(), 1);
        let batch = &batches[0];
        let child = |a: &ArrayRef, name: &str| a.as_struct().column_by_name(name).unwrap().clone();
        let texts = |a: &ArrayRef| -> Vec<Option<String>> {
            a.as_string_view()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let identity = batch.column_by_name("useridentity").unwrap().clone();
        let session = child(&identity, "sessioncontext");
        let issuer = child(&session, "sessionissuer");
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            texts(&child(&issuer, "username")),
            vec![s("second"), None, s("kept"), None, None]
        );
        assert_eq!(
            texts(&child(&child(&session, "attributes"), "mfaauthenticated")),
            vec![s("true"), None, None, None, None]
        );
        let nulls = |a: &ArrayRef| (0..a.len()).map(|i| a.is_null(i)).collect::<Vec<_>>();
        assert_eq!(nulls(&identity), [false, false, false, true, false]);
        assert_eq!(nulls(&session), [false, true, false, true, false]);
        assert_eq!(nulls(&issuer), [false, true, false, true, true]);
        assert_eq!(
            texts(&child(&identity, "type")),
            vec![s("A"), None, None, None, None]
        );

        let resources = batch.column_by_name("resources").unwrap().as_list::<i32>();
        assert_eq!(
            nulls(&(Arc::new(resources.clone()) as ArrayRef)),
            [true, true, true, false, true]
        );
        let items = resources.value(3);
        assert_eq!(
            texts(&child(&items, "arn")),
            vec![s("a"), None, s("c"), None, None]
        );
        assert_eq!(nulls(&items), [false, true, false, true, false]);
        for column in batch.columns() {
            column.to_data().validate_full().unwrap();
        }
    }

    struct Collect<'d>(&'d mut CloudTrailDecoder);

    impl super::super::shapes::Sink for Collect<'_> {
        fn record(&mut self, raw: &str) -> bool {
            self.0.record(raw)
        }
        fn digest(&mut self) {}
        fn reject(&mut self, _: u64, _: String, _: &str) {}
        fn keys(&self) -> Option<&'static KeyIndex> {
            Some(self.0.keys())
        }
        fn record_slots(&mut self, values: &json::Slots<'_>) {
            self.0.record_slots(values);
        }
        fn restart(&mut self) {
            self.0.restart();
        }
    }

    #[test]
    fn tls_spellings() {
        assert_eq!(normalize_tls("TLSV1.2"), "TLSv1.2");
        assert_eq!(normalize_tls("tlsv1.3"), "TLSv1.3");
        assert_eq!(normalize_tls("TLS 1.1"), "TLSv1.1");
        assert_eq!(normalize_tls("1.2"), "TLSv1.2");
        assert_eq!(normalize_tls("SSLv3"), "SSLv3");
    }
}
