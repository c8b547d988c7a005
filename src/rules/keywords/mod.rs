//! The keyword search: every occurrence of every keyword in a haystack,
//! ASCII case-insensitive — exactly what an Aho-Corasick overlapping search
//! of the keywords reports (tests below check it against the aho-corasick
//! crate).
//!
//! Why not an Aho-Corasick automaton of the keywords: with hundreds of
//! case-insensitive keywords no SIMD prefilter applies, an automaton walk pays
//! one dependent table load per byte, and the automaton of ~760 keywords has
//! ~4,000 states whose rows spill out of the L1 cache (about 400 MB/s per core
//! here, most of a scan's CPU time). So each keyword is indexed by one *gram*:
//! the four consecutive bytes of it that are rarest in source code, estimated
//! with a bigram model (`gram_costs.bin`, made by scripts/gen_gram_costs.py);
//! three-byte keywords are their own gram, and a keyword whose rarest four
//! bytes are still common (`sentry`'s `ntry`) gets a gram of up to six bytes.
//! An automaton of the grams (~3,000 states for the built-in rules) is
//! walked on four interleaved streams (`dfa.rs`); where a gram occurs, the keywords it indexes are
//! compared in place. Every occurrence of a keyword contains its gram at a
//! fixed offset, so each is found exactly once. Grams are rare (~0.2% of
//! positions in the kernel tree), so the comparisons cost little.

mod dfa;

use std::borrow::Cow;

use dfa::GramDfa;
pub use dfa::StaticDfa;

/// A keyword occurrence: pattern index, start and end offsets (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub pattern: u32,
    pub start: usize,
    pub end: usize,
}

/// Keywords must be at least this long (the rule compiler enforces it).
pub const MIN_KEYWORD_LEN: usize = 3;

/// The bigram model: 256 start costs, then 256×256 transition costs, in
/// eighths of a bit (scripts/gen_gram_costs.py).
static GRAM_COSTS: &[u8; 256 + 65536] = include_bytes!("gram_costs.bin");

fn gram_cost(g: &[u8]) -> u32 {
    let mut cost = u32::from(GRAM_COSTS[usize::from(g[0])]);
    for w in g.windows(2) {
        cost += u32::from(GRAM_COSTS[256 + (usize::from(w[0]) << 8 | usize::from(w[1]))]);
    }
    cost
}

/// The keyword search. Its tables are flat arrays, so the built-in rules'
/// index is made by `build.rs` (which compiles this module) and used in
/// place from statics ([`KeywordSearch::from_static`]); user rules build one
/// at run time ([`KeywordSearch::new`]).
pub struct KeywordSearch {
    /// Lower-cased keywords, concatenated: keyword `i` is
    /// `pattern_bytes[pattern_bounds[i]..pattern_bounds[i + 1]]`.
    pattern_bytes: Cow<'static, [u8]>,
    pattern_bounds: Cow<'static, [u32]>,
    /// Pattern `i` of the automaton is gram `i`: (its length, the range of
    /// its keywords in `gram_keywords`).
    grams: Cow<'static, [(u8, u32, u32)]>,
    /// Per keyword of a gram, see [`GramKeyword`].
    gram_keywords: Cow<'static, [GramKeyword]>,
    dfa: GramDfa,
}

/// A keyword as its gram's hits see it: (keyword, offset of the gram in it,
/// the keyword's range in `pattern_bytes`, a check word, its mask). The
/// range kept here saves two lookups per gram hit. The check word is four
/// bytes of the keyword outside the gram where it has them (its first four,
/// or its last four when the gram starts it), lower-cased, as a
/// little-endian `u32`; the mask holds `0x20` in the bytes that are letters.
/// A gram hit compares `(haystack word | mask) == word` first, which is
/// exact for those four bytes under ASCII case folding (a letter `l` is
/// matched by `l` and `l ^ 0x20` only), so most gram hits that are not the
/// keyword cost one load and one compare (the kernel's `_key` gram indexes
/// 37 keywords). A keyword that is its gram (three or four bytes, or a
/// longer gram) is matched by the automaton's match alone; its mask and
/// word are 0.
pub type GramKeyword = (u32, u32, u32, u32, u32, u32);

