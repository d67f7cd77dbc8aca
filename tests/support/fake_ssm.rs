//! A scripted fake SSM endpoint speaking AWS JSON 1.1 over plain HTTP/1.1.
//!
//! Written with `std` only: a non-blocking accept loop on `127.0.0.1:0` and one
//! thread per connection (keep-alive: each connection thread keeps reading
//! requests until the client closes it). Every request is recorded (target,
//! JSON body, headers, arrival time) so tests can assert how many calls the
//! binary made, and that it made none at all.
//!
//! `AmazonSSM.GetCommandInvocation` calls are answered from a script: a list
//! of [`Step`]s consumed one per call, the last one repeating forever.
//!
//! `AmazonSSM.ListCommandInvocations` calls are answered from a [`Fleet`]: a
//! list of invocation records served in pages as SSM serves them (`MaxResults`
//! 1 to 50, default 50; `CommandId` and `InstanceId` filters; `CommandPlugins`
//! only with `Details: true`; an opaque `NextToken` tied to the query), with
//! faults (throttling, 500s, dropped connections, any [`Step`]) scripted per
//! page. A fake without a fleet answers that call `UnknownOperationException`.
//!
//! A fake started [`FakeSsm::with_timeline`] answers `AmazonSSM.ListCommands`,
//! ListCommandInvocations and GetCommandInvocation from one scripted fleet whose state is a
//! function of the round, a round being one ListCommands call: targets appearing late, the
//! listing lagging behind the counts, every terminal state, faults on any page of any round.
//! Each recorded request carries the round it was answered in, so tests can count calls per
//! round ([`FakeSsm::rounds`]).
//!
//! A fake started [`FakeSsm::with_handler`] answers every call from a [`Handler`] given the
//! call's X-Amz-Target and JSON body, so other scripted worlds (maintenance windows, say) reuse
//! the server, the recording and the [`Step`]s.
//!
//! Dropping the [`FakeSsm`] stops the accept loop and shuts down every open
//! connection, so no test can hang on it.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The X-Amz-Target of the call the script answers.
pub const GET_COMMAND_INVOCATION: &str = "AmazonSSM.GetCommandInvocation";
/// The X-Amz-Target of the call the fleet answers.
pub const LIST_COMMAND_INVOCATIONS: &str = "AmazonSSM.ListCommandInvocations";
/// SSM's default and largest `MaxResults` for ListCommandInvocations.
pub const LIST_PAGE_SIZE: usize = 50;

/// A well-formed 36-character command id.
pub const CMD_ID: &str = "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60";
/// A well-formed 17-character instance id.
pub const INSTANCE_ID: &str = "i-0123456789abcdef0";

/// One scripted answer to a GetCommandInvocation call.
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
    /// `200 OK` with this invocation record.
    pub fn ok(body: &Value) -> Step {
        Step::Json(200, body.to_string())
    }

    /// `200 OK` with this exact body text (to control key order and escapes).
    pub fn ok_raw(body: &str) -> Step {
        Step::Json(200, body.to_owned())
    }

    /// `400 InvocationDoesNotExist`, what SSM answers while an invocation is not visible yet.
    pub fn not_found() -> Step {
        Step::Error(400, "InvocationDoesNotExist".into(), String::new())
    }

    /// `400 ThrottlingException`.
    pub fn throttled() -> Step {
        Step::Error(400, "ThrottlingException".into(), "Rate exceeded".into())
    }

    /// `400 AccessDeniedException` with this message.
    pub fn access_denied(message: &str) -> Step {
        Step::Error(400, "AccessDeniedException".into(), message.into())
    }

    /// The inner step, played after `delay`.
    pub fn delayed(delay: Duration, inner: Step) -> Step {
        Step::Delay(delay, Box::new(inner))
    }
}

/// A realistic GetCommandInvocation response body.
///
/// `ResponseCode` is 0 for Success, 1 for other terminal states and -1 while
/// the invocation is still pending or running, as SSM reports it.
pub fn invocation(status: &str, status_details: &str, stdout: &str, stderr: &str) -> Value {
    let running = matches!(status, "Pending" | "InProgress" | "Delayed" | "Cancelling");
    let response_code = match status {
        "Success" => 0,
        _ if running => -1,
        _ => 1,
    };
    let end = if running {
        ""
    } else {
        "2024-05-14T09:12:33.807Z"
    };
    json!({
        "CommandId": CMD_ID,
        "InstanceId": INSTANCE_ID,
        "Comment": "",
        "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT",
        "PluginName": "aws:runShellScript",
        "ResponseCode": response_code,
        "ExecutionStartDateTime": "2024-05-14T09:12:31.291Z",
        "ExecutionElapsedTime": if running { "" } else { "PT2.516S" },
        "ExecutionEndDateTime": end,
        "Status": status,
        "StatusDetails": status_details,
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

/// [`invocation`] wrapped in a `200 OK` step.
pub fn invocation_step(status: &str, status_details: &str, stdout: &str, stderr: &str) -> Step {
    Step::ok(&invocation(status, status_details, stdout, stderr))
}

/// `RequestedDateTime` of [`listed_invocation`] records in epoch milliseconds
/// (2024-05-14T09:12:31.291Z).
pub const REQUESTED_AT_MS: u64 = 1_715_677_951_291;
/// The same as SSM sends it: epoch seconds with milliseconds, `1715677951.291`.
pub const REQUESTED_AT: f64 = epoch_ms(REQUESTED_AT_MS);

/// The plugin of an `AWS-RunShellScript` command.
pub const SHELL_PLUGIN: &str = "aws:runShellScript";

/// A well-formed 17-character instance id for the `i`-th node of a fleet (`i-0a11…` + `i` in hex).
pub fn fleet_instance_id(i: usize) -> String {
    format!("i-0a11{:013x}", i)
}

/// Epoch seconds `ms / 1000` as the closest `f64`: its shortest form, the one the fake sends,
/// is exactly the decimal milliseconds (`1715677951291` → `1715677951.291`).
pub const fn epoch_ms(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// A realistic ListCommandInvocations record for one node of an `AWS-RunShellScript`
/// command (`CMD_ID`), with one `aws:runShellScript` plugin whose `Output` is `output`.
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
    let running = matches!(status, "Pending" | "InProgress" | "Delayed" | "Cancelling");
    let never_started = matches!(
        status_details,
        "Pending" | "Delayed" | "Undeliverable" | "Delivery Timed Out"
    );
    let response_code = match status {
        "Success" => 0,
        _ if running || never_started => -1,
        _ => 1,
    };
    let mut plugin = json!({
        "Name": SHELL_PLUGIN,
        "Status": status,
        "StatusDetails": status_details,
        "ResponseCode": response_code,
        "Output": output,
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "OutputS3Region": "us-east-1",
        "OutputS3BucketName": "",
        "OutputS3KeyPrefix": ""
    });
    if !never_started {
        plugin["ResponseStartDateTime"] = json!(epoch_ms(REQUESTED_AT_MS + 500));
        if !running {
            plugin["ResponseFinishDateTime"] = json!(epoch_ms(REQUESTED_AT_MS + 2_750));
        }
    }
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
        "NotificationConfig": {
            "NotificationArn": "",
            "NotificationEvents": [],
            "NotificationType": ""
        },
        "CloudWatchOutputConfig": {
            "CloudWatchLogGroupName": "",
            "CloudWatchOutputEnabled": false
        }
    })
}

/// `n` successful invocations of `CMD_ID` on nodes [`fleet_instance_id`]`(0..n)`, each
/// requested one millisecond after the previous one (so every record differs), each
/// plugin printing `hello from <instance id>`.
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

/// Keys whose numbers are timestamps on the wire.
const TIMESTAMP_KEYS: &[&str] = &[
    "RequestedDateTime",
    "ResponseStartDateTime",
    "ResponseFinishDateTime",
];

/// How the fake writes timestamp numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireNumbers {
    /// Shortest decimal form: `1715677951.291`, `1715677951`.
    Plain,
    /// Java's `Double.toString`, as AWS's Java services often send them:
    /// `1.715677951291E9`, `1.715677951E9`.
    Java,
}

