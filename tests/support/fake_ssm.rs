//! The fake SSM endpoint (AWS JSON 1.1 over [`super::http`]) and the scripted-world engine
//! every SSM fake runs on: one invocation's answers in turn, a listing served in pages, a
//! fleet's timeline ([`super::timeline`]), multi-step invocations ([`super::fake_multi`]) and
//! maintenance windows ([`super::fake_mw`]).
//!
//! A [`World`] answers a call (its X-Amz-Target and JSON body) from its state at a *round*: it
//! says which calls begin a round, and the engine counts them. The engine also plays the
//! faults and delays scripted for a target, a round, a page (1 without a NextToken, then the
//! page a [`token`] names) or the body's fields, and logs every call with its round, page and
//! answer ([`Call`]), so that tests count what the binary paid for, round by round.
//!
//! Tokens are opaque-looking and tied to their query, as SSM's are; [`Body`] type-checks and
//! validates requests as the service does. Dropping the fake stops it.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::http::{self, Reply, Request, Server};

pub const GET_COMMAND_INVOCATION: &str = "AmazonSSM.GetCommandInvocation";
pub const LIST_COMMAND_INVOCATIONS: &str = "AmazonSSM.ListCommandInvocations";
pub const LIST_COMMANDS: &str = "AmazonSSM.ListCommands";
/// SSM's default and largest `MaxResults` for ListCommandInvocations.
pub const LIST_PAGE_SIZE: usize = 50;
/// What ListCommandInvocations' `Output` keeps of a step's stdout and stderr together.
pub const LIST_OUTPUT_CAP: usize = 2_500;

/// A well-formed 36-character command id.
pub const CMD_ID: &str = "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60";
/// A well-formed 17-character instance id.
pub const INSTANCE_ID: &str = "i-0123456789abcdef0";
/// The plugin of an `AWS-RunShellScript` command.
pub const SHELL_PLUGIN: &str = "aws:runShellScript";

/// `RequestedDateTime` of the records in epoch milliseconds (2024-05-14T09:12:31.291Z).
pub const REQUESTED_AT_MS: u64 = 1_715_677_951_291;
/// The same as SSM sends it: epoch seconds with milliseconds, `1715677951.291`.
pub const REQUESTED_AT: f64 = epoch_ms(REQUESTED_AT_MS);

/// Terminal `(Status, StatusDetails)` pairs of invocations.
pub const SUCCESS: (&str, &str) = ("Success", "Success");
pub const FAILED: (&str, &str) = ("Failed", "Failed");
pub const EXECUTION_TIMED_OUT: (&str, &str) = ("TimedOut", "Execution Timed Out");
pub const UNDELIVERABLE: (&str, &str) = ("Failed", "Undeliverable");

/// Epoch seconds `ms / 1000` as the closest `f64`: its shortest form, the one the fake sends,
/// is exactly the decimal milliseconds (`1715677951291` → `1715677951.291`).
pub const fn epoch_ms(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// A well-formed 17-character instance id for the `i`-th node of a fleet (`i-0a11…` + `i` in hex).
pub fn fleet_instance_id(i: usize) -> String {
    format!("i-0a11{:013x}", i)
}

/// Statuses in which an invocation (or a step) is not over.
pub fn is_running(status: &str) -> bool {
    matches!(status, "Pending" | "InProgress" | "Delayed" | "Cancelling")
}

/// Status details of an invocation (or a step) that never reached its node.
pub fn never_started(details: &str) -> bool {
    matches!(
        details,
        "Pending" | "Delayed" | "Undeliverable" | "Delivery Timed Out"
    )
}

// --- Answers -------------------------------------------------------------------------------------

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Step {
    /// Answer with this HTTP status and this JSON body text.
    Json(u16, String),
    /// Answer with an AWS JSON 1.1 error: status, `__type` code, message.
    Error(u16, String, String),
    /// Answer `500 Internal Server Error` with an `InternalServerError` body.
    Status500,
    /// Read the request, then close the socket without answering.
    DropConnection,
    /// Wait this long, then play the inner step.
    Delay(Duration, Box<Step>),
}

impl Step {
    /// `200 OK` with this JSON.
    pub fn ok(body: &Value) -> Step {
        Step::Json(200, body.to_string())
    }

    /// `200 OK` with this exact body text (to control key order and escapes).
    pub fn ok_raw(body: &str) -> Step {
        Step::Json(200, body.to_owned())
    }

    /// `400` with this error code and message.
    pub fn error(code: &str, message: impl Into<String>) -> Step {
        Step::Error(400, code.into(), message.into())
    }

    /// `400 InvocationDoesNotExist`, what SSM answers while an invocation is not visible yet.
    pub fn not_found() -> Step {
        Step::error("InvocationDoesNotExist", "")
    }

    pub fn throttled() -> Step {
        Step::error("ThrottlingException", "Rate exceeded")
    }

    pub fn access_denied(message: &str) -> Step {
        Step::error("AccessDeniedException", message)
    }

    pub fn unknown_operation(target: &str) -> Step {
        Step::error(
            "UnknownOperationException",
            format!("the fake does not implement {target:?}"),
        )
    }

    /// The inner step, played after `delay`.
    pub fn delayed(delay: Duration, inner: Step) -> Step {
        Step::Delay(delay, Box::new(inner))
    }

    fn reply(self, seq: usize) -> Reply {
        let json = |status, body: String| {
            Reply::send(status, "application/x-amz-json-1.1", body).with_header(
                "x-amzn-RequestId",
                format!("6f1e7c2a-0000-4000-8000-{seq:012x}"),
            )
        };
        match self {
            Step::Json(status, body) => json(status, body),
            Step::Error(status, code, message) => json(status, error_body(&code, &message)),
            Step::Status500 => json(
                500,
                error_body("InternalServerError", "An internal error occurred."),
            ),
            Step::DropConnection => Reply::Drop,
            Step::Delay(delay, inner) => Reply::Delay(delay, Box::new(inner.reply(seq))),
        }
    }
}

fn error_body(code: &str, message: &str) -> String {
    if message.is_empty() {
        json!({ "__type": code }).to_string()
    } else {
        json!({ "__type": code, "message": message }).to_string()
    }
}

pub fn validation(message: String) -> Step {
    Step::error("ValidationException", message)
}

pub fn serialization(message: String) -> Step {
    Step::error("SerializationException", message)
}

// --- Requests and pages --------------------------------------------------------------------------

/// A request body's fields, type-checked and validated as the service does.
pub struct Body<'a>(pub &'a Map<String, Value>);

