//! `leakscan history` on packed repositories: the pack reader
//! (`LEAKSCAN_PACK_READER=on`) and libgit2 one object at a time (`=off`)
//! must report the same findings and the same stats (but `elapsed_ms`), on
//! packs with OFS_DELTA and REF_DELTA entries, several packs holding the same
//! objects, packed and loose objects mixed, and damaged pack entries. The
//! packing is done by the `git` command-line tool, as in a real repository.
//!
//! Every run sets `LEAKSCAN_TRACE`, whose summary line on standard error says
//! how many trees were decoded from the packs: that is how the tests know
//! which reader a run really used.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::Oid;
use serde_json::Value;

use crate::fixture::git_command;
use crate::fixture::in_process::TempRepo;
use crate::util::*;

// ---------------------------------------------------------------------------
// Running git and leakscan

/// `git args…` in `dir` without user or system configuration (see
/// `staged::git_command`); panics unless it succeeds; its standard output.
fn git(dir: &Path, args: &[&str]) -> String {
    git_with_stdin(dir, args, None)
}

fn git_with_stdin(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
    let mut cmd = git_command(dir);
    cmd.args(["-c", "gc.auto=0"]).args(args);
    let out = run_with_stdin(&mut cmd, stdin);
    assert_eq!(
        out.code, 0,
        "git {args:?} failed\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout, out.stderr
    );
    out.stdout
}

/// `leakscan history --repo <repo> --format json --show-secrets <args>` with
/// tracing on and `LEAKSCAN_PACK_READER` set to `reader` (`None`: unset, so
/// leakscan chooses).
fn history(repo: &Path, reader: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = leakscan();
    cmd.arg("history")
        .arg("--repo")
        .arg(repo)
        .args(["--format", "json", "--show-secrets"])
        .args(args)
        .env("LEAKSCAN_TRACE", "1");
    match reader {
        Some(mode) => cmd.env("LEAKSCAN_PACK_READER", mode),
        None => cmd.env_remove("LEAKSCAN_PACK_READER"),
    };
    run(&mut cmd)
}

/// The stats object without `elapsed_ms`, the one field allowed to differ.
fn stats(r: &Run) -> Value {
    let mut s = r.json()["stats"].clone();
    s.as_object_mut()
        .expect("stats is an object")
        .remove("elapsed_ms");
    s
}

fn skipped(r: &Run, reason: &str) -> u64 {
    stats(r)["skipped"][reason].as_u64().unwrap_or(0)
}

fn errors(r: &Run) -> Vec<String> {
    stats(r)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

/// What the trace line says about the tree phase.
#[derive(Debug)]
struct Trace {
    /// Trees decoded from the packs up front (0: the pack reader was not used).
    from_packs: u64,
    /// Trees read one by one through libgit2.
    one_by_one: u64,
    /// Blobs read one by one through libgit2 (not from the delta forest).
    blobs_one_by_one: u64,
}

fn trace(r: &Run) -> Trace {
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("leakscan: trace: trees "))
        .unwrap_or_else(|| panic!("no trace line on stderr:\n{}", r.stderr));
    let number_before = |marker: &str| -> u64 {
        let end = line
            .find(marker)
            .unwrap_or_else(|| panic!("no `{marker}` in the trace line: {line}"));
        let head = &line[..end];
        let start = head
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        head[start..]
            .parse()
            .unwrap_or_else(|e| panic!("{e}: {line}"))
    };
    Trace {
        from_packs: number_before(" decoded from packs"),
        one_by_one: number_before(" trees read one by one"),
        blobs_one_by_one: number_before(" blobs read one by one"),
    }
}

/// A finding as (rule, path, commit, secret).
type Key = (String, String, String, String);

fn key(rule: &str, path: &str, commit: Oid, secret: &str) -> Key {
    (
        rule.to_string(),
        path.to_string(),
        commit.to_string(),
        secret.to_string(),
    )
}

