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

/// The four combinations Git 2.45+ can create; Git 3.0's default is the last.
pub const FORMATS: [(&str, &str); 4] = [
    ("sha1", "files"),
    ("sha1", "reftable"),
    ("sha256", "files"),
    ("sha256", "reftable"),
];

fn init_format(objects: &str, refs: &str) -> GitRepo {
    let repo = GitRepo::init(&[
        &format!("--object-format={objects}"),
        &format!("--ref-format={refs}"),
    ]);
    assert_eq!(
        repo.git(&["rev-parse", "--show-object-format"]).trim(),
        objects
    );
    repo
}

/// `leakscan staged --format json` in `repo`, which must find something
/// (exit 1): the run and its findings' (path, line), sorted.
fn staged_findings(repo: &GitRepo) -> (crate::util::Run, Vec<(String, u64)>) {
    let r = run(leakscan()
        .args(["staged", "--format", "json"])
        .current_dir(repo.path()))
    .expect(1);
    let mut found: Vec<(String, u64)> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    (r, found)
}

/// `PATH` with the binary under test first, so a hook finds it.
fn path_with_leakscan() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_leakscan"))
        .parent()
        .unwrap()
        .to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&rest))).unwrap()
}

/// The pre-commit check in every format: a secret the change adds is
/// found on its line (a renamed file's old secret and HEAD's lines are not
/// new), a clean change passes, and the installed hook blocks a real
/// `git commit` with the secret and lets the clean one through.
#[test]
fn staged_in_every_format() {
    for (objects, refs) in FORMATS {
        let what = format!("{objects}/{refs}");
        let repo = init_format(objects, refs);
        let old = crate::util::fake::aws_key_id(1);
        repo.write("src/deep/old.txt", format!("key = {old}\n"));
        repo.write("src/a.txt", "hello\n");
        repo.write("README", "readme\n");
        repo.commit("one");
        // A rename of a file holding a committed secret, and a new secret
        // added to another file in the same directory.
        repo.git(&["mv", "src/deep/old.txt", "src/deep/new.txt"]);
        let new = crate::util::fake::aws_key_id(2);
        repo.write("src/a.txt", format!("hello\nkey = {new}\n"));
        repo.git(&["add", "-A"]);
        let (r, found) = staged_findings(&repo);
        assert_eq!(
            found,
            vec![("src/a.txt".to_string(), 2)],
            "{what}: {}",
            r.stderr
        );
        // A clean change passes.
        repo.write("src/a.txt", "hello\nworld\n");
        repo.git(&["add", "-A"]);
        run(leakscan().args(["staged"]).current_dir(repo.path())).expect(0);
        // The installed hook, under a real `git commit`.
        run(leakscan().args(["install-hook"]).current_dir(repo.path())).expect(0);
        repo.write("src/b.txt", format!("token = {new}\n"));
        repo.git(&["add", "-A"]);
        let commit = |repo: &GitRepo| {
            Command::new("git")
                .env("PATH", path_with_leakscan())
                .env("NO_COLOR", "1")
                .env("GIT_AUTHOR_NAME", "A")
                .env("GIT_AUTHOR_EMAIL", "a@e")
                .env("GIT_COMMITTER_NAME", "A")
                .env("GIT_COMMITTER_EMAIL", "a@e")
                .arg("-C")
                .arg(repo.path())
                .args(["commit", "-q", "-m", "two"])
                .output()
                .unwrap()
        };
        let out = commit(&repo);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: {err}");
        assert!(err.contains("src/b.txt:1:9"), "{what}: {err}");
        repo.write("src/b.txt", "token = none\n");
        repo.git(&["add", "-A"]);
        let out = commit(&repo);
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            repo.git(&["rev-list", "--count", "HEAD"]).trim(),
            "2",
            "{what}"
        );
    }
}

