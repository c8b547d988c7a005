//! Issue #24 ("the second mile"): workflow polish tests that have no other
//! home — one scan writing several reports, and the small command-line items.

use crate::util::*;

/// Item 2 ("scan once"): one run writes SARIF and JSON of the same findings.
#[test]
fn one_scan_writes_sarif_and_json() {
    let t = Tree::new();
    t.write(
        "app/settings.py",
        format!("TOKEN = \"{}\"\n", fake::github_pat(7)),
    );
    let sarif = t.join("out.sarif");
    let json = t.join("out.json");
    run(leakscan()
        .current_dir(t.path())
        .args(["scan", "app", "--format", "sarif", "--output"])
        .arg(&sarif)
        .arg("--also-output")
        .arg(format!("json={}", json.display())))
    .expect(1);
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(s["runs"][0]["results"].as_array().unwrap().len(), 1);
    let findings = j["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule"], "github-pat");
    // Redacted in both, as without --also-output.
    let token = fake::github_pat(7);
    assert!(!std::fs::read_to_string(&json).unwrap().contains(&token));
    assert!(!std::fs::read_to_string(&sarif).unwrap().contains(&token));
    let bad =
        run(leakscan()
            .current_dir(t.path())
            .args(["scan", "app", "--also-output", "xml=out.xml"]))
        .expect(2);
    assert!(
        bad.stderr.contains("`xml` is not a format"),
        "{}",
        bad.stderr
    );
}

/// Item 7: text output shows paths as given on the command line, so they
/// open from where the command ran; JSON keeps them relative to the scanned
/// directory (fingerprints and baselines do not depend on the start).
#[test]
fn text_paths_are_as_given_json_paths_relative() {
    let t = Tree::new();
    t.write(
        "cloud/.credentials",
        format!("a\nb\nc\nkey = \"{}\"\n", fake::github_pat(3)),
    );
    let text = run(leakscan().current_dir(t.path()).args(["scan", "cloud"])).expect(1);
    assert!(
        text.stdout
            .starts_with("cloud/.credentials:4:8  github-pat"),
        "{}",
        text.stdout
    );
    // The file opens from where the command ran.
    let shown = text.stdout.split(':').next().unwrap();
    assert!(t.join(shown).is_file());
    let abs = t.join("cloud");
    let text = run(leakscan().args(["scan"]).arg(&abs)).expect(1);
    assert!(
        text.stdout
            .starts_with(&format!("{}/.credentials:4:8", abs.display())),
        "{}",
        text.stdout
    );
    // `.` (or no path) adds nothing.
    let here = run(leakscan().current_dir(t.join("cloud")).args(["scan"])).expect(1);
    assert!(
        here.stdout.starts_with(".credentials:4:8"),
        "{}",
        here.stdout
    );
    let json = run(leakscan()
        .current_dir(t.path())
        .args(["scan", "cloud", "--format", "json"]))
    .expect(1);
    let f = &json.findings()[0];
    assert_eq!(f["path"], ".credentials");
    let inside = run(leakscan()
        .current_dir(t.join("cloud"))
        .args(["scan", "--format", "json"]))
    .expect(1);
    assert_eq!(inside.findings()[0]["fingerprint"], f["fingerprint"]);
}

/// Item 10: small scans say their size in bytes or KB, not "(0.0 MB) …
/// (0 MB/s)".
#[test]
fn small_scan_sizes_are_not_zero_megabytes() {
    let t = Tree::new();
    t.write("a.txt", "hello\n");
    let r = run(leakscan().current_dir(t.path()).args(["scan"])).expect(0);
    assert!(
        r.stderr.contains("scanned 1 file (6 bytes) in "),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("0.0 MB") && !r.stderr.contains("MB/s"),
        "{}",
        r.stderr
    );
    t.write("b.txt", "x".repeat(5_000));
    let r = run(leakscan().current_dir(t.path()).args(["scan"])).expect(0);
    assert!(r.stderr.contains("(5.0 KB)"), "{}", r.stderr);
}