/// The check word and mask of a keyword (lower-cased) whose gram starts at
/// `off` and is `len` bytes long (see [`GramKeyword`]).
fn check_word(k: &[u8], off: usize, len: usize) -> (u32, u32) {
    if k.len() <= len {
        return (0, 0);
    }
    let at = if off == 0 { k.len() - 4 } else { 0 };
    let mut word = [0u8; 4];
    let mut mask = [0u8; 4];
    for (i, &b) in k[at..at + 4].iter().enumerate() {
        word[i] = b;
        mask[i] = if b.is_ascii_lowercase() { 0x20 } else { 0 };
    }
    (u32::from_le_bytes(word), u32::from_le_bytes(mask))
}

/// A keyword index as static tables, written by `build.rs` for the built-in
/// rules ([`KeywordIndex::write_rust`]). `rule_bounds`/`rules`: keyword `i`
/// triggers rules `rules[rule_bounds[i]..rule_bounds[i + 1]]`.
pub struct StaticIndex {
    pub pattern_bytes: &'static [u8],
    pub pattern_bounds: &'static [u32],
    pub grams: &'static [(u8, u32, u32)],
    pub gram_keywords: &'static [GramKeyword],
    pub dfa: StaticDfa,
    pub rule_bounds: &'static [u32],
    pub rules: &'static [u32],
}

impl std::fmt::Debug for KeywordSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeywordSearch")
            .field("patterns", &(self.pattern_bounds.len() - 1))
            .field("grams", &self.grams.len())
            .field("dfa", &self.dfa)
            .finish()
    }
}

/// Four bytes that cost less than this (eighths of a bit) are common in
/// source code: `ntry` (of `sentry`), `node` (`linode`), `_key`, `cces`.
/// A keyword whose rarest four bytes are that common is indexed by its
/// rarest window of up to [`MAX_GRAM`] bytes instead; on the kernel's
/// `include/` this cuts the gram hits by half or more (113 k → ~58 k) for
/// about half again as many automaton states (2,000 → 3,000), all of them
/// deep (after four matched bytes) and seldom visited.
const COMMON_GRAM: u32 = 155;
/// The longest gram.
const MAX_GRAM: usize = 6;

/// The gram of a lower-cased keyword: (offset, length). The rarest four
/// bytes (the whole keyword if it is three bytes long), or, when those are
/// common ([`COMMON_GRAM`]), the rarest window of up to [`MAX_GRAM`] bytes.
fn gram_of(k: &[u8]) -> (usize, usize) {
    if k.len() <= 4 {
        return (0, k.len());
    }
    // Ties go to the later offset (`max_by_key` keeps the last maximum).
    let best = |len: usize| {
        (0..=k.len() - len)
            .max_by_key(|&o| gram_cost(&k[o..o + len]))
            .unwrap_or(0)
    };
    let off = best(4);
    if gram_cost(&k[off..off + 4]) >= COMMON_GRAM {
        return (off, 4);
    }
    let len = k.len().min(MAX_GRAM);
    (best(len), len)
}

/// The distinct keywords (lower-cased, in order of first use) of rules given
/// by their keyword lists, and for each keyword the rules it triggers. The
/// run-time rule set and `build.rs` both index rules with this.
pub fn index_keywords<'a, S: AsRef<str> + 'a>(
    rule_keywords: impl IntoIterator<Item = &'a [S]>,
) -> (Vec<String>, Vec<Vec<u32>>) {
    let mut patterns: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
    for (i, keywords) in rule_keywords.into_iter().enumerate() {
        for k in keywords {
            let k = k.as_ref().to_ascii_lowercase();
            let p = *index.entry(k.clone()).or_insert_with(|| {
                patterns.push(k);
                pattern_rules.push(Vec::new());
                patterns.len() - 1
            });
            if !pattern_rules[p].contains(&(i as u32)) {
                pattern_rules[p].push(i as u32);
            }
        }
    }
    (patterns, pattern_rules)
}

/// A gram's bytes and its keywords: (keyword, offset of the gram in it).
type GramKeywords = (Vec<u8>, Vec<(u32, u32)>);

/// Offsets of consecutive lists in one flat array: `n + 1` bounds.
fn bounds(lens: impl Iterator<Item = usize>) -> Vec<u32> {
    let mut out = vec![0u32];
    let mut at = 0usize;
    for n in lens {
        at += n;
        out.push(at as u32);
    }
    out
}

