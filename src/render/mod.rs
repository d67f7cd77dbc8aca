//! Turning a report into bytes. Renderers are pure: they fill buffers and never touch the
//! network or the terminal, so every format is tested without either; and they know no cloud:
//! json prints each record the way its cloud wrote it, the rest reads the neutral model.

pub mod json;
pub mod list;
pub mod result_set;
pub mod sanitize;
pub mod stream_text;
pub mod table;
pub mod text;

use clap::ValueEnum;

use crate::model::{Invocation, Report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Status fields in a table, then stdout and stderr as whole sections
    Table,
    /// The cloud's own records: as the aws CLI prints them, or with the Alibaba Cloud API's
    /// field names (Output decoded)
    Json,
    /// One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`
    Jsonl,
    /// The command's stdout on stdout and its stderr on stderr, nothing else
    Text,
}

/// What the renderers need to know about where their bytes go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Console {
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    /// Colour on stdout (results).
    pub color: bool,
    /// Colour on stderr (diagnostics).
    pub stderr_color: bool,
}

#[derive(Debug, Default)]
pub struct Rendered {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Rendered {
    pub fn stdout(stdout: Vec<u8>) -> Rendered {
        Rendered {
            stdout,
            stderr: Vec::new(),
        }
    }
}

/// How a set of results or a listing is to be shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    /// The caller named one instance: text mode prints its output alone.
    pub single: bool,
    /// The results may belong to several invocations (a listing): say which.
    pub spans: bool,
    /// The table shows each output after the rows (`get` and `wait`; a listing shows rows).
    pub outputs: bool,
    /// A listing's table shows each invocation's code and the first line of its output.
    pub details: bool,
}

pub fn report(format: OutputFormat, report: &Report, shape: Shape, console: &Console) -> Rendered {
    match report {
        Report::One(inv) => one(format, inv, console),
        Report::Results(set) => result_set::render(format, set, shape, console),
        Report::Listing(listing) => list::render(format, listing, shape.details, console),
    }
}

/// One invocation (with its steps).
pub fn one(format: OutputFormat, invocation: &Invocation, console: &Console) -> Rendered {
    match format {
        OutputFormat::Json => Rendered::stdout(json::render(invocation)),
        OutputFormat::Jsonl => Rendered::stdout(json::render_lines(
            invocation.parts().into_iter().map(|p| &*p.doc),
        )),
        OutputFormat::Table => {
            Rendered::stdout(table::render(invocation, console.color).into_bytes())
        }
        OutputFormat::Text => text::render(invocation, console),
    }
}
