//! The delta forest of a `PackSet`, and decoding objects by walking it.
//!
//! Each delta points at its base; turned around, every whole object is the
//! root of a tree of deltas. To decode a set of wanted objects, `select`
//! marks the wanted ones and every base on their chains, and `Walker::walk`
//! goes down from one root at a time: it inflates the root, applies each
//! marked child's delta to it, recurses (with an explicit stack: chains can
//! be thousands long in a hostile pack), and drops a base once its last
//! marked child is done. So every marked object is inflated exactly once
//! and only the current chain is held in memory. Roots are independent, so
//! callers can hand them to different threads.

use super::{delta, Inflater, PackSet};

const NONE: u32 = u32::MAX;

/// Delta relations of every object in a `PackSet`.
pub struct Forest {
    /// Each object's base, or `NONE` for a whole object.
    base: Vec<u32>,
    /// The object's type (1–4; a delta has its root's type), or 0 when it
    /// cannot be decoded from the packs (broken entry, base missing,
    /// cycle).
    kind: Vec<u8>,
    /// The root each object's chain starts from (`NONE` when `kind` is 0).
    root: Vec<u32>,
    /// The inflated size the entry header gives (a delta's own size).
    size: Vec<u64>,
    /// Where the entry's zlib stream starts in its pack.
    data: Vec<u64>,
    /// Deltas of object `i`: `children[child_start[i]..child_start[i + 1]]`.
    child_start: Vec<u32>,
    children: Vec<u32>,
}

impl Forest {
    pub fn build(packs: &PackSet) -> Forest {
        let n = packs.len();
        let mut base = vec![NONE; n];
        let mut kind = vec![0u8; n];
        let mut size = vec![0u64; n];
        let mut data = vec![0u64; n];
        let mut roots = Vec::new();
        for num in 0..n as u32 {
            // An unreadable header leaves kind 0: the object is left to
            // libgit2, which reports the damage.
            let Ok((h, b)) = packs.header(num) else {
                continue;
            };
            size[num as usize] = h.size;
            data[num as usize] = h.data as u64;
            match b {
                Some(b) => base[num as usize] = b,
                None => {
                    kind[num as usize] = h.code;
                    roots.push(num);
                }
            }
        }
        let mut child_start = vec![0u32; n + 1];
        for &b in &base {
            if b != NONE {
                child_start[b as usize + 1] += 1;
            }
        }
        for i in 0..n {
            child_start[i + 1] += child_start[i];
        }
        let mut fill = child_start.clone();
        let mut children = vec![0u32; child_start[n] as usize];
        for (num, &b) in base.iter().enumerate() {
            if b != NONE {
                children[fill[b as usize] as usize] = num as u32;
                fill[b as usize] += 1;
            }
        }
        // Types and roots, breadth-first from the whole objects: a delta
        // never reached (its chain is broken or loops) keeps kind 0.
        let mut root = vec![NONE; n];
        let mut queue = roots;
        for &r in &queue {
            root[r as usize] = r;
        }
        let mut head = 0;
        while let Some(&x) = queue.get(head) {
            head += 1;
            let (k, r) = (kind[x as usize], root[x as usize]);
            for &c in
                &children[child_start[x as usize] as usize..child_start[x as usize + 1] as usize]
            {
                if root[c as usize] == NONE {
                    kind[c as usize] = k;
                    root[c as usize] = r;
                    queue.push(c);
                }
            }
        }
        Forest {
            base,
            kind,
            root,
            size,
            data,
            child_start,
            children,
        }
    }

    pub fn len(&self) -> usize {
        self.kind.len()
    }

    /// The object's type code (1 commit, 2 tree, 3 blob, 4 tag), or 0 when
    /// it cannot be decoded from the packs.
    pub fn kind(&self, num: u32) -> u8 {
        self.kind[num as usize]
    }

