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
pub mod send;
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

/// A wait polls for hours, often under throttling, and paces its own polls (backing off while
/// they fail). So each poll keeps its retries: the SDK's retry quota (a token bucket shared by
/// every call of the process, never refilled by time) would run dry after about fifty throttled
/// polls, and polls would then fail at the first throttle. And adaptive mode's client-side
/// rate limiter, built for clients that send many requests a second, judges a poller's rate to
/// be near zero and would hold each throttled poll back for up to 20 s: polls retry as in
/// standard mode, with the user's attempts and backoff (AWS_MAX_ATTEMPTS, the profile's).
fn poll_retries(
    ssm: aws_sdk_ssm::config::Builder,
    sdk_config: &aws_config::SdkConfig,
) -> aws_sdk_ssm::config::Builder {
    let (partition, retries) = polling_retries("ssmres-polls", sdk_config);
    ssm.retry_partition(partition).retry_config(retries)
}

/// The retry settings of a client that polls for as long as a wait lasts (SSM, and CloudWatch
/// Logs for `--follow`): a quota of its own without limit, and standard mode.
pub(crate) fn polling_retries(
    name: &'static str,
    sdk_config: &aws_config::SdkConfig,
) -> (
    aws_sdk_ssm::config::retry::RetryPartition,
    aws_sdk_ssm::config::retry::RetryConfig,
) {
    use aws_sdk_ssm::config::retry::{RetryConfig, RetryMode, RetryPartition, TokenBucket};
    let quota = TokenBucket::unlimited();
    let partition = RetryPartition::custom(name).token_bucket(quota);
    let mut retries = sdk_config
        .retry_config()
        .cloned()
        .unwrap_or_else(RetryConfig::standard);
    if retries.mode() == RetryMode::Adaptive {
        retries = RetryConfig::standard()
            .with_max_attempts(retries.max_attempts())
            .with_initial_backoff(retries.initial_backoff())
            .with_max_backoff(retries.max_backoff());
    }
    (partition.build(), retries)
}

/// The URL as a log line may show it: a `user:password@` part is a secret.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            format!("{u} (credentials in the URL not shown)")
        }
        _ => url.to_owned(),
    }
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

/// A profile named (--profile, AWS_PROFILE) that no config file holds is a typo: say so, as the
/// aws CLI does, before any call. "default" may be missing, as in the aws CLI. As on the
/// Alibaba side, AWS_PROFILE only counts when it would be used: keys in the environment come
/// first, so a leftover AWS_PROFILE beside them is left alone, as it always was. A config file
/// that cannot be read is left to the SDK, which reports it as before.
async fn check_profile(named: Option<&str>) -> Result<(), Error> {
    // The types `profile::load` takes; public, though the SDK calls them internal.
    use aws_types::os_shim_internal::{Env, Fs};
    let env = Env::real();
    let set = |name: &str| env.get(name).ok().filter(|v| !v.is_empty());
    let keys_from_env =
        set("AWS_ACCESS_KEY_ID").is_some() && set("AWS_SECRET_ACCESS_KEY").is_some();
    let from_env = set("AWS_PROFILE").filter(|_| !keys_from_env);
    let Some(name) = named.map(str::to_owned).or(from_env) else {
        return Ok(());
    };
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let fs = Fs::real();
    let loaded = aws_config::profile::load(&fs, &env, &files, Some(name.clone().into()));
    let profiles = match loaded.await {
        Ok(profiles) => profiles,
        Err(e) => {
            tracing::debug!(error = %e, "the AWS config files could not be read");
            return Ok(());
        }
    };
    match profiles.get_profile(&name) {
        None if name != "default" => Err(Error::Config(format!(
            "the config profile ({}) could not be found in the AWS config files \
             (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE and \
             AWS_SHARED_CREDENTIALS_FILE)",
            crate::echo::shown(&name, 60)
        ))),
        _ => Ok(()),
    }
}

impl AwsProvider {
    pub async fn connect(opts: &Options) -> Result<Self, Error> {
        check_profile(opts.profile.as_deref()).await?;
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
            endpoint = opts.endpoint_url.as_deref().map_or("(from the AWS configuration)".into(), without_password),
            "AWS configuration"
        );
        let mut credentials = DefaultCredentialsChain::builder()
            .region(region.clone())
            .imds_client(imds);
        // Every client of the run (SSM, S3, CloudWatch Logs) takes these from the configuration
        // (S3 without the cap on an attempt: see OutputReader).
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(opts.timeouts.connect)
            .read_timeout(opts.timeouts.read)
            .operation_attempt_timeout(opts.timeouts.attempt())
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region)
            .timeout_config(timeouts);
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

        let mut ssm = poll_retries(aws_sdk_ssm::config::Builder::from(&sdk_config), &sdk_config);
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

#[cfg(test)]
#[path = "retries_tests.rs"]
mod retries_tests;
