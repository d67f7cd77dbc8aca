//! What a person at a terminal sees: the binary runs under a pseudo-terminal (util-linux
//! `script`, part of every Debian system), so stdout and stderr really are terminals.

use std::process::Output;

use crate::support::fake_ssm::{
    CMD_ID, FakeSsm, GET_COMMAND_INVOCATION, Step, fleet_instance_id, invocation_step,
};
use crate::support::timeline::{Member, Timeline};
use crate::support::{Cli, assert_exit, check, check_eq, ids};

/// Runs `ssmres --endpoint-url URL ARGS` under a pty; stdout and stderr arrive merged, as on
/// a screen (returned as text).
fn on_terminal(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> (Output, String) {
    let mut cmd = cli.cmd();
    cmd.args(args).envs(env.iter().copied());
    let out = crate::support::on_terminal(&cmd);
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, screen)
}

/// `get` with the fake's ids, then `extra`.
fn get(extra: &[&'static str]) -> Vec<&'static str> {
    [&["get"][..], &ids(), extra].concat()
}

/// `wait` with the fake's ids, JSON output and polls every `interval`.
fn wait(interval: &'static str) -> Vec<&'static str> {
    let polls = [
        "-o",
        "json",
        "--min-interval",
        interval,
        "--max-interval",
        interval,
    ];
    [&["wait"][..], &polls, &ids()].concat()
}

/// Six polls InProgress, then Success.
fn six_polls_in_progress() -> FakeSsm {
    let mut steps = vec![invocation_step("InProgress", "In Progress", "", ""); 6];
    steps.push(invocation_step("Success", "Success", "done", ""));
    FakeSsm::start(steps)
}

#[test]
fn arguments_reach_the_binary_as_given() {
    // A plugin name with a space, a quote and a `$`: quoted wrongly, the shell would split or
    // expand it and the request would carry something else.
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let plugin = "it's a $HOME `step`";
    let (out, _) = on_terminal(
        &Cli::new(&fake.url()),
        &[&get(&["-o", "json", "--plugin-name"])[..], &[plugin]].concat(),
        &[],
    );
    assert_exit(&out, 0);
    let call = &fake.calls_to(GET_COMMAND_INVOCATION)[0];
    check_eq!(out, call.body["PluginName"], plugin);
}

#[test]
fn default_output_on_a_terminal_is_a_table() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "hello", ""));
    let (out, s) = on_terminal(&Cli::new(&fake.url()), &get(&[]), &[]);
    assert_exit(&out, 0);
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
    let (_, coloured) = on_terminal(&cli, &get(&[]), &[]);
    let why = format!("a terminal gets colour: {coloured:?}");
    assert!(coloured.contains("\x1b["), "{why}");
    let (_, plain) = on_terminal(&cli, &get(&[]), &[("NO_COLOR", "1")]);
    assert!(!plain.contains('\x1b'), "NO_COLOR means none: {plain:?}");
    assert!(plain.contains("Failed"));
    // And never colour in a pipe, even in table mode.
    let piped = cli.run(get(&["-o", "table"]));
    check!(piped, !piped.stdout.contains(&0x1b));
}

#[test]
fn spinner_shows_state_and_polls_on_a_terminal_only() {
    let fake = six_polls_in_progress();
    let (out, s) = on_terminal(&Cli::new(&fake.url()), &wait("150ms"), &[]);
    assert_exit(&out, 0);
    assert!(s.contains("InProgress (In Progress) · "), "spinner: {s:?}");
    let why = format!("poll count and elapsed time: {s:?}");
    assert!(s.contains(" polls · "), "{why}");

    let fake = six_polls_in_progress();
    let (_, s) = on_terminal(
        &Cli::new(&fake.url()),
        &[&["-q"][..], &wait("150ms")].concat(),
        &[],
    );
    assert!(!s.contains("polls"), "--quiet shows no spinner: {s:?}");

    let fake = six_polls_in_progress();
    let piped = Cli::new(&fake.url()).run(wait("150ms"));
    assert_exit(&piped, 0);
    check!(piped, piped.stderr.is_empty(), "no spinner in a pipe");
}

#[test]
fn text_mode_on_a_terminal_shows_control_characters_instead_of_obeying_them() {
    let fake = FakeSsm::always(invocation_step(
        "Success",
        "Success",
        "\x1b]0;owned\x07\x1b[2Jclean",
        "\x1b[31mred",
    ));
    let (out, s) = on_terminal(&Cli::new(&fake.url()), &get(&["-o", "text"]), &[]);
    assert_exit(&out, 0);
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
    let (out, s) = on_terminal(&Cli::new(&fake.url()), &wait("150ms"), &[]);
    assert_exit(&out, 0);
    assert!(s.contains("not visible yet"), "spinner: {s:?}");
    assert!(s.contains("\"Success\""), "the result: {s:?}");
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 6);
}

#[test]
fn no_color_also_means_plain_diagnostics() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "hello", ""));
    // -q: no spinner, whose cursor movements are escape sequences too.
    let args = [&["-q", "-vvv"][..], &get(&[])].concat();
    let (out, s) = on_terminal(&Cli::new(&fake.url()), &args, &[("NO_COLOR", "1")]);
    assert_exit(&out, 0);
    assert!(s.contains("DEBUG"), "-vvv prints diagnostics: {s:?}");
    assert!(s.contains("hello"), "{s:?}");
    let why = format!("NO_COLOR means no escape codes at all: {s:?}");
    assert!(!s.contains('\x1b'), "{why}");
}

#[test]
fn verbose_shows_log_lines_and_no_spinner() {
    // Log lines and a spinner redrawing itself would interleave on the same stderr.
    for verbose in ["-v", "-vvv"] {
        let fake = six_polls_in_progress();
        let (out, s) = on_terminal(
            &Cli::new(&fake.url()),
            &[&[verbose][..], &wait("100ms")].concat(),
            &[],
        );
        assert_exit(&out, 0);
        let why = format!("{verbose}: diagnostics expected: {s:?}");
        assert!(s.contains("DEBUG"), "{why}");
        assert!(s.contains("poll"), "{verbose}: a line per poll: {s:?}");
        assert!(s.contains("\"Success\""), "{verbose}: the result: {s:?}");
        for spinner in [" polls · ", " waited", "first poll", "(In Progress) · "] {
            let why = format!("{verbose}: no spinner with -v, found {spinner:?} in {s:?}");
            assert!(!s.contains(spinner), "{why}");
        }
        check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 7);
    }
}

#[test]
fn fleet_progress_bar_shows_finished_of_total_and_failures_on_a_terminal_only() {
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
        CMD_ID,
    ];
    let fake = FakeSsm::with_timeline(timeline());
    let (out, s) = on_terminal(&Cli::new(&fake.url()), &wait, &[]);
    assert_exit(&out, 0);
    assert!(s.contains("/3 finished · 0 failed"), "progress bar: {s:?}");

    let fake = FakeSsm::with_timeline(timeline());
    let piped = Cli::new(&fake.url()).run(wait);
    assert_exit(&piped, 0);
    check!(piped, piped.stderr.is_empty(), "no bar in a pipe");
}
