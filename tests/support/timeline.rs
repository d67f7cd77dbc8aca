//! A fleet's timeline for the fake SSM endpoint: ListCommands, ListCommandInvocations and
//! GetCommandInvocation answered from one scripted fleet whose state is a function of the
//! round, a round being one ListCommands call (or, with [`Timeline::round_every`], a period of
//! the clock): targets appearing late, the listing lagging behind the counts, every terminal
//! state, faults on any page of any round.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::fake_ssm::{
    Answer, Body, CMD_ID, Call, FakeSsm, GET_COMMAND_INVOCATION, Incoming,
    LIST_COMMAND_INVOCATIONS, LIST_COMMANDS, LIST_OUTPUT_CAP, ListInvocations, REQUESTED_AT_MS,
    SHELL_PLUGIN, SUCCESS, Script, Step, World, command_record, epoch_ms, invocation, is_running,
    listed_invocation, never_started, validation,
};

/// One node of a scripted fleet.
///
/// The node counts in the command's `TargetCount` from `targeted_at`, is listed by
/// ListCommandInvocations (and found by GetCommandInvocation) from `listed_at`, is Pending
/// until `running_at`, InProgress until `end`'s round, then in `end`'s terminal state.
#[derive(Clone, Debug)]
pub struct Member {
    pub instance_id: String,
    pub targeted_at: usize,
    pub listed_at: usize,
    pub running_at: Option<usize>,
    /// `(round, Status, StatusDetails)`; `None`: never ends.
    pub end: Option<(usize, String, String)>,
    /// What GetCommandInvocation gives once it ended (ListCommandInvocations gives the first
    /// [`LIST_OUTPUT_CAP`] characters of stdout and stderr together).
    pub stdout: String,
    pub stderr: String,
}

impl Member {
    /// Targeted and listed from round 1, Pending forever, printing `hello from <instance id>`.
    pub fn new(instance_id: impl Into<String>) -> Member {
        let instance_id = instance_id.into();
        Member {
            stdout: format!("hello from {instance_id}\n"),
            stderr: String::new(),
            instance_id,
            targeted_at: 1,
            listed_at: 1,
            running_at: None,
            end: None,
        }
    }

    /// Targeted and listed from `round` on.
    pub fn appears_at(mut self, round: usize) -> Member {
        self.targeted_at = round;
        self.listed_at = round;
        self
    }

    /// Listed (and found by GetCommandInvocation) from `round` on, whenever it is targeted.
    pub fn listed_at(mut self, round: usize) -> Member {
        self.listed_at = round;
        self
    }

    /// InProgress from `round` on (until it ends).
    pub fn running_at(mut self, round: usize) -> Member {
        self.running_at = Some(round);
        self
    }

    /// In this terminal state from `round` on; unless [`Member::running_at`] says otherwise,
    /// it runs from the round before (Pending until then when it never reached its node:
    /// Undeliverable, Delivery Timed Out).
    pub fn ends_at(mut self, round: usize, (status, details): (&str, &str)) -> Member {
        self.end = Some((round, status.to_owned(), details.to_owned()));
        if self.running_at.is_none()
            && !never_started(details)
            && round > self.listed_at.max(self.targeted_at)
        {
            self.running_at = Some(round - 1);
        }
        self
    }

    pub fn succeeds_at(self, round: usize) -> Member {
        self.ends_at(round, SUCCESS)
    }

    /// What GetCommandInvocation gives as its output once it ended.
    pub fn output(mut self, stdout: &str, stderr: &str) -> Member {
        self.stdout = stdout.to_owned();
        self.stderr = stderr.to_owned();
        self
    }

    /// `(Status, StatusDetails)` at `round`, whether or not it is listed yet.
    pub fn state_at(&self, round: usize) -> (&str, &str) {
        match &self.end {
            Some((at, status, details)) if *at <= round => (status, details),
            _ if self.running_at.is_some_and(|at| at <= round) => ("InProgress", "InProgress"),
            _ => ("Pending", "Pending"),
        }
    }

    /// Its final `(Status, StatusDetails)`, if it ends.
    pub fn final_state(&self) -> Option<(&str, &str)> {
        self.end.as_ref().map(|(_, s, d)| (s.as_str(), d.as_str()))
    }

    /// The GetCommandInvocation body at `round` (output only once it ended).
    pub fn get_body_at(&self, round: usize) -> Value {
        let (status, details) = self.state_at(round);
        let (stdout, stderr) = match is_running(status) {
            true => ("", ""),
            false => (self.stdout.as_str(), self.stderr.as_str()),
        };
        let mut body = invocation(status, details, stdout, stderr);
        body["InstanceId"] = json!(self.instance_id);
        body
    }

    /// The GetCommandInvocation body once it ended (its state forever otherwise).
    pub fn final_get_body(&self) -> Value {
        self.get_body_at(usize::MAX)
    }

