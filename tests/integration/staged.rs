//! `leakscan staged` (#3) through the binary, on repositories built with the
//! `git` command line, as a user's would be: only lines the staged change adds
//! are reported, from the index's version of each file, with its line numbers;
//! renames, copies, deletions, binaries, mode changes, submodules, odd paths,
//! subdirectories, linked worktrees, merges and rebases; what the report
//! tells the user; and errors that must block (exit 2) rather than pass.

use std::process::Command;

use serde_json::Value;

use crate::fixture::{git_in, Git};
use crate::util::*;

/// (path, line, secret) of each finding, in report order.
fn found(r: &Run) -> Vec<(String, u64, String)> {
    r.findings()
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| f["path"].to_string()),
                f["line"].as_u64().unwrap(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn stats(r: &Run) -> Value {
    r.json()["stats"].clone()
}

#[test]
fn staged_reports_only_lines_the_change_adds() {
    let g = Git::init();
    let (old, new) = (fake::github_pat(1), fake::github_pat(2));
    g.write(
        "app.py",
        format!("import os\nTOKEN = \"{old}\"\n\ndef main():\n    pass\n"),
    );
    g.commit_all("init");
    g.write(
        "app.py",
        format!("import os\nimport sys\nTOKEN = \"{old}\"\nOTHER = \"{new}\"\n\ndef main():\n    pass\n"),
    );
    g.git(&["add", "app.py"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("app.py".into(), 4, new)]);
    assert!(r.findings()[0]["rule"]
        .as_str()
        .unwrap()
        .starts_with("github"));
}

#[test]
fn staged_secret_already_in_head_does_not_block_an_unrelated_commit() {
    let g = Git::init();
    g.write(
        "config.py",
        format!("TOKEN = \"{}\"\n", fake::github_pat(3)),
    );
    g.write("README.md", "# demo\n");
    g.commit_all("init");
    g.write("README.md", "# demo\n\nMore words.\n");
    g.git(&["add", "README.md"]);
    let r = g.staged().expect(0);
    assert_eq!(found(&r), vec![]);
    assert_eq!(stats(&r)["scanned"], 1);
    // The same secret is still in the tree: a full scan reports it.
    run(leakscan().current_dir(g.path()).args(["scan", "."])).expect(1);
}

#[test]
fn staged_judges_the_index_version_not_the_work_tree() {
    let g = Git::init();
    g.write("settings.py", "DEBUG = False\n");
    g.write("local.py", "PORT = 8000\n");
    g.commit_all("init");
    let (staged, unstaged) = (fake::github_pat(4), fake::github_pat(5));
    g.write(
        "settings.py",
        format!("DEBUG = False\nTOKEN = \"{staged}\"\n"),
    );
    g.git(&["add", "settings.py"]);
    // Later, unstaged edits: lines inserted above the staged secret, another
    // secret in the same file and one in a file with nothing staged.
    g.write(
        "settings.py",
        format!(
            "# settings\n# more\nDEBUG = False\nTOKEN = \"{staged}\"\nLATER = \"{unstaged}\"\n"
        ),
    );
    g.write("local.py", format!("PORT = 8000\nKEY = \"{unstaged}\"\n"));
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("settings.py".into(), 2, staged)]);
}

#[test]
fn staged_works_before_the_first_commit() {
    let g = Git::init();
    let s = fake::github_pat(6);
    g.write(
        "src/main.rs",
        format!("fn main() {{}}\n\nconst T: &str = \"{s}\";\n"),
    );
    g.write("notes.txt", format!("not added: {}\n", fake::github_pat(7)));
    g.git(&["add", "src/main.rs"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("src/main.rs".into(), 3, s)]);
}

#[test]
fn staged_renamed_file_counts_only_its_added_lines() {
    let g = Git::init();
    let old = fake::github_pat(8);
    let body: String = (1..=20)
        .map(|i| format!("def f{i}():\n    return {i}\n"))
        .collect();
    g.write("lib/client.py", format!("TOKEN = \"{old}\"\n{body}"));
    g.write("lib/util/strings.py", format!("KEY = \"{old}\"\n{body}"));
    g.commit_all("init");
    // A file renamed and edited, and a whole directory moved.
    g.git(&["mv", "lib/client.py", "lib/api_client.py"]);
    let new = fake::github_pat(9);
    g.write(
        "lib/api_client.py",
        format!("TOKEN = \"{old}\"\nNEW = \"{new}\"\n{body}"),
    );
    g.git(&["mv", "lib/util", "lib/helpers"]);
    g.write(
        "lib/helpers/strings.py",
        format!("KEY = \"{old}\"\n{body}def g():\n    pass\n"),
    );
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("lib/api_client.py".into(), 2, new)]);
}

#[test]
fn staged_copied_file_counts_only_its_added_lines() {
    let g = Git::init();
    let old = fake::github_pat(10);
    let rest: String = (1..=15)
        .map(|i| format!("SETTING_{i}=value{i}\n"))
        .collect();
    g.write("deploy/prod.env", format!("API_TOKEN={old}\n{rest}"));
    g.commit_all("init");
    let new = fake::github_pat(11);
    // An edited copy next to the original, and an exact copy elsewhere.
    g.write(
        "deploy/staging.env",
        format!("API_TOKEN={old}\n{rest}EXTRA_TOKEN={new}\n"),
    );
    g.write("backup/old-prod.env", format!("API_TOKEN={old}\n{rest}"));
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("deploy/staging.env".into(), 17, new)]);
}

