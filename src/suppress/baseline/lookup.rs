//! Matching findings against a loaded baseline in O(1) per finding: one
//! HMAC of the secret, one hash-map lookup, then a path and rule check on the
//! (almost always single) entry with that hash. Records which entries matched
//! so a run can report the stale ones. Reads no files.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use globset::{GlobBuilder, GlobMatcher};

use super::format::{self, Baseline, Entry, Hex, Key, RunScope};

/// No further entry in a chain.
const END: u32 = u32::MAX;

/// The keys are already uniformly random (HMAC or SHA-1 output), so their
/// first eight bytes are a perfect hash; SipHash would only cost time.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Arrays hash their length first (a usize), then the bytes.
        if bytes.len() >= 8 {
            self.0 ^= u64::from_le_bytes(bytes[..8].try_into().unwrap());
        } else {
            for &b in bytes {
                self.0 = self.0.rotate_left(8) ^ u64::from(b);
            }
        }
    }
}

type Index<const N: usize> = HashMap<[u8; N], u32, BuildHasherDefault<PrefixHasher>>;

/// A loaded baseline, ready to judge findings.
pub struct Lookup {
    baseline: Baseline,
    /// Where it was read from (a file, or `REV:path`), for messages.
    name: PathBuf,
    key: Key,
    by_hash: Index<32>,
    by_sha1: Index<20>,
    /// Next entry with the same hash, or `END`.
    next: Vec<u32>,
    path_globs: HashMap<u32, GlobMatcher>,
    rule_globs: HashMap<u32, GlobMatcher>,
    hits: Vec<AtomicU32>,
    /// Entry `i`'s hits are counted on `canon[i]`: the first entry with the
    /// same path, rule and hash, so a duplicated entry is not stale.
    canon: Vec<u32>,
    /// The scanned root relative to the baseline's directory, when the root
    /// is below it: finding paths are joined onto it before matching.
    prefix: Option<Vec<u8>>,
    report_stale: bool,
    /// What this run scans; entries are called stale only when it covers
    /// the baseline's recorded scope.
    run: RunScope,
    /// The exact command that prunes stale entries (see `set_update_command`).
    update_command: String,
}

fn glob(pattern: &str) -> GlobMatcher {
    // Patterns were checked when the file was parsed.
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map(|g| g.compile_matcher())
        .unwrap_or_else(|_| globset::Glob::new("").unwrap().compile_matcher())
}

impl Lookup {
    pub fn new(baseline: Baseline, name: impl Into<PathBuf>) -> Lookup {
        let n = baseline.entries.len();
        let mut m = Lookup {
            key: baseline.key(),
            name: name.into(),
            by_hash: Index::with_capacity_and_hasher(n, Default::default()),
            by_sha1: Index::default(),
            next: vec![END; n],
            path_globs: HashMap::new(),
            rule_globs: HashMap::new(),
            hits: (0..n).map(|_| AtomicU32::new(0)).collect(),
            canon: Vec::with_capacity(n),
            prefix: None,
            report_stale: true,
            run: RunScope::Worktree,
            update_command: String::new(),
            baseline,
        };
        let mut first: HashMap<(&[u8], &str, [u8; 32]), u32> = HashMap::with_capacity(n);
        for (i, e) in m.baseline.entries.iter().enumerate() {
            let i = i as u32;
            m.canon.push(*first.entry(e.sort_key()).or_insert(i));
            // Later entries go to the front of their chain; order within a
            // chain does not matter because the first match wins and entries
            // with the same hash, path and rule were deduplicated.
            let head = match (&e.hash, &e.sha1) {
                (Some(h), _) => m.by_hash.insert(h.0, i),
                (None, Some(s)) => m.by_sha1.insert(s.0, i),
                (None, None) => None,
            };
            m.next[i as usize] = head.unwrap_or(END);
            if let Some(g) = e.path.glob() {
                m.path_globs.insert(i, glob(g));
            }
            if format::is_glob(&e.rule) {
                m.rule_globs.insert(i, glob(&e.rule));
            }
        }
        m
    }

