//! `--full-output`: the complete stdout and stderr read from S3 or CloudWatch Logs, past the
//! 24,000 / 8,000 characters GetCommandInvocation returns.
//!
//! moto's own SSM cannot produce output URLs, so SSM is the scripted fake
//! (`tests/support/fake_ssm.rs`) answering with records that name S3 objects or CloudWatch
//! output, while a moto server (`tests/support/moto.rs`) is the real S3 and CloudWatch Logs,
//! seeded with the venv's aws CLI. ssmres gets moto's endpoint the standard way
//! (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`); `--endpoint-url` names the fake
//! SSM only.
//!
//! Where a test must show that nothing was read, the S3 and CloudWatch Logs endpoints are a
//! [`Tripwire`]: a bound socket nobody answers on, whose accept queue tells afterwards whether
//! anything ever connected.

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::fake_ssm::{
    CMD_ID, Call, FAILED, FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, LIST_COMMAND_INVOCATIONS,
    LIST_COMMANDS, LIST_OUTPUT_CAP, SHELL_PLUGIN, SUCCESS, Step, cloudwatch, fleet_instance_id,
    invocation, listed_invocation,
};
use crate::support::moto::{self, Moto};
use crate::support::timeline::{Member, Timeline};
use crate::support::{
    Args, Cli, FAST_POLL, RUN_TIMEOUT, args, assert_exit, assert_single_stderr_line, check,
    check_eq, describe, http, run, since_epoch, stdout_json, warnings,
};

// --- Text: what commands print -------------------------------------------------------------------

/// What the agent ends a stream it cut with.
const MARKER: &str = "--output truncated--";

/// ASCII, 2-, 3- and 4-byte characters: most bytes of the text belong to multibyte characters.
const PIECES: &str =
    "deploy step ok é café naïve ✓ ✗ 🚀 🦀 漢字 日本語の出力 Ωμέγα \t … € ß файл 😀👍 x résumé";

/// A small deterministic generator (64-bit LCG): the same text on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }

    /// One of [`PIECES`] (split on spaces), at random.
    fn piece(&mut self) -> &'static str {
        let pieces: Vec<&str> = PIECES.split(' ').collect();
        pieces[self.below(pieces.len())]
    }
}

/// About `bytes` bytes of command output: words from [`PIECES`], LF and CRLF line ends, lone
/// CRs (a progress line overwritten), ESC sequences (colours, erase line), long runs of CJK,
/// and no newline at the very end. Over megabytes, the HTTP body is read in chunks whose
/// boundaries fall inside multibyte characters: nearly three bytes in four are parts of one.
fn mixed_text(seed: u64, bytes: usize) -> String {
    let mut rng = Lcg(seed);
    let mut s = String::with_capacity(bytes + 1024);
    s.push_str("start \u{1b}[1;32m✓ green\u{1b}[0m\r\nprogress 10%\rprogress 100%\n");
    let mut line = 0usize;
    while s.len() < bytes {
        for _ in 0..3 + rng.below(25) {
            s.push_str(rng.piece());
            if rng.below(3) == 0 {
                s.push(' ');
            }
        }
        line += 1;
        match line % 13 {
            0 => s.push_str("\r\n"),
            5 => s.push_str(" 50%\r100%\n"),
            7 => s.push_str("\u{1b}[2K\u{1b}[31mred\u{1b}[0m\n"),
            11 => {
                s.push_str(&"漢".repeat(1 + rng.below(700)));
                s.push('\n');
            }
            _ => s.push('\n'),
        }
    }
    s.push_str("the end, no newline 🚀");
    s
}

/// What GetCommandInvocation returns of a stream the agent cut: its first characters and the
/// marker, `limit` characters in all.
fn agent_cut(text: &str, limit: usize) -> String {
    let why = "the text must be longer than the API's limit";
    assert!(text.chars().count() > limit, "{why}");
    let mut cut: String = text.chars().take(limit - MARKER.len()).collect();
    cut.push_str(MARKER);
    cut
}

fn stdout_cut(text: &str) -> String {
    agent_cut(text, 24_000)
}

fn stderr_cut(text: &str) -> String {
    agent_cut(text, 8_000)
}

/// CloudWatch Logs messages of a command: about `bytes` bytes in events of 1 to ~600 bytes,
/// most ending without a newline (the agent strips it), some with one, some holding several
/// lines, some ending in CRLF or a lone CR.
fn log_messages(seed: u64, bytes: usize) -> Vec<String> {
    let mut rng = Lcg(seed);
    let mut messages = Vec::new();
    let mut total = 0;
    let mut n = 0usize;
    while total < bytes {
        let mut m = format!("{n:06} ");
        for _ in 0..rng.below(40) {
            m.push_str(rng.piece());
            if rng.below(3) == 0 {
                m.push(' ');
            }
        }
        match n % 9 {
            0 => m.push('\n'),
            3 => m.push_str("\nsecond line ✓\nthird line"),
            5 => m.push_str("\r\n"),
            6 => m.push_str(" \u{1b}[33mwarn\u{1b}[0m\r"),
            _ => {}
        }
        total += m.len();
        messages.push(m);
        n += 1;
    }
    messages
}

