//! Partial clones (`git clone --filter=blob:none`): objects a promisor
//! remote (`remote.<name>.promisor`, `extensions.partialClone`) holds but
//! this repository does not. Git fetches them lazily, one request each, when
//! a command needs them; a scanner reading objects itself meets them as
//! "object not found". So a run over a partial clone first lists what it
//! will miss (`git rev-list --objects --missing=print`, which never fetches)
//! and either says so, with the fix, or (`--fetch-missing`) asks git to
//! fetch exactly those objects in one request, as git's own lazy fetch
//! does (`git fetch <remote> --stdin` of ids, blobs filtered as the clone
//! was). The only `git` subprocesses of the crate, and never on the staged
//! (pre-commit) path, whose blobs are in the index.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The ids of objects reachable from `revs` (arguments as `git rev-list`
/// takes them: `--all`, `A..B`, ids) that the repository does not hold.
pub fn missing(git_dir: &Path, revs: &[OsString]) -> Result<Vec<String>, String> {
    let out = git(git_dir)
        .args(["rev-list", "--objects", "--missing=print"])
        .args(revs)
        .arg("--")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git to list missing objects: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git rev-list --missing=print failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix('?'))
        .map(str::to_string)
        .collect())
}

/// Asks `remote` for exactly `ids`, in one fetch.
pub fn fetch(git_dir: &Path, remote: &str, ids: &[String]) -> Result<(), String> {
    let mut child = git(git_dir)
        .args(["-c", "fetch.negotiationAlgorithm=noop", "fetch", remote])
        .args([
            "--no-tags",
            "--no-write-fetch-head",
            "--recurse-submodules=no",
            "--filter=blob:none",
            "--stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git fetch: {e}"))?;
    let mut list = String::with_capacity(ids.len() * 65);
    for id in ids {
        list.push_str(id);
        list.push('\n');
    }
    let wrote = child
        .stdin
        .take()
        .expect("piped")
        .write_all(list.as_bytes());
    let out = child
        .wait_with_output()
        .map_err(|e| format!("git fetch: {e}"))?;
    if !out.status.success() || wrote.is_err() {
        return Err(format!(
            "git fetch {remote} of {} missing object{} failed: {}",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// What to tell the user when `n` objects are missing.
pub fn advice(n: usize, remote: &str) -> String {
    format!(
        "partial clone: {n} object{s} of the scanned history {are} not present locally (the clone \
         was made with a filter; remote `{remote}` promises them), so {they} could not be scanned. \
         Pass --fetch-missing to fetch exactly {these} in one request before scanning, or fetch \
         everything with `git fetch --refetch {remote}` (or clone without --filter)",
        s = if n == 1 { "" } else { "s" },
        are = if n == 1 { "is" } else { "are" },
        they = if n == 1 { "it" } else { "they" },
        these = if n == 1 { "it" } else { "these" },
    )
}

/// `git` for the repository at `git_dir`, with a clean environment for
/// what it must not inherit from a hook (`GIT_INDEX_FILE`, ...).
fn git(git_dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .arg("--git-dir")
        .arg(git_dir);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::test_git::run;

    #[test]
    fn lists_then_fetches_exactly_the_missing_blobs() {
        for format in ["sha1", "sha256"] {
            let tmp = tempfile::tempdir().unwrap();
            let server = tmp.path().join("server");
            std::fs::create_dir(&server).unwrap();
            run(
                &server,
                &["init", "-q", &format!("--object-format={format}")],
            );
            for i in 0..3 {
                std::fs::write(server.join("a"), format!("v{i}\n")).unwrap();
                std::fs::write(server.join("b"), format!("w{i}\n")).unwrap();
                run(&server, &["add", "-A"]);
                run(&server, &["commit", "-q", "-m", "c"]);
            }
            run(&server, &["config", "uploadpack.allowFilter", "true"]);
            run(
                &server,
                &["config", "uploadpack.allowAnySHA1InWant", "true"],
            );
            let url = format!("file://{}", server.display());
            run(
                tmp.path(),
                &["clone", "-q", "--filter=blob:none", &url, "clone"],
            );
            let git_dir = tmp.path().join("clone/.git");
            let all = [OsString::from("--all")];
            let gone = missing(&git_dir, &all).unwrap();
            // Two files, three versions, the last checked out.
            assert_eq!(gone.len(), 4, "{format}: {gone:?}");
            assert_eq!(gone[0].len(), if format == "sha1" { 40 } else { 64 });
            let head_only = [OsString::from("HEAD~1..HEAD")];
            assert!(missing(&git_dir, &head_only).unwrap().is_empty());
            fetch(&git_dir, "origin", &gone[..1]).unwrap();
            assert_eq!(missing(&git_dir, &all).unwrap().len(), 3, "{format}");
            let e = fetch(&git_dir, "nowhere", &gone[1..]).unwrap_err();
            assert!(e.contains("3 missing objects"), "{e}");
            fetch(&git_dir, "origin", &gone[1..]).unwrap();
            assert!(missing(&git_dir, &all).unwrap().is_empty(), "{format}");
        }
        assert!(advice(1234, "origin").contains("1234 objects"));
    }
}
