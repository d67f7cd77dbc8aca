//! AWS Systems Manager through aws-sdk-ssm: configuration loaded once, one client. The calls
//! live beside it: one invocation and its steps (`invocation`), listings (`listing`), a whole
//! command (`fleet`), and the AWS-only features: complete output (`output`), following it live
//! (`follow`) and maintenance windows (`maintenance`).

mod call;
pub mod fleet;
pub mod follow;
pub mod invocation;
pub mod listing;
pub mod maintenance;
pub mod output;
pub mod record;
mod status;
pub mod timestamp;

use std::time::Duration;

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::imds;
use aws_config::imds::region::ImdsRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

use crate::error::Error;
use crate::provider::contract::Options;

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
    pub async fn connect(opts: &Options) -> Result<Self, Error> {
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
    pub fn output_reader(&self) -> output::reader::OutputReader {
        output::reader::OutputReader::new(&self.sdk_config)
    }
}
