//! `wait --cancel-on-interrupt` / `--cancel-on-timeout`: stop what was waited on, then show
//! the state it reaches within a few seconds. Without the flags, waiting only observes.

use std::time::Duration;

use tokio::time::Instant;

use crate::cli::{Cli, Command, ProviderKind};
use crate::model::Invocation;
use crate::provider::aliyun::{AliyunOptions, AliyunProvider, ResultsQuery};
use crate::provider::aws::{AwsOptions, AwsProvider, ListQuery};
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
pub struct Plan {
    pub on_interrupt: bool,
    pub on_timeout: bool,
    target: Target,
}

#[derive(Debug, Clone)]
enum Target {
    Aws {
        options: AwsOptions,
        command_id: String,
        /// Empty: every instance of the command.
        instance_ids: Vec<String>,
    },
    Aliyun {
        options: AliyunOptions,
        invoke_id: String,
        instance_ids: Vec<String>,
    },
}

impl Plan {
    /// Only a `wait` with one of the flags has a plan.
    pub fn from_cli(cli: &Cli) -> Option<Plan> {
        let Command::Wait(args) = &cli.command else {
            return None;
        };
        if !args.cancel_on_interrupt && !args.cancel_on_timeout {
            return None;
        }
        let g = &cli.global;
        let target = match g.provider {
            ProviderKind::Aws => Target::Aws {
                options: AwsOptions {
                    region: g.region.clone(),
                    profile: g.profile.clone(),
                    endpoint_url: g.endpoint_url.clone(),
                },
                command_id: args.command_id.clone()?,
                instance_ids: args.instance_ids.clone(),
            },
            ProviderKind::Aliyun => Target::Aliyun {
                options: AliyunOptions {
                    region: g.region.clone(),
                    profile: g.profile.clone(),
                    endpoint_url: g.endpoint_url.clone(),
                },
                invoke_id: args.invoke_id.clone()?,
                instance_ids: args.instance_ids.clone(),
            },
        };
        Some(Plan {
            on_interrupt: args.cancel_on_interrupt,
            on_timeout: args.cancel_on_timeout,
            target,
        })
    }

    /// Cancels, says so, and reports the state reached. Failures are reported, not returned:
    /// the run ends with the code of what made it cancel (130 or 4) either way.
    pub async fn cancel(&self) {
        match &self.target {
            Target::Aws {
                options,
                command_id,
                instance_ids,
            } => cancel_aws(options, command_id, instance_ids).await,
            Target::Aliyun {
                options,
                invoke_id,
                instance_ids,
            } => cancel_aliyun(options, invoke_id, instance_ids).await,
        }
    }
}

fn say(line: &str) {
    eprintln!("{}", one_line(line));
}

fn on_whom(instance_ids: &[String]) -> String {
    if instance_ids.is_empty() {
        "every instance".to_owned()
    } else {
        instance_ids.join(", ")
    }
}

async fn cancel_aws(options: &AwsOptions, command_id: &str, instance_ids: &[String]) {
    say(&format!(
        "cancelling: sending CancelCommand for {command_id} on {}",
        on_whom(instance_ids)
    ));
    let deadline = Instant::now() + BUDGET;
    let Some(provider) = within(deadline, AwsProvider::connect(options)).await else {
        return say("warning: could not cancel: no answer in time");
    };
    let provider = match provider {
        Ok(p) => p,
        Err(e) => return say(&format!("warning: could not cancel: {e}")),
    };
    match within(deadline, provider.cancel_command(command_id, instance_ids)).await {
        None => {
            return say("warning: CancelCommand had no answer in time; it may not have been sent");
        }
        Some(Err(e)) => return say(&format!("warning: CancelCommand failed: {}", message(e))),
        Some(Ok(())) => say("cancelling: CancelCommand accepted"),
    }
    let watch_end = (Instant::now() + WATCH).min(deadline);
    // One listing of the command gives every instance's state (50 per call).
    let query = ListQuery {
        command_id: command_id.to_owned(),
        instance_id: match instance_ids {
            [one] => Some(one.clone()),
            _ => None,
        },
        details: false,
        max_items: None,
    };
    let mut last = String::new();
    loop {
        let mut done = false;
        if let Some(Ok(listed)) = within(watch_end, provider.list_invocations(&query)).await {
            let entries: Vec<_> = listed
                .into_iter()
                .map(|l| l.into_entry())
                .filter(|e| instance_ids.is_empty() || instance_ids.contains(&e.instance_id))
                .collect();
            done = !entries.is_empty() && entries.iter().all(|e| e.class.is_terminal());
            last = if instance_ids.is_empty() && entries.len() > 3 {
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

async fn cancel_aliyun(options: &AliyunOptions, invoke_id: &str, instance_ids: &[String]) {
    say(&format!(
        "cancelling: sending StopInvocation for {invoke_id} on {}",
        on_whom(instance_ids)
    ));
    let deadline = Instant::now() + BUDGET;
    let provider = match AliyunProvider::connect(options) {
        Ok(p) => p,
        Err(e) => return say(&format!("warning: could not stop the invocation: {e}")),
    };
    match within(deadline, provider.stop_invocation(invoke_id, instance_ids)).await {
        None => {
            return say("warning: StopInvocation had no answer in time; it may not have been sent");
        }
        Some(Err(e)) => return say(&format!("warning: StopInvocation failed: {}", message(e))),
        Some(Ok(())) => say("cancelling: StopInvocation accepted"),
    }
    let watch_end = (Instant::now() + WATCH).min(deadline);
    let query = ResultsQuery {
        invoke_id: Some(invoke_id.to_owned()),
        ..Default::default()
    };
    let mut last = String::new();
    loop {
        let mut done = false;
        if let Some(Ok(mut set)) = within(watch_end, provider.results(&query)).await {
            if !instance_ids.is_empty() {
                set.results
                    .retain(|r| instance_ids.contains(&r.instance_id));
            }
            done = set.is_terminal();
            last = set
                .results
                .iter()
                .map(|r: &Invocation| format!("{} {}", r.instance_id, r.status))
                .collect::<Vec<_>>()
                .join(", ");
        }
        if done || Instant::now() + WATCH_PAUSE >= watch_end {
            return report(&last, done);
        }
        tokio::time::sleep(WATCH_PAUSE).await;
    }
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

fn message(e: crate::provider::FetchError) -> String {
    match e {
        crate::provider::FetchError::Transient(m) => m,
        crate::provider::FetchError::Credentials(e) | crate::provider::FetchError::Fatal(e) => {
            e.to_string()
        }
    }
}
