//! `ssmres run`: send a command, then wait for it exactly as `wait` does.
//!
//! Against the scripted fakes: SendCommand in front of the worlds the `wait` tests use
//! ([`Sending`]: an invocation's answers in turn, a fleet's timeline, a multi-step world), so
//! that one run is checked for what it sent, what it waited for and how it exited; sends whose
//! answer is lost (found by the mark in their Comment, or never found: exit 3, sent once);
//! Alibaba Cloud's RunCommand, signed and retried with the same ClientToken. Against moto: the
//! request equal to what `aws ssm send-command` sends, through a recording proxy, then the wait.
//! Real time is only checked against generous bounds.

use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::fake_ecs::{self, FakeEcs, Fault, INVOKE_ID, Instance, RUN_ACTION};
use crate::support::fake_multi::{FakeMulti, MultiInstance, MultiWorld, StepSpec};
use crate::support::fake_send::{SEND_COMMAND, SendReply, Sending, send_record};
use crate::support::fake_ssm::{
    Answer, CMD_ID, Call, FAILED, FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, Incoming,
    LIST_COMMAND_INVOCATIONS, LIST_COMMANDS, Step, World, cloudwatch, command_record,
    fleet_instance_id, get_steps, invocation, invocation_step, listed_invocation,
};
use crate::support::http::{self, Reply, Request, Server};
use crate::support::moto::{self, Moto};
use crate::support::timeline::{Member, Timeline};
use crate::support::{
    Cli, FAST_POLL, Pipe, Spawned, assert_error, assert_exit, assert_same_lines, check, check_eq,
    run, run_with_input, stderr_str, stdout_json, stdout_str,
};

/// `--instance-id INSTANCE_ID`.
const ONE: [&str; 2] = ["--instance-id", INSTANCE_ID];

/// `ssmres --endpoint-url URL run ARGS <fast polling> -o json -- COMMAND` (no `--` when
/// `command` is empty).
fn run_at(url: &str, args: &[&str], command: &[&str]) -> Output {
    let mut cmd = Cli::new(url).cmd();
    cmd.arg("run")
        .args(args)
        .args(FAST_POLL)
        .args(["-o", "json"]);
    if !command.is_empty() {
        cmd.arg("--").args(command);
    }
    run(&mut cmd)
}

/// A fake SSM: SendCommand in front of GetCommandInvocation answered from `steps`.
fn sending_steps(steps: Vec<Step>, replies: Vec<SendReply>) -> (FakeSsm, Arc<Sending>) {
    let sending = Arc::new(Sending::new(get_steps(steps)).replies(replies));
    (FakeSsm::serve(Arc::clone(&sending)), sending)
}

/// The bodies of the SendCommand requests.
fn sends(fake: &FakeSsm) -> Vec<Value> {
    fake.bodies(SEND_COMMAND)
}

/// `body` without its Comment, which holds the run's own mark.
fn without_comment(mut body: Value) -> Value {
    body.as_object_mut().unwrap().remove("Comment");
    body
}

