//! Reports and the finishing pieces of #14 (items 10–15), through the real
//! binary: SARIF validated against the OASIS SARIF 2.1.0 schema, the JSON
//! report of `scan`, `staged` and `history` validated against
//! `schema/report.schema.json`, the HTML report, completions and the man page,
//! `--color`, `gitleaks:allow` markers, and help texts and wording.

use std::path::Path;

use serde_json::Value;

use crate::fixture::in_process::TempRepo;
use crate::fixture::{git_command, Git};
use crate::util::*;

fn load_schema(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A validator that also checks `format` (uri, date-time, …).
fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&load_schema(name))
        .unwrap_or_else(|e| panic!("{name} is not a usable schema: {e}"))
}

/// Every validation error, one a line (empty when valid).
fn errors(v: &jsonschema::Validator, doc: &Value) -> String {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}\n", e, e.instance_path))
        .collect()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errs = errors(v, doc);
    assert!(
        errs.is_empty(),
        "{what} does not validate:\n{errs}\n{doc:#}"
    );
}

/// A tree with three kinds of secret: two provider tokens and a generic one.
fn tree_with_secrets() -> Tree {
    let t = Tree::new();
    t.write(
        "app/config.py",
        format!(
            "GITHUB_TOKEN = \"{}\"\nAWS_ACCESS_KEY_ID = \"{}\"\n",
            fake::github_pat(1),
            fake::aws_key_id(2)
        ),
    );
    t.write(
        "deploy/settings.ini",
        format!("[db]\npassword = \"{}\"\n", fake::password(3)),
    );
    t
}

// ---- 10. SARIF ------------------------------------------------------------