impl KeywordSearch {
    /// Builds from keywords (each at least [`MIN_KEYWORD_LEN`] bytes).
    pub fn new(keywords: &[String]) -> Result<KeywordSearch, String> {
        let mut patterns: Vec<Vec<u8>> = Vec::with_capacity(keywords.len());
        let mut grams: Vec<GramKeywords> = Vec::new();
        let mut by_bytes: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        for (p, k) in keywords.iter().enumerate() {
            let k = k.as_bytes().to_ascii_lowercase();
            if k.len() < MIN_KEYWORD_LEN {
                return Err(format!(
                    "keyword `{}` is shorter than {MIN_KEYWORD_LEN} bytes",
                    String::from_utf8_lossy(&k)
                ));
            }
            let (off, len) = gram_of(&k);
            let bytes = k[off..off + len].to_vec();
            let g = *by_bytes.entry(bytes.clone()).or_insert_with(|| {
                grams.push((bytes, Vec::new()));
                grams.len() - 1
            });
            grams[g].1.push((p as u32, off as u32));
            patterns.push(k);
        }
        let gram_bytes: Vec<Vec<u8>> = grams.iter().map(|g| g.0.clone()).collect();
        let dfa = GramDfa::new(&gram_bytes)?;
        let kw_bounds = bounds(grams.iter().map(|g| g.1.len()));
        let pattern_bounds = bounds(patterns.iter().map(Vec::len));
        let gram_keywords = grams
            .iter()
            .flat_map(|g| g.1.iter().map(move |&(p, off)| (p, off, g.0.len())))
            .map(|(p, off, len)| {
                let (word, mask) = check_word(&patterns[p as usize], off as usize, len);
                let p = p as usize;
                let (ks, ke) = (pattern_bounds[p], pattern_bounds[p + 1]);
                (p as u32, off, ks, ke, word, mask)
            })
            .collect();
        Ok(KeywordSearch {
            pattern_bounds: Cow::Owned(pattern_bounds),
            pattern_bytes: Cow::Owned(patterns.concat()),
            grams: Cow::Owned(
                grams
                    .iter()
                    .enumerate()
                    .map(|(i, g)| (g.0.len() as u8, kw_bounds[i], kw_bounds[i + 1]))
                    .collect(),
            ),
            gram_keywords: Cow::Owned(gram_keywords),
            dfa,
        })
    }

    /// The search over static tables (see [`StaticIndex`]), used in place.
    pub fn from_static(t: &StaticIndex) -> KeywordSearch {
        KeywordSearch {
            pattern_bytes: Cow::Borrowed(t.pattern_bytes),
            pattern_bounds: Cow::Borrowed(t.pattern_bounds),
            grams: Cow::Borrowed(t.grams),
            gram_keywords: Cow::Borrowed(t.gram_keywords),
            dfa: GramDfa::from_static(&t.dfa),
        }
    }

    /// The number of keywords.
    pub fn len(&self) -> usize {
        self.pattern_bounds.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keyword `p`, lower-cased.
    pub fn pattern(&self, p: usize) -> &[u8] {
        &self.pattern_bytes[self.pattern_bounds[p] as usize..self.pattern_bounds[p + 1] as usize]
    }

    /// Writes, as Rust source, `pub static NAME: StaticIndex` holding this
    /// search's tables and `pattern_rules` (for each keyword, the rules it
    /// triggers). `build.rs` calls it for the built-in rules.
    pub fn write_rust(&self, name: &str, pattern_rules: &[Vec<u32>]) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let mut table = |field: &str, ty: &str, items: &mut dyn Iterator<Item = String>| {
            let items: Vec<String> = items.collect();
            let _ = writeln!(
                out,
                "static {name}_{field}: [{ty}; {}] = [{}];",
                items.len(),
                items.join(",")
            );
        };
        table(
            "PATTERN_BYTES",
            "u8",
            &mut self.pattern_bytes.iter().map(|x| x.to_string()),
        );
        table(
            "PATTERN_BOUNDS",
            "u32",
            &mut self.pattern_bounds.iter().map(|x| x.to_string()),
        );
        table(
            "GRAMS",
            "(u8, u32, u32)",
            &mut self.grams.iter().map(|x| format!("{x:?}")),
        );
        table(
            "GRAM_KEYWORDS",
            "(u32, u32, u32, u32, u32, u32)",
            &mut self.gram_keywords.iter().map(|x| format!("{x:?}")),
        );
        table(
            "RULE_BOUNDS",
            "u32",
            &mut bounds(pattern_rules.iter().map(Vec::len))
                .iter()
                .map(|x| x.to_string()),
        );
        table(
            "RULES",
            "u32",
            &mut pattern_rules.iter().flatten().map(|x| x.to_string()),
        );
        let dfa = self.dfa.write_rust(name, &mut table);
        let _ = writeln!(
            out,
            "pub static {name}: StaticIndex = StaticIndex {{ pattern_bytes: &{name}_PATTERN_BYTES, \
             pattern_bounds: &{name}_PATTERN_BOUNDS, grams: &{name}_GRAMS, \
             gram_keywords: &{name}_GRAM_KEYWORDS, dfa: {dfa}, rule_bounds: &{name}_RULE_BOUNDS, \
             rules: &{name}_RULES }};"
        );
        out
    }

