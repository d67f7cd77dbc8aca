//! `wait --follow`: the command's output printed while it runs, from the CloudWatch Logs streams
//! the agent writes (`<command id>/<instance id>/<step>/stdout|stderr`).
//!
//! SSM is the scripted fake (`tests/support/fake_ssm.rs`, answering from a handler): ListCommands
//! tells where the command's output goes, GetCommandInvocation and ListCommandInvocations say
//! InProgress until the test ends an invocation ([`Ssm::end`]). CloudWatch Logs is a moto server
//! (`tests/support/moto.rs`) that ssmres reaches through `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, and
//! that the test writes events to while ssmres runs, over moto's HTTP API ([`World`]), so that
//! appending is a round trip of milliseconds.
//!
//! Nothing is synchronised by sleeping: the test reads ssmres's stdout and stderr line by line as
//! they come ([`Spawned::wait_for`]) and acts once a line has been printed.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::fake_ssm::{
    CMD_ID, FAILED, FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, LIST_COMMAND_INVOCATIONS,
    LIST_COMMANDS, SUCCESS, Step, cloudwatch, command_record, invocation, listed_invocation,
};
use crate::support::moto::Moto;
use crate::support::{
    Cli, FAST_POLL, Pipe, Spawned, assert_exit, assert_output, check, check_eq, since_epoch,
    stderr_str, stdout_json, stdout_str, warnings,
};

/// A second instance, for the tests with two.
const OTHER_INSTANCE: &str = "i-0fedcba9876543210";

/// The step name the agent gives the one step of `AWS-RunShellScript` in stream names.
const SHELL_STEP: &str = "aws-runShellScript";

/// The default log group of `AWS-RunShellScript` (an empty CloudWatchLogGroupName).
const DEFAULT_GROUP: &str = "/aws/ssm/AWS-RunShellScript";

/// The CloudWatch Logs stream the agent writes `stream` (stdout, stderr) of `step` to.
fn log_stream(instance: &str, step: &str, stream: &str) -> String {
    format!("{CMD_ID}/{instance}/{step}/{stream}")
}

/// The lines of `messages` as followed: each event is whole lines, each printed with its
/// newline.
fn lines_of(messages: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    for m in messages {
        let body = m.strip_suffix('\n').unwrap_or(m);
        lines.extend(body.split('\n').map(|l| format!("{l}\n")));
    }
    lines
}

/// The text `lines` make, each prefixed by `[instance] ` when `instance` is given.
fn joined(lines: &[String], instance: Option<&str>) -> String {
    let prefix = instance.map(|i| format!("[{i}] ")).unwrap_or_default();
    lines.iter().map(|l| format!("{prefix}{l}")).collect()
}

/// The lines of `text` (each with its newline) that start with `start`, `start` removed when
/// `strip`.
fn lines_starting(text: &str, start: &str, strip: bool) -> Vec<String> {
    text.split_inclusive('\n')
        .filter(|l| l.starts_with(start))
        .map(|l| if strip { &l[start.len()..] } else { l }.to_owned())
        .collect()
}

/// The lines of `text` that start with `[instance] `, prefix removed, for each of the two
/// instances.
fn lines_of_both(text: &str) -> [Vec<String>; 2] {
    [INSTANCE_ID, OTHER_INSTANCE].map(|i| lines_starting(text, &format!("[{i}] "), true))
}

// --- The scripted SSM ----------------------------------------------------------------------------

/// An invocation of the command: its instance and its (status, details, stdout, stderr), InProgress
/// with no output until ended.
type Invocation = (String, [String; 4]);

/// The invocations of the command.
struct Script {
    config: Value,
    invocations: Vec<Invocation>,
}

impl Script {
    fn inv(&self, instance: &str) -> Option<&Invocation> {
        self.invocations.iter().find(|(i, _)| i == instance)
    }

    /// What GetCommandInvocation answers for this invocation now.
    fn get_record(&self, (instance, [status, details, stdout, stderr]): &Invocation) -> Value {
        let mut record = invocation(status, details, stdout, stderr);
        record["InstanceId"] = json!(instance);
        record["CloudWatchOutputConfig"] = self.config.clone();
        record
    }

