//! Issue #24 ("the second mile"): workflow polish tests that have no other
//! home — one scan writing several reports, and the small command-line items.

use crate::util::*;

/// Item 2 ("scan once"): one run writes SARIF and JSON of the same findings.
#[test]
fn issue24_one_scan_writes_sarif_and_json() {
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
fn issue24_text_paths_are_as_given_json_paths_relative() {
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
