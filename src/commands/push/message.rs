//! The verdict the pusher reads (on standard error; git shows a server
//! hook's lines prefixed with `remote:`). Paths, ref names and commit
//! summaries come from the pusher and may hold terminal control sequences:
//! every name is escaped (`escape`) before it is printed. Secrets are
//! redacted, always: in their own field, and wherever else one appears in
//! what is printed (a summary, an author, a path) through a `Redactor` of
//! every secret the check found.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::finding::{Finding, Redactor};
use crate::verify::{Status, Verification};

use super::Checked;

/// At most this many findings are listed; the rest are counted.
const MAX_LISTED: usize = 50;

/// Which hook speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `pre-receive`, on the server.
    Server,
    /// `pre-push`, on the pusher's machine.
    Client,
}

/// `bytes` as printable text: control characters (C0, DEL, C1), the
/// bidirectional formatting characters, backslashes and bytes that are not
/// UTF-8 become escapes (`\t`, `\x1b`, `\u{202e}`, `\\`).
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if ('\u{80}'..='\u{9f}').contains(&c)
                    || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}')
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c) =>
                {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The list of findings, grouped by commit (oldest commit first).
pub fn findings(new: &[Finding]) -> String {
    findings_verified(new, &[])
}

/// A verdict as the pusher reads it: `[LIVE login=octocat]`, `[INVALID]`,
/// `[UNKNOWN: why]` (identity and reasons escaped: they come from answers).
fn marker(v: &Verification) -> String {
    let mut s = format!("[{}", v.status.as_str().to_ascii_uppercase());
    if v.status == Status::Live {
        for (k, val) in &v.identity {
            let _ = write!(s, " {}={}", escape(k.as_bytes()), escape(val.as_bytes()));
        }
    } else if let Some(r) = v.reason.as_deref().filter(|_| v.status != Status::Invalid) {
        let _ = write!(s, ": {}", escape(r.as_bytes()));
    }
    s.push(']');
    s
}

/// The list of findings with their verdicts (`verdicts[i]` for `new[i]`;
/// shorter or empty: no marker).
pub fn findings_verified(new: &[Finding], verdicts: &[Option<Verification>]) -> String {
    let verdict_of = |f: &Finding| {
        new.iter()
            .position(|g| std::ptr::eq(g, f))
            .and_then(|i| verdicts.get(i))
            .and_then(Option::as_ref)
    };
    let redactor = Redactor::new(new.iter().map(|f| &f.secret));
    let clean = |text: &[u8]| escape(&redactor.bytes(text));
    let mut by_commit: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    for f in new {
        let key = match &f.commit {
            Some(c) => (c.date.clone(), c.id.clone()),
            None => (String::new(), String::new()),
        };
        by_commit.entry(key).or_default().push(f);
    }
    let mut s = String::new();
    let mut listed = 0;
    for ((_, id), fs) in &by_commit {
        if listed >= MAX_LISTED {
            break;
        }
        match fs[0].commit.as_ref() {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "\n  commit {id}  \"{}\"\n  author {} <{}>, {}",
                    clean(c.summary.as_bytes()),
                    clean(c.author.as_bytes()),
                    clean(c.email.as_bytes()),
                    c.date
                );
            }
            None => s.push_str("\n  (not in a commit)\n"),
        }
        for f in fs {
            if listed >= MAX_LISTED {
                break;
            }
            listed += 1;
            let _ = writeln!(
                s,
                "      {}:{}:{}  {}  {}{}",
                clean(&f.location().0),
                f.line,
                f.column,
                escape(f.rule.as_bytes()),
                f.secret.redacted(),
                verdict_of(f)
                    .map(|v| format!("  {}", clean(marker(v).as_bytes())))
                    .unwrap_or_default()
            );
        }
    }
    if new.len() > listed {
        let _ = writeln!(
            s,
            "\n  … and {} more",
            plural(new.len() - listed, "finding", "findings")
        );
    }
    s
}

