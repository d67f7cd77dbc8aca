//! Input validation and flag placement, as a user meets them.
//!
//! Invalid input must be rejected before any network call: exit 2, exactly one
//! line on stderr starting with "error:", and the endpoint never contacted.

mod support;

use std::process::Output;

use support::fake_ssm::{CMD_ID, FakeSsm, INSTANCE_ID, invocation_step};
use support::{Cli, FAST_POLL, assert_exit, assert_single_stderr_line, describe, ids, stdout_json};

fn success_fake() -> FakeSsm {
    FakeSsm::always(invocation_step("Success", "Success", "ok\n", ""))
}

/// Runs `args` against a fresh fake and asserts the run was rejected as a
/// usage error without touching the network.
#[track_caller]
fn assert_rejected(args: &[&str]) -> Output {
    let fake = success_fake();
    let cli = Cli::new(&fake.url());
    let out = cli.cmd().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "args {args:?} should be rejected with exit 2\n{}",
        describe(&out)
    );
    let line = assert_single_stderr_line(&out);
    assert!(
        line.starts_with("error:"),
        "args {args:?}: stderr line should start with \"error:\", got {line:?}"
    );
    assert!(
        out.stdout.is_empty(),
        "args {args:?}: nothing expected on stdout\n{}",
        describe(&out)
    );
    fake.assert_untouched();
    out
}

/// Runs `args` against a fresh fake and asserts it was accepted: exit 0 and
/// exactly one GetCommandInvocation call. Returns the fake for body checks.
#[track_caller]
fn assert_accepted(args: &[&str]) -> FakeSsm {
    let fake = success_fake();
    let cli = Cli::new(&fake.url());
    let out = cli.cmd().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "args {args:?} should be accepted\n{}",
        describe(&out)
    );
    assert_eq!(fake.get_invocation_calls(), 1, "args {args:?}");
    fake
}

fn get_with<'a>(command_id: &'a str, instance_id: &'a str) -> Vec<&'a str> {
    vec![
        "get",
        "--command-id",
        command_id,
        "--instance-id",
        instance_id,
        "-o",
        "json",
    ]
}

#[test]
fn command_id_must_be_exactly_36_chars() {
    let short = &CMD_ID[..35];
    let long = format!("{CMD_ID}0");
    for bad in [short, long.as_str(), "", "abc"] {
        assert_rejected(&get_with(bad, INSTANCE_ID));
    }
    // Same rule for `wait`.
    let mut args = vec!["wait", "--command-id", short, "--instance-id", INSTANCE_ID];
    args.extend(FAST_POLL);
    assert_rejected(&args);
}

#[test]
fn malformed_instance_ids_are_rejected() {
    for bad in [
        "x-12345678",            // wrong prefix
        "ec2-12345678",          // wrong prefix
        "12345678",              // no prefix
        "i-1234567",             // 7 chars
        "i-123456789",           // 9 chars
        "i-0123456789abcdef",    // 16 chars
        "i-0123456789abcdef01",  // 18 chars
        "mi-12345678",           // managed instance ids have 17 chars, not 8
        "mi-0123456789abcdef",   // 16 chars
        "mi-0123456789abcdef01", // 18 chars
        "i-1234-678",            // '-' is not a word character
        "i-12345678 ",           // trailing space
        "",                      // empty
    ] {
        assert_rejected(&get_with(CMD_ID, bad));
    }
    let mut args = vec![
        "wait",
        "--command-id",
        CMD_ID,
        "--instance-id",
        "mi-12345678",
    ];
    args.extend(FAST_POLL);
    assert_rejected(&args);
}

#[test]
fn well_formed_instance_ids_are_accepted_and_sent() {
    for good in [
        "i-12345678",           // i- and 8 word chars
        "i-0123456789abcdef0",  // i- and 17 word chars
        "mi-0123456789abcdef0", // mi- and 17 word chars
    ] {
        let fake = assert_accepted(&get_with(CMD_ID, good));
        let req = &fake.get_invocation_requests()[0];
        assert_eq!(req.body["InstanceId"], good, "request body: {}", req.body);
        assert_eq!(req.body["CommandId"], CMD_ID, "request body: {}", req.body);
    }
}

