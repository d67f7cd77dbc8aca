//! ssmres: fetch and wait for the results of remote command invocations.
//!
//! argv → clap → command → provider ⇄ poll loop → renderer → stdout/stderr → exit code.

pub mod cli;
pub mod commands;
pub mod duration;
pub mod echo;
pub mod error;
pub mod fleet;
pub mod json_skim;
pub mod logging;
pub mod model;
pub mod output;
pub mod poll;
pub mod progress;
pub mod provider;
pub mod render;
pub mod stdin_ids;

use std::io::Write;

use error::Error;

/// Runs a parsed command line to its exit code. Ctrl-C, SIGTERM (what CI systems, `timeout`
/// and `kill` send) and SIGHUP win over whatever is in flight: the command's future is dropped
/// (clearing the spinner) before anything is half-written.
pub async fn run(cli: cli::Cli) -> Result<u8, Error> {
    let console = output::detect_console();
    logging::init(cli.global.verbose, console.stderr_color);
    let cancel = commands::cancel::CancelPlan::from_cli(&cli);
    let mut signals = Signals::new();
    let result = tokio::select! {
        biased;
        signal = signals.next() => Err(Error::Interrupted(signal)),
        result = commands::dispatch(cli, console) => result,
    };
    if let Err(Error::Interrupted(_)) = &result
        && let Some(line) = commands::run::interrupted_send()
    {
        let _ = writeln!(std::io::stderr(), "{}", render::sanitize::one_line(&line));
    }
    let Some(plan) = cancel else {
        return result;
    };
    let wanted = match &result {
        Err(Error::Interrupted(_)) => plan.on_interrupt,
        Err(Error::Timeout(..)) => plan.on_timeout,
        _ => false,
    };
    if wanted {
        // A (second) signal ends the run at once, cancelled or not.
        tokio::select! {
            biased;
            signal = signals.next() => {
                // Not eprintln!: after a hang-up stderr may be gone, and a panic here would
                // end the run before its exit code.
                let _ = writeln!(std::io::stderr(), "interrupted: not waiting for the cancel to finish");
                return Err(Error::Interrupted(signal));
            }
            () = plan.cancel() => {}
        }
    }
    result
}

/// The signals that end a run. Listening replaces their default action (ending the process
/// mid-line) for the rest of the run, so a second one is ours to handle too. SIGTERM and SIGHUP
/// are left alone when they came ignored (`nohup`, a supervisor's choice): listening would undo
/// that.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |number: i32, kind: SignalKind| {
                if is_ignored(number) {
                    None
                } else {
                    signal(kind).ok()
                }
            };
            Signals {
                term: listen(libc::SIGTERM, SignalKind::terminate()),
                hup: listen(libc::SIGHUP, SignalKind::hangup()),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next one to arrive: its number (SIGINT 2, SIGTERM 15, SIGHUP 1).
    async fn next(&mut self) -> i32 {
        #[cfg(unix)]
        {
            async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
                if let Some(s) = signal
                    && s.recv().await.is_some()
                {
                    return;
                }
                std::future::pending().await
            }
            tokio::select! {
                _ = tokio::signal::ctrl_c() => 2,
                () = recv(&mut self.term) => 15,
                () = recv(&mut self.hup) => 1,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            2
        }
    }
}

/// Whether the process started with `number` ignored.
#[cfg(unix)]
fn is_ignored(number: i32) -> bool {
    // SAFETY: with no new action given, sigaction only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(number, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}
