//! Turning an invocation into bytes. Renderers are pure: they fill buffers and never touch the
//! network or the terminal, so every format is tested without either.

pub mod json;
pub mod list;
pub mod result_set;
pub mod sanitize;
pub mod stream_text;
pub mod table;
pub mod text;
pub mod window;

use crate::cli::OutputFormat;
use crate::model::Invocation;

/// What the renderers need to know about where their bytes go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target {
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

pub fn render(format: OutputFormat, invocation: &Invocation, target: &Target) -> Rendered {
    match format {
        OutputFormat::Json => Rendered {
            stdout: json::render(invocation),
            stderr: Vec::new(),
        },
        OutputFormat::Jsonl => Rendered {
            stdout: json::render_lines(invocation.parts().into_iter().map(|p| &p.raw)),
            stderr: Vec::new(),
        },
        OutputFormat::Table => Rendered {
            stdout: table::render(invocation, target.color).into_bytes(),
            stderr: Vec::new(),
        },
        OutputFormat::Text => text::render(invocation, target),
    }
}
