//! What ships with the binary besides its commands: the man page (`ssmres man`, checked in as
//! man/ssmres.1; regenerate with `scripts/gen-completions`), `--version` and its `-v` details
//! for bug reports, and the SSMRES_* environment defaults, each shown in `--help` and each
//! giving way to its flag.
//!
//! [`Cli`] scrubs every SSMRES_* variable from the host, so each test sets the ones it means
//! on the command itself.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::fake_multi::{FakeMulti, MultiInstance, MultiWorld, StepSpec};
use crate::support::fake_ssm::{
    CMD_ID, FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, Step, invocation_step,
};
use crate::support::{
    Args, Cli, FAST_POLL, assert_error, assert_exit, assert_output, assert_single_stderr_line,
    check, check_eq, describe, ids, run, stderr_str, stdout_json, stdout_str,
};
use serde_json::json;

// --- Helpers -------------------------------------------------------------------------------------

/// An isolated environment for runs that must not reach any endpoint (help, version, man).
fn offline() -> Cli {
    Cli::new("http://127.0.0.1:9")
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `ssmres ARGS` with the isolated environment, no endpoint, no SSMRES_* variable.
fn run_offline(args: impl Args) -> Output {
    run(offline().bare().args(args.words()))
}

/// `ssmres man`: exit 0, nothing on stderr, the page on stdout.
fn man_page() -> Vec<u8> {
    let out = run_offline("man");
    assert_exit(&out, 0);
    check!(out, out.stderr.is_empty() && !out.stdout.is_empty());
    out.stdout
}

fn man_page_text() -> String {
    String::from_utf8(man_page()).expect("the man page is UTF-8")
}

/// A name as roff spells it (hyphens escaped, as `ssmres man` writes them).
fn roff_name(name: &str) -> String {
    name.replace('-', "\\-")
}

/// The lines of a section: from the line `header` to the next line starting with one of `ends`
/// (`.SH` for a `.SH` section; `.SS` and `.SH` for a `.SS` subsection).
#[track_caller]
fn section<'a>(page: &'a str, header: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = page.lines().collect();
    let start = lines.iter().position(|l| *l == header);
    let start = start.unwrap_or_else(|| panic!("no `{header}` line in the man page:\n{page}"));
    let ends: &[&str] = if header.starts_with(".SS") {
        &[".SS", ".SH"]
    } else {
        &[".SH"]
    };
    lines[start + 1..]
        .iter()
        .take_while(|l| !ends.iter().any(|e| l.starts_with(e)))
        .copied()
        .collect()
}

/// The subcommands `ssmres --help` lists (clap's own `help` aside).
fn subcommands_in_help() -> Vec<String> {
    let out = run_offline("--help");
    assert_exit(&out, 0);
    let help = stdout_str(&out);
    let names: Vec<String> = (help
        .lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1))
    .take_while(|l| !l.trim().is_empty())
    // A command's line is indented by two; its description's continuation lines deeper.
    .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
    .filter_map(|l| l.split_whitespace().next())
    .filter(|name| *name != "help")
    .map(str::to_owned)
    .collect();
    check!(out, names.len() >= 6, "no Commands section in --help?");
    names
}

/// The requests and macros a man(7) page may use; the page is read as roff, so a line of
/// help text starting with `.` or `'` would be taken as a request and vanish (or warn).
const KNOWN_REQUESTS: &str = "TH SH SS PP LP P TP TQ IP HP RS RE br sp nf fi ie el ds B I BR IR RB RI BI IB SM SB UR UE MT \
                              ME EX EE in ti ad na ne";

