//! `ssmres --provider aliyun`: Alibaba Cloud ECS Cloud Assistant results
//! (DescribeInvocationResults) against a scripted fake ECS endpoint ([`FakeEcs`]).
//!
//! The fake checks every request as the service does, the RPC signature V1 included, with its
//! own implementation; the first tests prove that implementation right (Alibaba's documented
//! example, and requests signed by Alibaba's official Python SDK), so that every later test
//! also proves the binary signs its requests correctly. The others assert what a user notices:
//! exit codes, stdout in each output mode, one-line errors, warnings, and what was sent.

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
    Args, Cli, FAST_POLL, args, assert_error, assert_exit, assert_rejected, assert_rejected_aliyun,
    assert_single_stderr_line, check, check_eq, describe, run, stderr_str, stdout_json,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

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

/// `ssmres --provider aliyun ARGS` with the fake's key and region.
fn ali(fake: &FakeEcs, args: impl Args) -> Output {
    Cli::new(&fake.url()).run_ali(args)
}

/// `ssmres --provider aliyun get --invoke-id INVOKE_ID EXTRA`.
fn get(fake: &FakeEcs, extra: &str) -> Output {
    ali(
        fake,
        format!("get --invoke-id {INVOKE_ID} {extra}").as_str(),
    )
}

/// `ssmres --provider aliyun wait --invoke-id INVOKE_ID <fast polling> EXTRA`.
fn wait(fake: &FakeEcs, extra: &[&str]) -> Output {
    ali(
        fake,
        [&["wait", "--invoke-id", INVOKE_ID][..], &FAST_POLL, extra].concat(),
    )
}

/// A fake with one invocation of one instance, Success.
fn one_success() -> FakeEcs {
    FakeEcs::start(World::single([Instance::new(instance_id(1))]))
}

/// The fake's key and region, and a config.json profile for them.
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
    let doc = stdout_json(out);
    doc["Invocation"]["InvocationResults"]["InvocationResult"]
        .as_array()
        .unwrap_or_else(|| panic!("no InvocationResult array\n{}", describe(out)))
        .clone()
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
    check_eq!(
        out,
        ids_of(&printed),
        ids_of(expected),
        "results (in API order)"
    );
    for (got, want) in printed.iter().zip(expected) {
        for (key, value) in want.as_object().unwrap() {
            assert_eq!(
                got.get(key),
                Some(value),
                "field {key} of {}\nprinted: {got:#}",
                want["InstanceId"]
            );
        }
    }
}

/// Asserts stdout is a 4-space indented JSON document.
#[track_caller]
fn assert_four_space_json(out: &Output) {
    let text = String::from_utf8_lossy(&out.stdout);
    check!(
        out,
        text.starts_with("{\n    \"Invocation\": {\n        \""),
        "stdout is not 4-space indented JSON"
    );
}

/// The single call the fake got; panics unless there was exactly one request.
#[track_caller]
fn only_request(fake: &FakeEcs, out: &Output) -> Recorded {
    let requests = fake.requests();
    check_eq!(
        out,
        requests.len(),
        1,
        "expected exactly one request, got {requests:#?}"
    );
    requests.into_iter().next().unwrap()
}

/// Asserts no output stream holds `secret`.
#[track_caller]
fn assert_not_printed(out: &Output, secret: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    check!(
        out,
        !stdout.contains(secret) && !stderr.contains(secret),
        "a secret was printed"
    );
}

