//! Issue 19: what a hostile network and a careless user met, kept to README's promises. The
//! sections follow the issue's points: proxies from the environment on both clouds, endless
//! stdin, answers that are not AWS's, a NextToken sent twice, `--timeout` after failures, an
//! empty answer, a black-holed endpoint, secrets in `-v`, SIGTERM and SIGHUP, an unknown
//! profile, and the smaller ones. Point 5 (each poll keeps its retries through hours of
//! throttling; adaptive mode no slower) is tested on the SDK's own sleeps, counted, in
//! `src/provider/aws/retries_tests.rs`.

use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cancel::{assert_cancel_reported, aws_wait, cancels, running_one};
use crate::support::fake_ecs::{
    FakeEcs, Fault, INVOKE_ID, Instance, Invocation, World, instance_id as ecs_instance_id,
};
use crate::support::fake_multi::FakeMulti;
use crate::support::fake_mw::{
    DESCRIBE_INVOCATIONS, DESCRIBE_TASKS, WINDOW_EXECUTION_ID, task_execution_id,
};
use crate::support::fake_ssm::{
    CMD_ID, FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, LIST_COMMAND_INVOCATIONS, Step,
    fleet_instance_id, invocation_step,
};
use crate::support::http::{Reply, Request, Server};
use crate::support::timeline::{Member, Timeline};
use crate::support::{
    Args, Cli, FAST_POLL, Spawned, assert_error, assert_exit, assert_output, assert_rejected,
    assert_single_stderr_line, check, check_eq, ids, run, stderr_str,
};

// --- Helpers -------------------------------------------------------------------------------------

/// A fake SSM endpoint whose every GetCommandInvocation is a Success printing `ok`.
fn success_fake() -> FakeSsm {
    FakeSsm::always(invocation_step("Success", "Success", "ok\n", ""))
}

/// `get --command-id … --instance-id … -o text`, which prints `ok\n` from [`success_fake`].
fn invocation_step_body() -> serde_json::Value {
    crate::support::fake_ssm::invocation("Success", "Success", &"x".repeat(3000), "")
}

fn get_text() -> String {
    format!("get {} -o text", ids().join(" "))
}

/// One Alibaba Cloud invocation of one instance, Success.
fn ecs_one() -> World {
    World::single([Instance::new(ecs_instance_id(1))])
}

/// A server answering every request with `reply`, and the requests it read (`METHOD target`).
fn recording(reply: Reply) -> (Server, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let server = Server::start(move |r: &Request| {
        log.lock()
            .unwrap()
            .push(format!("{} {}", r.method, r.target));
        reply.clone()
    });
    (server, seen)
}

/// What `recording`'s server read, once the client has exited.
fn requests_read(server: &Server, seen: &Mutex<Vec<String>>) -> Vec<String> {
    server.settle();
    seen.lock().unwrap().clone()
}

// --- 1. Proxies from the environment, both clouds ------------------------------------------------

/// Each case's proxy variable, and the variable that names the endpoint's host to bypass it.
const PROXY_CASES: [(&str, Option<&str>); 5] = [
    ("HTTP_PROXY", None),
    ("http_proxy", None),
    ("ALL_PROXY", None),
    ("HTTP_PROXY", Some("NO_PROXY")),
    ("http_proxy", Some("no_proxy")),
];

/// A case's variables: its proxy variable naming `proxy`, its bypass naming `host`.
fn proxy_env<'a>(
    (var, bypass): (&'a str, Option<&'a str>),
    proxy: String,
    host: &str,
) -> Vec<(&'a str, String)> {
    let mut env = vec![(var, proxy)];
    env.extend(bypass.map(|b| (b, host.to_owned())));
    env
}

/// `ssmres --endpoint-url ENDPOINT ARGS` (`--provider aliyun` with the fake ECS key when
/// `aliyun`), with these variables and no other proxy setting (the isolated environment's
/// NO_PROXY keeps the other tests' fakes unproxied).
fn proxied(aliyun: bool, endpoint: &str, env: Vec<(&str, String)>, args: impl Args) -> Output {
    let cli = Cli::new(endpoint);
    let mut cmd = if aliyun { cli.ali() } else { cli.cmd() };
    cmd.env_remove("NO_PROXY").env_remove("no_proxy").envs(env);
    run(cmd.args(args.words()))
}

