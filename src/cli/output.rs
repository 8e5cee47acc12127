//! Query results on stdout or in a file, written with arrow's own writers, batch by batch as
//! they arrive (except the table, which sizes its columns from the rows it shows: at most
//! `--maxrows`, 40 on a terminal by default).

use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use clap::ValueEnum;

use crate::report::escape::{JsonSafe, TerminalSafe};
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned text table.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Parquet (into a file: -o FILE).
    Parquet,
}

impl Format {
    /// The format a file's extension names: `.csv`, `.json`, `.ndjson`/`.jsonl`, `.parquet`.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => Format::Csv,
            "json" => Format::Json,
            "ndjson" | "jsonl" => Format::Ndjson,
            "parquet" => Format::Parquet,
            _ => return None,
        })
    }

    /// The format asked for: `--format` when given, else what `-o FILE`'s extension names,
    /// else a table.
    pub fn resolve(given: Option<Format>, path: Option<&Path>) -> Format {
        given
            .or_else(|| path.and_then(Format::from_extension))
            .unwrap_or(Format::Table)
    }
}

/// Whether a write to stdout failed because its reader went away (`s3trawl … | head`).
/// Recorded where the write happens, so whatever wraps the error on its way up (DataFusion,
/// arrow's writers, anyhow's context) cannot hide it or imitate it.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Standard output, locked, noting a broken pipe when one happens.
pub fn stdout() -> Stdout {
    Stdout(std::io::stdout().lock())
}

pub struct Stdout(std::io::StdoutLock<'static>);

impl Stdout {
    fn note<T>(result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        }
        result
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Self::note(self.0.write(buf))
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        Self::note(self.0.write_all(buf))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Self::note(self.0.flush())
    }
}

/// Where results go: the file, or stdout (shown inert on a terminal). JSON gets its invisible
/// characters escaped wherever it goes (`JsonSafe`): it is read by people too.
fn open(path: Option<&Path>, format: Format) -> anyhow::Result<Box<dyn Write>> {
    let out: Box<dyn Write> = match path {
        Some(p) => Box::new(BufWriter::new(
            crate::report::files::create(p)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", p.display()))?,
        )),
        None => data_stdout(),
    };
    Ok(match format {
        Format::Json | Format::Ndjson => Box::new(JsonSafe::new(out)),
        _ => out,
    })
}

/// Standard output for data (results, findings, lists): on a terminal, every control and
/// invisible character is shown as an escape instead of acting, whatever the format.
pub fn data_stdout() -> Box<dyn Write> {
    if std::io::stdout().is_terminal() {
        Box::new(BufWriter::new(TerminalSafe::new(stdout())))
    } else {
        Box::new(BufWriter::new(stdout()))
    }
}

/// How many rows the table format shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxRows {
    Limit(usize),
    Unlimited,
}

impl std::str::FromStr for MaxRows {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "inf" | "unlimited" | "all" => Ok(MaxRows::Unlimited),
            n => n
                .parse()
                .map(MaxRows::Limit)
                .map_err(|_| format!("{s:?} is not a number of rows (or inf)")),
        }
    }
}

/// Rows a table on a terminal shows unless told otherwise (datafusion-cli's default).
pub const TERMINAL_ROWS: usize = 40;

impl MaxRows {
    /// The rows a table shows: as given, else [`TERMINAL_ROWS`] on a terminal and all of them
    /// into a pipe or a file.
    pub fn resolve(given: Option<MaxRows>, path: Option<&Path>) -> MaxRows {
        given.unwrap_or(if path.is_none() && std::io::stdout().is_terminal() {
            MaxRows::Limit(TERMINAL_ROWS)
        } else {
            MaxRows::Unlimited
        })
    }
}

