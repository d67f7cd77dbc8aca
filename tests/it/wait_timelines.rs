//! `ssmres wait` against scripted timelines of GetCommandInvocation answers.
//!
//! Each test asserts what a user notices: the exit code, what lands on stdout and stderr, how
//! many calls hit the endpoint, and (with bounds a loaded machine cannot miss) how long it took.
//! The exact poll schedule is tested on tokio's paused clock in `src/poll_tests.rs`.

use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::fake_ssm::{FakeSsm, GET_COMMAND_INVOCATION, Step, invocation_step};
use crate::support::{
    Args, Cli, FAST_POLL, Spawned, assert_error, assert_exit, assert_output,
    assert_single_stderr_line, check, check_eq, ids, stdout_json,
};

/// Runs `wait` with the fake's ids, fast polling, JSON output and `extra`; `AWS_MAX_ATTEMPTS`
/// is `max_attempts` when given. The run and how long it took.
fn run_wait(fake: &FakeSsm, max_attempts: Option<&str>, extra: &str) -> (Output, Duration) {
    let mut cmd = Cli::new(&fake.url()).cmd();
    cmd.arg("wait")
        .args(ids())
        .args(FAST_POLL)
        .args(["-o", "json"])
        .args(extra.words());
    cmd.envs(max_attempts.map(|n| ("AWS_MAX_ATTEMPTS", n)));
    let started = Instant::now();
    let out = crate::support::run(&mut cmd);
    (out, started.elapsed())
}

/// `ssmres SUBCOMMAND --command-id … --instance-id … ARGS` against `fake`.
fn ssmres(fake: &FakeSsm, subcommand: &str, args: &str) -> Output {
    Cli::new(&fake.url()).run(format!("{subcommand} {} {args}", ids().join(" ")))
}

/// A GetCommandInvocation answer in this state, with this stdout.
fn answer(status: &str, details: &str, stdout: &str) -> Step {
    invocation_step(status, details, stdout, "")
}

#[track_caller]
fn assert_status(out: &Output, status: &str, details: &str) {
    let v = stdout_json(out);
    let want = (&status.into(), &details.into());
    check_eq!(out, (&v["Status"], &v["StatusDetails"]), want);
}

#[track_caller]
fn assert_calls(fake: &FakeSsm, expected: usize, out: &Output) {
    let why = "GetCommandInvocation calls";
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), expected, "{why}");
}

/// The arrival times of the GetCommandInvocation calls.
fn arrivals(fake: &FakeSsm) -> Vec<Instant> {
    fake.calls_to(GET_COMMAND_INVOCATION)
        .iter()
        .map(|c| c.at)
        .collect()
}

#[test]
fn timelines_that_end_in_success_exit_0_after_one_call_per_poll() {
    let ok = |stdout: &str| answer("Success", "Success", stdout);
    let running = |status: &str| answer(status, status, "");
    let slow = Step::delayed(Duration::from_millis(400), running("InProgress"));
    let then = |steps: Vec<Step>, last: Step| [steps, vec![last]].concat();
    for (what, steps, max_attempts) in [
        ("success at the first poll", vec![ok("done\n")], None),
        (
            "invisible, then appearing",
            then(vec![Step::not_found(); 3], ok("hi\n")),
            None,
        ),
        (
            "pending, in progress, success",
            vec![
                running("Pending"),
                running("InProgress"),
                answer("InProgress", "InProgress", "half"),
                ok("all done\n"),
            ],
            None,
        ),
        (
            "a dropped connection",
            vec![running("InProgress"), Step::DropConnection, ok("ok\n")],
            Some("2"),
        ),
        ("a slow answer", vec![slow, ok("ok\n")], None),
        // It keeps polling through a status it does not know instead of stopping there.
        (
            "an unknown status",
            vec![running("Paused"), running("Paused"), ok("resumed\n")],
            None,
        ),
        (
            "four failed polls",
            then(vec![Step::Status500; 4], ok("ok\n")),
            Some("1"),
        ),
    ] {
        let calls = steps.len();
        let fake = FakeSsm::start(steps.clone());
        let (out, _) = run_wait(&fake, max_attempts, "");
        assert_exit(&out, 0);
        // stdout is one JSON document: the final invocation and nothing else.
        assert_status(&out, "Success", "Success");
        let Step::Json(_, last) = steps.last().unwrap() else {
            unreachable!()
        };
        let last: serde_json::Value = serde_json::from_str(last).unwrap();
        let printed = stdout_json(&out)["StandardOutputContent"].clone();
        assert_eq!(printed, last["StandardOutputContent"], "{what}");
        assert_calls(&fake, calls, &out);
    }
}

