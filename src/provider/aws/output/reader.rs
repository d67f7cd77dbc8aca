//! Reads a command's complete output from S3 or CloudWatch Logs, chunk by chunk, into a sink:
//! a 1 GiB object goes to stdout without ever being in memory whole.
//!
//! Clients are built from the same AWS configuration as the SSM client (credentials, region,
//! retries), with their endpoints from the standard configuration (AWS_ENDPOINT_URL_S3,
//! AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, a profile's `endpoint_url`): `--endpoint-url` names the
//! SSM endpoint only, as in the aws CLI where it applies to the one service called.

use std::io;

use aws_config::SdkConfig;

use super::logs::{LogSource, StreamRef};
use super::sources::{LogStreams, Source};
use super::{LogGroup, ReadError, S3Reader};

/// Receives the bytes of a stream as they arrive.
pub type Sink<'a> = dyn FnMut(&[u8]) -> io::Result<()> + 'a;

pub struct OutputReader {
    config: SdkConfig,
    s3: S3Reader,
}

impl OutputReader {
    pub fn new(config: &SdkConfig) -> Self {
        OutputReader {
            config: config.clone(),
            s3: S3Reader::new(config),
        }
    }

    /// Streams every byte of `source` into `sink`; the number of bytes on success.
    pub async fn read(&self, source: &Source, sink: &mut Sink<'_>) -> Result<u64, ReadError> {
        match source {
            Source::S3(loc) => self.s3.read(loc, sink).await,
            Source::CloudWatch(streams) => self.read_log_streams(streams, sink).await,
        }
    }

    async fn read_log_streams(
        &self,
        streams: &LogStreams,
        sink: &mut Sink<'_>,
    ) -> Result<u64, ReadError> {
        let what = Source::CloudWatch(streams.clone()).describe();
        let logs = LogGroup::new(&self.config, &streams.group, what.clone());

        // Every page of the prefix, then the step streams in the order they were created:
        // the agent creates each as its step starts writing.
        let mut found: Vec<StreamRef> = logs
            .streams(&streams.prefix)
            .await?
            .into_iter()
            .filter(|s| streams.wants(&s.name))
            .collect();
        if found.is_empty() {
            return Err(ReadError::Missing(format!("{what}: no such log stream")));
        }
        found.sort_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)));

        let mut total = 0u64;
        for stream in &found {
            let mut token: Option<String> = None;
            loop {
                let page =
                    logs.page(&stream.name, token.as_deref())
                        .await
                        .map_err(|err| match err {
                            ReadError::Failed(m) | ReadError::Denied(m) | ReadError::Missing(m)
                                if total > 0 =>
                            {
                                ReadError::Failed(format!("{m} (after {total} bytes)"))
                            }
                            err => err,
                        })?;
                for message in &page.messages {
                    sink(message.as_bytes()).map_err(ReadError::Output)?;
                    total += message.len() as u64;
                    // The agent sends whole lines and drops the newline that ends an event
                    // built after the command finished: put it back.
                    if !message.ends_with('\n') {
                        sink(b"\n").map_err(ReadError::Output)?;
                        total += 1;
                    }
                }
                // The end of a stream is the token coming back unchanged; an empty page with
                // a new token is not the end.
                if page.next_token.is_none() || page.next_token == token {
                    break;
                }
                token = page.next_token;
            }
        }
        Ok(total)
    }
}
