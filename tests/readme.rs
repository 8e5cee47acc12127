//! The README's examples are tests: every `$ s3trawl …` line in a ```console block runs from the
//! project folder and must print exactly what follows it; the quick-start command must succeed.

mod common;

use common::*;

/// Splits a command line on spaces, keeping "double-quoted" arguments whole.
fn split(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    args.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            c => {
                current.push(c);
                started = true;
            }
        }
    }
    if started {
        args.push(current);
    }
    args
}

fn readme() -> String {
    std::fs::read_to_string(project().join("README.md")).unwrap()
}

/// (command, expected output) of each example.
fn examples() -> Vec<(String, String)> {
    let text = readme();
    let mut out = Vec::new();
    let mut in_console = false;
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if line.starts_with("```console") {
            in_console = true;
            continue;
        }
        if in_console && line.starts_with("```") {
            in_console = false;
            out.extend(current.take());
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            out.extend(current.take());
            current = Some((command.to_string(), String::new()));
        } else if let Some((_, expected)) = current.as_mut() {
            expected.push_str(line);
            expected.push('\n');
        }
    }
    out
}

#[test]
fn readme_examples_print_what_the_readme_says() {
    let examples = examples();
    assert!(examples.len() >= 4, "examples found: {}", examples.len());
    for (command, expected) in examples {
        let args = split(&command);
        assert_eq!(args[0], "s3trawl", "{command}");
        let args: Vec<&str> = args[1..].iter().map(String::as_str).collect();
        let actual = ok(s3trawl(&args));
        let normalise = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
        assert_eq!(normalise(&actual), normalise(&expected), "{command}");
    }
}

#[test]
fn readme_quick_start_runs() {
    let text = readme();
    let line = text
        .lines()
        .find(|l| l.starts_with("cargo run --release -- "))
        .expect("quick start command");
    let args = split(line.strip_prefix("cargo run --release -- ").unwrap());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ok(s3trawl(&args));
    assert!(
        out.contains("| REST.GET.OBJECT               | 7        |"),
        "{out}"
    );
    assert!(
        text.contains("\ncargo test\n"),
        "the README gives the test command CI runs"
    );
}

#[test]
fn splitting() {
    assert_eq!(
        split(r#"s3trawl sql --logs a "SELECT 'x' FROM t""#),
        vec!["s3trawl", "sql", "--logs", "a", "SELECT 'x' FROM t"]
    );
}
