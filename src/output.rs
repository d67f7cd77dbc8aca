//! Where results go: terminal detection, the colour decision, and writing that treats a closed
//! pipe (`| head`) as the reader being done rather than as an error.

use std::io::{self, IsTerminal, Write};

use crate::error::Error;
use crate::render::{Console, Rendered};

pub fn detect_console() -> Console {
    let stdout_is_terminal = io::stdout().is_terminal();
    let stderr_is_terminal = io::stderr().is_terminal();
    // NO_COLOR (https://no-color.org): present and not empty disables colour.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Console {
        stdout_is_terminal,
        stderr_is_terminal,
        color: stdout_is_terminal && !no_color,
        stderr_color: stderr_is_terminal && !no_color,
    }
}

fn write_all(mut w: impl Write, bytes: &[u8]) -> Result<(), Error> {
    if bytes.is_empty() {
        return Ok(());
    }
    match w.write_all(bytes).and_then(|()| w.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::Output(e)),
        _ => Ok(()),
    }
}

/// Each stream is written in one piece, so an interrupted run never leaves half a document.
pub fn emit(rendered: &Rendered) -> Result<(), Error> {
    write_all(io::stdout().lock(), &rendered.stdout)?;
    write_all(io::stderr().lock(), &rendered.stderr)
}

/// Streams a large result (a fleet's JSON array) straight to stdout instead of building it in
/// memory first; a closed pipe ends it quietly, as in `emit`.
pub fn stream(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Error> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::Output(e)),
        _ => Ok(()),
    }
}
