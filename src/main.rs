use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use ssmres::error::exit;

fn main() -> ExitCode {
    let cli = match ssmres::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's first line names the flag and the problem; the rest is a usage reminder
            // that would bury it in a script's log.
            let rendered = e.render().to_string();
            eprintln!(
                "{}",
                rendered
                    .lines()
                    .next()
                    .unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(exit::USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::API);
        }
    };
    let result = runtime.block_on(ssmres::run(cli));
    // Do not wait for blocking tasks (a DNS lookup, say) that an interrupt left behind.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Messages can quote the service, which is remote text like any other.
            let message = ssmres::render::sanitize::one_line(&e.to_string());
            eprintln!("error: {message}");
            ExitCode::from(e.exit_code())
        }
    }
}
