//! The keyword scan for bulk input: a table-driven DFA copied out of
//! aho-corasick's DFA, run on four interleaved streams of the haystack.
//!
//! Why: with hundreds of case-insensitive keywords no SIMD prefilter applies,
//! and a DFA walk is bound by the latency of one dependent table load per
//! byte. Four independent walks over four quarters of the haystack overlap
//! those loads; the result is the same set of matches (every occurrence of
//! every keyword, as aho-corasick's overlapping search reports), several
//! times faster on one core. Small inputs use aho-corasick directly.

use std::collections::HashMap;

use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa, Anchored, MatchKind};

/// Streams walked at once. Four hides most of the load latency on current
/// x86 and ARM cores without spilling state to the stack.
const STREAMS: usize = 4;
/// Below this, interleaving does not pay for its setup.
const MIN_INTERLEAVED: usize = 1024;

/// A keyword occurrence: pattern index and end offset (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub pattern: u32,
    pub start: usize,
    pub end: usize,
}

impl std::fmt::Debug for KeywordDfa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeywordDfa")
            .field("states", &(self.trans.len() >> self.shift))
            .finish()
    }
}

pub struct KeywordDfa {
    classes: [u8; 256],
    /// log2 of the row length.
    shift: u32,
    /// `trans[(state << shift) | class]` = next state.
    trans: Vec<u32>,
    /// States at or above this index are match states.
    first_match: u32,
    /// For match state `first_match + i`: (pattern, pattern length) pairs.
    matches: Vec<Vec<(u32, u32)>>,
    start: u32,
    max_len: usize,
}

impl KeywordDfa {
    /// Builds from lower-cased keywords; matching is ASCII case-insensitive.
    pub fn new(patterns: &[String]) -> Result<KeywordDfa, String> {
        let d = dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .map_err(|e| e.to_string())?;
        // Byte classes: bytes that occur in no pattern always behave alike;
        // a byte and its other ASCII case behave alike.
        let mut classes = [0u8; 256];
        let mut n_classes = 1usize;
        for p in patterns {
            for &b in p.as_bytes() {
                let lo = b.to_ascii_lowercase();
                if classes[lo as usize] == 0 {
                    if n_classes == 256 {
                        return Err("too many distinct keyword bytes".into());
                    }
                    classes[lo as usize] = n_classes as u8;
                    classes[lo.to_ascii_uppercase() as usize] = n_classes as u8;
                    n_classes += 1;
                }
            }
        }
        let mut rep = vec![0u8; n_classes];
        let mut have = vec![false; n_classes];
        for b in 0..=255u8 {
            let c = classes[b as usize] as usize;
            if !have[c] {
                have[c] = true;
                rep[c] = b;
            }
        }
        let shift = n_classes.next_power_of_two().trailing_zeros();
        // Discover states breadth-first from the start state.
        let start_sid = d.start_state(Anchored::No).map_err(|e| e.to_string())?;
        let mut order = vec![start_sid];
        let mut index: HashMap<aho_corasick::automaton::StateID, usize> = HashMap::new();
        index.insert(start_sid, 0);
        let mut i = 0;
        while i < order.len() {
            let sid = order[i];
            for &b in &rep {
                let next = d.next_state(Anchored::No, sid, b);
                if let std::collections::hash_map::Entry::Vacant(e) = index.entry(next) {
                    e.insert(order.len());
                    order.push(next);
                }
            }
            i += 1;
        }
        // Renumber: non-match states first, then match states.
        let (plain, matching): (Vec<_>, Vec<_>) = order.iter().partition(|&&s| !d.is_match(s));
        let first_match = plain.len() as u32;
        let renum: HashMap<_, u32> = plain
            .iter()
            .chain(matching.iter())
            .enumerate()
            .map(|(i, &s)| (s, i as u32))
            .collect();
        let row = 1usize << shift;
        if order.len() > usize::from(u16::MAX) {
            return Err(format!(
                "{} keyword states exceed the table's limit",
                order.len()
            ));
        }
        let mut trans = vec![0u32; order.len() * row];
        for &s in &order {
            let from = renum[&s] as usize;
            for (c, &b) in rep.iter().enumerate() {
                trans[(from << shift) | c] = renum[&d.next_state(Anchored::No, s, b)];
            }
        }
        let matches = matching
            .iter()
            .map(|&s| {
                (0..d.match_len(s))
                    .map(|k| {
                        let p = d.match_pattern(s, k);
                        (p.as_u32(), d.pattern_len(p) as u32)
                    })
                    .collect()
            })
            .collect();
        Ok(KeywordDfa {
            classes,
            shift,
            trans,
            first_match,
            matches,
            start: renum[&start_sid],
            max_len: patterns.iter().map(|p| p.len()).max().unwrap_or(1),
        })
    }