    /// An entry's inflated size and zlib stream.
    fn entry<'p>(&self, packs: &'p PackSet, num: u32) -> (u64, &'p [u8]) {
        let n = num as usize;
        (self.size[n], packs.stream_from(num, self.data[n] as usize))
    }

    fn children(&self, num: u32) -> &[u32] {
        &self.children
            [self.child_start[num as usize] as usize..self.child_start[num as usize + 1] as usize]
    }

    /// Marks `wanted` and the bases their chains need. Wanted objects that
    /// cannot be decoded from the packs are returned in `Selection::missing`.
    pub fn select(&self, wanted: impl IntoIterator<Item = u32>) -> Selection {
        let n = self.len();
        let mut sel = Selection {
            wanted: vec![false; n],
            needed: vec![false; n],
            roots: Vec::new(),
            missing: Vec::new(),
        };
        let mut weight: Vec<u64> = Vec::new();
        let mut root_slot = std::collections::HashMap::new();
        for w in wanted {
            let wi = w as usize;
            if wi >= n || sel.wanted[wi] {
                continue;
            }
            if self.kind[wi] == 0 {
                sel.missing.push(w);
                continue;
            }
            sel.wanted[wi] = true;
            // Mark the chain up to the first object already marked.
            let mut x = w;
            while !sel.needed[x as usize] {
                sel.needed[x as usize] = true;
                let b = self.base[x as usize];
                if b == NONE {
                    break;
                }
                x = b;
            }
            let r = self.root[wi];
            let slot = *root_slot.entry(r).or_insert_with(|| {
                sel.roots.push(r);
                weight.push(0);
                weight.len() - 1
            });
            // Deltas are usually close to their root in size.
            weight[slot] += self.size[r as usize] + 64;
        }
        // Heaviest first, so the last jobs handed out are small ones.
        let mut order: Vec<usize> = (0..sel.roots.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(weight[i]), sel.roots[i]));
        sel.roots = order.into_iter().map(|i| sel.roots[i]).collect();
        sel
    }
}

/// What to decode: wanted objects, the bases they need, and the roots to
/// start from.
pub struct Selection {
    wanted: Vec<bool>,
    needed: Vec<bool>,
    /// Roots with something wanted below them, heaviest first.
    pub roots: Vec<u32>,
    /// Wanted objects the packs cannot give (read them another way).
    pub missing: Vec<u32>,
}

/// What `Walker::walk` reports for each wanted object.
pub enum Event<'a> {
    /// The object's bytes, and the object it was decoded from (its delta
    /// base, visited before it when wanted).
    Object { data: &'a [u8], base: Option<u32> },
    /// Larger than the walk's size limit; not decoded.
    TooLarge(u64),
    /// Could not be decoded from the packs; read it another way.
    /// Read by tests; the pipeline retries the object through libgit2,
    /// whose error is the one reported.
    #[allow(dead_code)]
    Failed(&'a str),
}

/// Limits for one walk.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wanted objects larger than this are reported as `TooLarge`.
    pub max_size: u64,
    /// Bases larger than this are not decoded (their deltas fail).
    pub max_base: u64,
}

/// One thread's decoding state: a zlib stream and spare buffers.
#[derive(Default)]
pub struct Walker {
    inflater: Inflater,
    delta: Vec<u8>,
    spare: Vec<Vec<u8>>,
}

/// Why an object (and so everything below it) could not be decoded.
struct Failure {
    msg: String,
    /// The object itself was already reported (as too large).
    self_reported: bool,
}

impl Failure {
    fn new(msg: String) -> Failure {
        Failure {
            msg,
            self_reported: false,
        }
    }

    fn below(msg: String) -> Failure {
        Failure {
            msg,
            self_reported: true,
        }
    }
}

struct Frame {
    num: u32,
    data: Vec<u8>,
    /// Next child to look at.
    next: usize,
}

