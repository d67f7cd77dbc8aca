//! The S3 and CloudWatch Logs clients: the only code that uses aws-sdk-s3 and
//! aws-sdk-cloudwatchlogs, built with the `full-output` feature (the default). Without it
//! lean.rs stands in with the same names, and the CLI refuses `--full-output` and `--follow`
//! before any call.

use aws_config::{Region, SdkConfig};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_types::service_config::ServiceConfigKey;

use super::ReadError;
use super::logs::{EventPage, LogSource, StreamRef};
use super::reader::Sink;
use super::s3_url::S3Location;
use crate::provider::paging::read_all;

/// Reads objects from S3, with the SSM client's configuration.
pub struct S3Reader {
    config: SdkConfig,
    /// With an S3 endpoint of one's own (moto, a proxy on localhost) the bucket cannot be a
    /// host name: address buckets in the path there, as the URLs SSM returns do anyway.
    path_style: bool,
}

impl S3Reader {
    pub fn new(config: &SdkConfig) -> Self {
        let s3_key = ServiceConfigKey::builder()
            .service_id("S3")
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build();
        let s3_endpoint = s3_key
            .ok()
            .and_then(|key| config.service_config()?.load_config(key))
            .is_some();
        S3Reader {
            config: config.clone(),
            path_style: s3_endpoint || config.endpoint_url().is_some(),
        }
    }

    fn client(&self, region: Option<&str>) -> aws_sdk_s3::Client {
        // No limit on an attempt, which may carry gigabytes: a connection that never comes, an
        // answer that never starts (the configuration's connect and read timeouts), and (the
        // SDK's stalled-stream protection, on by default) a body that stops flowing end it
        // instead.
        let timeouts = self
            .config
            .timeout_config()
            .map(|t| t.to_builder().disable_operation_attempt_timeout().build());
        let mut conf = aws_sdk_s3::config::Builder::from(&self.config);
        if let Some(timeouts) = timeouts {
            conf = conf.timeout_config(timeouts);
        }
        if let Some(region) = region {
            conf = conf.region(Region::new(region.to_owned()));
        }
        if self.path_style {
            conf = conf.force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(conf.build())
    }

    /// Streams the object into `sink`; the number of bytes on success.
    pub async fn read(&self, loc: &S3Location, sink: &mut Sink<'_>) -> Result<u64, ReadError> {
        let started = std::time::Instant::now();
        // The bucket's region as the URL names it, else the configured one; the SDK does not
        // follow S3's redirect to another region, so one retry there does.
        let get = |client: aws_sdk_s3::Client| {
            client.get_object().bucket(&loc.bucket).key(&loc.key).send()
        };
        let object = match get(self.client(loc.region.as_deref())).await {
            Ok(object) => object,
            Err(e) => match bucket_region(&e) {
                Some(region) if loc.region.as_deref() != Some(region.as_str()) => {
                    tracing::debug!(%region, "S3 redirect to the bucket's region");
                    get(self.client(Some(&region)))
                        .await
                        .map_err(|e| read_error_of(&loc.display(), &e))?
                }
                _ => return Err(read_error_of(&loc.display(), &e)),
            },
        };
        let mut body = object.body;
        let mut total = 0u64;
        loop {
            let chunk = body.try_next().await.map_err(|e| {
                ReadError::Failed(format!(
                    "{}: the body broke off after {total} bytes: {}",
                    loc.display(),
                    short(&DisplayErrorContext(&e).to_string())
                ))
            })?;
            let Some(chunk) = chunk else { break };
            sink(&chunk).map_err(ReadError::Output)?;
            total += chunk.len() as u64;
        }
        tracing::debug!(elapsed = ?started.elapsed(), bytes = total, object = %loc.display(), "GetObject");
        Ok(total)
    }
}

/// The region S3 names when the bucket lives elsewhere (a 301 PermanentRedirect, or a 400
/// AuthorizationHeaderMalformed, both with `x-amz-bucket-region`).
fn bucket_region<E>(err: &SdkError<E, HttpResponse>) -> Option<String> {
    let region = err
        .raw_response()?
        .headers()
        .get("x-amz-bucket-region")?
        .trim();
    let plausible = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    plausible.then(|| region.to_owned())
}

pub struct LogGroup {
    client: aws_sdk_cloudwatchlogs::Client,
    group: String,
    /// Names the group (and streams) in messages.
    what: String,
}

impl LogGroup {
    pub fn new(config: &SdkConfig, group: &str, what: String) -> Self {
        // The configuration's timeouts bound each page, and `--follow` polls for as long as
        // a wait lasts: retried as the SSM polls are.
        let (partition, retries) = crate::provider::aws::polling_retries("ssmres-logs", config);
        let client = aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::config::Builder::from(config)
                .retry_partition(partition)
                .retry_config(retries)
                .build(),
        );
        LogGroup {
            client,
            group: group.to_owned(),
            what,
        }
    }
}

