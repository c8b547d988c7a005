//! The staged driver (the pre-commit hook's scan): each staged blob the
//! change adds or modifies goes through the `BlobStep`; in a modified file
//! only the added lines (with a little context) are matched, and only
//! findings on added lines whose secret the base version does not already
//! hold are kept. Small and latency-bound: runs on the calling thread.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use crate::archive::Limits;
use crate::blob::{self, Class};
use crate::finding::Finding;
use crate::git::staged::{Base, Changes, StagedFile, Staging};
use crate::git::stream::{BlobStream, STREAM_OVER};
use crate::git::EntryKind;
use crate::rules::RuleSet;
use crate::source::staged::{added_lines, AddedLines};
use crate::stats::{ErrorKind, SkipReason, Stats};

use super::{BlobStep, Scanned};

/// Unchanged lines scanned on each side of a modified file's added lines.
/// Single-line rules look only at their keyword's line, so one would do;
/// three keep a margin should a rule ever look a little further.
const CONTEXT_LINES: usize = 3;

/// Scans the staged change; findings are those on added lines, before suppression.
pub fn scan(
    repo: &Staging,
    changes: &Changes,
    rules: Arc<RuleSet>,
    max_size: u64,
    archives: Option<Limits>,
) -> Scanned {
    let mut out = Scanned::default();
    let mut scanner = Scanner {
        step: BlobStep::new(rules, max_size).with_archives(archives),
        multiline: OnceCell::new(),
    };
    for path in &changes.unmerged {
        out.stats.warnings.push(format!(
            "{}: unresolved merge conflict, not scanned (resolve it and `git add` it; git commits nothing until then)",
            path.escaped()
        ));
    }
    for note in &changes.notes {
        out.stats.warnings.push(note.clone());
    }
    for file in &changes.files {
        // Ctrl-C: stop between files; the report holds what was found.
        if crate::progress::interrupted() {
            out.stats.interrupted = true;
            break;
        }
        match file.kind {
            EntryKind::Submodule => {
                out.stats.skip(SkipReason::Submodule, 0);
                continue;
            }
            // A symlink's blob (its target text) is bytes in the repository
            // like any other: `update-index --cacheinfo 120000,…` can stage
            // anything there.
            EntryKind::Symlink | EntryKind::File => {}
        }
        if let Err(msg) = scanner.file(repo, changes, file, &mut out) {
            out.stats.skip(SkipReason::Unreadable, 0);
            out.stats
                .error(ErrorKind::Object, format!("{}: {msg}", file.path.escaped()));
        }
    }
    scanner.step.drain_into(&mut out.stats);
    out.stats.interrupted |= crate::progress::interrupted();
    out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// The keywords of rules whose secrets span lines (key blocks): a file
/// holding one is scanned whole, since the block may start above the lines
/// the change touches.
fn multiline_keywords(rules: &RuleSet) -> Option<AhoCorasick> {
    let words: Vec<&str> = rules
        .rules
        .iter()
        .filter(|r| r.multiline)
        .flat_map(|r| r.keywords.iter().map(|k| &**k))
        .collect();
    if words.is_empty() {
        return None;
    }
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build(&words)
        .ok()
}

struct Scanner {
    step: BlobStep,
    /// `multiline_keywords`, built when a modified file first needs it.
    multiline: OnceCell<Option<AhoCorasick>>,
}

impl Scanner {
    /// Scans one staged blob and keeps the findings its change adds.
    fn file(
        &mut self,
        repo: &Staging,
        changes: &Changes,
        file: &StagedFile,
        out: &mut Scanned,
    ) -> Result<(), String> {
        // A blob too large to hold (stored loose or whole, as git stores
        // large files) is scanned as a stream, window by window.
        if let Some(mut s) = repo.stream(file.id, STREAM_OVER)? {
            return self.streamed(repo, changes, file, &mut s, out);
        }
        let blob = repo.read(file.id)?;
        let bytes = blob.content();
        // A staged archive: what it holds that the committed version (if
        // any) did not.
        if let Some(found) = self.step.archive(bytes, &file.path, &mut out.stats) {
            let old = match file.head {
                Some(head) if !found.is_empty() => {
                    let old_blob = repo.read(head)?;
                    self.step
                        .archive(old_blob.content(), &file.path, &mut Stats::default())
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            };
            out.findings.extend(found.into_iter().filter(|f| {
                !old.iter().any(|o| {
                    o.rule == f.rule
                        && o.archive == f.archive
                        && o.secret.expose() == f.secret.expose()
                })
            }));
            return Ok(());
        }
        let Ok(class) = self.step.classify(bytes, false, &mut out.stats) else {
            return Ok(());
        };
        // Text is judged line by line against the base's text; the printable
        // runs of binary bytes against the base's bytes.
        let (text, raw) = match &class {
            Class::Text(t) => (Some(&**t), None),
            Class::Binary(r) => (None, Some(*r)),
            Class::Both(t, r) => (Some(&**t), Some(*r)),
            Class::Skip(_) => (None, None),
        };
        let found = match file.head {
            Some(head) => {
                let old_blob = repo.read(head)?;
                self.added_against(text, raw, old_blob.content(), file)
            }
            None => {
                let mut found = Vec::new();
                if let Some(t) = text {
                    found.extend(self.step.find(t, &file.path));
                }
                if let Some(r) = raw {
                    found.extend(self.step.find_binary(r, &file.path));
                }
                if found.is_empty() {
                    return Ok(());
                }
                match repo.base(changes, file, bytes)? {
                    Base::Same => Vec::new(),
                    Base::Nothing => found,
                    Base::Blob { id, .. } => {
                        let old_blob = repo.read(id)?;
                        self.added_against(text, raw, old_blob.content(), file)
                    }
                }
            }
        };
        // A file changed to content HEAD already has elsewhere adds nothing.
        if !found.is_empty() && file.head.is_some() && repo.in_head(changes, file)? {
            return Ok(());
        }
        // Nor does a merge add what its other parent already committed there.
        let found: Vec<Finding> = if repo.merging() {
            found
                .into_iter()
                .filter(|f| !repo.in_merged_parent(&f.path, f.secret.expose()))
                .collect()
        } else {
            found
        };
        out.findings.extend(found);
        Ok(())
    }

    /// A blob too large to hold, scanned as a stream (`scan_stream`). Its
    /// lines are not compared with the base's (that would hold both in
    /// memory): a finding is new unless HEAD holds this exact content, or
    /// HEAD's version of the path (or, in a merge, another parent's) already
    /// holds its secret. A renamed and edited huge file is judged as added.
    fn streamed(
        &mut self,
        repo: &Staging,
        changes: &Changes,
        file: &StagedFile,
        s: &mut BlobStream<'_>,
        out: &mut Scanned,
    ) -> Result<(), String> {
        let size = s.size();
        let found = self.step.scan_stream(s, size, &file.path, &mut out.stats)?;
        if found.is_empty() || repo.in_head(changes, file)? {
            return Ok(());
        }
        let old = match file.head {
            Some(head) => {
                let secrets: Vec<&[u8]> = found.iter().map(|f| f.secret.expose()).collect();
                repo.holds(head, &secrets)?
            }
            None => vec![false; found.len()],
        };
        let merging = repo.merging();
        out.findings.extend(
            found
                .into_iter()
                .zip(old)
                .filter(|(f, old)| {
                    let in_parent = || merging && repo.in_merged_parent(&f.path, f.secret.expose());
                    !*old && !in_parent()
                })
                .map(|(f, _)| f),
        );
        Ok(())
    }

    /// The findings on lines that `text` (and `raw`, binary) add to `old`.
    fn added_against(
        &mut self,
        text: Option<&[u8]>,
        raw: Option<&[u8]>,
        old: &[u8],
        file: &StagedFile,
    ) -> Vec<Finding> {
        let mut found = Vec::new();
        if let Some(text) = text {
            let old_text = text_of(old);
            let added = added_lines(&old_text, text);
            let hits = self.scan_added(text, &added, file);
            found.extend(new_only(hits, &added, &old_text));
        }
        if let Some(raw) = raw {
            let added = added_lines(old, raw);
            let hits = self.step.find_binary(raw, &file.path);
            found.extend(new_only(hits, &added, old));
        }
        found
    }

    /// Scans the added lines of `text` with some context; the whole text when
    /// a multi-line secret could start above them.
    fn scan_added(&mut self, text: &[u8], added: &AddedLines, file: &StagedFile) -> Vec<Finding> {
        if added.ranges.is_empty() {
            return Vec::new();
        }
        let multiline = self
            .multiline
            .get_or_init(|| multiline_keywords(self.step.rules()));
        if multiline.as_ref().is_some_and(|ac| ac.is_match(text)) {
            return self.step.find(text, &file.path);
        }
        let starts = line_starts(text);
        let mut found = Vec::new();
        for lines in with_context(&added.ranges, starts.len()) {
            let bytes =
                starts[lines.start - 1]..starts.get(lines.end - 1).copied().unwrap_or(text.len());
            for mut f in self.step.find(&text[bytes], &file.path) {
                f.line += lines.start - 1;
                f.end_line += lines.start - 1;
                found.push(f);
            }
        }
        found
    }
}

/// A base version's text, decoded as the staged version's text would be.
fn text_of(bytes: &[u8]) -> Cow<'_, [u8]> {
    match blob::classify(bytes, u64::MAX, true) {
        Class::Text(t) | Class::Both(t, _) => t,
        Class::Binary(b) => Cow::Borrowed(b),
        Class::Skip(_) => Cow::Borrowed(bytes),
    }
}

/// Findings on added lines whose secret the base version does not already
/// hold somewhere (a moved or re-indented line, a duplicate of an old value).
fn new_only(found: Vec<Finding>, added: &AddedLines, old: &[u8]) -> Vec<Finding> {
    found
        .into_iter()
        .filter(|f| added.touches(f.line, f.end_line) && !already_there(f, old))
        .collect()
}

fn already_there(f: &Finding, old: &[u8]) -> bool {
    let secret = f.secret.expose();
    !secret.is_empty() && memchr::memmem::find(old, secret).is_some()
}

/// Byte offset where each line starts (line 1 at index 0).
fn line_starts(text: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            memchr::memchr_iter(b'\n', text)
                .map(|i| i + 1)
                .filter(|&i| i < text.len()),
        )
        .collect()
}

/// Added line ranges widened by `CONTEXT_LINES` and merged, within `1..=lines`.
fn with_context(ranges: &[Range<usize>], lines: usize) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        let start = r.start.saturating_sub(CONTEXT_LINES).max(1);
        let end = (r.end + CONTEXT_LINES).min(lines + 1);
        if start >= end {
            continue;
        }
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => out.push(start..end),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_added_and_merged_within_the_file() {
        assert_eq!(with_context(&[2..3, 8..9, 30..31], 32), vec![1..12, 27..33]);
        assert_eq!(with_context(&[1..2, 5..6], 5), vec![1..6]);
    }

    #[test]
    fn line_starts_ignore_a_final_newline() {
        assert_eq!(line_starts(b"a\nbb\nc"), vec![0, 2, 5]);
        assert_eq!(line_starts(b"a\nbb\n"), vec![0, 2]);
        assert_eq!(line_starts(b""), vec![0]);
    }
}