/// What a page says about plugins when the request did not ask for `Details`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginsWithoutDetails {
    /// No `CommandPlugins` key at all.
    Omitted,
    /// `"CommandPlugins": []`.
    EmptyList,
}

/// Faults scripted for one page (see [`Fleet::fail_page`]).
#[derive(Clone, Debug)]
struct PageFault {
    page: usize,
    steps: Vec<Step>,
    forever: bool,
}

/// The invocations ListCommandInvocations lists, and how it serves them.
#[derive(Clone, Debug)]
pub struct Fleet {
    records: Vec<Value>,
    faults: Vec<PageFault>,
    plugins_without_details: PluginsWithoutDetails,
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
            faults: Vec::new(),
            plugins_without_details: PluginsWithoutDetails::Omitted,
            numbers: WireNumbers::Plain,
            token_after_last_full_page: false,
        }
    }

    /// [`fleet_records`]`(n)`.
    pub fn generated(n: usize) -> Fleet {
        Fleet::new(fleet_records(n))
    }

    /// The first `steps.len()` requests for page `page` (1 is the request without a
    /// NextToken, 2 the one with the token the first page gave, …) are answered with these
    /// steps, one each, in order; later requests for that page get the page.
    pub fn fail_page(mut self, page: usize, steps: Vec<Step>) -> Fleet {
        assert!(page >= 1, "pages are numbered from 1");
        self.faults.push(PageFault {
            page,
            steps,
            forever: false,
        });
        self
    }

    /// Every request for page `page` is answered with `step`.
    pub fn fail_page_always(mut self, page: usize, step: Step) -> Fleet {
        assert!(page >= 1, "pages are numbered from 1");
        self.faults.push(PageFault {
            page,
            steps: vec![step],
            forever: true,
        });
        self
    }

    /// Without `Details`, send `"CommandPlugins": []` instead of leaving the key out.
    pub fn empty_plugin_list_without_details(mut self) -> Fleet {
        self.plugins_without_details = PluginsWithoutDetails::EmptyList;
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

    pub fn records(&self) -> &[Value] {
        &self.records
    }

    fn fault_for(&self, page: usize, attempt: usize) -> Option<Step> {
        let mut before = 0;
        for fault in self.faults.iter().filter(|f| f.page == page) {
            if fault.forever {
                return Some(fault.steps[0].clone());
            }
            if attempt <= before + fault.steps.len() {
                return Some(fault.steps[attempt - before - 1].clone());
            }
            before += fault.steps.len();
        }
        None
    }
}

/// One page the fake served (a `200 OK` to ListCommandInvocations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedPage {
    /// 1 for the first page, 2 for the page after the first token, …
    pub page: usize,
    /// Index of the page's first record among the records the query matches.
    pub offset: usize,
    /// `InstanceId` of each record on the page, in order.
    pub instance_ids: Vec<String>,
    /// The token the page carried, if any.
    pub next_token: Option<String>,
}

/// A ListCommandInvocations query: what a NextToken is tied to.
#[derive(Hash)]
struct Query<'a> {
    command_id: Option<&'a str>,
    instance_id: Option<&'a str>,
    details: bool,
}

impl Query<'_> {
    fn fingerprint(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }
}

/// An opaque-looking token (base64 alphabet, `/`, `+` and `=` included, as SSM's are) that
/// names the page, the offset and the query it belongs to.
fn encode_token(page: usize, offset: usize, query: &Query) -> String {
    format!(
        "AAEAAQ{:016x}/{page:04}+{offset:06}rZ9eXAMPLE==",
        query.fingerprint()
    )
}

/// `(page, offset)` of a token this fake issued for `query`; `None` for anything else.
fn decode_token(token: &str, query: &Query) -> Option<(usize, usize)> {
    let rest = token.strip_prefix("AAEAAQ")?.strip_suffix("rZ9eXAMPLE==")?;
    let (fingerprint, rest) = rest.split_once('/')?;
    let (page, offset) = rest.split_once('+')?;
    if u64::from_str_radix(fingerprint, 16).ok()? != query.fingerprint() {
        return None;
    }
    Some((page.parse().ok()?, offset.parse().ok()?))
}

fn validation_error(message: String) -> Step {
    Step::Error(400, "ValidationException".into(), message)
}

