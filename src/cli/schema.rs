//! `s3trawl schema`: the columns of a table, or the Athena DDL for the lake's copy of it.
//!
//! ```text
//! s3trawl schema access_logs
//! s3trawl schema cloudtrail --athena --location s3://my-bucket/lake/
//! ```

use std::io::Write;
use std::process::ExitCode;

use crate::format::access_log::schema::{COLUMNS, is_computed};
use crate::format::cloudtrail::schema::athena_type;
use crate::format::{cloudtrail, rejects};
use crate::lake::{ACCESS_LOGS_DIR, CLOUDTRAIL_DIR, REJECTS_DIR};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Table {
    #[value(name = "access_logs")]
    AccessLogs,
    #[value(name = "cloudtrail")]
    CloudTrail,
    #[value(name = "rejects")]
    Rejects,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  s3trawl schema access_logs --athena --location s3://my-bucket/lake/"
)]
pub struct Args {
    /// The table.
    #[arg(value_enum, value_name = "TABLE")]
    pub table: Table,
    /// Print an Athena CREATE EXTERNAL TABLE for the lake instead.
    #[arg(long)]
    pub athena: bool,
    /// Where the lake is in S3 (for --athena).
    #[arg(
        long,
        value_name = "S3_URL",
        default_value = "s3://YOUR-BUCKET/YOUR-LAKE/"
    )]
    pub location: String,
    /// Athena database.table name (for --athena); default: the table's name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

struct Col {
    name: &'static str,
    ty: String,
    doc: &'static str,
    computed: bool,
}

fn columns(table: Table) -> Vec<Col> {
    match table {
        Table::AccessLogs => COLUMNS
            .iter()
            .map(|c| Col {
                name: c.name,
                ty: c.ty.athena_type().to_string(),
                doc: c.doc,
                computed: is_computed(c),
            })
            .collect(),
        Table::CloudTrail => cloudtrail::schema::columns()
            .iter()
            .map(|c| Col {
                name: c.name,
                ty: athena_type(&cloudtrail::schema::column_type(c)),
                doc: c.doc,
                computed: cloudtrail::schema::is_computed(c),
            })
            .collect(),
        Table::Rejects => rejects::COLUMNS
            .iter()
            .zip(rejects::schema().fields())
            .map(|((name, doc), f)| Col {
                name,
                ty: athena_type(f.data_type()),
                doc,
                computed: false,
            })
            .collect(),
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let text = if args.athena {
        athena_ddl(args)?
    } else {
        listing(args.table)
    };
    write!(super::output::stdout(), "{text}")?;
    Ok(ExitCode::SUCCESS)
}

fn listing(table: Table) -> String {
    let cols = columns(table);
    let width = cols.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in cols {
        let note = if c.computed && !c.doc.contains("computed") {
            " (computed, not stored in the lake)"
        } else {
            ""
        };
        let line = format!("{:width$}  {}  {}{note}", c.name, c.ty, c.doc);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A Hive table name, each dot-separated part (`db.table`) bare when it is a plain identifier,
/// else in backquotes with a backquote inside doubled.
fn hive_name(name: &str) -> anyhow::Result<String> {
    if name.is_empty() || name.split('.').any(str::is_empty) || name.chars().any(char::is_control) {
        anyhow::bail!("--name {name:?} is not a table name (empty part or control character)");
    }
    Ok(name
        .split('.')
        .map(|part| {
            let plain = part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if plain {
                part.to_string()
            } else {
                format!("`{}`", part.replace('`', "``"))
            }
        })
        .collect::<Vec<_>>()
        .join("."))
}

/// A Hive string literal: quotes and backslashes escaped with a backslash (Hive reads `''` as
/// two literals); control characters refused, they have no place in a location.
fn hive_string(text: &str, what: &str) -> anyhow::Result<String> {
    if text.chars().any(char::is_control) {
        anyhow::bail!("{what} {text:?} holds a control character");
    }
    Ok(format!(
        "'{}'",
        text.replace('\\', "\\\\").replace('\'', "\\'")
    ))
}

fn athena_ddl(args: &Args) -> anyhow::Result<String> {
    let (dir, default_name, partitioned) = match args.table {
        Table::AccessLogs => (ACCESS_LOGS_DIR, "access_logs", true),
        Table::CloudTrail => (CLOUDTRAIL_DIR, "cloudtrail", true),
        Table::Rejects => (REJECTS_DIR, "rejects", false),
    };
    let name = hive_name(args.name.as_deref().unwrap_or(default_name))?;
    let base = args.location.trim_end_matches('/');
    let location = format!("{base}/{dir}/");
    let quoted_location = hive_string(&location, "--location")?;
    let template = hive_string(&format!("{location}date=${{date}}/"), "--location")?;
    let cols: Vec<String> = columns(args.table)
        .into_iter()
        .filter(|c| !c.computed)
        .map(|c| {
            if c.doc.is_empty() {
                format!("  `{}` {}", c.name, c.ty)
            } else {
                format!(
                    "  `{}` {} COMMENT {}",
                    c.name,
                    c.ty,
                    hive_string(c.doc, "a column's comment").unwrap_or_default()
                )
            }
        })
        .collect();
    let mut ddl = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {name} (\n{}\n)\n",
        cols.join(",\n")
    );
    if partitioned {
        ddl.push_str("PARTITIONED BY (`date` string)\n");
    }
    ddl.push_str(&format!(
        "STORED AS PARQUET\nLOCATION {quoted_location}\nTBLPROPERTIES (\n  'parquet.compression'='ZSTD'"
    ));
    if partitioned {
        ddl.push_str(&format!(
            ",\n  'projection.enabled'='true',\n  'projection.date.type'='date',\n  'projection.date.format'='yyyy-MM-dd',\n  'projection.date.range'='2006-01-01,NOW',\n  'projection.date.interval'='1',\n  'projection.date.interval.unit'='DAYS',\n  'storage.location.template'={template}"
        ));
    }
    ddl.push_str("\n);\n");
    Ok(ddl)
}
