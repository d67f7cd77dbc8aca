//! `ssmres task-invocations`: a maintenance window execution's task invocations, against the
//! scripted maintenance-window world of `crate::support::fake_mw`.
//!
//! What a user notices: stdout bytes (JSON exactly as the aws CLI prints it), exit codes, one
//! `error:` line on stderr; and what the service sees: the JSON sent on the wire, the number of
//! calls, which task is listed in which round of a wait.

use std::collections::HashMap;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::fake_mw::{
    AUTOMATION, CmdInstance, DESCRIBE_INVOCATIONS, DESCRIBE_TASKS, FakeMw, GET_COMMAND_INVOCATION,
    GET_WINDOW_EXECUTION, LAMBDA, LIST_COMMAND_INVOCATIONS, MwInvocation, MwTask, MwWorld,
    RUN_COMMAND, WINDOW_EXECUTION_ID, WINDOW_TARGET_ID, command_id, instance_for, invocation_id,
    task_execution_id,
};
use crate::support::fake_ssm::{Call, Step, fleet_instance_id};
use crate::support::{
    Args, Cli, Spawned, args, array_field, assert_error, assert_exit, assert_output,
    assert_rejected, assert_same_lines, assert_single_stderr_line, botocore_iso, check, check_eq,
    printed, printed_array, printed_lines, row_of, run, sections, stderr_str, stdout_json,
    stdout_str,
};

// --- Helpers -------------------------------------------------------------------------------------

/// Fast polling so wait tests finish quickly.
const FAST: &str = "--min-interval 10ms --max-interval 50ms";

/// `task-invocations --window-execution-id <window>`.
fn on_window(window: &str) -> String {
    format!("task-invocations --window-execution-id {window}")
}

/// Runs `ssmres task-invocations --window-execution-id WINDOW_EXECUTION_ID ARGS` against `fake`
/// with `TZ` set to `tz`.
fn run_tz(fake: &FakeMw, tz: &str, args: impl Args) -> Output {
    let mut cmd = Cli::new(&fake.url()).cmd();
    let words = [on_window(WINDOW_EXECUTION_ID).words(), args.words()].concat();
    run(cmd.env("TZ", tz).args(words))
}

/// The same with `TZ=UTC`.
fn run_utc(fake: &FakeMw, args: impl Args) -> Output {
    run_tz(fake, "UTC", args)
}

/// Starts a fake for `world`, runs with `args` (`TZ=UTC`) and asserts exit 0.
#[track_caller]
fn run_ok(world: &MwWorld, args: impl Args) -> (FakeMw, Output) {
    let fake = FakeMw::start(world.clone());
    let out = run_utc(&fake, args);
    assert_exit(&out, 0);
    (fake, out)
}

/// Starts a fake for `world`, waits ([`run_wait`]) and asserts the exit code.
#[track_caller]
fn waited(world: &MwWorld, args: impl Args, code: i32) -> (FakeMw, Output) {
    let fake = FakeMw::start(world.clone());
    let (out, _) = run_wait(&fake, args);
    assert_exit(&out, code);
    (fake, out)
}

/// Asserts the wait ended in round `n`.
#[track_caller]
fn assert_round(fake: &FakeMw, n: usize) {
    let why = format!("the round it ended in: {:#?}", fake.calls());
    assert_eq!(fake.round(), n, "{why}");
}

/// [`run_utc`] with `--wait` and fast polling; how long it took.
fn run_wait(fake: &FakeMw, args: impl Args) -> (Output, Duration) {
    let started = Instant::now();
    let words = [format!("--wait {FAST}").words(), args.words()].concat();
    let out = run_utc(fake, words);
    (out, started.elapsed())
}

/// An identity as the fake sent it, as `-o json` prints it with `TZ=UTC` (values only; key
/// order comes from [`pretty`]).
fn as_printed(identity: &Value) -> Value {
    let mut v = identity.clone();
    for key in ["StartTime", "EndTime"] {
        if let Some(t) = v.get(key).and_then(Value::as_f64) {
            v[key] = json!(botocore_iso(t, 0));
        }
    }
    v
}

fn printed_all(identities: &[Value]) -> Vec<Value> {
    identities.iter().map(as_printed).collect()
}

fn ids_of(identities: &[Value]) -> Vec<String> {
    identities
        .iter()
        .map(|v| v["InvocationId"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts stdout is exactly `-o json` of these identities (as the fake sent them).
#[track_caller]
fn assert_json_exactly(out: &Output, identities: &[Value]) {
    let want = printed_array(&printed_all(identities));
    if out.stdout != want.as_bytes() {
        let printed = array_field(out, "InvocationId");
        let why = "invocations printed, in order";
        check_eq!(out, printed, ids_of(identities), "{why}");
        assert_same_lines(&out.stdout, want.as_bytes(), "-o json");
    }
}

/// Asserts `calls` walked the pages of one listing: the first without a NextToken, each later
/// one with the token of the one before, the bodies `base` plus `MaxResults` (one entry per
/// call) and `NextToken`, all answered; the last answer carried a token (or an empty one) only
/// when `more` exist.
#[track_caller]
fn assert_walked(calls: &[Call], base: &Value, max_results: &[u64], more: bool) {
    let bodies: Vec<&Value> = calls.iter().map(|c| &c.body).collect();
    let why = format!("one call per page: {bodies:#?}");
    assert_eq!(calls.len(), max_results.len(), "{why}");
    let mut token: Option<String> = None;
    for (i, (call, max)) in calls.iter().zip(max_results).enumerate() {
        let mut want = base.clone();
        want["MaxResults"] = json!(max);
        if let Some(t) = &token {
            want["NextToken"] = json!(t);
        }
        assert_eq!((&call.body, call.status), (&want, 200), "call #{}", i + 1);
        token = call.next_token.clone().filter(|t| !t.is_empty());
    }
    let why = "a NextToken on the last page: more exist";
    assert_eq!(token.is_some(), more, "{why}");
}

/// The body of a task's invocation listing.
fn listing(task: &str) -> Value {
    json!({"WindowExecutionId": WINDOW_EXECUTION_ID, "TaskId": task})
}

/// The body of a task's invocation listing, with `more` members.
fn listing_body(task: &str, more: Value) -> Value {
    merged(listing(task), more)
}

/// `base` with the members of `more` added.
fn merged(mut base: Value, more: Value) -> Value {
    let more = more.as_object().unwrap().clone();
    base.as_object_mut().unwrap().extend(more);
    base
}

/// The body of the tasks listing (and of GetMaintenanceWindowExecution).
fn tasks_body() -> Value {
    json!({"WindowExecutionId": WINDOW_EXECUTION_ID})
}

/// One RUN_COMMAND task (task 0) with `n` invocations, all SUCCESS.
fn one_task(n: usize) -> MwWorld {
    MwWorld::new(vec![MwTask::run_command(0).invocations(n)])
}

/// Asserts what every round of a wait costs and in which order. With `window` (no --task-id):
/// GetMaintenanceWindowExecution first (one answered, SDK retries aside), then every page of
/// DescribeMaintenanceWindowExecutionTasks, then the invocation listings; without: no Get, the
/// round starts with the tasks listing. Nothing before the first round; no invocation listing
/// carries Filters or another page size. The last round may have been cut short by --timeout.
#[track_caller]
fn assert_wait_rounds(fake: &FakeMw, window: bool) {
    let rounds = fake.rounds();
    let why = format!("calls before the first round: {:#?}", rounds[0]);
    assert!(rounds[0].is_empty(), "{why}");
    let last = rounds.len() - 1;
    let first = if window {
        GET_WINDOW_EXECUTION
    } else {
        DESCRIBE_TASKS
    };
    // Where a call comes in a round: the window's status, the tasks, their invocations, then
    // (after the last round) the commands' output.
    let phases = [GET_WINDOW_EXECUTION, DESCRIBE_TASKS, DESCRIBE_INVOCATIONS];
    let phase = |t: &str| phases.iter().position(|p| *p == t).unwrap_or(3);
    for (r, calls) in rounds.iter().enumerate().skip(1) {
        let order: Vec<&str> = calls.iter().map(|c| c.target.as_str()).collect();
        // The calls to `t` answered (only those for a first page with `first`).
        let answered = |t: &str, first: bool| {
            let first_page = |c: &Call| !first || c.body.get("NextToken").is_none();
            (calls.iter())
                .filter(|c| c.target == t && c.status == 200 && first_page(c))
                .count()
        };
        let why = format!("round {r} starts with {first}: {order:#?}");
        assert_eq!(order.first(), Some(&first), "{why}");
        let ordered = order.windows(2).all(|w| phase(w[0]) <= phase(w[1]));
        let why = format!("round {r}: window status, then tasks, then invocations: {order:#?}");
        assert!(ordered, "{why}");
        let gets = answered(GET_WINDOW_EXECUTION, false);
        let one_get = gets == 1 || (r == last && gets == 0);
        let no_get = !order.contains(&GET_WINDOW_EXECUTION);
        assert!(
            if window { one_get } else { no_get },
            "round {r}: one GetMaintenanceWindowExecution answered, none with --task-id: {order:#?}"
        );
        let why = format!("round {r}: the tasks listed: {order:#?}");
        assert!(r == last || answered(DESCRIBE_TASKS, true) > 0, "{why}");
        for c in calls {
            let mut want = tasks_body();
            match c.target.as_str() {
                GET_WINDOW_EXECUTION => {}
                DESCRIBE_TASKS => {
                    want["MaxResults"] = json!(100);
                    if let Some(t) = c.body.get("NextToken") {
                        want["NextToken"] = t.clone();
                    }
                }
                DESCRIBE_INVOCATIONS => {
                    let body = &c.body;
                    let ok = body.get("Filters").is_none() && body["MaxResults"] == 100;
                    let why = format!("round {r}: waiting, no Filters, MaxResults 100: {body}");
                    assert!(ok, "{why}");
                    continue;
                }
                _ => continue,
            }
            assert_eq!(c.body, want, "round {r}: {}", c.target);
        }
    }
}

// --- Pages and --max-items -----------------------------------------------------------------------

#[test]
fn every_page_of_a_tasks_invocations_is_fetched_and_printed_in_order() {
    let world = one_task(230);
    let t0 = task_execution_id(0);
    let (fake, out) = run_ok(&world, format!("--task-id {t0} -o json"));
    check!(out, out.stderr.is_empty());
    assert_json_exactly(&out, &world.identities_at(0, 1));
    // 230 invocations: pages of 100, 100 and 30, tokens passed through as issued.
    let listings = fake.calls_to(DESCRIBE_INVOCATIONS);
    assert_walked(&listings, &listing(&t0), &[100; 3], false);
    let why = format!("no other call: {:#?}", fake.calls());
    assert_eq!(fake.total_requests(), 3, "{why}");

    // Without -o, in a pipe: the same JSON.
    let (_, out) = run_ok(&world, format!("--task-id {t0}"));
    assert_json_exactly(&out, &world.identities_at(0, 1));
}

/// Asserts stderr is `note: stopped after N invocations (--max-items); more exist` when
/// `stopped_after` is `Some(N)`, and empty when the listing was complete.
#[track_caller]
fn assert_max_items_note(out: &Output, stopped_after: Option<usize>) {
    let want = stopped_after
        .map(|n| format!("note: stopped after {n} invocations (--max-items); more exist\n"))
        .unwrap_or_default();
    check_eq!(out, stderr_str(out), want);
}

#[test]
fn max_items_5_asks_for_the_smallest_page_and_prints_5_and_max_items_25_asks_for_25() {
    let world = one_task(230);
    let t0 = task_execution_id(0);
    // --max-items 5: the page of 10 carries a token; with 5 in hand there is no need for it.
    for (n, asked) in [(5, 10), (25, 25)] {
        let (fake, out) = run_ok(&world, format!("--task-id {t0} --max-items {n} -o json"));
        assert_json_exactly(&out, &world.identities_at(0, 1)[..n]);
        assert_max_items_note(&out, Some(n));
        let bodies: Vec<Value> = fake.calls().into_iter().map(|c| c.body).collect();
        let want = [listing_body(&t0, json!({"MaxResults": asked}))];
        assert_eq!(bodies, want, "--max-items {n}");
    }

    // 7 invocations: the one page (of 10 asked) holds them all, no NextToken; 2 are dropped,
    // so more exist; --max-items 7 on the same: exactly complete, no note.
    let world = one_task(7);
    for (n, note) in [(5, Some(5)), (7, None)] {
        let (fake, out) = run_ok(&world, format!("--task-id {t0} --max-items {n} -o json"));
        assert_json_exactly(&out, &world.identities_at(0, 1)[..n]);
        assert_eq!(fake.calls_to(DESCRIBE_INVOCATIONS)[0].next_token, None);
        assert_max_items_note(&out, note);
    }
}

#[test]
fn max_items_asks_for_the_remaining_count_on_each_page() {
    let world = one_task(230);
    let t0 = task_execution_id(0);
    // (--max-items, printed, MaxResults of each page, whether more exist); each page follows
    // the one before.
    for (max_items, printed, pages, more) in [
        (150, 150, vec![100, 50], true),
        (195, 195, vec![100, 95], true),
        // 5 left after the first page: the smallest page the service accepts.
        (105, 105, vec![100, 10], true),
        // Exactly all of them: the last page came without a NextToken, no note.
        (230, 230, vec![100, 100, 30], false),
        (1_000, 230, vec![100, 100, 100], false),
    ] {
        let args = format!("--task-id {t0} --max-items {max_items} -o json");
        let (fake, out) = run_ok(&world, args);
        assert_json_exactly(&out, &world.identities_at(0, 1)[..printed]);
        assert_max_items_note(&out, more.then_some(printed));
        let listings = fake.calls_to(DESCRIBE_INVOCATIONS);
        assert_walked(&listings, &listing(&t0), &pages, more);
    }
}

#[test]
fn max_items_counts_across_tasks_and_stops_listing_once_reached() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).invocations(20),
        MwTask::automation(1).invocations(20),
        MwTask::run_command(2).invocations(20),
    ]);
    let (fake, out) = run_ok(&world, "--max-items 30 -o json");
    let mut want = world.identities_at(0, 1);
    want.extend(world.identities_at(1, 1).into_iter().take(10));
    assert_json_exactly(&out, &want);
    let listings: Vec<Value> = fake.bodies(DESCRIBE_INVOCATIONS);
    let [t0, t1] = [0, 1].map(task_execution_id);
    let want = [(&t0, 30), (&t1, 10)].map(|(t, n)| listing_body(t, json!({"MaxResults": n})));
    let why = "the third task is not listed once 30 were printed";
    assert_eq!(listings, want, "{why}");
    assert_max_items_note(&out, Some(30));

    // The last task's page ends the listing exactly at --max-items: nothing more exists.
    let world = MwWorld::new(vec![
        MwTask::run_command(0).invocations(20),
        MwTask::automation(1).invocations(10),
    ]);
    let (_, out) = run_ok(&world, "--max-items 30 -o json");
    assert_json_exactly(&out, &world.final_identities());
    assert_max_items_note(&out, None);

    // Every invocation of the first task, but a second task never listed: more may exist.
    let (fake, out) = run_ok(&world, "--max-items 20 -o json");
    assert_json_exactly(&out, &world.identities_at(0, 1));
    assert_max_items_note(&out, Some(20));
    let why = "the second task is not listed";
    assert!(fake.rounds_listing(&t1).is_empty(), "{why}");
}

