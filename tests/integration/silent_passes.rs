//! Issue #9: ways a secret could pass a gate with exit 0. Each test plants a
//! fake token (built at run time) behind one trick and checks that `scan`,
//! `staged` and `history` still report it.

use crate::fixture::Git;
use crate::util::*;

/// `leakscan history --all` on the repository at `g`, JSON with secrets.
fn history(g: &Git) -> Run {
    run(leakscan().args([
        "history",
        "--all",
        "--repo",
        g.path().to_str().unwrap(),
        "--format",
        "json",
        "--show-secrets",
    ]))
}

fn secrets(r: &Run) -> Vec<String> {
    r.findings()
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect()
}

/// A UTF-16 byte-order mark (FF FE or FE FF) in front of plain text.
fn with_bom(mark: [u8; 2], text: &str) -> Vec<u8> {
    let mut b = mark.to_vec();
    b.extend_from_slice(text.as_bytes());
    b
}

#[test]
fn a_byte_order_mark_does_not_hide_plain_text() {
    let tok = fake::github_pat(9101);
    let tok2 = fake::github_pat(9102);
    let line = format!("token = \"{tok}\"\n");
    // A scan of the work tree.
    let t = Tree::new();
    t.write("a.env", with_bom([0xFF, 0xFE], &line));
    t.write("b.env", with_bom([0xFE, 0xFF], &line));
    assert_eq!(
        secrets(&t.scan_json(&[]).expect(1)),
        [tok.as_str(), tok.as_str()]
    );
    // A mark, the token, and one NUL: decoded as UTF-16 it is garbage, so
    // the bytes are looked at as binary too.
    let mut odd = with_bom([0xFF, 0xFE], &format!("token = \"{tok2}\"\n"));
    odd.push(0);
    let t = Tree::new();
    t.write("c.env", &odd);
    assert_eq!(secrets(&t.scan_json(&[]).expect(1)), vec![tok2.as_str()]);

    // The pre-commit hook, then history.
    let g = Git::init();
    g.write("README", "x\n");
    g.commit_all("init");
    g.write("a.env", with_bom([0xFF, 0xFE], &line));
    g.write("c.env", &odd);
    g.git(&["add", "-A"]);
    assert_eq!(
        secrets(&g.staged().expect(1)),
        [tok.as_str(), tok2.as_str()]
    );
    g.commit_all("bom");
    assert_eq!(
        secrets(&history(&g).expect(1)),
        [tok.as_str(), tok2.as_str()]
    );
}

#[test]
fn real_utf16_is_still_decoded_everywhere() {
    let tok = fake::github_pat(9111);
    let mut utf16 = vec![0xFF, 0xFE];
    for u in format!("first\r\nkey = \"{tok}\"\r\n").encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let g = Git::init();
    g.write("README", "x\n");
    g.commit_all("init");
    g.write("win.ini", &utf16);
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    assert_eq!(secrets(&r), vec![tok.as_str()]);
    assert_eq!(r.findings()[0]["line"], 2);
    g.commit_all("utf16");
    let r = history(&g).expect(1);
    assert_eq!(secrets(&r), vec![tok.as_str()]);
    assert_eq!(r.findings()[0]["line"], 2);
}

#[test]
fn a_blob_staged_with_symlink_mode_is_scanned() {
    let tok = fake::github_pat(9201);
    let g = Git::init();
    g.write("README", "x\n");
    g.commit_all("init");
    // Any content can be staged as a "symlink" without a link on disk.
    let blob_file = g.sibling("payload");
    std::fs::write(&blob_file, format!("API_TOKEN={tok}\n")).unwrap();
    let id = g.git(&["hash-object", "-w", blob_file.to_str().unwrap()]);
    g.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("120000,{},.env", id.trim()),
    ]);
    let r = g.staged().expect(1);
    assert_eq!(secrets(&r), vec![tok.as_str()]);
    assert_eq!(r.findings()[0]["path"], ".env");
    g.git(&["commit", "-q", "--no-verify", "-m", "link"]);
    let r = history(&g).expect(1);
    assert_eq!(secrets(&r), vec![tok.as_str()]);
    assert_eq!(
        r.json()["stats"]["skipped"]["symlink"],
        serde_json::Value::Null
    );
}

#[test]
fn one_nul_byte_does_not_hide_a_token_from_the_hook_or_history() {
    let tok = fake::aws_key_id(9301);
    let g = Git::init();
    g.write("README", "x\n");
    g.commit_all("init");
    let mut data = format!("AWS_ACCESS_KEY_ID={tok}\n").into_bytes();
    data.push(0);
    g.write("settings.cfg", &data);
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    assert_eq!(secrets(&r), vec![tok.as_str()]);
    assert_eq!(r.json()["stats"]["binary"], 1);
    g.commit_all("nul");
    assert_eq!(secrets(&history(&g).expect(1)), vec![tok.as_str()]);
}

