//! Sweeping one repository: its whole history (`history --all` with every
//! occurrence) through the history pipeline, with the sweep's shared blob
//! cache, turned into one `Hit` per distinct secret. Also the few git reads
//! the sweep needs besides the pipeline: ref tips (for `--state`), the
//! repository's identity (for `--shard`) and what is in HEAD's tree today.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::key::Key;
use crate::finding::{Finding, Secret};
use crate::git::pack::PackSet;
use crate::git::revwalk::{self, Plan, Selection};
use crate::git::trees::TreeStore;
use crate::git::{ObjectReader, Oid, Repo};
use crate::pipeline::history::{self as pipeline, BlobCache, HistoryOptions};
use crate::progress::Counters;
use crate::report::sweep::{First, Hit, RepoResult, Status};
use crate::rules::RuleSet;
use crate::stats::SkipReason;
use crate::suppress::{Suppressor, Verdict};

/// Errors quoted in a failed repository's `error`.
const ERRORS_QUOTED: usize = 3;

/// Everything that is the same for every repository of a sweep.
pub struct Sweeper {
    pub rules: Arc<RuleSet>,
    /// Judges every finding (the `--config` allowlist; no baseline).
    pub suppressor: Suppressor,
    pub key: Key,
    pub threads: usize,
    pub max_file_size: u64,
    pub archives: Option<crate::archive::Limits>,
    pub show_secrets: bool,
    /// `LEAKSCAN_TRACE`: each phase's time and volume on standard error.
    pub trace: bool,
    /// `LEAKSCAN_PACK_READER`: the pack reader forced on or off.
    pub pack_reader: Option<bool>,
    pub cache: Arc<BlobCache>,
    pub counters: Arc<Counters>,
    /// The trees decoded from the last repository read through its packs:
    /// the next repository reuses them when it shares recent history
    /// (`related`) instead of decoding its own packs' trees.
    pub trees: std::sync::Mutex<Option<Arc<TreeStore>>>,
    /// `--verify`: every finding, kept for the verification pass.
    pub pending: Option<std::sync::Mutex<Vec<super::verified::Pending>>>,
}

/// First-parent ancestors of HEAD whose trees are looked up in a kept store.
const RELATED_DEPTH: usize = 16;

/// Whether `store` holds the tree of HEAD or of one of its recent
/// first-parent ancestors: a clone, mirror or fork of the repository the
/// store was decoded for. Only speed depends on the answer (trees the store
/// lacks are read one by one).
fn related(repo: &Repo, store: &TreeStore) -> bool {
    let Some(mut c) = repo
        .head()
        .ok()
        .flatten()
        .and_then(|h| repo.peel_commit("HEAD", h).ok())
    else {
        return false;
    };
    for _ in 0..=RELATED_DEPTH {
        let Ok((tree, parents)) = repo.commit(c) else {
            return false;
        };
        if store.holds(&tree) {
            return true;
        }
        match parents.first() {
            Some(&p) => c = p,
            None => return false,
        }
    }
    false
}

fn open(path: &Path) -> Result<Repo, String> {
    Repo::open(crate::git::Locate::GitDir(path)).map_err(|e| match e {
        crate::error::Error::Git { msg, .. } => msg,
        other => other.to_string(),
    })
}

/// `(ref name, target)` for HEAD and every ref, sorted: what a rerun
/// compares to decide whether the history changed.
pub fn tips(path: &Path) -> Result<Vec<(String, String)>, String> {
    let repo = open(path)?;
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let target = |r: &crate::git::Ref| match &r.symbolic {
        Some(t) => lossy(t),
        None => r.direct.map(|o| o.to_string()).unwrap_or_default(),
    };
    let mut out = Vec::new();
    if let Some(head) = repo.reference("HEAD") {
        let id = head.resolved.map(|o| o.to_string()).unwrap_or_default();
        out.push(("HEAD".to_string(), format!("{} {id}", target(&head))));
    }
    for r in repo.refs(None).map_err(|e| e.to_string())? {
        let r = r?;
        out.push((lossy(&r.name), target(&r)));
    }
    out.sort();
    Ok(out)
}

