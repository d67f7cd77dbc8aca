//! The wait loop: when to poll, how long "not found" means "not visible yet", when to give up.
//! It knows nothing of AWS or terminals. Time is tokio's, so tests run it on a paused clock.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, WaitStage};
use crate::model::{Invocation, Report};
use crate::provider::contract::{FetchError, Fetched};

/// What the loop waits on: one invocation, or anything else that ends (a maintenance window
/// execution with all its task invocations).
pub trait Observed {
    fn is_terminal(&self) -> bool;
    /// One line for the spinner and the log.
    fn status_line(&self) -> String;
}

impl Observed for Box<Invocation> {
    fn is_terminal(&self) -> bool {
        Invocation::is_terminal(self)
    }
    fn status_line(&self) -> String {
        Invocation::status_line(self)
    }
}

/// A set of results counts a periodic task as "stop here": it never ends by itself, so the
/// caller explains rather than waiting for ever.
impl Observed for Report {
    fn is_terminal(&self) -> bool {
        match self {
            Report::One(inv) => inv.is_terminal(),
            Report::Results(set) => set.is_terminal() || set.periodic().is_some(),
            Report::Listing(_) => true,
        }
    }
    fn status_line(&self) -> String {
        Report::status_line(self)
    }
}

/// Each pause is this share of the time waited so far: a command seen 5 % late at worst,
/// whatever its length, and a number of calls that grows with the logarithm of the wait
/// until the cap takes over. With the default 0.5 s minimum this keeps the pause at 0.5 s
/// for the first 10 s, so that commands ending within 10 s are seen within about half a
/// second (the benchmark's goal; a tenth missed it half of the time around 10 s).
const SHARE_OF_ELAPSED: f64 = 0.05;
/// Each pause is moved by up to ±10 %, so that many waiters started together spread out.
const JITTER: f64 = 0.2;

/// Short pauses first (the minimum holds for the first seconds, so that a command that ends
/// within about ten seconds is seen within about half a second), then growing with the time
/// waited, up to a cap, so that an hour-long command costs a few hundred calls.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub min: Duration,
    pub max: Duration,
}

impl Schedule {
    /// The pause before the next poll, `elapsed` after the wait started.
    pub fn delay(&self, elapsed: Duration, rng: &mut fastrand::Rng) -> Duration {
        let base = (elapsed.as_secs_f64() * SHARE_OF_ELAPSED)
            .clamp(self.min.as_secs_f64(), self.max.as_secs_f64());
        let jittered = base * (1.0 - JITTER / 2.0 + rng.f64() * JITTER);
        Duration::from_secs_f64(jittered).clamp(self.min, self.max)
    }

    /// The least pause after `failures` failed polls in a row: twice the minimum, doubling
    /// with each further failure, up to the cap.
    pub fn backoff(&self, failures: u32) -> Duration {
        self.min
            .saturating_mul(1u32 << failures.min(16))
            .min(self.max)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub schedule: Schedule,
    /// How long after the start "does not exist" is believed to mean "not visible yet".
    pub not_found_grace: Duration,
    /// When to give up (`--timeout`, counted by the caller from the start of the command).
    pub deadline: Option<Instant>,
    /// Polls in a row that may fail (each already retried by the SDK) before the wait ends.
    pub max_failed_polls: u32,
}

/// Polls in a row that may fail before a wait gives up, and what a failure means. Each poll is
/// already retried by the SDK (or the Alibaba client), and failing polls back off, so a few
/// span a real outage, not a blip. Shared by the single and the fleet wait.
#[derive(Debug)]
pub struct Failures {
    max: u32,
    in_a_row: u32,
    /// Whether the service has answered at all: until it has, a credential failure is a
    /// configuration problem; afterwards it is a refresh hiccup like any other failed poll.
    answered: bool,
    /// What the last failed look said.
    last: Option<String>,
}

impl Failures {
    pub fn new(max: u32) -> Failures {
        Failures {
            max,
            in_a_row: 0,
            answered: false,
            last: None,
        }
    }

    /// The service answered.
    pub fn answered(&mut self) {
        self.answered = true;
        self.in_a_row = 0;
    }

    /// A look that failed: what to report while going on, or the error that ends the wait.
    pub fn failed(&mut self, e: FetchError) -> Result<String, Error> {
        let message = match e {
            FetchError::Transient(message) => message,
            FetchError::Credentials(e) if self.answered => e.to_string(),
            FetchError::Credentials(e) | FetchError::Fatal(e) => return Err(e),
        };
        self.failed_with(message)
    }

    pub fn failed_with(&mut self, message: String) -> Result<String, Error> {
        self.in_a_row += 1;
        self.last = Some(message.clone());
        if self.in_a_row >= self.max {
            return Err(Error::Api(format!(
                "giving up after {} failed polls in a row: {message}",
                self.in_a_row
            )));
        }
        Ok(message)
    }

    /// How the looks stand: for the report of a wait whose time ran out.
    pub fn standing(&self) -> Standing {
        Standing {
            answered: self.answered,
            failing: match (self.in_a_row, &self.last) {
                (0, _) | (_, None) => None,
                (n, Some(last)) => Some((n, last.clone())),
            },
        }
    }

