//! Documents of several steps (plugins): `get` and `wait` without `--plugin-name` find the
//! steps through ListCommandInvocations once GetCommandInvocation answers InvalidPluginName,
//! follow the invocation with one listing per round, then fetch each step's result once, and
//! print every step, in the document's order, in every output mode. Against a scripted world
//! ([`FakeMulti`]) whose rounds are the binary's polls.

use std::collections::BTreeSet;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::fake_multi::{
    CMD_ID, FakeMulti, GET_COMMAND_INVOCATION, LIST_COMMAND_INVOCATIONS, LIST_COMMANDS, Lag,
    MultiInstance, MultiWorld, StepSpec, step_end, step_start,
};
use crate::support::fake_ssm::{FAILED, INSTANCE_ID, SUCCESS, fleet_instance_id};
use crate::support::{
    Args, Cli, FAST_POLL, assert_exit, assert_output, assert_single_stderr_line, cells, check,
    check_eq, describe, printed, printed_array, printed_lines, stdout_json, stdout_str,
};

// --- Helpers -------------------------------------------------------------------------------------

/// Runs `ssmres ARGS` against the world.
fn run(fake: &FakeMulti, args: impl Args) -> Output {
    Cli::new(&fake.url()).run(args)
}

/// `wait --command-id CMD_ID --instance-id INSTANCE_ID <fast polling> EXTRA`.
fn wait_one(fake: &FakeMulti, extra: &str) -> Output {
    wait_fleet(fake, &[INSTANCE_ID], extra)
}

/// `get --command-id CMD_ID --instance-id INSTANCE_ID EXTRA`.
fn get_one(fake: &FakeMulti, extra: &str) -> Output {
    run(
        fake,
        format!("get --command-id {CMD_ID} --instance-id {INSTANCE_ID} {extra}"),
    )
}

/// `wait --command-id CMD_ID [--instance-id each] <fast polling> EXTRA`.
fn wait_fleet(fake: &FakeMulti, instances: &[&str], extra: &str) -> Output {
    let named: String = instances
        .iter()
        .map(|i| format!(" --instance-id {i}"))
        .collect();
    run(
        fake,
        format!(
            "wait --command-id {CMD_ID}{named} {} {extra}",
            FAST_POLL.join(" ")
        ),
    )
}

/// A three-step deployment on INSTANCE_ID: `install` runs in round 1 and succeeds in round 2,
/// `migrate` runs from round 2 and fails with code 2 in round 3, `restart` waits until round 3
/// and succeeds in round 4. The invocation ends (Failed) in round 4.
fn three_steps() -> MultiWorld {
    let [install, migrate, restart] = THREE.map(StepSpec::new);
    MultiWorld::one(MultiInstance::new(
        INSTANCE_ID,
        vec![
            install
                .output("installing 3 packages\n", "warning: cache cold\n")
                .succeeds_at(2),
            migrate
                .output("migrating schema v41 -> v42\n", "error: table locked\n")
                .runs(2, 3, FAILED)
                .code(2),
            restart
                .output("restarting app.service\n", "")
                .runs(3, 4, SUCCESS),
        ],
    ))
}

/// What [`three_steps`] prints with `-o text`: each step's stdout, and each step's stderr.
const THREE_TEXT: (&str, &str) = (
    "installing 3 packages\nmigrating schema v41 -> v42\nrestarting app.service\n",
    "warning: cache cold\nerror: table locked\n",
);

/// The fetches of the three steps once the invocation ended.
const THREE_GETS: &str = "Get(install) Get(migrate) Get(restart)";

/// The step names of a three-step world, in order.
const THREE: [&str; 3] = ["install", "migrate", "restart"];

/// A two-step document that has ended: `build` succeeded, `test` failed with code 1.
fn two_steps_ended() -> MultiWorld {
    let test = StepSpec::new("test")
        .output("12 passed, 1 failed\n", "FAIL test_login\n")
        .fails_at(1, 1);
    MultiWorld::one(MultiInstance::new(
        INSTANCE_ID,
        vec![StepSpec::new("build").output("built in 3s\n", ""), test],
    ))
}

