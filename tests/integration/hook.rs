//! `leakscan install-hook` / `uninstall-hook` (#3) and the hook itself, run
//! by real `git commit`s: it blocks a commit that adds a secret and lets a
//! clean one through, sees what `git commit -a` and `git commit PATH` record,
//! goes where git looks (core.hooksPath, linked worktrees), never loses a hook
//! that was there before, fails closed, and `.pre-commit-hooks.yaml`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::fixture::{git_command, git_in, Git};
use crate::util::*;

/// `PATH` with the leakscan under test first.
fn path_with_leakscan() -> OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_leakscan"))
        .parent()
        .unwrap()
        .to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&rest))).unwrap()
}

/// `PATH` without any directory holding a `leakscan`.
fn path_without_leakscan() -> OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::env::split_paths(&rest).filter(|d| !d.join("leakscan").exists()))
        .unwrap()
}

/// `git commit -m MSG ARGS…` in `dir` with `path` as PATH: (exit code, stderr).
fn commit(dir: &Path, path: &OsString, args: &[&str]) -> (i32, String) {
    let out = git_command(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .args(["commit", "-q", "-m", "change"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn commits(dir: &Path) -> usize {
    git_in(dir, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

fn hook_cmd(dir: &Path, what: &str) -> std::process::Command {
    let mut c = leakscan();
    c.current_dir(dir).arg(what);
    c
}

/// Where git itself will look for the pre-commit hook.
fn git_hook_path(dir: &Path) -> PathBuf {
    let p = PathBuf::from(git_in(dir, &["rev-parse", "--git-path", "hooks/pre-commit"]).trim());
    if p.is_absolute() {
        p
    } else {
        dir.join(p)
    }
}

fn repo_with_file() -> Git {
    let g = Git::init();
    g.write("a.py", "x = 1\n");
    g.commit_all("init");
    g
}

#[test]
fn installed_hook_blocks_a_commit_that_adds_a_secret() {
    let g = repo_with_file();
    let r = run(&mut hook_cmd(g.path(), "install-hook")).expect(0);
    let hook = git_hook_path(g.path());
    assert_eq!(hook, g.path().join(".git/hooks/pre-commit"));
    assert!(
        r.stderr.contains("installed the pre-commit hook"),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(
        text.starts_with("#!/bin/sh\n# leakscan-hook: pre-commit"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111,
            0o111
        );
    }
    let path = path_with_leakscan();
    g.write("a.py", format!("x = 1\ny = \"{}\"\n", fake::github_pat(40)));
    g.git(&["add", "a.py"]);
    let (code, err) = commit(g.path(), &path, &[]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("a.py:2:6  github"), "{err}");
    assert!(
        err.contains("the commit is blocked") && err.contains("--no-verify"),
        "{err}"
    );
    assert_eq!(commits(g.path()), 1);
    // Without the secret the same commit goes through.
    g.write("a.py", "x = 1\ny = 2\n");
    g.git(&["add", "a.py"]);
    let (code, err) = commit(g.path(), &path, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(commits(g.path()), 2);
}

#[test]
fn hook_sees_what_commit_a_and_commit_path_record() {
    // `git commit -a` and `git commit PATH` build a temporary index and name
    // it in GIT_INDEX_FILE: the secret is in no file of the normal index.
    let g = repo_with_file();
    run(&mut hook_cmd(g.path(), "install-hook")).expect(0);
    let path = path_with_leakscan();
    g.write("a.py", format!("x = 1\ny = \"{}\"\n", fake::github_pat(41)));
    let (code, err) = commit(g.path(), &path, &["-a"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("a.py:2:6"), "{err}");
    let (code, err) = commit(g.path(), &path, &["--", "a.py"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("a.py:2:6"), "{err}");
    assert_eq!(commits(g.path()), 1);
}

#[test]
fn install_hook_honours_core_hooks_path() {
    let g = repo_with_file();
    g.git(&["config", "core.hooksPath", ".githooks"]);
    run(&mut hook_cmd(g.path(), "install-hook")).expect(0);
    assert!(g.path().join(".githooks/pre-commit").is_file());
    assert_eq!(
        git_hook_path(g.path()),
        g.path().join(".githooks/pre-commit")
    );
    assert!(!g.path().join(".git/hooks/pre-commit").exists());

    let abs = g.sibling("shared-hooks");
    g.git(&["config", "core.hooksPath", abs.to_str().unwrap()]);
    // From a subdirectory, too.
    std::fs::create_dir_all(g.path().join("src")).unwrap();
    run(&mut hook_cmd(&g.path().join("src"), "install-hook")).expect(0);
    assert!(abs.join("pre-commit").is_file());
    g.write("a.py", format!("x = 1\ny = \"{}\"\n", fake::github_pat(42)));
    g.git(&["add", "a.py"]);
    let (code, err) = commit(g.path(), &path_with_leakscan(), &[]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("a.py:2:6"), "{err}");
}

#[test]
fn install_hook_from_a_linked_worktree_uses_the_common_hooks() {
    let g = repo_with_file();
    let wt = g.sibling("wt");
    g.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    run(&mut hook_cmd(&wt, "install-hook")).expect(0);
    assert!(g.path().join(".git/hooks/pre-commit").is_file());
    assert_eq!(git_hook_path(&wt), g.path().join(".git/hooks/pre-commit"));
    std::fs::write(
        wt.join("a.py"),
        format!("x = 1\ny = \"{}\"\n", fake::github_pat(43)),
    )
    .unwrap();
    git_in(&wt, &["add", "a.py"]);
    let (code, err) = commit(&wt, &path_with_leakscan(), &[]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("a.py:2:6"), "{err}");
}

const OTHER_HOOK: &str =
    "#!/bin/sh\necho other-hook-ran >> \"$(git rev-parse --git-dir)/other-hook.log\"\nexit 0\n";

fn write_other_hook(g: &Git) -> PathBuf {
    let hook = g.path().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, OTHER_HOOK).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    hook
}

#[test]
fn install_hook_refuses_to_replace_another_hook() {
    let g = repo_with_file();
    let hook = write_other_hook(&g);
    let r = run(&mut hook_cmd(g.path(), "install-hook")).expect(2);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), OTHER_HOOK);
    assert!(!hook.with_file_name("pre-commit.local").exists());
}

#[test]
fn install_hook_force_keeps_the_old_hook_and_runs_it() {
    let g = repo_with_file();
    let hook = write_other_hook(&g);
    let r = run(hook_cmd(g.path(), "install-hook").arg("--force")).expect(0);
    let local = hook.with_file_name("pre-commit.local");
    assert!(r.stderr.contains("pre-commit.local"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&local).unwrap(), OTHER_HOOK);
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("leakscan-hook"));
    let path = path_with_leakscan();
    g.write("a.py", "x = 2\n");
    g.git(&["add", "a.py"]);
    let (code, err) = commit(g.path(), &path, &[]);
    assert_eq!(code, 0, "{err}");
    let log = g.path().join(".git/other-hook.log");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "other-hook-ran\n");
    // The old hook still has its say: when it fails, the commit is blocked.
    std::fs::write(&local, "#!/bin/sh\necho old hook says no >&2\nexit 1\n").unwrap();
    g.write("a.py", "x = 3\n");
    g.git(&["add", "a.py"]);
    let (code, err) = commit(g.path(), &path, &[]);
    assert_ne!(code, 0);
    assert!(err.contains("old hook says no"), "{err}");
    // Installing again only refreshes our hook.
    run(&mut hook_cmd(g.path(), "install-hook")).expect(0);
    assert!(local.exists());
}

#[test]
fn uninstall_hook_removes_only_ours_and_restores_the_old_one() {
    let g = repo_with_file();
    let r = run(&mut hook_cmd(g.path(), "uninstall-hook")).expect(0);
    assert!(r.stderr.contains("no pre-commit hook"), "{}", r.stderr);

    let hook = write_other_hook(&g);
    let r = run(&mut hook_cmd(g.path(), "uninstall-hook")).expect(2);
    assert!(
        r.stderr.contains("not installed by leakscan"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), OTHER_HOOK);

    run(hook_cmd(g.path(), "install-hook").arg("--force")).expect(0);
    let r = run(&mut hook_cmd(g.path(), "uninstall-hook")).expect(0);
    assert!(
        r.stderr.contains("restored the previous one"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), OTHER_HOOK);
    assert!(!hook.with_file_name("pre-commit.local").exists());

    std::fs::remove_file(&hook).unwrap();
    run(&mut hook_cmd(g.path(), "install-hook")).expect(0);
    run(&mut hook_cmd(g.path(), "uninstall-hook")).expect(0);
    assert!(!hook.exists());
}

#[test]
fn hook_fails_closed_when_leakscan_is_not_on_path() {
    let g = repo_with_file();
    run(&mut hook_cmd(g.path(), "install-hook")).expect(0);
    g.write("a.py", "x = 2\n");
    g.git(&["add", "a.py"]);
    let (code, err) = commit(g.path(), &path_without_leakscan(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("'leakscan' is not on PATH") && err.contains("commit blocked"),
        "{err}"
    );
    assert_eq!(commits(g.path()), 1);
}

#[test]
fn hook_blocks_the_commit_when_leakscan_fails() {
    let g = repo_with_file();
    run(&mut hook_cmd(g.path(), "install-hook")).expect(0);
    // Staged: the hook judges the commit by the config it records.
    g.write(".leakscan.toml", "this is = not [valid toml\n");
    g.write("a.py", "x = 2\n");
    g.git(&["add", "a.py", ".leakscan.toml"]);
    let (code, err) = commit(g.path(), &path_with_leakscan(), &[]);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains(".leakscan.toml:1"),
        "leakscan's own message says why: {err}"
    );
    assert!(err.contains("leakscan failed (exit code 2"), "{err}");
    assert_eq!(commits(g.path()), 1);
}

#[test]
fn pre_commit_hooks_yaml_declares_leakscan() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    for line in [
        "- id: leakscan",
        "  entry: leakscan staged",
        "  language: rust",
        "  pass_filenames: false",
        "  stages: [pre-commit]",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}
