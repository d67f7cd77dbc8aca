//! The spinner on stderr. Absent (every call a no-op) when stderr is not a terminal or with
//! --quiet, so pipes and CI logs never see it.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::duration::human;
use crate::poll::{Event, Observed};
use crate::render::sanitize::one_line;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(enabled: bool, what: &str) -> Self {
        if !enabled {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} · {elapsed} waited") {
            bar.set_style(style);
        }
        bar.set_message(format!("{what}: first poll"));
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    /// A bar for a fleet: finished of total, failed so far.
    pub fn new_fleet(enabled: bool) -> Self {
        let progress = Progress::new(enabled, "command");
        if let Some(bar) = &progress.bar
            && let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} finished · {msg} · {elapsed} waited",
            )
        {
            bar.set_style(style.progress_chars("=> "));
            bar.set_message("waiting for the command to appear");
        }
        progress
    }

    pub fn fleet(&self, tally: Option<&crate::fleet::Tally>) {
        if let Some(bar) = &self.bar {
            match tally {
                Some(t) => {
                    bar.set_length(t.total as u64);
                    bar.set_position(t.finished as u64);
                    bar.set_message(format!("{} failed", t.failed));
                }
                None => bar.set_message("command not visible yet"),
            }
        }
    }

    pub fn update<T: Observed>(&self, event: &Event<'_, T>) {
        if let Some(bar) = &self.bar {
            bar.set_message(message(event));
        }
    }

    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

fn polls(n: u32) -> String {
    if n == 1 {
        "1 poll".into()
    } else {
        format!("{n} polls")
    }
}

/// One line: state and polls so far; the spinner template adds the time waited, which ticks
/// on between polls. Remote text is sanitised like everything else.
pub fn message<T: Observed>(event: &Event<'_, T>) -> String {
    match event {
        Event::Seen {
            state: invocation,
            polls: n,
            ..
        } => format!("{} · {}", one_line(&invocation.status_line()), polls(*n)),
        Event::NotVisible {
            polls: n,
            elapsed,
            grace,
        } => format!(
            "not visible yet ({} of grace left) · {}",
            human(grace.saturating_sub(*elapsed)),
            polls(*n)
        ),
        Event::PollFailed {
            message, polls: n, ..
        } => format!(
            "poll failed, will retry: {} · {}",
            one_line(message),
            polls(*n)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Invocation;
    use crate::provider::aws::record::CommandInvocation;

    #[test]
    fn messages_say_state_time_and_polls() {
        let inv = Box::new(
            CommandInvocation {
                status: Some("InProgress".into()),
                status_details: Some("In Progress".into()),
                ..Default::default()
            }
            .into_invocation(),
        );
        let m = message(&Event::Seen {
            state: &inv,
            polls: 4,
            elapsed: Duration::from_secs(12),
        });
        assert_eq!(m, "InProgress (In Progress) · 4 polls");
        let m = message::<Box<Invocation>>(&Event::NotVisible {
            polls: 1,
            elapsed: Duration::from_millis(300),
            grace: Duration::from_secs(30),
        });
        assert!(
            m.starts_with("not visible yet")
                && m.contains("29s of grace left")
                && m.ends_with("1 poll"),
            "{m}"
        );
        let m = message::<Box<Invocation>>(&Event::PollFailed {
            message: "boom\x1b[2J",
            polls: 2,
            elapsed: Duration::from_secs(1),
        });
        assert!(m.contains("boom\\x1b[2J"), "remote text is sanitised: {m}");
    }
}