    /// What ListCommandInvocations lists for this invocation now (with `CommandPlugins`).
    fn listed_record(&self, (instance, [status, details, stdout, stderr]): &Invocation) -> Value {
        let output = format!("{stdout}{stderr}");
        let mut record = listed_invocation(instance, status, details, &output);
        record["CloudWatchOutputConfig"] = self.config.clone();
        record
    }

    /// ListCommands' `Command` now: InProgress while any invocation runs.
    fn command(&self) -> Value {
        let states: Vec<(&str, &str)> = (self.invocations.iter())
            .map(|(_, [status, details, ..])| (status.as_str(), details.as_str()))
            .collect();
        let mut command = command_record(&states);
        let instances: Vec<&String> = self.invocations.iter().map(|(i, _)| i).collect();
        command["InstanceIds"] = json!(instances);
        command["Targets"] = json!([]);
        command["CloudWatchOutputConfig"] = self.config.clone();
        command
    }

    fn answer(&self, target: &str, body: &Value) -> Step {
        match target {
            LIST_COMMANDS if body["CommandId"] == json!(CMD_ID) => {
                Step::ok(&json!({ "Commands": [self.command()] }))
            }
            LIST_COMMANDS => Step::Error(400, "InvalidCommandId".into(), String::new()),
            GET_COMMAND_INVOCATION => match body["InstanceId"].as_str().and_then(|i| self.inv(i)) {
                Some(inv) if body["CommandId"] == json!(CMD_ID) => Step::ok(&self.get_record(inv)),
                _ => Step::not_found(),
            },
            LIST_COMMAND_INVOCATIONS => {
                let asked = |key: &str, value: &str| body.get(key).is_none_or(|v| *v == value);
                let items: Vec<Value> = self
                    .invocations
                    .iter()
                    .filter(|(i, _)| asked("CommandId", CMD_ID) && asked("InstanceId", i))
                    .map(|inv| {
                        let mut r = self.listed_record(inv);
                        if body["Details"] != json!(true) {
                            r.as_object_mut().unwrap().remove("CommandPlugins");
                        }
                        r
                    })
                    .collect();
                Step::ok(&json!({ "CommandInvocations": items }))
            }
            other => Step::Error(400, "UnknownOperationException".into(), other.into()),
        }
    }
}

/// The fake SSM and the script it answers from.
struct Ssm {
    fake: FakeSsm,
    script: Arc<Mutex<Script>>,
}

impl Ssm {
    /// Every instance of `instances` running the command, whose CloudWatch output is `config`.
    fn new(config: Value, instances: &[&str]) -> Ssm {
        let running = ["InProgress", "InProgress", "", ""].map(str::to_owned);
        let invocations = instances
            .iter()
            .map(|i| ((*i).to_owned(), running.clone()))
            .collect();
        let script = Arc::new(Mutex::new(Script {
            config,
            invocations,
        }));
        let answering = Arc::clone(&script);
        let fake = FakeSsm::with_handler(move |target: &str, body: &Value| {
            answering.lock().unwrap().answer(target, body)
        });
        Ssm { fake, script }
    }

    /// Ends the invocation on `instance` in this state, these lines in its record.
    fn end(&self, instance: &str, (status, details): (&str, &str), out: &[String], err: &[String]) {
        let mut script = self.script.lock().unwrap();
        let inv = script.invocations.iter_mut().find(|(i, _)| i == instance);
        let end = [
            status.to_owned(),
            details.to_owned(),
            joined(out, None),
            joined(err, None),
        ];
        inv.expect("an instance of the script").1 = end;
    }

    /// Blocks until GetCommandInvocation has answered with the end of the invocation on
    /// `instance`: from then on the wait is over (or, for a fleet, that instance is), and what
    /// the agent writes is read by the settle only.
    fn await_end_served(&self, instance: &str) {
        let served = || {
            self.fake.calls().iter().any(|c| {
                c.is(GET_COMMAND_INVOCATION)
                    && c.body["InstanceId"] == instance
                    && c.answer["Status"]
                        .as_str()
                        .is_some_and(|s| s != "InProgress")
            })
        };
        let why = format!("ssmres did not fetch the end of {instance}");
        assert!(self.fake.wait(served), "{why}");
    }

    /// What GetCommandInvocation answers for `instance` now.
    fn record(&self, instance: &str) -> Value {
        let script = self.script.lock().unwrap();
        script.get_record(script.inv(instance).expect("an instance of the script"))
    }
}