/// Asserts `comment` is `own` (if any), a space, then a mark: `ssmres:` and 12 letters or
/// digits.
#[track_caller]
fn assert_marked(comment: &str, own: Option<&str>) {
    let mark = match own {
        Some(own) => comment.strip_prefix(&format!("{own} ")),
        None => Some(comment),
    };
    let random = mark.and_then(|m| m.strip_prefix("ssmres:"));
    let ok = random.is_some_and(|r| {
        r.len() == 12
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    assert!(ok, "Comment {comment:?} does not end with a mark");
}

/// The `sent: …` line on stderr.
#[track_caller]
fn sent_line(out: &Output) -> String {
    let err = stderr_str(out);
    let line = err.lines().find(|l| l.starts_with("sent: "));
    check!(out, line.is_some(), "no `sent:` line on stderr");
    line.unwrap_or_default().to_owned()
}

/// The targets of the calls, in order, shortened (`SendCommand`, `Get`, `ListCommands`, …).
fn call_names(fake: &FakeSsm) -> Vec<String> {
    fake.calls().iter().map(Call::short).collect()
}

// --- Sending, then waiting as `wait` does --------------------------------------------------------

#[test]
fn sends_the_command_then_waits_through_late_visibility_and_prints_as_wait_does() {
    let steps = vec![
        Step::not_found(),
        Step::not_found(),
        invocation_step("InProgress", "InProgress", "", ""),
        invocation_step("Success", "Success", "hello\n", ""),
    ];
    let (fake, sending) = sending_steps(steps.clone(), vec![SendReply::Accept]);
    let out = run_at(&fake.url(), &ONE, &["echo", "hello"]);
    assert_exit(&out, 0);
    // What was sent: the shell document, the instance, the command line as ssh joins it.
    let [body] = &sends(&fake)[..] else {
        panic!("one SendCommand: {:?}", call_names(&fake))
    };
    let expected = json!({
        "InstanceIds": [INSTANCE_ID],
        "DocumentName": "AWS-RunShellScript",
        "Parameters": { "commands": ["echo hello"] },
    });
    check_eq!(out, without_comment(body.clone()), expected);
    assert_marked(body["Comment"].as_str().unwrap_or_default(), None);
    check_eq!(out, sending.ran().len(), 1);
    // Sent first, then one look per poll until the end, as `wait` polls.
    let names = call_names(&fake);
    check_eq!(out, names, ["SendCommand", "Get", "Get", "Get", "Get"]);
    check_eq!(
        out,
        sent_line(&out),
        format!("sent: {CMD_ID} (SendCommand to {INSTANCE_ID})")
    );
    // The result is what `wait` prints for the same invocation.
    let waited = FakeSsm::start(steps);
    let wait = Cli::new(&waited.url()).run(format!(
        "wait --command-id {CMD_ID} --instance-id {INSTANCE_ID} {} -o json",
        FAST_POLL.join(" ")
    ));
    assert_exit(&wait, 0);
    check_eq!(out, stdout_str(&out), stdout_str(&wait));
}

#[test]
fn a_failed_instance_exits_1_and_with_remote_exit_code_the_remote_code() {
    let mut failed = invocation("Failed", "Failed", "", "boom\n");
    failed["ResponseCode"] = json!(7);
    let steps = || vec![Step::ok(&failed)];
    for (extra, code) in [(vec![], 1), (vec!["--remote-exit-code"], 7)] {
        let (fake, _) = sending_steps(steps(), vec![SendReply::Accept]);
        let args = [&ONE[..], &extra].concat();
        let out = run_at(&fake.url(), &args, &["false"]);
        assert_exit(&out, code);
        check_eq!(out, stdout_json(&out)["Status"], "Failed");
    }
    // Text mode: the remote stdout and stderr as they are, like ssh.
    let (fake, _) = sending_steps(steps(), vec![SendReply::Accept]);
    let out = run(Cli::new(&fake.url())
        .cmd()
        .args(["run", ONE[0], ONE[1], "-o", "text", "--remote-exit-code"])
        .args(FAST_POLL)
        .args(["--", "false"]));
    assert_exit(&out, 7);
    check!(out, stderr_str(&out).ends_with("boom\n"));
}

#[test]
fn timeout_is_how_long_it_waits_and_the_command_id_was_said_for_coming_back() {
    let running = vec![invocation_step("InProgress", "InProgress", "", "")];
    let (fake, _) = sending_steps(running, vec![SendReply::Accept]);
    // Counted from the start, connecting and sending included: room for a loaded machine.
    let args = [&ONE[..], &["--timeout", "3s"]].concat();
    let out = run_at(&fake.url(), &args, &["sleep", "600"]);
    assert_exit(&out, 4);
    let err = stderr_str(&out);
    check!(out, sent_line(&out).contains(CMD_ID));
    check!(
        out,
        err.lines()
            .last()
            .is_some_and(|l| l.starts_with("error: timed out after 3s"))
    );
    check_eq!(
        out,
        stdout_json(&out)["Status"],
        "InProgress",
        "the last state seen"
    );
    check_eq!(out, fake.count(SEND_COMMAND), 1);
}

#[test]
fn a_fleet_by_tag_is_waited_for_in_rounds_late_targets_and_a_failure_included() {
    let timeline = Timeline::new(vec![
        Member::new(fleet_instance_id(0)).succeeds_at(2),
        Member::new(fleet_instance_id(1))
            .appears_at(2)
            .succeeds_at(3),
        Member::new(fleet_instance_id(2)).ends_at(3, FAILED),
    ]);
    let sending = Arc::new(Sending::new(timeline));
    let fake = FakeSsm::serve(Arc::clone(&sending));
    let args = ["--target", "tag:role=web", "--comment", "restart web"];
    let out = run_at(&fake.url(), &args, &["systemctl", "restart", "nginx"]);
    assert_exit(&out, 1);
    let body = &sends(&fake)[0];
    let expected = json!({
        "Targets": [{ "Key": "tag:role", "Values": ["web"] }],
        "DocumentName": "AWS-RunShellScript",
        "Parameters": { "commands": ["systemctl restart nginx"] },
    });
    check_eq!(out, without_comment(body.clone()), expected);
    assert_marked(body["Comment"].as_str().unwrap(), Some("restart web"));
    let ids: Vec<String> = (stdout_json(&out).as_array().into_iter().flatten())
        .map(|r| r["InstanceId"].as_str().unwrap_or_default().to_owned())
        .collect();
    let want: Vec<String> = (0..3).map(fleet_instance_id).collect();
    check_eq!(out, ids, want, "every instance, sorted");
    check!(
        out,
        sent_line(&out).ends_with("(SendCommand to tag:role=web)")
    );
    // The rounds asked ListCommands for the command by its ID, never for a look-up by mark.
    check_eq!(out, sending.lookups(), 0);
}

#[test]
fn a_document_with_several_steps_and_its_own_parameters() {
    let instance = MultiInstance::new(
        INSTANCE_ID,
        vec![
            StepSpec::new("PatchLinux").succeeds_at(2),
            StepSpec::new("PatchWindows").succeeds_at(3),
        ],
    );
    let mut kept = None;
    let fake = FakeMulti::start_wrapped(MultiWorld::one(instance), |behind| {
        let sending = Arc::new(Sending::boxed(behind));
        kept = Some(Arc::clone(&sending));
        sending
    });
    let args = [
        &ONE[..],
        &[
            "--document",
            "AWS-RunPatchBaseline",
            "--parameter",
            "Operation=Scan",
            "--parameter",
            "RebootOption=NoReboot",
        ],
    ]
    .concat();
    let out = run_at(&fake.url(), &args, &[]);
    assert_exit(&out, 0);
    let expected = json!({
        "InstanceIds": [INSTANCE_ID],
        "DocumentName": "AWS-RunPatchBaseline",
        "Parameters": { "Operation": ["Scan"], "RebootOption": ["NoReboot"] },
    });
    check_eq!(out, without_comment(sends(&fake)[0].clone()), expected);
    let printed = stdout_json(&out);
    let steps: Vec<&str> = (printed.as_array().into_iter().flatten())
        .map(|s| s["PluginName"].as_str().unwrap_or_default())
        .collect();
    check_eq!(out, steps, ["PatchLinux", "PatchWindows"]);
    check_eq!(out, kept.map(|s| s.ran().len()), Some(1));
}

/// SSM for `--follow`: the command (with CloudWatch output) in progress for the first
/// `running` looks, then Success with `stdout`.
struct Followed {
    looks: AtomicUsize,
    running: usize,
    stdout: String,
}

impl World for Followed {
    fn answer(&self, call: &Incoming, _round: usize) -> Answer {
        let done = || self.looks.load(Ordering::SeqCst) > self.running;
        let (status, out) = match done() {
            true => ("Success", self.stdout.as_str()),
            false => ("InProgress", ""),
        };
        match call.target {
            LIST_COMMANDS => {
                let states = [(status, status)];
                let mut command = command_record(&states);
                command["InstanceIds"] = json!([INSTANCE_ID]);
                command["CloudWatchOutputConfig"] = cloudwatch("", true);
                Step::ok(&json!({ "Commands": [command] }))
            }
            GET_COMMAND_INVOCATION => {
                self.looks.fetch_add(1, Ordering::SeqCst);
                let mut record = invocation(status, status, out, "");
                record["CloudWatchOutputConfig"] = cloudwatch("", true);
                Step::ok(&record)
            }
            other => Step::unknown_operation(other),
        }
        .into()
    }
}

#[test]
fn follow_prints_the_output_from_cloudwatch_while_it_runs_and_not_twice() {
    let logs = Moto::start();
    let group = "/aws/ssm/AWS-RunShellScript";
    let stream = format!("{CMD_ID}/{INSTANCE_ID}/aws-runShellScript/stdout");
    logs.logs("CreateLogGroup", &json!({ "logGroupName": group }));
    let names = json!({ "logGroupName": group, "logStreamName": stream });
    logs.logs("CreateLogStream", &names);
    let now = crate::support::since_epoch().as_millis() as i64;
    let events = json!([
        { "timestamp": now - 2_000, "message": "step one" },
        { "timestamp": now - 1_000, "message": "step two" },
    ]);
    let put = json!({ "logGroupName": group, "logStreamName": stream, "logEvents": events });
    logs.logs("PutLogEvents", &put);
    let world = Followed {
        looks: AtomicUsize::new(0),
        running: 3,
        stdout: "step one\nstep two\n".into(),
    };
    let fake = FakeSsm::serve(Sending::new(world));
    let out = run(Cli::new(&fake.url())
        .cmd()
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", logs.endpoint())
        .args([
            "run",
            ONE[0],
            ONE[1],
            "--cloudwatch-output",
            "--follow",
            "-o",
            "text",
        ])
        .args(FAST_POLL)
        .args(["--", "./deploy.sh"]));
    assert_exit(&out, 0);
    check_eq!(out, stdout_str(&out), "step one\nstep two\n");
    let body = &sends(&fake)[0];
    check_eq!(
        out,
        body["CloudWatchOutputConfig"],
        json!({ "CloudWatchOutputEnabled": true })
    );
}

// --- Never twice ---------------------------------------------------------------------------------

#[test]
fn a_throttled_send_is_sent_again_and_runs_once() {
    let ok = vec![invocation_step("Success", "Success", "ok\n", "")];
    let (fake, sending) = sending_steps(ok, vec![SendReply::Throttle, SendReply::Accept]);
    let out = run_at(&fake.url(), &ONE, &["uptime"]);
    assert_exit(&out, 0);
    check_eq!(out, fake.count(SEND_COMMAND), 2, "sent twice");
    check_eq!(out, sending.ran().len(), 1, "run once");
    // The same request both times. (That the SDK's own retries are off shows where they would
    // have resent: a_send_whose_answer_is_lost_….)
    let bodies = sends(&fake);
    check_eq!(out, bodies[0], bodies[1]);
    check!(
        out,
        sent_line(&out).starts_with(&format!("sent: {CMD_ID} "))
    );
}

#[test]
fn a_send_throttled_every_time_gives_up_having_run_nothing() {
    let (fake, sending) = sending_steps(vec![], vec![SendReply::Throttle]);
    let out = run_at(&fake.url(), &ONE, &["uptime"]);
    let line = assert_error(&out, 3);
    check!(
        out,
        line.contains("throttled 4 times") && line.contains("nothing was sent")
    );
    check_eq!(out, fake.count(SEND_COMMAND), 4);
    check_eq!(out, sending.ran().len(), 0);
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 0);
}

#[test]
fn a_send_the_service_refuses_is_not_sent_again() {
    let refuse = SendReply::Refuse(
        "InvalidInstanceId".into(),
        "Instances [[i-0123456789abcdef0]] not in a valid state for account".into(),
    );
    let (fake, _) = sending_steps(vec![], vec![refuse]);
    let out = run_at(&fake.url(), &ONE, &["uptime"]);
    let line = assert_error(&out, 3);
    check!(
        out,
        line.contains("InvalidInstanceId") && line.contains("nothing was sent")
    );
    check_eq!(out, fake.count(SEND_COMMAND), 1);
}

#[test]
fn without_credentials_nothing_is_sent_and_no_outcome_is_unknown() {
    let fake = FakeSsm::always(Step::Status500);
    let out = run(Cli::new(&fake.url())
        .cmd()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["run", ONE[0], ONE[1], "--", "uptime"]));
    let line = assert_error(&out, 3);
    check!(
        out,
        line.contains("no AWS credentials found"),
        "says what is missing"
    );
    fake.assert_untouched();
}

