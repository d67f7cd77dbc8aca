//! Configuration from the environment: credentials, region, profiles, endpoints, and secrets
//! kept out of every output.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use support::fake_ssm::{FakeSsm, Step, invocation_step};
use support::{Cli, assert_exit, ids, stderr_str};

const SECRET: &str = "wJalrXUtnFEMI0K7MDENG0bPxRfiCYSECRETKEY1";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKENdoNotLeakMe0123456789";

/// An instance metadata service that accepts connections and never answers: what a
/// firewalled 169.254.169.254 looks like off EC2.
fn silent_metadata_service() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let started = Instant::now();
        let mut held = Vec::new();
        while started.elapsed() < Duration::from_secs(15) {
            match listener.accept() {
                Ok((mut s, _)) => {
                    s.set_nonblocking(true).ok();
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf);
                    held.push(s);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    (url, handle)
}

/// The first request's Authorization header: which key and region signed it.
fn authorization(fake: &FakeSsm) -> String {
    let requests = fake.requests();
    let first = requests.first().expect("the fake received a request");
    first.header("authorization").expect("signed").to_owned()
}

#[test]
fn missing_credentials_fail_fast_with_what_to_set() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let cli = Cli::new(&fake.url());
    let (imds, _server) = silent_metadata_service();
    let mut cmd = cli.std_cmd();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)
        .arg("get")
        .args(ids());
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed();
    assert_exit(&out, 3);
    let err = stderr_str(&out);
    assert!(
        err.contains("AWS_ACCESS_KEY_ID") && err.contains("AWS_PROFILE"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // The SDK's default metadata client would retry for many seconds; ours gives up quickly.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    fake.assert_untouched();
}

#[test]
fn missing_region_is_reported_before_any_call() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let cli = Cli::new(&fake.url());
    let out = cli
        .std_cmd()
        .env_remove("AWS_REGION")
        .arg("get")
        .args(ids())
        .output()
        .unwrap();
    assert_exit(&out, 3);
    let err = stderr_str(&out);
    assert!(
        err.contains("--region") && err.contains("AWS_REGION"),
        "{err}"
    );
    fake.assert_untouched();
}

#[test]
fn region_flag_wins_over_the_environment() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let cli = Cli::new(&fake.url());
    let out = cli
        .std_cmd()
        .env("AWS_REGION", "us-east-1")
        .args(["--region", "eu-west-3", "get"])
        .args(ids())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let auth = authorization(&fake);
    assert!(auth.contains("/eu-west-3/ssm/aws4_request"), "{auth}");
}

#[test]
fn profile_flag_reads_the_config_and_credentials_files() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let cli = Cli::new(&fake.url());
    let config = cli.home().join("config");
    let credentials = cli.home().join("credentials");
    std::fs::write(&config, "[profile ops]\nregion = ap-southeast-2\n").unwrap();
    std::fs::write(
        &credentials,
        "[ops]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = profilesecret\n",
    )
    .unwrap();
    let out = cli
        .std_cmd()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_REGION")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args(["get", "--profile", "ops"])
        .args(ids())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let auth = authorization(&fake);
    assert!(auth.contains("Credential=AKIDFROMPROFILE/"), "{auth}");
    assert!(auth.contains("/ap-southeast-2/ssm/"), "{auth}");
}

#[test]
fn endpoint_variables_are_honoured() {
    for var in ["AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"] {
        let fake = FakeSsm::always(invocation_step("Success", "Success", "hi", ""));
        let cli = Cli::new(&fake.url());
        let out = cli
            .bare_std()
            .env(var, fake.url())
            .args(["get", "-o", "text"])
            .args(ids())
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert_eq!(out.stdout, b"hi", "{var}");
        assert_eq!(fake.get_invocation_calls(), 1, "{var}");
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
        let out = cli
            .std_cmd()
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .args(["-vvv", "-o", format, "wait", "--min-interval", "10ms"])
            .args(ids())
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        let all = String::from_utf8_lossy(&all);
        assert!(!all.contains(SECRET), "secret key leaked in {format} mode");
        assert!(
            !all.contains(TOKEN),
            "session token leaked in {format} mode"
        );
        assert!(
            !all.contains(&TOKEN[..20]),
            "part of the session token leaked"
        );
        assert!(
            stderr_str(&out).contains("DEBUG"),
            "-vvv does print diagnostics"
        );
    }
    // The token did reach the service: it is sent, just never shown.
    let sent = fake.requests()[0]
        .header("x-amz-security-token")
        .map(str::to_owned);
    assert_eq!(sent.as_deref(), Some(TOKEN));
}