#[test]
fn large_files_are_matched_in_chunks_without_losing_a_boundary_secret() {
    // 40 MiB of text (the matcher works through it in 16 MiB chunks) with
    // tokens at the start, right across each chunk boundary, and at the end.
    let toks: Vec<String> = (0..5).map(|i| fake::github_pat(9120 + i)).collect();
    let filler = "the quick brown fox jumps over the lazy dog, again and again\n";
    let target = 40usize << 20;
    let mut text = String::with_capacity(target + 4096);
    text.push_str(&format!("a = \"{}\"\n", toks[0]));
    let mut next = 1;
    while text.len() < target {
        let boundary = next * (16 << 20);
        if next <= 2 && text.len() + filler.len() > boundary - 20 {
            text.push_str(&format!("b = \"{}\"\n", toks[next]));
            next += 1;
            continue;
        }
        text.push_str(filler);
    }
    text.push_str(&format!("c = \"{}\"\n", toks[3]));
    text.push_str(&format!("d = \"{}\"", toks[4]));
    let t = Tree::new();
    t.write("big.txt", &text);
    let r = run(leakscan().current_dir(t.path()).args([
        "scan",
        "big.txt",
        "--format",
        "json",
        "--show-secrets",
    ]))
    .expect(1);
    let found: Vec<String> = secrets(&r)
        .into_iter()
        .filter(|s| s.starts_with("ghp_"))
        .collect();
    assert_eq!(found, toks);
    // Line numbers stay those of the whole file.
    let last = r.findings().into_iter().last().unwrap();
    assert_eq!(last["line"], text.lines().count());
}

#[test]
fn the_hook_goes_where_git_runs_hooks_or_install_fails() {
    let g = Git::init();
    // core.hooksPath given through the environment, as CI systems do.
    let hooks = g.sibling("env-hooks");
    let r = run(leakscan()
        .current_dir(g.path())
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "core.hooksPath")
        .env("GIT_CONFIG_VALUE_0", &hooks)
        .arg("install-hook"))
    .expect(0);
    assert!(hooks.join("pre-commit").is_file(), "{}", r.stderr);
    assert!(!g.path().join(".git/hooks/pre-commit").exists());
    // `~/hooks` with no $HOME: git cannot expand it, so it would never run
    // a hook there; installing must fail rather than report success.
    g.git(&["config", "core.hooksPath", "~/hooks"]);
    let r = run(leakscan()
        .current_dir(g.path())
        .env_remove("HOME")
        .arg("install-hook"))
    .expect(2);
    assert!(
        r.stderr.contains("hooksPath") || r.stderr.contains("~/hooks"),
        "{}",
        r.stderr
    );
}

#[test]
fn ignore_files_need_a_repository_and_ignored_files_are_counted() {
    let tok = fake::github_pat(9501);
    // An unpacked tarball (no repository) whose .gitignore is `/*`, like
    // Debian's kernel source: everything is scanned.
    let t = Tree::new();
    t.write(".gitignore", "/*\n");
    t.write("src/config.env", format!("token = \"{tok}\"\n"));
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(secrets(&r), [tok.as_str()]);
    // In a repository the rules apply, and what they leave out is counted.
    let g = Git::init();
    g.write(".gitignore", "build/\n*.log\n");
    g.write("build/a.env", format!("token = \"{tok}\"\n"));
    g.write("build/b.txt", "b\n");
    g.write("x.log", "x\n");
    g.write(".hidden.env", "h\n");
    g.write("ok.txt", "ok\n");
    let r = run(leakscan()
        .current_dir(g.path())
        .args(["scan", ".", "--format", "json"]))
    .expect(0);
    assert_eq!(r.json()["stats"]["skipped"]["ignored"], 3, "{}", r.stderr);
    assert!(r.stderr.contains("3 ignored"), "{}", r.stderr);
    let r = run(leakscan().current_dir(g.path()).args([
        "scan",
        ".",
        "--format",
        "json",
        "--no-hidden",
    ]))
    .expect(0);
    // .gitignore and .hidden.env are hidden.
    assert_eq!(r.json()["stats"]["skipped"]["ignored"], 5, "{}", r.stderr);
    let r = run(leakscan().current_dir(g.path()).args([
        "scan",
        ".",
        "--format",
        "json",
        "--no-ignore",
    ]))
    .expect(1);
    assert_eq!(
        r.json()["stats"]["skipped"]["ignored"],
        serde_json::Value::Null
    );
}

#[test]
fn a_fifo_or_standard_input_named_on_the_command_line_is_read() {
    let tok = fake::github_pat(9601);
    let t = Tree::new();
    let fifo = t.join("pipe");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(ok.success());
    let line = format!("token = \"{tok}\"\n");
    let writer = {
        let (fifo, line) = (fifo.clone(), line.clone());
        std::thread::spawn(move || std::fs::write(fifo, line).unwrap())
    };
    let r = run(leakscan().args([
        "scan",
        fifo.to_str().unwrap(),
        "--format",
        "json",
        "--show-secrets",
    ]))
    .expect(1);
    writer.join().unwrap();
    assert_eq!(secrets(&r), [tok.as_str()]);
    // `/dev/stdin` is a link to a pipe here.
    let r = run_with_stdin(
        leakscan().args(["scan", "/dev/stdin", "--format", "json", "--show-secrets"]),
        Some(line.as_bytes()),
    )
    .expect(1);
    assert_eq!(secrets(&r), [tok.as_str()]);
}

