//! `ssmres list`: ListCommandInvocations over every page, against the scripted fake.
//!
//! Pagination (NextToken passed through, no page fetched twice or skipped, no more pages than
//! needed with --max-items), retries of a failing page, the request bodies, and every output
//! format, JSON byte for byte as the aws CLI prints it.

use std::process::Output;

use serde_json::{Value, json};

use crate::support::fake_ssm::{
    CMD_ID, Call, FakeSsm, Fleet, GET_COMMAND_INVOCATION, INSTANCE_ID, LIST_COMMAND_INVOCATIONS,
    LIST_PAGE_SIZE, REQUESTED_AT_MS, SHELL_PLUGIN, Step, epoch_ms, fleet_instance_id,
    fleet_records, listed_invocation,
};
use crate::support::{
    Args, Cli, assert_error, assert_exit, assert_no_raw_controls, assert_output, assert_rejected,
    assert_same_lines, assert_totals, botocore_iso, cells, check, check_eq, describe, row_of, run,
    stdout_json, stdout_str,
};

// --- Helpers -------------------------------------------------------------------------------------

/// Runs `ssmres list --command-id CMD_ID ARGS` against `fake` with `TZ` set to `tz` and these
/// variables.
fn run_list_tz(fake: &FakeSsm, tz: &str, env: &[(&str, &str)], args: impl Args) -> Output {
    let mut cmd = Cli::new(&fake.url()).cmd();
    run(cmd
        .env("TZ", tz)
        .envs(env.iter().copied())
        .args(["list", "--command-id", CMD_ID])
        .args(args.words()))
}

/// Runs `ssmres list --command-id CMD_ID ARGS` against `fake` with `TZ=UTC`.
fn run_list(fake: &FakeSsm, args: impl Args) -> Output {
    run_list_tz(fake, "UTC", &[], args)
}

/// Starts a fake serving `fleet`, runs [`run_list`] and asserts the exit code.
#[track_caller]
fn listed(fleet: impl Into<Fleet>, code: i32, args: &str) -> (FakeSsm, Output) {
    let fake = FakeSsm::with_fleet(fleet);
    let out = run_list(&fake, args);
    assert_exit(&out, code);
    (fake, out)
}

/// The pages served (`200 OK` answers to ListCommandInvocations), in order.
fn served(fake: &FakeSsm) -> Vec<Call> {
    fake.served(LIST_COMMAND_INVOCATIONS)
}

#[test]
fn the_iso_helper_agrees_with_botocore() {
    // Values printed by `python3 -c 'import datetime,dateutil.tz; ...fromtimestamp(t, tz)'`.
    for (epoch, offset, printed) in [
        (1_715_677_951.291, 0, "2024-05-14T09:12:31.291000+00:00"),
        (1_715_677_952.0, 0, "2024-05-14T09:12:32+00:00"),
        (
            1_715_677_951.291,
            19_800,
            "2024-05-14T14:42:31.291000+05:30",
        ),
        (
            1_715_677_951.291,
            -4 * 3_600,
            "2024-05-14T05:12:31.291000-04:00",
        ),
        (951_782_400.5, 0, "2000-02-29T00:00:00.500000+00:00"),
    ] {
        assert_eq!(botocore_iso(epoch, offset), printed);
    }
}

const TIMESTAMP_KEYS: [&str; 3] = [
    "RequestedDateTime",
    "ResponseStartDateTime",
    "ResponseFinishDateTime",
];

/// A record the fake serves, as the aws CLI prints it (values only; key order is checked by the
/// byte-exact tests): timestamps in ISO 8601 in UTC, `CommandPlugins` only with `details` (the
/// fake leaves it out otherwise).
fn as_printed(record: &Value, details: bool) -> Value {
    fn walk(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::Number(n) if TIMESTAMP_KEYS.contains(&k.as_str()) => {
                                Value::String(botocore_iso(n.as_f64().unwrap(), 0))
                            }
                            other => walk(other),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(walk).collect()),
            other => other.clone(),
        }
    }
    let mut printed = walk(record);
    if !details {
        printed.as_object_mut().unwrap().remove("CommandPlugins");
    }
    printed
}

/// The `CommandInvocations` of a `-o json` run, checking the document has nothing else.
#[track_caller]
fn invocations_of(out: &Output) -> Vec<Value> {
    let doc = stdout_json(out);
    let keys: Vec<&String> = doc
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object\n{}", describe(out)))
        .keys()
        .collect();
    let only = "the document holds CommandInvocations and nothing else (no NextToken)";
    check_eq!(out, keys, ["CommandInvocations"], "{only}");
    doc["CommandInvocations"].as_array().unwrap().clone()
}

fn instance_ids(invocations: &[Value]) -> Vec<String> {
    invocations
        .iter()
        .map(|v| v["InstanceId"].as_str().unwrap_or("<none>").to_owned())
        .collect()
}