    /// Its ListCommandInvocations record at `round`; `index` orders `RequestedDateTime`.
    fn listed_record(&self, round: usize, index: usize) -> Value {
        let (status, details) = self.state_at(round);
        let output = listed_output(status, &self.stdout, &self.stderr);
        let mut record = listed_invocation(&self.instance_id, status, details, &output);
        record["RequestedDateTime"] = json!(epoch_ms(REQUESTED_AT_MS + index as u64));
        record
    }
}

/// The `Output` ListCommandInvocations gives for a step in `status` that printed these: nothing
/// while it runs, then the first [`LIST_OUTPUT_CAP`] characters of stdout and stderr together.
pub fn listed_output(status: &str, stdout: &str, stderr: &str) -> String {
    if is_running(status) {
        return String::new();
    }
    let both = format!("{stdout}{stderr}");
    both.chars().take(LIST_OUTPUT_CAP).collect()
}

/// A scripted fleet of invocations of [`CMD_ID`] changing over rounds. ListCommands answers
/// with the command's counts (derived from the members: `TargetCount` counts the targeted
/// ones, `CompletedCount` the terminal ones among them, `ErrorCount` the Failed and Execution
/// Timed Out ones, `DeliveryTimedOutCount` the Delivery Timed Out ones) and its status (derived
/// unless scripted with [`Timeline::command_status_from`]); ListCommandInvocations pages the
/// listed members in their order, and GetCommandInvocation answers for any listed member, all
/// from the state of the latest round (less [`Timeline::listing_lag`]).
#[derive(Clone, Debug)]
pub struct Timeline {
    members: Vec<Member>,
    visible_at: Option<usize>,
    /// While not visible, ListCommands answers `InvalidCommandId` instead of an empty list.
    invisible_as_invalid_id: bool,
    command_states: Vec<(usize, String, String)>,
    listing_lag: usize,
    script: Script,
    round_every: Option<Duration>,
    /// When the first request arrived (round 1 with [`Timeline::round_every`]).
    first_request: OnceLock<Instant>,
}

impl Timeline {
    /// These members, listed in this order; the command is visible from round 1.
    pub fn new(members: Vec<Member>) -> Timeline {
        Timeline {
            members,
            visible_at: Some(1),
            invisible_as_invalid_id: false,
            command_states: Vec::new(),
            listing_lag: 0,
            script: Script::default(),
            round_every: None,
            first_request: OnceLock::new(),
        }
    }

    /// Rounds follow the clock instead of ListCommands calls: round 1 begins with the first
    /// request of any kind, and a new round every `period` after it (for clients that do not
    /// call ListCommands, such as the single-invocation wait).
    pub fn round_every(mut self, period: Duration) -> Timeline {
        assert!(!period.is_zero(), "a round lasts some time");
        self.round_every = Some(period);
        self
    }

    /// The command is visible from `round` on (ListCommands lists it, the other calls find it).
    pub fn visible_from(mut self, round: usize) -> Timeline {
        self.visible_at = Some(round);
        self
    }

    pub fn never_visible(mut self) -> Timeline {
        self.visible_at = None;
        self
    }

    pub fn invisible_as_invalid_command_id(mut self) -> Timeline {
        self.invisible_as_invalid_id = true;
        self
    }

    /// From `round` on (until a later entry), the command's `Status` and `StatusDetails` are
    /// these instead of the ones derived from the members.
    pub fn command_status_from(mut self, round: usize, status: &str, details: &str) -> Timeline {
        self.command_states
            .push((round, status.into(), details.into()));
        self.command_states.sort_by_key(|(r, _, _)| *r);
        self
    }

    /// ListCommandInvocations and GetCommandInvocation see the members as they were `rounds`
    /// rounds earlier than ListCommands does (the counts run ahead of the listing).
    pub fn listing_lag(mut self, rounds: usize) -> Timeline {
        self.listing_lag = rounds;
        self
    }

    /// The first `steps.len()` ListCommandInvocations requests for page `page` (1 is the request
    /// without a NextToken) made during round `round` get these answers, one each.
    pub fn fail_list_page(mut self, round: usize, page: usize, steps: Vec<Step>) -> Timeline {
        self.script.fail(
            LIST_COMMAND_INVOCATIONS,
            Some(round),
            Some(page),
            &[],
            steps,
        );
        self
    }

    /// Every GetCommandInvocation answer comes after this delay (to see calls overlap).
    pub fn get_delay(mut self, delay: Duration) -> Timeline {
        self.script.delay(GET_COMMAND_INVOCATION, None, delay);
        self
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn member(&self, instance_id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.instance_id == instance_id)
    }

    /// The members' instance ids, in listing order.
    pub fn instance_ids(&self) -> Vec<String> {
        self.members.iter().map(|m| m.instance_id.clone()).collect()
    }

    pub fn is_visible_at(&self, round: usize) -> bool {
        self.visible_at.is_some_and(|at| at <= round)
    }

    fn targeted_at(&self, round: usize) -> impl Iterator<Item = (&str, &str)> {
        self.members
            .iter()
            .filter(move |m| m.targeted_at <= round)
            .map(move |m| m.state_at(round))
    }

