//! Tab completion and hints in the shell.
//!
//! In: the line being edited (and the lines of the statement typed before it), and the
//! session's vocabulary, read once when the shell starts: its tables and their columns (struct
//! fields as `useridentity.arn`), its functions (ours among them: `parse_datetime`,
//! `json_extract_scalar`, …), SQL keywords and dot commands. Out: the words that complete the
//! one under the cursor — columns only of the tables the statement names, once it names one —
//! and, when a single word fits, the rest of it as a hint.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use arrow::datatypes::{DataType, Field};
use datafusion::prelude::SessionContext;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

/// The dot commands (see the shell's `.help`).
pub const DOT_COMMANDS: [&str; 7] = [
    ".tables", ".schema", ".format", ".timer", ".help", ".quit", ".exit",
];

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "LEFT",
    "RIGHT",
    "INNER",
    "OUTER",
    "FULL",
    "CROSS",
    "ON",
    "USING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "DISTINCT",
    "UNION",
    "ALL",
    "WITH",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "INTERVAL",
    "TIMESTAMP",
    "DATE",
    "CAST",
    "EXISTS",
    "EXPLAIN",
    "ANALYZE",
    "DESCRIBE",
    "SHOW",
    "TABLES",
    "VALUES",
    "TRUE",
    "FALSE",
    "OVER",
    "PARTITION",
    "FILTER",
    "WINDOW",
    "EXCEPT",
    "INTERSECT",
];

/// What the shell can complete.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    /// Each table with its columns (struct fields as `column.field`).
    pub tables: Vec<(String, Vec<String>)>,
    pub functions: Vec<String>,
}

/// The session's tables and views by name, sorted, without the tables behind the views (named
/// `__…`, not for users).
pub fn user_tables(ctx: &SessionContext) -> Vec<String> {
    let mut names = ctx
        .catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names())
        .unwrap_or_default();
    names.retain(|n| !n.starts_with("__"));
    names.sort();
    names
}

impl Vocabulary {
    /// The session's tables (not the hidden ones behind views) and functions.
    pub async fn of(ctx: &SessionContext) -> Self {
        let mut tables = Vec::new();
        for name in user_tables(ctx) {
            if let Ok(table) = ctx.table(name.as_str()).await {
                let mut columns = Vec::new();
                for field in table.schema().fields() {
                    paths(field, "", &mut columns);
                }
                tables.push((name, columns));
            }
        }
        let state = ctx.state();
        let functions: BTreeSet<String> = state
            .scalar_functions()
            .keys()
            .chain(state.aggregate_functions().keys())
            .chain(state.window_functions().keys())
            .cloned()
            .collect();
        Vocabulary {
            tables,
            functions: functions.into_iter().collect(),
        }
    }

    /// The words that complete `word` in a statement whose text is `statement`.
    pub fn complete(&self, statement: &str, word: &str) -> Vec<String> {
        if word.starts_with('.') && statement.trim() == word {
            return matching(DOT_COMMANDS.iter().map(|c| c.to_string()), word);
        }
        let named: Vec<&(String, Vec<String>)> = self
            .tables
            .iter()
            .filter(|(t, _)| names_word(statement, t))
            .collect();
        let in_scope = if named.is_empty() {
            self.tables.iter().collect()
        } else {
            named
        };
        let mut words: Vec<String> = Vec::new();
        if let Some((qualifier, _)) = word.rsplit_once('.') {
            // `table.column`, or a struct's `column.field`.
            for (table, columns) in &self.tables {
                if table.eq_ignore_ascii_case(qualifier) {
                    words.extend(columns.iter().map(|c| format!("{table}.{c}")));
                }
            }
            for (_, columns) in &in_scope {
                words.extend(columns.iter().filter(|c| c.contains('.')).cloned());
            }
        } else {
            words.extend(self.tables.iter().map(|(t, _)| t.clone()));
            for (_, columns) in &in_scope {
                words.extend(columns.iter().filter(|c| !c.contains('.')).cloned());
            }
            words.extend(self.functions.iter().cloned());
            let lower = word.chars().next().is_some_and(char::is_lowercase);
            words.extend(KEYWORDS.iter().map(|k| {
                if lower {
                    k.to_ascii_lowercase()
                } else {
                    k.to_string()
                }
            }));
        }
        matching(words, word)
    }
}

/// A field's name, and its struct fields' paths below it.
fn paths(field: &Field, prefix: &str, out: &mut Vec<String>) {
    let path = format!("{prefix}{}", field.name());
    if let DataType::Struct(children) = field.data_type() {
        for child in children {
            paths(child, &format!("{path}."), out);
        }
    }
    out.push(path);
}

/// The words that start with `word` (in any letter case), each once, in order.
fn matching(words: impl IntoIterator<Item = String>, word: &str) -> Vec<String> {
    let lower = word.to_ascii_lowercase();
    let found: BTreeSet<String> = words
        .into_iter()
        .filter(|w| w.len() > word.len() && w.to_ascii_lowercase().starts_with(&lower))
        .collect();
    found.into_iter().collect()
}

