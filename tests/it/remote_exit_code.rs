//! `--remote-exit-code` on `get` and `wait`, both providers: once the result is terminal, exit
//! with the remote command's code, like `ssh host cmd`. Success counts as 0; otherwise the
//! ResponseCode (Alibaba: ExitCode) when it lies in 1..=255, else 1; of several steps or
//! instances, the first non-zero in output order. ssmres's own outcomes (2 usage, 3 API or not
//! found, 4 timeout, 130 interrupt) keep their codes, and a `get` of a result still running
//! exits 0.

use std::process::Output;

use serde_json::{Value, json};

use crate::support::fake_ecs::{
    FakeEcs, INVOKE_ID, Instance, World, instance_id as ecs_instance_id,
};
use crate::support::fake_multi::{CMD_ID, FakeMulti, MultiInstance, MultiWorld, StepSpec};
use crate::support::fake_ssm::{
    FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, Step, fleet_instance_id, invocation,
};
use crate::support::{
    Cli, FAST_POLL, Spawned, array_field, assert_exit, check_eq, ids, printed, printed_array,
    stdout_str,
};

/// `ssmres SUBCOMMAND --command-id CMD_ID --instance-id INSTANCE_ID [fast polling] EXTRA`.
fn aws(url: &str, subcommand: &str, extra: &str) -> Output {
    let polling = if subcommand == "wait" {
        FAST_POLL.join(" ")
    } else {
        String::new()
    };
    Cli::new(url).run(format!(
        "{subcommand} {} {polling} {extra}",
        ids().join(" ")
    ))
}

/// `ssmres wait --command-id CMD_ID [--instance-id each] <fast polling> EXTRA -o json`.
fn wait_fleet(fake: &FakeMulti, instances: &[&str], extra: &str) -> Output {
    let named: String = instances
        .iter()
        .map(|i| format!("--instance-id {i} "))
        .collect();
    let fast = FAST_POLL.join(" ");
    Cli::new(&fake.url()).run(format!(
        "wait --command-id {CMD_ID} -o json {named}{fast} {extra}"
    ))
}

/// A GetCommandInvocation body in this state with this ResponseCode (`None`: no such key).
fn body(status: &str, details: &str, code: Option<i64>) -> Value {
    let mut body = invocation(status, details, "out\n", "err\n");
    body.as_object_mut().unwrap().remove("ResponseCode");
    if let Some(code) = code {
        body["ResponseCode"] = json!(code);
    }
    body
}

/// `--provider aliyun SUBCOMMAND --invoke-id INVOKE_ID [fast polling] EXTRA`.
fn ali_run(fake: &FakeEcs, subcommand: &str, extra: &str) -> Output {
    let polling = if subcommand == "wait" {
        FAST_POLL.join(" ")
    } else {
        String::new()
    };
    Cli::new(&fake.url()).run_ali(format!(
        "{subcommand} --invoke-id {INVOKE_ID} {polling} {extra}"
    ))
}

// --- AWS, one step -------------------------------------------------------------------------------

/// `(what, Status, StatusDetails, ResponseCode, exit code with the flag)`.
const CASES: [(&str, &str, &str, Option<i64>, i32); 13] = [
    ("success", "Success", "Success", Some(0), 0),
    (
        "success whatever the code says",
        "Success",
        "Success",
        Some(3),
        0,
    ),
    ("exit 3", "Failed", "Failed", Some(3), 3),
    ("command not found", "Failed", "Failed", Some(127), 127),
    ("exit 255", "Failed", "Failed", Some(255), 255),
    ("undeliverable", "Failed", "Undeliverable", Some(-1), 1),
    ("cancelled", "Cancelled", "Cancelled", Some(-1), 1),
    (
        "delivery timed out",
        "TimedOut",
        "Delivery Timed Out",
        Some(-1),
        1,
    ),
    ("0 with a failure", "Failed", "Failed", Some(0), 1),
    ("above 255", "Failed", "Failed", Some(256), 1),
    ("far above 255", "Failed", "Failed", Some(70_000), 1),
    ("negative", "Failed", "Failed", Some(-2), 1),
    ("no ResponseCode", "Failed", "Failed", None, 1),
];

