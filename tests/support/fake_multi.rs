//! A scripted SSM world of one command whose invocations may run documents of several steps,
//! served by the fake SSM endpoint ([`FakeSsm::with_handler`]).
//!
//! Each [`MultiInstance`] runs the steps ([`StepSpec`]s) of one document; each step's
//! `(Status, StatusDetails)` is a function of the *round*, and the invocation's own status is
//! derived from its steps (all Pending: Pending; one Cancelling: Cancelling; one still running:
//! InProgress; all Success: Success; else Failed, TimedOut or Cancelled, from the steps).
//!
//! Answered as SSM answers them (AWS JSON 1.1):
//! - `GetCommandInvocation {CommandId, InstanceId, PluginName?}`: `InvocationDoesNotExist`
//!   while the instance is not visible; without `PluginName` for a document of several steps,
//!   `InvalidPluginName` (also for a one-step document during
//!   [`MultiInstance::invalid_plugin_name_until`], the eventual-consistency symptom); with a
//!   `PluginName` the document does not have, `InvalidPluginName`; otherwise the step's result
//!   (its Status, ResponseCode and times; its output once it ended). A step whose record lags
//!   the listing ([`StepSpec::lags`]) is answered as [`Lag`] says the first times it is asked
//!   for by name once it has ended.
//! - `ListCommandInvocations {CommandId, InstanceId?, Details?, MaxResults?, NextToken?}`: the
//!   visible instances (from [`MultiInstance::listed_from`]), `CommandPlugins` (one per step, in the document's order) only with
//!   `Details` (an empty list before [`MultiInstance::plugins_listed_from`]).
//! - `ListCommands {CommandId}`: the command with its status and counts (targets are the
//!   visible instances).
//! - `CancelCommand {CommandId, InstanceIds?}`: `{}` (after [`MultiWorld::cancel_delay`]);
//!   from then on, every step of the instances it names (all without `InstanceIds`) that had
//!   not ended is Cancelling for [`MultiWorld::cancelling_for`], then Cancelled (by the
//!   clock, whatever calls the binary makes to see it).
//!
//! Rounds: once a ListCommands call was seen (a fleet wait), each ListCommands call starts a
//! round and nothing else does. Before that (a single invocation's wait or `get`), every call
//! starts a round except the follow-ups of a poll: the ListCommandInvocations call right after
//! an `InvalidPluginName` answer, and the GetCommandInvocation calls with a `PluginName` (one
//! per step) after a listing that showed the invocation ended with several steps. Calls made
//! before the first round are answered from round 1. CancelCommand never starts a round.
//!
//! Every call is logged with its round ([`FakeMulti::calls`]); the underlying [`FakeSsm`]
//! (reachable through `Deref`) records the raw requests as usual.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value, json};

pub use super::fake_ssm::{
    CMD_ID, GET_COMMAND_INVOCATION, LIST_COMMAND_INVOCATIONS, LIST_COMMANDS,
};
use super::fake_ssm::{FakeSsm, Handler, REQUESTED_AT_MS, Step, epoch_ms, listed_invocation};

/// The X-Amz-Target of CancelCommand.
pub const CANCEL_COMMAND: &str = "AmazonSSM.CancelCommand";
/// The document of an invocation with several steps.
pub const MULTI_DOCUMENT: &str = "Custom-MultiStepDeploy";
/// The document of an invocation with one step.
pub const SINGLE_DOCUMENT: &str = "AWS-RunShellScript";
/// ListCommandInvocations' largest `MaxResults`.
pub const LIST_MAX_RESULTS: usize = 50;
/// 2024-05-14T09:00:00.000Z in epoch milliseconds (REQUESTED_AT is 09:12:31.291).
const NINE_AM_MS: u64 = REQUESTED_AT_MS - 751_291;

/// Statuses in which a step or an invocation is not over.
pub fn is_running(status: &str) -> bool {
    matches!(status, "Pending" | "InProgress" | "Delayed" | "Cancelling")
}

/// Status details of a step that never started on its node.
pub fn never_started(details: &str) -> bool {
    matches!(
        details,
        "Pending" | "Delayed" | "Undeliverable" | "Delivery Timed Out"
    )
}

/// `(Status, StatusDetails)` pairs.
pub type State = (String, String);

/// A CancelCommand that covers an instance: the round it came in, when, and how long the
/// instance then shows Cancelling.
#[derive(Clone, Copy, Debug)]
pub struct CancelMark {
    pub round: usize,
    pub at: Instant,
    pub cancelling: Duration,
}

fn pair(status: &str, details: &str) -> State {
    (status.to_owned(), details.to_owned())
}

/// When step `index` (0-based) started: `2024-05-14T09:<11 + index>:05.125Z`.
pub fn step_start(index: usize) -> String {
    format!("2024-05-14T09:{:02}:05.125Z", 11 + index)
}

/// When step `index` (0-based) ended: `2024-05-14T09:<11 + index>:45.875Z`.
pub fn step_end(index: usize) -> String {
    format!("2024-05-14T09:{:02}:45.875Z", 11 + index)
}

fn step_start_ms(index: usize) -> u64 {
    NINE_AM_MS + (11 + index as u64) * 60_000 + 5_125
}

fn step_end_ms(index: usize) -> u64 {
    NINE_AM_MS + (11 + index as u64) * 60_000 + 45_875
}