/// Java's `Double.toString` for the magnitudes timestamps have.
fn java_double(f: f64) -> String {
    if f != 0.0 && (f.abs() < 1e-3 || f.abs() >= 1e7) {
        let s = format!("{f:e}");
        let (mantissa, exponent) = s.split_once('e').expect("{:e} has an exponent");
        if mantissa.contains('.') {
            format!("{mantissa}E{exponent}")
        } else {
            format!("{mantissa}.0E{exponent}")
        }
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

struct FleetState {
    fleet: Fleet,
    /// Requests seen per page number (faulted ones included).
    attempts: Mutex<HashMap<usize, usize>>,
    served: Mutex<Vec<ServedPage>>,
}

impl FleetState {
    /// The answer to one ListCommandInvocations request with this body.
    fn answer(&self, body: &Value) -> Step {
        let request = match ListRequest::parse(body) {
            Ok(request) => request,
            Err(step) => return step,
        };
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry(request.page).or_insert(0);
            *n += 1;
            *n
        };
        if let Some(step) = self.fleet.fault_for(request.page, attempt) {
            return step;
        }
        let options = PageOptions {
            plugins_without_details: self.fleet.plugins_without_details,
            numbers: self.fleet.numbers,
            token_after_last_full_page: self.fleet.token_after_last_full_page,
        };
        let (step, served) = serve_page(&request, &self.fleet.records, &options);
        self.served.lock().unwrap().push(served);
        step
    }
}

/// A well-formed ListCommandInvocations request, its NextToken decoded.
struct ListRequest {
    command_id: Option<String>,
    instance_id: Option<String>,
    details: bool,
    max_results: usize,
    /// 1 for the request without a NextToken, 2 for the one with the first page's token, …
    page: usize,
    /// Index of the first record to serve among those the query matches.
    offset: usize,
}

impl ListRequest {
    fn query(&self) -> Query<'_> {
        Query {
            command_id: self.command_id.as_deref(),
            instance_id: self.instance_id.as_deref(),
            details: self.details,
        }
    }

    /// Validates the body as SSM does; the error answer otherwise.
    fn parse(body: &Value) -> Result<ListRequest, Step> {
        let Some(request) = body.as_object() else {
            return Err(Step::Error(
                400,
                "SerializationException".into(),
                "the request body is not a JSON object".into(),
            ));
        };
        let string_field = |name: &str| -> Result<Option<String>, Step> {
            match request.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(Step::Error(
                    400,
                    "SerializationException".into(),
                    format!("{name} must be a string, got {other}"),
                )),
            }
        };
        let command_id = string_field("CommandId")?;
        let instance_id = string_field("InstanceId")?;
        let next_token = string_field("NextToken")?;
        let details = match request.get("Details") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(Step::Error(
                    400,
                    "SerializationException".into(),
                    format!("Details must be a boolean, got {other}"),
                ));
            }
        };
        let max_results = match request.get("MaxResults") {
            None => LIST_PAGE_SIZE,
            Some(v) => match v.as_i64() {
                Some(n) if n > LIST_PAGE_SIZE as i64 => {
                    return Err(validation_error(format!(
                        "1 validation error detected: Value '{n}' at 'maxResults' failed to \
                         satisfy constraint: Member must have value less than or equal to 50"
                    )));
                }
                Some(n) if n < 1 => {
                    return Err(validation_error(format!(
                        "1 validation error detected: Value '{n}' at 'maxResults' failed to \
                         satisfy constraint: Member must have value greater than or equal to 1"
                    )));
                }
                Some(n) => n as usize,
                None => {
                    return Err(Step::Error(
                        400,
                        "SerializationException".into(),
                        format!("MaxResults must be an integer, got {v}"),
                    ));
                }
            },
        };
        if let Some(id) = &command_id
            && id.chars().count() != 36
        {
            return Err(validation_error(format!(
                "1 validation error detected: Value '{id}' at 'commandId' failed to satisfy \
                 constraint: Member must have length equal to 36"
            )));
        }
        let mut parsed = ListRequest {
            command_id,
            instance_id,
            details,
            max_results,
            page: 1,
            offset: 0,
        };
        if let Some(token) = next_token {
            match decode_token(&token, &parsed.query()) {
                Some((page, offset)) => {
                    parsed.page = page;
                    parsed.offset = offset;
                }
                None => {
                    return Err(Step::Error(
                        400,
                        "InvalidNextToken".into(),
                        "The specified token is not valid.".into(),
                    ));
                }
            }
        }
        Ok(parsed)
    }
}

/// How pages are written.
struct PageOptions {
    plugins_without_details: PluginsWithoutDetails,
    numbers: WireNumbers,
    token_after_last_full_page: bool,
}

impl Default for PageOptions {
    fn default() -> PageOptions {
        PageOptions {
            plugins_without_details: PluginsWithoutDetails::Omitted,
            numbers: WireNumbers::Plain,
            token_after_last_full_page: false,
        }
    }
}

/// The page `request` asks for out of `records` (in listing order, not yet filtered), and what
/// was served.
fn serve_page(
    request: &ListRequest,
    records: &[Value],
    options: &PageOptions,
) -> (Step, ServedPage) {
    let matching: Vec<&Value> = records
        .iter()
        .filter(|r| {
            request
                .command_id
                .as_deref()
                .is_none_or(|id| r["CommandId"] == id)
        })
        .filter(|r| {
            request
                .instance_id
                .as_deref()
                .is_none_or(|id| r["InstanceId"] == id)
        })
        .collect();
    let start = request.offset.min(matching.len());
    let end = (request.offset + request.max_results).min(matching.len());
    let items: Vec<Value> = matching[start..end]
        .iter()
        .map(|r| {
            let mut r = (*r).clone();
            if !request.details
                && let Some(obj) = r.as_object_mut()
            {
                match options.plugins_without_details {
                    PluginsWithoutDetails::Omitted => {
                        obj.remove("CommandPlugins");
                    }
                    PluginsWithoutDetails::EmptyList => {
                        obj.insert("CommandPlugins".into(), json!([]));
                    }
                }
            }
            r
        })
        .collect();
    let more = end < matching.len()
        || (options.token_after_last_full_page
            && end - start == request.max_results
            && end == matching.len());
    let next_token = more.then(|| encode_token(request.page + 1, end, &request.query()));
    let mut response = serde_json::Map::new();
    response.insert("CommandInvocations".into(), Value::Array(items));
    if let Some(token) = &next_token {
        response.insert("NextToken".into(), Value::String(token.clone()));
    }
    let mut text = String::new();
    write_json(&mut text, &Value::Object(response), None, options.numbers);
    let served = ServedPage {
        page: request.page,
        offset: start,
        instance_ids: matching[start..end]
            .iter()
            .map(|r| r["InstanceId"].as_str().unwrap_or_default().to_owned())
            .collect(),
        next_token,
    };
    (Step::Json(200, text), served)
}

// ---------------------------------------------------------------------------------------------
// Fleet timelines: ListCommands, ListCommandInvocations and GetCommandInvocation from one state
// ---------------------------------------------------------------------------------------------

