//! A scripted maintenance-window world served by the fake SSM endpoint's engine
//! ([`FakeSsm::serve`]).
//!
//! One window execution ([`WINDOW_EXECUTION_ID`]) runs [`MwTask`]s (RUN_COMMAND, AUTOMATION,
//! LAMBDA), each with [`MwInvocation`]s (one per target). Their states are functions of the
//! round. A round starts with a GetMaintenanceWindowExecution call (a wait without --task-id
//! reads the window's status first), or with a first-page DescribeMaintenanceWindowExecution-
//! Tasks call (no NextToken) that does not directly follow a Get (a wait with --task-id, or no
//! wait): the tasks listing right after a Get belongs to the Get's round. The SDK's retries of
//! a faulted Get or first tasks page stay in the same round (the flip side: when the SDK gives
//! up retrying, the next such call is still counted in that round). Requests made before the
//! first round are answered from round 1.
//!
//! Answered as SSM answers them (AWS JSON 1.1, timestamps as epoch-seconds numbers, keys in
//! alphabetical order rather than the model's):
//! - `DescribeMaintenanceWindowExecutionTasks` `{WindowExecutionId, Filters?, MaxResults?,
//!   NextToken?}` → `{"WindowExecutionTaskIdentities": [...], "NextToken"?}`;
//! - `GetMaintenanceWindowExecution` `{WindowExecutionId}` → `{WindowExecutionId, TaskIds,
//!   Status, StatusDetails?, StartTime?, EndTime?}`;
//! - `DescribeMaintenanceWindowExecutionTaskInvocations` `{WindowExecutionId, TaskId,
//!   Filters?, MaxResults?, NextToken?}` → `{"WindowExecutionTaskInvocationIdentities": [...],
//!   "NextToken"?}`, the STATUS filter applied server-side;
//! - `ListCommandInvocations` and `GetCommandInvocation` for the commands of the RUN_COMMAND
//!   invocations (`ExecutionId` is the command ID), per instance and per step.
//!
//! Validated as SSM validates: IDs are UUIDs, `MaxResults` 10 to 100 for the window calls
//! (1 to 50 for ListCommandInvocations), filter key `STATUS` only with known upper-case
//! values, `NextToken`s opaque and tied to their query (not to `MaxResults`), unknown window
//! executions and tasks `DoesNotExistException`. Faults ([`Step`]s) can be scripted for any
//! page of any call, in any round or every round, for one task's listings, one command's
//! listing or one instance's GetCommandInvocation; answers can be delayed per call and round;
//! Every call is logged with its round and page ([`FakeSsm::calls`]).

use std::ops::Deref;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::fake_ssm::{
    Answer, Body, Call, FakeSsm, Incoming, REQUESTED_AT_MS, Script, Step, World, epoch_ms,
    fingerprint, fleet_instance_id, invocation, listed_invocation, page_response, serialization,
    validation,
};
pub use super::fake_ssm::{GET_COMMAND_INVOCATION, LIST_COMMAND_INVOCATIONS};

/// X-Amz-Target of DescribeMaintenanceWindowExecutionTasks: a first page starts a round when
/// it does not follow a GetMaintenanceWindowExecution.
pub const DESCRIBE_TASKS: &str = "AmazonSSM.DescribeMaintenanceWindowExecutionTasks";
/// X-Amz-Target of GetMaintenanceWindowExecution: a call that starts a round.
pub const GET_WINDOW_EXECUTION: &str = "AmazonSSM.GetMaintenanceWindowExecution";
/// X-Amz-Target of DescribeMaintenanceWindowExecutionTaskInvocations.
pub const DESCRIBE_INVOCATIONS: &str =
    "AmazonSSM.DescribeMaintenanceWindowExecutionTaskInvocations";

/// The window calls' `MaxResults` bounds.
pub const MW_MIN_RESULTS: usize = 10;
pub const MW_MAX_RESULTS: usize = 100;
/// ListCommandInvocations' largest `MaxResults`.
pub const LIST_MAX_RESULTS: usize = 50;

/// The window execution of every world.
pub const WINDOW_EXECUTION_ID: &str = "5a9b3c1d-7e2f-4a6b-8c9d-0e1f2a3b4c5d";
/// The window target every default invocation ran for.
pub const WINDOW_TARGET_ID: &str = "e3f0a1b2-6c5d-4e7f-9a8b-1234567890ab";
/// When the window execution started (2024-05-14T09:12:31.291Z), in epoch milliseconds.
pub const STARTED_AT_MS: u64 = REQUESTED_AT_MS;

pub const RUN_COMMAND: &str = "RUN_COMMAND";
pub const AUTOMATION: &str = "AUTOMATION";
pub const LAMBDA: &str = "LAMBDA";

/// Every maintenance window status.
pub const STATUSES: [&str; 8] = [
    "PENDING",
    "IN_PROGRESS",
    "SUCCESS",
    "FAILED",
    "TIMED_OUT",
    "CANCELLING",
    "CANCELLED",
    "SKIPPED_OVERLAPPING",
];

/// Statuses after which nothing changes.
pub fn is_terminal(status: &str) -> bool {
    matches!(
        status,
        "SUCCESS" | "FAILED" | "TIMED_OUT" | "CANCELLED" | "SKIPPED_OVERLAPPING"
    )
}

/// The task execution ID of task `t`.
pub fn task_execution_id(t: usize) -> String {
    format!("7a5c{t:04x}-3c2b-4d1e-8f00-a1b2c3d4e5f6")
}