/// The final GetCommandInvocation bodies of every step of INSTANCE_ID.
fn final_bodies(fake: &FakeMulti) -> Vec<Value> {
    fake.world().instance(INSTANCE_ID).final_get_bodies(CMD_ID)
}

/// Asserts the calls made, round by round, shortened (`Get`, `Get(step)`, `List`): `expected`
/// reads `round: call call…; round: …`.
#[track_caller]
fn assert_rounds(fake: &FakeMulti, out: &Output, expected: &str) {
    let round = |r: &str| {
        let (n, calls) = r.split_once(':').expect("round: calls");
        (
            n.trim().parse().unwrap(),
            calls.split_whitespace().map(str::to_owned).collect(),
        )
    };
    let want: Vec<(usize, Vec<String>)> = expected.split(';').map(round).collect();
    check_eq!(out, fake.calls_by_round(), want, "calls per round");
}

/// Asserts each round of the fake began a pause after the one before: one poll each (a poll
/// that made two listings back to back would show as two rounds without a pause between).
#[track_caller]
fn assert_rounds_are_polls(fake: &FakeMulti, pause: Duration, out: &Output) {
    let starts: Vec<Instant> = fake
        .rounds()
        .iter()
        .filter_map(|calls| calls.first())
        .map(|c| c.at)
        .collect();
    for gap in starts.windows(2).map(|pair| pair[1] - pair[0]) {
        let why = format!(
            "two rounds {gap:?} apart: not one poll each\n{:?}",
            fake.calls_by_round()
        );
        check!(out, gap >= pause, "{why}");
    }
}

/// Asserts every ListCommandInvocations call asked for INSTANCE_ID's invocation with details.
#[track_caller]
fn assert_lists_ask_for_one_detailed_invocation(fake: &FakeMulti) {
    for call in fake.calls_to(LIST_COMMAND_INVOCATIONS) {
        let asked = [
            &call.body["CommandId"],
            &call.body["InstanceId"],
            &call.body["Details"],
        ];
        let want = [&json!(CMD_ID), &json!(INSTANCE_ID), &json!(true)];
        let why = format!("{:?}", call.body);
        assert_eq!(asked, want, "{why}");
    }
}

/// The lines of stdout.
fn lines(out: &Output) -> Vec<String> {
    stdout_str(out).lines().map(str::to_owned).collect()
}

// --- wait: one listing per round, one fetch per step, every output mode --------------------------

#[test]
fn wait_on_three_steps_lists_once_per_round_then_fetches_each_step_once() {
    let fake = FakeMulti::start(three_steps());
    // Polls at least 100 ms apart, so that each round of the fake is seen to be one poll.
    let ids = format!("--command-id {CMD_ID} --instance-id {INSTANCE_ID}");
    let out = run(
        &fake,
        format!("wait {ids} --min-interval 100ms --max-interval 150ms -o json"),
    );
    assert_exit(&out, 1);
    assert_rounds_are_polls(&fake, Duration::from_millis(90), &out);
    assert_rounds(
        &fake,
        &out,
        &format!("1: Get List; 2: List; 3: List; 4: List {THREE_GETS}"),
    );
    assert_lists_ask_for_one_detailed_invocation(&fake);
    for call in fake.calls_to(GET_COMMAND_INVOCATION) {
        let want = (Some(CMD_ID), Some(INSTANCE_ID));
        assert_eq!((call.field("CommandId"), call.instance_id()), want);
    }
    let none = fake.calls_to(LIST_COMMANDS).is_empty();
    assert!(none, "a single invocation's wait needs no ListCommands");
}

