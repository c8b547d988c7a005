//! A packed blob too large to hold, opened as a stream (`BlobStream`):
//! a whole entry is inflated as it is read, and a delta chain is applied
//! as it is read, in a fixed window of memory whatever the blob's size.
//! `git repack`/`gc` deltify blobs under `core.bigFileThreshold` (512 MiB)
//! and a hostile pack can deltify anything, so huge blobs do come as deltas.
//!
//! How a chain streams: each level (the whole object at the bottom, then
//! each delta going up) is a forward reader. A delta's instructions are
//! inflated as they are followed; a copy reads its range from the level
//! below, which moves forward to the copy's offset (skipping a copy's range
//! costs nothing: only its offset moves) or, when the offset lies behind
//! it, starts over from its beginning. Before anything is read every delta
//! is checked as `delta::apply` checks it (instructions parsed whole, every
//! copy inside its base, the result exactly the size announced, the stream
//! exactly the entry's size; each base's size the size of the level below),
//! and the backward copies counted: the bottom is inflated at most
//! `MAX_PASSES` times in all, or the chain is not streamed. Chains deeper
//! than `MAX_DEPTH` (each level holds an inflater) are not streamed either:
//! those blobs are read whole, as before.

use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use flate2::bufread::ZlibDecoder;

use super::oid::ObjectId as Oid;
use super::pack::{self, Base};
use super::stream::BlobStream;

/// Deeper delta chains are read whole (each level holds an inflater and an
/// 8 KiB buffer: ~60 KiB).
pub const MAX_DEPTH: usize = 250;

/// The most times a streamed chain's levels may be read from their start,
/// over the whole read: the product over the deltas of (backward copies +
/// 1). A chain needing more is read whole.
pub const MAX_PASSES: u64 = 16;

/// The entries a chain is followed through: packs' bytes, and where a base
/// named by id lies.
pub(crate) trait Packs<'a> {
    /// Pack `p`'s bytes, cut before its trailing checksum.
    fn pack(&self, p: usize) -> &'a [u8];
    /// The length of the repository's ids.
    fn hash(&self) -> usize;
    /// Where object `id` is packed (pack, offset), looking in pack `from`
    /// first; `None`: in no pack.
    fn find(&self, id: &Oid, from: usize) -> Option<Result<(usize, u64), String>>;
    /// The object directories a loose base may lie in.
    fn dirs(&self) -> &[PathBuf];
}

/// The bottom of a chain: a whole object.
enum Bottom<'a> {
    /// A whole pack entry: its zlib stream inflates to `size` bytes.
    Packed { zlib: &'a [u8], size: u64 },
    /// A loose object (a `REF_DELTA` base in no pack).
    Loose { id: Oid, path: PathBuf, size: u64 },
}

impl Bottom<'_> {
    fn size(&self) -> u64 {
        match self {
            Bottom::Packed { size, .. } | Bottom::Loose { size, .. } => *size,
        }
    }
}

/// One delta of a chain.
struct Delta<'a> {
    /// Its zlib stream, inflating to `len` bytes of delta.
    zlib: &'a [u8],
    len: u64,
    /// The sizes it announces.
    base: u64,
    target: u64,
}

