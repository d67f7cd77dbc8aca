//! `--command-id -` and `--invoke-id -`: the IDs taken from the JSON another tool printed, so
//! that `aws ssm send-command … | ssmres wait --command-id -` needs no jq in between. Read and
//! checked before any call; anything unexpected is a usage error.

use std::io::{self, BufRead, BufReader, Read};

use serde_json::Value;

use crate::cli::values::{check_command_id, parse_instance_id, parse_invoke_id};
use crate::cli::{Cli, Command, STDIN};
use crate::json_skim::{MAX_INPUT, SkimError, skim};
use crate::provider::contract::CloudKind;

/// Replaces `--command-id -` / `--invoke-id -` with what stdin says (`open` gives it), before
/// any call; a usage error when it says nothing usable.
pub fn resolve<R: Read>(cli: &mut Cli, open: impl FnOnce() -> io::Result<R>) -> Result<(), String> {
    let is_stdin = |id: &Option<String>| id.as_deref() == Some(STDIN);
    let (command_id, invoke_id) = match &mut cli.command {
        Command::Get(a) => (&mut a.command_id, &mut a.invoke_id),
        Command::Wait(a) => (&mut a.command_id, &mut a.invoke_id),
        Command::List(a) => (&mut a.command_id, &mut a.invoke_id),
        _ => return Ok(()),
    };
    if !is_stdin(command_id) && !is_stdin(invoke_id) {
        return Ok(());
    }
    let input = open().map_err(|e| format!("cannot read stdin: {e}"))?;
    if cli.global.provider == CloudKind::Aliyun {
        if is_stdin(command_id) {
            return Err(
                "--command-id - reads what `aws ssm send-command` prints; with \
                        --provider aliyun, use --invoke-id -"
                    .into(),
            );
        }
        *invoke_id = Some(aliyun_doc(read(input, EXPECTED_ALIYUN, ALIYUN_KEYS)?)?);
        return Ok(());
    }
    let sent = aws_doc(read(input, EXPECTED_AWS, AWS_KEYS)?)?;
    *command_id = Some(sent.command_id);
    match (&mut cli.command, sent.instances) {
        (Command::Get(a), Instances::One(id)) if a.instance_id.is_none() => {
            a.instance_id = Some(id)
        }
        (Command::Get(a), Instances::Many(0)) if a.instance_id.is_none() => {
            return Err(
                "get needs --instance-id: the command on stdin was sent to targets, \
                        not to named instances"
                    .into(),
            );
        }
        (Command::Get(a), Instances::Many(n)) if a.instance_id.is_none() => {
            return Err(format!(
                "get needs --instance-id: the command on stdin was sent to {n} instances"
            ));
        }
        // Several instances or targets: the whole command, as without --instance-id.
        (Command::Wait(a), Instances::One(id)) if a.instance_ids.is_empty() => {
            a.instance_ids = vec![id];
        }
        _ => {}
    }
    Ok(())
}

