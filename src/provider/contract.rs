//! What every cloud is asked and what it may answer, in neutral terms: the rest of the program
//! (the poll loop, the commands) talks to a cloud through these, and each provider speaks them.

use std::time::Duration;

use clap::ValueEnum;

use crate::error::Error;

/// The clouds ssmres talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudKind {
    /// AWS Systems Manager Run Command
    Aws,
    /// Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)
    Aliyun,
}

/// How to reach a cloud: the global flags, resolved by each provider with its own defaults.
#[derive(Debug, Clone)]
pub struct Options {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// The main service's endpoint (SSM, ECS) instead of the regional one.
    pub endpoint_url: Option<String>,
    pub timeouts: Timeouts,
}

/// How long one attempt of one call may take, for every service a run calls.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open the connection (TCP and TLS).
    pub connect: Duration,
    /// From the request to the start of the answer.
    pub read: Duration,
}

/// The defaults of --connect-timeout and --read-timeout: a host that does not answer is known
/// within seconds, and a service answers a poll in well under a second, so 15 s is a stuck
/// answer, not a slow one (the aws CLI's 60 s each make a black hole cost minutes).
pub const CONNECT_TIMEOUT: &str = "5s";
pub const READ_TIMEOUT: &str = "15s";

impl Timeouts {
    /// The most one attempt of a call for a small answer (a poll, a listing page) may take:
    /// connecting, the wait for the answer's start, and as long again for the rest. Without
    /// it an answer trickling a byte at a time would hold a poll for hours. Not for S3, whose
    /// answers may be gigabytes; its stalled-stream protection covers them.
    pub fn attempt(&self) -> Duration {
        self.connect + self.read * 2
    }
}

/// What a command is about.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// What a send returned: AWS's CommandId, Alibaba Cloud's InvokeId.
    pub run_id: String,
    /// The instances named; empty: every instance it ran on.
    pub instances: Vec<String>,
    /// AWS: one step of a document with several (--plugin-name).
    pub step: Option<String>,
    /// Alibaba Cloud: only results of this command (c-…).
    pub command: Option<String>,
}

/// What identifies one invocation (or one step of it).
#[derive(Debug, Clone)]
pub struct InvocationKey {
    pub command_id: String,
    pub instance_id: String,
    pub plugin_name: Option<String>,
}

impl Subject {
    /// The one invocation of `instance_id`.
    pub fn key(&self, instance_id: &str) -> InvocationKey {
        InvocationKey {
            command_id: self.run_id.clone(),
            instance_id: instance_id.to_owned(),
            plugin_name: self.step.clone(),
        }
    }
}

/// One look at an invocation (or, for a wait over something larger, at its current state).
#[derive(Debug)]
pub enum Fetched<T> {
    Found(T),
    /// The service says it does not exist. Right after sending a command this usually means
    /// "not visible yet" (eventual consistency); the caller decides how long to believe that.
    NotVisible,
}

/// Why a look failed.
#[derive(Debug)]
pub enum FetchError {
    /// Throttling, 5xx, timeouts, dropped connections still failing after the retries, or an
    /// answer that is not the expected document. A later poll may well succeed. The message
    /// names the call, and says so when it was retried.
    Transient(String),
    /// Credentials could not be loaded. Fatal before the service has ever answered (nothing
    /// is configured); afterwards a failed refresh (STS throttled, SSO slow) that a later poll
    /// may get past.
    Credentials(Error),
    /// Will not get better by asking again: access denied, invalid IDs, a bad request.
    Fatal(Error),
}

/// A look that failed for good: what the user is told.
impl From<FetchError> for Error {
    fn from(e: FetchError) -> Error {
        match e {
            FetchError::Transient(m) => Error::Api(m),
            FetchError::Credentials(e) | FetchError::Fatal(e) => e,
        }
    }
}

/// Lower-case letters, digits and hyphens, as every AWS and Alibaba Cloud region is named.
pub fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// What `list` asks for: the service's own filters.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// AWS: the command (required); Alibaba Cloud: only this invocation.
    pub run_id: Option<String>,
    pub instance_id: Option<String>,
    /// Alibaba Cloud: only results of this command (c-…).
    pub command: Option<String>,
    /// AWS: with each step's status, code and (cut) output.
    pub details: bool,
    /// Alibaba Cloud: the overall state (InvokeRecordStatus), every past run of a periodic
    /// task, tags and a resource group.
    pub record_status: Option<String>,
    pub include_history: bool,
    pub tags: Vec<(String, String)>,
    pub resource_group_id: Option<String>,
    /// Stop after this many.
    pub max_items: Option<usize>,
}