/// The X-Amz-Target of the call a [`Timeline`] answers with the command's counts.
pub const LIST_COMMANDS: &str = "AmazonSSM.ListCommands";

/// What ListCommandInvocations' `Output` keeps of a step's stdout and stderr together.
pub const LIST_OUTPUT_CAP: usize = 2_500;

/// Terminal `(Status, StatusDetails)` pairs of invocations.
pub const SUCCESS: (&str, &str) = ("Success", "Success");
pub const FAILED: (&str, &str) = ("Failed", "Failed");
pub const EXECUTION_TIMED_OUT: (&str, &str) = ("TimedOut", "Execution Timed Out");
pub const DELIVERY_TIMED_OUT: (&str, &str) = ("TimedOut", "Delivery Timed Out");
pub const UNDELIVERABLE: (&str, &str) = ("Failed", "Undeliverable");
pub const CANCELLED: (&str, &str) = ("Cancelled", "Cancelled");

/// Statuses in which an invocation is not over.
fn is_running(status: &str) -> bool {
    matches!(status, "Pending" | "InProgress" | "Delayed" | "Cancelling")
}

/// Status details of an invocation that never reached its node.
fn never_started(status_details: &str) -> bool {
    matches!(
        status_details,
        "Pending" | "Delayed" | "Undeliverable" | "Delivery Timed Out"
    )
}

/// The GetCommandInvocation body for `instance_id` of `CMD_ID`: [`invocation`] with that
/// instance, this state and this output. An invocation that never reached its node has
/// `ResponseCode` -1 and no start time.
pub fn fleet_invocation(
    instance_id: &str,
    status: &str,
    status_details: &str,
    stdout: &str,
    stderr: &str,
) -> Value {
    let mut body = invocation(status, status_details, stdout, stderr);
    body["InstanceId"] = json!(instance_id);
    if never_started(status_details) {
        body["ResponseCode"] = json!(-1);
        body["ExecutionStartDateTime"] = json!("");
        body["ExecutionElapsedTime"] = json!("");
        body["ExecutionEndDateTime"] = json!("");
    }
    body
}

/// One node of a scripted fleet. Rounds are counted by ListCommands calls: the first call is
/// round 1, and every other call is answered from the state of the latest round.
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

    /// In this terminal state (one of [`SUCCESS`], [`FAILED`], …) from `round` on; unless
    /// [`Member::running_at`] says otherwise, it runs from the round before (Pending until then
    /// when it never reached its node: Undeliverable, Delivery Timed Out).
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

    /// Success from `round` on.
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

    /// The round it ends in, if it does.
    pub fn end_round(&self) -> Option<usize> {
        self.end.as_ref().map(|(round, _, _)| *round)
    }

    /// Its final `(Status, StatusDetails)`, if it ends.
    pub fn final_state(&self) -> Option<(&str, &str)> {
        self.end
            .as_ref()
            .map(|(_, status, details)| (status.as_str(), details.as_str()))
    }

    /// The GetCommandInvocation body at `round` (output only once it ended).
    pub fn get_body_at(&self, round: usize) -> Value {
        let (status, details) = self.state_at(round);
        if is_running(status) {
            fleet_invocation(&self.instance_id, status, details, "", "")
        } else {
            fleet_invocation(
                &self.instance_id,
                status,
                details,
                &self.stdout,
                &self.stderr,
            )
        }
    }

    /// The GetCommandInvocation body once it ended (its state forever otherwise).
    pub fn final_get_body(&self) -> Value {
        self.get_body_at(usize::MAX)
    }

    /// Its ListCommandInvocations record at `round`; `index` orders `RequestedDateTime`.
    fn listed_record(&self, round: usize, index: usize) -> Value {
        let (status, details) = self.state_at(round);
        let output: String = if is_running(status) {
            String::new()
        } else {
            format!("{}{}", self.stdout, self.stderr)
                .chars()
                .take(LIST_OUTPUT_CAP)
                .collect()
        };
        let mut record = listed_invocation(&self.instance_id, status, details, &output);
        record["RequestedDateTime"] = json!(epoch_ms(REQUESTED_AT_MS + index as u64));
        record
    }
}

/// How ListCommands answers while the command is not visible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invisible {
    /// `200 {"Commands": []}`.
    EmptyList,
    /// `400 InvalidCommandId`.
    InvalidCommandId,
}

/// A fault scripted for the ListCommandInvocations requests for one page during one round.
#[derive(Clone, Debug)]
struct RoundFault {
    round: usize,
    page: usize,
    steps: Vec<Step>,
}

/// A scripted fleet of invocations of `CMD_ID` changing over rounds, a round being one
/// ListCommands call. ListCommands answers with the command's counts (derived from the
/// members: `TargetCount` counts the targeted ones, `CompletedCount` the terminal ones among
/// them, `ErrorCount` the Failed and Execution Timed Out ones, `DeliveryTimedOutCount` the
/// Delivery Timed Out ones) and its status (derived unless scripted with
/// [`Timeline::command_status_from`]); ListCommandInvocations pages the listed members in
/// their order, and GetCommandInvocation answers for any listed member, all from the state of
/// the latest round (less [`Timeline::listing_lag`]).
#[derive(Clone, Debug)]
pub struct Timeline {
    members: Vec<Member>,
    visible_at: Option<usize>,
    invisible: Invisible,
    command_states: Vec<(usize, String, String)>,
    listing_lag: usize,
    faults: Vec<RoundFault>,
    get_delay: Duration,
    round_every: Option<Duration>,
}

impl Timeline {
    /// These members, listed in this order; the command is visible from round 1.
    pub fn new(members: Vec<Member>) -> Timeline {
        Timeline {
            members,
            visible_at: Some(1),
            invisible: Invisible::EmptyList,
            command_states: Vec::new(),
            listing_lag: 0,
            faults: Vec::new(),
            get_delay: Duration::ZERO,
            round_every: None,
        }
    }

    /// Rounds follow the clock instead of ListCommands calls: round 1 begins with the first
    /// request of any kind, and a new round every `period` after it (for clients that do not
    /// call ListCommands, such as the single-invocation wait). [`Recorded::round`] still counts
    /// ListCommands calls.
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

    /// The command is never visible.
    pub fn never_visible(mut self) -> Timeline {
        self.visible_at = None;
        self
    }

    /// While not visible, ListCommands answers `InvalidCommandId` instead of an empty list.
    pub fn invisible_as_invalid_command_id(mut self) -> Timeline {
        self.invisible = Invisible::InvalidCommandId;
        self
    }

