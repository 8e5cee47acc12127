//! Where the user's logs are: local files, folders and globs, or `s3://bucket/prefix`.
//!
//! Every location becomes a DataFusion `ListingTableUrl`, so listing goes through
//! `object_store` exactly as DataFusion's own tables do; S3 locations get an S3 store registered
//! for their bucket, configured from the usual `AWS_*` environment variables (an
//! S3-compatible endpoint via `AWS_ENDPOINT_URL`).

use std::path::Path as FsPath;
use std::sync::Arc;

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::path::Path;

use crate::error::{Error, Result};

/// A location the user named, resolved.
#[derive(Debug, Clone)]
pub struct LogLocation {
    /// What the user typed.
    pub given: String,
    pub url: ListingTableUrl,
}

impl LogLocation {
    /// Resolves a path, glob or URL. Local paths (without glob characters) must exist.
    pub fn parse(given: &str) -> Result<Self> {
        let url = if given.starts_with("s3://") || given.starts_with("s3a://") {
            parse_s3(given)?
        } else {
            let prefix_end = given.find(['*', '?', '[']).unwrap_or(given.len());
            let fixed = &given[..prefix_end];
            let fixed_dir = if prefix_end < given.len() {
                // The folder part before the glob.
                fixed
                    .rfind('/')
                    .map_or(".", |i| if i == 0 { "/" } else { &fixed[..i] })
            } else {
                fixed
            };
            if !FsPath::new(fixed_dir).exists() {
                return Err(Error::NotFound(given.to_string()));
            }
            ListingTableUrl::parse(given)
                .map_err(|e| Error::Location(given.to_string(), e.to_string()))?
        };
        Ok(LogLocation {
            given: given.to_string(),
            url,
        })
    }

    pub fn store_url(&self) -> ObjectStoreUrl {
        self.url.object_store()
    }

    /// Makes sure the runtime can reach this location's object store.
    pub fn register_store(&self, runtime: &RuntimeEnv) -> Result<()> {
        if self.url.scheme() != "s3" {
            return Ok(());
        }
        let bucket = self
            .url
            .get_url()
            .host_str()
            .unwrap_or_default()
            .to_string();
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            .with_allow_http(true)
            .build()
            .map_err(|e| Error::Location(self.given.clone(), e.to_string()))?;
        runtime.register_object_store(self.url.get_url(), Arc::new(store));
        Ok(())
    }
}

fn parse_s3(given: &str) -> Result<ListingTableUrl> {
    let normalized = given.replacen("s3a://", "s3://", 1);
    let bad = |e: String| Error::Location(given.to_string(), e);
    match normalized.find(['*', '?', '[']) {
        None => ListingTableUrl::parse(&normalized).map_err(|e| bad(e.to_string())),
        Some(i) => {
            // ListingTableUrl expands globs for local paths only; split `s3://b/p/*.gz` by hand.
            let slash = normalized[..i]
                .rfind('/')
                .ok_or_else(|| bad("glob without a prefix".into()))?;
            let base = url::Url::parse(&normalized[..=slash]).map_err(|e| bad(e.to_string()))?;
            let pattern =
                glob::Pattern::new(&normalized[slash + 1..]).map_err(|e| bad(e.to_string()))?;
            ListingTableUrl::try_new(base, Some(pattern)).map_err(|e| bad(e.to_string()))
        }
    }
}

/// The `log_object` value of an object: its local path, or its URL.
pub fn object_display_name(store: &ObjectStoreUrl, location: &Path) -> String {
    let base = store.as_str();
    if base.starts_with("file:") {
        format!("/{location}")
    } else {
        format!("{base}{location}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let file = ObjectStoreUrl::parse("file://").unwrap();
        assert_eq!(
            object_display_name(&file, &Path::from("tmp/a.log")),
            "/tmp/a.log"
        );
        let s3 = ObjectStoreUrl::parse("s3://bucket").unwrap();
        assert_eq!(
            object_display_name(&s3, &Path::from("logs/2024/a.gz")),
            "s3://bucket/logs/2024/a.gz"
        );
    }

    #[test]
    fn missing_local_paths_are_an_error() {
        assert!(matches!(
            LogLocation::parse("/no/such/dir"),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            LogLocation::parse("/no/such/dir/*.log"),
            Err(Error::NotFound(_))
        ));
        assert!(LogLocation::parse("/tmp").is_ok());
    }

    #[test]
    fn s3_globs() {
        let l = LogLocation::parse("s3://bucket/logs/*.gz").unwrap();
        assert_eq!(l.url.prefix().as_ref(), "logs");
        assert!(l.url.get_glob().is_some());
        let l = LogLocation::parse("s3://bucket/logs/").unwrap();
        assert!(l.url.is_collection());
    }
}