/// The text the events stand for: each message, then a newline unless it ends with one.
fn joined(messages: &[String]) -> String {
    let mut text = String::new();
    for m in messages {
        text.push_str(m);
        if !m.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

// --- Records the fake SSM answers with -----------------------------------------------------------

/// Percent-encodes a key for a URL path the way S3 writes it: unreserved characters and `/`
/// as they are, every other byte `%XX`.
fn url_path(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path-style URL SSM gives for an object.
fn s3_url(bucket: &str, key: &str) -> String {
    format!(
        "https://s3.us-east-1.amazonaws.com/{bucket}/{}",
        url_path(key)
    )
}

/// The key the agent writes a stream to under `prefix`.
fn agent_key(prefix: &str, instance_id: &str, stream: &str) -> String {
    format!("{prefix}/{CMD_ID}/{instance_id}/awsrunShellScript/0.awsrunShellScript/{stream}")
}

/// A GetCommandInvocation record ([`invocation`]) with these output URLs.
fn with_urls(mut record: Value, stdout_url: &str, stderr_url: &str) -> Value {
    record["StandardOutputUrl"] = json!(stdout_url);
    record["StandardErrorUrl"] = json!(stderr_url);
    record
}

/// A record whose command sent its output to CloudWatch Logs (`group` empty: the default one).
fn with_cloudwatch(mut record: Value, group: &str) -> Value {
    record["CloudWatchOutputConfig"] = cloudwatch(group, true);
    record
}

/// A GetCommandInvocation record ([`invocation`]) in this state, with this stdout and no stderr.
fn ended((status, details): (&str, &str), stdout: &str) -> Value {
    invocation(status, details, stdout, "")
}

/// The record with these contents in place of the service's.
fn with_contents(record: &Value, stdout: &str, stderr: &str) -> Value {
    let mut expected = record.clone();
    expected["StandardOutputContent"] = json!(stdout);
    expected["StandardErrorContent"] = json!(stderr);
    expected
}

/// A fake SSM whose invocation is InProgress at the first poll, then `record` for good; its
/// ListCommandInvocations lists the invocation as it ends ([`listed_for`]).
fn fake_running_then(record: &Value) -> FakeSsm {
    let mut running = with_contents(record, "", "");
    for (key, value) in [
        ("Status", json!("InProgress")),
        ("StatusDetails", json!("InProgress")),
        ("ResponseCode", json!(-1)),
    ] {
        running[key] = value;
    }
    running["ExecutionEndDateTime"] = json!("");
    running["ExecutionElapsedTime"] = json!("");
    FakeSsm::with_steps_and_fleet(
        vec![Step::ok(&running), Step::ok(record)],
        vec![listed_for(record)],
    )
}

/// A fake SSM for a one-step invocation: `record` answers every GetCommandInvocation, and
/// ListCommandInvocations lists the invocation as SSM does ([`listed_for`]; filters, pages,
/// `CommandPlugins` only with `Details`).
fn ssm_for(record: &Value) -> FakeSsm {
    FakeSsm::with_steps_and_fleet(vec![Step::ok(record)], vec![listed_for(record)])
}

fn str_at<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// What ListCommandInvocations' `Output` shows of a step: the first [`LIST_OUTPUT_CAP`]
/// characters of its stdout and stderr together.
fn list_output(stdout: &str, stderr: &str) -> String {
    stdout
        .chars()
        .chain(stderr.chars())
        .take(LIST_OUTPUT_CAP)
        .collect()
}

/// The ListCommandInvocations record (as `Details: true` gives it) of the invocation whose
/// GetCommandInvocation answer is `record`: [`listed_invocation`] with the record's state,
/// document and CloudWatch configuration, and one plugin, the record's step, with the record's
/// output URLs (SSM repeats a lone step's URLs on the invocation).
fn listed_for(record: &Value) -> Value {
    let [instance, status, details, out, err] = [
        "InstanceId",
        "Status",
        "StatusDetails",
        "StandardOutputContent",
        "StandardErrorContent",
    ]
    .map(|k| str_at(record, k));
    let mut listed = listed_invocation(instance, status, details, &list_output(out, err));
    let copied = "CommandId DocumentName DocumentVersion Comment StandardOutputUrl StandardErrorUrl \
                  CloudWatchOutputConfig";
    for key in copied.split_whitespace() {
        listed[key] = record[key].clone();
    }
    let plugin = &mut listed["CommandPlugins"][0];
    plugin["Name"] = json!(record["PluginName"].as_str().unwrap_or(SHELL_PLUGIN));
    for key in ["ResponseCode", "StandardOutputUrl", "StandardErrorUrl"] {
        plugin[key] = record[key].clone();
    }
    listed
}

/// ListCommandInvocations' answer out of `records` for a request with this body, as SSM gives
/// it for a handful of invocations (one page): the `CommandId` and `InstanceId` filters
/// applied, `CommandPlugins` only with `Details: true`.
fn answer_listing(body: &Value, records: &[Value]) -> Step {
    let wanted = |record: &&Value| {
        ["CommandId", "InstanceId"]
            .iter()
            .all(|k| body.get(k).is_none_or(|v| record[k] == *v))
    };
    let items: Vec<Value> = (records.iter().filter(wanted).cloned())
        .map(|mut r| {
            if body["Details"] != json!(true) {
                r.as_object_mut().unwrap().remove("CommandPlugins");
            }
            r
        })
        .collect();
    Step::ok(&json!({ "CommandInvocations": items }))
}

// --- Documents with several steps ----------------------------------------------------------------

/// A document's step, what it printed, and the S3 bucket and key prefix its output was sent to.
#[derive(Clone)]
struct DocStep {
    name: &'static str,
    stdout: String,
    stderr: String,
    s3: (&'static str, &'static str),
}

impl DocStep {
    /// The key the agent writes `stream` of this step to.
    fn key(&self, stream: &str) -> String {
        let (name, prefix) = (self.name, self.s3.1);
        format!("{prefix}/{CMD_ID}/{INSTANCE_ID}/awsrunShellScript/{name}/{stream}")
    }

    /// Its StandardOutputUrl and StandardErrorUrl.
    fn urls(&self) -> (String, String) {
        (
            s3_url(self.s3.0, &self.key("stdout")),
            s3_url(self.s3.0, &self.key("stderr")),
        )
    }

    /// Uploads its objects as the agent does: none for an empty stream.
    fn upload(&self, world: &World) {
        for (stream, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if !text.is_empty() {
                world.put_object(self.s3.0, &self.key(stream), text.as_bytes());
            }
        }
    }
}

/// A GetCommandInvocation record in this state for a command that printed `stdout` and
/// `stderr`: what the service returns of each ([`service_view`]).
fn service((status, details): (&str, &str), stdout: &str, stderr: &str) -> Value {
    invocation(
        status,
        details,
        &service_view(stdout, 24_000),
        &service_view(stderr, 8_000),
    )
}

/// What GetCommandInvocation returns of a stream: all of it, or the agent's cut.
fn service_view(text: &str, limit: usize) -> String {
    if text.chars().count() > limit {
        agent_cut(text, limit)
    } else {
        text.to_owned()
    }
}

/// A multi-step invocation: `base` ([`invocation`], with the document's name and CloudWatch
/// configuration) ended, and its steps.
fn multi_step_base(status: (&str, &str)) -> Value {
    let mut base = invocation(status.0, status.1, "", "");
    base["DocumentName"] = json!("Ops-DeployWeb");
    base["DocumentVersion"] = json!("3");
    base
}

/// GetCommandInvocation's answer for `step` of the invocation `base` stands for.
fn step_record(base: &Value, step: &DocStep) -> Value {
    let mut record = base.clone();
    let (out_url, err_url) = step.urls();
    record["PluginName"] = json!(step.name);
    record["StandardOutputContent"] = json!(service_view(&step.stdout, 24_000));
    record["StandardErrorContent"] = json!(service_view(&step.stderr, 8_000));
    record["StandardOutputUrl"] = json!(out_url);
    record["StandardErrorUrl"] = json!(err_url);
    record
}

/// The ListCommandInvocations record (`Details: true`) of that invocation: one plugin per step,
/// in document order, each with its own URLs, bucket and prefix; none on the invocation itself
/// (SSM sets those only for a lone step).
fn listed_steps(base: &Value, steps: &[DocStep]) -> Value {
    let mut listed = listed_for(&step_record(base, &steps[0]));
    listed["StandardOutputUrl"] = json!("");
    listed["StandardErrorUrl"] = json!("");
    let template = listed["CommandPlugins"][0].clone();
    let plugin = |step: &DocStep| {
        let mut plugin = template.clone();
        let (out_url, err_url) = step.urls();
        plugin["Name"] = json!(step.name);
        plugin["Output"] = json!(list_output(&step.stdout, &step.stderr));
        plugin["StandardOutputUrl"] = json!(out_url);
        plugin["StandardErrorUrl"] = json!(err_url);
        plugin["OutputS3BucketName"] = json!(step.s3.0);
        plugin["OutputS3KeyPrefix"] = json!(step.s3.1);
        plugin
    };
    listed["CommandPlugins"] = steps.iter().map(plugin).collect();
    listed
}

/// A fake SSM for an invocation of [`CMD_ID`] on [`INSTANCE_ID`] of a document with these
/// steps: GetCommandInvocation answers for the step its PluginName names, for the first step
/// without one, `InvalidPluginName` for a step the document does not have;
/// ListCommandInvocations lists the steps in document order ([`listed_steps`],
/// [`answer_listing`]).
fn steps_ssm(base: &Value, steps: &[DocStep]) -> FakeSsm {
    let records: Vec<(&str, Value)> = steps
        .iter()
        .map(|step| (step.name, step_record(base, step)))
        .collect();
    let listed = [listed_steps(base, steps)];
    FakeSsm::with_handler(move |target: &str, body: &Value| match target {
        GET_COMMAND_INVOCATION
            if body["CommandId"] == CMD_ID && body["InstanceId"] == INSTANCE_ID =>
        {
            let record = match body["PluginName"].as_str() {
                None => Some(&records[0].1),
                Some(name) => records.iter().find(|(n, _)| *n == name).map(|(_, r)| r),
            };
            match record {
                Some(record) => Step::ok(record),
                None => Step::Error(400, "InvalidPluginName".into(), String::new()),
            }
        }
        GET_COMMAND_INVOCATION => Step::not_found(),
        LIST_COMMAND_INVOCATIONS => answer_listing(body, &listed),
        other => Step::Error(400, "UnknownOperationException".into(), other.into()),
    })
}

// --- The SSM calls a run made --------------------------------------------------------------------

/// The requests `ssm` received after the first `before`: the calls of the run in between.
fn calls_since(ssm: &FakeSsm, before: usize) -> Vec<Call> {
    let mut requests = ssm.calls();
    requests.drain(..before.min(requests.len()));
    requests
}

fn targets(calls: &[Call]) -> Vec<&str> {
    calls.iter().map(|r| r.target.as_str()).collect()
}

/// Asserts the run made GetCommandInvocation calls only: no ListCommandInvocations.
#[track_caller]
fn assert_gets_only(calls: &[Call]) {
    let targets = targets(calls);
    assert!(
        !targets.is_empty() && targets.iter().all(|t| *t == GET_COMMAND_INVOCATION),
        "expected GetCommandInvocation calls only: {targets:?}"
    );
}

/// `get --command-id … --instance-id … EXTRA`.
fn get_args(extra: &str) -> String {
    format!("get --command-id {CMD_ID} --instance-id {INSTANCE_ID} {extra}")
}

/// `wait --command-id … --instance-id … <fast polling> EXTRA`.
fn wait_args(extra: &str) -> String {
    let fast = FAST_POLL.join(" ");
    format!("wait --command-id {CMD_ID} --instance-id {INSTANCE_ID} {fast} {extra}")
}

// --- Running ssmres ------------------------------------------------------------------------------

/// `ssmres --endpoint-url <fake SSM>` in an isolated environment ([`Cli`]), plus what the test
/// adds: S3 and CloudWatch Logs endpoints, other credentials.
struct Ssmres {
    cmd: Command,
    _cli: Cli,
}

impl Ssmres {
    fn new(ssm: &FakeSsm) -> Ssmres {
        let cli = Cli::new(&ssm.url());
        Ssmres {
            cmd: cli.cmd(),
            _cli: cli,
        }
    }

    /// S3 and CloudWatch Logs at these endpoints.
    fn at(self, s3: &str, logs: &str) -> Ssmres {
        self.env("AWS_ENDPOINT_URL_S3", s3)
            .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", logs)
    }

    fn env(mut self, key: &str, value: &str) -> Ssmres {
        self.cmd.env(key, value);
        self
    }

    /// Runs with these arguments, stdin closed, stdout and stderr piped.
    fn run(mut self, args: impl Args) -> Output {
        run(self.cmd.args(args.words()))
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Where two long texts first differ, for assertion messages.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let around = |b: &[u8]| text(&b[at.saturating_sub(40)..(at + 40).min(b.len())]);
    let (lengths, got, want) = ((got.len(), want.len()), around(got), around(want));
    format!(
        "lengths {lengths:?} (got, want); first difference at byte {at}:\n got: {got:?}\nwant: {want:?}"
    )
}

#[track_caller]
fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        panic!("{what} differs: {}", first_difference(got, want));
    }
}

/// Asserts the exit code and that the one JSON document on stdout is `expected` (order of
/// keys aside).
#[track_caller]
fn assert_json_is(out: &Output, code: i32, expected: &Value) {
    assert_exit(out, code);
    assert_json_value(&stdout_json(out), expected);
}

/// Asserts the exit code and each stream byte for byte.
#[track_caller]
fn assert_text_is(out: &Output, code: i32, stdout: &str, stderr: &str) {
    assert_exit(out, code);
    assert_same_bytes(&out.stdout, stdout.as_bytes(), "stdout");
    assert_same_bytes(&out.stderr, stderr.as_bytes(), "stderr");
}

#[track_caller]
fn assert_json_value(got: &Value, expected: &Value) {
    for key in ["StandardOutputContent", "StandardErrorContent"] {
        if let (Some(g), Some(w)) = (got[key].as_str(), expected[key].as_str())
            && g != w
        {
            let difference = first_difference(g.as_bytes(), w.as_bytes());
            panic!("{key} of {} differs: {difference}", got["InstanceId"]);
        }
    }
    if got != expected {
        let (Some(g), Some(w)) = (got.as_object(), expected.as_object()) else {
            panic!("expected {expected:#}\ngot {got:#}");
        };
        let keys: BTreeSet<&String> = g.keys().chain(w.keys()).collect();
        let diffs: Vec<String> = (keys.into_iter().filter(|k| g.get(*k) != w.get(*k)))
            .map(|k| format!("{k}: got {:?}, want {:?}", g.get(k), w.get(k)))
            .collect();
        panic!("the JSON record differs:\n{}", diffs.join("\n"));
    }
}

/// Asserts stderr is exactly one line, the fallback warning for `stream` of [`INSTANCE_ID`],
/// naming `what` and `code`; returns it.
#[track_caller]
fn assert_one_fallback_warning(out: &Output, stream: &str, what: &str, code: &str) -> String {
    let line = assert_single_stderr_line(out);
    assert_fallback_warning(&line, INSTANCE_ID, stream, what, code);
    line
}

#[track_caller]
fn assert_fallback_warning(line: &str, instance: &str, stream: &str, what: &str, code: &str) {
    let limit = if stream == "stdout" {
        "24,000"
    } else {
        "8,000"
    };
    let head = format!("warning: {instance}: complete {stream} not read ({what}: {code}");
    let tail = format!("); showing what the service returned (at most {limit} characters)");
    let why = format!("expected a warning line\n  {head}…{tail}\ngot\n  {line}");
    assert!(line.starts_with(&head) && line.ends_with(&tail), "{why}");
}

/// Runs `get --full-output` in json and in text against `ssm`, S3 and CloudWatch Logs at the
/// world's moto, and asserts both show the complete `stdout` and `stderr` and nothing else:
/// the record with those contents, and each text byte for byte on its own stream.
#[track_caller]
fn assert_complete(world: &World, ssm: &FakeSsm, record: &Value, stdout: &str, stderr: &str) {
    let out = world.get(ssm, "--full-output -o json");
    assert_json_is(&out, 0, &with_contents(record, stdout, stderr));
    check!(out, out.stderr.is_empty());
    assert_text_is(&world.get(ssm, "--full-output -o text"), 0, stdout, stderr);
}

// --- Seeding moto with the aws CLI ---------------------------------------------------------------

/// A moto server, seeded through its HTTP API ([`Moto::s3_put`], [`Moto::logs`]).
struct World {
    moto: Moto,
}

impl World {
    fn start() -> World {
        World {
            moto: Moto::start(),
        }
    }

    /// Runs the aws CLI against moto; panics unless it succeeds. Returns its stdout.
    fn aws(&self, args: &[&str]) -> String {
        let out = self.moto.aws(args);
        let (line, status) = (args.join(" "), out.status);
        let why = format!("aws {line} failed: {status}\n{}", text(&out.stderr));
        assert!(status.success(), "{why}");
        text(&out.stdout)
    }

    fn bucket(&self, bucket: &str) {
        self.moto.s3_put(&format!("/{bucket}"), b"");
    }

    fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) {
        self.moto
            .s3_put(&format!("/{bucket}/{}", url_path(key)), bytes);
    }

    /// A bucket holding, under `prefix`, the objects the agent writes for `stdout` and
    /// `stderr` of [`INSTANCE_ID`]; and the record in `state` that names them.
    fn s3_record(
        &self,
        bucket: &str,
        prefix: &str,
        state: (&str, &str),
        out: &str,
        err: &str,
    ) -> Value {
        let [out_key, err_key] = ["stdout", "stderr"].map(|s| agent_key(prefix, INSTANCE_ID, s));
        self.bucket(bucket);
        self.put_object(bucket, &out_key, out.as_bytes());
        self.put_object(bucket, &err_key, err.as_bytes());
        let urls = [s3_url(bucket, &out_key), s3_url(bucket, &err_key)];
        with_urls(service(state, out, err), &urls[0], &urls[1])
    }

    fn log_group(&self, group: &str) {
        self.moto
            .logs("CreateLogGroup", &json!({ "logGroupName": group }));
    }

    /// Creates the stream and puts these messages in it as events, in order, one millisecond
    /// apart within the last hour, in batches of at most 10,000 events.
    fn log_events(&self, group: &str, stream: &str, messages: &[String]) {
        let names = json!({ "logGroupName": group, "logStreamName": stream });
        self.moto.logs("CreateLogStream", &names);
        let start = since_epoch().as_millis() as u64 - 3_600_000;
        for (b, batch) in messages.chunks(10_000).enumerate() {
            let events: Vec<Value> = (batch.iter().enumerate())
                .map(|(i, m)| {
                    assert!(m.len() < 256 * 1024);
                    json!({ "timestamp": start + (b * 10_000 + i) as u64, "message": m })
                })
                .collect();
            let mut body = names.clone();
            body["logEvents"] = json!(events);
            let answer = self.moto.logs("PutLogEvents", &body);
            let rejected = answer.get("rejectedLogEventsInfo").is_some();
            assert!(!rejected, "moto rejected some events: {answer}");
        }
    }

    /// `ssmres get` for the invocation, against `ssm`, S3 and CloudWatch Logs at this moto.
    fn get(&self, ssm: &FakeSsm, extra: &str) -> Output {
        self.ssmres(ssm).run(get_args(extra))
    }

    /// `ssmres wait` for the invocation (fast polling), the same way.
    fn wait(&self, ssm: &FakeSsm, extra: &str) -> Output {
        self.ssmres(ssm).run(wait_args(extra))
    }

    /// ssmres against `ssm`, with S3 and CloudWatch Logs at this moto.
    fn ssmres(&self, ssm: &FakeSsm) -> Ssmres {
        let url = self.moto.endpoint();
        Ssmres::new(ssm).at(&url, &url)
    }
}

/// The CloudWatch Logs stream the agent writes a stream of a step to.
fn log_stream_name(instance_id: &str, step: &str, stream: &str) -> String {
    format!("{CMD_ID}/{instance_id}/{step}/{stream}")
}

// --- A socket nobody answers on ------------------------------------------------------------------

/// A bound, listening socket that never accepts while the binary runs: a client's connect
/// completes in the kernel's accept queue, where [`Tripwire::connections`] finds it afterwards
/// (the queue keeps it even once the client has gone).
struct Tripwire(TcpListener);

impl Tripwire {
    fn new() -> Tripwire {
        Tripwire(TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
    }

    fn url(&self) -> String {
        format!("http://{}", self.0.local_addr().unwrap())
    }

    /// How many connections were ever made to it. Call once the client has exited.
    fn connections(&self) -> usize {
        self.0.set_nonblocking(true).unwrap();
        let mut n = 0;
        loop {
            match self.0.accept() {
                Ok(_) => n += 1,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return n,
                Err(e) => panic!("accept: {e}"),
            }
        }
    }
}

/// S3 and CloudWatch Logs endpoints that are [`Tripwire`]s.
struct Tripwires(Tripwire, Tripwire);

impl Tripwires {
    fn new() -> Tripwires {
        Tripwires(Tripwire::new(), Tripwire::new())
    }

    /// ssmres against `ssm`, S3 and CloudWatch Logs at the tripwires.
    fn ssmres(&self, ssm: &FakeSsm) -> Ssmres {
        Ssmres::new(ssm).at(&self.0.url(), &self.1.url())
    }

    /// Asserts nothing connected to S3 or CloudWatch Logs. Call once the client has exited.
    #[track_caller]
    fn assert_untouched(&self, what: &str) {
        let connections = (self.0.connections(), self.1.connections());
        let why = format!("{what}: connections to S3 and CloudWatch Logs");
        assert_eq!(connections, (0, 0), "{why}");
    }
}

// --- 1. S3, megabytes, byte for byte -------------------------------------------------------------

struct BigS3 {
    world: World,
    stdout: String,
    stderr: String,
    record: Value,
}

/// A Failed invocation whose stdout (~4 MB) and stderr (~2 MB) each have their own object.
fn big_s3() -> BigS3 {
    let world = World::start();
    let (stdout, stderr) = (mixed_text(1, 4_000_000), mixed_text(2, 2_000_000));
    let record = world.s3_record("ssm-output-big", "runs/big", FAILED, &stdout, &stderr);
    BigS3 {
        world,
        stdout,
        stderr,
        record,
    }
}

#[test]
fn s3_megabytes_get_json_jsonl_and_text_carry_the_complete_objects_byte_for_byte() {
    let t = big_s3();
    let ssm = ssm_for(&t.record);
    let expected = with_contents(&t.record, &t.stdout, &t.stderr);

    let full = t.world.get(&ssm, "--full-output -o json");
    assert_json_is(&full, 0, &expected);
    check!(full, full.stderr.is_empty());

    // Without the flag the same record prints as the service sent it, keys in the same order.
    let cut = t.world.get(&ssm, "-o json");
    assert_json_is(&cut, 0, &t.record);
    assert_eq!(top_level_keys(&full), top_level_keys(&cut));

    let out = t.world.get(&ssm, "--full-output -o jsonl");
    assert_exit(&out, 0);
    let line = text(&out.stdout);
    let one_line = line.ends_with('\n') && line.matches('\n').count() == 1;
    assert!(one_line, "jsonl is one line");
    assert_json_value(&serde_json::from_str(&line).unwrap(), &expected);
    check!(out, out.stderr.is_empty());

    // Text mode streams each object exactly to its own stream.
    let out = t.world.get(&ssm, "--full-output -o text");
    assert_text_is(&out, 0, &t.stdout, &t.stderr);
}

/// The keys of a pretty-printed JSON object (4-space indent), in the order printed.
fn top_level_keys(out: &Output) -> Vec<String> {
    text(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("    \""))
        .filter_map(|l| l.split_once("\":").map(|(k, _)| k.to_owned()))
        .collect()
}

#[test]
fn s3_full_output_in_a_table_fills_the_sections_with_no_cut_note() {
    let world = World::start();
    let (stdout, stderr) = (mixed_text(50, 300_000), mixed_text(51, 60_000));
    let record = world.s3_record("ssm-output-table", "table", SUCCESS, &stdout, &stderr);
    let out = world.get(&ssm_for(&record), "--full-output -o table");
    assert_exit(&out, 0);
    let table = text(&out.stdout);
    // Each section is the whole text, controls made visible, ended by a line end.
    let sections = format!(
        "── stdout ──\n{}\n── stderr ──\n{}\n",
        shown(&stdout),
        shown(&stderr)
    );
    if !table.ends_with(&sections) {
        let start = table.find("── stdout ──").unwrap_or(0);
        let difference = first_difference(&table.as_bytes()[start..], sections.as_bytes());
        panic!("the sections are not the complete texts: {difference}");
    }
    check!(out, !table.contains("cut short"));
    check!(out, out.stderr.is_empty());
}

#[test]
fn s3_megabytes_wait_prints_the_complete_objects_and_keeps_the_exit_code() {
    let t = big_s3();
    let ssm = fake_running_then(&t.record);
    let out = t.world.wait(&ssm, "--full-output -o json");
    // The invocation Failed: wait says so with 1, complete output or not.
    assert_json_is(&out, 1, &with_contents(&t.record, &t.stdout, &t.stderr));
    check!(out, out.stderr.is_empty());
    let why = "it polled until the end";
    assert!(ssm.count(GET_COMMAND_INVOCATION) >= 2, "{why}");

    let ssm = fake_running_then(&t.record);
    let out = t.world.wait(&ssm, "--full-output -o text");
    assert_text_is(&out, 1, &t.stdout, &t.stderr);
}

// --- 2. Other URL forms, keys that need escaping -------------------------------------------------

#[test]
fn s3_virtual_hosted_urls_and_keys_with_escaped_characters() {
    let world = World::start();
    // A bucket with dots (read from the right of the host), keys with a space, `+`, `%`, `?`,
    // `#`, brackets, an `=` and non-ASCII: all percent-encoded in the URL.
    let bucket = "ssm.out-put.example";
    let out_key = "my runs/2024+05 %done?/ü#1/[x]=y/stdout";
    let err_key = "my runs/ünïcödé ✓/stderr";
    let (stdout, stderr) = (mixed_text(3, 60_000), mixed_text(4, 20_000));
    world.bucket(bucket);
    world.put_object(bucket, out_key, stdout.as_bytes());
    world.put_object(bucket, err_key, stderr.as_bytes());
    // Virtual-hosted, and the legacy dashed form of it.
    let hosted = |sep: &str, key: &str| {
        format!(
            "https://{bucket}.s3{sep}us-east-1.amazonaws.com/{}",
            url_path(key)
        )
    };
    let stdout_url = hosted(".", out_key);
    assert!(stdout_url.contains("%20") && stdout_url.contains("%25"));
    let stderr_url = hosted("-", err_key);
    let record = with_urls(service(SUCCESS, &stdout, &stderr), &stdout_url, &stderr_url);
    assert_complete(&world, &ssm_for(&record), &record, &stdout, &stderr);
}

// --- 3. CloudWatch Logs --------------------------------------------------------------------------

#[test]
fn cloudwatch_many_pages_of_events_json_and_text_are_the_events_line_by_line() {
    let world = World::start();
    let group = "/ops/run-command";
    let step = "aws-runShellScript";
    // 23,000 events (~3.5 MB): moto serves GetLogEvents 10,000 events a page, so three pages.
    let out_messages = log_messages(5, 3_500_000);
    assert!(out_messages.len() > 20_000, "{}", out_messages.len());
    let err_messages = log_messages(6, 40_000);
    world.log_group(group);
    for (stream, messages) in [("stdout", &out_messages), ("stderr", &err_messages)] {
        world.log_events(group, &log_stream_name(INSTANCE_ID, step, stream), messages);
    }
    // Another step's stream and another instance's: not this invocation's stdout.
    for decoy in [
        log_stream_name(INSTANCE_ID, "aws-other", "stdout"),
        log_stream_name("i-0fedcba9876543210", step, "stdout"),
    ] {
        world.log_events(group, &decoy, &["decoy: not this step's output".to_owned()]);
    }

    let (stdout, stderr) = (joined(&out_messages), joined(&err_messages));
    let record = with_cloudwatch(service(SUCCESS, &stdout, &stderr), group);
    assert_complete(&world, &ssm_for(&record), &record, &stdout, &stderr);
}

#[test]
fn cloudwatch_without_a_plugin_name_joins_every_step_in_creation_order_from_the_default_group() {
    let world = World::start();
    // No group named in the record: the agent's default, /aws/ssm/<document>.
    let group = "/aws/ssm/AWS-RunShellScript";
    world.log_group(group);
    // The first step's name sorts after the second's: only creation order puts them right.
    let (first, second) = (log_messages(7, 30_000), log_messages(8, 30_000));
    let first_err = vec!["first step complains\n".to_owned()];
    let second_err = vec!["second step complains".to_owned()];
    for (step, out, err) in [
        ("zz-first-step", &first, &first_err),
        ("aa-second-step", &second, &second_err),
    ] {
        world.log_events(group, &log_stream_name(INSTANCE_ID, step, "stdout"), out);
        world.log_events(group, &log_stream_name(INSTANCE_ID, step, "stderr"), err);
    }
    let stdout = joined(&first) + &joined(&second);
    let stderr = joined(&first_err) + &joined(&second_err);
    let record = invocation("Success", "Success", &stdout_cut(&stdout), &stderr);
    let mut record = with_cloudwatch(record, "");
    record.as_object_mut().unwrap().remove("PluginName");
    assert_complete(&world, &ssm_for(&record), &record, &stdout, &stderr);
}

// --- 4. S3 before CloudWatch ---------------------------------------------------------------------

#[test]
fn s3_is_read_rather_than_cloudwatch_when_both_kept_the_output() {
    let world = World::start();
    let bucket = "ssm-output-both";
    let out_key = agent_key("both", INSTANCE_ID, "stdout");
    let s3_stdout = mixed_text(9, 80_000);
    world.bucket(bucket);
    world.put_object(bucket, &out_key, s3_stdout.as_bytes());
    let group = "/ops/both";
    world.log_group(group);
    let cw_stdout = vec!["from CloudWatch: must not be shown".to_owned()];
    let cw_stderr = log_messages(10, 20_000);
    for (stream, messages) in [("stdout", &cw_stdout), ("stderr", &cw_stderr)] {
        let stream = log_stream_name(INSTANCE_ID, "aws-runShellScript", stream);
        world.log_events(group, &stream, messages);
    }
    let stderr = joined(&cw_stderr);
    // stdout is in both places; stderr only in CloudWatch (no URL for it).
    let url = s3_url(bucket, &out_key);
    let record = with_urls(service(SUCCESS, &s3_stdout, &stderr), &url, "");
    let record = with_cloudwatch(record, group);
    assert_complete(&world, &ssm_for(&record), &record, &s3_stdout, &stderr);
}

// --- 5. What is not there ------------------------------------------------------------------------

#[test]
fn a_missing_object_falls_back_with_one_warning_and_the_exit_code_of_the_invocation() {
    let world = World::start();
    let bucket = "ssm-output-missing";
    world.bucket(bucket);
    let [out_key, err_key] = ["stdout", "stderr"].map(|s| agent_key("gone", INSTANCE_ID, s));
    let urls = [s3_url(bucket, &out_key), s3_url(bucket, &err_key)];
    let service_stdout = stdout_cut(&mixed_text(11, 80_000));
    // stderr was empty: the agent uploaded no object for it, and that is no error.
    let record = with_urls(ended(FAILED, &service_stdout), &urls[0], &urls[1]);
    let what = format!("s3://{bucket}/{out_key}");

    let out = world.wait(&fake_running_then(&record), "--full-output -o json");
    assert_json_is(&out, 1, &record);
    assert_one_fallback_warning(&out, "stdout", &what, "NoSuchKey");

    let out = world.wait(&fake_running_then(&record), "--full-output -o text");
    assert_exit(&out, 1);
    assert_same_bytes(&out.stdout, service_stdout.as_bytes(), "stdout");
    assert_one_fallback_warning(&out, "stdout", &what, "NoSuchKey");

    // Both streams empty at the service, both objects missing: nothing to say.
    let empty = with_urls(ended(FAILED, ""), &urls[0], &urls[1]);
    let ssm = ssm_for(&empty);
    let out = world.wait(&ssm, "--full-output -o json");
    assert_json_is(&out, 1, &empty);
    check!(out, out.stderr.is_empty());
    assert_text_is(&world.get(&ssm, "--full-output -o text"), 0, "", "");
}

#[test]
fn a_table_after_a_failed_read_does_not_offer_the_flag_that_was_given() {
    // With --full-output, a read that failed is said once, on stderr. The table's note for a
    // cut section ("…; --full-output reads it") is for runs without the flag: after the flag
    // was given and the object turned out missing, it would send the user round in circles.
    let world = World::start();
    let bucket = "ssm-output-table-missing";
    world.bucket(bucket);
    let key = agent_key("gone", INSTANCE_ID, "stdout");
    let service_stdout = stdout_cut(&mixed_text(21, 80_000));
    let record = with_urls(ended(SUCCESS, &service_stdout), &s3_url(bucket, &key), "");
    let out = world.get(&ssm_for(&record), "--full-output -o table");
    assert_exit(&out, 0);
    assert_one_fallback_warning(&out, "stdout", &format!("s3://{bucket}/{key}"), "NoSuchKey");
    let table = text(&out.stdout);
    let shows = table.contains(&format!("{}\n", shown(&service_stdout)));
    check!(out, shows, "the table shows what the service returned");
    let tail: String = table
        .chars()
        .skip(table.chars().count().saturating_sub(400))
        .collect();
    assert!(
        !table.contains("--full-output reads it"),
        "the table tells the user to use --full-output, which was given and could not read \
         s3://{bucket}/{key}; its end:\n{tail}"
    );
}

#[test]
fn a_missing_log_group_or_stream_falls_back_with_one_warning_naming_it() {
    let world = World::start();
    let service_stdout = stdout_cut(&mixed_text(12, 80_000));
    let streams = format!("{CMD_ID}/{INSTANCE_ID}/aws-runShellScript/stdout");

    // No such group. stderr was empty: its stream is missing too, and that says nothing.
    let record = with_cloudwatch(ended(FAILED, &service_stdout), "/no/such/group");
    let out = world.wait(&ssm_for(&record), "--full-output -o json");
    assert_json_is(&out, 1, &record);
    let what = format!("CloudWatch Logs group /no/such/group, streams {streams}");
    let line = assert_one_fallback_warning(&out, "stdout", &what, "ResourceNotFoundException");
    assert!(line.contains("log group does not exist"), "{line}");

    // The group exists, this invocation's streams do not.
    world.log_group("/ops/empty");
    let record = with_cloudwatch(ended(SUCCESS, &service_stdout), "/ops/empty");
    let out = world.get(&ssm_for(&record), "--full-output -o text");
    assert_exit(&out, 0);
    assert_same_bytes(&out.stdout, service_stdout.as_bytes(), "stdout");
    let what = format!("CloudWatch Logs group /ops/empty, streams {streams}");
    assert_one_fallback_warning(&out, "stdout", &what, "no such log stream");
}

#[test]
fn a_cut_stream_kept_nowhere_is_said_once_and_the_service_content_shown() {
    let service_stdout = stdout_cut(&mixed_text(13, 80_000));
    let record = invocation("Success", "Success", &service_stdout, "short stderr\n");
    let (ssm, wires) = (ssm_for(&record), Tripwires::new());
    let out = wires.ssmres(&ssm).run(get_args("--full-output -o json"));
    assert_json_is(&out, 0, &record);
    let line = assert_single_stderr_line(&out);
    let said = format!(
        "warning: {INSTANCE_ID}: stdout was cut short by the service and no complete copy was kept"
    );
    check!(out, line.starts_with(&said));
    wires.assert_untouched("a stream kept nowhere");
}

// --- 6. Access denied (moto enforcing IAM) -------------------------------------------------------

/// POSTs `body` to moto's `path`; the status code.
fn moto_post(moto: &Moto, path: &str, body: &str) -> u16 {
    let headers = [("Content-Type", "application/json")];
    http::request(&moto.endpoint(), "POST", path, &headers, body.as_bytes())
        .expect("moto answers")
        .0
}

#[test]
fn access_denied_by_iam_falls_back_with_one_warning_and_keeps_the_exit_code() {
    let world = World::start();
    let bucket = "ssm-output-denied";
    let out_key = agent_key("denied", INSTANCE_ID, "stdout");
    world.bucket(bucket);
    world.put_object(bucket, &out_key, mixed_text(14, 80_000).as_bytes());
    let group = "/ops/denied";
    world.log_group(group);
    let stream = log_stream_name(INSTANCE_ID, "aws-runShellScript", "stdout");
    world.log_events(group, &stream, &log_messages(15, 40_000));

    // A user who may list, but not read.
    world.aws(&args("iam create-user --user-name lister"));
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "logs:DescribeLogStreams", "logs:DescribeLogGroups"],
            "Resource": "*"
        }]
    });
    let put =
        args("iam put-user-policy --user-name lister --policy-name list-only --policy-document");
    world.aws(&[&put[..], &[&policy.to_string()]].concat());
    let key = world.aws(&args("iam create-access-key --user-name lister"));
    let key: Value = serde_json::from_str(&key).unwrap();
    let [key_id, secret] = ["AccessKeyId", "SecretAccessKey"]
        .map(|k| key["AccessKey"][k].as_str().unwrap().to_owned());
    // From now on moto checks every request against IAM.
    assert_eq!(moto_post(&world.moto, "/moto-api/reset-auth", "0"), 200);
    let lister = |ssm: &FakeSsm| {
        let run = world.ssmres(ssm).env("AWS_ACCESS_KEY_ID", &key_id);
        run.env("AWS_SECRET_ACCESS_KEY", &secret)
    };

    // S3: GetObject denied.
    let service_stdout = stdout_cut(&mixed_text(14, 80_000));
    let url = s3_url(bucket, &out_key);
    let record = with_urls(ended(FAILED, &service_stdout), &url, "");
    let out = lister(&fake_running_then(&record)).run(wait_args("--full-output -o json"));
    assert_json_is(&out, 1, &record);
    let what = format!("s3://{bucket}/{out_key}");
    assert_one_fallback_warning(&out, "stdout", &what, "AccessDenied");

    // CloudWatch Logs: the streams can be listed, their events not read.
    let record = with_cloudwatch(ended(SUCCESS, &service_stdout), group);
    let out = lister(&ssm_for(&record)).run(get_args("--full-output -o text"));
    assert_exit(&out, 0);
    assert_same_bytes(&out.stdout, service_stdout.as_bytes(), "stdout");
    let line = assert_one_fallback_warning(&out, "stdout", &streams_of(group), "");
    // moto words a denied CloudWatch Logs call in XML, which the SDK's JSON parser cannot read:
    // the warning names the denial by its status instead of dumping the raw answer. The test
    // below (`cloudwatch_access_denied_as_aws_words_it_…`) checks the message for AWS's JSON
    // answer.
    assert!(line.contains("access denied (HTTP 403"), "{line}");
    let short = !line.contains("<?xml") && line.chars().count() < 400;
    assert!(short, "one short line, not the raw answer: {line}");
}

