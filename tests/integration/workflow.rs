//! The everyday workflow (#14 items 1-5, 7-9; #9 items 8, 14-16) through the
//! real binary and real `git`: baseline advice that is always the command
//! that fixes the state, pull-request scans, scans from a subdirectory, the
//! blocking message's baseline route, who triages, `--output` checked first,
//! Ctrl-C, file modes, redacted allowlist errors and the baseline lock.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::fixture::UserGit;
use crate::util::*;

const FILE: &str = ".leakscan-baseline.json";

/// What the workflow tests read from a repository's baseline.
impl UserGit {
    fn baseline(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.path().join(FILE)).unwrap()).unwrap()
    }

    fn entries(&self) -> Vec<Value> {
        self.baseline()["entries"].as_array().cloned().unwrap()
    }
}

fn token_line(seed: u64) -> String {
    format!("token = \"{}\"\n", fake::github_pat(seed))
}

/// A repository with one secret only in history (added, then deleted) and
/// one still in the tree.
fn history_and_tree() -> UserGit {
    let g = UserGit::new();
    g.write("old.env", &token_line(1));
    g.write("app.env", &token_line(2));
    g.commit("add");
    std::fs::remove_file(g.path().join("old.env")).unwrap();
    g.commit("remove old");
    g
}

#[test]
fn history_baseline_is_not_pruned_by_a_plain_update_and_advice_has_the_flags() {
    let g = history_and_tree();
    g.run(&["baseline", "create", "--history", "--all"])
        .expect(0);
    assert_eq!(g.entries().len(), 2);
    assert_eq!(g.baseline()["history"]["all"], Value::Bool(true));
    // Without flags, --check and update scan what the baseline was made from.
    let r = g.run(&["baseline", "update", "--check"]).expect(0);
    assert!(r.stderr.contains("up to date"), "{}", r.stderr);
    g.run(&["baseline", "update"]).expect(0);
    assert_eq!(g.entries().len(), 2, "the history-only entry must survive");
    g.run(&["history", "--all"]).expect(0);
    // A working-tree scan sees only part of what the baseline covers.
    let r = g.run(&["scan", "."]).expect(0);
    assert!(!r.stderr.contains("stale"), "{}", r.stderr);
    // Out of date: the advice is the exact command, flags and all, and it works.
    g.write("new.env", &token_line(3));
    g.commit("new");
    let r = g.run(&["baseline", "update", "--check"]).expect(1);
    assert!(
        r.stderr
            .contains("run `leakscan baseline update --history --all`"),
        "{}",
        r.stderr
    );
    g.run(&["baseline", "update", "--history", "--all"])
        .expect(0);
    g.run(&["baseline", "update", "--check", "--history", "--all"])
        .expect(0);
    assert_eq!(g.entries().len(), 3);
    // A narrower explicit scan adds but never calls the history entry stale.
    let r = g
        .run(&["baseline", "update", "--check", "app.env"])
        .expect(0);
    assert!(r.stderr.contains("does not cover"), "{}", r.stderr);
}

