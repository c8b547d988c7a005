//! Git's delta format: a base object plus a delta gives the target object.
//!
//! A delta starts with the base's size and the target's size (little-endian
//! base-128 varints), then instructions: a byte with the high bit set copies
//! a range of the base (which offset and size bytes follow is given by its
//! low seven bits; a size of zero means 64 KiB); a byte from 1 to 127 inserts
//! that many literal bytes; a zero byte is reserved and an error.

/// Why a delta could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaError(pub &'static str);

impl std::fmt::Display for DeltaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad delta: {}", self.0)
    }
}

/// Reads the two sizes at the start of a delta: (base size, target size,
/// where the instructions begin).
pub fn sizes(delta: &[u8]) -> Result<(u64, u64, usize), DeltaError> {
    let mut pos = 0;
    let base = varint(delta, &mut pos)?;
    let target = varint(delta, &mut pos)?;
    Ok((base, target, pos))
}

/// The base and target sizes at the start of a delta's zlib stream
/// (`stream`: the pack from the entry's data on), inflating only its first
/// bytes.
pub fn sizes_in_stream(stream: &[u8]) -> Result<(u64, u64), String> {
    // Two varints of at most 10 bytes each.
    let mut head = [0u8; 20];
    let (got, code) =
        zlib_rs::decompress_slice(&mut head, stream, zlib_rs::InflateConfig::default());
    use zlib_rs::ReturnCode::{BufError, Ok as Done, StreamEnd};
    if !matches!(code, Done | StreamEnd | BufError) {
        return Err(format!("its stream does not inflate ({code:?})"));
    }
    let (base, target, _) = sizes(got).map_err(|e| e.to_string())?;
    Ok((base, target))
}

/// The most bytes a delta of `len` bytes can produce from a base of `base`
/// bytes: an instruction copies at most the whole base (and at most 16 MiB)
/// and takes at least one byte; an insertion gives less than it takes. A
/// larger announced target is damage, and must not become an allocation.
pub fn max_target(len: u64, base: u64) -> u64 {
    len.saturating_mul(base.clamp(1, 0x100_0000))
}

fn varint(d: &[u8], pos: &mut usize) -> Result<u64, DeltaError> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let &b = d.get(*pos).ok_or(DeltaError("truncated size"))?;
        *pos += 1;
        if shift > 56 {
            return Err(DeltaError("size too large"));
        }
        value |= u64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
}

