//! `--full-output`: the complete stdout and stderr in place of what the service cut short.
//!
//! json, jsonl and table need the text in memory (json puts it in StandardOutputContent /
//! StandardErrorContent, the names jq scripts already use); text mode streams it as it is read
//! (commands/full_output.rs). Whatever cannot be read (denied, missing, broken off) falls back
//! to the service's content with one warning line; it never changes the exit code.
//!
//! Only finished invocations are read: the agent writes its S3 objects when a step ends.

use std::any::Any;

use tokio::time::Instant;

use super::ReadError;
use super::reader::OutputReader;
use super::sources::{Source, limit};
use crate::model::{Invocation, Stream};
use crate::provider::aws::record::CommandInvocation;

/// What to do with one stream.
pub enum StreamPlan {
    /// Read it from here.
    Read(Source),
    /// Keep the service's content (complete, or nowhere else to look; the warning says which).
    Keep(Option<String>),
}

/// Reads `stream` of `inv` from where the command kept it, or keeps the service's content.
pub fn plan(inv: &Invocation, stream: Stream) -> StreamPlan {
    let Some(record) = (&*inv.doc as &dyn Any).downcast_ref::<CommandInvocation>() else {
        return StreamPlan::Keep(None);
    };
    let cut = inv.cut(stream);
    if !inv.is_terminal() {
        return StreamPlan::Keep(cut.as_ref().map(|_| {
            format!(
                "{}: the command has not finished, so its complete {} is not read",
                inv.instance_id,
                stream.name()
            )
        }));
    }
    let content = inv.text(stream);
    // Nothing printed: nothing to read (the agent keeps no object or stream for it, and
    // looking would cost a call and, without s3:ListBucket, an AccessDenied).
    if content.is_empty() {
        return StreamPlan::Keep(None);
    }
    match record.source(stream) {
        // S3 is byte-exact, so reading it even when nothing was cut costs no fidelity.
        Some(source @ Source::S3(_)) => return StreamPlan::Read(source),
        // CloudWatch keeps lines, not bytes (CRLF comes back as LF): when the service's
        // content is complete it is the better copy.
        Some(source @ Source::CloudWatch(_)) if cut.is_some() => return StreamPlan::Read(source),
        Some(Source::CloudWatch(_)) => return StreamPlan::Keep(None),
        None => {}
    }
    if let Some(url) = record.unreadable_url(stream) {
        return StreamPlan::Keep(Some(format!(
            "{}: the {} URL {url} is not an S3 location ssmres can read; showing what the \
             service returned",
            inv.instance_id,
            stream.name()
        )));
    }
    StreamPlan::Keep(cut.as_ref().map(|_| {
        format!(
            "{}: {} was cut short by the service and no complete copy was kept (send commands \
             with an S3 bucket or CloudWatch output to keep it)",
            inv.instance_id,
            stream.name()
        )
    }))
}

/// The complete text could not be read: what is shown instead.
pub fn fallback_warning(inv: &Invocation, stream: Stream, err: &ReadError) -> String {
    format!(
        "{}: complete {} not read ({}); showing what the service returned (at most {} \
         characters)",
        inv.instance_id,
        stream.name(),
        err.message(),
        limit(stream).1
    )
}

