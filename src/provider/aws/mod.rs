//! AWS Systems Manager through aws-sdk-ssm: configuration once, one client, error mapping.

mod errors;
pub mod listing;
pub mod log_group;
pub mod output_reader;
pub mod output_sources;
mod raw_body;
pub mod record;
pub mod s3_url;
mod status;
pub mod timestamp;
pub mod window;

use std::time::Duration;

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::imds;
use aws_config::imds::region::ImdsRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

use aws_sdk_ssm::error::ProvideErrorMetadata;

use super::{FetchError, Fetched, InvocationKey, Provider};
use crate::error::Error;
use crate::model::{Invocation, RawRecord};
use listing::ListedInvocation;
use record::CommandInvocation;

#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

pub struct AwsProvider {
    client: aws_sdk_ssm::Client,
    /// Invocations known to have several steps (command ID, instance ID): polled through
    /// ListCommandInvocations alone, one call per round.
    multi_step: std::sync::Mutex<std::collections::HashSet<(String, String)>>,
    /// Kept for the S3 and CloudWatch Logs clients of --full-output, built only when asked.
    sdk_config: aws_config::SdkConfig,
}

/// Off EC2 the credential and region chains end at the instance metadata service, whose
/// defaults (4 attempts, 1 s timeouts, backoff) make a machine without credentials hang for
/// many seconds. Two quick attempts are plenty where the service exists: it answers in
/// milliseconds there.
fn bounded_imds_client() -> imds::Client {
    imds::Client::builder()
        .max_attempts(2)
        .connect_timeout(Duration::from_millis(700))
        .read_timeout(Duration::from_millis(700))
        .operation_timeout(Duration::from_secs(2))
        .build()
}

impl AwsProvider {
    pub async fn connect(opts: &AwsOptions) -> Result<Self, Error> {
        let imds = bounded_imds_client();
        let region = match &opts.region {
            Some(r) => Some(Region::new(r.clone())),
            None => {
                let mut profile_region = ProfileFileRegionProvider::builder();
                if let Some(p) = &opts.profile {
                    profile_region = profile_region.profile_name(p);
                }
                RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
                    .or_else(profile_region.build())
                    .or_else(
                        ImdsRegionProvider::builder()
                            .imds_client(imds.clone())
                            .build(),
                    )
                    .region()
                    .await
            }
        };
        let Some(region) = region else {
            return Err(Error::Config(
                "no AWS region: pass --region, set AWS_REGION, or set a region in your AWS profile"
                    .into(),
            ));
        };

        tracing::debug!(
            region = %region,
            profile = opts.profile.as_deref().unwrap_or("(default)"),
            endpoint = opts.endpoint_url.as_deref().unwrap_or("(from the AWS configuration)"),
            "AWS configuration"
        );
        let mut credentials = DefaultCredentialsChain::builder()
            .region(region.clone())
            .imds_client(imds);
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
        if let Some(p) = &opts.profile {
            credentials = credentials.profile_name(p);
            loader = loader.profile_name(p);
        }
        // Retry settings are deliberately not passed here: that would replace the user's
        // AWS_RETRY_MODE / AWS_MAX_ATTEMPTS. The SDK's standard mode retries throttling,
        // 5xx, timeouts and dropped connections with backoff.
        let sdk_config = loader
            .credentials_provider(credentials.build().await)
            .load()
            .await;

        let mut ssm = aws_sdk_ssm::config::Builder::from(&sdk_config);
        // A server that accepts and never answers must not stall a poll forever.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(3100))
            .operation_attempt_timeout(Duration::from_secs(30))
            .build();
        ssm = ssm.timeout_config(timeouts);
        // Set on the SSM client alone (not the loader) so that other services keep their
        // endpoints from the standard AWS configuration.
        if let Some(url) = &opts.endpoint_url {
            ssm = ssm.endpoint_url(url);
        }
        Ok(AwsProvider {
            client: aws_sdk_ssm::Client::from_conf(ssm.build()),
            multi_step: Default::default(),
            sdk_config,
        })
    }

    /// The configuration every client of this run is built from.
    pub fn sdk_config(&self) -> &aws_config::SdkConfig {
        &self.sdk_config
    }

    /// Reads complete outputs from S3 and CloudWatch Logs with this configuration.
    pub fn output_reader(&self) -> output_reader::OutputReader {
        output_reader::OutputReader::new(&self.sdk_config)
    }
}

