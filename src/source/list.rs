//! Listing the objects under a location.
//!
//! For a local folder this walks the directory tree itself: `object_store`'s local listing asks
//! the file system about every file three times, each by its full path (is it a symlink, is it a
//! file, its metadata), which for the thousands of small objects a log prefix holds costs more
//! than some of them take to decode. Here the type comes with the directory entry and the size
//! from one `statx` relative to the open directory. Everything else (`s3://`, a single file)
//! goes through [`ListingTableUrl::list_all_files`]. Both give the same objects with the same
//! paths, sizes and times, filtered the same way (the URL's glob, DataFusion's
//! `listing_table_ignore_subdirectory`); a test checks them against each other.

use std::fs::{self, Metadata};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use datafusion::catalog::Session;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::ListingTableUrl;
use futures::TryStreamExt;
use object_store::list::PaginatedListStore;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};

use super::prune::KeyWindow;
use super::walk::list_window;

/// The objects of `url` that may hold records of `window` (every one when it is open): through
/// `lister`, S3's page-by-page listing, by prefixes and `start-after` with up to `concurrency`
/// requests in flight (see [`super::walk`]); elsewhere by listing everything and leaving out
/// what the keys rule out. Tables and `ingest` both list this way.
pub async fn list_in_window(
    url: &ListingTableUrl,
    state: &dyn Session,
    store: &dyn ObjectStore,
    lister: Option<&Arc<dyn PaginatedListStore>>,
    window: &KeyWindow,
    concurrency: usize,
) -> Result<Vec<ObjectMeta>> {
    if window.range.is_empty() {
        // Filters no time passes (`t >= b AND t < a`): no object can hold a row.
        return Ok(Vec::new());
    }
    if !window.is_all()
        && let Some(lister) = lister
        && url.is_collection()
    {
        let prefix = url.prefix().as_ref();
        let folder = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        // The walk also lists keys named after now (see `KeyWindow::future_after`).
        let (objects, _) = list_window(lister, &folder, window, concurrency).await?;
        let ignore_subdirectory = state
            .config_options()
            .execution
            .listing_table_ignore_subdirectory;
        return Ok(objects
            .into_iter()
            .filter(|m| url.contains(&m.location, ignore_subdirectory))
            .collect());
    }
    let mut objects = list_all(url, state, store).await?;
    if !window.is_all() {
        objects.retain(|m| window.may_hold(m.location.as_ref()));
    }
    Ok(objects)
}

/// Every object `url` names, as DataFusion's listing would give them.
pub async fn list_all(
    url: &ListingTableUrl,
    state: &dyn Session,
    store: &dyn ObjectStore,
) -> Result<Vec<ObjectMeta>> {
    if url.get_url().scheme() == "file" && url.is_collection() {
        let ignore_subdirectory = state
            .config_options()
            .execution
            .listing_table_ignore_subdirectory;
        let root = PathBuf::from(format!("/{}", url.prefix()));
        let mut out = Vec::new();
        let mut ancestors = Vec::new();
        walk(&root, &mut ancestors, &mut |meta| {
            if url.contains(&meta.location, ignore_subdirectory) {
                out.push(meta);
            }
        })?;
        return Ok(out);
    }
    url.list_all_files(state, store, "")
        .await?
        .try_collect()
        .await
}

/// Visits every file under `dir`, following symbolic links (a link back to a folder being
/// walked is not followed again), leaving out what vanishes meanwhile and broken links.
fn walk(
    dir: &FsPath,
    ancestors: &mut Vec<(u64, u64)>,
    visit: &mut dyn FnMut(ObjectMeta),
) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(walk_error(dir, e)),
    };
    if let Ok(meta) = fs::metadata(dir) {
        ancestors.push((meta.dev(), meta.ino()));
    }
    let depth = ancestors.len();
    // The folder's object path, once: its files' paths are that and their names.
    let base = Path::from_absolute_path(dir).ok();
    for entry in entries {
        let entry = entry.map_err(|e| walk_error(dir, e))?;
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let meta = if kind.is_symlink() {
            // Followed, as `object_store` does; a broken link is left out.
            match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(_) => continue,
            }
        } else if kind.is_dir() {
            walk(&path, ancestors, visit)?;
            continue;
        } else {
            match entry.metadata() {
                Ok(meta) => meta,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(walk_error(&path, e)),
            }
        };
        if meta.is_dir() {
            if !ancestors.contains(&(meta.dev(), meta.ino())) {
                walk(&path, ancestors, visit)?;
            }
        } else if meta.is_file()
            && let Some(location) = object_path(base.as_ref(), &path)
        {
            visit(object_meta(location, &meta));
        }
    }
    ancestors.truncate(depth.saturating_sub(1));
    Ok(())
}