/// Asserts the output lists exactly `expected` (as the fake holds them), in order, once each.
#[track_caller]
fn assert_lists_exactly(out: &Output, expected: &[Value], details: bool) {
    let got = invocations_of(out);
    let want: Vec<Value> = expected.iter().map(|r| as_printed(r, details)).collect();
    let (got_ids, want_ids) = (instance_ids(&got), instance_ids(&want));
    let why = "number of invocations listed";
    check_eq!(out, got_ids.len(), want_ids.len(), "{why}");
    assert_eq!(got_ids, want_ids, "invocations listed, in order");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "invocation #{i} ({})", want_ids[i]);
    }
}

/// Asserts the pages were requested one after the other: the first without a NextToken, each
/// later one with the token of the page before, each served once; `base` is the body every
/// request has besides `MaxResults` and `NextToken`.
#[track_caller]
fn assert_walked_pages(fake: &FakeSsm, base: &Value, pages: usize) {
    let served = served(fake);
    let numbers: Vec<usize> = served.iter().map(|p| p.page).collect();
    let why = format!("pages served: {served:#?}");
    assert_eq!(numbers, (1..=pages).collect::<Vec<_>>(), "{why}");
    let requests = fake.calls_to(LIST_COMMAND_INVOCATIONS);
    assert_eq!(requests.len(), pages, "ListCommandInvocations requests");
    let mut token: Option<String> = None;
    for (i, (req, page)) in requests.iter().zip(&served).enumerate() {
        let mut want = base.clone();
        want["MaxResults"] = json!(LIST_PAGE_SIZE);
        if let Some(t) = &token {
            want["NextToken"] = json!(t);
        }
        assert_eq!(req.body, want, "body of request #{}", i + 1);
        token = page.next_token.clone();
    }
    assert_eq!(token, None, "the last page served had no NextToken");
}

/// `{"CommandId": CMD_ID}` with `more` members.
fn body_with(more: Value) -> Value {
    let mut body = json!({"CommandId": CMD_ID});
    body.as_object_mut()
        .unwrap()
        .extend(more.as_object().unwrap().clone());
    body
}

// --- Pagination ----------------------------------------------------------------------------------

#[test]
fn every_page_is_fetched_and_merged_in_order() {
    // (invocations, arguments, pages): ceil(n / 50) pages, each asked for once, tokens passed
    // through as issued; a list that fits one page costs one call; without -o, stdout being a
    // pipe, the JSON.
    for (n, args, pages) in [
        (260, "-o json", 6),
        (LIST_PAGE_SIZE, "-o json", 1),
        (3, "", 1),
    ] {
        let records = fleet_records(n);
        let (fake, out) = listed(records.clone(), 0, args);
        let why = format!("{n} invocations, {args:?}");
        check!(out, out.stderr.is_empty(), "{why}");
        assert_lists_exactly(&out, &records, false);
        assert_eq!(n.div_ceil(LIST_PAGE_SIZE), pages, "{why}");
        assert_walked_pages(&fake, &body_with(json!({})), pages);
        assert_eq!(fake.total_requests(), pages, "no other call: {why}");
    }
}

#[test]
fn a_token_on_the_last_full_page_leads_to_an_empty_page_that_ends_the_list() {
    let records = fleet_records(100);
    let fleet = Fleet::new(records.clone()).token_after_last_full_page();
    let (fake, out) = listed(fleet, 0, "-o json");
    assert_lists_exactly(&out, &records, false);
    assert_walked_pages(&fake, &body_with(json!({})), 3);
    assert_eq!(served(&fake)[2].answer["CommandInvocations"], json!([]));
}

#[test]
fn an_empty_list_prints_an_empty_array() {
    let (fake, out) = listed(Vec::new(), 0, "-o json");
    let want = "{\n    \"CommandInvocations\": []\n}\n";
    check_eq!(out, stdout_str(&out), want);
    assert_walked_pages(&fake, &body_with(json!({})), 1);
    let (_, out) = listed(Vec::new(), 0, "-o jsonl");
    check!(out, out.stdout.is_empty());
}

#[test]
fn instance_id_filter_is_sent() {
    let records = fleet_records(120);
    let wanted = fleet_instance_id(77);
    let args = format!("--instance-id {wanted} -o json");
    let (fake, out) = listed(records.clone(), 0, &args);
    assert_lists_exactly(&out, &records[77..78], false);
    assert_walked_pages(&fake, &body_with(json!({"InstanceId": wanted})), 1);

    // A node the command did not run on: an empty list, not an error.
    let (_, out) = listed(records, 0, &format!("--instance-id {INSTANCE_ID} -o json"));
    check!(out, invocations_of(&out).is_empty());
}

#[test]
fn details_are_asked_for_on_every_page_and_plugins_shown() {
    let records = fleet_records(120);
    let (fake, out) = listed(records.clone(), 0, "--details -o json");
    assert_lists_exactly(&out, &records, true);
    assert_walked_pages(&fake, &body_with(json!({"Details": true})), 3);
    let plugin = &invocations_of(&out)[5]["CommandPlugins"][0];
    let want = format!("hello from {}\n", fleet_instance_id(5));
    assert_eq!(plugin["Output"], want);
    let want = "2024-05-14T09:12:31.791000+00:00";
    assert_eq!(plugin["ResponseStartDateTime"], want);

    // Both filters together.
    let wanted = fleet_instance_id(3);
    let args = format!("--instance-id {wanted} --details -o json");
    let (fake, out) = listed(records.clone(), 0, &args);
    assert_lists_exactly(&out, &records[3..4], true);
    assert_walked_pages(
        &fake,
        &body_with(json!({"InstanceId": wanted, "Details": true})),
        1,
    );
}

