//! Alibaba Cloud ECS Cloud Assistant: DescribeInvocationResults, signed (sign.rs) with keys
//! from the environment or the aliyun CLI's profiles (credentials.rs), every page read,
//! throttling and server errors retried with backoff.

pub mod credentials;
pub mod record;
pub mod sign;

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use crate::error::Error;
use crate::model::ResultSet;
use crate::provider::FetchError;
use credentials::Credentials;
use record::Response;

const API_VERSION: &str = "2014-05-26";
const DESCRIBE: &str = "DescribeInvocationResults";
const STOP: &str = "StopInvocation";
/// The API's largest page.
pub const PAGE_SIZE: usize = 50;
/// Attempts per call, the first included: with the backoff below, about three seconds of
/// throttling or errors are ridden out before the call counts as failed.
const ATTEMPTS: usize = 5;

/// What the global flags say about reaching Alibaba Cloud.
#[derive(Debug, Clone, Default)]
pub struct AliyunOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Which results to ask for: the API's own filters.
#[derive(Debug, Clone, Default)]
pub struct ResultsQuery {
    pub invoke_id: Option<String>,
    pub instance_id: Option<String>,
    pub command_id: Option<String>,
    pub record_status: Option<String>,
    pub include_history: bool,
    pub tags: Vec<(String, String)>,
    pub resource_group_id: Option<String>,
    /// Stop after this many results.
    pub max_items: Option<usize>,
}

impl ResultsQuery {
    fn params(&self) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = Vec::new();
        let mut add = |k: &str, v: &str| p.push((k.to_owned(), v.to_owned()));
        add("ContentEncoding", "Base64");
        for (key, value) in [
            ("InvokeId", &self.invoke_id),
            ("InstanceId", &self.instance_id),
            ("CommandId", &self.command_id),
            ("InvokeRecordStatus", &self.record_status),
            ("ResourceGroupId", &self.resource_group_id),
        ] {
            if let Some(v) = value {
                add(key, v);
            }
        }
        if self.include_history {
            add("IncludeHistory", "true");
        }
        for (i, (k, v)) in self.tags.iter().enumerate() {
            add(&format!("Tag.{}.Key", i + 1), k);
            add(&format!("Tag.{}.Value", i + 1), v);
        }
        p
    }
}

pub struct AliyunProvider {
    http: reqwest::Client,
    endpoint: url::Url,
    region: String,
    credentials: Credentials,
}

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
    /// No answer: connection refused or dropped, timeout.
    Transport(String),
    /// A 200 whose body is not the expected document.
    Malformed(String),
}

