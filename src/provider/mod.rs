//! The seam between the tool and the clouds. Every command talks to a `Cloud`, whichever it is;
//! the terms of the conversation (what is asked, what may come back) are in `contract`. A
//! provider knows nothing of terminals, polling or exit codes.

pub mod aliyun;
pub mod aws;
pub mod contract;
pub mod foreign;
pub mod paging;
pub mod rounds;
pub mod send;

use crate::error::Error;
use crate::model::{Document, ListEntry, Listing, Report, ResultSet};
use aliyun::AliyunProvider;
use aws::AwsProvider;
use aws::listing::CommandInvocations;
use contract::{CloudKind, FetchError, Fetched, ListFilter, Options, Subject};
pub use rounds::Rounds;
use send::{RunRequest, Sent};

pub enum Cloud {
    // Boxed: the SDK's configuration makes it several times the size of the other.
    Aws(Box<AwsProvider>),
    Aliyun(AliyunProvider),
}

impl Cloud {
    /// Resolves the configuration (region, credentials, endpoint); no call to the service.
    pub async fn connect(kind: CloudKind, options: &Options) -> Result<Cloud, Error> {
        Ok(match kind {
            CloudKind::Aws => Cloud::Aws(Box::new(AwsProvider::connect(options).await?)),
            CloudKind::Aliyun => Cloud::Aliyun(AliyunProvider::connect(options)?),
        })
    }

    /// The AWS provider, for what only AWS has (complete output, following, windows).
    pub fn aws(&self) -> Option<&AwsProvider> {
        match self {
            Cloud::Aws(p) => Some(p),
            Cloud::Aliyun(_) => None,
        }
    }

    /// `get`: the invocation as it is now. AWS: one instance's (with every step); Alibaba
    /// Cloud: every instance's, or the one named.
    pub async fn get(&self, subject: &Subject) -> Result<Report, Error> {
        match self {
            Cloud::Aws(p) => {
                let instance = subject.instances.first().map_or("", String::as_str);
                match p.fetch_now(&subject.key(instance)).await? {
                    Fetched::Found(invocation) => Ok(Report::One(invocation)),
                    Fetched::NotVisible => Err(Error::NotFound(
                        "invocation not found (InvocationDoesNotExist): check the command ID, the \
                         instance ID and the region (--region); a command sent seconds ago may \
                         not be visible yet, `ssmres wait` allows for that"
                            .into(),
                    )),
                }
            }
            Cloud::Aliyun(p) => {
                let set = p.results(&results_query(subject)).await?;
                if set.results.is_empty() {
                    let instance = if subject.instances.is_empty() {
                        ""
                    } else {
                        ", the instance ID"
                    };
                    return Err(Error::NotFound(format!(
                        "no results for invocation {}{}: check the invoke ID{instance} and the \
                         region (--region); results of the last 30 days are kept; an invocation \
                         sent seconds ago may not be visible yet, `ssmres --provider aliyun \
                         wait` allows for that",
                        subject.run_id,
                        on_one(subject),
                    )));
                }
                Ok(Report::Results(set))
            }
        }
    }

    /// A wait that never saw what it waited for, in this cloud's words.
    pub fn never_visible(&self, subject: &Subject, waited: std::time::Duration) -> Error {
        let waited = crate::duration::human(waited);
        Error::NotFound(match self {
            Cloud::Aws(_) => format!(
                "invocation not found after {waited} (InvocationDoesNotExist): check the command \
                 ID, the instance ID and the region (--region), and that the command was sent to \
                 this instance; raise --not-found-grace if the service is slow to show it"
            ),
            Cloud::Aliyun(_) => format!(
                "no results for invocation {}{} after {waited}: check the invoke ID and the \
                 region (--region); raise --not-found-grace if the service is slow to show it",
                subject.run_id,
                on_one(subject),
            ),
        })
    }

