//! leakscan: a secret-leak scanner for working trees, staged changes and git
//! history. The data flows one way:
//!
//! ```text
//! commands (flags → settings::Request → Settings)
//!   → pipeline drivers over source/ and git/ (what to read; the only threads)
//!   → pipeline::BlobStep: archive (zip, tar, compressed streams, images: each
//!       file inside goes through the step) and blob::classify (size, LFS,
//!       UTF-16, binary)
//!       → matcher (keyword automaton → rule regex in windows → filters)
//!       → finding (rule, path, line/column, secret, fingerprint, commit)
//!   → outcome: suppress (allowlist → inline → baseline) → report → exit code
//! ```
//!
//! A module imports only modules upstream of it (scripts/check-layers.py).
//! See ARCHITECTURE.md.

// One exception, `git::pack`, maps pack files into memory (see its SAFETY
// note); everything else is safe code.
#![deny(unsafe_code)]

// libgit2 (history and staged reads) inflates objects through the zlib C API;
// zlib-rs provides those functions (`inflate`, ...) under their C names and
// inflates about twice as fast as the system zlib. Linked, never called here.
extern crate libz_rs_sys;

pub mod archive;
pub(crate) mod blob;
pub mod cli;
pub mod commands;
pub(crate) mod config;
pub(crate) mod error;
pub mod exit;
pub mod finding;
pub(crate) mod git;
pub mod matcher;
pub(crate) mod outcome;
pub mod paths;
pub(crate) mod pipeline;
pub(crate) mod progress;
pub(crate) mod report;
pub mod rules;
pub mod settings;
pub(crate) mod source;
pub(crate) mod stats;
pub mod suppress;
pub mod verify;

/// Thin entry points for the fuzz targets in `fuzz/` (not an API: hidden,
/// and free to change). Each takes untrusted bytes and must never panic,
/// hang or allocate beyond what the input can justify.
#[doc(hidden)]
pub mod fuzzing {
    use std::path::Path;
    use std::sync::{Arc, OnceLock};

    /// Parses a git index file's bytes (written to a scratch file: the
    /// reader streams from a file) and visits every entry and the cache tree.
    pub fn index(data: &[u8]) {
        thread_local! {
            static SCRATCH: std::path::PathBuf = std::env::temp_dir()
                .join(format!("leakscan-fuzz-index-{}", std::process::id()));
        }
        SCRATCH.with(|p| {
            if std::fs::write(p, data).is_err() {
                return;
            }
            use crate::git::index::{Entries, IndexError, IndexFile, Step};
            use crate::git::oid::HashKind;
            // Both id widths: SHA-1 and SHA-256 repositories' indexes.
            for ix in [HashKind::Sha1, HashKind::Sha256]
                .into_iter()
                .filter_map(|kind| IndexFile::open(p, kind).ok().flatten())
            {
                let entries = Entries::File(ix);
                if let Some(t) = entries.tree() {
                    if let Some(r) = t.root() {
                        let _ = (t.id(r), t.entries(r), t.child(r, b"a"));
                    }
                }
                // `git commit` records the entries in file order; the staged
                // walk assumes that order is git's sort (path bytes, then
                // stage), each (path, stage) once, a merged entry never
                // beside conflict stages. An index that opens must keep it.
                let mut prev: Option<(Vec<u8>, u8)> = None;
                let _ = entries.for_each(|i, e| -> Result<Step, IndexError> {
                    std::hint::black_box((e.path, e.mode, e.id));
                    if let Some((p, s)) = &prev {
                        let ok = match p.as_slice().cmp(e.path) {
                            std::cmp::Ordering::Less => true,
                            std::cmp::Ordering::Equal => *s != 0 && e.stage > *s,
                            std::cmp::Ordering::Greater => false,
                        };
                        assert!(
                            ok,
                            "entry {i} breaks git's order: {p:?}/{s} then {:?}/{}",
                            e.path, e.stage
                        );
                    }
                    prev = Some((e.path.to_vec(), e.stage));
                    Ok(Step::Next)
                });
            }
            // As a split index whose shared index is the input's first
            // `u16` bytes (written under the name its `link` extension
            // gives): a merge that succeeds is in git's order.
            let Some(dir) = p.parent() else { return };
            let (split, shared) = match data {
                [a, b, rest @ ..] => {
                    let n = usize::from(u16::from_be_bytes([*a, *b])).min(rest.len());
                    (&rest[n..], &rest[..n])
                }
                _ => return,
            };
            let named = memchr::memmem::find(split, b"link")
                .and_then(|at| split.get(at + 8..at + 28))
                .map(|id| id.iter().map(|b| format!("{b:02x}")).collect::<String>());
            let shared_path = named.map(|hex| dir.join(format!("sharedindex.{hex}")));
            if let Some(sp) = &shared_path {
                let _ = std::fs::write(sp, shared);
            }
            if std::fs::write(p, split).is_ok() {
                if let Ok(Some(all)) =
                    crate::git::index::read_split(p, dir, crate::git::oid::HashKind::Sha1)
                {
                    for w in all.windows(2) {
                        let ok = match w[0].path.cmp(&w[1].path) {
                            std::cmp::Ordering::Less => true,
                            std::cmp::Ordering::Equal => w[0].stage != 0 && w[1].stage > w[0].stage,
                            std::cmp::Ordering::Greater => false,
                        };
                        assert!(ok, "merged split index out of git's order");
                    }
                }
            }
            if let Some(sp) = shared_path {
                let _ = std::fs::remove_file(sp);
            }
        });
    }

