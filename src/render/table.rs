//! For people at a terminal: the status fields in a table, then stdout and stderr as whole
//! sections (24,000 characters do not belong in a cell). Everything remote is sanitised.

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::sanitize::visible;
use crate::model::{Cut, Invocation, StatusClass, Stream};

const MIN_WRAP_WIDTH: u16 = 40;

pub fn status_color(class: StatusClass) -> Color {
    match class {
        StatusClass::Success => Color::Green,
        StatusClass::Failed => Color::Red,
        StatusClass::Pending | StatusClass::Running => Color::Yellow,
    }
}

pub fn section(out: &mut String, title: &str, body: &str, finished: bool, color: bool) {
    let header = format!("── {title} ──");
    if color {
        let bold = anstyle::Style::new().bold();
        out.push_str(&format!("{bold}{header}{bold:#}\n"));
    } else {
        out.push_str(&header);
        out.push('\n');
    }
    if body.is_empty() {
        out.push_str(if finished {
            "(empty)\n"
        } else {
            "(no output yet: the command has not finished)\n"
        });
        return;
    }
    out.push_str(&visible(body));
    if !body.ends_with('\n') {
        out.push('\n');
    }
}

/// Says that a section is only the beginning, and where the rest is.
fn cut_note(out: &mut String, stream: &str, cut: Option<&Cut>) {
    let Some(cut) = cut else { return };
    let note = match &cut.rest_at {
        Some(place) if cut.unread => format!(
            "[cut short by the service: the complete {stream} is in {}, which ssmres could not \
             read]",
            visible(place)
        ),
        Some(place) => format!(
            "[cut short by the service: the complete {stream} is in {}; --full-output reads it]",
            visible(place)
        ),
        None => format!(
            "[cut short by the service: the complete {stream} was not kept; send commands with \
             an S3 bucket or CloudWatch output to keep it]"
        ),
    };
    out.push_str(&note);
    out.push('\n');
}

/// The one table style: condensed UTF-8 lines, wrapped to a real terminal's width.
pub fn new_table(color: bool) -> Table {
    let mut table = Table::new();
    // Wrap to the terminal's width, but only a real one: a pty that reports no size (`script`,
    // some CI runners) says 0 columns, and squeezing to that prints one letter per line.
    table.load_style(presets::UTF8_FULL_CONDENSED);
    if table.width().is_some_and(|w| w >= MIN_WRAP_WIDTH) {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    if color {
        table.enforce_styling();
    }
    table
}

/// The status, coloured by what it means when colour is on.
fn status_cell(inv: &Invocation, color: bool) -> Cell {
    let cell = Cell::new(visible(&inv.status_line()));
    if color {
        cell.fg(status_color(inv.class))
    } else {
        cell
    }
}

/// One invocation: its fields as rows (a document with several steps: a row per step in a
/// second table), then stdout and stderr (each step's, under its name) as whole sections.
pub fn render(inv: &Invocation, color: bool) -> String {
    let mut table = new_table(color);
    let mut row = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            table.add_row(vec![Cell::new(name), Cell::new(visible(v))]);
        }
    };
    row("Command", Some(&inv.command_id));
    row("Instance", Some(&inv.instance_id));
    row("Document", inv.document.as_deref());
    row("Plugin", inv.plugin_name.as_deref());
    table.add_row(vec![Cell::new("Status"), status_cell(inv, color)]);
    if !inv.steps.is_empty() {
        return render_steps(table, inv, color);
    }
    let code = inv.response_code.filter(|_| inv.is_terminal());
    for (name, value) in [
        ("Response code", code.map(|c| c.to_string())),
        ("Started", inv.started.clone()),
        ("Ended", inv.ended.clone()),
        ("Elapsed", inv.elapsed.clone()),
        ("Stdout URL", inv.stdout_url.clone()),
        ("Stderr URL", inv.stderr_url.clone()),
    ] {
        if let Some(v) = value {
            table.add_row(vec![Cell::new(name), Cell::new(visible(&v))]);
        }
    }
    let mut out = format!("{table}\n");
    for stream in [Stream::Stdout, Stream::Stderr] {
        let name = stream.name();
        section(&mut out, name, inv.text(stream), inv.is_terminal(), color);
        cut_note(&mut out, name, inv.cut(stream));
    }
    out
}

