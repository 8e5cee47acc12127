//! An S3-compatible server (moto's) on 127.0.0.1 for one test, stopped when it is dropped.
//!
//! Needs `moto_server` (`pip install 'moto[server]'`; `.ci/run` installs it).

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
        let child = spawn("moto_server", &[])
            .or_else(|_| spawn("python3", &["-m", "moto.server"]))
            .expect("moto_server runs: pip install 'moto[server]' (.ci/run installs it)");
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
        let mut c = Command::new(env!("CARGO_BIN_EXE_s3trawl"));
        c.args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
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