/// How a warning names the CloudWatch Logs streams of [`INSTANCE_ID`]'s stdout in `group`.
fn streams_of(group: &str) -> String {
    format!(
        "CloudWatch Logs group {group}, streams {CMD_ID}/{INSTANCE_ID}/aws-runShellScript/stdout"
    )
}

/// A scripted CloudWatch Logs endpoint that lists this invocation's stdout stream and denies
/// reading it, worded as CloudWatch Logs words it (moto answers a denied JSON call in XML, which
/// no JSON client can read).
fn logs_that_deny_reading(group: &'static str) -> FakeSsm {
    FakeSsm::with_handler(move |target: &str, body: &Value| match target {
        "Logs_20140328.DescribeLogStreams" => Step::ok(&json!({
            "logStreams": [{
                "logStreamName": log_stream_name(INSTANCE_ID, "aws-runShellScript", "stdout"),
                "creationTime": 1_715_677_951_500u64,
                "arn": format!("arn:aws:logs:us-east-1:123456789012:log-group:{group}:log-stream:x"),
                "storedBytes": 0
            }]
        })),
        "Logs_20140328.GetLogEvents" => Step::Error(
            400,
            "AccessDeniedException".into(),
            format!(
                "User: arn:aws:iam::123456789012:user/lister is not authorized to perform: \
                 logs:GetLogEvents on resource: arn:aws:logs:us-east-1:123456789012:log-group:{}:log-stream:{}",
                group,
                body["logStreamName"].as_str().unwrap_or_default()
            ),
        ),
        other => Step::Error(400, "UnknownOperationException".into(), other.into()),
    })
}

