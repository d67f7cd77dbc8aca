//! DescribeInvocations without outputs: an invocation's overall state and every instance's, in
//! one answer of a few hundred bytes per instance, where DescribeInvocationResults sends each
//! output (up to 24 KB) with each state.
//!
//! What this relies on, from the API reference (ECS 2014-05-26, DescribeInvocations,
//! <https://www.alibabacloud.com/help/en/ecs/api-describeinvocations>, and the official SDKs
//! generated from the same API definition, e.g. aliyun/alibabacloud-java-async-sdk,
//! ecs20140526 `DescribeInvocationsRequest` / `DescribeInvocationsResponseBody`):
//!
//! - Request: `InvokeId`, `CommandId`, `InstanceId`, `InvokeStatus`, `IncludeOutput` ("whether
//!   to return the command output", default false), `ContentEncoding`, `MaxResults` (at most 50,
//!   default 10) and `NextToken`.
//! - Response: `NextToken`, `TotalCount`, `PageSize`, `PageNumber` beside
//!   `Invocations.Invocation[]`; each invocation has `InvokeId`, `InvocationStatus` (overall:
//!   Pending, Scheduled, Running, Success, Failed, PartialFailed, Stopping, Stopped; the older
//!   `InvokeStatus` is to be ignored), `RepeatMode`, `Frequency`, and
//!   `InvokeInstances.InvokeInstance[]`, each with `InstanceId`, `InvocationStatus` (the same
//!   words as DescribeInvocationResults' — Pending, Invalid, Aborted, Running, Success, Failed,
//!   Error, Timeout, Cancelled, Stopping, Terminated, Scheduled; the older
//!   `InstanceInvokeStatus` is to be ignored), `ExitCode`, `ErrorCode`, `ErrorInfo`, `Repeats`,
//!   `StartTime`, `FinishTime`, `Dropped` and, only with IncludeOutput, `Output`.
//! - Paging: `MaxResults` / `NextToken` page the invocations; no parameter pages one
//!   invocation's instances, which all come in its one record. How many instances one
//!   invocation can have is RunCommand's and InvokeCommand's limit: 100 `InstanceId.N` by
//!   default, more with a quota increase ("Maximum number of instances supported for command
//!   execution"). Should the service ever spread one invocation over several pages, every page
//!   is read (the one paginator) and the instances are put together.

use serde::{Deserialize, Serialize};

use super::AliyunProvider;
use super::record::invocation_status_class;
use crate::model::{Document, ListEntry};
use crate::provider::contract::FetchError;
use crate::provider::paging::read_all;

pub(super) const DESCRIBE_INVOCATIONS: &str = "DescribeInvocations";
/// The API's largest page (of invocations).
const PAGE_SIZE: &str = "50";

/// One instance's state as DescribeInvocations lists it: the fields a wait reads, nothing of
/// the output.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceState {
    pub instance_id: Option<String>,
    pub invocation_status: Option<String>,
    pub exit_code: Option<i64>,
    pub error_code: Option<String>,
    pub error_info: Option<String>,
    pub repeats: Option<i64>,
}

impl Document for InstanceState {}

impl InstanceState {
    /// A periodic task waiting for its next run (the same word as in a result).
    pub fn is_periodic(&self) -> bool {
        self.invocation_status.as_deref() == Some("Scheduled")
    }

    pub fn into_entry(self) -> ListEntry {
        let status = self.invocation_status.clone().unwrap_or_default();
        // "ErrorCode: ErrorInfo", or whichever the service gave, as a result's details read.
        let non_empty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
        let details = match (non_empty(&self.error_code), non_empty(&self.error_info)) {
            (Some(c), Some(i)) => Some(format!("{c}: {i}")),
            (c, i) => c.or(i),
        };
        ListEntry {
            instance_id: self.instance_id.clone().unwrap_or_default(),
            instance_name: None,
            class: invocation_status_class(&status),
            status,
            status_details: details,
            plugins: Vec::new(),
            doc: Box::new(self),
        }
    }
}

