//! `get`, `wait` and `list` with `--provider aliyun`: an invocation's results on every
//! instance, from DescribeInvocationResults. The poll loop (poll.rs) and the renderers are the
//! ones the AWS side uses; this file only wires the flags to them.

use std::collections::BTreeSet;

use tokio::time::Instant;

use crate::cli::{InvocationArgs, ListArgs, WaitArgs};
use crate::error::{Error, WaitStage, exit};
use crate::model::ResultSet;
use crate::output;
use crate::poll::{self, Outcome};
use crate::progress::Progress;
use crate::provider::aliyun::{AliyunProvider, ResultsQuery};
use crate::provider::{FetchError, Fetched};
use crate::render::result_set;

fn into_error(e: FetchError) -> Error {
    match e {
        FetchError::Transient(m) => Error::Api(format!("{m} (after retries)")),
        FetchError::Credentials(e) | FetchError::Fatal(e) => e,
    }
}

/// Required by `cli::command(Aliyun)`; checked again rather than trusted.
fn invoke_id(id: &Option<String>) -> Result<&str, Error> {
    id.as_deref()
        .ok_or_else(|| Error::Usage("--invoke-id is required with --provider aliyun".into()))
}

pub async fn get(ctx: &super::Context, args: &InvocationArgs) -> Result<u8, Error> {
    let invoke_id = invoke_id(&args.invoke_id)?;
    let provider = AliyunProvider::connect(&ctx.aliyun)?;
    let query = ResultsQuery {
        invoke_id: Some(invoke_id.to_owned()),
        instance_id: args.instance_id.clone(),
        command_id: args.command_id.clone(),
        ..Default::default()
    };
    let set = provider.results(&query).await.map_err(into_error)?;
    if set.results.is_empty() {
        return Err(Error::NotFound(format!(
            "no results for invocation {invoke_id}{}: check the invoke ID{} and the region \
             (--region); results of the last 30 days are kept; an invocation sent seconds ago \
             may not be visible yet, `ssmres --provider aliyun wait` allows for that",
            on_instance(args.instance_id.as_deref()),
            if args.instance_id.is_some() {
                ", the instance ID"
            } else {
                ""
            },
        )));
    }
    print(ctx, &set, args.instance_id.is_some(), false, true)?;
    Ok(if args.remote_exit_code && set.is_terminal() {
        set.remote_exit_code()
    } else {
        exit::SUCCESS
    })
}

fn on_instance(instance: Option<&str>) -> String {
    instance.map(|i| format!(" on {i}")).unwrap_or_default()
}

