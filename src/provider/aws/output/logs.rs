//! One CloudWatch Logs group as the follower and the reader of command output need it: the
//! streams under a prefix, and pages of a stream's events from a forward token. The client
//! behind it, `LogGroup`, is in sdk.rs.

use super::ReadError;

/// A log stream as the listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRef {
    pub name: String,
    /// Creation time (ms); steps are read in the order their streams were created.
    pub created: i64,
}

/// One page of a stream's events.
#[derive(Debug, Clone, Default)]
pub struct EventPage {
    pub messages: Vec<String>,
    /// The token to ask with next; the same token as sent means the end for now.
    pub next_token: Option<String>,
}

/// Where the events come from: CloudWatch Logs, or a script in tests.
pub trait LogSource {
    /// Every stream whose name starts with `prefix`, every page.
    fn streams(
        &self,
        prefix: &str,
    ) -> impl std::future::Future<Output = Result<Vec<StreamRef>, ReadError>>;
    /// One page of `stream` from `token` (None: from the head).
    fn page(
        &self,
        stream: &str,
        token: Option<&str>,
    ) -> impl std::future::Future<Output = Result<EventPage, ReadError>>;
}
