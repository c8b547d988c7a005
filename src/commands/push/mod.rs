//! Push protection: `leakscan pre-receive` (the server's hook) and
//! `leakscan pre-push` (the client's). Both turn git's list of ref updates
//! into "scan the commits reachable from these tips and from none of those
//! known ones", run the history scan on exactly that (`commands::history`),
//! judge the findings with a policy the push cannot change, and print one
//! verdict for the pusher.
//!
//! - `receive`: standard input, quarantine, push options, bypass, timeout;
//! - `client`: the pre-push hook's arguments and remote-tracking refs;
//! - `message`: the verdict text (escaped: names come from the pusher);
//! - `audit`: the bypass log (JSON lines in a file, or syslog).

pub mod audit;
pub mod client;
pub mod message;
pub mod receive;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::cli::PushPolicyArgs;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::git::revwalk::Selection;
use crate::git::{Kind, Oid, OidMap, Repo};
use crate::paths::PathBytes;
use crate::pipeline::BlobStep;
use crate::report::Format;
use crate::settings::{self, BaselineChoice, Output, Settings};
use crate::stats::{ErrorKind, SkipReason, Stats, SuppressReason};
use crate::suppress::Verdict;

/// What to check: commits reachable from `tips` and from none of `known`.
#[derive(Debug, Clone)]
pub struct Request {
    pub git_dir: PathBuf,
    /// Where configuration and baseline are looked for (work tree or git dir).
    pub root: PathBuf,
    /// The pushed ref targets (commits, or tags to peel).
    pub tips: Vec<Oid>,
    /// Targets of refs the other side already has.
    pub known: Vec<Oid>,
    pub policy: PushPolicyArgs,
}

/// The verdict's material.
#[derive(Debug, Default)]
pub struct Checked {
    /// Findings no allowlist, inline marker or baseline accepts.
    pub new: Vec<Finding>,
    pub suppressed: BTreeMap<SuppressReason, u64>,
    /// Findings whose secret a parent of their commit already had at the
    /// same path (an edit elsewhere in a file that held it before the push).
    pub already_there: u64,
    pub stats: Stats,
    /// Where the policy came from, for the pusher.
    pub policy_note: Option<String>,
}

impl Checked {
    /// Why part of the push was not read, if it was not: a blob over the size
    /// limit was skipped. A push is never accepted with content unread.
    pub fn unread(&self) -> Option<String> {
        let n = self
            .stats
            .skipped
            .get(&SkipReason::TooLarge)
            .copied()
            .unwrap_or(0);
        (n > 0).then(|| {
            format!(
                "{n} new blob{} over the size limit {} not read (raise the limit, \
                 `--max-file-size` or `max_file_size` in the policy's .leakscan.toml, to check {})",
                if n == 1 { "" } else { "s" },
                if n == 1 { "was" } else { "were" },
                if n == 1 { "it" } else { "them" }
            )
        })
    }
}

/// How a bounded check ended.
pub enum Outcome {
    Done(Box<Result<Checked>>),
    TimedOut(Duration),
}

/// Runs `check` on another thread and waits at most `timeout`. On time-out
/// the thread is left running: the caller answers and the process exits.
pub fn check_within(req: Request, timeout: Duration) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("leakscan-push-check".into())
        .spawn(move || {
            let _ = tx.send(check(&req));
        });
    if let Err(e) = spawned {
        return Outcome::Done(Box::new(Err(Error::Usage(format!(
            "cannot start the scan thread: {e}"
        )))));
    }
    match rx.recv_timeout(timeout) {
        Ok(r) => Outcome::Done(Box::new(r)),
        Err(mpsc::RecvTimeoutError::Timeout) => Outcome::TimedOut(timeout),
        Err(mpsc::RecvTimeoutError::Disconnected) => Outcome::Done(Box::new(Err(Error::Usage(
            "the scan thread stopped without a result".into(),
        )))),
    }
}