/// Whether `text` has `name` as a whole word (any letter case).
fn names_word(text: &str, name: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    lower.match_indices(&name).any(|(i, _)| {
        !lower[..i].chars().next_back().is_some_and(is_word)
            && !lower[i + name.len()..].chars().next().is_some_and(is_word)
    })
}

/// Where the word under the cursor starts.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        .last()
        .map_or(pos, |(i, _)| i)
}

/// The shell's line-editor helper.
pub struct SqlHelper {
    pub vocabulary: Vocabulary,
    /// The lines of the statement typed before the current one.
    pub pending: Arc<Mutex<String>>,
    /// Whether hints may be dimmed with an escape sequence (a terminal, colour allowed).
    pub dim_hints: bool,
}

impl SqlHelper {
    fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let start = word_start(line, pos);
        let word = &line[start..pos];
        if word.is_empty() {
            return (start, Vec::new());
        }
        let pending = self.pending.lock().map(|p| p.clone()).unwrap_or_default();
        let statement = format!("{pending}{line}");
        (start, self.vocabulary.complete(&statement, word))
    }
}

impl Completer for SqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = self.candidates(line, pos);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

impl Hinter for SqlHelper {
    type Hint = String;

    /// The rest of the one word that fits, once two letters are typed.
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        let (start, words) = self.candidates(line, pos);
        match &words[..] {
            [only] if pos - start >= 2 => Some(only[pos - start..].to_string()),
            _ => None,
        }
    }
}

impl Highlighter for SqlHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.dim_hints {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

impl Validator for SqlHelper {}

impl Helper for SqlHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary {
            tables: vec![
                (
                    "access_logs".into(),
                    vec!["bucket_name".into(), "requester".into(), "remoteip".into()],
                ),
                (
                    "cloudtrail".into(),
                    vec![
                        "useridentity.arn".into(),
                        "useridentity.type".into(),
                        "useridentity".into(),
                        "eventname".into(),
                        "requestparameters".into(),
                    ],
                ),
            ],
            functions: vec!["parse_datetime".into(), "json_extract_scalar".into()],
        }
    }

    #[test]
    fn words_complete_from_the_tables_the_statement_names() {
        let v = vocabulary();
        assert_eq!(v.complete("SELECT * FROM acc", "acc"), ["access_logs"]);
        // Columns of the table named, not of the others.
        assert_eq!(
            v.complete("SELECT re FROM access_logs", "re"),
            ["remoteip", "requester"]
        );
        assert_eq!(
            v.complete("SELECT re FROM cloudtrail", "re"),
            ["requestparameters"]
        );
        // Struct fields, and a table's columns by its name.
        assert_eq!(
            v.complete("SELECT useridentity. FROM cloudtrail", "useridentity."),
            ["useridentity.arn", "useridentity.type"]
        );
        assert_eq!(
            v.complete("SELECT access_logs.b", "access_logs.b"),
            ["access_logs.bucket_name"]
        );
        // Functions and keywords, in the letter case typed.
        assert_eq!(v.complete("SELECT parse_", "parse_"), ["parse_datetime"]);
        assert!(v.complete("sel", "sel").contains(&"select".to_string()));
        assert!(v.complete("SEL", "SEL").contains(&"SELECT".to_string()));
        // Dot commands at the start of a line only.
        assert_eq!(v.complete(".sch", ".sch"), [".schema"]);
        assert!(v.complete("SELECT .sch", ".sch").is_empty());
    }

    #[test]
    fn the_word_under_the_cursor() {
        assert_eq!(word_start("SELECT useridentity.ar", 22), 7);
        assert_eq!(word_start("SELECT x, ", 10), 10);
        assert_eq!(word_start(".sch", 4), 0);
        assert!(names_word("select * from CloudTrail where", "cloudtrail"));
        assert!(!names_word("select * from cloudtrail_copy", "cloudtrail"));
    }

    #[test]
    fn a_single_fitting_word_is_hinted() {
        let helper = SqlHelper {
            vocabulary: vocabulary(),
            pending: Arc::new(Mutex::new("SELECT eventname\n".into())),
            dim_hints: false,
        };
        let history = rustyline::history::DefaultHistory::new();
        let ctx = Context::new(&history);
        assert_eq!(
            helper.hint("FROM cloudtrail WHERE useridentity.ar", 37, &ctx),
            Some("n".into())
        );
        assert_eq!(helper.hint("FROM cl", 7, &ctx), Some("oudtrail".into()));
        assert_eq!(helper.hint("FROM c", 6, &ctx), None, "one letter");
        let (start, pairs) = helper.complete("SELECT json_", 12, &ctx).unwrap();
        assert_eq!(start, 7);
        assert_eq!(pairs[0].replacement, "json_extract_scalar");
    }
}
