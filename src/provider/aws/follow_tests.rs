use std::cell::RefCell;

use super::*;
use crate::provider::aws::output::logs::{EventPage, StreamRef};

const CMD: &str = "3e4a5b6c-1111-2222-3333-444455556666";

/// CloudWatch Logs as the follower sees it: streams with creation times and events, pages of
/// two events (unless `page_size` says otherwise), and a forward token that comes back unchanged at the end.
#[derive(Default)]
struct Script {
    streams: RefCell<Vec<(String, i64, Vec<String>)>>,
    listed_prefixes: RefCell<Vec<String>>,
    /// Events per page; 2 unless set.
    page_size: RefCell<usize>,
    /// GetLogEvents calls answered.
    pages: RefCell<usize>,
    /// Reading this stream fails.
    fail_stream: RefCell<Option<String>>,
}

impl Script {
    fn add_stream(&self, name: &str, created: i64) {
        self.streams
            .borrow_mut()
            .push((name.to_owned(), created, Vec::new()));
    }

    fn append(&self, name: &str, messages: &[&str]) {
        let mut streams = self.streams.borrow_mut();
        let Some(s) = streams.iter_mut().find(|s| s.0 == name) else {
            panic!("no stream {name}");
        };
        s.2.extend(messages.iter().map(|m| (*m).to_owned()));
    }
}

impl LogSource for Script {
    async fn streams(&self, prefix: &str) -> Result<Vec<StreamRef>, ReadError> {
        self.listed_prefixes.borrow_mut().push(prefix.to_owned());
        // Listed by name, as DescribeLogStreams does by default.
        let mut out: Vec<StreamRef> = self
            .streams
            .borrow()
            .iter()
            .filter(|s| s.0.starts_with(prefix))
            .map(|s| StreamRef {
                name: s.0.clone(),
                created: s.1,
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn page(&self, stream: &str, token: Option<&str>) -> Result<EventPage, ReadError> {
        *self.pages.borrow_mut() += 1;
        if self.fail_stream.borrow().as_deref() == Some(stream) {
            return Err(ReadError::Failed("throttled".into()));
        }
        let streams = self.streams.borrow();
        let Some(s) = streams.iter().find(|s| s.0 == stream) else {
            return Err(ReadError::Missing(stream.to_owned()));
        };
        let from: usize = token
            .and_then(|t| t.strip_prefix("f/"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let size = match *self.page_size.borrow() {
            0 => 2,
            n => n,
        };
        let to = (from + size).min(s.2.len());
        Ok(EventPage {
            messages: s.2[from..to].to_vec(),
            next_token: Some(format!("f/{to}")),
        })
    }
}

fn name(instance: &str, step: &str, which: &str) -> String {
    format!("{CMD}/{instance}/{step}/{which}")
}

type Seen = Vec<(String, Stream, String)>;

/// Only these instances.
fn only(ids: &[&str]) -> Option<BTreeSet<String>> {
    Some(ids.iter().map(|i| (*i).to_owned()).collect())
}

async fn round(f: &mut Follower, s: &Script, seen: &mut Seen) -> Result<usize, ReadError> {
    f.round(s, true, true, &mut |line: Line<'_>| {
        seen.push((line.instance.to_owned(), line.stream, line.text.to_owned()))
    })
    .await
}

/// Rounds until one brings nothing new: everything there is, read; how many events.
async fn drain(f: &mut Follower, s: &Script, seen: &mut Seen) -> usize {
    let mut total = 0;
    loop {
        match round(f, s, seen).await {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) => panic!("round failed: {e:?}"),
        }
    }
}

fn texts(seen: &Seen) -> Vec<&str> {
    seen.iter().map(|(_, _, t)| t.as_str()).collect()
}

#[tokio::test]
async fn each_line_once_in_order_across_pages_and_rounds() {
    let s = Script::default();
    let out = name("i-1", "aws-runShellScript", "stdout");
    s.add_stream(&out, 1);
    s.append(&out, &["one", "two\n", "three\nfour", "five"]);
    let mut f = Follower::new(CMD, None);
    let mut seen = Seen::new();
    assert_eq!(drain(&mut f, &s, &mut seen).await, 4);
    assert_eq!(
        texts(&seen),
        ["one\n", "two\n", "three\n", "four\n", "five\n"]
    );

    // Nothing new: nothing printed again.
    assert_eq!(drain(&mut f, &s, &mut seen).await, 0);
    assert_eq!(seen.len(), 5);

    s.append(&out, &["six", "", "seven"]);
    assert_eq!(drain(&mut f, &s, &mut seen).await, 3);
    assert_eq!(&texts(&seen)[5..], ["six\n", "\n", "seven\n"]);
}

#[tokio::test]
async fn stdout_and_stderr_apart_and_a_later_step_picked_up_in_creation_order() {
    let s = Script::default();
    // The later step's name sorts first: order must come from creation times.
    let first = name("i-1", "zz-prepare", "stdout");
    let first_err = name("i-1", "zz-prepare", "stderr");
    s.add_stream(&first, 10);
    s.add_stream(&first_err, 11);
    s.append(&first, &["prepare"]);
    s.append(&first_err, &["warning: slow"]);
    let mut f = Follower::new(CMD, None);
    let mut seen = Seen::new();
    drain(&mut f, &s, &mut seen).await;
    assert_eq!(
        seen,
        [
            ("i-1".into(), Stream::Stdout, "prepare\n".into()),
            ("i-1".into(), Stream::Stderr, "warning: slow\n".into()),
        ]
    );

    let second = name("i-1", "aa-deploy", "stdout");
    s.add_stream(&second, 20);
    s.append(&second, &["deploy"]);
    s.append(&first, &["prepared"]);
    drain(&mut f, &s, &mut seen).await;
    assert_eq!(&texts(&seen)[2..], ["prepared\n", "deploy\n"]);
    assert_eq!(f.streams(), 3);
}

#[tokio::test]
async fn a_failed_read_is_taken_up_where_it_stopped() {
    let s = Script::default();
    let out = name("i-1", "step", "stdout");
    s.add_stream(&out, 1);
    let lines: Vec<String> = (0..800).map(|i| format!("{i}")).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    s.append(&out, &refs);
    *s.page_size.borrow_mut() = 500;
    let mut f = Follower::new(CMD, None);
    let mut seen = Seen::new();
    // A full first page arrives, so the round reads on; the second page fails.
    assert!(
        round_failing_after_one_page(&mut f, &s, &mut seen)
            .await
            .is_err()
    );
    assert_eq!(seen.len(), 500);
    // The next round starts from the page that failed: nothing twice, nothing skipped.
    assert_eq!(round(&mut f, &s, &mut seen).await.ok(), Some(300));
    let want: Vec<String> = lines.iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(texts(&seen), want);
}

/// One round in which every page after the first fails.
async fn round_failing_after_one_page(
    f: &mut Follower,
    s: &Script,
    seen: &mut Seen,
) -> Result<usize, ReadError> {
    struct FailLater<'a>(&'a Script, RefCell<usize>);
    impl LogSource for FailLater<'_> {
        async fn streams(&self, prefix: &str) -> Result<Vec<StreamRef>, ReadError> {
            self.0.streams(prefix).await
        }
        async fn page(&self, stream: &str, token: Option<&str>) -> Result<EventPage, ReadError> {
            *self.1.borrow_mut() += 1;
            if *self.1.borrow() > 1 {
                return Err(ReadError::Failed("throttled".into()));
            }
            self.0.page(stream, token).await
        }
    }
    let source = FailLater(s, RefCell::new(0));
    f.round(&source, true, true, &mut |line: Line<'_>| {
        seen.push((line.instance.to_owned(), line.stream, line.text.to_owned()))
    })
    .await
}