#[test]
fn plugin_name_needs_at_least_4_chars() {
    let mut args = get_with(CMD_ID, INSTANCE_ID);
    args.extend(["--plugin-name", "aws"]);
    assert_rejected(&args);

    let mut args = vec![
        "wait",
        "--command-id",
        CMD_ID,
        "--instance-id",
        INSTANCE_ID,
        "--plugin-name",
        "abc",
    ];
    args.extend(FAST_POLL);
    assert_rejected(&args);

    // Exactly 4 chars is fine and is sent as given.
    let mut args = get_with(CMD_ID, INSTANCE_ID);
    args.extend(["--plugin-name", "abcd"]);
    let fake = assert_accepted(&args);
    assert_eq!(fake.get_invocation_requests()[0].body["PluginName"], "abcd");
}

const DURATION_FLAGS: [&str; 4] = [
    "--timeout",
    "--min-interval",
    "--max-interval",
    "--not-found-grace",
];

fn wait_with_flag<'a>(flag_and_value: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["wait", "--command-id", CMD_ID, "--instance-id", INSTANCE_ID];
    args.extend(flag_and_value);
    args
}

#[test]
fn non_durations_are_rejected() {
    for flag in DURATION_FLAGS {
        for bad in ["abc", "5x", "1.5.3s", ""] {
            assert_rejected(&wait_with_flag(&[flag, bad]));
        }
    }
}

#[test]
fn zero_durations_are_rejected() {
    for flag in DURATION_FLAGS {
        for zero in ["0", "0s", "0ms"] {
            assert_rejected(&wait_with_flag(&[flag, zero]));
        }
    }
}

#[test]
fn negative_durations_are_rejected() {
    for flag in DURATION_FLAGS {
        // As a user would type it, and in the `--flag=value` form.
        assert_rejected(&wait_with_flag(&[flag, "-5s"]));
        let joined = format!("{flag}=-5s");
        assert_rejected(&wait_with_flag(&[&joined]));
        let bare = format!("{flag}=-5");
        assert_rejected(&wait_with_flag(&[&bare]));
    }
}

#[test]
fn friendly_durations_are_accepted() {
    for (timeout, grace, min, max) in [
        ("90s", "5m", "500ms", "2"),
        ("1h30m", "90s", "20ms", "100ms"),
        ("2", "1h", "1s", "1s"), // bare number = seconds; min == max is fine
    ] {
        assert_accepted(&wait_with_flag(&[
            "--timeout",
            timeout,
            "--not-found-grace",
            grace,
            "--min-interval",
            min,
            "--max-interval",
            max,
            "-o",
            "json",
        ]));
    }
}

#[test]
fn min_interval_above_max_interval_is_rejected() {
    assert_rejected(&wait_with_flag(&[
        "--min-interval",
        "2s",
        "--max-interval",
        "1s",
    ]));
    assert_rejected(&wait_with_flag(&[
        "--min-interval",
        "101ms",
        "--max-interval",
        "100ms",
    ]));
}

#[test]
fn min_interval_above_default_max_interval_is_rejected() {
    // The default --max-interval is 10s.
    assert_rejected(&wait_with_flag(&["--min-interval", "11s"]));
}

#[test]
fn unknown_output_format_is_rejected() {
    let mut args = get_with(CMD_ID, INSTANCE_ID);
    args.truncate(5);
    args.extend(["-o", "yaml"]);
    assert_rejected(&args);
    assert_rejected(&[
        "--output",
        "xml",
        "get",
        "--command-id",
        CMD_ID,
        "--instance-id",
        INSTANCE_ID,
    ]);
}

#[test]
fn missing_required_ids_are_rejected() {
    for (args, missing) in [
        (&["get", "--command-id", CMD_ID][..], "--instance-id"),
        (&["get", "--instance-id", INSTANCE_ID][..], "--command-id"),
        (&["wait", "--instance-id", INSTANCE_ID][..], "--command-id"),
        (&["list", "--instance-id", INSTANCE_ID][..], "--command-id"),
    ] {
        let out = assert_rejected(args);
        // The one line says what is missing, not just that something is.
        let line = assert_single_stderr_line(&out);
        assert!(
            line.contains(missing),
            "args {args:?}: stderr should name {missing}: {line:?}"
        );
    }
    // Both missing: both named on the one line. (`wait` without --instance-id is a fleet
    // wait, so only --command-id is required there.)
    let out = assert_rejected(&["get"]);
    let line = assert_single_stderr_line(&out);
    assert!(
        line.contains("--command-id") && line.contains("--instance-id"),
        "stderr should name both flags: {line:?}"
    );
    let line = assert_single_stderr_line(&assert_rejected(&["wait"]));
    assert!(line.contains("--command-id"), "{line:?}");
}

