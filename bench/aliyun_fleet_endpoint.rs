//! A fast scripted Alibaba Cloud ECS endpoint for `bench/run-aliyun-fleet`: ONE invocation
//! whose N instances finish on a schedule, answering `ssmres --provider aliyun wait
//! --invoke-id ID` (no --instance-id) over the RPC API (GET, query parameters, JSON), and
//! counting every call by action and by round, every output sent and every byte.
//!
//! Usage: aliyun_fleet_endpoint PORT N T1 T2 [FAILED_PERCENT] [SEED] [OUTPUT_BYTES]
//!
//! - PORT: the port on 127.0.0.1 to listen on; 0 picks a free one. The port is always printed
//!   alone on the first line of stdout.
//! - N instances finish spread uniformly (evenly spaced, in a shuffled order) between T1 and T2
//!   seconds after the first request; FAILED_PERCENT of them (default 3) end Failed with exit
//!   code 1, the others Success. Each prints OUTPUT_BYTES bytes (default 1024), sent Base64 as
//!   the client asks.
//! - DescribeInvocations (the states: IncludeOutput=false) answers the invocation with all N
//!   instances in its one record, as the API reference describes it; DescribeInvocationResults
//!   answers one instance's result (InstanceId), or every result, MaxResults (at most 50) a
//!   page with a NextToken, as a wait read them before rounds. Signatures are not checked
//!   (the tests' fake does that): this endpoint measures.
//!
//! A round is one call that reads states (DescribeInvocations, or a first page of
//! DescribeInvocationResults for every instance, which is how a wait polled before) and every
//! call until the next one. Stats (one JSON object; see `report`) are printed on stdout on
//! SIGTERM or SIGINT, after which the endpoint exits. All times in them are seconds after the
//! first request, except the `*_unix` ones.
//!
//! The HTTP server is the tests' own core (`tests/support/http.rs`), as in
//! `bench/fleet_endpoint.rs`. Every record is pre-rendered, so that an answer costs string
//! copies: the endpoint must stay far cheaper than the client it measures, on the same cores.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};

/// The server core the tests' fakes use.
#[path = "../tests/support/http.rs"]
#[allow(dead_code)]
mod http;

const DESCRIBE_INVOCATIONS: &str = "DescribeInvocations";
const DESCRIBE_RESULTS: &str = "DescribeInvocationResults";
const INVOKE_ID: &str = "t-hz0jdfwd9fbench";
const COMMAND_ID: &str = "c-hz0jdfwcsrbench";
const MAX_PAGE: usize = 50;
/// Replaced in each result by the invocation's state at the time of the answer.
const RECORD_STATUS: &str = "__INVOKE_RECORD_STATUS__";

struct Config {
    n: usize,
    t1: f64,
    t2: f64,
    failed_percent: f64,
    seed: u64,
    output_bytes: usize,
}

/// One instance and its pre-rendered records.
struct Instance {
    id: String,
    finish: f64,
    failed: bool,
    state_running: String,
    state_done: String,
    result_running: String,
    result_done: String,
}

struct Fleet {
    instances: Vec<Instance>,
    by_id: HashMap<String, usize>,
    sorted_finish: Vec<f64>,
    last_finish: f64,
    failed: usize,
}

