//! RunCommand: a command created and run on instances in one call, then waited for by its
//! InvokeId like any invocation. Sending is not idempotent, so every call carries a ClientToken
//! made once per run: the client's retries (throttling, 5xx, a dropped connection, an answer
//! that cannot be read) resend the very same parameters, token included, and the service
//! answers a repeated token with the first call's result instead of running the command again.
//!
//! Limits, from the ECS API reference (RunCommand; "How to ensure idempotence" for ClientToken):
//! - `InstanceId.N`: N from 1 to 50 (`InstanceIds.ExceedLimit` beyond).
//! - `CommandContent`: Base64-encoded, at most 18 KB (18,432 bytes) once encoded (the
//!   ALIYUN::ECS::Command reference says 18 KB; older RunCommand references said 16 KB).
//! - `Description`: at most 512 characters.
//! - `ClientToken`: at most 64 ASCII characters, unique per request; a token reused with other
//!   parameters is refused (`IdempotentParameterMismatch`).
//! - `Timeout`: seconds; 60 when not given.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::AliyunProvider;
use crate::error::Error;
use crate::model::Document;
use crate::provider::contract::{FetchError, Subject};
use crate::provider::send::{Recipients, RunRequest, Sent, Shell, recipients_in_words};

const RUN: &str = "RunCommand";
pub const MAX_INSTANCE_IDS: usize = 50;
pub const MAX_CONTENT_BASE64: usize = 18 * 1024;
pub const MAX_DESCRIPTION: usize = 512;
pub const MAX_CLIENT_TOKEN: usize = 64;
/// The ClientToken's prefix (the mark): `ssmres-` and 12 letters or digits.
pub const MARK_PREFIX: &str = "ssmres-";

/// What RunCommand answers, in the API's order.
#[derive(Debug, Serialize, Deserialize)]
pub struct RunCommandAnswer {
    #[serde(rename = "RequestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(rename = "CommandId", skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    /// Required: an answer without one is not RunCommand's, and is asked for again (with the
    /// same ClientToken).
    #[serde(rename = "InvokeId")]
    pub invoke_id: String,
}

impl Document for RunCommandAnswer {}

