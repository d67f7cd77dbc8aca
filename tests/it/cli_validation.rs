//! Input validation and flag placement, as a user meets them.
//!
//! Invalid input must be rejected before any network call: exit 2, exactly one line on stderr
//! starting with "error:", and the endpoint never contacted.

use crate::support::fake_ssm::{
    CMD_ID, FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, invocation_step,
};
use crate::support::{
    Args, Cli, FAST_POLL, args, assert_error, assert_exit, assert_rejected, check_eq, ids, run,
    stdout_json,
};

fn success_fake() -> FakeSsm {
    FakeSsm::always(invocation_step("Success", "Success", "ok\n", ""))
}

/// Runs `args` against a fresh fake and asserts it was accepted: exit 0 and exactly one
/// GetCommandInvocation call. Returns the fake for body checks.
#[track_caller]
fn assert_accepted(args: impl Args) -> FakeSsm {
    let fake = success_fake();
    let out = Cli::new(&fake.url()).run(args.words());
    assert_exit(&out, 0);
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 1);
    fake
}

fn get_with<'a>(command_id: &'a str, instance_id: &'a str) -> [&'a str; 7] {
    [
        "get",
        "--command-id",
        command_id,
        "--instance-id",
        instance_id,
        "-o",
        "json",
    ]
}

/// `wait` with the fake's ids and `flag_and_value`.
fn wait_with<'a>(flag_and_value: &[&'a str]) -> Vec<&'a str> {
    [
        &["wait", "--command-id", CMD_ID, "--instance-id", INSTANCE_ID],
        flag_and_value,
    ]
    .concat()
}

#[test]
fn command_id_must_be_exactly_36_chars() {
    let short = &CMD_ID[..35];
    let long = format!("{CMD_ID}0");
    for bad in [short, long.as_str(), "", "abc"] {
        assert_rejected(get_with(bad, INSTANCE_ID));
    }
    // Same rule for `wait`.
    assert_rejected(format!("wait --command-id {short} --instance-id {INSTANCE_ID}").as_str());
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
        assert_rejected(get_with(CMD_ID, bad));
    }
    assert_rejected(format!("wait --command-id {CMD_ID} --instance-id mi-12345678").as_str());
}

#[test]
fn well_formed_instance_ids_are_accepted_and_sent() {
    for good in [
        "i-12345678",           // i- and 8 word chars
        "i-0123456789abcdef0",  // i- and 17 word chars
        "mi-0123456789abcdef0", // mi- and 17 word chars
    ] {
        let fake = assert_accepted(get_with(CMD_ID, good));
        let body = &fake.calls_to(GET_COMMAND_INVOCATION)[0].body;
        let want = (&CMD_ID.into(), &good.into());
        assert_eq!((&body["CommandId"], &body["InstanceId"]), want);
    }
}

#[test]
fn plugin_name_needs_at_least_4_chars() {
    assert_rejected(
        [
            &get_with(CMD_ID, INSTANCE_ID)[..],
            &["--plugin-name", "aws"],
        ]
        .concat(),
    );
    assert_rejected(wait_with(&["--plugin-name", "abc"]));
    // Exactly 4 chars is fine and is sent as given.
    let fake = assert_accepted(
        [
            &get_with(CMD_ID, INSTANCE_ID)[..],
            &["--plugin-name", "abcd"],
        ]
        .concat(),
    );
    assert_eq!(
        fake.calls_to(GET_COMMAND_INVOCATION)[0].body["PluginName"],
        "abcd"
    );
}

const DURATION_FLAGS: [&str; 4] = [
    "--timeout",
    "--min-interval",
    "--max-interval",
    "--not-found-grace",
];

#[test]
fn non_durations_zero_and_negative_durations_are_rejected() {
    for flag in DURATION_FLAGS {
        for bad in ["abc", "5x", "1.5.3s", "", "0", "0s", "0ms", "-5s"] {
            assert_rejected(wait_with(&[flag, bad]));
        }
        // Negative, in the `--flag=value` form too.
        for bad in ["-5s", "-5"] {
            assert_rejected(wait_with(&[&format!("{flag}={bad}")]));
        }
    }
}

#[test]
fn friendly_durations_are_accepted() {
    for (timeout, grace, min, max) in [
        ("90s", "5m", "500ms", "2"),
        ("1h30m", "90s", "20ms", "100ms"),
        ("2", "1h", "1s", "1s"), // bare number = seconds; min == max is fine
    ] {
        assert_accepted(wait_with(&args(&format!(
            "--timeout {timeout} --not-found-grace {grace} --min-interval {min} --max-interval {max} -o json"
        ))));
    }
}

#[test]
fn min_interval_above_max_interval_or_below_10ms_is_rejected() {
    for (min, max) in [("2s", "1s"), ("101ms", "100ms"), ("5ms", "5ms")] {
        assert_rejected(wait_with(&["--min-interval", min, "--max-interval", max]));
    }
    // The default --max-interval is 10s.
    assert_rejected(wait_with(&["--min-interval", "11s"]));
    for tiny in ["9ms", "1ms"] {
        let line = assert_rejected(wait_with(&["--min-interval", tiny]));
        assert!(line.contains("--min-interval"), "{tiny}: {line:?}");
    }
    // 10ms itself is fine.
    assert_accepted(wait_with(&args(
        "--min-interval 10ms --max-interval 10ms -o json",
    )));
}

