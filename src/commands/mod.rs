//! One file per subcommand. Each wires its arguments to a cloud (through the seam in
//! provider/), the poll loop and a renderer; none has protocol or terminal details of its own.
//! `full_output` and `follow` are the printing side of two AWS-only features `get` and `wait`
//! share.

pub mod cancel;
pub mod completions;
pub mod follow;
pub mod full_output;
pub mod get;
pub mod list;
pub mod man;
pub mod run;
pub mod task_invocations;
pub mod wait;
pub mod wait_fleet;
mod wait_fleet_set;

use tokio::time::Instant;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::{Error, WaitStage};
use crate::model::Report;
use crate::output;
use crate::provider::Cloud;
use crate::provider::aws::output::complete::complete;
use crate::provider::contract::{CloudKind, Options};
use crate::render::{self, Console, OutputFormat, Shape};

/// Everything a command needs from the global flags, resolved once.
pub struct Context {
    pub format: OutputFormat,
    pub console: Console,
    pub show_progress: bool,
    /// -v count: besides the log, it shows what is otherwise kept back (sensitive parameters).
    pub verbose: u8,
    pub cloud: CloudKind,
    pub options: Options,
}

impl Context {
    pub fn new(global: &GlobalArgs, console: Console) -> Self {
        let format = global.output.unwrap_or(if console.stdout_is_terminal {
            OutputFormat::Table
        } else {
            OutputFormat::Json
        });
        Context {
            format,
            console,
            // With -v the log is the progress report; a spinner would interleave with it.
            show_progress: console.stderr_is_terminal && !global.quiet && global.verbose == 0,
            verbose: global.verbose,
            cloud: global.provider,
            options: global.options(),
        }
    }

    /// The cloud, within the --timeout budget when there is one: credential look-up counts.
    pub async fn connect(
        &self,
        deadline: Option<Instant>,
        timeout: Option<std::time::Duration>,
    ) -> Result<Cloud, Error> {
        let connecting = Cloud::connect(self.cloud, &self.options);
        match deadline {
            Some(d) => tokio::time::timeout_at(d, connecting)
                .await
                .map_err(|_| Error::Timeout(timeout.unwrap_or_default(), WaitStage::SettingUp))?,
            None => connecting.await,
        }
    }

    pub fn print(&self, report: &Report, shape: Shape) -> Result<(), Error> {
        output::emit(&render::report(self.format, report, shape, &self.console))
    }

    /// Prints a report; with --full-output, one invocation with its complete stdout and
    /// stderr, read within what is left of the --timeout budget (`deadline`).
    pub async fn print_full(
        &self,
        cloud: &Cloud,
        report: &mut Report,
        shape: Shape,
        full_output: bool,
        deadline: Option<Instant>,
    ) -> Result<(), Error> {
        let (Report::One(invocation), Some(aws), true) = (&mut *report, cloud.aws(), full_output)
        else {
            return self.print(report, shape);
        };
        let reader = aws.output_reader();
        let mut warnings = Vec::new();
        if self.format == OutputFormat::Text {
            // Each step in turn: its stdout, then its stderr, as they are read.
            for part in invocation.parts() {
                warnings.extend(
                    full_output::stream_text(&reader, part, &self.console, deadline).await?,
                );
            }
        } else {
            warnings = complete(&reader, invocation, deadline).await;
            self.print(report, shape)?;
        }
        full_output::print_warnings(&warnings);
        Ok(())
    }
}

/// Runs the chosen subcommand; the value is the exit code of a run that did not fail.
pub async fn dispatch(cli: Cli, console: Console) -> Result<u8, Error> {
    let ctx = Context::new(&cli.global, console);
    match cli.command {
        Command::Get(args) => get::run(&ctx, &args).await,
        Command::Wait(args) => wait::run(&ctx, &args).await,
        Command::Run(args) => run::run(&ctx, &args).await,
        Command::List(args) => list::run(&ctx, &args).await,
        Command::TaskInvocations(args) => task_invocations::run(&ctx, &args).await,
        Command::Completions { shell } => completions::run(shell),
        Command::Man => man::run(),
    }
}
