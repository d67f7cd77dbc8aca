//! One error type for the whole tool. Each variant knows its exit code, so `main` never has to
//! guess how a failure should look to a calling script.

use std::fmt;
use std::time::Duration;

/// Exit codes are part of the public contract (README, `--help`): scripts branch on them.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    /// `wait` ended in a terminal state other than Success.
    pub const TERMINAL_FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const API: u8 = 3;
    pub const TIMEOUT: u8 = 4;
    pub const INTERRUPTED: u8 = 130;
}

/// Where a wait stood when its time ran out.
#[derive(Debug)]
pub enum WaitStage {
    SettingUp,
    NeverVisible,
    LastSeen(String),
    /// A fleet: how many of how many had finished.
    Finished(usize, usize),
    /// The first look had not been answered yet.
    NoAnswer,
}

#[derive(Debug)]
pub enum Error {
    /// Invalid input found before any network call.
    Usage(String),
    /// Local AWS configuration is unusable: no region, no credentials.
    Config(String),
    /// The service answered with an error, or could not be reached, after retries.
    Api(String),
    /// The invocation does not exist (for `wait`: not even after the grace window).
    NotFound(String),
    /// `--timeout` passed before a terminal state; says where the wait stood.
    Timeout(Duration, WaitStage),
    /// Ctrl-C.
    Interrupted,
    /// Writing the result failed for a reason other than a closed pipe.
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Config(m) | Error::Api(m) | Error::NotFound(m) => {
                f.write_str(m)
            }
            Error::Timeout(d, stage) => {
                let d = crate::duration::human(*d);
                match stage {
                    WaitStage::SettingUp => write!(
                        f,
                        "timed out after {d}; still looking up the AWS region and credentials"
                    ),
                    WaitStage::NeverVisible => {
                        write!(f, "timed out after {d}; the invocation was never visible")
                    }
                    WaitStage::LastSeen(status) => {
                        write!(f, "timed out after {d}; last status: {status}")
                    }
                    WaitStage::NoAnswer => {
                        write!(f, "timed out after {d}; the service had not answered yet")
                    }
                    WaitStage::Finished(done, total) => {
                        write!(f, "timed out after {d}; {done} of {total} finished")
                    }
                }
            }
            Error::Interrupted => f.write_str("interrupted"),
            Error::Output(e) => write!(f, "cannot write the result: {e}"),
        }
    }
}

impl std::error::Error for Error {}
