//! ssmres: fetch and wait for the results of remote command invocations.
//!
//! argv → clap → command → provider ⇄ poll loop → renderer → stdout/stderr → exit code.

pub mod cli;
pub mod commands;
pub mod duration;
pub mod error;
pub mod fleet;
pub mod logging;
pub mod model;
pub mod output;
pub mod poll;
pub mod progress;
pub mod provider;
pub mod render;
pub mod stdin_ids;

use error::Error;

/// Runs a parsed command line to its exit code. Ctrl-C wins over whatever is in flight: the
/// command's future is dropped (clearing the spinner) before anything is half-written.
pub async fn run(cli: cli::Cli) -> Result<u8, Error> {
    let console = output::detect_console();
    logging::init(cli.global.verbose, console.stderr_color);
    let cancel = commands::cancel::CancelPlan::from_cli(&cli);
    let result = tokio::select! {
        biased;
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        result = commands::dispatch(cli, console) => result,
    };
    let Some(plan) = cancel else {
        return result;
    };
    let wanted = match &result {
        Err(Error::Interrupted) => plan.on_interrupt,
        Err(Error::Timeout(..)) => plan.on_timeout,
        _ => false,
    };
    if wanted {
        // A (second) Ctrl-C ends the run at once, cancelled or not.
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => {
                eprintln!("interrupted: not waiting for the cancel to finish");
                return Err(Error::Interrupted);
            }
            () = plan.cancel() => {}
        }
    }
    result
}
