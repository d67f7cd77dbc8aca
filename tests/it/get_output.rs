//! `ssmres get` output formats and error handling, byte for byte.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::fake_ssm::{
    CMD_ID, FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, Step, invocation, invocation_step,
};
use crate::support::{
    Cli, assert_error, assert_exit, assert_no_raw_controls, assert_output, check, check_eq, ids,
    run, stderr_str, stdout_json, stdout_str,
};

/// `get` with the fake's ids and `extra`.
fn run_get(fake: &FakeSsm, extra: &str) -> Output {
    Cli::new(&fake.url()).run(format!("get {} {extra}", ids().join(" ")))
}

/// A fake answering every GetCommandInvocation with a Success that printed these.
fn success(stdout: &str, stderr: &str) -> FakeSsm {
    FakeSsm::always(invocation_step("Success", "Success", stdout, stderr))
}

/// A realistic record, keys deliberately out of model order, with content
/// that needs escaping (CR, ESC, quotes, backslash, tab) and non-ASCII text.
const RECORD_SCRAMBLED: &str = r#"{
  "StatusDetails": "Success",
  "StandardErrorUrl": "",
  "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": true, "CloudWatchLogGroupName": "/aws/ssm/AWS-RunShellScript"},
  "StandardOutputContent": "h\u00e9llo \u2713\r\n\u001b[32mok\u001b[0m\n",
  "ResponseCode": 0,
  "ExecutionEndDateTime": "2024-05-14T09:12:33.807Z",
  "InstanceId": "i-0123456789abcdef0",
  "Comment": "nightly report",
  "StandardOutputUrl": "https://s3.us-east-1.amazonaws.com/my-bucket/out/8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60/i-0123456789abcdef0/awsrunShellScript/0.awsrunShellScript/stdout",
  "DocumentVersion": "1",
  "Status": "Success",
  "ExecutionElapsedTime": "PT2.516S",
  "PluginName": "aws:runShellScript",
  "StandardErrorContent": "warn: \"quoted\" \\ back\tslash\n",
  "DocumentName": "AWS-RunShellScript",
  "ExecutionStartDateTime": "2024-05-14T09:12:31.291Z",
  "CommandId": "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60"
}"#;

/// What `aws ssm get-command-invocation --output json` prints for it.
const RECORD_AWS_CLI_JSON: &str = r#"{
    "CommandId": "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60",
    "InstanceId": "i-0123456789abcdef0",
    "Comment": "nightly report",
    "DocumentName": "AWS-RunShellScript",
    "DocumentVersion": "1",
    "PluginName": "aws:runShellScript",
    "ResponseCode": 0,
    "ExecutionStartDateTime": "2024-05-14T09:12:31.291Z",
    "ExecutionElapsedTime": "PT2.516S",
    "ExecutionEndDateTime": "2024-05-14T09:12:33.807Z",
    "Status": "Success",
    "StatusDetails": "Success",
    "StandardOutputContent": "héllo ✓\r\n\u001b[32mok\u001b[0m\n",
    "StandardOutputUrl": "https://s3.us-east-1.amazonaws.com/my-bucket/out/8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60/i-0123456789abcdef0/awsrunShellScript/0.awsrunShellScript/stdout",
    "StandardErrorContent": "warn: \"quoted\" \\ back\tslash\n",
    "StandardErrorUrl": "",
    "CloudWatchOutputConfig": {
        "CloudWatchLogGroupName": "/aws/ssm/AWS-RunShellScript",
        "CloudWatchOutputEnabled": true
    }
}
"#;

#[test]
fn json_output_matches_the_aws_cli_exactly() {
    let fake = FakeSsm::always(Step::ok_raw(RECORD_SCRAMBLED));
    let out = run_get(&fake, "-o json");
    assert_exit(&out, 0);
    check_eq!(out, stdout_str(&out), RECORD_AWS_CLI_JSON);
    check!(out, out.stderr.is_empty());
    assert_eq!(fake.count(GET_COMMAND_INVOCATION), 1);
}

#[test]
fn json_output_is_what_the_service_sent_with_only_its_keys() {
    // Only the keys the service returned, in the model's order. Then no ResponseCode (the
    // service omitted it) and an empty CloudWatchOutputConfig: printed as sent, the empty
    // object on one line, as the aws CLI prints it.
    for (sent, printed) in [
        (
            r#"{"StatusDetails":"InProgress","ResponseCode":-1,"Status":"InProgress",
            "InstanceId":"i-0123456789abcdef0","CommandId":"8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60"}"#,
            r#"{
    "CommandId": "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60",
    "InstanceId": "i-0123456789abcdef0",
    "ResponseCode": -1,
    "Status": "InProgress",
    "StatusDetails": "InProgress"
}
"#,
        ),
        (
            r#"{"CloudWatchOutputConfig":{},"Status":"Pending","StatusDetails":"Pending",
            "CommandId":"8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60","Comment":"",
            "InstanceId":"i-0123456789abcdef0","StandardOutputContent":""}"#,
            r#"{
    "CommandId": "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60",
    "InstanceId": "i-0123456789abcdef0",
    "Comment": "",
    "Status": "Pending",
    "StatusDetails": "Pending",
    "StandardOutputContent": "",
    "CloudWatchOutputConfig": {}
}
"#,
        ),
    ] {
        let out = run_get(&FakeSsm::always(Step::ok_raw(sent)), "-o json");
        assert_output(&out, 0, printed, "");
    }
}

