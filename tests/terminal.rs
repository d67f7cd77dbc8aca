//! What a person at a terminal sees: the binary runs under a pseudo-terminal (util-linux
//! `script`, part of every Debian system), so stdout and stderr really are terminals.

mod support;

use std::process::Output;

use support::fake_ssm::{FakeSsm, Step, invocation_step};
use support::{Cli, assert_exit, describe, ids, ssmres_bin};

/// `arg` as one word for `sh`: single-quoted, each `'` written as `'\''`.
fn sh_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// Runs ssmres under a pty; stdout and stderr arrive merged, as on a screen.
fn on_terminal(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut words = vec![ssmres_bin().display().to_string()];
    words.extend(["--endpoint-url".to_string(), cli.endpoint().to_string()]);
    words.extend(args.iter().map(|a| a.to_string()));
    let line: Vec<String> = words.iter().map(|w| sh_quote(w)).collect();
    let mut cmd = std::process::Command::new("script");
    cli.apply_env(&mut cmd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // `script` runs the line with $SHELL -c: make that the shell the quoting is written for.
    cmd.env("TERM", "xterm-256color")
        .env("SHELL", "/bin/sh")
        .args(["-qec", &line.join(" "), "/dev/null"]);
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(support::RUN_TIMEOUT);
    cmd.write_stdin(Vec::new())
        .output()
        .expect("util-linux script runs")
}

#[test]
fn arguments_reach_the_binary_as_given() {
    // A plugin name with a space, a quote and a `$`: quoted wrongly, the shell would split or
    // expand it and the request would carry something else.
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let cli = Cli::new(&fake.url());
    let plugin = "it's a $HOME `step`";
    let out = on_terminal(
        &cli,
        &[
            "get",
            "-o",
            "json",
            "--plugin-name",
            plugin,
            ids()[0],
            ids()[1],
            ids()[2],
            ids()[3],
        ],
        &[],
    );
    assert_exit(&out, 0);
    assert_eq!(
        fake.get_invocation_requests()[0].body["PluginName"],
        plugin,
        "{}",
        describe(&out)
    );
}

fn screen(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn default_output_on_a_terminal_is_a_table() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "hello", ""));
    let cli = Cli::new(&fake.url());
    let out = on_terminal(&cli, &["get", ids()[0], ids()[1], ids()[2], ids()[3]], &[]);
    assert_exit(&out, 0);
    let s = screen(&out);
    assert!(
        s.contains("┌") && s.contains("Instance") && s.contains("── stdout ──"),
        "{s}"
    );
    assert!(!s.contains("\"CommandId\""), "json is for pipes: {s}");
}

#[test]
fn colour_on_a_terminal_but_never_with_no_color() {
    let fake = FakeSsm::always(invocation_step("Failed", "Failed", "x", ""));
    let cli = Cli::new(&fake.url());
    let args = ["get", ids()[0], ids()[1], ids()[2], ids()[3]];
    let coloured = screen(&on_terminal(&cli, &args, &[]));
    assert!(
        coloured.contains("\x1b["),
        "a terminal gets colour: {coloured:?}"
    );
    let plain = screen(&on_terminal(&cli, &args, &[("NO_COLOR", "1")]));
    assert!(!plain.contains('\x1b'), "NO_COLOR means none: {plain:?}");
    assert!(plain.contains("Failed"));
    // And never colour in a pipe, even in table mode.
    let piped = cli.cmd().args(["-o", "table"]).args(args).output().unwrap();
    assert!(!piped.stdout.contains(&0x1b), "{}", describe(&piped));
}

#[test]
fn spinner_shows_state_and_polls_on_a_terminal_only() {
    let steps = || {
        let mut s = vec![invocation_step("InProgress", "In Progress", "", ""); 6];
        s.push(invocation_step("Success", "Success", "done", ""));
        s
    };
    let wait = [
        "wait",
        "-o",
        "json",
        "--min-interval",
        "150ms",
        "--max-interval",
        "150ms",
        ids()[0],
        ids()[1],
        ids()[2],
        ids()[3],
    ];

    let fake = FakeSsm::start(steps());
    let cli = Cli::new(&fake.url());
    let out = on_terminal(&cli, &wait, &[]);
    assert_exit(&out, 0);
    let s = screen(&out);
    assert!(s.contains("InProgress (In Progress) · "), "spinner: {s:?}");
    assert!(
        s.contains(" polls · "),
        "poll count and elapsed time: {s:?}"
    );

    let fake = FakeSsm::start(steps());
    let cli = Cli::new(&fake.url());
    let mut quiet = vec!["-q"];
    quiet.extend(wait);
    let s = screen(&on_terminal(&cli, &quiet, &[]));
    assert!(!s.contains("polls"), "--quiet shows no spinner: {s:?}");

    let fake = FakeSsm::start(steps());
    let cli = Cli::new(&fake.url());
    let piped = cli.cmd().args(wait).output().unwrap();
    assert_exit(&piped, 0);
    assert!(
        piped.stderr.is_empty(),
        "no spinner in a pipe\n{}",
        describe(&piped)
    );
}