#[test]
fn staged_deleted_file_is_not_reported() {
    let g = Git::init();
    g.write("secrets.py", format!("T = \"{}\"\n", fake::github_pat(12)));
    g.write("keep.py", "x = 1\n");
    g.commit_all("init");
    g.git(&["rm", "-q", "secrets.py"]);
    let r = g.staged().expect(0);
    assert_eq!(found(&r), vec![]);
    assert_eq!(stats(&r)["scanned"], 0);
}

#[test]
fn staged_binary_file_is_matched_on_its_printable_runs() {
    let g = Git::init();
    g.write("a.txt", "a\n");
    g.commit_all("init");
    let mut bin = b"\x00\x01PK\x03\x04".to_vec();
    bin.extend_from_slice(fake::github_pat(13).as_bytes());
    g.write("image.bin", bin);
    g.write("a.txt", "a\nb\n");
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    let s = stats(&r);
    assert_eq!(s["skipped"]["binary"], Value::Null, "{s}");
    assert_eq!(s["binary"], 1, "{s}");
    assert_eq!(s["scanned"], 2, "{s}");
    assert_eq!(r.findings().len(), 1);
    assert_eq!(r.findings()[0]["path"], "image.bin");
}

#[test]
fn staged_mode_change_is_not_new() {
    let g = Git::init();
    g.write(
        "deploy.sh",
        format!("#!/bin/sh\nTOKEN={}\n", fake::github_pat(14)),
    );
    g.commit_all("init");
    g.git(&["update-index", "--chmod=+x", "deploy.sh"]);
    assert!(g
        .git(&["diff", "--cached", "--summary"])
        .contains("mode change"));
    let r = g.staged().expect(0);
    assert_eq!(found(&r), vec![]);
}

#[test]
fn staged_submodule_entry_is_counted_not_scanned() {
    let g = Git::init();
    g.write("a.txt", "a\n");
    g.commit_all("init");
    let commit = g.git(&["rev-parse", "HEAD"]).trim().to_string();
    g.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{commit},vendor/lib"),
    ]);
    let r = g.staged().expect(0);
    assert_eq!(stats(&r)["skipped"]["submodule"], 1, "{}", stats(&r));
}

#[test]
#[cfg(unix)]
fn staged_paths_with_spaces_and_non_utf8_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let g = Git::init();
    g.write("a.txt", "a\n");
    g.commit_all("init");
    let (s1, s2) = (fake::github_pat(15), fake::github_pat(16));
    g.write("my dir/the file.py", format!("x = 1\nT = \"{s1}\"\n"));
    let odd = g.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.py"));
    std::fs::write(odd, format!("T = \"{s2}\"\n")).unwrap();
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    let f = r.findings();
    assert_eq!(f.len(), 2, "{f:?}");
    // Non-UTF-8 paths are written as base64 bytes.
    assert_eq!(f[0]["path"]["bytes"], "Y2Fm6S5weQ==");
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["secret"].as_str()),
        (Some(1), Some(s2.as_str()))
    );
    assert_eq!(found(&r)[1], ("my dir/the file.py".into(), 2, s1));
}

#[test]
fn staged_from_a_subdirectory_and_with_repo() {
    let g = Git::init();
    g.write("web/src/api.js", "export const x = 1;\n");
    g.commit_all("init");
    let s = fake::github_pat(17);
    g.write(
        "web/src/api.js",
        format!("export const x = 1;\nexport const t = \"{s}\";\n"),
    );
    g.git(&["add", "-A"]);
    let want = vec![("web/src/api.js".to_string(), 2, s)];
    let r = g.staged_in(&g.path().join("web/src"), &[]).expect(1);
    assert_eq!(found(&r), want);
    let elsewhere = TempDir::new().unwrap();
    let repo = g.path().join("web").display().to_string();
    let r = g.staged_in(elsewhere.path(), &["--repo", &repo]).expect(1);
    assert_eq!(found(&r), want);
}

#[test]
fn staged_in_a_linked_worktree() {
    let g = Git::init();
    g.write("a.py", "a = 1\n");
    g.commit_all("init");
    let wt = g.sibling("feature-wt");
    g.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt.to_str().unwrap(),
    ]);
    let s = fake::github_pat(18);
    std::fs::write(wt.join("a.py"), format!("a = 1\nT = \"{s}\"\n")).unwrap();
    git_in(&wt, &["add", "a.py"]);
    let r = g.staged_in(&wt, &[]).expect(1);
    assert_eq!(found(&r), vec![("a.py".into(), 2, s)]);
    // The main work tree's index is its own: nothing staged there.
    g.staged().expect(0);
}

#[test]
fn staged_during_a_merge_judges_the_staged_result() {
    let g = Git::init();
    g.write("conflict.txt", "base\n");
    g.write("resolved.py", "value = 'base'\n");
    g.commit_all("init");
    g.git(&["checkout", "-q", "-b", "feature"]);
    g.write("conflict.txt", "feature\n");
    g.write("resolved.py", "value = 'feature'\n");
    g.commit_all("feature");
    g.git(&["checkout", "-q", "main"]);
    g.write("conflict.txt", "main\n");
    g.write("resolved.py", "value = 'main'\n");
    g.commit_all("main");
    let (code, _) = g.git_status(&["merge", "-q", "feature"]);
    assert_ne!(code, 0, "the merge should stop on conflicts");
    assert!(g.path().join(".git/MERGE_HEAD").exists());
    // Unresolved: no crash, no finding, and the conflict is mentioned.
    let r = g.staged().expect(0);
    assert!(
        r.stderr.contains("conflict.txt: unresolved merge conflict"),
        "{}",
        r.stderr
    );
    // One file resolved with a new secret, the other still conflicted.
    let s = fake::github_pat(19);
    g.write(
        "resolved.py",
        format!("value = 'merged'\ntoken = \"{s}\"\n"),
    );
    g.git(&["add", "resolved.py"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("resolved.py".into(), 2, s)]);
    assert!(
        r.stderr.contains("conflict.txt: unresolved merge conflict"),
        "{}",
        r.stderr
    );
}

