//! `ssmres man`: the man page, generated from the same clap definition as `--help` and the
//! completions, so it cannot drift from the flags (man/ssmres.1 is checked by a test).

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, exit};

/// The variables a user may set once instead of repeating flags, and the clouds' own.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("SSMRES_PROVIDER", "aws or aliyun, as --provider."),
    ("SSMRES_OUTPUT", "table, json, jsonl or text, as --output."),
    ("SSMRES_TIMEOUT", "wait: as --timeout (e.g. 15m)."),
    ("SSMRES_MIN_INTERVAL", "wait: as --min-interval."),
    ("SSMRES_MAX_INTERVAL", "wait: as --max-interval."),
    ("SSMRES_NOT_FOUND_GRACE", "wait: as --not-found-grace."),
    (
        "AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, …",
        "the AWS SDK's standard configuration, as for the aws CLI.",
    ),
    (
        "ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN",
        "Alibaba Cloud credentials (--provider aliyun), before ~/.aliyun/config.json.",
    ),
    (
        "ALIBABA_CLOUD_REGION_ID, ALIBABA_CLOUD_PROFILE",
        "Alibaba Cloud region and profile (--provider aliyun).",
    ),
    ("NO_COLOR", "when set and not empty, no colour."),
];

/// roff with its special characters escaped, on every line.
fn roff(text: &str) -> String {
    text.lines()
        .map(|line| {
            let escaped = line.replace('\\', "\\e").replace('-', "\\-");
            // A line starting with . or ' would be read as a request.
            match escaped.chars().next() {
                Some('.' | '\'') => format!("\\&{escaped}"),
                _ => escaped,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The date on the page's title line: the release it documents (a build date would make the
/// checked-in page drift every day).
const RELEASE_DATE: &str = "2026-11-26";

pub fn page() -> Vec<u8> {
    let command = crate::cli::full_build::as_built(Cli::command()).name("ssmres");
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(command.clone()).date(RELEASE_DATE);
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    // Each command with its own synopsis and options, as subsections of COMMANDS.
    out.extend_from_slice(b".SH COMMANDS\n");
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("ssmres {}", sub.get_name());
        let sub_man = clap_mangen::Man::new(
            sub.clone()
                .display_name(name.clone())
                .bin_name(name.clone()),
        );
        out.extend_from_slice(format!(".SS {}\n", roff(&name)).as_bytes());
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            out.extend_from_slice(format!("{}\n", roff(&about.to_string())).as_bytes());
        }
        for render in [
            clap_mangen::Man::render_synopsis_section,
            clap_mangen::Man::render_options_section,
        ] {
            let mut part = Vec::new();
            let _ = render(&sub_man, &mut part);
            // Its own .SH line becomes a paragraph break inside this subsection.
            let text = String::from_utf8_lossy(&part);
            for line in text.lines() {
                if line.starts_with(".SH") {
                    out.extend_from_slice(b".PP\n");
                } else {
                    out.extend_from_slice(line.as_bytes());
                    out.push(b'\n');
                }
            }
        }
    }
    out.extend_from_slice(b".SH \"EXIT STATUS\"\n.nf\n");
    out.extend_from_slice(roff(crate::cli::EXIT_CODES_HELP).as_bytes());
    out.extend_from_slice(b"\n.fi\n.SH ENVIRONMENT\n");
    for (name, meaning) in ENVIRONMENT {
        out.extend_from_slice(
            format!(".TP\n\\fB{}\\fR\n{}\n", roff(name), roff(meaning)).as_bytes(),
        );
    }
    out.extend_from_slice(
        b".SH FILES\n.TP\n~/.aws/config, ~/.aws/credentials\nAWS profiles.\n.TP\n~/.aliyun/config.json\nThe aliyun CLI's profiles (AK and StsToken modes).\n",
    );
    let _ = man.render_version_section(&mut out);
    // troff in the C locale knows no ellipsis character (the help texts' `t-…`).
    String::from_utf8_lossy(&out)
        .replace('…', "...")
        .into_bytes()
}

pub fn run() -> Result<u8, Error> {
    crate::output::emit(&crate::render::Rendered {
        stdout: page(),
        stderr: Vec::new(),
    })?;
    Ok(exit::SUCCESS)
}