/// The object path of a local file, as `object_store`'s local store names it; `None` for the
/// names that store leaves out of listings (its own `name#123` staging files).
///
/// `Path::from_absolute_path` makes a URL of the path and decodes it again (a tenth of the
/// cost of listing a small object); for a UTF-8 name in a folder whose object path is known,
/// that round trip gives back the name, so the folder's path and the name are joined and
/// checked as that function checks them (`Path::parse`). Other names go the long way.
fn object_path(dir: Option<&Path>, path: &FsPath) -> Option<Path> {
    let joined = match (dir, path.file_name().and_then(|n| n.to_str())) {
        (Some(dir), Some(name)) if dir.as_ref().is_empty() => Path::parse(name).ok(),
        (Some(dir), Some(name)) => Path::parse(format!("{}/{name}", dir.as_ref())).ok(),
        _ => None,
    };
    let location = match joined {
        Some(location) => location,
        None => Path::from_absolute_path(path).ok()?,
    };
    let name = location.filename()?;
    match name.split_once('#') {
        Some((_, suffix)) if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) => {
            None
        }
        _ => Some(location),
    }
}

/// `ObjectMeta` as `object_store`'s local store makes it (its e-tag scheme included).
fn object_meta(location: Path, meta: &Metadata) -> ObjectMeta {
    let modified = meta.modified().unwrap_or(UNIX_EPOCH);
    let micros = modified
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    ObjectMeta {
        location,
        last_modified: modified.into(),
        size: meta.len(),
        e_tag: Some(format!("{:x}-{micros:x}-{:x}", meta.ino(), meta.len())),
        version: None,
    }
}

fn walk_error(path: &FsPath, e: std::io::Error) -> DataFusionError {
    DataFusionError::ObjectStore(Box::new(object_store::Error::Generic {
        store: "LocalFileSystem",
        source: format!("cannot list {}: {e}", path.display()).into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;
    use object_store::local::LocalFileSystem;

    fn session(ignore_subdirectory: bool) -> SessionContext {
        let ctx = SessionContext::new();
        ctx.state_ref()
            .write()
            .config_mut()
            .options_mut()
            .execution
            .listing_table_ignore_subdirectory = ignore_subdirectory;
        ctx
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    /// The walk and `object_store`'s listing give the same objects, paths, sizes, times and
    /// e-tags: nested folders, odd names, a symlinked file and folder, a broken link, a
    /// staging file, and globs.
    #[test]
    fn same_objects_as_object_store() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b/date=2026-01-01")).unwrap();
        fs::create_dir_all(root.join("other")).unwrap();
        fs::create_dir_all(root.join("odd dir %20 é")).unwrap();
        for (name, body) in [
            ("odd dir %20 é/back\\slash?q=1#frag %2Fx", "6"),
            ("top.log", "1"),
            ("a/x.gz", "22"),
            ("a/b/with space %41 é.log", "333"),
            ("a/b/date=2026-01-01/y", "4444"),
            ("a/b/part#12", "staging"),
            ("a/b/part#x", "kept"),
            ("other/z.log", "55555"),
        ] {
            fs::write(root.join(name), body).unwrap();
        }
        std::os::unix::fs::symlink(root.join("other/z.log"), root.join("a/link.log")).unwrap();
        std::os::unix::fs::symlink(root.join("other"), root.join("a/linked-dir")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("a/broken")).unwrap();

        let rt = runtime();
        for ignore_subdirectory in [false, true] {
            let state = session(ignore_subdirectory).state();
            let store = LocalFileSystem::new();
            for pattern in ["", "a/", "a/b/", "**/*.log", "a/*", "none/"] {
                let path = format!("{}/{pattern}", root.display());
                let url = ListingTableUrl::parse(&path).unwrap();
                let mut ours = rt.block_on(list_all(&url, &state, &store)).unwrap();
                let theirs: Result<Vec<ObjectMeta>> = rt.block_on(async {
                    url.list_all_files(&state, &store, "")
                        .await?
                        .try_collect()
                        .await
                });
                let mut theirs = theirs.unwrap();
                ours.sort_by(|a, b| a.location.cmp(&b.location));
                theirs.sort_by(|a, b| a.location.cmp(&b.location));
                assert_eq!(
                    ours, theirs,
                    "{pattern} (ignore_subdirectory {ignore_subdirectory})"
                );
                if pattern.is_empty() && !ignore_subdirectory {
                    assert_eq!(ours.len(), 9, "{ours:#?}");
                }
            }
        }
    }

    /// A link back to a folder being walked is not followed again (`object_store`'s listing
    /// fails on it).
    #[test]
    fn link_loops_end() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("a/b/x.log"), "1").unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("a/b/loop")).unwrap();
        let state = session(false).state();
        let url = ListingTableUrl::parse(format!("{}/", root.display())).unwrap();
        let found = runtime()
            .block_on(list_all(&url, &state, &LocalFileSystem::new()))
            .unwrap();
        let names: Vec<&str> = found.iter().filter_map(|m| m.location.filename()).collect();
        assert_eq!(names, ["x.log"]);
    }
}
