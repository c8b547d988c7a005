//! What a staged change adds to a file: the 1-based line ranges of the
//! staged text that the base version (HEAD's, or the rename's source) does
//! not have. Text only; `git::staged` finds the blobs.

use std::ops::Range;

/// The 1-based line ranges of `new` whose content `old` does not have.
///
/// Lines both share at the start and at the end are unchanged; in between, a
/// line of `new` is added unless `old` has the same line there too. Unlike a
/// diff, a line that only moved is not added. For secrets that is the point:
/// a secret on a line `old` already had was already there (and callers also
/// drop a secret found anywhere in `old`, so a diff's finer view of moved
/// lines would change no verdict). Cost: one pass over both, no diff.
pub fn added_lines(old: &[u8], new: &[u8]) -> AddedLines {
    // The shared head, in whole lines.
    let same = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let start = memchr::memrchr(b'\n', &new[..same]).map_or(0, |i| i + 1);
    // The shared tail after it, in whole lines of both.
    let mut tail = old[start..]
        .iter()
        .rev()
        .zip(new[start..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let line_start = |text: &[u8], at: usize| at == start || text[at - 1] == b'\n';
    while tail > 0 && !(line_start(new, new.len() - tail) && line_start(old, old.len() - tail)) {
        // Drop the tail's partial first line (the same bytes in both).
        let from = new.len() - tail;
        tail = memchr::memchr(b'\n', &new[from..]).map_or(0, |i| tail - (i + 1));
    }
    let had: std::collections::HashSet<&[u8]> = lines(&old[start..old.len() - tail]).collect();
    let first = memchr::memchr_iter(b'\n', &new[..start]).count() + 1;
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for (i, line) in lines(&new[start..new.len() - tail]).enumerate() {
        if had.contains(line) {
            continue;
        }
        let n = first + i;
        match ranges.last_mut() {
            Some(r) if r.end == n => r.end = n + 1,
            _ => ranges.push(n..n + 1),
        }
    }
    AddedLines { ranges }
}

/// Lines without their `\n`; a final newline does not start another line.
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    text.split(|&b| b == b'\n')
        .filter(move |_| !text.is_empty())
}

/// Lines a staged change adds to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedLines {
    /// Sorted, disjoint, 1-based, end-exclusive.
    pub ranges: Vec<Range<usize>>,
}

impl AddedLines {
    /// Whether any line of `first..=last` is added.
    pub fn touches(&self, first: usize, last: usize) -> bool {
        let i = self.ranges.partition_point(|r| r.end <= first);
        self.ranges.get(i).is_some_and(|r| r.start <= last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_of_an_insertion() {
        let old = b"a\nb\nc\n";
        let new = b"a\nx\ny\nb\nc\nz\n";
        let added = added_lines(old, new);
        assert_eq!(added.ranges, vec![2..4, 6..7]);
        assert!(added.touches(2, 2));
        assert!(added.touches(1, 2));
        assert!(!added.touches(4, 5));
        assert!(added.touches(5, 9));
        assert!(!added.touches(1, 1));
    }

    #[test]
    fn added_lines_leave_out_moved_lines_and_newline_changes() {
        // `k` moved to the end, `w` replaced by `v`, a final newline dropped.
        let added = added_lines(b"k\nw\nx\ny\n", b"v\nx\ny\nk");
        assert_eq!(added.ranges, vec![1..2]);
        assert_eq!(added_lines(b"", b"a\nb\n").ranges, vec![1..3]);
        assert!(added_lines(b"a\nb\n", b"").ranges.is_empty());
        assert!(added_lines(b"a\n", b"a\n").ranges.is_empty());
        // Shared bytes that are not whole lines are not shared lines.
        assert_eq!(added_lines(b"ab\nXcd\n", b"ab\ncd\nX\n").ranges, vec![2..4]);
        assert_eq!(added_lines(b"ab\ncd", b"ab\ncd\nef").ranges, vec![3..4]);
    }
}
