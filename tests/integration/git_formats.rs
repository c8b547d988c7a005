//! Git 3.0's repository formats, on repositories made by the real `git`:
//! SHA-256 object ids (`--object-format=sha256`), reftable refs
//! (`--ref-format=reftable`), partial clones, and extensions leakscan does
//! not know (which must fail closed, naming the extension and the version).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{leakscan, run, TempDir};

/// One repository made by `git` in a temporary directory, with fixed
/// identity and dates so runs are reproducible.
pub struct GitRepo {
    pub dir: TempDir,
}

impl GitRepo {
    /// `git init` with these extra arguments (e.g. `--object-format=sha256`).
    pub fn init(args: &[&str]) -> GitRepo {
        let dir = tempfile::Builder::new()
            .prefix("leakscan-fmt")
            .tempdir()
            .unwrap();
        let repo = GitRepo { dir };
        let mut a = vec!["init", "-q", "-b", "main"];
        a.extend_from_slice(args);
        repo.git(&a);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs git here; panics (showing its output) unless it succeeds.
    pub fn git(&self, args: &[&str]) -> String {
        let out = git_in(self.path(), args);
        String::from_utf8(out).unwrap()
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// `git add -A && git commit`: the new commit's id.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

/// `git -C dir args…` with a fixed identity and date.
pub fn git_in(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("git")
        .env("GIT_AUTHOR_NAME", "Ada Tester")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Tester")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "1704067200 +0000")
        .env("GIT_COMMITTER_DATE", "1704067200 +0000")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn unknown_extensions_fail_closed_naming_the_extension_and_version() {
    let repo = GitRepo::init(&[]);
    repo.write("a.txt", "hello\n");
    repo.commit("one");
    repo.git(&["config", "core.repositoryFormatVersion", "1"]);
    repo.git(&["config", "extensions.submarine", "yes"]);
    for args in [&["staged"][..], &["history", "--all"]] {
        let r = run(leakscan().args(args).current_dir(repo.path())).expect(2);
        assert!(r.stderr.contains("extensions.submarine"), "{}", r.stderr);
        assert!(r.stderr.contains(env!("CARGO_PKG_VERSION")), "{}", r.stderr);
    }
    // Git itself refuses the repository now: edit its config by hand.
    let config = repo.join(".git/config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("Version = 1", "Version = 2")).unwrap();
    let r = run(leakscan().args(["staged"]).current_dir(repo.path())).expect(2);
    assert!(
        r.stderr.contains("format version 2"),
        "{}\n{}",
        r.stderr,
        std::fs::read_to_string(&config).unwrap()
    );
}