#[test]
fn staged_during_a_rebase() {
    let g = Git::init();
    g.write("app.cfg", "mode = base\n");
    g.commit_all("init");
    g.git(&["checkout", "-q", "-b", "topic"]);
    g.write("app.cfg", "mode = topic\n");
    g.commit_all("topic");
    g.git(&["checkout", "-q", "main"]);
    g.write("app.cfg", "mode = main\n");
    g.commit_all("main");
    g.git(&["checkout", "-q", "topic"]);
    let (code, _) = g.git_status(&["rebase", "-q", "main"]);
    assert_ne!(code, 0, "the rebase should stop on a conflict");
    g.staged().expect(0);
    let s = fake::github_pat(20);
    g.write("app.cfg", format!("mode = both\ntoken = {s}\n"));
    g.git(&["add", "app.cfg"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("app.cfg".into(), 2, s)]);
}

/// A PEM key of four body lines built at run time.
fn pem(seed: u64) -> String {
    fake::token(
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC{b64:32}\n{b64:64}\n{b64:64}\n{b64:40}\n-----END PRIVATE KEY-----\n",
        seed,
    )
}

#[test]
fn staged_multiline_key_is_reported_when_any_of_its_lines_is_added() {
    let g = Git::init();
    let key = pem(21);
    g.write("certs/old.pem", &key);
    g.write("certs/edited.pem", format!("# service key\n{key}"));
    g.commit_all("init");
    // A line added after an unchanged key: nothing new.
    g.write("certs/old.pem", format!("{key}# rotated yearly\n"));
    // One body line of a key replaced: the key is new, reported at its first line.
    let mut lines: Vec<String> = key.lines().map(str::to_string).collect();
    lines[3] = fake::token("{b64:64}", 22);
    g.write(
        "certs/edited.pem",
        format!("# service key\n{}\n", lines.join("\n")),
    );
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    let f = r.findings();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["path"], "certs/edited.pem");
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["end_line"].as_u64()),
        (Some(2), Some(7))
    );
}

#[test]
fn staged_text_report_says_where_what_and_what_to_do() {
    let g = Git::init();
    g.write("a.py", "x = 1\n");
    g.commit_all("init");
    let s = fake::github_pat(23);
    g.write("a.py", format!("x = 1\ny = \"{s}\"\n"));
    g.git(&["add", "a.py"]);
    let r = run(leakscan().current_dir(g.path()).arg("staged")).expect(1);
    assert!(r.stdout.starts_with("a.py:2:6  github"), "{}", r.stdout);
    assert!(
        !r.stdout.contains(&s),
        "the secret must be redacted: {}",
        r.stdout
    );
    assert!(r.stdout.contains(&s[..4]), "{}", r.stdout);
    for advice in [
        "rotate the credential",
        "`leakscan:allow`",
        "`leakscan:allow=RULE-ID`",
        "`leakscan baseline update`",
        "`git commit --no-verify`",
    ] {
        assert!(
            r.stderr.contains(advice),
            "missing {advice:?} in\n{}",
            r.stderr
        );
    }
}

#[test]
fn staged_inline_allow_marks_a_false_positive() {
    let g = Git::init();
    g.write("a.py", "x = 1\n");
    g.commit_all("init");
    let s = fake::github_pat(24);
    g.write("a.py", format!("x = 1\ny = \"{s}\"  # leakscan:allow\n"));
    g.git(&["add", "a.py"]);
    let r = g.staged().expect(0);
    assert_eq!(stats(&r)["suppressed"]["inline"], 1, "{}", stats(&r));
}

#[test]
fn staged_missing_object_exits_2_with_the_path() {
    let g = Git::init();
    g.write("a.txt", "a\n");
    g.commit_all("init");
    let ghost = "0123456789abcdef0123456789abcdef01234567";
    g.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{ghost},ghost.txt"),
    ]);
    let r = g.staged().expect(2);
    assert!(
        r.stderr.contains("ghost.txt") && r.stderr.contains(ghost),
        "{}",
        r.stderr
    );
}

#[test]
fn staged_outside_a_repository_exits_2() {
    let dir = TempDir::new().unwrap();
    let r = run(leakscan()
        .current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path())
        .arg("staged"))
    .expect(2);
    assert!(
        r.stderr.contains("not inside a git repository"),
        "{}",
        r.stderr
    );
}

#[test]
fn staged_reads_index_version_4() {
    let g = Git::init();
    let body: String = (1..=5)
        .map(|i| format!("src/module_{i}/file.py\n"))
        .collect();
    for i in 1..=5 {
        g.write(&format!("src/module_{i}/file.py"), &body);
    }
    g.commit_all("init");
    g.git(&["update-index", "--index-version", "4"]);
    let s = fake::github_pat(25);
    g.write("src/module_3/file.py", format!("{body}t = \"{s}\"\n"));
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("src/module_3/file.py".into(), 6, s)]);
}

