//! "Did you mean …?" suggestions for misspelled names (keys, functions, params, tasks, modules).

/// The candidate closest to `name`, when it is close enough to be a plausible typo.
///
/// Distance is the optimal-string-alignment Damerau–Levenshtein distance (insertions, deletions,
/// substitutions, and transpositions of two adjacent characters each cost 1), compared
/// case-insensitively and counted in characters. A candidate qualifies when its distance is at most
/// `max(1, chars(name) / 3)`; a candidate equal to `name` is never suggested (there is nothing to
/// correct); a candidate that differs only in case always qualifies. The smallest distance wins; ties
/// go to the candidate that comes first, so the result is deterministic for a given candidate order.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let needle: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let hay: Vec<char> = candidate.chars().flat_map(char::to_lowercase).collect();
        // Cheap lower bound: the length difference.
        if hay.len().abs_diff(needle.len()) > limit {
            continue;
        }
        let d = distance(&needle, &hay);
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance (restricted Damerau–Levenshtein).
fn distance(a: &[char], b: &[char]) -> usize {
    // Three rolling rows: i-2, i-1, i.
    let n = b.len();
    let mut prev2 = vec![0usize; n + 1];
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur = vec![0usize; n + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        distance(&a, &b)
    }

    #[test]
    fn distances() {
        assert_eq!(d("", ""), 0);
        assert_eq!(d("abc", ""), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("runafter", "runAfter"), 1);
        assert_eq!(d("ab", "ba"), 1, "transposition costs 1");
        assert_eq!(d("stpe", "step"), 1);
        assert_eq!(
            d("ca", "abc"),
            3,
            "optimal string alignment, not full Damerau"
        );
        assert_eq!(d("äöü", "aöü"), 1, "counted in characters");
    }

    #[test]
    fn suggests_close_names() {
        let keys = ["runAfter", "params", "workspaces", "timeout", "retries"];
        assert_eq!(did_you_mean("runafter", keys), Some("runAfter"));
        assert_eq!(did_you_mean("run_after", keys), Some("runAfter"));
        assert_eq!(did_you_mean("parms", keys), Some("params"));
        assert_eq!(did_you_mean("workspace", keys), Some("workspaces"));
        assert_eq!(did_you_mean("timeuot", keys), Some("timeout"));
        assert_eq!(did_you_mean("retry", keys), None, "distance 3 > 5/3");
        assert_eq!(did_you_mean("image", keys), None);
        assert_eq!(did_you_mean("", keys), None);
    }

    #[test]
    fn short_names_allow_one_edit() {
        assert_eq!(did_you_mean("gti", ["git", "go"]), Some("git"));
        assert_eq!(did_you_mean("x", ["y"]), Some("y"));
        assert_eq!(did_you_mean("ab", ["cd"]), None);
    }

    #[test]
    fn exact_match_is_not_a_suggestion_but_case_mismatch_is() {
        assert_eq!(did_you_mean("step", ["step"]), None);
        assert_eq!(did_you_mean("Step", ["step"]), Some("step"));
        assert_eq!(did_you_mean("TASKS", ["tasks", "task"]), Some("tasks"));
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(did_you_mean("cat", ["bat", "hat", "rat"]), Some("bat"));
        assert_eq!(did_you_mean("cat", ["rat", "hat", "bat"]), Some("rat"));
        // a strictly closer later candidate still wins
        assert_eq!(
            did_you_mean("build-go", ["build-goXX", "build-og"]),
            Some("build-og")
        );
        assert_eq!(
            did_you_mean("buildgo", ["build-go", "buildgoo", "buildg"]),
            Some("build-go")
        );
    }

    #[test]
    fn works_with_owned_candidates() {
        let names: Vec<String> = vec!["checkout".into(), "build".into()];
        assert_eq!(
            did_you_mean("chekout", names.iter().map(String::as_str)),
            Some("checkout")
        );
    }
}
