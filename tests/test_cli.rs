//! The command-line habits users expect: completions and man pages, a config found without
//! `--config` and `config show`, colour on a terminal only, a statement that cannot be taken
//! for a path (or a path for a statement), `--maxrows`, machine-readable summaries, and Tab in
//! the shell (through a pseudo-terminal made by `script`).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{command_in, ok, project, s3trawl, stderr, stdout};

#[test]
fn completions_and_man_pages() {
    for (shell, mark) in [
        ("bash", "_s3trawl()"),
        ("zsh", "#compdef s3trawl"),
        ("fish", "complete -c s3trawl"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[s3trawl]"),
    ] {
        let script = ok(s3trawl(&["completions", shell]));
        assert!(
            script.contains(mark),
            "{shell}: {}",
            &script[..200.min(script.len())]
        );
        assert!(
            script.contains("detect") && script.contains("--fail-on"),
            "{shell}"
        );
    }
    let page = ok(s3trawl(&["man"]));
    assert!(
        page.starts_with(".ie") || page.contains(".TH s3trawl"),
        "{}",
        &page[..200]
    );
    let d = tempfile::tempdir().unwrap();
    let o = s3trawl(&["man", "--out", d.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for name in [
        "s3trawl.1",
        "s3trawl-detect.1",
        "s3trawl-sql.1",
        "s3trawl-config.1",
    ] {
        let text = std::fs::read_to_string(d.path().join(name)).unwrap();
        assert!(text.contains(".TH"), "{name}");
    }
    let detect = std::fs::read_to_string(d.path().join("s3trawl-detect.1")).unwrap();
    assert!(
        detect.contains("fail\\-on"),
        "the detect page has its options"
    );
}

/// A config that names a detection the pack does not have: reading it is an error that says
/// so, which shows which config a command read.
fn config_with_unknown(file: &Path, id: &str) {
    std::fs::write(file, format!("[detections.{id}]\nenabled = false\n")).unwrap();
}

#[test]
fn the_config_is_found_without_config_and_shown_with_its_origin() {
    let d = tempfile::tempdir().unwrap();
    let logs = project().join("sample-logs");
    let logs = logs.to_str().unwrap();
    let run = |dir: &Path, env: &[(&str, &str)], args: &[&str]| {
        let mut c = command_in(dir);
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let detect = ["detect", "--quiet", "--logs", logs];
    // None anywhere: the pack runs with no config.
    let o = run(d.path(), &[], &detect);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let shown = stdout(&run(d.path(), &[], &["config", "show"]));
    assert!(
        shown.contains("(none)") && shown.contains("looked for"),
        "{shown}"
    );

    // The user's config folder.
    let xdg = d.path().join("xdg");
    std::fs::create_dir_all(xdg.join("s3trawl")).unwrap();
    config_with_unknown(&xdg.join("s3trawl/config.toml"), "from-xdg");
    let xdg_env = [("XDG_CONFIG_HOME", xdg.to_str().unwrap())];
    let o = run(d.path(), &xdg_env, &detect);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("from-xdg"), "{}", stderr(&o));
    let shown = stdout(&run(d.path(), &xdg_env, &["config", "show"]));
    assert!(
        shown.contains("config.toml") && shown.contains("the user's config folder"),
        "{shown}"
    );

    // ./s3trawl.toml wins over the user's.
    config_with_unknown(&d.path().join("s3trawl.toml"), "from-cwd");
    let o = run(d.path(), &xdg_env, &detect);
    assert!(stderr(&o).contains("from-cwd"), "{}", stderr(&o));
    // S3TRAWL_CONFIG over that, --config over everything.
    let env_file = d.path().join("env.toml");
    config_with_unknown(&env_file, "from-env");
    let with_env = [xdg_env[0], ("S3TRAWL_CONFIG", env_file.to_str().unwrap())];
    let o = run(d.path(), &with_env, &detect);
    assert!(stderr(&o).contains("from-env"), "{}", stderr(&o));
    let flag_file = d.path().join("flag.toml");
    std::fs::write(
        &flag_file,
        "[settings]\nbaseline_days = 3\ns3_concurrency = 9\n",
    )
    .unwrap();
    let mut args = detect.to_vec();
    args.extend(["--config", flag_file.to_str().unwrap()]);
    let o = run(d.path(), &with_env, &args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));

    // config show: each setting and where it came from.
    let shown = stdout(&run(
        d.path(),
        &[("S3TRAWL_THREADS", "3")],
        &["config", "show", "--config", flag_file.to_str().unwrap()],
    ));
    for expected in [
        "--config",
        "baseline_days    3",
        "s3_concurrency   9",
        "S3TRAWL_THREADS",
        "delivery_slack   12 hours",
    ] {
        assert!(shown.contains(expected), "{expected}: {shown}");
    }
    let shown = stdout(&run(
        d.path(),
        &[],
        &[
            "--s3-concurrency",
            "5",
            "config",
            "show",
            "--config",
            flag_file.to_str().unwrap(),
        ],
    ));
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("s3_concurrency   5") && l.ends_with("--s3-concurrency")),
        "{shown}"
    );
}

