//! Access-log bytes in, Arrow record batches out.
//!
//! A push decoder in the manner of arrow's CSV and JSON decoders: [`AccessLogDecoder::decode`]
//! takes a buffer, consumes whole lines until a batch is full, and says how many bytes it used;
//! [`AccessLogDecoder::flush`] hands over the batch. Each line is parsed into a reused
//! [`Record`] of spans and appended straight into the builders of the projected columns, so a
//! line costs no allocation. Lines that are not records are kept as [`Reject`]s with their line
//! number and byte offset: the caller decides where they go; none is dropped.

use std::sync::{Arc, Mutex};

use arrow::array::{
    ArrayRef, Int32Builder, Int64Builder, RecordBatch, RecordBatchOptions, StringViewArray,
    StringViewBuilder, TimestampMillisecondBuilder, UInt32Array,
};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use memchr::memchr;

use super::parse::{Record, is_blank, parse_record};
use super::schema::{COLUMNS, ColumnType, Origin, col, schema};
use crate::format::time::format_day_slashed;
use crate::format::{MAX_LINE, Reject};

/// What a decoder needs to know besides the bytes.
#[derive(Debug, Clone)]
pub struct DecoderOptions {
    /// Rows per record batch.
    pub batch_size: usize,
    /// Refuse records with unknown trailing fields instead of keeping them in `extra_fields`.
    pub strict: bool,
    /// Columns of [`schema()`] to build, in order; `None` for all.
    pub projection: Option<Vec<usize>>,
    /// Rejects kept verbatim (the first ones); every reject is counted. A scan that only counts
    /// them (a query of `access_logs`) keeps a few, so that a million junk lines cost what a
    /// few do; the `rejects` table and `ingest` keep them all.
    pub keep_rejects: usize,
}

impl Default for DecoderOptions {
    fn default() -> Self {
        DecoderOptions {
            batch_size: DEFAULT_BATCH_SIZE,
            strict: false,
            projection: None,
            keep_rejects: usize::MAX,
        }
    }
}

/// Rows per batch unless the caller says otherwise (DataFusion's default batch size).
pub const DEFAULT_BATCH_SIZE: usize = 8192;

enum Builder {
    Text { field: usize, b: StringViewBuilder },
    Extra(StringViewBuilder),
    Day(StringViewBuilder),
    Time(TimestampMillisecondBuilder),
    Status(Int32Builder),
    Number { field: usize, b: Int64Builder },
    LogLine(Int64Builder),
    LogObject,
}

impl Builder {
    /// A builder for `column` with room for `rows` values.
    fn new(column: usize, rows: usize) -> Self {
        let c = &COLUMNS[column];
        let text = || StringViewBuilder::with_capacity(rows);
        match (c.origin, c.ty) {
            (Origin::Field(_), ColumnType::Timestamp) => Builder::Time(
                TimestampMillisecondBuilder::with_capacity(rows).with_timezone(super::schema::UTC),
            ),
            (Origin::Field(_), ColumnType::Int32) => {
                Builder::Status(Int32Builder::with_capacity(rows))
            }
            (Origin::Field(field), ColumnType::Int64) => Builder::Number {
                field,
                b: Int64Builder::with_capacity(rows),
            },
            (Origin::Field(field), _) => Builder::Text { field, b: text() },
            (Origin::ExtraFields, _) => Builder::Extra(text()),
            (Origin::Day, _) => Builder::Day(text()),
            (Origin::LogLine, _) => Builder::LogLine(Int64Builder::with_capacity(rows)),
            (Origin::LogObject, _) => Builder::LogObject,
        }
    }
}

/// The shortest line a batch's capacity is guessed with (real records are 250 bytes or more):
/// a batch's builders get room for the lines its input can hold, at most a batch.
const SHORTEST_LINE_GUESS: usize = 200;

/// Counts of what a decoder has seen so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DecodeCounts {
    /// Lines read, blank ones included.
    pub lines: u64,
    pub blank: u64,
    pub rows: u64,
    pub rejects: u64,
}

pub struct AccessLogDecoder {
    schema: SchemaRef,
    builders: Vec<Builder>,
    /// The columns of `builders`, in order.
    columns: Vec<usize>,
    /// Whether the builders have been given room for the batch being built (cleared by
    /// `flush`, which leaves them empty).
    sized: bool,
    /// The `log_object` value as a one-row array, repeated per batch without copying the text
    /// (made only when the column is wanted: most queries over small objects do not).
    object: Option<StringViewArray>,
    batch_size: usize,
    strict: bool,
    keep_rejects: usize,
    rec: Record,
    rows: usize,
    /// 1-based number of the last line consumed.
    line_no: u64,
    /// Byte offset in the object of the next line.
    offset: u64,
    rejects: Vec<Reject>,
    counts: DecodeCounts,
}

