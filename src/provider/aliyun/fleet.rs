//! An Alibaba Cloud invocation on several instances, waited for in rounds (fleet.rs) at the cost
//! of an AWS fleet: each round one DescribeInvocations call without outputs (the overall state
//! and every instance's: what `summary` and `list` both answer from, so a round is one call,
//! however many instances changed), and each instance's result fetched once, when the states
//! say it is over: DescribeInvocationResults narrowed to that instance (its output, up to
//! 24 KB, decoded as for `get`).
//!
//! Reading every page of DescribeInvocationResults each round instead, as a wait did before,
//! sends every instance's output every round: megabytes per round at a thousand instances, for
//! states that fit in a few kilobytes.
//!
//! The fetch relies on DescribeInvocationResults taking `InvokeId` and `InstanceId` together
//! (API reference, ECS 2014-05-26, DescribeInvocationResults:
//! <https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describeinvocationresults>):
//! without `IncludeHistory` an invocation has one result per instance, its latest, with the
//! same fields a full listing gives it. The reference calls the two operations "largely
//! interchangeable" for one instance, and names DescribeInvocations as the one with the
//! invocation's overall state; it also points to Cloud Assistant's task status events as the
//! way to avoid polling, which a command-line wait cannot subscribe to.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::AliyunProvider;
use super::record::{DescribeInvocationResults, InvocationResult};
use super::states::Described;
use crate::error::Error;
use crate::fleet::CommandSummary;
use crate::model::{Document, Invocation, ListEntry, ResultSet};
use crate::provider::contract::{FetchError, Fetched, InvocationKey, ListFilter, Subject};

/// The overall `InvocationStatus` words the API reference gives an invocation that is not over;
/// any other (Success, Failed, PartialFailed, Stopped, or a word added later) lets the wait end
/// once every instance is over, which the rounds check as well.
const IN_PROGRESS: [&str; 4] = ["Pending", "Scheduled", "Running", "Stopping"];

pub struct AliyunRounds<'a> {
    provider: &'a AliyunProvider,
    invoke_id: String,
    /// `--command-id`: only results of this command.
    command: Option<String>,
    /// The instances named; empty: all of them.
    named: Vec<String>,
    seen: Mutex<Seen>,
}

/// What the rounds learnt, kept between the calls of a round and for the end.
#[derive(Default)]
struct Seen {
    /// The states of the last answer, for `list` in the same round (no second call).
    states: Option<Vec<ListEntry>>,
    /// Each instance's place in the service's listing, the first time it was listed: the
    /// order the results are printed in, as `get` prints them.
    order: HashMap<String, usize>,
    /// A waited-for instance is a periodic task between two runs.
    periodic: bool,
    /// InvokeRecordStatus of the result fetched last (see `result_set`).
    record_status: Option<String>,
}