/// The page is well-formed roff for man(7): a `.TH ssmres 1` title, no line starting with `.`
/// or `'` other than a known request, balanced `.nf`/`.fi` and `.RS`/`.RE`.
#[track_caller]
fn assert_roff_well_formed(page: &str) {
    let titles: Vec<&str> = page.lines().filter(|l| l.starts_with(".TH")).collect();
    assert_eq!(titles.len(), 1, "one .TH line expected: {titles:?}");
    let title = titles[0] == ".TH ssmres 1" || titles[0].starts_with(".TH ssmres 1 ");
    assert!(title, "title: {:?}", titles[0]);
    let known: Vec<&str> = KNOWN_REQUESTS.split_whitespace().collect();
    let mut requests = 0;
    let (mut nf, mut rs) = (0_i32, 0_i32);
    for (n, line) in page.lines().enumerate().map(|(n, l)| (n + 1, l)) {
        let Some(rest) = line.strip_prefix('.').or_else(|| line.strip_prefix('\'')) else {
            continue;
        };
        requests += 1;
        let name = rest.split_whitespace().next().unwrap_or("");
        let escape = "(escape it with \\&)";
        let why = format!("line {n}: {line:?} would be read as the roff request {name:?} {escape}");
        assert!(known.contains(&name), "{why}");
        match name {
            "nf" => nf += 1,
            "fi" => nf -= 1,
            "RS" => rs += 1,
            "RE" => rs -= 1,
            _ => {}
        }
        let why = format!("line {n}: unbalanced .nf/.fi or .RS/.RE");
        assert!((0..=1).contains(&nf) && rs >= 0, "{why}");
    }
    assert_eq!((nf, rs), (0, 0), "unbalanced .nf/.fi or .RS/.RE at the end");
    assert!(requests >= 20, "only {requests} roff requests:\n{page}");
}

/// Whether man(1) from man-db is installed (`man --version` answers).
fn man_is_installed() -> bool {
    Command::new("man")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `man --warnings -l PAGE` in this locale, output to a pipe (no pager).
fn render_with_man(page: &[u8], locale: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ssmres.1");
    std::fs::write(&path, page).unwrap();
    let mut man = Command::new("man");
    man.arg("--warnings")
        .arg("-l")
        .arg(&path)
        .stdin(Stdio::null());
    man.envs([
        ("LC_ALL", locale),
        ("MANPAGER", "cat"),
        ("PAGER", "cat"),
        ("MANWIDTH", "80"),
    ]);
    for unset in ["MANOPT", "MANROFFOPT", "MAN_KEEP_FORMATTING"] {
        man.env_remove(unset);
    }
    man.output().expect("run man")
}

/// Rendered text without overstrikes (`X\bX`) and with roff's minus and hyphen as `-`.
fn plain(rendered: &[u8]) -> String {
    let text = String::from_utf8_lossy(rendered);
    let mut out = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out.replace(['\u{2212}', '\u{2010}'], "-")
}

/// Renders the page with man(1) in `locale` and asserts it renders without a warning; without
/// man(1), says so and checks the roff itself instead.
fn assert_man_renders_cleanly(locale: &str) {
    let page = man_page();
    if !man_is_installed() {
        eprintln!("man(1) is not installed: checking the roff itself instead of rendering it");
        assert_roff_well_formed(&String::from_utf8(page).expect("UTF-8"));
        return;
    }
    let out = render_with_man(&page, locale);
    assert_exit(&out, 0);
    let why = format!("man -l warns about the page (LC_ALL={locale})");
    check!(out, out.stderr.is_empty(), "{why}");
    let text = plain(&out.stdout);
    for expected in [
        "NAME",
        "SYNOPSIS",
        "COMMANDS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "ssmres task-invocations",
        "--remote-exit-code",
        "--cancel-on-interrupt",
        "SSMRES_NOT_FOUND_GRACE",
    ] {
        let why = format!("the rendered page (LC_ALL={locale}) lacks {expected:?}:\n{text}");
        assert!(text.contains(expected), "{why}");
    }
}

/// `name = "…"` / `version = "…"` of each package in Cargo.lock (the first of several).
fn locked_versions() -> HashMap<String, String> {
    let path = manifest_dir().join("Cargo.lock");
    let lock = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let unquote = |s: &str| s.trim().trim_matches('"').to_owned();
    let mut versions = HashMap::new();
    let mut name = None;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            name = None;
        } else if let Some(n) = line.strip_prefix("name = ") {
            name = Some(unquote(n));
        } else if let Some(v) = line.strip_prefix("version = ")
            && let Some(n) = name.take()
        {
            versions.entry(n).or_insert_with(|| unquote(v));
        }
    }
    versions
}

/// `git rev-parse --short=12 HEAD` in the checkout, when git is there and this is one.
fn git_head() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(manifest_dir())
        .stdin(Stdio::null())
        .output();
    let head = out
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok());
    head.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn version_line() -> String {
    format!("ssmres {}\n", env!("CARGO_PKG_VERSION"))
}