/// Content a `jq -r .StandardOutputContent` user expects back unchanged.
const TRICKY_STDOUT: &str =
    "héllo ✓ 🚀 naïve\r\nline2\r\n\x1b[1;31mred\x1b[0m\tTAB\rover\n\u{7f}del \u{2028} end";
const TRICKY_STDERR: &str = "E: ünïcödé\r\n\x1b[33mwarn\x1b[0m \"q\" \\ no newline at end";

#[test]
fn json_round_trips_output_content_byte_exact() {
    let out = run_get(&success(TRICKY_STDOUT, TRICKY_STDERR), "-o json");
    assert_exit(&out, 0);
    let text = stdout_str(&out);
    let why = "JSON text must escape control characters";
    check!(out, !text.contains('\x1b') && !text.contains('\r'), "{why}");
    let escaped = text.contains("\\u001b") && text.contains("\\r\\n");
    assert!(escaped, "{text}");
    // Non-ASCII stays raw UTF-8.
    assert!(text.contains("héllo ✓ 🚀 naïve"), "{text}");
    let v = stdout_json(&out);
    assert_eq!(v["StandardOutputContent"].as_str().unwrap(), TRICKY_STDOUT);
    assert_eq!(v["StandardErrorContent"].as_str().unwrap(), TRICKY_STDERR);
}

#[test]
fn text_output_is_the_raw_streams_and_nothing_on_stderr_when_it_is_empty() {
    for (stdout, stderr) in [(TRICKY_STDOUT, TRICKY_STDERR), ("only out\n", "")] {
        assert_output(
            &run_get(&success(stdout, stderr), "-o text"),
            0,
            stdout,
            stderr,
        );
    }
}

#[test]
fn table_output_shows_fields_and_sections_with_visible_escapes() {
    let stdout = "line one\r\nprogress 10%\rprogress 100%\n\x1b[31mred\x1b[0m\nhéllo ✓\n";
    let stderr = "warning: \x1b[33mcareful\x1b[0m\n";
    let mut record = invocation("Success", "Success", stdout, stderr);
    record["StandardOutputUrl"] = json!("https://s3.amazonaws.com/my-bucket/out/stdout");
    let fake = FakeSsm::always(Step::ok(&record));
    let out = run_get(&fake, "-o table");
    assert_exit(&out, 0);
    assert_no_raw_controls(&out);
    let text = stdout_str(&out);
    let lower = text.to_lowercase();
    let labels = "command, instance, document, plugin, status, response code, started, ended, \
                  elapsed, stdout, stderr";
    for label in labels.split(", ") {
        assert!(lower.contains(label), "table lacks {label:?}\n{text}");
    }
    for value in [
        CMD_ID,
        INSTANCE_ID,
        "AWS-RunShellScript",
        "aws:runShellScript",
        "Success",
        "https://s3.amazonaws.com/my-bucket/out/stdout",
        // The whole text, escapes made visible.
        "line one",
        "progress 10%\\rprogress 100%",
        "\\x1b[31mred\\x1b[0m",
        "héllo ✓",
        "warning: \\x1b[33mcareful\\x1b[0m",
    ] {
        assert!(text.contains(value), "table lacks {value:?}\n{text}");
    }
    // A CR right before LF is dropped, not shown.
    assert!(!text.contains("line one\\r"), "{text}");
}

#[test]
fn table_output_says_when_the_run_has_not_finished() {
    let fake = FakeSsm::always(invocation_step("InProgress", "InProgress", "", ""));
    let out = run_get(&fake, "-o table");
    assert_exit(&out, 0);
    let text = stdout_str(&out);
    assert!(text.contains("InProgress"), "{text}");
    assert!(text.to_lowercase().contains("not finished"), "{text}");

    // A finished run with empty output does not claim to be unfinished.
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let out = run_get(&fake, "-o table");
    assert_exit(&out, 0);
    let text = stdout_str(&out);
    assert!(!text.to_lowercase().contains("not finished"), "{text}");
}

#[test]
fn get_on_a_failed_invocation_still_exits_0() {
    let fake = FakeSsm::always(invocation_step("Failed", "Failed", "", "exit status 1\n"));
    let out = run_get(&fake, "-o json");
    assert_exit(&out, 0);
    assert_eq!(stdout_json(&out)["Status"], "Failed");
    assert_eq!(fake.count(GET_COMMAND_INVOCATION), 1);
}

