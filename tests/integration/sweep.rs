//! `leakscan sweep` (#11) on directories of repositories built with the `git`
//! command line: forks, a bare mirror, secrets removed from HEAD, on an
//! unmerged branch, behind an annotated tag only, added and deleted at once;
//! one row per unique secret; a corrupt repository that fails alone; the
//! state directory (reuse, resume after a kill); shards merged into exactly
//! the single-machine report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::fixture::Root;
use crate::util::*;

/// The fixture's secrets, built at run time.
struct Secrets {
    shared: String,
    fork: String,
    branch: String,
    tag: String,
    flash: String,
}

/// The fixture's commits that introduce them.
struct Commits {
    shared_web: String,
    shared_api: String,
    fork: String,
}

/// `acme/`: `web` (a work tree), `forks/web-fork` (a clone with one more
/// secret), `mirrors/web.git` (a bare mirror), `api` (an unrelated
/// repository still holding the shared secret at HEAD), and a file in no
/// repository.
fn acme() -> (Root, Secrets, Commits) {
    let s = Secrets {
        shared: fake::github_pat(11),
        fork: fake::github_pat(12),
        branch: fake::stripe_live(13),
        tag: fake::slack_bot(14),
        flash: fake::github_pat(15),
    };
    let r = Root::new();
    r.init("web");
    r.write("web/README", "web\n");
    r.commit("web", "start");
    r.write(
        "web/app/config.py",
        &format!("x = 1\ntoken = \"{}\"\n", s.shared),
    );
    let shared_web = r.commit("web", "add config");
    r.write("web/app/config.py", "x = 1\ntoken = os.environ['TOKEN']\n");
    r.commit("web", "read the token from the environment");
    // Only on an unmerged branch.
    r.git("web", &["checkout", "-q", "-b", "feature"]);
    r.write("web/pay.py", &format!("stripe_key = \"{}\"\n", s.branch));
    r.commit("web", "payments");
    r.git("web", &["checkout", "-q", "main"]);
    // Only reachable through an annotated tag.
    r.git("web", &["checkout", "-q", "--detach"]);
    r.write("web/release.env", &format!("SLACK_TOKEN=\"{}\"\n", s.tag));
    r.commit("web", "release build");
    r.git("web", &["tag", "-a", "v1.0", "-m", "release"]);
    r.git("web", &["checkout", "-q", "main"]);
    // Added and deleted in the next commit.
    r.write("web/oops.txt", &format!("token = \"{}\"\n", s.flash));
    r.commit("web", "oops");
    std::fs::remove_file(r.join("web/oops.txt")).unwrap();
    r.commit("web", "remove oops");

    std::fs::create_dir_all(r.join("forks")).unwrap();
    r.git("forks", &["clone", "-q", "../web", "web-fork"]);
    r.write(
        "forks/web-fork/deploy.sh",
        &format!("export GH=\"{}\"\n", s.fork),
    );
    let fork = r.commit("forks/web-fork", "deploy script");

    std::fs::create_dir_all(r.join("mirrors")).unwrap();
    r.git("mirrors", &["clone", "-q", "--mirror", "../web", "web.git"]);

    r.init("api");
    r.write(
        "api/settings.ini",
        &format!("[gh]\ntoken = \"{}\"\n", s.shared),
    );
    let shared_api = r.commit("api", "settings");

    r.write("notes.txt", "not in any repository\n");
    (
        r,
        s,
        Commits {
            shared_web,
            shared_api,
            fork,
        },
    )
}

fn sweep(dir: &Path, args: &[&str]) -> Run {
    run(leakscan().arg("sweep").arg(dir).args(args))
}

fn sweep_json(dir: &Path, args: &[&str]) -> Run {
    run(leakscan()
        .arg("sweep")
        .arg(dir)
        .args(["--format", "json", "-q"])
        .args(args))
}

/// The report without its timing.
fn untimed(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["stats"]
        .as_object_mut()
        .unwrap()
        .remove("elapsed_ms")
        .unwrap();
    v
}

/// The row whose per-repository entries hold `secret` (found by shown text).
fn row<'a>(doc: &'a Value, secret: &str) -> &'a Value {
    doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["secret"] == secret)
        .unwrap_or_else(|| panic!("no row for {}…", &secret[..6]))
}