#[test]
fn short_pages_and_an_empty_final_token_end_the_listing() {
    // The service may give fewer items than MaxResults with a token, and "" as the last token.
    let world = one_task(95).page_cap(40).empty_token_on_last_page();
    let t0 = task_execution_id(0);
    let (fake, out) = run_ok(&world, format!("--task-id {t0} -o json"));
    assert_json_exactly(&out, &world.identities_at(0, 1));
    let calls = fake.calls_to(DESCRIBE_INVOCATIONS);
    assert_walked(&calls, &listing(&t0), &[100; 3], false);
    assert_eq!(calls[2].next_token.as_deref(), Some(""));
}

#[test]
fn every_page_of_the_task_listing_is_followed() {
    let tasks = (0..5)
        .map(|t| MwTask::new(t, [RUN_COMMAND, AUTOMATION, LAMBDA][t % 3]).invocations(t + 1))
        .collect();
    let world = MwWorld::new(tasks).page_cap(2);
    let (fake, out) = run_ok(&world, "-o json");
    assert_json_exactly(&out, &world.final_identities());
    let task_pages = fake.calls_to(DESCRIBE_TASKS);
    assert_walked(&task_pages, &tasks_body(), &[100; 3], false);
    let mut listed: Vec<String> = (fake.calls_to(DESCRIBE_INVOCATIONS).iter())
        .map(|c| c.field("TaskId").unwrap().to_owned())
        .collect();
    listed.dedup();
    assert_eq!(listed, (0..5).map(task_execution_id).collect::<Vec<_>>());
    // Invocation pages are capped too: task 4's five invocations take three pages.
    for (i, t) in (0..5).map(task_execution_id).enumerate() {
        let pages = vec![100; (i + 1).div_ceil(2)];
        assert_walked(&fake.listings_of(&t), &listing(&t), &pages, false);
    }
}

// --- Tasks ---------------------------------------------------------------------------------------

#[test]
fn without_task_id_the_tasks_are_listed_then_each_tasks_invocations_in_order() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).invocations(2),
        MwTask::automation(1).invocations(1),
        MwTask::lambda(2).invocations(3),
    ]);
    let (fake, out) = run_ok(&world, "-o json");
    check!(out, out.stderr.is_empty());
    assert_json_exactly(&out, &world.final_identities());
    let calls: Vec<(String, Value)> = (fake.calls().into_iter())
        .map(|c| (c.target, c.body))
        .collect();
    let max = json!({"MaxResults": 100});
    let listing = |t| {
        (
            DESCRIBE_INVOCATIONS.to_owned(),
            listing_body(&task_execution_id(t), max.clone()),
        )
    };
    let tasks = (DESCRIBE_TASKS.to_owned(), merged(tasks_body(), max.clone()));
    assert_eq!(calls, [tasks, listing(0), listing(1), listing(2)]);
    assert_eq!(fake.total_requests(), 4);
}

#[test]
fn an_empty_listing_prints_an_empty_array() {
    // A task without invocations.
    let world = MwWorld::new(vec![MwTask::run_command(0)]);
    let t0 = task_execution_id(0);
    let (_, out) = run_ok(&world, format!("--task-id {t0} -o json"));
    check_eq!(out, stdout_str(&out), "[]\n");
    let (_, out) = run_ok(&world, format!("--task-id {t0} -o jsonl"));
    check!(out, out.stdout.is_empty());

    // A window execution without tasks: one call.
    let (fake, out) = run_ok(&MwWorld::new(Vec::new()), "-o json");
    check_eq!(out, stdout_str(&out), "[]\n");
    assert_eq!(fake.total_requests(), 1, "{:#?}", fake.calls());

    // A filter nothing passes.
    let args = format!("--task-id {t0} --status failed -o json");
    let (_, out) = run_ok(&one_task(12), args);
    check_eq!(out, stdout_str(&out), "[]\n");
}

// --- --status -----------------------------------------------------------------------------------

/// Task 0: 12 invocations cycling through SUCCESS, FAILED, TIMED_OUT and CANCELLED.
fn mixed_statuses() -> MwWorld {
    MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(12, |j, inv| {
            inv.status(["SUCCESS", "FAILED", "TIMED_OUT", "CANCELLED"][j % 4])
        }),
    ])
}

#[test]
fn the_status_filter_is_sent_upper_case_in_order_without_duplicates() {
    let world = mixed_statuses();
    let t0 = task_execution_id(0);
    let all = world.identities_at(0, 1);
    // (arguments, the values sent, space-separated)
    for (args, values) in [
        ("--status failed --status Timed_Out", "FAILED TIMED_OUT"),
        (
            "--status FAILED --status failed --status timed_out --status Failed",
            "FAILED TIMED_OUT",
        ),
        ("--status timed_out --status FAILED", "TIMED_OUT FAILED"),
        ("--status success", "SUCCESS"),
        ("--status Skipped_Overlapping", "SKIPPED_OVERLAPPING"),
        ("--status cancelling", "CANCELLING"),
    ] {
        let values: Vec<&str> = values.split(' ').collect();
        let (fake, out) = run_ok(&world, format!("--task-id {t0} -o json {args}"));
        let bodies: Vec<Value> = fake.bodies(DESCRIBE_INVOCATIONS);
        let filters = json!({"Filters": [{"Key": "STATUS", "Values": values}], "MaxResults": 100});
        assert_eq!(bodies, [listing_body(&t0, filters)], "{args}: one call");
        let only: Vec<Value> = (all.iter())
            .filter(|v| values.contains(&v["Status"].as_str().unwrap()))
            .cloned()
            .collect();
        assert_json_exactly(&out, &only);
    }
}

#[test]
fn the_status_filter_goes_with_every_tasks_listing_not_with_the_task_listing() {
    let failed = |inv: MwInvocation| inv.status("FAILED");
    let world = MwWorld::new(vec![
        MwTask::run_command(0).invocations(4).invocation(2, failed),
        MwTask::automation(1).invocations(3).invocation(0, failed),
    ]);
    let (fake, out) = run_ok(&world, "--status failed -o json");
    assert_json_exactly(&out, &with_status(&world, "FAILED"));
    assert_walked(&fake.calls_to(DESCRIBE_TASKS), &tasks_body(), &[100], false);
    let bodies: Vec<Value> = fake.bodies(DESCRIBE_INVOCATIONS);
    let filters = json!({"Filters": [{"Key": "STATUS", "Values": ["FAILED"]}], "MaxResults": 100});
    let want = [0, 1].map(|t| listing_body(&task_execution_id(t), filters.clone()));
    assert_eq!(bodies, want);
}

// --- Bad input: exit 2, one line, nothing sent ---------------------------------------------------

#[test]
fn bad_ids_are_rejected_before_any_request() {
    let good = WINDOW_EXECUTION_ID;
    let t0 = task_execution_id(0);
    let bad_ids = [
        "",
        &good[..35],                                              // 35 characters
        &format!("{good}0"),                                      // 37 characters
        &format!("{}g", &good[..35]),                             // not hex
        &good.replace('-', "0"),                                  // 36 hex digits, no dashes
        &format!("{}-{}{}", &good[..7], &good[7..8], &good[9..]), // a dash moved
        &format!("{}x{}", &good[..8], &good[9..]),                // a dash replaced
        &format!(" {}", &good[1..]),                              // a space
        "mw-0123456789abcdef0",           // a window ID, not an execution ID
        &format!("{{{}}}", &good[1..35]), // braces
    ]
    .map(|s| s.to_owned());
    for bad in &bad_ids {
        assert_rejected(["task-invocations", "--window-execution-id", bad]);
        assert_rejected(args(&format!(
            "task-invocations --window-execution-id {good} --task-id {bad}"
        )));
    }
    assert_rejected(["task-invocations"]);
    assert_rejected(["task-invocations", "--task-id", &t0]);
}

#[test]
fn bad_options_are_rejected_before_any_request() {
    let w = on_window(WINDOW_EXECUTION_ID).words();
    for extra in [
        "--status DONE",
        "--status Succeeded",
        "--status IN-PROGRESS",
        "--status failed --status nope",
        "--max-items 0",
        "--max-items -1",
        "--max-items ten",
        "--max-items 5 --wait",
        "--timeout 1s",
        "--min-interval 10ms",
        "--max-interval 1s",
        "--wait --timeout soon",
        "-o yaml",
    ] {
        assert_rejected([w.clone(), extra.words()].concat());
    }
    for status in ["in progress", ""] {
        assert_rejected([&w[..], &["--status".into(), status.into()]].concat());
    }
}