#[test]
fn staged_reads_an_index_without_cache_tree() {
    // An index written by libgit2 (as other tools do) carries no cache tree:
    // every directory is then compared with HEAD.
    let g = Git::init();
    g.write("deep/er/still/a.py", "a = 1\n");
    g.write("b.py", "b = 1\n");
    g.commit_all("init");
    let s = fake::github_pat(26);
    g.write("deep/er/still/a.py", format!("a = 1\nt = \"{s}\"\n"));
    {
        let repo = git2::Repository::open(g.path()).unwrap();
        let mut index = repo.index().unwrap();
        index.clear().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
    }
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("deep/er/still/a.py".into(), 2, s)]);
}

#[test]
fn staged_moved_or_reindented_old_secret_is_not_new() {
    // The diff marks these lines as added, but the secret on them was
    // already in the file's HEAD version.
    let g = Git::init();
    let old = fake::github_pat(27);
    g.write(
        "cfg.py",
        format!("A = 1\nCONFIG = {{\n  'token': '{old}',\n}}\nB = 2\n"),
    );
    g.commit_all("init");
    g.write(
        "cfg.py",
        format!("B = 2\nA = 1\nCONFIG = {{\n    'token': '{old}',\n}}\n"),
    );
    g.git(&["add", "cfg.py"]);
    let r = g.staged().expect(0);
    assert_eq!(found(&r), vec![]);
}

#[test]
fn staged_after_reset_soft_reports_what_the_next_commit_adds() {
    // `git reset --soft` leaves a fully valid cache tree that no longer
    // matches HEAD: every directory must still be compared.
    let g = Git::init();
    g.write("src/deep/a.py", "a = 1\n");
    g.commit_all("init");
    let s = fake::github_pat(28);
    g.write("src/deep/a.py", format!("a = 1\nt = \"{s}\"\n"));
    g.commit_all("add token");
    g.git(&["reset", "-q", "--soft", "HEAD~1"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("src/deep/a.py".into(), 2, s)]);
}

#[test]
fn staged_intent_to_add_is_not_committed() {
    let g = Git::init();
    g.write("a.py", "a = 1\n");
    g.commit_all("init");
    g.write("later.py", format!("t = \"{}\"\n", fake::github_pat(29)));
    g.git(&["add", "-N", "later.py"]);
    let r = g.staged().expect(0);
    assert_eq!(stats(&r)["scanned"], 0);
}

#[test]
fn staged_many_directories_only_the_changed_ones_count() {
    many_directories(None);
}

#[test]
fn staged_many_directories_index_version_4() {
    // Version 4 paths depend on the previous entry's: jumps land on a saved
    // decoding state and decode forward from there.
    many_directories(Some("4"));
}

/// Directories the cache tree proves unchanged are jumped over; the changes
/// between and after them must all be seen.
fn many_directories(index_version: Option<&str>) {
    let g = Git::init();
    let old = fake::github_pat(30);
    for d in 0..30 {
        for f in 0..12 {
            g.write(
                &format!("d{d:02}/f{f}.py"),
                format!("# d{d} f{f}\nT = \"{old}\"\n"),
            );
        }
    }
    g.commit_all("init");
    if let Some(v) = index_version {
        g.git(&["update-index", "--index-version", v]);
    }
    let (s1, s2, s3) = (
        fake::github_pat(31),
        fake::github_pat(32),
        fake::github_pat(33),
    );
    g.write(
        "d03/f2.py",
        format!("# d3 f2\nT = \"{old}\"\nU = \"{s1}\"\n"),
    );
    g.write("d17/new.py", format!("U = \"{s2}\"\n"));
    g.write("e/last.py", format!("x = 1\nU = \"{s3}\"\n"));
    g.git(&["add", "-A"]);
    g.git(&["rm", "-q", "d25/f1.py"]);
    g.git(&["mv", "d05/f4.py", "d28/moved.py"]);
    let r = g.staged().expect(1);
    assert_eq!(
        found(&r),
        vec![
            ("d03/f2.py".into(), 3, s1),
            ("d17/new.py".into(), 1, s2),
            ("e/last.py".into(), 2, s3),
        ]
    );
}

#[test]
fn staged_wrong_cache_tree_count_falls_back_to_a_full_comparison() {
    wrong_cache_tree_count(None);
}

#[test]
fn staged_wrong_cache_tree_count_index_version_4() {
    wrong_cache_tree_count(Some("4"));
}

fn wrong_cache_tree_count(index_version: Option<&str>) {
    let g = Git::init();
    for d in ["a", "b"] {
        for f in 1..=3 {
            g.write(&format!("{d}/{f}.py"), "x = 1\n");
        }
    }
    g.write("c/x.py", "x = 1\n");
    g.commit_all("init");
    if let Some(v) = index_version {
        g.git(&["update-index", "--index-version", v]);
    }
    let (s1, s2) = (fake::github_pat(34), fake::github_pat(35));
    g.write("b/1.py", format!("x = 1\nT = \"{s1}\"\n"));
    g.write("c/x.py", format!("x = 1\nT = \"{s2}\"\n"));
    g.git(&["add", "b/1.py"]);
    g.git(&["write-tree"]);
    g.git(&["add", "c/x.py"]);
    // `a` (3 entries, valid) now claims 5: a jump would land inside `b`.
    let index = g.path().join(".git/index");
    let mut bytes = std::fs::read(&index).unwrap();
    let at = bytes
        .windows(6)
        .position(|w| w == b"a\x003 0\n")
        .expect("cache-tree node for a/");
    bytes[at + 2] = b'5';
    std::fs::write(&index, bytes).unwrap();
    let r = g.staged().expect(1);
    assert_eq!(
        found(&r),
        vec![("b/1.py".into(), 2, s1), ("c/x.py".into(), 2, s2)]
    );
    assert!(
        r.stderr.contains("cache tree does not match its entries"),
        "{}",
        r.stderr
    );
}