// ---------------------------------------------------------------------------------------------
// Steps, instances, the world
// ---------------------------------------------------------------------------------------------

/// One step of a document on one instance.
#[derive(Clone, Debug)]
pub struct StepSpec {
    pub name: String,
    pub stdout: String,
    pub stderr: String,
    /// `(from round, Status, StatusDetails)`, sorted; Pending before the first.
    pub states: Vec<(usize, String, String)>,
    /// ResponseCode once it ended; `None`: 0 for Success, -1 for Cancelled and what never
    /// started, 1 otherwise.
    pub code: Option<i64>,
    /// `(n, lag)`: the first `n` GetCommandInvocation calls naming this step (`PluginName`)
    /// made once it has ended are answered as `lag` says (its record lags the listing).
    pub lag: Option<(usize, Lag)>,
}

/// How GetCommandInvocation answers for a step whose record lags the listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lag {
    /// The step still InProgress: started, not ended, no output, ResponseCode -1.
    Running,
    /// `InvalidPluginName`.
    InvalidPluginName,
    /// `InvocationDoesNotExist`.
    DoesNotExist,
}

impl Lag {
    pub const ALL: [Lag; 3] = [Lag::Running, Lag::InvalidPluginName, Lag::DoesNotExist];
}

impl StepSpec {
    /// Success from round 1, printing `<name>: done` on stdout.
    pub fn new(name: &str) -> StepSpec {
        StepSpec {
            name: name.to_owned(),
            stdout: format!("{name}: done\n"),
            stderr: String::new(),
            states: vec![(1, "Success".into(), "Success".into())],
            code: None,
            lag: None,
        }
    }

    pub fn output(mut self, stdout: &str, stderr: &str) -> StepSpec {
        self.stdout = stdout.to_owned();
        self.stderr = stderr.to_owned();
        self
    }

    /// Replaces the timeline: `(from round, Status, StatusDetails)`.
    pub fn states(mut self, states: &[(usize, &str, &str)]) -> StepSpec {
        self.states = states
            .iter()
            .map(|(r, s, d)| (*r, (*s).to_owned(), (*d).to_owned()))
            .collect();
        self.states.sort_by_key(|(r, _, _)| *r);
        self
    }

    /// InProgress from round 1 (when `round` > 1), in this terminal state from `round` on.
    pub fn ends_at(self, round: usize, (status, details): (&str, &str)) -> StepSpec {
        if round > 1 {
            self.states(&[(1, "InProgress", "InProgress"), (round, status, details)])
        } else {
            self.states(&[(1, status, details)])
        }
    }

    /// Success from `round` on (InProgress before).
    pub fn succeeds_at(self, round: usize) -> StepSpec {
        self.ends_at(round, ("Success", "Success"))
    }

    /// Failed with this ResponseCode from `round` on (InProgress before).
    pub fn fails_at(self, round: usize, code: i64) -> StepSpec {
        self.ends_at(round, ("Failed", "Failed")).code(code)
    }

    /// Pending until `start`, InProgress until `end`, then in `state`.
    pub fn runs(self, start: usize, end: usize, (status, details): (&str, &str)) -> StepSpec {
        self.states(&[(start, "InProgress", "InProgress"), (end, status, details)])
    }

    /// InProgress from round 1 on, never ending.
    pub fn never_ends(self) -> StepSpec {
        self.states(&[(1, "InProgress", "InProgress")])
    }

    /// Pending forever.
    pub fn pending(self) -> StepSpec {
        self.states(&[])
    }

    pub fn code(mut self, code: i64) -> StepSpec {
        self.code = Some(code);
        self
    }

    /// The first `n` GetCommandInvocation calls naming this step once it has ended are
    /// answered as `lag` (in a single invocation's wait, `n` = 1 is one more round).
    pub fn lags(mut self, n: usize, lag: Lag) -> StepSpec {
        self.lag = Some((n, lag));
        self
    }

    /// Its scripted state at `round`.
    pub fn scripted_at(&self, round: usize) -> State {
        self.states
            .iter()
            .rfind(|(r, _, _)| *r <= round)
            .map_or_else(|| pair("Pending", "Pending"), |(_, s, d)| pair(s, d))
    }

    /// Its state at `round`, now, given the cancellation that covers it, if any.
    pub fn state_at(&self, round: usize, cancel: Option<CancelMark>) -> State {
        if let Some(c) = cancel
            && is_running(&self.scripted_at(c.round).0)
        {
            return if c.at.elapsed() < c.cancelling {
                pair("Cancelling", "Cancelling")
            } else {
                pair("Cancelled", "Cancelled")
            };
        }
        self.scripted_at(round)
    }

    /// ResponseCode in this state.
    pub fn response_code(&self, (status, details): &State) -> i64 {
        if is_running(status) || never_started(details) {
            return -1;
        }
        match (self.code, status.as_str()) {
            (Some(code), _) => code,
            (None, "Success") => 0,
            (None, "Cancelled") => -1,
            (None, _) => 1,
        }
    }
}

