//! `ssmres task-invocations`: a maintenance window execution's task invocations, every page;
//! with --wait, polled until everything in it has ended; with --with-output, the Run Command
//! result behind each RUN_COMMAND invocation, fetched as `get` fetches it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;
use std::time::Duration;

mod render;

use crate::cli::TaskInvocationsArgs;
use crate::error::{Error, WaitStage, exit};
use crate::model::Verdict;
use crate::output;
use crate::poll::{self, Event, Observed, Outcome, Policy, Schedule};
use crate::progress::Progress;
use crate::provider::aws::AwsProvider;
use crate::provider::aws::maintenance::view::{TaskGroup, WindowView};
use crate::provider::aws::maintenance::{InvocationQuery, TaskInvocation};
use crate::provider::contract::{FetchError, Fetched, InvocationKey, ListFilter};
use crate::render::{OutputFormat, Rendered};
use render::Outputs;

/// Calls in flight at once while resolving outputs, as for a fleet's results.
const CONCURRENCY: usize = 8;

pub async fn run(ctx: &super::Context, args: &TaskInvocationsArgs) -> Result<u8, Error> {
    let schedule = Schedule {
        min: args.min_interval,
        max: args.max_interval,
    };
    let timeout = args.timeout.filter(|_| args.wait);
    // The grace is never used: a window execution is there or DoesNotExistException.
    let policy = super::wait::policy(schedule, Duration::ZERO, timeout)?;
    let deadline = policy.deadline;
    let cloud = ctx.connect(deadline, timeout).await?;
    let Some(provider) = cloud.aws() else {
        return Err(Error::Usage(
            "task-invocations is for AWS maintenance windows".into(),
        ));
    };
    // Text is the commands' output, so it always fetches it.
    let with_output = args.with_output || ctx.format == OutputFormat::Text;

    let mut notes = Vec::new();
    let (view, code, timed_out) = if args.wait {
        match watch(ctx, provider, &policy, args).await? {
            Outcome::Terminal(mut view) => {
                let verdict = Verdict {
                    ended: true,
                    succeeded: !view.any_failed(),
                    remote_code: 0,
                };
                let code = exit::of(verdict, true, false);
                view.retain_statuses(&args.statuses);
                (Some(view), code, None)
            }
            Outcome::TimedOut(last, standing) => {
                let stage = standing.describe(match &last {
                    Some(view) => WaitStage::LastSeen(view.status_line()),
                    None => WaitStage::NoAnswer,
                });
                let last = last.map(|mut view| {
                    view.retain_statuses(&args.statuses);
                    view
                });
                (last, exit::TIMEOUT, Some(stage))
            }
            // A window execution is there or DoesNotExistException: never "not visible yet".
            Outcome::NeverVisible { .. } => (None, exit::TIMEOUT, Some(WaitStage::NoAnswer)),
        }
    } else {
        let (view, more) = list_once(provider, args).await?;
        if more {
            notes.push(format!(
                "note: stopped after {} invocations (--max-items); more exist",
                view.invocations().count()
            ));
        }
        (Some(view), exit::SUCCESS, None)
    };

    // A wait that timed out prints what it last saw, without outputs: fetching them would break
    // the promise of --timeout. Nothing seen at all, nothing printed: an empty listing would lie.
    let Some(view) = view else {
        return Err(Error::Timeout(
            timeout.unwrap_or_default(),
            timed_out.unwrap_or(WaitStage::NoAnswer),
        ));
    };
    let with_output = with_output && timed_out.is_none();
    let mut warnings = Vec::new();
    let outputs = if with_output {
        let resolving = resolve_outputs(provider, &view, &mut warnings);
        match deadline {
            Some(d) => match tokio::time::timeout_at(d, resolving).await {
                Ok(outputs) => outputs,
                Err(_) => {
                    warnings.push("--timeout reached while fetching outputs: none shown".into());
                    Outputs::new()
                }
            },
            None => resolving.await,
        }
    } else {
        Outputs::new()
    };
    let mut rendered = match ctx.format {
        OutputFormat::Json => Rendered::stdout(render::json(&view, &outputs)),
        OutputFormat::Jsonl => Rendered::stdout(render::jsonl(&view, &outputs)),
        OutputFormat::Table => Rendered::stdout(
            render::table(&view, &outputs, ctx.verbose > 0, ctx.console.color).into_bytes(),
        ),
        OutputFormat::Text => render::text(&view, &outputs, &ctx.console),
    };
    for w in warnings {
        let line = format!("warning: {}\n", crate::render::sanitize::one_line(&w));
        rendered.stderr.extend_from_slice(line.as_bytes());
    }
    for n in notes {
        rendered
            .stderr
            .extend_from_slice(format!("{n}\n").as_bytes());
    }
    output::emit(&rendered)?;
    match timed_out {
        Some(stage) => Err(Error::Timeout(timeout.unwrap_or_default(), stage)),
        None => Ok(code),
    }
}

