//! The cloud found before parsing, each cloud's definition, and the flags it refuses.

use super::*;
use crate::cli::RecordStatus;

const CMD: &str = "32d70fe0-ddbc-4a4e-943f-ffcbc0123456";
const WINDOW: &str = "8f2b8e3c-1a2b-4c3d-9e8f-0123456789ab";

/// argv from one line of words (`CMD` stands for a command ID).
fn argv(line: &str) -> Vec<OsString> {
    std::iter::once("ssmres")
        .chain(line.split_whitespace())
        .map(|w| OsString::from(if w == "CMD" { CMD } else { w }))
        .collect()
}

fn parse(line: &str) -> Result<Cli, clap::Error> {
    parse_from(argv(line))
}

/// The message of a refused command line.
fn refusal(line: &str) -> String {
    match parse(line) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{line:?} was accepted"),
    }
}

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
    definition(Aws).debug_assert();
    definition(Aliyun).debug_assert();
}

#[test]
fn the_provider_is_found_before_parsing() {
    let provider_in = |line| first_pass(&argv(line)).provider;
    let aliyun = Some("aliyun".to_owned());
    assert_eq!(provider_in("--provider aliyun get --help"), aliyun);
    // Help, or a value the first cloud's rules would refuse, does not hide a later --provider.
    assert_eq!(provider_in("get --help --provider aliyun"), aliyun);
    assert_eq!(
        provider_in("wait -h --invoke-id t-1 --provider aliyun"),
        aliyun
    );
    let id = "get --instance-id i-bp1i7gg30r52z2em --provider=aliyun";
    assert_eq!(provider_in(id), aliyun);
    assert_eq!(
        provider_in("--provider Aliyun get").as_deref(),
        Some("Aliyun")
    );
    let help = refusal("get --help --provider aliyun");
    assert!(
        help.contains("--invoke-id") && !help.contains("--plugin-name"),
        "{help}"
    );
    assert!(refusal("--provider Aliyun get --invoke-id t-1").contains("tip"));
    assert_eq!(provider_in("get -- --provider aliyun"), None);
    assert_eq!(provider_in("get --providers x"), None);
    assert_eq!(provider_in("get"), None);
    assert!(first_pass(&argv("get --command-id -")).command_id_from_stdin);
}

#[test]
fn each_provider_requires_its_own_ids() {
    assert!(parse("get --command-id CMD --instance-id i-0123abcd").is_ok());
    assert!(
        parse("get --command-id CMD").is_err(),
        "AWS needs the instance"
    );
    let cli = parse("--provider aliyun get --invoke-id t-abc1");
    assert!(cli.is_ok_and(|c| c.global.provider == Aliyun));
    assert!(
        parse("--provider aliyun get").is_err(),
        "aliyun needs --invoke-id"
    );
    // Alibaba instance IDs are not AWS ones, and the other way round.
    assert!(
        parse("--provider aliyun get --invoke-id t-abc1 --instance-id i-bp1i7gg30r52z2em").is_ok()
    );
    assert!(parse("get --command-id CMD --instance-id i-bp1i7gg30r52z2em").is_err());
    assert!(parse("--provider aliyun get --invoke-id t-").is_err());
    assert!(parse("--provider aliyun get --invoke-id c-abc").is_err());
}

#[test]
fn flags_of_the_other_provider_are_refused() {
    for (line, says) in [
        (
            "list --command-id CMD --tag a=b",
            "--tag is for --provider aliyun",
        ),
        (
            "get --command-id CMD --instance-id i-0123abcd --invoke-id t-1",
            "--invoke-id",
        ),
        (
            "--provider aliyun wait --invoke-id t-1 --follow",
            "--follow is not available with --provider aliyun",
        ),
        ("--provider aliyun list --include-history", "--invoke-id"),
        ("--provider aliyun list --tag a=1 --tag a=2", "twice"),
        (
            &format!("--provider aliyun task-invocations --window-execution-id {WINDOW}"),
            "task-invocations is for AWS",
        ),
    ] {
        assert!(refusal(line).contains(says), "{line:?}: {}", refusal(line));
    }
    assert!(parse("--provider aliyun list --status partialfailed").is_ok());
    assert!(
        parse("--provider aliyun wait --invoke-id t-1 --instance-id i-a1 --instance-id i-b2")
            .is_ok()
    );
    assert_eq!(RecordStatus::PartialFailed.api_name(), "PartialFailed");
}

#[test]
fn every_cloud_flag_exists_and_is_hidden_from_the_other_cloud() {
    for cloud in [Aws, Aliyun] {
        let command = definition(cloud);
        for (name, id, flag, only) in CLOUD_FLAGS {
            let sub = command.find_subcommand(name).expect(name);
            let arg = sub.get_arguments().find(|a| a.get_id() == id).expect(id);
            let long = arg.get_long().map(|l| format!("--{l}"));
            assert_eq!(long.as_deref(), Some(flag));
            assert_eq!(arg.is_hide_set(), only != cloud, "{flag}");
        }
    }
}

#[test]
fn statuses_are_checked_and_sent_upper_case() {
    let window = |rest: &str| {
        parse(&format!(
            "task-invocations --window-execution-id {WINDOW} {rest}"
        ))
    };
    let Ok(Cli {
        command: Command::TaskInvocations(a),
        ..
    }) = window("--status failed --status Timed_Out")
    else {
        panic!("valid statuses rejected");
    };
    assert_eq!(a.statuses, ["FAILED", "TIMED_OUT"]);
    assert!(window("--status DONE").is_err());
    assert!(window("--timeout 5m").is_err(), "--timeout needs --wait");
    assert!(window("--wait --max-items 3").is_err());
    assert!(window("--wait --timeout 5m").is_ok());
}

#[test]
fn run_takes_the_words_after_the_separator_and_refuses_the_other_clouds_flags() {
    let Ok(Cli {
        command: Command::Run(a),
        ..
    }) = parse("run --instance-id i-0123456789abcdef0 --timeout 5m -- echo -n a b")
    else {
        panic!("a valid run rejected");
    };
    assert_eq!(a.command, ["echo", "-n", "a", "b"]);
    assert_eq!(a.command_line().as_deref(), Some("echo -n a b"));
    assert_eq!(a.wait.timeout, Some(std::time::Duration::from_secs(300)));
    let aws = refusal("run --instance-id i-0123456789abcdef0 --username bob -- x");
    assert!(aws.contains("--username is for --provider aliyun"), "{aws}");
    let aliyun = refusal("--provider aliyun run --instance-id i-bp1abc --document Doc-1 -- x");
    assert!(aliyun.contains("--document is not available"), "{aliyun}");
    assert!(parse("--provider aliyun run --instance-id i-bp1abc --shell bat -- dir").is_ok());
    // Alibaba Cloud's instance IDs, checked by its own rule.
    assert!(parse("run --instance-id i-bp1abc -- x").is_err());
}

#[test]
fn run_help_keeps_its_headings_in_order_for_each_cloud() {
    for provider in ["", "--provider aliyun"] {
        let help = refusal(&format!("{provider} run --help"));
        let at = |heading: &str| help.find(heading).unwrap_or(usize::MAX);
        let order = ["Targets:", "What to run:", "Send options:", "Waiting (as"];
        assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{help}");
    }
}
