//! `leakscan rules check` and `rules list` through the binary.

use crate::util::*;

#[test]
fn builtin_rules_pass_their_own_check() {
    let r = run(leakscan().args(["rules", "check"])).expect(0);
    assert!(r.stderr.contains("0 problems"), "{}", r.stderr);
}

/// The built-in examples and negative examples live in the static rule
/// table: `rules check` still replays every one of them.
#[test]
fn rules_check_replays_the_builtin_examples() {
    let r = run(leakscan().args(["rules", "check"])).expect(0);
    let count = |what: &str| -> usize {
        let head = r.stderr.split(what).next().unwrap_or_default();
        head.rsplit(", ")
            .next()
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap_or(0)
    };
    assert!(count(" examples,") >= 500, "{}", r.stderr);
    assert!(count(" negative examples") >= 500, "{}", r.stderr);
}

#[test]
fn builtin_rule_set_is_large_and_unique() {
    let r = run(leakscan().args(["rules", "list"])).expect(0);
    let ids: Vec<&str> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate rule ids");
    assert!(ids.len() >= 150, "only {} rules", ids.len());
}

/// `rules check` on one rules file alone (no built-in rules), expecting exit 1.
fn check_only(rules_toml: &str) -> Run {
    let t = Tree::new();
    t.write("bad.toml", rules_toml);
    run(leakscan()
        .args(["rules", "check", "--no-default-rules", "--config"])
        .arg(t.join("bad.toml")))
    .expect(1)
}

#[test]
fn rules_check_reports_a_failing_example() {
    let r = check_only(
        r#"
[[rules]]
id = "my-token"
description = "demo"
keywords = ["mytok_"]
regex = '''mytok_([a-z]{10})\b'''
examples = ["x = mytok_{digit:10}"]
"#,
    );
    assert!(
        r.stdout
            .contains("rule `my-token`: example 1 is not reported"),
        "{}",
        r.stdout
    );
}

#[test]
fn rules_check_reports_a_missing_keyword_and_a_reported_negative() {
    let r = check_only(
        r#"
[[rules]]
id = "my-token"
description = "demo"
keywords = ["mytok_"]
regex = '''(?i)mytok_([a-z0-9]{10})\b'''
examples = ["x = other_{lalnum:10}"]
negative_examples = ["x = MYTOK_{lalnum:10}"]
"#,
    );
    assert!(
        r.stdout.contains("contains none of the keywords"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("negative example 1 is reported"),
        "{}",
        r.stdout
    );
}