impl CallError {
    /// What a log line may say of it: the code, not the service's message (which may quote the
    /// request).
    fn kind(&self) -> String {
        match self {
            CallError::Service { http, code, .. } => format!("HTTP {http} {code}"),
            CallError::Transport(m) => m.clone(),
            CallError::Malformed(_) => "malformed answer".into(),
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
            CallError::Transport(_) => true,
            CallError::Malformed(_) => false,
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
            CallError::Transport(m) => format!("{action}: {m}"),
            CallError::Malformed(m) => format!("{action}: unexpected answer: {m}"),
        };
        if retryable {
            FetchError::Transient(message)
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

fn endpoint_for(region: &str, explicit: Option<&str>) -> Result<url::Url, Error> {
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

    /// Resolves credentials, region and endpoint; no network call.
    pub fn connect(options: &AliyunOptions) -> Result<AliyunProvider, Error> {
        let env = credentials::Env::from_process();
        let resolved = credentials::resolve(options.profile.as_deref(), &env)?;
        let region = options
            .region
            .clone()
            .or_else(|| env.var(credentials::ENV_REGION))
            .or(resolved.profile_region)
            .ok_or_else(|| {
                Error::Config(format!(
                    "no Alibaba Cloud region: give --region (e.g. cn-hangzhou) or set {}",
                    credentials::ENV_REGION
                ))
            })?;
        // --region is checked by clap; the environment and the profile are checked here, since
        // the region becomes part of the endpoint's host name.
        if !crate::cli::is_region(&region) {
            return Err(Error::Usage(format!(
                "region {region:?} (from {} or the profile) is not a region name such as \
                 cn-hangzhou",
                credentials::ENV_REGION
            )));
        }
        let endpoint = endpoint_for(&region, options.endpoint_url.as_deref())?;
        // No proxy from the environment, as on the AWS side: a proxy would see the signed query
        // string, and a loopback test endpoint must not be sent through one.
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("ssmres/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot set up HTTPS: {e}")))?;
        Ok(AliyunProvider {
            http,
            endpoint,
            region,
            credentials: resolved.credentials,
        })
    }

    /// Every result the query matches, all pages (or up to `max_items`).
    pub async fn results(&self, query: &ResultsQuery) -> Result<ResultSet, FetchError> {
        let mut set = ResultSet::default();
        let mut next_token: Option<String> = None;
        let mut tokens_seen = std::collections::HashSet::new();
        loop {
            let wanted = query
                .max_items
                .map_or(PAGE_SIZE, |m| m.saturating_sub(set.results.len()))
                .min(PAGE_SIZE);
            if wanted == 0 {
                break;
            }
            let mut params = query.params();
            params.push(("MaxResults".into(), wanted.to_string()));
            if let Some(token) = &next_token {
                params.push(("NextToken".into(), token.clone()));
            }
            let page = self
                .call::<Response>(DESCRIBE, &params)
                .await?
                .invocation
                .unwrap_or_default();
            set.total_count = page.total_count.or(set.total_count);
            let results = page
                .invocation_results
                .map(|r| r.invocation_result)
                .unwrap_or_default();
            let empty = results.is_empty();
            set.results.extend(results.into_iter().map(|mut r| {
                r.decode_output();
                r.into_invocation()
            }));
            next_token = page.next_token.filter(|t| !t.is_empty());
            // An empty page with a token, or a token seen before, would loop for ever on a
            // confused service.
            match &next_token {
                None => break,
                Some(_) if empty => break,
                Some(t) if !tokens_seen.insert(t.clone()) => {
                    return Err(CallError::Malformed("the same NextToken twice".into())
                        .into_fetch_error(DESCRIBE, &[]));
                }
                Some(_) => {}
            }
        }
        if let Some(max) = query.max_items {
            set.results.truncate(max);
        }
        Ok(set)
    }

    /// StopInvocation: stops the invocation on the named instances, or everywhere.
    pub async fn stop_invocation(
        &self,
        invoke_id: &str,
        instance_ids: &[String],
    ) -> Result<(), FetchError> {
        let mut params = vec![("InvokeId".to_owned(), invoke_id.to_owned())];
        for (i, id) in instance_ids.iter().enumerate() {
            params.push((format!("InstanceId.{}", i + 1), id.clone()));
        }
        self.call::<serde_json::Value>(STOP, &params)
            .await
            .map(|_| ())
    }

    /// One call, retried with backoff while the failure is worth retrying. Each attempt is
    /// signed afresh: the service refuses a nonce it has seen.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        params: &[(String, String)],
    ) -> Result<T, FetchError> {
        let attempt = || self.send(action, params);
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(2))
                    .with_max_times(ATTEMPTS - 1)
                    .with_jitter(),
            )
            .when(CallError::retryable)
            .notify(|e, pause| tracing::debug!(error = ?e.kind(), ?pause, "retrying {action}"))
            .await
            .map_err(|e| e.into_fetch_error(action, &self.secrets()))
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
        let body = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return serde_json::from_slice::<T>(&body)
                .map_err(|e| CallError::Malformed(e.to_string()));
        }
        let error = serde_json::from_slice::<ServiceError>(&body).unwrap_or(ServiceError {
            code: String::new(),
            message: status
                .canonical_reason()
                .unwrap_or("no error document")
                .to_owned(),
            request_id: None,
        });
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

    #[test]
    fn filters_go_on_the_wire_with_the_api_names() {
        let q = ResultsQuery {
            invoke_id: Some("t-1".into()),
            record_status: Some("Running".into()),
            include_history: true,
            tags: vec![
                ("env".into(), "prod".into()),
                ("team".into(), String::new()),
            ],
            ..Default::default()
        };
        let p = q.params();
        let has = |k: &str, v: &str| p.iter().any(|(a, b)| a == k && b == v);
        assert!(has("ContentEncoding", "Base64"));
        assert!(has("InvokeId", "t-1") && has("InvokeRecordStatus", "Running"));
        assert!(has("IncludeHistory", "true"));
        assert!(has("Tag.1.Key", "env") && has("Tag.1.Value", "prod"));
        assert!(has("Tag.2.Key", "team") && has("Tag.2.Value", ""));
        assert!(!p.iter().any(|(k, _)| k == "InstanceId"));
    }
}