/// Blob `oid`, at offset `off` of pack `p`, as a stream when it is larger
/// than `over`: a whole entry, or a delta chain (see the module's
/// paragraph). `None`: not a blob, not larger than `over`, or a chain that
/// is not streamed (read it whole). Errors name the entry at fault.
pub(crate) fn open<'a>(
    src: &impl Packs<'a>,
    oid: Oid,
    mut p: usize,
    mut off: u64,
    over: u64,
) -> Result<Option<BlobStream<'a>>, String> {
    // Down the chain, top first.
    let mut deltas: Vec<Delta<'a>> = Vec::new();
    let bottom = loop {
        if deltas.len() > MAX_DEPTH {
            return Ok(None);
        }
        let data = src.pack(p);
        let at = usize::try_from(off)
            .ok()
            .filter(|&o| o >= 12 && o < data.len())
            .ok_or_else(|| format!("entry offset {off} lies outside the pack"))?;
        let h = pack::parse_header(data, at, src.hash())
            .map_err(|e| format!("entry at offset {off}: {e}"))?;
        let zlib = &data[h.data..];
        if h.size > pack::max_inflated(zlib.len()) {
            return Err(format!(
                "entry at offset {off} claims {} bytes, more than the pack can hold",
                h.size
            ));
        }
        let id = match h.base {
            Base::None if h.code == pack::BLOB => {
                break Bottom::Packed { zlib, size: h.size };
            }
            // Not a blob: read whole (which names its type).
            Base::None => return Ok(None),
            Base::Offset(o) => {
                off = o;
                None
            }
            Base::Id(id) => Some(id),
        };
        let (base, target) = pack::delta::sizes_in_stream(zlib)
            .map_err(|e| format!("delta at offset {off}: {e}"))?;
        if deltas.is_empty() && target <= over {
            return Ok(None);
        }
        deltas.push(Delta {
            zlib,
            len: h.size,
            base,
            target,
        });
        if let Some(id) = id {
            match src.find(&id, p) {
                Some(found) => (p, off) = found.map_err(|e| format!("delta base {id}: {e}"))?,
                None => match loose_base(src.dirs(), id)? {
                    Some(b) => break b,
                    None => return Ok(None),
                },
            }
        }
    };
    let Some(top) = deltas.first() else {
        return Ok((bottom.size() > over).then(|| match bottom {
            Bottom::Packed { zlib, size } => BlobStream::packed(oid, size, zlib),
            Bottom::Loose { .. } => unreachable!("a loose bottom is a delta's base"),
        }));
    };
    let size = top.target;
    deltas.reverse();
    let Some(apply) = Apply::new(oid, bottom, deltas)? else {
        return Ok(None);
    };
    Ok(Some(BlobStream::delta(oid, size, Box::new(apply))))
}

/// A `REF_DELTA` base found in no pack: the loose object, which must be a
/// blob (`None`: another type; the whole read reports it).
fn loose_base<'a>(dirs: &[PathBuf], id: Oid) -> Result<Option<Bottom<'a>>, String> {
    let hex = id.to_string();
    for dir in dirs {
        let path = dir.join(&hex[..2]).join(&hex[2..]);
        match open_loose(id, &path) {
            Ok(Some(s)) => {
                return Ok(Some(Bottom::Loose {
                    id,
                    path,
                    size: s.size(),
                }))
            }
            Ok(None) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("delta base {id}: {e}")),
        }
    }
    Err(format!("delta base {id} not found"))
}

fn open_loose(id: Oid, path: &std::path::Path) -> io::Result<Option<BlobStream<'static>>> {
    let f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let bound = pack::max_inflated(usize::try_from(len).unwrap_or(usize::MAX));
    BlobStream::loose(id, Box::new(BufReader::new(f)), bound)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.0))
}

/// A delta instruction in progress.
#[derive(Clone, Copy)]
enum Op {
    Copy { off: u64, left: u64 },
    Insert { left: u64 },
}

/// The delta instructions of one level, inflated as they are followed.
type Instructions<'a> = BufReader<io::Take<ZlibDecoder<&'a [u8]>>>;

enum State<'a> {
    Bottom(BlobStream<'a>),
    Delta {
        ins: Instructions<'a>,
        op: Option<Op>,
    },
}

struct Level<'a> {
    state: State<'a>,
    /// Bytes of this level given (read or skipped) since its start.
    pos: u64,
    /// Times this level was started, and the most it may be.
    passes: u64,
    budget: u64,
}

/// A delta chain applied as a stream (level 0 the bottom, the last level
/// the blob).
pub(crate) struct Apply<'a> {
    oid: Oid,
    bottom: Bottom<'a>,
    deltas: Vec<Delta<'a>>,
    levels: Vec<Level<'a>>,
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn byte(r: &mut impl BufRead) -> io::Result<Option<u8>> {
    let b = match r.fill_buf()?.first() {
        Some(&b) => b,
        None => return Ok(None),
    };
    r.consume(1);
    Ok(Some(b))
}

fn varint(r: &mut impl BufRead) -> io::Result<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let b = byte(r)?.ok_or_else(|| bad("truncated size".into()))?;
        if shift > 56 {
            return Err(bad("size too large".into()));
        }
        value |= u64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
}

