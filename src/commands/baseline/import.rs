//! `leakscan baseline import FILE`: turns another scanner's suppressions into
//! baseline entries, merged into the baseline (existing entries and their
//! triage win). A suppression is tied to one of our findings whenever
//! possible, by scanning the file it names (at its commit, read through the
//! checked git reader, for gitleaks items that carry one) and picking the
//! finding it points at:
//! - gitleaks with the secret in the report: the finding with that secret;
//! - gitleaks fingerprint only: the findings of the mapped rule
//!   (`gitleaks_ids`) on its lines, else any finding on its lines (the
//!   place alone: rule names differ, the secret at that place does not);
//! - detect-secrets: the finding whose secret has that SHA-1;
//! - a Betterleaks 2 `.betterleaksignore` (SHA-256 of a secret, suppressed
//!   by Betterleaks everywhere): every finding of the scope whose secret has
//!   that SHA-256, as one entry for any path and rule (`*`, `*`), so the
//!   secret stays accepted wherever it appears, as in Betterleaks. A hash
//!   no finding has cannot be turned into our salted hash: it is reported
//!   and not imported.
//!
//! Such entries are ordinary salted-hash entries. A gitleaks finding that
//! cannot be tied but carries its secret is stored with its rule family; a
//! detect-secrets result that cannot be tied is stored as an `sha1` entry
//! (file + rule family + the SHA-1 detect-secrets already stored). A bare
//! fingerprint that cannot be tied is reported and skipped.
//!
//! Then the scope the imported file stood for is scanned (gitleaks' `git`
//! mode reads every ref's history, so items with commits mean `history
//! --all`, recorded in the baseline as `baseline create --history --all`
//! would; otherwise the files under the root), and what leakscan finds
//! beyond the import is counted — those would fail CI on the first run —
//! and, with `--also-accept-current`, added as untriaged entries.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use globset::{GlobBuilder, GlobMatcher};

use crate::cli::{BaselineImportArgs, BaselineScanArgs};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::finding::Finding;
use crate::pipeline;
use crate::rules::RuleSet;
use crate::suppress::baseline::foreign::{
    self as foreign, detect_secrets_rule_glob, gitleaks_rule_glob, BetterleaksIgnoreItem,
    DetectSecretsItem, Foreign, GitleaksItem,
};
use crate::suppress::baseline::format::{self, Key};
use crate::suppress::baseline::{Baseline, Entry, EntryPath, Lookup, Status};

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
    /// Of `tied`: by the place alone (no finding of the mapped rule there).
    by_place: usize,
    by_family: usize,
    unresolved: Vec<String>,
    /// Unresolved gitleaks items that carried no secret (a .gitleaksignore
    /// line, or a report made with --redact).
    unresolved_bare: usize,
}