    /// Findings' paths are relative to `prefix` (a directory relative to the
    /// baseline's); see `load_for_run`.
    pub fn with_prefix(mut self, prefix: Option<Vec<u8>>) -> Lookup {
        self.prefix = prefix.filter(|p| !p.is_empty());
        self
    }

    /// Whether `stale_note` says anything. Off for runs that see only part of
    /// the tree by design (the pre-commit hook).
    pub fn set_report_stale(&mut self, on: bool) {
        self.report_stale = on;
    }

    /// What this run scans (default: the whole working tree under the root).
    pub fn set_run_scope(&mut self, run: RunScope) {
        self.run = run;
    }

    /// Whether this run covers the baseline's scope, so entries that matched
    /// nothing are really gone.
    pub fn judges_staleness(&self) -> bool {
        self.run.covers(self.baseline.history.as_ref())
    }

    /// The command printed with the stale note, e.g.
    /// `leakscan baseline update --history --all --out ci/b.json`; without
    /// it, one is built from the baseline's scope and name.
    pub fn set_update_command(&mut self, cmd: String) {
        self.update_command = cmd;
    }

    pub fn name(&self) -> &Path {
        &self.name
    }

    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    pub fn entries(&self) -> &[Entry] {
        &self.baseline.entries
    }

    /// The entry's status if the finding is in the baseline; counts the hit.
    pub fn judge(&self, f: &crate::finding::Finding) -> Option<String> {
        let i = self.find(&f.rule, &f.location().0, f.secret.expose())?;
        Some(self.baseline.entries[i].status.as_str().to_string())
    }

    /// The index of the entry that covers (rule, path, secret), counting the
    /// hit. `path` is as the scan reported it (relative to the scanned root).
    pub fn find(&self, rule: &str, path: &[u8], secret: &[u8]) -> Option<usize> {
        let joined;
        let path = match &self.prefix {
            Some(p) => {
                let mut v = Vec::with_capacity(p.len() + 1 + path.len());
                v.extend_from_slice(p);
                v.push(b'/');
                v.extend_from_slice(path);
                joined = v;
                &joined[..]
            }
            None => path,
        };
        let h = self.key.hash(secret);
        let mut found = self.walk(self.by_hash.get(&h.0).copied(), rule, path);
        if found.is_none() && !self.by_sha1.is_empty() {
            let s = format::sha1(secret);
            found = self.walk(self.by_sha1.get(&s.0).copied(), rule, path);
        }
        let i = found?;
        self.hits[self.canon[i] as usize].fetch_add(1, Ordering::Relaxed);
        Some(i)
    }

    fn walk(&self, mut at: Option<u32>, rule: &str, path: &[u8]) -> Option<usize> {
        while let Some(i) = at.filter(|&i| i != END) {
            if self.covers(i, rule, path) {
                return Some(i as usize);
            }
            at = Some(self.next[i as usize]);
        }
        None
    }

    fn covers(&self, i: u32, rule: &str, path: &[u8]) -> bool {
        let e = &self.baseline.entries[i as usize];
        let rule_ok = match self.rule_globs.get(&i) {
            Some(g) => g.is_match(rule),
            None => e.rule == rule,
        };
        rule_ok
            && match self.path_globs.get(&i) {
                // A non-UTF-8 path cannot match a glob.
                Some(g) => std::str::from_utf8(path).is_ok_and(|p| g.is_match(p)),
                None => e.path.0 == path,
            }
    }

    /// Whether entry `i` matched anything so far.
    pub fn was_hit(&self, i: usize) -> bool {
        self.hits[self.canon[i] as usize].load(Ordering::Relaxed) > 0
    }

    /// Entries that matched nothing in this run, within its scope (under
    /// `prefix` when the root is a subdirectory of the baseline's).
    pub fn stale(&self) -> Vec<&Entry> {
        (0..self.baseline.entries.len())
            .filter(|&i| self.is_stale(i))
            .map(|i| &self.baseline.entries[i])
            .collect()
    }

