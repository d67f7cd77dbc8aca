//! `wait --follow`: the command's output printed while it runs, from the CloudWatch Logs streams
//! the agent writes (`<command id>/<instance id>/<step>/stdout|stderr`).
//!
//! SSM is the scripted fake (`tests/support/fake_ssm.rs`, answering from a handler): ListCommands
//! tells where the command's output goes, GetCommandInvocation and ListCommandInvocations say
//! InProgress until the test ends an invocation ([`Ssm::end`]). CloudWatch Logs is a moto server
//! (`tests/support/moto.rs`) that ssmres reaches through `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, and
//! that the test writes events to while ssmres runs, through one long-lived boto3 process of the
//! venv's python ([`Writer`]), so that appending is a round trip of milliseconds.
//!
//! Nothing is synchronised by sleeping: the test reads ssmres's stdout and stderr line by line as
//! they come ([`Spawned::wait_for`]) and acts once a line has been printed.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::fake_ssm::{
    CMD_ID, FAILED, FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, LIST_COMMAND_INVOCATIONS,
    LIST_COMMANDS, REQUESTED_AT, SUCCESS, Step, invocation, listed_invocation,
};
use crate::support::moto::{self, Moto};
use crate::support::{
    Cli, FAST_POLL, Pipe, Spawned, assert_exit, describe, stderr_str, stdout_str, warnings,
};

/// A second instance, for the tests with two.
const OTHER_INSTANCE: &str = "i-0fedcba9876543210";

/// The step name the agent gives the one step of `AWS-RunShellScript` in stream names.
const SHELL_STEP: &str = "aws-runShellScript";

/// The default log group of `AWS-RunShellScript` (an empty CloudWatchLogGroupName).
const DEFAULT_GROUP: &str = "/aws/ssm/AWS-RunShellScript";

/// How long a followed line may take to show up: rounds are a second apart, the machine is
/// shared, moto is Python.
const LINE_WITHIN: Duration = Duration::from_secs(15);

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

/// The text `lines` make, prefixed by `[instance] ` when `instance` is given.
fn joined(lines: &[String], instance: Option<&str>) -> String {
    lines
        .iter()
        .map(|l| match instance {
            Some(i) => format!("[{i}] {l}"),
            None => l.clone(),
        })
        .collect()
}

/// The lines of `text` (each with its newline) that start with `[instance] `, prefix removed.
fn lines_of_instance(text: &str, instance: &str) -> Vec<String> {
    let prefix = format!("[{instance}] ");
    text.split_inclusive('\n')
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect()
}

