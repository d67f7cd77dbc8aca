//! The completion scripts in completions/ are generated from the CLI definition; this fails
//! when they drift. Regenerate with `scripts/gen-completions`.

use assert_cmd::Command;

const FILES: [(&str, &str); 5] = [
    ("bash", "ssmres.bash"),
    ("zsh", "_ssmres"),
    ("fish", "ssmres.fish"),
    ("powershell", "_ssmres.ps1"),
    ("elvish", "ssmres.elv"),
];

#[test]
fn checked_in_completions_match_the_cli() {
    for (shell, file) in FILES {
        let out = Command::cargo_bin("ssmres")
            .unwrap()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let path = format!("{}/completions/{file}", env!("CARGO_MANIFEST_DIR"));
        let kept = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            kept == out.stdout,
            "completions/{file} is out of date: run scripts/gen-completions"
        );
    }
}

#[test]
fn completions_know_the_subcommands_and_flags() {
    let out = Command::cargo_bin("ssmres")
        .unwrap()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
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
    Command::cargo_bin("ssmres")
        .unwrap()
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}