impl<'a> Body<'a> {
    pub fn parse(body: &'a Value) -> Result<Body<'a>, Step> {
        body.as_object()
            .map(Body)
            .ok_or_else(|| serialization("the request body is not a JSON object".into()))
    }

    pub fn string(&self, name: &str) -> Result<Option<&'a str>, Step> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(serialization(format!(
                "{name} must be a string, got {other}"
            ))),
        }
    }

    pub fn flag(&self, name: &str) -> Result<bool, Step> {
        match self.0.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(serialization(format!(
                "{name} must be a boolean, got {other}"
            ))),
        }
    }

    /// A command ID, if given, of the 36 characters the service requires.
    pub fn command_id(&self) -> Result<Option<&'a str>, Step> {
        let id = self.string("CommandId")?;
        if let Some(id) = id
            && id.chars().count() != 36
        {
            return Err(validation(format!(
                "1 validation error detected: Value '{id}' at 'commandId' failed to satisfy \
                 constraint: Member must have length equal to 36"
            )));
        }
        Ok(id)
    }

    pub fn max_results(&self, min: usize, max: usize, default: usize) -> Result<usize, Step> {
        let Some(v) = self.0.get("MaxResults") else {
            return Ok(default);
        };
        let bound = |n: i64, what: &str, limit: usize| {
            validation(format!(
                "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy \
                 constraint: Member must have value {what} than or equal to {limit}"
            ))
        };
        match v.as_i64() {
            None => Err(serialization(format!(
                "MaxResults must be an integer, got {v}"
            ))),
            Some(n) if n < min as i64 => Err(bound(n, "greater", min)),
            Some(n) if n > max as i64 => Err(bound(n, "less", max)),
            Some(n) => Ok(n as usize),
        }
    }

    /// `(page, offset)` of the request's NextToken for `query` (`(1, 0)` without one).
    pub fn position(&self, query: u64) -> Result<(usize, usize), Step> {
        match self.string("NextToken")?.filter(|t| !t.is_empty()) {
            None => Ok((1, 0)),
            Some(t) => untoken(t, query).ok_or_else(|| {
                Step::error("InvalidNextToken", "The specified token is not valid.")
            }),
        }
    }
}

/// A ListCommandInvocations request, checked as the service checks it, and the page it asks for.
pub struct ListInvocations<'a> {
    pub command_id: Option<&'a str>,
    pub instance_id: Option<&'a str>,
    pub details: bool,
    size: usize,
    query: u64,
    position: (usize, usize),
}

