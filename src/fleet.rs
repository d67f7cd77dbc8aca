//! Waiting for every invocation of a command. One cheap call per round tells whether anything
//! changed (the command's counts); only then are the invocations listed (50 per call, or from
//! that same answer when the cloud sends the states with the counts). So a round costs one call
//! while nothing happens, and never more than 1 + ceil(N/50).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
use crate::model::{ListEntry, StatusClass};
use crate::poll::{Failures, Policy, Standing};
use crate::provider::contract::FetchError;

/// The command as a whole, from one summary call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSummary {
    pub status: String,
    pub terminal: bool,
    pub target_count: u64,
    pub completed_count: u64,
}

/// The longest pause between rounds once some invocations have finished.
const FINISHING_PAUSE: Duration = Duration::from_millis(1500);

pub trait FleetSource {
    /// The command's status and counts; `None` while it is not visible yet.
    fn summary(&self) -> impl Future<Output = Result<Option<CommandSummary>, FetchError>>;
    /// Every invocation of the command, all pages.
    fn list(&self) -> impl Future<Output = Result<Vec<ListEntry>, FetchError>>;

    /// What the last round saw will never end by itself (a periodic task between two runs):
    /// the rounds stop there, and the caller says so. Clouds without such tasks never are.
    fn endless(&self) -> bool {
        false
    }

    /// The command never became visible within the grace window, in the cloud's words.
    fn never_visible(&self, waited: Duration) -> Error {
        command_not_found(waited)
    }
}

/// A command never seen within the grace window, in the words of a cloud that names it so.
pub fn command_not_found(waited: Duration) -> Error {
    Error::NotFound(format!(
        "command not found after {}: check the command ID and the region (--region); raise \
         --not-found-grace if the service is slow to show it",
        crate::duration::human(waited)
    ))
}

/// Which invocations the wait is about.
#[derive(Debug, Clone)]
pub enum Members {
    All,
    Named(BTreeSet<String>),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub finished: usize,
    pub failed: usize,
    /// What the wait is waiting for: the target count, or the named set's size.
    pub total: usize,
}

#[derive(Debug)]
pub struct FleetOutcome {
    /// The last state of every member seen, by instance ID.
    pub entries: BTreeMap<String, ListEntry>,
    pub tally: Tally,
    pub timed_out: bool,
    /// The rounds stopped at something that never ends by itself (`FleetSource::endless`).
    pub endless: bool,
    /// How the rounds stood (answered at all, failing at the end).
    pub standing: Standing,
}

/// What the rounds have learnt so far.
struct View<'a> {
    members: &'a Members,
    entries: BTreeMap<String, ListEntry>,
    reported: BTreeSet<String>,
}

impl View<'_> {
    fn wanted(&self, id: &str) -> bool {
        match self.members {
            Members::All => true,
            Members::Named(names) => names.contains(id),
        }
    }

    fn update(&mut self, listed: Vec<ListEntry>, on_finished: &mut impl FnMut(&ListEntry)) {
        for entry in listed {
            if !self.wanted(&entry.instance_id) {
                continue;
            }
            // Report each invocation once, in the round it is first seen terminal.
            if entry.class.is_terminal() && self.reported.insert(entry.instance_id.clone()) {
                on_finished(&entry);
            }
            self.entries.insert(entry.instance_id.clone(), entry);
        }
    }

    fn tally(&self, summary: &CommandSummary) -> Tally {
        let finished = self
            .entries
            .values()
            .filter(|e| e.class.is_terminal())
            .count();
        let failed = self
            .entries
            .values()
            .filter(|e| e.class == StatusClass::Failed)
            .count();
        let total = match self.members {
            Members::All => (summary.target_count as usize).max(self.entries.len()),
            Members::Named(names) => names.len(),
        };
        Tally {
            finished,
            failed,
            total,
        }
    }

    fn missing(&self) -> Vec<&str> {
        match self.members {
            Members::All => Vec::new(),
            Members::Named(names) => names
                .iter()
                .filter(|n| !self.entries.contains_key(*n))
                .map(String::as_str)
                .collect(),
        }
    }

    /// Never "all done" while the command can still gain invocations or the listing still
    /// lags the counts.
    fn done(&self, summary: &CommandSummary) -> bool {
        let all_terminal = self.entries.values().all(|e| e.class.is_terminal());
        match self.members {
            Members::All => {
                summary.terminal
                    && all_terminal
                    && self.entries.len() as u64 >= summary.target_count
            }
            Members::Named(_) => self.missing().is_empty() && all_terminal,
        }
    }

    /// Whether the listing agrees with the summary; if not, the next round lists again even
    /// when the counts did not move (the listing is eventually consistent too).
    fn consistent_with(&self, summary: &CommandSummary) -> bool {
        let finished = self
            .entries
            .values()
            .filter(|e| e.class.is_terminal())
            .count() as u64;
        match self.members {
            Members::All => {
                self.entries.len() as u64 >= summary.target_count
                    && finished >= summary.completed_count
            }
            Members::Named(_) => self.missing().is_empty(),
        }
    }
}

