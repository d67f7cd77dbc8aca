//! `wait --follow`: runs the follower's rounds (follow.rs) beside the wait, about one a second,
//! and keeps going after the end until the streams stop growing, since CloudWatch Logs
//! delivery trails the invocation's status.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hasher};
use std::io::{self, Write};
use std::time::Duration;

use tokio::time::Instant;

use crate::model::Stream;
use crate::provider::aws::AwsProvider;
use crate::provider::aws::follow::{Follower, Line};
use crate::provider::aws::output::{LogGroup, ReadError};
use crate::provider::contract::FetchError;
use crate::render::{OutputFormat, sanitize};

/// Between the starts of two rounds.
const ROUND_EVERY: Duration = Duration::from_secs(1);
/// Rounds between two listings of the streams once some are known.
const LIST_EVERY: u32 = 5;
/// After the end, rounds go on until this many in a row bring nothing new...
const SETTLE_QUIET_ROUNDS: u32 = 2;
/// ...or this long has passed since the end (or --timeout is reached), whichever comes first.
const SETTLE_AT_MOST: Duration = Duration::from_secs(10);

/// What following showed, for the caller's decision to print the result again.
#[derive(Debug, Default, Clone)]
pub struct Followed {
    /// At least one stream was read: in text mode the followed lines are the result.
    pub streams: usize,
    /// Following stopped before the end (reading was denied part-way).
    pub cut_short: bool,
    /// The instances whose output was followed (at least one stream read).
    pub instances: BTreeSet<String>,
    /// One instance followed: how much of its stdout and stderr was shown, and a hash of it.
    shown: [(usize, u64); 2],
}

impl Followed {
    /// The part of the final `content` of `stream` not shown yet, when what was shown is its
    /// beginning (one instance): lines CloudWatch delivered too late for the settle, or never
    /// read after a denial. Every line once, none skipped.
    pub fn rest<'c>(&self, stream: Stream, content: &'c str) -> Option<&'c [u8]> {
        let (bytes, hash) = self.shown[stream as usize];
        let head = content.as_bytes().get(..bytes)?;
        let mut hasher = DefaultHasher::new();
        hasher.write(head);
        (hasher.finish() == hash).then(|| &content.as_bytes()[bytes..])
    }
}

pub struct Follow<'a> {
    ctx: &'a super::Context,
    provider: &'a AwsProvider,
    command_id: &'a str,
    /// None: every instance of the command.
    instances: Option<BTreeSet<String>>,
    /// --plugin-name: that step's streams only.
    step: Option<&'a str>,
    /// --timeout: the settle after the end stops there too.
    deadline: Option<Instant>,
    /// What was shown of each stream (one instance): bytes and a running hash.
    shown: RefCell<[(usize, DefaultHasher); 2]>,
    /// Streams known after the last round, for a settle cut off mid-round.
    streams: Cell<usize>,
    /// Instances that have shown a stream, likewise.
    seen: RefCell<BTreeSet<String>>,
}

impl<'a> Follow<'a> {
    /// Following `instances` of `command_id` (None: every one), `step` or every step.
    pub fn new(
        ctx: &'a super::Context,
        provider: &'a AwsProvider,
        command_id: &'a str,
        instances: Option<BTreeSet<String>>,
        step: Option<&'a str>,
        deadline: Option<Instant>,
    ) -> Self {
        Follow {
            ctx,
            provider,
            command_id,
            instances,
            step,
            deadline,
            shown: Default::default(),
            streams: Default::default(),
            seen: Default::default(),
        }
    }

    /// Runs `waiting` to its end while following, then lets the streams settle. Returns the
    /// wait's result and what was followed.
    pub async fn around<T>(self, waiting: impl std::future::Future<Output = T>) -> (T, Followed) {
        let ended = Cell::new(None::<Instant>);
        let following = self.rounds(&ended);
        tokio::pin!(following);
        tokio::pin!(waiting);
        // Following may stop early (no CloudWatch output, denied): the wait goes on alone.
        let (result, early) = tokio::select! {
            result = &mut waiting => (result, None),
            followed = &mut following => (waiting.await, Some(followed)),
        };
        if let Some(followed) = early {
            return (result, followed);
        }
        let now = Instant::now();
        ended.set(Some(now));
        // The settle ends at its cap or --timeout even with a call in flight (a Logs endpoint
        // that does not answer): what was shown stays shown, and the rest comes from the
        // result.
        let limit = self
            .deadline
            .map_or(now + SETTLE_AT_MOST, |d| d.min(now + SETTLE_AT_MOST));
        let followed = match tokio::time::timeout_at(limit, &mut following).await {
            Ok(followed) => followed,
            Err(_) => self.snapshot(false),
        };
        (result, followed)
    }

