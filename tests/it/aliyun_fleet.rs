//! `ssmres --provider aliyun wait` on several instances, in rounds against the scripted ECS
//! endpoint ([`FakeEcs`], which checks the signature of every call): each round reads the
//! states alone (one DescribeInvocations call, no output), and each instance's output is
//! fetched once, when it has ended (DescribeInvocationResults for that instance). What a wait
//! costs is asserted from what the endpoint counted.
//!
//! The output it has always printed is kept byte for byte: golden files under
//! `tests/golden/aliyun_wait/`, captured from the binary before fleet waits moved to rounds.
//! Set `SSMRES_BLESS=1` to write them from the binary under test instead of comparing with
//! them: only ever done with a binary whose output is the reference.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::fake_ecs::{
    ACTION, DESCRIBE_ACTION, FakeEcs, Fault, INVOKE_ID, Instance, Invocation, World, instance_id,
};
use crate::support::{
    Cli, FAST_POLL, assert_exit, check, check_eq, stderr_str, stdout_json, stdout_str, warnings,
};

// --- Helpers -------------------------------------------------------------------------------------

/// `ssmres --provider aliyun wait --invoke-id INVOKE_ID <fast polling> EXTRA` against `fake`.
fn wait(fake: &FakeEcs, extra: &str) -> Output {
    let fast = FAST_POLL.join(" ");
    Cli::new(&fake.url()).run_ali(format!("wait --invoke-id {INVOKE_ID} {fast} {extra}"))
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/aliyun_wait")
        .join(name)
}

/// What a golden file holds: the exit code, the `warning:` lines of stderr, then stdout.
fn as_golden(out: &Output) -> String {
    let mut text = format!("exit {}\n", out.status.code().unwrap_or(-1));
    for w in warnings(out) {
        text.push_str(&w);
        text.push('\n');
    }
    text.push_str("--- stdout ---\n");
    text.push_str(&stdout_str(out));
    text
}

/// Compares the run with its golden file (or writes it with `SSMRES_BLESS=1`).
#[track_caller]
fn assert_golden(name: &str, out: &Output) {
    let path = golden_path(name);
    let got = as_golden(out);
    if std::env::var_os("SSMRES_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (SSMRES_BLESS=1 writes it)", path.display()));
    check_eq!(out, got, want, "{name}: not what the binary printed before");
}

// --- Worlds --------------------------------------------------------------------------------------

/// Three instances finishing in rounds 3 to 5: one fails with exit 2, one's output is cut by
/// the service and not valid UTF-8.
fn mixed() -> World {
    World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Pending"), (2, "Running"), (4, "Success")]),
        Instance::failed(instance_id(2), 2)
            .timeline(&[(1, "Pending"), (2, "Running"), (5, "Failed")])
            .output("step 1 ok\nstep 2: boom\n"),
        Instance::new(instance_id(3))
            .timeline(&[(1, "Running"), (3, "Success")])
            .output(b"caf\xe9 au lait\n")
            .dropped(120)
            .oss_output_uri("oss://ssmres-test/output/i-3.txt"),
    ])
}

/// 120 instances (three pages of results) finishing over six rounds, three of them failing.
fn many() -> World {
    World::single((0..120).map(|i| {
        let done = 1 + i % 6;
        let instance = match i % 40 {
            7 => Instance::failed(instance_id(i), 1),
            _ => Instance::new(instance_id(i)),
        };
        let last = if i % 40 == 7 { "Failed" } else { "Success" };
        instance.timeline(&[(1, "Running"), (done, last)])
    }))
}

/// Four instances; the second and the fourth are waited for.
fn four() -> World {
    World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running")]),
        Instance::new(instance_id(2)).timeline(&[(1, "Pending"), (3, "Success")]),
        Instance::new(instance_id(3)),
        Instance::failed(instance_id(4), 3).timeline(&[(1, "Running"), (2, "Failed")]),
    ])
}

/// A periodic task between two runs on one instance, still running on the other.
fn periodic() -> World {
    World::single([
        Instance::new(instance_id(1))
            .timeline(&[(1, "Running"), (2, "Scheduled")])
            .repeats(1),
        Instance::new(instance_id(2)).timeline(&[(1, "Running")]),
    ])
}

