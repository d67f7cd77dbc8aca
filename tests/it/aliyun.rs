//! `ssmres --provider aliyun`: Alibaba Cloud ECS Cloud Assistant results
//! (DescribeInvocationResults) against a scripted fake ECS endpoint ([`FakeEcs`]).
//!
//! The fake checks every request as the service does, the RPC signature V1 included, with its
//! own implementation; the first tests prove that implementation right (Alibaba's documented
//! example, and requests signed by Alibaba's official Python SDK), so that every later test
//! also proves the binary signs its requests correctly. The others assert what a user notices:
//! exit codes, stdout in each output mode, one-line errors, warnings, and what was sent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::support::fake_ecs::{
    self, ACCESS_KEY_ID, ACCESS_KEY_SECRET, COMMAND_ID, FakeEcs, Fault, INVOKE_ID, Instance,
    Invocation, REGION_ID, Recorded, World, instance_id, owned, parse_timestamp, signature,
    string_to_sign,
};
use crate::support::{
    Args, Cli, FAST_POLL, assert_error, assert_exit, assert_rejected, assert_rejected_aliyun,
    assert_single_stderr_line, check, check_eq, describe, run, stderr_str, stdout_json, stdout_str,
};

// --- Helpers -------------------------------------------------------------------------------------

/// Writes `$HOME/.aliyun/config.json`.
fn write_config(cli: &Cli, config: &Value) {
    let dir = cli.home().join(".aliyun");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(config).unwrap(),
    )
    .unwrap();
}

/// `ssmres --provider aliyun ARGS` against `fake`, `--invoke-id INVOKE_ID` after the subcommand
/// (`get` or `wait`), with `$HOME/.aliyun/config.json` holding `config` (none without) and these
/// variables (no other of Alibaba's).
fn configured(fake: &FakeEcs, config: Option<&Value>, env: &[(&str, &str)], args: &str) -> Output {
    let cli = Cli::new(&fake.url());
    if let Some(config) = config {
        write_config(&cli, config);
    }
    let with_id = |w: &str| match w {
        "get" | "wait" => format!("{w} --invoke-id {INVOKE_ID}"),
        _ => w.to_owned(),
    };
    let args: Vec<String> = args.split(' ').map(with_id).collect();
    run(cli
        .ali_bare()
        .envs(env.iter().copied())
        .args(args.join(" ").words()))
}

/// [`ali`] with these variables added or changed.
fn ali_env(fake: &FakeEcs, env: &[(&str, &str)], args: impl Args) -> Output {
    run(Cli::new(&fake.url())
        .ali()
        .envs(env.iter().copied())
        .args(args.words()))
}

/// A config.json holding these profiles, the first one current.
fn config_of(profiles: &[Value]) -> Value {
    json!({ "current": profiles[0]["name"], "profiles": profiles })
}

/// `ssmres --provider aliyun ARGS` with the fake's key and region.
fn ali(fake: &FakeEcs, args: impl Args) -> Output {
    Cli::new(&fake.url()).run_ali(args)
}

/// Starts a fake for `world`, runs `ssmres --provider aliyun ARGS` against it (with its key
/// and region) and asserts the exit code.
#[track_caller]
fn ran(world: World, code: i32, args: impl Args) -> (FakeEcs, Output) {
    let fake = FakeEcs::start(world);
    let out = ali(&fake, args);
    assert_exit(&out, code);
    (fake, out)
}

/// [`ran`] with `get --invoke-id INVOKE_ID EXTRA`.
#[track_caller]
fn got(world: World, code: i32, extra: &str) -> (FakeEcs, Output) {
    ran(world, code, format!("get --invoke-id {INVOKE_ID} {extra}"))
}

/// [`ran`] with `wait --invoke-id INVOKE_ID <fast polling> EXTRA`.
#[track_caller]
fn waited(world: World, code: i32, extra: &str) -> (FakeEcs, Output) {
    let fast = FAST_POLL.join(" ");
    let args = format!("wait --invoke-id {INVOKE_ID} {fast} {extra}");
    ran(world, code, args)
}

/// [`ran`] with `list --invoke-id INVOKE_ID EXTRA`.
#[track_caller]
fn listed(world: World, code: i32, extra: &str) -> (FakeEcs, Output) {
    ran(world, code, format!("list --invoke-id {INVOKE_ID} {extra}"))
}

/// One invocation of `n` instances, each Success.
fn fleet(n: usize) -> World {
    World::single((0..n).map(|i| Instance::new(instance_id(i))))
}

/// One invocation of one instance, Success.
fn one() -> World {
    World::single([Instance::new(instance_id(1))])
}

/// A fake for [`one`].
fn one_success() -> FakeEcs {
    FakeEcs::start(one())
}

/// A config.json profile in AK mode.
fn ak_profile(name: &str, key_id: &str, secret: &str, region: &str) -> Value {
    json!({
        "name": name,
        "mode": "AK",
        "access_key_id": key_id,
        "access_key_secret": secret,
        "region_id": region,
        "output_format": "json",
        "language": "en"
    })
}

/// An `InvocationResult` as printed: the one sent with its `Output` decoded from Base64
/// (invalid UTF-8 replaced by U+FFFD).
fn decoded(result: &Value) -> Value {
    let mut result = result.clone();
    let encoded = result["Output"].as_str().unwrap_or_default().to_owned();
    let bytes = BASE64.decode(encoded).expect("the fake sends Base64");
    result["Output"] = json!(String::from_utf8_lossy(&bytes));
    result
}

/// The results of the last round served, every page in order, as printed.
fn last_round_results(fake: &FakeEcs) -> Vec<Value> {
    let served = fake.served_pages();
    let round = served.iter().map(|p| p.round).max().expect("a page served");
    let mut pages: Vec<_> = served.into_iter().filter(|p| p.round == round).collect();
    pages.sort_by_key(|p| p.page);
    pages.dedup_by_key(|p| p.page);
    pages.iter().flat_map(|p| &p.results).map(decoded).collect()
}

/// `.Invocation.InvocationResults.InvocationResult` of a `-o json` document.
#[track_caller]
fn printed_results(out: &Output) -> Vec<Value> {
    let results = &stdout_json(out)["Invocation"]["InvocationResults"]["InvocationResult"];
    let results = results.as_array().cloned();
    results.unwrap_or_else(|| panic!("no InvocationResult array\n{}", describe(out)))
}

/// The `InvocationStatus` of each printed result.
#[track_caller]
fn printed_statuses(out: &Output) -> Vec<Value> {
    printed_results(out)
        .iter()
        .map(|r| r["InvocationStatus"].clone())
        .collect()
}

fn ids_of(results: &[Value]) -> Vec<String> {
    results
        .iter()
        .map(|r| r["InstanceId"].as_str().unwrap_or("<none>").to_owned())
        .collect()
}

/// Asserts every printed result carries every field the API sent, with the same value
/// (`Output` decoded), in the API's order.
#[track_caller]
fn assert_results_as_sent(out: &Output, expected: &[Value]) {
    let printed = printed_results(out);
    let why = "results (in API order)";
    check_eq!(out, ids_of(&printed), ids_of(expected), "{why}");
    for (got, want) in printed.iter().zip(expected) {
        for (key, value) in want.as_object().unwrap() {
            let id = &want["InstanceId"];
            let why = format!("field {key} of {id}\nprinted: {got:#}");
            assert_eq!(got.get(key), Some(value), "{why}");
        }
    }
}

/// Asserts stdout is a 4-space indented JSON document.
#[track_caller]
fn assert_four_space_json(out: &Output) {
    let indented = out
        .stdout
        .starts_with(b"{\n    \"Invocation\": {\n        \"");
    check!(out, indented, "stdout is not 4-space indented JSON");
}

/// The single call the fake got; panics unless there was exactly one request.
#[track_caller]
fn only_request(fake: &FakeEcs, out: &Output) -> Recorded {
    let requests = fake.requests();
    let why = format!("expected exactly one request, got {requests:#?}");
    check_eq!(out, requests.len(), 1, "{why}");
    requests.into_iter().next().unwrap()
}

/// Asserts no output stream holds `secret`.
#[track_caller]
fn assert_not_printed(out: &Output, secret: &str) {
    let shown = [&out.stdout, &out.stderr].map(|b| String::from_utf8_lossy(b).contains(secret));
    check!(out, shown == [false, false], "a secret was printed");
}

