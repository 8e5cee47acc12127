//! Access-log records S3 delivered twice: a record that duplicates one the lake already holds in
//! its day's partition (or one this run already wrote) is not added again.
//!
//! The rule: two records are the same when every stored column but `log_object` and `log_line`
//! (which say where the copy was read) is equal — the whole record. Request ID alone is not a
//! key: one multi-object delete logs a line per key under a single request ID and time, and
//! those lines differ in their key (and version ID), so they are all kept. Rows are compared
//! by a 128-bit hash of their values in Arrow's row format, keyed anew by each run (so that
//! nobody who writes into logs can prepare records whose hashes collide); a day's hashes are
//! loaded from its
//! partition the first time a run writes into it, leaving out the rows of objects this run
//! ingests again (their old rows are being taken out, see [`super::replace`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, StringArray};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, SchemaRef, TimestampMillisecondType};
use arrow::row::{RowConverter, SortField};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::writer::partition;
use crate::error::{Error, Result};

/// The access-log records seen so far, by day partition.
pub struct Seen {
    /// `LAKE/access_logs`.
    table: PathBuf,
    /// Objects whose rows in the lake do not count (being ingested again).
    exclude: HashSet<String>,
    days: HashMap<String, HashSet<u128>>,
    /// The columns compared, by index in the stored schema.
    compared: Vec<usize>,
    object: usize,
    time: usize,
    converter: RowConverter,
    /// Two independently keyed hashers: 128 bits a record.
    keys: (RandomState, RandomState),
    schema: SchemaRef,
    /// Records left out, by the object they were read from.
    pub duplicates: BTreeMap<String, u64>,
}

impl Seen {
    pub fn new(table: &Path, schema: &SchemaRef, exclude: HashSet<String>) -> Result<Seen> {
        let compared: Vec<usize> = (0..schema.fields().len())
            .filter(|&i| !matches!(schema.field(i).name().as_str(), "log_object" | "log_line"))
            .collect();
        let converter = RowConverter::new(
            compared
                .iter()
                .map(|&i| SortField::new(schema.field(i).data_type().clone()))
                .collect(),
        )?;
        let index = |name: &str| {
            schema.index_of(name).map_err(|_| Error::Lake {
                path: table.to_path_buf(),
                message: format!("the access-log schema has no {name} column"),
            })
        };
        Ok(Seen {
            table: table.to_path_buf(),
            exclude,
            days: HashMap::new(),
            object: index("log_object")?,
            time: index("requestdatetime")?,
            compared,
            converter,
            keys: (RandomState::new(), RandomState::new()),
            schema: schema.clone(),
            duplicates: BTreeMap::new(),
        })
    }

    /// `batch` without the records already seen (which are counted), and the rest marked seen.
    pub fn filter(&mut self, batch: &RecordBatch) -> Result<RecordBatch> {
        let hashes = self.hashes(batch)?;
        let times = batch
            .column(self.time)
            .as_primitive::<TimestampMillisecondType>()
            .clone();
        let objects = cast(batch.column(self.object), &DataType::Utf8)?;
        let objects = objects.as_string::<i32>().clone();
        let mut keep = Vec::with_capacity(batch.num_rows());
        for (i, hash) in hashes.into_iter().enumerate() {
            let day = partition(
                times
                    .is_valid(i)
                    .then(|| times.value(i).div_euclid(86_400_000)),
            );
            let seen = self.day(&day)?;
            let new = seen.insert(hash);
            if !new {
                *self
                    .duplicates
                    .entry(objects.value(i).to_string())
                    .or_default() += 1;
            }
            keep.push(new);
        }
        if keep.iter().all(|k| *k) {
            return Ok(batch.clone());
        }
        Ok(filter_record_batch(batch, &BooleanArray::from(keep))?)
    }

    fn hashes(&self, batch: &RecordBatch) -> Result<Vec<u128>> {
        let columns: Vec<_> = self
            .compared
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        let rows = self.converter.convert_columns(&columns)?;
        Ok(rows
            .iter()
            .map(|row| hash128(&self.keys, row.as_ref()))
            .collect())
    }

    /// The hashes of the day's records in the lake, loaded on first use.
    fn day(&mut self, day: &str) -> Result<&mut HashSet<u128>> {
        if !self.days.contains_key(day) {
            let loaded = self.load(day)?;
            self.days.insert(day.to_string(), loaded);
        }
        Ok(self.days.get_mut(day).expect("inserted above"))
    }

    fn load(&self, day: &str) -> Result<HashSet<u128>> {
        let dir = self.table.join(format!("date={day}"));
        let mut out = HashSet::new();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&dir, e)),
        };
        for entry in entries {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            if path.extension().is_none_or(|e| e != "parquet") {
                continue;
            }
            let lake_error = |message: String| Error::Lake {
                path: path.clone(),
                message,
            };
            let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.build())
                .map_err(|e| lake_error(e.to_string()))?;
            for batch in reader {
                let batch = batch.map_err(|e| lake_error(e.to_string()))?;
                if batch.schema().fields() != self.schema.fields() {
                    // Written by another version with other columns: not compared.
                    break;
                }
                let objects = cast(batch.column(self.object), &DataType::Utf8)?;
                let objects: &StringArray = objects.as_string::<i32>();
                let hashes = self.hashes(&batch)?;
                for (i, hash) in hashes.into_iter().enumerate() {
                    if !self.exclude.contains(objects.value(i)) {
                        out.insert(hash);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Two independently keyed SipHash values of the bytes.
fn hash128(keys: &(RandomState, RandomState), bytes: &[u8]) -> u128 {
    let mut a = keys.0.build_hasher();
    a.write(bytes);
    let mut b = keys.1.build_hasher();
    b.write(bytes);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}
