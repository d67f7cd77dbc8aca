//! A scripted fake Alibaba Cloud ECS endpoint answering Cloud Assistant's
//! `DescribeInvocationResults` and `DescribeInvocations` as the RPC-style API does, over plain
//! HTTP/1.1.
//!
//! Served by the server core of [`super::http`]; every request is recorded (method, path,
//! decoded query parameters, arrival time, what it was answered), and dropping the [`FakeEcs`]
//! stops it.
//!
//! Every request is checked as the service checks it, in this order: the common parameters
//! (`MissingParameter` / `InvalidParameter`, a `Timestamp` more than 15 minutes off is
//! `InvalidTimeStamp.Expired`), the `Action`, the `AccessKeyId` (`InvalidAccessKeyId.NotFound`,
//! 404), the classic RPC signature V1 recomputed here with this file's own implementation
//! ([`percent_encode`], [`string_to_sign`], [`signature`]; `SignatureDoesNotMatch`), the
//! `SecurityToken` of an STS key (`InvalidSecurityToken.Mismatch`), and the `SignatureNonce`,
//! which may be used once (`SignatureNonceUsed`).
//!
//! A request that passes is a *call*, numbered from 1. A scripted [`Fault`] may answer any call
//! instead (throttling, 5xx, a dropped connection, any status and body), by its number or as the
//! n-th call of an action ([`World::fail_nth`]). Otherwise the call is answered from a
//! [`World`]: invocations, each with instances whose state is a function of the *round*, a
//! round being one call without a `NextToken` (the first is round 1; faulted calls count): of
//! `DescribeInvocations`, or of `DescribeInvocationResults` as long as no `DescribeInvocations`
//! call came. So the world moves with the polls of a wait, whichever action it polls with; once
//! a client polls `DescribeInvocations` (the states of every instance), its
//! `DescribeInvocationResults` calls (one instance's result, fetched once it is over) read the
//! state of the latest round without moving the world, and a test's timeline counts the client's
//! rounds, however many results it fetches in between. Pages after the first are answered from
//! the state of the round their `NextToken` was issued in, `MaxResults` (1 to 50, default 10) at
//! a time, with an opaque token tied to the query.
//!
//! `DescribeInvocations` (RegionId; InvokeId, CommandId, InstanceId, InvokeStatus,
//! IncludeOutput, ContentEncoding, MaxResults, NextToken) answers from the same world: each
//! invocation with at least one instance listed at that round, its overall `InvocationStatus`
//! (and the older `InvokeStatus`), and every listed instance's state in
//! `InvokeInstances.InvokeInstance` (only the named one with InstanceId), with `Output` only when
//! `IncludeOutput=true`. As the API reference describes it, `MaxResults` and `NextToken` page the
//! invocations; an invocation's instances all come in its one record.
//!
//! Every answer's body is counted ([`Recorded::bytes`]), and so is every output it carried
//! ([`FakeEcs::outputs_served`]): what a wait costs is asserted, not guessed.
//!
//! `StopInvocation` (RegionId, InvokeId, InstanceId.1, InstanceId.2, …) is a call too, but never
//! a round: it answers `{"RequestId": …}` (after [`World::stop_delay`]), and from the next round
//! on every instance it names (all of the invocation's without InstanceId.N) that was not over
//! is `Stopping` for one round, then `Terminated` (`Cancelled` when it had not started).
//! [`run_command_output`] and [`invoke_command_output`] are what `aliyun ecs RunCommand` /
//! `InvokeCommand` print (the `InvokeId` JSON answer).
//!
//! `RunCommand` (RegionId, Type, CommandContent, ContentEncoding, InstanceId.N, Timeout,
//! WorkingDir, Username, Description, ClientToken) is a call and never a round either: it
//! answers the first invocation of the world (`{"RequestId", "CommandId", "InvokeId"}`) and
//! records a run; a ClientToken seen before with the same parameters is answered the same
//! without a new run, with other parameters `IdempotentParameterMismatch`, as the service does.
//! [`Fault::DropAfterAnswering`] handles a call, then drops the connection instead of answering.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha1::Sha1;

use super::http::{self, Reply, Request, Server};
use super::{civil_from_days, since_epoch};

/// The operation the fake is about.
pub const ACTION: &str = "DescribeInvocationResults";
/// The invocations and every instance's state, outputs only when asked for.
pub const DESCRIBE_ACTION: &str = "DescribeInvocations";
/// The other operations it implements.
pub const STOP_ACTION: &str = "StopInvocation";
pub const RUN_ACTION: &str = "RunCommand";
/// RunCommand's limits: InstanceId.N, N from 1 to 50; the Base64 content at most 18 KB; a
/// ClientToken of at most 64 ASCII characters.
pub const RUN_MAX_INSTANCES: usize = 50;
pub const RUN_MAX_CONTENT: usize = 18 * 1024;
pub const MAX_CLIENT_TOKEN: usize = 64;
pub const API_VERSION: &str = "2014-05-26";
/// `HostId` of every error body.
pub const HOST_ID: &str = "ecs.aliyuncs.com";
/// The largest `MaxResults` the API accepts.
pub const MAX_RESULTS: usize = 50;
/// `MaxResults` when the request has none.
pub const DEFAULT_MAX_RESULTS: usize = 10;

/// The key every fake knows (see [`World::key`] for more).
pub const ACCESS_KEY_ID: &str = "LTAI5tFakeEcsKey0001";
pub const ACCESS_KEY_SECRET: &str = "fakeEcsSecretDoNotLeak0123456789";
pub const REGION_ID: &str = "cn-hangzhou";

/// A well-formed invoke ID (`t-` + letters and digits) and the command it ran.
pub const INVOKE_ID: &str = "t-hz0jdfwd9f0001";
pub const COMMAND_ID: &str = "c-hz0jdfwcsr0001";

/// `StartTime` of a started result and `FinishedTime` of a finished one.
pub const START_TIME: &str = "2024-05-14T09:12:31Z";
pub const FINISHED_TIME: &str = "2024-05-14T09:12:34Z";

/// Every `InvocationStatus` in which the command is over on that instance.
pub const TERMINAL_STATUSES: &str =
    "Success Failed Error Timeout Cancelled Terminated Invalid Aborted";

/// The `InvokeRecordStatus` filter values the API accepts.
pub const RECORD_STATUSES: &str = "Running Finished Success Failed PartialFailed Stopped Stopping";

pub fn is_terminal(status: &str) -> bool {
    TERMINAL_STATUSES.split(' ').any(|s| s == status)
}

/// What `aliyun ecs RunCommand` prints: `{"RequestId", "CommandId", "InvokeId"}`.
pub fn run_command_output(invoke_id: &str) -> Value {
    json!({
        "RequestId": "E69EF3CC-94CD-42E7-8926-F133B86387C0",
        "CommandId": COMMAND_ID,
        "InvokeId": invoke_id,
    })
}

/// What `aliyun ecs InvokeCommand` prints: `{"RequestId", "InvokeId"}`.
pub fn invoke_command_output(invoke_id: &str) -> Value {
    json!({
        "RequestId": "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E",
        "InvokeId": invoke_id,
    })
}

/// A well-formed ECS instance ID for the `i`-th instance of a fleet (`i-bp1…` + `i` in hex).
pub fn instance_id(i: usize) -> String {
    format!("i-bp1{i:017x}")
}

// --- Signature V1 --------------------------------------------------------------------------------