/// The invocation ID of invocation `j` of task `t`.
pub fn invocation_id(t: usize, j: usize) -> String {
    format!("1c0e{t:04x}-{j:04x}-4a3b-9c8d-7e6f5a4b3c2d")
}

/// The command ID behind invocation `j` of RUN_COMMAND task `t`.
pub fn command_id(t: usize, j: usize) -> String {
    format!("c0de{t:04x}-{j:04x}-4e5f-8a9b-0c1d2e3f4a5b")
}

/// The automation execution ID behind invocation `j` of AUTOMATION task `t`.
pub fn automation_execution_id(t: usize, j: usize) -> String {
    format!("a0e0{t:04x}-{j:04x}-4b2c-9d3e-5f6a7b8c9d0e")
}

/// The Lambda request ID behind invocation `j` of LAMBDA task `t`.
pub fn lambda_request_id(t: usize, j: usize) -> String {
    format!("1a3b{t:04x}-{j:04x}-4c5d-8e9f-0a1b2c3d4e5f")
}

/// The instance a default RUN_COMMAND invocation `j` of task `t` ran on (its `k`-th).
pub fn instance_for(t: usize, j: usize, k: usize) -> String {
    fleet_instance_id(t * 0x10_0000 + j * 0x100 + k)
}

/// The state a [`States`] gives before any scripted change: Status, StatusDetails.
type State = (String, Option<String>);

/// A status that changes over rounds: `(from round, Status, StatusDetails)`, sorted by round;
/// before the first entry's round, the first entry holds.
#[derive(Clone, Debug, Default)]
pub struct States(Vec<(usize, String, Option<String>)>);

impl States {
    fn set(&mut self, round: usize, status: &str, details: Option<&str>) {
        let why = format!("{status} is not a maintenance window status");
        assert!(STATUSES.contains(&status), "{why}");
        self.0.retain(|(r, _, _)| *r != round);
        self.0
            .push((round, status.to_owned(), details.map(str::to_owned)));
        self.0.sort_by_key(|(r, _, _)| *r);
    }

    /// The state at `round`, `None` when nothing was scripted.
    pub fn at(&self, round: usize) -> Option<(&str, Option<&str>)> {
        let (_, s, d) = self
            .0
            .iter()
            .rfind(|(r, _, _)| *r <= round)
            .or(self.0.first())?;
        Some((s.as_str(), d.as_deref()))
    }

    /// The last scripted state.
    pub fn last(&self) -> Option<(&str, Option<&str>)> {
        self.0.last().map(|(_, s, d)| (s.as_str(), d.as_deref()))
    }
}

/// One step of a command on one instance: its name and what it printed.
#[derive(Clone, Debug)]
pub struct CmdPlugin {
    pub name: String,
    pub stdout: String,
    pub stderr: String,
}

/// One instance a RUN_COMMAND invocation's command ran on.
#[derive(Clone, Debug)]
pub struct CmdInstance {
    pub instance_id: String,
    pub plugins: Vec<CmdPlugin>,
}

impl CmdInstance {
    /// One `aws:runShellScript` step printing `hello from <instance id>`.
    pub fn new(instance_id: impl Into<String>) -> CmdInstance {
        let instance_id = instance_id.into();
        CmdInstance {
            plugins: vec![CmdPlugin {
                name: "aws:runShellScript".into(),
                stdout: format!("hello from {instance_id}\n"),
                stderr: String::new(),
            }],
            instance_id,
        }
    }

    /// The output of its only step.
    pub fn output(mut self, stdout: &str, stderr: &str) -> CmdInstance {
        assert_eq!(self.plugins.len(), 1, "output() is for one-step commands");
        self.plugins[0].stdout = stdout.to_owned();
        self.plugins[0].stderr = stderr.to_owned();
        self
    }

    /// These steps instead: `(name, stdout, stderr)`.
    pub fn steps(mut self, steps: &[(&str, &str, &str)]) -> CmdInstance {
        self.plugins = steps
            .iter()
            .map(|(name, stdout, stderr)| CmdPlugin {
                name: (*name).to_owned(),
                stdout: (*stdout).to_owned(),
                stderr: (*stderr).to_owned(),
            })
            .collect();
        self
    }

    /// `(Status, StatusDetails)` on this instance while the task invocation is in `mw_status`
    /// (SUCCESS → Success, FAILED → Failed, …).
    pub fn state_for(&self, mw_status: &str) -> (&'static str, &'static str) {
        match mw_status {
            "PENDING" => ("Pending", "Pending"),
            "IN_PROGRESS" => ("InProgress", "InProgress"),
            "CANCELLING" => ("Cancelling", "Cancelling"),
            "SUCCESS" => ("Success", "Success"),
            "FAILED" => ("Failed", "Failed"),
            "TIMED_OUT" => ("TimedOut", "Execution Timed Out"),
            _ => ("Cancelled", "Cancelled"),
        }
    }