/// `scan --baseline-from REV` in every format: the baseline is read as of
/// the revision (a branch, `HEAD~1`, a full id), not from the work tree.
#[test]
fn scan_with_baseline_from_in_every_format() {
    for (objects, refs) in FORMATS {
        let what = format!("{objects}/{refs}");
        let repo = init_format(objects, refs);
        repo.write(
            "app.cfg",
            format!("key = {}\n", crate::util::fake::aws_key_id(3)),
        );
        repo.commit("secret");
        run(leakscan()
            .args(["baseline", "update"])
            .current_dir(repo.path()))
        .expect(0);
        let with_baseline = repo.commit("baseline");
        repo.git(&["tag", "-a", "-m", "t", "accepted"]);
        repo.git(&["rm", "-q", ".leakscan-baseline.json"]);
        repo.commit("drop the baseline");
        // The work tree has no baseline any more; each revision judges.
        // Exit 0: every finding is in that revision's baseline; 1: a new one.
        let new = |rev: &str| -> i32 {
            let r = run(leakscan()
                .args(["scan", ".", "--baseline-from", rev])
                .current_dir(repo.path()));
            assert!(r.code == 0 || r.code == 1, "{what} {rev}: {}", r.stderr);
            r.code
        };
        assert_eq!(new("HEAD~1"), 0, "{what}");
        assert_eq!(new(&with_baseline), 0, "{what}");
        assert_eq!(new("accepted"), 0, "{what}");
        assert_eq!(new("main"), 1, "{what}");
        assert_eq!(new("HEAD~2"), 1, "{what}");
        let r = run(leakscan()
            .args(["scan", ".", "--baseline-from", "nowhere"])
            .current_dir(repo.path()))
        .expect(2);
        assert!(r.stderr.contains("nowhere"), "{what}: {}", r.stderr);
    }
}

/// The same history in a repository of each format: three commits, a
/// secret added in the second (in a subdirectory) and removed in the third,
/// a branch and an annotated tag.
fn history_repo(objects: &str, refs: &str) -> GitRepo {
    let repo = init_format(objects, refs);
    repo.write("README", "readme\n");
    repo.commit("one");
    repo.write(
        "conf/app.cfg",
        format!("key = {}\n", crate::util::fake::aws_key_id(4)),
    );
    repo.commit("two: add config");
    repo.git(&["tag", "-a", "-m", "t", "v1"]);
    repo.git(&["branch", "side"]);
    repo.write("conf/app.cfg", "key = none\n");
    repo.commit("three: drop the key");
    repo
}

/// (path, line, rule, summary of the introducing commit, its id's length).
type Seen = (String, u64, String, String, usize);

fn history_findings(repo: &GitRepo, args: &[&str]) -> (i32, Vec<Seen>) {
    let r = run(leakscan()
        .arg("history")
        .args(args)
        .args(["--format", "json"])
        .current_dir(repo.path()));
    assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
    let mut out: Vec<_> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
                f["commit"]["summary"].as_str().unwrap().to_string(),
                f["commit"]["id"].as_str().unwrap().len(),
            )
        })
        .collect();
    out.sort();
    (r.code, out)
}

/// `history --all`, ranges (`A..B`, `A...B`, `--since-commit`) give the
/// same findings and introducing commits in every format as in a SHA-1
/// repository with files refs (compared by commit subject: ids differ by
/// format), with commit ids of the repository's own length (40 or 64 hex
/// digits), whether objects come from the pack reader or one at a time.
#[test]
fn history_all_and_ranges_in_every_format() {
    let files = history_repo("sha1", "files");
    let cases: [&[&str]; 7] = [
        &["--all"],
        &["main~2..main"],
        &["v1"],
        &["side..main"],
        &["side...main"],
        &["--since-commit", "side"],
        &[],
    ];
    let strip = |seen: Vec<Seen>| -> Vec<Seen> {
        seen.into_iter()
            .map(|(p, l, r, s, _)| (p, l, r, s, 0))
            .collect()
    };
    for (objects, refs) in FORMATS {
        let repo = history_repo(objects, refs);
        let len = if objects == "sha256" { 64 } else { 40 };
        if objects == "sha256" {
            // Packed like a real repository, so the pack reader's path runs.
            repo.git(&["gc", "-q"]);
        }
        for args in cases {
            let (want_code, want) = history_findings(&files, args);
            let (code, got) = history_findings(&repo, args);
            assert_eq!(code, want_code, "{objects}/{refs} {args:?}");
            assert!(got.iter().all(|f| f.4 == len), "{objects}/{refs}: {got:?}");
            assert_eq!(strip(got), strip(want), "{objects}/{refs} {args:?}");
        }
        for reader in ["on", "off"] {
            let r = run(leakscan()
                .args(["history", "--all", "--format", "json"])
                .env("LEAKSCAN_PACK_READER", reader)
                .current_dir(repo.path()))
            .expect(1);
            let id = r.findings()[0]["commit"]["id"]
                .as_str()
                .unwrap()
                .to_string();
            let two = repo.git(&["rev-parse", "main~1"]);
            assert_eq!(id, two.trim(), "{objects}/{refs} pack reader {reader}");
        }
    }
    let (code, all) = history_findings(&files, &["--all"]);
    assert_eq!(code, 1);
    assert_eq!(
        all,
        vec![(
            "conf/app.cfg".to_string(),
            1,
            "aws-access-key-id".to_string(),
            "two: add config".to_string(),
            40
        )]
    );
}

