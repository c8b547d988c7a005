//! Baselines: findings a team has recorded and (maybe) triaged, so that only
//! new ones fail a run. An entry is identified by its rule, its file and a
//! salted hash of its secret, never by line, so moving, reindenting or
//! rewriting history around a secret does not bring it back; a different
//! secret, or the same secret in another file, is new.
//!
//! - `format`: the JSON file (schema, located errors, deterministic writing);
//! - `lookup`: O(1) lookup per finding, hit counts for stale reporting;
//! - `foreign`: gitleaks, Betterleaks and detect-secrets suppressions, parsed and mapped;
//! - `gitleaks_ids`: gitleaks' default rule ids mapped onto ours.
//!
//! Which baseline applies to a run is `settings::baseline`; creating,
//! updating and auditing baselines is `commands::baseline`.

pub mod foreign;
pub mod format;
pub mod gitleaks_ids;
mod lookup;
pub use format::{Baseline, Entry, EntryPath, HistoryScope, RunScope, Status, DEFAULT_FILE};
pub use lookup::Lookup;
