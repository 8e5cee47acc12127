//! Taking an object's rows out of the lake, for an object that changed since it was ingested
//! (its ETag or size differs): the run that ingests it again rewrites every file an earlier run
//! wrote while ingesting it, without the rows whose `log_object` is that object, into its own
//! staging folder under the same path. Committing the run renames them over the old files (one
//! atomic rename each; a file left with no rows is removed instead), so readers see the old
//! file or the new one, and a crash between commit and rename is rolled forward like any other
//! committed run (see [`super`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::{self, File};
use std::path::Path;

use arrow::array::{Array, BooleanArray, RecordBatch, RecordBatchReader, StringArray};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::DataType;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::RunRecord;
use super::writer::writer_properties;
use crate::error::{Error, Result};

/// What rewriting did: files rewritten (in staging, to be renamed over the old ones) and files
/// left with no rows (to be removed), relative to the lake's root; rows taken out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub replaced: Vec<String>,
    pub removed: Vec<String>,
    pub rows_removed: u64,
}

/// The files of earlier runs that may hold rows of `objects`, each with the objects to take out.
pub fn files_holding(
    runs: &[RunRecord],
    objects: &BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for run in runs {
        let names: Vec<&String> = run
            .objects
            .iter()
            .map(|o| &o.object)
            .filter(|o| objects.contains(*o))
            .collect();
        if names.is_empty() {
            continue;
        }
        for file in &run.files {
            out.entry(file.clone())
                .or_default()
                .extend(names.iter().map(|n| (*n).clone()));
        }
    }
    out
}

/// Rewrites each file of `files` (under `root`) into `staging` without the rows of its objects.
pub fn rewrite(
    root: &Path,
    staging: &Path,
    files: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Rewritten> {
    let mut done = Rewritten::default();
    for (file, objects) in files {
        let from = root.join(file);
        if !from.exists() {
            // Removed by an earlier replacement.
            continue;
        }
        let to = staging.join(file);
        let (kept, removed) = rewrite_file(&from, &to, objects)?;
        if removed == 0 {
            let _ = fs::remove_file(&to);
            continue;
        }
        done.rows_removed += removed;
        if kept == 0 {
            let _ = fs::remove_file(&to);
            done.removed.push(file.clone());
        } else {
            done.replaced.push(file.clone());
        }
    }
    Ok(done)
}

/// Copies `from` to `to` without the rows whose `log_object` is in `objects`; (rows kept, rows
/// left out).
fn rewrite_file(from: &Path, to: &Path, objects: &BTreeSet<String>) -> Result<(u64, u64)> {
    let lake_error = |path: &Path, message: String| Error::Lake {
        path: path.to_path_buf(),
        message,
    };
    let input = File::open(from).map_err(|e| Error::io(from, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(input)
        .and_then(|b| b.build())
        .map_err(|e| lake_error(from, e.to_string()))?;
    let schema = reader.schema();
    let column = schema
        .index_of("log_object")
        .map_err(|_| lake_error(from, "has no log_object column".into()))?;
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let output = File::create(to).map_err(|e| Error::io(to, e))?;
    let mut writer = ArrowWriter::try_new(output, schema.clone(), Some(writer_properties()))
        .map_err(|e| lake_error(to, e.to_string()))?;
    let names: HashSet<&str> = objects.iter().map(String::as_str).collect();
    let (mut kept, mut removed) = (0u64, 0u64);
    for batch in reader {
        let batch = batch.map_err(|e| lake_error(from, e.to_string()))?;
        let keep = keep_mask(&batch, column, &names).map_err(|e| lake_error(from, e))?;
        let out =
            filter_record_batch(&batch, &keep).map_err(|e| lake_error(from, e.to_string()))?;
        kept += out.num_rows() as u64;
        removed += (batch.num_rows() - out.num_rows()) as u64;
        if out.num_rows() > 0 {
            writer
                .write(&out)
                .map_err(|e| lake_error(to, e.to_string()))?;
        }
    }
    writer.close().map_err(|e| lake_error(to, e.to_string()))?;
    Ok((kept, removed))
}

fn keep_mask(
    batch: &RecordBatch,
    column: usize,
    names: &HashSet<&str>,
) -> std::result::Result<BooleanArray, String> {
    let values = cast(batch.column(column), &DataType::Utf8).map_err(|e| e.to_string())?;
    let values = values
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or("log_object is not text")?;
    Ok((0..values.len())
        .map(|i| Some(values.is_null(i) || !names.contains(values.value(i))))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;
    use arrow::datatypes::{Field, Schema};

    use super::*;
    use crate::lake::IngestedObject;

    fn write(path: &Path, objects: &[&str]) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("log_object", DataType::Utf8, false),
            Field::new("n", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(objects.to_vec())),
                Arc::new(Int64Array::from_iter_values(0..objects.len() as i64)),
            ],
        )
        .unwrap();
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    fn objects_in(path: &Path) -> Vec<String> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let mut out = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let col = cast(batch.column(0), &DataType::Utf8).unwrap();
            let col = col.as_any().downcast_ref::<StringArray>().unwrap();
            out.extend(col.iter().map(|v| v.unwrap().to_string()));
        }
        out
    }

    fn run(name: &str, objects: &[&str], files: &[&str]) -> RunRecord {
        RunRecord {
            run: name.into(),
            committed_at: String::new(),
            objects: objects
                .iter()
                .map(|o| IngestedObject {
                    object: o.to_string(),
                    size: 1,
                    etag: None,
                    kind: "access_log".into(),
                    rows: 1,
                    rejects: 0,
                })
                .collect(),
            files: files.iter().map(|f| f.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn takes_out_only_the_changed_objects_rows() {
        let dir = tempfile::tempdir().unwrap();
        let (root, staging) = (dir.path().join("lake"), dir.path().join("staging"));
        write(&root.join("t/date=1/a.parquet"), &["x", "y", "x", "z"]);
        write(&root.join("t/date=2/b.parquet"), &["x"]);
        write(&root.join("t/date=3/c.parquet"), &["w"]);
        let runs = vec![
            run(
                "r1",
                &["x", "y", "z"],
                &["t/date=1/a.parquet", "t/date=2/b.parquet"],
            ),
            run("r2", &["w"], &["t/date=3/c.parquet"]),
        ];
        let changed: BTreeSet<String> = ["x".to_string()].into();
        let files = files_holding(&runs, &changed);
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            ["t/date=1/a.parquet", "t/date=2/b.parquet"]
        );
        let done = rewrite(&root, &staging, &files).unwrap();
        assert_eq!(
            done,
            Rewritten {
                replaced: vec!["t/date=1/a.parquet".into()],
                removed: vec!["t/date=2/b.parquet".into()],
                rows_removed: 3,
            }
        );
        assert_eq!(objects_in(&staging.join("t/date=1/a.parquet")), ["y", "z"]);
        assert!(!staging.join("t/date=2/b.parquet").exists());
        // The originals are untouched until the run commits.
        assert_eq!(objects_in(&root.join("t/date=1/a.parquet")).len(), 4);
    }
}