/// The next instruction (`None` at the end of the stream), decoded as
/// `delta::apply` decodes it.
fn next_op(r: &mut impl BufRead) -> io::Result<Option<Op>> {
    let Some(cmd) = byte(r)? else {
        return Ok(None);
    };
    if cmd & 0x80 != 0 {
        let (mut off, mut size) = (0u64, 0u64);
        for i in 0..7 {
            if cmd & (1 << i) != 0 {
                let b = byte(r)?.ok_or_else(|| bad("truncated copy".into()))?;
                if i < 4 {
                    off |= u64::from(b) << (8 * i);
                } else {
                    size |= u64::from(b) << (8 * (i - 4));
                }
            }
        }
        if size == 0 {
            size = 0x10000;
        }
        Ok(Some(Op::Copy { off, left: size }))
    } else if cmd != 0 {
        Ok(Some(Op::Insert {
            left: u64::from(cmd),
        }))
    } else {
        Err(bad("reserved instruction 0".into()))
    }
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

impl Delta<'_> {
    /// Checks the whole delta (as `delta::apply` would accept it) and
    /// counts its backward copies: copies starting before the end of the
    /// previous one.
    fn check(&self) -> Result<u64, String> {
        let z = Counted {
            inner: ZlibDecoder::new(self.zlib).take(self.len.saturating_add(1)),
            n: 0,
        };
        let mut r = BufReader::with_capacity(8 << 10, z);
        let e = |e: io::Error| e.to_string();
        if varint(&mut r).map_err(e)? != self.base || varint(&mut r).map_err(e)? != self.target {
            return Err("its sizes change between two reads".into());
        }
        let (mut made, mut at, mut back) = (0u64, 0u64, 0u64);
        while let Some(op) = next_op(&mut r).map_err(e)? {
            let n = match op {
                Op::Copy { off, left } => {
                    if off.checked_add(left).map_or(true, |end| end > self.base) {
                        return Err("bad delta: copy outside the base".into());
                    }
                    if off < at {
                        back += 1;
                    }
                    at = off + left;
                    left
                }
                Op::Insert { left } => {
                    let got = io::copy(&mut (&mut r).take(left), &mut io::sink()).map_err(e)?;
                    if got != left {
                        return Err("bad delta: truncated insert".into());
                    }
                    left
                }
            };
            made += n;
            if made > self.target {
                return Err("bad delta: target larger than announced".into());
            }
        }
        if made != self.target {
            return Err("bad delta: target smaller than announced".into());
        }
        let inflated = r.get_ref().n;
        if inflated != self.len {
            return Err(format!(
                "its delta inflates to {inflated}{} bytes, the entry says {}",
                if inflated > self.len { " or more" } else { "" },
                self.len
            ));
        }
        Ok(back)
    }
}

