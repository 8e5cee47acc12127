//! Colour on a terminal: `--color auto|always|never` and `NO_COLOR`.
//!
//! `auto` (the default) colours only a stream that is a terminal, and never when `NO_COLOR`
//! is set to anything; `always` colours even into a pipe (for `less -R`); `never` never does.
//! Nothing is ever coloured into a file written with `-o`. Only severities are coloured: in the
//! findings table, `detect --list` and `report`'s summary on stderr (and the shell dims its
//! hints).

use std::io::IsTerminal;

use crate::detect::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Which stream a text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl ColorChoice {
    /// Whether text for `stream` is coloured.
    pub fn colours(self, stream: Stream) -> bool {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                !no_color
                    && match stream {
                        Stream::Stdout => std::io::stdout().is_terminal(),
                        Stream::Stderr => std::io::stderr().is_terminal(),
                    }
            }
        }
    }
}

/// `text` in the colour of `severity` when `on`.
pub fn severity(on: bool, severity: Severity, text: &str) -> String {
    if !on {
        return text.to_string();
    }
    let code = match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices() {
        assert!(ColorChoice::Always.colours(Stream::Stdout));
        assert!(!ColorChoice::Never.colours(Stream::Stderr));
        assert_eq!(severity(false, Severity::High, "high"), "high");
        assert_eq!(
            severity(true, Severity::High, "high"),
            "\x1b[31mhigh\x1b[0m"
        );
    }
}
