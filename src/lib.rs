//! ssmres: fetch and wait for the results of remote command invocations.
//!
//! argv → clap → command → provider ⇄ poll loop → renderer → stdout/stderr → exit code.

pub mod cli;
pub mod commands;
pub mod duration;
pub mod error;
pub mod fleet;
pub mod follow;
pub mod logging;
pub mod model;
pub mod output;
pub mod poll;
pub mod progress;
pub mod provider;
pub mod render;
pub mod window;

use error::Error;

/// Runs a parsed command line to its exit code. Ctrl-C wins over whatever is in flight: the
/// command's future is dropped (clearing the spinner) before anything is half-written.
pub async fn run(cli: cli::Cli) -> Result<u8, Error> {
    let target = output::detect_target();
    logging::init(cli.global.verbose, target.stderr_color);
    tokio::select! {
        biased;
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        result = commands::dispatch(cli, target) => result,
    }
}
