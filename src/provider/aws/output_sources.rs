//! Where SSM keeps a command's complete output, and whether what GetCommandInvocation returned
//! is all of it. Pure: reading the record, no network.
//!
//! The agent cuts StandardOutputContent at 24,000 bytes and StandardErrorContent at 8,000
//! (newer agents at 24,000 too), keeping the first bytes and ending them with
//! `--output truncated--`. The complete text exists only where the command was sent to keep
//! it: an S3 object per stream and step (StandardOutputUrl / StandardErrorUrl), or CloudWatch
//! Logs streams named `<command id>/<instance id>/<step>/stdout|stderr`.

use super::record::CommandInvocation;
use super::s3_url::{self, S3Location};

/// What the agent ends a cut stream with (no newline before it).
pub const TRUNCATION_MARKER: &str = "--output truncated--";
pub const STDOUT_LIMIT: usize = 24_000;
pub const STDERR_LIMIT: usize = 8_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    fn limit(self) -> usize {
        match self {
            Stream::Stdout => STDOUT_LIMIT,
            Stream::Stderr => STDERR_LIMIT,
        }
    }
}

/// Where the complete text of one stream can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    S3(S3Location),
    CloudWatch(LogStreams),
}

/// The CloudWatch Logs streams of one invocation's stream: found by listing the prefix (the
/// step part of a name is the agent's business), then those ending in `/stdout` or `/stderr`,
/// narrowed to one step when the record names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStreams {
    pub group: String,
    /// `<command id>/<instance id>/`
    pub prefix: String,
    /// The step's part of the stream name (`aws-runShellScript`), when the record names a step.
    pub step: Option<String>,
    pub stream: Stream,
}

impl LogStreams {
    /// Whether a stream listed under the prefix holds this stream's text.
    pub fn wants(&self, name: &str) -> bool {
        let Some(rest) = name.strip_prefix(&self.prefix) else {
            return false;
        };
        let Some(step) = rest.strip_suffix(self.stream.name()) else {
            return false;
        };
        let Some(step) = step.strip_suffix('/') else {
            return false;
        };
        !step.is_empty() && self.step.as_deref().is_none_or(|s| s == step)
    }
}

impl Source {
    /// For messages: `s3://bucket/key`, or the log group and stream names.
    pub fn describe(&self) -> String {
        match self {
            Source::S3(loc) => loc.display(),
            Source::CloudWatch(l) => format!(
                "CloudWatch Logs group {}, streams {}{}/{}",
                l.group,
                l.prefix,
                l.step.as_deref().unwrap_or("*"),
                l.stream.name()
            ),
        }
    }
}

/// Whether the API returned only the beginning of the stream: the agent's marker, or the
/// documented limit reached (counted in characters, as the API documents it, so that a
/// complete stderr of 3,000 three-byte characters is not taken for a cut one).
pub fn is_truncated(content: &str, stream: Stream) -> bool {
    content.ends_with(TRUNCATION_MARKER) || content.chars().count() >= stream.limit()
}

/// Where the complete text of `stream` is, S3 first (byte-exact) then CloudWatch Logs (events
/// joined line by line: CRLF comes back as LF). None: kept nowhere, or in a place we cannot
/// name (an unreadable URL is reported by the caller through `unreadable_url`).
pub fn source(record: &CommandInvocation, stream: Stream) -> Option<Source> {
    let url = match stream {
        Stream::Stdout => record.standard_output_url.as_deref(),
        Stream::Stderr => record.standard_error_url.as_deref(),
    };
    if let Some(loc) = url.filter(|u| !u.is_empty()).and_then(s3_url::parse) {
        return Some(Source::S3(loc));
    }
    let cw = record.cloud_watch_output_config.as_ref()?;
    if cw.cloud_watch_output_enabled != Some(true) {
        return None;
    }
    let command_id = record.command_id.as_deref().filter(|s| !s.is_empty())?;
    let instance_id = record.instance_id.as_deref().filter(|s| !s.is_empty())?;
    let group = match cw.cloud_watch_log_group_name.as_deref() {
        Some(g) if !g.is_empty() => g.to_owned(),
        _ => default_log_group(record.document_name.as_deref()?)?,
    };
    Some(Source::CloudWatch(LogStreams {
        group,
        prefix: format!("{command_id}/{instance_id}/"),
        step: record
            .plugin_name
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(stream_step_name),
        stream,
    }))
}

/// An output URL that is set but does not parse as an S3 location: worth a warning, since the
/// complete output exists but we cannot say where.
pub fn unreadable_url(record: &CommandInvocation, stream: Stream) -> Option<&str> {
    let url = match stream {
        Stream::Stdout => record.standard_output_url.as_deref(),
        Stream::Stderr => record.standard_error_url.as_deref(),
    }?;
    (!url.is_empty() && s3_url::parse(url).is_none()).then_some(url)
}

/// The agent's default group, `/aws/ssm/<document name>`, with every character CloudWatch does
/// not allow in a group name replaced by a dot (a document ARN's colons, for one).
pub fn default_log_group(document: &str) -> Option<String> {
    if document.is_empty() {
        return None;
    }
    let cleaned: String = document
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.' | '#') {
                c
            } else {
                '.'
            }
        })
        .collect();
    Some(format!("/aws/ssm/{cleaned}"))
}