// --- CloudWatch Logs: moto -----------------------------------------------------------------------

/// Milliseconds since the epoch, on the clock moto stamps streams with.
fn now_ms() -> i64 {
    since_epoch().as_millis() as i64
}

/// moto's CloudWatch Logs, written to over its HTTP API.
struct World {
    moto: Moto,
    /// The timestamp of the last event put: they go up by one millisecond per event from ten
    /// minutes ago, so moto (which orders a stream's events by timestamp) keeps them in the
    /// order they were put.
    clock: i64,
    /// The creation time of the last stream: the next one is created only once the clock has
    /// passed it, so creation times are distinct and in the order of creation.
    last_created: i64,
}

impl World {
    /// moto, with `group` holding these (empty) streams.
    fn start(group: &str, streams: &[&str]) -> World {
        let mut world = World {
            moto: Moto::start(),
            clock: now_ms() - 600_000,
            last_created: 0,
        };
        world
            .moto
            .logs("CreateLogGroup", &json!({ "logGroupName": group }));
        for s in streams {
            world.stream(group, s);
        }
        world
    }

    /// Creates the stream; returns its creation time (ms).
    fn stream(&mut self, group: &str, stream: &str) -> i64 {
        while now_ms() <= self.last_created {
            thread::sleep(Duration::from_millis(1));
        }
        let body = json!({ "logGroupName": group, "logStreamName": stream });
        self.moto.logs("CreateLogStream", &body);
        let body = json!({ "logGroupName": group, "logStreamNamePrefix": stream });
        let found = self.moto.logs("DescribeLogStreams", &body);
        let created = (found["logStreams"].as_array().into_iter().flatten())
            .find(|s| s["logStreamName"] == stream)
            .and_then(|s| s["creationTime"].as_i64())
            .unwrap_or_else(|| panic!("no creation time for {stream}: {found}"));
        self.last_created = created;
        created
    }

    /// Puts these messages as events, in order, in one call.
    fn put(&mut self, group: &str, stream: &str, messages: &[&str]) {
        let events: Vec<Value> = (messages.iter())
            .map(|m| {
                self.clock += 1;
                json!({ "timestamp": self.clock, "message": m })
            })
            .collect();
        let body = json!({ "logGroupName": group, "logStreamName": stream, "logEvents": events });
        let answer = self.moto.logs("PutLogEvents", &body);
        let rejected = answer.get("rejectedLogEventsInfo");
        assert!(rejected.is_none_or(Value::is_null), "{answer}");
    }

    /// Starts ssmres against `ssm` ([`follow`]), CloudWatch Logs at moto.
    fn follow(&self, ssm: &Ssm, instances: &[&str], extra: &str) -> Spawned {
        follow(ssm, &self.moto.endpoint(), instances, extra)
    }
}

/// Starts `ssmres wait --command-id CMD_ID <--instance-id each> <fast polling> --follow EXTRA`
/// against `ssm`, CloudWatch Logs at `logs`.
fn follow(ssm: &Ssm, logs: &str, instances: &[&str], extra: &str) -> Spawned {
    let mut cmd = Cli::new(&ssm.fake.url()).cmd();
    let named: String = instances
        .iter()
        .map(|i| format!("--instance-id {i} "))
        .collect();
    let args = format!(
        "wait --command-id {CMD_ID} {named}{} --follow {extra}",
        FAST_POLL.join(" ")
    );
    Spawned::start(
        cmd.env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", logs)
            .args(args.split_whitespace()),
    )
}

// --- One instance, text: the followed lines are the result ---------------------------------------

/// moto with `group` holding the stdout and stderr streams of the one instance, the fake SSM
/// running the command there, and ssmres following it with `extra`.
fn one_instance(
    group: &str,
    config_group: &str,
    extra: &str,
) -> (World, Ssm, Spawned, [String; 2]) {
    let streams = ["stdout", "stderr"].map(|s| log_stream(INSTANCE_ID, SHELL_STEP, s));
    let world = World::start(group, &[&streams[0], &streams[1]]);
    let ssm = Ssm::new(cloudwatch(config_group, true), &[INSTANCE_ID]);
    let run = world.follow(&ssm, &[INSTANCE_ID], extra);
    (world, ssm, run, streams)
}

