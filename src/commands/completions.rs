//! `ssmres completions SHELL`: the script generated from the same clap definition as the CLI.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, exit};

pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    let mut command = crate::cli::full_build::as_built(Cli::command());
    clap_complete::generate(shell, &mut command, "ssmres", &mut out);
    out
}

pub fn run(shell: clap_complete::Shell) -> Result<u8, Error> {
    crate::output::emit(&crate::render::Rendered {
        stdout: script(shell),
        stderr: Vec::new(),
    })?;
    Ok(exit::SUCCESS)
}