#[test]
fn cloudwatch_access_denied_as_aws_words_it_is_one_warning_naming_the_denial() {
    let group = "/ops/denied";
    let service_stdout = stdout_cut(&mixed_text(19, 80_000));
    let record = with_cloudwatch(ended(FAILED, &service_stdout), group);
    let logs = logs_that_deny_reading(group);
    for mode in ["json", "text"] {
        let ssm = ssm_for(&record);
        let run = Ssmres::new(&ssm).env(LOGS_URL, &logs.url());
        let out = run.run(wait_args(&format!("--full-output -o {mode}")));
        if mode == "json" {
            assert_json_is(&out, 1, &record);
        } else {
            assert_exit(&out, 1);
            assert_same_bytes(&out.stdout, service_stdout.as_bytes(), "stdout");
        }
        let denied = "AccessDeniedException: User: arn:aws:iam::123456789012:user/lister is not \
                      authorized to perform: logs:GetLogEvents";
        let line = assert_one_fallback_warning(&out, "stdout", &streams_of(group), denied);
        assert!(line.len() < 600, "a warning a person can read: {line}");
    }
}

/// The variable naming CloudWatch Logs' endpoint.
const LOGS_URL: &str = "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS";

// --- 7. Without --full-output: a note, and nothing read ------------------------------------------

