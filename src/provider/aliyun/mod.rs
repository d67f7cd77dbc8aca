//! Alibaba Cloud ECS Cloud Assistant: DescribeInvocationResults, signed (sign.rs) with keys
//! from the environment or the aliyun CLI's profiles (credentials.rs), every page read,
//! throttling and server errors retried with backoff; DescribeInvocations for the states alone
//! (states.rs), which a wait on several instances polls in rounds (fleet.rs).

mod client;
pub mod credentials;
pub mod fleet;
pub mod record;
pub mod run;
pub mod sign;
pub mod states;

use crate::error::Error;
use crate::model::{Invocation, ResultSet};
use crate::provider::contract::{FetchError, ListFilter, Options, is_region};
use crate::provider::paging::read_all;
use credentials::Credentials;
use record::{DescribeInvocationResults, Response};

const DESCRIBE: &str = "DescribeInvocationResults";
const STOP: &str = "StopInvocation";
/// The API's largest page.
const PAGE_SIZE: usize = 50;

/// The filters as the API names them.
fn params(filter: &ListFilter) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: &str| p.push((k.to_owned(), v.to_owned()));
    add("ContentEncoding", "Base64");
    for (key, value) in [
        ("InvokeId", &filter.run_id),
        ("InstanceId", &filter.instance_id),
        ("CommandId", &filter.command),
        ("InvokeRecordStatus", &filter.record_status),
        ("ResourceGroupId", &filter.resource_group_id),
    ] {
        if let Some(v) = value {
            add(key, v);
        }
    }
    if filter.include_history {
        add("IncludeHistory", "true");
    }
    for (i, (k, v)) in filter.tags.iter().enumerate() {
        add(&format!("Tag.{}.Key", i + 1), k);
        add(&format!("Tag.{}.Value", i + 1), v);
    }
    p
}

pub struct AliyunProvider {
    http: reqwest::Client,
    endpoint: url::Url,
    region: String,
    credentials: Credentials,
}

impl AliyunProvider {
    /// Resolves credentials, region and endpoint; no network call.
    pub fn connect(options: &Options) -> Result<AliyunProvider, Error> {
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
        if !is_region(&region) {
            return Err(Error::Usage(format!(
                "region {region:?} (from {} or the profile) is not a region name such as \
                 cn-hangzhou",
                credentials::ENV_REGION
            )));
        }
        let endpoint = client::endpoint_for(&region, options.endpoint_url.as_deref())?;
        // Proxies from the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY, either
        // case), read by the same rules as the AWS SDK's client; over https a proxy sees only
        // the host, never the signed query.
        let http = reqwest::Client::builder()
            .connect_timeout(options.timeouts.connect)
            .read_timeout(options.timeouts.read)
            // As the AWS SDK: a redirect is reported, never followed (it would carry the signed
            // query elsewhere).
            .redirect(reqwest::redirect::Policy::none())
            // An answer trickling in must not hold a call for hours.
            .timeout(options.timeouts.attempt())
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
    pub async fn results(&self, query: &ListFilter) -> Result<ResultSet, FetchError> {
        let total_count = std::cell::Cell::new(None);
        let page = |token: Option<String>, read: usize| {
            let mut params = params(query);
            let wanted = query
                .max_items
                .map_or(PAGE_SIZE, |m| m - read)
                .min(PAGE_SIZE);
            params.push(("MaxResults".into(), wanted.to_string()));
            params.extend(token.map(|t| ("NextToken".to_owned(), t)));
            let total_count = &total_count;
            async move {
                let page = self.call::<Response>(DESCRIBE, &params).await?;
                let page = page.invocation.unwrap_or_default();
                total_count.set(page.total_count.or(total_count.get()));
                let results = page.invocation_results.map(|r| r.invocation_result);
                let results: Vec<Invocation> = (results.unwrap_or_default().into_iter())
                    .map(|mut r| {
                        r.decode_output();
                        r.into_invocation()
                    })
                    .collect();
                // An empty page with a token would have the same nothing read for ever.
                let next = page.next_token.filter(|_| !results.is_empty());
                Ok((results, next))
            }
        };
        let (results, _) = read_all(DESCRIBE, query.max_items, page).await?;
        Ok(ResultSet {
            results,
            total_count: total_count.get(),
            ..ResultSet::new(&DescribeInvocationResults)
        })
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
}

#[cfg(test)]
impl AliyunProvider {
    /// A provider that is never called: for tests of what it does with answers.
    pub(crate) fn for_tests() -> AliyunProvider {
        AliyunProvider {
            http: reqwest::Client::new(),
            endpoint: url::Url::parse("http://127.0.0.1:9/").expect("a valid URL"),
            region: "cn-hangzhou".into(),
            credentials: Credentials {
                access_key_id: "LTAI-test".into(),
                access_key_secret: "test-secret".into(),
                security_token: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_go_on_the_wire_with_the_api_names() {
        let q = ListFilter {
            run_id: Some("t-1".into()),
            record_status: Some("Running".into()),
            include_history: true,
            tags: vec![
                ("env".into(), "prod".into()),
                ("team".into(), String::new()),
            ],
            ..Default::default()
        };
        let p = params(&q);
        let has = |k: &str, v: &str| p.iter().any(|(a, b)| a == k && b == v);
        assert!(has("ContentEncoding", "Base64"));
        assert!(has("InvokeId", "t-1") && has("InvokeRecordStatus", "Running"));
        assert!(has("IncludeHistory", "true"));
        assert!(has("Tag.1.Key", "env") && has("Tag.1.Value", "prod"));
        assert!(has("Tag.2.Key", "team") && has("Tag.2.Value", ""));
        assert!(!p.iter().any(|(k, _)| k == "InstanceId"));
    }
}
