//! `--full-output`: the complete stdout and stderr in place of what the service cut short.
//!
//! json, jsonl and table need the text in memory (json puts it in StandardOutputContent /
//! StandardErrorContent, the names jq scripts already use); text mode streams it to the
//! terminal or pipe as it is read. Whatever cannot be read (denied, missing, broken off) falls
//! back to the service's content with one warning line; it never changes the exit code.
//!
//! Only finished invocations are read: the agent writes its S3 objects when a step ends.

use std::io::{self, Write};

use tokio::time::Instant;

use crate::error::Error;
use crate::model::{Invocation, RawRecord};
use crate::provider::aws::output_reader::{OutputReader, ReadError};
use crate::provider::aws::output_sources::{self, STDERR_LIMIT, STDOUT_LIMIT, Source, Stream};
use crate::provider::aws::record::CommandInvocation;
use crate::render::stream_text::TextSink;
use crate::render::{Target, sanitize};

/// What to do with one stream.
enum Plan {
    /// Read it from here.
    Read(Source),
    /// Keep the service's content (complete, or nowhere else to look; the warning says which).
    Keep(Option<String>),
}

fn plan(inv: &Invocation, record: &CommandInvocation, stream: Stream) -> Plan {
    let cut = match stream {
        Stream::Stdout => &inv.stdout_cut,
        Stream::Stderr => &inv.stderr_cut,
    };
    if !inv.is_terminal() {
        return Plan::Keep(cut.as_ref().map(|_| {
            format!(
                "{}: the command has not finished, so its complete {} is not read",
                inv.instance_id,
                stream.name()
            )
        }));
    }
    let content = match stream {
        Stream::Stdout => inv.stdout(),
        Stream::Stderr => inv.stderr(),
    };
    // Nothing printed: nothing to read (the agent keeps no object or stream for it, and
    // looking would cost a call and, without s3:ListBucket, an AccessDenied).
    if content.is_empty() {
        return Plan::Keep(None);
    }
    match output_sources::source(record, stream) {
        // S3 is byte-exact, so reading it even when nothing was cut costs no fidelity.
        Some(source @ Source::S3(_)) => return Plan::Read(source),
        // CloudWatch keeps lines, not bytes (CRLF comes back as LF): when the service's
        // content is complete it is the better copy.
        Some(source @ Source::CloudWatch(_)) if cut.is_some() => return Plan::Read(source),
        Some(Source::CloudWatch(_)) => return Plan::Keep(None),
        None => {}
    }
    if let Some(url) = output_sources::unreadable_url(record, stream) {
        return Plan::Keep(Some(format!(
            "{}: the {} URL {url} is not an S3 location ssmres can read; showing what the \
             service returned",
            inv.instance_id,
            stream.name()
        )));
    }
    Plan::Keep(cut.as_ref().map(|_| {
        format!(
            "{}: {} was cut short by the service and no complete copy was kept (send commands \
             with an S3 bucket or CloudWatch output to keep it)",
            inv.instance_id,
            stream.name()
        )
    }))
}

fn fallback_warning(inv: &Invocation, stream: Stream, err: &ReadError) -> String {
    let limit = match stream {
        Stream::Stdout => STDOUT_LIMIT,
        Stream::Stderr => STDERR_LIMIT,
    };
    format!(
        "{}: complete {} not read ({}); showing what the service returned (at most {} \
         characters)",
        inv.instance_id,
        stream.name(),
        err.message(),
        group_thousands(limit)
    )
}

fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Replaces the service's content with the complete text in the record (which the invocation
/// reads its streams from), so every renderer shows it. Returns the warnings to print.
pub async fn complete(
    reader: &OutputReader,
    inv: &mut Invocation,
    deadline: Option<Instant>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let RawRecord::Aws(record) = &inv.raw else {
        return warnings;
    };
    let plans = [
        (Stream::Stdout, plan(inv, record, Stream::Stdout)),
        (Stream::Stderr, plan(inv, record, Stream::Stderr)),
    ];
    for (stream, plan) in plans {
        let source = match plan {
            Plan::Keep(warning) => {
                warnings.extend(warning);
                continue;
            }
            Plan::Read(source) => source,
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
        let current = match stream {
            Stream::Stdout => inv.stdout(),
            Stream::Stderr => inv.stderr(),
        };
        match read {
            Ok(_) => {}
            // No object and no log stream is how the agent keeps an empty stream.
            Err(ReadError::Missing(_)) if current.is_empty() => continue,
            Err(e) => {
                warnings.push(fallback_warning(inv, stream, &e));
                mark_unread(inv, stream);
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

/// The table's note then says the read failed instead of suggesting the flag again.
fn mark_unread(inv: &mut Invocation, stream: Stream) {
    let cut = match stream {
        Stream::Stdout => &mut inv.stdout_cut,
        Stream::Stderr => &mut inv.stderr_cut,
    };
    if let Some(cut) = cut {
        cut.unread = true;
    }
}

fn set_stream(inv: &mut Invocation, stream: Stream, text: String) {
    let RawRecord::Aws(record) = &mut inv.raw else {
        return;
    };
    match stream {
        Stream::Stdout => {
            record.standard_output_content = Some(text);
            inv.stdout_cut = None;
        }
        Stream::Stderr => {
            record.standard_error_content = Some(text);
            inv.stderr_cut = None;
        }
    }
}

/// Text mode: stdout's complete text to stdout, then stderr's to stderr, as they are read
/// (exact bytes into a file or pipe, control characters made visible on a terminal). Returns
/// the warnings to print; a reader that closed the pipe ends it quietly.
pub async fn stream_text(
    reader: &OutputReader,
    inv: &Invocation,
    target: &Target,
    deadline: Option<Instant>,
) -> Result<Vec<String>, Error> {
    let mut warnings = Vec::new();
    let RawRecord::Aws(record) = &inv.raw else {
        return Ok(warnings);
    };
    for stream in [Stream::Stdout, Stream::Stderr] {
        let (writer, terminal, content): (Box<dyn Write>, bool, &str) = match stream {
            Stream::Stdout => (
                Box::new(io::stdout()),
                target.stdout_is_terminal,
                inv.stdout(),
            ),
            Stream::Stderr => (
                Box::new(io::stderr()),
                target.stderr_is_terminal,
                inv.stderr(),
            ),
        };
        let mut sink = TextSink::new(io::BufWriter::with_capacity(64 * 1024, writer), terminal);
        let wrote = match plan(inv, record, stream) {
            Plan::Keep(warning) => {
                warnings.extend(warning);
                sink.write_chunk(content.as_bytes())
            }
            Plan::Read(source) => {
                let read = read_within(
                    deadline,
                    reader.read(&source, &mut |chunk: &[u8]| sink.write_chunk(chunk)),
                )
                .await;
                match read {
                    Ok(_) => Ok(()),
                    Err(ReadError::Output(e)) => Err(e),
                    Err(ReadError::Missing(_)) if content.is_empty() => Ok(()),
                    Err(e) if sink.bytes_in() == 0 => {
                        warnings.push(fallback_warning(inv, stream, &e));
                        sink.write_chunk(content.as_bytes())
                    }
                    Err(e) => {
                        warnings.push(format!(
                            "{}: complete {} cut short after {} bytes: {}",
                            inv.instance_id,
                            stream.name(),
                            sink.bytes_in(),
                            e.message()
                        ));
                        Ok(())
                    }
                }
            }
        };
        let finished = wrote.and_then(|()| sink.finish());
        match finished {
            Ok(summary) if summary.invalid_sequences > 0 => warnings.push(format!(
                "{}: {} is not valid UTF-8; invalid bytes are shown as U+FFFD",
                inv.instance_id,
                stream.name()
            )),
            Ok(_) => {}
            // `| head` closed stdout; stderr is another stream and still wants its text.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => continue,
            Err(e) => return Err(Error::Output(e)),
        }
    }
    Ok(warnings)
}

/// One read, within what is left of --timeout, the budget for the whole command: a read the
/// deadline interrupts is a failed read (the service's content, or what was streamed so far).
async fn read_within(
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

/// One line each on stderr, remote text made safe.
pub fn print_warnings(warnings: &[String]) {
    let mut err = io::stderr().lock();
    for w in warnings {
        let _ = writeln!(err, "warning: {}", sanitize::one_line(w));
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

    fn plan_for(inv: &Invocation, stream: Stream) -> Plan {
        let RawRecord::Aws(record) = &inv.raw else {
            panic!("not an AWS record");
        };
        plan(inv, record, stream)
    }

    const URL: &str = "https://s3.us-east-1.amazonaws.com/b/out/stdout";

    #[test]
    fn a_finished_invocation_is_read_from_its_source() {
        let inv = invocation("Success", "short\n", URL);
        assert!(matches!(
            plan_for(&inv, Stream::Stdout),
            Plan::Read(Source::S3(_))
        ));
        // No stderr URL, nothing cut: nothing to say.
        assert!(matches!(plan_for(&inv, Stream::Stderr), Plan::Keep(None)));
    }

    #[test]
    fn an_empty_stream_is_not_looked_up() {
        let inv = invocation("Success", "", URL);
        assert!(matches!(plan_for(&inv, Stream::Stdout), Plan::Keep(None)));
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
        assert!(matches!(plan_for(&whole, Stream::Stdout), Plan::Keep(None)));
        let cut = with_cloudwatch(&format!("{}--output truncated--", "x".repeat(23_980)));
        assert!(matches!(
            plan_for(&cut, Stream::Stdout),
            Plan::Read(Source::CloudWatch(_))
        ));
    }

    #[test]
    fn an_unfinished_invocation_is_not_read() {
        let inv = invocation("InProgress", "", URL);
        assert!(matches!(plan_for(&inv, Stream::Stdout), Plan::Keep(None)));
    }

    #[test]
    fn a_cut_stream_kept_nowhere_is_a_warning() {
        let inv = invocation("Failed", &"x".repeat(24_000), "");
        let Plan::Keep(Some(w)) = plan_for(&inv, Stream::Stdout) else {
            panic!("expected a warning");
        };
        assert!(w.contains("stdout was cut short by the service and no complete copy was kept"));
    }

    #[test]
    fn an_url_that_is_not_s3_is_a_warning() {
        let inv = invocation("Success", "x", "https://example.com/b/k");
        let Plan::Keep(Some(w)) = plan_for(&inv, Stream::Stdout) else {
            panic!("expected a warning");
        };
        assert!(w.contains("https://example.com/b/k is not an S3 location"));
    }

    #[test]
    fn limits_are_written_as_people_read_them() {
        assert_eq!(group_thousands(24_000), "24,000");
        assert_eq!(group_thousands(8_000), "8,000");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000_000), "1,000,000");
    }
}
