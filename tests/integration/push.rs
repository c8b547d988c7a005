//! Push protection (#12), through real `git push` over `file://` into a bare
//! repository whose `hooks/pre-receive` is `exec leakscan pre-receive`: what
//! is checked (new commits only: new branches, deletions, force pushes,
//! tags, evil merges), where the pushed objects are read from (git's
//! quarantine, loose or packed; nothing is left behind on refusal), whose
//! policy judges (the default branch's, never the push's), the audited
//! bypass, failing closed (and open, when configured), concurrent pushes,
//! the pusher's message, and the client-side `pre-push` hook.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::fixture::{git_command, Git, Server};
use crate::util::*;

/// A work tree whose `origin` is `server`.
fn client(server: &Server) -> Git {
    let g = Git::init();
    g.git(&["remote", "add", "origin", &server.url()]);
    g
}

/// `git push ARGS` in `g` with `env`: (exit code, stderr).
fn push_env(g: &Git, args: &[&str], env: &[(&str, &OsString)]) -> (i32, String) {
    let mut c = git_command(g.path());
    c.arg("push").args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn push(g: &Git, args: &[&str]) -> (i32, String) {
    push_env(g, args, &[])
}

fn head(g: &Git) -> String {
    g.git(&["rev-parse", "HEAD"]).trim().to_string()
}

fn secret_line(seed: u64) -> String {
    format!("token = \"{}\"\n", fake::github_pat(seed))
}

/// A server with `main` holding one clean commit, pushed before the hook was
/// installed, and a client that has it.
fn setup(args: &str) -> (Server, Git) {
    let s = Server::new();
    let g = client(&s);
    g.write("README.md", "hello\n");
    g.commit_all("initial");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    s.protect(args);
    (s, g)
}

#[test]
fn push_clean_commit_is_accepted() {
    let (s, g) = setup("");
    g.write("src/lib.rs", "pub fn f() {}\n");
    g.commit_all("add lib");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no new secrets in 1 new commit"), "{err}");
    assert_eq!(s.rev("main"), Some(head(&g)));
}

#[test]
fn push_adding_a_secret_is_refused_and_leaves_nothing_behind() {
    let (s, g) = setup("");
    let before = s.rev("main");
    let token = fake::github_pat(1201);
    g.write("deploy/app.env", format!("A=1\ntoken = \"{token}\"\n"));
    g.commit_all("add deploy config");
    let commit = head(&g);
    let blob = g
        .git(&["rev-parse", "HEAD:deploy/app.env"])
        .trim()
        .to_string();
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("pre-receive hook declined"), "{err}");
    // The message: commit, file, line, rule, redacted secret, what to do.
    assert!(
        err.contains("push refused: 1 new secret in 1 pushed commit"),
        "{err}"
    );
    assert!(err.contains(&format!("commit {commit}")), "{err}");
    assert!(err.contains("\"add deploy config\""), "{err}");
    assert!(
        err.contains("deploy/app.env:2:10  github-pat  ghp_…(40)"),
        "{err}"
    );
    assert!(!err.contains(&token), "the secret itself must not be shown");
    assert!(err.contains("git commit --amend"), "{err}");
    assert!(err.contains(&format!("git rebase -i {commit}^")), "{err}");
    assert!(err.contains("revoke it"), "{err}");
    // The ref did not move, and the pushed objects are gone with the quarantine.
    assert_eq!(s.rev("main"), before);
    assert!(!s.has_object(&commit));
    assert!(!s.has_object(&blob));
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

#[test]
fn push_objects_in_a_quarantined_pack_are_read_by_both_readers() {
    for reader in ["on", "off"] {
        let (s, g) = setup("");
        // Keep the push as a pack in the quarantine instead of loose objects.
        s.git(&["config", "receive.unpackLimit", "1"]);
        for i in 0..5 {
            g.write(&format!("f{i}.txt"), format!("file {i}\n"));
        }
        g.write("conf/keys.txt", secret_line(1202));
        g.commit_all("many files");
        let commit = head(&g);
        let (code, err) = push_env(
            &g,
            &["origin", "main"],
            &[("LEAKSCAN_PACK_READER", &reader.into())],
        );
        assert_ne!(code, 0, "reader {reader}: {err}");
        assert!(
            err.contains("conf/keys.txt:1:10  github-pat"),
            "reader {reader}: {err}"
        );
        assert!(!s.has_object(&commit));
        assert!(s.leftovers().is_empty());
    }
}

#[test]
fn push_new_branch_is_checked_from_where_it_leaves_known_history() {
    let s = Server::new();
    let g = client(&s);
    // Already on the server before protection: an old secret on main.
    g.write("old.env", secret_line(1203));
    g.commit_all("old secret");
    assert_eq!(push(&g, &["origin", "main"]).0, 0);
    s.protect("");
    g.git(&["checkout", "-q", "-b", "topic"]);
    g.write("notes.md", "clean\n");
    g.commit_all("topic work");
    let (code, err) = push(&g, &["origin", "topic"]);
    assert_eq!(
        code, 0,
        "the old secret on main must not block a new branch: {err}"
    );
    assert!(err.contains("no new secrets in 1 new commit"), "{err}");
    assert_eq!(s.rev("topic"), Some(head(&g)));
    // A second new branch that adds a secret is refused.
    g.git(&["checkout", "-q", "-b", "topic2"]);
    g.write("new.env", secret_line(1204));
    g.commit_all("topic2 secret");
    let (code, err) = push(&g, &["origin", "topic2"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("new.env:1:10"), "{err}");
    assert!(!err.contains("old.env"), "{err}");
    assert_eq!(s.rev("topic2"), None);
}

/// A commit the server knows only through an annotated tag (its branch was
/// deleted), holding an old secret: a push of one new commit on top of it
/// scans exactly that commit, whether the tag is a loose ref (read to peel
/// it) or packed with git's peeled line, and nested tags peel too.
#[test]
fn push_onto_history_known_only_through_a_tag_scans_just_the_new_commit() {
    for packed in [false, true] {
        let s = Server::new();
        let g = client(&s);
        g.write("README.md", "hello\n");
        g.commit_all("initial");
        assert_eq!(push(&g, &["origin", "main"]).0, 0);
        g.git(&["checkout", "-q", "-b", "old"]);
        g.write("old.env", secret_line(1231));
        g.commit_all("old secret");
        g.git(&["tag", "-a", "-m", "release", "v1"]);
        g.git(&["tag", "-a", "-m", "the release again", "v1-again", "v1"]);
        assert_eq!(push(&g, &["origin", "old", "v1", "v1-again"]).0, 0);
        assert_eq!(push(&g, &["origin", "--delete", "old"]).0, 0);
        if packed {
            s.git(&["pack-refs", "--all"]);
            let refs = std::fs::read_to_string(s.path.join("packed-refs")).unwrap();
            assert!(refs.contains("\n^"), "git records the peeled ids: {refs}");
        }
        s.protect("");
        g.write("notes.md", "clean\n");
        g.commit_all("on top of the release");
        let (code, err) = push(&g, &["origin", "HEAD:refs/heads/fix"]);
        assert_eq!(code, 0, "packed {packed}: {err}");
        assert!(
            err.contains("no new secrets in 1 new commit (1 blobs"),
            "packed {packed}: {err}"
        );
        assert_eq!(s.rev("fix"), Some(head(&g)));
    }
}

#[test]
fn push_editing_a_file_that_already_holds_a_secret_is_accepted() {
    let s = Server::new();
    let g = client(&s);
    // On the server before protection was turned on.
    g.write("cfg.env", format!("a = 1\n{}", secret_line(1222)));
    g.commit_all("old secret");
    assert_eq!(push(&g, &["origin", "main"]).0, 0);
    s.protect("");
    // An unrelated edit of the same file: a new blob, the same old secret.
    g.write("cfg.env", format!("a = 2\n{}b = 3\n", secret_line(1222)));
    g.commit_all("edit cfg");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("1 known findings: already there before the push"),
        "{err}"
    );
    // A second secret added to that file is new.
    g.write(
        "cfg.env",
        format!("a = 2\n{}b = 3\n{}", secret_line(1222), secret_line(1223)),
    );
    g.commit_all("second secret");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("cfg.env:4:10"), "{err}");
    assert!(err.contains("1 new secret in 1 pushed commit"), "{err}");
}

