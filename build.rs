//! Converts the built-in `rules.toml` to JSON at build time. The binary still
//! embeds and parses the whole rule file at start-up, but JSON parses about
//! ten times faster than TOML, and start-up is paid at every commit by the
//! pre-commit hook. A syntax error in `rules.toml` fails the build with its
//! line and column.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=rules.toml");
    let text = std::fs::read_to_string("rules.toml").expect("read rules.toml");
    let value: toml::Value = match toml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let line = text[..offset].matches('\n').count() + 1;
            let col = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
            panic!("rules.toml:{line}:{col}: {}", e.message());
        }
    };
    let json = serde_json::to_string(&value).expect("rules.toml as JSON");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("rules.json");
    std::fs::write(out, json).expect("write rules.json");
}