#[test]
fn staged_long_modified_file_keeps_staged_line_numbers() {
    // Only the lines around the change are scanned in a modified file; line
    // numbers are still those of the whole staged file, and a key block that
    // starts far above the changed line is still seen whole.
    let g = Git::init();
    let body: String = (1..=60).map(|i| format!("setting_{i} = {i}\n")).collect();
    let key_lines: Vec<String> = std::iter::once("-----BEGIN PRIVATE KEY-----".to_string())
        .chain((0..12).map(|i| fake::token("{b64:64}", 40 + i)))
        .chain(std::iter::once("-----END PRIVATE KEY-----".to_string()))
        .collect();
    g.write("app.cfg", &body);
    g.write("key.pem", format!("{}\n", key_lines.join("\n")));
    g.commit_all("init");
    let s = fake::github_pat(36);
    let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
    lines.insert(44, format!("token = {s}"));
    g.write("app.cfg", format!("{}\n", lines.join("\n")));
    let mut key = key_lines.clone();
    key[10] = fake::token("{b64:64}", 99);
    g.write("key.pem", format!("{}\n", key.join("\n")));
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    let f = r.findings();
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(
        (f[0]["path"].as_str(), f[0]["line"].as_u64()),
        (Some("app.cfg"), Some(45))
    );
    assert_eq!(f[0]["secret"], s.as_str());
    assert_eq!(
        (
            f[1]["path"].as_str(),
            f[1]["line"].as_u64(),
            f[1]["end_line"].as_u64()
        ),
        (Some("key.pem"), Some(1), Some(14))
    );
}

#[test]
fn staged_split_index_with_only_added_entries_is_read() {
    // Was refused (exit 2) until split indexes were read (#18 item 9): an
    // index that only adds to its shared index (no name-less replacements).
    let g = Git::init();
    g.write("a.txt", "a\n");
    g.commit_all("init");
    g.git(&["update-index", "--split-index"]);
    let tok = fake::github_pat(37);
    g.write("b.py", format!("t = \"{tok}\"\n"));
    g.git(&["add", "b.py"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), [("b.py".to_string(), 1, tok)]);
}

#[test]
fn staged_merge_does_not_report_what_the_other_branch_committed() {
    // A secret committed on the merged branch is already in history: the
    // merge commit does not add it. One typed into the resolution is new.
    let g = Git::init();
    g.write("conflict.txt", "base\n");
    g.commit_all("init");
    g.git(&["checkout", "-q", "-b", "feature"]);
    let theirs = fake::github_pat(38);
    g.write("feature.py", format!("x = 1\nT = \"{theirs}\"\n"));
    g.write("conflict.txt", "feature\n");
    g.commit_all("feature");
    g.git(&["checkout", "-q", "main"]);
    g.write("conflict.txt", "main\n");
    g.commit_all("main");
    let (code, _) = g.git_status(&["merge", "-q", "feature"]);
    assert_ne!(code, 0, "the merge should stop on a conflict");
    let mine = fake::github_pat(39);
    g.write("conflict.txt", format!("main and feature\nT = {mine}\n"));
    g.git(&["add", "conflict.txt"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), vec![("conflict.txt".into(), 2, mine)]);
}

/// `.git/index` with `from` (an entry's path, found by its bytes) changed to
/// `to` of the same length; `flags` ORed into that entry's 16-bit flags.
fn patch_index(g: &Git, from: &str, to: &str, flags: u16) {
    assert_eq!(from.len(), to.len());
    let p = g.path().join(".git").join("index");
    let mut d = std::fs::read(&p).unwrap();
    let at = d
        .windows(from.len() + 1)
        .position(|w| &w[..from.len()] == from.as_bytes() && w[from.len()] == 0)
        .unwrap_or_else(|| panic!("{from} not in the index"));
    d[at..at + from.len()].copy_from_slice(to.as_bytes());
    // Version 2 entries: the flags are the two bytes before the path.
    let f = u16::from_be_bytes([d[at - 2], d[at - 1]]) | flags;
    d[at - 2..at].copy_from_slice(&f.to_be_bytes());
    std::fs::write(&p, d).unwrap();
}

// #18 item 1: `git commit` records index entries in file order and does not
// check their order, uniqueness or the file's checksum. An index whose
// entries are out of order (one byte of a name changed) passed `staged`
// with exit 0 while git committed the token. Every index git would commit
// differently from a sorted walk is refused (exit 2, naming the index).
#[test]
fn index_git_would_commit_differently_is_refused() {
    let tok = fake::github_pat(1811);
    // (what, [(entry, its new name, flags ORed in)]); names keep their length.
    type Patch = (&'static str, &'static str, u16);
    let cases: [(&str, &[Patch]); 4] = [
        ("out of order", &[("deploy.sh", "$eploy.sh", 0)]),
        ("duplicate", &[("b.sh", "a.sh", 0)]),
        ("merged and conflicted", &[("b.sh", "a.sh", 0x2000)]),
        (
            "stage below the previous",
            &[("a.sh", "a.sh", 0x2000), ("b.sh", "a.sh", 0)],
        ),
    ];
    for (what, patches) in cases {
        let g = Git::init();
        g.write("README", "x\n");
        g.commit_all("init");
        g.write("a.sh", format!("token=\"{tok}\"\n"));
        g.write("b.sh", "b\n");
        g.write("d/y.txt", "y\n");
        g.write("deploy.sh", format!("token=\"{tok}\"\n"));
        g.git(&["add", "-A"]);
        for (from, to, flags) in patches.iter() {
            patch_index(&g, from, to, *flags);
        }
        let r = g.staged();
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
        assert!(
            r.stderr.contains(".git/index") && r.stderr.contains("index:"),
            "{what}: the error must name the index: {}",
            r.stderr
        );
    }
    // A damaged trailing checksum alone: git reads and commits the entries
    // as they are, and so does `staged` (the token is found).
    let g = Git::init();
    g.write("README", "x\n");
    g.commit_all("init");
    g.write("deploy.sh", format!("token=\"{tok}\"\n"));
    g.git(&["add", "-A"]);
    let p = g.path().join(".git").join("index");
    let mut d = std::fs::read(&p).unwrap();
    let n = d.len();
    d[n - 1] ^= 0xff;
    std::fs::write(&p, d).unwrap();
    assert_eq!(g.git_status(&["write-tree"]).0, 0, "git reads it");
    let r = g.staged().expect(1);
    assert_eq!(r.findings().len(), 1);
}

