//! SendCommand for the fake SSM endpoint: a [`Sending`] world stands in front of another one (an
//! invocation's answers in turn, a fleet's [`super::timeline::Timeline`], a multi-step world) and
//! answers SendCommand as the service does, or as scripted: throttled, refused, run and then the
//! connection dropped before the answer, run and answered 500 or too late. It keeps what was sent
//! and what ran, and lists the commands that ran to ListCommands asked without a CommandId (how
//! ssmres looks for a send by the mark in its Comment), in pages. Every other call goes to the
//! world behind, which numbers its rounds as if the send had not been there.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::fake_ssm::{
    Answer, Body, CMD_ID, Call, Incoming, LIST_COMMANDS, REQUESTED_AT_MS, Script, Step, World,
    cloudwatch, command_record, epoch_ms, fingerprint, page_response, validation,
};

pub const SEND_COMMAND: &str = "AmazonSSM.SendCommand";

/// SendCommand's limits, as the service checks them.
const MAX_INSTANCE_IDS: usize = 50;
const MAX_TARGETS: usize = 5;
const MAX_COMMENT: usize = 100;
/// ListCommands' largest (and default) page.
const LIST_COMMANDS_PAGE: usize = 50;

/// How one SendCommand request is answered.
#[derive(Clone, Debug)]
pub enum SendReply {
    /// Run, and answered with its Command record.
    Accept,
    /// Run, and answered with this exact body.
    AcceptRaw(String),
    /// Throttled (`400 ThrottlingException: Rate exceeded`): not run.
    Throttle,
    /// Refused with this error code and message: not run.
    Refuse(String, String),
    /// Run, then the connection closed before the answer.
    RunThenDrop,
    /// The connection closed without it running.
    DropUnrun,
    /// Run, then answered `500 InternalServerError`.
    RunThen500,
    /// Run, answered after this long.
    RunSlowly(Duration),
}

#[derive(Default)]
struct Sends {
    /// The request bodies of the sends that ran, in order.
    ran: Vec<Value>,
    /// SendCommand requests answered so far.
    requests: usize,
    /// ListCommands look-ups (without a CommandId) answered so far, first pages only.
    lookups: usize,
}

/// SendCommand in front of `behind`; see the module's documentation.
pub struct Sending {
    behind: Box<dyn World>,
    /// One per request, the last one repeating.
    replies: Vec<SendReply>,
    /// A command that ran is listed from this look-up on (1: the first), as ListCommands shows
    /// a new command a moment late.
    listed_from: usize,
    /// How many other commands the look-ups list before the one sent, to make them page.
    others: usize,
    sends: Mutex<Sends>,
}

impl Sending {
    /// Every SendCommand accepted, in front of `behind`.
    pub fn new(behind: impl World) -> Sending {
        Sending::boxed(Box::new(behind))
    }

    pub fn boxed(behind: Box<dyn World>) -> Sending {
        Sending {
            behind,
            replies: vec![SendReply::Accept],
            listed_from: 1,
            others: 0,
            sends: Mutex::default(),
        }
    }

    /// The SendCommand requests get these answers, one each, the last one repeating.
    pub fn replies(mut self, replies: Vec<SendReply>) -> Sending {
        assert!(!replies.is_empty(), "at least one reply");
        self.replies = replies;
        self
    }

    pub fn listed_from(mut self, lookup: usize) -> Sending {
        self.listed_from = lookup;
        self
    }

    pub fn others(mut self, n: usize) -> Sending {
        self.others = n;
        self
    }

    /// The bodies of the sends that ran.
    pub fn ran(&self) -> Vec<Value> {
        self.sends.lock().unwrap().ran.clone()
    }

    /// ListCommands look-ups (first pages) answered.
    pub fn lookups(&self) -> usize {
        self.sends.lock().unwrap().lookups
    }

    fn is_ours(target: &str, body: &Value) -> bool {
        target == SEND_COMMAND || (target == LIST_COMMANDS && body.get("CommandId").is_none())
    }

    fn send(&self, body: &Value) -> Result<Step, Step> {
        let checked = Body::parse(body)?;
        check_send(&checked)?;
        let mut sends = self.sends.lock().unwrap();
        sends.requests += 1;
        let reply = self.replies[(sends.requests - 1).min(self.replies.len() - 1)].clone();
        let record = send_record(body);
        let mut run = || sends.ran.push(body.clone());
        Ok(match reply {
            SendReply::Accept => {
                run();
                Step::ok(&json!({ "Command": record }))
            }
            SendReply::AcceptRaw(text) => {
                run();
                Step::ok_raw(&text)
            }
            SendReply::Throttle => Step::throttled(),
            SendReply::Refuse(code, message) => Step::error(&code, message),
            SendReply::RunThenDrop => {
                run();
                Step::DropConnection
            }
            SendReply::DropUnrun => Step::DropConnection,
            SendReply::RunThen500 => {
                run();
                Step::Status500
            }
            SendReply::RunSlowly(delay) => {
                run();
                Step::delayed(delay, Step::ok(&json!({ "Command": record })))
            }
        })
    }

