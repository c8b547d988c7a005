//! `leakscan scan`: walking, reading, locating, reporting and exit codes,
//! including the bad inputs a scanner meets in real trees.

use crate::util::*;

fn only(r: &Run) -> serde_json::Value {
    let f = r.findings();
    assert_eq!(f.len(), 1, "expected one finding, got {f:#?}\n{}", r.stderr);
    f.into_iter().next().unwrap()
}

fn stat(r: &Run, key: &str) -> u64 {
    r.json()["stats"]["skipped"][key].as_u64().unwrap_or(0)
}

#[test]
fn finds_a_token_with_line_column_and_exit_1() {
    let t = Tree::new();
    let tok = fake::github_pat(1);
    t.write("src/app.py", format!("import os\n\nTOKEN = \"{tok}\"\n"));
    let r = t.scan_json(&[]).expect(1);
    let f = only(&r);
    assert_eq!(f["path"], "src/app.py");
    assert_eq!(f["line"], 3);
    assert_eq!(f["column"], 10);
    assert_eq!(f["end_column"], 10 + tok.len() as u64);
    assert_eq!(f["secret"], tok.as_str());
    assert!(f["rule"].as_str().unwrap().starts_with("github"), "{f}");
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    assert_eq!(r.json()["version"], 1);
}

#[test]
fn clean_tree_exits_0() {
    let t = Tree::new();
    t.write("a.txt", "nothing to see\n");
    let r = t.scan_json(&[]).expect(0);
    assert!(r.findings().is_empty());
    assert_eq!(r.json()["stats"]["scanned"], 1);
}

#[test]
fn secrets_are_redacted_unless_asked() {
    let t = Tree::new();
    let tok = fake::github_pat(2);
    t.write("a.env", format!("GH={tok}\n"));
    let r = run(leakscan()
        .current_dir(t.path())
        .args(["scan", ".", "--format", "json"]))
    .expect(1);
    let f = only(&r);
    assert_eq!(f["secret"], format!("{}…({})", &tok[..4], tok.len()));
    assert!(!r.stdout.contains(&tok));
    let text = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(1);
    assert!(text.stdout.contains("a.env:1:4"), "{}", text.stdout);
    assert!(!text.stdout.contains(&tok));
}

#[test]
fn binary_files_are_matched_on_their_printable_runs() {
    let t = Tree::new();
    let tok = fake::github_pat(3);
    let mut bin = b"\x00\x01\x02PK".to_vec();
    bin.extend(format!(" {tok} ").as_bytes());
    // A secret-named assignment needs context a binary does not give: the
    // generic rules do not run on binary bytes.
    bin.extend(format!("\0password = \"{}{}\"\0", "Zq8#mW2", "!vR5@kT9").as_bytes());
    t.write("blob.bin", &bin);
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(stat(&r, "binary"), 0);
    assert_eq!(r.json()["stats"]["binary"], 1);
    assert_eq!(only(&r)["secret"], tok.as_str());
    // Named on the command line: scanned as text, with every rule.
    let r = run(leakscan().current_dir(t.path()).args([
        "scan",
        "blob.bin",
        "--format",
        "json",
        "--show-secrets",
    ]))
    .expect(1);
    let rules: Vec<_> = r.findings().iter().map(|f| f["rule"].clone()).collect();
    assert_eq!(rules, ["github-pat", "generic-password"]);
    assert_eq!(r.json()["stats"]["binary"], 0);
}

#[test]
fn invalid_utf8_content_is_scanned_as_bytes() {
    let t = Tree::new();
    let tok = fake::github_pat(4);
    let mut data = b"caf\xe9 \xff\xfe\xfd\n".to_vec();
    data.extend(format!("k = '{tok}' ").as_bytes());
    data.extend(b"\xc3\x28\n");
    t.write("latin1.txt", &data);
    let f = only(&t.scan_json(&[]).expect(1));
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 6);
}

#[test]
fn utf16_file_with_bom_is_decoded() {
    let t = Tree::new();
    let tok = fake::github_pat(5);
    let text = format!("first line\r\nsecond = \"{tok}\"\r\n");
    let mut data = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        data.extend(u.to_le_bytes());
    }
    t.write("win.txt", &data);
    let r = t.scan_json(&[]).expect(1);
    let f = only(&r);
    assert_eq!(f["line"], 2);
    assert_eq!(f["secret"], tok.as_str());
    assert_eq!(stat(&r, "binary"), 0);
}