pub fn run(args: BaselineImportArgs) -> Result<Exit> {
    let bytes = std::fs::read(&args.from).map_err(|e| Error::io(&args.from, e))?;
    let parsed = foreign::parse(&bytes, &args.from)?;
    let rules = super::rules_for(
        &args.root,
        args.rules.config.as_deref(),
        args.rules.no_default_rules,
    )?;
    // What the imported file stood for: gitleaks' `git` mode reads the
    // history of every ref (`git log --all`), so items with commits mean
    // `history --all`; anything else, the files under the root.
    let history =
        matches!(&parsed, Foreign::Gitleaks(items) if items.iter().any(|i| i.commit.is_some()));
    let scope = BaselineScanArgs {
        out: args.out.clone(),
        history,
        repo: history.then(|| args.root.clone()),
        all: history,
        revs: Vec::new(),
        paths: vec![args.root.clone()],
        rules: args.rules.clone(),
        no_config: false,
        no_ignore: false,
        run: crate::cli::RunArgs::default(),
        quiet: false,
    };
    let plan = super::plan(&scope)?;
    let out = plan.file.clone();
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
    let tool = match &parsed {
        Foreign::Gitleaks(_) => "gitleaks",
        Foreign::DetectSecrets(_) => "detect-secrets",
        Foreign::BetterleaksIgnore(_) => "Betterleaks",
    };
    // The scope's findings, scanned once: a Betterleaks hash is tied to
    // them, and they are what leakscan finds beyond the import.
    let mut found = None;
    match parsed {
        Foreign::BetterleaksIgnore(items) => {
            let scanned = plan.collect()?;
            betterleaks_ignore(&items, &scanned, &plan, &key, &mk, &mut new, &mut tally);
            found = Some(scanned);
        }
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
    b.history = super::wider(b.history.take(), plan.history_scope());
    b.normalize();
    b.write(&out)?;
    let imported = b.entries.len() - before;
    for u in &tally.unresolved {
        eprintln!("leakscan: warning: not imported: {u}");
    }
    if tally.unresolved_bare > 0 {
        // A fingerprint holds no secret: it can only be tied to a finding of
        // ours at that place. gitleaks' JSON report carries each secret.
        eprintln!(
            "leakscan: {} gitleaks fingerprint{} could not be tied to a finding (no finding of \
             ours at that place, or the file could not be read there; a fingerprint holds no \
             secret); import gitleaks' JSON report instead, which carries each secret: \
             `gitleaks git --report-format json --report-path gitleaks.json` (without --redact), \
             then `leakscan baseline import gitleaks.json`",
            tally.unresolved_bare,
            if tally.unresolved_bare == 1 { "" } else { "s" }
        );
    }
    eprintln!(
        "leakscan: {} new entr{} in {} ({} tied to findings{}, {} kept by rule family and hash; {} not imported)",
        imported,
        if imported == 1 { "y" } else { "ies" },
        out.display(),
        tally.tied,
        if tally.by_place > 0 {
            format!(" ({} by place: {tool} names the rule differently)", tally.by_place)
        } else {
            String::new()
        },
        tally.by_family,
        tally.unresolved.len()
    );
    if let Some(h) = &b.history {
        eprintln!(
            "leakscan: scope recorded: history{} (as {tool} scanned it); `leakscan baseline \
             update --check` checks that scope",
            h.flags().trim_start_matches(" --history")
        );
    }
    accept_or_count(&plan, &args, tool, b, &out, found)
}

/// Scans the import's scope and compares with the baseline just written:
/// what leakscan finds beyond it is counted (it would fail CI), or with
/// `--also-accept-current` added as untriaged entries.
fn accept_or_count(
    plan: &super::BaselineRun,
    args: &BaselineImportArgs,
    tool: &str,
    mut b: Baseline,
    out: &Path,
    found: Option<super::Collected>,
) -> Result<Exit> {
    let found = match found {
        Some(f) => f,
        None => plan.collect()?,
    };
    if found.stats.interrupted {
        eprintln!(
            "leakscan: interrupted: the import is written; what leakscan finds beyond it was not \
             counted"
        );
        return Ok(Exit::Interrupted);
    }
    let lookup = Lookup::new(b.clone(), out).with_prefix(plan.prefix.clone());
    let key = b.key();
    let date = format::today();
    let mut seen = HashSet::new();
    let mut more = Vec::new();
    for s in &found.seen {
        if lookup.find(&s.rule, &s.path, s.secret.expose()).is_some() {
            continue;
        }
        let e = plan.entry(&key, s, &date);
        if seen.insert((e.path.clone(), e.rule.clone(), e.hash)) {
            more.push(e);
        }
    }
    let from = args.from.display().to_string();
    if more.is_empty() {
        eprintln!("leakscan: leakscan finds nothing beyond what {tool} reported");
    } else if args.also_accept_current {
        let n = more.len();
        for e in &mut more {
            e.reason = Some(format!(
                "accepted at import of {from}: {tool} did not report it"
            ));
        }
        b.entries.extend(more);
        b.normalize();
        b.write(out)?;
        eprintln!(
            "leakscan: also accepted {n} secret{} {tool} did not report (untriaged; `leakscan \
             baseline audit` to triage)",
            if n == 1 { "" } else { "s" }
        );
    } else {
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &more {
            *by_rule.entry(&e.rule).or_default() += 1;
        }
        let mut rules: Vec<(&str, usize)> = by_rule.into_iter().collect();
        rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut list: Vec<String> = rules
            .iter()
            .take(5)
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        if rules.len() > 5 {
            list.push(format!("{} more rules", rules.len() - 5));
        }
        let review = match &b.history {
            Some(h) if plan.args.history => {
                format!(
                    "leakscan history{}",
                    h.flags().trim_start_matches(" --history")
                )
            }
            _ => "leakscan scan".to_string(),
        };
        eprintln!(
            "leakscan: leakscan finds {} more secret{} than {tool} reported: {}; they fail CI \
             until triaged: review them (`{review}`) or `leakscan baseline import {} \
             --also-accept-current`",
            more.len(),
            if more.len() == 1 { "" } else { "s" },
            list.join(", "),
            super::quote(&from)
        );
    }
    Ok(super::exit_for(&found.stats, Exit::Clean))
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
    let (family, known) = gitleaks_rule_glob(&it.rule, |id| rules.get(id).is_some());
    let fam = glob(&family).filter(|_| known);
    let reason = format!("imported from gitleaks ({})", it.fingerprint);
    let on_lines = |f: &&Finding| {
        it.line == 0 || (it.line as usize <= f.line && f.line <= it.end_line as usize)
    };
    let mut by_place = false;
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
            None => {
                let here: Vec<&Finding> = found.iter().filter(on_lines).collect();
                let mapped: Vec<Finding> = here
                    .iter()
                    .filter(|f| fam.as_ref().is_some_and(|g| g.is_match(&f.rule)))
                    .map(|f| (*f).clone())
                    .collect();
                if !known && it.line > 0 {
                    // A rule we cannot map: the secret at that place is the
                    // one gitleaks flagged.
                    by_place = !here.is_empty();
                    here.into_iter().cloned().collect()
                } else {
                    mapped
                }
            }
        },
        Err(_) => Vec::new(),
    };
    if by_place {
        tally.by_place += 1;
    }
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
                "{}: no {}finding at {path}:{}{}",
                it.fingerprint,
                if known {
                    format!("`{family}` ")
                } else {
                    String::new()
                },
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

