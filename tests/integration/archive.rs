//! Archives, packages and container images (#23), made at test time by the
//! real tools (`zip`, `tar`, `jar`, Python's `zipfile`/`tarfile`) and, for
//! images, laid out per the OCI image spec: every mode opens them, findings
//! carry the path through the containers, and what cannot be read (corrupt,
//! encrypted, over a limit) is named and exits 2.

use std::path::Path;
use std::process::Command;

use crate::fixture::Git;
use crate::util::*;

/// Runs `sh -c script` in `dir`; panics with its output on failure.
fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a Python script in `dir` with `args` as `sys.argv[1:]`.
fn py(dir: &Path, script: &str, args: &[&str]) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `archive` chains of the findings, joined with `!`, sorted.
fn chains(r: &Run) -> Vec<String> {
    let mut out: Vec<String> = r
        .findings()
        .iter()
        .map(|f| match f["archive"].as_array() {
            Some(a) => a
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join("!"),
            None => f["path"].as_str().unwrap().to_string(),
        })
        .collect();
    out.sort();
    out
}

fn settings_py(tok: &str) -> String {
    format!("DEBUG = False\nGITHUB_TOKEN = \"{tok}\"\n")
}

#[test]
fn zip_family_made_by_zip_jar_and_python_is_opened() {
    let t = Tree::new();
    let tok = fake::github_pat(1);
    t.write("src/app/settings.py", settings_py(&tok));
    t.write("src/app/__init__.py", "");
    // `zip` (deflated), and a wheel as Python's zipfile writes one.
    sh(t.path(), "cd src && zip -q -r ../plain.zip app");
    std::fs::create_dir(t.join("dist")).unwrap();
    py(
        t.path(),
        "import sys, zipfile\n\
         with zipfile.ZipFile('dist/app-1.0-py3-none-any.whl', 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.write('src/app/settings.py', 'app/settings.py')\n\
         \x20   z.writestr('app-1.0.dist-info/METADATA', 'Name: app\\nVersion: 1.0\\n')\n",
        &[],
    );
    // A jar inside a war, by the JDK's `jar`.
    sh(
        t.path(),
        "mkdir -p j/conf w/WEB-INF/lib && cp src/app/settings.py j/conf/app.properties \
         && jar cf w/WEB-INF/lib/core.jar -C j conf && jar cf dist/site.war -C w WEB-INF",
    );
    // A .docx: zip + XML, the token in the document's text.
    py(
        t.path(),
        "import sys, zipfile\n\
         with zipfile.ZipFile('dist/report.docx', 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.writestr('[Content_Types].xml', '<?xml version=\"1.0\"?><Types/>')\n\
         \x20   z.writestr('word/document.xml', '<w:document><w:body><w:p><w:r><w:t>token: ' + sys.argv[1] + '</w:t></w:r></w:p></w:body></w:document>')\n",
        &[&tok],
    );
    std::fs::remove_dir_all(t.join("src")).unwrap();
    std::fs::remove_dir_all(t.join("j")).unwrap();
    std::fs::remove_dir_all(t.join("w")).unwrap();

    let r = t.scan_json(&[]).expect(1);
    assert_eq!(
        chains(&r),
        [
            "dist/app-1.0-py3-none-any.whl!app/settings.py",
            "dist/report.docx!word/document.xml",
            "dist/site.war!WEB-INF/lib/core.jar!conf/app.properties",
            "plain.zip!app/settings.py",
        ]
    );
    for f in r.findings() {
        assert_eq!(f["secret"], tok.as_str());
        assert!(f.get("layer").is_none());
    }
    let whl = r
        .findings()
        .into_iter()
        .find(|f| f["path"] == "dist/app-1.0-py3-none-any.whl")
        .unwrap();
    assert_eq!(
        (whl["line"].as_u64(), whl["column"].as_u64()),
        (Some(2), Some(17))
    );

    // Text output: the path through the containers, line and column inside.
    let text = run(leakscan().current_dir(t.path()).args(["scan", "."])).expect(1);
    assert!(
        text.stdout
            .contains("dist/app-1.0-py3-none-any.whl!app/settings.py:2:17  github-pat"),
        "{}",
        text.stdout
    );

    // SARIF: the archive is the artifact (a file in the repository), the
    // chain and the place inside in the result; HTML: the joined location.
    let sarif =
        run(leakscan()
            .current_dir(t.path())
            .args(["scan", "plain.zip", "--format", "sarif"]))
        .expect(1);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let res = &doc["runs"][0]["results"][0];
    let loc = &res["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "plain.zip");
    assert!(loc.get("region").is_none());
    assert_eq!(
        res["properties"]["archive"],
        serde_json::json!(["plain.zip", "app/settings.py"])
    );
    assert!(res["message"]["text"]
        .as_str()
        .unwrap()
        .contains("plain.zip!app/settings.py:2:17"));
    let html =
        run(leakscan()
            .current_dir(t.path())
            .args(["scan", "plain.zip", "--format", "html"]))
        .expect(1);
    // The text a reader sees (paths are split into spans that break after
    // a `/`).
    let text: String = html
        .stdout
        .split('<')
        .map(|part| part.split_once('>').map_or(part, |(_, rest)| rest))
        .collect();
    assert!(
        text.contains("plain.zip!app/settings.py:2:17"),
        "{}",
        html.stdout
    );

    // --no-archives: archives are bytes again; only a stored (not
    // deflated) entry's printable text is seen, without its place inside.
    let r = t.scan_json(&["--no-archives"]);
    assert!(r.findings().len() < 4);
    assert!(r.findings().iter().all(|f| f.get("archive").is_none()));
}

#[test]
fn tar_family_and_compressed_streams_are_opened() {
    let t = Tree::new();
    let tok = fake::github_pat(2);
    // An npm package: `package/` inside a gzipped tar.
    t.write("package/package.json", "{\"name\": \"p\"}\n");
    t.write(
        "package/.npmrc",
        format!("//registry.npmjs.org/:_authToken={tok}\n"),
    );
    sh(t.path(), "tar czf p-1.0.0.tgz package");
    sh(
        t.path(),
        "tar cjf p.tar.bz2 package && tar cJf p.tar.xz package",
    );
    sh(t.path(), "tar --zstd -cf p.tar.zst package");
    // Python's tarfile (POSIX format), uncompressed.
    py(
        t.path(),
        "import tarfile\n\
         with tarfile.open('py.tar', 'w', format=tarfile.PAX_FORMAT) as f:\n\
         \x20   f.add('package/.npmrc', 'conf/.npmrc')\n",
        &[],
    );
    // Single streams: the file inside is named after the stream.
    t.write("notes.txt", format!("token {tok}\n"));
    sh(
        t.path(),
        "gzip -k notes.txt && mv notes.txt.gz n.txt.gz && bzip2 -k notes.txt \
         && xz -k notes.txt && zstd -q notes.txt -o notes.txt.zst && rm notes.txt",
    );
    std::fs::remove_dir_all(t.join("package")).unwrap();

    let r = t.scan_json(&[]).expect(1);
    assert_eq!(
        chains(&r),
        [
            "n.txt.gz!n.txt",
            "notes.txt.bz2!notes.txt",
            "notes.txt.xz!notes.txt",
            "notes.txt.zst!notes.txt",
            "p-1.0.0.tgz!package/.npmrc",
            "p.tar.bz2!package/.npmrc",
            "p.tar.xz!package/.npmrc",
            "p.tar.zst!package/.npmrc",
            "py.tar!conf/.npmrc",
        ]
    );
    // Recognised by content, not name.
    std::fs::rename(t.join("p-1.0.0.tgz"), t.join("download.bin")).unwrap();
    let r = t.scan_json(&[]).expect(1);
    assert!(chains(&r).contains(&"download.bin!package/.npmrc".to_string()));
}

/// Builds an OCI image: layer 1 adds `etc/app.env` (a token), layer 2
/// deletes it with a whiteout; the config's `Env` holds another token and a
/// password (found by a generic rule, which reads `KEY=value` lines).
/// Writes the OCI layout under `layout/` and a `docker save`-style tarball
/// (the same layout plus `manifest.json`) as `image.tar`. Prints the two
/// layer digests.
const MAKE_IMAGE: &str = r#"
import gzip, hashlib, io, json, os, sys, tarfile
tok, env_tok, password = sys.argv[1], sys.argv[2], sys.argv[3]
def layer(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w') as t:
        for name, data in files:
            i = tarfile.TarInfo(name); i.size = len(data); i.mtime = 1
            t.addfile(i, io.BytesIO(data))
    return raw.getvalue()
blobs = {}
def blob(data):
    d = hashlib.sha256(data).hexdigest(); blobs[d] = data; return d
l1_tar = layer([('etc/app.env', ('API_TOKEN=' + tok + '\n').encode()), ('bin/app', b'\x7fELF')])
l2_tar = layer([('etc/.wh.app.env', b'')])
l1 = blob(gzip.compress(l1_tar, mtime=0)); l2 = blob(gzip.compress(l2_tar, mtime=0))
config = {'architecture': 'amd64', 'os': 'linux',
  'config': {'Env': ['PATH=/usr/bin', 'GITHUB_TOKEN=' + env_tok, 'DB_PASSWORD=' + password]},
  'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + hashlib.sha256(l1_tar).hexdigest(), 'sha256:' + hashlib.sha256(l2_tar).hexdigest()]},
  'history': [{'created_by': 'COPY app.env /etc/'}, {'created_by': 'RUN rm /etc/app.env'}]}
cfg = blob(json.dumps(config).encode())
gz = 'application/vnd.oci.image.layer.v1.tar+gzip'
manifest = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
  'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': 'sha256:' + cfg, 'size': len(blobs[cfg])},
  'layers': [{'mediaType': gz, 'digest': 'sha256:' + d, 'size': len(blobs[d])} for d in (l1, l2)]}