#[test]
fn huge_file_is_skipped_and_counted() {
    let t = Tree::new();
    let tok = fake::github_pat(6);
    t.write("small.txt", format!("x={tok}\n"));
    let big = std::fs::File::create(t.join("dump.sql")).unwrap();
    big.set_len(200 << 20).unwrap();
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(stat(&r, "too_large"), 1);
    assert_eq!(r.json()["stats"]["skipped_bytes"], 200u64 << 20);
    assert_eq!(only(&r)["path"], "small.txt");
    // A lower limit from the command line.
    let r = t.scan_json(&["--max-file-size", "10"]).expect(0);
    assert_eq!(stat(&r, "too_large"), 2);
}

#[cfg(unix)]
#[test]
fn symlinks_are_counted_and_loops_do_not_hang() {
    let t = Tree::new();
    let tok = fake::github_pat(7);
    t.write("real/a.txt", format!("t={tok}\n"));
    std::os::unix::fs::symlink(t.join("real"), t.join("real/loop")).unwrap();
    std::os::unix::fs::symlink(t.join("real/a.txt"), t.join("link.txt")).unwrap();
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(stat(&r, "symlink"), 2);
    assert_eq!(r.findings().len(), 1);
    // Following links: the loop is detected and counted, the file is found twice.
    let r = t.scan_json(&["--follow"]).expect(1);
    assert_eq!(stat(&r, "symlink_loop"), 1, "{}", r.stdout);
    assert_eq!(r.findings().len(), 2);
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_reported_and_exits_2_after_scanning_the_rest() {
    use std::os::unix::fs::PermissionsExt;
    let t = Tree::new();
    let tok = fake::github_pat(8);
    t.write("ok.txt", format!("t={tok}\n"));
    let locked = t.write("locked.txt", "secret stuff\n");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Root reads anything: drop to `nobody` when running as root.
    let mut cmd = if is_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_leakscan"));
        c
    } else {
        leakscan()
    };
    let r =
        run(cmd
            .current_dir(t.path())
            .args(["scan", ".", "--format", "json", "--show-secrets"]))
        .expect(2);
    assert!(r.stderr.contains("locked.txt"), "{}", r.stderr);
    assert!(r.stderr.contains("ermission denied"), "{}", r.stderr);
    assert_eq!(only(&r)["path"], "ok.txt");
    assert_eq!(stat(&r, "unreadable"), 1);
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[cfg(unix)]
#[test]
fn non_utf8_file_name_is_carried_as_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let t = Tree::new();
    let tok = fake::github_pat(9);
    let name = std::ffi::OsStr::from_bytes(b"conf-\xff.env");
    std::fs::write(t.path().join(name), format!("T={tok}\n")).unwrap();
    let f = only(&t.scan_json(&[]).expect(1));
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode(b"conf-\xff.env");
    assert_eq!(f["path"]["bytes"], expected.as_str());
}

#[test]
fn empty_file_and_no_trailing_newline() {
    let t = Tree::new();
    let tok = fake::github_pat(10);
    t.write("empty.txt", "");
    t.write("last.txt", format!("a\nb\nkey: {tok}"));
    let r = t.scan_json(&[]).expect(1);
    let f = only(&r);
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(3), Some(6))
    );
    assert_eq!(f["secret"], tok.as_str());
    assert_eq!(r.json()["stats"]["scanned"], 2);
}

#[test]
fn crlf_lines_and_columns() {
    let t = Tree::new();
    let tok = fake::github_pat(11);
    t.write("w.ini", format!("[a]\r\nx=1\r\ntoken={tok}\r\n"));
    let f = only(&t.scan_json(&[]).expect(1));
    assert_eq!(f["line"], 3);
    assert_eq!(f["column"], 7);
    assert_eq!(f["secret"], tok.as_str());
}

#[test]
fn secret_at_column_80000_of_a_minified_line() {
    let t = Tree::new();
    let tok = fake::github_pat(12);
    let mut line = String::new();
    while line.len() < 79_999 - 4 {
        line.push_str("a=b+c;");
    }
    line.truncate(79_999 - 4);
    line.push_str("t=\"");
    line.push_str(&tok);
    line.push('"');
    line.push_str(&"x(1);".repeat(4000));
    t.write("app.min.js", format!("{line}\n"));
    let f = only(&t.scan_json(&[]).expect(1));
    assert_eq!(f["line"], 1);
    assert_eq!(f["column"], 79_999);
    assert_eq!(f["secret"], tok.as_str());
}