/// Item 10: `--color` is one entry in each subcommand's help, not an
/// 8-line block.
#[test]
fn color_help_is_short() {
    let r = run(leakscan().args(["scan", "--help"])).expect(0);
    // The `--color` line and its continuation lines, up to the next option.
    let mut lines = r.stdout.lines().skip_while(|l| !l.contains("--color"));
    let mut block: Vec<&str> = lines.next().into_iter().collect();
    block.extend(lines.take_while(|l| !l.trim_start().starts_with('-')));
    assert!(!block.is_empty() && block.len() <= 3, "{block:#?}");
    assert!(!r.stdout.contains("Possible values:"), "{}", r.stdout);
}

/// Item 10: the blocking message names the repository's default branch
/// (origin/HEAD's), not always `main`.
#[test]
fn blocking_message_names_the_default_branch() {
    let t = Tree::new();
    let git = |args: &[&str]| {
        let out = crate::fixture::git_command(t.path())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "trunk"]);
    t.write("README.md", "hello\n");
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "init"]);
    git(&["update-ref", "refs/remotes/origin/trunk", "HEAD"]);
    git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/trunk",
    ]);
    t.write("k.py", format!("TOKEN = \"{}\"\n", fake::github_pat(5)));
    git(&["add", "k.py"]);
    let r = run(leakscan().current_dir(t.path()).args(["staged"])).expect(1);
    assert!(
        r.stderr.contains("(`--baseline-from trunk`)"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("--baseline-from main"), "{}", r.stderr);
}