m = blob(json.dumps(manifest).encode())
index = {'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': 'sha256:' + m, 'size': len(blobs[m])}]}
files = {'oci-layout': json.dumps({'imageLayoutVersion': '1.0.0'}).encode(), 'index.json': json.dumps(index).encode()}
for d, data in blobs.items():
    files['blobs/sha256/' + d] = data
for name, data in files.items():
    os.makedirs(os.path.dirname(os.path.join('layout', name)) or 'layout', exist_ok=True)
    open(os.path.join('layout', name), 'wb').write(data)
files['manifest.json'] = json.dumps([{'Config': 'blobs/sha256/' + cfg, 'RepoTags': ['app:1'], 'Layers': ['blobs/sha256/' + l1, 'blobs/sha256/' + l2]}]).encode()
with tarfile.open('image.tar', 'w') as t:
    for name, data in sorted(files.items()):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
print(l1); print(cfg)
"#;

#[test]
fn image_layers_whiteouts_and_config_env_are_scanned() {
    let t = Tree::new();
    let (tok, env_tok) = (fake::github_pat(3), fake::github_pat(4));
    let password = fake::token("{alnum:20}", 4);
    let out = Command::new("python3")
        .args(["-c", MAKE_IMAGE, &tok, &env_tok, &password])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let mut lines = printed.lines();
    let (l1, cfg) = (lines.next().unwrap(), lines.next().unwrap());

    // The `docker save` tarball, named on the command line.
    let r = run(leakscan().current_dir(t.path()).args([
        "scan",
        "image.tar",
        "--format",
        "json",
        "--show-secrets",
    ]))
    .expect(1);
    let fs = r.findings();
    assert_eq!(fs.len(), 3, "{fs:#?}");
    let deleted = fs.iter().find(|f| f["secret"] == tok.as_str()).unwrap();
    assert_eq!(
        deleted["archive"],
        serde_json::json!(["image.tar", format!("blobs/sha256/{l1}"), "etc/app.env"])
    );
    assert_eq!(deleted["layer"], format!("sha256:{l1}"));
    let env = fs.iter().find(|f| f["secret"] == env_tok.as_str()).unwrap();
    // The config's strings, one a line: `Env` entries are `KEY=value` lines.
    let config = serde_json::json!(["image.tar", format!("blobs/sha256/{cfg}"), "(config)"]);
    assert_eq!(env["archive"], config);
    assert!(env.get("layer").is_none());
    let pw = fs
        .iter()
        .find(|f| f["secret"] == password.as_str())
        .unwrap();
    assert_eq!(pw["archive"], config);
    assert!(pw["rule"].as_str().unwrap().starts_with("generic-password"));

    // The OCI layout as a directory: each layer blob is opened where it lies.
    let r = run(leakscan().current_dir(t.path()).args([
        "scan",
        "layout",
        "--format",
        "json",
        "--show-secrets",
    ]))
    .expect(1);
    let fs = r.findings();
    let deleted = fs.iter().find(|f| f["secret"] == tok.as_str()).unwrap();
    assert_eq!(deleted["path"], format!("blobs/sha256/{l1}"));
    assert_eq!(deleted["layer"], format!("sha256:{l1}"));
    let env = fs.iter().find(|f| f["secret"] == env_tok.as_str()).unwrap();
    assert_eq!(env["archive"][1], "(config)");
    assert!(fs.iter().any(|f| f["secret"] == password.as_str()));
}

