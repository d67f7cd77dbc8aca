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
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
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
            Error::Interrupted => exit::INTERRUPTED,
        }
    }
}
