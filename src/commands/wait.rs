//! `ssmres wait`: poll until terminal, then print the result exactly as `get` would. A wait on
//! one thing (one instance) polls it here; a wait over a whole command or several instances
//! goes in rounds (wait_fleet.rs), and comes back here for an Alibaba Cloud periodic task.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;

use super::follow::{Follow, Followed};
use crate::cli::WaitArgs;
use crate::error::{Error, WaitStage, exit};
use crate::model::{Report, Stream};
use crate::poll::{self, Event, Outcome, Policy, Schedule};
use crate::progress::Progress;
use crate::provider::Cloud;
use crate::provider::contract::{FetchError, Fetched, Subject};
use crate::render::{OutputFormat, Shape};

/// Polls in a row that may fail before the wait gives up. Each poll is already retried by the
/// SDK (3 attempts with backoff by default) and failing polls back off, so five span a real
/// outage (15 s and more with the default intervals), not a blip.
const MAX_FAILED_POLLS: u32 = 5;

/// The poll policy the flags ask for, its deadline counted from now.
pub(super) fn policy(
    schedule: Schedule,
    not_found_grace: Duration,
    timeout: Option<Duration>,
) -> Result<Policy, Error> {
    if schedule.min > schedule.max {
        return Err(Error::Usage(
            "--min-interval must not be longer than --max-interval".into(),
        ));
    }
    Ok(Policy {
        schedule,
        not_found_grace,
        // --timeout is the user's budget for the whole command, credential look-up included.
        deadline: timeout.map(|t| Instant::now() + t),
        max_failed_polls: MAX_FAILED_POLLS,
    })
}

pub async fn run(ctx: &super::Context, args: &WaitArgs) -> Result<u8, Error> {
    let schedule = Schedule {
        min: args.min_interval,
        max: args.max_interval,
    };
    let policy = policy(schedule, args.not_found_grace, args.timeout)?;
    let cloud = ctx.connect(policy.deadline, args.timeout).await?;
    on(ctx, &cloud, &policy, args).await
}

/// The wait itself, on a cloud already connected: `run` waits this way for what it sent.
pub(super) async fn on(
    ctx: &super::Context,
    cloud: &Cloud,
    policy: &Policy,
    args: &WaitArgs,
) -> Result<u8, Error> {
    let subject = args.subject(ctx.cloud);
    match cloud.rounds(&subject) {
        Some(rounds) => super::wait_fleet::run(ctx, cloud, rounds, policy, args, &subject).await,
        None => one(ctx, cloud, policy, &subject, args, &BTreeSet::new()).await,
    }
}

