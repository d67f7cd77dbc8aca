//! Launcher for a throw-away moto server (a local fake of the AWS APIs) and
//! helpers to run the venv's `aws` CLI and the `ssmres` binary against it.
//!
//! The venv comes from `SSMRES_VENV`, or `<CARGO_MANIFEST_DIR>/.venv`; `scripts/test`
//! (via `scripts/setup-venv`) creates it. A missing venv fails the test: it is never skipped.
//!
//! Every command started from here gets an isolated AWS environment: dummy credentials,
//! region us-east-1, no profile or config file from the host, no instance metadata lookups,
//! no proxy for the loopback server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long moto gets to answer its first HTTP request.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
pub const REGION: &str = "us-east-1";

/// A running `moto_server` on 127.0.0.1; the process is killed when this is dropped.
pub struct Moto {
    child: Child,
    port: u16,
    venv: PathBuf,
    /// Holds the server log and an empty HOME for the commands run against the server.
    dir: tempfile::TempDir,
}

/// The venv holding `moto_server` and `aws`, or a panic telling how to create it.
pub fn venv_dir() -> PathBuf {
    let venv = match std::env::var_os("SSMRES_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"),
    };
    for tool in ["moto_server", "aws"] {
        let path = venv.join("bin").join(tool);
        if !path.is_file() {
            panic!(
                "{} not found: the e2e tests need the project's Python venv with moto and the aws CLI. \
                 Run scripts/test (or scripts/setup-venv, then set SSMRES_VENV={} if it is not the repo's .venv).",
                path.display(),
                venv.display()
            );
        }
    }
    venv
}

/// A port that was free a moment ago (bind to port 0, read the port, release it).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// True once something on the port answers an HTTP request with an HTTP status line.
fn answers_http(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let mut got = 0;
    while got < head.len() {
        match stream.read(&mut head[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    head[..got].starts_with(b"HTTP/1.")
}

/// Polls until the server answers HTTP, fails early if the process exits.
fn wait_until_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("moto_server exited at start with {status}"));
        }
        // Something else could have taken the port in the meantime: only a live child counts.
        if answers_http(port) && child.try_wait().map_err(|e| e.to_string())?.is_none() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "moto_server did not answer HTTP within {STARTUP_TIMEOUT:?}"
            ));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

