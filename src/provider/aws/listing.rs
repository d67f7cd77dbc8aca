//! ListCommandInvocations: every page, as the aws CLI prints it (pages merged into one
//! `{"CommandInvocations": [...]}`, keys in model order, timestamps in local ISO 8601).

use serde::{Deserialize, Serialize};

use super::record::CloudWatchOutputConfig;
use super::status::classify;
use super::timestamp::EpochTime;
use crate::model::{ListEntry, PluginResult, RawRecord};

/// One invocation as ListCommandInvocations returns it. Read from the response body, so
/// absent fields stay absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedInvocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_date_time: Option<EpochTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_output_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_error_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_plugins: Option<Vec<CommandPlugin>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_config: Option<NotificationConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_output_config: Option<CloudWatchOutputConfig>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommandPlugin {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_start_date_time: Option<EpochTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_finish_date_time: Option<EpochTime>,
    /// Standard output and error together, cut at 2,500 characters by this API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_output_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_error_url: Option<String>,
    #[serde(rename = "OutputS3Region", skip_serializing_if = "Option::is_none")]
    pub output_s3_region: Option<String>,
    #[serde(rename = "OutputS3BucketName", skip_serializing_if = "Option::is_none")]
    pub output_s3_bucket_name: Option<String>,
    #[serde(rename = "OutputS3KeyPrefix", skip_serializing_if = "Option::is_none")]
    pub output_s3_key_prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_events: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_type: Option<String>,
}

/// One page of the response.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Page {
    #[serde(default)]
    pub command_invocations: Vec<ListedInvocation>,
    pub next_token: Option<String>,
}

/// What `list -o json` prints: the pages merged into one object, as the aws CLI merges them.
#[derive(Debug, Serialize)]
pub struct Listing<'a> {
    #[serde(rename = "CommandInvocations")]
    pub command_invocations: Vec<&'a RawRecord>,
}

/// The service's page size limit for this call.
pub const PAGE_SIZE: usize = 50;

impl ListedInvocation {
    /// The step names, in the document's order.
    pub fn step_names(&self) -> Vec<String> {
        self.command_plugins
            .iter()
            .flatten()
            .filter_map(|p| p.name.clone())
            .collect()
    }

    /// The invocation as a whole, as a multi-step invocation's progress is seen: its status,
    /// no output (each step's comes from GetCommandInvocation once it has ended).
    pub fn into_invocation(self) -> crate::model::Invocation {
        let status = self.status.clone().unwrap_or_default();
        let non_empty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
        crate::model::Invocation {
            command_id: self.command_id.clone().unwrap_or_default(),
            instance_id: self.instance_id.clone().unwrap_or_default(),
            plugin_name: None,
            document: non_empty(&self.document_name),
            class: classify(&status, self.status_details.as_deref()),
            status,
            status_details: self.status_details.clone(),
            response_code: None,
            started: None,
            ended: None,
            elapsed: None,
            stdout_url: None,
            stderr_url: None,
            stdout_cut: None,
            stderr_cut: None,
            raw: RawRecord::AwsListed(self),
            steps: Vec::new(),
        }
    }

    pub fn into_entry(self) -> ListEntry {
        let status = self.status.clone().unwrap_or_default();
        let plugins = self
            .command_plugins
            .iter()
            .flatten()
            .map(|p| PluginResult {
                name: p.name.clone().unwrap_or_default(),
                status: p.status.clone().unwrap_or_default(),
                response_code: p.response_code,
                output: p.output.clone(),
            })
            .collect();
        ListEntry {
            instance_id: self.instance_id.clone().unwrap_or_default(),
            instance_name: self.instance_name.clone().filter(|n| !n.is_empty()),
            class: classify(&status, self.status_details.as_deref()),
            status,
            status_details: self.status_details.clone(),
            plugins,
            raw: RawRecord::AwsListed(self),
        }
    }
}