    fn document_name(&self) -> &'static str {
        if self.plugins.len() > 1 {
            "Custom-TwoSteps"
        } else {
            "AWS-RunShellScript"
        }
    }

    /// Its ListCommandInvocations record for `command_id` while the task invocation is in
    /// `mw_status` (`CommandPlugins` with every step; the caller drops it without Details).
    pub fn listed_record(&self, command_id: &str, mw_status: &str) -> Value {
        let (status, details) = self.state_for(mw_status);
        // Output only once the task invocation ended, truncated as SSM truncates it.
        let limit = if is_terminal(mw_status) { 2_500 } else { 0 };
        let mut record = listed_invocation(&self.instance_id, status, details, "");
        let template = record["CommandPlugins"][0].clone();
        record["CommandId"] = json!(command_id);
        record["DocumentName"] = json!(self.document_name());
        record["CommandPlugins"] = Value::Array(
            self.plugins
                .iter()
                .map(|p| {
                    let mut plugin = template.clone();
                    plugin["Name"] = json!(p.name);
                    let output: String = format!("{}{}", p.stdout, p.stderr)
                        .chars()
                        .take(limit)
                        .collect();
                    plugin["Output"] = json!(output);
                    plugin
                })
                .collect(),
        );
        record
    }

    /// Its GetCommandInvocation body for step `plugin` of `command_id` while the task
    /// invocation is in `mw_status` (output only once it ended).
    pub fn get_body(&self, command_id: &str, plugin: &CmdPlugin, mw_status: &str) -> Value {
        let (status, details) = self.state_for(mw_status);
        let (stdout, stderr) = if is_terminal(mw_status) {
            (plugin.stdout.as_str(), plugin.stderr.as_str())
        } else {
            ("", "")
        };
        let mut body = invocation(status, details, stdout, stderr);
        body["CommandId"] = json!(command_id);
        body["InstanceId"] = json!(self.instance_id);
        body["PluginName"] = json!(plugin.name);
        body["DocumentName"] = json!(self.document_name());
        body
    }

    /// Its final GetCommandInvocation bodies, one per step, for `command_id`.
    pub fn final_get_bodies(&self, command_id: &str, mw_status: &str) -> Vec<Value> {
        self.plugins
            .iter()
            .map(|p| self.get_body(command_id, p, mw_status))
            .collect()
    }
}

/// One task invocation (one per target of the task).
#[derive(Clone, Debug)]
pub struct MwInvocation {
    pub invocation_id: String,
    /// The command, automation execution or Lambda request ID; `None`: no `ExecutionId` key.
    /// Not sent while the invocation is PENDING.
    pub execution_id: Option<String>,
    pub parameters: Option<String>,
    pub owner_information: Option<String>,
    pub window_target_id: Option<String>,
    pub states: States,
    /// Listed from this round on.
    pub listed_from: usize,
    /// `StartTime` (sent once not PENDING) and `EndTime` (sent once terminal), epoch ms.
    pub start_ms: u64,
    pub end_ms: u64,
    /// RUN_COMMAND: the instances its command ran on.
    pub instances: Vec<CmdInstance>,
}

impl MwInvocation {
    /// A bare invocation: SUCCESS from round 1, for [`WINDOW_TARGET_ID`], no execution ID,
    /// no parameters, no instances.
    pub fn new(invocation_id: impl Into<String>) -> MwInvocation {
        let mut states = States::default();
        states.set(1, "SUCCESS", None);
        MwInvocation {
            invocation_id: invocation_id.into(),
            execution_id: None,
            parameters: None,
            owner_information: None,
            window_target_id: Some(WINDOW_TARGET_ID.into()),
            states,
            listed_from: 1,
            start_ms: STARTED_AT_MS,
            end_ms: STARTED_AT_MS + 2_516,
            instances: Vec::new(),
        }
    }

    /// In `status` from round 1 on (nothing else scripted).
    pub fn status(mut self, status: &str) -> MwInvocation {
        self.states = States::default();
        self.states.set(1, status, None);
        self
    }

    /// In `status` with these details from round 1 on (nothing else scripted).
    pub fn status_with(mut self, status: &str, details: &str) -> MwInvocation {
        self.states = States::default();
        self.states.set(1, status, Some(details));
        self
    }

    /// In `status` from `round` on (until a later change).
    pub fn status_from(mut self, round: usize, status: &str) -> MwInvocation {
        self.states.set(round, status, None);
        self
    }

    /// PENDING until two rounds before `round` (if any), IN_PROGRESS the round before, then
    /// `status` from `round` on.
    pub fn ends_at(mut self, round: usize, status: &str) -> MwInvocation {
        self.states = States::default();
        if round > 2 {
            self.states.set(1, "PENDING", None);
        }
        if round > 1 {
            self.states.set(round - 1, "IN_PROGRESS", None);
        }
        self.states.set(round, status, None);
        self
    }

    /// PENDING in round 1, IN_PROGRESS from round 2 on, forever.
    pub fn never_ends(mut self) -> MwInvocation {
        self.states = States::default();
        self.states.set(1, "PENDING", None);
        self.states.set(2, "IN_PROGRESS", None);
        self
    }

    pub fn listed_from(mut self, round: usize) -> MwInvocation {
        self.listed_from = round;
        self
    }

    pub fn execution_id(mut self, id: Option<&str>) -> MwInvocation {
        self.execution_id = id.map(str::to_owned);
        self
    }

    pub fn parameters(mut self, parameters: Option<&str>) -> MwInvocation {
        self.parameters = parameters.map(str::to_owned);
        self
    }

    pub fn owner(mut self, owner: Option<&str>) -> MwInvocation {
        self.owner_information = owner.map(str::to_owned);
        self
    }

    pub fn window_target(mut self, id: Option<&str>) -> MwInvocation {
        self.window_target_id = id.map(str::to_owned);
        self
    }

