//! `ssmres wait --command-id ID` without `--instance-id` (every invocation of the command) and
//! with several `--instance-id`s (a named set), against scripted fleet timelines.
//!
//! A round of the fake is one ListCommands call: each test scripts how the command's counts
//! and each invocation change from round to round, and asserts what a user notices (exit code,
//! stdout, stderr, streaming) and what the service pays (calls per round, one
//! GetCommandInvocation per instance).

use std::collections::HashMap;
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::fake_ssm::{
    CMD_ID, Call, EXECUTION_TIMED_OUT, FAILED, FakeSsm, GET_COMMAND_INVOCATION,
    LIST_COMMAND_INVOCATIONS, LIST_COMMANDS, LIST_PAGE_SIZE, SUCCESS, Step, UNDELIVERABLE,
    fleet_instance_id,
};
use crate::support::timeline::{Member, Timeline};
use crate::support::{
    Args, Cli, FAST_POLL, Pipe, Spawned, array_field, assert_error, assert_exit,
    assert_single_stderr_line, assert_totals, check, check_eq, compact, printed, printed_array,
    row_of, sections, stderr_str, stdout_str,
};

// --- Helpers -------------------------------------------------------------------------------------

/// `ssmres wait --command-id CMD_ID <fast polling> ARGS`, with these variables.
fn fleet_cmd(fake: &FakeSsm, env: &[(&str, &str)], args: impl Args) -> std::process::Command {
    let mut cmd = Cli::new(&fake.url()).cmd();
    cmd.args(["wait", "--command-id", CMD_ID])
        .args(FAST_POLL)
        .args(args.words())
        .envs(env.iter().copied());
    cmd
}

/// Runs it; the run and how long it took.
fn run_fleet(fake: &FakeSsm, env: &[(&str, &str)], args: impl Args) -> (Output, Duration) {
    let started = std::time::Instant::now();
    let out = crate::support::run(&mut fleet_cmd(fake, env, args));
    (out, started.elapsed())
}

/// Starts a fake for `timeline`, waits for the whole command ([`run_fleet`], no variables) and
/// asserts the exit code.
#[track_caller]
fn waited(timeline: &Timeline, code: i32, args: impl Args) -> (FakeSsm, Output) {
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, _) = run_fleet(&fake, &[], args);
    assert_exit(&out, code);
    (fake, out)
}

/// Asserts stdout is what `-o json` must print for these instances: the JSON array of their
/// final GetCommandInvocation bodies, sorted by InstanceId, byte for byte; and that
/// GetCommandInvocation was called once for each of them and for no one else.
#[track_caller]
fn assert_json_of(fake: &FakeSsm, out: &Output, timeline: &Timeline, ids: &[String]) {
    let member = |id: &String| {
        let found = timeline.member(id);
        found.unwrap_or_else(|| panic!("{id} is not in the timeline"))
    };
    let bodies: Vec<Value> = sorted(ids)
        .iter()
        .map(|id| member(id).final_get_body())
        .collect();
    let why = "the JSON array byte for byte";
    check_eq!(out, stdout_str(out), printed_array(&bodies), "{why}");
    assert_get_once_each(fake, ids, out);
}