#[test]
fn wait_prints_each_steps_result_in_document_order_in_json_jsonl_and_text() {
    let fake = FakeMulti::start(three_steps());
    let out = wait_one(&fake, "-o json");
    let bodies = final_bodies(&fake);
    // One GetCommandInvocation object per step, in the document's order, as the aws CLI
    // prints them.
    assert_output(&out, 1, &printed_array(&bodies), "");
    let shown = stdout_json(&out);
    let names: Vec<&str> = (shown.as_array().expect("an array").iter())
        .map(|o| o["PluginName"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, THREE);

    // Each object is exactly what `get --plugin-name STEP -o json` prints for that step.
    for (index, (step, body)) in THREE.iter().zip(&bodies).enumerate() {
        let single = get_one(&fake, &format!("--plugin-name {step} -o json"));
        assert_output(&single, 0, &printed(body), "");
        assert_eq!(shown[index], stdout_json(&single), "{step}");
    }

    // jsonl: one object per step per line; text: each step's stdout and stderr in order,
    // nothing else.
    let fake = FakeMulti::start(three_steps());
    let out = wait_one(&fake, "-o jsonl");
    assert_output(&out, 1, &printed_lines(&final_bodies(&fake)), "");
    assert_eq!(lines(&out).len(), 3);
    let out = wait_one(&FakeMulti::start(three_steps()), "-o text");
    assert_output(&out, 1, THREE_TEXT.0, THREE_TEXT.1);
}

#[test]
fn wait_table_has_a_row_per_step_then_each_steps_sections() {
    let fake = FakeMulti::start(three_steps());
    let out = wait_one(&fake, "-o table");
    assert_exit(&out, 1);
    let text = stdout_str(&out);
    let first_section = text
        .find("── ")
        .unwrap_or_else(|| panic!("no section header\n{}", describe(&out)));
    let table = &text[..first_section];
    for (i, (step, status, code)) in [
        ("install", "Success", "0"),
        ("migrate", "Failed", "2"),
        ("restart", "Success", "0"),
    ]
    .into_iter()
    .enumerate()
    {
        // Minutes and seconds of the step's start and end (the hour depends on the time zone
        // a table may show them in).
        let (start, end) = (&step_start(i)[14..19], &step_end(i)[14..19]);
        let row = table.lines().find(|l| cells(l).contains(&step));
        let row = row.unwrap_or_else(|| panic!("no table row for step {step}\n{}", describe(&out)));
        let cells = cells(row);
        for wanted in [status, code] {
            let why = format!("row of {step} lacks {wanted:?}: {row}");
            check!(out, cells.contains(&wanted), "{why}");
        }
        for wanted in [start, end] {
            let why = format!("row of {step} lacks its time {wanted:?}: {row}");
            check!(out, row.contains(wanted), "{why}");
        }
    }
    // The sections, in the document's order, each with the step's own output.
    let mut at = first_section;
    let outputs = [
        ("installing 3 packages\n", "warning: cache cold\n"),
        ("migrating schema v41 -> v42\n", "error: table locked\n"),
        ("restarting app.service\n", ""),
    ];
    for (step, (stdout, stderr)) in THREE.iter().zip(outputs) {
        for (stream, body) in [("stdout", stdout), ("stderr", stderr)] {
            let header = format!("── {step} · {stream} ──\n");
            let found = text[at..].find(&header).map(|i| i + at);
            let ordered = format!("no {header:?} after byte {at} (sections in document order)");
            at = header.len() + found.unwrap_or_else(|| panic!("{ordered}\n{}", describe(&out)));
            let holds = body.is_empty() || text[at..].starts_with(body);
            let why = format!("section {header:?} does not hold the step's {stream}");
            check!(out, holds, "{why}");
        }
    }
}

#[test]
fn wait_on_two_steps_that_succeed_exits_0() {
    let test = StepSpec::new("test")
        .output("all passed\n", "")
        .runs(2, 3, SUCCESS);
    let steps = vec![
        StepSpec::new("build").output("built\n", "").succeeds_at(2),
        test,
    ];
    let fake = FakeMulti::start(MultiWorld::one(MultiInstance::new(INSTANCE_ID, steps)));
    let out = wait_one(&fake, "-o json");
    assert_exit(&out, 0);
    assert_eq!(stdout_str(&out), printed_array(&final_bodies(&fake)));
    assert_rounds(
        &fake,
        &out,
        "1: Get List; 2: List; 3: List Get(build) Get(test)",
    );
}

// --- get -----------------------------------------------------------------------------------------

#[test]
fn get_on_two_steps_prints_both_and_exits_0_even_when_one_failed() {
    let fake = FakeMulti::start(two_steps_ended());
    let out = get_one(&fake, "-o json");
    assert_exit(&out, 0);
    check_eq!(out, stdout_str(&out), printed_array(&final_bodies(&fake)));
    assert_rounds(&fake, &out, "1: Get List Get(build) Get(test)");
    assert_lists_ask_for_one_detailed_invocation(&fake);

    let text = get_one(&fake, "-o text");
    assert_output(
        &text,
        0,
        "built in 3s\n12 passed, 1 failed\n",
        "FAIL test_login\n",
    );

    let jsonl = get_one(&fake, "-o jsonl");
    assert_exit(&jsonl, 0);
    assert_eq!(stdout_str(&jsonl), printed_lines(&final_bodies(&fake)));

    let table = get_one(&fake, "-o table");
    assert_exit(&table, 0);
    let shown = stdout_str(&table);
    for header in [
        "build · stdout",
        "build · stderr",
        "test · stdout",
        "test · stderr",
    ] {
        let section = format!("── {header} ──");
        check!(table, shown.contains(&section), "{header}");
    }
    check!(
        table,
        shown.find("── build · stdout ──") < shown.find("── test · stdout ──")
    );
}

// --- Eventual consistency ------------------------------------------------------------------------

#[test]
fn a_single_step_answering_invalid_plugin_name_at_first_is_waited_for_normally() {
    let step = StepSpec::new("x")
        .output("uptime: 5 days\n", "")
        .succeeds_at(4);
    let fake = FakeMulti::start(MultiWorld::one(
        MultiInstance::single(INSTANCE_ID, step).invalid_plugin_name_until(3),
    ));
    let out = wait_one(&fake, "-o json");
    assert_exit(&out, 0);
    let body = &final_bodies(&fake)[0];
    let why = "a single step prints the single object, unchanged";
    check_eq!(out, stdout_str(&out), printed(body), "{why}");
    assert_rounds(&fake, &out, "1: Get List; 2: Get List; 3: Get; 4: Get");
    assert_rounds_are_polls(&fake, Duration::from_millis(15), &out);
    let unnamed = fake
        .calls_to(GET_COMMAND_INVOCATION)
        .iter()
        .all(|c| c.plugin_name().is_none());
    assert!(unnamed, "no plugin name for a single step");
}

#[test]
fn a_multi_step_invocation_not_listed_or_listed_without_its_steps_yet_is_not_visible_yet() {
    let mut listed_late = three_steps();
    listed_late.instances[0] = listed_late.instances[0].clone().listed_from(3);
    // get: not found yet, exit 3 with one line.
    let out = get_one(&FakeMulti::start(listed_late.clone()), "-o json");
    assert_exit(&out, 3);
    assert_single_stderr_line(&out);
    check!(out, out.stdout.is_empty());

    // wait: looks again until the listing shows the steps.
    let mut steps_late = three_steps();
    steps_late.instances[0] = steps_late.instances[0].clone().plugins_listed_from(3);
    for world in [listed_late, steps_late] {
        let fake = FakeMulti::start(world);
        let out = wait_one(&fake, "-o json");
        assert_output(&out, 1, &printed_array(&final_bodies(&fake)), "");
        let rounds = format!("1: Get List; 2: Get List; 3: Get List; 4: List {THREE_GETS}");
        assert_rounds(&fake, &out, &rounds);
    }
}

/// An invocation listed without any step (a node that never picked it up: Undeliverable,
/// Terminated before it ran) has been found: its own status is followed past the grace
/// window, and its end decides the exit code. Its listed record is the only one there is.
#[test]
fn an_invocation_listed_without_steps_is_followed_by_its_own_status() {
    let mut world = three_steps();
    world.instances[0] = world.instances[0].clone().plugins_listed_from(usize::MAX);
    let fake = FakeMulti::start(world);
    let out = wait_one(&fake, "--not-found-grace 1s -o json");
    assert_exit(&out, 1);
    let printed = stdout_json(&out);
    let want = (&json!("Failed"), &json!([]));
    check_eq!(out, (&printed["Status"], &printed["CommandPlugins"]), want);
    let calls: Vec<String> = fake.calls().iter().map(|c| c.short()).collect();
    let why = format!("no step to fetch: {calls:?}");
    assert!(!calls.iter().any(|c| c.starts_with("Get(")), "{why}");
    assert!(fake.round() >= 2, "polled until it ended");
}

// ---------------------------------------------------------------------------------------------
// --plugin-name
// ---------------------------------------------------------------------------------------------

#[test]
fn plugin_name_picks_one_step_of_a_multi_step_invocation() {
    let fake = FakeMulti::start(three_steps());
    let out = wait_one(&fake, "--plugin-name migrate -o json");
    assert_exit(&out, 1);
    let migrate = &final_bodies(&fake)[1];
    let why = "exactly that step, as a single object";
    check_eq!(out, stdout_str(&out), printed(migrate), "{why}");
    assert_rounds(
        &fake,
        &out,
        "1: Get(migrate); 2: Get(migrate); 3: Get(migrate)",
    );

    let out = get_one(&fake, "--plugin-name install -o json");
    assert_exit(&out, 0);
    assert_eq!(stdout_str(&out), printed(&final_bodies(&fake)[0]));
}

#[test]
fn an_unknown_plugin_name_exits_3_naming_the_steps_there_are() {
    for subcommand in ["get", "wait"] {
        let fake = FakeMulti::start(three_steps());
        let args = "--plugin-name deploy -o json";
        let out = match subcommand {
            "get" => get_one(&fake, args),
            _ => wait_one(&fake, args),
        };
        assert_exit(&out, 3);
        check!(out, out.stdout.is_empty());
        let line = assert_single_stderr_line(&out);
        for name in ["deploy", "install", "migrate", "restart"] {
            let why = format!("{subcommand}: the error names {name}: {line}");
            assert!(line.contains(name), "{why}");
        }
        let listings = fake.calls_to(LIST_COMMAND_INVOCATIONS).len();
        let why = format!("{subcommand}: one listing tells the steps");
        check_eq!(out, listings, 1, "{why}");
    }
}

#[test]
fn an_unknown_plugin_name_while_the_listing_shows_nothing_is_not_visible_yet() {
    let mut world = three_steps();
    world.instances[0] = world.instances[0].clone().plugins_listed_from(3);
    let fake = FakeMulti::start(world);
    let out = wait_one(&fake, "--plugin-name deploy -o json");
    assert_exit(&out, 3);
    let line = assert_single_stderr_line(&out);
    let named = line.contains("deploy") && line.contains("install");
    let why = format!("once the steps are listed, the error names them: {line}");
    assert!(named, "{why}");
    let why = "kept looking while the listing showed no step";
    check!(out, fake.round() >= 3, "{why}");
}

// --- Fleets --------------------------------------------------------------------------------------

/// Two instances (listed in reverse ID order) running `build` then `test`; on the second
/// instance `test` fails with code 4. Everything ends in round 3.
fn fleet_of_two() -> MultiWorld {
    let steps = |test_end: (&str, &str), code: Option<i64>| {
        let [build, mut test] = ["build", "test"].map(StepSpec::new);
        test.code = code;
        vec![
            build.output("building\n", "").succeeds_at(2),
            test.output("testing\n", "").runs(2, 3, test_end),
        ]
    };
    MultiWorld::new(vec![
        MultiInstance::new(fleet_instance_id(1), steps(FAILED, Some(4))),
        MultiInstance::new(fleet_instance_id(0), steps(SUCCESS, None)),
    ])
}

/// Every step's final body, instances sorted by ID, steps in order.
fn fleet_bodies(world: &MultiWorld) -> Vec<Value> {
    let ids = world.sorted_instance_ids();
    ids.iter()
        .flat_map(|id| world.instance(id).final_get_bodies(CMD_ID))
        .collect()
}

#[test]
fn a_fleet_wait_over_two_steps_prints_one_flat_array_of_four_objects() {
    let fake = FakeMulti::start(fleet_of_two());
    let out = wait_fleet(&fake, &[], "-o json");
    assert_exit(&out, 1);
    let expected = fleet_bodies(fake.world());
    assert_eq!(expected.len(), 4);
    let order = "one object per instance and step, instances sorted, steps in order";
    check_eq!(out, stdout_str(&out), printed_array(&expected), "{order}");
    let step_gets: Vec<(String, String)> = (fake.calls_to(GET_COMMAND_INVOCATION).iter())
        .filter_map(|c| Some((c.instance_id()?.to_owned(), c.plugin_name()?.to_owned())))
        .collect();
    let unique: BTreeSet<&(String, String)> = step_gets.iter().collect();
    let why = format!("each step of each instance fetched once: {step_gets:?}");
    assert_eq!(unique.len(), step_gets.len(), "{why}");
    assert_eq!(unique.len(), 4, "{step_gets:?}");
}

#[test]
fn a_named_fleet_over_two_steps_in_json_and_jsonl() {
    let fake = FakeMulti::start(fleet_of_two());
    let (a, b) = (fleet_instance_id(1), fleet_instance_id(0));
    let out = wait_fleet(&fake, &[&a, &b], "-o json");
    assert_exit(&out, 1);
    check_eq!(
        out,
        stdout_str(&out),
        printed_array(&fleet_bodies(fake.world()))
    );

    let fake = FakeMulti::start(fleet_of_two());
    let out = wait_fleet(&fake, &[&a, &b], "-o jsonl");
    assert_exit(&out, 1);
    let got: BTreeSet<String> = lines(&out).into_iter().collect();
    let printed = printed_lines(&fleet_bodies(fake.world()));
    let want: BTreeSet<String> = printed.lines().map(str::to_owned).collect();
    check_eq!(out, got, want, "one line per instance and step");
    check_eq!(out, lines(&out).len(), 4);
}

// --- Step records lagging the listing ------------------------------------------------------------

/// [`three_steps`] where `migrate` (Failed, code 2) is answered as `lag` by its first fetch by
/// name after the listing showed the invocation ended.
fn three_steps_migrate_lagging(lag: Lag) -> MultiWorld {
    let mut world = three_steps();
    world.instances[0].steps[1] = world.instances[0].steps[1].clone().lags(1, lag);
    world
}

/// The calls that were answered as a lagging step record, `(instance, step)`.
fn lagged(fake: &FakeMulti) -> Vec<(String, String)> {
    let name = |n: Option<&str>| n.unwrap_or_default().to_owned();
    (fake.calls().iter().filter(|c| c.lagged))
        .map(|c| (name(c.instance_id()), name(c.plugin_name())))
        .collect()
}

#[test]
fn a_step_record_lagging_the_listing_is_looked_at_again_on_the_next_poll() {
    for lag in Lag::ALL {
        let fake = FakeMulti::start(three_steps_migrate_lagging(lag));
        let out = wait_one(&fake, "-o json");
        assert_exit(&out, 1);
        let never = "every step printed finished, never the lagging record";
        let want = printed_array(&final_bodies(&fake));
        let why = format!("{lag:?}: {never}");
        check_eq!(out, stdout_str(&out), want, "{why}");
        let once = [(INSTANCE_ID.to_owned(), "migrate".to_owned())];
        let why = format!("{lag:?}: the lagging answer was given once");
        assert_eq!(lagged(&fake), once, "{why}");
        // Round 4: the listing says Failed, `migrate` lags (a running record is fetched with
        // the others; an error ends the poll's fetches). Round 5: all finished.
        let round_4 = if lag == Lag::Running {
            THREE_GETS
        } else {
            "Get(install) Get(migrate)"
        };
        let rounds =
            format!("1: Get List; 2: List; 3: List; 4: List {round_4}; 5: List {THREE_GETS}");
        assert_rounds(&fake, &out, &rounds);
        assert_lists_ask_for_one_detailed_invocation(&fake);

        // The remote exit code comes from the finished steps, not from the lagging record:
        // `migrate` exits 2; still running it would count as 1.
        let fake = FakeMulti::start(three_steps_migrate_lagging(lag));
        let out = wait_one(&fake, "--remote-exit-code -o json");
        assert_exit(&out, 2);
        let want = printed_array(&final_bodies(&fake));
        check_eq!(out, stdout_str(&out), want, "{lag:?} --remote-exit-code");
        check_eq!(out, lagged(&fake).len(), 1, "{lag:?} --remote-exit-code");
    }
}

#[test]
fn a_fleet_wait_rides_out_step_records_lagging_the_listing() {
    // `(lag, lagging answers, flags, exit code)`: three running answers take every look again
    // (after 0.5 s, 1 s and 2 s); the errors one. With --remote-exit-code, `test` on the second
    // instance exits 4; still running it would count as 1.
    for (lag, n, flags, code) in [
        (Lag::Running, 3, "", 1),
        (Lag::InvalidPluginName, 1, "", 1),
        (Lag::DoesNotExist, 1, "", 1),
        (Lag::Running, 2, "--remote-exit-code", 4),
    ] {
        let mut world = fleet_of_two();
        // The instance whose `test` fails with code 4.
        let lagging = fleet_instance_id(1);
        world.instances[0].steps[1] = world.instances[0].steps[1].clone().lags(n, lag);
        assert_eq!(world.instances[0].instance_id, lagging);
        let fake = FakeMulti::start(world);
        let started = Instant::now();
        let out = wait_fleet(&fake, &[], &format!("{flags} -o json"));
        let case = format!("{lag:?} {flags:?}");
        check_eq!(out, out.status.code(), Some(code), "{case}");
        let expected = fleet_bodies(fake.world());
        assert_eq!(expected.len(), 4);
        let order = "four finished objects, instances sorted, steps in order";
        let why = format!("{case}: {order}");
        check_eq!(out, stdout_str(&out), printed_array(&expected), "{why}");
        let want = vec![(lagging.clone(), "test".to_owned()); n];
        check_eq!(out, lagged(&fake), want, "{case}");
        // Each look again comes after the pause it is due: 0.5 s, then 1 s, then 2 s.
        let fetches: Vec<Instant> = (fake.calls_to(GET_COMMAND_INVOCATION).iter())
            .filter(|c| c.instance_id() == Some(&lagging) && c.plugin_name() == Some("test"))
            .map(|c| c.at)
            .collect();
        check_eq!(out, fetches.len(), n + 1, "{case}");
        for (gap, pause) in fetches
            .windows(2)
            .map(|p| p[1] - p[0])
            .zip([500, 1_000, 2_000])
        {
            let due = gap >= Duration::from_millis(pause);
            let why =
                format!("{case}: looked again {gap:?} after a lagging answer, before {pause} ms");
            assert!(due, "{why}");
        }
        let all_pauses: u64 = [500, 1_000, 2_000].iter().take(n).sum();
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(all_pauses),
            "{case}: took {took:?}"
        );
    }
}

