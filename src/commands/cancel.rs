//! `wait --cancel-on-interrupt` / `--cancel-on-timeout`: stop what was waited on (CancelCommand,
//! StopInvocation), then show the state it reaches within a few seconds. Without the flags,
//! waiting only observes.

use std::io::Write;
use std::time::Duration;

use tokio::time::Instant;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::provider::Cloud;
use crate::provider::contract::{CloudKind, Options, Subject};
use crate::render::sanitize::one_line;

/// How long the state is watched after cancelling: agents act on a cancel within seconds, and
/// a user who pressed Ctrl-C does not want to wait much longer.
const WATCH: Duration = Duration::from_secs(5);
/// The whole cancel, the cancel call included: a slow or unreachable service must not hold the
/// run long past the Ctrl-C or the --timeout that asked for it.
const BUDGET: Duration = Duration::from_secs(10);
const WATCH_PAUSE: Duration = Duration::from_millis(500);

/// What a wait would cancel, and when.
#[derive(Debug, Clone)]
pub struct CancelPlan {
    pub on_interrupt: bool,
    pub on_timeout: bool,
    cloud: CloudKind,
    options: Options,
    /// None for `run` until its send is answered (`run::sent_subject`).
    subject: Option<Subject>,
}

impl CancelPlan {
    /// Only a `wait` (or `run`) with one of the flags has a plan.
    pub fn from_cli(cli: &Cli) -> Option<CancelPlan> {
        let (flags, subject) = match &cli.command {
            Command::Wait(args) => (&args.flags, Some(args.subject(cli.global.provider))),
            Command::Run(args) => (&args.wait, None),
            _ => return None,
        };
        if !flags.cancel_on_interrupt && !flags.cancel_on_timeout {
            return None;
        }
        Some(CancelPlan {
            on_interrupt: flags.cancel_on_interrupt,
            on_timeout: flags.cancel_on_timeout,
            cloud: cli.global.provider,
            options: cli.global.options(),
            subject,
        })
    }

    /// Cancels, says so, and reports the state reached. Failures are reported, not returned:
    /// the run ends with the code of what made it cancel (130 or 4) either way.
    pub async fn cancel(&self) {
        let Some(subject) = self.subject.clone().or_else(super::run::sent_subject) else {
            return say(match super::run::send_started() {
                // lib.rs has said how to check.
                true => "warning: could not cancel: the send had not been answered yet",
                false => "nothing to cancel: nothing was sent",
            });
        };
        let subject = &subject;
        let call = Cloud::cancel_call(self.cloud);
        let whom = if subject.instances.is_empty() {
            "every instance".to_owned()
        } else {
            subject.instances.join(", ")
        };
        say(&format!(
            "cancelling: sending {call} for {} on {whom}",
            subject.run_id
        ));
        let deadline = Instant::now() + BUDGET;
        let cloud = match within(deadline, Cloud::connect(self.cloud, &self.options)).await {
            None => return say("warning: could not cancel: no answer in time"),
            Some(Err(e)) => return say(&format!("warning: could not cancel: {e}")),
            Some(Ok(cloud)) => cloud,
        };
        match within(deadline, cloud.cancel(subject)).await {
            None => {
                return say(&format!(
                    "warning: {call} had no answer in time; it may not have been sent"
                ));
            }
            Some(Err(e)) => return say(&format!("warning: {call} failed: {}", Error::from(e))),
            Some(Ok(())) => say(&format!("cancelling: {call} accepted")),
        }
        let watch_end = (Instant::now() + WATCH).min(deadline);
        let mut last = String::new();
        loop {
            let mut done = false;
            if let Some(Ok(entries)) = within(watch_end, cloud.states(subject)).await {
                done = !entries.is_empty() && entries.iter().all(|e| e.class.is_terminal());
                last = if subject.instances.is_empty() && entries.len() > 3 {
                    crate::render::list::totals(&entries)
                } else {
                    entries
                        .iter()
                        .map(|e| format!("{} {}", e.instance_id, e.status_line()))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
            }
            if done || Instant::now() + WATCH_PAUSE >= watch_end {
                return report(&last, done);
            }
            tokio::time::sleep(WATCH_PAUSE).await;
        }
    }
}

fn say(line: &str) {
    // Never eprintln!, which panics when stderr is gone (a closed terminal after SIGHUP) and
    // would end the run before the cancel is sent.
    let _ = writeln!(std::io::stderr(), "{}", one_line(line));
}

/// The future's output, unless `deadline` comes first.
async fn within<T>(deadline: Instant, f: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::time::timeout_at(deadline, f).await.ok()
}

fn report(state: &str, done: bool) {
    match (state.is_empty(), done) {
        (true, _) => say("after cancelling: state unknown (the service did not answer)"),
        (false, true) => say(&format!("after cancelling: {state}")),
        (false, false) => say(&format!(
            "after cancelling: still {state} after {}s; the agent stops it when it next checks in",
            WATCH.as_secs()
        )),
    }
}