    /// Whether entry `i` is in this run's scope and matched nothing. Always
    /// false when the run does not cover the scope the baseline was
    /// recorded from (a history baseline seen by a working-tree scan, a
    /// pull request's range).
    pub fn is_stale(&self, i: usize) -> bool {
        self.judges_staleness() && !self.was_hit(i) && self.in_scope(&self.baseline.entries[i])
    }

    fn in_scope(&self, e: &Entry) -> bool {
        match &self.prefix {
            None => true,
            Some(p) => {
                e.path.glob().is_some()
                    || (e.path.0.starts_with(p) && e.path.0.get(p.len()) == Some(&b'/'))
            }
        }
    }

    /// The summary line about stale entries, if there are any and this run
    /// reports them.
    pub fn stale_note(&self) -> Option<String> {
        if !self.report_stale {
            return None;
        }
        let n = self.stale().len();
        (n > 0).then(|| {
            let cmd = if self.update_command.is_empty() {
                let scope = self
                    .baseline
                    .history
                    .as_ref()
                    .map(|h| h.flags())
                    .unwrap_or_default();
                format!("leakscan baseline update{scope}")
            } else {
                self.update_command.clone()
            };
            format!(
                "leakscan: {n} baseline entr{} in {} matched nothing (stale); `{cmd}` prunes them",
                if n == 1 { "y" } else { "ies" },
                self.name.display()
            )
        })
    }

    /// The hash this baseline would record for `secret`.
    pub fn hash(&self, secret: &[u8]) -> Hex<32> {
        self.key.hash(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suppress::baseline::format::{EntryPath, Salt, Status};

    fn entry(b: &Baseline, path: &str, rule: &str, secret: &[u8]) -> Entry {
        Entry {
            path: EntryPath(path.as_bytes().to_vec()),
            rule: rule.into(),
            hash: Some(b.key().hash(secret)),
            sha1: None,
            line: Some(1),
            preview: None,
            length: None,
            status: Status::Untriaged,
            reason: None,
            by: None,
            date: None,
        }
    }

    #[test]
    fn matches_rule_path_and_secret() {
        let mut b = Baseline {
            version: 1,
            salt: Salt(vec![7; 16]),
            history: None,
            entries: vec![],
        };
        b.entries = vec![
            entry(&b, "a.txt", "r1", b"s1"),
            entry(&b, "b.txt", "r1", b"s1"),
            entry(&b, "*", "r2", b"s2"),
            entry(&b, "c.txt", "*", b"s3"),
        ];
        let m = Lookup::new(b, "b.json");
        assert_eq!(m.find("r1", b"a.txt", b"s1"), Some(0));
        assert_eq!(m.find("r1", b"b.txt", b"s1"), Some(1));
        assert_eq!(m.find("r1", b"c.txt", b"s1"), None);
        assert_eq!(m.find("r2", b"a.txt", b"s1"), None);
        assert_eq!(m.find("r1", b"a.txt", b"s2"), None);
        assert_eq!(m.find("r2", b"deep/down/x.py", b"s2"), Some(2));
        assert_eq!(m.find("anything", b"c.txt", b"s3"), Some(3));
        assert!(m.stale().is_empty());
    }

    #[test]
    fn prefix_joins_and_scopes() {
        let mut b = Baseline {
            version: 1,
            salt: Salt(vec![1; 16]),
            history: None,
            entries: vec![],
        };
        b.entries = vec![
            entry(&b, "src/a.txt", "r", b"s"),
            entry(&b, "docs/b.txt", "r", b"t"),
        ];
        let m = Lookup::new(b, "b.json").with_prefix(Some(b"src".to_vec()));
        assert_eq!(m.find("r", b"a.txt", b"s"), Some(0));
        assert!(m.stale().is_empty(), "docs/ is out of scope");
    }
}
