//! The `s3trawl` command: parse arguments, run the command, map the outcome to an exit code
//! (0 success, 1 findings at or above the threshold, 2 error). Writing into a closed pipe
//! (`s3trawl sql … | head`) is success.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3trawl: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3trawl: {}", cli::describe(&e));
            ExitCode::from(2)
        }
    }
}