#[test]
fn text_prints_lines_while_running_stdout_and_stderr_apart_and_the_tail_after_the_end() {
    // An empty group name in CloudWatchOutputConfig: the document's default group.
    let (mut world, ssm, mut run, [out, err]) = one_instance(DEFAULT_GROUP, "", "-o text");
    let g = DEFAULT_GROUP;

    // Events as the agent writes them: most without their newline, one with it, one holding
    // several lines, non-ASCII text.
    let first: &[&str] = &["fetching artefacts"];
    world.put(g, &out, first);
    run.wait_for(Pipe::Out, "fetching artefacts\n");
    run.assert_running();

    let err_first: &[&str] = &["warning: disk 91% full"];
    let second: &[&str] = &["unpacking ✓\n", "step 2/3 café 🚀\nstep 3/3 漢字"];
    world.put(g, &err, err_first);
    world.put(g, &out, second);
    run.wait_for(Pipe::Out, "step 3/3 漢字\n");
    run.wait_for(Pipe::Err, "warning: disk 91% full\n");
    run.assert_running();

    // The invocation ends; the agent's last events reach CloudWatch Logs just after.
    let tail: &[&str] = &["restarting service", "done in 42 s"];
    let err_tail: &[&str] = &["notice: 1 deprecation"];
    let out_lines = lines_of(&[first, second, tail].concat());
    let err_lines = lines_of(&[err_first, err_tail].concat());
    ssm.end(INSTANCE_ID, SUCCESS, &out_lines, &err_lines);
    // The wait has seen the end: only the settle can read what comes now.
    ssm.await_end_served(INSTANCE_ID);
    world.put(g, &out, tail);
    world.put(g, &err, err_tail);

    // Every line once, in order, each stream on its own pipe; the result not printed again.
    let done = run.finish();
    let (out_text, err_text) = (joined(&out_lines, None), joined(&err_lines, None));
    assert_output(&done.out, 0, &out_text, &err_text);
    let why = "ListCommands is asked once, for where the output goes";
    assert_eq!(ssm.fake.count(LIST_COMMANDS), 1, "{why}");
}

#[test]
fn streams_of_later_steps_are_picked_up_and_read_in_creation_order() {
    let group = "/ops/deploy";
    let mut world = World::start(group, &[]);
    // Two steps' streams exist before ssmres starts; the second was created after the first
    // but its name sorts before it: steps are read in creation order, not in name order.
    let fetch = log_stream(INSTANCE_ID, "zz-fetch", "stdout");
    let build = log_stream(INSTANCE_ID, "mm-build", "stdout");
    let fetch_created = world.stream(group, &fetch);
    let fetch_lines: &[&str] = &["fetch 1", "fetch 2"];
    world.put(group, &fetch, fetch_lines);
    let build_created = world.stream(group, &build);
    let build_lines: &[&str] = &["build 1", "build 2"];
    world.put(group, &build, build_lines);
    let why = format!("moto gave the streams creation times {fetch_created} and {build_created}");
    assert!(fetch_created < build_created, "{why}");
    let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID]);
    let mut run = world.follow(&ssm, &[INSTANCE_ID], "-o text");
    run.wait_for(Pipe::Out, "build 2\n");

    // A third step starts while the command runs: its streams appear only now (named to sort
    // before both others).
    let [test_out, test_err] = ["stdout", "stderr"].map(|s| log_stream(INSTANCE_ID, "aa-test", s));
    world.stream(group, &test_out);
    world.stream(group, &test_err);
    let test_first: &[&str] = &["test 1"];
    let test_err_lines: &[&str] = &["test: 1 skipped"];
    world.put(group, &test_out, test_first);
    world.put(group, &test_err, test_err_lines);
    run.wait_for(Pipe::Out, "test 1\n");
    run.wait_for(Pipe::Err, "test: 1 skipped\n");
    run.assert_running();
    let test_last: &[&str] = &["test 2"];
    world.put(group, &test_out, test_last);
    run.wait_for(Pipe::Out, "test 2\n");
    run.assert_running();

    // stdout: each step once, steps in the order they started.
    let out_lines = lines_of(&[fetch_lines, build_lines, test_first, test_last].concat());
    let err_lines = lines_of(test_err_lines);
    ssm.end(INSTANCE_ID, SUCCESS, &out_lines, &err_lines);
    let done = run.finish();
    let (out_text, err_text) = (joined(&out_lines, None), joined(&err_lines, None));
    assert_output(&done.out, 0, &out_text, &err_text);
}