/// One instance the command ran on: a document's steps, and when it is visible.
#[derive(Clone, Debug)]
pub struct MultiInstance {
    pub instance_id: String,
    pub document_name: String,
    pub steps: Vec<StepSpec>,
    /// Listed and found from this round on (InvocationDoesNotExist before).
    pub visible_from: usize,
    /// Before this round, ListCommandInvocations leaves it out (while GetCommandInvocation
    /// already finds it).
    pub listed_from: usize,
    /// Before this round, a detailed listing shows `"CommandPlugins": []`.
    pub plugins_listed_from: usize,
    /// Before this round, GetCommandInvocation without a PluginName answers InvalidPluginName
    /// even for a one-step document.
    pub invalid_plugin_name_until: usize,
}

impl MultiInstance {
    /// These steps, in the document's order; [`MULTI_DOCUMENT`] with several steps,
    /// [`SINGLE_DOCUMENT`] with one.
    pub fn new(instance_id: impl Into<String>, steps: Vec<StepSpec>) -> MultiInstance {
        assert!(!steps.is_empty(), "a document has at least one step");
        MultiInstance {
            instance_id: instance_id.into(),
            document_name: if steps.len() > 1 {
                MULTI_DOCUMENT
            } else {
                SINGLE_DOCUMENT
            }
            .to_owned(),
            steps,
            visible_from: 1,
            listed_from: 1,
            plugins_listed_from: 1,
            invalid_plugin_name_until: 0,
        }
    }

    /// One `aws:runShellScript` step.
    pub fn single(instance_id: impl Into<String>, step: StepSpec) -> MultiInstance {
        let mut step = step;
        step.name = "aws:runShellScript".into();
        MultiInstance::new(instance_id, vec![step])
    }

    pub fn visible_from(mut self, round: usize) -> MultiInstance {
        self.visible_from = round;
        self
    }

    pub fn listed_from(mut self, round: usize) -> MultiInstance {
        self.listed_from = round;
        self
    }

    pub fn plugins_listed_from(mut self, round: usize) -> MultiInstance {
        self.plugins_listed_from = round;
        self
    }

    pub fn invalid_plugin_name_until(mut self, round: usize) -> MultiInstance {
        self.invalid_plugin_name_until = round;
        self
    }

    pub fn document(mut self, name: &str) -> MultiInstance {
        self.document_name = name.to_owned();
        self
    }

    pub fn step_names(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.name.clone()).collect()
    }

    pub fn is_visible_at(&self, round: usize) -> bool {
        round >= self.visible_from
    }

    pub fn is_listed_at(&self, round: usize) -> bool {
        self.is_visible_at(round) && round >= self.listed_from
    }

    /// The steps' states at `round`.
    pub fn step_states(&self, round: usize, cancel: Option<CancelMark>) -> Vec<State> {
        self.steps
            .iter()
            .map(|s| s.state_at(round, cancel))
            .collect()
    }

    /// The invocation's `(Status, StatusDetails)` at `round`, from its steps.
    pub fn overall_at(&self, round: usize, cancel: Option<CancelMark>) -> State {
        let states = self.step_states(round, cancel);
        if states.iter().all(|(s, _)| s == "Pending") {
            return pair("Pending", "Pending");
        }
        if states.iter().any(|(s, _)| s == "Cancelling") {
            return pair("Cancelling", "Cancelling");
        }
        if states.iter().any(|(s, _)| is_running(s)) {
            return pair("InProgress", "InProgress");
        }
        if states.iter().all(|(s, _)| s == "Success") {
            return pair("Success", "Success");
        }
        for wanted in ["Failed", "TimedOut"] {
            if let Some(state) = states.iter().find(|(s, _)| s == wanted) {
                return state.clone();
            }
        }
        pair("Cancelled", "Cancelled")
    }

    /// The overall state once everything scripted happened (no cancellation).
    pub fn final_overall(&self) -> State {
        self.overall_at(usize::MAX, None)
    }

    /// The GetCommandInvocation body of step `index` at `round`.
    pub fn get_body(
        &self,
        command_id: &str,
        index: usize,
        round: usize,
        cancel: Option<CancelMark>,
    ) -> Value {
        let state = self.steps[index].state_at(round, cancel);
        self.body_in(command_id, index, state)
    }

    /// The GetCommandInvocation body of step `index` in this state.
    pub fn body_in(&self, command_id: &str, index: usize, state: State) -> Value {
        let step = &self.steps[index];
        let (status, details) = &state;
        let running = is_running(status);
        let started = !never_started(details) && status != "Pending";
        let (stdout, stderr) = if running {
            ("", "")
        } else {
            (step.stdout.as_str(), step.stderr.as_str())
        };
        json!({
            "CommandId": command_id,
            "InstanceId": self.instance_id,
            "Comment": "",
            "DocumentName": self.document_name,
            "DocumentVersion": "$DEFAULT",
            "PluginName": step.name,
            "ResponseCode": step.response_code(&state),
            "ExecutionStartDateTime": if started { step_start(index) } else { String::new() },
            "ExecutionElapsedTime": if started && !running { "PT40.75S" } else { "" },
            "ExecutionEndDateTime": if started && !running { step_end(index) } else { String::new() },
            "Status": status,
            "StatusDetails": details,
            "StandardOutputContent": stdout,
            "StandardOutputUrl": "",
            "StandardErrorContent": stderr,
            "StandardErrorUrl": "",
            "CloudWatchOutputConfig": {
                "CloudWatchLogGroupName": "",
                "CloudWatchOutputEnabled": false
            }
        })
    }

    /// Every step's GetCommandInvocation body once everything scripted happened, in the
    /// document's order.
    pub fn final_get_bodies(&self, command_id: &str) -> Vec<Value> {
        (0..self.steps.len())
            .map(|i| self.get_body(command_id, i, usize::MAX, None))
            .collect()
    }

    /// The ListCommandInvocations record at `round`, with `CommandPlugins` (the caller drops
    /// them without Details).
    pub fn listed_record(
        &self,
        command_id: &str,
        round: usize,
        cancel: Option<CancelMark>,
    ) -> Value {
        let (status, details) = self.overall_at(round, cancel);
        let mut record = listed_invocation(&self.instance_id, &status, &details, "");
        record["CommandId"] = json!(command_id);
        record["DocumentName"] = json!(self.document_name);
        let plugins: Vec<Value> = if round < self.plugins_listed_from {
            Vec::new()
        } else {
            self.steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    let state = step.state_at(round, cancel);
                    let (status, details) = &state;
                    let running = is_running(status);
                    let output: String = if running {
                        String::new()
                    } else {
                        format!("{}{}", step.stdout, step.stderr)
                            .chars()
                            .take(2_500)
                            .collect()
                    };
                    let mut plugin = json!({
                        "Name": step.name,
                        "Status": status,
                        "StatusDetails": details,
                        "ResponseCode": step.response_code(&state),
                        "Output": output,
                        "StandardOutputUrl": "",
                        "StandardErrorUrl": "",
                        "OutputS3Region": "us-east-1",
                        "OutputS3BucketName": "",
                        "OutputS3KeyPrefix": ""
                    });
                    if !never_started(details) && status != "Pending" {
                        plugin["ResponseStartDateTime"] = json!(epoch_ms(step_start_ms(i)));
                        if !running {
                            plugin["ResponseFinishDateTime"] = json!(epoch_ms(step_end_ms(i)));
                        }
                    }
                    plugin
                })
                .collect()
        };
        record["CommandPlugins"] = Value::Array(plugins);
        record
    }
}