/// Replaces the 20-byte id `from` (hex) with `to` in `.git/index` (in the
/// cache-tree extension: no entry holds a tree id). The trailing checksum is
/// left stale: git does not verify it when it reads the index.
fn forge_cache_tree_id(g: &Git, from: &str, to: &str) {
    let (from, to) = (
        hex::decode(from.trim()).unwrap(),
        hex::decode(to.trim()).unwrap(),
    );
    let p = g.path().join(".git").join("index");
    let mut d = std::fs::read(&p).unwrap();
    let tree = d
        .windows(4)
        .position(|w| w == b"TREE")
        .expect("a cache tree");
    let at = tree
        + d[tree..]
            .windows(from.len())
            .position(|w| w == from.as_slice())
            .expect("the id in the cache tree");
    d[at..at + to.len()].copy_from_slice(&to);
    std::fs::write(&p, d).unwrap();
}

// A valid cache-tree node is what `git commit` records: git writes that tree
// as it is, without reading the index entries under it (and git makes the
// whole cache tree valid before the pre-commit hook runs). A node forged to
// name another tree (here one holding a token) while the entries stay clean
// passed `staged` (it read the entries), and git committed the token. The
// tree a valid node names is judged, for a directory and for the root.
#[test]
fn valid_cache_tree_node_is_judged_as_the_tree_git_commits() {
    let tok = fake::github_pat(1830);
    for forged_node in ["d", "root"] {
        let g = Git::init();
        g.write("d/a.txt", "a\n");
        g.write("top.txt", "t\n");
        g.commit_all("init");
        // A tree holding the token, written to the object store only.
        g.write("d/a.txt", format!("token=\"{tok}\"\n"));
        g.git(&["add", "d/a.txt"]);
        let bad_root = g.git(&["write-tree"]);
        let bad_d = g.git(&["rev-parse", &format!("{}:d", bad_root.trim())]);
        // The index as HEAD has it, its cache tree valid throughout.
        g.git(&["read-tree", "HEAD"]);
        g.write("d/a.txt", "a\n");
        // A clean change; the index's entries are what git wrote.
        g.write("top.txt", "t2\n");
        g.git(&["add", "top.txt"]);
        let (from, to) = if forged_node == "d" {
            (g.git(&["rev-parse", "HEAD:d"]), bad_d)
        } else {
            (g.git(&["write-tree"]), bad_root)
        };
        forge_cache_tree_id(&g, &from, &to);
        let r = g.staged().expect(1);
        assert_eq!(
            found(&r),
            [("d/a.txt".to_string(), 1, tok.clone())],
            "{forged_node}: {}",
            r.stderr
        );
        // What git records is the forged tree: the token is committed.
        g.git(&["commit", "-q", "--no-verify", "-m", "forged"]);
        assert!(
            g.git(&["show", "HEAD:d/a.txt"]).contains(&tok),
            "{forged_node}: git did not commit the cache tree's tree"
        );
    }
}

// #18 item 9 (sparse half): with `git sparse-checkout set --sparse-index`,
// the index holds directory entries (a tree for each directory outside the
// cone) and an `sdir` extension; `staged` exited 2, "nothing was checked",
// blocking every commit. Sparse directories are read as the trees git
// commits (HEAD's, unchanged), and what is staged in the cone is judged.
#[test]
fn sparse_index_is_read() {
    let g = Git::init();
    g.write("app/main.rs", "fn main() {}\n");
    g.write("vendor/lib/a.txt", "a\n");
    g.write("vendor/lib/b.txt", "b\n");
    g.write("docs/readme.md", "docs\n");
    g.commit_all("init");
    g.git(&["sparse-checkout", "set", "--sparse-index", "app"]);
    let ls = g.git(&["ls-files", "--sparse", "-s"]);
    assert!(ls.contains("vendor/"), "not a sparse index:\n{ls}");
    let tok = fake::github_pat(1891);
    g.write("app/conf.rs", format!("const T: &str = \"{tok}\";\n"));
    g.git(&["add", "app/conf.rs"]);
    let r = g.staged().expect(1);
    assert_eq!(found(&r), [("app/conf.rs".to_string(), 1, tok)]);
    assert_eq!(stats(&r)["scanned"], 1, "{}", r.stdout);
    // Nothing staged: clean.
    g.git(&["reset", "-q"]);
    g.staged().expect(0);
}

/// `leakscan staged --format json --show-secrets` run under a Python parent
/// that reports the child's peak RSS (`getrusage(RUSAGE_CHILDREN)`: the only
/// child it waits for is leakscan), in KiB.
fn staged_with_peak_rss(g: &Git) -> (Run, u64) {
    with_peak_rss(g, &["staged"])
}