/// Who the command was sent to, as far as the document says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instances {
    /// One instance (an invocation's InstanceId, or a command sent to one).
    One(String),
    /// Several instances, or targets (tags, resource groups) resolved by the service.
    Many(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCommand {
    pub command_id: String,
    pub instances: Instances,
}

const EXPECTED_AWS: &str = "--command-id -: expected on stdin the JSON that `aws ssm send-command` \
     prints ({\"Command\": {\"CommandId\": …}}), that `aws ssm list-commands` prints, or a \
     GetCommandInvocation object (`aws ssm get-command-invocation`, `ssmres get -o json`)";

const EXPECTED_ALIYUN: &str = "--invoke-id -: expected on stdin the JSON that `aliyun ecs \
     RunCommand` or `InvokeCommand` prints ({\"InvokeId\": \"t-…\"}), or `ssmres --provider \
     aliyun get -o json`";

/// The members each reading looks at; the rest of what is piped in is dropped as it is read.
const AWS_KEYS: &[&str] = &[
    "Command",
    "Commands",
    "CommandId",
    "InstanceIds",
    "InstanceId",
    "Targets",
];
const ALIYUN_KEYS: &[&str] = &[
    "InvokeId",
    "Invocation",
    "InvocationResults",
    "InvocationResult",
];

fn too_long(expected: &str) -> String {
    format!(
        "{expected}; stdin holds more than {} MiB, more than any command's JSON",
        MAX_INPUT >> 20
    )
}

/// The document on `input`, skimmed for `keep`: memory follows what is kept, whatever arrives.
/// What cannot start a JSON document (`< /dev/zero`, a typed ID) is told from its first bytes.
fn read(input: impl Read, expected: &str, keep: &[&str]) -> Result<Value, String> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    // The limit holds for leading white space too (`yes ''`).
    let mut skipped = 0;
    let first = loop {
        let buffered = input
            .fill_buf()
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        let blank = buffered
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        let next = buffered.get(blank).copied();
        input.consume(blank);
        skipped += blank as u64;
        match next {
            _ if skipped > MAX_INPUT => return Err(too_long(expected)),
            Some(byte) => break byte,
            None if blank == 0 => return Err(format!("{expected}; stdin was empty")),
            None => {}
        }
    };
    if !matches!(first, b'{' | b'[') {
        let mut start = Vec::new();
        let _ = input.take(64 * 1024).read_to_end(&mut start);
        let Ok(text) = std::str::from_utf8(&start) else {
            return Err(format!("{expected}; stdin is not UTF-8 text"));
        };
        let e = serde_json::from_str::<Value>(text).err();
        let e = e.map_or_else(
            || "not a JSON object or array".to_owned(),
            |e| e.to_string(),
        );
        return Err(format!("{expected}; stdin is not JSON ({e})"));
    }
    skim(input, keep, MAX_INPUT - skipped).map_err(|e| match e {
        SkimError::Io(e) if e.kind() == io::ErrorKind::InvalidData => {
            format!("{expected}; stdin is not UTF-8 text")
        }
        SkimError::Io(e) => format!("cannot read stdin: {e}"),
        SkimError::TooLong => too_long(expected),
        SkimError::Syntax(e) => format!("{expected}; stdin is not JSON ({e})"),
    })
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The command in what the aws CLI (or ssmres) printed.
pub fn aws(bytes: &[u8]) -> Result<SentCommand, String> {
    aws_doc(read(bytes, EXPECTED_AWS, AWS_KEYS)?)
}

fn aws_doc(doc: Value) -> Result<SentCommand, String> {
    let (command, invocation) = match &doc {
        Value::Object(o) if o.contains_key("Command") => (doc.get("Command"), None),
        Value::Object(o) if o.contains_key("Commands") => (
            doc.get("Commands")
                .and_then(Value::as_array)
                .and_then(|a| a.first()),
            None,
        ),
        // A command object alone (`jq .Command`).
        Value::Object(o) if o.contains_key("InstanceIds") || o.contains_key("Targets") => {
            (Some(&doc), None)
        }
        Value::Object(_) => (None, Some(&doc)),
        // Invocation objects: the steps of one (multi-step `get`), or a fleet's (`wait -o json`).
        Value::Array(a) => {
            let instances: std::collections::BTreeSet<&str> = a
                .iter()
                .filter_map(|i| i.get("InstanceId").and_then(Value::as_str))
                .collect();
            if instances.len() > 1 {
                let id = a.first().and_then(|i| string(i, "CommandId"));
                return finish(id.map(|id| (id, Instances::Many(instances.len()))));
            }
            (None, a.first())
        }
        _ => (None, None),
    };
    let found = match (command, invocation) {
        (Some(c), _) => string(c, "CommandId").map(|id| {
            let ids: Vec<String> = c
                .get("InstanceIds")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let instances = match ids.as_slice() {
                [one] => Instances::One(one.clone()),
                _ => Instances::Many(ids.len()),
            };
            (id, instances)
        }),
        (None, Some(i)) => string(i, "CommandId")
            .and_then(|id| string(i, "InstanceId").map(|instance| (id, Instances::One(instance)))),
        (None, None) => None,
    };
    finish(found)
}

/// Checks what was found as if it had been typed on the command line.
fn finish(found: Option<(String, Instances)>) -> Result<SentCommand, String> {
    let Some((command_id, instances)) = found else {
        return Err(format!("{EXPECTED_AWS}; found no CommandId there"));
    };
    let command_id = check_command_id(&command_id)
        .map_err(|e| format!("--command-id -: the CommandId on stdin is not valid: {e}"))?;
    if let Instances::One(id) = &instances {
        parse_instance_id(id)
            .map_err(|e| format!("--command-id -: the instance ID on stdin is not valid: {e}"))?;
    }
    Ok(SentCommand {
        command_id,
        instances,
    })
}

/// The invoke ID in what the aliyun CLI (or ssmres) printed.
pub fn aliyun(bytes: &[u8]) -> Result<String, String> {
    aliyun_doc(read(bytes, EXPECTED_ALIYUN, ALIYUN_KEYS)?)
}

fn aliyun_doc(doc: Value) -> Result<String, String> {
    let found = string(&doc, "InvokeId").or_else(|| {
        doc.pointer("/Invocation/InvocationResults/InvocationResult/0")
            .and_then(|r| string(r, "InvokeId"))
    });
    let Some(id) = found else {
        return Err(format!("{EXPECTED_ALIYUN}; found no InvokeId there"));
    };
    match parse_invoke_id(&id) {
        Ok(id) if id != STDIN => Ok(id),
        _ => Err(format!(
            "--invoke-id -: the InvokeId on stdin ({}) is not an invoke ID (t-…)",
            crate::render::sanitize::one_line(&id)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CMD: &str = "32d70fe0-ddbc-4a4e-943f-ffcbc0123456";

    #[test]
    fn send_command_output() {
        let one =
            format!(r#"{{"Command": {{"CommandId": "{CMD}", "InstanceIds": ["i-0123abcd"]}}}}"#);
        assert_eq!(
            aws(one.as_bytes()),
            Ok(SentCommand {
                command_id: CMD.into(),
                instances: Instances::One("i-0123abcd".into())
            })
        );
        let targets = format!(
            r#"{{"Command": {{"CommandId": "{CMD}", "InstanceIds": [], "Targets": [{{"Key": "tag:app", "Values": ["web"]}}]}}}}"#
        );
        assert_eq!(
            aws(targets.as_bytes()).map(|c| c.instances),
            Ok(Instances::Many(0))
        );
        let list = format!(
            r#"{{"Commands": [{{"CommandId": "{CMD}", "InstanceIds": ["i-0123abcd", "i-0123abce"]}}]}}"#
        );
        assert_eq!(
            aws(list.as_bytes()).map(|c| c.instances),
            Ok(Instances::Many(2))
        );
    }

    #[test]
    fn a_command_object_alone_and_a_fleets_results() {
        let alone = format!(r#"{{"CommandId": "{CMD}", "InstanceIds": ["i-0123abcd"]}}"#);
        assert!(
            aws(alone.as_bytes()).is_ok_and(|c| c.instances == Instances::One("i-0123abcd".into()))
        );
        let fleet = format!(
            r#"[{{"CommandId": "{CMD}", "InstanceId": "i-0123abcd"}}, {{"CommandId": "{CMD}", "InstanceId": "i-0123abce"}}]"#
        );
        assert_eq!(
            aws(fleet.as_bytes()).map(|c| c.instances),
            Ok(Instances::Many(2))
        );
        assert!(aws(b"\xff").is_err_and(|e| e.contains("not UTF-8")));
    }

    #[test]
    fn invocation_objects() {
        let one =
            format!(r#"{{"CommandId": "{CMD}", "InstanceId": "i-0123abcd", "Status": "Success"}}"#);
        assert!(
            aws(one.as_bytes()).is_ok_and(|c| c.instances == Instances::One("i-0123abcd".into()))
        );
        let steps = format!("[{one}, {one}]");
        assert!(aws(steps.as_bytes()).is_ok());
    }

    #[test]
    fn anything_else_says_what_was_expected() {
        for bad in [
            "",
            "  \n",
            "not json",
            "{}",
            "[]",
            "42",
            r#"{"Command": {}}"#,
            r#"{"Command": {"CommandId": "short"}}"#,
            r#"{"CommandId": "32d70fe0-ddbc-4a4e-943f-ffcbc0123456"}"#,
        ] {
            let e = aws(bad.as_bytes()).unwrap_err();
            assert!(
                e.starts_with("--command-id -:") && !e.contains('\n'),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn aliyun_shapes() {
        assert_eq!(
            aliyun(br#"{"RequestId": "r", "CommandId": "c-1", "InvokeId": "t-hz0jdfwd9f2z"}"#),
            Ok("t-hz0jdfwd9f2z".into())
        );
        assert_eq!(
            aliyun(
                r#"{"Invocation": {"InvocationResults": {"InvocationResult": [{"InvokeId": "t-abc"}]}}}"#.as_bytes()
            ),
            Ok("t-abc".into())
        );
        for bad in ["", "{}", r#"{"InvokeId": "-"}"#, r#"{"InvokeId": "c-1"}"#] {
            assert!(aliyun(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(aliyun(b"\xff\xfe").is_err_and(|e| e.contains("not UTF-8")));
    }
}
