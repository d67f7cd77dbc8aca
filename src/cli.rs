//! Every flag defined once. Help, completions and validation all come from these types, and
//! every value is checked here, before any network call.

use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success (get: invocation retrieved; wait: the invocation ended in Success)
  1    wait: the invocation ended in another terminal state (Failed, Cancelled, TimedOut, ...)
  2    usage error or invalid input (nothing was sent); with --provider aliyun, also `wait`
       on a periodic task, which never finishes (its latest state is printed)
  3    API, credential or network error after retries, or invocation not found
  4    --timeout reached before a terminal state
  130  interrupted (Ctrl-C)
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
  130  interrupted (Ctrl-C)";

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
    format!(
        "ssmres {}\ncommit: {}\nbuilt: {}\ncompiler: {} ({})\nlibraries: {}",
        env!("CARGO_PKG_VERSION"),
        env!("SSMRES_COMMIT"),
        env!("SSMRES_BUILD_DATE"),
        env!("SSMRES_RUSTC"),
        env!("SSMRES_TARGET"),
        env!("SSMRES_SDKS"),
    )
}

/// Parses argv for the provider it names (--provider, else SSMRES_PROVIDER, else aws): the two
/// clouds name invocations differently, so what is required, how IDs are checked and what
/// `--help` shows depend on it.
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// As `parse`, for any argv; SSMRES_PROVIDER is read from the process environment, where clap
/// reads it too, so the definition chosen and the provider parsed always agree.
pub fn parse_from(
    args: impl IntoIterator<Item = impl Into<std::ffi::OsString>>,
) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let from_env = std::env::var(ENV_PROVIDER).ok().filter(|v| !v.is_empty());
    let provider = match flag_value(&args, "--provider") {
        // A value that names no provider is left for clap to report, against the AWS definition.
        Some(flag) => ProviderKind::from_str(&flag, true).unwrap_or(ProviderKind::Aws),
        None => match &from_env {
            Some(value) => ProviderKind::from_str(value, true).map_err(|_| {
                command(ProviderKind::Aws).error(
                    clap::error::ErrorKind::InvalidValue,
                    format!("invalid value '{value}' in {ENV_PROVIDER}: expected aws or aliyun"),
                )
            })?,
            None => ProviderKind::Aws,
        },
    };
    let from_stdin = flag_value(&args, "--command-id").as_deref() == Some(STDIN);
    let mut command = command(provider)
        // `get --command-id -` may take its instance from stdin as well.
        .mut_subcommand("get", |c| {
            c.mut_arg("instance_id", |a| {
                a.required(!from_stdin && provider == ProviderKind::Aws)
            })
        });
    let mut matches = command.try_get_matches_from_mut(args)?;
    let mut cli = Cli::from_arg_matches_mut(&mut matches)?;
    if matches.value_source("provider") != Some(clap::parser::ValueSource::CommandLine) {
        cli.global.provider = provider;
    }
    // Neither man nor completions print results: a bad SSMRES_OUTPUT must not break them.
    let prints_results = !matches!(cli.command, Command::Man | Command::Completions { .. });
    if prints_results
        && cli.global.output.is_none()
        && let Some(value) = std::env::var(ENV_OUTPUT).ok().filter(|v| !v.is_empty())
    {
        cli.global.output = Some(OutputFormat::from_str(&value, true).map_err(|_| {
            command.error(
                clap::error::ErrorKind::InvalidValue,
                format!(
                    "invalid value '{value}' in {ENV_OUTPUT}: expected table, json, jsonl or text"
                ),
            )
        })?);
    }
    Ok(cli)
}

pub const ENV_OUTPUT: &str = "SSMRES_OUTPUT";

/// The flags clap takes from the environment, and their variables (`wait`'s polling flags).
pub const ENV_DEFAULTS: [(&str, &str); 4] = [
    ("--timeout", "SSMRES_TIMEOUT"),
    ("--min-interval", "SSMRES_MIN_INTERVAL"),
    ("--max-interval", "SSMRES_MAX_INTERVAL"),
    ("--not-found-grace", "SSMRES_NOT_FOUND_GRACE"),
];

/// The value of the first `NAME VALUE` or `NAME=VALUE` before any `--`, before clap parses.
fn flag_value(args: &[std::ffi::OsString], name: &str) -> Option<String> {
    let mut args = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(arg) = args.next() {
        if arg == "--" {
            return None;
        }
        if arg == name {
            return args.next().map(str::to_owned);
        }
        if let Some(value) = arg.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
            return Some(value.to_owned());
        }
    }
    None
}

