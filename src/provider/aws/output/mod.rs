//! A command's complete output, which SSM keeps in S3 or CloudWatch Logs past the API's cut:
//! where it is (`sources`, `s3_url`), reading it chunk by chunk (`reader`, `logs`), and putting
//! it in place of what the service returned (`complete`). The S3 and CloudWatch Logs clients
//! are in `sdk` alone; the lean build (without the `full-output` feature) has `lean` instead.

pub mod complete;
pub mod logs;
pub mod reader;
pub mod s3_url;
pub mod sources;

#[cfg(not(feature = "full-output"))]
mod lean;
#[cfg(feature = "full-output")]
mod sdk;

#[cfg(not(feature = "full-output"))]
pub use lean::{LogGroup, S3Reader};
#[cfg(feature = "full-output")]
pub use sdk::{LogGroup, S3Reader};

use std::io;

/// Why a complete stream could not be read (the caller falls back to the API's content).
#[derive(Debug)]
pub enum ReadError {
    /// Nothing there: no object, no bucket, no log group or stream. The agent writes no object
    /// and no stream for an empty stream, so this is also what "empty" looks like.
    Missing(String),
    /// Not allowed; the message names what was denied.
    Denied(String),
    /// Anything else, after the SDK's retries: network, throttling, a body cut short.
    Failed(String),
    /// The sink failed (a closed pipe, a full disk).
    Output(io::Error),
}

impl ReadError {
    pub fn message(&self) -> String {
        match self {
            ReadError::Missing(m) | ReadError::Denied(m) | ReadError::Failed(m) => m.clone(),
            ReadError::Output(e) => format!("cannot write the output: {e}"),
        }
    }
}

/// A listing that failed for its own reasons (the paginator's).
impl From<crate::provider::contract::FetchError> for ReadError {
    fn from(e: crate::provider::contract::FetchError) -> ReadError {
        ReadError::Failed(crate::error::Error::from(e).to_string())
    }
}
