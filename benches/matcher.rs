//! Matcher throughput (MB/s) on generated mixed text: source code, minified
//! JavaScript, lockfiles, and prose with and without secrets; plus the cost of
//! building the rule set, which every pre-commit run pays.
//!
//! `cargo bench --bench matcher`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use leakscan::matcher::Matcher;
use leakscan::rules::template::{expand, Rng};
use leakscan::rules::RuleSet;

fn rules() -> Arc<RuleSet> {
    leakscan::settings::build_rules(None, false).expect("built-in rules")
}

/// Deterministic C/Rust/Python-like code with identifiers that contain the
/// words generic rules look for (key, token, secret, password, auth).
fn source_code(rng: &mut Rng, bytes: usize) -> Vec<u8> {
    const LINES: &[&str] = &[
        "static int {lower:6}_init(struct device *dev, const char *key)\n",
        "\tif (!token || token->len > MAX_TOKEN_LEN)\n\t\treturn -EINVAL;\n",
        "    let secret_len = self.{lower:5}.len(); // password hashing happens later\n",
        "def authenticate(user, password=None):\n    return check_password(user, password)\n",
        "    for key, value in sorted(config.items()):\n        print(f\"{{key}} = {{value}}\")\n",
        "#define {upper:8}_KEY_SIZE {digit:2}\n",
        "\tret = crypto_shash_setkey(tfm, key, keylen);\n",
        "/* The access token is refreshed by the auth layer before expiry. */\n",
        "const apiKey = process.env.API_KEY;\n",
        "        self.session_token = None\n",
        "    u32 {lower:4} = readl(base + {HEX:4});\n",
    ];
    fill(rng, bytes, LINES)
}

fn minified_js(rng: &mut Rng, bytes: usize) -> Vec<u8> {
    const PARTS: &[&str] = &[
        "function {lower:2}(e,t){return e.key===t.token?e:null}",
        "var {lower:1}={alnum:8}.exports;",
        "e.headers.Authorization=\"Bearer \"+n.access_token;",
        "if(!r.secret)throw new Error(\"missing secret\");",
        "t.prototype.{lower:6}=function(){return this._{lower:4}};",
    ];
    let mut v = fill(rng, bytes, PARTS);
    v.retain(|&b| b != b'\n');
    v.push(b'\n');
    v
}

fn lockfile(rng: &mut Rng, bytes: usize) -> Vec<u8> {
    const LINES: &[&str] = &[
        "    \"node_modules/{lower:8}\": {{\n      \"version\": \"{digit:1}.{digit:1}.{digit:1}\",\n      \"resolved\": \"https://registry.npmjs.org/{lower:8}/-/{lower:8}-1.0.0.tgz\",\n      \"integrity\": \"sha512-{b64:86}==\"\n    }},\n",
        "checksum = \"{hex:64}\"\n",
        "github.com/{lower:6}/{lower:5} v1.{digit:1}.0 h1:{b64:43}=\n",
    ];
    fill(rng, bytes, LINES)
}

fn prose_with_secrets(rng: &mut Rng, bytes: usize) -> Vec<u8> {
    const LINES: &[&str] = &[
        "The deployment guide explains how credentials are rotated every quarter.\n",
        "GITHUB_TOKEN=ghp_{alnum:36}\n",
        "aws_access_key_id = AKIA{ualnum:16}\naws_secret_access_key = {b64:40}\n",
        "Remember: never paste a password into a chat window.\n",
        "SLACK_BOT_TOKEN: xoxb-{digit:11}-{digit:13}-{alnum:24}\n",
        "db_password = \"{alnum:18}\"\n",
        "See the runbook for the on-call rotation and escalation paths.\n",
    ];
    fill(rng, bytes, LINES)
}

/// Plain text with no secret and few keywords: what most bytes of a real
/// tree look like to the matcher.
fn prose(rng: &mut Rng, bytes: usize) -> Vec<u8> {
    const LINES: &[&str] = &[
        "The deployment guide explains how the service is rolled out every quarter.\n",
        "Each worker reads its queue, handles {digit:3} messages and reports back.\n",
        "See the runbook for the on-call rotation and escalation paths.\n",
        "static int {lower:6}_probe(struct platform_device *pdev)\n{{\n\treturn 0;\n}}\n",
        "    for (i = 0; i < n; i++)\n        sum += values[i] * {digit:2};\n",
        "Version {digit:1}.{digit:1} fixed a crash when the {lower:7} list was empty.\n",
    ];
    fill(rng, bytes, LINES)
}

fn fill(rng: &mut Rng, bytes: usize, templates: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 256);
    while out.len() < bytes {
        let t = templates[(rng.next_u64() % templates.len() as u64) as usize];
        out.extend(expand(t, rng).as_bytes());
    }
    out
}

fn bench_scan(c: &mut Criterion) {
    let rules = rules();
    let mut rng = Rng::new(42);
    let size = 4 << 20;
    let inputs = [
        ("source-code", source_code(&mut rng, size)),
        ("minified-js", minified_js(&mut rng, size)),
        ("lockfiles", lockfile(&mut rng, size)),
        ("prose-with-secrets", prose_with_secrets(&mut rng, size)),
        ("prose-without-secrets", prose(&mut rng, size)),
    ];
    let mut group = c.benchmark_group("scan");
    group.sample_size(20);
    for (name, data) in &inputs {
        group.throughput(Throughput::Bytes(data.len() as u64));
        let mut m = Matcher::new(rules.clone());
        group.bench_with_input(BenchmarkId::from_parameter(name), data, |b, d| {
            b.iter(|| m.scan(d).len())
        });
    }
    group.finish();
    // The keyword pass alone (every byte goes through it).
    let mut group = c.benchmark_group("keywords");
    group.sample_size(20);
    let mut hits = Vec::new();
    for (name, data) in &inputs {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), data, |b, d| {
            b.iter(|| {
                rules.keyword_hits(d, &mut hits);
                hits.len()
            })
        });
    }
    group.finish();
}

fn bench_startup(c: &mut Criterion) {
    let mut group = c.benchmark_group("rules");
    group.bench_function("parse-and-build", |b| b.iter(|| rules().len()));
    group.sample_size(10);
    group.bench_function("compile-every-regex", |b| {
        b.iter(|| {
            let r = rules();
            assert!(r.compile_all().is_empty());
        })
    });
    group.finish();
}

criterion_group!(benches, bench_scan, bench_startup);
criterion_main!(benches);
