//! The audit log of pushes accepted without the usual verdict: a bypass
//! (`git push -o leakscan.skip=REASON`) or a check that could not finish
//! under fail-open. One JSON object per event: who, when, which repository
//! and refs, why, and what the scan found (rule, commit, path, line; never
//! the secret, nor a hash of it).
//!
//! Destinations: a file, appended to with one `write` per record (records of
//! concurrent pushes do not interleave: the file is opened `O_APPEND`), or
//! syslog (`syslog` for `/dev/log`, `syslog:SOCKET` for another socket),
//! facility auth, one datagram per record.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::finding::Finding;

/// Findings listed in one record at most (the total is always given).
const MAX_FINDINGS: usize = 200;
/// A syslog datagram is kept under this size.
const MAX_DATAGRAM: usize = 8 << 10;

/// Where records go.
#[derive(Debug, Clone, PartialEq)]
pub enum Dest {
    File(PathBuf),
    Syslog(PathBuf),
}

impl Dest {
    /// Parses `--audit-log` / `leakscan.auditLog`; a relative file is taken
    /// from `base` (the git directory).
    pub fn parse(value: &str, base: &Path) -> Result<Dest> {
        let v = value.trim();
        if v.is_empty() {
            return Err(Error::Usage("the audit log destination is empty".into()));
        }
        if v == "syslog" {
            return Ok(Dest::Syslog(PathBuf::from("/dev/log")));
        }
        if let Some(sock) = v.strip_prefix("syslog:") {
            return Ok(Dest::Syslog(PathBuf::from(sock)));
        }
        let p = PathBuf::from(v);
        Ok(Dest::File(if p.is_absolute() { p } else { base.join(p) }))
    }
}

impl std::fmt::Display for Dest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dest::File(p) => write!(f, "{}", p.display()),
            Dest::Syslog(p) => write!(f, "syslog ({})", p.display()),
        }
    }
}

/// Who pushed: the first of the variables the common servers set.
pub fn pusher() -> (String, &'static str) {
    for var in [
        "GL_USERNAME",
        "GITEA_PUSHER_NAME",
        "REMOTE_USER",
        "USER",
        "LOGNAME",
    ] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            return (v, var);
        }
    }
    ("unknown".into(), "")
}

/// One record.
pub struct Event<'a> {
    /// `skip` or `fail-open`.
    pub kind: &'a str,
    pub repository: &'a Path,
    /// (ref, old, new).
    pub refs: &'a [(String, String, String)],
    pub reason: &'a str,
    /// What the scan found, if it finished.
    pub findings: Option<&'a [Finding]>,
    /// Why the push was not (fully) checked, if it was not.
    pub not_checked: Option<&'a str>,
}

/// The git identities (`Name <email>`, the author of each pushed branch
/// tip, read from the pushed objects) of a push: what git says about who
/// made the commits. Claimed by the pusher, not proven, so the record keeps
/// them beside the server's own account of the user.
fn git_identities(git_dir: &Path, refs: &[(String, String, String)]) -> Vec<String> {
    let Ok(reader) = crate::git::ObjectReader::open(git_dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for (_, _, new) in refs {
        let Ok(id) = crate::git::Oid::from_str(new) else {
            continue;
        };
        if id.is_zero() {
            continue;
        }
        if let Ok(m) = reader.commit_meta(id) {
            let who = format!("{} <{}>", m.author, m.email);
            if !out.contains(&who) {
                out.push(who);
            }
        }
    }
    out
}

impl Event<'_> {
    pub fn to_json(&self) -> Value {
        let (mut user, mut from) = pusher();
        // Read only when the check finished: a push the check could not
        // read in time (a blocking object store) must be logged, not wait.
        let identities = if self.findings.is_some() {
            git_identities(self.repository, self.refs)
        } else {
            Vec::new()
        };
        // No server variable names the user: the git identity is the best
        // account there is (it was "unknown").
        if from.is_empty() {
            if let Some(first) = identities.first() {
                user = first.clone();
                from = "git_identity";
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut v = json!({
            "time": crate::git::dates::rfc3339(now, 0),
            "event": self.kind,
            "user": user,
            "user_from": from,
            "repository": self.repository.display().to_string(),
            "refs": self.refs.iter().map(|(r, o, n)| json!({"ref": r, "old": o, "new": n})).collect::<Vec<_>>(),
            "reason": self.reason,
        });
        if !identities.is_empty() {
            v["git_identity"] = json!(identities);
        }
        for var in [
            "GL_ID",
            "GL_PROJECT_PATH",
            "GITEA_REPO_NAME",
            "SSH_CONNECTION",
            "REMOTE_ADDR",
        ] {
            if let Ok(val) = std::env::var(var) {
                v[var.to_ascii_lowercase()] = Value::String(val);
            }
        }
        if let Some(fs) = self.findings {
            let redactor = crate::finding::Redactor::new(fs.iter().map(|f| &f.secret));
            v["findings_total"] = json!(fs.len());
            v["findings"] = fs
                .iter()
                .take(MAX_FINDINGS)
                .map(|f| {
                    json!({
                        "rule": f.rule,
                        "commit": f.commit.as_ref().map(|c| c.id.clone()),
                        "path": String::from_utf8_lossy(&redactor.bytes(&f.location().0)),
                        "line": f.line,
                    })
                })
                .collect();
        }
        if let Some(n) = self.not_checked {
            v["not_checked"] = Value::String(n.to_string());
        }
        v
    }
}

/// Appends `event` to `dest`.
pub fn write(dest: &Dest, event: &Event<'_>) -> Result<()> {
    let v = event.to_json();
    match dest {
        Dest::File(path) => {
            let mut line = serde_json::to_vec(&v).expect("JSON values serialize");
            line.push(b'\n');
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            f.write_all(&line).map_err(|e| Error::io(path, e))
        }
        Dest::Syslog(sock) => syslog(sock, v),
    }
}

#[cfg(unix)]
fn syslog(sock: &Path, mut v: Value) -> Result<()> {
    use std::os::unix::net::UnixDatagram;
    let mut body = serde_json::to_string(&v).expect("JSON values serialize");
    if body.len() > MAX_DATAGRAM {
        // Keep the record whole and parseable: drop the list, keep the count.
        v["findings"] = json!([]);
        v["findings_truncated"] = json!(true);
        body = serde_json::to_string(&v).expect("JSON values serialize");
    }
    // <PRI>: facility auth (4), severity notice (5).
    let msg = format!("<37>leakscan[{}]: {body}", std::process::id());
    let s = UnixDatagram::unbound().map_err(|e| Error::io(sock, e))?;
    s.send_to(msg.as_bytes(), sock)
        .map(|_| ())
        .map_err(|e| Error::io(sock, e))
}

#[cfg(not(unix))]
fn syslog(sock: &Path, _v: Value) -> Result<()> {
    Err(Error::Usage(format!(
        "{}: syslog is available on Unix only",
        sock.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse() {
        let base = Path::new("/srv/repo.git");
        assert_eq!(
            Dest::parse("syslog", base).unwrap(),
            Dest::Syslog("/dev/log".into())
        );
        assert_eq!(
            Dest::parse("syslog:/run/log.sock", base).unwrap(),
            Dest::Syslog("/run/log.sock".into())
        );
        assert_eq!(
            Dest::parse("audit.jsonl", base).unwrap(),
            Dest::File("/srv/repo.git/audit.jsonl".into())
        );
        assert_eq!(
            Dest::parse("/var/log/a.jsonl", base).unwrap(),
            Dest::File("/var/log/a.jsonl".into())
        );
        assert!(Dest::parse("  ", base).is_err());
    }
}
