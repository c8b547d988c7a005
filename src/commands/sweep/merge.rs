//! `leakscan sweep merge FILE|DIR...`: combines shard reports (JSON) and
//! state directories into the report one machine would have written — the
//! same rows in the same order, since both are built by `Report::build`
//! from the same per-repository results. Inputs made under different keys
//! or rule sets are refused (their rows cannot line up), and so is a set of
//! shard reports with a shard missing or given twice. `--verify` verdicts
//! (report rows, a state's `verified.json`) are carried over; for a secret
//! checked in several inputs, the one checked last wins.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::{exit, summary, write};
use crate::cli::SweepMergeArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::pipeline::sweep::{state::State, verified};
use crate::report::sweep::{self as report, Meta, Outside, RepoResult, Report};
use crate::source::repos::OUTSIDE_NAMED;

/// Shard reports larger than this are refused (read whole).
const MAX_REPORT: u64 = 4 << 30;

pub fn run(args: SweepMergeArgs) -> Result<Exit> {
    let start = Instant::now();
    let mut meta: Option<(Meta, String)> = None;
    let mut repos: BTreeMap<String, (RepoResult, String)> = BTreeMap::new();
    let mut outside = Vec::new();
    let mut shards: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    let mut all_plain = true;
    // --verify verdicts of every input, by key: the one checked last wins.
    let mut verdicts: BTreeMap<String, crate::verify::Verification> = BTreeMap::new();
    let mut verified = false;
    for input in &args.inputs {
        let name = input.display().to_string();
        let (m, results, out, plain, found) = if input.is_dir() {
            let state = State::existing(input)?;
            let entries = state.all()?;
            let mut m: Option<Meta> = None;
            let mut plain = true;
            let mut results = Vec::new();
            for e in entries {
                match &m {
                    Some(m) if *m != e.meta => {
                        return Err(Error::Usage(format!(
                            "{name}: holds results of different sweeps (rule digests {} and {}, keys {} and {}); \
                             merge only one sweep's state",
                            m.rules, e.meta.rules, m.key_id, e.meta.key_id
                        )))
                    }
                    Some(_) => {}
                    None => m = Some(e.meta.clone()),
                }
                plain &= e.show_secrets;
                results.push(e.result);
            }
            let Some(m) = m else {
                return Err(Error::Usage(format!(
                    "{name}: the state directory holds no results"
                )));
            };
            let found = verified::Cache::verdicts_in(input)?;
            // What the sweep could not examine is a failure here too.
            for (repo, why) in state.load_unlisted()? {
                results.push(RepoResult::failed(&repo, &why));
            }
            (m, results, state.load_outside(), plain, found)
        } else {
            let size = std::fs::metadata(input)
                .map_err(|e| Error::io(input, e))?
                .len();
            if size > MAX_REPORT {
                return Err(Error::Usage(format!(
                    "{name}: larger than {} GiB; not a sweep report",
                    MAX_REPORT >> 30
                )));
            }
            let text = std::fs::read_to_string(input).map_err(|e| Error::io(input, e))?;
            let parsed =
                report::parse(&text).map_err(|msg| Error::Usage(format!("{name}: {msg}")))?;
            if let Some((i, n)) = parsed.shard {
                if !shards.entry(n).or_default().insert(i) {
                    return Err(Error::Usage(format!(
                        "{name}: shard {i}/{n} is given twice"
                    )));
                }
            }
            let plain = parsed
                .repos
                .iter()
                .all(|r| r.secrets.iter().all(|h| h.plaintext.is_some()));
            (
                parsed.meta,
                parsed.repos,
                parsed.outside,
                plain,
                parsed.verdicts,
            )
        };
        if let Some(found) = found {
            verified = true;
            for (k, v) in found {
                match verdicts.get(&k) {
                    Some(cur) if !verified::newer(cur, &v) => {}
                    _ => {
                        verdicts.insert(k, v);
                    }
                }
            }
        }
        all_plain &= plain;
        match &meta {
            None => meta = Some((m, name.clone())),
            Some((first, from)) => {
                if first.key_id != m.key_id {
                    return Err(Error::Usage(format!(
                        "{name} was made with a different key than {from} (key ids {} and {}): its secrets \
                         cannot be matched; sweep every shard with the same --key-file",
                        m.key_id, first.key_id
                    )));
                }
                if first.rules != m.rules {
                    return Err(Error::Usage(format!(
                        "{name} was made with different rules or settings than {from} (rule digests {} and {}); \
                         sweep every shard with the same rules",
                        m.rules, first.rules
                    )));
                }
                if first.leakscan != m.leakscan {
                    eprintln!(
                        "leakscan: warning: {name} was made by leakscan {}, {from} by {}",
                        m.leakscan, first.leakscan
                    );
                }
            }
        }
        outside.push(out);
        for r in results {
            if let Some((_, other)) = repos.get(&r.repo) {
                return Err(Error::Usage(format!(
                    "repository `{}` is in both {other} and {name}; give each repository's result once",
                    r.repo
                )));
            }
            repos.insert(r.repo.clone(), (r, name.clone()));
        }
    }
    if shards.len() > 1 {
        let ns: Vec<String> = shards.keys().map(|n| n.to_string()).collect();
        return Err(Error::Usage(format!(
            "the shard reports split the sweep in different ways (into {} shards)",
            ns.join(" and ")
        )));
    }
    if let Some((&n, have)) = shards.iter().next() {
        let missing: Vec<String> = (0..n)
            .filter(|i| !have.contains(i))
            .map(|i| format!("{i}/{n}"))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Usage(format!(
                "shard report{} missing: {} (a merge of part of the shards is not the sweep's report)",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            )));
        }
    }
    let Some((meta, _)) = meta else {
        return Err(Error::Usage("nothing to merge".into()));
    };
    let outside: Outside = report::merge_outside(outside, OUTSIDE_NAMED);
    let results = repos.into_values().map(|(r, _)| r).collect();
    let show = args.out.show_secrets;
    let mut report = Report::build(meta, show, None, results, outside);
    if verified {
        let keys: std::collections::HashSet<String> = report.keys().into_iter().collect();
        verdicts.retain(|k, _| keys.contains(k));
        report.verification = verdicts;
        report.verified = true;
    }
    report.elapsed_ms = start.elapsed().as_millis() as u64;
    if show && !all_plain && !args.out.quiet {
        eprintln!("leakscan: warning: some inputs were swept without --show-secrets");
    }
    write(&report, &args.out)?;
    if !args.out.quiet {
        summary(&report);
    }
    Ok(exit(&report))
}