/// One command ([`CMD_ID`] unless [`MultiWorld::command_id`] says otherwise) and the
/// instances it runs on, in listing order.
#[derive(Clone, Debug)]
pub struct MultiWorld {
    pub command_id: String,
    pub instances: Vec<MultiInstance>,
    /// The command was sent to targets (tags) rather than instance IDs.
    pub targets: bool,
    pub cancel_delay: Duration,
    pub cancelling_for: Duration,
}

impl MultiWorld {
    pub fn new(instances: Vec<MultiInstance>) -> MultiWorld {
        MultiWorld {
            command_id: CMD_ID.to_owned(),
            instances,
            targets: false,
            cancel_delay: Duration::ZERO,
            cancelling_for: Duration::from_millis(300),
        }
    }

    /// One instance.
    pub fn one(instance: MultiInstance) -> MultiWorld {
        MultiWorld::new(vec![instance])
    }

    pub fn command_id(mut self, id: &str) -> MultiWorld {
        self.command_id = id.to_owned();
        self
    }

    /// The command was sent with `Targets` (tag:role=web) and no `InstanceIds`.
    pub fn sent_to_targets(mut self) -> MultiWorld {
        self.targets = true;
        self
    }

    /// CancelCommand is answered after this long.
    pub fn cancel_delay(mut self, delay: Duration) -> MultiWorld {
        self.cancel_delay = delay;
        self
    }

    /// How long a cancelled invocation shows Cancelling before Cancelled.
    pub fn cancelling_for(mut self, d: Duration) -> MultiWorld {
        self.cancelling_for = d;
        self
    }

    pub fn instance(&self, instance_id: &str) -> &MultiInstance {
        self.instances
            .iter()
            .find(|i| i.instance_id == instance_id)
            .unwrap_or_else(|| panic!("{instance_id} is not in the world"))
    }

    pub fn instance_ids(&self) -> Vec<String> {
        self.instances
            .iter()
            .map(|i| i.instance_id.clone())
            .collect()
    }

    /// The instance IDs sorted, as a fleet wait prints them.
    pub fn sorted_instance_ids(&self) -> Vec<String> {
        let mut ids = self.instance_ids();
        ids.sort();
        ids
    }

