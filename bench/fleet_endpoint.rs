//! A fast scripted SSM endpoint for `bench/run-fleet`: ONE command whose N invocations finish
//! on a schedule, answering `ssmres wait --command-id ID` (no --instance-id) over AWS JSON 1.1,
//! and counting every request by operation and by round (a round is one ListCommands call and
//! everything that arrives until the next one).
//!
//! Usage: fleet_endpoint PORT N T1 T2 [FAILED_PERCENT] [SEED]
//!
//! - PORT: the port on 127.0.0.1 to listen on; 0 picks a free one. The port is always printed
//!   alone on the first line of stdout.
//! - N invocations finish spread uniformly (evenly spaced, in a shuffled order) between T1 and
//!   T2 seconds (decimals allowed) after the first request; FAILED_PERCENT of them (default 3)
//!   end Failed, the others Success. The command is InProgress until the last one ends, then
//!   Failed if any failed, else Success. TargetCount is N from the start.
//!
//! Stats (one JSON object; see `report`) are printed on stdout on SIGTERM or SIGINT, on EOF of
//! stdin (only when stdin is not /dev/null), after which the endpoint exits; `GET /stats`
//! answers them over HTTP at any time. All times in them are seconds after the first request,
//! except the `*_unix` ones (seconds since the Unix epoch, to compare with other processes).
//!
//! The HTTP server is the tests' own core (`tests/support/http.rs`: one thread per connection,
//! keep-alive), plus serde_json for parsing requests and tokio (already a dependency) for the
//! signal. Every response body is pre-rendered, so a
//! page of 50 invocations costs a few string copies: the endpoint must stay far cheaper than
//! the client it measures, on the same cores.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The server core the tests' fakes use.
#[path = "../tests/support/http.rs"]
#[allow(dead_code)]
mod http;

const LIST_COMMANDS: &str = "AmazonSSM.ListCommands";
const LIST_INVOCATIONS: &str = "AmazonSSM.ListCommandInvocations";
const GET_INVOCATION: &str = "AmazonSSM.GetCommandInvocation";
/// SSM's default and largest `MaxResults` for ListCommandInvocations.
const PAGE_SIZE: usize = 50;

struct Config {
    n: usize,
    t1: f64,
    t2: f64,
    failed_percent: f64,
    seed: u64,
}

/// One invocation and its pre-rendered answers.
struct Invocation {
    id: String,
    /// Seconds after the first request.
    finish: f64,
    failed: bool,
    listed_running: String,
    listed_done: String,
    get_running: String,
    get_done: String,
}

/// The command's schedule, fixed at start-up; its state is a function of the time.
struct Fleet {
    invocations: Vec<Invocation>,
    /// Finish times, sorted, and how many of the first k finishers failed.
    sorted_finish: Vec<f64>,
    failed_prefix: Vec<usize>,
    by_id: BTreeMap<String, usize>,
    last_finish: f64,
    failed: usize,
    requested_at: f64,
}

#[derive(Clone, PartialEq)]
struct CommandState {
    status: &'static str,
    completed: usize,
    errors: usize,
}

impl Fleet {
    fn new(cfg: &Config, requested_at: f64) -> Fleet {
        let n = cfg.n;
        // Evenly spaced finish slots, dealt out in a shuffled order (so the listing order is
        // not the finishing order), with a deterministic xorshift.
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
        let mut invocations = Vec::with_capacity(n);
        for (i, slot) in slots.into_iter().enumerate() {
            let finish = if n == 1 {
                cfg.t2
            } else {
                cfg.t1 + (cfg.t2 - cfg.t1) * slot as f64 / (n - 1) as f64
            };
            let failed = (next() % 10_000) as f64 / 100.0 < cfg.failed_percent;
            let id = format!("i-0{i:016x}");
            invocations.push(Invocation {
                listed_running: listed(&id, requested_at, "InProgress", "In Progress"),
                listed_done: if failed {
                    listed(&id, requested_at, "Failed", "Failed")
                } else {
                    listed(&id, requested_at, "Success", "Success")
                },
                get_running: get_body(&id, "InProgress", "In Progress"),
                get_done: if failed {
                    get_body(&id, "Failed", "Failed")
                } else {
                    get_body(&id, "Success", "Success")
                },
                id,
                finish,
                failed,
            });
        }
        let mut order: Vec<&Invocation> = invocations.iter().collect();
        order.sort_by(|a, b| a.finish.total_cmp(&b.finish));
        let sorted_finish = order.iter().map(|i| i.finish).collect();
        let mut failed_prefix = vec![0];
        for inv in &order {
            failed_prefix.push(failed_prefix.last().unwrap() + usize::from(inv.failed));
        }
        let failed = *failed_prefix.last().unwrap();
        let last_finish = order.last().map_or(0.0, |i| i.finish);
        let by_id = invocations
            .iter()
            .enumerate()
            .map(|(i, inv)| (inv.id.clone(), i))
            .collect();
        Fleet {
            invocations,
            sorted_finish,
            failed_prefix,
            by_id,
            last_finish,
            failed,
            requested_at,
        }
    }