/// `--instance-id` for each of `ids`, then `extra`.
fn named(ids: &[String], extra: &str) -> String {
    let named: Vec<String> = ids.iter().map(|id| format!("--instance-id {id}")).collect();
    format!("{} {extra}", named.join(" "))
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// Asserts GetCommandInvocation was called exactly once for each of `ids` and for no one else.
#[track_caller]
fn assert_get_once_each(fake: &FakeSsm, ids: &[String], out: &Output) {
    let gets = fake.calls_to(GET_COMMAND_INVOCATION);
    let asked: Vec<String> = gets
        .iter()
        .map(|c| c.instance_id().unwrap_or("<none>").to_owned())
        .collect();
    let why = "GetCommandInvocation calls, by instance";
    check_eq!(out, sorted(&asked), sorted(ids), "{why}");
    for c in &gets {
        let why = format!("GetCommandInvocation body {}", c.body);
        assert_eq!(c.body["CommandId"], CMD_ID, "{why}");
    }
}

/// The `Command` a ListCommands call was answered with (`None` while not visible).
fn command_of(call: &Call) -> Option<&Value> {
    call.answer["Commands"].get(0)
}

/// `(Status, TargetCount, CompletedCount)` of a ListCommands answer, what tells a round from
/// the one before.
fn counts(call: &Call) -> Option<(String, u64, u64)> {
    let count = |c: &Value, k| c[k].as_u64().unwrap_or(0);
    command_of(call).map(|c| {
        (
            c["Status"].as_str().unwrap_or_default().to_owned(),
            count(c, "TargetCount"),
            count(c, "CompletedCount"),
        )
    })
}

/// How many of `calls` are listings (ListCommands, ListCommandInvocations).
fn list_calls(calls: &[Call]) -> usize {
    calls
        .iter()
        .filter(|c| c.is(LIST_COMMANDS) || c.is(LIST_COMMAND_INVOCATIONS))
        .count()
}

/// Asserts no round made more than 1 + ceil(N/50) list calls (N: the invocations listed in that
/// round; an empty listing is one page), and that no listing was asked for while the command
/// was not visible.
#[track_caller]
fn assert_round_budget(fake: &FakeSsm, timeline: &Timeline) {
    for (round, calls) in fake.rounds().iter().enumerate() {
        let listings = calls
            .iter()
            .filter(|c| c.is(LIST_COMMAND_INVOCATIONS))
            .count();
        if round == 0 {
            let why = format!("list calls before the first ListCommands: {calls:#?}");
            assert_eq!(list_calls(calls), 0, "{why}");
        } else if calls.first().and_then(command_of).is_none() {
            assert_eq!(
                listings, 0,
                "round {round}: ListCommandInvocations while the command was not visible"
            );
        } else {
            let pages = timeline
                .listed_at(round)
                .len()
                .div_ceil(LIST_PAGE_SIZE)
                .max(1);
            let made = list_calls(calls);
            let why = format!("round {round}: {made} list calls (at most 1 + {pages})");
            assert!(made <= 1 + pages, "{why}");
        }
    }
}

/// Asserts every ListCommandInvocations request asked for every invocation of the command, 50
/// per page, without details.
#[track_caller]
fn assert_plain_listings(fake: &FakeSsm) {
    for c in fake.calls_to(LIST_COMMAND_INVOCATIONS) {
        let asked = (
            &c.body["CommandId"],
            &c.body["MaxResults"],
            c.body.get("InstanceId"),
        );
        let want = (&json!(CMD_ID), &json!(LIST_PAGE_SIZE), None);
        let why = format!("listing body {}", c.body);
        assert_eq!(asked, want, "{why}");
        let why = format!("no details while polling: {}", c.body);
        assert_ne!(c.body.get("Details"), Some(&Value::Bool(true)), "{why}");
    }
}

/// `0..n` in an order that is not the InstanceId order (`k * step mod n`, `step` prime to `n`).
fn scrambled(n: usize, step: usize) -> Vec<usize> {
    (0..n).map(|k| (k * step) % n).collect()
}

/// A timeline of these members, one per `(i, member)` for `i` of [`scrambled`]`(n, step)`.
fn scrambled_timeline(n: usize, step: usize, member: impl Fn(usize, Member) -> Member) -> Timeline {
    Timeline::new(
        scrambled(n, step)
            .into_iter()
            .map(|i| member(i, Member::new(fleet_instance_id(i))))
            .collect(),
    )
}

// --- Many invocations over several pages ---------------------------------------------------------

#[test]
fn hundreds_of_invocations_all_succeed_into_one_sorted_json_array() {
    // 230 nodes listed out of InstanceId order, finishing in Success over rounds 2 to 10; one
    // prints more than the 2,500 characters ListCommandInvocations keeps, with stderr.
    let long = format!("{}\nend of i7\n", "x".repeat(3_000));
    let timeline = scrambled_timeline(230, 97, |i, m| {
        let m = m.succeeds_at(2 + i % 9);
        if i == 7 {
            m.output(&long, "warning: i7\n")
        } else {
            m
        }
    })
    .get_delay(Duration::from_millis(15));
    let all = timeline.instance_ids();
    let (fake, out) = waited(&timeline, 0, "-o json");
    check!(out, out.stderr.is_empty(), "nothing on stderr in a pipe");
    let why = "sorted by InstanceId, each once";
    assert_eq!(array_field(&out, "InstanceId"), sorted(&all), "{why}");
    // Each object is the GetCommandInvocation response (full output, not the listing's 2,500
    // characters), the array laid out as the aws CLI lays it out.
    assert_json_of(&fake, &out, &timeline, &all);
    let at_once = fake.max_in_flight(GET_COMMAND_INVOCATION);
    let why = format!("{at_once} GetCommandInvocation calls at once (at most 8)");
    assert!(at_once <= 8, "{why}");
    assert_plain_listings(&fake);
    assert_round_budget(&fake, &timeline);
}

#[test]
fn each_object_of_the_array_is_what_get_prints() {
    let timeline = scrambled_timeline(60, 7, |i, m| {
        m.succeeds_at(2 + i % 3).output(
            &format!("out of {i} ✓\r\n\u{1b}[1mbold\u{1b}[0m\t\"q\"\\\n"),
            "",
        )
    });
    let (fake, out) = waited(&timeline, 0, "-o json");
    let text = stdout_str(&out);
    let gets_before = fake.count(GET_COMMAND_INVOCATION);
    for id in [0, 31, 59].map(fleet_instance_id) {
        let got = Cli::new(&fake.url()).run(format!(
            "get --command-id {CMD_ID} --instance-id {id} -o json"
        ));
        assert_exit(&got, 0);
        // Inside the array, each line of `get`'s document is indented one level further.
        let indented: String = stdout_str(&got)
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect();
        let indented = indented.trim_end_matches('\n');
        let get = stdout_str(&got);
        let why = format!("`get -o json` for {id}, indented, is not in the array\n{get}\n{text}");
        assert!(text.contains(indented), "{why}");
    }
    assert_eq!(fake.count(GET_COMMAND_INVOCATION), gets_before + 3);
}

// --- Targets appearing late, listings lagging behind the counts ----------------------------------

/// Invisible in round 1; Pending with TargetCount 0 in rounds 2 and 3; five targets from round 4
/// (listed from 5, done by 8); five more from round 7 (listed from 8, done by 12); the command
/// InProgress until round 13, when it turns Success.
fn late_targets() -> Timeline {
    let first = [6, 7, 8, 6, 7]
        .into_iter()
        .enumerate()
        .map(|(k, end)| (9 - k, 4, end));
    let second = [10, 11, 12, 10, 12]
        .into_iter()
        .enumerate()
        .map(|(k, end)| (k, 7, end));
    let member = |(i, from, end)| {
        Member::new(fleet_instance_id(i))
            .appears_at(from)
            .listed_at(from + 1)
            .succeeds_at(end)
    };
    Timeline::new(first.chain(second).map(member).collect())
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
        let (fake, out) = waited(&timeline, 0, format!("-o {format}"));
        let got: Vec<String> = if format == "json" {
            assert_json_of(&fake, &out, &timeline, &all);
            array_field(&out, "InstanceId")
        } else {
            let id = |l: &str| {
                let v: Value =
                    serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
                v["InstanceId"].as_str().unwrap_or("<none>").to_owned()
            };
            stdout_str(&out).lines().map(id).collect()
        };
        let why = format!("-o {format}: every invocation, once");
        assert_eq!(sorted(&got), sorted(&all), "{why}");
        // Not before the command itself turned Success (round 13).
        let ended = fake.count(LIST_COMMANDS);
        assert!(
            ended >= 13,
            "-o {format}: the wait ended in round {ended} (the command is InProgress until 13)"
        );
        assert_get_once_each(&fake, &all, &out);
        assert_plain_listings(&fake);
        assert_round_budget(&fake, &timeline);
    }
}

