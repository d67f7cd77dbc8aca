//! `ssmres run`: its flags, their values and the combinations refused before any call. What the
//! clouds' APIs limit (how many instances, how large a command) is checked by each provider
//! (`Cloud::check_send`) once the script is read; here, the shapes and what cannot go together.

use std::path::PathBuf;

use clap::Args;

use super::values::parse_instance_id;
use super::{WaitFlags, valid};
use crate::provider::contract::CloudKind;
use crate::provider::send::{Recipients, RunRequest, Script, Shell, TargetSpec};

const TARGETS: &str = "Targets";
const WHAT: &str = "What to run";
const SEND: &str = "Send options";
const WAITING: &str = "Waiting (as `ssmres wait`)";

pub const RUN_HELP: &str = "\
Exit codes: those of `ssmres wait` (0 success, 1 another terminal state, 4 --timeout, 130
interrupted; with --remote-exit-code the remote command's own); 2 for bad input, before anything
is sent; 3 for an API or network error, or a send whose outcome stayed unknown (it may have run:
stderr says how to check). --no-wait and --dry-run exit 0.

A send is never repeated blindly: SendCommand is retried only when it provably did not run
(throttled, or the connection was never made); after a timeout, a dropped connection or a 5xx,
the command is looked for by the mark ssmres puts in its Comment, for 10 s, and waited for when
found. Alibaba Cloud's RunCommand carries a ClientToken the service deduplicates on.";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Managed node to run on; repeat for several (at most 50: use --target for more)
    #[arg(long = "instance-id", value_name = "ID", value_parser = parse_instance_id, help_heading = TARGETS)]
    pub instance_ids: Vec<String>,

    /// Run where SendCommand's Targets resolve: tag:role=web, resource-groups:Name=prod,
    /// InstanceIds=i-1,i-2; repeat for several (at most 5)
    #[arg(long = "target", value_name = "KEY=VALUE[,VALUE...]", value_parser = parse_target, help_heading = TARGETS)]
    pub targets: Vec<TargetSpec>,

    /// Send this local script as the command's lines ("-": read it from standard input)
    #[arg(long, value_name = "FILE", help_heading = WHAT)]
    pub script: Option<PathBuf>,

    /// What runs the command [default: sh]
    #[arg(long, value_enum, value_name = "SHELL", help_heading = WHAT)]
    pub shell: Option<Shell>,

    /// The command line to run, after `--`, as `ssh host cmd` takes it
    #[arg(last = true, value_name = "COMMAND", help_heading = WHAT)]
    pub command: Vec<String>,

    /// Run this SSM document instead of the shell's (its parameters with --parameter)
    #[arg(long, value_name = "NAME", value_parser = parse_document_name, help_heading = WHAT)]
    pub document: Option<String>,

    /// The document's version: a number, $LATEST or $DEFAULT
    #[arg(long, value_name = "VERSION", value_parser = parse_document_version, requires = "document", help_heading = WHAT)]
    pub document_version: Option<String>,

    /// A document parameter; repeat a name for a list parameter
    #[arg(long = "parameter", value_name = "NAME=VALUE", value_parser = parse_parameter, help_heading = WHAT)]
    pub parameters: Vec<(String, String)>,

    /// A comment kept with the command (AWS: at most 80 characters, ssmres adds its mark;
    /// aliyun: the Description)
    #[arg(long, value_name = "TEXT", help_heading = SEND)]
    pub comment: Option<String>,

    /// How long the command may run on each node (AWS: the document's executionTimeout, 1 hour
    /// by default; aliyun: Timeout, 60s by default)
    #[arg(long, value_name = "DURATION", value_parser = parse_seconds, help_heading = SEND)]
    pub execution_timeout: Option<u64>,

    /// How long the command may wait to be delivered (SendCommand's TimeoutSeconds, 30s to 30
    /// days)
    #[arg(long, value_name = "DURATION", value_parser = parse_seconds, help_heading = SEND)]
    pub delivery_timeout: Option<u64>,

    /// How many nodes run it at once: a number or a percentage
    #[arg(long, value_name = "N|N%", value_parser = parse_max_concurrency, help_heading = SEND)]
    pub max_concurrency: Option<String>,

    /// How many errors stop the command being sent to more nodes: a number or a percentage
    #[arg(long, value_name = "N|N%", value_parser = parse_max_errors, help_heading = SEND)]
    pub max_errors: Option<String>,

    /// Keep the complete output in this S3 bucket (for --full-output)
    #[arg(long, value_name = "BUCKET", value_parser = parse_s3_bucket, help_heading = SEND)]
    pub output_s3_bucket: Option<String>,

    /// The key prefix of the output in that bucket
    #[arg(long, value_name = "PREFIX", value_parser = parse_s3_prefix, requires = "output_s3_bucket", help_heading = SEND)]
    pub output_s3_prefix: Option<String>,

    /// Send the output to CloudWatch Logs, in GROUP or the agent's default /aws/ssm/<document>
    /// (for --follow and --full-output)
    #[arg(long, value_name = "GROUP", num_args = 0..=1, default_missing_value = "", value_parser = parse_log_group, help_heading = SEND)]
    pub cloudwatch_output: Option<String>,

    /// The directory the command runs in (default /root on Linux)
    #[arg(long, value_name = "DIR", help_heading = SEND)]
    pub working_dir: Option<String>,

    /// The user that runs the command (default root on Linux, System on Windows)
    #[arg(long, value_name = "NAME", help_heading = SEND)]
    pub username: Option<String>,

    /// Print the send's answer (as `aws ssm send-command`, or `aliyun ecs RunCommand`, prints
    /// it) and exit 0 without waiting: pipe it into `ssmres wait --command-id -`
    #[arg(long, conflicts_with_all = ["follow", "full_output", "remote_exit_code", "cancel_on_interrupt", "cancel_on_timeout"], help_heading = SEND)]
    pub no_wait: bool,

    /// Print the request that would be sent (JSON) and exit 0; nothing is sent, no credentials
    /// are needed
    #[arg(long, help_heading = SEND)]
    pub dry_run: bool,

    /// Step name, for a document with several steps: wait for that step only
    #[arg(long, value_name = "NAME", value_parser = super::values::parse_plugin_name, help_heading = WAITING)]
    pub plugin_name: Option<String>,

    #[command(flatten, next_help_heading = WAITING)]
    pub wait: WaitFlags,
}