pub async fn wait(ctx: &super::Context, args: &WaitArgs) -> Result<u8, Error> {
    let invoke_id = invoke_id(&args.invoke_id)?;
    let policy = super::wait::policy(args)?;
    let provider = AliyunProvider::connect(&ctx.aliyun)?;
    let named: BTreeSet<String> = args.instance_ids.iter().cloned().collect();
    let query = ResultsQuery {
        invoke_id: Some(invoke_id.to_owned()),
        // One instance is filtered by the service; several are picked out here.
        instance_id: match args.instance_ids.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        },
        command_id: args.command_id.clone(),
        ..Default::default()
    };
    let start = Instant::now();
    // Whether any result was ever seen: only a wait that saw none ends with the loop's own
    // "not found", which is worded here for this service.
    let seen = std::cell::Cell::new(false);
    let fetch = || async {
        let mut set = provider.results(&query).await?;
        if !named.is_empty() {
            set.results.retain(|r| named.contains(&r.instance_id));
            // The service counted every instance; the output counts what it holds.
            set.total_count = Some(set.results.len() as u64);
            set.missing = named
                .iter()
                .filter(|n| !set.results.iter().any(|r| &r.instance_id == *n))
                .cloned()
                .collect();
        }
        if set.results.is_empty() {
            return Ok(Fetched::NotVisible);
        }
        seen.set(true);
        // Some named instances answer, others never do: past the grace, that is an answer.
        if !set.missing.is_empty() && start.elapsed() >= policy.not_found_grace {
            return Err(FetchError::Fatal(Error::NotFound(format!(
                "no result for {} in invocation {invoke_id} after {}: check the instance IDs",
                set.missing.join(", "),
                crate::duration::human(start.elapsed())
            ))));
        }
        Ok(Fetched::Found(set))
    };
    let progress = Progress::new(ctx.show_progress, invoke_id);
    let mut rng = fastrand::Rng::new();
    let outcome = poll::wait(
        &policy,
        fetch,
        |event| {
            super::wait::log(&event);
            progress.update(&event);
        },
        &mut rng,
    )
    .await;
    progress.clear();
    let single = args.instance_ids.len() == 1;
    match outcome {
        Ok(Outcome::Terminal(set)) => {
            print(ctx, &set, single, false, true)?;
            if let Some(periodic) = set.periodic() {
                return Err(Error::Usage(format!(
                    "{invoke_id} is a periodic task ({} on {}, {} runs so far): it runs again on \
                     its schedule and never finishes, so there is nothing to wait for; the \
                     latest state is printed above; `ssmres --provider aliyun list --invoke-id \
                     {invoke_id} --include-history` lists every run",
                    periodic.status,
                    periodic.instance_id,
                    periodic.repeats().unwrap_or(0)
                )));
            }
            Ok(if args.remote_exit_code {
                set.remote_exit_code()
            } else if set.all_succeeded() {
                exit::SUCCESS
            } else {
                exit::TERMINAL_FAILURE
            })
        }
        Ok(Outcome::TimedOut(last)) => {
            let stage = match last {
                Some(set) => {
                    print(ctx, &set, single, false, true)?;
                    WaitStage::LastSeen(set.status_line())
                }
                None => WaitStage::NeverVisible,
            };
            Err(Error::Timeout(args.timeout.unwrap_or_default(), stage))
        }
        // The loop's words are the AWS ones; say it in this service's terms.
        Err(Error::NotFound(_)) if !seen.get() => Err(Error::NotFound(format!(
            "no results for invocation {invoke_id}{} after {}: check the invoke ID and the \
                 region (--region); raise --not-found-grace if the service is slow to show it",
            on_instance(query.instance_id.as_deref()),
            crate::duration::human(start.elapsed())
        ))),
        Err(e) => Err(e),
    }
}

pub async fn list(ctx: &super::Context, args: &ListArgs) -> Result<u8, Error> {
    let provider = AliyunProvider::connect(&ctx.aliyun)?;
    let query = ResultsQuery {
        invoke_id: args.invoke_id.clone(),
        instance_id: args.instance_id.clone(),
        command_id: args.command_id.clone(),
        record_status: args.status.map(|s| s.api_name()),
        include_history: args.include_history,
        tags: args.tags.clone(),
        resource_group_id: args.resource_group_id.clone(),
        max_items: args
            .max_items
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let set = provider.results(&query).await.map_err(into_error)?;
    // Several invocations may be listed unless one was named.
    let spans = args.invoke_id.is_none();
    print(ctx, &set, false, spans, false)?;
    if let (Some(max), Some(total)) = (args.max_items, set.total_count)
        && total > set.results.len() as u64
        && set.results.len() as u64 >= max
    {
        eprintln!(
            "note: stopped after {} (--max-items); the service counts {total}",
            match set.results.len() {
                1 => "1 result".to_owned(),
                n => format!("{n} results"),
            }
        );
    }
    Ok(exit::SUCCESS)
}

/// One result set in the chosen format, its warnings on stderr.
fn print(
    ctx: &super::Context,
    set: &ResultSet,
    single: bool,
    spans: bool,
    outputs: bool,
) -> Result<(), Error> {
    let shape = result_set::Shape {
        single,
        spans,
        outputs,
    };
    output::emit(&result_set::render(ctx.format, set, shape, &ctx.target))
}