impl AccessLogDecoder {
    /// A decoder for the object named `object` (its path or URL, the `log_object` value).
    pub fn new(object: &str, options: &DecoderOptions) -> Self {
        Self::starting_at(object, options, 0, 0)
    }

    /// A decoder for a part of an object whose first line is line `first_line` (1-based) at byte
    /// `offset`; used when one object is decoded in parallel pieces.
    pub fn starting_at(
        object: &str,
        options: &DecoderOptions,
        first_line: u64,
        offset: u64,
    ) -> Self {
        let projection: Vec<usize> = options
            .projection
            .clone()
            .unwrap_or_else(|| (0..schema().fields().len()).collect());
        AccessLogDecoder {
            schema: projected_schema(&projection),
            builders: projection.iter().map(|&c| Builder::new(c, 0)).collect(),
            sized: false,
            object: projection
                .contains(&col::LOG_OBJECT)
                .then(|| StringViewArray::from_iter_values([object])),
            columns: projection,
            batch_size: options.batch_size.max(1),
            strict: options.strict,
            keep_rejects: options.keep_rejects,
            rec: Record::default(),
            rows: 0,
            line_no: first_line.saturating_sub(1),
            offset,
            rejects: Vec::new(),
            counts: DecodeCounts::default(),
        }
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Decodes whole lines of `data` until a batch is full. Returns the bytes consumed, which
    /// always end at a line boundary. With `last`, a final line without a line break is decoded
    /// too. Call [`Self::flush`] when [`Self::is_full`] or when the input is done.
    pub fn decode(&mut self, data: &[u8], last: bool) -> usize {
        if !self.sized {
            // Builders emptied by `flush` have no room left: growing each of them by doubling,
            // batch after batch, copied every column's views several times over.
            let rows = (data.len() / SHORTEST_LINE_GUESS + 1).min(self.batch_size);
            for (b, &c) in self.builders.iter_mut().zip(&self.columns) {
                *b = Builder::new(c, rows);
            }
            self.sized = true;
        }
        let mut pos = 0;
        // UTF-8 is validated a block of lines at a time (a call per line cost more than the
        // validation itself): `data[..block_end]` has been looked at, and is valid text if
        // `block_valid`; a block that is not has its lines checked one by one.
        let (mut block_end, mut block_valid) = (0, false);
        while self.rows < self.batch_size && pos < data.len() {
            let (end, next) = match memchr(b'\n', &data[pos..]) {
                Some(i) => (pos + i, pos + i + 1),
                None if last => (data.len(), data.len()),
                None => break,
            };
            if end > block_end {
                block_end = line_end_after(data, (pos + UTF8_BLOCK).min(data.len()));
                block_valid = std::str::from_utf8(&data[pos..block_end]).is_ok();
            }
            self.line(&data[pos..end], block_valid);
            self.offset += (next - pos) as u64;
            pos = next;
        }
        pos
    }

    /// Whether a batch is ready to be flushed.
    pub fn is_full(&self) -> bool {
        self.rows >= self.batch_size
    }

    /// Rows buffered and not yet flushed.
    pub fn buffered_rows(&self) -> usize {
        self.rows
    }

    /// Lines that were not records, since the last call.
    pub fn take_rejects(&mut self) -> Vec<Reject> {
        std::mem::take(&mut self.rejects)
    }

    pub fn counts(&self) -> DecodeCounts {
        self.counts
    }

    /// 1-based number of the last line consumed (0 before the first).
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Byte offset in the object of the next line to be decoded.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// One line without its line break; `valid` if it is known to be valid UTF-8.
    fn line(&mut self, raw: &[u8], valid: bool) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        self.line_no += 1;
        self.counts.lines += 1;
        if is_blank(raw) {
            self.counts.blank += 1;
            return;
        }
        if raw.len() > MAX_LINE {
            self.counts.rejects += 1;
            if self.rejects.len() < self.keep_rejects {
                let reject = Reject::too_long(self.line_no, self.offset, raw.len() as u64, raw);
                self.rejects.push(reject);
            }
            return;
        }
        if valid {
            // SAFETY: `raw` lies within a block that `decode` validated as UTF-8, and starts
            // and ends next to ASCII bytes (line breaks), so it is valid UTF-8 on its own.
            return self.record(unsafe { std::str::from_utf8_unchecked(raw) });
        }
        match std::str::from_utf8(raw) {
            Ok(line) => self.record(line),
            // Invalid UTF-8 is replaced (U+FFFD); only such lines pay for a copy.
            Err(_) => self.record(&String::from_utf8_lossy(raw)),
        }
    }

