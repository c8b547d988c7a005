//! Hostile repositories (#9 items 4, 9, 10, 11, 12): built at run time with
//! real `git`, then damaged by byte surgery on `.idx`, pack and loose object
//! files. Every damaged object must be an error naming it (exit 2), never a
//! panic, a signal, a hang or a runaway allocation, and a secret elsewhere
//! in the repository must still be found.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha1::{Digest, Sha1};

use super::util::{fake, leakscan, Run};
use crate::fixture::{git_command, Git};

/// A repository in a temporary directory, driven by real git
/// (`fixture::Git`), never repacked behind the test's back.
struct Hostile {
    /// Kept for its temporary directory.
    _repo: Git,
    path: PathBuf,
}

impl Hostile {
    fn new() -> Hostile {
        let g = Git::init();
        let path = g.path().to_path_buf();
        let h = Hostile { _repo: g, path };
        h.git(&["config", "gc.auto", "0"]);
        h
    }

    fn git(&self, args: &[&str]) -> String {
        let out = git_command(&self.path).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn commit(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
    }

    fn git_dir(&self) -> PathBuf {
        self.path.join(".git")
    }

    /// The loose file of object `id`, made writable.
    fn loose(&self, id: &str) -> PathBuf {
        let p = self.git_dir().join("objects").join(&id[..2]).join(&id[2..]);
        make_writable(&p);
        p
    }

    /// Packs everything into one pack without deltas; its (pack, idx).
    fn repack(&self) -> (PathBuf, PathBuf) {
        self.git(&["repack", "-adfq", "--window=0", "--depth=0"]);
        let dir = self.git_dir().join("objects").join("pack");
        let pack = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "pack"))
            .expect("a pack");
        let idx = pack.with_extension("idx");
        make_writable(&pack);
        make_writable(&idx);
        (pack, idx)
    }

    /// `leakscan history --all` with the pack reader forced `on` or `off`.
    fn history(&self, reader: &str) -> Run {
        let mut c = leakscan();
        c.current_dir(&self.path)
            .env("LEAKSCAN_PACK_READER", reader)
            .args(["history", "--all", "--format", "json", "--show-secrets"]);
        guarded(c)
    }

    fn staged(&self) -> Run {
        let mut c = leakscan();
        c.current_dir(&self.path)
            .args(["staged", "--format", "json", "--show-secrets"]);
        guarded(c)
    }
}

fn make_writable(p: &Path) {
    let mut perm = std::fs::metadata(p).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(p, perm).unwrap();
}

/// Runs `cmd` with its address space capped at 3 GiB (an allocation of the
/// 4 GiB a damaged header claims fails instead of succeeding quietly), and
/// kills it if it is still running after two minutes: a hang is a failure,
/// not a stuck test run.
fn guarded(cmd: Command) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut c = Command::new("prlimit");
    c.arg(format!("--as={}", 3u64 << 30))
        .arg("--")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir(cmd.get_current_dir().unwrap());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let mut child = c
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("spawn prlimit");
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if waited > Duration::from_secs(120) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "leakscan hung (killed after {waited:?}); stderr so far:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    };
    use std::os::unix::process::ExitStatusExt;
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    assert!(
        status.signal().is_none(),
        "leakscan died of signal {:?}\n{stderr}",
        status.signal()
    );
    Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&out_path).unwrap(),
        stderr,
    }
}

/// The run ended with exit 2, an error naming `object`, no panic, and
/// still found `secret`.
fn damaged_but_scanned(r: &Run, what: &str, object: &str, secret: &str) {
    assert_eq!(
        r.code, 2,
        "{what}: want exit 2\n--- stdout\n{}\n--- stderr\n{}",
        r.stdout, r.stderr
    );
    assert!(
        r.stderr.contains(object),
        "{what}: the error does not name {object}:\n{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("panicked"),
        "{what}: panic\n{}",
        r.stderr
    );
    let found: Vec<String> = r
        .findings()
        .iter()
        .filter_map(|f| f["secret"].as_str().map(str::to_string))
        .collect();
    assert!(
        found.iter().any(|s| s == secret),
        "{what}: the secret elsewhere was not found (found {} findings)\n{}",
        found.len(),
        r.stderr
    );
}

