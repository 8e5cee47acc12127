//! `s3trawl cluster certs`: a certificate authority and certificates for a cluster's mutual TLS,
//! so that a deployment does not need openssl recipes.
//!
//! In: a folder, names, and the hosts each certificate is for. Out: `ca.pem` (give it to every
//! role and client as `--tls-ca`), `ca-key.pem` (keep it away from the cluster: it signs new
//! members), and per name `NAME.pem` and `NAME-key.pem` (`--tls-cert`, `--tls-key`). An
//! existing CA in the folder is reused, so more certificates can be made later. Keys are written
//! 0600, every file is created new (never through an existing file or symlink).

use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::error::{Error, Result};

/// What `certs` wrote.
#[derive(Debug)]
pub struct Written {
    pub ca: PathBuf,
    pub created_ca: bool,
    pub certificates: Vec<(PathBuf, PathBuf)>,
}

fn failed(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Cluster {
        address: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Makes (or reuses) the CA in `dir` and a certificate per name, each valid for `hosts`
/// (names or addresses) and usable as both server and client.
pub fn make(dir: &Path, names: &[String], hosts: &[String]) -> Result<Written> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let ca_path = dir.join("ca.pem");
    let ca_key_path = dir.join("ca-key.pem");
    let (issuer, created_ca) = if ca_path.exists() && ca_key_path.exists() {
        let key_pem =
            std::fs::read_to_string(&ca_key_path).map_err(|e| Error::io(&ca_key_path, e))?;
        let cert_pem = std::fs::read_to_string(&ca_path).map_err(|e| Error::io(&ca_path, e))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| failed(&ca_key_path, e))?;
        (
            Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|e| failed(&ca_path, e))?,
            false,
        )
    } else {
        let key = KeyPair::generate().map_err(|e| failed(dir, e))?;
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| failed(dir, e))?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "s3trawl cluster CA");
        params.distinguished_name = name;
        let cert = params.self_signed(&key).map_err(|e| failed(dir, e))?;
        write_new(&ca_key_path, key.serialize_pem().as_bytes(), 0o600)?;
        write_new(&ca_path, cert.pem().as_bytes(), 0o644)?;
        (Issuer::new(params, key), true)
    };
    let mut certificates = Vec::new();
    for name in names {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(failed(
                dir,
                format!("{name:?}: a certificate name is letters, digits, - and _"),
            ));
        }
        let key = KeyPair::generate().map_err(|e| failed(dir, e))?;
        let mut params = CertificateParams::new(hosts.to_vec()).map_err(|e| failed(dir, e))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name.as_str());
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| failed(dir, e))?;
        let cert_path = dir.join(format!("{name}.pem"));
        let key_path = dir.join(format!("{name}-key.pem"));
        write_new(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
        write_new(&cert_path, cert.pem().as_bytes(), 0o644)?;
        certificates.push((cert_path, key_path));
    }
    Ok(Written {
        ca: ca_path,
        created_ca,
        certificates,
    })
}

/// Writes a file that must not exist yet (so never through a planted file or symlink).
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| Error::io(path, e))?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_and_certificates_are_made_and_the_ca_reused() {
        let dir = tempfile::tempdir().unwrap();
        let hosts = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let first = make(dir.path(), &["scheduler".into()], &hosts).unwrap();
        assert!(first.created_ca);
        let ca = std::fs::read(&first.ca).unwrap();
        let second = make(dir.path(), &["client".into()], &hosts).unwrap();
        assert!(!second.created_ca);
        assert_eq!(std::fs::read(&second.ca).unwrap(), ca);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&second.certificates[0].1)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // A name already made is not overwritten.
        assert!(make(dir.path(), &["client".into()], &hosts).is_err());
        assert!(make(dir.path(), &["../x".into()], &hosts).is_err());
    }
}