impl<'a> ListInvocations<'a> {
    pub fn parse(body: &Body<'a>) -> Result<ListInvocations<'a>, Step> {
        let command_id = body.command_id()?;
        let instance_id = body.string("InstanceId")?;
        let details = body.flag("Details")?;
        let size = body.max_results(1, LIST_PAGE_SIZE, LIST_PAGE_SIZE)?;
        let query = fingerprint(&(command_id, instance_id, details));
        let position = body.position(query)?;
        Ok(ListInvocations {
            command_id,
            instance_id,
            details,
            size,
            query,
            position,
        })
    }

    /// The page of `records` (those the filters keep) it asks for; without Details, no plugins.
    pub fn page(&self, records: Vec<Value>) -> Value {
        let records: Vec<Value> = records
            .into_iter()
            .map(|mut r| {
                if !self.details {
                    r.as_object_mut().unwrap().remove("CommandPlugins");
                }
                r
            })
            .collect();
        let (position, size, query) = (self.position, self.size, self.query);
        page_response("CommandInvocations", &records, position, size, query, false)
    }
}

/// What a NextToken is tied to: a hash of the query's filters.
pub fn fingerprint(query: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    query.hash(&mut h);
    h.finish()
}

/// An opaque-looking token (base64 alphabet, `/`, `+` and `=` included, as SSM's are) that
/// names the page, the offset and the query it belongs to.
pub fn token(query: u64, page: usize, offset: usize) -> String {
    format!("AAEAAQ{query:016x}/{page:04}+{offset:06}rZ9eXAMPLE==")
}

/// `(page, offset)` of a token issued for `query`; `None` for anything else.
pub fn untoken(token: &str, query: u64) -> Option<(usize, usize)> {
    let rest = token.strip_prefix("AAEAAQ")?.strip_suffix("rZ9eXAMPLE==")?;
    let (fp, rest) = rest.split_once('/')?;
    let (page, offset) = rest.split_once('+')?;
    (u64::from_str_radix(fp, 16).ok()? == query).then_some(())?;
    Some((page.parse().ok()?, offset.parse().ok()?))
}

/// The page a request asks for: 1 without a NextToken (or an empty one), the page a token of
/// these fakes names, 0 for any other token.
pub fn page_of(body: &Value) -> usize {
    match body.get("NextToken").and_then(Value::as_str) {
        None | Some("") => 1,
        Some(t) => t
            .strip_prefix("AAEAAQ")
            .and_then(|r| r.get(17..21))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
    }
}

/// One page of `items` under `key`, from `offset`, `size` at most, with a NextToken when more
/// follow (`""` on the last page when `empty_token_at_end`).
pub fn page_response(
    key: &str,
    items: &[Value],
    (page, offset): (usize, usize),
    size: usize,
    query: u64,
    empty_token_at_end: bool,
) -> Value {
    let start = offset.min(items.len());
    let end = (offset + size).min(items.len());
    let mut response = Map::new();
    response.insert(key.into(), Value::Array(items[start..end].to_vec()));
    if end < items.len() {
        response.insert("NextToken".into(), json!(token(query, page + 1, end)));
    } else if empty_token_at_end {
        response.insert("NextToken".into(), json!(""));
    }
    Value::Object(response)
}

// --- Records -------------------------------------------------------------------------------------

/// A realistic GetCommandInvocation response body for [`CMD_ID`] on [`INSTANCE_ID`].
///
/// `ResponseCode` is 0 for Success, -1 while pending or running and for what never reached
/// its node (then without start time), 1 otherwise, as SSM reports it.
pub fn invocation(status: &str, status_details: &str, stdout: &str, stderr: &str) -> Value {
    let (running, unstarted) = (is_running(status), never_started(status_details));
    let response_code = response_code(status, status_details);
    let (start, end, elapsed) = match (unstarted, running) {
        (true, _) => ("", "", ""),
        (false, true) => ("2024-05-14T09:12:31.291Z", "", ""),
        (false, false) => (
            "2024-05-14T09:12:31.291Z",
            "2024-05-14T09:12:33.807Z",
            "PT2.516S",
        ),
    };
    json!({
        "CommandId": CMD_ID,
        "InstanceId": INSTANCE_ID,
        "Comment": "",
        "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT",
        "PluginName": SHELL_PLUGIN,
        "ResponseCode": response_code,
        "ExecutionStartDateTime": start,
        "ExecutionElapsedTime": elapsed,
        "ExecutionEndDateTime": end,
        "Status": status,
        "StatusDetails": status_details,
        "StandardOutputContent": stdout,
        "StandardOutputUrl": "",
        "StandardErrorContent": stderr,
        "StandardErrorUrl": "",
        "CloudWatchOutputConfig": cloudwatch("", false)
    })
}

/// SSM's `ResponseCode`: 0 for Success, -1 while pending or running and for what never reached
/// its node, 1 otherwise.
pub fn response_code(status: &str, details: &str) -> i64 {
    match status {
        "Success" => 0,
        _ if is_running(status) || never_started(details) => -1,
        _ => 1,
    }
}

/// An empty `NotificationConfig`, as SSM gives it.
pub fn no_notification() -> Value {
    json!({ "NotificationArn": "", "NotificationEvents": [], "NotificationType": "" })
}

/// `CloudWatchOutputConfig` as SSM gives it.
pub fn cloudwatch(group: &str, enabled: bool) -> Value {
    json!({ "CloudWatchLogGroupName": group, "CloudWatchOutputEnabled": enabled })
}

/// [`invocation`] wrapped in a `200 OK` step.
pub fn invocation_step(status: &str, status_details: &str, stdout: &str, stderr: &str) -> Step {
    Step::ok(&invocation(status, status_details, stdout, stderr))
}

/// A realistic ListCommandInvocations record for one node of an `AWS-RunShellScript`
/// command ([`CMD_ID`]), with one `aws:runShellScript` plugin whose `Output` is `output`.
///
/// Keys are those SSM sends; timestamps are epoch-seconds numbers. The plugin's
/// `ResponseCode` is 0 for Success, -1 while pending or running and 1 otherwise; it has
/// no start time before it was delivered (Pending, Delayed, Undeliverable, Delivery Timed
/// Out) and no finish time before it ended.
pub fn listed_invocation(
    instance_id: &str,
    status: &str,
    status_details: &str,
    output: &str,
) -> Value {
    let started = !never_started(status_details);
    let code = response_code(status, status_details);
    let times = started.then_some((REQUESTED_AT_MS + 500, REQUESTED_AT_MS + 2_750));
    let plugin = listed_plugin(SHELL_PLUGIN, (status, status_details), code, output, times);
    json!({
        "CommandId": CMD_ID,
        "InstanceId": instance_id,
        "InstanceName": "",
        "Comment": "",
        "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT",
        "RequestedDateTime": REQUESTED_AT,
        "Status": status,
        "StatusDetails": status_details,
        "TraceOutput": "",
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "CommandPlugins": [plugin],
        "ServiceRole": "",
        "NotificationConfig": no_notification(),
        "CloudWatchOutputConfig": cloudwatch("", false)
    })
}

/// One `CommandPlugins` entry of a ListCommandInvocations record. `times`: when it started and
/// would finish (epoch ms), for a plugin that started; the finish is shown once it ended.
pub fn listed_plugin(
    name: &str,
    (status, details): (&str, &str),
    code: i64,
    output: &str,
    times: Option<(u64, u64)>,
) -> Value {
    let mut plugin = json!({
        "Name": name,
        "Status": status,
        "StatusDetails": details,
        "ResponseCode": code,
        "Output": output,
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "OutputS3Region": "us-east-1",
        "OutputS3BucketName": "",
        "OutputS3KeyPrefix": ""
    });
    if let Some((start, finish)) = times {
        plugin["ResponseStartDateTime"] = json!(epoch_ms(start));
        if !is_running(status) {
            plugin["ResponseFinishDateTime"] = json!(epoch_ms(finish));
        }
    }
    plugin
}

/// The ListCommands `Command` record of [`CMD_ID`] (AWS-RunShellScript, sent to the targets
/// tag:role=web) whose invocations are in these `(Status, StatusDetails)`: its status sums
/// them up (Pending while all are, Cancelling while one is, InProgress while one runs, then
/// Success, Failed, the TimedOut one or Cancelled), its counts count them.
pub fn command_record<S: AsRef<str>>(states: &[(S, S)]) -> Value {
    let states: Vec<(&str, &str)> = states
        .iter()
        .map(|(s, d)| (s.as_ref(), d.as_ref()))
        .collect();
    let count = |f: &dyn Fn(&str, &str) -> bool| states.iter().filter(|(s, d)| f(s, d)).count();
    let any = |f: &dyn Fn(&str, &str) -> bool| count(f) > 0;
    let (status, details) = if states.iter().all(|(s, _)| *s == "Pending") {
        ("Pending", "Pending")
    } else if any(&|s, _| s == "Cancelling") {
        ("Cancelling", "Cancelling")
    } else if any(&|s, _| is_running(s)) {
        ("InProgress", "In Progress")
    } else if states.iter().all(|(s, _)| *s == "Success") {
        ("Success", "Success")
    } else if any(&|s, _| s == "Failed") {
        ("Failed", "Failed")
    } else if let Some(&timed_out) = states.iter().find(|(s, _)| *s == "TimedOut") {
        timed_out
    } else {
        ("Cancelled", "Cancelled")
    };
    json!({
        "CommandId": CMD_ID,
        "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT",
        "Comment": "",
        "ExpiresAfter": epoch_ms(REQUESTED_AT_MS + 7_200_000),
        "Parameters": { "commands": ["echo hello from $(hostname)"] },
        "InstanceIds": [],
        "Targets": [{ "Key": "tag:role", "Values": ["web"] }],
        "RequestedDateTime": REQUESTED_AT,
        "Status": status,
        "StatusDetails": details,
        "OutputS3Region": "us-east-1",
        "OutputS3BucketName": "",
        "OutputS3KeyPrefix": "",
        "MaxConcurrency": "50",
        "MaxErrors": "0",
        "TargetCount": states.len(),
        "CompletedCount": count(&|s, _| !is_running(s)),
        "ErrorCount": count(&|_, d| d == "Failed" || d == "Execution Timed Out"),
        "DeliveryTimedOutCount": count(&|_, d| d == "Delivery Timed Out"),
        "ServiceRole": "",
        "NotificationConfig": no_notification(),
        "CloudWatchOutputConfig": cloudwatch("", false),
        "TimeoutSeconds": 3600,
        "TriggeredAlarms": []
    })
}

/// `n` successful invocations of [`CMD_ID`] on nodes [`fleet_instance_id`]`(0..n)`, each
/// requested one millisecond after the previous one (so every record differs), each plugin
/// printing `hello from <instance id>`.
pub fn fleet_records(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let id = fleet_instance_id(i);
            let mut record =
                listed_invocation(&id, "Success", "Success", &format!("hello from {id}\n"));
            record["RequestedDateTime"] = json!(epoch_ms(REQUESTED_AT_MS + i as u64));
            record
        })
        .collect()
}

