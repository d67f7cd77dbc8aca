//! One file per subcommand, plus `full_output`, the --full-output step `get` and `wait` share.
//! Each wires its arguments to a provider, the poll loop and a renderer; none has protocol or
//! terminal details of its own.

pub mod aliyun;
pub mod cancel;
pub mod completions;
pub mod follow;
pub mod full_output;
pub mod get;
pub mod list;
pub mod man;
pub mod task_invocations;
pub mod wait;
pub mod wait_fleet;

use crate::cli::{Cli, Command, GlobalArgs, OutputFormat, ProviderKind};
use crate::error::{Error, WaitStage};
use crate::model::Invocation;
use crate::output;
use crate::provider::InvocationKey;
use crate::provider::aliyun::AliyunOptions;
use crate::provider::aws::{AwsOptions, AwsProvider};
use crate::render::{self, Target};

/// Everything a command needs from the global flags, resolved once.
pub struct Context {
    pub format: OutputFormat,
    pub target: Target,
    pub show_progress: bool,
    /// -v count: besides the log, it shows what is otherwise kept back (sensitive parameters).
    pub verbose: u8,
    pub aws: AwsOptions,
    pub aliyun: AliyunOptions,
}

impl Context {
    pub fn new(global: &GlobalArgs, target: Target) -> Self {
        let format = global.output.unwrap_or(if target.stdout_is_terminal {
            OutputFormat::Table
        } else {
            OutputFormat::Json
        });
        Context {
            format,
            target,
            // With -v the log is the progress report; a spinner would interleave with it.
            show_progress: target.stderr_is_terminal && !global.quiet && global.verbose == 0,
            verbose: global.verbose,
            aws: AwsOptions {
                region: global.region.clone(),
                profile: global.profile.clone(),
                endpoint_url: global.endpoint_url.clone(),
            },
            aliyun: AliyunOptions {
                region: global.region.clone(),
                profile: global.profile.clone(),
                endpoint_url: global.endpoint_url.clone(),
            },
        }
    }

    pub fn print(&self, invocation: &Invocation) -> Result<(), Error> {
        output::emit(&render::render(self.format, invocation, &self.target))
    }

    /// Prints one invocation; with --full-output, with its complete stdout and stderr, read
    /// within what is left of the --timeout budget (`deadline`).
    pub async fn print_full(
        &self,
        provider: &AwsProvider,
        invocation: &mut Invocation,
        full_output: bool,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<(), Error> {
        if !full_output {
            return self.print(invocation);
        }
        let reader = provider.output_reader();
        let mut warnings = Vec::new();
        if self.format == OutputFormat::Text {
            // Each step in turn: its stdout, then its stderr, as they are read.
            for part in invocation.parts() {
                warnings
                    .extend(full_output::stream_text(&reader, part, &self.target, deadline).await?);
            }
        } else {
            if invocation.steps.is_empty() {
                warnings = full_output::complete(&reader, invocation, deadline).await;
            }
            for step in &mut invocation.steps {
                warnings.extend(full_output::complete(&reader, step, deadline).await);
            }
            self.print(invocation)?;
        }
        full_output::print_warnings(&warnings);
        Ok(())
    }
}

/// The AWS client, within the --timeout budget when there is one: credential look-up counts.
async fn connect(
    ctx: &Context,
    deadline: Option<tokio::time::Instant>,
    timeout: Option<std::time::Duration>,
) -> Result<AwsProvider, Error> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, AwsProvider::connect(&ctx.aws))
            .await
            .map_err(|_| Error::Timeout(timeout.unwrap_or_default(), WaitStage::SettingUp))?,
        None => AwsProvider::connect(&ctx.aws).await,
    }
}

fn key(args: &crate::cli::InvocationArgs) -> InvocationKey {
    InvocationKey {
        command_id: args.aws_command_id().to_owned(),
        instance_id: args.aws_instance_id().to_owned(),
        plugin_name: args.plugin_name.clone(),
    }
}

/// Runs the chosen subcommand; the value is the exit code of a run that did not fail.
pub async fn dispatch(cli: Cli, target: Target) -> Result<u8, Error> {
    let ctx = Context::new(&cli.global, target);
    match (cli.command, cli.global.provider) {
        (Command::Get(args), ProviderKind::Aws) => get::run(&ctx, &args).await,
        (Command::Get(args), ProviderKind::Aliyun) => aliyun::get(&ctx, &args).await,
        (Command::Wait(args), ProviderKind::Aws) => wait::run(&ctx, &args).await,
        (Command::Wait(args), ProviderKind::Aliyun) => aliyun::wait(&ctx, &args).await,
        (Command::List(args), ProviderKind::Aws) => list::run(&ctx, &args).await,
        (Command::List(args), ProviderKind::Aliyun) => aliyun::list(&ctx, &args).await,
        // `Cli::check` has refused it for aliyun already.
        (Command::TaskInvocations(args), _) => task_invocations::run(&ctx, &args).await,
        (Command::Completions { shell }, _) => completions::run(shell),
        (Command::Man, _) => man::run(),
    }
}
