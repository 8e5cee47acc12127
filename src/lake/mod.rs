//! The Parquet lake that `ingest` writes and `sql --lake` reads.
//!
//! Layout (Hive-style, readable by Athena, Spark, DuckDB and DataFusion):
//!
//! ```text
//! LAKE/access_logs/date=YYYY-MM-DD/part-<run>-<n>.parquet   zstd Parquet, the stored columns
//! LAKE/cloudtrail/date=YYYY-MM-DD/part-<run>-<n>.parquet    the same for CloudTrail
//! LAKE/rejects/part-<run>-<n>.parquet                       lines that were not records
//! LAKE/_manifest/<run>.json                                 objects and files of each run
//! LAKE/_staging/<run>/…                                     files being written (never read)
//! ```
//!
//! A run writes its files under `_staging`, then commits by writing its manifest record
//! atomically (temporary file, fsync, rename), then moves the files into place. A crash before
//! the commit leaves only staging files, which the next run deletes; a crash after it is rolled
//! forward by the next run. Readers therefore never see a half-written file, and because the
//! manifest lists every ingested object, running `ingest` again on the same input adds nothing.

pub mod dedupe;
mod fetch;
pub mod ingest;
pub mod replace;
pub mod writer;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const ACCESS_LOGS_DIR: &str = "access_logs";
pub const CLOUDTRAIL_DIR: &str = "cloudtrail";
pub const REJECTS_DIR: &str = "rejects";
const MANIFEST_DIR: &str = "_manifest";
const STAGING_DIR: &str = "_staging";

/// One object a run ingested.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IngestedObject {
    pub object: String,
    pub size: u64,
    /// The object's ETag when it was read (an object whose ETag or size changes is ingested
    /// again, its old rows taken out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub kind: String,
    pub rows: u64,
    pub rejects: u64,
}

/// The manifest record of one committed run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunRecord {
    pub run: String,
    pub committed_at: String,
    pub objects: Vec<IngestedObject>,
    /// Files the run added, relative to the lake's root.
    pub files: Vec<String>,
    /// Files of earlier runs the run rewrote without the rows of objects it ingested again
    /// ([`replace`]): renamed over the old ones on commit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<String>,
    /// Files of earlier runs left with no rows by the same: removed on commit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Access-log records left out because the lake already held them (S3 delivers some
    /// twice), by object.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub duplicates: BTreeMap<String, u64>,
    /// Per location listed (its URL): the latest time a listed key's name carries, in
    /// milliseconds since the epoch, held back to the earliest object that could not be read.
    /// The next run lists only keys named from there on, less the delivery slack.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub listed_up_to: BTreeMap<String, i64>,
}

/// An open lake. Holds an exclusive lock for its lifetime, so two ingests never interleave.
pub struct Lake {
    root: PathBuf,
    _lock: fs::File,
}

