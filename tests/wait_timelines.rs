//! `ssmres wait` against scripted timelines of GetCommandInvocation answers.
//!
//! Each test asserts what a user notices: the exit code, what lands on stdout
//! and stderr, how long it took, and how many calls hit the endpoint.

mod support;

use std::process::{Child, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::fake_ssm::{FakeSsm, Step, invocation_step};
use support::{
    Cli, FAST_POLL, assert_exit, assert_single_stderr_line, describe, ids, stderr_str, stdout_json,
};

/// `wait` with the fake's ids, fast polling, JSON output, plus `extra`.
fn wait_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["wait"];
    args.extend(ids());
    args.extend(FAST_POLL);
    args.extend(["-o", "json"]);
    args.extend(extra);
    args
}

fn run_wait(fake: &FakeSsm, max_attempts: Option<&str>, extra: &[&str]) -> (Output, Duration) {
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.cmd();
    if let Some(n) = max_attempts {
        cmd.env("AWS_MAX_ATTEMPTS", n);
    }
    let started = Instant::now();
    let out = cmd.args(wait_args(extra)).output().unwrap();
    (out, started.elapsed())
}

#[track_caller]
fn assert_status(out: &Output, status: &str, details: &str) {
    let v = stdout_json(out);
    assert_eq!(v["Status"], status, "{}", describe(out));
    assert_eq!(v["StatusDetails"], details, "{}", describe(out));
}

#[track_caller]
fn assert_calls(fake: &FakeSsm, expected: usize, out: &Output) {
    assert_eq!(
        fake.get_invocation_calls(),
        expected,
        "GetCommandInvocation calls\n{}",
        describe(out)
    );
}

#[test]
fn success_at_first_poll_exits_0_after_one_call() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "done\n", ""));
    let (out, _) = run_wait(&fake, None, &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_eq!(stdout_json(&out)["StandardOutputContent"], "done\n");
    assert_calls(&fake, 1, &out);
}

#[test]
fn invisible_then_appearing_invocation_is_waited_for() {
    let fake = FakeSsm::start(vec![
        Step::not_found(),
        Step::not_found(),
        Step::not_found(),
        invocation_step("Success", "Success", "hi\n", ""),
    ]);
    let (out, _) = run_wait(&fake, None, &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_calls(&fake, 4, &out);
}

#[test]
fn pending_then_in_progress_then_success() {
    let fake = FakeSsm::start(vec![
        invocation_step("Pending", "Pending", "", ""),
        invocation_step("InProgress", "InProgress", "", ""),
        invocation_step("InProgress", "InProgress", "half", ""),
        invocation_step("Success", "Success", "all done\n", ""),
    ]);
    let (out, _) = run_wait(&fake, None, &[]);
    assert_exit(&out, 0);
    // stdout is one JSON document: the final invocation and nothing else.
    assert_status(&out, "Success", "Success");
    assert_eq!(stdout_json(&out)["StandardOutputContent"], "all done\n");
    assert_calls(&fake, 4, &out);
}

#[test]
fn each_terminal_failure_exits_1_and_prints_it() {
    for (status, details) in [
        ("Failed", "Failed"),
        ("Cancelled", "Cancelled"),
        ("TimedOut", "Execution Timed Out"),
        ("TimedOut", "Delivery Timed Out"),
        ("Failed", "Undeliverable"),
        ("Failed", "Terminated"),
    ] {
        let fake = FakeSsm::start(vec![
            invocation_step("InProgress", "InProgress", "", ""),
            invocation_step(status, details, "partial\n", "boom\n"),
        ]);
        let (out, _) = run_wait(&fake, None, &[]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{status}/{details} should exit 1\n{}",
            describe(&out)
        );
        assert_status(&out, status, details);
        assert_calls(&fake, 2, &out);

        // The final invocation is printed exactly like `get` prints it.
        let cli = Cli::new(&fake.url());
        let mut get = vec!["get"];
        get.extend(ids());
        get.extend(["-o", "json"]);
        let got = cli.cmd().args(&get).output().unwrap();
        assert_exit(&got, 0);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&got.stdout),
            "wait and get print the same final invocation for {status}/{details}"
        );
    }
}

