//! `ssmres --provider aliyun wait` on several instances: the output it has always printed, kept
//! byte for byte (golden files under `tests/golden/aliyun_wait/`, captured from the binary
//! before fleet waits moved to rounds).
//!
//! Set `SSMRES_BLESS=1` to write the golden files from the binary under test instead of
//! comparing with them: only ever done with a binary whose output is the reference.

use std::path::PathBuf;
use std::process::Output;

use crate::support::fake_ecs::{FakeEcs, INVOKE_ID, Instance, World, instance_id};
use crate::support::{Cli, FAST_POLL, assert_exit, check_eq, stdout_str, warnings};

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