/// `ssmres wait` with the fake's ids and JSON output, these SSMRES_* variables and `args`;
/// the run, how long it took, and when each GetCommandInvocation arrived after the start.
fn wait_with_env(
    fake: &FakeSsm,
    env: &[(&str, &str)],
    args: impl Args,
) -> (Output, Duration, Vec<Duration>) {
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.cmd();
    cmd.envs(env.iter().copied())
        .arg("wait")
        .args(ids())
        .args(["-o", "json"])
        .args(args.words());
    let started = Instant::now();
    let out = run(&mut cmd);
    let took = started.elapsed();
    let arrived = fake
        .calls_to(GET_COMMAND_INVOCATION)
        .iter()
        .map(|r| r.at.saturating_duration_since(started))
        .collect();
    (out, took, arrived)
}

fn in_progress_forever() -> FakeSsm {
    FakeSsm::always(invocation_step("InProgress", "InProgress", "so far", ""))
}

/// The gaps between regular polls: all but the last look at the deadline.
fn regular_gaps(arrived: &[Duration]) -> Vec<Duration> {
    let regular = &arrived[..arrived.len().saturating_sub(1)];
    regular.windows(2).map(|w| w[1] - w[0]).collect()
}

/// `ssmres get` with the fake's ids and these variables.
fn get_with_env(cli: &Cli, env: &[(&str, &str)]) -> Output {
    run(cli.cmd().envs(env.iter().copied()).arg("get").args(ids()))
}

/// The usage line of a help text.
#[track_caller]
fn usage_line(out: &Output) -> String {
    let usage = stdout_str(out)
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .map(str::to_owned);
    usage.unwrap_or_else(|| panic!("no Usage: line\n{}", describe(out)))
}

// --- The man page --------------------------------------------------------------------------------

#[test]
fn checked_in_man_page_matches_the_cli() {
    let path = manifest_dir().join("man/ssmres.1");
    let kept = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let why = "man/ssmres.1 is out of date: run scripts/gen-completions";
    assert!(kept == man_page(), "{why}");
}

#[test]
fn man_page_has_a_subsection_for_every_visible_command() {
    let page = man_page_text();
    let commands = section(&page, ".SH COMMANDS");
    let listed: Vec<&str> = commands
        .iter()
        .filter(|l| l.starts_with(".SS"))
        .copied()
        .collect();
    let header = |name: &str| format!(".SS ssmres {}", roff_name(name));
    for name in "get wait list task-invocations completions man".split(' ') {
        let why = format!("no `{}` in COMMANDS: {listed:?}", header(name));
        assert!(listed.contains(&header(name).as_str()), "{why}");
    }
    // Whatever --help lists, the page documents, and nothing else.
    let in_help = subcommands_in_help();
    let want = in_help.iter().map(|n| header(n)).collect::<Vec<_>>();
    let why = "COMMANDS against `ssmres --help`";
    assert_eq!(listed, want, "{why}");
    // Each with its own synopsis.
    for name in in_help {
        let sub = section(&page, &header(&name));
        let synopsis = format!("\\fBssmres {}\\fR", roff_name(&name));
        let why = format!("no synopsis for {name}: {sub:#?}");
        assert!(sub.iter().any(|l| l.starts_with(&synopsis)), "{why}");
    }
}

#[test]
fn man_page_documents_environment_exit_status_and_flags() {
    let page = man_page_text();
    let environment = section(&page, ".SH ENVIRONMENT");
    for var in ENV_VARIABLES.split(' ') {
        let entry = format!("\\fB{var}\\fR");
        let why = format!("ENVIRONMENT lacks {var}: {environment:#?}");
        assert!(environment.contains(&entry.as_str()), "{why}");
    }

    let exit_status = section(&page, ".SH \"EXIT STATUS\"");
    for code in ["0", "1", "2", "3", "4", "130"] {
        let listed = exit_status
            .iter()
            .any(|l| l.split_whitespace().next() == Some(code));
        assert!(listed, "EXIT STATUS lacks code {code}: {exit_status:#?}");
    }

    let flags =
        "--remote-exit-code --cancel-on-interrupt --cancel-on-timeout --timeout --not-found-grace";
    for (command, flags) in [("wait", flags), ("get", "--remote-exit-code")] {
        let sub = section(&page, &format!(".SS ssmres {command}"));
        for flag in flags.split(' ') {
            let item = format!("\\fB{}\\fR", roff_name(flag));
            let why = format!("`ssmres {command}` lacks {flag}: {sub:#?}");
            assert!(sub.iter().any(|l| l.starts_with(&item)), "{why}");
        }
    }
}

