//! What `run` asks a cloud to send, and what a send gives back, in neutral terms: each provider
//! turns a `RunRequest` into its own call (AWS SendCommand, Alibaba Cloud RunCommand), checks it
//! against that call's limits, and answers with a `Sent`.
//!
//! Sending changes remote state and is not idempotent: a request carries a `mark`, unique to
//! this run, by which a send whose outcome is unknown can be found again (AWS: in its Comment)
//! or deduplicated by the service (Alibaba Cloud: its ClientToken).

use clap::ValueEnum;

use super::contract::Subject;
use crate::model::Document;

/// The interpreter of what is sent: which document (AWS) or command type (Alibaba Cloud).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Shell {
    /// A shell script (AWS-RunShellScript; aliyun: RunShellScript)
    #[default]
    Sh,
    /// A PowerShell script (AWS-RunPowerShellScript; aliyun: RunPowerShellScript)
    Powershell,
    /// A batch file (aliyun: RunBatScript; AWS has no such document)
    Bat,
}

/// One `--target`: a key and its values, as SendCommand's `Targets` take them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub key: String,
    pub values: Vec<String>,
}

/// Who runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// These managed nodes (instances), by ID.
    Instances(Vec<String>),
    /// Whatever the service resolves these targets to (tags, resource groups, …).
    Targets(Vec<TargetSpec>),
}

/// What runs, as the user gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// One command line (the words after `--`, joined by spaces, as `ssh host cmd` joins them).
    Line(String),
    /// A local script's bytes, sent as the command's lines.
    File(Vec<u8>),
}

impl Script {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Script::Line(line) => line.as_bytes(),
            Script::File(bytes) => bytes,
        }
    }
}

/// Everything a send needs, whichever the cloud. Cloud-specific fields are ignored by the
/// other cloud (the command line refuses them before a request is built).
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub recipients: Recipients,
    /// None: a document that needs no command (`--document` with its own parameters).
    pub script: Option<Script>,
    pub shell: Shell,
    /// AWS: a document other than the shell's (`--document`), and its version.
    pub document: Option<String>,
    pub document_version: Option<String>,
    /// AWS: the document's parameters, in the order given; a name given twice has two values.
    pub parameters: Vec<(String, Vec<String>)>,
    /// How long the command may run on the node, in seconds (AWS: the document's
    /// executionTimeout; Alibaba Cloud: RunCommand's Timeout).
    pub execution_timeout: Option<u64>,
    /// AWS: how long the command may wait to be delivered (SendCommand's TimeoutSeconds).
    pub delivery_timeout: Option<u64>,
    /// The user's own comment (AWS: Comment, before the mark; Alibaba Cloud: Description).
    pub comment: Option<String>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    /// AWS: the S3 bucket and key prefix that keep the complete output.
    pub output_s3: Option<(String, Option<String>)>,
    /// AWS: CloudWatch Logs output; Some(None): the agent's default group.
    pub cloudwatch: Option<Option<String>>,
    /// Alibaba Cloud: where and as whom it runs.
    pub working_dir: Option<String>,
    pub username: Option<String>,
    /// Unique to this run: finds a send whose outcome is unknown (AWS) or makes its retries
    /// harmless (Alibaba Cloud's ClientToken).
    pub mark: String,
}

/// A send that was accepted (or found by its mark after an unknown outcome).
#[derive(Debug)]
pub struct Sent {
    /// What to wait for: the command (invocation) and, when they were named, the instances.
    pub subject: Subject,
    /// What the service answered, as the cloud's own CLI prints it (`--no-wait`).
    pub response: Box<dyn Document>,
    /// Why the outcome was unknown, when the send was found by its mark afterwards.
    pub found_after: Option<String>,
    /// Who it went to, in words: `i-0abc…`, `3 instances`, `tag:role=web`.
    pub to: String,
}

/// Who a send goes to, in words for the `sent:` line.
pub fn recipients_in_words(recipients: &Recipients) -> String {
    match recipients {
        Recipients::Instances(ids) => match ids.as_slice() {
            [one] => one.clone(),
            many => format!("{} instances", many.len()),
        },
        Recipients::Targets(targets) => targets
            .iter()
            .map(|t| format!("{}={}", t.key, t.values.join(",")))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A mark nobody else's send carries: `prefix` then 12 random letters and digits. fastrand
/// (already in the tree, and what the Alibaba Cloud signature's nonces use) seeds itself per
/// thread from the OS's hashing keys, the thread and the time: 36^12 (about 4.7e18) values make
/// two runs with the same mark vanishingly unlikely, which is all a mark needs; it is no secret.
pub fn new_mark(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = fastrand::Rng::new();
    let random: String = (0..12)
        .map(|_| char::from(ALPHABET[rng.usize(..ALPHABET.len())]))
        .collect();
    format!("{prefix}{random}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_unique_and_shaped() {
        let a = new_mark("ssmres:");
        let b = new_mark("ssmres:");
        assert_ne!(a, b);
        assert_eq!(a.len(), "ssmres:".len() + 12);
        assert!(
            a[7..]
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn recipients_read_as_words() {
        let one = Recipients::Instances(vec!["i-0123abcd".into()]);
        assert_eq!(recipients_in_words(&one), "i-0123abcd");
        let two = Recipients::Instances(vec!["i-0123abcd".into(), "i-0123abce".into()]);
        assert_eq!(recipients_in_words(&two), "2 instances");
        let tags = Recipients::Targets(vec![TargetSpec {
            key: "tag:role".into(),
            values: vec!["web".into(), "api".into()],
        }]);
        assert_eq!(recipients_in_words(&tags), "tag:role=web,api");
    }
}