    /// The least pause before the next look: polling faster into throttling only prolongs it.
    pub fn backoff(&self, schedule: &Schedule) -> Duration {
        schedule.backoff(self.in_a_row)
    }
}

/// How a wait's looks stood when its time ran out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// Whether the service answered any look.
    pub answered: bool,
    /// The looks that failed in a row just before the deadline, and the last one's error.
    pub failing: Option<(u32, String)>,
}

impl Standing {
    /// Where the wait stood: `seen` (what the answers showed), unless nothing ever answered,
    /// with the failures that ended it named, so a timeout during an outage says so.
    pub fn describe(self, seen: WaitStage) -> WaitStage {
        match (self.answered, self.failing) {
            (false, Some((_, last))) => WaitStage::Failing(last),
            (false, None) => WaitStage::NoAnswer,
            (true, Some((n, last))) => WaitStage::ThenFailing(Box::new(seen), n, last),
            (true, None) => seen,
        }
    }
}

/// The last look at the deadline may take this long at most, so that `--timeout` stays a
/// promise even when the service is slow. Everything done past the deadline (the last look,
/// a multi-step invocation's steps, a fleet's last results) ends by [`overtime_end`].
pub const LAST_LOOK: Duration = Duration::from_millis(500);

/// When whatever still runs past `deadline` must have ended.
pub fn overtime_end(deadline: Instant) -> Instant {
    deadline + LAST_LOOK
}

/// What the loop tells the progress display after each poll.
#[derive(Debug)]
pub enum Event<'a, T> {
    Seen {
        state: &'a T,
        polls: u32,
        elapsed: Duration,
    },
    NotVisible {
        polls: u32,
        elapsed: Duration,
        grace: Duration,
    },
    PollFailed {
        message: &'a str,
        polls: u32,
        elapsed: Duration,
    },
}

#[derive(Debug)]
pub enum Outcome<T> {
    Terminal(T),
    /// `--timeout` passed; carries the last state seen, if any, and how the looks stood.
    TimedOut(Option<T>, Standing),
    /// Not found, and still not after the grace window: the caller says it in its cloud's
    /// words.
    NeverVisible {
        waited: Duration,
    },
}

pub async fn wait<T, F, Fut>(
    policy: &Policy,
    mut fetch: F,
    mut on_event: impl FnMut(Event<'_, T>),
    rng: &mut fastrand::Rng,
) -> Result<Outcome<T>, Error>
where
    T: Observed,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Fetched<T>, FetchError>>,
{
    let start = Instant::now();
    let grace_end = start + policy.not_found_grace;
    let mut polls = 0u32;
    let mut failures = Failures::new(policy.max_failed_polls);
    let mut last: Option<T> = None;

    loop {
        let result = match policy.deadline {
            Some(d) => match tokio::time::timeout_at(d, fetch()).await {
                Ok(r) => r,
                Err(_) => return Ok(timed_out(last, &failures)),
            },
            None => fetch().await,
        };
        polls += 1;
        let now = Instant::now();
        let elapsed = now - start;
        let mut next_poll = now + policy.schedule.delay(elapsed, rng);

        let failure = match result {
            Ok(Fetched::Found(state)) => {
                failures.answered();
                if state.is_terminal() {
                    return Ok(Outcome::Terminal(state));
                }
                on_event(Event::Seen {
                    state: &state,
                    polls,
                    elapsed,
                });
                last = Some(state);
                None
            }
            Ok(Fetched::NotVisible) if last.is_none() => {
                failures.answered();
                if now >= grace_end {
                    return Ok(Outcome::NeverVisible { waited: elapsed });
                }
                on_event(Event::NotVisible {
                    polls,
                    elapsed,
                    grace: policy.not_found_grace,
                });
                // Look once more right at the end of the grace window rather than after it.
                next_poll = next_poll.min(grace_end);
                None
            }
            // It was visible before: a lagging replica, not a verdict.
            Ok(Fetched::NotVisible) => Some(
                failures.failed_with("not found after the invocation had been seen".to_owned())?,
            ),
            Err(e) => Some(failures.failed(e)?),
        };

        if let Some(message) = failure {
            on_event(Event::PollFailed {
                message: &message,
                polls,
                elapsed,
            });
            next_poll = next_poll.max(now + failures.backoff(&policy.schedule));
        }

        if let Some(deadline) = policy.deadline
            && next_poll >= deadline
        {
            tokio::time::sleep_until(deadline).await;
            // One last look, so that a command that ended since the previous poll is reported
            // as ended rather than as still running.
            match tokio::time::timeout(LAST_LOOK, fetch()).await {
                Ok(Ok(Fetched::Found(invocation))) => {
                    if invocation.is_terminal() {
                        return Ok(Outcome::Terminal(invocation));
                    }
                    failures.answered();
                    last = Some(invocation);
                }
                // Invisible still: an answer, which ends a streak of failures.
                Ok(Ok(Fetched::NotVisible)) if last.is_none() => failures.answered(),
                _ => {}
            }
            return Ok(timed_out(last, &failures));
        }
        tokio::time::sleep_until(next_poll).await;
    }
}

fn timed_out<T>(last: Option<T>, failures: &Failures) -> Outcome<T> {
    Outcome::TimedOut(last, failures.standing())
}

#[cfg(test)]
#[path = "poll_tests.rs"]
mod tests;