#[test]
fn an_endpoint_that_refuses_connections_is_tried_again_and_nothing_is_sent() {
    // A port nobody listens on: every attempt fails before a byte is sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let started = Instant::now();
    let out = run_at(&format!("http://127.0.0.1:{port}"), &ONE, &["uptime"]);
    let line = assert_error(&out, 3);
    check!(
        out,
        line.contains("could not reach") && line.contains("nothing was sent")
    );
    // Four attempts with pauses of about 0.5, 1 and 2 s between them.
    let took = started.elapsed();
    check!(out, took >= Duration::from_secs(2), "took {took:?}");
}

#[test]
fn a_send_whose_answer_is_lost_is_found_by_its_mark_and_waited_for() {
    let ok = || vec![invocation_step("Success", "Success", "found\n", "")];
    for (what, reply, extra) in [
        ("connection dropped", SendReply::RunThenDrop, vec![]),
        ("500", SendReply::RunThen500, vec![]),
        (
            "answered after the read timeout",
            SendReply::RunSlowly(Duration::from_secs(4)),
            vec!["--read-timeout", "1s"],
        ),
    ] {
        // Listed from the second look-up on, after 60 other commands (two pages).
        let sending = Sending::new(get_steps(ok())).replies(vec![reply]);
        let sending = Arc::new(sending.listed_from(2).others(60));
        let fake = FakeSsm::serve(Arc::clone(&sending));
        let mut cmd = Cli::new(&fake.url()).cmd();
        cmd.args(&extra)
            .args(["run", ONE[0], ONE[1], "-o", "json"])
            .args(FAST_POLL)
            .args(["--", "uptime"]);
        let out = run(&mut cmd);
        assert_exit(&out, 0);
        check_eq!(out, fake.count(SEND_COMMAND), 1, "{what}: sent once");
        check_eq!(out, sending.ran().len(), 1, "{what}");
        check!(out, sending.lookups() >= 2, "{what}: looked for it again");
        let line = sent_line(&out);
        check!(
            out,
            line.contains(CMD_ID) && line.contains("found by the mark"),
            "{what}"
        );
        check_eq!(out, stdout_json(&out)["StandardOutputContent"], "found\n");
        // The look-up asked for commands requested since (a little before) the send.
        let lookup = fake.calls_to(LIST_COMMANDS).remove(0);
        let filter = &lookup.body["Filters"][0];
        check_eq!(out, filter["key"], "InvokedAfter", "{what}");
    }
}

