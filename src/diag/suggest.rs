//! "Did you mean …?" suggestions for misspelled names (keys, functions, params, tasks, modules).

use std::cell::Cell;

/// The candidate closest to `name`, when it is close enough to be a plausible typo.
///
/// Distance is the optimal-string-alignment Damerau–Levenshtein distance (insertions, deletions,
/// substitutions, and transpositions of two adjacent characters each cost 1), compared
/// case-insensitively and counted in characters. A candidate qualifies when its distance is at most
/// `max(1, chars(name) / 3)`; a candidate equal to `name` is never suggested (there is nothing to
/// correct); a candidate that differs only in case always qualifies. The smallest distance wins; ties
/// go to the candidate that comes first, so the result is deterministic for a given candidate order.
///
/// The work is bounded, so that thousands of misspelt names checked against thousands of
/// candidates stay fast: candidates are first filtered by cheap lower bounds of the distance (the
/// length difference, then the difference of their character counts), only the survivors get the
/// full distance (cut off as soon as it exceeds the best so far), at most [`MAX_DISTANCES`] of them
/// per call; names longer than [`MAX_NAME_CHARS`] get no suggestion; and all calls of one
/// compilation together look at no more than [`WORK_BUDGET`] candidates.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let budget = BUDGET.with(Cell::get);
    if budget == 0 {
        return None;
    }
    let needle: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    if needle.is_empty() || needle.len() > MAX_NAME_CHARS {
        return None;
    }
    let limit = (name.chars().count() / 3).max(1);
    let signature = Signature::of(needle.iter().copied());
    let mut hay: Vec<char> = Vec::with_capacity(needle.len() + limit);
    let mut rows = Rows::default();
    let (mut examined, mut computed) = (0, 0);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if examined == budget {
            break;
        }
        examined += 1;
        if candidate == name {
            continue;
        }
        // Cheap lower bounds first: the length (a lower-cased character is at most 3 bytes
        // longer or shorter), then the character counts; only then lower-case it.
        let ascii = candidate.is_ascii();
        let len = if ascii {
            candidate.len()
        } else {
            candidate.chars().count()
        };
        if len.abs_diff(needle.len()) > limit + usize::from(!ascii) * len {
            continue;
        }
        let bound = if ascii {
            signature.lower_bound(&Signature::of(
                candidate
                    .bytes()
                    .map(|b| char::from(b.to_ascii_lowercase())),
            ))
        } else {
            hay.clear();
            hay.extend(candidate.chars().flat_map(char::to_lowercase));
            if hay.len().abs_diff(needle.len()) > limit {
                continue;
            }
            signature.lower_bound(&Signature::of(hay.iter().copied()))
        };
        if bound > limit {
            continue;
        }
        if ascii {
            hay.clear();
            hay.extend(
                candidate
                    .bytes()
                    .map(|b| char::from(b.to_ascii_lowercase())),
            );
        }
        // Only a strictly smaller distance than the best so far can win.
        let bound = match best {
            Some((0, _)) => break,
            Some((b, _)) => b - 1,
            None => limit,
        };
        if computed == MAX_DISTANCES {
            break;
        }
        computed += 1;
        if let Some(d) = rows.distance_within(&needle, &hay, bound) {
            best = Some((d, candidate));
        }
    }
    BUDGET.with(|b| b.set(budget - examined));
    best.map(|(_, c)| c)
}

/// How many candidates the suggestions of one compilation may look at in all (see
/// [`reset_budget`]). Beyond it, names get no "did you mean" (tens of thousands of misspelt
/// names against tens of thousands of candidates would otherwise take minutes).
pub const WORK_BUDGET: usize = 5_000_000;

thread_local! {
    static BUDGET: Cell<usize> = const { Cell::new(WORK_BUDGET) };
}

/// Gives the suggestions of the next compilation on this thread the whole [`WORK_BUDGET`].
pub fn reset_budget() {
    BUDGET.with(|b| b.set(WORK_BUDGET));
}

/// At most this many full distance computations per [`did_you_mean`] call.
pub const MAX_DISTANCES: usize = 500;

/// Names longer than this (in characters) get no suggestion.
pub const MAX_NAME_CHARS: usize = 256;

/// Character counts, folded into 32 buckets. Each edit changes the counts by at most 2 (a
/// substitution removes one character and adds another; a transposition changes nothing), and
/// folding only merges counts, so half the difference of two signatures is a lower bound of the
/// distance of the two strings.
struct Signature([u8; 32]);