/// The SSMRES_* variables.
const ENV_VARIABLES: &str = "SSMRES_PROVIDER SSMRES_OUTPUT SSMRES_TIMEOUT SSMRES_MIN_INTERVAL SSMRES_MAX_INTERVAL SSMRES_NOT_FOUND_GRACE";

#[test]
fn man_page_is_well_formed_roff() {
    assert_roff_well_formed(&man_page_text());
}

#[test]
fn man_renders_the_page_without_warnings_in_utf8_and_the_posix_locale() {
    // "C": LANG unset (cron, containers, ssh without a locale) renders for an ASCII terminal.
    for locale in ["C.UTF-8", "C"] {
        assert_man_renders_cleanly(locale);
    }
}

// ---------------------------------------------------------------------------------------------
// --version
// ---------------------------------------------------------------------------------------------

#[test]
fn version_prints_the_name_and_version_after_a_subcommand_other_flags_and_odd_arguments() {
    // A value that looks like -v, given to another flag, is not a request for details… but the
    // line is the same either way; what matters is one line naming ssmres and no panic.
    for args in [
        "--version",
        "-V",
        "get --version",
        "-o json --version",
        "--region us-east-1 -V",
        "wait --version",
    ] {
        let out = run_offline(args);
        assert_exit(&out, 0);
        check_eq!(out, stdout_str(&out), version_line(), "{args:?}");
        check!(out, out.stderr.is_empty(), "{args:?}");
    }
    // An argument that is not UTF-8 next to --version is no reason to panic.
    use std::os::unix::ffi::OsStrExt;
    let out = run(offline()
        .bare()
        .arg("--version")
        .arg(std::ffi::OsStr::from_bytes(b"\xff\xfe")));
    assert_ne!(out.status.code(), Some(101), "{}", describe(&out));
    check!(out, !stderr_str(&out).contains("panicked"));
}

#[test]
fn verbose_version_gives_what_a_bug_report_needs() {
    let locked = locked_versions();
    let lock = |name: &str| {
        locked
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in Cargo.lock"))
            .clone()
    };
    let head = git_head();
    for args in ["--version -v", "-vV", "-V --verbose"] {
        let out = run_offline(args);
        assert_exit(&out, 0);
        check!(out, out.stderr.is_empty(), "{args:?}");
        let text = stdout_str(&out);
        check!(out, text.starts_with(&version_line()), "{args:?}");
        let lines: Vec<&str> = text.lines().collect();
        check_eq!(out, lines.len(), 5, "{args:?}");
        let field = |n: usize, prefix: &str| {
            let line = lines[n - 1].strip_prefix(prefix);
            line.unwrap_or_else(|| panic!("{args:?}: line {n} {:?}", lines[n - 1]))
        };

        let commit = field(2, "commit: ");
        let hex = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        };
        assert!(
            commit == "unknown" || (commit.len() == 12 && hex(commit)),
            "{args:?}: commit {commit:?}"
        );
        if let Some(head) = &head {
            // cargo reruns build.rs when HEAD or the branch moves, so the build is of HEAD.
            assert_eq!(commit, head, "{args:?}: commit against git rev-parse HEAD");
        }

        let built = field(3, "built: ");
        let parts: Vec<&str> = built.split('-').collect();
        let digits = parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()));
        let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        assert!(lengths == [4, 2, 2] && digits, "{args:?}: built {built:?}");
        let (month, day): (u32, u32) = (parts[1].parse().unwrap(), parts[2].parse().unwrap());
        assert!(
            (1..=12).contains(&month) && (1..=31).contains(&day),
            "{args:?}: built {built:?}"
        );

        let compiler = field(4, "compiler: rustc ");
        let version =
            compiler.split('.').count() >= 3 && compiler.starts_with(|c: char| c.is_ascii_digit());
        assert!(version, "{args:?}: compiler {:?}", lines[3]);

        let libraries = field(5, "libraries: ");
        let listed: Vec<&str> = libraries.split(", ").collect();
        let first = format!("aws-sdk-ssm {}", lock("aws-sdk-ssm"));
        let why = format!("{args:?}: libraries {libraries:?}");
        assert_eq!(listed.first(), Some(&first.as_str()), "{why}");
        let position = |name: &str| {
            let entry = format!("{name} {}", lock(name));
            let at = listed.iter().position(|l| *l == entry);
            at.unwrap_or_else(|| panic!("{args:?}: no `{entry}` in {libraries:?}"))
        };
        let why = format!("{args:?}: libraries {libraries:?}");
        assert!(position("aws-config") < position("reqwest"), "{why}");
    }
}

