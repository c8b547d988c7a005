//! The peeled ids git records in `packed-refs`: after an annotated tag's
//! line, `^<id>` names the object the tag finally points to. The
//! pre-receive hook peels every existing ref (~1,000 on a large server);
//! reading each tag object to do so cost a third of a one-commit push's
//! check. Tags are immutable, so a recorded peel is valid for as long as
//! the tag object exists. Anything unreadable here is simply not used (the
//! caller reads the tag instead).

use std::path::Path;

use super::oid::ObjectId as Oid;

use super::OidMap;

/// Tag object id → the id it peels to, from `GIT_DIR/packed-refs`. Empty if
/// the file is missing, unreadable or larger than 256 MiB.
pub fn peeled(git_dir: &Path) -> OidMap<Oid> {
    let mut out = OidMap::default();
    let path = git_dir.join("packed-refs");
    let too_big = std::fs::metadata(&path).map_or(true, |m| m.len() > 256 << 20);
    if too_big {
        return out;
    }
    let Ok(text) = std::fs::read(&path) else {
        return out;
    };
    let mut last: Option<Oid> = None;
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(rest) = line.strip_prefix(b"^") {
            if let (Some(tag), Some(target)) = (last.take(), parse_oid(rest)) {
                out.insert(tag, target);
            }
        } else {
            // `<id> <refname>`; comments (`# pack-refs with: ...`) parse as nothing.
            last = line
                .iter()
                .position(|&b| b == b' ')
                .and_then(|sp| parse_oid(&line[..sp]));
        }
    }
    out
}

fn parse_oid(hex: &[u8]) -> Option<Oid> {
    Oid::from_hex(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peels_annotated_tags_as_git_does() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@e", "-C"])
                .arg(dir.path())
                .args(args)
                .status()
                .unwrap()
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        std::fs::write(dir.path().join("f"), "x").unwrap();
        git(&["add", "f"]);
        git(&["commit", "-q", "-m", "one"]);
        git(&["tag", "-a", "-m", "t", "v1"]);
        git(&["tag", "-a", "-m", "t of t", "v1-again", "v1"]);
        git(&["tag", "light"]);
        git(&["pack-refs", "--all"]);
        let repo = git2::Repository::open(dir.path()).unwrap();
        let map = peeled(repo.path());
        let head = Oid::from(repo.head().unwrap().target().unwrap());
        for name in ["refs/tags/v1", "refs/tags/v1-again"] {
            let tag = Oid::from(repo.refname_to_id(name).unwrap());
            assert_eq!(map.get(&tag), Some(&head), "{name}");
        }
        // Lightweight tags and branches need no peeling: not listed.
        assert_eq!(map.len(), 2);
        assert!(peeled(&dir.path().join("nowhere")).is_empty());
    }
}