impl<'a> AliyunRounds<'a> {
    pub fn new(provider: &'a AliyunProvider, subject: &Subject) -> AliyunRounds<'a> {
        AliyunRounds {
            provider,
            invoke_id: subject.run_id.clone(),
            command: subject.command.clone(),
            named: subject.instances.clone(),
            seen: Mutex::new(Seen::default()),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        // Nothing panics while holding it; a poisoned lock still holds what was learnt.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wanted(&self, instance_id: &str) -> bool {
        self.named.is_empty() || self.named.iter().any(|n| n == instance_id)
    }

    /// The invocation's counts from one DescribeInvocations answer, whose states `list` then
    /// hands over; `None` while no instance is listed.
    pub async fn summary(&self) -> Result<Option<CommandSummary>, FetchError> {
        // A round whose counts did not move left its states unused: gone before the next
        // answer arrives (at ten thousand instances, megabytes).
        self.seen().states = None;
        let described = self
            .provider
            .invocation_states(&self.invoke_id, self.command.as_deref())
            .await?;
        let Some(Described {
            status,
            repeat_mode,
            instances,
        }) = described
        else {
            return Ok(None);
        };
        let periodic = instances
            .iter()
            .any(|i| i.is_periodic() && self.wanted(i.instance_id.as_deref().unwrap_or_default()));
        let states: Vec<ListEntry> = instances.into_iter().map(|i| i.into_entry()).collect();
        // A task that runs again may keep its overall state Scheduled or Running between runs
        // while its instances show how the last run ended: once every instance waited for has
        // ended, the single look decides, by the rule it always applied.
        let repeats = repeat_mode.as_deref().is_some_and(|m| m != "Once");
        let wanted_ended = states
            .iter()
            .filter(|e| self.wanted(&e.instance_id))
            .all(|e| e.class.is_terminal());
        let periodic = periodic || (repeats && wanted_ended);
        let status = status.unwrap_or_default();
        let summary = CommandSummary {
            terminal: !IN_PROGRESS.contains(&status.as_str()),
            status,
            target_count: states.len() as u64,
            completed_count: states.iter().filter(|e| e.class.is_terminal()).count() as u64,
        };
        let mut seen = self.seen();
        for state in &states {
            let next = seen.order.len();
            seen.order.entry(state.instance_id.clone()).or_insert(next);
        }
        seen.periodic = periodic;
        seen.states = Some(states);
        Ok(Some(summary))
    }

    /// Every instance's state: the answer `summary` got in this round, or a call of its own.
    pub async fn list(&self) -> Result<Vec<ListEntry>, FetchError> {
        if let Some(states) = self.seen().states.take() {
            return Ok(states);
        }
        let described = self
            .provider
            .invocation_states(&self.invoke_id, self.command.as_deref())
            .await?;
        Ok(described.map_or_else(Vec::new, |d| {
            d.instances.into_iter().map(|i| i.into_entry()).collect()
        }))
    }

    /// A waited-for instance showed `Scheduled`: a periodic task, which never ends by itself.
    pub fn endless(&self) -> bool {
        self.seen().periodic
    }

    pub fn never_visible(&self, waited: Duration) -> Error {
        Error::NotFound(format!(
            "no results for invocation {} after {}: check the invoke ID and the region \
             (--region); raise --not-found-grace if the service is slow to show it",
            self.invoke_id,
            crate::duration::human(waited)
        ))
    }

    /// One instance's result, which the states said is over: DescribeInvocationResults for that
    /// instance alone. Not there yet, or not over there yet (the two APIs are not updated at
    /// the same instant), is a failure worth another look.
    pub async fn fetch(&self, key: &InvocationKey) -> Result<Fetched<Box<Invocation>>, FetchError> {
        let query = ListFilter {
            run_id: Some(self.invoke_id.clone()),
            instance_id: Some(key.instance_id.clone()),
            command: self.command.clone(),
            ..ListFilter::default()
        };
        let set = self.provider.results(&query).await?;
        let result = set
            .results
            .into_iter()
            .find(|r| r.instance_id == key.instance_id);
        match result {
            Some(invocation) if invocation.is_terminal() => {
                let status = as_result(&invocation).and_then(|r| r.invoke_record_status.clone());
                if status.is_some() {
                    self.seen().record_status = status;
                }
                Ok(Fetched::Found(Box::new(invocation)))
            }
            Some(_) => Err(FetchError::Transient(format!(
                "DescribeInvocationResults: the result of {} is not over yet, though \
                 DescribeInvocations says it is",
                key.instance_id
            ))),
            None => Err(FetchError::Transient(format!(
                "DescribeInvocationResults: no result for {} yet, though DescribeInvocations \
                 lists it as over",
                key.instance_id
            ))),
        }
    }

    /// The results fetched (their records, which is all a wait keeps of them until the end),
    /// as `get` would print them: the DescribeInvocationResults document, in the service's
    /// order, counted. Its `InvokeRecordStatus` is the invocation's overall state, not the
    /// instance's: one look would show the same value in every result, so every result gets
    /// the one of the result fetched last (after the rounds saw every instance over), rather
    /// than each the value of the moment it was fetched.
    pub fn result_set(&self, records: Vec<Box<dyn Document>>) -> ResultSet {
        let seen = self.seen();
        let mut results = Vec::with_capacity(records.len());
        for doc in records {
            if !(&*doc as &dyn Any).is::<InvocationResult>() {
                // Not one of this provider's records (never, as `fetch` makes them): kept as it is.
                results.push(Invocation {
                    doc,
                    ..Invocation::default()
                });
                continue;
            }
            let any: Box<dyn Any> = doc;
            let Ok(mut record) = any.downcast::<InvocationResult>() else {
                continue;
            };
            if let Some(status) = &seen.record_status
                && record.invoke_record_status.is_some()
            {
                record.invoke_record_status = Some(status.clone());
            }
            results.push(record.into_invocation());
        }
        // Instance IDs are unique: no order among equal keys to keep.
        results.sort_unstable_by_key(|r| {
            seen.order
                .get(&r.instance_id)
                .copied()
                .unwrap_or(usize::MAX)
        });
        ResultSet {
            total_count: Some(results.len() as u64),
            results,
            ..ResultSet::new(&DescribeInvocationResults)
        }
    }
}

/// The service's record behind a result.
fn as_result(invocation: &Invocation) -> Option<&InvocationResult> {
    (&*invocation.doc as &dyn Any).downcast_ref::<InvocationResult>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, record_status: &str) -> Box<dyn Document> {
        Box::new(InvocationResult {
            instance_id: Some(id.into()),
            invocation_status: Some("Success".into()),
            invoke_record_status: Some(record_status.into()),
            ..Default::default()
        })
    }

    #[test]
    fn results_come_in_the_services_order_with_the_last_overall_state() {
        let provider = AliyunProvider::for_tests();
        let subject = Subject {
            run_id: "t-1".into(),
            ..Subject::default()
        };
        let rounds = AliyunRounds::new(&provider, &subject);
        {
            let mut seen = rounds.seen();
            for (i, id) in ["i-c", "i-a", "i-b"].iter().enumerate() {
                seen.order.insert((*id).into(), i);
            }
            seen.record_status = Some("PartialFailed".into());
        }
        let set = rounds.result_set(vec![
            result("i-a", "Running"),
            result("i-b", "PartialFailed"),
            result("i-c", "Running"),
        ]);
        let ids: Vec<&str> = set.results.iter().map(|r| r.instance_id.as_str()).collect();
        assert_eq!(ids, ["i-c", "i-a", "i-b"]);
        assert_eq!(set.total_count, Some(3));
        for r in &set.results {
            let status = as_result(r).and_then(|r| r.invoke_record_status.as_deref());
            assert_eq!(status, Some("PartialFailed"));
        }
    }
}
