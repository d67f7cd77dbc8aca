//! The SSM client's retries under hours of throttling, with the SDK's own sleeps made instant
//! and counted: each poll keeps its attempts, and adaptive mode does not stretch a wait.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::UNIX_EPOCH;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ssm::config::retry::RetryConfig;
use aws_sdk_ssm::config::{SharedAsyncSleep, StalledStreamProtectionConfig};
use aws_smithy_async::test_util::{InstantSleep, instant_time_and_sleep};
use aws_smithy_async::time::SharedTimeSource;

use super::*;

const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
const FOUND: &str = r#"{"CommandId":"c","InstanceId":"i-00000001","Status":"Success"}"#;

/// A local SSM endpoint answering request `n` (from 1) with `answer(n)`; and the count.
fn endpoint(answer: fn(usize) -> (u16, &'static str)) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let count = Arc::new(AtomicUsize::new(0));
    let served = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let served = served.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut stream = stream;
                loop {
                    let (mut line, mut length) = (String::new(), 0);
                    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        line.clear();
                    }
                    let mut body = vec![0; length];
                    if line.is_empty() || reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let (status, body) = answer(served.fetch_add(1, SeqCst) + 1);
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(format!("{head}{body}").as_bytes());
                }
            });
        }
    });
    (url, count)
}

/// The client `connect` builds, in `mode`, whose sleeps return at once and are kept.
fn client(mode: RetryConfig, url: &str) -> (aws_sdk_ssm::Client, InstantSleep) {
    let (time, sleep) = instant_time_and_sleep(UNIX_EPOCH);
    let credentials = Credentials::new("AKIDTEST", "secret", None, None, "test");
    let sdk_config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .retry_config(mode)
        .sleep_impl(SharedAsyncSleep::new(sleep.clone()))
        .time_source(SharedTimeSource::new(time))
        // With sleeps that return at once, any timeout would fire before the connection, and
        // stalled-stream checks would fill the log of sleeps.
        .timeout_config(TimeoutConfig::disabled())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .build();
    let ssm = poll_retries(aws_sdk_ssm::config::Builder::from(&sdk_config), &sdk_config);
    (
        aws_sdk_ssm::Client::from_conf(ssm.endpoint_url(url).build()),
        sleep,
    )
}

async fn polls(client: &aws_sdk_ssm::Client, n: usize) {
    for _ in 0..n {
        let call = client.get_command_invocation().command_id("c");
        let _ = call.instance_id("i-00000001").send().await;
    }
}

#[tokio::test]
async fn every_poll_keeps_its_retries_under_sustained_throttling() {
    let (url, requests) = endpoint(|_| (400, THROTTLED));
    let (client, _) = client(RetryConfig::standard(), &url);
    polls(&client, 120).await;
    // Three attempts each; the SDK's shared retry quota would have run dry after about fifty.
    assert_eq!(requests.load(SeqCst), 360);
}

#[tokio::test]
async fn adaptive_mode_waits_no_longer_than_standard_mode_would() {
    // Every other request throttled: each poll's first attempt, and its retry succeeds.
    let answer = |n: usize| {
        if n % 2 == 1 {
            (400, THROTTLED)
        } else {
            (200, FOUND)
        }
    };
    let (url, requests) = endpoint(answer);
    let (client, waited) = client(RetryConfig::adaptive(), &url);
    polls(&client, 20).await;
    assert_eq!(requests.load(SeqCst), 40);
    // One wait before each retry, of at most 2 s, as in standard mode; the SDK's own limiter
    // holds every request of a throttled poller back, the retries for up to 20 s.
    let logs = waited.logs();
    assert_eq!(logs.len(), 20, "{logs:?}");
    assert!(
        logs.iter().all(|d| *d <= Duration::from_secs(2)),
        "{logs:?}"
    );
}
