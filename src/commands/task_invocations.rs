//! `ssmres task-invocations`: a maintenance window execution's task invocations, every page;
//! with --wait, polled until everything in it has ended; with --with-output, the Run Command
//! result behind each RUN_COMMAND invocation, fetched as `get` fetches it.

use std::cell::RefCell;
use std::collections::BTreeMap;

use futures_util::StreamExt;
use tokio::time::Instant;

use crate::cli::{OutputFormat, TaskInvocationsArgs};
use crate::error::{Error, WaitStage, exit};
use crate::model::Invocation;
use crate::output;
use crate::poll::{self, Event, Observed, Outcome, Policy, Schedule};
use crate::progress::Progress;
use crate::provider::aws::window::{InvocationQuery, TaskInvocation};
use crate::provider::aws::{AwsProvider, ListQuery};
use crate::provider::{FetchError, Fetched, InvocationKey, Provider};
use crate::render::{Rendered, window as render};
use crate::window::{TaskGroup, WindowView};

/// Calls in flight at once while resolving outputs, as for a fleet's results.
const CONCURRENCY: usize = 8;

pub async fn run(ctx: &super::Context, args: &TaskInvocationsArgs) -> Result<u8, Error> {
    if args.min_interval > args.max_interval {
        return Err(Error::Usage(
            "--min-interval must not be longer than --max-interval".into(),
        ));
    }
    let timeout = args.timeout.filter(|_| args.wait);
    let deadline = timeout.map(|t| Instant::now() + t);
    let provider = super::connect(ctx, deadline, timeout).await?;
    // Text is the commands' output, so it always fetches it.
    let with_output = args.with_output || ctx.format == OutputFormat::Text;

    let (view, code, timed_out) = if args.wait {
        let policy = Policy {
            schedule: Schedule {
                min: args.min_interval,
                max: args.max_interval,
            },
            // Never used: a window execution is either there or DoesNotExistException.
            not_found_grace: std::time::Duration::ZERO,
            deadline,
            max_failed_polls: super::wait::MAX_FAILED_POLLS,
        };
        match watch(ctx, &provider, &policy, args).await? {
            Outcome::Terminal(mut view) => {
                let code = if view.any_failed() {
                    exit::TERMINAL_FAILURE
                } else {
                    exit::SUCCESS
                };
                view.retain_statuses(&args.statuses);
                (view, code, None)
            }
            Outcome::TimedOut(last) => {
                let stage = match &last {
                    Some(view) => {
                        let t = view.tally();
                        WaitStage::Finished(t.finished, t.total)
                    }
                    None => WaitStage::NoAnswer,
                };
                let mut view = last.unwrap_or_default();
                view.retain_statuses(&args.statuses);
                (view, exit::TIMEOUT, Some(stage))
            }
        }
    } else {
        let view = list_once(&provider, args).await.map_err(into_error)?;
        (view, exit::SUCCESS, None)
    };

    // At the deadline the listing is printed as last seen: fetching outputs then would break
    // the promise of --timeout.
    let (outputs, warnings) = if with_output && timed_out.is_none() {
        resolve_outputs(&provider, &view).await?
    } else {
        (BTreeMap::new(), Vec::new())
    };
    let mut rendered = match ctx.format {
        OutputFormat::Json => Rendered {
            stdout: render::json(&view, &outputs, with_output),
            stderr: Vec::new(),
        },
        OutputFormat::Jsonl => Rendered {
            stdout: render::jsonl(&view, &outputs, with_output),
            stderr: Vec::new(),
        },
        OutputFormat::Table => Rendered {
            stdout: render::table(&view, &outputs, ctx.verbose > 0, ctx.target.color).into_bytes(),
            stderr: Vec::new(),
        },
        OutputFormat::Text => render::text(&view, &outputs, &ctx.target),
    };
    for w in warnings {
        rendered.stderr.extend_from_slice(
            format!("warning: {}\n", crate::render::sanitize::one_line(&w)).as_bytes(),
        );
    }
    output::emit(&rendered)?;
    match timed_out {
        Some(stage) => Err(Error::Timeout(timeout.unwrap_or_default(), stage)),
        None => Ok(code),
    }
}

fn into_error(e: FetchError) -> Error {
    match e {
        FetchError::Transient(m) => Error::Api(format!("failed after retries: {m}")),
        FetchError::Credentials(e) | FetchError::Fatal(e) => e,
    }
}

