//! The seam between the tool and a cloud. A provider answers "what is this invocation now?";
//! it knows nothing of terminals, polling or exit codes.

pub mod aliyun;
pub mod aws;

use crate::error::Error;
use crate::model::Invocation;

/// One look at an invocation (or, for a wait over something larger, at its current state).
#[derive(Debug)]
pub enum Fetched<T = Box<Invocation>> {
    Found(T),
    /// The service says it does not exist. Right after sending a command this usually means
    /// "not visible yet" (eventual consistency); the caller decides how long to believe that.
    NotVisible,
}

/// Why a look failed.
#[derive(Debug)]
pub enum FetchError {
    /// Throttling, 5xx, timeouts, dropped connections, still failing after the SDK's retries.
    /// A later poll may well succeed.
    Transient(String),
    /// Credentials could not be loaded. Fatal before the service has ever answered (nothing
    /// is configured); afterwards a failed refresh (STS throttled, SSO slow) that a later poll
    /// may get past.
    Credentials(Error),
    /// Will not get better by asking again: access denied, invalid IDs, a bad request.
    Fatal(Error),
}

/// What identifies one invocation (or one step of it).
#[derive(Debug, Clone)]
pub struct InvocationKey {
    pub command_id: String,
    pub instance_id: String,
    pub plugin_name: Option<String>,
}

pub trait Provider {
    fn fetch(
        &self,
        key: &InvocationKey,
    ) -> impl std::future::Future<Output = Result<Fetched, FetchError>>;
}
