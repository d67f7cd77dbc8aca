//! `--command-id -` (AWS `get`, `wait`, `list`) and `--invoke-id -` (`--provider aliyun`): the
//! IDs are read from the JSON another tool printed on stdin, before any call. Every shape the
//! aws CLI, the aliyun CLI and ssmres itself print is accepted; `--instance-id` on the command
//! line wins over the instances the document names; anything else is a usage error (exit 2,
//! one stderr line, nothing sent).

use std::process::Output;

use serde_json::{Value, json};

use crate::support::fake_ecs::{
    FakeEcs, INVOKE_ID, Instance, World, instance_id as ecs_instance_id, invoke_command_output,
    run_command_output,
};
use crate::support::fake_multi::{
    CMD_ID, FakeMulti, GET_COMMAND_INVOCATION, LIST_COMMAND_INVOCATIONS, LIST_COMMANDS,
    MultiInstance, MultiWorld, StepSpec,
};
use crate::support::fake_ssm::{INSTANCE_ID, fleet_instance_id};
use crate::support::{
    Args, Cli, FAST_POLL, array_field, assert_error, assert_exit, assert_single_stderr_line, check,
    check_eq, describe, printed, printed_array, run_with_input, stdout_json, stdout_str,
};

/// Another well-formed instance ID.
const OTHER_INSTANCE: &str = "i-0fedcba9876543210";
/// Another well-formed command ID.
const OTHER_COMMAND: &str = "11111111-2222-4333-8444-555555555555";

// --- Helpers -------------------------------------------------------------------------------------

/// `ssmres --endpoint-url URL ARGS` with `stdin` on its standard input.
fn run_with_stdin(url: &str, args: impl Args, stdin: impl AsRef<[u8]>) -> Output {
    run_with_input(Cli::new(url).cmd().args(args.words()), stdin)
}

/// `ssmres SUBCOMMAND --command-id - [fast polling] -o json EXTRA` with `stdin`.
fn aws_stdin(url: &str, subcommand: &str, extra: &str, stdin: impl AsRef<[u8]>) -> Output {
    let polling = if subcommand == "wait" {
        FAST_POLL.join(" ")
    } else {
        String::new()
    };
    run_with_stdin(
        url,
        format!("{subcommand} --command-id - {polling} -o json {extra}"),
        stdin,
    )
}

/// [`aws_stdin`] with `wait` and nothing else, asserting exit 0.
#[track_caller]
fn wait_stdin(fake: &FakeMulti, stdin: impl AsRef<[u8]>) -> Output {
    let out = aws_stdin(&fake.url(), "wait", "", stdin);
    assert_exit(&out, 0);
    out
}

/// `ssmres get --command-id CMD_ID --instance-id INSTANCE_ID -o json`, asserting exit 0.
#[track_caller]
fn get_json(fake: &FakeMulti) -> Output {
    let out = Cli::new(&fake.url()).run(format!(
        "get --command-id {CMD_ID} --instance-id {INSTANCE_ID} -o json"
    ));
    assert_exit(&out, 0);
    out
}

/// One single-step invocation on each of these instances, Success from the first look.
fn succeeding(instances: &[&str]) -> MultiWorld {
    let step = |id: &str| StepSpec::new("x").output(&format!("hello from {id}\n"), "");
    MultiWorld::new(
        instances
            .iter()
            .map(|id| MultiInstance::single(*id, step(id)))
            .collect(),
    )
}

/// The final body of `instance`'s only step.
fn final_body(fake: &FakeMulti, instance: &str) -> Value {
    fake.world().instance(instance).final_get_bodies(CMD_ID)[0].clone()
}

/// Asserts every GetCommandInvocation asked for CMD_ID on `instance`, and that there was one.
#[track_caller]
fn assert_gets_for(fake: &FakeMulti, instance: &str, out: &Output) {
    let gets = fake.calls_to(GET_COMMAND_INVOCATION);
    check!(out, !gets.is_empty(), "no GetCommandInvocation");
    for get in gets {
        let asked = (get.field("CommandId"), get.instance_id());
        assert_eq!(asked, (Some(CMD_ID), Some(instance)), "{:?}", get.body);
    }
}