/// The lines of `text` (each with its newline) that start with `start`.
fn lines_starting(text: &str, start: &str) -> Vec<String> {
    text.split_inclusive('\n')
        .filter(|l| l.starts_with(start))
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The scripted SSM
// ---------------------------------------------------------------------------------------------

/// `CloudWatchOutputConfig` as SSM gives it.
fn cloudwatch(group: &str, enabled: bool) -> Value {
    json!({
        "CloudWatchLogGroupName": group,
        "CloudWatchOutputEnabled": enabled
    })
}

/// One invocation of the command: running until ended.
struct Inv {
    instance: String,
    end: Option<End>,
    /// GetCommandInvocation has answered with the end: the wait has seen it.
    end_served: bool,
}

/// How an invocation ended: its Status, StatusDetails and the output in its record.
struct End {
    status: String,
    details: String,
    stdout: String,
    stderr: String,
}

struct Script {
    config: Value,
    invocations: Vec<Inv>,
}

impl Script {
    fn inv(&self, instance: &str) -> Option<&Inv> {
        self.invocations.iter().find(|i| i.instance == instance)
    }

    /// What GetCommandInvocation answers for this invocation now.
    fn get_record(&self, inv: &Inv) -> Value {
        let mut record = match &inv.end {
            Some(end) => invocation(&end.status, &end.details, &end.stdout, &end.stderr),
            None => invocation("InProgress", "InProgress", "", ""),
        };
        record["InstanceId"] = json!(inv.instance);
        record["CloudWatchOutputConfig"] = self.config.clone();
        record
    }

    /// What ListCommandInvocations lists for this invocation now (with `CommandPlugins`).
    fn listed_record(&self, inv: &Inv) -> Value {
        let mut record = match &inv.end {
            Some(end) => listed_invocation(
                &inv.instance,
                &end.status,
                &end.details,
                &format!("{}{}", end.stdout, end.stderr),
            ),
            None => listed_invocation(&inv.instance, "InProgress", "InProgress", ""),
        };
        record["CloudWatchOutputConfig"] = self.config.clone();
        record
    }

    /// ListCommands' `Command` now: InProgress while any invocation runs.
    fn command(&self) -> Value {
        let ended: Vec<&str> = self
            .invocations
            .iter()
            .filter_map(|i| i.end.as_ref().map(|e| e.status.as_str()))
            .collect();
        let status = if ended.len() < self.invocations.len() {
            "InProgress"
        } else if ended.iter().all(|s| *s == "Success") {
            "Success"
        } else {
            "Failed"
        };
        json!({
            "CommandId": CMD_ID,
            "DocumentName": "AWS-RunShellScript",
            "DocumentVersion": "$DEFAULT",
            "Comment": "",
            "Parameters": { "commands": ["./deploy.sh"] },
            "InstanceIds": self.invocations.iter().map(|i| i.instance.clone()).collect::<Vec<_>>(),
            "Targets": [],
            "RequestedDateTime": REQUESTED_AT,
            "Status": status,
            "StatusDetails": if status == "InProgress" { "In Progress" } else { status },
            "OutputS3Region": "us-east-1",
            "OutputS3BucketName": "",
            "OutputS3KeyPrefix": "",
            "MaxConcurrency": "50",
            "MaxErrors": "0",
            "TargetCount": self.invocations.len(),
            "CompletedCount": ended.len(),
            "ErrorCount": ended.iter().filter(|s| **s == "Failed").count(),
            "DeliveryTimedOutCount": 0,
            "ServiceRole": "",
            "CloudWatchOutputConfig": self.config.clone(),
            "TimeoutSeconds": 3600
        })
    }

    fn answer(&mut self, target: &str, body: &Value) -> Step {
        if target == GET_COMMAND_INVOCATION
            && let Some(inv) = self
                .invocations
                .iter_mut()
                .find(|i| body["InstanceId"] == json!(i.instance))
        {
            inv.end_served |= inv.end.is_some();
        }
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
                let items: Vec<Value> = self
                    .invocations
                    .iter()
                    .filter(|_| body.get("CommandId").is_none_or(|c| *c == json!(CMD_ID)))
                    .filter(|i| {
                        body.get("InstanceId")
                            .is_none_or(|want| *want == json!(i.instance))
                    })
                    .map(|i| {
                        let mut r = self.listed_record(i);
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

/// The fake SSM and the script it answers from; the condition variable is notified after
/// every answer.
struct Ssm {
    fake: FakeSsm,
    script: Arc<(Mutex<Script>, Condvar)>,
}

impl Ssm {
    /// Every instance of `instances` running the command, whose CloudWatch output is `config`.
    fn new(config: Value, instances: &[&str]) -> Ssm {
        let script = Script {
            config,
            invocations: instances
                .iter()
                .map(|i| Inv {
                    instance: (*i).to_owned(),
                    end: None,
                    end_served: false,
                })
                .collect(),
        };
        let script = Arc::new((Mutex::new(script), Condvar::new()));
        let answering = Arc::clone(&script);
        let fake = FakeSsm::with_handler(move |target: &str, body: &Value| {
            let (script, answered) = &*answering;
            let step = script.lock().unwrap().answer(target, body);
            answered.notify_all();
            step
        });
        Ssm { fake, script }
    }

    /// Ends the invocation on `instance` in this state, with this output in its record.
    fn end(&self, instance: &str, (status, details): (&str, &str), stdout: &str, stderr: &str) {
        let mut script = self.script.0.lock().unwrap();
        let inv = script
            .invocations
            .iter_mut()
            .find(|i| i.instance == instance)
            .expect("an instance of the script");
        inv.end = Some(End {
            status: status.to_owned(),
            details: details.to_owned(),
            stdout: stdout.to_owned(),
            stderr: stderr.to_owned(),
        });
    }

    /// Blocks until GetCommandInvocation has answered with the end of the invocation on
    /// `instance`: from then on the wait is over (or, for a fleet, that instance is), and what
    /// the agent writes is read by the settle only.
    fn await_end_served(&self, instance: &str) {
        let (script, answered) = &*self.script;
        let guard = script.lock().unwrap();
        let (_guard, waited) = answered
            .wait_timeout_while(guard, LINE_WITHIN, |s| {
                !s.inv(instance).is_some_and(|i| i.end_served)
            })
            .unwrap();
        assert!(
            !waited.timed_out(),
            "ssmres did not fetch the end of {instance} within {LINE_WITHIN:?}"
        );
    }

    /// What GetCommandInvocation answers for `instance` now.
    fn record(&self, instance: &str) -> Value {
        let script = self.script.0.lock().unwrap();
        let inv = script.inv(instance).expect("an instance of the script");
        script.get_record(inv)
    }

    fn calls_to(&self, target: &str) -> usize {
        self.fake.count(target)
    }
}

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs: moto, written to by a boto3 process
// ---------------------------------------------------------------------------------------------

/// Reads requests (JSON, one a line) from stdin and answers each with one JSON line. Event
/// timestamps go up by one millisecond per event from ten minutes ago, so moto (which orders a
/// stream's events by timestamp) keeps them in the order they were put. A stream is created
/// only once the clock has passed the creation time of the one before, so creation times are
/// distinct and in the order of the requests.
const WRITER_PY: &str = r#"
import json, sys, time
import boto3

endpoint, region, key, secret = sys.argv[1:5]
logs = boto3.client('logs', endpoint_url=endpoint, region_name=region,
                    aws_access_key_id=key, aws_secret_access_key=secret)
clock = int(time.time() * 1000) - 600_000
last_created = 0

def now_ms():
    return int(time.time() * 1000)

while True:
    line = sys.stdin.readline()
    if not line:
        break
    req = json.loads(line)
    try:
        reply = {'ok': True}
        op = req['op']
        if op == 'group':
            logs.create_log_group(logGroupName=req['group'])
        elif op == 'stream':
            while now_ms() <= last_created:
                pass
            logs.create_log_stream(logGroupName=req['group'], logStreamName=req['stream'])
            found = logs.describe_log_streams(logGroupName=req['group'],
                                              logStreamNamePrefix=req['stream'])['logStreams']
            mine = [s for s in found if s['logStreamName'] == req['stream']][0]
            last_created = mine['creationTime']
            reply['created'] = last_created
        elif op == 'put':
            events = []
            for m in req['messages']:
                clock += 1
                events.append({'timestamp': clock, 'message': m})
            answer = logs.put_log_events(logGroupName=req['group'], logStreamName=req['stream'],
                                         logEvents=events)
            if answer.get('rejectedLogEventsInfo'):
                raise Exception('events rejected: %r' % answer['rejectedLogEventsInfo'])
        else:
            raise Exception('unknown op %r' % op)
    except Exception as e:
        reply = {'error': repr(e)}
    sys.stdout.write(json.dumps(reply) + '\n')
    sys.stdout.flush()
"#;

/// The boto3 process that writes to moto's CloudWatch Logs.
struct Writer {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Writer {
    fn start(moto: &Moto) -> Writer {
        let mut cmd = Command::new(moto.venv().join("bin").join("python"));
        cmd.arg("-c")
            .arg(WRITER_PY)
            .arg(moto.endpoint())
            .arg(moto::REGION)
            .arg(moto::ACCESS_KEY_ID)
            .arg(moto::SECRET_ACCESS_KEY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        moto.apply_env(&mut cmd);
        let mut child = cmd.spawn().expect("start the venv's python");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut err = child.stderr.take().expect("piped stderr");
        let (tx, replies) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                keep.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Writer {
            child,
            stdin,
            replies,
            stderr,
        }
    }

    fn call(&mut self, request: Value) -> Value {
        writeln!(self.stdin, "{request}").expect("write to the writer");
        self.stdin.flush().expect("flush the writer");
        let reply = match self.replies.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(e) => panic!(
                "the boto3 writer did not answer {request} ({e})\n{}",
                String::from_utf8_lossy(&self.stderr.lock().unwrap())
            ),
        };
        let reply: Value = serde_json::from_str(&reply).expect("the writer answers JSON");
        assert_eq!(reply["ok"], json!(true), "{request} failed: {reply}");
        reply
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto's CloudWatch Logs, and the writer.
struct World {
    moto: Moto,
    writer: Writer,
}

impl World {
    fn start() -> World {
        let moto = Moto::start();
        let writer = Writer::start(&moto);
        World { moto, writer }
    }

    fn group(&mut self, group: &str) {
        self.writer.call(json!({ "op": "group", "group": group }));
    }

    /// Creates the stream; returns its creation time (ms).
    fn stream(&mut self, group: &str, stream: &str) -> i64 {
        let reply = self
            .writer
            .call(json!({ "op": "stream", "group": group, "stream": stream }));
        reply["created"].as_i64().expect("a creation time")
    }

    /// Puts these messages as events, in order, in one call.
    fn put(&mut self, group: &str, stream: &str, messages: &[&str]) {
        self.writer.call(json!({
            "op": "put",
            "group": group,
            "stream": stream,
            "messages": messages,
        }));
    }

    /// Starts ssmres against `ssm` ([`follow`]), CloudWatch Logs at moto.
    fn follow(&self, ssm: &Ssm, instances: &[&str], extra: &[&str]) -> Spawned {
        follow(ssm, &self.moto.endpoint(), instances, extra)
    }
}

// ---------------------------------------------------------------------------------------------
// Running ssmres
// ---------------------------------------------------------------------------------------------

/// Starts `ssmres wait --command-id CMD_ID <--instance-id each> <fast polling> --follow EXTRA`
/// against `ssm`, CloudWatch Logs at `logs`.
fn follow(ssm: &Ssm, logs: &str, instances: &[&str], extra: &[&str]) -> Spawned {
    let mut cmd = Cli::new(&ssm.fake.url()).cmd();
    cmd.env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", logs)
        .args(["wait", "--command-id", CMD_ID]);
    for i in instances {
        cmd.args(["--instance-id", i]);
    }
    Spawned::start(cmd.args(FAST_POLL).arg("--follow").args(extra))
}

// ---------------------------------------------------------------------------------------------
// One instance, text: the followed lines are the result
// ---------------------------------------------------------------------------------------------

#[test]
fn text_prints_lines_while_running_stdout_and_stderr_apart_and_the_tail_after_the_end() {
    let mut world = World::start();
    // An empty group name in CloudWatchOutputConfig: the document's default group.
    world.group(DEFAULT_GROUP);
    let out_stream = log_stream(INSTANCE_ID, SHELL_STEP, "stdout");
    let err_stream = log_stream(INSTANCE_ID, SHELL_STEP, "stderr");
    world.stream(DEFAULT_GROUP, &out_stream);
    world.stream(DEFAULT_GROUP, &err_stream);
    let ssm = Ssm::new(cloudwatch("", true), &[INSTANCE_ID]);
    let mut run = world.follow(&ssm, &[INSTANCE_ID], &["-o", "text"]);

    // Events as the agent writes them: most without their newline, one with it, one holding
    // several lines, non-ASCII text.
    let first: &[&str] = &["fetching artefacts"];
    world.put(DEFAULT_GROUP, &out_stream, first);
    run.wait_for(Pipe::Out, "fetching artefacts\n");
    run.assert_running();

    let err_first: &[&str] = &["warning: disk 91% full"];
    let second: &[&str] = &["unpacking ✓\n", "step 2/3 café 🚀\nstep 3/3 漢字"];
    world.put(DEFAULT_GROUP, &err_stream, err_first);
    world.put(DEFAULT_GROUP, &out_stream, second);
    run.wait_for(Pipe::Out, "step 3/3 漢字\n");
    run.wait_for(Pipe::Err, "warning: disk 91% full\n");
    run.assert_running();

    // The invocation ends; the agent's last events reach CloudWatch Logs just after.
    let tail: &[&str] = &["restarting service", "done in 42 s"];
    let err_tail: &[&str] = &["notice: 1 deprecation"];
    let out_lines = lines_of(&[first, second, tail].concat());
    let err_lines = lines_of(&[err_first, err_tail].concat());
    ssm.end(
        INSTANCE_ID,
        SUCCESS,
        &joined(&out_lines, None),
        &joined(&err_lines, None),
    );
    // The wait has seen the end: only the settle can read what comes now.
    ssm.await_end_served(INSTANCE_ID);
    world.put(DEFAULT_GROUP, &out_stream, tail);
    world.put(DEFAULT_GROUP, &err_stream, err_tail);

    let done = run.finish();
    let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
    assert_exit(&done.out, 0);
    // Every line once, in order, each stream on its own pipe; the result not printed again.
    assert_eq!(
        stdout,
        joined(&out_lines, None),
        "stdout\n{}",
        describe(&done.out)
    );
    assert_eq!(
        stderr,
        joined(&err_lines, None),
        "stderr\n{}",
        describe(&done.out)
    );
    assert_eq!(
        ssm.calls_to(LIST_COMMANDS),
        1,
        "ListCommands is asked once, for where the output goes"
    );
}

#[test]
fn streams_of_later_steps_are_picked_up_and_read_in_creation_order() {
    let mut world = World::start();
    let group = "/ops/deploy";
    world.group(group);
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
    assert!(
        fetch_created < build_created,
        "moto gave the streams creation times {fetch_created} and {build_created}"
    );
    let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID]);
    let mut run = world.follow(&ssm, &[INSTANCE_ID], &["-o", "text"]);
    run.wait_for(Pipe::Out, "build 2\n");

    // A third step starts while the command runs: its streams appear only now (named to sort
    // before both others).
    let test_out = log_stream(INSTANCE_ID, "aa-test", "stdout");
    let test_err = log_stream(INSTANCE_ID, "aa-test", "stderr");
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

    let out_lines = lines_of(&[fetch_lines, build_lines, test_first, test_last].concat());
    let err_lines = lines_of(test_err_lines);
    ssm.end(
        INSTANCE_ID,
        SUCCESS,
        &joined(&out_lines, None),
        &joined(&err_lines, None),
    );
    let done = run.finish();
    let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
    assert_exit(&done.out, 0);
    assert_eq!(
        stdout,
        joined(&out_lines, None),
        "stdout: each step once, steps in the order they started\n{}",
        describe(&done.out)
    );
    assert_eq!(stderr, joined(&err_lines, None), "{}", describe(&done.out));
}

// ---------------------------------------------------------------------------------------------
// Several instances: each line prefixed by its instance
// ---------------------------------------------------------------------------------------------

#[test]
fn two_named_instances_are_followed_each_line_prefixed_by_its_instance() {
    let mut world = World::start();
    let group = "/ops/fleet";
    world.group(group);
    let a_out = log_stream(INSTANCE_ID, SHELL_STEP, "stdout");
    let b_out = log_stream(OTHER_INSTANCE, SHELL_STEP, "stdout");
    let b_err = log_stream(OTHER_INSTANCE, SHELL_STEP, "stderr");
    for s in [&a_out, &b_out, &b_err] {
        world.stream(group, s);
    }
    // An instance of the command that was not asked for: its lines are not shown.
    let unasked = "i-0aaaaaaaaaaaaaaaa";
    let unasked_out = log_stream(unasked, SHELL_STEP, "stdout");
    world.stream(group, &unasked_out);
    world.put(group, &unasked_out, &["not asked for"]);

    let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID, OTHER_INSTANCE]);
    let mut run = world.follow(&ssm, &[INSTANCE_ID, OTHER_INSTANCE], &["-o", "text"]);
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
    ssm.end(INSTANCE_ID, SUCCESS, &joined(&a_lines, None), "");
    ssm.await_end_served(INSTANCE_ID);
    world.put(group, &a_out, a3);
    run.wait_for(Pipe::Out, &format!("[{INSTANCE_ID}] a: done\n"));
    run.assert_running();

    let b2: &[&str] = &["b: done"];
    let b_err2: &[&str] = &["b: 0 errors"];
    let b_lines = lines_of(&[b1, b2].concat());
    let b_err_lines = lines_of(&[b_err1, b_err2].concat());
    ssm.end(
        OTHER_INSTANCE,
        SUCCESS,
        &joined(&b_lines, None),
        &joined(&b_err_lines, None),
    );
    ssm.await_end_served(OTHER_INSTANCE);
    world.put(group, &b_out, b2);
    world.put(group, &b_err, b_err2);

    let done = run.finish();
    let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
    assert_exit(&done.out, 0);
    let prefixed = |l: &str| {
        l.starts_with(&format!("[{INSTANCE_ID}] "))
            || l.starts_with(&format!("[{OTHER_INSTANCE}] "))
    };
    assert!(
        stdout.split_inclusive('\n').all(prefixed),
        "every stdout line is an instance's, prefixed (nothing printed again at the end)\n{}",
        describe(&done.out)
    );
    assert_eq!(
        lines_of_instance(&stdout, INSTANCE_ID),
        a_lines,
        "{}",
        describe(&done.out)
    );
    assert_eq!(
        lines_of_instance(&stdout, OTHER_INSTANCE),
        b_lines,
        "{}",
        describe(&done.out)
    );
    assert_eq!(
        stderr,
        joined(&b_err_lines, Some(OTHER_INSTANCE)),
        "{}",
        describe(&done.out)
    );
}

#[test]
fn whole_command_in_json_prefixes_followed_lines_on_stderr_and_fails_with_its_failed_instance() {
    let mut world = World::start();
    let group = "/ops/whole";
    world.group(group);
    let a_out = log_stream(INSTANCE_ID, SHELL_STEP, "stdout");
    let b_out = log_stream(OTHER_INSTANCE, SHELL_STEP, "stdout");
    let b_err = log_stream(OTHER_INSTANCE, SHELL_STEP, "stderr");
    for s in [&a_out, &b_out, &b_err] {
        world.stream(group, s);
    }
    let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID, OTHER_INSTANCE]);
    let mut run = world.follow(&ssm, &[], &["-o", "json"]);
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
    ssm.end(INSTANCE_ID, SUCCESS, &joined(&a_lines, None), "");
    ssm.end(
        OTHER_INSTANCE,
        FAILED,
        &joined(&b_lines, None),
        &joined(&b_err_lines, None),
    );
    // The wait has seen both ends: only the settle can read what comes now.
    ssm.await_end_served(INSTANCE_ID);
    ssm.await_end_served(OTHER_INSTANCE);
    world.put(group, &a_out, a2);
    world.put(group, &b_err, b_err1);

    let done = run.finish();
    let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
    assert_exit(&done.out, 1);
    let got: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", describe(&done.out)));
    assert_eq!(
        got,
        json!([ssm.record(INSTANCE_ID), ssm.record(OTHER_INSTANCE)]),
        "stdout is the final records, as without --follow\n{}",
        describe(&done.out)
    );
    // b's stdout line was shown before its stderr line was written.
    assert_eq!(
        lines_of_instance(&stderr, INSTANCE_ID),
        a_lines,
        "{}",
        describe(&done.out)
    );
    assert_eq!(
        lines_of_instance(&stderr, OTHER_INSTANCE),
        [b_lines.as_slice(), b_err_lines.as_slice()].concat(),
        "{}",
        describe(&done.out)
    );
    assert_eq!(
        stderr.lines().count(),
        a_lines.len() + b_lines.len() + b_err_lines.len(),
        "stderr holds the followed lines and nothing else\n{}",
        describe(&done.out)
    );
}

// ---------------------------------------------------------------------------------------------
// json on stdout, a failed invocation
// ---------------------------------------------------------------------------------------------

#[test]
fn json_keeps_stdout_the_final_record_while_followed_lines_go_to_stderr() {
    let mut world = World::start();
    let group = "/ops/json";
    world.group(group);
    let out_stream = log_stream(INSTANCE_ID, SHELL_STEP, "stdout");
    let err_stream = log_stream(INSTANCE_ID, SHELL_STEP, "stderr");
    world.stream(group, &out_stream);
    world.stream(group, &err_stream);
    let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID]);
    let mut run = world.follow(&ssm, &[INSTANCE_ID], &["-o", "json"]);

    let out1: &[&str] = &["out 1", "out 2"];
    world.put(group, &out_stream, out1);
    run.wait_for(Pipe::Err, "out 2\n");
    let err1: &[&str] = &["err 1"];
    world.put(group, &err_stream, err1);
    run.wait_for(Pipe::Err, "err 1\n");
    run.assert_running();
    assert!(
        run.stdout.is_empty(),
        "stdout is for the result\n{}",
        run.describe()
    );

    let out2: &[&str] = &["out 3"];
    let out_lines = lines_of(&[out1, out2].concat());
    let err_lines = lines_of(err1);
    ssm.end(
        INSTANCE_ID,
        SUCCESS,
        &joined(&out_lines, None),
        &joined(&err_lines, None),
    );
    // The wait has seen the end: only the settle can read what comes now.
    ssm.await_end_served(INSTANCE_ID);
    world.put(group, &out_stream, out2);

    let done = run.finish();
    let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
    assert_exit(&done.out, 0);
    let got: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", describe(&done.out)));
    assert_eq!(got, ssm.record(INSTANCE_ID), "{}", describe(&done.out));
    assert_eq!(
        lines_starting(&stderr, "out "),
        out_lines,
        "{}",
        describe(&done.out)
    );
    assert_eq!(
        lines_starting(&stderr, "err "),
        err_lines,
        "{}",
        describe(&done.out)
    );
    assert_eq!(
        stderr.lines().count(),
        out_lines.len() + err_lines.len(),
        "stderr holds the followed lines and nothing else\n{}",
        describe(&done.out)
    );
}

