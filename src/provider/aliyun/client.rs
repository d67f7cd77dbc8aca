//! One RPC call to ECS: signed (sign.rs), sent, its answer read, and retried with backoff while
//! the failure is worth retrying (throttling, 5xx, a dropped connection or an unreadable
//! answer). The service's messages may quote the request: what is said of a failure never holds
//! a secret.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use super::{AliyunProvider, sign};
use crate::error::Error;
use crate::provider::contract::FetchError;
use crate::provider::foreign;

const API_VERSION: &str = "2014-05-26";
/// How messages name the service when an answer is not its own.
const SERVICE: &str = "Alibaba Cloud";
/// Attempts per call, the first included: with the backoff below, about three seconds of
/// throttling or errors are ridden out before the call counts as failed.
const ATTEMPTS: usize = 5;

/// Why one HTTP exchange failed.
#[derive(Debug)]
enum CallError {
    /// The service answered with an error document (or an HTTP error without one).
    Service {
        http: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// An answer that is not the service's (no error document): a proxy's page, a redirect.
    Foreign(u16, String),
    /// No answer: connection refused or dropped, timeout.
    Transport(String),
    /// A 200 whose body is not the expected document.
    Malformed(String),
    /// A 200 with nothing in it.
    Empty,
}

impl CallError {
    /// What a log line may say of it: the code, not the service's message (which may quote the
    /// request).
    fn kind(&self) -> String {
        match self {
            CallError::Service { http, code, .. } => format!("HTTP {http} {code}"),
            CallError::Foreign(http, _) => format!("HTTP {http}, not the service's answer"),
            CallError::Transport(m) => m.clone(),
            CallError::Malformed(_) => "malformed answer".into(),
            CallError::Empty => "empty answer".into(),
        }
    }

    fn retryable(&self) -> bool {
        match self {
            CallError::Service { http, code, .. } => {
                *http >= 500
                    || ["Throttling", "ServiceUnavailable", "InternalError"]
                        .iter()
                        .any(|p| code.starts_with(p))
            }
            // As on the AWS side: throttling and server errors are worth another attempt.
            CallError::Foreign(http, _) => *http == 429 || *http >= 500,
            CallError::Transport(_) => true,
            // A proxy's page or a body cut short: worth another attempt, as on the AWS side.
            CallError::Malformed(_) | CallError::Empty => true,
        }
    }

    fn into_fetch_error(self, action: &str, secrets: &[&str]) -> FetchError {
        let retryable = self.retryable();
        let message = match self {
            CallError::Service {
                http,
                code,
                message,
                request_id,
            } => {
                let message = redact(&message, secrets);
                let code = if code.is_empty() {
                    format!("HTTP {http}")
                } else {
                    code
                };
                let mut m = format!("{action}: {code}: {message}");
                if let Some(id) = request_id {
                    m.push_str(&format!(" (RequestId {id})"));
                }
                m
            }
            // A page from elsewhere may quote the request, and so its signed query.
            CallError::Foreign(_, m) => format!("{action}: {}", redact(&m, secrets)),
            CallError::Transport(m) => format!("{action}: {m}"),
            CallError::Malformed(m) => {
                format!("{action}: unexpected answer: {}", redact(&m, secrets))
            }
            CallError::Empty => format!("{action}: the service sent an empty answer"),
        };
        if retryable {
            FetchError::Transient(format!("{message} (after retries)"))
        } else {
            FetchError::Fatal(Error::Api(message))
        }
    }
}

/// The service's message without what it quotes of the request: on SignatureDoesNotMatch it
/// appends its own string to sign, which holds any SecurityToken (encoded twice). The rest is
/// cut, and any secret still present is masked, in any of its encodings.
fn redact(message: &str, secrets: &[&str]) -> String {
    let lower = message.to_ascii_lowercase();
    let mut kept = match lower.find("string to sign") {
        Some(at) => message[..at]
            .trim_end_matches(|c: char| c.is_whitespace() || c == ':')
            .trim_end_matches("server")
            .trim_end()
            .to_owned(),
        None => message.to_owned(),
    };
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        let once = sign::encode(secret);
        let twice = sign::encode(&once);
        for form in [secret.to_string(), once, twice] {
            kept = kept.replace(&form, "<redacted>");
        }
    }
    kept
}

/// The error document of the RPC APIs.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    request_id: Option<String>,
}

pub(super) fn endpoint_for(region: &str, explicit: Option<&str>) -> Result<url::Url, Error> {
    let text = match explicit {
        Some(e) => e.to_owned(),
        None => format!("https://ecs.{region}.aliyuncs.com/"),
    };
    let url = url::Url::parse(&text)
        .map_err(|e| Error::Usage(format!("--endpoint-url: not a valid URL: {e}")))?;
    // The query string carries the key ID, the signature and any STS token: plain http is for
    // a local test endpoint only.
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if url.scheme() == "http" && !loopback {
        return Err(Error::Usage(
            "--endpoint-url: plain http is only allowed for a loopback address (127.0.0.1, \
             ::1, localhost); use https"
                .into(),
        ));
    }
    Ok(url)
}

impl AliyunProvider {
    fn secrets(&self) -> Vec<&str> {
        let mut secrets = vec![self.credentials.access_key_secret.as_str()];
        secrets.extend(self.credentials.security_token.as_deref());
        secrets
    }