#[test]
fn a_listing_behind_the_counts_does_not_end_the_wait_early() {
    for (what, timeline, listed_in) in [
        // ListCommands says Success with 60 of 60 completed from round 5, but the listing (and
        // GetCommandInvocation) show each node as it was 4 rounds earlier: all 60 terminal in
        // the listing only from round 9.
        (
            "counts running ahead",
            scrambled_timeline(60, 7, |i, m| m.succeeds_at(2 + i % 4)).listing_lag(4),
            9,
        ),
        // TargetCount 3 from round 1, all three done by round 3 (command Success), but the
        // third node is listed only from round 6.
        (
            "a target counted before it is listed",
            Timeline::new(vec![
                Member::new(fleet_instance_id(0)).succeeds_at(2),
                Member::new(fleet_instance_id(1)).succeeds_at(3),
                Member::new(fleet_instance_id(2))
                    .listed_at(6)
                    .succeeds_at(3),
            ]),
            6,
        ),
    ] {
        let (fake, out) = waited(&timeline, 0, "-o json --timeout 10s");
        assert_json_of(&fake, &out, &timeline, &timeline.instance_ids());
        let ended = fake.count(LIST_COMMANDS);
        assert!(
            ended >= listed_in,
            "{what}: ended in round {ended}, before the listing showed all (round {listed_in})"
        );
    }
}