/// Asserts a single invocation's wait for INSTANCE_ID: its final body printed, every
/// GetCommandInvocation for it, no ListCommands.
#[track_caller]
fn assert_single_wait_printed(fake: &FakeMulti, out: &Output, what: &str) {
    check_eq!(
        out,
        stdout_str(out),
        printed(&final_body(fake, INSTANCE_ID)),
        "{what}"
    );
    assert_gets_for(fake, INSTANCE_ID, out);
    assert_single_wait(fake, out);
}

/// Asserts a single invocation's wait: no ListCommands.
#[track_caller]
fn assert_single_wait(fake: &FakeMulti, out: &Output) {
    let why = "a single invocation's wait, not a fleet's";
    check!(out, fake.calls_to(LIST_COMMANDS).is_empty(), "{why}");
}

// --- What `aws ssm send-command` prints ----------------------------------------------------------

#[test]
fn documents_naming_one_invocation_are_a_single_invocations_wait() {
    let world = succeeding(&[INSTANCE_ID]);
    let sent = world.send_command_output();
    // What `aws ssm list-commands` prints: its first command.
    let mut second = sent["Command"].clone();
    second["CommandId"] = json!(OTHER_COMMAND);
    second["InstanceIds"] = json!([OTHER_INSTANCE]);
    let listed = json!({ "Commands": [sent["Command"].clone(), second] });
    // What `aws ssm get-command-invocation` printed while it was running.
    let mut running = world.instance(INSTANCE_ID).final_get_bodies(CMD_ID)[0].clone();
    running["Status"] = json!("InProgress");
    running["StatusDetails"] = json!("InProgress");
    // What `aws ssm send-command --query Command` prints, and the least of it.
    let least = json!({ "CommandId": CMD_ID, "InstanceIds": [INSTANCE_ID] });
    for (what, doc) in [
        ("send-command", sent.to_string()),
        (
            "send-command pretty-printed as the aws CLI does",
            serde_json::to_string_pretty(&sent).unwrap() + "\n",
        ),
        ("list-commands", listed.to_string()),
        ("get-command-invocation", printed(&running)),
        ("a bare command object", sent["Command"].to_string()),
        ("CommandId and InstanceIds", least.to_string()),
    ] {
        let fake = FakeMulti::start(world.clone());
        let out = wait_stdin(&fake, &doc);
        assert_single_wait_printed(&fake, &out, what);
    }

    // get takes the same document.
    let fake = FakeMulti::start(world);
    let out = aws_stdin(&fake.url(), "get", "", sent.to_string());
    assert_exit(&out, 0);
    assert_eq!(stdout_str(&out), printed(&final_body(&fake, INSTANCE_ID)));
}

#[test]
fn send_command_output_for_several_instances_is_a_whole_command_wait() {
    let (a, b) = (fleet_instance_id(1), fleet_instance_id(0));
    let world = succeeding(&[&a, &b]);
    let sent = world.send_command_output().to_string();
    let fake = FakeMulti::start(world);
    let out = wait_stdin(&fake, &sent);
    check!(
        out,
        !fake.calls_to(LIST_COMMANDS).is_empty(),
        "a fleet wait"
    );
    assert_eq!(array_field(&out, "InstanceId"), [b.clone(), a.clone()]);
    let want = printed_array(&[final_body(&fake, &b), final_body(&fake, &a)]);
    assert_eq!(stdout_str(&out), want);
}

#[test]
fn send_command_output_with_targets_only_is_a_whole_command_wait() {
    let (a, b) = (fleet_instance_id(0), fleet_instance_id(1));
    let world = succeeding(&[&a, &b]).sent_to_targets();
    let sent = world.send_command_output();
    assert_eq!(sent["Command"]["InstanceIds"], json!([]));
    assert!(!sent["Command"]["Targets"].as_array().unwrap().is_empty());
    let fake = FakeMulti::start(world);
    let out = wait_stdin(&fake, sent.to_string());
    check!(out, !fake.calls_to(LIST_COMMANDS).is_empty());
    assert_eq!(array_field(&out, "InstanceId"), [a, b]);
}

// --- What `aws ssm list-commands` prints ---------------------------------------------------------

// --- GetCommandInvocation objects: `aws ssm get-command-invocation`, `ssmres get -o json` --------

#[test]
fn ssmres_get_json_feeds_ssmres_wait() {
    let fake = FakeMulti::start(succeeding(&[INSTANCE_ID]));
    let out = wait_stdin(&fake, stdout_str(&get_json(&fake)));
    assert_eq!(stdout_str(&out), printed(&final_body(&fake, INSTANCE_ID)));
}