#[test]
fn without_the_flag_a_table_says_where_the_rest_is_and_nothing_is_read() {
    let stdout = stdout_cut(&mixed_text(16, 80_000));
    let stderr = stderr_cut(&mixed_text(17, 30_000));
    let [out_url, err_url] =
        ["stdout", "stderr"].map(|s| s3_url("ssm-output-note", &format!("note/{s}")));
    let cut = invocation("Success", "Success", &stdout, &stderr);
    let note = |stream: &str, place: String| {
        format!(
            "[cut short by the service: the complete {stream} is in {place}; --full-output reads it]"
        )
    };
    let streams = |stream| {
        format!(
            "CloudWatch Logs group /ops/g, streams {CMD_ID}/{INSTANCE_ID}/aws-runShellScript/{stream}"
        )
    };
    let cases = [
        // Kept in S3.
        (
            with_urls(cut.clone(), &out_url, &err_url),
            ["stdout", "stderr"].map(|s| note(s, format!("s3://ssm-output-note/note/{s}"))),
        ),
        // Kept in CloudWatch Logs.
        (
            with_cloudwatch(cut.clone(), "/ops/g"),
            ["stdout", "stderr"].map(|s| note(s, streams(s))),
        ),
        // Kept nowhere.
        (
            cut,
            ["stdout", "stderr"]
                .map(|s| format!("[cut short by the service: the complete {s} was not kept;")),
        ),
    ];
    for (record, notes) in cases {
        let ssm = ssm_for(&record);
        let wires = Tripwires::new();
        let out = wires.ssmres(&ssm).run(get_args("-o table"));
        assert_exit(&out, 0);
        let table = text(&out.stdout);
        // The note follows the section it is about.
        let find = |needle: &str| {
            table
                .find(needle)
                .unwrap_or_else(|| panic!("no {needle:?}\n{}", describe(&out)))
        };
        let (stdout_note, stderr_header, stderr_note) =
            (find(&notes[0]), find("── stderr ──"), find(&notes[1]));
        let ordered = stdout_note < stderr_header && stderr_header < stderr_note;
        check!(out, ordered);
        let after = table[..stdout_note].ends_with(&format!("{MARKER}\n"));
        assert!(after, "the note comes right after the cut text");

        // json is what the service sent, and wait reads nothing either.
        let out = wires.ssmres(&ssm).run(wait_args("-o json"));
        assert_json_is(&out, 0, &record);
        check!(out, out.stderr.is_empty());
        wires.assert_untouched("nothing is read without --full-output");
        assert_gets_only(&ssm.calls());
    }

    // A section that was not cut has no note.
    let record = with_urls(ended(SUCCESS, "all of it\n"), &out_url, &err_url);
    let out = Ssmres::new(&ssm_for(&record)).run(get_args("-o table"));
    assert_exit(&out, 0);
    check!(out, !text(&out.stdout).contains("cut short"));
}