impl Lake {
    /// Opens (creating if needed) the lake at `root` and finishes or discards any run a crash
    /// interrupted.
    pub fn open(root: &Path) -> Result<Lake> {
        for dir in [
            ACCESS_LOGS_DIR,
            CLOUDTRAIL_DIR,
            REJECTS_DIR,
            MANIFEST_DIR,
            STAGING_DIR,
        ] {
            let path = root.join(dir);
            fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
        let lock_path = root.join(MANIFEST_DIR).join(".lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        lock.lock().map_err(|e| Error::io(&lock_path, e))?;
        let lake = Lake {
            root: root.to_path_buf(),
            _lock: lock,
        };
        lake.recover()?;
        Ok(lake)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Committed runs, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        read_runs(&self.root)
    }

    /// Every object already ingested, by name.
    pub fn ingested(&self) -> Result<BTreeMap<String, IngestedObject>> {
        Ok(self
            .runs()?
            .into_iter()
            .flat_map(|r| r.objects)
            .map(|o| (o.object.clone(), o))
            .collect())
    }

    /// Where listing got to, per location URL: the latest of the runs' [`RunRecord::listed_up_to`].
    pub fn listed_up_to(&self) -> Result<BTreeMap<String, i64>> {
        let mut out: BTreeMap<String, i64> = BTreeMap::new();
        for run in self.runs()? {
            for (location, time) in run.listed_up_to {
                // A later run may hold a location back (an object it could not read).
                out.insert(location, time);
            }
        }
        Ok(out)
    }

    /// The folder a new run writes into.
    pub fn staging(&self, run: &str) -> PathBuf {
        self.root.join(STAGING_DIR).join(run)
    }

    /// Commits a run whose files are complete in its staging folder.
    pub fn commit(&self, record: &RunRecord) -> Result<()> {
        let dir = self.root.join(MANIFEST_DIR);
        let tmp = dir.join(format!(".{}.json.tmp", record.run));
        let path = dir.join(format!("{}.json", record.run));
        let text = serde_json::to_vec_pretty(record).map_err(|e| Error::Lake {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut file = fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        file.write_all(&text)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        sync_dir(&dir);
        self.move_into_place(record)?;
        let staging = self.staging(&record.run);
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        Ok(())
    }

    fn move_into_place(&self, record: &RunRecord) -> Result<()> {
        let staging = self.staging(&record.run);
        for file in &record.replaced {
            // Staged means not renamed yet: the rename replaces the old file atomically.
            let from = staging.join(file);
            let to = self.root.join(file);
            if from.exists() {
                fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
                if let Some(parent) = to.parent() {
                    sync_dir(parent);
                }
            }
        }
        for file in &record.removed {
            let path = self.root.join(file);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        for file in &record.files {
            let from = staging.join(file);
            let to = self.root.join(file);
            if from.exists() && !to.exists() {
                if let Some(parent) = to.parent() {
                    fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                }
                fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
                if let Some(parent) = to.parent() {
                    sync_dir(parent);
                }
            }
        }
        Ok(())
    }

    /// Rolls committed runs forward and removes what uncommitted runs left in staging.
    fn recover(&self) -> Result<()> {
        for record in self.runs()? {
            self.move_into_place(&record)?;
        }
        let staging = self.root.join(STAGING_DIR);
        for entry in fs::read_dir(&staging).map_err(|e| Error::io(&staging, e))? {
            let path = entry.map_err(|e| Error::io(&staging, e))?.path();
            fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
        let manifest = self.root.join(MANIFEST_DIR);
        for entry in fs::read_dir(&manifest).map_err(|e| Error::io(&manifest, e))? {
            let path = entry.map_err(|e| Error::io(&manifest, e))?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        Ok(())
    }
}

/// Makes a rename durable (best effort: not every file system can sync a folder).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The committed runs of the lake at `dir`, oldest first; none if it has no manifest. Needs no
/// lock: a record appears atomically once its run is committed.
pub fn read_runs(dir: &Path) -> Result<Vec<RunRecord>> {
    let manifest = dir.join(MANIFEST_DIR);
    let entries = match fs::read_dir(&manifest) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&manifest, e)),
    };
    let mut runs = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(&manifest, e))?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let record: RunRecord = serde_json::from_str(&text).map_err(|e| Error::Lake {
                path: path.clone(),
                message: format!("unreadable manifest record: {e}"),
            })?;
            confine(dir, &record).map_err(|message| Error::Lake {
                path: path.clone(),
                message: format!(
                    "refused manifest record: {message}; nothing was read, written or deleted"
                ),
            })?;
            runs.push(record);
        }
    }
    runs.sort_by(|a, b| a.run.cmp(&b.run));
    Ok(runs)
}

/// Whether every path a manifest record names stays in the lake at `root`: a run id that is a
/// plain name (its staging folder), and files that are relative paths of plain components
/// under one of the table folders, ending in `.parquet`, whose existing part resolves (symlinks
/// followed) inside the lake. A shared lake folder is writable by others, and a record is
/// what `ingest` deletes, renames and overwrites by: one pointing outside must change nothing.
fn confine(root: &Path, record: &RunRecord) -> std::result::Result<(), String> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 255
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
    };
    if !plain(&record.run) {
        return Err(format!("the run id {:?} is not a plain name", record.run));
    }
    let canonical_root = root
        .canonicalize()
        .map_err(|e| format!("{}: {e}", root.display()))?;
    let check = |list: &str, file: &str| -> std::result::Result<(), String> {
        let refuse = |why: &str| Err(format!("{list} entry {file:?} {why}"));
        let parts: Vec<&str> = file.split('/').collect();
        if parts.len() < 2 || !parts.iter().all(|p| plain(p)) {
            return refuse("is not a relative path of plain names");
        }
        if ![ACCESS_LOGS_DIR, CLOUDTRAIL_DIR, REJECTS_DIR].contains(&parts[0]) {
            return refuse("is not in a table folder");
        }
        if !file.ends_with(".parquet") {
            return refuse("is not a Parquet file");
        }
        // The deepest part that exists must resolve inside the lake (no symlink out).
        let mut existing = root.join(file);
        while !existing.exists() {
            if !existing.pop() {
                break;
            }
        }
        match existing.canonicalize() {
            Ok(c) if c.starts_with(&canonical_root) => Ok(()),
            Ok(_) => refuse("resolves outside the lake"),
            Err(e) => refuse(&e.to_string()),
        }
    };
    for file in &record.files {
        check("files", file)?;
    }
    for file in &record.replaced {
        check("replaced", file)?;
    }
    for file in &record.removed {
        check("removed", file)?;
    }
    Ok(())
}

/// The names of the objects the lake at `dir` holds.
pub fn read_ingested(dir: &Path) -> Result<std::collections::HashSet<String>> {
    Ok(read_runs(dir)?
        .into_iter()
        .flat_map(|r| r.objects)
        .map(|o| o.object)
        .collect())
}

/// Whether `dir` looks like a lake.
pub fn is_lake(dir: &Path) -> bool {
    dir.join(MANIFEST_DIR).is_dir() && dir.join(ACCESS_LOGS_DIR).is_dir()
}