#[test]
fn a_multi_step_get_json_array_gives_its_first_object() {
    let steps = vec![
        StepSpec::new("build").output("built\n", ""),
        StepSpec::new("test").output("tested\n", ""),
    ];
    let fake = FakeMulti::start(MultiWorld::one(MultiInstance::new(INSTANCE_ID, steps)));
    let got = get_json(&fake);
    check!(
        got,
        stdout_json(&got).is_array(),
        "a multi-step get prints an array"
    );
    let out = wait_stdin(&fake, stdout_str(&got));
    let want = printed_array(&fake.world().instance(INSTANCE_ID).final_get_bodies(CMD_ID));
    check_eq!(out, stdout_str(&out), want);
    for get in fake.calls_to(GET_COMMAND_INVOCATION) {
        assert_eq!(get.body["InstanceId"], INSTANCE_ID);
    }
}

// ---------------------------------------------------------------------------------------------
// --instance-id on the command line wins
// ---------------------------------------------------------------------------------------------

#[test]
fn instance_id_on_the_command_line_wins_over_the_document() {
    // A document naming INSTANCE_ID, several instances, or an invocation on INSTANCE_ID.
    let world = succeeding(&[INSTANCE_ID, OTHER_INSTANCE]);
    let mut one = world.send_command_output();
    one["Command"]["InstanceIds"] = json!([INSTANCE_ID]);
    let several = world.send_command_output();
    let object = printed(&world.instance(INSTANCE_ID).final_get_bodies(CMD_ID)[0]);
    for (what, doc) in [
        ("send-command, one instance", one.to_string()),
        ("send-command, several", several.to_string()),
        ("get-command-invocation", object),
    ] {
        for subcommand in ["wait", "get"] {
            let fake = FakeMulti::start(world.clone());
            let out = aws_stdin(
                &fake.url(),
                subcommand,
                &format!("--instance-id {OTHER_INSTANCE}"),
                &doc,
            );
            assert_exit(&out, 0);
            assert_gets_for(&fake, OTHER_INSTANCE, &out);
            assert_single_wait(&fake, &out);
            let want = printed(&final_body(&fake, OTHER_INSTANCE));
            check_eq!(out, stdout_str(&out), want, "{subcommand}, {what}");
        }
    }
}

#[test]
fn get_with_a_document_naming_several_instances_or_targets_needs_instance_id() {
    let several = succeeding(&[INSTANCE_ID, OTHER_INSTANCE]).send_command_output();
    let targets = succeeding(&[INSTANCE_ID])
        .sent_to_targets()
        .send_command_output();
    for (what, doc) in [("several instances", several), ("targets", targets)] {
        let fake = FakeMulti::start(succeeding(&[INSTANCE_ID]));
        let line = assert_error(&aws_stdin(&fake.url(), "get", "", doc.to_string()), 2);
        let why = format!("{what}: the error says --instance-id is needed: {line}");
        assert!(line.contains("--instance-id"), "{why}");
        fake.assert_untouched();
    }
}

// --- list ----------------------------------------------------------------------------------------

#[test]
fn list_reads_the_command_id_from_stdin() {
    let world = succeeding(&[INSTANCE_ID]);
    let sent = world.send_command_output().to_string();
    let fake = FakeMulti::start(world);
    let out = aws_stdin(&fake.url(), "list", "", &sent);
    assert_exit(&out, 0);
    let lists = fake.calls_to(LIST_COMMAND_INVOCATIONS);
    check!(out, !lists.is_empty());
    for list in lists {
        assert_eq!(list.body["CommandId"], CMD_ID, "{:?}", list.body);
    }
    check_eq!(
        out,
        stdout_json(&out)["CommandInvocations"][0]["CommandId"],
        CMD_ID
    );
}

// --- Anything else: exit 2, one line, nothing sent -----------------------------------------------

