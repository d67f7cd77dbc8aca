//! Shared helpers for the integration tests.
//!
//! Each integration test binary compiles its own copy of this module and uses
//! only part of it.
#![allow(dead_code)]

pub mod fake_ecs;
pub mod fake_multi;
pub mod fake_mw;
pub mod fake_ssm;
pub mod moto;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use tempfile::TempDir;

/// Upper bound for any single run of the binary: a hung binary fails the test
/// instead of hanging the suite.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(20);

/// Environment variables that could make the host influence a run.
const SCRUBBED_ENV: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS",
    "AWS_CA_BUNDLE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_SDK_UA_APP_ID",
    "SSMRES_PROVIDER",
    "SSMRES_OUTPUT",
    "SSMRES_TIMEOUT",
    "SSMRES_MIN_INTERVAL",
    "SSMRES_MAX_INTERVAL",
    "SSMRES_NOT_FOUND_GRACE",
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    "ALIBABA_CLOUD_CONFIG_FILE",
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_ECS_METADATA",
    "ALICLOUD_ACCESS_KEY",
    "ALICLOUD_SECRET_KEY",
    "ALICLOUD_REGION",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "RUST_LOG",
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
];

/// The path of the built `ssmres` binary.
pub fn ssmres_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("ssmres")
}

/// An isolated environment for running the binary: dummy credentials,
/// us-east-1, no config/credentials file, no profile, no metadata lookups,
/// no proxy, and `--endpoint-url` pointing at a fake endpoint.
pub struct Cli {
    home: TempDir,
    endpoint: String,
}

impl Cli {
    /// An environment whose SSM calls go to `endpoint` (e.g. `FakeSsm::url()`).
    pub fn new(endpoint: &str) -> Cli {
        Cli {
            home: tempfile::tempdir().expect("tempdir"),
            endpoint: endpoint.to_owned(),
        }
    }

    /// A path inside the temp dir that does not exist.
    pub fn missing_file(&self, name: &str) -> PathBuf {
        self.home.path().join("does-not-exist").join(name)
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Applies the isolated environment to a std command (no arguments added).
    pub fn apply_env(&self, cmd: &mut std::process::Command) {
        for var in SCRUBBED_ENV {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.missing_file("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.missing_file("credentials"),
            )
            .env("HOME", self.home.path())
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
    }

    /// `ssmres` with the isolated environment and no arguments at all.
    pub fn bare_std(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(ssmres_bin());
        self.apply_env(&mut cmd);
        cmd
    }

    /// `ssmres --endpoint-url URL` with the isolated environment (std command).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = self.bare_std();
        cmd.arg("--endpoint-url").arg(&self.endpoint);
        cmd
    }

    /// `ssmres` with the isolated environment and no arguments at all.
    pub fn bare(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.bare_std());
        cmd.timeout(RUN_TIMEOUT);
        cmd
    }

    /// `ssmres --endpoint-url URL` with the isolated environment.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.std_cmd());
        cmd.timeout(RUN_TIMEOUT);
        cmd
    }
}

/// `--command-id CMD --instance-id INSTANCE` for the ids the fake answers with.
pub fn ids() -> [&'static str; 4] {
    [
        "--command-id",
        fake_ssm::CMD_ID,
        "--instance-id",
        fake_ssm::INSTANCE_ID,
    ]
}

/// Fast polling so wait tests finish quickly.
pub const FAST_POLL: [&str; 4] = ["--min-interval", "20ms", "--max-interval", "100ms"];

pub fn stdout_str(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr_str(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A readable dump of a run, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts the exit code, showing the whole run when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "unexpected exit code\n{}",
        describe(out)
    );
}

/// Asserts stderr is exactly one non-empty line (one trailing newline allowed).
#[track_caller]
pub fn assert_single_stderr_line(out: &Output) -> String {
    let err = stderr_str(out);
    let trimmed = err.strip_suffix('\n').unwrap_or(&err);
    assert!(
        !trimmed.is_empty() && !trimmed.contains('\n'),
        "expected exactly one line on stderr\n{}",
        describe(out)
    );
    trimmed.to_owned()
}

/// Parses stdout as JSON.
#[track_caller]
pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", describe(out)))
}