#[test]
fn unknown_output_format_is_rejected() {
    assert_rejected(
        format!("get --command-id {CMD_ID} --instance-id {INSTANCE_ID} -o yaml").as_str(),
    );
    assert_rejected(
        format!("--output xml get --command-id {CMD_ID} --instance-id {INSTANCE_ID}").as_str(),
    );
}

#[test]
fn missing_required_ids_are_rejected_naming_them() {
    for (args, missing) in [
        (format!("get --command-id {CMD_ID}"), "--instance-id"),
        (format!("get --instance-id {INSTANCE_ID}"), "--command-id"),
        (format!("wait --instance-id {INSTANCE_ID}"), "--command-id"),
        (format!("list --instance-id {INSTANCE_ID}"), "--command-id"),
        // `wait` without --instance-id is a fleet wait: only --command-id is required.
        ("wait".into(), "--command-id"),
    ] {
        // The one line says what is missing, not just that something is.
        let line = assert_rejected(args.as_str());
        let why = format!("{args}: stderr should name {missing}: {line:?}");
        assert!(line.contains(missing), "{why}");
    }
    // Both missing: both named on the one line.
    let line = assert_rejected("get");
    assert!(
        line.contains("--command-id") && line.contains("--instance-id"),
        "stderr should name both flags: {line:?}"
    );
}

#[test]
fn endpoint_url_with_an_invalid_port_is_rejected() {
    let bad_ports = [
        "http://127.0.0.1:99999",
        "http://127.0.0.1:65536",
        "https://127.0.0.1:99999/",
        "http://127.0.0.1:12ab",
    ];
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for bad in bad_ports {
        cases.push([&["--endpoint-url", bad, "get"][..], &ids()].concat());
        cases.push([&["get"][..], &ids(), &["--endpoint-url", bad]].concat());
    }
    cases.push(
        [
            &["wait", "--endpoint-url", bad_ports[0]][..],
            &ids(),
            &FAST_POLL,
        ]
        .concat(),
    );
    for args in cases {
        let fake = success_fake();
        let mut cmd = Cli::new(&fake.url()).bare();
        // Should the flag be dropped instead of rejected, the calls would reach the fake.
        cmd.env("AWS_ENDPOINT_URL", fake.url()).args(&args);
        let line = assert_error(&run(&mut cmd), 2);
        assert!(
            line.contains("--endpoint-url") || line.contains("port"),
            "{args:?}: the line should say what is wrong: {line:?}"
        );
        fake.assert_untouched();
    }
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
    for args in ["--help", "wait --help"] {
        let mut cmd = cli.bare();
        cmd.args(args.split(' '));
        let out = run(&mut cmd);
        assert_exit(&out, 0);
        let help = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(help.contains("exit codes"), "{args}:\n{help}");
        for (code, meanings) in codes {
            let listed = help.lines().any(|line| {
                let line = line.trim_start();
                line.strip_prefix(code)
                    .is_some_and(|rest| rest.starts_with([' ', '\t']))
                    && meanings.iter().all(|m| line.contains(m))
            });
            assert!(
                listed,
                "{args}: no line for exit code {code} mentioning {meanings:?}\n{help}"
            );
        }
    }
}

#[test]
fn global_flags_are_accepted_after_the_subcommand() {
    let fake = success_fake();
    let out = Cli::new(&fake.url()).run(
        [
            &["get"][..],
            &ids(),
            &["-o", "json", "--region", "us-east-1"],
        ]
        .concat(),
    );
    assert_exit(&out, 0);
    assert_eq!(stdout_json(&out)["Status"], "Success");
    assert_eq!(fake.count(GET_COMMAND_INVOCATION), 1);

    // Every global flag after `wait`, including --endpoint-url itself.
    let fake = success_fake();
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.bare();
    cmd.arg("wait").args(ids()).args(FAST_POLL);
    cmd.args([
        "--output",
        "text",
        "-q",
        "--endpoint-url",
        cli.endpoint(),
        "--region",
        "us-east-1",
    ]);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    check_eq!(out, out.stdout, b"ok\n");
    assert_eq!(fake.count(GET_COMMAND_INVOCATION), 1);
}

#[test]
fn region_flag_is_used_before_or_after_the_subcommand() {
    let region = ["--region", "eu-west-1"];
    for args in [
        [&region[..], &["get"], &ids()].concat(),
        [&["get"][..], &ids(), &region].concat(),
    ] {
        let fake = success_fake();
        assert_exit(&Cli::new(&fake.url()).run(&args), 0);
        let call = &fake.calls_to(GET_COMMAND_INVOCATION)[0];
        let auth = call.header("authorization").unwrap_or_default();
        assert!(
            auth.contains("/eu-west-1/ssm/aws4_request"),
            "{args:?}: the request should be signed for eu-west-1, Authorization: {auth}"
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
            let line = assert_rejected(wait_with(&extra));
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
        assert_accepted(wait_with(&[extra, &["-o", "json"]].concat()));
    }
}

#[test]
fn a_mistyped_flag_or_subcommand_gets_its_tip_on_the_one_line() {
    let line = assert_rejected("get --comand-id X");
    assert!(
        line.contains("unexpected argument '--comand-id'")
            && line.contains("tip: a similar argument exists: '--command-id'"),
        "the problem and the tip, on one line: {line:?}"
    );
    let line = assert_rejected("wiat");
    let why = format!("the line should name the typo and suggest `wait`: {line:?}");
    assert!(line.contains("wiat") && line.contains("wait"), "{why}");
}
