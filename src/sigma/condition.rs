//! A Sigma condition, as nom parsers: search identifiers (with `*` wildcards in quantifiers),
//! `and`, `or`, `not`, parentheses, `1 of X*`, `all of X*`, `1 of them`, `all of them`.
//!
//! In: the condition's text. Out: a [`Condition`] tree, `not` binding tighter than `and`, `and`
//! tighter than `or`, as the specification orders them; or an error naming what was not
//! understood.

use std::collections::BTreeMap;

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::{multispace0, multispace1};
use nom::combinator::{all_consuming, map, value};
use nom::multi::many0;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use super::rule::Search;

/// A condition over search identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Search(String),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    /// `1 of PATTERN` (`any`) or `all of PATTERN`; `them` is the pattern `*`.
    Of {
        all: bool,
        pattern: String,
    },
}

type Res<'a, T> = IResult<&'a str, T>;

fn identifier(i: &str) -> Res<'_, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '-' | '.')).parse(i)
}

/// A keyword followed by a space or a parenthesis.
fn word<'a>(
    w: &'static str,
) -> impl Parser<&'a str, Output = &'a str, Error = nom::error::Error<&'a str>> {
    move |i: &'a str| {
        let (rest, found) = tag_no_case(w).parse(i)?;
        match rest.chars().next() {
            None | Some(' ' | '\t' | '\n' | '(' | ')') => Ok((rest, found)),
            Some(_) => Err(nom::Err::Error(nom::error::Error::new(
                i,
                nom::error::ErrorKind::Tag,
            ))),
        }
    }
}

fn quantified(i: &str) -> Res<'_, Condition> {
    let (i, all) = alt((value(false, word("1")), value(true, word("all")))).parse(i)?;
    let (i, _) = (multispace1, word("of"), multispace1).parse(i)?;
    let (i, pattern) = alt((map(word("them"), |_| "*"), identifier)).parse(i)?;
    Ok((
        i,
        Condition::Of {
            all,
            pattern: pattern.to_string(),
        },
    ))
}

fn atom(i: &str) -> Res<'_, Condition> {
    delimited(
        multispace0,
        alt((
            delimited(tag("("), or, preceded(multispace0, tag(")"))),
            quantified,
            map(identifier, |s: &str| Condition::Search(s.to_string())),
        )),
        multispace0,
    )
    .parse(i)
}

fn not(i: &str) -> Res<'_, Condition> {
    let (rest, _) = multispace0.parse(i)?;
    if let Ok((rest, _)) = word("not").parse(rest) {
        let (rest, inner) = not(rest)?;
        return Ok((rest, Condition::Not(Box::new(inner))));
    }
    atom(i)
}

fn and(i: &str) -> Res<'_, Condition> {
    let (i, first) = not(i)?;
    let (i, rest) = many0(preceded((multispace0, word("and")), not)).parse(i)?;
    Ok((i, join(first, rest, Condition::And)))
}

fn or(i: &str) -> Res<'_, Condition> {
    let (i, first) = and(i)?;
    let (i, rest) = many0(preceded((multispace0, word("or")), and)).parse(i)?;
    Ok((i, join(first, rest, Condition::Or)))
}

fn join(
    first: Condition,
    rest: Vec<Condition>,
    make: fn(Vec<Condition>) -> Condition,
) -> Condition {
    if rest.is_empty() {
        first
    } else {
        let mut all = vec![first];
        all.extend(rest);
        make(all)
    }
}

/// Parses a condition.
pub fn parse(text: &str) -> Result<Condition, String> {
    match all_consuming(delimited(multispace0, or, multispace0)).parse(text) {
        Ok((_, c)) => Ok(c),
        Err(e) => Err(format!("condition {text:?} is not understood: {e}")),
    }
}

/// Whether `name` matches a quantifier's pattern (`*` any run of characters). Greedy with one
/// backtrack point (the last `*`), so time is at most the product of the lengths, never
/// exponential (`a*a*a*…b` against a long name).
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && p[i] == n[j] {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

impl Condition {
    /// Every identifier names a search, and every quantifier matches at least one.
    pub fn check(&self, searches: &BTreeMap<String, Search>) -> Result<(), String> {
        match self {
            Condition::Search(name) if name.contains('*') => Err(format!(
                "{name}: a wildcard outside `1 of`/`all of` is not Sigma"
            )),
            Condition::Search(name) if !searches.contains_key(name) => {
                Err(format!("the condition names {name}, which is not a search"))
            }
            Condition::Search(_) => Ok(()),
            Condition::Not(c) => c.check(searches),
            Condition::And(cs) | Condition::Or(cs) => cs.iter().try_for_each(|c| c.check(searches)),
            Condition::Of { pattern, .. } => {
                if searches.keys().any(|k| matches(pattern, k)) {
                    Ok(())
                } else {
                    Err(format!("no search matches {pattern}"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str) -> Condition {
        Condition::Search(name.into())
    }

    #[test]
    fn precedence_and_forms() {
        assert_eq!(parse("selection").unwrap(), s("selection"));
        assert_eq!(
            parse("selection and not filter").unwrap(),
            Condition::And(vec![s("selection"), Condition::Not(Box::new(s("filter")))])
        );
        assert_eq!(
            parse("a or b and c").unwrap(),
            Condition::Or(vec![s("a"), Condition::And(vec![s("b"), s("c")])])
        );
        assert_eq!(
            parse("(a or b) and c").unwrap(),
            Condition::And(vec![Condition::Or(vec![s("a"), s("b")]), s("c")])
        );
        assert_eq!(
            parse("selection and not 1 of filter_main_*").unwrap(),
            Condition::And(vec![
                s("selection"),
                Condition::Not(Box::new(Condition::Of {
                    all: false,
                    pattern: "filter_main_*".into()
                }))
            ])
        );
        assert_eq!(
            parse("all of them").unwrap(),
            Condition::Of {
                all: true,
                pattern: "*".into()
            }
        );
        assert_eq!(
            parse("NOT a AND (b OR c)").unwrap(),
            Condition::And(vec![
                Condition::Not(Box::new(s("a"))),
                Condition::Or(vec![s("b"), s("c")])
            ])
        );
        // Identifiers that begin with a keyword are identifiers.
        assert_eq!(
            parse("order or andrew").unwrap(),
            Condition::Or(vec![s("order"), s("andrew")])
        );
        assert_eq!(
            parse("not notable").unwrap(),
            Condition::Not(Box::new(s("notable")))
        );
        for bad in ["", "a and", "(a", "a b", "1 of", "selection | count() > 5"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns() {
        assert!(matches("filter_main_*", "filter_main_user"));
        assert!(matches("*", "anything"));
        assert!(matches("sel*_x", "selection_x"));
        assert!(!matches("sel*_x", "selection_y"));
        assert!(!matches("filter", "filter2"));
    }
}
