//! A scripted SSM world of one command whose invocations may run documents of several steps,
//! served by the fake SSM endpoint's engine ([`FakeSsm::serve`]).
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
//!   visible instances (from [`MultiInstance::listed_from`]), `CommandPlugins` (one per step,
//!   in the document's order) only with `Details` (an empty list before
//!   [`MultiInstance::plugins_listed_from`]).
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

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::fake_ssm::{
    Answer, Body, Call, FakeSsm, Incoming, ListInvocations, REQUESTED_AT_MS, Step, World,
    cloudwatch, command_record, is_running, listed_invocation, listed_plugin, never_started,
    serialization, validation,
};
pub use super::fake_ssm::{
    CMD_ID, GET_COMMAND_INVOCATION, LIST_COMMAND_INVOCATIONS, LIST_COMMANDS,
};
use super::timeline::listed_output;

/// The X-Amz-Target of CancelCommand.
pub const CANCEL_COMMAND: &str = "AmazonSSM.CancelCommand";
/// The document of an invocation with several steps.
pub const MULTI_DOCUMENT: &str = "Custom-MultiStepDeploy";
/// The document of an invocation with one step.
pub const SINGLE_DOCUMENT: &str = "AWS-RunShellScript";

/// 2024-05-14T09:00:00.000Z in epoch milliseconds (REQUESTED_AT is 09:12:31.291).
const NINE_AM_MS: u64 = REQUESTED_AT_MS - 751_291;

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

/// [`step_start`] (`ms_in_minute` 5,125) or [`step_end`] (45,875) in epoch milliseconds.
fn step_ms(index: usize, ms_in_minute: u64) -> u64 {
    NINE_AM_MS + (11 + index as u64) * 60_000 + ms_in_minute
}