pub async fn wait<S: FleetSource>(
    policy: &Policy,
    source: &S,
    members: &Members,
    mut on_finished: impl FnMut(&ListEntry),
    mut on_round: impl FnMut(Option<&Tally>, u32),
    rng: &mut fastrand::Rng,
) -> Result<FleetOutcome, Error> {
    let start = Instant::now();
    let grace_end = start + policy.not_found_grace;
    let mut view = View {
        members,
        entries: BTreeMap::new(),
        reported: BTreeSet::new(),
    };
    let mut settled: Option<CommandSummary> = None;
    let mut tally = Tally::default();
    let mut rounds = 0u32;
    let mut failures = Failures::new(policy.max_failed_polls);

    loop {
        let round = async {
            let Some(summary) = source.summary().await? else {
                return Ok(None);
            };
            if settled.as_ref() != Some(&summary) {
                let listed = source.list().await?;
                view.update(listed, &mut on_finished);
            }
            Ok::<_, FetchError>(Some(summary))
        };
        let result = match policy.deadline {
            Some(d) => match tokio::time::timeout_at(d, round).await {
                Ok(r) => r,
                Err(_) => return Ok(timed_out(view, tally, &failures)),
            },
            None => round.await,
        };
        rounds += 1;
        let now = Instant::now();
        let mut next_round = now + policy.schedule.delay(now - start, rng);

        if result.is_ok() {
            failures.answered();
        }
        let failure = match result {
            Ok(Some(summary)) => {
                tally = view.tally(&summary);
                on_round(Some(&tally), rounds);
                let endless = source.endless();
                if view.done(&summary) || endless {
                    return Ok(FleetOutcome {
                        entries: view.entries,
                        tally,
                        timed_out: false,
                        endless,
                        standing: failures.standing(),
                    });
                }
                let missing = view.missing();
                if !missing.is_empty() && now >= grace_end {
                    return Err(Error::NotFound(format!(
                        "no invocation of this command for {} after {}: check the instance IDs",
                        missing.join(", "),
                        crate::duration::human(now - start)
                    )));
                }
                settled = view.consistent_with(&summary).then_some(summary);
                if tally.finished > 0 {
                    // Once instances are finishing the end is near: keep rounds short (one call
                    // each while nothing changes) so the result follows the last one closely.
                    next_round = next_round.min(now + FINISHING_PAUSE.max(policy.schedule.min));
                }
                None
            }
            Ok(None) if now >= grace_end => return Err(source.never_visible(now - start)),
            Ok(None) => {
                on_round(None, rounds);
                next_round = next_round.min(grace_end);
                None
            }
            Err(e) => Some(failures.failed(e)?),
        };
        if let Some(message) = failure {
            tracing::debug!(%message, "round failed");
            next_round = next_round.max(now + failures.backoff(&policy.schedule));
        }
        if let Some(d) = policy.deadline
            && next_round >= d
        {
            tokio::time::sleep_until(d).await;
            return Ok(timed_out(view, tally, &failures));
        }
        tokio::time::sleep_until(next_round).await;
    }
}

fn timed_out(view: View<'_>, tally: Tally, failures: &Failures) -> FleetOutcome {
    FleetOutcome {
        entries: view.entries,
        tally,
        timed_out: true,
        endless: false,
        standing: failures.standing(),
    }
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
