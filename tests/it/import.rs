//! `tekscript import`: Tekton YAML → scripts that build the same objects.
//!
//! 1. Round trip over Tekton's example corpus (`../shared/corpus/tekton-examples`, present only in
//!    the tekscript workspace; skipped with a printed reason when absent): every file is imported,
//!    the script is evaluated, and its objects must equal the file's after Tekton's defaulting and
//!    tekscript's documented normalisation (`tekscript::import::defaults`). The test prints every
//!    file that does not round-trip, with the reason, and holds the count of files that do to a
//!    measured minimum.
//! 2. Where the input passes `tekscript check`, the generated script compiles without errors too.
//! 3. Snapshots of the scripts generated for `tests/fixtures/import/*.yaml` (`it__import__*`), each
//!    of which round-trips.
//! 4. The CLI: exit codes, stdout/stderr, `-o DIR`, directories, stdin.

use super::support::{corpus_dir, yaml_files};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tekscript::Options;
use tekscript::bundle::Resource;
use tekscript::import::script::{self, Verdict};
use tekscript::source::SourceMap;

/// Files of the corpus that round-trip (measured: all 152).
const MIN_ROUND_TRIPS: usize = 152;

/// The Tekton objects of a YAML text, or the rendered diagnostics that reject it.
fn read(name: &str, text: &str) -> Result<Vec<Resource>, String> {
    let mut sources = SourceMap::new();
    let id = sources.add(name, text);
    match tekscript::import::parse_file(&sources, id) {
        Ok((bundle, _, _)) => Ok(bundle.objects.into_iter().map(|o| o.resource).collect()),
        Err(d) => Err(tekscript::diag::render::render(
            &d.0,
            &sources,
            tekscript::diag::render::Format::Short,
            false,
        )),
    }
}

/// The script `tekscript import` writes for one file (`name` is used in its header).
fn import(name: &str, text: &str) -> Result<(Vec<Resource>, String), String> {
    let docs = read(name, text)?;
    let opts = script::Options {
        sources: vec![name.to_string()],
        skipped: script::skipped_documents(name, text),
    };
    let s = script::to_script(&docs, &opts);
    Ok((docs, s.text))
}

