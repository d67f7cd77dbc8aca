//! Cancelling what a `wait` waits on: `--cancel-on-interrupt` (Ctrl-C) and
//! `--cancel-on-timeout` (`--timeout` passed) send CancelCommand (aliyun: StopInvocation) for
//! exactly what is waited on, say so on stderr, poll a few seconds to show the state it
//! reaches, and exit 130 (interrupt) or 4 (timeout); a second Ctrl-C while that happens exits
//! at once. Without the flags nothing is ever cancelled.
//!
//! The binary runs in the background and is interrupted with `kill -INT` once the fake has
//! seen it poll.

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::fake_ecs::{
    FakeEcs, INVOKE_ID, Instance, REGION_ID, Recorded, STOP_ACTION, World,
    instance_id as ecs_instance_id,
};
use crate::support::fake_multi::{
    CANCEL_COMMAND, CMD_ID, FakeMulti, LIST_COMMAND_INVOCATIONS, LIST_COMMANDS, MultiInstance,
    MultiWorld, StepSpec,
};
use crate::support::fake_ssm::{INSTANCE_ID, fleet_instance_id};
use crate::support::{
    Cli, FAST_POLL, Finished, Spawned, assert_exit, check, check_eq, describe, stderr_str,
};

/// How long the cancellation and the polls after it may take, at most: about 5 s of polling
/// after the cancel, and room for a loaded machine.
const AFTER_CANCEL: Duration = Duration::from_secs(15);

/// `ssmres wait ID [--instance-id …] <fast polling> EXTRA -o json` with `cmd`, started.
fn start_wait(mut cmd: Command, id: [&str; 2], instances: &[&str], extra: &str) -> Spawned {
    let named: String = instances
        .iter()
        .map(|i| format!("--instance-id {i} "))
        .collect();
    let args = format!("{named}{} {extra} -o json", FAST_POLL.join(" "));
    Spawned::start(cmd.arg("wait").args(id).args(args.split_whitespace()))
}

/// `ssmres wait --command-id CMD_ID [--instance-id …] <fast polling> EXTRA -o json`, started.
pub(crate) fn aws_wait(fake: &FakeMulti, instances: &[&str], extra: &str) -> Spawned {
    start_wait(
        Cli::new(&fake.url()).cmd(),
        ["--command-id", CMD_ID],
        instances,
        extra,
    )
}

/// Sends `run` a second Ctrl-C (the first started a cancellation still unanswered) and asserts
/// it exits 130 at once: within 5 s, while the answer takes a minute.
#[track_caller]
fn assert_second_ctrl_c_exits_at_once(run: Spawned) {
    let second = run.sigint();
    let done = run.finish();
    assert_exit(&done.out, 130);
    let took = done.ended - second;
    check!(done.out, took < Duration::from_secs(5), "took {took:?}");
}

/// One single-step invocation on INSTANCE_ID that runs until cancelled.
pub(crate) fn running_one() -> MultiWorld {
    MultiWorld::one(MultiInstance::single(
        INSTANCE_ID,
        StepSpec::new("x").never_ends(),
    ))
}

/// `n` single-step invocations that run until cancelled.
fn running(n: usize) -> MultiWorld {
    let never = |i| MultiInstance::single(fleet_instance_id(i), StepSpec::new("x").never_ends());
    MultiWorld::new((0..n).map(never).collect())
}

/// Asserts stderr says that a cancellation was sent, then shows `final_status` (on that line
/// or a later one).
#[track_caller]
pub(crate) fn assert_cancel_reported(out: &Output, final_status: &str) {
    let err = stderr_str(out);
    let lines: Vec<&str> = err.lines().collect();
    let Some(said) = lines
        .iter()
        .position(|l| l.to_lowercase().contains("cancel"))
    else {
        panic!(
            "no stderr line says the command is being cancelled\n{}",
            describe(out)
        );
    };
    check!(
        out,
        lines[said..].iter().any(|l| l.contains(final_status)),
        "no stderr line shows the state reached ({final_status}) after the cancellation"
    );
    check!(out, !err.contains("panicked"));
}

