//! The end of a fleet wait on a cloud that prints its results as one set (Alibaba Cloud): what
//! `get` would print, byte for byte, from the results fetched one by one as instances ended.
//! With `-o jsonl` each result was printed as it came, so only what was not printed yet is.
//!
//! A wait that did not see every instance end prints what a wait on the whole set printed
//! before rounds: at `--timeout`, one last look at every result (the instances still running
//! included); on a periodic task between two runs, the wait on one thing takes over (wait.rs),
//! whose rule holds unchanged: a run in progress is waited for, `Scheduled` ends the wait.

use std::collections::BTreeSet;

use crate::cli::WaitArgs;
use crate::error::{Error, WaitStage, exit};
use crate::fleet::FleetOutcome;
use crate::model::{Report, ResultSet};
use crate::output;
use crate::poll::{self, Observed, Policy};
use crate::provider::Cloud;
use crate::provider::contract::{Fetched, Subject};
use crate::render::{self, OutputFormat, Rendered, Shape, json};

use super::wait::{leave_out, periodic_task};

/// What ending the wait needs.
pub(super) struct End<'a> {
    pub ctx: &'a super::Context,
    pub cloud: &'a Cloud,
    pub policy: &'a Policy,
    pub args: &'a WaitArgs,
    pub subject: &'a Subject,
}

/// The table shows each output after the rows, as `get` and a wait on one thing show them.
const SHAPE: Shape = Shape {
    single: false,
    spans: false,
    outputs: true,
    details: false,
};

impl End<'_> {
    pub(super) async fn finish(
        &self,
        outcome: FleetOutcome,
        fetched: ResultSet,
    ) -> Result<u8, Error> {
        let End {
            ctx,
            cloud,
            policy,
            args,
            subject,
        } = *self;
        let jsonl = ctx.format == OutputFormat::Jsonl;
        let printed: BTreeSet<String> = match jsonl {
            true => fetched
                .results
                .iter()
                .map(|r| r.instance_id.clone())
                .collect(),
            false => BTreeSet::new(),
        };
        let fetched = Report::Results(fetched);
        if jsonl {
            // Their lines are out; what they warn of goes with them.
            warn(&fetched)?;
        }
        if outcome.endless {
            return super::wait::one(ctx, cloud, policy, subject, args, &printed).await;
        }
        if !outcome.timed_out {
            print_whole(ctx, &fetched)?;
            return Ok(exit::of(fetched.verdict(), true, args.remote_exit_code));
        }
        // Time is up: one last look at every result, within the last moment, as a wait on the
        // whole set always took it.
        let look = cloud.look(subject);
        let last = match policy.deadline {
            Some(d) => tokio::time::timeout_at(poll::overtime_end(d), look)
                .await
                .ok(),
            None => Some(look.await),
        };
        let timeout = args.timeout.unwrap_or_default();
        let Some(Ok(Fetched::Found(mut report))) = last else {
            // No look in time: what was fetched, as it is.
            print_whole(ctx, &fetched)?;
            let seen = WaitStage::Finished(outcome.tally.finished, outcome.tally.total);
            return Err(Error::Timeout(timeout, outcome.standing.describe(seen)));
        };
        let verdict = report.verdict();
        let ended = report.is_terminal();
        let periodic = periodic_task(&report, subject);
        let seen = WaitStage::LastSeen(report.status_line());
        leave_out(&mut report, &printed, ctx.format);
        ctx.print(&report, SHAPE)?;
        match (ended, periodic) {
            // Everything ended in the last moment: a wait that ended.
            (true, Some(e)) => Err(e),
            (true, None) => Ok(exit::of(verdict, true, args.remote_exit_code)),
            (false, _) => Err(Error::Timeout(timeout, outcome.standing.describe(seen))),
        }
    }
}

/// The results fetched, as `get` prints them; json lines were printed as they came. json is
/// written as it is serialised: at ten thousand results, a copy of the document in memory
/// would weigh more than everything else the wait holds.
fn print_whole(ctx: &super::Context, report: &Report) -> Result<(), Error> {
    match (ctx.format, report) {
        (OutputFormat::Jsonl, _) => Ok(()),
        (OutputFormat::Json, Report::Results(set)) => {
            output::stream(|out| json::write_value(out, &*set.json()))?;
            warn(report)
        }
        _ => ctx.print(report, SHAPE),
    }
}

/// What the results warn of, on stderr, without printing them.
fn warn(report: &Report) -> Result<(), Error> {
    let Report::Results(set) = report else {
        return Ok(());
    };
    output::emit(&Rendered {
        stdout: Vec::new(),
        stderr: render::result_set::warning_lines(set),
    })
}
