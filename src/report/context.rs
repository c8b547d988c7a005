//! The source line under a finding in the text report: the line with the
//! secret replaced by what the report shows for it (redacted unless
//! `--show-secrets`) and a `^^^` marker under it. Every other copy of the
//! secret on the line is replaced too, so the line never shows more than
//! the finding does. Long lines are cut around the secret.

use crate::paths::escape_controls;

/// Characters kept on each side of the secret.
const SIDE: usize = 40;

/// `(line, marker)`, both without a newline; `None` when the secret is not
/// on the recorded line (cut off, or an encoding that hides it). `column`
/// (1-based bytes) picks the copy the finding is about; a long line's
/// recorded excerpt does not start at the line's start, so then the first
/// copy is marked.
pub fn lines(
    line_text: &[u8],
    column: usize,
    secret: &[u8],
    shown: &str,
) -> Option<(String, String)> {
    // The secret's first line is what its own line holds.
    let first = secret.split(|&b| b == b'\n').next().unwrap_or(secret);
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    if first.is_empty() {
        return None;
    }
    let mut text = line_text;
    while let Some(t) = text
        .strip_suffix(b"\n")
        .or_else(|| text.strip_suffix(b"\r"))
    {
        text = t;
    }
    let at = match column.checked_sub(1) {
        Some(c) if text.get(c..).is_some_and(|t| t.starts_with(first)) => c,
        _ => find(text, first)?,
    };
    let before = clean(&redact_all(&text[..at], first, shown));
    let after = clean(&redact_all(&text[at + first.len()..], first, shown));
    let shown = clean(shown.as_bytes());
    let before = cut_left(&before);
    let after = cut_right(&after);
    let pad = before.chars().count();
    let width = shown.chars().count().max(1);
    Some((
        format!("{before}{shown}{after}"),
        format!("{}{}", " ".repeat(pad), "^".repeat(width)),
    ))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `text` with every copy of `secret` replaced by `shown`.
fn redact_all(text: &[u8], secret: &[u8], shown: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = find(rest, secret) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(shown.as_bytes());
        rest = &rest[i + secret.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Lossy UTF-8, tabs as one space (so the marker lines up), other control
/// characters escaped (a line can neither drive the terminal nor break the
/// marker's column).
fn clean(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes).replace('\t', " ");
    escape_controls(&s).into_owned()
}

fn cut_left(s: &str) -> String {
    let n = s.chars().count();
    if n <= SIDE {
        return s.to_string();
    }
    format!("…{}", s.chars().skip(n - SIDE + 1).collect::<String>())
}

fn cut_right(s: &str) -> String {
    if s.chars().count() <= SIDE {
        return s.to_string();
    }
    format!("{}…", s.chars().take(SIDE - 1).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_redacted_secret() {
        let (l, m) = lines(b"key = \"abcdefgh1234\"\n", 8, b"abcdefgh1234", "abcd…(12)").unwrap();
        assert_eq!(l, "key = \"abcd…(12)\"");
        assert_eq!(m, "       ^^^^^^^^^");
    }

    #[test]
    fn every_copy_is_redacted_and_long_lines_are_cut() {
        let secret = b"s3cr3tS3CR3Ts3cr3t";
        let mut line = b"x".repeat(300);
        line.extend_from_slice(b" a=");
        line.extend_from_slice(secret);
        line.extend_from_slice(b" b=");
        line.extend_from_slice(secret);
        line.extend_from_slice(&b"y".repeat(300));
        let (l, m) = lines(&line, 1, secret, "s3cr…(18)").unwrap();
        assert!(!l.contains("s3cr3tS3CR3T"), "{l}");
        assert_eq!(l.matches("s3cr…(18)").count(), 2, "{l}");
        assert!(l.starts_with('…') && l.ends_with('…'), "{l}");
        assert!(l.chars().count() <= 2 * SIDE + 9, "{l}");
        let col = m.find('^').unwrap();
        assert_eq!(
            &l.chars().skip(col).take(9).collect::<String>(),
            "s3cr…(18)"
        );
    }

    #[test]
    fn controls_and_tabs_keep_the_marker_aligned() {
        let (l, m) = lines(b"\tk=\x1b[31mTOKENVALUE", 0, b"TOKENVALUE", "TOKE…(10)").unwrap();
        assert_eq!(l, " k=\\x1b[31mTOKE…(10)");
        assert_eq!(m.find('^'), Some(l.find("TOKE").unwrap()));
    }

    #[test]
    fn a_secret_not_on_the_line_gives_nothing() {
        assert_eq!(
            lines(b"something else", 1, b"TOKENVALUE", "TOKE…(10)"),
            None
        );
    }
}