    /// `StartTime` and `EndTime` in epoch milliseconds.
    pub fn times(mut self, start_ms: u64, end_ms: u64) -> MwInvocation {
        self.start_ms = start_ms;
        self.end_ms = end_ms;
        self
    }

    pub fn instances(mut self, instances: Vec<CmdInstance>) -> MwInvocation {
        self.instances = instances;
        self
    }

    /// `(Status, StatusDetails)` at `round` (listed or not).
    pub fn state_at(&self, round: usize) -> (&str, Option<&str>) {
        self.states.at(round).expect("an invocation has a state")
    }

    /// Its final state (the last scripted one).
    pub fn final_status(&self) -> &str {
        self.states.last().expect("an invocation has a state").0
    }

    pub fn is_listed_at(&self, round: usize) -> bool {
        self.listed_from <= round
    }

    /// The WindowExecutionTaskInvocationIdentity SSM sends at `round` (keys alphabetical,
    /// times as epoch-seconds numbers, absent keys absent).
    pub fn identity_at(&self, task: &MwTask, window_execution_id: &str, round: usize) -> Value {
        let (status, details) = self.state_at(round);
        let mut m = Map::new();
        // Inserted in reverse model order, in case the map keeps insertion order.
        insert_some(&mut m, "WindowTargetId", self.window_target_id.as_ref());
        insert_some(&mut m, "OwnerInformation", self.owner_information.as_ref());
        insert_times(&mut m, status, self.start_ms, self.end_ms);
        insert_some(&mut m, "StatusDetails", details);
        m.insert("Status".into(), json!(status));
        insert_some(&mut m, "Parameters", self.parameters.as_ref());
        m.insert("TaskType".into(), json!(task.task_type));
        let execution_id = self.execution_id.as_ref().filter(|_| status != "PENDING");
        insert_some(&mut m, "ExecutionId", execution_id);
        m.insert("InvocationId".into(), json!(self.invocation_id));
        m.insert("TaskExecutionId".into(), json!(task.task_execution_id));
        m.insert("WindowExecutionId".into(), json!(window_execution_id));
        Value::Object(m)
    }
}

/// One task of the window execution.
#[derive(Clone, Debug)]
pub struct MwTask {
    pub index: usize,
    pub task_execution_id: String,
    pub task_type: String,
    pub task_arn: String,
    pub invocations: Vec<MwInvocation>,
    /// Scripted task states; empty: derived from the invocations.
    pub states: States,
    pub listed_from: usize,
    pub start_ms: u64,
    pub end_ms: u64,
}

impl MwTask {
    /// Task `index` of this type, no invocations yet, its ID [`task_execution_id`]`(index)`.
    pub fn new(index: usize, task_type: &str) -> MwTask {
        let task_arn = match task_type {
            RUN_COMMAND => "AWS-RunShellScript".to_owned(),
            AUTOMATION => "AWS-RestartEC2Instance".to_owned(),
            LAMBDA => "arn:aws:lambda:us-east-1:123456789012:function:patch-report".to_owned(),
            other => format!("{other}-task"),
        };
        MwTask {
            index,
            task_execution_id: task_execution_id(index),
            task_type: task_type.to_owned(),
            task_arn,
            invocations: Vec::new(),
            states: States::default(),
            listed_from: 1,
            start_ms: STARTED_AT_MS + index as u64 * 60_000,
            end_ms: STARTED_AT_MS + index as u64 * 60_000 + 30_000,
        }
    }

    pub fn run_command(index: usize) -> MwTask {
        MwTask::new(index, RUN_COMMAND)
    }

    pub fn automation(index: usize) -> MwTask {
        MwTask::new(index, AUTOMATION)
    }

    pub fn lambda(index: usize) -> MwTask {
        MwTask::new(index, LAMBDA)
    }

