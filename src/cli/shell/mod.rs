//! `s3trawl shell`: an interactive SQL session over raw logs and/or a lake.
//!
//! ```text
//! s3trawl shell --logs s3://my-log-bucket/logs/ --lake /data/s3-lake
//! s3trawl> SELECT operation, count(*) FROM access_logs
//!      ->  GROUP BY 1 ORDER BY 2 DESC LIMIT 5;
//! ```
//!
//! Statements end with `;` and may span lines; dot commands (`.help`) act at once. The tables
//! are registered once, so objects are listed once per session (each statement reads them
//! again). With a terminal, lines are edited with rustyline and kept in `~/.s3trawl_history`;
//! without one (`s3trawl shell … < queries.sql`), statements are read from stdin, an error does
//! not stop the ones after it, and the exit code is 2 if any failed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use datafusion::prelude::SessionContext;
use rustyline::error::ReadlineError;

mod complete;

use std::sync::{Arc, Mutex};

use super::color::Stream;
use super::output::{self, Format, MaxRows};
use super::{Global, describe};
use crate::scan::ScanLog;
use complete::{SqlHelper, Vocabulary, user_tables};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  s3trawl shell --logs sample-logs\n  s3trawl> SELECT operation, count(*) FROM access_logs GROUP BY 1;"
)]
pub struct Args {
    #[command(flatten)]
    pub tables: super::Tables,
    /// Output format of results (`.format` changes it in the session).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Rows a table shows, or inf (`.maxrows` changes it) [default: 40 on a terminal, all into
    /// a pipe].
    #[arg(long, value_name = "N|inf")]
    pub maxrows: Option<MaxRows>,
    /// CSV exactly as the data is: no `'` before cells a spreadsheet would run as a formula,
    /// control characters kept.
    #[arg(long)]
    pub raw_csv: bool,
}

const HELP: &str = "\
Statements end with ';' and may span lines. Tables: access_logs, cloudtrail, rejects.
  .tables                 the tables
  .schema [TABLE]         columns and types (all tables without TABLE)
  .format table|csv|json|ndjson
  .maxrows N|inf          rows a table shows
  .timer on|off           print how long each statement took
  .help                   this text
  .quit                   leave (or Ctrl-D); Ctrl-C clears the statement being typed
Tab completes table and column names (struct fields too), functions, keywords and commands.";

struct Session {
    ctx: SessionContext,
    log: ScanLog,
    format: Format,
    max_rows: MaxRows,
    raw_csv: bool,
    timer: bool,
    /// Rejects already reported on stderr.
    reported: u64,
    failed: usize,
    /// Statements cancelled with Ctrl-C.
    cancelled: usize,
}

pub async fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let log = ScanLog::new();
    let ctx = args.tables.session(global, &log).await?;
    let mut session = Session {
        ctx,
        log,
        format: args.format,
        max_rows: MaxRows::resolve(args.maxrows, None),
        raw_csv: args.raw_csv,
        timer: false,
        reported: 0,
        failed: 0,
        cancelled: 0,
    };
    if std::io::stdin().is_terminal() {
        let dim_hints = global.color.colours(Stream::Stdout);
        interactive(&mut session, dim_hints).await?;
        Ok(ExitCode::SUCCESS)
    } else {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        let mut buffer = String::new();
        loop {
            let line = tokio::task::block_in_place(|| lines.next()).transpose()?;
            let Some(line) = line else { break };
            if !session.line(&mut buffer, &line).await {
                return Ok(exit_code(&session));
            }
            if session.cancelled > 0 {
                // A script interrupted stops there: its later statements may need this one.
                return Ok(ExitCode::from(130));
            }
        }
        if !buffer.trim().is_empty() {
            // A last statement without ';'.
            session.statement(buffer.trim()).await;
        }
        Ok(exit_code(&session))
    }
}