    fn command_at(&self, t: f64) -> CommandState {
        let completed = self.sorted_finish.partition_point(|&f| f <= t);
        let errors = self.failed_prefix[completed];
        let status = if completed < self.invocations.len() {
            "InProgress"
        } else if self.failed > 0 {
            "Failed"
        } else {
            "Success"
        };
        CommandState {
            status,
            completed,
            errors,
        }
    }
}

fn listed(id: &str, requested_at: f64, status: &str, details: &str) -> String {
    json!({
        "CommandId": "__CID__",
        "InstanceId": id,
        "InstanceName": "",
        "Comment": "",
        "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT",
        "RequestedDateTime": requested_at,
        "Status": status,
        "StatusDetails": details,
        "TraceOutput": "",
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "CommandPlugins": [],
        "ServiceRole": "",
        "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""},
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false}
    })
    .to_string()
}

fn get_body(id: &str, status: &str, details: &str) -> String {
    let running = status == "InProgress";
    json!({
        "CommandId": "__CID__",
        "InstanceId": id,
        "Comment": "",
        "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT",
        "PluginName": "aws:runShellScript",
        "ResponseCode": match status { "Success" => 0, "Failed" => 1, _ => -1 },
        "ExecutionStartDateTime": "2026-11-25T09:12:31.291Z",
        "ExecutionElapsedTime": if running { "" } else { "PT2.516S" },
        "ExecutionEndDateTime": if running { "" } else { "2026-11-25T09:12:33.807Z" },
        "Status": status,
        "StatusDetails": details,
        "StandardOutputContent": if running { String::new() } else { format!("hello from {id}\n") },
        "StandardOutputUrl": "",
        "StandardErrorContent": if status == "Failed" { "boom: exit status 1\n" } else { "" },
        "StandardErrorUrl": "",
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false}
    })
    .to_string()
}

/// The calls of one round.
#[derive(Clone, Default)]
struct Round {
    /// When its ListCommands arrived.
    at: f64,
    status: &'static str,
    completed: usize,
    /// The ListCommands answer differs from the previous round's (the first round counts as
    /// changed).
    changed: bool,
    list_commands: usize,
    list_invocations: usize,
    /// ListCommandInvocations calls that asked for the first page.
    walks: usize,
    gets: usize,
    last_list_call: f64,
}

#[derive(Default)]
struct Stats {
    /// Round 0 holds what arrived before the first ListCommands.
    rounds: Vec<Round>,
    other_calls: usize,
    errors_answered: usize,
    get_seen: Vec<bool>,
    gets_distinct: usize,
    /// GetCommandInvocation calls for an invocation that had not finished yet.
    gets_early: usize,
    last_get: f64,
    last_request: f64,
    /// The first ListCommands that reported every invocation finished.
    done_seen_at: Option<f64>,
}

struct State {
    cfg: Config,
    fleet: Fleet,
    /// The first request: Instant, and the same moment in Unix seconds.
    t0: OnceLock<(Instant, f64)>,
    stats: Mutex<Stats>,
    /// The server answering, for its count of connections.
    server: OnceLock<http::Server>,
    get_in_flight: AtomicUsize,
    get_max_in_flight: AtomicUsize,
    reported: AtomicBool,
}