#[test]
fn a_failed_invocation_exits_1_with_its_lines_followed() {
    let mut world = World::start();
    let group = "/ops/failing";
    world.group(group);
    let out_stream = log_stream(INSTANCE_ID, SHELL_STEP, "stdout");
    let err_stream = log_stream(INSTANCE_ID, SHELL_STEP, "stderr");
    world.stream(group, &out_stream);
    world.stream(group, &err_stream);
    let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID]);
    let mut run = world.follow(&ssm, &[INSTANCE_ID], &["-o", "text"]);

    let out1: &[&str] = &["applying migration 7"];
    world.put(group, &out_stream, out1);
    run.wait_for(Pipe::Out, "applying migration 7\n");
    run.assert_running();

    let err1: &[&str] = &["error: column exists"];
    let err2: &[&str] = &["rollback complete"];
    let out_lines = lines_of(out1);
    let err_lines = lines_of(&[err1, err2].concat());
    world.put(group, &err_stream, err1);
    run.wait_for(Pipe::Err, "error: column exists\n");
    ssm.end(
        INSTANCE_ID,
        FAILED,
        &joined(&out_lines, None),
        &joined(&err_lines, None),
    );
    // The wait has seen the end: only the settle can read what comes now.
    ssm.await_end_served(INSTANCE_ID);
    world.put(group, &err_stream, err2);

    let done = run.finish();
    let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
    assert_exit(&done.out, 1);
    assert_eq!(stdout, joined(&out_lines, None), "{}", describe(&done.out));
    assert_eq!(stderr, joined(&err_lines, None), "{}", describe(&done.out));
}