#[test]
fn endpoint_url_with_an_invalid_port_is_rejected() {
    for bad in [
        "http://127.0.0.1:99999",
        "http://127.0.0.1:65536",
        "https://127.0.0.1:99999/",
        "http://127.0.0.1:12ab",
    ] {
        for place in ["before", "after"] {
            let fake = success_fake();
            let cli = Cli::new(&fake.url());
            let mut args = Vec::new();
            if place == "before" {
                args.extend(["--endpoint-url", bad]);
            }
            args.push("get");
            args.extend(ids());
            if place == "after" {
                args.extend(["--endpoint-url", bad]);
            }
            // Should the flag be dropped instead of rejected, the calls would reach the fake.
            let out = cli
                .bare()
                .env("AWS_ENDPOINT_URL", fake.url())
                .args(&args)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(2),
                "--endpoint-url {bad} ({place} get) should be rejected with exit 2\n{}",
                describe(&out)
            );
            let line = assert_single_stderr_line(&out);
            assert!(
                line.starts_with("error:")
                    && (line.contains("--endpoint-url") || line.contains("port")),
                "{bad}: the line should say what is wrong: {line:?}"
            );
            assert!(out.stdout.is_empty(), "{}", describe(&out));
            fake.assert_untouched();
        }
    }
    // The same for `wait`.
    let fake = success_fake();
    let cli = Cli::new(&fake.url());
    let mut args = vec!["wait", "--endpoint-url", "http://127.0.0.1:99999"];
    args.extend(ids());
    args.extend(FAST_POLL);
    let out = cli
        .bare()
        .env("AWS_ENDPOINT_URL", fake.url())
        .args(&args)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(assert_single_stderr_line(&out).starts_with("error:"));
    fake.assert_untouched();
}

#[test]
fn min_interval_below_10ms_is_rejected() {
    for tiny in ["9ms", "1ms"] {
        let out = assert_rejected(&wait_with_flag(&["--min-interval", tiny]));
        let line = assert_single_stderr_line(&out);
        assert!(line.contains("--min-interval"), "{tiny}: {line:?}");
    }
    // Also when --max-interval is as small.
    assert_rejected(&wait_with_flag(&[
        "--min-interval",
        "5ms",
        "--max-interval",
        "5ms",
    ]));
    // 10ms itself is fine.
    assert_accepted(&wait_with_flag(&[
        "--min-interval",
        "10ms",
        "--max-interval",
        "10ms",
        "-o",
        "json",
    ]));
}

#[test]
fn help_lists_the_exit_codes() {
    let cli = Cli::new("http://127.0.0.1:9");
    // Each code with a word of its meaning, on the same line.
    let codes: [(&str, &[&str]); 6] = [
        ("0", &["success"]),
        ("1", &["terminal", "fail"]),
        ("2", &["usage", "invalid"]),
        ("3", &["api", "credential", "network", "not found"]),
        ("4", &["timeout"]),
        ("130", &["interrupt"]),
    ];
    for args in [&["--help"][..], &["wait", "--help"][..]] {
        let out = cli.bare().args(args).output().unwrap();
        assert_exit(&out, 0);
        let help = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(help.contains("exit codes"), "{args:?}:\n{help}");
        for (code, meanings) in codes {
            let listed = help.lines().any(|line| {
                let line = line.trim_start();
                line.strip_prefix(code)
                    .is_some_and(|rest| rest.starts_with([' ', '\t']))
                    && meanings.iter().all(|m| line.contains(m))
            });
            assert!(
                listed,
                "{args:?}: no line for exit code {code} mentioning {meanings:?}\n{help}"
            );
        }
    }
}

