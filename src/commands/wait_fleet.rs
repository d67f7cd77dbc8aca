//! `ssmres wait` for a whole command or a named set of instances. The rounds (fleet.rs) find
//! what finished; each finished invocation's full result is fetched once, at most
//! FETCH_CONCURRENCY at a time, while the rounds go on, so `-o jsonl` streams results as they
//! come and the final answer is ready moments after the last instance ends. A cloud that
//! prints its results as one set (Alibaba Cloud) ends in wait_fleet_set.rs.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;

use super::follow::{Follow, Followed};
use crate::cli::WaitArgs;
use crate::error::{Error, WaitStage, exit};
use crate::fleet::{self, Members};
use crate::model::{Document, Invocation, StatusClass, Verdict, first_non_zero};
use crate::output;
use crate::poll::{self, Policy};
use crate::progress::Progress;
use crate::provider::aws::output::complete::complete;
use crate::provider::contract::{FetchError, Fetched, Subject};
use crate::provider::{Cloud, Rounds};
use crate::render::{OutputFormat, Rendered, json, list};

/// Result fetches (GetCommandInvocation, DescribeInvocationResults) in flight at once: fast
/// for hundreds of results, gentle on the APIs' rate limits for thousands.
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
    cloud: &Cloud,
    rounds: Rounds<'_>,
    policy: &Policy,
    args: &WaitArgs,
    subject: &Subject,
) -> Result<u8, Error> {
    let members = if subject.instances.is_empty() {
        Members::All
    } else {
        Members::Named(subject.instances.iter().cloned().collect::<BTreeSet<_>>())
    };
    // Followed lines are the progress report; a bar would break them up.
    let progress = Progress::new_fleet(ctx.show_progress && !args.follow);
    let mut rng = fastrand::Rng::new();
    // A table lists the fleet again at the end; other formats and remote codes need results,
    // and so does a cloud whose table shows each output (as `get` does).
    let wants_results =
        ctx.format != OutputFormat::Table || args.remote_exit_code || rounds.prints_a_set();
    let (finished_tx, finished_rx) = tokio::sync::mpsc::unbounded_channel::<String>();

    let waiting = fleet::wait(
        policy,
        &rounds,
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
    // Filled as results arrive, so that what was fetched by the deadline survives it.
    let mut collected = Collected::default();
    let fetcher = Fetcher {
        ctx,
        cloud,
        rounds: &rounds,
        args,
        subject,
        policy,
    };
    let fetching = fetcher.fetch(finished_rx, &mut collected);
    // Results still on their way when the time is up are not waited for past a last moment:
    // false then.
    let fetching = async {
        match policy.deadline {
            Some(d) => tokio::time::timeout_at(poll::overtime_end(d), fetching)
                .await
                .unwrap_or(Ok(false)),
            None => fetching.await,
        }
    };
    // A result that cannot be read ends the wait now, not when the last instance ends (hours,
    // perhaps): the rounds stop as soon as the fetching has failed.
    let failed = tokio::sync::Notify::new();
    let fetching = async {
        let fetched = fetching.await;
        if fetched.is_err() {
            failed.notify_one();
        }
        fetched
    };
    let waiting = async {
        tokio::select! {
            outcome = waiting => Some(outcome),
            () = failed.notified() => None,
        }
    };
    let both = async { tokio::join!(waiting, fetching) };
    let ((outcome, fetched), followed) = match (args.follow, cloud.aws()) {
        (true, Some(aws)) => {
            let instances = match &members {
                Members::All => None,
                Members::Named(set) => Some(set.clone()),
            };
            let step = subject.step.as_deref();
            Follow::new(ctx, aws, &subject.run_id, instances, step, policy.deadline)
                .around(both)
                .await
        }
        _ => (both.await, Followed::default()),
    };
    progress.clear();
    // In text mode the followed lines were the result of each instance followed: the others
    // (no stream ever seen, or following stopped) get theirs printed as without --follow.
    let followed_text = args.follow && ctx.format == OutputFormat::Text;
    // The fetching's failure first: it is why the rounds stopped, if they did.
    let complete = fetched?;
    let Some(outcome) = outcome else {
        return Err(Error::Api("the rounds stopped without an outcome".into()));
    };
    let mut outcome = outcome?;
    // Results cut short by the deadline: a timeout like any other.
    outcome.timed_out |= !complete;
    let Collected {
        results,
        whole,
        mut warnings,
    } = collected;
    // Printed once the progress bar is gone, which they would otherwise break up.
    if args.full_output && !wants_results {
        warnings.push(
            "--full-output: a fleet's table shows one line per instance; -o json, jsonl or \
             text show the complete outputs"
                .into(),
        );
    }
    super::full_output::print_warnings(&warnings);
    if rounds.prints_a_set() {
        // The rounds' last states are not what is printed: their memory goes to the set.
        outcome.entries.clear();
    }
    if let Some(set) = rounds.result_set(whole) {
        let set_end = super::wait_fleet_set::End {
            ctx,
            cloud,
            policy,
            args,
            subject,
        };
        return set_end.finish(outcome, set).await;
    }

    let verdict = Verdict {
        ended: true,
        succeeded: !outcome
            .entries
            .values()
            .any(|e| e.class == StatusClass::Failed),
        // Instances in the order they are printed (sorted by ID).
        remote_code: first_non_zero(results.values().map(|k| k.remote_code)),
    };
    let code = exit::of(verdict, true, args.remote_exit_code);
    match ctx.format {
        OutputFormat::Jsonl => {}
        OutputFormat::Json => output::stream(|out| {
            let docs = results
                .values()
                .flat_map(|r| r.parts.iter().map(|p| &*p.doc));
            json::write_value(out, &*rounds.envelope().wrap(docs.collect(), None))
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
            // One detailed listing gives every row its response code and first output line;
            // past the deadline it has until the last moment, and the rounds' states stand in.
            let listing = match policy.deadline {
                Some(d) => {
                    let listing = tokio::time::timeout_at(poll::overtime_end(d), rounds.listing());
                    match listing.await {
                        Ok(Ok(entries)) => Some(entries),
                        // What failed is said when the wait had ended well; a timeout is
                        // said anyway.
                        Ok(Err(e)) if !outcome.timed_out => return Err(e.into()),
                        _ => None,
                    }
                }
                None => Some(rounds.listing().await?),
            };
            let entries = match listing {
                Some(mut entries) => {
                    entries.retain(|e| outcome.entries.contains_key(&e.instance_id));
                    entries
                }
                None => std::mem::take(&mut outcome.entries).into_values().collect(),
            };
            let table = list::table(&entries, true, ctx.console.color);
            output::emit(&Rendered::stdout(table.into_bytes()))?;
        }
    }
    if outcome.timed_out {
        let seen = WaitStage::Finished(outcome.tally.finished, outcome.tally.total);
        let stage = outcome.standing.describe(seen);
        return Err(Error::Timeout(args.timeout.unwrap_or_default(), stage));
    }
    Ok(code)
}

/// What the results of a fleet wait are fetched with.
struct Fetcher<'a> {
    ctx: &'a super::Context,
    cloud: &'a Cloud,
    rounds: &'a Rounds<'a>,
    args: &'a WaitArgs,
    subject: &'a Subject,
    policy: &'a Policy,
}

/// The results fetched so far, by instance ID, and what completing them warned of.
#[derive(Default)]
struct Collected {
    results: BTreeMap<String, Kept>,
    /// A cloud that prints its results as one set: each result's record, in fetching order,
    /// and nothing more until the end (the provider makes the set from them).
    whole: Vec<Box<dyn Document>>,
    warnings: Vec<String>,
}

impl Fetcher<'_> {
    /// Fetches each finished invocation's full result as its ID arrives (jsonl prints it at
    /// once) into `into`; true once every ID sent was fetched.
    async fn fetch(
        &self,
        finished: tokio::sync::mpsc::UnboundedReceiver<String>,
        into: &mut Collected,
    ) -> Result<bool, Error> {
        let Fetcher {
            ctx,
            cloud,
            rounds,
            args,
            subject,
            policy,
        } = *self;
        let reader = cloud
            .aws()
            .filter(|_| args.full_output)
            .map(|a| a.output_reader());
        let reader = reader.as_ref();
        let ids = futures_util::stream::unfold(finished, |mut rx| async move {
            rx.recv().await.map(|id| (id, rx))
        });
        let results = ids
            .map(|instance_id| async move {
                let key = subject.key(&instance_id);
                let mut fetched = rounds.fetch(&key).await;
                // The listing said it ended, but the result (GetCommandInvocation, a step's,
                // DescribeInvocationResults) can lag it for a moment: a few more looks before
                // that counts as an error.
                for pause in RESULT_LAG {
                    if !matches!(fetched, Err(FetchError::Transient(_))) {
                        break;
                    }
                    tokio::time::sleep(pause).await;
                    fetched = rounds.fetch(&key).await;
                }
                // Each result completed as it arrives, so jsonl streams complete results too.
                let mut warnings = Vec::new();
                if let (Some(reader), Ok(Fetched::Found(invocation))) = (reader, &mut fetched) {
                    warnings = complete(reader, invocation, policy.deadline).await;
                }
                (instance_id, fetched, warnings)
            })
            .buffered(FETCH_CONCURRENCY);
        let mut results = std::pin::pin!(results);
        while let Some((instance_id, fetched, warnings)) = results.next().await {
            into.warnings.extend(warnings);
            let invocation = match fetched? {
                Fetched::Found(invocation) => invocation,
                Fetched::NotVisible => {
                    return Err(Error::Api(format!(
                        "{instance_id} was listed as finished, but {} does not find it",
                        rounds.result_call()
                    )));
                }
            };
            if ctx.format == OutputFormat::Jsonl {
                let lines = json::render_lines(invocation.parts().into_iter().map(|p| &*p.doc));
                output::emit(&Rendered::stdout(lines))?;
            }
            if rounds.prints_a_set() {
                into.whole.push(invocation.doc);
            } else {
                into.results.insert(instance_id, Kept::from(*invocation));
            }
        }
        Ok(true)
    }
}

