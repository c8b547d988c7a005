//! The egress manifest: every host an enabled verifier may contact, with the
//! rule ids that contact it (`leakscan verify hosts`). A host named from a
//! value next to the secret shows as its fixed suffix, `*.myshopify.com`.

use std::collections::BTreeMap;

use super::spec::VerifySpec;

/// Host → rule ids, both sorted.
pub fn hosts(specs: &[VerifySpec]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in specs {
        m.entry(s.host_pattern()).or_default().push(s.rule.clone());
    }
    for ids in m.values_mut() {
        ids.sort();
    }
    m
}