/// `leakscan ARGS --format json --show-secrets` in `g`, with its peak RSS
/// in KiB (see `staged_with_peak_rss`).
fn with_peak_rss(g: &Git, args: &[&str]) -> (Run, u64) {
    const WRAP: &str = "import resource, subprocess, sys\n\
        r = subprocess.run(sys.argv[1:])\n\
        print('peak-rss-kib=%d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n\
        sys.exit(r.returncode)\n";
    let r = run(Command::new("python3")
        .current_dir(g.path())
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .args(["-c", WRAP, env!("CARGO_BIN_EXE_leakscan")])
        .args(args)
        .args(["--format", "json", "--show-secrets"]));
    let kib = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kib="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS reported:\n{}", r.stderr));
    (r, kib)
}

// #18 item 2 (second round): a staged blob over `STREAM_OVER` (64 MiB) was
// read whole from the object store (a 4.6 GB sparse file needed 4.7 GB of
// RSS). It is now inflated as a stream and scanned window by window: the
// secret at its end is found, and memory does not grow with the blob.
// The same blob, committed and repacked whole, is read as a stream from the
// pack by `history` (a raised `--max-file-size`).
#[test]
fn huge_staged_blob_is_read_as_a_stream_in_bounded_memory() {
    use std::os::unix::fs::FileExt;
    let g = Git::init();
    g.write("README.md", "# demo\n");
    g.commit_all("init");
    g.write("small.txt", "nothing to see\n");
    g.git(&["add", "small.txt"]);
    let (r, small) = staged_with_peak_rss(&g);
    r.expect(0);
    g.git(&["reset", "-q"]);
    std::fs::remove_file(g.path().join("small.txt")).unwrap();
    // 66 MiB, sparse: a key id on the first line, another near the end.
    const SIZE: u64 = 66 << 20;
    let (first, last) = (fake::aws_key_id(1821), fake::aws_key_id(1822));
    let f = std::fs::File::create(g.path().join("dump.bin")).unwrap();
    f.set_len(SIZE).unwrap();
    f.write_all_at(format!("{first}\n").as_bytes(), 0).unwrap();
    f.write_all_at(format!("\nkey={last}\n").as_bytes(), SIZE - 4096)
        .unwrap();
    drop(f);
    g.git(&["add", "dump.bin"]);
    let (r, big) = staged_with_peak_rss(&g);
    let r = r.expect(1);
    let want = [
        ("dump.bin".to_string(), 1, first.clone()),
        ("dump.bin".to_string(), 3, last.clone()),
    ];
    assert_eq!(found(&r), want);
    assert_eq!(stats(&r)["bytes"], SIZE, "{}", r.stdout);
    assert!(
        big.saturating_sub(small) < SIZE >> 10,
        "peak RSS {big} KiB against {small} KiB for a small change: \
         a {} KiB blob was held whole",
        SIZE >> 10
    );
    // Committed, then packed whole (as git packs files over
    // core.bigFileThreshold), and read by history.
    g.git(&["commit", "-q", "--no-verify", "-m", "dump"]);
    g.git(&["-c", "core.bigFileThreshold=1m", "repack", "-adq"]);
    let r = run(leakscan()
        .current_dir(g.path())
        .env("LEAKSCAN_PACK_READER", "on")
        .args(["history", "--format", "json", "--show-secrets"])
        .args(["--max-file-size", "100M"]))
    .expect(1);
    assert_eq!(found(&r), want);
}

// A huge blob stored as a delta of another (`git repack` deltifies blobs
// under core.bigFileThreshold, 512 MiB) was rebuilt whole in memory, base
// and result (`staged` peaked at 235 MB for a 70 MB file); in a SHA-256
// repository every staged blob was read whole. The delta chain is now
// applied as a stream (`git::chain`): the secret in the deltified version
// is found, and memory does not grow with the blob — `history` through the
// guarded libgit2 reader (SHA-1), `staged` through the native store
// (SHA-256), the two readers that open streams.
#[test]
fn huge_blob_stored_as_a_delta_is_applied_as_a_stream_in_both_formats() {
    const SIZE: usize = 66 << 20;
    // Numbered records, so git's delta copies the base in order; binary
    // (only printable runs are matched, which is quick) and compressible
    // (the pack's mapped pages count in RSS too).
    let mut v1 = Vec::with_capacity(SIZE + 16);
    let mut i = 0;
    while v1.len() < SIZE {
        v1.extend_from_slice(format!("row {i:09}\0").as_bytes());
        i += 1;
    }
    v1.truncate(SIZE);
    // The second version: 200 bytes replaced by a secret, so it is the
    // smaller and git stores it as the delta.
    let key = fake::aws_key_id(1842);
    let at = 60 << 20;
    let mut v2 = v1[..at].to_vec();
    v2.extend_from_slice(format!("\nkey={key}\n").as_bytes());
    v2.extend_from_slice(&v1[at + 200..]);
    for (format, mode) in [("sha1", "history"), ("sha256", "staged")] {
        let g = Git::init();
        std::fs::remove_dir_all(g.path().join(".git")).unwrap();
        g.git(&[
            "init",
            "-q",
            "-b",
            "main",
            &format!("--object-format={format}"),
        ]);
        g.git(&["config", "core.autocrlf", "false"]);
        g.write("README.md", "# demo\n");
        g.commit_all("init");
        let (r, small) = with_peak_rss(&g, &[mode]);
        r.expect(0);
        g.write("f.dat", &v1);
        g.commit_all("v1");
        g.write("f.dat", &v2);
        g.commit_all("v2");
        g.git(&["-c", "core.bigFileThreshold=1g", "repack", "-adfq"]);
        let v2_id = g.git(&["rev-parse", "HEAD:f.dat"]);
        let base = run_with_stdin(
            Command::new("git")
                .current_dir(g.path())
                .args(["cat-file", "--batch-check=%(deltabase)"]),
            Some(v2_id.as_bytes()),
        );
        assert_ne!(
            base.stdout.trim().trim_matches('0'),
            "",
            "{format}: not a delta"
        );
        let (r, peak) = if mode == "history" {
            // The last commit only: its blob is the delta.
            with_peak_rss(&g, &["history", "HEAD~1..HEAD", "--max-file-size", "100M"])
        } else {
            // The deltified version staged again over the first.
            g.git(&["reset", "-q", "--soft", "HEAD~1"]);
            staged_with_peak_rss(&g)
        };
        let r = r.expect(1);
        let got: Vec<(String, String)> = found(&r).into_iter().map(|(p, _, s)| (p, s)).collect();
        assert_eq!(got, [("f.dat".to_string(), key.clone())], "{format} {mode}");
        assert!(
            peak.saturating_sub(small) < (SIZE as u64) >> 10,
            "{format} {mode}: peak RSS {peak} KiB against {small} KiB with nothing \
             to read: a {} KiB blob was held whole",
            SIZE >> 10
        );
    }
}