#[test]
fn each_terminal_failure_exits_1_and_prints_it_as_get_does() {
    for (status, details) in [
        ("Failed", "Failed"),
        ("Cancelled", "Cancelled"),
        ("TimedOut", "Execution Timed Out"),
        ("TimedOut", "Delivery Timed Out"),
        ("Failed", "Undeliverable"),
        ("Failed", "Terminated"),
    ] {
        let end = invocation_step(status, details, "partial\n", "boom\n");
        let fake = FakeSsm::start(vec![answer("InProgress", "InProgress", ""), end]);
        let (out, _) = run_wait(&fake, None, "");
        assert_exit(&out, 1);
        assert_status(&out, status, details);
        assert_calls(&fake, 2, &out);
        // The final invocation is printed exactly like `get` prints it.
        let got = ssmres(&fake, "get", "-o json");
        assert_exit(&got, 0);
        let why = format!("wait and get print the same final {status}/{details}");
        assert_eq!(out.stdout, got.stdout, "{why}");
    }
}

#[test]
fn terminal_failure_in_text_mode_prints_the_outputs_and_exits_1() {
    let fake = FakeSsm::always(invocation_step("Failed", "Failed", "out ✓\n", "err\n"));
    let out = ssmres(&fake, "wait", &format!("{} -o text", FAST_POLL.join(" ")));
    assert_output(&out, 1, "out ✓\n", "err\n");
}

#[test]
fn bursts_of_transient_errors_are_ridden_out() {
    let slow_down = Step::Error(
        429,
        "SlowDown".into(),
        "Please reduce your request rate.".into(),
    );
    for (what, fault, n) in [
        ("throttling", Step::throttled(), 4),
        ("server errors", Step::Status500, 3),
        // HTTP 429 is transient whatever the code says, even one no SDK knows. Two attempts
        // per poll: 5 calls whether the SDK retries the 429s or the poll loop does.
        ("429 with any code", slow_down, 4),
    ] {
        let fake =
            FakeSsm::start([vec![fault; n], vec![answer("Success", "Success", "ok\n")]].concat());
        let (out, took) = run_wait(&fake, Some("2"), "");
        assert_exit(&out, 0);
        assert_status(&out, "Success", "Success");
        assert_calls(&fake, n + 1, &out);
        assert!(took < Duration::from_secs(10), "{what} took {took:?}");
    }
}

#[test]
fn timeout_prints_the_last_seen_invocation_and_exits_4() {
    let fake = FakeSsm::always(answer("InProgress", "InProgress", "still going"));
    let (out, took) = run_wait(&fake, None, "--timeout 1s");
    assert_exit(&out, 4);
    assert_status(&out, "InProgress", "InProgress");
    assert_eq!(stdout_json(&out)["StandardOutputContent"], "still going");
    let line = assert_single_stderr_line(&out);
    let said = line.starts_with("error:") && line.contains("last status: InProgress");
    assert!(
        said,
        "the timeout message should give the last status seen: {line:?}"
    );
    // Not before the deadline; the upper bound only guards against a timeout that never fires.
    let deadline = took >= Duration::from_millis(950) && took < Duration::from_secs(10);
    assert!(deadline, "--timeout 1s took {took:?}");
    check!(out, fake.count(GET_COMMAND_INVOCATION) >= 3);
}

