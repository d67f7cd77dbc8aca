//! SendCommand, never run twice. The SDK's retries are off for this one call (a retry after a
//! timeout, a dropped connection or a 5xx could run a command twice); ssmres retries it itself,
//! and only when the command provably did not run:
//!
//! - the service throttled it (ThrottlingException, HTTP 429, "Rate exceeded"): refused, not run;
//! - the connection was never made (refused, DNS, TLS, a connect timeout): hyper reports a
//!   connect error before a byte of the request is written.
//!
//! Anything else after the request may have reached the service (a timeout once connected, a
//! connection dropped before the answer, a 5xx, an answer that cannot be read) leaves the outcome
//! unknown: the send is looked for by the mark in its Comment (`lookup`), and never resent.

mod lookup;
pub mod record;
pub mod request;

use std::collections::HashMap;
use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ssm::config::retry::RetryConfig;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::operation::send_command::SendCommandError;
use aws_sdk_ssm::types::{CloudWatchOutputConfig, Target};

use super::AwsProvider;
use super::call::{RawBody, error_chain, refused};
use crate::error::Error;
use crate::provider::contract::Subject;
use crate::provider::send::{Recipients, RunRequest, Sent, recipients_in_words};
use record::SendCommandAnswer;
use request::SendCommandRequest;

const OP: &str = "SendCommand";

/// Attempts of a send that provably did not run, the first included, and the pause before the
/// second (doubling, ±25 % jitter): pauses of about 0.5, 1 and 2 s, 3.5 s in all.
const ATTEMPTS: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(500);