    /// From `round` on (until a later entry), the command's `Status` and `StatusDetails` are
    /// these instead of the ones derived from the members.
    pub fn command_status_from(mut self, round: usize, status: &str, details: &str) -> Timeline {
        self.command_states
            .push((round, status.to_owned(), details.to_owned()));
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
        assert!(page >= 1, "pages are numbered from 1");
        self.faults.push(RoundFault { round, page, steps });
        self
    }

    /// Every GetCommandInvocation answer comes after this delay (to see calls overlap).
    pub fn get_delay(mut self, delay: Duration) -> Timeline {
        self.get_delay = delay;
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

    /// The last round in which a member ends (0 if none does).
    pub fn last_end_round(&self) -> usize {
        self.members
            .iter()
            .filter_map(Member::end_round)
            .max()
            .unwrap_or(0)
    }

    pub fn is_visible_at(&self, round: usize) -> bool {
        self.visible_at.is_some_and(|at| at <= round)
    }

    /// The members targeted at `round`.
    fn targeted_at(&self, round: usize) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(move |m| m.targeted_at <= round)
    }

    /// `(Status, StatusDetails)` of the command at `round`.
    pub fn command_state_at(&self, round: usize) -> (String, String) {
        if let Some((_, status, details)) =
            self.command_states.iter().rfind(|(r, _, _)| *r <= round)
        {
            return (status.clone(), details.clone());
        }
        let states: Vec<(&str, &str)> =
            self.targeted_at(round).map(|m| m.state_at(round)).collect();
        let pair = |s: &str, d: &str| (s.to_owned(), d.to_owned());
        if states.is_empty() {
            return pair("Pending", "Pending");
        }
        if states.iter().any(|(s, _)| is_running(s)) {
            return if states.iter().all(|(s, _)| *s == "Pending") {
                pair("Pending", "Pending")
            } else {
                pair("InProgress", "In Progress")
            };
        }
        if states.iter().all(|(s, _)| *s == "Success") {
            pair("Success", "Success")
        } else if states.iter().any(|(s, _)| *s == "Failed") {
            pair("Failed", "Failed")
        } else if let Some((_, d)) = states.iter().find(|(s, _)| *s == "TimedOut") {
            pair("TimedOut", d)
        } else {
            pair("Cancelled", "Cancelled")
        }
    }

    /// The ListCommands `Command` record at `round` (whether or not it is visible then).
    pub fn command_at(&self, round: usize) -> Value {
        let (status, details) = self.command_state_at(round);
        let targeted: Vec<(&str, &str)> =
            self.targeted_at(round).map(|m| m.state_at(round)).collect();
        let count =
            |f: &dyn Fn(&str, &str) -> bool| targeted.iter().filter(|(s, d)| f(s, d)).count();
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
            "TargetCount": targeted.len(),
            "CompletedCount": count(&|s, _| !is_running(s)),
            "ErrorCount": count(&|_, d| d == "Failed" || d == "Execution Timed Out"),
            "DeliveryTimedOutCount": count(&|_, d| d == "Delivery Timed Out"),
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

    /// The round whose members ListCommandInvocations and GetCommandInvocation see at `round`.
    fn listing_round(&self, round: usize) -> usize {
        round.saturating_sub(self.listing_lag)
    }

    /// The members ListCommandInvocations lists at `round`, in order.
    pub fn listed_at(&self, round: usize) -> Vec<&Member> {
        if !self.is_visible_at(round) {
            return Vec::new();
        }
        let seen = self.listing_round(round);
        self.members
            .iter()
            .filter(|m| m.listed_at <= seen && m.targeted_at <= seen)
            .collect()
    }

    /// The ListCommandInvocations records at `round`, in listing order.
    pub fn records_at(&self, round: usize) -> Vec<Value> {
        let seen = self.listing_round(round);
        self.listed_at(round)
            .into_iter()
            .map(|m| {
                let index = self
                    .members
                    .iter()
                    .position(|o| o.instance_id == m.instance_id)
                    .unwrap_or(0);
                m.listed_record(seen, index)
            })
            .collect()
    }

    /// What GetCommandInvocation answers for `instance_id` at `round`: the body, or `None` for
    /// `InvocationDoesNotExist`.
    pub fn get_body_at(&self, instance_id: &str, round: usize) -> Option<Value> {
        let seen = self.listing_round(round);
        self.listed_at(round)
            .into_iter()
            .find(|m| m.instance_id == instance_id)
            .map(|m| m.get_body_at(seen))
    }

    fn fault_for(&self, round: usize, page: usize, attempt: usize) -> Option<Step> {
        let mut before = 0;
        for fault in self
            .faults
            .iter()
            .filter(|f| f.round == round && f.page == page)
        {
            if attempt <= before + fault.steps.len() {
                return Some(fault.steps[attempt - before - 1].clone());
            }
            before += fault.steps.len();
        }
        None
    }
}

impl From<Vec<Member>> for Timeline {
    fn from(members: Vec<Member>) -> Timeline {
        Timeline::new(members)
    }
}

/// What ListCommands answered in one round.
#[derive(Clone, Debug)]
pub struct ServedRound {
    pub round: usize,
    /// The `Command` record; `None` while the command was not visible.
    pub command: Option<Value>,
    /// How many members were listed in that round.
    pub listed: usize,
}

impl ServedRound {
    /// `(Status, TargetCount, CompletedCount)`, what tells a round from the one before.
    pub fn counts(&self) -> Option<(String, u64, u64)> {
        self.command.as_ref().map(|c| {
            (
                c["Status"].as_str().unwrap_or_default().to_owned(),
                c["TargetCount"].as_u64().unwrap_or(0),
                c["CompletedCount"].as_u64().unwrap_or(0),
            )
        })
    }
}

/// The calls made in one round: the round's ListCommands call and every call after it, before
/// the next ListCommands call. Round 0 holds the calls made before the first ListCommands.
#[derive(Clone, Debug)]
pub struct RoundCalls {
    pub round: usize,
    /// What ListCommands answered (`None` for round 0).
    pub served: Option<ServedRound>,
    pub list_commands: usize,
    /// ListCommandInvocations calls without `Details: true` (SDK retries included).
    pub list_invocations: usize,
    /// ListCommandInvocations calls with `Details: true` (SDK retries included).
    pub list_invocations_details: usize,
    /// GetCommandInvocation calls (SDK retries included).
    pub gets: usize,
}

impl RoundCalls {
    /// ListCommands and ListCommandInvocations calls together.
    pub fn list_calls(&self) -> usize {
        self.list_commands + self.list_invocations + self.list_invocations_details
    }
}

struct TimelineState {
    timeline: Timeline,
    /// When the first request arrived (the start of round 1 with [`Timeline::round_every`]).
    first_request: std::sync::OnceLock<Instant>,
    /// ListCommandInvocations requests per `(round, page)` (faulted ones included).
    attempts: Mutex<HashMap<(usize, usize), usize>>,
    /// Faulted answers given to ListCommandInvocations requests.
    faults_served: AtomicUsize,
    served_rounds: Mutex<Vec<ServedRound>>,
    get_in_flight: AtomicUsize,
    get_max_in_flight: AtomicUsize,
}

impl TimelineState {
    /// The round whose state answers a request that arrived now, `list_commands` ListCommands
    /// calls having arrived by then.
    fn state_round(&self, list_commands: usize) -> usize {
        let first = *self.first_request.get_or_init(Instant::now);
        match self.timeline.round_every {
            None => list_commands,
            Some(period) => 1 + (first.elapsed().as_nanos() / period.as_nanos().max(1)) as usize,
        }
    }

