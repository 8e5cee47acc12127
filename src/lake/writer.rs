//! Parquet files for one table of one ingest run, partitioned by the UTC day of the table's time
//! column (`requestdatetime`, `eventtime`).
//!
//! One writer per day is open at a time; a file is closed after [`FILE_ROWS`] rows. Encoded
//! row groups wait in memory until they are written, so when all open writers together hold
//! more than [`MEMORY_BUDGET`], the largest flushes its row group early: memory stays bounded
//! however many days a run spans.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::{SchemaRef, TimestampMillisecondType};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};
use crate::format::time::day_dashed;

/// The `date` partition of rows without a time (CloudTrail records lacking `eventTime`).
pub const NO_DATE: &str = "unknown";

/// Rows per Parquet file.
pub const FILE_ROWS: usize = 1 << 20;
/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Bytes of encoded, unwritten row groups all open writers may hold together.
pub const MEMORY_BUDGET: usize = 256 << 20;

/// Columns whose values are (nearly) all distinct: a dictionary would only cost time (every
/// value hashed and interned) before the writer gives up on it and falls back to plain.
const NO_DICTIONARY: &[&str] = &[
    // access_logs
    "requestdatetime",
    "requestid",
    "key",
    "request_uri",
    "bytessent",
    "objectsize",
    "totaltime",
    "turnaroundtime",
    "versionid",
    "hostid",
    "log_line",
    // cloudtrail
    "eventtime",
    "eventid",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "sharedeventid",
    "s3_key",
    "bytes_in",
    "bytes_out",
];

/// Columns whose values are unique and unordered: row-group and page minimum/maximum cannot
/// prune anything, and computing them compares every value twice.
const NO_STATISTICS: &[&str] = &[
    // access_logs
    "requestid",
    "key",
    "request_uri",
    "versionid",
    "hostid",
    // cloudtrail
    "eventid",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "sharedeventid",
    "s3_key",
];

/// Integer and timestamp columns that are sorted or small numbers: delta encoding stores them in
/// a few bits per value, where plain encoding takes eight bytes before compression.
const DELTA: &[&str] = &[
    // access_logs
    "requestdatetime",
    "bytessent",
    "objectsize",
    "totaltime",
    "turnaroundtime",
    "log_line",
    // cloudtrail
    "eventtime",
    "bytes_in",
    "bytes_out",
];

pub fn writer_properties() -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("zstd level 1 is valid"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    for column in NO_DICTIONARY {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(*column), false);
    }
    for column in NO_STATISTICS {
        builder = builder
            .set_column_statistics_enabled(ColumnPath::from(*column), EnabledStatistics::None);
    }
    for column in DELTA {
        builder =
            builder.set_column_encoding(ColumnPath::from(*column), Encoding::DELTA_BINARY_PACKED);
    }
    builder.build()
}

struct Open {
    writer: ArrowWriter<File>,
    path: PathBuf,
    rows: usize,
}

/// Writes batches of one table into `staging/<table>/…`; returns the files' paths relative to
/// the staging folder (which are also their final paths relative to the lake).
pub struct TableWriter {
    staging: PathBuf,
    table: &'static str,
    run: String,
    schema: SchemaRef,
    /// The timestamp column whose UTC day partitions the rows, if partitioned.
    time_column: Option<usize>,
    open: BTreeMap<String, Open>,
    files: Vec<String>,
    seq: usize,
}

impl TableWriter {
    pub fn new(
        staging: &Path,
        table: &'static str,
        run: &str,
        schema: SchemaRef,
        time_column: Option<usize>,
    ) -> Self {
        TableWriter {
            staging: staging.to_path_buf(),
            table,
            run: run.to_string(),
            schema,
            time_column,
            open: BTreeMap::new(),
            files: Vec::new(),
            seq: 0,
        }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let Some(column) = self.time_column else {
            return self.write_to("", batch);
        };
        let times = batch
            .column(column)
            .as_primitive::<TimestampMillisecondType>();
        let day = |i: usize| {
            times
                .is_valid(i)
                .then(|| times.value(i).div_euclid(86_400_000))
        };
        let first = day(0);
        if (1..batch.num_rows()).all(|i| day(i) == first) {
            return self.write_to(&partition(first), batch);
        }
        let mut groups: BTreeMap<Option<i64>, Vec<u32>> = BTreeMap::new();
        for i in 0..batch.num_rows() {
            groups.entry(day(i)).or_default().push(i as u32);
        }
        for (day, rows) in groups {
            let part = take_record_batch(batch, &UInt32Array::from(rows))?;
            self.write_to(&partition(day), &part)?;
        }
        Ok(())
    }

    fn write_to(&mut self, day: &str, batch: &RecordBatch) -> Result<()> {
        if !self.open.contains_key(day) {
            let relative = if self.time_column.is_some() {
                format!(
                    "{}/date={day}/part-{}-{}.parquet",
                    self.table, self.run, self.seq
                )
            } else {
                format!("{}/part-{}-{}.parquet", self.table, self.run, self.seq)
            };
            self.seq += 1;
            let path = self.staging.join(&relative);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
            let writer =
                ArrowWriter::try_new(file, Arc::clone(&self.schema), Some(writer_properties()))?;
            self.files.push(relative);
            self.open.insert(
                day.to_string(),
                Open {
                    writer,
                    path,
                    rows: 0,
                },
            );
        }
        let open = self.open.get_mut(day).expect("inserted above");
        open.writer.write(batch)?;
        open.rows += batch.num_rows();
        if open.rows >= FILE_ROWS {
            let open = self.open.remove(day).expect("present");
            close(open)?;
        }
        self.keep_within_budget()
    }

    fn keep_within_budget(&mut self) -> Result<()> {
        let total: usize = self
            .open
            .values()
            .map(|o| o.writer.in_progress_size())
            .sum();
        if total > MEMORY_BUDGET
            && let Some(largest) = self
                .open
                .values_mut()
                .max_by_key(|o| o.writer.in_progress_size())
        {
            largest.writer.flush()?;
        }
        Ok(())
    }

    /// Closes every file (synced to disk) and returns their relative paths.
    pub fn finish(mut self) -> Result<Vec<String>> {
        for (_, open) in std::mem::take(&mut self.open) {
            close(open)?;
        }
        Ok(self.files)
    }
}

pub(super) fn partition(day: Option<i64>) -> String {
    day.map_or_else(|| NO_DATE.to_string(), |d| day_dashed(d * 86_400_000))
}

fn close(mut open: Open) -> Result<()> {
    open.writer.finish()?;
    open.writer
        .inner_mut()
        .sync_all()
        .map_err(|e| Error::io(&open.path, e))
}