/// Asserts stderr has a line containing each of `parts`.
#[track_caller]
fn assert_stderr_line_with(out: &Output, parts: &[&str]) {
    let found = stderr_str(out)
        .lines()
        .any(|l| parts.iter().all(|p| l.contains(p)));
    check!(out, found, "no stderr line contains all of {parts:?}");
}

// --- The Python SDK (a second opinion on the signature) ------------------------------------------

/// The venv's python with Alibaba's `aliyunsdkcore`; runs scripts/setup-venv once when the
/// SDK is missing, and panics (never skips) when it still is.
fn sdk_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let venv = match std::env::var_os("SSMRES_VENV") {
                Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                _ => root.join(".venv"),
            };
            let python = venv.join("bin").join("python");
            let has_sdk = || {
                Command::new(&python)
                    .args(["-c", "import aliyunsdkcore.client"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if !has_sdk() {
                let out = Command::new(root.join("scripts").join("setup-venv"))
                    .env("SSMRES_VENV", &venv)
                    .stdin(Stdio::null())
                    .output()
                    .expect("run scripts/setup-venv");
                check!(
                    out,
                    out.status.success() && has_sdk(),
                    "{} cannot import aliyunsdkcore even after scripts/setup-venv",
                    python.display()
                );
            }
            python
        })
        .clone()
}

/// Runs a Python script with the SDK's python; its stdout, or a panic with the whole run.
fn python(script: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(sdk_python());
    cmd.arg("-c").arg(script).args(args);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let upper = key.to_ascii_uppercase();
        if upper.starts_with("ALIBABA_CLOUD_") || upper.ends_with("_PROXY") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONIOENCODING", "utf-8");
    let out = run(&mut cmd);
    check!(out, out.status.success(), "python failed");
    String::from_utf8(out.stdout).unwrap()
}

/// DescribeInvocationResults through the SDK's AcsClient ([`SDK_CALL`]) with these query
/// parameters (`[[name, value], …]`); the body it printed.
fn sdk_call(fake: &FakeEcs, params: &Value) -> Value {
    let domain = format!("127.0.0.1:{}", fake.port());
    let keys = [ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION_ID];
    let body = python(
        SDK_CALL,
        &[&keys[..], &[&domain, &params.to_string()]].concat(),
    );
    serde_json::from_str(&body).expect("the SDK printed the JSON body")
}

/// Asserts the SDK's own string to sign and signature ([`SDK_SIGN`]) for what `r` sent are
/// the ones the fake computed and received.
#[track_caller]
fn assert_sdk_signs_alike(r: &Recorded) {
    let sdk = python(SDK_SIGN, &[ACCESS_KEY_SECRET, &json!(r.params).to_string()]);
    let sdk: Value = serde_json::from_str(&sdk).unwrap();
    assert_eq!(sdk["string_to_sign"], r.string_to_sign);
    assert_eq!(sdk["signature"].as_str(), r.param("Signature"));
}

/// Calls DescribeInvocationResults through the SDK's AcsClient and CommonRequest.
const SDK_CALL: &str = r#"
import json, sys
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
ak, secret, region, domain, params = sys.argv[1:6]
client = AcsClient(ak, secret, region)
request = CommonRequest()
request.set_domain(domain)
request.set_protocol_type("http")
request.set_method("GET")
request.set_version("2014-05-26")
request.set_action_name("DescribeInvocationResults")
for key, value in json.loads(params):
    request.add_query_param(key, value)
body = client.do_action_with_exception(request)
sys.stdout.write(body.decode("utf-8"))
"#;

/// The SDK's own string to sign and signature for these GET parameters (Signature left out).
const SDK_SIGN: &str = r#"
import json, sys
from aliyunsdkcore.auth.composer import rpc_signature_composer as composer
from aliyunsdkcore.auth.algorithm import sha_hmac1
secret, params = sys.argv[1:3]
params = dict((k, v) for k, v in json.loads(params) if k != "Signature")
to_sign = getattr(composer, "__compose_string_to_sign")("GET", params)
print(json.dumps({"string_to_sign": to_sign,
                  "signature": sha_hmac1.get_sign_string(to_sign, secret + "&")}))
"#;

// --- The fake's verifier -------------------------------------------------------------------------