impl Signature {
    fn of(chars: impl Iterator<Item = char>) -> Signature {
        let mut s = [0u8; 32];
        for c in chars {
            let b = &mut s[(c as u32 % 32) as usize];
            *b = b.saturating_add(1);
        }
        Signature(s)
    }

    fn lower_bound(&self, other: &Signature) -> usize {
        let diff: usize = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| a.abs_diff(*b) as usize)
            .sum();
        diff.div_ceil(2)
    }
}

/// The three rolling rows of the distance table, reused between candidates.
#[derive(Default)]
struct Rows {
    prev2: Vec<usize>,
    prev: Vec<usize>,
    cur: Vec<usize>,
}

impl Rows {
    /// The optimal string alignment distance of `a` and `b` if it is at most `bound`.
    fn distance_within(&mut self, a: &[char], b: &[char], bound: usize) -> Option<usize> {
        let n = b.len();
        self.prev2.clear();
        self.prev2.resize(n + 1, 0);
        self.prev.clear();
        self.prev.extend(0..=n);
        self.cur.clear();
        self.cur.resize(n + 1, 0);
        for i in 1..=a.len() {
            self.cur[0] = i;
            let mut row_min = i;
            for j in 1..=n {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut v = (self.prev[j] + 1)
                    .min(self.cur[j - 1] + 1)
                    .min(self.prev[j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(self.prev2[j - 2] + 1);
                }
                self.cur[j] = v;
                row_min = row_min.min(v);
            }
            // Every later cell is at least the minimum of this row and the one before it (a
            // transposition reaches back two rows).
            if row_min > bound && self.prev.iter().min().is_some_and(|&m| m > bound) {
                return None;
            }
            std::mem::swap(&mut self.prev2, &mut self.prev);
            std::mem::swap(&mut self.prev, &mut self.cur);
        }
        Some(self.prev[n]).filter(|&d| d <= bound)
    }
}

/// Optimal string alignment distance (restricted Damerau–Levenshtein).
#[cfg(test)]
fn distance(a: &[char], b: &[char]) -> usize {
    Rows::default()
        .distance_within(a, b, usize::MAX - 1)
        .expect("unbounded")
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
        assert_eq!(did_you_mean("timeouts", keys), Some("timeout"));
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
    fn the_filters_never_hide_the_closest_candidate() {
        // Every candidate within the limit, found the same way as by brute force.
        let names: Vec<String> = (0..300).map(|i| format!("task-{i}")).collect();
        let brute = |q: &str| {
            let qc: Vec<char> = q.to_lowercase().chars().collect();
            let limit = (q.chars().count() / 3).max(1);
            let mut best: Option<(usize, &str)> = None;
            for c in &names {
                if c == q {
                    continue;
                }
                let d = distance(&qc, &c.to_lowercase().chars().collect::<Vec<_>>());
                if d <= limit && best.is_none_or(|(b, _)| d < b) {
                    best = Some((d, c.as_str()));
                }
            }
            best.map(|(_, c)| c)
        };
        for q in [
            "tsk-17",
            "task-299x",
            "taks-3",
            "TASK-42",
            "xask-1",
            "t",
            "task",
            "ksat-12",
        ] {
            assert_eq!(
                did_you_mean(q, names.iter().map(String::as_str)),
                brute(q),
                "{q}"
            );
        }
    }

    #[test]
    fn the_work_per_call_is_bounded() {
        // Thousands of candidates that all pass the cheap filters: at most MAX_DISTANCES are
        // compared fully. A close one among them is found; the closest one far behind them is
        // not looked at (the answer is still deterministic, and still within the limit).
        let names: Vec<String> = (0..5000).map(|i| format!("name{i:05}")).collect();
        let names = || names.iter().map(String::as_str);
        assert_eq!(did_you_mean("name00001x", names()), Some("name00001"));
        let late = did_you_mean("name04999x", names());
        assert_ne!(late, Some("name04999"));
        assert_eq!(late, did_you_mean("name04999x", names()));
        assert_eq!(did_you_mean(&"a".repeat(300), ["a"]), None);
    }

    #[test]
    fn the_work_of_a_compilation_is_bounded() {
        let names: Vec<String> = (0..1000).map(|i| format!("task-{i}")).collect();
        let names = || names.iter().map(String::as_str);
        reset_budget();
        for _ in 0..WORK_BUDGET / 1000 - 1 {
            did_you_mean("nothing-like-it", names());
        }
        assert_eq!(did_you_mean("tsk-7", names()), Some("task-7"));
        assert_eq!(did_you_mean("tsk-7", names()), None, "the budget is spent");
        reset_budget();
        assert_eq!(did_you_mean("tsk-7", names()), Some("task-7"));
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
