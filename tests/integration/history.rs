//! `leakscan history`: which commits are scanned, which commit each secret is
//! attributed to, and how unusual repositories (bare, shallow, damaged, with
//! submodules, LFS, binary or huge blobs, non-UTF-8 paths) are handled.

use std::path::Path;

use git2::Oid;
use serde_json::Value;

use crate::fixture::in_process::{TempRepo, AUTHOR, EMAIL};
use crate::util::*;

/// `leakscan history --repo <repo> --format json --show-secrets <args>`.
fn history(repo: &Path, args: &[&str]) -> Run {
    run(leakscan()
        .arg("history")
        .arg("--repo")
        .arg(repo)
        .args(["--format", "json", "--show-secrets"])
        .args(args))
}

/// (path, line, secret, commit id) of every finding, in output order.
fn found(r: &Run) -> Vec<(String, u64, String, String)> {
    r.findings()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("<bytes>").to_string(),
                f["line"].as_u64().unwrap(),
                f["secret"].as_str().unwrap().to_string(),
                f["commit"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(path: &str, line: u64, secret: &str, commit: Oid) -> (String, u64, String, String) {
    (
        path.to_string(),
        line,
        secret.to_string(),
        commit.to_string(),
    )
}

fn stats(r: &Run) -> Value {
    r.json()["stats"].clone()
}

fn skipped(r: &Run, reason: &str) -> u64 {
    stats(r)["skipped"][reason].as_u64().unwrap_or(0)
}

/// A config line holding `tok`, as the built-in GitHub token rule sees it.
fn line(tok: &str) -> String {
    format!("token = \"{tok}\"\n")
}

#[test]
fn secret_is_attributed_to_the_commit_that_introduced_it() {
    let r = TempRepo::new();
    let tok = fake::github_pat(301);
    r.write("README.md", "hello\n");
    r.commit("Initial commit");
    r.write(
        "config/app.toml",
        format!("[app]\nname = \"x\"\n{}", line(&tok)),
    );
    let added = r.commit("Add app config\n\nWith a body that is not the summary.");
    r.write(
        "config/app.toml",
        format!("[app]\nname = \"y\"\n{}debug = true\n", line(&tok)),
    );
    r.commit("Rename the app");
    r.write("README.md", "hello again\n");
    r.commit("Touch the readme");

    let run = history(r.path(), &[]).expect(1);
    assert_eq!(found(&run), vec![row("config/app.toml", 3, &tok, added)]);
    let f = &run.findings()[0];
    assert_eq!(f["column"], 10);
    assert_eq!(f["commit"]["author"], AUTHOR);
    assert_eq!(f["commit"]["email"], EMAIL);
    assert_eq!(f["commit"]["date"], "2024-01-02T00:00:00+00:00");
    assert_eq!(f["commit"]["summary"], "Add app config");
    assert!(f.get("occurrences").is_none(), "{f}");
    let s = stats(&run);
    assert_eq!(s["commits"], 4);
    // README twice, config twice: every distinct blob once.
    assert_eq!(s["scanned"], 4);
    assert!(
        run.stderr.contains("4 commits, scanned 4 blobs"),
        "{}",
        run.stderr
    );
}

#[test]
fn clean_history_exits_0() {
    let r = TempRepo::new();
    r.write("a.txt", "nothing here\n");
    r.commit("one");
    r.write("a.txt", "still nothing\n");
    r.commit("two");
    let run = history(r.path(), &[]).expect(0);
    assert!(run.findings().is_empty());
    assert_eq!(stats(&run)["commits"], 2);
    assert_eq!(stats(&run)["scanned"], 2);
}

#[test]
fn secrets_deleted_renamed_or_edited_away_are_found() {
    let r = TempRepo::new();
    let (gone, moved, edited) = (
        fake::github_pat(311),
        fake::github_pat(312),
        fake::github_pat(313),
    );
    r.write("old/creds.env", line(&gone));
    r.write("deploy.sh", format!("#!/bin/sh\n{}", line(&moved)));
    r.write("app.cfg", format!("a = 1\n{}", line(&edited)));
    let c1 = r.commit("Add files");
    r.rm("old/creds.env");
    let c2 = r.commit("Remove credentials");
    r.mv("deploy.sh", "tools/deploy.sh");
    let c3 = r.commit("Move deploy script");
    r.write("app.cfg", "a = 1\n# the token comes from the environment\n");
    let c4 = r.commit("Read the token from the environment");
    r.rm("tools/deploy.sh");
    r.commit("Drop the deploy script");
    let _ = (c2, c4);

    let run = history(r.path(), &[]).expect(1);
    // A rename puts the secret at a new path: reported there too, at the
    // commit that renamed the file.
    assert_eq!(
        found(&run),
        vec![
            row("app.cfg", 2, &edited, c1),
            row("deploy.sh", 2, &moved, c1),
            row("old/creds.env", 1, &gone, c1),
            row("tools/deploy.sh", 2, &moved, c3),
        ]
    );
}

#[test]
fn side_branch_secret_is_attributed_to_its_commit_not_the_merge() {
    let r = TempRepo::new();
    let tok = fake::github_pat(321);
    let body: String = (1..=10).map(|i| format!("setting{i} = {i}\n")).collect();
    r.write("settings.ini", &body);
    r.commit("base");
    r.checkout("feature");
    r.write("settings.ini", format!("{body}{}", line(&tok)));
    let on_branch = r.commit("feature: add token");
    r.checkout("main");
    // main edits the same file elsewhere, so the merge creates a new blob
    // that still carries the secret.
    r.write(
        "settings.ini",
        body.replace("setting1 = 1", "setting1 = one"),
    );
    r.commit("main: tweak");
    let merge = r.merge("feature", "Merge feature");

    let run = history(r.path(), &["--all-occurrences"]).expect(1);
    assert_eq!(found(&run), vec![row("settings.ini", 11, &tok, on_branch)]);
    let occ: Vec<(String, u64)> = run.findings()[0]["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["commit"].as_str().unwrap().to_string(),
                o["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        occ,
        vec![(on_branch.to_string(), 11), (merge.to_string(), 11)]
    );
}

#[test]
fn merge_that_only_joins_branches_introduces_nothing() {
    let r = TempRepo::new();
    let tok = fake::github_pat(325);
    r.write("a.txt", "a\n");
    r.commit("base");
    r.checkout("feature");
    r.write("b.env", line(&tok));
    let on_branch = r.commit("feature");
    r.checkout("main");
    r.write("c.txt", "c\n");
    r.commit("main");
    r.merge("feature", "Merge feature");
    let run = history(r.path(), &["--all-occurrences"]).expect(1);
    assert_eq!(found(&run), vec![row("b.env", 1, &tok, on_branch)]);
    assert_eq!(
        run.findings()[0]["occurrences"].as_array().unwrap().len(),
        1
    );
    // base, feature, main, merge: a.txt, b.env, c.txt; the merge adds no blob.
    assert_eq!(stats(&run)["scanned"], 3);
    assert_eq!(stats(&run)["commits"], 4);
}

#[test]
fn evil_merge_secret_is_attributed_to_the_merge() {
    let r = TempRepo::new();
    let tok = fake::github_pat(331);
    r.write("a.txt", "a\n");
    r.commit("base");
    r.checkout("feature");
    r.write("b.txt", "b\n");
    r.commit("feature");
    r.checkout("main");
    r.write("c.txt", "c\n");
    r.commit("main");
    assert!(r.begin_merge("feature").is_empty());
    // Not in either parent: the merge commit itself adds it.
    r.write("a.txt", format!("a\n{}", line(&tok)));
    let merge = r.commit("Merge feature");
    let run = history(r.path(), &[]).expect(1);
    assert_eq!(found(&run), vec![row("a.txt", 2, &tok, merge)]);
}

#[test]
fn conflict_resolution_secret_is_attributed_to_the_merge() {
    let r = TempRepo::new();
    let (ours, resolved) = (fake::github_pat(335), fake::github_pat(336));
    r.write("conf.env", "TOKEN=none\n");
    r.commit("base");
    r.checkout("feature");
    r.write("conf.env", "TOKEN=feature\n");
    r.commit("feature");
    r.checkout("main");
    r.write("conf.env", format!("TOKEN={ours}\n"));
    let on_main = r.commit("main");
    assert_eq!(r.begin_merge("feature"), vec!["conf.env".to_string()]);
    r.write("conf.env", format!("TOKEN={resolved}\n"));
    let merge = r.commit("Merge feature, resolving conf.env");
    let run = history(r.path(), &[]).expect(1);
    let mut want = vec![
        row("conf.env", 1, &ours, on_main),
        row("conf.env", 1, &resolved, merge),
    ];
    want.sort_by(|a, b| a.2.cmp(&b.2));
    let mut got = found(&run);
    got.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(got, want);
}

#[test]
fn all_covers_branches_tags_remotes_and_stash() {
    let r = TempRepo::new();
    let toks: Vec<String> = (341..345).map(fake::github_pat).collect();
    r.write("a.txt", "a\n");
    r.commit("base");
    r.checkout("unmerged");
    r.write("branch.env", line(&toks[0]));
    let on_branch = r.commit("only on a branch");
    r.checkout("main");
    r.checkout("released");
    r.write("tag.env", line(&toks[1]));
    let tagged = r.commit("only under a tag");
    r.tag("v1.0");
    r.checkout("main");
    r.delete_ref("refs/heads/released");
    r.checkout("remote-work");
    r.write("remote.env", line(&toks[2]));
    let remote = r.commit("only on a remote");
    r.checkout("main");
    r.set_ref("refs/remotes/origin/work", remote);
    r.delete_ref("refs/heads/remote-work");
    r.write("stashed.env", line(&toks[3]));
    let stash = r.stash("work in progress");

    // A ref to a blob, not a commit.
    let blob = r.blob_at(r.head(), "a.txt");
    r.set_ref("refs/tags/just-a-blob", blob);

    // HEAD alone reaches none of them.
    let run = history(r.path(), &[]).expect(0);
    assert_eq!(stats(&run)["commits"], 1);

    let run = history(r.path(), &["--all"]).expect(1);
    let got = found(&run);
    assert_eq!(got.len(), 4, "{got:#?}");
    assert_eq!(got[0], row("branch.env", 1, &toks[0], on_branch));
    assert_eq!(got[1], row("remote.env", 1, &toks[2], remote));
    // A stash records untracked files in its third parent.
    assert_eq!(got[2].0, "stashed.env");
    assert_ne!(got[2].3, stash.to_string());
    let stash_parents: Vec<String> = r
        .repo()
        .find_commit(stash)
        .unwrap()
        .parent_ids()
        .map(|p| p.to_string())
        .collect();
    assert!(
        stash_parents.contains(&got[2].3),
        "{got:?} {stash_parents:?}"
    );
    assert_eq!(got[3], row("tag.env", 1, &toks[1], tagged));
    // The tagged blob is scanned as it is (clean here) and counted.
    assert_eq!(stats(&run)["tagged"], 1);
    let warnings = stats(&run)["warnings"].to_string();
    assert!(!warnings.contains("just-a-blob"), "{warnings}");
}

#[test]
fn range_and_since_commit_scan_only_what_the_range_introduces() {
    let r = TempRepo::new();
    let (old, new, from_main) = (
        fake::github_pat(351),
        fake::github_pat(352),
        fake::github_pat(353),
    );
    r.write("old.env", line(&old));
    r.commit("main: old secret");
    r.checkout("pr");
    r.write("new.env", line(&new));
    let pr_commit = r.commit("pr: new secret");
    r.checkout("main");
    r.write("main.env", line(&from_main));
    r.commit("main: another secret");
    r.checkout("pr");
    // Bringing main into the branch: main's blobs are not new in the range.
    r.merge("main", "Merge main into pr");
    r.write("notes.txt", "done\n");
    r.commit("pr: notes");

    let range = history(r.path(), &["main..pr"]).expect(1);
    assert_eq!(found(&range), vec![row("new.env", 1, &new, pr_commit)]);
    assert_eq!(stats(&range)["commits"], 3);
    // new.env and notes.txt: nothing from main is read again.
    assert_eq!(stats(&range)["scanned"], 2);

    let since = history(r.path(), &["--since-commit", "main"]).expect(1);
    assert_eq!(found(&since), found(&range));
    assert_eq!(stats(&since)["commits"], 3);

    let caret = history(r.path(), &["pr", "^main"]).expect(1);
    assert_eq!(found(&caret), found(&range));

    let full = history(r.path(), &[]).expect(1);
    assert_eq!(found(&full).len(), 3);

    let empty = history(r.path(), &["pr..pr"]).expect(0);
    assert_eq!(stats(&empty)["commits"], 0);
    assert_eq!(stats(&empty)["scanned"], 0);
}

#[test]
fn since_and_until_select_commits_by_date() {
    let r = TempRepo::new();
    let toks: Vec<String> = (361..365).map(fake::github_pat).collect();
    let mut ids = Vec::new();
    for (i, tok) in toks.iter().enumerate() {
        r.write(format!("day{i}.env"), line(tok));
        // Commit i is dated 2024-01-0{i+1}.
        ids.push(r.commit(&format!("day {i}")));
    }
    let run = history(
        r.path(),
        &["--since", "2024-01-02", "--until", "2024-01-03"],
    )
    .expect(1);
    assert_eq!(
        found(&run),
        vec![
            row("day1.env", 1, &toks[1], ids[1]),
            row("day2.env", 1, &toks[2], ids[2])
        ]
    );
    assert_eq!(stats(&run)["commits"], 2);
    let run = history(r.path(), &["--since", "2024-01-03T12:00:00+02:00"]).expect(1);
    assert_eq!(found(&run), vec![row("day3.env", 1, &toks[3], ids[3])]);
    let bad = history(r.path(), &["--since", "last tuesday"]).expect(2);
    assert!(
        bad.stderr.contains("--since `last tuesday`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn each_blob_is_scanned_once_however_many_commits_and_paths_carry_it() {
    let r = TempRepo::new();
    let tok = fake::github_pat(371);
    r.write("keys.env", line(&tok));
    let first = r.commit("add keys");
    for i in 0..12 {
        r.write("counter.txt", format!("{i}\n"));
        r.commit(&format!("count {i}"));
    }
    r.write("copy/keys.env", line(&tok));
    let copied = r.commit("copy keys");
    let run = history(r.path(), &[]).expect(1);
    // keys.env's blob once (at two paths), counter.txt in 12 versions.
    assert_eq!(stats(&run)["scanned"], 13);
    assert_eq!(stats(&run)["commits"], 14);
    assert_eq!(
        found(&run),
        vec![
            row("copy/keys.env", 1, &tok, copied),
            row("keys.env", 1, &tok, first)
        ]
    );
}

#[test]
fn all_occurrences_lists_every_introducing_commit() {
    let r = TempRepo::new();
    let tok = fake::github_pat(381);
    r.write("a.env", line(&tok));
    let c1 = r.commit("add");
    r.write("a.env", format!("# header\n{}", line(&tok)));
    let c2 = r.commit("header");
    r.write("a.env", format!("# header\n{}{}", line(&tok), line(&tok)));
    let c3 = r.commit("twice");
    let run = history(r.path(), &["--all-occurrences"]).expect(1);
    assert_eq!(found(&run), vec![row("a.env", 1, &tok, c1)]);
    let occ: Vec<(String, String, u64)> = run.findings()[0]["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["commit"].as_str().unwrap().to_string(),
                o["path"].as_str().unwrap().to_string(),
                o["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, u64)> = [(c1, 1), (c2, 2), (c3, 2), (c3, 3)]
        .iter()
        .map(|&(c, l)| (c.to_string(), "a.env".to_string(), l))
        .collect();
    assert_eq!(occ, want);
}

#[test]
fn bare_repository() {
    let r = TempRepo::new();
    let tok = fake::github_pat(391);
    r.write("a.env", line(&tok));
    let c1 = r.commit("add");
    r.checkout("other");
    r.write("b.env", line(&fake::github_pat(392)));
    r.commit("other");
    r.checkout("main");
    let bare = r.clone_bare();
    let run = history(bare.path(), &[]).expect(1);
    assert_eq!(found(&run), vec![row("a.env", 1, &tok, c1)]);
    let run = history(bare.path(), &["--all"]).expect(1);
    assert_eq!(found(&run).len(), 2);
}

#[test]
fn shallow_clone_warns_where_history_is_cut() {
    let r = TempRepo::new();
    let (lost, at_cut, later) = (
        fake::github_pat(401),
        fake::github_pat(402),
        fake::github_pat(403),
    );
    r.write("lost.env", line(&lost));
    r.write("kept.env", line(&at_cut));
    r.commit("before the cut");
    r.rm("lost.env");
    r.write("readme", "x\n");
    let boundary = r.commit("the cut");
    r.write("later.env", line(&later));
    let c3 = r.commit("after the cut");
    r.make_shallow(&[boundary]);

    let run = history(r.path(), &[]).expect(1);
    // The boundary commit has no parents here: what it holds is attributed to it.
    assert_eq!(
        found(&run),
        vec![
            row("kept.env", 1, &at_cut, boundary),
            row("later.env", 1, &later, c3)
        ]
    );
    let warnings = stats(&run)["warnings"].to_string();
    assert!(warnings.contains("shallow clone"), "{warnings}");
    assert!(warnings.contains(&boundary.to_string()), "{warnings}");
    assert!(
        run.stderr.contains(&format!(
            "shallow clone: history is cut at 1 commit ({boundary})"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(stats(&run)["commits"], 2);
}

#[test]
fn missing_and_corrupt_blobs_are_errors_and_the_scan_goes_on() {
    let r = TempRepo::new();
    let toks: Vec<String> = (411..414).map(fake::github_pat).collect();
    r.write("missing.env", line(&toks[0]));
    r.write("corrupt.env", line(&toks[1]));
    r.write("fine.env", line(&toks[2]));
    let c1 = r.commit("add");
    let missing = r.blob_at(c1, "missing.env");
    let corrupt = r.blob_at(c1, "corrupt.env");
    r.delete_object(missing).corrupt_object(corrupt);

    let run = history(r.path(), &[]).expect(2);
    assert_eq!(found(&run), vec![row("fine.env", 1, &toks[2], c1)]);
    assert_eq!(skipped(&run, "missing_object"), 2);
    let errors: Vec<String> = stats(&run)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains(&missing.to_string()) && e.contains("missing.env")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains(&corrupt.to_string()) && e.contains("corrupt.env")),
        "{errors:?}"
    );
    assert!(
        run.stderr.contains("2 errors (exit code 2)"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_tree_is_an_error_and_the_rest_is_scanned() {
    let r = TempRepo::new();
    let (inside, outside) = (fake::github_pat(421), fake::github_pat(422));
    r.write("sub/dir/a.env", line(&inside));
    r.write("b.env", line(&outside));
    let c1 = r.commit("add");
    let tree = r
        .repo()
        .find_commit(c1)
        .unwrap()
        .tree()
        .unwrap()
        .get_name("sub")
        .unwrap()
        .id();
    r.delete_object(tree);
    let run = history(r.path(), &[]).expect(2);
    assert_eq!(found(&run), vec![row("b.env", 1, &outside, c1)]);
    let errors = stats(&run)["errors"].to_string();
    assert!(errors.contains(&format!("tree {tree}")), "{errors}");
    assert_eq!(skipped(&run, "missing_object"), 1);
}

#[test]
fn missing_commit_is_an_error_and_later_history_is_scanned() {
    let r = TempRepo::new();
    let (lost, kept) = (fake::github_pat(431), fake::github_pat(432));
    r.write("lost.env", line(&lost));
    let c1 = r.commit("one");
    r.rm("lost.env");
    r.write("kept.env", line(&kept));
    let c2 = r.commit("two");
    r.write("x.txt", "x\n");
    let c3 = r.commit("three");
    r.delete_object(c1);
    let run = history(r.path(), &[]).expect(2);
    assert_eq!(found(&run), vec![row("kept.env", 1, &kept, c2)]);
    let errors = stats(&run)["errors"].to_string();
    assert!(
        errors.contains(&format!("commit {c1} (parent of {c2}) cannot be read")),
        "{errors}"
    );
    assert_eq!(stats(&run)["commits"], 2);
    let _ = c3;
}

#[test]
fn submodules_are_named_and_counted_not_scanned() {
    let r = TempRepo::new();
    let tok = fake::github_pat(441);
    r.write("a.txt", "a\n");
    let c1 = r.commit("base");
    r.submodule("vendor/lib", c1);
    r.submodule("third_party/zlib", c1);
    r.write("app.env", line(&tok));
    let c2 = r.commit("add submodules");
    let run = history(r.path(), &[]).expect(1);
    assert_eq!(found(&run), vec![row("app.env", 1, &tok, c2)]);
    assert_eq!(skipped(&run, "submodule"), 2);
    let warnings = stats(&run)["warnings"].to_string();
    assert!(warnings.contains("2 submodules not scanned"), "{warnings}");
    assert!(
        warnings.contains("third_party/zlib, vendor/lib"),
        "{warnings}"
    );
}

#[test]
fn lfs_pointers_and_huge_blobs_are_counted_binary_blobs_are_scanned() {
    let r = TempRepo::new();
    let toks: Vec<String> = (451..455).map(fake::github_pat).collect();
    r.write(
        "model.bin",
        format!(
            "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 12345\n{}",
            "ab".repeat(32),
            line(&toks[0])
        ),
    );
    let mut binary = b"\x7fELF\0\0\0".to_vec();
    binary.extend_from_slice(line(&toks[1]).as_bytes());
    r.write("tool", binary);
    let mut big = "filler line\n".repeat(200);
    big.push_str(&line(&toks[2]));
    r.write("dump.sql", &big);
    r.write("ok.env", line(&toks[3]));
    let c1 = r.commit("add");
    let run = history(r.path(), &["--max-file-size", "1K"]).expect(1);
    // A NUL byte no longer hides a token (#9): binary blobs are matched on
    // their printable runs.
    assert_eq!(
        found(&run),
        vec![row("ok.env", 1, &toks[3], c1), row("tool", 1, &toks[1], c1)]
    );
    assert_eq!(skipped(&run, "lfs_pointer"), 1);
    assert_eq!(skipped(&run, "binary"), 0);
    assert_eq!(skipped(&run, "too_large"), 1);
    assert_eq!(stats(&run)["scanned"], 2);
    assert_eq!(stats(&run)["binary"], 1);
    // Without the limit the dump is scanned (the default is 10 MiB).
    let run = history(r.path(), &[]).expect(1);
    assert_eq!(found(&run).len(), 3);
    assert_eq!(skipped(&run, "too_large"), 0);
}

#[test]
fn not_a_repository_is_a_clear_error() {
    let t = Tree::new();
    t.write("a.txt", "a\n");
    let run = history(t.path(), &[]).expect(2);
    assert!(
        run.stderr.contains("not a git repository"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    let run = history(&t.join("nope"), &[]).expect(2);
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
}

#[test]
fn unknown_revision_is_an_error() {
    let r = TempRepo::new();
    r.write("a.txt", "a\n");
    r.commit("one");
    let run = history(r.path(), &["no-such-branch"]).expect(2);
    assert!(
        run.stderr.contains("unknown revision `no-such-branch`"),
        "{}",
        run.stderr
    );
}

#[test]
fn empty_repository_has_nothing_to_scan() {
    let r = TempRepo::new();
    let run = history(r.path(), &[]).expect(0);
    assert!(run.findings().is_empty());
    assert!(
        stats(&run)["warnings"].to_string().contains("no commits"),
        "{}",
        run.stdout
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_are_carried_as_bytes() {
    use base64::Engine;
    use std::os::unix::ffi::OsStrExt;
    let r = TempRepo::new();
    let tok = fake::github_pat(461);
    let name: &[u8] = b"caf\xe9/cr\xe9ds.env";
    r.write(std::ffi::OsStr::from_bytes(name), line(&tok));
    r.commit("latin-1 names");
    let run = history(r.path(), &[]).expect(1);
    let f = &run.findings()[0];
    let b64 = f["path"]["bytes"].as_str().unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        name
    );
    assert_eq!(f["secret"], tok.as_str());
}

#[test]
fn output_is_sorted_and_deterministic() {
    let r = TempRepo::new();
    let toks: Vec<String> = (471..477).map(fake::github_pat).collect();
    r.write("z.env", format!("{}{}", line(&toks[0]), line(&toks[1])));
    r.write("a/b.env", line(&toks[2]));
    r.commit("one");
    r.write("m.env", line(&toks[3]));
    r.write("a/b.env", format!("{}{}", line(&toks[4]), line(&toks[2])));
    r.commit("two");
    r.checkout("side");
    r.write("a/a.env", line(&toks[5]));
    r.commit("three");
    let first = history(r.path(), &["--all", "-j", "2"]).expect(1);
    let paths: Vec<(String, u64)> = found(&first).into_iter().map(|f| (f.0, f.1)).collect();
    assert_eq!(
        paths,
        vec![
            ("a/a.env".to_string(), 1),
            ("a/b.env".to_string(), 1),
            ("a/b.env".to_string(), 1),
            ("m.env".to_string(), 1),
            ("z.env".to_string(), 1),
            ("z.env".to_string(), 2),
        ]
    );
    for threads in ["1", "3"] {
        let again = history(r.path(), &["--all", "-j", threads]).expect(1);
        assert_eq!(again.findings(), first.findings());
    }
}

#[test]
fn text_output_names_the_commit() {
    let r = TempRepo::new();
    let tok = fake::github_pat(481);
    r.write("a.env", line(&tok));
    let c1 = r.commit("add a token");
    let run = run(leakscan().arg("history").arg("--repo").arg(r.path())).expect(1);
    assert!(run.stdout.contains("a.env:1"), "{}", run.stdout);
    assert!(!run.stdout.contains(&tok), "{}", run.stdout);
    assert!(run.stdout.contains(&c1.to_string()[..12]), "{}", run.stdout);
}

#[test]
fn repository_is_found_from_a_subdirectory_and_its_config_applies() {
    let r = TempRepo::new();
    let (kept, allowed) = (fake::github_pat(491), fake::github_pat(492));
    r.write("src/app.env", line(&kept));
    r.write("fixtures/sample.env", line(&allowed));
    let c1 = r.commit("add");
    // The work tree's config (uncommitted) is the run's configuration.
    r.write(".leakscan.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    let run = run(leakscan().current_dir(r.path().join("src")).args([
        "history",
        "--format",
        "json",
        "--show-secrets",
    ]))
    .expect(1);
    assert_eq!(found(&run), vec![row("src/app.env", 1, &kept, c1)]);
    assert_eq!(stats(&run)["suppressed"]["allowlist"], 1);
}

/// Revision arguments are resolved by leakscan itself (ref names, ids,
/// `~N`/`^N` steps, `A...B`): the commits scanned are exactly the ones
/// `git rev-list` lists for the same arguments.
#[test]
fn revision_arguments_select_what_git_rev_list_selects() {
    let r = TempRepo::new();
    // One new secret per commit: the commits a run reports are the commits
    // it scanned.
    let mut seed = 330;
    let mut commit = |r: &TempRepo, file: &str, msg: &str| {
        seed += 1;
        r.write(file, line(&fake::github_pat(seed)));
        r.commit(msg)
    };
    commit(&r, "a.txt", "one");
    commit(&r, "b.txt", "two");
    r.branch("topic");
    commit(&r, "c.txt", "three");
    commit(&r, "d.txt", "four");
    r.checkout("topic");
    commit(&r, "t1.txt", "topic one");
    let t2 = commit(&r, "t2.txt", "topic two");
    r.tag("v1");
    r.checkout("main");
    r.merge("topic", "merge topic");
    commit(&r, "e.txt", "five");
    let short = &t2.to_string()[..9];
    for args in [
        vec!["HEAD~2..HEAD"],
        vec!["HEAD^..HEAD"],
        vec!["HEAD~1^2"],
        vec!["main...topic"],
        vec!["topic...main"],
        vec!["v1~1..main"],
        vec![short],
        vec!["main", "^HEAD~3"],
    ] {
        let out = std::process::Command::new("git")
            .current_dir(r.path())
            .arg("rev-list")
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git rev-list {args:?}");
        let mut want: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let run = history(r.path(), &args);
        let mut got: Vec<String> = found(&run).into_iter().map(|f| f.3).collect();
        // The merge commit introduces nothing of its own.
        let merge = r.repo().revparse_single("HEAD~1").unwrap().id().to_string();
        want.retain(|c| *c != merge);
        want.sort();
        got.sort();
        got.dedup();
        assert_eq!(got, want, "history {args:?}\n{}", run.stderr);
        assert!(!want.is_empty(), "{args:?} selects something");
    }
    history(r.path(), &["no-such-rev~2"]).expect(2);
    history(r.path(), &["HEAD~40"]).expect(2);
}