/// Scans what the request's tips add to the known history and judges it.
pub fn check(req: &Request) -> Result<Checked> {
    let start = Instant::now();
    let repo = Repo::open(crate::git::Locate::GitDir(&req.git_dir))?;
    let mut out = Checked::default();
    let known: Vec<Oid> = {
        // Annotated tags peeled by packed-refs need no tag read.
        let peeled = crate::git::packed_refs::peeled(repo.common_dir());
        let mut seen = OidMap::default();
        for &k in &req.known {
            if let Some(c) = repo
                .peel(peeled.get(&k).copied().unwrap_or(k))
                .ok()
                .filter(|(_, t)| *t == Kind::Commit)
            {
                seen.insert(c.0, ());
            }
        }
        let mut v: Vec<Oid> = seen.into_keys().collect();
        v.sort();
        v
    };
    let known_set: OidMap<()> = known.iter().map(|&k| (k, ())).collect();
    let mut commits: Vec<Oid> = Vec::new();
    let mut blobs: Vec<(Oid, Oid)> = Vec::new();
    for &tip in &req.tips {
        match repo.peel(tip) {
            Ok((c, Kind::Commit)) => {
                if !known_set.contains_key(&c) && !commits.contains(&c) {
                    commits.push(c);
                }
            }
            Ok((b, Kind::Blob)) => blobs.push((tip, b)),
            Ok((t, kind)) => out.stats.error(
                ErrorKind::Object,
                format!("{tip} points to a {kind} ({t}), which leakscan cannot check"),
            ),
            Err(e) => out.stats.error(
                ErrorKind::Object,
                format!("object {tip} cannot be read: {e}"),
            ),
        }
    }
    if commits.is_empty() && blobs.is_empty() {
        out.stats.elapsed = start.elapsed();
        return Ok(out);
    }
    let request = settings::Request {
        config: req.policy.config.clone(),
        no_config: req.policy.no_config,
        no_default_rules: req.policy.no_default_rules,
        baseline: if req.policy.no_baseline {
            BaselineChoice::Ignore
        } else if let Some(rev) = &req.policy.baseline_from {
            BaselineChoice::FromRev {
                rev: rev.clone(),
                file: None,
            }
        } else {
            BaselineChoice::Default
        },
        output: Output {
            format: Format::Text,
            path: None,
            also: Vec::new(),
            shown_root: None,
            context: false,
            show_secrets: false,
            quiet: true,
            show_suppressed: false,
            verify: Default::default(),
        },
        threads: req.policy.threads,
        min_confidence: None,
    };
    let mut prepared = Settings::resolve(request, &req.root, Some(&req.root))?;
    prepared.set_archives(&req.policy.archives);
    let mut findings = Vec::new();
    if !commits.is_empty() {
        let selection = Selection {
            revs: commits.iter().map(Oid::to_string).collect(),
            // Already peeled: no revision parsing per known ref.
            hide: known,
            ..Selection::default()
        };
        let scanned = crate::pipeline::history::run(
            &repo.git_dir,
            &selection,
            &prepared.history_options(req.policy.max_file_size, false),
            prepared.rules.clone(),
            prepared.output.progress(),
        )?;
        findings = scanned.findings;
        out.stats.merge(scanned.stats);
    }
    let max = prepared.max_file_size(req.policy.max_file_size);
    let mut step =
        BlobStep::new(prepared.rules.clone(), max).with_archives(prepared.archives.clone());
    for (tip, b) in blobs {
        scan_blob(&repo, &mut step, tip, b, &mut findings, &mut out.stats);
    }
    step.drain_into(&mut out.stats);
    // Problem lines name files: a name may hold a secret found here.
    let redactor = crate::finding::Redactor::new(findings.iter().map(|f| &f.secret));
    crate::outcome::redact_problems(&mut out.stats, &redactor);
    for f in findings {
        // The history scan judges whole file versions: a pushed commit that
        // edits any line of a file holding an older secret carries that
        // secret in a new blob. It is not new if a parent had it there.
        if in_a_parent(&repo, &f, &mut step) {
            out.already_there += 1;
            continue;
        }
        match prepared.suppressor.judge(&f) {
            Verdict::Report => out.new.push(f),
            Verdict::Suppressed(reason, _) => *out.suppressed.entry(reason).or_default() += 1,
        }
    }
    out.stats.elapsed = start.elapsed();
    Ok(out)
}