    /// The `Command` record as ListCommands (and, with dates as strings, send-command) gives it,
    /// with these overall states for the targeted instances.
    fn command_record(&self, states: &[State]) -> Value {
        let status = if states.is_empty() || states.iter().all(|(s, _)| s == "Pending") {
            pair("Pending", "Pending")
        } else if states.iter().any(|(s, _)| s == "Cancelling") {
            pair("Cancelling", "Cancelling")
        } else if states.iter().any(|(s, _)| is_running(s)) {
            pair("InProgress", "In Progress")
        } else if states.iter().all(|(s, _)| s == "Success") {
            pair("Success", "Success")
        } else if states.iter().any(|(s, _)| s == "Failed") {
            pair("Failed", "Failed")
        } else if let Some(s) = states.iter().find(|(s, _)| s == "TimedOut") {
            s.clone()
        } else {
            pair("Cancelled", "Cancelled")
        };
        let count = |f: &dyn Fn(&State) -> bool| states.iter().filter(|s| f(s)).count();
        let (instance_ids, targets) = if self.targets {
            (json!([]), json!([{ "Key": "tag:role", "Values": ["web"] }]))
        } else {
            (json!(self.instance_ids()), json!([]))
        };
        json!({
            "CommandId": self.command_id,
            "DocumentName": self.instances.first().map_or(SINGLE_DOCUMENT, |i| i.document_name.as_str()),
            "DocumentVersion": "$DEFAULT",
            "Comment": "",
            "ExpiresAfter": epoch_ms(REQUESTED_AT_MS + 7_200_000),
            "Parameters": {},
            "InstanceIds": instance_ids,
            "Targets": targets,
            "RequestedDateTime": epoch_ms(REQUESTED_AT_MS),
            "Status": status.0,
            "StatusDetails": status.1,
            "OutputS3Region": "us-east-1",
            "OutputS3BucketName": "",
            "OutputS3KeyPrefix": "",
            "MaxConcurrency": "50",
            "MaxErrors": "0",
            "TargetCount": states.len(),
            "CompletedCount": count(&|(s, _)| !is_running(s)),
            "ErrorCount": count(&|(_, d)| d == "Failed" || d == "Execution Timed Out"),
            "DeliveryTimedOutCount": count(&|(_, d)| d == "Delivery Timed Out"),
            "ServiceRole": "",
            "NotificationConfig": {
                "NotificationArn": "",
                "NotificationEvents": [],
                "NotificationType": ""
            },
            "CloudWatchOutputConfig": {
                "CloudWatchLogGroupName": "",
                "CloudWatchOutputEnabled": false
            },
            "TimeoutSeconds": 3600,
            "TriggeredAlarms": []
        })
    }

    /// What `aws ssm send-command` prints for this command (`{"Command": {...}}`, Pending,
    /// dates as the aws CLI writes them).
    pub fn send_command_output(&self) -> Value {
        let pending = vec![pair("Pending", "Pending"); self.instances.len()];
        let mut command = self.command_record(&pending);
        command["TargetCount"] = json!(0);
        command["CompletedCount"] = json!(0);
        command["RequestedDateTime"] = json!("2024-05-14T09:12:31.291000+00:00");
        command["ExpiresAfter"] = json!("2024-05-14T11:12:31.291000+00:00");
        command["Parameters"] = json!({ "commands": ["uptime"] });
        json!({ "Command": command })
    }
}

// ---------------------------------------------------------------------------------------------
// Output as the aws CLI (and ssmres) prints it
// ---------------------------------------------------------------------------------------------

/// GetCommandInvocation's members in the service model's order, the order in which the aws
/// CLI (and `ssmres get`) prints them.
pub const GET_SHAPE_ORDER: [&str; 17] = [
    "CommandId",
    "InstanceId",
    "Comment",
    "DocumentName",
    "DocumentVersion",
    "PluginName",
    "ResponseCode",
    "ExecutionStartDateTime",
    "ExecutionElapsedTime",
    "ExecutionEndDateTime",
    "Status",
    "StatusDetails",
    "StandardOutputContent",
    "StandardOutputUrl",
    "StandardErrorContent",
    "StandardErrorUrl",
    "CloudWatchOutputConfig",
];

/// A GetCommandInvocation body whose keys serialise in [`GET_SHAPE_ORDER`].
pub struct AsPrinted<'a>(pub &'a Value);

impl Serialize for AsPrinted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let obj = self.0.as_object().expect("an invocation is an object");
        assert!(
            obj.keys().all(|k| GET_SHAPE_ORDER.contains(&k.as_str())),
            "a key outside the model in {obj:?}"
        );
        let mut map = serializer.serialize_map(Some(obj.len()))?;
        for key in GET_SHAPE_ORDER {
            if let Some(v) = obj.get(key) {
                map.serialize_entry(key, v)?;
            }
        }
        map.end()
    }
}

/// A value as the aws CLI prints it: 4-space indent, raw UTF-8, a newline.
pub fn pretty(value: &impl Serialize) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut serializer).unwrap();
    out.push(b'\n');
    String::from_utf8(out).unwrap()
}

/// What `ssmres get -o json` prints for this GetCommandInvocation body.
pub fn printed_object(body: &Value) -> String {
    pretty(&AsPrinted(body))
}

/// What `-o json` prints for several bodies: one array, in this order.
pub fn printed_array(bodies: &[Value]) -> String {
    let printed: Vec<AsPrinted> = bodies.iter().map(AsPrinted).collect();
    pretty(&printed)
}

/// What `-o jsonl` prints for several bodies: one compact object per line.
pub fn printed_lines(bodies: &[Value]) -> String {
    bodies
        .iter()
        .map(|b| serde_json::to_string(&AsPrinted(b)).unwrap() + "\n")
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// One call as the world answered it.
#[derive(Clone, Debug)]
pub struct MultiCall {
    pub target: String,
    pub body: Value,
    /// The round it was answered in (0: before the first round, answered from round 1).
    pub round: usize,
    /// 200, or the error code answered.
    pub answer: String,
    /// Answered as the step's [`Lag`] says rather than with its record.
    pub lagged: bool,
    pub at: Instant,
}

impl MultiCall {
    pub fn is(&self, target: &str) -> bool {
        self.target == target
    }

    pub fn plugin_name(&self) -> Option<&str> {
        self.body.get("PluginName").and_then(Value::as_str)
    }

    pub fn instance_id(&self) -> Option<&str> {
        self.body.get("InstanceId").and_then(Value::as_str)
    }

    pub fn details(&self) -> bool {
        self.body.get("Details") == Some(&json!(true))
    }

    /// A short description: `Get`, `Get(step)`, `List`, `ListCommands`, `Cancel`.
    pub fn short(&self) -> String {
        match self.target.as_str() {
            GET_COMMAND_INVOCATION => match self.plugin_name() {
                Some(p) => format!("Get({p})"),
                None => "Get".into(),
            },
            LIST_COMMAND_INVOCATIONS => "List".into(),
            LIST_COMMANDS => "ListCommands".into(),
            CANCEL_COMMAND => "Cancel".into(),
            other => other.to_owned(),
        }
    }
}

/// What a call leaves behind for the round counting of the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Followup {
    None,
    /// The next ListCommandInvocations belongs to the same poll.
    List,
    /// The next this many GetCommandInvocations with a PluginName belong to the same poll.
    StepGets(usize),
}