/// One GetCommandInvocation's answer.
enum Got {
    Found(Box<Invocation>),
    NotFound,
    InvalidPluginName,
}

impl AwsProvider {
    async fn get_invocation(&self, key: &InvocationKey) -> Result<Got, FetchError> {
        let body = raw_body::RawBody::default();
        let started = std::time::Instant::now();
        let result = self
            .client
            .get_command_invocation()
            .command_id(&key.command_id)
            .instance_id(&key.instance_id)
            .set_plugin_name(key.plugin_name.clone())
            .customize()
            .interceptor(body.clone())
            .send()
            .await;
        tracing::debug!(
            elapsed = ?started.elapsed(),
            ok = result.is_ok(),
            plugin = key.plugin_name.as_deref().unwrap_or_default(),
            "GetCommandInvocation"
        );
        match result {
            Ok(output) => {
                let record = body
                    .take()
                    .and_then(|b| CommandInvocation::from_body(&b))
                    .unwrap_or_else(|| CommandInvocation::from(output));
                Ok(Got::Found(Box::new(record.into_invocation())))
            }
            // A document with several steps asked for without one, a step it does not have,
            // or (for the first seconds after SendCommand) an invocation not visible yet.
            Err(err)
                if err.as_service_error().and_then(|e| e.code()) == Some("InvalidPluginName") =>
            {
                Ok(Got::InvalidPluginName)
            }
            Err(err) => match errors::classify(err, "GetCommandInvocation") {
                errors::Failure::NotFound => Ok(Got::NotFound),
                errors::Failure::Fetch(f) => Err(f),
            },
        }
    }

    fn multi_step_key(key: &InvocationKey) -> (String, String) {
        (key.command_id.clone(), key.instance_id.clone())
    }

    fn is_multi_step(&self, key: &InvocationKey) -> bool {
        self.multi_step
            .lock()
            .is_ok_and(|set| set.contains(&Self::multi_step_key(key)))
    }