#[cfg(unix)]
#[test]
fn names_are_escaped_for_humans_and_exact_in_json_and_sarif() {
    use std::os::unix::ffi::OsStrExt;
    let tok = fake::github_pat(9131);
    let t = Tree::new();
    let evil = b"x\x1b[2J\nfake.rs:1:1  github-pat  ghp_forged\xff.env";
    let name = std::ffi::OsStr::from_bytes(evil);
    std::fs::write(t.path().join(name), format!("token = \"{tok}\"\n")).unwrap();
    let text = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(1);
    assert!(!text.stdout.contains('\x1b'), "{:?}", text.stdout);
    // One finding line (the name cannot forge a second), then its source
    // line and marker (#24 item 6), both indented.
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{:?}", text.stdout);
    assert!(
        lines[1..].iter().all(|l| l.starts_with("    ")),
        "{lines:?}"
    );
    assert!(
        text.stdout
            .contains("x\\x1b[2J\\nfake.rs:1:1  github-pat  ghp_forged\\xff.env:1:"),
        "{:?}",
        text.stdout
    );
    let json = t.scan_json(&[]).expect(1);
    let f = &json.findings()[0];
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(f["path"]["bytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, evil);
    let sarif = run(leakscan()
        .current_dir(t.path())
        .args(["scan", ".", "--format", "sarif"]))
    .expect(1);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"]
        .as_str()
        .unwrap();
    assert_eq!(
        uri,
        "x%1B%5B2J%0Afake.rs%3A1%3A1%20%20github-pat%20%20ghp_forged%FF.env"
    );
}

#[test]
fn the_hook_never_skips_a_staged_file_for_its_size() {
    let tok = fake::github_pat(9302);
    let g = Git::init();
    g.write(".leakscan.toml", "max_file_size = 1024\n");
    g.commit_all("init");
    let mut big = "filler line\n".repeat(400);
    big.push_str(&format!("token = \"{tok}\"\n"));
    g.write("dump.sql", &big);
    g.git(&["add", "-A"]);
    let r = g.staged().expect(1);
    assert_eq!(secrets(&r), [tok.as_str()]);
    assert_eq!(
        r.json()["stats"]["skipped"]["too_large"],
        serde_json::Value::Null
    );
}

#[test]
fn staged_with_file_names_checks_the_files_it_is_given() {
    let old = fake::github_pat(1461);
    let g = Git::init();
    g.write("old.env", format!("token = \"{old}\"\n"));
    g.write("a.txt", "a\n");
    g.commit_all("init");
    g.write("a.txt", "a\nb\n");
    g.git(&["add", "-A"]);
    // As for a commit: only the staged files, only added lines.
    g.staged_in(g.path(), &["a.txt"]).expect(0);
    // As for `pre-commit run --all-files`: a given file the change does not
    // touch is scanned whole.
    let r = g.staged_in(g.path(), &["a.txt", "old.env"]).expect(1);
    assert_eq!(secrets(&r), [old.as_str()]);
    assert_eq!(r.findings()[0]["path"], "old.env");
    // Findings of the staged change are kept only in the files given.
    let new = fake::github_pat(1462);
    g.write("b.env", format!("token = \"{new}\"\n"));
    g.git(&["add", "-A"]);
    g.staged_in(g.path(), &["a.txt"]).expect(0);
    let r = g.staged_in(g.path(), &["b.env"]).expect(1);
    assert_eq!(secrets(&r), [new.as_str()]);
}

/// `text` in UTF-16, little- or big-endian, without a byte-order mark.
fn utf16_no_bom(text: &str, le: bool) -> Vec<u8> {
    text.encode_utf16()
        .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
        .collect()
}

// #18 item 3: UTF-16 without a byte-order mark was "1 binary, 0 findings",
// exit 0 (with a mark the secret was found). It is told by its shape now, in
// both byte orders, by every mode.
#[test]
fn utf16_without_a_byte_order_mark_is_decoded() {
    let tok = fake::github_pat(1831);
    let text = format!("# settings\r\ntoken = \"{tok}\"\r\nregion = eu\r\n");
    let t = Tree::new();
    t.write("le.txt", utf16_no_bom(&text, true));
    t.write("be.txt", utf16_no_bom(&text, false));
    assert_eq!(
        secrets(&t.scan_json(&[]).expect(1)),
        [tok.as_str(), tok.as_str()]
    );
    // The pre-commit hook, then history.
    let g = Git::init();
    g.write("README", "x\n");
    g.commit_all("init");
    g.write("le.txt", utf16_no_bom(&text, true));
    g.git(&["add", "-A"]);
    assert_eq!(secrets(&g.staged().expect(1)), [tok.as_str()]);
    g.commit_all("add");
    assert_eq!(secrets(&history(&g).expect(1)), [tok.as_str()]);
}
