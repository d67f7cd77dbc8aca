//! The SendCommand request a `RunRequest` becomes, and the API's limits it is checked against
//! before any call. One value serves both the real call and `--dry-run`, so what is shown is what
//! would be sent.
//!
//! Limits, from the SSM API reference (SendCommand; botocore's service model
//! `ssm/2014-11-06/service-2.json` carries the same constraints):
//! - `InstanceIds`: at most 50; `Targets`: at most 5, each with at most 50 values; a target
//!   key has 1 to 163 characters.
//! - `Comment`: at most 100 characters. ssmres appends its mark (` ssmres:` and 12 letters or
//!   digits, 20 characters), so the user's comment has 80.
//! - `TimeoutSeconds` (--delivery-timeout): 30 to 2,592,000.
//! - The size of what is sent: SendCommand fails with `MaxDocumentSizeExceeded`, "The size limit
//!   of a document is 64 KB"; the parameters (the command or script among them) are held to
//!   that, 65,536 bytes. The reference gives no separate limit for parameter values.
//! - `executionTimeout` of AWS-RunShellScript and AWS-RunPowerShellScript: the documents'
//!   allowedPattern accepts 1 to 172,800 seconds (48 hours).

use serde::Serialize;

use super::record::{OrderedParams, TargetRecord};
use crate::provider::aws::record::CloudWatchOutputConfig;
use crate::provider::send::{Recipients, RunRequest, Script, Shell};

pub const MAX_INSTANCE_IDS: usize = 50;
pub const MAX_TARGETS: usize = 5;
pub const MAX_TARGET_VALUES: usize = 50;
pub const MAX_TARGET_KEY: usize = 163;
pub const MAX_COMMENT: usize = 100;
/// What the mark takes of the Comment: a space and `ssmres:` + 12 characters.
pub const MARK_PREFIX: &str = "ssmres:";
pub const MARK_LEN: usize = 1 + 7 + 12;
pub const MIN_DELIVERY_TIMEOUT: u64 = 30;
pub const MAX_DELIVERY_TIMEOUT: u64 = 2_592_000;
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
pub const MAX_EXECUTION_TIMEOUT: u64 = 172_800;

/// SendCommand's request, fields in the service model's order, as the aws CLI sends them.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendCommandRequest {
    pub instance_ids: Option<Vec<String>>,
    pub targets: Option<Vec<TargetRecord>>,
    pub document_name: String,
    pub document_version: Option<String>,
    pub timeout_seconds: Option<i64>,
    pub comment: Option<String>,
    pub parameters: Option<OrderedParams>,
    #[serde(rename = "OutputS3BucketName")]
    pub output_s3_bucket_name: Option<String>,
    #[serde(rename = "OutputS3KeyPrefix")]
    pub output_s3_key_prefix: Option<String>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    pub cloud_watch_output_config: Option<CloudWatchOutputConfig>,
}

impl crate::model::Document for SendCommandRequest {}

/// The document a shell runs in.
pub fn shell_document(shell: Shell) -> &'static str {
    match shell {
        Shell::Sh | Shell::Bat => "AWS-RunShellScript",
        Shell::Powershell => "AWS-RunPowerShellScript",
    }
}

/// The document sent: the one named, else the shell's.
pub fn document_name(run: &RunRequest) -> String {
    run.document
        .clone()
        .unwrap_or_else(|| shell_document(run.shell).to_owned())
}

/// The `commands` parameter: one command line, or a script's lines (the agent joins them with
/// newlines again into the script it runs).
fn command_lines(script: &Script) -> Vec<String> {
    match script {
        Script::Line(line) => vec![line.clone()],
        Script::File(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            let text = text.strip_suffix('\n').unwrap_or(&text);
            text.split('\n').map(str::to_owned).collect()
        }
    }
}

/// The Comment: the user's, then the mark that finds this send again.
pub fn comment(run: &RunRequest) -> String {
    match run.comment.as_deref().filter(|c| !c.is_empty()) {
        Some(own) => format!("{own} {}", run.mark),
        None => run.mark.clone(),
    }
}