#[test]
fn sarif_validates_against_sarif_2_1_0_schema_and_rules_carry_help() {
    let v = validator("sarif-schema-2.1.0.json");
    let t = tree_with_secrets();
    let r = run(leakscan()
        .current_dir(t.path())
        .args(["scan", ".", "--format", "sarif"]))
    .expect(1);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_valid(&v, &doc, "scan SARIF");

    // The validator is live: a broken log fails.
    let mut broken = doc.clone();
    broken["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = Value::from(42);
    assert!(
        !errors(&v, &broken).is_empty(),
        "schema accepted a numeric helpUri"
    );
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(
        !errors(&v, &broken).is_empty(),
        "schema accepted startLine 0"
    );

    let driver = &doc["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "leakscan");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let home = env!("CARGO_PKG_REPOSITORY");
    assert!(
        home.starts_with("https://"),
        "Cargo.toml names the project's home"
    );
    assert_eq!(driver["informationUri"], home);
    let rules = driver["rules"].as_array().unwrap();
    // Only the rules that fired are described (#24: a 1.3 MB file for two
    // results), in the rule set's order; `sarif::tests` checks every rule's
    // help.
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["aws-access-key-id", "github-pat", "generic-password"],
        "{ids:?}"
    );
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let text = rule["help"]["text"].as_str().unwrap();
        let md = rule["help"]["markdown"].as_str().unwrap();
        let uri = rule["helpUri"].as_str().unwrap();
        assert!(uri.starts_with("https://"), "{id}: {uri}");
        assert!(
            text.contains("How to fix") && text.len() > 150,
            "{id}: {text}"
        );
        assert!(md.contains("### How to fix") && md.contains(uri), "{id}");
        let short = rule["shortDescription"]["text"].as_str().unwrap();
        assert!(
            text.starts_with(short.trim_end_matches('.')),
            "{id}: help starts with what it is"
        );
        let sev: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev), "{id}: {sev}");
    }
    let by_id = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap().clone();
    let aws = by_id("aws-access-key-id");
    assert!(aws["helpUri"]
        .as_str()
        .unwrap()
        .contains("docs.aws.amazon.com"));
    assert!(aws["help"]["text"].as_str().unwrap().contains("IAM"));
    let gh = by_id("github-pat");
    assert!(gh["helpUri"]
        .as_str()
        .unwrap()
        .starts_with("https://docs.github.com/"));
    // Provider credentials rank above a generic password.
    let sev = |r: &Value| -> f64 {
        r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(sev(&aws) >= 9.0);
    assert!(sev(&by_id("generic-password")) < sev(&gh));

    // Results point at their rule's descriptor and keep the secret redacted.
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{results:#?}");
    for res in results {
        let i = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
    }
    assert!(!r.stdout.contains(&fake::github_pat(1)));
}

#[test]
fn history_sarif_validates_too() {
    let v = validator("sarif-schema-2.1.0.json");
    let repo = TempRepo::new();
    repo.write("a.env", format!("TOKEN={}\n", fake::github_pat(7)));
    repo.commit("add a token");
    let r = run(leakscan()
        .current_dir(repo.path())
        .args(["history", "--format", "sarif"]))
    .expect(1);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_valid(&v, &doc, "history SARIF");
    assert_eq!(
        doc["runs"][0]["results"][0]["properties"]["author"],
        "Ada Tester"
    );
}

// ---- 11. JSON Schema of the JSON report --------------------------------------

#[test]
fn json_report_of_scan_staged_and_history_matches_its_schema() {
    let v = validator("report.schema.json");

    // scan: findings, a suppressed one shown, a skip, a non-UTF-8 path.
    let t = tree_with_secrets();
    t.write(
        "allowed.txt",
        format!("k = \"{}\" # leakscan:allow\n", fake::stripe_live(4)),
    );
    t.write("blob.bin", b"\0\x01\x02binary");
    // A token inside a percent-encoded URL: a finding with `encoding`.
    t.write(
        "redirect.txt",
        format!(
            "next = \"https://acme.example/login?to=https%3A%2F%2Fapi.acme.example%2F%3Ftoken%3D{}\"\n",
            fake::github_pat(9)
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"odd-\xff.txt");
        std::fs::write(t.path().join(name), format!("t = {}\n", fake::slack_bot(5))).unwrap();
    }
    // A token inside a zip: a finding with `archive`.
    let made = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nwith zipfile.ZipFile('pkg.zip', 'w') as z: z.writestr('conf/app.env', sys.argv[1])",
            &format!("T={}\n", fake::github_pat(10)),
        ])
        .current_dir(t.path())
        .status()
        .unwrap();
    assert!(made.success());
    for extra in [&["--show-suppressed"][..], &[][..]] {
        let r = t.scan_json(extra).expect(1);
        let doc = r.json();
        assert_valid(&v, &doc, "scan JSON");
        assert!(
            doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["archive"][1] == "conf/app.env"),
            "a finding inside an archive is in the document"
        );
        assert!(doc["findings"].as_array().unwrap().len() >= 3);
        assert_eq!(doc["stats"]["binary"], 1);
        assert!(
            doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["encoding"] == "percent"),
            "an encoded finding is in the document"
        );
    }
    let shown = t.scan_json(&["--show-suppressed"]).json();
    assert!(shown["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["suppressed"]["reason"] == "inline"));
    #[cfg(unix)]
    assert!(shown["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"]["bytes"].is_string()));

    // staged
    let g = Git::init();
    g.write("README.md", "hello\n");
    g.commit_all("init");
    g.write("keys.env", format!("AWS={}\n", fake::aws_key_id(6)));
    g.git(&["add", "keys.env"]);
    let r = g.staged().expect(1);
    assert_valid(&v, &r.json(), "staged JSON");
    assert_eq!(r.findings().len(), 1);

    // history, with commits and every occurrence.
    let repo = TempRepo::new();
    let pat = fake::github_pat(8);
    repo.write("one.txt", format!("a = {pat}\n"));
    repo.commit("one");
    repo.write("two.txt", format!("b = {pat}\n"));
    repo.commit("two");
    let r = run(leakscan().current_dir(repo.path()).args([
        "history",
        "--format",
        "json",
        "--all-occurrences",
    ]))
    .expect(1);
    let doc = r.json();
    assert_valid(&v, &doc, "history JSON");
    assert!(doc["findings"][0]["commit"]["id"].is_string());
    assert!(doc["stats"]["commits"].as_u64().unwrap() >= 2);

    // And the schema is strict enough to catch drift.
    let mut drift = doc.clone();
    drift["findings"][0]["unexpected"] = Value::from(1);
    assert!(
        !errors(&v, &drift).is_empty(),
        "unknown finding key accepted"
    );
    let mut drift = doc.clone();
    drift["findings"][0]["commit"]["date"] = Value::from("yesterday");
    assert!(!errors(&v, &drift).is_empty(), "bad date-time accepted");
    let mut drift = doc;
    drift["stats"].as_object_mut().unwrap().remove("scanned");
    assert!(
        !errors(&v, &drift).is_empty(),
        "missing stats.scanned accepted"
    );
}

