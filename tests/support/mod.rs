//! What the integration tests share: the scripted fakes, the moto launcher, and the helpers
//! that run the binary in an isolated environment, drive it (signals, lines as they come) and
//! check what it printed.

pub mod fake_ecs;
pub mod fake_multi;
pub mod fake_mw;
pub mod fake_send;
pub mod fake_ssm;
pub mod http;
pub mod moto;
pub mod timeline;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use tempfile::TempDir;

use fake_ssm::{CMD_ID, FakeSsm, INSTANCE_ID, invocation_step};

/// Upper bound for any single run of the binary: a hung binary fails the test instead of
/// hanging the suite. Generous: a loaded machine must never reach it.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Fast polling so wait tests finish quickly.
pub const FAST_POLL: [&str; 4] = ["--min-interval", "20ms", "--max-interval", "100ms"];

/// Removes from `cmd`'s environment every variable of the host that could make it influence a
/// run: AWS, Alibaba Cloud and ssmres settings, proxies, log and colour settings.
pub fn scrub_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let upper = key.to_ascii_uppercase();
        let prefixed = ["AWS_", "ALIBABA_CLOUD_", "ALICLOUD_", "SSMRES_", "CLICOLOR"]
            .iter()
            .any(|p| upper.starts_with(p));
        if prefixed
            || upper.ends_with("_PROXY")
            || matches!(upper.as_str(), "NO_COLOR" | "RUST_LOG")
        {
            cmd.env_remove(key);
        }
    }
}

/// The path of the built `ssmres` binary.
pub fn ssmres_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ssmres"))
}

/// Command-line arguments: one string of words split on whitespace, or a list.
pub trait Args {
    fn words(&self) -> Vec<String>;
}

impl Args for &str {
    fn words(&self) -> Vec<String> {
        self.split_whitespace().map(str::to_owned).collect()
    }
}

impl Args for &String {
    fn words(&self) -> Vec<String> {
        self.as_str().words()
    }
}

impl Args for String {
    fn words(&self) -> Vec<String> {
        self.as_str().words()
    }
}

impl<S: AsRef<str>> Args for &[S] {
    fn words(&self) -> Vec<String> {
        self.iter().map(|s| s.as_ref().to_owned()).collect()
    }
}

impl<S: AsRef<str>, const N: usize> Args for [S; N] {
    fn words(&self) -> Vec<String> {
        self.as_slice().words()
    }
}

impl<S: AsRef<str>, const N: usize> Args for &[S; N] {
    fn words(&self) -> Vec<String> {
        self.as_slice().words()
    }
}

impl<S: AsRef<str>> Args for Vec<S> {
    fn words(&self) -> Vec<String> {
        self.as_slice().words()
    }
}

impl<S: AsRef<str>> Args for &Vec<S> {
    fn words(&self) -> Vec<String> {
        self.as_slice().words()
    }
}

/// An isolated environment for running the binary: dummy credentials, us-east-1, no
/// config/credentials file, no profile, no metadata lookups, no proxy, and `--endpoint-url`
/// pointing at a fake endpoint.
pub struct Cli {
    home: TempDir,
    endpoint: String,
}

impl Cli {
    /// An environment whose calls go to `endpoint` (e.g. `FakeSsm::url()`).
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

    /// Applies the isolated environment to a command (no arguments added).
    pub fn apply_env(&self, cmd: &mut Command) {
        scrub_env(cmd);
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
    pub fn bare(&self) -> Command {
        let mut cmd = Command::new(ssmres_bin());
        self.apply_env(&mut cmd);
        cmd
    }

    /// `ssmres --endpoint-url URL` with the isolated environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = self.bare();
        cmd.arg("--endpoint-url").arg(&self.endpoint);
        cmd
    }

    /// `ssmres --provider aliyun --endpoint-url URL`, no Alibaba credentials nor region.
    pub fn ali_bare(&self) -> Command {
        let mut cmd = self.bare();
        cmd.args(["--provider", "aliyun", "--endpoint-url", &self.endpoint]);
        cmd
    }

    /// [`Cli::ali_bare`] with the fake ECS key and region in the environment.
    pub fn ali(&self) -> Command {
        let mut cmd = self.ali_bare();
        cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", fake_ecs::ACCESS_KEY_ID)
            .env(
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                fake_ecs::ACCESS_KEY_SECRET,
            )
            .env("ALIBABA_CLOUD_REGION_ID", fake_ecs::REGION_ID);
        cmd
    }

