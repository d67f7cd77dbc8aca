//! The provider-neutral view of what a cloud answered. The poll loop, the renderers and the exit
//! code read the neutral fields; json prints `doc`, the cloud's own record, so users' jq
//! scripts see the cloud's shape. Nothing here knows which cloud it came from.

use std::any::Any;
use std::fmt::Debug;

/// What a status means, whatever the cloud calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusClass {
    /// Not started on the node yet (queued, delayed, not delivered yet).
    Pending,
    /// Running, or a state we do not know: never treated as finished.
    #[default]
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

/// A command's two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// A cloud's record exactly as its own CLI would print it, and where in it the command's
/// output is: one copy of the output, however large. The provider that made it reads it again
/// as `dyn Any`.
pub trait Document: erased_serde::Serialize + Any + Debug + Send + Sync {
    fn stdout(&self) -> &str {
        ""
    }
    fn stderr(&self) -> &str {
        ""
    }
}

erased_serde::serialize_trait_object!(Document);

/// No record at all: what an invocation holds until its provider gives it one.
#[derive(Debug, serde::Serialize)]
struct NoRecord;

impl Document for NoRecord {}

impl Default for Box<dyn Document> {
    fn default() -> Self {
        Box::new(NoRecord)
    }
}

/// How a cloud's json puts several records together: its own envelope, or a plain array.
pub trait Envelope: Debug + Send + Sync {
    fn wrap<'a>(
        &self,
        records: Vec<&'a dyn Document>,
        total_count: Option<u64>,
    ) -> Box<dyn erased_serde::Serialize + 'a>;
}

/// The records as one JSON array.
#[derive(Debug)]
pub struct JsonArray;

impl Envelope for JsonArray {
    fn wrap<'a>(
        &self,
        records: Vec<&'a dyn Document>,
        _: Option<u64>,
    ) -> Box<dyn erased_serde::Serialize + 'a> {
        Box::new(records)
    }
}

/// One invocation on one instance (or one step of it).
#[derive(Debug, Default)]
pub struct Invocation {
    /// What identifies the send: AWS's CommandId, Alibaba Cloud's InvokeId.
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
    /// How many times the command ran (periodic tasks run many times); None where the cloud
    /// does not say.
    pub repeats: Option<i64>,
    /// A periodic task waiting for its next run: it never ends by itself.
    pub periodic: bool,
    /// Bytes of output the service discarded past its limit.
    pub dropped_bytes: u64,
    /// What the reader should know about the output shown (cut, undecodable, not UTF-8), one
    /// line each, in the cloud's own terms.
    pub notes: Vec<String>,
    /// Seen through a listing: its status and steps, not its output (a multi-step invocation
    /// still running).
    pub status_only: bool,
    pub doc: Box<dyn Document>,
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

    /// The command's stdout as the record holds it (--full-output puts the complete text
    /// there).
    pub fn stdout(&self) -> &str {
        self.doc.stdout()
    }

    pub fn stderr(&self) -> &str {
        self.doc.stderr()
    }

    pub fn text(&self, stream: Stream) -> &str {
        match stream {
            Stream::Stdout => self.stdout(),
            Stream::Stderr => self.stderr(),
        }
    }

    pub fn cut(&self, stream: Stream) -> Option<&Cut> {
        match stream {
            Stream::Stdout => self.stdout_cut.as_ref(),
            Stream::Stderr => self.stderr_cut.as_ref(),
        }
    }

    pub fn cut_mut(&mut self, stream: Stream) -> &mut Option<Cut> {
        match stream {
            Stream::Stdout => &mut self.stdout_cut,
            Stream::Stderr => &mut self.stderr_cut,
        }
    }

    /// "InProgress (In Progress)", or just the status when the details add nothing.
    pub fn status_line(&self) -> String {
        status_line(&self.status, self.status_details.as_deref())
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

fn status_line(status: &str, details: Option<&str>) -> String {
    match details {
        Some(d) if !d.is_empty() && d != status => format!("{status} ({d})"),
        _ => status.to_owned(),
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
#[derive(Debug)]
pub struct ListEntry {
    pub instance_id: String,
    pub instance_name: Option<String>,
    pub status: String,
    pub status_details: Option<String>,
    pub class: StatusClass,
    pub plugins: Vec<PluginResult>,
    pub doc: Box<dyn Document>,
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
        status_line(&self.status, self.status_details.as_deref())
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

/// A command's invocations as a listing shows them, and how the cloud's json wraps them.
#[derive(Debug)]
pub struct Listing {
    pub entries: Vec<ListEntry>,
    pub envelope: &'static dyn Envelope,
}

/// Every per-instance result of one invocation (or of several, in a listing), as a cloud that
/// answers for all instances in one query returns them.
#[derive(Debug)]
pub struct ResultSet {
    /// In the service's order.
    pub results: Vec<Invocation>,
    /// The service's count of matching results (more than `results` when a listing stopped
    /// early).
    pub total_count: Option<u64>,
    /// Instances the caller named that have no result yet.
    pub missing: Vec<String>,
    pub envelope: &'static dyn Envelope,
}

impl ResultSet {
    pub fn new(envelope: &'static dyn Envelope) -> ResultSet {
        ResultSet {
            results: Vec::new(),
            total_count: None,
            missing: Vec::new(),
            envelope,
        }
    }

    /// Every named instance is there and every result is final.
    pub fn is_terminal(&self) -> bool {
        !self.results.is_empty()
            && self.missing.is_empty()
            && self.results.iter().all(Invocation::is_terminal)
    }

    /// The first result of a periodic task, if any.
    pub fn periodic(&self) -> Option<&Invocation> {
        self.results.iter().find(|r| r.periodic)
    }

    pub fn finished(&self) -> usize {
        self.results.iter().filter(|r| r.is_terminal()).count()
    }

    /// "Running", or "2 of 3 finished, 1 failed" for several instances.
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

    /// The json document: the cloud's envelope around every record.
    pub fn json(&self) -> Box<dyn erased_serde::Serialize + '_> {
        let records = self.results.iter().map(|r| &*r.doc).collect();
        self.envelope.wrap(records, self.total_count)
    }
}

/// What a command has to show: one invocation, a set of per-instance results, or a listing.
#[derive(Debug)]
pub enum Report {
    One(Box<Invocation>),
    Results(ResultSet),
    Listing(Listing),
}

/// What the exit code is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Everything shown has reached a final state.
    pub ended: bool,
    /// Everything shown ended in success.
    pub succeeded: bool,
    /// `--remote-exit-code`: the first non-zero remote code.
    pub remote_code: u8,
}

impl Report {
    pub fn verdict(&self) -> Verdict {
        match self {
            Report::One(inv) => Verdict {
                ended: inv.is_terminal(),
                succeeded: inv.class == StatusClass::Success,
                remote_code: inv.remote_exit_code(),
            },
            Report::Results(set) => Verdict {
                ended: set.is_terminal(),
                succeeded: set.results.iter().all(|r| r.class == StatusClass::Success),
                remote_code: first_non_zero(set.results.iter().map(Invocation::remote_exit_code)),
            },
            Report::Listing(_) => Verdict {
                ended: true,
                succeeded: true,
                remote_code: 0,
            },
        }
    }

    pub fn status_line(&self) -> String {
        match self {
            Report::One(inv) => inv.status_line(),
            Report::Results(set) => set.status_line(),
            Report::Listing(l) => format!("{} invocations", l.entries.len()),
        }
    }
}
