//! `leakscan staged`: the pre-commit hook's scan. Scans the staged blobs of
//! every file the change adds or modifies and reports only secrets on lines
//! the change adds, so a secret already in HEAD never blocks an unrelated
//! commit. Line numbers are those of the staged version.
//!
//! Latency is the point: the index is streamed without libgit2 and unchanged
//! directories are skipped by the cache tree (see `source::staged`); in a
//! modified file only the lines around the added ones are scanned; rename and
//! copy searches run only for added files that hold a secret.

use std::cell::OnceCell;
use std::ops::Range;
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use crate::blob;
use crate::cli::StagedArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::finding::Finding;
use crate::git::staged::{self, AddedLines, Base, Changes, Repo, StagedFile};
use crate::git::EntryKind;
use crate::matcher::Matcher;
use crate::outcome;
use crate::pipeline::Scanned;
use crate::rules::RuleSet;
use crate::settings::{Request, Settings};
use crate::stats::SkipReason;

/// Printed after the report when the staged change adds secrets.
pub const ADVICE: &str = "\
leakscan: the staged change adds the secrets listed above; the commit is blocked.
For each one, either:
  - remove it from the file, `git add` the file again, and rotate the credential
    (revoke it and issue a new one: once typed into a file, treat it as exposed);
  - if it is a false positive, put `leakscan:allow` (or `leakscan:allow=RULE-ID`)
    in a comment on that line;
  - if it is known and accepted, record it in the baseline: `leakscan baseline update`;
  - only as a last resort, skip this check for one commit: `git commit --no-verify`.";

/// Unchanged lines scanned on each side of a modified file's added lines.
/// Single-line rules look only at their keyword's line, so one would do;
/// three keep a margin should a rule ever look a little further.
const CONTEXT_LINES: usize = 3;

pub fn run(args: StagedArgs) -> Result<Exit> {
    let start = Instant::now();
    let repo = Repo::open(args.repo.as_deref())?;
    let settings = Settings::resolve(
        Request::from_cli(&args.common),
        repo.workdir(),
        Some(repo.workdir()),
    )?;
    let changes = repo.changes()?;
    let max_size = settings.max_file_size(None);
    let scanned = collect(&repo, &changes, &settings, max_size);
    let exit = outcome::finish(scanned, &settings, start, "files", Some(ADVICE));
    // The process ends here: closing libgit2's pack maps and caches one by
    // one would cost a few percent of the run.
    std::mem::forget(repo);
    exit
}

/// Scans the staged change; findings are those on added lines, before suppression.
pub fn collect(repo: &Repo, changes: &Changes, settings: &Settings, max_size: u64) -> Scanned {
    let mut out = Scanned::default();
    let mut scanner = Scanner {
        matcher: Matcher::new(settings.rules.clone()),
        multiline: OnceCell::new(),
        max_size,
    };
    for path in &changes.unmerged {
        out.stats.warnings.push(format!(
            "{}: unresolved merge conflict, not scanned (resolve it and `git add` it; git commits nothing until then)",
            path.as_str_lossy()
        ));
    }
    for note in &changes.notes {
        out.stats.warnings.push(note.clone());
    }
    for file in &changes.files {
        match file.kind {
            EntryKind::Submodule => {
                out.stats.skip(SkipReason::Submodule, 0);
                continue;
            }
            EntryKind::Symlink => {
                out.stats.skip(SkipReason::Symlink, 0);
                continue;
            }
            EntryKind::File => {}
        }
        if let Err(msg) = scanner.file(repo, changes, file, &mut out) {
            out.stats.skip(SkipReason::Unreadable, 0);
            out.stats
                .error(format!("{}: {msg}", file.path.as_str_lossy()));
        }
    }
    let matcher = &mut scanner.matcher;
    out.stats.take_matcher_counters(&matcher.counters);
    let rules = matcher.rules().clone();
    for (r, msg) in matcher.rule_errors.drain(..) {
        out.stats
            .error(format!("rule {}: {msg}", rules.rules[r].id));
    }
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
        .flat_map(|r| r.keywords.iter().map(String::as_str))
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
    matcher: Matcher,
    /// `multiline_keywords`, built when a modified file first needs it.
    multiline: OnceCell<Option<AhoCorasick>>,
    max_size: u64,
}

impl Scanner {
    /// Scans one staged blob and keeps the findings its change adds.
    fn file(
        &mut self,
        repo: &Repo,
        changes: &Changes,
        file: &StagedFile,
        out: &mut Scanned,
    ) -> Result<(), String> {
        let blob = repo.read(file.id)?;
        let bytes = blob.content();
        let size = bytes.len() as u64;
        if size > self.max_size {
            out.stats.skip(SkipReason::TooLarge, size);
            return Ok(());
        }
        if blob::is_lfs_pointer(bytes) {
            out.stats.skip(SkipReason::LfsPointer, size);
            return Ok(());
        }
        let text = blob::decode(bytes);
        if blob::is_binary(&text) {
            out.stats.skip(SkipReason::Binary, size);
            return Ok(());
        }
        out.stats.scanned += 1;
        out.stats.bytes += size;
        let found = match file.head {
            Some(head) => {
                let old_blob = repo.read(head)?;
                let old = blob::decode(old_blob.content());
                let added = staged::added_lines(&old, &text);
                let found = self.scan_added(&text, &added, file);
                new_only(found, &added, &old)
            }
            None => {
                let found = blob::scan_bytes(&mut self.matcher, &text, &file.path);
                if found.is_empty() {
                    return Ok(());
                }
                match repo.base(changes, file, bytes)? {
                    Base::Same => Vec::new(),
                    Base::Nothing => found,
                    Base::Blob { id, .. } => {
                        let old_blob = repo.read(id)?;
                        let old = blob::decode(old_blob.content());
                        let added = staged::added_lines(&old, &text);
                        new_only(found, &added, &old)
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

    /// Scans the added lines of `text` with some context; the whole text when
    /// a multi-line secret could start above them.
    fn scan_added(&mut self, text: &[u8], added: &AddedLines, file: &StagedFile) -> Vec<Finding> {
        if added.ranges.is_empty() {
            return Vec::new();
        }
        let multiline = self
            .multiline
            .get_or_init(|| multiline_keywords(self.matcher.rules()));
        if multiline.as_ref().is_some_and(|ac| ac.is_match(text)) {
            return blob::scan_bytes(&mut self.matcher, text, &file.path);
        }
        let starts = line_starts(text);
        let mut found = Vec::new();
        for lines in with_context(&added.ranges, starts.len()) {
            let bytes =
                starts[lines.start - 1]..starts.get(lines.end - 1).copied().unwrap_or(text.len());
            for mut f in blob::scan_bytes(&mut self.matcher, &text[bytes], &file.path) {
                f.line += lines.start - 1;
                f.end_line += lines.start - 1;
                found.push(f);
            }
        }
        found
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