struct Inner {
    round: usize,
    by_list_commands: bool,
    followup: Followup,
    /// `(round received, instance IDs; None: every instance)`.
    cancels: Vec<(usize, Instant, Option<Vec<String>>)>,
    /// Lagged answers given so far, by `(instance ID, step name)`.
    lagged: HashMap<(String, String), usize>,
    calls: Vec<MultiCall>,
}

struct Shared {
    world: MultiWorld,
    inner: Mutex<Inner>,
}

/// The fake endpoint serving a [`MultiWorld`]. Shuts down when dropped.
pub struct FakeMulti {
    fake: FakeSsm,
    shared: Arc<Shared>,
}

impl Deref for FakeMulti {
    type Target = FakeSsm;

    fn deref(&self) -> &FakeSsm {
        &self.fake
    }
}

impl FakeMulti {
    pub fn start(world: MultiWorld) -> FakeMulti {
        let shared = Arc::new(Shared {
            world,
            inner: Mutex::new(Inner {
                round: 0,
                by_list_commands: false,
                followup: Followup::None,
                cancels: Vec::new(),
                lagged: HashMap::new(),
                calls: Vec::new(),
            }),
        });
        let handler_shared = Arc::clone(&shared);
        let handler: Handler =
            Arc::new(move |target: &str, body: &Value| handler_shared.answer(target, body));
        FakeMulti {
            fake: FakeSsm::with_handler(handler),
            shared,
        }
    }

    pub fn world(&self) -> &MultiWorld {
        &self.shared.world
    }

    /// Rounds begun so far.
    pub fn round(&self) -> usize {
        self.shared.inner.lock().unwrap().round
    }

    /// Every call answered so far, in order.
    pub fn calls(&self) -> Vec<MultiCall> {
        self.shared.inner.lock().unwrap().calls.clone()
    }

    pub fn calls_to(&self, target: &str) -> Vec<MultiCall> {
        self.calls().into_iter().filter(|c| c.is(target)).collect()
    }

    /// The calls, shortened ([`MultiCall::short`]), grouped by round: `[(round, calls)]`.
    pub fn calls_by_round(&self) -> Vec<(usize, Vec<String>)> {
        let mut rounds: Vec<(usize, Vec<String>)> = Vec::new();
        for call in self.calls() {
            match rounds.last_mut() {
                Some((r, calls)) if *r == call.round => calls.push(call.short()),
                _ => rounds.push((call.round, vec![call.short()])),
            }
        }
        rounds
    }

    /// The calls answered as a step's [`Lag`] says.
    pub fn lagged_calls(&self) -> Vec<MultiCall> {
        self.calls().into_iter().filter(|c| c.lagged).collect()
    }

    /// The CancelCommand request bodies received so far.
    pub fn cancel_requests(&self) -> Vec<Value> {
        self.calls_to(CANCEL_COMMAND)
            .into_iter()
            .map(|c| c.body)
            .collect()
    }

    /// Waits until `n` calls to `target` arrived; false on timeout.
    pub fn wait_for(&self, target: &str, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.calls_to(target).len() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until round `n` began; false on timeout.
    pub fn wait_for_round(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.round() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

fn error(code: &str, message: &str) -> Step {
    Step::Error(400, code.into(), message.into())
}

fn validation(message: String) -> Step {
    error("ValidationException", &message)
}

fn serialization(message: String) -> Step {
    error("SerializationException", &message)
}

fn string_field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Step> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(serialization(format!(
            "{name} must be a string, got {other}"
        ))),
    }
}

fn check_command_id(id: &str) -> Result<(), Step> {
    if id.chars().count() != 36 {
        return Err(validation(format!(
            "1 validation error detected: Value '{id}' at 'commandId' failed to satisfy \
             constraint: Member must have length equal to 36"
        )));
    }
    Ok(())
}

fn encode_token(offset: usize) -> String {
    format!("AAEAAX{offset:06}mUlTiEXAMPLE==")
}

fn decode_token(token: &str) -> Option<usize> {
    token
        .strip_prefix("AAEAAX")?
        .strip_suffix("mUlTiEXAMPLE==")?
        .parse()
        .ok()
}

/// What one answer is, for the call log and the round counting.
struct Answer {
    step: Step,
    code: String,
    followup: Followup,
    lagged: bool,
}

impl Answer {
    fn ok(value: Value) -> Answer {
        Answer {
            step: Step::ok(&value),
            code: "200".into(),
            followup: Followup::None,
            lagged: false,
        }
    }