/// RFC 3986 percent-encoding as the RPC signature wants it: `A-Z a-z 0-9 - _ . ~` kept, every
/// other UTF-8 byte as `%XX` in upper-case hex (a space is `%20`, `*` is `%2A`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            write!(out, "%{b:02X}").unwrap();
        }
    }
    out
}

/// Decodes a query component as a web server does (`%XX` and `+` for a space); `None` when it
/// is not valid percent-encoding of UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `k=v&…` of a raw query string, decoded, in the order sent; `None` when malformed.
pub fn parse_query(query: &str) -> Option<Vec<(String, String)>> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            Some((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

/// Every parameter but `Signature`, sorted by name (byte order), each
/// `percentEncode(name)=percentEncode(value)`, joined by `&`.
pub fn canonicalized_query(params: &[(String, String)]) -> String {
    let mut pairs = params.to_vec();
    pairs.retain(|(k, _)| k != "Signature");
    // `String`s compare byte by byte.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    to_query(&pairs)
}

/// `METHOD&%2F&percentEncode(canonicalized query)`.
pub fn string_to_sign(method: &str, params: &[(String, String)]) -> String {
    format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&canonicalized_query(params))
    )
}

/// `base64(HMAC-SHA1(secret + "&", string_to_sign))`.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(string_to_sign.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// `params` as a query string (`k=v&…`, both percent-encoded), in the order given.
pub fn to_query(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Owned `(name, value)` pairs.
pub fn owned(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// --- Timestamps ----------------------------------------------------------------------------------

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDThh:mm:ssZ` (UTC) for these seconds since the epoch.
pub fn format_timestamp(epoch_secs: i64) -> String {
    let (y, m, d) = civil_from_days(epoch_secs.div_euclid(86_400));
    let s = epoch_secs.rem_euclid(86_400);
    let (h, mi, s) = (s / 3600, s / 60 % 60, s % 60);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Seconds since the epoch of exactly `YYYY-MM-DDThh:mm:ssZ`; `None` for anything else.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    // `0` stands for a digit.
    let shape = "0000-00-00T00:00:00Z";
    let fits = |(c, want): (u8, u8)| c == want || (want == b'0' && c.is_ascii_digit());
    if s.len() != shape.len() || !s.bytes().zip(shape.bytes()).all(fits) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

pub fn now_epoch() -> i64 {
    since_epoch().as_secs() as i64
}

/// How far the request's `Timestamp` may be from the fake's clock.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 15 * 60;

// --- A tiny client, to test the fake itself ------------------------------------------------------

static NONCES: AtomicUsize = AtomicUsize::new(0);

/// A fresh `SignatureNonce`.
pub fn fresh_nonce() -> String {
    let (nanos, n) = (
        since_epoch().as_nanos(),
        NONCES.fetch_add(1, Ordering::SeqCst),
    );
    format!("{nanos:x}-{n:x}-{}", std::process::id())
}

/// The common parameters of a `DescribeInvocationResults` call by `access_key_id` in
/// [`REGION_ID`] (fresh nonce, current timestamp), then `extra`; not signed yet.
pub fn call_params(access_key_id: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let (nonce, timestamp) = (fresh_nonce(), format_timestamp(now_epoch()));
    let mut params = owned(&[
        ("Action", ACTION),
        ("Version", API_VERSION),
        ("Format", "JSON"),
        ("AccessKeyId", access_key_id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("RegionId", REGION_ID),
        ("SignatureNonce", &nonce),
        ("Timestamp", &timestamp),
    ]);
    params.extend(owned(extra));
    params
}

/// `params` with their `Signature` (GET, this secret) appended.
pub fn signed(secret: &str, mut params: Vec<(String, String)>) -> Vec<(String, String)> {
    let sig = signature(secret, &string_to_sign("GET", &params));
    params.retain(|(k, _)| k != "Signature");
    params.push(("Signature".into(), sig));
    params
}

// --- The scripted world --------------------------------------------------------------------------

/// One instance of an invocation: when it is listed, its `InvocationStatus` round by round, and
/// what it reports once it is over.
#[derive(Clone, Debug, Default)]
pub struct Instance {
    pub instance_id: String,
    /// Listed from this round on (an empty result before).
    pub visible_from: usize,
    /// `(from round, InvocationStatus)`, sorted by round; `Pending` before the first.
    pub states: Vec<(usize, String)>,
    /// The raw output bytes, served (Base64 or plain) once the status is terminal.
    pub output: Vec<u8>,
    pub exit_code: i64,
    pub error_code: String,
    pub error_info: String,
    pub dropped: u64,
    /// `Repeats` once started (0 before).
    pub repeats: u64,
    pub oss_output_uri: String,
}

impl Instance {
    /// Listed from round 1, `Success` with exit code 0 from round 1, printing
    /// `hello from <instance id>\n`.
    pub fn new(instance_id: impl Into<String>) -> Instance {
        let instance_id = instance_id.into();
        Instance {
            output: format!("hello from {instance_id}\n").into_bytes(),
            instance_id,
            visible_from: 1,
            states: vec![(1, "Success".into())],
            repeats: 1,
            ..Instance::default()
        }
    }

    /// `Failed` from round 1 with this exit code (`ExitCodeNonzero`).
    pub fn failed(instance_id: impl Into<String>, exit_code: i64) -> Instance {
        let info = "The command execution exit code is not zero.";
        let instance = Instance::new(instance_id).timeline(&[(1, "Failed")]);
        instance.exit_code(exit_code).error("ExitCodeNonzero", info)
    }

    /// Replaces the status timeline: `(from round, InvocationStatus)`.
    pub fn timeline(mut self, states: &[(usize, &str)]) -> Instance {
        self.states = states.iter().map(|(r, s)| (*r, (*s).to_owned())).collect();
        self.states.sort_by_key(|(r, _)| *r);
        self
    }

    /// Listed from `round` on.
    pub fn visible_from(mut self, round: usize) -> Instance {
        self.visible_from = round;
        self
    }

    pub fn output(mut self, bytes: impl AsRef<[u8]>) -> Instance {
        self.output = bytes.as_ref().to_vec();
        self
    }

    pub fn exit_code(mut self, code: i64) -> Instance {
        self.exit_code = code;
        self
    }

    /// `ErrorCode` and `ErrorInfo` once it is over.
    pub fn error(mut self, code: &str, info: &str) -> Instance {
        self.error_code = code.to_owned();
        self.error_info = info.to_owned();
        self
    }

    /// `Dropped`: how many bytes of output the service cut off.
    pub fn dropped(mut self, n: u64) -> Instance {
        self.dropped = n;
        self
    }

    pub fn repeats(mut self, n: u64) -> Instance {
        self.repeats = n;
        self
    }

    /// `OssOutputDelivery`, `OssOutputStatus` Finished and `OssOutputUri` `uri`.
    pub fn oss_output_uri(mut self, uri: &str) -> Instance {
        self.oss_output_uri = uri.to_owned();
        self
    }

    /// Its `InvocationStatus` at `round`.
    pub fn status_at(&self, round: usize) -> &str {
        self.states
            .iter()
            .rev()
            .find(|(r, _)| *r <= round)
            .map_or("Pending", |(_, s)| s.as_str())
    }

    pub fn visible_at(&self, round: usize) -> bool {
        round >= self.visible_from
    }
}

/// One command execution (`InvokeId`) and its instances, in listing order.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    pub invoke_id: String,
    pub command_id: String,
    pub resource_group_id: String,
    pub tags: Vec<(String, String)>,
    pub instances: Vec<Instance>,
    /// A task that runs on every boot: DescribeInvocations says `RepeatMode` EveryReboot and an
    /// overall `Running` whatever its instances show (the reference: "always Running").
    pub every_reboot: bool,
}

impl Invocation {
    /// An invocation of [`COMMAND_ID`] with no instances yet.
    pub fn new(invoke_id: impl Into<String>) -> Invocation {
        Invocation {
            invoke_id: invoke_id.into(),
            command_id: COMMAND_ID.to_owned(),
            ..Invocation::default()
        }
    }

    pub fn every_reboot(mut self) -> Invocation {
        self.every_reboot = true;
        self
    }

    pub fn command_id(mut self, id: &str) -> Invocation {
        self.command_id = id.to_owned();
        self
    }

    pub fn resource_group_id(mut self, id: &str) -> Invocation {
        self.resource_group_id = id.to_owned();
        self
    }

    pub fn tag(mut self, key: &str, value: &str) -> Invocation {
        self.tags.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn instance(mut self, instance: Instance) -> Invocation {
        self.instances.push(instance);
        self
    }

    pub fn instances(mut self, instances: impl IntoIterator<Item = Instance>) -> Invocation {
        self.instances.extend(instances);
        self
    }

    /// `InvokeRecordStatus` at `round`: Running while any listed instance is not over
    /// (Stopping while one is stopping), then Finished when every one succeeded, Failed when
    /// none did, PartialFailed otherwise.
    pub fn record_status_at(&self, round: usize) -> &'static str {
        let statuses: Vec<&str> = self
            .instances
            .iter()
            .filter(|i| i.visible_at(round))
            .map(|i| i.status_at(round))
            .collect();
        if statuses.contains(&"Stopping") {
            "Stopping"
        } else if statuses.iter().any(|s| !is_terminal(s)) || statuses.is_empty() {
            "Running"
        } else if statuses.iter().all(|s| *s == "Success") {
            "Finished"
        } else if statuses.iter().all(|s| *s != "Success") {
            "Failed"
        } else {
            "PartialFailed"
        }
    }

    /// DescribeInvocations' overall `InvocationStatus` at `round`, from every instance's (one
    /// not listed yet is Pending: the service knows the instances it was sent to before it
    /// lists them) as the API reference words it: Pending, Scheduled, Running or Stopping while
    /// one instance is; once all are over, Success (none failed), Failed (none succeeded),
    /// Stopped (all stopped) or PartialFailed.
    pub fn invocation_status_at(&self, round: usize) -> &'static str {
        if self.every_reboot {
            return "Running";
        }
        let statuses: Vec<&str> = self
            .instances
            .iter()
            .map(|i| match i.visible_at(round) {
                true => i.status_at(round),
                false => "Pending",
            })
            .collect();
        for busy in ["Pending", "Scheduled", "Running", "Stopping"] {
            if statuses.contains(&busy) {
                return busy;
            }
        }
        if statuses.iter().any(|s| !is_terminal(s)) {
            return "Running";
        }
        let count = |wanted: &[&str]| statuses.iter().filter(|s| wanted.contains(s)).count();
        let succeeded = count(&["Success"]);
        let failed = statuses.len() - succeeded - count(&["Cancelled", "Terminated"]);
        match (succeeded, failed) {
            (_, 0) if succeeded > 0 => "Success",
            (0, 0) => "Stopped",
            (0, _) => "Failed",
            _ => "PartialFailed",
        }
    }

    /// `Period` when an instance ever waits for its next run (`Scheduled`), else `Once`.
    pub fn repeat_mode(&self) -> &'static str {
        if self.every_reboot {
            return "EveryReboot";
        }
        let periodic = self
            .instances
            .iter()
            .any(|i| i.states.iter().any(|(_, s)| s == "Scheduled"));
        if periodic { "Period" } else { "Once" }
    }

    /// DescribeInvocations' record of this invocation at `round`: `None` while no instance is
    /// listed. Only `only`'s instance when given; `Output` when `output` is `Some(base64)`.
    pub fn described_at(
        &self,
        round: usize,
        only: Option<&str>,
        output: Option<bool>,
    ) -> Option<Value> {
        let instances: Vec<Value> = self
            .instances
            .iter()
            .filter(|i| i.visible_at(round) && only.is_none_or(|id| id == i.instance_id))
            .map(|i| self.invoke_instance_at(i, round, output))
            .collect();
        if instances.is_empty() {
            return None;
        }
        let tags: Vec<Value> = self
            .tags
            .iter()
            .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
            .collect();
        let periodic = self.repeat_mode() == "Period";
        Some(json!({
            "CreationTime": START_TIME,
            "Frequency": if periodic { "0 */20 * * * ?" } else { "" },
            "InvocationStatus": self.invocation_status_at(round),
            "RepeatMode": self.repeat_mode(),
            "Timeout": 60,
            "CommandContent": BASE64.encode("echo hello from $(hostname)"),
            "CommandType": "RunShellScript",
            "Timed": periodic,
            "InvokeStatus": self.record_status_at(round),
            "Parameters": "{}",
            "Username": "root",
            "CommandDescription": "",
            "InvokeInstances": { "InvokeInstance": instances },
            "CommandId": self.command_id,
            "InvokeId": self.invoke_id,
            "CommandName": "ssmres-test",
            "WorkingDir": "/root",
            "TerminationMode": "Process",
            "Launcher": "",
            "ContainerId": "",
            "ContainerName": "",
            "Tags": { "Tag": tags },
        }))
    }

    /// One `InvokeInstance` of DescribeInvocations at `round`.
    fn invoke_instance_at(&self, instance: &Instance, round: usize, output: Option<bool>) -> Value {
        let status = instance.status_at(round);
        let over = is_terminal(status);
        let started = !matches!(status, "Pending" | "Invalid" | "Aborted" | "Cancelled");
        // The older per-instance word, which the reference says to ignore.
        let legacy = match status {
            "Success" => "Finished",
            "Cancelled" | "Terminated" => "Stopped",
            s if is_terminal(s) => "Failed",
            s => s,
        };
        let oss = !instance.oss_output_uri.is_empty();
        let mut record = json!({
            "CreationTime": START_TIME,
            "UpdateTime": if over { FINISHED_TIME } else { START_TIME },
            "FinishTime": if over { FINISHED_TIME } else { "" },
            "InvocationStatus": status,
            "Repeats": if started { instance.repeats } else { 0 },
            "InstanceId": instance.instance_id,
            "Dropped": if over { instance.dropped } else { 0 },
            "ErrorInfo": if over { instance.error_info.as_str() } else { "" },
            "StartTime": if started { START_TIME } else { "" },
            "StopTime": "",
            "ExitCode": if over { instance.exit_code } else { 0 },
            "InstanceInvokeStatus": legacy,
            "ErrorCode": if over { instance.error_code.as_str() } else { "" },
            "Timed": self.repeat_mode() == "Period",
            "OssOutputStatus": if oss && over { "Finished" } else { "" },
            "OssOutputUri": if over { instance.oss_output_uri.as_str() } else { "" },
            "OssOutputErrorCode": "",
            "OssOutputErrorInfo": "",
        });
        if let Some(base64) = output {
            record["Output"] = json!(match (over, base64) {
                (false, _) => String::new(),
                (true, true) => BASE64.encode(&instance.output),
                (true, false) => String::from_utf8_lossy(&instance.output).into_owned(),
            });
        }
        record
    }

    /// The `InvocationResult` of `instance` at `round`, `Output` encoded as asked.
    pub fn result_at(&self, instance: &Instance, round: usize, base64: bool) -> Value {
        let status = instance.status_at(round);
        let over = is_terminal(status);
        let started = !matches!(status, "Pending" | "Invalid" | "Aborted" | "Cancelled");
        let output = match (over, base64) {
            (false, _) => String::new(),
            (true, true) => BASE64.encode(&instance.output),
            (true, false) => String::from_utf8_lossy(&instance.output).into_owned(),
        };
        let tags: Vec<Value> = self
            .tags
            .iter()
            .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
            .collect();
        let oss = !instance.oss_output_uri.is_empty();
        json!({
            "Dropped": if over { instance.dropped } else { 0 },
            "OssOutputDelivery": if oss { "oss://ssmres-test/output" } else { "" },
            "InvocationStatus": status,
            "InstanceId": instance.instance_id,
            "ExitCode": if over { instance.exit_code } else { 0 },
            "ErrorInfo": if over { instance.error_info.as_str() } else { "" },
            "StartTime": if started { START_TIME } else { "" },
            "Repeats": if started { instance.repeats } else { 0 },
            "InvokeRecordStatus": self.record_status_at(round),
            "FinishedTime": if over { FINISHED_TIME } else { "" },
            "OssOutputUri": if over { instance.oss_output_uri.as_str() } else { "" },
            "OssOutputStatus": if oss && over { "Finished" } else { "" },
            "Username": "root",
            "ContainerId": "",
            "ContainerName": "",
            "Output": output,
            "Launcher": "",
            "CommandId": self.command_id,
            "ErrorCode": if over { instance.error_code.as_str() } else { "" },
            "InvokeId": self.invoke_id,
            "TerminationMode": "Process",
            "Tags": { "Tag": tags },
            "StopTime": "",
        })
    }
}

/// A scripted answer to one call, played instead of the world's.
#[derive(Clone, Debug)]
pub enum Fault {
    /// An API error: HTTP status, `Code`, `Message`.
    Error(u16, String, String),
    /// This HTTP status and this exact body.
    Raw(u16, String),
    /// Read the request, then close the connection without answering.
    Drop,
    /// Handle the call as usual, then close the connection instead of answering: the answer
    /// is lost, what the call did is done.
    DropAfterAnswering,
}

impl Fault {
    fn error(status: u16, code: &str, message: &str) -> Fault {
        Fault::Error(status, code.into(), message.into())
    }

    pub fn throttling() -> Fault {
        let message = "Request was denied due to user flow control.";
        Fault::error(400, "Throttling.User", message)
    }

    pub fn service_unavailable() -> Fault {
        let message = "The request has failed due to a temporary failure of the server.";
        Fault::error(503, "ServiceUnavailable", message)
    }

    pub fn internal_error() -> Fault {
        let message =
            "The request processing has failed due to some unknown error, exception or failure.";
        Fault::error(500, "InternalError", message)
    }

    pub fn dropped_connection() -> Fault {
        Fault::Drop
    }

    pub fn lost_answer() -> Fault {
        Fault::DropAfterAnswering
    }
}

/// What a [`FakeEcs`] answers from: invocations, keys, and faults per call.
#[derive(Clone, Debug)]
pub struct World {
    pub invocations: Vec<Invocation>,
    /// Secret and, for an STS key, security token, by key ID.
    keys: HashMap<String, (String, Option<String>)>,
    faults: HashMap<usize, Fault>,
    /// Faults for the n-th call (from 1) of an action.
    faults_by_action: HashMap<(String, usize), Fault>,
    stop_delay: Duration,
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}

impl World {
    /// No invocation; the key [`ACCESS_KEY_ID`] / [`ACCESS_KEY_SECRET`].
    pub fn new() -> World {
        let world = World {
            invocations: Vec::new(),
            keys: HashMap::new(),
            faults: HashMap::new(),
            faults_by_action: HashMap::new(),
            stop_delay: Duration::ZERO,
        };
        world.key(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    }

    /// One invocation [`INVOKE_ID`] of [`COMMAND_ID`] on these instances.
    pub fn single(instances: impl IntoIterator<Item = Instance>) -> World {
        World::new().invocation(Invocation::new(INVOKE_ID).instances(instances))
    }

    pub fn invocation(mut self, invocation: Invocation) -> World {
        self.invocations.push(invocation);
        self
    }

    /// Another valid AccessKey pair.
    pub fn key(mut self, id: &str, secret: &str) -> World {
        self.keys.insert(id.to_owned(), (secret.to_owned(), None));
        self
    }

    /// An STS key: calls with it must carry this `SecurityToken`.
    pub fn sts_key(mut self, id: &str, secret: &str, token: &str) -> World {
        let key = (secret.to_owned(), Some(token.to_owned()));
        self.keys.insert(id.to_owned(), key);
        self
    }

    /// Call number `call` (from 1) gets `fault`.
    pub fn fail_call(mut self, call: usize, fault: Fault) -> World {
        self.faults.insert(call, fault);
        self
    }

    /// Every call numbered in `calls` gets `fault`.
    pub fn fail_calls(mut self, calls: RangeInclusive<usize>, fault: Fault) -> World {
        for call in calls {
            self.faults.insert(call, fault.clone());
        }
        self
    }

    /// The `n`-th call (from 1) of `action` gets `fault`, whatever calls of other actions came
    /// in between (a wait's result fetches run beside its rounds).
    pub fn fail_nth(mut self, action: &str, n: usize, fault: Fault) -> World {
        self.faults_by_action.insert((action.to_owned(), n), fault);
        self
    }

    /// Every call of `action` numbered (per action) in `calls` gets `fault`.
    pub fn fail_nths(mut self, action: &str, calls: RangeInclusive<usize>, fault: Fault) -> World {
        for n in calls {
            self = self.fail_nth(action, n, fault.clone());
        }
        self
    }

    /// StopInvocation is answered after this long.
    pub fn stop_delay(mut self, delay: Duration) -> World {
        self.stop_delay = delay;
        self
    }

    /// The invocations as seen with these stops applied (see the module's documentation).
    fn stopped(&self, stops: &[Stop]) -> Vec<Invocation> {
        let mut invocations = self.invocations.clone();
        for inv in &mut invocations {
            for instance in &mut inv.instances {
                let stop = stops.iter().find(|s| {
                    s.invoke_id == inv.invoke_id
                        && (s.instance_ids.is_empty()
                            || s.instance_ids.contains(&instance.instance_id))
                });
                let Some(at) = stop.map(|s| s.round) else {
                    continue;
                };
                let before = instance.status_at(at).to_owned();
                if is_terminal(&before) {
                    continue;
                }
                let last = if before == "Pending" {
                    "Cancelled"
                } else {
                    "Terminated"
                };
                instance.states.retain(|(r, _)| *r <= at);
                instance.states.push((at + 1, "Stopping".into()));
                instance.states.push((at + 2, last.into()));
            }
        }
        invocations
    }
}

// --- Recording -----------------------------------------------------------------------------------

/// One request as the fake saw it, and how it was answered.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    pub method: String,
    /// The path without the query (`/`).
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The decoded query parameters, in the order sent (empty when the query was malformed).
    pub params: Vec<(String, String)>,
    /// The HTTP status answered; `None` when the connection was dropped.
    pub status: Option<u16>,
    /// The error `Code` answered, if any.
    pub code: Option<String>,
    /// The call number, for a request that passed authentication.
    pub call: Option<usize>,
    /// The round it was answered from, for a call.
    pub round: Option<usize>,
    /// The string to sign the fake computed (empty when the request was rejected before).
    pub string_to_sign: String,
    /// The length of the body answered (0 when the connection was dropped).
    pub bytes: usize,
}

impl Recorded {
    /// The value of the first parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        param(&self.params, name)
    }

    /// How many times a parameter named `name` was sent.
    pub fn count(&self, name: &str) -> usize {
        self.params.iter().filter(|(k, _)| k == name).count()
    }

    /// `Tag.N.Key` / `Tag.N.Value` pairs, by N.
    pub fn tags(&self) -> Vec<(usize, Option<String>, Option<String>)> {
        let mut tags: BTreeMap<usize, (Option<String>, Option<String>)> = BTreeMap::new();
        for (k, v) in &self.params {
            let tag = k.strip_prefix("Tag.").and_then(|rest| rest.split_once('.'));
            let Some((Ok(n), field)) = tag.map(|(n, field)| (n.parse::<usize>(), field)) else {
                continue;
            };
            let (key, value) = tags.entry(n).or_default();
            match field {
                "Key" => *key = Some(v.clone()),
                "Value" => *value = Some(v.clone()),
                _ => {}
            }
        }
        tags.into_iter().map(|(n, (k, v))| (n, k, v)).collect()
    }
}

/// A page of DescribeInvocationResults the fake served (a `200 OK`).
#[derive(Clone, Debug)]
pub struct ServedPage {
    pub round: usize,
    /// 1 for the page without a NextToken, 2 for the next, …
    pub page: usize,
    /// The `NextToken` answered (empty on the last page).
    pub next_token_out: String,
    /// The `InvocationResult`s as sent.
    pub results: Vec<Value>,
}

impl ServedPage {
    pub fn instance_ids(&self) -> Vec<String> {
        self.results
            .iter()
            .map(|r| r["InstanceId"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

// --- The server ----------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Token {
    round: usize,
    page: usize,
    offset: usize,
    query_key: String,
}

/// A StopInvocation call: the round it came in, what it stopped.
#[derive(Clone, Debug)]
struct Stop {
    round: usize,
    invoke_id: String,
    /// Empty: every instance of the invocation.
    instance_ids: Vec<String>,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    nonces: HashSet<String>,
    calls: usize,
    rounds: usize,
    tokens: HashMap<String, Token>,
    served: Vec<ServedPage>,
    /// The DescribeInvocations records served, with the round they came from.
    described: Vec<(usize, Value)>,
    stops: Vec<Stop>,
    runs: Vec<Run>,
    /// Calls per action, for [`World::fail_nth`].
    calls_by_action: HashMap<String, usize>,
    /// A DescribeInvocations call came: from then on only its first pages are rounds.
    describing: bool,
}

/// A RunCommand that ran: its ClientToken (if any) and its parameters.
#[derive(Clone, Debug)]
pub struct Run {
    pub client_token: Option<String>,
    /// RunCommand's own parameters (no common ones), sorted.
    pub params: Vec<(String, String)>,
    /// The command as it would run: CommandContent decoded.
    pub content: Vec<u8>,
}

struct State {
    world: World,
    inner: Mutex<Inner>,
}

/// The fake endpoint. Shuts down when dropped.
pub struct FakeEcs {
    server: Server,
    state: Arc<State>,
}

impl FakeEcs {
    /// Starts a fake answering from `world`.
    pub fn start(world: World) -> FakeEcs {
        let state = Arc::new(State {
            world,
            inner: Mutex::new(Inner::default()),
        });
        let serving = Arc::clone(&state);
        let server = Server::start(move |request: &Request| {
            let mut inner = serving.inner.lock().unwrap();
            let mut recorded = Recorded {
                method: request.method.clone(),
                path: request.path().to_owned(),
                query: request.query().to_owned(),
                ..Recorded::default()
            };
            let reply = answer(&serving.world, &mut inner, &mut recorded, request.seq);
            inner.requests.push(recorded);
            reply
        });
        FakeEcs { server, state }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.inner.lock().unwrap().requests.clone()
    }

    /// The requests that passed authentication (calls), in order.
    pub fn calls(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.call.is_some())
            .collect()
    }

    pub fn total_requests(&self) -> usize {
        self.state.inner.lock().unwrap().requests.len()
    }

    /// The calls of this `Action` (DescribeInvocationResults, StopInvocation), in order.
    pub fn calls_of(&self, action: &str) -> Vec<Recorded> {
        self.calls()
            .into_iter()
            .filter(|r| r.param("Action") == Some(action))
            .collect()
    }

    /// The RunCommand calls that ran a command (not those a ClientToken deduplicated).
    pub fn runs(&self) -> Vec<Run> {
        self.state.inner.lock().unwrap().runs.clone()
    }

    /// How many rounds there were (first pages of the action the client polls with; see the
    /// module's documentation).
    pub fn rounds(&self) -> usize {
        self.state.inner.lock().unwrap().rounds
    }

    /// The pages of DescribeInvocationResults served (`200 OK`), in order.
    pub fn served_pages(&self) -> Vec<ServedPage> {
        self.state.inner.lock().unwrap().served.clone()
    }

    /// The invocation records DescribeInvocations served, each with the round it showed.
    pub fn described(&self) -> Vec<(usize, Value)> {
        self.state.inner.lock().unwrap().described.clone()
    }

    /// How many times each instance's output was sent (a non-empty `Output`, by either
    /// action), by instance ID.
    pub fn outputs_served(&self) -> BTreeMap<String, usize> {
        let inner = self.state.inner.lock().unwrap();
        let results = inner.served.iter().flat_map(|p| p.results.iter());
        let described = (inner.described.iter())
            .flat_map(|(_, inv)| inv["InvokeInstances"]["InvokeInstance"].as_array().cloned())
            .flatten()
            .collect::<Vec<_>>();
        let mut counts = BTreeMap::new();
        for record in results.chain(described.iter()) {
            if record["Output"].as_str().is_some_and(|o| !o.is_empty()) {
                let id = record["InstanceId"].as_str().unwrap_or_default().to_owned();
                *counts.entry(id).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The bytes of every body answered to calls of `action`.
    pub fn bytes_of(&self, action: &str) -> usize {
        self.calls_of(action).iter().map(|c| c.bytes).sum()
    }

    /// Sends a `DescribeInvocationResults` call signed with [`ACCESS_KEY_ID`] (the common
    /// parameters of [`call_params`], then `extra`); the status and the body as JSON.
    pub fn call(&self, extra: &[(&str, &str)]) -> (u16, Value) {
        let params = signed(ACCESS_KEY_SECRET, call_params(ACCESS_KEY_ID, extra));
        self.send(&params).expect("an answer")
    }

    /// [`FakeEcs::call`] for another action (`DescribeInvocations`, `StopInvocation`).
    pub fn call_as(&self, action: &str, extra: &[(&str, &str)]) -> (u16, Value) {
        let mut params = call_params(ACCESS_KEY_ID, extra);
        for (k, v) in &mut params {
            if k == "Action" {
                *v = action.to_owned();
            }
        }
        self.send(&signed(ACCESS_KEY_SECRET, params))
            .expect("an answer")
    }

    /// Sends these exact parameters as a GET; the status and the body as JSON, `None` when
    /// the connection was dropped.
    pub fn send(&self, params: &[(String, String)]) -> Option<(u16, Value)> {
        let target = format!("/?{}", to_query(params));
        let (status, body) = http::request(&self.url(), "GET", &target, &[], b"")?;
        let body = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "the fake answered non-JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        Some((status, body))
    }

    /// Waits (at most 20 s) until `ready` holds, checking it after every request; false if it
    /// never did.
    pub fn wait(&self, ready: impl Fn() -> bool) -> bool {
        self.server.wait_until(Duration::from_secs(20), ready)
    }

    /// Asserts that nothing at all reached the endpoint: no connection, no request.
    #[track_caller]
    pub fn assert_untouched(&self) {
        self.server.settle();
        let why = format!("expected no request at all, got {:#?}", self.requests());
        assert_eq!(self.total_requests(), 0, "{why}");
        let why = "expected no connection at all";
        assert_eq!(self.server.connections(), 0, "{why}");
    }
}

fn request_id(n: usize) -> String {
    format!("473469C7-AA6F-4DC5-B3DB-{n:012X}")
}

/// An RPC API error body.
pub fn error_body(request_no: usize, code: &str, message: &str) -> String {
    let recommend = format!(
        "https://api.aliyun.com/troubleshoot?q={code}&product=Ecs&requestId={}",
        request_id(request_no)
    );
    json!({
        "RequestId": request_id(request_no),
        "HostId": HOST_ID,
        "Code": code,
        "Message": message,
        "Recommend": recommend,
    })
    .to_string()
}

/// A JSON answer as the service gives it.
fn json_reply(status: u16, body: String, request_no: usize) -> Reply {
    Reply::send(status, "application/json;charset=utf-8", body)
        .with_header("x-acs-request-id", request_id(request_no))
}

/// An API error: HTTP status, `Code`, `Message`.
type Rejected = (u16, String, String);

fn rejected(status: u16, code: &str, message: impl Into<String>) -> Rejected {
    (status, code.to_owned(), message.into())
}

fn missing(name: &str) -> Rejected {
    let message = format!(
        "The input parameter \"{name}\" that is mandatory for processing this request is not \
         supplied."
    );
    rejected(400, "MissingParameter", message)
}

fn invalid(name: &str, value: &str) -> Rejected {
    let message = format!("The specified parameter \"{name}\" is not valid: {value:?}.");
    rejected(400, "InvalidParameter", message)
}

fn no_such_api() -> Rejected {
    let message = "Specified api is not found, please check your url and method.";
    rejected(404, "InvalidAction.NotFound", message)
}

/// The value of the first parameter named `name`.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Answers the request, noting the status and the error code on its record.
fn answer(world: &World, inner: &mut Inner, rec: &mut Recorded, request_no: usize) -> Reply {
    let reply = respond(world, inner, rec, request_no).unwrap_or_else(|(status, code, message)| {
        let body = error_body(request_no, &code, &message);
        rec.code = Some(code);
        json_reply(status, body, request_no)
    });
    rec.status = reply.status();
    rec.bytes = body_len(&reply);
    reply
}

/// The length of the body a reply sends.
fn body_len(reply: &Reply) -> usize {
    match reply {
        Reply::Send { body, .. } | Reply::Trickle(body, _) => body.len(),
        Reply::Delay(_, inner) => body_len(inner),
        Reply::Drop => 0,
    }
}

/// Authenticates the request, then answers it from a fault or the world.
fn respond(
    world: &World,
    inner: &mut Inner,
    rec: &mut Recorded,
    request_no: usize,
) -> Result<Reply, Rejected> {
    if rec.path != "/" {
        return Err(no_such_api());
    }
    let params = parse_query(&rec.query).ok_or_else(|| {
        let message = "The query string is not valid percent-encoded UTF-8.";
        rejected(400, "InvalidParameter", message)
    })?;
    rec.params = params.clone();
    let get = |name: &str| param(&params, name);
    if let Some((name, _)) = params
        .iter()
        .find(|(k, _)| params.iter().filter(|(k2, _)| k2 == k).count() > 1)
    {
        let message = format!("The parameter \"{name}\" is given more than once.");
        return Err(rejected(400, "InvalidParameter", message));
    }
    // Format is optional for the service, which then answers XML: a client that parses JSON
    // must ask.
    let common = "Action Version Format AccessKeyId Signature SignatureMethod SignatureVersion \
                  SignatureNonce Timestamp";
    for name in common.split_whitespace() {
        if get(name).is_none_or(str::is_empty) {
            return Err(missing(name));
        }
    }
    let action = get("Action").unwrap();
    if ![ACTION, DESCRIBE_ACTION, STOP_ACTION, RUN_ACTION].contains(&action) {
        return Err(no_such_api());
    }
    for (name, want) in [
        ("Version", API_VERSION),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
    ] {
        let got = get(name).unwrap();
        if got != want {
            return Err(invalid(name, got));
        }
    }
    let format = get("Format").unwrap();
    if !format.eq_ignore_ascii_case("JSON") {
        // The fake speaks JSON only.
        return Err(invalid("Format", format));
    }
    let timestamp = get("Timestamp").unwrap();
    let ts = parse_timestamp(timestamp).ok_or_else(|| invalid("Timestamp", timestamp))?;
    if (ts - now_epoch()).abs() > TIMESTAMP_TOLERANCE_SECS {
        let message = format!("Specified time stamp or date value is expired: {timestamp}.");
        return Err(rejected(400, "InvalidTimeStamp.Expired", message));
    }
    let (secret, security_token) =
        world.keys.get(get("AccessKeyId").unwrap()).ok_or_else(|| {
            let message = "Specified access key is not found.";
            rejected(404, "InvalidAccessKeyId.NotFound", message)
        })?;
    rec.string_to_sign = string_to_sign(&rec.method, &params);
    if signature(secret, &rec.string_to_sign) != get("Signature").unwrap() {
        // As the real service words it: its own string to sign follows, SecurityToken included.
        let message = format!(
            "Specified signature is not matched with our calculation. server string to sign is:{}",
            rec.string_to_sign
        );
        return Err(rejected(400, "SignatureDoesNotMatch", message));
    }
    if get("SecurityToken") != security_token.as_deref() {
        let message = "Specified SecurityToken is not valid for this AccessKeyId.";
        return Err(rejected(400, "InvalidSecurityToken.Mismatch", message));
    }
    let nonce = get("SignatureNonce").unwrap().to_owned();
    if !inner.nonces.insert(nonce) {
        let message = "Specified signature nonce was used already.";
        return Err(rejected(400, "SignatureNonceUsed", message));
    }

    // A call: numbered, and a round when it is a first page of the action the client polls
    // with (see the module's documentation; StopInvocation never is).
    inner.calls += 1;
    let call = inner.calls;
    rec.call = Some(call);
    let nth = inner.calls_by_action.entry(action.to_owned()).or_default();
    *nth += 1;
    let nth = *nth;
    inner.describing |= action == DESCRIBE_ACTION;
    let polls = action == DESCRIBE_ACTION || (action == ACTION && !inner.describing);
    if get("NextToken").is_none_or(str::is_empty) {
        if polls {
            inner.rounds += 1;
        }
        if action != STOP_ACTION && action != RUN_ACTION {
            // A fetch between two rounds reads the latest one (the first, before any).
            rec.round = Some(inner.rounds.max(1));
        }
    }
    let fault = (world.faults.get(&call))
        .or(world.faults_by_action.get(&(action.to_owned(), nth)))
        .cloned();
    let answer = match fault {
        Some(Fault::Error(status, code, message)) => return Err((status, code, message)),
        Some(Fault::Raw(status, body)) => return Ok(json_reply(status, body, request_no)),
        Some(Fault::Drop) => return Ok(Reply::Drop),
        _ if action == STOP_ACTION => stop_invocation(world, inner, &params, request_no),
        _ if action == RUN_ACTION => run_command(world, inner, &params, request_no),
        _ if action == DESCRIBE_ACTION => {
            describe_invocations(world, inner, rec, &params, request_no)
        }
        _ => describe_invocation_results(world, inner, rec, &params, request_no),
    };
    match fault {
        Some(Fault::DropAfterAnswering) => answer.map(|_| Reply::Drop),
        _ => answer,
    }
}

/// The filters of a query, canonical: what a NextToken is tied to.
fn query_key(params: &[(String, String)]) -> String {
    const FILTERS: &str = "Action RegionId InvokeId InstanceId CommandId InvokeRecordStatus \
                           IncludeHistory ResourceGroupId InvokeStatus IncludeOutput";
    let mut filters: Vec<String> = params
        .iter()
        .filter(|(k, _)| FILTERS.split(' ').any(|f| f == k) || k.starts_with("Tag."))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    filters.sort();
    filters.join("&")
}

fn describe_invocation_results(
    world: &World,
    inner: &mut Inner,
    rec: &mut Recorded,
    params: &[(String, String)],
    request_no: usize,
) -> Result<Reply, Rejected> {
    let get = |name: &str| param(params, name);
    if get("RegionId").is_none_or(str::is_empty) {
        return Err(missing("RegionId"));
    }
    let max_results = max_results(params)?;
    let base64 = base64_encoding(params)?;
    let include_history = flag(params, "IncludeHistory")?;
    if include_history && get("InvokeId").is_none() {
        return Err(missing("InvokeId"));
    }
    if let Some(status) = get("InvokeRecordStatus")
        && !RECORD_STATUSES.split(' ').any(|s| s == status)
    {
        return Err(invalid("InvokeRecordStatus", status));
    }
    // Tag.N.Key / Tag.N.Value, N from 1 to 20.
    let mut tag_filters: Vec<(String, Option<String>)> = Vec::new();
    for (n, key, value) in rec.tags() {
        if n == 0 || n > 20 {
            let message = "The Tags parameter number is exceed.";
            return Err(rejected(400, "NumberExceed.Tags", message));
        }
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            let message = "You must specify Tag.N.Key.";
            return Err(rejected(400, "MissingParameter.TagKey", message));
        };
        if tag_filters.iter().any(|(k, _)| *k == key) {
            let message = "The Tag.N.Key contain duplicate key.";
            return Err(rejected(400, "Duplicate.TagKey", message));
        }
        tag_filters.push((key, value));
    }

    let query_key = query_key(params);
    let (round, page, offset) = match get("NextToken").filter(|t| !t.is_empty()) {
        None => (rec.round.expect("a first page is a round"), 1, 0),
        Some(token) => match inner.tokens.get(token) {
            Some(t) if t.query_key == query_key => (t.round, t.page, t.offset),
            _ => {
                let message = "The specified parameter NextToken is not valid.";
                return Err(rejected(400, "InvalidParameter.NextToken", message));
            }
        },
    };
    rec.round = Some(round);

    let record_status = get("InvokeRecordStatus");
    let mut matching: Vec<Value> = Vec::new();
    for inv in &world.stopped(&inner.stops) {
        if get("InvokeId").is_some_and(|id| id != inv.invoke_id)
            || get("CommandId").is_some_and(|id| id != inv.command_id)
            || get("ResourceGroupId").is_some_and(|id| id != inv.resource_group_id)
        {
            continue;
        }
        let tags_match = tag_filters.iter().all(|(k, v)| {
            inv.tags
                .iter()
                .any(|(tk, tv)| tk == k && v.as_deref().is_none_or(|v| v == tv))
        });
        let status = inv.record_status_at(round);
        let status_match = match record_status {
            None => true,
            Some("Finished") => matches!(status, "Finished" | "Failed" | "PartialFailed"),
            Some("Success") => status == "Finished",
            Some(other) => other == status,
        };
        if !tags_match || !status_match {
            continue;
        }
        for instance in &inv.instances {
            if instance.visible_at(round)
                && get("InstanceId").is_none_or(|id| id == instance.instance_id)
            {
                matching.push(inv.result_at(instance, round, base64));
            }
        }
    }
    let total = matching.len();
    let start = offset.min(total);
    let end = (offset + max_results).min(total);
    let results = matching[start..end].to_vec();
    let mut next_token_out = String::new();
    if end < total {
        let (n, calls) = (inner.tokens.len() + 1, inner.calls);
        next_token_out = format!("AAAAAdDWBF2{n:06X}{calls:04X}");
        let token = Token {
            round,
            page: page + 1,
            offset: end,
            query_key,
        };
        inner.tokens.insert(next_token_out.clone(), token);
    }
    inner.served.push(ServedPage {
        round,
        page,
        next_token_out: next_token_out.clone(),
        results: results.clone(),
    });
    let body = json!({
        "RequestId": request_id(request_no),
        "Invocation": {
            "PageSize": max_results,
            "PageNumber": 1,
            "TotalCount": total,
            "NextToken": next_token_out,
            "InvocationResults": { "InvocationResult": results },
        }
    });
    Ok(json_reply(200, body.to_string(), request_no))
}

/// `MaxResults` as the API takes it: 1 to 50, 10 when absent.
fn max_results(params: &[(String, String)]) -> Result<usize, Rejected> {
    match param(params, "MaxResults").map(str::parse::<usize>) {
        None => Ok(DEFAULT_MAX_RESULTS),
        Some(Ok(n)) if (1..=MAX_RESULTS).contains(&n) => Ok(n),
        Some(_) => {
            let message = "The specified parameter MaxResults is not valid.";
            Err(rejected(400, "InvalidParameter.MaxResults", message))
        }
    }
}

/// `ContentEncoding`: whether outputs go Base64 (the default) or as plain text.
fn base64_encoding(params: &[(String, String)]) -> Result<bool, Rejected> {
    match param(params, "ContentEncoding") {
        None => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("Base64") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("PlainText") => Ok(false),
        Some(v) => Err(invalid("ContentEncoding", v)),
    }
}

/// A boolean parameter: absent is false; anything but "true" or "false" is refused.
fn flag(params: &[(String, String)], name: &str) -> Result<bool, Rejected> {
    match param(params, name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(invalid(name, v)),
    }
}

/// `DescribeInvocations`: RegionId required; the invocations that match, a page at a time,
/// each with its instances' states (see the module's documentation).
fn describe_invocations(
    world: &World,
    inner: &mut Inner,
    rec: &mut Recorded,
    params: &[(String, String)],
    request_no: usize,
) -> Result<Reply, Rejected> {
    let get = |name: &str| param(params, name);
    if get("RegionId").is_none_or(str::is_empty) {
        return Err(missing("RegionId"));
    }
    let max_results = max_results(params)?;
    let base64 = base64_encoding(params)?;
    let include_output = flag(params, "IncludeOutput")?;
    // "true: returns the output. You must specify at least the InvokeId or InstanceId".
    if include_output && get("InvokeId").is_none() && get("InstanceId").is_none() {
        return Err(missing("InvokeId"));
    }
    const INVOKE_STATUSES: &str =
        "Running Finished Success Failed PartialFailed Stopped Stopping Pending Scheduled";
    if let Some(status) = get("InvokeStatus")
        && !INVOKE_STATUSES.split(' ').any(|s| s == status)
    {
        return Err(invalid("InvokeStatus", status));
    }
    let query_key = query_key(params);
    let (round, page, offset) = match get("NextToken").filter(|t| !t.is_empty()) {
        None => (rec.round.expect("a first page is a round"), 1, 0),
        Some(token) => match inner.tokens.get(token) {
            Some(t) if t.query_key == query_key => (t.round, t.page, t.offset),
            _ => {
                let message = "The specified parameter NextToken is not valid.";
                return Err(rejected(400, "InvalidParameter.NextToken", message));
            }
        },
    };
    rec.round = Some(round);
    let output = include_output.then_some(base64);
    let mut matching: Vec<Value> = Vec::new();
    for inv in &world.stopped(&inner.stops) {
        if get("InvokeId").is_some_and(|id| id != inv.invoke_id)
            || get("CommandId").is_some_and(|id| id != inv.command_id)
        {
            continue;
        }
        let Some(record) = inv.described_at(round, get("InstanceId"), output) else {
            continue;
        };
        if get("InvokeStatus")
            .is_some_and(|s| s != record["InvocationStatus"] && s != record["InvokeStatus"])
        {
            continue;
        }
        matching.push(record);
    }
    let total = matching.len();
    let (start, end) = (offset.min(total), (offset + max_results).min(total));
    let records = matching[start..end].to_vec();
    let mut next_token_out = String::new();
    if end < total {
        let (n, calls) = (inner.tokens.len() + 1, inner.calls);
        next_token_out = format!("AAAAAdDWBF2{n:06X}{calls:04X}");
        let token = Token {
            round,
            page: page + 1,
            offset: end,
            query_key,
        };
        inner.tokens.insert(next_token_out.clone(), token);
    }
    inner
        .described
        .extend(records.iter().map(|r| (round, r.clone())));
    // The paging fields beside Invocations, as the API's SDK models place them.
    let body = json!({
        "RequestId": request_id(request_no),
        "TotalCount": total,
        "PageSize": max_results,
        "PageNumber": page,
        "NextToken": next_token_out,
        "Invocations": { "Invocation": records },
    });
    Ok(json_reply(200, body.to_string(), request_no))
}

/// `RunCommand`: checked as the service checks it; a ClientToken seen before is answered as
/// then, without running again.
fn run_command(
    world: &World,
    inner: &mut Inner,
    params: &[(String, String)],
    request_no: usize,
) -> Result<Reply, Rejected> {
    for name in ["RegionId", "Type", "CommandContent"] {
        if param(params, name).is_none_or(str::is_empty) {
            return Err(missing(name));
        }
    }
    let kind = param(params, "Type").unwrap();
    if !["RunShellScript", "RunPowerShellScript", "RunBatScript"].contains(&kind) {
        let message = "The specified command type does not exist.";
        return Err(rejected(403, "InvalidCmdType.NotFound", message));
    }
    let content = param(params, "CommandContent").unwrap();
    let content = match param(params, "ContentEncoding") {
        Some(e) if e.eq_ignore_ascii_case("Base64") => {
            if content.len() > RUN_MAX_CONTENT {
                return Err(invalid("CommandContent", "longer than 18 KB"));
            }
            BASE64
                .decode(content)
                .map_err(|_| invalid("CommandContent", content))?
        }
        _ => content.as_bytes().to_vec(),
    };
    let mut instances: Vec<usize> = Vec::new();
    for (k, v) in params {
        let Some(n) = k.strip_prefix("InstanceId.") else {
            continue;
        };
        match n.parse::<usize>() {
            Ok(n) if n >= 1 && !v.is_empty() => instances.push(n),
            _ => return Err(invalid(k, v)),
        }
    }
    instances.sort();
    if instances.is_empty() {
        return Err(missing("InstanceId.1"));
    }
    if instances.len() > RUN_MAX_INSTANCES || instances.last() > Some(&RUN_MAX_INSTANCES) {
        let message = "The number of instance IDs exceeds the upper limit.";
        return Err(rejected(403, "InstanceIds.ExceedLimit", message));
    }
    if instances.iter().enumerate().any(|(i, n)| *n != i + 1) {
        return Err(missing(&format!("InstanceId.{}", instances.len())));
    }
    let token = param(params, "ClientToken").map(str::to_owned);
    if let Some(t) = &token
        && (t.len() > MAX_CLIENT_TOKEN || !t.is_ascii())
    {
        return Err(invalid("ClientToken", t));
    }
    // What identifies the request: every parameter but the common ones.
    const COMMON: &str = "Action Version Format AccessKeyId Signature SignatureMethod \
                          SignatureVersion SignatureNonce Timestamp SecurityToken RegionId";
    let mut own: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !COMMON.split_whitespace().any(|c| c == k))
        .cloned()
        .collect();
    own.sort();
    let seen = token.as_ref().and_then(|t| {
        inner
            .runs
            .iter()
            .find(|r| r.client_token.as_ref() == Some(t))
    });
    match seen {
        Some(run) if run.params != own => {
            let message = "The request uses the same client token as a previous, but \
                           non-identical request.";
            return Err(rejected(400, "IdempotentParameterMismatch", message));
        }
        Some(_) => {}
        None => inner.runs.push(Run {
            client_token: token,
            params: own,
            content,
        }),
    }
    let first = world.invocations.first();
    let body = json!({
        "RequestId": request_id(request_no),
        "CommandId": first.map_or(COMMAND_ID, |i| i.command_id.as_str()),
        "InvokeId": first.map_or(INVOKE_ID, |i| i.invoke_id.as_str()),
    });
    Ok(json_reply(200, body.to_string(), request_no))
}

/// `StopInvocation`: RegionId and InvokeId required, InstanceId.N optional.
fn stop_invocation(
    world: &World,
    inner: &mut Inner,
    params: &[(String, String)],
    request_no: usize,
) -> Result<Reply, Rejected> {
    for name in ["RegionId", "InvokeId"] {
        if param(params, name).is_none_or(str::is_empty) {
            return Err(missing(name));
        }
    }
    let invoke_id = param(params, "InvokeId").unwrap().to_owned();
    if !world.invocations.iter().any(|i| i.invoke_id == invoke_id) {
        let message = "The specified invoke ID does not exist.";
        return Err(rejected(404, "InvalidInvokeId.NotFound", message));
    }
    let mut numbered: Vec<(usize, String)> = Vec::new();
    for (k, v) in params {
        let Some(n) = k.strip_prefix("InstanceId.") else {
            continue;
        };
        match n.parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => numbered.push((n, v.clone())),
            _ => return Err(invalid(k, v)),
        }
    }
    numbered.sort();
    inner.stops.push(Stop {
        round: inner.rounds,
        invoke_id,
        instance_ids: numbered.into_iter().map(|(_, v)| v).collect(),
    });
    let body = json!({ "RequestId": request_id(request_no) }).to_string();
    let reply = json_reply(200, body, request_no);
    Ok(match world.stop_delay {
        delay if delay.is_zero() => reply,
        delay => Reply::Delay(delay, Box::new(reply)),
    })
}