/// RunCommand's parameters as the query carries them (RegionId and the signature's are added
/// with every call), with Action first for `--dry-run`.
#[derive(Debug, Serialize)]
pub struct RunCommandParams(#[serde(serialize_with = "in_order")] pub Vec<(String, String)>);

fn in_order<S: serde::Serializer>(params: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(params.len()))?;
    for (k, v) in params {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

impl Document for RunCommandParams {}

fn command_type(shell: Shell) -> &'static str {
    match shell {
        Shell::Sh => "RunShellScript",
        Shell::Powershell => "RunPowerShellScript",
        Shell::Bat => "RunBatScript",
    }
}

/// How a user finds out whether a RunCommand whose answer never came ran.
pub fn how_to_check(run: &RunRequest) -> String {
    format!(
        "every retry carried the ClientToken {token}, so it ran once at most, but another \
         ssmres run makes a new token: check with `ssmres --provider aliyun list --instance-id \
         {instance}` before running it again",
        token = run.mark,
        instance = instances(run).first().map_or("…", String::as_str),
    )
}

fn instances(run: &RunRequest) -> &[String] {
    match &run.recipients {
        Recipients::Instances(ids) => ids,
        Recipients::Targets(_) => &[],
    }
}

fn content(run: &RunRequest) -> String {
    let bytes = run.script.as_ref().map(|s| s.bytes()).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The call's own parameters, in the order the API reference lists them.
pub fn params(run: &RunRequest) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = vec![
        ("Type".into(), command_type(run.shell).into()),
        ("CommandContent".into(), content(run)),
        ("ContentEncoding".into(), "Base64".into()),
    ];
    for (i, id) in instances(run).iter().enumerate() {
        p.push((format!("InstanceId.{}", i + 1), id.clone()));
    }
    for (key, value) in [
        ("Description", &run.comment),
        ("WorkingDir", &run.working_dir),
        ("Username", &run.username),
    ] {
        if let Some(v) = value {
            p.push((key.into(), v.clone()));
        }
    }
    if let Some(seconds) = run.execution_timeout {
        p.push(("Timeout".into(), seconds.to_string()));
    }
    p.push(("ClientToken".into(), run.mark.clone()));
    p
}

/// What `--dry-run` prints: Action, then the call's parameters.
pub fn preview(run: &RunRequest) -> RunCommandParams {
    let mut all = vec![("Action".to_owned(), RUN.to_owned())];
    all.extend(params(run));
    RunCommandParams(all)
}

/// What RunCommand would refuse, as one line for exit 2.
pub fn check(run: &RunRequest) -> Result<(), String> {
    let n = instances(run).len();
    if n > MAX_INSTANCE_IDS {
        return Err(format!(
            "{n} instance IDs: RunCommand takes at most {MAX_INSTANCE_IDS}; send in batches"
        ));
    }
    let encoded = content(run).len();
    if encoded > MAX_CONTENT_BASE64 {
        return Err(format!(
            "the command is {} bytes, {encoded} in Base64; RunCommand takes at most 18 KB \
             ({MAX_CONTENT_BASE64} bytes) of Base64 content: copy the script to the instances \
             (OSS, SendFile) and run it from there",
            run.script.as_ref().map_or(0, |s| s.bytes().len())
        ));
    }
    if let Some(own) = &run.comment {
        let chars = own.chars().count();
        if chars > MAX_DESCRIPTION {
            return Err(format!(
                "--comment has {chars} characters; RunCommand's Description takes at most \
                 {MAX_DESCRIPTION}"
            ));
        }
    }
    if run.mark.len() > MAX_CLIENT_TOKEN || !run.mark.is_ascii() {
        return Err("the ClientToken is longer than 64 ASCII characters".into());
    }
    Ok(())
}

impl AliyunProvider {
    /// RunCommand, retried by the client with the same parameters and so the same ClientToken:
    /// a retry of a call that did run is answered with that run, not run again.
    pub async fn run_command(&self, run: &RunRequest) -> Result<Sent, Error> {
        let (answer, retried) = self.call_noting_retries(RUN, &params(run)).await;
        let answer: RunCommandAnswer = answer.map_err(|e| match e {
            // Every attempt failed in a way a retry might fix, or a later one failed after an
            // earlier one may have reached the service: one of them may still have run.
            FetchError::Transient(m) => Error::Api(format!(
                "{m}; the command may have run: {}",
                how_to_check(run)
            )),
            other if retried => Error::Api(format!(
                "{}; an earlier attempt may have run the command: {}",
                Error::from(other),
                how_to_check(run)
            )),
            other => other.into(),
        })?;
        Ok(Sent {
            subject: Subject {
                run_id: answer.invoke_id.clone(),
                instances: instances(run).to_vec(),
                ..Subject::default()
            },
            response: Box::new(answer),
            found_after: None,
            to: recipients_in_words(&run.recipients),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::send::Script;

    fn request() -> RunRequest {
        RunRequest {
            recipients: Recipients::Instances(vec!["i-bp1a".into(), "i-bp1b".into()]),
            script: Some(Script::Line("echo héllo".into())),
            shell: Shell::Sh,
            document: None,
            document_version: None,
            parameters: Vec::new(),
            execution_timeout: Some(600),
            delivery_timeout: None,
            comment: Some("deploy".into()),
            max_concurrency: None,
            max_errors: None,
            output_s3: None,
            cloudwatch: None,
            working_dir: Some("/srv".into()),
            username: None,
            mark: "ssmres-abcdefghijkl".into(),
        }
    }

    #[test]
    fn the_parameters_carry_the_content_in_base64_and_the_client_token() {
        let p = params(&request());
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("Type"), Some("RunShellScript"));
        assert_eq!(get("CommandContent"), Some("ZWNobyBow6lsbG8="));
        assert_eq!(get("ContentEncoding"), Some("Base64"));
        assert_eq!(get("InstanceId.1"), Some("i-bp1a"));
        assert_eq!(get("InstanceId.2"), Some("i-bp1b"));
        assert_eq!(get("Timeout"), Some("600"));
        assert_eq!(get("WorkingDir"), Some("/srv"));
        assert_eq!(get("Description"), Some("deploy"));
        assert_eq!(get("ClientToken"), Some("ssmres-abcdefghijkl"));
        assert_eq!(get("Username"), None);
        let shown = serde_json::to_string_pretty(&preview(&request())).unwrap();
        assert!(
            shown.starts_with("{\n  \"Action\": \"RunCommand\",\n"),
            "{shown}"
        );
    }

    #[test]
    fn limits_of_the_api_are_refused_before_sending() {
        let mut run = request();
        assert!(check(&run).is_ok());
        run.recipients = Recipients::Instances(vec!["i-bp1a".into(); 51]);
        assert!(check(&run).unwrap_err().contains("at most 50"));
        run.recipients = Recipients::Instances(vec!["i-bp1a".into()]);
        // 13,824 bytes make 18,432 in Base64: the most RunCommand takes.
        run.script = Some(Script::File(vec![b'x'; 13_824]));
        assert!(check(&run).is_ok());
        run.script = Some(Script::File(vec![b'x'; 13_825]));
        assert!(check(&run).unwrap_err().contains("18 KB"));
        run.script = Some(Script::Line("uptime".into()));
        run.comment = Some("x".repeat(513));
        assert!(check(&run).unwrap_err().contains("512"));
    }
}
