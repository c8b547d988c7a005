//! An Aho-Corasick DFA over the keywords' grams, walked on four interleaved
//! streams of the haystack.
//!
//! A DFA walk is bound by the latency of one dependent table load per byte;
//! four independent walks over four quarters of the haystack overlap those
//! loads. The grams are at most six bytes long, so the automaton is small
//! (about 3,000 states for the built-in rules, the deep ones seldom visited)
//! and its hot rows stay in the L1 cache. The built-in rules' automaton is built by `build.rs` and used
//! in place from static tables (`StaticDfa`): building it took ~6 M
//! instructions, paid at every start-up. State ids are premultiplied by the
//! row length, so a step is one add and one load.

use std::borrow::Cow;

/// Streams walked at once.
const STREAMS: usize = 4;
/// Below this, interleaving does not pay for its setup.
const MIN_INTERLEAVED: usize = 256;

pub struct GramDfa {
    classes: [u8; 256],
    /// `trans[state + class]` = next state; states are premultiplied.
    trans: Table,
    /// Stored ids are premultiplied ids shifted right by this (0 to 3).
    shift: u32,
    /// States at or above this are match states.
    first_match: u32,
    stride: u32,
    /// For match state `first_match + i * stride`: the grams that end there,
    /// `match_grams[match_bounds[i]..match_bounds[i + 1]]`.
    match_bounds: Cow<'static, [u32]>,
    match_grams: Cow<'static, [u32]>,
    start: u32,
    max_len: usize,
}

/// A `GramDfa` as static tables (`build.rs` writes the built-in rules' one);
/// exactly one of `trans16` / `trans32` is non-empty.
pub struct StaticDfa {
    pub classes: [u8; 256],
    pub trans16: &'static [u16],
    pub trans32: &'static [u32],
    pub shift: u32,
    pub first_match: u32,
    pub stride: u32,
    pub match_bounds: &'static [u32],
    pub match_grams: &'static [u32],
    pub start: u32,
    pub max_len: usize,
}

