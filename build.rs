//! Does at build time what start-up would otherwise do on every run (the
//! pre-commit hook pays start-up at every commit):
//!
//! - reads `rules.toml` through the run-time rule structs
//!   (`src/rules/syntax.rs`, compiled here too) and embeds them as postcard
//!   (`rules.bin`), which decodes without parsing text;
//! - indexes the rules' keywords and builds the keyword automaton with the
//!   run-time code (`src/rules/keywords/`, compiled here too), and writes its
//!   tables as Rust statics (`keyword_index.rs`) that the binary uses in place.
//!
//! A syntax error or an unknown field in `rules.toml` fails the build with
//! its line and column. `LEAKSCAN_RULES=path` builds with another rules file
//! (benchmarks of start-up at other rule counts: scripts/bench.sh).

use std::path::PathBuf;

#[allow(dead_code)]
#[path = "src/rules/syntax.rs"]
mod syntax;

#[allow(dead_code)]
#[path = "src/rules/keywords/mod.rs"]
mod keywords;

fn main() {
    println!("cargo:rerun-if-changed=rules.toml");
    println!("cargo:rerun-if-changed=src/rules/syntax.rs");
    println!("cargo:rerun-if-changed=src/rules/keywords");
    println!("cargo:rerun-if-env-changed=LEAKSCAN_RULES");
    let path = std::env::var("LEAKSCAN_RULES").unwrap_or_else(|_| "rules.toml".into());
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let file: syntax::RulesFile = match toml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let line = text[..offset].matches('\n').count() + 1;
            let col = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
            panic!("{path}:{line}:{col}: {}", e.message());
        }
    };
    assert_eq!(file.version, 1, "{path}: version must be 1");
    // The binary adds the built-in rules without looking for duplicates.
    let mut ids = std::collections::HashSet::new();
    for r in &file.rules {
        assert!(ids.insert(&r.id), "{path}: duplicate rule id `{}`", r.id);
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));

    // The `[rules.verify]` tables, for `verify::spec` only (read when
    // verifying or checking rules, never at start-up): JSON of the rules
    // that carry one, `{"rules": [{"id", "verify"}]}`.
    let value: toml::Value = toml::from_str(&text).expect("rules.toml as a TOML value");
    let verifiers: Vec<serde_json::Value> = value
        .get("rules")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let v = r.get("verify")?;
            Some(serde_json::json!({"id": r.get("id")?.as_str()?, "verify": v}))
        })
        .collect();
    let json =
        serde_json::to_string(&serde_json::json!({ "rules": verifiers })).expect("verify.json");
    std::fs::write(out.join("verify.json"), json).expect("write verify.json");

    let bin = postcard::to_allocvec(&file.rules).expect("rules as postcard");
    std::fs::write(out.join("rules.bin"), bin).expect("write rules.bin");

    let (patterns, pattern_rules) =
        keywords::index_keywords(file.rules.iter().map(|r| r.keywords.as_slice()));
    let search = keywords::KeywordSearch::new(&patterns)
        .unwrap_or_else(|e| panic!("{path}: the keyword automaton: {e}"));
    let rust = search.write_rust("INDEX", &pattern_rules);
    std::fs::write(out.join("keyword_index.rs"), rust).expect("write keyword_index.rs");
}