    /// A wait on a whole command or several instances goes in rounds (fleet.rs) over the
    /// command's invocations; None: the wait polls one thing (`look`). One Alibaba Cloud
    /// instance is polled alone: DescribeInvocationResults narrowed to it answers its state and
    /// its result in one call, which rounds would split in two.
    pub fn rounds(&self, subject: &Subject) -> Option<Rounds<'_>> {
        if subject.instances.len() == 1 {
            return None;
        }
        Some(match self {
            Cloud::Aws(aws) => Rounds::Aws(rounds::AwsRounds {
                aws,
                run_id: subject.run_id.clone(),
            }),
            Cloud::Aliyun(p) => Rounds::Aliyun(aliyun::fleet::AliyunRounds::new(p, subject)),
        })
    }

    /// One look at what a wait that polls one thing waits on: one AWS invocation, or an
    /// Alibaba Cloud invocation on every instance named (all of them when none is).
    pub async fn look(&self, subject: &Subject) -> Result<Fetched<Report>, FetchError> {
        match self {
            Cloud::Aws(p) => {
                let instance = subject.instances.first().map_or("", String::as_str);
                Ok(match p.fetch(&subject.key(instance)).await? {
                    Fetched::Found(invocation) => Fetched::Found(Report::One(invocation)),
                    Fetched::NotVisible => Fetched::NotVisible,
                })
            }
            Cloud::Aliyun(p) => {
                let mut set = p.results(&results_query(subject)).await?;
                if !subject.instances.is_empty() {
                    keep_named(&mut set, &subject.instances);
                }
                Ok(match set.results.is_empty() {
                    true => Fetched::NotVisible,
                    false => Fetched::Found(Report::Results(set)),
                })
            }
        }
    }

    /// `list`: AWS: a command's invocations; Alibaba Cloud: the results the filters match.
    pub async fn list(&self, filter: &ListFilter) -> Result<Report, Error> {
        match self {
            Cloud::Aws(p) => {
                let listed = p.list_invocations(filter).await?;
                Ok(Report::Listing(Listing {
                    entries: listed.into_iter().map(|i| i.into_entry()).collect(),
                    envelope: &CommandInvocations,
                }))
            }
            Cloud::Aliyun(p) => Ok(Report::Results(p.results(filter).await?)),
        }
    }

    /// `run`: sends the command (SendCommand; aliyun: RunCommand). A send is never repeated
    /// blindly: each provider retries only what provably did not run, or what the service
    /// deduplicates (provider/send.rs).
    pub async fn send(&self, request: &RunRequest) -> Result<Sent, Error> {
        match self {
            Cloud::Aws(p) => p.send_command(request).await,
            Cloud::Aliyun(p) => p.run_command(request).await,
        }
    }

    /// A mark for one send: AWS puts it in the Comment, Alibaba Cloud sends it as ClientToken.
    pub fn new_mark(kind: CloudKind) -> String {
        send::new_mark(match kind {
            CloudKind::Aws => aws::send::request::MARK_PREFIX,
            CloudKind::Aliyun => aliyun::run::MARK_PREFIX,
        })
    }

    /// How to find out whether a send whose answer never came ran (a signal stopped the wait
    /// for it): for a message.
    pub fn how_to_check_send(
        kind: CloudKind,
        request: &RunRequest,
        started: jiff::Timestamp,
    ) -> String {
        match kind {
            CloudKind::Aws => aws::send::how_to_check(&request.mark, started),
            CloudKind::Aliyun => aliyun::run::how_to_check(request),
        }
    }

    /// What the cloud's send call would refuse, before any call (one line, for exit 2).
    pub fn check_send(kind: CloudKind, request: &RunRequest) -> Result<(), String> {
        match kind {
            CloudKind::Aws => aws::send::request::check(request),
            CloudKind::Aliyun => aliyun::run::check(request),
        }
    }

    /// The request as it would be sent (`run --dry-run`): SendCommand's JSON, RunCommand's
    /// parameters. No configuration or credentials needed.
    pub fn send_preview(kind: CloudKind, request: &RunRequest) -> Box<dyn Document> {
        match kind {
            CloudKind::Aws => Box::new(aws::send::request::build(request)),
            CloudKind::Aliyun => Box::new(aliyun::run::preview(request)),
        }
    }

    /// What `cancel` calls, for messages.
    pub fn cancel_call(kind: CloudKind) -> &'static str {
        match kind {
            CloudKind::Aws => "CancelCommand",
            CloudKind::Aliyun => "StopInvocation",
        }
    }

    /// Stops what `subject` names: CancelCommand, or StopInvocation. Stopping twice does no
    /// harm, so the call is retried like any other.
    pub async fn cancel(&self, subject: &Subject) -> Result<(), FetchError> {
        match self {
            Cloud::Aws(p) => p.cancel_command(&subject.run_id, &subject.instances).await,
            Cloud::Aliyun(p) => p.stop_invocation(&subject.run_id, &subject.instances).await,
        }
    }

    /// The state of each instance `subject` names (every instance when none is).
    pub async fn states(&self, subject: &Subject) -> Result<Vec<ListEntry>, FetchError> {
        let mut entries = match self {
            Cloud::Aws(p) => {
                let one = match subject.instances.as_slice() {
                    [one] => Some(one.as_str()),
                    _ => None,
                };
                p.invocation_states(&subject.run_id, one).await?
            }
            // The states alone (DescribeInvocations), not every output.
            Cloud::Aliyun(p) => p
                .invocation_states(&subject.run_id, subject.command.as_deref())
                .await?
                .map_or_else(Vec::new, |d| {
                    d.instances.into_iter().map(|i| i.into_entry()).collect()
                }),
        };
        if !subject.instances.is_empty() {
            entries.retain(|e| subject.instances.contains(&e.instance_id));
        }
        Ok(entries)
    }
}

/// " on i-…" when one instance is named.
fn on_one(subject: &Subject) -> String {
    match subject.instances.as_slice() {
        [one] => format!(" on {one}"),
        _ => String::new(),
    }
}

fn results_query(subject: &Subject) -> ListFilter {
    ListFilter {
        run_id: Some(subject.run_id.clone()),
        // One instance is filtered by the service; several are picked out here.
        instance_id: match subject.instances.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        },
        command: subject.command.clone(),
        ..ListFilter::default()
    }
}

/// Only the instances named, and which of them have no result yet.
fn keep_named(set: &mut ResultSet, named: &[String]) {
    set.results.retain(|r| named.contains(&r.instance_id));
    // The service counted every instance; the output counts what it holds.
    set.total_count = Some(set.results.len() as u64);
    let mut missing: Vec<String> = named
        .iter()
        .filter(|n| !set.results.iter().any(|r| &r.instance_id == *n))
        .cloned()
        .collect();
    missing.sort();
    missing.dedup();
    set.missing = missing;
}
