//! Every flag defined once. Help, completions, the man page and validation all come from these
//! types; every value is checked (`values`) and every cloud's own flags are sorted out (`parse`)
//! here, before any network call.

pub mod full_build;
mod parse;
pub mod run;
pub mod values;

use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

pub use parse::{CLOUD_FLAGS, parse, parse_from};
pub use run::RunArgs;
use values::*;

use crate::provider::contract::{
    CONNECT_TIMEOUT, CloudKind, ListFilter, Options, READ_TIMEOUT, Subject, Timeouts,
};
use crate::render::OutputFormat;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success (get: invocation retrieved; wait: the invocation ended in Success)
  1    wait: the invocation ended in another terminal state (Failed, Cancelled, TimedOut, ...)
  2    usage error or invalid input (nothing was sent); with --provider aliyun, also `wait`
       on a periodic task, which never finishes (its latest state is printed)
  3    API, credential or network error after retries, or invocation not found
  4    --timeout reached before a terminal state
  130  interrupted (Ctrl-C; 143 for SIGTERM, 129 for SIGHUP)
With --remote-exit-code, a final result exits with the remote command's own code instead
(0-255; 1 when it has none; the first non-zero of several steps or instances).";

const GLOBAL: &str = "Global options";

const TASK_INVOCATIONS_HELP: &str = "\
Exit codes:
  0    listed (with --wait: every task and invocation ended in SUCCESS)
  1    --wait: something ended in FAILED, TIMED_OUT, CANCELLED or SKIPPED_OVERLAPPING
  2    usage error or invalid input (nothing was sent)
  3    API, credential or network error after retries, or window execution not found
  4    --timeout reached before every invocation ended
  130  interrupted (Ctrl-C; 143 for SIGTERM, 129 for SIGHUP)";

/// The statuses of maintenance window executions, tasks and task invocations.
pub const WINDOW_STATUSES: [&str; 8] = [
    "PENDING",
    "IN_PROGRESS",
    "SUCCESS",
    "FAILED",
    "TIMED_OUT",
    "CANCELLING",
    "CANCELLED",
    "SKIPPED_OVERLAPPING",
];

#[derive(Debug, Parser)]
#[command(
    name = "ssmres",
    version,
    about = "Fetch and wait for the results of AWS Systems Manager Run Command invocations \
             (and, with --provider aliyun, of Alibaba Cloud ECS Cloud Assistant)",
    after_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// `ssmres --version -v`: the version, then what a bug report needs.
pub fn long_version() -> String {
    let lean = match full_build::FULL_BUILD {
        true => "",
        false => "\nlean build: without S3 and CloudWatch Logs (no --full-output, --follow)",
    };
    format!(
        "ssmres {}\ncommit: {}\nbuilt: {}\ncompiler: {} ({})\nlibraries: {}{lean}",
        env!("CARGO_PKG_VERSION"),
        env!("SSMRES_COMMIT"),
        env!("SSMRES_BUILD_DATE"),
        env!("SSMRES_RUSTC"),
        env!("SSMRES_TARGET"),
        env!("SSMRES_SDKS"),
    )
}

pub const ENV_OUTPUT: &str = "SSMRES_OUTPUT";

/// The flags clap takes from the environment, and their variables (`wait`'s polling flags).
pub const ENV_DEFAULTS: [(&str, &str); 4] = [
    ("--timeout", "SSMRES_TIMEOUT"),
    ("--min-interval", "SSMRES_MIN_INTERVAL"),
    ("--max-interval", "SSMRES_MAX_INTERVAL"),
    ("--not-found-grace", "SSMRES_NOT_FOUND_GRACE"),
];

