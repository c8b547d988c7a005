//! Counters for one run: what was scanned, what was skipped and why, what was
//! suppressed and why. Each worker keeps its own `Stats` and they are merged
//! once at the end, so the hot path touches no shared state.

use std::collections::BTreeMap;
use std::time::Duration;

/// Why something was not scanned. Every skip is counted and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    Binary,
    TooLarge,
    Symlink,
    SymlinkLoop,
    NotRegularFile,
    Unreadable,
    LfsPointer,
    Submodule,
    MissingObject,
    /// Left out of a walk by `.gitignore` / `.ignore` rules or `--no-hidden`.
    Ignored,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too_large",
            SkipReason::Symlink => "symlink",
            SkipReason::SymlinkLoop => "symlink_loop",
            SkipReason::NotRegularFile => "not_regular_file",
            SkipReason::Unreadable => "unreadable",
            SkipReason::LfsPointer => "lfs_pointer",
            SkipReason::Submodule => "submodule",
            SkipReason::MissingObject => "missing_object",
            SkipReason::Ignored => "ignored",
        }
    }

    pub fn human(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "over the size limit",
            SkipReason::Symlink => "symlinks not followed",
            SkipReason::SymlinkLoop => "symlink loops",
            SkipReason::NotRegularFile => "not regular files",
            SkipReason::Unreadable => "unreadable",
            SkipReason::LfsPointer => "Git LFS pointers",
            SkipReason::Submodule => "submodules",
            SkipReason::MissingObject => "missing objects",
            SkipReason::Ignored => {
                "ignored (.gitignore, .ignore, hidden; --no-ignore and --hidden scan them)"
            }
        }
    }
}

/// Why a finding was not reported as new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SuppressReason {
    Baseline,
    Inline,
    Allowlist,
    /// The rule's format is public by design (`public = true`).
    PublicByDesign,
    /// Below `--min-confidence`.
    BelowMinConfidence,
}

impl SuppressReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressReason::Baseline => "baseline",
            SuppressReason::Inline => "inline",
            SuppressReason::Allowlist => "allowlist",
            SuppressReason::PublicByDesign => "public_by_design",
            SuppressReason::BelowMinConfidence => "below_min_confidence",
        }
    }
}

/// What kind of item a per-item error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// A file (or standard input) that could not be read.
    File,
    /// A git object (commit, tree, blob) that could not be read or is damaged.
    Object,
    /// A ref, or the repository as a whole.
    Repository,
    /// A rule whose regex could not be built.
    Rule,
    /// An archive (or part of one) that could not be read whole: corrupt,
    /// encrypted, or over a limit.
    Archive,
    /// A bug in leakscan (a worker thread panicked).
    Internal,
}

/// A problem with one item: recorded, the run goes on, and it exits 2.
/// `msg` names the item (path, object id, rule) and says what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemError {
    pub kind: ErrorKind,
    pub msg: String,
}

impl ItemError {
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> ItemError {
        ItemError {
            kind,
            msg: msg.into(),
        }
    }
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// The run was interrupted (Ctrl-C): findings are only what was found so far.
    pub interrupted: bool,
    /// Files or blobs whose content was scanned.
    pub scanned: u64,
    /// Of those, binary ones (matched on their printable runs).
    pub binary: u64,
    pub bytes: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    pub skipped_bytes: u64,
    /// Per-item errors (unreadable files, corrupt objects, broken rules).
    pub errors: Vec<ItemError>,
    /// Non-fatal notes for the user (e.g. a shallow clone's cut-off).
    pub warnings: Vec<String>,
    pub suppressed: BTreeMap<SuppressReason, u64>,
    /// Of the `Inline` suppressions, those by a `gitleaks:allow` marker.
    pub inline_gitleaks: u64,
    /// Candidates dropped inside the matcher, by filter.
    pub filtered_entropy: u64,
    pub filtered_placeholder: u64,
    pub filtered_rule_allowlist: u64,
    /// Generic values recognised as encrypted at rest (and git-crypt files).
    pub filtered_encrypted: u64,
    /// Generic values that are crypto test data (known-answer test vectors,
    /// names of key blocks).
    pub filtered_test_vectors: u64,
    pub commits: u64,
    /// History: refs (tags, `--all`) pointing straight at a blob or a tree,
    /// whose content was scanned as it is (reported at the ref).
    pub tagged: u64,
    pub elapsed: Duration,
}

impl Stats {
    pub fn skip(&mut self, reason: SkipReason, bytes: u64) {
        self.skip_n(reason, 1);
        self.skipped_bytes += bytes;
    }

    /// `n` items skipped for `reason` (their bytes unknown).
    pub fn skip_n(&mut self, reason: SkipReason, n: u64) {
        *self.skipped.entry(reason).or_default() += n;
    }

    pub fn error(&mut self, kind: ErrorKind, msg: String) {
        self.errors.push(ItemError::new(kind, msg));
    }

    pub fn merge(&mut self, other: Stats) {
        self.scanned += other.scanned;
        self.binary += other.binary;
        self.bytes += other.bytes;
        for (k, v) in other.skipped {
            *self.skipped.entry(k).or_default() += v;
        }
        self.skipped_bytes += other.skipped_bytes;
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        for (k, v) in other.suppressed {
            *self.suppressed.entry(k).or_default() += v;
        }
        self.filtered_entropy += other.filtered_entropy;
        self.filtered_placeholder += other.filtered_placeholder;
        self.filtered_rule_allowlist += other.filtered_rule_allowlist;
        self.filtered_encrypted += other.filtered_encrypted;
        self.filtered_test_vectors += other.filtered_test_vectors;
        self.commits += other.commits;
        self.tagged += other.tagged;
        self.inline_gitleaks += other.inline_gitleaks;
        self.interrupted |= other.interrupted;
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}
