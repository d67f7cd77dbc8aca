//! GetCommandInvocation's record as the aws CLI prints it, its neutral view, and where the
//! complete text of a stream it cut short is kept.

use serde::{Deserialize, Serialize};

use super::output::s3_url;
use super::output::sources::{
    LogStreams, Source, default_log_group, is_truncated, step_in_stream_name,
};
use super::status::class_of;
use crate::model::{Cut, Document, Invocation, Stream};

/// Field order is the service model's, which is the order botocore (and so the aws CLI) prints.
/// Fields the service did not send stay absent; fields the model does not know are dropped,
/// as botocore drops them.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommandInvocation {
    pub command_id: Option<String>,
    pub instance_id: Option<String>,
    pub comment: Option<String>,
    pub document_name: Option<String>,
    pub document_version: Option<String>,
    pub plugin_name: Option<String>,
    pub response_code: Option<i64>,
    pub execution_start_date_time: Option<String>,
    pub execution_elapsed_time: Option<String>,
    pub execution_end_date_time: Option<String>,
    pub status: Option<String>,
    pub status_details: Option<String>,
    pub standard_output_content: Option<String>,
    pub standard_output_url: Option<String>,
    pub standard_error_content: Option<String>,
    pub standard_error_url: Option<String>,
    pub cloud_watch_output_config: Option<CloudWatchOutputConfig>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchOutputConfig {
    pub cloud_watch_log_group_name: Option<String>,
    pub cloud_watch_output_enabled: Option<bool>,
}

impl Document for CommandInvocation {
    fn stdout(&self) -> &str {
        self.standard_output_content.as_deref().unwrap_or_default()
    }
    fn stderr(&self) -> &str {
        self.standard_error_content.as_deref().unwrap_or_default()
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|v| !v.is_empty()).cloned()
}

impl CommandInvocation {
    pub fn url(&self, stream: Stream) -> Option<&str> {
        match stream {
            Stream::Stdout => self.standard_output_url.as_deref(),
            Stream::Stderr => self.standard_error_url.as_deref(),
        }
    }

    /// Where the complete text of `stream` is, S3 first (byte-exact) then CloudWatch Logs
    /// (events joined line by line: CRLF comes back as LF). None: kept nowhere, or in a place
    /// we cannot name (`unreadable_url` reports that).
    pub fn source(&self, stream: Stream) -> Option<Source> {
        if let Some(loc) = self
            .url(stream)
            .filter(|u| !u.is_empty())
            .and_then(s3_url::parse)
        {
            return Some(Source::S3(loc));
        }
        let cw = self.cloud_watch_output_config.as_ref()?;
        if cw.cloud_watch_output_enabled != Some(true) {
            return None;
        }
        let command_id = self.command_id.as_deref().filter(|s| !s.is_empty())?;
        let instance_id = self.instance_id.as_deref().filter(|s| !s.is_empty())?;
        let group = match cw.cloud_watch_log_group_name.as_deref() {
            Some(g) if !g.is_empty() => g.to_owned(),
            _ => default_log_group(self.document_name.as_deref()?)?,
        };
        Some(Source::CloudWatch(LogStreams {
            group,
            prefix: format!("{command_id}/{instance_id}/"),
            step: self
                .plugin_name
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(step_in_stream_name),
            stream,
        }))
    }

    /// An output URL that is set but does not parse as an S3 location: worth a warning, since
    /// the complete output exists but we cannot say where.
    pub fn unreadable_url(&self, stream: Stream) -> Option<&str> {
        let url = self.url(stream)?;
        (!url.is_empty() && s3_url::parse(url).is_none()).then_some(url)
    }

