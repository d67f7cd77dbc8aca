//! One SSM call: sent with a copy of its response body kept, logged, and its failure sorted into
//! "does not exist", "worth another poll" and "will not get better by asking again". The SDK
//! has already retried what it retries.
//!
//! The body matters because the SDK's typed output cannot tell an absent field from its default
//! (`ResponseCode` is a plain i32, `CloudWatchOutputEnabled` a plain bool), while the aws CLI
//! prints exactly the fields the service sent: the json we print is read from the body.

use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ssm::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_ssm::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ssm::error::{BoxError, ProvideErrorMetadata, SdkError};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::provider::contract::FetchError;
use crate::provider::foreign;

#[derive(Debug, Clone, Default)]
pub struct RawBody(Arc<Mutex<Option<Vec<u8>>>>);

impl RawBody {
    pub(super) fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().ok().and_then(|mut b| b.take())
    }
}

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "ssmres::RawBody"
    }

    // After deserialisation the body of a non-streaming response is in memory; copying it
    // costs little next to the call (at most a few hundred KB: 32,000 characters of output,
    // some of them escaped).
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(bytes), Ok(mut slot)) = (context.response().body().bytes(), self.0.lock()) {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// A call that succeeded: the SDK's typed output and the body it came in.
pub struct Answer<O> {
    pub output: O,
    operation: &'static str,
    body: Option<Vec<u8>>,
}

impl<O> Answer<O> {
    /// The record as the service sent it. An answer that is not the expected document (empty,
    /// or not JSON) is worth another look, not a record made up of defaults.
    pub fn record<T: DeserializeOwned>(&self) -> Result<T, FetchError> {
        let body = self.body.as_deref().unwrap_or_default();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(FetchError::Transient(format!(
                "{}: the service sent an empty answer",
                self.operation
            )));
        }
        serde_json::from_slice(body).map_err(|e| {
            FetchError::Transient(format!("{}: unreadable answer ({e})", self.operation))
        })
    }
}

/// A call the service (or the network) refused.
#[derive(Debug)]
pub struct Refused {
    /// The service's error code, for callers that read some codes their own way.
    pub code: Option<String>,
    pub message: Option<String>,
    /// What the refusal means for a caller that does not.
    pub failure: FetchError,
}

impl Refused {
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

const TRANSIENT_CODES: [&str; 8] = [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServiceUnavailable",
];

/// Sends one request (`send` attaches the body keeper) and logs it, with `detail` (the step
/// asked for, the page size) for -v.
pub async fn call<O, E, F>(
    operation: &'static str,
    detail: &str,
    send: impl FnOnce(RawBody) -> F,
) -> Result<Answer<O>, Refused>
where
    F: Future<Output = Result<O, SdkError<E>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let body = RawBody::default();
    let started = std::time::Instant::now();
    let result = send(body.clone()).await;
    let elapsed = started.elapsed();
    tracing::debug!(?elapsed, ok = result.is_ok(), "{operation} {detail}");
    match result {
        Ok(output) => Ok(Answer {
            output,
            operation,
            body: body.take(),
        }),
        Err(err) => Err(refused(err, operation)),
    }
}

/// Sorts a failed call by error code, so that every operation shares it.
pub fn refused<E>(err: SdkError<E>, operation: &str) -> Refused
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = match &err {
        SdkError::ServiceError(s) => (
            s.err().code().map(str::to_owned),
            s.err().message().map(str::to_owned),
        ),
        _ => (None, None),
    };
    let unknown = code.is_none().then(|| err.raw_response()).flatten();
    let failure = if let Some(cred) = find_source::<CredentialsError>(&err) {
        FetchError::Credentials(Error::Config(credentials_message(cred)))
    } else if let Some(raw) = unknown {
        // No AWS error document: a proxy's page, a redirect, an emulator lacking the call.
        let status = raw.status().as_u16();
        let body = raw.body().bytes().unwrap_or_default();
        let text = foreign::describe(status, "AWS", raw.headers().get("location"), body);
        match status {
            429 | 500.. => {
                FetchError::Transient(format!("{operation} failed after retries: {text}"))
            }
            // A page in place of the document (a proxy's, a captive portal's): another look
            // may find the service, as for any unreadable answer.
            200..=299 => FetchError::Transient(format!("{operation}: unreadable answer ({text})")),
            _ => FetchError::Fatal(Error::Api(format!("{operation} failed: {text}"))),
        }
    } else {
        match &err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let code = code.as_deref().unwrap_or("UnknownError");
                let text = match message.as_deref() {
                    Some(m) if !m.is_empty() => format!("{code}: {m}"),
                    _ => code.to_owned(),
                };
                if code == "InvocationDoesNotExist" {
                    FetchError::Fatal(Error::NotFound(format!("{operation}: {text}")))
                } else if status >= 500
                    || status == 429
                    || code == "InternalServerError"
                    || TRANSIENT_CODES.contains(&code)
                {
                    FetchError::Transient(format!("{operation} failed after retries: {text}"))
                } else {
                    FetchError::Fatal(Error::Api(format!("{operation} failed: {text}")))
                }
            }
            SdkError::ConstructionFailure(_) => FetchError::Fatal(Error::Api(format!(
                "cannot build the {operation} request: {}",
                error_chain(&err)
            ))),
            // Timeouts, connection failures and malformed responses: worth another poll.
            _ => FetchError::Transient(format!(
                "{operation} failed after retries: {}",
                error_chain(&err)
            )),
        }
    };
    Refused {
        code,
        message,
        failure,
    }
}

fn credentials_message(err: &CredentialsError) -> String {
    let hint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or --profile) \
                naming a profile in ~/.aws/config, or run where an instance or task role is attached";
    match err {
        CredentialsError::CredentialsNotLoaded(_) => format!("no AWS credentials found: {hint}"),
        other => format!(
            "cannot load AWS credentials ({}): {hint}",
            error_chain(other)
        ),
    }
}

/// "outer: inner: innermost" from Display alone; DisplayErrorContext would append a Debug dump
/// of the whole response, which is noise in a one-line message.
pub(super) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

fn find_source<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}