#[test]
fn a_send_whose_outcome_stays_unknown_exits_3_and_is_never_sent_again() {
    let (fake, sending) = sending_steps(vec![], vec![SendReply::DropUnrun]);
    let started = Instant::now();
    let out = run_at(&fake.url(), &ONE, &["rm", "-rf", "/srv/cache"]);
    let took = started.elapsed();
    let line = assert_error(&out, 3);
    check!(out, line.contains("outcome is unknown"), "says so");
    check!(
        out,
        line.contains("aws ssm list-commands --filters key=InvokedAfter,value=")
    );
    check!(out, line.contains("ssmres:"), "names the mark to look for");
    check_eq!(out, fake.count(SEND_COMMAND), 1, "never sent again");
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 0);
    // Looked for during the documented 10 s (15 s at most), at several moments.
    check!(
        out,
        sending.lookups() >= 3,
        "looked {} times",
        sending.lookups()
    );
    check!(out, took >= Duration::from_secs(9), "looked for {took:?}");
}

#[test]
fn the_look_up_of_a_lost_send_ends_in_time_when_listing_hangs() {
    // The answer is lost, and every ListCommands hangs: the look-up still ends, 15 s at most
    // (without that bound, each look took three attempts of the read timeout).
    let sending = Sending::new(get_steps(vec![])).replies(vec![SendReply::DropUnrun]);
    let fake = FakeSsm::serve(HangingLookups(Arc::new(sending)));
    let started = Instant::now();
    let out = run_at(&fake.url(), &ONE, &["uptime"]);
    let took = started.elapsed();
    let line = assert_error(&out, 3);
    check!(
        out,
        line.contains("ListCommands did not answer within 15s"),
        "says why"
    );
    check_eq!(out, fake.count(SEND_COMMAND), 1, "never sent again");
    check!(out, took < Duration::from_secs(40), "took {took:?}");
}

/// `Sending`, whose look-ups (ListCommands without a CommandId) never get an answer.
struct HangingLookups(Arc<Sending>);

impl World for HangingLookups {
    fn answer(&self, call: &Incoming, round: usize) -> Answer {
        if call.target == LIST_COMMANDS && call.body.get("CommandId").is_none() {
            return Step::delayed(Duration::from_secs(600), Step::DropConnection).into();
        }
        self.0.answer(call, round)
    }
}

#[test]
fn ctrl_c_with_cancel_on_interrupt_cancels_what_was_sent() {
    let world = MultiWorld::one(MultiInstance::single(
        INSTANCE_ID,
        StepSpec::new("x").never_ends(),
    ));
    let fake = FakeMulti::start_wrapped(world, Sending::boxed);
    let mut run = Spawned::start(
        Cli::new(&fake.url())
            .cmd()
            .args(["run", ONE[0], ONE[1], "--cancel-on-interrupt", "-o", "json"])
            .args(FAST_POLL)
            .args(["--", "sleep", "600"]),
    );
    run.wait_until(Pipe::Err, "the sent: line", |l| l.starts_with("sent: "));
    run.until(
        "a poll",
        fake.wait(|| fake.count(GET_COMMAND_INVOCATION) >= 2),
    );
    run.sigint();
    let done = run.finish();
    assert_exit(&done.out, 130);
    let cancels = fake.cancel_requests();
    let want = json!({ "CommandId": CMD_ID, "InstanceIds": [INSTANCE_ID] });
    check_eq!(done.out, cancels, [want]);
}

// --- --no-wait and --dry-run ---------------------------------------------------------------------

/// A SendCommand answer with everything a JSON printer gets wrong: keys out of the model's
/// order, a key the model does not know, parameters in no sorted order, non-ASCII text,
/// timestamps as numbers.
fn tricky_answer() -> String {
    format!(
        r#"{{"Command": {{"Status": "Pending", "CommandId": "{CMD_ID}", "SomethingNew": [1],
  "Parameters": {{"workingDirectory": ["/srv/é"], "commands": ["echo \"ünïcode\" ✓", "uptime"]}},
  "Comment": "déploiement ✓ ssmres:abcdefghijkl", "DocumentName": "AWS-RunShellScript",
  "DocumentVersion": "$DEFAULT", "ExpiresAfter": 1715681551.291, "InstanceIds": ["{INSTANCE_ID}"],
  "Targets": [], "RequestedDateTime": 1715677951.291, "StatusDetails": "Pending",
  "OutputS3Region": "us-east-1", "OutputS3BucketName": "", "OutputS3KeyPrefix": "",
  "MaxConcurrency": "50", "MaxErrors": "0", "TargetCount": 1, "CompletedCount": 0,
  "ErrorCount": 0, "DeliveryTimedOutCount": 0, "ServiceRole": "",
  "NotificationConfig": {{"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""}},
  "CloudWatchOutputConfig": {{"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false}},
  "TimeoutSeconds": 3600, "TriggeredAlarms": []}}}}"#
    )
}

