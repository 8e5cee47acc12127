//! Result columns named as the user wrote them.
//!
//! In: one SQL statement's text. Out: a [`DataFrame`] whose unaliased columns of the top-level
//! `SELECT` are named by their expression as written (`useridentity.arn`, `sum(bytessent)`,
//! `count(*)`), not by DataFusion's rendering of its plan (`cloudtrail.useridentity[arn]`,
//! `sum(access_logs.bytessent)`). A plain column keeps its name (`remoteip`, `a.remoteip`
//! where `a` is a table of the `FROM`); an alias the user gave is theirs.

use datafusion::dataframe::DataFrame;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Query, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins,
};

/// Plans and runs `sql` like [`SessionContext::sql`], with the columns named as written.
pub async fn sql(ctx: &SessionContext, sql: &str) -> Result<DataFrame> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let mut statement = state.sql_to_statement(sql, &dialect)?;
    name_as_written(&mut statement);
    let plan = state.statement_to_plan(statement).await?;
    ctx.execute_logical_plan(plan).await
}

/// Gives each unaliased expression of the statement's top-level `SELECT` its text as alias.
pub fn name_as_written(statement: &mut DFStatement) {
    if let DFStatement::Statement(s) = statement
        && let Statement::Query(query) = s.as_mut()
    {
        name_query(query);
    }
}

fn name_query(query: &mut Query) {
    name_set(&mut query.body);
}

fn name_set(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            let relations = relation_names(&select.from);
            for item in select.projection.iter_mut() {
                if let SelectItem::UnnamedExpr(expr) = item
                    && !is_column(expr, &relations)
                {
                    let alias = Ident::with_quote('"', expr.to_string());
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        alias,
                    };
                }
            }
        }
        SetExpr::Query(query) => name_query(query),
        // A set operation's columns are named by its first part.
        SetExpr::SetOperation { left, .. } => name_set(left),
        _ => {}
    }
}

/// Whether `expr` is a column reference, which keeps the column's own name: `remoteip`, or
/// `t.remoteip` where `t` names a relation of the `FROM`. (`useridentity.arn`, a field of a
/// struct, is an expression.)
fn is_column(expr: &Expr, relations: &[String]) -> bool {
    match expr {
        Expr::Identifier(_) => true,
        Expr::CompoundIdentifier(parts) => {
            parts.len() == 2
                && relations
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(&parts[0].value))
        }
        _ => false,
    }
}

/// The names the `FROM` gives its relations: aliases, else the tables' last name parts.
fn relation_names(from: &[TableWithJoins]) -> Vec<String> {
    let mut names = Vec::new();
    for t in from {
        for factor in std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)) {
            match factor {
                TableFactor::Table { name, alias, .. } => {
                    if let Some(alias) = alias {
                        names.push(alias.name.value.clone());
                    } else if let Some(last) = name.0.last() {
                        names.push(
                            last.as_ident()
                                .map(|i| i.value.clone())
                                .unwrap_or_else(|| last.to_string()),
                        );
                    }
                }
                TableFactor::Derived {
                    alias: Some(alias), ..
                } => names.push(alias.name.value.clone()),
                _ => {}
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(sql: &str) -> String {
        let mut statements = datafusion::sql::parser::DFParser::parse_sql(sql).unwrap();
        let mut statement = statements.pop_front().unwrap();
        name_as_written(&mut statement);
        statement.to_string()
    }

    #[test]
    fn expressions_are_named_as_written_and_columns_keep_their_names() {
        assert_eq!(
            named("SELECT useridentity.arn, count(*), remoteip, t.key, x AS y FROM cloudtrail t"),
            "SELECT useridentity.arn AS \"useridentity.arn\", count(*) AS \"count(*)\", remoteip, t.key, x AS y FROM cloudtrail t"
        );
        assert_eq!(
            named("SELECT access_logs.remoteip, sum(bytessent) FROM access_logs GROUP BY 1"),
            "SELECT access_logs.remoteip, sum(bytessent) AS \"sum(bytessent)\" FROM access_logs GROUP BY 1"
        );
        // Statements that are not queries are left as they are.
        assert_eq!(named("SHOW TABLES"), "SHOW TABLES");
    }
}