    fn answer_list_commands(&self, body: &Value, round: usize) -> Step {
        let command_id = match body.get("CommandId") {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => {
                return Step::Error(
                    400,
                    "SerializationException".into(),
                    format!("CommandId must be a string, got {other}"),
                );
            }
        };
        if let Some(id) = command_id
            && id.chars().count() != 36
        {
            return validation_error(format!(
                "1 validation error detected: Value '{id}' at 'commandId' failed to satisfy \
                 constraint: Member must have length equal to 36"
            ));
        }
        let tl = &self.timeline;
        let visible = tl.is_visible_at(round) && command_id.is_none_or(|id| id == CMD_ID);
        let command = visible.then(|| tl.command_at(round));
        self.served_rounds.lock().unwrap().push(ServedRound {
            round,
            command: command.clone(),
            listed: tl.listed_at(round).len(),
        });
        match command {
            Some(command) => Step::ok(&json!({ "Commands": [command] })),
            None if tl.invisible == Invisible::InvalidCommandId && command_id.is_some() => {
                Step::Error(400, "InvalidCommandId".into(), String::new())
            }
            None => Step::ok(&json!({ "Commands": [] })),
        }
    }

    fn answer_list(&self, body: &Value, round: usize) -> Step {
        let request = match ListRequest::parse(body) {
            Ok(request) => request,
            Err(step) => return step,
        };
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry((round, request.page)).or_insert(0);
            *n += 1;
            *n
        };
        if let Some(step) = self.timeline.fault_for(round, request.page, attempt) {
            self.faults_served.fetch_add(1, Ordering::SeqCst);
            return step;
        }
        let records = if request.command_id.as_deref().is_none_or(|id| id == CMD_ID) {
            self.timeline.records_at(round)
        } else {
            Vec::new()
        };
        serve_page(&request, &records, &PageOptions::default()).0
    }

    fn answer_get(&self, body: &Value, round: usize) -> Step {
        let field = |name: &str| body.get(name).and_then(Value::as_str);
        let step = match (field("CommandId"), field("InstanceId")) {
            (Some(command_id), Some(_)) if command_id.chars().count() != 36 => {
                validation_error(format!(
                    "1 validation error detected: Value '{command_id}' at 'commandId' failed \
                     to satisfy constraint: Member must have length equal to 36"
                ))
            }
            (Some(command_id), Some(instance_id)) => {
                if field("PluginName").is_some_and(|p| p != SHELL_PLUGIN) {
                    Step::Error(400, "InvalidPluginName".into(), String::new())
                } else if command_id != CMD_ID {
                    Step::not_found()
                } else {
                    match self.timeline.get_body_at(instance_id, round) {
                        Some(body) => Step::ok(&body),
                        None => Step::not_found(),
                    }
                }
            }
            _ => validation_error("CommandId and InstanceId are required".into()),
        };
        if self.timeline.get_delay.is_zero() {
            step
        } else {
            Step::delayed(self.timeline.get_delay, step)
        }
    }
}