#[test]
fn aws_calls_go_through_the_proxy_variables_unless_no_proxy_names_the_host() {
    // `.test` never resolves: only a proxy can reach it.
    const HOST: &str = "ssm.proxied.test";
    for case in PROXY_CASES {
        // The fake is the proxy: it reads the absolute-form request and answers it itself.
        let proxy = success_fake();
        let env = proxy_env(case, proxy.url(), HOST);
        let out = proxied(false, &format!("http://{HOST}"), env, get_text());
        if case.1.is_some() {
            assert_error(&out, 3);
            proxy.assert_untouched();
            continue;
        }
        assert_output(&out, 0, "ok\n", "");
        let calls = proxy.calls();
        let hosts: Vec<Option<&str>> = calls.iter().map(|c| c.header("host")).collect();
        check_eq!(out, hosts, [Some(HOST)], "{case:?}: one call, for {HOST}");
    }
}

#[test]
fn alibaba_calls_go_through_the_proxy_variables_unless_no_proxy_names_the_host() {
    // Plain http is for loopback endpoints only, and loopback is proxied unless listed: the
    // endpoint is a second fake, which only a bypass reaches.
    for case in PROXY_CASES {
        let (direct, proxy) = (FakeEcs::start(ecs_one()), FakeEcs::start(ecs_one()));
        let endpoint = format!("http://localhost:{}", direct.port());
        let env = proxy_env(case, proxy.url(), "localhost");
        let args = format!("get --invoke-id {INVOKE_ID} -o json");
        let out = proxied(true, &endpoint, env, args);
        assert_exit(&out, 0);
        let (used, unused) = match case.1 {
            Some(_) => (&direct, &proxy),
            None => (&proxy, &direct),
        };
        check_eq!(out, used.calls().len(), 1, "{case:?}");
        unused.assert_untouched();
    }
}

#[test]
fn https_endpoints_are_tunnelled_through_https_proxy_unless_no_proxy_names_the_host() {
    for (aliyun, host) in [(false, "ssm.proxied.test"), (true, "ecs.proxied.test")] {
        for bypass in [None, Some("NO_PROXY"), Some("no_proxy")] {
            // A proxy that refuses every tunnel: what it was asked for is what counts.
            let (proxy, seen) = recording(Reply::send(403, "text/plain", "no tunnels here"));
            let env = proxy_env(("HTTPS_PROXY", bypass), proxy.url(), host);
            let args = match aliyun {
                true => format!("get --invoke-id {INVOKE_ID}"),
                false => get_text(),
            };
            let out = proxied(aliyun, &format!("https://{host}"), env, args);
            assert_error(&out, 3);
            let asked = requests_read(&proxy, &seen);
            let tunnel = format!("CONNECT {host}:443");
            let as_wanted = match bypass {
                None => !asked.is_empty() && asked.iter().all(|r| *r == tunnel),
                Some(_) => asked.is_empty(),
            };
            let why = format!("{host}, bypass {bypass:?}: the proxy was asked {asked:?}");
            check!(out, as_wanted, "{why}");
        }
    }
}

// --- 2. Endless stdin ----------------------------------------------------------------------------

/// Caps the address space (KiB) of a run fed endless stdin: a binary that kept all it read
/// fails the test instead of filling the machine's memory.
const MEMORY_CAP: &str = "ulimit -v 1048576";

#[test]
fn endless_stdin_is_a_usage_error_in_bounded_memory_and_time() {
    for (what, feed, said) in [
        // Stops at the first byte that cannot start JSON.
        (
            "/dev/zero",
            r#"exec "$0" "$@" </dev/zero"#,
            "stdin is not JSON",
        ),
        // Nested without end: serde_json's depth limit.
        (
            "endless '['",
            r#"yes '[[[[[[[[' | "$0" "$@""#,
            "recursion limit exceeded",
        ),
        // White space without end: the limit holds before the document starts too. (A
        // document without end stops at the same limit: json_skim's unit tests, on a smaller
        // one, since a debug build parses 256 MiB slowly.)
        (
            "endless blank lines",
            r#"yes '' | "$0" "$@""#,
            "more than 256 MiB",
        ),
    ] {
        let fake = success_fake();
        let mut cmd = Cli::new(&fake.url()).shell(&format!("{MEMORY_CAP}; {feed}"));
        cmd.args(["get", "--command-id", "-", "--instance-id", INSTANCE_ID]);
        let started = Instant::now();
        let out = run(&mut cmd);
        let took = started.elapsed();
        let line = assert_error(&out, 2);
        check!(out, line.contains(said), "{what}: the line says {said:?}");
        // Parsing 256 MiB in a debug build takes some 20 s on an idle machine.
        check!(
            out,
            took < Duration::from_secs(180),
            "{what}: took {took:?}"
        );
        fake.assert_untouched();
    }
}

