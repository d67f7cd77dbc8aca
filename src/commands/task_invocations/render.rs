//! Maintenance window task invocations for people and for scripts. json is the service's
//! records (plus, with --with-output, the `get` record of each Run Command invocation behind
//! them); the table is one per task; text is the commands' output under headers.

use std::collections::BTreeMap;

use comfy_table::Cell;
use serde::Serialize;

use crate::model::{Document, Invocation};
use crate::provider::aws::maintenance::view::WindowView;
use crate::provider::aws::maintenance::{TaskExecution, TaskInvocation, window_status_class};
use crate::provider::aws::timestamp::EpochTime;
use crate::render::sanitize::{one_line, visible};
use crate::render::text::under_headers;
use crate::render::{Console, Rendered, json, list, table as tables};

/// Outputs by InvocationId.
pub type Outputs = BTreeMap<String, Vec<Invocation>>;

/// One identity as the service sent it, then its commands' results when they were asked for.
#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    identity: &'a TaskInvocation,
    #[serde(rename = "CommandInvocations", skip_serializing_if = "Option::is_none")]
    command_invocations: Option<Vec<&'a dyn Document>>,
}

/// `CommandInvocations` only where the outputs were resolved: absent means "not fetched",
/// an empty array "the command lists none".
fn shown<'a>(view: &'a WindowView, outputs: &'a Outputs) -> Vec<Shown<'a>> {
    view.invocations()
        .map(|identity| Shown {
            identity,
            command_invocations: identity
                .invocation_id
                .as_ref()
                .filter(|_| identity.command_id().is_some())
                .and_then(|id| outputs.get(id))
                .map(|v| v.iter().map(|i| &*i.doc).collect()),
        })
        .collect()
}

/// A JSON array of WindowExecutionTaskInvocationIdentity objects, the aws CLI's layout.
pub fn json(view: &WindowView, outputs: &Outputs) -> Vec<u8> {
    json::render_value(&shown(view, outputs))
}

pub fn jsonl(view: &WindowView, outputs: &Outputs) -> Vec<u8> {
    json::render_lines(shown(view, outputs).iter())
}

fn status_color(status: Option<&str>) -> comfy_table::Color {
    tables::status_color(window_status_class(status.unwrap_or_default()))
}

fn cell(value: Option<&str>) -> Cell {
    Cell::new(one_line(value.unwrap_or_default()))
}

fn time(t: Option<EpochTime>) -> Cell {
    Cell::new(t.map(|t| t.short()).unwrap_or_default())
}

fn heading(task: &TaskExecution) -> String {
    let mut parts = vec![format!(
        "Task {}",
        task.task_execution_id.as_deref().unwrap_or("?")
    )];
    parts.extend(task.task_type.clone());
    let status = task.status.clone().unwrap_or_default();
    parts.push(match task.status_details.as_deref() {
        Some(d) if !d.is_empty() && d != status => format!("{status} ({d})"),
        _ => status,
    });
    parts.extend(task.task_arn.clone());
    one_line(&parts.join(" · "))
}

/// A table per task (a heading names it when it was listed), the totals, then with outputs
/// each Run Command result as `get` shows it. Parameters may hold secrets: shown only with -v.
pub fn table(view: &WindowView, outputs: &Outputs, parameters: bool, color: bool) -> String {
    let mut out = String::new();
    if view.groups.is_empty() {
        out.push_str("no tasks in this window execution\n");
    }
    for group in &view.groups {
        if let Some(task) = &group.task {
            out.push_str(&heading(task));
            out.push('\n');
        }
        if group.invocations.is_empty() {
            out.push_str("(no invocations)\n\n");
            continue;
        }
        let mut table = tables::new_table(color);
        let mut header = vec![
            "Invocation",
            "Execution",
            "Type",
            "Status",
            "Details",
            "Started",
            "Ended",
            "Target",
            "Owner",
        ];
        if parameters {
            header.push("Parameters");
        }
        table.set_header(header);
        for inv in &group.invocations {
            let mut status = cell(inv.status.as_deref());
            if color {
                status = status.fg(status_color(inv.status.as_deref()));
            }
            let mut row = vec![
                cell(inv.invocation_id.as_deref()),
                cell(inv.execution_id.as_deref()),
                cell(inv.task_type.as_deref()),
                status,
                cell(inv.status_details.as_deref()),
                time(inv.start_time),
                time(inv.end_time),
                cell(inv.window_target_id.as_deref()),
                cell(inv.owner_information.as_deref()),
            ];
            if parameters {
                // Whole, not folded: parameters are JSON that people read.
                row.push(Cell::new(visible(
                    inv.parameters.as_deref().unwrap_or_default(),
                )));
            }
            table.add_row(row);
        }
        out.push_str(&table.to_string());
        out.push_str("\n\n");
    }
    let words = view
        .invocations()
        .map(|i| i.status.clone().unwrap_or_default());
    out.push_str(&list::count_words(words, "SUCCESS"));
    out.push('\n');

    for inv in view.invocations() {
        let Some(results) = inv.invocation_id.as_ref().and_then(|id| outputs.get(id)) else {
            continue;
        };
        for result in results {
            out.push('\n');
            out.push_str(&one_line(&format!(
                "Invocation {} → command {} on {}",
                inv.invocation_id.as_deref().unwrap_or_default(),
                result.command_id,
                result.instance_id
            )));
            out.push('\n');
            out.push_str(&tables::render(result, color));
        }
    }
    out
}

/// Each Run Command result's stdout on stdout and stderr on stderr, under one header naming
/// the task invocation and the instance; other task types get their header alone.
pub fn text(view: &WindowView, outputs: &Outputs, console: &Console) -> Rendered {
    let items = view.invocations().flat_map(|inv| {
        let id = inv.invocation_id.as_deref().unwrap_or_default();
        let results = outputs.get(id).map(Vec::as_slice).unwrap_or_default();
        let alone = results.is_empty().then(|| {
            let kind = inv.task_type.as_deref().unwrap_or_default();
            let status = inv.status.as_deref().unwrap_or_default();
            (format!("{id} · {kind} · {status}"), "", "")
        });
        let each = results.iter().map(move |r| {
            // Name the step only for documents with several (one result per step).
            let steps = results
                .iter()
                .filter(|o| o.instance_id == r.instance_id)
                .count();
            let step = r
                .plugin_name
                .as_deref()
                .filter(|_| steps > 1)
                .map(|p| format!(" · {p}"))
                .unwrap_or_default();
            let header = format!("{id} · {}{step} · {}", r.instance_id, r.status_line());
            (header, r.stdout(), r.stderr())
        });
        alone.into_iter().chain(each)
    });
    under_headers(items, console)
}
