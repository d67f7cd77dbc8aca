//! A wait in rounds (fleet.rs), on either cloud: each round the command's counts, its
//! invocations' states when they moved, and each finished invocation's result fetched once.
//! AWS: ListCommands, ListCommandInvocations, GetCommandInvocation. Alibaba Cloud: one
//! DescribeInvocations answer gives the counts and the states; DescribeInvocationResults for
//! one instance gives its result (aliyun/fleet.rs).

use std::time::Duration;

use super::aliyun::fleet::AliyunRounds;
use super::aws::AwsProvider;
use super::contract::{FetchError, Fetched, InvocationKey, ListFilter};
use crate::error::Error;
use crate::fleet::{CommandSummary, FleetSource};
use crate::model::{Document, Envelope, Invocation, JsonArray, ListEntry, ResultSet};

pub enum Rounds<'a> {
    Aws(AwsRounds<'a>),
    Aliyun(AliyunRounds<'a>),
}

pub struct AwsRounds<'a> {
    pub(super) aws: &'a AwsProvider,
    pub(super) run_id: String,
}

impl Rounds<'_> {
    /// One invocation's complete result.
    pub async fn fetch(&self, key: &InvocationKey) -> Result<Fetched<Box<Invocation>>, FetchError> {
        match self {
            Rounds::Aws(r) => r.aws.fetch(key).await,
            Rounds::Aliyun(r) => r.fetch(key).await,
        }
    }

    /// The call `fetch` makes, for messages.
    pub fn result_call(&self) -> &'static str {
        match self {
            Rounds::Aws(_) => "GetCommandInvocation",
            Rounds::Aliyun(_) => "DescribeInvocationResults",
        }
    }

    /// How the cloud's json puts the results together.
    pub fn envelope(&self) -> &'static dyn Envelope {
        match self {
            Rounds::Aws(_) => &JsonArray,
            Rounds::Aliyun(_) => &super::aliyun::record::DescribeInvocationResults,
        }
    }

    /// A cloud whose results print as one set (Alibaba Cloud, as `get` prints them): the
    /// results fetched (their records), put together as that set. None: each result prints on
    /// its own (AWS).
    pub fn result_set(&self, results: Vec<Box<dyn Document>>) -> Option<ResultSet> {
        match self {
            Rounds::Aws(_) => None,
            Rounds::Aliyun(r) => Some(r.result_set(results)),
        }
    }

    /// Whether `result_set` makes a set: each result's record is kept until the end.
    pub fn prints_a_set(&self) -> bool {
        matches!(self, Rounds::Aliyun(_))
    }

    /// Every invocation with each step's code and (cut) output, for the final table.
    pub async fn listing(&self) -> Result<Vec<ListEntry>, FetchError> {
        match self {
            Rounds::Aws(r) => {
                let filter = ListFilter {
                    run_id: Some(r.run_id.clone()),
                    details: true,
                    ..ListFilter::default()
                };
                let listed = r.aws.list_invocations(&filter).await?;
                Ok(listed.into_iter().map(|i| i.into_entry()).collect())
            }
            Rounds::Aliyun(r) => r.list().await,
        }
    }
}

impl FleetSource for Rounds<'_> {
    async fn summary(&self) -> Result<Option<CommandSummary>, FetchError> {
        match self {
            Rounds::Aws(r) => r.aws.command_summary(&r.run_id).await,
            Rounds::Aliyun(r) => r.summary().await,
        }
    }

    async fn list(&self) -> Result<Vec<ListEntry>, FetchError> {
        match self {
            Rounds::Aws(r) => r.aws.invocation_states(&r.run_id, None).await,
            Rounds::Aliyun(r) => r.list().await,
        }
    }

    fn endless(&self) -> bool {
        match self {
            Rounds::Aws(_) => false,
            Rounds::Aliyun(r) => r.endless(),
        }
    }

    fn never_visible(&self, waited: Duration) -> Error {
        match self {
            Rounds::Aws(_) => crate::fleet::command_not_found(waited),
            Rounds::Aliyun(r) => r.never_visible(waited),
        }
    }
}