#[test]
fn get_and_wait_exit_with_the_remote_code_of_one_step() {
    for (what, status, details, code, expected) in CASES {
        let record = body(status, details, code);
        let fake = FakeSsm::always(Step::ok(&record));
        for subcommand in ["get", "wait"] {
            let out = aws(&fake.url(), subcommand, "--remote-exit-code -o json");
            let case = format!("{what} ({status}/{details}, ResponseCode {code:?})");
            check_eq!(
                out,
                out.status.code(),
                Some(expected),
                "{subcommand} --remote-exit-code, {case}"
            );
            let why = format!("{subcommand}, {what}: the output is unchanged");
            check_eq!(out, stdout_str(&out), printed(&record), "{why}");
        }
    }
}

#[test]
fn without_the_flag_the_exit_code_follows_the_status() {
    let fake = FakeSsm::always(Step::ok(&body("Failed", "Failed", Some(127))));
    assert_exit(&aws(&fake.url(), "wait", "-o json"), 1);
    assert_exit(&aws(&fake.url(), "get", "-o json"), 0);
    let fake = FakeSsm::always(Step::ok(&body("Success", "Success", Some(0))));
    assert_exit(&aws(&fake.url(), "wait", "-o json"), 0);
}

#[test]
fn wait_follows_a_running_command_to_its_remote_code() {
    let fake = FakeSsm::start(vec![
        Step::ok(&body("Pending", "Pending", Some(-1))),
        Step::ok(&body("InProgress", "InProgress", Some(-1))),
        Step::ok(&body("Failed", "Failed", Some(42))),
    ]);
    let out = aws(&fake.url(), "wait", "--remote-exit-code -o json");
    assert_exit(&out, 42);
    assert_eq!(fake.count(GET_COMMAND_INVOCATION), 3);
}

#[test]
fn get_of_a_result_still_running_exits_0() {
    for (status, details) in [("InProgress", "InProgress"), ("Pending", "Pending")] {
        let fake = FakeSsm::always(Step::ok(&body(status, details, Some(-1))));
        let out = aws(&fake.url(), "get", "--remote-exit-code -o json");
        assert_exit(&out, 0);
    }
    // A multi-step invocation still running.
    let fake = FakeMulti::start(MultiWorld::one(MultiInstance::new(
        INSTANCE_ID,
        vec![
            StepSpec::new("one").fails_at(1, 9),
            StepSpec::new("two").never_ends(),
        ],
    )));
    let out = aws(&fake.url(), "get", "--remote-exit-code -o json");
    assert_exit(&out, 0);
}

// --- AWS, several steps and instances ------------------------------------------------------------

/// Three steps: the first succeeds, the second fails with code 2, the third with code 5.
fn three_steps_second_fails() -> MultiWorld {
    let failing = |name, from, code| {
        StepSpec::new(name)
            .runs(from, from + 1, ("Failed", "Failed"))
            .code(code)
    };
    let steps = vec![
        StepSpec::new("fetch").succeeds_at(2),
        failing("build", 2, 2),
        failing("publish", 3, 5),
    ];
    MultiWorld::one(MultiInstance::new(INSTANCE_ID, steps))
}

#[test]
fn several_steps_exit_with_the_first_non_zero_in_document_order() {
    let fake = FakeMulti::start(three_steps_second_fails());
    let out = aws(&fake.url(), "wait", "--remote-exit-code -o json");
    assert_exit(&out, 2);
    let want = printed_array(&fake.world().instance(INSTANCE_ID).final_get_bodies(CMD_ID));
    check_eq!(out, stdout_str(&out), want);
    let out = aws(&fake.url(), "get", "--remote-exit-code -o json");
    assert_exit(&out, 2);
    // Without the flag: 1 for wait (Failed), 0 for get.
    let fake = FakeMulti::start(three_steps_second_fails());
    assert_exit(&aws(&fake.url(), "wait", "-o json"), 1);
    assert_exit(&aws(&fake.url(), "get", "-o json"), 0);
}

