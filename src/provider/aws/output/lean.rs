//! The lean build (`--no-default-features`): no S3 or CloudWatch Logs client. The CLI refuses
//! `--full-output` and `--follow` before any call (cli/lean.rs), so nothing gets here; these
//! stand in for sdk.rs so that the code reading complete output compiles the same in both
//! builds. A read says why it cannot be done, as a denial: nothing to retry.

use aws_config::SdkConfig;

use super::ReadError;
use super::logs::{EventPage, LogSource, StreamRef};
use super::reader::Sink;
use super::s3_url::S3Location;

fn unavailable(what: &str) -> ReadError {
    ReadError::Denied(format!(
        "{what}: not readable by this build of ssmres, made without S3 and CloudWatch Logs \
         (the `full-output` feature)"
    ))
}

pub struct S3Reader;

impl S3Reader {
    pub fn new(_config: &SdkConfig) -> Self {
        S3Reader
    }

    pub async fn read(&self, loc: &S3Location, _sink: &mut Sink<'_>) -> Result<u64, ReadError> {
        Err(unavailable(&loc.display()))
    }
}

pub struct LogGroup {
    what: String,
}

impl LogGroup {
    pub fn new(_config: &SdkConfig, _group: &str, what: String) -> Self {
        LogGroup { what }
    }
}

impl LogSource for LogGroup {
    async fn streams(&self, _prefix: &str) -> Result<Vec<StreamRef>, ReadError> {
        Err(unavailable(&self.what))
    }

    async fn page(&self, _stream: &str, _token: Option<&str>) -> Result<EventPage, ReadError> {
        Err(unavailable(&self.what))
    }
}
