//! The per-blob step every driver runs: classify the bytes (size, Git LFS
//! pointer, decoding, binary), count what is scanned or skipped, match the
//! text and turn matches into findings; at the end, hand the matcher's
//! counters and rule errors to the run's stats. An archive (when archives
//! are on) is opened instead, and each file inside takes the same step, its
//! findings carrying the names through the archive. One `BlobStep` per thread.

use std::io::Read;
use std::sync::Arc;

use crate::archive::{self, Limits};
use crate::blob::{self, Class};
use crate::finding::{line_at, ArchivePath, Finding, InlineAllow, LineIndex, Secret};
use crate::matcher::{encrypted, Matcher, RawMatch};
use crate::paths::PathBytes;
use crate::rules::RuleSet;
use crate::stats::{ErrorKind, SkipReason, Stats};

/// The most bytes the matcher looks at in one go. Larger texts are matched
/// in chunks, so a huge keyword-dense blob cannot make the matcher's hit and
/// window lists grow without bound.
const CHUNK: usize = 16 << 20;
/// How far chunks overlap: more than the widest window a rule searches
/// (64 KiB for key blocks), so a secret that starts in a chunk is whole in it.
const OVERLAP: usize = 128 << 10;

/// The bytes each window of a streamed blob owns (`scan_stream`): what is
/// held of it at a time is this plus `2 × OVERLAP`, and its printable view.
const STREAM_WINDOW: usize = 4 << 20;
/// The largest archive opened (in memory) when it comes as a stream.
pub const ARCHIVE_IN_MEMORY: u64 = 256 << 20;

/// One thread's matcher and limits.
pub struct BlobStep {
    matcher: Matcher,
    max_size: u64,
    /// How far archives are opened; `None`: they are not (`--no-archives`).
    archives: Option<Arc<Limits>>,
}

impl Clone for BlobStep {
    fn clone(&self) -> Self {
        BlobStep {
            matcher: self.matcher.clone(),
            max_size: self.max_size,
            archives: self.archives.clone(),
        }
    }
}

impl BlobStep {
    pub fn new(rules: Arc<RuleSet>, max_size: u64) -> BlobStep {
        BlobStep {
            matcher: Matcher::new(rules),
            max_size,
            archives: None,
        }
    }

    /// Opens archives within `limits` (`None`: archives are blobs like any
    /// other). Files inside follow this step's size limit, when it has one
    /// (`--max-file-size`); else the archive default.
    pub fn with_archives(mut self, limits: Option<Limits>) -> BlobStep {
        self.archives = limits.map(|mut l| {
            if self.max_size != u64::MAX {
                l.max_entry_size = self.max_size;
            }
            Arc::new(l)
        });
        self
    }

    /// When archives are on and `bytes` is one: opens it, scans every file
    /// inside (classified and matched like any blob), records what could
    /// not be read in `stats`, and returns the findings, each carrying its
    /// `ArchivePath`. `None` when `bytes` is not an archive (or archives are
    /// off): scan them as they are.
    pub fn archive(
        &mut self,
        bytes: &[u8],
        path: &PathBytes,
        stats: &mut Stats,
    ) -> Option<Vec<Finding>> {
        let limits = self.archives.clone()?;
        let kind = archive::detect(bytes, &path.0)?;
        let mut found = Vec::new();
        stats.scanned += 1;
        stats.bytes += bytes.len() as u64;
        let report = archive::open(bytes, kind, &path.0, &limits, &mut |e| {
            let class = match self.classify(e.data, false, stats) {
                Ok(class) => class,
                Err(_) => return,
            };
            let inner = ArchivePath {
                inner: e.chain.to_vec(),
                layer: e.layer.map(str::to_string),
            };
            for mut f in self.find_in(&class, path) {
                f.archive = Some(Box::new(inner.clone()));
                found.push(f);
            }
        });
        if report.too_large.0 > 0 {
            stats.skip_n(SkipReason::TooLarge, report.too_large.0);
            stats.skipped_bytes += report.too_large.1;
        }
        if report.links > 0 {
            stats.skip_n(SkipReason::Symlink, report.links);
        }
        for f in &report.failures {
            let at = crate::finding::join_archive_path(path, &f.chain);
            stats.error(
                ErrorKind::Archive,
                format!("{}: {}", at.escaped(), f.reason),
            );
        }
        // An archive that would not open at all is still bytes: scan them.
        if report.unopened {
            let class = blob::classify(bytes, u64::MAX, false);
            found.extend(self.find_in(&class, path));
        }
        Some(found)
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        self.matcher.rules()
    }