#[test]
fn a_listing_of_many_commands_on_stdin_costs_what_is_kept() {
    // `aws ssm list-commands` for a busy account: about 30 MB, of which the first command's ID
    // and instance are used; read under a memory cap well below what keeping it all would take.
    let feed = format!(
        r#"{{ printf '{{"Commands": [{{"CommandId": "{CMD_ID}", "InstanceIds": ["{INSTANCE_ID}"]}}'; yes ', {{"CommandId": "{CMD_ID}", "Comment": "{pad}", "InstanceIds": ["{INSTANCE_ID}"]}}' | head -n 200000; echo ']}}'; }} | "$0" "$@""#,
        pad = "p".repeat(100)
    );
    let fake = success_fake();
    let mut cmd = Cli::new(&fake.url()).shell(&format!("ulimit -v 524288; {feed}"));
    let out = run(cmd.args(["get", "--command-id", "-", "-o", "text"]));
    assert_exit(&out, 0);
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 1);
}

// --- 3 and 7. Answers that are not AWS's, and an empty one ---------------------------------------

#[test]
fn answers_that_are_not_aws_s_are_named_by_status_and_start_4xx_once_5xx_retried() {
    let page = "<html>\n  <head><title>403 Forbidden</title></head>\n</html>\n";
    let gateway = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let elsewhere = "https://ssm.elsewhere.example/";
    let moved = Reply::send(307, "text/plain", "").with_header("Location", elsewhere.into());
    // `(answer, requests, the line after "error: GetCommandInvocation")`.
    for (reply, asked, said) in [
        (
            Reply::send(403, "text/html", page),
            1,
            " failed: HTTP 403, not an AWS answer: <html> <head><title>403 Forbidden</title></head> </html>".to_owned(),
        ),
        (
            Reply::send(404, "text/plain", ""),
            1,
            " failed: HTTP 404, not an AWS answer, with an empty body".to_owned(),
        ),
        (
            moved,
            1,
            format!(" failed: HTTP 307, not an AWS answer (redirected to {elsewhere}: a wrong endpoint or region?), with an empty body"),
        ),
        // The SDK's three attempts.
        (
            Reply::send(502, "text/html", gateway),
            3,
            format!(" failed after retries: HTTP 502, not an AWS answer: {gateway}"),
        ),
        // 7: an empty 200 is no record of defaults and no success.
        (
            Reply::send(200, "application/x-amz-json-1.1", ""),
            1,
            ": the service sent an empty answer".to_owned(),
        ),
    ] {
        let (server, seen) = recording(reply);
        let out = Cli::new(&server.url()).run(get_text());
        let line = assert_error(&out, 3);
        check_eq!(out, line, format!("error: GetCommandInvocation{said}"));
        check_eq!(out, requests_read(&server, &seen).len(), asked, "requests");
    }
}

