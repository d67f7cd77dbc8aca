//! `wait --follow`: the command's output while it runs, from the CloudWatch Logs streams the
//! agent writes as it goes (`<command id>/<instance id>/<step>/stdout|stderr`).
//!
//! A follower is rounds: each round lists the command's streams (new ones appear as later steps
//! start) and reads every known stream from its forward token to its current end, every page.
//! The token only moves on once a page has been emitted, so a failed read is retried from the
//! same place: no line twice, none skipped. Rounds are driven from outside (about one a second
//! while waiting, then until the streams stop growing), so this file has no clock of its own.

use std::collections::{BTreeMap, BTreeSet};

use super::output::ReadError;
use super::output::logs::LogSource;
use crate::model::Stream;

/// A page this full means the stream is behind: read on within the round.
const BACKLOG_EVENTS: usize = 500;
const BACKLOG_BYTES: usize = 256 * 1024;

/// A line for the terminal: whose, which stream, and its text with its newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub instance: &'a str,
    pub stream: Stream,
    pub text: &'a str,
}

/// What is known of one stream.
#[derive(Debug, Clone)]
struct Tail {
    instance: String,
    stream: Stream,
    created: i64,
    token: Option<String>,
    /// Rounds in a row that brought nothing.
    idle_rounds: u32,
}

pub struct Follower {
    command_id: String,
    /// None: every instance of the command.
    instances: Option<BTreeSet<String>>,
    /// None: every step.
    step: Option<String>,
    tails: BTreeMap<String, Tail>,
    round_no: u64,
}

/// `<command id>/<instance id>/<step>/stdout` → (instance id, step, stdout).
fn parse_name<'a>(command_id: &str, name: &'a str) -> Option<(&'a str, &'a str, Stream)> {
    let rest = name.strip_prefix(command_id)?.strip_prefix('/')?;
    let (instance, rest) = rest.split_once('/')?;
    let (step, which) = rest.rsplit_once('/')?;
    if instance.is_empty() || step.is_empty() {
        return None;
    }
    let stream = match which {
        "stdout" => Stream::Stdout,
        "stderr" => Stream::Stderr,
        _ => return None,
    };
    Some((instance, step, stream))
}

impl Follower {
    pub fn new(command_id: &str, instances: Option<BTreeSet<String>>) -> Self {
        Follower {
            command_id: command_id.to_owned(),
            instances,
            step: None,
            tails: BTreeMap::new(),
            round_no: 0,
        }
    }

    /// Only this step (--plugin-name), as the agent writes it into stream names (`:` and `*`
    /// become `-`).
    pub fn only_step(mut self, plugin: Option<&str>) -> Self {
        self.step = plugin.map(|p| p.replace([':', '*'], "-"));
        self
    }

    /// Streams known so far.
    pub fn streams(&self) -> usize {
        self.tails.len()
    }

    /// The instances that have shown a stream.
    pub fn instances_seen(&self) -> BTreeSet<String> {
        self.tails.values().map(|t| t.instance.clone()).collect()
    }

    /// Every instance named has shown a stream; for a whole command, whose instances are not
    /// known in advance, any stream at all (later ones are found by the sparser listing).
    pub fn every_instance_seen(&self) -> bool {
        match &self.instances {
            Some(set) => set
                .iter()
                .all(|i| self.tails.values().any(|t| &t.instance == i)),
            None => !self.tails.is_empty(),
        }
    }