/// Writes every batch of `stream` in `format` as it arrives (a table, which sizes its columns
/// from its rows, keeps the first `max_rows` and counts the rest); returns the number of rows.
pub async fn write_stream(
    mut stream: SendableRecordBatchStream,
    format: Format,
    path: Option<&Path>,
    max_rows: MaxRows,
    raw_csv: bool,
) -> anyhow::Result<u64> {
    let schema = stream.schema();
    if format == Format::Parquet {
        return write_parquet(stream, path).await;
    }
    let out = open(path, format)?;
    let mut rows = 0u64;
    match format {
        Format::Parquet => unreachable!("written above"),
        Format::Table => {
            let limit = match max_rows {
                MaxRows::Limit(n) => n as u64,
                MaxRows::Unlimited => u64::MAX,
            };
            let mut out = out;
            // The rows kept are already the text the table shows (each cell at most
            // CELL_CHARS), and a table whose text passes SECTION_BYTES is written as one
            // section and the next begins: a table into a pipe costs a section, not the result.
            let mut shown = Vec::new();
            let mut kept_bytes = 0usize;
            let mut sections = 0usize;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                let kept = limit.saturating_sub(rows).min(batch.num_rows() as u64) as usize;
                rows += batch.num_rows() as u64;
                if kept == 0 {
                    continue;
                }
                let text = inert(&batch.slice(0, kept))?;
                kept_bytes += text.get_array_memory_size();
                shown.push(text);
                if kept_bytes > SECTION_BYTES {
                    write_table(&mut out, &schema, &std::mem::take(&mut shown), None)?;
                    kept_bytes = 0;
                    sections += 1;
                }
            }
            let all_shown = rows.min(limit);
            if sections == 0 || !shown.is_empty() {
                write_table(
                    &mut out,
                    &schema,
                    &shown,
                    (all_shown < rows).then_some((all_shown, rows)),
                )?;
                sections += 1;
            }
            if sections > 1 {
                writeln!(
                    out,
                    "({all_shown} rows in {sections} tables of at most {} each; --format csv for one)",
                    crate::size::show(SECTION_BYTES as u64)
                )?;
            }
            out.flush()?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            let mut any = false;
            while let Some(batch) = stream.next().await {
                let batch = nested_as_json(&batch?)?;
                let batch = if raw_csv { batch } else { csv_inert(&batch)? };
                rows += batch.num_rows() as u64;
                any = true;
                w.write(&batch)?;
            }
            if !any {
                w.write(&nested_as_json(&RecordBatch::new_empty(schema))?)?;
            }
            w.into_inner().flush()?;
        }
        Format::Json => {
            let mut w = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::JsonArray>(out);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                w.write(&batch)?;
            }
            w.finish()?;
            let mut out = w.into_inner();
            out.write_all(b"\n")?;
            out.flush()?;
        }
        Format::Ndjson => {
            let mut w = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::LineDelimited>(out);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                w.write(&batch)?;
            }
            w.finish()?;
            w.into_inner().flush()?;
        }
    }
    Ok(rows)
}

/// Writes `stream` as one Parquet file at `path` (Parquet is binary: never to stdout).
async fn write_parquet(
    mut stream: SendableRecordBatchStream,
    path: Option<&Path>,
) -> anyhow::Result<u64> {
    let path = path.ok_or_else(|| {
        anyhow::anyhow!("Parquet is a binary format: give a file to write it to (-o FILE)")
    })?;
    let file = crate::report::files::create(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    let mut w = parquet::arrow::ArrowWriter::try_new(file, stream.schema(), None)?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        w.write(&batch)?;
    }
    w.close()?;
    Ok(rows)
}

/// Every text cell of a CSV batch made inert for spreadsheets and people
/// ([`crate::report::escape::csv_cell`]: formulas neutralised, invisible characters shown).
fn csv_inert(batch: &RecordBatch) -> anyhow::Result<RecordBatch> {
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| {
        matches!(
            f.data_type(),
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        )
    }) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !matches!(
            field.data_type(),
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        ) {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let text = arrow::compute::cast(column, &DataType::Utf8)?;
        let text = text
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .ok_or_else(|| anyhow::anyhow!("a text column that is not text"))?;
        let inert: arrow::array::StringArray = text
            .iter()
            .map(|v| v.map(crate::report::escape::csv_cell))
            .collect();
        fields.push(Field::new(field.name(), DataType::Utf8, true));
        columns.push(Arc::new(inert) as ArrayRef);
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// CSV has no nested values: structs, lists and maps are written as their JSON text.
fn nested_as_json(batch: &RecordBatch) -> anyhow::Result<RecordBatch> {
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| f.data_type().is_nested()) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !field.data_type().is_nested() {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let single = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "v",
                field.data_type().clone(),
                true,
            )])),
            vec![column.clone()],
        )?;
        let mut text = Vec::new();
        {
            let mut w = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::LineDelimited>(&mut text);
            w.write(&single)?;
            w.finish()?;
        }
        let mut values = arrow::array::StringBuilder::new();
        for line in String::from_utf8_lossy(&text).lines() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            match &v["v"] {
                serde_json::Value::Null => values.append_null(),
                inner => values.append_value(inner.to_string()),
            }
        }
        fields.push(Field::new(field.name(), DataType::Utf8, true));
        columns.push(Arc::new(values.finish()) as ArrayRef);
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// The most text a table keeps before it writes what it has as one section.
const SECTION_BYTES: usize = 64 << 20;

