//! Cancelling what a `wait` waits on: `--cancel-on-interrupt` (Ctrl-C) and
//! `--cancel-on-timeout` (`--timeout` passed) send CancelCommand (aliyun: StopInvocation) for
//! exactly what is waited on, say so on stderr, poll a few seconds to show the state it
//! reaches, and exit 130 (interrupt) or 4 (timeout); a second Ctrl-C while that happens exits
//! at once. Without the flags nothing is ever cancelled.
//!
//! The binary is spawned with std::process::Command and interrupted with `kill -INT` once the
//! fake has seen it poll.

mod support;

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::fake_ecs::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeEcs, INVOKE_ID, Instance, REGION_ID, Recorded, World,
    instance_id as ecs_instance_id,
};
use support::fake_multi::{
    CANCEL_COMMAND, CMD_ID, FakeMulti, LIST_COMMAND_INVOCATIONS, LIST_COMMANDS, MultiInstance,
    MultiWorld, StepSpec,
};
use support::fake_ssm::{INSTANCE_ID, fleet_instance_id};
use support::{Cli, FAST_POLL, assert_exit, describe, stderr_str};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A running binary, its environment and when it started.
struct Running {
    child: Child,
    started: Instant,
    _cli: Cli,
}

fn spawn((cli, mut cmd): (Cli, Command)) -> Running {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ssmres");
    Running {
        child,
        started: Instant::now(),
        _cli: cli,
    }
}

/// Kills the child and returns what it printed.
fn kill_and_collect(child: &mut Child) -> Output {
    let _ = child.kill();
    let status = child.wait().expect("wait for the child");
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_end(&mut stdout);
    }
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_end(&mut stderr);
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

