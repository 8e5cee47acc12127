//! Bounded memory at the command line (issue #29): what no query pool accounts for still ends
//! with one line and exit 2, never a kill; a table into a pipe never formats a huge cell whole.

mod common;

use common::{s3trawl, stderr, stdout};

/// A value no pool counts (one string of 300 MB, made by the query itself) under a 64 MiB
/// limit: the watchdog ends the command with the one-line message, not the kernel.
#[test]
fn memory_no_pool_counts_ends_with_one_line_not_a_kill() {
    let d = tempfile::tempdir().unwrap();
    let out = s3trawl(&[
        "--memory-limit",
        "64MiB",
        "sql",
        "--logs",
        d.path().to_str().unwrap(),
        "SELECT length(repeat('x', 300000000)) AS n, repeat('y', 300000000) AS big",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}\n{}", stdout(&out));
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("memory limit")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("64 MiB memory limit"), "{err}");
    assert!(lines[0].contains("raise --memory-limit"), "{err}");
}

/// A cell of a megabyte into a pipe: the table shows its first characters and says it is cut,
/// the JSON keeps it whole.
#[test]
fn a_huge_cell_in_a_table_is_cut_and_json_keeps_it() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let query = "SELECT repeat('z', 1000000) AS big";
    let out = s3trawl(&["sql", "--logs", dir, query]);
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(table.contains("(cut; --format json for all)"), "{table}");
    assert!(table.len() < 40_000, "{} bytes", table.len());
    let out = s3trawl(&["sql", "--format", "json", "--logs", dir, query]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json[0]["big"].as_str().unwrap().len(), 1_000_000);
}

/// A large plain object is read through `mmap`: its pages are the page cache's, not the
/// command's, so a scan of 320 MB under a 64 MiB limit runs to the end (the watchdog counts
/// anonymous memory only).
#[test]
fn memory_a_large_mapped_object_is_not_counted_against_the_limit() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("2026-11-20-10-00-00-ABCDEF0123456789");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let line = format!("{}\n", "x".repeat(1023));
        for _ in 0..(320 << 10) {
            f.write_all(line.as_bytes()).unwrap();
        }
    }
    let out = s3trawl(&[
        "--memory-limit",
        "64MiB",
        "sql",
        "--format",
        "csv",
        "--logs",
        d.path().to_str().unwrap(),
        "SELECT count(*) AS n FROM rejects",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "n\n327680", "{}", stderr(&out));
}