#[test]
fn json_keeps_stdout_the_final_record_while_followed_lines_go_to_stderr() {
    let group = "/ops/json";
    let (mut world, ssm, mut run, [out, err]) = one_instance(group, group, "-o json");
    let out1: &[&str] = &["out 1", "out 2"];
    world.put(group, &out, out1);
    run.wait_for(Pipe::Err, "out 2\n");
    let err1: &[&str] = &["err 1"];
    world.put(group, &err, err1);
    run.wait_for(Pipe::Err, "err 1\n");
    run.assert_running();
    let why = format!("stdout is for the result\n{}", run.describe());
    assert!(run.stdout.is_empty(), "{why}");

    let out2: &[&str] = &["out 3"];
    let out_lines = lines_of(&[out1, out2].concat());
    let err_lines = lines_of(err1);
    ssm.end(INSTANCE_ID, SUCCESS, &out_lines, &err_lines);
    // The wait has seen the end: only the settle can read what comes now.
    ssm.await_end_served(INSTANCE_ID);
    world.put(group, &out, out2);

    let done = run.finish();
    assert_exit(&done.out, 0);
    let stderr = stderr_str(&done.out);
    assert_eq!(stdout_json(&done.out), ssm.record(INSTANCE_ID));
    // stderr holds the followed lines and nothing else.
    let followed = ["out ", "err "].map(|start| lines_starting(&stderr, start, false));
    check_eq!(done.out, followed, [out_lines, err_lines]);
    check_eq!(done.out, stderr.lines().count(), 4);
}

#[test]
fn a_failed_invocation_exits_1_with_its_lines_followed() {
    let group = "/ops/failing";
    let (mut world, ssm, mut run, [out, err]) = one_instance(group, group, "-o text");
    let out1: &[&str] = &["applying migration 7"];
    world.put(group, &out, out1);
    run.wait_for(Pipe::Out, "applying migration 7\n");
    run.assert_running();

    let err1: &[&str] = &["error: column exists"];
    let err2: &[&str] = &["rollback complete"];
    let out_lines = lines_of(out1);
    let err_lines = lines_of(&[err1, err2].concat());
    world.put(group, &err, err1);
    run.wait_for(Pipe::Err, "error: column exists\n");
    ssm.end(INSTANCE_ID, FAILED, &out_lines, &err_lines);
    // The wait has seen the end: only the settle can read what comes now.
    ssm.await_end_served(INSTANCE_ID);
    world.put(group, &err, err2);

    let done = run.finish();
    let (out_text, err_text) = (joined(&out_lines, None), joined(&err_lines, None));
    assert_output(&done.out, 1, &out_text, &err_text);
}

// --- Several instances: each line prefixed by its instance ---------------------------------------

/// moto with `group` holding instance a's stdout stream and instance b's stdout and stderr
/// streams, and the fake SSM running the command on both.
fn two_instances(group: &str) -> (World, Ssm, [String; 3]) {
    let a_out = log_stream(INSTANCE_ID, SHELL_STEP, "stdout");
    let [b_out, b_err] = ["stdout", "stderr"].map(|s| log_stream(OTHER_INSTANCE, SHELL_STEP, s));
    let world = World::start(group, &[&a_out, &b_out, &b_err]);
    let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID, OTHER_INSTANCE]);
    (world, ssm, [a_out, b_out, b_err])
}