#[test]
fn ids_in_any_case_are_accepted() {
    let world = one_task(2);
    let fake = FakeMw::start(world.clone());
    let window = WINDOW_EXECUTION_ID.to_ascii_uppercase();
    let task = task_execution_id(0).to_ascii_uppercase();
    let args = format!("{} --task-id {task}", on_window(&window));
    let out = Cli::new(&fake.url()).run(format!("{args} -o json"));
    assert_exit(&out, 0);
    let calls = fake.calls_to(DESCRIBE_INVOCATIONS);
    assert_eq!(calls.len(), 1);
    for (key, id) in [("WindowExecutionId", &window), ("TaskId", &task)] {
        let sent = calls[0].field(key).unwrap();
        assert!(sent.eq_ignore_ascii_case(id), "{key} {sent}");
    }

    // Waiting on one task: the listing names it in lower case; the ID given in upper case
    // still picks it.
    let fake = FakeMw::start(world.clone());
    let words = format!("{args} --wait -o json {FAST}").words();
    let out = run(Cli::new(&fake.url()).cmd().env("TZ", "UTC").args(words));
    assert_exit(&out, 0);
    check!(out, out.stderr.is_empty());
    assert_json_exactly(&out, &world.identities_at(0, 1));
    assert_round(&fake, 1);
    let calls = fake.calls_to(DESCRIBE_INVOCATIONS);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let listed = calls[0].field("TaskId").unwrap();
    assert!(listed.eq_ignore_ascii_case(&task), "{calls:#?}");
    // One round: the tasks (the IDs as given), then the task's invocations; no Get.
    let targets: Vec<String> = fake.calls().into_iter().map(|c| c.target).collect();
    assert_eq!(targets, [DESCRIBE_TASKS, DESCRIBE_INVOCATIONS]);
}

// --- Errors from the service ---------------------------------------------------------------------

const OTHER_WINDOW: &str = "0badc0de-1111-4222-8333-444455556666";

/// Asserts exit 3, nothing on stdout and one `error:` line saying "not found" and naming one of
/// `names` (when there are any).
#[track_caller]
fn assert_not_found(out: &Output, names: &[&str]) {
    let line = assert_error(out, 3);
    let why = format!("stderr says \"not found\": {line:?}");
    assert!(line.contains("not found"), "{why}");
    let named = names.is_empty() || names.iter().any(|n| line.contains(n));
    assert!(named, "stderr names one of {names:?}: {line:?}");
}

#[test]
fn an_unknown_window_execution_exits_3_not_found_after_one_call() {
    let t0 = task_execution_id(0);
    for (args, target) in [
        (String::new(), DESCRIBE_TASKS),
        (format!("--task-id {t0}"), DESCRIBE_INVOCATIONS),
        // A wait without --task-id reads the window's status first.
        (format!("--wait {FAST}"), GET_WINDOW_EXECUTION),
        (format!("--wait {FAST} --task-id {t0}"), DESCRIBE_TASKS),
        ("--with-output".to_owned(), DESCRIBE_TASKS),
    ] {
        let fake = FakeMw::start(one_task(3));
        let out = Cli::new(&fake.url()).run(format!("{} {args} -o json", on_window(OTHER_WINDOW)));
        assert_not_found(&out, &[OTHER_WINDOW]);
        let calls = fake.calls();
        assert_eq!(calls.len(), 1, "{args:?}: not retried: {calls:#?}");
        assert_eq!(calls[0].target, target, "{args:?}");
    }
}

#[test]
fn an_unknown_task_exits_3_not_found() {
    let unknown = task_execution_id(7);
    let fake = FakeMw::start(one_task(3));
    let out = run_utc(&fake, format!("--task-id {unknown} -o json"));
    // It names the task or the window execution.
    assert_not_found(&out, &[&unknown, WINDOW_EXECUTION_ID]);
    assert_eq!(fake.total_requests(), 1);

    // Waiting: the task is not in the window execution's listing.
    let fake = FakeMw::start(one_task(3));
    let (out, _) = run_wait(&fake, format!("--task-id {unknown} -o json"));
    assert_not_found(&out, &[]);
    let listings = fake.calls_to(DESCRIBE_INVOCATIONS);
    let why = "no listing of a task that is not there";
    assert!(listings.is_empty(), "{why}");
    assert_round(&fake, 1);
}

#[test]
fn access_denied_exits_3_with_the_message_after_one_call() {
    let message = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
                   ssm:DescribeMaintenanceWindowExecutionTaskInvocations";
    let world = one_task(3).fail_always(DESCRIBE_INVOCATIONS, Step::access_denied(message));
    let fake = FakeMw::start(world);
    let out = run_utc(&fake, format!("--task-id {} -o json", task_execution_id(0)));
    let line = assert_error(&out, 3);
    assert!(line.contains(message), "{line:?}");
    assert_eq!(fake.total_requests(), 1, "access denied is not retried");
}

#[test]
fn throttling_that_does_not_stop_exits_3_after_the_sdk_retries() {
    let fake = FakeMw::start(one_task(3).fail_always(DESCRIBE_TASKS, Step::throttled()));
    assert_error(&run_utc(&fake, "-o json"), 3);
    assert!(fake.total_requests() > 1, "throttling is retried");
    assert!(fake.calls_to(DESCRIBE_INVOCATIONS).is_empty());
}

#[test]
fn a_throttled_page_and_a_500_in_the_middle_lose_and_duplicate_nothing() {
    let t0 = task_execution_id(0);
    let faults = vec![Step::throttled(), Step::Status500];
    let world = one_task(230).fail_page(DESCRIBE_INVOCATIONS, 2, faults);
    let (fake, out) = run_ok(&world, format!("--task-id {t0} -o json"));
    assert_json_exactly(&out, &world.identities_at(0, 1));
    let calls = fake.calls_to(DESCRIBE_INVOCATIONS);
    assert_eq!(
        calls.iter().map(|c| (c.page, c.status)).collect::<Vec<_>>(),
        [(1, 200), (2, 400), (2, 500), (2, 200), (3, 200)],
        "page 2 retried with the same token until it came"
    );
    assert_eq!(calls[1].body, calls[3].body);
}

// --- --wait -------------------------------------------------------------------------------------

/// Task 0 (RUN_COMMAND): two invocations PENDING in round 1, IN_PROGRESS in round 2, SUCCESS
/// from round 3; task 1 (AUTOMATION): one invocation ending SUCCESS in round 4.
fn two_tasks_ending_in_rounds_3_and_4() -> MwWorld {
    MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(2, |_, inv| inv.ends_at(3, "SUCCESS")),
        MwTask::automation(1).with_invocations(1, |_, inv| inv.ends_at(4, "SUCCESS")),
    ])
}

/// Waits on `world` (no --task-id) and asserts the exit code, the final identities printed,
/// the round the wait ended in, every round's calls ([`assert_wait_rounds`]), and for each
/// `(task, rounds)` the rounds in which that task was listed, once each (each fits one page).
#[track_caller]
fn assert_waited(world: &MwWorld, code: i32, round: usize, listed: &[(usize, &[usize])]) -> Output {
    let (fake, out) = waited(world, "-o json", code);
    assert_json_exactly(&out, &world.final_identities());
    assert_round(&fake, round);
    for (t, rounds) in listed.iter().map(|(t, r)| (task_execution_id(*t), *r)) {
        assert_eq!(fake.rounds_listing(&t), rounds, "task {t}");
        let why = format!("task {t}: one listing a round");
        assert_eq!(fake.listings_of(&t).len(), rounds.len(), "{why}");
    }
    assert_wait_rounds(&fake, true);
    out
}

#[test]
fn wait_follows_pending_in_progress_success_and_exits_0() {
    let world = two_tasks_ending_in_rounds_3_and_4();
    // Sanity: the script.
    assert_eq!(world.identities_at(0, 1)[0]["Status"], "PENDING");
    assert_eq!(world.identities_at(0, 2)[0]["Status"], "IN_PROGRESS");
    assert_eq!(world.window_state_at(3).0, "IN_PROGRESS");
    assert_eq!(world.window_state_at(4).0, "SUCCESS");
    // Task 0 was final in round 3, seen final a second time in round 4: listed in both.
    let out = assert_waited(&world, 0, 4, &[(0, &[1, 2, 3, 4]), (1, &[1, 2, 3, 4])]);
    check!(out, out.stderr.is_empty());
}

#[test]
fn wait_ending_in_another_terminal_state_exits_1() {
    for status in ["FAILED", "TIMED_OUT", "CANCELLED", "SKIPPED_OVERLAPPING"] {
        let task = MwTask::run_command(0).with_invocations(3, |_, inv| inv.ends_at(3, "SUCCESS"));
        let world = MwWorld::new(vec![task.invocation(1, |inv| inv.ends_at(2, status))]);
        assert_waited(&world, 1, 3, &[]);
    }
}

#[test]
fn wait_sends_no_filters_and_prints_only_the_statuses_asked_for() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(4, |j, inv| {
            inv.ends_at(2 + j % 2, if j == 2 { "FAILED" } else { "SUCCESS" })
        }),
        MwTask::lambda(1).with_invocations(2, |_, inv| inv.ends_at(2, "SUCCESS")),
    ]);
    assert_eq!(with_status(&world, "FAILED").len(), 1);
    // The exit code counts every invocation, whatever is printed: only successes asked for
    // while one failed is exit 1 still.
    for status in ["FAILED", "SUCCESS"] {
        let lower = status.to_ascii_lowercase();
        let (fake, out) = waited(&world, format!("--status {lower} -o json"), 1);
        assert_json_exactly(&out, &with_status(&world, status));
        assert_wait_rounds(&fake, true);
    }
}

/// The final identities of `world` in `status`.
fn with_status(world: &MwWorld, status: &str) -> Vec<Value> {
    world
        .final_identities()
        .into_iter()
        .filter(|v| v["Status"] == status)
        .collect()
}

/// Task 0 (RUN_COMMAND): invocation 0 PENDING then IN_PROGRESS forever, invocation 1 ending
/// SUCCESS in round 2; task 1 (AUTOMATION): one invocation FAILED from round 1. From round 2
/// on: 2 of 3 invocations finished, 1 failed; 1 of 2 tasks ended; the window IN_PROGRESS.
fn never_ending_world() -> MwWorld {
    let task = MwTask::run_command(0).with_invocations(2, |_, inv| inv.ends_at(2, "SUCCESS"));
    MwWorld::new(vec![
        task.invocation(0, MwInvocation::never_ends),
        MwTask::automation(1).with_invocations(1, |_, inv| inv.status("FAILED")),
    ])
}

/// The one stderr line of a timed-out wait, `error: timed out after <d>; last status: <s>`:
/// returns `<s>`.
#[track_caller]
fn last_status(out: &Output) -> String {
    assert_exit(out, 4);
    let line = assert_single_stderr_line(out);
    let why = format!("stderr: {line:?}");
    assert!(line.starts_with("error: timed out after "), "{why}");
    let (_, status) = line
        .split_once("; last status: ")
        .unwrap_or_else(|| panic!("\"; last status: \" in {line:?}"));
    status.to_owned()
}

