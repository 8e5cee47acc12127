//! Where log objects come from and how their bytes are made readable.
//!
//! In: an object in an object store (local files through `object_store`'s local file system,
//! `s3://` through its S3 client). Out: the object's raw bytes ([`fetch`], memory-mapped for
//! local files) and then its decompressed content as line-aligned windows ([`Windows`]), so a
//! decoder never sees half a line and a large object never has to be decompressed whole.
//! Compression is recognised by its magic bytes, never by the object's name.

pub mod decompress;
pub mod location;

use std::io::Read;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt};

pub use decompress::{Damage, Window, Windows};
pub use location::{LogLocation, object_display_name};

/// Local files at least this big are memory-mapped; smaller ones are read.
pub const MMAP_MIN_LEN: u64 = 1 << 20;

/// Reads a whole object. Local files are memory-mapped (from [`MMAP_MIN_LEN`] on), not copied.
pub async fn fetch(
    store: &Arc<dyn ObjectStore>,
    location: &Path,
) -> Result<Bytes, object_store::Error> {
    let result = store.get(location).await?;
    match result.payload {
        GetResultPayload::File(file, path) => read_file(file, &path),
        GetResultPayload::Stream(_) => result.bytes().await,
    }
}

/// Reads an object of the local file system (a `file://` location) on the calling thread.
/// `object_store`'s local store hands every read to tokio's blocking pool, and that round
/// trip costs more than reading a small log object.
pub fn read_local(location: &Path) -> Result<Bytes, object_store::Error> {
    static ROOT: LazyLock<LocalFileSystem> = LazyLock::new(LocalFileSystem::new);
    let path = ROOT.path_to_filesystem(location)?;
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
    read_file(file, &path)
}

fn read_file(file: std::fs::File, path: &std::path::Path) -> Result<Bytes, object_store::Error> {
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok(Bytes::new());
    }
    if len < MMAP_MIN_LEN {
        // Small objects are read: mapping and unmapping costs more than the copy (page
        // faults, and a TLB shootdown on every core at unmap).
        let mut data = Vec::with_capacity(len as usize);
        let mut file = file;
        return match file.read_to_end(&mut data) {
            Ok(_) => Ok(Bytes::from(data)),
            Err(source) => Err(object_store::Error::Generic {
                store: "LocalFileSystem",
                source: format!("cannot read {}: {source}", path.display()).into(),
            }),
        };
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
