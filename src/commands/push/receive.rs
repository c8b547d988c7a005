//! `leakscan pre-receive`: the server's hook. Reads git's
//! `<old-id> <new-id> <ref>` lines, checks every commit the push adds to
//! the repository (reachable from a new tip, from no existing ref) and
//! refuses the whole push (exit non-zero) when one adds a secret.
//!
//! - Objects: git keeps the pushed objects in a quarantine directory until
//!   the hook accepts; `objdirs` makes both object readers see it.
//! - Policy: rules, allowlist and baseline come from the default branch as
//!   it is before the push (`--baseline-from`, default HEAD), or from the
//!   server's own files; never from the pushed commits.
//! - Bypass: `git push -o leakscan.skip=REASON`, honoured only when the
//!   server allows it (`leakscan.allowSkip`) and logged (`audit`).
//! - Cost: `--timeout` (default 120 s); when the check cannot finish the
//!   push is refused, unless fail-open is configured (then said loudly).

use std::path::PathBuf;
use std::time::Duration;

use super::audit::{self, Dest, Event};
use super::message::{self, escape, Side};
use super::{Outcome, Request};
use crate::cli::PreReceiveArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::git::objdirs;
use crate::git::{Oid, Repo};
use crate::outcome;

/// Default `--timeout`: an initial push of a large history (the Linux
/// kernel's size) needs minutes; an everyday push, well under a second.
pub const DEFAULT_TIMEOUT_SECS: u64 = 120;

/// The push option that asks for a bypass.
const SKIP_OPTION: &str = "leakscan.skip";

/// One line of git's input.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub old: Oid,
    pub new: Oid,
    pub name: String,
}

/// Parses git's `<old> <new> <ref>` lines.
pub fn parse_updates(input: &str) -> Result<Vec<Update>> {
    let mut out = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let what = format!("pre-receive input, line {}", n + 1);
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::Usage(format!(
                "{what}: expected `<old-id> <new-id> <ref>`, got `{}`",
                escape(line.as_bytes())
            )));
        };
        out.push(Update {
            old: super::parse_oid(old, &what)?,
            new: super::parse_oid(new, &what)?,
            name: name.to_string(),
        });
    }
    Ok(out)
}