#[test]
fn signature_v1_reproduces_the_documented_example() {
    let params = owned(&[
        ("Timestamp", "2016-02-23T12:46:24Z"),
        ("Format", "XML"),
        ("AccessKeyId", "testid"),
        ("Action", "DescribeRegions"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("Version", "2014-05-26"),
        ("SignatureVersion", "1.0"),
    ]);
    let to_sign = string_to_sign("GET", &params);
    assert_eq!(
        to_sign,
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
         %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
         %26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z\
         %26Version%3D2014-05-26"
    );
    let want = "OLeaidS1JvxuMvnyHOwuJ+uX5qY=";
    assert_eq!(signature("testsecret", &to_sign), want);
    // A Signature parameter already present is not signed.
    let mut with_sig = params.clone();
    with_sig.push(("Signature".into(), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=".into()));
    assert_eq!(string_to_sign("GET", &with_sig), to_sign);

    // RFC 3986: unreserved kept, everything else %XX upper-case, space %20, UTF-8 bytes.
    assert_eq!(fake_ecs::percent_encode("aZ09-_.~"), "aZ09-_.~");
    let want = "a%20b%2Ac%2Bd%2Fe%3Df%26g%3Ah";
    assert_eq!(fake_ecs::percent_encode("a b*c+d/e=f&g:h"), want);
    assert_eq!(fake_ecs::percent_encode("é✓"), "%C3%A9%E2%9C%93");
    assert_eq!(
        fake_ecs::percent_decode("a%20b+c%2B%C3%A9").as_deref(),
        Some("a b c+é")
    );
    // Timestamps round-trip.
    let t = parse_timestamp("2016-02-23T12:46:24Z").unwrap();
    assert_eq!(t, 1_456_231_584);
    assert_eq!(fake_ecs::format_timestamp(t), "2016-02-23T12:46:24Z");
    assert_eq!(parse_timestamp("2016-02-23 12:46:24Z"), None);
    assert_eq!(parse_timestamp("2016-02-23T12:46:24.000Z"), None);
}

#[test]
fn fake_accepts_well_signed_calls_and_rejects_everything_else() {
    let fake = FakeEcs::start(one().sts_key("STS.key", "stssecret", "tok3n"));
    let (status, body) = fake.call(&[("InvokeId", INVOKE_ID)]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Invocation"]["TotalCount"], 1);
    let result = &body["Invocation"]["InvocationResults"]["InvocationResult"][0];
    assert_eq!(result["InstanceId"], instance_id(1));
    assert_eq!(result["InvocationStatus"], "Success");
    let output = BASE64.decode(result["Output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output,
        format!("hello from {}\n", instance_id(1)).as_bytes()
    );

    // The status and error code of the answer to these parameters, signed with `secret`.
    let code =
        |(status, body): (u16, Value)| (status, body["Code"].as_str().unwrap_or("").to_owned());
    let send = |secret, params| code(fake.send(&fake_ecs::signed(secret, params)).unwrap());
    let params = |key, extra: &[(&str, &str)]| fake_ecs::call_params(key, extra);
    let rejected = |status, code: &str| (status, code.to_owned());

    // Wrong secret.
    let wrong = send("not-the-secret", params(ACCESS_KEY_ID, &[]));
    assert_eq!(wrong, rejected(400, "SignatureDoesNotMatch"));
    // A parameter changed after signing.
    let mut changed = fake_ecs::signed(
        ACCESS_KEY_SECRET,
        params(ACCESS_KEY_ID, &[("InvokeId", INVOKE_ID)]),
    );
    changed
        .iter_mut()
        .filter(|(k, _)| k == "InvokeId")
        .for_each(|(_, v)| *v = "t-other".into());
    let got = code(fake.send(&changed).unwrap());
    assert_eq!(got, rejected(400, "SignatureDoesNotMatch"));
    // The same nonce twice.
    let once = fake_ecs::signed(ACCESS_KEY_SECRET, params(ACCESS_KEY_ID, &[]));
    assert_eq!(fake.send(&once).unwrap().0, 200);
    let again = code(fake.send(&once).unwrap());
    assert_eq!(again, rejected(400, "SignatureNonceUsed"));
    // An unknown key.
    let unknown = send(ACCESS_KEY_SECRET, params("LTAIunknown", &[]));
    assert_eq!(unknown, rejected(404, "InvalidAccessKeyId.NotFound"));
    // A missing common parameter; a malformed and an old timestamp.
    let without = |name: &str| {
        let mut p = params(ACCESS_KEY_ID, &[]);
        p.retain(|(k, _)| k != name);
        p
    };
    let no_nonce = send(ACCESS_KEY_SECRET, without("SignatureNonce"));
    assert_eq!(no_nonce, rejected(400, "MissingParameter"));
    for (ts, want) in [
        ("2024-05-14 09:12:31", "InvalidParameter"),
        ("2016-02-23T12:46:24Z", "InvalidTimeStamp.Expired"),
    ] {
        let mut p = without("Timestamp");
        p.push(("Timestamp".into(), ts.into()));
        assert_eq!(send(ACCESS_KEY_SECRET, p), rejected(400, want), "{ts}");
    }
    // MaxResults and NextToken.
    let too_many = code(fake.call(&[("MaxResults", "51")]));
    assert_eq!(too_many, rejected(400, "InvalidParameter.MaxResults"));
    let bad_token = code(fake.call(&[("NextToken", "AAAAAnotatoken")]));
    assert_eq!(bad_token, rejected(400, "InvalidParameter.NextToken"));
    // An STS key needs its token.
    let no_token = send("stssecret", params("STS.key", &[]));
    assert_eq!(no_token, rejected(400, "InvalidSecurityToken.Mismatch"));
    let with_token = params("STS.key", &[("SecurityToken", "tok3n")]);
    assert_eq!(send("stssecret", with_token).0, 200);

    // Error bodies look like the service's.
    let (_, body) = fake.call(&[("MaxResults", "0")]);
    for key in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(body.get(key).is_some(), "{key} missing from {body}");
    }
    assert_eq!(body["HostId"], "ecs.aliyuncs.com");
}

#[test]
fn fake_serves_pages_rounds_filters_and_faults() {
    let late = Instance::new(instance_id(99))
        .visible_from(2)
        .timeline(&[(2, "Running"), (3, "Failed")]);
    let world = World::new()
        .invocation(
            Invocation::new(INVOKE_ID)
                .tag("env", "prod")
                .instances((0..23).map(|i| Instance::new(instance_id(i))))
                .instance(late),
        )
        .invocation(
            Invocation::new("t-other0001")
                .command_id("c-other0001")
                .instance(Instance::new(instance_id(500))),
        )
        .fail_call(5, Fault::throttling());
    let fake = FakeEcs::start(world);
    let results =
        |body: &Value| body["Invocation"]["InvocationResults"]["InvocationResult"][0].clone();
    let code = |(s, body): (u16, Value)| (s, body["Code"].as_str().map(str::to_owned));
    let total = |params: &[(&str, &str)]| fake.call(params).1["Invocation"]["TotalCount"].clone();

    // Round 1: 23 results of INVOKE_ID, 10 at a time.
    let (s, p1) = fake.call(&[("InvokeId", INVOKE_ID), ("MaxResults", "10")]);
    assert_eq!(s, 200, "{p1}");
    assert_eq!(p1["Invocation"]["TotalCount"], 23);
    let token = p1["Invocation"]["NextToken"].as_str().unwrap().to_owned();
    assert!(!token.is_empty());
    let (_, p2) = fake.call(&[
        ("InvokeId", INVOKE_ID),
        ("MaxResults", "10"),
        ("NextToken", &token),
    ]);
    let token2 = p2["Invocation"]["NextToken"].as_str().unwrap().to_owned();
    // A token belongs to its query.
    let (foreign, _) = fake.call(&[("InvokeId", "t-other0001"), ("NextToken", &token2)]);
    assert_eq!(foreign, 400);
    let (_, p3) = fake.call(&[
        ("InvokeId", INVOKE_ID),
        ("MaxResults", "10"),
        ("NextToken", &token2),
    ]);
    assert_eq!(p3["Invocation"]["NextToken"], "");
    let pages = fake.served_pages();
    let sizes: Vec<usize> = pages.iter().map(|p| p.results.len()).collect();
    assert_eq!(sizes, [10, 10, 3]);
    assert!(pages.iter().all(|p| p.round == 1));
    let all: Vec<String> = pages.iter().flat_map(|p| p.instance_ids()).collect();
    let why = "API order";
    assert_eq!(all, (0..23).map(instance_id).collect::<Vec<_>>(), "{why}");
    assert_eq!(fake.rounds(), 1);

    // Call 5 is throttled (and is round 2).
    let want = (400, Some("Throttling.User".into()));
    assert_eq!(code(fake.call(&[("InvokeId", INVOKE_ID)])), want);
    // Round 3: the late instance has appeared and failed; filters.
    let r = results(&fake.call(&[("InstanceId", &instance_id(99))]).1);
    let want = (&json!("Failed"), &json!("PartialFailed"));
    assert_eq!((&r["InvocationStatus"], &r["InvokeRecordStatus"]), want);
    assert_eq!(total(&[("CommandId", "c-other0001")]), 1);
    assert_eq!(total(&[("Tag.1.Key", "env"), ("Tag.1.Value", "prod")]), 24);
    assert_eq!(total(&[("Tag.1.Key", "env"), ("Tag.1.Value", "dev")]), 0);
    let plain = [
        ("ContentEncoding", "PlainText"),
        ("InvokeId", "t-other0001"),
    ];
    let plain = results(&fake.call(&plain).1);
    let want = format!("hello from {}\n", instance_id(500));
    assert_eq!(plain["Output"], want);
    let status = code(fake.call(&[("InvokeRecordStatus", "running")]));
    assert_eq!(status, (400, Some("InvalidParameter".into())));
    let tags = code(fake.call(&[("Tag.1.Key", "a"), ("Tag.2.Key", "a")]));
    assert_eq!(tags, (400, Some("Duplicate.TagKey".into())));

    let calls = fake.calls();
    assert!(calls.iter().all(|c| c.method == "GET" && c.path == "/"));
    assert_eq!(calls[4].code.as_deref(), Some("Throttling.User"));
    assert_eq!(calls[4].round, Some(2));
}

#[test]
fn fake_accepts_requests_signed_by_the_official_python_sdk() {
    let fake = FakeEcs::start(World::single([
        Instance::new(instance_id(1)).output("こんにちは\n")
    ]));
    // A plain call: PlainText output, so the SDK's own parse shows the text.
    let params = json!([
        ["InvokeId", INVOKE_ID],
        ["MaxResults", "50"],
        ["ContentEncoding", "PlainText"]
    ]);
    let body = sdk_call(&fake, &params);
    let result = &body["Invocation"]["InvocationResults"]["InvocationResult"][0];
    assert_eq!(result["Output"], "こんにちは\n");
    // Values that need every kind of encoding: space, '*', '~', '/', '+', '=', '&', UTF-8.
    let tricky = json!([
        ["Tag.1.Key", "team name*~/"],
        ["Tag.1.Value", "a b+c=d&e é✓"],
        ["ResourceGroupId", "rg-acfm test"],
    ]);
    let body = sdk_call(&fake, &tricky);
    assert_eq!(body["Invocation"]["TotalCount"], 0, "{body}");

    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for r in &requests {
        assert_eq!((r.status, r.method.as_str()), (Some(200), "GET"), "{r:#?}");
        assert_eq!(r.param("RegionId"), Some(REGION_ID));
        // And the SDK's canonicalization agrees with the fake's on what it sent.
        assert_sdk_signs_alike(r);
    }
    assert_eq!(requests[1].param("Tag.1.Value"), Some("a b+c=d&e é✓"));
    assert_eq!(requests[1].param("Tag.1.Key"), Some("team name*~/"));
}

// --- The binary's requests -----------------------------------------------------------------------

#[test]
fn get_sends_one_correctly_signed_request_with_the_contract_parameters() {
    let (fake, out) = got(one(), 0, "-o json");
    let r = only_request(&fake, &out);
    assert_eq!(r.status, Some(200), "{r:#?}");
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/"));
    for (name, want) in [
        ("Action", "DescribeInvocationResults"),
        ("Version", "2014-05-26"),
        ("Format", "JSON"),
        ("AccessKeyId", ACCESS_KEY_ID),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("RegionId", REGION_ID),
        ("ContentEncoding", "Base64"),
        ("MaxResults", "50"),
        ("InvokeId", INVOKE_ID),
    ] {
        assert_eq!(r.param(name), Some(want), "{name} in {:?}", r.params);
        assert_eq!(r.count(name), 1, "{name} sent once");
    }
    for absent in ["SecurityToken", "InstanceId", "CommandId", "NextToken"] {
        assert_eq!(r.param(absent), None, "{absent} in {:?}", r.params);
    }
    assert!(!r.param("SignatureNonce").unwrap().is_empty());
    let sent = r.param("Timestamp").unwrap();
    let ts = parse_timestamp(sent).expect("YYYY-MM-DDThh:mm:ssZ");
    let why = format!("Timestamp {sent} is not the current UTC time");
    assert!((ts - fake_ecs::now_epoch()).abs() <= 60, "{why}");
    // The signature, recomputed here from what was received.
    let recomputed = signature(ACCESS_KEY_SECRET, &string_to_sign("GET", &r.params));
    assert_eq!(r.param("Signature"), Some(recomputed.as_str()));
    assert_results_as_sent(&out, &last_round_results(&fake));
    assert_not_printed(&out, ACCESS_KEY_SECRET);
}

#[test]
fn the_python_sdk_signs_the_binarys_requests_identically() {
    let fake = one_success();
    let args = [
        "list",
        "--invoke-id",
        INVOKE_ID,
        "--tag",
        "team name=a b+c/é*~",
        "--command-id",
        COMMAND_ID,
    ];
    let out = ali(&fake, [&args[..], &["-o", "json"]].concat());
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.status, Some(200), "{r:#?}");
    assert_eq!(r.param("Tag.1.Key"), Some("team name"));
    assert_eq!(r.param("Tag.1.Value"), Some("a b+c/é*~"));
    assert_sdk_signs_alike(&r);
}

#[test]
fn get_and_wait_send_instance_and_command_filters() {
    let world = World::single([Instance::new(instance_id(1)), Instance::new("mi-abc123DEF")]);
    let filters = format!("--instance-id mi-abc123DEF --command-id {COMMAND_ID} -o json");
    let (fake, out) = got(world, 0, &filters);
    let r = only_request(&fake, &out);
    assert_eq!(r.param("InstanceId"), Some("mi-abc123DEF"));
    assert_eq!(r.param("CommandId"), Some(COMMAND_ID));
    assert_eq!(ids_of(&printed_results(&out)), ["mi-abc123DEF"]);

    let id = instance_id(1);
    let (fake, _) = waited(one(), 0, &format!("--instance-id {id} -o json"));
    let calls = fake.calls();
    assert!(!calls.is_empty());
    for c in &calls {
        assert_eq!(c.param("InstanceId"), Some(id.as_str()));
    }
}

#[test]
fn provider_can_be_chosen_with_ssmres_provider() {
    let fake = one_success();
    let env = [
        ("SSMRES_PROVIDER", "aliyun"),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET),
        ("ALIBABA_CLOUD_REGION_ID", REGION_ID),
    ];
    let url = fake.url();
    let line = format!("--endpoint-url {url} get --invoke-id {INVOKE_ID} -o json");
    let out = run(Cli::new(&fake.url()).bare().envs(env).args(line.words()));
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.param("Action"), Some("DescribeInvocationResults"));
    assert_eq!(ids_of(&printed_results(&out)), [instance_id(1)]);

    // --provider aws wins over the variable: --invoke-id is then an Alibaba-only flag.
    let fake = one_success();
    let line = format!("--provider aws get --invoke-id {INVOKE_ID}");
    let out = run(Cli::new(&fake.url())
        .cmd()
        .env("SSMRES_PROVIDER", "aliyun")
        .args(line.words()));
    assert_error(&out, 2);
    fake.assert_untouched();
}

// --- Pages ---------------------------------------------------------------------------------------

#[test]
fn get_reads_every_page_of_120_instances_in_api_order() {
    let (fake, out) = got(fleet(120), 0, "-o json");
    let calls = fake.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    let pages = fake.served_pages();
    for (i, c) in calls.iter().enumerate() {
        assert_eq!(c.param("MaxResults"), Some("50"), "call {}", i + 1);
        assert_eq!(c.param("InvokeId"), Some(INVOKE_ID));
        let want_token = i.checked_sub(1).map(|p| pages[p].next_token_out.as_str());
        assert_eq!(c.param("NextToken"), want_token, "call {}", i + 1);
    }
    let sizes: Vec<usize> = pages.iter().map(|p| p.results.len()).collect();
    assert_eq!(sizes, [50, 50, 20]);
    let want = (0..120).map(instance_id).collect::<Vec<_>>();
    assert_eq!(ids_of(&printed_results(&out)), want);
    assert_eq!(stdout_json(&out)["Invocation"]["TotalCount"], 120);
    assert_four_space_json(&out);
    assert_results_as_sent(&out, &last_round_results(&fake));
}

#[test]
fn list_max_items_asks_for_no_more_than_it_needs() {
    let (fake, out) = listed(fleet(120), 0, "--max-items 70 -o json");
    let calls = fake.calls();
    let asked: Vec<&str> = calls
        .iter()
        .map(|c| c.param("MaxResults").unwrap_or("<none>"))
        .collect();
    assert_eq!(asked, ["50", "20"], "{calls:#?}");
    let token = fake.served_pages()[0].next_token_out.clone();
    assert_eq!(calls[1].param("NextToken"), Some(token.as_str()));
    let want = (0..70).map(instance_id).collect::<Vec<_>>();
    assert_eq!(ids_of(&printed_results(&out)), want);
    // TotalCount is the service's.
    assert_eq!(stdout_json(&out)["Invocation"]["TotalCount"], 120);

    let (fake, out) = listed(fleet(120), 0, "--max-items 30 -o jsonl");
    assert_eq!(only_request(&fake, &out).param("MaxResults"), Some("30"));
    check_eq!(out, stdout_str(&out).lines().count(), 30);

    // Without --max-items, every page.
    let (fake, out) = listed(fleet(120), 0, "-o json");
    assert_eq!(fake.calls().len(), 3);
    assert_eq!(printed_results(&out).len(), 120);
}

#[test]
fn a_fault_on_a_later_page_is_retried_with_the_same_token() {
    let (fake, out) = got(fleet(60).fail_call(2, Fault::throttling()), 0, "-o json");
    let calls = fake.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    let token = fake.served_pages()[0].next_token_out.clone();
    assert_eq!(calls[1].param("NextToken"), Some(token.as_str()));
    assert_eq!(calls[2].param("NextToken"), Some(token.as_str()));
    let nonces = [1, 2].map(|i| calls[i].param("SignatureNonce"));
    assert_ne!(nonces[0], nonces[1]);
    assert_eq!(printed_results(&out).len(), 60);
}

// --- Output --------------------------------------------------------------------------------------

#[test]
fn output_is_decoded_from_base64_including_multibyte_text() {
    let text = "héllo wörld ✓ 日本語 🚀\nsecond line\n";
    let world = || {
        World::single([
            Instance::new(instance_id(1)).output(text),
            Instance::new(instance_id(2)).output("plain\n"),
        ])
    };

    let (_, out) = got(world(), 0, "-o json");
    let printed = printed_results(&out);
    let want = (&json!(text), &json!("plain\n"));
    assert_eq!((&printed[0]["Output"], &printed[1]["Output"]), want);
    let warned = stderr_str(&out).lines().any(|l| l.starts_with("warning"));
    check!(out, !warned, "no warning expected");

    let (_, out) = got(world(), 0, "-o jsonl");
    let lines: Vec<Value> = stdout_str(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    check_eq!(out, lines.len(), 2);
    assert_eq!(lines[0]["Output"], text);
    assert_eq!(lines[0]["InstanceId"], instance_id(1));
    assert_eq!(lines[1]["InstanceId"], instance_id(2));
    assert_eq!(lines[1]["InvocationStatus"], "Success");

    let (_, out) = got(
        world(),
        0,
        &format!("--instance-id {} -o text", instance_id(1)),
    );
    check_eq!(out, out.stdout, text.as_bytes());
}

#[test]
fn invalid_utf8_output_is_shown_lossily_with_a_warning_in_every_mode() {
    let bytes: &[u8] = b"ok \xff\xfe bad \xc3\x28 end\n";
    let lossy = String::from_utf8_lossy(bytes).into_owned();
    let id = instance_id(7);
    for mode in ["json", "table", "text", "jsonl"] {
        let world = World::single([Instance::new(instance_id(7)).output(bytes)]);
        let (_, out) = got(world, 0, &format!("--instance-id {id} -o {mode}"));
        assert_stderr_line_with(&out, &["warning", &id, "not valid UTF-8"]);
        let stdout = String::from_utf8(out.stdout.clone());
        let stdout =
            stdout.unwrap_or_else(|_| panic!("-o {mode}: stdout is not UTF-8\n{}", describe(&out)));
        match mode {
            "json" => assert_eq!(printed_results(&out)[0]["Output"], lossy.as_str()),
            "jsonl" => {
                let line: Value = serde_json::from_str(stdout.trim_end()).unwrap();
                assert_eq!(line["Output"], lossy.as_str());
            }
            "text" => assert_eq!(stdout, lossy, "-o text"),
            _ => check!(out, stdout.contains(&lossy), "-o table"),
        }
    }
}

#[test]
fn dropped_output_is_reported_in_every_mode() {
    let (cut, in_oss) = (instance_id(1), instance_id(2));
    let uri = "oss://ssmres-test/t-hz0jdfwd9f0001/i-bp1.txt";
    let world = || {
        World::single([
            Instance::new(instance_id(1))
                .output("first 24 KB\n")
                .dropped(1234),
            Instance::new(instance_id(2))
                .output("also cut\n")
                .dropped(99)
                .oss_output_uri(uri),
            Instance::new(instance_id(3)),
        ])
    };

    let (_, out) = got(world(), 0, "-o table");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let note = "[cut short by the service: output truncated by 1234 bytes]";
    check!(out, stdout.contains(note));
    let note = format!(
        "[cut short by the service: output truncated by 99 bytes; the complete output is in {uri}]"
    );
    check!(out, stdout.contains(&note));
    check_eq!(out, stdout.matches("[cut short by the service").count(), 2);
    // The note follows its own instance's section.
    let section = stdout
        .find(&format!("── {cut} · output ──"))
        .expect("a section per instance");
    let note = stdout.find("truncated by 1234 bytes]").unwrap();
    let next = stdout.find(&format!("── {in_oss} · output ──")).unwrap();
    check!(out, section < note && note < next);

    for mode in ["table", "text", "json"] {
        let (_, out) = got(world(), 0, &format!("-o {mode}"));
        assert_stderr_line_with(&out, &["warning", &cut, "output truncated by 1234 bytes"]);
        assert_stderr_line_with(&out, &["warning", &in_oss, "output truncated by 99 bytes"]);
        let complete = stderr_str(&out).contains(&instance_id(3));
        let why = format!("-o {mode}: no warning for the complete output");
        check!(out, !complete, "{why}");
        if mode == "json" {
            let printed = printed_results(&out);
            let dropped: Vec<&Value> = printed.iter().map(|r| &r["Dropped"]).collect();
            assert_eq!(dropped, [&json!(1234), &json!(99), &json!(0)]);
            assert_eq!(printed[1]["OssOutputUri"], uri);
        }
    }
}

#[test]
fn table_has_the_columns_a_section_per_instance_and_no_raw_escape() {
    let [ok, failed, running, empty] = [1, 2, 3, 4].map(instance_id);
    let world = World::single([
        Instance::new(ok.clone()).output("line one\n\x1b[31mred\x1b[0m\n\x1b]0;pwned\x07title\n"),
        Instance::failed(failed.clone(), 2)
            .error("ExitCodeNonzero", "exit code is not zero \x1b[2J")
            .output("boom\n"),
        Instance::new(running.clone()).timeline(&[(1, "Running")]),
        Instance::new(empty.clone()).output(""),
    ]);
    let (_, out) = got(world, 0, "-o table");
    check!(out, !out.stdout.contains(&0x1b), "a raw ESC byte on stdout");
    let stdout = String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout");
    let headers = [
        "Instance",
        "Status",
        "Exit code",
        "Error",
        "Started",
        "Finished",
    ];
    for header in headers.into_iter().chain(["Repeats"]) {
        assert!(stdout.contains(header), "header {header:?}\n{stdout}");
    }
    // One row per instance, with its status.
    for (id, status) in [
        (&ok, "Success"),
        (&failed, "Failed"),
        (&running, "Running"),
        (&empty, "Success"),
    ] {
        let row = |l: &&str| l.contains(id.as_str()) && l.contains(status) && !l.contains("──");
        let why = format!("no row for {id} {status}\n{stdout}");
        assert!(stdout.lines().any(|l| row(&l)), "{why}");
    }
    assert!(
        stdout.contains("ExitCodeNonzero: exit code is not zero"),
        "{stdout}"
    );
    // Sections, in order, with the output made visible.
    let mut at: Vec<usize> = ([&ok, &failed, &running, &empty].iter())
        .map(|id| stdout.find(&format!("── {id} · output ──")))
        .map(|at| at.unwrap_or_else(|| panic!("no section for an instance\n{stdout}")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{stdout}");
    at.push(stdout.len());
    let unfinished = "(no output yet: the command has not finished)";
    for (i, shown) in [
        (0, "line one"),
        (0, "\\x1b[31mred\\x1b[0m"),
        (1, "boom"),
        (2, unfinished),
        (3, "(empty)"),
    ] {
        let section = &stdout[at[i]..at[i + 1]];
        assert!(section.contains(shown), "{shown:?} in {section}");
    }
    // The totals.
    let totals = stdout
        .lines()
        .any(|l| l.contains("2 Success") && l.contains("1 Failed"));
    assert!(totals, "no totals line\n{stdout}");
}

#[test]
fn text_mode_has_headers_for_several_results_and_bare_output_for_one() {
    let (a, b) = (instance_id(1), instance_id(2));
    let world = || {
        World::single([
            Instance::new(instance_id(1)).output("from a\n"),
            Instance::failed(instance_id(2), 3).output("no newline at the end"),
        ])
    };
    let (_, out) = got(world(), 0, "-o text");
    let both = format!("== {a} · Success ==\nfrom a\n== {b} · Failed ==\nno newline at the end\n");
    check_eq!(out, String::from_utf8_lossy(&out.stdout), both);

    let (_, out) = got(world(), 0, &format!("--instance-id {b} -o text"));
    let why = "exactly the output";
    check_eq!(out, out.stdout, b"no newline at the end", "{why}");

    // wait with one --instance-id: the output alone too.
    let (_, out) = waited(world(), 0, &format!("--instance-id {a} -o text"));
    check_eq!(out, out.stdout, b"from a\n");
}

#[test]
fn get_with_no_result_at_all_exits_3() {
    let args = "get --invoke-id t-nothere0001 -o json";
    let (fake, out) = ran(World::single([]), 3, args);
    let line = assert_error(&out, 3);
    let lower = line.to_lowercase();
    assert!(
        lower.contains("region") && (lower.contains("invoke id") || line.contains("t-nothere0001")),
        "the message should say to check the invoke ID and the region: {line}"
    );
    assert_eq!(fake.calls().len(), 1);
}

// --- Retries and service errors ------------------------------------------------------------------

#[test]
fn throttling_is_retried_with_fresh_signatures_then_succeeds() {
    let (fake, out) = got(one().fail_calls(1..=2, Fault::throttling()), 0, "-o json");
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "{requests:#?}");
    // Every attempt passed authentication: re-signed, with a new nonce.
    assert!(requests.iter().all(|r| r.call.is_some()), "{requests:#?}");
    let nonces: BTreeSet<&str> = requests
        .iter()
        .map(|r| r.param("SignatureNonce").unwrap())
        .collect();
    assert_eq!(nonces.len(), 3);
    assert_eq!(ids_of(&printed_results(&out)), [instance_id(1)]);
}

#[test]
fn persistent_throttling_gives_up_after_five_attempts() {
    let (fake, out) = got(one().fail_calls(1..=100, Fault::throttling()), 3, "-o json");
    check!(out, stderr_str(&out).contains("Throttling.User"));
    assert_eq!(fake.total_requests(), 5, "{:#?}", fake.requests());
    check!(out, out.stdout.is_empty());
}

#[test]
fn server_errors_and_dropped_connections_are_retried() {
    let bad_gateway = Fault::Raw(502, "<html><body>502 Bad Gateway</body></html>".into());
    let world = one()
        .fail_call(1, Fault::service_unavailable())
        .fail_call(2, Fault::internal_error())
        .fail_call(3, Fault::dropped_connection())
        .fail_call(4, bad_gateway);
    let (fake, out) = got(world, 0, "-o json");
    assert_eq!(fake.total_requests(), 5, "{:#?}", fake.requests());
    assert_eq!(ids_of(&printed_results(&out)), [instance_id(1)]);
}

#[test]
fn client_errors_are_not_retried() {
    let (code, message) = ("Operation.Forbidden", "The operation is not permitted.");
    let forbidden = Fault::Error(403, code.into(), message.into());
    let (fake, out) = got(one().fail_call(1, forbidden), 3, "-o json");
    let line = assert_error(&out, 3);
    assert!(line.contains(code) && line.contains(message), "{line}");
    assert_eq!(fake.total_requests(), 1);
}

// --- Credentials and region ----------------------------------------------------------------------

#[test]
fn a_wrong_secret_is_signature_does_not_match_once_and_never_printed() {
    let wrong = "WrongSecretValueThatMustNotLeak42";
    for verbose in ["", "-vvv"] {
        let fake = one_success();
        let env = [("ALIBABA_CLOUD_ACCESS_KEY_SECRET", wrong)];
        let args = format!("{verbose} get --invoke-id {INVOKE_ID} -o json");
        let out = ali_env(&fake, &env, args);
        assert_exit(&out, 3);
        assert_eq!(fake.total_requests(), 1, "{:#?}", fake.requests());
        let want = Some("SignatureDoesNotMatch");
        assert_eq!(fake.requests()[0].code.as_deref(), want);
        assert_not_printed(&out, wrong);
        let said = [
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        ];
        assert_stderr_line_with(&out, &said);
        if verbose.is_empty() {
            assert_single_stderr_line(&out);
        }
    }
}

#[test]
fn an_unknown_access_key_is_reported_once() {
    let fake = one_success();
    let env = [("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tNoSuchKey00")];
    let out = ali_env(&fake, &env, format!("get --invoke-id {INVOKE_ID}"));
    let line = assert_error(&out, 3);
    let said = line.contains("InvalidAccessKeyId.NotFound")
        && line.contains("Specified access key is not found.");
    assert!(said, "{line}");
    assert_eq!(fake.total_requests(), 1);
    assert_not_printed(&out, ACCESS_KEY_SECRET);
}

#[test]
fn an_sts_profile_sends_its_token_and_never_prints_it() {
    let (key, secret, token) = STS;
    let sts = json!({
        "name": "sts",
        "mode": "StsToken",
        "access_key_id": key,
        "access_key_secret": secret,
        "sts_token": token,
        "region_id": "cn-beijing"
    });
    let config = config_of(&[
        ak_profile("default", ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION_ID),
        sts,
    ]);
    let fake = FakeEcs::start(one().sts_key(key, secret, token));
    let out = configured(&fake, Some(&config), &[], "--profile sts -vvv get -o json");
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.param("AccessKeyId"), Some(key));
    assert_eq!(r.param("SecurityToken"), Some(token));
    assert_eq!(r.param("RegionId"), Some("cn-beijing"));
    assert_not_printed(&out, secret);
    assert_not_printed(&out, token);

    // The same from the environment.
    let fake = FakeEcs::start(one().sts_key(key, secret, token));
    let args = format!("-vvv get --invoke-id {INVOKE_ID} -o json");
    let out = ali_env(&fake, &sts_env(STS), args);
    assert_exit(&out, 0);
    let want = Some(token);
    assert_eq!(only_request(&fake, &out).param("SecurityToken"), want);
    assert_not_printed(&out, secret);
    assert_not_printed(&out, token);
}

/// An STS key, its secret and its token.
const STS: (&str, &str, &str) = (
    "STS.NUgYrLnoC37mZZCNnAbez2",
    "StsSecretMustNotLeak0987654321",
    "CAIS8gF1q6Ft5B2yfSjIr5bSEtTaSecurityTokenMustNotLeak",
);

/// The variables that give this STS key, secret and token.
fn sts_env<'a>((key, secret, token): (&'a str, &'a str, &'a str)) -> [(&'a str, &'a str); 3] {
    [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", key),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", token),
    ]
}

