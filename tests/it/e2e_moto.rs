//! End-to-end tests: the real `ssmres` binary against a local moto server, with the
//! official `aws` CLI (from the project venv) as the reference for JSON output.
//!
//! Needs the venv made by `scripts/setup-venv` (run by `scripts/test`); see tests/support/moto.rs.
//! moto answers every SendCommand invocation at once with Status "Success" and empty
//! StandardOutputContent/StandardErrorContent.

use std::fmt;
use std::process::Output;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::support::fake_ssm::{CMD_ID, FakeSsm, GET_COMMAND_INVOCATION, INSTANCE_ID, Step};
use crate::support::moto::{self, Moto};
use crate::support::{
    Cli, args, assert_error, assert_exit, assert_same_lines, check, check_eq, ids, run,
};

/// Non-ASCII, quotes, a backslash and a tab: exercises raw UTF-8 output and JSON escaping.
const COMMENT: &str = "e2e café ✓ \"quoted\" back\\slash\ttab";

/// An InstanceId of valid shape that moto has never seen.
const UNKNOWN_INSTANCE: &str = "i-0123456789abcdef0";
/// A CommandId of valid shape (36 chars) that moto has never seen.
const UNKNOWN_COMMAND: &str = "00000000-1111-2222-3333-444444444444";

/// Sends `echo hello` to the instance with the aws CLI; returns the CommandId.
fn send_command(moto: &Moto, instance_id: &str) -> String {
    let send = args("ssm send-command --document-name AWS-RunShellScript --output json");
    let commands = r#"{"commands": ["echo hello"]}"#;
    let to = [
        "--instance-ids",
        instance_id,
        "--comment",
        COMMENT,
        "--parameters",
        commands,
    ];
    let sent = moto.aws_json([&send[..], &to].concat());
    sent["Command"]["CommandId"]
        .as_str()
        .unwrap_or_else(|| panic!("no CommandId in {sent}"))
        .to_owned()
}

/// A fresh server with one instance and one command sent to it.
struct Fixture {
    moto: Moto,
    instance_id: String,
    command_id: String,
}

impl Fixture {
    fn new() -> Fixture {
        let moto = Moto::start();
        let instance_id = moto.run_instance();
        assert!(
            instance_id.starts_with("i-"),
            "unexpected InstanceId {instance_id:?}"
        );
        let command_id = send_command(&moto, &instance_id);
        assert_eq!(command_id.len(), 36, "unexpected CommandId {command_id:?}");
        Fixture {
            moto,
            instance_id,
            command_id,
        }
    }

    /// Runs ssmres with `args` (subcommand and flags) against the fixture's server.
    fn ssmres(&self, args: &[&str]) -> Output {
        run(self.moto.ssmres().args(args))
    }