    /// `cmd` with config and credentials files (in the temp dir) holding these, and no AWS key
    /// or region in its environment.
    pub fn with_files(&self, mut cmd: Command, config: &str, credentials: &str) -> Command {
        let (config_path, credentials_path) =
            (self.home().join("config"), self.home().join("credentials"));
        std::fs::write(&config_path, config).unwrap();
        std::fs::write(&credentials_path, credentials).unwrap();
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_REGION")
            .env("AWS_CONFIG_FILE", &config_path)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials_path);
        cmd
    }

    /// `sh -c SCRIPT` running `ssmres --endpoint-url URL` (and the arguments added to the
    /// command) as `"$0" "$@"`, in the isolated environment: to set a limit, or close or
    /// redirect a stream, before the binary starts.
    pub fn shell(&self, script: &str) -> Command {
        let mut cmd = Command::new("sh");
        self.apply_env(&mut cmd);
        cmd.args(["-c", script])
            .arg(ssmres_bin())
            .args(["--endpoint-url", &self.endpoint]);
        cmd
    }

    /// Runs `ssmres --endpoint-url URL ARGS`.
    pub fn run(&self, args: impl Args) -> Output {
        run(self.cmd().args(args.words()))
    }

    /// Runs `ssmres --provider aliyun … ARGS` with the fake ECS key and region.
    pub fn run_ali(&self, args: impl Args) -> Output {
        run(self.ali().args(args.words()))
    }
}

/// Runs a command with stdin empty, stdout and stderr captured; kills it and panics after
/// [`RUN_TIMEOUT`].
pub fn run(cmd: &mut Command) -> Output {
    run_with_input(cmd, [])
}

/// The same with `stdin` on its standard input.
pub fn run_with_input(cmd: &mut Command, stdin: impl AsRef<[u8]>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    let (input, mut sink) = (stdin.as_ref().to_vec(), child.stdin.take().unwrap());
    // Closed once written: the command sees the end of its input.
    thread::spawn(move || sink.write_all(&input));
    let (tx, rx) = mpsc::channel();
    for (pipe, mut from) in [
        (
            Pipe::Out,
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        ),
        (Pipe::Err, Box::new(child.stderr.take().unwrap())),
    ] {
        let tx = tx.clone();
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = from.read_to_end(&mut bytes);
            let _ = tx.send((pipe, bytes));
        });
    }
    let deadline = Instant::now() + RUN_TIMEOUT;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((Pipe::Out, bytes)) => stdout = bytes,
            Ok((Pipe::Err, bytes)) => stderr = bytes,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "{:?} still running after {RUN_TIMEOUT:?}; killed",
                    cmd.get_program()
                );
            }
        }
    }
    let status = child.wait().expect("wait for the command");
    Output {
        status,
        stdout,
        stderr,
    }
}

/// `ssmres --endpoint-url URL ARGS` in a fresh isolated environment.
pub fn ssmres(url: &str, args: impl Args) -> Output {
    Cli::new(url).run(args)
}

/// `--command-id CMD --instance-id INSTANCE` for the ids the fakes answer with.
pub fn ids() -> [&'static str; 4] {
    ["--command-id", CMD_ID, "--instance-id", INSTANCE_ID]
}

pub fn stdout_str(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr_str(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A readable account of a run for assertion messages, each stream cut after 2,000 characters.
pub fn describe(out: &Output) -> String {
    let head = |b: &[u8]| {
        let t = String::from_utf8_lossy(b);
        match t.char_indices().nth(2_000) {
            Some((at, _)) => format!("{}… ({} bytes in all)", &t[..at], b.len()),
            None => t.into_owned(),
        }
    };
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        head(&out.stdout),
        head(&out.stderr)
    )
}

/// `assert!` with an account of the run `$out` ([`describe`]) after the message.
macro_rules! check {
    ($out:expr, $cond:expr $(,)?) => {
        assert!($cond, "{}", $crate::support::describe(&$out))
    };
    ($out:expr, $cond:expr, $($msg:tt)+) => {
        assert!($cond, "{}\n{}", format_args!($($msg)+), $crate::support::describe(&$out))
    };
}

/// `assert_eq!` with an account of the run `$out` after the message.
macro_rules! check_eq {
    ($out:expr, $got:expr, $want:expr $(,)?) => {
        assert_eq!($got, $want, "{}", $crate::support::describe(&$out))
    };
    ($out:expr, $got:expr, $want:expr, $($msg:tt)+) => {
        assert_eq!($got, $want, "{}\n{}", format_args!($($msg)+), $crate::support::describe(&$out))
    };
}

pub(crate) use {check, check_eq};

/// Asserts the exit code, showing the whole run when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    check_eq!(out, out.status.code(), Some(code), "unexpected exit code");
}