fn exit_code(session: &Session) -> ExitCode {
    if session.failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

async fn interactive(session: &mut Session, dim_hints: bool) -> anyhow::Result<()> {
    let pending = Arc::new(Mutex::new(String::new()));
    let mut editor = rustyline::Editor::<SqlHelper, rustyline::history::DefaultHistory>::new()?;
    editor.set_helper(Some(SqlHelper {
        vocabulary: Vocabulary::of(&session.ctx).await,
        pending: Arc::clone(&pending),
        dim_hints,
    }));
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".s3trawl_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    eprintln!(
        "s3trawl shell: tables access_logs, cloudtrail, rejects; .help for help, .quit to leave"
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "s3trawl> "
        } else {
            "     ->  "
        };
        if let Ok(mut p) = pending.lock() {
            p.clone_from(&buffer);
        }
        match tokio::task::block_in_place(|| editor.readline(prompt)) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                if !session.line(&mut buffer, &line).await {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}

impl Session {
    /// Takes one input line; false when the session should end.
    async fn line(&mut self, buffer: &mut String, line: &str) -> bool {
        if buffer.trim().is_empty() && line.trim_start().starts_with('.') {
            buffer.clear();
            return self.dot_command(line.trim()).await;
        }
        buffer.push_str(line);
        buffer.push('\n');
        let (statements, rest) = split_statements(buffer);
        *buffer = rest;
        let cancelled = self.cancelled;
        for statement in statements {
            self.statement(&statement).await;
            if self.cancelled > cancelled {
                // The statements after a cancelled one on the same line are not run either.
                break;
            }
        }
        true
    }

    async fn dot_command(&mut self, line: &str) -> bool {
        let mut words = line.split_whitespace();
        let command = words.next().unwrap_or_default();
        let argument = words.next();
        match (command, argument) {
            (".quit" | ".exit" | ".q", _) => return false,
            (".help", _) => println!("{HELP}"),
            (".tables", _) => println!("{}", user_tables(&self.ctx).join("\n")),
            (".schema", Some(table)) => self.statement(&format!("DESCRIBE {table}")).await,
            (".schema", None) => {
                for table in user_tables(&self.ctx) {
                    println!("{table}:");
                    self.statement(&format!("DESCRIBE {table}")).await;
                }
            }
            (".format", Some(name)) => match <Format as clap::ValueEnum>::from_str(name, true) {
                Ok(format) => self.format = format,
                Err(_) => self.error(&format!(
                    "unknown format {name:?}: table, csv, json or ndjson"
                )),
            },
            (".maxrows", Some(n)) => match n.parse::<MaxRows>() {
                Ok(m) => self.max_rows = m,
                Err(e) => self.error(&e),
            },
            (".timer", Some("on")) => self.timer = true,
            (".timer", Some("off")) => self.timer = false,
            _ => self.error(&format!("unknown command {line:?} (.help lists them)")),
        }
        true
    }

    async fn statement(&mut self, sql: &str) {
        let started = Instant::now();
        let work = async {
            let frame = crate::engine::names::sql(&self.ctx, sql).await?;
            let stream = frame.execute_stream().await?;
            output::write_stream(stream, self.format, None, self.max_rows, self.raw_csv).await
        };
        // Ctrl-C cancels the statement, not the session: its work is dropped (the query's
        // tasks with it) and the prompt comes back with every table and setting intact.
        let result = tokio::select! {
            result = work => Some(result),
            _ = tokio::signal::ctrl_c() => None,
        };
        let _ = output::stdout().flush();
        let Some(result) = result else {
            self.cancelled += 1;
            eprintln!(
                "\ncancelled after {:.1} s (Ctrl-C); the session is as it was",
                started.elapsed().as_secs_f64()
            );
            return;
        };
        match result {
            Ok(rows) => {
                if self.timer {
                    eprintln!(
                        "{rows} {} in {:.3} s",
                        super::summary::plural(rows, "row", "rows"),
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Err(e) if super::is_broken_pipe(&e) => {}
            Err(e) => self.error(&describe(&e)),
        }
        let summary = self.log.summary();
        if summary.rejects > self.reported {
            self.reported = summary.rejects;
            super::summary::print(&summary);
        }
    }

    fn error(&mut self, message: &str) {
        self.failed += 1;
        eprintln!("error: {}", crate::report::escape::terminal(message));
    }
}

/// The complete statements at the start of `text` (each without its `;`, blank ones dropped)
/// and what follows the last `;`. A `;` inside quotes or a `--` comment does not end one.
fn split_statements(text: &str) -> (Vec<String>, String) {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if comment {
            comment = c != '\n';
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '-') if chars.peek().is_some_and(|(_, n)| *n == '-') => comment = true,
            (None, ';') => {
                let statement = text[start..i].trim();
                if !statement.is_empty() {
                    statements.push(statement.to_string());
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    let rest = &text[start..];
    let rest = if rest.trim().is_empty() { "" } else { rest };
    (statements, rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn statements_end_at_semicolons_outside_quotes_and_comments() {
        let (done, rest) = split_statements("SELECT 1;\nSELECT ';' -- a; comment\n, 2; SELECT");
        assert_eq!(done, vec!["SELECT 1", "SELECT ';' -- a; comment\n, 2"]);
        assert_eq!(rest, " SELECT");
        let (done, rest) = split_statements("SELECT \"a;b\" FROM t\n");
        assert!(done.is_empty());
        assert_eq!(rest, "SELECT \"a;b\" FROM t\n");
        let (done, rest) = split_statements(";;  \n");
        assert!(done.is_empty());
        assert_eq!(rest, "");
        // Quotes doubled inside a string.
        let (done, _) = split_statements("SELECT 'it''s; fine';");
        assert_eq!(done, vec!["SELECT 'it''s; fine'"]);
    }
}