#[test]
fn two_named_instances_are_followed_each_line_prefixed_by_its_instance() {
    let group = "/ops/fleet";
    let (mut world, ssm, [a_out, b_out, b_err]) = two_instances(group);
    // An instance of the command that was not asked for: its lines are not shown.
    let unasked_out = log_stream("i-0aaaaaaaaaaaaaaaa", SHELL_STEP, "stdout");
    world.stream(group, &unasked_out);
    world.put(group, &unasked_out, &["not asked for"]);

    let mut run = world.follow(&ssm, &[INSTANCE_ID, OTHER_INSTANCE], "-o text");
    let a1: &[&str] = &["a: starting"];
    world.put(group, &a_out, a1);
    run.wait_for(Pipe::Out, &format!("[{INSTANCE_ID}] a: starting\n"));
    let b1: &[&str] = &["b: starting"];
    world.put(group, &b_out, b1);
    run.wait_for(Pipe::Out, &format!("[{OTHER_INSTANCE}] b: starting\n"));
    let b_err1: &[&str] = &["b: retrying"];
    let a2: &[&str] = &["a: half-way\na: almost"];
    world.put(group, &b_err, b_err1);
    world.put(group, &a_out, a2);
    run.wait_for(Pipe::Err, &format!("[{OTHER_INSTANCE}] b: retrying\n"));
    run.wait_for(Pipe::Out, &format!("[{INSTANCE_ID}] a: almost\n"));
    run.assert_running();

    // The first ends; its tail comes after; the other still runs.
    let a3: &[&str] = &["a: done"];
    let a_lines = lines_of(&[a1, a2, a3].concat());
    ssm.end(INSTANCE_ID, SUCCESS, &a_lines, &[]);
    ssm.await_end_served(INSTANCE_ID);
    world.put(group, &a_out, a3);
    run.wait_for(Pipe::Out, &format!("[{INSTANCE_ID}] a: done\n"));
    run.assert_running();

    let b2: &[&str] = &["b: done"];
    let b_err2: &[&str] = &["b: 0 errors"];
    let b_lines = lines_of(&[b1, b2].concat());
    let b_err_lines = lines_of(&[b_err1, b_err2].concat());
    ssm.end(OTHER_INSTANCE, SUCCESS, &b_lines, &b_err_lines);
    ssm.await_end_served(OTHER_INSTANCE);
    world.put(group, &b_out, b2);
    world.put(group, &b_err, b_err2);

    let done = run.finish();
    let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
    assert_exit(&done.out, 0);
    // Every stdout line is an instance's, prefixed: nothing printed again at the end.
    check_eq!(
        done.out,
        lines_of_both(&stdout),
        [a_lines.clone(), b_lines.clone()]
    );
    assert_eq!(stdout.lines().count(), a_lines.len() + b_lines.len());
    assert_eq!(stderr, joined(&b_err_lines, Some(OTHER_INSTANCE)));
}

#[test]
fn whole_command_in_json_prefixes_followed_lines_on_stderr_and_fails_with_its_failed_instance() {
    let group = "/ops/whole";
    let (mut world, ssm, [a_out, b_out, b_err]) = two_instances(group);
    let mut run = world.follow(&ssm, &[], "-o json");
    let a1: &[&str] = &["a: migrating"];
    let b1: &[&str] = &["b: migrating"];
    world.put(group, &a_out, a1);
    world.put(group, &b_out, b1);
    run.wait_for(Pipe::Err, &format!("[{INSTANCE_ID}] a: migrating\n"));
    run.wait_for(Pipe::Err, &format!("[{OTHER_INSTANCE}] b: migrating\n"));
    run.assert_running();
    assert!(run.stdout.is_empty(), "{}", run.describe());

    let a2: &[&str] = &["a: ok"];
    let b_err1: &[&str] = &["b: migration 7 failed"];
    let a_lines = lines_of(&[a1, a2].concat());
    let b_lines = lines_of(b1);
    let b_err_lines = lines_of(b_err1);
    ssm.end(INSTANCE_ID, SUCCESS, &a_lines, &[]);
    ssm.end(OTHER_INSTANCE, FAILED, &b_lines, &b_err_lines);
    // The wait has seen both ends: only the settle can read what comes now.
    ssm.await_end_served(INSTANCE_ID);
    ssm.await_end_served(OTHER_INSTANCE);
    world.put(group, &a_out, a2);
    world.put(group, &b_err, b_err1);

    let done = run.finish();
    let stderr = stderr_str(&done.out);
    assert_exit(&done.out, 1);
    // stdout is the final records, as without --follow.
    let records = json!([ssm.record(INSTANCE_ID), ssm.record(OTHER_INSTANCE)]);
    assert_eq!(stdout_json(&done.out), records);
    // b's stdout line was shown before its stderr line was written; stderr holds the followed
    // lines and nothing else.
    let want = [a_lines, [b_lines, b_err_lines].concat()];
    check_eq!(done.out, lines_of_both(&stderr), want);
    check_eq!(done.out, stderr.lines().count(), 4);
}

// --- Nothing to follow, or reading denied: one warning, then an ordinary wait --------------------