/// What identifies a repository's history for sharding: the root commit
/// reached by first parents from HEAD (or from the first ref, by name, when
/// HEAD leads nowhere); forks and mirrors share it. Without any commit, the
/// repository's name. First-parent chains are short next to whole
/// histories (merges fold most commits in).
pub fn identity(path: &Path, name: &str) -> String {
    let walk = || -> Option<String> {
        // Commits are read through the checked reader (a damaged object is
        // the end of the chain, never a crash).
        let repo = open(path).ok()?;
        let commit = |id: Oid| repo.peel_commit("", id).ok();
        let parents = |c: Oid| repo.commit(c).ok().map(|(_, p)| p);
        // HEAD, else (a mirror whose HEAD names a missing branch) the first
        // ref by name that leads to a commit.
        let head = repo.head().ok().flatten().and_then(commit);
        let start = match head {
            Some(c) => c,
            None => {
                let mut refs: Vec<(Vec<u8>, Oid)> = repo
                    .refs(None)
                    .ok()?
                    .into_iter()
                    .flatten()
                    .filter_map(|r| Some((r.name, commit(r.resolved?)?)))
                    .collect();
                refs.sort();
                refs.first()?.1
            }
        };
        let (mut c, mut up) = (start, parents(start)?);
        loop {
            // No parent, or a shallow or damaged cut: that is the root seen.
            let Some(&p) = up.first() else {
                return Some(c.to_string());
            };
            match parents(p) {
                Some(next) => (c, up) = (p, next),
                None => return Some(c.to_string()),
            }
        }
    };
    walk().unwrap_or_else(|| format!("name:{name}"))
}