/// The whole refusal: what was found, then what to do.
pub fn refused(checked: &Checked, side: Side, skip_allowed: bool) -> String {
    let commits: std::collections::BTreeSet<&str> = checked
        .new
        .iter()
        .filter_map(|f| f.commit.as_ref().map(|c| c.id.as_str()))
        .collect();
    let oldest = checked
        .new
        .iter()
        .filter_map(|f| f.commit.as_ref())
        .min_by(|a, b| (&a.date, &a.id).cmp(&(&b.date, &b.id)))
        .map(|c| c.id.clone());
    let mut s = format!(
        "leakscan: push refused: {} in {}\n",
        plural(checked.new.len(), "new secret", "new secrets"),
        if commits.is_empty() {
            "the pushed objects".to_string()
        } else {
            plural(commits.len(), "pushed commit", "pushed commits")
        }
    );
    s += &findings_verified(&checked.new, &checked.verdicts);
    if let Some(note) = &checked.policy_note {
        let _ = writeln!(s, "\n  ({note})");
    }
    s += "\nWhat to do:\n";
    s += "  1. Treat each secret above as exposed: revoke it and issue a new one. Taking it\n";
    s += "     out of the commits keeps it out of this repository, not out of the places\n";
    s += "     it has already been copied to.\n";
    s += "  2. Remove it from the commits you are pushing, then push again. A later commit\n";
    s += "     that deletes it is not enough: the commit that adds it would still be pushed.\n";
    s += "       - in your last commit: fix the file, `git add` it, `git commit --amend`;\n";
    let base = oldest.as_deref().unwrap_or("COMMIT");
    let _ = writeln!(
        s,
        "       - in an earlier commit: `git rebase -i {base}^`, mark each listed commit\n         \
         `edit`, fix the file, `git commit --amend`, `git rebase --continue`."
    );
    match side {
        Side::Server => {
            s += "  3. If it is not a secret: put `leakscan:allow` (or `leakscan:allow=RULE-ID`) in a\n";
            s += "     comment on that line, in the commit that adds it. A baseline entry or\n";
            s += "     `.leakscan.toml` change counts only once it is on the default branch;\n";
            s += "     the ones in this push are not used to judge it.\n";
            if skip_allowed {
                s += "  4. To push anyway, say why; the server records who, when, which refs and why:\n";
                s += "       git push -o leakscan.skip=\"why this is safe\" ...\n";
            }
        }
        Side::Client => {
            s += "  3. If it is not a secret: put `leakscan:allow` (or `leakscan:allow=RULE-ID`) in a\n";
            s += "     comment on that line; if it is known and accepted, record it in the baseline\n";
            s += "     (`leakscan baseline update`).\n";
            s += "  4. Only as a last resort, skip this check once: `git push --no-verify` (a server\n";
            s += "     with push protection will still check the push).\n";
        }
    }
    s
}

/// `--verify --fail-on live`: the findings let through because their
/// provider says they are invalid (empty when there are none).
pub fn let_through(checked: &Checked) -> String {
    if checked.let_through.is_empty() {
        return String::new();
    }
    format!(
        "leakscan: {} let through (--fail-on live): the provider says {} revoked or invalid; \
         take {} out of the history when you can:{}",
        plural(checked.let_through.len(), "secret", "secrets"),
        if checked.let_through.len() == 1 {
            "it is"
        } else {
            "they are"
        },
        if checked.let_through.len() == 1 {
            "it"
        } else {
            "them"
        },
        findings_verified(&checked.let_through, &checked.let_through_verdicts)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape(b"a/b.env"), "a/b.env");
        assert_eq!(escape(b"x\x1b[2Jy"), "x\\x1b[2Jy");
        assert_eq!(escape(b"tab\there\nnl"), "tab\\there\\nnl");
        assert_eq!(escape("a\u{202e}b".as_bytes()), "a\\u{202e}b");
        assert_eq!(escape("c\u{85}d".as_bytes()), "c\\u{85}d");
        assert_eq!(escape(b"bad\xffutf8\\"), "bad\\xffutf8\\\\");
        assert_eq!(escape("é".as_bytes()), "é");
        assert_eq!(escape(b"del\x7f"), "del\\x7f");
    }
}
