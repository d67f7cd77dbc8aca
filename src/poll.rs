//! The wait loop: when to poll, how long "not found" means "not visible yet", when to give up.
//! It knows nothing of AWS or terminals. Time is tokio's, so tests run it on a paused clock.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
use crate::model::Invocation;
use crate::provider::{FetchError, Fetched};

/// What the loop waits on: one invocation, or anything else that ends (a maintenance window
/// execution with all its task invocations).
pub trait Observed {
    fn is_terminal(&self) -> bool;
    /// One line for the spinner and the log.
    fn status_line(&self) -> String;
}

impl Observed for Invocation {
    fn is_terminal(&self) -> bool {
        Invocation::is_terminal(self)
    }
    fn status_line(&self) -> String {
        Invocation::status_line(self)
    }
}

/// An invocation's results on every instance. A periodic task counts as "stop here": it never
/// ends by itself, so the caller explains rather than waiting for ever.
impl Observed for crate::model::ResultSet {
    fn is_terminal(&self) -> bool {
        crate::model::ResultSet::is_terminal(self) || self.periodic().is_some()
    }
    fn status_line(&self) -> String {
        crate::model::ResultSet::status_line(self)
    }
}

impl<T: Observed> Observed for Box<T> {
    fn is_terminal(&self) -> bool {
        (**self).is_terminal()
    }
    fn status_line(&self) -> String {
        (**self).status_line()
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

/// The last look at the deadline may take this long at most, so that `--timeout` stays a
/// promise even when the service is slow.
const LAST_LOOK: Duration = Duration::from_secs(2);

/// What the loop tells the progress display after each poll.
#[derive(Debug)]
pub enum Event<'a, T = Box<Invocation>> {
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
pub enum Outcome<T = Box<Invocation>> {
    Terminal(T),
    /// `--timeout` passed; carries the last state seen, if any.
    TimedOut(Option<T>),
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
    let mut failed_in_a_row = 0u32;
    // Whether the service has answered at all: until it has, a credential failure is a
    // configuration problem; afterwards it is a refresh hiccup like any other failed poll.
    let mut answered = false;
    let mut last: Option<T> = None;

    loop {
        let result = match policy.deadline {
            Some(d) => match tokio::time::timeout_at(d, fetch()).await {
                Ok(r) => r,
                Err(_) => return Ok(Outcome::TimedOut(last)),
            },
            None => fetch().await,
        };
        polls += 1;
        let now = Instant::now();
        let elapsed = now - start;
        let mut next_poll = now + policy.schedule.delay(elapsed, rng);

        let failure = match result {
            Ok(Fetched::Found(invocation)) => {
                answered = true;
                failed_in_a_row = 0;
                if invocation.is_terminal() {
                    return Ok(Outcome::Terminal(invocation));
                }
                on_event(Event::Seen {
                    state: &invocation,
                    polls,
                    elapsed,
                });
                last = Some(invocation);
                None
            }
            Ok(Fetched::NotVisible) if last.is_none() => {
                answered = true;
                failed_in_a_row = 0;
                if now >= grace_end {
                    return Err(Error::NotFound(format!(
                        "invocation not found after {} (InvocationDoesNotExist): check the command ID, \
                         the instance ID and the region (--region), and that the command was sent to \
                         this instance; raise --not-found-grace if the service is slow to show it",
                        crate::duration::human(elapsed)
                    )));
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
            Ok(Fetched::NotVisible) => {
                Some("InvocationDoesNotExist after the invocation had been seen".to_owned())
            }
            Err(FetchError::Transient(message)) => Some(message),
            Err(FetchError::Credentials(e)) if answered => Some(e.to_string()),
            Err(FetchError::Credentials(e) | FetchError::Fatal(e)) => return Err(e),
        };

        if let Some(message) = failure {
            failed_in_a_row += 1;
            if failed_in_a_row >= policy.max_failed_polls {
                return Err(Error::Api(format!(
                    "giving up after {failed_in_a_row} failed polls in a row: {message}"
                )));
            }
            on_event(Event::PollFailed {
                message: &message,
                polls,
                elapsed,
            });
            // Back off while polls fail: polling faster into throttling only prolongs it, and
            // a few failures then span a real outage rather than a blip.
            next_poll = next_poll.max(now + policy.schedule.backoff(failed_in_a_row));
        }

        if let Some(deadline) = policy.deadline
            && next_poll >= deadline
        {
            tokio::time::sleep_until(deadline).await;
            // One last look, so that a command that ended since the previous poll is reported
            // as ended rather than as still running.
            if let Ok(Ok(Fetched::Found(invocation))) =
                tokio::time::timeout(LAST_LOOK, fetch()).await
            {
                if invocation.is_terminal() {
                    return Ok(Outcome::Terminal(invocation));
                }
                last = Some(invocation);
            }
            return Ok(Outcome::TimedOut(last));
        }
        tokio::time::sleep_until(next_poll).await;
    }
}

#[cfg(test)]
#[path = "poll_tests.rs"]
mod tests;
