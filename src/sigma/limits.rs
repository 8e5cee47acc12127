//! How big and how deep a Sigma rule may be. A rule file is input from whoever sent it: these
//! bounds keep one rule from crashing, hanging or exhausting the run (a 50,000-deep condition
//! overflowed the stack; 200,000 values under `|all` took gigabytes; a pattern such as
//! `1 of a*a*a*…b` took exponential time). A rule over any of them is refused with its file and
//! the limit it passed, and the rest of the pack runs.
//!
//! The limits are far above what rules are written with: SigmaHQ's largest CloudTrail rule has
//! a condition of 3 levels, 8 searches and 30 values.

use super::rule::Search;

/// The largest rule document, in bytes.
pub const MAX_RULE_BYTES: usize = 256 * 1024;
/// The longest condition, in characters.
pub const MAX_CONDITION_CHARS: usize = 4096;
/// The deepest nesting of parentheses in a condition.
pub const MAX_PARENTHESES: usize = 16;
/// The most `not`s in one condition.
pub const MAX_NOTS: usize = 32;
/// The most search identifiers in a rule.
pub const MAX_SEARCHES: usize = 256;
/// The most values in all of a rule's field tests.
pub const MAX_VALUES: usize = 4096;
/// The longest value, in characters.
pub const MAX_VALUE_CHARS: usize = 4096;
/// The most `*` and `?` wildcards in one value or quantifier pattern.
pub const MAX_WILDCARDS: usize = 64;
/// The largest SQL a rule may translate to, in bytes.
pub const MAX_SQL_BYTES: usize = 1024 * 1024;

/// Checks a rule document's size before anything parses it.
pub fn document(text: &str) -> Result<(), String> {
    if text.len() > MAX_RULE_BYTES {
        return Err(format!(
            "refused: the rule is {} bytes, over the limit of {MAX_RULE_BYTES}",
            text.len()
        ));
    }
    Ok(())
}

/// Checks a condition's text before anything parses it.
pub fn condition(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_CONDITION_CHARS {
        return Err(format!(
            "refused: the condition is longer than {MAX_CONDITION_CHARS} characters"
        ));
    }
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_PARENTHESES {
        return Err(format!(
            "refused: the condition nests parentheses {deepest} deep, over the limit of {MAX_PARENTHESES}"
        ));
    }
    let nots = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|w| w.eq_ignore_ascii_case("not"))
        .count();
    if nots > MAX_NOTS {
        return Err(format!(
            "refused: the condition has {nots} `not`s, over the limit of {MAX_NOTS}"
        ));
    }
    for word in text.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        if wildcards(word) > MAX_WILDCARDS {
            return Err(format!(
                "refused: the pattern {:?}… has more than {MAX_WILDCARDS} wildcards",
                word.chars().take(40).collect::<String>()
            ));
        }
    }
    Ok(())
}

/// Checks a rule's searches once read.
pub fn searches<'a>(searches: impl ExactSizeIterator<Item = &'a Search>) -> Result<(), String> {
    if searches.len() > MAX_SEARCHES {
        return Err(format!(
            "refused: {} search identifiers, over the limit of {MAX_SEARCHES}",
            searches.len()
        ));
    }
    let mut values = 0usize;
    for search in searches {
        for test in search.groups.iter().flatten() {
            values += test.values.len();
            for v in &test.values {
                if let serde_norway::Value::String(s) = v {
                    if s.chars().count() > MAX_VALUE_CHARS {
                        return Err(format!(
                            "refused: a value of {} is longer than {MAX_VALUE_CHARS} characters",
                            test.field
                        ));
                    }
                    if wildcards(s) > MAX_WILDCARDS {
                        return Err(format!(
                            "refused: a value of {} has more than {MAX_WILDCARDS} wildcards",
                            test.field
                        ));
                    }
                }
            }
        }
    }
    if values > MAX_VALUES {
        return Err(format!(
            "refused: {values} values, over the limit of {MAX_VALUES}"
        ));
    }
    Ok(())
}

/// Checks the SQL a rule translated to.
pub fn sql(sql: &str) -> Result<(), String> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(format!(
            "refused: the rule translates to {} bytes of SQL, over the limit of {MAX_SQL_BYTES}",
            sql.len()
        ));
    }
    Ok(())
}

fn wildcards(s: &str) -> usize {
    s.chars().filter(|c| matches!(c, '*' | '?')).count()
}
