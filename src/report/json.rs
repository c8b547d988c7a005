//! JSON output, schema version 1 (documented in the README; JSON Schema in
//! `schema/report.schema.json`, checked against real output by the tests).
//! Non-UTF-8 paths are written as `{"bytes": "<base64>"}`.

use std::io::{self, Write};

use base64::Engine;
use serde_json::{json, Map, Value};

use super::Report;
use crate::finding::Finding;
use crate::paths::PathBytes;
use crate::stats::Stats;

pub fn path_value(p: &PathBytes) -> Value {
    match p.as_str() {
        Some(s) => Value::String(s.to_string()),
        None => json!({ "bytes": base64::engine::general_purpose::STANDARD.encode(&p.0) }),
    }
}

fn finding_value(r: &Report<'_>, f: &Finding) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("rule".into(), json!(f.rule));
    m.insert("description".into(), json!(f.description));
    m.insert("path".into(), path_value(&r.path(&f.path)));
    m.insert("line".into(), json!(f.line));
    m.insert("column".into(), json!(f.column));
    m.insert("end_line".into(), json!(f.end_line));
    m.insert("end_column".into(), json!(f.end_column));
    m.insert("secret".into(), json!(r.secret_text(f)));
    m.insert("fingerprint".into(), json!(f.fingerprint()));
    m.insert(
        "entropy".into(),
        json!((f.entropy * 1000.0).round() / 1000.0),
    );
    m.insert("confidence".into(), json!(f.confidence.as_str()));
    if let Some(e) = f.encoding {
        m.insert("encoding".into(), json!(e));
    }
    if let Some(a) = &f.archive {
        let chain: Vec<Value> = std::iter::once(&f.path)
            .chain(&a.inner)
            .map(|p| path_value(&r.path(p)))
            .collect();
        m.insert("archive".into(), Value::Array(chain));
        if let Some(l) = &a.layer {
            m.insert("layer".into(), json!(l));
        }
    }
    if let Some(c) = f.commit.as_ref().map(|c| r.commit(c)) {
        m.insert(
            "commit".into(),
            json!({"id": c.id, "author": c.author, "email": c.email, "date": c.date, "summary": c.summary}),
        );
    }
    if !f.occurrences.is_empty() {
        let occ: Vec<Value> = f
            .occurrences
            .iter()
            .map(|o| json!({"commit": o.commit, "path": path_value(&r.path(&o.path)), "line": o.line}))
            .collect();
        m.insert("occurrences".into(), Value::Array(occ));
    }
    m
}

/// `{"status", "identity", "checked_at", "reason"}` (the last two when known).
pub fn verification_value(v: &crate::verify::Verification) -> Value {
    let mut m = Map::new();
    m.insert("status".into(), json!(v.status.as_str()));
    m.insert("identity".into(), json!(v.identity));
    if let Some(t) = &v.checked_at {
        m.insert("checked_at".into(), json!(t));
    }
    if let Some(r) = &v.reason {
        m.insert("reason".into(), json!(r));
    }
    Value::Object(m)
}

pub fn stats_value(s: &Stats) -> Value {
    let skipped: Map<String, Value> = s
        .skipped
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), json!(v)))
        .collect();
    let suppressed: Map<String, Value> = s
        .suppressed
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), json!(v)))
        .collect();
    let mut v = json!({
        "scanned": s.scanned,
        "binary": s.binary,
        "bytes": s.bytes,
        "skipped": skipped,
        "skipped_bytes": s.skipped_bytes,
        "errors": s.errors.iter().map(|e| e.msg.as_str()).collect::<Vec<_>>(),
        "warnings": s.warnings,
        "suppressed": suppressed,
        "inline_gitleaks": s.inline_gitleaks,
        "encrypted": s.filtered_encrypted,
        "commits": s.commits,
        "elapsed_ms": s.elapsed.as_millis() as u64,
    });
    // Only when it applies: other reports stay byte-identical.
    if s.tagged > 0 {
        v["tagged"] = json!(s.tagged);
    }
    if s.filtered_test_vectors > 0 {
        v["test_vectors"] = json!(s.filtered_test_vectors);
    }
    v
}

pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let findings: Vec<Value> = r
        .findings
        .iter()
        .map(|j| {
            let mut m = finding_value(r, &j.finding);
            if !j.evidence.is_empty() {
                m.insert("evidence".into(), json!(j.evidence));
            }
            if let Some(v) = &j.verification {
                m.insert("verification".into(), verification_value(v));
            }
            if let Some((reason, status)) = &j.suppressed {
                m.insert(
                    "suppressed".into(),
                    json!({"reason": reason.as_str(), "status": status}),
                );
            }
            Value::Object(m)
        })
        .collect();
    let doc = json!({"version": 1, "complete": !r.stats.interrupted, "findings": findings, "stats": stats_value(r.stats)});
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