/// The service quotes its string to sign when a signature does not match, SecurityToken
/// included (encoded twice): none of it reaches the user.
#[test]
fn a_rejected_sts_signature_never_shows_the_token() {
    let (key, secret) = (STS.0, STS.1);
    let token = "CAIS8gF1q6Ft5B2yfSjIr5bSEtTa/Security+Token=MustNotLeak";
    let fake = FakeEcs::start(one().sts_key(key, secret, token));
    let args = format!("-vvv get --invoke-id {INVOKE_ID} -o json");
    let out = ali_env(&fake, &sts_env((key, "NotTheSecret", token)), args);
    assert_exit(&out, 3);
    let want = Some("SignatureDoesNotMatch");
    assert_eq!(fake.requests()[0].code.as_deref(), want);
    assert_stderr_line_with(&out, &["SignatureDoesNotMatch", "Specified signature"]);
    let encoded = |prefix: &str| {
        token
            .replace('/', &format!("{prefix}2F"))
            .replace('+', &format!("{prefix}2B"))
            .replace('=', &format!("{prefix}3D"))
    };
    for shown in [
        token.to_owned(),
        encoded("%"),
        encoded("%25"),
        "CAIS8gF1q6Ft5B2yfSjIr5bSEtTa".to_owned(),
    ] {
        assert_not_printed(&out, &shown);
    }
    check!(out, !stderr_str(&out).contains("string to sign is:GET"));
}