    fn record(&mut self, line: &str) {
        match parse_record(line.as_bytes(), &mut self.rec, self.strict) {
            Ok(()) => {
                append(&mut self.builders, &self.rec, line, self.line_no);
                self.rows += 1;
                self.counts.rows += 1;
            }
            Err(refusal) if self.rejects.len() >= self.keep_rejects => {
                let _ = refusal;
                self.counts.rejects += 1;
            }
            Err(refusal) => {
                self.counts.rejects += 1;
                self.rejects.push(Reject::new(
                    self.line_no,
                    self.offset,
                    format!("{} (at byte {} of the line)", refusal.problem, refusal.at),
                    line,
                ));
            }
        }
    }

    /// The buffered rows as a batch, or `None` when there are none.
    pub fn flush(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        if self.rows == 0 {
            return Ok(None);
        }
        let rows = std::mem::take(&mut self.rows);
        self.sized = false;
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.builders.len());
        for b in &mut self.builders {
            arrays.push(match b {
                Builder::Text { b, .. } | Builder::Extra(b) | Builder::Day(b) => {
                    Arc::new(b.finish())
                }
                Builder::Time(b) => Arc::new(b.finish()),
                Builder::Status(b) => Arc::new(b.finish()),
                Builder::Number { b, .. } | Builder::LogLine(b) => Arc::new(b.finish()),
                Builder::LogObject => {
                    let zeros = UInt32Array::from(vec![0u32; rows]);
                    let object = self.object.as_ref().expect("made for this column");
                    arrow::compute::take(object, &zeros, None)?
                }
            });
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options).map(Some)
    }
}

/// The schema of the columns `projection` picks. A decoder is made per object (and per piece
/// of a large one), so the few projections a process uses are kept rather than built again for
/// each of ten thousand small objects.
fn projected_schema(projection: &[usize]) -> SchemaRef {
    static KEPT: Mutex<Vec<(Vec<usize>, SchemaRef)>> = Mutex::new(Vec::new());
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, schema)) = kept.iter().find(|(p, _)| p == projection) {
        return Arc::clone(schema);
    }
    let projected = Arc::new(
        schema()
            .project(projection)
            .expect("projection indices come from the schema"),
    );
    if kept.len() < 64 {
        kept.push((projection.to_vec(), Arc::clone(&projected)));
    }
    projected
}

/// Bytes of lines validated as UTF-8 in one call.
const UTF8_BLOCK: usize = 64 << 10;

/// The end of the line that `at` is in (just before its line break), or the end of `data`.
fn line_end_after(data: &[u8], at: usize) -> usize {
    memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i)
}