#[test]
fn no_wait_prints_what_aws_ssm_send_command_prints_byte_for_byte() {
    let home = tempfile::tempdir().expect("temp HOME");
    let config = home.path().join("aws-config");
    std::fs::write(&config, "[default]\ncli_timestamp_format = iso8601\n").unwrap();
    let answer = SendReply::AcceptRaw(tricky_answer());
    let (fake, _) = sending_steps(vec![], vec![answer]);
    let args = format!(
        "ssm send-command --instance-ids {INSTANCE_ID} --document-name AWS-RunShellScript \
         --parameters commands=uptime --output json"
    );
    let mut aws = moto::aws_command_at(&fake.url(), home.path(), args.split_whitespace());
    let aws = run(aws.env("AWS_CONFIG_FILE", &config).env("TZ", "UTC"));
    check!(aws, aws.status.success(), "aws CLI");
    let out = run(Cli::new(&fake.url()).cmd().env("TZ", "UTC").args([
        "run",
        ONE[0],
        ONE[1],
        "--no-wait",
        "--",
        "uptime",
    ]));
    assert_exit(&out, 0);
    assert_same_lines(&out.stdout, &aws.stdout, "ssmres run --no-wait");
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 0, "no wait");
    check!(out, sent_line(&out).contains(CMD_ID));
}

#[test]
fn no_wait_pipes_into_wait_command_id_from_stdin() {
    let (fake, _) = sending_steps(vec![], vec![SendReply::Accept]);
    let sent =
        run(Cli::new(&fake.url())
            .cmd()
            .args(["run", ONE[0], ONE[1], "--no-wait", "--", "uptime"]));
    assert_exit(&sent, 0);
    // The record SendCommand answered, timestamps as the aws CLI writes them.
    let printed = &stdout_json(&sent)["Command"];
    let answered = send_record(&sends(&fake)[0]);
    for key in [
        "CommandId",
        "Comment",
        "Parameters",
        "InstanceIds",
        "Status",
    ] {
        check_eq!(sent, printed[key], answered[key], "{key}");
    }
    check_eq!(
        sent,
        printed["RequestedDateTime"],
        "2024-05-14T09:12:31.291000+00:00"
    );
    let waited = FakeSsm::start(vec![invocation_step("Success", "Success", "up\n", "")]);
    let mut wait = Cli::new(&waited.url()).cmd();
    wait.args(["wait", "--command-id", "-", "-o", "text"]);
    let out = run_with_input(&mut wait, &sent.stdout);
    assert_exit(&out, 0);
    check_eq!(out, stdout_str(&out), "up\n");
    let asked = &waited.bodies(GET_COMMAND_INVOCATION)[0];
    check_eq!(
        out,
        (&asked["CommandId"], &asked["InstanceId"]),
        (&json!(CMD_ID), &json!(INSTANCE_ID))
    );
}

#[test]
fn dry_run_prints_the_request_a_send_would_make_and_sends_nothing() {
    let args = [
        "--target",
        "tag:role=web",
        "--target",
        "InstanceIds=i-0123456789abcdef0,i-0123456789abcdef1",
        "--comment",
        "nightly",
        "--execution-timeout",
        "10m",
        "--delivery-timeout",
        "5m",
        "--max-concurrency",
        "10%",
        "--max-errors",
        "1",
        "--output-s3-bucket",
        "my-ssm-output",
        "--output-s3-prefix",
        "runs",
        "--cloudwatch-output",
        "/ssm/runs",
        "--parameter",
        "workingDirectory=/srv",
    ];
    // No credentials, no region: nothing is needed to show a request.
    let untouched = FakeSsm::always(Step::Status500);
    let dry = run(Cli::new(&untouched.url())
        .cmd()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_REGION")
        .args(["run", "--dry-run"])
        .args(args)
        .args(["--", "make", "deploy"]));
    assert_exit(&dry, 0);
    untouched.assert_untouched();
    // What a real run of the same command line sends, the mark aside.
    let (fake, _) = sending_steps(vec![], vec![SendReply::Accept]);
    let real = run(Cli::new(&fake.url())
        .cmd()
        .args(["run", "--no-wait"])
        .args(args)
        .args(["--", "make", "deploy"]));
    assert_exit(&real, 0);
    let shown = stdout_json(&dry);
    assert_marked(
        shown["Comment"].as_str().unwrap_or_default(),
        Some("nightly"),
    );
    check_eq!(
        dry,
        without_comment(shown),
        without_comment(sends(&fake)[0].clone())
    );
}

// --- Bad input: exit 2, one line, nothing sent ---------------------------------------------------

#[test]
fn a_signal_while_the_send_is_unanswered_says_it_may_have_run_and_how_to_check() {
    // Received and run, answered only after a minute.
    let slow = SendReply::RunSlowly(Duration::from_secs(60));
    let (fake, sending) = sending_steps(vec![], vec![slow]);
    let mut cmd = Cli::new(&fake.url()).cmd();
    cmd.arg("run")
        .args(ONE)
        .arg("--cancel-on-interrupt")
        .args(["--", "uptime"]);
    let mut run = Spawned::start(&mut cmd);
    run.until("the send", fake.wait(|| sending.ran().len() == 1));
    let sent = run.signal("INT");
    let done = run.finish();
    assert_exit(&done.out, 130);
    let took = done.ended - sent;
    check!(
        done.out,
        took < Duration::from_secs(10),
        "at once: {took:?}"
    );
    let err = stderr_str(&done.out);
    let mark = sends(&fake)[0]["Comment"]
        .as_str()
        .and_then(|c| c.split(' ').next_back())
        .unwrap_or_default()
        .to_owned();
    let why = format!("names the mark {mark} and the listing to check with: {err}");
    check!(
        done.out,
        mark.starts_with("ssmres:")
            && err.contains("the command may have run: check with `aws ssm list-commands")
            && err.contains(&mark),
        "{why}"
    );
    check!(
        done.out,
        err.contains("could not cancel"),
        "nothing to cancel yet"
    );
    check_eq!(done.out, fake.count(SEND_COMMAND), 1, "sent once");
}

