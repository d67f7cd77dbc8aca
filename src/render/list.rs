//! Listings (`ssmres list`) for people: one row per instance and totals in a table, or each
//! instance's output under a header in text. Remote text is sanitised like everywhere else.

use std::collections::HashMap;

use comfy_table::Cell;

use super::sanitize::one_line;
use super::{Console, OutputFormat, Rendered, json};
use crate::model::{ListEntry, Listing};

const OUTPUT_CAP_NOTE: &str = "Output: each step's first 2,500 characters, as ListCommandInvocations \
                               returns it; `ssmres get` shows up to 24,000.";

/// "3 Success, 1 Failed, 1 Undeliverable": by the most precise word the service gave.
pub fn totals(entries: &[ListEntry]) -> String {
    count_words(
        entries.iter().map(|e| {
            e.status_details
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| e.status.clone())
        }),
        "Success",
    )
}

/// "3 SUCCESS, 1 FAILED": how many of each word, `success` first, then the most frequent;
/// "no invocations" for none.
pub fn count_words(words: impl Iterator<Item = String>, success: &str) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for word in words {
        match index.get(&word) {
            Some(&i) => counts[i].1 += 1,
            None => {
                index.insert(word.clone(), counts.len());
                counts.push((word, 1));
            }
        }
    }
    // Success first, then by count, so the line reads the same way every time.
    counts.sort_by(|a, b| (b.0 == success).cmp(&(a.0 == success)).then(b.1.cmp(&a.1)));
    if counts.is_empty() {
        return "no invocations".to_owned();
    }
    counts
        .iter()
        .map(|(w, n)| format!("{n} {}", one_line(w)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_line(entry: &ListEntry) -> String {
    let text = entry
        .plugins
        .iter()
        .filter_map(|p| p.output.as_deref())
        .find(|o| !o.trim().is_empty())
        .unwrap_or_default();
    one_line(
        text.lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default(),
    )
}

/// A listing in one format: json in the cloud's envelope, a row per invocation, or each
/// invocation's (cut) output under a header.
pub fn render(
    format: OutputFormat,
    listing: &Listing,
    details: bool,
    console: &Console,
) -> Rendered {
    let docs = || listing.entries.iter().map(|e| &*e.doc);
    match format {
        OutputFormat::Json => Rendered::stdout(json::render_value(
            &*listing.envelope.wrap(docs().collect(), None),
        )),
        OutputFormat::Jsonl => Rendered::stdout(json::render_lines(docs())),
        OutputFormat::Table => {
            Rendered::stdout(table(&listing.entries, details, console.color).into_bytes())
        }
        OutputFormat::Text => text(&listing.entries, console),
    }
}

pub fn table(entries: &[ListEntry], details: bool, color: bool) -> String {
    let mut table = super::table::new_table(color);
    let mut header = vec!["Instance", "Status"];
    if details {
        header.extend(["Code", "Output (first line)"]);
    }
    table.set_header(header);
    for e in entries {
        let instance = match &e.instance_name {
            Some(name) => format!("{} ({})", e.instance_id, name),
            None => e.instance_id.clone(),
        };
        let mut status = Cell::new(one_line(&e.status_line()));
        if color {
            status = status.fg(super::table::status_color(e.class));
        }
        let mut row = vec![Cell::new(one_line(&instance)), status];
        if details {
            let code = e.response_code().filter(|_| e.class.is_terminal());
            row.push(Cell::new(code.map(|c| c.to_string()).unwrap_or_default()));
            row.push(Cell::new(first_line(e)));
        }
        table.add_row(row);
    }
    let mut out = table.to_string();
    out.push('\n');
    out.push_str(&totals(entries));
    out.push('\n');
    if details {
        out.push_str(OUTPUT_CAP_NOTE);
        out.push('\n');
    }
    out
}

/// Each step's (cut) output under a header naming the instance, the step and its status, so
/// that `grep '^== i-0abc'` finds every part of one instance's output; an invocation with no
/// step yet gets its header alone.
pub fn text(entries: &[ListEntry], console: &Console) -> Rendered {
    let items = entries.iter().flat_map(|e| {
        let alone = e
            .plugins
            .is_empty()
            .then(|| (format!("{} · {}", e.instance_id, e.status_line()), "", ""));
        let steps = e.plugins.iter().map(|p| {
            let header = format!("{} · {} · {}", e.instance_id, p.name, p.status);
            (header, p.output.as_deref().unwrap_or_default(), "")
        });
        alone.into_iter().chain(steps)
    });
    super::text::under_headers(items, console)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::listing::{CommandPlugin, ListedInvocation};

    fn entry(id: &str, status: &str, details: &str, output: Option<&str>) -> ListEntry {
        ListedInvocation {
            instance_id: Some(id.into()),
            status: Some(status.into()),
            status_details: Some(details.into()),
            command_plugins: output.map(|o| {
                vec![CommandPlugin {
                    name: Some("aws:runShellScript".into()),
                    status: Some(status.into()),
                    response_code: Some(if status == "Success" { 0 } else { 2 }),
                    output: Some(o.into()),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        }
        .into_entry()
    }

    #[test]
    fn totals_use_the_most_precise_word_success_first() {
        let entries = vec![
            entry("i-00000001", "Failed", "Failed", None),
            entry("i-00000002", "Success", "Success", None),
            entry("i-00000003", "Failed", "Undeliverable", None),
            entry("i-00000004", "Success", "Success", None),
            entry("i-00000005", "Success", "Success", None),
        ];
        assert_eq!(totals(&entries), "3 Success, 1 Failed, 1 Undeliverable");
        assert_eq!(totals(&[]), "no invocations");
    }

    #[test]
    fn table_rows_show_code_and_first_output_line_sanitised() {
        let entries = vec![
            entry(
                "i-00000001",
                "Success",
                "Success",
                Some("\n\x1b[31mhello\x1b[0m\nmore\n"),
            ),
            entry("i-00000002", "Failed", "Failed", Some("boom")),
            entry("i-00000003", "InProgress", "In Progress", Some("")),
        ];
        let out = table(&entries, true, false);
        assert!(
            out.contains("\\x1b[31mhello\\x1b[0m") && !out.contains('\x1b'),
            "{out}"
        );
        assert!(!out.contains("more"), "only the first line");
        assert!(out.contains("boom") && out.contains("InProgress (In Progress)"));
        assert!(out.contains("1 Success, 1 Failed, 1 In Progress"));
        assert!(out.contains("2,500 characters"));
        assert!(
            !table(&entries, false, false).contains("2,500"),
            "no note without output"
        );
    }

    #[test]
    fn text_puts_each_output_under_its_instance() {
        let entries = vec![
            entry("i-00000001", "Success", "Success", Some("one\n")),
            entry("i-00000002", "Failed", "Failed", Some("two")),
        ];
        let out = text(&entries, &Console::default());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "== i-00000001 · aws:runShellScript · Success ==\none\n\
             == i-00000002 · aws:runShellScript · Failed ==\ntwo\n"
        );
    }
}