    fn err(step: Step) -> Answer {
        let code = match &step {
            Step::Error(_, code, _) => code.clone(),
            _ => "error".into(),
        };
        Answer {
            step,
            code,
            followup: Followup::None,
            lagged: false,
        }
    }

    fn then(mut self, followup: Followup) -> Answer {
        self.followup = followup;
        self
    }

    fn lagging(mut self) -> Answer {
        self.lagged = true;
        self
    }
}

impl Shared {
    fn cancel_mark(&self, inner: &Inner, instance_id: &str) -> Option<CancelMark> {
        inner
            .cancels
            .iter()
            .find(|(_, _, ids)| {
                ids.as_ref()
                    .is_none_or(|ids| ids.iter().any(|i| i == instance_id))
            })
            .map(|(round, at, _)| CancelMark {
                round: *round,
                at: *at,
                cancelling: self.world.cancelling_for,
            })
    }

    fn answer(&self, target: &str, body: &Value) -> Step {
        let mut inner = self.inner.lock().unwrap();
        // Rounds.
        if target == LIST_COMMANDS {
            inner.by_list_commands = true;
            inner.round += 1;
        } else if !inner.by_list_commands && target != CANCEL_COMMAND {
            let has_plugin = body.get("PluginName").and_then(Value::as_str).is_some();
            let follows = match (inner.followup, target) {
                (Followup::List, LIST_COMMAND_INVOCATIONS) => true,
                (Followup::StepGets(_), GET_COMMAND_INVOCATION) => has_plugin,
                _ => false,
            };
            if !follows {
                inner.round += 1;
                inner.followup = Followup::None;
            }
        }
        let round = inner.round;
        let state_round = round.max(1);

        let answer = match body.as_object() {
            None => Answer::err(serialization(
                "the request body is not a JSON object".into(),
            )),
            Some(obj) => match target {
                GET_COMMAND_INVOCATION => self.get(&mut inner, obj, state_round),
                LIST_COMMAND_INVOCATIONS => self.list(&inner, obj, state_round),
                LIST_COMMANDS => self.list_commands(&inner, obj, state_round),
                CANCEL_COMMAND => self.cancel(&mut inner, obj, round),
                other => Answer::err(error(
                    "UnknownOperationException",
                    &format!("the fake multi-step endpoint does not implement {other:?}"),
                )),
            },
        };
        // The follow-ups this answer announces; a step fetch uses one up.
        if !inner.by_list_commands && target != CANCEL_COMMAND {
            inner.followup = match (answer.followup, inner.followup, target) {
                (Followup::None, Followup::StepGets(n), GET_COMMAND_INVOCATION) if n > 1 => {
                    Followup::StepGets(n - 1)
                }
                (f, _, _) => f,
            };
        }
        inner.calls.push(MultiCall {
            target: target.to_owned(),
            body: body.clone(),
            round,
            answer: answer.code.clone(),
            lagged: answer.lagged,
            at: Instant::now(),
        });
        answer.step
    }

    fn get(&self, inner: &mut Inner, body: &Map<String, Value>, round: usize) -> Answer {
        let fields = (|| {
            let command_id = string_field(body, "CommandId")?;
            let instance_id = string_field(body, "InstanceId")?;
            let plugin = string_field(body, "PluginName")?;
            Ok::<_, Step>((command_id, instance_id, plugin))
        })();
        let (command_id, instance_id, plugin) = match fields {
            Ok(f) => f,
            Err(step) => return Answer::err(step),
        };
        let (Some(command_id), Some(instance_id)) = (command_id, instance_id) else {
            return Answer::err(validation("CommandId and InstanceId are required".into()));
        };
        if let Err(step) = check_command_id(command_id) {
            return Answer::err(step);
        }
        let world = &self.world;
        let not_found = || Answer::err(error("InvocationDoesNotExist", ""));
        if command_id != world.command_id {
            return not_found();
        }
        let Some(instance) = world
            .instances
            .iter()
            .find(|i| i.instance_id == instance_id)
        else {
            return not_found();
        };
        if !instance.is_visible_at(round) {
            return not_found();
        }
        let invalid = || Answer::err(error("InvalidPluginName", "")).then(Followup::List);
        let index = match plugin {
            Some(name) => match instance.steps.iter().position(|s| s.name == name) {
                Some(i) => i,
                None => return invalid(),
            },
            None if instance.steps.len() > 1 || round < instance.invalid_plugin_name_until => {
                return invalid();
            }
            None => 0,
        };
        let cancel = self.cancel_mark(inner, instance_id);
        let step = &instance.steps[index];
        if plugin.is_some()
            && let Some((n, lag)) = step.lag
            && !is_running(&step.state_at(round, cancel).0)
        {
            let served = inner
                .lagged
                .entry((instance.instance_id.clone(), step.name.clone()))
                .or_default();
            if *served < n {
                *served += 1;
                return match lag {
                    Lag::Running => Answer::ok(instance.body_in(
                        command_id,
                        index,
                        pair("InProgress", "InProgress"),
                    )),
                    // Among a poll's step fetches the binary gives up that poll; asked for
                    // alone (--plugin-name) it lists next, as for any InvalidPluginName.
                    Lag::InvalidPluginName => {
                        let answer = Answer::err(error("InvalidPluginName", ""));
                        if matches!(inner.followup, Followup::StepGets(_)) {
                            answer
                        } else {
                            answer.then(Followup::List)
                        }
                    }
                    Lag::DoesNotExist => Answer::err(error("InvocationDoesNotExist", "")),
                }
                .lagging();
            }
        }
        Answer::ok(instance.get_body(command_id, index, round, cancel))
    }