// --- The engine ----------------------------------------------------------------------------------

/// A call as a [`World`] is asked to answer it.
pub struct Incoming<'a> {
    /// The full X-Amz-Target (`AmazonSSM.<Operation>`), `""` when the header is missing.
    pub target: &'a str,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub body: &'a Value,
    /// 1 without a NextToken, else the page its token names (0: a token of no fake).
    pub page: usize,
}

/// A world's answer, and whether the call is to be noted as answered from a lagging record.
pub struct Answer {
    pub step: Step,
    pub lagged: bool,
}

impl From<Step> for Answer {
    fn from(step: Step) -> Answer {
        Answer {
            step,
            lagged: false,
        }
    }
}

/// A scripted world: what each call is answered, and which calls begin a round.
pub trait World: Send + Sync + 'static {
    /// Whether `call` begins a new round; `log` holds every call before it.
    fn begins_round(&self, _call: &Incoming, _log: &[Call]) -> bool {
        false
    }

    /// The answer to `call` in round `round` (0 before the first round began).
    fn answer(&self, call: &Incoming, round: usize) -> Answer;

    /// The faults and delays scripted for it.
    fn script(&self) -> Script {
        Script::default()
    }
}

impl<W: World> World for Arc<W> {
    fn begins_round(&self, call: &Incoming, log: &[Call]) -> bool {
        (**self).begins_round(call, log)
    }

