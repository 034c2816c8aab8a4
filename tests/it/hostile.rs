//! Hostile input, through the binary as a user (or an attacker) meets it: every case ends with exit 1
//! or 2 and a clear message, never a panic, an abort, a hang, unbounded memory or a write outside
//! the output directory. (The bounded fuzz harness is in `fuzz.rs`.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tekscript"));
    c.current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    c
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn ran(out: Output) -> Ran {
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(dir: &Path, args: &[&str]) -> Ran {
    ran(bin(dir).args(args).output().expect("runs"))
}

/// A directory with `files` (name, text) written into it.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const OK: &str = r##"let t = task("hello");
t.step("say", "alpine:3.20", "#!/bin/sh\necho hello");
let p = pipeline(values.get("name") ?? "greet");
p.task("say", t);
emit(p);
"##;

/// Files under `dir` with their contents, symlinks not followed (shown as `-> target`).
fn listing(dir: &Path) -> Vec<(PathBuf, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let t = e.file_type().unwrap();
            if t.is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.push((rel, format!("-> {}", target.display())));
            } else if t.is_dir() {
                walk(root, &p, out);
            } else {
                out.push((rel, std::fs::read_to_string(&p).unwrap_or_default()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// build -o DIR

#[cfg(unix)]
#[test]
fn out_dir_with_a_symlinked_subdirectory_is_refused() {
    let dir = project(&[("ci.rhai", OK)]);
    let d = dir.path();
    std::fs::create_dir_all(d.join("deploy")).unwrap();
    std::fs::create_dir_all(d.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", d.join("deploy/tasks")).unwrap();
    let r = run(d, &["build", "ci.rhai", "-o", "deploy"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "error[E602]: cannot write deploy/tasks: it is a symbolic link, and tekscript never writes through symbolic links inside the output directory (files could land outside it); replace it with a real directory, or point -o at the directory it links to\n"
    );
    assert!(listing(&d.join("elsewhere")).is_empty());
    assert_eq!(
        listing(&d.join("deploy")),
        vec![(PathBuf::from("tasks"), "-> ../elsewhere".to_string())]
    );
}

#[cfg(unix)]
#[test]
fn out_dir_never_writes_through_a_symlink_planted_at_a_temporary_name() {
    let dir = project(&[("ci.rhai", OK), ("victim.txt", "precious\n")]);
    let d = dir.path();
    let r = run(d, &["build", "ci.rhai", "-o", "deploy"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // A committed symlink at the name the next build stages `pipelines/other.yaml` under.
    std::os::unix::fs::symlink(
        "../../victim.txt",
        d.join("deploy/pipelines/.other.yaml.tekscript-tmp"),
    )
    .unwrap();
    let r = run(
        d,
        &["build", "ci.rhai", "-o", "deploy", "--set", "name=other"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(d.join("victim.txt")).unwrap(),
        "precious\n"
    );
    let files = listing(&d.join("deploy"));
    let names: Vec<_> = files.iter().map(|(p, _)| p.to_string_lossy()).collect();
    assert_eq!(
        names,
        [
            "kustomization.yaml",
            "pipelines/.other.yaml.tekscript-tmp",
            "pipelines/other.yaml",
            "tasks/hello.yaml"
        ]
    );
    assert!(files[2].1.contains("name: other"));
}

/// Two builds racing into one directory (different inputs): whichever finishes last wins, and the
/// directory always holds exactly one build's output — no missing files, no mixture, no leftovers.
#[test]
fn concurrent_builds_into_one_dir_leave_one_consistent_result() {
    let dir = project(&[("ci.rhai", OK)]);
    let d = dir.path();
    // The two possible results, built alone.
    let expected: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| {
            let out = format!("ref-{name}");
            let r = run(
                d,
                &[
                    "build",
                    "ci.rhai",
                    "-o",
                    &out,
                    "--set",
                    &format!("name={name}"),
                ],
            );
            assert_eq!(r.code, Some(0), "{}", r.stderr);
            listing(&d.join(out))
        })
        .collect();
    for round in 0..12 {
        let children: Vec<_> = ["a", "b"]
            .iter()
            .map(|name| {
                bin(d)
                    .args(["build", "ci.rhai", "-o", "deploy", "--set"])
                    .arg(format!("name={name}"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let now = listing(&d.join("deploy"));
        assert!(
            expected.contains(&now),
            "round {round}: the directory mixes two builds: {now:#?}"
        );
    }
}

/// `kill -9` at any moment of a build: the next identical build succeeds and leaves exactly its
/// output (the killed build's temporaries and lock file are cleaned up).
#[cfg(unix)]
#[test]
fn a_build_killed_at_any_moment_does_not_block_the_next() {
    let dir = project(&[("ci.rhai", OK)]);
    let d = dir.path();
    let r = run(d, &["build", "ci.rhai", "-o", "ref", "--set", "name=b"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let expected = listing(&d.join("ref"));
    for round in 0..8u64 {
        let name = if round % 2 == 0 { "a" } else { "b" };
        let mut child = bin(d)
            .args(["build", "ci.rhai", "-o", "deploy", "--set"])
            .arg(format!("name={name}"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(round * 7));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let r = run(d, &["build", "ci.rhai", "-o", "deploy", "--set", "name=b"]);
        assert_eq!(r.code, Some(0), "round {round}: {}", r.stderr);
        assert_eq!(listing(&d.join("deploy")), expected, "round {round}");
    }
}

// ---------------------------------------------------------------------------------------------
// the evaluator

#[test]
fn an_import_cycle_is_a_diagnostic_naming_the_chain() {
    let dir = project(&[
        (
            "main.rhai",
            "import \"main\" as m;\nemit(pipeline(\"p\"));\n",
        ),
        ("a.rhai", "import \"b\" as b;\n"),
        ("b.rhai", "import \"lib/c\" as c;\n"),
        ("lib/c.rhai", "import \"../a\" as a;\n"),
        ("entry.rhai", "import \"a\" as a;\n"),
    ]);
    let r = run(
        dir.path(),
        &["check", "main.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "main.rhai:1:8: error[E008]: import cycle: main.rhai → main.rhai\n"
    );
    let r = run(
        dir.path(),
        &["check", "entry.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "lib/c.rhai:1:8: error[E008]: import cycle: a.rhai → b.rhai → lib/c.rhai → a.rhai\n"
    );
}

#[test]
fn a_long_import_chain_is_a_limit_not_a_stack_overflow() {
    let mut files: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("m{i}.rhai"),
                format!("import \"m{}\" as m;\n", i + 1),
            )
        })
        .collect();
    files.push(("m40.rhai".into(), "let x = 1;\n".into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = project(&refs);
    let r = run(
        dir.path(),
        &["check", "m0.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "m16.rhai:1:8: error[E005]: script limit reached: modules import modules more than 16 levels deep\n"
    );
}

#[test]
fn sleep_is_not_available() {
    let dir = project(&[("s.rhai", "sleep(1e9);\nsleep(1000000000);\n")]);
    let r = run(
        dir.path(),
        &["build", "s.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "s.rhai:1:1: error[E002]: `sleep` is not available: scripts run without a clock, so that a build cannot hang and always gives the same result\n"
    );
}

#[test]
fn print_output_is_capped_and_the_cut_is_said_once() {
    let dir = project(&[(
        "p.rhai",
        "for i in 0..400000 { print(\"0123456789012345678901234567890123456789\"); }\n",
    )]);
    let r = run(
        dir.path(),
        &["build", "p.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1)); // it emits nothing (E012)
    assert!(r.stderr.len() < (1 << 20) + 4096, "{}", r.stderr.len());
    assert_eq!(
        r.stderr
            .matches("[tekscript] the script printed more than 1048576 bytes; the rest of its print/debug output is not shown")
            .count(),
        1
    );
    assert!(
        r.stderr
            .ends_with("error[E012]: the script emitted nothing\n"),
        "{}",
        &r.stderr[r.stderr.len() - 300..]
    );
}

#[test]
fn control_characters_never_reach_the_terminal() {
    let dir = project(&[(
        "t.rhai",
        "print(\"a\\x1b[2Jb\");\nthrow \"red \\x1b[31m alert \\r\\x07\";\n",
    )]);
    for format in ["human", "short", "json"] {
        let r = run(dir.path(), &["build", "t.rhai", "--message-format", format]);
        assert_eq!(r.code, Some(1));
        assert!(
            !r.stderr.chars().any(|c| c.is_control() && c != '\n'),
            "{format}: {:?}",
            r.stderr
        );
    }
    let r = run(
        dir.path(),
        &["build", "t.rhai", "--message-format", "short"],
    );
    assert_eq!(
        r.stderr,
        "a\\u{1b}[2Jb\nt.rhai:2:1: error[E006]: the script raised an error: red \\u{1b}[31m alert \\r\\u{7}\n"
    );
}

#[test]
fn a_byte_order_mark_starts_a_script_as_it_starts_yaml() {
    let dir = project(&[("bom.rhai", &format!("\u{feff}{OK}"))]);
    let r = run(dir.path(), &["build", "bom.rhai"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("name: greet"));
    // and positions still count from the first character after it
    let dir = project(&[("bom.rhai", "\u{feff}let x = ;\n")]);
    let r = run(
        dir.path(),
        &["build", "bom.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.starts_with("bom.rhai:1:9: error[E001]"),
        "{}",
        r.stderr
    );
}

#[test]
fn positions_past_65535_are_a_limit_not_a_wrong_line() {
    let mut text = "let x = 1;\n".repeat(70_000);
    text.push_str("let y = ;\n");
    let dir = project(&[("long.rhai", &text)]);
    let r = run(
        dir.path(),
        &["check", "long.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "long.rhai:65536:1: error[E005]: script limit reached: the script has 70002 lines (at most 65535)\n"
    );
    let text = format!("let s = \"{}\";\n", "x".repeat(70_000));
    let dir = project(&[("wide.rhai", &text), ("m.rhai", "import \"wide\" as w;\n")]);
    let r = run(
        dir.path(),
        &["check", "m.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "wide.rhai:1:1: error[E005]: module `wide`: script limit reached: line 1 is longer than 65534 characters\n"
    );
}

// ---------------------------------------------------------------------------------------------
// --set / --values

#[test]
fn bad_set_and_values_inputs_are_e014() {
    let dir = project(&[
        ("ci.rhai", OK),
        ("list.yaml", "- a\n"),
        ("bad.yaml", "a: [\n"),
    ]);
    let d = dir.path();
    let r = run(d, &["build", "ci.rhai", "--set", "novalue"]);
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        "error[E014]: `--set novalue` needs the form key=value\n |\n = help: write `--set key=value`; dotted keys nest (`--set image.tag=v1`)\n\nerror: 1 error emitted\n"
    );
    let r = run(
        d,
        &[
            "check",
            "ci.rhai",
            "--values",
            "list.yaml",
            "--message-format",
            "short",
        ],
    );
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        "error[E014]: values file list.yaml: a values file must be a YAML mapping (key: value)\n"
    );
    let r = run(
        d,
        &[
            "build",
            "ci.rhai",
            "--values",
            "bad.yaml",
            "--message-format",
            "json",
        ],
    );
    assert_eq!(r.code, Some(2));
    let v: serde_json::Value = serde_json::from_str(r.stderr.trim()).unwrap();
    assert_eq!(v["code"], "E014");
    let r = run(
        d,
        &[
            "build",
            "ci.rhai",
            "--values",
            "missing.yaml",
            "--message-format",
            "short",
        ],
    );
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr
            .starts_with("error[E016]: cannot read values file missing.yaml: "),
        "{}",
        r.stderr
    );
}

#[test]
fn a_set_key_nested_20000_deep_is_refused() {
    let dir = project(&[("ci.rhai", OK)]);
    let key = vec!["a"; 20_000].join(".");
    let r = run(
        dir.path(),
        &[
            "build",
            "ci.rhai",
            "--set",
            &format!("{key}=v"),
            "--message-format",
            "short",
        ],
    );
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        "error[E014]: `--set`: the key `a.a.a…` nests 20000 levels deep (at most 64)\n"
    );
    // 64 is fine
    let key = vec!["a"; 64].join(".");
    let r = run(
        dir.path(),
        &["build", "ci.rhai", "--set", &format!("{key}=v")],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------------
// unbounded inputs

#[cfg(unix)]
#[test]
fn endless_inputs_stop_at_the_input_limit() {
    let dir = project(&[("ci.rhai", OK)]);
    let d = dir.path();
    for args in [
        vec!["build", "/dev/zero"],
        vec!["check", "/dev/zero"],
        vec!["import", "/dev/zero"],
    ] {
        let r = run(d, &args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("cannot read /dev/zero: it is larger than 64 MiB"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let r = run(
        d,
        &[
            "build",
            "ci.rhai",
            "--values",
            "/dev/zero",
            "--message-format",
            "short",
        ],
    );
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        "error[E016]: cannot read values file /dev/zero: it is larger than 64 MiB\n"
    );
    // an endless standard input
    let mut child = bin(d)
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'#'; 1 << 16];
        while stdin.write_all(&chunk).is_ok() {}
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let r = ran(out);
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        "error: cannot read stdin: it is larger than 64 MiB\n"
    );
    // a directory given as a script
    let r = run(d, &["build", "."]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("cannot read .: it is a directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn file_refuses_a_huge_file_before_reading_it() {
    let dir = project(&[(
        "ci.rhai",
        "let t = task(\"t\").step(\"s\", \"alpine:3.20\", file(\"big.txt\"));\n",
    )]);
    // sparse: 2 GiB that take no room
    let f = std::fs::File::create(dir.path().join("big.txt")).unwrap();
    f.set_len(2 << 30).unwrap();
    let r = run(
        dir.path(),
        &["build", "ci.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "ci.rhai:1:44: error[E007]: cannot read `big.txt`: it is larger than 1 MiB\n"
    );
}

#[cfg(unix)]
#[test]
fn import_dir_does_not_follow_directory_symlinks() {
    let yaml = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n  - name: s\n    image: alpine:3.20\n    script: |\n      #!/bin/sh\n      echo hi\n";
    let dir = project(&[("in/t.yaml", yaml)]);
    let d = dir.path();
    std::os::unix::fs::symlink(".", d.join("in/loop")).unwrap();
    std::os::unix::fs::symlink("..", d.join("in/up")).unwrap();
    std::os::unix::fs::symlink("t.yaml", d.join("in/link.yaml")).unwrap();
    let r = run(d, &["import", "in", "-o", "out"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let names: Vec<_> = listing(&d.join("out"))
        .into_iter()
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["link.rhai", "t.rhai"]);
}

// ---------------------------------------------------------------------------------------------
// validation

#[test]
fn thousands_of_misspelt_run_after_names_are_reported_without_a_quadratic_search() {
    // 3000 tasks, each running after a misspelt name: each gets its E302. The "did you mean" search
    // is bounded per compilation (`suggest::WORK_BUDGET`): the first ones get a suggestion, the
    // rest a plain hint, instead of 3000 × 3000 comparisons (46 s for 6000 before the bound).
    let dir = project(&[(
        "many.rhai",
        r##"let p = pipeline("big");
let t = task("t").step("s", "alpine:3.20", "#!/bin/sh\necho hi");
for i in 0..3000 { p.task("task-" + i, t, #{ runAfter: ["tsk-" + i] }); }
emit(p);
"##,
    )]);
    let r = run(
        dir.path(),
        &["check", "many.rhai", "--message-format", "json"],
    );
    assert_eq!(r.code, Some(1));
    let lines: Vec<serde_json::Value> = r
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3000);
    assert!(lines.iter().all(|v| v["code"] == "E302"));
    let help = |i: usize| {
        let v = lines
            .iter()
            .find(|v| {
                v["message"]
                    == format!("task `task-{i}` runs after `tsk-{i}`, but there is no such task")
            })
            .unwrap();
        v["help"][0].as_str().unwrap().to_string()
    };
    assert_eq!(help(0), "did you mean `task-0`?");
    assert_eq!(help(2999), "there are 3000 tasks here; check the spelling");
    let suggested = lines
        .iter()
        .filter(|v| v["help"][0].as_str().unwrap().starts_with("did you mean"))
        .count();
    assert!((1000..3000).contains(&suggested), "{suggested}");
}

#[test]
fn a_pipeline_that_runs_itself_is_rejected() {
    let dir = project(&[
        (
            "self.rhai",
            "let t = task(\"t\").step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\necho\");\nlet p = pipeline(\"p\");\np.task(\"a\", t);\np.task(\"again\", p);\nemit(p);\n",
        ),
        (
            "cycle.yaml",
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: a\nspec:\n  tasks:\n  - name: b\n    pipelineRef:\n      name: b\n---\napiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: b\nspec:\n  tasks:\n  - name: inner\n    pipelineSpec:\n      tasks:\n      - name: a\n        pipelineRef:\n          name: a\n",
        ),
        (
            "itself.yaml",
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: me\nspec:\n  tasks:\n  - name: again\n    pipelineRef:\n      name: me\n",
        ),
    ]);
    let d = dir.path();
    let r = run(d, &["check", "self.rhai", "--message-format", "short"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "self.rhai:4:3: error[E307]: pipeline `p` cannot be one of its own tasks (`again`)\n"
    );
    let r = run(
        d,
        &[
            "check",
            "itself.yaml",
            "--feature-gates",
            "alpha",
            "--message-format",
            "short",
        ],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "itself.yaml:9:13: error[E307]: pipeline `me` runs itself as one of its tasks (`pipelineRef`)\n"
    );
    let r = run(
        d,
        &[
            "check",
            "cycle.yaml",
            "--feature-gates",
            "alpha",
            "--message-format",
            "short",
        ],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "cycle.yaml:9:13: error[E307]: pipeline `a` runs itself through other pipelines: a → b → a\n\
         cycle.yaml:22:17: error[E307]: pipeline `b` runs itself through other pipelines: b → a → b\n"
    );
    let r = run(d, &["explain", "E307"]);
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout.starts_with("E307: a pipeline runs itself"),
        "{}",
        r.stdout
    );
}

#[test]
fn kubernetes_rejects_what_validation_now_rejects() {
    let dir = project(&[(
        "k.rhai",
        r##"let t = task("t").label("", "x").label("ok", "not a value")
    .step(#{ name: "s", image: "alpine:3.20", script: "#!/bin/sh\necho",
             env: [#{ name: "", value: "x" }, #{ name: "A=B", value: "y" }],
             computeResources: #{ limits: #{ cpu: "abc", memory: "-1Gi" }, requests: #{ cpu: "500m" } } });
emit(t);
"##,
    )]);
    let r = run(
        dir.path(),
        &["check", "k.rhai", "--message-format", "short"],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 6, "{}", r.stderr);
    assert!(
        lines.iter().all(|l| l.contains("error[E143]")),
        "{}",
        r.stderr
    );
    for needle in [
        "the label key \"\" is not a valid Kubernetes key: name part must be non-empty",
        "the value \"not a value\" of label \"ok\" is not a valid label value",
        "invalid environment variable name \"\": it is empty",
        "invalid environment variable name \"A=B\": it contains '='",
        "the cpu limit \"abc\" is not a quantity",
        "the memory limit \"-1Gi\" is negative (must be greater than or equal to 0)",
    ] {
        assert!(r.stderr.contains(needle), "{needle}\n{}", r.stderr);
    }
}