    /// ListCommands without a CommandId: the other commands, then those that ran (once
    /// listed), requested after the InvokedAfter filter, in pages.
    fn list(&self, body: &Value) -> Result<Step, Step> {
        let checked = Body::parse(body)?;
        let size = checked.max_results(1, LIST_COMMANDS_PAGE, LIST_COMMANDS_PAGE)?;
        let filters = body.get("Filters").cloned().unwrap_or(json!([]));
        for filter in filters.as_array().into_iter().flatten() {
            let (Some(key), Some(value)) = (filter["key"].as_str(), filter["value"].as_str())
            else {
                return Err(validation("a filter has a key and a value".into()));
            };
            let iso = value.len() == 20 && value.ends_with('Z') && value.as_bytes()[10] == b'T';
            if key != "InvokedAfter" || !iso {
                return Err(validation(format!("unexpected filter {key}={value}")));
            }
        }
        let query = fingerprint(&filters.to_string());
        let position = checked.position(query)?;
        let mut sends = self.sends.lock().unwrap();
        if position == (1, 0) {
            sends.lookups += 1;
        }
        let mut records: Vec<Value> = (0..self.others)
            .map(|i| {
                let mut other = command_record::<&str>(&[]);
                other["CommandId"] = json!(format!("00000000-0000-4000-8000-{i:012x}"));
                other["Comment"] = json!(format!("someone else's command {i}"));
                other
            })
            .collect();
        if sends.lookups >= self.listed_from {
            records.extend(sends.ran.iter().map(send_record));
        }
        Ok(Step::ok(&page_response(
            "Commands", &records, position, size, query, false,
        )))
    }
}

impl World for Sending {
    fn begins_round(&self, call: &Incoming, log: &[Call]) -> bool {
        if Sending::is_ours(call.target, call.body) {
            return false;
        }
        let theirs: Vec<Call> = (log.iter())
            .filter(|c| !Sending::is_ours(&c.target, &c.body))
            .cloned()
            .collect();
        self.behind.begins_round(call, &theirs)
    }

    fn answer(&self, call: &Incoming, round: usize) -> Answer {
        match call.target {
            SEND_COMMAND => self.send(call.body).unwrap_or_else(|e| e).into(),
            LIST_COMMANDS if call.body.get("CommandId").is_none() => {
                self.list(call.body).unwrap_or_else(|e| e).into()
            }
            _ => self.behind.answer(call, round),
        }
    }

    fn script(&self) -> Script {
        self.behind.script()
    }
}

/// What SendCommand checks of its request (a subset: what ssmres could get wrong).
fn check_send(body: &Body) -> Result<(), Step> {
    let too_long = |what: &str, max: usize| {
        validation(format!(
            "1 validation error detected: Value at '{what}' failed to satisfy constraint: Member \
             must have length less than or equal to {max}"
        ))
    };
    let name = body.string("DocumentName")?.unwrap_or_default();
    let pattern = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(&b));
    if !(3..=128).contains(&name.len()) || !pattern {
        return Err(validation(format!(
            "Value '{name}' at 'documentName' failed to satisfy constraint"
        )));
    }
    let count = |key: &str| body.0.get(key).and_then(Value::as_array).map(Vec::len);
    match (count("InstanceIds"), count("Targets")) {
        (Some(n), _) if n > MAX_INSTANCE_IDS => return Err(too_long("instanceIds", 50)),
        (_, Some(n)) if n > MAX_TARGETS => return Err(too_long("targets", 5)),
        (None | Some(0), None | Some(0)) => {
            return Err(Step::error(
                "InvalidInstanceId",
                "Instances or targets must be specified",
            ));
        }
        _ => {}
    }
    if let Some(comment) = body.string("Comment")?
        && comment.chars().count() > MAX_COMMENT
    {
        return Err(too_long("comment", MAX_COMMENT));
    }
    if let Some(params) = body.0.get("Parameters") {
        let lists = params.as_object().is_some_and(|p| {
            p.values()
                .all(|v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
        });
        if !lists {
            return Err(Step::error(
                "SerializationException",
                "Parameters is a map of lists of strings",
            ));
        }
    }
    Ok(())
}

/// The Command record of a send of `body`, as SendCommand answers it (Pending, counts at 0) and
/// ListCommands lists it.
pub fn send_record(body: &Value) -> Value {
    let or = |key: &str, default: Value| body.get(key).cloned().unwrap_or(default);
    let mut command = command_record::<&str>(&[]);
    command["CommandId"] = json!(CMD_ID);
    command["DocumentName"] = or("DocumentName", json!(""));
    command["DocumentVersion"] = or("DocumentVersion", json!("$DEFAULT"));
    command["Comment"] = or("Comment", json!(""));
    command["ExpiresAfter"] = json!(epoch_ms(REQUESTED_AT_MS + 3_600_000));
    command["Parameters"] = or("Parameters", json!({}));
    command["InstanceIds"] = or("InstanceIds", json!([]));
    command["Targets"] = or("Targets", json!([]));
    command["TargetCount"] = json!(body["InstanceIds"].as_array().map_or(0, Vec::len));
    command["OutputS3BucketName"] = or("OutputS3BucketName", json!(""));
    command["OutputS3KeyPrefix"] = or("OutputS3KeyPrefix", json!(""));
    command["MaxConcurrency"] = or("MaxConcurrency", json!("50"));
    command["MaxErrors"] = or("MaxErrors", json!("0"));
    command["CloudWatchOutputConfig"] = or("CloudWatchOutputConfig", cloudwatch("", false));
    command["TimeoutSeconds"] = or("TimeoutSeconds", json!(3600));
    command
}
