//! The provider-neutral view of one invocation. The poll loop and the table read this; the json
//! renderer prints `raw`, the provider's own record, so users' jq scripts see the cloud's shape.

use serde::Serialize;

/// What a status means, whatever the cloud calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// Not started on the node yet (queued, delayed, not delivered yet).
    Pending,
    /// Running, or a state we do not know: never treated as finished.
    Running,
    Success,
    /// Any terminal state other than success.
    Failed,
}

impl StatusClass {
    pub fn is_terminal(self) -> bool {
        matches!(self, StatusClass::Success | StatusClass::Failed)
    }
}

/// The provider's record exactly as its own CLI would print it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RawRecord {
    Aws(crate::provider::aws::record::CommandInvocation),
    AwsListed(crate::provider::aws::listing::ListedInvocation),
    Aliyun(Box<crate::provider::aliyun::record::InvocationResult>),
}

impl RawRecord {
    pub fn stdout(&self) -> &str {
        match self {
            RawRecord::Aws(r) => r.standard_output_content.as_deref().unwrap_or_default(),
            RawRecord::AwsListed(_) => "",
            // Cloud Assistant keeps one combined output.
            RawRecord::Aliyun(r) => r.output.as_deref().unwrap_or_default(),
        }
    }

    pub fn stderr(&self) -> &str {
        match self {
            RawRecord::Aws(r) => r.standard_error_content.as_deref().unwrap_or_default(),
            RawRecord::AwsListed(_) | RawRecord::Aliyun(_) => "",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Invocation {
    pub command_id: String,
    pub instance_id: String,
    pub plugin_name: Option<String>,
    pub document: Option<String>,
    /// The status word as the service sent it, unknown values included.
    pub status: String,
    pub status_details: Option<String>,
    pub class: StatusClass,
    pub response_code: Option<i64>,
    pub started: Option<String>,
    pub ended: Option<String>,
    pub elapsed: Option<String>,
    pub stdout_url: Option<String>,
    pub stderr_url: Option<String>,
    /// Set when the service returned only the beginning of the stream.
    pub stdout_cut: Option<Cut>,
    pub stderr_cut: Option<Cut>,
    pub raw: RawRecord,
    /// A document with several steps: each step's own result, in the document's order, once
    /// the invocation has ended (the fields above are then the invocation's as a whole).
    pub steps: Vec<Invocation>,
}

/// A stream the service cut short, and where its complete text is kept, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// "s3://bucket/key", a log group and its streams; None: kept nowhere we can name.
    pub rest_at: Option<String>,
    /// It cannot be read there: a URL ssmres does not understand, or --full-output tried and
    /// failed (a warning said why).
    pub unread: bool,
}

impl Invocation {
    pub fn is_terminal(&self) -> bool {
        self.class.is_terminal()
    }

    /// The command's stdout as the record holds it: one copy, however large (--full-output
    /// puts the complete text there).
    pub fn stdout(&self) -> &str {
        self.raw.stdout()
    }

    pub fn stderr(&self) -> &str {
        self.raw.stderr()
    }

    /// How many times the command ran (periodic tasks run many times); None where the cloud
    /// does not say.
    pub fn repeats(&self) -> Option<i64> {
        match &self.raw {
            RawRecord::Aliyun(r) => r.repeats,
            _ => None,
        }
    }

    /// A periodic task (or one run at every boot): it never ends by itself.
    pub fn is_periodic(&self) -> bool {
        match &self.raw {
            RawRecord::Aliyun(r) => r.is_periodic(),
            _ => false,
        }
    }

    /// Bytes of output the service discarded past its limit (the rest is lost unless it was
    /// delivered elsewhere, which `stdout_cut` names).
    pub fn dropped_bytes(&self) -> u64 {
        match &self.raw {
            RawRecord::Aliyun(r) => r.dropped.and_then(|d| u64::try_from(d).ok()).unwrap_or(0),
            _ => 0,
        }
    }

    /// The output could not be decoded as asked (Base64) and is shown as it came.
    pub fn output_was_undecoded(&self) -> bool {
        match &self.raw {
            RawRecord::Aliyun(r) => r.undecoded,
            _ => false,
        }
    }

    /// The output was not valid UTF-8 and is shown with U+FFFD in place of the bad bytes.
    pub fn output_was_lossy(&self) -> bool {
        match &self.raw {
            RawRecord::Aliyun(r) => r.lossy,
            _ => false,
        }
    }

    /// "InProgress (In Progress)", or just the status when the details add nothing.
    pub fn status_line(&self) -> String {
        match self.status_details.as_deref() {
            Some(d) if !d.is_empty() && d != self.status => format!("{} ({d})", self.status),
            _ => self.status.clone(),
        }
    }

    /// The result as separate records: each step of a multi-step invocation, or itself.
    pub fn parts(&self) -> Vec<&Invocation> {
        if self.steps.is_empty() {
            vec![self]
        } else {
            self.steps.iter().collect()
        }
    }

    /// What `--remote-exit-code` exits with: the remote command's code, or for several steps
    /// the first that is not 0.
    pub fn remote_exit_code(&self) -> u8 {
        if self.steps.is_empty() {
            remote_code(self.class, self.response_code)
        } else {
            first_non_zero(self.steps.iter().map(Invocation::remote_exit_code))
        }
    }
}

/// Success is 0; otherwise the code when a shell could exit with it, else 1 (-1: it never ran;
/// 0 with a failed status; codes past 255 from Windows).
pub fn remote_code(class: StatusClass, code: Option<i64>) -> u8 {
    if class == StatusClass::Success {
        return 0;
    }
    code.and_then(|c| u8::try_from(c).ok())
        .filter(|c| *c != 0)
        .unwrap_or(1)
}

pub fn first_non_zero(codes: impl IntoIterator<Item = u8>) -> u8 {
    codes.into_iter().find(|c| *c != 0).unwrap_or(0)
}

/// One invocation in a listing: less than `Invocation` (no full output; plugin output, when
/// asked for, is what the listing API returns, cut short by the service).
#[derive(Debug, Clone)]
pub struct ListEntry {
    pub instance_id: String,
    pub instance_name: Option<String>,
    pub status: String,
    pub status_details: Option<String>,
    pub class: StatusClass,
    pub plugins: Vec<PluginResult>,
    pub raw: RawRecord,
}

#[derive(Debug, Clone)]
pub struct PluginResult {
    pub name: String,
    pub status: String,
    pub response_code: Option<i64>,
    pub output: Option<String>,
}

impl ListEntry {
    pub fn status_line(&self) -> String {
        match self.status_details.as_deref() {
            Some(d) if !d.is_empty() && d != self.status => format!("{} ({d})", self.status),
            _ => self.status.clone(),
        }
    }

    /// The response code when there is one step, or the first non-zero one of several.
    pub fn response_code(&self) -> Option<i64> {
        let codes = self.plugins.iter().filter_map(|p| p.response_code);
        codes
            .clone()
            .find(|c| *c != 0)
            .or_else(|| codes.clone().next())
    }
}

/// Every per-instance result of one invocation, as a cloud that answers for all instances in
/// one query (Alibaba Cloud Assistant) returns them; what `wait` polls for that cloud.
#[derive(Debug, Clone, Default)]
pub struct ResultSet {
    /// In the service's order.
    pub results: Vec<Invocation>,
    /// The service's count of matching results (more than `results` when a listing stopped
    /// early).
    pub total_count: Option<u64>,
    /// Instances the caller named that have no result yet.
    pub missing: Vec<String>,
}

impl ResultSet {
    /// Every named instance is there and every result is final.
    pub fn is_terminal(&self) -> bool {
        !self.results.is_empty()
            && self.missing.is_empty()
            && self.results.iter().all(Invocation::is_terminal)
    }

    /// The first result of a periodic task, if any.
    pub fn periodic(&self) -> Option<&Invocation> {
        self.results.iter().find(|r| r.is_periodic())
    }

    pub fn finished(&self) -> usize {
        self.results.iter().filter(|r| r.is_terminal()).count()
    }

    /// `--remote-exit-code` for every instance: the first non-zero code, in the service's order.
    pub fn remote_exit_code(&self) -> u8 {
        first_non_zero(self.results.iter().map(Invocation::remote_exit_code))
    }

    pub fn all_succeeded(&self) -> bool {
        self.results.iter().all(|r| r.class == StatusClass::Success)
    }

    /// "Running", or "2 of 3 finished (1 Failed)" for several instances.
    pub fn status_line(&self) -> String {
        let total = self.results.len() + self.missing.len();
        if let ([only], true) = (self.results.as_slice(), self.missing.is_empty()) {
            return only.status_line();
        }
        let failed = self
            .results
            .iter()
            .filter(|r| r.class == StatusClass::Failed)
            .count();
        let mut line = format!("{} of {total} finished", self.finished());
        if failed > 0 {
            line.push_str(&format!(", {failed} failed"));
        }
        line
    }
}
