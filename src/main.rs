//! The `s3trawl` command: parse arguments, run the command, map the outcome to an exit code
//! (0 success, 1 findings at or above the threshold, 2 error). Writing into a closed pipe
//! (`s3trawl sql … | head`) is success.

fn main() -> std::process::ExitCode {
    s3trawl::cli::main()
}