// ---------------------------------------------------------------------------------------------
// Nothing to follow: one warning, then an ordinary wait
// ---------------------------------------------------------------------------------------------

const NO_CLOUDWATCH_WARNING: &str =
    "warning: --follow: the command was sent without CloudWatch output";

/// A stand-in for CloudWatch Logs that records what reaches it and answers every call with
/// `step`.
fn fake_logs(step: Step) -> FakeSsm {
    FakeSsm::with_handler(move |_: &str, _: &Value| step.clone())
}

#[test]
fn without_cloudwatch_output_one_warning_then_an_ordinary_wait() {
    // Not enabled: with the default group, and with a group named but not enabled.
    for (mode, group, end, code) in [
        ("text", "", FAILED, 1),
        ("json", "/ops/named-but-off", SUCCESS, 0),
    ] {
        let logs = fake_logs(Step::Error(
            400,
            "ResourceNotFoundException".into(),
            "The specified log group does not exist.".into(),
        ));
        let ssm = Ssm::new(cloudwatch(group, false), &[INSTANCE_ID]);
        let mut run = follow(&ssm, &logs.url(), &[INSTANCE_ID], &["-o", mode]);
        let warning = run.wait_until(Pipe::Err, NO_CLOUDWATCH_WARNING, |l| {
            l.starts_with(NO_CLOUDWATCH_WARNING)
        });
        // The wait goes on after the warning.
        run.assert_running();
        ssm.end(INSTANCE_ID, end, "partial output\n", "boom\n");

        let done = run.finish();
        let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
        assert_exit(&done.out, code);
        assert_eq!(
            warnings(&done.out),
            [warning.trim_end()],
            "{mode}: one warning\n{}",
            describe(&done.out)
        );
        if mode == "text" {
            assert_eq!(stdout, "partial output\n", "{}", describe(&done.out));
            assert_eq!(
                stderr,
                format!("{warning}boom\n"),
                "{}",
                describe(&done.out)
            );
        } else {
            let got: Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", describe(&done.out)));
            assert_eq!(got, ssm.record(INSTANCE_ID), "{}", describe(&done.out));
            assert_eq!(stderr, warning, "{}", describe(&done.out));
        }
        assert!(
            logs.calls().is_empty(),
            "{mode}: CloudWatch Logs was not asked: {:#?}",
            logs.calls()
        );
        assert_eq!(ssm.calls_to(LIST_COMMANDS), 1, "{mode}");
    }
}