/// Betterleaks 2 ignore entries: each hash tied to the scope's findings
/// with that secret, as one entry for any path and rule.
fn betterleaks_ignore(
    items: &[BetterleaksIgnoreItem],
    found: &super::Collected,
    plan: &super::BaselineRun,
    key: &Key,
    mk: &Maker<'_>,
    out: &mut Vec<Entry>,
    tally: &mut Tally,
) {
    use sha2::Digest as _;
    let mut by_hash: HashMap<[u8; 32], &super::Seen> = HashMap::new();
    for s in &found.seen {
        let h: [u8; 32] = sha2::Sha256::digest(s.secret.expose()).into();
        by_hash.entry(h).or_insert(s);
    }
    for it in items {
        let Some(s) = by_hash.get(&it.sha256) else {
            // A hash holds no secret: only a secret we find gives our
            // salted hash.
            tally.unresolved.push(format!(
                "Betterleaks ignore entry at line {} of the file: no secret leakscan finds in \
                 the scanned files has that SHA-256 (a value no longer there, or one no rule of \
                 ours reports)",
                it.line
            ));
            continue;
        };
        let mut e = plan.entry(key, s, &mk.date);
        e.path = EntryPath(b"*".to_vec());
        e.rule = "*".into();
        e.line = None;
        e.reason = Some(format!(
            "imported from Betterleaks (ignore entry, line {}): this secret anywhere",
            it.line
        ));
        out.push(e);
        tally.tied += 1;
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}