#[test]
fn unexpected_input_is_a_usage_error_before_any_request() {
    let two = format!(
        "{0} {0}",
        json!({ "CommandId": CMD_ID, "InstanceId": INSTANCE_ID })
    );
    let not_a_string = json!({ "Command": { "CommandId": 36 } }).to_string();
    let short_id =
        json!({ "Command": { "CommandId": "8d5f3b4e-2a1c", "InstanceIds": [INSTANCE_ID] } });
    let long_id = json!({ "CommandId": format!("{CMD_ID}0"), "InstanceId": INSTANCE_ID });
    // `(what, stdin, a word the one line must hold)`.
    let mut cases: Vec<(&str, String, &str)> = [
        ("empty stdin", ""),
        ("only blanks", " \n\t\n"),
        ("not JSON", "CommandId: 8d5f3b4e"),
        ("two documents", &two),
        ("a number", "42"),
        ("null", "null"),
        ("a bare ID", &format!("\"{CMD_ID}\"")),
        ("an empty object", "{}"),
        ("an empty array", "[]"),
        ("no command ID", r#"{"Command": {}}"#),
        ("no command listed", r#"{"Commands": []}"#),
        ("a command ID that is not a string", &not_a_string),
    ]
    .map(|(what, stdin)| (what, stdin.to_owned(), "send-command"))
    .into();
    cases.push(("a 13-character command ID", short_id.to_string(), "36"));
    cases.push(("a 37-character command ID", long_id.to_string(), "36"));
    let fake = FakeMulti::start(succeeding(&[INSTANCE_ID]));
    for (what, stdin, word) in &cases {
        for subcommand in ["get", "wait", "list"] {
            let out = aws_stdin(&fake.url(), subcommand, "", stdin);
            check_eq!(
                out,
                out.status.code(),
                Some(2),
                "{subcommand}, {what}: exit 2"
            );
            let line = assert_single_stderr_line(&out);
            let why =
                format!("{subcommand}, {what}: the line says what was expected ({word}): {line}");
            assert!(line.contains(word), "{why}");
            check!(out, out.stdout.is_empty());
        }
    }
    fake.assert_untouched();
}

#[test]
fn stdin_is_read_only_for_a_dash() {
    // A real ID on the command line: stdin (here a different command) is not read.
    let fake = FakeMulti::start(succeeding(&[INSTANCE_ID]));
    let other = json!({ "CommandId": OTHER_COMMAND, "InstanceId": OTHER_INSTANCE }).to_string();
    let ids = format!("--command-id {CMD_ID} --instance-id {INSTANCE_ID}");
    let out = run_with_stdin(
        &fake.url(),
        format!("wait {ids} -o json {}", FAST_POLL.join(" ")),
        &other,
    );
    assert_exit(&out, 0);
    assert_gets_for(&fake, INSTANCE_ID, &out);
}

// --- Alibaba Cloud: --invoke-id - ----------------------------------------------------------------

/// `ssmres --provider aliyun SUBCOMMAND --invoke-id - [fast polling] -o json` with `stdin`.
fn ali_stdin(fake: &FakeEcs, subcommand: &str, stdin: impl AsRef<[u8]>) -> Output {
    let polling = if subcommand == "wait" {
        FAST_POLL.join(" ")
    } else {
        String::new()
    };
    let args = format!("{subcommand} --invoke-id - {polling} -o json");
    run_with_input(Cli::new(&fake.url()).ali().args(args.words()), stdin)
}

/// The results the binary printed.
fn ali_results(out: &Output) -> Vec<Value> {
    let results = stdout_json(out)["Invocation"]["InvocationResults"]["InvocationResult"]
        .as_array()
        .cloned();
    results.unwrap_or_else(|| panic!("no InvocationResult array\n{}", describe(out)))
}

fn ali_world() -> World {
    World::single([
        Instance::new(ecs_instance_id(1)).timeline(&[(1, "Running"), (2, "Success")]),
        Instance::new(ecs_instance_id(2)),
    ])
}

#[test]
fn aliyun_run_command_and_invoke_command_output_give_the_invoke_id() {
    for (what, doc) in [
        ("RunCommand", run_command_output(INVOKE_ID)),
        ("InvokeCommand", invoke_command_output(INVOKE_ID)),
    ] {
        for subcommand in ["wait", "get", "list"] {
            let fake = FakeEcs::start(ali_world());
            let out = ali_stdin(&fake, subcommand, doc.to_string());
            assert_exit(&out, 0);
            let calls = fake.calls();
            check!(out, !calls.is_empty(), "{what} {subcommand}");
            for call in calls {
                assert_eq!(call.param("InvokeId"), Some(INVOKE_ID), "{:?}", call.params);
            }
            check_eq!(out, ali_results(&out).len(), 2);
        }
    }
}

#[test]
fn aliyun_get_json_feeds_aliyun_wait() {
    let fake = FakeEcs::start(ali_world());
    let got = ali_stdin(&fake, "get", run_command_output(INVOKE_ID).to_string());
    assert_exit(&got, 0);
    let out = ali_stdin(&fake, "wait", stdout_str(&got));
    assert_exit(&out, 0);
    for call in fake.calls() {
        assert_eq!(call.param("InvokeId"), Some(INVOKE_ID));
    }
    let succeeded = ali_results(&out)
        .iter()
        .all(|r| r["InvocationStatus"] == "Success");
    check!(out, succeeded);
}

#[test]
fn aliyun_unexpected_input_is_a_usage_error_before_any_request() {
    let fake = FakeEcs::start(ali_world());
    let no_result = json!({ "Invocation": { "InvocationResults": { "InvocationResult": [] } } });
    for (what, stdin) in [
        ("empty stdin", String::new()),
        ("not JSON", "t-hz0jdfwd9f0001".to_owned()),
        (
            "no InvokeId",
            json!({ "RequestId": "E69EF3CC" }).to_string(),
        ),
        (
            "an AWS document",
            json!({ "Command": { "CommandId": CMD_ID } }).to_string(),
        ),
        (
            "a malformed InvokeId",
            json!({ "InvokeId": "x-1" }).to_string(),
        ),
        ("no result in an ssmres document", no_result.to_string()),
    ] {
        for subcommand in ["get", "wait"] {
            let out = ali_stdin(&fake, subcommand, &stdin);
            check_eq!(
                out,
                out.status.code(),
                Some(2),
                "aliyun {subcommand}, {what}"
            );
            assert_single_stderr_line(&out);
            check!(out, out.stdout.is_empty());
        }
    }
    fake.assert_untouched();
}

// --- A command object alone, a fleet's results, bytes that are not text --------------------------

#[test]
fn a_fleet_waits_json_results_give_a_whole_command_wait() {
    let (a, b) = (fleet_instance_id(1), fleet_instance_id(0));
    let world = succeeding(&[&a, &b]);
    // What `ssmres wait -o json` printed for the whole command.
    let fake = FakeMulti::start(world.clone());
    let first = Cli::new(&fake.url()).run(format!(
        "wait --command-id {CMD_ID} -o json {}",
        FAST_POLL.join(" ")
    ));
    assert_exit(&first, 0);
    assert_eq!(array_field(&first, "InstanceId"), [b.clone(), a.clone()]);

    let fake = FakeMulti::start(world);
    let out = wait_stdin(&fake, stdout_str(&first));
    check!(
        out,
        !fake.calls_to(LIST_COMMANDS).is_empty(),
        "a whole-command wait"
    );
    for call in fake.calls() {
        assert_eq!(call.body["CommandId"], CMD_ID, "{:?}", call.body);
    }
    assert_eq!(array_field(&out, "InstanceId"), [b.clone(), a.clone()]);
    let want = printed_array(&[final_body(&fake, &b), final_body(&fake, &a)]);
    check_eq!(out, stdout_str(&out), want);
}

#[test]
fn stdin_that_is_not_utf8_is_a_usage_error_before_any_request() {
    // send-command's output with a Latin-1 byte in its comment, and bytes that are no text.
    let mut latin1 =
        format!(r#"{{"Command": {{"CommandId": "{CMD_ID}", "Comment": "caf"#).into_bytes();
    latin1.push(0xe9);
    latin1.extend(format!(r#"", "InstanceIds": ["{INSTANCE_ID}"]}}}}"#).bytes());
    let fake = FakeMulti::start(succeeding(&[INSTANCE_ID]));
    for (what, stdin) in [
        ("a Latin-1 byte", latin1),
        ("no text", vec![0xff, 0xfe, 0x00]),
    ] {
        for subcommand in ["get", "wait", "list"] {
            let line = assert_error(&aws_stdin(&fake.url(), subcommand, "", stdin.clone()), 2);
            let why = format!("{subcommand}, {what}: the line says the input is not UTF-8: {line}");
            assert!(line.contains("not UTF-8"), "{why}");
        }
    }
    fake.assert_untouched();
}