/// One listing, with the STATUS filter and --max-items sent to the service; and whether
/// --max-items left some out.
async fn list_once(
    provider: &AwsProvider,
    args: &TaskInvocationsArgs,
) -> Result<(WindowView, bool), FetchError> {
    let max_items = args
        .max_items
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let query = |task_id: &str, max_items| InvocationQuery {
        window_execution_id: &args.window_execution_id,
        task_id: task_id.to_owned(),
        statuses: &args.statuses,
        max_items,
    };
    if let Some(task_id) = &args.task_id {
        let (invocations, more) = provider
            .task_invocations(&query(task_id, max_items))
            .await?;
        let view = WindowView {
            window_status: None,
            groups: vec![TaskGroup {
                task: None,
                invocations,
            }],
        };
        return Ok((view, more));
    }
    let tasks = provider.window_tasks(&args.window_execution_id).await?;
    let task_count = tasks.len();
    let mut groups = Vec::new();
    let mut listed = 0usize;
    let mut more = false;
    for task in tasks {
        let remaining = max_items.map(|m| m.saturating_sub(listed));
        if remaining == Some(0) {
            break;
        }
        let task_id = task.task_execution_id.clone().unwrap_or_default();
        let (invocations, cut) = provider
            .task_invocations(&query(&task_id, remaining))
            .await?;
        more |= cut;
        listed += invocations.len();
        groups.push(TaskGroup {
            task: Some(task),
            invocations,
        });
    }
    // Tasks never listed may hold more (they may also be empty; "more exist" errs on the
    // side of saying so).
    more |= groups.len() < task_count;
    let view = WindowView {
        window_status: None,
        groups,
    };
    Ok((view, more))
}

/// Polls until the execution (or the one task) and every invocation in it have ended.
async fn watch(
    ctx: &super::Context,
    provider: &AwsProvider,
    policy: &Policy,
    args: &TaskInvocationsArgs,
) -> Result<Outcome<WindowView>, Error> {
    let progress = Progress::new(ctx.show_progress, "window execution");
    let finals = RefCell::new(Finals::default());
    let mut rng = fastrand::Rng::new();
    let outcome = poll::wait(
        policy,
        || look(provider, args, &finals),
        |event: Event<'_, WindowView>| {
            super::wait::log(&event);
            progress.update(&event);
        },
        &mut rng,
    )
    .await;
    progress.clear();
    outcome
}

/// Tasks that can no longer change, so are not listed again. A task counts as final once it
/// has looked final in two rounds in a row: one look could come from an invocation listing
/// that lags the task's status.
#[derive(Default)]
struct Finals {
    cached: BTreeMap<String, TaskGroup>,
    final_last_round: BTreeSet<String>,
}

/// One round: the execution's status, its tasks, and the invocations of every task that can
/// still change. The status is read first: once it is terminal, the task listing that follows
/// is complete.
async fn look(
    provider: &AwsProvider,
    args: &TaskInvocationsArgs,
    finals: &RefCell<Finals>,
) -> Result<Fetched<WindowView>, FetchError> {
    let window = &args.window_execution_id;
    let window_status = match &args.task_id {
        Some(_) => None,
        None => provider.window_status(window).await?,
    };
    let mut tasks = provider.window_tasks(window).await?;
    if let Some(id) = &args.task_id {
        tasks.retain(|t| {
            t.task_execution_id
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(id))
        });
        if tasks.is_empty() {
            return Err(FetchError::Fatal(Error::NotFound(format!(
                "task execution {id} not found in window execution {window}: `ssmres \
                 task-invocations --window-execution-id {window}` lists its tasks"
            ))));
        }
    }
    let mut groups = Vec::with_capacity(tasks.len());
    let mut final_now = BTreeSet::new();
    for task in tasks {
        let id = task.task_execution_id.clone().unwrap_or_default();
        let cached = finals.borrow().cached.get(&id).cloned();
        if let Some(group) = cached {
            groups.push(group);
            continue;
        }
        let (invocations, _) = provider
            .task_invocations(&InvocationQuery {
                window_execution_id: window,
                task_id: id.clone(),
                // All of them: the wait is for every invocation; --status filters the result.
                statuses: &[],
                max_items: None,
            })
            .await?;
        let group = TaskGroup {
            task: Some(task),
            invocations,
        };
        if group.is_final() {
            let mut f = finals.borrow_mut();
            if f.final_last_round.contains(&id) {
                f.cached.insert(id.clone(), group.clone());
            }
            final_now.insert(id);
        }
        groups.push(group);
    }
    finals.borrow_mut().final_last_round = final_now;
    Ok(Fetched::Found(WindowView {
        window_status,
        groups,
    }))
}

