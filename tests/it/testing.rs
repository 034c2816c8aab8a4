//! `tekscript test`: the examples' tests pass; fixtures with failing tests pin the report (human, short,
//! JSON), the exit codes and discovery; a snapshot round trip; JUnit XML against the schema's shape.

use std::path::Path;
use std::process::Command;

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn tekscript_in(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_tekscript"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn tekscript(args: &[&str]) -> Out {
    tekscript_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// The examples document their behaviour in `examples/*.test.rhai`; they all pass.
#[test]
fn the_examples_tests_pass() {
    let out = tekscript(&["test", "examples/"]);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let last = out.stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" passed, 0 failed"),
        "closing line: {last:?}\n{}",
        out.stdout
    );
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 25, "{passed} tests passed");
    // every example has its test file
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".rhai")
            && !stem.ends_with(".test")
        {
            assert!(
                out.stdout
                    .contains(&format!("test examples/{stem}.test.rhai › ")),
                "{name} has no tests"
            );
        }
    }
}

#[test]
fn failing_tests_report_human() {
    let out = tekscript(&["test", "tests/fixtures/testing/failing", "--color", "never"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.stderr, "");
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn failing_tests_report_short() {
    let out = tekscript(&[
        "test",
        "tests/fixtures/testing/failing",
        "--message-format",
        "short",
    ]);
    assert_eq!(out.code, Some(1));
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn failing_tests_report_json() {
    let out = tekscript(&[
        "test",
        "tests/fixtures/testing/failing",
        "--message-format",
        "json",
    ]);
    assert_eq!(out.code, Some(1));
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (&summary["passed"], &summary["failed"], &summary["skipped"]),
        (&2.into(), &6.into(), &1.into())
    );
    let wrong = lines.iter().find(|l| l["name"] == "wrong outcome").unwrap();
    assert_eq!(wrong["outcome"], "failed");
    assert_eq!(wrong["expected"], "\"succeeded\"");
    assert_eq!(wrong["actual"], "\"skipped\"");
    assert_eq!(wrong["diagnostics"][0]["code"], "T001");
    assert_eq!(wrong["diagnostics"][0]["line"], 10);
    // a build failure carries the script's own diagnostic, in the script's file
    let broken = lines
        .iter()
        .find(|l| l["name"] == "a script that does not compile")
        .unwrap();
    assert_eq!(broken["diagnostics"][1]["code"], "E004");
    assert_eq!(
        broken["diagnostics"][1]["file"],
        "tests/fixtures/testing/failing/broken.rhai"
    );
}

#[test]
fn misuse_and_broken_files() {
    let out = tekscript(&["test", "tests/fixtures/testing/broken", "--color", "never"]);
    assert_eq!(out.code, Some(1));
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn filter_selects_by_file_and_name() {
    let out = tekscript(&[
        "test",
        "examples",
        "--filter",
        "release.test.rhai › a dry run",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert!(out.stdout.contains(
        "test examples/release.test.rhai › a dry run builds the image but skips publish ... ok"
    ));
    let last = out.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("1 passed, 0 failed, ") && last.ends_with(" filtered out"),
        "{last}"
    );
    // the failing cases are not run when filtered out
    let out = tekscript(&[
        "test",
        "tests/fixtures/testing/failing",
        "--filter",
        "passes",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
}

#[test]
fn no_test_file_under_an_explicit_path_is_exit_2() {
    let out = tekscript(&["test", "tests/fixtures/structure"]);
    assert_eq!(out.code, Some(2));
    assert_eq!(
        out.stderr,
        "error: no test files (*.test.rhai) under tests/fixtures/structure\n"
    );
    assert_eq!(out.stdout, "");
    let out = tekscript(&["test", "examples/release.rhai"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("is not a test file"), "{}", out.stderr);
    let out = tekscript(&["test", "no/such/dir"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.starts_with("error: cannot read no/such/dir"),
        "{}",
        out.stderr
    );
}

#[test]
fn output_is_the_same_in_parallel_and_one_at_a_time() {
    let a = tekscript(&["test", "examples", "tests/fixtures/testing", "-j", "1"]);
    let b = tekscript(&["test", "examples", "tests/fixtures/testing", "-j", "4"]);
    assert_eq!(a.code, Some(1));
    assert_eq!(a.stdout, b.stdout);
}

const PIPELINE: &str = r#"
let p = pipeline("hello");
p.task("say", task("say").step("echo", "alpine:3.20", values.get("script") ?? "echo hello"), #{});
emit(p);
"#;

const SNAPSHOT_TEST: &str = r#"
test("the yaml", || assert_snapshot("hello", build("hello.rhai").yaml()));
test("the names", || assert_snapshot("names", build("hello.rhai").pipeline().tasks));
"#;

/// New snapshots fail until written; written ones pass; a change fails with a diff; obsolete ones are
/// reported and removed.
#[test]
fn snapshot_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("ci")).unwrap();
    std::fs::write(d.join("ci/hello.rhai"), PIPELINE).unwrap();
    std::fs::write(d.join("ci/hello.test.rhai"), SNAPSHOT_TEST).unwrap();
    // default path: the current directory
    let out = tekscript_in(d, &["test"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(
        out.stdout.contains("error[T003]: snapshot `hello` is new"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("+  - name: echo"), "{}", out.stdout);
    assert!(
        !d.join("ci/__snapshots__").exists(),
        "nothing is written without the flag"
    );

    let out = tekscript_in(d, &["test", "--update-snapshots"]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("wrote snapshot ci/__snapshots__/hello__hello.yaml")
    );
    let stored = std::fs::read_to_string(d.join("ci/__snapshots__/hello__hello.yaml")).unwrap();
    assert!(stored.starts_with("# tekscript snapshot `hello` of ci/hello.test.rhai\n"));
    assert!(
        stored.contains("---\napiVersion: tekton.dev/v1\nkind: Pipeline\n"),
        "{stored}"
    );
    let names = std::fs::read_to_string(d.join("ci/__snapshots__/hello__names.yaml")).unwrap();
    assert!(names.ends_with("---\n- say\n"), "{names}");

    let out = tekscript_in(d, &["test"]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert_eq!(out.stdout.lines().last(), Some("2 passed, 0 failed"));

    std::fs::write(
        d.join("ci/hello.rhai"),
        PIPELINE.replace("echo hello", "echo bonjour"),
    )
    .unwrap();
    let out = tekscript_in(d, &["test"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout
            .contains("error[T002]: snapshot `hello` does not match"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("-    script: echo hello\n")
            && out.stdout.contains("+    script: echo bonjour\n"),
        "{}",
        out.stdout
    );
    let out = tekscript_in(d, &["test", "--update-snapshots"]);
    assert_eq!(out.code, Some(0));
    assert!(
        out.stdout
            .contains("updated snapshot ci/__snapshots__/hello__hello.yaml")
    );

    // a snapshot no test asserts any more
    std::fs::write(
        d.join("ci/hello.test.rhai"),
        SNAPSHOT_TEST.lines().take(2).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let out = tekscript_in(d, &["test"]);
    assert_eq!(out.code, Some(0));
    assert!(
        out.stdout
            .contains("obsolete snapshot ci/__snapshots__/hello__names.yaml"),
        "{}",
        out.stdout
    );
    let out = tekscript_in(d, &["test", "--update-snapshots"]);
    assert!(
        out.stdout
            .contains("removed obsolete snapshot ci/__snapshots__/hello__names.yaml")
    );
    assert!(!d.join("ci/__snapshots__/hello__names.yaml").exists());
}

/// The JUnit report has the shape of Jenkins' junit-10.xsd, the schema GitLab, Jenkins and GitHub
/// reporters read: element nesting, required attributes, numeric counts that add up.
#[test]
fn junit_xml_has_the_schema_shape() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    let out = tekscript(&[
        "test",
        "tests/fixtures/testing",
        "--junit",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(1));
    let text = std::fs::read_to_string(&file).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let int = |n: roxmltree::Node, a: &str| -> usize {
        n.attribute(a)
            .unwrap_or_else(|| panic!("<{}> lacks {a}", n.tag_name().name()))
            .parse()
            .unwrap_or_else(|_| panic!("{a} is not a number"))
    };
    let time = |n: roxmltree::Node| {
        let t: f64 = n
            .attribute("time")
            .unwrap()
            .parse()
            .expect("time is decimal");
        assert!(t >= 0.0);
    };
    let allowed = |n: roxmltree::Node, attrs: &[&str]| {
        for a in n.attributes() {
            assert!(
                attrs.contains(&a.name()),
                "<{}> has attribute {} that junit-10.xsd does not define",
                n.tag_name().name(),
                a.name()
            );
        }
    };
    allowed(
        root,
        &[
            "name", "time", "tests", "failures", "errors", "skipped", "disabled",
        ],
    );
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 3);
    for suite in suites {
        assert_eq!(suite.tag_name().name(), "testsuite");
        allowed(
            suite,
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "skipped",
                "time",
                "timestamp",
                "hostname",
                "id",
                "package",
                "disabled",
            ],
        );
        assert!(suite.attribute("name").is_some());
        time(suite);
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(cases.len(), int(suite, "tests"));
        let (mut f, mut e, mut s) = (0, 0, 0);
        for case in cases {
            assert_eq!(case.tag_name().name(), "testcase");
            allowed(case, &["name", "classname", "time", "assertions", "status"]);
            assert!(case.attribute("name").is_some() && case.attribute("classname").is_some());
            time(case);
            for child in case.children().filter(|n| n.is_element()) {
                match child.tag_name().name() {
                    "failure" | "error" => {
                        allowed(child, &["message", "type"]);
                        assert!(child.text().is_some_and(|t| t.contains("error[")));
                        if child.tag_name().name() == "failure" {
                            f += 1;
                        } else {
                            e += 1;
                        }
                    }
                    "skipped" => {
                        allowed(child, &["message"]);
                        s += 1;
                    }
                    "system-out" => {}
                    other => panic!("<testcase> has <{other}>"),
                }
            }
        }
        assert_eq!(
            (f, e, s),
            (
                int(suite, "failures"),
                int(suite, "errors"),
                int(suite, "skipped")
            )
        );
        tests += int(suite, "tests");
        failures += f;
        errors += e;
        skipped += s;
    }
    assert_eq!(
        (tests, failures, errors, skipped),
        (
            int(root, "tests"),
            int(root, "failures"),
            int(root, "errors"),
            int(root, "skipped")
        )
    );
    assert_eq!((failures, errors, skipped), (14, 1, 1));
}