#[test]
fn wait_timeout_while_in_progress_exits_4_with_a_timed_out_line() {
    let world = never_ending_world();
    assert_eq!(world.window_state_at(2).0, "IN_PROGRESS");
    let fake = FakeMw::start(world.clone());
    let (out, took) = run_wait(&fake, "--timeout 1500ms -o json");
    let want = "window IN_PROGRESS · 2 of 3 invocations finished, 1 failed · 1 of 2 tasks ended";
    check_eq!(out, last_status(&out), want);
    let why = format!("--timeout 1500ms took {took:?}");
    assert!(took >= Duration::from_millis(1480), "{why}");
    let why = format!("it kept polling: {} rounds", fake.round());
    assert!(fake.round() >= 3, "{why}");
    assert_wait_rounds(&fake, true);
    // The last listing seen is printed (the same from round 2 on).
    let want = [world.identities_at(0, 2), world.identities_at(1, 2)].concat();
    assert_json_exactly(&out, &want);

    // With --with-output: no output fetched at the deadline, no CommandInvocations key.
    let fake = FakeMw::start(world.clone());
    let (out, _) = run_wait(&fake, "--timeout 1500ms --with-output -o json");
    let status = last_status(&out);
    let finished = status.contains("2 of 3 invocations finished, 1 failed");
    assert!(finished, "{status:?}");
    assert_json_exactly(&out, &want);
    let fetched = [LIST_COMMAND_INVOCATIONS, GET_COMMAND_INVOCATION].map(|t| fake.count(t));
    let why = format!("no output fetched after the timeout: {:#?}", fake.calls());
    assert_eq!(fetched, [0, 0], "{why}");

    // With --task-id: the task's figures, no window status.
    let fake = FakeMw::start(world.clone());
    let t0 = task_execution_id(0);
    let (out, _) = run_wait(&fake, format!("--task-id {t0} --timeout 1500ms -o json"));
    let status = last_status(&out);
    let window = status.starts_with("window") || status.contains("IN_PROGRESS ·");
    assert!(!window, "no window status with --task-id: {status:?}");
    let why = format!("{status:?}");
    assert!(status.starts_with("1 of 2 invocations finished"), "{why}");
    assert!(status.contains("0 of 1 task"), "{status:?}");
    assert_json_exactly(&out, &world.identities_at(0, 2));
    assert_wait_rounds(&fake, false);
}

#[test]
fn wait_timeout_before_any_round_completed_prints_nothing() {
    // Far longer than the timeout and its bound below; the timeout long enough for a loaded
    // machine to start the binary and send the first call before it.
    let slow = Duration::from_secs(30);
    let late = |target| never_ending_world().delay_in_round(target, 1, slow);
    let t0 = task_execution_id(0);
    for (what, world, args) in [
        (
            "the first answer (GetMaintenanceWindowExecution) came too late",
            late(GET_WINDOW_EXECUTION),
            String::new(),
        ),
        (
            "with --task-id, the first answer (the tasks) came too late",
            late(DESCRIBE_TASKS),
            format!("--task-id {t0}"),
        ),
        (
            "the window and the tasks answered, the invocations too late",
            late(DESCRIBE_INVOCATIONS),
            String::new(),
        ),
        (
            "--with-output, the first answer came too late",
            late(GET_WINDOW_EXECUTION),
            "--with-output".into(),
        ),
    ] {
        let fake = FakeMw::start(world);
        let (out, took) = run_wait(&fake, format!("--timeout 2s -o json {args}"));
        // Nothing seen, nothing printed.
        let line = assert_error(&out, 4);
        let why = format!("{what}: stderr {line:?}");
        assert!(line.starts_with("error: timed out after"), "{why}");
        let why = format!("{what}: --timeout 2s took {took:?}");
        assert!(took < Duration::from_secs(10), "{why}");
        assert_round(&fake, 1);
    }
}

#[test]
fn a_task_is_listed_until_seen_final_in_two_consecutive_rounds() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(3, |_, inv| inv.ends_at(1, "SUCCESS")),
        MwTask::automation(1).with_invocations(2, |_, inv| inv.ends_at(2, "FAILED")),
        MwTask::run_command(2).with_invocations(1, |_, inv| inv.ends_at(5, "SUCCESS")),
    ]);
    // A task is cached as final once seen final in two consecutive rounds: final in round r,
    // still listed in round r + 1, not from r + 2 on.
    let listed: &[(usize, &[usize])] = &[(0, &[1, 2]), (1, &[1, 2, 3]), (2, &[1, 2, 3, 4, 5])];
    assert_waited(&world, 1, 5, listed);

    // Consecutive: task 0 says SUCCESS from round 1 with its one invocation ended (final in
    // round 1); in round 2 a second invocation shows up running (not final), ending in round 3
    // (final in rounds 3 and 4): listed in rounds 1 to 4, not in round 5. The window ends in
    // round 5.
    let late = |inv: MwInvocation| {
        inv.listed_from(2)
            .status_from(1, "IN_PROGRESS")
            .status_from(3, "SUCCESS")
    };
    let task = MwTask::run_command(0).invocations(2).invocation(1, late);
    let world = MwWorld::new(vec![task.status_from(1, "SUCCESS")])
        .window_status_from(1, "IN_PROGRESS")
        .window_status_from(5, "SUCCESS");
    assert_eq!(world.identities_at(0, 1).len(), 1);
    assert_eq!(world.identities_at(0, 2)[1]["Status"], "IN_PROGRESS");
    assert_waited(&world, 0, 5, &[(0, &[1, 2, 3, 4])]);
}

#[test]
fn wait_goes_on_while_the_window_or_a_task_says_running() {
    // Until the window execution itself is terminal: the task is final in round 1, seen final
    // again in round 2, then not listed.
    let world = MwWorld::new(vec![MwTask::run_command(0).invocations(2)])
        .window_status_from(1, "IN_PROGRESS")
        .window_status_from(4, "SUCCESS");
    assert_waited(&world, 0, 4, &[(0, &[1, 2])]);

    // While a terminal task still has a running invocation.
    let task = MwTask::run_command(0).with_invocations(2, |_, inv| inv.ends_at(3, "SUCCESS"));
    let task = task.invocation(0, |inv| inv.status("SUCCESS"));
    let world = MwWorld::new(vec![task.status_from(1, "SUCCESS")]);
    assert_waited(&world, 0, 3, &[(0, &[1, 2, 3])]);

    // While a task is running with every invocation ended: its own status lags behind its
    // invocations'.
    let task = MwTask::run_command(0).invocations(2);
    let task = task.status_from(1, "IN_PROGRESS").status_from(3, "SUCCESS");
    let world = MwWorld::new(vec![task]);
    assert_waited(&world, 0, 3, &[(0, &[1, 2, 3])]);
}

#[test]
fn wait_without_a_window_status_waits_on_the_tasks_and_invocations_only() {
    // GetMaintenanceWindowExecution answers without Status: nothing to wait on there.
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(2, |j, inv| inv.ends_at(2 + j, "SUCCESS")),
    ])
    .window_status_absent();
    let (fake, out) = waited(&world, "--timeout 5s -o json", 0);
    check!(out, out.stderr.is_empty());
    assert_json_exactly(&out, &world.final_identities());
    assert_round(&fake, 3);
    let gets = fake.calls_to(GET_WINDOW_EXECUTION);
    let why = "the fake answered every Get";
    assert!(gets.iter().all(|c| c.status == 200), "{why}");
    assert_wait_rounds(&fake, true);

    // The same with a failure: exit 1.
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(2, |j, inv| {
            inv.ends_at(2, if j == 1 { "FAILED" } else { "SUCCESS" })
        }),
    ])
    .window_status_absent();
    let (fake, out) = waited(&world, "--timeout 5s -o json", 1);
    assert_json_exactly(&out, &world.final_identities());
    assert_round(&fake, 2);
}

#[test]
fn wait_follows_a_task_and_invocations_appearing_late() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0)
            .with_invocations(2, |j, inv| inv.listed_from(1 + j).ends_at(2 + j, "SUCCESS")),
        MwTask::lambda(1)
            .listed_from(3)
            .with_invocations(1, |_, inv| inv.listed_from(4).ends_at(5, "SUCCESS")),
    ])
    .window_status_from(1, "IN_PROGRESS")
    .window_status_from(5, "SUCCESS");
    assert_waited(&world, 0, 5, &[(1, &[3, 4, 5])]);
}

#[test]
fn wait_with_task_id_counts_only_that_task() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(2, |_, inv| inv.never_ends()),
        MwTask::automation(1).with_invocations(2, |j, inv| inv.ends_at(2 + j, "SUCCESS")),
    ]);
    let t1 = task_execution_id(1);
    let (fake, out) = waited(&world, format!("--task-id {t1} -o json"), 0);
    assert_json_exactly(&out, &world.identities_at(1, usize::MAX));
    assert_round(&fake, 3);
    assert_eq!(fake.rounds_listing(&t1), [1, 2, 3]);
    let other = fake.listings_of(&task_execution_id(0));
    assert!(other.is_empty(), "the other task is not listed");
    // No GetMaintenanceWindowExecution with --task-id.
    assert_wait_rounds(&fake, false);
    for c in fake.calls_to(DESCRIBE_INVOCATIONS) {
        assert_eq!(c.body, listing_body(&t1, json!({"MaxResults": 100})));
    }
}

#[test]
fn wait_over_several_pages_lists_every_page_each_round() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(230, |j, inv| inv.ends_at(2 + j % 2, "SUCCESS")),
    ]);
    let t0 = task_execution_id(0);
    let (fake, out) = waited(&world, format!("--task-id {t0} -o json"), 0);
    assert_json_exactly(&out, &world.identities_at(0, usize::MAX));
    assert_eq!(fake.round(), 3);
    for r in 1..=3 {
        let calls: Vec<Call> = (fake.listings_of(&t0).into_iter())
            .filter(|c| c.round == r)
            .collect();
        assert_walked(&calls, &listing(&t0), &[100; 3], false);
    }
    assert_wait_rounds(&fake, false);
}

#[test]
fn wait_rides_out_a_throttled_page_mid_wait() {
    let world = two_tasks_ending_in_rounds_3_and_4()
        .fail_page_in_round(DESCRIBE_INVOCATIONS, 2, 1, vec![Step::throttled()])
        .fail_page_in_round(DESCRIBE_TASKS, 3, 1, vec![Step::Status500])
        .fail_page_in_round(GET_WINDOW_EXECUTION, 3, 1, vec![Step::throttled()]);
    let (fake, out) = waited(&world, "-o json", 0);
    assert_json_exactly(&out, &world.final_identities());
    assert_round(&fake, 4);
    let faulted: Vec<(String, usize)> = (fake.calls().into_iter())
        .filter(|c| c.status != 200)
        .map(|c| (c.target, c.round))
        .collect();
    let want = [
        (DESCRIBE_INVOCATIONS, 2),
        (GET_WINDOW_EXECUTION, 3),
        (DESCRIBE_TASKS, 3),
    ];
    let want: Vec<(String, usize)> = want.iter().map(|(t, r)| (t.to_string(), *r)).collect();
    let why = "every scripted fault was played, its retry in the same round";
    assert_eq!(faulted, want, "{why}");
    assert_wait_rounds(&fake, true);
}

/// When each round of a wait without --task-id started: its GetMaintenanceWindowExecution
/// request (no faults scripted, so no retries).
fn round_starts(fake: &FakeMw) -> Vec<Instant> {
    fake.calls_to(GET_WINDOW_EXECUTION)
        .iter()
        .map(|r| r.at)
        .collect()
}

#[test]
fn rounds_are_spaced_by_the_poll_intervals() {
    // The schedule itself is the poll loop's (`src/poll_tests.rs`); here, that the defaults and
    // the flags reach it. A pause is never shorter than asked; a busy machine may stretch one,
    // so the caps are far above the intervals and still tell the minimum from the maximum.
    let ends_at = |r| {
        MwWorld::new(vec![
            MwTask::run_command(0).with_invocations(1, |_, inv| inv.ends_at(r, "SUCCESS")),
        ])
    };
    // Defaults: the first pause is the 500ms minimum (5% of next to nothing waited), not the
    // 10s maximum.
    let (fake, _) = run_ok(&ends_at(2), "--wait -o json");
    let starts = round_starts(&fake);
    assert_eq!(starts.len(), 2, "{:#?}", fake.calls());
    let gap = starts[1] - starts[0];
    let within = gap >= Duration::from_millis(480) && gap < Duration::from_secs(5);
    assert!(within, "default --min-interval 500ms: rounds {gap:?} apart");

    // --min-interval 150ms --max-interval 150ms: every pause 150ms.
    let args = "--wait --min-interval 150ms --max-interval 150ms -o json";
    let (fake, _) = run_ok(&ends_at(4), args);
    let starts = round_starts(&fake);
    assert_eq!(starts.len(), 4, "{:#?}", fake.calls());
    let mut gaps: Vec<Duration> = starts.windows(2).map(|p| p[1] - p[0]).collect();
    let floor = gaps.iter().all(|g| *g >= Duration::from_millis(140));
    assert!(floor, "rounds {gaps:?} apart with 150ms intervals");
    gaps.sort();
    let why = format!("median of {gaps:?} with 150ms intervals");
    assert!(gaps[1] < Duration::from_secs(1), "{why}");
}