const NO_CLOUDWATCH_WARNING: &str =
    "warning: --follow: the command was sent without CloudWatch output";

const DENIED_WARNING: &str = "warning: --follow: reading the output was denied";

/// A stand-in for CloudWatch Logs holding one stream of `messages`, that answers
/// AccessDeniedException to everything once `denied` is set (a role's session expiring during
/// a long wait, say), and records what reaches it.
struct FakeLogs {
    fake: FakeSsm,
    denied: Arc<Mutex<bool>>,
}

impl FakeLogs {
    fn new(stream: &str, messages: &[&str], denied: bool) -> FakeLogs {
        let denied = Arc::new(Mutex::new(denied));
        let deny = Arc::clone(&denied);
        let stream = stream.to_owned();
        let messages: Vec<String> = messages.iter().map(|m| (*m).to_owned()).collect();
        let fake = FakeSsm::with_handler(move |target: &str, body: &Value| {
            if *deny.lock().unwrap() {
                return Step::access_denied(
                    "User: arn:aws:sts::123456789012:assumed-role/ci/session is not authorized \
                     to perform: logs:DescribeLogStreams",
                );
            }
            match target {
                "Logs_20140328.DescribeLogStreams" => Step::ok(&json!({
                    "logStreams": [{
                        "logStreamName": stream,
                        "creationTime": 1_715_677_951_291_i64
                    }]
                })),
                "Logs_20140328.GetLogEvents" => {
                    // Tokens are `f/<index of the next event>`.
                    let from = body["nextToken"]
                        .as_str()
                        .and_then(|t| t.strip_prefix("f/"))
                        .and_then(|n| n.parse::<usize>().ok())
                        .unwrap_or(0)
                        .min(messages.len());
                    let events: Vec<Value> = messages[from..]
                        .iter()
                        .map(|m| json!({ "timestamp": 1, "ingestionTime": 1, "message": m }))
                        .collect();
                    Step::ok(&json!({
                        "events": events,
                        "nextForwardToken": format!("f/{}", messages.len()),
                        "nextBackwardToken": "b/0"
                    }))
                }
                other => Step::Error(400, "UnknownOperationException".into(), other.into()),
            }
        });
        FakeLogs { fake, denied }
    }

    fn deny(&self) {
        *self.denied.lock().unwrap() = true;
    }
}

#[test]
fn without_cloudwatch_output_one_warning_then_an_ordinary_wait() {
    // Not enabled: with the default group, and with a group named but not enabled.
    for (mode, group, end, code) in [
        ("text", "", FAILED, 1),
        ("json", "/ops/named-but-off", SUCCESS, 0),
    ] {
        let logs = FakeLogs::new("", &[], true);
        let ssm = Ssm::new(cloudwatch(group, false), &[INSTANCE_ID]);
        let mut run = follow(
            &ssm,
            &logs.fake.url(),
            &[INSTANCE_ID],
            &format!("-o {mode}"),
        );
        let warned = |l: &str| l.starts_with(NO_CLOUDWATCH_WARNING);
        let warning = run.wait_until(Pipe::Err, NO_CLOUDWATCH_WARNING, warned);
        // The wait goes on after the warning.
        run.assert_running();
        let (stdout, stderr) = (lines_of(&["partial output"]), lines_of(&["boom"]));
        ssm.end(INSTANCE_ID, end, &stdout, &stderr);

        let done = run.finish();
        let why = format!("{mode}: one warning");
        assert_eq!(warnings(&done.out), [warning.trim_end()], "{why}");
        if mode == "text" {
            assert_output(
                &done.out,
                code,
                "partial output\n",
                &format!("{warning}boom\n"),
            );
        } else {
            assert_exit(&done.out, code);
            assert_eq!(stdout_json(&done.out), ssm.record(INSTANCE_ID));
            check_eq!(done.out, stderr_str(&done.out), warning);
        }
        let why = format!(
            "{mode}: CloudWatch Logs was not asked: {:#?}",
            logs.fake.calls()
        );
        assert!(logs.fake.calls().is_empty(), "{why}");
        assert_eq!(ssm.fake.count(LIST_COMMANDS), 1, "{mode}");
    }
}