#[test]
fn severities_are_coloured_on_a_terminal_only() {
    let coloured = |o: &std::process::Output| stdout(o).contains("\x1b[");
    let detect = ["detect", "--quiet", "--logs", "sample-logs"];
    // Into a pipe: plain, unless asked.
    assert!(!coloured(&s3trawl(&detect)));
    let mut always = detect.to_vec();
    always.extend(["--color", "always"]);
    assert!(coloured(&s3trawl(&always)));
    let mut list = vec!["detect", "--list", "--color", "always"];
    assert!(coloured(&s3trawl(&list)));
    list[3] = "never";
    assert!(!coloured(&s3trawl(&list)));
    // Never into a file, even when asked.
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("findings.txt");
    let mut to_file = always.clone();
    to_file.extend(["-o", file.to_str().unwrap()]);
    let _ = s3trawl(&to_file);
    assert!(!std::fs::read_to_string(&file).unwrap().contains('\x1b'));
    // On a terminal (a pseudo-terminal made by `script`): coloured, unless NO_COLOR.
    let on_terminal = |no_color: Option<&str>| {
        let command = format!(
            "{} detect --quiet --logs sample-logs",
            env!("CARGO_BIN_EXE_s3trawl")
        );
        let mut c = Command::new("script");
        c.args(["-qec", &command, "/dev/null"])
            .current_dir(project())
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        c.output().expect("script(1) runs")
    };
    let o = on_terminal(None);
    assert!(
        stdout(&o).contains("\x1b[31mhigh") || stdout(&o).contains("\x1b[1;31mcritical"),
        "{}",
        stdout(&o)
    );
    assert!(
        !on_terminal(Some("1"))
            .stdout
            .windows(2)
            .any(|w| w == b"\x1b[")
    );
    // report's summary on stderr: the counts by severity, coloured when asked.
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r");
    let out = out.to_str().unwrap();
    let report = |color: &str| {
        s3trawl(&[
            "report",
            "--quiet",
            "--logs",
            "sample-logs",
            "--color",
            color,
            "--out",
            out,
        ])
    };
    let o = report("always");
    assert!(
        stderr(&o).contains("\x1b[31m") && stderr(&o).contains(" high"),
        "{}",
        stderr(&o)
    );
    let o = report("auto");
    assert!(
        !stderr(&o).contains('\x1b') && stderr(&o).contains(" high"),
        "{}",
        stderr(&o)
    );
}