/// Polls one thing until it ends and prints it; with `-o jsonl`, the results of instances in
/// `printed` (streamed already by a fleet wait that handed over) are left out.
pub(super) async fn one(
    ctx: &super::Context,
    cloud: &Cloud,
    policy: &Policy,
    subject: &Subject,
    args: &WaitArgs,
    printed: &BTreeSet<String>,
) -> Result<u8, Error> {
    let label = match subject.instances.as_slice() {
        [one] => one,
        _ => &subject.run_id,
    };
    // Followed lines are the progress report; a spinner would break them up.
    let progress = Progress::new(ctx.show_progress && !args.follow, label);
    let start = Instant::now();
    let look = || async {
        let look = cloud.look(subject).await?;
        // Some named instances answer, others never do: past the grace, that is an answer.
        if let Fetched::Found(Report::Results(set)) = &look
            && !set.missing.is_empty()
            && start.elapsed() >= policy.not_found_grace
        {
            return Err(FetchError::Fatal(Error::NotFound(format!(
                "no result for {} in invocation {} after {}: check the instance IDs",
                set.missing.join(", "),
                subject.run_id,
                crate::duration::human(start.elapsed())
            ))));
        }
        Ok(look)
    };
    let mut rng = fastrand::Rng::new();
    let waiting = poll::wait(
        policy,
        look,
        |event| {
            log(&event);
            progress.update(&event);
        },
        &mut rng,
    );
    let (outcome, followed) = match (args.follow, cloud.aws()) {
        (true, Some(aws)) => {
            let instances = subject.instances.iter().cloned().collect::<BTreeSet<_>>();
            let step = subject.step.as_deref();
            Follow::new(
                ctx,
                aws,
                &subject.run_id,
                Some(instances),
                step,
                policy.deadline,
            )
            .around(waiting)
            .await
        }
        _ => (waiting.await, Followed::default()),
    };
    progress.clear();
    // In text mode the followed lines were the result: not printed twice.
    let already_shown = args.follow && ctx.format == OutputFormat::Text && followed.streams > 0;
    let shape = Shape {
        single: subject.instances.len() == 1,
        outputs: true,
        ..Shape::default()
    };

    match outcome? {
        Outcome::Terminal(mut report) => {
            let verdict = report.verdict();
            let periodic = periodic_task(&report, subject);
            match &report {
                // CloudWatch may still be delivering the last lines when the settle ends.
                Report::One(invocation) if already_shown => print_rest(ctx, &followed, invocation)?,
                _ => {
                    leave_out(&mut report, printed, ctx.format);
                    ctx.print_full(cloud, &mut report, shape, args.full_output, policy.deadline)
                        .await?
                }
            }
            match periodic {
                Some(e) => Err(e),
                None => Ok(exit::of(verdict, true, args.remote_exit_code)),
            }
        }
        Outcome::TimedOut(last, standing) => {
            let seen = match last {
                Some(mut report) => {
                    // A document with several steps was followed through its listing: show
                    // each step as it stands, in the shape a finished one has.
                    if matches!(&report, Report::One(i) if i.status_only)
                        && let Some(deadline) = policy.deadline
                        && let Ok(Ok(now)) = tokio::time::timeout_at(
                            poll::overtime_end(deadline),
                            cloud.get(subject),
                        )
                        .await
                    {
                        report = now;
                    }
                    let seen = WaitStage::LastSeen(report.status_line());
                    leave_out(&mut report, printed, ctx.format);
                    ctx.print_full(cloud, &mut report, shape, args.full_output, policy.deadline)
                        .await?;
                    seen
                }
                None => WaitStage::NeverVisible,
            };
            Err(Error::Timeout(
                args.timeout.unwrap_or_default(),
                standing.describe(seen),
            ))
        }
        Outcome::NeverVisible { waited } => Err(cloud.never_visible(subject, waited)),
    }
}

/// A set of results holding a periodic task between two runs: the error that ends the wait.
pub(super) fn periodic_task(report: &Report, subject: &Subject) -> Option<Error> {
    let Report::Results(set) = report else {
        return None;
    };
    let periodic = set.periodic()?;
    Some(Error::Usage(format!(
        "{id} is a periodic task ({} on {}, {} runs so far): it runs again on its schedule and \
         never finishes, so there is nothing to wait for; the latest state is printed above; \
         `ssmres --provider aliyun list --invoke-id {id} --include-history` lists every run",
        periodic.status,
        periodic.instance_id,
        periodic.repeats.unwrap_or(0),
        id = subject.run_id,
    )))
}

/// Json lines already printed (a fleet wait streams each result as it ends) are not printed
/// again; every other format prints the set whole.
pub(super) fn leave_out(report: &mut Report, printed: &BTreeSet<String>, format: OutputFormat) {
    if let (Report::Results(set), OutputFormat::Jsonl) = (report, format) {
        set.results.retain(|r| !printed.contains(&r.instance_id));
    }
}

/// -v: one line per poll, without the invocation's output.
pub(super) fn log<T: poll::Observed>(event: &Event<'_, T>) {
    match event {
        Event::Seen {
            state,
            polls,
            elapsed,
        } => tracing::debug!(polls, ?elapsed, status = %state.status_line(), "poll"),
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
    let part = |stream: Stream, terminal: bool| -> Vec<u8> {
        // A document with several steps: their streams one after the other, as followed.
        let content: String = invocation.parts().iter().map(|p| p.text(stream)).collect();
        let rest = followed.rest(stream, &content).unwrap_or_default();
        if terminal {
            crate::render::sanitize::visible(&String::from_utf8_lossy(rest))
                .into_owned()
                .into_bytes()
        } else {
            rest.to_vec()
        }
    };
    crate::output::emit(&crate::render::Rendered {
        stdout: part(Stream::Stdout, ctx.console.stdout_is_terminal),
        stderr: part(Stream::Stderr, ctx.console.stderr_is_terminal),
    })
}