/// Asserts stderr has a line containing each of `parts`.
#[track_caller]
fn assert_stderr_line_with(out: &Output, parts: &[&str]) {
    check!(
        out,
        stderr_str(out)
            .lines()
            .any(|l| parts.iter().all(|p| l.contains(p))),
        "no stderr line contains all of {parts:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The Python SDK (a second opinion on the signature)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// The fake's verifier
// ---------------------------------------------------------------------------------------------

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
    assert_eq!(
        signature("testsecret", &to_sign),
        "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    );
    // A Signature parameter already present is not signed.
    let mut with_sig = params.clone();
    with_sig.push(("Signature".into(), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=".into()));
    assert_eq!(string_to_sign("GET", &with_sig), to_sign);

    // RFC 3986: unreserved kept, everything else %XX upper-case, space %20, UTF-8 bytes.
    assert_eq!(fake_ecs::percent_encode("aZ09-_.~"), "aZ09-_.~");
    assert_eq!(
        fake_ecs::percent_encode("a b*c+d/e=f&g:h"),
        "a%20b%2Ac%2Bd%2Fe%3Df%26g%3Ah"
    );
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
    let fake = FakeEcs::start(World::single([Instance::new(instance_id(1))]).sts_key(
        "STS.key",
        "stssecret",
        "tok3n",
    ));
    let (status, body) = fake.call(&[("InvokeId", INVOKE_ID)]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Invocation"]["TotalCount"], 1);
    let result = &body["Invocation"]["InvocationResults"]["InvocationResult"][0];
    assert_eq!(result["InstanceId"], instance_id(1));
    assert_eq!(result["InvocationStatus"], "Success");
    assert_eq!(
        BASE64.decode(result["Output"].as_str().unwrap()).unwrap(),
        format!("hello from {}\n", instance_id(1)).as_bytes()
    );

    let code =
        |(status, body): (u16, Value)| (status, body["Code"].as_str().unwrap_or("").to_owned());

    // Wrong secret.
    let params = fake_ecs::signed("not-the-secret", fake_ecs::call_params(ACCESS_KEY_ID, &[]));
    assert_eq!(
        code(fake.send(&params).unwrap()),
        (400, "SignatureDoesNotMatch".into())
    );
    // A parameter changed after signing.
    let mut params = fake_ecs::signed(
        ACCESS_KEY_SECRET,
        fake_ecs::call_params(ACCESS_KEY_ID, &[("InvokeId", INVOKE_ID)]),
    );
    for (k, v) in params.iter_mut() {
        if k == "InvokeId" {
            *v = "t-other".into();
        }
    }
    assert_eq!(
        code(fake.send(&params).unwrap()),
        (400, "SignatureDoesNotMatch".into())
    );
    // The same nonce twice.
    let params = fake_ecs::signed(ACCESS_KEY_SECRET, fake_ecs::call_params(ACCESS_KEY_ID, &[]));
    assert_eq!(fake.send(&params).unwrap().0, 200);
    assert_eq!(
        code(fake.send(&params).unwrap()),
        (400, "SignatureNonceUsed".into())
    );
    // An unknown key.
    let params = fake_ecs::signed(ACCESS_KEY_SECRET, fake_ecs::call_params("LTAIunknown", &[]));
    assert_eq!(
        code(fake.send(&params).unwrap()),
        (404, "InvalidAccessKeyId.NotFound".into())
    );
    // A missing common parameter; a malformed and an old timestamp.
    let mut params = fake_ecs::call_params(ACCESS_KEY_ID, &[]);
    params.retain(|(k, _)| k != "SignatureNonce");
    assert_eq!(
        code(
            fake.send(&fake_ecs::signed(ACCESS_KEY_SECRET, params))
                .unwrap()
        ),
        (400, "MissingParameter".into())
    );
    for (ts, want) in [
        ("2024-05-14 09:12:31", "InvalidParameter"),
        ("2016-02-23T12:46:24Z", "InvalidTimeStamp.Expired"),
    ] {
        let mut params = fake_ecs::call_params(ACCESS_KEY_ID, &[]);
        params.retain(|(k, _)| k != "Timestamp");
        params.push(("Timestamp".into(), ts.into()));
        assert_eq!(
            code(
                fake.send(&fake_ecs::signed(ACCESS_KEY_SECRET, params))
                    .unwrap()
            ),
            (400, want.into()),
            "{ts}"
        );
    }
    // MaxResults and NextToken.
    assert_eq!(
        code(fake.call(&[("MaxResults", "51")])),
        (400, "InvalidParameter.MaxResults".into())
    );
    assert_eq!(
        code(fake.call(&[("NextToken", "AAAAAnotatoken")])),
        (400, "InvalidParameter.NextToken".into())
    );
    // An STS key needs its token.
    let params = fake_ecs::signed("stssecret", fake_ecs::call_params("STS.key", &[]));
    assert_eq!(
        code(fake.send(&params).unwrap()),
        (400, "InvalidSecurityToken.Mismatch".into())
    );
    let params = fake_ecs::signed(
        "stssecret",
        fake_ecs::call_params("STS.key", &[("SecurityToken", "tok3n")]),
    );
    assert_eq!(fake.send(&params).unwrap().0, 200);

    // Error bodies look like the service's.
    let (_, body) = fake.call(&[("MaxResults", "0")]);
    for key in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(body.get(key).is_some(), "{key} missing from {body}");
    }
    assert_eq!(body["HostId"], "ecs.aliyuncs.com");
}

#[test]
fn fake_serves_pages_rounds_filters_and_faults() {
    let world = World::new()
        .invocation(
            Invocation::new(INVOKE_ID)
                .tag("env", "prod")
                .instances((0..23).map(|i| Instance::new(instance_id(i))))
                .instance(
                    Instance::new(instance_id(99))
                        .visible_from(2)
                        .timeline(&[(2, "Running"), (3, "Failed")]),
                ),
        )
        .invocation(
            Invocation::new("t-other0001")
                .command_id("c-other0001")
                .instance(Instance::new(instance_id(500))),
        )
        .fail_call(5, Fault::throttling());
    let fake = FakeEcs::start(world);

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
    let (s, _) = fake.call(&[("InvokeId", "t-other0001"), ("NextToken", &token2)]);
    assert_eq!(s, 400);
    let (_, p3) = fake.call(&[
        ("InvokeId", INVOKE_ID),
        ("MaxResults", "10"),
        ("NextToken", &token2),
    ]);
    assert_eq!(p3["Invocation"]["NextToken"], "");
    let pages = fake.served_pages();
    assert_eq!(
        pages.iter().map(|p| p.results.len()).collect::<Vec<_>>(),
        [10, 10, 3]
    );
    assert!(pages.iter().all(|p| p.round == 1));
    let all: Vec<String> = pages.iter().flat_map(|p| p.instance_ids()).collect();
    assert_eq!(
        all,
        (0..23).map(instance_id).collect::<Vec<_>>(),
        "API order"
    );
    assert_eq!(fake.rounds(), 1);

    // Call 5 is throttled (and is round 2).
    let (s, body) = fake.call(&[("InvokeId", INVOKE_ID)]);
    assert_eq!((s, body["Code"].as_str()), (400, Some("Throttling.User")));
    // Round 3: the late instance has appeared and failed; filters.
    let (_, body) = fake.call(&[("InstanceId", &instance_id(99))]);
    let r = &body["Invocation"]["InvocationResults"]["InvocationResult"][0];
    assert_eq!(r["InvocationStatus"], "Failed");
    assert_eq!(r["InvokeRecordStatus"], "PartialFailed");
    let (_, body) = fake.call(&[("CommandId", "c-other0001")]);
    assert_eq!(body["Invocation"]["TotalCount"], 1);
    let (_, body) = fake.call(&[("Tag.1.Key", "env"), ("Tag.1.Value", "prod")]);
    assert_eq!(body["Invocation"]["TotalCount"], 24);
    let (_, body) = fake.call(&[("Tag.1.Key", "env"), ("Tag.1.Value", "dev")]);
    assert_eq!(body["Invocation"]["TotalCount"], 0);
    let (_, body) = fake.call(&[
        ("ContentEncoding", "PlainText"),
        ("InvokeId", "t-other0001"),
    ]);
    assert_eq!(
        body["Invocation"]["InvocationResults"]["InvocationResult"][0]["Output"],
        format!("hello from {}\n", instance_id(500))
    );
    let (s, body) = fake.call(&[("InvokeRecordStatus", "running")]);
    assert_eq!((s, body["Code"].as_str()), (400, Some("InvalidParameter")));
    let (s, body) = fake.call(&[("Tag.1.Key", "a"), ("Tag.2.Key", "a")]);
    assert_eq!((s, body["Code"].as_str()), (400, Some("Duplicate.TagKey")));

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
        ["ContentEncoding", "PlainText"],
    ]);
    let body = sdk_call(&fake, &params);
    assert_eq!(
        body["Invocation"]["InvocationResults"]["InvocationResult"][0]["Output"],
        "こんにちは\n"
    );
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
        assert_eq!(r.status, Some(200), "{r:#?}");
        assert_eq!(r.method, "GET");
        assert_eq!(r.param("RegionId"), Some(REGION_ID));
    }
    assert_eq!(requests[1].param("Tag.1.Value"), Some("a b+c=d&e é✓"));
    assert_eq!(requests[1].param("Tag.1.Key"), Some("team name*~/"));

    // And the SDK's canonicalization agrees with the fake's on what it sent.
    for r in &requests {
        assert_sdk_signs_alike(r);
    }
}

// ---------------------------------------------------------------------------------------------
// The binary's requests
// ---------------------------------------------------------------------------------------------

#[test]
fn get_sends_one_correctly_signed_request_with_the_contract_parameters() {
    let fake = one_success();
    let out = get(&fake, "-o json");
    assert_exit(&out, 0);
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
    let ts = parse_timestamp(r.param("Timestamp").unwrap()).expect("YYYY-MM-DDThh:mm:ssZ");
    assert!(
        (ts - fake_ecs::now_epoch()).abs() <= 60,
        "Timestamp {} is not the current UTC time",
        r.param("Timestamp").unwrap()
    );
    // The signature, recomputed here from what was received.
    assert_eq!(
        r.param("Signature").map(str::to_owned),
        Some(signature(
            ACCESS_KEY_SECRET,
            &string_to_sign("GET", &r.params)
        ))
    );
    assert_results_as_sent(&out, &last_round_results(&fake));
    assert_not_printed(&out, ACCESS_KEY_SECRET);
}

#[test]
fn the_python_sdk_signs_the_binarys_requests_identically() {
    let fake = one_success();
    let out = ali(
        &fake,
        [
            "list",
            "--invoke-id",
            INVOKE_ID,
            "--tag",
            "team name=a b+c/é*~",
            "--command-id",
            COMMAND_ID,
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.status, Some(200), "{r:#?}");
    assert_eq!(r.param("Tag.1.Key"), Some("team name"));
    assert_eq!(r.param("Tag.1.Value"), Some("a b+c/é*~"));
    assert_sdk_signs_alike(&r);
}

#[test]
fn get_and_wait_send_instance_and_command_filters() {
    let fake = FakeEcs::start(World::single([
        Instance::new(instance_id(1)),
        Instance::new("mi-abc123DEF"),
    ]));
    let out = ali(
        &fake,
        args(&format!(
            "get --invoke-id {INVOKE_ID} --instance-id mi-abc123DEF --command-id {COMMAND_ID} -o json"
        )),
    );
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.param("InstanceId"), Some("mi-abc123DEF"));
    assert_eq!(r.param("CommandId"), Some(COMMAND_ID));
    assert_eq!(ids_of(&printed_results(&out)), ["mi-abc123DEF"]);

    let fake = one_success();
    let out = wait(&fake, &["--instance-id", &instance_id(1), "-o", "json"]);
    assert_exit(&out, 0);
    let calls = fake.calls();
    assert!(!calls.is_empty());
    for c in &calls {
        assert_eq!(c.param("InstanceId"), Some(instance_id(1).as_str()));
    }
}

#[test]
fn provider_can_be_chosen_with_ssmres_provider() {
    let fake = one_success();
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.bare();
    cmd.env("SSMRES_PROVIDER", "aliyun")
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
        .env("ALIBABA_CLOUD_REGION_ID", REGION_ID)
        .args(["--endpoint-url", &fake.url()])
        .args(["get", "--invoke-id", INVOKE_ID, "-o", "json"]);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.param("Action"), Some("DescribeInvocationResults"));
    assert_eq!(ids_of(&printed_results(&out)), [instance_id(1)]);

    // --provider aws wins over the variable: --invoke-id is then an Alibaba-only flag.
    let fake2 = one_success();
    let cli = Cli::new(&fake2.url());
    let mut cmd = cli.cmd();
    cmd.env("SSMRES_PROVIDER", "aliyun")
        .args(args(&format!("--provider aws get --invoke-id {INVOKE_ID}")));
    // --provider aws over SSMRES_PROVIDER=aliyun.
    assert_error(&run(&mut cmd), 2);
    fake2.assert_untouched();
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

#[test]
fn get_reads_every_page_of_120_instances_in_api_order() {
    let fake = FakeEcs::start(World::single(
        (0..120).map(|i| Instance::new(instance_id(i))),
    ));
    let out = get(&fake, "-o json");
    assert_exit(&out, 0);
    let calls = fake.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    let pages = fake.served_pages();
    for (i, c) in calls.iter().enumerate() {
        assert_eq!(c.param("MaxResults"), Some("50"), "call {}", i + 1);
        assert_eq!(c.param("InvokeId"), Some(INVOKE_ID));
        let want_token = if i == 0 {
            None
        } else {
            Some(pages[i - 1].next_token_out.as_str())
        };
        assert_eq!(c.param("NextToken"), want_token, "call {}", i + 1);
    }
    assert_eq!(
        pages.iter().map(|p| p.results.len()).collect::<Vec<_>>(),
        [50, 50, 20]
    );
    let printed = printed_results(&out);
    assert_eq!(printed.len(), 120);
    assert_eq!(
        ids_of(&printed),
        (0..120).map(instance_id).collect::<Vec<_>>()
    );
    assert_eq!(stdout_json(&out)["Invocation"]["TotalCount"], 120);
    assert_four_space_json(&out);
    assert_results_as_sent(&out, &last_round_results(&fake));
}

#[test]
fn list_max_items_asks_for_no_more_than_it_needs() {
    let world = || World::single((0..120).map(|i| Instance::new(instance_id(i))));

    let fake = FakeEcs::start(world());
    let out = ali(
        &fake,
        args(&format!(
            "list --invoke-id {INVOKE_ID} --max-items 70 -o json"
        )),
    );
    assert_exit(&out, 0);
    let calls = fake.calls();
    assert_eq!(
        calls
            .iter()
            .map(|c| c.param("MaxResults").unwrap_or("<none>"))
            .collect::<Vec<_>>(),
        ["50", "20"],
        "{calls:#?}"
    );
    assert_eq!(
        calls[1].param("NextToken"),
        Some(fake.served_pages()[0].next_token_out.as_str())
    );
    assert_eq!(
        ids_of(&printed_results(&out)),
        (0..70).map(instance_id).collect::<Vec<_>>()
    );
    // TotalCount is the service's.
    assert_eq!(stdout_json(&out)["Invocation"]["TotalCount"], 120);

    let fake = FakeEcs::start(world());
    let out = ali(
        &fake,
        args(&format!(
            "list --invoke-id {INVOKE_ID} --max-items 30 -o jsonl"
        )),
    );
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.param("MaxResults"), Some("30"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    check_eq!(out, stdout.lines().count(), 30);

    // Without --max-items, every page.
    let fake = FakeEcs::start(world());
    let out = ali(&fake, ["list", "--invoke-id", INVOKE_ID, "-o", "json"]);
    assert_exit(&out, 0);
    assert_eq!(fake.calls().len(), 3);
    assert_eq!(printed_results(&out).len(), 120);
}

#[test]
fn a_fault_on_a_later_page_is_retried_with_the_same_token() {
    let fake = FakeEcs::start(
        World::single((0..60).map(|i| Instance::new(instance_id(i))))
            .fail_call(2, Fault::throttling()),
    );
    let out = get(&fake, "-o json");
    assert_exit(&out, 0);
    let calls = fake.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    let token = fake.served_pages()[0].next_token_out.clone();
    assert_eq!(calls[1].param("NextToken"), Some(token.as_str()));
    assert_eq!(calls[2].param("NextToken"), Some(token.as_str()));
    assert_ne!(
        calls[1].param("SignatureNonce"),
        calls[2].param("SignatureNonce")
    );
    assert_eq!(printed_results(&out).len(), 60);
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

#[test]
fn output_is_decoded_from_base64_including_multibyte_text() {
    let text = "héllo wörld ✓ 日本語 🚀\nsecond line\n";
    let world = || {
        World::single([
            Instance::new(instance_id(1)).output(text),
            Instance::new(instance_id(2)).output("plain\n"),
        ])
    };

    let fake = FakeEcs::start(world());
    let out = get(&fake, "-o json");
    assert_exit(&out, 0);
    let printed = printed_results(&out);
    assert_eq!(printed[0]["Output"], text);
    assert_eq!(printed[1]["Output"], "plain\n");
    check!(
        out,
        stderr_str(&out).lines().all(|l| !l.starts_with("warning")),
        "no warning expected"
    );

    let fake = FakeEcs::start(world());
    let out = get(&fake, "-o jsonl");
    assert_exit(&out, 0);
    let lines: Vec<Value> = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    check_eq!(out, lines.len(), 2);
    assert_eq!(lines[0]["Output"], text);
    assert_eq!(lines[0]["InstanceId"], instance_id(1));
    assert_eq!(lines[1]["InstanceId"], instance_id(2));
    assert_eq!(lines[1]["InvocationStatus"], "Success");

    let fake = FakeEcs::start(world());
    let out = ali(
        &fake,
        args(&format!(
            "get --invoke-id {INVOKE_ID} --instance-id {} -o text",
            instance_id(1)
        )),
    );
    assert_exit(&out, 0);
    check_eq!(out, out.stdout, text.as_bytes());
}

#[test]
fn invalid_utf8_output_is_shown_lossily_with_a_warning_in_every_mode() {
    let bytes: &[u8] = b"ok \xff\xfe bad \xc3\x28 end\n";
    let lossy = String::from_utf8_lossy(bytes).into_owned();
    let id = instance_id(7);
    let world = || World::single([Instance::new(instance_id(7)).output(bytes)]);

    for mode in ["json", "table", "text", "jsonl"] {
        let fake = FakeEcs::start(world());
        let out = ali(
            &fake,
            args(&format!(
                "get --invoke-id {INVOKE_ID} --instance-id {id} -o {mode}"
            )),
        );
        assert_exit(&out, 0);
        assert_stderr_line_with(&out, &["warning", &id, "not valid UTF-8"]);
        let stdout = String::from_utf8(out.stdout.clone())
            .unwrap_or_else(|_| panic!("-o {mode}: stdout is not UTF-8\n{}", describe(&out)));
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
    let cut = instance_id(1);
    let in_oss = instance_id(2);
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

    let fake = FakeEcs::start(world());
    let out = get(&fake, "-o table");
    assert_exit(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    check!(
        out,
        stdout.contains("[cut short by the service: output truncated by 1234 bytes]")
    );
    check!(out, stdout.contains(&format!(
            "[cut short by the service: output truncated by 99 bytes; the complete output is in {uri}]"
        )));
    check_eq!(out, stdout.matches("[cut short by the service").count(), 2);
    // The note follows its own instance's section.
    let section = stdout
        .find(&format!("── {cut} · output ──"))
        .expect("a section per instance");
    let note = stdout.find("truncated by 1234 bytes]").unwrap();
    let next = stdout.find(&format!("── {in_oss} · output ──")).unwrap();
    check!(out, section < note && note < next);

    for mode in ["table", "text", "json"] {
        let fake = FakeEcs::start(world());
        let out = get(&fake, &format!("-o {mode}"));
        assert_exit(&out, 0);
        assert_stderr_line_with(&out, &["warning", &cut, "output truncated by 1234 bytes"]);
        assert_stderr_line_with(&out, &["warning", &in_oss, "output truncated by 99 bytes"]);
        check!(
            out,
            !stderr_str(&out).contains(&instance_id(3)),
            "-o {mode}: no warning for the complete output"
        );
        if mode == "json" {
            let printed = printed_results(&out);
            assert_eq!(printed[0]["Dropped"], 1234);
            assert_eq!(printed[1]["Dropped"], 99);
            assert_eq!(printed[1]["OssOutputUri"], uri);
            assert_eq!(printed[2]["Dropped"], 0);
        }
    }
}

#[test]
fn table_has_the_columns_a_section_per_instance_and_no_raw_escape() {
    let (ok, failed, running, empty) = (
        instance_id(1),
        instance_id(2),
        instance_id(3),
        instance_id(4),
    );
    let fake = FakeEcs::start(World::single([
        Instance::new(ok.clone()).output("line one\n\x1b[31mred\x1b[0m\n\x1b]0;pwned\x07title\n"),
        Instance::failed(failed.clone(), 2)
            .error("ExitCodeNonzero", "exit code is not zero \x1b[2J")
            .output("boom\n"),
        Instance::new(running.clone()).timeline(&[(1, "Running")]),
        Instance::new(empty.clone()).output(""),
    ]));
    let out = get(&fake, "-o table");
    assert_exit(&out, 0);
    check!(out, !out.stdout.contains(&0x1b), "a raw ESC byte on stdout");
    let stdout = String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout");
    for header in [
        "Instance",
        "Status",
        "Exit code",
        "Error",
        "Started",
        "Finished",
        "Repeats",
    ] {
        assert!(stdout.contains(header), "header {header:?}\n{stdout}");
    }
    // One row per instance, with its status.
    for (id, status) in [
        (&ok, "Success"),
        (&failed, "Failed"),
        (&running, "Running"),
        (&empty, "Success"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(id.as_str()) && l.contains(status) && !l.contains("──")),
            "no row for {id} {status}\n{stdout}"
        );
    }
    assert!(
        stdout.contains("ExitCodeNonzero: exit code is not zero"),
        "{stdout}"
    );
    // Sections, in order, with the output made visible.
    let positions: Vec<usize> = [&ok, &failed, &running, &empty]
        .iter()
        .map(|id| {
            stdout
                .find(&format!("── {id} · output ──"))
                .unwrap_or_else(|| panic!("no section for {id}\n{stdout}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{stdout}");
    let ok_section = &stdout[positions[0]..positions[1]];
    assert!(ok_section.contains("line one"), "{ok_section}");
    assert!(ok_section.contains("\\x1b[31mred\\x1b[0m"), "{ok_section}");
    let failed_section = &stdout[positions[1]..positions[2]];
    assert!(failed_section.contains("boom"), "{failed_section}");
    let running_section = &stdout[positions[2]..positions[3]];
    assert!(
        running_section.contains("(no output yet: the command has not finished)"),
        "{running_section}"
    );
    let empty_section = &stdout[positions[3]..];
    assert!(empty_section.contains("(empty)"), "{empty_section}");
    // The totals.
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("2 Success") && l.contains("1 Failed")),
        "no totals line\n{stdout}"
    );
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

    let fake = FakeEcs::start(world());
    let out = get(&fake, "-o text");
    assert_exit(&out, 0);
    check_eq!(
        out,
        String::from_utf8_lossy(&out.stdout),
        format!("== {a} · Success ==\nfrom a\n== {b} · Failed ==\nno newline at the end\n")
    );

    let fake = FakeEcs::start(world());
    let out = ali(
        &fake,
        args(&format!(
            "get --invoke-id {INVOKE_ID} --instance-id {b} -o text"
        )),
    );
    assert_exit(&out, 0);
    check_eq!(
        out,
        out.stdout,
        b"no newline at the end",
        "exactly the output"
    );

    // wait with one --instance-id: the output alone too.
    let fake = FakeEcs::start(world());
    let out = wait(&fake, &["--instance-id", &a, "-o", "text"]);
    assert_exit(&out, 0);
    check_eq!(out, out.stdout, b"from a\n");
}

#[test]
fn get_with_no_result_at_all_exits_3() {
    let fake = FakeEcs::start(World::single([]));
    let out = ali(&fake, ["get", "--invoke-id", "t-nothere0001", "-o", "json"]);
    assert_exit(&out, 3);
    let line = assert_single_stderr_line(&out);
    let lower = line.to_lowercase();
    assert!(
        lower.contains("region") && (lower.contains("invoke id") || line.contains("t-nothere0001")),
        "the message should say to check the invoke ID and the region: {line}"
    );
    assert_eq!(fake.calls().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Retries and service errors
// ---------------------------------------------------------------------------------------------

#[test]
fn throttling_is_retried_with_fresh_signatures_then_succeeds() {
    let fake = FakeEcs::start(
        World::single([Instance::new(instance_id(1))]).fail_calls(1..=2, Fault::throttling()),
    );
    let out = get(&fake, "-o json");
    assert_exit(&out, 0);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "{requests:#?}");
    // Every attempt passed authentication: re-signed, with a new nonce.
    assert!(requests.iter().all(|r| r.call.is_some()), "{requests:#?}");
    let mut nonces: Vec<&str> = requests
        .iter()
        .map(|r| r.param("SignatureNonce").unwrap())
        .collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3);
    assert_eq!(ids_of(&printed_results(&out)), [instance_id(1)]);
}

#[test]
fn persistent_throttling_gives_up_after_five_attempts() {
    let fake = FakeEcs::start(
        World::single([Instance::new(instance_id(1))]).fail_calls(1..=100, Fault::throttling()),
    );
    let out = get(&fake, "-o json");
    assert_exit(&out, 3);
    check!(out, stderr_str(&out).contains("Throttling.User"));
    assert_eq!(fake.total_requests(), 5, "{:#?}", fake.requests());
    check!(out, out.stdout.is_empty());
}

#[test]
fn server_errors_and_dropped_connections_are_retried() {
    let fake = FakeEcs::start(
        World::single([Instance::new(instance_id(1))])
            .fail_call(1, Fault::service_unavailable())
            .fail_call(2, Fault::internal_error())
            .fail_call(3, Fault::dropped_connection())
            .fail_call(
                4,
                Fault::Raw(502, "<html><body>502 Bad Gateway</body></html>".into()),
            ),
    );
    let out = get(&fake, "-o json");
    assert_exit(&out, 0);
    assert_eq!(fake.total_requests(), 5, "{:#?}", fake.requests());
    assert_eq!(ids_of(&printed_results(&out)), [instance_id(1)]);
}

#[test]
fn client_errors_are_not_retried() {
    let fake = FakeEcs::start(World::single([Instance::new(instance_id(1))]).fail_call(
        1,
        Fault::Error(
            403,
            "Operation.Forbidden".into(),
            "The operation is not permitted.".into(),
        ),
    ));
    let out = get(&fake, "-o json");
    assert_exit(&out, 3);
    let line = assert_single_stderr_line(&out);
    assert!(
        line.contains("Operation.Forbidden") && line.contains("The operation is not permitted."),
        "{line}"
    );
    assert_eq!(fake.total_requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// Credentials and region
// ---------------------------------------------------------------------------------------------

#[test]
fn a_wrong_secret_is_signature_does_not_match_once_and_never_printed() {
    let wrong = "WrongSecretValueThatMustNotLeak42";
    for verbose in [None, Some("-vvv")] {
        let fake = one_success();
        let cli = Cli::new(&fake.url());
        let mut cmd = cli.ali();
        cmd.env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", wrong);
        cmd.args(verbose);
        cmd.args(["get", "--invoke-id", INVOKE_ID, "-o", "json"]);
        let out = run(&mut cmd);
        assert_exit(&out, 3);
        assert_eq!(fake.total_requests(), 1, "{:#?}", fake.requests());
        assert_eq!(
            fake.requests()[0].code.as_deref(),
            Some("SignatureDoesNotMatch")
        );
        assert_not_printed(&out, wrong);
        assert_stderr_line_with(
            &out,
            &[
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            ],
        );
        if verbose.is_none() {
            assert_single_stderr_line(&out);
        }
    }
}

#[test]
fn an_unknown_access_key_is_reported_once() {
    let fake = one_success();
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.ali();
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tNoSuchKey00")
        .args(["get", "--invoke-id", INVOKE_ID]);
    let out = run(&mut cmd);
    assert_exit(&out, 3);
    let line = assert_single_stderr_line(&out);
    assert!(
        line.contains("InvalidAccessKeyId.NotFound")
            && line.contains("Specified access key is not found."),
        "{line}"
    );
    assert_eq!(fake.total_requests(), 1);
    assert_not_printed(&out, ACCESS_KEY_SECRET);
}

#[test]
fn an_sts_profile_sends_its_token_and_never_prints_it() {
    let (key, secret, token) = (
        "STS.NUgYrLnoC37mZZCNnAbez2",
        "StsSecretMustNotLeak0987654321",
        "CAIS8gF1q6Ft5B2yfSjIr5bSEtTaSecurityTokenMustNotLeak",
    );
    let fake =
        FakeEcs::start(World::single([Instance::new(instance_id(1))]).sts_key(key, secret, token));
    let cli = Cli::new(&fake.url());
    write_config(
        &cli,
        &json!({
            "current": "default",
            "profiles": [
                ak_profile("default", ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION_ID),
                {
                    "name": "sts",
                    "mode": "StsToken",
                    "access_key_id": key,
                    "access_key_secret": secret,
                    "sts_token": token,
                    "region_id": "cn-beijing"
                }
            ]
        }),
    );
    let mut cmd = cli.ali_bare();
    cmd.args(args(&format!(
        "--profile sts -vvv get --invoke-id {INVOKE_ID} -o json"
    )));
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.param("AccessKeyId"), Some(key));
    assert_eq!(r.param("SecurityToken"), Some(token));
    assert_eq!(r.param("RegionId"), Some("cn-beijing"));
    assert_not_printed(&out, secret);
    assert_not_printed(&out, token);

    // The same from the environment.
    let fake =
        FakeEcs::start(World::single([Instance::new(instance_id(1))]).sts_key(key, secret, token));
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.ali();
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", key)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", token)
        .args(["-vvv", "get", "--invoke-id", INVOKE_ID, "-o", "json"]);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.param("SecurityToken"), Some(token));
    assert_not_printed(&out, secret);
    assert_not_printed(&out, token);
}

/// The service quotes its string to sign when a signature does not match, SecurityToken
/// included (encoded twice): none of it reaches the user.
#[test]
fn a_rejected_sts_signature_never_shows_the_token() {
    let (key, secret, token) = (
        "STS.NUgYrLnoC37mZZCNnAbez2",
        "StsSecretMustNotLeak0987654321",
        "CAIS8gF1q6Ft5B2yfSjIr5bSEtTa/Security+Token=MustNotLeak",
    );
    let fake =
        FakeEcs::start(World::single([Instance::new(instance_id(1))]).sts_key(key, secret, token));
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.ali();
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", key)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "NotTheSecret")
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", token)
        .args(["-vvv", "get", "--invoke-id", INVOKE_ID, "-o", "json"]);
    let out = run(&mut cmd);
    assert_exit(&out, 3);
    assert_eq!(
        fake.requests()[0].code.as_deref(),
        Some("SignatureDoesNotMatch")
    );
    assert_stderr_line_with(&out, &["SignatureDoesNotMatch", "Specified signature"]);
    for shown in [
        token.to_owned(),
        token
            .replace('/', "%2F")
            .replace('+', "%2B")
            .replace('=', "%3D"),
        token
            .replace('/', "%252F")
            .replace('+', "%252B")
            .replace('=', "%253D"),
        "CAIS8gF1q6Ft5B2yfSjIr5bSEtTa".to_owned(),
    ] {
        assert_not_printed(&out, &shown);
    }
    check!(out, !stderr_str(&out).contains("string to sign is:GET"));
}

#[test]
fn an_ak_profile_from_config_json_gives_key_and_region() {
    let (key, secret) = ("LTAI5tProfileKey001", "ProfileSecretMustNotLeak123");
    let fake = FakeEcs::start(World::single([Instance::new(instance_id(1))]).key(key, secret));
    let cli = Cli::new(&fake.url());
    write_config(
        &cli,
        &json!({
            "current": "default",
            "profiles": [ak_profile("default", key, secret, "cn-shanghai")]
        }),
    );
    let mut cmd = cli.ali_bare();
    cmd.args(["-vvv", "get", "--invoke-id", INVOKE_ID, "-o", "json"]);
    let out = run(&mut cmd);
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
    let mut world = World::single([Instance::new(instance_id(1))]);
    for (k, s) in keys {
        world = world.key(k, s);
    }
    let config = json!({
        "current": "work",
        "profiles": [
            ak_profile("default", keys[0].0, keys[0].1, "cn-hangzhou"),
            ak_profile("work", keys[1].0, keys[1].1, "cn-shanghai"),
            ak_profile("named", keys[2].0, keys[2].1, "cn-shenzhen"),
        ]
    });
    // (env, args, expected key, expected region)
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        // The config's "current" profile.
        (vec![], vec![], keys[1].0, "cn-shanghai"),
        // ALIBABA_CLOUD_PROFILE picks another.
        (
            vec![("ALIBABA_CLOUD_PROFILE", "named")],
            vec![],
            keys[2].0,
            "cn-shenzhen",
        ),
        // Keys in the environment win over the config file...
        (
            vec![
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", keys[3].0),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", keys[3].1),
                ("ALIBABA_CLOUD_REGION_ID", "cn-qingdao"),
            ],
            vec![],
            keys[3].0,
            "cn-qingdao",
        ),
        // ...but not over an explicit --profile; --region wins over everything.
        (
            vec![
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", keys[3].0),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", keys[3].1),
            ],
            vec!["--profile", "default", "--region", "ap-southeast-1"],
            keys[0].0,
            "ap-southeast-1",
        ),
        // ALIBABA_CLOUD_REGION_ID over the profile's region_id.
        (
            vec![("ALIBABA_CLOUD_REGION_ID", "cn-beijing")],
            vec!["--profile", "named"],
            keys[2].0,
            "cn-beijing",
        ),
    ];
    for (env_vars, args, key, region) in cases {
        let fake = FakeEcs::start(world.clone());
        let cli = Cli::new(&fake.url());
        write_config(&cli, &config);
        let mut cmd = cli.ali_bare();
        for (k, v) in &env_vars {
            cmd.env(k, v);
        }
        cmd.args(&args)
            .args(["get", "--invoke-id", INVOKE_ID, "-o", "json"]);
        let out = run(&mut cmd);
        assert_exit(&out, 0);
        let r = only_request(&fake, &out);
        assert_eq!(
            (r.param("AccessKeyId"), r.param("RegionId")),
            (Some(key), Some(region)),
            "env {env_vars:?} args {args:?}"
        );
    }
    // A config without "current" falls back to "default".
    let fake = FakeEcs::start(world.clone());
    let cli = Cli::new(&fake.url());
    write_config(
        &cli,
        &json!({
            "profiles": [
                ak_profile("named", keys[2].0, keys[2].1, "cn-shenzhen"),
                ak_profile("default", keys[0].0, keys[0].1, "cn-hangzhou"),
            ]
        }),
    );
    let mut cmd = cli.ali_bare();
    cmd.args(["get", "--invoke-id", INVOKE_ID, "-o", "json"]);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    assert_eq!(
        only_request(&fake, &out).param("AccessKeyId"),
        Some(keys[0].0)
    );
}

#[test]
fn profile_modes_other_than_ak_and_sts_token_are_refused() {
    for mode in ["RamRoleArn", "EcsRamRole"] {
        let fake = one_success();
        let cli = Cli::new(&fake.url());
        write_config(
            &cli,
            &json!({
                "current": "default",
                "profiles": [{
                    "name": "default",
                    "mode": mode,
                    "access_key_id": ACCESS_KEY_ID,
                    "access_key_secret": ACCESS_KEY_SECRET,
                    "ram_role_arn": "acs:ram::123456789012****:role/ops",
                    "ram_role_name": "ops",
                    "ram_session_name": "ssmres",
                    "region_id": REGION_ID
                }]
            }),
        );
        let mut cmd = cli.ali_bare();
        cmd.args(["get", "--invoke-id", INVOKE_ID]);
        let out = run(&mut cmd);
        assert_exit(&out, 3);
        let line = assert_single_stderr_line(&out);
        assert!(line.contains(mode), "the error should name {mode}: {line}");
        assert_not_printed(&out, ACCESS_KEY_SECRET);
        fake.assert_untouched();
    }
}

#[test]
fn no_credentials_are_reported_before_any_request() {
    let fake = one_success();
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.ali_bare();
    cmd.env("ALIBABA_CLOUD_REGION_ID", REGION_ID)
        .args(["get", "--invoke-id", INVOKE_ID]);
    let out = run(&mut cmd);
    assert_exit(&out, 3);
    let line = assert_single_stderr_line(&out);
    assert!(line.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"), "{line}");
    fake.assert_untouched();
}

#[test]
fn no_region_is_reported_before_any_request() {
    // Keys in the environment, no region anywhere.
    let fake = one_success();
    let cli = Cli::new(&fake.url());
    let mut cmd = cli.ali();
    cmd.env_remove("ALIBABA_CLOUD_REGION_ID")
        .args(["get", "--invoke-id", INVOKE_ID]);
    let out = run(&mut cmd);
    assert_exit(&out, 3);
    let line = assert_single_stderr_line(&out);
    assert!(
        line.contains("--region") && line.contains("ALIBABA_CLOUD_REGION_ID"),
        "{line}"
    );
    fake.assert_untouched();

    // A profile without region_id.
    let fake = one_success();
    let cli = Cli::new(&fake.url());
    write_config(
        &cli,
        &json!({
            "current": "default",
            "profiles": [{
                "name": "default",
                "mode": "AK",
                "access_key_id": ACCESS_KEY_ID,
                "access_key_secret": ACCESS_KEY_SECRET,
                "region_id": ""
            }]
        }),
    );
    let mut cmd = cli.ali_bare();
    cmd.args(["wait", "--invoke-id", INVOKE_ID]);
    let out = run(&mut cmd);
    assert_exit(&out, 3);
    let line = assert_single_stderr_line(&out);
    assert!(
        line.contains("--region") && line.contains("ALIBABA_CLOUD_REGION_ID"),
        "{line}"
    );
    fake.assert_untouched();
}

// ---------------------------------------------------------------------------------------------
// wait
// ---------------------------------------------------------------------------------------------

#[test]
fn wait_follows_pending_running_to_a_mix_of_success_and_failure_exit_1() {
    let fake = FakeEcs::start(World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Pending"), (2, "Running"), (4, "Success")]),
        Instance::failed(instance_id(2), 2).timeline(&[
            (1, "Pending"),
            (2, "Running"),
            (5, "Failed"),
        ]),
        Instance::new(instance_id(3)).timeline(&[(1, "Running"), (3, "Success")]),
    ]));
    let out = wait(&fake, &["-o", "json"]);
    assert_exit(&out, 1);
    assert_eq!(fake.rounds(), 5, "stops in the round everything ended");
    let printed = printed_results(&out);
    assert_eq!(
        printed
            .iter()
            .map(|r| r["InvocationStatus"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Success", "Failed", "Success"]
    );
    assert_eq!(printed[1]["ExitCode"], 2);
    assert_results_as_sent(&out, &last_round_results(&fake));
}

#[test]
fn wait_exits_0_when_every_result_succeeds() {
    let fake = FakeEcs::start(World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running"), (3, "Success")]),
        Instance::new(instance_id(2)).timeline(&[(1, "Pending"), (2, "Success")]),
    ]));
    let out = wait(&fake, &["-o", "json"]);
    assert_exit(&out, 0);
    assert_eq!(fake.rounds(), 3);
    assert_eq!(
        ids_of(&printed_results(&out)),
        [instance_id(1), instance_id(2)]
    );
    assert!(
        printed_results(&out)
            .iter()
            .all(|r| r["InvocationStatus"] == "Success")
    );
}