    fn list(&self, inner: &Inner, body: &Map<String, Value>, round: usize) -> Answer {
        let fields = (|| {
            let command_id = string_field(body, "CommandId")?;
            let instance_id = string_field(body, "InstanceId")?;
            let token = string_field(body, "NextToken")?;
            let details = match body.get("Details") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(serialization(format!(
                        "Details must be a boolean, got {other}"
                    )));
                }
            };
            let size = match body.get("MaxResults") {
                None => LIST_MAX_RESULTS,
                Some(v) => match v.as_i64() {
                    Some(n) if (1..=LIST_MAX_RESULTS as i64).contains(&n) => n as usize,
                    _ => {
                        return Err(validation(format!(
                            "1 validation error detected: Value '{v}' at 'maxResults' failed \
                             to satisfy constraint: Member must have value between 1 and 50"
                        )));
                    }
                },
            };
            if let Some(id) = command_id {
                check_command_id(id)?;
            }
            let offset = match token.filter(|t| !t.is_empty()) {
                None => 0,
                Some(t) => decode_token(t).ok_or_else(|| {
                    error("InvalidNextToken", "The specified token is not valid.")
                })?,
            };
            Ok((command_id, instance_id, details, size, offset))
        })();
        let (command_id, instance_id, details, size, offset) = match fields {
            Ok(f) => f,
            Err(step) => return Answer::err(step),
        };
        let world = &self.world;
        let records: Vec<Value> = world
            .instances
            .iter()
            .filter(|_| command_id.is_none_or(|id| id == world.command_id))
            .filter(|i| instance_id.is_none_or(|id| id == i.instance_id))
            .filter(|i| i.is_listed_at(round))
            .map(|i| {
                let cancel = self.cancel_mark(inner, &i.instance_id);
                let mut record = i.listed_record(&world.command_id, round, cancel);
                if !details {
                    record.as_object_mut().unwrap().remove("CommandPlugins");
                }
                record
            })
            .collect();
        let start = offset.min(records.len());
        let end = (offset + size).min(records.len());
        let page = &records[start..end];
        // A detailed listing of one invocation that ended with several steps: its steps are
        // fetched next, in the same poll.
        let followup = match page {
            [one] if details && instance_id.is_some() => {
                let plugins = one["CommandPlugins"].as_array().map_or(0, Vec::len);
                let status = one["Status"].as_str().unwrap_or_default();
                if plugins > 1 && !is_running(status) {
                    Followup::StepGets(plugins)
                } else {
                    Followup::None
                }
            }
            _ => Followup::None,
        };
        let mut response = json!({ "CommandInvocations": page });
        if end < records.len() {
            response["NextToken"] = json!(encode_token(end));
        }
        Answer::ok(response).then(followup)
    }

    fn list_commands(&self, inner: &Inner, body: &Map<String, Value>, round: usize) -> Answer {
        let command_id = match string_field(body, "CommandId") {
            Ok(id) => id,
            Err(step) => return Answer::err(step),
        };
        if let Some(id) = command_id
            && let Err(step) = check_command_id(id)
        {
            return Answer::err(step);
        }
        let world = &self.world;
        let visible: Vec<&MultiInstance> = world
            .instances
            .iter()
            .filter(|i| i.is_visible_at(round))
            .collect();
        if visible.is_empty() || command_id.is_some_and(|id| id != world.command_id) {
            return Answer::ok(json!({ "Commands": [] }));
        }
        let states: Vec<State> = visible
            .iter()
            .map(|i| {
                let cancel = self.cancel_mark(inner, &i.instance_id);
                i.overall_at(round, cancel)
            })
            .collect();
        Answer::ok(json!({ "Commands": [world.command_record(&states)] }))
    }

    fn cancel(&self, inner: &mut Inner, body: &Map<String, Value>, round: usize) -> Answer {
        let command_id = match string_field(body, "CommandId") {
            Ok(Some(id)) => id,
            Ok(None) => {
                return Answer::err(validation(
                    "1 validation error detected: Value null at 'commandId' failed to satisfy \
                     constraint: Member must not be null"
                        .into(),
                ));
            }
            Err(step) => return Answer::err(step),
        };
        if let Err(step) = check_command_id(command_id) {
            return Answer::err(step);
        }
        let instance_ids = match body.get("InstanceIds") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let ids: Option<Vec<String>> = items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect();
                match ids {
                    Some(ids) => Some(ids),
                    None => {
                        return Answer::err(serialization(
                            "InstanceIds must be a list of strings".into(),
                        ));
                    }
                }
            }
            Some(other) => {
                return Answer::err(serialization(format!(
                    "InstanceIds must be a list, got {other}"
                )));
            }
        };
        if command_id != self.world.command_id {
            return Answer::err(error("InvalidCommandId", ""));
        }
        inner
            .cancels
            .push((round.max(1), Instant::now(), instance_ids));
        let mut answer = Answer::ok(json!({}));
        if !self.world.cancel_delay.is_zero() {
            answer.step = Step::delayed(self.world.cancel_delay, answer.step);
        }
        answer
    }
}