    /// Classifies `bytes` and counts the outcome in `stats`: what to match,
    /// or why the blob is skipped. `explicit` content (a file named
    /// on the command line, standard input) is never skipped.
    pub fn classify<'a>(
        &self,
        bytes: &'a [u8],
        explicit: bool,
        stats: &mut Stats,
    ) -> Result<Class<'a>, SkipReason> {
        let size = bytes.len() as u64;
        match blob::classify(bytes, self.max_size, explicit) {
            Class::Skip(reason) => {
                stats.skip(reason, size);
                Err(reason)
            }
            class => {
                stats.scanned += 1;
                stats.bytes += size;
                if matches!(class, Class::Binary(_)) {
                    stats.binary += 1;
                }
                Ok(class)
            }
        }
    }

    /// `classify`, then `find_in` on what is to be scanned.
    pub fn scan(
        &mut self,
        bytes: &[u8],
        path: &PathBytes,
        explicit: bool,
        stats: &mut Stats,
    ) -> Vec<Finding> {
        if let Some(found) = self.archive(bytes, path, stats) {
            return found;
        }
        match self.classify(bytes, explicit, stats) {
            Ok(class) => self.find_in(&class, path),
            Err(_) => Vec::new(),
        }
    }

    /// Findings in classified content: text with every rule, binary bytes'
    /// printable runs with the rules that need no context.
    pub fn find_in(&mut self, class: &Class<'_>, path: &PathBytes) -> Vec<Finding> {
        // A git-crypt file is ciphertext as a whole: its printable runs are
        // noise (counted with the encrypted values).
        if let Class::Binary(raw) | Class::Both(_, raw) = class {
            if encrypted::is_git_crypt(raw) {
                self.matcher.counters.encrypted += 1;
                return Vec::new();
            }
        }
        match class {
            Class::Text(text) => self.find(text, path),
            Class::Binary(raw) => self.find_binary(raw, path),
            Class::Both(text, raw) => {
                let mut out = self.find(text, path);
                out.extend(self.find_binary(raw, path));
                out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
                out.dedup_by(|b, a| a.sort_key() == b.sort_key());
                out
            }
            Class::Skip(_) => Vec::new(),
        }
    }

    /// Matches text with every rule and builds findings for `path`.
    pub fn find(&mut self, text: &[u8], path: &PathBytes) -> Vec<Finding> {
        let matches = self.matches(text, path, |_| true);
        self.located(text, text, matches, path)
    }

    /// Matches the printable runs of binary bytes (`blob::printable_view`)
    /// with the rules that need no context: every rule but the generic
    /// secret-named assignments, which binaries are full of.
    ///
    /// A blob larger than `CHUNK` is viewed one window at a time (`CHUNK`
    /// bytes owned, overlapping by `OVERLAP` on each side), so the view
    /// never copies the whole blob; lines and columns are counted in the
    /// raw bytes as for a small one.
    pub fn find_binary(&mut self, raw: &[u8], path: &PathBytes) -> Vec<Finding> {
        let rules = self.matcher.rules().clone();
        let keep = |m: &RawMatch| !rules.rules[m.rule].generic;
        if raw.len() <= CHUNK {
            let view = blob::printable_view(raw);
            let matches = self.matches(&view, path, keep);
            return self.located(&view, raw, matches, path);
        }
        let mut out = Vec::new();
        let mut view = Vec::new();
        // Line breaks in `raw[..counted]`, and the last of them.
        let (mut lines_before, mut counted, mut last_nl) = (0usize, 0usize, None);
        let mut owned = 0;
        while owned < raw.len() {
            let end = (owned + CHUNK).min(raw.len());
            let from = owned.saturating_sub(OVERLAP);
            let to = (end + OVERLAP).min(raw.len());
            let seg = &raw[counted..from];
            lines_before += memchr::memchr_iter(b'\n', seg).count();
            if let Some(i) = memchr::memrchr(b'\n', seg) {
                last_nl = Some(counted + i);
            }
            counted = from;
            blob::printable_into(&raw[from..to], &mut view);
            let mut matches = self.matcher.scan_path(&view, &path.0);
            matches.retain(|m| (owned..end).contains(&(m.start + from)) && keep(m));
            // The window's first line began before it (at `last_nl + 1`).
            let shift = from - last_nl.map_or(0, |i| i + 1);
            for mut f in self.located(&view, &raw[from..to], matches, path) {
                if f.line == 1 {
                    f.column += shift;
                    if f.end_line == 1 {
                        f.end_column += shift;
                    }
                }
                f.line += lines_before;
                f.end_line += lines_before;
                out.push(f);
            }
            owned = end;
        }
        out
    }

    /// Scans a blob of `size` bytes read from `src`, one window at a time
    /// (`STREAM_WINDOW` bytes owned, `OVERLAP` on each side), so that memory stays
    /// bounded by the window whatever the size: for blobs over
    /// `git::stream::STREAM_OVER` that the object store can stream. A window is matched
    /// as text with every rule until a NUL byte is met, and as binary
    /// (`find_binary`'s printable view and rules) from the window that holds
    /// the first one on; lines and columns are counted in the raw bytes.
    /// An archive is read whole and opened when it is no larger than
    /// `ARCHIVE_IN_MEMORY`; a larger one is an `Archive` error (its files are
    /// not opened) and its bytes are scanned. A read error ends the scan
    /// (`Err`, the message naming the object) with nothing counted.
    pub fn scan_stream(
        &mut self,
        src: &mut dyn Read,
        size: u64,
        path: &PathBytes,
        stats: &mut Stats,
    ) -> Result<Vec<Finding>, String> {
        if size > self.max_size {
            stats.skip(SkipReason::TooLarge, size);
            return Ok(Vec::new());
        }
        let chunk = STREAM_WINDOW as u64;
        let overlap = OVERLAP as u64;
        // `buf` holds raw[base..base + buf.len()].
        let mut buf = Vec::with_capacity((chunk + 2 * overlap).min(size) as usize);
        let mut base = 0u64;
        fill(src, &mut buf, (chunk + overlap).min(size))?;
        if self.archives.is_some() && archive::detect(&buf, &path.0).is_some() {
            if size <= ARCHIVE_IN_MEMORY {
                fill(src, &mut buf, size)?;
                return Ok(self.archive(&buf, path, stats).unwrap_or_default());
            }
            stats.error(
                ErrorKind::Archive,
                format!(
                    "{}: an archive of {size} bytes, over the {} MiB opened in memory: \
                     its bytes were scanned, not the files inside",
                    path.escaped(),
                    ARCHIVE_IN_MEMORY >> 20
                ),
            );
        }
        let mut found = Vec::new();
        if encrypted::is_git_crypt(&buf) {
            self.matcher.counters.encrypted += 1;
        } else {
            let rules = self.matcher.rules().clone();
            let mut view = Vec::new();
            let mut binary = false;
            // Line breaks in raw[..counted], and where the last one is.
            let (mut lines_before, mut counted, mut last_nl) = (0usize, 0u64, None::<u64>);
            let mut owned = 0u64;
            while owned < size {
                let end = (owned + chunk).min(size);
                let from = owned.saturating_sub(overlap);
                let to = (end + overlap).min(size);
                let seg = &buf[(counted - base) as usize..(from - base) as usize];
                lines_before += memchr::memchr_iter(b'\n', seg).count();
                if let Some(i) = memchr::memrchr(b'\n', seg) {
                    last_nl = Some(counted + i as u64);
                }
                counted = from;
                buf.drain(..(from - base) as usize);
                base = from;
                fill(src, &mut buf, to - base)?;
                binary = binary || memchr::memchr(0, &buf).is_some();
                let window: &[u8] = &buf;
                let (text, mut matches) = if binary {
                    blob::printable_into(window, &mut view);
                    let m = self.matcher.scan_path(&view, &path.0);
                    (&view[..], m)
                } else {
                    (window, self.matcher.scan_path(window, &path.0))
                };
                let own = (owned - from) as usize..(end - from) as usize;
                matches
                    .retain(|m| own.contains(&m.start) && !(binary && rules.rules[m.rule].generic));
                // The window's first line began before it (at `last_nl + 1`).
                let shift = (from - last_nl.map_or(0, |i| i + 1)) as usize;
                for mut f in self.located(text, window, matches, path) {
                    if f.line == 1 {
                        f.column += shift;
                        if f.end_line == 1 {
                            f.end_column += shift;
                        }
                    }
                    f.line += lines_before;
                    f.end_line += lines_before;
                    found.push(f);
                }
                owned = end;
            }
            stats.binary += u64::from(binary);
        }
        stats.scanned += 1;
        stats.bytes += size;
        Ok(found)
    }

    /// The matcher's candidates in `text`, matched in chunks of at most
    /// `CHUNK` bytes (cut at line ends, overlapping by `OVERLAP`) so that the
    /// matcher's working memory stays bounded whatever the blob's size, and
    /// kept when `keep` says so.
    fn matches(
        &mut self,
        text: &[u8],
        path: &PathBytes,
        keep: impl Fn(&RawMatch) -> bool,
    ) -> Vec<RawMatch> {
        if text.len() <= CHUNK {
            let mut out = self.matcher.scan_path(text, &path.0);
            out.retain(|m| keep(m));
            return out;
        }
        let mut out = Vec::new();
        let mut owned = 0;
        while owned < text.len() {
            let end = line_end(text, (owned + CHUNK).min(text.len()));
            let from = line_start(text, owned.saturating_sub(OVERLAP));
            let to = line_end(text, (end + OVERLAP).min(text.len()));
            for mut m in self.matcher.scan_path(&text[from..to], &path.0) {
                m.start += from;
                m.end += from;
                if m.start >= owned && m.start < end && keep(&m) {
                    out.push(m);
                }
            }
            owned = end;
        }
        out
    }

    /// Findings for matches in `text`, with lines and columns counted in
    /// `lines` (the same bytes, or the raw bytes behind a printable view).
    fn located(
        &self,
        text: &[u8],
        lines_of: &[u8],
        matches: Vec<RawMatch>,
        path: &PathBytes,
    ) -> Vec<Finding> {
        if matches.is_empty() {
            return Vec::new();
        }
        let rules = self.matcher.rules().clone();
        let mut lines = LineIndex::new(lines_of);
        let mut out = Vec::with_capacity(matches.len());
        for m in matches {
            let rule = &rules.rules[m.rule];
            let (line, column, line_start) = lines.locate(m.start);
            let full_line = line_at(text, line_start);
            let secret = &text[m.start..m.end];
            let newlines = memchr::memchr_iter(b'\n', &lines_of[m.start..m.end]).count();
            let (end_line, end_column) = match memchr::memrchr(b'\n', &lines_of[m.start..m.end]) {
                Some(i) => (line + newlines, m.end - (m.start + i + 1) + 1),
                None => (line, column + secret.len()),
            };
            out.push(Finding {
                rule: rule.id.to_string(),
                description: rule.description.to_string(),
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
                encoding: m.encoding,
                archive: None,
                near: crate::verify::spec::reads_near(&rule.id).then(|| {
                    let from = m.start.saturating_sub(crate::verify::spec::NEAR_BYTES);
                    let to = (m.end + crate::verify::spec::NEAR_BYTES).min(text.len());
                    Box::new(Secret::new(text[from..to].to_vec()))
                }),
                confidence: rule.confidence_of(secret),
                public: rule.public,
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
        stats.filtered_encrypted += c.encrypted;
        stats.filtered_test_vectors += c.test_vectors;
        let rules = self.matcher.rules().clone();
        for (r, msg) in self.matcher.rule_errors.drain(..) {
            stats.error(
                ErrorKind::Rule,
                format!("rule {}: {msg}", rules.rules[r].id),
            );
        }
    }
}

/// Reads from `src` until `buf` holds `len` bytes.
fn fill(src: &mut dyn Read, buf: &mut Vec<u8>, len: u64) -> Result<(), String> {
    let len = usize::try_from(len).map_err(|_| "blob too large for this platform".to_string())?;
    if buf.len() < len {
        let at = buf.len();
        buf.resize(len, 0);
        src.read_exact(&mut buf[at..]).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "the object ends before its declared size".to_string()
            }
            _ => e.to_string(),
        })?;
    }
    Ok(())
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