#[test]
fn wait_times_out_with_exit_4_and_the_last_results() {
    let fake = FakeEcs::start(World::single([
        Instance::new(instance_id(1)).timeline(&[(1, "Running")]),
        Instance::new(instance_id(2)),
    ]));
    let started = Instant::now();
    let out = wait(&fake, &["--timeout", "1s", "-o", "json"]);
    let took = started.elapsed();
    assert_exit(&out, 4);
    assert!(took >= Duration::from_secs(1), "took {took:?}");
    let printed = printed_results(&out);
    assert_eq!(ids_of(&printed), [instance_id(1), instance_id(2)]);
    assert_eq!(printed[0]["InvocationStatus"], "Running");
    assert_eq!(printed[1]["InvocationStatus"], "Success");
    let last = stderr_str(&out)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    check!(
        out,
        last.starts_with("error: timed out after"),
        "last stderr line: {last:?}"
    );
}

#[test]
fn wait_waits_for_results_that_appear_within_the_grace() {
    let fake = FakeEcs::start(World::single([Instance::new(instance_id(1))
        .visible_from(4)
        .timeline(&[(4, "Running"), (6, "Success")])]));
    let out = wait(&fake, &["--not-found-grace", "10s", "-o", "json"]);
    assert_exit(&out, 0);
    let pages = fake.served_pages();
    assert!(
        pages.iter().take(3).all(|p| p.results.is_empty()),
        "the first rounds had no result"
    );
    assert_eq!(fake.rounds(), 6);
    assert_eq!(printed_results(&out)[0]["InvocationStatus"], "Success");
}