#[test]
fn bad_input_is_refused_before_any_call_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.sh");
    std::fs::write(&empty, "\n  \n").unwrap();
    let large = dir.path().join("large.sh");
    std::fs::write(&large, "echo x\n".repeat(12_000)).unwrap();
    let (empty, large) = (empty.to_str().unwrap(), large.to_str().unwrap());
    let missing = dir.path().join("missing.sh");
    let missing = missing.to_str().unwrap();
    let crlf = dir.path().join("crlf.sh");
    std::fs::write(&crlf, "echo a\r\necho b\r\n").unwrap();
    let huge = dir.path().join("huge.sh");
    std::fs::write(&huge, "x".repeat(2_000_000)).unwrap();
    let (crlf, huge) = (crlf.to_str().unwrap(), huge.to_str().unwrap());
    let instances: Vec<String> = (0..51)
        .flat_map(|i| ["--instance-id".into(), fleet_instance_id(i)])
        .collect();
    let many: Vec<&str> = instances.iter().map(String::as_str).collect();
    let id = INSTANCE_ID;
    let long_comment = "c".repeat(81);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--", "uptime"],
            "--instance-id ID (repeatable) or --target",
        ),
        (vec!["--instance-id", id], "nothing to run"),
        (
            vec!["--instance-id", id, "--script", empty, "--", "x"],
            "not both",
        ),
        (
            vec!["--instance-id", id, "--target", "tag:a=b", "--", "x"],
            "not both",
        ),
        ([&many[..], &["--", "x"]].concat(), "use --target"),
        (vec!["--target", "tag:role", "--", "x"], "KEY=VALUE"),
        (
            vec!["--instance-id", id, "--parameter", "noequals", "--", "x"],
            "NAME=VALUE",
        ),
        (vec!["--instance-id", id, "--script", empty], "is empty"),
        (
            vec!["--instance-id", id, "--script", missing],
            "cannot read",
        ),
        (vec!["--instance-id", id, "--script", large], "64 KB"),
        (vec!["--instance-id", id, "--script", crlf], "CRLF"),
        (
            vec!["--instance-id", id, "--script", huge],
            "larger than 1 MiB",
        ),
        (
            vec![
                "--instance-id",
                id,
                "--shell",
                "powershell",
                "--document",
                "Doc-1",
            ],
            "not both",
        ),
        (
            vec!["--instance-id", id, "--working-dir", "/srv", "--", "x"],
            "--provider aliyun",
        ),
        (
            vec!["--instance-id", id, "--follow", "--", "x"],
            "--cloudwatch-output",
        ),
        (
            vec!["--instance-id", id, "--delivery-timeout", "5", "--", "x"],
            "30s",
        ),
        (
            vec!["--instance-id", id, "--comment", &long_comment, "--", "x"],
            "at most 80",
        ),
        (
            vec!["--instance-id", id, "--instance-id", id, "--", "x"],
            "given twice",
        ),
        (
            vec!["--instance-id", id, "--shell", "bat", "--", "x"],
            "powershell",
        ),
        (vec!["--instance-id", id, "--", ""], "empty"),
    ];
    for (args, says) in cases {
        let fake = FakeSsm::always(Step::Status500);
        let out = run(Cli::new(&fake.url()).cmd().arg("run").args(&args));
        let line = assert_error(&out, 2);
        check!(out, line.contains(says), "{args:?} should say {says:?}");
        fake.assert_untouched();
    }
    // The other cloud's flags, and its limits, with --provider aliyun.
    for (args, says) in [
        (
            vec![
                "--instance-id",
                "i-bp1abc",
                "--target",
                "tag:a=b",
                "--",
                "x",
            ],
            "AWS-only",
        ),
        (
            vec![
                "--instance-id",
                "i-bp1abc",
                "--document",
                "AWS-X",
                "--",
                "x",
            ],
            "AWS-only",
        ),
        (vec!["--", "x"], "--instance-id"),
    ] {
        let fake = FakeSsm::always(Step::Status500);
        let out = run(Cli::new(&fake.url()).ali().arg("run").args(&args));
        let line = assert_error(&out, 2);
        check!(out, line.contains(says), "{args:?} should say {says:?}");
        fake.assert_untouched();
    }
}

// --- Alibaba Cloud: RunCommand -------------------------------------------------------------------

/// `ssmres --provider aliyun run ARGS <fast polling> -o text -- COMMAND` against `fake`.
fn ali_run(fake: &FakeEcs, args: &[&str], command: &[&str]) -> Output {
    run(Cli::new(&fake.url())
        .ali()
        .arg("run")
        .args(args)
        .args(FAST_POLL)
        .args(["-o", "text", "--"])
        .args(command))
}