/// Item 6: the text report shows the source line with the secret redacted
/// and `^^^` under it; `--no-context` drops it; `--show-secrets` is the
/// only way the secret itself appears.
#[test]
fn text_shows_the_redacted_line_with_a_marker() {
    let t = Tree::new();
    let tok = fake::github_pat(61);
    t.write(
        "app.py",
        format!("client = Client(\"{tok}\")  # same: {tok}\n"),
    );
    let r = run(leakscan().current_dir(t.path()).args(["scan"])).expect(1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    // Two findings (both copies), each with the line and its own marker.
    assert_eq!(lines.len(), 6, "{}", r.stdout);
    assert!(lines[0].starts_with("app.py:1:18  github-pat  ghp_…(40)"));
    let line = "    client = Client(\"ghp_…(40)\")  # same: ghp_…(40)";
    assert_eq!(lines[1], line);
    assert_eq!(lines[2], "                     ^^^^^^^^^");
    assert!(lines[3].starts_with("app.py:1:70  github-pat"));
    assert_eq!(lines[4], line);
    assert_eq!(
        lines[5],
        format!(
            "{}^^^^^^^^^",
            " ".repeat(line.len() - "ghp_…(40)".len() - 2)
        )
    );
    assert!(!r.stdout.contains(&tok), "{}", r.stdout);
    let bare = run(leakscan()
        .current_dir(t.path())
        .args(["scan", "--no-context"]))
    .expect(1);
    assert_eq!(bare.stdout.lines().count(), 2, "{}", bare.stdout);
    let shown = run(leakscan()
        .current_dir(t.path())
        .args(["scan", "--show-secrets"]))
    .expect(1);
    assert!(shown.stdout.lines().nth(1).unwrap().contains(&tok));
    assert_eq!(
        shown.stdout.lines().nth(2).unwrap().trim_start(),
        "^".repeat(40)
    );
}

/// SHA-256 of a secret's bytes, as Betterleaks 2 writes it in
/// `.betterleaksignore`.
fn betterleaks_fingerprint(secret: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

#[test]
fn betterleaks_ignore_file_accepts_each_secret_everywhere() {
    let t = Tree::new();
    let (kept, other) = (fake::github_pat(61), fake::github_pat(62));
    t.write("app/a.py", format!("TOKEN = \"{kept}\"\n"));
    t.write("app/b.py", format!("COPY = \"{kept}\"\n"));
    t.write("app/c.py", format!("OTHER = \"{other}\"\n"));
    // Comments, a blank line, upper-case hex, and a hash of a value that is
    // nowhere in the tree.
    t.write(
        "ignore/.betterleaksignore",
        format!(
            "# accepted: test fixture\n\n{}\n{}\n",
            betterleaks_fingerprint(&kept).to_uppercase(),
            betterleaks_fingerprint("gone-from-the-tree")
        ),
    );
    let r = run(leakscan().current_dir(t.path()).args([
        "baseline",
        "import",
        "ignore/.betterleaksignore",
        "--root",
        "app",
    ]))
    .expect(0);
    assert!(
        r.stderr
            .contains("not imported: Betterleaks ignore entry at line 4"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("1 more secret than Betterleaks reported"),
        "{}",
        r.stderr
    );
    let baseline = std::fs::read_to_string(t.join("app/.leakscan-baseline.json")).unwrap();
    assert!(!baseline.contains(&kept), "{baseline}");
    // Both places of the ignored secret are accepted; the other is new.
    let s = run(leakscan()
        .current_dir(t.join("app"))
        .args(["scan", ".", "--format", "json"]))
    .expect(1);
    let paths: Vec<String> = s
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, vec!["c.py"]);
    assert_eq!(
        s.json()["stats"]["suppressed"]["baseline"],
        2,
        "{}",
        s.stdout
    );
}

#[test]
fn betterleaks_ignore_entry_that_is_not_a_hash_exits_2_naming_the_line() {
    let t = Tree::new();
    t.write("app/a.py", "print('hello')\n");
    t.write(
        ".betterleaksignore",
        format!(
            "{}\nsha256:{}\n",
            betterleaks_fingerprint("one"),
            betterleaks_fingerprint("two")
        ),
    );
    let r = run(leakscan().current_dir(t.path()).args([
        "baseline",
        "import",
        ".betterleaksignore",
        "--root",
        "app",
    ]))
    .expect(2);
    assert!(r.stderr.contains(".betterleaksignore:2:1"), "{}", r.stderr);
    assert!(
        r.stderr.contains("not a Betterleaks 2 ignore entry"),
        "{}",
        r.stderr
    );
}

#[test]
fn history_all_scans_tags_of_blobs_and_trees_at_the_tag() {
    let g = crate::fixture::Git::init();
    g.write("README.md", "# demo\n");
    g.commit_all("init");
    // A blob tagged directly (as git.git's `junio-gpg-pub`), never committed.
    let (in_blob, in_tree) = (fake::github_pat(71), fake::github_pat(72));
    g.write("loose.txt", format!("TOKEN = \"{in_blob}\"\n"));
    let blob = g
        .git(&["hash-object", "-w", "loose.txt"])
        .trim()
        .to_string();
    std::fs::remove_file(g.path().join("loose.txt")).unwrap();
    g.git(&["tag", "blobtag", &blob]);
    // A tree tagged directly, whose commit no ref reaches.
    g.git(&["checkout", "-q", "-b", "side"]);
    g.write("conf/app.py", format!("KEY = \"{in_tree}\"\n"));
    g.commit_all("side");
    let tree = g.git(&["rev-parse", "HEAD^{tree}"]).trim().to_string();
    g.git(&["tag", "treetag", &tree]);
    g.git(&["checkout", "-q", "main"]);
    g.git(&["branch", "-q", "-D", "side"]);
    let r = run(leakscan().current_dir(g.path()).args([
        "history",
        "--all",
        "--format",
        "json",
        "--show-secrets",
    ]))
    .expect(1);
    let mut found: Vec<(String, String)> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (format!("(blob {blob} of refs/tags/blobtag)"), in_blob),
            (
                format!("(tree {tree} of refs/tags/treetag)/conf/app.py"),
                in_tree
            ),
        ]
    );
    let stats = &r.json()["stats"];
    assert_eq!(stats["tagged"], 2, "{stats}");
    assert!(
        !stats["warnings"].to_string().contains("not scanned"),
        "{stats}"
    );
}