/// Asserts the exit code and exactly what was printed on each stream.
#[track_caller]
pub fn assert_output(out: &Output, code: i32, stdout: &str, stderr: &str) {
    assert_exit(out, code);
    check_eq!(out, stdout_str(out), stdout, "stdout");
    check_eq!(out, stderr_str(out), stderr, "stderr");
}

/// Asserts stderr is exactly one non-empty line (one trailing newline allowed); returns it.
#[track_caller]
pub fn assert_single_stderr_line(out: &Output) -> String {
    let err = stderr_str(out);
    let trimmed = err.strip_suffix('\n').unwrap_or(&err);
    let why = "expected exactly one line on stderr";
    check!(out, !trimmed.is_empty() && !trimmed.contains('\n'), "{why}");
    trimmed.to_owned()
}

/// Asserts a run failed with `code`: one `error:` line on stderr, nothing on stdout. Returns the
/// line.
#[track_caller]
pub fn assert_error(out: &Output, code: i32) -> String {
    assert_exit(out, code);
    let line = assert_single_stderr_line(out);
    assert!(line.starts_with("error:"), "stderr: {line:?}");
    check!(out, out.stdout.is_empty(), "nothing on stdout");
    line
}

/// Runs `ssmres --endpoint-url <a fresh fake> ARGS` and asserts it was rejected before any
/// request (a usage error: [`assert_error`] with exit 2, the endpoint untouched). Returns the stderr line.
#[track_caller]
pub fn assert_rejected(args: impl Args) -> String {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "ok\n", ""));
    let line = assert_error(&ssmres(&fake.url(), args), 2);
    fake.assert_untouched();
    line
}

/// The same with `--provider aliyun` and the fake ECS key and region.
#[track_caller]
pub fn assert_rejected_aliyun(args: impl Args) -> String {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "ok\n", ""));
    let line = assert_error(&Cli::new(&fake.url()).run_ali(args), 2);
    fake.assert_untouched();
    line
}

/// Parses stdout as JSON.
#[track_caller]
pub fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", describe(out)))
}

/// The `field` of each object of the JSON array on stdout.
#[track_caller]
pub fn array_field(out: &Output, field: &str) -> Vec<String> {
    stdout_json(out)
        .as_array()
        .unwrap_or_else(|| panic!("stdout is not a JSON array\n{}", describe(out)))
        .iter()
        .map(|v| v[field].as_str().unwrap_or("<none>").to_owned())
        .collect()
}

/// The lines of stderr that start with `warning:`.
pub fn warnings(out: &Output) -> Vec<String> {
    stderr_str(out)
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .map(str::to_owned)
        .collect()
}

// --- JSON and tables as printed ------------------------------------------------------------------

/// The members of the shapes ssmres prints, in the service model's order: a maintenance
/// window task invocation's, then GetCommandInvocation's woven in (the two orders agree on the
/// members they share), then the `CommandInvocations` ssmres adds. Other keys come after,
/// sorted.
const MODEL_ORDER: [&str; 28] = [
    "WindowExecutionId",
    "TaskExecutionId",
    "InvocationId",
    "ExecutionId",
    "TaskType",
    "Parameters",
    "CommandId",
    "InstanceId",
    "Comment",
    "DocumentName",
    "DocumentVersion",
    "PluginName",
    "ResponseCode",
    "ExecutionStartDateTime",
    "ExecutionElapsedTime",
    "ExecutionEndDateTime",
    "Status",
    "StatusDetails",
    "StandardOutputContent",
    "StandardOutputUrl",
    "StandardErrorContent",
    "StandardErrorUrl",
    "CloudWatchOutputConfig",
    "StartTime",
    "EndTime",
    "OwnerInformation",
    "WindowTargetId",
    "CommandInvocations",
];

/// A value whose object keys serialise in [`MODEL_ORDER`].
struct InModelOrder<'a>(&'a Value);