/// One invocation as DescribeInvocations answered for it.
#[derive(Debug, Default)]
pub struct Described {
    /// The overall `InvocationStatus`, as sent.
    pub status: Option<String>,
    /// `RepeatMode`: Once, or a task that runs again (Period, NextRebootOnly, EveryReboot).
    pub repeat_mode: Option<String>,
    /// Every instance, in the service's order.
    pub instances: Vec<InstanceState>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    invocations: Option<Invocations>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Invocations {
    #[serde(default)]
    invocation: Vec<Invocation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Invocation {
    #[serde(default)]
    invoke_id: Option<String>,
    #[serde(default)]
    invocation_status: Option<String>,
    #[serde(default)]
    repeat_mode: Option<String>,
    #[serde(default)]
    invoke_instances: Option<InvokeInstances>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InvokeInstances {
    #[serde(default)]
    invoke_instance: Vec<InstanceState>,
}

impl AliyunProvider {
    /// The states of invocation `invoke_id` (of `command`, when given), every page, no output;
    /// `None` while the service lists no instance of it (right after RunCommand: not visible
    /// yet).
    pub async fn invocation_states(
        &self,
        invoke_id: &str,
        command: Option<&str>,
    ) -> Result<Option<Described>, FetchError> {
        let page = |token: Option<String>, _read: usize| {
            let mut params: Vec<(String, String)> = vec![
                ("InvokeId".into(), invoke_id.into()),
                ("IncludeOutput".into(), "false".into()),
                ("MaxResults".into(), PAGE_SIZE.into()),
            ];
            params.extend(command.map(|c| ("CommandId".to_owned(), c.to_owned())));
            params.extend(token.map(|t| ("NextToken".to_owned(), t)));
            async move {
                let page = self.call::<Page>(DESCRIBE_INVOCATIONS, &params).await?;
                let invocations = page.invocations.unwrap_or_default().invocation;
                // An empty page with a token would have the same nothing read for ever.
                let next = page.next_token.filter(|_| !invocations.is_empty());
                Ok((invocations, next))
            }
        };
        let (pages, _) = read_all(DESCRIBE_INVOCATIONS, None, page).await?;
        Ok(merge(invoke_id, pages))
    }
}

/// The records of `invoke_id` put together: its status from the last record, its instances in
/// the order they came, each once (its latest state).
fn merge(invoke_id: &str, records: Vec<Invocation>) -> Option<Described> {
    let mut described = Described::default();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for record in records {
        if record
            .invoke_id
            .as_deref()
            .is_some_and(|id| id != invoke_id)
        {
            continue;
        }
        described.status = record.invocation_status.or(described.status);
        described.repeat_mode = record.repeat_mode.or(described.repeat_mode);
        for instance in record.invoke_instances.unwrap_or_default().invoke_instance {
            let id = instance.instance_id.clone().unwrap_or_default();
            match at.get(&id) {
                Some(&i) => described.instances[i] = instance,
                None => {
                    at.insert(id, described.instances.len());
                    described.instances.push(instance);
                }
            }
        }
    }
    (!described.instances.is_empty()).then_some(described)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: &str) -> Vec<Invocation> {
        serde_json::from_str::<Page>(json)
            .unwrap()
            .invocations
            .unwrap_or_default()
            .invocation
    }

    #[test]
    fn the_answer_reads_as_the_reference_shapes_it() {
        let records = page(
            r#"{"RequestId":"r","TotalCount":1,"PageSize":50,"PageNumber":1,"NextToken":"",
                "Invocations":{"Invocation":[{"InvokeId":"t-1","InvocationStatus":"Running",
                "InvokeStatus":"Running","RepeatMode":"Once","InvokeInstances":{"InvokeInstance":[
                {"InstanceId":"i-1","InvocationStatus":"Success","InstanceInvokeStatus":"Finished",
                 "ExitCode":0,"Repeats":1,"StartTime":"2024-05-14T09:12:31Z"},
                {"InstanceId":"i-2","InvocationStatus":"Failed","ExitCode":3,
                 "ErrorCode":"ExitCodeNonzero","ErrorInfo":"exit code is not zero"},
                {"InstanceId":"i-3","InvocationStatus":"Scheduled"}]}}]}}"#,
        );
        let d = merge("t-1", records).unwrap();
        assert_eq!(d.status.as_deref(), Some("Running"));
        let entries: Vec<ListEntry> = d.instances.into_iter().map(|i| i.into_entry()).collect();
        let ids: Vec<&str> = entries.iter().map(|e| e.instance_id.as_str()).collect();
        assert_eq!(ids, ["i-1", "i-2", "i-3"]);
        assert!(entries[0].class.is_terminal() && entries[1].class.is_terminal());
        assert_eq!(
            entries[1].status_line(),
            "Failed (ExitCodeNonzero: exit code is not zero)"
        );
        assert!(!entries[2].class.is_terminal());
    }

    #[test]
    fn pages_of_one_invocation_are_put_together_and_others_left_out() {
        let one = page(
            r#"{"Invocations":{"Invocation":[{"InvokeId":"t-1","InvocationStatus":"Running",
                "InvokeInstances":{"InvokeInstance":[{"InstanceId":"i-1","InvocationStatus":"Running"},
                {"InstanceId":"i-2","InvocationStatus":"Running"}]}},
                {"InvokeId":"t-9","InvokeInstances":{"InvokeInstance":[{"InstanceId":"i-9"}]}}]}}"#,
        );
        let two = page(
            r#"{"Invocations":{"Invocation":[{"InvokeId":"t-1","InvocationStatus":"Success",
                "InvokeInstances":{"InvokeInstance":[{"InstanceId":"i-3","InvocationStatus":"Success"},
                {"InstanceId":"i-1","InvocationStatus":"Success"}]}}]}}"#,
        );
        let d = merge("t-1", one.into_iter().chain(two).collect()).unwrap();
        assert_eq!(d.status.as_deref(), Some("Success"));
        let states: Vec<(String, String)> = d
            .instances
            .into_iter()
            .map(|i| (i.instance_id.unwrap(), i.invocation_status.unwrap()))
            .collect();
        let want = [("i-1", "Success"), ("i-2", "Running"), ("i-3", "Success")];
        let want: Vec<(String, String)> = want.map(|(a, b)| (a.into(), b.into())).into();
        assert_eq!(states, want);
        assert!(merge("t-1", page(r#"{"Invocations":{"Invocation":[]}}"#)).is_none());
        assert!(merge("t-1", page("{}")).is_none());
    }
}
