//! Who may talk to a cluster: one shared secret on every connection, and optional mutual TLS.
//!
//! In: the secret (a file or `S3TRAWL_CLUSTER_SECRET`) and, for TLS, a certificate, its key
//! and the CA that signed every role's certificate. Out: what each side of a connection needs:
//! for the side that connects, a rewrite of every endpoint Ballista builds (the secret's token,
//! TLS, `https`); for the side that listens, a check of each request's token and the server's
//! TLS settings.
//!
//! Why the token rides in the `user-agent` header: Ballista builds most of its connections
//! itself (executor to scheduler, scheduler to executor, shuffle fetches between executors,
//! the client's result fetches) and lets us change only the endpoint, not add an interceptor,
//! and an endpoint's user agent is the one header it sends on every request. The token is an
//! HMAC of a fixed label under the secret, so the secret itself never crosses the network; it
//! is compared in constant time. Without TLS anyone who can read the traffic can replay the
//! token (which is why binding a non-loopback address without TLS warns).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ballista_core::extension::EndpointOverrideFn;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};
use tonic::{Request, Status};

use crate::error::{Error, Result};

/// The environment variable that holds the secret itself.
pub const SECRET_ENV: &str = "S3TRAWL_CLUSTER_SECRET";

/// Shorter secrets are refused: the token is only as hard to guess as the secret.
const MIN_SECRET_LEN: usize = 16;

/// What the token is an HMAC of (a version, so that a later scheme cannot be confused with it).
const TOKEN_LABEL: &[u8] = b"s3trawl cluster token v1";

/// The token's place in the `user-agent` header: `s3trawl-cluster/<hex>`.
const TOKEN_PREFIX: &str = "s3trawl-cluster/";

/// What a refused request is told (nothing about why beyond this).
pub const REFUSED: &str = "the cluster secret is missing or wrong (give every role and client the same --secret-file or S3TRAWL_CLUSTER_SECRET)";

/// Where the secret and the TLS files come from, as the command line gives them.
#[derive(Debug, Clone, Default)]
pub struct AuthSpec {
    pub secret_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_ca: Option<PathBuf>,
}

/// A role's or a client's credentials: the secret's token and, optionally, TLS.
#[derive(Clone)]
pub struct Credentials {
    /// The hex HMAC of [`TOKEN_LABEL`] under the secret.
    token: Arc<str>,
    tls: Option<Arc<Tls>>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &"<secret>")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// PEM files of a TLS set-up.
struct Tls {
    cert: Vec<u8>,
    key: Vec<u8>,
    ca: Vec<u8>,
}

impl Credentials {
    /// Loads the secret (the file, else [`SECRET_ENV`]) and the TLS files of `spec`. `who`
    /// names the role for the error ("the scheduler", "a client of df://…").
    pub fn load(spec: &AuthSpec, who: &str) -> Result<Credentials> {
        let refuse = |message: String| Error::Cluster {
            address: who.to_string(),
            message,
        };
        let secret = match &spec.secret_file {
            Some(path) => read_secret_file(path).map_err(refuse)?,
            None => match std::env::var(SECRET_ENV) {
                Ok(value) => value.trim().to_string(),
                Err(_) => {
                    return Err(refuse(format!(
                        "no cluster secret: give --secret-file FILE or set {SECRET_ENV} \
                         (the same on every role and client; e.g. `openssl rand -hex 32 > FILE`)"
                    )));
                }
            },
        };
        if secret.len() < MIN_SECRET_LEN {
            return Err(refuse(format!(
                "the cluster secret is shorter than {MIN_SECRET_LEN} characters \
                 (e.g. `openssl rand -hex 32 > FILE`)"
            )));
        }
        let tls = match (&spec.tls_cert, &spec.tls_key, &spec.tls_ca) {
            (None, None, None) => None,
            (Some(cert), Some(key), Some(ca)) => {
                let read = |path: &Path| {
                    std::fs::read(path).map_err(|e| refuse(format!("{}: {e}", path.display())))
                };
                Some(Arc::new(Tls {
                    cert: read(cert)?,
                    key: read(key)?,
                    ca: read(ca)?,
                }))
            }
            _ => {
                return Err(refuse(
                    "TLS needs all three of --tls-cert, --tls-key and --tls-ca".into(),
                ));
            }
        };
        if tls.is_some() {
            install_crypto_provider();
        }
        Ok(Credentials {
            token: token_of(secret.as_bytes()).into(),
            tls,
        })
    }