#[test]
fn an_ak_profile_from_config_json_gives_key_and_region() {
    let (key, secret) = ("LTAI5tProfileKey001", "ProfileSecretMustNotLeak123");
    let fake = FakeEcs::start(one().key(key, secret));
    let config = config_of(&[ak_profile("default", key, secret, "cn-shanghai")]);
    let out = configured(&fake, Some(&config), &[], "-vvv get -o json");
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.param("AccessKeyId"), Some(key));
    assert_eq!(r.param("RegionId"), Some("cn-shanghai"));
    assert_eq!(r.param("SecurityToken"), None);
    assert_not_printed(&out, secret);
}

#[test]
fn credentials_and_region_are_looked_up_in_the_documented_order() {
    let keys = [
        ("LTAI5tDefaultKey01", "default-secret-1"),
        ("LTAI5tCurrentKey02", "current-secret-2"),
        ("LTAI5tNamedKey0003", "named-secret-3"),
        ("LTAI5tEnvKey000004", "env-secret-4"),
    ];
    let world = keys.iter().fold(one(), |world, (k, s)| world.key(k, s));
    let profile = |name, i: usize, region| ak_profile(name, keys[i].0, keys[i].1, region);
    let config = config_of(&[
        profile("work", 1, "cn-shanghai"),
        profile("default", 0, "cn-hangzhou"),
        profile("named", 2, "cn-shenzhen"),
    ]);
    let (profile_var, region_var) = ("ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_REGION_ID");
    let env_keys = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", keys[3].0),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", keys[3].1),
    ];
    let env_keys_and_region = [env_keys[0], env_keys[1], (region_var, "cn-qingdao")];
    let explicit = "--profile default --region ap-southeast-1";
    let named = "--profile named";
    // (env, args, expected key of `keys`, expected region)
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Env, &str, usize, &str); 5] = [
        // The config's "current" profile.
        (&[], "", 1, "cn-shanghai"),
        // ALIBABA_CLOUD_PROFILE picks another.
        (&[(profile_var, "named")], "", 2, "cn-shenzhen"),
        // Keys in the environment win over the config file...
        (&env_keys_and_region, "", 3, "cn-qingdao"),
        // ...but not over an explicit --profile; --region wins over everything.
        (&env_keys, explicit, 0, "ap-southeast-1"),
        // ALIBABA_CLOUD_REGION_ID over the profile's region_id.
        (&[(region_var, "cn-beijing")], named, 2, "cn-beijing"),
    ];
    for (env, args, key, region) in cases {
        let key = keys[key].0;
        let fake = FakeEcs::start(world.clone());
        let out = configured(&fake, Some(&config), env, &format!("{args} get -o json"));
        assert_exit(&out, 0);
        let r = only_request(&fake, &out);
        let sent = (r.param("AccessKeyId"), r.param("RegionId"));
        assert_eq!(sent, (Some(key), Some(region)), "env {env:?} args {args:?}");
    }
    // A config without "current" falls back to "default".
    let fake = FakeEcs::start(world.clone());
    let config = json!({ "profiles": [profile("named", 2, "cn-shenzhen"), profile("default", 0, "cn-hangzhou")] });
    let out = configured(&fake, Some(&config), &[], "get -o json");
    assert_exit(&out, 0);
    let want = Some(keys[0].0);
    assert_eq!(only_request(&fake, &out).param("AccessKeyId"), want);
}