/// SendCommand's target keys: letters, digits, separators and `_.:/=-@`, 1 to 163 characters.
fn target_key(key: &str) -> bool {
    (1..=163).contains(&key.chars().count())
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=-@".contains(c))
}

/// `KEY=VALUE[,VALUE...]`, as `tag:role=web` or `InstanceIds=i-1,i-2`.
pub fn parse_target(s: &str) -> Result<TargetSpec, String> {
    if s.starts_with("Key=") {
        return Err(
            "write KEY=VALUE[,VALUE...] (tag:role=web), not the aws CLI's Key=…,Values=…".into(),
        );
    }
    let Some((key, values)) = s.split_once('=') else {
        return Err("a target is KEY=VALUE[,VALUE...], e.g. tag:role=web".into());
    };
    if !target_key(key) {
        return Err(
            "a target key has 1 to 163 letters, digits, spaces or _.:/=-@ (tag:role, \
             resource-groups:Name, InstanceIds)"
                .into(),
        );
    }
    let values: Vec<String> = values.split(',').map(str::to_owned).collect();
    if values.iter().any(String::is_empty) {
        return Err(format!("--target {key}=…: a value is empty"));
    }
    Ok(TargetSpec {
        key: key.to_owned(),
        values,
    })
}

/// `NAME=VALUE`; VALUE may be empty, NAME may not.
pub fn parse_parameter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() && !name.contains(char::is_whitespace) => {
            Ok((name.to_owned(), value.to_owned()))
        }
        _ => Err("a parameter is NAME=VALUE, e.g. workingDirectory=/srv/app".into()),
    }
}

/// SendCommand's pattern for DocumentName: `^[a-zA-Z0-9_\-.:/]{3,128}$` (a name or an ARN).
pub fn parse_document_name(s: &str) -> Result<String, String> {
    let ok = (3..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(&b));
    valid(
        s,
        ok,
        "a document name has 3 to 128 letters, digits or _-.:/ (AWS-RunPatchBaseline, an ARN)",
    )
}

/// SendCommand's pattern for DocumentVersion: `$LATEST`, `$DEFAULT` or a number from 1.
pub fn parse_document_version(s: &str) -> Result<String, String> {
    let number = !s.starts_with('0') && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = number || s == "$LATEST" || s == "$DEFAULT";
    valid(
        s,
        ok,
        "a document version is a number from 1, $LATEST or $DEFAULT",
    )
}

/// A duration in whole seconds, as the APIs take timeouts.
pub fn parse_seconds(s: &str) -> Result<u64, String> {
    let d = crate::duration::parse(s)?;
    if d.subsec_nanos() != 0 {
        return Err("this timeout is in whole seconds".into());
    }
    Ok(d.as_secs())
}