// A pushed edit of a huge file whose parent version already held the
// secret: the parent's version (over 64 MiB) was read whole to see that the
// secret was there before (`pre-push` peaked at 199 MB for a 66 MiB file).
// It is searched as a stream: the push goes through, and the hook's peak
// RSS does not grow with the file.
#[test]
fn push_editing_a_huge_file_reads_its_parent_version_as_a_stream() {
    use std::os::unix::fs::FileExt;
    const SIZE: u64 = 66 << 20;
    let s = Server::new();
    let g = client(&s);
    g.write("README.md", "hello\n");
    g.commit_all("initial");
    assert_eq!(push(&g, &["origin", "main"]).0, 0);
    // The client's pre-push hook reports leakscan's peak RSS (its only
    // child) in a file.
    let rss = g.path().join(".git").join("peak-rss");
    let hook = g.path().join(".git").join("hooks").join("pre-push");
    let off = g.path().join(".git").join("hooks").join("off");
    std::fs::write(
        &off,
        format!(
            "#!/bin/sh\nexec python3 -c 'import resource, subprocess, sys\n\
             r = subprocess.run(sys.argv[2:])\n\
             open(sys.argv[1], \"w\").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n\
             sys.exit(r.returncode)' '{}' '{}' pre-push --max-file-size 100M \"$@\"\n",
            rss.display(),
            env!("CARGO_BIN_EXE_leakscan")
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&off, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let peak = || -> u64 {
        std::fs::read_to_string(&rss)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    std::fs::rename(&off, &hook).unwrap();
    g.write("small.txt", "x\n");
    g.commit_all("small");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    let small = peak();
    // On the remote before the hook: a sparse file with a secret on its
    // first line.
    std::fs::rename(&hook, &off).unwrap();
    let key = fake::aws_key_id(1840);
    let f = std::fs::File::create(g.path().join("dump.bin")).unwrap();
    f.set_len(SIZE).unwrap();
    f.write_all_at(format!("{key}\n").as_bytes(), 0).unwrap();
    drop(f);
    g.commit_all("dump");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    std::fs::rename(&off, &hook).unwrap();
    // An edit near the end: a new blob holding the same old secret.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(g.path().join("dump.bin"))
        .unwrap();
    f.write_all_at(b"\nedited\n", SIZE - 4096).unwrap();
    drop(f);
    g.commit_all("edit dump");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no new secrets in 1 commit to push"), "{err}");
    let big = peak();
    assert!(
        big.saturating_sub(small) < SIZE >> 10,
        "peak RSS {big} KiB against {small} KiB for a small push: \
         a {} KiB version was held whole",
        SIZE >> 10
    );
}

// A new huge blob pushed to the server: the guard that checks objects for
// libgit2 (and opens streams) did not list the push's quarantine, so the
// blob was not found to stream and was read whole (`pre-receive` peaked at
// 141 MB for a 66 MiB blob, `history` at 55 MB). It is streamed from the
// quarantine, received loose and received as a pack: the secret is found
// and the hook's peak RSS does not grow with the blob.
#[test]
fn push_of_a_huge_new_blob_is_read_from_the_quarantine_as_a_stream() {
    use std::os::unix::fs::FileExt;
    const SIZE: u64 = 66 << 20;
    let s = Server::new();
    let g = client(&s);
    g.write("README.md", "hello\n");
    g.commit_all("initial");
    assert_eq!(push(&g, &["origin", "main"]).0, 0);
    let rss = s.path.join("peak-rss");
    s.hook(&format!(
        "exec python3 -c 'import resource, subprocess, sys\n\
         r = subprocess.run(sys.argv[2:])\n\
         open(sys.argv[1], \"w\").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n\
         sys.exit(r.returncode)' '{}' '{}' pre-receive --max-file-size 100M\n",
        rss.display(),
        env!("CARGO_BIN_EXE_leakscan")
    ));
    let peak = || -> u64 {
        std::fs::read_to_string(&rss)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    g.write("small.txt", "x\n");
    g.commit_all("small");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    let small = peak();
    // A sparse file with a secret on its first line.
    let key = fake::aws_key_id(1841);
    let f = std::fs::File::create(g.path().join("dump.bin")).unwrap();
    f.set_len(SIZE).unwrap();
    f.write_all_at(format!("{key}\n").as_bytes(), 0).unwrap();
    drop(f);
    g.commit_all("dump");
    for unpack_limit in ["100", "1"] {
        // git unpacks a push of fewer objects than `receive.unpackLimit`
        // into loose objects, and keeps a larger one as a pack.
        s.git(&["config", "receive.unpackLimit", unpack_limit]);
        let (code, err) = push(&g, &["origin", "main"]);
        assert_ne!(code, 0, "{err}");
        assert!(err.contains("1 new secret in 1 pushed commit"), "{err}");
        let big = peak();
        assert!(
            big.saturating_sub(small) < SIZE >> 10,
            "unpackLimit {unpack_limit}: peak RSS {big} KiB against {small} KiB for a \
             small push: a {} KiB blob was held whole",
            SIZE >> 10
        );
    }
}

#[test]
fn push_deleting_a_branch_scans_nothing_and_is_accepted() {
    let s = Server::new();
    let g = client(&s);
    g.write("README.md", "x\n");
    g.commit_all("initial");
    g.git(&["checkout", "-q", "-b", "leaky"]);
    g.write("k.env", secret_line(1205));
    g.commit_all("leaky");
    assert_eq!(push(&g, &["origin", "main", "leaky"]).0, 0);
    s.protect("");
    let (code, err) = push(&g, &["origin", ":leaky"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(s.rev("leaky"), None);
    assert!(
        !err.contains("remote: leakscan"),
        "a deletion is not even reported: {err}"
    );
}

#[test]
fn push_force_is_checked_against_known_history() {
    let (s, g) = setup("");
    g.write("a.txt", "one\n");
    g.commit_all("one");
    assert_eq!(push(&g, &["origin", "main"]).0, 0);
    let accepted = s.rev("main");
    // Rewrite the last commit to add a secret, and force it.
    g.write("a.txt", format!("one\n{}", secret_line(1206)));
    g.git(&["add", "-A"]);
    g.git(&[
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        "one, amended",
    ]);
    let (code, err) = push(&g, &["--force", "origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("a.txt:2:10  github-pat"), "{err}");
    assert_eq!(s.rev("main"), accepted);
    // Rewrite again without it: the forced push goes through.
    g.write("a.txt", "one, fixed\n");
    g.git(&["add", "-A"]);
    g.git(&["commit", "-q", "--amend", "--no-verify", "-m", "one, fixed"]);
    let (code, err) = push(&g, &["--force", "origin", "main"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(s.rev("main"), Some(head(&g)));
}

#[test]
fn push_tags_are_checked() {
    let (s, g) = setup("");
    // A tag on a known commit adds nothing.
    g.git(&["tag", "-a", "v1", "-m", "release 1"]);
    let (code, err) = push(&g, &["origin", "v1"]);
    assert_eq!(code, 0, "{err}");
    assert!(s.rev("refs/tags/v1").is_some());
    // An annotated tag on a commit the server does not have, adding a secret.
    g.git(&["checkout", "-q", "--detach"]);
    g.write("release.env", secret_line(1207));
    g.commit_all("release secret");
    g.git(&["tag", "-a", "v2", "-m", "release 2"]);
    let (code, err) = push(&g, &["origin", "v2"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("release.env:1:10"), "{err}");
    assert_eq!(s.rev("refs/tags/v2"), None);
    // A tag of a blob (as git.git's `junio-gpg-pub`): the blob itself is scanned.
    let tmp = g.sibling("key.txt");
    std::fs::write(&tmp, secret_line(1225)).unwrap();
    let blob = g
        .git(&["hash-object", "-w", tmp.to_str().unwrap()])
        .trim()
        .to_string();
    g.git(&["tag", "-a", "keyblob", "-m", "a key", &blob]);
    let (code, err) = push(&g, &["origin", "keyblob"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains(&format!("(blob {blob} of ")), "{err}");
    assert!(err.contains("github-pat"), "{err}");
    assert_eq!(s.rev("refs/tags/keyblob"), None);
}

#[test]
fn push_evil_merge_is_caught() {
    let (s, g) = setup("");
    g.git(&["checkout", "-q", "-b", "side"]);
    g.write("side.txt", "side\n");
    g.commit_all("side work");
    g.git(&["checkout", "-q", "main"]);
    g.write("main.txt", "main\n");
    g.commit_all("main work");
    // The merge commit itself adds content neither parent has.
    g.git(&["merge", "--no-ff", "--no-commit", "side"]);
    g.write("merged.env", secret_line(1208));
    g.git(&["add", "-A"]);
    g.git(&["commit", "-q", "--no-verify", "-m", "Merge side"]);
    let merge = head(&g);
    let before = s.rev("main");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert_eq!(s.rev("main"), before);
    assert!(err.contains(&format!("commit {merge}")), "{err}");
    assert!(err.contains("merged.env:1:10"), "{err}");
    assert!(err.contains("in 1 pushed commit"), "{err}");
}

#[test]
fn push_secret_accepted_by_the_default_branch_baseline_goes_through() {
    let s = Server::new();
    let g = client(&s);
    // The baseline on main records a known secret in config.env; the file
    // itself is not committed yet.
    let known = secret_line(1209);
    g.write("config.env", &known);
    run(leakscan()
        .current_dir(g.path())
        .args(["baseline", "create", "-q"]))
    .expect(0);
    std::fs::remove_file(g.path().join("config.env")).unwrap();
    g.commit_all("baseline");
    assert_eq!(push(&g, &["origin", "main"]).0, 0);
    s.protect("");
    g.write("config.env", &known);
    g.commit_all("add the known config");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 known findings"), "{err}");
    // Another secret in the same file is new.
    g.write("config.env", format!("{known}{}", secret_line(1210)));
    g.commit_all("second secret");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("config.env:2:10"), "{err}");
    assert!(!err.contains("config.env:1:"), "{err}");
}

#[test]
fn push_cannot_bring_its_own_baseline_or_allowlist() {
    let (s, g) = setup("");
    let before = s.rev("main");
    // A baseline entry for its own secret.
    g.write("svc.env", secret_line(1211));
    run(leakscan()
        .current_dir(g.path())
        .args(["baseline", "create", "-q"]))
    .expect(0);
    g.commit_all("secret with its baseline");
    // Check the client-side baseline really accepts it, so the refusal is the server's policy.
    run(leakscan().current_dir(g.path()).args(["history", "-q"])).expect(0);
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("svc.env:1:10"), "{err}");
    assert!(
        err.contains("policy: .leakscan.toml and baseline from refs/heads/main"),
        "{err}"
    );
    assert_eq!(s.rev("main"), before);
    // An allowlist in its own .leakscan.toml.
    g.git(&["reset", "-q", "--hard", "HEAD~1"]);
    g.write(".leakscan.toml", "[allowlist]\npaths = [\"allowed/**\"]\n");
    g.write("allowed/k.env", secret_line(1212));
    g.commit_all("secret with an allowlist");
    run(leakscan().current_dir(g.path()).args(["history", "-q"])).expect(0);
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("allowed/k.env:1:10"), "{err}");
    assert_eq!(s.rev("main"), before);
}

#[test]
fn push_bypass_is_refused_unless_the_server_allows_it() {
    let (s, g) = setup("");
    let before = s.rev("main");
    g.write("k.env", secret_line(1213));
    g.commit_all("secret");
    let (code, err) = push(&g, &["-o", "leakscan.skip=test fixture", "origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("leakscan.skip is not enabled on this server"),
        "{err}"
    );
    assert!(err.contains("k.env:1:10"), "{err}");
    assert_eq!(s.rev("main"), before);
    // Allowed, but with nowhere to log it: still refused.
    s.git(&["config", "leakscan.allowSkip", "true"]);
    let (code, err) = push(&g, &["-o", "leakscan.skip=test fixture", "origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("no audit log is configured"), "{err}");
    assert_eq!(s.rev("main"), before);
}

#[test]
fn push_bypass_when_allowed_is_logged() {
    let (s, g) = setup("");
    let log = s.path.parent().unwrap().join("audit.jsonl");
    s.git(&["config", "leakscan.allowSkip", "true"]);
    s.git(&["config", "leakscan.auditLog", log.to_str().unwrap()]);
    let token = fake::github_pat(1214);
    g.write("k.env", format!("token = \"{token}\"\n"));
    g.commit_all("secret");
    // Without a reason: refused.
    let (code, err) = push(&g, &["-o", "leakscan.skip", "origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("needs a reason"), "{err}");
    assert!(!log.exists());
    let (code, err) = push_env(
        &g,
        &[
            "-o",
            "leakscan.skip=test fixture, not a real key",
            "origin",
            "main",
        ],
        &[("GL_USERNAME", &"ada".into())],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("push protection SKIPPED"), "{err}");
    assert!(
        err.contains("k.env:1:10"),
        "the pusher still sees what was let through: {err}"
    );
    assert_eq!(s.rev("main"), Some(head(&g)));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(&token), "the log must not hold the secret");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["event"], "skip");
    assert_eq!(v["user"], "ada");
    assert_eq!(v["user_from"], "GL_USERNAME");
    assert_eq!(v["reason"], "test fixture, not a real key");
    assert_eq!(v["refs"][0]["ref"], "refs/heads/main");
    assert_eq!(v["refs"][0]["new"], head(&g));
    assert_eq!(v["findings_total"], 1);
    assert_eq!(v["findings"][0]["rule"], "github-pat");
    assert_eq!(v["findings"][0]["path"], "k.env");
    assert_eq!(v["findings"][0]["commit"], head(&g));
    assert!(v["time"].as_str().unwrap().ends_with("+00:00"), "{v}");
}

/// Issue #24 item 10: a server that names no user (no GL_USERNAME, USER,
/// ...) logged `"user":"unknown"`; the pushed commits' git identity is
/// recorded instead, and beside the server's user when there is one.
#[test]
fn push_bypass_log_names_the_git_identity() {
    let (s, g) = setup("");
    let log = s.path.parent().unwrap().join("audit.jsonl");
    s.git(&["config", "leakscan.allowSkip", "true"]);
    s.git(&["config", "leakscan.auditLog", log.to_str().unwrap()]);
    g.write("k.env", secret_line(1216));
    g.commit_all("secret");
    let empty = OsString::new();
    let unset: Vec<(&str, &OsString)> = [
        "GL_USERNAME",
        "GITEA_PUSHER_NAME",
        "REMOTE_USER",
        "USER",
        "LOGNAME",
    ]
    .into_iter()
    .map(|k| (k, &empty))
    .collect();
    let (code, err) = push_env(
        &g,
        &["-o", "leakscan.skip=fixture", "origin", "main"],
        &unset,
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&log).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(v["user"], "Ada Tester <ada@example.com>", "{v}");
    assert_eq!(v["user_from"], "git_identity", "{v}");
    assert_eq!(v["git_identity"][0], "Ada Tester <ada@example.com>", "{v}");
}

#[cfg(unix)]
#[test]
fn push_bypass_can_be_logged_to_syslog() {
    use std::os::unix::net::UnixDatagram;
    let (s, g) = setup("");
    let sock = s.path.parent().unwrap().join("log.sock");
    let listener = UnixDatagram::bind(&sock).unwrap();
    s.git(&["config", "leakscan.allowSkip", "true"]);
    s.git(&[
        "config",
        "leakscan.auditLog",
        &format!("syslog:{}", sock.display()),
    ]);
    g.write("k.env", secret_line(1215));
    g.commit_all("secret");
    let (code, err) = push(
        &g,
        &["-o", "leakscan.skip=rotated already", "origin", "main"],
    );
    assert_eq!(code, 0, "{err}");
    let mut buf = vec![0u8; 65536];
    listener
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let n = listener.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    let (head, body) = msg.split_once(": ").unwrap();
    assert!(head.starts_with("<37>leakscan["), "{msg}");
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["reason"], "rotated already");
    assert_eq!(v["findings_total"], 1);
}

#[test]
fn push_with_a_corrupt_object_is_refused_with_a_clear_error() {
    let (s, g) = setup("");
    let before = s.rev("main");
    g.write("data.txt", "some plain content\n");
    g.commit_all("data");
    let blob = g.git(&["rev-parse", "HEAD:data.txt"]).trim().to_string();
    // Damage the pushed blob in the quarantine, as a failing disk would,
    // before leakscan reads it.
    let (dir, file) = blob.split_at(2);
    s.hook(&format!(
        "f=\"$GIT_QUARANTINE_PATH/{dir}/{file}\"\n\
         [ -f \"$f\" ] || {{ echo \"test hook: $f is missing\" >&2; exit 3; }}\n\
         chmod u+w \"$f\" && printf 'not zlib at all' > \"$f\"\n\
         exec '{}' pre-receive\n",
        env!("CARGO_BIN_EXE_leakscan")
    ));
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(!err.contains("test hook:"), "{err}");
    assert!(
        err.contains("push refused: it could not be checked for secrets"),
        "{err}"
    );
    assert!(err.contains(&blob), "the error names the object: {err}");
    assert_eq!(s.rev("main"), before);
    assert!(s.leftovers().is_empty());
    // With fail-open configured, the same push is accepted, loudly.
    s.git(&["config", "leakscan.failOpen", "true"]);
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("this push was NOT checked for secrets"),
        "{err}"
    );
    assert!(err.contains("fail open"), "{err}");
}

#[cfg(unix)]
#[test]
fn push_timeout_fails_closed_unless_fail_open_is_configured() {
    let (s, g) = setup("");
    let before = s.rev("main");
    g.write("data.txt", "plain\n");
    g.commit_all("data");
    // A check that cannot finish: the quarantine gets an `info/alternates`
    // that is a FIFO nobody writes, so reading the pushed objects blocks
    // until the time limit. Removed again once leakscan has answered.
    s.hook(&format!(
        "q=\"$GIT_QUARANTINE_PATH/info\"\n\
         mkdir -p \"$q\" && mkfifo \"$q/alternates\" || exit 3\n\
         '{}' pre-receive --timeout 1\n\
         status=$?\n\
         rm -f \"$q/alternates\"\n\
         exit $status\n",
        env!("CARGO_BIN_EXE_leakscan")
    ));
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("the check did not finish within 1 s"), "{err}");
    assert!(err.contains("fails closed"), "{err}");
    assert_eq!(s.rev("main"), before);
    s.git(&["config", "leakscan.failOpen", "true"]);
    let log = s.path.parent().unwrap().join("audit.jsonl");
    s.git(&["config", "leakscan.auditLog", log.to_str().unwrap()]);
    let (code, err) = push(&g, &["origin", "main"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("WARNING: this push was NOT checked for secrets"),
        "{err}"
    );
    assert_eq!(s.rev("main"), Some(head(&g)));
    let v: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(v["event"], "fail-open");
    assert!(
        v["not_checked"]
            .as_str()
            .unwrap()
            .contains("did not finish"),
        "{v}"
    );
}

#[test]
fn push_message_escapes_control_characters_in_names() {
    let (_s, g) = setup("");
    let name = "evil\x1b[2Jname.env";
    g.write(name, secret_line(1216));
    g.commit_all("summary with \x1b]0;title\x07 escape");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("evil\\x1b[2Jname.env:1:10"), "{err}");
    assert!(
        err.contains("summary with \\x1b]0;title\\x07 escape"),
        "{err}"
    );
    assert!(
        !err.contains('\x1b'),
        "raw escape reached the terminal: {err:?}"
    );
}

#[test]
fn push_concurrent_pushes_do_not_interfere() {
    let (s, g1) = setup("");
    let g2 = client(&s);
    g2.git(&["fetch", "-q", "origin"]);
    g2.git(&["checkout", "-q", "-b", "b2", "origin/main"]);
    g1.git(&["checkout", "-q", "-b", "b1"]);
    g1.write("clean.txt", "fine\n");
    g1.commit_all("clean");
    g2.write("leak.env", secret_line(1217));
    g2.commit_all("leak");
    let results: Vec<(i32, String)> = std::thread::scope(|sc| {
        let a = sc.spawn(|| {
            (0..3)
                .map(|i| push(&g1, &["origin", &format!("b1:refs/heads/c{i}")]))
                .collect::<Vec<_>>()
        });
        let b = sc.spawn(|| {
            (0..3)
                .map(|i| push(&g2, &["origin", &format!("b2:refs/heads/l{i}")]))
                .collect::<Vec<_>>()
        });
        let mut r = a.join().unwrap();
        r.extend(b.join().unwrap());
        r
    });
    for (i, (code, err)) in results.iter().enumerate() {
        if i < 3 {
            assert_eq!(*code, 0, "clean push {i}: {err}");
            assert!(s.rev(&format!("c{i}")).is_some());
        } else {
            assert_ne!(*code, 0, "leaky push {i}: {err}");
            assert!(err.contains("leak.env:1:10"), "{err}");
            assert!(s.rev(&format!("l{}", i - 3)).is_none());
        }
    }
    assert!(s.leftovers().is_empty());
}

#[test]
fn push_into_an_empty_repository_checks_everything_without_a_policy() {
    let s = Server::new();
    s.protect("");
    let g = client(&s);
    g.write(".leakscan.toml", "[allowlist]\npaths = [\"**\"]\n");
    g.write("a.env", secret_line(1218));
    g.commit_all("first");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("a.env:1:10"), "{err}");
    assert!(err.contains("default branch has no commits yet"), "{err}");
    assert_eq!(s.rev("main"), None);
}

// ---------------------------------------------------------------------------
// Client side

/// `PATH` with the leakscan under test first.
fn path_with_leakscan() -> OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_leakscan"))
        .parent()
        .unwrap()
        .to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&rest))).unwrap()
}

#[test]
fn pre_push_hook_blocks_commits_the_remote_lacks() {
    let s = Server::new();
    let g = client(&s);
    // Already on the remote (pushed before the hook): an old secret.
    g.write("old.env", secret_line(1219));
    g.commit_all("old");
    assert_eq!(push(&g, &["origin", "main"]).0, 0);
    run(leakscan()
        .current_dir(g.path())
        .args(["install-hook", "--pre-push"]))
    .expect(0);
    let hook = PathBuf::from(g.git(&["rev-parse", "--git-path", "hooks/pre-push"]).trim());
    let hook = if hook.is_absolute() {
        hook
    } else {
        g.path().join(hook)
    };
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("leakscan pre-push"));
    let path = path_with_leakscan();
    let env = [("PATH", &path)];
    // A clean commit on top of known history: the old secret is not rescanned.
    g.write("b.txt", "fine\n");
    g.commit_all("clean");
    let (code, err) = push_env(&g, &["origin", "main"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no new secrets in 1 commit to push"), "{err}");
    // A commit adding a secret is stopped before anything is sent.
    let sent = s.rev("main");
    g.write("new.env", secret_line(1220));
    g.commit_all("leak");
    let (code, err) = push_env(&g, &["origin", "main"], &env);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("push refused: 1 new secret in 1 pushed commit"),
        "{err}"
    );
    assert!(err.contains("new.env:1:10  github-pat"), "{err}");
    assert!(err.contains("git push --no-verify"), "{err}");
    assert!(!err.contains("old.env"), "{err}");
    assert_eq!(s.rev("main"), sent);
    // A new branch is checked from where it leaves the remote's history.
    g.git(&["checkout", "-q", "-b", "topic", "HEAD~1"]);
    g.write("t.txt", "topic\n");
    g.commit_all("topic");
    let (code, err) = push_env(&g, &["origin", "topic"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("in 1 commit to push"), "{err}");
    // And uninstall removes it.
    run(leakscan()
        .current_dir(g.path())
        .args(["uninstall-hook", "--pre-push"]))
    .expect(0);
    assert!(!hook.exists());
}

#[test]
fn pre_push_reads_gits_input_directly() {
    let g = Git::init();
    g.write("a.txt", "a\n");
    g.commit_all("a");
    let base = head(&g);
    g.write("k.env", secret_line(1221));
    g.commit_all("k");
    let tip = head(&g);
    let zero = "0".repeat(40);
    // The remote has `base`: only the second commit is checked.
    let input = format!("refs/heads/main {tip} refs/heads/main {base}\n");
    let r = run_with_stdin(
        leakscan()
            .current_dir(g.path())
            .args(["pre-push", "origin", "file:///nowhere"]),
        Some(input.as_bytes()),
    )
    .expect(1);
    assert!(r.stderr.contains("k.env:1:10"), "{}", r.stderr);
    // Deleting a remote branch sends nothing.
    let input = format!("(delete) {zero} refs/heads/old {base}\n");
    run_with_stdin(
        leakscan()
            .current_dir(g.path())
            .args(["pre-push", "origin", "x"]),
        Some(input.as_bytes()),
    )
    .expect(0);
    // Garbage input is an error naming the line.
    let r = run_with_stdin(
        leakscan()
            .current_dir(g.path())
            .args(["pre-push", "origin", "x"]),
        Some(b"refs/heads/main nothex\n"),
    )
    .expect(2);
    assert!(r.stderr.contains("pre-push input, line 1"), "{}", r.stderr);
}

#[test]
fn pre_push_under_the_pre_commit_framework_reads_its_environment() {
    // pre-commit consumes git's input and passes the push in PRE_COMMIT_*
    // variables; empty input must not mean "nothing to check".
    let g = Git::init();
    g.write("a.txt", "a\n");
    g.commit_all("a");
    let base = head(&g);
    g.write("k.env", secret_line(1231));
    g.commit_all("k");
    let tip = head(&g);
    let r = run_with_stdin(
        leakscan()
            .current_dir(g.path())
            .env("PRE_COMMIT_FROM_REF", &base)
            .env("PRE_COMMIT_TO_REF", &tip)
            .env("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
            .env("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
            .args(["pre-push"]),
        Some(b""),
    )
    .expect(1);
    assert!(r.stderr.contains("k.env:1:10"), "{}", r.stderr);
    // Only what the remote lacks: from the tip to itself is nothing new.
    run_with_stdin(
        leakscan()
            .current_dir(g.path())
            .env("PRE_COMMIT_FROM_REF", &tip)
            .env("PRE_COMMIT_TO_REF", &tip)
            .args(["pre-push"]),
        Some(b""),
    )
    .expect(0);
}

#[test]
fn pre_push_hook_keeps_and_feeds_an_existing_hook() {
    let s = Server::new();
    let g = client(&s);
    g.write("a.txt", "a\n");
    g.commit_all("a");
    let hooks = g.path().join(".git").join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let seen = g.sibling("seen.txt");
    let old = hooks.join("pre-push");
    std::fs::write(&old, format!("#!/bin/sh\ncat > '{}'\n", seen.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let r = run(leakscan()
        .current_dir(g.path())
        .args(["install-hook", "--pre-push"]))
    .expect(2);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    run(leakscan()
        .current_dir(g.path())
        .args(["install-hook", "--pre-push", "--force"]))
    .expect(0);
    assert!(hooks.join("pre-push.local").exists());
    let path = path_with_leakscan();
    g.write("k.env", secret_line(1224));
    g.commit_all("k");
    let (code, err) = push_env(&g, &["origin", "main"], &[("PATH", &path)]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("k.env:1:10"), "{err}");
    // The kept hook ran first and got git's input line.
    let input = std::fs::read_to_string(&seen).unwrap();
    assert!(
        input.starts_with(&format!("refs/heads/main {} refs/heads/main ", head(&g))),
        "{input:?}"
    );
    assert_eq!(s.rev("main"), None);
    run(leakscan()
        .current_dir(g.path())
        .args(["uninstall-hook", "--pre-push"]))
    .expect(0);
    assert!(std::fs::read_to_string(&old).unwrap().contains("cat >"));
}

// #18 item 7: a secret that also appears in a commit subject (and a path)
// was printed in full, without --show-secrets, in history's JSON `summary`,
// the HTML report's row title, pre-receive's `remote:` lines and pre-push's
// stderr. Every secret found in a run is redacted wherever it appears.
#[test]
fn secret_in_a_commit_subject_or_path_is_redacted_everywhere() {
    let token = fake::github_pat(1871);
    let (s, g) = setup("");
    g.write("deploy.env", format!("token = \"{token}\"\n"));
    g.write(&format!("keys/{token}.txt"), "x\n");
    g.commit_all(&format!("add token {token} for deploys"));
    // history: JSON and HTML (text and SARIF go through the same redactor).
    for format in ["json", "html", "sarif", "text"] {
        let r = run(leakscan()
            .current_dir(g.path())
            .args(["history", "--all", "--format", format]));
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(
            !r.stdout.contains(&token) && !r.stderr.contains(&token),
            "{format}: the token is printed in full:\n{}",
            r.stdout
        );
        if format == "json" {
            assert!(
                r.stdout.contains("add token ghp_…(40) for deploys"),
                "{}",
                r.stdout
            );
        }
    }
    // --show-secrets still shows it.
    let r = run(leakscan().current_dir(g.path()).args([
        "history",
        "--all",
        "--format",
        "json",
        "--show-secrets",
    ]));
    assert!(r.stdout.contains(&format!("add token {token} for deploys")));
    // pre-receive (refused).
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("push refused"), "{err}");
    assert!(
        !err.contains(&token),
        "remote: lines show the token:\n{err}"
    );
    assert!(err.contains("\"add token ghp_…(40) for deploys\""), "{err}");
    // pre-push, on the client.
    s.hook("exit 0\n");
    run(leakscan()
        .current_dir(g.path())
        .args(["install-hook", "--pre-push"]))
    .expect(0);
    let path = path_with_leakscan();
    let (code, err) = push_env(&g, &["origin", "main"], &[("PATH", &path)]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("push refused"), "{err}");
    assert!(!err.contains(&token), "pre-push shows the token:\n{err}");
}

// #18 item 5: a push whose only new blob is over the size limit (a token on
// its first line) was accepted, "no new secrets in 1 new commit (0 blobs)".
// Content the hook did not read is never accepted: pre-receive refuses the
// push saying why, and so does pre-push.
#[test]
fn blob_over_the_size_limit_is_not_accepted_unread() {
    let (s, g) = setup("--max-file-size 16K");
    let before = s.rev("main");
    let mut big = secret_line(1851);
    while big.len() < 64 << 10 {
        big.push_str("filler line of a large generated file\n");
    }
    g.write("big.txt", &big);
    g.commit_all("big file");
    let (code, err) = push(&g, &["origin", "main"]);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("push refused") && err.contains("over the size limit"),
        "{err}"
    );
    assert_eq!(s.rev("main"), before);
    // pre-push, given git's input directly.
    let tip = head(&g);
    let base = before.unwrap();
    let input = format!("refs/heads/main {tip} refs/heads/main {base}\n");
    let r = run_with_stdin(
        leakscan().current_dir(g.path()).args([
            "pre-push",
            "--max-file-size",
            "16K",
            "origin",
            "file:///nowhere",
        ]),
        Some(input.as_bytes()),
    )
    .expect(2);
    assert!(r.stderr.contains("over the size limit"), "{}", r.stderr);
}

#[test]
fn push_policy_error_names_the_default_branch_not_a_flag_never_given() {
    let (s, g) = setup("");
    // The server's `main` (its policy revision) damaged: it names a blob.
    let blob = git_command(&s.path)
        .args(["hash-object", "-w", "--stdin"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let blob = String::from_utf8(blob.stdout).unwrap();
    let blob = blob.trim();
    std::fs::write(s.path.join("refs/heads/main"), format!("{blob}\n")).unwrap();
    g.write("b.txt", "b\n");
    g.commit_all("b");
    let (code, err) = push(&g, &["origin", "main:feature"]);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(&format!("the policy revision (the default branch) {blob}")),
        "{err}"
    );
    assert!(!err.contains("--baseline-from"), "{err}");
}