#[test]
fn sigint_during_a_wait_exits_130() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(2, |_, inv| inv.never_ends()),
    ]);
    let fake = FakeMw::start(world);
    let words = format!("{} --wait -o json {FAST}", on_window(WINDOW_EXECUTION_ID)).words();
    let mut run = Spawned::start(Cli::new(&fake.url()).cmd().args(words));
    run.until("a third round", fake.wait(|| fake.round() >= 3));
    run.interrupt();
}

// --- --with-output ------------------------------------------------------------------------------

/// Task 0 (RUN_COMMAND): invocation 0 on two instances (one writes to stderr), invocation 1
/// FAILED on one instance; task 1 (AUTOMATION) and task 2 (LAMBDA): one invocation each.
fn with_commands() -> MwWorld {
    let on = |j, k, out: &str, err: &str| CmdInstance::new(instance_for(0, j, k)).output(out, err);
    let first = vec![
        on(0, 0, "alpha 1\nalpha 2\n", ""),
        on(0, 1, "beta\n", "warning: beta is slow\n"),
    ];
    let second = vec![on(1, 0, "gamma: disk full\n", "df: /var: 100%\n")];
    let failed = |inv: MwInvocation| inv.status_with("FAILED", "One or more targets failed");
    let task = MwTask::run_command(0)
        .invocations(2)
        .invocation(0, |inv| inv.instances(first));
    MwWorld::new(vec![
        task.invocation(1, |inv| failed(inv).instances(second)),
        MwTask::automation(1).invocations(1),
        MwTask::lambda(2).invocations(1),
    ])
}

/// The identities of `world` as `--with-output -o json` prints them: RUN_COMMAND ones with
/// `CommandInvocations`, the final GetCommandInvocation record of each instance and step.
fn with_command_invocations(world: &MwWorld, identities: &[Value]) -> Vec<Value> {
    let with_records = |identity: &Value| {
        let mut v = as_printed(identity);
        let command = identity.get("ExecutionId").and_then(Value::as_str);
        let (Some(command), RUN_COMMAND) = (command, identity["TaskType"].as_str().unwrap()) else {
            return v;
        };
        // Invocation IDs name their task: unique across tasks.
        let inv = (world.tasks.iter().flat_map(|t| &t.invocations))
            .find(|i| i.invocation_id == identity["InvocationId"])
            .unwrap();
        let records = inv
            .instances
            .iter()
            .flat_map(|i| i.final_get_bodies(command, inv.final_status()));
        v["CommandInvocations"] = records.collect();
        v
    };
    identities.iter().map(with_records).collect()
}

/// [`with_command_invocations`] of every final identity of `world`.
fn expanded(world: &MwWorld) -> Vec<Value> {
    with_command_invocations(world, &world.final_identities())
}

/// What [`get_requests`] lists for instance `k` of invocation `j` of task `t` (no PluginName).
fn fetched(t: usize, j: usize, k: usize) -> (String, String, Option<String>) {
    (command_id(t, j), instance_for(t, j, k), None)
}

/// The body of the detailed ListCommandInvocations request for invocation `j` of task 0.
fn command_listing(j: usize) -> Value {
    json!({"CommandId": command_id(0, j), "Details": true, "MaxResults": 50})
}

/// The bodies of the ListCommandInvocations requests in CommandId order (commands are resolved
/// concurrently: the order they reach the endpoint is not fixed).
fn command_listings(fake: &FakeMw) -> Vec<Value> {
    let mut listings = fake.bodies(LIST_COMMAND_INVOCATIONS);
    listings.sort_by_key(|body| body["CommandId"].to_string());
    listings
}

/// The `(CommandId, InstanceId, PluginName)` of each GetCommandInvocation request, sorted.
fn get_requests(fake: &FakeMw) -> Vec<(String, String, Option<String>)> {
    let mut gets: Vec<_> = (fake.calls_to(GET_COMMAND_INVOCATION).into_iter())
        .map(|c| {
            let keys = ["CommandId", "InstanceId", "PluginName"];
            let sent = c.body.as_object().unwrap();
            let known = sent.keys().all(|k| keys.contains(&k.as_str()));
            assert!(known, "GetCommandInvocation body {}", c.body);
            let field = |k| c.field(k).map(str::to_owned);
            (
                field("CommandId").unwrap(),
                field("InstanceId").unwrap(),
                field("PluginName"),
            )
        })
        .collect();
    gets.sort();
    gets
}

#[test]
fn with_output_json_adds_the_command_invocations_to_run_command_identities() {
    let world = with_commands();
    let (fake, out) = run_ok(&world, "--with-output -o json");
    check_eq!(out, stdout_str(&out), printed_array(&expanded(&world)));
    // (Key order, CommandInvocations last, is in the bytes compared above.)
    for item in stdout_json(&out).as_array().unwrap() {
        let records = item
            .get("CommandInvocations")
            .map(|r| r.as_array().map(Vec::len));
        let many = if item["InvocationId"] == invocation_id(0, 0) {
            2
        } else {
            1
        };
        let want = (item["TaskType"] == RUN_COMMAND).then_some(Some(many));
        let why = format!("CommandInvocations of a {}", item["TaskType"]);
        assert_eq!(records, want, "{why}");
    }
    // One detailed listing per command, and one GetCommandInvocation per listed instance.
    assert_eq!(command_listings(&fake), [0, 1].map(command_listing));
    let want = [fetched(0, 0, 0), fetched(0, 0, 1), fetched(0, 1, 0)];
    assert_eq!(get_requests(&fake), want);

    // -o jsonl: one compact object per line.
    let (_, out) = run_ok(&world, "--with-output -o jsonl");
    check_eq!(out, stdout_str(&out), printed_lines(&expanded(&world)));
}

#[test]
fn each_command_invocation_expected_is_what_ssmres_get_prints() {
    // The helpers above against `ssmres get -o json` on the same fake: "CommandInvocations:
    // an array of GetCommandInvocation records exactly as `ssmres get -o json` prints one".
    let world = with_commands();
    let fake = FakeMw::start(world.clone());
    let expected = expanded(&world);
    let records: Vec<&Value> = (expected.iter())
        .filter(|v| v["TaskType"] == RUN_COMMAND)
        .flat_map(|v| v["CommandInvocations"].as_array().unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    for record in records {
        let [command, instance] = ["CommandId", "InstanceId"].map(|k| record[k].as_str().unwrap());
        let get = format!("get --command-id {command} --instance-id {instance} -o json");
        let out = Cli::new(&fake.url()).run(get);
        assert_exit(&out, 0);
        check_eq!(out, stdout_str(&out), printed(record));
    }
}

#[test]
fn with_output_asks_each_step_of_a_document_with_several() {
    let (install, restart) = ("installPackages", "restartService");
    let instances = vec![
        CmdInstance::new(instance_for(0, 0, 0)).steps(&[
            (install, "installed 3 packages\n", ""),
            (restart, "nginx restarted\n", "warning: reload\n"),
        ]),
        CmdInstance::new(instance_for(0, 0, 1)).steps(&[
            (install, "installed 0 packages\n", ""),
            (restart, "nginx restarted\n", ""),
        ]),
    ];
    let task = MwTask::run_command(0).invocations(1);
    let world = MwWorld::new(vec![task.invocation(0, |inv| inv.instances(instances))]);
    let (fake, out) = run_ok(&world, "--with-output -o json");
    check_eq!(out, stdout_str(&out), printed_array(&expanded(&world)));
    let step =
        |(k, p): (usize, &str)| (command_id(0, 0), instance_for(0, 0, k), Some(p.to_owned()));
    let want = [(0, install), (0, restart), (1, install), (1, restart)].map(step);
    assert_eq!(get_requests(&fake), want);
}

#[test]
fn with_output_follows_every_page_of_a_commands_instances() {
    let world = fifty_five_instances();
    let (fake, out) = run_ok(&world, "--with-output -o json");
    check_eq!(out, stdout_str(&out), printed_array(&expanded(&world)));
    let base = json!({"CommandId": command_id(0, 0), "Details": true});
    let pages = fake.calls_to(LIST_COMMAND_INVOCATIONS);
    assert_walked(&pages, &base, &[50, 50], false);
    assert_eq!(get_requests(&fake).len(), 55);
}

/// Task 0: one invocation whose command ran on 55 instances (two pages of
/// ListCommandInvocations); task 1 (AUTOMATION): one invocation.
fn fifty_five_instances() -> MwWorld {
    let instances: Vec<CmdInstance> = (0..55)
        .map(|k| CmdInstance::new(instance_for(0, 0, k)))
        .collect();
    MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(1, |_, inv| inv.instances(instances.clone())),
        MwTask::automation(1).invocations(1),
    ])
}

#[test]
fn with_output_fetches_nothing_for_invocations_without_a_command() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(3, |j, inv| match j {
            // Failed before a command was sent: an empty or no ExecutionId.
            0 => inv.status("FAILED").execution_id(Some("")),
            1 => inv.status("FAILED").execution_id(None),
            _ => inv,
        }),
        MwTask::automation(1).invocations(1),
    ]);
    let (fake, out) = run_ok(&world, "--with-output -o json");
    let want = ids_of(&world.final_identities());
    check_eq!(out, array_field(&out, "InvocationId"), want);
    assert_eq!(command_listings(&fake), [command_listing(2)]);
    assert_eq!(get_requests(&fake), [fetched(0, 2, 0)]);
    let (doc, want) = (stdout_json(&out), expanded(&world));
    assert_eq!(doc[2]["CommandInvocations"], want[2]["CommandInvocations"]);
}

/// The `warning:` lines of stderr (but for what [`with_commands`]' instance printed there, a
/// line `-o text` copies to stderr).
fn warnings(out: &Output) -> Vec<String> {
    stderr_str(out)
        .lines()
        .filter(|l| l.starts_with("warning:") && *l != "warning: beta is slow")
        .map(str::to_owned)
        .collect()
}

/// Asserts stderr has exactly one `warning:` line, that it names `invocation` and gives the
/// reason (one of `reasons`, e.g. the error code or its message); returns it.
#[track_caller]
fn assert_one_warning(out: &Output, invocation: &str, reasons: &[&str]) -> String {
    let lines = warnings(out);
    check_eq!(out, lines.len(), 1, "one warning line");
    let line = lines[0].clone();
    let why = format!("the warning names invocation {invocation}: {line:?}");
    assert!(line.contains(invocation), "{why}");
    let gives = reasons.iter().any(|r| !r.is_empty() && line.contains(r));
    assert!(
        gives,
        "the warning gives the reason (one of {reasons:?}): {line:?}"
    );
    line
}

const DENIED: &str = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
                      ssm:ListCommandInvocations";

