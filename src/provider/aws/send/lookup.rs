//! Finding a send whose outcome is unknown by the mark in its Comment: ListCommands, every page,
//! for commands requested since just before the send (the InvokedAfter filter), looked at a few
//! times over WINDOW since ListCommands, like the rest of Run Command, shows a new command a
//! moment late. Each look is an ordinary read, retried by the SDK, and cut at the window's end:
//! an unknown outcome comes with a bad network, which must not stretch the window.

use std::time::Duration;

use aws_sdk_ssm::types::{CommandFilter, CommandFilterKey};

use super::super::AwsProvider;
use super::super::call::call;
use super::record::{CommandsPage, SendCommandAnswer};
use crate::provider::contract::FetchError;
use crate::provider::paging::read_all;

/// How long a send is looked for, and the pauses between looks (the first look is at once, the
/// last at the window's end).
pub const WINDOW: Duration = Duration::from_secs(10);
const PAUSES: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(3),
    Duration::from_secs(4),
];
/// How long past the window the last look may take: all of it is over by WINDOW + this.
pub const LAST_ANSWER: Duration = Duration::from_secs(5);

/// The service's page size limit for ListCommands.
const PAGE_SIZE: i32 = 50;

/// Room for a local clock that runs ahead of AWS's: the filter starts this long before the send.
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_secs(300);

/// ListCommands' InvokedAfter value for a send started at `started` (UTC, to the second).
pub fn invoked_after(started: jiff::Timestamp) -> String {
    let since = started.checked_sub(CLOCK_SKEW).unwrap_or(started);
    since.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl AwsProvider {
    /// The command whose Comment carries `mark`, as `send-command` would have printed it; Err:
    /// not found within WINDOW, with the last look's error if a look failed.
    pub(super) async fn find_sent(
        &self,
        mark: &str,
        started: jiff::Timestamp,
    ) -> Result<SendCommandAnswer, String> {
        let since = invoked_after(started);
        let end = tokio::time::Instant::now() + WINDOW + LAST_ANSWER;
        let mut last_error = String::new();
        for pause in std::iter::once(Duration::ZERO).chain(PAUSES) {
            tokio::time::sleep(pause).await;
            let Ok(look) = tokio::time::timeout_at(end, self.commands_since(&since)).await else {
                last_error = format!(
                    "ListCommands did not answer within {}s",
                    (WINDOW + LAST_ANSWER).as_secs()
                );
                break;
            };
            match look {
                Ok(commands) => {
                    last_error.clear();
                    let found = commands.into_iter().find(|c| {
                        c.comment
                            .as_deref()
                            .is_some_and(|comment| comment.ends_with(mark))
                    });
                    if let Some(command) = found {
                        return Ok(SendCommandAnswer {
                            command: Some(command),
                        });
                    }
                }
                Err(e) => last_error = crate::error::Error::from(e).to_string(),
            }
        }
        Err(last_error)
    }

    /// Every command requested since `since`, all pages.
    async fn commands_since(
        &self,
        since: &str,
    ) -> Result<Vec<super::record::CommandRecord>, FetchError> {
        const OP: &str = "ListCommands";
        let filter = CommandFilter::builder()
            .key(CommandFilterKey::InvokedAfter)
            .value(since)
            .build()
            .map_err(|e| FetchError::Transient(format!("{OP}: {e}")))?;
        let page = |token: Option<String>, _read: usize| {
            let filter = filter.clone();
            async move {
                let answer = call(OP, "looking for a send by its mark", |body| {
                    self.client
                        .list_commands()
                        .filters(filter)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token)
                        .customize()
                        .interceptor(body)
                        .send()
                })
                .await
                .map_err(|r| r.failure)?;
                let page: CommandsPage = answer.record()?;
                Ok::<_, FetchError>((page.commands, page.next_token))
            }
        };
        let (commands, _) = read_all(OP, None, page).await?;
        Ok(commands)
    }
}
