//! From argv to a checked `Cli`. The two clouds name invocations differently, so what is
//! required, how IDs are checked and what `--help` shows depend on the cloud: a first, lenient
//! pass of clap finds it (--provider, else SSMRES_PROVIDER, else aws), then the definition for
//! that cloud parses for real. One table says which flags belong to one cloud only: the other
//! cloud's `--help` hides them and its parse refuses them.

use std::collections::BTreeSet;
use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, ValueEnum};

use super::full_build::{self, FULL_BUILD};
use super::values::{MAX_TAGS, parse_aliyun_command_id, parse_aliyun_instance_id};
use super::{Cli, Command, ENV_OUTPUT, ENV_PROVIDER, STDIN};
use crate::provider::contract::CloudKind;
use crate::render::OutputFormat;

use CloudKind::{Aliyun, Aws};

/// Every flag that one cloud has and the other has not: the subcommand, clap's id of the
/// argument, the flag, and the cloud that has it.
pub const CLOUD_FLAGS: [(&str, &str, &str, CloudKind); 28] = [
    ("get", "invoke_id", "--invoke-id", Aliyun),
    ("get", "plugin_name", "--plugin-name", Aws),
    ("get", "full_output", "--full-output", Aws),
    ("wait", "invoke_id", "--invoke-id", Aliyun),
    ("wait", "plugin_name", "--plugin-name", Aws),
    ("wait", "follow", "--follow", Aws),
    ("wait", "full_output", "--full-output", Aws),
    ("list", "invoke_id", "--invoke-id", Aliyun),
    ("list", "status", "--status", Aliyun),
    ("list", "include_history", "--include-history", Aliyun),
    ("list", "tags", "--tag", Aliyun),
    ("list", "resource_group_id", "--resource-group-id", Aliyun),
    ("list", "details", "--details", Aws),
    ("run", "targets", "--target", Aws),
    ("run", "document", "--document", Aws),
    ("run", "document_version", "--document-version", Aws),
    ("run", "parameters", "--parameter", Aws),
    ("run", "delivery_timeout", "--delivery-timeout", Aws),
    ("run", "max_concurrency", "--max-concurrency", Aws),
    ("run", "max_errors", "--max-errors", Aws),
    ("run", "output_s3_bucket", "--output-s3-bucket", Aws),
    ("run", "output_s3_prefix", "--output-s3-prefix", Aws),
    ("run", "cloudwatch_output", "--cloudwatch-output", Aws),
    ("run", "plugin_name", "--plugin-name", Aws),
    ("run", "follow", "--follow", Aws),
    ("run", "full_output", "--full-output", Aws),
    ("run", "working_dir", "--working-dir", Aliyun),
    ("run", "username", "--username", Aliyun),
];

/// Subcommands only AWS has.
const AWS_COMMANDS: [&str; 1] = ["task-invocations"];

pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// As `parse`, for any argv; SSMRES_PROVIDER and SSMRES_OUTPUT are read from the process
/// environment (by ssmres, not clap: clap checks a global flag's variable even when the flag
/// is given, so a bad value would break an explicit flag).
pub fn parse_from(args: impl IntoIterator<Item = impl Into<OsString>>) -> Result<Cli, clap::Error> {
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let first = first_pass(&args);
    let cloud = match first.provider.as_deref() {
        // Any case picks the definition; clap then reports a value that names no cloud (or
        // names it in the wrong case, with a tip), against the AWS definition if it names none.
        Some(value) => CloudKind::from_str(value, true).unwrap_or(Aws),
        None => match std::env::var(ENV_PROVIDER).ok().filter(|v| !v.is_empty()) {
            Some(value) => CloudKind::from_str(&value, true).map_err(|_| {
                definition(Aws).error(
                    ErrorKind::InvalidValue,
                    format!("invalid value '{value}' in {ENV_PROVIDER}: expected aws or aliyun"),
                )
            })?,
            None => Aws,
        },
    };
    let mut command = definition(cloud)
        // `get --command-id -` may take its instance from stdin as well.
        .mut_subcommand("get", |c| {
            c.mut_arg("instance_id", |a| {
                a.required(!first.command_id_from_stdin && cloud == Aws)
            })
        });
    let mut matches = command.try_get_matches_from_mut(args)?;
    if let Some(message) = other_cloud_flag(&matches, cloud).or_else(|| {
        (!FULL_BUILD)
            .then(|| full_build::refused(&matches))
            .flatten()
    }) {
        return Err(command.error(ErrorKind::ArgumentConflict, message));
    }
    let mut cli = Cli::from_arg_matches_mut(&mut matches)?;
    cli.global.provider = cloud;
    // Neither man nor completions print results: a bad SSMRES_OUTPUT must not break them.
    let prints_results = !matches!(cli.command, Command::Man | Command::Completions { .. });
    if prints_results
        && cli.global.output.is_none()
        && let Some(value) = std::env::var(ENV_OUTPUT).ok().filter(|v| !v.is_empty())
    {
        cli.global.output = Some(OutputFormat::from_str(&value, true).map_err(|_| {
            command.error(
                ErrorKind::InvalidValue,
                format!(
                    "invalid value '{value}' in {ENV_OUTPUT}: expected table, json, jsonl or text"
                ),
            )
        })?);
    }
    check(&cli).map_err(|message| command.error(ErrorKind::ArgumentConflict, message))?;
    Ok(cli)
}

/// What the lenient first pass found.
#[derive(Default)]
struct FirstPass {
    /// --provider's value as given.
    provider: Option<String>,
    command_id_from_stdin: bool,
}

/// clap with errors ignored, help and version mere flags, and every value taken as it comes (a
/// value is checked by the cloud's own rules, and clap stops at the first it refuses):
/// `get --help --instance-id i-bp1… --provider aliyun` is read for its cloud before the help
/// for that cloud is printed.
fn first_pass(args: &[OsString]) -> FirstPass {
    let lenient = |c: clap::Command| {
        c.disable_help_flag(true)
            .disable_version_flag(true)
            .arg(clap::Arg::new("help").short('h').long("help").num_args(0))
            .arg(
                clap::Arg::new("version")
                    .short('V')
                    .long("version")
                    .num_args(0),
            )
            .mut_args(|a| match a.get_action().takes_values() {
                true => a.value_parser(clap::value_parser!(String)),
                false => a,
            })
    };
    let mut command = lenient(Cli::command())
        .ignore_errors(true)
        .disable_help_subcommand(true);
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, lenient);
    }
    let Ok(matches) = command.try_get_matches_from(args) else {
        return FirstPass::default();
    };
    let given = |id| matches.value_source(id) == Some(ValueSource::CommandLine);
    let get = matches.subcommand_matches("get");
    let command_id = get.and_then(|m| m.get_one::<String>("command_id"));
    FirstPass {
        provider: given("provider")
            .then(|| matches.get_one::<String>("provider").cloned())
            .flatten(),
        command_id_from_stdin: command_id.is_some_and(|id| id == STDIN),
    }
}