#[test]
fn reading_denied_one_warning_then_an_ordinary_wait() {
    let logs = fake_logs(Step::access_denied(
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
         logs:DescribeLogStreams",
    ));
    let ssm = Ssm::new(cloudwatch("/ops/secret", true), &[INSTANCE_ID]);
    let mut run = follow(&ssm, &logs.url(), &[INSTANCE_ID], &["-o", "text"]);
    let denied = "warning: --follow: reading the output was denied";
    let warning = run.wait_until(Pipe::Err, denied, |l| l.starts_with(denied));
    run.assert_running();
    ssm.end(INSTANCE_ID, SUCCESS, "all good\n", "");

    let done = run.finish();
    let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
    assert_exit(&done.out, 0);
    assert!(
        warning.contains("AccessDeniedException"),
        "the warning says why: {warning}"
    );
    assert_eq!(stdout, "all good\n", "{}", describe(&done.out));
    assert_eq!(stderr, warning, "one warning\n{}", describe(&done.out));
    let targets: Vec<String> = logs.calls().into_iter().map(|r| r.target).collect();
    assert!(
        !targets.is_empty()
            && targets
                .iter()
                .all(|t| t == "Logs_20140328.DescribeLogStreams"),
        "the streams were asked for, and nothing after the denial: {targets:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// --timeout: the budget for the whole command, following included
// ---------------------------------------------------------------------------------------------

#[test]
fn timeout_ends_the_following_too_while_the_command_still_prints() {
    let mut world = World::start();
    let group = "/ops/endless";
    world.group(group);
    let out_stream = log_stream(INSTANCE_ID, SHELL_STEP, "stdout");
    world.stream(group, &out_stream);
    // The invocation never ends, and prints a line each time the last one was shown.
    let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID]);
    let timeout = Duration::from_secs(3);
    let mut run = world.follow(&ssm, &[INSTANCE_ID], &["-o", "text", "--timeout", "3s"]);
    let mut ticks = Vec::new();
    for n in 0..30 {
        let tick = format!("tick {n}");
        world.put(group, &out_stream, &[&tick]);
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
    assert!(
        done.took < timeout + Duration::from_secs(5),
        "--timeout 3s: ssmres kept following past its budget ({} lines printed)\n{}",
        stdout.lines().count(),
        describe(&done.out)
    );
    // What was shown, each line once and in order.
    let shown: Vec<&str> = stdout.split_inclusive('\n').collect();
    assert_eq!(shown, ticks[..shown.len()], "{}", describe(&done.out));
}

// ---------------------------------------------------------------------------------------------
// The settle when there is nothing to read
// ---------------------------------------------------------------------------------------------

#[test]
fn a_command_that_printed_nothing_settles_in_two_quiet_rounds_with_or_without_its_group() {
    // The agent creates the group and the streams only once there is output: a command that
    // printed nothing leaves no stream, and, sent to a group nobody wrote to yet, no group.
    // Either way there is nothing new round after round, and the wait ends two quiet rounds
    // after the invocation (README: "two rounds in a row bring nothing new, 10 s at most").
    let mut world = World::start();
    world.group("/ops/quiet");
    for group in ["/ops/quiet", "/ops/never-written"] {
        let ssm = Ssm::new(cloudwatch(group, true), &[INSTANCE_ID]);
        // Already ended when ssmres first looks.
        ssm.end(INSTANCE_ID, SUCCESS, "", "");
        let done = world.follow(&ssm, &[INSTANCE_ID], &["-o", "text"]).finish();
        assert_exit(&done.out, 0);
        assert!(
            done.out.stdout.is_empty() && done.out.stderr.is_empty(),
            "{group}: {}",
            describe(&done.out)
        );
        // Two rounds a second apart after the first, well before the 10 s cap.
        assert!(
            done.took < Duration::from_secs(8),
            "{group}: the settle after the end took {:?}: nothing was there to read\n{}",
            done.took,
            describe(&done.out)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Denied half-way
// ---------------------------------------------------------------------------------------------

/// A stand-in for CloudWatch Logs holding one stream of `messages`, that answers
/// AccessDeniedException to everything once `denied` is set (a role's session expiring during
/// a long wait, say).
struct FakeLogs {
    fake: FakeSsm,
    denied: Arc<Mutex<bool>>,
}

impl FakeLogs {
    fn new(stream: &str, messages: &[&str]) -> FakeLogs {
        let denied = Arc::new(Mutex::new(false));
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
fn text_denied_after_some_lines_were_followed_prints_none_of_them_twice() {
    // Some lines were followed, then reading is denied (a role's session expiring during a long
    // run): the warning, then an ordinary wait. In text mode the followed lines were already
    // the start of the result; the end of the wait must not print them a second time (issue
    // 10: "No line printed twice or skipped"; README: "Each line is printed once, in order").
    let logs = FakeLogs::new(
        &log_stream(INSTANCE_ID, SHELL_STEP, "stdout"),
        &["installing 1/2", "installing 2/2"],
    );
    let ssm = Ssm::new(cloudwatch("/ops/patching", true), &[INSTANCE_ID]);
    let mut run = follow(&ssm, &logs.fake.url(), &[INSTANCE_ID], &["-o", "text"]);
    run.wait_for(Pipe::Out, "installing 2/2\n");
    logs.deny();
    let denied = "warning: --follow: reading the output was denied";
    let warning = run.wait_until(Pipe::Err, denied, |l| l.starts_with(denied));
    run.assert_running();
    ssm.end(
        INSTANCE_ID,
        SUCCESS,
        "installing 1/2\ninstalling 2/2\nrebooting\n",
        "",
    );

    let done = run.finish();
    let (stdout, stderr) = (stdout_str(&done.out), stderr_str(&done.out));
    assert_exit(&done.out, 0);
    assert_eq!(stderr, warning, "one warning\n{}", describe(&done.out));
    assert_eq!(
        stdout,
        "installing 1/2\ninstalling 2/2\nrebooting\n",
        "stdout: every line of the command once\n{}",
        describe(&done.out)
    );
}