pub fn build(run: &RunRequest) -> SendCommandRequest {
    let (instance_ids, targets) = match &run.recipients {
        Recipients::Instances(ids) => (Some(ids.clone()), None),
        Recipients::Targets(targets) => {
            let records = targets
                .iter()
                .map(|t| TargetRecord {
                    key: Some(t.key.clone()),
                    values: Some(t.values.clone()),
                })
                .collect();
            (None, Some(records))
        }
    };
    let mut parameters = Vec::new();
    if let Some(script) = &run.script {
        parameters.push(("commands".to_owned(), command_lines(script)));
    }
    if let Some(seconds) = run.execution_timeout {
        parameters.push(("executionTimeout".to_owned(), vec![seconds.to_string()]));
    }
    parameters.extend(run.parameters.iter().cloned());
    let (bucket, prefix) = match &run.output_s3 {
        Some((bucket, prefix)) => (Some(bucket.clone()), prefix.clone()),
        None => (None, None),
    };
    SendCommandRequest {
        instance_ids,
        targets,
        document_name: document_name(run),
        document_version: run.document_version.clone(),
        timeout_seconds: run.delivery_timeout.map(|s| s as i64),
        comment: Some(comment(run)),
        parameters: (!parameters.is_empty()).then_some(OrderedParams(parameters)),
        output_s3_bucket_name: bucket,
        output_s3_key_prefix: prefix,
        max_concurrency: run.max_concurrency.clone(),
        max_errors: run.max_errors.clone(),
        cloud_watch_output_config: run.cloudwatch.as_ref().map(|group| CloudWatchOutputConfig {
            cloud_watch_log_group_name: group.clone(),
            cloud_watch_output_enabled: Some(true),
        }),
    }
}