/// The definition as one provider sees it: its IDs required and checked, the other's flags
/// hidden from `--help` (and refused by `Cli::check`).
pub fn command(provider: ProviderKind) -> clap::Command {
    use clap::CommandFactory;
    let required = |a: clap::Arg| a.required(true);
    let hidden = |a: clap::Arg| a.hide(true);
    match provider {
        ProviderKind::Aws => Cli::command()
            .mut_subcommand("get", |c| {
                c.mut_arg("command_id", required)
                    .mut_arg("instance_id", required)
                    .mut_arg("invoke_id", hidden)
            })
            .mut_subcommand("wait", |c| {
                c.mut_arg("command_id", required)
                    .mut_arg("invoke_id", hidden)
            })
            .mut_subcommand("list", |c| {
                c.mut_arg("command_id", required)
                    .mut_arg("invoke_id", hidden)
                    .mut_arg("status", hidden)
                    .mut_arg("include_history", hidden)
                    .mut_arg("tags", hidden)
                    .mut_arg("resource_group_id", hidden)
            }),
        ProviderKind::Aliyun => {
            let command_id = |a: clap::Arg| {
                a.value_parser(parse_aliyun_command_id)
                    .help("Only results of this command (c-…, or a public command's name)")
            };
            let instance_id = |a: clap::Arg| {
                a.value_parser(parse_aliyun_instance_id)
                    .help("Only this instance's result (i-…, or mi-… for a managed instance)")
            };
            let instance_ids = |a: clap::Arg| {
                a.value_parser(parse_aliyun_instance_id)
                    .help("Wait for this instance only (i-…); repeat for several")
            };
            Cli::command()
                .about(
                    "Fetch and wait for the results of Alibaba Cloud ECS Cloud Assistant \
                     invocations (DescribeInvocationResults)",
                )
                .mut_subcommand("get", |c| {
                    c.about("Fetch an invocation's per-instance results, every page")
                        .mut_arg("invoke_id", required)
                        .mut_arg("command_id", command_id)
                        .mut_arg("instance_id", instance_id)
                        .mut_arg("plugin_name", hidden)
                        .mut_arg("full_output", hidden)
                })
                .mut_subcommand("wait", |c| {
                    c.about(
                        "Poll until every instance's InvocationStatus is final, then print as \
                         `get` does",
                    )
                    .mut_arg("invoke_id", required)
                    .mut_arg("command_id", command_id)
                    .mut_arg("instance_ids", instance_ids)
                    .mut_arg("plugin_name", hidden)
                    .mut_arg("follow", hidden)
                    .mut_arg("full_output", hidden)
                })
                .mut_subcommand("list", |c| {
                    c.about("List invocation results, every page (DescribeInvocationResults)")
                        .mut_arg("command_id", command_id)
                        .mut_arg("instance_id", instance_id)
                        .mut_arg("details", hidden)
                })
                .mut_subcommand("task-invocations", |c| c.hide(true))
        }
    }
}