    /// The default invocation `j` of this task: ID [`invocation_id`]`(index, j)`, SUCCESS from
    /// round 1, an execution ID and parameters as its type has them, and for RUN_COMMAND one
    /// instance ([`instance_for`]`(index, j, 0)`).
    pub fn template(&self, j: usize) -> MwInvocation {
        let t = self.index;
        let inv = MwInvocation::new(invocation_id(t, j)).times(
            self.start_ms + j as u64 * 1_000 + 291,
            self.start_ms + j as u64 * 1_000 + 2_807,
        );
        match self.task_type.as_str() {
            RUN_COMMAND => inv
                .execution_id(Some(&command_id(t, j)))
                .parameters(Some(
                    r#"{"comment":"","documentName":"AWS-RunShellScript","parameters":{"commands":["uptime"]},"timeoutSeconds":600}"#,
                ))
                .instances(vec![CmdInstance::new(instance_for(t, j, 0))]),
            AUTOMATION => inv
                .execution_id(Some(&automation_execution_id(t, j)))
                .parameters(Some(r#"{"InstanceId":["i-0a110000000000001"]}"#)),
            LAMBDA => inv
                .execution_id(Some(&lambda_request_id(t, j)))
                .parameters(Some(r#"{"payload":"{\"mode\":\"report\"}"}"#)),
            _ => inv,
        }
    }

    /// Invocation `j` changed by `f`.
    pub fn invocation(mut self, j: usize, f: impl FnOnce(MwInvocation) -> MwInvocation) -> MwTask {
        self.invocations[j] = f(self.invocations[j].clone());
        self
    }

    /// Adds `n` invocations: `f(j, `[`MwTask::template`]`(j))` for `j` in `0..n`.
    pub fn with_invocations(
        mut self,
        n: usize,
        f: impl Fn(usize, MwInvocation) -> MwInvocation,
    ) -> MwTask {
        let start = self.invocations.len();
        for j in start..start + n {
            let inv = f(j, self.template(j));
            self.invocations.push(inv);
        }
        self
    }

    /// Adds `n` default invocations.
    pub fn invocations(self, n: usize) -> MwTask {
        self.with_invocations(n, |_, inv| inv)
    }

    /// The task's own status is `status` from `round` on instead of the one derived from its
    /// invocations (once anything is scripted, only the script counts).
    pub fn status_from(mut self, round: usize, status: &str) -> MwTask {
        self.states.set(round, status, None);
        self
    }

    pub fn listed_from(mut self, round: usize) -> MwTask {
        self.listed_from = round;
        self
    }

    pub fn is_listed_at(&self, round: usize) -> bool {
        self.listed_from <= round
    }

    /// `(Status, StatusDetails)` at `round`: the scripted one, or derived from every
    /// invocation (one not listed yet counts as PENDING): PENDING while all are PENDING,
    /// IN_PROGRESS while any is not terminal, then SUCCESS if all succeeded, else the first of
    /// FAILED, TIMED_OUT, CANCELLED found; SUCCESS without invocations.
    pub fn state_at(&self, round: usize) -> (String, Option<String>) {
        if let Some((s, d)) = self.states.at(round) {
            return (s.to_owned(), d.map(str::to_owned));
        }
        let mut statuses: Vec<&str> = (self.invocations.iter())
            .filter(|i| i.is_listed_at(round))
            .map(|i| i.state_at(round).0)
            .collect();
        statuses.resize(self.invocations.len(), "PENDING");
        (derive_status(&statuses).into(), None)
    }

    /// The WindowExecutionTaskIdentity SSM sends at `round`.
    pub fn identity_at(&self, window_execution_id: &str, round: usize) -> Value {
        let (status, details) = self.state_at(round);
        let mut m = Map::new();
        m.insert("TaskType".into(), json!(self.task_type));
        m.insert("TaskArn".into(), json!(self.task_arn));
        insert_times(&mut m, &status, self.start_ms, self.end_ms);
        insert_some(&mut m, "StatusDetails", details);
        m.insert("Status".into(), json!(status));
        m.insert("TaskExecutionId".into(), json!(self.task_execution_id));
        m.insert("WindowExecutionId".into(), json!(window_execution_id));
        Value::Object(m)
    }
}

/// A status summing up these: PENDING while all are PENDING, IN_PROGRESS while any is not
/// terminal, SUCCESS when all succeeded (or there are none), else the first failure kind.
fn derive_status(statuses: &[&str]) -> &'static str {
    if statuses.iter().any(|s| !is_terminal(s)) {
        return if statuses.iter().all(|s| *s == "PENDING") {
            "PENDING"
        } else {
            "IN_PROGRESS"
        };
    }
    ["FAILED", "TIMED_OUT", "CANCELLED", "SKIPPED_OVERLAPPING"]
        .into_iter()
        .find(|s| statuses.contains(s))
        .unwrap_or("SUCCESS")
}

/// Inserts `value` under `key` when there is one.
fn insert_some(m: &mut Map<String, Value>, key: &str, value: Option<impl Serialize>) {
    if let Some(v) = value {
        m.insert(key.into(), json!(v));
    }
}

/// `StartTime` once not PENDING, `EndTime` once terminal, as epoch seconds.
fn insert_times(m: &mut Map<String, Value>, status: &str, start_ms: u64, end_ms: u64) {
    insert_some(m, "EndTime", is_terminal(status).then(|| epoch_ms(end_ms)));
    insert_some(
        m,
        "StartTime",
        (status != "PENDING").then(|| epoch_ms(start_ms)),
    );
}

/// The scripted world: one window execution and its tasks.
#[derive(Clone, Debug)]
pub struct MwWorld {
    pub window_execution_id: String,
    pub tasks: Vec<MwTask>,
    /// Scripted window execution states; empty: derived from the tasks.
    pub window_states: States,
    page_cap: Option<usize>,
    empty_token_on_last_page: bool,
    /// GetMaintenanceWindowExecution answers without `Status` (and `StatusDetails`).
    window_status_absent: bool,
    script: Script,
}

impl MwWorld {
    pub fn new(tasks: Vec<MwTask>) -> MwWorld {
        MwWorld {
            window_execution_id: WINDOW_EXECUTION_ID.into(),
            tasks,
            window_states: States::default(),
            page_cap: None,
            empty_token_on_last_page: false,
            window_status_absent: false,
            script: Script::default(),
        }
    }
    /// The window execution's own status is `status` from `round` on instead of the one
    /// derived from its tasks (once anything is scripted, only the script counts).
    pub fn window_status_from(mut self, round: usize, status: &str) -> MwWorld {
        self.window_states.set(round, status, None);
        self
    }

    /// Pages of the window calls hold at most `n` items whatever `MaxResults` asks (a short
    /// page still carries a NextToken when more follow, as paginated AWS APIs may do).
    pub fn page_cap(mut self, n: usize) -> MwWorld {
        assert!(n >= 1);
        self.page_cap = Some(n);
        self
    }

    /// The last page of the window calls carries `"NextToken": ""` (the API reference: "If
    /// there are no additional items to return, the string is empty").
    pub fn empty_token_on_last_page(mut self) -> MwWorld {
        self.empty_token_on_last_page = true;
        self
    }

    /// The first `steps.len()` requests to `target` for page `page` (1: no NextToken), in any
    /// round, get these answers.
    pub fn fail_page(mut self, target: &str, page: usize, steps: Vec<Step>) -> MwWorld {
        self.script.fail(target, None, Some(page), &[], steps);
        self
    }

    /// The same, only for requests made in round `round`.
    pub fn fail_page_in_round(
        mut self,
        target: &str,
        round: usize,
        page: usize,
        steps: Vec<Step>,
    ) -> MwWorld {
        self.script
            .fail(target, Some(round), Some(page), &[], steps);
        self
    }

    /// Every request to `target` gets `step`.
    pub fn fail_always(mut self, target: &str, step: Step) -> MwWorld {
        self.script.fail_always(target, None, &[], step);
        self
    }

    /// Every ListCommandInvocations request for command `command_id` (any page, any round)
    /// gets `step`.
    pub fn fail_command_listing(mut self, command_id: &str, step: Step) -> MwWorld {
        self.script.fail_always(
            LIST_COMMAND_INVOCATIONS,
            None,
            &[("CommandId", command_id)],
            step,
        );
        self
    }

    /// Every GetCommandInvocation request for command `command_id` on `instance_id` (any step)
    /// gets `step`.
    pub fn fail_command_fetch(
        mut self,
        command_id: &str,
        instance_id: &str,
        step: Step,
    ) -> MwWorld {
        let fields = [("CommandId", command_id), ("InstanceId", instance_id)];
        self.script
            .fail_always(GET_COMMAND_INVOCATION, None, &fields, step);
        self
    }

    /// Every answer to `target` in round `round` (faults included) comes after `delay`.
    pub fn delay_in_round(mut self, target: &str, round: usize, delay: Duration) -> MwWorld {
        self.script.delay(target, Some(round), delay);
        self
    }

    /// GetMaintenanceWindowExecution answers without `Status` and `StatusDetails` (the model
    /// makes every output member optional).
    pub fn window_status_absent(mut self) -> MwWorld {
        self.window_status_absent = true;
        self
    }

    pub fn task(&self, t: usize) -> &MwTask {
        self.tasks
            .iter()
            .find(|task| task.index == t)
            .unwrap_or_else(|| panic!("no task {t}"))
    }

    fn task_by_id(&self, id: &str) -> Option<&MwTask> {
        self.tasks
            .iter()
            .find(|t| t.task_execution_id.eq_ignore_ascii_case(id))
    }

    /// The tasks listed at `round`, in order.
    pub fn tasks_at(&self, round: usize) -> Vec<&MwTask> {
        self.tasks
            .iter()
            .filter(|t| t.is_listed_at(round))
            .collect()
    }

    /// The window execution's `(Status, StatusDetails)` at `round`.
    pub fn window_state_at(&self, round: usize) -> State {
        if let Some((s, d)) = self.window_states.at(round) {
            return (s.to_owned(), d.map(str::to_owned));
        }
        // A task not listed yet counts as PENDING (the order does not matter).
        let listed = self.tasks_at(round);
        let mut states: Vec<String> = listed.iter().map(|t| t.state_at(round).0).collect();
        states.resize(self.tasks.len(), "PENDING".to_owned());
        let refs: Vec<&str> = states.iter().map(String::as_str).collect();
        let status = derive_status(&refs);
        let details = "One or more tasks in the orchestration failed.";
        (status.into(), (status == "FAILED").then(|| details.into()))
    }

    /// The invocation identities of task `t` SSM lists at `round`, in order.
    pub fn identities_at(&self, t: usize, round: usize) -> Vec<Value> {
        let task = self.task(t);
        task.invocations
            .iter()
            .filter(|i| i.is_listed_at(round))
            .map(|i| i.identity_at(task, &self.window_execution_id, round))
            .collect()
    }

    /// Every invocation identity in their final state: task order, then invocation order.
    pub fn final_identities(&self) -> Vec<Value> {
        self.tasks
            .iter()
            .flat_map(|t| self.identities_at(t.index, usize::MAX))
            .collect()
    }

    /// The RUN_COMMAND invocation whose command is `command_id`, with its task.
    fn command(&self, command_id: &str) -> Option<(&MwTask, &MwInvocation)> {
        self.tasks
            .iter()
            .filter(|t| t.task_type == RUN_COMMAND)
            .flat_map(|t| t.invocations.iter().map(move |i| (t, i)))
            .find(|(_, i)| i.execution_id.as_deref() == Some(command_id))
    }
}

/// The fake endpoint answering from an [`MwWorld`]. Derefs to the [`FakeSsm`] serving it.
pub struct FakeMw(FakeSsm);

impl Deref for FakeMw {
    type Target = FakeSsm;

    fn deref(&self) -> &FakeSsm {
        &self.0
    }
}

impl FakeMw {
    pub fn start(world: MwWorld) -> FakeMw {
        FakeMw(FakeSsm::serve(world))
    }

    /// The invocation listings of task `task_id`, in order.
    pub fn listings_of(&self, task_id: &str) -> Vec<Call> {
        self.calls_to(DESCRIBE_INVOCATIONS)
            .into_iter()
            .filter(|c| c.field("TaskId") == Some(task_id))
            .collect()
    }

    /// The rounds in which task `task_id` was listed (each round once, in order).
    pub fn rounds_listing(&self, task_id: &str) -> Vec<usize> {
        let mut rounds: Vec<usize> = self.listings_of(task_id).iter().map(|c| c.round).collect();
        rounds.dedup();
        rounds
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn uuid<'a>(body: &Body<'a>, name: &str, member: &str) -> Result<&'a str, Step> {
    let Some(id) = body.string(name)? else {
        return Err(validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy \
             constraint: Member must not be null"
        )));
    };
    if id.chars().count() != 36 {
        return Err(validation(format!(
            "1 validation error detected: Value '{id}' at '{member}' failed to satisfy \
             constraint: Member must have length less than or equal to 36"
        )));
    }
    if !is_uuid(id) {
        return Err(validation(format!(
            "1 validation error detected: Value '{id}' at '{member}' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             ^[0-9a-fA-F]{{8}}\\-[0-9a-fA-F]{{4}}\\-[0-9a-fA-F]{{4}}\\-[0-9a-fA-F]{{4}}\\-[0-9a-fA-F]{{12}}$"
        )));
    }
    Ok(id)
}

/// The STATUS filter's values (`None`: no filter), validated.
fn status_filter(body: &Body) -> Result<Option<Vec<String>>, Step> {
    let Some(filters) = body.0.get("Filters") else {
        return Ok(None);
    };
    let Some(filters) = filters.as_array() else {
        let why = format!("Filters must be a list, got {filters}");
        return Err(serialization(why));
    };
    let mut wanted: Option<Vec<String>> = None;
    for filter in filters {
        let key = filter.get("Key").and_then(Value::as_str);
        let values = filter.get("Values").and_then(Value::as_array);
        let (Some(key), Some(values)) = (key, values) else {
            return Err(validation(format!(
                "1 validation error detected: a filter needs a Key and Values, got {filter}"
            )));
        };
        if key != "STATUS" {
            return Err(validation(format!(
                "Invalid filter key '{key}'. Valid filter keys: STATUS"
            )));
        }
        if values.is_empty() {
            return Err(validation(
                "1 validation error detected: Value '[]' at 'filters.1.member.values' failed \
                 to satisfy constraint: Member must have length greater than or equal to 1"
                    .into(),
            ));
        }
        let mut these = Vec::new();
        for v in values {
            match v.as_str() {
                Some(s) if STATUSES.contains(&s) => these.push(s.to_owned()),
                _ => {
                    return Err(validation(format!(
                        "Invalid filter value {v} for key STATUS. Valid values: {}",
                        STATUSES.join(", ")
                    )));
                }
            }
        }
        // Several STATUS filters: an item must pass each.
        wanted = Some(match wanted {
            None => these,
            Some(before) => before.into_iter().filter(|s| these.contains(s)).collect(),
        });
    }
    Ok(wanted)
}

impl World for MwWorld {
    /// What starts a round: see the module documentation.
    fn begins_round(&self, call: &Incoming, log: &[Call]) -> bool {
        let retrying = |first_tasks_page: bool| {
            log.iter()
                .rfind(|c| c.is(call.target) && (!first_tasks_page || c.page == 1))
                .is_some_and(Call::retried)
        };
        match call.target {
            GET_WINDOW_EXECUTION => !retrying(false),
            DESCRIBE_TASKS if call.page == 1 => {
                !retrying(true) && !log.last().is_some_and(|c| c.is(GET_WINDOW_EXECUTION))
            }
            _ => false,
        }
    }