// --- Faults while listing ------------------------------------------------------------------------

/// 120 nodes (three pages), half done in round 3, the rest in round 6.
fn two_waves() -> Timeline {
    scrambled_timeline(120, 7, |i, m| m.succeeds_at(if i % 2 == 0 { 3 } else { 6 }))
}

#[test]
fn a_throttled_page_mid_round_loses_and_duplicates_nothing() {
    let timeline = two_waves().fail_list_page(6, 2, vec![Step::throttled()]);
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, took) = run_fleet(&fake, &[("AWS_MAX_ATTEMPTS", "2")], "-o json");
    assert_exit(&out, 0);
    let faulted = fake.calls().iter().filter(|c| c.faulted).count();
    let why = "the throttled page was asked for in round 6";
    check_eq!(out, faulted, 1, "{why}");
    // Each invocation once.
    assert_json_of(&fake, &out, &timeline, &timeline.instance_ids());
    // Round 6: pages 1, 2 (throttled), 2 again with the same token, 3.
    let round6: Vec<Value> = (fake.calls_to(LIST_COMMAND_INVOCATIONS).into_iter())
        .filter(|c| c.round == 6)
        .map(|c| c.body)
        .collect();
    assert_eq!(round6.len(), 4, "listing requests in round 6: {round6:#?}");
    let why = "the throttled page asked for again as it was";
    assert_eq!(round6[1], round6[2], "{why}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_listing_that_fails_after_retries_is_done_again_in_the_next_round() {
    // Both SDK attempts at page 2 in round 6 fail: that poll fails. The counts do not change
    // after round 6, so only a new listing in a later round can see the second wave.
    let timeline = two_waves().fail_list_page(6, 2, vec![Step::throttled(), Step::throttled()]);
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, _) = run_fleet(&fake, &[("AWS_MAX_ATTEMPTS", "2")], "-o json --timeout 12s");
    let faulted = fake.calls().iter().filter(|c| c.faulted).count();
    check_eq!(out, faulted, 2, "page 2 was asked for twice in round 6");
    assert_exit(&out, 0);
    // Each invocation once.
    assert_json_of(&fake, &out, &timeline, &timeline.instance_ids());
}

// --- Mixed terminal states: exit 1, every format -------------------------------------------------

/// Three successes, a failure, an execution time-out and a node never reached.
fn mixed() -> Timeline {
    let member = |i| Member::new(fleet_instance_id(i));
    Timeline::new(vec![
        member(4).ends_at(3, UNDELIVERABLE).output("", ""),
        member(0).succeeds_at(2).output("alpha 1\nalpha 2\n", ""),
        member(1)
            .ends_at(3, FAILED)
            .output("beta: partial\n", "beta: disk full\n"),
        member(5)
            .succeeds_at(4)
            .output(&format!("{}\nzeta end\n", "z".repeat(3_000)), ""),
        member(2)
            .succeeds_at(2)
            .output("gamma\n", "gamma: warning\n"),
        member(3)
            .ends_at(4, EXECUTION_TIMED_OUT)
            .output("delta: started\n", "delta: killed\n"),
    ])
}