#[test]
fn without_details_plugins_are_printed_as_the_service_sent_them() {
    // Left out by the service: left out of the output.
    let records = fleet_records(2);
    let (_, out) = listed(records.clone(), 0, "-o json");
    for invocation in invocations_of(&out) {
        assert!(invocation.get("CommandPlugins").is_none(), "{invocation}");
    }
    // An empty list from the service: an empty list in the output.
    let fleet = Fleet::new(records).empty_plugin_list_without_details();
    let (_, out) = listed(fleet, 0, "-o json");
    for invocation in invocations_of(&out) {
        assert_eq!(invocation["CommandPlugins"], json!([]), "{invocation}");
    }
    check!(out, stdout_str(&out).contains("\"CommandPlugins\": [],\n"));
}

#[test]
fn a_throttled_page_and_a_500_in_the_middle_lose_and_duplicate_nothing() {
    let records = fleet_records(260);
    let fleet = Fleet::new(records.clone())
        .fail_page(2, vec![Step::throttled()])
        .fail_page(4, vec![Step::Status500])
        // Two failures in a row on one page: the third (last by default) attempt gets it.
        .fail_page(5, vec![Step::throttled(), Step::Status500]);
    let (fake, out) = listed(fleet, 0, "-o json");
    assert_lists_exactly(&out, &records, false);
    // 6 pages, 4 of their requests answered with an error and asked again.
    let requests = fake.calls_to(LIST_COMMAND_INVOCATIONS);
    assert_eq!(requests.len(), 6 + 4, "{requests:#?}");
    let served = served(&fake);
    assert_eq!(
        served.iter().map(|p| p.page).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    // A retry asks for the same page again: same body, same token.
    let token = |page: usize| Some(json!(served[page - 2].next_token.as_deref().unwrap()));
    let pages_asked: Vec<Option<Value>> = requests
        .iter()
        .map(|r| r.body.get("NextToken").cloned())
        .collect();
    let retried = [2, 2, 3, 4, 4, 5, 5, 5, 6].map(token);
    let want: Vec<Option<Value>> = std::iter::once(None).chain(retried).collect();
    assert_eq!(pages_asked, want);
    assert_eq!(requests[1].body, requests[2].body);
}

#[test]
fn a_dropped_connection_on_a_page_is_retried() {
    let records = fleet_records(120);
    let fleet = Fleet::new(records.clone()).fail_page(2, vec![Step::DropConnection]);
    let (fake, out) = listed(fleet, 0, "-o json");
    assert_lists_exactly(&out, &records, false);
    assert_eq!(fake.count(LIST_COMMAND_INVOCATIONS), 4);
}

#[test]
fn a_page_that_keeps_failing_ends_in_exit_3_after_the_sdk_retries() {
    // AWS_MAX_ATTEMPTS is honoured: the page is asked for that many times, then the run fails.
    // (invocations, the failing page, its answer, variables, calls in all)
    let two_attempts: &[(&str, &str)] = &[("AWS_MAX_ATTEMPTS", "2")];
    for (n, page, step, env, calls) in [
        (120, 2, Step::Status500, &[][..], 1 + 3),
        (120, 2, Step::Status500, two_attempts, 1 + 2),
        (10, 1, Step::throttled(), two_attempts, 2),
    ] {
        let fake = FakeSsm::with_fleet(Fleet::new(fleet_records(n)).fail_page_always(page, step));
        let out = run_list_tz(&fake, "UTC", env, "-o json");
        // No half list that a script could take for the whole one.
        assert_error(&out, 3);
        let why = format!("page {page} failing, {env:?}");
        check_eq!(out, fake.count(LIST_COMMAND_INVOCATIONS), calls, "{why}");
    }
}

#[test]
fn access_denied_and_an_invalid_command_id_exit_3_with_the_message_after_one_call() {
    let message = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
                   ssm:ListCommandInvocations on resource: arn:aws:ssm:us-east-1:123456789012:*";
    for (step, message) in [
        (Step::access_denied(message), message),
        (Step::error("InvalidCommandId", ""), ""),
    ] {
        let fleet = Fleet::new(fleet_records(10)).fail_page_always(1, step.clone());
        let (fake, out) = listed(fleet, 3, "-o json");
        let line = assert_error(&out, 3);
        let why = format!("stderr should carry the message: {line:?}");
        assert!(line.contains(message), "{why}");
        let why = format!("{step:?} is not retried");
        assert_eq!(fake.count(LIST_COMMAND_INVOCATIONS), 1, "{why}");
    }
}

// ---------------------------------------------------------------------------------------------
// --max-items
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_max_items(total: usize, max_items: usize, want_items: usize, want_calls: usize) {
    let records = fleet_records(total);
    let args = format!("--max-items {max_items} -o json");
    let (fake, out) = listed(records.clone(), 0, &args);
    assert_lists_exactly(&out, &records[..want_items], false);
    let requests = fake.calls_to(LIST_COMMAND_INVOCATIONS);
    let bodies: Vec<&Value> = requests.iter().map(|r| &r.body).collect();
    let why = format!("--max-items {max_items} of {total}: pages requested {bodies:#?}");
    assert_eq!(requests.len(), want_calls, "{why}");
    // Every page followed the one before (the fake rejects MaxResults outside 1..=50).
    let served = served(&fake);
    assert_eq!(served.len(), want_calls);
    for (i, req) in requests.iter().enumerate() {
        assert_eq!(req.body["CommandId"], CMD_ID);
        let token = i.checked_sub(1).and_then(|p| served[p].next_token.clone());
        let why = format!("NextToken of request #{}", i + 1);
        assert_eq!(req.field("NextToken"), token.as_deref(), "{why}");
    }
}

#[test]
fn max_items_stops_fetching_once_enough_were_collected() {
    // (--max-items, listed, calls) of 260.
    for (max_items, listed, calls) in [
        (75, 75, 2),
        (50, 50, 1),
        (1, 1, 1),
        (120, 120, 3),
        (260, 260, 6),
        (1_000, 260, 6),
    ] {
        assert_max_items(260, max_items, listed, calls);
    }
}

// --- Validation ----------------------------------------------------------------------------------

#[test]
fn bad_input_is_rejected_before_any_request() {
    let (short_cmd, long_cmd) = (&CMD_ID[..35], format!("{CMD_ID}0"));
    for args in [
        "",
        &format!("--command-id {short_cmd}"),
        &format!("--command-id {long_cmd}"),
    ] {
        assert_rejected(format!("list {args}"));
    }
    assert_rejected(["list", "--command-id", ""]);
    for args in [
        "--instance-id i-123",
        "--instance-id x-0123456789abcdef0",
        "--instance-id i-0123456789abcdef!",
        "--instance-id mi-0123456789abcdef",
        "--max-items 0",
        "--max-items -1",
        "--max-items ten",
        "-o yaml",
    ] {
        assert_rejected(format!("list --command-id {CMD_ID} {args}"));
    }
    assert_rejected(["list", "--command-id", CMD_ID, "--max-items", ""]);
}

#[test]
fn well_formed_ids_are_accepted() {
    for instance in ["i-01234567", INSTANCE_ID, "mi-0123456789abcdef0"] {
        let args = format!("--instance-id {instance} -o json");
        let (fake, _) = listed(fleet_records(1), 0, &args);
        assert_eq!(
            fake.calls_to(LIST_COMMAND_INVOCATIONS)[0].body["InstanceId"],
            instance
        );
    }
}

// --- JSON exactly as the aws CLI prints it -------------------------------------------------------

/// Two invocations, one finished and one running, with every key the service sends; timestamps
/// with milliseconds, with a round half second and with none: [`TWO_INVOCATIONS_AWS_CLI_JSON`]
/// as the service sends it, the times as epoch seconds. The fake sends keys in alphabetical
/// order, not the model's.
fn two_invocations() -> Vec<Value> {
    let epochs = [
        "1715677951.291",
        "1715677951.5",
        "1715677954",
        "1715677952",
        "1715677952.007",
    ];
    let mut doc: Value = serde_json::from_str(&two_invocations_json(epochs)).unwrap();
    serde_json::from_value(doc["CommandInvocations"].take()).unwrap()
}

/// What `aws ssm list-command-invocations --command-id CMD_ID --details --output json` prints
/// for [`two_invocations`] (aws-cli with `cli_timestamp_format = iso8601`); `{T1}` to
/// `{T5}` stand for the timestamps, which depend on the time zone.
const TWO_INVOCATIONS_AWS_CLI_JSON: &str = r#"{
    "CommandInvocations": [
        {
            "CommandId": "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60",
            "InstanceId": "i-0123456789abcdef0",
            "InstanceName": "",
            "Comment": "nightly report",
            "DocumentName": "AWS-RunShellScript",
            "DocumentVersion": "$DEFAULT",
            "RequestedDateTime": "{T1}",
            "Status": "Success",
            "StatusDetails": "Success",
            "TraceOutput": "",
            "StandardOutputUrl": "",
            "StandardErrorUrl": "",
            "CommandPlugins": [
                {
                    "Name": "aws:runShellScript",
                    "Status": "Success",
                    "StatusDetails": "Success",
                    "ResponseCode": 0,
                    "ResponseStartDateTime": "{T2}",
                    "ResponseFinishDateTime": "{T3}",
                    "Output": "héllo ✓\r\n\u001b[32mok\u001b[0m \"q\" \\ tab\t\n",
                    "StandardOutputUrl": "",
                    "StandardErrorUrl": "",
                    "OutputS3Region": "us-east-1",
                    "OutputS3BucketName": "",
                    "OutputS3KeyPrefix": ""
                }
            ],
            "ServiceRole": "",
            "NotificationConfig": {
                "NotificationArn": "",
                "NotificationEvents": [],
                "NotificationType": ""
            },
            "CloudWatchOutputConfig": {
                "CloudWatchLogGroupName": "",
                "CloudWatchOutputEnabled": false
            }
        },
        {
            "CommandId": "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60",
            "InstanceId": "i-0fedcba9876543210",
            "InstanceName": "ip-10-0-1-23.ec2.internal",
            "Comment": "nightly report",
            "DocumentName": "AWS-RunShellScript",
            "DocumentVersion": "1",
            "RequestedDateTime": "{T4}",
            "Status": "InProgress",
            "StatusDetails": "InProgress",
            "TraceOutput": "",
            "StandardOutputUrl": "",
            "StandardErrorUrl": "",
            "CommandPlugins": [
                {
                    "Name": "aws:runShellScript",
                    "Status": "InProgress",
                    "StatusDetails": "InProgress",
                    "ResponseCode": -1,
                    "ResponseStartDateTime": "{T5}",
                    "Output": "",
                    "StandardOutputUrl": "",
                    "StandardErrorUrl": "",
                    "OutputS3Region": "us-east-1",
                    "OutputS3BucketName": "",
                    "OutputS3KeyPrefix": ""
                }
            ],
            "ServiceRole": "arn:aws:iam::123456789012:role/ssm-notify",
            "NotificationConfig": {
                "NotificationArn": "arn:aws:sns:us-east-1:123456789012:ssm",
                "NotificationEvents": [
                    "Success",
                    "Failed"
                ],
                "NotificationType": "Invocation"
            },
            "CloudWatchOutputConfig": {
                "CloudWatchLogGroupName": "/aws/ssm/AWS-RunShellScript",
                "CloudWatchOutputEnabled": true
            }
        }
    ]
}
"#;

