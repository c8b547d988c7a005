//! `--shard I/N`: a stable share of the repositories. A repository goes to
//! shard `hash(identity) mod N`, where its identity is the root commit of
//! its history (`scan::identity`), so forks and mirrors of one project land
//! in the same shard (and share its blob cache), and every machine given
//! the same roots computes the same split.

use sha2::{Digest, Sha256};

use super::scan;
use crate::source::repos::Found;

fn bucket(identity: &str, n: u32) -> u32 {
    let h = Sha256::digest(identity.as_bytes());
    let x = u64::from_le_bytes(h[..8].try_into().expect("8 bytes"));
    (x % u64::from(n)) as u32
}

/// The repositories in sweeping order: by identity, so forks and mirrors of
/// one project are read one after the other (they then share decoded trees
/// as well as blobs), then by name.
pub fn order(repos: Vec<Found>) -> Vec<(String, Found)> {
    let mut keyed: Vec<(String, Found)> = repos
        .into_iter()
        .map(|f| (scan::identity(&f.path, &f.name), f))
        .collect();
    keyed.sort_by(|a, b| (&a.0, &a.1.name).cmp(&(&b.0, &b.1.name)));
    keyed
}

/// The repositories of shard `i` of `n` (all of them without a shard), in
/// sweeping order.
pub fn select(repos: Vec<Found>, shard: Option<(u32, u32)>) -> Vec<Found> {
    order(repos)
        .into_iter()
        .filter(|(id, _)| shard.map_or(true, |(i, n)| bucket(id, n) == i))
        .map(|(_, f)| f)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_spread() {
        let ids: Vec<String> = (0..400).map(|i| format!("{i:040x}")).collect();
        let mut counts = [0u32; 4];
        for id in &ids {
            let b = bucket(id, 4);
            assert_eq!(b, bucket(id, 4));
            counts[b as usize] += 1;
        }
        // 400 ids over 4 shards: each gets a fair share (binomial, sd ~ 8.7).
        assert!(counts.iter().all(|&c| (50..150).contains(&c)), "{counts:?}");
    }
}