#[test]
fn mixed_terminal_states_exit_1_with_each_final_state_in_json() {
    let timeline = mixed();
    let (fake, out) = waited(&timeline, 1, "-o json");
    assert_json_of(&fake, &out, &timeline, &timeline.instance_ids());
    let [statuses, details] = ["Status", "StatusDetails"].map(|k| array_field(&out, k));
    let states: Vec<(&str, &str)> = (statuses.iter().zip(&details))
        .map(|(s, d)| (s.as_str(), d.as_str()))
        .collect();
    let want = [
        SUCCESS,
        FAILED,
        SUCCESS,
        EXECUTION_TIMED_OUT,
        UNDELIVERABLE,
        SUCCESS,
    ];
    assert_eq!(states, want, "states by InstanceId");
}

#[test]
fn mixed_terminal_states_in_a_table_with_totals_from_one_detailed_listing() {
    let timeline = mixed();
    let (fake, out) = waited(&timeline, 1, "-o table");
    let text = stdout_str(&out);
    for m in timeline.members() {
        let (status, details) = m.final_state().unwrap();
        let row = row_of(&text, &m.instance_id);
        let why = format!("row {row:?} shows {status} and {details}\n{text}");
        assert!(row.contains(status) && row.contains(details), "{why}");
    }
    // The totals line, by the most precise word the service gave, Success first.
    assert_totals(
        &text,
        &[
            "3 Success",
            "1 Failed",
            "1 Execution Timed Out",
            "1 Undeliverable",
        ],
    );
    // The table needs no GetCommandInvocation: one detailed listing, after the last poll.
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 0);
    let calls = fake.calls();
    let detailed: Vec<usize> = (calls.iter().enumerate())
        .filter(|(_, c)| c.body["Details"] == json!(true))
        .map(|(i, _)| i)
        .collect();
    let last_list_commands = calls.iter().rposition(|c| c.is(LIST_COMMANDS)).unwrap();
    assert_eq!(detailed.len(), 1, "one detailed listing");
    let why = "the detailed listing comes after the last poll";
    assert!(detailed[0] > last_list_commands, "{why}");
    let last = calls[detailed[0] + 1..]
        .iter()
        .all(|c| !c.is(LIST_COMMAND_INVOCATIONS));
    assert!(last, "and is the last listing");
}

/// The sections of `text` by instance, asserting each header reads `== <instance> · <Status>…==`
/// for a member and names it once.
#[track_caller]
fn sections_by_instance(text: &str, timeline: &Timeline, stream: &str) -> HashMap<String, String> {
    let mut by_instance = HashMap::new();
    for (header, content) in sections(text) {
        let why = format!("{stream}: text before the first header: {content:?}\n{text}");
        assert!(!header.is_empty(), "{why}");
        let m = (timeline.members().iter())
            .find(|m| header.starts_with(&format!("== {} · ", m.instance_id)));
        let m =
            m.unwrap_or_else(|| panic!("{stream}: header {header:?} names no instance\n{text}"));
        let (status, _) = m.final_state().unwrap();
        let why = format!("{stream}: header {header:?} gives the status {status}");
        assert!(header.contains(status), "{why}");
        let twice = by_instance.insert(m.instance_id.clone(), content).is_some();
        let why = format!("{stream}: two sections for {}\n{text}", m.instance_id);
        assert!(!twice, "{why}");
    }
    by_instance
}