fn append(builders: &mut [Builder], rec: &Record, line: &str, line_no: u64) {
    for b in builders {
        match b {
            Builder::Text { field, b } => match rec.fields[*field] {
                Some(span) => b.append_value(span.str(line)),
                None => b.append_null(),
            },
            Builder::Time(b) => b.append_value(rec.time_ms),
            Builder::Status(b) => b.append_option(rec.httpstatus),
            Builder::Number { field, b } => b.append_option(match *field {
                col::BYTESSENT => rec.bytessent,
                col::OBJECTSIZE => rec.objectsize,
                col::TOTALTIME => rec.totaltime,
                col::TURNAROUNDTIME => rec.turnaroundtime,
                _ => None,
            }),
            Builder::Extra(b) => match rec.extra {
                Some(span) => b.append_value(span.str(line)),
                None => b.append_null(),
            },
            Builder::Day(b) => {
                let mut buf = [0u8; 10];
                b.append_value(format_day_slashed(rec.time_ms, &mut buf));
            }
            Builder::LogLine(b) => b.append_value(line_no as i64),
            Builder::LogObject => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Int64Type, TimestampMillisecondType};

    const LINE: &str = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes"#;

    #[test]
    fn lines_become_rows_and_rejects_keep_their_place() {
        let input = format!("{LINE}\n\ngarbage line\r\n{LINE}\r\n{LINE}");
        let mut d = AccessLogDecoder::new("/tmp/obj", &DecoderOptions::default());
        let used = d.decode(input.as_bytes(), false);
        assert_eq!(
            used,
            input.rfind('\n').unwrap() + 1,
            "the unterminated last line waits"
        );
        let used2 = d.decode(&input.as_bytes()[used..], true);
        assert_eq!(used + used2, input.len());
        let batch = d.flush().unwrap().unwrap();
        assert_eq!(batch.num_rows(), 3);
        let lines = batch.column(col::LOG_LINE).as_primitive::<Int64Type>();
        assert_eq!(lines.values().to_vec(), vec![1, 4, 5]);
        let objects = batch.column(col::LOG_OBJECT).as_string_view();
        assert_eq!(objects.value(2), "/tmp/obj");
        let rejects = d.take_rejects();
        assert_eq!(rejects.len(), 1);
        assert_eq!(rejects[0].line, 3);
        assert_eq!(rejects[0].byte_offset, (LINE.len() + 2) as u64);
        assert_eq!(rejects[0].raw, "garbage line");
        assert_eq!(
            d.counts(),
            DecodeCounts {
                lines: 5,
                blank: 1,
                rows: 3,
                rejects: 1
            }
        );
        let t = batch
            .column(col::REQUESTDATETIME)
            .as_primitive::<TimestampMillisecondType>();
        assert_eq!(t.value(0), 1_549_411_238_000);
        let day = batch.column(col::TIMESTAMP).as_string_view();
        assert_eq!(day.value(0), "2019/02/06");
        assert!(batch.column(col::EXTRA_FIELDS).is_null(0));
    }

    #[test]
    fn projection_builds_only_what_is_asked() {
        let options = DecoderOptions {
            projection: Some(vec![6, col::LOG_LINE]),
            ..Default::default()
        };
        let mut d = AccessLogDecoder::new("x", &options);
        d.decode(format!("{LINE}\n").as_bytes(), true);
        let batch = d.flush().unwrap().unwrap();
        assert_eq!(batch.num_columns(), 2);
        assert_eq!(batch.schema().field(0).name(), "operation");
        assert_eq!(
            batch.column(0).as_string_view().value(0),
            "REST.GET.VERSIONING"
        );

        let options = DecoderOptions {
            projection: Some(vec![]),
            ..Default::default()
        };
        let mut d = AccessLogDecoder::new("x", &options);
        d.decode(format!("{LINE}\n{LINE}\n").as_bytes(), true);
        assert_eq!(d.flush().unwrap().unwrap().num_rows(), 2);
    }

    #[test]
    fn batches_are_cut_at_batch_size() {
        let options = DecoderOptions {
            batch_size: 2,
            ..Default::default()
        };
        let mut d = AccessLogDecoder::new("x", &options);
        let input = format!("{LINE}\n{LINE}\n{LINE}\n");
        let used = d.decode(input.as_bytes(), true);
        assert!(d.is_full());
        assert_eq!(d.flush().unwrap().unwrap().num_rows(), 2);
        d.decode(&input.as_bytes()[used..], true);
        let last = d.flush().unwrap().unwrap();
        assert_eq!(last.num_rows(), 1);
        assert_eq!(
            last.column(col::LOG_LINE)
                .as_primitive::<Int64Type>()
                .value(0),
            3
        );
        assert!(d.flush().unwrap().is_none());
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let mut input = LINE
            .replace("S3Console/0.4", "S3Console/\u{0}X")
            .into_bytes();
        let at = input.iter().position(|b| *b == 0).unwrap();
        input[at] = 0xff;
        let mut d = AccessLogDecoder::new("x", &DecoderOptions::default());
        d.decode(&input, true);
        let batch = d.flush().unwrap().unwrap();
        assert_eq!(
            batch.column(16).as_string_view().value(0),
            "S3Console/\u{fffd}X"
        );
    }

    #[test]
    fn one_invalid_line_among_valid_ones_is_the_only_one_replaced() {
        // UTF-8 is validated a block of lines at a time: a block with one bad line falls back
        // to line-by-line checking, and the blocks after it are fast again. Lines with
        // multi-byte characters on both sides of the bad one stay as they are.
        let good = LINE.replace("S3Console/0.4", "S3Console/ünïcode");
        let mut bad = LINE
            .replace("S3Console/0.4", "S3Console/\u{0}X")
            .into_bytes();
        let at = bad.iter().position(|b| *b == 0).unwrap();
        bad[at] = 0xc3; // a lead byte without its continuation
        let mut input = Vec::new();
        let lines = 3 * UTF8_BLOCK / good.len();
        let bad_line = lines / 2;
        for i in 0..lines {
            if i == bad_line {
                input.extend_from_slice(&bad);
            } else {
                input.extend_from_slice(good.as_bytes());
            }
            input.push(b'\n');
        }
        let mut d = AccessLogDecoder::new("x", &DecoderOptions::default());
        let mut agents = Vec::new();
        let mut pos = 0;
        loop {
            pos += d.decode(&input[pos..], true);
            let Some(batch) = d.flush().unwrap() else {
                break;
            };
            let ua = batch.column(16).as_string_view();
            agents.extend((0..ua.len()).map(|i| ua.value(i).to_string()));
        }
        assert_eq!(agents.len(), lines);
        for (i, ua) in agents.iter().enumerate() {
            let expected = if i == bad_line {
                "S3Console/\u{fffd}X"
            } else {
                "S3Console/ünïcode"
            };
            assert_eq!(ua, expected, "line {}", i + 1);
        }
        assert_eq!(d.counts().rejects, 0);
    }
}