    /// Credentials of a known secret, without TLS (tests).
    pub fn from_secret(secret: &str) -> Credentials {
        Credentials {
            token: token_of(secret.as_bytes()).into(),
            tls: None,
        }
    }

    /// Whether connections are encrypted.
    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The URL scheme of this cluster's endpoints.
    pub fn scheme(&self) -> &'static str {
        if self.tls() { "https" } else { "http" }
    }

    /// The rewrite of every endpoint this side connects to: the token, and TLS with `https`.
    pub fn endpoint_override(&self) -> EndpointOverrideFn {
        let credentials = self.clone();
        Arc::new(move |endpoint: Endpoint| {
            credentials
                .endpoint(endpoint)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
    }

    /// `endpoint` with the token and, with TLS, over TLS.
    pub fn endpoint(
        &self,
        endpoint: Endpoint,
    ) -> std::result::Result<Endpoint, tonic::transport::Error> {
        let mut endpoint = endpoint;
        if let Some(tls) = &self.tls {
            if endpoint.uri().scheme_str() != Some("https") {
                // Ballista writes `http://` into some of the addresses it dials; TLS is chosen
                // by the scheme, so the endpoint is made again for `https` (with the settings
                // Ballista's own endpoints use).
                let authority = endpoint
                    .uri()
                    .authority()
                    .map(|a| a.as_str().to_string())
                    .unwrap_or_default();
                endpoint = Endpoint::from_shared(format!("https://{authority}"))?
                    .connect_timeout(Duration::from_secs(20))
                    .tcp_nodelay(true)
                    .tcp_keepalive(Some(Duration::from_secs(60)))
                    .http2_keep_alive_interval(Duration::from_secs(15))
                    .keep_alive_timeout(Duration::from_secs(20))
                    .keep_alive_while_idle(true);
            }
            endpoint = endpoint.tls_config(
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(&tls.ca))
                    .identity(Identity::from_pem(&tls.cert, &tls.key)),
            )?;
        }
        endpoint.user_agent(format!("{TOKEN_PREFIX}{}", self.token))
    }

    /// The TLS settings of a server (clients must present a certificate the CA signed).
    pub fn server_tls(&self) -> Option<ServerTlsConfig> {
        self.tls.as_ref().map(|tls| {
            ServerTlsConfig::new()
                .identity(Identity::from_pem(&tls.cert, &tls.key))
                .client_ca_root(Certificate::from_pem(&tls.ca))
        })
    }

    /// A server with these credentials' TLS and the token's check on every request; `role`
    /// names it in the log of refused requests.
    pub fn server(&self, role: &'static str, address: std::net::SocketAddr) -> Result<AuthServer> {
        let mut server = tonic::transport::Server::builder().tcp_nodelay(true);
        if let Some(tls) = self.server_tls() {
            server = server.tls_config(tls).map_err(|e| Error::Cluster {
                address: address.to_string(),
                message: format!("TLS: {}", source_of(&e)),
            })?;
        }
        Ok(server.layer(tonic::service::InterceptorLayer::new(self.checker(role))))
    }

    /// The check a server runs on every request: the token, else [`REFUSED`].
    pub fn checker(&self, role: &'static str) -> Checker {
        Checker {
            token: Arc::clone(&self.token),
            role,
            refused: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// A tonic server that checks every request's token.
pub type AuthServer = tonic::transport::Server<
    tower_layer::Stack<tonic::service::InterceptorLayer<Checker>, tower_layer::Identity>,
>;

/// The innermost cause of an error (tonic's own text is often just "transport error").
pub fn source_of(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// A server's check of each request's token (a tonic interceptor).
#[derive(Clone)]
pub struct Checker {
    token: Arc<str>,
    role: &'static str,
    /// Requests refused so far (the log says so at 1, 2, 4, 8… so that a flood cannot flood it).
    refused: Arc<AtomicU64>,
}

impl Checker {
    /// Whether the request carries the token.
    pub fn admits<T>(&self, request: &Request<T>) -> bool {
        let Some(agent) = request
            .metadata()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        agent
            .split_ascii_whitespace()
            .filter_map(|part| part.strip_prefix(TOKEN_PREFIX))
            .any(|given| constant_time_eq(given.as_bytes(), self.token.as_bytes()))
    }
}

impl tonic::service::Interceptor for Checker {
    fn call(&mut self, request: Request<()>) -> std::result::Result<Request<()>, Status> {
        if self.admits(&request) {
            return Ok(request);
        }
        let n = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_power_of_two() {
            let from = request
                .remote_addr()
                .map_or_else(|| "an unknown address".to_string(), |a| a.to_string());
            log::warn!(
                target: "ballista::s3trawl",
                "{} refused a request from {from} without the cluster's secret ({n} so far)",
                self.role
            );
        }
        Err(Status::unauthenticated(REFUSED))
    }
}

/// Whether `a` and `b` are equal, in time that depends on their lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The hex HMAC-SHA256 of [`TOKEN_LABEL`] under `secret`.
fn token_of(secret: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let tag = ring::hmac::sign(&key, TOKEN_LABEL);
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The secret in `path`: its first line, trimmed. The file must not be readable by others.
fn read_secret_file(path: &Path) -> std::result::Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{}: the secret file is readable by others (mode {:o}): chmod 600 it",
                path.display(),
                mode & 0o777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().next().unwrap_or_default().trim().to_string())
}

/// rustls's process-wide cryptography (ring, which the rest of the program already uses); the
/// servers' TLS needs one chosen.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_not_the_secret_and_depends_on_it() {
        let a = token_of(b"0123456789abcdef");
        assert_eq!(a.len(), 64);
        assert!(!a.contains("0123456789abcdef"));
        assert_ne!(a, token_of(b"0123456789abcdeg"));
        assert_eq!(a, token_of(b"0123456789abcdef"));
    }

    #[test]
    fn requests_are_admitted_by_their_token_only() {
        let credentials = Credentials::from_secret("a secret of enough length");
        let checker = credentials.checker("test");
        let with = |agent: &str| {
            let mut request = Request::new(());
            request
                .metadata_mut()
                .insert("user-agent", agent.parse().unwrap());
            checker.admits(&request)
        };
        let good = format!("{TOKEN_PREFIX}{}", credentials.token);
        assert!(with(&good));
        assert!(with(&format!("{good} tonic/0.14.9")));
        assert!(with(&format!("grpc-go/1 {good}")));
        assert!(!with("tonic/0.14.9"));
        assert!(!with(&format!("{TOKEN_PREFIX}{}", &credentials.token[1..])));
        assert!(!with(&format!(
            "{TOKEN_PREFIX}{}",
            Credentials::from_secret("another secret of length").token
        )));
        assert!(!checker.admits(&Request::new(())));
    }

    #[test]
    fn credentials_never_print_their_token() {
        let credentials = Credentials::from_secret("a secret of enough length");
        let shown = format!("{credentials:?}");
        assert!(!shown.contains(&*credentials.token), "{shown}");
    }

    #[test]
    fn a_secret_file_readable_by_others_or_a_short_secret_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "0123456789abcdef0123\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let spec = AuthSpec {
            secret_file: Some(path.clone()),
            ..AuthSpec::default()
        };
        let e = Credentials::load(&spec, "test").unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let loaded = Credentials::load(&spec, "test").unwrap();
        assert_eq!(
            loaded.token,
            Credentials::from_secret("0123456789abcdef0123").token
        );
        std::fs::write(&path, "short\n").unwrap();
        let e = Credentials::load(&spec, "test").unwrap_err().to_string();
        assert!(e.contains("shorter than"), "{e}");
    }
}