impl Fleet {
    fn new(cfg: &Config) -> Fleet {
        let n = cfg.n;
        // Evenly spaced finish slots dealt out in a shuffled order (deterministic xorshift), so
        // the listing order is not the finishing order.
        let mut rng = cfg.seed | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut slots: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            slots.swap(i, j);
        }
        let mut instances = Vec::with_capacity(n);
        for (i, slot) in slots.into_iter().enumerate() {
            let finish = if n == 1 {
                cfg.t2
            } else {
                cfg.t1 + (cfg.t2 - cfg.t1) * slot as f64 / (n - 1) as f64
            };
            let failed = (next() % 10_000) as f64 / 100.0 < cfg.failed_percent;
            let id = format!("i-bp1{i:017x}");
            let output = output_of(&id, cfg.output_bytes);
            let done = if failed { "Failed" } else { "Success" };
            instances.push(Instance {
                state_running: state(&id, "Running", false),
                state_done: state(&id, done, true),
                result_running: result(&id, "Running", ""),
                result_done: result(&id, done, &output),
                id,
                finish,
                failed,
            });
        }
        let mut sorted_finish: Vec<f64> = instances.iter().map(|i| i.finish).collect();
        sorted_finish.sort_by(f64::total_cmp);
        let by_id = (instances.iter().enumerate())
            .map(|(k, i)| (i.id.clone(), k))
            .collect();
        Fleet {
            last_finish: sorted_finish.last().copied().unwrap_or(0.0),
            failed: instances.iter().filter(|i| i.failed).count(),
            instances,
            by_id,
            sorted_finish,
        }
    }

    fn completed_at(&self, t: f64) -> usize {
        self.sorted_finish.partition_point(|&f| f <= t)
    }

    /// The overall state: DescribeInvocations' InvocationStatus and the results'
    /// InvokeRecordStatus.
    fn overall_at(&self, t: f64) -> (&'static str, &'static str) {
        match (self.completed_at(t) < self.instances.len(), self.failed) {
            (true, _) => ("Running", "Running"),
            (false, 0) => ("Success", "Finished"),
            (false, f) if f == self.instances.len() => ("Failed", "Failed"),
            (false, _) => ("PartialFailed", "PartialFailed"),
        }
    }
}

