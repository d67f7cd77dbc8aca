//! Fleet rounds on tokio's paused clock against a scripted fleet.

use std::cell::Cell;
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::poll::Schedule;
use crate::provider::aws::listing::ListedInvocation;

fn policy() -> Policy {
    Policy {
        schedule: Schedule {
            min: Duration::from_millis(500),
            max: Duration::from_secs(10),
        },
        not_found_grace: Duration::from_secs(30),
        deadline: None,
        max_failed_polls: 5,
    }
}

fn entry(i: usize, status: &str) -> ListEntry {
    ListedInvocation {
        instance_id: Some(format!("i-{i:017}")),
        status: Some(status.into()),
        status_details: Some(status.into()),
        ..Default::default()
    }
    .into_entry()
}

/// A fleet whose state is a function of time: `state(t)` gives the command's summary and its
/// listing at t; `lag` makes the listing trail the summary by that long.
struct Scripted<F: Fn(f64) -> Option<(CommandSummary, Vec<ListEntry>)>> {
    start: Instant,
    state: F,
    lag: f64,
    summaries: Cell<u32>,
    lists: Cell<u32>,
}

impl<F: Fn(f64) -> Option<(CommandSummary, Vec<ListEntry>)>> Scripted<F> {
    fn new(state: F) -> Self {
        Scripted {
            start: Instant::now(),
            state,
            lag: 0.0,
            summaries: Cell::new(0),
            lists: Cell::new(0),
        }
    }
    fn t(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

impl<F: Fn(f64) -> Option<(CommandSummary, Vec<ListEntry>)>> FleetSource for Scripted<F> {
    async fn summary(&self) -> Result<Option<CommandSummary>, FetchError> {
        self.summaries.set(self.summaries.get() + 1);
        Ok((self.state)(self.t()).map(|s| s.0))
    }
    async fn list(&self) -> Result<Vec<ListEntry>, FetchError> {
        self.lists.set(self.lists.get() + 1);
        Ok((self.state)((self.t() - self.lag).max(0.0))
            .map(|s| s.1)
            .unwrap_or_default())
    }
}

fn summary(status: &str, target: u64, completed: u64) -> CommandSummary {
    CommandSummary {
        terminal: ["Success", "Failed", "Cancelled", "TimedOut"].contains(&status),
        status: status.into(),
        target_count: target,
        completed_count: completed,
    }
}

/// n instances; instance i finishes at `ends[i]` seconds.
fn fleet(
    ends: Vec<f64>,
    failed: &[usize],
) -> impl Fn(f64) -> Option<(CommandSummary, Vec<ListEntry>)> {
    let failed = failed.to_vec();
    move |t| {
        let entries: Vec<ListEntry> = ends
            .iter()
            .enumerate()
            .map(|(i, end)| match (t >= *end, failed.contains(&i)) {
                (true, true) => entry(i, "Failed"),
                (true, false) => entry(i, "Success"),
                _ => entry(i, "InProgress"),
            })
            .collect();
        let done = entries.iter().filter(|e| e.class.is_terminal()).count() as u64;
        let n = entries.len() as u64;
        let status = if done < n {
            "InProgress"
        } else if failed.is_empty() {
            "Success"
        } else {
            "Failed"
        };
        Some((summary(status, n, done), entries))
    }
}

async fn run<F: Fn(f64) -> Option<(CommandSummary, Vec<ListEntry>)>>(
    p: &Policy,
    source: &Scripted<F>,
    members: &Members,
) -> (Result<FleetOutcome, Error>, Vec<String>, u32) {
    let mut reported = Vec::new();
    let mut rounds = 0;
    let mut rng = fastrand::Rng::with_seed(3);
    let result = wait(
        p,
        source,
        members,
        |e| reported.push(e.instance_id.clone()),
        |_, r| rounds = r,
        &mut rng,
    )
    .await;
    (result, reported, rounds)
}

#[tokio::test(start_paused = true)]
async fn rounds_cost_one_call_while_nothing_changes() {
    // Everything ends at 60 s: the rounds in between only ask for the summary.
    let source = Scripted::new(fleet(vec![60.0; 120], &[]));
    let (result, reported, rounds) = run(&policy(), &source, &Members::All).await;
    let outcome = result.unwrap();
    assert_eq!(outcome.tally.finished, 120);
    assert_eq!(reported.len(), 120);
    assert!(rounds > 10);
    assert_eq!(source.summaries.get(), rounds);
    assert_eq!(
        source.lists.get(),
        2,
        "once at the start, once when the counts moved"
    );
}

#[tokio::test(start_paused = true)]
async fn each_invocation_is_reported_once_as_it_finishes() {
    let ends: Vec<f64> = (0..50).map(|i| 1.0 + f64::from(i) * 0.7).collect();
    let source = Scripted::new(fleet(ends, &[7, 8]));
    let (result, reported, _) = run(&policy(), &source, &Members::All).await;
    let outcome = result.unwrap();
    assert_eq!(outcome.tally.failed, 2);
    let unique: BTreeSet<_> = reported.iter().collect();
    assert_eq!(unique.len(), 50);
    assert_eq!(reported.len(), 50);
    // Reported in finishing order, give or take the instances that end in the same round.
    assert_eq!(
        reported.first().map(String::as_str),
        Some("i-00000000000000000")
    );
    assert_eq!(
        reported.last().map(String::as_str),
        Some("i-00000000000000049")
    );
}

#[tokio::test(start_paused = true)]
async fn late_targets_keep_the_wait_going() {
    // Pending with no targets for 10 s, then 3 targets appear and finish at once, then at 20 s
    // 2 more are added: never "all done" before the command itself is.
    let source = Scripted::new(|t| {
        let entries: Vec<ListEntry> = match t {
            t if t < 10.0 => vec![],
            t if t < 20.0 => (0..3).map(|i| entry(i, "Success")).collect(),
            t if t < 25.0 => (0..5)
                .map(|i| entry(i, if i < 3 { "Success" } else { "InProgress" }))
                .collect(),
            _ => (0..5).map(|i| entry(i, "Success")).collect(),
        };
        let done = entries.iter().filter(|e| e.class.is_terminal()).count() as u64;
        let status = match t {
            t if t < 10.0 => "Pending",
            t if t < 25.0 => "InProgress",
            _ => "Success",
        };
        let target = if t < 10.0 { 0 } else { entries.len() as u64 };
        Some((summary(status, target, done), entries))
    });
    let start = Instant::now();
    let (result, reported, _) = run(&policy(), &source, &Members::All).await;
    assert_eq!(result.unwrap().tally.finished, 5);
    assert_eq!(reported.len(), 5);
    assert!(start.elapsed() >= Duration::from_secs(25));
}

#[tokio::test(start_paused = true)]
async fn a_listing_that_lags_the_counts_is_asked_again() {
    let mut source = Scripted::new(fleet(vec![5.0, 5.0, 5.0], &[]));
    source.lag = 3.0;
    let (result, reported, _) = run(&policy(), &source, &Members::All).await;
    assert_eq!(result.unwrap().tally.finished, 3);
    assert_eq!(reported.len(), 3);
    assert!(
        source.lists.get() > 2,
        "listed again while the listing lagged"
    );
}

#[tokio::test(start_paused = true)]
async fn a_named_set_waits_only_for_its_members() {
    let source = Scripted::new(fleet(vec![2.0, 3.0, 3600.0], &[]));
    let names: BTreeSet<String> = ["i-00000000000000000", "i-00000000000000001"]
        .map(String::from)
        .into();
    let start = Instant::now();
    let (result, reported, _) = run(&policy(), &source, &Members::Named(names)).await;
    let outcome = result.unwrap();
    assert_eq!(outcome.entries.len(), 2);
    assert_eq!(reported.len(), 2);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_named_instance_never_listed_is_not_found_after_the_grace() {
    let source = Scripted::new(fleet(vec![2.0], &[]));
    let names: BTreeSet<String> = ["i-00000000000000000", "i-0aaaaaaaaaaaaaaaa"]
        .map(String::from)
        .into();
    let (result, _, _) = run(&policy(), &source, &Members::Named(names)).await;
    assert!(
        matches!(result, Err(Error::NotFound(ref m)) if m.contains("i-0aaaaaaaaaaaaaaaa")),
        "{result:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_command_never_visible_is_not_found_after_the_grace() {
    let source = Scripted::new(|_| None);
    let start = Instant::now();
    let (result, _, _) = run(&policy(), &source, &Members::All).await;
    assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn timeout_returns_what_finished() {
    let mut p = policy();
    p.deadline = Some(Instant::now() + Duration::from_secs(20));
    let source = Scripted::new(fleet(vec![5.0, 3600.0], &[]));
    let (result, reported, _) = run(&p, &source, &Members::All).await;
    let outcome = result.unwrap();
    assert!(outcome.timed_out);
    assert_eq!((outcome.tally.finished, outcome.tally.total), (1, 2));
    assert_eq!(reported.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_result_follows_the_last_finish_closely() {
    // 200 instances finishing between 5 s and 120 s: rounds stay short once they finish.
    let ends: Vec<f64> = (0..200)
        .map(|i| 5.0 + f64::from(i) * 115.0 / 199.0)
        .collect();
    let source = Scripted::new(fleet(ends, &[]));
    let start = Instant::now();
    let (result, _, rounds) = run(&policy(), &source, &Members::All).await;
    assert!(!result.unwrap().timed_out);
    let lag = start.elapsed().as_secs_f64() - 120.0;
    assert!(
        (0.0..=1.65).contains(&lag),
        "result {lag:.2}s after the last finish"
    );
    assert!(rounds < 120, "{rounds} rounds");
}

/// A fleet that never ends by itself once `at` has passed: what a periodic task between two
/// runs is to its cloud.
struct Endless<F: Fn(f64) -> Option<(CommandSummary, Vec<ListEntry>)>> {
    inner: Scripted<F>,
    at: f64,
}

impl<F: Fn(f64) -> Option<(CommandSummary, Vec<ListEntry>)>> FleetSource for Endless<F> {
    async fn summary(&self) -> Result<Option<CommandSummary>, FetchError> {
        self.inner.summary().await
    }
    async fn list(&self) -> Result<Vec<ListEntry>, FetchError> {
        self.inner.list().await
    }
    fn endless(&self) -> bool {
        self.inner.t() >= self.at
    }
    fn never_visible(&self, waited: Duration) -> Error {
        Error::NotFound(format!("nothing after {waited:?}"))
    }
}

#[tokio::test(start_paused = true)]
async fn the_rounds_stop_where_the_source_says_it_never_ends() {
    let source = Endless {
        inner: Scripted::new(fleet(vec![2.0, 600.0], &[])),
        at: 5.0,
    };
    let start = Instant::now();
    let mut rng = fastrand::Rng::with_seed(3);
    let mut reported = Vec::new();
    let outcome = wait(
        &policy(),
        &source,
        &Members::All,
        |e| reported.push(e.instance_id.clone()),
        |_, _| {},
        &mut rng,
    )
    .await
    .unwrap();
    assert!(outcome.endless && !outcome.timed_out);
    assert_eq!(outcome.tally.finished, 1);
    assert_eq!(reported.len(), 1, "what ended before is reported");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(6),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_command_never_seen_is_worded_by_its_source() {
    let source = Endless {
        inner: Scripted::new(|_| None),
        at: f64::MAX,
    };
    let mut rng = fastrand::Rng::with_seed(3);
    let result = wait(
        &policy(),
        &source,
        &Members::All,
        |_| {},
        |_, _| {},
        &mut rng,
    )
    .await;
    let Err(Error::NotFound(message)) = result else {
        panic!("not found expected, got {result:?}");
    };
    assert!(message.starts_with("nothing after 30"), "{message}");
}