/// A count or a percentage, as the service model's patterns have them: MaxConcurrency
/// `^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`, MaxErrors the same with 0 and 0%.
fn rate(s: &str, zero: bool) -> bool {
    let (digits, percent) = match s.strip_suffix('%') {
        Some(d) => (d, true),
        None => (s, false),
    };
    let number = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    let value = digits.parse::<u64>().ok();
    let in_range = match (percent, value) {
        (_, Some(0)) => zero,
        (true, Some(n)) => n <= 100,
        (false, Some(_)) => true,
        (_, None) => false,
    };
    s.len() <= 7 && number && in_range
}

pub fn parse_max_concurrency(s: &str) -> Result<String, String> {
    valid(
        s,
        rate(s, false),
        "a number from 1 or a percentage from 1% to 100%",
    )
}

pub fn parse_max_errors(s: &str) -> Result<String, String> {
    valid(
        s,
        rate(s, true),
        "a number from 0 or a percentage from 0% to 100%",
    )
}

/// OutputS3BucketName: 3 to 63 characters (S3's own rules are checked by S3).
pub fn parse_s3_bucket(s: &str) -> Result<String, String> {
    let ok = (3..=63).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic());
    valid(s, ok, "a bucket name has 3 to 63 characters")
}

/// OutputS3KeyPrefix: at most 500 characters.
pub fn parse_s3_prefix(s: &str) -> Result<String, String> {
    valid(s, s.len() <= 500, "a key prefix has at most 500 characters")
}

/// CloudWatchLogGroupName: 1 to 512 of CloudWatch Logs' `[.\-_/#A-Za-z0-9]`; empty: the
/// agent's default group.
pub fn parse_log_group(s: &str) -> Result<String, String> {
    let ok = s.len() <= 512
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
    valid(
        s,
        ok,
        "a log group name has at most 512 letters, digits or ._-/#",
    )
}

impl RunArgs {
    /// The command line after `--`, words joined by spaces as `ssh host cmd` joins them.
    pub fn command_line(&self) -> Option<String> {
        let line = self.command.join(" ");
        (!line.trim().is_empty()).then_some(line)
    }