/// Error codes that mean "throttled": the request was refused, nothing ran.
const THROTTLED: [&str; 5] = [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// How one attempt failed.
#[derive(Debug)]
enum Failure {
    /// It did not run, and another attempt may get through: throttled, or never connected.
    NotRun { throttled: bool, why: String },
    /// It did not run, and asking again will not help: a bad request, access denied, no
    /// credentials.
    Refused(Error),
    /// It may have run.
    Unknown(String),
}

impl AwsProvider {
    /// Sends the command; a send whose outcome is unknown is looked for by its mark, never
    /// repeated.
    pub async fn send_command(&self, run: &RunRequest) -> Result<Sent, Error> {
        let request = request::build(run);
        // -v: what finds this send again should the run be stopped before its answer.
        tracing::debug!(mark = %run.mark, "{OP}: the Comment ends with this mark");
        // Before the first attempt, for the look-up: ListCommands' InvokedAfter filter.
        let started = jiff::Timestamp::now();
        let mut pause = FIRST_PAUSE;
        let mut rng = fastrand::Rng::new();
        for attempt in 1..=ATTEMPTS {
            let failure = match self.send_once(&request).await {
                Ok(answer) => return Ok(sent(run, answer, None)),
                Err(failure) => failure,
            };
            tracing::debug!(attempt, ?failure, "{OP} failed");
            match failure {
                Failure::NotRun { .. } if attempt < ATTEMPTS => {
                    let jitter = 0.75 + rng.f64() * 0.5;
                    tokio::time::sleep(pause.mul_f64(jitter)).await;
                    pause *= 2;
                }
                Failure::NotRun {
                    throttled: true,
                    why,
                } => {
                    return Err(Error::Api(format!(
                        "{OP} was throttled {ATTEMPTS} times in a row ({why}); nothing was sent: \
                         try again later"
                    )));
                }
                Failure::NotRun { why, .. } => {
                    return Err(Error::Api(format!(
                        "{OP} could not reach the service in {ATTEMPTS} attempts ({why}); \
                         nothing was sent"
                    )));
                }
                Failure::Refused(e) => return Err(e),
                Failure::Unknown(why) => {
                    return match self.find_sent(&run.mark, started).await {
                        Ok(answer) => Ok(sent(run, answer, Some(why))),
                        Err(lookup) => {
                            Err(Error::Api(unknown_outcome(&why, run, started, &lookup)))
                        }
                    };
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    async fn send_once(&self, request: &SendCommandRequest) -> Result<SendCommandAnswer, Failure> {
        let body = RawBody::default();
        let parameters: Option<HashMap<String, Vec<String>>> = request
            .parameters
            .as_ref()
            .map(|p| p.0.iter().cloned().collect());
        let targets = request.targets.as_ref().map(|targets| {
            targets
                .iter()
                .map(|t| {
                    Target::builder()
                        .set_key(t.key.clone())
                        .set_values(t.values.clone())
                        .build()
                })
                .collect()
        });
        let cloudwatch = request.cloud_watch_output_config.as_ref().map(|c| {
            CloudWatchOutputConfig::builder()
                .set_cloud_watch_log_group_name(c.cloud_watch_log_group_name.clone())
                .set_cloud_watch_output_enabled(c.cloud_watch_output_enabled)
                .build()
        });
        let started = std::time::Instant::now();
        let result = self
            .client
            .send_command()
            .set_instance_ids(request.instance_ids.clone())
            .set_targets(targets)
            .document_name(&request.document_name)
            .set_document_version(request.document_version.clone())
            .set_timeout_seconds(request.timeout_seconds.and_then(|s| i32::try_from(s).ok()))
            .set_comment(request.comment.clone())
            .set_parameters(parameters)
            .set_output_s3_bucket_name(request.output_s3_bucket_name.clone())
            .set_output_s3_key_prefix(request.output_s3_key_prefix.clone())
            .set_max_concurrency(request.max_concurrency.clone())
            .set_max_errors(request.max_errors.clone())
            .set_cloud_watch_output_config(cloudwatch)
            .customize()
            // This call alone: the SDK's retries would resend after an unknown outcome.
            .config_override(
                aws_sdk_ssm::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .interceptor(body.clone())
            .send()
            .await;
        let elapsed = started.elapsed();
        tracing::debug!(?elapsed, ok = result.is_ok(), "{OP}");
        match result {
            Ok(_) => read_answer(body.take().as_deref()),
            Err(err) => Err(classify(err)),
        }
    }
}

/// The accepted answer, read from the body as the service sent it. An answer without a command
/// ID came from something that accepted the request: it may have run.
fn read_answer(body: Option<&[u8]>) -> Result<SendCommandAnswer, Failure> {
    let answer: SendCommandAnswer = serde_json::from_slice(body.unwrap_or_default())
        .map_err(|e| Failure::Unknown(format!("an answer that cannot be read ({e})")))?;
    let id = answer
        .command
        .as_ref()
        .and_then(|c| c.command_id.as_deref());
    match id {
        Some(id) if id.chars().count() == 36 => Ok(answer),
        _ => Err(Failure::Unknown("an answer without a command ID".into())),
    }
}

/// Sorts a failed attempt: did the command provably not run?
fn classify(err: SdkError<SendCommandError>) -> Failure {
    // Credentials are resolved before the request is signed, let alone sent (the SDK reports
    // their failure as a dispatch failure all the same).
    if in_chain::<CredentialsError>(&err) {
        return Failure::Refused(refused(err, OP).failure.into());
    }
    match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or_default().to_owned();
            let message = service.err().message().unwrap_or_default().to_owned();
            let text = match (code.as_str(), message.as_str()) {
                ("", "") => format!("HTTP {status}"),
                ("", m) => format!("HTTP {status}: {m}"),
                (c, "") => c.to_owned(),
                (c, m) => format!("{c}: {m}"),
            };
            if THROTTLED.contains(&code.as_str())
                || status == 429
                || message.contains("Rate exceeded")
            {
                Failure::NotRun {
                    throttled: true,
                    why: text,
                }
            } else if status >= 500 {
                Failure::Unknown(format!("{OP} answered {text}"))
            } else if code.is_empty() {
                // No AWS error document: a proxy's or a portal's page; SSM did not take it.
                Failure::Refused(refused(err, OP).failure.into())
            } else {
                Failure::Refused(Error::Api(format!(
                    "{OP} refused: {text}; nothing was sent"
                )))
            }
        }
        SdkError::DispatchFailure(_) if never_connected(&err) => Failure::NotRun {
            throttled: false,
            why: error_chain(&err),
        },
        // Credentials, a request that cannot be built: nothing left the machine.
        SdkError::ConstructionFailure(_) => Failure::Refused(refused(err, OP).failure.into()),
        // Once connected, a timeout or a dropped connection says nothing about what the
        // service did; nor does an answer that cannot be read.
        _ => Failure::Unknown(format!("{OP}: {}", error_chain(&err))),
    }
}

/// The errors of `err`'s chain that are `T`s.
fn of_type<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a T> {
    std::iter::successors(Some(err), |e| e.source()).filter_map(|e| e.downcast_ref::<T>())
}

fn in_chain<T: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    of_type::<T>(err).next().is_some()
}

/// Whether the connection was never made: hyper's client reports a connect error (refused,
/// DNS, TLS handshake, connect timeout) before writing any of the request.
fn never_connected(err: &(dyn std::error::Error + 'static)) -> bool {
    of_type::<hyper_util::client::legacy::Error>(err)
        .any(hyper_util::client::legacy::Error::is_connect)
}

/// What a send gave: the subject to wait on (the instances named, if any), the answer to print.
fn sent(run: &RunRequest, answer: SendCommandAnswer, found_after: Option<String>) -> Sent {
    let command = answer.command.as_ref();
    let run_id = command
        .and_then(|c| c.command_id.clone())
        .unwrap_or_default();
    let instances = match &run.recipients {
        Recipients::Instances(ids) => ids.clone(),
        Recipients::Targets(_) => Vec::new(),
    };
    Sent {
        subject: Subject {
            run_id,
            instances,
            ..Subject::default()
        },
        response: Box::new(answer),
        found_after,
        to: recipients_in_words(&run.recipients),
    }
}

/// Exit 3's line when the send was not found by its mark: what happened, and how to check.
fn unknown_outcome(why: &str, run: &RunRequest, started: jiff::Timestamp, lookup: &str) -> String {
    format!(
        "the send's outcome is unknown ({why}) and no command carrying its mark {mark} was \
         listed within {window}s{lookup}; it may still have run: {check}",
        mark = run.mark,
        window = lookup::WINDOW.as_secs(),
        lookup = if lookup.is_empty() {
            String::new()
        } else {
            format!(" ({lookup})")
        },
        check = how_to_check(&run.mark, started),
    )
}

/// How a user finds a send whose answer never came: the listing since just before it, and its
/// mark.
pub fn how_to_check(mark: &str, started: jiff::Timestamp) -> String {
    format!(
        "check with `aws ssm list-commands --filters key=InvokedAfter,value={since}` (its \
         Comment ends with {mark}) before sending again",
        since = lookup::invoked_after(started),
    )
}
