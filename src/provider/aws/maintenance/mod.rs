//! Maintenance window executions: their tasks (DescribeMaintenanceWindowExecutionTasks), the
//! invocations of each task (DescribeMaintenanceWindowExecutionTaskInvocations) and the
//! execution's own status (GetMaintenanceWindowExecution). Records are read from the response
//! body, like every other record, so json output has exactly the fields the service sent.
//! `view` is the execution as a wait sees it.

pub mod view;

use aws_sdk_ssm::types::MaintenanceWindowFilter;
use serde::{Deserialize, Serialize};

use super::AwsProvider;
use super::call::{Refused, call};
use super::timestamp::EpochTime;
use crate::error::Error;
use crate::model::StatusClass;
use crate::provider::contract::FetchError;
use crate::provider::paging::read_all;

/// One task invocation (one target of one task run), in the service model's field order.
/// `Parameters` and `OwnerInformation` are marked sensitive by the API: json prints them, as
/// the aws CLI does; the table shows Parameters only with -v.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskInvocation {
    pub window_execution_id: Option<String>,
    pub task_execution_id: Option<String>,
    pub invocation_id: Option<String>,
    /// For RUN_COMMAND tasks, the Run Command command ID.
    pub execution_id: Option<String>,
    pub task_type: Option<String>,
    pub parameters: Option<String>,
    pub status: Option<String>,
    pub status_details: Option<String>,
    pub start_time: Option<EpochTime>,
    pub end_time: Option<EpochTime>,
    pub owner_information: Option<String>,
    pub window_target_id: Option<String>,
}