#[test]
fn wait_gives_up_with_exit_3_when_nothing_appears_within_the_grace() {
    let fake = FakeEcs::start(World::single([]));
    let started = Instant::now();
    let out = wait(&fake, &["--not-found-grace", "1s", "-o", "json"]);
    let took = started.elapsed();
    assert_exit(&out, 3);
    assert!(took >= Duration::from_secs(1), "took {took:?}");
    assert!(fake.rounds() >= 2, "polled during the grace");
    let err = stderr_str(&out);
    check!(
        out,
        err.contains(INVOKE_ID) || err.to_lowercase().contains("invoke id"),
        "the error is about the invoke ID"
    );
}

#[test]
fn wait_stops_at_once_on_a_periodic_task() {
    // A periodic task after its first run: Scheduled until the next one.
    let fake = FakeEcs::start(World::single([
        Instance::new(instance_id(1))
            .timeline(&[(1, "Running"), (2, "Scheduled")])
            .repeats(1),
        Instance::new(instance_id(2)).timeline(&[(1, "Running")]),
    ]));
    let out = wait(&fake, &["-o", "json"]);
    assert_exit(&out, 2);
    assert_eq!(fake.rounds(), 2, "no poll after Scheduled was seen");
    let printed = printed_results(&out);
    assert_eq!(ids_of(&printed), [instance_id(1), instance_id(2)]);
    assert_eq!(printed[0]["InvocationStatus"], "Scheduled");
    assert_eq!(printed[1]["InvocationStatus"], "Running");
    let err = stderr_str(&out);
    assert!(
        err.contains(&format!("list --invoke-id {INVOKE_ID} --include-history")),
        "{err}"
    );
}