// --- Environment defaults: shown in --help -------------------------------------------------------

#[test]
fn help_shows_each_environment_variable() {
    let out = run_offline("wait --help");
    assert_exit(&out, 0);
    let help = stdout_str(&out);
    for var in ENV_VARIABLES.split(' ') {
        let shown = format!("[env: {var}=]");
        assert!(help.contains(&shown), "no {shown} in wait --help:\n{help}");
    }
}

// --- SSMRES_OUTPUT -------------------------------------------------------------------------------

#[test]
fn ssmres_output_text_prints_only_the_commands_output() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "hello ✓\n", "warn\n"));
    let cli = Cli::new(&fake.url());

    // Without it, stdout not being a terminal means JSON.
    let out = get_with_env(&cli, &[]);
    assert_exit(&out, 0);
    assert_eq!(stdout_json(&out)["StandardOutputContent"], "hello ✓\n");

    let out = get_with_env(&cli, &[("SSMRES_OUTPUT", "text")]);
    assert_output(&out, 0, "hello ✓\n", "warn\n");
}

#[test]
fn output_flag_wins_over_ssmres_output_even_an_invalid_one() {
    // The variable is a default: with the flag given it is not read, so a bad one is harmless.
    let fake = FakeSsm::always(invocation_step("Success", "Success", "hello\n", ""));
    let cli = Cli::new(&fake.url());
    let get = ["get", "--command-id", CMD_ID, "--instance-id", INSTANCE_ID].join(" ");
    for (value, flag) in [("text", "-o"), ("yaml", "--output")] {
        for args in [format!("{flag} json {get}"), format!("{get} {flag} json")] {
            let out = run(cli.cmd().env("SSMRES_OUTPUT", value).args(args.words()));
            assert_exit(&out, 0);
            let v = stdout_json(&out);
            check_eq!(out, v["Status"], "Success");
            assert_eq!(v["StandardOutputContent"], "hello\n");
        }
    }
}

#[test]
fn invalid_ssmres_output_is_a_usage_error_naming_the_value() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "hello\n", ""));
    let out = get_with_env(&Cli::new(&fake.url()), &[("SSMRES_OUTPUT", "yaml")]);
    let line = assert_error(&out, 2);
    assert!(line.contains("yaml"), "stderr: {line:?}");
    fake.assert_untouched();
}

/// clap would check a global flag's variable even when the flag is given: ssmres reads
/// SSMRES_OUTPUT and SSMRES_PROVIDER itself, so a bad value never breaks an explicit flag.
#[test]
fn bad_global_variables_never_break_an_explicit_flag() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "hello\n", ""));
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.cmd();
    let bad = [("SSMRES_PROVIDER", "azure"), ("SSMRES_OUTPUT", "yaml")];
    let out = run(cmd
        .envs(bad)
        .args(["--provider", "aws", "-o", "text", "get"])
        .args(ids()));
    assert_exit(&out, 0);
    check_eq!(out, stdout_str(&out), "hello\n");

    // Without the flag, the bad provider is named (exit 2, nothing sent).
    let out = get_with_env(&cli, &[("SSMRES_PROVIDER", "azure")]);
    assert_exit(&out, 2);
    let line = assert_single_stderr_line(&out);
    assert!(
        line.contains("azure") && line.contains("SSMRES_PROVIDER"),
        "{line:?}"
    );
    let why = "only the first run reached the endpoint";
    assert_eq!(fake.total_requests(), 1, "{why}");
}

