//! `--verify` in the push hooks (off by default). Only the findings that
//! would refuse the push are checked (accepted ones, and bypassed pushes,
//! send nothing); the pass runs under a hard deadline (`--verify-deadline`,
//! cut to what remains of the hook's time), unanswered ones being unknown.
//! The verdicts annotate the pusher's message; with `--fail-on live` the
//! findings the provider calls invalid are let through, and every other
//! verdict (live, unknown, skipped, no verifier) still refuses the push.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cli::PushPolicyArgs;
use crate::error::{Error, Result};
use crate::verify::{self, OwnedItem, Status, Verification};

use super::Checked;

/// Refuses flags that mean nothing in a hook, before any work is done.
pub fn validate(policy: &PushPolicyArgs) -> Result<()> {
    if policy.verify.only_live {
        return Err(Error::Usage(
            "--only-live has no meaning in a push hook (use --fail-on live)".into(),
        ));
    }
    Ok(())
}

/// Verifies `c.new` (when `--verify` was given), fills `c.verdicts`, and
/// with `--fail-on live` moves the invalid ones to `c.let_through`.
/// `remaining`: what is left of the hook's time limit.
pub fn annotate(c: &mut Checked, policy: &PushPolicyArgs, remaining: Duration) -> Result<()> {
    let v = crate::settings::verifying(&policy.verify);
    let Some(opts) = v.options else {
        return Ok(());
    };
    if c.new.is_empty() {
        return Ok(());
    }
    let limit = Duration::from_secs(policy.verify_deadline).min(remaining);
    let mut verdicts: Vec<Option<Verification>> = Vec::with_capacity(c.new.len());
    let mut todo = Vec::new();
    for (i, f) in c.new.iter().enumerate() {
        // What the secret proves by itself saves a request.
        let (_, offline) = verify::offline_verdict(&f.rule, f.secret.expose());
        if offline.is_none() {
            todo.push(i);
        }
        verdicts.push(offline);
    }
    let items: Vec<OwnedItem> = todo
        .iter()
        .map(|&i| {
            let f = &c.new[i];
            OwnedItem {
                rule: f.rule.clone(),
                secret: f.secret.expose().to_vec(),
                place: f.path.0.clone(),
                commit: f.commit.as_ref().map(|c| c.id.clone()),
                line: f.line,
                near: f.near.as_deref().map(|n| n.expose().to_vec()),
            }
        })
        .collect();
    let verifying: Vec<bool> = {
        let specs = verify::spec::builtin()?;
        items
            .iter()
            .map(|it| specs.iter().any(|s| s.rule == it.rule))
            .collect()
    };
    match verify::verify_within(items, &opts, limit)? {
        Some(pass) => {
            for (&i, r) in todo.iter().zip(pass.results) {
                verdicts[i] = r;
            }
        }
        None => {
            for (&i, has) in todo.iter().zip(verifying) {
                if has {
                    verdicts[i] = Some(Verification {
                        status: Status::Unknown,
                        identity: BTreeMap::new(),
                        checked_at: None,
                        reason: Some(format!(
                            "not answered within the verification deadline ({} s)",
                            limit.as_secs()
                        )),
                    });
                }
            }
        }
    }
    if v.fail_on_live {
        let new = std::mem::take(&mut c.new);
        for (f, v) in new.into_iter().zip(verdicts) {
            if v.as_ref().map(|v| v.status) == Some(Status::Invalid) {
                c.let_through.push(f);
                c.let_through_verdicts.push(v);
            } else {
                c.new.push(f);
                c.verdicts.push(v);
            }
        }
    } else {
        c.verdicts = verdicts;
    }
    Ok(())
}