/// One instance never finishes.
fn stuck() -> World {
    World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running")]),
        Instance::new(instance_id(2)),
    ])
}

// --- The output of before ------------------------------------------------------------------------

#[test]
fn a_fleet_prints_what_it_printed_before_in_every_whole_output_mode() {
    for (format, name) in [
        ("json", "mixed.json"),
        ("table", "mixed.table"),
        ("text", "mixed.text"),
    ] {
        let fake = FakeEcs::start(mixed());
        let out = wait(&fake, &format!("-o {format}"));
        assert_exit(&out, 1);
        assert_golden(name, &out);
    }
    let fake = FakeEcs::start(many());
    let out = wait(&fake, "-o json");
    assert_exit(&out, 1);
    assert_golden("many.json", &out);
    let fake = FakeEcs::start(many());
    let out = wait(&fake, "--remote-exit-code -o json");
    assert_exit(&out, 1);
}

#[test]
fn named_instances_print_what_they_printed_before() {
    let named = format!(
        "--instance-id {} --instance-id {}",
        instance_id(4),
        instance_id(2)
    );
    for (format, name) in [("json", "named.json"), ("table", "named.table")] {
        let fake = FakeEcs::start(four());
        let out = wait(&fake, &format!("{named} -o {format}"));
        assert_exit(&out, 1);
        assert_golden(name, &out);
    }
}

#[test]
fn a_periodic_task_and_a_timeout_print_what_they_printed_before() {
    let fake = FakeEcs::start(periodic());
    let out = wait(&fake, "-o json");
    assert_exit(&out, 2);
    assert_golden("periodic.json", &out);

    let fake = FakeEcs::start(stuck());
    let out = wait(&fake, "--timeout 1s -o json");
    assert_exit(&out, 4);
    assert_golden("timeout.json", &out);
}

// --- What a wait costs ---------------------------------------------------------------------------

/// Asserts every request passed the fake's checks, the signature first: none was refused.
#[track_caller]
fn assert_all_signed(fake: &FakeEcs, out: &Output) {
    let refused: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.call.is_none())
        .collect();
    check!(out, refused.is_empty(), "requests refused: {refused:#?}");
}

/// Asserts the rounds read states only, and each instance in `ids` had its output sent once,
/// by a DescribeInvocationResults call for it alone; no other output was sent.
#[track_caller]
fn assert_each_output_once(fake: &FakeEcs, out: &Output, ids: &[String]) {
    for call in fake.calls_of(DESCRIBE_ACTION) {
        let why = format!("{:?}", call.params);
        check_eq!(out, call.param("IncludeOutput"), Some("false"), "{why}");
        check_eq!(out, call.param("InvokeId"), Some(INVOKE_ID), "{why}");
    }
    for call in fake.calls_of(ACTION) {
        let why = format!("a result read for one instance: {:?}", call.params);
        check!(out, call.param("InstanceId").is_some(), "{why}");
    }
    let want: BTreeMap<String, usize> = ids.iter().map(|id| (id.clone(), 1)).collect();
    check_eq!(
        out,
        fake.outputs_served(),
        want,
        "outputs sent, by instance"
    );
    let fetched = fake.calls_of(ACTION).len();
    check_eq!(
        out,
        fetched,
        ids.len(),
        "one DescribeInvocationResults per result"
    );
}