/// The CancelCommand bodies, with `InstanceIds` sorted.
pub(crate) fn cancels(fake: &FakeMulti) -> Vec<Value> {
    let mut bodies = fake.cancel_requests();
    for body in &mut bodies {
        if let Some(ids) = body.get_mut("InstanceIds").and_then(Value::as_array_mut) {
            ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
    bodies
}

/// How many ListCommandInvocations polls came after the CancelCommand.
fn polls_after_cancel(fake: &FakeMulti) -> usize {
    let calls = fake.calls();
    let after = calls.iter().skip_while(|c| !c.is(CANCEL_COMMAND));
    after.filter(|c| c.is(LIST_COMMAND_INVOCATIONS)).count()
}

/// Interrupts `run` once the fake has begun round 2 (a second poll); the run, and how long it
/// took after the signal.
fn interrupt_in_round_2(fake: &FakeMulti, mut run: Spawned) -> (Finished, Duration) {
    run.until("a second poll", fake.wait(|| fake.round() >= 2));
    let sent = run.sigint();
    let done = run.finish();
    let took = done.ended - sent;
    (done, took)
}

// --- AWS: --cancel-on-interrupt ------------------------------------------------------------------

#[test]
fn ctrl_c_cancels_what_is_waited_on_shows_cancelled_and_exits_130() {
    let (a, b) = (fleet_instance_id(1), fleet_instance_id(0));
    for (world, named, cancel) in [
        (
            running_one(),
            vec![INSTANCE_ID],
            json!({ "CommandId": CMD_ID, "InstanceIds": [INSTANCE_ID] }),
        ),
        // A whole-command wait names no instance.
        (running(2), vec![], json!({ "CommandId": CMD_ID })),
        (
            running(2),
            vec![a.as_str(), b.as_str()],
            json!({ "CommandId": CMD_ID, "InstanceIds": [b, a] }),
        ),
    ] {
        let fake = FakeMulti::start(world);
        let run = aws_wait(&fake, &named, "--cancel-on-interrupt");
        let (done, took) = interrupt_in_round_2(&fake, run);
        let out = &done.out;
        assert_exit(out, 130);
        let why = format!("one CancelCommand for {named:?}");
        check_eq!(out, cancels(&fake), [cancel], "{why}");
        assert_cancel_reported(out, "Cancelled");
        let why = "a poll after the cancel";
        check!(out, polls_after_cancel(&fake) >= 1, "{why}");
        let why = format!("polls a few seconds at most after the cancel: took {took:?}");
        assert!(took < AFTER_CANCEL, "{why}");
    }
}

#[test]
fn a_second_ctrl_c_while_cancelling_exits_130_at_once() {
    // The CancelCommand answer takes a minute.
    let fake = FakeMulti::start(running_one().cancel_delay(Duration::from_secs(60)));
    let mut run = aws_wait(&fake, &[INSTANCE_ID], "--cancel-on-interrupt");
    run.until("a second poll", fake.wait(|| fake.round() >= 2));
    run.sigint();
    run.until(
        "the CancelCommand request",
        fake.wait(|| !fake.cancel_requests().is_empty()),
    );
    assert_second_ctrl_c_exits_at_once(run);
}

#[test]
fn a_cancel_that_does_not_take_is_watched_a_few_seconds_at_most() {
    // The service keeps showing Cancelling (the agent has not checked in).
    let fake = FakeMulti::start(running_one().cancelling_for(Duration::from_secs(600)));
    let run = aws_wait(&fake, &[INSTANCE_ID], "--cancel-on-interrupt");
    let (done, took) = interrupt_in_round_2(&fake, run);
    assert_exit(&done.out, 130);
    check_eq!(done.out, fake.cancel_requests().len(), 1);
    assert_cancel_reported(&done.out, "Cancelling");
    let why = format!("at most about 5 s of polling after the cancel: took {took:?}");
    assert!(took < AFTER_CANCEL, "{why}");
    let polls = polls_after_cancel(&fake);
    let why = format!("kept polling for the state after the cancel ({polls} polls)");
    assert!(polls >= 2, "{why}");
}

#[test]
fn ctrl_c_on_a_named_set_of_51_cancels_in_batches_of_at_most_50() {
    let ids: Vec<String> = (0..51).map(fleet_instance_id).collect();
    let fake = FakeMulti::start(running(51));
    let named: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut run = aws_wait(&fake, &named, "--cancel-on-interrupt");
    // The first round (ListCommands, then the listing's two pages) is over once the second
    // one begins.
    run.until(
        "a second round",
        fake.wait(|| fake.count(LIST_COMMANDS) >= 2),
    );
    run.sigint();
    let out = run.finish().out;
    assert_exit(&out, 130);
    let sent = fake.cancel_requests();
    let why = format!("two CancelCommand calls for 51 instances: {sent:?}");
    check_eq!(out, sent.len(), 2, "{why}");
    let mut covered: Vec<String> = Vec::new();
    for body in &sent {
        assert_eq!(body["CommandId"], CMD_ID, "{body:?}");
        let batch = body["InstanceIds"]
            .as_array()
            .expect("InstanceIds named in each call");
        let why = format!("a batch of {} instances", batch.len());
        assert!(!batch.is_empty() && batch.len() <= 50, "{why}");
        covered.extend(
            batch
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned()),
        );
    }
    let unique: BTreeSet<&String> = covered.iter().collect();
    let why = format!("no instance twice: {covered:?}");
    assert_eq!(unique.len(), covered.len(), "{why}");
    let why = "every named instance cancelled";
    assert_eq!(unique, ids.iter().collect::<BTreeSet<_>>(), "{why}");
    assert_cancel_reported(&out, "Cancelled");
}

// --- AWS: --cancel-on-timeout, and nothing cancelled without the flags ---------------------------

#[test]
fn timeout_with_cancel_on_timeout_cancels_shows_cancelled_and_exits_4() {
    for (world, named, cancel) in [
        (
            running_one(),
            vec![INSTANCE_ID],
            json!({ "CommandId": CMD_ID, "InstanceIds": [INSTANCE_ID] }),
        ),
        (running(2), vec![], json!({ "CommandId": CMD_ID })),
    ] {
        let fake = FakeMulti::start(world);
        let done = aws_wait(&fake, &named, "--timeout 1s --cancel-on-timeout").finish();
        assert_exit(&done.out, 4);
        check_eq!(done.out, cancels(&fake), [cancel]);
        assert_cancel_reported(&done.out, "Cancelled");
        let why = "a poll after the cancel";
        check!(done.out, polls_after_cancel(&fake) >= 1, "{why}");
        // Not before the deadline.
        assert!(done.took >= Duration::from_secs(1), "took {:?}", done.took);
    }
}

#[test]
fn without_the_flag_for_it_ctrl_c_or_a_timeout_cancels_nothing() {
    // The other flag does not cover Ctrl-C.
    for extra in ["", "--timeout 30s --cancel-on-timeout"] {
        let fake = FakeMulti::start(running_one());
        let run = aws_wait(&fake, &[INSTANCE_ID], extra);
        let (done, took) = interrupt_in_round_2(&fake, run);
        assert_exit(&done.out, 130);
        assert!(took < Duration::from_secs(5), "{extra:?}: took {took:?}");
        // A CancelCommand would have been answered, and so logged, before the exit.
        let why = format!("{extra:?}: nothing cancelled");
        check!(done.out, fake.cancel_requests().is_empty(), "{why}");
    }
    // The other flag does not cover a timeout.
    for extra in ["--timeout 1s", "--timeout 1s --cancel-on-interrupt"] {
        for instances in [vec![INSTANCE_ID], vec![]] {
            let world = if instances.is_empty() {
                running(2)
            } else {
                running_one()
            };
            let fake = FakeMulti::start(world);
            let out = aws_wait(&fake, &instances, extra).finish().out;
            assert_exit(&out, 4);
            let why = format!("{extra:?} {instances:?}: nothing cancelled");
            check!(out, fake.cancel_requests().is_empty(), "{why}");
        }
    }
}

// --- Alibaba Cloud: StopInvocation ---------------------------------------------------------------

/// `ssmres --provider aliyun wait --invoke-id INVOKE_ID [--instance-id …] <fast polling> EXTRA
/// -o json`, started.
fn ali_wait(fake: &FakeEcs, instances: &[&str], extra: &str) -> Spawned {
    start_wait(
        Cli::new(&fake.url()).ali(),
        ["--invoke-id", INVOKE_ID],
        instances,
        extra,
    )
}

/// Three instances of INVOKE_ID running until stopped.
fn ali_running() -> World {
    World::single((1..=3).map(|i| Instance::new(ecs_instance_id(i)).timeline(&[(1, "Running")])))
}

/// Interrupts `run` once the fake saw a second poll (DescribeInvocations for several
/// instances, DescribeInvocationResults for one).
fn ali_interrupt(fake: &FakeEcs, mut run: Spawned) -> (Finished, Duration) {
    run.until("a second poll", fake.wait(|| fake.rounds() >= 2));
    let sent = run.sigint();
    let done = run.finish();
    let took = done.ended - sent;
    (done, took)
}

#[track_caller]
fn assert_one_stop(fake: &FakeEcs, instances: &[&str], out: &Output) {
    let stops = fake.calls_of(STOP_ACTION);
    check_eq!(out, stops.len(), 1, "one StopInvocation");
    let stop: &Recorded = &stops[0];
    let want = (Some(INVOKE_ID), Some(REGION_ID));
    assert_eq!((stop.param("InvokeId"), stop.param("RegionId")), want);
    let numbered = stop
        .params
        .iter()
        .filter(|(k, _)| k.starts_with("InstanceId."));
    let stopped: BTreeSet<&str> = numbered.map(|(_, v)| v.as_str()).collect();
    let why = format!("{:?}", stop.params);
    assert_eq!(stopped, instances.iter().copied().collect(), "{why}");
    // Numbered from 1 without gaps.
    for n in 1..=instances.len() {
        assert_eq!(stop.count(&format!("InstanceId.{n}")), 1, "{why}");
    }
}

#[test]
fn aliyun_ctrl_c_stops_what_is_waited_on_shows_its_state_and_exits_130() {
    let (a, b) = (ecs_instance_id(3), ecs_instance_id(1));
    for named in [vec![], vec![a.as_str()], vec![a.as_str(), b.as_str()]] {
        let fake = FakeEcs::start(ali_running());
        let (done, took) = ali_interrupt(&fake, ali_wait(&fake, &named, "--cancel-on-interrupt"));
        assert_exit(&done.out, 130);
        assert_one_stop(&fake, &named, &done.out);
        assert_cancel_reported(&done.out, "Terminated");
        assert!(took < AFTER_CANCEL, "took {took:?}");
    }
}

#[test]
fn aliyun_a_second_ctrl_c_while_stopping_exits_130_at_once() {
    let fake = FakeEcs::start(ali_running().stop_delay(Duration::from_secs(60)));
    let mut run = ali_wait(&fake, &[], "--cancel-on-interrupt");
    run.until("a second poll", fake.wait(|| fake.rounds() >= 2));
    run.sigint();
    let stop_sent = fake.wait(|| !fake.calls_of(STOP_ACTION).is_empty());
    run.until("the StopInvocation request", stop_sent);
    assert_second_ctrl_c_exits_at_once(run);
}

#[test]
fn aliyun_timeout_with_cancel_on_timeout_stops_and_exits_4() {
    let fake = FakeEcs::start(ali_running());
    let out = ali_wait(&fake, &[], "--timeout 1s --cancel-on-timeout")
        .finish()
        .out;
    assert_exit(&out, 4);
    assert_one_stop(&fake, &[], &out);
    assert_cancel_reported(&out, "Terminated");
}

#[test]
fn aliyun_without_the_flags_nothing_is_stopped() {
    let fake = FakeEcs::start(ali_running());
    let (done, _) = ali_interrupt(&fake, ali_wait(&fake, &[], ""));
    assert_exit(&done.out, 130);
    check!(done.out, fake.calls_of(STOP_ACTION).is_empty());

    let fake = FakeEcs::start(ali_running());
    let out = ali_wait(&fake, &[], "--timeout 1s").finish().out;
    assert_exit(&out, 4);
    check!(out, fake.calls_of(STOP_ACTION).is_empty());
}