/// One task run of a window execution; only what the tool shows of it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskExecution {
    pub task_execution_id: Option<String>,
    pub task_arn: Option<String>,
    pub task_type: Option<String>,
    pub status: Option<String>,
    pub status_details: Option<String>,
    pub start_time: Option<EpochTime>,
    pub end_time: Option<EpochTime>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InvocationPage {
    #[serde(default)]
    window_execution_task_invocation_identities: Vec<TaskInvocation>,
    next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskPage {
    #[serde(default)]
    window_execution_task_identities: Vec<TaskExecution>,
    next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WindowExecutionRecord {
    status: Option<String>,
}

/// The service's page size limits for these calls.
const MIN_PAGE: usize = 10;
const MAX_PAGE: usize = 100;

/// SUCCESS is the one good end; FAILED, TIMED_OUT, CANCELLED and SKIPPED_OVERLAPPING (the run
/// never happened because the previous one was still going) are the others. PENDING waits;
/// IN_PROGRESS, CANCELLING and anything unknown are never taken for an end.
pub fn window_status_class(status: &str) -> StatusClass {
    match status {
        "SUCCESS" => StatusClass::Success,
        "FAILED" | "TIMED_OUT" | "CANCELLED" | "SKIPPED_OVERLAPPING" => StatusClass::Failed,
        "PENDING" => StatusClass::Pending,
        _ => StatusClass::Running,
    }
}

impl TaskInvocation {
    pub fn class(&self) -> StatusClass {
        window_status_class(self.status.as_deref().unwrap_or_default())
    }

    /// The Run Command command behind this invocation, if it is one.
    pub fn command_id(&self) -> Option<&str> {
        (self.task_type.as_deref() == Some("RUN_COMMAND"))
            .then_some(self.execution_id.as_deref())
            .flatten()
            .filter(|id| !id.is_empty())
    }
}

impl TaskExecution {
    pub fn class(&self) -> StatusClass {
        window_status_class(self.status.as_deref().unwrap_or_default())
    }
}

/// What to list.
#[derive(Debug, Clone)]
pub struct InvocationQuery<'a> {
    pub window_execution_id: &'a str,
    pub task_id: String,
    /// Sent as the STATUS filter; empty for none.
    pub statuses: &'a [String],
    pub max_items: Option<usize>,
}

/// "window execution X not found" for DoesNotExistException, which the service answers for an
/// unknown window execution or task ID alike; everything else as for any call.
fn failure(refused: Refused, window_execution_id: &str, task_id: Option<&str>) -> FetchError {
    if !refused.is("DoesNotExistException") {
        return refused.failure;
    }
    let what = match task_id {
        Some(t) => format!("window execution {window_execution_id} or its task {t}"),
        None => format!("window execution {window_execution_id}"),
    };
    let said = refused
        .message
        .filter(|m| !m.is_empty())
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    FetchError::Fatal(Error::NotFound(format!(
        "{what} not found{said}: check the ID and the region (--region)"
    )))
}

impl AwsProvider {
    /// Every task run of a window execution, all pages, in the service's order.
    pub async fn window_tasks(
        &self,
        window_execution_id: &str,
    ) -> Result<Vec<TaskExecution>, FetchError> {
        const OP: &str = "DescribeMaintenanceWindowExecutionTasks";
        let page = |token, _| async move {
            let answer = call(OP, "", |body| {
                self.client
                    .describe_maintenance_window_execution_tasks()
                    .window_execution_id(window_execution_id)
                    .max_results(MAX_PAGE as i32)
                    .set_next_token(token)
                    .customize()
                    .interceptor(body)
                    .send()
            })
            .await
            .map_err(|r| failure(r, window_execution_id, None))?;
            let page: TaskPage = answer.record()?;
            Ok((page.window_execution_task_identities, page.next_token))
        };
        Ok(read_all(OP, None, page).await?.0)
    }

    /// Every invocation of one task run, all pages, up to `max_items`; and whether the service
    /// had more when `max_items` stopped the listing.
    pub async fn task_invocations(
        &self,
        query: &InvocationQuery<'_>,
    ) -> Result<(Vec<TaskInvocation>, bool), FetchError> {
        const OP: &str = "DescribeMaintenanceWindowExecutionTaskInvocations";
        let mut values: Vec<String> = Vec::new();
        for s in query.statuses {
            if !values.contains(s) {
                values.push(s.clone());
            }
        }
        let filters = (!values.is_empty()).then(|| {
            vec![
                MaintenanceWindowFilter::builder()
                    .key("STATUS")
                    .set_values(Some(values))
                    .build(),
            ]
        });
        let page = |token, read: usize| {
            let filters = filters.clone();
            async move {
                // The service takes 10 to 100 per page; ask for no more than is still wanted.
                let wanted = query.max_items.map_or(MAX_PAGE, |max| {
                    max.saturating_sub(read).clamp(MIN_PAGE, MAX_PAGE)
                });
                let answer = call(OP, &format!("page_size={wanted}"), |body| {
                    self.client
                        .describe_maintenance_window_execution_task_invocations()
                        .window_execution_id(query.window_execution_id)
                        .task_id(&query.task_id)
                        .set_filters(filters)
                        .max_results(wanted as i32)
                        .set_next_token(token)
                        .customize()
                        .interceptor(body)
                        .send()
                })
                .await
                .map_err(|r| failure(r, query.window_execution_id, Some(&query.task_id)))?;
                let page: InvocationPage = answer.record()?;
                Ok((
                    page.window_execution_task_invocation_identities,
                    page.next_token,
                ))
            }
        };
        read_all(OP, query.max_items, page).await
    }

    /// The window execution's own status (PENDING, IN_PROGRESS, SUCCESS, ...); `None` when the
    /// service sent none, which is then not waited on.
    pub async fn window_status(
        &self,
        window_execution_id: &str,
    ) -> Result<Option<String>, FetchError> {
        const OP: &str = "GetMaintenanceWindowExecution";
        let answer = call(OP, "", |body| {
            self.client
                .get_maintenance_window_execution()
                .window_execution_id(window_execution_id)
                .customize()
                .interceptor(body)
                .send()
        })
        .await
        .map_err(|r| failure(r, window_execution_id, None))?;
        let record: WindowExecutionRecord = answer.record()?;
        Ok(record.status.filter(|s| !s.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_their_meaning() {
        assert_eq!(window_status_class("SUCCESS"), StatusClass::Success);
        for failed in ["FAILED", "TIMED_OUT", "CANCELLED", "SKIPPED_OVERLAPPING"] {
            assert_eq!(window_status_class(failed), StatusClass::Failed, "{failed}");
        }
        assert_eq!(window_status_class("PENDING"), StatusClass::Pending);
        for running in ["IN_PROGRESS", "CANCELLING", "PAUSED", ""] {
            assert!(!window_status_class(running).is_terminal(), "{running}");
        }
    }

    #[test]
    fn only_run_command_invocations_have_a_command() {
        let mut inv = TaskInvocation {
            task_type: Some("RUN_COMMAND".into()),
            execution_id: Some("32d70fe0-ddbc-4a4e-943f-ffcbc0123456".into()),
            ..Default::default()
        };
        assert_eq!(
            inv.command_id(),
            Some("32d70fe0-ddbc-4a4e-943f-ffcbc0123456")
        );
        inv.task_type = Some("AUTOMATION".into());
        assert_eq!(inv.command_id(), None);
        inv.task_type = Some("RUN_COMMAND".into());
        inv.execution_id = Some(String::new());
        assert_eq!(inv.command_id(), None);
    }

    #[test]
    fn records_keep_model_order_and_only_the_fields_sent() {
        let body = br#"{"WindowExecutionTaskInvocationIdentities":[{"Status":"FAILED",
            "InvocationId":"i1","StartTime":1715677951.291,"Unknown":1}],"NextToken":""}"#;
        let page: InvocationPage = serde_json::from_slice(body).unwrap();
        let json =
            serde_json::to_string(&page.window_execution_task_invocation_identities[0]).unwrap();
        assert!(
            json.starts_with(r#"{"InvocationId":"i1","Status":"FAILED","StartTime":"2024-05-1"#),
            "{json}"
        );
        assert!(!json.contains("Unknown"));
    }
}
