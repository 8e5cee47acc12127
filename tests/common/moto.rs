//! An S3-compatible server (moto's) on 127.0.0.1 for one test, stopped when it is dropped.
//!
//! Uses `moto_server` from the PATH, or moto in `python3`; without either, the first test that
//! needs it installs moto into `target/test-moto` (a Python virtual environment, from PyPI),
//! so `cargo test` on a fresh machine needs nothing installed by hand but Python 3 with venv.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits until something listens on the port, or panics with `what`'s log.
pub fn wait_for_port(port: u16, child: &mut Child, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().expect("wait on the server") {
            let err = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} exited ({status}) before listening: {err}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen in 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How to start moto's server: the program and its arguments (see the module documentation).
fn moto_program() -> &'static (String, Vec<String>) {
    static FOUND: std::sync::OnceLock<(String, Vec<String>)> = std::sync::OnceLock::new();
    FOUND.get_or_init(|| {
        let runs = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if runs("moto_server", &["--help"]) {
            return ("moto_server".into(), Vec::new());
        }
        let module = vec!["-m".to_string(), "moto.server".to_string()];
        if runs("python3", &["-c", "import moto.server"]) {
            return ("python3".into(), module);
        }
        let venv = super::project().join("target").join("test-moto");
        let python = venv.join("bin").join("python");
        if !runs(python.to_str().unwrap(), &["-c", "import moto.server"]) {
            install_moto(&venv);
        }
        (python.to_string_lossy().into_owned(), module)
    })
}

/// Installs moto into the virtual environment `venv`: built beside it and renamed into place,
/// so that test processes running at once never see half an installation.
fn install_moto(venv: &Path) {
    let building = venv.with_file_name(format!("test-moto.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    eprintln!(
        "moto is not installed: installing it into {} (pip install 'moto[server]')",
        venv.display()
    );
    let ok = |c: &mut Command| c.status().is_ok_and(|s| s.success());
    assert!(
        ok(Command::new("python3").args(["-m", "venv"]).arg(&building)),
        "python3 -m venv failed: the S3 tests need Python 3 with venv (Debian: python3-venv)"
    );
    assert!(
        ok(Command::new(building.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "moto[server]"
        ])),
        "pip install 'moto[server]' failed"
    );
    // Another process may have finished first: then its installation is used.
    if std::fs::rename(&building, venv).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
}

/// An S3-compatible server for one test; killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    /// Its log (one line per request: a pipe nobody reads would fill and stall the server).
    log: tempfile::NamedTempFile,
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let spawn = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(log.reopen()?)
                .spawn()
        };
        let (program, args) = moto_program();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = spawn(program, &args).expect("moto's server runs");
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        let port_log = moto.log.path().to_path_buf();
        wait_for_port(port, &mut moto.child, "moto_server", &port_log);
        moto
    }

    /// Creates a bucket (moto accepts an unsigned CreateBucket).
    pub fn create_bucket(&self, bucket: &str) {
        let host = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("connect to moto");
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    pub fn store(&self, bucket: &str) -> impl ObjectStore {
        AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .expect("an S3 store for moto")
    }

    /// Runs the binary with this server as its S3 endpoint.
    pub fn s3trawl(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(&self.endpoint, dir, args)
            .output()
            .expect("the binary runs")
    }

    /// The binary with `endpoint` (this server, or a proxy in front of it) as its S3 endpoint.
    pub fn command(&self, endpoint: &str, dir: &Path, args: &[&str]) -> Command {
        let mut c = super::command_in(dir);
        c.args(args)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
        c
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