impl Cli {
    /// Replaces `--command-id -` / `--invoke-id -` with what stdin says (`read` gives it),
    /// before any call; a usage error when it says nothing usable.
    pub fn resolve_stdin(
        &mut self,
        read: impl FnOnce() -> std::io::Result<Vec<u8>>,
    ) -> Result<(), String> {
        let is_stdin = |id: &Option<String>| id.as_deref() == Some(STDIN);
        let wanted = match &self.command {
            Command::Get(a) => is_stdin(&a.command_id) || is_stdin(&a.invoke_id),
            Command::Wait(a) => is_stdin(&a.command_id) || is_stdin(&a.invoke_id),
            Command::List(a) => is_stdin(&a.command_id) || is_stdin(&a.invoke_id),
            _ => false,
        };
        if !wanted {
            return Ok(());
        }
        let text = read().map_err(|e| format!("cannot read stdin: {e}"))?;
        let aws = || crate::stdin_ids::aws(&text);
        let aliyun = || crate::stdin_ids::aliyun(&text);
        use crate::stdin_ids::Instances;
        if self.global.provider == ProviderKind::Aliyun {
            let (invoke_id, command_id) = match &mut self.command {
                Command::Get(a) => (&mut a.invoke_id, &a.command_id),
                Command::Wait(a) => (&mut a.invoke_id, &a.command_id),
                Command::List(a) => (&mut a.invoke_id, &a.command_id),
                _ => return Ok(()),
            };
            if is_stdin(command_id) {
                return Err(
                    "--command-id - reads what `aws ssm send-command` prints; with \
                            --provider aliyun, use --invoke-id -"
                        .into(),
                );
            }
            *invoke_id = Some(aliyun()?);
            return Ok(());
        }
        match &mut self.command {
            Command::Get(a) => {
                let sent = aws()?;
                a.command_id = Some(sent.command_id);
                if a.instance_id.is_none() {
                    a.instance_id = Some(match sent.instances {
                        Instances::One(id) => id,
                        Instances::Many(0) => {
                            return Err("get needs --instance-id: the command on stdin was sent \
                                        to targets, not to named instances"
                                .into());
                        }
                        Instances::Many(n) => {
                            return Err(format!(
                                "get needs --instance-id: the command on stdin was sent to {n} \
                                 instances"
                            ));
                        }
                    });
                }
            }
            Command::Wait(a) => {
                let sent = aws()?;
                a.command_id = Some(sent.command_id);
                // Several instances or targets: the whole command, as without --instance-id.
                if let (true, Instances::One(id)) = (a.instance_ids.is_empty(), sent.instances) {
                    a.instance_ids = vec![id];
                }
            }
            Command::List(a) => a.command_id = Some(aws()?.command_id),
            _ => {}
        }
        Ok(())
    }

    /// Flags of the other provider, and combinations the service would refuse: exit 2 before
    /// any call.
    pub fn check(&self) -> Result<(), String> {
        let provider = self.global.provider;
        let refuse = |flag: &str, given: bool| -> Result<(), String> {
            if !given {
                return Ok(());
            }
            Err(match provider {
                ProviderKind::Aws => format!("{flag} is for --provider aliyun (Alibaba Cloud)"),
                ProviderKind::Aliyun => {
                    format!("{flag} is not available with --provider aliyun (it is AWS-only)")
                }
            })
        };
        match (&self.command, provider) {
            (Command::Get(a), ProviderKind::Aws) => refuse("--invoke-id", a.invoke_id.is_some()),
            (Command::Get(a), ProviderKind::Aliyun) => {
                refuse("--plugin-name", a.plugin_name.is_some())?;
                refuse("--full-output", a.full_output)
            }
            (Command::Wait(a), ProviderKind::Aws) => refuse("--invoke-id", a.invoke_id.is_some()),
            (Command::Wait(a), ProviderKind::Aliyun) => {
                refuse("--plugin-name", a.plugin_name.is_some())?;
                refuse("--follow", a.follow)?;
                refuse("--full-output", a.full_output)
            }
            (Command::List(a), ProviderKind::Aws) => {
                refuse("--invoke-id", a.invoke_id.is_some())?;
                refuse("--status", a.status.is_some())?;
                refuse("--include-history", a.include_history)?;
                refuse("--tag", !a.tags.is_empty())?;
                refuse("--resource-group-id", a.resource_group_id.is_some())
            }
            (Command::List(a), ProviderKind::Aliyun) => {
                refuse("--details", a.details)?;
                if a.include_history && a.invoke_id.is_none() {
                    return Err(
                        "--include-history needs --invoke-id: the service keeps the \
                                history of one periodic task at a time"
                            .into(),
                    );
                }
                if a.tags.len() > MAX_TAGS {
                    return Err(format!("at most {MAX_TAGS} --tag filters"));
                }
                let mut keys = std::collections::BTreeSet::new();
                if let Some((k, _)) = a.tags.iter().find(|(k, _)| !keys.insert(k)) {
                    return Err(format!("--tag {k}=… is given twice"));
                }
                Ok(())
            }
            (Command::TaskInvocations(_), ProviderKind::Aliyun) => Err(
                "task-invocations is for AWS maintenance windows; it is not available with \
                 --provider aliyun"
                    .into(),
            ),
            (Command::TaskInvocations(_) | Command::Completions { .. } | Command::Man, _) => Ok(()),
        }
    }
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    // SSMRES_PROVIDER is read in `parse_from`, not by clap, for the reason given at --output;
    // the help says so the way clap would.
    #[arg(
        long, global = true, help_heading = GLOBAL, value_enum, default_value = "aws", value_name = "CLOUD",
        help = "The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant",
        long_help = "The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant\n\n[env: SSMRES_PROVIDER=]"
    )]
    pub provider: ProviderKind,

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

    /// Show no progress spinner
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// Print diagnostics on stderr; repeat for more (-vvv includes the SDK's retries)
    #[arg(short, long, global = true, help_heading = GLOBAL, action = ArgAction::Count)]
    pub verbose: u8,
}