/// What SendCommand would refuse (or what could never run), as one line for exit 2.
pub fn check(run: &RunRequest) -> Result<(), String> {
    match &run.recipients {
        Recipients::Instances(ids) if ids.len() > MAX_INSTANCE_IDS => {
            return Err(format!(
                "{} instance IDs: SendCommand takes at most {MAX_INSTANCE_IDS}; for more, use \
                 --target (a tag, a resource group)",
                ids.len()
            ));
        }
        Recipients::Targets(targets) if targets.len() > MAX_TARGETS => {
            return Err(format!(
                "{} --target: SendCommand takes at most {MAX_TARGETS}",
                targets.len()
            ));
        }
        Recipients::Targets(targets) => {
            if let Some(t) = targets.iter().find(|t| t.values.len() > MAX_TARGET_VALUES) {
                return Err(format!(
                    "--target {}=…: {} values, SendCommand takes at most {MAX_TARGET_VALUES} a key",
                    t.key,
                    t.values.len()
                ));
            }
        }
        Recipients::Instances(_) => {}
    }
    if run.shell == Shell::Bat {
        return Err("--shell bat: AWS has no batch-file document; use --shell powershell".into());
    }
    if let Some(own) = &run.comment {
        let room = MAX_COMMENT - MARK_LEN;
        let n = own.chars().count();
        if n > room {
            return Err(format!(
                "--comment has {n} characters; at most {room} (SendCommand's Comment takes \
                 {MAX_COMMENT}, and ssmres adds a {MARK_LEN}-character mark that finds the send \
                 again if its answer is lost)"
            ));
        }
    }
    if let Some(s) = run.delivery_timeout
        && !(MIN_DELIVERY_TIMEOUT..=MAX_DELIVERY_TIMEOUT).contains(&s)
    {
        return Err(format!(
            "--delivery-timeout is {s}s; SendCommand's TimeoutSeconds takes \
             {MIN_DELIVERY_TIMEOUT}s to {MAX_DELIVERY_TIMEOUT}s (30 days)"
        ));
    }
    if run.document.is_none()
        && let Some(s) = run.execution_timeout
        && !(1..=MAX_EXECUTION_TIMEOUT).contains(&s)
    {
        return Err(format!(
            "--execution-timeout is {s}s; {} takes at most {MAX_EXECUTION_TIMEOUT}s (48 hours)",
            shell_document(run.shell)
        ));
    }
    if let Some(Script::File(bytes)) = &run.script
        && std::str::from_utf8(bytes).is_err()
    {
        return Err("the script is not UTF-8 text, which SendCommand's JSON cannot carry".into());
    }
    let request = build(run);
    let size: usize = (request.parameters.iter().flat_map(|p| &p.0))
        .map(|(name, values)| name.len() + values.iter().map(String::len).sum::<usize>())
        .sum();
    if size > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "the command and parameters are {size} bytes; SendCommand takes at most 64 KB \
             ({MAX_DOCUMENT_BYTES} bytes, MaxDocumentSizeExceeded): copy the script to the nodes \
             (S3, AWS-RunRemoteScript) and run it from there"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::send::TargetSpec;

    fn request(script: Script) -> RunRequest {
        RunRequest {
            recipients: Recipients::Instances(vec!["i-0123abcd".into()]),
            script: Some(script),
            shell: Shell::Sh,
            document: None,
            document_version: None,
            parameters: Vec::new(),
            execution_timeout: None,
            delivery_timeout: None,
            comment: None,
            max_concurrency: None,
            max_errors: None,
            output_s3: None,
            cloudwatch: None,
            working_dir: None,
            username: None,
            mark: "ssmres:abcdefghijkl".into(),
        }
    }

    #[test]
    fn a_command_line_and_a_script_become_the_commands_parameter() {
        let line = build(&request(Script::Line("systemctl restart nginx".into())));
        let printed = serde_json::to_string_pretty(&line).unwrap();
        let expected = r#"{
  "InstanceIds": [
    "i-0123abcd"
  ],
  "DocumentName": "AWS-RunShellScript",
  "Comment": "ssmres:abcdefghijkl",
  "Parameters": {
    "commands": [
      "systemctl restart nginx"
    ]
  }
}"#;
        assert_eq!(printed, expected);
        let script = build(&request(Script::File(
            b"#!/bin/sh\n\necho a\r\necho b\n".to_vec(),
        )));
        let lines = &script.parameters.unwrap().0[0].1;
        assert_eq!(lines, &["#!/bin/sh", "", "echo a\r", "echo b"]);
    }

    #[test]
    fn the_mark_follows_the_users_comment_within_100_characters() {
        let mut run = request(Script::Line("uptime".into()));
        run.comment = Some("deploy v2".into());
        assert_eq!(comment(&run), "deploy v2 ssmres:abcdefghijkl");
        run.comment = Some("x".repeat(80));
        assert!(check(&run).is_ok());
        assert_eq!(comment(&run).chars().count(), 100);
        run.comment = Some("é".repeat(81));
        let e = check(&run).unwrap_err();
        assert!(e.contains("81 characters; at most 80"), "{e}");
    }

    #[test]
    fn limits_of_the_api_are_refused_before_sending() {
        let mut run = request(Script::Line("uptime".into()));
        run.recipients = Recipients::Instances(vec!["i-0123abcd".into(); 51]);
        assert!(check(&run).unwrap_err().contains("use --target"));
        let target = TargetSpec {
            key: "tag:role".into(),
            values: vec!["web".into()],
        };
        run.recipients = Recipients::Targets(vec![target.clone(); 6]);
        assert!(check(&run).unwrap_err().contains("at most 5"));
        run.recipients = Recipients::Targets(vec![target]);
        run.delivery_timeout = Some(29);
        assert!(check(&run).unwrap_err().contains("30s to 2592000s"));
        run.delivery_timeout = Some(30);
        run.execution_timeout = Some(172_801);
        assert!(check(&run).unwrap_err().contains("48 hours"));
        run.execution_timeout = Some(172_800);
        assert!(check(&run).is_ok());
        run.script = Some(Script::File(vec![b'x'; MAX_DOCUMENT_BYTES + 1]));
        assert!(check(&run).unwrap_err().contains("64 KB"));
        run.script = Some(Script::File(vec![0xff, b'\n']));
        assert!(check(&run).unwrap_err().contains("UTF-8"));
        run.script = Some(Script::Line("uptime".into()));
        run.shell = Shell::Bat;
        assert!(check(&run).unwrap_err().contains("powershell"));
    }
}