#[test]
fn alibaba_answers_that_are_not_the_service_s_are_named_as_aws_ones_are() {
    let page = "<html>\n  <head><title>403 Forbidden</title></head>\n</html>\n";
    let elsewhere = "https://ecs.elsewhere.example/";
    let moved = Reply::send(307, "text/plain", "")
        .with_header("Location", format!("{elsewhere}?Signature=abc"));
    let not_ecs = "not an Alibaba Cloud answer";
    // `(answer, requests, the line after "error: DescribeInvocationResults")`: the client's
    // five attempts for what is worth another.
    for (reply, asked, said) in [
        (
            Reply::send(403, "text/html", page),
            1,
            format!(
                ": HTTP 403, {not_ecs}: <html> <head><title>403 Forbidden</title></head> </html>"
            ),
        ),
        // Not followed: it would carry the signed query elsewhere.
        (
            moved,
            1,
            format!(
                ": HTTP 307, {not_ecs} (redirected to {elsewhere}: a wrong endpoint or region?), with an empty body"
            ),
        ),
        (
            Reply::send(429, "text/plain", ""),
            5,
            format!(": HTTP 429, {not_ecs}, with an empty body (after retries)"),
        ),
        (
            Reply::send(200, "application/json", ""),
            5,
            ": the service sent an empty answer (after retries)".to_owned(),
        ),
    ] {
        let (server, seen) = recording(reply);
        let out = Cli::new(&server.url()).run_ali(format!("get --invoke-id {INVOKE_ID} -o json"));
        let line = assert_error(&out, 3);
        check_eq!(out, line, format!("error: DescribeInvocationResults{said}"));
        check_eq!(out, requests_read(&server, &seen).len(), asked, "requests");
    }
}

// --- 4. A NextToken sent twice -------------------------------------------------------------------

const SAME_TOKEN: &str = ": the service sent the same NextToken twice; stopping rather than reading the same pages again";

#[test]
fn a_next_token_sent_twice_ends_a_listing_with_exit_3_after_two_pages() {
    let window = format!("task-invocations --window-execution-id {WINDOW_EXECUTION_ID}");
    let task = format!("{window} --task-id {}", task_execution_id(1));
    for (args, target, member) in [
        (
            format!("list --command-id {CMD_ID}"),
            LIST_COMMAND_INVOCATIONS,
            "CommandInvocations",
        ),
        (window, DESCRIBE_TASKS, "WindowExecutionTaskIdentities"),
        (
            task,
            DESCRIBE_INVOCATIONS,
            "WindowExecutionTaskInvocationIdentities",
        ),
    ] {
        let mut page = json!({ "NextToken": "same" });
        page[member] = json!([]);
        let fake = FakeSsm::with_handler(move |_, _| Step::ok(&page));
        let out = Cli::new(&fake.url()).run(&args);
        let op = target.trim_start_matches("AmazonSSM.");
        check_eq!(
            out,
            assert_error(&out, 3),
            format!("error: {op}{SAME_TOKEN}")
        );
        let targets: Vec<String> = fake.calls().into_iter().map(|c| c.target).collect();
        check_eq!(out, targets, [target; 2], "{args}");
    }
    // Alibaba's listing too (a page with results: an empty one ends it anyway).
    let instance = Instance::new(ecs_instance_id(1));
    let invocation = Invocation::new(INVOKE_ID).instance(instance.clone());
    let results = json!({ "InvocationResult": [invocation.result_at(&instance, 1, true)] });
    let page = json!({
        "RequestId": "473469C7-AA6F-4DC5-B3DB-000000000001",
        "Invocation": { "InvocationResults": results, "NextToken": "same", "TotalCount": 3 },
    });
    let world = World::new().invocation(invocation);
    let fake = FakeEcs::start(world.fail_calls(1..=3, Fault::Raw(200, page.to_string())));
    let out = Cli::new(&fake.url()).run_ali(format!("list --invoke-id {INVOKE_ID}"));
    let want = format!("error: DescribeInvocationResults{SAME_TOKEN}");
    check_eq!(out, assert_error(&out, 3), want);
    check_eq!(out, fake.calls().len(), 2);
}

// --- 6. --timeout after nothing but failures -----------------------------------------------------

#[test]
fn a_timeout_after_nothing_but_failures_names_the_last_one() {
    for (answer, said) in [
        (Step::Status500, "InternalServerError"),
        (Step::throttled(), "ThrottlingException"),
        (
            Step::ok_raw("<html>maintenance</html>"),
            "unreadable answer",
        ),
    ] {
        let fake = FakeSsm::always(answer);
        let mut cmd = Cli::new(&fake.url()).cmd();
        // One attempt per poll and slow polls (backing off 2 s, then 4 s): three failed looks
        // in 3 s, short of the five that end a wait.
        cmd.env("AWS_MAX_ATTEMPTS", "1")
            .arg("wait")
            .args(ids())
            .args("--timeout 3s --min-interval 1s".words());
        let out = run(&mut cmd);
        let line = assert_error(&out, 4);
        let head = "error: timed out after 3s; every look failed, the last with: ";
        let why = format!("names the last failure ({said}), not an invocation never visible");
        check!(out, line.starts_with(head) && line.contains(said), "{why}");
    }
}

