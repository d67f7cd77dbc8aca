//! -v diagnostics through `tracing` on stderr. Nothing is set up without -v, which keeps the
//! start-up of `get` lean. The SDK logs through `tracing` too, so -vvv shows its retries.
//! TRACE is never enabled for the SDK: DEBUG already shows every attempt, and the lower level
//! only adds request dumps that have no place in a bug report.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init(verbosity: u8, color: bool) {
    let default = match verbosity {
        0 => return,
        1 => LevelFilter::WARN,
        2 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    // The SDK prints the access key ID (its credentials' Debug form) in these lines: the
    // profile provider at INFO, endpoint resolution and assumed roles at DEBUG; hyper's
    // connection pool names the endpoint's authority, `user:password@` included, at DEBUG.
    // README promises secrets never appear.
    let targets = Targets::new()
        .with_target("ssmres", LevelFilter::DEBUG)
        .with_target(
            "aws_config::profile::credentials",
            default.min(LevelFilter::WARN),
        )
        .with_target(
            "aws_config::sts::assume_role",
            default.min(LevelFilter::INFO),
        )
        .with_target(
            "aws_smithy_runtime::client::orchestrator::endpoints",
            default.min(LevelFilter::INFO),
        )
        .with_target("hyper_util", default.min(LevelFilter::INFO))
        .with_default(default);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(true);
    // Only fails when a subscriber is already installed, which would be ours.
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(targets)
        .try_init();
}