#[test]
fn stale_note_names_the_command_with_the_scope() {
    let g = history_and_tree();
    g.run(&["baseline", "create", "--history", "--all"])
        .expect(0);
    // Rewrite history so the old secret is gone everywhere.
    g.git(&["checkout", "-q", "--orphan", "fresh"]);
    g.commit("fresh start");
    g.git(&["branch", "-D", "main"]);
    std::fs::remove_file(g.path().join("old.env")).ok();
    let r = g.run(&["history", "--all"]).expect(0);
    assert!(
        r.stderr
            .contains("`leakscan baseline update --history --all` prunes them"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_pull_request_range_reports_nothing_stale() {
    let g = history_and_tree();
    g.run(&["baseline", "create", "--history", "--all"])
        .expect(0);
    g.commit_baseline();
    g.git(&["checkout", "-q", "-b", "feature"]);
    g.write("readme.txt", "nothing secret\n");
    g.commit("docs");
    let r = g
        .run(&["history", "main..HEAD", "--baseline-from", "main"])
        .expect(0);
    assert!(!r.stderr.contains("stale"), "{}", r.stderr);
    // The whole history under the same baseline still judges staleness.
    let r = g
        .run(&["history", "--all", "--baseline-from", "main"])
        .expect(0);
    assert!(!r.stderr.contains("stale"), "{}", r.stderr);
}

impl UserGit {
    fn commit_baseline(&self) {
        self.git(&["add", FILE]);
        self.git(&["commit", "-q", "-m", "baseline"]);
    }
}

#[test]
fn scanning_a_subdirectory_uses_the_repository_config_and_baseline() {
    let g = UserGit::new();
    g.write("sub/deep/a.env", &token_line(4));
    // The config at the top disables nothing but adds a rule, found only
    // if the config is read.
    g.write(
        ".leakscan.toml",
        "[[rules]]\nid = \"acme-key\"\ndescription = \"Acme key\"\nregex = '''acme_[a-z0-9]{24}'''\nkeywords = [\"acme_\"]\n",
    );
    g.write(
        "sub/deep/b.txt",
        &format!("k = {}\n", fake::token("acme_{lower:24}", 5)),
    );
    g.commit("add");
    g.run(&["baseline", "create"]).expect(0);
    assert_eq!(g.entries().len(), 2, "{:?}", g.entries());
    let r = g.run(&["scan", "sub", "--format", "json"]).expect(0);
    assert!(r.stderr.contains("2 in baseline"), "{}", r.stderr);
    let mut c = g.ls();
    c.current_dir(g.path().join("sub/deep"))
        .args(["scan", "--format", "json"]);
    let r = run(&mut c).expect(0);
    assert!(r.stderr.contains("2 in baseline"), "{}", r.stderr);
    // Without the baseline both are new, and the config's rule finds one.
    let r = run(g.ls().current_dir(g.path().join("sub")).args([
        "scan",
        ".",
        "--no-baseline",
        "--format",
        "json",
    ]))
    .expect(1);
    let rules: Vec<String> = r
        .findings()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert!(rules.contains(&"acme-key".to_string()), "{rules:?}");
}

#[test]
fn the_baseline_route_works_step_by_step() {
    let g = UserGit::new();
    g.write("a.txt", "start\n");
    g.commit("start");
    // The hook blocks.
    g.write("app.env", &token_line(6));
    g.git(&["add", "app.env"]);
    let r = g.run(&["staged"]).expect(1);
    assert!(
        r.stderr.contains("`leakscan baseline update`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("`git commit --no-verify`"),
        "{}",
        r.stderr
    );
    let r = run(g.ls().env("PRE_COMMIT", "1").arg("staged")).expect(1);
    assert!(
        r.stderr.contains("`SKIP=leakscan git commit …`"),
        "{}",
        r.stderr
    );
    // --check without a baseline says how to make one.
    let r = g.run(&["baseline", "update", "--check"]).expect(1);
    assert!(
        r.stderr.contains("`leakscan baseline create`"),
        "{}",
        r.stderr
    );
    // The advised command works with no baseline yet, and says what is next.
    let r = g.run(&["baseline", "update"]).expect(0);
    assert!(r.stderr.contains("creating it"), "{}", r.stderr);
    assert!(r.stderr.contains("next: commit it"), "{}", r.stderr);
    assert!(
        r.stderr.contains("git add .leakscan-baseline.json"),
        "{}",
        r.stderr
    );
    g.git(&["add", FILE]);
    g.run(&["staged"]).expect(0);
    // The hook never calls an entry stale: it sees one change.
    g.write("notes.txt", "hello\n");
    g.git(&["add", "notes.txt"]);
    let r = g.run(&["staged"]).expect(0);
    assert!(!r.stderr.contains("stale"), "{}", r.stderr);
    g.git(&["reset", "-q", "notes.txt"]);
    g.git(&["commit", "-q", "-m", "accepted"]);
    // In CI the baseline is read from main: a branch that adds its own
    // baseline entry still fails, and the message says what to do.
    g.git(&["checkout", "-q", "-b", "feature", "HEAD~1"]);
    g.write("other.env", &token_line(7));
    g.commit("secret");
    g.run(&["baseline", "update"]).expect(0);
    g.commit_baseline();
    let r = g
        .run(&["history", "main..HEAD", "--baseline-from", "main"])
        .expect(1);
    assert!(
        r.stderr
            .contains("merge the baseline change into main first"),
        "{}",
        r.stderr
    );
}

#[test]
fn audit_records_the_repository_email() {
    let g = UserGit::new();
    std::fs::write(
        g.home().join(".gitconfig"),
        "[user]\n\temail = global@elsewhere.example\n",
    )
    .unwrap();
    g.write("app.env", &token_line(8));
    g.commit("add");
    g.run(&["baseline", "create"]).expect(0);
    g.run(&[
        "baseline",
        "audit",
        "--file",
        FILE,
        "--set-status",
        "false-positive",
    ])
    .expect(0);
    assert_eq!(g.entries()[0]["by"], "owner@repo.example");
    // Without a repository email, the global one.
    g.git(&["config", "--unset", "user.email"]);
    g.run(&[
        "baseline",
        "audit",
        "--file",
        FILE,
        "--all",
        "--set-status",
        "revoked",
    ])
    .expect(0);
    assert_eq!(g.entries()[0]["by"], "global@elsewhere.example");
}

#[test]
fn an_unwritable_output_is_an_error_before_scanning() {
    let t = Tree::new();
    t.write("app.env", token_line(9));
    let r = run(leakscan().current_dir(t.path()).args([
        "scan",
        ".",
        "--output",
        "no/such/dir/report.json",
    ]))
    .expect(2);
    assert!(r.stderr.contains("no/such/dir/report.json"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("scanned"),
        "the scan must not run: {}",
        r.stderr
    );
    // A directory given as the output.
    std::fs::create_dir(t.join("out")).unwrap();
    let r = run(leakscan()
        .current_dir(t.path())
        .args(["scan", ".", "--output", "out"]))
    .expect(2);
    assert!(r.stderr.contains("is a directory"), "{}", r.stderr);
    assert!(!t.join("no").exists());
}

#[test]
fn a_config_rule_replacing_a_built_in_is_reported_with_its_line() {
    let t = Tree::new();
    t.write(
        ".leakscan.toml",
        "disable = []\n\n[[rules]]\nid = \"github-pat\"\ndescription = \"mine\"\nregex = '''ghp_[A-Za-z0-9]{36}'''\nkeywords = [\"ghp_\"]\n",
    );
    t.write("a.txt", "nothing\n");
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(0);
    assert!(
        r.stderr
            .contains("leakscan.toml:4:6: rule `github-pat` replaces the built-in rule"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_directory_at_the_baseline_path_is_an_error() {
    let t = Tree::new();
    t.write("a.txt", "nothing\n");
    std::fs::create_dir(t.join(FILE)).unwrap();
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(2);
    assert!(
        r.stderr.contains(".leakscan-baseline.json: is a directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn duplicate_entries_are_not_stale() {
    let t = Tree::new();
    t.write("app.env", token_line(10));
    run(leakscan()
        .current_dir(t.path())
        .args(["baseline", "create"]))
    .expect(0);
    let mut b: Value = serde_json::from_slice(&std::fs::read(t.join(FILE)).unwrap()).unwrap();
    let e = b["entries"][0].clone();
    b["entries"].as_array_mut().unwrap().push(e);
    std::fs::write(t.join(FILE), serde_json::to_vec_pretty(&b).unwrap()).unwrap();
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(0);
    assert!(r.stderr.contains("1 in baseline"), "{}", r.stderr);
    assert!(!r.stderr.contains("stale"), "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn secret_reports_are_0600_and_update_keeps_the_baseline_mode() {
    use std::os::unix::fs::PermissionsExt;
    let t = Tree::new();
    t.write("app.env", token_line(11));
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    run(leakscan().current_dir(t.path()).args([
        "scan",
        ".",
        "--no-baseline",
        "--show-secrets",
        "--output",
        "r.json",
    ]))
    .expect(1);
    assert_eq!(mode(t.join("r.json")), 0o600);
    // An existing report file is made 0600 too when secrets go into it.
    std::fs::set_permissions(t.join("r.json"), std::fs::Permissions::from_mode(0o644)).unwrap();
    run(leakscan().current_dir(t.path()).args([
        "scan",
        ".",
        "--no-baseline",
        "--show-secrets",
        "--output",
        "r.json",
    ]))
    .expect(1);
    assert_eq!(mode(t.join("r.json")), 0o600);
    std::fs::remove_file(t.join("r.json")).unwrap();
    run(leakscan()
        .current_dir(t.path())
        .args(["baseline", "create"]))
    .expect(0);
    std::fs::set_permissions(t.join(FILE), std::fs::Permissions::from_mode(0o600)).unwrap();
    t.write("more.env", token_line(12));
    run(leakscan()
        .current_dir(t.path())
        .args(["baseline", "update"]))
    .expect(0);
    let b: Value = serde_json::from_slice(&std::fs::read(t.join(FILE)).unwrap()).unwrap();
    assert_eq!(
        b["entries"].as_array().unwrap().len(),
        2,
        "the update wrote"
    );
    assert_eq!(mode(t.join(FILE)), 0o600);
}

#[test]
fn a_bad_allowlist_regex_is_not_echoed() {
    let t = Tree::new();
    let secret = fake::github_pat(13);
    let pattern = format!("{secret}(");
    t.write(
        ".leakscan.toml",
        format!("[allowlist]\nregexes = ['''{pattern}''']\n"),
    );
    t.write("a.txt", "nothing\n");
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(2);
    assert!(!r.stderr.contains(&secret), "{}", r.stderr);
    assert!(!r.stderr.contains(&secret[..12]), "{}", r.stderr);
    assert!(r.stderr.contains("(41 chars)"), "{}", r.stderr);
    assert!(r.stderr.contains("at character 41"), "{}", r.stderr);
    assert!(r.stderr.contains(".leakscan.toml:"), "{}", r.stderr);
}

#[test]
fn update_and_audit_refuse_a_baseline_in_use() {
    let t = Tree::new();
    t.write("app.env", token_line(14));
    run(leakscan()
        .current_dir(t.path())
        .args(["baseline", "create"]))
    .expect(0);
    // Another leakscan holds the baseline (as `update` does for its whole scan).
    std::fs::write(t.join(".leakscan-baseline.json.lock"), "4242\n").unwrap();
    let before = std::fs::read(t.join(FILE)).unwrap();
    for args in [
        vec!["baseline", "update"],
        vec![
            "baseline",
            "audit",
            "--file",
            FILE,
            "--set-status",
            "revoked",
        ],
    ] {
        let r = run(leakscan().current_dir(t.path()).args(&args)).expect(2);
        assert!(
            r.stderr
                .contains("in use by another leakscan (process 4242)"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(std::fs::read(t.join(FILE)).unwrap(), before);
    std::fs::remove_file(t.join(".leakscan-baseline.json.lock")).unwrap();
    run(leakscan().current_dir(t.path()).args([
        "baseline",
        "audit",
        "--file",
        FILE,
        "--set-status",
        "revoked",
    ]))
    .expect(0);
    assert!(
        !t.join(".leakscan-baseline.json.lock").exists(),
        "the lock is released"
    );
}

#[test]
fn update_keeps_entries_it_could_not_read() {
    let g = UserGit::new();
    g.write("app.env", &token_line(15));
    g.commit("add");
    g.run(&["baseline", "create", "--history"]).expect(0);
    g.run(&[
        "baseline",
        "audit",
        "--file",
        FILE,
        "--set-status",
        "accepted-risk",
    ])
    .expect(0);
    // Lose the blob that holds the secret.
    let blob = g.git(&["rev-parse", "HEAD:app.env"]);
    let obj = g
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(obj).unwrap();
    let r = g.run(&["baseline", "update"]).expect(2);
    assert!(r.stderr.contains("kept 1 entry"), "{}", r.stderr);
    let e = g.entries();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["status"], "accepted-risk");
}

/// A repository of `n` commits, each adding a ~30 KB source file, made
/// with `git fast-import`; the last file holds a secret.
fn big_history(n: usize) -> UserGit {
    use std::io::Write;
    let g = UserGit::new();
    let mut stream = Vec::new();
    let line = b"let value = compute(alpha, beta, gamma) + another_function_call(delta);\n";
    for i in 0..n {
        let mut body = format!("// file {i}\n").into_bytes();
        for _ in 0..400 {
            body.extend_from_slice(line);
        }
        if i == n - 1 {
            body.extend_from_slice(token_line(20).as_bytes());
        }
        write!(
            stream,
            "commit refs/heads/main\ncommitter T <t@example.com> {} +0000\ndata 2\nc\nM 100644 inline f{i:05}.rs\ndata {}\n",
            1_700_000_000 + i,
            body.len()
        )
        .unwrap();
        stream.extend_from_slice(&body);
        stream.push(b'\n');
    }
    let mut c = Command::new("git");
    g.env(&mut c);
    let mut child = c
        .current_dir(g.path())
        .args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(child.wait().unwrap().success());
    g
}

#[cfg(unix)]
#[test]
fn ctrl_c_reports_what_was_found_marked_incomplete() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let g = big_history(2000);
    let mut c = g.ls();
    // The trace line says the commit walk is over: the blob scan has begun.
    c.env("LEAKSCAN_TRACE", "1")
        .args(["history", "--all", "--format", "json", "-j", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut stderr = String::new();
    loop {
        let mut l = String::new();
        assert!(
            err.read_line(&mut l).unwrap() > 0,
            "no trace line: {stderr}"
        );
        stderr += &l;
        if l.contains("trace: walk") {
            break;
        }
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    err.read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    let stdout = out.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("leakscan: interrupted"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["complete"], Value::Bool(false), "{stdout}");
    let scanned = report["stats"]["scanned"].as_u64().unwrap();
    assert!(scanned < 2000, "the scan must stop early: {scanned} blobs");
    // Uninterrupted, the same run is complete and finds the secret.
    let r = g.run(&["history", "--all", "--format", "json"]).expect(1);
    assert_eq!(r.json()["complete"], Value::Bool(true));
    assert_eq!(r.json()["stats"]["scanned"], 2000);
}

#[test]
fn the_progress_line_names_the_phase_from_the_start() {
    let g = big_history(300);
    let bin = env!("CARGO_BIN_EXE_leakscan");
    // `script` gives the run a terminal, so the progress line is drawn.
    let mut c = Command::new("script");
    g.env(&mut c);
    let r = run(c
        .current_dir(g.path())
        .env("LEAKSCAN_PROGRESS_AFTER_MS", "0")
        .env("NO_COLOR", "1")
        .args(["-qec", &format!("{bin} history --all"), "/dev/null"]));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("walking commits"), "{}", r.stdout);
    assert!(r.stdout.contains("leakscan: 300 commits"), "{}", r.stdout);
}

/// Runs `cmd` (JSON on stdout) until it opens the FIFO `fifo` for reading,
/// presses Ctrl-C (a real SIGINT), then serves `content` through the FIFO
/// on every open until the run ends, so the blocked read returns. Returns
/// the exit code, the JSON report and stderr.
#[cfg(unix)]
fn interrupt_while_reading(
    mut cmd: Command,
    fifo: &std::path::Path,
    content: &[u8],
) -> (Option<i32>, Value, String) {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Opening the FIFO for writing returns once leakscan opened it to read.
    let mut first = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // The handler runs on its own thread: let it set the flag before the
    // read returns (the run also checks the flag once more at its end).
    std::thread::sleep(std::time::Duration::from_millis(200));
    first.write_all(content).unwrap();
    drop(first);
    let stop = Arc::new(AtomicBool::new(false));
    let feeder = {
        let (fifo, content, stop) = (fifo.to_path_buf(), content.to_vec(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&fifo) {
                    let _ = f.write_all(&content);
                }
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    stop.store(true, Ordering::Relaxed);
    // Opening a FIFO read-write never blocks: it releases the feeder's open.
    drop(
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(fifo),
    );
    feeder.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        report,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The `path` of each finding in a JSON report.
fn finding_paths(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["path"].as_str()).collect())
        .unwrap_or_default()
}

/// Makes a FIFO at `path` (replacing any file there).
#[cfg(unix)]
fn fifo_at(path: &std::path::Path) {
    let _ = std::fs::remove_file(path);
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_scan_reports_what_was_found_marked_incomplete() {
    let t = Tree::new();
    t.write("a.env", token_line(40));
    let fifo = t.path().join("b.txt");
    fifo_at(&fifo);
    let mut c = leakscan();
    c.current_dir(t.path())
        .args(["scan", "a.env", "b.txt", "--format", "json"]);
    let (code, report, stderr) = interrupt_while_reading(c, &fifo, b"plain text\n");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("leakscan: interrupted"), "{stderr}");
    assert_eq!(report["complete"], Value::Bool(false), "{report}");
    assert_eq!(finding_paths(&report), vec!["a.env"], "{report}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_staged_reports_what_was_found_marked_incomplete() {
    let g = UserGit::new();
    g.write("a.env", &token_line(41));
    g.write("b.txt", "plain text\n");
    g.git(&["add", "a.env", "b.txt"]);
    // b.txt's staged blob is a loose object: make it a FIFO that serves the
    // object's bytes only when the test says so.
    let id = g.git(&["rev-parse", ":b.txt"]);
    let id = id.trim();
    let obj = g.path().join(".git/objects").join(&id[..2]).join(&id[2..]);
    let saved = std::fs::read(&obj).unwrap();
    fifo_at(&obj);
    let mut c = g.ls();
    c.args(["staged", "-j", "1", "--format", "json"]);
    let (code, report, stderr) = interrupt_while_reading(c, &obj, &saved);
    std::fs::remove_file(&obj).unwrap();
    std::fs::write(&obj, &saved).unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("leakscan: interrupted"), "{stderr}");
    assert_eq!(report["complete"], Value::Bool(false), "{report}");
    assert_eq!(finding_paths(&report), vec!["a.env"], "{report}");
    // Uninterrupted, the same change is complete.
    let r = g.run(&["staged", "--format", "json"]).expect(1);
    assert_eq!(r.json()["complete"], Value::Bool(true));
}