#[test]
fn with_output_a_command_listing_that_fails_is_a_warning_and_the_listing_is_printed() {
    let failing = command_id(0, 1);
    let invalid = || Step::Error(400, "InvalidCommandId".into(), String::new());
    let throttling = "throttling after the SDK's retries";
    for (what, step, reasons) in [
        ("InvalidCommandId", invalid(), vec!["InvalidCommandId"]),
        (
            "AccessDeniedException",
            Step::access_denied(DENIED),
            vec!["AccessDenied", DENIED],
        ),
        (
            throttling,
            Step::throttled(),
            vec!["Throttling", "Rate exceeded", "throttl"],
        ),
    ] {
        let world = with_commands().fail_command_listing(&failing, step);
        // The invocation whose command listing failed has no CommandInvocations key.
        let mut want = expanded(&world);
        assert_eq!(want[1]["InvocationId"], invocation_id(0, 1));
        let failed = want[1].as_object_mut().unwrap();
        failed.remove("CommandInvocations");

        let (fake, out) = run_ok(&world, "--with-output -o json");
        check_eq!(out, stdout_str(&out), printed_array(&want), "{what}");
        assert_one_warning(&out, &invocation_id(0, 1), &reasons);
        let why = format!("{what}: nothing else on stderr");
        check_eq!(out, stderr_str(&out).lines().count(), 1, "{why}");
        // The other command's output was fetched; nothing for the failed one.
        let fetches = [fetched(0, 0, 0), fetched(0, 0, 1)];
        assert_eq!(get_requests(&fake), fetches, "{what}");
        let tries = (command_listings(&fake).iter())
            .filter(|b| b["CommandId"] == failing.as_str())
            .count();
        if what == throttling {
            assert!(tries > 1, "{what}: retried, {tries} tries");
        } else {
            assert_eq!(tries, 1, "{what}: not retried");
        }

        // Waiting: the exit code is the wait's (an invocation FAILED: 1), not an API error.
        let (_, out) = waited(&world, "--with-output -o json", 1);
        check_eq!(out, stdout_str(&out), printed_array(&want), "{what}");
        assert_one_warning(&out, &invocation_id(0, 1), &reasons);
    }

    // Table and text print the rest, with the warning.
    let world = with_commands().fail_command_listing(&failing, invalid());
    for format in ["table", "text"] {
        let (_, out) = run_ok(&world, format!("--with-output -o {format}"));
        assert_one_warning(&out, &invocation_id(0, 1), &["InvalidCommandId"]);
        let text = stdout_str(&out);
        let rest =
            text.contains("alpha 1") && (format == "text" || text.contains(&invocation_id(0, 1)));
        check!(out, rest, "-o {format}: the rest printed");
    }
}

#[test]
fn with_output_a_command_listing_failing_on_a_later_page_has_no_partial_array() {
    // 55 instances: two pages; the second is denied. The listing failed: no
    // CommandInvocations key (not the first page's 50 as if they were all).
    let denied = vec![Step::access_denied(DENIED)];
    let world = fifty_five_instances().fail_page(LIST_COMMAND_INVOCATIONS, 2, denied);
    let (fake, out) = run_ok(&world, "--with-output -o json");
    assert_json_exactly(&out, &world.final_identities());
    assert_one_warning(&out, &invocation_id(0, 0), &["AccessDenied", DENIED]);
    let pages: Vec<(usize, u16)> = (fake.calls_to(LIST_COMMAND_INVOCATIONS).iter())
        .map(|c| (c.page, c.status))
        .collect();
    assert_eq!(pages, [(1, 200), (2, 400)]);
}

#[test]
fn with_output_an_instance_whose_output_cannot_be_fetched_is_left_out_with_a_warning() {
    let message = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
                   ssm:GetCommandInvocation on resource: arn:aws:ec2:us-east-1:123456789012:\
                   instance/i-0";
    let denied = Step::access_denied(message);
    let world =
        with_commands().fail_command_fetch(&command_id(0, 0), &instance_for(0, 0, 1), denied);
    // Invocation 0 keeps the record of the instance that answered, in order.
    let mut want = expanded(&world);
    let records = want[0]["CommandInvocations"].as_array_mut().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["InstanceId"], instance_for(0, 0, 1));
    records.remove(1);
    let reasons = ["AccessDenied", message];

    let (fake, out) = run_ok(&world, "--with-output -o json");
    check_eq!(out, stdout_str(&out), printed_array(&want));
    assert_one_warning(&out, &invocation_id(0, 0), &reasons);
    check_eq!(out, stderr_str(&out).lines().count(), 1);
    assert_eq!(get_requests(&fake).len(), 3, "access denied is not retried");

    let (_, out) = run_ok(&world, "--with-output -o jsonl");
    check_eq!(out, stdout_str(&out), printed_lines(&want));
    assert_one_warning(&out, &invocation_id(0, 0), &reasons);

    let (_, out) = waited(&world, "--with-output -o json", 1);
    check_eq!(out, stdout_str(&out), printed_array(&want));
    assert_one_warning(&out, &invocation_id(0, 0), &reasons);
}

#[test]
fn with_output_a_command_listing_no_instance_is_an_empty_array_and_a_warning() {
    // Invocation 1's command is older than Run Command keeps results: it lists nothing.
    let task = MwTask::run_command(0).invocations(2);
    let world = MwWorld::new(vec![task.invocation(1, |inv| inv.instances(Vec::new()))]);

    let want = expanded(&world);
    assert_eq!(want[1]["CommandInvocations"], json!([]));
    let (fake, out) = run_ok(&world, "--with-output -o json");
    check_eq!(out, stdout_str(&out), printed_array(&want));
    check!(out, stdout_str(&out).contains("\"CommandInvocations\": []"));
    assert_one_warning(&out, &invocation_id(0, 1), &["30 days"]);
    check_eq!(out, stderr_str(&out).lines().count(), 1);
    assert_eq!(get_requests(&fake), [fetched(0, 0, 0)]);
}

#[test]
fn with_output_fetches_the_output_of_printed_invocations_only() {
    let world = with_commands();
    // --max-items 1: the first invocation only.
    let (fake, out) = run_ok(&world, "--with-output --max-items 1 -o json");
    let want = with_command_invocations(&world, &world.final_identities()[..1]);
    check_eq!(out, stdout_str(&out), printed_array(&want));
    assert_eq!(get_requests(&fake), [fetched(0, 0, 0), fetched(0, 0, 1)]);

    // --status while waiting filters on the client: only the failed invocation's command.
    let (fake, out) = waited(&world, "--with-output --status FAILED -o json", 1);
    let want = with_command_invocations(&world, &with_status(&world, "FAILED"));
    check_eq!(out, stdout_str(&out), printed_array(&want));
    assert_eq!(command_listings(&fake), [command_listing(1)]);
    assert_eq!(get_requests(&fake), [fetched(0, 1, 0)]);
}

#[test]
fn with_output_after_a_wait_fetches_each_command_once_at_the_end() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(2, |j, inv| inv.ends_at(2 + j, "SUCCESS")),
    ]);
    let (fake, out) = waited(&world, "--with-output -o json", 0);
    check_eq!(out, stdout_str(&out), printed_array(&expanded(&world)));
    // Each command listed exactly once.
    assert_eq!(command_listings(&fake), [0, 1].map(command_listing));
    assert_eq!(get_requests(&fake).len(), 2);
}

/// A status word reduced to letters, lower case: `TIMED_OUT`, `TimedOut` → `timedout`.
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[test]
fn text_prints_each_instances_output_under_a_header_on_its_own_stream() {
    let world = with_commands();
    // -o text implies --with-output.
    let (fake, out) = run_ok(&world, "-o text");
    let (stdout, stderr) = (stdout_str(&out), stderr_str(&out));
    let out_sections = sections(&stdout);
    // The parts of a header line `== a · b · … ==`.
    let parts = |h: &str| -> Vec<String> {
        let inner = h.trim_start_matches("== ").trim_end_matches(" ==");
        inner.split(" · ").map(str::to_owned).collect()
    };

    // (InvocationId, InstanceId, Run Command status, stdout, stderr) in listing order.
    let mut expected = Vec::new();
    let run_command = (world.tasks.iter()).filter(|t| t.task_type == RUN_COMMAND);
    for inv in run_command.flat_map(|t| &t.invocations) {
        for instance in &inv.instances {
            let (status, _) = instance.state_for(inv.final_status());
            let plugin = &instance.plugins[0];
            let ids = (inv.invocation_id.clone(), instance.instance_id.clone());
            expected.push((ids, status, plugin.stdout.clone(), plugin.stderr.clone()));
        }
    }
    let others = [1, 2].map(|t| invocation_id(t, 0));
    let why = "one section per instance, one header per other invocation, nothing before";
    let many = expected.len() + others.len();
    assert_eq!(out_sections.len(), many, "{why}\n{stdout}");
    for (((inv, instance), status, want_out, _), (header, content)) in
        expected.iter().zip(&out_sections)
    {
        let parts = parts(header);
        let reads = parts.len() >= 3 && parts[0] == *inv && parts[1] == *instance;
        let why = format!("header {header:?} reads == {inv} · {instance} · <status> ==");
        assert!(reads, "{why}\n{stdout}");
        let why = format!("status in header {header:?}");
        assert_eq!(squash(&parts[2]), squash(status), "{why}");
        assert_eq!(content, want_out, "stdout of {inv} on {instance}\n{stdout}");
    }
    for (inv, (header, content)) in others.iter().zip(&out_sections[expected.len()..]) {
        let one = header.starts_with(&format!("== {inv} "));
        assert!(one, "a header line for {inv}: {header:?}\n{stdout}");
        assert_eq!(content, "", "header line only for {inv}\n{stdout}");
    }

    // stderr: each instance's stderr under its header.
    let err_sections: HashMap<(String, String), String> = (sections(&stderr).into_iter())
        .map(|(header, content)| {
            let why = format!("stderr before any header: {content:?}\n{stderr}");
            assert!(!header.is_empty(), "{why}");
            let parts = parts(&header);
            let instance = parts.get(1).cloned().unwrap_or_default();
            ((parts[0].clone(), instance), content)
        })
        .collect();
    for ((inv, instance), _, _, want_err) in &expected {
        let got = err_sections.get(&(inv.clone(), instance.clone()));
        let got = got.map(String::as_str).unwrap_or("");
        assert_eq!(got, want_err, "stderr of {inv} on {instance}\n{stderr}");
    }
    assert_eq!(fake.calls_to(LIST_COMMAND_INVOCATIONS).len(), 2);
    assert_eq!(get_requests(&fake).len(), 3);
}

// --- JSON exactly as the aws CLI prints it -------------------------------------------------------