#[test]
fn text_puts_each_output_under_a_header_on_its_own_stream() {
    let timeline = mixed();
    let (fake, out) = waited(&timeline, 1, "-o text");
    let (stdout, stderr) = (stdout_str(&out), stderr_str(&out));
    let out_sections = sections_by_instance(&stdout, &timeline, "stdout");
    let err_sections = sections_by_instance(&stderr, &timeline, "stderr");
    for m in timeline.members() {
        // The whole output GetCommandInvocation gives, not the listing's first 2,500 characters.
        let id = &m.instance_id;
        let section = |s: &HashMap<String, String>| s.get(id).cloned().unwrap_or_default();
        let why = format!("stdout of {id} under its header\n{stdout}");
        assert_eq!(section(&out_sections), m.stdout, "{why}");
        let why = format!("stderr of {id} under its header\n{stderr}");
        assert_eq!(section(&err_sections), m.stderr, "{why}");
    }
    assert_get_once_each(&fake, &timeline.instance_ids(), &out);
}

// --- Streaming -----------------------------------------------------------------------------------

#[test]
fn jsonl_streams_each_invocation_as_it_finishes() {
    // Finishing order 3, 0, 2, 1 (not the InstanceId order); the last one only in round 30.
    let order = [(3, 2), (0, 4), (2, 7), (1, 30)];
    let timeline = Timeline::new(
        order
            .iter()
            .map(|(i, end)| Member::new(fleet_instance_id(*i)).succeeds_at(*end))
            .collect(),
    );
    let fake = FakeSsm::with_timeline(timeline.clone());
    let mut run = Spawned::start(&mut fleet_cmd(&fake, &[], "-o jsonl"));
    let first = run.wait_until(Pipe::Out, "a first line", |_| true);
    // The first line is out while the wait goes on: the last node ends only in round 30.
    run.assert_running();
    let round = fake.count(LIST_COMMANDS);
    let why = format!("first line {first:?} came only when the wait ended (round {round})");
    assert!(round < 30, "{why}");
    let out = run.finish().out;
    assert_exit(&out, 0);
    // In finishing order, each the compact GetCommandInvocation object.
    let body = |i| {
        timeline
            .member(&fleet_instance_id(i))
            .unwrap()
            .final_get_body()
    };
    let want: String = order
        .iter()
        .map(|(i, _)| compact(&body(*i)) + "\n")
        .collect();
    assert_eq!(stdout_str(&out), want, "jsonl lines");
    assert_get_once_each(&fake, &timeline.instance_ids(), &out);
}

// --- Calls per round -----------------------------------------------------------------------------

#[test]
fn rounds_where_nothing_changed_cost_one_call() {
    // 120 nodes running from round 2, done in three waves (rounds 3, 9 and 16); in between the
    // counts do not change.
    let timeline = scrambled_timeline(120, 7, |i, m| {
        m.running_at(2).succeeds_at([3, 9, 16][i % 3])
    });
    let (fake, out) = waited(&timeline, 0, "-o json");
    assert_json_of(&fake, &out, &timeline, &timeline.instance_ids());
    let rounds = fake.rounds();
    let mut quiet_rounds = 0;
    for (r, pair) in rounds.windows(2).enumerate().skip(1) {
        let (before, now) = (counts(&pair[0][0]), counts(&pair[1][0]));
        if before.is_some() && before == now {
            quiet_rounds += 1;
            let calls = &pair[1];
            let why = format!(
                "round {}: counts {now:?} as in the round before, yet {calls:#?}",
                r + 1
            );
            assert_eq!(list_calls(calls), 1, "{why}");
        }
    }
    let why = format!("only {quiet_rounds} rounds without change");
    assert!(quiet_rounds >= 8, "{why}");
    // Rounds with a change: the ListCommands call and the three pages, no more.
    for round in [1, 2, 3, 9, 16] {
        let listings = rounds[round]
            .iter()
            .filter(|c| c.is(LIST_COMMAND_INVOCATIONS))
            .count();
        assert_eq!(listings, 3, "round {round} lists all three pages once");
    }
    assert_round_budget(&fake, &timeline);
}

