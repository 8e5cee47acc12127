//! `s3trawl sigma convert RULE...`: each Sigma rule's SQL, as pySigma's `sigma convert` prints
//! a backend's queries: for review, and for Athena or `s3trawl sql`.
//!
//! ```text
//! s3trawl sigma convert rules/aws/cloudtrail/
//! ```
//!
//! The SQL reads the tables themselves (`cloudtrail`, `access_logs`) and gives one row per
//! entity, as the rule's findings in `detect`. A rule that cannot be translated is named with
//! why on stderr, and the exit code is 2 after the others.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: SigmaCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SigmaCommand {
    /// Print each rule's SQL.
    #[command(
        after_help = "Example:\n  s3trawl sigma convert ../sigma/rules/cloud/aws/cloudtrail/"
    )]
    Convert {
        /// Rule files, or folders read recursively.
        #[arg(required = true, value_name = "RULE")]
        rules: Vec<PathBuf>,
    },
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let SigmaCommand::Convert { rules } = &args.command;
    let mut out = output::stdout();
    let mut failed = 0;
    for crate::sigma::Converted { file, title, sql } in crate::sigma::convert(rules)? {
        match sql {
            Ok(sql) => {
                let title = title.replace('\n', " ");
                writeln!(out, "-- {file}\n-- {title}\n{sql};\n")?;
            }
            Err(why) => {
                failed += 1;
                eprintln!(
                    "s3trawl: {}: not translated: {}",
                    crate::report::escape::terminal(&file),
                    crate::report::escape::terminal(&why)
                );
            }
        }
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