    /// Every keyword occurrence in `hay`, sorted by end offset then pattern.
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<Hit>) {
        out.clear();
        self.dfa.for_each(hay, |g, end| {
            let (len, from, to) = self.grams[g as usize];
            let at = end - usize::from(len);
            for &(p, off, ks, ke, word, mask) in &self.gram_keywords[from as usize..to as usize] {
                let Some(start) = at.checked_sub(off as usize) else {
                    continue;
                };
                let end = start + (ke - ks) as usize;
                if end > hay.len() {
                    continue;
                }
                if ke - ks > u32::from(len) {
                    // Four bytes outside the gram first (see `GramKeyword`).
                    let c = if off == 0 { end - 4 } else { start };
                    let Ok(got) = <[u8; 4]>::try_from(&hay[c..c + 4]) else {
                        continue;
                    };
                    if u32::from_le_bytes(got) | mask != word {
                        continue;
                    }
                    let k = &self.pattern_bytes[ks as usize..ke as usize];
                    if !hay[start..end].eq_ignore_ascii_case(k) {
                        continue;
                    }
                }
                out.push(Hit {
                    pattern: p,
                    start,
                    end,
                });
            }
        });
        out.sort_unstable_by_key(|h| (h.end, h.pattern));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::template::Rng;

    fn reference(pats: &[String], hay: &[u8]) -> Vec<Hit> {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(pats)
            .unwrap();
        let mut want: Vec<Hit> = ac
            .find_overlapping_iter(hay)
            .map(|m| Hit {
                pattern: m.pattern().as_u32(),
                start: m.start(),
                end: m.end(),
            })
            .collect();
        want.sort_unstable_by_key(|h| (h.end, h.pattern));
        want
    }

    /// Exactly what aho-corasick's overlapping search of the whole haystack
    /// finds, at every length and alignment, with overlapping keywords,
    /// keywords inside keywords, and bytes that fold onto letters.
    #[test]
    fn same_hits_as_aho_corasick() {
        let pats: Vec<String> = [
            "key", "api_key", "token", "ghp_", "pass", "password", "sk_", "-us", "://", "_ke",
            "passw", "@ab", "`ab",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let ks = KeywordSearch::new(&pats).unwrap();
        let mut rng = Rng::new(5);
        let alphabet = b"keyKEYapi_tokenTOKENghp_passwordPASSsk_-us:/@`ab x\n\0\xff";
        for len in (0usize..40).chain([100, 4095, 4096, 4097, 20_000, 65_537]) {
            for _ in 0..20 {
                let hay: Vec<u8> = (0..len).map(|_| rng.pick(alphabet)).collect();
                let mut got = Vec::new();
                ks.find_all(&hay, &mut got);
                assert_eq!(got, reference(&pats, &hay), "len {len}");
            }
        }
    }

    fn below(rng: &mut Rng, n: usize) -> usize {
        (rng.next_u64() % n as u64) as usize
    }

    /// The built-in keywords on text dense with them.
    #[test]
    fn builtin_keywords_same_hits_as_aho_corasick() {
        let mut b = crate::rules::RuleSetBuilder::new();
        b.add_file(crate::rules::parse_builtin().unwrap(), "built-in")
            .unwrap();
        let rules = b.build().unwrap();
        let mut pats: Vec<String> = Vec::new();
        for r in &rules.rules {
            for k in r.keywords.iter() {
                let k = k.to_ascii_lowercase();
                if !pats.contains(&k) {
                    pats.push(k);
                }
            }
        }
        let ks = KeywordSearch::new(&pats).unwrap();
        let mut rng = Rng::new(9);
        let mut hay = Vec::new();
        while hay.len() < 200_000 {
            let k = pats[below(&mut rng, pats.len())].as_bytes();
            // Mixed case, sometimes cut short, glued to the next one.
            for (j, &b) in k.iter().enumerate() {
                if j + 1 == k.len() && below(&mut rng, 4) == 0 {
                    break;
                }
                hay.push(if below(&mut rng, 2) == 0 {
                    b.to_ascii_uppercase()
                } else {
                    b
                });
            }
            if below(&mut rng, 3) == 0 {
                hay.push(b' ');
            }
        }
        let mut got = Vec::new();
        ks.find_all(&hay, &mut got);
        let want = reference(&pats, &hay);
        assert!(want.len() > 1000);
        assert_eq!(got, want);
    }

    /// A keyword whose rarest four bytes are common gets a longer gram
    /// (`sentry`: all six bytes); keywords longer than their gram are
    /// checked by a word first, whose case folding must not take `@` for
    /// `` ` `` or `[` for `{`. Same hits as aho-corasick.
    #[test]
    fn long_grams_and_check_words() {
        assert_eq!(gram_of(b"sentry"), (0, 6));
        assert_eq!(gram_of(b"key"), (0, 3));
        let pats: Vec<String> = [
            "sentry",
            "linode",
            "@key_token",
            "`key_token",
            "[api_key",
            "{api_key",
            "key_to",
        ]
        .map(String::from)
        .to_vec();
        let ks = KeywordSearch::new(&pats).unwrap();
        let mut rng = Rng::new(11);
        let alphabet = b"sentrySENTRYlinodeLINODE@`[{key_tokenKEY_TOKENapi_ x";
        for len in [0usize, 3, 7, 40, 255, 256, 300, 5000, 70_000] {
            for _ in 0..20 {
                let mut hay: Vec<u8> = (0..len).map(|_| rng.pick(alphabet)).collect();
                // Whole keywords, in mixed case, every so often.
                for i in (0..len).step_by(97) {
                    let k = pats[i % pats.len()].as_bytes();
                    for (j, &b) in k.iter().enumerate() {
                        if i + j < len {
                            hay[i + j] = if j % 2 == 0 {
                                b.to_ascii_uppercase()
                            } else {
                                b
                            };
                        }
                    }
                }
                let mut got = Vec::new();
                ks.find_all(&hay, &mut got);
                assert_eq!(got, reference(&pats, &hay), "len {len}");
            }
        }
    }

    /// Keywords at the very start and end of short haystacks.
    #[test]
    fn edges() {
        let pats: Vec<String> = ["abc", "abcdefghij", "xyz9"].map(String::from).to_vec();
        let ks = KeywordSearch::new(&pats).unwrap();
        for pre in 0..20 {
            for text in ["abc", "ABC", "abcdefghij", "xYz9", "xyz"] {
                let mut hay = vec![b'.'; pre];
                hay.extend_from_slice(text.as_bytes());
                let mut got = Vec::new();
                ks.find_all(&hay, &mut got);
                assert_eq!(got, reference(&pats, &hay), "{pre} {text}");
                hay.extend_from_slice(b"....");
                ks.find_all(&hay, &mut got);
                assert_eq!(got, reference(&pats, &hay), "{pre} {text}.");
            }
        }
    }

    #[test]
    fn no_keywords_find_nothing() {
        let ks = KeywordSearch::new(&[]).unwrap();
        let mut got = vec![Hit {
            pattern: 0,
            start: 0,
            end: 1,
        }];
        ks.find_all(&[b'x'; 5000], &mut got);
        assert!(got.is_empty());
        ks.find_all(b"abc", &mut got);
        assert!(got.is_empty());
    }

    #[test]
    fn rejects_short_keywords() {
        assert!(KeywordSearch::new(&["ab".to_string()]).is_err());
    }
}