#[derive(Debug, Args)]
pub struct GlobalArgs {
    // SSMRES_PROVIDER is read in `parse_from`, not by clap, for the reason given at --output;
    // the help says so the way clap would.
    #[arg(
        long, global = true, help_heading = GLOBAL, value_enum, default_value = "aws", value_name = "CLOUD",
        help = "The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant",
        long_help = "The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant\n\n[env: SSMRES_PROVIDER=]"
    )]
    pub provider: CloudKind,

    /// Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile's; aliyun:
    /// ALIBABA_CLOUD_REGION_ID, then the profile's region_id)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "REGION", value_parser = parse_region)]
    pub region: Option<String>,

    /// Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from
    /// ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "NAME")]
    pub profile: Option<String>,

    /// Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL", value_parser = parse_endpoint_url)]
    pub endpoint_url: Option<String>,

    // SSMRES_OUTPUT is read in `parse_from`, not by clap: clap checks a global flag's variable
    // even when the flag is given, so a bad value would break an explicit `-o`.
    #[arg(
        short, long, global = true, help_heading = GLOBAL, value_enum, value_name = "FORMAT",
        help = "Output format [default: table on a terminal, json otherwise]",
        long_help = "Output format [default: table on a terminal, json otherwise]\n\n[env: SSMRES_OUTPUT=]"
    )]
    pub output: Option<OutputFormat>,

    /// How long opening a connection may take (each attempt of each call)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DURATION", allow_hyphen_values = true, default_value = CONNECT_TIMEOUT, value_parser = crate::duration::parse)]
    pub connect_timeout: Duration,

    /// How long an answer may take to start, counted from the start of each attempt of each
    /// call, connecting included (an attempt also ends after connect + twice this)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DURATION", allow_hyphen_values = true, default_value = READ_TIMEOUT, value_parser = crate::duration::parse)]
    pub read_timeout: Duration,

    /// Show no progress spinner
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// Print diagnostics on stderr; repeat for more (-vvv includes the SDK's retries)
    #[arg(short, long, global = true, help_heading = GLOBAL, action = ArgAction::Count)]
    pub verbose: u8,
}

pub const ENV_PROVIDER: &str = "SSMRES_PROVIDER";

impl GlobalArgs {
    /// How to reach the cloud.
    pub fn options(&self) -> Options {
        Options {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            timeouts: Timeouts {
                connect: self.connect_timeout,
                read: self.read_timeout,
            },
        }
    }
}

/// The overall statuses DescribeInvocationResults filters on (`list --status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "PascalCase")]
pub enum RecordStatus {
    Running,
    Finished,
    Success,
    Failed,
    PartialFailed,
    Stopped,
    Stopping,
}

impl RecordStatus {
    /// The spelling the API takes.
    pub fn api_name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch one command invocation (GetCommandInvocation)
    #[command(after_help = EXIT_CODES_HELP)]
    Get(InvocationArgs),
    /// Poll until the invocation reaches a terminal state, then print it as `get` does
    #[command(after_help = EXIT_CODES_HELP)]
    Wait(WaitArgs),
    /// Send a command (SendCommand), then wait for it as `wait` does and exit as it did
    #[command(after_help = run::RUN_HELP)]
    Run(Box<RunArgs>),
    /// List the invocations of a command, every page (ListCommandInvocations)
    #[command(after_help = EXIT_CODES_HELP)]
    List(ListArgs),
    /// List a maintenance window execution's task invocations, every page; optionally wait
    /// for them and show the Run Command output behind each
    #[command(after_help = TASK_INVOCATIONS_HELP)]
    TaskInvocations(TaskInvocationsArgs),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `ssmres man > ~/.local/share/man/man1/ssmres.1`
    Man,
}

#[derive(Debug, Args)]
pub struct InvocationArgs {
    /// Command ID returned by SendCommand (36 characters)
    #[arg(long, value_name = "ID", value_parser = parse_command_id)]
    pub command_id: Option<String>,

    /// Managed node ID: i-xxxxxxxx, i-xxxxxxxxxxxxxxxxx or mi-xxxxxxxxxxxxxxxxx
    #[arg(long, value_name = "ID", value_parser = parse_instance_id)]
    pub instance_id: Option<String>,

    /// Invoke ID returned by RunCommand or InvokeCommand (t-…)
    #[arg(long, value_name = "ID", value_parser = parse_invoke_id)]
    pub invoke_id: Option<String>,

    /// Step name, required by the service for documents with several steps
    #[arg(long, value_name = "NAME", value_parser = parse_plugin_name)]
    pub plugin_name: Option<String>,