/// OUTPUT_BYTES of text that names its instance, Base64.
fn output_of(id: &str, bytes: usize) -> String {
    let line = format!("{id}: step done, all checks passed\n");
    let mut text = line.repeat(bytes / line.len() + 1);
    text.truncate(bytes);
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn state(id: &str, status: &str, over: bool) -> String {
    json!({
        "CreationTime": "2026-11-26T01:00:00Z",
        "UpdateTime": if over { "2026-11-26T01:00:30Z" } else { "2026-11-26T01:00:01Z" },
        "FinishTime": if over { "2026-11-26T01:00:30Z" } else { "" },
        "InvocationStatus": status,
        "Repeats": 1,
        "InstanceId": id,
        "Dropped": 0,
        "ErrorInfo": if status == "Failed" { "The command execution exit code is not zero." } else { "" },
        "StartTime": "2026-11-26T01:00:01Z",
        "StopTime": "",
        "ExitCode": if status == "Failed" { 1 } else { 0 },
        "InstanceInvokeStatus": match status { "Success" => "Finished", s => s },
        "ErrorCode": if status == "Failed" { "ExitCodeNonzero" } else { "" },
        "Timed": false,
        "OssOutputStatus": "",
        "OssOutputUri": "",
        "OssOutputErrorCode": "",
        "OssOutputErrorInfo": "",
    })
    .to_string()
}

fn result(id: &str, status: &str, output: &str) -> String {
    let over = status != "Running";
    json!({
        "Dropped": 0,
        "OssOutputDelivery": "",
        "InvocationStatus": status,
        "InstanceId": id,
        "ExitCode": if status == "Failed" { 1 } else { 0 },
        "ErrorInfo": if status == "Failed" { "The command execution exit code is not zero." } else { "" },
        "StartTime": "2026-11-26T01:00:01Z",
        "Repeats": 1,
        "InvokeRecordStatus": RECORD_STATUS,
        "FinishedTime": if over { "2026-11-26T01:00:30Z" } else { "" },
        "OssOutputUri": "",
        "OssOutputStatus": "",
        "Username": "root",
        "ContainerId": "",
        "ContainerName": "",
        "Output": output,
        "Launcher": "",
        "CommandId": COMMAND_ID,
        "ErrorCode": if status == "Failed" { "ExitCodeNonzero" } else { "" },
        "InvokeId": INVOKE_ID,
        "TerminationMode": "Process",
        "Tags": { "Tag": [] },
        "StopTime": "",
    })
    .to_string()
}

/// The calls of one round.
#[derive(Clone, Default)]
struct Round {
    at: f64,
    completed: usize,
    /// Its states answer differs from the previous round's (the first counts as changed).
    changed: bool,
    /// Calls that read states: DescribeInvocations, or pages of every result.
    state_calls: usize,
    /// DescribeInvocationResults calls for one instance.
    fetches: usize,
    bytes: usize,
}

#[derive(Default)]
struct Stats {
    /// Round 0 holds what came before the first round.
    rounds: Vec<Round>,
    calls: HashMap<&'static str, usize>,
    bytes: HashMap<&'static str, usize>,
    errors_answered: usize,
    /// Outputs sent (non-empty Output), in all and per instance.
    outputs: usize,
    output_bytes: usize,
    outputs_of: Vec<u32>,
    /// Results fetched for one instance that had not finished yet.
    fetched_early: usize,
    last_fetch: f64,
    last_request: f64,
    /// The first states answer that showed every instance finished.
    done_seen_at: Option<f64>,
}

struct State {
    cfg: Config,
    fleet: Fleet,
    t0: OnceLock<(Instant, f64)>,
    stats: Mutex<Stats>,
    server: OnceLock<http::Server>,
    reported: AtomicBool,
}

impl State {
    fn now(&self) -> f64 {
        let (t0, _) = self.t0.get_or_init(|| (Instant::now(), unix_now()));
        t0.elapsed().as_secs_f64()
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        eprintln!(
            "usage: aliyun_fleet_endpoint PORT N T1 T2 [FAILED_PERCENT] [SEED] [OUTPUT_BYTES]"
        );
        std::process::exit(2);
    };
    if !(4..=7).contains(&args.len()) {
        usage();
    }
    let parse = |i: usize| args[i].parse::<f64>().unwrap_or_else(|_| usage());
    let port: u16 = args[0].parse().unwrap_or_else(|_| usage());
    let cfg = Config {
        n: args[1].parse().unwrap_or_else(|_| usage()),
        t1: parse(2),
        t2: parse(3),
        failed_percent: if args.len() > 4 { parse(4) } else { 3.0 },
        seed: args.get(5).map_or(0x9e37_79b9_7f4a_7c15, |a| {
            a.parse().unwrap_or_else(|_| usage())
        }),
        output_bytes: args
            .get(6)
            .map_or(1024, |a| a.parse().unwrap_or_else(|_| usage())),
    };
    if cfg.n == 0 || !(0.0..=cfg.t2).contains(&cfg.t1) {
        usage();
    }
    let fleet = Fleet::new(&cfg);
    let n = cfg.n;
    let state = Arc::new(State {
        cfg,
        fleet,
        t0: OnceLock::new(),
        stats: Mutex::new(Stats {
            rounds: vec![Round::default()],
            outputs_of: vec![0; n],
            ..Stats::default()
        }),
        server: OnceLock::new(),
        reported: AtomicBool::new(false),
    });
    let server = http::Server::bind(("127.0.0.1", port), Endpoint(Arc::clone(&state)))
        .unwrap_or_else(|e| {
            eprintln!("aliyun_fleet_endpoint: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        });
    let port = server.port();
    let _ = state.server.set(server);
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{port}");
        let _ = out.flush();
    }
    let on_signal = Arc::clone(&state);
    thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("signal runtime");
        rt.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        });
        if !on_signal.reported.swap(true, Ordering::SeqCst) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", report(&on_signal));
            let _ = out.flush();
        }
        std::process::exit(0);
    });
    loop {
        thread::park();
    }
}

struct Endpoint(Arc<State>);

impl http::Handler for Endpoint {
    fn answer(&self, req: &http::Request) -> http::Reply {
        let (status, body) = answer(req, &self.0);
        http::Reply::send(status, "application/json;charset=utf-8", body)
    }
}