/// Every finding as a `Key`, sorted (duplicates kept).
fn keys(r: &Run) -> Vec<Key> {
    let mut k: Vec<Key> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap_or("<bytes>").to_string(),
                f["commit"]["id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    k.sort();
    k
}

fn sorted(mut k: Vec<Key>) -> Vec<Key> {
    k.sort();
    k
}

/// Runs the scan with the pack reader forced on and forced off; asserts the
/// same exit code, the same findings (the whole JSON array, in order) and
/// the same stats. Returns both runs (pack reader first).
fn compare(repo: &Path, args: &[&str]) -> (Run, Run) {
    let on = history(repo, Some("on"), args);
    let off = history(repo, Some("off"), args);
    assert_eq!(
        on.code, off.code,
        "exit codes differ ({args:?})\n--- on stderr\n{}\n--- off stderr\n{}",
        on.stderr, off.stderr
    );
    let (fon, foff) = (on.findings(), off.findings());
    if fon != foff {
        let (kon, koff): (BTreeSet<Key>, BTreeSet<Key>) = (
            keys(&on).into_iter().collect(),
            keys(&off).into_iter().collect(),
        );
        panic!(
            "findings differ ({args:?}): {} with the pack reader, {} without\n\
             only with the pack reader: {:#?}\nonly without: {:#?}\n\
             --- on (whole)\n{}\n--- off (whole)\n{}",
            fon.len(),
            foff.len(),
            kon.difference(&koff).collect::<Vec<_>>(),
            koff.difference(&kon).collect::<Vec<_>>(),
            serde_json::to_string_pretty(&fon).unwrap(),
            serde_json::to_string_pretty(&foff).unwrap(),
        );
    }
    assert_eq!(
        stats(&on),
        stats(&off),
        "stats differ ({args:?}): left with the pack reader, right without"
    );
    assert_eq!(trace(&off).from_packs, 0, "{:?}", trace(&off));
    (on, off)
}

/// `compare`, and asserts the pack reader really decoded trees from the
/// packs. Returns the pack reader's run.
fn both(repo: &Path, args: &[&str]) -> Run {
    let (on, _) = compare(repo, args);
    let t = trace(&on);
    assert!(t.from_packs > 0, "pack reader not used: {t:?}");
    on
}

// ---------------------------------------------------------------------------
// Repository contents

/// One line of innocuous text (~55 bytes), different for every seed.
fn prose(seed: u64) -> String {
    const WORDS: [&str; 16] = [
        "river", "stone", "cloud", "paper", "green", "orange", "table", "window", "garden",
        "music", "lamp", "forest", "copper", "silver", "meadow", "harbor",
    ];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut words = Vec::with_capacity(7);
    for _ in 0..7 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        words.push(WORDS[(x % 16) as usize]);
    }
    format!("{} {}", words.join(" "), x % 100_000)
}

/// A text file of `lines` numbered lines of prose.
fn document(seed: u64, lines: usize) -> String {
    (0..lines)
        .map(|i| format!("{i:05} {}\n", prose(seed * 100_000 + i as u64)))
        .collect()
}

/// A config line holding `tok`.
fn line(tok: &str) -> String {
    format!("token = \"{tok}\"")
}