impl Serialize for InModelOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                let rank = |k: &str| MODEL_ORDER.iter().position(|p| *p == k);
                keys.sort_by_key(|k| (rank(k).unwrap_or(MODEL_ORDER.len()), (*k).clone()));
                let mut m = serializer.serialize_map(Some(keys.len()))?;
                for k in keys {
                    m.serialize_entry(k, &InModelOrder(&map[k]))?;
                }
                m.end()
            }
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&InModelOrder(item))?;
                }
                seq.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// `value` as the aws CLI (and `ssmres -o json`) prints it: 4-space indent, raw UTF-8, keys in
/// the model's order, a newline.
pub fn printed(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    InModelOrder(value).serialize(&mut serializer).unwrap();
    out.push(b'\n');
    String::from_utf8(out).unwrap()
}

/// What `-o json` prints for several records: one array, in this order.
pub fn printed_array(values: &[Value]) -> String {
    printed(&Value::Array(values.to_vec()))
}

/// `value` as one line of `-o jsonl`: compact, keys in the model's order.
pub fn compact(value: &Value) -> String {
    serde_json::to_string(&InModelOrder(value)).unwrap()
}

/// What `-o jsonl` prints for several records: one compact object per line.
pub fn printed_lines(values: &[Value]) -> String {
    values.iter().map(|v| compact(v) + "\n").collect()
}

/// The time since the epoch, by the system clock.
pub fn since_epoch() -> Duration {
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// An epoch-seconds timestamp as botocore prints it (`datetime.isoformat()` of the instant in
/// a zone `offset_secs` east of UTC): microseconds only when not zero.
pub fn botocore_iso(epoch: f64, offset_secs: i64) -> String {
    let micros = (epoch * 1e6).round() as i64 + offset_secs * 1_000_000;
    let (secs, frac) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let frac = if frac == 0 {
        String::new()
    } else {
        format!(".{frac:06}")
    };
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let off = offset_secs.abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}{sign}{:02}:{:02}",
        sod / 3_600,
        sod % 3_600 / 60,
        sod % 60,
        off / 3_600,
        off % 3_600 / 60
    )
}

/// The one line of `text` that names `needle` (a table row).
#[track_caller]
pub fn row_of<'a>(text: &'a str, needle: &str) -> &'a str {
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
    assert_eq!(rows.len(), 1, "one row naming {needle}\n{text}");
    rows[0]
}

/// The cells of a table row, trimmed (any of the borders comfy-table draws splits them).
pub fn cells(row: &str) -> Vec<&str> {
    row.split(['│', '┆', '|', '┃', '║'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// Splits `text` into `(header, content)` sections at lines `== … · … ==`; text before the
/// first header comes with an empty header.
pub fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if bare.starts_with("== ") && bare.ends_with(" ==") {
            out.push((bare.to_owned(), String::new()));
        } else {
            if out.is_empty() {
                out.push((String::new(), String::new()));
            }
            out.last_mut().unwrap().1.push_str(line);
        }
    }
    out
}

/// Asserts a table's totals line (the one line holding "Success" that is no fleet member's
/// row) starts with the Success count and holds exactly the `all` terms ("N Status", by the
/// most precise word the service gave), in any order.
#[track_caller]
pub fn assert_totals(text: &str, all: &[&str]) {
    let totals: Vec<&str> = (text.lines())
        .filter(|l| l.contains("Success") && !l.contains("i-0a11"))
        .collect();
    assert_eq!(totals.len(), 1, "one totals line\n{text}");
    let mut parts: Vec<String> = (totals[0].split(", "))
        .map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            let number = (words.iter().position(|w| w.parse::<usize>().is_ok()))
                .unwrap_or_else(|| panic!("no count in {part:?}"));
            words[number..].join(" ")
        })
        .collect();
    let why = format!("Success first: {:?}", totals[0]);
    assert!(parts[0].ends_with(" Success"), "{why}");
    parts.sort_unstable();
    let mut want = all.to_vec();
    want.sort_unstable();
    assert_eq!(parts, want, "totals line {:?}\n{text}", totals[0]);
}

/// Asserts stdout holds no raw ESC byte and no CR that is not part of a CRLF: a table shows
/// control characters, it does not play them.
#[track_caller]
pub fn assert_no_raw_controls(out: &Output) {
    let bytes = &out.stdout;
    let lone_cr = (0..bytes.len()).any(|i| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
    let why = "a raw ESC or a lone CR on stdout";
    check!(out, !bytes.contains(&0x1b) && !lone_cr, "{why}");
}

/// Asserts `got` is `want` byte for byte, showing the first line where they differ.
#[track_caller]
pub fn assert_same_lines(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let (got, want) = (String::from_utf8_lossy(got), String::from_utf8_lossy(want));
        let mut lines = got.split_inclusive('\n').zip(want.split_inclusive('\n'));
        let at = lines.position(|(a, b)| a != b);
        let at = at.unwrap_or(got.lines().count().min(want.lines().count()));
        panic!(
            "{what} differs at line {}:\n  got:  {:?}\n  want: {:?}",
            at + 1,
            got.split_inclusive('\n').nth(at),
            want.split_inclusive('\n').nth(at)
        );
    }
}

