//! Build facts for `ssmres --version -v` (bug reports): the commit, the build date, the rustc
//! and target, and the versions of the cloud SDKs as locked. Each falls back to "unknown"
//! rather than failing a build from a tarball without git.

use std::path::Path;
use std::process::Command;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let root = Path::new(&root);

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let git = root.join(".git");
    // Only files that exist: cargo takes a missing one as changed and would rerun this script,
    // and relink the binary, on every build.
    let watch = |path: &Path| {
        if path.exists()
            && let Ok(relative) = path.strip_prefix(root)
        {
            println!("cargo:rerun-if-changed={}", relative.display());
        }
    };
    watch(&root.join(".cargo_vcs_info.json"));
    if git.is_dir() {
        watch(&git.join("HEAD"));
        watch(&git.join("packed-refs"));
        // HEAD names a branch whose ref file moves with each commit.
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
            && let Some(reference) = head.trim().strip_prefix("ref: ")
        {
            watch(&git.join(reference));
        }
    }

    // A crate from crates.io carries the commit it was packaged from; a clone asks git, and only
    // about this repository (never a parent one the tarball happens to be unpacked in).
    let packaged = std::fs::read_to_string(root.join(".cargo_vcs_info.json"))
        .ok()
        .and_then(|text| {
            let at = text.find("\"sha1\"")?;
            let rest = &text[at + 6..];
            let start = rest.find('"')? + 1;
            let sha: String = rest[start..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect();
            (sha.len() >= 12).then(|| sha[..12].to_owned())
        });
    let from_git = || {
        if !git.exists() {
            return None;
        }
        Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let commit = packaged
        .or_else(from_git)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SSMRES_COMMIT={commit}");

    // Reproducible builds set SOURCE_DATE_EPOCH; otherwise today.
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok())
        });
    let date = seconds.map_or_else(|| "unknown".into(), |s| civil_date(s.div_euclid(86_400)));
    println!("cargo:rustc-env=SSMRES_BUILD_DATE={date}");

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SSMRES_RUSTC={rustc_version}");
    println!(
        "cargo:rustc-env=SSMRES_TARGET={}",
        std::env::var("TARGET").unwrap_or_else(|_| "unknown".into())
    );

    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    // The S3 and CloudWatch Logs clients are in the build only with the `full-output` feature.
    let full = std::env::var_os("CARGO_FEATURE_FULL_OUTPUT").is_some();
    let sdks = [
        ("aws-sdk-ssm", true),
        ("aws-config", true),
        ("aws-sdk-s3", full),
        ("aws-sdk-cloudwatchlogs", full),
        ("reqwest", true),
    ]
    .iter()
    .filter(|(_, built)| *built)
    .map(|(name, _)| format!("{name} {}", locked_version(&lock, name)))
    .collect::<Vec<_>>()
    .join(", ");
    println!("cargo:rustc-env=SSMRES_SDKS={sdks}");
}

/// The version Cargo.lock records for a package (the first, should there be several).
fn locked_version(lock: &str, name: &str) -> String {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted
            && let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            return version.to_owned();
        }
    }
    "unknown".into()
}

/// YYYY-MM-DD of a day count since 1970-01-01 (the proleptic Gregorian calendar).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
