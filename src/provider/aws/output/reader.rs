//! Reads a command's complete output from S3 or CloudWatch Logs, chunk by chunk, into a sink:
//! a 1 GiB object goes to stdout without ever being in memory whole.
//!
//! Clients are built from the same AWS configuration as the SSM client (credentials, region,
//! retries), with their endpoints from the standard configuration (AWS_ENDPOINT_URL_S3,
//! AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, a profile's `endpoint_url`): `--endpoint-url` names the
//! SSM endpoint only, as in the aws CLI where it applies to the one service called.

use std::io;

use aws_config::{Region, SdkConfig};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_types::service_config::ServiceConfigKey;

use super::logs::{LogGroup, LogSource, StreamRef};
use super::s3_url::S3Location;
use super::sources::{LogStreams, Source};
use super::{ReadError, read_error_of, short};

/// Receives the bytes of a stream as they arrive.
pub type Sink<'a> = dyn FnMut(&[u8]) -> io::Result<()> + 'a;

pub struct OutputReader {
    config: SdkConfig,
    /// With an S3 endpoint of one's own (moto, a proxy on localhost) the bucket cannot be a
    /// host name: address buckets in the path there, as the URLs SSM returns do anyway.
    s3_path_style: bool,
}

impl OutputReader {
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
        OutputReader {
            config: config.clone(),
            s3_path_style: s3_endpoint || config.endpoint_url().is_some(),
        }
    }

    /// Streams every byte of `source` into `sink`; the number of bytes on success.
    pub async fn read(&self, source: &Source, sink: &mut Sink<'_>) -> Result<u64, ReadError> {
        match source {
            Source::S3(loc) => self.read_s3(loc, sink).await,
            Source::CloudWatch(streams) => self.read_log_streams(streams, sink).await,
        }
    }

    fn s3_client(&self, region: Option<&str>) -> aws_sdk_s3::Client {
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
        if self.s3_path_style {
            conf = conf.force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(conf.build())
    }

    async fn read_s3(&self, loc: &S3Location, sink: &mut Sink<'_>) -> Result<u64, ReadError> {
        let started = std::time::Instant::now();
        // The bucket's region as the URL names it, else the configured one; the SDK does not
        // follow S3's redirect to another region, so one retry there does.
        let get = |client: aws_sdk_s3::Client| {
            client.get_object().bucket(&loc.bucket).key(&loc.key).send()
        };
        let object = match get(self.s3_client(loc.region.as_deref())).await {
            Ok(object) => object,
            Err(e) => match bucket_region(&e) {
                Some(region) if loc.region.as_deref() != Some(region.as_str()) => {
                    tracing::debug!(%region, "S3 redirect to the bucket's region");
                    get(self.s3_client(Some(&region)))
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

    async fn read_log_streams(
        &self,
        streams: &LogStreams,
        sink: &mut Sink<'_>,
    ) -> Result<u64, ReadError> {
        let what = Source::CloudWatch(streams.clone()).describe();
        let logs = LogGroup::new(&self.config, &streams.group, what.clone());

        // Every page of the prefix, then the step streams in the order they were created:
        // the agent creates each as its step starts writing.
        let mut found: Vec<StreamRef> = logs
            .streams(&streams.prefix)
            .await?
            .into_iter()
            .filter(|s| streams.wants(&s.name))
            .collect();
        if found.is_empty() {
            return Err(ReadError::Missing(format!("{what}: no such log stream")));
        }
        found.sort_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)));

        let mut total = 0u64;
        for stream in &found {
            let mut token: Option<String> = None;
            loop {
                let page =
                    logs.page(&stream.name, token.as_deref())
                        .await
                        .map_err(|err| match err {
                            ReadError::Failed(m) | ReadError::Denied(m) | ReadError::Missing(m)
                                if total > 0 =>
                            {
                                ReadError::Failed(format!("{m} (after {total} bytes)"))
                            }
                            err => err,
                        })?;
                for message in &page.messages {
                    sink(message.as_bytes()).map_err(ReadError::Output)?;
                    total += message.len() as u64;
                    // The agent sends whole lines and drops the newline that ends an event
                    // built after the command finished: put it back.
                    if !message.ends_with('\n') {
                        sink(b"\n").map_err(ReadError::Output)?;
                        total += 1;
                    }
                }
                // The end of a stream is the token coming back unchanged; an empty page with
                // a new token is not the end.
                if page.next_token.is_none() || page.next_token == token {
                    break;
                }
                token = page.next_token;
            }
        }
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
}
