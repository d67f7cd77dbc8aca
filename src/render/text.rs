//! The command's own streams and nothing else, so `ssmres wait … -o text > out.log` behaves like
//! running the command locally. Bytes are exact when a stream goes to a file or a pipe; on a
//! terminal control characters are made visible like everywhere else.

use super::sanitize::visible;
use super::{Console, Rendered};
use crate::model::Invocation;

fn stream(text: &str, to_terminal: bool) -> Vec<u8> {
    if to_terminal {
        visible(text).into_owned().into_bytes()
    } else {
        text.as_bytes().to_vec()
    }
}

/// The streams; for several steps, each step's stdout in order, and their stderr likewise.
pub fn render(invocation: &Invocation, console: &Console) -> Rendered {
    let parts = invocation.parts();
    let joined = |pick: fn(&Invocation) -> &str| -> String {
        parts.iter().map(|p| pick(p)).collect::<Vec<_>>().concat()
    };
    Rendered {
        stdout: stream(&joined(Invocation::stdout), console.stdout_is_terminal),
        stderr: stream(&joined(Invocation::stderr), console.stderr_is_terminal),
    }
}

/// Several results, each under `== HEADER ==`: its stdout on stdout, and its stderr (when it
/// has any) under the same header on stderr, so `grep '^== i-0abc'` finds both.
pub fn under_headers<'a>(
    items: impl IntoIterator<Item = (String, &'a str, &'a str)>,
    console: &Console,
) -> Rendered {
    let mut stdout = String::new();
    let mut stderr = String::new();
    for (header, out, err) in items {
        let header = format!("== {header} ==\n");
        stdout.push_str(&header);
        push_body(&mut stdout, out);
        if !err.is_empty() {
            stderr.push_str(&header);
            push_body(&mut stderr, err);
        }
    }
    Rendered {
        stdout: stream(&stdout, console.stdout_is_terminal),
        stderr: stream(&stderr, console.stderr_is_terminal),
    }
}

fn push_body(out: &mut String, body: &str) {
    out.push_str(body);
    if !body.is_empty() && !body.ends_with('\n') {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::record::CommandInvocation;

    fn invocation() -> Invocation {
        CommandInvocation {
            status: Some("Success".into()),
            standard_output_content: Some("out \x1b[31m\r\n".into()),
            standard_error_content: Some("err\r".into()),
            ..Default::default()
        }
        .into_invocation()
    }

    #[test]
    fn exact_bytes_when_redirected() {
        let r = render(&invocation(), &Console::default());
        assert_eq!(r.stdout, b"out \x1b[31m\r\n");
        assert_eq!(r.stderr, b"err\r");
    }

    #[test]
    fn visible_controls_on_a_terminal() {
        let console = Console {
            stdout_is_terminal: true,
            stderr_is_terminal: true,
            color: false,
            stderr_color: false,
        };
        let r = render(&invocation(), &console);
        assert_eq!(r.stdout, b"out \\x1b[31m\n");
        assert_eq!(r.stderr, b"err\\r");
    }
}