#[tokio::test]
async fn only_the_instances_waited_for_and_the_narrowest_listing() {
    let s = Script::default();
    for (i, inst) in ["i-1", "i-2", "i-3"].iter().enumerate() {
        let out = name(inst, "step", "stdout");
        s.add_stream(&out, i as i64);
        s.append(&out, &[&format!("from {inst}")]);
    }
    s.add_stream("00000000-1111-2222-3333-444455556666/i-1/step/stdout", 0);
    s.add_stream(&format!("{CMD}/i-1/step/trace"), 0);

    let mut one = Follower::new(CMD, only(&["i-2"]));
    let mut seen = Seen::new();
    drain(&mut one, &s, &mut seen).await;
    assert_eq!(seen, [("i-2".into(), Stream::Stdout, "from i-2\n".into())]);
    assert_eq!(
        s.listed_prefixes.borrow().last().map(String::as_str),
        Some(format!("{CMD}/i-2/").as_str())
    );

    let mut two = Follower::new(CMD, only(&["i-1", "i-3"]));
    let mut seen = Seen::new();
    drain(&mut two, &s, &mut seen).await;
    assert_eq!(texts(&seen), ["from i-1\n", "from i-3\n"]);
    assert!(two.every_instance_seen());
    assert_eq!(
        s.listed_prefixes.borrow().last().map(String::as_str),
        Some(format!("{CMD}/").as_str())
    );

    let mut all = Follower::new(CMD, None);
    let mut seen = Seen::new();
    drain(&mut all, &s, &mut seen).await;
    assert_eq!(
        seen.len(),
        3,
        "other commands and other files are not followed"
    );
    assert!(
        all.every_instance_seen(),
        "a whole command: once any stream is known, later ones come from the sparser listing"
    );
    let mut four = Follower::new(CMD, only(&["i-1", "i-4"]));
    drain(&mut four, &s, &mut Seen::new()).await;
    assert!(!four.every_instance_seen(), "i-4 has shown no stream yet");
}

