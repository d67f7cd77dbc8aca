//! `ssmres wait --command-id ID` without `--instance-id` (every invocation of the command) and
//! with several `--instance-id`s (a named set), against scripted fleet timelines.
//!
//! A round of the fake is one ListCommands call: each test scripts how the command's counts
//! and each invocation change from round to round, and asserts what a user notices (exit code,
//! stdout, stderr, streaming) and what the service pays (calls per round, one
//! GetCommandInvocation per instance).

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use support::fake_ssm::{
    CMD_ID, EXECUTION_TIMED_OUT, FAILED, FakeSsm, GET_COMMAND_INVOCATION, LIST_COMMAND_INVOCATIONS,
    LIST_PAGE_SIZE, Member, SUCCESS, Step, Timeline, UNDELIVERABLE, fleet_instance_id,
};
use support::{
    Cli, FAST_POLL, assert_exit, assert_single_stderr_line, describe, stderr_str, stdout_json,
    stdout_str,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// `wait --command-id CMD_ID` with fast polling, plus `extra`.
fn fleet_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["wait", "--command-id", CMD_ID];
    args.extend(FAST_POLL);
    args.extend(extra);
    args
}

/// Runs `ssmres wait --command-id CMD_ID <fast polling> <extra>` against `fake`.
fn run_fleet(fake: &FakeSsm, env: &[(&str, &str)], extra: &[&str]) -> (Output, Duration) {
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.cmd();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.args(fleet_args(extra)).output().unwrap();
    (out, started.elapsed())
}

/// Spawns the same command with piped stdout and stderr.
fn spawn_fleet(fake: &FakeSsm, extra: &[&str]) -> (Cli, Child) {
    let cli = Cli::new(&fake.url());
    let child = cli
        .std_cmd()
        .args(fleet_args(extra))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ssmres");
    (cli, child)
}

/// A value as the aws CLI (and `ssmres get -o json`) prints it: 4-space indent, a newline.
fn pretty(value: &impl Serialize) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut serializer).unwrap();
    out.push(b'\n');
    String::from_utf8(out).unwrap()
}

/// GetCommandInvocation's members in the order of the service model, the order in which the aws
/// CLI (and `ssmres get`) prints them whatever the order on the wire.
const GET_SHAPE_ORDER: [&str; 17] = [
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
struct AsPrinted(Value);

impl Serialize for AsPrinted {
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
                // CloudWatchOutputConfig's two keys are in model order when sorted.
                map.serialize_entry(key, v)?;
            }
        }
        map.end()
    }
}

/// The final GetCommandInvocation bodies of these instances, sorted by InstanceId.
fn final_bodies(timeline: &Timeline, instance_ids: &[String]) -> Vec<Value> {
    let mut ids = instance_ids.to_vec();
    ids.sort();
    ids.iter()
        .map(|id| {
            timeline
                .member(id)
                .unwrap_or_else(|| panic!("{id} is not in the timeline"))
                .final_get_body()
        })
        .collect()
}

/// What `-o json` must print for these instances: the JSON array of their final
/// GetCommandInvocation bodies, sorted by InstanceId, byte for byte.
fn expected_json(timeline: &Timeline, instance_ids: &[String]) -> String {
    let printed: Vec<AsPrinted> = final_bodies(timeline, instance_ids)
        .into_iter()
        .map(AsPrinted)
        .collect();
    pretty(&printed)
}

/// One compact line of `-o jsonl` for this body.
fn compact(body: &Value) -> String {
    serde_json::to_string(&AsPrinted(body.clone())).unwrap()
}

