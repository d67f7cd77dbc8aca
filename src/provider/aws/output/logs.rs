//! One CloudWatch Logs group as the follower and the reader of command output need it: the
//! streams under a prefix, and pages of a stream's events from a forward token.

use aws_config::SdkConfig;

use super::{ReadError, read_error_of};
use crate::provider::paging::read_all;

/// A log stream as the listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRef {
    pub name: String,
    /// Creation time (ms); steps are read in the order their streams were created.
    pub created: i64,
}

/// One page of a stream's events.
#[derive(Debug, Clone, Default)]
pub struct EventPage {
    pub messages: Vec<String>,
    /// The token to ask with next; the same token as sent means the end for now.
    pub next_token: Option<String>,
}

/// Where the events come from: CloudWatch Logs, or a script in tests.
pub trait LogSource {
    /// Every stream whose name starts with `prefix`, every page.
    fn streams(
        &self,
        prefix: &str,
    ) -> impl std::future::Future<Output = Result<Vec<StreamRef>, ReadError>>;
    /// One page of `stream` from `token` (None: from the head).
    fn page(
        &self,
        stream: &str,
        token: Option<&str>,
    ) -> impl std::future::Future<Output = Result<EventPage, ReadError>>;
}

pub struct LogGroup {
    client: aws_sdk_cloudwatchlogs::Client,
    group: String,
    /// Names the group (and streams) in messages.
    what: String,
}

impl LogGroup {
    pub fn new(config: &SdkConfig, group: &str, what: String) -> Self {
        // The configuration's timeouts bound each page, and `--follow` polls for as long as
        // a wait lasts: retried as the SSM polls are.
        let (partition, retries) = crate::provider::aws::polling_retries("ssmres-logs", config);
        let client = aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::config::Builder::from(config)
                .retry_partition(partition)
                .retry_config(retries)
                .build(),
        );
        LogGroup {
            client,
            group: group.to_owned(),
            what,
        }
    }
}

impl LogSource for LogGroup {
    async fn streams(&self, prefix: &str) -> Result<Vec<StreamRef>, ReadError> {
        let page = |token, _| async move {
            let page = self
                .client
                .describe_log_streams()
                .log_group_name(&self.group)
                .log_stream_name_prefix(prefix)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| read_error_of(&self.what, &e))?;
            let streams = page.log_streams().iter().filter_map(|s| {
                let name = s.log_stream_name()?.to_owned();
                let created = s.creation_time().unwrap_or(0);
                Some(StreamRef { name, created })
            });
            Ok::<_, ReadError>((streams.collect(), page.next_token().map(str::to_owned)))
        };
        Ok(read_all("DescribeLogStreams", None, page).await?.0)
    }

    async fn page(&self, stream: &str, token: Option<&str>) -> Result<EventPage, ReadError> {
        let page = self
            .client
            .get_log_events()
            .log_group_name(&self.group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| read_error_of(&self.what, &e))?;
        Ok(EventPage {
            messages: page
                .events()
                .iter()
                .map(|e| e.message().unwrap_or_default().to_owned())
                .collect(),
            next_token: page.next_forward_token().map(str::to_owned),
        })
    }
}
