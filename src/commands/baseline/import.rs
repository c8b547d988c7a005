//! `leakscan baseline import FILE`: turns another scanner's suppressions into
//! baseline entries, merged into the baseline (existing entries and their
//! triage win). A suppression is tied to one of our findings whenever
//! possible, by scanning the file it names (at its commit, for gitleaks
//! fingerprints that carry one) and picking the finding it points at:
//! - gitleaks with the secret in the report: the finding with that secret;
//! - gitleaks fingerprint only: the findings of the mapped rule family on
//!   its line;
//! - detect-secrets: the finding whose secret has that SHA-1.
//!
//! Such entries are ordinary salted-hash entries. A gitleaks finding that
//! cannot be tied but carries its secret is stored with its rule family; a
//! detect-secrets result that cannot be tied is stored as an `sha1` entry
//! (file + rule family + the SHA-1 detect-secrets already stored). A bare
//! fingerprint that cannot be tied is reported and skipped.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use globset::{GlobBuilder, GlobMatcher};

use crate::cli::BaselineImportArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::finding::Finding;
use crate::pipeline;
use crate::rules::RuleSet;
use crate::suppress::baseline::foreign::{
    self as foreign, detect_secrets_rule_glob, gitleaks_rule_glob, DetectSecretsItem, Foreign,
    GitleaksItem,
};
use crate::suppress::baseline::format::{self, Key};
use crate::suppress::baseline::{Baseline, Entry, EntryPath, Status};

/// Findings per (commit, path), scanned once each.
struct Files<'a> {
    root: &'a Path,
    rules: Arc<RuleSet>,
    repo: Option<Option<crate::git::Repo>>,
    cache: HashMap<(Option<String>, String), Result<Vec<Finding>, String>>,
}

impl Files<'_> {
    fn findings(&mut self, commit: Option<&str>, path: &str) -> Result<&[Finding], String> {
        let k = (commit.map(str::to_string), path.to_string());
        if !self.cache.contains_key(&k) {
            let v = self
                .read(commit, path)
                .map(|bytes| pipeline::scan_blob(self.rules.clone(), &bytes, Path::new(path)));
            self.cache.insert(k.clone(), v);
        }
        match &self.cache[&k] {
            Ok(v) => Ok(v),
            Err(e) => Err(e.clone()),
        }
    }

    fn read(&mut self, commit: Option<&str>, path: &str) -> Result<Vec<u8>, String> {
        let Some(c) = commit else {
            return std::fs::read(self.root.join(path)).map_err(|e| format!("{path}: {e}"));
        };
        let root = self.root;
        let repo = self
            .repo
            .get_or_insert_with(|| crate::git::Repo::discover(root).ok());
        let Some(repo) = repo else {
            return Err(format!("{}: not a git repository", root.display()));
        };
        let commit = repo.rev(c).map_err(|e| format!("{c}:{path}: {e}"))?;
        match repo.entry_at(commit, path.as_bytes()) {
            Ok(Some(e)) if e.is_blob() => repo.blob(e.id).map_err(|e| format!("{c}:{path}: {e}")),
            Ok(_) => Err(format!("{c}:{path}: no file at this path in the commit")),
            Err(e) => Err(format!("{c}:{path}: {e}")),
        }
    }
}

fn glob(pattern: &str) -> Option<GlobMatcher> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

/// Counts for the closing message.
#[derive(Default)]
struct Tally {
    tied: usize,
    by_family: usize,
    unresolved: Vec<String>,
    /// Unresolved gitleaks items that carried no secret (a .gitleaksignore
    /// line, or a report made with --redact).
    unresolved_bare: usize,
}

pub fn run(args: BaselineImportArgs) -> Result<Exit> {
    let bytes = std::fs::read(&args.from).map_err(|e| Error::io(&args.from, e))?;
    let parsed = foreign::parse(&bytes, &args.from)?;
    let rules = super::rules_for(&args.root, args.config.as_deref(), args.no_default_rules)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crate::settings::baseline::in_root(&args.root));
    let _lock = crate::suppress::baseline::format::FileLock::acquire(&out)?;
    let mut b = if out.is_file() {
        Baseline::read(&out)?
    } else {
        Baseline::new()
    };
    let before = b.entries.len();
    let key = b.key();
    let prefix = crate::settings::baseline::prefix_for(&args.root, &out);
    let mut files = Files {
        root: &args.root,
        rules: rules.clone(),
        repo: None,
        cache: HashMap::new(),
    };
    let mk = Maker {
        key: &key,
        prefix: prefix.as_deref(),
        date: format::today(),
    };
    let mut tally = Tally::default();
    let mut new = Vec::new();
    match parsed {
        Foreign::Gitleaks(items) => {
            for it in &items {
                gitleaks(it, &rules, &mut files, &mk, &mut new, &mut tally);
            }
        }
        Foreign::DetectSecrets(items) => {
            for it in &items {
                detect_secrets(it, &mut files, &mk, &mut new, &mut tally);
            }
        }
    }
    // Existing entries come first, so their triage survives deduplication.
    b.entries.extend(new);
    b.normalize();
    b.write(&out)?;
    for u in &tally.unresolved {
        eprintln!("leakscan: warning: not imported: {u}");
    }
    if tally.unresolved_bare > 0 {
        // A fingerprint holds no secret: it can only be tied to a finding of
        // ours at that place. gitleaks' JSON report carries each secret.
        eprintln!(
            "leakscan: {} gitleaks fingerprint{} could not be tied to a finding (gitleaks and \
             leakscan name rules and attribute commits differently, and a fingerprint holds no \
             secret); import gitleaks' JSON report instead, which carries each secret: \
             `gitleaks git --report-format json --report-path gitleaks.json` (without --redact), \
             then `leakscan baseline import gitleaks.json`",
            tally.unresolved_bare,
            if tally.unresolved_bare == 1 { "" } else { "s" }
        );
    }
    eprintln!(
        "leakscan: {} new entr{} in {} ({} tied to findings, {} kept by rule family and hash; {} not imported)",
        b.entries.len() - before,
        if b.entries.len() - before == 1 { "y" } else { "ies" },
        out.display(),
        tally.tied,
        tally.by_family,
        tally.unresolved.len()
    );
    Ok(Exit::Clean)
}