/// [`TWO_INVOCATIONS_AWS_CLI_JSON`] with `"{T1}"` to `"{T5}"`, quotes and all, replaced by these
/// JSON values.
fn two_invocations_json<S: AsRef<str>>(timestamps: [S; 5]) -> String {
    let mut text = TWO_INVOCATIONS_AWS_CLI_JSON.to_owned();
    for (i, t) in timestamps.iter().enumerate() {
        text = text.replace(&format!("\"{{T{}}}\"", i + 1), t.as_ref());
    }
    text
}

/// The times of [`TWO_INVOCATIONS_AWS_CLI_JSON`] as the aws CLI prints them (JSON strings) in
/// a time zone where they are on 2024-05-14 at `hh_mm`, `offset` from UTC.
fn two_invocations_times(hh_mm: &str, offset: &str) -> [String; 5] {
    ["31.291000", "31.500000", "34", "32", "32.007000"]
        .map(|seconds| format!("\"2024-05-14T{hh_mm}:{seconds}{offset}\""))
}

/// Removes the layout of a pretty-printed JSON text: whitespace outside strings.
fn without_layout(pretty: &str) -> String {
    let mut out = String::new();
    let (mut in_string, mut escaped) = (false, false);
    for c in pretty.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[test]
fn json_is_exactly_what_the_aws_cli_prints_from_java_notation_too_in_the_local_time_zone() {
    // (TZ, timestamps in Java notation, the local time and offset). 1.715677951291E9 and
    // 1.715677954E9: what SSM's Java serialiser often sends. Summer time in May in New York:
    // -04:00.
    for (tz, java, hh_mm, offset) in [
        ("UTC", false, "09:12", "+00:00"),
        ("UTC", true, "09:12", "+00:00"),
        ("Asia/Kolkata", false, "14:42", "+05:30"),
        ("America/New_York", false, "05:12", "-04:00"),
    ] {
        let fleet = Fleet::new(two_invocations());
        let fake = FakeSsm::with_fleet(if java { fleet.java_numbers() } else { fleet });
        let out = run_list_tz(&fake, tz, &[], "--details -o json");
        let want = two_invocations_json(two_invocations_times(hh_mm, offset));
        assert_output(&out, 0, &want, "");
    }
}

#[test]
fn jsonl_is_exactly_one_compact_object_per_line() {
    let (_, out) = listed(two_invocations(), 0, "--details -o jsonl");
    let doc = two_invocations_json(two_invocations_times("09:12", "+00:00"));
    let pretty: Value = serde_json::from_str(&doc).unwrap();
    // The objects as printed in the json document, compacted, one per line.
    let whole = without_layout(&doc);
    let (first, second) = (whole
        .strip_prefix("{\"CommandInvocations\":[")
        .and_then(|s| s.strip_suffix("]}")))
    .and_then(|s| s.split_once("},{\"CommandId\":"))
    .expect("two objects");
    let objects = [format!("{first}}}"), format!("{{\"CommandId\":{second}")];
    for (i, o) in objects.iter().enumerate() {
        let v: Value = serde_json::from_str(o).unwrap();
        assert_eq!(v, pretty["CommandInvocations"][i], "test's own compaction");
    }
    let want = format!("{}\n{}\n", objects[0], objects[1]);
    check_eq!(out, stdout_str(&out), want);
}

#[test]
fn jsonl_lists_every_page_one_parseable_object_per_line_in_order() {
    let records = fleet_records(130);
    let (fake, out) = listed(records.clone(), 0, "--details -o jsonl");
    let text = stdout_str(&out);
    check!(out, text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    check_eq!(out, lines.len(), records.len());
    for (i, (line, record)) in lines.iter().zip(&records).enumerate() {
        assert!(line.starts_with("{\"CommandId\":\""), "line {i}: {line}");
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line {i} is not JSON ({e}): {line}"));
        assert_eq!(v, as_printed(record, true), "line {i}");
    }
    assert_eq!(fake.count(LIST_COMMAND_INVOCATIONS), 3);
}

// --- Table and text ------------------------------------------------------------------------------

/// Six nodes: three successes (one with a two-line output), a failure whose output starts with
/// escape sequences and a CRLF, one still running and one the command could not reach.
fn mixed_fleet() -> Vec<Value> {
    [
        ("Success", "Success", "all good\nsecond line of i0\n"),
        (
            "Failed",
            "Failed",
            "\u{1b}[31mboom\u{1b}[0m: disk full\r\nsecond line of i1\n",
        ),
        ("Success", "Success", "ok\n"),
        ("InProgress", "InProgress", ""),
        ("Failed", "Undeliverable", ""),
        ("Success", "Success", "done\n"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (status, details, output))| {
        listed_invocation(&fleet_instance_id(i), status, details, output)
    })
    .collect()
}

#[test]
fn table_shows_a_row_per_invocation_and_the_totals() {
    let (fake, out) = listed(mixed_fleet(), 0, "-o table");
    let text = stdout_str(&out);
    let statuses = "Success Failed Success InProgress Failed Success";
    for (i, status) in statuses.split(' ').enumerate() {
        let row = row_of(&text, &fleet_instance_id(i));
        assert!(row.contains(status), "row {row:?}");
    }
    let details = row_of(&text, &fleet_instance_id(4)).contains("Undeliverable");
    assert!(details, "status details shown\n{text}");
    // Rows in the service's order.
    let positions: Vec<usize> = (0..6)
        .map(|i| text.find(&fleet_instance_id(i)).unwrap())
        .collect();
    assert!(positions.is_sorted(), "rows out of order\n{text}");
    assert_mixed_totals(&text);
    assert_walked_pages(&fake, &body_with(json!({})), 1);
}

/// Asserts the totals line of [`mixed_fleet`] counts by the most precise word the service gave
/// (README: `298 Success, 1 Failed, 1 Undeliverable`): the undeliverable node is not lumped in
/// with the failed one.
#[track_caller]
fn assert_mixed_totals(text: &str) {
    assert_totals(
        text,
        &["3 Success", "1 Failed", "1 InProgress", "1 Undeliverable"],
    );
}

#[test]
fn table_with_details_shows_codes_first_output_lines_visibly_and_the_cap() {
    let (fake, out) = listed(mixed_fleet(), 0, "--details -o table");
    assert_no_raw_controls(&out);
    let text = stdout_str(&out);
    let row = |i| row_of(&text, &fleet_instance_id(i));
    assert!(row(0).contains("all good"), "first output line\n{text}");
    let why = format!("response code 0 in {:?}", row(0));
    assert!(cells(row(0)).contains(&"0"), "{why}");
    let visible = row(1).contains("\\x1b[31mboom\\x1b[0m: disk full");
    assert!(visible, "first output line, escapes made visible\n{text}");
    let why = format!("response code 1 in {:?}", row(1));
    assert!(cells(row(1)).contains(&"1"), "{why}");
    assert!(row(2).contains("ok") && row(5).contains("done"));
    for later_line in ["second line of i0", "second line of i1"] {
        let why = format!("only the first line: {later_line:?}\n{text}");
        assert!(!text.contains(later_line), "{why}");
    }
    assert_mixed_totals(&text);
    let why = format!("the note on the 2,500-character cap of this API\n{text}");
    assert!(text.contains("2,500"), "{why}");
    assert_walked_pages(&fake, &body_with(json!({"Details": true})), 1);
}

#[test]
fn table_lists_every_page() {
    let (fake, out) = listed(fleet_records(130), 0, "-o table");
    let text = stdout_str(&out);
    for i in 0..130 {
        row_of(&text, &fleet_instance_id(i));
    }
    let totals = text
        .lines()
        .any(|l| l.contains("130 Success") && !l.contains("i-0a11"));
    assert!(totals, "totals line\n{text}");
    assert_eq!(fake.count(LIST_COMMAND_INVOCATIONS), 3);
}

/// Asserts `text` is these sections in order: for each, header lines (between the previous
/// output and this one, at least one) that together name every one of `names`, then the output.
#[track_caller]
fn assert_sections(text: &str, sections: &[(Vec<&str>, &str)]) {
    let mut at = 0;
    for (names, output) in sections {
        let found = text[at..].find(output).map(|p| p + at);
        let found = found.unwrap_or_else(|| panic!("no output {output:?} after byte {at}\n{text}"));
        let headers = &text[at..found];
        let one = headers.ends_with('\n') && !headers.trim().is_empty();
        let why = format!("a header line before {output:?}, got {headers:?}\n{text}");
        assert!(one, "{why}");
        for name in names {
            let named = headers.contains(name);
            assert!(
                named,
                "the header lines {headers:?} before {output:?} name {name:?}\n{text}"
            );
        }
        at = found + output.len();
    }
    let why = format!("nothing after the last output\n{text}");
    assert!(text[at..].trim().is_empty(), "{why}");
}

fn three_nodes() -> Vec<Value> {
    let outputs = [
        ("Success", "alpha 1\nalpha 2\n"),
        ("Failed", "beta: failed\n"),
        ("Success", "gamma\n"),
    ];
    (outputs.iter().enumerate())
        .map(|(i, (status, output))| {
            listed_invocation(&fleet_instance_id(i), status, status, output)
        })
        .collect()
}

#[test]
fn text_prints_each_output_under_a_header_naming_the_node_and_plugin_asking_for_details_itself() {
    // The contract: "each instance's plugin output under a header line naming the instance
    // (and plugin)", for a one-step document too. README: `-o text` implies --details (there
    // is no output to print without it).
    for args in ["--details -o text", "-o text"] {
        let (fake, out) = listed(three_nodes(), 0, args);
        assert_walked_pages(&fake, &body_with(json!({"Details": true})), 1);
        let [i0, i1, i2] = [0, 1, 2].map(fleet_instance_id);
        assert_sections(
            &stdout_str(&out),
            &[
                (vec![i0.as_str(), SHELL_PLUGIN], "alpha 1\nalpha 2\n"),
                (vec![i1.as_str(), SHELL_PLUGIN], "beta: failed\n"),
                (vec![i2.as_str(), SHELL_PLUGIN], "gamma\n"),
            ],
        );
    }
}

#[test]
fn text_names_each_step_of_a_document_with_several() {
    let mut record = listed_invocation(&fleet_instance_id(0), "Success", "Success", "");
    let template = record["CommandPlugins"][0].take();
    let step = |name: &str, output: &str| {
        let mut step = template.clone();
        (step["Name"], step["Output"]) = (json!(name), json!(output));
        step
    };
    record["CommandPlugins"] = json!([
        step("installPackages", "installed 3 packages\n"),
        step("restartService", "nginx restarted\n")
    ]);
    let records = vec![
        record,
        listed_invocation(&fleet_instance_id(1), "Success", "Success", "one step\n"),
    ];
    let (_, out) = listed(records, 0, "--details -o text");
    let (i0, i1) = (fleet_instance_id(0), fleet_instance_id(1));
    assert_sections(
        &stdout_str(&out),
        &[
            (
                vec![i0.as_str(), "installPackages"],
                "installed 3 packages\n",
            ),
            (vec!["restartService"], "nginx restarted\n"),
            (vec![i1.as_str()], "one step\n"),
        ],
    );
}

// --- Byte for byte against the aws CLI itself (needs the project's venv, like tests/e2e_moto.rs) ---

/// A fleet over three pages with content JSON printers get wrong, and a key the model does
/// not know (the aws CLI drops it).
fn tricky_fleet() -> Vec<Value> {
    let mut records = fleet_records(120);
    records[0] = two_invocations()[0].clone();
    records[1] = two_invocations()[1].clone();
    records[7]["CommandPlugins"][0]["Output"] = json!(
        "caf\u{e9} \u{1f680} nul\u{0} bel\u{7} del\u{7f} c1\u{9b}[2J ls\u{2028} slash/ \u{feff}bom"
    );
    records[7]["SomethingNew"] = json!({"Nested": [1, 2.5, true, null]});
    records[8]["Status"] = json!("Failed");
    records[8]["StatusDetails"] = json!("Undeliverable");
    records[8]["CommandPlugins"] = json!([]);
    records[60]["RequestedDateTime"] = json!(epoch_ms(REQUESTED_AT_MS + 709));
    records[61]["RequestedDateTime"] = json!(1_715_677_951);
    records
}

#[test]
fn json_matches_the_aws_cli_byte_for_byte() {
    let home = tempfile::tempdir().expect("temp HOME");
    let config = home.path().join("aws-config");
    std::fs::write(&config, "[default]\ncli_timestamp_format = iso8601\n").unwrap();
    for details in ["--details", ""] {
        for java in [false, true] {
            let fleet = Fleet::new(tricky_fleet());
            let fake = FakeSsm::with_fleet(if java { fleet.java_numbers() } else { fleet });
            let args = format!(
                "ssm list-command-invocations --command-id {CMD_ID} --output json {details}"
            );
            let mut aws =
                crate::support::moto::aws_command_at(&fake.url(), home.path(), args.words());
            let aws = run(aws.env("AWS_CONFIG_FILE", &config).env("TZ", "UTC"));
            check!(aws, aws.status.success(), "aws CLI");
            let reference = stdout_str(&aws);
            // Sanity: the reference walked the pages and printed ISO timestamps.
            assert_eq!(served(&fake).len(), 3, "aws CLI pages");
            assert!(
                reference.contains("\"2024-05-14T09:12:31.291000+00:00\"")
                    && !reference.contains("SomethingNew")
                    && !reference.contains("NextToken"),
                "unexpected aws CLI output:\n{reference}"
            );

            let out = run_list(&fake, format!("-o json {details}"));
            assert_exit(&out, 0);
            let what = format!("ssmres list -o json {details} (java numbers {java})");
            assert_same_lines(&out.stdout, &aws.stdout, &what);
        }
    }
}

// --- The fake itself: it must serve pages as SSM does, or the tests above prove little -----------

#[test]
fn the_fake_pages_filters_and_validates_as_ssm_does() {
    let fake = FakeSsm::with_fleet(fleet_records(120));
    let post = |more: Value| fake.post(LIST_COMMAND_INVOCATIONS, &body_with(more));
    let page_of = |body: &str| serde_json::from_str::<Value>(body).unwrap();
    // Default page size 50, a token, CommandPlugins only with Details.
    let (status, body) = post(json!({}));
    assert_eq!(status, 200, "{body}");
    let page = page_of(&body);
    assert_eq!(page["CommandInvocations"].as_array().unwrap().len(), 50);
    let first = &page["CommandInvocations"][0];
    assert!(first.get("CommandPlugins").is_none(), "{first}");
    let wire = "\"RequestedDateTime\":1715677951.291,";
    assert!(body.contains(wire), "{body}");
    let token = page["NextToken"].as_str().unwrap().to_owned();

    // The token works for the same query only, with MaxResults 1 to 50.
    let bad_token = |more: Value| (more, Some("InvalidNextToken"));
    for (other, error) in [
        bad_token(json!({"NextToken": token, "Details": true})),
        bad_token(json!({"NextToken": token, "InstanceId": INSTANCE_ID})),
        bad_token(json!({"NextToken": "AAEAAQnot-a-token"})),
        (
            json!({"NextToken": token, "MaxResults": 70}),
            Some("ValidationException"),
        ),
        (json!({"NextToken": token, "MaxResults": 0}), None),
    ] {
        let (status, body) = post(other.clone());
        assert_eq!(status, 400, "{other}: {body}");
        assert!(error.is_none_or(|e| body.contains(e)), "{body}");
    }

    // A smaller last page, then no token.
    let (status, body) = post(json!({"NextToken": token, "MaxResults": 7}));
    assert_eq!(status, 200, "{body}");
    let page = page_of(&body);
    let ids = instance_ids(page["CommandInvocations"].as_array().unwrap());
    assert_eq!(ids, (50..57).map(fleet_instance_id).collect::<Vec<_>>());
    assert!(page["NextToken"].is_string());

    // Filters and Details.
    let (status, body) = post(json!({"InstanceId": fleet_instance_id(9), "Details": true}));
    assert_eq!(status, 200, "{body}");
    let page = page_of(&body);
    assert_eq!(page["CommandInvocations"].as_array().unwrap().len(), 1);
    let plugin = &page["CommandInvocations"][0]["CommandPlugins"][0];
    assert_eq!(plugin["Name"], SHELL_PLUGIN);
    assert!(page.get("NextToken").is_none());
    let other_command = json!({"CommandId": "00000000-0000-4000-8000-000000000000"});
    let (_, body) = fake.post(LIST_COMMAND_INVOCATIONS, &other_command);
    assert_eq!(body, r#"{"CommandInvocations":[]}"#);
}

#[test]
fn the_fake_can_send_java_notation_and_scripted_faults() {
    let faults = vec![Step::throttled(), Step::Status500];
    let fake = FakeSsm::with_fleet(
        Fleet::new(two_invocations())
            .java_numbers()
            .fail_page(1, faults),
    );
    let post = |body: Value| fake.post(LIST_COMMAND_INVOCATIONS, &body);
    let (status, body) = post(body_with(json!({})));
    assert_eq!((status, body.contains("ThrottlingException")), (400, true));
    assert_eq!(post(body_with(json!({}))).0, 500);
    let (status, body) = post(body_with(json!({"Details": true})));
    assert_eq!(status, 200, "{body}");
    for wire in [
        "\"RequestedDateTime\":1.715677951291E9",
        "\"RequestedDateTime\":1.715677952E9",
        "\"ResponseStartDateTime\":1.7156779515E9",
        "\"ResponseFinishDateTime\":1.715677954E9",
        "\"ResponseCode\":0,",
    ] {
        assert!(body.contains(wire), "{wire} in {body}");
    }
    assert_eq!(fake.count(LIST_COMMAND_INVOCATIONS), 3);
    assert_eq!(served(&fake).len(), 1);

    // A fake without a fleet does not know the call.
    let fake = FakeSsm::always(Step::throttled());
    let (status, body) = fake.post(LIST_COMMAND_INVOCATIONS, &body_with(json!({})));
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");
    assert_eq!(fake.count(GET_COMMAND_INVOCATION), 0);
}
