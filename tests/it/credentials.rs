//! Configuration from the environment: credentials, region, profiles, endpoints, and secrets
//! kept out of every output.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::fake_ssm::{FakeSsm, GET_COMMAND_INVOCATION, Step, invocation_step};
use crate::support::http::Server;
use crate::support::{Cli, assert_exit, ids, run, stderr_str};

const SECRET: &str = "wJalrXUtnFEMI0K7MDENG0bPxRfiCYSECRETKEY1";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKENdoNotLeakMe0123456789";

fn success_fake(stdout: &str) -> FakeSsm {
    FakeSsm::always(invocation_step("Success", "Success", stdout, ""))
}

/// `ssmres --endpoint-url <fake> ARGS` without credentials, the metadata service `imds`.
fn without_credentials(cli: &Cli, imds: &Server, args: &[&str]) -> Command {
    let mut cmd = cli.cmd();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())
        .args(args)
        .args(ids());
    cmd
}

/// The first request's Authorization header: which key and region signed it.
fn authorization(fake: &FakeSsm) -> String {
    let calls = fake.calls();
    let first = calls.first().expect("the fake received a request");
    first.header("authorization").expect("signed").to_owned()
}

#[test]
fn missing_credentials_fail_fast_with_what_to_set_for_get_and_wait() {
    for args in [
        &["get"][..],
        &["wait", "--min-interval", "20ms", "--max-interval", "100ms"],
    ] {
        let fake = success_fake("");
        let cli = Cli::new(&fake.url());
        let imds = Server::silent();
        let started = Instant::now();
        let out = run(&mut without_credentials(&cli, &imds, args));
        let took = started.elapsed();
        // Not a transient failure to poll through five times: exit 3 at once.
        assert_exit(&out, 3);
        assert!(out.stdout.is_empty(), "{out:?}");
        let err = stderr_str(&out);
        assert!(
            err.starts_with("error:")
                && err.contains("AWS_ACCESS_KEY_ID")
                && err.contains("AWS_PROFILE"),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        // The SDK's default metadata client would retry for many seconds; ours gives up quickly.
        assert!(took < Duration::from_secs(8), "{args:?} took {took:?}");
        fake.assert_untouched();
    }
}

#[test]
fn missing_region_is_reported_before_any_call() {
    let fake = success_fake("");
    let mut cmd = Cli::new(&fake.url()).cmd();
    cmd.env_remove("AWS_REGION").arg("get").args(ids());
    let out = run(&mut cmd);
    assert_exit(&out, 3);
    let err = stderr_str(&out);
    assert!(
        err.contains("--region") && err.contains("AWS_REGION"),
        "{err}"
    );
    fake.assert_untouched();
}

#[test]
fn region_flag_wins_over_the_environment_and_default_region_alone_sets_it() {
    let fake = success_fake("");
    let mut cmd = Cli::new(&fake.url()).cmd();
    cmd.env("AWS_REGION", "us-east-1")
        .args(["--region", "eu-west-3", "get"])
        .args(ids());
    assert_exit(&run(&mut cmd), 0);
    let auth = authorization(&fake);
    assert!(auth.contains("/eu-west-3/ssm/aws4_request"), "{auth}");

    let fake = success_fake("");
    let mut cmd = Cli::new(&fake.url()).cmd();
    cmd.env_remove("AWS_REGION")
        .env("AWS_DEFAULT_REGION", "eu-central-1")
        .arg("get")
        .args(ids());
    assert_exit(&run(&mut cmd), 0);
    let auth = authorization(&fake);
    assert!(auth.contains("/eu-central-1/ssm/aws4_request"), "{auth}");
}

#[test]
fn profile_flag_or_variable_selects_the_profile_of_the_config_and_credentials_files() {
    for by_flag in [true, false] {
        let fake = success_fake("");
        let cli = Cli::new(&fake.url());
        let mut cmd = cli.with_files(
            cli.cmd(),
            "[default]\nregion = us-west-2\n\n[profile ops]\nregion = ap-southeast-2\n",
            "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = defaultsecret\n\n\
             [ops]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = profilesecret\n",
        );
        if by_flag {
            cmd.args(["get", "--profile", "ops"]).args(ids());
        } else {
            cmd.env("AWS_PROFILE", "ops").arg("get").args(ids());
        }
        assert_exit(&run(&mut cmd), 0);
        let auth = authorization(&fake);
        assert!(auth.contains("Credential=AKIDFROMPROFILE/"), "{auth}");
        assert!(auth.contains("/ap-southeast-2/ssm/aws4_request"), "{auth}");
    }
}

#[test]
fn endpoint_variables_are_honoured() {
    for var in ["AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"] {
        let fake = success_fake("hi");
        let mut cmd = Cli::new(&fake.url()).bare();
        cmd.env(var, fake.url())
            .args(["get", "-o", "text"])
            .args(ids());
        let out = run(&mut cmd);
        assert_exit(&out, 0);
        assert_eq!(out.stdout, b"hi", "{var}");
        assert_eq!(fake.count(GET_COMMAND_INVOCATION), 1, "{var}");
    }
}

#[test]
fn keys_and_session_tokens_never_appear_even_with_vvv() {
    let fake = FakeSsm::start(vec![
        Step::throttled(),
        invocation_step("InProgress", "In Progress", "", ""),
        invocation_step("Success", "Success", "done", ""),
    ]);
    let cli = Cli::new(&fake.url());
    for format in ["json", "table", "text"] {
        let mut cmd = cli.cmd();
        cmd.env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .args(["-vvv", "-o", format, "wait", "--min-interval", "10ms"])
            .args(ids());
        let out = run(&mut cmd);
        assert_exit(&out, 0);
        let all = String::from_utf8_lossy(&[out.stdout.as_slice(), out.stderr.as_slice()].concat())
            .into_owned();
        assert!(!all.contains(SECRET), "secret key leaked in {format} mode");
        let why = format!("session token leaked in {format} mode");
        assert!(!all.contains(TOKEN), "{why}");
        let why = "part of the session token leaked";
        assert!(!all.contains(&TOKEN[..20]), "{why}");
        let why = "-vvv does print diagnostics";
        assert!(stderr_str(&out).contains("DEBUG"), "{why}");
    }
    // The token did reach the service: it is sent, just never shown.
    assert_eq!(fake.calls()[0].header("x-amz-security-token"), Some(TOKEN));
}

#[test]
fn wait_timeout_counts_the_region_lookup_too() {
    // No region anywhere but a metadata service that never answers: the lookup alone outlasts
    // --timeout, which counts from the start of the command, lookups included.
    let fake = success_fake("");
    let cli = Cli::new(&fake.url());
    let imds = Server::silent();
    let mut cmd = cli.cmd();
    cmd.env_remove("AWS_REGION")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())
        .args(["wait", "--timeout", "300ms"])
        .args(ids());
    let started = Instant::now();
    let out = run(&mut cmd);
    let took = started.elapsed();
    assert_exit(&out, 4);
    assert!(out.stdout.is_empty(), "{out:?}");
    // Not "never visible": no call was made, the time went into the set-up.
    let want = "error: timed out after 300ms; still looking up the AWS region and credentials\n";
    assert_eq!(stderr_str(&out), want);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    fake.assert_untouched();
}

#[test]
fn profile_endpoint_url_is_used_without_the_flag() {
    let fake = success_fake("from the profile");
    let cli = Cli::new(&fake.url());
    // No --endpoint-url, and nothing in the environment names an endpoint, region or key.
    let mut cmd = cli.with_files(
        cli.bare(),
        &format!(
            "[profile local]\nregion = eu-north-1\nendpoint_url = {}\n",
            fake.url()
        ),
        "[local]\naws_access_key_id = AKIDLOCALPROFILE\naws_secret_access_key = localsecret\n",
    );
    cmd.args(["--profile", "local", "get", "-o", "text"])
        .args(ids());
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    assert_eq!(out.stdout, b"from the profile");
    assert_eq!(fake.count(GET_COMMAND_INVOCATION), 1);
    let auth = authorization(&fake);
    assert!(auth.contains("Credential=AKIDLOCALPROFILE/"), "{auth}");
    assert!(auth.contains("/eu-north-1/ssm/aws4_request"), "{auth}");
}
