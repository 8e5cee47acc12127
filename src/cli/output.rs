//! Query results on stdout or in a file, written with arrow's own writers, batch by batch
//! (except the table, which needs every row to size its columns).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use clap::ValueEnum;
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
}

fn open(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => {
            Box::new(BufWriter::new(File::create(p).map_err(|e| {
                anyhow::anyhow!("cannot create {}: {e}", p.display())
            })?))
        }
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

/// Writes every batch of `stream` in `format`; returns the number of rows.
pub async fn write_stream(
    mut stream: SendableRecordBatchStream,
    format: Format,
    path: Option<&Path>,
) -> anyhow::Result<u64> {
    let schema = stream.schema();
    let out = open(path)?;
    let mut rows = 0u64;
    match format {
        Format::Table => {
            let mut batches = Vec::new();
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                batches.push(batch);
            }
            write_table(out, &schema, &batches)?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            let mut any = false;
            while let Some(batch) = stream.next().await {
                let batch = nested_as_json(&batch?)?;
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

fn write_table(
    mut out: Box<dyn Write>,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> anyhow::Result<()> {
    let table = arrow::util::pretty::pretty_format_batches_with_schema(schema.clone(), batches)?;
    writeln!(out, "{table}")?;
    out.flush()?;
    Ok(())
}