#[test]
fn aliyun_runs_the_command_signed_then_waits_and_shows_the_decoded_output() {
    let id = fake_ecs::instance_id(1);
    let instance = Instance::new(&id)
        .timeline(&[(1, "Running"), (3, "Success")])
        .output("héllo ✓\n");
    let fake = FakeEcs::start(fake_ecs::World::single([instance]));
    let args = [
        "--instance-id",
        id.as_str(),
        "--execution-timeout",
        "2m",
        "--comment",
        "hi",
    ];
    let out = ali_run(&fake, &args, &["echo", "héllo ✓"]);
    assert_exit(&out, 0);
    check_eq!(out, stdout_str(&out), "héllo ✓\n");
    check_eq!(
        out,
        sent_line(&out),
        format!("sent: {INVOKE_ID} (RunCommand to {id})")
    );
    // Every call passed the fake's signature check; RunCommand came first, then the polls.
    let calls = fake.calls();
    check_eq!(out, calls[0].param("Action"), Some(RUN_ACTION));
    check!(
        out,
        calls[1..]
            .iter()
            .all(|c| c.param("Action") == Some(fake_ecs::ACTION))
    );
    let sent = &calls[0];
    for (name, value) in [
        ("Type", "RunShellScript"),
        ("ContentEncoding", "Base64"),
        ("InstanceId.1", id.as_str()),
        ("Timeout", "120"),
        ("Description", "hi"),
    ] {
        check_eq!(out, sent.param(name), Some(value), "{name}");
    }
    let token = sent.param("ClientToken").unwrap_or_default();
    check!(
        out,
        token.starts_with("ssmres-") && token.len() <= 64,
        "{token}"
    );
    let runs = fake.runs();
    check_eq!(out, runs.len(), 1);
    check_eq!(out, runs[0].content, "echo héllo ✓".as_bytes());
}

#[test]
fn aliyun_retries_run_command_with_the_same_client_token_and_runs_it_once() {
    for (what, fault) in [
        ("answer lost after it ran", Fault::lost_answer()),
        ("throttled", Fault::throttling()),
        ("a 500 before it ran", Fault::internal_error()),
    ] {
        let id = fake_ecs::instance_id(1);
        let world = fake_ecs::World::single([Instance::new(&id)]).fail_call(1, fault);
        let fake = FakeEcs::start(world);
        let out = ali_run(&fake, &["--instance-id", &id], &["uptime"]);
        assert_exit(&out, 0);
        let sends = fake.calls_of(RUN_ACTION);
        check_eq!(out, sends.len(), 2, "{what}: sent twice");
        let tokens: Vec<_> = sends.iter().map(|c| c.param("ClientToken")).collect();
        check!(
            out,
            tokens[0].is_some() && tokens[0] == tokens[1],
            "{what}: {tokens:?}"
        );
        check_eq!(out, fake.runs().len(), 1, "{what}: run once");
        check_eq!(
            out,
            stdout_str(&out),
            format!("hello from {id}\n"),
            "{what}"
        );
    }
}

#[test]
fn aliyun_run_command_failing_every_attempt_says_it_may_have_run_and_how_to_check() {
    let id = fake_ecs::instance_id(1);
    let world = fake_ecs::World::single([Instance::new(&id)]);
    let fake = FakeEcs::start(world.fail_calls(1..=5, Fault::internal_error()));
    let out = ali_run(&fake, &["--instance-id", &id], &["uptime"]);
    let line = assert_error(&out, 3);
    check!(
        out,
        line.contains("may have run") && line.contains("ClientToken ssmres-")
    );
    check!(out, line.contains(&format!("list --instance-id {id}")));
    let sends = fake.calls_of(RUN_ACTION);
    check_eq!(out, sends.len(), 5, "the client's attempts");
    let token = sends[0].param("ClientToken");
    check!(out, sends.iter().all(|c| c.param("ClientToken") == token));
}

#[test]
fn aliyun_run_command_refused_after_a_lost_answer_still_says_it_may_have_run() {
    // The first attempt ran and its answer was lost; the retry is refused (a 4xx not worth
    // another attempt): the first may still have run.
    let id = fake_ecs::instance_id(1);
    let world = fake_ecs::World::single([Instance::new(&id)])
        .fail_call(1, Fault::lost_answer())
        .fail_call(
            2,
            Fault::Error(403, "Forbidden.RiskControl".into(), "refused".into()),
        );
    let fake = FakeEcs::start(world);
    let out = ali_run(&fake, &["--instance-id", &id], &["uptime"]);
    let line = assert_error(&out, 3);
    check!(
        out,
        line.contains("Forbidden.RiskControl")
            && line.contains("an earlier attempt may have run the command")
            && line.contains("ClientToken ssmres-")
    );
    check_eq!(out, fake.calls_of(RUN_ACTION).len(), 2);
}

#[test]
fn aliyun_no_wait_prints_run_commands_answer_which_pipes_into_wait() {
    let id = fake_ecs::instance_id(1);
    let fake = FakeEcs::start(fake_ecs::World::single([Instance::new(&id)]));
    let sent = run(Cli::new(&fake.url()).ali().args([
        "run",
        "--instance-id",
        &id,
        "--no-wait",
        "--",
        "uptime",
    ]));
    assert_exit(&sent, 0);
    let printed = stdout_json(&sent);
    check_eq!(sent, printed["InvokeId"], INVOKE_ID);
    // RunCommand's fields, in the API's order.
    let text = stdout_str(&sent);
    let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap_or(usize::MAX);
    check!(
        sent,
        at("RequestId") < at("CommandId") && at("CommandId") < at("InvokeId")
    );
    let mut wait = Cli::new(&fake.url()).ali();
    wait.args(["wait", "--invoke-id", "-", "-o", "text"]);
    let out = run_with_input(&mut wait, &sent.stdout);
    assert_exit(&out, 0);
    check_eq!(
        out,
        stdout_str(&out),
        format!("== {id} · Success ==\nhello from {id}\n")
    );
}

// --- End to end against moto ---------------------------------------------------------------------