#[test]
fn a_timeout_after_answers_then_failures_names_both() {
    let running = invocation_step("InProgress", "InProgress", "", "");
    for (first, seen) in [
        (running, "last status: InProgress"),
        (Step::not_found(), "the invocation was never visible"),
    ] {
        let fake = FakeSsm::start(vec![first, Step::Status500]);
        let mut cmd = Cli::new(&fake.url()).cmd();
        cmd.env("AWS_MAX_ATTEMPTS", "1")
            .arg("wait")
            .args(ids())
            .args("--timeout 3s --min-interval 1s".words());
        let out = run(&mut cmd);
        assert_exit(&out, 4);
        let line = assert_single_stderr_line(&out);
        let head = format!("error: timed out after 3s; {seen}; the last ");
        let why = "says what was seen, then that the looks since failed, and how";
        check!(
            out,
            line.starts_with(&head) && line.contains("InternalServerError"),
            "{why}"
        );
    }
}

// --- 8. A black-holed endpoint -------------------------------------------------------------------

#[test]
fn a_black_hole_costs_get_its_read_timeout_per_attempt() {
    let (hole, seen) = recording(Reply::never());
    let started = Instant::now();
    let out = Cli::new(&hole.url()).run(format!("--read-timeout 1s {}", get_text()));
    let took = started.elapsed();
    assert_error(&out, 3);
    // The SDK's three attempts of 1 s each, and its backoff between them.
    check_eq!(out, requests_read(&hole, &seen).len(), 3, "attempts");
    let why = format!("three read timeouts of 1 s took {took:?}");
    check!(
        out,
        took >= Duration::from_secs(3) && took < Duration::from_secs(20),
        "{why}"
    );
}

#[test]
fn an_answer_that_trickles_in_is_cut_after_connect_plus_twice_the_read_timeout() {
    // Starts at once, then a byte every 100 ms: minutes for the whole body.
    let body = serde_json::to_vec(&invocation_step_body()).unwrap();
    let (trickle, seen) = recording(Reply::Trickle(body, Duration::from_millis(100)));
    let started = Instant::now();
    let mut cmd = Cli::new(&trickle.url()).cmd();
    cmd.env("AWS_MAX_ATTEMPTS", "1")
        .args("--connect-timeout 1s --read-timeout 1s".words())
        .args(get_text().words());
    let out = run(&mut cmd);
    let took = started.elapsed();
    let line = assert_error(&out, 3);
    check!(out, line.contains("timeout"), "says the attempt timed out");
    check_eq!(out, requests_read(&trickle, &seen).len(), 1, "attempts");
    let why = format!("one attempt of at most 1 s + 2 x 1 s took {took:?}");
    check!(out, took < Duration::from_secs(15), "{why}");
}

#[test]
fn a_wait_against_a_black_hole_ends_within_a_moment_of_its_timeout() {
    let hole = Step::delayed(Duration::from_secs(600), Step::DropConnection);
    let running = invocation_step("InProgress", "InProgress", "", "");
    for (steps, said, within) in [
        // Never answered, from the first look: not "never visible".
        (vec![hole.clone()], "the service had not answered yet", 8.0),
        // Answered, then the last look at the deadline hangs: cut short (how short, exactly,
        // is poll_tests' the_last_look_is_bounded, on tokio's paused clock).
        (vec![running, hole], "last status: InProgress", 8.0),
    ] {
        let fake = FakeSsm::start(steps);
        let mut cmd = Cli::new(&fake.url()).cmd();
        // The second poll would come after the deadline: the last look is at the deadline.
        cmd.args(["wait", "--timeout", "2s", "--min-interval", "5s"])
            .args(ids());
        let started = Instant::now();
        let out = run(&mut cmd);
        let took = started.elapsed().as_secs_f64();
        assert_exit(&out, 4);
        let line = assert_single_stderr_line(&out);
        check_eq!(out, line, format!("error: timed out after 2s; {said}"));
        check!(out, (2.0..within).contains(&took), "took {took:.2} s");
    }
}