impl<'a> Apply<'a> {
    /// The chain `deltas` (bottom up) over `bottom`, checked (see the
    /// module's paragraph); `None` when it needs more than `MAX_PASSES`.
    fn new(
        oid: Oid,
        bottom: Bottom<'a>,
        deltas: Vec<Delta<'a>>,
    ) -> Result<Option<Apply<'a>>, String> {
        let mut below = bottom.size();
        let mut backs = Vec::with_capacity(deltas.len());
        for (i, d) in deltas.iter().enumerate() {
            let which = || {
                format!(
                    "delta {} of {} in its chain",
                    deltas.len() - i,
                    deltas.len()
                )
            };
            if d.base != below || d.target > pack::delta::max_target(d.len, d.base) {
                return Err(format!("{}: its sizes do not fit its base", which()));
            }
            backs.push(d.check().map_err(|e| format!("{}: {e}", which()))?);
            below = d.target;
        }
        // The top is read once; each level is started at most once more
        // per backward copy of the level above, per pass of that level.
        let mut budgets = vec![1u64; deltas.len() + 1];
        for i in (0..deltas.len()).rev() {
            budgets[i] = budgets[i + 1].saturating_mul(backs[i] + 1);
            if budgets[i] > MAX_PASSES {
                return Ok(None);
            }
        }
        let mut a = Apply {
            oid,
            bottom,
            deltas,
            levels: Vec::new(),
        };
        for (i, budget) in budgets.into_iter().enumerate() {
            let state = a.fresh(i).map_err(|e| e.to_string())?;
            a.levels.push(Level {
                state,
                pos: 0,
                passes: 1,
                budget,
            });
        }
        Ok(Some(a))
    }

    /// Level `i` from its start.
    fn fresh(&self, i: usize) -> io::Result<State<'a>> {
        if i == 0 {
            return Ok(State::Bottom(match &self.bottom {
                Bottom::Packed { zlib, size } => BlobStream::packed(self.oid, *size, zlib),
                Bottom::Loose { id, path, size } => match open_loose(*id, path)? {
                    Some(s) if s.size() == *size => s,
                    _ => return Err(bad(format!("delta base {id} changed while read"))),
                },
            }));
        }
        let d = &self.deltas[i - 1];
        let mut ins = BufReader::with_capacity(8 << 10, ZlibDecoder::new(d.zlib).take(d.len));
        varint(&mut ins)?;
        varint(&mut ins)?;
        Ok(State::Delta { ins, op: None })
    }

    /// Reads from the top level.
    pub(crate) fn read_top(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read(self.levels.len() - 1, buf)
    }

    fn read(&mut self, i: usize, buf: &mut [u8]) -> io::Result<usize> {
        let n = loop {
            let (off, left) = match &mut self.levels[i].state {
                State::Bottom(s) => break s.read(buf)?,
                State::Delta { ins, op } => match *op {
                    None => {
                        *op = next_op(ins)?;
                        if op.is_none() {
                            return Ok(0);
                        }
                        continue;
                    }
                    Some(Op::Insert { left }) => {
                        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                        let n = ins.read(&mut buf[..want])?;
                        if n == 0 {
                            return Err(bad("bad delta: truncated insert".into()));
                        }
                        *op = (left > n as u64).then_some(Op::Insert {
                            left: left - n as u64,
                        });
                        break n;
                    }
                    Some(Op::Copy { off, left }) => (off, left),
                },
            };
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            self.seek(i - 1, off)?;
            let n = self.read(i - 1, &mut buf[..want])?;
            if n == 0 {
                return Err(bad("bad delta: copy outside the base".into()));
            }
            if let State::Delta { op, .. } = &mut self.levels[i].state {
                *op = (left > n as u64).then_some(Op::Copy {
                    off: off + n as u64,
                    left: left - n as u64,
                });
            }
            break n;
        };
        self.levels[i].pos += n as u64;
        Ok(n)
    }

    /// Moves level `i` to offset `to`: forward by skipping, backward by
    /// starting it over.
    fn seek(&mut self, i: usize, to: u64) -> io::Result<()> {
        if to < self.levels[i].pos {
            let fresh = self.fresh(i)?;
            let l = &mut self.levels[i];
            l.passes += 1;
            if l.passes > l.budget {
                return Err(bad(format!(
                    "object {}: its delta chain reads level {i} more than the {} times counted",
                    self.oid, l.budget
                )));
            }
            l.state = fresh;
            l.pos = 0;
        }
        let mut n = to - self.levels[i].pos;
        while n > 0 {
            let l = &mut self.levels[i];
            let k = match &mut l.state {
                State::Bottom(s) => io::copy(&mut s.by_ref().take(n), &mut io::sink())?,
                State::Delta { ins, op } => match *op {
                    None => {
                        *op = next_op(ins)?;
                        if op.is_none() {
                            return Err(bad("bad delta: copy outside the base".into()));
                        }
                        continue;
                    }
                    Some(Op::Insert { left }) => {
                        let k = io::copy(&mut ins.by_ref().take(left.min(n)), &mut io::sink())?;
                        *op = (left > k).then_some(Op::Insert { left: left - k });
                        k
                    }
                    // A skipped copy reads nothing from its base.
                    Some(Op::Copy { off, left }) => {
                        let k = left.min(n);
                        *op = (left > k).then_some(Op::Copy {
                            off: off + k,
                            left: left - k,
                        });
                        k
                    }
                },
            };
            if k == 0 {
                return Err(bad("bad delta: copy outside the base".into()));
            }
            l.pos += k;
            n -= k;
        }
        Ok(())
    }
}

/// The fuzzing check of `open` on a pack's bytes (`data`, after its
/// 12-byte header): the entry at each of the first offsets opened as a
/// stream, every blob however small (a base named by id is in no pack and
/// no directory), and read, at most 1 MiB of it: an error or exactly the
/// bytes it declares, never a panic.
pub fn fuzz_open(data: &[u8]) {
    struct One<'a>(&'a [u8]);
    impl<'a> Packs<'a> for One<'a> {
        fn pack(&self, _: usize) -> &'a [u8] {
            self.0
        }
        fn hash(&self) -> usize {
            20
        }
        fn find(&self, _: &Oid, _: usize) -> Option<Result<(usize, u64), String>> {
            None
        }
        fn dirs(&self) -> &[PathBuf] {
            &[]
        }
    }
    const MAX: u64 = 1 << 20;
    // A pack header, then the input: entries at the input's first offsets.
    let mut pack = b"PACK\0\0\0\x02\0\0\0\x01".to_vec();
    pack.extend_from_slice(data);
    for off in 12..pack.len().min(12 + 36) {
        if let Ok(Some(s)) = open(&One(&pack), Oid::zero(), 0, off as u64, 0) {
            let size = s.size();
            let mut out = Vec::new();
            if s.take(MAX).read_to_end(&mut out).is_ok() {
                assert_eq!(
                    out.len() as u64,
                    size.min(MAX),
                    "streamed the declared size"
                );
            }
        }
    }
}