/// The start of the line holding byte `at`.
fn line_start(text: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1)
}

/// The end of the line holding byte `at` (just past its newline), or the
/// text's end.
fn line_end(text: &[u8], at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::template::{expand, Rng};

    /// A binary blob larger than `CHUNK`, tokens placed around the window
    /// edges and on long and short lines: the windowed view finds the same
    /// findings, at the same lines and columns, as one view of the whole.
    #[test]
    fn windowed_binary_view_matches_the_whole_view() {
        let mut b = crate::rules::RuleSetBuilder::new();
        b.add_file(crate::rules::parse_builtin().unwrap(), "built-in")
            .unwrap();
        let rules = Arc::new(b.build().unwrap());
        let mut raw = vec![0u8; 2 * CHUNK + CHUNK / 2];
        for i in (0..raw.len()).step_by(4093) {
            raw[i] = b'\n';
        }
        let mut rng = Rng::new(18);
        for (k, at) in [
            1000,
            STREAM_WINDOW - 25,
            3 * STREAM_WINDOW + OVERLAP - 10,
            CHUNK - 30,
            CHUNK - OVERLAP - 5,
            CHUNK + 17,
            2 * CHUNK - 2,
            2 * CHUNK + 4000,
        ]
        .into_iter()
        .enumerate()
        {
            let tok = expand("ghp_{alnum:36}", &mut rng);
            let line = format!(" token{k} {tok} ");
            raw[at..at + line.len()].copy_from_slice(line.as_bytes());
        }
        let path = PathBytes::from("blob.bin");
        let mut step = BlobStep::new(rules.clone(), u64::MAX);
        let windowed = step.find_binary(&raw, &path);
        let view = blob::printable_view(&raw);
        let whole = step.matches(&view, &path, |m| !rules.rules[m.rule].generic);
        let whole = step.located(&view, &raw, whole, &path);
        let key = |f: &Finding| (f.line, f.column, f.end_line, f.end_column, f.secret.clone());
        assert!(whole.len() >= 7, "{}", whole.len());
        assert_eq!(
            windowed.iter().map(key).collect::<Vec<_>>(),
            whole.iter().map(key).collect::<Vec<_>>()
        );
        // Read as a stream (a NUL in the first window: binary throughout).
        let mut stats = Stats::default();
        let streamed = step
            .scan_stream(&mut &raw[..], raw.len() as u64, &path, &mut stats)
            .unwrap();
        assert_eq!(
            streamed.iter().map(key).collect::<Vec<_>>(),
            whole.iter().map(key).collect::<Vec<_>>()
        );
        assert_eq!(
            (stats.scanned, stats.binary, stats.bytes),
            (1, 1, raw.len() as u64)
        );
    }

    /// Text larger than `CHUNK` read as a stream gives the findings of the
    /// whole text (every rule, lines and columns); a stream that ends before
    /// its declared size is an error.
    #[test]
    fn streamed_text_matches_the_whole_text() {
        let mut b = crate::rules::RuleSetBuilder::new();
        b.add_file(crate::rules::parse_builtin().unwrap(), "built-in")
            .unwrap();
        let rules = Arc::new(b.build().unwrap());
        let mut text = Vec::new();
        let mut rng = Rng::new(19);
        let mut k = 0;
        while text.len() < 2 * CHUNK + 1000 {
            if text.len() % 4_000_000 < 60 {
                let tok = expand("ghp_{alnum:36}", &mut rng);
                text.extend_from_slice(format!("token{k} = {tok}\n").as_bytes());
                let pw = expand("Pw{alnum:14}", &mut rng);
                text.extend_from_slice(format!("password = \"{pw}\"\n").as_bytes());
                k += 1;
            }
            text.extend_from_slice(b"an ordinary line of a large generated text file\n");
        }
        let path = PathBytes::from("big.txt");
        let mut step = BlobStep::new(rules, u64::MAX);
        let whole = step.find(&text, &path);
        let mut stats = Stats::default();
        let streamed = step
            .scan_stream(&mut &text[..], text.len() as u64, &path, &mut stats)
            .unwrap();
        let key = |f: &Finding| {
            (
                f.rule.clone(),
                f.line,
                f.column,
                f.end_line,
                f.end_column,
                f.secret.clone(),
            )
        };
        assert!(whole.len() >= 10, "{}", whole.len());
        assert_eq!(
            streamed.iter().map(key).collect::<Vec<_>>(),
            whole.iter().map(key).collect::<Vec<_>>()
        );
        assert_eq!((stats.scanned, stats.binary), (1, 0));
        let short = &text[..text.len() - 10];
        let e = step
            .scan_stream(
                &mut &short[..],
                text.len() as u64,
                &path,
                &mut Stats::default(),
            )
            .unwrap_err();
        assert!(e.contains("ends before its declared size"), "{e}");
    }
}
