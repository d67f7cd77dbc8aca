//! The completion scripts in completions/ are generated from the CLI definition; this fails
//! when they drift. Regenerate with `scripts/gen-completions`.

use std::process::Output;

use crate::support::{Cli, assert_exit, run};

const FILES: [(&str, &str); 5] = [
    ("bash", "ssmres.bash"),
    ("zsh", "_ssmres"),
    ("fish", "ssmres.fish"),
    ("powershell", "_ssmres.ps1"),
    ("elvish", "ssmres.elv"),
];

/// `ssmres completions SHELL`, no endpoint nor credentials needed.
fn completions(shell: &str) -> Output {
    run(Cli::new("http://127.0.0.1:9")
        .bare()
        .args(["completions", shell]))
}

#[test]
fn checked_in_completions_match_the_cli() {
    for (shell, file) in FILES {
        let out = completions(shell);
        assert_exit(&out, 0);
        let path = format!("{}/completions/{file}", env!("CARGO_MANIFEST_DIR"));
        let kept = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let why = format!("completions/{file} is out of date: run scripts/gen-completions");
        assert!(kept == out.stdout, "{why}");
    }
}

#[test]
fn completions_know_the_subcommands_and_flags() {
    let script = String::from_utf8(completions("bash").stdout).unwrap();
    for word in [
        "get",
        "wait",
        "--command-id",
        "--instance-id",
        "--timeout",
        "--not-found-grace",
    ] {
        assert!(script.contains(word), "{word}");
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    assert_exit(&completions("tcsh"), 2);
}