/// Builds entries for one import run.
struct Maker<'a> {
    key: &'a Key,
    prefix: Option<&'a [u8]>,
    date: String,
}

impl Maker<'_> {
    fn entry(
        &self,
        path: &str,
        rule: &str,
        line: Option<u64>,
        status: Status,
        reason: String,
    ) -> Entry {
        Entry {
            path: EntryPath::literal(&super::joined(self.prefix, path.as_bytes())),
            rule: rule.to_string(),
            hash: None,
            sha1: None,
            line,
            preview: None,
            length: None,
            status,
            reason: Some(reason),
            by: None,
            date: Some(self.date.clone()),
        }
    }

    fn tied(&self, path: &str, f: &Finding, status: Status, reason: String) -> Entry {
        let secret = f.secret.expose();
        let preview = format::preview(secret);
        Entry {
            hash: Some(self.key.hash(secret)),
            preview: (!preview.is_empty()).then_some(preview),
            length: Some(secret.len() as u64),
            ..self.entry(path, &f.rule, Some(f.line as u64), status, reason)
        }
    }
}

/// `./a/b` → `a/b`: gitleaks writes paths as it was given them.
fn clean(path: &str) -> &str {
    path.trim_start_matches("./")
}

fn gitleaks(
    it: &GitleaksItem,
    rules: &RuleSet,
    files: &mut Files<'_>,
    mk: &Maker<'_>,
    out: &mut Vec<Entry>,
    tally: &mut Tally,
) {
    let path = clean(&it.path);
    let family = gitleaks_rule_glob(&it.rule, |id| rules.get(id).is_some());
    let fam = glob(&family);
    let reason = format!("imported from gitleaks ({})", it.fingerprint);
    let on_lines = |f: &&Finding| {
        it.line == 0 || (it.line as usize <= f.line && f.line <= it.end_line as usize)
    };
    let chosen: Vec<Finding> = match files.findings(it.commit.as_deref(), path) {
        Ok(found) => match &it.secret {
            Some(s) => {
                let s = s.as_bytes();
                let related = |f: &&Finding| {
                    let fs = f.secret.expose();
                    fs == s
                        || (s.len() >= 8 && contains(fs, s))
                        || (fs.len() >= 8 && contains(s, fs))
                };
                let near: Vec<Finding> = found
                    .iter()
                    .filter(related)
                    .filter(on_lines)
                    .cloned()
                    .collect();
                if near.is_empty() {
                    found.iter().filter(related).cloned().collect()
                } else {
                    near
                }
            }
            None => found
                .iter()
                .filter(on_lines)
                .filter(|f| fam.as_ref().is_some_and(|g| g.is_match(&f.rule)))
                .cloned()
                .collect(),
        },
        Err(_) => Vec::new(),
    };
    if !chosen.is_empty() {
        for f in &chosen {
            out.push(mk.tied(path, f, Status::Untriaged, reason.clone()));
        }
        tally.tied += 1;
        return;
    }
    match &it.secret {
        Some(s) => {
            let secret = s.as_bytes();
            let preview = format::preview(secret);
            out.push(Entry {
                hash: Some(mk.key.hash(secret)),
                preview: (!preview.is_empty()).then_some(preview),
                length: Some(secret.len() as u64),
                ..mk.entry(path, &family, Some(it.line), Status::Untriaged, reason)
            });
            tally.by_family += 1;
        }
        None => {
            tally.unresolved_bare += 1;
            tally.unresolved.push(format!(
                "{}: no `{family}` finding at {path}:{}{}",
                it.fingerprint,
                it.line,
                it.commit
                    .as_deref()
                    .map(|c| format!(" in commit {}", &c[..c.len().min(12)]))
                    .unwrap_or_default()
            ))
        }
    }
}

fn detect_secrets(
    it: &DetectSecretsItem,
    files: &mut Files<'_>,
    mk: &Maker<'_>,
    out: &mut Vec<Entry>,
    tally: &mut Tally,
) {
    let path = clean(&it.path);
    let family = detect_secrets_rule_glob(&it.kind);
    let status = match it.is_secret {
        Some(false) => Status::FalsePositive,
        Some(true) => Status::AcceptedRisk,
        None => Status::Untriaged,
    };
    let reason = format!("imported from detect-secrets ({})", it.kind);
    let chosen: Vec<Finding> = files
        .findings(None, path)
        .map(|found| {
            found
                .iter()
                .filter(|f| format::sha1(f.secret.expose()) == it.hashed_secret)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if chosen.is_empty() {
        out.push(Entry {
            sha1: Some(it.hashed_secret),
            ..mk.entry(path, &family, it.line, status, reason)
        });
        tally.by_family += 1;
        return;
    }
    for f in &chosen {
        out.push(mk.tied(path, f, status, reason.clone()));
    }
    tally.tied += 1;
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}
