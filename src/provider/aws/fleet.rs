//! A command as a whole: its status and counts (ListCommands), the state of each of its
//! invocations (ListCommandInvocations, for the fleet rounds), where its output goes in
//! CloudWatch Logs, and cancelling it (CancelCommand).

use super::AwsProvider;
use super::call::{Refused, call};
use super::listing::ListedInvocation;
use super::output::sources::default_log_group;
use crate::error::Error;
use crate::fleet::CommandSummary;
use crate::model::ListEntry;
use crate::provider::contract::{FetchError, ListFilter};

const TERMINAL_COMMAND_STATUS: [&str; 4] = ["Success", "Failed", "Cancelled", "TimedOut"];

/// Where a command's output goes in CloudWatch Logs, as ListCommands tells it.
#[derive(Debug, Clone)]
pub struct CommandLogs {
    /// None: CloudWatch output was not enabled when the command was sent.
    pub group: Option<String>,
}

impl AwsProvider {
    /// ListCommands for one command; None when it is not listed (yet).
    async fn list_command(
        &self,
        command_id: &str,
    ) -> Result<Option<aws_sdk_ssm::types::Command>, Refused> {
        let answer = call("ListCommands", "", |body| {
            self.client
                .list_commands()
                .command_id(command_id)
                .customize()
                .interceptor(body)
                .send()
        })
        .await?;
        // An empty or unreadable answer is a failed look, not "no such command".
        let checked = answer.record::<serde::de::IgnoredAny>();
        checked.map_err(|failure| Refused {
            code: None,
            message: None,
            failure,
        })?;
        Ok(answer.output.commands.and_then(|c| c.into_iter().next()))
    }

    /// The command's status and counts; None while it is not visible.
    pub async fn command_summary(
        &self,
        command_id: &str,
    ) -> Result<Option<CommandSummary>, FetchError> {
        let command = match self.list_command(command_id).await {
            Ok(command) => command,
            // A well-formed ID the service does not know (yet): IDs are checked locally.
            Err(r) if r.is("InvalidCommandId") || r.is("InvocationDoesNotExist") => None,
            Err(r) => return Err(r.failure),
        };
        Ok(command.map(|c| {
            let status = c
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            CommandSummary {
                terminal: TERMINAL_COMMAND_STATUS.contains(&status.as_str()),
                status,
                target_count: u64::try_from(c.target_count()).unwrap_or(0),
                completed_count: u64::try_from(c.completed_count()).unwrap_or(0),
            }
        }))
    }

    /// The command's CloudWatch Logs group: the one it was sent with, or the agent's default
    /// `/aws/ssm/<document name>`. Ok(None): no such command (yet).
    pub async fn command_logs(&self, command_id: &str) -> Result<Option<CommandLogs>, FetchError> {
        let command = self.list_command(command_id).await.map_err(|r| {
            match r.is("InvocationDoesNotExist") {
                true => FetchError::Transient("command not listed yet".into()),
                false => r.failure,
            }
        })?;
        Ok(command.map(|c| {
            let config = c.cloud_watch_output_config();
            let enabled = config.is_some_and(|c| c.cloud_watch_output_enabled());
            let group = config
                .and_then(|c| c.cloud_watch_log_group_name())
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .or_else(|| c.document_name().and_then(default_log_group));
            CommandLogs {
                group: group.filter(|_| enabled),
            }
        }))
    }

    /// CancelCommand: on the named instances, or on every instance of the command.
    pub async fn cancel_command(
        &self,
        command_id: &str,
        instance_ids: &[String],
    ) -> Result<(), FetchError> {
        // The API takes at most 50 instance IDs per call; none means the whole command.
        let batches: Vec<Option<Vec<String>>> = if instance_ids.is_empty() {
            vec![None]
        } else {
            instance_ids.chunks(50).map(|c| Some(c.to_vec())).collect()
        };
        for ids in batches {
            call("CancelCommand", "", |body| {
                self.client
                    .cancel_command()
                    .command_id(command_id)
                    .set_instance_ids(ids)
                    .customize()
                    .interceptor(body)
                    .send()
            })
            .await
            .map_err(|r| match r.is("InvocationDoesNotExist") {
                true => {
                    FetchError::Fatal(Error::NotFound("CancelCommand: no such invocation".into()))
                }
                false => r.failure,
            })?;
        }
        Ok(())
    }

    /// Each invocation's instance and state, all pages; none of the records (a wait over tens
    /// of thousands would keep them all).
    pub async fn invocation_states(
        &self,
        command_id: &str,
        instance_id: Option<&str>,
    ) -> Result<Vec<ListEntry>, FetchError> {
        let query = ListFilter {
            run_id: Some(command_id.to_owned()),
            instance_id: instance_id.map(str::to_owned),
            ..ListFilter::default()
        };
        let listed = self.list_invocations(&query).await?;
        Ok(listed
            .into_iter()
            .map(|i| {
                ListedInvocation {
                    instance_id: i.instance_id,
                    status: i.status,
                    status_details: i.status_details,
                    ..Default::default()
                }
                .into_entry()
            })
            .collect())
    }
}