// --- Named sets ----------------------------------------------------------------------------------

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
    // i3 failed and i1 never ends (nor does the command): neither matters to [i2, i0]; i3 does
    // to [i3, i2, i0].
    for (set, code) in [(vec![2, 0], 0), (vec![3, 2, 0], 1)] {
        let timeline = four_nodes();
        let ids: Vec<String> = set.into_iter().map(fleet_instance_id).collect();
        let (fake, out) = waited(&timeline, code, named(&ids, "-o json"));
        assert_json_of(&fake, &out, &timeline, &ids);
    }
}

#[test]
fn a_named_instance_never_listed_exits_3_after_the_grace() {
    let fake = FakeSsm::with_timeline(four_nodes());
    let (i0, stranger) = (fleet_instance_id(0), fleet_instance_id(99));
    let (out, took) = run_fleet(
        &fake,
        &[],
        named(&[i0, stranger.clone()], "--not-found-grace 500ms -o json"),
    );
    assert_exit(&out, 3);
    let err = stderr_str(&out);
    let last = err.lines().last().unwrap_or_default();
    let named = last.starts_with("error:") && last.contains(&stranger);
    assert!(named, "the error names the instance never listed: {err:?}");
    let why = format!("grace 500ms, took {took:?}");
    assert!(took >= Duration::from_millis(500), "{why}");
}

#[test]
fn one_instance_id_keeps_the_single_invocation_wait() {
    // No ListCommands call to count rounds by: they follow the clock.
    let timeline = four_nodes().round_every(Duration::from_millis(100));
    let i0 = fleet_instance_id(0);
    let (fake, out) = waited(&timeline, 0, format!("--instance-id {i0} -o json"));
    let body = timeline.member(&i0).unwrap().final_get_body();
    let why = "one object, as `get` prints it";
    assert_eq!(stdout_str(&out), printed(&body), "{why}");
    check!(
        out,
        fake.calls().iter().all(|c| c.is(GET_COMMAND_INVOCATION))
    );
}

// --- Timeouts, invisible commands, interruption --------------------------------------------------

#[test]
fn timeout_with_a_member_that_never_finishes_exits_4_with_what_finished() {
    let timeline = Timeline::new(vec![
        Member::new(fleet_instance_id(2)).running_at(1),
        Member::new(fleet_instance_id(1)).succeeds_at(3),
        Member::new(fleet_instance_id(0)).succeeds_at(2),
    ]);
    let fake = FakeSsm::with_timeline(timeline.clone());
    let (out, took) = run_fleet(&fake, &[], "--timeout 1s -o json");
    assert_exit(&out, 4);
    let line = assert_single_stderr_line(&out);
    let said = line.starts_with("error: timed out after") && line.contains("2 of 3 finished");
    assert!(said, "stderr: {line:?}");
    let finished = [0, 1].map(fleet_instance_id);
    assert_json_of(&fake, &out, &timeline, &finished);
    let why = format!("--timeout 1s took {took:?}");
    assert!(took >= Duration::from_millis(950), "{why}");
}

#[test]
fn a_command_never_visible_exits_3_after_the_grace() {
    for invalid_id in [false, true] {
        let timeline =
            Timeline::new(vec![Member::new(fleet_instance_id(0)).succeeds_at(1)]).never_visible();
        let timeline = if invalid_id {
            timeline.invisible_as_invalid_command_id()
        } else {
            timeline
        };
        let fake = FakeSsm::with_timeline(timeline);
        let (out, took) = run_fleet(&fake, &[], "--not-found-grace 400ms -o json");
        assert_error(&out, 3);
        let why = format!("InvalidCommandId {invalid_id}: grace 400ms, took {took:?}");
        assert!(took >= Duration::from_millis(400), "{why}");
        let why = "it kept looking during the grace";
        check!(out, fake.count(LIST_COMMANDS) >= 2, "{why}");
        let only = fake.calls().iter().all(|c| c.is(LIST_COMMANDS));
        assert!(only, "nothing to list while the command is not visible");
    }
}

#[test]
fn sigint_during_a_fleet_wait_exits_130() {
    let timeline = Timeline::new(vec![
        Member::new(fleet_instance_id(0)).succeeds_at(2),
        Member::new(fleet_instance_id(1)).running_at(1),
    ]);
    let fake = FakeSsm::with_timeline(timeline);
    let mut run = Spawned::start(&mut fleet_cmd(&fake, &[], "-o json"));
    run.until(
        "a third round",
        fake.wait(|| fake.count(LIST_COMMANDS) >= 3),
    );
    run.interrupt();
}

