//! The verification step of `outcome::finish`: offline evidence on every
//! judged finding, then (`--verify`) one pass over the new ones, and the
//! summary line ("3 of 9 secrets are live — rotate these now: …").

use std::collections::{BTreeSet, HashSet};

use crate::error::Result;
use crate::report::Judged;
use crate::settings::Verifying;
use crate::verify::{self, Counts, Item, Status};

pub fn is_live(j: &Judged) -> bool {
    j.verification.as_ref().map(|v| v.status) == Some(Status::Live)
}

/// Adds evidence (always) and verification (`--verify`); returns what the
/// pass sent, if one ran.
pub fn annotate(judged: &mut [Judged], v: &Verifying) -> Result<Option<Counts>> {
    for j in judged.iter_mut() {
        let (e, verdict) = verify::offline_verdict(&j.finding.rule, j.finding.secret.expose());
        j.evidence = e.facts;
        j.verification = verdict;
    }
    let Some(opts) = &v.options else {
        return Ok(None);
    };
    // Suppressed findings are never sent; an offline verdict saves a request.
    let todo: Vec<usize> = (0..judged.len())
        .filter(|&i| judged[i].suppressed.is_none() && judged[i].verification.is_none())
        .collect();
    let items: Vec<Item<'_>> = todo
        .iter()
        .map(|&i| {
            let f = &judged[i].finding;
            Item {
                rule: &f.rule,
                secret: f.secret.expose(),
                place: &f.path.0,
                commit: f.commit.as_ref().map(|c| c.id.as_str()),
                line: f.line,
                near: f.near.as_deref().map(|n| n.expose()),
            }
        })
        .collect();
    let pass = verify::verify(&items, opts, &mut std::io::stderr())?;
    drop(items);
    for (i, r) in todo.into_iter().zip(pass.results) {
        if r.is_some() {
            judged[i].verification = r;
        }
    }
    Ok(Some(pass.counts))
}

/// One line: how many distinct secrets are live, which, and the rest.
pub fn summary(judged: &[Judged], counts: &Counts) -> String {
    let mut seen: HashSet<(&str, &[u8])> = HashSet::new();
    let mut by: [usize; 4] = [0; 4];
    let mut rotate: BTreeSet<String> = BTreeSet::new();
    for j in judged.iter().filter(|j| j.suppressed.is_none()) {
        let Some(v) = &j.verification else { continue };
        let f = &j.finding;
        if !seen.insert((f.rule.as_str(), f.secret.expose())) {
            continue;
        }
        by[v.status as usize] += 1;
        if v.status == Status::Live {
            rotate.insert(format!("{} at {}:{}", f.rule, f.path.escaped(), f.line));
        }
    }
    let total: usize = by.iter().sum();
    let mut line = format!(
        "leakscan: verification: {} of {} {} live",
        by[0],
        total,
        if total == 1 {
            "secret is"
        } else {
            "secrets are"
        }
    );
    if !rotate.is_empty() {
        const SHOWN: usize = 10;
        let n = rotate.len();
        line.push_str(" — rotate these now: ");
        line.push_str(
            &rotate
                .into_iter()
                .take(SHOWN)
                .collect::<Vec<_>>()
                .join(", "),
        );
        if n > SHOWN {
            line.push_str(&format!(" and {} more (see the report)", n - SHOWN));
        }
    }
    line.push_str(&format!(
        "; {} invalid, {} unknown, {} skipped ({} {} sent)",
        by[1],
        by[2],
        by[3],
        counts.requests,
        if counts.requests == 1 {
            "request"
        } else {
            "requests"
        }
    ));
    line
}