pub const ENV_PROVIDER: &str = "SSMRES_PROVIDER";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderKind {
    /// AWS Systems Manager Run Command
    Aws,
    /// Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)
    Aliyun,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Status fields in a table, then stdout and stderr as whole sections
    Table,
    /// The cloud's own records: as the aws CLI prints them, or with the Alibaba Cloud API's
    /// field names (Output decoded)
    Json,
    /// One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`
    Jsonl,
    /// The command's stdout on stdout and its stderr on stderr, nothing else
    Text,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch one command invocation (GetCommandInvocation)
    #[command(after_help = EXIT_CODES_HELP)]
    Get(InvocationArgs),
    /// Poll until the invocation reaches a terminal state, then print it as `get` does
    #[command(after_help = EXIT_CODES_HELP)]
    Wait(WaitArgs),
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
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse, requires = "wait")]
    pub timeout: Option<Duration>,

    /// With --wait: shortest pause between polls
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_interval, requires = "wait")]
    pub min_interval: Duration,

    /// With --wait: longest pause between polls
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_interval, requires = "wait")]
    pub max_interval: Duration,
}

#[derive(Debug, Args)]
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

    /// Give up after this long (exit 4), e.g. 90s, 5m, 1h30m; a bare number is seconds
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse, env = "SSMRES_TIMEOUT")]
    pub timeout: Option<Duration>,

    /// Shortest pause between polls, used for the first seconds; later pauses are a twentieth
    /// of the time waited so far
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_interval, env = "SSMRES_MIN_INTERVAL")]
    pub min_interval: Duration,

    /// Longest pause between polls
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_interval, env = "SSMRES_MAX_INTERVAL")]
    pub max_interval: Duration,

    /// How long "InvocationDoesNotExist" means "not visible yet" after the wait starts
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::duration::parse, env = "SSMRES_NOT_FOUND_GRACE")]
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

    /// On Ctrl-C, cancel what is waited on (CancelCommand; aliyun: StopInvocation), show the
    /// state it reaches, then exit 130; a second Ctrl-C exits at once
    #[arg(long)]
    pub cancel_on_interrupt: bool,

    /// When --timeout passes, cancel what is waited on, show the state it reaches, then exit 4
    #[arg(long, requires = "timeout")]
    pub cancel_on_timeout: bool,
}

impl InvocationArgs {
    /// The AWS command ID; `command(Aws)` requires it, so it is never empty there.
    pub fn aws_command_id(&self) -> &str {
        self.command_id.as_deref().unwrap_or_default()
    }

    pub fn aws_instance_id(&self) -> &str {
        self.instance_id.as_deref().unwrap_or_default()
    }
}

impl WaitArgs {
    /// The AWS command ID; `command(Aws)` requires it, so it is never empty there.
    pub fn aws_command_id(&self) -> &str {
        self.command_id.as_deref().unwrap_or_default()
    }
}

impl ListArgs {
    /// The AWS command ID; `command(Aws)` requires it, so it is never empty there.
    pub fn aws_command_id(&self) -> &str {
        self.command_id.as_deref().unwrap_or_default()
    }
}

fn parse_command_id(s: &str) -> Result<String, String> {
    // "-": read from stdin (what `aws ssm send-command` prints), before any call.
    if s == STDIN {
        return Ok(s.to_owned());
    }
    check_command_id(s)
}

/// "-" in place of an ID: read it from stdin.
pub const STDIN: &str = "-";

pub fn check_command_id(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n != 36 {
        return Err(format!("a command ID is exactly 36 characters, got {n}"));
    }
    Ok(s.to_owned())
}

/// The service's pattern for window execution and task IDs: 8-4-4-4-12 hex digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn parse_window_execution_id(s: &str) -> Result<String, String> {
    if is_uuid(s) {
        Ok(s.to_owned())
    } else {
        Err("a window execution ID is a 36-character UUID (8-4-4-4-12 hex digits)".into())
    }
}

