//! A detection's tunable parameters: typed by their declared default, checked when the config
//! overrides them, and rendered into the SQL as literals of their type — never as raw text.
//!
//! A default's form gives the type: `50` an integer, `2.5` a number, `6h` (`s`, `m`, `h`, `d`,
//! `w`) a duration, `'text'` a string, `['a', 'b']` a list (of strings or numbers). A config
//! value must have the same type (an integer is a fine number; a duration is written as a
//! string, `"6h"`). Rendered, an integer is its digits, a number its decimal form, a string a
//! quoted literal with its quotes doubled, a duration an `INTERVAL '… seconds'` literal and a
//! list a parenthesised list of literals (for `IN ${names}`). Only numbers may stand inside a
//! quoted literal of the SQL (`INTERVAL '${window_minutes} minutes'`): their text cannot end
//! the literal.

use std::fmt;

use serde::{Serialize, Serializer};

/// A parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(i64),
    Float(f64),
    Text(String),
    /// A span of time, in seconds, with the text it was written as.
    Duration {
        seconds: i64,
        text: String,
    },
    List(Vec<Param>),
}

/// The type of a parameter, fixed by its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Integer,
    Number,
    Duration,
    String,
    List,
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamType::Integer => "an integer",
            ParamType::Number => "a number",
            ParamType::Duration => "a duration such as \"6h\" or \"30m\"",
            ParamType::String => "a string",
            ParamType::List => "a list",
        })
    }
}

/// `6h`, `30m`, `90s`, `7d`, `2w` as seconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = t.split_at(split);
    let n: i64 = number.parse().ok()?;
    let unit = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(unit)
}

