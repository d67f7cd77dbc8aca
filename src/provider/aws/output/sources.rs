//! Where SSM keeps a command's complete output, and whether what GetCommandInvocation returned
//! is all of it. Pure: reading the record, no network.
//!
//! The agent cuts StandardOutputContent at 24,000 bytes and StandardErrorContent at 8,000
//! (newer agents at 24,000 too), keeping the first bytes and ending them with
//! `--output truncated--`. The complete text exists only where the command was sent to keep
//! it: an S3 object per stream and step (StandardOutputUrl / StandardErrorUrl), or CloudWatch
//! Logs streams named `<command id>/<instance id>/<step>/stdout|stderr`.

use super::s3_url::S3Location;
use crate::model::Stream;

/// What the agent ends a cut stream with (no newline before it).
pub const TRUNCATION_MARKER: &str = "--output truncated--";
const STDOUT_LIMIT: usize = 24_000;
const STDERR_LIMIT: usize = 8_000;

/// The service's limit for `stream`, in characters, and as messages write it.
pub fn limit(stream: Stream) -> (usize, &'static str) {
    match stream {
        Stream::Stdout => (STDOUT_LIMIT, "24,000"),
        Stream::Stderr => (STDERR_LIMIT, "8,000"),
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
    content.ends_with(TRUNCATION_MARKER) || content.chars().count() >= limit(stream).0
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
pub fn step_in_stream_name(plugin: &str) -> String {
    plugin.replace([':', '*'], "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CMD: &str = "3e4a5b6c-1111-2222-3333-444455556666";
    const INST: &str = "i-02573cafcf0123456";

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
}
