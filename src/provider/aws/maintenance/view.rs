//! A maintenance window execution as `task-invocations` sees it: its tasks, each with its
//! invocations, and (when the whole execution is watched) its own status. The poll loop waits
//! on this like on one invocation: it is over when everything in it is.

use super::{TaskExecution, TaskInvocation, window_status_class};
use crate::fleet::Tally;
use crate::model::StatusClass;
use crate::poll::Observed;

/// One task run and its invocations. `task` is absent when only the invocations were asked
/// for (`--task-id` without `--wait` needs no task listing).
#[derive(Debug, Clone, Default)]
pub struct TaskGroup {
    pub task: Option<TaskExecution>,
    pub invocations: Vec<TaskInvocation>,
}

#[derive(Debug, Clone, Default)]
pub struct WindowView {
    /// The execution's own status; absent when a single task is watched.
    pub window_status: Option<String>,
    pub groups: Vec<TaskGroup>,
}

impl TaskGroup {
    pub fn task_id(&self) -> Option<&str> {
        self.task
            .as_ref()
            .and_then(|t| t.task_execution_id.as_deref())
    }

    /// A task that has ended and whose invocations have all ended cannot change any more.
    pub fn is_final(&self) -> bool {
        self.task.as_ref().is_some_and(|t| t.class().is_terminal())
            && self.invocations.iter().all(|i| i.class().is_terminal())
    }
}

impl WindowView {
    pub fn invocations(&self) -> impl Iterator<Item = &TaskInvocation> {
        self.groups.iter().flat_map(|g| g.invocations.iter())
    }

    pub fn tally(&self) -> Tally {
        Tally {
            finished: self
                .invocations()
                .filter(|i| i.class().is_terminal())
                .count(),
            failed: self
                .invocations()
                .filter(|i| i.class() == StatusClass::Failed)
                .count(),
            total: self.invocations().count(),
        }
    }

    /// Whether anything watched ended other than in SUCCESS: the execution, a task or an
    /// invocation (a task can fail with no invocation at all, when no target resolved).
    pub fn any_failed(&self) -> bool {
        let failed =
            |s: Option<&str>| window_status_class(s.unwrap_or_default()) == StatusClass::Failed;
        failed(self.window_status.as_deref())
            || self
                .groups
                .iter()
                .any(|g| g.task.as_ref().is_some_and(|t| failed(t.status.as_deref())))
            || self.invocations().any(|i| i.class() == StatusClass::Failed)
    }

    /// Keeps the invocations in one of `statuses` (all when empty); tasks stay, so that their
    /// headings still say what ran.
    pub fn retain_statuses(&mut self, statuses: &[String]) {
        if statuses.is_empty() {
            return;
        }
        for g in &mut self.groups {
            g.invocations.retain(|i| {
                i.status
                    .as_deref()
                    .is_some_and(|s| statuses.iter().any(|w| w == s))
            });
        }
    }
}

impl Observed for WindowView {
    fn is_terminal(&self) -> bool {
        self.window_status
            .as_deref()
            .is_none_or(|s| window_status_class(s).is_terminal())
            && self
                .groups
                .iter()
                .all(|g| g.task.as_ref().is_none_or(|t| t.class().is_terminal()))
            && self.invocations().all(|i| i.class().is_terminal())
    }

    fn status_line(&self) -> String {
        let t = self.tally();
        let tasks = self.groups.iter().filter(|g| g.task.is_some()).count();
        let tasks_ended = self
            .groups
            .iter()
            .filter(|g| g.task.as_ref().is_some_and(|t| t.class().is_terminal()))
            .count();
        let window = self
            .window_status
            .as_deref()
            .map(|s| format!("window {s} · "))
            .unwrap_or_default();
        format!(
            "{window}{} of {} invocations finished, {} failed · {tasks_ended} of {tasks} tasks ended",
            t.finished, t.total, t.failed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(status: &str) -> Option<TaskExecution> {
        Some(TaskExecution {
            task_execution_id: Some("t".into()),
            status: Some(status.into()),
            ..Default::default()
        })
    }

    fn inv(status: &str) -> TaskInvocation {
        TaskInvocation {
            status: Some(status.into()),
            ..Default::default()
        }
    }

    #[test]
    fn over_only_when_execution_tasks_and_invocations_all_are() {
        let mut view = WindowView {
            window_status: Some("IN_PROGRESS".into()),
            groups: vec![TaskGroup {
                task: task("SUCCESS"),
                invocations: vec![inv("SUCCESS")],
            }],
        };
        assert!(!view.is_terminal(), "the execution may still start tasks");
        view.window_status = Some("SUCCESS".into());
        assert!(view.is_terminal());
        assert!(!view.any_failed());
        view.groups.push(TaskGroup {
            task: task("IN_PROGRESS"),
            invocations: vec![inv("SUCCESS"), inv("CANCELLING")],
        });
        assert!(!view.is_terminal());
        assert!(!view.groups[1].is_final());
        assert_eq!(view.tally().finished, 2);
    }

    #[test]
    fn a_task_that_failed_without_invocations_is_a_failure() {
        let view = WindowView {
            window_status: None,
            groups: vec![TaskGroup {
                task: task("FAILED"),
                invocations: vec![],
            }],
        };
        assert!(view.is_terminal() && view.any_failed());
        assert!(view.groups[0].is_final());
    }

    #[test]
    fn skipped_overlapping_counts_as_failed() {
        let view = WindowView {
            window_status: None,
            groups: vec![TaskGroup {
                task: task("SUCCESS"),
                invocations: vec![inv("SUCCESS"), inv("SKIPPED_OVERLAPPING")],
            }],
        };
        assert!(view.is_terminal() && view.any_failed());
        assert_eq!(view.tally().failed, 1);
    }

    #[test]
    fn status_filter_keeps_tasks() {
        let mut view = WindowView {
            window_status: None,
            groups: vec![TaskGroup {
                task: task("FAILED"),
                invocations: vec![inv("SUCCESS"), inv("FAILED"), inv("TIMED_OUT")],
            }],
        };
        view.retain_statuses(&["FAILED".into(), "TIMED_OUT".into()]);
        assert_eq!(view.groups.len(), 1);
        assert_eq!(view.tally().total, 2);
    }
}