#[test]
fn a_step_that_never_ran_counts_as_1_before_a_later_code() {
    // The second step was cancelled before it ran (-1): 1, before the third step's 7.
    let fake = FakeMulti::start(MultiWorld::one(MultiInstance::new(
        INSTANCE_ID,
        vec![
            StepSpec::new("a"),
            StepSpec::new("b").states(&[(1, "Cancelled", "Cancelled")]),
            StepSpec::new("c").fails_at(1, 7),
        ],
    )));
    let out = aws(&fake.url(), "wait", "--remote-exit-code -o json");
    assert_exit(&out, 1);
    // Every step succeeded: 0.
    let fake = FakeMulti::start(MultiWorld::one(MultiInstance::new(
        INSTANCE_ID,
        vec![StepSpec::new("a"), StepSpec::new("b")],
    )));
    let out = aws(&fake.url(), "wait", "--remote-exit-code -o json");
    assert_exit(&out, 0);
}

/// Three one-step instances listed as [2, 0, 1]: 2 fails with 9, 0 succeeds, 1 fails with 4.
fn fleet_of_three() -> MultiWorld {
    MultiWorld::new(vec![
        MultiInstance::single(fleet_instance_id(2), StepSpec::new("x").fails_at(2, 9)),
        MultiInstance::single(fleet_instance_id(0), StepSpec::new("x").succeeds_at(2)),
        MultiInstance::single(fleet_instance_id(1), StepSpec::new("x").fails_at(3, 4)),
    ])
}

#[test]
fn a_fleet_exits_with_the_first_non_zero_in_instance_order() {
    // Printed (and counted) sorted by instance ID: 0 (0), 1 (4), 2 (9).
    let fake = FakeMulti::start(fleet_of_three());
    let out = wait_fleet(&fake, &[], "--remote-exit-code");
    assert_exit(&out, 4);
    let want = [0, 1, 2].map(fleet_instance_id);
    check_eq!(out, array_field(&out, "InstanceId"), want);

    // A named set of the two that failed: 1 (4) comes before 2 (9).
    let fake = FakeMulti::start(fleet_of_three());
    let (one, two) = (fleet_instance_id(1), fleet_instance_id(2));
    assert_exit(&wait_fleet(&fake, &[&two, &one], "--remote-exit-code"), 4);

    // Everyone succeeded: 0; without the flag a failure is 1.
    let fake = FakeMulti::start(MultiWorld::new(vec![
        MultiInstance::single(fleet_instance_id(0), StepSpec::new("x")),
        MultiInstance::single(fleet_instance_id(1), StepSpec::new("x").succeeds_at(2)),
    ]));
    assert_exit(&wait_fleet(&fake, &[], "--remote-exit-code"), 0);
    let fake = FakeMulti::start(fleet_of_three());
    assert_exit(&wait_fleet(&fake, &[], ""), 1);
}

#[test]
fn a_fleet_of_multi_step_invocations_counts_instances_then_steps() {
    // Instance 0: steps exit 0 then 6; instance 1: steps exit 3 then 0. Sorted: 0 first → 6.
    let fake = FakeMulti::start(MultiWorld::new(vec![
        MultiInstance::new(
            fleet_instance_id(1),
            vec![StepSpec::new("a").fails_at(2, 3), StepSpec::new("b")],
        ),
        MultiInstance::new(
            fleet_instance_id(0),
            vec![StepSpec::new("a"), StepSpec::new("b").fails_at(2, 6)],
        ),
    ]));
    assert_exit(&wait_fleet(&fake, &[], "--remote-exit-code"), 6);
}

// --- ssmres's own exit codes ---------------------------------------------------------------------