// --- get while the steps run; an invocation that never reached its node --------------------------

#[test]
fn get_on_a_multi_step_invocation_still_running_prints_each_steps_current_record() {
    // `install` has succeeded, `migrate` runs, `restart` waits: from the first look on.
    let [install, migrate, restart] = THREE.map(StepSpec::new);
    let steps = vec![
        install.output("installing 3 packages\n", ""),
        migrate.never_ends(),
        restart.pending(),
    ];
    let fake = FakeMulti::start(MultiWorld::one(MultiInstance::new(INSTANCE_ID, steps)));
    let instance = fake.world().instance(INSTANCE_ID).clone();
    let now: Vec<Value> = (0..3)
        .map(|i| instance.get_body(CMD_ID, i, 1, None))
        .collect();
    for extra in ["-o json", "--remote-exit-code -o json"] {
        let before = fake.calls().len();
        let out = get_one(&fake, extra);
        assert_exit(&out, 0);
        let order = "one object per step, in the document's order, as it stands";
        let why = format!("{extra:?}: {order}");
        check_eq!(out, stdout_str(&out), printed_array(&now), "{why}");
        let printed = stdout_json(&out);
        let field = |o: &Value, k| o[k].as_str().unwrap_or_default().to_owned();
        let shown: Vec<String> = (printed.as_array().expect("an array").iter())
            .map(|o| format!("{} {}", field(o, "PluginName"), field(o, "Status")))
            .collect();
        assert_eq!(
            shown,
            ["install Success", "migrate InProgress", "restart Pending"]
        );
        let calls: Vec<String> = fake.calls()[before..].iter().map(|c| c.short()).collect();
        let want = format!("Get List {THREE_GETS}");
        check_eq!(out, calls, want.split(' ').collect::<Vec<_>>(), "{extra:?}");
    }
}

