//! AWS Systems Manager through aws-sdk-ssm: configuration once, one client, error mapping.

mod errors;
mod raw_body;
pub mod record;
mod status;

use std::time::Duration;

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::imds;
use aws_config::imds::region::ImdsRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

use super::{FetchError, Fetched, InvocationKey, Provider};
use crate::error::Error;
use record::CommandInvocation;

#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

pub struct AwsProvider {
    client: aws_sdk_ssm::Client,
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
        })
    }
}

impl Provider for AwsProvider {
    async fn fetch(&self, key: &InvocationKey) -> Result<Fetched, FetchError> {
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
            "GetCommandInvocation"
        );
        match result {
            Ok(output) => {
                let record = body
                    .take()
                    .and_then(|b| CommandInvocation::from_body(&b))
                    .unwrap_or_else(|| CommandInvocation::from(output));
                Ok(Fetched::Found(Box::new(record.into_invocation())))
            }
            Err(err) => errors::classify(err),
        }
    }
}