/// A proxy in front of `moto` that keeps the body of every request with this X-Amz-Target.
/// moto has no ListCommandInvocations (it answers 500, "not implemented"): the proxy answers it
/// from moto's own ListCommands, each instance of the command listed as moto reports every
/// invocation, Success.
fn recording_proxy(
    moto: &Moto,
    target: &'static str,
) -> (Server, Arc<std::sync::Mutex<Vec<Value>>>) {
    let kept = Arc::new(std::sync::Mutex::new(Vec::new()));
    let keeping = Arc::clone(&kept);
    let upstream = moto.endpoint();
    let server = Server::start(move |request: &Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let called = request.header("x-amz-target").unwrap_or_default();
        if called == target {
            keeping.lock().unwrap().push(body.clone());
        }
        let headers: Vec<(&str, &str)> = (request.headers.iter())
            .filter(|(k, _)| !matches!(k.as_str(), "host" | "content-length" | "connection"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let forward = |target: &str, headers: &[(&str, &str)], body: &[u8]| {
            http::request(&upstream, &request.method, target, headers, body)
        };
        if called == LIST_COMMAND_INVOCATIONS {
            let mut asked = headers.clone();
            asked.retain(|(k, _)| *k != "x-amz-target");
            asked.push(("x-amz-target", LIST_COMMANDS));
            let query = json!({ "CommandId": body["CommandId"] }).to_string();
            let Some((200, listed)) = forward("/", &asked, query.as_bytes()) else {
                return Reply::send(500, "text/plain", "ListCommands failed");
            };
            let listed: Value = serde_json::from_slice(&listed).unwrap_or(Value::Null);
            let instances = listed["Commands"][0]["InstanceIds"].as_array().cloned();
            let records: Vec<Value> = (instances.into_iter().flatten())
                .filter_map(|i| i.as_str().map(str::to_owned))
                .map(|instance| {
                    let mut r = listed_invocation(&instance, "Success", "Success", "");
                    r["CommandId"] = body["CommandId"].clone();
                    if body["Details"] != json!(true) {
                        r.as_object_mut().unwrap().remove("CommandPlugins");
                    }
                    r
                })
                .collect();
            let page = json!({ "CommandInvocations": records }).to_string();
            return Reply::send(200, "application/x-amz-json-1.1", page);
        }
        match forward(&request.target, &headers, &request.body) {
            Some((status, body)) => Reply::send(status, "application/x-amz-json-1.1", body),
            None => Reply::Drop,
        }
    });
    (server, kept)
}

/// The reference: `aws ssm send-command --document-name AWS-RunShellScript ARGS` through the
/// proxy, which must succeed.
fn aws_send(moto: &Moto, proxy: &Server, args: &[&str]) {
    let send = [
        "ssm",
        "send-command",
        "--document-name",
        "AWS-RunShellScript",
    ];
    let all = [&send[..], args, &["--output", "json"]].concat();
    let aws = run(&mut moto::aws_command_at(&proxy.url(), &moto.home(), all));
    check!(aws, aws.status.success(), "aws ssm send-command");
}

/// `ssmres --endpoint-url PROXY` with moto's isolated environment.
fn through(moto: &Moto, proxy: &Server) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ssmres"));
    moto.apply_env(&mut cmd);
    cmd.args(["--endpoint-url", &proxy.url()]);
    cmd
}

#[test]
fn e2e_run_sends_what_the_aws_cli_sends_then_waits_prints_and_exits_0() {
    let moto = Moto::start();
    let instance = moto.run_instance();
    let (proxy, kept) = recording_proxy(&moto, SEND_COMMAND);
    // The reference: the aws CLI sending the same command, through the same proxy.
    let commands = r#"{"commands": ["echo hello from run"]}"#;
    let to = ["--instance-ids", &instance, "--parameters", commands];
    aws_send(
        &moto,
        &proxy,
        &[&to[..], &["--comment", "deploy ✓"]].concat(),
    );
    let mut cmd = through(&moto, &proxy);
    cmd.args(["run", "--instance-id", &instance])
        .args(["--comment", "deploy ✓", "-o", "json"])
        .args(FAST_POLL)
        .args(["--", "echo", "hello", "from", "run"]);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    let bodies = kept.lock().unwrap().clone();
    let [theirs, ours] = &bodies[..] else {
        panic!("two SendCommand requests: {bodies:?}")
    };
    assert_marked(
        ours["Comment"].as_str().unwrap_or_default(),
        Some("deploy ✓"),
    );
    check_eq!(out, theirs["Comment"], "deploy ✓");
    check_eq!(
        out,
        without_comment(ours.clone()),
        without_comment(theirs.clone())
    );
    // Printed as `aws ssm get-command-invocation` prints the invocation, byte for byte.
    let printed = stdout_json(&out);
    let command_id = printed["CommandId"].as_str().unwrap_or_default().to_owned();
    check!(
        out,
        sent_line(&out).starts_with(&format!("sent: {command_id} "))
    );
    let reference = moto.aws([
        "ssm",
        "get-command-invocation",
        "--command-id",
        &command_id,
        "--instance-id",
        &instance,
        "--output",
        "json",
    ]);
    check!(reference, reference.status.success());
    assert_same_lines(&out.stdout, &reference.stdout, "ssmres run -o json");
}

#[test]
fn e2e_run_on_a_fleet_by_tag() {
    let moto = Moto::start();
    let tagged = |role: &str| {
        let id = moto.run_instance();
        let tag = format!("Key=role,Value={role}");
        let out = moto.aws(["ec2", "create-tags", "--resources", &id, "--tags", &tag]);
        check!(out, out.status.success(), "create-tags");
        id
    };
    let mut web = vec![tagged("web"), tagged("web")];
    let _db = tagged("db");
    web.sort();
    let (proxy, kept) = recording_proxy(&moto, SEND_COMMAND);
    aws_send(
        &moto,
        &proxy,
        &[
            "--targets",
            "Key=tag:role,Values=web",
            "--parameters",
            "commands=uptime",
        ],
    );
    let mut cmd = through(&moto, &proxy);
    cmd.args(["run", "--target", "tag:role=web", "-o", "json"])
        .args(FAST_POLL)
        .args(["--", "uptime"]);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    let bodies = kept.lock().unwrap().clone();
    check_eq!(out, bodies.len(), 2);
    check_eq!(
        out,
        without_comment(bodies[1].clone()),
        without_comment(bodies[0].clone())
    );
    let ids: Vec<String> = (stdout_json(&out).as_array().into_iter().flatten())
        .map(|r| r["InstanceId"].as_str().unwrap_or_default().to_owned())
        .collect();
    check_eq!(out, ids, web, "the two web instances, not the db one");
}
