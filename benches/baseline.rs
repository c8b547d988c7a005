//! Baseline cost at scale (#4): a baseline of 100,000 entries, loaded
//! (parsed from its JSON bytes, then indexed) and used to judge findings that
//! are in it, that are not, and that share a secret with an entry but sit in
//! another file. Judging should cost the same at 1,000 and at 100,000 entries
//! (one HMAC and one hash lookup).
//!
//! `cargo bench --bench baseline`

use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use leakscan::finding::{Finding, InlineAllow, Secret};
use leakscan::paths::PathBytes;
use leakscan::rules::template::{expand, Rng};
use leakscan::suppress::baseline::{Baseline, Entry, EntryPath, Lookup, Status};

/// A made-up secret in the shape of a token, built at run time.
fn secret(rng: &mut Rng) -> Vec<u8> {
    expand("ghp_{alnum:36}", rng).into_bytes()
}

fn finding(path: &str, secret: Vec<u8>) -> Finding {
    Finding {
        rule: "github-pat".into(),
        description: String::new(),
        path: PathBytes::from(path),
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 41,
        secret: Secret::new(secret),
        entropy: 4.5,
        commit: None,
        inline: InlineAllow::None,
        line_text: Vec::new(),
        occurrences: Vec::new(),
        encoding: None,
        archive: None,
        near: None,
        confidence: leakscan::rules::Confidence::High,
        public: false,
    }
}

/// A baseline of `n` entries over `n / 10` files, with the findings it
/// covers (one per entry).
fn baseline(n: usize) -> (Baseline, Vec<Finding>) {
    let mut rng = Rng::new(42);
    let mut b = Baseline::new();
    let key = b.key();
    let mut covered = Vec::with_capacity(n);
    for i in 0..n {
        let s = secret(&mut rng);
        let path = format!("src/module{:05}/file{}.py", i / 10, i % 10);
        b.entries.push(Entry {
            path: EntryPath(path.clone().into_bytes()),
            rule: "github-pat".into(),
            hash: Some(key.hash(&s)),
            sha1: None,
            line: Some((i % 300) as u64 + 1),
            preview: Some("ghp_".into()),
            length: Some(40),
            status: Status::Untriaged,
            reason: None,
            by: None,
            date: Some("2024-01-01".into()),
        });
        covered.push(finding(&path, s));
    }
    b.normalize();
    (b, covered)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("baseline");
    for n in [1_000usize, 100_000] {
        let (b, covered) = baseline(n);
        let bytes = b.to_bytes();
        eprintln!("{n} entries: {:.1} MB on disk", bytes.len() as f64 / 1e6);
        g.sample_size(10);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("parse", n), &bytes, |bch, bytes| {
            bch.iter(|| Baseline::parse(bytes, Path::new("b.json")).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("index", n), &b, |bch, b| {
            bch.iter_batched(
                || b.clone(),
                |b| Lookup::new(b, "b.json"),
                BatchSize::LargeInput,
            )
        });
        g.bench_with_input(
            BenchmarkId::new("load (parse + index)", n),
            &bytes,
            |bch, bytes| {
                bch.iter(|| {
                    Lookup::new(
                        Baseline::parse(bytes, Path::new("b.json")).unwrap(),
                        "b.json",
                    )
                })
            },
        );

        let m = Lookup::new(b.clone(), "b.json");
        let mut rng = Rng::new(7);
        let absent: Vec<Finding> = (0..1000)
            .map(|i| finding(&format!("src/new{i}.py"), secret(&mut rng)))
            .collect();
        let moved: Vec<Finding> = covered
            .iter()
            .take(1000)
            .map(|f| finding("elsewhere/other.py", f.secret.expose().to_vec()))
            .collect();
        let hits: Vec<Finding> = covered
            .iter()
            .step_by((n / 1000).max(1))
            .take(1000)
            .cloned()
            .collect();
        g.sample_size(50);
        g.throughput(Throughput::Elements(1000));
        for (name, set) in [
            ("judge hit", &hits),
            ("judge miss", &absent),
            ("judge same secret, other file", &moved),
        ] {
            g.bench_with_input(BenchmarkId::new(name, n), set, |bch, set| {
                bch.iter(|| set.iter().filter(|f| m.judge(f).is_some()).count())
            });
        }
        assert_eq!(
            hits.iter().filter(|f| m.judge(f).is_some()).count(),
            hits.len()
        );
        assert_eq!(absent.iter().filter(|f| m.judge(f).is_some()).count(), 0);
        assert_eq!(moved.iter().filter(|f| m.judge(f).is_some()).count(), 0);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