impl Running {
    /// Waits until `ready` holds (the fake saw a poll); kills the binary and panics after 10 s.
    fn until(&mut self, what: &str, ready: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready() {
            if Instant::now() > deadline || self.child.try_wait().unwrap().is_some() {
                let out = kill_and_collect(&mut self.child);
                panic!(
                    "{what}: not seen within 10 s (or the binary ended)\n{}",
                    describe(&out)
                );
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends SIGINT with `kill -INT <pid>`.
    fn sigint(&self) -> Instant {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -INT failed");
        Instant::now()
    }

    /// Waits for the exit (at most `limit`, else kills it and panics); the run and when it
    /// ended.
    fn finish(mut self, limit: Duration) -> (Output, Instant) {
        let deadline = Instant::now() + limit;
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let out = kill_and_collect(&mut self.child);
                panic!("still running after {limit:?}; killed\n{}", describe(&out));
            }
            thread::sleep(Duration::from_millis(5));
        }
        let ended = Instant::now();
        (self.child.wait_with_output().unwrap(), ended)
    }
}

/// `ssmres wait --command-id CMD_ID [--instance-id …] <fast polling> EXTRA` against the fake.
fn aws_wait(fake: &FakeMulti, instances: &[&str], extra: &[&str]) -> (Cli, Command) {
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.std_cmd();
    cmd.args(["wait", "--command-id", CMD_ID]);
    for id in instances {
        cmd.args(["--instance-id", id]);
    }
    cmd.args(FAST_POLL).args(extra);
    (cli, cmd)
}

/// One single-step invocation on INSTANCE_ID that runs until cancelled.
fn running_one() -> MultiWorld {
    MultiWorld::one(MultiInstance::single(
        INSTANCE_ID,
        StepSpec::new("x").never_ends(),
    ))
}

/// Two single-step invocations that run until cancelled.
fn running_two() -> MultiWorld {
    MultiWorld::new(vec![
        MultiInstance::single(fleet_instance_id(0), StepSpec::new("x").never_ends()),
        MultiInstance::single(fleet_instance_id(1), StepSpec::new("x").never_ends()),
    ])
}

/// The lines of stderr.
fn stderr_lines(out: &Output) -> Vec<String> {
    stderr_str(out).lines().map(str::to_owned).collect()
}

/// Asserts stderr says that a cancellation was sent, then shows `final_status` (on that line
/// or a later one).
#[track_caller]
fn assert_cancel_reported(out: &Output, final_status: &str) {
    let lines = stderr_lines(out);
    let Some(said) = lines
        .iter()
        .position(|l| l.to_lowercase().contains("cancel"))
    else {
        panic!(
            "no stderr line says the command is being cancelled\n{}",
            describe(out)
        );
    };
    assert!(
        lines[said..].iter().any(|l| l.contains(final_status)),
        "no stderr line shows the state reached ({final_status}) after the cancellation\n{}",
        describe(out)
    );
    assert!(!stderr_str(out).contains("panicked"), "{}", describe(out));
}

/// The CancelCommand bodies, with `InstanceIds` sorted.
fn cancels(fake: &FakeMulti) -> Vec<Value> {
    fake.cancel_requests()
        .into_iter()
        .map(|mut body| {
            if let Some(ids) = body.get_mut("InstanceIds").and_then(Value::as_array_mut) {
                ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            body
        })
        .collect()
}

/// Asserts the binary polled after its CancelCommand (to show the state it reached).
#[track_caller]
fn assert_polled_after_cancel(fake: &FakeMulti, target: &str, out: &Output) {
    let calls = fake.calls();
    let cancel = calls
        .iter()
        .position(|c| c.is(CANCEL_COMMAND))
        .expect("a CancelCommand");
    assert!(
        calls[cancel..].iter().any(|c| c.is(target)),
        "no {target} after CancelCommand\n{}",
        describe(out)
    );
}

// ---------------------------------------------------------------------------------------------
// AWS: --cancel-on-interrupt
// ---------------------------------------------------------------------------------------------

#[test]
fn ctrl_c_cancels_the_instance_waited_on_shows_cancelled_and_exits_130() {
    let fake = FakeMulti::start(running_one());
    let mut run = spawn(aws_wait(
        &fake,
        &[INSTANCE_ID],
        &["--cancel-on-interrupt", "-o", "json"],
    ));
    run.until("a second poll", || fake.round() >= 2);
    let sent = run.sigint();
    let (out, ended) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 130);
    assert_eq!(
        cancels(&fake),
        [json!({ "CommandId": CMD_ID, "InstanceIds": [INSTANCE_ID] })],
        "one CancelCommand for the instance waited on\n{}",
        describe(&out)
    );
    assert_cancel_reported(&out, "Cancelled");
    assert_polled_after_cancel(&fake, LIST_COMMAND_INVOCATIONS, &out);
    let took = ended - sent;
    assert!(
        took < Duration::from_secs(7),
        "polls a few seconds at most after the cancel: took {took:?}"
    );
}

#[test]
fn ctrl_c_on_a_whole_command_wait_cancels_the_whole_command() {
    let fake = FakeMulti::start(running_two());
    let mut run = spawn(aws_wait(
        &fake,
        &[],
        &["--cancel-on-interrupt", "-o", "json"],
    ));
    run.until("a second round", || fake.calls_to(LIST_COMMANDS).len() >= 2);
    run.sigint();
    let (out, _) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 130);
    assert_eq!(
        cancels(&fake),
        [json!({ "CommandId": CMD_ID })],
        "no InstanceIds for a whole-command wait\n{}",
        describe(&out)
    );
    assert_cancel_reported(&out, "Cancelled");
}

#[test]
fn ctrl_c_on_a_named_set_cancels_those_instances() {
    let fake = FakeMulti::start(running_two());
    let (a, b) = (fleet_instance_id(1), fleet_instance_id(0));
    let mut run = spawn(aws_wait(
        &fake,
        &[&a, &b],
        &["--cancel-on-interrupt", "-o", "json"],
    ));
    run.until("a second round", || fake.calls_to(LIST_COMMANDS).len() >= 2);
    run.sigint();
    let (out, _) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 130);
    assert_eq!(
        cancels(&fake),
        [json!({ "CommandId": CMD_ID, "InstanceIds": [b, a] })],
        "{}",
        describe(&out)
    );
    assert_cancel_reported(&out, "Cancelled");
}