/// What is kept of each finished invocation until the end: its records (which hold the
/// output) and status lines; not the output a second time, which at ten thousand instances
/// would double the memory of the wait.
struct Kept {
    /// One record, or one per step of a multi-step document.
    parts: Vec<KeptPart>,
    status_line: String,
    remote_code: u8,
}

struct KeptPart {
    doc: Box<dyn Document>,
    step: Option<String>,
    status: String,
}

impl From<Invocation> for Kept {
    fn from(inv: Invocation) -> Self {
        let remote_code = inv.remote_exit_code();
        let status_line = inv.status_line();
        let part = |i: Invocation| KeptPart {
            doc: i.doc,
            step: i.plugin_name,
            status: i.status,
        };
        let parts = if inv.steps.is_empty() {
            vec![part(inv)]
        } else {
            inv.steps.into_iter().map(part).collect()
        };
        Kept {
            parts,
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
            let several = kept.parts.len() > 1;
            kept.parts.iter().map(move |part| {
                let header = match (several, &part.step) {
                    (true, step) => format!(
                        "{id} · {} · {}",
                        step.as_deref().unwrap_or_default(),
                        part.status
                    ),
                    (false, _) => format!("{id} · {}", kept.status_line),
                };
                (header, part.doc.stdout(), part.doc.stderr())
            })
        }),
        &ctx.console,
    )
}