    /// The invocation with its steps, from ListCommandInvocations; None: not listed (yet).
    async fn listed(&self, key: &InvocationKey) -> Result<Option<ListedInvocation>, FetchError> {
        let query = ListQuery {
            command_id: key.command_id.clone(),
            instance_id: Some(key.instance_id.clone()),
            details: true,
            max_items: None,
        };
        match self.list_invocations(&query).await {
            Ok(listed) => Ok(listed.into_iter().next()),
            // Not listed yet: as good as an empty listing.
            Err(FetchError::Fatal(Error::NotFound(_))) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GetCommandInvocation said InvalidPluginName: the listing tells whether the invocation is
    /// not visible yet, has several steps, or lacks the step asked for.
    async fn after_invalid_plugin_name(&self, key: &InvocationKey) -> Result<Fetched, FetchError> {
        let Some(listed) = self.listed(key).await? else {
            return Ok(Fetched::NotVisible);
        };
        let names = listed.step_names();
        match &key.plugin_name {
            Some(wanted) if !names.is_empty() && !names.contains(wanted) => {
                Err(FetchError::Fatal(Error::NotFound(format!(
                    "this invocation has no step {wanted:?}; its steps are: {}",
                    names.join(", ")
                ))))
            }
            // Listed with that step already: GetCommandInvocation lags the listing.
            Some(_) => Ok(Fetched::NotVisible),
            // Listed, but no step reported yet (a node that has not picked it up, or one it
            // never reached: Undeliverable): its status is followed until the steps appear.
            None if names.is_empty() => Ok(Fetched::Found(Box::new(listed.into_invocation()))),
            // One step: GetCommandInvocation will answer for it shortly.
            None if names.len() == 1 => Ok(Fetched::NotVisible),
            None => {
                if let Ok(mut set) = self.multi_step.lock() {
                    set.insert(Self::multi_step_key(key));
                }
                self.with_steps(listed, key, false).await
            }
        }
    }

    /// One look for `get`: a multi-step invocation comes with its steps' results even while it
    /// runs (a wait fetches them once, at the end).
    pub async fn fetch_now(&self, key: &InvocationKey) -> Result<Fetched, FetchError> {
        match self.fetch(key).await? {
            Fetched::Found(invocation)
                if invocation.steps.is_empty() && self.is_multi_step(key) =>
            {
                let RawRecord::AwsListed(listed) = invocation.raw else {
                    return Ok(Fetched::Found(invocation));
                };
                self.with_steps(listed, key, true).await
            }
            other => Ok(other),
        }
    }

    /// A multi-step invocation: its progress from the listing, and once it has ended each
    /// step's complete result (GetCommandInvocation with the step's name), in the document's
    /// order.
    async fn with_steps(
        &self,
        listed: ListedInvocation,
        key: &InvocationKey,
        always: bool,
    ) -> Result<Fetched, FetchError> {
        let names = listed.step_names();
        let mut invocation = listed.into_invocation();
        if always || invocation.is_terminal() {
            for name in names {
                let step = InvocationKey {
                    plugin_name: Some(name.clone()),
                    ..key.clone()
                };
                match self.get_invocation(&step).await? {
                    Got::Found(result) => invocation.steps.push(*result),
                    Got::NotFound | Got::InvalidPluginName => {
                        return Err(FetchError::Transient(format!(
                            "step {name:?} is listed but not visible yet"
                        )));
                    }
                }
            }
            // GetCommandInvocation can lag the listing: a finished invocation is shown with
            // finished steps only, or its exit code would be read from a step still running.
            if invocation.is_terminal()
                && let Some(step) = invocation.steps.iter().find(|s| !s.is_terminal())
            {
                return Err(FetchError::Transient(format!(
                    "step {:?} still shows {} while the invocation has ended",
                    step.plugin_name.as_deref().unwrap_or_default(),
                    step.status
                )));
            }
        }
        Ok(Fetched::Found(Box::new(invocation)))
    }
}

impl Provider for AwsProvider {
    async fn fetch(&self, key: &InvocationKey) -> Result<Fetched, FetchError> {
        if key.plugin_name.is_none() && self.is_multi_step(key) {
            return match self.listed(key).await? {
                Some(listed) => self.with_steps(listed, key, false).await,
                None => Ok(Fetched::NotVisible),
            };
        }
        match self.get_invocation(key).await? {
            Got::Found(invocation) => Ok(Fetched::Found(invocation)),
            Got::NotFound => Ok(Fetched::NotVisible),
            Got::InvalidPluginName => self.after_invalid_plugin_name(key).await,
        }
    }
}

impl AwsProvider {
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
            let result = self
                .client
                .cancel_command()
                .command_id(command_id)
                .set_instance_ids(ids)
                .send()
                .await;
            tracing::debug!(ok = result.is_ok(), "CancelCommand");
            result.map_err(|err| match errors::classify(err, "CancelCommand") {
                errors::Failure::NotFound => {
                    FetchError::Fatal(Error::NotFound("CancelCommand: no such invocation".into()))
                }
                errors::Failure::Fetch(f) => f,
            })?;
        }
        Ok(())
    }

    /// The command's overall status (ListCommands); None when it is not listed.
    pub async fn command_status(&self, command_id: &str) -> Result<Option<String>, FetchError> {
        let fleet = AwsFleet {
            provider: self,
            command_id: command_id.to_owned(),
        };
        use crate::fleet::FleetSource;
        Ok(fleet.summary().await?.map(|s| s.status))
    }
}

/// What `list` asks for.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub command_id: String,
    pub instance_id: Option<String>,
    pub details: bool,
    pub max_items: Option<usize>,
}

impl AwsProvider {
    /// Every page of ListCommandInvocations, up to `max_items`. Each page is retried by the SDK
    /// on throttling and 5xx, and the NextToken only moves on after a page has arrived, so a
    /// failure in the middle neither loses nor repeats an invocation.
    pub async fn list_invocations(
        &self,
        query: &ListQuery,
    ) -> Result<Vec<listing::ListedInvocation>, FetchError> {
        let mut all = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let wanted = query.max_items.map_or(listing::PAGE_SIZE, |max| {
                (max - all.len()).min(listing::PAGE_SIZE)
            });
            let body = raw_body::RawBody::default();
            let started = std::time::Instant::now();
            let result = self
                .client
                .list_command_invocations()
                .command_id(&query.command_id)
                .set_instance_id(query.instance_id.clone())
                .set_details(query.details.then_some(true))
                .max_results(wanted as i32)
                .set_next_token(next_token.take())
                .customize()
                .interceptor(body.clone())
                .send()
                .await;
            tracing::debug!(elapsed = ?started.elapsed(), ok = result.is_ok(), page_size = wanted, "ListCommandInvocations");
            if let Err(err) = result {
                return Err(match errors::classify(err, "ListCommandInvocations") {
                    errors::Failure::NotFound => FetchError::Fatal(Error::NotFound(
                        "command not found: check the command ID and the region".into(),
                    )),
                    errors::Failure::Fetch(f) => f,
                });
            }
            let page: listing::Page = body
                .take()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or_else(|| {
                    FetchError::Transient("ListCommandInvocations: unreadable response".into())
                })?;
            all.extend(page.command_invocations);
            if let Some(max) = query.max_items
                && all.len() >= max
            {
                all.truncate(max);
                return Ok(all);
            }
            match page.next_token.filter(|t| !t.is_empty()) {
                Some(t) => next_token = Some(t),
                None => return Ok(all),
            }
        }
    }
}