#[test]
fn missing_credentials_make_wait_fail_fast_too() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let cli = Cli::new(&fake.url());
    let (imds, _server) = silent_metadata_service();
    let mut cmd = cli.std_cmd();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)
        .args(["wait", "--min-interval", "20ms", "--max-interval", "100ms"])
        .args(ids());
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed();
    // Not a transient failure to poll through five times: exit 3 at the first poll.
    assert_exit(&out, 3);
    assert!(out.stdout.is_empty(), "{out:?}");
    let err = stderr_str(&out);
    assert!(
        err.starts_with("error:")
            && err.contains("AWS_ACCESS_KEY_ID")
            && err.contains("AWS_PROFILE"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    fake.assert_untouched();
}

#[test]
fn default_region_variable_alone_sets_the_region() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let cli = Cli::new(&fake.url());
    let out = cli
        .std_cmd()
        .env_remove("AWS_REGION")
        .env("AWS_DEFAULT_REGION", "eu-central-1")
        .arg("get")
        .args(ids())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let auth = authorization(&fake);
    assert!(auth.contains("/eu-central-1/ssm/aws4_request"), "{auth}");
}

#[test]
fn profile_variable_selects_the_profile() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let cli = Cli::new(&fake.url());
    let config = cli.home().join("config");
    let credentials = cli.home().join("credentials");
    std::fs::write(
        &config,
        "[default]\nregion = us-west-2\n\n[profile ops]\nregion = ap-southeast-2\n",
    )
    .unwrap();
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = defaultsecret\n\n\
         [ops]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = profilesecret\n",
    )
    .unwrap();
    let out = cli
        .std_cmd()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_REGION")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_PROFILE", "ops")
        .arg("get")
        .args(ids())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let auth = authorization(&fake);
    assert!(auth.contains("Credential=AKIDFROMPROFILE/"), "{auth}");
    assert!(auth.contains("/ap-southeast-2/ssm/aws4_request"), "{auth}");
}

#[test]
fn wait_timeout_counts_the_region_lookup_too() {
    // No region anywhere but a metadata service that never answers: the lookup alone outlasts
    // --timeout, which counts from the start of the command, lookups included.
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let cli = Cli::new(&fake.url());
    let (imds, _server) = silent_metadata_service();
    let mut cmd = cli.std_cmd();
    cmd.env_remove("AWS_REGION")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)
        .args(["wait", "--timeout", "300ms"])
        .args(ids());
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed();
    assert_exit(&out, 4);
    assert!(out.stdout.is_empty(), "{out:?}");
    let err = stderr_str(&out);
    // Not "never visible": no call was made, the time went into the set-up.
    assert_eq!(
        err,
        "error: timed out after 300ms; still looking up the AWS region and credentials\n"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    fake.assert_untouched();
}

#[test]
fn profile_endpoint_url_is_used_without_the_flag() {
    let fake = FakeSsm::always(invocation_step(
        "Success",
        "Success",
        "from the profile",
        "",
    ));
    let cli = Cli::new(&fake.url());
    let config = cli.home().join("config");
    let credentials = cli.home().join("credentials");
    std::fs::write(
        &config,
        format!(
            "[profile local]\nregion = eu-north-1\nendpoint_url = {}\n",
            fake.url()
        ),
    )
    .unwrap();
    std::fs::write(
        &credentials,
        "[local]\naws_access_key_id = AKIDLOCALPROFILE\naws_secret_access_key = localsecret\n",
    )
    .unwrap();
    // No --endpoint-url: bare_std() adds no flag, and nothing in the environment names an
    // endpoint, region or key.
    let out = cli
        .bare_std()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_REGION")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args(["--profile", "local", "get", "-o", "text"])
        .args(ids())
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(out.stdout, b"from the profile");
    assert_eq!(fake.get_invocation_calls(), 1);
    let auth = authorization(&fake);
    assert!(auth.contains("Credential=AKIDLOCALPROFILE/"), "{auth}");
    assert!(auth.contains("/eu-north-1/ssm/aws4_request"), "{auth}");
}