#[test]
fn text_mode_on_a_terminal_shows_control_characters_instead_of_obeying_them() {
    let fake = FakeSsm::always(invocation_step(
        "Success",
        "Success",
        "\x1b]0;owned\x07\x1b[2Jclean",
        "\x1b[31mred",
    ));
    let cli = Cli::new(&fake.url());
    let out = on_terminal(
        &cli,
        &["get", "-o", "text", ids()[0], ids()[1], ids()[2], ids()[3]],
        &[],
    );
    assert_exit(&out, 0);
    let s = screen(&out);
    assert!(!s.contains('\x1b') && !s.contains('\x07'), "{s:?}");
    assert!(
        s.contains("\\x1b]0;owned\\x07\\x1b[2Jclean") && s.contains("\\x1b[31mred"),
        "{s:?}"
    );
}

#[test]
fn spinner_says_not_visible_yet_during_the_grace_window() {
    let mut steps = vec![Step::not_found(); 5];
    steps.push(invocation_step("Success", "Success", "done", ""));
    let fake = FakeSsm::start(steps);
    let cli = Cli::new(&fake.url());
    let out = on_terminal(
        &cli,
        &[
            "wait",
            "-o",
            "json",
            "--min-interval",
            "150ms",
            "--max-interval",
            "150ms",
            ids()[0],
            ids()[1],
            ids()[2],
            ids()[3],
        ],
        &[],
    );
    assert_exit(&out, 0);
    let s = screen(&out);
    assert!(s.contains("not visible yet"), "spinner: {s:?}");
    assert!(s.contains("\"Success\""), "the result: {s:?}");
    assert_eq!(fake.get_invocation_calls(), 6, "{}", describe(&out));
}

#[test]
fn no_color_also_means_plain_diagnostics() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "hello", ""));
    let cli = Cli::new(&fake.url());
    // -q: no spinner, whose cursor movements are escape sequences too.
    let args = ["-q", "-vvv", "get", ids()[0], ids()[1], ids()[2], ids()[3]];
    let out = on_terminal(&cli, &args, &[("NO_COLOR", "1")]);
    assert_exit(&out, 0);
    let s = screen(&out);
    assert!(s.contains("DEBUG"), "-vvv prints diagnostics: {s:?}");
    assert!(s.contains("hello"), "{s:?}");
    assert!(
        !s.contains('\x1b'),
        "NO_COLOR means no escape codes at all: {s:?}"
    );
}

#[test]
fn verbose_shows_log_lines_and_no_spinner() {
    // Log lines and a spinner redrawing itself would interleave on the same stderr.
    for verbose in ["-v", "-vvv"] {
        let mut steps = vec![invocation_step("InProgress", "In Progress", "", ""); 6];
        steps.push(invocation_step("Success", "Success", "done", ""));
        let fake = FakeSsm::start(steps);
        let cli = Cli::new(&fake.url());
        let out = on_terminal(
            &cli,
            &[
                verbose,
                "wait",
                "-o",
                "json",
                "--min-interval",
                "100ms",
                "--max-interval",
                "100ms",
                ids()[0],
                ids()[1],
                ids()[2],
                ids()[3],
            ],
            &[],
        );
        assert_exit(&out, 0);
        let s = screen(&out);
        assert!(
            s.contains("DEBUG"),
            "{verbose}: diagnostics expected: {s:?}"
        );
        assert!(s.contains("poll"), "{verbose}: a line per poll: {s:?}");
        assert!(s.contains("\"Success\""), "{verbose}: the result: {s:?}");
        for spinner in [" polls · ", " waited", "first poll", "(In Progress) · "] {
            assert!(
                !s.contains(spinner),
                "{verbose}: no spinner with -v, found {spinner:?} in {s:?}"
            );
        }
        assert_eq!(fake.get_invocation_calls(), 7, "{}", describe(&out));
    }
}

#[test]
fn fleet_progress_bar_shows_finished_of_total_and_failures_on_a_terminal_only() {
    use support::fake_ssm::{Member, Timeline, fleet_instance_id};
    let timeline = || {
        Timeline::new(vec![
            Member::new(fleet_instance_id(0)).succeeds_at(2),
            Member::new(fleet_instance_id(1)).succeeds_at(6),
            Member::new(fleet_instance_id(2)).succeeds_at(8),
        ])
    };
    let wait = [
        "wait",
        "-o",
        "json",
        "--min-interval",
        "150ms",
        "--max-interval",
        "150ms",
        "--command-id",
        support::fake_ssm::CMD_ID,
    ];

    let fake = FakeSsm::with_timeline(timeline());
    let cli = Cli::new(&fake.url());
    let out = on_terminal(&cli, &wait, &[]);
    assert_exit(&out, 0);
    let s = screen(&out);
    assert!(s.contains("/3 finished · 0 failed"), "progress bar: {s:?}");

    let fake = FakeSsm::with_timeline(timeline());
    let cli = Cli::new(&fake.url());
    let piped = cli.cmd().args(wait).output().unwrap();
    assert_exit(&piped, 0);
    assert!(
        piped.stderr.is_empty(),
        "no bar in a pipe\n{}",
        describe(&piped)
    );
}
