//! Issue #24, item 11: a reader that closes standard output early (`| head
//! -c1`, `| grep -q`) ends every subcommand quietly, never with a panic
//! (exit 101) or an I/O error.

use std::process::{Command, Stdio};

use crate::fixture::in_process::TempRepo;
use crate::util::{fake, leakscan};

/// A pipe whose reading end is already closed: the standard input of a
/// `true` that has exited (the parent never held the reading end).
fn closed_pipe() -> Stdio {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn true");
    let write_end = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    Stdio::from(write_end)
}

/// Runs `cmd` with its standard output a pipe nobody reads any more, so its
/// first write fails with EPIPE (every time, no race). Returns (exit code,
/// stderr).
fn with_closed_stdout(cmd: &mut Command) -> (i32, String) {
    cmd.stdin(Stdio::null())
        .stdout(closed_pipe())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn leakscan");
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_quiet_end(what: &str, code: i32, stderr: &str, codes: &[i32]) {
    assert!(
        !stderr.contains("panicked") && !stderr.to_lowercase().contains("broken pipe"),
        "{what}: the closed pipe showed through:\n{stderr}"
    );
    assert!(
        codes.contains(&code),
        "{what}: exit {code}, expected one of {codes:?}\n{stderr}"
    );
}

#[test]
fn every_subcommand_ends_quietly_on_a_closed_pipe() {
    let repo = TempRepo::new();
    let mut leaky = String::new();
    for i in 0..50 {
        leaky.push_str(&format!("token{i} = \"{}\"\n", fake::github_pat(i)));
    }
    repo.write("leaky.txt", &leaky);
    repo.commit("add tokens");
    let dir = repo.path().to_str().unwrap().to_string();
    let baseline = repo.path().join("base.json");
    let b = baseline.to_str().unwrap().to_string();

    // (what, arguments, acceptable exit codes)
    let cases: Vec<(&str, Vec<&str>, &[i32])> = vec![
        ("completions bash", vec!["completions", "bash"], &[0]),
        ("completions fish", vec!["completions", "fish"], &[0]),
        ("completions zsh", vec!["completions", "zsh"], &[0]),
        (
            "completions powershell",
            vec!["completions", "powershell"],
            &[0],
        ),
        ("man", vec!["man"], &[0]),
        ("--help", vec!["--help"], &[0]),
        ("rules list", vec!["rules", "list"], &[0]),
        ("scan text", vec!["scan", &dir], &[1]),
        ("scan json", vec!["scan", &dir, "--format", "json"], &[1]),
        ("scan sarif", vec!["scan", &dir, "--format", "sarif"], &[1]),
        ("scan html", vec!["scan", &dir, "--format", "html"], &[1]),
        ("history", vec!["history", "--repo", &dir, "--all"], &[1]),
        ("sweep text", vec!["sweep", &dir], &[1]),
        ("sweep csv", vec!["sweep", &dir, "--format", "csv"], &[1]),
        (
            "baseline create",
            vec!["baseline", "create", &dir, "--file", &b],
            &[0],
        ),
        (
            "baseline audit",
            vec!["baseline", "audit", "--file", &b],
            &[0],
        ),
    ];
    for (what, args, codes) in cases {
        let (code, stderr) = with_closed_stdout(leakscan().current_dir(repo.path()).args(&args));
        assert_quiet_end(what, code, &stderr, codes);
    }
    // `baseline update` lists what it added on standard output.
    repo.write("more.txt", format!("late = \"{}\"\n", fake::github_pat(99)));
    let (code, stderr) = with_closed_stdout(
        leakscan()
            .current_dir(repo.path())
            .args(["baseline", "update", &dir, "--file", &b]),
    );
    assert_quiet_end("baseline update", code, &stderr, &[0]);
}