/// The instance IDs of `-o jsonl` lines, in the order printed.
fn line_ids(out: &Output) -> Vec<String> {
    stdout_str(out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .map(|v| v["InstanceId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `.Invocation.InvocationResults.InvocationResult[].InstanceId` of `-o json`.
fn printed_ids(out: &Output) -> Vec<String> {
    let results = &stdout_json(out)["Invocation"]["InvocationResults"]["InvocationResult"];
    let results = results.as_array().cloned().unwrap_or_default();
    results
        .iter()
        .map(|r| r["InstanceId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// 30 instances ending over rounds 2 to 11, in an order unlike the listing's; two fail.
fn finishing_over_time() -> (World, Vec<(String, usize)>) {
    let mut ends = Vec::new();
    let instances = (0..30).map(|i| {
        let id = instance_id(i);
        let end = 2 + (i * 7) % 10;
        ends.push((id.clone(), end));
        let instance = match i {
            4 | 17 => Instance::failed(id, 1),
            _ => Instance::new(id),
        };
        let last = if matches!(i, 4 | 17) {
            "Failed"
        } else {
            "Success"
        };
        instance.timeline(&[(1, "Running"), (end, last)])
    });
    (World::single(instances.collect::<Vec<_>>()), ends)
}

#[test]
fn a_fleet_ending_over_time_reads_states_each_round_and_each_output_once() {
    let (world, ends) = finishing_over_time();
    let ids: Vec<String> = ends.iter().map(|(id, _)| id.clone()).collect();
    let end_of: BTreeMap<&str, usize> = ends.iter().map(|(id, e)| (id.as_str(), *e)).collect();

    let fake = FakeEcs::start(world.clone());
    let out = wait(&fake, "-o jsonl");
    assert_exit(&out, 1);
    assert_all_signed(&fake, &out);
    assert_each_output_once(&fake, &out, &ids);
    check_eq!(
        out,
        fake.calls_of(DESCRIBE_ACTION).len(),
        fake.rounds(),
        "one call a round"
    );
    // Each line as its instance ended: in the order of the rounds that saw them end.
    let printed = line_ids(&out);
    let mut sorted = printed.clone();
    sorted.sort();
    check_eq!(out, sorted, ids, "one line per instance");
    let rounds: Vec<usize> = printed.iter().map(|id| end_of[id.as_str()]).collect();
    check!(
        out,
        rounds.is_sorted(),
        "lines in finishing order: {rounds:?}"
    );

    // -o json: one document in the service's order, as before.
    let fake = FakeEcs::start(world);
    let out = wait(&fake, "-o json");
    assert_exit(&out, 1);
    assert_each_output_once(&fake, &out, &ids);
    check_eq!(out, printed_ids(&out), ids);
    let document = stdout_json(&out);
    check_eq!(out, document["Invocation"]["TotalCount"], 30);
    // InvokeRecordStatus is the invocation's state at the end in every result, as one look
    // at the end shows it, though most were fetched while others still ran.
    let results = document["Invocation"]["InvocationResults"]["InvocationResult"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for r in &results {
        check_eq!(out, r["InvokeRecordStatus"], "PartialFailed", "{r:#}");
    }
}

#[test]
fn a_quiet_round_is_one_call_and_no_output() {
    // Nothing changes for eight rounds, then everything ends.
    let world = World::single(
        (0..20).map(|i| Instance::new(instance_id(i)).timeline(&[(1, "Running"), (9, "Success")])),
    );
    let fake = FakeEcs::start(world);
    let out = wait(&fake, "-o json");
    assert_exit(&out, 0);
    let ids: Vec<String> = (0..20).map(instance_id).collect();
    assert_each_output_once(&fake, &out, &ids);
    let calls = fake.calls();
    let first_fetch = calls.iter().position(|c| c.param("Action") == Some(ACTION));
    let quiet = &calls[..first_fetch.unwrap_or(calls.len())];
    check_eq!(
        out,
        quiet.len(),
        9,
        "rounds 1 to 9, one call each, before any result"
    );
    check!(
        out,
        quiet
            .iter()
            .all(|c| c.param("Action") == Some(DESCRIBE_ACTION))
    );
    // A state costs a few hundred bytes; an output is never in it.
    let per_round = fake.bytes_of(DESCRIBE_ACTION) / fake.rounds();
    check!(
        out,
        per_round < 20 * 800,
        "{per_round} bytes a round for 20 states"
    );
}

#[test]
fn instances_listed_late_are_waited_for() {
    // The invocation lists its instances over time; the overall state says it is not over.
    let world = World::single([
        Instance::new(instance_id(1)),
        Instance::new(instance_id(2))
            .visible_from(3)
            .timeline(&[(3, "Running"), (4, "Success")]),
        Instance::new(instance_id(3))
            .visible_from(5)
            .timeline(&[(5, "Running"), (7, "Success")]),
    ]);
    let fake = FakeEcs::start(world);
    let out = wait(&fake, "-o json");
    assert_exit(&out, 0);
    let ids: Vec<String> = (1..=3).map(instance_id).collect();
    check_eq!(out, printed_ids(&out), ids);
    check_eq!(
        out,
        fake.rounds(),
        7,
        "ends in the round the last one ended"
    );
    assert_each_output_once(&fake, &out, &ids);
    assert_all_signed(&fake, &out);

    // Not listed at all for three rounds: "not visible yet", within the grace.
    let late = Invocation::new(INVOKE_ID).instances([
        Instance::new(instance_id(1)).visible_from(4),
        Instance::new(instance_id(2)).visible_from(4),
    ]);
    let fake = FakeEcs::start(World::new().invocation(late));
    let out = wait(&fake, "-o json");
    assert_exit(&out, 0);
    check_eq!(out, fake.rounds(), 4);
    check_eq!(out, printed_ids(&out), [instance_id(1), instance_id(2)]);
}

#[test]
fn a_throttled_round_and_a_throttled_fetch_are_ridden_out() {
    let world = World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running"), (3, "Success")]),
        Instance::new(instance_id(2)).timeline(&[(1, "Running"), (5, "Success")]),
    ]);
    // Round 2 fails all five attempts of its call (one failed poll); the first result fetch is
    // throttled once (retried within the call).
    let world = world
        .fail_nths(DESCRIBE_ACTION, 2..=6, Fault::throttling())
        .fail_nth(ACTION, 1, Fault::throttling());
    let fake = FakeEcs::start(world);
    let started = Instant::now();
    let out = wait(&fake, "-o json");
    assert_exit(&out, 0);
    check!(
        out,
        started.elapsed() < Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
    let ids: Vec<String> = (1..=2).map(instance_id).collect();
    check_eq!(out, printed_ids(&out), ids);
    check_eq!(out, fake.outputs_served().values().sum::<usize>(), 2);
    let throttled = fake
        .calls()
        .iter()
        .filter(|c| c.status == Some(400))
        .count();
    check_eq!(out, throttled, 6);
    assert_all_signed(&fake, &out);
}

#[test]
fn a_failed_instance_exits_1_or_with_its_own_code() {
    let world = || {
        World::single([
            Instance::new(instance_id(1)).timeline(&[(1, "Running"), (2, "Success")]),
            Instance::failed(instance_id(2), 7).timeline(&[(1, "Running"), (3, "Failed")]),
            Instance::new(instance_id(3)),
        ])
    };
    let fake = FakeEcs::start(world());
    let out = wait(&fake, "-o json");
    assert_exit(&out, 1);
    let ids: Vec<String> = (1..=3).map(instance_id).collect();
    assert_each_output_once(&fake, &out, &ids);
    let fake = FakeEcs::start(world());
    let out = wait(&fake, "--remote-exit-code -o table");
    assert_exit(&out, 7);
    let table = stdout_str(&out);
    check!(out, table.contains("2 Success, 1 Failed"));
    check!(
        out,
        table.contains(&format!("── {} · output ──", instance_id(2)))
    );
}

#[test]
fn named_instances_alone_are_waited_for_and_fetched() {
    let (a, b, c) = (instance_id(1), instance_id(2), instance_id(3));
    let world = World::single([
        Instance::new(a.clone()).timeline(&[(1, "Running"), (4, "Success")]),
        Instance::new(b.clone()).timeline(&[(1, "Running")]),
        Instance::failed(c.clone(), 2).timeline(&[(1, "Running"), (2, "Failed")]),
    ]);
    let fake = FakeEcs::start(world);
    let out = wait(
        &fake,
        &format!("--instance-id {c} --instance-id {a} -o jsonl"),
    );
    assert_exit(&out, 1);
    check_eq!(out, line_ids(&out), [c.clone(), a.clone()], "as each ended");
    check_eq!(
        out,
        fake.rounds(),
        4,
        "the unnamed one, still running, is not waited for"
    );
    assert_each_output_once(&fake, &out, &[a, c]);
    assert_all_signed(&fake, &out);
}

#[test]
fn a_periodic_task_ends_the_wait_with_exit_2_once_it_shows_scheduled() {
    // Its run in progress is waited for; Scheduled ends the wait. The other instance ended
    // early: its line is printed once, when it ended.
    let world = World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running"), (2, "Success")]),
        Instance::new(instance_id(2))
            .timeline(&[(1, "Running"), (4, "Scheduled")])
            .repeats(3),
    ]);
    let fake = FakeEcs::start(world);
    let out = wait(&fake, "-o jsonl");
    assert_exit(&out, 2);
    check_eq!(out, line_ids(&out), [instance_id(1), instance_id(2)]);
    check_eq!(out, fake.rounds(), 4, "no round after Scheduled was seen");
    let err = stderr_str(&out);
    check!(out, err.contains("periodic task (Scheduled on"), "{err}");
    check!(out, err.contains("3 runs so far"), "{err}");
    // Fetched when it ended, and read once more by the one look that prints every instance's
    // latest state at the end, as before.
    check_eq!(out, fake.outputs_served().get(&instance_id(1)), Some(&2));
    let full_reads = fake
        .calls_of(ACTION)
        .iter()
        .filter(|c| c.param("InstanceId").is_none())
        .count();
    check_eq!(out, full_reads, 1);
    assert_all_signed(&fake, &out);
}

#[test]
fn a_task_that_runs_on_every_boot_ends_the_wait_once_its_instances_have_ended() {
    // Overall "Running" for ever, as the reference says of such a task; its instances end.
    let world = World::new().invocation(Invocation::new(INVOKE_ID).every_reboot().instances([
        Instance::new(instance_id(1)).timeline(&[(1, "Running"), (2, "Success")]),
        Instance::new(instance_id(2)).timeline(&[(1, "Running"), (3, "Success")]),
    ]));
    let fake = FakeEcs::start(world);
    let out = wait(&fake, "-o jsonl --timeout 60s");
    assert_exit(&out, 0);
    check_eq!(out, line_ids(&out), [instance_id(1), instance_id(2)]);
    assert_all_signed(&fake, &out);
}

#[test]
fn a_result_that_cannot_be_read_ends_the_wait_at_once_not_when_the_fleet_ends() {
    // The first result fetch is refused; the other instance runs for ever.
    let world = World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running"), (2, "Success")]),
        Instance::new(instance_id(2)).timeline(&[(1, "Running")]),
    ])
    .fail_nth(
        ACTION,
        1,
        Fault::Error(403, "Forbidden.RAM".into(), "not allowed".into()),
    );
    let fake = FakeEcs::start(world);
    let started = std::time::Instant::now();
    let out = wait(&fake, "-o json --timeout 120s");
    let took = started.elapsed();
    assert_exit(&out, 3);
    check!(out, stderr_str(&out).contains("Forbidden.RAM"));
    check!(
        out,
        took < std::time::Duration::from_secs(60),
        "took {took:?}"
    );
}

#[test]
fn timeout_prints_what_ended_then_the_rest_as_last_seen_and_exits_4() {
    let world = World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running"), (2, "Success")]),
        Instance::new(instance_id(2)).timeline(&[(1, "Running")]),
    ]);
    let fake = FakeEcs::start(world);
    let started = Instant::now();
    let out = wait(&fake, "--timeout 2s -o jsonl");
    let took = started.elapsed();
    assert_exit(&out, 4);
    check!(out, took >= Duration::from_secs(2), "{took:?}");
    check!(out, took < Duration::from_secs(20), "{took:?}");
    check_eq!(out, line_ids(&out), [instance_id(1), instance_id(2)]);
    let last = stderr_str(&out)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    check!(out, last.starts_with("error: timed out after 2s"), "{last}");
    assert_all_signed(&fake, &out);
}

// --- The fake's DescribeInvocations ----------------------------------------------------------------

#[test]
fn fake_describes_states_without_outputs_unless_asked_and_pages_invocations() {
    let instance = |i| Instance::new(instance_id(i)).timeline(&[(1, "Running"), (2, "Success")]);
    let world = World::new()
        .invocation(Invocation::new(INVOKE_ID).instances([instance(1), instance(2)]))
        .invocation(Invocation::new("t-hz0jdfwd9f0002").instance(instance(3)))
        .invocation(Invocation::new("t-hz0jdfwd9f0003").instance(instance(4)));
    let fake = FakeEcs::start(world);
    let states = |body: &Value| -> Vec<(String, String, Option<String>)> {
        let invocations = body["Invocations"]["Invocation"].as_array().cloned();
        let instances = invocations.unwrap_or_default().into_iter().flat_map(|inv| {
            inv["InvokeInstances"]["InvokeInstance"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        });
        instances
            .map(|i| {
                let text = |k: &str| i[k].as_str().map(str::to_owned);
                (
                    text("InstanceId").unwrap(),
                    text("InvocationStatus").unwrap(),
                    text("Output"),
                )
            })
            .collect()
    };
    // Round 1: running, no output field.
    let (status, body) = fake.call_as(DESCRIBE_ACTION, &[("InvokeId", INVOKE_ID)]);
    assert_eq!(status, 200, "{body:#}");
    let want = [
        (instance_id(1), "Running".into(), None),
        (instance_id(2), "Running".into(), None),
    ];
    assert_eq!(states(&body), want);
    assert_eq!(
        body["Invocations"]["Invocation"][0]["InvocationStatus"],
        "Running"
    );
    // Round 2: over; with IncludeOutput, the output (Base64 by default).
    let ask = [("InvokeId", INVOKE_ID), ("IncludeOutput", "true")];
    let (_, body) = fake.call_as(DESCRIBE_ACTION, &ask);
    let got = states(&body);
    assert_eq!(got[0].1, "Success");
    assert_eq!(
        got[0].2.as_deref(),
        Some("aGVsbG8gZnJvbSBpLWJwMTAwMDAwMDAwMDAwMDAwMDAxCg==")
    );
    assert_eq!(
        body["Invocations"]["Invocation"][0]["InvocationStatus"],
        "Success"
    );
    // A result read after a DescribeInvocations call does not move the world.
    let (_, _) = fake.call(&[("InvokeId", INVOKE_ID), ("InstanceId", &instance_id(1))]);
    assert_eq!(fake.rounds(), 2);
    // Paging: the invocations, MaxResults at a time, with a token tied to the query.
    let (_, first) = fake.call_as(DESCRIBE_ACTION, &[("MaxResults", "2")]);
    assert_eq!(first["TotalCount"], 3);
    assert_eq!(
        first["Invocations"]["Invocation"].as_array().map(Vec::len),
        Some(2)
    );
    let token = first["NextToken"].as_str().unwrap().to_owned();
    let (_, second) = fake.call_as(
        DESCRIBE_ACTION,
        &[("MaxResults", "2"), ("NextToken", &token)],
    );
    assert_eq!(
        second["Invocations"]["Invocation"][0]["InvokeId"],
        "t-hz0jdfwd9f0003"
    );
    assert_eq!(second["NextToken"], "");
    let (status, _) = fake.call(&[("NextToken", &token)]);
    assert_eq!(status, 400, "a token of one action is not another's");
    // IncludeOutput needs an invocation or an instance to narrow it down.
    let (status, body) = fake.call_as(DESCRIBE_ACTION, &[("IncludeOutput", "true")]);
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("MissingParameter"))
    );
    // Outputs and bytes are counted.
    assert_eq!(fake.outputs_served().get(&instance_id(1)), Some(&2));
    assert!(fake.bytes_of(DESCRIBE_ACTION) > 0);
}

#[test]
fn fake_faults_the_nth_call_of_an_action() {
    let world = World::single([Instance::new(instance_id(1))]).fail_nth(
        DESCRIBE_ACTION,
        2,
        Fault::throttling(),
    );
    let fake = FakeEcs::start(world);
    let describe = || fake.call_as(DESCRIBE_ACTION, &[("InvokeId", INVOKE_ID)]).0;
    assert_eq!(fake.call(&[("InvokeId", INVOKE_ID)]).0, 200);
    assert_eq!(describe(), 200);
    assert_eq!(fake.call(&[("InvokeId", INVOKE_ID)]).0, 200);
    assert_eq!(describe(), 400);
    assert_eq!(describe(), 200);
}
