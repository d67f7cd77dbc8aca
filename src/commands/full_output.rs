//! `--full-output` in text mode: stdout's complete text to stdout, then stderr's to stderr, as
//! they are read, never whole in memory. Deciding what to read, and reading it in full for the
//! other formats, is the AWS provider's (provider/aws/output/complete.rs).

use std::io::{self, Write};

use tokio::time::Instant;

use crate::error::Error;
use crate::model::{Invocation, Stream};
use crate::provider::aws::output::ReadError;
use crate::provider::aws::output::complete::{StreamPlan, fallback_warning, plan, read_within};
use crate::provider::aws::output::reader::OutputReader;
use crate::render::stream_text::TextSink;
use crate::render::{Console, sanitize};

/// Text mode: stdout's complete text to stdout, then stderr's to stderr, as they are read
/// (exact bytes into a file or pipe, control characters made visible on a terminal). Returns
/// the warnings to print; a reader that closed the pipe ends it quietly.
pub async fn stream_text(
    reader: &OutputReader,
    inv: &Invocation,
    console: &Console,
    deadline: Option<Instant>,
) -> Result<Vec<String>, Error> {
    let mut warnings = Vec::new();
    for stream in [Stream::Stdout, Stream::Stderr] {
        let (writer, terminal): (Box<dyn Write>, bool) = match stream {
            Stream::Stdout => (Box::new(io::stdout()), console.stdout_is_terminal),
            Stream::Stderr => (Box::new(io::stderr()), console.stderr_is_terminal),
        };
        let content = inv.text(stream);
        let mut sink = TextSink::new(io::BufWriter::with_capacity(64 * 1024, writer), terminal);
        let wrote = match plan(inv, stream) {
            StreamPlan::Keep(warning) => {
                warnings.extend(warning);
                sink.write_chunk(content.as_bytes())
            }
            StreamPlan::Read(source) => {
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

/// One line each on stderr, remote text made safe.
pub fn print_warnings(warnings: &[String]) {
    let mut err = io::stderr().lock();
    for w in warnings {
        let _ = writeln!(err, "warning: {}", sanitize::one_line(w));
    }
}