/// `k=v&…` decoded (`%XX`, `+`).
fn query(q: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' => {
                    let hex = s
                        .get(i + 1..i + 3)
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    out.push(hex.unwrap_or(b'%'));
                    i += if hex.is_some() { 3 } else { 1 };
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn error(code: &str, message: &str) -> (u16, String) {
    let body = json!({"RequestId": "BENCH", "HostId": "ecs.aliyuncs.com", "Code": code, "Message": message});
    (400, body.to_string())
}

fn answer(req: &http::Request, state: &State) -> (u16, String) {
    if req.path() == "/stats" {
        return (200, report(state).to_string());
    }
    let now = state.now();
    let params = query(req.query());
    let get = |k: &str| params.get(k).map(String::as_str);
    let fleet = &state.fleet;
    let (status, body, action, outputs) = match get("Action") {
        Some(DESCRIBE_INVOCATIONS) => {
            let completed = fleet.completed_at(now);
            state_round(state, now, completed);
            let (overall, legacy) = fleet.overall_at(now);
            let mut out = String::with_capacity(fleet.instances.len() * 460 + 512);
            out.push_str(&format!(
                "{{\"RequestId\":\"BENCH\",\"TotalCount\":1,\"PageSize\":50,\"PageNumber\":1,\
                 \"NextToken\":\"\",\"Invocations\":{{\"Invocation\":[{{\"InvokeId\":\"{INVOKE_ID}\",\
                 \"CommandId\":\"{COMMAND_ID}\",\"InvocationStatus\":\"{overall}\",\
                 \"InvokeStatus\":\"{legacy}\",\"RepeatMode\":\"Once\",\"Frequency\":\"\",\
                 \"Timed\":false,\"InvokeInstances\":{{\"InvokeInstance\":["
            ));
            for (k, i) in fleet.instances.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(if now >= i.finish {
                    &i.state_done
                } else {
                    &i.state_running
                });
            }
            out.push_str("]}}]}}");
            (200, out, DESCRIBE_INVOCATIONS, Vec::new())
        }
        Some(DESCRIBE_RESULTS) => {
            let (_, record_status) = fleet.overall_at(now);
            let records: Vec<usize>;
            let mut next = String::new();
            if let Some(id) = get("InstanceId") {
                records = fleet.by_id.get(id).copied().into_iter().collect();
                let mut stats = state.stats.lock().unwrap();
                stats.last_fetch = now;
                stats.rounds.last_mut().unwrap().fetches += 1;
                if records.iter().any(|&k| now < fleet.instances[k].finish) {
                    stats.fetched_early += 1;
                }
            } else {
                let offset = match get("NextToken").filter(|t| !t.is_empty()) {
                    None => {
                        state_round(state, now, fleet.completed_at(now));
                        0
                    }
                    Some(t) => {
                        let mut stats = state.stats.lock().unwrap();
                        stats.rounds.last_mut().unwrap().state_calls += 1;
                        match t.strip_prefix("page-at-").and_then(|o| o.parse().ok()) {
                            Some(o) => o,
                            None => {
                                drop(stats);
                                let (s, b) = error("InvalidParameter.NextToken", "bad token");
                                return finish(state, now, s, b, DESCRIBE_RESULTS, &[]);
                            }
                        }
                    }
                };
                let max = get("MaxResults")
                    .and_then(|m| m.parse().ok())
                    .map_or(10, |m: usize| m.clamp(1, MAX_PAGE));
                let end = (offset + max).min(fleet.instances.len());
                records = (offset.min(end)..end).collect();
                if end < fleet.instances.len() {
                    next = format!("page-at-{end}");
                }
            }
            let mut out = String::with_capacity(records.len() * 2200 + 256);
            out.push_str(&format!(
                "{{\"RequestId\":\"BENCH\",\"Invocation\":{{\"PageSize\":{MAX_PAGE},\"PageNumber\":1,\
                 \"TotalCount\":{},\"NextToken\":\"{next}\",\"InvocationResults\":{{\"InvocationResult\":[",
                if get("InstanceId").is_some() { records.len() } else { fleet.instances.len() }
            ));
            let mut outputs = Vec::new();
            for (k, &i) in records.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                let inst = &fleet.instances[i];
                let done = now >= inst.finish;
                let record = if done {
                    &inst.result_done
                } else {
                    &inst.result_running
                };
                out.push_str(&record.replace(RECORD_STATUS, record_status));
                if done {
                    outputs.push(i);
                }
            }
            out.push_str("]}}}");
            (200, out, DESCRIBE_RESULTS, outputs)
        }
        _ => {
            let (s, b) = error(
                "InvalidAction.NotFound",
                "this endpoint answers DescribeInvocations and DescribeInvocationResults",
            );
            (s, b, "other", Vec::new())
        }
    };
    finish(state, now, status, body, action, &outputs)
}

/// A call that reads states starts a round.
fn state_round(state: &State, now: f64, completed: usize) {
    let mut stats = state.stats.lock().unwrap();
    let changed = stats.rounds.len() == 1 || stats.rounds.last().unwrap().completed != completed;
    if completed == state.fleet.instances.len() && stats.done_seen_at.is_none() {
        stats.done_seen_at = Some(now);
    }
    stats.rounds.push(Round {
        at: now,
        completed,
        changed,
        state_calls: 1,
        ..Round::default()
    });
}