/// Neither `man` nor `completions` prints results: a bad SSMRES_OUTPUT does not stop them.
#[test]
fn man_and_completions_ignore_ssmres_output() {
    for args in ["man", "completions bash"] {
        let out = run(offline()
            .bare()
            .env("SSMRES_OUTPUT", "yaml")
            .args(args.words()));
        assert_exit(&out, 0);
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
}

/// A bad value from a `wait` variable names the variable, for someone who never typed the flag.
#[test]
fn a_bad_wait_variable_is_named_in_the_error() {
    for (variable, flag) in [
        ("SSMRES_TIMEOUT", "--timeout"),
        ("SSMRES_MIN_INTERVAL", "--min-interval"),
        ("SSMRES_NOT_FOUND_GRACE", "--not-found-grace"),
    ] {
        let out = run(offline().cmd().env(variable, "5x").arg("wait").args(ids()));
        assert_exit(&out, 2);
        let line = assert_single_stderr_line(&out);
        assert!(line.contains(flag) && line.contains(variable), "{line:?}");
        // Given on the command line, the flag's own value is what is wrong: no variable named.
        let out = run(offline().cmd().arg("wait").args(ids()).args([flag, "5x"]));
        assert_exit(&out, 2);
        assert!(!assert_single_stderr_line(&out).contains(variable));
    }
}

// --- SSMRES_TIMEOUT ------------------------------------------------------------------------------

#[test]
fn ssmres_timeout_ends_a_wait_and_the_timeout_flag_wins_over_it() {
    // (flags, the timeout in seconds that ends the wait)
    for (flags, secs) in [("", 1), ("--timeout 2s", 2)] {
        let fake = in_progress_forever();
        let args = format!("{} {flags}", FAST_POLL.join(" "));
        let (out, took, arrived) = wait_with_env(&fake, &[("SSMRES_TIMEOUT", "1s")], args);
        let case = format!("SSMRES_TIMEOUT=1s {flags:?}");
        assert_exit(&out, 4);
        assert_eq!(stdout_json(&out)["Status"], "InProgress", "{case}");
        let line = assert_single_stderr_line(&out);
        let said = line.starts_with("error:") && line.contains(&format!("timed out after {secs}s"));
        assert!(said, "{case}: stderr: {line:?}");
        let why = format!("{case} took {took:?}");
        assert!(took >= Duration::from_millis(secs * 1000 - 50), "{why}");
        // Ended by that deadline, not by a later one: generous for a busy machine.
        assert!(took < Duration::from_secs(secs + 10), "{why}");
        assert!(arrived.len() >= 3, "{case}: {arrived:?}");
    }
}

#[test]
fn ssmres_timeout_satisfies_cancel_on_timeout() {
    // Without any timeout, --cancel-on-timeout is refused before any call.
    let never = MultiInstance::single(INSTANCE_ID, StepSpec::new("x").never_ends());
    let fake = FakeMulti::start(MultiWorld::one(never));
    let cli = Cli::new(&fake.url());
    let args = format!(
        "wait --command-id {CMD_ID} --instance-id {INSTANCE_ID} {} --cancel-on-timeout -o json",
        FAST_POLL.join(" ")
    );
    assert_exit(&run(cli.cmd().args(args.words())), 2);
    fake.assert_untouched();

    // With SSMRES_TIMEOUT it is accepted, and the timeout it sets cancels.
    let started = Instant::now();
    let out = run(cli.cmd().env("SSMRES_TIMEOUT", "1s").args(args.words()));
    let took = started.elapsed();
    assert_exit(&out, 4);
    let want = [json!({ "CommandId": CMD_ID, "InstanceIds": [INSTANCE_ID] })];
    check_eq!(out, fake.cancel_requests(), want);
    assert!(took >= Duration::from_secs(1), "took {took:?}");
}

// --- SSMRES_MIN_INTERVAL / SSMRES_MAX_INTERVAL ---------------------------------------------------

const SLOW_ENV: [(&str, &str); 2] = [
    ("SSMRES_MIN_INTERVAL", "300ms"),
    ("SSMRES_MAX_INTERVAL", "300ms"),
];
const FAST_ENV: [(&str, &str); 2] = [
    ("SSMRES_MIN_INTERVAL", "20ms"),
    ("SSMRES_MAX_INTERVAL", "100ms"),
];

/// Polls 300 ms apart for 2 s: at most 8 (7 and the last look at the deadline), never closer
/// than 300 ms, and not the default's 500 ms and more (the median gap: a busy machine may
/// stretch a few).
#[track_caller]
fn assert_polls_300ms_apart(out: &Output, arrived: &[Duration]) {
    let n = arrived.len();
    let why = format!("{n} polls in 2 s 300 ms apart: {arrived:?}");
    check!(out, (3..=8).contains(&n), "{why}");
    let mut gaps = regular_gaps(arrived);
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(280)),
        "polls closer than 300 ms: {arrived:?}"
    );
    gaps.sort();
    let median = gaps[gaps.len() / 2];
    let why = format!("polls {median:?} apart (median), as with the default 500 ms: {arrived:?}");
    assert!(median < Duration::from_millis(450), "{why}");
}