impl LogSource for LogGroup {
    async fn streams(&self, prefix: &str) -> Result<Vec<StreamRef>, ReadError> {
        let page = |token, _| async move {
            let page = self
                .client
                .describe_log_streams()
                .log_group_name(&self.group)
                .log_stream_name_prefix(prefix)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| read_error_of(&self.what, &e))?;
            let streams = page.log_streams().iter().filter_map(|s| {
                let name = s.log_stream_name()?.to_owned();
                let created = s.creation_time().unwrap_or(0);
                Some(StreamRef { name, created })
            });
            Ok::<_, ReadError>((streams.collect(), page.next_token().map(str::to_owned)))
        };
        Ok(read_all("DescribeLogStreams", None, page).await?.0)
    }

    async fn page(&self, stream: &str, token: Option<&str>) -> Result<EventPage, ReadError> {
        let page = self
            .client
            .get_log_events()
            .log_group_name(&self.group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| read_error_of(&self.what, &e))?;
        Ok(EventPage {
            messages: page
                .events()
                .iter()
                .map(|e| e.message().unwrap_or_default().to_owned())
                .collect(),
            next_token: page.next_forward_token().map(str::to_owned),
        })
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

    fn failure(
        status: u16,
        code: Option<&str>,
        headers: &[(&'static str, &'static str)],
    ) -> SdkError<GetObjectError, HttpResponse> {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code).message("words from the service");
        }
        let mut response = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        for (name, value) in headers {
            response.headers_mut().insert(*name, *value);
        }
        SdkError::service_error(GetObjectError::generic(meta.build()), response)
    }

    #[test]
    fn a_redirect_names_the_bucket_s_region() {
        let redirect = failure(
            301,
            Some("PermanentRedirect"),
            &[("x-amz-bucket-region", "eu-west-1")],
        );
        assert_eq!(bucket_region(&redirect).as_deref(), Some("eu-west-1"));
        assert_eq!(bucket_region(&failure(301, None, &[])), None);
        let odd = failure(301, None, &[("x-amz-bucket-region", "eu west;1")]);
        assert_eq!(
            bucket_region(&odd),
            None,
            "only a plausible region is followed"
        );
    }

    #[test]
    fn failures_are_sorted_by_what_the_user_can_do() {
        let what = "s3://b/k";
        for (status, code) in [(404, "NoSuchKey"), (404, "NoSuchBucket")] {
            let e = read_error_of(what, &failure(status, Some(code), &[]));
            assert!(
                matches!(e, ReadError::Missing(ref m) if m == &format!("{what}: {code}: words from the service")),
                "{e:?}"
            );
        }
        for code in ["AccessDenied", "InvalidAccessKeyId", "ExpiredToken"] {
            let e = read_error_of(what, &failure(403, Some(code), &[]));
            assert!(matches!(e, ReadError::Denied(_)), "{code}: {e:?}");
        }
        assert!(matches!(
            read_error_of(what, &failure(500, Some("InternalError"), &[])),
            ReadError::Failed(_)
        ));
    }

    #[test]
    fn an_answer_that_is_not_an_aws_error_is_named_by_its_status() {
        let e = read_error_of("s3://b/k", &failure(403, None, &[]));
        assert_eq!(
            e.message(),
            "s3://b/k: access denied (HTTP 403, an answer that is not an AWS error)"
        );
        assert!(matches!(e, ReadError::Denied(_)));
        let e = read_error_of("s3://b/k", &failure(502, None, &[]));
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