/// One request as the fake endpoint saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names are lower-cased.
    pub headers: Vec<(String, String)>,
    /// Value of the `X-Amz-Target` header, if any.
    pub target: Option<String>,
    /// The body parsed as JSON (`Value::Null` when it is not JSON).
    pub body: Value,
    /// When the request had been read completely.
    pub at: Instant,
    /// How many ListCommands requests had arrived by then, this one included: the round of a
    /// [`Timeline`] it was answered in (0 before the first ListCommands).
    pub round: usize,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Answers one call: given its full X-Amz-Target (`AmazonSSM.<Operation>`, `""` when the
/// header is missing) and its body parsed as JSON (`Value::Null` when it is not JSON), the
/// [`Step`] to play.
pub type Handler = Arc<dyn Fn(&str, &Value) -> Step + Send + Sync>;

struct State {
    steps: Vec<Step>,
    /// When set, answers every call (the script, fleet and timeline are not used).
    handler: Option<Handler>,
    fleet: Option<FleetState>,
    timeline: Option<TimelineState>,
    /// ListCommands requests received.
    list_commands_seen: AtomicUsize,
    next_step: AtomicUsize,
    requests: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
    open: Mutex<Vec<TcpStream>>,
    shutdown: AtomicBool,
    started: Instant,
}

impl State {
    fn next_step(&self) -> Step {
        let i = self.next_step.fetch_add(1, Ordering::SeqCst);
        self.steps[i.min(self.steps.len() - 1)].clone()
    }
}

/// The fake endpoint. Shuts down when dropped.
pub struct FakeSsm {
    addr: SocketAddr,
    state: Arc<State>,
    accept_thread: Option<JoinHandle<()>>,
}

impl FakeSsm {
    /// Starts a fake answering GetCommandInvocation calls from `steps`
    /// (one step per call, the last step repeating forever).
    pub fn start(steps: Vec<Step>) -> FakeSsm {
        FakeSsm::start_inner(steps, None, None, None)
    }

    /// Starts a fake answering ListCommandInvocations calls from `fleet` (a [`Fleet`] or a
    /// plain `Vec` of records). GetCommandInvocation calls get an error.
    pub fn with_fleet(fleet: impl Into<Fleet>) -> FakeSsm {
        FakeSsm::start_inner(
            vec![Step::Error(
                400,
                "UnknownOperationException".into(),
                "this fake SSM endpoint has no GetCommandInvocation script".into(),
            )],
            Some(fleet.into()),
            None,
            None,
        )
    }

    /// Starts a fake answering GetCommandInvocation calls from `steps` (as [`FakeSsm::start`])
    /// and ListCommandInvocations calls from `fleet`.
    pub fn with_steps_and_fleet(steps: Vec<Step>, fleet: impl Into<Fleet>) -> FakeSsm {
        FakeSsm::start_inner(steps, Some(fleet.into()), None, None)
    }

    /// Starts a fake answering ListCommands, ListCommandInvocations and GetCommandInvocation
    /// from one scripted fleet [`Timeline`] (or a plain `Vec` of [`Member`]s).
    pub fn with_timeline(timeline: impl Into<Timeline>) -> FakeSsm {
        FakeSsm::start_inner(
            vec![Step::Error(
                400,
                "UnknownOperationException".into(),
                "this fake SSM endpoint answers from a timeline".into(),
            )],
            None,
            Some(timeline.into()),
            None,
        )
    }

    /// Starts a fake answering every call from `handler` (see [`Handler`]); requests are
    /// recorded as with the other fakes ([`FakeSsm::requests`], [`FakeSsm::requests_to`]).
    pub fn with_handler(handler: Handler) -> FakeSsm {
        FakeSsm::start_inner(
            vec![Step::Error(
                400,
                "UnknownOperationException".into(),
                "this fake SSM endpoint answers from a handler".into(),
            )],
            None,
            None,
            Some(handler),
        )
    }

    fn start_inner(
        steps: Vec<Step>,
        fleet: Option<Fleet>,
        timeline: Option<Timeline>,
        handler: Option<Handler>,
    ) -> FakeSsm {
        assert!(
            !steps.is_empty(),
            "a fake SSM script needs at least one step"
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            steps,
            handler,
            fleet: fleet.map(|fleet| FleetState {
                fleet,
                attempts: Mutex::new(HashMap::new()),
                served: Mutex::new(Vec::new()),
            }),
            timeline: timeline.map(|timeline| TimelineState {
                timeline,
                first_request: std::sync::OnceLock::new(),
                attempts: Mutex::new(HashMap::new()),
                faults_served: AtomicUsize::new(0),
                served_rounds: Mutex::new(Vec::new()),
                get_in_flight: AtomicUsize::new(0),
                get_max_in_flight: AtomicUsize::new(0),
            }),
            list_commands_seen: AtomicUsize::new(0),
            next_step: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            open: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
            started: Instant::now(),
        });
        let accept_state = Arc::clone(&state);
        let accept_thread = thread::Builder::new()
            .name("fake-ssm-accept".into())
            .spawn(move || accept_loop(listener, accept_state))
            .expect("spawn accept thread");
        FakeSsm {
            addr,
            state,
            accept_thread: Some(accept_thread),
        }
    }

    /// A fake whose every GetCommandInvocation call gets this one answer.
    pub fn always(step: Step) -> FakeSsm {
        FakeSsm::start(vec![step])
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// When the fake started (to relate arrival times to a test's start).
    pub fn started(&self) -> Instant {
        self.state.started
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The GetCommandInvocation requests received so far.
    pub fn get_invocation_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.target.as_deref() == Some(GET_COMMAND_INVOCATION))
            .collect()
    }

    /// How many GetCommandInvocation calls were made (SDK retries included).
    pub fn get_invocation_calls(&self) -> usize {
        self.get_invocation_requests().len()
    }

    /// The ListCommandInvocations requests received so far (SDK retries included).
    pub fn list_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.target.as_deref() == Some(LIST_COMMAND_INVOCATIONS))
            .collect()
    }

    /// How many ListCommandInvocations calls were made (SDK retries included).
    pub fn list_calls(&self) -> usize {
        self.list_requests().len()
    }

    /// The pages served so far (`200 OK` answers to ListCommandInvocations), in order.
    pub fn served_pages(&self) -> Vec<ServedPage> {
        self.state
            .fleet
            .as_ref()
            .map(|f| f.served.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// The requests with this X-Amz-Target received so far.
    pub fn requests_to(&self, target: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.target.as_deref() == Some(target))
            .collect()
    }

    /// How many ListCommands calls were made (SDK retries included): the rounds of a timeline.
    pub fn list_commands_calls(&self) -> usize {
        self.state.list_commands_seen.load(Ordering::SeqCst)
    }

    /// GetCommandInvocation calls per `InstanceId` (SDK retries included).
    pub fn get_calls_by_instance(&self) -> HashMap<String, usize> {
        let mut calls = HashMap::new();
        for r in self.get_invocation_requests() {
            let id = r.body["InstanceId"].as_str().unwrap_or("<none>").to_owned();
            *calls.entry(id).or_insert(0) += 1;
        }
        calls
    }

    /// The timeline this fake answers from.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline_state().timeline
    }

    fn timeline_state(&self) -> &TimelineState {
        self.state
            .timeline
            .as_ref()
            .expect("this fake was not started with_timeline")
    }

    /// What ListCommands answered, one entry per call, in order.
    pub fn served_rounds(&self) -> Vec<ServedRound> {
        self.timeline_state().served_rounds.lock().unwrap().clone()
    }

    /// How many ListCommandInvocations requests got a fault scripted with
    /// [`Timeline::fail_list_page`].
    pub fn list_faults_served(&self) -> usize {
        self.timeline_state().faults_served.load(Ordering::SeqCst)
    }

    /// The most GetCommandInvocation requests the fake was answering at once.
    pub fn get_max_in_flight(&self) -> usize {
        self.timeline_state()
            .get_max_in_flight
            .load(Ordering::SeqCst)
    }

    /// The calls made in each round, from round 0 (before the first ListCommands) on.
    pub fn rounds(&self) -> Vec<RoundCalls> {
        let served = self.served_rounds();
        let last = self.list_commands_calls();
        let mut rounds: Vec<RoundCalls> = (0..=last)
            .map(|round| RoundCalls {
                round,
                served: served.iter().find(|s| s.round == round).cloned(),
                list_commands: 0,
                list_invocations: 0,
                list_invocations_details: 0,
                gets: 0,
            })
            .collect();
        for r in self.requests() {
            let Some(calls) = rounds.get_mut(r.round) else {
                continue;
            };
            match r.target.as_deref() {
                Some(LIST_COMMANDS) => calls.list_commands += 1,
                Some(LIST_COMMAND_INVOCATIONS) if r.body["Details"] == json!(true) => {
                    calls.list_invocations_details += 1
                }
                Some(LIST_COMMAND_INVOCATIONS) => calls.list_invocations += 1,
                Some(GET_COMMAND_INVOCATION) => calls.gets += 1,
                _ => {}
            }
        }
        rounds
    }

    /// Waits until at least `n` ListCommands calls arrived (round `n` began); false on timeout.
    pub fn wait_for_round(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.list_commands_calls() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// How many requests of any kind arrived.
    pub fn total_requests(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// How many TCP connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` GetCommandInvocation calls arrived; false on timeout.
    pub fn wait_for_calls(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.get_invocation_calls() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Asserts that nothing at all reached the endpoint: no connection, no request.
    /// Waits a moment first so that a request in flight is not missed.
    pub fn assert_untouched(&self) {
        thread::sleep(Duration::from_millis(100));
        assert_eq!(
            self.total_requests(),
            0,
            "expected no request at all, got {:#?}",
            self.requests()
        );
        assert_eq!(self.connections(), 0, "expected no connection at all");
    }
}

impl Drop for FakeSsm {
    fn drop(&mut self) {
        self.state.shutdown.store(true, Ordering::SeqCst);
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
        // Wake every connection thread blocked in a read: they see EOF and end.
        for stream in self.state.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: TcpListener, state: Arc<State>) {
    while !state.shutdown.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                state.connections.fetch_add(1, Ordering::SeqCst);
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_nodelay(true);
                if let Ok(clone) = stream.try_clone() {
                    state.open.lock().unwrap().push(clone);
                }
                let conn_state = Arc::clone(&state);
                let _ = thread::Builder::new()
                    .name("fake-ssm-conn".into())
                    .spawn(move || serve_connection(stream, conn_state));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(_) => thread::sleep(Duration::from_millis(2)),
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request; `None` on EOF or a malformed request.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    // Tolerate stray blank lines between keep-alive requests.
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();

    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };

    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let mut size_line = String::new();
            if reader.read_line(&mut size_line).ok()? == 0 {
                return None;
            }
            let size_hex = size_line.trim().split(';').next()?.trim().to_owned();
            let size = usize::from_str_radix(&size_hex, 16).ok()?;
            if size == 0 {
                // Trailers until an empty line.
                loop {
                    let mut t = String::new();
                    if reader.read_line(&mut t).ok()? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk);
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf).ok()?;
        }
    } else if let Some(len) = header("content-length") {
        let len: usize = len.parse().ok()?;
        body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn error_body(code: &str, message: &str) -> String {
    if message.is_empty() {
        json!({ "__type": code }).to_string()
    } else {
        json!({ "__type": code, "message": message }).to_string()
    }
}

fn write_response(stream: &mut TcpStream, status: u16, body: &str, request_no: usize) -> bool {
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: application/x-amz-json-1.1\r\n\
         Content-Length: {len}\r\n\
         x-amzn-RequestId: 6f1e7c2a-0000-4000-8000-{request_no:012x}\r\n\
         Connection: keep-alive\r\n\
         \r\n",
        reason = reason(status),
        len = body.len(),
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .and_then(|()| stream.flush())
        .is_ok()
}

/// Plays one step; returns false when the connection must be closed.
fn play(stream: &mut TcpStream, step: Step, request_no: usize, state: &State) -> bool {
    match step {
        Step::Json(status, body) => write_response(stream, status, &body, request_no),
        Step::Error(status, code, message) => {
            write_response(stream, status, &error_body(&code, &message), request_no)
        }
        Step::Status500 => write_response(
            stream,
            500,
            &error_body("InternalServerError", "An internal error occurred."),
            request_no,
        ),
        Step::DropConnection => {
            let _ = stream.shutdown(Shutdown::Both);
            false
        }
        Step::Delay(delay, inner) => {
            // Sleep in small slices so a dropped fake does not keep threads around.
            let deadline = Instant::now() + delay;
            while Instant::now() < deadline {
                if state.shutdown.load(Ordering::SeqCst) {
                    return false;
                }
                thread::sleep(Duration::from_millis(5).min(deadline - Instant::now()));
            }
            play(stream, *inner, request_no, state)
        }
    }
}

fn serve_connection(stream: TcpStream, state: Arc<State>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        if state.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let target = req
            .headers
            .iter()
            .find(|(k, _)| k == "x-amz-target")
            .map(|(_, v)| v.clone());
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let (request_no, round) = {
            let mut requests = state.requests.lock().unwrap();
            let round = if target.as_deref() == Some(LIST_COMMANDS) {
                state.list_commands_seen.fetch_add(1, Ordering::SeqCst) + 1
            } else {
                state.list_commands_seen.load(Ordering::SeqCst)
            };
            requests.push(Recorded {
                method: req.method,
                path: req.path,
                headers: req.headers,
                target: target.clone(),
                body: body.clone(),
                at: Instant::now(),
                round,
            });
            (requests.len(), round)
        };
        if let Some(handler) = &state.handler {
            let step = handler(target.as_deref().unwrap_or(""), &body);
            if !play(&mut writer, step, request_no, &state) {
                return;
            }
            continue;
        }
        if let Some(timeline) = &state.timeline {
            let round = timeline.state_round(round);
            let step = match target.as_deref() {
                Some(LIST_COMMANDS) => timeline.answer_list_commands(&body, round),
                Some(LIST_COMMAND_INVOCATIONS) => timeline.answer_list(&body, round),
                Some(GET_COMMAND_INVOCATION) => timeline.answer_get(&body, round),
                _ => Step::Error(
                    400,
                    "UnknownOperationException".into(),
                    format!("the fake SSM endpoint does not implement {target:?}"),
                ),
            };
            let is_get = target.as_deref() == Some(GET_COMMAND_INVOCATION);
            if is_get {
                let now = timeline.get_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                timeline.get_max_in_flight.fetch_max(now, Ordering::SeqCst);
            }
            let keep_open = play(&mut writer, step, request_no, &state);
            if is_get {
                timeline.get_in_flight.fetch_sub(1, Ordering::SeqCst);
            }
            if !keep_open {
                return;
            }
            continue;
        }
        let step = if target.as_deref() == Some(GET_COMMAND_INVOCATION) {
            state.next_step()
        } else if target.as_deref() == Some(LIST_COMMAND_INVOCATIONS)
            && let Some(fleet) = &state.fleet
        {
            fleet.answer(&body)
        } else {
            Step::Error(
                400,
                "UnknownOperationException".into(),
                format!("the fake SSM endpoint does not implement {target:?}"),
            )
        };
        if !play(&mut writer, step, request_no, &state) {
            return;
        }
    }
}