/// repo → (at_head, first commit, path, commits) of a row.
fn repos_of(row: &Value) -> BTreeMap<String, (bool, String, String, u64)> {
    row["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["repo"].as_str().unwrap().to_string(),
                (
                    x["at_head"].as_bool().unwrap(),
                    x["first"]["commit"].as_str().unwrap().to_string(),
                    x["first"]["path"].as_str().unwrap().to_string(),
                    x["commits"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

fn names(row: &Value) -> BTreeSet<String> {
    repos_of(row).into_keys().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn key_file(root: &Root) -> PathBuf {
    let p = root.path().with_extension("key");
    std::fs::write(&p, b"0123456789abcdef0123456789abcdef").unwrap();
    p
}

#[test]
fn one_row_per_unique_secret_across_forks_mirrors_and_branches() {
    let (r, s, c) = acme();
    let run = sweep_json(r.path(), &["--show-secrets"]).expect(1);
    let doc = run.json();
    let repos: Vec<(&str, &str)> = doc["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["repo"].as_str().unwrap(), x["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        repos,
        [
            ("api", "ok"),
            ("forks/web-fork", "ok"),
            ("mirrors/web.git", "ok"),
            ("web", "ok")
        ]
    );
    assert_eq!(doc["outside"]["files"], 1);
    assert_eq!(doc["outside"]["paths"], serde_json::json!(["notes.txt"]));
    assert_eq!(doc["stats"]["secrets"], 5, "{}", run.stdout);
    let rows = doc["secrets"].as_array().unwrap();
    assert_eq!(rows.len(), 5);

    // The shared secret: one row, four repositories, still at HEAD in `api` only.
    let shared = row(&doc, &s.shared);
    let m = repos_of(shared);
    assert_eq!(
        names(shared),
        set(&["api", "forks/web-fork", "mirrors/web.git", "web"])
    );
    assert_eq!(
        m["web"],
        (false, c.shared_web.clone(), "app/config.py".into(), 1)
    );
    assert_eq!(m["forks/web-fork"].1, c.shared_web);
    assert!(!m["forks/web-fork"].0 && !m["mirrors/web.git"].0);
    assert_eq!(
        m["api"],
        (true, c.shared_api.clone(), "settings.ini".into(), 1)
    );
    let web = &shared["repos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["repo"] == "web")
        .unwrap()["first"];
    assert_eq!(web["author"], "Ada Tester");
    assert_eq!(web["email"], "ada@example.com");
    assert_eq!(web["date"], "2024-01-03T00:00:00+00:00");
    assert_eq!(web["line"], 2);

    // The fork's own secret: only there, at HEAD.
    let fork = row(&doc, &s.fork);
    assert_eq!(
        repos_of(fork)["forks/web-fork"],
        (true, c.fork.clone(), "deploy.sh".into(), 1)
    );
    assert_eq!(names(fork), set(&["forks/web-fork"]));

    // The unmerged branch: in the origin, the mirror, and the clone (as a
    // remote-tracking branch); never at HEAD.
    let branch = row(&doc, &s.branch);
    assert_eq!(
        names(branch),
        set(&["forks/web-fork", "mirrors/web.git", "web"])
    );
    assert!(repos_of(branch).values().all(|x| !x.0));
    // Only through the annotated tag (clones fetch tags).
    let tag = row(&doc, &s.tag);
    assert_eq!(
        names(tag),
        set(&["forks/web-fork", "mirrors/web.git", "web"])
    );
    assert!(repos_of(tag).values().all(|x| !x.0 && x.2 == "release.env"));
    // Added and deleted at once.
    let flash = row(&doc, &s.flash);
    assert_eq!(
        names(flash),
        set(&["forks/web-fork", "mirrors/web.git", "web"])
    );
    assert!(repos_of(flash).values().all(|x| !x.0 && x.2 == "oops.txt"));

    // Triage order (#24 item 5): most severe rule first (the Stripe live
    // key, though only on a branch; then the GitHub tokens; the Slack token
    // last), then at HEAD (shared: 4 repositories, then the fork's own),
    // then by repositories, then newest first.
    let order: Vec<&str> = rows.iter().map(|r| r["secret"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        [&s.branch, &s.shared, &s.fork, &s.flash, &s.tag].map(String::as_str)
    );
    // One HMAC per secret, the same in every repository.
    let keys: BTreeSet<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 5);
    assert!(keys.iter().all(|k| k.len() == 64));
}

#[test]
fn no_plaintext_without_show_secrets_in_any_format() {
    let (r, s, _) = acme();
    let all = [&s.shared, &s.fork, &s.branch, &s.tag, &s.flash];
    for format in ["text", "json", "csv"] {
        let run = sweep(r.path(), &["--format", format]).expect(1);
        for secret in all {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "{format} shows a secret"
            );
        }
    }
    let run = sweep(r.path(), &["--format", "csv", "--show-secrets"]).expect(1);
    assert!(all.iter().all(|s| run.stdout.contains(s.as_str())));
}

#[test]
fn text_summary_first_and_csv_one_row_per_secret_and_repository() {
    let (r, _, _) = acme();
    let text = sweep(r.path(), &[]).expect(1);
    let first = text.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        "5 unique secrets in 4 of 4 repositories, 2 still at HEAD — rotate those first"
    );
    assert!(text
        .stdout
        .contains("not in any repository: 1 file; scan them with `leakscan scan`"));
    assert!(text.stdout.contains("notes.txt"));
    let csv = sweep(r.path(), &["--format", "csv"]).expect(1);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert!(lines[0].starts_with("key,rule,secret,repo,at_head,commit"));
    // 4 + 1 + 3 + 3 + 3 (secret, repository) pairs.
    assert_eq!(lines.len() - 1, 14);
    assert_eq!(lines.iter().filter(|l| l.contains(",api,true,")).count(), 1);
}

#[test]
fn repo_list_and_a_corrupt_repository_that_fails_alone() {
    let (r, s, _) = acme();
    // A repository whose blob holding a secret is damaged.
    r.init("broken");
    r.write(
        "broken/a.txt",
        &format!("token = \"{}\"\n", fake::github_pat(20)),
    );
    r.commit("broken", "a");
    let blob = r.git("broken", &["rev-parse", "HEAD:a.txt"]);
    let obj = r.join(&format!(
        "broken/.git/objects/{}/{}",
        &blob[..2],
        &blob[2..]
    ));
    let mut perms = std::fs::metadata(&obj).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).unwrap();
    std::fs::write(&obj, b"not zlib").unwrap();
    // One whose .git points nowhere.
    r.write("gone/.git", "gitdir: /nonexistent/leakscan-test\n");
    // A shallow clone: its history is cut.
    r.git(
        ".",
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", r.join("web").display()),
            "shallow",
        ],
    );
    let swept = sweep(r.path(), &["--format", "json"]).expect(2);
    let doc = swept.json();
    let status: BTreeMap<&str, &str> = doc["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["repo"].as_str().unwrap(), x["status"].as_str().unwrap()))
        .collect();
    assert_eq!(status["broken"], "failed");
    assert_eq!(status["gone"], "failed");
    assert_eq!(status["shallow"], "failed");
    assert_eq!(status["web"], "ok");
    assert_eq!(status["api"], "ok");
    assert_eq!(doc["stats"]["failed"], 3);
    let err = |name: &str| {
        doc["repos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["repo"] == name)
            .unwrap()["error"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(err("broken").contains(&blob), "{}", err("broken"));
    assert!(!err("gone").is_empty());
    assert!(err("shallow").contains("shallow"), "{}", err("shallow"));
    // The others were swept in full (the shallow clone's HEAD adds nothing new).
    assert_eq!(doc["stats"]["secrets"], 5);
    assert!(
        swept.stderr.contains("3 repositories failed"),
        "{}",
        swept.stderr
    );

    // A list file names repositories anywhere, under the names it gives.
    let list = r.path().with_extension("list");
    std::fs::write(
        &list,
        format!(
            "# two of them\n{}\n{}/\n",
            r.join("api").display(),
            r.join("mirrors/web.git").display()
        ),
    )
    .unwrap();
    let listed = run(leakscan()
        .args([
            "sweep",
            "--format",
            "json",
            "--show-secrets",
            "-q",
            "--repo-list",
        ])
        .arg(&list))
    .expect(1);
    let doc = listed.json();
    assert_eq!(doc["repos"].as_array().unwrap().len(), 2);
    assert_eq!(
        names(row(&doc, &s.shared)),
        set(&[
            &r.join("api").display().to_string(),
            &r.join("mirrors/web.git").display().to_string()
        ])
    );
}

/// Parses `(N scanned, M unchanged` from the sweep's summary.
fn scanned_reused(stderr: &str) -> (u64, u64) {
    let at = stderr.find(" scanned, ").expect("summary line");
    let before = &stderr[..at];
    let n = before[before.rfind('(').unwrap() + 1..].parse().unwrap();
    let rest = &stderr[at + " scanned, ".len()..];
    let m = rest[..rest.find(' ').unwrap()].parse().unwrap();
    (n, m)
}

fn state_results(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir.join("repos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            !n.starts_with('.') && n.ends_with(".json")
        })
        .map(|p| {
            let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            v["result"]["repo"].as_str().unwrap().to_string()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn state_skips_unchanged_repositories_and_rebuilds_the_report() {
    let (r, s, _) = acme();
    let state = r.path().with_extension("state");
    let st = state.to_str().unwrap();
    let first = sweep_json(r.path(), &["--state", st]).expect(1);
    assert_eq!(
        scanned_reused(&sweep(r.path(), &["--state", st, "--format", "json"]).stderr),
        (0, 4)
    );
    // The state holds no plaintext.
    for e in std::fs::read_dir(state.join("repos")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        assert!(!text.contains(&s.shared) && !text.contains(&s.fork));
    }
    assert!(state.join("key").is_file());
    // A new commit in one repository: only it is scanned again.
    r.write("api/more.txt", "nothing\n");
    r.commit("api", "more");
    let again = sweep(r.path(), &["--state", st, "--format", "json"]).expect(1);
    assert_eq!(scanned_reused(&again.stderr), (1, 3));
    assert_eq!(
        untimed(&again.stdout)["secrets"],
        untimed(&first.stdout)["secrets"]
    );
    // Other rules: everything again.
    let cfg = r.path().with_extension("toml");
    std::fs::write(&cfg, "disable = [\"generic-api-key\"]\n").unwrap();
    let other = sweep(
        r.path(),
        &[
            "--state",
            st,
            "--format",
            "json",
            "--config",
            cfg.to_str().unwrap(),
        ],
    );
    assert_eq!(scanned_reused(&other.stderr), (4, 0), "{}", other.stderr);
    // The report rebuilt from the state alone is the sweep's.
    let rebuilt = run(leakscan()
        .args(["sweep", "merge", "--format", "json", "-q"])
        .arg(&state))
    .expect(1);
    let mut a = untimed(&rebuilt.stdout);
    let mut b = untimed(&other.stdout);
    a["sweep"]["shard"] = Value::Null;
    b["sweep"]["shard"] = Value::Null;
    assert_eq!(a, b);
}

/// The repositories of the interrupted-sweep tests, in scan order.
const SIX_REPOSITORIES: [&str; 6] = ["a-one", "b-two", "c-three", "m-hang", "x-four", "y-five"];

/// Six repositories under `r`, each committing a token; `m-hang`'s blob is
/// replaced by a FIFO, so reading it blocks until a writer opens it (as a
/// stalled disk or network mount would). Returns the FIFO's path and the
/// object's real bytes, to write into it or put back.
#[cfg(unix)]
fn six_repositories_one_blocking(r: &Root) -> (std::path::PathBuf, Vec<u8>) {
    for name in SIX_REPOSITORIES {
        r.init(name);
        r.write(
            &format!("{name}/k.txt"),
            &format!(
                "token = \"{}\"\n",
                fake::github_pat(name.len() as u64 * 7 + name.as_bytes()[0] as u64)
            ),
        );
        r.commit(name, "k");
    }
    let blob = r.git("m-hang", &["rev-parse", "HEAD:k.txt"]);
    let obj = r.join(&format!(
        "m-hang/.git/objects/{}/{}",
        &blob[..2],
        &blob[2..]
    ));
    let saved = std::fs::read(&obj).unwrap();
    std::fs::remove_file(&obj).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&obj)
        .status()
        .unwrap();
    assert!(made.success());
    (obj, saved)
}

#[cfg(unix)]
#[test]
fn resume_after_a_kill_redoes_only_the_missing_repositories() {
    use std::io::Write;
    let r = Root::new();
    let (obj, saved) = six_repositories_one_blocking(&r);
    let key = key_file(&r);
    let state = r.path().with_extension("state");
    let mut child = leakscan()
        .arg("sweep")
        .arg(r.path())
        .args(["-j", "1", "-q", "--format", "json", "--state"])
        .arg(&state)
        .arg("--key-file")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Opening the FIFO for writing returns once the sweep has opened it to
    // read: the sweep is then inside `m-hang`. Kill it there.
    let fifo = std::fs::OpenOptions::new().write(true).open(&obj).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    drop(fifo);
    // Repositories are swept by identity (each one's root commit, here its
    // only commit), then name: those before `m-hang` are saved, no other.
    let names = SIX_REPOSITORIES;
    let id = |n: &str| (r.git(n, &["rev-parse", "HEAD"]), n.to_string());
    let hang = id("m-hang");
    let before: Vec<String> = names
        .iter()
        .filter(|n| id(n) < hang)
        .map(|n| n.to_string())
        .collect();
    assert!(!before.is_empty() && before.len() < 5, "{before:?}");
    assert_eq!(state_results(&state), before);
    // Repair the repository and run again: only the three missing ones.
    std::fs::remove_file(&obj).unwrap();
    std::fs::File::create(&obj)
        .unwrap()
        .write_all(&saved)
        .unwrap();
    let resumed = run(leakscan()
        .arg("sweep")
        .arg(r.path())
        .args(["--format", "json", "--state"])
        .arg(&state)
        .arg("--key-file")
        .arg(&key))
    .expect(1);
    let done = before.len() as u64;
    assert_eq!(scanned_reused(&resumed.stderr), (6 - done, done));
    let fresh = sweep_json(r.path(), &["--key-file", key.to_str().unwrap()]).expect(1);
    assert_eq!(untimed(&resumed.stdout), untimed(&fresh.stdout));
    assert_eq!(untimed(&fresh.stdout)["stats"]["secrets"], 6);
}

/// Issue #24, item 3: Ctrl-C (a real SIGINT) during a sweep writes the
/// report of what is done, marked incomplete, says so and how to resume;
/// the rerun with the same --state scans only the rest.
#[cfg(unix)]
#[test]
fn ctrl_c_writes_an_incomplete_report_and_says_how_to_resume() {
    use std::io::Write;
    let r = Root::new();
    let (obj, saved) = six_repositories_one_blocking(&r);
    let key = key_file(&r);
    let state = r.path().with_extension("state");
    let report = r.path().with_extension("report.json");
    let child = leakscan()
        .arg("sweep")
        .arg(r.path())
        .args(["-j", "1", "--format", "json", "--output"])
        .arg(&report)
        .arg("--state")
        .arg(&state)
        .arg("--key-file")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The sweep is inside `m-hang` once the FIFO opens for writing: Ctrl-C.
    let mut fifo = std::fs::OpenOptions::new().write(true).open(&obj).unwrap();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // (The handler runs on its own thread; give it a moment before the read
    // unblocks. Either way the assertions below hold.)
    std::thread::sleep(std::time::Duration::from_millis(200));
    fifo.write_all(&saved).unwrap();
    drop(fifo);
    // The object may be opened again (header, then body): serve every open
    // until the sweep has ended.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let feeder = {
        let (obj, saved, stop) = (obj.clone(), saved.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&obj) {
                    let _ = f.write_all(&saved);
                }
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    // Opening a FIFO read-write never blocks: it releases the feeder's open.
    drop(
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&obj),
    );
    feeder.join().unwrap();
    std::fs::remove_file(&obj).unwrap();
    std::fs::write(&obj, &saved).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("INCOMPLETE: interrupted (Ctrl-C) after"),
        "{stderr}"
    );
    assert!(stderr.contains("marked incomplete"), "{stderr}");
    assert!(
        stderr.contains("to resume, run the same command again"),
        "{stderr}"
    );
    // The report was written, says it is incomplete, and lists exactly the
    // repositories the state holds as done (plus the interrupted one).
    let doc: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(doc["sweep"]["complete"], false);
    assert_eq!(doc["sweep"]["planned"], 6);
    let done: Vec<String> = doc["repos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == "ok")
        .map(|x| x["repo"].as_str().unwrap().to_string())
        .collect();
    assert!(!done.is_empty() && done.len() < 6, "{doc}");
    assert_eq!(state_results(&state), done);
    // An incomplete report is not merged as if it were whole.
    let merged = run(leakscan().args(["sweep", "merge"]).arg(&report)).expect(2);
    assert!(merged.stderr.contains("interrupted"), "{}", merged.stderr);
    // Resume: only the rest is scanned, and the report is the full one.
    let resumed = run(leakscan()
        .arg("sweep")
        .arg(r.path())
        .args(["--format", "json", "--state"])
        .arg(&state)
        .arg("--key-file")
        .arg(&key))
    .expect(1);
    let n = done.len() as u64;
    assert_eq!(scanned_reused(&resumed.stderr), (6 - n, n));
    let fresh = sweep_json(r.path(), &["--key-file", key.to_str().unwrap()]).expect(1);
    assert_eq!(untimed(&resumed.stdout), untimed(&fresh.stdout));
    assert!(untimed(&fresh.stdout)["sweep"].get("complete").is_none());
}

/// Without --state, Ctrl-C's note says how to make the next sweep
/// resumable, and a long sweep is told so before (the threshold is 0 here).
#[cfg(unix)]
#[test]
fn a_sweep_without_state_suggests_it() {
    let r = Root::new();
    r.init("one");
    r.write("one/k.txt", "nothing here\n");
    r.commit("one", "k");
    let out = run(leakscan()
        .env("LEAKSCAN_STATE_HINT_SECS", "0")
        .arg("sweep")
        .arg(r.path()))
    .expect(0);
    assert!(
        out.stderr.contains("runs long without --state"),
        "{}",
        out.stderr
    );
    let quiet = run(leakscan().arg("sweep").arg(r.path())).expect(0);
    assert!(!quiet.stderr.contains("--state"), "{}", quiet.stderr);
}

/// Issue #24, item 5: the CSV says which rows come from a repository that
/// was not read completely, so they never look complete.
#[test]
fn csv_rows_carry_their_repositorys_status() {
    let r = Root::new();
    r.init("whole");
    r.write(
        "whole/k.txt",
        &format!("token = \"{}\"\n", fake::github_pat(31)),
    );
    r.commit("whole", "k");
    // `half`: one blob with a secret, one damaged.
    r.init("half");
    r.write(
        "half/k.txt",
        &format!("token = \"{}\"\n", fake::github_pat(32)),
    );
    r.write("half/damaged.txt", "some other text\n");
    r.commit("half", "k");
    let blob = r.git("half", &["rev-parse", "HEAD:damaged.txt"]);
    let obj = r.join(&format!("half/.git/objects/{}/{}", &blob[..2], &blob[2..]));
    let mut perms = std::fs::metadata(&obj).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).unwrap();
    std::fs::write(&obj, b"not zlib").unwrap();
    let csv = sweep(r.path(), &["--format", "csv"]).expect(2);
    let mut lines = csv.stdout.lines();
    assert!(
        lines.next().unwrap().ends_with(",repos,status"),
        "{}",
        csv.stdout
    );
    let status: BTreeMap<String, String> = lines
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[3].to_string(), cols.last().unwrap().to_string())
        })
        .collect();
    assert_eq!(
        status.get("whole").map(String::as_str),
        Some("ok"),
        "{}",
        csv.stdout
    );
    assert_eq!(
        status.get("half").map(String::as_str),
        Some("failed"),
        "{}",
        csv.stdout
    );
}

/// Issue #24, item 5: rows in triage order — a GitHub token in one
/// repository (no longer at HEAD) before a generic password at HEAD in
/// three — and a secret's forks collapsed into one text line.
#[test]
fn rows_by_severity_then_at_head_then_spread_and_forks_collapse() {
    let r = Root::new();
    let password = fake::token("{alnum:8}.{alnum:6}", 41);
    for name in ["one", "two", "three"] {
        r.init(name);
        r.write(
            &format!("{name}/db.env"),
            &format!("DB_PASSWORD = \"{password}\"\n"),
        );
        r.commit(name, "db");
    }
    r.init("svc");
    r.write(
        "svc/k.txt",
        &format!("token = \"{}\"\n", fake::github_pat(42)),
    );
    r.commit("svc", "k");
    std::fs::remove_file(r.join("svc/k.txt")).unwrap();
    r.commit("svc", "rm");
    r.git(
        ".",
        &[
            "clone",
            "-q",
            &format!("file://{}", r.join("svc").display()),
            "svc-fork",
        ],
    );
    let key = key_file(&r);
    let k = key.to_str().unwrap();
    let doc = untimed(&sweep_json(r.path(), &["--key-file", k]).expect(1).stdout);
    let rules: Vec<&str> = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules.len(), 2, "{doc}");
    assert_eq!(rules[0], "github-pat", "{rules:?}");
    assert!(rules[1].starts_with("generic"), "{rules:?}");
    // Text: the GitHub token first, its two repositories on one line.
    let text = sweep(r.path(), &["--key-file", k]).expect(1).stdout;
    let gh = text.find("github-pat").unwrap();
    let generic = text.find("generic").unwrap();
    assert!(gh < generic, "{text}");
    assert!(
        text.contains("    svc and 1 fork (svc-fork)  k.txt:1"),
        "{text}"
    );
    // The three unrelated repositories keep a line each.
    assert_eq!(text.matches("db.env:1").count(), 3, "{text}");
}

#[test]
fn shards_merge_into_exactly_the_single_machine_report() {
    let (r, _, _) = acme();
    for i in 0..6 {
        let name = format!("more/svc{i}");
        r.init(&name);
        r.write(
            &format!("{name}/env"),
            &format!("token = \"{}\"\n", fake::github_pat(100 + i)),
        );
        r.commit(&name, "env");
    }
    let key = key_file(&r);
    let k = key.to_str().unwrap();
    let single = sweep_json(r.path(), &["--key-file", k]).expect(1);
    let single_text = sweep(r.path(), &["--key-file", k]).expect(1);
    let dir = r.path().with_extension("shards");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut sizes = Vec::new();
    for i in 0..4 {
        let out = dir.join(format!("{i}.json"));
        let run = sweep_json(
            r.path(),
            &[
                "--key-file",
                k,
                "--shard",
                &format!("{i}/4"),
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
        let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(doc["sweep"]["shard"], format!("{i}/4"));
        let repos: Vec<String> = doc["repos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["repo"].as_str().unwrap().to_string())
            .collect();
        // Forks and mirrors of `web` stay together.
        let webs = repos.iter().filter(|n| n.contains("web")).count();
        assert!(webs == 0 || webs == 3, "{repos:?}");
        sizes.push(repos.len());
        files.push(out);
    }
    assert_eq!(sizes.iter().sum::<usize>(), 10);
    let merged = run(leakscan()
        .args(["sweep", "merge", "--format", "json", "-q"])
        .args(&files))
    .expect(1);
    assert_eq!(untimed(&merged.stdout), untimed(&single.stdout));
    // Byte for byte, but for the one timing line.
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("elapsed_ms"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&merged.stdout), strip(&single.stdout));
    let merged_text = run(leakscan().args(["sweep", "merge", "-q"]).args(&files)).expect(1);
    assert_eq!(merged_text.stdout, single_text.stdout);

    // A missing shard, a shard given twice, another key, other rules: refused.
    let three = run(leakscan().args(["sweep", "merge", "-q"]).args(&files[..3])).expect(2);
    assert!(three.stderr.contains("missing: 3/4"), "{}", three.stderr);
    let twice = run(leakscan()
        .args(["sweep", "merge", "-q"])
        .args(&files)
        .arg(&files[0]))
    .expect(2);
    assert!(twice.stderr.contains("given twice"), "{}", twice.stderr);
    let other_key = dir.join("other-key.json");
    sweep_json(
        r.path(),
        &["--shard", "0/4", "-o", other_key.to_str().unwrap()],
    );
    let refused = run(leakscan()
        .args(["sweep", "merge", "-q"])
        .args(&files[1..])
        .arg(&other_key))
    .expect(2);
    assert!(
        refused.stderr.contains("different key"),
        "{}",
        refused.stderr
    );
    let cfg = r.path().with_extension("toml");
    std::fs::write(&cfg, "disable = [\"generic-api-key\"]\n").unwrap();
    let other_rules = dir.join("other-rules.json");
    sweep_json(
        r.path(),
        &[
            "--key-file",
            k,
            "--shard",
            "0/4",
            "--config",
            cfg.to_str().unwrap(),
            "-o",
            other_rules.to_str().unwrap(),
        ],
    );
    let refused = run(leakscan()
        .args(["sweep", "merge", "-q"])
        .args(&files[1..])
        .arg(&other_rules))
    .expect(2);
    assert!(
        refused.stderr.contains("different rules"),
        "{}",
        refused.stderr
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    let r = Root::new();
    let run1 = run(leakscan().arg("sweep")).expect(2);
    assert!(run1.stderr.contains("ROOT"), "{}", run1.stderr);
    let run2 = sweep(r.path(), &["--shard", "4/4"]).expect(2);
    assert!(run2.stderr.contains("--shard"), "{}", run2.stderr);
    let short = r.path().with_extension("key");
    std::fs::write(&short, b"short").unwrap();
    let run3 = sweep(r.path(), &["--key-file", short.to_str().unwrap()]).expect(2);
    assert!(run3.stderr.contains("at least 16 bytes"), "{}", run3.stderr);
    let run4 = run(leakscan().args(["sweep", "merge"]).arg(r.path())).expect(2);
    assert!(
        run4.stderr.contains("not a sweep state directory"),
        "{}",
        run4.stderr
    );
    // An empty root: nothing found, exit 0.
    let empty = sweep_json(r.path(), &[]).expect(0);
    assert_eq!(empty.json()["stats"]["repos"], 0);
}

/// Per repository: key → (at_head, first, commits), and (commits, blobs, bytes).
type Swept = BTreeMap<String, (BTreeMap<String, Value>, (u64, u64, u64))>;

fn per_repo(doc: &Value, rename: &dyn Fn(&str) -> String) -> Swept {
    let mut out: Swept = BTreeMap::new();
    for x in doc["repos"].as_array().unwrap() {
        let counts = (
            x["commits"].as_u64().unwrap(),
            x["blobs"].as_u64().unwrap(),
            x["bytes"].as_u64().unwrap(),
        );
        out.insert(
            rename(x["repo"].as_str().unwrap()),
            (BTreeMap::new(), counts),
        );
    }
    for row in doc["secrets"].as_array().unwrap() {
        for x in row["repos"].as_array().unwrap() {
            let mut entry = x.clone();
            entry.as_object_mut().unwrap().remove("repo");
            out.get_mut(&rename(x["repo"].as_str().unwrap()))
                .unwrap()
                .0
                .insert(row["key"].as_str().unwrap().to_string(), entry);
        }
    }
    out
}

#[test]
fn blobs_shared_by_forks_are_read_once_with_the_same_results() {
    let (r, _, _) = acme();
    let key = key_file(&r);
    let k = key.to_str().unwrap();
    // Loose objects read one by one, then packs read through the pack reader.
    for packed in [false, true] {
        if packed {
            for repo in ["api", "forks/web-fork", "mirrors/web.git", "web"] {
                r.git(repo, &["repack", "-adq"]);
            }
        }
        let mode = if packed { "on" } else { "off" };
        let together = run(leakscan()
            .env("LEAKSCAN_PACK_READER", mode)
            .arg("sweep")
            .arg(r.path())
            .args(["--format", "json", "--key-file", k]))
        .expect(1);
        let saved: u64 = {
            let s = &together.stderr;
            let at = s.find(" blob reads saved").expect("summary");
            s[s[..at].rfind(' ').unwrap() + 1..at].parse().unwrap()
        };
        let doc = together.json();
        let blobs = |name: &str| {
            doc["repos"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["repo"] == name)
                .unwrap()["blobs"]
                .as_u64()
                .unwrap()
        };
        assert!(blobs("web") >= 6);
        // web's clone, mirror and web itself share an identity (their root
        // commit) and go by name: the clone (web's blobs and one of its
        // own) is read first; the mirror and web itself then take every
        // blob from the sweep's cache (and, packed, the clone's trees).
        assert_eq!(saved, blobs("web") * 2, "{}", together.stderr);
        assert_eq!(blobs("forks/web-fork"), blobs("web") + 1);
        // Each repository swept alone (nothing shared) gives the same entries.
        let mut alone: Swept = BTreeMap::new();
        for name in ["api", "forks/web-fork", "mirrors/web.git", "web"] {
            let list = r.path().with_extension("one");
            std::fs::write(&list, format!("{}\n", r.join(name).display())).unwrap();
            let one = run(leakscan()
                .env("LEAKSCAN_PACK_READER", mode)
                .args([
                    "sweep",
                    "--format",
                    "json",
                    "-q",
                    "--key-file",
                    k,
                    "--repo-list",
                ])
                .arg(&list))
            .expect(1);
            alone.extend(per_repo(&one.json(), &|_| name.to_string()));
        }
        assert_eq!(per_repo(&doc, &|n| n.to_string()), alone);
    }
}

#[test]
fn merge_reads_odd_reports_without_panicking() {
    let r = Root::new();
    let bad = r.join("bad.json");
    std::fs::write(&bad, "{\"version\": 1, \"secrets\": [").unwrap();
    let run1 = run(leakscan().args(["sweep", "merge"]).arg(&bad)).expect(2);
    assert!(run1.stderr.contains("bad.json"), "{}", run1.stderr);
    // Hand-edited fields: a commit id that is not ASCII, a repository the
    // repos list lacks.
    let doc = serde_json::json!({
        "version": 1,
        "sweep": {"leakscan": "0.1.0", "rules": "r", "key_id": "k", "show_secrets": false, "shard": null},
        "secrets": [{"rule": "x", "secret": "ab…(9)", "key": "ff", "repos": [
            {"repo": "a", "at_head": true, "commits": 1,
             "first": {"commit": "ééééééééééééééé", "author": "", "email": "", "date": "", "path": "p", "line": 1}}]}],
        "repos": [{"repo": "a", "status": "ok", "error": null, "commits": 1, "blobs": 1, "bytes": 1}],
        "outside": {"files": 0, "paths": []},
        "stats": {}
    });
    let odd = r.join("odd.json");
    std::fs::write(&odd, doc.to_string()).unwrap();
    let text = run(leakscan().args(["sweep", "merge", "-q"]).arg(&odd)).expect(1);
    assert!(
        text.stdout.contains("commit éééééééééééé ("),
        "{}",
        text.stdout
    );
    let mut orphan = doc.clone();
    orphan["repos"] = serde_json::json!([]);
    std::fs::write(&odd, orphan.to_string()).unwrap();
    let run3 = run(leakscan().args(["sweep", "merge", "-q"]).arg(&odd)).expect(2);
    assert!(run3.stderr.contains("not listed"), "{}", run3.stderr);
}

// #18 item 8: `sweep --show-secrets -o FILE` created FILE 0644, and
// `--state DIR --show-secrets` left plaintext in DIR/repos/*.json (0644).
// The report with plaintext is 0600; state never holds plaintext.
#[test]
fn plaintext_only_in_the_final_report_and_0600() {
    use std::os::unix::fs::PermissionsExt;
    let (r, s, _) = acme();
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("report.json");
    let state = out_dir.path().join("state");
    let all = [&s.shared, &s.fork, &s.branch, &s.tag, &s.flash];
    let run = run(leakscan().arg("sweep").arg(r.path()).args([
        "--format",
        "json",
        "-q",
        "--show-secrets",
        "--state",
        state.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(all.iter().all(|s| text.contains(s.as_str())));
    let mode = std::fs::metadata(&report).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "report mode {mode:o}");
    let mut files = 0;
    for e in walk_files(&state) {
        files += 1;
        let bytes = std::fs::read(&e).unwrap();
        let body = String::from_utf8_lossy(&bytes);
        for secret in all {
            assert!(
                !body.contains(secret.as_str()),
                "{} holds a plaintext secret",
                e.display()
            );
        }
    }
    assert!(files > 1, "the state directory holds results");
    // A rerun asking for plaintext again rescans (state cannot give it).
    let again = run_json_report(&r, &state);
    let doc: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(
        doc["sweep"]["show_secrets"],
        Value::Bool(true),
        "{}",
        again.stderr
    );
}

fn run_json_report(r: &Root, state: &Path) -> Run {
    run(leakscan().arg("sweep").arg(r.path()).args([
        "--format",
        "json",
        "--show-secrets",
        "--state",
        state.to_str().unwrap(),
    ]))
}

/// Every file under `dir`, recursively.
fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

// #18 item 4: a directory under a root that cannot be listed (mode 000, a
// repository inside, the sweep run unprivileged) was a warning and exit 0,
// with or without --state. It is a failure named in the report (exit 2).
#[test]
fn a_directory_that_cannot_be_listed_fails_the_sweep() {
    use std::os::unix::fs::PermissionsExt;
    let nobody = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !nobody {
        eprintln!("skipped: cannot run as an unprivileged user (setpriv to uid 65534 failed)");
        return;
    }
    let r = Root::new();
    r.init("locked/app");
    r.write(
        "locked/app/a.env",
        &format!("T=\"{}\"\n", fake::github_pat(1841)),
    );
    r.commit("locked/app", "a");
    r.init("open/app");
    r.write("open/app/readme.md", "nothing here\n");
    r.commit("open/app", "a");
    // git reads only repositories the running user owns.
    let owned = std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(r.join("open"))
        .status()
        .unwrap();
    assert!(owned.success());
    r.write("notes.txt", "not in any repository\n");
    let open = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    open(r.path(), 0o755);
    open(&r.join("notes.txt"), 0o644);
    open(&r.join("locked"), 0o000);
    let state = tempfile::tempdir().unwrap();
    open(state.path(), 0o777);
    let state_dir = state.path().join("s");
    for extra in [vec![], vec!["--state", state_dir.to_str().unwrap()]] {
        let run = run(std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_leakscan"))
            .arg("sweep")
            .arg(r.path())
            .args(["--format", "json"])
            .args(&extra)
            .env("HOME", state.path()));
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let failed: Vec<&Value> = doc["repos"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["status"] == "failed")
            .collect();
        assert_eq!(failed.len(), 1, "{extra:?}: {}", run.stdout);
        assert_eq!(failed[0]["repo"], "locked", "{}", run.stdout);
        assert!(
            failed[0]["error"]
                .as_str()
                .is_some_and(|e| e.contains("cannot be listed")),
            "{}",
            run.stdout
        );
        assert!(run.stderr.contains("locked"), "{}", run.stderr);
    }
    // `sweep merge` of the state alone names it too (it was not saved).
    let merged = run(leakscan()
        .args(["sweep", "merge", "--format", "json", "-q"])
        .arg(&state_dir));
    assert_eq!(merged.code, 2, "{}", merged.stderr);
    let doc: Value = serde_json::from_str(&merged.stdout).unwrap();
    let failed: Vec<&Value> = doc["repos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{}", merged.stdout);
    assert_eq!(failed[0]["repo"], "locked", "{}", merged.stdout);
    open(&r.join("locked"), 0o755);
}

/// Issue #24 item 5: within one severity, the finding's confidence comes
/// next — a GitHub token whose checksum holds (high), in one repository and
/// no longer at HEAD, before one whose checksum fails (medium) at HEAD in
/// three; both rows carry their confidence in the JSON report.
#[test]
fn sweep_rows_order_by_confidence_after_severity() {
    let r = Root::new();
    let weak = fake::token("ghp_{alnum:36}", 43);
    for name in ["one", "two", "three"] {
        r.init(name);
        r.write(&format!("{name}/k.env"), &format!("token = \"{weak}\"\n"));
        r.commit(name, "k");
    }
    r.init("svc");
    r.write(
        "svc/k.txt",
        &format!("token = \"{}\"\n", fake::github_pat(44)),
    );
    r.commit("svc", "k");
    std::fs::remove_file(r.join("svc/k.txt")).unwrap();
    r.commit("svc", "rm");
    let key = key_file(&r);
    let k = key.to_str().unwrap();
    let doc = untimed(&sweep_json(r.path(), &["--key-file", k]).expect(1).stdout);
    let rows: Vec<(&str, &str)> = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["confidence"].as_str().unwrap(),
                x["repos"][0]["repo"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("high", "svc"), ("medium", "one")], "{doc}");
}