/// Applies `delta` to `base`, replacing the contents of `out` with the
/// target. Every copy is bounds-checked and the result must have exactly
/// the size the delta announces.
pub fn apply(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Result<(), DeltaError> {
    let (base_size, target_size, mut pos) = sizes(delta)?;
    if base_size != base.len() as u64 {
        return Err(DeltaError("base size mismatch"));
    }
    let target_size = usize::try_from(target_size).map_err(|_| DeltaError("target too large"))?;
    out.clear();
    // The announced size is only a claim (found by fuzzing: a 17-byte delta
    // announcing 2^49 bytes aborted on allocation). Reserve what the delta
    // can plausibly produce; the output still grows to its real size, and
    // never past the claim.
    out.reserve_exact(target_size.min(base.len().saturating_add(delta.len())));
    while pos < delta.len() {
        let cmd = delta[pos];
        pos += 1;
        if cmd & 0x80 != 0 {
            let mut offset = 0usize;
            let mut size = 0usize;
            for i in 0..4 {
                if cmd & (1 << i) != 0 {
                    let &b = delta.get(pos).ok_or(DeltaError("truncated copy"))?;
                    pos += 1;
                    offset |= usize::from(b) << (8 * i);
                }
            }
            for i in 0..3 {
                if cmd & (0x10 << i) != 0 {
                    let &b = delta.get(pos).ok_or(DeltaError("truncated copy"))?;
                    pos += 1;
                    size |= usize::from(b) << (8 * i);
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            let src = offset
                .checked_add(size)
                .and_then(|end| base.get(offset..end))
                .ok_or(DeltaError("copy outside the base"))?;
            if out.len() + size > target_size {
                return Err(DeltaError("target larger than announced"));
            }
            out.extend_from_slice(src);
        } else if cmd != 0 {
            let n = usize::from(cmd);
            let lit = delta
                .get(pos..pos + n)
                .ok_or(DeltaError("truncated insert"))?;
            if out.len() + n > target_size {
                return Err(DeltaError("target larger than announced"));
            }
            out.extend_from_slice(lit);
            pos += n;
        } else {
            return Err(DeltaError("reserved instruction 0"));
        }
    }
    if out.len() != target_size {
        return Err(DeltaError("target smaller than announced"));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A delta header size as git writes it (also used by `git::chain`'s
    /// tests).
    pub(crate) fn varint_bytes(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// A delta made of the given copies `(offset, size)` and inserts.
    enum Op<'a> {
        Copy(usize, usize),
        Insert(&'a [u8]),
    }

    fn encode(base_len: usize, target_len: usize, ops: &[Op<'_>]) -> Vec<u8> {
        let mut d = Vec::new();
        varint_bytes(base_len as u64, &mut d);
        varint_bytes(target_len as u64, &mut d);
        for op in ops {
            match *op {
                Op::Copy(off, size) => {
                    let mut cmd = 0x80u8;
                    let mut args = Vec::new();
                    for i in 0..4 {
                        let b = (off >> (8 * i)) as u8;
                        if b != 0 {
                            cmd |= 1 << i;
                            args.push(b);
                        }
                    }
                    let size = if size == 0x10000 { 0 } else { size };
                    for i in 0..3 {
                        let b = (size >> (8 * i)) as u8;
                        if b != 0 {
                            cmd |= 0x10 << i;
                            args.push(b);
                        }
                    }
                    d.push(cmd);
                    d.extend(args);
                }
                Op::Insert(lit) => {
                    d.push(lit.len() as u8);
                    d.extend_from_slice(lit);
                }
            }
        }
        d
    }

    #[test]
    fn copies_and_inserts() {
        let base = b"hello, world. goodbye, world.";
        let delta = encode(
            base.len(),
            26,
            &[Op::Copy(0, 7), Op::Insert(b"brave new"), Op::Copy(12, 10)],
        );
        let mut out = Vec::new();
        apply(base, &delta, &mut out).unwrap();
        assert_eq!(out, b"hello, brave new. goodbye,");
    }

    #[test]
    fn size_zero_means_64_kib_and_offsets_use_four_bytes() {
        let mut base = vec![0u8; 0x30000];
        for (i, b) in base.iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        let delta = encode(
            base.len(),
            0x10000 + 3,
            &[Op::Copy(0x10001, 0x10000), Op::Insert(b"end")],
        );
        let mut out = Vec::new();
        apply(&base, &delta, &mut out).unwrap();
        assert_eq!(&out[..0x10000], &base[0x10001..0x20001]);
        assert_eq!(&out[0x10000..], b"end");
    }

    #[test]
    fn a_huge_announced_target_is_not_allocated() {
        // fuzz/regressions/delta/crash-4ab695ec…: base empty, target 2^49-1.
        let delta = [
            0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x43, 0x43, 0x2c, 0xff, 0x6e, 0xff,
            0x6e,
        ];
        let mut out = Vec::new();
        let err = apply(b"", &delta, &mut out).unwrap_err();
        assert_eq!(err.0, "truncated insert");
        assert!(out.capacity() < 1 << 20, "reserved {}", out.capacity());
    }

    #[test]
    fn rejects_bad_deltas() {
        let base = b"0123456789";
        let mut out = Vec::new();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (encode(9, 3, &[Op::Copy(0, 3)]), "base size mismatch"),
            (encode(10, 3, &[Op::Copy(8, 3)]), "copy outside the base"),
            (
                encode(10, 2, &[Op::Copy(0, 3)]),
                "target larger than announced",
            ),
            (
                encode(10, 5, &[Op::Copy(0, 3)]),
                "target smaller than announced",
            ),
            (
                encode(10, 4, &[Op::Insert(b"abcd")])[..5].to_vec(),
                "truncated insert",
            ),
            (
                {
                    let mut d = encode(10, 1, &[]);
                    d.push(0);
                    d
                },
                "reserved instruction 0",
            ),
            (vec![0x80], "truncated size"),
            (vec![0xff; 12], "size too large"),
        ];
        for (delta, want) in cases {
            let err = apply(base, &delta, &mut out).unwrap_err();
            assert_eq!(err.0, want, "delta {delta:?}");
        }
    }
}