impl State {
    /// Seconds since the first request (which starts the clock).
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
        eprintln!("usage: fleet_endpoint PORT N T1 T2 [FAILED_PERCENT] [SEED]");
        std::process::exit(2);
    };
    if !(4..=6).contains(&args.len()) {
        usage();
    }
    let port: u16 = args[0].parse().unwrap_or_else(|_| usage());
    let cfg = Config {
        n: args[1].parse().unwrap_or_else(|_| usage()),
        t1: args[2].parse().unwrap_or_else(|_| usage()),
        t2: args[3].parse().unwrap_or_else(|_| usage()),
        failed_percent: args
            .get(4)
            .map_or(3.0, |a| a.parse().unwrap_or_else(|_| usage())),
        seed: args.get(5).map_or(0x9e37_79b9_7f4a_7c15, |a| {
            a.parse().unwrap_or_else(|_| usage())
        }),
    };
    if cfg.n == 0 || !(0.0..=cfg.t2).contains(&cfg.t1) {
        usage();
    }
    // RequestedDateTime: a moment ago, to the millisecond, as SSM sends it.
    let requested_at = ((unix_now() - 1.0) * 1000.0).floor() / 1000.0;
    let fleet = Fleet::new(&cfg, requested_at);
    let n = cfg.n;
    let state = Arc::new(State {
        cfg,
        fleet,
        t0: OnceLock::new(),
        stats: Mutex::new(Stats {
            rounds: vec![Round::default()],
            get_seen: vec![false; n],
            ..Stats::default()
        }),
        server: OnceLock::new(),
        get_in_flight: AtomicUsize::new(0),
        get_max_in_flight: AtomicUsize::new(0),
        reported: AtomicBool::new(false),
    });

    let server = http::Server::bind(("127.0.0.1", port), Endpoint(Arc::clone(&state)))
        .unwrap_or_else(|e| {
            eprintln!("fleet_endpoint: cannot listen on 127.0.0.1:{port}: {e}");
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
        report_and_exit(&on_signal);
    });
    let stdin_is_null =
        std::fs::read_link("/proc/self/fd/0").is_ok_and(|p| p == std::path::Path::new("/dev/null"));
    if !stdin_is_null {
        let on_eof = Arc::clone(&state);
        thread::spawn(move || {
            let mut sink = [0u8; 4096];
            let mut stdin = std::io::stdin().lock();
            while matches!(stdin.read(&mut sink), Ok(k) if k > 0) {}
            report_and_exit(&on_eof);
        });
    }

    // The server answers on its own threads until a report ends the process.
    loop {
        thread::park();
    }
}

/// Answers the requests, and keeps count of the GetCommandInvocation ones in flight.
struct Endpoint(Arc<State>);

impl http::Handler for Endpoint {
    fn answer(&self, req: &http::Request) -> http::Reply {
        let state = &self.0;
        let (status, content_type, body) = answer(req, state);
        http::Reply::send(status, content_type, body).with_header(
            "x-amzn-RequestId",
            "00000000-0000-4000-8000-000000000000".into(),
        )
    }

