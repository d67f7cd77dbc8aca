//! The anchor for `ssmres get`'s speed: one GetCommandInvocation through aws-sdk-ssm with the
//! SDK's documented defaults and nothing else. Usage: bare_get ENDPOINT COMMAND_ID INSTANCE_ID
use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, endpoint, command_id, instance_id] = args.as_slice() else {
        eprintln!("usage: bare_get ENDPOINT COMMAND_ID INSTANCE_ID");
        std::process::exit(2);
    };
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let ssm = aws_sdk_ssm::config::Builder::from(&config)
        .endpoint_url(endpoint)
        .build();
    let client = aws_sdk_ssm::Client::from_conf(ssm);
    match client
        .get_command_invocation()
        .command_id(command_id)
        .instance_id(instance_id)
        .send()
        .await
    {
        Ok(out) => {
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                out.status_details().unwrap_or_default()
            );
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(3);
        }
    }
}