#[test]
fn a_second_ctrl_c_while_cancelling_exits_130_at_once() {
    let fake = FakeMulti::start(running_one().cancel_delay(Duration::from_secs(10)));
    let mut run = spawn(aws_wait(
        &fake,
        &[INSTANCE_ID],
        &["--cancel-on-interrupt", "-o", "json"],
    ));
    run.until("a second poll", || fake.round() >= 2);
    let first = run.sigint();
    run.until("the CancelCommand request", || {
        !fake.cancel_requests().is_empty()
    });
    let second = run.sigint();
    let (out, ended) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 130);
    let after_second = ended - second;
    assert!(
        after_second < Duration::from_secs(2),
        "the second Ctrl-C ends the process at once: took {after_second:?}\n{}",
        describe(&out)
    );
    assert!(
        ended - first < Duration::from_secs(6),
        "well under the 10 s the CancelCommand answer takes: {:?}",
        ended - first
    );
}

#[test]
fn a_cancel_that_does_not_take_is_watched_a_few_seconds_at_most() {
    // The service keeps showing Cancelling (the agent has not checked in).
    let fake = FakeMulti::start(running_one().cancelling_for(Duration::from_secs(600)));
    let mut run = spawn(aws_wait(
        &fake,
        &[INSTANCE_ID],
        &["--cancel-on-interrupt", "-o", "json"],
    ));
    run.until("a second poll", || fake.round() >= 2);
    let sent = run.sigint();
    let (out, ended) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 130);
    assert_eq!(fake.cancel_requests().len(), 1, "{}", describe(&out));
    assert_cancel_reported(&out, "Cancelling");
    let took = ended - sent;
    assert!(
        took < Duration::from_secs(7),
        "at most about 5 s of polling after the cancel: took {took:?}\n{}",
        describe(&out)
    );
    let after_cancel = fake
        .calls()
        .iter()
        .skip_while(|c| !c.is(CANCEL_COMMAND))
        .filter(|c| c.is(LIST_COMMAND_INVOCATIONS))
        .count();
    assert!(
        after_cancel >= 2,
        "kept polling for the state after the cancel ({after_cancel} polls)\n{}",
        describe(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// AWS: --cancel-on-timeout
// ---------------------------------------------------------------------------------------------

#[test]
fn timeout_with_cancel_on_timeout_cancels_shows_cancelled_and_exits_4() {
    let fake = FakeMulti::start(running_one());
    let run = spawn(aws_wait(
        &fake,
        &[INSTANCE_ID],
        &["--timeout", "1s", "--cancel-on-timeout", "-o", "json"],
    ));
    let started = run.started;
    let (out, ended) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 4);
    assert_eq!(
        cancels(&fake),
        [json!({ "CommandId": CMD_ID, "InstanceIds": [INSTANCE_ID] })],
        "{}",
        describe(&out)
    );
    assert_cancel_reported(&out, "Cancelled");
    assert_polled_after_cancel(&fake, LIST_COMMAND_INVOCATIONS, &out);
    let took = ended - started;
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(8),
        "took {took:?}"
    );
}

#[test]
fn timeout_of_a_whole_command_wait_with_cancel_on_timeout() {
    let fake = FakeMulti::start(running_two());
    let run = spawn(aws_wait(
        &fake,
        &[],
        &["--timeout", "1s", "--cancel-on-timeout", "-o", "json"],
    ));
    let (out, _) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 4);
    assert_eq!(cancels(&fake), [json!({ "CommandId": CMD_ID })]);
    assert_cancel_reported(&out, "Cancelled");
}

// ---------------------------------------------------------------------------------------------
// AWS: nothing is cancelled without the flags
// ---------------------------------------------------------------------------------------------

#[test]
fn without_cancel_on_interrupt_ctrl_c_cancels_nothing() {
    for extra in [
        vec!["-o", "json"],
        // The other flag does not cover Ctrl-C.
        vec!["--timeout", "30s", "--cancel-on-timeout", "-o", "json"],
    ] {
        let fake = FakeMulti::start(running_one());
        let mut run = spawn(aws_wait(&fake, &[INSTANCE_ID], &extra));
        run.until("a second poll", || fake.round() >= 2);
        let sent = run.sigint();
        let (out, ended) = run.finish(Duration::from_secs(10));
        assert_exit(&out, 130);
        assert!(
            ended - sent < Duration::from_secs(3),
            "{extra:?}: took {:?}",
            ended - sent
        );
        thread::sleep(Duration::from_millis(100));
        assert!(
            fake.cancel_requests().is_empty(),
            "{extra:?}: nothing cancelled\n{}",
            describe(&out)
        );
    }
}