/// Asserts polls in 2 s came faster than the default's 500 ms minimum allows: at most 6 then
/// (0, 0.5, 1 and 1.5 s, the last look, and one for slack).
#[track_caller]
fn assert_faster_than_the_default(arrived: &[Duration], what: &str) {
    let why = format!("{} polls in 2 s with {what}: {arrived:?}", arrived.len());
    assert!(arrived.len() > 6, "{why}");
}

#[test]
fn ssmres_intervals_space_the_polls_and_the_interval_flags_win_over_them() {
    // (variables, flags, polls 300 ms apart rather than faster than the default allows)
    let fast = FAST_POLL.join(" ");
    for (env, flags, slow) in [
        (&SLOW_ENV, "", true),
        (&FAST_ENV, "", false),
        (&SLOW_ENV, fast.as_str(), false),
        (&FAST_ENV, "--min-interval 300ms --max-interval 300ms", true),
    ] {
        let fake = in_progress_forever();
        let (out, _, arrived) = wait_with_env(&fake, env, format!("{flags} --timeout 2s"));
        assert_exit(&out, 4);
        if slow {
            assert_polls_300ms_apart(&out, &arrived);
        } else {
            assert_faster_than_the_default(&arrived, &format!("{env:?} {flags:?}"));
        }
    }
}

// --- SSMRES_NOT_FOUND_GRACE ----------------------------------------------------------------------

#[test]
fn ssmres_not_found_grace_ends_a_wait_for_an_invisible_invocation_and_the_flag_wins_over_it() {
    // (flags, the grace in seconds that ends the wait)
    for (flags, secs) in [("", 1), ("--not-found-grace 3s", 3)] {
        let fake = FakeSsm::always(Step::not_found());
        let args = format!("{} {flags}", FAST_POLL.join(" "));
        let env = [("SSMRES_NOT_FOUND_GRACE", "1s")];
        let (out, took, arrived) = wait_with_env(&fake, &env, args);
        assert_error(&out, 3);
        let case = format!("SSMRES_NOT_FOUND_GRACE=1s {flags:?}");
        let why = format!("{case} took {took:?}");
        assert!(took >= Duration::from_millis(secs * 1000 - 50), "{why}");
        assert!(took < Duration::from_secs(secs + 10), "{why}");
        assert!(arrived.len() >= 2, "{case}: {arrived:?}");
    }
}

// --- SSMRES_PROVIDER (the rest is in tests/aliyun.rs) --------------------------------------------

#[test]
fn ssmres_provider_chooses_what_get_help_shows() {
    let aliyun = |args: &str| {
        run(offline()
            .bare()
            .env("SSMRES_PROVIDER", "aliyun")
            .args(args.words()))
    };
    let out = aliyun("get --help");
    assert_exit(&out, 0);
    let usage = usage_line(&out);
    check!(
        out,
        usage.contains("--invoke-id <ID>") && !usage.contains("--command-id")
    );

    for args in [
        "--provider aws get --help",
        "get --provider aws --help",
        "get --provider=aws --help",
    ] {
        let out = aliyun(args);
        assert_exit(&out, 0);
        let usage = usage_line(&out);
        let aws = usage.contains("--command-id <ID>") && usage.contains("--instance-id <ID>");
        check!(out, aws, "{args:?}");
        let why = format!("{args:?}: --invoke-id is hidden for AWS");
        check!(out, !stdout_str(&out).contains("--invoke-id"), "{why}");
    }
}