#[test]
fn an_unfinished_invocation_is_not_read_even_with_the_flag() {
    let stdout = stdout_cut(&mixed_text(18, 80_000));
    let running = invocation("InProgress", "InProgress", &stdout, "");
    let [out_url, err_url] =
        ["stdout", "stderr"].map(|s| s3_url("ssm-output-running", &format!("running/{s}")));
    let record = with_cloudwatch(with_urls(running, &out_url, &err_url), "/ops/running");
    let ssm = ssm_for(&record);
    let wires = Tripwires::new();
    let out = wires.ssmres(&ssm).run(get_args("--full-output -o json"));
    assert_json_is(&out, 0, &record);

    // A wait that times out prints the last state seen, as the service sent it.
    let out = wires
        .ssmres(&ssm)
        .run(wait_args("--timeout 2s --full-output -o json"));
    assert_json_is(&out, 4, &record);
    wires.assert_untouched("an unfinished invocation");
    // Nor are its steps listed: there is nothing to read yet.
    assert_gets_only(&ssm.calls());
}

// --- 8. Fleets -----------------------------------------------------------------------------------

/// A fake SSM answering a fleet wait for these members, all ended by round 1, whose
/// GetCommandInvocation records carry the output URLs `urls` gives for an instance, and so do
/// their ListCommandInvocations records (one step each). ListCommandInvocations applies the
/// `CommandId` and `InstanceId` filters as SSM does: the per-instance listing of `--full-output`
/// gets that instance's record alone.
fn fleet_fake(
    members: Vec<Member>,
    urls: impl Fn(&str) -> (String, String) + Send + Sync + 'static,
) -> FakeSsm {
    let timeline = Timeline::new(members);
    let listed: Vec<Value> = (timeline.records_at(1).into_iter())
        .map(|record| {
            let (out, err) = urls(str_at(&record, "InstanceId"));
            let mut record = with_urls(record, &out, &err);
            record["CommandPlugins"][0] = with_urls(record["CommandPlugins"][0].take(), &out, &err);
            record
        })
        .collect();
    FakeSsm::with_handler(move |target: &str, body: &Value| match target {
        LIST_COMMANDS => Step::ok(&json!({ "Commands": [timeline.command_at(1)] })),
        LIST_COMMAND_INVOCATIONS => answer_listing(body, &listed),
        GET_COMMAND_INVOCATION => {
            let id = body["InstanceId"].as_str().unwrap_or_default();
            let (out, err) = urls(id);
            let record = timeline
                .get_body_at(id, 1)
                .map(|r| with_urls(r, &out, &err));
            record.map_or_else(Step::not_found, |r| Step::ok(&r))
        }
        other => Step::Error(400, "UnknownOperationException".into(), other.into()),
    })
}

