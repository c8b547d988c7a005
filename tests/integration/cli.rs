//! Flags declared once (`cli::RuleArgs`, `cli::RunArgs`, the global `-q`):
//! each is accepted the same way by every command that takes it, and the
//! older spellings keep working.

use crate::fixture::in_process::TempRepo;
use crate::util::*;

fn secret_tree() -> Tree {
    let t = Tree::new();
    t.write("app.env", format!("TOKEN={}\n", fake::github_pat(1)));
    t
}

#[test]
fn quiet_is_accepted_before_the_subcommand_as_after_it() {
    let t = secret_tree();
    let loud = run(leakscan().arg("scan").arg(t.path())).expect(1);
    assert!(loud.stderr.contains("1 finding"), "{}", loud.stderr);
    for args in [&["-q", "scan"][..], &["scan", "-q"], &["--quiet", "scan"]] {
        let r = run(leakscan().args(args).arg(t.path())).expect(1);
        assert_eq!(r.stderr, "", "{args:?}");
        assert_eq!(r.stdout, loud.stdout, "{args:?}: the report is unchanged");
    }
}

#[test]
fn quiet_before_a_nested_subcommand_silences_it_too() {
    let t = secret_tree();
    let loud = run(leakscan()
        .args(["baseline", "create", "--file"])
        .arg(t.join("loud.json"))
        .arg(t.path()))
    .expect(0);
    assert!(!loud.stderr.is_empty());
    let r = run(leakscan()
        .args(["-q", "baseline", "create", "--file"])
        .arg(t.join("quiet.json"))
        .arg(t.path()))
    .expect(0);
    assert_eq!(r.stderr, "");
    assert!(t.join("quiet.json").is_file());
}

#[test]
fn history_takes_revisions_as_arguments_or_as_rev_flags() {
    let r = TempRepo::new();
    r.write("a.txt", "nothing\n");
    let first = r.commit("one");
    r.write("b.env", format!("TOKEN={}\n", fake::github_pat(2)));
    r.commit("two");
    r.write("c.env", format!("TOKEN={}\n", fake::github_pat(3)));
    r.commit("three");
    let range = format!("{first}..HEAD~1");
    let history = |args: &[&str]| {
        run(leakscan()
            .arg("history")
            .arg("--repo")
            .arg(r.path())
            .args(["--format", "json"])
            .args(args))
        .expect(1)
        .findings()
    };
    let positional = history(&[&range]);
    assert_eq!(positional.len(), 1, "only `two` is in the range");
    assert_eq!(positional[0]["path"], "b.env");
    assert_eq!(history(&["--rev", &range]), positional);
    // Both spellings add up, as repeated `--rev` flags do in `baseline`.
    assert_eq!(history(&["HEAD", "--rev", &range]).len(), 2);
}

#[test]
fn baseline_file_flag_is_file_everywhere_and_out_still_works() {
    let t = secret_tree();
    for (cmd, flag, name) in [
        ("create", "--file", "a.json"),
        ("create", "--out", "b.json"),
        ("update", "--file", "c.json"),
        ("update", "--out", "d.json"),
    ] {
        run(leakscan()
            .args(["baseline", cmd, flag])
            .arg(t.join(name))
            .arg(t.path()))
        .expect(0);
        assert!(t.join(name).is_file(), "{cmd} {flag}");
    }
    let help = run(leakscan().args(["baseline", "create", "--help"])).expect(0);
    assert!(help.stdout.contains("--file <FILE>"), "{}", help.stdout);
    let words: Vec<&str> = help
        .stdout
        .split(|c: char| c.is_whitespace() || c == ',')
        .collect();
    assert!(
        !words.contains(&"--out"),
        "the old spelling is hidden: {}",
        help.stdout
    );
}

#[test]
fn max_file_size_is_one_flag_for_every_scanning_command() {
    let r = TempRepo::new();
    r.write(
        "big.env",
        format!("TOKEN={}\n{}", fake::github_pat(4), "x".repeat(200)),
    );
    r.commit("one");
    let skipped = |args: &[&str]| -> u64 {
        let run = run(leakscan()
            .args(args)
            .args(["--format", "json", "--max-file-size", "100"]));
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        run.json()["stats"]["skipped"]["too_large"]
            .as_u64()
            .unwrap_or_else(|| panic!("{args:?}: {}", run.stdout))
    };
    let repo = r.path().to_str().unwrap();
    assert_eq!(skipped(&["scan", repo]), 1);
    assert_eq!(skipped(&["history", "--repo", repo]), 1);
    // `staged` takes it too now (it had no size flag): a staged file over
    // the limit is counted, not scanned.
    r.write(
        "big2.env",
        format!("TOKEN={}\n{}", fake::github_pat(5), "y".repeat(200)),
    );
    std::process::Command::new("git")
        .args(["-C", repo, "add", "big2.env"])
        .status()
        .unwrap();
    assert_eq!(skipped(&["staged", "--repo", repo]), 1);
}