// ---- 12. HTML ------------------------------------------------------------------

#[test]
fn html_report_is_self_contained_escaped_and_redacted() {
    let t = Tree::new();
    let pat = fake::github_pat(11);
    // A file name that would be markup if it were not escaped.
    t.write(
        "<img src=x onerror=alert(1)>&.txt",
        format!("token = {pat}\n"),
    );
    t.write("b.env", format!("X={pat}\nY={}\n", fake::aws_key_id(12)));
    let out = t.join("report.html");
    run(leakscan().current_dir(t.path()).args([
        "scan",
        ".",
        "--format",
        "html",
        "-o",
        out.to_str().unwrap(),
    ]))
    .expect(1);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;&amp;.txt"));
    assert!(!html.contains("<img"), "file name was not escaped");
    assert!(!html.contains(&pat), "secret text in a redacted report");
    // No network: nothing loaded from elsewhere, and a CSP that forbids it.
    assert!(html.contains("default-src 'none'"));
    for bad in [
        "<script src",
        "<link rel=\"stylesheet\"",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(bad), "{bad}");
    }
    // One table body per secret: the token twice in b.env is still one secret
    // there (same fingerprint), the other file's copy is another.
    assert_eq!(html.matches("<tbody class=\"secret").count(), 3, "{html}");
    assert!(html.contains("data-rule=\"github-pat\""));

    let r = run(leakscan().current_dir(t.path()).args([
        "scan",
        ".",
        "--format",
        "html",
        "--show-secrets",
    ]))
    .expect(1);
    assert!(r.stdout.contains(&pat));
}