impl Param {
    /// A default as a detection file writes it.
    pub fn parse(text: &str) -> Param {
        let t = text.trim();
        if let Ok(i) = t.parse::<i64>() {
            Param::Int(i)
        } else if let Ok(f) = t.parse::<f64>()
            && f.is_finite()
        {
            Param::Float(f)
        } else if let Some(seconds) = parse_duration(t) {
            Param::Duration {
                seconds,
                text: t.to_string(),
            }
        } else if let Some(s) = quoted(t) {
            Param::Text(s)
        } else if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            Param::List(split_list(inner).into_iter().map(Param::parse).collect())
        } else {
            Param::Text(t.trim_matches('"').to_string())
        }
    }

    pub fn kind(&self) -> ParamType {
        match self {
            Param::Int(_) => ParamType::Integer,
            Param::Float(_) => ParamType::Number,
            Param::Text(_) => ParamType::String,
            Param::Duration { .. } => ParamType::Duration,
            Param::List(_) => ParamType::List,
        }
    }

    /// `given` as a value of this (default's) type, or why it is not one.
    pub fn accept(&self, given: &Param) -> Result<Param, String> {
        let refuse = || {
            Err(format!(
                "expected {} (the default is {self}), got {given}",
                self.kind()
            ))
        };
        match (self, given) {
            (Param::Int(_), Param::Int(_)) => Ok(given.clone()),
            (Param::Float(_), Param::Int(i)) => Ok(Param::Float(*i as f64)),
            (Param::Float(_), Param::Float(f)) if f.is_finite() => Ok(given.clone()),
            (Param::Text(_), Param::Text(_)) => Ok(given.clone()),
            (Param::Duration { .. }, Param::Text(s)) => match parse_duration(s) {
                Some(seconds) => Ok(Param::Duration {
                    seconds,
                    text: s.clone(),
                }),
                None => refuse(),
            },
            (Param::Duration { .. }, Param::Duration { .. }) => Ok(given.clone()),
            (Param::List(default), Param::List(items)) => {
                let Some(element) = default.first() else {
                    // An empty default list takes strings.
                    return items
                        .iter()
                        .map(|i| Param::Text(String::new()).accept(i))
                        .collect::<Result<_, _>>()
                        .map(Param::List);
                };
                items
                    .iter()
                    .map(|i| element.accept(i))
                    .collect::<Result<_, _>>()
                    .map(Param::List)
                    .or_else(|_| refuse())
            }
            _ => refuse(),
        }
    }

    /// The value as a SQL literal of its type.
    pub fn sql(&self) -> String {
        match self {
            Param::Int(i) => i.to_string(),
            Param::Float(f) => format!("{f:?}"),
            Param::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Param::Duration { seconds, .. } => format!("INTERVAL '{seconds} seconds'"),
            Param::List(items) if items.is_empty() => "(NULL)".to_string(),
            Param::List(items) => format!(
                "({})",
                items.iter().map(Param::sql).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// The value's text inside a quoted SQL literal: numbers only.
    pub fn inside_literal(&self) -> Option<String> {
        match self {
            Param::Int(i) => Some(i.to_string()),
            Param::Float(f) => Some(format!("{f:?}")),
            _ => None,
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Int(i) => write!(f, "{i}"),
            Param::Float(x) => write!(f, "{x}"),
            Param::Text(s) => write!(f, "{s:?}"),
            Param::Duration { text, .. } => write!(f, "{text:?}"),
            Param::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Int(i) => s.serialize_i64(*i),
            Param::Float(f) => s.serialize_f64(*f),
            Param::Text(t) => s.serialize_str(t),
            Param::Duration { text, .. } => s.serialize_str(text),
            Param::List(items) => items.serialize(s),
        }
    }
}

/// `'it''s'` → `it's`.
fn quoted(t: &str) -> Option<String> {
    let inner = t.strip_prefix('\'')?.strip_suffix('\'')?;
    // Every quote inside is doubled.
    let mut chars = inner.chars().peekable();
    let mut out = String::with_capacity(inner.len());
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

/// The items of a list's inside, split at commas outside quotes.
fn split_list(inner: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    for (i, c) in inner.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            ',' if !in_quote => {
                items.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = inner[start..].trim();
    if !last.is_empty() || !items.is_empty() {
        items.push(last);
    }
    items
}

/// Where a parameter's default ends in `spec` (`name = value: doc`): the first `:` after the
/// value, the value's quotes and brackets skipped.
pub fn split_spec(spec: &str) -> (&str, &str) {
    let mut in_quote = false;
    let mut depth = 0i32;
    let start = spec.find('=').map_or(0, |i| i + 1);
    for (i, c) in spec.char_indices().skip_while(|(i, _)| *i < start) {
        match c {
            '\'' => in_quote = !in_quote,
            '[' if !in_quote => depth += 1,
            ']' if !in_quote => depth -= 1,
            ':' if !in_quote && depth <= 0 => return (&spec[..i], &spec[i + 1..]),
            _ => {}
        }
    }
    (spec, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_the_type() {
        assert_eq!(Param::parse("50"), Param::Int(50));
        assert_eq!(Param::parse("2.5"), Param::Float(2.5));
        assert_eq!(Param::parse("'it''s'"), Param::Text("it's".into()));
        assert_eq!(Param::parse("6h").kind(), ParamType::Duration);
        assert_eq!(
            Param::parse("['a', 'b,c']"),
            Param::List(vec![Param::Text("a".into()), Param::Text("b,c".into())])
        );
        assert_eq!(Param::parse("[]"), Param::List(vec![]));
    }

    #[test]
    fn overrides_must_have_the_defaults_type() {
        let int = Param::Int(50);
        assert_eq!(int.accept(&Param::Int(3)), Ok(Param::Int(3)));
        let e = int
            .accept(&Param::Text("1; DROP TABLE x".into()))
            .unwrap_err();
        assert!(e.contains("expected an integer"), "{e}");
        assert!(int.accept(&Param::Float(2.5)).is_err());
        assert_eq!(
            Param::Float(1.0).accept(&Param::Int(3)),
            Ok(Param::Float(3.0))
        );
        assert!(
            Param::Float(1.0)
                .accept(&Param::Float(f64::INFINITY))
                .is_err()
        );
        let dur = Param::parse("6h");
        assert_eq!(
            dur.accept(&Param::Text("30m".into())).unwrap().sql(),
            "INTERVAL '1800 seconds'"
        );
        assert!(dur.accept(&Param::Text("soon".into())).is_err());
        assert!(dur.accept(&Param::Int(30)).is_err());
        assert!(Param::Text("x".into()).accept(&Param::Int(1)).is_err());
        let list = Param::parse("['a']");
        assert_eq!(
            list.accept(&Param::List(vec![Param::Text("x'y".into())]))
                .unwrap()
                .sql(),
            "('x''y')"
        );
        assert!(list.accept(&Param::List(vec![Param::Int(1)])).is_err());
        assert!(list.accept(&Param::Text("a".into())).is_err());
    }

    #[test]
    fn only_numbers_go_inside_a_literal() {
        assert_eq!(Param::Int(10).inside_literal().as_deref(), Some("10"));
        assert_eq!(Param::Text("10".into()).inside_literal(), None);
    }

    #[test]
    fn a_spec_ends_at_the_colon_after_its_value() {
        assert_eq!(split_spec("n = 5: how many"), ("n = 5", " how many"));
        assert_eq!(
            split_spec("p = '(?i)a:b': a pattern"),
            ("p = '(?i)a:b'", " a pattern")
        );
        assert_eq!(split_spec("l = ['a:b']: list"), ("l = ['a:b']", " list"));
        assert_eq!(split_spec("n = 5"), ("n = 5", ""));
    }
}