    fn answer(&self, call: &Incoming, round: usize) -> Answer {
        (**self).answer(call, round)
    }

    fn script(&self) -> Script {
        (**self).script()
    }
}

/// A world that answers every call with a function of its target and body.
struct Handled<F>(F);

impl<F: Fn(&str, &Value) -> Step + Send + Sync + 'static> World for Handled<F> {
    fn answer(&self, call: &Incoming, _round: usize) -> Answer {
        (self.0)(call.target, call.body).into()
    }
}

/// Answers played instead of a world's: for one target, in one round or any, for one page or
/// any, for requests whose body has these string fields; the steps one per request, in order
/// (or the first forever).
#[derive(Clone, Debug)]
struct Fault {
    target: String,
    round: Option<usize>,
    page: Option<usize>,
    fields: Vec<(String, String)>,
    steps: Vec<Step>,
    forever: bool,
}

/// Faults and delays scripted for a world.
#[derive(Clone, Debug, Default)]
pub struct Script {
    faults: Vec<Fault>,
    /// `(target, round or any, delay)`: every answer to it then (faults included) is delayed.
    delays: Vec<(String, Option<usize>, Duration)>,
}

impl Script {
    /// The first `steps.len()` requests to `target` for `page` (any page: `None`) in `round`
    /// (any round: `None`) whose body has these `fields` get these answers.
    pub fn fail(
        &mut self,
        target: &str,
        round: Option<usize>,
        page: Option<usize>,
        fields: &[(&str, &str)],
        steps: Vec<Step>,
    ) {
        self.faults.push(Fault {
            target: target.into(),
            round,
            page,
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            steps,
            forever: false,
        });
    }

    /// Every such request gets `step`.
    pub fn fail_always(
        &mut self,
        target: &str,
        page: Option<usize>,
        fields: &[(&str, &str)],
        step: Step,
    ) {
        self.fail(target, None, page, fields, vec![step]);
        self.faults.last_mut().unwrap().forever = true;
    }

    pub fn delay(&mut self, target: &str, round: Option<usize>, delay: Duration) {
        self.delays.push((target.into(), round, delay));
    }
}

/// One call as the fake saw and answered it.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    /// Header names are lower-cased.
    pub headers: Vec<(String, String)>,
    /// The X-Amz-Target, `""` when missing.
    pub target: String,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub body: Value,
    /// The round it was answered in (0: before the first round began).
    pub round: usize,
    /// 1 without a NextToken, else the page its token names (0 for a foreign token).
    pub page: usize,
    /// The HTTP status answered (0: the connection was dropped).
    pub status: u16,
    /// The error code answered (`""` for none).
    pub code: String,
    /// A `200 OK` body as JSON (`Null` otherwise).
    pub answer: Value,
    /// The `NextToken` of a `200 OK` answer, as sent (`Some("")` for an empty one).
    pub next_token: Option<String>,
    /// Answered by a scripted fault.
    pub faulted: bool,
    /// Answered from a record lagging the listing ([`super::fake_multi::Lag`]).
    pub lagged: bool,
    /// When it had been read completely.
    pub at: Instant,
}

impl Call {
    pub fn is(&self, target: &str) -> bool {
        self.target == target
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }

    /// The string member `name` of the body.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.body.get(name).and_then(Value::as_str)
    }

    pub fn instance_id(&self) -> Option<&str> {
        self.field("InstanceId")
    }

    pub fn plugin_name(&self) -> Option<&str> {
        self.field("PluginName")
    }

    /// Whether the SDK retries a request answered so (throttling, 5xx, no answer).
    pub fn retried(&self) -> bool {
        matches!(self.status, 0 | 429 | 500..)
            || matches!(
                self.code.as_str(),
                "ThrottlingException"
                    | "ThrottledException"
                    | "RequestLimitExceeded"
                    | "TooManyRequestsException"
            )
    }

    /// `Get`, `Get(step)`, `List`, `ListCommands`, `Cancel`, or the operation's name.
    pub fn short(&self) -> String {
        let op = self.target.trim_start_matches("AmazonSSM.");
        match (op, self.plugin_name()) {
            ("GetCommandInvocation", Some(p)) => format!("Get({p})"),
            ("GetCommandInvocation", None) => "Get".into(),
            ("ListCommandInvocations", _) => "List".into(),
            ("CancelCommand", _) => "Cancel".into(),
            _ => op.to_owned(),
        }
    }
}

