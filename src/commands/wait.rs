//! `ssmres wait`: poll until terminal, then print the invocation exactly as `get` would.

use crate::cli::WaitArgs;
use crate::error::{Error, exit};
use crate::model::StatusClass;
use crate::poll::{self, Outcome, Policy, Schedule};
use crate::progress::Progress;
use crate::provider::Provider;
use crate::provider::aws::AwsProvider;

/// Polls in a row that may fail before the wait gives up. Each poll is already retried by the
/// SDK (3 attempts with backoff by default), so five mean a real outage, not a blip.
const MAX_FAILED_POLLS: u32 = 5;

pub async fn run(ctx: &super::Context, args: &WaitArgs) -> Result<u8, Error> {
    if args.min_interval > args.max_interval {
        return Err(Error::Usage(
            "--min-interval must not be longer than --max-interval".into(),
        ));
    }
    let policy = Policy {
        schedule: Schedule {
            min: args.min_interval,
            max: args.max_interval,
        },
        not_found_grace: args.not_found_grace,
        timeout: args.timeout,
        max_failed_polls: MAX_FAILED_POLLS,
    };
    let provider = AwsProvider::connect(&ctx.aws).await?;
    let key = super::key(&args.target);
    let progress = Progress::new(ctx.show_progress, &args.target.instance_id);
    let mut rng = fastrand::Rng::new();

    let outcome = poll::wait(
        &policy,
        || provider.fetch(&key),
        |event| {
            tracing::debug!(?event, "poll");
            progress.update(&event);
        },
        &mut rng,
    )
    .await;
    progress.clear();

    match outcome? {
        Outcome::Terminal(invocation) => {
            ctx.print(&invocation)?;
            Ok(match invocation.class {
                StatusClass::Success => exit::SUCCESS,
                _ => exit::TERMINAL_FAILURE,
            })
        }
        Outcome::TimedOut(last) => {
            let timeout = args.timeout.unwrap_or_default();
            if let Some(invocation) = last {
                ctx.print(&invocation)?;
                tracing::debug!(status = %invocation.status_line(), "last state at timeout");
            }
            Err(Error::Timeout(timeout))
        }
    }
}