fn parse_task_id(s: &str) -> Result<String, String> {
    if is_uuid(s) {
        Ok(s.to_owned())
    } else {
        Err("a task execution ID is a 36-character UUID (8-4-4-4-12 hex digits)".into())
    }
}

/// The service's pattern: `(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`, where `\w` is `[A-Za-z0-9_]`.
pub fn parse_instance_id(s: &str) -> Result<String, String> {
    let word = |t: &str| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let ok = match (s.strip_prefix("i-"), s.strip_prefix("mi-")) {
        (Some(rest), _) => (rest.len() == 8 || rest.len() == 17) && word(rest),
        (_, Some(rest)) => rest.len() == 17 && word(rest),
        _ => false,
    };
    if ok {
        Ok(s.to_owned())
    } else {
        Err("expected i- followed by 8 or 17 characters, or mi- followed by 17 (letters, digits, _)".into())
    }
}

/// Alibaba IDs: a prefix, then letters and digits (`t-hz0jdfwd9f2z`, `i-bp1i7gg30r52z2em`).
fn aliyun_id(s: &str, prefixes: &[&str]) -> bool {
    s.len() <= 64
        && prefixes.iter().any(|p| {
            s.strip_prefix(p).is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            })
        })
}

pub fn parse_invoke_id(s: &str) -> Result<String, String> {
    if s == STDIN || aliyun_id(s, &["t-"]) {
        Ok(s.to_owned())
    } else {
        Err("an invoke ID is t- followed by letters and digits, e.g. t-hz0jdfwd9f2z".into())
    }
}

fn parse_aliyun_instance_id(s: &str) -> Result<String, String> {
    if aliyun_id(s, &["i-", "mi-"]) {
        Ok(s.to_owned())
    } else {
        Err("an Alibaba Cloud instance ID is i- (or mi- for a managed instance) followed by letters and digits".into())
    }
}

/// Own commands are c-…; Alibaba's public commands have names such as ACS-ECS-…
fn parse_aliyun_command_id(s: &str) -> Result<String, String> {
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(s.to_owned())
    } else {
        Err("a command ID is c- followed by letters and digits, or a public command's name".into())
    }
}

fn parse_resource_group_id(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(s.to_owned())
    } else {
        Err("a resource group ID looks like rg-acfmxazb4ph6aiy".into())
    }
}