#[derive(Default)]
struct Engine {
    round: usize,
    calls: Vec<Call>,
    fault_uses: Vec<usize>,
    /// Requests being answered, and the most at once, per target.
    in_flight: HashMap<String, (usize, usize)>,
}

struct Core {
    world: Box<dyn World>,
    script: Script,
    engine: Mutex<Engine>,
}

impl Core {
    fn fault(
        &self,
        engine: &mut Engine,
        target: &str,
        round: usize,
        page: usize,
        body: &Value,
    ) -> Option<Step> {
        for (i, f) in self.script.faults.iter().enumerate() {
            let matches = f.target == target
                && f.round.is_none_or(|r| r == round.max(1))
                && f.page.is_none_or(|p| p == page)
                && f.fields
                    .iter()
                    .all(|(k, v)| body.get(k).and_then(Value::as_str) == Some(v.as_str()));
            if !matches {
                continue;
            }
            if f.forever {
                return Some(f.steps[0].clone());
            }
            if engine.fault_uses[i] < f.steps.len() {
                engine.fault_uses[i] += 1;
                return Some(f.steps[engine.fault_uses[i] - 1].clone());
            }
        }
        None
    }
}

struct Serving(Arc<Core>);

impl http::Handler for Serving {
    fn answer(&self, request: &Request) -> Reply {
        let core = &self.0;
        let target = request.header("x-amz-target").unwrap_or("").to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let page = page_of(&body);
        let mut engine = core.engine.lock().unwrap();
        let call = Incoming {
            target: &target,
            body: &body,
            page,
        };
        if core.world.begins_round(&call, &engine.calls) {
            engine.round += 1;
        }
        let round = engine.round;
        let (step, faulted, lagged) = match core.fault(&mut engine, &target, round, page, &body) {
            Some(step) => (step, true, false),
            None => {
                let answer = core.world.answer(&call, round);
                (answer.step, false, answer.lagged)
            }
        };
        let step = match core
            .script
            .delays
            .iter()
            .find(|(t, r, _)| *t == target && r.is_none_or(|r| r == round.max(1)))
        {
            Some((_, _, delay)) => Step::delayed(*delay, step),
            None => step,
        };
        let mut inner = &step;
        while let Step::Delay(_, next) = inner {
            inner = next;
        }
        let (status, code, answer) = match inner {
            Step::Json(status, text) => (
                *status,
                String::new(),
                serde_json::from_str(text).unwrap_or(Value::Null),
            ),
            Step::Error(status, code, _) => (*status, code.clone(), Value::Null),
            Step::Status500 => (500, "InternalServerError".into(), Value::Null),
            Step::DropConnection => (0, String::new(), Value::Null),
            Step::Delay(..) => unreachable!(),
        };
        let answer = if status == 200 { answer } else { Value::Null };
        let next_token = answer
            .get("NextToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let flight = engine.in_flight.entry(target.clone()).or_default();
        flight.0 += 1;
        flight.1 = flight.1.max(flight.0);
        engine.calls.push(Call {
            method: request.method.clone(),
            path: request.path().to_owned(),
            headers: request.headers.clone(),
            target,
            body,
            round,
            page,
            status,
            code,
            answer,
            next_token,
            faulted,
            lagged,
            at: request.at,
        });
        step.reply(request.seq)
    }

    fn answered(&self, request: &Request) {
        let target = request.header("x-amz-target").unwrap_or("");
        if let Some(flight) = self.0.engine.lock().unwrap().in_flight.get_mut(target) {
            flight.0 -= 1;
        }
    }
}

/// A fake SSM endpoint serving a [`World`]. Shuts down when dropped.
pub struct FakeSsm {
    server: Server,
    core: Arc<Core>,
}

impl FakeSsm {
    /// A fake answering from `world`.
    pub fn serve(world: impl World) -> FakeSsm {
        let core = Arc::new(Core {
            script: world.script(),
            world: Box::new(world),
            engine: Mutex::new(Engine::default()),
        });
        core.engine.lock().unwrap().fault_uses = vec![0; core.script.faults.len()];
        FakeSsm {
            server: Server::start(Serving(Arc::clone(&core))),
            core,
        }
    }

    /// A fake answering GetCommandInvocation calls from `steps` (one step per call, the last
    /// one repeating forever); every call is a round.
    pub fn start(steps: Vec<Step>) -> FakeSsm {
        FakeSsm::serve(Basic { steps, fleet: None })
    }

    /// A fake whose every GetCommandInvocation call gets this one answer.
    pub fn always(step: Step) -> FakeSsm {
        FakeSsm::start(vec![step])
    }

    /// A fake answering ListCommandInvocations calls from `fleet` (a [`Fleet`] or a plain
    /// `Vec` of records); GetCommandInvocation calls get an error.
    pub fn with_fleet(fleet: impl Into<Fleet>) -> FakeSsm {
        FakeSsm::with_steps_and_fleet(Vec::new(), fleet)
    }

    /// A fake answering GetCommandInvocation calls from `steps` (as [`FakeSsm::start`]) and
    /// ListCommandInvocations calls from `fleet`.
    pub fn with_steps_and_fleet(steps: Vec<Step>, fleet: impl Into<Fleet>) -> FakeSsm {
        FakeSsm::serve(Basic {
            steps,
            fleet: Some(fleet.into()),
        })
    }