    /// Combinations no cloud would take, as one line for exit 2 (the other cloud's flags are
    /// refused before this; each API's own limits are checked once the script is read).
    pub fn check(&self, cloud: CloudKind) -> Result<(), String> {
        match (cloud, self.instance_ids.is_empty(), self.targets.is_empty()) {
            (CloudKind::Aws, true, true) => {
                return Err(
                    "run needs where to run: --instance-id ID (repeatable) or --target \
                     KEY=VALUE (tag:role=web)"
                        .into(),
                );
            }
            (CloudKind::Aws, false, false) => {
                return Err("give --instance-id or --target, not both".into());
            }
            (CloudKind::Aliyun, true, _) => {
                return Err("run needs --instance-id ID (repeatable)".into());
            }
            _ => {}
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(twice) = self.instance_ids.iter().find(|id| !seen.insert(*id)) {
            return Err(format!("--instance-id {twice} is given twice"));
        }
        let line = self.command_line();
        if !self.command.is_empty() && line.is_none() {
            return Err("the command after -- is empty".into());
        }
        if line.is_some() && self.script.is_some() {
            return Err("give the command after -- or --script FILE, not both".into());
        }
        let has_command = line.is_some() || self.script.is_some();
        if !has_command && self.document.is_none() {
            return Err(
                "nothing to run: give the command after -- (ssmres run --instance-id i-… -- \
                 uptime), or --script FILE"
                    .into(),
            );
        }
        if self.shell.is_some() && self.document.is_some() {
            return Err("--shell picks a document; give --shell or --document, not both".into());
        }
        let given = |name: &str| self.parameters.iter().any(|(n, _)| n == name);
        if has_command && given("commands") {
            return Err(
                "the command is given twice: after -- (or --script) and as --parameter commands=…"
                    .into(),
            );
        }
        if self.execution_timeout.is_some() && given("executionTimeout") {
            return Err(
                "give --execution-timeout or --parameter executionTimeout=…, not both".into(),
            );
        }
        if self.wait.follow && self.cloudwatch_output.is_none() {
            return Err(
                "--follow reads the output from CloudWatch Logs: add --cloudwatch-output [GROUP] \
                 so that the command writes it there"
                    .into(),
            );
        }
        Ok(())
    }

    /// The request, with the script already read (`script`) and this run's mark.
    pub fn request(&self, script: Option<Script>, mark: String) -> RunRequest {
        let recipients = if self.targets.is_empty() {
            Recipients::Instances(self.instance_ids.clone())
        } else {
            Recipients::Targets(self.targets.clone())
        };
        // A name given several times is one list parameter, where it first appeared.
        let mut parameters: Vec<(String, Vec<String>)> = Vec::new();
        for (name, value) in &self.parameters {
            match parameters.iter_mut().find(|(n, _)| n == name) {
                Some((_, values)) => values.push(value.clone()),
                None => parameters.push((name.clone(), vec![value.clone()])),
            }
        }
        RunRequest {
            recipients,
            script: script.or_else(|| self.command_line().map(Script::Line)),
            shell: self.shell.unwrap_or_default(),
            document: self.document.clone(),
            document_version: self.document_version.clone(),
            parameters,
            execution_timeout: self.execution_timeout,
            delivery_timeout: self.delivery_timeout,
            comment: self.comment.clone(),
            max_concurrency: self.max_concurrency.clone(),
            max_errors: self.max_errors.clone(),
            output_s3: (self.output_s3_bucket.clone()).map(|b| (b, self.output_s3_prefix.clone())),
            cloudwatch: (self.cloudwatch_output.clone()).map(|g| Some(g).filter(|g| !g.is_empty())),
            working_dir: self.working_dir.clone(),
            username: self.username.clone(),
            mark,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_the_short_form() {
        let t = parse_target("tag:role=web").unwrap();
        assert_eq!((t.key.as_str(), t.values), ("tag:role", vec!["web".into()]));
        let t = parse_target("InstanceIds=i-1,i-2").unwrap();
        assert_eq!(t.values, ["i-1", "i-2"]);
        let t = parse_target("resource-groups:Name=prod").unwrap();
        assert_eq!(t.key, "resource-groups:Name");
        for bad in [
            "tag:role",
            "=web",
            "tag:role=",
            "tag:role=web,",
            "tag:ro*le=web",
            "Key=tag:role,Values=web",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
        assert!(
            parse_target("Key=tag:role,Values=web")
                .unwrap_err()
                .contains("KEY=VALUE")
        );
        assert!(parse_target(&format!("{}=v", "k".repeat(164))).is_err());
    }

    #[test]
    fn parameters_documents_and_versions() {
        assert_eq!(parse_parameter("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_parameter("a="), Ok(("a".into(), String::new())));
        for bad in ["=x", "noequals", "a b=c"] {
            assert!(parse_parameter(bad).is_err(), "{bad}");
        }
        assert!(parse_document_name("AWS-RunPatchBaseline").is_ok());
        assert!(parse_document_name("arn:aws:ssm:us-east-1:123456789012:document/My_Doc").is_ok());
        for bad in ["ab", "has space", &"x".repeat(129)] {
            assert!(parse_document_name(bad).is_err(), "{bad}");
        }
        for good in ["1", "42", "$LATEST", "$DEFAULT"] {
            assert!(parse_document_version(good).is_ok(), "{good}");
        }
        for bad in ["0", "01", "latest", ""] {
            assert!(parse_document_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_follow_the_service_patterns() {
        for good in ["1", "50", "1%", "99%", "100%", "1234567"] {
            assert!(parse_max_concurrency(good).is_ok(), "{good}");
        }
        for bad in ["0", "0%", "101%", "01", "12345678", "x", "%", "5%%"] {
            assert!(parse_max_concurrency(bad).is_err(), "{bad}");
        }
        for good in ["0", "0%", "5%", "100%", "3"] {
            assert!(parse_max_errors(good).is_ok(), "{good}");
        }
        assert!(parse_max_errors("00").is_err());
    }

    #[test]
    fn timeouts_are_whole_seconds() {
        assert_eq!(parse_seconds("90"), Ok(90));
        assert_eq!(parse_seconds("1h"), Ok(3600));
        assert!(parse_seconds("1500ms").is_err());
        assert!(parse_seconds("0").is_err());
    }

    #[test]
    fn outputs_take_the_api_lengths() {
        assert!(parse_s3_bucket("ab").is_err() && parse_s3_bucket("my-bucket").is_ok());
        assert!(parse_s3_prefix(&"p".repeat(501)).is_err());
        assert!(parse_log_group("").is_ok() && parse_log_group("/ssm/runs").is_ok());
        assert!(parse_log_group("bad group").is_err());
    }
}