/// The transition table in u16 when every stored id fits (premultiplied ids
/// shifted right by up to 3: the built-in rules' automaton is about 3,000
/// states × 50 classes, stored with a shift of 2), which halves its cache
/// footprint; u32 otherwise.
enum Table {
    U16(Cow<'static, [u16]>),
    U32(Cow<'static, [u32]>),
}

const NONE: u32 = u32::MAX;

impl GramDfa {
    /// Builds from lower-cased grams; matching is ASCII case-insensitive.
    pub fn new(grams: &[Vec<u8>]) -> Result<GramDfa, String> {
        // Byte classes: bytes in no gram behave alike (class 0); so do both
        // cases of a letter.
        let mut classes = [0u8; 256];
        let mut n_classes = 1usize;
        for g in grams {
            for &b in g {
                let lo = b.to_ascii_lowercase();
                if classes[usize::from(lo)] == 0 {
                    if n_classes == 256 {
                        return Err("too many distinct keyword bytes".into());
                    }
                    classes[usize::from(lo)] = n_classes as u8;
                    classes[usize::from(lo.to_ascii_uppercase())] = n_classes as u8;
                    n_classes += 1;
                }
            }
        }
        let stride = n_classes;
        // The trie: `next[s * stride + c]`, NONE where there is no edge.
        let mut next: Vec<u32> = vec![NONE; stride];
        let mut out: Vec<Vec<u32>> = vec![Vec::new()];
        for (gi, g) in grams.iter().enumerate() {
            let mut s = 0usize;
            for &b in g {
                let c = usize::from(classes[usize::from(b)]);
                if next[s * stride + c] == NONE {
                    next[s * stride + c] = out.len() as u32;
                    next.extend(std::iter::repeat(NONE).take(stride));
                    out.push(Vec::new());
                }
                s = next[s * stride + c] as usize;
            }
            out[s].push(gi as u32);
        }
        // Failure links, breadth first; missing edges become the failure
        // state's edges, so every state has a full row (a DFA).
        let n = out.len();
        let mut fail = vec![0u32; n];
        let mut queue = Vec::with_capacity(n);
        for t in &mut next[..stride] {
            match *t {
                NONE => *t = 0,
                t => queue.push(t),
            }
        }
        let mut qi = 0;
        while qi < queue.len() {
            let s = queue[qi] as usize;
            qi += 1;
            for c in 0..stride {
                let f = next[fail[s] as usize * stride + c];
                match next[s * stride + c] {
                    NONE => next[s * stride + c] = f,
                    t => {
                        fail[t as usize] = f;
                        let inherited = out[f as usize].clone();
                        out[t as usize].extend(inherited);
                        queue.push(t);
                    }
                }
            }
        }
        // Renumber breadth first (the hot shallow states share cache lines),
        // non-match states before match states; premultiply.
        let bfs: Vec<usize> = std::iter::once(0)
            .chain(queue.iter().map(|&s| s as usize))
            .collect();
        let mut renum = vec![0u32; n];
        let mut order: Vec<usize> = bfs.iter().copied().filter(|&s| out[s].is_empty()).collect();
        let first_match = order.len();
        order.extend(bfs.iter().copied().filter(|&s| !out[s].is_empty()));
        // Row length and shift of the stored ids: a stored id is the
        // premultiplied id shifted right by `shift`, and a step reads
        // `trans[(id << shift) + class]`. The smallest shift that keeps every
        // stored id in a u16 is used (rows padded to a multiple of
        // `1 << shift`), so larger keyword sets keep the compact table.
        let (row, shift) = (0..=3u32)
            .map(|sh| (stride.div_ceil(1 << sh) << sh, sh))
            .find(|&(row, sh)| (n - 1).saturating_mul(row) <= (usize::from(u16::MAX) << sh))
            .unwrap_or((stride, 0));
        if n.saturating_mul(row) > u32::MAX as usize {
            return Err("the keyword automaton is too large".into());
        }
        for (i, &s) in order.iter().enumerate() {
            renum[s] = (i * row) as u32;
        }
        let mut trans = vec![0u32; n * row];
        for &s in &order {
            let from = renum[s] as usize;
            for c in 0..stride {
                trans[from + c] = renum[next[s * stride + c] as usize];
            }
        }
        let mut match_bounds = vec![0u32];
        let mut match_grams = Vec::new();
        for &s in &order[first_match..] {
            match_grams.extend_from_slice(&out[s]);
            match_bounds.push(match_grams.len() as u32);
        }
        let small: Option<Vec<u16>> = trans
            .iter()
            .map(|&t| u16::try_from(t >> shift).ok())
            .collect();
        let (trans, shift) = match small {
            Some(small) => (Table::U16(Cow::Owned(small)), shift),
            None => (Table::U32(Cow::Owned(trans)), 0),
        };
        Ok(GramDfa {
            classes,
            trans,
            shift,
            first_match: ((first_match * row) >> shift) as u32,
            stride: (row >> shift) as u32,
            match_bounds: Cow::Owned(match_bounds),
            match_grams: Cow::Owned(match_grams),
            start: renum[0] >> shift,
            max_len: grams.iter().map(|g| g.len()).max().unwrap_or(1),
        })
    }

    /// The automaton over static tables, used in place.
    pub fn from_static(t: &StaticDfa) -> GramDfa {
        GramDfa {
            classes: t.classes,
            trans: if t.trans32.is_empty() {
                Table::U16(Cow::Borrowed(t.trans16))
            } else {
                Table::U32(Cow::Borrowed(t.trans32))
            },
            shift: t.shift,
            first_match: t.first_match,
            stride: t.stride,
            match_bounds: Cow::Borrowed(t.match_bounds),
            match_grams: Cow::Borrowed(t.match_grams),
            start: t.start,
            max_len: t.max_len,
        }
    }

    /// Writes the tables with `table(field, type, items)` (named
    /// `{name}_{field}`) and returns a `StaticDfa` expression over them.
    pub fn write_rust(
        &self,
        name: &str,
        table: &mut dyn FnMut(&str, &str, &mut dyn Iterator<Item = String>),
    ) -> String {
        let (t16, t32): (&[u16], &[u32]) = match &self.trans {
            Table::U16(t) => (t, &[]),
            Table::U32(t) => (&[], t),
        };
        table("TRANS16", "u16", &mut t16.iter().map(|x| x.to_string()));
        table("TRANS32", "u32", &mut t32.iter().map(|x| x.to_string()));
        table(
            "MATCH_BOUNDS",
            "u32",
            &mut self.match_bounds.iter().map(|x| x.to_string()),
        );
        table(
            "MATCH_GRAMS",
            "u32",
            &mut self.match_grams.iter().map(|x| x.to_string()),
        );
        format!(
            "StaticDfa {{ classes: {:?}, trans16: &{name}_TRANS16, trans32: &{name}_TRANS32, \
             shift: {}, first_match: {}, stride: {}, match_bounds: &{name}_MATCH_BOUNDS, \
             match_grams: &{name}_MATCH_GRAMS, start: {}, max_len: {} }}",
            self.classes, self.shift, self.first_match, self.stride, self.start, self.max_len
        )
    }

    /// Calls `f(gram, end)` for every gram occurrence in `hay` (end is
    /// exclusive). Order: by stream, then by end.
    pub fn for_each(&self, hay: &[u8], mut f: impl FnMut(u32, usize)) {
        match (&self.trans, self.shift) {
            (Table::U16(t), 0) => self.run::<u16, 0>(t, hay, &mut f),
            (Table::U16(t), 1) => self.run::<u16, 1>(t, hay, &mut f),
            (Table::U16(t), 2) => self.run::<u16, 2>(t, hay, &mut f),
            (Table::U16(t), _) => self.run::<u16, 3>(t, hay, &mut f),
            (Table::U32(t), _) => self.run::<u32, 0>(t, hay, &mut f),
        }
    }

    fn run<T: Copy + Into<u32>, const SH: u32>(
        &self,
        trans: &[T],
        hay: &[u8],
        f: &mut impl FnMut(u32, usize),
    ) {
        if hay.len() < MIN_INTERLEAVED {
            self.walk::<T, SH>(trans, hay, f);
        } else {
            self.walk_interleaved::<T, SH>(trans, hay, f);
        }
    }

    fn emit(&self, s: u32, end: usize, f: &mut impl FnMut(u32, usize)) {
        let i = ((s - self.first_match) / self.stride) as usize;
        let (from, to) = (self.match_bounds[i], self.match_bounds[i + 1]);
        for &g in &self.match_grams[from as usize..to as usize] {
            f(g, end);
        }
    }

    /// One stream over all of `hay`.
    fn walk<T: Copy + Into<u32>, const SH: u32>(
        &self,
        trans: &[T],
        hay: &[u8],
        f: &mut impl FnMut(u32, usize),
    ) {
        let (classes, first) = (&self.classes, self.first_match);
        let mut s = self.start;
        for (i, &b) in hay.iter().enumerate() {
            s = trans[((s as usize) << SH) + usize::from(classes[usize::from(b)])].into();
            if s >= first {
                self.emit(s, i + 1, f);
            }
        }
    }

    fn walk_interleaved<T: Copy + Into<u32>, const SH: u32>(
        &self,
        trans: &[T],
        hay: &[u8],
        f: &mut impl FnMut(u32, usize),
    ) {
        let seg = hay.len() / STREAMS;
        let lead = self.max_len - 1;
        // Stream k reports ends in (bounds[k], bounds[k+1]]; streams after
        // the first start `lead` bytes early to see straddling grams.
        let mut bounds = [0usize; STREAMS + 1];
        for (k, b) in bounds.iter_mut().enumerate() {
            *b = k * seg;
        }
        bounds[STREAMS] = hay.len();
        let mut pos = [0usize; STREAMS];
        for k in 1..STREAMS {
            pos[k] = bounds[k] - lead;
        }
        let (classes, first) = (&self.classes, self.first_match);
        let steps = (0..STREAMS)
            .map(|k| bounds[k + 1] - pos[k])
            .min()
            .unwrap_or(0);
        let (h0, h1, h2, h3) = (
            &hay[pos[0]..pos[0] + steps],
            &hay[pos[1]..pos[1] + steps],
            &hay[pos[2]..pos[2] + steps],
            &hay[pos[3]..pos[3] + steps],
        );
        let (mut s0, mut s1, mut s2, mut s3) = (self.start, self.start, self.start, self.start);
        let step = |s: u32, b: u8| {
            trans[((s as usize) << SH) + usize::from(classes[usize::from(b)])].into()
        };
        for (i, (((&b0, &b1), &b2), &b3)) in h0.iter().zip(h1).zip(h2).zip(h3).enumerate() {
            s0 = step(s0, b0);
            s1 = step(s1, b1);
            s2 = step(s2, b2);
            s3 = step(s3, b3);
            if (s0 >= first) | (s1 >= first) | (s2 >= first) | (s3 >= first) {
                for (k, s) in [s0, s1, s2, s3].into_iter().enumerate() {
                    let end = pos[k] + i + 1;
                    if s >= first && (k == 0 || end > bounds[k]) {
                        self.emit(s, end, f);
                    }
                }
            }
        }
        // Each stream's tail alone.
        for (k, mut s) in [s0, s1, s2, s3].into_iter().enumerate() {
            let from = pos[k] + steps;
            for (j, &b) in hay[from..bounds[k + 1]].iter().enumerate() {
                s = step(s, b);
                let end = from + j + 1;
                if s >= first && (k == 0 || end > bounds[k]) {
                    self.emit(s, end, f);
                }
            }
        }
    }
}
impl std::fmt::Debug for GramDfa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GramDfa")
            .field(
                "states",
                &(self.match_bounds.len() - 1 + (self.first_match / self.stride) as usize),
            )
            .field("classes", &self.stride)
            .finish()
    }
}
