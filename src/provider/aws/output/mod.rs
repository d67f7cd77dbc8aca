//! A command's complete output, which SSM keeps in S3 or CloudWatch Logs past the API's cut:
//! where it is (`sources`, `s3_url`), reading it chunk by chunk (`reader`, `logs`), and putting
//! it in place of what the service returned (`complete`).

pub mod complete;
pub mod logs;
pub mod reader;
pub mod s3_url;
pub mod sources;

use std::io;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Why a complete stream could not be read (the caller falls back to the API's content).
#[derive(Debug)]
pub enum ReadError {
    /// Nothing there: no object, no bucket, no log group or stream. The agent writes no object
    /// and no stream for an empty stream, so this is also what "empty" looks like.
    Missing(String),
    /// Not allowed; the message names what was denied.
    Denied(String),
    /// Anything else, after the SDK's retries: network, throttling, a body cut short.
    Failed(String),
    /// The sink failed (a closed pipe, a full disk).
    Output(io::Error),
}

impl ReadError {
    pub fn message(&self) -> String {
        match self {
            ReadError::Missing(m) | ReadError::Denied(m) | ReadError::Failed(m) => m.clone(),
            ReadError::Output(e) => format!("cannot write the output: {e}"),
        }
    }
}

/// A listing that failed for its own reasons (the paginator's).
impl From<crate::provider::contract::FetchError> for ReadError {
    fn from(e: crate::provider::contract::FetchError) -> ReadError {
        ReadError::Failed(crate::error::Error::from(e).to_string())
    }
}

/// Sorts a failed call by what the user can do about it, in a message of one short line: an
/// answer that is not an AWS error (a proxy's HTML page) is named by its status, not dumped.
pub fn read_error_of<E>(what: &str, err: &SdkError<E, HttpResponse>) -> ReadError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let detail = match (err.code(), err.message()) {
        (Some(c), Some(m)) if !m.is_empty() => format!("{c}: {m}"),
        (Some(c), _) => c.to_owned(),
        _ => match err {
            SdkError::ServiceError(_) | SdkError::ResponseError(_) => match status {
                Some(403) => {
                    "access denied (HTTP 403, an answer that is not an AWS error)".to_owned()
                }
                Some(404) => "not found (HTTP 404, an answer that is not an AWS error)".to_owned(),
                Some(s) => format!("HTTP {s}, an answer that is not an AWS error"),
                None => "an unreadable answer".to_owned(),
            },
            SdkError::TimeoutError(_) => "timed out".to_owned(),
            _ => short(&DisplayErrorContext(err).to_string()),
        },
    };
    let text = format!("{what}: {detail}");
    match (err.code().unwrap_or_default(), status) {
        ("NoSuchKey" | "NoSuchBucket" | "NotFound" | "ResourceNotFoundException", _) => {
            ReadError::Missing(text)
        }
        (
            "AccessDenied"
            | "AccessDeniedException"
            | "AllAccessDisabled"
            | "InvalidAccessKeyId"
            | "InvalidObjectState"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch",
            _,
        )
        | ("", Some(403)) => ReadError::Denied(text),
        ("", Some(404)) => ReadError::Missing(text),
        _ => ReadError::Failed(text),
    }
}

/// At most a few hundred characters of an error chain.
fn short(message: &str) -> String {
    const MAX: usize = 300;
    match message.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::primitives::SdkBody;

    fn failure(status: u16, code: Option<&str>) -> SdkError<GetObjectError, HttpResponse> {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code).message("words from the service");
        }
        let response = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(GetObjectError::generic(meta.build()), response)
    }

    #[test]
    fn failures_are_sorted_by_what_the_user_can_do() {
        let what = "s3://b/k";
        for (status, code) in [(404, "NoSuchKey"), (404, "NoSuchBucket")] {
            let e = read_error_of(what, &failure(status, Some(code)));
            assert!(
                matches!(e, ReadError::Missing(ref m) if m == &format!("{what}: {code}: words from the service")),
                "{e:?}"
            );
        }
        for code in ["AccessDenied", "InvalidAccessKeyId", "ExpiredToken"] {
            let e = read_error_of(what, &failure(403, Some(code)));
            assert!(matches!(e, ReadError::Denied(_)), "{code}: {e:?}");
        }
        assert!(matches!(
            read_error_of(what, &failure(500, Some("InternalError"))),
            ReadError::Failed(_)
        ));
    }

    #[test]
    fn an_answer_that_is_not_an_aws_error_is_named_by_its_status() {
        let e = read_error_of("s3://b/k", &failure(403, None));
        assert_eq!(
            e.message(),
            "s3://b/k: access denied (HTTP 403, an answer that is not an AWS error)"
        );
        assert!(matches!(e, ReadError::Denied(_)));
        let e = read_error_of("s3://b/k", &failure(502, None));
        assert_eq!(
            e.message(),
            "s3://b/k: HTTP 502, an answer that is not an AWS error"
        );
    }

    #[test]
    fn long_error_chains_are_shortened() {
        let long = "x".repeat(1_000);
        let s = short(&long);
        assert_eq!(s.chars().count(), 301);
        assert!(s.ends_with('…'));
        assert_eq!(short("brief"), "brief");
    }
}