/// Runs `cmd` under a pseudo-terminal (util-linux `script`), so that stdout and stderr really
/// are a terminal; they arrive merged, as on a screen.
pub fn on_terminal(cmd: &Command) -> Output {
    let quote = |w: &std::ffi::OsStr| format!("'{}'", w.to_string_lossy().replace('\'', r"'\''"));
    let mut line = vec![quote(cmd.get_program())];
    line.extend(cmd.get_args().map(quote));
    let mut script = Command::new("script");
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    // `script` runs the line with $SHELL -c: make that the shell the quoting is written for.
    script
        .env("TERM", "xterm-256color")
        .env("SHELL", "/bin/sh")
        .args(["-qec", &line.join(" "), "/dev/null"]);
    run(&mut script)
}

// --- A binary running in the background ----------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pipe {
    Out,
    Err,
}

enum Chunk {
    /// A line with its newline (or what came before EOF without one).
    Line(Pipe, String),
    Eof(Pipe),
}

/// A binary started in the background, its stdout and stderr read line by line as they come,
/// so that a test acts once something happened (a line printed, a call made) instead of
/// sleeping. Killed when dropped.
pub struct Spawned {
    child: Child,
    chunks: Receiver<Chunk>,
    pub stdout: String,
    pub stderr: String,
    /// Lines already looked at by [`Spawned::line`], per pipe.
    seen: (usize, usize),
    eof: (bool, bool),
    /// When it was started.
    pub started: Instant,
}

/// How a background run ended.
pub struct Finished {
    pub out: Output,
    /// When both its pipes had closed.
    pub ended: Instant,
    /// From the start until then.
    pub took: Duration,
}