impl Sweeper {
    /// Sweeps one repository; never fails (problems become `Status::Failed`).
    pub fn scan(&self, name: &str, path: &Path) -> RepoResult {
        let mut result = RepoResult {
            repo: name.to_string(),
            status: Status::Ok,
            error: None,
            commits: 0,
            blobs: 0,
            bytes: 0,
            secrets: Vec::new(),
        };
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.scan_inner(path, &mut result)
        }));
        let errors = match caught {
            Ok(errors) => errors,
            Err(_) => vec!["internal error: the scan panicked".to_string()],
        };
        if !errors.is_empty() {
            result.status = Status::Failed;
            let mut msg = errors[..errors.len().min(ERRORS_QUOTED)].join("; ");
            if errors.len() > ERRORS_QUOTED {
                msg += &format!(" (and {} more errors)", errors.len() - ERRORS_QUOTED);
            }
            result.error = Some(msg);
        }
        result
    }

    /// Fills `result`; returns the errors.
    fn scan_inner(&self, path: &Path, result: &mut RepoResult) -> Vec<String> {
        let repo = match Repo::discover(path) {
            // `discover` would find an enclosing repository for a plain
            // directory: only a repository at `path` itself counts.
            Ok(r) if same_dir(r.root(), path) || same_dir(&r.git_dir, path) => r,
            Ok(_) => return vec!["not a git repository".into()],
            Err(e) => return vec![e.to_string()],
        };
        let git_dir = repo.git_dir.clone();
        let mut errors = Vec::new();
        if repo.is_shallow() {
            errors.push(
                "shallow clone: its history is cut, older commits are not in it (unshallow it and sweep again)"
                    .to_string(),
            );
        }
        let selection = Selection {
            all: true,
            ..Selection::default()
        };
        let kept = self
            .trees
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(|s| related(&repo, s));
        let opts = HistoryOptions {
            threads: self.threads,
            max_file_size: self.max_file_size,
            all_occurrences: true,
            cache: Some(self.cache.clone()),
            archives: self.archives.clone(),
            trace: self.trace,
            pack_reader: self.pack_reader,
        };
        let (plan, scanned) = if let Some(store) = kept {
            // A fork of the last repository: its trees are (nearly) all in
            // the store; commits are read from the packs, blobs the cache
            // lacks one by one.
            let packs = Arc::new(PackSet::open(&git_dir));
            let plan = match ObjectReader::with_packs(&git_dir, packs)
                .and_then(|r| revwalk::plan(&r, &selection))
            {
                Ok(p) => p,
                Err(e) => {
                    errors.push(e.to_string());
                    return errors;
                }
            };
            let (scanned, _) = pipeline::scan_sharing(
                &git_dir,
                &plan,
                None,
                Some(store),
                false,
                self.rules.clone(),
                &opts,
                self.counters.clone(),
            );
            (plan, scanned)
        } else {
            // Not related: free the kept trees before decoding new ones.
            *self.trees.lock().unwrap_or_else(|e| e.into_inner()) = None;
            let loaded = pipeline::plan_and_load(&git_dir, true, &opts, |packs| {
                let reader = match packs {
                    Some(p) => ObjectReader::with_packs(&git_dir, p)?,
                    None => ObjectReader::open(&git_dir)?,
                };
                revwalk::plan(&reader, &selection)
            });
            let (plan, packed) = match loaded {
                Ok(x) => x,
                Err(e) => {
                    errors.push(e.to_string());
                    return errors;
                }
            };
            let decoded = packed.is_some();
            let (scanned, store) = pipeline::scan_sharing(
                &git_dir,
                &plan,
                packed,
                None,
                decoded,
                self.rules.clone(),
                &opts,
                self.counters.clone(),
            );
            *self.trees.lock().unwrap_or_else(|e| e.into_inner()) = store.filter(|s| !s.is_empty());
            (plan, scanned)
        };
        errors.extend(plan.errors.iter().map(|e| e.msg.clone()));
        errors.extend(scanned.stats.errors.iter().map(|e| e.msg.clone()));
        let stats = &scanned.stats;
        result.commits = plan.commits.len() as u64;
        let submodules = stats
            .skipped
            .get(&SkipReason::Submodule)
            .copied()
            .unwrap_or(0);
        result.blobs = stats.scanned + stats.skipped_total() - submodules;
        result.bytes = stats.bytes;
        let findings: Vec<Finding> = scanned
            .findings
            .into_iter()
            .filter(|f| matches!(self.suppressor.judge(f), Verdict::Report))
            .collect();
        result.secrets = self.hits(&git_dir, &plan, findings, &mut errors);
        errors
    }

    /// One `Hit` per distinct secret (by key): its earliest introduction,
    /// how many commits introduced it, whether HEAD holds it.
    fn hits(
        &self,
        git_dir: &Path,
        plan: &Plan,
        findings: Vec<Finding>,
        errors: &mut Vec<String>,
    ) -> Vec<Hit> {
        if findings.is_empty() {
            return Vec::new();
        }
        // Topological position of each attributed commit.
        let wanted: BTreeSet<Oid> = findings
            .iter()
            .filter_map(|f| f.commit.as_ref())
            .filter_map(|c| Oid::from_str(&c.id).ok())
            .collect();
        let position: HashMap<Oid, usize> = plan
            .commits
            .iter()
            .enumerate()
            .filter(|(_, c)| wanted.contains(&c.id))
            .map(|(i, c)| (c.id, i))
            .collect();
        let mut head = match HeadTree::open(git_dir) {
            Ok(h) => h,
            Err(e) => {
                errors.push(format!("cannot read HEAD's tree: {e}"));
                HeadTree::none()
            }
        };
        struct Acc {
            rule: String,
            secret: Secret,
            first: (usize, Finding),
            commits: BTreeSet<String>,
            at_head: bool,
        }
        let mut by_key: BTreeMap<String, Acc> = BTreeMap::new();
        for f in findings {
            let key = self.key.digest(f.secret.expose());
            if let Some(pending) = &self.pending {
                pending.lock().unwrap().push(super::verified::Pending {
                    key: key.clone(),
                    rule: f.rule.clone(),
                    secret: f.secret.expose().to_vec(),
                    path: f.path.0.clone(),
                    commit: f.commit.as_ref().map(|c| c.id.clone()),
                    line: f.line,
                    near: f.near.as_deref().map(|n| n.expose().to_vec()),
                });
            }
            let pos = f
                .commit
                .as_ref()
                .and_then(|c| Oid::from_str(&c.id).ok())
                .and_then(|o| position.get(&o).copied())
                .unwrap_or(usize::MAX);
            let at_head = f
                .occurrences
                .iter()
                .any(|o| head.holds(&o.commit, &o.path.0));
            let commits: Vec<String> = f.occurrences.iter().map(|o| o.commit.clone()).collect();
            match by_key.get_mut(&key) {
                Some(acc) => {
                    if f.rule < acc.rule {
                        acc.rule = f.rule.clone();
                    }
                    acc.at_head |= at_head;
                    acc.commits.extend(commits);
                    let cand = (pos, &f.path, f.line);
                    let cur = (acc.first.0, &acc.first.1.path, acc.first.1.line);
                    if cand < cur {
                        acc.first = (pos, f);
                    }
                }
                None => {
                    by_key.insert(
                        key,
                        Acc {
                            rule: f.rule.clone(),
                            secret: f.secret.clone(),
                            commits: commits.into_iter().collect(),
                            at_head,
                            first: (pos, f),
                        },
                    );
                }
            }
        }
        by_key
            .into_iter()
            .map(|(key, acc)| {
                let f = acc.first.1;
                let c = f
                    .commit
                    .clone()
                    .unwrap_or_else(|| crate::finding::CommitInfo {
                        id: String::new(),
                        author: String::new(),
                        email: String::new(),
                        date: String::new(),
                        summary: String::new(),
                    });
                Hit {
                    confidence: Some(f.confidence.as_str().to_string()),
                    rule: acc.rule,
                    key,
                    redacted: acc.secret.redacted(),
                    plaintext: self
                        .show_secrets
                        .then(|| String::from_utf8_lossy(acc.secret.expose()).into_owned()),
                    at_head: acc.at_head,
                    first: First {
                        commit: c.id,
                        author: c.author,
                        email: c.email,
                        date: c.date,
                        // Inside an archive: `archive.zip!inner/file`.
                        path: f.location().as_str_lossy().into_owned(),
                        line: f.line as u64,
                    },
                    commits: acc.commits.len() as u64,
                }
            })
            .collect()
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// HEAD's tree, to tell whether a blob introduced at (commit, path) is
/// still there: HEAD holds a secret exactly when, at one of the paths that
/// introduced it, HEAD has the same blob as the introducing commit.
struct HeadTree {
    repo: Option<Repo>,
    /// HEAD's tree.
    head: Option<Oid>,
    /// (commit, path) → whether HEAD has the same blob there.
    memo: HashMap<(String, Vec<u8>), bool>,
}

impl HeadTree {
    fn none() -> HeadTree {
        HeadTree {
            repo: None,
            head: None,
            memo: HashMap::new(),
        }
    }

    fn open(git_dir: &Path) -> Result<HeadTree, String> {
        let repo = open(git_dir)?;
        let head = repo.head_tree()?;
        Ok(HeadTree {
            repo: Some(repo),
            head,
            memo: HashMap::new(),
        })
    }

    fn holds(&mut self, commit: &str, path: &[u8]) -> bool {
        let (Some(repo), Some(head)) = (&self.repo, self.head) else {
            return false;
        };
        let k = (commit.to_string(), path.to_vec());
        if let Some(&v) = self.memo.get(&k) {
            return v;
        }
        let v = (|| -> Option<bool> {
            let at_head = repo.entry_in(head, path).ok()??.id;
            let then = repo.entry_at(Oid::from_str(commit).ok()?, path).ok()??.id;
            Some(at_head == then)
        })()
        .unwrap_or(false);
        self.memo.insert(k, v);
        v
    }
}