#[test]
fn reading_denied_one_warning_then_an_ordinary_wait() {
    // Denied from the start, and denied after some lines were followed (a role's session
    // expiring during a long run). In text mode the followed lines were already the start of
    // the result; the end of the wait must not print them a second time (issue 10: "No line
    // printed twice or skipped"; README: "Each line is printed once, in order").
    for followed in [&[][..], &["installing 1/2", "installing 2/2"]] {
        let stream = log_stream(INSTANCE_ID, SHELL_STEP, "stdout");
        let logs = FakeLogs::new(&stream, followed, followed.is_empty());
        let ssm = Ssm::new(cloudwatch("/ops/secret", true), &[INSTANCE_ID]);
        let mut run = follow(&ssm, &logs.fake.url(), &[INSTANCE_ID], "-o text");
        if let Some(last) = followed.last() {
            run.wait_for(Pipe::Out, &format!("{last}\n"));
            logs.deny();
        }
        let warning = run.wait_until(Pipe::Err, DENIED_WARNING, |l| l.starts_with(DENIED_WARNING));
        run.assert_running();
        let result = lines_of(&[followed, &["rebooting"]].concat());
        ssm.end(INSTANCE_ID, SUCCESS, &result, &[]);

        let done = run.finish();
        assert!(
            warning.contains("AccessDeniedException"),
            "the warning says why: {warning}"
        );
        // One warning; stdout every line of the command once.
        assert_output(&done.out, 0, &joined(&result, None), &warning);
        let targets: Vec<String> = logs.fake.calls().into_iter().map(|r| r.target).collect();
        if followed.is_empty() {
            let streams_only = targets
                .iter()
                .all(|t| t == "Logs_20140328.DescribeLogStreams");
            let why =
                format!("the streams were asked for, and nothing after the denial: {targets:?}");
            assert!(!targets.is_empty() && streams_only, "{why}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// --timeout: the budget for the whole command, following included
// ---------------------------------------------------------------------------------------------

#[test]
fn timeout_ends_the_following_too_while_the_command_still_prints() {
    let group = "/ops/endless";
    let stream = log_stream(INSTANCE_ID, SHELL_STEP, "stdout");
    let mut world = World::start(group, &[&stream]);
    // The invocation never ends, and prints a line each time the last one was shown.
    let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID]);
    let timeout = Duration::from_secs(3);
    let mut run = world.follow(&ssm, &[INSTANCE_ID], "-o text --timeout 3s");
    let mut ticks = Vec::new();
    for n in 0..30 {
        let tick = format!("tick {n}");
        world.put(group, &stream, &[&tick]);
        let shown = format!("{tick}\n");
        ticks.push(shown.clone());
        if run.line(Pipe::Out, |l| l == shown).is_none() {
            break;
        }
    }
    let done = run.finish();
    let stdout = stdout_str(&done.out);
    assert_exit(&done.out, 4);
    // Rounds are a second apart: one in flight at the deadline may end after it; following
    // on would print a tick a second for half a minute.
    check!(
        done.out,
        done.took < timeout + Duration::from_secs(5),
        "--timeout 3s: ssmres kept following past its budget ({} lines printed)",
        stdout.lines().count()
    );
    // What was shown, each line once and in order.
    let shown: Vec<&str> = stdout.split_inclusive('\n').collect();
    check_eq!(done.out, shown, ticks[..shown.len()]);
}

// --- The settle when there is nothing to read ----------------------------------------------------

#[test]
fn a_command_that_printed_nothing_settles_in_two_quiet_rounds_with_or_without_its_group() {
    // The agent creates the group and the streams only once there is output: a command that
    // printed nothing leaves no stream, and, sent to a group nobody wrote to yet, no group.
    // Either way there is nothing new round after round, and the wait ends two quiet rounds
    // after the invocation (README: "two rounds in a row bring nothing new, 10 s at most").
    let world = World::start("/ops/quiet", &[]);
    for group in ["/ops/quiet", "/ops/never-written"] {
        let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID]);
        // Already ended when ssmres first looks.
        ssm.end(INSTANCE_ID, SUCCESS, &[], &[]);
        let done = world.follow(&ssm, &[INSTANCE_ID], "-o text").finish();
        assert_output(&done.out, 0, "", "");
        // Two rounds a second apart after the first, well before the 10 s cap.
        check!(
            done.out,
            done.took < Duration::from_secs(8),
            "{group}: the settle after the end took {:?}: nothing was there to read",
            done.took
        );
    }
}