/// The `InstanceId`s of a `-o json` array, in order.
#[track_caller]
fn array_ids(out: &Output) -> Vec<String> {
    let doc = stdout_json(out);
    let items = doc
        .as_array()
        .unwrap_or_else(|| panic!("stdout is not a JSON array\n{}", describe(out)));
    items
        .iter()
        .map(|v| v["InstanceId"].as_str().unwrap_or("<none>").to_owned())
        .collect()
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// Asserts GetCommandInvocation was called exactly once for each of `ids` and for no one else.
#[track_caller]
fn assert_get_once_each(fake: &FakeSsm, ids: &[String], out: &Output) {
    let calls = fake.get_calls_by_instance();
    for id in ids {
        assert_eq!(
            calls.get(id).copied().unwrap_or(0),
            1,
            "GetCommandInvocation calls for {id}\n{}",
            describe(out)
        );
    }
    let mut others: Vec<(&String, &usize)> =
        calls.iter().filter(|(id, _)| !ids.contains(id)).collect();
    others.sort();
    assert!(
        others.is_empty(),
        "GetCommandInvocation calls for instances not waited for: {others:?}"
    );
    assert_eq!(
        fake.get_invocation_calls(),
        ids.len(),
        "GetCommandInvocation calls in all"
    );
    for r in fake.get_invocation_requests() {
        assert_eq!(
            r.body["CommandId"], CMD_ID,
            "GetCommandInvocation body {}",
            r.body
        );
    }
}

/// Asserts no round made more than 1 + ceil(N/50) list calls (N: the invocations listed in that
/// round; an empty listing is one page), and that no listing was asked for while the command
/// was not visible.
#[track_caller]
fn assert_round_budget(fake: &FakeSsm) {
    for round in fake.rounds() {
        let Some(served) = &round.served else {
            assert_eq!(
                round.list_calls(),
                0,
                "list calls before the first ListCommands: {round:?}"
            );
            continue;
        };
        if served.command.is_none() {
            assert_eq!(
                round.list_invocations + round.list_invocations_details,
                0,
                "round {}: ListCommandInvocations while the command was not visible: {round:?}",
                round.round
            );
            continue;
        }
        let pages = served.listed.div_ceil(LIST_PAGE_SIZE).max(1);
        assert!(
            round.list_calls() <= 1 + pages,
            "round {}: {} list calls for {} invocations (at most 1 + {pages}): {round:?}",
            round.round,
            round.list_calls(),
            served.listed
        );
    }
}

/// Asserts every ListCommandInvocations request asked for every invocation of the command, 50
/// per page, without details.
#[track_caller]
fn assert_plain_listings(fake: &FakeSsm) {
    for r in fake.requests_to(LIST_COMMAND_INVOCATIONS) {
        assert_eq!(r.body["CommandId"], CMD_ID, "listing body {}", r.body);
        assert_eq!(
            r.body["MaxResults"], LIST_PAGE_SIZE,
            "listing body {}",
            r.body
        );
        assert!(
            r.body.get("InstanceId").is_none(),
            "listing body {}",
            r.body
        );
        assert_ne!(
            r.body.get("Details"),
            Some(&Value::Bool(true)),
            "no details while polling: {}",
            r.body
        );
    }
}

/// `0..n` in an order that is not the InstanceId order (`k * step mod n`, `step` prime to `n`).
fn scrambled(n: usize, step: usize) -> Vec<usize> {
    (0..n).map(|k| (k * step) % n).collect()
}

// ---------------------------------------------------------------------------------------------
// Many invocations over several pages
// ---------------------------------------------------------------------------------------------

/// 230 nodes listed out of InstanceId order, finishing in Success over rounds 2 to 10; one prints
/// more than the 2,500 characters ListCommandInvocations keeps, with stderr.
fn two_hundred_thirty() -> Timeline {
    let members = scrambled(230, 97)
        .into_iter()
        .map(|i| {
            let m = Member::new(fleet_instance_id(i)).succeeds_at(2 + i % 9);
            if i == 7 {
                m.output(
                    &format!("{}\nend of i7\n", "x".repeat(3_000)),
                    "warning: i7\n",
                )
            } else {
                m
            }
        })
        .collect();
    Timeline::new(members).get_delay(Duration::from_millis(15))
}

#[test]
fn hundreds_of_invocations_all_succeed_into_one_sorted_json_array() {
    let timeline = two_hundred_thirty();
    let all = timeline.instance_ids();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, took) = run_fleet(&fake, &[], &["-o", "json"]);
    assert_exit(&out, 0);
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr in a pipe\n{}",
        describe(&out)
    );
    let got_ids = array_ids(&out);
    assert_eq!(got_ids.len(), 230, "{} objects", got_ids.len());
    assert_eq!(got_ids, sorted(&all), "sorted by InstanceId, each once");
    // Each object is the GetCommandInvocation response (full output, not the listing's 2,500
    // characters), the array laid out as the aws CLI lays it out.
    assert_eq!(
        stdout_str(&out),
        expected_json(&timeline, &all),
        "the JSON array byte for byte"
    );
    assert_get_once_each(&fake, &all, &out);
    assert!(
        fake.get_max_in_flight() <= 8,
        "{} GetCommandInvocation calls at once (at most 8)",
        fake.get_max_in_flight()
    );
    assert_plain_listings(&fake);
    assert_round_budget(&fake);
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn each_object_of_the_array_is_what_get_prints() {
    let timeline = Timeline::new(
        scrambled(60, 7)
            .into_iter()
            .map(|i| {
                Member::new(fleet_instance_id(i))
                    .succeeds_at(2 + i % 3)
                    .output(
                        &format!("out of {i} ✓\r\n\u{1b}[1mbold\u{1b}[0m\t\"q\"\\\n"),
                        "",
                    )
            })
            .collect(),
    );
    let fake = FakeSsm::with_timeline(timeline);
    let (out, _) = run_fleet(&fake, &[], &["-o", "json"]);
    assert_exit(&out, 0);
    let text = stdout_str(&out);
    let gets_before = fake.get_invocation_calls();
    let cli = Cli::new(&fake.url());
    for i in [0, 31, 59] {
        let id = fleet_instance_id(i);
        let got = cli
            .cmd()
            .args([
                "get",
                "--command-id",
                CMD_ID,
                "--instance-id",
                &id,
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        assert_exit(&got, 0);
        // Inside the array, each line of `get`'s document is indented one level further.
        let indented: String = stdout_str(&got)
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect();
        let indented = indented.trim_end_matches('\n');
        assert!(
            text.contains(indented),
            "`get -o json` for {id}, indented, is not in the array\n--- get ---\n{}\n--- wait ---\n{text}",
            stdout_str(&got)
        );
    }
    assert_eq!(fake.get_invocation_calls(), gets_before + 3);
}

// ---------------------------------------------------------------------------------------------
// Targets appearing late, listings lagging behind the counts
// ---------------------------------------------------------------------------------------------

/// Invisible in round 1; Pending with TargetCount 0 in rounds 2 and 3; five targets from round 4
/// (listed from 5, done by 8); five more from round 7 (listed from 8, done by 12); the command
/// InProgress until round 13, when it turns Success.
fn late_targets() -> Timeline {
    let first = [6, 7, 8, 6, 7];
    let second = [10, 11, 12, 10, 12];
    let mut members = Vec::new();
    for (k, end) in first.into_iter().enumerate() {
        members.push(
            Member::new(fleet_instance_id(9 - k))
                .appears_at(4)
                .listed_at(5)
                .succeeds_at(end),
        );
    }
    for (k, end) in second.into_iter().enumerate() {
        members.push(
            Member::new(fleet_instance_id(k))
                .appears_at(7)
                .listed_at(8)
                .succeeds_at(end),
        );
    }
    Timeline::new(members)
        .visible_from(2)
        .command_status_from(1, "Pending", "Pending")
        .command_status_from(4, "InProgress", "In Progress")
        .command_status_from(13, "Success", "Success")
}

#[test]
fn late_targets_are_waited_for_and_each_reported_once() {
    let timeline = late_targets();
    let all = timeline.instance_ids();
    for format in ["json", "jsonl"] {
        let fake = FakeSsm::with_timeline(timeline.clone());
        let (out, _) = run_fleet(&fake, &[], &["-o", format]);
        assert_exit(&out, 0);
        let got: Vec<String> = match format {
            "json" => {
                assert_eq!(stdout_str(&out), expected_json(&timeline, &all), "-o json");
                array_ids(&out)
            }
            _ => stdout_str(&out)
                .lines()
                .map(|l| {
                    let v: Value = serde_json::from_str(l)
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", describe(&out)));
                    v["InstanceId"].as_str().unwrap_or("<none>").to_owned()
                })
                .collect(),
        };
        assert_eq!(
            sorted(&got),
            sorted(&all),
            "-o {format}: every invocation, once"
        );
        // Not before the command itself turned Success (round 13).
        let served = fake.served_rounds();
        assert!(
            served.len() >= 13,
            "-o {format}: the wait ended in round {} (the command is InProgress until 13)\n{}",
            served.len(),
            describe(&out)
        );
        assert_get_once_each(&fake, &all, &out);
        assert_plain_listings(&fake);
        assert_round_budget(&fake);
    }
}

#[test]
fn counts_running_ahead_of_the_listing_do_not_end_the_wait_early() {
    // ListCommands says Success with 60 of 60 completed from round 5, but the listing (and
    // GetCommandInvocation) show each node as it was 4 rounds earlier: all 60 terminal in the
    // listing only from round 9.
    let timeline = Timeline::new(
        scrambled(60, 7)
            .into_iter()
            .map(|i| Member::new(fleet_instance_id(i)).succeeds_at(2 + i % 4))
            .collect(),
    )
    .listing_lag(4);
    let all = timeline.instance_ids();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, _) = run_fleet(&fake, &[], &["-o", "json", "--timeout", "10s"]);
    assert_exit(&out, 0);
    assert_eq!(stdout_str(&out), expected_json(&timeline, &all));
    assert!(
        fake.served_rounds().len() >= 9,
        "ended in round {}, before the listing showed every invocation terminal (round 9)",
        fake.served_rounds().len()
    );
    assert_get_once_each(&fake, &all, &out);
}

#[test]
fn targets_counted_before_they_are_listed_do_not_end_the_wait_early() {
    // TargetCount 3 from round 1, all three done by round 3 (command Success), but the third
    // node is listed only from round 6.
    let timeline = Timeline::new(vec![
        Member::new(fleet_instance_id(0)).succeeds_at(2),
        Member::new(fleet_instance_id(1)).succeeds_at(3),
        Member::new(fleet_instance_id(2))
            .listed_at(6)
            .succeeds_at(3),
    ]);
    let all = timeline.instance_ids();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, _) = run_fleet(&fake, &[], &["-o", "json", "--timeout", "10s"]);
    assert_exit(&out, 0);
    assert_eq!(stdout_str(&out), expected_json(&timeline, &all));
    assert!(
        fake.served_rounds().len() >= 6,
        "ended in round {}, before the third invocation was listed (round 6)",
        fake.served_rounds().len()
    );
    assert_get_once_each(&fake, &all, &out);
}

