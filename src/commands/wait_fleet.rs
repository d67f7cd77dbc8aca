//! `ssmres wait` for a whole command or a named set of instances. The rounds (fleet.rs) find
//! what finished; each finished invocation's full result is fetched once, at most
//! FETCH_CONCURRENCY at a time, while the rounds go on, so `-o jsonl` streams results as they
//! come and the final answer is ready moments after the last instance ends.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;

use crate::cli::{OutputFormat, WaitArgs};
use crate::error::{Error, WaitStage, exit};
use crate::fleet::{self, Members};
use crate::model::{Invocation, RawRecord, StatusClass};
use crate::output;
use crate::poll::Policy;
use crate::progress::Progress;
use crate::provider::aws::{AwsFleet, AwsProvider, ListQuery};
use crate::provider::{FetchError, Fetched, InvocationKey, Provider};
use crate::render::{Rendered, json, list};

/// GetCommandInvocation calls in flight at once: fast for hundreds of results, gentle on the
/// API's rate limits for thousands.
const FETCH_CONCURRENCY: usize = 8;

/// Pauses before looking again at a result that the listing says has ended but that cannot be
/// read in full yet (eventual consistency); each look is already retried by the SDK.
const RESULT_LAG: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(500),
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(2),
];

pub async fn run(
    ctx: &super::Context,
    provider: &AwsProvider,
    policy: &Policy,
    args: &WaitArgs,
) -> Result<u8, Error> {
    let members = if args.instance_ids.is_empty() {
        Members::All
    } else {
        Members::Named(args.instance_ids.iter().cloned().collect::<BTreeSet<_>>())
    };
    let source = AwsFleet {
        provider,
        command_id: args.aws_command_id().to_owned(),
    };
    // Followed lines are the progress report; a bar would break them up.
    let progress = Progress::new_fleet(ctx.show_progress && !args.follow);
    let mut rng = fastrand::Rng::new();
    // A table lists the fleet again at the end; other formats and remote codes need results.
    let wants_results = ctx.format != OutputFormat::Table || args.remote_exit_code;
    let (finished_tx, finished_rx) = tokio::sync::mpsc::unbounded_channel::<String>();

    let waiting = fleet::wait(
        policy,
        &source,
        &members,
        move |entry| {
            if wants_results {
                // The receiver lives until the rounds are over; a send cannot fail before.
                let _ = finished_tx.send(entry.instance_id.clone());
            }
        },
        |tally, round| {
            tracing::debug!(round, ?tally, "round");
            progress.fleet(tally);
        },
        &mut rng,
    );
    let fetching = fetch_results(ctx, provider, args, policy, finished_rx);
    let both = async { tokio::join!(waiting, fetching) };
    let ((outcome, fetched), followed) = if args.follow {
        super::follow::Follow {
            ctx,
            provider,
            command_id: args.aws_command_id(),
            instances: match &members {
                Members::All => None,
                Members::Named(set) => Some(set.clone()),
            },
            step: args.plugin_name.as_deref(),
            deadline: policy.deadline,
            shown: Default::default(),
            streams: Default::default(),
            seen: Default::default(),
        }
        .around(both)
        .await
    } else {
        (both.await, super::follow::Followed::default())
    };
    progress.clear();
    // In text mode the followed lines were the result: not printed twice.
    // In text mode the followed lines were the result of each instance followed: the others
    // (no stream ever seen, or following stopped) get theirs printed as without --follow.
    let followed_text = args.follow && ctx.format == OutputFormat::Text;
    let outcome = outcome?;
    // Printed once the progress bar is gone, which they would otherwise break up.
    let (results, mut warnings) = fetched?;
    if args.full_output && !wants_results {
        warnings.push(
            "--full-output: a fleet's table shows one line per instance; -o json, jsonl or \
             text show the complete outputs"
                .into(),
        );
    }
    super::full_output::print_warnings(&warnings);

    let code = if args.remote_exit_code {
        // Instances in the order they are printed (sorted by ID).
        crate::model::first_non_zero(results.values().map(|k| k.remote_code))
    } else if outcome
        .entries
        .values()
        .any(|e| e.class == StatusClass::Failed)
    {
        exit::TERMINAL_FAILURE
    } else {
        exit::SUCCESS
    };
    match ctx.format {
        OutputFormat::Jsonl => {}
        OutputFormat::Json => output::stream(|out| {
            json::write_value(
                out,
                &results
                    .values()
                    .flat_map(|r| r.records.iter())
                    .collect::<Vec<_>>(),
            )
        })?,
        OutputFormat::Text if followed_text && !followed.cut_short => {
            let unseen: BTreeMap<String, Kept> = results
                .into_iter()
                .filter(|(id, _)| !followed.instances.contains(id))
                .collect();
            output::emit(&text(&unseen, ctx))?
        }
        OutputFormat::Text => output::emit(&text(&results, ctx))?,
        OutputFormat::Table => {
            // One detailed listing gives every row its response code and first output line.
            let query = ListQuery {
                command_id: args.aws_command_id().to_owned(),
                instance_id: None,
                details: true,
                max_items: None,
            };
            let listed = provider
                .list_invocations(&query)
                .await
                .map_err(into_error)?;
            let entries: Vec<_> = listed
                .into_iter()
                .map(|i| i.into_entry())
                .filter(|e| outcome.entries.contains_key(&e.instance_id))
                .collect();
            output::emit(&Rendered {
                stdout: list::table(&entries, true, ctx.target.color).into_bytes(),
                stderr: Vec::new(),
            })?;
        }
    }
    if outcome.timed_out {
        return Err(Error::Timeout(
            args.timeout.unwrap_or_default(),
            WaitStage::Finished(outcome.tally.finished, outcome.tally.total),
        ));
    }
    Ok(code)
}