    /// One round: new streams picked up (when `list` says so: listing every round would cost
    /// a call a second for streams that rarely change), then the streams read (quiet ones
    /// less often, unless `read_all`: the settle after the end). Emits each
    /// event's lines in stream order (streams in creation order); returns how many events
    /// were new. A failed call ends the round early; what was emitted stays emitted and the
    /// next round goes on from there.
    pub async fn round(
        &mut self,
        source: &impl LogSource,
        list: bool,
        read_all: bool,
        emit: &mut dyn FnMut(Line<'_>),
    ) -> Result<usize, ReadError> {
        if list {
            self.list(source).await?;
        }
        self.read(source, read_all, emit).await
    }

    async fn list(&mut self, source: &impl LogSource) -> Result<(), ReadError> {
        let prefix = match &self.instances {
            Some(set) if set.len() == 1 => {
                format!(
                    "{}/{}/",
                    self.command_id,
                    set.iter().next().map_or("", |s| s)
                )
            }
            _ => format!("{}/", self.command_id),
        };
        for s in source.streams(&prefix).await? {
            if self.tails.contains_key(&s.name) {
                continue;
            }
            let Some((instance, step, stream)) = parse_name(&self.command_id, &s.name) else {
                continue;
            };
            if self.step.as_deref().is_some_and(|only| only != step) {
                continue;
            }
            if self
                .instances
                .as_ref()
                .is_some_and(|set| !set.contains(instance))
            {
                continue;
            }
            let tail = Tail {
                instance: instance.to_owned(),
                stream,
                created: s.created,
                token: None,
                idle_rounds: 0,
            };
            self.tails.insert(s.name, tail);
        }
        Ok(())
    }

    /// Each stream from its token: one page a round while output trickles in (the next round
    /// goes on from the new token, so an active stream costs one call a second, not two), more
    /// while a backlog or an empty page that is not the end says there is more to read now.
    async fn read(
        &mut self,
        source: &impl LogSource,
        all: bool,
        emit: &mut dyn FnMut(Line<'_>),
    ) -> Result<usize, ReadError> {
        let mut order: Vec<(i64, String)> = self
            .tails
            .iter()
            .map(|(name, t)| (t.created, name.clone()))
            .collect();
        order.sort();
        let mut new_events = 0;
        let mut first_error = None;
        self.round_no += 1;
        for (_, name) in order {
            // A stream quiet for a while is read less often (every 2, 4, then 8 rounds): a
            // finished step or instance should not cost a call a second, against an account
            // limit of a few dozen GetLogEvents a second. `all` (the settle) reads every one.
            if let Some(tail) = self.tails.get(&name) {
                let every = 1u64 << tail.idle_rounds.min(3);
                if !all && !self.round_no.is_multiple_of(every) {
                    continue;
                }
            }
            while let Some(tail) = self.tails.get(&name) {
                // A failure on one stream does not starve the others: the round goes on and
                // reports the first failure at its end; this stream resumes from its token.
                let page = match source.page(&name, tail.token.as_deref()).await {
                    Ok(page) => page,
                    Err(e) => {
                        first_error.get_or_insert(e);
                        break;
                    }
                };
                for message in &page.messages {
                    emit_lines(&tail.instance, tail.stream, message, emit);
                }
                new_events += page.messages.len();
                let end = page.next_token.is_none() || page.next_token == tail.token;
                let backlog = page.messages.len() >= BACKLOG_EVENTS
                    || page.messages.iter().map(String::len).sum::<usize>() >= BACKLOG_BYTES;
                let more_now = !end && (page.messages.is_empty() || backlog);
                if let Some(tail) = self.tails.get_mut(&name) {
                    tail.idle_rounds = if page.messages.is_empty() {
                        tail.idle_rounds.saturating_add(1)
                    } else {
                        0
                    };
                    if page.next_token.is_some() {
                        tail.token = page.next_token;
                    }
                }
                if !more_now {
                    break;
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(new_events),
        }
    }
}

/// An event is whole lines (the agent drops the newline of an event built after the command
/// ended): each line is emitted with its newline.
fn emit_lines(instance: &str, stream: Stream, message: &str, emit: &mut dyn FnMut(Line<'_>)) {
    let mut rest = message;
    while !rest.is_empty() {
        let (line, after) = match rest.find('\n') {
            Some(i) => rest.split_at(i + 1),
            None => (rest, ""),
        };
        if line.ends_with('\n') {
            emit(Line {
                instance,
                stream,
                text: line,
            });
        } else {
            let whole = format!("{line}\n");
            emit(Line {
                instance,
                stream,
                text: &whole,
            });
        }
        rest = after;
    }
    if message.is_empty() {
        emit(Line {
            instance,
            stream,
            text: "\n",
        });
    }
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