/// A version 2 index: (ids in sorted order, 31-bit offsets).
fn read_idx(idx: &[u8]) -> (Vec<[u8; 20]>, Vec<u64>) {
    let n = u32::from_be_bytes(idx[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
    let ids = (0..n)
        .map(|i| idx[1032 + i * 20..1052 + i * 20].try_into().unwrap())
        .collect();
    let base = 1032 + n * 24;
    let offs = (0..n)
        .map(|i| {
            u64::from(u32::from_be_bytes(
                idx[base + i * 4..base + i * 4 + 4].try_into().unwrap(),
            ))
        })
        .collect();
    (ids, offs)
}

/// Index position of `hex`, and where its 4-byte offset sits in the file.
fn idx_slot(idx: &[u8], hex: &str) -> usize {
    let (ids, _) = read_idx(idx);
    let pos = ids
        .iter()
        .position(|id| hex::encode(id) == hex)
        .expect("object in the index");
    1032 + ids.len() * 24 + pos * 4
}

fn entry_header(code: u8, mut size: u64) -> Vec<u8> {
    let mut first = (code << 4) | (size & 15) as u8;
    size >>= 4;
    let mut out = Vec::new();
    while size != 0 {
        out.push(first | 0x80);
        first = (size & 0x7f) as u8;
        size >>= 7;
    }
    out.push(first);
    out
}

/// Rewrites a delta-free pack (and its index) with `victim`'s entry header
/// replaced by `header`; everything else is kept byte for byte.
fn rewrite_pack(pack: &Path, idx: &Path, victim: &str, header: Vec<u8>) {
    rewrite_entry(pack, idx, victim, header, None)
}

/// Like `rewrite_pack`, replacing the entry's data too when `body` is given.
fn rewrite_entry(pack: &Path, idx: &Path, victim: &str, header: Vec<u8>, body: Option<Vec<u8>>) {
    let data = std::fs::read(pack).unwrap();
    let ix = std::fs::read(idx).unwrap();
    let (ids, offs) = read_idx(&ix);
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| offs[i]);
    let mut out = data[..12].to_vec();
    let mut new_offs = vec![0u64; ids.len()];
    for (k, &i) in order.iter().enumerate() {
        let start = offs[i] as usize;
        let end = order
            .get(k + 1)
            .map_or(data.len() - 20, |&j| offs[j] as usize);
        // Skip the old header (its size varint).
        let mut h = start;
        while data[h] & 0x80 != 0 {
            h += 1;
        }
        h += 1;
        assert!(data[start] >> 4 & 7 <= 4, "the pack has deltas");
        new_offs[i] = out.len() as u64;
        if hex::encode(ids[i]) == victim {
            out.extend_from_slice(&header);
            match &body {
                Some(b) => out.extend_from_slice(b),
                None => out.extend_from_slice(&data[h..end]),
            }
        } else {
            out.extend_from_slice(&data[start..end]);
        }
    }
    let sum = Sha1::digest(&out);
    out.extend_from_slice(&sum);
    let mut nix = ix[..1032 + ids.len() * 24].to_vec();
    for o in &new_offs {
        nix.extend_from_slice(&(*o as u32).to_be_bytes());
    }
    nix.extend_from_slice(&sum);
    let isum = Sha1::digest(&nix);
    nix.extend_from_slice(&isum);
    std::fs::write(pack, out).unwrap();
    std::fs::write(idx, nix).unwrap();
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
    let mut out = vec![0; c.zlib_compress_bound(data.len())];
    let n = c.zlib_compress(data, &mut out).unwrap();
    out.truncate(n);
    out
}

/// A repository whose first commit holds a secret in `secret.env` and whose
/// second changes `data.txt`; the damage goes to `data.txt`'s second blob.
/// Returns the repository, the secret and that blob's id.
fn two_commits(seed: u64) -> (Hostile, String, String) {
    let h = Hostile::new();
    let secret = fake::github_pat(seed);
    h.write("secret.env", format!("TOKEN={secret}\n"));
    h.write("data.txt", "first version of some data\n".repeat(50));
    h.commit("one");
    h.write("data.txt", "second version of some data\n".repeat(50));
    h.commit("two");
    let victim = h.git(&["rev-parse", "HEAD:data.txt"]);
    (h, secret, victim)
}

/// Stages a change to `data.txt` (so `staged` reads HEAD's damaged blob)
/// and a new secret in another file: returns that secret.
fn stage_over_damage(h: &Hostile, seed: u64) -> String {
    let secret = fake::github_pat(seed);
    h.write("data.txt", "third version of some data\n".repeat(50));
    h.write("new.env", format!("TOKEN={secret}\n"));
    h.git(&["add", "-A"]);
    secret
}

// Item 10: an .idx offset past the end of the pack (libgit2 dereferenced it:
// SIGSEGV in git_packfile_unpack_header).
#[test]
fn hostile_idx_offset_past_the_pack_end() {
    let (h, secret, victim) = two_commits(901);
    let (pack, idx) = h.repack();
    let pack_len = std::fs::metadata(&pack).unwrap().len() as u32;
    let mut ix = std::fs::read(&idx).unwrap();
    let slot = idx_slot(&ix, &victim);
    ix[slot..slot + 4].copy_from_slice(&(pack_len + 4096).to_be_bytes());
    std::fs::write(&idx, &ix).unwrap();
    for reader in ["on", "off"] {
        let r = h.history(reader);
        damaged_but_scanned(&r, &format!("history, reader {reader}"), &victim, &secret);
        assert!(r.stderr.contains("outside the pack"), "{}", r.stderr);
    }
    let staged_secret = stage_over_damage(&h, 902);
    let r = h.staged();
    damaged_but_scanned(&r, "staged", &victim, &staged_secret);
}

// Item 4: a corrupt .idx that resolves the branch tip's id to a blob's entry
// made `history --all` exit 0 having scanned nothing.
#[test]
fn hostile_idx_resolving_a_branch_to_a_blob() {
    let h = Hostile::new();
    let secret = fake::github_pat(903);
    h.write("secret.env", format!("TOKEN={secret}\n"));
    h.commit("one");
    h.git(&["branch", "side"]);
    h.write("x.txt", "an ordinary file\n");
    h.commit("two");
    let tip = h.git(&["rev-parse", "main"]);
    let blob = h.git(&["rev-parse", "main:x.txt"]);
    let (_, idx) = h.repack();
    let mut ix = std::fs::read(&idx).unwrap();
    let (a, b) = (idx_slot(&ix, &tip), idx_slot(&ix, &blob));
    let (oa, ob) = (ix[a..a + 4].to_vec(), ix[b..b + 4].to_vec());
    ix[a..a + 4].copy_from_slice(&ob);
    ix[b..b + 4].copy_from_slice(&oa);
    std::fs::write(&idx, &ix).unwrap();
    for reader in ["on", "off"] {
        let r = h.history(reader);
        damaged_but_scanned(&r, &format!("history, reader {reader}"), &tip, &secret);
        assert!(
            r.stderr.contains("refs/heads/main") && r.stderr.contains("not a commit"),
            "{}",
            r.stderr
        );
    }
}

// Item 11: a truncated loose tree made libgit2 loop in inflate forever
// (history and the pre-commit hook hung).
#[test]
fn hostile_truncated_loose_tree() {
    let h = Hostile::new();
    let secret = fake::github_pat(904);
    h.write("secret.env", format!("TOKEN={secret}\n"));
    h.commit("one");
    h.write("sub/file.txt", "a file in a directory\n".repeat(20));
    h.write("sub/more.txt", "another\n");
    h.commit("two");
    let tree = h.git(&["rev-parse", "HEAD:sub"]);
    let p = h.loose(&tree);
    let raw = std::fs::read(&p).unwrap();
    std::fs::write(&p, &raw[..raw.len() / 2]).unwrap();
    for reader in ["on", "off"] {
        let r = h.history(reader);
        damaged_but_scanned(&r, &format!("history, reader {reader}"), &tree, &secret);
    }
    let staged_secret = fake::github_pat(905);
    h.write("sub/file.txt", "changed\n");
    h.write("new.env", format!("TOKEN={staged_secret}\n"));
    h.git(&["add", "-A"]);
    let r = h.staged();
    assert_eq!(r.code, 2, "staged: want exit 2\n{}", r.stderr);
    assert!(r.stderr.contains(&tree), "staged: {}", r.stderr);
}

// Item 12: a pack entry header claiming ~4 GiB took 3 GB of memory, then the
// OOM killer. Runs are capped at 3 GiB of address space (`guarded`).
#[test]
fn hostile_entry_header_claiming_4_gib() {
    let (h, secret, victim) = two_commits(906);
    let (pack, idx) = h.repack();
    rewrite_pack(&pack, &idx, &victim, entry_header(3, (4u64 << 30) - 7));
    for reader in ["on", "off"] {
        let r = h.history(reader);
        damaged_but_scanned(&r, &format!("history, reader {reader}"), &victim, &secret);
    }
    let staged_secret = stage_over_damage(&h, 907);
    let r = h.staged();
    damaged_but_scanned(&r, "staged", &victim, &staged_secret);
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

// Item 12: a delta announcing a 2 GiB result was a 2 GiB allocation in
// libgit2 before any instruction ran. The guard reads the delta's two sizes
// (inflating its first bytes) and refuses a result its instructions could
// not produce, and a base size that is not its base's.
#[test]
fn hostile_delta_claiming_a_huge_result() {
    let base_len = 27 * 50;
    for (seed, claim, base_claim, says) in [
        (912, 2u64 << 30, base_len, "more than its"),
        (914, 100, base_len + 1, "-byte base, but its base has"),
    ] {
        let (h, secret, victim) = two_commits(seed);
        let base = h.git(&["rev-parse", "HEAD~1:data.txt"]);
        let (pack, idx) = h.repack();
        // A REF_DELTA on the first data.txt: copy its first 100 bytes.
        let mut delta = Vec::new();
        varint(base_claim, &mut delta);
        varint(claim, &mut delta);
        delta.extend_from_slice(&[0x90, 100]);
        let mut body = hex::decode(&base).unwrap();
        body.extend_from_slice(&zlib(&delta));
        rewrite_entry(
            &pack,
            &idx,
            &victim,
            entry_header(7, delta.len() as u64),
            Some(body),
        );
        for reader in ["on", "off"] {
            let r = h.history(reader);
            damaged_but_scanned(&r, &format!("history, reader {reader}"), &victim, &secret);
            assert!(r.stderr.contains(says), "{says}: {}", r.stderr);
        }
        let staged_secret = stage_over_damage(&h, seed + 1);
        let r = h.staged();
        damaged_but_scanned(&r, "staged", &victim, &staged_secret);
        assert!(r.stderr.contains(says), "{says}: {}", r.stderr);
    }
}

// Item 9: an unknown object type made git2 panic (odb.rs) and the rest of
// the scan was lost: a pack entry of type 5 (reserved), and a loose object
// whose header says `ofs-delta` (a type libgit2 parses but git2 does not
// map).
#[test]
fn hostile_unknown_object_type_in_a_pack() {
    let (h, secret, victim) = two_commits(908);
    let (pack, idx) = h.repack();
    let size = 28 * 50;
    rewrite_pack(&pack, &idx, &victim, entry_header(5, size));
    for reader in ["on", "off"] {
        let r = h.history(reader);
        damaged_but_scanned(&r, &format!("history, reader {reader}"), &victim, &secret);
    }
    let staged_secret = stage_over_damage(&h, 909);
    let r = h.staged();
    damaged_but_scanned(&r, "staged", &victim, &staged_secret);
}

#[test]
fn hostile_unknown_object_type_loose() {
    let (h, secret, victim) = two_commits(910);
    let p = h.loose(&victim);
    std::fs::write(&p, zlib(b"ofs-delta 5\0hello")).unwrap();
    for reader in ["on", "off"] {
        let r = h.history(reader);
        damaged_but_scanned(&r, &format!("history, reader {reader}"), &victim, &secret);
        assert!(r.stderr.contains("unknown object type"), "{}", r.stderr);
    }
    let staged_secret = stage_over_damage(&h, 911);
    let r = h.staged();
    damaged_but_scanned(&r, "staged", &victim, &staged_secret);
}

// A loose object whose header claims far more than the file can hold.
#[test]
fn hostile_loose_object_claiming_4_gib() {
    let (h, secret, victim) = two_commits(912);
    let p = h.loose(&victim);
    std::fs::write(&p, zlib(b"blob 4294967290\0hello")).unwrap();
    for reader in ["on", "off"] {
        let r = h.history(reader);
        damaged_but_scanned(&r, &format!("history, reader {reader}"), &victim, &secret);
    }
}

// Item 11 in the hook: HEAD's root tree truncated.
#[test]
fn hostile_truncated_head_root_tree_in_staged() {
    let h = Hostile::new();
    h.write("a.txt", "some text\n".repeat(30));
    h.commit("one");
    let root = h.git(&["rev-parse", "HEAD^{tree}"]);
    let p = h.loose(&root);
    let raw = std::fs::read(&p).unwrap();
    std::fs::write(&p, &raw[..raw.len() / 2]).unwrap();
    h.write("new.env", format!("TOKEN={}\n", fake::github_pat(913)));
    h.git(&["add", "new.env"]);
    let r = h.staged();
    assert_eq!(r.code, 2, "staged: want exit 2\n{}", r.stderr);
    assert!(r.stderr.contains(&root), "staged: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

/// Every crash the fuzzers found (`fuzz/regressions/TARGET/*`) replayed
/// through the same entry point as its fuzz target: none may panic or abort.
#[test]
fn fuzz_regressions_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    type Target = (&'static str, fn(&[u8]));
    let targets: [Target; 10] = [
        ("index", leakscan::fuzzing::index),
        ("pack_index", leakscan::fuzzing::pack_index),
        ("pack_entry", leakscan::fuzzing::pack_entry),
        ("loose_object", leakscan::fuzzing::loose_object),
        ("delta", leakscan::fuzzing::delta),
        ("tree", leakscan::fuzzing::tree),
        ("reftable", leakscan::fuzzing::reftable),
        ("config", leakscan::fuzzing::config),
        ("baseline", leakscan::fuzzing::baseline),
        ("matcher", leakscan::fuzzing::matcher),
    ];
    let mut replayed = 0;
    for (name, f) in targets {
        let Ok(dir) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        for e in dir {
            let data = std::fs::read(e.unwrap().path()).unwrap();
            f(&data);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no regression files under {}", root.display());
}

// #18 item 6: one byte inserted inside an .idx's offset table. libgit2 still
// takes the file (it allows up to 8 × (n - 1) extra bytes for the 64-bit
// offset table) and followed the shifted offsets out of the pack: SIGSEGV in
// git_packfile_unpack_header, with the pack reader on and off. The guard
// used to skip an index it could not parse instead of refusing it.
#[test]
fn byte_inserted_in_idx_offset_table() {
    let (h, _secret, _victim) = two_commits(1861);
    let (_pack, idx) = h.repack();
    let clean = std::fs::read(&idx).unwrap();
    let n = u32::from_be_bytes(clean[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
    let table = 1032 + n * 24;
    for k in (0..n * 4).step_by(3) {
        let mut ix = clean.clone();
        ix.insert(table + k, 0x7f);
        std::fs::write(&idx, &ix).unwrap();
        for reader in ["on", "off"] {
            let r = h.history(reader);
            assert_eq!(r.code, 2, "byte at {k}, reader {reader}:\n{}", r.stderr);
            assert!(
                r.stderr.contains(".idx") && r.stderr.contains("size does not fit"),
                "byte at {k}, reader {reader}: the error does not name the index:\n{}",
                r.stderr
            );
        }
    }
    // A 64-bit offset entry that points past the pack is caught too.
    let mut ix = clean.clone();
    ix[table..table + 4].copy_from_slice(&0x8000_0000u32.to_be_bytes());
    let end = ix.len() - 40;
    ix.splice(end..end, (1u64 << 40).to_be_bytes());
    std::fs::write(&idx, &ix).unwrap();
    for reader in ["on", "off"] {
        let r = h.history(reader);
        assert_eq!(r.code, 2, "64-bit offset, reader {reader}:\n{}", r.stderr);
        assert!(r.stderr.contains("outside the pack"), "{}", r.stderr);
    }
}

/// A SHA-256 repository, packed, with a secret in one file and a larger
/// file whose blob is the victim: (repository, secret, victim's id, pack).
fn sha256_packed(seed: u64) -> (crate::git_formats::GitRepo, String, String, PathBuf) {
    let repo = crate::git_formats::GitRepo::init(&["--object-format=sha256"]);
    let secret = fake::github_pat(seed);
    repo.write("secret.env", format!("TOKEN={secret}\n"));
    repo.write("data.txt", "first version of some data\n".repeat(50));
    repo.commit("one");
    repo.write("data.txt", "second version of some data\n".repeat(50));
    repo.commit("two");
    repo.git(&["repack", "-adq"]);
    let victim = repo.git(&["rev-parse", "HEAD:data.txt"]).trim().to_string();
    let pack = std::fs::read_dir(repo.join(".git/objects/pack"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .unwrap();
    (repo, secret, victim, pack)
}

fn sha256_history(repo: &crate::git_formats::GitRepo, reader: &str) -> Run {
    let mut cmd = leakscan();
    cmd.args(["history", "--all", "--format", "json", "--show-secrets"])
        .env("LEAKSCAN_PACK_READER", reader)
        .current_dir(repo.path());
    guarded(cmd)
}

/// A SHA-256 pack whose blob's zlib stream is damaged: `history` (pack
/// reader and one object at a time, our own readers either way) exits 2
/// naming the blob, and still finds the secret in the other file.
#[test]
fn hostile_damaged_blob_in_a_sha256_pack() {
    let (repo, secret, victim, pack) = sha256_packed(911);
    let idx = pack.with_extension("idx");
    let listing = Command::new("git")
        .args(["show-index", "--object-format=sha256"])
        .stdin(std::fs::File::open(&idx).unwrap())
        .output()
        .unwrap();
    let listing = String::from_utf8(listing.stdout).unwrap();
    let off: usize = listing
        .lines()
        .find(|l| l.contains(&victim))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    make_writable(&pack);
    let mut data = std::fs::read(&pack).unwrap();
    // Past the entry header (a few bytes) and the zlib header: the stream.
    for b in &mut data[off + 6..off + 14] {
        *b ^= 0x5a;
    }
    std::fs::write(&pack, &data).unwrap();
    for reader in ["on", "off"] {
        let r = sha256_history(&repo, reader);
        damaged_but_scanned(
            &r,
            &format!("sha256 history, reader {reader}"),
            &victim,
            &secret,
        );
    }
}

/// Every few bytes of a SHA-256 pack and of its index changed in turn:
/// `history` ends with an exit code (0, 1 or 2), never a panic, a signal, a
/// hang or a runaway allocation (`guarded`).
#[test]
fn hostile_sha256_pack_and_index_bytes_changed_in_turn() {
    let (repo, _secret, _victim, pack) = sha256_packed(912);
    for file in [pack.clone(), pack.with_extension("idx")] {
        make_writable(&file);
        let good = std::fs::read(&file).unwrap();
        let step = good.len() / 12 + 1;
        for at in (0..good.len()).step_by(step) {
            let mut bad = good.clone();
            bad[at] ^= 0xa5;
            std::fs::write(&file, &bad).unwrap();
            for reader in ["on", "off"] {
                let r = sha256_history(&repo, reader);
                assert!(
                    matches!(r.code, 0..=2) && !r.stderr.contains("panicked"),
                    "byte {at} of {}: exit {}\n{}",
                    file.display(),
                    r.code,
                    r.stderr
                );
            }
        }
        std::fs::write(&file, &good).unwrap();
    }
}

/// A commit stored whole in a pack (read past libgit2, by the guard) whose
/// zlib stream is damaged: an error naming it, as when libgit2 read it, and
/// the secret on another branch is still found.
#[test]
fn hostile_packed_commit_whose_stream_is_damaged() {
    let h = Hostile::new();
    let secret = fake::github_pat(931);
    h.write("secret.env", format!("TOKEN={secret}\n"));
    h.commit("one");
    h.git(&["branch", "side"]);
    h.write("x.txt", "an ordinary file\n");
    h.commit("two");
    let tip = h.git(&["rev-parse", "main"]);
    let size: u64 = h.git(&["cat-file", "-s", &tip]).parse().unwrap();
    let (pack, idx) = h.repack();
    rewrite_entry(
        &pack,
        &idx,
        &tip,
        entry_header(1, size),
        Some(b"\x78\x9cnot a deflate stream at all".to_vec()),
    );
    for reader in ["on", "off"] {
        let r = h.history(reader);
        damaged_but_scanned(&r, &format!("history, reader {reader}"), &tip, &secret);
    }
}

/// The pre-receive hook over a repository where an existing branch's commit
/// is damaged in the pack: the walk that hides known history cannot read it,
/// and the push is refused (it could not be checked), never accepted with
/// that branch's history treated as new or as known unread.
#[test]
fn hostile_known_branch_commit_damaged_refuses_the_push() {
    let srv = crate::fixture::Server::new();
    let h = Hostile::new();
    h.write("README.md", "hello\n");
    h.commit("one");
    h.git(&["branch", "side"]);
    h.write("side.txt", "on the side\n");
    h.git(&["add", "-A"]);
    h.git(&["commit", "-q", "-m", "side", "--allow-empty"]);
    h.git(&["push", "-q", &srv.url(), "main", "HEAD:refs/heads/side"]);
    let side = srv.git(&["rev-parse", "side"]).trim().to_string();
    let main = srv.git(&["rev-parse", "main"]).trim().to_string();
    let size: u64 = srv.git(&["cat-file", "-s", &side]).trim().parse().unwrap();
    let tree = srv.git(&["rev-parse", "main^{tree}"]).trim().to_string();
    let new = srv
        .git(&["commit-tree", &tree, "-p", &main, "-m", "new"])
        .trim()
        .to_string();
    srv.git(&["repack", "-adfq", "--window=0", "--depth=0"]);
    let pack = std::fs::read_dir(srv.path.join("objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("a pack");
    let idx = pack.with_extension("idx");
    make_writable(&pack);
    make_writable(&idx);
    rewrite_entry(
        &pack,
        &idx,
        &side,
        entry_header(1, size),
        Some(b"\x78\x9cnot a deflate stream at all".to_vec()),
    );
    let mut c = leakscan();
    c.current_dir(&srv.path)
        .env("GIT_DIR", &srv.path)
        .env("NO_COLOR", "1")
        .arg("pre-receive")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{main} {new} refs/heads/main").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("could not be checked"), "{err}");
    assert!(err.contains(&side), "the error names the commit: {err}");
}