// ---------------------------------------------------------------------------------------------
// Faults while listing
// ---------------------------------------------------------------------------------------------

/// 120 nodes (three pages), half done in round 3, the rest in round 6.
fn two_waves() -> Timeline {
    Timeline::new(
        scrambled(120, 7)
            .into_iter()
            .map(|i| Member::new(fleet_instance_id(i)).succeeds_at(if i % 2 == 0 { 3 } else { 6 }))
            .collect(),
    )
}

#[test]
fn a_throttled_page_mid_round_loses_and_duplicates_nothing() {
    let timeline = two_waves().fail_list_page(6, 2, vec![Step::throttled()]);
    let all = timeline.instance_ids();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, took) = run_fleet(&fake, &[("AWS_MAX_ATTEMPTS", "2")], &["-o", "json"]);
    assert_exit(&out, 0);
    assert_eq!(
        fake.list_faults_served(),
        1,
        "the throttled page was asked for in round 6\n{}",
        describe(&out)
    );
    assert_eq!(array_ids(&out), sorted(&all), "each invocation once");
    assert_eq!(stdout_str(&out), expected_json(&timeline, &all));
    assert_get_once_each(&fake, &all, &out);
    // Round 6: pages 1, 2 (throttled), 2 again with the same token, 3.
    let round6: Vec<Value> = fake
        .requests_to(LIST_COMMAND_INVOCATIONS)
        .into_iter()
        .filter(|r| r.round == 6)
        .map(|r| r.body)
        .collect();
    assert_eq!(round6.len(), 4, "listing requests in round 6: {round6:#?}");
    assert_eq!(
        round6[1], round6[2],
        "the throttled page asked for again as it was"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_listing_that_fails_after_retries_is_done_again_in_the_next_round() {
    // Both SDK attempts at page 2 in round 6 fail: that poll fails. The counts do not change
    // after round 6, so only a new listing in a later round can see the second wave.
    let timeline = two_waves().fail_list_page(6, 2, vec![Step::throttled(), Step::throttled()]);
    let all = timeline.instance_ids();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, _) = run_fleet(
        &fake,
        &[("AWS_MAX_ATTEMPTS", "2")],
        &["-o", "json", "--timeout", "12s"],
    );
    assert_eq!(
        fake.list_faults_served(),
        2,
        "page 2 was asked for twice in round 6\n{}",
        describe(&out)
    );
    assert_exit(&out, 0);
    assert_eq!(array_ids(&out), sorted(&all), "each invocation once");
    assert_eq!(stdout_str(&out), expected_json(&timeline, &all));
    assert_get_once_each(&fake, &all, &out);
}