/// The definition as one cloud sees it: its IDs required and checked, the other cloud's flags
/// hidden from `--help`.
pub fn definition(cloud: CloudKind) -> clap::Command {
    let mut command = full_build::as_built(Cli::command());
    for (sub, id, _, _) in CLOUD_FLAGS.iter().filter(|f| f.3 != cloud) {
        command = command.mut_subcommand(sub, |c| c.mut_arg(id, |a| a.hide(true)));
    }
    let required = |a: clap::Arg| a.required(true);
    match cloud {
        Aws => command
            .mut_subcommand("get", |c| {
                c.mut_arg("command_id", required)
                    .mut_arg("instance_id", required)
            })
            .mut_subcommand("wait", |c| c.mut_arg("command_id", required))
            .mut_subcommand("list", |c| c.mut_arg("command_id", required)),
        Aliyun => {
            let command_id = |a: clap::Arg| {
                a.value_parser(parse_aliyun_command_id)
                    .help("Only results of this command (c-…, or a public command's name)")
            };
            let instance_id = |help: &'static str| {
                move |a: clap::Arg| a.value_parser(parse_aliyun_instance_id).help(help)
            };
            for name in AWS_COMMANDS {
                command = command.mut_subcommand(name, |c| c.hide(true));
            }
            command
                .about(
                    "Fetch and wait for the results of Alibaba Cloud ECS Cloud Assistant \
                     invocations (DescribeInvocationResults; a wait on several instances reads \
                     their states with DescribeInvocations)",
                )
                .mut_subcommand("get", |c| {
                    c.about("Fetch an invocation's per-instance results, every page")
                        .mut_arg("invoke_id", required)
                        .mut_arg("command_id", command_id)
                        .mut_arg(
                            "instance_id",
                            instance_id(
                                "Only this instance's result (i-…, or mi-… for a managed \
                                 instance)",
                            ),
                        )
                })
                .mut_subcommand("wait", |c| {
                    c.about(
                        "Poll until every instance's InvocationStatus is final, then print as \
                         `get` does",
                    )
                    .mut_arg("invoke_id", required)
                    .mut_arg("command_id", command_id)
                    .mut_arg(
                        "instance_ids",
                        instance_id("Wait for this instance only (i-…); repeat for several"),
                    )
                })
                .mut_subcommand("run", |c| {
                    let c = c
                        .about(
                            "Run a command on instances (RunCommand), then wait for it as \
                             `wait` does and exit as it did",
                        )
                        .mut_arg(
                            "instance_ids",
                            instance_id(
                                "Instance to run on (i-…); repeat for several (at most 50)",
                            ),
                        );
                    // mut_arg moved it last: the others go back after it, in their order, so
                    // that its heading (Targets) stays the first in --help.
                    let others: Vec<clap::Id> = (c.get_arguments())
                        .map(|a| a.get_id().clone())
                        .filter(|id| id != "instance_ids")
                        .collect();
                    others.iter().fold(c, |c, id| c.mut_arg(id, |a| a))
                })
                .mut_subcommand("list", |c| {
                    c.about("List invocation results, every page (DescribeInvocationResults)")
                        .mut_arg("command_id", command_id)
                        .mut_arg(
                            "instance_id",
                            instance_id(
                                "Only this instance's result (i-…, or mi-… for a managed \
                                 instance)",
                            ),
                        )
                })
        }
    }
}

/// The first flag (or subcommand) given that belongs to the other cloud, as a message.
fn other_cloud_flag(matches: &ArgMatches, cloud: CloudKind) -> Option<String> {
    let (name, sub) = matches.subcommand()?;
    if cloud == Aliyun && AWS_COMMANDS.contains(&name) {
        return Some(format!(
            "{name} is for AWS maintenance windows; it is not available with --provider aliyun"
        ));
    }
    let given = |id: &str| sub.value_source(id) == Some(ValueSource::CommandLine);
    let (_, _, flag, _) = CLOUD_FLAGS
        .iter()
        .find(|(s, id, _, only)| *s == name && *only != cloud && given(id))?;
    Some(match cloud {
        Aws => format!("{flag} is for --provider aliyun (Alibaba Cloud)"),
        Aliyun => format!("{flag} is not available with --provider aliyun (it is AWS-only)"),
    })
}

/// Combinations the service would refuse.
fn check(cli: &Cli) -> Result<(), String> {
    if let Command::Run(run) = &cli.command {
        return run.check(cli.global.provider);
    }
    let Command::List(a) = &cli.command else {
        return Ok(());
    };
    if cli.global.provider != Aliyun {
        return Ok(());
    }
    if a.include_history && a.invoke_id.is_none() {
        return Err(
            "--include-history needs --invoke-id: the service keeps the history of one \
                    periodic task at a time"
                .into(),
        );
    }
    if a.tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} --tag filters"));
    }
    let mut keys = BTreeSet::new();
    match a.tags.iter().find(|(k, _)| !keys.insert(k)) {
        Some((k, _)) => Err(format!("--tag {k}=… is given twice")),
        None => Ok(()),
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
