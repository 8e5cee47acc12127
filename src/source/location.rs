//! Where the user's logs are: local files, folders and globs, or `s3://bucket/prefix`.
//!
//! Every location becomes a DataFusion `ListingTableUrl`, so listing goes through
//! `object_store` exactly as DataFusion's own tables do; S3 locations get an S3 store registered
//! for their bucket, configured as AWS's tools would be (see [`super::aws`]: the `AWS_*`
//! environment, profiles, instance roles; an S3-compatible endpoint via `AWS_ENDPOINT_URL`).
//! Requests that fail with a 5xx, SlowDown, a reset or a stall are retried with backoff (see
//! [`S3Retry`]); a body cut short is resumed with a range request.

use std::path::Path as FsPath;
use std::sync::Arc;

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::ClientConfigKey;
use object_store::aws::AmazonS3;
use object_store::list::PaginatedListStore;
use object_store::path::Path;

use crate::error::{Error, Result};

/// A location the user named, resolved.
#[derive(Debug, Clone)]
pub struct LogLocation {
    /// What the user typed.
    pub given: String,
    pub url: ListingTableUrl,
    /// The AWS profile named on the command line for s3:// locations (`None`: the SDK's
    /// default chain, which reads `AWS_PROFILE`).
    pub profile: Option<String>,
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
            profile: None,
        })
    }

    /// The location, reached with the AWS profile `profile` when it is on S3.
    pub fn with_profile(mut self, profile: Option<&str>) -> Self {
        self.profile = profile.map(str::to_string);
        self
    }

    pub fn store_url(&self) -> ObjectStoreUrl {
        self.url.object_store()
    }

    /// Makes sure the runtime can reach this location's object store; gives its page-by-page
    /// listing (S3's) for pruned listings.
    pub async fn register_store(
        &self,
        runtime: &RuntimeEnv,
    ) -> Result<Option<Arc<dyn PaginatedListStore>>> {
        let Some(store) = self.s3_store().await? else {
            return Ok(None);
        };
        runtime.register_object_store(self.url.get_url(), Arc::clone(&store) as _);
        Ok(Some(store))
    }

    /// An S3 store for this location's bucket, with this machine's credentials (`None` for a
    /// location that is not on S3).
    pub async fn s3_store(&self) -> Result<Option<Arc<AmazonS3>>> {
        if self.url.scheme() != "s3" {
            return Ok(None);
        }
        let bucket = self
            .url
            .get_url()
            .host_str()
            .unwrap_or_default()
            .to_string();
        let retry = S3Retry::from_env().map_err(|e| Error::Location(self.given.clone(), e))?;
        let store = super::aws::setup(self.profile.as_deref())
            .await
            .s3_builder(&bucket)
            .await
            .with_retry(retry.config())
            .with_config(
                super::aws::client_key(ClientConfigKey::Timeout),
                retry.millis(retry.timeout),
            )
            .with_config(
                super::aws::client_key(ClientConfigKey::ConnectTimeout),
                retry.millis(retry.timeout.min(std::time::Duration::from_secs(5))),
            )
            .build()
            .map_err(|e| Error::Location(self.given.clone(), e.to_string()))?;
        Ok(Some(Arc::new(store)))
    }
}

/// How S3 requests are retried: `S3TRAWL_S3_RETRIES` attempts after the first (default 10),
/// each request given `S3TRAWL_S3_TIMEOUT` seconds (default 30; a stalled server is a failed
/// attempt), all of them within `S3TRAWL_S3_RETRY_TIMEOUT` seconds (default 180), with
/// exponential backoff from `S3TRAWL_S3_BACKOFF_MS` milliseconds (default 100) up to 15 s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct S3Retry {
    pub retries: usize,
    pub timeout: std::time::Duration,
    pub retry_timeout: std::time::Duration,
    pub backoff: std::time::Duration,
}

impl Default for S3Retry {
    fn default() -> Self {
        S3Retry {
            retries: 10,
            timeout: std::time::Duration::from_secs(30),
            retry_timeout: std::time::Duration::from_secs(180),
            backoff: std::time::Duration::from_millis(100),
        }
    }
}

impl S3Retry {
    pub fn from_env() -> std::result::Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> std::result::Result<Self, String> {
        let number = |name: &str| -> std::result::Result<Option<f64>, String> {
            match var(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= 0.0 && *n < 1e9)
                    .map(Some)
                    .ok_or_else(|| format!("{name}={v:?} is not a number of the right range")),
            }
        };
        let seconds = std::time::Duration::from_secs_f64;
        let d = S3Retry::default();
        Ok(S3Retry {
            retries: number("S3TRAWL_S3_RETRIES")?.map_or(d.retries, |n| n as usize),
            timeout: number("S3TRAWL_S3_TIMEOUT")?.map_or(d.timeout, seconds),
            retry_timeout: number("S3TRAWL_S3_RETRY_TIMEOUT")?.map_or(d.retry_timeout, seconds),
            backoff: number("S3TRAWL_S3_BACKOFF_MS")?.map_or(d.backoff, |ms| seconds(ms / 1000.0)),
        })
    }

    fn config(&self) -> object_store::RetryConfig {
        object_store::RetryConfig {
            backoff: object_store::BackoffConfig {
                init_backoff: self.backoff,
                max_backoff: std::time::Duration::from_secs(15).max(self.backoff),
                base: 2.0,
            },
            max_retries: self.retries,
            retry_timeout: self.retry_timeout,
        }
    }

    /// A duration as object_store's client configuration writes it.
    fn millis(&self, d: std::time::Duration) -> String {
        format!("{}ms", d.as_millis().max(1))
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
    fn retries_come_from_the_environment() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(S3Retry::from_vars(vars(&[])), Ok(S3Retry::default()));
        let r = S3Retry::from_vars(vars(&[
            ("S3TRAWL_S3_RETRIES", "2"),
            ("S3TRAWL_S3_TIMEOUT", "1.5"),
            ("S3TRAWL_S3_BACKOFF_MS", "20"),
        ]))
        .unwrap();
        assert_eq!(r.retries, 2);
        assert_eq!(r.timeout, std::time::Duration::from_millis(1500));
        assert_eq!(r.backoff, std::time::Duration::from_millis(20));
        for bad in ["-1", "soon", "inf", "1e12"] {
            let e = S3Retry::from_vars(move |n: &str| {
                (n == "S3TRAWL_S3_TIMEOUT").then(|| bad.to_string())
            })
            .unwrap_err();
            assert!(e.contains("S3TRAWL_S3_TIMEOUT"), "{e}");
        }
    }

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