// ---------------------------------------------------------------------------------------------
// Mixed terminal states: exit 1, every format
// ---------------------------------------------------------------------------------------------

/// Three successes, a failure, an execution time-out and a node never reached.
fn mixed() -> Timeline {
    Timeline::new(vec![
        Member::new(fleet_instance_id(4))
            .ends_at(3, UNDELIVERABLE)
            .output("", ""),
        Member::new(fleet_instance_id(0))
            .succeeds_at(2)
            .output("alpha 1\nalpha 2\n", ""),
        Member::new(fleet_instance_id(1))
            .ends_at(3, FAILED)
            .output("beta: partial\n", "beta: disk full\n"),
        Member::new(fleet_instance_id(5))
            .succeeds_at(4)
            .output(&format!("{}\nzeta end\n", "z".repeat(3_000)), ""),
        Member::new(fleet_instance_id(2))
            .succeeds_at(2)
            .output("gamma\n", "gamma: warning\n"),
        Member::new(fleet_instance_id(3))
            .ends_at(4, EXECUTION_TIMED_OUT)
            .output("delta: started\n", "delta: killed\n"),
    ])
}

#[test]
fn mixed_terminal_states_exit_1_with_each_final_state_in_json() {
    let timeline = mixed();
    let all = timeline.instance_ids();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, _) = run_fleet(&fake, &[], &["-o", "json"]);
    assert_exit(&out, 1);
    assert_eq!(stdout_str(&out), expected_json(&timeline, &all));
    let doc = stdout_json(&out);
    let states: Vec<(String, String)> = doc
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["Status"].as_str().unwrap().to_owned(),
                v["StatusDetails"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        SUCCESS,
        FAILED,
        SUCCESS,
        EXECUTION_TIMED_OUT,
        UNDELIVERABLE,
        SUCCESS,
    ]
    .iter()
    .map(|(s, d)| (s.to_string(), d.to_string()))
    .collect();
    assert_eq!(states, want, "states by InstanceId");
    assert_get_once_each(&fake, &all, &out);
}

/// The one line of `text` that names `instance`.
#[track_caller]
fn row_of<'a>(text: &'a str, instance: &str) -> &'a str {
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(instance)).collect();
    assert_eq!(rows.len(), 1, "one row for {instance}\n{text}");
    rows[0]
}

