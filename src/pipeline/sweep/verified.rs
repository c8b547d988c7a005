//! `sweep --verify`: every distinct secret of the sweep checked once, across
//! repositories, and remembered in the state directory by its HMAC key with
//! the time it was checked (`verified.json`), so a rerun or another shard
//! sharing the state does not ask again. Only live and invalid verdicts are
//! remembered; unknown and skipped ones are asked again next time.
//! `newer` picks between two verdicts on one secret (`sweep merge`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::verify::{self, Counts, Item, Options, Status, Verification};

/// One finding of the sweep, kept (in memory only) until the pass.
pub struct Pending {
    pub key: String,
    pub rule: String,
    pub secret: Vec<u8>,
    pub path: Vec<u8>,
    pub commit: Option<String>,
    pub line: usize,
    /// The text around it, for verifiers reading a value next to it.
    pub near: Option<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
struct Cached {
    status: String,
    identity: BTreeMap<String, String>,
    checked_at: Option<String>,
    reason: Option<String>,
}

/// Verdicts by HMAC key, read from and written to the state directory.
#[derive(Default)]
pub struct Cache {
    path: Option<PathBuf>,
    map: BTreeMap<String, Verification>,
    /// Verdicts taken from the cache in this run.
    pub hits: usize,
}

const FILE: &str = "verified.json";

impl Cache {
    pub fn load(state: Option<&Path>) -> Result<Cache> {
        let Some(dir) = state else {
            return Ok(Cache::default());
        };
        let path = dir.join(FILE);
        let mut map = BTreeMap::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let raw: BTreeMap<String, Cached> = serde_json::from_str(&text).map_err(|e| {
                    Error::Usage(format!("{}: not a verification cache: {e}", path.display()))
                })?;
                for (k, c) in raw {
                    if let Some(status) = Status::parse(&c.status) {
                        map.insert(
                            k,
                            Verification {
                                status,
                                identity: c.identity,
                                checked_at: c.checked_at,
                                reason: c.reason,
                            },
                        );
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        Ok(Cache {
            path: Some(path),
            map,
            hits: 0,
        })
    }

    /// The verdicts of a state directory's cache; `None` when it has none
    /// (`sweep merge`).
    pub fn verdicts_in(dir: &Path) -> Result<Option<BTreeMap<String, Verification>>> {
        if !dir.join(FILE).is_file() {
            return Ok(None);
        }
        Ok(Some(Cache::load(Some(dir))?.map))
    }

    fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let raw: BTreeMap<&String, Cached> = self
            .map
            .iter()
            .map(|(k, v)| {
                (
                    k,
                    Cached {
                        status: v.status.as_str().into(),
                        identity: v.identity.clone(),
                        checked_at: v.checked_at.clone(),
                        reason: v.reason.clone(),
                    },
                )
            })
            .collect();
        let text = serde_json::to_string_pretty(&raw).map_err(|e| Error::Usage(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }
}

/// Verifies the sweep's secrets (those the cache does not know), each once;
/// returns the verdict per HMAC key and what was sent. `keys` are every
/// secret of the report: those of repositories reused from the state were
/// not read again, so they have no pending finding and only the cache can
/// answer for them (else they are skipped, saying why).
pub fn run(
    pending: &[Pending],
    keys: &[String],
    opts: &Options,
    cache: &mut Cache,
) -> Result<(BTreeMap<String, Verification>, Counts)> {
    let mut out: BTreeMap<String, Verification> = BTreeMap::new();
    let fresh: std::collections::HashSet<&str> = pending.iter().map(|p| p.key.as_str()).collect();
    for k in keys.iter().filter(|k| !fresh.contains(k.as_str())) {
        match cache.map.get(k) {
            Some(v) => {
                cache.hits += 1;
                out.insert(k.clone(), v.clone());
            }
            None => {
                out.insert(
                    k.clone(),
                    Verification {
                        status: Status::Skipped,
                        identity: BTreeMap::new(),
                        checked_at: None,
                        reason: Some(
                            "its repositories were reused from the state, not read again \
                             (the secret is not kept there); sweep without --state to verify it"
                                .into(),
                        ),
                    },
                );
            }
        }
    }
    let mut todo: Vec<&Pending> = Vec::new();
    for p in pending {
        match cache.map.get(&p.key) {
            Some(v) => {
                if !out.contains_key(&p.key) {
                    cache.hits += 1;
                }
                out.insert(p.key.clone(), v.clone());
            }
            None => todo.push(p),
        }
    }
    let items: Vec<Item<'_>> = todo
        .iter()
        .map(|p| Item {
            rule: &p.rule,
            secret: &p.secret,
            place: &p.path,
            commit: p.commit.as_deref(),
            line: p.line,
            near: p.near.as_deref(),
        })
        .collect();
    let pass = verify::verify(&items, opts, &mut std::io::stderr())?;
    for (p, r) in todo.iter().zip(pass.results) {
        let Some(v) = r else { continue };
        // One verdict per key: the most telling one (live before invalid ...).
        let better = out.get(&p.key).map_or(true, |cur| v.status < cur.status);
        if better {
            out.insert(p.key.clone(), v);
        }
    }
    for (k, v) in &out {
        if matches!(v.status, Status::Live | Status::Invalid) && v.checked_at.is_some() {
            cache.map.insert(k.clone(), v.clone());
        }
    }
    cache.save()?;
    Ok((out, pass.counts))
}

/// Whether verdict `b` replaces `a` for one secret: the one checked last
/// wins (a verdict never checked is the oldest); on a tie, the most telling
/// (live before invalid, unknown, skipped).
pub fn newer(a: &Verification, b: &Verification) -> bool {
    match b.checked_at.cmp(&a.checked_at) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => b.status < a.status,
    }
}
