//! Reaching S3 as AWS's own tools do: a bucket name and the user's AWS setup in, an
//! `object_store` S3 builder out.
//!
//! Credentials and region come from the `aws-config` crate (environment, shared config and
//! credentials files with `AWS_PROFILE` or `--profile`, SSO, assume-role and
//! `credential_process` profiles, web identity, ECS and EC2 instance roles), handed to
//! `object_store` through a [`CredentialProvider`] as datafusion-cli does, rather than a
//! credential chain of our own. A profile named on the command line wins over credentials in
//! the environment (as with the AWS CLI's `--profile`); `AWS_PROFILE` does not (as with every
//! SDK). On AWS itself the bucket's region is asked of S3 (a bucket in another region than the
//! profile's is common for log buckets); an S3-compatible endpoint (`AWS_ENDPOINT_URL`, or a
//! profile's `endpoint_url`) is used as configured, and only an endpoint configured as
//! `http://` may be reached without TLS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::provider_config::ProviderConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::{Builder as HttpBuilder, tls};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, AwsCredential};
use object_store::{ClientConfigKey, ClientOptions, CredentialProvider};

/// The AWS setup of this process for one profile (or none): loaded once.
#[derive(Debug)]
pub struct AwsSetup {
    sdk: SdkConfig,
    /// The profile named on the command line, if any.
    profile: Option<String>,
    credentials: Option<Arc<SdkCredentials>>,
}

/// The setup for `profile` (the one named on the command line; `None`: the SDK's default
/// chain, which reads `AWS_PROFILE`), loaded on first use.
pub async fn setup(profile: Option<&str>) -> Arc<AwsSetup> {
    static LOADED: StdMutex<Option<HashMap<Option<String>, Arc<AwsSetup>>>> = StdMutex::new(None);
    let key = profile.map(str::to_string);
    if let Some(found) = LOADED
        .lock()
        .ok()
        .and_then(|m| m.as_ref().and_then(|m| m.get(&key).cloned()))
    {
        return found;
    }
    let loaded = Arc::new(AwsSetup::load(profile).await);
    if let Ok(mut m) = LOADED.lock() {
        m.get_or_insert_with(HashMap::new)
            .insert(key, Arc::clone(&loaded));
    }
    loaded
}

impl AwsSetup {
    async fn load(profile: Option<&str>) -> AwsSetup {
        let http = HttpBuilder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http.clone());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        let sdk = loader.load().await;
        let chain = match profile {
            // A profile named on the command line wins over credentials in the environment.
            Some(p) => Some(SharedCredentialsProvider::new(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(
                        &ProviderConfig::default()
                            .with_http_client(http)
                            .with_region(sdk.region().cloned()),
                    )
                    .profile_name(p)
                    .build(),
            )),
            None => sdk.credentials_provider(),
        };
        AwsSetup {
            credentials: chain.map(|c| Arc::new(SdkCredentials::new(c, profile))),
            profile: profile.map(str::to_string),
            sdk,
        }
    }

    /// An S3 store builder for `bucket`: the `AWS_*` environment first (as object_store reads
    /// it), then the profile's endpoint, region and credentials.
    pub async fn s3_builder(&self, bucket: &str) -> AmazonS3Builder {
        let builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let mut builder = self.configure(builder);
        let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
        if endpoint.is_none() {
            // On AWS: the bucket's own region (one unauthenticated HEAD request). Unreachable,
            // refused or no such bucket: the configured region, and the requests will say.
            let options = ClientOptions::new().with_timeout(Duration::from_secs(10));
            if let Ok(region) = object_store::aws::resolve_bucket_region(bucket, &options).await {
                builder = builder.with_region(region);
            }
        }
        builder
    }

    /// What does not need the network: endpoint, plain HTTP, configured region, credentials.
    fn configure(&self, mut builder: AmazonS3Builder) -> AmazonS3Builder {
        if builder
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .is_none()
            && let Some(url) = self.sdk.endpoint_url()
        {
            builder = builder.with_endpoint(url);
        }
        let plain = builder
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .is_some_and(|e| e.to_ascii_lowercase().starts_with("http://"));
        builder = builder.with_allow_http(plain);
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
            && let Some(region) = self.sdk.region()
        {
            builder = builder.with_region(region.as_ref());
        }
        let unsigned = builder
            .get_config_value(&AmazonS3ConfigKey::SkipSignature)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        match &self.credentials {
            Some(credentials) if !unsigned => {
                builder.with_credentials(Arc::clone(credentials) as Arc<_>)
            }
            _ => builder,
        }
    }

    /// The profile named on the command line.
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }
}