impl Walker {
    /// Decodes every wanted object below `root`, calling `visit` for each
    /// with the object's number.
    pub fn walk(
        &mut self,
        packs: &PackSet,
        forest: &Forest,
        sel: &Selection,
        root: u32,
        limits: Limits,
        visit: &mut dyn FnMut(u32, Event<'_>),
    ) {
        let mut stack: Vec<Frame> = Vec::new();
        match self.decode_root(packs, forest, sel, root, limits, visit) {
            Ok(Some(data)) => stack.push(Frame {
                num: root,
                data,
                next: 0,
            }),
            Ok(None) => {}
            Err(f) => self.fail_below(forest, sel, root, f, visit),
        }
        while let Some(top) = stack.last_mut() {
            let kids = forest.children(top.num);
            let Some(i) = (top.next..kids.len()).find(|&i| sel.needed[kids[i] as usize]) else {
                let done = stack.pop().expect("stack is not empty");
                self.recycle(done.data);
                continue;
            };
            top.next = i + 1;
            let c = kids[i];
            let base = (top.num, &top.data[..]);
            match self.decode_delta(packs, forest, sel, c, base, limits, visit) {
                Ok(Some(data)) => stack.push(Frame {
                    num: c,
                    data,
                    next: 0,
                }),
                Ok(None) => {}
                Err(f) => self.fail_below(forest, sel, c, f, visit),
            }
        }
    }

    /// Whether `num` has marked deltas, i.e. must be kept while they are
    /// decoded.
    fn has_needed_children(forest: &Forest, sel: &Selection, num: u32) -> bool {
        forest.children(num).iter().any(|&c| sel.needed[c as usize])
    }

    /// Inflates a whole object; returns it when it must be kept as a base.
    fn decode_root(
        &mut self,
        packs: &PackSet,
        forest: &Forest,
        sel: &Selection,
        num: u32,
        limits: Limits,
        visit: &mut dyn FnMut(u32, Event<'_>),
    ) -> Result<Option<Vec<u8>>, Failure> {
        let (size, stream) = forest.entry(packs, num);
        let keep = Self::has_needed_children(forest, sel, num);
        let wanted = sel.wanted[num as usize];
        if (!keep || size > limits.max_base) && size > limits.max_size {
            if wanted {
                visit(num, Event::TooLarge(size));
            }
            if keep {
                return Err(Failure::below(format!("base of {size} bytes not decoded")));
            }
            return Ok(None);
        }
        let mut out = self.spare.pop().unwrap_or_default();
        if let Err(e) = self.inflater.inflate(stream, size as usize, &mut out) {
            self.recycle(out);
            return Err(Failure::new(e));
        }
        if wanted {
            if size > limits.max_size {
                visit(num, Event::TooLarge(size));
            } else {
                visit(
                    num,
                    Event::Object {
                        data: &out,
                        base: None,
                    },
                );
            }
        }
        self.keep_or_recycle(keep, out)
    }

    /// Inflates a delta and applies it to `base`.
    #[allow(clippy::too_many_arguments)]
    fn decode_delta(
        &mut self,
        packs: &PackSet,
        forest: &Forest,
        sel: &Selection,
        num: u32,
        (base_num, base): (u32, &[u8]),
        limits: Limits,
        visit: &mut dyn FnMut(u32, Event<'_>),
    ) -> Result<Option<Vec<u8>>, Failure> {
        let (size, stream) = forest.entry(packs, num);
        if size > limits.max_base.max(limits.max_size).saturating_mul(2) + 1024 {
            return Err(Failure::new(format!("delta of {size} bytes not decoded")));
        }
        let mut d = std::mem::take(&mut self.delta);
        let r = self
            .inflater
            .inflate(stream, size as usize, &mut d)
            .map_err(Failure::new);
        let out = r.and_then(|()| {
            let (base_size, target, _) =
                delta::sizes(&d).map_err(|e| Failure::new(e.to_string()))?;
            if base_size != base.len() as u64
                || target > delta::max_target(d.len() as u64, base_size)
            {
                // Damage (left to the checked libgit2 path, which names it),
                // not an object too large to scan.
                return Err(Failure::new("bad delta: impossible sizes".to_string()));
            }
            let keep = Self::has_needed_children(forest, sel, num);
            let wanted = sel.wanted[num as usize];
            if (!keep || target > limits.max_base) && target > limits.max_size {
                if wanted {
                    visit(num, Event::TooLarge(target));
                }
                if keep {
                    return Err(Failure::below(format!(
                        "base of {target} bytes not decoded"
                    )));
                }
                return Ok(None);
            }
            let mut out = self.spare.pop().unwrap_or_default();
            if let Err(e) = delta::apply(base, &d, &mut out) {
                self.recycle(out);
                return Err(Failure::new(e.to_string()));
            }
            if wanted {
                if target > limits.max_size {
                    visit(num, Event::TooLarge(target));
                } else {
                    visit(
                        num,
                        Event::Object {
                            data: &out,
                            base: Some(base_num),
                        },
                    );
                }
            }
            self.keep_or_recycle(keep, out)
        });
        self.delta = d;
        out
    }

    fn keep_or_recycle(&mut self, keep: bool, out: Vec<u8>) -> Result<Option<Vec<u8>>, Failure> {
        if keep {
            Ok(Some(out))
        } else {
            self.recycle(out);
            Ok(None)
        }
    }

    /// Keeps a few buffers of moderate size for the next objects.
    fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < 8 && buf.capacity() <= 16 << 20 {
            self.spare.push(buf);
        }
    }

    /// Reports every wanted object below `num` as failed, and `num` itself
    /// unless it was already reported.
    fn fail_below(
        &mut self,
        forest: &Forest,
        sel: &Selection,
        num: u32,
        f: Failure,
        visit: &mut dyn FnMut(u32, Event<'_>),
    ) {
        let mut todo = vec![num];
        while let Some(x) = todo.pop() {
            if sel.wanted[x as usize] && (x != num || !f.self_reported) {
                visit(x, Event::Failed(&f.msg));
            }
            todo.extend(
                forest
                    .children(x)
                    .iter()
                    .copied()
                    .filter(|&c| sel.needed[c as usize]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A repository whose files change a little in every commit, so that
    /// `git repack` stores most versions as deltas.
    fn repo_with_deltas() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        let mut text: Vec<String> = (0..400)
            .map(|i| format!("line {i} of a text that changes\n"))
            .collect();
        for c in 0..30 {
            text[(c * 37) % 400] = format!("edited in commit {c}\n");
            text.push(format!("appended in commit {c}\n"));
            std::fs::write(d.join("a.txt"), text.concat()).unwrap();
            std::fs::write(d.join("b.txt"), text[..200 + c].concat()).unwrap();
            std::fs::create_dir_all(d.join(format!("dir{}", c % 3))).unwrap();
            std::fs::write(
                d.join(format!("dir{}/f{c}.txt", c % 3)),
                format!("file {c}\n"),
            )
            .unwrap();
            git(d, &["add", "-A"]);
            git(d, &["commit", "-q", "-m", &format!("commit {c}")]);
        }
        dir
    }

    /// Decodes every object of the packs through the forest and checks each
    /// against libgit2's reading of the same object; the packs must hold
    /// enough objects and deltas for that to mean something.
    fn check_every_object(git_dir: &Path) {
        let packs = PackSet::open(git_dir);
        assert!(packs.skipped.is_empty(), "{:?}", packs.skipped);
        let forest = Forest::build(&packs);
        assert!((0..forest.len() as u32).all(|n| forest.kind(n) != 0));
        let sel = forest.select(0..forest.len() as u32);
        assert!(sel.missing.is_empty());
        let repo = git2::Repository::open(git_dir).unwrap();
        let odb = repo.odb().unwrap();
        let mut seen = vec![false; forest.len()];
        let mut deltas = 0;
        let mut walker = Walker::default();
        let limits = Limits {
            max_size: 1 << 30,
            max_base: 1 << 30,
        };
        for &root in &sel.roots {
            walker.walk(&packs, &forest, &sel, root, limits, &mut |num, ev| {
                let Event::Object { data, base } = ev else {
                    panic!("object {num} not decoded")
                };
                deltas += usize::from(base.is_some());
                let obj = odb.read(packs.oid(num).to_git2().unwrap()).unwrap();
                assert_eq!(obj.data(), data, "object {}", packs.oid(num));
                let code = match obj.kind() {
                    git2::ObjectType::Commit => super::super::COMMIT,
                    git2::ObjectType::Tree => super::super::TREE,
                    git2::ObjectType::Blob => super::super::BLOB,
                    _ => super::super::TAG,
                };
                assert_eq!(forest.kind(num), code);
                assert!(!seen[num as usize], "object {num} decoded twice");
                seen[num as usize] = true;
            });
        }
        assert!(seen.iter().all(|&s| s), "every object decoded");
        let objects = forest.len();
        assert!(
            objects > 150 && deltas > 40,
            "{objects} objects, {deltas} deltas"
        );
    }

    #[test]
    fn decodes_every_object_like_libgit2_with_offset_deltas() {
        let dir = repo_with_deltas();
        git(
            dir.path(),
            &["repack", "-adfq", "--depth=20", "--window=50"],
        );
        check_every_object(&dir.path().join(".git"));
    }

    #[test]
    fn decodes_every_object_like_libgit2_with_ref_deltas() {
        let dir = repo_with_deltas();
        let d = dir.path();
        let list = Command::new("git")
            .args(["rev-list", "--objects", "--all"])
            .current_dir(d)
            .output()
            .unwrap();
        let ids: String = String::from_utf8(list.stdout)
            .unwrap()
            .lines()
            .map(|l| format!("{}\n", &l[..40]))
            .collect();
        let pack_dir = d.join(".git/objects/pack");
        let mut child = Command::new("git")
            .args([
                "pack-objects",
                "-q",
                "--no-delta-base-offset",
                "--window=50",
            ])
            .arg(pack_dir.join("pack"))
            .current_dir(d)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), ids.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
        git(d, &["prune-packed"]);
        check_every_object(&d.join(".git"));
    }

    #[test]
    fn wanted_objects_only_and_size_limits() {
        let dir = repo_with_deltas();
        git(
            dir.path(),
            &["repack", "-adfq", "--depth=20", "--window=50"],
        );
        let git_dir = dir.path().join(".git");
        let packs = PackSet::open(&git_dir);
        let forest = Forest::build(&packs);
        let blobs: Vec<u32> = (0..forest.len() as u32)
            .filter(|&n| forest.kind(n) == super::super::BLOB)
            .collect();
        let sel = forest.select(blobs.iter().copied());
        let mut walker = Walker::default();
        // A limit below the larger files: those are reported, not decoded,
        // and the rest still decode (bases up to `max_base` are kept).
        let limits = Limits {
            max_size: 4000,
            max_base: 1 << 20,
        };
        let (mut small, mut large) = (0, 0);
        for &root in &sel.roots {
            walker.walk(&packs, &forest, &sel, root, limits, &mut |num, ev| {
                assert_eq!(forest.kind(num), super::super::BLOB);
                match ev {
                    Event::Object { data, .. } => {
                        assert!(data.len() <= 4000);
                        small += 1;
                    }
                    Event::TooLarge(n) => {
                        assert!(n > 4000);
                        large += 1;
                    }
                    Event::Failed(e) => panic!("{e}"),
                }
            });
        }
        assert_eq!(small + large, blobs.len());
        assert!(small >= 30 && large >= 30, "{small} small, {large} large");
        // Bases too large to keep: their deltas fail (to be read elsewhere).
        let limits = Limits {
            max_size: 4000,
            max_base: 4000,
        };
        let mut failed = 0;
        for &root in &sel.roots {
            walker.walk(&packs, &forest, &sel, root, limits, &mut |_, ev| {
                failed += usize::from(matches!(ev, Event::Failed(_)));
            });
        }
        assert!(failed > 0);
    }
}
