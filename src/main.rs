use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use ssmres::error::exit;

fn main() -> ExitCode {
    let cli = match ssmres::cli::parse() {
        Ok(cli) => cli,
        // Our own line rather than clap's, which would name a subcommand (`ssmres-get 0.1.0`).
        Err(e) if e.kind() == ErrorKind::DisplayVersion => {
            say_out(&if wants_details() {
                ssmres::cli::long_version()
            } else {
                format!("ssmres {}", env!("CARGO_PKG_VERSION"))
            });
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Bare `ssmres`: the help is the most useful answer, on stderr, as a usage error.
            say(e.render().to_string().trim_end());
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => {
            let mut line = usage_line(&e.render().to_string());
            if let Some(variable) = from_environment(&e) {
                line.push_str(&format!(" (the value comes from {variable})"));
            }
            say(&line);
            return ExitCode::from(exit::USAGE);
        }
    };
    let mut cli = cli;
    if started_without_stdout::closed() {
        say(
            "error: stdout is closed (>&-): the result would have nowhere to go; redirect it \
             to /dev/null to discard it",
        );
        return ExitCode::from(exit::API);
    }
    let read_stdin = || {
        use std::io::IsTerminal;
        // Waiting for someone to type JSON would look like a hang.
        if std::io::stdin().is_terminal() {
            return Err(std::io::Error::other(
                "it is a terminal: pipe in what `aws ssm send-command` (or `aliyun ecs \
                 RunCommand`) prints",
            ));
        }
        Ok(std::io::stdin().lock())
    };
    if let Err(message) = ssmres::stdin_ids::resolve(&mut cli, read_stdin) {
        say(&format!("error: {message}"));
        return ExitCode::from(exit::USAGE);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(&format!("error: cannot start the async runtime: {e}"));
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
            say(&format!("error: {message}"));
            ExitCode::from(e.exit_code())
        }
    }
}

/// `--version -v`: the details a bug report needs.
fn wants_details() -> bool {
    // Bytes, not strings: an argument that is not UTF-8 must not panic here.
    std::env::args_os()
        .skip(1)
        .map(|a| a.into_encoded_bytes())
        .take_while(|a| a != b"--")
        .any(|a| {
            a == b"--verbose" || (a.starts_with(b"-") && !a.starts_with(b"--") && a.contains(&b'v'))
        })
}

/// The result on stdout (a closed stdout is no reason to panic either).
fn say_out(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// One line on stderr. A closed stderr is no reason to panic: the exit code still tells.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The variable a rejected value came from, when the flag itself was not given: someone who
/// never typed `--timeout` should not be left looking for it.
fn from_environment(e: &clap::Error) -> Option<&'static str> {
    let clap::error::ContextValue::String(arg) = e.get(clap::error::ContextKind::InvalidArg)?
    else {
        return None;
    };
    let flag = arg.split_whitespace().next()?;
    let variable = ssmres::cli::ENV_DEFAULTS
        .iter()
        .find(|(f, _)| *f == flag)
        .map(|(_, v)| *v)?;
    let given = std::env::args_os().any(|a| {
        let a = a.as_encoded_bytes();
        a == flag.as_bytes() || a.starts_with(format!("{flag}=").as_bytes())
    });
    (!given && std::env::var_os(variable).is_some()).then_some(variable)
}

/// clap's message as one line: the problem, the arguments it names and its tip ("a similar
/// argument exists"), without the usage reminder that would bury it in a script's log.
fn usage_line(rendered: &str) -> String {
    let paragraphs: Vec<String> = rendered
        .split("\n\n")
        .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        .filter(|p| {
            !p.is_empty() && !p.starts_with("Usage:") && !p.starts_with("For more information")
        })
        .collect();
    if paragraphs.is_empty() {
        "error: invalid arguments (see --help)".to_owned()
    } else {
        shorten_values(&paragraphs.join("; "))
    }
}

/// clap quotes the values it refuses ('…'): a long one (a pasted file, a runaway variable)
/// keeps its start, so the line still says what was wrong with it.
fn shorten_values(line: &str) -> String {
    const KEPT: usize = 60;
    let parts = line.split('\'').enumerate().map(|(i, part)| {
        match (i % 2 == 1)
            .then(|| part.char_indices().nth(KEPT))
            .flatten()
        {
            Some((cut, _)) => format!("{}…", &part[..cut]),
            None => part.to_owned(),
        }
    });
    parts.collect::<Vec<_>>().join("'")
}

/// Whether the process started with stdout closed (`>&-`): every write would vanish while the
/// run seemed to succeed. Rust's runtime puts /dev/null on a closed descriptor before `main`,
/// and a /dev/null given on purpose (`>/dev/null`, Python's DEVNULL, a daemon's) looks the
/// same afterwards, so the descriptor is looked at from an ELF constructor, which runs first.
/// Linux only; elsewhere a closed stdout goes unnoticed as before.
mod started_without_stdout {
    #[cfg(target_os = "linux")]
    static CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    #[cfg(target_os = "linux")]
    extern "C" fn look() {
        // SAFETY: F_GETFD only reads the descriptor's flags; nothing else runs yet.
        let flags = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) };
        let closed =
            flags == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF);
        CLOSED.store(closed, std::sync::atomic::Ordering::Relaxed);
    }

    #[cfg(target_os = "linux")]
    #[used]
    // SAFETY: a plain function pointer in the section glibc and musl run before `main`.
    #[unsafe(link_section = ".init_array")]
    static LOOK: extern "C" fn() = look;

    pub fn closed() -> bool {
        #[cfg(target_os = "linux")]
        return CLOSED.load(std::sync::atomic::Ordering::Relaxed);
        #[cfg(not(target_os = "linux"))]
        false
    }
}