    fn answered(&self, req: &http::Request) {
        if req.header("x-amz-target") == Some(GET_INVOCATION) {
            self.0.get_in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

fn report_and_exit(state: &State) -> ! {
    if !state.reported.swap(true, Ordering::SeqCst) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", report(state));
        let _ = out.flush();
    }
    std::process::exit(0);
}

const AMZ_JSON: &str = "application/x-amz-json-1.1";

fn error(code: &str, message: &str) -> (u16, &'static str, String) {
    (
        400,
        AMZ_JSON,
        json!({"__type": code, "message": message}).to_string(),
    )
}

fn answer(req: &http::Request, state: &State) -> (u16, &'static str, String) {
    if req.method == "GET" {
        return if req.path() == "/stats" {
            (200, "application/json", report(state).to_string())
        } else {
            (404, "text/plain", "not found\n".into())
        };
    }
    let now = state.now();
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let command_id = body["CommandId"].as_str().unwrap_or("").to_owned();
    let fleet = &state.fleet;
    let result = match req.header("x-amz-target") {
        Some(LIST_COMMANDS) => {
            let cmd = fleet.command_at(now);
            let mut stats = state.stats.lock().unwrap();
            stats.last_request = now;
            let changed = stats.rounds.len() == 1 || {
                let prev = stats.rounds.last().unwrap();
                (prev.status, prev.completed) != (cmd.status, cmd.completed)
            };
            if cmd.completed == fleet.invocations.len() && stats.done_seen_at.is_none() {
                stats.done_seen_at = Some(now);
            }
            stats.rounds.push(Round {
                at: now,
                status: cmd.status,
                completed: cmd.completed,
                changed,
                list_commands: 1,
                last_list_call: now,
                ..Round::default()
            });
            drop(stats);
            (200, AMZ_JSON, list_commands(state, &command_id, &cmd))
        }
        Some(LIST_INVOCATIONS) => {
            let offset = match body["NextToken"].as_str() {
                None => Some(0),
                Some(t) => t.strip_prefix("page-at-").and_then(|o| o.parse().ok()),
            };
            let max = body["MaxResults"]
                .as_u64()
                .map_or(PAGE_SIZE, |m| (m as usize).clamp(1, PAGE_SIZE));
            {
                let mut stats = state.stats.lock().unwrap();
                stats.last_request = now;
                let round = stats.rounds.last_mut().unwrap();
                round.list_invocations += 1;
                round.last_list_call = now;
                if offset == Some(0) {
                    round.walks += 1;
                }
            }
            match offset {
                Some(offset) if offset <= fleet.invocations.len() => {
                    (200, AMZ_JSON, page(state, &command_id, offset, max, now))
                }
                _ => error("InvalidNextToken", "The specified token is not valid."),
            }
        }
        Some(GET_INVOCATION) => {
            let in_flight = state.get_in_flight.fetch_add(1, Ordering::Relaxed) + 1;
            state
                .get_max_in_flight
                .fetch_max(in_flight, Ordering::Relaxed);
            let index = body["InstanceId"]
                .as_str()
                .and_then(|id| fleet.by_id.get(id).copied());
            let mut stats = state.stats.lock().unwrap();
            stats.last_request = now;
            stats.last_get = now;
            stats.rounds.last_mut().unwrap().gets += 1;
            match index {
                Some(i) => {
                    if !std::mem::replace(&mut stats.get_seen[i], true) {
                        stats.gets_distinct += 1;
                    }
                    let inv = &fleet.invocations[i];
                    let done = now >= inv.finish;
                    if !done {
                        stats.gets_early += 1;
                    }
                    drop(stats);
                    let body = if done {
                        &inv.get_done
                    } else {
                        &inv.get_running
                    };
                    (200, AMZ_JSON, body.replace("__CID__", &command_id))
                }
                None => {
                    drop(stats);
                    error("InvocationDoesNotExist", "")
                }
            }
        }
        _ => {
            let mut stats = state.stats.lock().unwrap();
            stats.last_request = now;
            stats.other_calls += 1;
            drop(stats);
            error(
                "UnknownOperationException",
                "fleet_endpoint answers ListCommands, ListCommandInvocations and GetCommandInvocation",
            )
        }
    };
    if result.0 != 200 {
        state.stats.lock().unwrap().errors_answered += 1;
    }
    result
}

fn list_commands(state: &State, command_id: &str, cmd: &CommandState) -> String {
    let fleet = &state.fleet;
    let details = match cmd.status {
        "InProgress" => "In Progress",
        s => s,
    };
    json!({"Commands": [{
        "CommandId": command_id,
        "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT",
        "Comment": "",
        "ExpiresAfter": fleet.requested_at + 7200.0,
        "Parameters": {"commands": ["echo hello from $(hostname)"]},
        "InstanceIds": [],
        "Targets": [{"Key": "tag:role", "Values": ["web"]}],
        "RequestedDateTime": fleet.requested_at,
        "Status": cmd.status,
        "StatusDetails": details,
        "OutputS3Region": "us-east-1",
        "OutputS3BucketName": "",
        "OutputS3KeyPrefix": "",
        "MaxConcurrency": "50",
        "MaxErrors": "0",
        "TargetCount": fleet.invocations.len(),
        "CompletedCount": cmd.completed,
        "ErrorCount": cmd.errors,
        "DeliveryTimedOutCount": 0,
        "ServiceRole": "",
        "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""},
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": false},
        "TimeoutSeconds": 3600,
        "TriggeredAlarms": []
    }]})
    .to_string()
}

fn page(state: &State, command_id: &str, offset: usize, max: usize, now: f64) -> String {
    let invocations = &state.fleet.invocations;
    let end = (offset + max).min(invocations.len());
    let mut out = String::with_capacity((end - offset) * 640 + 64);
    out.push_str("{\"CommandInvocations\":[");
    for (k, inv) in invocations[offset..end].iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let record = if now >= inv.finish {
            &inv.listed_done
        } else {
            &inv.listed_running
        };
        out.push_str(&record.replace("__CID__", command_id));
    }
    out.push(']');
    if end < invocations.len() {
        out.push_str(&format!(",\"NextToken\":\"page-at-{end}\""));
    }
    out.push('}');
    out
}

fn median(mut v: Vec<usize>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m] as f64
    } else {
        (v[m - 1] + v[m]) as f64 / 2.0
    }
}