/// Where a command's output goes in CloudWatch Logs, as ListCommands tells it.
#[derive(Debug, Clone)]
pub struct CommandLogs {
    /// None: CloudWatch output was not enabled when the command was sent.
    pub group: Option<String>,
}

impl AwsProvider {
    /// The command's CloudWatch Logs group: the one it was sent with, or the agent's default
    /// `/aws/ssm/<document name>`. Ok(None): no such command (yet).
    pub async fn command_logs(&self, command_id: &str) -> Result<Option<CommandLogs>, FetchError> {
        let output = self
            .client
            .list_commands()
            .command_id(command_id)
            .send()
            .await
            .map_err(|err| match errors::classify(err, "ListCommands") {
                errors::Failure::NotFound => FetchError::Transient("command not listed yet".into()),
                errors::Failure::Fetch(f) => f,
            })?;
        Ok(output.commands().first().map(|c| {
            let config = c.cloud_watch_output_config();
            let enabled = config.is_some_and(|c| c.cloud_watch_output_enabled());
            let group = config
                .and_then(|c| c.cloud_watch_log_group_name())
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .or_else(|| {
                    c.document_name()
                        .and_then(output_sources::default_log_group)
                });
            CommandLogs {
                group: group.filter(|_| enabled),
            }
        }))
    }
}

/// One command's fleet, seen through ListCommands (the counts) and ListCommandInvocations.
pub struct AwsFleet<'a> {
    pub provider: &'a AwsProvider,
    pub command_id: String,
}

const TERMINAL_COMMAND_STATUS: [&str; 4] = ["Success", "Failed", "Cancelled", "TimedOut"];

impl crate::fleet::FleetSource for AwsFleet<'_> {
    async fn summary(&self) -> Result<Option<crate::fleet::CommandSummary>, FetchError> {
        let started = std::time::Instant::now();
        let result = self
            .provider
            .client
            .list_commands()
            .command_id(&self.command_id)
            .send()
            .await;
        tracing::debug!(elapsed = ?started.elapsed(), ok = result.is_ok(), "ListCommands");
        let output = match result {
            Ok(o) => o,
            // A well-formed ID the service does not know (yet): IDs are checked locally.
            Err(err)
                if err.as_service_error().and_then(|e| e.code()) == Some("InvalidCommandId") =>
            {
                return Ok(None);
            }
            Err(err) => {
                return match errors::classify(err, "ListCommands") {
                    errors::Failure::NotFound => Ok(None),
                    errors::Failure::Fetch(f) => Err(f),
                };
            }
        };
        Ok(output.commands().first().map(|c| {
            let status = c
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            crate::fleet::CommandSummary {
                terminal: TERMINAL_COMMAND_STATUS.contains(&status.as_str()),
                status,
                target_count: u64::try_from(c.target_count()).unwrap_or(0),
                completed_count: u64::try_from(c.completed_count()).unwrap_or(0),
            }
        }))
    }

    async fn list(&self) -> Result<Vec<crate::model::ListEntry>, FetchError> {
        let query = ListQuery {
            command_id: self.command_id.clone(),
            instance_id: None,
            details: false,
            max_items: None,
        };
        let listed = self.provider.list_invocations(&query).await?;
        // A wait only needs who and what state; tens of thousands of full records would
        // dominate its memory (results are fetched separately, tables list again at the end).
        Ok(listed
            .into_iter()
            .map(|i| {
                listing::ListedInvocation {
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