#[test]
fn timeout_in_text_mode_prints_only_the_last_seen_content() {
    for content in ["", "so far \u{2713}\n"] {
        let fake = FakeSsm::always(answer("InProgress", "In Progress", content));
        let out = ssmres(
            &fake,
            "wait",
            &format!("{} --timeout 2s -o text", FAST_POLL.join(" ")),
        );
        assert_exit(&out, 4);
        // stdout: the command's output so far, and nothing else (no status, no message).
        check_eq!(out, out.stdout, content.as_bytes());
        let line = assert_single_stderr_line(&out);
        let said = line.starts_with("error:") && line.contains("last status: InProgress");
        assert!(said, "stderr: {line:?}");
    }
}

#[test]
fn timeout_before_anything_was_seen_prints_nothing_and_exits_4() {
    let fake = FakeSsm::always(Step::not_found());
    let line = assert_error(&run_wait(&fake, None, "--timeout 2s").0, 4);
    assert!(line.contains("never visible"), "nothing was seen: {line:?}");
    assert!(!line.contains("last status"), "stderr: {line:?}");
    assert!(fake.count(GET_COMMAND_INVOCATION) >= 2);
}

#[test]
fn not_found_beyond_grace_exits_3_and_says_what_to_check() {
    let fake = FakeSsm::always(Step::not_found());
    let (out, took) = run_wait(&fake, None, "--not-found-grace 300ms");
    let line = assert_error(&out, 3);
    for what in ["command", "instance", "region"] {
        let why = format!("stderr should mention {what}: {line:?}");
        assert!(line.to_lowercase().contains(what), "{why}");
    }
    // Not before the grace ran out; it kept polling during it.
    assert!(
        took >= Duration::from_millis(300),
        "grace 300ms, took {took:?}"
    );
    check!(out, fake.count(GET_COMMAND_INVOCATION) >= 2);
}

#[test]
fn five_consecutive_failed_polls_exit_3_and_a_good_poll_resets_the_count() {
    let fake = FakeSsm::always(Step::Status500);
    let (out, took) = run_wait(&fake, Some("1"), "");
    assert_error(&out, 3);
    assert_calls(&fake, 5, &out);
    // Five short backoffs, not a wait for ever: generous for a busy machine.
    assert!(
        took < Duration::from_secs(20),
        "five failed polls took {took:?}"
    );

    let running = vec![answer("InProgress", "InProgress", "")];
    let done = vec![answer("Success", "Success", "ok\n")];
    let steps = [
        vec![Step::Status500; 4],
        running,
        vec![Step::throttled(); 4],
        done,
    ]
    .concat();
    let fake = FakeSsm::start(steps);
    let (out, _) = run_wait(&fake, Some("1"), "");
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_calls(&fake, 10, &out);
}

/// Asserts the polls at `times` follow `--min-interval min --max-interval max`: each interval
/// is 5 % of the time waited so far, within [min, max], with ±10 % jitter (the schedule itself:
/// `src/poll_tests.rs`). Sleeps are never shorter than asked, so the floors hold on any
/// machine; a busy one may stretch a gap, so the cap is checked on the median gap.
#[track_caller]
fn assert_polls_follow(times: &[Instant], min: Duration, max: Duration) {
    let mut gaps: Vec<Duration> = times.windows(2).map(|p| p[1] - p[0]).collect();
    for (pair, gap) in times.windows(2).zip(&gaps) {
        // The time since the first poll is a lower bound of the time waited.
        let waited = pair[0] - times[0];
        let floor = (waited / 20).clamp(min, max).mul_f64(0.9) - Duration::from_millis(2);
        assert!(
            *gap >= floor,
            "poll {gap:?} after the previous one, {waited:?} into the wait (floor {floor:?})"
        );
    }
    gaps.sort();
    let median = gaps[gaps.len() / 2];
    let why = format!("median gap {median:?} with --max-interval {max:?}: {gaps:?}");
    assert!(median <= max * 3, "{why}");
}

