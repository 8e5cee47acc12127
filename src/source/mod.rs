//! Where log objects come from and how their bytes are made readable.
//!
//! In: an object in an object store (local files through `object_store`'s local file system,
//! `s3://` through its S3 client). Out: the object's raw bytes ([`fetch`], memory-mapped for
//! local files) and then its decompressed content as line-aligned windows ([`Windows`]), so a
//! decoder never sees half a line and a large object never has to be decompressed whole.
//! Compression is recognised by its magic bytes, never by the object's name.

pub mod decompress;
pub mod location;

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt};

pub use decompress::{Damage, Window, Windows};
pub use location::{LogLocation, object_display_name};

/// Reads a whole object. Local files are memory-mapped, not copied.
pub async fn fetch(
    store: &Arc<dyn ObjectStore>,
    location: &Path,
) -> Result<Bytes, object_store::Error> {
    let result = store.get(location).await?;
    match result.payload {
        GetResultPayload::File(file, path) => {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            if len == 0 {
                return Ok(Bytes::new());
            }
            // SAFETY: the map is read-only and lives as long as the `Bytes` that owns it. Log
            // objects are immutable once written; a file truncated by another process while
            // mapped is the one hazard, as with every memory-mapped reader (ripgrep, polars).
            match unsafe { memmap2::Mmap::map(&file) } {
                Ok(map) => Ok(Bytes::from_owner(map)),
                Err(source) => Err(object_store::Error::Generic {
                    store: "LocalFileSystem",
                    source: format!("cannot map {}: {source}", path.display()).into(),
                }),
            }
        }
        GetResultPayload::Stream(_) => result.bytes().await,
    }
}