#[test]
fn wait_keeps_polling_a_periodic_run_until_it_shows_scheduled() {
    // The third run of a periodic task is in progress: only Scheduled ends the wait.
    let fake = FakeEcs::start(World::single([Instance::new(instance_id(1))
        .timeline(&[(1, "Running"), (3, "Scheduled")])
        .repeats(3)]));
    let out = wait(&fake, &["-o", "json"]);
    assert_exit(&out, 2);
    check_eq!(
        out,
        fake.rounds(),
        3,
        "wait stops when Scheduled shows, not before"
    );
    let printed = printed_results(&out);
    assert_eq!(printed[0]["InvocationStatus"], "Scheduled");
    assert_eq!(printed[0]["Repeats"], 3);
}

#[test]
fn wait_with_several_instance_ids_waits_for_those_only() {
    let (a, b, c) = (instance_id(1), instance_id(2), instance_id(3));
    let fake = FakeEcs::start(World::single([
        Instance::new(a.clone()).timeline(&[(1, "Running"), (3, "Success")]),
        Instance::new(b.clone()).timeline(&[(1, "Pending"), (2, "Success")]),
        Instance::new(c.clone()).timeline(&[(1, "Running")]),
    ]));
    let out = wait(
        &fake,
        &["--instance-id", &b, "--instance-id", &a, "-o", "json"],
    );
    assert_exit(&out, 0);
    assert_eq!(fake.rounds(), 3);
    for call in fake.calls() {
        assert_eq!(call.param("InstanceId"), None, "{:?}", call.params);
    }
    let mut printed = ids_of(&printed_results(&out));
    printed.sort();
    check_eq!(out, printed, [a.clone(), b.clone()]);

    // One of them fails: exit 1.
    let fake = FakeEcs::start(World::single([
        Instance::failed(a.clone(), 1),
        Instance::new(b.clone()),
        Instance::new(c.clone()).timeline(&[(1, "Running")]),
    ]));
    let out = wait(
        &fake,
        &["--instance-id", &a, "--instance-id", &b, "-o", "json"],
    );
    assert_exit(&out, 1);
}