// --- The fake itself -----------------------------------------------------------------------------

#[test]
fn the_fake_timeline_answers_every_call_from_one_state() {
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
    let list_commands = || fake.call(LIST_COMMANDS, &json!({"CommandId": CMD_ID}));
    let list = || {
        fake.call(
            LIST_COMMAND_INVOCATIONS,
            &json!({"CommandId": CMD_ID, "MaxResults": 50}),
        )
    };
    let get = |i: usize| {
        fake.call(
            GET_COMMAND_INVOCATION,
            &json!({"CommandId": CMD_ID, "InstanceId": fleet_instance_id(i)}),
        )
    };
    // The values of these space-separated keys.
    let fields =
        |v: &Value, keys: &str| -> Vec<Value> { keys.split(' ').map(|k| v[k].clone()).collect() };
    let command = |body: &Value, keys| fields(&body["Commands"][0], keys);
    // Round 1: not visible.
    assert_eq!(list_commands(), (200, json!({"Commands": []})));
    assert_eq!(list(), (200, json!({"CommandInvocations": []})));
    assert_eq!(get(0).0, 400);
    // Round 2: i0 Pending; i1 targeted, not listed.
    let (status, body) = list_commands();
    assert_eq!(status, 200);
    let want = [json!("Pending"), json!(2), json!(0)];
    assert_eq!(command(&body, "Status TargetCount CompletedCount"), want);
    let (_, page) = list();
    let listed = page["CommandInvocations"].as_array().unwrap();
    assert_eq!((listed.len(), &listed[0]["Status"]), (1, &json!("Pending")));
    assert!(listed[0].get("CommandPlugins").is_none());
    assert_eq!(get(1).1["__type"], "InvocationDoesNotExist");
    // Round 3: i0 Undeliverable, i1 running; the first listing request is throttled.
    let (_, body) = list_commands();
    let want = [json!("InProgress"), json!(1)];
    assert_eq!(command(&body, "Status CompletedCount"), want);
    assert_eq!(list().1["__type"], "ThrottlingException");
    assert_eq!(list().1["CommandInvocations"].as_array().unwrap().len(), 2);
    let (status, g0) = get(0);
    assert_eq!(status, 200);
    let want = [json!("Failed"), json!("Undeliverable"), json!(-1)];
    assert_eq!(fields(&g0, "Status StatusDetails ResponseCode"), want);
    assert_eq!(get(1).1["Status"], "InProgress");
    // Round 4: all done, the command Failed.
    let (_, body) = list_commands();
    let want = [json!("Failed"), json!(2), json!(0)];
    assert_eq!(command(&body, "Status CompletedCount ErrorCount"), want);
    let (_, g1) = get(1);
    assert_eq!(
        g1["StandardOutputContent"],
        format!("hello from {}\n", fleet_instance_id(1))
    );
    assert_eq!(g1["InstanceId"], fleet_instance_id(1));

    assert_eq!(fake.calls().iter().filter(|c| c.faulted).count(), 1);
    let rounds = fake.rounds();
    assert_eq!(rounds.len(), 5);
    let kinds = |calls: &[Call]| {
        [
            LIST_COMMANDS,
            LIST_COMMAND_INVOCATIONS,
            GET_COMMAND_INVOCATION,
        ]
        .map(|t| calls.iter().filter(|c| c.is(t)).count())
    };
    assert_eq!(kinds(&rounds[3]), [1, 2, 2]);
    assert_eq!(counts(&rounds[4][0]), Some(("Failed".into(), 2, 2)));
    let gets_of_i0 = fake
        .calls_to(GET_COMMAND_INVOCATION)
        .iter()
        .filter(|c| c.instance_id() == Some(&fleet_instance_id(0)))
        .count();
    assert_eq!(gets_of_i0, 2);
}
