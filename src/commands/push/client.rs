//! `leakscan pre-push`: the client's hook. git passes the remote's name and
//! URL as arguments and one `<local-ref> <local-id> <remote-ref> <remote-id>`
//! line per ref to push on standard input. The commits checked are those the
//! push would send that the remote does not have yet, as far as this
//! repository knows: reachable from a local id, from none of the remote ids
//! we have, and from none of `refs/remotes/<remote>/*`. The policy is the
//! work tree's (as for `leakscan history`), or `--baseline-from REV`.

use super::message::{self, Side};
use super::Request;
use crate::cli::PrePushArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::git::{Oid, Repo};
use crate::outcome;

/// One line of git's input.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub local_ref: String,
    pub local: Oid,
    pub remote_ref: String,
    pub remote: Oid,
}

pub fn parse_pushes(input: &str) -> Result<Vec<Push>> {
    let mut out = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let what = format!("pre-push input, line {}", n + 1);
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        let [local_ref, local, remote_ref, remote] = parts[..] else {
            return Err(Error::Usage(format!(
                "{what}: expected `<local-ref> <local-id> <remote-ref> <remote-id>`, got `{}`",
                message::escape(line.as_bytes())
            )));
        };
        out.push(Push {
            local_ref: local_ref.to_string(),
            local: super::parse_oid(local, &what)?,
            remote_ref: remote_ref.to_string(),
            remote: super::parse_oid(remote, &what)?,
        });
    }
    Ok(out)
}

/// The push as the pre-commit framework describes it (`PRE_COMMIT_TO_REF`:
/// the local commit; `PRE_COMMIT_FROM_REF`: what the remote has, or where
/// a new branch leaves known history), when it runs this as a pre-push hook.
fn from_pre_commit_env() -> Result<Option<Push>> {
    let Ok(to) = std::env::var("PRE_COMMIT_TO_REF") else {
        return Ok(None);
    };
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let from = var("PRE_COMMIT_FROM_REF");
    let local = super::parse_oid(to.trim(), "PRE_COMMIT_TO_REF")?;
    let remote = if from.trim().is_empty() {
        Oid::zero()
    } else {
        super::parse_oid(from.trim(), "PRE_COMMIT_FROM_REF")?
    };
    Ok(Some(Push {
        local_ref: var("PRE_COMMIT_LOCAL_BRANCH"),
        local,
        remote_ref: var("PRE_COMMIT_REMOTE_BRANCH"),
        remote,
    }))
}

pub fn run(args: PrePushArgs) -> Result<Exit> {
    let input = super::read_input(std::io::stdin().lock())?;
    let mut pushes = parse_pushes(&input)?;
    // The pre-commit framework reads git's input itself and hands its hooks
    // the push in environment variables instead: without them the hook
    // would see nothing to check and pass every push.
    if pushes.is_empty() {
        pushes.extend(from_pre_commit_env()?);
    }
    let remote_name = args
        .remote
        .clone()
        .or_else(|| std::env::var("PRE_COMMIT_REMOTE_NAME").ok());
    let repo = Repo::discover(args.repo.as_deref().unwrap_or(std::path::Path::new(".")))?;
    let tips: Vec<Oid> = pushes
        .iter()
        .filter(|p| !p.local.is_zero())
        .map(|p| p.local)
        .collect();
    if tips.is_empty() {
        return Ok(Exit::Clean);
    }
    // What the remote has: the ids it reported that we have too, and our
    // remote-tracking refs for it (only when the remote is a named one).
    let mut known: Vec<Oid> = pushes
        .iter()
        .filter(|p| !p.remote.is_zero() && repo.has(p.remote))
        .map(|p| p.remote)
        .collect();
    if let Some(name) = remote_name.as_deref().filter(|n| repo.has_remote(n)) {
        known.extend(super::ref_targets(
            &repo,
            Some(&format!("refs/remotes/{name}/")),
        )?);
    }
    let req = Request {
        git_dir: repo.git_dir.clone(),
        root: repo.root().to_path_buf(),
        tips,
        known,
        policy: args.policy.clone(),
    };
    // No time limit on the client: the pusher is watching and can interrupt.
    let checked = super::check(&req)?;
    outcome::print_problems(&checked.stats);
    if !checked.new.is_empty() {
        eprint!("{}", message::refused(&checked, Side::Client, false));
        return Ok(Exit::Findings);
    }
    if !checked.stats.errors.is_empty() {
        eprintln!(
            "leakscan: push stopped: some objects could not be read, so the push was not fully checked \
             (`git push --no-verify` skips this hook)"
        );
        return Ok(Exit::Error);
    }
    if let Some(why) = checked.unread() {
        eprintln!(
            "leakscan: push stopped: {why}, so the push was not fully checked \
             (`git push --no-verify` skips this hook)"
        );
        return Ok(Exit::Error);
    }
    if !args.policy.quiet {
        eprintln!(
            "leakscan: no new secrets in {} commit{} to push ({:.2} s)",
            checked.stats.commits,
            if checked.stats.commits == 1 { "" } else { "s" },
            checked.stats.elapsed.as_secs_f64()
        );
    }
    Ok(Exit::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_parse() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let p = parse_pushes(&format!("refs/heads/main {a} refs/heads/main {z}\n")).unwrap();
        assert_eq!(p[0].local_ref, "refs/heads/main");
        assert!(p[0].remote.is_zero());
        assert!(parse_pushes("refs/heads/main x\n").is_err());
    }
}
