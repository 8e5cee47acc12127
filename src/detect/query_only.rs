//! Rule files are queries, never programs: a detection's SQL (built-in, `--rules`, Sigma) is
//! one read-only query, checked when the pack is loaded and enforced again when it runs.
//!
//! In: a detection's rendered SQL. Out: whether it is exactly one `SELECT`/`WITH`/`VALUES`
//! query, and the [`SQLOptions`] every detection runs with (no DDL such as
//! `CREATE EXTERNAL TABLE`, no DML such as `COPY … TO` or `INSERT`, no statements such as `SET`).
//! A rule someone sends can then neither write a file, nor read one the session does not
//! already read, nor change the session the rest of the pack runs in.

use datafusion::execution::context::SQLOptions;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

/// What every detection runs with.
pub fn options() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Whether `sql` is exactly one query; why not, otherwise.
pub fn check(sql: &str) -> Result<(), String> {
    let statements = DFParser::parse_sql(sql).map_err(|e| {
        format!(
            "its SQL does not parse: {}",
            e.to_string().lines().next().unwrap_or_default()
        )
    })?;
    match statements.len() {
        1 => {}
        0 => return Err("it holds no SQL statement".into()),
        n => {
            return Err(format!(
                "it holds {n} SQL statements: a detection is one query"
            ));
        }
    }
    match &statements[0] {
        Statement::Statement(s) if matches!(**s, SqlStatement::Query(_)) => Ok(()),
        other => Err(format!(
            "it is not a query (SELECT or WITH) but `{}`",
            first_words(&other.to_string())
        )),
    }
}

/// The first words of a statement, to name it.
fn first_words(sql: &str) -> String {
    sql.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn only_one_query_is_a_detection() {
        assert!(check("SELECT 1 AS entity").is_ok());
        assert!(check("WITH a AS (SELECT 1 AS x) SELECT x AS entity FROM a").is_ok());
        for bad in [
            "COPY (SELECT 1) TO '/tmp/x.csv'",
            "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/shadow'",
            "INSERT INTO t VALUES (1)",
            "SET datafusion.execution.batch_size = 1",
            "SELECT 1; SELECT 2",
            "DROP TABLE access_logs",
            "CREATE VIEW v AS SELECT 1",
            "",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