// #18 item 9 (split half): a split index (`git update-index --split-index`,
// `core.splitIndex`) made `staged` exit 2. It is read as git reads it: the
// shared index, less the entries the `link` extension deletes, with its
// replacements, plus the added entries (compared with `git ls-files -s` by
// `git::index::split`'s unit test). A missing or damaged shared index, or a
// bitmap naming a position past it, is an error naming the file.
#[test]
fn split_index_is_read_and_a_damaged_one_refused() {
    let g = Git::init();
    for i in 0..40 {
        g.write(&format!("src/f{i:02}.txt"), format!("file {i}\n"));
    }
    g.write("README.md", "# demo\n");
    g.commit_all("init");
    g.git(&["update-index", "--split-index"]);
    let tok = fake::github_pat(1892);
    g.write("src/f07.txt", format!("file 7\ntoken = \"{tok}\"\n"));
    g.write("src/new.txt", "new file\n");
    g.git(&["rm", "-q", "src/f03.txt"]);
    g.git(&["add", "-A"]);
    let git_dir = g.path().join(".git");
    let shared: Vec<_> = std::fs::read_dir(&git_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("sharedindex.")
        })
        .collect();
    assert!(!shared.is_empty(), "not a split index");
    let r = g.staged().expect(1);
    assert_eq!(found(&r), [("src/f07.txt".to_string(), 2, tok.clone())]);
    // With core.splitIndex, through a commit and a conflict.
    g.git(&["commit", "-q", "--no-verify", "-m", "two"]);
    g.git(&["config", "core.splitIndex", "true"]);
    g.git(&["checkout", "-q", "-b", "side"]);
    g.write("src/f10.txt", "side\n");
    g.commit_all("side");
    g.git(&["checkout", "-q", "main"]);
    g.write("src/f10.txt", "main\n");
    g.commit_all("main");
    let (code, _) = g.git_status(&["merge", "-q", "side"]);
    assert_ne!(code, 0, "expected a conflict");
    g.write("src/f10.txt", "resolved\n");
    g.git(&["add", "src/f10.txt"]);
    g.staged().expect(0);
    // Hostile: the link extension's delete bitmap naming a position past
    // the shared index, a damaged shared index, a missing one.
    let index = std::fs::read(git_dir.join("index")).unwrap();
    let link = index.windows(4).rposition(|w| w == b"link").unwrap();
    let size = u32::from_be_bytes(index[link + 4..link + 8].try_into().unwrap()) as usize;
    // A delete bitmap of one literal word with bit 63 set (the shared
    // index has 42 entries), and an empty replace bitmap.
    let ewah = |words: &[u64]| {
        let mut d = 64u32.to_be_bytes().to_vec();
        d.extend((words.len() as u32).to_be_bytes());
        words.iter().for_each(|w| d.extend(w.to_be_bytes()));
        d.extend(0u32.to_be_bytes());
        d
    };
    let mut ext = index[link + 8..link + 28].to_vec();
    ext.extend(ewah(&[1 << 33, 1 << 63]));
    ext.extend(ewah(&[]));
    let mut bad = index[..link + 4].to_vec();
    bad.extend((ext.len() as u32).to_be_bytes());
    bad.extend(&ext);
    bad.extend(&index[link + 8 + size..]);
    std::fs::write(git_dir.join("index"), &bad).unwrap();
    let r = g.staged().expect(2);
    assert!(
        r.stderr.contains("bit 63 is past the shared index") && r.stderr.contains(".git/index"),
        "{}",
        r.stderr
    );
    std::fs::write(git_dir.join("index"), &index).unwrap();
    let id: String = index[link + 8..link + 28]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let shared = git_dir.join(format!("sharedindex.{id}"));
    let good = std::fs::read(&shared).unwrap();
    std::fs::write(&shared, &good[..good.len() / 2]).unwrap();
    let r = g.staged().expect(2);
    assert!(
        r.stderr.contains(&format!("sharedindex.{id}")),
        "{}",
        r.stderr
    );
    std::fs::remove_file(&shared).unwrap();
    let r = g.staged().expect(2);
    assert!(
        r.stderr.contains(&format!("sharedindex.{id}")) && r.stderr.contains("missing"),
        "{}",
        r.stderr
    );
}