#[test]
fn mixed_terminal_states_in_a_table_with_totals_from_one_detailed_listing() {
    let timeline = mixed();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, _) = run_fleet(&fake, &[], &["-o", "table"]);
    assert_exit(&out, 1);
    let text = stdout_str(&out);
    for m in timeline.members() {
        let (status, details) = m.final_state().unwrap();
        let row = row_of(&text, &m.instance_id);
        assert!(row.contains(status), "row {row:?} shows {status}\n{text}");
        if details != status {
            assert!(row.contains(details), "row {row:?} shows {details}\n{text}");
        }
    }
    // The totals line, by the most precise word the service gave, Success first.
    let totals: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Success") && !l.contains("i-0a11"))
        .collect();
    assert_eq!(totals.len(), 1, "one totals line\n{text}");
    let parts: Vec<String> = totals[0]
        .split(", ")
        .map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            let number = words
                .iter()
                .position(|w| w.parse::<usize>().is_ok())
                .unwrap_or_else(|| panic!("no count in {part:?}\n{text}"));
            words[number..].join(" ")
        })
        .collect();
    assert_eq!(parts[0], "3 Success", "totals line {:?}", totals[0]);
    let mut sorted_parts = parts.clone();
    sorted_parts.sort_unstable();
    assert_eq!(
        sorted_parts,
        [
            "1 Execution Timed Out",
            "1 Failed",
            "1 Undeliverable",
            "3 Success"
        ],
        "totals line {:?}\n{text}",
        totals[0]
    );
    // The table needs no GetCommandInvocation: one detailed listing at the end.
    assert_eq!(fake.get_invocation_calls(), 0, "{}", describe(&out));
    let listings = fake.requests_to(LIST_COMMAND_INVOCATIONS);
    let detailed: Vec<usize> = listings
        .iter()
        .enumerate()
        .filter(|(_, r)| r.body["Details"] == Value::Bool(true))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        detailed,
        [listings.len() - 1],
        "one detailed listing, the last one"
    );
    let last_list_commands = fake
        .requests()
        .iter()
        .rposition(|r| r.target.as_deref() == Some(support::fake_ssm::LIST_COMMANDS));
    let last_detailed = fake
        .requests()
        .iter()
        .rposition(|r| r.body["Details"] == Value::Bool(true));
    assert!(
        last_detailed > last_list_commands,
        "the detailed listing comes after the last poll"
    );
}

/// Splits `text` into `(header, content)` sections at lines `== … ==`; text before the first
/// header is returned with an empty header.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if bare.starts_with("== ") && bare.ends_with(" ==") && bare.contains(" · ") {
            out.push((bare.to_owned(), String::new()));
        } else {
            if out.is_empty() {
                out.push((String::new(), String::new()));
            }
            out.last_mut().unwrap().1.push_str(line);
        }
    }
    out
}

/// The sections of `text` by instance, asserting each header reads `== <instance> · <Status>…==`
/// for a member and names it once.
#[track_caller]
fn sections_by_instance(text: &str, timeline: &Timeline, stream: &str) -> HashMap<String, String> {
    let mut by_instance = HashMap::new();
    for (header, content) in sections(text) {
        assert!(
            !header.is_empty(),
            "{stream}: text before the first header: {content:?}\n{text}"
        );
        let m = timeline
            .members()
            .iter()
            .find(|m| header.starts_with(&format!("== {} · ", m.instance_id)))
            .unwrap_or_else(|| panic!("{stream}: header {header:?} names no instance\n{text}"));
        let (status, _) = m.final_state().unwrap();
        assert!(
            header.contains(status),
            "{stream}: header {header:?} gives the status {status}"
        );
        assert!(
            by_instance.insert(m.instance_id.clone(), content).is_none(),
            "{stream}: two sections for {}\n{text}",
            m.instance_id
        );
    }
    by_instance
}

#[test]
fn text_puts_each_output_under_a_header_on_its_own_stream() {
    let timeline = mixed();
    let all = timeline.instance_ids();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, _) = run_fleet(&fake, &[], &["-o", "text"]);
    assert_exit(&out, 1);
    let stdout = stdout_str(&out);
    let stderr = stderr_str(&out);
    let out_sections = sections_by_instance(&stdout, &timeline, "stdout");
    let err_sections = sections_by_instance(&stderr, &timeline, "stderr");
    for m in timeline.members() {
        // The whole output GetCommandInvocation gives, not the listing's first 2,500 characters.
        if m.stdout.is_empty() {
            assert_eq!(
                out_sections
                    .get(&m.instance_id)
                    .map(String::as_str)
                    .unwrap_or(""),
                "",
                "stdout of {}",
                m.instance_id
            );
        } else {
            assert_eq!(
                out_sections.get(&m.instance_id).map(String::as_str),
                Some(m.stdout.as_str()),
                "stdout of {} under its header\n{stdout}",
                m.instance_id
            );
        }
        assert_eq!(
            err_sections
                .get(&m.instance_id)
                .map(String::as_str)
                .unwrap_or(""),
            m.stderr,
            "stderr of {} under its header\n{stderr}",
            m.instance_id
        );
    }
    assert_get_once_each(&fake, &all, &out);
}

// ---------------------------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------------------------