#[test]
fn a_fleet_wait_carries_every_instance_s_complete_output() {
    let world = World::start();
    let bucket = "ssm-output-fleet";
    world.bucket(bucket);
    let ids: Vec<String> = (0..3).map(fleet_instance_id).collect();
    let texts: Vec<String> = (0..3)
        .map(|i| mixed_text(20 + i, 150_000 + 50_000 * i as usize))
        .collect();
    for (id, t) in ids.iter().zip(&texts) {
        world.put_object(bucket, &agent_key("fleet", id, "stdout"), t.as_bytes());
    }
    // The third one failed, and its object is missing.
    let members: Vec<Member> = (ids.iter().zip(&texts).enumerate())
        .map(|(i, (id, t))| {
            let m = Member::new(id.clone()).output(&stdout_cut(t), "");
            if i == 2 {
                m.ends_at(1, FAILED)
            } else {
                m.succeeds_at(1)
            }
        })
        .collect();
    let missing = agent_key("fleet", &ids[2], "stdout") + "-never-uploaded";
    let (failed, missing_key) = (ids[2].clone(), missing.clone());
    let urls = move |id: &str| {
        let [out_key, err_key] = ["stdout", "stderr"].map(|s| agent_key("fleet", id, s));
        let out_key = if id == failed { &missing_key } else { &out_key };
        (s3_url(bucket, out_key), s3_url(bucket, &err_key))
    };
    let ssm = fleet_fake(members, urls);
    for mode in ["json", "jsonl"] {
        let fast = FAST_POLL.join(" ");
        let out = world.ssmres(&ssm).run(format!(
            "wait --command-id {CMD_ID} {fast} --full-output -o {mode}"
        ));
        // One failed: 1, as without the flag.
        assert_exit(&out, 1);
        let mut items: Vec<Value> = if mode == "json" {
            serde_json::from_value(stdout_json(&out)).expect("an array")
        } else {
            // jsonl: one object per line, in the order they finished.
            text(&out.stdout)
                .lines()
                .map(|l| serde_json::from_str(l).expect("a JSON line"))
                .collect()
        };
        if mode == "jsonl" {
            items.sort_by(|a, b| a["InstanceId"].as_str().cmp(&b["InstanceId"].as_str()));
        }
        let got_ids: Vec<&str> = items.iter().map(|v| str_at(v, "InstanceId")).collect();
        assert_eq!(got_ids, ids, "{mode}");
        for (i, item) in items.iter().enumerate() {
            let want = if i == 2 {
                stdout_cut(&texts[2])
            } else {
                texts[i].clone()
            };
            let got = item["StandardOutputContent"].as_str().unwrap();
            let what = format!("{mode}: {}'s stdout", ids[i]);
            assert_same_bytes(got.as_bytes(), want.as_bytes(), &what);
            assert_eq!(item["StandardErrorContent"], json!(""));
        }
        let ws = warnings(&out);
        let why = format!("{mode}: one warning, for the missing object");
        check_eq!(out, ws.len(), 1, "{why}");
        let what = format!("s3://{bucket}/{missing}");
        assert_fallback_warning(&ws[0], &ids[2], "stdout", &what, "NoSuchKey");
    }
}

// --- 9. --endpoint-url is SSM's only -------------------------------------------------------------

#[test]
fn s3_and_logs_go_to_their_own_endpoints_never_to_the_ssm_one() {
    let (bucket, key) = ("ssm-output-elsewhere", "elsewhere/stdout");
    let service_stdout = stdout_cut(&mixed_text(30, 80_000));
    let record = with_urls(ended(SUCCESS, &service_stdout), &s3_url(bucket, key), "");
    let ssm = ssm_for(&record);
    let config_dir = tempfile::tempdir().unwrap();
    for var in [
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL",
        "a profile's services section",
    ] {
        // A stand-in for S3 that refuses; it records what reached it.
        let s3 = FakeSsm::always(Step::Error(403, "AccessDenied".into(), "not here".into()));
        let run = if var.starts_with("AWS_") {
            Ssmres::new(&ssm).env(var, &s3.url())
        } else {
            // The default profile names S3's endpoint only.
            let config = config_dir.path().join("config");
            let services = "[default]\nservices = elsewhere\n\n[services elsewhere]\ns3 =\n";
            let text = format!("{services}  endpoint_url = {}\n", s3.url());
            std::fs::write(&config, text).unwrap();
            Ssmres::new(&ssm).env("AWS_CONFIG_FILE", config.to_str().unwrap())
        };
        let before = ssm.total_requests();
        let out = run.run(get_args("--full-output -o json"));
        assert_json_is(&out, 0, &record);
        let line = assert_single_stderr_line(&out);
        let said =
            format!("warning: {INSTANCE_ID}: complete stdout not read (s3://{bucket}/{key}: ");
        assert!(line.starts_with(&said), "{var}: {line}");
        let reached: Vec<(String, String)> =
            s3.calls().into_iter().map(|r| (r.method, r.path)).collect();
        let path = format!("/{bucket}/{key}");
        let asked = |(m, p): &(String, String)| m == "GET" && p.split('?').next() == Some(&path);
        assert!(
            !reached.is_empty() && reached.iter().all(asked),
            "{var}: the object is asked for path-style from that endpoint: {reached:?}"
        );
        // Only SSM calls reach --endpoint-url.
        assert_gets_only(&calls_since(&ssm, before));
    }

    // CloudWatch Logs from AWS_ENDPOINT_URL_CLOUDWATCH_LOGS.
    let record = with_cloudwatch(ended(SUCCESS, &service_stdout), "/ops/elsewhere");
    let ssm = ssm_for(&record);
    // A stand-in for CloudWatch Logs that knows no such group (and records what reached it).
    let missing = "The specified log group does not exist.";
    let not_found = Step::Error(400, "ResourceNotFoundException".into(), missing.into());
    let logs = FakeSsm::with_handler(move |_: &str, _: &Value| not_found.clone());
    let out = Ssmres::new(&ssm)
        .env(LOGS_URL, &logs.url())
        .run(get_args("--full-output -o json"));
    assert_json_is(&out, 0, &record);
    let what = streams_of("/ops/elsewhere");
    assert_one_fallback_warning(&out, "stdout", &what, "ResourceNotFoundException");
    let targets: Vec<String> = logs.calls().into_iter().map(|r| r.target).collect();
    let described = |t: &String| t == "Logs_20140328.DescribeLogStreams";
    assert!(
        !targets.is_empty() && targets.iter().all(described),
        "DescribeLogStreams reached the CloudWatch Logs endpoint: {targets:?}"
    );
    let describe_body = &logs.calls()[0].body;
    assert_eq!(describe_body["logGroupName"], json!("/ops/elsewhere"));
    let want = json!(format!("{CMD_ID}/{INSTANCE_ID}/"));
    assert_eq!(describe_body["logStreamNamePrefix"], want);
    assert_gets_only(&ssm.calls());
}

// --- 10. Documents with several steps ------------------------------------------------------------

/// Two steps kept in S3, each with its own objects, uploaded.
fn two_steps_in_s3(world: &World, bucket: &'static str) -> [DocStep; 2] {
    world.bucket(bucket);
    let steps = [
        ("stepOne", 90, 150_000, 20_000),
        ("stepTwo", 92, 90_000, 12_000),
    ]
    .map(|(name, seed, out, err)| {
        let (stdout, stderr) = (mixed_text(seed, out), mixed_text(seed + 1, err) + "\n");
        DocStep {
            name,
            stdout,
            stderr,
            s3: (bucket, "two"),
        }
    });
    for step in &steps {
        step.upload(world);
    }
    steps
}

