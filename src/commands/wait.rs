//! `ssmres wait`: poll until terminal, then print the result exactly as `get` would. One
//! `--instance-id` waits for that invocation; none or several wait for a fleet (wait_fleet.rs).

use tokio::time::Instant;

use super::follow::Followed;
use crate::cli::OutputFormat;
use crate::cli::WaitArgs;
use crate::error::{Error, WaitStage, exit};
use crate::model::StatusClass;
use crate::poll::{self, Event, Outcome, Policy, Schedule};
use crate::progress::Progress;
use crate::provider::aws::AwsProvider;
use crate::provider::{InvocationKey, Provider};
use std::collections::BTreeSet;

/// Polls in a row that may fail before the wait gives up. Each poll is already retried by the
/// SDK (3 attempts with backoff by default) and failing polls back off, so five span a real
/// outage (15 s and more with the default intervals), not a blip.
pub(super) const MAX_FAILED_POLLS: u32 = 5;

/// How long, past the deadline, the steps of an unfinished multi-step invocation are looked up
/// for the timeout's report.
const LAST_STEPS: std::time::Duration = std::time::Duration::from_secs(2);

/// The poll policy the flags ask for, its deadline counted from now.
pub(super) fn policy(args: &WaitArgs) -> Result<Policy, Error> {
    if args.min_interval > args.max_interval {
        return Err(Error::Usage(
            "--min-interval must not be longer than --max-interval".into(),
        ));
    }
    Ok(Policy {
        schedule: Schedule {
            min: args.min_interval,
            max: args.max_interval,
        },
        not_found_grace: args.not_found_grace,
        // --timeout is the user's budget for the whole command, credential look-up included.
        deadline: args.timeout.map(|t| Instant::now() + t),
        max_failed_polls: MAX_FAILED_POLLS,
    })
}

pub async fn run(ctx: &super::Context, args: &WaitArgs) -> Result<u8, Error> {
    let policy = policy(args)?;
    let provider = super::connect(ctx, policy.deadline, args.timeout).await?;
    match args.instance_ids.as_slice() {
        [instance_id] => {
            let key = InvocationKey {
                command_id: args.aws_command_id().to_owned(),
                instance_id: instance_id.clone(),
                plugin_name: args.plugin_name.clone(),
            };
            one(ctx, &provider, &policy, &key, args).await
        }
        _ => super::wait_fleet::run(ctx, &provider, &policy, args).await,
    }
}

async fn one(
    ctx: &super::Context,
    provider: &AwsProvider,
    policy: &Policy,
    key: &InvocationKey,
    args: &WaitArgs,
) -> Result<u8, Error> {
    // Followed lines are the progress report; a spinner would break them up.
    let progress = Progress::new(ctx.show_progress && !args.follow, &key.instance_id);
    let mut rng = fastrand::Rng::new();
    let waiting = poll::wait(
        policy,
        || provider.fetch(key),
        |event| {
            log(&event);
            progress.update(&event);
        },
        &mut rng,
    );
    let (outcome, followed) = if args.follow {
        super::follow::Follow {
            ctx,
            provider,
            command_id: &key.command_id,
            instances: Some(BTreeSet::from([key.instance_id.clone()])),
            step: args.plugin_name.as_deref(),
            deadline: policy.deadline,
            shown: Default::default(),
            streams: Default::default(),
            seen: Default::default(),
        }
        .around(waiting)
        .await
    } else {
        (waiting.await, Followed::default())
    };
    progress.clear();
    // In text mode the followed lines were the result: not printed twice.
    let already_shown = args.follow && ctx.format == OutputFormat::Text && followed.streams > 0;

    match outcome? {
        Outcome::Terminal(mut invocation) => {
            if !already_shown {
                ctx.print_full(provider, &mut invocation, args.full_output, policy.deadline)
                    .await?;
            } else {
                // CloudWatch may still be delivering the last lines when the settle ends.
                print_rest(ctx, &followed, &invocation)?;
            }
            Ok(match invocation.class {
                _ if args.remote_exit_code => invocation.remote_exit_code(),
                StatusClass::Success => exit::SUCCESS,
                _ => exit::TERMINAL_FAILURE,
            })
        }
        Outcome::TimedOut(last) => {
            let stage = match last {
                Some(mut invocation) => {
                    // A document with several steps was followed through its listing: show
                    // each step as it stands, in the shape a finished one has.
                    if matches!(invocation.raw, crate::model::RawRecord::AwsListed(_))
                        && let Ok(Ok(crate::provider::Fetched::Found(now))) =
                            tokio::time::timeout(LAST_STEPS, provider.fetch_now(key)).await
                    {
                        invocation = now;
                    }
                    ctx.print_full(provider, &mut invocation, args.full_output, policy.deadline)
                        .await?;
                    WaitStage::LastSeen(invocation.status_line())
                }
                None => WaitStage::NeverVisible,
            };
            Err(Error::Timeout(args.timeout.unwrap_or_default(), stage))
        }
    }
}

/// -v: one line per poll, without the invocation's output.
pub(super) fn log<T: poll::Observed>(event: &Event<'_, T>) {
    match event {
        Event::Seen {
            state: invocation,
            polls,
            elapsed,
        } => tracing::debug!(polls, ?elapsed, status = %invocation.status_line(), "poll"),
        Event::NotVisible { polls, elapsed, .. } => {
            tracing::debug!(polls, ?elapsed, "poll: not visible yet")
        }
        Event::PollFailed {
            message,
            polls,
            elapsed,
        } => tracing::debug!(polls, ?elapsed, error = %message, "poll failed"),
    }
}

/// What following did not show of each stream (a tail delivered late, or everything after a
/// denial), from the result.
fn print_rest(
    ctx: &super::Context,
    followed: &Followed,
    invocation: &crate::model::Invocation,
) -> Result<(), Error> {
    use crate::provider::aws::output_sources::Stream;
    let part = |stream: Stream, content: &str, terminal: bool| -> Vec<u8> {
        let rest = followed.rest(stream, content).unwrap_or_default();
        if terminal {
            crate::render::sanitize::visible(&String::from_utf8_lossy(rest))
                .into_owned()
                .into_bytes()
        } else {
            rest.to_vec()
        }
    };
    // A document with several steps: their streams one after the other, as followed.
    let parts = invocation.parts();
    let stdout: String = parts.iter().map(|p| p.stdout()).collect();
    let stderr: String = parts.iter().map(|p| p.stderr()).collect();
    crate::output::emit(&crate::render::Rendered {
        stdout: part(Stream::Stdout, &stdout, ctx.target.stdout_is_terminal),
        stderr: part(Stream::Stderr, &stderr, ctx.target.stderr_is_terminal),
    })
}