/// The API's rules for tag filters: a key of 1 to 64 characters that does not start with
/// `aliyun` or `acs:`, a value of up to 128, neither holding a URL scheme.
fn parse_tag(s: &str) -> Result<(String, String), String> {
    let Some((key, value)) = s.split_once('=') else {
        return Err("a tag is KEY=VALUE (VALUE may be empty)".into());
    };
    if key.is_empty() || key.chars().count() > 64 {
        return Err("a tag key has 1 to 64 characters".into());
    }
    if value.chars().count() > 128 {
        return Err("a tag value has at most 128 characters".into());
    }
    if key.starts_with("aliyun") || key.starts_with("acs:") {
        return Err("a tag key cannot start with aliyun or acs:".into());
    }
    if [key, value]
        .iter()
        .any(|t| t.contains("http://") || t.contains("https://"))
    {
        return Err("tags cannot contain http:// or https://".into());
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// The API takes at most 20 tag filters.
pub const MAX_TAGS: usize = 20;

fn parse_plugin_name(s: &str) -> Result<String, String> {
    if s.chars().count() < 4 {
        return Err("a plugin (step) name has at least 4 characters".into());
    }
    Ok(s.to_owned())
}

/// Lower-case letters, digits and hyphens, as every AWS and Alibaba Cloud region is named.
pub fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn parse_region(s: &str) -> Result<String, String> {
    if is_region(s) {
        Ok(s.to_owned())
    } else {
        Err("a region looks like us-east-1".into())
    }
}

fn parse_endpoint_url(s: &str) -> Result<String, String> {
    let url = url::Url::parse(s).map_err(|e| format!("not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the URL must start with http:// or https://".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(s.to_owned())
}

/// Below this, polling would hammer the API for no gain: a call takes longer than that.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);

fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = crate::duration::parse(s)?;
    if d < MIN_POLL_INTERVAL {
        return Err("poll intervals are at least 10ms".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
        command(ProviderKind::Aws).debug_assert();
        command(ProviderKind::Aliyun).debug_assert();
    }

    const CMD: &str = "32d70fe0-ddbc-4a4e-943f-ffcbc0123456";

    #[test]
    fn the_provider_is_found_before_parsing() {
        let provider_in = |list: &[&str]| {
            let args: Vec<std::ffi::OsString> = list.iter().map(|a| a.into()).collect();
            flag_value(&args, "--provider")
        };
        assert_eq!(
            provider_in(&["ssmres", "--provider", "aliyun", "get"]).as_deref(),
            Some("aliyun")
        );
        assert_eq!(
            provider_in(&["ssmres", "get", "--provider=aliyun"]).as_deref(),
            Some("aliyun")
        );
        assert_eq!(
            provider_in(&["ssmres", "get", "--", "--provider", "aliyun"]),
            None
        );
        assert_eq!(provider_in(&["ssmres", "get", "--providers", "x"]), None);
        assert_eq!(provider_in(&["ssmres", "get"]), None);
    }

    #[test]
    fn each_provider_requires_its_own_ids() {
        assert!(
            parse_from([
                "ssmres",
                "get",
                "--command-id",
                CMD,
                "--instance-id",
                "i-0123abcd"
            ])
            .is_ok()
        );
        assert!(
            parse_from(["ssmres", "get", "--command-id", CMD]).is_err(),
            "AWS needs the instance"
        );
        let cli = parse_from([
            "ssmres",
            "--provider",
            "aliyun",
            "get",
            "--invoke-id",
            "t-abc1",
        ]);
        assert!(cli.is_ok_and(|c| c.global.provider == ProviderKind::Aliyun));
        assert!(
            parse_from(["ssmres", "--provider", "aliyun", "get"]).is_err(),
            "aliyun needs --invoke-id"
        );
        // Alibaba instance IDs are not AWS ones, and the other way round.
        assert!(
            parse_from([
                "ssmres",
                "--provider",
                "aliyun",
                "get",
                "--invoke-id",
                "t-abc1",
                "--instance-id",
                "i-bp1i7gg30r52z2em"
            ])
            .is_ok()
        );
        assert!(
            parse_from([
                "ssmres",
                "get",
                "--command-id",
                CMD,
                "--instance-id",
                "i-bp1i7gg30r52z2em"
            ])
            .is_err()
        );
        assert!(
            parse_from(["ssmres", "--provider", "aliyun", "get", "--invoke-id", "t-"]).is_err()
        );
        assert!(
            parse_from([
                "ssmres",
                "--provider",
                "aliyun",
                "get",
                "--invoke-id",
                "c-abc"
            ])
            .is_err()
        );
    }

    #[test]
    fn flags_of_the_other_provider_are_refused() {
        let check = |list: &[&str]| parse_from(list.iter().copied()).map(|c| c.check());
        assert!(
            matches!(check(&["ssmres", "list", "--command-id", CMD, "--tag", "a=b"]), Ok(Err(m)) if m.contains("--tag"))
        );
        assert!(matches!(
            check(&[
                "ssmres",
                "get",
                "--command-id",
                CMD,
                "--instance-id",
                "i-0123abcd",
                "--invoke-id",
                "t-1"
            ]),
            Ok(Err(_))
        ));
        assert!(
            matches!(check(&["ssmres", "--provider", "aliyun", "wait", "--invoke-id", "t-1", "--follow"]), Ok(Err(m)) if m.contains("--follow"))
        );
        assert!(
            matches!(check(&["ssmres", "--provider", "aliyun", "list", "--include-history"]), Ok(Err(m)) if m.contains("--invoke-id"))
        );
        assert!(
            matches!(check(&["ssmres", "--provider", "aliyun", "list", "--tag", "a=1", "--tag", "a=2"]), Ok(Err(m)) if m.contains("twice"))
        );
        assert!(matches!(
            check(&[
                "ssmres",
                "--provider",
                "aliyun",
                "list",
                "--status",
                "partialfailed"
            ]),
            Ok(Ok(()))
        ));
        assert!(matches!(
            check(&[
                "ssmres",
                "--provider",
                "aliyun",
                "wait",
                "--invoke-id",
                "t-1",
                "--instance-id",
                "i-a1",
                "--instance-id",
                "i-b2"
            ]),
            Ok(Ok(()))
        ));
    }

    #[test]
    fn tags_follow_the_api_rules() {
        assert_eq!(parse_tag("env=prod"), Ok(("env".into(), "prod".into())));
        assert_eq!(parse_tag("team="), Ok(("team".into(), String::new())));
        assert_eq!(parse_tag("k=a=b"), Ok(("k".into(), "a=b".into())));
        for bad in ["noequals", "=v", "aliyun:x=1", "acs:x=1", "k=http://x"] {
            assert!(parse_tag(bad).is_err(), "{bad}");
        }
        assert!(parse_tag(&format!("{}=v", "k".repeat(65))).is_err());
        assert_eq!(RecordStatus::PartialFailed.api_name(), "PartialFailed");
    }

    #[test]
    fn instance_ids_follow_the_service_pattern() {
        for good in [
            "i-0123abcd",
            "i-0123456789abcdef0",
            "mi-0123456789abcdef0",
            "i-ABC_1234",
        ] {
            assert!(parse_instance_id(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "i-0123abc",
            "i-0123456789abcdef",
            "mi-0123abcd",
            "x-0123abcd",
            "i-0123abc-",
            "i-0123456789abcdef0 ",
            "I-0123abcd",
            "i-0123abcé",
        ] {
            assert!(parse_instance_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn command_ids_are_36_characters() {
        assert!(parse_command_id("32d70fe0-ddbc-4a4e-943f-ffcbc0123456").is_ok());
        assert!(parse_command_id("32d70fe0-ddbc-4a4e-943f-ffcbc012345").is_err());
        assert!(parse_command_id("32d70fe0-ddbc-4a4e-943f-ffcbc01234567").is_err());
    }

    #[test]
    fn window_ids_are_uuids() {
        assert!(is_uuid("8f2b8e3c-1a2b-4c3d-9e8f-0123456789AB"));
        for bad in [
            "",
            "8f2b8e3c-1a2b-4c3d-9e8f-0123456789a",
            "8f2b8e3c-1a2b-4c3d-9e8f-0123456789abc",
            "8f2b8e3c1a2b-4c3d-9e8f-0123456789ab-",
            "8f2b8e3g-1a2b-4c3d-9e8f-0123456789ab",
            "8f2b8e3c-1a2b-4c3d-9e8f-0123456789ab ",
        ] {
            assert!(!is_uuid(bad), "{bad:?}");
        }
    }

    #[test]
    fn statuses_are_checked_and_sent_upper_case() {
        let parse = |args: &[&str]| {
            let mut all = vec!["ssmres", "task-invocations", "--window-execution-id"];
            all.push("8f2b8e3c-1a2b-4c3d-9e8f-0123456789ab");
            all.extend(args);
            parse_from(all)
        };
        let Ok(Cli {
            command: Command::TaskInvocations(a),
            ..
        }) = parse(&["--status", "failed", "--status", "Timed_Out"])
        else {
            panic!("valid statuses rejected");
        };
        assert_eq!(a.statuses, ["FAILED", "TIMED_OUT"]);
        assert!(parse(&["--status", "DONE"]).is_err());
        assert!(
            parse(&["--timeout", "5m"]).is_err(),
            "--timeout needs --wait"
        );
        assert!(parse(&["--wait", "--max-items", "3"]).is_err());
        assert!(parse(&["--wait", "--timeout", "5m"]).is_ok());
    }

    #[test]
    fn poll_intervals_have_a_floor() {
        assert!(parse_interval("5ms").is_err());
        assert_eq!(parse_interval("10ms"), Ok(Duration::from_millis(10)));
    }

    #[test]
    fn plugin_names_have_four_characters_or_more() {
        assert!(parse_plugin_name("abc").is_err());
        assert!(parse_plugin_name("aws:runShellScript").is_ok());
    }

    #[test]
    fn endpoint_urls_need_a_scheme_and_host() {
        assert!(parse_endpoint_url("http://127.0.0.1:5000").is_ok());
        assert!(parse_endpoint_url("https://ssm.eu-west-1.amazonaws.com/").is_ok());
        assert!(parse_endpoint_url("127.0.0.1:5000").is_err());
        assert!(parse_endpoint_url("http://").is_err());
        assert!(parse_endpoint_url("ftp://host").is_err());
        assert!(parse_endpoint_url("http://127.0.0.1:99999").is_err());
        assert!(parse_endpoint_url("http://exa mple.com").is_err());
    }
}