    pub fn into_invocation(self) -> Invocation {
        let status = self.status.clone().unwrap_or_default();
        let cut = |stream| {
            let content = match stream {
                Stream::Stdout => self.stdout(),
                Stream::Stderr => self.stderr(),
            };
            is_truncated(content, stream).then(|| match self.source(stream) {
                Some(s) => Cut {
                    rest_at: Some(s.describe()),
                    unread: false,
                },
                None => Cut {
                    rest_at: self.unreadable_url(stream).map(str::to_owned),
                    unread: true,
                },
            })
        };
        Invocation {
            command_id: self.command_id.clone().unwrap_or_default(),
            instance_id: self.instance_id.clone().unwrap_or_default(),
            plugin_name: non_empty(&self.plugin_name),
            document: non_empty(&self.document_name).map(|name| {
                match non_empty(&self.document_version) {
                    Some(v) => format!("{name} (version {v})"),
                    None => name,
                }
            }),
            class: class_of(&status, self.status_details.as_deref()),
            status,
            status_details: self.status_details.clone(),
            response_code: self.response_code,
            started: non_empty(&self.execution_start_date_time),
            ended: non_empty(&self.execution_end_date_time),
            elapsed: non_empty(&self.execution_elapsed_time),
            stdout_url: non_empty(&self.standard_output_url),
            stderr_url: non_empty(&self.standard_error_url),
            stdout_cut: cut(Stream::Stdout),
            stderr_cut: cut(Stream::Stderr),
            doc: Box::new(self),
            ..Invocation::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn body_keeps_exactly_the_fields_sent() {
        let body = br#"{"Status":"Pending","StatusDetails":"Pending","CloudWatchOutputConfig":{},
            "SomethingNew":1,"CommandId":"c"}"#;
        let record: CommandInvocation = serde_json::from_slice(body).unwrap();
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"CommandId":"c","Status":"Pending","StatusDetails":"Pending","CloudWatchOutputConfig":{}}"#
        );
    }

    #[test]
    fn unknown_status_is_kept_verbatim() {
        let inv = CommandInvocation {
            status: Some("Paused".into()),
            ..Default::default()
        }
        .into_invocation();
        assert_eq!(inv.status, "Paused");
        assert!(!inv.is_terminal());
    }

    #[test]
    fn s3_comes_first() {
        let mut r = record();
        r.standard_output_url = Some(format!(
            "https://s3.us-east-2.amazonaws.com/bucket/out/{CMD}/{INST}/awsrunShellScript/0.awsrunShellScript/stdout"
        ));
        r.cloud_watch_output_config = cloudwatch(None, true);
        match r.source(Stream::Stdout) {
            Some(Source::S3(loc)) => {
                assert_eq!(loc.bucket, "bucket");
                assert_eq!(loc.region.as_deref(), Some("us-east-2"));
            }
            other => panic!("{other:?}"),
        }
        // No stderr URL: CloudWatch has it.
        assert!(matches!(
            r.source(Stream::Stderr),
            Some(Source::CloudWatch(_))
        ));
    }

    #[test]
    fn cloudwatch_group_defaults_to_the_document() {
        let mut r = record();
        r.standard_output_url = Some(String::new());
        r.cloud_watch_output_config = cloudwatch(Some(""), true);
        let Some(Source::CloudWatch(l)) = r.source(Stream::Stdout) else {
            panic!("no CloudWatch source");
        };
        assert_eq!(l.group, "/aws/ssm/AWS-RunShellScript");
        assert_eq!(l.prefix, format!("{CMD}/{INST}/"));
        assert_eq!(l.step.as_deref(), Some("aws-runShellScript"));
        r.document_name = Some("arn:aws:ssm:us-east-1:123456789012:document/My Doc".into());
        let Some(Source::CloudWatch(l)) = r.source(Stream::Stdout) else {
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
        let Some(Source::CloudWatch(l)) = r.source(Stream::Stderr) else {
            panic!("no CloudWatch source");
        };
        assert_eq!(l.group, "/ops/runs");
        assert_eq!(l.stream, Stream::Stderr);
        r.cloud_watch_output_config = cloudwatch(Some("/ops/runs"), false);
        assert_eq!(r.source(Stream::Stderr), None);
        r.cloud_watch_output_config = None;
        assert_eq!(r.source(Stream::Stderr), None);
    }

    #[test]
    fn an_url_that_is_not_s3_is_reported() {
        let mut r = record();
        r.standard_error_url = Some("https://example.com/b/k".into());
        assert_eq!(r.source(Stream::Stderr), None);
        assert_eq!(
            r.unreadable_url(Stream::Stderr),
            Some("https://example.com/b/k")
        );
        assert_eq!(r.unreadable_url(Stream::Stdout), None);
    }
}
