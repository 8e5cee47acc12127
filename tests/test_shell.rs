//! `s3trawl shell` without a terminal: statements from stdin, as a script would send them.

mod common;

use std::io::Write;
use std::process::{Output, Stdio};

use common::{ok, project, s3trawl, stderr, stdout};

fn shell(args: &[&str], input: &str) -> Output {
    let mut child = common::command_in(&project())
        .arg("shell")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

const BY_OPERATION: &str =
    "SELECT operation, count(*) AS n FROM access_logs GROUP BY 1 ORDER BY 2 DESC, 1";

#[test]
fn statements_from_stdin_answer_like_sql() {
    let one_shot = ok(s3trawl(&["sql", "--logs", "sample-logs", BY_OPERATION]));
    let trail = ok(s3trawl(&[
        "sql",
        "--logs",
        "sample-logs",
        "--format",
        "csv",
        "SELECT eventname, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY 1",
    ]));
    // A statement over three lines, then a dot command, then two statements on one line.
    let input = format!(
        "{}\n  FROM access_logs GROUP BY 1\n  ORDER BY 2 DESC, 1;\n.format csv\nSELECT eventname, count(*) AS n FROM cloudtrail GROUP BY 1 ORDER BY 1; SELECT 'a;b' AS text;\n",
        BY_OPERATION.split(" FROM ").next().unwrap()
    );
    let out = shell(&["--logs", "sample-logs"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{one_shot}{trail}text\na;b\n"));
    // The one bad line of the sample logs is reported once, not after every statement.
    assert_eq!(
        stderr(&out).matches("1 reject in 1 object").count(),
        1,
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_error_does_not_stop_the_statements_after_it_and_sets_the_exit_code() {
    let out = shell(
        &["--logs", "sample-logs", "--format", "csv"],
        "SELECT nosuch FROM access_logs;\n.nosuch\n.format yaml\nSELECT count(*) AS n FROM rejects;\nSELECT 2 AS last",
    );
    assert_eq!(out.status.code(), Some(2));
    // The statement after the errors ran, and so did the last one without a ';'.
    assert_eq!(stdout(&out), "n\n1\nlast\n2\n");
    let err = stderr(&out);
    assert!(
        err.contains("error: Schema error: No field named nosuch"),
        "{err}"
    );
    assert!(err.contains("unknown command \".nosuch\""), "{err}");
    assert!(err.contains("unknown format \"yaml\""), "{err}");
}

#[test]
fn dot_commands_list_tables_and_schemas_and_quit() {
    let out = shell(
        &["--logs", "sample-logs"],
        ".tables\n.format csv\n.schema rejects\n.quit\nSELECT 1;\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.by_ref().take(3).collect::<Vec<_>>(),
        vec!["access_logs", "cloudtrail", "rejects"]
    );
    let columns: Vec<&str> = lines
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        columns,
        vec![
            "log_object",
            "log_line",
            "byte_offset",
            "log_kind",
            "reason",
            "raw_line"
        ]
    );
    // Nothing ran after .quit.
    assert!(!text.contains("Int64(1)"));
}

#[test]
fn sql_without_a_statement_points_to_the_shell() {
    let out = s3trawl(&["sql", "--logs", "sample-logs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("s3trawl shell"), "{}", stderr(&out));
}

#[test]
fn the_readme_session_prints_what_the_readme_says() {
    let readme = std::fs::read_to_string(project().join("README.md")).unwrap();
    let start = readme
        .find("s3trawl> ")
        .expect("the README shows a session");
    let block = &readme[start..readme[start..].find("```").unwrap() + start];
    let (mut input, mut expected) = (String::new(), String::new());
    for line in block.lines() {
        match line
            .strip_prefix("s3trawl> ")
            .or_else(|| line.strip_prefix("     ->  "))
        {
            Some(statement) => {
                input.push_str(statement);
                input.push('\n');
            }
            None => {
                expected.push_str(line);
                expected.push('\n');
            }
        }
    }
    assert!(input.contains("access_logs"), "{input}");
    let out = shell(&["--logs", "sample-logs"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
}

/// A typo is said once, with the token and its place: not DataFusion's debug text followed by
/// the same message again (through `sql -e`, the statement argument and the shell alike).
#[test]
fn a_sql_typo_is_said_once_with_its_place() {
    let said = "Expected: end of statement, found: FORM at Line: 1, Column: 10";
    let typo = "SELECT * FORM access_logs";
    for o in [
        s3trawl(&["sql", "--logs", "sample-logs", "-e", typo]),
        s3trawl(&["sql", "--logs", "sample-logs", typo]),
        shell(&["--logs", "sample-logs"], &format!("{typo};\n")),
    ] {
        let err = stderr(&o);
        assert_eq!(err.matches(said).count(), 1, "{err}");
        assert!(!err.contains("ParserError("), "{err}");
        assert_ne!(o.status.code(), Some(0), "{err}");
    }
}

/// Ctrl-C while a statement runs brings the prompt back within a second, and the session still
/// answers (through a pseudo-terminal: tests/shell_pty.py).
#[test]
fn ctrl_c_cancels_the_running_statement_not_the_session() {
    let o = std::process::Command::new("python3")
        .arg(project().join("tests/shell_pty.py"))
        .arg(env!("CARGO_BIN_EXE_s3trawl"))
        .arg(project().join("sample-logs"))
        .output()
        .expect("python3");
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