fn read_lines(r: &TempRepo, path: &str) -> Vec<String> {
    std::fs::read_to_string(r.path().join(path))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(r: &TempRepo, path: &str, lines: &[String]) {
    let mut body = lines.join("\n");
    body.push('\n');
    r.write(path, body);
}

/// Replaces line `at` of `path` (or the next one that holds no planted
/// secret: those contain `=`, prose never does) with prose from `seed`: the
/// small edit that makes each version a delta of the previous one.
fn churn(r: &TempRepo, path: &str, at: usize, seed: u64) {
    let mut lines = read_lines(r, path);
    let mut at = at % lines.len();
    while lines[at].contains('=') {
        at = (at + 1) % lines.len();
    }
    lines[at] = format!("{at:05} {}", prose(seed));
    write_lines(r, path, &lines);
}

fn insert_line(r: &TempRepo, path: &str, at: usize, text: &str) {
    let mut lines = read_lines(r, path);
    lines.insert(at, text.to_string());
    write_lines(r, path, &lines);
}

fn remove_lines_with(r: &TempRepo, path: &str, needle: &str) {
    let mut lines = read_lines(r, path);
    let before = lines.len();
    lines.retain(|l| !l.contains(needle));
    assert!(lines.len() < before, "{needle} not in {path}");
    write_lines(r, path, &lines);
}

// ---------------------------------------------------------------------------
// Looking at packs

/// `git count-objects -v` as a map (`count` is loose objects).
fn count_objects(repo: &Path) -> BTreeMap<String, u64> {
    git(repo, &["count-objects", "-v"])
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(": ")?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// The repository's pack files, sorted.
fn pack_files(r: &TempRepo) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(r.git_dir().join("objects").join("pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect();
    v.sort();
    v
}

/// One object of a pack, as `git verify-pack -v` lists it.
#[derive(Debug, Clone)]
struct PackEntry {
    oid: String,
    kind: String,
    /// Bytes the entry takes in the pack (header and zlib stream).
    in_pack: u64,
    offset: u64,
    /// The delta base's id, for a delta.
    base: Option<String>,
}

fn verify_pack(r: &TempRepo, pack: &Path) -> Vec<PackEntry> {
    let out = git(r.path(), &["verify-pack", "-v", pack.to_str().unwrap()]);
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 5 || f[0].len() != 40 || !f[0].bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            Some(PackEntry {
                oid: f[0].to_string(),
                kind: f[1].to_string(),
                in_pack: f[3].parse().unwrap(),
                offset: f[4].parse().unwrap(),
                base: f.get(6).map(|s| s.to_string()),
            })
        })
        .collect()
}

/// Flips a few bytes in the middle of a pack entry's zlib stream (pack files
/// are read-only: made writable first).
fn corrupt_entry(pack: &Path, e: &PackEntry) {
    let mut perms = std::fs::metadata(pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(pack, perms).unwrap();
    let mut bytes = std::fs::read(pack).unwrap();
    let start = (e.offset + e.in_pack / 2) as usize;
    let end = (start + 4).min((e.offset + e.in_pack - 1) as usize);
    assert!(start < end, "entry too small to damage: {e:?}");
    for b in &mut bytes[start..end] {
        *b ^= 0x5a;
    }
    std::fs::write(pack, bytes).unwrap();
}

// ---------------------------------------------------------------------------
// Tests

/// A history with deltas everywhere, packed with OFS_DELTA by `git repack`.
#[test]
fn packed_history_with_deltas_reads_the_same_both_ways() {
    let r = TempRepo::new();
    let a = fake::github_pat(901);
    let b = fake::aws_key_id(902);
    let c = fake::slack_bot(903);
    let d = fake::stripe_live(904);
    let e = fake::github_pat(905);
    let f = fake::github_pat(906);
    let g = fake::github_pat(907);
    let (lfs_tok, bin_tok, huge_tok, sym_tok) = (
        fake::github_pat(911),
        fake::github_pat(912),
        fake::github_pat(913),
        fake::github_pat(914),
    );

    for k in 0..3u64 {
        r.write(format!("docs/big{k}.txt"), document(k + 1, 600));
    }
    r.write("README.md", "packed history\n");
    // Names that sort differently in git's tree order than bytewise.
    r.write("conf.txt", "mode = packed\n");
    r.write("conf/app.env", "# filled in at deploy time\n");
    r.write("conf-old.txt", "mode = old\n");
    r.write(
        "model.bin",
        format!(
            "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 12345\n{}\n",
            "cd".repeat(32),
            line(&lfs_tok)
        ),
    );
    let mut binary = b"\x7fELF\x02\x01\x01\0\0\0".to_vec();
    binary.extend_from_slice(line(&bin_tok).as_bytes());
    binary.extend_from_slice(&[0u8; 64]);
    r.write("bin/tool", binary);
    // Over the 64K limit given below.
    r.write(
        "data/dump.sql",
        format!("{}{}\n", document(9, 1600), line(&huge_tok)),
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(line(&sym_tok), r.path().join("latest")).unwrap();
    #[cfg(not(unix))]
    let _ = sym_tok;
    let c0 = r.commit("initial");

    let mut main = vec![c0];
    let (mut feature3, mut evil, mut stale) = (None, None, None);
    for i in 1..=44usize {
        churn(
            &r,
            &format!("docs/big{}.txt", i % 3),
            i * 37 % 500,
            1000 + i as u64,
        );
        match i {
            5 => insert_line(&r, "docs/big0.txt", 300, &line(&a)),
            8 => {
                r.write("config/aws.env", format!("AWS_ACCESS_KEY_ID={b}\n"));
            }
            10 => {
                r.write(
                    "scripts/deploy.sh",
                    format!("#!/bin/sh\nexport SLACK_TOKEN={c}\n"),
                );
            }
            // The secret is edited away: only old versions of big0 hold it.
            12 => remove_lines_with(&r, "docs/big0.txt", &a),
            15 => {
                r.mv("scripts/deploy.sh", "tools/deploy.sh");
            }
            18 => insert_line(&r, "docs/big1.txt", 250, &format!("stripe = {d}")),
            20 => {
                r.rm("config/aws.env");
            }
            #[cfg(unix)]
            22 => {
                use std::os::unix::fs::PermissionsExt;
                let p = r.path().join("tools/deploy.sh");
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            25 => churn(&r, "data/dump.sql", 700, 25),
            41 => {
                r.submodule("vendor/lib", c0);
            }
            _ => {}
        }
        main.push(r.commit(&format!("main {i}")));
        match i {
            20 => {
                // A feature branch editing the end of big2 (main edits only
                // its first 500 lines, so the merge is clean).
                r.checkout("feature");
                for k in 0..6usize {
                    churn(&r, "docs/big2.txt", 520 + 10 * k, 5000 + k as u64);
                    if k == 3 {
                        r.write("feature/notes.md", format!("# notes\n{}\n", line(&e)));
                    }
                    let id = r.commit(&format!("feature {k}"));
                    if k == 3 {
                        feature3 = Some(id);
                    }
                }
                r.checkout("main");
            }
            25 => {
                r.tag("v1");
            }
            30 => {
                r.merge("feature", "Merge feature");
            }
            34 => {
                r.checkout("hotfix");
                r.write("hotfix.txt", "one\n");
                r.commit("hotfix 1");
                r.write("hotfix.txt", "one\ntwo\n");
                r.commit("hotfix 2");
                r.checkout("main");
            }
            36 => {
                // An evil merge: the secret is in neither parent.
                assert!(r.begin_merge("hotfix").is_empty());
                r.write("conf/app.env", format!("# deploy\n{}\n", line(&f)));
                evil = Some(r.commit("Merge hotfix"));
            }
            40 => {
                // Never merged: only `--all` reaches it.
                r.checkout("stale");
                r.write("stale.env", format!("{}\n", line(&g)));
                stale = Some(r.commit("stale work"));
                r.checkout("main");
            }
            _ => {}
        }
    }
    let (feature3, evil, stale) = (feature3.unwrap(), evil.unwrap(), stale.unwrap());

    git(r.path(), &["repack", "-adf", "--depth=50", "--window=250"]);
    let counts = count_objects(r.path());
    assert_eq!(counts["count"], 0, "loose objects left: {counts:?}");
    assert_eq!(counts["packs"], 1, "{counts:?}");
    let packs = pack_files(&r);
    assert_eq!(packs.len(), 1);
    let entries = verify_pack(&r, &packs[0]);
    let deltas = entries
        .iter()
        .filter(|e| e.kind == "blob" && e.base.is_some())
        .count();
    let tree_deltas = entries
        .iter()
        .filter(|e| e.kind == "tree" && e.base.is_some())
        .count();
    assert!(deltas >= 40, "only {deltas} blob deltas");
    assert!(tree_deltas >= 20, "only {tree_deltas} tree deltas");

    let mut want = vec![
        key("github-pat", "docs/big0.txt", main[5], &a),
        key("aws-access-key-id", "config/aws.env", main[8], &b),
        key("slack-bot-token", "scripts/deploy.sh", main[10], &c),
        // A rename puts the secret at a new path.
        key("slack-bot-token", "tools/deploy.sh", main[15], &c),
        key("stripe-secret-key", "docs/big1.txt", main[18], &d),
        key("github-pat", "feature/notes.md", feature3, &e),
        key("github-pat", "conf/app.env", evil, &f),
        // A NUL byte or a symlink no longer hides a token (#9).
        key("github-pat", "bin/tool", c0, &bin_tok),
    ];
    #[cfg(unix)]
    want.push(key("github-pat", "latest", c0, &sym_tok));

    let head = both(r.path(), &["--max-file-size", "64K"]).expect(1);
    assert_eq!(keys(&head), sorted(want.clone()));
    assert_eq!(trace(&head).one_by_one, 0, "every tree is in the pack");
    assert_eq!(
        trace(&head).blobs_one_by_one,
        0,
        "every blob comes from the forest"
    );

    want.push(key("github-pat", "stale.env", stale, &g));
    let all = both(r.path(), &["--all", "--max-file-size", "64K"]).expect(1);
    assert_eq!(keys(&all), sorted(want.clone()));
    assert!(errors(&all).is_empty(), "{:?}", errors(&all));
    assert_eq!(skipped(&all, "lfs_pointer"), 1);
    assert_eq!(skipped(&all, "binary"), 0);
    assert_eq!(stats(&all)["binary"], 1);
    // Both versions of the dump.
    assert_eq!(skipped(&all, "too_large"), 2);
    assert_eq!(skipped(&all, "symlink"), 0);
    assert_eq!(skipped(&all, "submodule"), 1);
    // 45 on main, 6 on feature, 2 on hotfix, 2 merges, 1 stale.
    assert_eq!(stats(&all)["commits"], 56);

    // The size limit lifted: the dump's secret (in both versions, one
    // finding) is found too, the same way by both readers.
    let unlimited = both(r.path(), &["--all", "-j", "1"]).expect(1);
    assert_eq!(keys(&unlimited).len(), want.len() + 1);
    assert_eq!(skipped(&unlimited, "too_large"), 0);
    assert!(keys(&unlimited)
        .iter()
        .any(|k| k.1 == "data/dump.sql" && k.2 == c0.to_string() && k.3 == huge_tok));

    // Every occurrence: the stripe key is in every later version of big1.
    let occ = both(
        r.path(),
        &["--all", "--all-occurrences", "--max-file-size", "64K"],
    )
    .expect(1);
    let stripe = occ
        .findings()
        .into_iter()
        .find(|x| x["rule"] == "stripe-secret-key")
        .unwrap();
    assert!(
        stripe["occurrences"].as_array().unwrap().len() >= 8,
        "{stripe}"
    );
}

/// A pack whose deltas name their bases by id (REF_DELTA), as
/// `git pack-objects --no-delta-base-offset` writes (and old servers send).
#[test]
fn ref_delta_pack_reads_the_same_both_ways() {
    let r = TempRepo::new();
    let toks: Vec<String> = (921..925).map(fake::github_pat).collect();
    r.write("docs/big0.txt", document(21, 500));
    r.write("docs/big1.txt", document(22, 500));
    r.write("README.md", "ref deltas\n");
    r.commit("initial");
    let mut ids = Vec::new();
    for i in 1..=24usize {
        churn(
            &r,
            &format!("docs/big{}.txt", i % 2),
            i * 41 % 450,
            2000 + i as u64,
        );
        match i {
            4 => insert_line(&r, "docs/big0.txt", 200, &line(&toks[0])),
            6 => {
                r.write("keys/c.env", format!("{}\n", line(&toks[1])));
            }
            9 => remove_lines_with(&r, "docs/big0.txt", &toks[0]),
            12 => insert_line(&r, "docs/big1.txt", 100, &line(&toks[2])),
            14 => {
                r.write(
                    "keys/c.env",
                    format!("# rotated soon\n{}\n", line(&toks[1])),
                );
            }
            16 => {
                r.write("keys/gone.env", format!("{}\n", line(&toks[3])));
            }
            19 => {
                r.rm("keys/gone.env");
            }
            _ => {}
        }
        ids.push(r.commit(&format!("commit {i}")));
        if i == 10 {
            r.checkout("side");
            churn(&r, "docs/big1.txt", 470, 77);
            r.commit("side");
            r.checkout("main");
        }
        if i == 13 {
            r.merge("side", "Merge side");
        }
    }

    // Every object, loose until now, into one pack with REF_DELTA entries.
    let objects = git(r.path(), &["rev-list", "--objects", "--all"]);
    let pack_base = r.git_dir().join("objects/pack/pack");
    git_with_stdin(
        r.path(),
        &[
            "pack-objects",
            "--no-delta-base-offset",
            "--window=250",
            "--depth=50",
            "-q",
            pack_base.to_str().unwrap(),
        ],
        Some(objects.as_bytes()),
    );
    git(r.path(), &["prune-packed"]);
    let counts = count_objects(r.path());
    assert_eq!(counts["count"], 0, "{counts:?}");
    let packs = pack_files(&r);
    assert_eq!(packs.len(), 1);
    // Entry types straight from the pack: 7 is REF_DELTA, 6 OFS_DELTA.
    let data = std::fs::read(&packs[0]).unwrap();
    let entries = verify_pack(&r, &packs[0]);
    let mut types = BTreeMap::new();
    for e in &entries {
        *types.entry((data[e.offset as usize] >> 4) & 7).or_insert(0) += 1;
    }
    assert!(types.get(&7).copied().unwrap_or(0) >= 20, "{types:?}");
    assert_eq!(types.get(&6), None, "{types:?}");

    let run = both(r.path(), &["--all"]).expect(1);
    assert_eq!(
        keys(&run),
        sorted(vec![
            key("github-pat", "docs/big0.txt", ids[3], &toks[0]),
            key("github-pat", "keys/c.env", ids[5], &toks[1]),
            key("github-pat", "docs/big1.txt", ids[11], &toks[2]),
            key("github-pat", "keys/gone.env", ids[15], &toks[3]),
        ])
    );
    assert_eq!(trace(&run).one_by_one, 0);
    assert_eq!(trace(&run).blobs_one_by_one, 0);
    // 25 on main, 1 on the side branch, 1 merge.
    assert_eq!(stats(&run)["commits"], 27);
    both(r.path(), &["--all", "-j", "1", "--all-occurrences"]).expect(1);
}

/// Objects spread over three packs (two of them holding the same objects)
/// and loose objects, with secrets in each.
#[test]
fn packs_and_loose_objects_mixed_read_the_same_both_ways() {
    let r = TempRepo::new();
    let toks: Vec<String> = (931..936).map(fake::github_pat).collect();
    r.write("docs/big.txt", document(31, 500));
    r.write("one.env", format!("{}\n", line(&toks[0])));
    let first = r.commit("first");
    for i in 1..=8u64 {
        churn(&r, "docs/big.txt", i as usize * 53, 3000 + i);
        r.commit(&format!("stage one {i}"));
    }
    git(r.path(), &["repack", "-ad"]);

    // Stage two: new loose objects (big.txt versions whole, not deltas),
    // then packed alone by an incremental repack.
    let mut stage2 = None;
    for i in 1..=6u64 {
        churn(&r, "docs/big.txt", i as usize * 59, 3100 + i);
        if i == 2 {
            insert_line(&r, "docs/big.txt", 120, &line(&toks[1]));
        }
        let id = r.commit(&format!("stage two {i}"));
        if i == 2 {
            stage2 = Some(id);
        }
    }
    git(r.path(), &["repack", "-d"]);
    assert_eq!(count_objects(r.path())["count"], 0);
    assert_eq!(pack_files(&r).len(), 2);

    // Stage three: one more pack with every object, keeping the old packs,
    // so each object is in two packs.
    git(r.path(), &["repack", "-a"]);
    assert_eq!(pack_files(&r).len(), 3);

    // Stage four: loose objects again.
    let mut stage4 = Vec::new();
    for i in 1..=5u64 {
        churn(&r, "docs/big.txt", i as usize * 61, 3200 + i);
        match i {
            1 => {
                r.write("new/three.env", format!("{}\n", line(&toks[2])));
            }
            2 => insert_line(&r, "docs/big.txt", 10, &line(&toks[3])),
            3 => {
                r.rm("one.env");
            }
            4 => remove_lines_with(&r, "docs/big.txt", &toks[1]),
            5 => {
                r.write("one.env", format!("{}\n", line(&toks[4])));
            }
            _ => {}
        }
        stage4.push(r.commit(&format!("stage four {i}")));
    }
    let counts = count_objects(r.path());
    assert!(counts["count"] >= 10, "{counts:?}");
    assert_eq!(counts["packs"], 3, "{counts:?}");

    let run = both(r.path(), &[]).expect(1);
    assert_eq!(
        keys(&run),
        sorted(vec![
            key("github-pat", "one.env", first, &toks[0]),
            key("github-pat", "docs/big.txt", stage2.unwrap(), &toks[1]),
            key("github-pat", "new/three.env", stage4[0], &toks[2]),
            key("github-pat", "docs/big.txt", stage4[1], &toks[3]),
            key("github-pat", "one.env", stage4[4], &toks[4]),
        ])
    );
    // Trees came from the packs and from loose objects.
    let t = trace(&run);
    assert!(t.one_by_one > 0, "{t:?}");
    assert_eq!(stats(&run)["commits"], 20);
    assert!(errors(&run).is_empty(), "{:?}", errors(&run));
    both(r.path(), &["-j", "1", "--all-occurrences"]).expect(1);
}

/// Unusual objects and tree shapes in a packed repository: empty blobs, an
/// empty root tree, names whose git tree order differs from byte order, a
/// file turned into a directory and back, one blob at several paths and as
/// a symlink target, a blob over the size limit that a smaller version is a
/// delta of, a mode change, a gitlink.
#[test]
fn odd_objects_and_tree_shapes_read_the_same_both_ways() {
    let r = TempRepo::new();
    let t: Vec<String> = (981..989).map(fake::github_pat).collect();
    r.write("empty.txt", "");
    r.write("also-empty/x", "");
    r.write("a.b", "dot\n");
    r.write("a/inner.env", format!("{}\n", line(&t[0])));
    r.write("a-b", "dash\n");
    r.write("a0", "zero\n");
    r.write("same1.txt", format!("{}\n", line(&t[1])));
    r.write("dir/same2.txt", format!("{}\n", line(&t[1])));
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::os::unix::fs::symlink(line(&t[2]), r.path().join("link")).unwrap();
        r.write(
            std::ffi::OsStr::from_bytes(b"caf\xe9.env"),
            format!("{}\n", line(&t[3])),
        );
    }
    let c1 = r.commit("shapes");
    // The symlink's target as a file's content: the same blob.
    r.write("copy-of-link.txt", line(&t[2]));
    let c2 = r.commit("copy the link");
    // A file becomes a directory, a directory becomes a file.
    r.rm("a.b");
    r.write("a.b/deep.env", format!("{}\n", line(&t[4])));
    std::fs::remove_dir_all(r.path().join("a")).unwrap();
    r.write("a", "plain\n");
    let c3 = r.commit("swap");
    // Everything deleted: the empty tree.
    let everything: Vec<PathBuf> = std::fs::read_dir(r.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with(".git"))
        .collect();
    for p in everything {
        if p.is_dir() && !p.is_symlink() {
            std::fs::remove_dir_all(p).unwrap();
        } else {
            std::fs::remove_file(p).unwrap();
        }
    }
    let c4 = r.commit("delete everything");
    r.write("back.env", format!("{}\n", line(&t[0])));
    let c5 = r.commit("one file back");
    // Over the 64K limit; then cut down to a prefix of itself, which git
    // stores as a delta of the big version.
    let big = format!("{}\n{}", line(&t[5]), document(71, 2000));
    r.write("data/big.log", &big);
    let c6 = r.commit("big log");
    let small: String = big.lines().take(300).map(|l| format!("{l}\n")).collect();
    r.write("data/big.log", format!("{small}{}\n", line(&t[6])));
    let c7 = r.commit("cut the log");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = r.path().join("back.env");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    r.submodule("vendor/lib", c1);
    r.commit("mode change and a submodule");
    assert_eq!(
        r.repo().find_commit(c4).unwrap().tree_id().to_string(),
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        "the empty tree"
    );

    git(r.path(), &["repack", "-adf", "--depth=50", "--window=250"]);
    let entries = verify_pack(&r, &pack_files(&r)[0]);
    let small_blob = r.blob_at(c7, "data/big.log").to_string();
    let big_blob = r.blob_at(c6, "data/big.log").to_string();
    let small_entry = entries.iter().find(|e| e.oid == small_blob).unwrap();
    assert_eq!(
        small_entry.base.as_deref(),
        Some(big_blob.as_str()),
        "the cut log should be a delta of the big one: {small_entry:?}"
    );

    let run = both(r.path(), &["--max-file-size", "64K"]).expect(1);
    let mut want = vec![
        key("github-pat", "a/inner.env", c1, &t[0]),
        key("github-pat", "same1.txt", c1, &t[1]),
        key("github-pat", "dir/same2.txt", c1, &t[1]),
        key("github-pat", "copy-of-link.txt", c2, &t[2]),
        key("github-pat", "a.b/deep.env", c3, &t[4]),
        key("github-pat", "back.env", c5, &t[0]),
        // The big version was not scanned: the cut one introduces both.
        key("github-pat", "data/big.log", c7, &t[5]),
        key("github-pat", "data/big.log", c7, &t[6]),
    ];
    if cfg!(unix) {
        want.push(key("github-pat", "<bytes>", c1, &t[3]));
    }
    let got: Vec<Key> = keys(&run)
        .into_iter()
        // The symlink shares its blob with copy-of-link.txt; whether it is
        // reported at its own path is not what this test is about.
        .filter(|k| k.1 != "link")
        .collect();
    assert_eq!(got, sorted(want));
    assert_eq!(skipped(&run, "too_large"), 1);
    assert_eq!(skipped(&run, "submodule"), 1);
    assert!(errors(&run).is_empty(), "{:?}", errors(&run));
    both(r.path(), &["--all-occurrences", "-j", "1"]).expect(1);
    // A limit below the cut log: neither version is read.
    let tiny = both(r.path(), &["--max-file-size", "1K"]).expect(1);
    assert!(!keys(&tiny).iter().any(|k| k.1 == "data/big.log"));
    assert_eq!(skipped(&tiny, "too_large"), 2);
}

/// A pack with a version 1 index is not for the pack reader: its objects
/// are read through libgit2, alone or next to a version 2 pack.
#[test]
fn pack_with_a_version_1_index_is_read_through_libgit2() {
    let r = TempRepo::new();
    let toks: Vec<String> = (991..994).map(fake::github_pat).collect();
    r.write("docs/big.txt", document(91, 400));
    r.write("old.env", format!("{}\n", line(&toks[0])));
    let first = r.commit("first");
    for i in 1..=8u64 {
        churn(&r, "docs/big.txt", i as usize * 43, 9100 + i);
        if i == 4 {
            insert_line(&r, "docs/big.txt", 40, &line(&toks[1]));
        }
        r.commit(&format!("edit {i}"));
    }
    let in_doc = r.repo().revparse_single("HEAD~4").unwrap().id();
    let objects = git(r.path(), &["rev-list", "--objects", "--all"]);
    let pack_base = r.git_dir().join("objects/pack/pack");
    git_with_stdin(
        r.path(),
        &[
            "pack-objects",
            "--index-version=1",
            "-q",
            pack_base.to_str().unwrap(),
        ],
        Some(objects.as_bytes()),
    );
    git(r.path(), &["prune-packed"]);
    assert_eq!(count_objects(r.path())["count"], 0);
    let idx = pack_files(&r)[0].with_extension("idx");
    assert!(!std::fs::read(&idx).unwrap().starts_with(b"\xfftOc"), "v1");

    let want = vec![
        key("github-pat", "old.env", first, &toks[0]),
        key("github-pat", "docs/big.txt", in_doc, &toks[1]),
    ];
    let (on, _) = compare(r.path(), &[]);
    assert_eq!(on.code, 1, "{}", on.stderr);
    assert_eq!(keys(&on), sorted(want.clone()));
    assert_eq!(trace(&on).from_packs, 0, "{:?}", trace(&on));

    // New objects in a version 2 pack next to it.
    r.write("new.env", format!("{}\n", line(&toks[2])));
    let last = r.commit("new secret");
    git(r.path(), &["repack", "-d"]);
    assert_eq!(pack_files(&r).len(), 2);
    let run = both(r.path(), &[]).expect(1);
    let mut want = want;
    want.push(key("github-pat", "new.env", last, &toks[2]));
    assert_eq!(keys(&run), sorted(want));
    assert!(trace(&run).one_by_one > 0, "{:?}", trace(&run));
}

/// A small history for the damage tests: `bad.env` and `good.env` each
/// with a secret, a large document edited over several commits (a delta
/// chain) with a secret from its third version on, and a directory of 80
/// files, one edited per commit (so its trees are deltas). Packed with deltas.
/// Returns (tokens, first commit, commit that put the secret in the document).
fn damage_repo(r: &TempRepo, seed: u64) -> (Vec<String>, Oid, Oid) {
    let toks: Vec<String> = (seed..seed + 3).map(fake::github_pat).collect();
    r.write("bad.env", format!("# only here\n{}\n", line(&toks[0])));
    r.write("good.env", format!("{}\n", line(&toks[1])));
    r.write("docs/big.txt", document(seed, 500));
    for n in 0..80u64 {
        r.write(format!("many/file{n:02}.txt"), format!("{}\n", prose(n)));
    }
    let first = r.commit("first");
    let mut doc_secret = None;
    for i in 1..=12u64 {
        churn(r, "docs/big.txt", i as usize * 31, seed + i);
        r.write(
            format!("many/file{:02}.txt", i * 7 % 80),
            format!("{}\n", prose(seed + 100 + i)),
        );
        if i == 3 {
            insert_line(r, "docs/big.txt", 250, &line(&toks[2]));
        }
        let id = r.commit(&format!("edit {i}"));
        if i == 3 {
            doc_secret = Some(id);
        }
    }
    git(r.path(), &["repack", "-adf", "--depth=50", "--window=250"]);
    assert_eq!(count_objects(r.path())["count"], 0);
    (toks, first, doc_secret.unwrap())
}

/// A damaged pack entry is an error naming the object and its path, and
/// everything else is still scanned, the same way by both readers.
#[test]
fn corrupt_pack_entry_is_an_error_and_the_rest_is_scanned() {
    let r = TempRepo::new();
    let (toks, first, doc_secret) = damage_repo(&r, 941);
    let bad = r.blob_at(first, "bad.env");
    let pack = &pack_files(&r)[0];
    let entries = verify_pack(&r, pack);
    let entry = entries
        .iter()
        .find(|e| e.oid == bad.to_string())
        .expect("bad.env's blob is in the pack")
        .clone();
    assert!(
        !entries
            .iter()
            .any(|e| e.base.as_deref() == Some(entry.oid.as_str())),
        "bad.env's blob is a delta base"
    );
    corrupt_entry(pack, &entry);

    let run = both(r.path(), &[]).expect(2);
    assert_eq!(
        keys(&run),
        sorted(vec![
            key("github-pat", "good.env", first, &toks[1]),
            key("github-pat", "docs/big.txt", doc_secret, &toks[2]),
        ])
    );
    let errs = errors(&run);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains(&bad.to_string()) && errs[0].contains("bad.env"),
        "{errs:?}"
    );
    assert_eq!(skipped(&run, "missing_object"), 1);
    assert!(
        run.stderr
            .contains(&format!("error: blob {bad} (bad.env in commit {first})"))
            && run.stderr.contains("(exit code 2)"),
        "{}",
        run.stderr
    );
    both(r.path(), &["-j", "1"]).expect(2);
}

/// The whole (non-delta) entry of `kind` that most deltas are based on.
fn busiest_base(entries: &[PackEntry], kind: &str) -> PackEntry {
    let children = |e: &PackEntry| {
        entries
            .iter()
            .filter(|c| c.base.as_deref() == Some(e.oid.as_str()))
            .count()
    };
    let base = entries
        .iter()
        .filter(|e| e.kind == kind && e.base.is_none())
        .max_by_key(|e| children(e))
        .unwrap()
        .clone();
    assert!(children(&base) > 0, "no {kind} delta base in the pack");
    base
}

/// A damaged delta base: every delta below it is lost too (the pack reader
/// falls back to libgit2, which fails the same way), so both readers report
/// the same errors and the same findings.
#[test]
fn corrupt_delta_base_fails_its_deltas_the_same_way_both_ways() {
    let r = TempRepo::new();
    let (toks, first, _) = damage_repo(&r, 951);
    let pack = &pack_files(&r)[0];
    // A whole blob with deltas on it: a version of the document.
    let base = busiest_base(&verify_pack(&r, pack), "blob");
    corrupt_entry(pack, &base);

    let run = both(r.path(), &[]).expect(2);
    let errs = errors(&run);
    assert!(errs.len() >= 2, "{errs:?}");
    assert!(errs.iter().any(|e| e.contains(&base.oid)), "{errs:?}");
    assert!(errs.iter().all(|e| e.contains("docs/big.txt")), "{errs:?}");
    // The small files are untouched.
    for (path, tok) in [("bad.env", &toks[0]), ("good.env", &toks[1])] {
        assert!(
            keys(&run).contains(&key("github-pat", path, first, tok)),
            "{path}: {:?}",
            keys(&run)
        );
    }
}

/// A damaged tree that other trees are deltas of: the commits that need
/// those trees report errors, the same way with both readers.
#[test]
fn corrupt_tree_delta_base_is_reported_the_same_way_both_ways() {
    let r = TempRepo::new();
    damage_repo(&r, 961);
    let pack = &pack_files(&r)[0];
    let base = busiest_base(&verify_pack(&r, pack), "tree");
    corrupt_entry(pack, &base);

    let run = both(r.path(), &[]).expect(2);
    let errs = errors(&run);
    assert!(
        errs.iter()
            .any(|e| e.contains(&format!("tree {}", base.oid))),
        "{errs:?}"
    );
    assert!(errs.len() >= 2, "{errs:?}");
}

/// Without `LEAKSCAN_PACK_READER`, a scan of most of the history uses the
/// pack reader, a scan of a few commits reads objects one by one (the rule,
/// in `pipeline::history::use_packs`: commits × 64 ≥ packed objects), and a
/// repository without packs never uses it.
#[test]
fn pack_reader_is_chosen_by_the_share_of_history_scanned() {
    let r = TempRepo::new();
    let tok = fake::github_pat(971);
    let mut ids = Vec::new();
    for i in 0..40u64 {
        r.write(format!("notes/n{}.txt", i % 5), format!("{}\n", prose(i)));
        if i == 39 {
            r.write("last.env", format!("{}\n", line(&tok)));
        }
        ids.push(r.commit(&format!("note {i}")));
    }
    let last = *ids.last().unwrap();
    let want = vec![key("github-pat", "last.env", last, &tok)];

    // All loose: nothing in packs, nothing decoded from them.
    let loose = history(r.path(), None, &["--all"]).expect(1);
    assert_eq!(trace(&loose).from_packs, 0);
    assert_eq!(keys(&loose), want);

    git(r.path(), &["repack", "-ad"]);
    let packed = count_objects(r.path())["in-pack"];
    assert!(packed > 64, "{packed} objects");

    let full = history(r.path(), None, &["--all"]).expect(1);
    assert!(trace(&full).from_packs > 0, "{:?}", trace(&full));
    assert_eq!(keys(&full), want);

    let small = history(r.path(), None, &["HEAD~1..HEAD"]).expect(1);
    assert_eq!(stats(&small)["commits"], 1);
    assert_eq!(trace(&small).from_packs, 0, "{:?}", trace(&small));
    assert_eq!(keys(&small), want);
    assert_eq!(keys(&both(r.path(), &["HEAD~1..HEAD"])), want);

    // At the threshold and just below it.
    let k = packed.div_ceil(64);
    let at = history(r.path(), None, &[&format!("HEAD~{k}..HEAD")]).expect(1);
    assert_eq!(stats(&at)["commits"], k);
    assert!(trace(&at).from_packs > 0, "{k} commits: {:?}", trace(&at));
    let below = history(r.path(), None, &[&format!("HEAD~{}..HEAD", k - 1)]).expect(1);
    assert_eq!(trace(&below).from_packs, 0, "{:?}", trace(&below));
}