/// Whether a parent of the finding's commit has the same secret in its
/// version of the same path (inside an archive: at the same place in the
/// parent's version of the archive, which `step` opens).
fn in_a_parent(repo: &Repo, f: &Finding, step: &mut BlobStep) -> bool {
    let Some((_, parents)) = f
        .commit
        .as_ref()
        .and_then(|c| Oid::from_str(&c.id).ok())
        .and_then(|id| repo.commit(id).ok())
    else {
        return false;
    };
    let secret = f.secret.expose();
    parents.into_iter().any(|p| {
        repo.entry_at(p, &f.path.0)
            .ok()
            .flatten()
            .filter(|e| e.is_blob())
            .and_then(|e| repo.blob(e.id).ok())
            .is_some_and(|b| match &f.archive {
                None => memchr::memmem::find(&b, secret).is_some(),
                Some(_) => step
                    .archive(&b, &f.path, &mut Stats::default())
                    .is_some_and(|old| {
                        old.iter().any(|o| {
                            o.rule == f.rule
                                && o.archive == f.archive
                                && o.secret.expose() == secret
                        })
                    }),
            })
    })
}

/// A tag (or ref) that points at a blob: its content is scanned under the
/// name `<tip>` (there is no path or commit).
fn scan_blob(
    repo: &Repo,
    step: &mut BlobStep,
    tip: Oid,
    b: Oid,
    findings: &mut Vec<Finding>,
    stats: &mut Stats,
) {
    let blob = match repo.blob(b) {
        Ok(blob) => blob,
        Err(e) => {
            stats.error(ErrorKind::Object, format!("blob {b}: {e}"));
            return;
        }
    };
    let path = PathBytes(format!("(blob {b} of {tip})").into_bytes());
    findings.extend(step.scan(&blob, &path, false, stats));
}

/// The targets of every ref of `repo` (the known history), or of those
/// whose name starts with `prefix`; refs that cannot be read or lead
/// nowhere are left out.
pub fn ref_targets(repo: &Repo, prefix: Option<&str>) -> Result<Vec<Oid>> {
    let mut out: Vec<Oid> = repo
        .refs(prefix)?
        .into_iter()
        .flatten()
        .filter_map(|r| r.resolved)
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Parses a full hexadecimal object id (SHA-1), naming the line on error.
pub fn parse_oid(hex: &str, what: &str) -> Result<Oid> {
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Usage(format!(
            "{what}: SHA-256 repositories are not supported yet"
        )));
    }
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Usage(format!(
            "{what}: `{}` is not an object id",
            message::escape(hex.as_bytes())
        )));
    }
    Oid::from_str(hex).map_err(|e| Error::Usage(format!("{what}: {}", e.message())))
}

/// At most this much of git's input is read: about 600,000 ref updates.
pub const MAX_INPUT: u64 = 64 << 20;

/// Reads a hook's standard input, bounded by `MAX_INPUT`.
pub fn read_input(r: impl std::io::Read) -> Result<String> {
    use std::io::Read;
    let mut buf = Vec::new();
    r.take(MAX_INPUT + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("<stdin>", e))?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(Error::Usage(format!(
            "standard input is larger than {} MiB: not a list of ref updates",
            MAX_INPUT >> 20
        )));
    }
    String::from_utf8(buf)
        .map_err(|_| Error::Usage("standard input is not UTF-8: not a list of ref updates".into()))
}