    /// Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept
    /// them, instead of the first 24,000 / 8,000 characters the service returns
    #[arg(long)]
    pub full_output: bool,

    /// Once the result is final, exit with the remote command's exit code (0-255; 1 when it
    /// has none), like `ssh host cmd`; see "Exit codes"
    #[arg(long)]
    pub remote_exit_code: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Command ID returned by SendCommand (36 characters)
    #[arg(long, value_name = "ID", value_parser = parse_command_id)]
    pub command_id: Option<String>,

    /// Only results of this invocation (t-…)
    #[arg(long, value_name = "ID", value_parser = parse_invoke_id)]
    pub invoke_id: Option<String>,

    /// Only invocations in this overall state (any case)
    #[arg(long, value_enum, ignore_case = true, value_name = "STATUS")]
    pub status: Option<RecordStatus>,

    /// Every past run of a periodic task (needs --invoke-id)
    #[arg(long)]
    pub include_history: bool,

    /// Only invocations with this tag; repeat for several (all must match); VALUE may be empty
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,

    /// Only invocations in this resource group
    #[arg(long, value_name = "ID", value_parser = parse_resource_group_id)]
    pub resource_group_id: Option<String>,

    /// Only this managed node's invocation
    #[arg(long, value_name = "ID", value_parser = parse_instance_id)]
    pub instance_id: Option<String>,

    /// Include each step's status, response code and output (the output is cut at 2,500
    /// characters by this API; `get` gives up to 24,000)
    #[arg(long)]
    pub details: bool,

    /// Stop after this many invocations
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_items: Option<u64>,
}

#[derive(Debug, Args)]
pub struct TaskInvocationsArgs {
    /// Maintenance window execution ID (a UUID)
    #[arg(long, value_name = "ID", value_parser = parse_window_execution_id)]
    pub window_execution_id: String,

    /// Task execution ID (a UUID) within that window execution; leave out for every task
    #[arg(long, value_name = "ID", value_parser = parse_task_id)]
    pub task_id: Option<String>,

    /// Only invocations in this status; repeat for several (any case)
    #[arg(
        long = "status",
        value_name = "STATUS",
        ignore_case = true,
        value_parser = clap::builder::PossibleValuesParser::new(WINDOW_STATUSES)
            .map(|s| s.to_ascii_uppercase())
    )]
    pub statuses: Vec<String>,

    /// Stop after this many invocations
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "wait")]
    pub max_items: Option<u64>,

    /// For Run Command tasks, fetch each instance's output as `get` does (implied by -o text)
    #[arg(long)]
    pub with_output: bool,

    /// Poll until every task and invocation has ended; exit codes as for `wait`
    #[arg(long)]
    pub wait: bool,

    /// With --wait: give up after this long (exit 4), e.g. 90s, 5m, 1h30m
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = crate::duration::parse, requires = "wait")]
    pub timeout: Option<Duration>,

    /// With --wait: shortest pause between polls
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "500ms", value_parser = parse_interval, requires = "wait")]
    pub min_interval: Duration,

    /// With --wait: longest pause between polls
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "5s", value_parser = parse_interval, requires = "wait")]
    pub max_interval: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Command ID returned by SendCommand (36 characters)
    #[arg(long, value_name = "ID", value_parser = parse_command_id)]
    pub command_id: Option<String>,

    /// Invoke ID returned by RunCommand or InvokeCommand (t-…)
    #[arg(long, value_name = "ID", value_parser = parse_invoke_id)]
    pub invoke_id: Option<String>,

    /// Managed node to wait for; repeat for several; leave out to wait for every invocation
    /// of the command
    #[arg(long = "instance-id", value_name = "ID", value_parser = parse_instance_id)]
    pub instance_ids: Vec<String>,

    /// Step name, required by the service for documents with several steps
    #[arg(long, value_name = "NAME", value_parser = parse_plugin_name)]
    pub plugin_name: Option<String>,

    #[command(flatten)]
    pub flags: WaitFlags,
}

/// A wait reads as its flags (`args.timeout`): what it waits for is in `WaitArgs`, how it waits
/// here, shared with `run`, which waits the same way for what it sent.
impl std::ops::Deref for WaitArgs {
    type Target = WaitFlags;