#[test]
fn without_cancel_on_timeout_a_timeout_cancels_nothing() {
    for extra in [
        vec!["--timeout", "1s", "-o", "json"],
        // The other flag does not cover a timeout.
        vec!["--timeout", "1s", "--cancel-on-interrupt", "-o", "json"],
    ] {
        for instances in [vec![INSTANCE_ID], vec![]] {
            let world = if instances.is_empty() {
                running_two()
            } else {
                running_one()
            };
            let fake = FakeMulti::start(world);
            let run = spawn(aws_wait(&fake, &instances, &extra));
            let (out, _) = run.finish(Duration::from_secs(10));
            assert_exit(&out, 4);
            assert!(
                fake.cancel_requests().is_empty(),
                "{extra:?} {instances:?}: nothing cancelled\n{}",
                describe(&out)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Alibaba Cloud: StopInvocation
// ---------------------------------------------------------------------------------------------

/// `ssmres --provider aliyun wait --invoke-id INVOKE_ID [--instance-id …] <fast polling> EXTRA`.
fn ali_wait(fake: &FakeEcs, instances: &[&str], extra: &[&str]) -> (Cli, Command) {
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.bare_std();
    cmd.args(["--provider", "aliyun", "--endpoint-url", &fake.url()])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
        .env("ALIBABA_CLOUD_REGION_ID", REGION_ID)
        .args(["wait", "--invoke-id", INVOKE_ID]);
    for id in instances {
        cmd.args(["--instance-id", id]);
    }
    cmd.args(FAST_POLL).args(extra);
    (cli, cmd)
}

/// Three instances of INVOKE_ID running until stopped.
fn ali_running() -> World {
    World::single((1..=3).map(|i| Instance::new(ecs_instance_id(i)).timeline(&[(1, "Running")])))
}

/// The InstanceId.N values of a StopInvocation call, sorted.
fn stopped_instances(call: &Recorded) -> BTreeSet<String> {
    call.params
        .iter()
        .filter(|(k, _)| k.starts_with("InstanceId."))
        .map(|(_, v)| v.clone())
        .collect()
}

#[track_caller]
fn assert_one_stop(fake: &FakeEcs, instances: &[&str], out: &Output) {
    let stops = fake.stop_calls();
    assert_eq!(stops.len(), 1, "one StopInvocation\n{}", describe(out));
    let stop = &stops[0];
    assert_eq!(stop.param("InvokeId"), Some(INVOKE_ID));
    assert_eq!(stop.param("RegionId"), Some(REGION_ID));
    let want: BTreeSet<String> = instances.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(stopped_instances(stop), want, "{:?}", stop.params);
    // Numbered from 1 without gaps.
    for n in 1..=instances.len() {
        assert_eq!(
            stop.count(&format!("InstanceId.{n}")),
            1,
            "{:?}",
            stop.params
        );
    }
}

#[test]
fn aliyun_ctrl_c_stops_the_invocation_shows_its_state_and_exits_130() {
    let fake = FakeEcs::start(ali_running());
    let mut run = spawn(ali_wait(
        &fake,
        &[],
        &["--cancel-on-interrupt", "-o", "json"],
    ));
    run.until("a second poll", || fake.describe_calls().len() >= 2);
    let sent = run.sigint();
    let (out, ended) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 130);
    assert_one_stop(&fake, &[], &out);
    assert_cancel_reported(&out, "Terminated");
    assert!(ended - sent < Duration::from_secs(7), "{:?}", ended - sent);
}

#[test]
fn aliyun_ctrl_c_stops_the_named_instances_only() {
    let (a, b) = (ecs_instance_id(3), ecs_instance_id(1));
    for named in [vec![a.as_str()], vec![a.as_str(), b.as_str()]] {
        let fake = FakeEcs::start(ali_running());
        let mut run = spawn(ali_wait(
            &fake,
            &named,
            &["--cancel-on-interrupt", "-o", "json"],
        ));
        run.until("a second poll", || fake.describe_calls().len() >= 2);
        run.sigint();
        let (out, _) = run.finish(Duration::from_secs(15));
        assert_exit(&out, 130);
        assert_one_stop(&fake, &named, &out);
        assert_cancel_reported(&out, "Terminated");
    }
}

#[test]
fn aliyun_a_second_ctrl_c_while_stopping_exits_130_at_once() {
    let fake = FakeEcs::start(ali_running().stop_delay(Duration::from_secs(10)));
    let mut run = spawn(ali_wait(
        &fake,
        &[],
        &["--cancel-on-interrupt", "-o", "json"],
    ));
    run.until("a second poll", || fake.describe_calls().len() >= 2);
    let first = run.sigint();
    run.until("the StopInvocation request", || {
        !fake.stop_calls().is_empty()
    });
    let second = run.sigint();
    let (out, ended) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 130);
    assert!(
        ended - second < Duration::from_secs(2),
        "took {:?} after the second Ctrl-C\n{}",
        ended - second,
        describe(&out)
    );
    assert!(ended - first < Duration::from_secs(6));
}

#[test]
fn aliyun_timeout_with_cancel_on_timeout_stops_and_exits_4() {
    let fake = FakeEcs::start(ali_running());
    let run = spawn(ali_wait(
        &fake,
        &[],
        &["--timeout", "1s", "--cancel-on-timeout", "-o", "json"],
    ));
    let (out, _) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 4);
    assert_one_stop(&fake, &[], &out);
    assert_cancel_reported(&out, "Terminated");
}

#[test]
fn aliyun_without_the_flags_nothing_is_stopped() {
    let fake = FakeEcs::start(ali_running());
    let mut run = spawn(ali_wait(&fake, &[], &["-o", "json"]));
    run.until("a second poll", || fake.describe_calls().len() >= 2);
    run.sigint();
    let (out, _) = run.finish(Duration::from_secs(10));
    assert_exit(&out, 130);
    assert!(fake.stop_calls().is_empty(), "{}", describe(&out));

    let fake = FakeEcs::start(ali_running());
    let run = spawn(ali_wait(&fake, &[], &["--timeout", "1s", "-o", "json"]));
    let (out, _) = run.finish(Duration::from_secs(10));
    assert_exit(&out, 4);
    assert!(fake.stop_calls().is_empty(), "{}", describe(&out));
}

// ---------------------------------------------------------------------------------------------
// AWS: more instances than one CancelCommand takes
// ---------------------------------------------------------------------------------------------

#[test]
fn ctrl_c_on_a_named_set_of_51_cancels_in_batches_of_at_most_50() {
    let ids: Vec<String> = (0..51).map(fleet_instance_id).collect();
    let fake = FakeMulti::start(MultiWorld::new(
        ids.iter()
            .map(|id| MultiInstance::single(id.as_str(), StepSpec::new("x").never_ends()))
            .collect(),
    ));
    let named: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut run = spawn(aws_wait(
        &fake,
        &named,
        &["--cancel-on-interrupt", "-o", "json"],
    ));
    // The first round (ListCommands, then the listing's two pages) is over once the second
    // one begins.
    run.until("a second round", || fake.calls_to(LIST_COMMANDS).len() >= 2);
    run.sigint();
    let (out, _) = run.finish(Duration::from_secs(15));
    assert_exit(&out, 130);
    let sent = fake.cancel_requests();
    assert_eq!(
        sent.len(),
        2,
        "two CancelCommand calls for 51 instances: {sent:?}\n{}",
        describe(&out)
    );
    let mut covered: Vec<String> = Vec::new();
    for body in &sent {
        assert_eq!(body["CommandId"], CMD_ID, "{body:?}");
        let batch = body["InstanceIds"]
            .as_array()
            .unwrap_or_else(|| panic!("InstanceIds named in each call: {body:?}"));
        assert!(
            !batch.is_empty() && batch.len() <= 50,
            "a batch of {} instances",
            batch.len()
        );
        covered.extend(
            batch
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned()),
        );
    }
    let unique: BTreeSet<&String> = covered.iter().collect();
    assert_eq!(
        unique.len(),
        covered.len(),
        "no instance twice: {covered:?}"
    );
    assert_eq!(
        unique,
        ids.iter().collect::<BTreeSet<_>>(),
        "every named instance cancelled"
    );
    assert_cancel_reported(&out, "Cancelled");
}
