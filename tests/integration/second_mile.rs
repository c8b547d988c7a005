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