    fn answer(&self, call: &Incoming, round: usize) -> Answer {
        let round = round.max(1);
        let answer = Body::parse(call.body).and_then(|body| match call.target {
            DESCRIBE_TASKS => self.describe_tasks(&body, round),
            GET_WINDOW_EXECUTION => self.get_window_execution(&body, round),
            DESCRIBE_INVOCATIONS => self.describe_invocations(&body, round),
            LIST_COMMAND_INVOCATIONS => self.list_command_invocations(&body, round),
            GET_COMMAND_INVOCATION => self.get_command_invocation(&body, round),
            target => Err(Step::unknown_operation(target)),
        });
        answer.map_or_else(|step| step, |v| Step::ok(&v)).into()
    }

    fn script(&self) -> Script {
        self.script.clone()
    }
}

impl MwWorld {
    /// A page of a window call: [`MwWorld::page_cap`] and
    /// [`MwWorld::empty_token_on_last_page`] applied.
    fn window_page(
        &self,
        key: &str,
        items: &[Value],
        position: (usize, usize),
        size: usize,
        query: u64,
    ) -> Value {
        let size = self.page_cap.map_or(size, |cap| size.min(cap));
        let empty_token = self.empty_token_on_last_page;
        page_response(key, items, position, size, query, empty_token)
    }