#[test]
fn with_plugin_name_that_step_s_objects_are_read_and_no_steps_are_listed() {
    let world = World::start();
    let steps = two_steps_in_s3(&world, "ssm-output-named");
    let base = multi_step_base(SUCCESS);
    let ssm = steps_ssm(&base, &steps);
    let two = &steps[1];
    let expected = with_contents(&step_record(&base, two), &two.stdout, &two.stderr);
    let named = |calls: &[Call]| {
        assert_gets_only(calls);
        for call in calls {
            assert_eq!(call.body["PluginName"], json!("stepTwo"), "{}", call.body);
        }
    };

    let out = world.get(&ssm, "--plugin-name stepTwo --full-output -o json");
    assert_json_is(&out, 0, &expected);
    check!(out, out.stderr.is_empty());
    named(&ssm.calls());

    let before = ssm.total_requests();
    let out = world.wait(&ssm, "--plugin-name stepTwo --full-output -o text");
    assert_text_is(&out, 0, &two.stdout, &two.stderr);
    named(&calls_since(&ssm, before));
}

// --- On a terminal -------------------------------------------------------------------------------

/// What a terminal shows of `text`: ESC as `\x1b`, a lone CR as `\r`, CRLF as a line end.
fn shown(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\x1b"),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn on_a_terminal_the_complete_text_is_shown_with_controls_made_visible() {
    let world = World::start();
    let bucket = "ssm-output-tty";
    let key = agent_key("tty", INSTANCE_ID, "stdout");
    let stdout = mixed_text(40, 600_000);
    world.bucket(bucket);
    world.put_object(bucket, &key, stdout.as_bytes());
    let url = s3_url(bucket, &key);
    let ssm = ssm_for(&with_urls(ended(SUCCESS, &stdout_cut(&stdout)), &url, ""));
    let mut run = world.ssmres(&ssm);
    let out = crate::support::on_terminal(run.cmd.args(get_args("--full-output -o text").words()));
    assert_exit(&out, 0);
    // The terminal turns each line end into CRLF; raw CRs never reach it.
    let screen = text(&out.stdout).replace("\r\n", "\n");
    let why = "no character was broken between two reads";
    assert!(!screen.contains('\u{fffd}'), "{why}");
    assert_same_bytes(screen.as_bytes(), shown(&stdout).as_bytes(), "the screen");
}

// --- 10. What is not read, and a reader that stops early -----------------------------------------

#[test]
fn an_empty_stream_is_not_looked_up() {
    // The agent keeps no object for an empty stream; without s3:ListBucket, asking for one
    // would be an AccessDenied and a false warning.
    let [out_url, err_url] =
        ["stdout", "stderr"].map(|s| s3_url("ssm-output-empty", &format!("runs/empty/{s}")));
    let record = with_urls(ended(SUCCESS, ""), &out_url, &err_url);
    let record = with_cloudwatch(record, "/ops/empty");
    let ssm = ssm_for(&record);
    let wires = Tripwires::new();
    let out = wires.ssmres(&ssm).run(get_args("--full-output -o json"));
    assert_json_is(&out, 0, &record);
    check!(out, out.stderr.is_empty());
    let out = wires.ssmres(&ssm).run(get_args("--full-output -o text"));
    assert_text_is(&out, 0, "", "");
    wires.assert_untouched("empty streams");
}

#[test]
fn complete_content_is_not_replaced_by_cloudwatch_s_lines() {
    // CloudWatch keeps lines (CRLF comes back as LF): content the service did not cut is the
    // exact copy, so it is printed as it is and CloudWatch is not asked.
    let stdout = "line one\r\nline two\r\nno newline at the end";
    let record = invocation("Success", "Success", stdout, "a warning\r\n");
    let ssm = ssm_for(&with_cloudwatch(record, "/ops/whole"));
    let wires = Tripwires::new();
    let out = wires.ssmres(&ssm).run(get_args("--full-output -o text"));
    assert_text_is(&out, 0, stdout, "a warning\r\n");
    wires.assert_untouched("complete content");
}

#[test]
fn after_stdout_is_closed_stderr_still_gets_its_complete_text() {
    // `ssmres get … -o text | head`: the reader of stdout leaves early; stderr is another
    // stream and still receives the whole complete stderr, and the run ends quietly.
    let t = big_s3();
    let ssm = ssm_for(&t.record);
    let mut run = t.world.ssmres(&ssm);
    let cmd = run.cmd.args(get_args("--full-output -o text").words());
    let mut child = (cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn())
    .expect("spawn ssmres");
    let mut stderr_pipe = child.stderr.take().expect("stderr pipe");
    let (tx, rx) = mpsc::channel();
    // The end of stderr is the end of the run.
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut bytes);
        let _ = tx.send(bytes);
    });
    let mut stdout_pipe = child.stdout.take().expect("stdout pipe");
    let mut head = vec![0u8; 64 * 1024];
    stdout_pipe
        .read_exact(&mut head)
        .expect("the first 64 KiB of stdout");
    assert_eq!(&head[..], &t.stdout.as_bytes()[..head.len()]);
    drop(stdout_pipe);
    let Ok(stderr) = rx.recv_timeout(RUN_TIMEOUT) else {
        let _ = child.kill();
        panic!("ssmres did not end after its stdout was closed");
    };
    let status = child.wait().expect("wait for ssmres");
    let head = text(&stderr[..stderr.len().min(2000)]);
    assert_eq!(status.code(), Some(0), "{head}");
    assert_same_bytes(&stderr, t.stderr.as_bytes(), "stderr");
}

#[test]
fn wait_timeout_bounds_the_read_of_an_endpoint_that_never_answers() {
    // An S3 endpoint that takes the connection and never answers: --timeout is the budget of
    // the whole command, so the read ends there, with the service's content and a warning.
    let service_stdout = stdout_cut(&mixed_text(31, 60_000));
    let [out_url, err_url] =
        ["stdout", "stderr"].map(|s| s3_url("ssm-output-hung", &format!("runs/hung/{s}")));
    let record = with_urls(ended(SUCCESS, &service_stdout), &out_url, &err_url);
    let ssm = ssm_for(&record);
    let hung = Tripwire::new();
    for mode in ["json", "text"] {
        let started = std::time::Instant::now();
        let run = Ssmres::new(&ssm).env("AWS_ENDPOINT_URL_S3", &hung.url());
        let out = run.run(wait_args(&format!("--timeout 3s --full-output -o {mode}")));
        let took = started.elapsed();
        let why = format!("{mode}: the read outlived --timeout 3s by far: {took:?}");
        assert!(took < Duration::from_secs(20), "{why}");
        if mode == "json" {
            assert_json_is(&out, 0, &record);
        } else {
            assert_exit(&out, 0);
            assert_same_bytes(&out.stdout, service_stdout.as_bytes(), "stdout");
        }
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{mode}: one warning: {err}");
        let said = err.starts_with("warning: ") && err.contains("--timeout reached");
        assert!(said, "{mode}: {err}");
    }
    assert!(hung.connections() >= 1, "the endpoint was reached");
}

#[test]
fn cloudwatch_streams_are_found_past_the_first_page_of_the_listing() {
    // DescribeLogStreams answers 50 streams a page. Sixty other steps' streams sort before
    // this step's, so it is found only by following nextToken.
    let world = World::start();
    let group = "/ops/many-steps";
    world.log_group(group);
    let decoys: Vec<String> = (0..60)
        .map(|i| log_stream_name(INSTANCE_ID, &format!("aa-step-{i:02}"), "stdout"))
        .collect();
    let script = format!(
        "import boto3\n\
         logs = boto3.client('logs', endpoint_url='{}', region_name='{}', \
         aws_access_key_id='{}', aws_secret_access_key='{}')\n\
         for name in {:?}:\n    logs.create_log_stream(logGroupName='{group}', logStreamName=name)\n",
        world.moto.endpoint(),
        moto::REGION,
        moto::ACCESS_KEY_ID,
        moto::SECRET_ACCESS_KEY,
        decoys,
    );
    let python = world.moto.venv().join("bin").join("python");
    let made = Command::new(python)
        .arg("-c")
        .arg(&script)
        .env("NO_PROXY", "127.0.0.1")
        .output();
    let made = made.expect("run the venv's python");
    assert!(made.status.success(), "{}", text(&made.stderr));

    let messages = log_messages(41, 60_000);
    let stream = log_stream_name(INSTANCE_ID, "zz-last", "stdout");
    world.log_events(group, &stream, &messages);
    let cut = ended(SUCCESS, &stdout_cut(&joined(&messages)));
    let mut record = with_cloudwatch(cut, group);
    record["PluginName"] = json!("zz:last");
    let out = world.get(&ssm_for(&record), "--full-output -o text");
    assert_text_is(&out, 0, &joined(&messages), "");
}