    /// The ListCommands `Command` record at `round` (whether or not it is visible then): its
    /// scripted status, or the one its targeted members sum up to ([`command_record`]).
    pub fn command_at(&self, round: usize) -> Value {
        let targeted: Vec<(&str, &str)> = self.targeted_at(round).collect();
        let mut command = command_record(&targeted);
        if let Some((_, s, d)) = self.command_states.iter().rfind(|(r, _, _)| *r <= round) {
            command["Status"] = json!(s);
            command["StatusDetails"] = json!(d);
        }
        command
    }

    /// The members ListCommandInvocations lists at `round`, in order, with their index.
    pub fn listed_at(&self, round: usize) -> Vec<(usize, &Member)> {
        let seen = round.saturating_sub(self.listing_lag);
        self.members
            .iter()
            .enumerate()
            .filter(|_| self.is_visible_at(round))
            .filter(|(_, m)| m.listed_at <= seen && m.targeted_at <= seen)
            .collect()
    }

    /// The ListCommandInvocations records at `round`, in listing order.
    pub fn records_at(&self, round: usize) -> Vec<Value> {
        let seen = round.saturating_sub(self.listing_lag);
        self.listed_at(round)
            .into_iter()
            .map(|(i, m)| m.listed_record(seen, i))
            .collect()
    }

    /// What GetCommandInvocation answers for `instance_id` at `round`: the body, or `None` for
    /// `InvocationDoesNotExist`.
    pub fn get_body_at(&self, instance_id: &str, round: usize) -> Option<Value> {
        let seen = round.saturating_sub(self.listing_lag);
        self.listed_at(round)
            .into_iter()
            .find(|(_, m)| m.instance_id == instance_id)
            .map(|(_, m)| m.get_body_at(seen))
    }

    fn list_commands(&self, body: &Body, round: usize) -> Result<Step, Step> {
        let command_id = body.command_id()?;
        let visible = self.is_visible_at(round) && command_id.is_none_or(|id| id == CMD_ID);
        Ok(match visible {
            true => Step::ok(&json!({ "Commands": [self.command_at(round)] })),
            false if self.invisible_as_invalid_id && command_id.is_some() => {
                Step::error("InvalidCommandId", "")
            }
            false => Step::ok(&json!({ "Commands": [] })),
        })
    }

    fn list(&self, body: &Body, round: usize) -> Result<Step, Step> {
        let list = ListInvocations::parse(body)?;
        let records: Vec<Value> = self
            .records_at(round)
            .into_iter()
            .filter(|_| list.command_id.is_none_or(|id| id == CMD_ID))
            .filter(|r| list.instance_id.is_none_or(|id| r["InstanceId"] == id))
            .collect();
        let response = list.page(records);
        Ok(Step::ok(&response))
    }

    fn get(&self, body: &Body, round: usize) -> Result<Step, Step> {
        let command_id = body.command_id()?;
        let (Some(command_id), Some(instance_id)) = (command_id, body.string("InstanceId")?) else {
            return Err(validation("CommandId and InstanceId are required".into()));
        };
        if body
            .string("PluginName")?
            .is_some_and(|p| p != SHELL_PLUGIN)
        {
            return Ok(Step::error("InvalidPluginName", ""));
        }
        Ok(match self.get_body_at(instance_id, round) {
            Some(record) if command_id == CMD_ID => Step::ok(&record),
            _ => Step::not_found(),
        })
    }
}

impl World for Timeline {
    fn begins_round(&self, call: &Incoming, _log: &[Call]) -> bool {
        call.target == LIST_COMMANDS
    }

    fn answer(&self, call: &Incoming, round: usize) -> Answer {
        let first = *self.first_request.get_or_init(Instant::now);
        let round = match self.round_every {
            None => round,
            Some(period) => 1 + (first.elapsed().as_nanos() / period.as_nanos()) as usize,
        };
        let body = match Body::parse(call.body) {
            Ok(body) => body,
            Err(step) => return step.into(),
        };
        let answer = match call.target {
            LIST_COMMANDS => self.list_commands(&body, round),
            LIST_COMMAND_INVOCATIONS => self.list(&body, round),
            GET_COMMAND_INVOCATION => self.get(&body, round),
            target => Ok(Step::unknown_operation(target)),
        };
        answer.unwrap_or_else(|e| e).into()
    }

    fn script(&self) -> Script {
        self.script.clone()
    }
}

impl From<Vec<Member>> for Timeline {
    fn from(members: Vec<Member>) -> Timeline {
        Timeline::new(members)
    }
}

impl FakeSsm {
    /// A fake answering ListCommands, ListCommandInvocations and GetCommandInvocation from one
    /// scripted fleet [`Timeline`] (or a plain `Vec` of [`Member`]s).
    pub fn with_timeline(timeline: impl Into<Timeline>) -> FakeSsm {
        FakeSsm::serve(timeline.into())
    }
}
