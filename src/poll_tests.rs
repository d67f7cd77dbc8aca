//! The wait loop on tokio's paused clock: hours of polling run in microseconds, and every
//! instant below is exact.

use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::provider::aws::record::CommandInvocation;

fn inv(status: &str, details: &str) -> Box<Invocation> {
    Box::new(
        CommandInvocation {
            status: Some(status.into()),
            status_details: Some(details.into()),
            ..Default::default()
        }
        .into_invocation(),
    )
}

/// The CLI's defaults: `--min-interval 500ms --max-interval 5s`.
fn policy() -> Policy {
    Policy {
        schedule: defaults(),
        not_found_grace: Duration::from_secs(30),
        deadline: None,
        max_failed_polls: 5,
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Runs the loop against a timeline: `state(t)` is what the service says at time t.
async fn run_timeline(
    policy: &Policy,
    state: impl Fn(Duration) -> Look,
) -> (
    Result<Outcome<Box<Invocation>>, Error>,
    Vec<Duration>,
    Duration,
) {
    let start = Instant::now();
    let mut calls = Vec::new();
    let mut rng = fastrand::Rng::with_seed(7);
    let result = wait(
        policy,
        || {
            let t = start.elapsed();
            calls.push(t);
            std::future::ready(state(t))
        },
        |_| {},
        &mut rng,
    )
    .await;
    (result, calls, start.elapsed())
}

type Look = Result<Fetched<Box<Invocation>>, FetchError>;

/// What a wait that timed out saw last, and how its looks stood; panics on any other end.
#[track_caller]
fn timed_out(
    result: Result<Outcome<Box<Invocation>>, Error>,
) -> (Option<Box<Invocation>>, Standing) {
    match result {
        Ok(Outcome::TimedOut(last, standing)) => (last, standing),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

/// `then` from `at` seconds on, `before` until then.
fn after(t: Duration, at: f64, then: (&str, &str), before: (&str, &str)) -> Look {
    let (s, d) = if secs(t) >= at { then } else { before };
    Ok(Fetched::Found(inv(s, d)))
}

/// In progress until `at`, then Success.
fn succeeds_at(t: Duration, at: f64) -> Look {
    after(t, at, ("Success", "Success"), ("InProgress", "In Progress"))
}

fn defaults() -> Schedule {
    Schedule {
        min: Duration::from_millis(500),
        max: Duration::from_secs(5),
    }
}

#[test]
fn schedule_holds_the_minimum_then_grows_with_the_wait_up_to_the_cap() {
    let s = defaults();
    let mut rng = fastrand::Rng::with_seed(1);
    let at = |t: f64, rng: &mut fastrand::Rng| secs(s.delay(Duration::from_secs_f64(t), rng));
    for t in [0.0, 1.0, 3.0, 6.0, 9.9] {
        let d = at(t, &mut rng);
        assert!((0.5..=0.55).contains(&d), "at {t}s: {d}");
    }
    for (t, expected) in [(20.0, 1.0), (40.0, 2.0), (60.0, 3.0)] {
        let d = at(t, &mut rng);
        assert!(d >= expected * 0.9 && d <= expected * 1.1, "at {t}s: {d}");
    }
    for t in [200.0, 1000.0, 36_000.0] {
        let d = at(t, &mut rng);
        assert!((4.5..=5.0).contains(&d), "at {t}s: {d}");
    }
}

#[test]
fn jitter_spreads_waiters_apart() {
    let s = defaults();
    let mut a = fastrand::Rng::with_seed(1);
    let mut b = fastrand::Rng::with_seed(2);
    let t = Duration::from_secs(60);
    let da: Vec<_> = (0..10).map(|_| s.delay(t, &mut a)).collect();
    let db: Vec<_> = (0..10).map(|_| s.delay(t, &mut b)).collect();
    assert_ne!(da, db);
    assert!(da.iter().any(|d| *d < Duration::from_secs(3)));
    assert!(da.iter().any(|d| *d > Duration::from_secs(3)));
}

/// The time from the end of the command to the poll that sees it, over many end times and
/// seeds: what "seen quickly" means, not a lucky sample.
#[tokio::test(start_paused = true)]
async fn detection_lag_stays_within_a_twentieth_of_the_wait_or_the_minimum() {
    let mut worst_short = 0.0f64;
    for seed in 1..=8u64 {
        for step in 1..=120 {
            let end = f64::from(step) * 0.25; // 0.25 s … 30 s
            let start = Instant::now();
            let mut rng = fastrand::Rng::with_seed(seed);
            let result = wait(
                &policy(),
                || {
                    let t = start.elapsed();
                    std::future::ready(succeeds_at(t, end))
                },
                |_| {},
                &mut rng,
            )
            .await;
            assert!(matches!(result, Ok(Outcome::Terminal(_))));
            let lag = secs(start.elapsed()) - end;
            let allowed = (end * 0.055).max(0.55);
            assert!(
                lag <= allowed + 1e-9,
                "end {end}s, seed {seed}: lag {lag:.3}s > {allowed:.3}s"
            );
            if end <= 10.0 {
                worst_short = worst_short.max(lag);
            }
        }
    }
    assert!(
        worst_short <= 0.55,
        "commands ending within 10 s are seen within 0.55 s: {worst_short}"
    );
}

#[tokio::test(start_paused = true)]
async fn first_poll_is_immediate_and_a_quick_command_is_seen_within_a_second() {
    for end in [0.3, 1.0, 2.0, 3.7, 5.0] {
        let (result, calls, took) = run_timeline(&policy(), |t| succeeds_at(t, end)).await;
        assert_eq!(calls[0], Duration::ZERO);
        assert!(matches!(result, Ok(Outcome::Terminal(ref i)) if i.status == "Success"));
        let lag = secs(took) - end;
        assert!(
            (0.0..1.0).contains(&lag),
            "ended at {end}s, seen {lag:.2}s later"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_hour_long_command_costs_few_calls() {
    let (result, calls, took) = run_timeline(&policy(), |t| {
        after(
            t,
            3600.0,
            ("Failed", "Failed"),
            ("InProgress", "In Progress"),
        )
    })
    .await;
    assert!(matches!(result, Ok(Outcome::Terminal(ref i)) if i.status == "Failed"));
    // About 20 calls at the minimum, 45 while the pause grows, then one every 5 s: the
    // "about 770 calls" the README promises.
    assert!(calls.len() <= 800, "{} calls for an hour", calls.len());
    assert!(
        secs(took) - 3600.0 <= 5.0,
        "seen within one capped interval, the waiter's worst case"
    );
}

#[tokio::test(start_paused = true)]
async fn not_visible_then_appearing_is_waited_out() {
    let (result, calls, _) = run_timeline(&policy(), |t| {
        if secs(t) < 4.0 {
            Ok(Fetched::NotVisible)
        } else {
            Ok(Fetched::Found(inv("Success", "Success")))
        }
    })
    .await;
    assert!(matches!(result, Ok(Outcome::Terminal(_))));
    assert!(calls.len() > 3);
}

#[tokio::test(start_paused = true)]
async fn not_visible_past_the_grace_window_is_not_found() {
    let mut p = policy();
    p.not_found_grace = Duration::from_secs(20);
    let (result, calls, took) = run_timeline(&p, |_| Ok(Fetched::NotVisible)).await;
    assert!(
        matches!(result, Ok(Outcome::NeverVisible { waited }) if waited == Duration::from_secs(20))
    );
    // The last look is at the very end of the window, not a whole interval after it.
    assert_eq!(took, Duration::from_secs(20));
    assert_eq!(*calls.last().unwrap(), Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn timeout_returns_the_last_state_seen_at_the_deadline() {
    let mut p = policy();
    p.deadline = Some(Instant::now() + Duration::from_secs(45));
    let (result, _, took) =
        run_timeline(&p, |_| Ok(Fetched::Found(inv("InProgress", "In Progress")))).await;
    match result {
        Ok(Outcome::TimedOut(Some(last), standing)) => {
            assert_eq!(last.status, "InProgress");
            assert_eq!(
                standing,
                Standing {
                    answered: true,
                    failing: None
                }
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(took, Duration::from_secs(45));
}

#[tokio::test(start_paused = true)]
async fn timeout_also_cuts_a_poll_that_hangs() {
    let mut p = policy();
    p.deadline = Some(Instant::now() + Duration::from_secs(5));
    let mut rng = fastrand::Rng::with_seed(3);
    let start = Instant::now();
    let result = wait(
        &p,
        std::future::pending,
        |_: Event<'_, Box<Invocation>>| {},
        &mut rng,
    )
    .await;
    // Nothing came back: not "never visible", but no answer at all.
    let (None, standing) = timed_out(result) else {
        panic!("a state was seen");
    };
    assert_eq!(
        standing.describe(WaitStage::NeverVisible).to_string(),
        "the service had not answered yet"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_timeout_after_failures_names_the_last_one() {
    // Each run's deadline 3 s from its start.
    let p = || Policy {
        deadline: Some(Instant::now() + Duration::from_secs(3)),
        ..policy()
    };
    let (result, _, _) = run_timeline(&p(), |t| {
        Err(FetchError::Transient(format!(
            "HTTP 500 at {}s",
            t.as_secs()
        )))
    })
    .await;
    let (None, standing) = timed_out(result) else {
        panic!("a state was seen");
    };
    let said = standing.describe(WaitStage::NeverVisible).to_string();
    assert!(
        said.starts_with("every look failed, the last with: HTTP 500"),
        "{said}"
    );
    // Once the service has answered, a timeout reports what it saw, and the failures after.
    let (result, _, _) = run_timeline(&p(), |t| match t.as_secs() {
        0 => Ok(Fetched::NotVisible),
        _ => Err(FetchError::Transient("HTTP 500".into())),
    })
    .await;
    let (None, standing) = timed_out(result) else {
        panic!("a state was seen");
    };
    assert_eq!(
        standing.describe(WaitStage::NeverVisible).to_string(),
        "the invocation was never visible; the last 2 looks failed, the latest with: HTTP 500"
    );
    // And a good look after failures clears them.
    let (result, _, _) = run_timeline(&p(), |t| match t.as_secs() {
        1 => Err(FetchError::Transient("HTTP 500".into())),
        _ => Ok(Fetched::Found(inv("InProgress", "In Progress"))),
    })
    .await;
    let (Some(_), standing) = timed_out(result) else {
        panic!("no state was seen");
    };
    assert_eq!(standing.failing, None);
    // Failures, then an answer at the very deadline: what it showed, and no failures.
    let (result, _, _) = run_timeline(&p(), |t| match t.as_secs() {
        0..3 => Err(FetchError::Transient("HTTP 500".into())),
        _ => Ok(Fetched::Found(inv("InProgress", "In Progress"))),
    })
    .await;
    let (Some(last), standing) = timed_out(result) else {
        panic!("no state was seen");
    };
    assert_eq!(last.status, "InProgress");
    assert_eq!(
        standing,
        Standing {
            answered: true,
            failing: None
        }
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_statuses_are_not_terminal() {
    let (result, calls, _) = run_timeline(&policy(), |t| {
        after(t, 3.0, ("Success", "Success"), ("Paused", "Paused"))
    })
    .await;
    assert!(matches!(result, Ok(Outcome::Terminal(ref i)) if i.status == "Success"));
    assert!(calls.len() >= 4);
}

#[tokio::test(start_paused = true)]
async fn a_few_failed_polls_do_not_end_the_wait() {
    let (result, _, _) = run_timeline(&policy(), |t| {
        if secs(t) < 2.5 {
            Err(FetchError::Transient(
                "ThrottlingException: Rate exceeded".into(),
            ))
        } else {
            Ok(Fetched::Found(inv("Success", "Success")))
        }
    })
    .await;
    assert!(matches!(result, Ok(Outcome::Terminal(_))));
}

#[tokio::test(start_paused = true)]
async fn failures_in_a_row_end_the_wait_and_a_success_resets_the_count() {
    let (result, calls, _) =
        run_timeline(&policy(), |_| Err(FetchError::Transient("HTTP 503".into()))).await;
    assert!(
        matches!(result, Err(Error::Api(ref m)) if m.contains("5 failed polls") && m.contains("HTTP 503"))
    );
    assert_eq!(calls.len(), 5);

    // Alternating failure and success never reaches five in a row.
    let n = std::cell::Cell::new(0u32);
    let (result, calls, _) = run_timeline(&policy(), |_| {
        n.set(n.get() + 1);
        match n.get() {
            20 => Ok(Fetched::Found(inv("Success", "Success"))),
            k if k % 2 == 0 => Ok(Fetched::Found(inv("InProgress", "In Progress"))),
            _ => Err(FetchError::Transient("HTTP 500".into())),
        }
    })
    .await;
    assert!(matches!(result, Ok(Outcome::Terminal(_))));
    assert_eq!(calls.len(), 20);
}

#[tokio::test(start_paused = true)]
async fn fatal_errors_end_the_wait_at_once() {
    let (result, calls, _) = run_timeline(&policy(), |_| {
        Err(FetchError::Fatal(Error::Api(
            "AccessDeniedException: no".into(),
        )))
    })
    .await;
    assert!(matches!(result, Err(Error::Api(_))));
    assert_eq!(calls.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn progress_hears_every_non_terminal_poll() {
    let start = Instant::now();
    let mut rng = fastrand::Rng::with_seed(9);
    let mut seen = Vec::new();
    let result = wait(
        &policy(),
        || {
            let t = start.elapsed();
            std::future::ready(if secs(t) < 1.0 {
                Ok(Fetched::NotVisible)
            } else {
                succeeds_at(t, 3.0)
            })
        },
        |e| {
            seen.push(match e {
                Event::NotVisible { .. } => "not visible".to_string(),
                Event::Seen {
                    state: invocation,
                    polls,
                    ..
                } => format!("{} #{polls}", invocation.status),
                Event::PollFailed { .. } => "failed".to_string(),
            })
        },
        &mut rng,
    )
    .await;
    assert!(matches!(result, Ok(Outcome::Terminal(_))));
    assert_eq!(seen[0], "not visible");
    assert!(seen.iter().any(|s| s.starts_with("InProgress #")));
}

#[tokio::test(start_paused = true)]
async fn a_last_look_at_the_deadline_catches_a_command_that_just_ended() {
    let mut p = policy();
    p.schedule.min = Duration::from_secs(10);
    p.schedule.max = Duration::from_secs(10);
    p.deadline = Some(Instant::now() + Duration::from_secs(25));
    // Polls at 0, 10 and 20 s see it running; it ends at 22 s; the next poll would be at 30 s.
    let (result, calls, took) = run_timeline(&p, |t| succeeds_at(t, 22.0)).await;
    assert!(
        matches!(result, Ok(Outcome::Terminal(ref i)) if i.status == "Success"),
        "{result:?}"
    );
    assert_eq!(*calls.last().unwrap(), Duration::from_secs(25));
    assert_eq!(took, Duration::from_secs(25));
}

#[tokio::test(start_paused = true)]
async fn the_last_look_is_bounded() {
    let mut p = policy();
    p.deadline = Some(Instant::now() + Duration::from_millis(300));
    let start = Instant::now();
    let mut rng = fastrand::Rng::with_seed(5);
    let n = std::cell::Cell::new(0);
    let result = wait(
        &p,
        || {
            n.set(n.get() + 1);
            let first = n.get() == 1;
            async move {
                if !first {
                    std::future::pending::<()>().await;
                }
                Ok(Fetched::Found(inv("InProgress", "In Progress")))
            }
        },
        |_| {},
        &mut rng,
    )
    .await;
    assert!(
        matches!(result, Ok(Outcome::TimedOut(Some(_), _))),
        "{result:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(300) + LAST_LOOK);
}

#[tokio::test(start_paused = true)]
async fn credential_failures_are_fatal_until_the_service_has_answered() {
    let creds = || FetchError::Credentials(Error::Config("no AWS credentials found".into()));
    let (result, calls, _) = run_timeline(&policy(), |_| Err(creds())).await;
    assert!(matches!(result, Err(Error::Config(_))));
    assert_eq!(calls.len(), 1);

    // After an answer, a failed refresh is one more failed poll, not the end of the wait.
    let (result, _, _) = run_timeline(&policy(), |t| match secs(t) {
        x if x < 1.0 => Ok(Fetched::Found(inv("InProgress", "In Progress"))),
        x if x < 4.0 => Err(creds()),
        _ => Ok(Fetched::Found(inv("Success", "Success"))),
    })
    .await;
    assert!(matches!(result, Ok(Outcome::Terminal(_))), "{result:?}");
}

#[tokio::test(start_paused = true)]
async fn not_found_after_being_seen_counts_as_a_failed_poll() {
    let (result, calls, _) = run_timeline(&policy(), |t| {
        if secs(t) < 1.0 {
            Ok(Fetched::Found(inv("InProgress", "In Progress")))
        } else {
            Ok(Fetched::NotVisible)
        }
    })
    .await;
    // Not a NotFound verdict, and not an endless wait either.
    assert!(
        matches!(result, Err(Error::Api(ref m)) if m.contains("after the invocation had been seen")),
        "{result:?}"
    );
    assert_eq!(calls.iter().filter(|t| secs(**t) >= 1.0).count(), 5);
}