#[test]
fn profile_modes_other_than_ak_and_sts_token_are_refused() {
    for mode in ["RamRoleArn", "EcsRamRole"] {
        let fake = one_success();
        let mut profile = ak_profile("default", ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION_ID);
        let role = json!({
            "mode": mode,
            "ram_role_arn": "acs:ram::123456789012****:role/ops",
            "ram_role_name": "ops",
            "ram_session_name": "ssmres"
        });
        profile
            .as_object_mut()
            .unwrap()
            .extend(role.as_object().unwrap().clone());
        let out = configured(&fake, Some(&config_of(&[profile])), &[], "get");
        let line = assert_error(&out, 3);
        assert!(line.contains(mode), "the error should name {mode}: {line}");
        assert_not_printed(&out, ACCESS_KEY_SECRET);
        fake.assert_untouched();
    }
}

#[test]
fn no_credentials_are_reported_before_any_request() {
    let fake = one_success();
    let env = [("ALIBABA_CLOUD_REGION_ID", REGION_ID)];
    let out = configured(&fake, None, &env, "get");
    let line = assert_error(&out, 3);
    assert!(line.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"), "{line}");
    fake.assert_untouched();
}

#[test]
fn no_region_is_reported_before_any_request() {
    // Keys in the environment, no region anywhere; a profile without region_id.
    let env = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET),
    ];
    let config = config_of(&[ak_profile("default", ACCESS_KEY_ID, ACCESS_KEY_SECRET, "")]);
    for (config, env, command) in [(None, &env[..], "get"), (Some(&config), &[][..], "wait")] {
        let fake = one_success();
        let out = configured(&fake, config, env, command);
        let line = assert_error(&out, 3);
        let said = line.contains("--region") && line.contains("ALIBABA_CLOUD_REGION_ID");
        assert!(said, "{line}");
        fake.assert_untouched();
    }
}

