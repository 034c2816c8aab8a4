//! Diagnostic codes of `tekscript test` (`T0xx`).

use super::Code;

pub const T001: &Code = &Code {
    id: "T001",
    title: "an assertion failed",
    explanation: "A test's `assert`, `assert_eq`, `assert_ne` or `assert_contains` did not hold. The \
caret points at the assertion; the report shows what was expected and what the value was (a line diff \
for long or multi-line values). `assert_eq(actual, expected)` takes the value under test first.\n\n\
Example:\n\n    let r = simulate(ci.run(), #{ params: #{ \"dry-run\": \"true\" } });\n    \
assert_eq(r.task(\"publish\").outcome, \"skipped\");\n",
};

pub const T002: &Code = &Code {
    id: "T002",
    title: "a value differs from its snapshot",
    explanation: "`assert_snapshot(name, value)` found a stored snapshot \
(`__snapshots__/<file>__<name>.yaml` beside the test file) with different content; the report shows \
the diff. If the change is intended, accept it with `tekscript test --update-snapshots` and commit the \
snapshot file.\n",
};

pub const T003: &Code = &Code {
    id: "T003",
    title: "a snapshot is new",
    explanation: "`assert_snapshot(name, value)` has no stored snapshot yet. Review the value in the \
report, then write it with `tekscript test --update-snapshots` and commit the file under \
`__snapshots__/`. New snapshots are never written silently, so CI cannot pass on a snapshot nobody \
reviewed.\n",
};

pub const T004: &Code = &Code {
    id: "T004",
    title: "a test names something that is not there",
    explanation: "A test looked up a pipeline, task, run or result by a name the build or the \
simulated run does not have. The help lists the names there are.\n\nWrong:\n\n    \
ci.pipeline(\"relase\")\n\nFixed:\n\n    ci.pipeline(\"release\")\n",
};

pub const T005: &Code = &Code {
    id: "T005",
    title: "a built script does not compile",
    explanation: "A test used `build(path)` on a script that fails to compile; the script's own \
diagnostics follow the report. `b.ok` and `b.errors` let a test check a failing build on purpose \
without failing.\n\nExample:\n\n    let bad = build(\"broken.rhai\");\n    assert(!bad.ok);\n    \
assert_eq(bad.errors[0].code, \"E004\");\n",
};

pub const T006: &Code = &Code {
    id: "T006",
    title: "the test API was used wrongly",
    explanation: "A test API function got an argument it cannot use: an unknown option, a value of \
the wrong type, two tests of the same name, `test()` inside a test, a snapshot name that is not a \
file name, or a run the planner rejects (a missing param). The message says which.\n\nWrong:\n\n    \
simulate(ci.run(), #{ fails: [\"test\"] })\n\nFixed:\n\n    simulate(ci.run(), #{ fail: [\"test\"] })\n",
};

/// Every code of this table, in order.
pub(super) const ALL: &[&Code] = &[T001, T002, T003, T004, T005, T006];