#[test]
fn standard_input() {
    let tok = fake::github_pat(13);
    let r = run_with_stdin(
        leakscan().args(["scan", "-", "--format", "json", "--show-secrets"]),
        Some(format!("one\ntwo {tok}\n").as_bytes()),
    )
    .expect(1);
    let f = only(&r);
    assert_eq!(f["path"], "<stdin>");
    assert_eq!(f["line"], 2);
}

#[test]
fn missing_path_is_an_error() {
    let t = Tree::new();
    let r = run(leakscan()
        .current_dir(t.path())
        .args(["scan", "no-such-dir"]))
    .expect(2);
    assert!(r.stderr.contains("no-such-dir"), "{}", r.stderr);
}

#[test]
fn gitignore_is_honoured_hidden_files_are_scanned() {
    let t = Tree::new();
    t.write(".gitignore", "ignored/\n");
    t.write("ignored/a.txt", format!("t={}\n", fake::github_pat(14)));
    t.write(".env", format!("T={}\n", fake::github_pat(15)));
    t.write(".git/config", format!("t={}\n", fake::github_pat(16)));
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(only(&r)["path"], ".env");
    let r = t.scan_json(&["--no-ignore"]).expect(1);
    let paths: Vec<_> = r
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, [".env", "ignored/a.txt"]);
    t.scan_json(&["--no-hidden"]).expect(0);
}

#[test]
fn inline_allow_marker() {
    let t = Tree::new();
    let a = fake::github_pat(17);
    let b = fake::github_pat(18);
    let c = fake::github_pat(19);
    t.write(
        "a.py",
        format!(
            "x = '{a}'  # leakscan:allow\ny = '{b}'  # leakscan:allow=some-other-rule\nz = '{c}'\n"
        ),
    );
    let r = t.scan_json(&[]).expect(1);
    let lines: Vec<u64> = r
        .findings()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3]);
    assert_eq!(r.json()["stats"]["suppressed"]["inline"], 1);
    assert!(
        r.stderr.contains("3 findings: 1 allowed inline, 2 new"),
        "{}",
        r.stderr
    );
    let r = t.scan_json(&["--show-suppressed"]).expect(1);
    assert_eq!(r.findings()[0]["suppressed"]["reason"], "inline");
}

#[test]
fn config_adds_rules_disables_rules_and_allowlists() {
    let t = Tree::new();
    let tok = fake::github_pat(20);
    t.write(
        "keep/a.txt",
        format!("t={tok}\nacme_{}\n", "Q".repeat(3) + "7f3k9x2m4p"),
    );
    t.write("fixtures/b.txt", format!("t={}\n", fake::github_pat(21)));
    t.write(
        ".leakscan.toml",
        r#"
[allowlist]
paths = ["fixtures/**"]

[[rules]]
id = "acme-key"
description = "ACME internal key"
keywords = ["acme_"]
regex = '''\bacme_([A-Za-z0-9]{13})\b'''
examples = ["k = acme_{alnum:13}"]
"#,
    );
    let r = t.scan_json(&[]).expect(1);
    let rules: Vec<_> = r
        .findings()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(rules.contains(&"acme-key".to_string()));
    assert_eq!(r.json()["stats"]["suppressed"]["allowlist"], 1);
    // Disable the built-in rule that found the token.
    let gh = rules
        .iter()
        .find(|r| r.starts_with("github"))
        .unwrap()
        .clone();
    let cfg = std::fs::read_to_string(t.join(".leakscan.toml")).unwrap();
    t.write(".leakscan.toml", format!("disable = [\"{gh}\"]\n{cfg}"));
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(only(&r)["rule"], "acme-key");
}

#[test]
fn bad_config_names_file_line_and_column() {
    let t = Tree::new();
    t.write(
        ".leakscan.toml",
        "[allowlist]\npaths = [\"a\"]\nalowlist = 1\n",
    );
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(2);
    assert!(r.stderr.contains(".leakscan.toml:3:1"), "{}", r.stderr);
    assert!(r.stderr.contains("alowlist"), "{}", r.stderr);
}

