//! Bad input gets a diagnostic, never a panic: every example, mutated in many deterministic ways
//! (characters deleted, duplicated or replaced), compiles to YAML or to rendered diagnostics.

use std::path::Path;
use tekscript::Options;

/// A small deterministic generator (no external crates, same sequence on every machine).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(text: &str, rng: &mut Lcg) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    for _ in 0..1 + rng.below(3) {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        let len = 1 + rng.below(12).min(out.len() - at - 1);
        match rng.below(4) {
            0 => {
                out.drain(at..at + len);
            }
            1 => {
                let piece: Vec<char> = out[at..at + len].to_vec();
                out.splice(at..at, piece);
            }
            2 => {
                let pool = [
                    '"', '`', '{', '}', '(', ')', '$', '#', ',', ':', 'é', '\n', '0',
                ];
                out[at] = pool[rng.below(pool.len())];
            }
            _ => {
                let other = rng.below(chars.len());
                let take = len.min(chars.len() - other);
                out.splice(at..at, chars[other..other + take].iter().copied());
            }
        }
    }
    out.into_iter().collect()
}

#[test]
fn mutated_examples_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai") && !super::examples::is_test_file(p))
        .collect();
    files.sort();
    let mut rng = Lcg(0x7e45c819);
    let (mut ok, mut failed) = (0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for i in 0..60 {
            let mutated = mutate(&text, &mut rng);
            let name = format!("{}#{i}", f.file_name().unwrap().to_string_lossy());
            let result = std::panic::catch_unwind(|| {
                match tekscript::compile_str(&name, &mutated, &Options::default()) {
                    Ok(c) => {
                        let _ = c.to_yaml();
                        true
                    }
                    Err(failure) => {
                        let text = failure.render_plain();
                        assert!(text.contains("error"), "{text}");
                        false
                    }
                }
            });
            match result {
                Ok(true) => ok += 1,
                Ok(false) => failed += 1,
                Err(_) => panic!("panic on mutation {i} of {}:\n{mutated}", f.display()),
            }
        }
    }
    println!("{ok} mutated scripts compiled, {failed} were rejected with diagnostics");
    assert!(failed > 0);
}

#[test]
fn mutated_yaml_never_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut rng = Lcg(0x5eed_4a31);
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for i in 0..60 {
            let path = tmp.path().join(format!("m{i}.yaml"));
            std::fs::write(&path, mutate(&text, &mut rng)).unwrap();
            let result = std::panic::catch_unwind(|| {
                match tekscript::check_yaml_files(std::slice::from_ref(&path), &Options::default())
                {
                    Ok(_) => {}
                    Err(failure) => {
                        let _ = failure.render_plain();
                    }
                }
            });
            assert!(result.is_ok(), "panic on mutation {i} of {}", f.display());
            checked += 1;
        }
    }
    println!("{checked} mutated YAML files checked without a panic");
}

// ---------------------------------------------------------------------------------------------
// The bounded fuzz harness: generated (not only mutated) inputs for every way bad input gets in —
// script text, YAML for `check` and `import`, `--set` and `--values`. A fixed seed and a fixed
// number of iterations keep it deterministic and well under 30 s in a debug build. Each input must
// end in a result or in diagnostics, never in a panic (an abort or a stack overflow would take the
// test binary down, which fails the run as loudly).