#[test]
fn wait_names_an_instance_still_absent_after_the_grace() {
    let missing = "i-bp1missing0000zz";
    let fake = one_success();
    let started = Instant::now();
    let out = wait(
        &fake,
        &args(&format!(
            "--instance-id {} --instance-id {missing} --not-found-grace 1s -o json",
            instance_id(1)
        )),
    );
    let took = started.elapsed();
    assert_exit(&out, 3);
    assert!(took >= Duration::from_secs(1), "took {took:?}");
    check!(out, stderr_str(&out).contains(missing));
}

// ---------------------------------------------------------------------------------------------
// list
// ---------------------------------------------------------------------------------------------

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
    let fake = FakeEcs::start(world);
    let out = ali(
        &fake,
        args(&format!(
            "list --invoke-id {INVOKE_ID} --command-id {COMMAND_ID} --instance-id {} --status partialfailed --include-history --tag env=prod --tag team=ops --resource-group-id rg-acfmxazb4ph6aiy -o json",
            instance_id(2)
        )),
    );
    assert_exit(&out, 0);
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
    let fake = FakeEcs::start(
        World::new()
            .invocation(
                Invocation::new(INVOKE_ID)
                    .tag("env", "prod")
                    .instance(Instance::new(instance_id(1))),
            )
            .invocation(
                Invocation::new("t-hz0other00002")
                    .tag("env", "dev")
                    .instance(Instance::new(instance_id(3))),
            ),
    );
    let out = ali(&fake, ["list", "--tag", "env=prod", "-o", "json"]);
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.tags(), [(1, Some("env".into()), Some("prod".into()))]);
    assert_eq!(r.param("InvokeId"), None);
    assert_eq!(r.param("IncludeHistory"), None);
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
            args(&format!(
                "list --invoke-id {INVOKE_ID} --status {given} -o json"
            )),
        );
        let r = only_request(&fake, &out);
        assert_eq!(
            r.param("InvokeRecordStatus"),
            Some(sent),
            "--status {given}"
        );
        assert_eq!(r.status, Some(200), "--status {given}: {r:#?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_ids_are_rejected_before_any_request() {
    for bad in [
        "t-",
        "t-abc_def",
        "t-abc-def",
        "x-abc123",
        "tabc123",
        "t-ab c",
        "T-abc123",
    ] {
        assert_rejected_aliyun(["get", "--invoke-id", bad]);
        assert_rejected_aliyun(["wait", "--invoke-id", bad]);
        assert_rejected_aliyun(["list", "--invoke-id", bad]);
    }
    for bad in [
        "i-",
        "mi-",
        "i-abc_def",
        "i-abc.def",
        "x-abc123",
        "i-ab-cd",
        "bp1abc",
    ] {
        assert_rejected_aliyun(["get", "--invoke-id", INVOKE_ID, "--instance-id", bad]);
        assert_rejected_aliyun(["wait", "--invoke-id", INVOKE_ID, "--instance-id", bad]);
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
    assert_rejected_aliyun(args(&format!(
        "list --invoke-id {INVOKE_ID} --tag env=a --tag env=b"
    )));
    let many: Vec<String> = (1..=21).map(|i| format!("k{i}=v")).collect();
    let mut args = vec!["list", "--invoke-id", INVOKE_ID];
    for t in &many {
        args.extend(["--tag", t.as_str()]);
    }
    assert_rejected_aliyun(&args);
    for status in ["Bogus", "Pending", ""] {
        assert_rejected_aliyun(["list", "--invoke-id", INVOKE_ID, "--status", status]);
    }

    // 20 tags are fine.
    let fake = one_success();
    let mut args = vec!["list", "--invoke-id", INVOKE_ID, "-o", "json"];
    for t in &many[..20] {
        args.extend(["--tag", t.as_str()]);
    }
    let out = ali(&fake, &args);
    assert_exit(&out, 0);
    let r = only_request(&fake, &out);
    assert_eq!(r.tags().len(), 20);
    assert_eq!(r.param("Tag.20.Key"), Some("k20"));
    assert_eq!(r.param("Tag.20.Value"), Some("v"));
}