    /// `aws ssm get-command-invocation ... --output json` for the fixture's invocation.
    fn aws_get_invocation(&self) -> Output {
        let (command, instance) = (&self.command_id, &self.instance_id);
        let ids = format!("--command-id {command} --instance-id {instance}");
        let out = self.moto.aws(args(&format!(
            "ssm get-command-invocation {ids} --output json"
        )));
        check!(
            out,
            out.status.success(),
            "aws ssm get-command-invocation failed"
        );
        out
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A JSON value whose objects keep their keys in document order (serde_json's `Value`
/// sorts them without the `preserve_order` feature), so key order can be compared.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn parse(bytes: &[u8], what: &str) -> Json {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|e| panic!("{what} is not valid JSON ({e}):\n{}", text(bytes)))
    }

    fn object(&self) -> &[(String, Json)] {
        match self {
            Json::Object(entries) => entries,
            other => panic!("expected a JSON object, got {other:?}"),
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.object().iter().map(|(key, _)| key.as_str()).collect()
    }

    fn get(&self, key: &str) -> Option<&Json> {
        self.object()
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    fn str(&self, key: &str) -> &str {
        match self.get(key) {
            Some(Json::String(s)) => s,
            other => panic!("expected a string at {key:?}, got {other:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        struct JsonVisitor;

        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(v)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("non-finite number"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Json>()? {
                    entries.push((key, value));
                }
                Ok(Json::Object(entries))
            }
        }

        deserializer.deserialize_any(JsonVisitor)
    }
}

/// Asserts two JSON documents are equal key for key, with the same keys in the same order
/// at every level.
fn assert_same_json(ours: &Json, theirs: &Json, path: &str) {
    match (ours, theirs) {
        (Json::Object(a), Json::Object(b)) => {
            let keys_a: Vec<&str> = a.iter().map(|(k, _)| k.as_str()).collect();
            let keys_b: Vec<&str> = b.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(
                keys_a, keys_b,
                "keys (in order) differ at {path}: ssmres (left) vs aws CLI (right)"
            );
            for ((key, value_a), (_, value_b)) in a.iter().zip(b) {
                assert_same_json(value_a, value_b, &format!("{path}.{key}"));
            }
        }
        (Json::Array(a), Json::Array(b)) => {
            assert_eq!(a.len(), b.len(), "array lengths differ at {path}");
            for (i, (item_a, item_b)) in a.iter().zip(b).enumerate() {
                assert_same_json(item_a, item_b, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(
            ours, theirs,
            "values differ at {path}: ssmres (left) vs aws CLI (right)"
        ),
    }
}

#[test]
fn get_wait_and_text_match_the_aws_cli_on_one_invocation() {
    let f = Fixture::new();
    let aws = f.aws_get_invocation();
    let aws_json = Json::parse(&aws.stdout, "aws CLI output");
    // Sanity: the reference really is this invocation, with the non-ASCII comment.
    assert_eq!(aws_json.str("CommandId"), f.command_id);
    assert_eq!(aws_json.str("InstanceId"), f.instance_id);
    assert_eq!(aws_json.str("Comment"), COMMENT);

    // get, and the final invocation of a wait: exactly as `aws ssm get-command-invocation`
    // prints it, key for key in the same order, then byte for byte (4-space indent, raw UTF-8,
    // same escapes, trailing newline).
    let ids = format!(
        "--command-id {} --instance-id {}",
        f.command_id, f.instance_id
    );
    for subcommand in ["get", "wait"] {
        let out = f.ssmres(&args(&format!("{subcommand} {ids} -o json")));
        assert_exit(&out, 0);
        let json = Json::parse(&out.stdout, "ssmres -o json output");
        check_eq!(out, json.str("Status"), "Success");
        assert_eq!(json.keys(), aws_json.keys(), "top-level keys (in order)");
        assert_same_json(&json, &aws_json, "$");
        assert_eq!(
            text(&out.stdout),
            text(&aws.stdout),
            "ssmres {subcommand} -o json (left) is not byte-identical to aws CLI --output json \
             (right)"
        );
        assert_eq!(out.stdout, aws.stdout);
    }

    // Text: stdout is StandardOutputContent and nothing else, stderr StandardErrorContent.
    let out = f.ssmres(&args(&format!("-o text get {ids}")));
    assert_exit(&out, 0);
    assert_eq!(out.stdout, aws_json.str("StandardOutputContent").as_bytes());
    assert_eq!(text(&out.stderr), aws_json.str("StandardErrorContent"));

    // moto answers InvocationDoesNotExist for an unknown instance, but InvalidCommandId for an
    // unknown (well-formed) command id, where AWS says InvocationDoesNotExist; both are exit 3.
    for (command_id, instance_id, error_code) in [
        (
            f.command_id.as_str(),
            UNKNOWN_INSTANCE,
            "(InvocationDoesNotExist)",
        ),
        (
            UNKNOWN_COMMAND,
            f.instance_id.as_str(),
            "(InvalidCommandId)",
        ),
    ] {
        let ids = format!("--command-id {command_id} --instance-id {instance_id}");
        // The reference agrees that there is no such invocation.
        let aws = f
            .moto
            .aws(args(&format!("ssm get-command-invocation {ids}")));
        let reported = !aws.status.success() && text(&aws.stderr).contains(error_code);
        check!(aws, reported, "aws CLI should report {error_code}");
        // One "error: ..." line on stderr, nothing on stdout.
        assert_error(&f.ssmres(&args(&format!("get {ids} -o json"))), 3);
    }
}

/// A response body no real command would send in one piece, with everything that JSON
/// printers get wrong: keys out of model order, a key the model does not know, no
/// ResponseCode, an empty CloudWatchOutputConfig, raw multibyte UTF-8, an emoji as a
/// surrogate-pair escape, CRLF, ESC sequences, \b, \f, NUL, BEL, DEL raw and escaped, a C1
/// control raw and escaped, U+2028/U+2029 raw and escaped, `\/`, quotes and backslashes.
fn tricky_body(cloudwatch: &str) -> String {
    let stdout = concat!(
        r#"café é ✓ \ud83d\ude80 \u00e9\r\nline 2\r\n"#,
        r#"\u001b[1;31mbold red\u001b[0m \u001b]0;title\u0007 "#,
        r#"back\bspace form\ffeed nul\u0000 us\u001f "#,
        "del\u{7f} ",
        r#"escaped-del\u007f c1\u009b[2J "#,
        "raw-c1\u{9b}[0m ls\u{2028}ps\u{2029} ",
        r#"escaped-ls\u2028 escaped-ps\u2029 slash\/ok quote\" backslash\\ tab\t end\n"#,
    );
    let stderr = r#"warn: \u001B[33myellow\u001B[0m\r\n\u00e9\u0301 combining \uFEFF bom\n"#;
    format!(
        r#"{{"Status": "Success", "StandardOutputContent": "{stdout}",
  "SomethingNew": {{"Nested": [1, 2.5, true, null, "x"], "Empty": {{}}}},
  "InstanceId": "{INSTANCE_ID}", "CloudWatchOutputConfig": {cloudwatch},
  "ExecutionEndDateTime": "2024-05-14T09:12:33.807Z", "StatusDetails": "Success",
  "CommandId": "{CMD_ID}", "PluginName": "aws:runShellScript",
  "Comment": "déploiement ✓ \/opt\/app \"v2\"", "DocumentName": "AWS-RunShellScript",
  "DocumentVersion": "$DEFAULT", "ExecutionStartDateTime": "2024-05-14T09:12:31.291Z",
  "ExecutionElapsedTime": "PT2.516S", "StandardOutputUrl": "",
  "StandardErrorContent": "{stderr}", "StandardErrorUrl": ""}}"#
    )
}

#[test]
fn json_matches_aws_cli_byte_for_byte_on_tricky_content() {
    for cloudwatch in [
        "{}",
        r#"{"SomethingNewer": 1, "CloudWatchOutputEnabled": true, "CloudWatchLogGroupName": "/ssm/é✓"}"#,
    ] {
        let body = tricky_body(cloudwatch);
        // The fake's script is valid JSON, or the comparison below would prove nothing.
        serde_json::from_str::<serde_json::Value>(&body)
            .unwrap_or_else(|e| panic!("the test body is not JSON ({e}):\n{body}"));
        let fake = FakeSsm::always(Step::ok_raw(&body));
        let home = tempfile::tempdir().expect("temp HOME");

        let aws = run(&mut moto::aws_command_at(
            &fake.url(),
            home.path(),
            args(&format!(
                "ssm get-command-invocation --command-id {CMD_ID} --instance-id {INSTANCE_ID} --output json"
            )),
        ));
        check!(aws, aws.status.success(), "aws CLI");
        // Sanity: the reference decoded the escapes and dropped what the model does not know.
        let reference = text(&aws.stdout);
        assert!(
            reference.contains("café é ✓ 🚀 é") && !reference.contains("SomethingNew"),
            "unexpected aws CLI output:\n{reference}"
        );

        let cli = Cli::new(&fake.url());
        let mut runs = Vec::new();
        for subcommand in ["get", "wait"] {
            let out = run(cli.cmd().args([subcommand, "-o", "json"]).args(ids()));
            assert_exit(&out, 0);
            let what = format!("ssmres {subcommand} -o json (CloudWatchOutputConfig {cloudwatch})");
            assert_same_lines(&out.stdout, &aws.stdout, &what);
            runs.push(subcommand);
        }
        assert_eq!(fake.count(GET_COMMAND_INVOCATION), 1 + runs.len());
    }
}

#[test]
fn send_command_piped_into_wait_command_id_from_stdin() {
    let moto = Moto::start();
    let instance_id = moto.run_instance();
    let dir = tempfile::tempdir().expect("temp dir");
    let sent = dir.path().join("send-command.json");
    // A real shell pipe: the aws CLI's JSON on stdout, a copy kept to compare with.
    let script = r#"set -o pipefail
"$AWS" ssm send-command --instance-ids "$INSTANCE_ID" --document-name AWS-RunShellScript \
    --parameters commands=uptime --endpoint-url "$ENDPOINT" --output json \
  | tee "$SENT" \
  | "$SSMRES" --endpoint-url "$ENDPOINT" wait --command-id - -o json"#;
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c").arg(script);
    moto.apply_env(&mut cmd);
    cmd.env("AWS", moto.venv().join("bin").join("aws"))
        .env("SSMRES", env!("CARGO_BIN_EXE_ssmres"))
        .env("ENDPOINT", moto.endpoint())
        .env("INSTANCE_ID", &instance_id)
        .env("SENT", &sent)
        .env("PYTHONIOENCODING", "utf-8")
        .env("PYTHONUTF8", "1");
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    let sent: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&sent).expect("the copy of what send-command printed"),
    )
    .expect("send-command printed JSON");
    let command_id = sent["Command"]["CommandId"]
        .as_str()
        .unwrap_or_else(|| panic!("no Command.CommandId in {sent}"));
    assert_eq!(command_id.len(), 36, "{sent}");
    let json = Json::parse(&out.stdout, "ssmres wait -o json output");
    let want = (command_id, instance_id.as_str(), "Success");
    check_eq!(
        out,
        (
            json.str("CommandId"),
            json.str("InstanceId"),
            json.str("Status")
        ),
        want
    );
}