    fn deref(&self) -> &WaitFlags {
        &self.flags
    }
}

/// How `wait` (and `run`) waits: polling, output, exit codes, cancelling.
#[derive(Debug, Clone, Args)]
pub struct WaitFlags {
    /// Give up after this long (exit 4), e.g. 90s, 5m, 1h30m; a bare number is seconds
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = crate::duration::parse, env = "SSMRES_TIMEOUT")]
    pub timeout: Option<Duration>,

    /// Shortest pause between polls, used for the first seconds; later pauses are a twentieth
    /// of the time waited so far
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "500ms", value_parser = parse_interval, env = "SSMRES_MIN_INTERVAL")]
    pub min_interval: Duration,

    /// Longest pause between polls
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "5s", value_parser = parse_interval, env = "SSMRES_MAX_INTERVAL")]
    pub max_interval: Duration,

    /// How long "InvocationDoesNotExist" means "not visible yet" after the wait starts
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, default_value = "30s", value_parser = crate::duration::parse, env = "SSMRES_NOT_FOUND_GRACE")]
    pub not_found_grace: Duration,

    /// Print the command's output as it runs, from CloudWatch Logs (the command must have been
    /// sent with CloudWatch output); in text mode the followed lines are the result
    #[arg(long)]
    pub follow: bool,

    /// Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept
    /// them, instead of the first 24,000 / 8,000 characters the service returns
    #[arg(long)]
    pub full_output: bool,

    /// Exit with the remote command's exit code (0-255; 1 when it has none; the first non-zero
    /// of several steps or instances), like `ssh host cmd`; see "Exit codes"
    #[arg(long)]
    pub remote_exit_code: bool,

    /// On Ctrl-C (or SIGTERM, SIGHUP), cancel what is waited on (CancelCommand; aliyun:
    /// StopInvocation), show the state it reaches, then exit 130 (143, 129); a second signal
    /// exits at once
    #[arg(long)]
    pub cancel_on_interrupt: bool,

    /// When --timeout passes, cancel what is waited on, show the state it reaches, then exit 4
    #[arg(long, requires = "timeout")]
    pub cancel_on_timeout: bool,
}

/// "-" in place of an ID: read it from stdin.
pub const STDIN: &str = "-";

impl InvocationArgs {
    /// What `get` is about: AWS's command and instance (the parser requires both), Alibaba
    /// Cloud's invocation on every instance or the one named.
    pub fn subject(&self, cloud: CloudKind) -> Subject {
        subject(
            cloud,
            &self.command_id,
            &self.invoke_id,
            self.instance_id.iter().cloned().collect(),
            &self.plugin_name,
        )
    }
}

impl WaitArgs {
    pub fn subject(&self, cloud: CloudKind) -> Subject {
        subject(
            cloud,
            &self.command_id,
            &self.invoke_id,
            self.instance_ids.clone(),
            &self.plugin_name,
        )
    }
}

fn subject(
    cloud: CloudKind,
    command_id: &Option<String>,
    invoke_id: &Option<String>,
    instances: Vec<String>,
    step: &Option<String>,
) -> Subject {
    match cloud {
        CloudKind::Aws => Subject {
            run_id: command_id.clone().unwrap_or_default(),
            instances,
            step: step.clone(),
            command: None,
        },
        CloudKind::Aliyun => Subject {
            run_id: invoke_id.clone().unwrap_or_default(),
            instances,
            step: None,
            command: command_id.clone(),
        },
    }
}

impl ListArgs {
    pub fn filter(&self, cloud: CloudKind, details: bool) -> ListFilter {
        let (run_id, command) = match cloud {
            CloudKind::Aws => (self.command_id.clone(), None),
            CloudKind::Aliyun => (self.invoke_id.clone(), self.command_id.clone()),
        };
        ListFilter {
            run_id,
            instance_id: self.instance_id.clone(),
            command,
            details,
            record_status: self.status.map(|s| s.api_name()),
            include_history: self.include_history,
            tags: self.tags.clone(),
            resource_group_id: self.resource_group_id.clone(),
            max_items: self
                .max_items
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        }
    }
}