#[test]
fn stream_names() {
    assert_eq!(
        parse_name(CMD, &name("i-1", "aws-runShellScript", "stdout")),
        Some(("i-1", "aws-runShellScript", Stream::Stdout))
    );
    assert_eq!(
        parse_name(CMD, &name("mi-0123456789abcdef0", "a/b", "stderr")),
        Some(("mi-0123456789abcdef0", "a/b", Stream::Stderr))
    );
    assert_eq!(parse_name(CMD, &format!("{CMD}/i-1/stdout")), None);
    assert_eq!(parse_name(CMD, &format!("{CMD}//step/stdout")), None);
    assert_eq!(parse_name(CMD, &format!("{CMD}x/i-1/step/stdout")), None);
}

#[tokio::test]
async fn a_trickle_costs_one_page_a_round_and_a_backlog_is_read_at_once() {
    let s = Script::default();
    let out = name("i-1", "step", "stdout");
    s.add_stream(&out, 1);
    s.append(&out, &["1", "2", "3"]);
    let mut f = Follower::new(CMD, None);
    let mut seen = Seen::new();
    // Pages of two: one page this round, the next from the new token next round.
    assert_eq!(round(&mut f, &s, &mut seen).await.ok(), Some(2));
    assert_eq!(round(&mut f, &s, &mut seen).await.ok(), Some(1));
    assert_eq!(round(&mut f, &s, &mut seen).await.ok(), Some(0));
    assert_eq!(texts(&seen), ["1\n", "2\n", "3\n"]);

    // A full page says the stream is behind: read on within the round.
    let big = Script::default();
    big.add_stream(&out, 1);
    let many: Vec<String> = (0..1_200).map(|i| format!("line {i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    big.append(&out, &refs);
    *big.page_size.borrow_mut() = 500;
    let mut f = Follower::new(CMD, None);
    let mut seen = Seen::new();
    assert_eq!(round(&mut f, &big, &mut seen).await.ok(), Some(1_200));
}

#[tokio::test]
async fn new_streams_are_looked_for_only_when_asked() {
    let s = Script::default();
    let first = name("i-1", "one", "stdout");
    s.add_stream(&first, 1);
    s.append(&first, &["a"]);
    let mut f = Follower::new(CMD, None);
    let mut seen = Seen::new();
    drain(&mut f, &s, &mut seen).await;
    let second = name("i-1", "two", "stdout");
    s.add_stream(&second, 2);
    s.append(&second, &["b"]);
    let emit = &mut |line: Line<'_>| {
        seen.push((line.instance.to_owned(), line.stream, line.text.to_owned()))
    };
    assert_eq!(f.round(&s, false, true, emit).await.ok(), Some(0));
    assert_eq!(f.round(&s, true, true, emit).await.ok(), Some(1));
    assert_eq!(texts(&seen), ["a\n", "b\n"]);
}

#[tokio::test]
async fn quiet_streams_are_read_less_often_until_the_settle() {
    let s = Script::default();
    let out = name("i-1", "step", "stdout");
    s.add_stream(&out, 1);
    let mut f = Follower::new(CMD, None);
    let mut seen = Seen::new();
    let pages_before = |s: &Script| *s.pages.borrow();
    // Ten quiet rounds: reads back off to every 8th round.
    for _ in 0..10 {
        f.round(&s, true, false, &mut |_| {}).await.ok();
    }
    let quiet_reads = pages_before(&s);
    assert!(quiet_reads < 7, "{quiet_reads} reads in 10 quiet rounds");
    // The settle reads every stream every round.
    s.append(&out, &["late"]);
    let emit = &mut |line: Line<'_>| {
        seen.push((line.instance.to_owned(), line.stream, line.text.to_owned()))
    };
    assert_eq!(f.round(&s, true, true, emit).await.ok(), Some(1));
    assert_eq!(texts(&seen), ["late\n"]);
}

#[tokio::test]
async fn a_failing_stream_does_not_starve_the_others() {
    let s = Script::default();
    let broken = name("i-1", "aa", "stdout");
    let fine = name("i-1", "bb", "stdout");
    s.add_stream(&broken, 1);
    s.add_stream(&fine, 2);
    s.append(&fine, &["still here"]);
    *s.fail_stream.borrow_mut() = Some(broken.clone());
    let mut f = Follower::new(CMD, None);
    let mut seen = Seen::new();
    assert!(
        round(&mut f, &s, &mut seen).await.is_err(),
        "the failure is reported"
    );
    assert_eq!(texts(&seen), ["still here\n"]);
}

#[tokio::test]
async fn with_a_step_named_only_its_streams_are_followed() {
    let s = Script::default();
    let one = name("i-1", "aws-runShellScript", "stdout");
    let two = name("i-1", "verify", "stdout");
    s.add_stream(&one, 1);
    s.add_stream(&two, 2);
    s.append(&one, &["from the shell step"]);
    s.append(&two, &["from verify"]);
    let mut f = Follower::new(CMD, None).only_step(Some("aws:runShellScript"));
    let mut seen = Seen::new();
    drain(&mut f, &s, &mut seen).await;
    assert_eq!(texts(&seen), ["from the shell step\n"]);
}