/// The SDK's credentials as object_store asks for them: cached until five minutes before
/// they expire (object_store asks before every request), refreshed by one caller at a time.
#[derive(Debug)]
struct SdkCredentials {
    provider: SharedCredentialsProvider,
    profile: Option<String>,
    cached: tokio::sync::Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

/// Credentials are refreshed this long before they expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

impl SdkCredentials {
    fn new(provider: SharedCredentialsProvider, profile: Option<&str>) -> Self {
        SdkCredentials {
            provider,
            profile: profile.map(str::to_string),
            cached: tokio::sync::Mutex::new(None),
        }
    }
}

#[async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        if let Some((credential, expiry)) = cached.as_ref()
            && expiry.is_none_or(|t| SystemTime::now() + REFRESH_BEFORE < t)
        {
            return Ok(Arc::clone(credential));
        }
        let found = self.provider.provide_credentials().await.map_err(|e| {
            let from = match &self.profile {
                Some(p) => format!("profile {p}"),
                None => "the environment, AWS_PROFILE or the instance".to_string(),
            };
            object_store::Error::Generic {
                store: "S3",
                source: format!("no AWS credentials from {from}: {}", describe(&e)).into(),
            }
        })?;
        let credential = Arc::new(AwsCredential {
            key_id: found.access_key_id().to_string(),
            secret_key: found.secret_access_key().to_string(),
            token: found.session_token().map(str::to_string),
        });
        *cached = Some((Arc::clone(&credential), found.expiry()));
        Ok(credential)
    }
}

/// An error and its causes on one line (the SDK's top-level messages say little).
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// A client setting as an S3 configuration key.
pub fn client_key(key: ClientConfigKey) -> AmazonS3ConfigKey {
    AmazonS3ConfigKey::Client(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup_with(sdk: SdkConfig) -> AwsSetup {
        AwsSetup {
            sdk,
            profile: None,
            credentials: None,
        }
    }

    #[test]
    fn plain_http_only_for_an_endpoint_configured_as_http() {
        let aws = setup_with(SdkConfig::builder().build());
        let allowed = |b: &AmazonS3Builder| {
            b.get_config_value(&client_key(ClientConfigKey::AllowHttp))
                .as_deref()
                == Some("true")
        };
        let b = aws.configure(AmazonS3Builder::new().with_allow_http(true));
        assert!(!allowed(&b), "no endpoint: AWS over TLS only");
        let b = aws.configure(AmazonS3Builder::new().with_endpoint("https://minio.internal:9000"));
        assert!(!allowed(&b));
        let b = aws.configure(AmazonS3Builder::new().with_endpoint("HTTP://127.0.0.1:9000"));
        assert!(allowed(&b));
        // A profile's endpoint_url counts as configured too.
        let aws = setup_with(
            SdkConfig::builder()
                .endpoint_url("http://127.0.0.1:9100")
                .build(),
        );
        let b = aws.configure(AmazonS3Builder::new());
        assert_eq!(
            b.get_config_value(&AmazonS3ConfigKey::Endpoint).as_deref(),
            Some("http://127.0.0.1:9100")
        );
        assert!(allowed(&b));
    }
}