/// Replaces the service's content with the complete text in the record (which the invocation
/// reads its streams from), so every renderer shows it. Returns the warnings to print.
pub async fn complete(
    reader: &OutputReader,
    inv: &mut Invocation,
    deadline: Option<Instant>,
) -> Vec<String> {
    if !inv.steps.is_empty() {
        let mut warnings = Vec::new();
        for step in &mut inv.steps {
            warnings.extend(Box::pin(complete(reader, step, deadline)).await);
        }
        return warnings;
    }
    let mut warnings = Vec::new();
    for stream in [Stream::Stdout, Stream::Stderr] {
        let source = match plan(inv, stream) {
            StreamPlan::Keep(warning) => {
                warnings.extend(warning);
                continue;
            }
            StreamPlan::Read(source) => source,
        };
        let mut bytes = Vec::new();
        let read = read_within(
            deadline,
            reader.read(&source, &mut |chunk: &[u8]| {
                bytes.extend_from_slice(chunk);
                Ok(())
            }),
        )
        .await;
        let current = inv.text(stream);
        match read {
            Ok(_) => {}
            // No object and no log stream is how the agent keeps an empty stream.
            Err(ReadError::Missing(_)) if current.is_empty() => continue,
            Err(e) => {
                warnings.push(fallback_warning(inv, stream, &e));
                // The table's note then says the read failed, not to try the flag again.
                if let Some(cut) = inv.cut_mut(stream) {
                    cut.unread = true;
                }
                continue;
            }
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                warnings.push(format!(
                    "{}: the complete {} is not valid UTF-8; invalid bytes are shown as U+FFFD",
                    inv.instance_id,
                    stream.name()
                ));
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        set_stream(inv, stream, text);
    }
    warnings
}

fn set_stream(inv: &mut Invocation, stream: Stream, text: String) {
    let Some(record) = (&mut *inv.doc as &mut dyn Any).downcast_mut::<CommandInvocation>() else {
        return;
    };
    match stream {
        Stream::Stdout => record.standard_output_content = Some(text),
        Stream::Stderr => record.standard_error_content = Some(text),
    }
    *inv.cut_mut(stream) = None;
}

/// One read, within what is left of --timeout, the budget for the whole command: a read the
/// deadline interrupts is a failed read (the service's content, or what was streamed so far).
pub async fn read_within(
    deadline: Option<Instant>,
    read: impl std::future::Future<Output = Result<u64, ReadError>>,
) -> Result<u64, ReadError> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, read)
            .await
            .unwrap_or_else(|_| Err(ReadError::Failed("--timeout reached".into()))),
        None => read.await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(status: &str, stdout: &str, url: &str) -> Invocation {
        CommandInvocation {
            command_id: Some("3e4a5b6c-1111-2222-3333-444455556666".into()),
            instance_id: Some("i-02573cafcf0123456".into()),
            status: Some(status.into()),
            standard_output_content: Some(stdout.into()),
            standard_output_url: Some(url.into()),
            ..Default::default()
        }
        .into_invocation()
    }

    fn plan_for(inv: &Invocation, stream: Stream) -> StreamPlan {
        plan(inv, stream)
    }

    const URL: &str = "https://s3.us-east-1.amazonaws.com/b/out/stdout";

    #[test]
    fn a_finished_invocation_is_read_from_its_source() {
        let inv = invocation("Success", "short\n", URL);
        assert!(matches!(
            plan_for(&inv, Stream::Stdout),
            StreamPlan::Read(Source::S3(_))
        ));
        // No stderr URL, nothing cut: nothing to say.
        assert!(matches!(
            plan_for(&inv, Stream::Stderr),
            StreamPlan::Keep(None)
        ));
    }

    #[test]
    fn an_empty_stream_is_not_looked_up() {
        let inv = invocation("Success", "", URL);
        assert!(matches!(
            plan_for(&inv, Stream::Stdout),
            StreamPlan::Keep(None)
        ));
    }

    #[test]
    fn cloudwatch_is_read_only_when_the_service_cut_the_stream() {
        let with_cloudwatch = |stdout: &str| {
            CommandInvocation {
                command_id: Some("3e4a5b6c-1111-2222-3333-444455556666".into()),
                instance_id: Some("i-02573cafcf0123456".into()),
                document_name: Some("AWS-RunShellScript".into()),
                status: Some("Success".into()),
                standard_output_content: Some(stdout.into()),
                cloud_watch_output_config: Some(
                    crate::provider::aws::record::CloudWatchOutputConfig {
                        cloud_watch_log_group_name: None,
                        cloud_watch_output_enabled: Some(true),
                    },
                ),
                ..Default::default()
            }
            .into_invocation()
        };
        // Complete already, and exact where CloudWatch would turn CRLF into LF.
        let whole = with_cloudwatch("line\r\n");
        assert!(matches!(
            plan_for(&whole, Stream::Stdout),
            StreamPlan::Keep(None)
        ));
        let cut = with_cloudwatch(&format!("{}--output truncated--", "x".repeat(23_980)));
        assert!(matches!(
            plan_for(&cut, Stream::Stdout),
            StreamPlan::Read(Source::CloudWatch(_))
        ));
    }

    #[test]
    fn an_unfinished_invocation_is_not_read() {
        let inv = invocation("InProgress", "", URL);
        assert!(matches!(
            plan_for(&inv, Stream::Stdout),
            StreamPlan::Keep(None)
        ));
    }

    #[test]
    fn a_cut_stream_kept_nowhere_is_a_warning() {
        let inv = invocation("Failed", &"x".repeat(24_000), "");
        let StreamPlan::Keep(Some(w)) = plan_for(&inv, Stream::Stdout) else {
            panic!("expected a warning");
        };
        assert!(w.contains("stdout was cut short by the service and no complete copy was kept"));
    }

    #[test]
    fn an_url_that_is_not_s3_is_a_warning() {
        let inv = invocation("Success", "x", "https://example.com/b/k");
        let StreamPlan::Keep(Some(w)) = plan_for(&inv, Stream::Stdout) else {
            panic!("expected a warning");
        };
        assert!(w.contains("https://example.com/b/k is not an S3 location"));
    }
}
