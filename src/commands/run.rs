//! `ssmres run`: send a command, then wait for it exactly as `ssmres wait` would (one instance,
//! the instances named, or the whole command), print it, and exit as it did. Everything that can
//! be refused is refused before the first call; the command ID goes to stderr the moment it is
//! known, so a user who stops waiting can come back with `ssmres wait`.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::sync::OnceLock;

use crate::cli::{RunArgs, WaitArgs};
use crate::error::{Error, exit};
use crate::poll::Schedule;
use crate::provider::Cloud;
use crate::provider::contract::{CloudKind, Subject};
use crate::provider::send::{Script, Sent};
use crate::render::sanitize::one_line;
use crate::render::{Rendered, json};

/// What this run sent, for `--cancel-on-interrupt`: a signal drops the command's future (see
/// lib.rs), so what the send answered must outlive it.
static SENT: OnceLock<Subject> = OnceLock::new();

/// How to check on the send once it has started: a signal before its answer leaves its outcome
/// unknown, and this is the only way to find it.
static SENDING: OnceLock<String> = OnceLock::new();

/// What `run` sent, once the send was answered.
pub fn sent_subject() -> Option<Subject> {
    SENT.get().cloned()
}

/// Whether a send was started: false when a signal came before it (nothing was sent).
pub fn send_started() -> bool {
    SENDING.get().is_some()
}

/// After a signal: what to say when a send had started and its answer never came.
pub fn interrupted_send() -> Option<String> {
    match (SENDING.get(), SENT.get()) {
        (Some(check), None) => Some(format!(
            "warning: the run was stopped before the send was answered, so the command may \
             have run: {check}"
        )),
        _ => None,
    }
}

/// More than any cloud's send takes (64 KB for SendCommand, 18 KB of Base64 for RunCommand):
/// reading stops past it, and the provider's check says how large is too large.
const MAX_SCRIPT: u64 = 1 << 20;

pub async fn run(ctx: &super::Context, args: &RunArgs) -> Result<u8, Error> {
    let script = match &args.script {
        Some(path) => Some(read_script(path)?),
        None => None,
    };
    // A shell reads each CR as part of its line (`$'\r': command not found`), perhaps only after
    // part of a fleet has run the script: refused rather than changed behind the user's back.
    if let Some(Script::File(bytes)) = &script
        && args.shell.unwrap_or_default() == crate::provider::send::Shell::Sh
        && bytes.windows(2).any(|w| w == b"\r\n")
    {
        return Err(Error::Usage(format!(
            "--script {} has Windows (CRLF) line endings, which sh would run as part of each \
             command; convert it first (dos2unix, or sed -i 's/\\r$//')",
            args.script.as_deref().unwrap_or(Path::new("-")).display()
        )));
    }
    let request = args.request(script, Cloud::new_mark(ctx.cloud));
    Cloud::check_send(ctx.cloud, &request).map_err(Error::Usage)?;
    if args.dry_run {
        return print_json(&*Cloud::send_preview(ctx.cloud, &request));
    }
    let flags = &args.wait;
    let schedule = Schedule {
        min: flags.min_interval,
        max: flags.max_interval,
    };
    // --timeout counts from the start, as for `wait`; the send itself is never cut short by it
    // (a send dropped halfway has an unknown outcome).
    let policy = super::wait::policy(schedule, flags.not_found_grace, flags.timeout)?;
    let cloud = ctx.connect(policy.deadline, flags.timeout).await?;
    let check = Cloud::how_to_check_send(ctx.cloud, &request, jiff::Timestamp::now());
    let _ = SENDING.set(check);
    let sent = cloud.send(&request).await?;
    let _ = SENT.set(sent.subject.clone());
    say_sent(ctx.cloud, &sent);
    if args.no_wait {
        return print_json(&*sent.response);
    }
    let (command_id, invoke_id) = match ctx.cloud {
        CloudKind::Aws => (Some(sent.subject.run_id.clone()), None),
        CloudKind::Aliyun => (None, Some(sent.subject.run_id.clone())),
    };
    let wait = WaitArgs {
        command_id,
        invoke_id,
        instance_ids: sent.subject.instances.clone(),
        plugin_name: args.plugin_name.clone(),
        flags: args.wait.clone(),
    };
    super::wait::on(ctx, &cloud, &policy, &wait).await
}

/// The script's bytes, from the file or (`-`) standard input; unreadable or empty is bad input.
fn read_script(path: &Path) -> Result<Script, Error> {
    let shown = path.display();
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            return Err(Error::Usage(
                "--script -: standard input is a terminal; pipe the script in".into(),
            ));
        }
        stdin.lock().take(MAX_SCRIPT + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_SCRIPT + 1).read_to_end(&mut bytes))
    };
    if let Err(e) = read {
        return Err(Error::Usage(format!("cannot read --script {shown}: {e}")));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Usage(format!("--script {shown} is empty")));
    }
    if bytes.len() as u64 > MAX_SCRIPT {
        return Err(Error::Usage(format!(
            "--script {shown} is larger than {} MiB, far more than a command can carry",
            MAX_SCRIPT >> 20
        )));
    }
    Ok(Script::File(bytes))
}

/// A document on stdout as the cloud's CLI prints it (4-space indent, raw UTF-8).
fn print_json(doc: &dyn crate::model::Document) -> Result<u8, Error> {
    crate::output::emit(&Rendered::stdout(json::render_value(doc)))?;
    Ok(exit::SUCCESS)
}

/// `sent: <id> (SendCommand to …)` on stderr, at once.
fn say_sent(cloud: CloudKind, sent: &Sent) {
    let call = match cloud {
        CloudKind::Aws => "SendCommand",
        CloudKind::Aliyun => "RunCommand",
    };
    let id = &sent.subject.run_id;
    let line = match &sent.found_after {
        None => format!("sent: {id} ({call} to {})", sent.to),
        Some(why) => format!(
            "sent: {id} ({call} to {}; its answer was lost ({why}), and the command was found \
             by the mark in its Comment: waiting for it)",
            sent.to
        ),
    };
    // Remote text (the ID) and the user's own (targets): one line, controls made visible.
    let _ = writeln!(std::io::stderr(), "{}", one_line(&line));
}
