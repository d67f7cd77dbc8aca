//! An invocation's results on many instances, for a cloud that answers for all of them at
//! once (Alibaba Cloud Assistant): one row per instance, then each output as a whole section;
//! or the outputs alone under headers. Everything remote is sanitised.

use comfy_table::Cell;

use super::sanitize::{one_line, visible};
use super::{Console, OutputFormat, Rendered, Shape, json, list, table, text};
use crate::model::{Invocation, ResultSet};

/// The set in one format, with its warnings on stderr. json keeps the cloud's own envelope.
pub fn render(format: OutputFormat, set: &ResultSet, shape: Shape, console: &Console) -> Rendered {
    let mut rendered = match format {
        OutputFormat::Json => Rendered::stdout(json::render_value(&*set.json())),
        OutputFormat::Jsonl => {
            Rendered::stdout(json::render_lines(set.results.iter().map(|r| &*r.doc)))
        }
        OutputFormat::Table => {
            Rendered::stdout(table(set, shape.spans, shape.outputs, console.color).into_bytes())
        }
        OutputFormat::Text => text(set, shape.single, shape.spans, console),
    };
    rendered.stderr.extend(warning_lines(set));
    rendered
}

/// The `warning:` lines for stderr, one per note.
pub fn warning_lines(set: &ResultSet) -> Vec<u8> {
    let lines = warnings(set).into_iter();
    lines
        .flat_map(|w| format!("warning: {}\n", one_line(&w)).into_bytes())
        .collect()
}

/// Rows (with an Invocation column when they span several invocations, as `list` may), a
/// totals line, then with `outputs` each instance's output.
pub fn table(set: &ResultSet, with_invocation: bool, outputs: bool, color: bool) -> String {
    let mut t = table::new_table(color);
    let header = "Invocation|Instance|Status|Exit code|Error|Started|Finished|Repeats".split('|');
    // The Invocation column only when the rows may belong to several.
    t.set_header(header.skip(usize::from(!with_invocation)));
    let text = |v: &Option<String>| Cell::new(v.as_deref().map(one_line).unwrap_or_default());
    for r in &set.results {
        let mut row = Vec::new();
        if with_invocation {
            row.push(Cell::new(one_line(&r.command_id)));
        }
        let mut status = Cell::new(one_line(&r.status));
        if color {
            status = status.fg(table::status_color(r.class));
        }
        row.extend([
            Cell::new(one_line(&r.instance_id)),
            status,
            Cell::new(
                r.response_code
                    .filter(|_| r.is_terminal())
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            ),
            text(&r.status_details),
            text(&r.started),
            text(&r.ended),
            Cell::new(r.repeats.map(|n| n.to_string()).unwrap_or_default()),
        ]);
        t.add_row(row);
    }
    let mut out = t.to_string();
    out.push('\n');
    out.push_str(&list::count_words(
        set.results.iter().map(|r| r.status.clone()),
        "Success",
    ));
    out.push('\n');
    if outputs {
        for r in &set.results {
            let title = format!("{} · output", one_line(&r.instance_id));
            table::section(&mut out, &title, r.stdout(), r.is_terminal(), color);
            if let Some(note) = cut_note(r) {
                out.push_str(&format!("[cut short by the service: {note}]\n"));
            }
        }
    }
    out
}

/// "output truncated by N bytes", and where the whole output went, if it went anywhere.
fn cut_note(r: &Invocation) -> Option<String> {
    let dropped = r.dropped_bytes;
    if dropped == 0 {
        return None;
    }
    let mut note = format!("output truncated by {dropped} bytes");
    if let Some(place) = r.stdout_cut.as_ref().and_then(|c| c.rest_at.as_deref()) {
        note.push_str(&format!("; the complete output is in {}", visible(place)));
    }
    Some(note)
}

/// What the reader should know about the outputs shown: one line each, for stderr.
pub fn warnings(set: &ResultSet) -> Vec<String> {
    let notes = set
        .results
        .iter()
        .flat_map(|r| r.notes.iter().map(|n| (&r.instance_id, n)));
    notes.map(|(id, n)| format!("{id}: {n}")).collect()
}

/// One result's output as it is, when the caller named one instance; otherwise each output
/// under `== <invocation> · <instance> · <status> ==` (the invocation only when `list` spans
/// several).
pub fn text(set: &ResultSet, single: bool, with_invocation: bool, console: &Console) -> Rendered {
    if let ([only], true) = (set.results.as_slice(), single) {
        return text::render(only, console);
    }
    text::under_headers(
        set.results.iter().map(|r| {
            let header = if with_invocation {
                format!("{} · {} · {}", r.command_id, r.instance_id, r.status)
            } else {
                format!("{} · {}", r.instance_id, r.status)
            };
            (header, r.stdout(), r.stderr())
        }),
        console,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aliyun::record::InvocationResult;

    fn result(instance: &str, status: &str, output: &str, dropped: i64) -> Invocation {
        InvocationResult {
            invoke_id: Some("t-abc".into()),
            instance_id: Some(instance.into()),
            invocation_status: Some(status.into()),
            exit_code: Some(if status == "Success" { 0 } else { 1 }),
            output: Some(output.into()),
            dropped: Some(dropped),
            repeats: Some(1),
            error_code: (status == "Failed").then(|| "ExitCodeNonzero".into()),
            ..Default::default()
        }
        .into_invocation()
    }

    fn set(results: Vec<Invocation>) -> ResultSet {
        ResultSet {
            results,
            ..ResultSet::new(&crate::model::JsonArray)
        }
    }

    #[test]
    fn rows_then_totals_then_sanitised_sections() {
        let s = set(vec![
            result("i-one", "Success", "hi \x1b[31mred\x1b[0m\n", 0),
            result("i-two", "Failed", "", 2048),
            result("i-three", "Running", "", 0),
        ]);
        let out = table(&s, false, true, false);
        for needle in [
            "Instance",
            "Exit code",
            "Repeats",
            "ExitCodeNonzero",
            "1 Success, 1 Failed, 1 Running",
            "── i-one · output ──\nhi \\x1b[31mred\\x1b[0m\n",
            "── i-two · output ──\n(empty)\n[cut short by the service: output truncated by 2048 bytes]",
            "── i-three · output ──\n(no output yet: the command has not finished)",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in\n{out}");
        }
        assert!(!out.contains('\x1b'));
        assert!(!table(&s, false, false, false).contains("── i-one"));
    }

    #[test]
    fn warnings_name_the_instance() {
        let s = set(vec![result("i-two", "Failed", "", 10)]);
        assert_eq!(warnings(&s).len(), 1);
        assert!(warnings(&s)[0].starts_with("i-two: output truncated by 10 bytes"));
    }

    #[test]
    fn text_is_the_output_alone_for_one_named_instance() {
        let one = set(vec![result("i-one", "Success", "a\x1b", 0)]);
        assert_eq!(
            text(&one, true, false, &Console::default()).stdout,
            b"a\x1b"
        );
        let two = set(vec![
            result("i-one", "Success", "a", 0),
            result("i-two", "Failed", "b\n", 0),
        ]);
        assert_eq!(
            text(&two, false, false, &Console::default()).stdout,
            "== i-one · Success ==\na\n== i-two · Failed ==\nb\n".as_bytes()
        );
    }
}