#[test]
fn the_flag_keeps_usage_api_not_found_timeout_and_interrupt_codes() {
    // Usage: a malformed command ID, nothing sent.
    let fake = FakeSsm::always(Step::ok(&body("Failed", "Failed", Some(127))));
    for subcommand in ["get", "wait"] {
        let ids = format!("--command-id not-a-command-id --instance-id {INSTANCE_ID}");
        assert_exit(
            &Cli::new(&fake.url()).run(format!("{subcommand} {ids} --remote-exit-code")),
            2,
        );
    }
    fake.assert_untouched();

    // Not found.
    let fake = FakeSsm::always(Step::not_found());
    assert_exit(&aws(&fake.url(), "get", "--remote-exit-code"), 3);
    assert_exit(
        &aws(
            &fake.url(),
            "wait",
            "--remote-exit-code --not-found-grace 200ms",
        ),
        3,
    );

    // An API error.
    let fake = FakeSsm::always(Step::access_denied("not allowed"));
    for subcommand in ["get", "wait"] {
        assert_exit(&aws(&fake.url(), subcommand, "--remote-exit-code"), 3);
    }

    // Timeout while it still runs.
    let running = || FakeSsm::always(Step::ok(&body("InProgress", "InProgress", Some(-1))));
    let fake = running();
    assert_exit(
        &aws(
            &fake.url(),
            "wait",
            "--remote-exit-code --timeout 1s -o json",
        ),
        4,
    );

    // Interrupted.
    let fake = running();
    let mut cmd = Cli::new(&fake.url()).cmd();
    cmd.arg("wait")
        .args(ids())
        .args(FAST_POLL)
        .args(["--remote-exit-code", "-o", "json"]);
    let mut run = Spawned::start(&mut cmd);
    run.until(
        "a second poll",
        fake.wait(|| fake.count(GET_COMMAND_INVOCATION) >= 2),
    );
    run.interrupt();
}

// --- Alibaba Cloud: ExitCode ---------------------------------------------------------------------

#[test]
fn aliyun_exit_codes_of_one_instance() {
    let id = ecs_instance_id(1);
    let cancelled = Instance::new(id.clone())
        .timeline(&[(1, "Cancelled")])
        .error("InstanceNotRunning", "never started")
        .exit_code(0);
    for (what, instance, expected) in [
        ("success", Instance::new(id.clone()), 0),
        ("exit 3", Instance::failed(id.clone(), 3), 3),
        ("command not found", Instance::failed(id.clone(), 127), 127),
        ("cancelled before it ran", cancelled, 1),
        ("above 255", Instance::failed(id.clone(), 300), 1),
        ("negative", Instance::failed(id.clone(), -1), 1),
        ("0 with a failure", Instance::failed(id.clone(), 0), 1),
    ] {
        let fake = FakeEcs::start(World::single([instance]));
        for subcommand in ["get", "wait"] {
            let out = ali_run(&fake, subcommand, "--remote-exit-code -o json");
            let why = format!("aliyun {subcommand}, {what}");
            check_eq!(out, out.status.code(), Some(expected), "{why}");
        }
    }
}

#[test]
fn aliyun_several_instances_exit_with_the_first_non_zero_in_api_order() {
    let world = || {
        // API order: 3 (5), 1 (0), 2 (3); sorted by ID it would be 1, 2, 3 and give 3.
        World::single([
            Instance::failed(ecs_instance_id(3), 5),
            Instance::new(ecs_instance_id(1)),
            Instance::failed(ecs_instance_id(2), 3).timeline(&[(1, "Running"), (3, "Failed")]),
        ])
    };
    let fake = FakeEcs::start(world());
    let out = ali_run(&fake, "wait", "--remote-exit-code -o json");
    assert_exit(&out, 5);
    let fake = FakeEcs::start(world());
    let out = ali_run(&fake, "wait", "-o json");
    assert_exit(&out, 1);
}

#[test]
fn aliyun_keeps_its_own_codes() {
    // A result still running: get exits 0, wait times out with 4.
    let fake = FakeEcs::start(World::single([
        Instance::new(ecs_instance_id(1)).timeline(&[(1, "Running")])
    ]));
    assert_exit(&ali_run(&fake, "get", "--remote-exit-code -o json"), 0);
    assert_exit(
        &ali_run(&fake, "wait", "--remote-exit-code --timeout 1s -o json"),
        4,
    );
    // Nothing found: 3.
    let fake = FakeEcs::start(World::single([]));
    assert_exit(&ali_run(&fake, "get", "--remote-exit-code -o json"), 3);
}