/// The Run Command results behind the RUN_COMMAND invocations, by InvocationId, each as `get`
/// fetches it. A result that cannot be had (a command past Run Command's 30 days, a missing
/// permission, throttling after retries) is a warning, not a failure: the listing itself is
/// what the operator asked for first. An invocation whose command could not be listed has no
/// entry, so json leaves its `CommandInvocations` out rather than claiming there are none.
async fn resolve_outputs(
    provider: &AwsProvider,
    view: &WindowView,
    warnings: &mut Vec<String>,
) -> Outputs {
    let commands: Vec<(&TaskInvocation, &str)> = view
        .invocations()
        .filter_map(|i| i.command_id().map(|c| (i, c)))
        .collect();
    // Which instances (and steps) each command ran on.
    let listed: Vec<_> = futures_util::stream::iter(commands.iter().map(|&(inv, command_id)| {
        let query = ListFilter {
            run_id: Some(command_id.to_owned()),
            details: true,
            ..ListFilter::default()
        };
        async move { (inv, command_id, provider.list_invocations(&query).await) }
    }))
    .buffered(CONCURRENCY)
    .collect()
    .await;

    let mut outputs = Outputs::new();
    let mut keys: Vec<(String, InvocationKey)> = Vec::new();
    for (inv, command_id, result) in listed {
        let invocation_id = inv.invocation_id.clone().unwrap_or_default();
        let listed = match result {
            Ok(listed) => listed,
            Err(e) => {
                warnings.push(format!(
                    "invocation {invocation_id}: cannot list command {command_id}: {}",
                    Error::from(e)
                ));
                continue;
            }
        };
        outputs.entry(invocation_id.clone()).or_default();
        if listed.is_empty() {
            warnings.push(format!(
                "invocation {invocation_id}: command {command_id} lists no instances (Run \
                 Command keeps a command's results for 30 days)"
            ));
        }
        for l in listed {
            let instance_id = l.instance_id.clone().unwrap_or_default();
            let steps: Vec<String> = l
                .command_plugins
                .iter()
                .flatten()
                .filter_map(|p| p.name.clone())
                .collect();
            // A document with several steps has one result per step; the service wants the
            // step named to return any of them.
            let plugins = if steps.len() > 1 {
                steps.into_iter().map(Some).collect()
            } else {
                vec![None]
            };
            for plugin_name in plugins {
                keys.push((
                    invocation_id.clone(),
                    InvocationKey {
                        command_id: command_id.to_owned(),
                        instance_id: instance_id.clone(),
                        plugin_name,
                    },
                ));
            }
        }
    }

    let fetched: Vec<_> =
        futures_util::stream::iter(keys.into_iter().map(|(id, key)| async move {
            let result = provider.fetch(&key).await;
            (id, key, result)
        }))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    for (id, key, result) in fetched {
        let on = format!("command {} on {}", key.command_id, key.instance_id);
        match result {
            // A document with several steps: one record per step, as its listing would show.
            Ok(Fetched::Found(invocation)) if !invocation.steps.is_empty() => {
                outputs.entry(id).or_default().extend(invocation.steps)
            }
            Ok(Fetched::Found(invocation)) => outputs.entry(id).or_default().push(*invocation),
            Ok(Fetched::NotVisible) => warnings.push(format!(
                "invocation {id}: GetCommandInvocation does not find {on}"
            )),
            Err(e) => warnings.push(format!(
                "invocation {id}: cannot fetch {on}: {}",
                Error::from(e)
            )),
        }
    }
    outputs
}