#[test]
fn a_fleet_wait_ends_within_a_moment_of_its_timeout_while_results_hang() {
    // One member finishes, and reading its result never gets an answer.
    let timeline = Timeline::new(vec![
        Member::new(fleet_instance_id(0)).succeeds_at(2),
        Member::new(fleet_instance_id(1)).running_at(1),
    ])
    .get_delay(Duration::from_secs(600));
    let fake = FakeSsm::with_timeline(timeline);
    let mut cmd = Cli::new(&fake.url()).cmd();
    cmd.args([
        "wait",
        "--command-id",
        CMD_ID,
        "--timeout",
        "2s",
        "-o",
        "json",
    ])
    .args(FAST_POLL);
    let started = Instant::now();
    let out = run(&mut cmd);
    let took = started.elapsed().as_secs_f64();
    assert_exit(&out, 4);
    let line = assert_single_stderr_line(&out);
    check_eq!(out, line, "error: timed out after 2s; 1 of 2 finished");
    // Not the read timeout of each attempt of the hanging call (15 s, three times).
    check!(out, (2.0..8.0).contains(&took), "took {took:.2} s");
    check!(
        out,
        fake.count(GET_COMMAND_INVOCATION) >= 1,
        "the result was asked for"
    );
}

// --- 9. Secrets in verbose output ----------------------------------------------------------------

#[test]
fn verbose_output_never_shows_the_access_key_id_nor_an_endpoint_password() {
    const KEY_ID: &str = "AKIAHARDENINGTEST";
    let config = "[profile ops]\nregion = us-east-1\n";
    let credentials = format!("[ops]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = s\n");
    for how in ["--profile", "AWS_PROFILE", "environment"] {
        let fake = success_fake();
        let cli = Cli::new(&fake.url());
        let mut cmd = match how {
            "environment" => cli.cmd(),
            _ => cli.with_files(cli.cmd(), config, &credentials),
        };
        match how {
            "--profile" => cmd.args(["--profile", "ops"]),
            "AWS_PROFILE" => cmd.env("AWS_PROFILE", "ops"),
            _ => cmd.env("AWS_ACCESS_KEY_ID", KEY_ID),
        };
        let out = run(cmd.arg("-vvv").args(get_text().words()));
        assert_exit(&out, 0);
        let err = stderr_str(&out);
        let why = format!("{how}: -vvv logs, and never the key ID");
        check!(
            out,
            err.contains("DEBUG") && !err.contains("HARDENINGTEST"),
            "{why}"
        );
        // It was the key in use.
        let auth = fake.calls()[0].header("authorization").unwrap().to_owned();
        check!(
            out,
            auth.contains(&format!("Credential={KEY_ID}/")),
            "{auth}"
        );
    }
    for verbose in ["-v", "-vvv"] {
        let fake = success_fake();
        let address = fake.url().replace("http://", "");
        let endpoint = format!("http://user:s3cr3t@{address}");
        let mut cmd = Cli::new(&fake.url()).bare();
        let out = run(cmd
            .args([verbose, "--endpoint-url", &endpoint])
            .args(get_text().words()));
        assert_exit(&out, 0);
        let err = stderr_str(&out);
        let why = format!("{verbose}: the endpoint is shown, its password never");
        check!(
            out,
            err.contains(&address) && !err.contains("s3cr3t"),
            "{why}"
        );
    }
}

// --- 10. SIGTERM and SIGHUP ----------------------------------------------------------------------