fn tekton_documents(text: &str) -> usize {
    tekscript::emit::yaml::parse_documents(text)
        .map(|docs| {
            docs.iter()
                .filter(|d| {
                    d["apiVersion"]
                        .as_str()
                        .is_some_and(|a| a.starts_with("tekton.dev/"))
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn corpus_round_trips() {
    let Some(dir) = corpus_dir() else { return };
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    let (mut ok_files, mut ok_docs, mut all_docs) = (0, 0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let n = tekton_documents(&text);
        all_docs += n;
        let (docs, s) = match import(&rel, &text) {
            Ok(x) => x,
            Err(d) => {
                failures.push(format!("{rel}: the input is rejected: {}", d.trim()));
                continue;
            }
        };
        match script::verify(&format!("{rel}.rhai"), &s, &docs) {
            Verdict::Same => {
                ok_files += 1;
                ok_docs += n;
                println!("  round-trips: {rel} ({n} documents)");
            }
            Verdict::Differs(d) => failures.push(format!("{rel}: {d}")),
            Verdict::Fails(sources, d) => failures.push(format!(
                "{rel}: the script does not evaluate:\n{}\n{s}",
                tekscript::diag::render::render(
                    &d.0,
                    &sources,
                    tekscript::diag::render::Format::Short,
                    false
                )
            )),
        }
    }
    println!(
        "import round trip: {ok_files} of {} files, {ok_docs} of {all_docs} Tekton documents",
        files.len()
    );
    for f in &failures {
        println!("  does not round-trip: {f}");
    }
    assert!(
        ok_files >= MIN_ROUND_TRIPS,
        "only {ok_files} files round-trip (expected at least {MIN_ROUND_TRIPS}):\n{}",
        failures.join("\n")
    );
}

/// Where the input passes validation, the generated script compiles (evaluates and validates)
/// without errors.
#[test]
fn scripts_validate_where_the_input_does() {
    let Some(dir) = corpus_dir() else { return };
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    let opts = Options::default();
    let (mut checked, mut failures) = (0, Vec::new());
    for f in &files {
        if tekscript::check_yaml_files(std::slice::from_ref(f), &opts).is_err() {
            continue;
        }
        let rel = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
        let text = std::fs::read_to_string(f).unwrap();
        let Ok((_, s)) = import(&rel, &text) else {
            continue;
        };
        checked += 1;
        if let Err(failure) = tekscript::compile_str(&format!("{rel}.rhai"), &s, &opts) {
            failures.push(format!("{rel}:\n{}", failure.render_plain()));
        }
    }
    println!("{checked} valid corpus files: their scripts compile");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
}

#[test]
fn fixtures() {
    insta::glob!("../fixtures/import", "*.yaml", |path| {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let (docs, s) = import(&name, &text).unwrap_or_else(|d| panic!("{name}: {d}"));
        match script::verify(&format!("{name}.rhai"), &s, &docs) {
            Verdict::Same => {}
            Verdict::Differs(d) => panic!("{name} does not round-trip: {d}\n{s}"),
            Verdict::Fails(sources, d) => panic!(
                "{name}: the script does not evaluate:\n{}\n{s}",
                tekscript::diag::render::render(
                    &d.0,
                    &sources,
                    tekscript::diag::render::Format::Short,
                    false
                )
            ),
        }
        // the same objects as a checked compilation, too
        if let Err(f) = tekscript::compile_str(&format!("{name}.rhai"), &s, &Options::default()) {
            panic!("{name}: the script does not compile:\n{}", f.render_plain());
        }
        assert_eq!(
            s,
            import(&name, &text).unwrap().1,
            "{name}: not deterministic"
        );
        insta::assert_snapshot!(s);
    });
}

/// Shell text that Rhai would read differently in a backtick literal: `${VAR}`, backticks, a
/// backslash before `$(…)`, a leading blank line, carriage returns, indentation that `dedent`
/// would change.
#[test]
fn awkward_text_round_trips() {
    let scripts = [
        "#!/bin/sh\necho ${HOME} `date` \\${X}\n",
        "\nstarts with a blank line\n",
        "echo \\$(params.a) $(params.a)\n",
        "  indented\n  all\n",
        "windows\r\nline endings\r\n",
        "tab\tand trailing spaces   \n\n\n",
        "no trailing newline\n$(params.a)",
        "${",
        "`",
        "$$(params.a) $(params.a[*]) $(params.a",
        "a\\${X} b\\\\${Y} ends with a backslash\\",
        "\\` and \\$(params.a)\n",
        "\tindented with a tab\n\tand another\n",
        "   \n  \nwhitespace lines\n   ",
    ];
    for (i, s) in scripts.iter().enumerate() {
        let task = serde_json::json!({
            "apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"},
            "spec": {"params": [{"name": "a"}],
                     "steps": [{"name": "s", "image": "alpine", "script": s, "args": [s]}]}
        });
        let docs = vec![Resource::from_json(task).unwrap()];
        let out = script::to_script(&docs, &script::Options::default());
        match script::verify("t.rhai", &out.text, &docs) {
            Verdict::Same => {}
            Verdict::Differs(d) => panic!("case {i} {s:?}: {d}\n{}", out.text),
            Verdict::Fails(_, d) => panic!("case {i} {s:?}: {:?}\n{}", d.0, out.text),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CLI

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tekscript"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fixture(name: &str) -> String {
    format!("tests/fixtures/import/{name}")
}

#[test]
fn cli_prints_the_script_and_reports_skipped_documents() {
    let out = run(&["import", &fixture("multi-doc.yaml")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("// Generated by `tekscript import` from "),
        "{stdout}"
    );
    assert!(stdout.contains("emit(greet);"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("note: skipped ConfigMap/settings"),
        "{stderr}"
    );
    assert!(stderr.contains("note: skipped Secret/token"), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn cli_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bad_yaml = dir.path().join("bad.yaml");
    std::fs::write(&bad_yaml, "kind: Task\n  spec: [\n").unwrap();
    let out = run(&["import", bad_yaml.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("E901"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());

    let unknown = dir.path().join("unknown.yaml");
    std::fs::write(
        &unknown,
        "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n  - name: s\n    imagee: alpine\n",
    )
    .unwrap();
    let out = run(&["import", unknown.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error[E004]: unknown field `imagee`"),
        "{stderr}"
    );
    assert!(stderr.contains("unknown.yaml:8:5"), "{stderr}");

    let out = run(&["import", "tests/fixtures/import/no-such-file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read"),
        "{}",
        text(&out.stderr)
    );

    let out = run(&["import"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cli_out_dir_writes_one_script_per_file() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(input.join("more")).unwrap();
    std::fs::copy(fixture("pipeline.yaml"), input.join("ci.yaml")).unwrap();
    std::fs::copy(fixture("task.yaml"), input.join("more/clone.yml")).unwrap();
    std::fs::write(input.join("notes.txt"), "not yaml").unwrap();
    let out_dir = tmp.path().join("out");
    let args = [
        "import",
        input.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
    ];
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let ci = out_dir.join("ci.rhai");
    let clone = out_dir.join("more/clone.rhai");
    assert!(ci.is_file() && clone.is_file(), "{}", text(&out.stderr));
    assert!(!out_dir.join("notes.rhai").exists());

    // the scripts build what the YAML held
    for (script, yaml) in [
        (&ci, fixture("pipeline.yaml")),
        (&clone, fixture("task.yaml")),
    ] {
        let built = run(&["build", script.to_str().unwrap()]);
        assert_eq!(built.status.code(), Some(0), "{}", text(&built.stderr));
        let got: Vec<serde_json::Value> =
            tekscript::emit::yaml::parse_documents(&text(&built.stdout)).unwrap();
        let want = read("x.yaml", &std::fs::read_to_string(yaml).unwrap()).unwrap();
        let got: Vec<Resource> = got
            .into_iter()
            .map(|v| Resource::from_json(v).unwrap())
            .collect();
        assert_eq!(
            tekscript::import::defaults::difference(&want, &got),
            None,
            "{}",
            script.display()
        );
    }

    // existing scripts are kept unless --force
    std::fs::write(&ci, "// edited by hand\n").unwrap();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&ci).unwrap(), "// edited by hand\n");
    let mut forced = args.to_vec();
    forced.push("--force");
    let out = run(&forced);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(&ci)
            .unwrap()
            .starts_with("// Generated")
    );
}

#[test]
fn cli_reads_stdin() {
    let mut child = bin()
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let yaml = std::fs::read_to_string(fixtures_dir().join("v1beta1.yaml")).unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(yaml.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("from <stdin>"), "{stdout}");
    assert!(stdout.contains("computeResources"), "{stdout}");
}

#[test]
fn cli_several_files_make_one_script_on_stdout() {
    // one Task definition serves the pipeline of the other file
    let tmp = tempfile::tempdir().unwrap();
    let text_of = |n: &str| std::fs::read_to_string(fixture(n)).unwrap();
    let pipeline = text_of("pipeline.yaml");
    let (tasks, rest): (Vec<&str>, Vec<&str>) = pipeline
        .split("\n---\n")
        .partition(|d| d.contains("kind: Task\n"));
    std::fs::write(tmp.path().join("a-tasks.yaml"), tasks.join("\n---\n")).unwrap();
    std::fs::write(tmp.path().join("b-pipeline.yaml"), rest.join("\n---\n")).unwrap();
    let out = run(&["import", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ci.task(\"build\", build_task,"),
        "{stdout}"
    );
    assert!(!stdout.contains("task_ref("), "{stdout}");
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
}