fn mean(v: &[usize]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<usize>() as f64 / v.len() as f64
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Everything the harness needs, as one JSON object.
fn report(state: &State) -> Value {
    let cfg = &state.cfg;
    let fleet = &state.fleet;
    let stats = state.stats.lock().unwrap();
    let t0_unix = state.t0.get().map(|(_, u)| *u);
    let rounds = &stats.rounds[1..];
    // "List calls" of a round: its ListCommands plus its ListCommandInvocations pages.
    let list_calls: Vec<usize> = rounds
        .iter()
        .map(|r| r.list_commands + r.list_invocations)
        .collect();
    let unchanged: Vec<usize> = rounds
        .iter()
        .filter(|r| !r.changed)
        .map(|r| r.list_commands + r.list_invocations)
        .collect();
    let changed: Vec<usize> = rounds
        .iter()
        .filter(|r| r.changed)
        .map(|r| r.list_commands + r.list_invocations)
        .collect();
    let sum = |f: fn(&Round) -> usize| stats.rounds.iter().map(f).sum::<usize>();
    let pages_per_walk = fleet.invocations.len().div_ceil(PAGE_SIZE);
    json!({
        "n": fleet.invocations.len(),
        "t1": cfg.t1,
        "t2": cfg.t2,
        "failed_percent": cfg.failed_percent,
        "failed": fleet.failed,
        "page_size": PAGE_SIZE,
        "pages_per_walk": pages_per_walk,
        "bound_per_round": 1 + pages_per_walk,
        "t0_unix": t0_unix,
        "last_finish": fleet.last_finish,
        "last_finish_unix": t0_unix.map(|u| u + fleet.last_finish),
        "done_seen_at": stats.done_seen_at.map(round3),
        "last_get": round3(stats.last_get),
        "last_request": round3(stats.last_request),
        "last_request_unix": t0_unix.map(|u| u + stats.last_request),
        "connections": state.server.get().map_or(0, http::Server::connections),
        "calls": {
            "ListCommands": sum(|r| r.list_commands),
            "ListCommandInvocations": sum(|r| r.list_invocations),
            "GetCommandInvocation": sum(|r| r.gets),
            "other": stats.other_calls,
        },
        "errors_answered": stats.errors_answered,
        "calls_before_first_round": stats.rounds[0].list_invocations + stats.rounds[0].gets,
        "gets": {
            "distinct": stats.gets_distinct,
            "early": stats.gets_early,
            "max_in_flight": state.get_max_in_flight.load(Ordering::Relaxed),
            "max_per_round": rounds.iter().map(|r| r.gets).max().unwrap_or(0),
        },
        "rounds": rounds.len(),
        "list_calls_per_round": {
            "max": list_calls.iter().max().copied().unwrap_or(0),
            "median": median(list_calls.clone()),
            "mean": round3(mean(&list_calls)),
            "one_call_rounds": list_calls.iter().filter(|&&c| c == 1).count(),
        },
        "changed_rounds": {
            "count": changed.len(),
            "max": changed.iter().max().copied().unwrap_or(0),
            "median": median(changed.clone()),
        },
        "unchanged_rounds": {
            "count": unchanged.len(),
            "max": unchanged.iter().max().copied().unwrap_or(0),
            "median": median(unchanged.clone()),
            "mean": round3(mean(&unchanged)),
        },
        "walks": rounds.iter().map(|r| r.walks).sum::<usize>(),
        "per_round": rounds.iter().map(|r| json!({
            "at": round3(r.at),
            "status": r.status,
            "completed": r.completed,
            "changed": r.changed,
            "list_calls": r.list_commands + r.list_invocations,
            "walks": r.walks,
            "gets": r.gets,
            "list_done": round3(r.last_list_call),
        })).collect::<Vec<_>>(),
    })
}
