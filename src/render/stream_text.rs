//! A command's complete output can be gigabytes, read from S3 or CloudWatch in chunks that split
//! anywhere: inside a multibyte character, between a CR and its LF. It is written as it comes,
//! holding back only the few bytes whose meaning the next chunk decides, so that on a terminal
//! any chunking shows exactly what `visible(&String::from_utf8_lossy(whole))` would.

use std::io::{self, Write};

use super::sanitize::visible;

const REPLACEMENT: &str = "\u{fffd}";

/// Where a stream's bytes go: exact bytes to a file or pipe, made visible on a terminal.
pub struct TextSink<W: Write> {
    out: W,
    terminal: bool,
    bytes_in: u64,
    invalid_sequences: u64,
    ends_with_newline: bool,
    /// The start of a UTF-8 sequence cut off by the end of a chunk (at most 3 bytes).
    partial: Vec<u8>,
    /// A CR ending the text so far: `visible` drops it before a LF and shows it otherwise.
    held_cr: bool,
}

/// What went through a [`TextSink`].
#[derive(Debug)]
pub struct SinkSummary<W> {
    pub out: W,
    pub bytes_in: u64,
    /// Invalid UTF-8 sequences replaced with U+FFFD on a terminal (0 when not a terminal: bytes
    /// pass through untouched).
    pub invalid_sequences: u64,
    pub ends_with_newline: bool,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W, terminal: bool) -> Self {
        Self {
            out,
            terminal,
            bytes_in: 0,
            invalid_sequences: 0,
            ends_with_newline: false,
            partial: Vec::with_capacity(4),
            held_cr: false,
        }
    }

    /// Writes one chunk; on a terminal holds back at most an incomplete UTF-8 sequence
    /// (≤ 3 bytes) and a trailing CR until the next chunk tells what they are.
    pub fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<()> {
        let Some(&last) = chunk.last() else {
            return Ok(());
        };
        self.bytes_in += chunk.len() as u64;
        self.ends_with_newline = last == b'\n';
        if !self.terminal {
            return self.out.write_all(chunk);
        }
        let rest = self.complete_partial(chunk)?;
        self.decode(rest)
    }

    /// Bytes taken in so far (not bytes written).
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Flushes what was held back (an incomplete sequence at the very end is invalid: U+FFFD)
    /// and returns the writer and a summary.
    pub fn finish(mut self) -> io::Result<SinkSummary<W>> {
        if !self.partial.is_empty() {
            self.partial.clear();
            self.replace_invalid()?;
        }
        if std::mem::take(&mut self.held_cr) {
            self.out.write_all(visible("\r").as_bytes())?;
        }
        self.out.flush()?;
        Ok(SinkSummary {
            out: self.out,
            bytes_in: self.bytes_in,
            invalid_sequences: self.invalid_sequences,
            ends_with_newline: self.ends_with_newline,
        })
    }

    /// Decides the sequence held back from the previous chunk, using as few bytes of `chunk` as
    /// that takes; returns the rest of the chunk.
    fn complete_partial<'a>(&mut self, chunk: &'a [u8]) -> io::Result<&'a [u8]> {
        if self.partial.is_empty() {
            return Ok(chunk);
        }
        let held = self.partial.len();
        // No UTF-8 sequence is longer than four bytes, so these settle it unless the chunk is
        // shorter still.
        let take = chunk.len().min(4usize.saturating_sub(held));
        let mut joined = std::mem::take(&mut self.partial);
        joined.extend_from_slice(&chunk[..take]);
        let used = match joined.utf8_chunks().next() {
            Some(piece) if !piece.valid().is_empty() => {
                self.emit(piece.valid())?;
                piece.valid().len().saturating_sub(held)
            }
            Some(piece) if piece.invalid().len() == joined.len() && is_truncated(&joined) => {
                // The chunk ended before the sequence did: keep waiting.
                self.partial = joined;
                return Ok(&[]);
            }
            Some(piece) => {
                let len = piece.invalid().len();
                self.replace_invalid()?;
                len.saturating_sub(held)
            }
            None => 0,
        };
        joined.clear();
        self.partial = joined;
        Ok(&chunk[used..])
    }

    fn decode(&mut self, bytes: &[u8]) -> io::Result<()> {
        // Utf8Chunks splits invalid input exactly as `from_utf8_lossy` does, so each invalid
        // piece is one U+FFFD there too.
        let mut pieces = bytes.utf8_chunks().peekable();
        while let Some(piece) = pieces.next() {
            self.emit(piece.valid())?;
            let bad = piece.invalid();
            if bad.is_empty() {
                continue;
            }
            if pieces.peek().is_none() && is_truncated(bad) {
                self.partial.extend_from_slice(bad);
            } else {
                self.replace_invalid()?;
            }
        }
        Ok(())
    }

    fn replace_invalid(&mut self) -> io::Result<()> {
        self.invalid_sequences += 1;
        self.emit(REPLACEMENT)
    }

    /// Writes decoded text. `visible` looks ahead only to pair a CR with a following LF, so
    /// text can go through it piece by piece as long as no piece ends in a CR.
    fn emit(&mut self, text: &str) -> io::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let mut text = text;
        if std::mem::take(&mut self.held_cr) {
            if let Some(after) = text.strip_prefix('\n') {
                self.out.write_all(visible("\r\n").as_bytes())?;
                text = after;
            } else {
                self.out.write_all(visible("\r").as_bytes())?;
            }
        }
        if let Some(before) = text.strip_suffix('\r') {
            self.held_cr = true;
            text = before;
        }
        self.out.write_all(visible(text).as_bytes())
    }
}