#[test]
fn terminal_failure_in_text_mode_prints_the_outputs_and_exits_1() {
    let fake = FakeSsm::always(invocation_step("Failed", "Failed", "out ✓\n", "err\n"));
    let cli = Cli::new(&fake.url());
    let mut args = vec!["wait"];
    args.extend(ids());
    args.extend(FAST_POLL);
    args.extend(["-o", "text"]);
    let out = cli.cmd().args(&args).output().unwrap();
    assert_exit(&out, 1);
    assert_eq!(out.stdout, "out ✓\n".as_bytes(), "{}", describe(&out));
    assert_eq!(out.stderr, b"err\n", "{}", describe(&out));
}

#[test]
fn throttling_burst_is_ridden_out() {
    let fake = FakeSsm::start(vec![
        Step::throttled(),
        Step::throttled(),
        Step::throttled(),
        Step::throttled(),
        invocation_step("Success", "Success", "ok\n", ""),
    ]);
    let (out, took) = run_wait(&fake, Some("2"), &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_calls(&fake, 5, &out);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn server_error_burst_is_ridden_out() {
    let fake = FakeSsm::start(vec![
        Step::Status500,
        Step::Status500,
        Step::Status500,
        invocation_step("Success", "Success", "ok\n", ""),
    ]);
    let (out, took) = run_wait(&fake, Some("2"), &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_calls(&fake, 4, &out);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn too_many_requests_with_any_error_code_is_ridden_out() {
    // HTTP 429 is transient whatever the code says, even one no SDK knows.
    let slow_down = Step::Error(
        429,
        "SlowDown".into(),
        "Please reduce your request rate.".into(),
    );
    let mut steps = vec![slow_down; 4];
    steps.push(invocation_step("Success", "Success", "ok\n", ""));
    let fake = FakeSsm::start(steps);
    // Two attempts per poll: 5 calls whether the SDK retries the 429s or the poll loop does.
    let (out, took) = run_wait(&fake, Some("2"), &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_calls(&fake, 5, &out);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn dropped_connection_is_ridden_out() {
    let fake = FakeSsm::start(vec![
        invocation_step("InProgress", "InProgress", "", ""),
        Step::DropConnection,
        invocation_step("Success", "Success", "ok\n", ""),
    ]);
    let (out, _) = run_wait(&fake, Some("2"), &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_calls(&fake, 3, &out);
}

#[test]
fn slow_answer_is_waited_for() {
    let fake = FakeSsm::start(vec![
        Step::delayed(
            Duration::from_millis(400),
            invocation_step("InProgress", "InProgress", "", ""),
        ),
        invocation_step("Success", "Success", "ok\n", ""),
    ]);
    let (out, _) = run_wait(&fake, None, &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_calls(&fake, 2, &out);
}

#[test]
fn unknown_status_is_not_terminal() {
    let fake = FakeSsm::start(vec![
        invocation_step("Paused", "Paused", "", ""),
        invocation_step("Paused", "Paused", "", ""),
        invocation_step("Success", "Success", "resumed\n", ""),
    ]);
    let (out, _) = run_wait(&fake, None, &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    // It kept polling through the unknown status instead of stopping there.
    assert_calls(&fake, 3, &out);
}

#[test]
fn timeout_prints_last_seen_invocation_and_exits_4() {
    let fake = FakeSsm::always(invocation_step(
        "InProgress",
        "InProgress",
        "still going",
        "",
    ));
    let (out, took) = run_wait(&fake, None, &["--timeout", "1s"]);
    assert_exit(&out, 4);
    assert_status(&out, "InProgress", "InProgress");
    assert_eq!(stdout_json(&out)["StandardOutputContent"], "still going");
    let line = assert_single_stderr_line(&out);
    assert!(line.starts_with("error:"), "stderr: {line:?}");
    assert!(
        line.contains("last status: InProgress"),
        "the timeout message should give the last status seen: {line:?}"
    );
    // The upper bound only guards against a timeout that does not fire.
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(5),
        "--timeout 1s took {took:?}"
    );
    assert!(fake.get_invocation_calls() >= 3, "{}", describe(&out));
}

#[test]
fn timeout_in_text_mode_prints_only_the_last_seen_content() {
    for content in ["", "so far \u{2713}\n"] {
        let fake = FakeSsm::always(invocation_step("InProgress", "In Progress", content, ""));
        let cli = Cli::new(&fake.url());
        let mut args = vec!["wait"];
        args.extend(ids());
        args.extend(FAST_POLL);
        args.extend(["--timeout", "500ms", "-o", "text"]);
        let started = Instant::now();
        let out = cli.cmd().args(&args).output().unwrap();
        let took = started.elapsed();
        assert_exit(&out, 4);
        // stdout: the command's output so far, and nothing else (no status, no message).
        assert_eq!(out.stdout, content.as_bytes(), "{}", describe(&out));
        let line = assert_single_stderr_line(&out);
        assert!(
            line.starts_with("error:") && line.contains("last status: InProgress"),
            "stderr: {line:?}"
        );
        assert!(took < Duration::from_secs(5), "took {took:?}");
    }
}

#[test]
fn timeout_before_anything_was_seen_prints_nothing_and_exits_4() {
    let fake = FakeSsm::always(Step::not_found());
    let (out, took) = run_wait(&fake, None, &["--timeout", "500ms"]);
    assert_exit(&out, 4);
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    let line = assert_single_stderr_line(&out);
    assert!(line.starts_with("error:"), "stderr: {line:?}");
    assert!(
        line.contains("never visible"),
        "the timeout message should say nothing was seen: {line:?}"
    );
    assert!(!line.contains("last status"), "stderr: {line:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(fake.get_invocation_calls() >= 2, "{}", describe(&out));
}

#[test]
fn not_found_beyond_grace_exits_3_and_says_what_to_check() {
    let fake = FakeSsm::always(Step::not_found());
    let (out, took) = run_wait(&fake, None, &["--not-found-grace", "300ms"]);
    assert_exit(&out, 3);
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    let line = assert_single_stderr_line(&out);
    assert!(line.starts_with("error:"), "stderr: {line:?}");
    let lower = line.to_lowercase();
    for what in ["command", "instance", "region"] {
        assert!(
            lower.contains(what),
            "stderr should mention {what}: {line:?}"
        );
    }
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "grace 300ms, took {took:?}"
    );
    // It kept polling during the grace window.
    assert!(fake.get_invocation_calls() >= 2, "{}", describe(&out));
}

#[test]
fn five_consecutive_failed_polls_exit_3() {
    let fake = FakeSsm::always(Step::Status500);
    let (out, took) = run_wait(&fake, Some("1"), &[]);
    assert_exit(&out, 3);
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    let line = assert_single_stderr_line(&out);
    assert!(line.starts_with("error:"), "stderr: {line:?}");
    assert_calls(&fake, 5, &out);
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn four_failed_polls_do_not_end_the_wait() {
    let fake = FakeSsm::start(vec![
        Step::Status500,
        Step::Status500,
        Step::Status500,
        Step::Status500,
        invocation_step("Success", "Success", "ok\n", ""),
    ]);
    let (out, _) = run_wait(&fake, Some("1"), &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_calls(&fake, 5, &out);
}

#[test]
fn failure_count_resets_after_a_successful_poll() {
    let mut steps = vec![Step::Status500; 4];
    steps.push(invocation_step("InProgress", "InProgress", "", ""));
    steps.extend(vec![Step::throttled(); 4]);
    steps.push(invocation_step("Success", "Success", "ok\n", ""));
    let fake = FakeSsm::start(steps);
    let (out, _) = run_wait(&fake, Some("1"), &[]);
    assert_exit(&out, 0);
    assert_status(&out, "Success", "Success");
    assert_calls(&fake, 10, &out);
}

#[test]
fn polls_are_spaced_between_min_and_max_interval() {
    let mut steps = vec![invocation_step("InProgress", "InProgress", "", ""); 10];
    steps.push(invocation_step("Success", "Success", "ok\n", ""));
    let fake = FakeSsm::start(steps);
    let (out, took) = run_wait(&fake, None, &[]);
    assert_exit(&out, 0);
    assert_calls(&fake, 11, &out);
    let times: Vec<Instant> = fake
        .get_invocation_requests()
        .iter()
        .map(|r| r.at)
        .collect();
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(10),
            "polls only {gap:?} apart with --min-interval 20ms"
        );
        // 100 ms + 10 % jitter, plus room for a loaded machine.
        assert!(
            gap <= Duration::from_millis(500),
            "polls {gap:?} apart with --max-interval 100ms"
        );
    }
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn poll_interval_grows_with_the_time_waited() {
    // Each interval is 5 % of the time waited so far, within [min, max], with ±10 % jitter.
    let fake = FakeSsm::always(invocation_step("InProgress", "InProgress", "", ""));
    let cli = Cli::new(&fake.url());
    let mut args = vec!["wait"];
    args.extend(ids());
    args.extend(["--min-interval", "20ms", "--max-interval", "150ms"]);
    args.extend(["--timeout", "2s", "-o", "json"]);
    let started = Instant::now();
    let out = cli.cmd().args(&args).output().unwrap();
    assert_exit(&out, 4);
    let mut times: Vec<Instant> = fake
        .get_invocation_requests()
        .iter()
        .map(|r| r.at)
        .collect();
    assert!(
        times.len() >= 6,
        "{} polls\n{}",
        times.len(),
        describe(&out)
    );
    // The last call is the last look at the deadline, off the schedule: as soon as the next
    // scheduled poll would fall after the deadline, the wait sleeps until the deadline.
    let last_look = times.pop().unwrap();
    assert!(
        last_look - started >= Duration::from_secs(2),
        "the last look came {:?} after the start, before the 2s deadline",
        last_look - started
    );
    assert!(
        last_look - *times.last().unwrap() <= Duration::from_millis(600),
        "the last look came {:?} after the last poll, more than --max-interval 150ms",
        last_look - *times.last().unwrap()
    );
    let (min, max) = (Duration::from_millis(20), Duration::from_millis(150));
    for pair in times.windows(2) {
        // The time since the first poll is a lower bound of the time waited, so this floor
        // holds however slow the start was.
        let waited = pair[0] - times[0];
        let floor = (waited / 20).clamp(min, max).mul_f64(0.9) - Duration::from_millis(2);
        let gap = pair[1] - pair[0];
        assert!(
            gap >= floor,
            "poll {gap:?} after the previous one, {waited:?} into the wait (floor {floor:?})"
        );
        // The cap, plus room for a loaded machine.
        assert!(
            gap <= Duration::from_millis(600),
            "polls {gap:?} apart with --max-interval 150ms"
        );
    }
}

// --- SIGINT ---------------------------------------------------------------

fn spawn_wait(cli: &Cli, extra: &[&str]) -> Child {
    let mut args = vec!["wait"];
    args.extend(ids());
    args.extend(["-o", "json"]);
    args.extend(extra);
    cli.std_cmd()
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ssmres")
}

/// Sends SIGINT with `sh`'s builtin `kill` (no external kill binary, no libc dependency) and
/// returns the output and how long the binary took to exit after the signal (killing it if it
/// is still running 5 s later).
fn interrupt(mut child: Child) -> (Output, Duration) {
    let sent = Instant::now();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill -INT {}", child.id()))
        .status()
        .expect("run sh -c kill");
    assert!(status.success(), "kill -INT failed");
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if sent.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "ssmres still running 5 s after SIGINT (killed)\n{}",
                describe(&out)
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
    let took = sent.elapsed();
    (child.wait_with_output().unwrap(), took)
}

#[track_caller]
fn assert_interrupted(out: &Output, took: Duration) {
    assert_exit(out, 130);
    assert!(
        out.stdout.is_empty(),
        "nothing expected on stdout after SIGINT\n{}",
        describe(out)
    );
    // The contract says within a second; the rest is room for `sh` and a loaded machine.
    assert!(took <= Duration::from_secs(3), "exit took {took:?}");
    let err = stderr_str(out);
    assert!(!err.contains("panicked"), "{}", describe(out));
}

#[test]
fn sigint_while_polling_exits_130() {
    let fake = FakeSsm::always(invocation_step("InProgress", "InProgress", "partial", ""));
    let cli = Cli::new(&fake.url());
    let mut child = spawn_wait(&cli, &FAST_POLL);
    if !fake.wait_for_calls(1, Duration::from_secs(5)) {
        let _ = child.kill();
        panic!(
            "no poll within 5 s\n{}",
            describe(&child.wait_with_output().unwrap())
        );
    }
    let (out, took) = interrupt(child);
    assert_interrupted(&out, took);
}

#[test]
fn sigint_during_a_long_sleep_exits_130() {
    let fake = FakeSsm::always(invocation_step("InProgress", "InProgress", "", ""));
    let cli = Cli::new(&fake.url());
    // The first poll is made at once, then the binary sleeps 10 s.
    let mut child = spawn_wait(&cli, &["--min-interval", "10s", "--max-interval", "10s"]);
    if !fake.wait_for_calls(1, Duration::from_secs(5)) {
        let _ = child.kill();
        panic!(
            "first poll not made at once\n{}",
            describe(&child.wait_with_output().unwrap())
        );
    }
    thread::sleep(Duration::from_millis(200));
    let (out, took) = interrupt(child);
    assert_interrupted(&out, took);
    assert_eq!(fake.get_invocation_calls(), 1);
}

#[test]
fn sigint_during_a_slow_request_exits_130() {
    let fake = FakeSsm::always(Step::delayed(
        Duration::from_secs(10),
        invocation_step("Success", "Success", "too late\n", ""),
    ));
    let cli = Cli::new(&fake.url());
    let mut child = spawn_wait(&cli, &FAST_POLL);
    if !fake.wait_for_calls(1, Duration::from_secs(5)) {
        let _ = child.kill();
        panic!(
            "no poll within 5 s\n{}",
            describe(&child.wait_with_output().unwrap())
        );
    }
    let (out, took) = interrupt(child);
    assert_interrupted(&out, took);
}

#[test]
fn a_last_look_at_the_deadline_sees_the_command_that_just_ended() {
    // Polls every 400 ms from the start: at about 0, 400 and 800 ms, all InProgress. The next
    // would come after the 1 s deadline, so the wait sleeps until the deadline and takes one
    // last look there, which sees Success: the command ended in time, and is reported so.
    let (min, max, timeout) = ("400ms", "400ms", "1s");
    let regular_polls = 3;
    for attempt in 1..=3 {
        let mut steps = vec![invocation_step("InProgress", "InProgress", "", ""); regular_polls];
        steps.push(invocation_step("Success", "Success", "just in time\n", ""));
        let fake = FakeSsm::start(steps);
        let cli = Cli::new(&fake.url());
        let mut args = vec!["wait"];
        args.extend(ids());
        args.extend(["--min-interval", min, "--max-interval", max]);
        args.extend(["--timeout", timeout, "-o", "json"]);
        let started = Instant::now();
        let out = cli.cmd().args(&args).output().unwrap();
        let took = started.elapsed();
        let arrived: Vec<Duration> = fake
            .get_invocation_requests()
            .iter()
            .map(|r| r.at.saturating_duration_since(started))
            .collect();
        // The third regular poll only fits before the deadline when the binary starts within
        // about 150 ms; on a machine too busy for that, the third answer is the last look.
        if arrived.len() >= regular_polls
            && arrived[regular_polls - 1] >= Duration::from_millis(900)
        {
            eprintln!("attempt {attempt}: start too slow for the timeline ({arrived:?}), again");
            continue;
        }
        assert_exit(&out, 0);
        assert_status(&out, "Success", "Success");
        assert_eq!(stdout_json(&out)["StandardOutputContent"], "just in time\n");
        assert!(out.stderr.is_empty(), "{}", describe(&out));
        assert_eq!(
            arrived.len(),
            regular_polls + 1,
            "three polls and the last look: {arrived:?}\n{}",
            describe(&out)
        );
        // The last look is made at the deadline, not before it.
        assert!(
            arrived[regular_polls] >= Duration::from_millis(1000),
            "the last look came {:?} after the start, before the deadline: {arrived:?}",
            arrived[regular_polls]
        );
        assert!(took < Duration::from_secs(4), "took {took:?}");
        return;
    }
    panic!("the binary never started fast enough for the timeline (3 attempts)");
}

#[test]
fn sigint_during_get_exits_130() {
    let fake = FakeSsm::always(Step::delayed(
        Duration::from_secs(10),
        invocation_step("Success", "Success", "too late\n", ""),
    ));
    let cli = Cli::new(&fake.url());
    let mut args = vec!["get"];
    args.extend(ids());
    args.extend(["-o", "json"]);
    let mut child = cli
        .std_cmd()
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ssmres");
    if !fake.wait_for_calls(1, Duration::from_secs(5)) {
        let _ = child.kill();
        panic!(
            "no request within 5 s\n{}",
            describe(&child.wait_with_output().unwrap())
        );
    }
    let (out, took) = interrupt(child);
    assert_interrupted(&out, took);
    assert_eq!(fake.get_invocation_calls(), 1, "{}", describe(&out));
}