    /// A real repository's pack index (`.idx`), edited by the input, put
    /// in place, then the whole `history --all` path run on it with the pack
    /// reader on or off: libgit2 reads through whatever the guard lets pass,
    /// so a crash here is one a user could hit. The input is a list of
    /// 4-byte edits `[op, position (u16, big-endian, modulo the length),
    /// value]`, op % 4: set, insert, delete, xor (so every input is a
    /// variation of an index that matches its pack, which libgit2 checks).
    pub fn history_idx(data: &[u8]) {
        static REPO: OnceLock<Option<(std::path::PathBuf, Vec<u8>)>> = OnceLock::new();
        let Some((idx, pristine)) = REPO.get_or_init(history_repo).as_ref() else {
            panic!("could not build the fuzzing repository (is git installed?)");
        };
        let mut d = pristine.clone();
        for e in data.chunks_exact(4).take(64) {
            if d.is_empty() {
                break;
            }
            let at = u16::from_be_bytes([e[1], e[2]]) as usize % d.len();
            match e[0] % 4 {
                0 => d[at] = e[3],
                1 => d.insert(at, e[3]),
                2 => {
                    d.remove(at);
                }
                _ => d[at] ^= e[3],
            }
        }
        if std::fs::write(idx, &d).is_err() {
            return;
        }
        let reader = if data.len() % 8 < 4 { "on" } else { "off" };
        std::env::set_var("LEAKSCAN_PACK_READER", reader);
        let repo = idx
            .ancestors()
            .nth(4)
            .expect("repo/.git/objects/pack/x.idx");
        let args = [
            "leakscan",
            "history",
            "--all",
            "--quiet",
            "--repo",
            repo.to_str().expect("a UTF-8 temporary path"),
            "--output",
            "/dev/null",
        ];
        if let Ok(cli) = <crate::cli::Cli as clap::Parser>::try_parse_from(args) {
            let _ = crate::commands::run(cli);
        }
    }

