//! `leakscan staged` judges a commit by the configuration the commit
//! records: `.leakscan.toml` and the baseline as staged in the index, never
//! an edit left in the work tree (which would let an unstaged file loosen
//! the hook), through the binary on repositories built with `git`.

use crate::fixture::Git;
use crate::util::*;

const ALLOW_FIXTURES: &str = "[allowlist]\npaths = [\"fixtures/**\"]\n";

/// A repository with one commit and a fake token staged under `fixtures/`.
fn token_staged() -> Git {
    let g = Git::init();
    g.write("README.md", "# demo\n");
    g.commit_all("init");
    g.write(
        "fixtures/token.py",
        format!("TOKEN = \"{}\"\n", fake::github_pat(41)),
    );
    g.git(&["add", "fixtures/token.py"]);
    g
}

#[test]
fn staged_config_allowlist_applies_to_the_commit() {
    let g = token_staged();
    g.write(".leakscan.toml", ALLOW_FIXTURES);
    g.git(&["add", ".leakscan.toml"]);
    // What the commit records counts, even when the work tree is stricter.
    g.write(".leakscan.toml", "disable = []\n");
    let r = g.staged().expect(0);
    assert_eq!(
        r.json()["stats"]["suppressed"]["allowlist"],
        1,
        "{}",
        r.stdout
    );
}

#[test]
fn config_only_in_the_work_tree_does_not_loosen_the_hook() {
    let g = token_staged();
    // Never added: the commit records no config.
    g.write(".leakscan.toml", ALLOW_FIXTURES);
    let r = g.staged().expect(1);
    assert!(
        r.stderr.contains(".leakscan.toml is not staged"),
        "{}",
        r.stderr
    );
    // Committed strict, then loosened in the work tree without `git add`.
    g.write(".leakscan.toml", "disable = []\n");
    g.git(&["add", ".leakscan.toml"]);
    // Only the config: the token stays staged.
    g.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "config",
        "--",
        ".leakscan.toml",
    ]);
    g.write(".leakscan.toml", ALLOW_FIXTURES);
    let r = g.staged().expect(1);
    assert_eq!(r.findings().len(), 1);
    assert!(
        r.stderr
            .contains(".leakscan.toml has changes not staged for commit"),
        "{}",
        r.stderr
    );
    // Removed from the index (`git rm --cached`) though still on disk.
    g.git(&["add", ".leakscan.toml"]);
    g.staged().expect(0);
    g.git(&["rm", "-q", "--cached", ".leakscan.toml"]);
    g.staged().expect(1);
}

#[test]
fn malformed_staged_config_exits_2_naming_file_and_line() {
    let g = token_staged();
    g.write(".leakscan.toml", "disable = []\n\n[allowlist\n");
    g.git(&["add", ".leakscan.toml"]);
    // Fixed in the work tree only: the staged version is still the broken one.
    g.write(".leakscan.toml", ALLOW_FIXTURES);
    let r = g.staged().expect(2);
    assert!(r.stderr.contains(".leakscan.toml:3:"), "{}", r.stderr);
    assert!(r.stderr.contains("staged version"), "{}", r.stderr);
    g.git(&["add", ".leakscan.toml"]);
    g.staged().expect(0);
}

#[test]
fn staged_baseline_accepts_a_finding_only_once_added() {
    let g = token_staged();
    run(leakscan()
        .current_dir(g.path())
        .args(["baseline", "update", "-q"]))
    .expect(0);
    let r = g.staged().expect(1);
    assert!(
        r.stderr.contains(".leakscan-baseline.json is not staged"),
        "{}",
        r.stderr
    );
    g.git(&["add", ".leakscan-baseline.json"]);
    let r = g.staged().expect(0);
    assert_eq!(
        r.json()["stats"]["suppressed"]["baseline"],
        1,
        "{}",
        r.stdout
    );
    // A baseline named by the staged config's `baseline` key is read from
    // the index too.
    std::fs::create_dir(g.path().join("security")).unwrap();
    g.git(&["mv", ".leakscan-baseline.json", "security/baseline.json"]);
    g.write(".leakscan.toml", "baseline = \"security/baseline.json\"\n");
    g.git(&["add", ".leakscan.toml"]);
    g.staged().expect(0);
    g.git(&["rm", "-q", "--cached", "security/baseline.json"]);
    g.staged().expect(1);
}