/// Task 0: one finished invocation with every key, quotes and non-ASCII in its strings, and one
/// running one without Parameters, StatusDetails, EndTime, OwnerInformation and WindowTargetId.
fn small_case() -> MwWorld {
    MwWorld::new(vec![
        MwTask::run_command(0)
            .with_invocations(1, |_, inv| {
                inv.status_with("SUCCESS", "Success")
                    .parameters(Some(r#"{"commands":["echo héllo ✓"],"note":"a\tb"}"#))
                    .owner(Some("team=web \"blue\" \\ ünïcode"))
                    .times(1_715_677_951_291, 1_715_677_954_000)
            })
            .with_invocations(1, |_, inv| {
                inv.status("IN_PROGRESS")
                    .parameters(None)
                    .window_target(None)
                    .times(1_715_677_952_500, 0)
            }),
    ])
}

const SMALL_CASE_JSON: &str = r#"[
    {
        "WindowExecutionId": "5a9b3c1d-7e2f-4a6b-8c9d-0e1f2a3b4c5d",
        "TaskExecutionId": "7a5c0000-3c2b-4d1e-8f00-a1b2c3d4e5f6",
        "InvocationId": "1c0e0000-0000-4a3b-9c8d-7e6f5a4b3c2d",
        "ExecutionId": "c0de0000-0000-4e5f-8a9b-0c1d2e3f4a5b",
        "TaskType": "RUN_COMMAND",
        "Parameters": "{\"commands\":[\"echo héllo ✓\"],\"note\":\"a\\tb\"}",
        "Status": "SUCCESS",
        "StatusDetails": "Success",
        "StartTime": "{T1}",
        "EndTime": "{T2}",
        "OwnerInformation": "team=web \"blue\" \\ ünïcode",
        "WindowTargetId": "e3f0a1b2-6c5d-4e7f-9a8b-1234567890ab"
    },
    {
        "WindowExecutionId": "5a9b3c1d-7e2f-4a6b-8c9d-0e1f2a3b4c5d",
        "TaskExecutionId": "7a5c0000-3c2b-4d1e-8f00-a1b2c3d4e5f6",
        "InvocationId": "1c0e0000-0001-4a3b-9c8d-7e6f5a4b3c2d",
        "ExecutionId": "c0de0000-0001-4e5f-8a9b-0c1d2e3f4a5b",
        "TaskType": "RUN_COMMAND",
        "Status": "IN_PROGRESS",
        "StartTime": "{T3}"
    }
]
"#;

/// The three times of [`SMALL_CASE_JSON`] (on 2024-05-14) in UTC, space-separated.
const UTC_TIMES: &str = "09:12:31.291000+00:00 09:12:34+00:00 09:12:32.500000+00:00";

/// [`SMALL_CASE_JSON`] with these times of 2024-05-14 (three, space-separated).
fn small_case_json(times: &str) -> String {
    let mut text = SMALL_CASE_JSON.to_owned();
    for (i, t) in times.split(' ').enumerate() {
        text = text.replace(&format!("{{T{}}}", i + 1), &format!("2024-05-14T{t}"));
    }
    let why = "three times, every placeholder replaced";
    assert!(!text.contains("{T"), "{why}: {times:?}");
    text
}

#[test]
fn json_is_exactly_what_the_aws_cli_prints_times_in_the_local_time_zone() {
    let world = small_case();
    // Sanity: the fake sends what the expected text assumes.
    assert_eq!(world.identities_at(0, 1)[1].get("EndTime"), None);
    let want = command_id(0, 1);
    assert_eq!(world.identities_at(0, 1)[1]["ExecutionId"], want);
    assert_eq!(WINDOW_TARGET_ID, "e3f0a1b2-6c5d-4e7f-9a8b-1234567890ab");
    let want = printed_array(&printed_all(&world.identities_at(0, 1)));
    let why = "the helpers of this file agree with the literal";
    assert_eq!(small_case_json(UTC_TIMES), want, "{why}");
    let t0 = task_execution_id(0);
    for (tz, times) in [
        ("UTC", UTC_TIMES),
        (
            "Asia/Kolkata",
            "14:42:31.291000+05:30 14:42:34+05:30 14:42:32.500000+05:30",
        ),
        (
            "America/New_York",
            "05:12:31.291000-04:00 05:12:34-04:00 05:12:32.500000-04:00",
        ),
    ] {
        let fake = FakeMw::start(small_case());
        let out = run_tz(&fake, tz, format!("--task-id {t0} -o json"));
        assert_output(&out, 0, &small_case_json(times), "");
    }

    // -o jsonl: exactly one compact object per line.
    let (_, out) = run_ok(&world, format!("--task-id {t0} -o jsonl"));
    let items: Vec<Value> = serde_json::from_str(&small_case_json(UTC_TIMES)).unwrap();
    let want = printed_lines(&items);
    assert!(
        want.starts_with("{\"WindowExecutionId\":\"5a9b3c1d-"),
        "{want}"
    );
    check_eq!(out, stdout_str(&out), want);
}

/// 27 invocations (three pages for the aws CLI, which leaves MaxResults to the fake's
/// default of 10) with content JSON printers get wrong: control characters, non-BMP
/// characters, quotes and backslashes, times with and without fractions, absent keys.
fn tricky_world() -> MwWorld {
    let base = small_case();
    let task = base.tasks[0].clone().with_invocations(25, |j, inv| {
        match j % 5 {
            0 => inv.status_with(
                "FAILED",
                "caf\u{e9} \u{1f680} nul\u{0} bel\u{7} del\u{7f} c1\u{9b}[2J ls\u{2028} slash/ \u{feff}bom",
            ),
            1 => inv.owner(Some("\u{1b}[1mowner\u{1b}[0m \"q\" \\ tab\t")),
            2 => inv.status("PENDING").window_target(None),
            3 => inv.times(1_715_677_951_000, 1_715_677_951_007),
            _ => inv.status("TIMED_OUT").parameters(Some("")),
        }
    });
    MwWorld::new(vec![task])
}

#[test]
fn json_matches_the_aws_cli_byte_for_byte() {
    let home = tempfile::tempdir().expect("temp HOME");
    let config = home.path().join("aws-config");
    std::fs::write(&config, "[default]\ncli_timestamp_format = iso8601\n").unwrap();
    let world = tricky_world();
    let t0 = task_execution_id(0);
    let fake = FakeMw::start(world.clone());
    let args = format!(
        "ssm describe-maintenance-window-execution-task-invocations --window-execution-id \
         {WINDOW_EXECUTION_ID} --task-id {t0} --query WindowExecutionTaskInvocationIdentities \
         --output json"
    );
    let mut aws = crate::support::moto::aws_command_at(&fake.url(), home.path(), args.words());
    let aws = run(aws.env("AWS_CONFIG_FILE", &config).env("TZ", "UTC"));
    check!(aws, aws.status.success(), "aws CLI");
    let reference = stdout_str(&aws);
    // Sanity: the reference walked the pages and printed ISO times.
    let why = "the aws CLI walked several pages";
    assert!(fake.calls_to(DESCRIBE_INVOCATIONS).len() >= 2, "{why}");
    let iso = reference.contains("\"2024-05-14T09:12:31.291000+00:00\"");
    assert!(iso, "unexpected aws CLI output:\n{reference}");
    // The helpers of this file agree with the aws CLI.
    let want = printed_array(&printed_all(&world.identities_at(0, 1)));
    assert_eq!(reference, want);

    let (_, out) = run_ok(&world, format!("--task-id {t0} -o json"));
    assert_same_lines(&out.stdout, &aws.stdout, "ssmres task-invocations -o json");
}

// --- Table ---------------------------------------------------------------------------------------

const SECRET: &str = "s3cr3t-Pa55w0rd-in-parameters";

/// Task 0 (RUN_COMMAND): a SUCCESS, and a FAILED one whose StatusDetails and
/// OwnerInformation carry escape sequences and whose Parameters hold a secret; task 1
/// (AUTOMATION): one SUCCESS.
fn table_world() -> MwWorld {
    let parameters = format!(r#"{{"token":"{SECRET}","commands":["deploy"]}}"#);
    let failed = |inv: MwInvocation| {
        let inv = inv.status_with("FAILED", "\u{1b}[31mboom\u{1b}[0m: disk full");
        inv.owner(Some("\u{1b}]0;pwned\u{7}owner-b"))
            .parameters(Some(&parameters))
    };
    let task = MwTask::run_command(0)
        .invocations(2)
        .invocation(0, |inv| inv.owner(Some("owner-a")));
    MwWorld::new(vec![
        task.invocation(1, failed),
        MwTask::automation(1).invocations(1),
    ])
}

#[test]
fn table_shows_a_heading_and_rows_per_task_with_control_characters_visible() {
    let world = table_world();
    let (_, out) = run_ok(&world, "-o table");
    let raw = out.stdout.contains(&0x1b) || out.stdout.contains(&0x07);
    check!(out, !raw, "raw control characters in the table");
    let text = stdout_str(&out);
    // A heading per task: Task <id> · <type> · <status>.
    for (t, task_type, status) in [(0, RUN_COMMAND, "FAILED"), (1, AUTOMATION, "SUCCESS")] {
        let id = task_execution_id(t);
        let heading = text.lines().find(|l| l.contains(&format!("Task {id}")));
        let heading = heading.unwrap_or_else(|| panic!("no heading for task {id}\n{text}"));
        let full = heading.contains(task_type) && heading.contains(status);
        assert!(full, "heading {heading:?} gives the type and status");
    }
    // Rows under their task's heading, in order.
    let at = |needle: &str| text.find(needle).unwrap();
    let heading = |t| at(&format!("Task {}", task_execution_id(t)));
    let row = |t, j| at(&invocation_id(t, j));
    let order = [heading(0), row(0, 0), row(0, 1), heading(1), row(1, 0)];
    let sorted = order.windows(2).all(|w| w[0] < w[1]);
    assert!(sorted, "headings and rows out of order\n{text}");
    let failed = row_of(&text, &invocation_id(0, 1));
    assert!(failed.contains("FAILED"), "{failed:?}");
    let visible = failed.contains("\\x1b[31mboom\\x1b[0m: disk full");
    assert!(visible, "details with the escapes made visible: {failed:?}");
    let visible = failed.contains("\\x1b]0;pwned\\x07owner-b");
    assert!(visible, "owner with the escapes made visible: {failed:?}");
    let first = row_of(&text, &invocation_id(0, 0));
    // Execution and target IDs shown (at least their start).
    for needle in [
        "owner-a",
        "SUCCESS",
        &command_id(0, 0)[..8],
        &WINDOW_TARGET_ID[..8],
    ] {
        assert!(first.contains(needle), "{needle} in {first:?}");
    }
    assert!(row_of(&text, &invocation_id(1, 0)).contains("SUCCESS"));
    // A totals line: "N SUCCESS, N FAILED".
    let totals = |l: &str| !l.contains("1c0e") && l.contains("1 FAILED") && l.contains(" SUCCESS");
    assert!(text.lines().any(totals), "a totals line\n{text}");
    // Parameters may hold secrets: not in the table without -v.
    let why = format!("parameters in the table without -v\n{text}");
    assert!(!text.contains(SECRET), "{why}");
    let why = format!("parameters in the table\n{text}");
    assert!(!text.contains("\"token\""), "{why}");
}

#[test]
fn parameters_are_in_the_table_only_with_verbose_and_always_in_json() {
    let world = table_world();
    let (_, out) = run_ok(&world, "-o table -v");
    let why = "parameters in the table with -v";
    check!(out, stdout_str(&out).contains(SECRET), "{why}");
    check!(out, !out.stdout.contains(&0x1b));

    let (_, out) = run_ok(&world, "-o json");
    check!(out, stdout_str(&out).contains(SECRET));
    assert_json_exactly(&out, &world.final_identities());
}

#[test]
fn text_never_prints_parameters() {
    let world = table_world();
    let t0 = task_execution_id(0);
    for extra in [
        "",
        "-v",
        "-vvv",
        &format!("--task-id {t0} -v"),
        &format!("--wait -v {FAST}"),
    ] {
        let fake = FakeMw::start(world.clone());
        let out = run_utc(&fake, format!("-o text {extra}"));
        check!(out, matches!(out.status.code(), Some(0 | 1)), "{extra:?}");
        for (stream, text) in [("stdout", stdout_str(&out)), ("stderr", stderr_str(&out))] {
            let secret =
                text.contains(SECRET) || text.contains("\"token\"") || text.contains("uptime");
            check!(out, !secret, "-o text {extra:?}: Parameters on {stream}");
        }
        // It printed the outputs (the run did something).
        let hello = format!("hello from {}", instance_for(0, 0, 0));
        check!(out, stdout_str(&out).contains(&hello), "{extra:?}");
    }
}

#[test]
fn parameters_never_reach_stderr_even_with_verbose() {
    let world = table_world();
    let wait = format!("--wait {FAST}");
    for format in ["table", "json"] {
        for verbose in ["-v", "-vv", "-vvv"] {
            // A wait exits 1: an invocation FAILED.
            for (waiting, code) in [("", 0), (wait.as_str(), 1)] {
                let fake = FakeMw::start(world.clone());
                let what = format!("-o {format} {verbose} {waiting}");
                let out = run_utc(&fake, &what);
                assert_exit(&out, code);
                let why = format!("{what}: Parameters on stderr");
                check!(out, !stderr_str(&out).contains(SECRET), "{why}");
                let column = stdout_str(&out).contains(SECRET);
                let why =
                    format!("{what}: Parameters on stdout (the table column with -v, json always)");
                check!(out, column, "{why}");
                if verbose == "-v" && code == 1 {
                    let why =
                        format!("{what}: -v prints diagnostics (else this test proves little)");
                    assert!(!out.stderr.is_empty(), "{why}");
                }
            }
        }
    }
}

#[test]
fn table_with_task_id_and_with_output_shows_the_command_output() {
    let world = with_commands();
    let t0 = task_execution_id(0);
    let (fake, out) = run_ok(&world, format!("--task-id {t0} --with-output -o table"));
    let text = stdout_str(&out);
    let mut needles = vec![invocation_id(0, 0), invocation_id(0, 1)];
    needles.extend([(0, 0), (0, 1), (1, 0)].map(|(j, k)| instance_for(0, j, k)));
    needles.extend(["alpha 1", "gamma: disk full", "df: /var: 100%"].map(str::to_owned));
    for needle in &needles {
        assert!(text.contains(needle), "{needle:?} in the table\n{text}");
    }
    assert_eq!(get_requests(&fake).len(), 3);
}

// --- The fake itself: it must answer as SSM does, or the tests above prove little ----------------

#[test]
fn the_fake_validates_pages_and_filters_as_ssm_does() {
    let fake = FakeMw::start(mixed_statuses().page_cap(100));
    let t0 = task_execution_id(0);
    let list = |body: Value| fake.call(DESCRIBE_INVOCATIONS, &body);
    let with = |more: Value| listing_body(&t0, more);
    // The status and error type of an answer.
    let kind = |(status, body): (u16, Value)| (status, body["__type"].as_str().map(str::to_owned));
    let answer = |body: Value| kind(list(body));
    let invalid = (400, Some("ValidationException".to_owned()));
    let key = "WindowExecutionTaskInvocationIdentities";
    let identities = |body: &Value| body[key].as_array().unwrap().clone();

    // MaxResults 10 to 100.
    for bad in [0, 5, 9, 101, 1_000] {
        assert_eq!(answer(with(json!({"MaxResults": bad}))), invalid, "{bad}");
    }
    let (status, body) = list(with(json!({"MaxResults": 10})));
    assert_eq!(status, 200, "{body}");
    assert_eq!(identities(&body).len(), 10);
    let token = body["NextToken"].as_str().unwrap().to_owned();
    // The token goes with another MaxResults, not with another query.
    let (status, body) = list(with(json!({"MaxResults": 50, "NextToken": token})));
    assert_eq!(status, 200, "{body}");
    assert_eq!(identities(&body).len(), 2);
    assert!(body.get("NextToken").is_none(), "{body}");
    let failed = json!([{"Key": "STATUS", "Values": ["FAILED"]}]);
    let t1 = task_execution_id(1);
    for other in [
        with(json!({"MaxResults": 10, "NextToken": token, "Filters": failed})),
        listing_body(&t1, json!({"MaxResults": 10, "NextToken": token})),
        with(json!({"MaxResults": 10, "NextToken": "AAEAAWnot-a-token"})),
    ] {
        assert_eq!(answer(other.clone()).0, 400, "{other}");
    }

    // Filters: STATUS only, known upper-case values, applied server-side.
    for bad in [
        json!([{"Key": "NAME", "Values": ["FAILED"]}]),
        json!([{"Key": "status", "Values": ["FAILED"]}]),
        json!([{"Key": "STATUS", "Values": ["failed"]}]),
        json!([{"Key": "STATUS", "Values": ["DONE"]}]),
        json!([{"Key": "STATUS", "Values": []}]),
        json!([{"Key": "STATUS"}]),
    ] {
        let body = with(json!({"MaxResults": 100, "Filters": bad}));
        assert_eq!(answer(body), invalid, "{bad}");
    }
    let filters = json!([{"Key": "STATUS", "Values": ["FAILED", "TIMED_OUT"]}]);
    let (status, body) = list(with(json!({"MaxResults": 100, "Filters": filters})));
    assert_eq!(status, 200);
    let statuses: Vec<Value> = (identities(&body).iter())
        .map(|v| v["Status"].clone())
        .collect();
    assert_eq!(statuses, ["FAILED", "TIMED_OUT"].repeat(3));

    // IDs: UUIDs, required; unknown ones do not exist.
    for bad in [
        json!({"TaskId": t0, "MaxResults": 10}),
        json!({"WindowExecutionId": "nope", "TaskId": t0, "MaxResults": 10}),
        with(json!({"TaskId": &t0[..35], "MaxResults": 10})),
    ] {
        assert_eq!(answer(bad.clone()), invalid, "{bad}");
    }
    let missing = (400, Some("DoesNotExistException".to_owned()));
    let (status, body) =
        list(json!({"WindowExecutionId": OTHER_WINDOW, "TaskId": t0, "MaxResults": 10}));
    assert_eq!(kind((status, body.clone())), missing);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(OTHER_WINDOW), "{body}");
    let unknown_task = listing_body(&task_execution_id(9), json!({"MaxResults": 10}));
    assert_eq!(answer(unknown_task), missing);

    // Timestamps are epoch-seconds numbers; keys as the model names them.
    let first = identities(&list(with(json!({"MaxResults": 10}))).1)[0].clone();
    assert!(first["StartTime"].is_f64(), "{first}");
    assert_eq!(first["WindowTargetId"], WINDOW_TARGET_ID);
    assert_eq!(first["TaskType"], RUN_COMMAND);
    // Without --task-id nothing was counted as a round.
    assert_eq!(fake.round(), 0);
}

#[test]
fn the_fake_world_changes_per_round_and_answers_every_call() {
    let world = MwWorld::new(vec![
        MwTask::run_command(0).with_invocations(1, |_, inv| {
            inv.ends_at(3, "FAILED").instances(vec![
                CmdInstance::new(fleet_instance_id(1)).output("one\n", "err one\n"),
                CmdInstance::new(fleet_instance_id(2)),
            ])
        }),
        MwTask::automation(1).listed_from(2).invocations(1),
    ])
    .fail_page_in_round(DESCRIBE_TASKS, 2, 1, vec![Step::throttled()])
    .fail_page_in_round(GET_WINDOW_EXECUTION, 3, 1, vec![Step::throttled()]);
    let fake = FakeMw::start(world);
    let call = |target: &str, body: Value| fake.call(target, &body);
    let tasks = || {
        call(
            DESCRIBE_TASKS,
            merged(tasks_body(), json!({"MaxResults": 100})),
        )
    };
    let window = || call(GET_WINDOW_EXECUTION, tasks_body());
    let invs = |t| {
        let body = listing_body(&task_execution_id(t), json!({"MaxResults": 10}));
        call(DESCRIBE_INVOCATIONS, body)
    };
    let get = |k| {
        let body = json!({"CommandId": command_id(0, 0), "InstanceId": fleet_instance_id(k)});
        call(GET_COMMAND_INVOCATION, body)
    };
    let status_of = |v: &Value| v["Status"].as_str().unwrap().to_owned();
    let key = "WindowExecutionTaskIdentities";
    let listed = |body: &Value| body[key].as_array().unwrap().clone();

    // Round 1, as a wait without --task-id makes it: the Get starts it, the tasks listing
    // right after belongs to it. One task, PENDING; its invocation PENDING without ExecutionId
    // nor StartTime.
    let (_, w) = window();
    assert_eq!((fake.round(), status_of(&w)), (1, "PENDING".into()));
    assert_eq!(w["TaskIds"], json!([task_execution_id(0)]));
    let (s, body) = tasks();
    assert_eq!(s, 200, "{body}");
    let why = "the tasks listing after the Get is in its round";
    assert_eq!(fake.round(), 1, "{why}");
    let tasks_listed = listed(&body);
    assert_eq!(tasks_listed.len(), 1);
    assert_eq!(status_of(&tasks_listed[0]), "PENDING");
    assert_eq!(tasks_listed[0]["TaskArn"], "AWS-RunShellScript");
    let inv = invs(0).1["WindowExecutionTaskInvocationIdentities"][0].clone();
    assert_eq!(status_of(&inv), "PENDING");
    let absent = [inv.get("ExecutionId"), inv.get("StartTime")];
    assert_eq!(absent, [None, None], "{inv}");
    let why = "task 1 not there yet";
    assert_eq!(invs(1).1["__type"], "DoesNotExistException", "{why}");
    assert_eq!(get(1).0, 400, "no command before it is sent");

    // Round 2: the Get, then the tasks throttled and retried (same round): two tasks,
    // IN_PROGRESS.
    assert_eq!(status_of(&window().1), "IN_PROGRESS");
    assert_eq!(fake.round(), 2);
    assert_eq!(tasks().1["__type"], "ThrottlingException");
    let tasks_listed = listed(&tasks().1);
    assert_eq!(fake.round(), 2);
    assert_eq!(tasks_listed.len(), 2);
    assert_eq!(status_of(&tasks_listed[0]), "IN_PROGRESS");
    let inv = &invs(0).1["WindowExecutionTaskInvocationIdentities"][0];
    assert_eq!(inv["ExecutionId"], command_id(0, 0));

    // Round 3: the Get throttled, its retry and the tasks in the same round: FAILED; the
    // command's instances answer with their output.
    assert_eq!(window().1["__type"], "ThrottlingException");
    assert_eq!(fake.round(), 3);
    let (_, w) = window();
    assert_eq!(fake.round(), 3, "the Get's retry is in its round");
    assert_eq!(status_of(&w), "FAILED");
    assert!(w["EndTime"].is_f64());
    tasks();
    assert_eq!(fake.round(), 3);
    let (s, body) = call(LIST_COMMAND_INVOCATIONS, command_listing(0));
    assert_eq!(s, 200, "{body}");
    let records = body["CommandInvocations"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["Status"], "Failed");
    assert_eq!(records[0]["CommandPlugins"][0]["Output"], "one\nerr one\n");
    let (s, body) = get(1);
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["StandardOutputContent"], "one\n");
    assert_eq!(body["StandardErrorContent"], "err one\n");
    assert_eq!(body["CommandId"], command_id(0, 0));
    let too_many = json!({"CommandId": command_id(0, 0), "MaxResults": 51});
    assert_eq!(call(LIST_COMMAND_INVOCATIONS, too_many).0, 400);

    // Rounds 4 and 5, as a wait with --task-id makes them: a tasks listing that does not
    // follow a Get starts a round.
    tasks();
    assert_eq!(fake.round(), 4);
    invs(0);
    tasks();
    assert_eq!(fake.round(), 5);
    let rounds =
        |target: &str| -> Vec<usize> { fake.calls_to(target).iter().map(|c| c.round).collect() };
    assert_eq!(rounds(DESCRIBE_TASKS), [1, 2, 2, 3, 4, 5]);
    assert_eq!(rounds(GET_WINDOW_EXECUTION), [1, 2, 3, 3]);

    // Scripted for one command or one instance only; a window without Status.
    let denied = || Step::access_denied("no");
    let world = with_commands()
        .fail_command_listing(&command_id(0, 1), denied())
        .fail_command_fetch(&command_id(0, 0), &instance_for(0, 0, 1), denied())
        .window_status_absent();
    let fake = FakeMw::start(world);
    let list = |j| fake.call(LIST_COMMAND_INVOCATIONS, &command_listing(j)).0;
    assert_eq!((list(0), list(1)), (200, 400));
    let get = |k| {
        let body = json!({"CommandId": command_id(0, 0), "InstanceId": instance_for(0, 0, k)});
        fake.call(GET_COMMAND_INVOCATION, &body).0
    };
    assert_eq!((get(0), get(1), get(1)), (200, 400, 400));
    let (s, w) = fake.call(GET_WINDOW_EXECUTION, &tasks_body());
    assert_eq!(s, 200);
    let absent = [w.get("Status"), w.get("StatusDetails")];
    assert_eq!(absent, [None, None], "{w}");
    assert_eq!(w["WindowExecutionId"], WINDOW_EXECUTION_ID);
}