#[test]
fn an_undeliverable_invocation_listed_without_steps_ends_with_its_listed_record() {
    // Pending at first, then Undeliverable: the node never picked the document up, so the
    // listing never shows a step.
    let undeliverable = |name| {
        StepSpec::new(name)
            .output("", "")
            .states(&[(2, "Failed", "Undeliverable")])
    };
    let instance = MultiInstance::new(
        INSTANCE_ID,
        vec![undeliverable("build"), undeliverable("test")],
    );
    let world = MultiWorld::one(instance.plugins_listed_from(usize::MAX));
    for (extra, code) in [("-o json", 1), ("--remote-exit-code -o json", 1)] {
        let fake = FakeMulti::start(world.clone());
        let out = wait_one(&fake, extra);
        assert_exit(&out, code);
        let printed = stdout_json(&out);
        let listed = fake
            .world()
            .instance(INSTANCE_ID)
            .listed_record(CMD_ID, 2, None);
        let want = (&json!("Undeliverable"), &json!([]));
        assert_eq!((&listed["StatusDetails"], &listed["CommandPlugins"]), want);
        let printed = printed
            .as_object()
            .unwrap_or_else(|| panic!("{extra:?}: one object\n{}", describe(&out)));
        let listed = listed.as_object().unwrap();
        let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<BTreeSet<_>>();
        let why = format!("{extra:?}: the listed record's members");
        check_eq!(out, keys(printed), keys(listed), "{why}");
        for (key, value) in listed {
            // Timestamps are printed in local ISO 8601, as the aws CLI prints them.
            if key != "RequestedDateTime" {
                check_eq!(out, &printed[key], value, "{extra:?}: {key}");
            }
        }
        let by_name = fake.calls().iter().any(|c| c.plugin_name().is_some());
        let why = format!(
            "{extra:?}: no step fetched by name: {:?}",
            fake.calls_by_round()
        );
        assert!(!by_name, "{why}");
        assert_rounds(&fake, &out, "1: Get List; 2: Get List");
    }
}