    /// Every keyword occurrence in `hay`, sorted by end offset then pattern.
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<Hit>) {
        out.clear();
        if hay.len() < MIN_INTERLEAVED {
            self.walk(hay, 0, 0, hay.len(), out);
        } else {
            self.walk_interleaved(hay, out);
            out.sort_unstable_by_key(|h| (h.end, h.pattern));
        }
    }

    /// One stream: reports matches ending in `from..to`, starting the walk
    /// early enough (`lead` bytes) that no match straddling `from` is lost.
    fn walk(&self, hay: &[u8], lead: usize, from: usize, to: usize, out: &mut Vec<Hit>) {
        // Locals, not fields: `out` is written in the loop, so the compiler
        // would otherwise reload every field on every byte.
        let (trans, classes, shift, first) =
            (&self.trans[..], &self.classes, self.shift, self.first_match);
        let base = from - lead;
        let mut s = self.start;
        for (i, &b) in hay[base..to].iter().enumerate() {
            s = trans[((s as usize) << shift) | classes[b as usize] as usize];
            if s >= first {
                let end = base + i + 1;
                if end > from {
                    self.push(s, end, out);
                }
            }
        }
    }

    fn push(&self, s: u32, end: usize, out: &mut Vec<Hit>) {
        for &(p, len) in &self.matches[(s - self.first_match) as usize] {
            out.push(Hit {
                pattern: p,
                start: end - len as usize,
                end,
            });
        }
    }

    fn walk_interleaved(&self, hay: &[u8], out: &mut Vec<Hit>) {
        let seg = hay.len() / STREAMS;
        let lead = self.max_len - 1;
        // Stream k covers ends in (bounds[k], bounds[k+1]]; it starts `lead`
        // bytes early (streams after the first) to see straddling keywords.
        let mut bounds = [0usize; STREAMS + 1];
        for (k, b) in bounds.iter_mut().enumerate() {
            *b = (k * seg).min(hay.len());
        }
        bounds[STREAMS] = hay.len();
        let mut pos = [0usize; STREAMS];
        for k in 0..STREAMS {
            pos[k] = bounds[k].saturating_sub(if k == 0 { 0 } else { lead });
        }
        let (trans, classes, shift, first) =
            (&self.trans[..], &self.classes, self.shift, self.first_match);
        // The common length every stream can walk in lockstep.
        let steps = (0..STREAMS)
            .map(|k| bounds[k + 1] - pos[k])
            .min()
            .unwrap_or(0);
        // Four named states and four zipped slices keep everything in
        // registers and need no bounds checks on the haystack.
        let (h0, h1, h2, h3) = (
            &hay[pos[0]..pos[0] + steps],
            &hay[pos[1]..pos[1] + steps],
            &hay[pos[2]..pos[2] + steps],
            &hay[pos[3]..pos[3] + steps],
        );
        let (mut s0, mut s1, mut s2, mut s3) = (self.start, self.start, self.start, self.start);
        let step = |st: u32, b: u8| trans[((st as usize) << shift) | classes[b as usize] as usize];
        for (i, (((&b0, &b1), &b2), &b3)) in h0.iter().zip(h1).zip(h2).zip(h3).enumerate() {
            s0 = step(s0, b0);
            s1 = step(s1, b1);
            s2 = step(s2, b2);
            s3 = step(s3, b3);
            if (s0 >= first) | (s1 >= first) | (s2 >= first) | (s3 >= first) {
                for (k, st) in [s0, s1, s2, s3].into_iter().enumerate() {
                    let end = pos[k] + i + 1;
                    if st >= first && (end > bounds[k] || k == 0) {
                        self.push(st, end, out);
                    }
                }
            }
        }
        let s = [s0, s1, s2, s3];
        // Finish each stream's tail alone.
        for k in 0..STREAMS {
            let mut st = s[k];
            let from = pos[k] + steps;
            for (j, &b) in hay[from..bounds[k + 1]].iter().enumerate() {
                st = trans[((st as usize) << shift) | classes[b as usize] as usize];
                if st >= first {
                    let end = from + j + 1;
                    if end > bounds[k] || k == 0 {
                        self.push(st, end, out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::template::Rng;

    /// The interleaved walk finds exactly what aho-corasick's overlapping search finds.
    #[test]
    fn same_hits_as_aho_corasick() {
        let pats: Vec<String> = [
            "key", "api_key", "token", "ghp_", "pass", "password", "sk_", "-us", "://",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&pats)
            .unwrap();
        let kd = KeywordDfa::new(&pats).unwrap();
        let mut rng = Rng::new(5);
        let alphabet = b"keyKEYapi_tokenTOKENghp_passwordPASSsk_-us:/ x\n";
        for len in [0usize, 1, 7, 100, 4095, 4096, 4097, 20_000, 65_537] {
            let hay: Vec<u8> = (0..len).map(|_| rng.pick(alphabet)).collect();
            let mut want: Vec<Hit> = ac
                .find_overlapping_iter(&hay)
                .map(|m| Hit {
                    pattern: m.pattern().as_u32(),
                    start: m.start(),
                    end: m.end(),
                })
                .collect();
            want.sort_unstable_by_key(|h| (h.end, h.pattern));
            let mut got = Vec::new();
            kd.find_all(&hay, &mut got);
            assert_eq!(got, want, "len {len}");
        }
    }
}