/// A typo in the statement is the parser's error, not "is not a SQL statement but a path".
#[test]
fn a_sql_typo_gets_the_parsers_error() {
    let o = s3trawl(&["sql", "--logs", "sample-logs", "SELECT * FORM access_logs"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("is not a SQL statement"), "{err}");
    assert!(err.to_lowercase().contains("form"), "{err}");
}

#[test]
fn a_path_is_never_taken_for_a_statement() {
    let o = s3trawl(&["sql", "--logs", "sample-logs", "sample-logs/access"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("\"sample-logs/access\", is not a SQL statement but a path")
            && stderr(&o).contains("-e SQL"),
        "{}",
        stderr(&o)
    );
    let o = s3trawl(&["sql", "--logs", "sample-logs", "s3://bucket/logs/"]);
    assert!(stderr(&o).contains("but a path"), "{}", stderr(&o));
    // -e, and the statement after --logs as before.
    let count = "SELECT count(*) AS n FROM access_logs";
    let a = ok(s3trawl(&[
        "sql",
        "--format",
        "csv",
        "--logs",
        "sample-logs",
        "-e",
        count,
    ]));
    let b = ok(s3trawl(&[
        "sql",
        "--format",
        "csv",
        "--logs",
        "sample-logs",
        count,
    ]));
    assert_eq!(a, b);
    assert!(a.starts_with("n\n"));
    let o = s3trawl(&["sql", "--logs", "sample-logs", "-e", count, "SELECT 2"]);
    assert_eq!(o.status.code(), Some(2), "-e and a statement conflict");
}

#[test]
fn tables_show_maxrows_rows_and_say_so() {
    let all = "SELECT requestid FROM access_logs ORDER BY requestid";
    let total = ok(s3trawl(&[
        "sql",
        "--format",
        "csv",
        "--logs",
        "sample-logs",
        all,
    ]))
    .lines()
    .count()
        - 1;
    assert!(total > 5);
    let cut = ok(s3trawl(&[
        "sql",
        "--maxrows",
        "3",
        "--logs",
        "sample-logs",
        all,
    ]));
    assert!(cut.contains(&format!("3 of {total} rows shown")), "{cut}");
    assert_eq!(cut.lines().filter(|l| l.starts_with("| ")).count(), 1 + 3);
    // Into a pipe, every row by default.
    let piped = ok(s3trawl(&["sql", "--logs", "sample-logs", all]));
    assert!(!piped.contains("rows shown"));
    assert_eq!(
        piped.lines().filter(|l| l.starts_with("| ")).count(),
        1 + total
    );
}

#[test]
fn summaries_for_scripts() {
    let list: serde_json::Value =
        serde_json::from_str(&ok(s3trawl(&["detect", "--list", "--format", "json"]))).unwrap();
    let list = list.as_array().unwrap();
    assert!(list.len() >= 30);
    let burst = list
        .iter()
        .find(|d| d["id"] == "access-denied-burst")
        .unwrap();
    assert_eq!(burst["severity"], "medium");
    assert!(burst["params"].as_array().is_some_and(|p| !p.is_empty()));

    let d = tempfile::tempdir().unwrap();
    let lake = d.path().join("lake");
    let o = s3trawl(&[
        "ingest",
        "--quiet",
        "sample-logs",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = summary["rows"].as_u64().unwrap();
    let tables = &summary["tables"];
    assert_eq!(
        rows,
        tables["access_logs"]["rows"].as_u64().unwrap()
            + tables["cloudtrail"]["rows"].as_u64().unwrap_or(0)
    );
    assert!(summary["objects"].as_u64().unwrap() > 0 && summary["bytes"].as_u64().unwrap() > 0);
    assert!(summary["seconds"].as_f64().is_some());
    assert_eq!(summary["already"], 0);
    let in_lake = ok(s3trawl(&[
        "sql",
        "--format",
        "csv",
        "--lake",
        lake.to_str().unwrap(),
        "SELECT (SELECT count(*) FROM access_logs) + (SELECT count(*) FROM cloudtrail) AS n",
    ]));
    assert_eq!(
        in_lake.lines().nth(1).unwrap().parse::<u64>().unwrap(),
        rows
    );
}

#[test]
fn the_shell_completes_on_tab() {
    // Keystrokes through a pseudo-terminal: `access_l` and Tab, `useridentity.ar` and Tab.
    let command = format!("{} shell --logs sample-logs", env!("CARGO_BIN_EXE_s3trawl"));
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(project())
        .env("NO_COLOR", "1")
        .env("HOME", std::env::temp_dir())
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) runs");
    let mut input = child.stdin.take().unwrap();
    let send = |input: &mut std::process::ChildStdin, keys: &str| {
        input.write_all(keys.as_bytes()).unwrap();
        input.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
    };
    std::thread::sleep(std::time::Duration::from_millis(1500));
    send(&mut input, "SELECT count(*) AS n FROM access_l\t;\r");
    send(
        &mut input,
        "SELECT useridentity.ar\t AS who FROM cloudtrail WHERE useridentity.arn IS NOT NULL LIMIT 1;\r",
    );
    send(&mut input, ".quit\r");
    drop(input);
    let o = child.wait_with_output().unwrap();
    let out = stdout(&o);
    assert!(
        out.contains("access_logs"),
        "the table name completed: {out}"
    );
    assert!(out.contains("| n "), "the completed statement ran: {out}");
    assert!(
        out.contains("useridentity.arn"),
        "the struct field completed: {out}"
    );
    assert!(out.contains("| who "), "{out}");
}

/// On a terminal, `detect` shows which detection runs, k of N; into a pipe it shows nothing
/// (through a pty: tests/pty_run.py).
#[test]
fn detection_progress_on_a_terminal_only() {
    let o = Command::new("python3")
        .current_dir(project())
        .arg(project().join("tests/pty_run.py"))
        .arg(env!("CARGO_BIN_EXE_s3trawl"))
        .args(["detect", "--logs", "sample-logs", "--fail-on", "critical"])
        .output()
        .expect("python3");
    let seen = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{seen}");
    let pack = s3trawl::detect::pack::builtin().unwrap().len();
    assert!(
        seen.contains("detecting [") && seen.contains(&format!("/{pack} ")),
        "{seen}"
    );
    let piped = s3trawl(&["detect", "--logs", "sample-logs", "--fail-on", "critical"]);
    assert!(!stderr(&piped).contains("detecting"), "{}", stderr(&piped));
}

/// `generate` says how far it is on a terminal, in the unit of --size.
#[test]
fn generate_progress_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new("python3")
        .arg(project().join("tests/pty_run.py"))
        .arg(env!("CARGO_BIN_EXE_s3trawl"))
        .args(["generate", "access-logs", "--size", "4MB", "--objects", "2"])
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("python3");
    let seen = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{seen}");
    assert!(
        seen.contains("generating [") && seen.contains("/4.00 MiB"),
        "{seen}"
    );
}

/// `--logs` pointed at a folder of configuration files (`/etc`) is an error naming what is
/// there, for sql, detect and ingest; an object named like a log but holding garbage is never
/// that: its rejects are the news, and the exit code stays as it was.
#[test]
fn the_wrong_folder_is_an_error_naming_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(etc.join("ssh")).unwrap();
    std::fs::write(etc.join("passwd"), "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    std::fs::write(etc.join("hosts"), "127.0.0.1 localhost\n::1 localhost\n").unwrap();
    std::fs::write(etc.join("ssh/sshd_config"), "PermitRootLogin no\n").unwrap();
    let etc_arg = etc.to_str().unwrap();
    for args in [
        vec!["sql", "--logs", etc_arg, "SELECT count(*) FROM access_logs"],
        vec!["detect", "--logs", etc_arg],
    ] {
        let o = s3trawl(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("not a log location: 3 objects read") && err.contains("passwd"),
            "{args:?}: {err}"
        );
    }
    let lake = dir.path().join("lake");
    let o = s3trawl(&[
        "ingest",
        "--logs",
        etc_arg,
        "--lake",
        lake.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a log location"), "{}", stderr(&o));
    // Named like an access log, holding garbage: rejects, not "the wrong folder".
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("2026-11-20-10-15-32-7A1B2C3D4E5F6A7B"),
        "garbage an attacker wrote over the evidence\n",
    )
    .unwrap();
    let o = s3trawl(&[
        "sql",
        "--logs",
        logs.to_str().unwrap(),
        "SELECT count(*) FROM access_logs",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 reject") && !stderr(&o).contains("not a log location"),
        "{}",
        stderr(&o)
    );
}