/// Revisions in a SHA-256 repository as git reads them: an abbreviated id
/// (a unique prefix) names its commit; an ambiguous one is an error naming
/// the candidates, never a guess.
#[test]
fn abbreviated_ids_in_a_sha256_repository() {
    let repo = history_repo("sha256", "files");
    let two = repo.git(&["rev-parse", "main~1"]).trim().to_string();
    let r = run(leakscan()
        .args([
            "history",
            "--format",
            "json",
            &format!("{}~1..{}", &two[..10], &two[..12]),
        ])
        .current_dir(repo.path()))
    .expect(1);
    assert_eq!(r.findings()[0]["commit"]["id"], two.as_str());
    // Enough objects that some two ids share their first four digits.
    for i in 0..1500 {
        repo.write(&format!("many/{i}"), format!("{i}\n"));
    }
    repo.commit("many");
    let ids = repo.git(&["rev-list", "--objects", "--all"]);
    let mut prefixes: Vec<&str> = ids.lines().map(|l| &l[..4]).collect();
    prefixes.sort_unstable();
    let shared = prefixes.windows(2).find(|w| w[0] == w[1]).unwrap()[0];
    let r = run(leakscan()
        .args(["history", shared])
        .current_dir(repo.path()))
    .expect(2);
    assert!(r.stderr.contains("ambiguous"), "{}", r.stderr);
}

/// A bare "server" repository of a format with `hooks/pre-receive` =
/// `leakscan pre-receive`, and a client pushing to it over file://.
fn push_pair(objects: &str, refs: &str) -> (TempDir, PathBuf, GitRepo) {
    let tmp = tempfile::Builder::new()
        .prefix("leakscan-fmt-push")
        .tempdir()
        .unwrap();
    let server = tmp.path().join("srv.git");
    std::fs::create_dir(&server).unwrap();
    git_in(
        &server,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            &format!("--object-format={objects}"),
            &format!("--ref-format={refs}"),
        ],
    );
    let hook = server.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nexec '{}' pre-receive\n",
            env!("CARGO_BIN_EXE_leakscan")
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let client = init_format(objects, refs);
    client.git(&[
        "remote",
        "add",
        "origin",
        &format!("file://{}", server.display()),
    ]);
    (tmp, server, client)
}