#[test]
fn jsonl_streams_each_invocation_as_it_finishes() {
    // Finishing order 3, 0, 2, 1 (not the InstanceId order); the last one only in round 30.
    let order = [(3, 2), (0, 4), (2, 7), (1, 30)];
    let timeline = Timeline::new(
        (0..4)
            .map(|i| {
                let end = order.iter().find(|(j, _)| *j == i).unwrap().1;
                Member::new(fleet_instance_id(i)).succeeds_at(end)
            })
            .collect(),
    );
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (_cli, mut child) = spawn_fleet(&fake, &["-o", "jsonl"]);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("no line on stdout within 10 s\n{}", describe(&out));
        }
    };
    // The first line is out while the wait goes on: the last node ends only in round 30.
    let running = child.try_wait().unwrap().is_none();
    let round = fake.list_commands_calls();
    assert!(
        running && round < 30,
        "first line {first:?} came only when the wait ended (round {round}, running {running})"
    );
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let mut lines = vec![first];
    lines.extend(rx.try_iter());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    let want: Vec<String> = order
        .iter()
        .map(|(i, _)| {
            timeline
                .member(&fleet_instance_id(*i))
                .unwrap()
                .final_get_body()
        })
        .map(|body| compact(&body))
        .collect();
    // In finishing order, each the compact GetCommandInvocation object.
    assert_eq!(lines, want, "jsonl lines");
    let all = timeline.instance_ids();
    let out = Output {
        status,
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    };
    assert_get_once_each(&fake, &all, &out);
}

// ---------------------------------------------------------------------------------------------
// Calls per round
// ---------------------------------------------------------------------------------------------

#[test]
fn rounds_where_nothing_changed_cost_one_call() {
    // 120 nodes running from round 2, done in three waves (rounds 3, 9 and 16); in between the
    // counts do not change.
    let timeline = Timeline::new(
        scrambled(120, 7)
            .into_iter()
            .map(|i| {
                Member::new(fleet_instance_id(i))
                    .running_at(2)
                    .succeeds_at([3, 9, 16][i % 3])
            })
            .collect(),
    );
    let all = timeline.instance_ids();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, _) = run_fleet(&fake, &[], &["-o", "json"]);
    assert_exit(&out, 0);
    assert_eq!(stdout_str(&out), expected_json(&timeline, &all));
    let rounds = fake.rounds();
    let mut quiet_rounds = 0;
    for pair in rounds.windows(2) {
        let (before, now) = (&pair[0], &pair[1]);
        let (Some(b), Some(n)) = (&before.served, &now.served) else {
            continue;
        };
        if b.counts().is_some() && b.counts() == n.counts() {
            quiet_rounds += 1;
            assert_eq!(
                (
                    now.list_commands,
                    now.list_invocations + now.list_invocations_details
                ),
                (1, 0),
                "round {}: counts {:?} as in the round before, yet {now:?}",
                now.round,
                n.counts()
            );
        }
    }
    assert!(
        quiet_rounds >= 8,
        "only {quiet_rounds} rounds without change: {rounds:#?}"
    );
    // Rounds with a change: the ListCommands call and the three pages, no more.
    for round in [1, 2, 3, 9, 16] {
        let r = &rounds[round];
        assert_eq!(
            r.list_invocations, 3,
            "round {round} lists all three pages once: {r:?}"
        );
    }
    assert_round_budget(&fake);
    assert_get_once_each(&fake, &all, &out);
}

// ---------------------------------------------------------------------------------------------
// Named sets
// ---------------------------------------------------------------------------------------------

/// i0 done in round 3; i1 never; i2 appears in round 4 and is done in round 6; i3 fails in 2.
fn four_nodes() -> Timeline {
    Timeline::new(vec![
        Member::new(fleet_instance_id(3))
            .ends_at(2, FAILED)
            .output("", "no\n"),
        Member::new(fleet_instance_id(0)).succeeds_at(3),
        Member::new(fleet_instance_id(1)).running_at(2),
        Member::new(fleet_instance_id(2))
            .appears_at(4)
            .succeeds_at(6),
    ])
}

#[test]
fn a_named_set_waits_for_those_instances_only() {
    let timeline = four_nodes();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (i0, i2) = (fleet_instance_id(0), fleet_instance_id(2));
    let (out, _) = run_fleet(
        &fake,
        &[],
        &["--instance-id", &i2, "--instance-id", &i0, "-o", "json"],
    );
    // i3 failed and i1 never ends (nor does the command): neither matters.
    assert_exit(&out, 0);
    let named = vec![i0, i2];
    assert_eq!(stdout_str(&out), expected_json(&timeline, &named));
    assert_get_once_each(&fake, &named, &out);
}