impl Spawned {
    /// Starts `cmd` with stdin closed.
    pub fn start(cmd: &mut Command) -> Spawned {
        // Signals as a terminal gives them, whatever the suite inherited (a CI runner under
        // nohup, a background job with SIGINT ignored): the tests send them.
        #[cfg(unix)]
        // SAFETY: signal() is async-signal-safe, as pre_exec requires.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                for number in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    libc::signal(number, libc::SIG_DFL);
                }
                Ok(())
            });
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the command");
        let (tx, chunks) = mpsc::channel();
        fn pump(pipe: Pipe, from: impl Read + Send + 'static, tx: mpsc::Sender<Chunk>) {
            thread::spawn(move || {
                let mut reader = BufReader::new(from);
                loop {
                    let mut line = Vec::new();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let text = String::from_utf8_lossy(&line).into_owned();
                            if tx.send(Chunk::Line(pipe, text)).is_err() {
                                return;
                            }
                        }
                    }
                }
                let _ = tx.send(Chunk::Eof(pipe));
            });
        }
        pump(Pipe::Out, child.stdout.take().unwrap(), tx.clone());
        pump(Pipe::Err, child.stderr.take().unwrap(), tx);
        Spawned {
            child,
            chunks,
            stdout: String::new(),
            stderr: String::new(),
            seen: (0, 0),
            eof: (false, false),
            started: Instant::now(),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "--- stdout so far ---\n{}--- stderr so far ---\n{}",
            self.stdout, self.stderr
        )
    }

    /// Kills the binary and panics with what it printed, unless `reached` (something the test
    /// waited for, such as a call the fake saw).
    #[track_caller]
    pub fn until(&mut self, what: &str, reached: bool) {
        if !reached {
            let _ = self.child.kill();
            while self.pump_until(Instant::now() + Duration::from_secs(5)) {}
            panic!("{what}: not seen\n{}", self.describe());
        }
    }

    /// Sends SIGINT (`kill -INT`), as Ctrl-C does; returns when.
    pub fn sigint(&self) -> Instant {
        self.signal("INT")
    }

    /// Sends the signal `name` (`INT`, `TERM`, `HUP`, as `kill -NAME` takes it); returns when.
    pub fn signal(&self, name: &str) -> Instant {
        let sent = Instant::now();
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
        sent
    }

    /// Takes what the pipes brought, waiting until `deadline` for the next chunk. False once
    /// both pipes are closed or the deadline passed.
    fn pump_until(&mut self, deadline: Instant) -> bool {
        if self.eof == (true, true) {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match self.chunks.recv_timeout(left) {
            Ok(Chunk::Line(Pipe::Out, l)) => self.stdout.push_str(&l),
            Ok(Chunk::Line(Pipe::Err, l)) => self.stderr.push_str(&l),
            Ok(Chunk::Eof(Pipe::Out)) => self.eof.0 = true,
            Ok(Chunk::Eof(Pipe::Err)) => self.eof.1 = true,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return false,
        }
        true
    }

    /// Reads until a line (with its newline) for which `wanted` holds is printed on `pipe`,
    /// after the lines this already looked at; returns it. `None` when the binary closes its
    /// pipes first; panics when nothing comes within [`RUN_TIMEOUT`].
    #[track_caller]
    pub fn line(&mut self, pipe: Pipe, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + RUN_TIMEOUT;
        loop {
            let (text, seen) = match pipe {
                Pipe::Out => (&self.stdout, &mut self.seen.0),
                Pipe::Err => (&self.stderr, &mut self.seen.1),
            };
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let complete = lines.len() - usize::from(!text.is_empty() && !text.ends_with('\n'));
            if let Some(at) = lines[*seen..complete].iter().position(|l| wanted(l)) {
                let found = lines[*seen + at].to_owned();
                *seen += at + 1;
                return Some(found);
            }
            if !self.pump_until(deadline) {
                if self.eof == (true, true) {
                    return None;
                }
                panic!(
                    "no such line on {pipe:?} within {RUN_TIMEOUT:?}\n{}",
                    self.describe()
                );
            }
        }
    }

    /// Reads until `line` (with its newline) is printed on `pipe`; panics if the binary ends
    /// first.
    #[track_caller]
    pub fn wait_for(&mut self, pipe: Pipe, line: &str) -> String {
        self.wait_until(pipe, &format!("{line:?}"), |l| l == line)
    }

    /// Reads until a line for which `wanted` holds is printed on `pipe`; panics if the binary
    /// ends first.
    #[track_caller]
    pub fn wait_until(&mut self, pipe: Pipe, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        match self.line(pipe, wanted) {
            Some(line) => line,
            None => panic!(
                "{what} not printed on {pipe:?} before the end\n{}",
                self.describe()
            ),
        }
    }

    /// Asserts the binary has not exited.
    #[track_caller]
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("exited ({status}) too early\n{}", self.describe());
        }
    }

    /// Reads both pipes to their end and waits for the exit; kills the binary and panics if
    /// that takes more than `limit`.
    #[track_caller]
    pub fn finish_within(mut self, limit: Duration) -> Finished {
        let deadline = Instant::now() + limit;
        while self.pump_until(deadline) {}
        if self.eof != (true, true) {
            let _ = self.child.kill();
            panic!("still running after {limit:?}; killed\n{}", self.describe());
        }
        let ended = Instant::now();
        let status: ExitStatus = self.child.wait().expect("wait for the binary");
        Finished {
            out: Output {
                status,
                stdout: std::mem::take(&mut self.stdout).into_bytes(),
                stderr: std::mem::take(&mut self.stderr).into_bytes(),
            },
            ended,
            took: ended - self.started,
        }
    }

    /// [`Spawned::finish_within`] [`RUN_TIMEOUT`].
    #[track_caller]
    pub fn finish(self) -> Finished {
        self.finish_within(RUN_TIMEOUT)
    }

    /// Sends SIGINT and asserts the run then exits 130 promptly, nothing on stdout, no panic.
    /// The contract says within a second; the 5 s allowed are room for a loaded machine, and
    /// still far from what the interrupted sleep or request would take.
    #[track_caller]
    pub fn interrupt(self) -> Finished {
        let sent = self.sigint();
        let done = self.finish();
        assert_exit(&done.out, 130);
        check!(done.out, done.out.stdout.is_empty(), "stdout");
        let stderr = stderr_str(&done.out);
        check!(done.out, !stderr.contains("panicked"));
        let took = done.ended - sent;
        assert!(took <= Duration::from_secs(5), "exit took {took:?}");
        done
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // A test that failed half-way leaves nothing running behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The words of `line`, split on whitespace: arguments as a user types them.
pub fn args(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}