    /// One call, retried with backoff while the failure is worth retrying. Each attempt is
    /// signed afresh: the service refuses a nonce it has seen.
    pub(super) async fn call<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        params: &[(String, String)],
    ) -> Result<T, FetchError> {
        self.call_noting_retries(action, params).await.0
    }

    /// `call`, and whether an attempt was retried (so an earlier one may have reached the
    /// service, which matters to a call that changes remote state).
    pub(super) async fn call_noting_retries<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        params: &[(String, String)],
    ) -> (Result<T, FetchError>, bool) {
        let retried = std::cell::Cell::new(false);
        let attempt = || self.send(action, params);
        let result = attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(2))
                    .with_max_times(ATTEMPTS - 1)
                    .with_jitter(),
            )
            .when(CallError::retryable)
            .notify(|e, pause| {
                retried.set(true);
                tracing::debug!(error = ?e.kind(), ?pause, "retrying {action}")
            })
            .await
            .map_err(|e| e.into_fetch_error(action, &self.secrets()));
        (result, retried.get())
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        params: &[(String, String)],
    ) -> Result<T, CallError> {
        let mut all: Vec<(String, String)> = vec![
            ("Action".into(), action.into()),
            ("Version".into(), API_VERSION.into()),
            ("Format".into(), "JSON".into()),
            ("RegionId".into(), self.region.clone()),
            ("AccessKeyId".into(), self.credentials.access_key_id.clone()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            (
                "SignatureNonce".into(),
                format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            ),
            (
                "Timestamp".into(),
                jiff::Timestamp::now()
                    .strftime("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
            ),
        ];
        if let Some(token) = &self.credentials.security_token {
            all.push(("SecurityToken".into(), token.clone()));
        }
        all.extend_from_slice(params);
        let mut url = self.endpoint.clone();
        url.set_query(Some(&sign::signed_query(
            &self.credentials.access_key_secret,
            &all,
        )));
        tracing::debug!(params = ?params, "{action}");
        // reqwest's errors quote the URL, whose query holds the signature and any STS token:
        // never let it out.
        let response = self.http.get(url).send().await.map_err(transport)?;
        let status = response.status();
        let response_location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(transport)?;
        let location = response_location.as_deref();
        if status.is_success() && body.trim_ascii().is_empty() {
            return Err(CallError::Empty);
        }
        if status.is_success() {
            return serde_json::from_slice::<T>(&body).map_err(|e| {
                CallError::Malformed(
                    match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
                        // JSON, not of the expected shape.
                        Ok(_) => e.to_string(),
                        Err(_) => foreign::describe(status.as_u16(), SERVICE, location, &body),
                    },
                )
            });
        }
        let Ok(error) = serde_json::from_slice::<ServiceError>(&body) else {
            let text = foreign::describe(status.as_u16(), SERVICE, location, &body);
            return Err(CallError::Foreign(status.as_u16(), text));
        };
        Err(CallError::Service {
            http: status.as_u16(),
            code: error.code,
            message: error.message,
            request_id: error.request_id,
        })
    }
}

/// The error and its causes ("error sending request: connection refused"), without the URL.
fn transport(e: reqwest::Error) -> CallError {
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        // Some layers repeat their cause's words; say each once.
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    CallError::Transport(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_what_a_later_attempt_may_fix() {
        let service = |http: u16, code: &str| CallError::Service {
            http,
            code: code.into(),
            message: String::new(),
            request_id: None,
        };
        for (http, code) in [
            (400, "Throttling.User"),
            (400, "Throttling"),
            (503, "ServiceUnavailable"),
            (500, "InternalError"),
            (500, "InternalError.Dispatch"),
            (502, ""),
        ] {
            assert!(service(http, code).retryable(), "{http} {code}");
        }
        for (http, code) in [
            (400, "SignatureDoesNotMatch"),
            (404, "InvalidAccessKeyId.NotFound"),
            (400, "InvalidParameter.NextToken"),
            (403, "Operation.Forbidden"),
        ] {
            assert!(!service(http, code).retryable(), "{http} {code}");
        }
        assert!(CallError::Transport("reset".into()).retryable());
    }

    #[test]
    fn the_string_to_sign_and_secrets_are_cut_from_messages() {
        let m = "Specified signature is not matched with our calculation. server string to sign \
                 is:GET&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3Dab%252Bcd";
        assert_eq!(
            redact(m, &["ab+cd"]),
            "Specified signature is not matched with our calculation."
        );
        assert_eq!(
            redact("token ab%2Bcd is bad", &["ab+cd"]),
            "token <redacted> is bad"
        );
        assert_eq!(redact("plain message", &["ab+cd"]), "plain message");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(
            endpoint_for("cn-hangzhou", None)
                .is_ok_and(|u| { u.as_str() == "https://ecs.cn-hangzhou.aliyuncs.com/" })
        );
        assert!(endpoint_for("x", Some("http://127.0.0.1:8080")).is_ok());
        assert!(endpoint_for("x", Some("http://[::1]:8080")).is_ok());
        assert!(endpoint_for("x", Some("http://localhost:8080")).is_ok());
        assert!(endpoint_for("x", Some("http://ecs.example.com")).is_err());
        assert!(endpoint_for("x", Some("https://ecs.example.com")).is_ok());
    }
}