// --- Steps, instances, the world -----------------------------------------------------------------

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
    pub fn single(instance_id: impl Into<String>, mut step: StepSpec) -> MultiInstance {
        step.name = "aws:runShellScript".into();
        MultiInstance::new(instance_id, vec![step])
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
            "CloudWatchOutputConfig": cloudwatch("", false)
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
        let plugins: Vec<Value> = (self.steps.iter().enumerate())
            .filter(|_| round >= self.plugins_listed_from)
            .map(|(i, step)| {
                let state = step.state_at(round, cancel);
                let (status, details) = (state.0.as_str(), state.1.as_str());
                let output = listed_output(status, &step.stdout, &step.stderr);
                let started = !never_started(details) && status != "Pending";
                let times = started.then(|| (step_ms(i, 5_125), step_ms(i, 45_875)));
                let code = step.response_code(&state);
                listed_plugin(&step.name, (status, details), code, &output, times)
            })
            .collect();
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
    /// with these overall states for the targeted instances ([`command_record`]).
    fn command_record(&self, states: &[State]) -> Value {
        let mut command = command_record(states);
        let document = self.instances.first().map(|i| i.document_name.as_str());
        command["CommandId"] = json!(self.command_id);
        command["DocumentName"] = json!(document.unwrap_or(SINGLE_DOCUMENT));
        command["Parameters"] = json!({});
        if !self.targets {
            command["InstanceIds"] = json!(self.instance_ids());
            command["Targets"] = json!([]);
        }
        command
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

// --- Serving the world ---------------------------------------------------------------------------

/// What a call leaves behind for the round counting of the next one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Followup {
    #[default]
    None,
    /// The next ListCommandInvocations belongs to the same poll.
    List,
    /// The next this many GetCommandInvocations with a PluginName belong to the same poll.
    StepGets(usize),
}

#[derive(Default)]
struct Memo {
    followup: Followup,
    /// `(round received, when, instance IDs; None: every instance)`.
    cancels: Vec<(usize, Instant, Option<Vec<String>>)>,
    /// Lagged answers given so far, by `(instance ID, step name)`.
    lagged: HashMap<(String, String), usize>,
}

/// A [`MultiWorld`] being served.
struct Serving {
    world: MultiWorld,
    memo: Mutex<Memo>,
}

/// The fake endpoint serving a [`MultiWorld`]. Derefs to the [`FakeSsm`] serving it.
pub struct FakeMulti {
    fake: FakeSsm,
    serving: Arc<Serving>,
}

impl Deref for FakeMulti {
    type Target = FakeSsm;

    fn deref(&self) -> &FakeSsm {
        &self.fake
    }
}

impl FakeMulti {
    pub fn start(world: MultiWorld) -> FakeMulti {
        let serving = Arc::new(Serving {
            world,
            memo: Mutex::default(),
        });
        FakeMulti {
            fake: FakeSsm::serve(Arc::clone(&serving)),
            serving,
        }
    }

    /// As [`FakeMulti::start`], every call first offered to the world `wrap` makes of it
    /// (SendCommand in front of it: [`super::fake_send::Sending`]).
    pub fn start_wrapped<W: World>(
        world: MultiWorld,
        wrap: impl FnOnce(Box<dyn World>) -> W,
    ) -> FakeMulti {
        let serving = Arc::new(Serving {
            world,
            memo: Mutex::default(),
        });
        FakeMulti {
            fake: FakeSsm::serve(wrap(Box::new(Arc::clone(&serving)))),
            serving,
        }
    }

    pub fn world(&self) -> &MultiWorld {
        &self.serving.world
    }

    /// The CancelCommand request bodies received so far.
    pub fn cancel_requests(&self) -> Vec<Value> {
        self.bodies(CANCEL_COMMAND)
    }
}

impl World for Serving {
    fn begins_round(&self, call: &Incoming, log: &[Call]) -> bool {
        if call.target == LIST_COMMANDS {
            return true;
        }
        if call.target == CANCEL_COMMAND || log.iter().any(|c| c.is(LIST_COMMANDS)) {
            return false;
        }
        let mut memo = self.memo.lock().unwrap();
        let follows = match (memo.followup, call.target) {
            (Followup::List, LIST_COMMAND_INVOCATIONS) => true,
            (Followup::StepGets(_), GET_COMMAND_INVOCATION) => {
                call.body.get("PluginName").is_some_and(Value::is_string)
            }
            _ => false,
        };
        if !follows {
            memo.followup = Followup::None;
        }
        !follows
    }

    fn answer(&self, call: &Incoming, round: usize) -> Answer {
        let mut memo = self.memo.lock().unwrap();
        let state_round = round.max(1);
        let (answer, followup) = match Body::parse(call.body) {
            Err(step) => (step.into(), Followup::None),
            Ok(body) => {
                let answer = match call.target {
                    GET_COMMAND_INVOCATION => self.get(&mut memo, &body, state_round),
                    LIST_COMMAND_INVOCATIONS => self.list(&memo, &body, state_round),
                    LIST_COMMANDS => self.list_commands(&memo, &body, state_round),
                    CANCEL_COMMAND => self.cancel(&mut memo, &body, round),
                    target => Err(Step::unknown_operation(target)),
                };
                answer.unwrap_or_else(|step| (step.into(), Followup::None))
            }
        };
        // The follow-ups this answer announces; a step fetch uses one up.
        if call.target != CANCEL_COMMAND {
            memo.followup = match (followup, memo.followup, call.target) {
                (Followup::None, Followup::StepGets(n), GET_COMMAND_INVOCATION) if n > 1 => {
                    Followup::StepGets(n - 1)
                }
                (f, _, _) => f,
            };
        }
        answer
    }
}

type Answered = Result<(Answer, Followup), Step>;

impl Serving {
    fn cancel_mark(&self, memo: &Memo, instance_id: &str) -> Option<CancelMark> {
        memo.cancels
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

    fn get(&self, memo: &mut Memo, body: &Body, round: usize) -> Answered {
        let command_id = body.command_id()?;
        let (Some(command_id), Some(instance_id)) = (command_id, body.string("InstanceId")?) else {
            return Err(validation("CommandId and InstanceId are required".into()));
        };
        let plugin = body.string("PluginName")?;
        let world = &self.world;
        let Some(instance) = world
            .instances
            .iter()
            .find(|i| i.instance_id == instance_id && i.is_visible_at(round))
            .filter(|_| command_id == world.command_id)
        else {
            return Err(Step::not_found());
        };
        let invalid = || Ok((Step::error("InvalidPluginName", "").into(), Followup::List));
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
        let cancel = self.cancel_mark(memo, instance_id);
        let step = &instance.steps[index];
        if plugin.is_some()
            && let Some((n, lag)) = step.lag
            && !is_running(&step.state_at(round, cancel).0)
        {
            let served = memo
                .lagged
                .entry((instance.instance_id.clone(), step.name.clone()))
                .or_default();
            if *served < n {
                *served += 1;
                let (lagging, followup) = match lag {
                    Lag::Running => {
                        let running = pair("InProgress", "InProgress");
                        (
                            Step::ok(&instance.body_in(command_id, index, running)),
                            Followup::None,
                        )
                    }
                    // Among a poll's step fetches the binary gives up that poll; asked for
                    // alone (--plugin-name) it lists next, as for any InvalidPluginName.
                    Lag::InvalidPluginName => (
                        Step::error("InvalidPluginName", ""),
                        match memo.followup {
                            Followup::StepGets(_) => Followup::None,
                            _ => Followup::List,
                        },
                    ),
                    Lag::DoesNotExist => (Step::not_found(), Followup::None),
                };
                let answer = Answer {
                    step: lagging,
                    lagged: true,
                };
                return Ok((answer, followup));
            }
        }
        let record = instance.get_body(command_id, index, round, cancel);
        Ok((Step::ok(&record).into(), Followup::None))
    }

    fn list(&self, memo: &Memo, body: &Body, round: usize) -> Answered {
        let list = ListInvocations::parse(body)?;
        let world = &self.world;
        let records: Vec<Value> = world
            .instances
            .iter()
            .filter(|_| list.command_id.is_none_or(|id| id == world.command_id))
            .filter(|i| list.instance_id.is_none_or(|id| id == i.instance_id))
            .filter(|i| i.is_listed_at(round))
            .map(|i| {
                let cancel = self.cancel_mark(memo, &i.instance_id);
                i.listed_record(&world.command_id, round, cancel)
            })
            .collect();
        let response = list.page(records);
        // A detailed listing of one invocation that ended with several steps: its steps are
        // fetched next, in the same poll.
        let followup = match response["CommandInvocations"].as_array().map(Vec::as_slice) {
            Some([one]) if list.details && list.instance_id.is_some() => {
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
        Ok((Step::ok(&response).into(), followup))
    }

    fn list_commands(&self, memo: &Memo, body: &Body, round: usize) -> Answered {
        let command_id = body.command_id()?;
        let world = &self.world;
        let visible: Vec<&MultiInstance> = world
            .instances
            .iter()
            .filter(|i| i.is_visible_at(round))
            .collect();
        if visible.is_empty() || command_id.is_some_and(|id| id != world.command_id) {
            return Ok((Step::ok(&json!({ "Commands": [] })).into(), Followup::None));
        }
        let states: Vec<State> = visible
            .iter()
            .map(|i| i.overall_at(round, self.cancel_mark(memo, &i.instance_id)))
            .collect();
        let answer = json!({ "Commands": [world.command_record(&states)] });
        Ok((Step::ok(&answer).into(), Followup::None))
    }

    fn cancel(&self, memo: &mut Memo, body: &Body, round: usize) -> Answered {
        let Some(command_id) = body.command_id()? else {
            return Err(validation(
                "1 validation error detected: Value null at 'commandId' failed to satisfy \
                 constraint: Member must not be null"
                    .into(),
            ));
        };
        let instance_ids = match body.0.get("InstanceIds") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| serialization("InstanceIds must be a list of strings".into()))?,
            ),
            Some(other) => {
                return Err(serialization(format!(
                    "InstanceIds must be a list, got {other}"
                )));
            }
        };
        if command_id != self.world.command_id {
            return Err(Step::error("InvalidCommandId", ""));
        }
        memo.cancels
            .push((round.max(1), Instant::now(), instance_ids));
        let step = Step::delayed(self.world.cancel_delay, Step::ok(&json!({})));
        Ok((step.into(), Followup::None))
    }
}