// --- wait ----------------------------------------------------------------------------------------

#[test]
fn wait_follows_pending_running_to_a_mix_of_success_and_failure_exit_1() {
    let instances = [
        Instance::new(instance_id(1)).timeline(&[(1, "Pending"), (2, "Running"), (4, "Success")]),
        Instance::failed(instance_id(2), 2).timeline(&[
            (1, "Pending"),
            (2, "Running"),
            (5, "Failed"),
        ]),
        Instance::new(instance_id(3)).timeline(&[(1, "Running"), (3, "Success")]),
    ];
    let (fake, out) = waited(World::single(instances.clone()), 1, "-o json");
    assert_eq!(fake.rounds(), 5, "stops in the round everything ended");
    assert_eq!(printed_statuses(&out), ["Success", "Failed", "Success"]);
    assert_eq!(printed_results(&out)[1]["ExitCode"], 2);
    // As one look at the end would have shown them, though each was fetched when it ended.
    let invocation = Invocation::new(INVOKE_ID).instances(instances.clone());
    let at_the_end = instances
        .iter()
        .map(|i| decoded(&invocation.result_at(i, 5, true)));
    assert_results_as_sent(&out, &at_the_end.collect::<Vec<_>>());
}

#[test]
fn wait_exits_0_when_every_result_succeeds() {
    let world = World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running"), (3, "Success")]),
        Instance::new(instance_id(2)).timeline(&[(1, "Pending"), (2, "Success")]),
    ]);
    let (fake, out) = waited(world, 0, "-o json");
    assert_eq!(fake.rounds(), 3);
    let want = [instance_id(1), instance_id(2)];
    assert_eq!(ids_of(&printed_results(&out)), want);
    assert_eq!(printed_statuses(&out), ["Success", "Success"]);
}

#[test]
fn wait_times_out_with_exit_4_and_the_last_results() {
    let world = World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running")]),
        Instance::new(instance_id(2)),
    ]);
    let started = Instant::now();
    let (_, out) = waited(world, 4, "--timeout 1s -o json");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "took {took:?}");
    let want = [instance_id(1), instance_id(2)];
    assert_eq!(ids_of(&printed_results(&out)), want);
    assert_eq!(printed_statuses(&out), ["Running", "Success"]);
    let last = stderr_str(&out)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let why = format!("last stderr line: {last:?}");
    check!(out, last.starts_with("error: timed out after"), "{why}");
}

#[test]
fn wait_waits_for_results_that_appear_within_the_grace() {
    let late = Instance::new(instance_id(1))
        .visible_from(4)
        .timeline(&[(4, "Running"), (6, "Success")]);
    let (fake, out) = waited(World::single([late]), 0, "--not-found-grace 10s -o json");
    let first_listed = fake.described().iter().map(|(round, _)| *round).min();
    assert_eq!(first_listed, Some(4), "the first rounds listed nothing");
    assert_eq!(fake.rounds(), 6);
    assert_eq!(printed_statuses(&out), ["Success"]);
}

#[test]
fn wait_gives_up_with_exit_3_when_nothing_appears_within_the_grace() {
    let started = Instant::now();
    let (fake, out) = waited(World::single([]), 3, "--not-found-grace 1s -o json");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "took {took:?}");
    assert!(fake.rounds() >= 2, "polled during the grace");
    let err = stderr_str(&out);
    let about = err.contains(INVOKE_ID) || err.to_lowercase().contains("invoke id");
    check!(out, about, "the error is about the invoke ID");
}

#[test]
fn wait_stops_at_once_on_a_periodic_task() {
    // A periodic task after its first run: Scheduled until the next one.
    let world = World::single([
        Instance::new(instance_id(1))
            .timeline(&[(1, "Running"), (2, "Scheduled")])
            .repeats(1),
        Instance::new(instance_id(2)).timeline(&[(1, "Running")]),
    ]);
    let (fake, out) = waited(world, 2, "-o json");
    assert_eq!(fake.rounds(), 2, "no poll after Scheduled was seen");
    let want = [instance_id(1), instance_id(2)];
    assert_eq!(ids_of(&printed_results(&out)), want);
    assert_eq!(printed_statuses(&out), ["Scheduled", "Running"]);
    let err = stderr_str(&out);
    assert!(
        err.contains(&format!("list --invoke-id {INVOKE_ID} --include-history")),
        "{err}"
    );
}

#[test]
fn wait_keeps_polling_a_periodic_run_until_it_shows_scheduled() {
    // The third run of a periodic task is in progress: only Scheduled ends the wait.
    let periodic = Instance::new(instance_id(1))
        .timeline(&[(1, "Running"), (3, "Scheduled")])
        .repeats(3);
    let (fake, out) = waited(World::single([periodic]), 2, "-o json");
    let why = "wait stops when Scheduled shows, not before";
    check_eq!(out, fake.rounds(), 3, "{why}");
    assert_eq!(printed_statuses(&out), ["Scheduled"]);
    assert_eq!(printed_results(&out)[0]["Repeats"], 3);
}