    /// A fake answering every call from `handler`, given the call's X-Amz-Target and body.
    pub fn with_handler(handler: impl Fn(&str, &Value) -> Step + Send + Sync + 'static) -> FakeSsm {
        FakeSsm::serve(Handled(handler))
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// POSTs one AWS JSON 1.1 call to the fake, as a client would: the status and body text.
    pub fn post(&self, target: &str, body: &Value) -> (u16, String) {
        let headers = [
            ("X-Amz-Target", target),
            ("Content-Type", "application/x-amz-json-1.1"),
        ];
        let answer = http::request(
            &self.url(),
            "POST",
            "/",
            &headers,
            body.to_string().as_bytes(),
        );
        let (status, body) = answer.expect("an answer");
        (status, String::from_utf8(body).expect("a UTF-8 body"))
    }

    /// [`FakeSsm::post`], the body parsed (`Null` when it is not JSON).
    pub fn call(&self, target: &str, body: &Value) -> (u16, Value) {
        let (status, body) = self.post(target, body);
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// Rounds begun so far.
    pub fn round(&self) -> usize {
        self.core.engine.lock().unwrap().round
    }

    /// Every call answered so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.core.engine.lock().unwrap().calls.clone()
    }

    pub fn calls_to(&self, target: &str) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.is(target)).collect()
    }

    /// How many calls to `target` were made (SDK retries included).
    pub fn count(&self, target: &str) -> usize {
        self.core
            .engine
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.is(target))
            .count()
    }

    /// How many requests of any kind arrived.
    pub fn total_requests(&self) -> usize {
        self.core.engine.lock().unwrap().calls.len()
    }

    /// The most calls to `target` the fake was answering at once.
    pub fn max_in_flight(&self, target: &str) -> usize {
        self.core
            .engine
            .lock()
            .unwrap()
            .in_flight
            .get(target)
            .map_or(0, |f| f.1)
    }

    /// The request bodies of the calls to `target`, in order.
    pub fn bodies(&self, target: &str) -> Vec<Value> {
        self.calls_to(target).into_iter().map(|c| c.body).collect()
    }

    /// The `200 OK` answers to `target`: the pages served, for a listing.
    pub fn served(&self, target: &str) -> Vec<Call> {
        self.calls_to(target)
            .into_iter()
            .filter(|c| c.status == 200)
            .collect()
    }

    /// The calls of each round, round 0 (before the first round began) included.
    pub fn rounds(&self) -> Vec<Vec<Call>> {
        let mut rounds = vec![Vec::new(); self.round() + 1];
        for call in self.calls() {
            rounds[call.round].push(call);
        }
        rounds
    }

    /// The calls, shortened ([`Call::short`]), grouped by round: `[(round, calls)]`.
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

    /// Waits (at most 20 s) until `ready` holds, checking it after every call; false if it
    /// never did.
    pub fn wait(&self, ready: impl Fn() -> bool) -> bool {
        self.server.wait_until(Duration::from_secs(20), ready)
    }

    /// Once the clients have exited: waits until every request they sent was read and
    /// handled ([`Server::settle`]).
    #[track_caller]
    pub fn settle(&self) {
        self.server.settle();
    }

    /// Asserts that nothing at all reached the endpoint: no connection, no request.
    #[track_caller]
    pub fn assert_untouched(&self) {
        self.server.settle();
        let why = format!("expected no request at all, got {:#?}", self.calls());
        assert_eq!(self.calls().len(), 0, "{why}");
        let why = "expected no connection at all";
        assert_eq!(self.server.connections(), 0, "{why}");
    }
}

// --- One invocation's answers in turn, and a listing in pages ------------------------------------

/// How the fake writes timestamp numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WireNumbers {
    /// Shortest decimal form: `1715677951.291`, `1715677951`.
    Plain,
    /// Java's `Double.toString`, as AWS's Java services often send them:
    /// `1.715677951291E9`, `1.715677951E9`.
    Java,
}

/// The invocations ListCommandInvocations lists, and how it serves them: in pages as SSM
/// serves them (`MaxResults` 1 to 50, default 50; `CommandId` and `InstanceId` filters;
/// `CommandPlugins` only with `Details: true`; a NextToken tied to the query), with faults
/// scripted per page.
#[derive(Clone, Debug)]
pub struct Fleet {
    records: Vec<Value>,
    script: Script,
    /// Without `Details`: `"CommandPlugins": []` instead of no key.
    empty_plugins: bool,
    numbers: WireNumbers,
    token_after_last_full_page: bool,
}

impl From<Vec<Value>> for Fleet {
    fn from(records: Vec<Value>) -> Fleet {
        Fleet::new(records)
    }
}

impl Fleet {
    /// These records, in this order (the order SSM lists them in).
    pub fn new(records: Vec<Value>) -> Fleet {
        Fleet {
            records,
            script: Script::default(),
            empty_plugins: false,
            numbers: WireNumbers::Plain,
            token_after_last_full_page: false,
        }
    }