impl Lcg {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Odd text: control characters, quotes, `$(`, unicode, a BOM, long runs.
fn odd_text(rng: &mut Lcg) -> String {
    let pieces = [
        "a",
        "build",
        "x-1",
        "$(params.x)",
        "$(tasks.a.results.r)",
        "\\x1b[31m",
        "\\u{202e}",
        "é",
        "\"",
        "'",
        "`",
        "\\",
        "\\n",
        "{",
        "}",
        "#{",
        "[",
        "]",
        "\u{feff}",
        "0755",
        "on",
        "",
        "$(",
        ")",
        "..",
        "/",
        "a.b",
        "-",
        "\t",
        "🦀",
    ];
    let mut s = String::new();
    for _ in 0..rng.below(6) {
        s.push_str(rng.pick(&pieces));
    }
    if rng.chance(3) {
        s.push_str(&"x".repeat(rng.below(5000)));
    }
    s
}

fn gen_value(rng: &mut Lcg, depth: usize) -> String {
    if depth > 6 {
        return "1".into();
    }
    match rng.below(12) {
        0 => format!("{:?}", odd_text(rng)),
        1 => format!("{}", rng.next() as i64 - (1 << 30)),
        2 => "()".into(),
        3 => "true".into(),
        4 => format!(
            "[{}]",
            (0..rng.below(4))
                .map(|_| gen_value(rng, depth + 1))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        5 => format!(
            "#{{ {} }}",
            (0..rng.below(4))
                .map(|_| format!(
                    "{}: {}",
                    rng.pick(&[
                        "name",
                        "image",
                        "params",
                        "default",
                        "\"a.b\"",
                        "runAfter",
                        "workspaces",
                        "env",
                        "timeout",
                        "retries",
                        "embed",
                        "x"
                    ]),
                    gen_value(rng, depth + 1)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        6 => "values".into(),
        7 => format!("values.get({:?})", odd_text(rng)),
        8 => "t".into(),
        9 => "p".into(),
        10 => {
            // deep nesting, past the parser's expression depth sometimes
            let n = rng.below(150);
            format!("{}1{}", "[".repeat(n), "]".repeat(n))
        }
        _ => format!(
            "{}.{}",
            rng.pick(&["\"1.5\"", "t", "p", "[1, 2]", "#{a: 1}"]),
            rng.pick(&[
                "len()",
                "to_string()",
                "keys()",
                "result(\"r\")",
                "param(\"x\")"
            ])
        ),
    }
}

fn gen_statement(rng: &mut Lcg) -> String {
    let v = gen_value(rng, 0);
    let w = gen_value(rng, 0);
    match rng.below(20) {
        0 => format!("let v{} = {v};", rng.below(5)),
        1 => format!("t.step({:?}, \"alpine:3.20\", {v});", odd_text(rng)),
        2 => format!("t.step({v});"),
        3 => format!("p.task({:?}, t, {v});", odd_text(rng)),
        4 => format!(
            "p.task(\"a{}\", t, #{{ runAfter: [{:?}], params: {v} }});",
            rng.below(9),
            odd_text(rng)
        ),
        5 => format!("t.param({:?}, {v});", odd_text(rng)),
        6 => format!("t.result({:?});", odd_text(rng)),
        7 => format!("p.param({:?});", odd_text(rng)),
        8 => format!("p.workspace({:?});", odd_text(rng)),
        9 => format!(
            "emit({});",
            rng.pick(&["t", "p", "p.run(#{})", "[t, p]", "1", "t.run(#{})"])
        ),
        10 => format!(
            "import {:?} as m{};",
            rng.pick(&[
                "git",
                "kaniko",
                "gti",
                "main",
                "",
                "../x",
                "/etc/passwd",
                "shell"
            ]),
            rng.below(3)
        ),
        11 => format!(
            "for i in 0..{} {{ {} }}",
            rng.below(50),
            gen_statement_simple(rng)
        ),
        12 => format!(
            "fn f{}(x) {{ {} }}",
            rng.below(3),
            gen_statement_simple(rng)
        ),
        13 => format!("if {v} == {w} {{ {} }}", gen_statement_simple(rng)),
        14 => format!("throw {:?};", odd_text(rng)),
        15 => format!("print({v}); debug({w});"),
        16 => format!("let x = {v}; x = [x]; x = #{{ a: x }};"),
        17 => format!("p.finally({:?}, t);", odd_text(rng)),
        18 => format!("t.label({:?}, {:?});", odd_text(rng), odd_text(rng)),
        _ => format!(
            "{}(){};",
            rng.pick(&[
                "sleep",
                "file",
                "task",
                "pipeline",
                "parse_json",
                "timestamp",
                "eval",
                "exit"
            ]),
            rng.pick(&["", ".x", "[0]"])
        ),
    }
}

fn gen_statement_simple(rng: &mut Lcg) -> String {
    match rng.below(4) {
        0 => "p.task(\"t\" + i, t);".into(),
        1 => "t.param(\"x\" + i);".into(),
        2 => "let a = [a];".into(),
        _ => "print(i);".into(),
    }
}

/// A statement that is usually valid, so that generated scripts also reach validation and YAML.
fn gen_valid_statement(rng: &mut Lcg) -> String {
    let n = rng.below(6);
    let m = rng.below(6);
    let word = rng.pick(&["x", "image", "revision", "tag", "url", "a.b"]);
    match rng.below(12) {
        0 => format!(
            "let t{n} = task(\"t{n}\").step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\necho $(params.{word})\"); t{n}.param(\"{word}\");"
        ),
        1 => format!("p.task(\"a{n}\", t, #{{ runAfter: [\"a{m}\"] }});"),
        2 => format!("p.task(\"a{n}\", t, #{{ params: #{{ {word:?}: p.param(\"{word}\") }} }});"),
        3 => format!("let r{n} = t.result(\"r{n}\");"),
        4 => format!("p.task(\"b{n}\", t, #{{ embed: true, retries: {m}, timeout: \"{m}m\" }});"),
        5 => format!("p.finally(\"f{n}\", t);"),
        6 => format!(
            "let w = p.workspace(\"w{n}\"); p.task(\"c{n}\", t, #{{ workspaces: #{{ src: w }} }});"
        ),
        7 => format!(
            "t.step(#{{ name: \"e{n}\", image: \"alpine:3.20\", script: \"#!/bin/sh\\ntrue\", env: [#{{ name: \"V{m}\", value: \"{m}\" }}] }});"
        ),
        8 => format!(
            "p.task(\"d{n}\", task_ref(\"git-clone\"), #{{ params: #{{ url: \"https://x/{m}\" }} }});"
        ),
        9 => format!("emit(p.run(#{{ params: #{{ {word:?}: \"{m}\" }} }}));"),
        10 => format!(
            "t.label(\"team\", \"t{m}\").annotation(\"note\", {:?});",
            odd_text(rng)
        ),
        _ => format!("for i in 0..{m} {{ p.task(\"l\" + i + \"-{n}\", t); }}"),
    }
}

fn gen_script(rng: &mut Lcg) -> String {
    let mut s = String::new();
    if rng.chance(5) {
        s.push('\u{feff}');
    }
    s.push_str("let t = task(\"t\").step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\necho hi\");\n");
    s.push_str("let p = pipeline(\"p\");\nlet a = [];\n");
    let hostile = rng.chance(50);
    for _ in 0..1 + rng.below(8) {
        let statement = if hostile && rng.chance(40) {
            gen_statement(rng)
        } else {
            gen_valid_statement(rng)
        };
        s.push_str(&statement);
        s.push('\n');
    }
    if rng.chance(70) {
        s.push_str("emit(p);\n");
    }
    s
}

/// A Tekton-shaped YAML stream with random values, random structure damage and YAML tricks.
fn gen_yaml(rng: &mut Lcg) -> String {
    let scalar = |rng: &mut Lcg| -> String {
        match rng.below(8) {
            0 => format!("{:?}", odd_text(rng)),
            1 => rng
                .pick(&[
                    "yes",
                    "on",
                    "~",
                    "0755",
                    "1e3",
                    "-1",
                    ".inf",
                    "null",
                    "''",
                    "!!binary aGk=",
                ])
                .to_string(),
            2 => "[a, b]".into(),
            3 => "{a: 1}".into(),
            4 => "*anchor".into(),
            5 => format!(
                "{}a{}",
                "[".repeat(rng.below(80)),
                "]".repeat(rng.below(80))
            ),
            _ => rng
                .pick(&["alpine:3.20", "build", "10m", "abc", "$(params.x)", ""])
                .to_string(),
        }
    };
    let mut docs = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let kind = rng.pick(&[
            "Task",
            "Pipeline",
            "PipelineRun",
            "TaskRun",
            "StepAction",
            "ConfigMap",
            "",
        ]);
        let api = rng.pick(&["tekton.dev/v1", "tekton.dev/v1beta1", "v1", "tekton.dev/v2"]);
        let mut d = format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {}\n  labels:\n    {}: {}\n",
            scalar(rng),
            scalar(rng),
            scalar(rng)
        );
        d.push_str("spec:\n");
        match kind {
            "Pipeline" | "PipelineRun" => {
                let base = if kind == "PipelineRun" {
                    "  pipelineSpec:\n    "
                } else {
                    "  "
                };
                d.push_str(&format!("{base}tasks:\n"));
                for i in 0..rng.below(4) {
                    d.push_str(&format!("{base}- name: {}\n{base}  runAfter: [{}]\n{base}  {}:\n{base}    name: {}\n", if rng.chance(80) { format!("t{i}") } else { scalar(rng) }, scalar(rng), rng.pick(&["taskRef", "pipelineRef", "taskSpec", "pipelineSpec"]), scalar(rng)));
                }
            }
            _ => {
                d.push_str(&format!(
                    "  params:\n  - name: {}\n    default: {}\n  steps:\n",
                    scalar(rng),
                    scalar(rng)
                ));
                for _ in 0..rng.below(3) {
                    d.push_str(&format!("  - name: {}\n    image: {}\n    env:\n    - name: {}\n    computeResources:\n      limits:\n        cpu: {}\n    script: |\n      #!/bin/sh\n      echo {}\n", scalar(rng), scalar(rng), scalar(rng), scalar(rng), odd_text(rng).replace('\n', " ")));
                }
            }
        }
        docs.push(d);
    }
    let mut text = docs.join("---\n");
    if rng.chance(10) {
        text = format!("x: &anchor\n  a: 1\n---\n{text}");
    }
    if rng.chance(5) {
        text.insert(0, '\u{feff}');
    }
    if rng.chance(30) {
        text = mutate(&text, rng);
    }
    text
}

#[test]
fn fuzz_scripts_never_panic() {
    let mut rng = Lcg(0x0f22_5c41);
    let (mut ok, mut failed) = (0, 0);
    let mut codes = std::collections::BTreeMap::new();
    for i in 0..400 {
        let text = gen_script(&mut rng);
        let result = std::panic::catch_unwind(|| {
            match tekscript::compile_str(&format!("gen{i}.rhai"), &text, &Options::default()) {
                Ok(c) => {
                    let _ = c.to_yaml();
                    let _ = tekscript::emit::layout(&c.emit_docs(), "gen.rhai");
                    None
                }
                Err(f) => {
                    let rendered = f.render_plain();
                    assert!(rendered.contains("error["), "{rendered}");
                    Some(f.diagnostics.0[0].code.to_string())
                }
            }
        });
        match result {
            Ok(None) => ok += 1,
            Ok(Some(code)) => {
                failed += 1;
                *codes.entry(code).or_insert(0) += 1;
            }
            Err(_) => panic!("panic on generated script {i}:\n{text}"),
        }
    }
    println!(
        "fuzz: {ok} generated scripts compiled, {failed} rejected with diagnostics (first codes: {codes:?})"
    );
    assert!(ok > 0 && failed > 0);
}

#[test]
fn fuzz_yaml_for_check_never_panics() {
    let mut rng = Lcg(0x9a11_0e77);
    let tmp = tempfile::tempdir().unwrap();
    let (mut ok, mut failed) = (0, 0);
    for i in 0..300 {
        let text = gen_yaml(&mut rng);
        let path = tmp.path().join(format!("g{i}.yaml"));
        std::fs::write(&path, &text).unwrap();
        let result = std::panic::catch_unwind(|| {
            match tekscript::check_yaml_files(std::slice::from_ref(&path), &Options::default()) {
                Ok(_) => true,
                Err(f) => {
                    let rendered = f.render_plain();
                    assert!(rendered.contains("error"), "{rendered}");
                    false
                }
            }
        });
        match result {
            Ok(true) => ok += 1,
            Ok(false) => failed += 1,
            Err(_) => panic!("panic on generated YAML {i}:\n{text}"),
        }
    }
    println!("fuzz: {ok} generated YAML files checked clean, {failed} rejected with diagnostics");
    assert!(failed > 0);
}

#[test]
fn fuzz_set_and_values_never_panic() {
    let mut rng = Lcg(0x5e7_0a1e);
    let script = "let p = pipeline(\"p\");\nlet t = task(\"t\").step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\necho \" + values.to_json());\nfor k in values.keys() { t.param(k); }\np.task(\"a\", t);\nemit(p);\n";
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..300 {
        let mut opts = Options::default();
        let mut errors = Vec::new();
        for _ in 0..rng.below(4) {
            let key = match rng.below(5) {
                0 => odd_text(&mut rng),
                1 => vec!["a"; rng.below(100)].join("."),
                2 => format!("{}.{}", odd_text(&mut rng), odd_text(&mut rng)),
                _ => rng
                    .pick(&["name", "image.tag", "a..b", ".a", "x="])
                    .to_string(),
            };
            let pair = if rng.chance(85) {
                format!("{key}={}", odd_text(&mut rng))
            } else {
                key
            };
            if let Err(e) = opts.set(&pair) {
                errors.push(e);
            }
        }
        if rng.chance(60) {
            let yaml = match rng.below(4) {
                0 => gen_yaml(&mut rng),
                1 => format!("{}a: 1{}", "- ".repeat(rng.below(100)), "\n"),
                2 => format!("k: {}\n", "[".repeat(rng.below(200))),
                _ => format!(
                    "name: {:?}\nimage:\n  tag: {:?}\n",
                    odd_text(&mut rng),
                    odd_text(&mut rng)
                ),
            };
            if let Err(e) = opts.merge_values_yaml(&yaml) {
                errors.push(e);
            }
        }
        assert!(errors.iter().all(|e| !e.is_empty()));
        let result = std::panic::catch_unwind(|| {
            tekscript::compile_str("values.rhai", script, &opts).map(|c| c.to_yaml())
        });
        match result {
            Ok(Ok(_)) => accepted += 1,
            Ok(Err(f)) => {
                assert!(f.render_plain().contains("error["));
                refused += 1
            }
            Err(_) => panic!("panic on values input {i}: {:?}", opts.values),
        }
    }
    println!("fuzz: {accepted} value sets compiled, {refused} rejected");
    assert!(accepted > 0);
}

/// The binary, end to end: `import -`, `check`, `build --set/--values` on generated input exit 0,
/// 1 or 2 (never killed by a signal), and say something on stderr when they fail.
#[test]
fn fuzz_the_binary_never_crashes() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut rng = Lcg(0xc11_f022);
    let tmp = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_tekscript");
    let check = |out: std::process::Output, what: &str| {
        let code = out.status.code();
        assert!(
            matches!(code, Some(0..=2)),
            "{what}: exit {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        if code != Some(0) {
            assert!(!out.stderr.is_empty(), "{what}: failed silently");
        }
    };
    for i in 0..40 {
        let yaml = gen_yaml(&mut rng);
        let mut child = Command::new(exe)
            .args(["import", "-"])
            .current_dir(tmp.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(yaml.as_bytes());
        check(
            child.wait_with_output().unwrap(),
            &format!("import #{i}:\n{yaml}"),
        );

        let script = gen_script(&mut rng);
        std::fs::write(tmp.path().join("s.rhai"), &script).unwrap();
        std::fs::write(tmp.path().join("v.yaml"), gen_yaml(&mut rng)).unwrap();
        let set = format!("{}={}", odd_text(&mut rng), odd_text(&mut rng));
        let out = Command::new(exe)
            .args([
                "build", "s.rhai", "--values", "v.yaml", "--set", &set, "-o", "out",
            ])
            .current_dir(tmp.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        check(out, &format!("build #{i}:\n{script}"));
        let out = Command::new(exe)
            .args(["check", "v.yaml", "--message-format", "json"])
            .current_dir(tmp.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        check(out, &format!("check #{i}"));
    }
}