/// The step as the agent writes it into stream names: `:` and `*` become `-`.
fn stream_step_name(plugin: &str) -> String {
    plugin.replace([':', '*'], "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::record::CloudWatchOutputConfig;

    const CMD: &str = "3e4a5b6c-1111-2222-3333-444455556666";
    const INST: &str = "i-02573cafcf0123456";

    fn record() -> CommandInvocation {
        CommandInvocation {
            command_id: Some(CMD.into()),
            instance_id: Some(INST.into()),
            document_name: Some("AWS-RunShellScript".into()),
            plugin_name: Some("aws:runShellScript".into()),
            ..Default::default()
        }
    }

    fn cloudwatch(group: Option<&str>, enabled: bool) -> Option<CloudWatchOutputConfig> {
        Some(CloudWatchOutputConfig {
            cloud_watch_log_group_name: group.map(str::to_owned),
            cloud_watch_output_enabled: Some(enabled),
        })
    }

    #[test]
    fn truncation_is_the_marker_or_the_limit() {
        assert!(!is_truncated("", Stream::Stdout));
        assert!(!is_truncated(&"x".repeat(23_999), Stream::Stdout));
        assert!(is_truncated(&"x".repeat(24_000), Stream::Stdout));
        assert!(is_truncated(
            &format!("{}{TRUNCATION_MARKER}", "é".repeat(11_990)),
            Stream::Stdout
        ));
        // 9,000 bytes, 3,000 characters, no marker: complete.
        assert!(!is_truncated(&"✓".repeat(3_000), Stream::Stderr));
        assert!(!is_truncated(&"x".repeat(7_999), Stream::Stderr));
        assert!(is_truncated(&"x".repeat(8_000), Stream::Stderr));
        assert!(is_truncated("short--output truncated--", Stream::Stderr));
    }

    #[test]
    fn s3_comes_first() {
        let mut r = record();
        r.standard_output_url = Some(format!(
            "https://s3.us-east-2.amazonaws.com/bucket/out/{CMD}/{INST}/awsrunShellScript/0.awsrunShellScript/stdout"
        ));
        r.cloud_watch_output_config = cloudwatch(None, true);
        match source(&r, Stream::Stdout) {
            Some(Source::S3(loc)) => {
                assert_eq!(loc.bucket, "bucket");
                assert_eq!(loc.region.as_deref(), Some("us-east-2"));
            }
            other => panic!("{other:?}"),
        }
        // No stderr URL: CloudWatch has it.
        assert!(matches!(
            source(&r, Stream::Stderr),
            Some(Source::CloudWatch(_))
        ));
    }

    #[test]
    fn cloudwatch_group_defaults_to_the_document() {
        let mut r = record();
        r.standard_output_url = Some(String::new());
        r.cloud_watch_output_config = cloudwatch(Some(""), true);
        let Some(Source::CloudWatch(l)) = source(&r, Stream::Stdout) else {
            panic!("no CloudWatch source");
        };
        assert_eq!(l.group, "/aws/ssm/AWS-RunShellScript");
        assert_eq!(l.prefix, format!("{CMD}/{INST}/"));
        assert_eq!(l.step.as_deref(), Some("aws-runShellScript"));
        r.document_name = Some("arn:aws:ssm:us-east-1:123456789012:document/My Doc".into());
        let Some(Source::CloudWatch(l)) = source(&r, Stream::Stdout) else {
            panic!("no CloudWatch source");
        };
        assert_eq!(
            l.group,
            "/aws/ssm/arn.aws.ssm.us-east-1.123456789012.document/My.Doc"
        );
    }

    #[test]
    fn cloudwatch_named_group_and_disabled_output() {
        let mut r = record();
        r.cloud_watch_output_config = cloudwatch(Some("/ops/runs"), true);
        let Some(Source::CloudWatch(l)) = source(&r, Stream::Stderr) else {
            panic!("no CloudWatch source");
        };
        assert_eq!(l.group, "/ops/runs");
        assert_eq!(l.stream, Stream::Stderr);
        r.cloud_watch_output_config = cloudwatch(Some("/ops/runs"), false);
        assert_eq!(source(&r, Stream::Stderr), None);
        r.cloud_watch_output_config = None;
        assert_eq!(source(&r, Stream::Stderr), None);
    }

    #[test]
    fn streams_are_matched_by_suffix_and_step() {
        let streams = |step: Option<&str>| LogStreams {
            group: "g".into(),
            prefix: format!("{CMD}/{INST}/"),
            step: step.map(str::to_owned),
            stream: Stream::Stdout,
        };
        let any = streams(None);
        assert!(any.wants(&format!("{CMD}/{INST}/aws-runShellScript/stdout")));
        assert!(any.wants(&format!("{CMD}/{INST}/second/stdout")));
        assert!(!any.wants(&format!("{CMD}/{INST}/aws-runShellScript/stderr")));
        assert!(!any.wants(&format!("{CMD}/{INST}/stdout")));
        assert!(!any.wants(&format!("{CMD}/i-other/aws-runShellScript/stdout")));
        assert!(!any.wants(&format!("{CMD}/{INST}/aws-runShellScript/xstdout")));
        let one = streams(Some("second"));
        assert!(one.wants(&format!("{CMD}/{INST}/second/stdout")));
        assert!(!one.wants(&format!("{CMD}/{INST}/first/stdout")));
    }

    #[test]
    fn an_url_that_is_not_s3_is_reported() {
        let mut r = record();
        r.standard_error_url = Some("https://example.com/b/k".into());
        assert_eq!(source(&r, Stream::Stderr), None);
        assert_eq!(
            unreadable_url(&r, Stream::Stderr),
            Some("https://example.com/b/k")
        );
        assert_eq!(unreadable_url(&r, Stream::Stdout), None);
    }
}