/// The most characters a table cell shows (a list of millions of values is not read in a
/// table, and formatting it whole would cost its size again).
pub const CELL_CHARS: usize = 4096;

/// The table of `shown` (rows already made text by [`inert`]); `cut`: (rows shown, rows in all) when not all are shown.
fn write_table(
    out: &mut dyn Write,
    schema: &SchemaRef,
    shown: &[RecordBatch],
    cut: Option<(u64, u64)>,
) -> anyhow::Result<()> {
    let table = arrow::util::pretty::pretty_format_batches_with_schema(as_text(schema), shown)?;
    writeln!(out, "{table}")?;
    if let Some((shown, all)) = cut {
        writeln!(
            out,
            "{shown} of {all} rows shown (--maxrows N or inf for more, --format csv for all)"
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The schema of [`inert`]'s batches: every column text.
fn as_text(schema: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// Every column as the text the table shows, with control characters escaped (a table is
/// read by a person, on a terminal or in a file).
fn inert(batch: &RecordBatch) -> anyhow::Result<RecordBatch> {
    let options = arrow::util::display::FormatOptions::default();
    let mut columns = Vec::with_capacity(batch.num_columns());
    let mut cell = String::new();
    for column in batch.columns() {
        let formatter = arrow::util::display::ArrayFormatter::try_new(column.as_ref(), &options)?;
        let mut values = arrow::array::StringBuilder::new();
        for row in 0..column.len() {
            if column.is_null(row) {
                values.append_null();
            } else {
                cell.clear();
                let whole = {
                    use std::fmt::Write as _;
                    write!(Bounded(&mut cell, CELL_CHARS), "{}", formatter.value(row)).is_ok()
                };
                let mut text = crate::report::escape::terminal(&cell);
                if !whole {
                    text.push_str(" … (cut; --format json for all)");
                }
                values.append_value(text);
            }
        }
        columns.push(Arc::new(values.finish()) as ArrayRef);
    }
    Ok(RecordBatch::try_new(as_text(&batch.schema()), columns)?)
}

/// A `fmt::Write` into a string that stops (with an error) once `.1` more characters would
/// not fit.
struct Bounded<'a>(&'a mut String, usize);

impl std::fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let n = s.chars().count();
        if n <= self.1 {
            self.0.push_str(s);
            self.1 -= n;
            return Ok(());
        }
        self.0.extend(s.chars().take(self.1));
        self.1 = 0;
        Err(std::fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_shows_control_characters_escaped() {
        let batch = RecordBatch::try_from_iter([(
            "ua",
            Arc::new(arrow::array::StringArray::from(vec![
                Some("x\x1b]0;pwned\x07"),
                None,
            ])) as ArrayRef,
        )])
        .unwrap();
        let shown = inert(&batch).unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&[shown])
            .unwrap()
            .to_string();
        assert!(text.contains("x\\u{1b}]0;pwned\\u{7}"), "{text}");
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn a_huge_cell_is_cut_not_formatted_whole() {
        let long = "a".repeat(1 << 20);
        let batch = RecordBatch::try_from_iter([(
            "v",
            Arc::new(arrow::array::StringArray::from(vec![
                long.as_str(),
                "short",
            ])) as ArrayRef,
        )])
        .unwrap();
        let shown = inert(&batch).unwrap();
        let cells = shown
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        assert_eq!(cells.value(1), "short");
        assert!(cells.value(0).starts_with(&"a".repeat(CELL_CHARS)));
        assert!(cells.value(0).ends_with("(cut; --format json for all)"));
        assert!(cells.value(0).len() < CELL_CHARS + 64);
    }
}
