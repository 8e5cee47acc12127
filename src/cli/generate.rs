//! `s3trawl generate`: deterministic synthetic logs, for trying the tool and for benchmarks.
//!
//! ```text
//! s3trawl generate access-logs --out /tmp/logs --size 1GB --objects 200 --gzip
//! ```
//!
//! Objects are named as S3 delivers them (`YYYY-MM-DD-HH-MM-SS-<16 hex digits>`, plus `.gz`
//! when compressed) and cover consecutive stretches of time.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::format::time::{Civil, civil_from_days};
use crate::generate::scenario::{self, ScenarioOptions};
use crate::generate::{AccessLogGenerator, CloudTrailGenerator, Rng};
use crate::size::parse_size;
use anyhow::Context;
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    #[value(name = "access-logs")]
    AccessLogs,
    /// CloudTrail log files, `{"Records":[…]}`, under `AWSLogs/<account>/CloudTrail/…`.
    #[value(name = "cloudtrail")]
    CloudTrail,
    /// A benign week of access logs and CloudTrail with one planted attack per detection
    /// family on the last day, the config to run detect with, and `scenario.json` saying
    /// where each attack is and which detections must find it.
    #[value(name = "scenario")]
    Scenario,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  s3trawl generate access-logs --out /tmp/logs --size 100MB --objects 20 --gzip"
)]
pub struct Args {
    #[arg(value_enum)]
    pub kind: Kind,
    /// Folder to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Total uncompressed size: bytes, or with KB, MB, GB.
    #[arg(long, default_value = "10MB", value_parser = parse_size)]
    pub size: u64,
    /// Number of objects to spread the data over.
    #[arg(long, default_value_t = 10)]
    pub objects: u64,
    /// Gzip each object.
    #[arg(long)]
    pub gzip: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First day of the logs (YYYY-MM-DD).
    #[arg(long, default_value = "2026-11-01")]
    pub start: String,
    /// Days the logs cover.
    #[arg(long, default_value_t = 7)]
    pub days: u64,
    /// Scenario only: traffic relative to the default (about 7,000 access-log lines a day).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

fn parse_day(s: &str) -> anyhow::Result<i64> {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        anyhow::bail!("not a date (YYYY-MM-DD): {s}")
    };
    Civil::date(y.parse()?, m.parse()?, d.parse()?)
        .to_epoch_millis(0)
        .with_context(|| format!("no such date: {s}"))
}

pub fn run(args: &Args, global: &super::Global) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let start = parse_day(&args.start)?;
    if args.kind == Kind::Scenario {
        let m = scenario::write(
            &args.out,
            &ScenarioOptions {
                seed: args.seed,
                start_ms: start,
                days: args.days.clamp(3, 366) as u32,
                scale: args.scale.clamp(0.01, 100.0),
            },
        )
        .with_context(|| format!("cannot write the scenario into {}", args.out.display()))?;
        writeln!(
            super::output::stdout(),
            "wrote {} access-log lines in {} objects and {} CloudTrail records in {} files into {}, with {} planted attacks (scenario.json)\nrun it from there: {}",
            m.access_log_lines,
            m.access_log_objects,
            m.cloudtrail_records,
            m.cloudtrail_objects,
            args.out.display(),
            m.attacks.len(),
            m.command
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let objects = args.objects.max(1);
    let span = args.days.max(1) as f64 * 86_400_000.0;
    let per_object = args.size / objects;
    // Mean gap between requests so that the objects together cover the days asked for.
    let lines_per_object = (per_object / 620).max(1) as f64;
    let gap = span / (lines_per_object * objects as f64);
    // Progress in uncompressed bytes written, the unit of --size (on a terminal only).
    let bar = global.progress_bar(Some(per_object * objects), "generating");
    (0..objects)
        .into_par_iter()
        .try_for_each(|i| -> anyhow::Result<()> {
            let begin = start + (span * i as f64 / objects as f64) as i64;
            let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(i);
            let (y, m, d) = civil_from_days(begin.div_euclid(86_400_000));
            let secs = begin.div_euclid(1000).rem_euclid(86_400);
            let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
            let mut rng = Rng::new(args.seed ^ i);
            let (data, path) = match args.kind {
                Kind::AccessLogs => {
                    let data = AccessLogGenerator::new(seed, begin).lines(per_object as usize, gap);
                    let name = format!(
                        "{y:04}-{m:02}-{d:02}-{hh:02}-{mm:02}-{ss:02}-{}",
                        rng.hex(16, true)
                    );
                    (data, args.out.join(name))
                }
                Kind::CloudTrail | Kind::Scenario => {
                    // CloudTrail records are about 2.5 times as long as access-log lines.
                    let data = CloudTrailGenerator::new(seed, begin)
                        .log_file(per_object as usize, gap * 2.5);
                    let account = "111122223333";
                    let folder = args.out.join(format!(
                        "AWSLogs/{account}/CloudTrail/us-east-1/{y:04}/{m:02}/{d:02}"
                    ));
                    std::fs::create_dir_all(&folder)?;
                    let name = format!(
                        "{account}_CloudTrail_us-east-1_{y:04}{m:02}{d:02}T{hh:02}{mm:02}Z_{}.json",
                        rng.hex(16, false)
                    );
                    (data, folder.join(name))
                }
            };
            let path = if args.gzip {
                path.with_file_name(format!(
                    "{}.gz",
                    path.file_name().unwrap_or_default().to_string_lossy()
                ))
            } else {
                path
            };
            let file = std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            if args.gzip {
                let mut e = flate2::write::GzEncoder::new(w, flate2::Compression::default());
                e.write_all(&data)?;
                e.finish()?.flush()?;
            } else {
                w.write_all(&data)?;
                w.flush()?;
            }
            bar.advance(per_object);
            Ok(())
        })?;
    bar.finish();
    writeln!(
        super::output::stdout(),
        "wrote {objects} objects ({} bytes uncompressed) into {}",
        per_object * objects,
        args.out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