    fn unknown_window(&self, id: &str) -> Option<Step> {
        (!id.eq_ignore_ascii_case(&self.window_execution_id)).then(|| {
            Step::error(
                "DoesNotExistException",
                format!("Maintenance window execution {id} does not exist"),
            )
        })
    }

    fn describe_tasks(&self, body: &Body, round: usize) -> Result<Value, Step> {
        let window = uuid(body, "WindowExecutionId", "windowExecutionId")?;
        let size = body.max_results(MW_MIN_RESULTS, MW_MAX_RESULTS, MW_MIN_RESULTS)?;
        let statuses = status_filter(body)?;
        let query = fingerprint(&("tasks", window.to_ascii_lowercase(), &statuses));
        let position = body.position(query)?;
        if let Some(step) = self.unknown_window(window) {
            return Err(step);
        }
        let items: Vec<Value> = self
            .tasks_at(round)
            .into_iter()
            .map(|t| t.identity_at(&self.window_execution_id, round))
            .filter(|v| status_passes(v, &statuses))
            .collect();
        Ok(self.window_page(
            "WindowExecutionTaskIdentities",
            &items,
            position,
            size,
            query,
        ))
    }

    fn get_window_execution(&self, body: &Body, round: usize) -> Result<Value, Step> {
        let window = uuid(body, "WindowExecutionId", "windowExecutionId")?;
        if let Some(step) = self.unknown_window(window) {
            return Err(step);
        }
        let (status, details) = self.window_state_at(round);
        let mut m = Map::new();
        m.insert("WindowExecutionId".into(), json!(self.window_execution_id));
        m.insert(
            "TaskIds".into(),
            json!(
                self.tasks_at(round)
                    .iter()
                    .map(|t| t.task_execution_id.clone())
                    .collect::<Vec<_>>()
            ),
        );
        insert_times(&mut m, &status, STARTED_AT_MS, STARTED_AT_MS + 3_600_000);
        if !self.window_status_absent {
            insert_some(&mut m, "StatusDetails", details);
            m.insert("Status".into(), json!(status));
        }
        Ok(Value::Object(m))
    }

