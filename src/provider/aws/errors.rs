//! What a failed call means for the caller: the SDK has already retried what it retries, so
//! this decides between "not visible yet", "try again at the next poll" and "give up".

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};

use crate::error::Error;
use crate::provider::FetchError;

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

/// What a failed call means.
#[derive(Debug)]
pub enum Failure {
    /// InvocationDoesNotExist: for a command just sent, "not visible yet".
    NotFound,
    Fetch(FetchError),
}

/// Sorts a failed call into "does not exist", "worth another poll" and "will not get better
/// by asking again". Works from error codes, so every operation shares it.
pub fn classify<E>(err: SdkError<E>, operation: &str) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(cred) = find_source::<CredentialsError>(&err) {
        return Failure::Fetch(FetchError::Credentials(Error::Config(credentials_message(
            cred,
        ))));
    }
    let failure = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status().as_u16();
            let code = e.code().unwrap_or("UnknownError");
            let message = e.message().unwrap_or_default();
            let text = if message.is_empty() {
                code.to_owned()
            } else {
                format!("{code}: {message}")
            };
            if code == "InvocationDoesNotExist" {
                return Failure::NotFound;
            }
            if status >= 500
                || status == 429
                || code == "InternalServerError"
                || TRANSIENT_CODES.contains(&code)
            {
                FetchError::Transient(text)
            } else {
                FetchError::Fatal(Error::Api(format!("{operation} failed: {text}")))
            }
        }
        SdkError::ConstructionFailure(_) => FetchError::Fatal(Error::Api(format!(
            "cannot build the {operation} request: {}",
            error_chain(&err)
        ))),
        // Timeouts, connection failures and malformed responses: worth another poll.
        _ => FetchError::Transient(error_chain(&err)),
    };
    Failure::Fetch(failure)
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
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
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