#[test]
fn a_named_set_of_three_with_a_failure_exits_1() {
    let timeline = four_nodes();
    let fake = FakeSsm::with_timeline(timeline.clone());
    let named = vec![
        fleet_instance_id(3),
        fleet_instance_id(2),
        fleet_instance_id(0),
    ];
    let (out, _) = run_fleet(
        &fake,
        &[],
        &[
            "--instance-id",
            &named[0],
            "--instance-id",
            &named[1],
            "--instance-id",
            &named[2],
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 1);
    assert_eq!(stdout_str(&out), expected_json(&timeline, &named));
    assert_get_once_each(&fake, &named, &out);
}

#[test]
fn a_named_instance_never_listed_exits_3_after_the_grace() {
    let timeline = four_nodes();
    let fake = FakeSsm::with_timeline(timeline);
    let (i0, stranger) = (fleet_instance_id(0), fleet_instance_id(99));
    let (out, took) = run_fleet(
        &fake,
        &[],
        &[
            "--instance-id",
            &i0,
            "--instance-id",
            &stranger,
            "--not-found-grace",
            "500ms",
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 3);
    let err = stderr_str(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error:") && last.contains(&stranger),
        "the error names the instance never listed: {err:?}"
    );
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(6),
        "grace 500ms, took {took:?}"
    );
}

#[test]
fn one_instance_id_keeps_the_single_invocation_wait() {
    // No ListCommands call to count rounds by: they follow the clock.
    let timeline = four_nodes().round_every(Duration::from_millis(100));
    let fake = FakeSsm::with_timeline(timeline.clone());
    let i0 = fleet_instance_id(0);
    let (out, _) = run_fleet(&fake, &[], &["--instance-id", &i0, "-o", "json"]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout_str(&out),
        pretty(&AsPrinted(timeline.member(&i0).unwrap().final_get_body())),
        "one object, as `get` prints it"
    );
    assert_eq!(fake.list_commands_calls(), 0, "{}", describe(&out));
    assert!(fake.requests_to(LIST_COMMAND_INVOCATIONS).is_empty());
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.target.as_deref() == Some(GET_COMMAND_INVOCATION))
    );
}

// ---------------------------------------------------------------------------------------------
// Timeouts, invisible commands, interruption
// ---------------------------------------------------------------------------------------------

#[test]
fn timeout_with_a_member_that_never_finishes_exits_4_with_what_finished() {
    let timeline = Timeline::new(vec![
        Member::new(fleet_instance_id(2)).running_at(1),
        Member::new(fleet_instance_id(1)).succeeds_at(3),
        Member::new(fleet_instance_id(0)).succeeds_at(2),
    ]);
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, took) = run_fleet(&fake, &[], &["--timeout", "1s", "-o", "json"]);
    assert_exit(&out, 4);
    let line = assert_single_stderr_line(&out);
    assert!(
        line.starts_with("error: timed out after") && line.contains("2 of 3 finished"),
        "stderr: {line:?}"
    );
    let finished = vec![fleet_instance_id(0), fleet_instance_id(1)];
    assert_eq!(stdout_str(&out), expected_json(&timeline, &finished));
    assert_get_once_each(&fake, &finished, &out);
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(5),
        "--timeout 1s took {took:?}"
    );
}

#[test]
fn a_command_never_visible_exits_3_after_the_grace() {
    for invisible in ["empty list", "InvalidCommandId"] {
        let timeline =
            Timeline::new(vec![Member::new(fleet_instance_id(0)).succeeds_at(1)]).never_visible();
        let timeline = if invisible == "InvalidCommandId" {
            timeline.invisible_as_invalid_command_id()
        } else {
            timeline
        };
        let fake = FakeSsm::with_timeline(timeline);
        let (out, took) = run_fleet(&fake, &[], &["--not-found-grace", "400ms", "-o", "json"]);
        assert_exit(&out, 3);
        assert!(out.stdout.is_empty(), "{invisible}: {}", describe(&out));
        let line = assert_single_stderr_line(&out);
        assert!(line.starts_with("error:"), "{invisible}: stderr {line:?}");
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_secs(5),
            "{invisible}: grace 400ms, took {took:?}"
        );
        assert!(
            fake.list_commands_calls() >= 2,
            "{invisible}: it kept looking during the grace\n{}",
            describe(&out)
        );
        assert!(
            fake.requests_to(LIST_COMMAND_INVOCATIONS).is_empty()
                && fake.get_invocation_calls() == 0,
            "{invisible}: nothing to list while the command is not visible"
        );
    }
}