#[test]
fn corrupt_and_encrypted_archives_are_named_and_exit_2() {
    let t = Tree::new();
    let tok = fake::github_pat(5);
    t.write("a/secret.env", format!("T={tok}\n"));
    t.write("a/other.env", format!("T={}\n", fake::github_pat(6)));
    sh(t.path(), "zip -q -P hunter2 locked.zip a/secret.env");
    sh(t.path(), "zip -q good.zip a/secret.env a/other.env");
    // Damage the first entry's compressed data: its checksum fails.
    let mut bytes = std::fs::read(t.join("good.zip")).unwrap();
    let name_len = u16::from_le_bytes([bytes[26], bytes[27]]) as usize;
    let extra = u16::from_le_bytes([bytes[28], bytes[29]]) as usize;
    let data = 30 + name_len + extra;
    for b in &mut bytes[data + 2..data + 8] {
        *b ^= 0x55;
    }
    std::fs::write(t.join("damaged.zip"), &bytes).unwrap();
    // Cut short: no central directory.
    std::fs::write(t.join("truncated.zip"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(t.join("good.zip")).unwrap();
    std::fs::remove_dir_all(t.join("a")).unwrap();

    let r = t.scan_json(&[]).expect(2);
    assert!(
        r.stderr.contains("locked.zip!a/secret.env: encrypted"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("damaged.zip!a/secret.env: corrupt"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("truncated.zip: corrupt zip"),
        "{}",
        r.stderr
    );
    // The damaged archive's intact entry is still scanned.
    assert!(chains(&r).contains(&"damaged.zip!a/other.env".to_string()));
}

/// A zip whose every central-directory entry points at the same local
/// header and deflate stream (the overlapping-entry bomb).
const OVERLAP_BOMB: &str = r#"
import struct, zlib
data = zlib.compress(b'A' * (1 << 20))[2:-4]
crc = zlib.crc32(b'A' * (1 << 20))
name = b'a.txt'
local = struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 8, 0, 0, crc, len(data), 1 << 20, len(name), 0) + name + data
cd = b''
n = 2000
for i in range(n):
    nm = b'f%05d.txt' % i
    cd += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 8, 0, 0, crc, len(data), 1 << 20, len(nm), 0, 0, 0, 0, 0, 0) + nm
end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, len(cd), len(local), 0)
open('overlap.zip', 'wb').write(local + cd + end)
"#;

/// 42.zip's shape: each level holds `copies` copies of the level below;
/// the bottom is `size` bytes of zeros.
const NESTED_BOMB: &str = r#"
import io, sys, zipfile
levels, copies, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def z(entries):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as f:
        for n, d in entries:
            f.writestr(n, d)
    return b.getvalue()
cur = z([('zeros.bin', b'\0' * size)])
for lvl in range(levels):
    cur = z([('l%d-%d.zip' % (lvl, i), cur) for i in range(copies)])
open(sys.argv[4], 'wb').write(cur)
"#;

#[test]
fn bombs_stop_at_the_limits_and_exit_2() {
    let t = Tree::new();
    py(t.path(), OVERLAP_BOMB, &[]);
    // 16^3 copies of 8 MiB: 32 GiB expanded from ~400 KiB.
    py(
        t.path(),
        NESTED_BOMB,
        &["3", "16", &(8 << 20).to_string(), "nested.zip"],
    );
    // Twelve levels of one copy: deeper than the depth limit.
    py(t.path(), NESTED_BOMB, &["12", "1", "10", "deep.zip"]);
    let r = t.scan_json(&[]).expect(2);
    assert!(
        r.stderr.contains("overlap.zip: zip entries overlap"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("nested.zip: expands more than 200-fold"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("nested deeper than the limit (8"),
        "{}",
        r.stderr
    );
    // The limits are flags: a tighter byte limit names itself.
    let r = t.scan_json(&["--archive-max-bytes", "1M", "--archive-max-depth", "20"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("nested.zip: expands to more than 1048576 bytes"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("deep.zip"), "{}", r.stderr);
    let r = t.scan_json(&["--archive-max-entries", "5"]);
    assert!(r.stderr.contains("more than 5 entries"), "{}", r.stderr);
}

#[test]
fn traversal_names_are_reported_as_written_and_nothing_is_extracted() {
    let t = Tree::new();
    let tok = fake::github_pat(7);
    std::fs::create_dir(t.join("scan")).unwrap();
    py(
        t.path(),
        "import io, sys, tarfile, zipfile\n\
         d = ('T=' + sys.argv[1] + '\\n').encode()\n\
         with zipfile.ZipFile('scan/t.zip', 'w') as z:\n\
         \x20   z.writestr(zipfile.ZipInfo('../../evil.env'), d)\n\
         with tarfile.open('scan/t.tar', 'w') as f:\n\
         \x20   i = tarfile.TarInfo('/etc/../../evil2.env'); i.size = len(d); f.addfile(i, io.BytesIO(d))\n",
        &[&tok],
    );
    let r = run(leakscan()
        .current_dir(t.join("scan"))
        .args(["scan", ".", "--format", "json"]))
    .expect(1);
    assert_eq!(
        chains(&r),
        ["t.tar!/etc/../../evil2.env", "t.zip!../../evil.env"]
    );
    assert!(!t.join("evil.env").exists() && !Path::new("/evil2.env").exists());
}

#[test]
fn a_committed_zip_is_found_in_history_and_a_staged_jar_in_staged() {
    let g = Git::init();
    let tok = fake::github_pat(8);
    // Long enough to be deflated (a tiny file would be stored as it is).
    let dump = "INSERT INTO t VALUES (1);\n".repeat(100);
    g.write("a/backup.sql", format!("{dump}password_token = '{tok}'\n"));
    sh(g.path(), "zip -q -r backup.zip a && rm -r a");
    g.commit_all("add backup");
    let r = run(leakscan().current_dir(g.path()).args([
        "history",
        "--format",
        "json",
        "--no-baseline",
    ]))
    .expect(1);
    let fs = r.findings();
    assert_eq!(fs.len(), 1, "{fs:#?}");
    assert_eq!(
        fs[0]["archive"],
        serde_json::json!(["backup.zip", "a/backup.sql"])
    );
    assert!(fs[0]["commit"]["id"].is_string());
    run(leakscan()
        .current_dir(g.path())
        .args(["history", "--no-archives", "--no-baseline"]))
    .expect(0);

    // A staged jar.
    g.write("conf/app.properties", format!("github.token={tok}\n"));
    sh(g.path(), "jar cf app.jar conf && rm -r conf");
    g.git(&["add", "app.jar"]);
    let r = g.staged().expect(1);
    assert_eq!(chains(&r), ["app.jar!conf/app.properties"]);
    assert_eq!(r.findings()[0]["column"], 14);
    g.commit_all("jar");
    // Rebuilt with one more file and the same secret: nothing new.
    g.write("conf/app.properties", format!("github.token={tok}\n"));
    g.write("conf/more.txt", "more\n");
    sh(g.path(), "rm app.jar && jar cf app.jar conf && rm -r conf");
    g.git(&["add", "app.jar"]);
    g.staged().expect(0);
}

#[test]
fn a_baseline_entry_survives_a_rebuild_of_the_archive() {
    let t = Tree::new();
    // The sources live outside the scanned tree.
    let src = Tree::new();
    let tok = fake::github_pat(9);
    src.write("app/settings.py", settings_py(&tok));
    src.write("app/extra.py", "x = 1\n");
    let zip = |args: &str| {
        let _ = std::fs::remove_file(t.join("dist.zip"));
        sh(
            src.path(),
            &format!("zip -q {args} {} app/*.py", t.join("dist.zip").display()),
        );
    };
    zip("-9");
    let fp1 = t.scan_json(&[]).expect(1).findings()[0]["fingerprint"].clone();
    run(leakscan()
        .current_dir(t.path())
        .args(["baseline", "create"]))
    .expect(0);
    t.scan_json(&[]).expect(0);
    // Rebuilt: other compression, other timestamps, another file added.
    src.write("app/more.py", "y = 2\n");
    sh(src.path(), "touch -d 2001-01-01 app/settings.py");
    zip("-1");
    let r = t.scan_json(&["--no-baseline"]).expect(1);
    assert_eq!(r.findings()[0]["fingerprint"], fp1);
    t.scan_json(&[]).expect(0);
    // The same secret in another file of the archive is a new finding.
    src.write("app/extra.py", settings_py(&tok));
    zip("");
    let r = t.scan_json(&[]).expect(1);
    assert_eq!(chains(&r), ["dist.zip!app/extra.py"]);
}

#[test]
fn sweep_and_pre_receive_open_committed_archives() {
    let g = Git::init();
    let tok = fake::github_pat(11);
    let dump = "INSERT INTO t VALUES (1);\n".repeat(100);
    g.write("a/dump.sql", format!("{dump}password_token = '{tok}'\n"));
    sh(g.path(), "tar czf backup.tgz a && rm -r a");
    g.commit_all("backup");

    // The sweep's row names the file inside the archive.
    let r = run(leakscan().arg("sweep").arg(g.sibling("")).args([
        "--format",
        "json",
        "-q",
        "--show-secrets",
    ]))
    .expect(1);
    let doc = r.json();
    let rows = doc["secrets"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{doc:#}");
    let text = rows[0].to_string();
    assert!(text.contains("backup.tgz!a/dump.sql"), "{text}");

    // A server whose pre-receive hook refuses the push of that commit.
    let srv = g.sibling("srv.git");
    std::fs::create_dir(&srv).unwrap();
    crate::fixture::git_in(&srv, &["init", "-q", "--bare", "-b", "main"]);
    let hook = srv.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nexec '{}' pre-receive\n",
            env!("CARGO_BIN_EXE_leakscan")
        ),
    )
    .unwrap();
    sh(&srv, "chmod +x hooks/pre-receive");
    let out = crate::fixture::git_command(g.path())
        .args(["push", srv.to_str().unwrap(), "main"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("backup.tgz!a/dump.sql:101:19"), "{err}");
}

#[test]
fn files_inside_follow_the_size_limit() {
    let t = Tree::new();
    let tok = fake::github_pat(12);
    // 11 MiB of text, the token at its end: over the default 10 MiB.
    py(
        t.path(),
        "import sys, zipfile\n\
         with zipfile.ZipFile('big.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.writestr('big.log', 'x' * (11 << 20) + '\\ntoken ' + sys.argv[1] + '\\n')\n",
        &[&tok],
    );
    let r = t.scan_json(&[]).expect(0);
    assert_eq!(r.json()["stats"]["skipped"]["too_large"], 1);
    let r = t.scan_json(&["--max-file-size", "20M"]).expect(1);
    assert_eq!(chains(&r), ["big.zip!big.log"]);
}

#[test]
fn pre_receive_accepts_a_rebuilt_archive_whose_secret_was_already_pushed() {
    let g = Git::init();
    let tok = fake::github_pat(13);
    let dump = "INSERT INTO t VALUES (1);\n".repeat(100);
    g.write("a/dump.sql", format!("{dump}password_token = '{tok}'\n"));
    sh(g.path(), "tar czf backup.tgz a && rm -r a");
    g.commit_all("backup");
    let srv = g.sibling("srv.git");
    std::fs::create_dir(&srv).unwrap();
    crate::fixture::git_in(&srv, &["init", "-q", "--bare", "-b", "main"]);
    let push = || {
        let out = crate::fixture::git_command(g.path())
            .args(["push", srv.to_str().unwrap(), "main"])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Pushed before the hook: the secret is known history.
    assert!(push().0);
    std::fs::write(
        srv.join("hooks/pre-receive"),
        format!(
            "#!/bin/sh\nexec '{}' pre-receive\n",
            env!("CARGO_BIN_EXE_leakscan")
        ),
    )
    .unwrap();
    sh(&srv, "chmod +x hooks/pre-receive");
    // Rebuilt with one more file: the old secret is not new.
    g.write("a/dump.sql", format!("{dump}password_token = '{tok}'\n"));
    g.write("a/readme.txt", "restore with psql\n");
    sh(g.path(), "rm backup.tgz && tar czf backup.tgz a && rm -r a");
    g.commit_all("rebuild backup");
    let (ok, err) = push();
    assert!(ok, "{err}");
    // A new secret in the archive is.
    g.write(
        "a/dump.sql",
        format!("{dump}password_token = '{}'\n", fake::github_pat(14)),
    );
    sh(g.path(), "rm backup.tgz && tar czf backup.tgz a && rm -r a");
    g.commit_all("new secret");
    let (ok, err) = push();
    assert!(!ok && err.contains("backup.tgz!a/dump.sql:101:19"), "{err}");
}

#[test]
fn sweep_reports_an_unreadable_archive_in_every_repository_holding_it() {
    let root = Tree::new();
    root.write("s.txt", "data\n");
    sh(root.path(), "zip -q -P pw locked.zip s.txt && rm s.txt");
    for r in ["r1", "r2"] {
        sh(
            root.path(),
            &format!(
                "mkdir {r} && cd {r} && git init -q -b main && cp ../locked.zip . && git add . \
                 && git -c user.name=A -c user.email=a@example.com commit -qm x"
            ),
        );
    }
    std::fs::remove_file(root.join("locked.zip")).unwrap();
    // The second repository's blob comes from the sweep's cache: its error
    // must not be lost there.
    let r = run(leakscan()
        .arg("sweep")
        .arg(root.path())
        .args(["--format", "json", "-q"]));
    let doc = r.json();
    let repos = doc["repos"].as_array().unwrap();
    assert_eq!(repos.len(), 2, "{doc:#}");
    for repo in repos {
        assert_eq!(repo["status"], "failed", "{repo}");
        assert!(repo["error"]
            .as_str()
            .unwrap()
            .contains("locked.zip!s.txt: encrypted"));
    }
}