    /// A small repository (in a scratch directory of this process) with
    /// one pack, deltas included; returns its `.idx` path.
    fn history_repo() -> Option<(std::path::PathBuf, Vec<u8>)> {
        let dir =
            std::env::temp_dir().join(format!("leakscan-fuzz-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).ok()?;
        let repo = dir.join("repo");
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(["-c", "user.name=Fuzz", "-c", "user.email=fuzz@example.com"])
                .args(["-c", "init.defaultBranch=main"])
                .args(args)
                .current_dir(&repo)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .is_ok_and(|o| o.status.success())
        };
        std::fs::create_dir(&repo).ok()?;
        if !git(&["init", "-q"]) {
            return None;
        }
        for i in 0..12 {
            let text: String = (0..40)
                .map(|l| format!("line {l} of version {i}\n"))
                .collect();
            std::fs::write(repo.join("data.txt"), text).ok()?;
            std::fs::write(repo.join(format!("f{i}.txt")), format!("file {i}\n")).ok()?;
            if !(git(&["add", "-A"]) && git(&["commit", "-qm", &format!("c{i}")])) {
                return None;
            }
        }
        if !git(&["repack", "-adq"]) {
            return None;
        }
        let idx = std::fs::read_dir(repo.join(".git/objects/pack"))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))?;
        let mut perm = std::fs::metadata(&idx).ok()?.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        std::fs::set_permissions(&idx, perm).ok()?;
        let pristine = std::fs::read(&idx).ok()?;
        Some((idx, pristine))
    }

    /// A pack index (`.idx`): header, lookups and offsets.
    pub fn pack_index(data: &[u8]) {
        use crate::git::oid::HashKind;
        // Both id widths: a SHA-256 repository's `.idx` v2 holds 32-byte names.
        for kind in [HashKind::Sha1, HashKind::Sha256] {
            if let Ok(ix) = crate::git::pack::Index::of(data, kind) {
                let n = ix.len().min(64);
                for pos in 0..n {
                    let id = ix.id_at(pos);
                    assert_eq!(id.len(), kind.len());
                    let _ = ix.position(id);
                    let _ = ix.offset(pos);
                }
                let _ = ix.position(&[0x5a; 32][..kind.len()]);
            }
        }
    }

    /// A pack entry header at each offset of the first bytes, then the
    /// entry's stream inflated to the size it claims.
    pub fn pack_entry(data: &[u8]) {
        let mut inflater = crate::git::pack::Inflater::default();
        let mut out = Vec::new();
        for (off, hash) in (0..data.len().min(8)).flat_map(|o| [(o, 20), (o, 32)]) {
            if let Ok(h) = crate::git::pack::parse_header(data, off, hash) {
                let stream = &data[h.data..];
                if h.size <= crate::git::pack::max_inflated(stream.len()) {
                    let _ = inflater.inflate(stream, h.size as usize, &mut out);
                }
            }
        }
        // The same bytes as a pack whose entries are opened as streams
        // (whole entries and delta chains, `git::chain`).
        crate::git::chain::fuzz_open(data);
    }

    /// A loose object file (zlib stream of `TYPE SIZE\0content`), read
    /// whole and as a stream: a blob the whole read accepts streams to the
    /// same bytes, and a stream never gives more or fewer bytes than it
    /// declares.
    pub fn loose_object(data: &[u8]) {
        crate::git::stream::fuzz_whole_and_streamed(data);
    }

    /// A delta applied to a base, whole and as a stream: the first byte
    /// splits the input.
    pub fn delta(data: &[u8]) {
        let Some((&split, rest)) = data.split_first() else {
            return;
        };
        let at = (usize::from(split) * rest.len()) / 256;
        let (base, delta) = rest.split_at(at);
        let mut out = Vec::new();
        if crate::git::pack::delta::apply(base, delta, &mut out).is_ok() {
            let (_, target, _) = crate::git::pack::delta::sizes(delta).expect("applied");
            assert_eq!(out.len() as u64, target, "target size as announced");
        }
        // Applied as a stream (once, and twice when the result can be its
        // own base): the same bytes, and refused when refused whole.
        crate::git::chain::fuzz_streamed_equals_whole(base, delta);
    }

    /// A tree object's entries (SHA-1 and SHA-256 ids), iterated and
    /// interned.
    pub fn tree(data: &[u8]) {
        for e in crate::git::trees::Entries::new(data) {
            std::hint::black_box(&e);
        }
        for e in crate::git::trees::Entries::with_hash(data, 32) {
            assert_eq!(e.oid.len(), 32);
            std::hint::black_box(&e);
        }
        for hash in [20, 32] {
            let mut interner = crate::git::trees::Interner::new(0);
            let mut out = Vec::new();
            interner.parse(data, hash, &mut out);
        }
    }

    /// A reftable file (version 1 or 2), every ref record read, for
    /// repositories of either id width.
    pub fn reftable(data: &[u8]) {
        use crate::git::oid::HashKind;
        for kind in [HashKind::Sha1, HashKind::Sha256] {
            let _ = crate::git::reftable::parse_table(data, kind);
        }
    }

    /// A commit object's header.
    pub fn commit(data: &[u8]) {
        use crate::git::oid::HashKind;
        for kind in [HashKind::Sha1, HashKind::Sha256] {
            let _ = crate::git::odb::parse_commit_of(data, kind);
        }
    }

    /// A `.leakscan.toml`.
    pub fn config(data: &[u8]) {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = crate::config::parse(text, Path::new(".leakscan.toml"));
        }
    }

    /// A baseline file, ours or a foreign (gitleaks / detect-secrets) one.
    pub fn baseline(data: &[u8]) {
        let name = Path::new("baseline.json");
        if let Ok(b) = crate::suppress::baseline::Baseline::parse(data, name) {
            let _ = b.to_bytes();
        }
        let _ = crate::suppress::baseline::foreign::parse(data, name);
    }

    /// The built-in rules' matcher over arbitrary bytes.
    pub fn matcher(data: &[u8]) {
        static RULES: OnceLock<Arc<crate::rules::RuleSet>> = OnceLock::new();
        let rules = RULES.get_or_init(|| {
            let mut b = crate::rules::RuleSetBuilder::new();
            b.add_file(
                crate::rules::parse_builtin().expect("built-in rules"),
                crate::rules::DEFAULT_RULES_NAME,
            )
            .expect("built-in rules");
            Arc::new(b.build().expect("built-in rules"))
        });
        let mut m = crate::matcher::Matcher::new(rules.clone());
        for r in m.scan(data) {
            std::hint::black_box(&r);
        }
    }
}
