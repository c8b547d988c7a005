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
//! - `audit`: the bypass log (JSON lines in a file, or syslog);
//! - `verified`: `--verify` (off by default) under a deadline.

pub mod audit;
pub mod client;
pub mod message;
pub mod receive;
pub mod verified;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::cli::PushPolicyArgs;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::git::{Oid, Repo};
use crate::pipeline::push;
use crate::report::Format;
use crate::settings::{self, BaselineChoice, Output, Settings};
use crate::stats::{SkipReason, Stats, SuppressReason};
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
    /// `--verify`: the verdict on each of `new` (same order; empty without).
    pub verdicts: Vec<Option<crate::verify::Verification>>,
    /// `--verify --fail-on live`: findings the provider says are invalid,
    /// accepted, with their verdicts.
    pub let_through: Vec<Finding>,
    pub let_through_verdicts: Vec<Option<crate::verify::Verification>>,
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
    let plan = push::plan(&repo, &req.tips, &req.known);
    out.stats.errors.extend(plan.errors.iter().cloned());
    if plan.is_empty() {
        out.stats.elapsed = start.elapsed();
        return Ok(out);
    }
    let request = settings::Request {
        config: req.policy.rules.config.clone(),
        no_config: req.policy.no_config,
        no_default_rules: req.policy.rules.no_default_rules,
        baseline: if req.policy.no_baseline {
            BaselineChoice::Ignore
        } else if let Some(rev) = &req.policy.baseline_from {
            BaselineChoice::FromRev {
                rev: rev.clone(),
                file: None,
                asked_by: if req.policy.baseline_from_default {
                    "the policy revision (the default branch)"
                } else {
                    settings::BASELINE_FROM
                },
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
        threads: req.policy.run.threads,
        min_confidence: None,
    };
    let mut prepared = Settings::resolve(request, &req.root, Some(&req.root))?;
    prepared.set_archives(&req.policy.archives);
    let scanned = push::scan(
        &repo,
        plan,
        &prepared.history_options(req.policy.run.max_file_size, false),
        prepared.rules.clone(),
        prepared.output.progress(),
    )?;
    out.stats.merge(scanned.stats);
    // Problem lines name files: a name may hold a secret found here.
    let redactor = crate::finding::Redactor::new(scanned.findings.iter().map(|f| &f.secret));
    crate::outcome::redact_problems(&mut out.stats, &redactor);
    out.already_there = scanned.already_there;
    for f in scanned.findings {
        match prepared.suppressor.judge(&f) {
            Verdict::Report => out.new.push(f),
            Verdict::Suppressed(reason, _) => *out.suppressed.entry(reason).or_default() += 1,
        }
    }
    out.stats.elapsed = start.elapsed();
    Ok(out)
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

/// Parses a full hexadecimal object id (40 digits for SHA-1, 64 for
/// SHA-256), naming the line on error.
pub fn parse_oid(hex: &str, what: &str) -> Result<Oid> {
    Oid::from_hex(hex.as_bytes()).ok_or_else(|| {
        Error::Usage(format!(
            "{what}: `{}` is not an object id",
            message::escape(hex.as_bytes())
        ))
    })
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