/// Fetches each finished invocation's full result as its ID arrives; jsonl prints it at once.
async fn fetch_results(
    ctx: &super::Context,
    provider: &AwsProvider,
    args: &WaitArgs,
    policy: &Policy,
    finished: tokio::sync::mpsc::UnboundedReceiver<String>,
) -> Result<(BTreeMap<String, Kept>, Vec<String>), Error> {
    let reader = args.full_output.then(|| provider.output_reader());
    let reader = reader.as_ref();
    let ids = futures_util::stream::unfold(finished, |mut rx| async move {
        rx.recv().await.map(|id| (id, rx))
    });
    let results = ids
        .map(|instance_id| async move {
            let key = InvocationKey {
                command_id: args.aws_command_id().to_owned(),
                instance_id,
                plugin_name: args.plugin_name.clone(),
            };
            let mut fetched = provider.fetch(&key).await;
            // The listing said it ended, but GetCommandInvocation (or a step's) can lag it for
            // a moment: a few more looks before that counts as an error.
            for pause in RESULT_LAG {
                if !matches!(fetched, Err(FetchError::Transient(_))) {
                    break;
                }
                tokio::time::sleep(pause).await;
                fetched = provider.fetch(&key).await;
            }
            // Each result completed as it arrives, so jsonl streams complete results too.
            let mut warnings = Vec::new();
            if let (Some(reader), Ok(Fetched::Found(invocation))) = (reader, &mut fetched) {
                if invocation.steps.is_empty() {
                    warnings =
                        super::full_output::complete(reader, invocation, policy.deadline).await;
                }
                for step in &mut invocation.steps {
                    warnings
                        .extend(super::full_output::complete(reader, step, policy.deadline).await);
                }
            }
            (key.instance_id, fetched, warnings)
        })
        .buffered(FETCH_CONCURRENCY);
    let mut results = std::pin::pin!(results);
    let mut all = BTreeMap::new();
    let mut all_warnings = Vec::new();
    while let Some((instance_id, fetched, warnings)) = results.next().await {
        all_warnings.extend(warnings);
        let invocation = match fetched {
            Ok(Fetched::Found(invocation)) => invocation,
            Ok(Fetched::NotVisible) => {
                return Err(Error::Api(format!(
                    "{instance_id} was listed as finished, but GetCommandInvocation does not find it"
                )));
            }
            Err(e) => return Err(into_error(e)),
        };
        if ctx.format == OutputFormat::Jsonl {
            output::emit(&Rendered {
                stdout: json::render_lines(invocation.parts().into_iter().map(|p| &p.raw)),
                stderr: Vec::new(),
            })?;
        }
        all.insert(instance_id, Kept::from(*invocation));
    }
    Ok((all, all_warnings))
}

fn into_error(e: FetchError) -> Error {
    match e {
        FetchError::Transient(m) => Error::Api(m),
        FetchError::Credentials(e) | FetchError::Fatal(e) => e,
    }
}

/// What is kept of each finished invocation until the end: its record (which holds the
/// output) and a status line; not the output a second time, which at ten thousand
/// instances would double the memory of the wait.
struct Kept {
    /// One record, or one per step of a multi-step document.
    records: Vec<RawRecord>,
    status_line: String,
    remote_code: u8,
}

impl From<Invocation> for Kept {
    fn from(inv: Invocation) -> Self {
        let remote_code = inv.remote_exit_code();
        let status_line = inv.status_line();
        let records = if inv.steps.is_empty() {
            vec![inv.raw]
        } else {
            inv.steps.into_iter().map(|s| s.raw).collect()
        };
        Kept {
            records,
            status_line,
            remote_code,
        }
    }
}

/// Each instance's stdout under a header on stdout, its stderr under the same header on stderr;
/// one header per step for documents with several.
fn text(results: &BTreeMap<String, Kept>, ctx: &super::Context) -> Rendered {
    crate::render::text::under_headers(
        results.iter().flat_map(|(id, kept)| {
            let several = kept.records.len() > 1;
            kept.records.iter().map(move |record| {
                let header = match (several, record) {
                    (true, RawRecord::Aws(r)) => format!(
                        "{id} · {} · {}",
                        r.plugin_name.as_deref().unwrap_or_default(),
                        r.status.as_deref().unwrap_or_default()
                    ),
                    _ => format!("{id} · {}", kept.status_line),
                };
                (header, record.stdout(), record.stderr())
            })
        }),
        &ctx.target,
    )
}
