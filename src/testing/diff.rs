//! Line diffs for failed comparisons and snapshots (the `similar` crate lives here only).

use similar::{ChangeTag, TextDiff};

/// The lines of `expected` and `actual` as a diff: `-` lines only expected, `+` lines only actual,
/// three lines of context, `⋮` between hunks. Empty when equal.
pub fn lines(expected: &str, actual: &str) -> String {
    let diff = TextDiff::from_lines(expected, actual);
    let mut out = String::new();
    for (i, group) in diff.grouped_ops(3).iter().enumerate() {
        if i > 0 {
            out.push_str("⋮\n");
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let text = change.value();
                out.push(sign);
                out.push_str(text.strip_suffix('\n').unwrap_or(text));
                out.push('\n');
                if change.missing_newline() {
                    out.push_str("\\ no newline at the end\n");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_line_with_context() {
        let a = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let b = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(lines(a, b), " b\n c\n d\n-e\n+E\n f\n g\n h\n");
        assert_eq!(lines(a, a), "");
    }

    #[test]
    fn everything_new() {
        assert_eq!(lines("", "x: 1\n"), "+x: 1\n");
    }
}
