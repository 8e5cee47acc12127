//! `s3trawl config show`: the effective configuration, and where each part came from.
//!
//! ```text
//! s3trawl config show
//! ```
//!
//! The config file of `detect` and `report` is found as ripgrep and cargo users expect:
//! `--config FILE`, else `S3TRAWL_CONFIG`, else `./s3trawl.toml`, else
//! `$XDG_CONFIG_HOME/s3trawl/config.toml` (`~/.config/s3trawl/config.toml`). Settings that
//! people set once also come from the environment (`S3TRAWL_LAKE`, `S3TRAWL_THREADS`,
//! `S3TRAWL_S3_CONCURRENCY`, `S3TRAWL_DELIVERY_SLACK`, `AWS_PROFILE`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::detect::config::Config;

use super::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration and where each part came from.
    Show {
        /// A config file (else S3TRAWL_CONFIG, ./s3trawl.toml, then
        /// $XDG_CONFIG_HOME/s3trawl/config.toml).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Where the config file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Environment,
    CurrentFolder,
    UserConfig,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Flag => "--config",
            Origin::Environment => "S3TRAWL_CONFIG",
            Origin::CurrentFolder => "./s3trawl.toml in the current folder",
            Origin::UserConfig => "the user's config folder ($XDG_CONFIG_HOME or ~/.config)",
        }
    }
}

/// The user's config file: `$XDG_CONFIG_HOME/s3trawl/config.toml`, else
/// `~/.config/s3trawl/config.toml`.
fn user_config() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("s3trawl").join("config.toml"))
}

/// The config file to read, and where it came from: the one given, else the first that exists
/// of `S3TRAWL_CONFIG`, `./s3trawl.toml` and the user's. A file named by `--config` or
/// `S3TRAWL_CONFIG` must exist (reading it says so); the others are looked for.
pub fn discover(given: Option<&Path>) -> Option<(PathBuf, Origin)> {
    if let Some(path) = given {
        return Some((path.to_path_buf(), Origin::Flag));
    }
    if let Some(path) = std::env::var_os("S3TRAWL_CONFIG").filter(|v| !v.is_empty()) {
        return Some((PathBuf::from(path), Origin::Environment));
    }
    let here = PathBuf::from("s3trawl.toml");
    if here.is_file() {
        return Some((here, Origin::CurrentFolder));
    }
    user_config()
        .filter(|p| p.is_file())
        .map(|p| (p, Origin::UserConfig))
}

pub fn run(args: &Args, global: &Global) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Show { config } = &args.command;
    let mut out = super::output::stdout();
    let mut line = |key: &str, value: String, from: &str| -> std::io::Result<()> {
        writeln!(out, "{key:<16} {value:<40} # {from}")
    };
    let found = discover(config.as_deref());
    let loaded = match &found {
        Some((path, origin)) => {
            let config = Config::load(path)?;
            line("config", path.display().to_string(), origin.describe())?;
            Some(config)
        }
        None => {
            let user = user_config().map_or_else(String::new, |p| format!(", {}", p.display()));
            line(
                "config",
                "(none)".into(),
                &format!("looked for: --config, S3TRAWL_CONFIG, ./s3trawl.toml{user}"),
            )?;
            None
        }
    };
    let from_file = "config file";
    let source = |name: &str, default: &str| -> String { global.origin(name, default) };
    let concurrency = match (
        global.s3_concurrency_given,
        loaded.as_ref().and_then(|c| c.settings.s3_concurrency),
    ) {
        (false, Some(n)) => (n.to_string(), from_file.to_string()),
        _ => (
            global.fetching.concurrency.to_string(),
            source("s3_concurrency", "default"),
        ),
    };
    line("s3_concurrency", concurrency.0, &concurrency.1)?;
    line(
        "delivery_slack",
        format!("{} hours", global.fetching.slack_ms / 3_600_000),
        &source("delivery_slack", "default"),
    )?;
    line(
        "threads",
        global
            .threads
            .map_or_else(|| "one per core".to_string(), |n| n.to_string()),
        &source("threads", "default"),
    )?;
    match &global.profile {
        Some(p) => line("profile", p.clone(), "--profile")?,
        None => line(
            "profile",
            std::env::var("AWS_PROFILE").unwrap_or_else(|_| "(the SDK's default chain)".into()),
            if std::env::var_os("AWS_PROFILE").is_some() {
                "AWS_PROFILE"
            } else {
                "default"
            },
        )?,
    }
    line(
        "lake",
        std::env::var("S3TRAWL_LAKE").unwrap_or_else(|_| "(none: --lake DIR)".into()),
        if std::env::var_os("S3TRAWL_LAKE").is_some() {
            "S3TRAWL_LAKE"
        } else {
            "default"
        },
    )?;
    line(
        "color",
        format!("{:?}", global.color).to_lowercase(),
        &source("color", "default"),
    )?;
    if let Some(config) = &loaded {
        let days = config
            .settings
            .baseline_days
            .map_or_else(|| "7".to_string(), |d| d.to_string());
        let origin = if config.settings.baseline_days.is_some() {
            from_file
        } else {
            "default"
        };
        line("baseline_days", days, origin)?;
        let counted = |n: usize, what: &str| format!("{n} {what}");
        line(
            "allow",
            format!(
                "{}, {}, {}, {}",
                counted(config.allow.ips.len(), "ips"),
                counted(config.allow.principals.len(), "principals"),
                counted(config.allow.accounts.len(), "accounts"),
                counted(config.allow.user_agents.len(), "user agents"),
            ),
            from_file,
        )?;
        for (name, networks) in &config.threat_lists {
            line(
                "threat_list",
                format!("{name}: {} networks", networks.len()),
                from_file,
            )?;
        }
        for (id, settings) in &config.detections {
            let mut parts = Vec::new();
            if let Some(enabled) = settings.enabled {
                parts.push(format!("enabled = {enabled}"));
            }
            if let Some(severity) = settings.severity {
                parts.push(format!("severity = {severity}"));
            }
            for (key, value) in &settings.params {
                parts.push(format!("{key} = {}", value.sql()));
            }
            line(&format!("detections.{id}"), parts.join(", "), from_file)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