/// The push options git passes (`GIT_PUSH_OPTION_COUNT`, `GIT_PUSH_OPTION_<n>`).
fn push_options() -> Vec<String> {
    let n: usize = std::env::var("GIT_PUSH_OPTION_COUNT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (0..n.min(10_000))
        .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
        .collect()
}

/// What the push options ask of us: `None` (no bypass asked), or the reason
/// given (possibly empty).
fn skip_request(options: &[String]) -> Option<String> {
    options.iter().rev().find_map(|o| {
        if o == SKIP_OPTION {
            Some(String::new())
        } else {
            o.strip_prefix(SKIP_OPTION)
                .and_then(|r| r.strip_prefix('='))
                .map(|r| r.trim().to_string())
        }
    })
}

/// The server's settings: flags first, then git config (`leakscan.*`).
struct Server {
    timeout: Duration,
    fail_open: bool,
    allow_skip: bool,
    audit: Option<Dest>,
}

impl Server {
    fn load(args: &PreReceiveArgs, repo: &Repo) -> Result<Server> {
        let get_bool = |key: &str| -> Result<bool> { Ok(repo.config_bool(key)?.unwrap_or(false)) };
        let timeout = match args.timeout {
            Some(t) => t,
            None => match repo.config_i64("leakscan.timeout")? {
                Some(t) if t > 0 => t as u64,
                Some(t) => {
                    return Err(Error::Usage(format!(
                        "git config leakscan.timeout = {t}: must be a positive number of seconds"
                    )))
                }
                None => DEFAULT_TIMEOUT_SECS,
            },
        };
        if timeout == 0 {
            return Err(Error::Usage(
                "--timeout must be a positive number of seconds".into(),
            ));
        }
        let audit = match &args.audit_log {
            Some(v) => Some(v.clone()),
            None => repo.config_string("leakscan.auditLog")?,
        };
        Ok(Server {
            timeout: Duration::from_secs(timeout),
            fail_open: args.fail_open || get_bool("leakscan.failOpen")?,
            allow_skip: args.allow_skip || get_bool("leakscan.allowSkip")?,
            audit: audit.map(|v| Dest::parse(&v, &repo.git_dir)).transpose()?,
        })
    }
}

/// The repository the hook runs for: `--repo`, else `$GIT_DIR` (git sets
/// it to `.` for hooks), else the current directory.
fn locate(args: &PreReceiveArgs) -> Result<Repo> {
    let dir = match (&args.repo, std::env::var_os("GIT_DIR")) {
        (Some(p), _) => p.clone(),
        (None, Some(d)) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from("."),
    };
    let mut repo = Repo::discover(&dir)?;
    repo.git_dir = repo.git_dir.canonicalize().unwrap_or(repo.git_dir.clone());
    Ok(repo)
}

/// The default branch before the push: the commit HEAD leads to, if any.
fn default_branch(repo: &Repo) -> Option<(String, Oid)> {
    let head = repo.reference("HEAD")?;
    let name = head
        .symbolic
        .as_deref()
        .and_then(|t| std::str::from_utf8(t).ok())
        .map(str::to_string)
        .unwrap_or_else(|| "HEAD".into());
    Some((name, head.resolved?))
}

pub fn run(args: PreReceiveArgs) -> Result<Exit> {
    let started = std::time::Instant::now();
    super::verified::validate(&args.policy)?;
    let input = super::read_input(std::io::stdin().lock())?;
    let updates = parse_updates(&input)?;
    let repo = locate(&args)?;
    let server = Server::load(&args, &repo)?;
    objdirs::set(objdirs::from_env(&repo.git_dir));
    let refs: Vec<(String, String, String)> = updates
        .iter()
        .map(|u| (u.name.clone(), u.old.to_string(), u.new.to_string()))
        .collect();
    let tips: Vec<Oid> = updates
        .iter()
        .filter(|u| !u.new.is_zero())
        .map(|u| u.new)
        .collect();
    if tips.is_empty() {
        // Deletions only: nothing is added.
        return Ok(Exit::Clean);
    }

    let skip = skip_request(&push_options());
    let mut skip_reason = None;
    if let Some(reason) = skip {
        if !server.allow_skip {
            eprintln!(
                "leakscan: the push option {SKIP_OPTION} is not enabled on this server; the push is checked as usual"
            );
        } else if reason.is_empty() {
            eprintln!(
                "leakscan: push refused: {SKIP_OPTION} needs a reason: git push -o {SKIP_OPTION}=\"why this is safe\""
            );
            return Ok(Exit::Error);
        } else if server.audit.is_none() {
            eprintln!(
                "leakscan: push refused: bypasses are allowed here (leakscan.allowSkip) but no audit log is \
                 configured (git config leakscan.auditLog, or --audit-log), and a bypass must be logged; \
                 ask the server's administrator"
            );
            return Ok(Exit::Error);
        } else {
            skip_reason = Some(reason);
        }
    }

    let mut policy = args.policy.clone();
    let mut policy_note = None;
    if policy.baseline_from.is_none()
        && !(policy.no_baseline && (policy.no_config || policy.rules.config.is_some()))
    {
        match default_branch(&repo) {
            Some((name, oid)) => {
                policy.baseline_from = Some(oid.to_string());
                policy.baseline_from_default = true;
                policy_note = Some(format!(
                    "policy: .leakscan.toml and baseline from {} at {}",
                    escape(name.as_bytes()),
                    &oid.to_string()[..12]
                ));
            }
            None => {
                // An empty repository: there is nothing trusted to read.
                policy.no_baseline = true;
                if policy.rules.config.is_none() {
                    policy.no_config = true;
                }
                policy_note = Some(
                    "policy: the default branch has no commits yet, so no baseline or .leakscan.toml applies"
                        .into(),
                );
            }
        }
    }
    let known = super::ref_targets(&repo, None)?;
    let req = Request {
        git_dir: repo.git_dir.clone(),
        root: repo.root().to_path_buf(),
        tips,
        known,
        policy,
    };
    let outcome = super::check_within(req, server.timeout);

    let not_checked: Option<String> = match &outcome {
        Outcome::TimedOut(t) => Some(format!(
            "the check did not finish within {} s (--timeout / leakscan.timeout)",
            t.as_secs()
        )),
        Outcome::Done(r) => match &**r {
            Err(e) => Some(format!("the check failed: {e}")),
            Ok(c) if !c.stats.errors.is_empty() => Some(format!(
                "{} could not be read: {}",
                if c.stats.errors.len() == 1 {
                    "an object"
                } else {
                    "some objects"
                },
                c.stats
                    .errors
                    .first()
                    .map(|e| e.msg.as_str())
                    .unwrap_or_default()
            )),
            Ok(c) => c.unread(),
        },
    };
    let mut checked = match outcome {
        Outcome::Done(r) => (*r).ok(),
        Outcome::TimedOut(_) => None,
    };
    if let Some(c) = checked.as_mut() {
        c.policy_note = policy_note;
    }

    if let (Some(reason), Some(dest)) = (&skip_reason, &server.audit) {
        let event = Event {
            kind: "skip",
            repository: &repo.git_dir,
            refs: &refs,
            reason,
            findings: checked.as_ref().map(|c| c.new.as_slice()),
            not_checked: not_checked.as_deref(),
        };
        if let Err(e) = audit::write(dest, &event) {
            eprintln!(
                "leakscan: push refused: {SKIP_OPTION} was given, but the bypass could not be logged ({e})"
            );
            return Ok(Exit::Error);
        }
        let found = checked.as_ref().map_or(0, |c| c.new.len());
        if let Some(c) = checked.as_ref().filter(|c| !c.new.is_empty()) {
            eprint!(
                "leakscan: these secrets were NOT blocked:{}",
                message::findings(&c.new)
            );
        }
        eprintln!(
            "leakscan: push protection SKIPPED ({SKIP_OPTION}, reason: \"{}\"); {}; this bypass is logged to {}",
            escape(reason.as_bytes()),
            match &not_checked {
                Some(n) => format!("not fully checked: {}", escape(n.as_bytes())),
                None => format!("{found} new secret{} let through", if found == 1 { "" } else { "s" }),
            },
            dest
        );
        return Ok(Exit::Clean);
    }

    // --verify: only what would refuse the push, within what is left of the time limit.
    if let Some(c) = checked.as_mut().filter(|c| !c.new.is_empty()) {
        let remaining = server.timeout.saturating_sub(started.elapsed());
        super::verified::annotate(c, &args.policy, remaining)?;
        eprint!("{}", message::let_through(c));
    }
    if let Some(c) = checked.as_ref().filter(|c| !c.new.is_empty()) {
        outcome::print_problems(&c.stats);
        eprint!("{}", message::refused(c, Side::Server, server.allow_skip));
        return Ok(Exit::Findings);
    }

    if let Some(why) = not_checked {
        if let Some(c) = checked.as_ref() {
            outcome::print_problems(&c.stats);
        }
        if server.fail_open {
            eprintln!("leakscan: WARNING: ******************************************************");
            eprintln!(
                "leakscan: WARNING: this push was NOT checked for secrets: {}",
                escape(why.as_bytes())
            );
            eprintln!(
                "leakscan: WARNING: it is accepted only because this server is configured to fail open \
                 (leakscan.failOpen / --fail-open)"
            );
            eprintln!("leakscan: WARNING: ******************************************************");
            if let Some(dest) = &server.audit {
                let event = Event {
                    kind: "fail-open",
                    repository: &repo.git_dir,
                    refs: &refs,
                    reason: "",
                    findings: None,
                    not_checked: Some(&why),
                };
                if let Err(e) = audit::write(dest, &event) {
                    eprintln!("leakscan: WARNING: and it could not be logged: {e}");
                }
            }
            return Ok(Exit::Clean);
        }
        eprintln!(
            "leakscan: push refused: it could not be checked for secrets: {}",
            escape(why.as_bytes())
        );
        eprintln!(
            "leakscan: try again; if this persists, tell the server's administrator (the check fails closed)"
        );
        return Ok(Exit::Error);
    }

    if let Some(c) = checked.as_ref() {
        outcome::print_problems(&c.stats);
        if !args.policy.quiet {
            let suppressed: u64 = c.suppressed.values().sum::<u64>() + c.already_there;
            eprintln!(
                "leakscan: no new secrets in {} new commit{} ({} blobs, {:.1} MB, {:.2} s{})",
                c.stats.commits,
                if c.stats.commits == 1 { "" } else { "s" },
                c.stats.scanned,
                c.stats.bytes as f64 / 1e6,
                c.stats.elapsed.as_secs_f64(),
                if suppressed > 0 {
                    format!("; {suppressed} known findings: already there before the push, or accepted by policy")
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(Exit::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_parse_and_bad_lines_are_named() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let u = parse_updates(&format!(
            "{z} {a} refs/heads/main\n\n{a} {z} refs/tags/v1\n"
        ))
        .unwrap();
        assert_eq!(u.len(), 2);
        assert!(u[0].old.is_zero());
        assert_eq!(u[1].name, "refs/tags/v1");
        let e = parse_updates(&format!("{z} {a} refs/heads/x\nnonsense\n")).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        // A SHA-256 repository's ids: 64 digits, its "no object" too.
        let u = parse_updates(&format!(
            "{} {} refs/heads/x\n",
            "0".repeat(64),
            "b".repeat(64)
        ))
        .unwrap();
        assert!(u[0].old.is_zero() && u[0].new.to_string() == "b".repeat(64));
        let e = parse_updates(&format!("{z} zz\x1b[1m refs/heads/x\n")).unwrap_err();
        assert!(e.to_string().contains("\\x1b"), "{e}");
    }

    #[test]
    fn skip_option_needs_the_exact_name() {
        let o = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(skip_request(&o(&["ci.skip"])), None);
        assert_eq!(
            skip_request(&o(&["leakscan.skip=test key"])),
            Some("test key".into())
        );
        assert_eq!(skip_request(&o(&["leakscan.skip"])), Some(String::new()));
        assert_eq!(skip_request(&o(&["leakscan.skipper=x"])), None);
    }
}
