//! One error type for the whole tool. Each variant knows its exit code, so `main` never has to
//! guess how a failure should look to a calling script.

use std::time::Duration;

use crate::duration::human;

/// Exit codes are part of the public contract (README, `--help`): scripts branch on them.
pub mod exit {
    use crate::model::Verdict;

    pub const SUCCESS: u8 = 0;
    /// `wait` ended in a terminal state other than Success.
    pub const TERMINAL_FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const API: u8 = 3;
    pub const TIMEOUT: u8 = 4;
    /// Ctrl-C; SIGTERM gives 143 and SIGHUP 129, as a shell reports them.
    pub const INTERRUPTED: u8 = 130;

    /// The exit code of a run that got its answer: with `--remote-exit-code` and a final
    /// result, the remote command's; after a wait, whether it all succeeded; otherwise 0 (a
    /// `get` or a listing was retrieved, whatever it says).
    pub fn of(verdict: Verdict, waited: bool, remote_exit_code: bool) -> u8 {
        if remote_exit_code && verdict.ended {
            verdict.remote_code
        } else if !waited || verdict.succeeded {
            SUCCESS
        } else {
            TERMINAL_FAILURE
        }
    }
}

/// Where a wait stood when its time ran out.
#[derive(Debug, thiserror::Error)]
pub enum WaitStage {
    #[error("still looking up the AWS region and credentials")]
    SettingUp,
    #[error("the invocation was never visible")]
    NeverVisible,
    #[error("last status: {0}")]
    LastSeen(String),
    /// A fleet: how many of how many had finished.
    #[error("{0} of {1} finished")]
    Finished(usize, usize),
    /// The first look had not been answered yet.
    #[error("the service had not answered yet")]
    NoAnswer,
    /// Every look failed; the last one's error.
    #[error("every look failed, the last with: {0}")]
    Failing(String),
    /// Where the wait stood, then this many looks failed in a row up to the deadline.
    #[error("{stage}; {}", streak(*.1, .2), stage = .0)]
    ThenFailing(Box<WaitStage>, u32, String),
}

fn streak(n: u32, last: &str) -> String {
    match n {
        1 => format!("the last look failed with: {last}"),
        n => format!("the last {n} looks failed, the latest with: {last}"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Invalid input found before any network call.
    #[error("{0}")]
    Usage(String),
    /// Local configuration is unusable: no region, no credentials.
    #[error("{0}")]
    Config(String),
    /// The service answered with an error, or could not be reached, after retries.
    #[error("{0}")]
    Api(String),
    /// The invocation does not exist (for `wait`: not even after the grace window).
    #[error("{0}")]
    NotFound(String),
    /// `--timeout` passed before a terminal state; says where the wait stood.
    #[error("timed out after {waited}; {1}", waited = human(*.0))]
    Timeout(Duration, WaitStage),
    /// Ctrl-C (2), SIGTERM (15) or SIGHUP (1): the shell's exit code for it, 128 + the
    /// signal's number.
    #[error("{}", match .0 { 15 => "terminated (SIGTERM)", 1 => "hung up (SIGHUP)", _ => "interrupted" })]
    Interrupted(i32),
    /// Writing the result failed for a reason other than a closed pipe.
    #[error("cannot write the result: {0}")]
    Output(std::io::Error),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Config(_) | Error::Api(_) | Error::NotFound(_) | Error::Output(_) => exit::API,
            Error::Timeout(..) => exit::TIMEOUT,
            Error::Interrupted(signal) => u8::try_from(128 + signal).unwrap_or(exit::INTERRUPTED),
        }
    }
}
