//! Our fault-injecting proxy (`tests/faults/proxy.py`) on 127.0.0.1 in front of an
//! S3-compatible server, for one test; it logs every request (`METHOD PATH -> fault`) and is
//! killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::moto::{free_port, wait_for_port};

/// The proxy for one test; killed on drop.
pub struct Proxy {
    child: Child,
    pub endpoint: String,
    rules: PathBuf,
    log: tempfile::NamedTempFile,
    _dir: tempfile::TempDir,
}

impl Proxy {
    pub fn start(upstream: &str) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules.json");
        std::fs::write(&rules, "[]").unwrap();
        let port = free_port();
        let upstream_port = upstream.rsplit(':').next().unwrap();
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new("python3")
            .arg(super::project().join("tests/faults/proxy.py"))
            .args([&port.to_string(), upstream_port, rules.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("python3 runs the proxy");
        wait_for_port(port, &mut child, "the fault proxy", log.path());
        Proxy {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            rules,
            log,
            _dir: dir,
        }
    }

    /// Replaces the faults (the proxy reads the file again, with fresh counts).
    pub fn faults(&self, rules: serde_json::Value) {
        // A new modification time even within the file system's clock resolution.
        std::thread::sleep(Duration::from_millis(20));
        let tmp = self.rules.with_extension("tmp");
        std::fs::write(&tmp, rules.to_string()).unwrap();
        std::fs::rename(&tmp, &self.rules).unwrap();
    }

    pub fn requests(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