#[test]
fn wait_with_several_instance_ids_waits_for_those_only() {
    let (a, b, c) = (instance_id(1), instance_id(2), instance_id(3));
    let world = World::single([
        Instance::new(a.clone()).timeline(&[(1, "Running"), (3, "Success")]),
        Instance::new(b.clone()).timeline(&[(1, "Pending"), (2, "Success")]),
        Instance::new(c.clone()).timeline(&[(1, "Running")]),
    ]);
    let (fake, out) = waited(
        world,
        0,
        &format!("--instance-id {b} --instance-id {a} -o json"),
    );
    assert_eq!(fake.rounds(), 3);
    // The states of all (the API filters one instance at most); the results of those named, once.
    for call in fake.calls_of(fake_ecs::DESCRIBE_ACTION) {
        assert_eq!(call.param("InstanceId"), None, "{:?}", call.params);
    }
    let fetched: Vec<_> = fake.calls_of(fake_ecs::ACTION);
    let mut fetched: Vec<&str> = fetched
        .iter()
        .filter_map(|c| c.param("InstanceId"))
        .collect();
    fetched.sort();
    assert_eq!(fetched, [a.as_str(), b.as_str()]);
    let mut printed = ids_of(&printed_results(&out));
    printed.sort();
    check_eq!(out, printed, [a.clone(), b.clone()]);

    // One of them fails: exit 1.
    let world = World::single([
        Instance::failed(a.clone(), 1),
        Instance::new(b.clone()),
        Instance::new(c.clone()).timeline(&[(1, "Running")]),
    ]);
    waited(
        world,
        1,
        &format!("--instance-id {a} --instance-id {b} -o json"),
    );
}

#[test]
fn wait_names_an_instance_still_absent_after_the_grace() {
    let missing = "i-bp1missing0000zz";
    let started = Instant::now();
    let ids = format!("--instance-id {} --instance-id {missing}", instance_id(1));
    let (_, out) = waited(one(), 3, &format!("{ids} --not-found-grace 1s -o json"));
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "took {took:?}");
    check!(out, stderr_str(&out).contains(missing));
}

// --- list ----------------------------------------------------------------------------------------

#[test]
fn list_sends_every_filter_and_prints_what_matches() {
    let world = World::new()
        .invocation(
            Invocation::new(INVOKE_ID)
                .resource_group_id("rg-acfmxazb4ph6aiy")
                .tag("env", "prod")
                .tag("team", "ops")
                .instance(Instance::new(instance_id(1)))
                .instance(Instance::failed(instance_id(2), 1)),
        )
        .invocation(
            Invocation::new("t-hz0other00002")
                .tag("env", "prod")
                .instance(Instance::new(instance_id(3))),
        );
    let filters = format!(
        "--invoke-id {INVOKE_ID} --command-id {COMMAND_ID} --instance-id {} --status partialfailed \
         --include-history --tag env=prod --tag team=ops --resource-group-id rg-acfmxazb4ph6aiy",
        instance_id(2)
    );
    let (fake, out) = ran(world, 0, format!("list {filters} -o json"));
    let r = only_request(&fake, &out);
    for (name, want) in [
        ("InvokeId", INVOKE_ID),
        ("CommandId", COMMAND_ID),
        ("InstanceId", instance_id(2).as_str()),
        ("InvokeRecordStatus", "PartialFailed"),
        ("IncludeHistory", "true"),
        ("Tag.1.Key", "env"),
        ("Tag.1.Value", "prod"),
        ("Tag.2.Key", "team"),
        ("Tag.2.Value", "ops"),
        ("ResourceGroupId", "rg-acfmxazb4ph6aiy"),
    ] {
        assert_eq!(r.param(name), Some(want), "{name} in {:?}", r.params);
    }
    assert_eq!(ids_of(&printed_results(&out)), [instance_id(2)]);

    // Tags alone select across invocations.
    let world = World::new()
        .invocation(
            Invocation::new(INVOKE_ID)
                .tag("env", "prod")
                .instance(Instance::new(instance_id(1))),
        )
        .invocation(
            Invocation::new("t-hz0other00002")
                .tag("env", "dev")
                .instance(Instance::new(instance_id(3))),
        );
    let (fake, out) = ran(world, 0, "list --tag env=prod -o json");
    let r = only_request(&fake, &out);
    assert_eq!(r.tags(), [(1, Some("env".into()), Some("prod".into()))]);
    assert_eq!(
        (r.param("InvokeId"), r.param("IncludeHistory")),
        (None, None)
    );
    assert_eq!(ids_of(&printed_results(&out)), [instance_id(1)]);
}

#[test]
fn list_status_is_sent_in_the_canonical_case() {
    for (given, sent) in [
        ("running", "Running"),
        ("FINISHED", "Finished"),
        ("success", "Success"),
        ("failed", "Failed"),
        ("PARTIALFAILED", "PartialFailed"),
        ("stopped", "Stopped"),
        ("Stopping", "Stopping"),
    ] {
        let fake = one_success();
        let out = ali(
            &fake,
            format!("list --invoke-id {INVOKE_ID} --status {given} -o json"),
        );
        let r = only_request(&fake, &out);
        let why = format!("--status {given}");
        assert_eq!(r.param("InvokeRecordStatus"), Some(sent), "{why}");
        assert_eq!(r.status, Some(200), "--status {given}: {r:#?}");
    }
}

// --- Validation ----------------------------------------------------------------------------------

#[test]
fn bad_ids_are_rejected_before_any_request() {
    // Comma-separated: one of them has a space.
    for bad in "t-,t-abc_def,t-abc-def,x-abc123,tabc123,t-ab c,T-abc123".split(',') {
        for command in ["get", "wait", "list"] {
            assert_rejected_aliyun([command, "--invoke-id", bad]);
        }
    }
    for bad in "i- mi- i-abc_def i-abc.def x-abc123 i-ab-cd bp1abc".split(' ') {
        for command in ["get", "wait"] {
            assert_rejected_aliyun([command, "--invoke-id", INVOKE_ID, "--instance-id", bad]);
        }
    }
}

#[test]
fn get_and_wait_need_an_invoke_id() {
    assert_rejected_aliyun(["get", "--instance-id", &instance_id(1)]);
    assert_rejected_aliyun(["wait"]);
    assert_rejected_aliyun(["wait", "--instance-id", &instance_id(1)]);
}

#[test]
fn flags_of_the_other_provider_are_rejected() {
    let aws_ids = "--command-id 8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60";
    let aws_instance = "--instance-id i-0123456789abcdef0";
    for line in [
        format!("get --invoke-id {INVOKE_ID} --plugin-name aws:runShellScript"),
        format!("get --invoke-id {INVOKE_ID} --full-output"),
        format!("wait --invoke-id {INVOKE_ID} --follow"),
        format!("list --invoke-id {INVOKE_ID} --details"),
        "task-invocations --window-execution-id 6f1e7c2a-1b2c-4d3e-8f9a-0b1c2d3e4f50".into(),
    ] {
        assert_rejected_aliyun(&line);
    }
    for line in [
        format!("get {aws_ids} {aws_instance} --invoke-id {INVOKE_ID}"),
        format!("wait {aws_ids} {aws_instance} --invoke-id {INVOKE_ID}"),
        format!("list {aws_ids} --status Running"),
        format!("list {aws_ids} --invoke-id {INVOKE_ID} --include-history"),
        format!("list {aws_ids} --tag env=prod"),
        format!("list {aws_ids} --resource-group-id rg-acfmxazb4ph6aiy"),
    ] {
        assert_rejected(&line);
        assert_rejected(format!("--provider aws {line}"));
    }
}

#[test]
fn list_filters_are_validated() {
    assert_rejected_aliyun(["list", "--command-id", COMMAND_ID, "--include-history"]);
    for tag in ["novalue", "=prod", ""] {
        assert_rejected_aliyun(["list", "--invoke-id", INVOKE_ID, "--tag", tag]);
    }
    assert_rejected_aliyun(format!(
        "list --invoke-id {INVOKE_ID} --tag env=a --tag env=b"
    ));
    let tags = |n: usize| {
        (1..=n)
            .map(|i| format!("--tag k{i}=v"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_rejected_aliyun(format!("list --invoke-id {INVOKE_ID} {}", tags(21)));
    for status in ["Bogus", "Pending", ""] {
        assert_rejected_aliyun(["list", "--invoke-id", INVOKE_ID, "--status", status]);
    }

    // 20 tags are fine.
    let (fake, out) = listed(one(), 0, &format!("-o json {}", tags(20)));
    let r = only_request(&fake, &out);
    assert_eq!(r.tags().len(), 20);
    let want = (Some("k20"), Some("v"));
    assert_eq!((r.param("Tag.20.Key"), r.param("Tag.20.Value")), want);
}
