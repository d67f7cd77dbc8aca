//! GetCommandInvocation's response as the aws CLI prints it, and what its statuses mean.

use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use serde::{Deserialize, Serialize};

use super::output_sources::{Stream, is_truncated, source, unreadable_url};
use super::status::classify;
use crate::model::{Cut, Invocation, RawRecord};

/// Field order is the service model's, which is the order botocore (and so the aws CLI) prints.
/// Fields the service did not send stay absent; fields the model does not know are dropped,
/// as botocore drops them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommandInvocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_start_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_elapsed_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_end_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_output_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_output_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_error_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_error_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_output_config: Option<CloudWatchOutputConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchOutputConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_log_group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_output_enabled: Option<bool>,
}

impl CommandInvocation {
    /// The record exactly as the service sent it, when the body is at hand and parses.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }
}

/// The fallback when no body was captured: the SDK's typed output, where `ResponseCode` and
/// `CloudWatchOutputEnabled` are always present.
impl From<GetCommandInvocationOutput> for CommandInvocation {
    fn from(o: GetCommandInvocationOutput) -> Self {
        CommandInvocation {
            command_id: o.command_id,
            instance_id: o.instance_id,
            comment: o.comment,
            document_name: o.document_name,
            document_version: o.document_version,
            plugin_name: o.plugin_name,
            response_code: Some(i64::from(o.response_code)),
            execution_start_date_time: o.execution_start_date_time,
            execution_elapsed_time: o.execution_elapsed_time,
            execution_end_date_time: o.execution_end_date_time,
            // An unknown status keeps the exact string the service sent.
            status: o.status.map(|s| s.as_str().to_owned()),
            status_details: o.status_details,
            standard_output_content: o.standard_output_content,
            standard_output_url: o.standard_output_url,
            standard_error_content: o.standard_error_content,
            standard_error_url: o.standard_error_url,
            cloud_watch_output_config: o.cloud_watch_output_config.map(|c| {
                CloudWatchOutputConfig {
                    cloud_watch_log_group_name: c.cloud_watch_log_group_name,
                    cloud_watch_output_enabled: Some(c.cloud_watch_output_enabled),
                }
            }),
        }
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|v| !v.is_empty()).cloned()
}

impl CommandInvocation {
    pub fn into_invocation(self) -> Invocation {
        let status = self.status.clone().unwrap_or_default();
        let class = classify(&status, self.status_details.as_deref());
        let document =
            non_empty(&self.document_name).map(|name| match non_empty(&self.document_version) {
                Some(v) => format!("{name} (version {v})"),
                None => name,
            });
        let cut = |stream, content: &Option<String>| {
            let content = content.as_deref().unwrap_or_default();
            is_truncated(content, stream).then(|| match source(&self, stream) {
                Some(s) => Cut {
                    rest_at: Some(s.describe()),
                    unread: false,
                },
                None => Cut {
                    rest_at: unreadable_url(&self, stream).map(str::to_owned),
                    unread: true,
                },
            })
        };
        let stdout_cut = cut(Stream::Stdout, &self.standard_output_content);
        let stderr_cut = cut(Stream::Stderr, &self.standard_error_content);
        Invocation {
            command_id: self.command_id.clone().unwrap_or_default(),
            instance_id: self.instance_id.clone().unwrap_or_default(),
            plugin_name: non_empty(&self.plugin_name),
            document,
            status,
            status_details: self.status_details.clone(),
            class,
            response_code: self.response_code,
            started: non_empty(&self.execution_start_date_time),
            ended: non_empty(&self.execution_end_date_time),
            elapsed: non_empty(&self.execution_elapsed_time),
            stdout_url: non_empty(&self.standard_output_url),
            stderr_url: non_empty(&self.standard_error_url),
            stdout_cut,
            stderr_cut,
            raw: RawRecord::Aws(self),
            steps: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_keeps_exactly_the_fields_sent() {
        let body = br#"{"Status":"Pending","StatusDetails":"Pending","CloudWatchOutputConfig":{},
            "SomethingNew":1,"CommandId":"c"}"#;
        let record = CommandInvocation::from_body(body).unwrap();
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"CommandId":"c","Status":"Pending","StatusDetails":"Pending","CloudWatchOutputConfig":{}}"#
        );
        assert!(CommandInvocation::from_body(b"not json").is_none());
    }

    #[test]
    fn unknown_status_is_kept_verbatim() {
        let out = GetCommandInvocationOutput::builder()
            .status(aws_sdk_ssm::types::CommandInvocationStatus::from("Paused"))
            .build();
        let inv = CommandInvocation::from(out).into_invocation();
        assert_eq!(inv.status, "Paused");
        assert!(!inv.is_terminal());
    }
}