    /// The first `steps.len()` requests for page `page` (1 is the request without a
    /// NextToken, 2 the one with the token the first page gave, …) are answered with these
    /// steps, one each, in order; later requests for that page get the page.
    pub fn fail_page(mut self, page: usize, steps: Vec<Step>) -> Fleet {
        self.script
            .fail(LIST_COMMAND_INVOCATIONS, None, Some(page), &[], steps);
        self
    }

    /// Every request for page `page` is answered with `step`.
    pub fn fail_page_always(mut self, page: usize, step: Step) -> Fleet {
        self.script
            .fail_always(LIST_COMMAND_INVOCATIONS, Some(page), &[], step);
        self
    }

    /// Without `Details`, send `"CommandPlugins": []` instead of leaving the key out.
    pub fn empty_plugin_list_without_details(mut self) -> Fleet {
        self.empty_plugins = true;
        self
    }

    /// Timestamps in Java's `Double.toString` form (`1.715677951291E9`).
    pub fn java_numbers(mut self) -> Fleet {
        self.numbers = WireNumbers::Java;
        self
    }

    /// A page that ends the list exactly when it is full still carries a NextToken, and the
    /// page after it is empty, without one (paginated AWS APIs do that).
    pub fn token_after_last_full_page(mut self) -> Fleet {
        self.token_after_last_full_page = true;
        self
    }

    /// The answer to one ListCommandInvocations request.
    fn answer(&self, body: &Value) -> Result<Step, Step> {
        let body = Body::parse(body)?;
        let command_id = body.command_id()?;
        let instance_id = body.string("InstanceId")?;
        let details = body.flag("Details")?;
        let size = body.max_results(1, LIST_PAGE_SIZE, LIST_PAGE_SIZE)?;
        let query = fingerprint(&(command_id, instance_id, details));
        let (page, offset) = body.position(query)?;
        let matching: Vec<Value> = self
            .records
            .iter()
            .filter(|r| command_id.is_none_or(|id| r["CommandId"] == id))
            .filter(|r| instance_id.is_none_or(|id| r["InstanceId"] == id))
            .map(|r| {
                let mut r = r.clone();
                if !details {
                    let obj = r.as_object_mut().unwrap();
                    match self.empty_plugins {
                        true => obj.insert("CommandPlugins".into(), json!([])),
                        false => obj.remove("CommandPlugins"),
                    };
                }
                r
            })
            .collect();
        let mut response = page_response(
            "CommandInvocations",
            &matching,
            (page, offset),
            size,
            query,
            false,
        );
        let end = (offset + size).min(matching.len());
        if self.token_after_last_full_page && end == matching.len() && end - offset.min(end) == size
        {
            response["NextToken"] = json!(token(query, page + 1, end));
        }
        let mut text = String::new();
        write_json(&mut text, &response, None, self.numbers);
        Ok(Step::Json(200, text))
    }
}

/// Keys whose numbers are timestamps on the wire.
const TIMESTAMP_KEYS: [&str; 3] = [
    "RequestedDateTime",
    "ResponseStartDateTime",
    "ResponseFinishDateTime",
];

/// Java's `Double.toString` for the magnitudes timestamps have.
fn java_double(f: f64) -> String {
    if f != 0.0 && (f.abs() < 1e-3 || f.abs() >= 1e7) {
        let s = format!("{f:e}");
        let (mantissa, exponent) = s.split_once('e').expect("{:e} has an exponent");
        let dot = if mantissa.contains('.') { "" } else { ".0" };
        format!("{mantissa}{dot}E{exponent}")
    } else {
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    }
}

/// `value` as compact JSON, timestamp numbers written as `numbers` says.
fn write_json(out: &mut String, value: &Value, key: Option<&str>, numbers: WireNumbers) {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_json(out, v, Some(k), numbers);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, v, None, numbers);
            }
            out.push(']');
        }
        Value::Number(n)
            if numbers == WireNumbers::Java && key.is_some_and(|k| TIMESTAMP_KEYS.contains(&k)) =>
        {
            out.push_str(&java_double(n.as_f64().expect("a JSON number")));
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The world of [`FakeSsm::start`]: GetCommandInvocation answered from `steps`, one per call,
/// the last one repeating; every such call is a round.
pub fn get_steps(steps: Vec<Step>) -> impl World {
    Basic { steps, fleet: None }
}

/// GetCommandInvocation answered from a list of steps, ListCommandInvocations from a fleet.
struct Basic {
    steps: Vec<Step>,
    fleet: Option<Fleet>,
}

impl World for Basic {
    fn begins_round(&self, call: &Incoming, _log: &[Call]) -> bool {
        call.target == GET_COMMAND_INVOCATION
    }

    fn answer(&self, call: &Incoming, round: usize) -> Answer {
        match (call.target, &self.fleet) {
            (GET_COMMAND_INVOCATION, _) if !self.steps.is_empty() => {
                self.steps[round.clamp(1, self.steps.len()) - 1].clone()
            }
            (LIST_COMMAND_INVOCATIONS, Some(fleet)) => {
                fleet.answer(call.body).unwrap_or_else(|e| e)
            }
            (target, _) => Step::unknown_operation(target),
        }
        .into()
    }

    fn script(&self) -> Script {
        self.fleet
            .as_ref()
            .map(|f| f.script.clone())
            .unwrap_or_default()
    }
}