#[test]
fn sigint_during_a_fleet_wait_exits_130() {
    let timeline = Timeline::new(vec![
        Member::new(fleet_instance_id(0)).succeeds_at(2),
        Member::new(fleet_instance_id(1)).running_at(1),
    ]);
    let fake = FakeSsm::with_timeline(timeline);
    let (_cli, mut child) = spawn_fleet(&fake, &["-o", "json"]);
    if !fake.wait_for_round(3, Duration::from_secs(5)) {
        let _ = child.kill();
        panic!(
            "no third round within 5 s\n{}",
            describe(&child.wait_with_output().unwrap())
        );
    }
    let sent = Instant::now();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill -INT {}", child.id()))
        .status()
        .expect("run sh -c kill");
    assert!(status.success(), "kill -INT failed");
    while child.try_wait().unwrap().is_none() {
        if sent.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!(
                "still running 5 s after SIGINT\n{}",
                describe(&child.wait_with_output().unwrap())
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
    let took = sent.elapsed();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 130);
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    assert!(!stderr_str(&out).contains("panicked"), "{}", describe(&out));
    assert!(took <= Duration::from_secs(3), "exit took {took:?}");
}

// ---------------------------------------------------------------------------------------------
// The fake itself
// ---------------------------------------------------------------------------------------------

/// POSTs one AWS JSON 1.1 call to the fake and returns the status and body (the fake keeps
/// connections open: the answer is read by its Content-Length).
fn call(fake: &FakeSsm, target: &str, body: &Value) -> (u16, Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", fake.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let body = body.to_string();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {target}\r\n\
         Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line[9..12].parse().unwrap();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[test]
fn the_fake_timeline_answers_every_call_from_one_state() {
    use serde_json::json;
    use support::fake_ssm::LIST_COMMANDS;
    let timeline = Timeline::new(vec![
        Member::new(fleet_instance_id(1))
            .appears_at(2)
            .listed_at(3)
            .succeeds_at(4),
        Member::new(fleet_instance_id(0)).ends_at(3, UNDELIVERABLE),
    ])
    .visible_from(2)
    .fail_list_page(3, 1, vec![Step::throttled()]);
    let fake = FakeSsm::with_timeline(timeline);
    let list_commands = |fake: &FakeSsm| call(fake, LIST_COMMANDS, &json!({"CommandId": CMD_ID}));
    let list = |fake: &FakeSsm| {
        call(
            fake,
            LIST_COMMAND_INVOCATIONS,
            &json!({"CommandId": CMD_ID, "MaxResults": 50}),
        )
    };
    let get = |fake: &FakeSsm, i: usize| {
        call(
            fake,
            GET_COMMAND_INVOCATION,
            &json!({"CommandId": CMD_ID, "InstanceId": fleet_instance_id(i)}),
        )
    };
    // Round 1: not visible.
    assert_eq!(list_commands(&fake), (200, json!({"Commands": []})));
    assert_eq!(list(&fake), (200, json!({"CommandInvocations": []})));
    assert_eq!(get(&fake, 0).0, 400);
    // Round 2: i0 Pending; i1 targeted, not listed.
    let (status, body) = list_commands(&fake);
    assert_eq!(status, 200);
    let c = &body["Commands"][0];
    assert_eq!(
        (
            c["Status"].as_str(),
            c["TargetCount"].as_u64(),
            c["CompletedCount"].as_u64()
        ),
        (Some("Pending"), Some(2), Some(0))
    );
    let (_, page) = list(&fake);
    let listed = page["CommandInvocations"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["Status"], "Pending");
    assert!(listed[0].get("CommandPlugins").is_none());
    assert_eq!(get(&fake, 1).1["__type"], "InvocationDoesNotExist");
    // Round 3: i0 Undeliverable, i1 running; the first listing request is throttled.
    let (_, body) = list_commands(&fake);
    let c = &body["Commands"][0];
    assert_eq!(
        (c["Status"].as_str(), c["CompletedCount"].as_u64()),
        (Some("InProgress"), Some(1))
    );
    assert_eq!(list(&fake).1["__type"], "ThrottlingException");
    let (_, page) = list(&fake);
    assert_eq!(page["CommandInvocations"].as_array().unwrap().len(), 2);
    let (status, g0) = get(&fake, 0);
    assert_eq!(status, 200);
    assert_eq!(
        (
            g0["Status"].as_str(),
            g0["StatusDetails"].as_str(),
            g0["ResponseCode"].as_i64()
        ),
        (Some("Failed"), Some("Undeliverable"), Some(-1))
    );
    assert_eq!(get(&fake, 1).1["Status"], "InProgress");
    // Round 4: all done, the command Failed.
    let (_, body) = list_commands(&fake);
    let c = &body["Commands"][0];
    assert_eq!(
        (
            c["Status"].as_str(),
            c["CompletedCount"].as_u64(),
            c["ErrorCount"].as_u64()
        ),
        (Some("Failed"), Some(2), Some(0))
    );
    let (_, g1) = get(&fake, 1);
    assert_eq!(
        g1["StandardOutputContent"],
        format!("hello from {}\n", fleet_instance_id(1))
    );
    assert_eq!(g1["InstanceId"], fleet_instance_id(1));

    assert_eq!(fake.list_faults_served(), 1);
    let rounds = fake.rounds();
    assert_eq!(rounds.len(), 5);
    assert_eq!(
        (
            rounds[3].list_commands,
            rounds[3].list_invocations,
            rounds[3].gets
        ),
        (1, 2, 2)
    );
    assert_eq!(
        rounds[4].served.as_ref().unwrap().counts(),
        Some(("Failed".into(), 2, 2))
    );
    assert_eq!(fake.get_calls_by_instance()[&fleet_instance_id(0)], 2);
}