#[test]
fn sigterm_and_sighup_end_a_wait_as_ctrl_c_does_with_128_plus_the_signal() {
    for (signal, code, said) in [
        ("TERM", 143, "terminated (SIGTERM)"),
        ("HUP", 129, "hung up (SIGHUP)"),
    ] {
        let fake = FakeSsm::always(invocation_step("InProgress", "InProgress", "", ""));
        let mut cmd = Cli::new(&fake.url()).cmd();
        let mut run = Spawned::start(cmd.arg("wait").args(ids()).args(FAST_POLL));
        let polled = fake.wait(|| fake.count(GET_COMMAND_INVOCATION) >= 2);
        run.until("a second poll", polled);
        let sent = run.signal(signal);
        let done = run.finish();
        check_eq!(
            done.out,
            assert_error(&done.out, code),
            format!("error: {said}")
        );
        let took = done.ended - sent;
        check!(done.out, took < Duration::from_secs(5), "took {took:?}");
    }
    // Started with SIGHUP ignored (`nohup`): a hang-up leaves the wait going, SIGTERM still ends it.
    let fake = FakeSsm::always(invocation_step("InProgress", "InProgress", "", ""));
    let mut cmd = Cli::new(&fake.url()).shell(r#"trap '' HUP; exec "$0" "$@""#);
    let mut run = Spawned::start(cmd.arg("wait").args(ids()).args(FAST_POLL));
    run.until(
        "a second poll",
        fake.wait(|| fake.count(GET_COMMAND_INVOCATION) >= 2),
    );
    run.signal("HUP");
    let after = fake.count(GET_COMMAND_INVOCATION);
    let polled = fake.wait(|| fake.count(GET_COMMAND_INVOCATION) >= after + 2);
    run.until("two polls after the hang-up", polled);
    run.signal("TERM");
    let out = run.finish().out;
    check_eq!(out, assert_error(&out, 143), "error: terminated (SIGTERM)");

    // And with --cancel-on-interrupt, SIGTERM cancels what is waited on first.
    let fake = FakeMulti::start(running_one());
    let mut run = aws_wait(&fake, &[INSTANCE_ID], "--cancel-on-interrupt");
    run.until("a second poll", fake.wait(|| fake.round() >= 2));
    run.signal("TERM");
    let out = run.finish().out;
    assert_exit(&out, 143);
    let cancel = json!({ "CommandId": CMD_ID, "InstanceIds": [INSTANCE_ID] });
    check_eq!(out, cancels(&fake), [cancel]);
    assert_cancel_reported(&out, "Cancelled");
}

#[test]
fn sigterm_on_a_terminal_clears_the_spinner_before_the_error() {
    let fake = FakeSsm::always(invocation_step("InProgress", "InProgress", "", ""));
    let cli = Cli::new(&fake.url());
    let flag = cli.home().join("polled");
    // Under a pty the run is started by a shell, which sends SIGTERM once told the wait is
    // under way (two polls made, so the spinner is showing).
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        r#""$0" "$@" & p=$!; until [ -e "$FLAG" ]; do sleep 0.05; done; kill -TERM $p; wait $p"#,
    ])
    .arg(crate::support::ssmres_bin())
    .args(["--endpoint-url", &fake.url(), "wait"])
    .args(ids())
    .args(FAST_POLL)
    .env("FLAG", &flag);
    cli.apply_env(&mut cmd);
    let out = std::thread::scope(|scope| {
        scope.spawn(|| {
            // Told in any case, so that the shell never waits for ever; a wait that never
            // polled fails the checks below.
            fake.wait(|| fake.count(GET_COMMAND_INVOCATION) >= 2);
            std::fs::write(&flag, "").expect("write the flag");
        });
        crate::support::on_terminal(&cmd)
    });
    assert_exit(&out, 143);
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    let at = screen.find("error: terminated (SIGTERM)");
    let before = at.map(|at| &screen[..at]);
    let why = format!("the spinner showed, then was cleared before the error: {screen:?}");
    let cleared = before.is_some_and(|b| {
        b.contains(" polls · ")
            && (b.ends_with('\n') || b.ends_with("\x1b[2K") || b.ends_with('\r'))
    });
    check!(out, cleared, "{why}");
}

// --- 11. An unknown profile ----------------------------------------------------------------------