#[test]
fn html_secret_with_one_unsuppressed_copy_is_new() {
    let t = Tree::new();
    let pat = fake::github_pat(14);
    // The same secret in one file twice: one line allowed, one not.
    t.write("a.env", format!("A={pat} # leakscan:allow\nB={pat}\n"));
    let r = run(leakscan().current_dir(t.path()).args([
        "scan",
        ".",
        "--format",
        "html",
        "--show-suppressed",
    ]))
    .expect(1);
    assert_eq!(r.stdout.matches("<tbody class=\"secret").count(), 1);
    assert!(
        r.stdout.contains("<tbody class=\"secret new\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("a.env:1:3") && r.stdout.contains("a.env:2:3"));
    // With only the allowed copy left, the secret is suppressed.
    t.write("a.env", format!("A={pat} # leakscan:allow\n"));
    let r = run(leakscan().current_dir(t.path()).args([
        "scan",
        ".",
        "--format",
        "html",
        "--show-suppressed",
    ]))
    .expect(0);
    assert!(r.stdout.contains("<tbody class=\"secret suppressed\""));
    assert!(r.stdout.contains("suppressed: inline"));
}

#[test]
fn html_history_report_says_when_and_by_whom() {
    let g = Git::init();
    g.write("a.txt", format!("t = {}\n", fake::slack_bot(13)));
    g.git(&["add", "a.txt"]);
    let out = git_command(g.path())
        // git drops `<` and `>` from names, but not `&` or quotes.
        .env("GIT_AUTHOR_NAME", "Eve \"Q\" O'Hara & Co")
        .args(["commit", "-q", "-m", "add <b>token</b>"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = run(leakscan()
        .current_dir(g.path())
        .args(["history", "--format", "html"]))
    .expect(1);
    let html = &r.stdout;
    assert!(
        html.contains("Eve &quot;Q&quot; O&#39;Hara &amp; Co"),
        "{html}"
    );
    assert!(
        html.contains("add &lt;b&gt;token&lt;/b&gt;"),
        "commit summary"
    );
    assert!(!html.contains("<b>token"));
    assert!(html.contains(">Commit<") && html.contains(">Author<") && html.contains(">Date<"));
    let id = g.git(&["rev-parse", "HEAD"]);
    assert!(html.contains(&id.trim()[..12]));
}

// ---- 13. Completions, man page, --color ---------------------------------------

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = run(leakscan().args(["completions", shell])).expect(0);
        for word in ["install-hook", "baseline", "show-secrets", "format"] {
            assert!(r.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    // The bash script is valid bash.
    let bash = run(leakscan().args(["completions", "bash"])).expect(0);
    let t = Tree::new();
    let file = t.write("leakscan.bash", &bash.stdout);
    let st = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .status()
        .unwrap();
    assert!(st.success());
    run(leakscan().args(["completions", "tcsh"])).expect(2);

    let man = run(leakscan().arg("man")).expect(0).stdout;
    assert!(
        man.starts_with(".ie") || man.starts_with(".TH"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains(".TH leakscan 1"));
    assert!(man.contains("LEAKSCAN HISTORY"), "subcommand sections");
    assert!(man.contains("show\\-secrets"), "subcommand options");
    assert!(man.contains("since\\-commit"));
}

#[test]
fn color_flag_decides_and_no_color_is_honoured_on_auto() {
    let t = tree_with_secrets();
    let scan = |extra: &[&str], no_color: bool| {
        let mut c = leakscan();
        if !no_color {
            c.env_remove("NO_COLOR");
        }
        run(c.current_dir(t.path()).args(["scan", "."]).args(extra)).expect(1)
    };
    assert!(scan(&["--color", "always"], false).stdout.contains("\x1b["));
    // `always` is explicit: it wins over NO_COLOR.
    assert!(scan(&["--color", "always"], true).stdout.contains("\x1b["));
    // The flag goes before the subcommand too (it is global).
    let r = run(leakscan()
        .current_dir(t.path())
        .args(["--color", "always", "scan", "."]))
    .expect(1);
    assert!(r.stdout.contains("\x1b["));
    assert!(!scan(&["--color", "never"], false).stdout.contains("\x1b["));
    // Not a terminal: auto means no colour.
    assert!(!scan(&[], false).stdout.contains("\x1b["));
    // Colour only ever applies to text.
    assert!(!scan(&["--color", "always", "--format", "json"], false)
        .stdout
        .contains("\x1b["));
    run(leakscan().args(["scan", "--color", "sometimes"])).expect(2);
}

#[test]
fn color_auto_on_a_terminal_honours_no_color() {
    // `script` gives the binary a real terminal for standard output.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("script(1) not installed; skipping the terminal check");
        return;
    }
    let t = tree_with_secrets();
    let bin = env!("CARGO_BIN_EXE_leakscan");
    let on_tty = |no_color: Option<&str>| {
        let mut c = std::process::Command::new("script");
        c.args(["-qec", &format!("{bin} scan . --quiet"), "/dev/null"])
            .current_dir(t.path())
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    let plain = on_tty(Some("1"));
    assert!(plain.contains("github-pat"), "{plain}");
    assert!(!plain.contains("\x1b[1;35m"), "NO_COLOR ignored: {plain:?}");
    let coloured = on_tty(None);
    assert!(
        coloured.contains("\x1b[1;35m"),
        "no colour on a terminal: {coloured:?}"
    );
}

// ---- 14. gitleaks:allow ---------------------------------------------------------

#[test]
fn gitleaks_allow_markers_are_honoured_and_counted_apart() {
    let t = Tree::new();
    t.write(
        "a.py",
        format!(
            "A = \"{}\"  # gitleaks:allow\nB = \"{}\"  # leakscan:allow\n",
            fake::github_pat(21),
            fake::github_pat(22)
        ),
    );
    t.write(
        "b.js",
        format!("const c = '{}'; // gitleaks:allow\n", fake::aws_key_id(23)),
    );
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(0);
    assert!(
        r.stderr
            .contains("3 findings: 3 allowed inline (2 gitleaks:allow), 0 new"),
        "{}",
        r.stderr
    );
    let j = t.scan_json(&[]).expect(0).json();
    assert_eq!(j["stats"]["suppressed"]["inline"], 3);
    assert_eq!(j["stats"]["inline_gitleaks"], 2);

    // Without a marker the same secret is new.
    t.write("c.py", format!("D = \"{}\"\n", fake::github_pat(24)));
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(1);
    assert!(r.stderr.contains("1 new"), "{}", r.stderr);
}

#[test]
fn gitleaks_allow_is_honoured_by_staged_and_history() {
    let g = Git::init();
    g.write("README.md", "x\n");
    g.commit_all("init");
    g.write(
        "k.txt",
        format!("k = {} # gitleaks:allow\n", fake::github_pat(25)),
    );
    g.git(&["add", "k.txt"]);
    let r = g.staged().expect(0);
    assert!(r.stderr.contains("(1 gitleaks:allow)"), "{}", r.stderr);
    g.commit_all("k");
    let r = run(leakscan().current_dir(g.path()).arg("history")).expect(0);
    assert!(
        r.stderr.contains("1 allowed inline (1 gitleaks:allow)"),
        "{}",
        r.stderr
    );
}

// ---- 15. Help texts and wording ---------------------------------------------------

#[test]
fn uninstall_hook_help_is_its_own() {
    let r = run(leakscan().args(["uninstall-hook", "--help"])).expect(0);
    assert!(!r.stdout.contains("--force"), "{}", r.stdout);
    assert!(r.stdout.contains("--repo"));
    run(leakscan().args(["uninstall-hook", "--force"])).expect(2);
    let r = run(leakscan().args(["install-hook", "--help"])).expect(0);
    assert!(r.stdout.contains("--force"));
}

#[test]
fn every_flag_has_help_text() {
    // Walk the whole command tree as `--help` prints it: no option without text.
    let mut cmd = <leakscan::cli::Cli as clap::CommandFactory>::command();
    cmd.build();
    fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for a in c.get_arguments() {
            if a.is_hide_set() || a.get_id() == "help" || a.get_id() == "version" {
                continue;
            }
            if a.get_help().is_none() && a.get_long_help().is_none() {
                missing.push(format!("{path} {}", a.get_id()));
            }
        }
        for s in c.get_subcommands() {
            walk(s, &format!("{path} {}", s.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&cmd, "leakscan", &mut missing);
    assert!(missing.is_empty(), "options without help: {missing:?}");
    // `--config` is declared once (`cli::RuleArgs`): the same help in
    // every command that takes it.
    let one = "Configuration file: rules, allowlist, settings (default: `.leakscan.toml` at the \
               scanned root; push hooks: the one at the policy revision; `sweep`: none, \
               repositories' own files are not read)";
    for cmd in [
        &["rules", "list"][..],
        &["scan"],
        &["sweep"],
        &["pre-receive"],
    ] {
        let r = run(leakscan().args(cmd).arg("--help")).expect(0);
        let flat = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(one), "{cmd:?}: {}", r.stdout);
    }
}

#[test]
fn summary_says_1_file_and_1_commit() {
    let t = Tree::new();
    t.write("only.txt", "nothing here\n");
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(0);
    assert!(r.stderr.contains("scanned 1 file ("), "{}", r.stderr);
    t.write("second.txt", "nor here\n");
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(0);
    assert!(r.stderr.contains("scanned 2 files ("), "{}", r.stderr);

    let repo = TempRepo::new();
    repo.write("a.txt", "x\n");
    repo.commit("one");
    let r = run(leakscan().current_dir(repo.path()).arg("history")).expect(0);
    assert!(
        r.stderr.contains("leakscan: 1 commit, scanned 1 blob ("),
        "{}",
        r.stderr
    );
}

#[test]
fn rules_check_says_1_rule_and_1_example() {
    let t = Tree::new();
    t.write(
        "one.toml",
        r#"[[rules]]
id = "acme-key"
description = "ACME key"
keywords = ["acme_"]
regex = '''\bacme_([A-Za-z0-9]{13})\b'''
examples = ["k = acme_{alnum:13}"]
"#,
    );
    let r = run(leakscan().current_dir(t.path()).args([
        "rules",
        "check",
        "--config",
        "one.toml",
        "--no-default-rules",
    ]))
    .expect(0);
    assert!(
        r.stderr
            .contains("1 rule, 1 example, 0 negative examples: 0 problems"),
        "{}",
        r.stderr
    );
}

#[test]
fn history_outside_a_repository_hints_at_repo() {
    let t = Tree::new();
    let r = run(leakscan().current_dir(t.path()).arg("history")).expect(2);
    assert!(r.stderr.contains("not a git repository"), "{}", r.stderr);
    assert!(r.stderr.contains("--repo"), "{}", r.stderr);
    // Naming a directory that is not a repository: no hint about the flag just used.
    let r = run(leakscan()
        .current_dir(t.path())
        .args(["history", "--repo", "."]))
    .expect(2);
    assert!(!r.stderr.contains("name one with `--repo"), "{}", r.stderr);
}

/// Issue #24 item 8: with `--all-occurrences`, a place whose commit no
/// finding names (the secret's file edited later) still shows that commit's
/// date; and a small scan's size is in bytes, not "0.0 MB".
#[test]
fn html_report_dates_every_place_and_sizes_small_scans_in_bytes() {
    let repo = TempRepo::new();
    let pat = fake::github_pat(13);
    repo.write("a.py", format!("A = '{pat}'\n"));
    repo.commit_at("add", 1_704_189_600); // 2024-01-02T10:00:00Z
    repo.write("a.py", format!("# edited\nA = '{pat}'\n"));
    repo.commit_at("edit", 1_717_772_400); // 2024-06-07T15:00:00Z
    let out = repo.path().join("report.html");
    run(leakscan().current_dir(repo.path()).args([
        "history",
        "--all-occurrences",
        "--format",
        "html",
        "-o",
        out.to_str().unwrap(),
    ]))
    .expect(1);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains(">2024-01-02T10:00:00+00:00<"), "{html}");
    assert!(html.contains(">2024-06-07T15:00:00+00:00<"), "{html}");
    assert!(!html.contains("0.0 MB"), "{html}");
    assert!(html.contains(" bytes · "), "{html}");
}

/// Issue #24 item 5: the HTML report lists secrets in triage order — the
/// most severe rule first, then confidence — not by path: a GitHub token in
/// `z.env` before a generic password in `a.ini`, and a token whose checksum
/// holds (high) before one whose checksum fails (medium).
#[test]
fn html_report_lists_secrets_by_severity_then_confidence() {
    let t = Tree::new();
    t.write(
        "a.ini",
        format!("[db]\npassword = \"{}\"\n", fake::password(14)),
    );
    t.write(
        "m.env",
        format!("T = \"{}\"\n", fake::token("ghp_{alnum:36}", 15)),
    );
    t.write("z.env", format!("T = \"{}\"\n", fake::github_pat(16)));
    let out = t.join("report.html");
    run(leakscan().current_dir(t.path()).args([
        "scan",
        ".",
        "--format",
        "html",
        "-o",
        out.to_str().unwrap(),
    ]))
    .expect(1);
    let html = std::fs::read_to_string(&out).unwrap();
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("data-where=\"z.env\"") < at("data-where=\"m.env\""));
    assert!(at("data-where=\"m.env\"") < at("data-where=\"a.ini\""));
}
