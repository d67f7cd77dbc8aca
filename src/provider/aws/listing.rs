//! ListCommandInvocations: every page, as the aws CLI prints it (pages merged into one
//! `{"CommandInvocations": [...]}`, keys in model order, timestamps in local ISO 8601).

use serde::{Deserialize, Serialize};

use super::AwsProvider;
use super::call::call;
use super::record::CloudWatchOutputConfig;
use super::status::class_of;
use super::timestamp::EpochTime;
use crate::error::Error;
use crate::model::{Document, Envelope, Invocation, ListEntry, PluginResult};
use crate::provider::contract::{FetchError, ListFilter};
use crate::provider::paging::read_all;

/// One invocation as ListCommandInvocations returns it. Read from the response body, so
/// absent fields stay absent.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedInvocation {
    pub command_id: Option<String>,
    pub instance_id: Option<String>,
    pub instance_name: Option<String>,
    pub comment: Option<String>,
    pub document_name: Option<String>,
    pub document_version: Option<String>,
    pub requested_date_time: Option<EpochTime>,
    pub status: Option<String>,
    pub status_details: Option<String>,
    pub trace_output: Option<String>,
    pub standard_output_url: Option<String>,
    pub standard_error_url: Option<String>,
    pub command_plugins: Option<Vec<CommandPlugin>>,
    pub service_role: Option<String>,
    pub notification_config: Option<NotificationConfig>,
    pub cloud_watch_output_config: Option<CloudWatchOutputConfig>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommandPlugin {
    pub name: Option<String>,
    pub status: Option<String>,
    pub status_details: Option<String>,
    pub response_code: Option<i64>,
    pub response_start_date_time: Option<EpochTime>,
    pub response_finish_date_time: Option<EpochTime>,
    /// Standard output and error together, cut at 2,500 characters by this API.
    pub output: Option<String>,
    pub standard_output_url: Option<String>,
    pub standard_error_url: Option<String>,
    #[serde(rename = "OutputS3Region")]
    pub output_s3_region: Option<String>,
    #[serde(rename = "OutputS3BucketName")]
    pub output_s3_bucket_name: Option<String>,
    #[serde(rename = "OutputS3KeyPrefix")]
    pub output_s3_key_prefix: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfig {
    pub notification_arn: Option<String>,
    pub notification_events: Option<Vec<String>>,
    pub notification_type: Option<String>,
}

/// One page of the response.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPage {
    #[serde(default)]
    command_invocations: Vec<ListedInvocation>,
    next_token: Option<String>,
}

/// What `list -o json` prints: the pages merged into one object, as the aws CLI merges them.
#[derive(Debug)]
pub struct CommandInvocations;

impl Envelope for CommandInvocations {
    fn wrap<'a>(
        &self,
        records: Vec<&'a dyn Document>,
        _: Option<u64>,
    ) -> Box<dyn erased_serde::Serialize + 'a> {
        #[derive(Serialize)]
        struct Listing<'a> {
            #[serde(rename = "CommandInvocations")]
            command_invocations: Vec<&'a dyn Document>,
        }
        Box::new(Listing {
            command_invocations: records,
        })
    }
}

impl Document for ListedInvocation {}

/// The service's page size limit for this call.
const PAGE_SIZE: usize = 50;

impl AwsProvider {
    /// Every page of ListCommandInvocations for the command `run_id` names, up to `max_items`. Each page is retried by the SDK
    /// on throttling and 5xx, and the NextToken only moves on after a page has arrived, so a
    /// failure in the middle neither loses nor repeats an invocation.
    pub async fn list_invocations(
        &self,
        query: &ListFilter,
    ) -> Result<Vec<ListedInvocation>, FetchError> {
        const OP: &str = "ListCommandInvocations";
        let page = |token, read: usize| async move {
            let wanted = query
                .max_items
                .map_or(PAGE_SIZE, |max| (max - read).min(PAGE_SIZE));
            let answer = call(OP, &format!("page_size={wanted}"), |body| {
                self.client
                    .list_command_invocations()
                    .set_command_id(query.run_id.clone())
                    .set_instance_id(query.instance_id.clone())
                    .set_details(query.details.then_some(true))
                    .max_results(wanted as i32)
                    .set_next_token(token)
                    .customize()
                    .interceptor(body)
                    .send()
            })
            .await
            .map_err(|refused| match refused.is("InvocationDoesNotExist") {
                true => FetchError::Fatal(Error::NotFound(
                    "command not found: check the command ID and the region".into(),
                )),
                false => refused.failure,
            })?;
            let page: ListPage = answer.record()?;
            Ok((page.command_invocations, page.next_token))
        };
        Ok(read_all(OP, query.max_items, page).await?.0)
    }
}

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
    pub fn into_invocation(self) -> Invocation {
        let status = self.status.clone().unwrap_or_default();
        let class = class_of(&status, self.status_details.as_deref());
        Invocation {
            command_id: self.command_id.clone().unwrap_or_default(),
            instance_id: self.instance_id.clone().unwrap_or_default(),
            document: self.document_name.clone().filter(|v| !v.is_empty()),
            status_details: self.status_details.clone(),
            status_only: true,
            status,
            class,
            doc: Box::new(self),
            ..Invocation::default()
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
            class: class_of(&status, self.status_details.as_deref()),
            status,
            status_details: self.status_details.clone(),
            plugins,
            doc: Box::new(self),
        }
    }
}