#[test]
fn global_flags_are_accepted_after_the_subcommand() {
    let fake = success_fake();
    let cli = Cli::new(&fake.url());
    let mut args = vec!["get"];
    args.extend(ids());
    args.extend(["-o", "json", "--region", "us-east-1"]);
    let out = cli.cmd().args(&args).output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(stdout_json(&out)["Status"], "Success");
    assert_eq!(fake.get_invocation_calls(), 1);

    // Every global flag after `wait`, including --endpoint-url itself.
    let fake = success_fake();
    let cli = Cli::new(&fake.url());
    let mut args = vec!["wait"];
    args.extend(ids());
    args.extend(FAST_POLL);
    args.extend(["--output", "text", "-q", "--endpoint-url", cli.endpoint()]);
    args.extend(["--region", "us-east-1"]);
    let out = cli.bare().args(&args).output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(out.stdout, b"ok\n", "{}", describe(&out));
    assert_eq!(fake.get_invocation_calls(), 1);
}

#[test]
fn region_flag_is_used_before_or_after_the_subcommand() {
    for before in [true, false] {
        let fake = success_fake();
        let cli = Cli::new(&fake.url());
        let mut args = Vec::new();
        if before {
            args.extend(["--region", "eu-west-1"]);
        }
        args.push("get");
        args.extend(ids());
        if !before {
            args.extend(["--region", "eu-west-1"]);
        }
        let out = cli.cmd().args(&args).output().unwrap();
        assert_exit(&out, 0);
        let req = &fake.get_invocation_requests()[0];
        let auth = req.header("authorization").unwrap_or_default();
        assert!(
            auth.contains("/eu-west-1/ssm/aws4_request"),
            "request should be signed for eu-west-1 (region flag {}), Authorization: {auth}",
            if before { "before" } else { "after" }
        );
    }
}

/// 367 days and more, in several spellings: bare seconds (i64::MAX used to overflow the clock
/// and panic), hours, hours and seconds, ISO 8601.
const OVER_366_DAYS: [&str; 5] = [
    "9223372036854775807",
    "31708800", // 367 days in seconds
    "8809h",    // 367 days in hours
    "8784h1s",  // 366 days and a second
    "PT8809H",
];

#[test]
fn durations_over_366_days_are_rejected() {
    for flag in DURATION_FLAGS {
        for huge in OVER_366_DAYS {
            let mut extra = vec![flag, huge];
            if flag == "--min-interval" {
                // Else --min-interval above the default --max-interval (10s) would be the reason.
                extra.extend(["--max-interval", huge]);
            }
            let out = assert_rejected(&wait_with_flag(&extra));
            let line = assert_single_stderr_line(&out);
            assert!(
                line.contains(flag)
                    || (flag == "--min-interval" && line.contains("--max-interval")),
                "{flag} {huge}: the line should name the flag: {line:?}"
            );
            assert!(!line.contains("panicked"), "{flag} {huge}: {line:?}");
        }
    }
}

#[test]
fn durations_of_366_days_are_accepted() {
    let year = "8784h"; // 366 days
    for extra in [
        &["--timeout", year][..],
        &["--not-found-grace", year],
        &["--max-interval", year],
        &["--min-interval", year, "--max-interval", year],
        &["--timeout", "31622400"], // 366 days in seconds
    ] {
        let mut args = wait_with_flag(extra);
        args.extend(["-o", "json"]);
        assert_accepted(&args);
    }
}

#[test]
fn a_mistyped_flag_gets_its_tip_on_the_one_line() {
    let out = assert_rejected(&["get", "--comand-id", "X"]);
    let line = assert_single_stderr_line(&out);
    assert!(
        line.contains("unexpected argument '--comand-id'")
            && line.contains("tip: a similar argument exists: '--command-id'"),
        "the problem and the tip, on one line: {line:?}"
    );
}

#[test]
fn a_mistyped_subcommand_gets_its_tip_on_the_one_line() {
    let out = assert_rejected(&["wiat"]);
    let line = assert_single_stderr_line(&out);
    assert!(
        line.contains("wiat") && line.contains("wait"),
        "the line should name the typo and suggest `wait`: {line:?}"
    );
}