    fn describe_invocations(&self, body: &Body, round: usize) -> Result<Value, Step> {
        let window = uuid(body, "WindowExecutionId", "windowExecutionId")?;
        let task_id = uuid(body, "TaskId", "taskId")?;
        let size = body.max_results(MW_MIN_RESULTS, MW_MAX_RESULTS, MW_MIN_RESULTS)?;
        let statuses = status_filter(body)?;
        let query = fingerprint(&(
            "invocations",
            window.to_ascii_lowercase(),
            task_id.to_ascii_lowercase(),
            &statuses,
        ));
        let position = body.position(query)?;
        if let Some(step) = self.unknown_window(window) {
            return Err(step);
        }
        let task = self
            .task_by_id(task_id)
            .filter(|t| t.is_listed_at(round))
            .ok_or_else(|| {
                Step::error(
                    "DoesNotExistException",
                    format!(
                        "Maintenance window execution {window} has no task execution \
                         {task_id}"
                    ),
                )
            })?;
        let items: Vec<Value> = self
            .identities_at(task.index, round)
            .into_iter()
            .filter(|v| status_passes(v, &statuses))
            .collect();
        let key = "WindowExecutionTaskInvocationIdentities";
        Ok(self.window_page(key, &items, position, size, query))
    }

    fn list_command_invocations(&self, body: &Body, round: usize) -> Result<Value, Step> {
        let command_id = body.command_id()?;
        let instance_id = body.string("InstanceId")?;
        let details = body.flag("Details")?;
        let size = body.max_results(1, LIST_MAX_RESULTS, LIST_MAX_RESULTS)?;
        let query = fingerprint(&("commands", command_id, instance_id, details));
        let position = body.position(query)?;
        let mut items = Vec::new();
        if let Some(id) = command_id
            && let Some((_, inv)) = self.command(id)
            && inv.is_listed_at(round)
        {
            let (status, _) = inv.state_at(round);
            if status != "PENDING" {
                for instance in &inv.instances {
                    if instance_id.is_some_and(|want| want != instance.instance_id) {
                        continue;
                    }
                    let mut record = instance.listed_record(id, status);
                    if !details {
                        record.as_object_mut().unwrap().remove("CommandPlugins");
                    }
                    items.push(record);
                }
            }
        }
        Ok(page_response(
            "CommandInvocations",
            &items,
            position,
            size,
            query,
            false,
        ))
    }

    fn get_command_invocation(&self, body: &Body, round: usize) -> Result<Value, Step> {
        let (Some(command_id), Some(instance_id)) =
            (body.command_id()?, body.string("InstanceId")?)
        else {
            return Err(validation("CommandId and InstanceId are required".into()));
        };
        let plugin_name = body.string("PluginName")?;
        let not_found = || Step::error("InvocationDoesNotExist", String::new());
        let (_, inv) = self.command(command_id).ok_or_else(not_found)?;
        let (status, _) = inv.state_at(round);
        if !inv.is_listed_at(round) || status == "PENDING" {
            return Err(not_found());
        }
        let instance = inv
            .instances
            .iter()
            .find(|i| i.instance_id == instance_id)
            .ok_or_else(not_found)?;
        let plugin = match plugin_name {
            Some(name) => instance.plugins.iter().find(|p| p.name == name),
            None if instance.plugins.len() == 1 => instance.plugins.first(),
            None => None,
        }
        .ok_or_else(|| Step::error("InvalidPluginName", String::new()))?;
        Ok(instance.get_body(command_id, plugin, status))
    }
}

/// Whether an identity passes a STATUS filter.
fn status_passes(item: &Value, statuses: &Option<Vec<String>>) -> bool {
    statuses
        .as_ref()
        .is_none_or(|want| want.iter().any(|s| item["Status"] == s.as_str()))
}