impl Moto {
    /// Starts a fresh moto server on a free loopback port and waits until it answers HTTP.
    pub fn start() -> Moto {
        let venv = venv_dir();
        let dir = tempfile::tempdir().expect("create temp dir for moto");
        std::fs::create_dir_all(dir.path().join("home")).expect("create temp HOME");
        // The port is only known to be free when it is picked: another process may take it
        // before moto binds it, so a server that dies at start is tried again on a new port.
        let mut failures = Vec::new();
        for attempt in 1..=3 {
            let port = free_port();
            let log_path = dir.path().join(format!("moto-{attempt}.log"));
            let log = std::fs::File::create(&log_path).expect("create moto log");
            let mut cmd = Command::new(venv.join("bin").join("moto_server"));
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log handle"))
                .stderr(log);
            isolate_env(&mut cmd, &dir.path().join("home"));
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("failed to start {:?}: {e}", cmd.get_program()));
            match wait_until_ready(&mut child, port) {
                Ok(()) => {
                    return Moto {
                        child,
                        port,
                        venv,
                        dir,
                    };
                }
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    failures.push(format!("port {port}: {why}\n--- moto log ---\n{log}"));
                }
            }
        }
        panic!(
            "moto_server did not start after 3 attempts:\n{}",
            failures.join("\n")
        );
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn venv(&self) -> &Path {
        &self.venv
    }

    /// The empty HOME directory given to every command run against this server.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Applies the isolated AWS environment (dummy credentials, us-east-1, no host
    /// profile or config, no IMDS, no proxy) to any command that talks to this server.
    pub fn apply_env(&self, cmd: &mut Command) {
        isolate_env(cmd, &self.home());
    }

    /// One request to this server for `service` (`s3`, `logs`, …). Not signed: moto checks no
    /// signature until IAM is enforced, and finds the service in the credential scope. Seeding
    /// this way costs a millisecond where the aws CLI costs a Python start-up.
    pub fn request(
        &self,
        service: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20240514/{REGION}/{service}/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        let mut all = vec![("Authorization", auth.as_str())];
        all.extend_from_slice(headers);
        super::http::request(&self.endpoint(), method, target, &all, body).expect("moto answers")
    }

    /// Creates a bucket (`/BUCKET`) or puts an object (`/BUCKET/KEY`, the key percent-encoded
    /// as in a URL path); panics unless moto says 200.
    pub fn s3_put(&self, path: &str, body: &[u8]) {
        let headers = [("Content-Type", "application/octet-stream")];
        let (status, answer) = self.request("s3", "PUT", path, &headers, body);
        let answer = String::from_utf8_lossy(&answer);
        assert_eq!(status, 200, "PUT {path}: {answer}");
    }

    /// A CloudWatch Logs call (`Logs_20140328.ACTION`); panics unless it succeeds; the answer.
    pub fn logs(&self, action: &str, body: &serde_json::Value) -> serde_json::Value {
        let target = format!("Logs_20140328.{action}");
        let headers = [
            ("X-Amz-Target", target.as_str()),
            ("Content-Type", "application/x-amz-json-1.1"),
        ];
        let request = body.to_string();
        let (status, answer) = self.request("logs", "POST", "/", &headers, request.as_bytes());
        let answer = String::from_utf8_lossy(&answer);
        assert_eq!(status, 200, "{action} {request}: {answer}");
        serde_json::from_str(&answer).unwrap_or_default()
    }

    /// `aws ARGS... --endpoint-url ENDPOINT` from the venv, with the isolated environment.
    pub fn aws_command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        aws_cli(&self.venv, &self.endpoint(), &self.home(), args)
    }

    /// Runs the venv's `aws` CLI against this server (see [`Moto::aws_command`]).
    pub fn aws<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        super::run(&mut self.aws_command(args))
    }

    /// Runs the `aws` CLI, panics unless it succeeds, and parses its stdout as JSON.
    pub fn aws_json<I, S>(&self, args: I) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.aws_command(args);
        let shown = describe(&cmd);
        let out = super::run(&mut cmd);
        assert!(
            out.status.success(),
            "{shown} failed with {}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{shown} printed invalid JSON ({e}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Starts an EC2 instance in moto (`aws ec2 run-instances`) and returns its InstanceId.
    pub fn run_instance(&self) -> String {
        let ami = self.aws_json([
            "ec2",
            "describe-images",
            "--owners",
            "amazon",
            "--output",
            "json",
        ]);
        let image_id = ami["Images"][0]["ImageId"]
            .as_str()
            .unwrap_or_else(|| panic!("moto lists no AMI: {ami}"))
            .to_owned();
        let reservation = self.aws_json([
            "ec2",
            "run-instances",
            "--image-id",
            &image_id,
            "--instance-type",
            "t2.micro",
            "--count",
            "1",
            "--output",
            "json",
        ]);
        reservation["Instances"][0]["InstanceId"]
            .as_str()
            .unwrap_or_else(|| panic!("run-instances returned no InstanceId: {reservation}"))
            .to_owned()
    }

    /// The `ssmres` binary under test, with the isolated environment and
    /// `--endpoint-url ENDPOINT` already given; add the subcommand and its flags.
    pub fn ssmres(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ssmres"));
        cmd.arg("--endpoint-url").arg(self.endpoint());
        self.apply_env(&mut cmd);
        cmd
    }
}

/// The venv's `aws` CLI pointed at any endpoint (a [`super::fake_ssm::FakeSsm`], say) with the
/// same isolated environment as against moto; `home` becomes its HOME. Panics, like
/// [`Moto::start`], when the venv is missing.
pub fn aws_command_at<I, S>(endpoint: &str, home: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    aws_cli(&venv_dir(), endpoint, home, args)
}

fn aws_cli<I, S>(venv: &Path, endpoint: &str, home: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(venv.join("bin").join("aws"));
    cmd.args(args).arg("--endpoint-url").arg(endpoint);
    // The CLI writes JSON with raw non-ASCII characters; make sure they come out as UTF-8.
    cmd.env("PYTHONIOENCODING", "utf-8").env("PYTHONUTF8", "1");
    isolate_env(&mut cmd, home);
    cmd
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The isolated AWS environment every command run against a local emulator gets: nothing from
/// the host ([`super::scrub_env`]), no config files, moto's dummy credentials, us-east-1, no
/// instance metadata lookups, loopback never proxied.
pub fn isolate_env(cmd: &mut Command, home: &Path) {
    super::scrub_env(cmd);
    cmd.env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_REGION", REGION)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
}

fn describe(cmd: &Command) -> String {
    let mut shown = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}