    async fn rounds(&self, ended: &Cell<Option<Instant>>) -> Followed {
        let prefix = self.instances.as_ref().is_none_or(|set| set.len() > 1);
        let mut follower =
            Follower::new(self.command_id, self.instances.clone()).only_step(self.step);
        let mut logs: Option<LogGroup> = None;
        let mut quiet = 0;
        let mut rounds: u32 = 0;
        loop {
            let started = Instant::now();
            if logs.is_none() {
                match self.provider.command_logs(self.command_id).await {
                    Ok(Some(found)) => match found.group {
                        Some(group) => {
                            let what = format!("CloudWatch Logs group {group}");
                            logs = Some(LogGroup::new(self.provider.sdk_config(), &group, what));
                        }
                        None => {
                            warn(
                                "--follow: the command was sent without CloudWatch output \
                                 (CloudWatchOutputConfig); waiting without following",
                            );
                            return Followed::default();
                        }
                    },
                    // Not listed yet (eventual consistency) or a passing failure: next round.
                    Ok(None) | Err(FetchError::Transient(_)) => {}
                    Err(FetchError::Credentials(e)) | Err(FetchError::Fatal(e)) => {
                        warn(&format!(
                            "--follow: cannot tell where the output goes ({e}); waiting without \
                             following"
                        ));
                        return Followed::default();
                    }
                }
            }
            // A round that failed says nothing about the streams having stopped growing.
            let mut new = None;
            if let Some(source) = &logs {
                let mut emit = |line: Line<'_>| self.print(line, prefix);
                // New streams (a later step, another instance of a whole command) are looked
                // for every fifth round once every instance followed has shown one (for a
                // whole command: once any stream is known); every round before that and after
                // the end.
                let list = !follower.every_instance_seen()
                    || rounds.is_multiple_of(LIST_EVERY)
                    || ended.get().is_some();
                rounds += 1;
                let settling = ended.get().is_some();
                let result = follower.round(source, list, settling, &mut emit).await;
                self.streams.set(follower.streams());
                *self.seen.borrow_mut() = follower.instances_seen();
                match result {
                    Ok(n) => new = Some(n),
                    Err(ReadError::Denied(m)) if follower.streams() == 0 => {
                        warn(&format!(
                            "--follow: reading the output was denied ({m}); waiting without \
                             following"
                        ));
                        return Followed::default();
                    }
                    // Lines already shown are not shown again at the end: following stops
                    // here, and the warning says where the rest is.
                    Err(ReadError::Denied(m)) => {
                        warn(&format!(
                            "--follow: reading the output was denied part-way ({m}); the rest \
                             comes from the result at the end"
                        ));
                        return self.followed(&follower, true);
                    }
                    // No group yet: the agent creates it with the first output, so a command
                    // that printed nothing has none. Nothing new, as far as the settle goes.
                    Err(ReadError::Missing(_)) => new = Some(0),
                    Err(ReadError::Output(_)) => {}
                    // Throttling and the like pass: next round.
                    Err(e) => tracing::debug!(error = %e.message(), "follow round"),
                }
            }
            if let Some(end) = ended.get() {
                // Only a round that started after the end says the streams stopped growing.
                quiet = if new == Some(0) && started >= end {
                    quiet + 1
                } else {
                    0
                };
                let out_of_time = end.elapsed() >= SETTLE_AT_MOST
                    || self.deadline.is_some_and(|d| Instant::now() >= d);
                if quiet >= SETTLE_QUIET_ROUNDS || out_of_time {
                    return self.followed(&follower, false);
                }
            }
            tokio::time::sleep_until(started + ROUND_EVERY).await;
        }
    }

    fn followed(&self, follower: &Follower, cut_short: bool) -> Followed {
        self.streams.set(follower.streams());
        *self.seen.borrow_mut() = follower.instances_seen();
        self.snapshot(cut_short)
    }

    /// What was shown so far, from what `print` and the rounds recorded.
    fn snapshot(&self, cut_short: bool) -> Followed {
        let shown = self.shown.borrow();
        Followed {
            streams: self.streams.get(),
            cut_short,
            instances: self.seen.borrow().clone(),
            shown: [
                (shown[0].0, shown[0].1.finish()),
                (shown[1].0, shown[1].1.finish()),
            ],
        }
    }

    /// One followed line: in text mode on its own stream, otherwise on stderr (stdout is for
    /// the result); prefixed by the instance when several are followed; made visible on a
    /// terminal.
    fn print(&self, line: Line<'_>, prefix: bool) {
        let to_stdout = self.ctx.format == OutputFormat::Text && line.stream == Stream::Stdout;
        let terminal = if to_stdout {
            self.ctx.console.stdout_is_terminal
        } else {
            self.ctx.console.stderr_is_terminal
        };
        if !prefix {
            let mut shown = self.shown.borrow_mut();
            let (bytes, hasher) = &mut shown[line.stream as usize];
            *bytes += line.text.len();
            hasher.write(line.text.as_bytes());
        }
        let text = if prefix {
            format!("[{}] {}", line.instance, line.text)
        } else {
            line.text.to_owned()
        };
        let shown = if terminal {
            sanitize::visible(&text).into_owned()
        } else {
            text
        };
        // A closed pipe ends nothing here: the wait and its exit code still matter.
        let _ = if to_stdout {
            io::stdout().lock().write_all(shown.as_bytes())
        } else {
            io::stderr().lock().write_all(shown.as_bytes())
        };
    }
}

fn warn(message: &str) {
    let _ = writeln!(
        io::stderr().lock(),
        "warning: {}",
        sanitize::one_line(message)
    );
}