#[test]
fn polls_follow_the_interval_flags() {
    let ms = Duration::from_millis;
    let running = answer("InProgress", "InProgress", "");
    let fake = FakeSsm::start(
        [
            vec![running.clone(); 10],
            vec![answer("Success", "Success", "ok\n")],
        ]
        .concat(),
    );
    let (out, took) = run_wait(&fake, None, "");
    assert_exit(&out, 0);
    assert_calls(&fake, 11, &out);
    assert_polls_follow(&arrivals(&fake), ms(20), ms(100));
    // Eleven polls at most 100 ms apart: about a second; generous for a busy machine.
    assert!(took < Duration::from_secs(20), "eleven polls took {took:?}");

    // Growing with the time waited, until the deadline.
    let fake = FakeSsm::always(running);
    let started = Instant::now();
    let out = ssmres(
        &fake,
        "wait",
        "--min-interval 20ms --max-interval 150ms --timeout 2s -o json",
    );
    assert_exit(&out, 4);
    // The last look may have been cut by the deadline before the fake read it.
    fake.settle();
    let mut times = arrivals(&fake);
    check!(out, times.len() >= 6, "{} polls", times.len());
    // The last call is the last look at the deadline, off the schedule.
    let last_look = times.pop().unwrap();
    let why = "the last look came before the deadline";
    assert!(last_look - started >= Duration::from_secs(2), "{why}");
    assert_polls_follow(&times, ms(20), ms(150));
}

#[test]
fn a_last_look_at_the_deadline_sees_the_command_that_just_ended() {
    // Polls 10 s apart: the first, at once, sees it running; the next would come after the 3 s
    // deadline, so the wait sleeps until the deadline and takes one last look there, which sees
    // Success: the command ended in time, and is reported so.
    let end = answer("Success", "Success", "just in time\n");
    let fake = FakeSsm::start(vec![answer("InProgress", "InProgress", ""), end]);
    let started = Instant::now();
    let out = ssmres(
        &fake,
        "wait",
        "--min-interval 10s --max-interval 10s --timeout 3s -o json",
    );
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_eq!(stdout_json(&out)["StandardOutputContent"], "just in time\n");
    check!(out, out.stderr.is_empty());
    let times = arrivals(&fake);
    check_eq!(out, times.len(), 2, "the first poll and the last look");
    // The last look is made at the deadline, not before it.
    let last_look = times[1] - started;
    assert!(
        last_look >= Duration::from_secs(3),
        "the last look came {last_look:?} after the start"
    );
}

// --- SIGINT ---------------------------------------------------------------

/// Starts `ssmres SUBCOMMAND` with the fake's ids, JSON output and `extra`, interrupts it once
/// the fake has answered its first call ([`Spawned::interrupt`]).
fn interrupt_after_the_first_call(fake: &FakeSsm, subcommand: &str, extra: &str) {
    let mut cmd = Cli::new(&fake.url()).cmd();
    let mut run = Spawned::start(
        cmd.arg(subcommand)
            .args(ids())
            .args(["-o", "json"])
            .args(extra.words()),
    );
    run.until(
        "a first call",
        fake.wait(|| fake.count(GET_COMMAND_INVOCATION) >= 1),
    );
    run.interrupt();
}

#[test]
fn sigint_while_polling_during_a_long_sleep_or_a_slow_request_exits_130() {
    let in_progress = || answer("InProgress", "InProgress", "partial");
    let fast = FAST_POLL.join(" ");
    interrupt_after_the_first_call(&FakeSsm::always(in_progress()), "wait", &fast);

    // The first poll is made at once, then the binary sleeps 30 s.
    let fake = FakeSsm::always(in_progress());
    interrupt_after_the_first_call(&fake, "wait", "--min-interval 30s --max-interval 30s");
    assert_eq!(fake.count(GET_COMMAND_INVOCATION), 1);

    for (subcommand, extra) in [("wait", fast.as_str()), ("get", "")] {
        let slow = Step::delayed(
            Duration::from_secs(30),
            answer("Success", "Success", "too late\n"),
        );
        let fake = FakeSsm::always(slow);
        interrupt_after_the_first_call(&fake, subcommand, extra);
        assert_eq!(fake.count(GET_COMMAND_INVOCATION), 1, "{subcommand}");
    }
}