fn render_steps(head: Table, inv: &Invocation, color: bool) -> String {
    let mut steps = new_table(color);
    steps.set_header(vec!["Step", "Status", "Response code", "Started", "Ended"]);
    for step in &inv.steps {
        let text = |v: &Option<String>| Cell::new(visible(v.as_deref().unwrap_or_default()));
        let code = step.response_code.map(|c| c.to_string());
        steps.add_row(vec![
            text(&step.plugin_name),
            status_cell(step, color),
            text(&code),
            text(&step.started),
            text(&step.ended),
        ]);
    }
    let mut out = format!("{head}\n{steps}\n");
    for step in &inv.steps {
        let name = super::sanitize::one_line(step.plugin_name.as_deref().unwrap_or_default());
        for stream in [Stream::Stdout, Stream::Stderr] {
            let title = format!("{name} · {}", stream.name());
            section(
                &mut out,
                &title,
                step.text(stream),
                step.is_terminal(),
                color,
            );
            cut_note(&mut out, stream.name(), step.cut(stream));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::record::CommandInvocation;

    fn record(status: &str, details: &str, stdout: &str) -> Invocation {
        CommandInvocation {
            command_id: Some("32d70fe0-ddbc-4a4e-943f-ffcbc0123456".into()),
            instance_id: Some("i-02573cafcf0123456".into()),
            document_name: Some("AWS-RunShellScript".into()),
            plugin_name: Some("aws:runShellScript".into()),
            response_code: Some(2),
            status: Some(status.into()),
            status_details: Some(details.into()),
            standard_output_content: Some(stdout.into()),
            standard_output_url: Some("https://s3.amazonaws.com/b/k/stdout".into()),
            ..Default::default()
        }
        .into_invocation()
    }

    #[test]
    fn shows_fields_and_whole_output_sections() {
        let long: String = "0123456789\n".repeat(2200);
        let out = render(&record("Failed", "Failed", &long), false);
        for needle in [
            "32d70fe0-ddbc-4a4e-943f-ffcbc0123456",
            "i-02573cafcf0123456",
            "AWS-RunShellScript",
            "aws:runShellScript",
            "Failed",
            "Response code",
            "https://s3.amazonaws.com/b/k/stdout",
            "── stdout ──",
            "── stderr ──\n(empty)",
        ] {
            assert!(out.contains(needle), "missing {needle:?}");
        }
        assert!(out.contains(&long), "the whole stdout is printed as it is");
    }

    #[test]
    fn never_writes_raw_control_characters() {
        let out = render(
            &record("Success", "Success", "\x1b[2J\x1b]0;pwned\x07ok\rX\r\n"),
            false,
        );
        assert!(!out.contains('\x1b') && !out.contains('\x07') && !out.contains('\r'));
        assert!(out.contains("\\x1b[2J\\x1b]0;pwned\\x07ok\\rX\n"));
    }

    #[test]
    fn unfinished_runs_say_why_output_is_empty() {
        let out = render(&record("InProgress", "In Progress", ""), false);
        assert!(out.contains("(no output yet: the command has not finished)"));
        assert!(out.contains("InProgress (In Progress)"));
        assert!(
            !out.contains("Response code"),
            "no exit code before the end"
        );
    }

    #[test]
    fn a_cut_section_says_where_the_rest_is() {
        let cut = format!("{}--output truncated--", "x".repeat(23_980));
        let out = render(&record("Success", "Success", &cut), false);
        assert!(out.contains(
            "--output truncated--\n[cut short by the service: the complete stdout is in \
             s3://b/k/stdout; --full-output reads it]\n── stderr ──"
        ));
        let short = render(&record("Success", "Success", "all of it\n"), false);
        assert!(!short.contains("cut short"));
    }

    #[test]
    fn a_cut_section_that_could_not_be_read_does_not_suggest_the_flag_again() {
        let cut = format!("{}--output truncated--", "x".repeat(23_980));
        let mut inv = record("Success", "Success", &cut);
        if let Some(c) = inv.stdout_cut.as_mut() {
            c.unread = true;
        }
        let out = render(&inv, false);
        assert!(out.contains(
            "[cut short by the service: the complete stdout is in s3://b/k/stdout, which ssmres \
             could not read]"
        ));
        assert!(!out.contains("--full-output reads it"));
    }

    #[test]
    fn a_cut_section_kept_nowhere_says_so() {
        let mut inv = CommandInvocation {
            status: Some("Failed".into()),
            standard_error_content: Some("e".repeat(8_000)),
            ..Default::default()
        };
        inv.standard_output_url = None;
        let out = render(&inv.into_invocation(), false);
        assert!(out.contains(
            "[cut short by the service: the complete stderr was not kept; send commands with \
             an S3 bucket or CloudWatch output to keep it]"
        ));
        assert!(!out.contains("complete stdout"));
    }

    #[test]
    fn colour_only_when_asked() {
        assert!(!render(&record("Success", "Success", "x"), false).contains('\x1b'));
        assert!(render(&record("Success", "Success", "x"), true).contains('\x1b'));
    }
}