/// One listing, with the STATUS filter and --max-items sent to the service.
async fn list_once(
    provider: &AwsProvider,
    args: &TaskInvocationsArgs,
) -> Result<WindowView, FetchError> {
    let max_items = args
        .max_items
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let query = |task_id: &'_ str, max_items| InvocationQuery {
        window_execution_id: &args.window_execution_id,
        task_id: task_id.to_owned(),
        statuses: &args.statuses,
        max_items,
    };
    if let Some(task_id) = &args.task_id {
        let invocations = provider
            .task_invocations(&query(task_id, max_items))
            .await?;
        return Ok(WindowView {
            window_status: None,
            groups: vec![TaskGroup {
                task: None,
                invocations,
            }],
        });
    }
    let mut groups = Vec::new();
    let mut listed = 0usize;
    for task in provider.window_tasks(&args.window_execution_id).await? {
        let remaining = max_items.map(|m| m - listed);
        if remaining == Some(0) {
            break;
        }
        let task_id = task.task_execution_id.clone().unwrap_or_default();
        let invocations = provider
            .task_invocations(&query(&task_id, remaining))
            .await?;
        listed += invocations.len();
        groups.push(TaskGroup {
            task: Some(task),
            invocations,
        });
    }
    Ok(WindowView {
        window_status: None,
        groups,
    })
}

/// Polls until the execution (or the one task) and every invocation in it have ended.
async fn watch(
    ctx: &super::Context,
    provider: &AwsProvider,
    policy: &Policy,
    args: &TaskInvocationsArgs,
) -> Result<Outcome<WindowView>, Error> {
    let progress = Progress::new(ctx.show_progress, "window execution");
    let finals = RefCell::new(BTreeMap::new());
    let mut rng = fastrand::Rng::new();
    let outcome = poll::wait(
        policy,
        || look(provider, args, &finals),
        |event: Event<'_, WindowView>| {
            match &event {
                Event::Seen {
                    invocation, polls, ..
                } => tracing::debug!(polls, state = %invocation.status_line(), "round"),
                Event::PollFailed { message, .. } => tracing::debug!(%message, "round failed"),
                Event::NotVisible { .. } => {}
            }
            progress.update(&event);
        },
        &mut rng,
    )
    .await;
    progress.clear();
    outcome
}

/// One round: the tasks, the execution's status, and the invocations of every task that can
/// still change. A task that ended with all its invocations ended is not listed again.
async fn look(
    provider: &AwsProvider,
    args: &TaskInvocationsArgs,
    finals: &RefCell<BTreeMap<String, TaskGroup>>,
) -> Result<Fetched<WindowView>, FetchError> {
    let window = &args.window_execution_id;
    let mut tasks = provider.window_tasks(window).await?;
    let window_status = match &args.task_id {
        Some(id) => {
            tasks.retain(|t| t.task_execution_id.as_deref() == Some(id.as_str()));
            if tasks.is_empty() {
                return Err(FetchError::Fatal(Error::NotFound(format!(
                    "task execution {id} not found in window execution {window}: `ssmres \
                     task-invocations --window-execution-id {window}` lists its tasks"
                ))));
            }
            None
        }
        None => Some(provider.window_status(window).await?),
    };
    let mut groups = Vec::with_capacity(tasks.len());
    for task in tasks {
        let id = task.task_execution_id.clone().unwrap_or_default();
        let known = finals.borrow().get(&id).cloned();
        if let Some(group) = known {
            groups.push(group);
            continue;
        }
        let invocations = provider
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
            finals.borrow_mut().insert(id, group.clone());
        }
        groups.push(group);
    }
    Ok(Fetched::Found(WindowView {
        window_status,
        groups,
    }))
}

/// The Run Command results behind the RUN_COMMAND invocations, by InvocationId, each as
/// `get` fetches it; and warnings for commands whose results are gone.
async fn resolve_outputs(
    provider: &AwsProvider,
    view: &WindowView,
) -> Result<(BTreeMap<String, Vec<Invocation>>, Vec<String>), Error> {
    let commands: Vec<(&TaskInvocation, &str)> = view
        .invocations()
        .filter_map(|i| i.command_id().map(|c| (i, c)))
        .collect();
    // Which instances (and steps) each command ran on.
    let listed: Vec<_> = futures_util::stream::iter(commands.iter().map(|&(inv, command_id)| {
        let query = ListQuery {
            command_id: command_id.to_owned(),
            instance_id: None,
            details: true,
            max_items: None,
        };
        async move { (inv, command_id, provider.list_invocations(&query).await) }
    }))
    .buffered(CONCURRENCY)
    .collect()
    .await;

    let mut warnings = Vec::new();
    let mut keys: Vec<(String, InvocationKey)> = Vec::new();
    for (inv, command_id, result) in listed {
        let invocation_id = inv.invocation_id.clone().unwrap_or_default();
        let listed = result.map_err(into_error)?;
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
    let mut outputs: BTreeMap<String, Vec<Invocation>> = BTreeMap::new();
    for (id, key, result) in fetched {
        match result.map_err(into_error)? {
            Fetched::Found(invocation) => outputs.entry(id).or_default().push(*invocation),
            Fetched::NotVisible => warnings.push(format!(
                "invocation {id}: GetCommandInvocation does not find command {} on {}",
                key.command_id, key.instance_id
            )),
        }
    }
    Ok((outputs, warnings))
}