fn try_push(client: &GitRepo) -> (bool, String) {
    let out = Command::new("git")
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(client.path())
        .args(["push", "-q", "origin", "main"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Push protection over file:// into a bare server of every format (the
/// hook reads the pushed objects in git's quarantine directory): a clean
/// push is accepted, one adding a secret is refused and leaves the
/// server's branch where it was.
#[test]
fn push_into_a_server_of_every_format() {
    for (objects, refs) in FORMATS {
        push_into(objects, refs);
    }
}

fn push_into(objects: &str, refs: &str) {
    let (_tmp, server, client) = push_pair(objects, refs);
    client.write("README", "readme\n");
    let first = client.commit("one");
    let (ok, err) = try_push(&client);
    assert!(ok, "{err}");
    assert_eq!(
        git_in(&server, &["rev-parse", "main"]),
        format!("{first}\n").into_bytes()
    );
    client.write(
        "conf/app.cfg",
        format!("key = {}\n", crate::util::fake::aws_key_id(5)),
    );
    client.commit("add a key");
    let (ok, err) = try_push(&client);
    assert!(!ok, "{err}");
    assert!(err.contains("conf/app.cfg"), "{err}");
    assert_eq!(
        git_in(&server, &["rev-parse", "main"]),
        format!("{first}\n").into_bytes()
    );
    // The secret removed again: the next push (both commits) is still refused
    // for the commit that added it, so rewrite it away first.
    client.git(&["reset", "-q", "--hard", &first]);
    client.write("conf/app.cfg", "key = none\n");
    let clean = client.commit("add a config");
    let (ok, err) = try_push(&client);
    assert!(ok, "{err}");
    assert_eq!(
        git_in(&server, &["rev-parse", "main"]),
        format!("{clean}\n").into_bytes()
    );
}

/// A sweep of a directory holding every format, the same file committed
/// in each: all four are scanned, the secret is reported once, in every
/// repository with that repository's own commit id (40 hex digits in the
/// SHA-1 ones, 64 in the SHA-256 ones, as `git rev-parse` gives them):
/// blobs shared between repositories never mix ids of different formats.
#[test]
fn sweep_of_a_mixed_directory() {
    let root = tempfile::Builder::new()
        .prefix("leakscan-fmt-sweep")
        .tempdir()
        .unwrap();
    let line = format!("key = {}\n", crate::util::fake::aws_key_id(6));
    let mut heads = std::collections::BTreeMap::new();
    for (objects, refs) in FORMATS {
        let name = format!("r-{objects}-{refs}");
        let dir = root.path().join(&name);
        std::fs::create_dir(&dir).unwrap();
        git_in(
            &dir,
            &[
                "init",
                "-q",
                "-b",
                "main",
                &format!("--object-format={objects}"),
                &format!("--ref-format={refs}"),
            ],
        );
        std::fs::write(dir.join("k.txt"), &line).unwrap();
        git_in(&dir, &["add", "-A"]);
        git_in(&dir, &["commit", "-q", "-m", "one"]);
        let head = String::from_utf8(git_in(&dir, &["rev-parse", "HEAD"])).unwrap();
        heads.insert(name, head.trim().to_string());
    }
    let r = run(leakscan()
        .args(["sweep", ".", "--format", "json"])
        .current_dir(root.path()))
    .expect(1);
    let doc = r.json();
    let secrets = doc["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 1, "{}", r.stdout);
    let seen: std::collections::BTreeMap<String, String> = secrets[0]["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["repo"].as_str().unwrap().to_string(),
                x["first"]["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(seen, heads);
    assert_eq!(heads["r-sha256-files"].len(), 64);
    assert_eq!(doc["stats"]["failed"], 0, "{}", r.stdout);
}

/// A blobless partial clone (`--filter=blob:none`) of a server whose older
/// versions hold a secret: without `--fetch-missing` the run stops (exit 2)
/// naming how many objects are missing and the fix; with it, exactly those
/// are fetched in one request and the secret is found where it was added.
/// A range whose blobs are all present needs no fetch.
#[test]
fn partial_clone_with_and_without_fetch_missing() {
    for (objects, refs) in FORMATS {
        partial_clone_of(objects, refs);
    }
}

fn partial_clone_of(objects: &str, refs: &str) {
    let what = format!("{objects}/{refs}");
    let server = init_format(objects, refs);
    server.write(
        "conf/app.cfg",
        format!("key = {}\n", crate::util::fake::aws_key_id(7)),
    );
    server.write("README", "one\n");
    server.commit("add a key");
    server.write("conf/app.cfg", "key = none\n");
    server.write("README", "two\n");
    server.commit("drop the key");
    server.git(&["config", "uploadpack.allowFilter", "true"]);
    server.git(&["config", "uploadpack.allowAnySHA1InWant", "true"]);
    let tmp = tempfile::tempdir().unwrap();
    git_in(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            &format!("file://{}", server.path().display()),
            "clone",
        ],
    );
    let clone = tmp.path().join("clone");
    let missing = || {
        String::from_utf8(git_in(
            &clone,
            &["rev-list", "--objects", "--all", "--missing=print"],
        ))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('?'))
        .count()
    };
    assert_eq!(missing(), 2, "{what}");
    // HEAD's own change: its blobs were checked out, nothing to fetch.
    run(leakscan()
        .args(["history", "HEAD~1..HEAD"])
        .current_dir(&clone))
    .expect(0);
    let r = run(leakscan().args(["history", "--all"]).current_dir(&clone)).expect(2);
    assert!(
        r.stderr.contains("partial clone: 2 objects") && r.stderr.contains("--fetch-missing"),
        "{what}: {}",
        r.stderr
    );
    assert_eq!(missing(), 2, "nothing fetched without the flag");
    let r = run(leakscan()
        .args(["history", "--all", "--fetch-missing", "--format", "json"])
        .current_dir(&clone))
    .expect(1);
    let f = r.findings();
    assert_eq!(f.len(), 1, "{what}: {}", r.stdout);
    assert_eq!(f[0]["path"], "conf/app.cfg");
    assert_eq!(
        f[0]["commit"]["id"].as_str().unwrap().len(),
        if objects == "sha256" { 64 } else { 40 },
        "{what}"
    );
    assert_eq!(f[0]["commit"]["summary"], "add a key");
    assert!(
        r.stderr.contains("fetching 2 missing objects"),
        "{}",
        r.stderr
    );
    assert_eq!(missing(), 0);
}

/// A baseline made from the history of a repository of each format
/// (`baseline create --history --all`) records the secret, `baseline
/// audit` triages it (recording who, from the repository's git identity
/// when `--by` is not given), and `history --all --baseline` then passes.
#[test]
fn baseline_from_history_and_audit_in_every_format() {
    for (objects, refs) in FORMATS {
        let repo = history_repo(objects, refs);
        repo.git(&["config", "user.email", "carol@example.com"]);
        run(leakscan()
            .args(["baseline", "create", "--history", "--all"])
            .current_dir(repo.path()))
        .expect(0);
        let file = repo.join(".leakscan-baseline.json");
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let entries = doc["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{objects}/{refs}: {doc}");
        assert_eq!(entries[0]["path"], "conf/app.cfg", "{objects}/{refs}");
        run(leakscan()
            .args(["baseline", "audit", "--set-status", "revoked"])
            .current_dir(repo.path()))
        .expect(0);
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let e = &doc["entries"][0];
        assert_eq!(e["status"], "revoked", "{objects}/{refs}");
        assert_eq!(e["by"], "carol@example.com", "{objects}/{refs}");
        run(leakscan()
            .args(["history", "--all", "--baseline", ".leakscan-baseline.json"])
            .current_dir(repo.path()))
        .expect(0);
    }
}

/// A tag that names a tree or a blob (no commit) is scanned in every
/// format: the tree's entries are read at the repository's id width.
#[test]
fn tags_of_trees_and_blobs_are_scanned_in_every_format() {
    for (objects, refs) in FORMATS {
        let repo = init_format(objects, refs);
        repo.write("README", "readme\n");
        repo.commit("one");
        repo.write(
            "deploy/keys.cfg",
            format!("key = {}\n", crate::util::fake::aws_key_id(6)),
        );
        repo.git(&["add", "deploy/keys.cfg"]);
        let tree = repo.git(&["write-tree"]).trim().to_string();
        repo.git(&["tag", "snapshot", &tree]);
        let blob = repo
            .git(&["hash-object", "-w", "deploy/keys.cfg"])
            .trim()
            .to_string();
        repo.git(&["tag", "loose-key", &blob]);
        repo.git(&["rm", "-q", "--cached", "deploy/keys.cfg"]);
        let r = run(leakscan()
            .args(["history", "--all", "--format", "json"])
            .current_dir(repo.path()));
        assert_eq!(r.code, 1, "{objects}/{refs}: {}", r.stderr);
        let paths: Vec<String> = r
            .findings()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(paths.len(), 2, "{objects}/{refs}: {paths:?}");
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with(&format!("(tree {tree} of"))
                    && p.ends_with("/deploy/keys.cfg")),
            "{objects}/{refs}: {paths:?}"
        );
        assert!(
            paths.iter().any(|p| p.contains(&blob)),
            "{objects}/{refs}: {paths:?}"
        );
    }
}

/// A split index (`git update-index --split-index`) is read in every
/// format: the shared index is named by a 20- or 32-byte id, and the
/// merged entries (replaced, deleted, added) are what `staged` checks.
#[test]
fn split_index_in_every_format() {
    for (objects, refs) in FORMATS {
        let what = format!("{objects}/{refs}");
        let repo = init_format(objects, refs);
        repo.write("a.txt", "a\n");
        repo.write("b.txt", "b\n");
        repo.write("gone.txt", "gone\n");
        repo.commit("one");
        repo.git(&["update-index", "--split-index"]);
        let (edited, added) = (
            crate::util::fake::aws_key_id(11),
            crate::util::fake::aws_key_id(12),
        );
        repo.write("a.txt", format!("a\nkey = {edited}\n"));
        repo.write("c.txt", format!("key = {added}\n"));
        repo.git(&["rm", "-q", "gone.txt"]);
        repo.git(&["add", "a.txt", "c.txt"]);
        let shared = std::fs::read_dir(repo.path().join(".git"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("sharedindex."))
            .count();
        assert!(shared > 0, "{what}: git wrote no shared index");
        let (r, found) = staged_findings(&repo);
        assert_eq!(
            found,
            vec![("a.txt".to_string(), 2), ("c.txt".to_string(), 1)],
            "{what}: {}",
            r.stderr
        );
    }
}

/// The client-side `pre-push` hook in every format: the commits a push
/// would send are read from the client's own repository (64-digit ids in
/// SHA-256 ones); a secret stops the push before anything is sent.
#[test]
fn pre_push_in_every_format() {
    for (objects, refs) in FORMATS {
        let what = format!("{objects}/{refs}");
        let (_tmp, server, client) = push_pair(objects, refs);
        std::fs::remove_file(server.join("hooks/pre-receive")).unwrap();
        let hook = client.path().join(".git/hooks/pre-push");
        std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\nexec '{}' pre-push \"$@\"\n",
                env!("CARGO_BIN_EXE_leakscan")
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        client.write("README", "readme\n");
        let first = client.commit("one");
        let (ok, err) = try_push(&client);
        assert!(ok, "{what}: {err}");
        client.write(
            "conf/app.cfg",
            format!("key = {}\n", crate::util::fake::aws_key_id(7)),
        );
        client.commit("add a key");
        let (ok, err) = try_push(&client);
        assert!(!ok, "{what}: {err}");
        assert!(err.contains("conf/app.cfg"), "{what}: {err}");
        assert_eq!(
            git_in(&server, &["rev-parse", "main"]),
            format!("{first}\n").into_bytes(),
            "{what}"
        );
    }
}

/// A sparse index (`git sparse-checkout --sparse-index`: directories
/// outside the cone are single tree entries) is read in every format.
#[test]
fn sparse_index_in_every_format() {
    for (objects, refs) in FORMATS {
        let what = format!("{objects}/{refs}");
        let repo = init_format(objects, refs);
        repo.write("a/x.txt", "x\n");
        repo.write("b/y.txt", "y\n");
        repo.commit("one");
        repo.git(&["sparse-checkout", "init", "--cone", "--sparse-index"]);
        repo.git(&["sparse-checkout", "set", "a"]);
        let listed = repo.git(&["ls-files", "--sparse"]);
        assert!(listed.lines().any(|l| l == "b/"), "{what}: {listed}");
        repo.write(
            "a/k.cfg",
            format!("key = {}\n", crate::util::fake::aws_key_id(13)),
        );
        repo.git(&["add", "a/k.cfg"]);
        let (r, found) = staged_findings(&repo);
        assert_eq!(found, [("a/k.cfg".to_string(), 1)], "{what}: {}", r.stderr);
    }
}