/// Whether `bytes` is the start of a valid UTF-8 sequence that more bytes could complete.
fn is_truncated(bytes: &[u8]) -> bool {
    matches!(std::str::from_utf8(bytes), Err(e) if e.error_len().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: &[&[u8]] = &[
        b"",
        b"plain ascii\n",
        "caf\u{e9} \u{2713} \u{1f680}\n".as_bytes(),
        b"line1\r\nline2\r\n",
        b"ends with a lone CR\r",
        b"\r",
        b"\r\r\n\r\r",
        b"secret\rpublic\n",
        b"\x1b[31mred\x1b[0m \x1b]0;title\x07",
        // C1 controls in their two-byte form: CSI (U+009B) and NEL (U+0085).
        b"a\xc2\x9b31mb\xc2\x85c",
        // Bidi override and isolate.
        "x\u{202e}y\u{2066}z".as_bytes(),
        b"\xff",
        b"a\xffb\xfe\xfd",
        // Truncated sequences, in the middle and at the end.
        b"\xe2\x9c",
        b"\xf0\x9f\x9a",
        b"x\xf0\x9f\x9ay",
        b"\xe2\x9cz\xc3",
        // Overlong forms, surrogates, beyond U+10FFFF.
        b"\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf",
        b"\xed\xa0\x80\xf4\x90\x80\x80\xf5",
        // Continuation bytes with no start.
        b"\x80\x80\xbf",
        // A CR next to invalid bytes and to a multibyte character.
        b"a\r\xff\n\r\xc3\xa9\r",
        b"\r\xe2\x9c\x93\r\n",
        // A U+FFFD already in the input is text, not an invalid sequence.
        "\u{fffd}\r\n".as_bytes(),
        "\u{1f680}".as_bytes(),
        "\u{1f680}\u{1f680}\r\n\u{1f680}".as_bytes(),
    ];

    fn expected(input: &[u8]) -> String {
        visible(&String::from_utf8_lossy(input)).into_owned()
    }

    fn invalid_count(input: &[u8]) -> u64 {
        input
            .utf8_chunks()
            .filter(|piece| !piece.invalid().is_empty())
            .count() as u64
    }

    /// Feeds `chunks` through a sink and checks that never more than the documented few bytes
    /// are held back.
    fn run<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, terminal: bool) -> SinkSummary<Vec<u8>> {
        let mut sink = TextSink::new(Vec::new(), terminal);
        for chunk in chunks {
            sink.write_chunk(chunk).expect("Vec never fails");
            assert!(sink.partial.len() <= 3);
        }
        sink.finish().expect("Vec never fails")
    }

    fn check(input: &[u8], chunks: &[&[u8]]) {
        let summary = run(chunks.iter().copied(), true);
        let shown = String::from_utf8(summary.out).expect("the sink writes UTF-8");
        assert_eq!(
            shown,
            expected(input),
            "input {input:?} in chunks {chunks:?}"
        );
        assert_eq!(
            summary.invalid_sequences,
            invalid_count(input),
            "{chunks:?}"
        );
        assert_eq!(summary.bytes_in, input.len() as u64);
        assert_eq!(summary.ends_with_newline, input.last() == Some(&b'\n'));
    }

    #[test]
    fn whole_input_in_one_chunk() {
        for input in NASTY {
            check(input, &[input]);
        }
    }

    #[test]
    fn every_single_split_point() {
        for input in NASTY {
            for i in 0..=input.len() {
                let (a, b) = input.split_at(i);
                check(input, &[a, b]);
            }
        }
    }

    #[test]
    fn every_pair_of_split_points() {
        for input in NASTY {
            for i in 0..=input.len() {
                for j in i..=input.len() {
                    check(input, &[&input[..i], &input[i..j], &input[j..]]);
                }
            }
        }
    }

    #[test]
    fn one_byte_chunks() {
        for input in NASTY {
            let chunks: Vec<&[u8]> = input.chunks(1).collect();
            check(input, &chunks);
        }
    }

    #[test]
    fn emoji_cut_at_every_position() {
        let rocket = "\u{1f680}".as_bytes();
        for cut in 0..=rocket.len() {
            let input = [b"a".as_slice(), &rocket[..cut], b"b"].concat();
            for i in 0..=input.len() {
                let (a, b) = input.split_at(i);
                check(&input, &[a, b]);
            }
            let chunks: Vec<&[u8]> = input.chunks(1).collect();
            check(&input, &chunks);
        }
    }

    #[test]
    fn pseudo_random_chunking_of_a_long_stream() {
        let mut rng = fastrand::Rng::with_seed(0x5353_4d52);
        let mut input = Vec::new();
        while input.len() < 200_000 {
            if rng.u8(..) < 32 {
                input.push(rng.u8(..));
            } else {
                input.extend_from_slice(NASTY[rng.usize(..NASTY.len())]);
            }
        }
        for _ in 0..4 {
            let mut chunks = Vec::new();
            let mut rest = input.as_slice();
            while !rest.is_empty() {
                let (chunk, after) = rest.split_at(rng.usize(..=rest.len().min(17)));
                chunks.push(chunk);
                rest = after;
            }
            check(&input, &chunks);
        }
    }

    #[test]
    fn not_a_terminal_passes_bytes_through() {
        for input in NASTY {
            for i in 0..=input.len() {
                let (a, b) = input.split_at(i);
                let summary = run([a, b], false);
                assert_eq!(summary.out, *input);
                assert_eq!(summary.invalid_sequences, 0);
                assert_eq!(summary.bytes_in, input.len() as u64);
                assert_eq!(summary.ends_with_newline, input.last() == Some(&b'\n'));
            }
        }
    }

    #[test]
    fn not_a_terminal_holds_nothing_back() {
        let mut sink = TextSink::new(Vec::new(), false);
        sink.write_chunk(b"a\r").expect("Vec never fails");
        sink.write_chunk(b"\xf0\x9f").expect("Vec never fails");
        assert_eq!(sink.out, b"a\r\xf0\x9f");
    }

    #[test]
    fn counts_bytes_in_not_bytes_out() {
        let mut sink = TextSink::new(Vec::new(), true);
        sink.write_chunk(b"\x1b[0m\r").expect("Vec never fails");
        assert_eq!(sink.bytes_in(), 5);
        sink.write_chunk(b"").expect("Vec never fails");
        sink.write_chunk(b"\n").expect("Vec never fails");
        assert_eq!(sink.bytes_in(), 6);
        let summary = sink.finish().expect("Vec never fails");
        assert_eq!(summary.out, b"\\x1b[0m\n");
        assert!(summary.ends_with_newline);
    }

    #[test]
    fn newline_then_empty_chunk_still_ends_with_newline() {
        let summary = run([b"done\n".as_slice(), b""], true);
        assert!(summary.ends_with_newline);
        let summary = run([b"\n".as_slice(), b"x"], true);
        assert!(!summary.ends_with_newline);
        let summary = run([b"x\r\n".as_slice(), b"\r"], true);
        assert!(!summary.ends_with_newline);
        assert!(!run([], true).ends_with_newline);
    }

    /// Fails every write after the first `ok` ones, and every flush.
    struct Broken {
        ok: usize,
    }

    impl Write for Broken {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::other("disk full"));
            }
            self.ok -= 1;
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::other("flush failed"))
        }
    }

    #[test]
    fn writer_errors_propagate() {
        for terminal in [false, true] {
            let mut sink = TextSink::new(Broken { ok: 0 }, terminal);
            let err = sink.write_chunk(b"hello\n").err().map(|e| e.to_string());
            assert_eq!(err.as_deref(), Some("disk full"), "terminal: {terminal}");
        }
    }

    #[test]
    fn errors_writing_what_was_held_back_propagate() {
        let mut sink = TextSink::new(Broken { ok: usize::MAX }, true);
        sink.write_chunk(b"a\xf0\x9f").expect("writes succeed");
        sink.out.ok = 0;
        let err = sink.finish().err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("disk full"));

        let sink = TextSink::new(Broken { ok: usize::MAX }, false);
        let err = sink.finish().err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("flush failed"));
    }
}
