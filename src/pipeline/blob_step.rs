//! The per-blob step every driver runs: classify the bytes (size, Git LFS
//! pointer, decoding, binary), count what is scanned or skipped, match the
//! text and turn matches into findings; at the end, hand the matcher's
//! counters and rule errors to the run's stats. One `BlobStep` per thread.

use std::borrow::Cow;
use std::sync::Arc;

use crate::blob::{self, Class};
use crate::finding::{line_at, Finding, InlineAllow, LineIndex, Secret};
use crate::matcher::Matcher;
use crate::paths::PathBytes;
use crate::rules::RuleSet;
use crate::stats::{ErrorKind, Stats};

/// One thread's matcher and limits.
pub struct BlobStep {
    matcher: Matcher,
    max_size: u64,
}

impl Clone for BlobStep {
    fn clone(&self) -> Self {
        BlobStep {
            matcher: self.matcher.clone(),
            max_size: self.max_size,
        }
    }
}

impl BlobStep {
    pub fn new(rules: Arc<RuleSet>, max_size: u64) -> BlobStep {
        BlobStep {
            matcher: Matcher::new(rules),
            max_size,
        }
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        self.matcher.rules()
    }

    /// Classifies `bytes` and counts the outcome in `stats`: the text to
    /// match, or `None` when the blob is skipped. `explicit` content (a file
    /// named on the command line, standard input) skips the size and binary
    /// checks.
    pub fn classify<'a>(
        &self,
        bytes: &'a [u8],
        explicit: bool,
        stats: &mut Stats,
    ) -> Option<Cow<'a, [u8]>> {
        let size = bytes.len() as u64;
        match blob::classify(bytes, self.max_size, explicit) {
            Class::Text(text) => {
                stats.scanned += 1;
                stats.bytes += size;
                Some(text)
            }
            Class::Skip(reason) => {
                stats.skip(reason, size);
                None
            }
        }
    }

    /// `classify`, then `find` on what is to be scanned.
    pub fn scan(
        &mut self,
        bytes: &[u8],
        path: &PathBytes,
        explicit: bool,
        stats: &mut Stats,
    ) -> Vec<Finding> {
        match self.classify(bytes, explicit, stats) {
            Some(text) => self.find(&text, path),
            None => Vec::new(),
        }
    }

    /// Matches classified text and builds findings for `path`.
    pub fn find(&mut self, text: &[u8], path: &PathBytes) -> Vec<Finding> {
        let matches = self.matcher.scan(text);
        if matches.is_empty() {
            return Vec::new();
        }
        let rules = self.matcher.rules().clone();
        let mut lines = LineIndex::new(text);
        let mut out = Vec::with_capacity(matches.len());
        for m in matches {
            let rule = &rules.rules[m.rule];
            let (line, column, line_start) = lines.locate(m.start);
            let full_line = line_at(text, line_start);
            let secret = &text[m.start..m.end];
            let newlines = memchr::memchr_iter(b'\n', secret).count();
            let (end_line, end_column) = match memchr::memrchr(b'\n', secret) {
                Some(i) => (line + newlines, m.end - (m.start + i + 1) + 1),
                None => (line, column + secret.len()),
            };
            out.push(Finding {
                rule: rule.id.clone(),
                description: rule.description.clone(),
                path: path.clone(),
                line,
                column,
                end_line,
                end_column,
                secret: Secret::new(secret.to_vec()),
                entropy: m.entropy,
                commit: None,
                inline: InlineAllow::parse(full_line),
                line_text: excerpt(full_line, column - 1),
                occurrences: Vec::new(),
            });
        }
        out
    }

    /// Moves the matcher's filter counters and rule errors into `stats`.
    pub fn drain_into(&mut self, stats: &mut Stats) {
        let c = std::mem::take(&mut self.matcher.counters);
        stats.filtered_entropy += c.low_entropy;
        stats.filtered_placeholder += c.placeholder;
        stats.filtered_rule_allowlist += c.rule_allowlist;
        let rules = self.matcher.rules().clone();
        for (r, msg) in self.matcher.rule_errors.drain(..) {
            stats.error(
                ErrorKind::Rule,
                format!("rule {}: {msg}", rules.rules[r].id),
            );
        }
    }
}

/// At most 512 bytes of `line` around byte `at`.
fn excerpt(line: &[u8], at: usize) -> Vec<u8> {
    const MAX: usize = 512;
    if line.len() <= MAX {
        return line.to_vec();
    }
    let start = at.saturating_sub(MAX / 4).min(line.len() - MAX);
    line[start..start + MAX].to_vec()
}