#[test]
fn get_sends_the_ids_as_given() {
    let fake = FakeSsm::always(invocation_step("Success", "Success", "", ""));
    let out = run_get(&fake, "-o json");
    assert_exit(&out, 0);
    let req = &fake.calls_to(GET_COMMAND_INVOCATION)[0];
    assert_eq!(req.method, "POST");
    let want = json!({"CommandId": CMD_ID, "InstanceId": INSTANCE_ID});
    let why = "request body";
    assert_eq!(req.body, want, "{why}");
    assert!(
        req.header("content-type")
            .is_some_and(|v| v.starts_with("application/x-amz-json-1.1")),
        "{req:?}"
    );

    let fake = success("", "");
    let out = run_get(&fake, "--plugin-name aws:runShellScript -o json");
    assert_exit(&out, 0);
    assert_eq!(
        fake.calls_to(GET_COMMAND_INVOCATION)[0].body,
        json!({"CommandId": CMD_ID, "InstanceId": INSTANCE_ID, "PluginName": "aws:runShellScript"})
    );
}

#[test]
fn get_on_missing_invocation_exits_3_at_once() {
    let fake = FakeSsm::always(Step::not_found());
    let started = Instant::now();
    let out = run_get(&fake, "-o json");
    assert_error(&out, 3);
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 1);
    // At once: no polling through a grace window (the bound only allows for a loaded machine).
    let took = started.elapsed();
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

#[test]
fn get_access_denied_exits_3_with_the_message() {
    let message = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
                   ssm:GetCommandInvocation on resource: arn:aws:ssm:us-east-1:123456789012:*";
    let fake = FakeSsm::always(Step::access_denied(message));
    let out = run_get(&fake, "-o json");
    let line = assert_error(&out, 3);
    let why = format!("stderr should carry the message: {line:?}");
    assert!(line.contains(message), "{why}");
    check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 1);
}

#[test]
fn default_output_is_json_when_stdout_is_not_a_terminal() {
    let fake = FakeSsm::always(Step::ok_raw(RECORD_SCRAMBLED));
    let out = run_get(&fake, "");
    assert_exit(&out, 0);
    check_eq!(out, stdout_str(&out), RECORD_AWS_CLI_JSON);
}

/// Runs `ssmres <args> | <reader>` through bash. The shell exits with ssmres' own exit
/// status as the shell saw it (`${PIPESTATUS[0]}`: 141 if SIGPIPE killed it), not the reader's.
fn pipe_into(fake: &FakeSsm, format: &str, reader: &str) -> Output {
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.cmd();
    cmd.arg("get").args(ids()).args(["-o", format]);
    let mut sh = std::process::Command::new("bash");
    sh.arg("-c")
        .arg(format!(r#""$@" | {reader}; exit "${{PIPESTATUS[0]}}""#))
        .arg("bash")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    run(&mut sh)
}

#[track_caller]
fn assert_quiet_about_the_pipe(out: &Output) {
    let err = stderr_str(out).to_lowercase();
    for noise in ["broken pipe", "panicked", "os error 32", "backtrace"] {
        check!(out, !err.contains(noise), "stderr mentions {noise:?}");
    }
}

/// 30,000 '✓' (3 bytes each): 90 KB, more than a pipe holds (64 KiB) plus what a reader may
/// have taken out of it, so writing it to a reader that stopped reading really ends in EPIPE.
fn bigger_than_a_pipe() -> String {
    let big = "✓".repeat(30_000);
    assert!(big.len() > 80 * 1024);
    big
}

#[test]
fn closed_pipe_is_not_reported_and_exit_status_stays_0() {
    let big = bigger_than_a_pipe();
    for (format, first_byte) in [("text", "✓".as_bytes()[0]), ("json", b'{')] {
        let fake = FakeSsm::always(invocation_step("Success", "Success", &big, ""));
        let out = pipe_into(&fake, format, "head -c 1");
        check_eq!(out, out.stdout, [first_byte], "{format}");
        assert_quiet_about_the_pipe(&out);
        // The shell saw ssmres exit normally: 0, not 141 (SIGPIPE) nor an error code.
        assert_exit(&out, 0);
        check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 1);
    }
}

#[test]
fn reader_gone_before_output_is_not_reported() {
    let big = bigger_than_a_pipe();
    for format in ["text", "json", "table"] {
        let fake = FakeSsm::always(invocation_step("Success", "Success", &big, ""));
        // `true` exits without reading: every write hits a closed pipe.
        let out = pipe_into(&fake, format, "true");
        assert_quiet_about_the_pipe(&out);
        assert_exit(&out, 0);
        check_eq!(out, fake.count(GET_COMMAND_INVOCATION), 1);
    }
}
