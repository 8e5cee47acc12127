//! The HTML report as a person sees it: `report.html` of a real run opened in headless
//! Chromium (Debian's `chromium`; `.ci/run` installs it), offline. It must render with no
//! console message, no refused resource and no network request of its own (every request the
//! browser makes goes to a proxy the test holds on 127.0.0.1, which notes them; Chromium's own
//! calls to Google's services are told apart), and its screenshot must show the report, not a
//! blank page. A crafted page that fetches and runs a script shows the checks can fail.
//!
//! Without Chromium the test says it was skipped; under CI (`CI` set) that is a failure.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{project, stderr};

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing: CI installs Debian's chromium for this test"
        );
        eprintln!("SKIPPED: no chromium on the PATH (Debian: apt-get install chromium)");
    }
    found
}

/// A proxy that notes the first line of every request made to it and answers none.
struct Sink {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sink {
    fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (Arc::clone(&requests), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let _ = stream.set_nonblocking(false);
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
                            let mut request = [0u8; 1024];
                            let n = stream.read(&mut request).unwrap_or(0);
                            // A connection that sends nothing is Chromium's speculative
                            // preconnect (seen once under load in CI), not a request: no byte
                            // of the page left through it.
                            if n == 0 {
                                continue;
                            }
                            let line = String::from_utf8_lossy(&request[..n])
                                .lines()
                                .next()
                                .unwrap_or("(no line)")
                                .to_string();
                            requests.lock().unwrap().push(line);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Sink {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// The requests made, but those of Chromium's own services (time, sign-in, search), which
    /// the browser makes whatever the page, flags or not.
    fn page_requests(self) -> Vec<String> {
        let all = self.requests.lock().unwrap().clone();
        all.into_iter()
            .filter(|line| {
                let host = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .trim_start_matches("http://")
                    .trim_start_matches("https://");
                let host = host.split(['/', ':']).next().unwrap_or("");
                !["google.com", "googleapis.com", "gstatic.com", "gvt1.com"]
                    .iter()
                    .any(|d| host == *d || host.ends_with(&format!(".{d}")))
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What went wrong rendering a page, from Chromium's log (every console message, a refused
/// resource, a failed load) and the page's requests.
fn problems(log: &str, requests: &[String]) -> Vec<String> {
    let mut found: Vec<String> = log
        .lines()
        .filter(|l| {
            [
                "CONSOLE",
                "Uncaught",
                "Refused to",
                "net::ERR_",
                "Failed to load",
            ]
            .iter()
            .any(|bad| l.contains(bad))
        })
        .map(str::to_string)
        .collect();
    found.extend(requests.iter().map(|r| format!("a network request: {r}")));
    found
}

/// Renders `page`: (Chromium's success and log, the page's requests).
fn render(browser: &Path, page: &Path, png: &Path, dir: &Path) -> (bool, String, Vec<String>) {
    let sink = Sink::start();
    let (ok, log) = screenshot(browser, page, png, sink.port, &dir.join("profile"));
    (ok, log, sink.page_requests())
}

/// Opens `page` in headless Chromium and takes a screenshot: (success, its stderr).
fn screenshot(
    browser: &Path,
    page: &Path,
    png: &Path,
    proxy: u16,
    profile: &Path,
) -> (bool, String) {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-default-apps",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--window-size=1280,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{proxy}"))
        .arg("--proxy-bypass-list=<-loopback>")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = reader.join().unwrap_or_default();
    (status.is_some_and(|s| s.success()), log)
}

/// (pixels, pixels that are not the page's background, distinct colours) of an RGB(A) PNG.
fn ink(png: &Path) -> (usize, usize, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "an RGB screenshot: {:?}", info.color_type);
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let background = pixels[pixels.len() - 1];
    let inked = pixels.iter().filter(|p| p[..3] != background[..3]).count();
    let colours: std::collections::HashSet<[u8; 3]> =
        pixels.iter().map(|p| [p[0], p[1], p[2]]).collect();
    (pixels.len(), inked, colours.len())
}

#[test]
fn the_html_report_renders_offline_in_a_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("report");
    let o = common::s3trawl(&[
        "report",
        "--quiet",
        "--logs",
        "sample-logs",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let page = out.join("report.html");
    let png = d.path().join("report.png");

    // The checks can fail: a page that fetches and runs a script under the same policy.
    let bad = d.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!doctype html><html><head><meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; img-src data:\"></head><body><p>x</p>\
         <img src=\"http://192.0.2.1/x.png\"><script>console.error('boom')</script></body></html>",
    )
    .unwrap();
    let (ok, log, requests) = render(&browser, &bad, &d.path().join("bad.png"), d.path());
    assert!(ok, "chromium failed:\n{log}");
    assert!(
        problems(&log, &requests).len() >= 2,
        "the checks see a refused image and a refused script: {log}"
    );

    let (ok, log, requests) = render(&browser, &page, &png, d.path());
    assert!(ok, "chromium failed:\n{log}");
    let found = problems(&log, &requests);
    assert!(found.is_empty(), "{found:#?}");
    let (pixels, inked, colours) = ink(&png);
    assert!(
        inked * 10 > pixels && colours > 50,
        "a blank page? {inked} of {pixels} pixels inked, {colours} colours"
    );
    // The README shows a screenshot of a real report.
    let readme = std::fs::read_to_string(project().join("README.md")).unwrap();
    let shown = readme
        .lines()
        .find_map(|l| l.split("](").nth(1).filter(|_| l.contains("![")))
        .and_then(|rest| rest.split(')').next())
        .expect("an image in the README");
    assert!(
        project().join(shown).is_file(),
        "the README's screenshot {shown} is in the repository"
    );
}
