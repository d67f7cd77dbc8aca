//! Flags that need the full build. `--full-output` and `--follow` read S3 and CloudWatch Logs,
//! whose clients a build without the `full-output` feature (`--no-default-features`) leaves
//! out. Such a build keeps the flags, so that a script using them gets a clear error (exit 2,
//! before any call) rather than "unexpected argument", and its `--help` says what they need.

use clap::ArgMatches;
use clap::parser::ValueSource;

/// Whether this binary has the S3 and CloudWatch Logs clients.
pub const FULL_BUILD: bool = cfg!(feature = "full-output");

/// clap's id of each flag that needs them, and the flag, in any subcommand that has it.
pub const FULL_BUILD_FLAGS: [(&str, &str); 2] =
    [("full_output", "--full-output"), ("follow", "--follow")];

/// What `--help` adds to each of those flags in a build without them.
const NOTE: &str = "(needs the full build)";

/// The definition as this build has it.
pub fn as_built(command: clap::Command) -> clap::Command {
    if FULL_BUILD { command } else { mark(command) }
}

/// The definition of a build without the clients: each of those flags' help ends with the
/// note.
pub fn mark(mut command: clap::Command) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, |c| {
            c.mut_args(|a| {
                if !FULL_BUILD_FLAGS.iter().any(|(id, _)| a.get_id() == *id) {
                    return a;
                }
                let help = a.get_help().map(|h| format!("{h} {NOTE}"));
                let long = a.get_long_help().map(|h| format!("{h} {NOTE}"));
                match (help, long) {
                    (Some(help), Some(long)) => a.help(help).long_help(long),
                    (Some(help), None) => a.help(help),
                    (None, _) => a.help(NOTE),
                }
            })
        });
    }
    command
}

/// The first of those flags given on the command line, as the message refusing it.
pub fn refused(matches: &ArgMatches) -> Option<String> {
    let (_, sub) = matches.subcommand()?;
    let given = |id: &str| {
        sub.ids().any(|i| i.as_str() == id)
            && sub.value_source(id) == Some(ValueSource::CommandLine)
    };
    let (_, flag) = FULL_BUILD_FLAGS.iter().find(|(id, _)| given(id))?;
    // No quote marks: main.rs cuts a quoted span short, taking it for a value clap echoed.
    Some(format!(
        "{flag} needs the full build of ssmres: this one was built with --no-default-features, \
         without S3 and CloudWatch Logs"
    ))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    /// Whatever this binary's build, the lean definition is what a lean build parses with.
    fn lean_matches(line: &str) -> ArgMatches {
        mark(Cli::command())
            .try_get_matches_from(line.split_whitespace())
            .unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[test]
    fn a_lean_build_refuses_the_flags_by_name() {
        let cid = "0b5d7e2a-6f1c-4c55-9a43-2d0f6a8e1c11";
        let iid = "i-0abc1234def567890";
        for (line, flag) in [
            (
                format!("ssmres get --command-id {cid} --instance-id {iid} --full-output"),
                "--full-output",
            ),
            (
                format!("ssmres wait --command-id {cid} --follow"),
                "--follow",
            ),
            (
                format!("ssmres wait --command-id {cid} --full-output --follow"),
                "--full-output",
            ),
        ] {
            let message = refused(&lean_matches(&line)).unwrap_or_else(|| panic!("{line}"));
            assert!(
                message.starts_with(&format!("{flag} needs the full build")),
                "{message}"
            );
            assert!(
                !message.contains(['\n', '\'']),
                "one line, no quotes: {message}"
            );
        }
        let plain = format!("ssmres wait --command-id {cid} --instance-id {iid}");
        assert_eq!(refused(&lean_matches(&plain)), None);
        assert_eq!(refused(&lean_matches("ssmres man")), None);
    }

    #[test]
    fn a_lean_build_s_help_says_what_the_flags_need() {
        let mut lean = mark(Cli::command());
        for (sub, id) in [
            ("get", "full_output"),
            ("wait", "full_output"),
            ("wait", "follow"),
        ] {
            let command = lean.find_subcommand_mut(sub).unwrap();
            let arg = command.get_arguments().find(|a| a.get_id() == id).unwrap();
            let help = arg.get_help().unwrap().to_string();
            assert!(help.ends_with(NOTE), "{sub} {id}: {help}");
        }
        // Other flags are left alone.
        let get = lean.find_subcommand_mut("get").unwrap();
        let other = get
            .get_arguments()
            .find(|a| a.get_id() == "plugin_name")
            .unwrap();
        assert!(!other.get_help().unwrap().to_string().contains(NOTE));
    }

    #[test]
    fn this_build_marks_the_flags_only_without_the_clients() {
        let mut command = as_built(Cli::command());
        let wait = command.find_subcommand_mut("wait").unwrap();
        let follow = wait
            .get_arguments()
            .find(|a| a.get_id() == "follow")
            .unwrap();
        let marked = follow.get_help().unwrap().to_string().ends_with(NOTE);
        assert_eq!(marked, !FULL_BUILD);
    }
}
