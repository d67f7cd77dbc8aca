//! Remote text is untrusted: escape sequences in a command's output could move the cursor,
//! rewrite earlier lines, change the window title or hide text. On a terminal every control
//! character except newline and tab is shown as an escape instead of being obeyed.

use std::borrow::Cow;
use std::fmt::Write;

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        // Bidirectional overrides and isolates reorder what is displayed ("Trojan Source").
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Makes control characters visible: ESC becomes `\x1b`, a lone CR `\r`, C1 controls and
/// bidi overrides `\u{..}`. A CR right before a newline is dropped: that is a Windows line end,
/// not an attempt to overwrite the line.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if !needs_escape(c) {
            out.push(c);
            continue;
        }
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// For one-line messages (errors, the spinner) that may quote remote text: controls made
/// visible as above, and line breaks folded into spaces so the message stays one line.
pub fn one_line(s: &str) -> String {
    visible(s.trim_end()).replace(['\n', '\t'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched_and_not_copied() {
        let s = "héllo\tworld\n✓ done\n";
        assert!(matches!(visible(s), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        assert_eq!(visible("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
        assert_eq!(visible("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
        assert_eq!(visible("a\u{0}b\u{7f}"), "a\\x00b\\x7f");
    }

    #[test]
    fn carriage_returns() {
        assert_eq!(visible("line1\r\nline2\r\n"), "line1\nline2\n");
        assert_eq!(visible("secret\rpublic"), "secret\\rpublic");
        assert_eq!(visible("ends\r"), "ends\\r");
    }

    #[test]
    fn c1_controls_and_bidi_overrides() {
        assert_eq!(visible("a\u{9b}31mb"), "a\\u{9b}31mb");
        assert_eq!(visible("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(visible("x\u{2066}y"), "x\\u{2066}y");
    }

    #[test]
    fn one_line_messages_stay_on_one_line() {
        assert_eq!(
            one_line("Access denied\nfor\x1b[8m you\n"),
            "Access denied for\\x1b[8m you"
        );
    }

    #[test]
    fn output_never_contains_raw_controls() {
        let nasty: String = (0u32..0x200)
            .filter_map(char::from_u32)
            .chain("\u{202e}\r".chars())
            .collect();
        let shown = visible(&nasty);
        assert!(!shown.chars().any(needs_escape));
    }
}
