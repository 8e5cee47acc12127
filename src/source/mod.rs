//! Where log objects come from and how their bytes are made readable.
//!
//! In: an object in an object store (local files through `object_store`'s local file system,
//! `s3://` through its S3 client). Out: the object's raw bytes ([`fetch`], memory-mapped for
//! local files) and then its decompressed content as line-aligned windows ([`Windows`]), so a
//! decoder never sees half a line and a large object never has to be decompressed whole.
//! Compression is recognised by its magic bytes, never by the object's name.

pub mod aws;
pub mod decompress;
pub mod keydate;
pub mod list;
pub mod location;
pub mod prune;
pub mod walk;

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt};

pub use decompress::{Damage, Window, Windows};
pub use location::{LogLocation, object_display_name};

/// Local files at least this big are memory-mapped; smaller ones are read.
pub const MMAP_MIN_LEN: u64 = 1 << 20;

/// Reads a whole object. Local files are memory-mapped (from [`MMAP_MIN_LEN`] on), not copied.
/// An object's bytes, the one way `sql` and `ingest` read them: a local file directly on the
/// calling thread, anything else through its store.
pub async fn read(
    store: &Arc<dyn ObjectStore>,
    meta: &object_store::ObjectMeta,
    local: bool,
) -> Result<Bytes, object_store::Error> {
    if local {
        read_local(&meta.location, Some(meta.size))
    } else {
        fetch(store, &meta.location).await
    }
}

pub async fn fetch(
    store: &Arc<dyn ObjectStore>,
    location: &Path,
) -> Result<Bytes, object_store::Error> {
    let result = store.get(location).await?;
    match result.payload {
        GetResultPayload::File(file, path) => read_file(file, &path, None),
        GetResultPayload::Stream(_) => result.bytes().await,
    }
}

/// Reads an object of the local file system (a `file://` location) on the calling thread.
/// `object_store`'s local store hands every read to tokio's blocking pool, and that round
/// trip costs more than reading a small log object. `listed_len` is the size the listing saw
/// (it saves asking the file system again).
pub fn read_local(location: &Path, listed_len: Option<u64>) -> Result<Bytes, object_store::Error> {
    let path = local_path(location);
    let file = std::fs::File::open(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            object_store::Error::NotFound {
                path: path.display().to_string(),
                source: source.into(),
            }
        } else {
            object_store::Error::Generic {
                store: "LocalFileSystem",
                source: format!("cannot open {}: {source}", path.display()).into(),
            }
        }
    })?;
    read_file(file, &path, listed_len)
}

/// The file a `file://` object path names, as `object_store`'s local store maps it (its parts
/// are the file's names as they are; the store's round trip through a URL encodes and decodes
/// them again) without that round trip.
pub fn local_path(location: &Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/{location}"))
}

fn read_file(
    file: std::fs::File,
    path: &std::path::Path,
    listed_len: Option<u64>,
) -> Result<Bytes, object_store::Error> {
    let len = match listed_len {
        Some(len) => len,
        None => file.metadata().map(|m| m.len()).unwrap_or(0),
    };
    if len < MMAP_MIN_LEN {
        // Small objects are read: mapping and unmapping costs more than the copy (page
        // faults, and a TLB shootdown on every core at unmap). Read to the end whatever the
        // listed size, so a file that changed since is read as it is now.
        return read_small(file, len as usize).map_err(|source| object_store::Error::Generic {
            store: "LocalFileSystem",
            source: format!("cannot read {}: {source}", path.display()).into(),
        });
    }
    // SAFETY: the map is read-only and lives as long as the `Bytes` that owns it. Log objects
    // are immutable once written; a file truncated by another process while mapped is the one
    // hazard, as with every memory-mapped reader (ripgrep, polars).
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(map) => Ok(Bytes::from_owner(map)),
        Err(source) => Err(object_store::Error::Generic {
            store: "LocalFileSystem",
            source: format!("cannot map {}: {source}", path.display()).into(),
        }),
    }
}

/// Reads a file expected to hold `expected` bytes, with no more system calls than that takes
/// (`read_to_end` asks for the size and position first).
fn read_small(mut file: std::fs::File, expected: usize) -> std::io::Result<Bytes> {
    let mut data = vec![0u8; expected + 1];
    let mut filled = 0;
    loop {
        if filled == data.len() {
            // Longer than listed: grow and go on.
            data.resize(data.len() * 2, 0);
        }
        let wanted = data.len() - filled;
        match file.read(&mut data[filled..]) {
            Ok(0) => break,
            // The listed size, and the read stopped short of the byte asked for beyond it: the
            // end of a regular file (saves asking again to hear 0).
            Ok(n) if filled + n == expected && n < wanted => {
                filled += n;
                break;
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    data.truncate(filled);
    Ok(Bytes::from(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::local::LocalFileSystem;

    /// The same files as `object_store`'s local store for names it has to encode.
    #[test]
    fn local_paths_are_object_stores() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalFileSystem::new();
        for name in [
            "plain.log",
            "with space.gz",
            "per%cent",
            "é ü",
            "a#x",
            "q?x&y=z",
        ] {
            let file = dir.path().join(name);
            std::fs::write(&file, name).unwrap();
            let location = Path::from_absolute_path(&file).unwrap();
            assert_eq!(
                local_path(&location),
                store.path_to_filesystem(&location).unwrap(),
                "{name}"
            );
            assert_eq!(
                read_local(&location, Some(name.len() as u64)).unwrap(),
                name.as_bytes()
            );
        }
    }

    /// A small file is read as it is, whatever size the listing saw.
    #[test]
    fn small_files_are_read_whole_whatever_the_listed_size() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x");
        let body: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        std::fs::write(&file, &body).unwrap();
        let location = Path::from_absolute_path(&file).unwrap();
        for listed in [
            None,
            Some(0),
            Some(1),
            Some(4999),
            Some(5000),
            Some(5001),
            Some(90_000),
        ] {
            assert_eq!(read_local(&location, listed).unwrap(), body, "{listed:?}");
        }
        assert!(matches!(
            read_local(&Path::from("no/such/file"), Some(3)),
            Err(object_store::Error::NotFound { .. })
        ));
    }
}