/// Counts the answer.
fn finish(
    state: &State,
    now: f64,
    status: u16,
    body: String,
    action: &'static str,
    outputs: &[usize],
) -> (u16, String) {
    let mut stats = state.stats.lock().unwrap();
    stats.last_request = now;
    *stats.calls.entry(action).or_default() += 1;
    *stats.bytes.entry(action).or_default() += body.len();
    stats.rounds.last_mut().unwrap().bytes += body.len();
    if status != 200 {
        stats.errors_answered += 1;
    }
    for &i in outputs {
        stats.outputs += 1;
        stats.outputs_of[i] += 1;
    }
    let per_output = state
        .fleet
        .instances
        .first()
        .map_or(0, |i| i.result_done.len() - i.result_running.len());
    stats.output_bytes += outputs.len() * per_output;
    (status, body)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn report(state: &State) -> Value {
    let cfg = &state.cfg;
    let fleet = &state.fleet;
    let stats = state.stats.lock().unwrap();
    let t0_unix = state.t0.get().map(|(_, u)| *u);
    let rounds = &stats.rounds[1..];
    let unchanged: Vec<usize> = rounds
        .iter()
        .filter(|r| !r.changed)
        .map(|r| r.state_calls)
        .collect();
    let call = |a: &str| stats.calls.get(a).copied().unwrap_or(0);
    let bytes = |a: &str| stats.bytes.get(a).copied().unwrap_or(0);
    json!({
        "n": fleet.instances.len(),
        "t1": cfg.t1,
        "t2": cfg.t2,
        "failed_percent": cfg.failed_percent,
        "failed": fleet.failed,
        "output_bytes": cfg.output_bytes,
        "t0_unix": t0_unix,
        "last_finish": fleet.last_finish,
        "last_finish_unix": t0_unix.map(|u| u + fleet.last_finish),
        "done_seen_at": stats.done_seen_at.map(round3),
        "last_fetch": round3(stats.last_fetch),
        "last_request": round3(stats.last_request),
        "last_request_unix": t0_unix.map(|u| u + stats.last_request),
        "connections": state.server.get().map_or(0, http::Server::connections),
        "calls": {
            "DescribeInvocations": call(DESCRIBE_INVOCATIONS),
            "DescribeInvocationResults": call(DESCRIBE_RESULTS),
            "fetches": rounds.iter().chain(&stats.rounds[..1]).map(|r| r.fetches).sum::<usize>(),
            "other": call("other"),
        },
        "bytes": {
            "DescribeInvocations": bytes(DESCRIBE_INVOCATIONS),
            "DescribeInvocationResults": bytes(DESCRIBE_RESULTS),
            "outputs": stats.output_bytes,
        },
        "errors_answered": stats.errors_answered,
        "outputs": {
            "sent": stats.outputs,
            "distinct": stats.outputs_of.iter().filter(|&&k| k > 0).count(),
            "max_per_instance": stats.outputs_of.iter().max().copied().unwrap_or(0),
        },
        "fetched_early": stats.fetched_early,
        "rounds": rounds.len(),
        "state_calls_per_round": {
            "max": rounds.iter().map(|r| r.state_calls).max().unwrap_or(0),
            "unchanged_count": unchanged.len(),
            "unchanged_mean": if unchanged.is_empty() { 0.0 } else {
                round3(unchanged.iter().sum::<usize>() as f64 / unchanged.len() as f64)
            },
            "unchanged_max": unchanged.iter().max().copied().unwrap_or(0),
        },
        "bytes_per_round": {
            "max": rounds.iter().map(|r| r.bytes).max().unwrap_or(0),
            "unchanged_max": rounds.iter().filter(|r| !r.changed).map(|r| r.bytes).max().unwrap_or(0),
        },
        "per_round": rounds.iter().map(|r| json!({
            "at": round3(r.at),
            "completed": r.completed,
            "changed": r.changed,
            "state_calls": r.state_calls,
            "fetches": r.fetches,
            "bytes": r.bytes,
        })).collect::<Vec<_>>(),
    })
}