/// `levels` copies of one delta (zlib stream `zdelta`, `len` bytes
/// inflated, base size `b`, target size `t`) over a whole bottom (zlib
/// stream `zbase` of `size` bytes), applied as a stream and read to the end.
/// `Err`: refused before reading; `Ok(None)`: not streamed (too many passes).
fn read_levels(
    zbase: &[u8],
    size: u64,
    zdelta: &[u8],
    len: u64,
    (b, t): (u64, u64),
    levels: usize,
) -> Result<Option<io::Result<Vec<u8>>>, String> {
    let bottom = Bottom::Packed { zlib: zbase, size };
    let deltas = (0..levels)
        .map(|_| Delta {
            zlib: zdelta,
            len,
            base: b,
            target: t,
        })
        .collect();
    Ok(Apply::new(Oid::zero(), bottom, deltas)?.map(|a| {
        let mut out = Vec::new();
        BlobStream::delta(Oid::zero(), t, Box::new(a))
            .read_to_end(&mut out)
            .map(|_| out)
    }))
}

/// The fuzzing check of streamed delta application: `delta` applied to
/// `base` by `delta::apply` and as a stream (once, and twice when its
/// result can be its own base) give the same bytes, and a delta one
/// refuses the other refuses. Panics on a disagreement.
pub fn fuzz_streamed_equals_whole(base: &[u8], delta: &[u8]) {
    use std::io::Write;
    let z = |d: &[u8]| {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(d).expect("in memory");
        e.finish().expect("in memory")
    };
    let (zbase, zdelta) = (z(base), z(delta));
    let mut whole = Vec::new();
    let once = pack::delta::apply(base, delta, &mut whole).map(|()| whole.clone());
    let twice = once.clone().and_then(|mid| {
        let mut out = Vec::new();
        pack::delta::apply(&mid, delta, &mut out).map(|()| out)
    });
    let Ok((b, t, _)) = pack::delta::sizes(delta) else {
        assert!(once.is_err(), "sizes unreadable but applied");
        return;
    };
    for (levels, want) in [(1, once), (2, twice)] {
        if levels == 2 && b != t {
            continue;
        }
        let streamed = read_levels(
            &zbase,
            base.len() as u64,
            &zdelta,
            delta.len() as u64,
            (b, t),
            levels,
        );
        match (want, streamed) {
            (Ok(w), Ok(Some(Ok(out)))) => assert!(w == out, "streamed and whole results differ"),
            (Ok(_), Ok(None)) => {} // too many backward copies: read whole
            (Ok(_), s) => panic!(
                "{levels} level(s): applied whole, refused streamed: {:?}",
                s.map(|o| o.map(|r| r.map(|v| v.len())))
            ),
            (Err(_), Ok(Some(Ok(_)))) => panic!("{levels} level(s): refused whole, streamed"),
            (Err(_), _) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::git::pack::delta::tests::varint_bytes;

    /// A delta of copies `(offset, size)` (inserts: `(u64::MAX, byte)`).
    fn delta(base: u64, ops: &[(u64, u64)]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut target = 0;
        for &(off, size) in ops {
            if off == u64::MAX {
                body.extend_from_slice(&[1, size as u8]);
                target += 1;
                continue;
            }
            let mut cmd = 0x80u8;
            let mut args = Vec::new();
            for i in 0..4 {
                let b = (off >> (8 * i)) as u8;
                if b != 0 {
                    cmd |= 1 << i;
                    args.push(b);
                }
            }
            for i in 0..3 {
                let b = (size >> (8 * i)) as u8;
                if b != 0 {
                    cmd |= 0x10 << i;
                    args.push(b);
                }
            }
            body.push(cmd);
            body.extend_from_slice(&args);
            target += size;
        }
        let mut d = Vec::new();
        varint_bytes(base, &mut d);
        varint_bytes(target, &mut d);
        d.extend_from_slice(&body);
        d
    }

    fn zlib(d: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::ZlibEncoder::new(d, flate2::Compression::fast())
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    /// `delta` applied `levels` times over `base` as a stream: `None` when
    /// not streamed, else the bytes or the error.
    fn streamed(base: &[u8], delta: &[u8], levels: usize) -> Option<Result<Vec<u8>, String>> {
        let (zbase, zdelta) = (zlib(base), zlib(delta));
        let (b, t, _) = pack::delta::sizes(delta).unwrap();
        match read_levels(
            &zbase,
            base.len() as u64,
            &zdelta,
            delta.len() as u64,
            (b, t),
            levels,
        ) {
            Err(e) => Some(Err(e)),
            Ok(None) => None,
            Ok(Some(r)) => Some(r.map_err(|e| e.to_string())),
        }
    }

    #[test]
    fn chains_stream_as_they_apply_whole_backward_copies_included() {
        let base: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = |base: &[u8], d: &[u8]| {
            let mut out = Vec::new();
            pack::delta::apply(base, d, &mut out).map(|()| out)
        };
        // Forward copies and an insert.
        let forward = delta(
            300_000,
            &[
                (0, 100_000),
                (u64::MAX, u64::from(b'X')),
                (100_000, 199_999),
            ],
        );
        assert_eq!(
            streamed(&base, &forward, 1),
            Some(Ok(whole(&base, &forward).unwrap()))
        );
        // A copy that goes back: the base is read twice; two levels of it
        // (the result is the next one's base): the bottom four times.
        let backward = delta(
            300_000,
            &[
                (200_000, 100_000),
                (0, 150_000),
                (u64::MAX, u64::from(b'!')),
                (150_000, 49_999),
            ],
        );
        let once = whole(&base, &backward).unwrap();
        assert_eq!(streamed(&base, &backward, 1), Some(Ok(once.clone())));
        let twice = whole(&once, &backward).unwrap();
        assert_eq!(streamed(&base, &backward, 2), Some(Ok(twice)));
        fuzz_streamed_equals_whole(&base, &backward);
        // Damage: refused before anything is read, naming the problem.
        let outside = delta(300_000, &[(250_000, 60_000)]);
        let e = streamed(&base, &outside, 1).unwrap().unwrap_err();
        assert!(e.contains("copy outside the base"), "{e}");
        let mut short = forward.clone();
        short.pop();
        let e = streamed(&base, &short, 1).unwrap().unwrap_err();
        assert!(e.contains("truncated copy"), "{e}");
        let e = streamed(&base[1..], &forward, 1).unwrap().unwrap_err();
        assert!(e.contains("sizes do not fit"), "{e}");
        fuzz_streamed_equals_whole(&base, &short);
    }

    /// Random deltas (copies anywhere in the base, inserts, then one byte
    /// changed or cut in half of them) over random bases, one and two
    /// levels: streamed and whole agree on every one.
    #[test]
    fn random_deltas_stream_as_they_apply_whole() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n.max(1)
        };
        let mut streamed_ok = 0;
        for round in 0..1500 {
            let len = next(5000) + 1;
            let base: Vec<u8> = (0..len).map(|_| next(4) as u8).collect();
            let mut ops = Vec::new();
            for _ in 0..next(12) {
                if next(3) == 0 {
                    ops.push((u64::MAX, next(256)));
                } else {
                    let off = next(len);
                    ops.push((off, next(len - off) + 1));
                }
            }
            let mut d = delta(len, &ops);
            match round % 4 {
                0 if !d.is_empty() => {
                    let at = next(d.len() as u64) as usize;
                    d[at] ^= 1 << next(8);
                }
                1 => d.truncate(next(d.len() as u64 + 1) as usize),
                _ => {}
            }
            fuzz_streamed_equals_whole(&base, &d);
            if let Some(Ok(_)) = pack::delta::sizes(&d)
                .ok()
                .and_then(|_| streamed(&base, &d, 1))
            {
                streamed_ok += 1;
            }
        }
        assert!(streamed_ok > 500, "only {streamed_ok} streamed");
    }

    #[test]
    fn too_many_backward_copies_are_not_streamed() {
        let base = vec![7u8; 1000];
        // 39 backward copies: 40 passes of the base.
        let ops: Vec<(u64, u64)> = (0..40).map(|i| ((39 - i) * 20, 20)).collect();
        assert_eq!(streamed(&base, &delta(1000, &ops), 1), None);
        // 15 of them: 16 passes, streamed.
        let d = delta(1000, &ops[24..]);
        let mut out = Vec::new();
        pack::delta::apply(&base, &d, &mut out).unwrap();
        assert_eq!(streamed(&base, &d, 1), Some(Ok(out)));
    }
}