#[test]
fn an_unknown_profile_is_named_before_any_call() {
    let said = "error: the config profile (typo) could not be found in the AWS config files \
                (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE and \
                AWS_SHARED_CREDENTIALS_FILE)";
    let config = "[default]\nregion = us-east-1\n\n[profile ops]\nregion = eu-west-1\n";
    let credentials = "[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = s\n";
    for (files, by_flag) in [(true, true), (true, false), (false, true)] {
        let fake = success_fake();
        let cli = Cli::new(&fake.url());
        // Files holding other profiles; or none, with a key and region in the environment.
        let mut cmd = match files {
            true => cli.with_files(cli.cmd(), config, credentials),
            false => cli.cmd(),
        };
        match by_flag {
            true => cmd.args(["--profile", "typo"]),
            false => cmd.env("AWS_PROFILE", "typo"),
        };
        let out = run(cmd.args(get_text().words()));
        let why = format!("files: {files}, --profile: {by_flag}");
        check_eq!(out, assert_error(&out, 3), said, "{why}");
        fake.assert_untouched();
    }
    // A leftover AWS_PROFILE beside keys in the environment is not used, so not refused.
    let fake = success_fake();
    let mut cmd = Cli::new(&fake.url()).cmd();
    let out = run(cmd.env("AWS_PROFILE", "typo").args(get_text().words()));
    assert_exit(&out, 0);
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 1);
}

// --- 12. Smaller ---------------------------------------------------------------------------------

#[test]
fn bad_durations_name_their_flag_and_long_values_are_cut() {
    let wait = format!("wait {}", ids().join(" "));
    let window = format!("task-invocations --window-execution-id {WINDOW_EXECUTION_ID} --wait");
    for (args, flag) in [
        (format!("{wait} --timeout -1s"), "--timeout"),
        (format!("{wait} --min-interval -1s"), "--min-interval"),
        (
            format!("{wait} --not-found-grace -30s"),
            "--not-found-grace",
        ),
        (format!("{window} --timeout -1s"), "--timeout"),
        (format!("{wait} --connect-timeout -1s"), "--connect-timeout"),
        (format!("--read-timeout 0 {wait}"), "--read-timeout"),
        (format!("{wait} --read-timeout soon"), "--read-timeout"),
        (
            format!("{wait} --timeout {}", "x".repeat(5000)),
            "--timeout",
        ),
        (
            format!("{wait} --timeout {}", "9".repeat(5000)),
            "--timeout",
        ),
    ] {
        let line = assert_rejected(&args);
        let (chars, long) = (line.chars().count(), args.len() > 5000);
        let why = format!("{flag}: a line of {chars} characters: {line}");
        assert!(
            line.contains(flag) && chars < 300 && (!long || line.contains('…')),
            "{why}"
        );
    }
}

#[test]
fn a_closed_stdout_is_an_error_while_dev_null_is_not() {
    let fake = success_fake();
    let mut cmd = Cli::new(&fake.url()).shell(r#"exec "$0" "$@" >&-"#);
    let out = run(cmd.args(get_text().words()));
    let want = "error: stdout is closed (>&-): the result would have nowhere to go; redirect it \
                to /dev/null to discard it";
    check_eq!(out, assert_error(&out, 3), want);
    fake.assert_untouched();

    // Write-only as a shell opens it, and read-write as Python's DEVNULL, node's 'ignore' and a
    // daemon's descriptors are (what the runtime itself puts on a closed one).
    for (n, redirect) in [(1, ">/dev/null"), (2, "1<>/dev/null")] {
        let mut cmd = Cli::new(&fake.url()).shell(&format!(r#"exec "$0" "$@" {redirect}"#));
        let out = run(cmd.args(get_text().words()));
        assert_output(&out, 0, "", "");
        check_eq!(out, fake.count(GET_COMMAND_INVOCATION), n);
    }
}

#[test]
fn alibaba_retries_an_unreadable_answer_as_aws_does() {
    let unreadable = Fault::Raw(200, "<html><body>Service maintenance</body></html>".into());
    // `(unreadable answers, exit code, requests)`: five attempts per call.
    for (bad, code, requests) in [(2, 0, 3), (100, 3, 5)] {
        let fake = FakeEcs::start(ecs_one().fail_calls(1..=bad, unreadable.clone()));
        let out = Cli::new(&fake.url()).run_ali(format!("get --invoke-id {INVOKE_ID} -o json"));
        assert_exit(&out, code);
        check_eq!(out, fake.total_requests(), requests);
        if code == 3 {
            let line = assert_error(&out, 3);
            check!(
                out,
                line.contains("DescribeInvocationResults: unexpected answer")
            );
        }
    }
}