#[test]
fn bad_rule_regex_names_the_rule() {
    let t = Tree::new();
    t.write(
        ".leakscan.toml",
        "[[rules]]\nid = \"broken\"\ndescription = \"x\"\nkeywords = [\"abc\"]\nregex = '''abc(['''\n",
    );
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(2);
    assert!(r.stderr.contains("rule `broken`"), "{}", r.stderr);
    assert!(r.stderr.contains("regex does not compile"), "{}", r.stderr);
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let t = Tree::new();
    for i in 0..60 {
        t.write(
            &format!("d{}/f{i}.txt", i % 7),
            format!(
                "a\nt={}\nb={}\n",
                fake::github_pat(100 + i),
                fake::github_pat(200 + i)
            ),
        );
    }
    let one = t.scan_json(&["-j", "1"]).expect(1);
    let four = t.scan_json(&["-j", "4"]).expect(1);
    assert_eq!(one.findings(), four.findings());
    assert_eq!(one.findings().len(), 120);
    let paths: Vec<String> = one
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
}

#[test]
fn output_file_and_sarif() {
    let t = Tree::new();
    let tok = fake::github_pat(22);
    t.write("src/a b.rs", format!("let t = \"{tok}\";\n"));
    let out = t.join("report.sarif");
    run(leakscan()
        .current_dir(t.path())
        .args(["scan", ".", "--format", "sarif", "--output"])
        .arg(&out))
    .expect(1);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let run0 = &doc["runs"][0];
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let res = &results[0];
    let rule_id = res["ruleId"].as_str().unwrap();
    let idx = res["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run0["tool"]["driver"]["rules"][idx]["id"], rule_id);
    let loc = &res["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src/a%20b.rs");
    assert_eq!(loc["region"]["startLine"], 1);
    assert_eq!(loc["region"]["startColumn"], 10);
    assert_eq!(loc["region"]["endColumn"], 10 + tok.len() as u64);
    assert!(res["partialFingerprints"]["leakscan/v1"].is_string());
    assert!(!std::fs::read_to_string(&out).unwrap().contains(&tok));
}

#[test]
fn scanning_part_of_the_root_reports_no_stale_baseline_entries() {
    let t = Tree::new();
    t.write("a.env", format!("T={}\n", fake::github_pat(30)));
    t.write("b.env", format!("T={}\n", fake::github_pat(31)));
    run(leakscan()
        .current_dir(t.path())
        .args(["baseline", "create"]))
    .expect(0);
    // The whole root: both entries match, nothing is stale.
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(0);
    assert!(!r.stderr.contains("stale"), "{}", r.stderr);
    // One file: the other entry is out of scope, not stale.
    let r = run(leakscan().current_dir(t.path()).args(["scan", "a.env"])).expect(0);
    assert!(r.stderr.contains("1 in baseline"), "{}", r.stderr);
    assert!(!r.stderr.contains("stale"), "{}", r.stderr);
    // The whole root after a secret is removed: its entry is stale.
    t.write("b.env", "T=removed\n");
    let r = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(0);
    assert!(r.stderr.contains("1 baseline entry"), "{}", r.stderr);
}

// #18 (second round, item 5): a secret in a non-UTF-8 file name was
// redacted in the finding's path, but not in the problem lines: a damaged
// archive whose name holds the secret was named in full on stderr and in
// the reports' stats. Every output format and stderr are checked, and the
// JSON's base64 paths decoded.
#[test]
fn secret_in_a_non_utf8_name_is_redacted_in_every_output() {
    use base64::Engine;
    use std::os::unix::ffi::OsStrExt;
    let t = Tree::new();
    let tok = fake::aws_key_id(1851);
    let name = |pre: &str, ext: &str| {
        let mut n = format!("{pre}-{tok}-").into_bytes();
        n.push(0xff);
        n.extend(ext.as_bytes());
        t.path().join(std::ffi::OsStr::from_bytes(&n))
    };
    std::fs::write(name("key", ".txt"), format!("aws = {tok}\n")).unwrap();
    std::fs::write(name("bad", ".zip"), b"PK\x03\x04not really a zip").unwrap();
    for format in ["text", "json", "sarif", "html"] {
        let r = run(leakscan()
            .current_dir(t.path())
            .args(["scan", ".", "--format", format]))
        .expect(2);
        assert!(r.stderr.contains("corrupt zip"), "{format}: {}", r.stderr);
        assert!(!r.stdout.contains(&tok), "{format} report:\n{}", r.stdout);
        assert!(!r.stderr.contains(&tok), "{format} stderr:\n{}", r.stderr);
        if format == "json" {
            let v = r.json();
            let f = &v["findings"][0];
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(f["path"]["bytes"].as_str().unwrap())
                .unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains(&tok));
            assert!(!v["stats"].to_string().contains(&tok), "{}", v["stats"]);
        }
    }
}
