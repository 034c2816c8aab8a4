//! Script API tests: one-line `pass(src)` / `fail(src, code, substring)` helpers over the whole compile.

use crate::diag::codes::{self, Code};
use crate::{Compilation, Options, compile_file, compile_str};

fn opts() -> Options {
    Options::default()
}

#[track_caller]
fn pass(src: &str) -> Compilation {
    match compile_str("test.rhai", src, &opts()) {
        Ok(c) => c,
        Err(f) => panic!("expected success, got:\n{}", f.render_plain()),
    }
}

#[track_caller]
fn yaml(src: &str) -> String {
    pass(src).to_yaml()
}

#[track_caller]
fn fail(src: &str, code: &Code, substring: &str) -> String {
    match compile_str("test.rhai", src, &opts()) {
        Ok(c) => panic!("expected {code}, got success:\n{}", c.to_yaml()),
        Err(f) => {
            let text = f.render_plain();
            assert!(
                f.diagnostics.iter().any(|d| d.code == code),
                "expected code {code}, got:\n{text}"
            );
            assert!(
                text.contains(substring),
                "expected `{substring}` in:\n{text}"
            );
            text
        }
    }
}

#[test]
fn handles_render_as_tekton_variables() {
    let y = yaml(
        r##"
        let t = task("t");
        let p = t.param("items", #{ type: "array" });
        let o = t.param("cfg", #{ properties: ["url"] });
        let w = t.workspace("src");
        let r = t.result("digest");
        t.step(#{ name: "a", image: "alpine:3.20", script: "#!/bin/sh\ntrue", results: ["b"] });
        t.step("s", "alpine:3.20", `echo ${p[1]} ${o["url"]} ${w} ${w.bound} ${w.claim} ${r}`);
        t.step(#{ name: "u", image: "alpine:3.20", args: [p.all, `${step_result("a", "b")}`] });
        emit(t);
        "##,
    );
    assert!(
        y.contains("echo $(params.items[1]) $(params.cfg.url) $(workspaces.src.path) $(workspaces.src.bound) $(workspaces.src.claim) $(results.digest.path)"),
        "{y}"
    );
    assert!(y.contains("type: object"), "{y}");
    assert!(
        y.contains("- $(params.items[*])\n    - $(steps.a.results.b)"),
        "{y}"
    );
}

#[test]
fn dotted_param_names_use_the_bracket_form() {
    let y = yaml(
        r#"let t = task("t"); let p = t.param("a.b"); t.step("s", "alpine:3.20", `echo ${p}`); emit(t);"#,
    );
    assert!(y.contains(r#"echo $(params["a.b"])"#), "{y}");
}

#[test]
fn result_refs_render_and_finally_results_use_the_finally_prefix() {
    let y = yaml(
        r#"
        let b = task("b"); b.param("d", #{ default: "" }); b.result("digest"); b.step("s", "alpine:3.20", "true");
        let p = pipeline("p");
        let build = p.task("build", b);
        let consumer = p.task("consumer", b, #{ params: #{ d: build.result("digest") } });
        let f = p.finally("f", b);
        p.result("d", build.result("digest"));
        p.result("fd", f.result("digest"));
        emit(p);
        "#,
    );
    assert!(y.contains("value: $(tasks.build.results.digest)"), "{y}");
    assert!(y.contains("value: $(finally.f.results.digest)"), "{y}");
    // the shared task is emitted once, before the pipeline, and referenced by name
    let task_doc = "apiVersion: tekton.dev/v1\nkind: Task\n";
    assert_eq!(y.matches(task_doc).count(), 1, "{y}");
    assert!(y.find(task_doc).unwrap() < y.find("kind: Pipeline").unwrap());
    assert_eq!(y.matches("name: b\n      kind: Task").count(), 3, "{y}");
}

#[test]
fn embedding_puts_the_task_spec_inline() {
    let y = yaml(
        r#"
        let p = pipeline("p");
        p.task("a", task("t").step("s", "alpine:3.20", "true"), #{ embed: true });
        emit(p);
        "#,
    );
    assert!(
        !y.contains("apiVersion: tekton.dev/v1\nkind: Task\n"),
        "{y}"
    );
    assert!(y.contains("taskSpec:"), "{y}");
}

#[test]
fn unknown_key_is_an_error_with_a_suggestion() {
    fail(
        r#"emit(task("x").step(#{ name: "a", imagee: "alpine" }));"#,
        codes::E004,
        "did you mean `image`?",
    );
    fail(
        r#"let p = pipeline("p"); p.task("a", task("t"), #{ runafter: [] }); emit(p);"#,
        codes::E004,
        "did you mean `runAfter`?",
    );
}

#[test]
fn unknown_key_in_a_kubernetes_struct_is_not_dropped() {
    fail(
        r#"emit(task("x").step(#{ name: "a", image: "alpine", securityContext: #{ privilegedd: true } }));"#,
        codes::E004,
        "privilegedd",
    );
}

#[test]
fn wrong_type_is_an_error() {
    fail(
        r#"emit(task("x").step(#{ name: "a", image: "alpine", args: "-v" }));"#,
        codes::E003,
        "args",
    );
}

#[test]
fn unknown_function_suggests_the_closest_name() {
    let t = fail(
        r#"task("x").stepp("a", "alpine", "echo");"#,
        codes::E002,
        "did you mean `step`?",
    );
    assert!(t.contains("stepp(Task, string, string, string)"), "{t}");
}

#[test]
fn syntax_error_points_at_the_token() {
    let t = fail(
        "let p = pipeline(\"ci\"\nemit(p);",
        codes::E001,
        "syntax error",
    );
    assert!(t.contains("test.rhai:2:1"), "{t}");
}

#[test]
fn reserved_word_default_is_a_plain_key() {
    let y = yaml(
        r#"let t = task("t"); t.param("r", #{ default: "main" }); t.step("s", "alpine:3.20", "true"); emit(t);"#,
    );
    assert!(y.contains("default: main"), "{y}");
}

#[test]
fn reserved_words_are_plain_identifiers() {
    // issue 13 §3: the tutorial's `let shared = ..` and a catalog param called `package`
    let y = yaml(
        r#"let shared = "ws"; let package = #{ new: 1, match: "m", go: shared };
        let t = task("t"); t.param("package", #{ default: package.match });
        t.workspace(shared); t.step("s", "alpine:3.20", "true"); emit(t);"#,
    );
    assert!(
        y.contains("name: package") && y.contains("default: m") && y.contains("name: ws"),
        "{y}"
    );
}

#[test]
fn keyword_as_key_explains_quoting_that_word() {
    // issue 13 §2.8: the help names the keyword that was used, not always `shared`
    fail(
        r#"let t = task("t"); t.param("r", #{ if: "main" });"#,
        codes::E001,
        r##"`if` is a Rhai keyword: quote it as a map key (`#{ "if": x }`)"##,
    );
    let y = yaml(
        r#"let t = task("t"); t.param("r", #{ "default": "main" }); t.step("s", "alpine:3.20", "true"); emit(t);"#,
    );
    assert!(y.contains("default: main"), "{y}");
}

#[test]
fn unknown_variable_is_reported() {
    fail("emit(task(name));", codes::E009, "unknown variable `name`");
}

#[test]
fn endless_loop_hits_the_operations_limit() {
    fail("let x = 0; loop { x += 1; }", codes::E005, "operations");
}

#[test]
fn runaway_recursion_hits_the_call_depth_limit() {
    fail("fn f(n) { f(n + 1) } f(0);", codes::E005, "nested deeper");
}

#[test]
fn huge_strings_hit_the_size_limit() {
    fail(r#"let s = "x"; loop { s += s; }"#, codes::E005, "limit");
}

#[test]
fn missing_map_property_is_reported() {
    fail("let m = #{}; m.foo", codes::E013, "m.get(\"foo\")");
}

#[test]
fn throw_becomes_e006() {
    fail(
        r#"throw "pass --set env=prod";"#,
        codes::E006,
        "pass --set env=prod",
    );
}

#[test]
fn emitting_nothing_is_an_error() {
    fail(r#"let t = task("t");"#, codes::E012, "emitted nothing");
}

#[test]
fn two_different_tasks_with_one_name_conflict() {
    fail(
        r#"
        emit(task("t").step("a", "alpine:3.20", "true"));
        emit(task("t").step("b", "alpine:3.20", "true"));
        "#,
        codes::E011,
        "two different Tasks are both named `t`",
    );
}

#[test]
fn unknown_task_result_is_reported_at_the_call() {
    fail(
        r#"let t = task("x").step("s", "alpine:3.20", "true"); t.result("digest");
        let p = pipeline("p"); let a = p.task("a", t); p.result("r", a.result("digets")); emit(p);"#,
        codes::E015,
        "did you mean `digest`?",
    );
}

#[test]
fn durations_are_canonical() {
    let y = yaml(
        r#"let p = pipeline("p"); p.task("a", task_ref("x"), #{ timeout: "90s" }); emit(p);
        emit(p.run(#{ timeouts: #{ pipeline: "1h", tasks: "30m" } }));"#,
    );
    assert!(y.contains("timeout: 1m30s"), "{y}");
    assert!(y.contains("pipeline: 1h0m0s"), "{y}");
    assert!(y.contains("tasks: 30m0s"), "{y}");
    fail(
        r#"let p = pipeline("p"); p.task("a", task_ref("x"), #{ timeout: "ten minutes" }); emit(p);"#,
        codes::E010,
        "invalid duration",
    );
}

#[test]
fn values_come_from_set_and_are_hermetic() {
    let mut o = opts();
    o.set("name=svc").unwrap();
    o.set("image.tag=v1").unwrap();
    let c = compile_str(
        "v.rhai",
        r#"emit(task(values.name).step("s", `alpine:${values.image.tag}`, "true"));"#,
        &o,
    )
    .map_err(|f| f.render_plain())
    .unwrap();
    let y = c.to_yaml();
    assert!(
        y.contains("name: svc") && y.contains("image: alpine:v1"),
        "{y}"
    );
    // no clock
    fail("timestamp();", codes::E002, "timestamp");
    // no eval
    fail(r#"eval("1");"#, codes::E001, "eval");
}

#[test]
fn workspace_bindings_and_resolvers() {
    let y = yaml(
        r#"
        let p = pipeline("p");
        let ws = p.workspace("data");
        p.task("hub", from_hub("git-clone", "0.9"), #{ workspaces: #{ output: ws } });
        p.task("git", from_git(#{ url: "https://github.com/o/r", revision: "main", pathInRepo: "t.yaml" }));
        p.task("bundle", from_bundle("ghcr.io/o/b:1", "build"));
        p.task("cluster", from_cluster("lint", #{ namespace: "ci" }));
        p.task("sub", task_ref("x"), #{ workspaces: #{ output: #{ workspace: ws, subPath: "dir" } } });
        emit(p);
        emit(p.run(#{ name: "r1", workspaces: #{ data: pvc("claim") + #{ subPath: "x" } } }));
        "#,
    );
    assert!(y.contains("resolver: hub"), "{y}");
    assert!(y.contains("- name: kind\n        value: task"), "{y}");
    assert!(y.contains("resolver: bundles"), "{y}");
    assert!(y.contains("subPath: dir"), "{y}");
    assert!(y.contains("claimName: claim"), "{y}");
    assert!(y.contains("name: r1"), "{y}");
}

#[test]
fn pipeline_workspace_cannot_be_passed_as_a_param_value() {
    fail(
        r#"let p = pipeline("p"); let w = p.workspace("w"); p.task("a", task_ref("x"), #{ params: #{ dir: w } }); emit(p);"#,
        codes::E010,
        "has no path",
    );
}

#[test]
fn errors_inside_modules_carry_the_call_trace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lib.rhai"),
        "fn make(n) {\n    task(n).step(#{ name: \"s\", imagee: \"x\" })\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ci.rhai"),
        "import \"lib\" as lib;\nemit(lib::make(\"t\"));\n",
    )
    .unwrap();
    let f = compile_file(&dir.path().join("ci.rhai"), &opts()).unwrap_err();
    let text = f.render_plain();
    let d = &f.diagnostics.0[0];
    assert_eq!(d.code, codes::E004);
    assert_eq!(d.trace.len(), 1, "{text}");
    assert!(text.contains("lib.rhai:2:"), "{text}");
    assert!(text.contains("in this call to `make`"), "{text}");
}

#[test]
fn file_is_confined_to_the_script_directory() {
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("proj");
    std::fs::create_dir_all(proj.join("scripts")).unwrap();
    std::fs::write(proj.join("scripts/t.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::write(dir.path().join("secret"), "x").unwrap();
    std::fs::write(
        proj.join("ok.rhai"),
        r#"emit(task("t").step("s", "alpine:3.20", file("scripts/t.sh")));"#,
    )
    .unwrap();
    let y = compile_file(&proj.join("ok.rhai"), &opts())
        .map_err(|f| f.render_plain())
        .unwrap()
        .to_yaml();
    assert!(y.contains("echo hi"), "{y}");
    for bad in ["../secret", "/etc/passwd", "missing.sh"] {
        std::fs::write(
            proj.join("bad.rhai"),
            format!(r#"emit(task("t").step("s", "alpine:3.20", file("{bad}")));"#),
        )
        .unwrap();
        let f = compile_file(&proj.join("bad.rhai"), &opts()).unwrap_err();
        assert_eq!(f.diagnostics.0[0].code, codes::E007, "{}", f.render_plain());
    }
}

#[test]
fn unknown_module_suggests_stdlib_names() {
    fail(
        r#"import "gti" as g;"#,
        codes::E008,
        "did you mean the stdlib module `git`?",
    );
}

#[test]
fn dedent_strips_common_indentation() {
    use super::api::dedent;
    assert_eq!(
        dedent("\n    #!/bin/sh\n    echo hi\n      indented\n    "),
        "#!/bin/sh\necho hi\n  indented\n"
    );
    assert_eq!(dedent("a\n b"), "a\n b");
    assert_eq!(dedent("  x\n\n  y\n"), "x\n\ny\n");
}

#[test]
fn task_workspaces_accept_plain_names() {
    let y = yaml(
        r#"emit(task("t", #{ workspaces: ["src", #{ name: "out", optional: true }] }).step("s", "alpine:3.20", "true"));"#,
    );
    assert!(y.contains("- name: src\n"), "{y}");
    assert!(y.contains("optional: true"), "{y}");
}

#[test]
fn runs_bring_what_they_reference() {
    // a run that embeds its pipeline is self-contained: local tasks are embedded too
    let y = yaml(
        r#"let t = task("echo").step("s", "alpine:3.20", "echo hi");
        let p = pipeline("parent"); p.task("a", t);
        emit(p.run(#{ embed: true }));"#,
    );
    assert!(!y.contains("taskRef"), "{y}");
    assert!(!y.contains("kind: Pipeline\n"), "{y}");
    assert!(
        y.contains("pipelineSpec:") && y.contains("taskSpec:"),
        "{y}"
    );
    // a run that references its pipeline by name gets the pipeline and its tasks emitted first
    let y = yaml(
        r#"let t = task("echo").step("s", "alpine:3.20", "echo hi");
        let p = pipeline("parent"); p.task("a", t);
        emit(p.run());
        emit(t.run());"#,
    );
    let order: Vec<&str> = y.lines().filter(|l| l.starts_with("kind: ")).collect();
    assert_eq!(
        order,
        [
            "kind: Task",
            "kind: Pipeline",
            "kind: PipelineRun",
            "kind: TaskRun"
        ],
        "{y}"
    );
}

#[test]
fn workspace_binding_list_form_takes_handles() {
    let y = yaml(
        r#"let p = pipeline("p"); let ws = p.workspace("src");
        p.task("a", task_ref("x"), #{ workspaces: [#{ name: "output", workspace: ws, subPath: "d" }] });
        emit(p);"#,
    );
    assert!(
        y.contains("- name: output\n      workspace: src\n      subPath: d"),
        "{y}"
    );
}

#[test]
fn task_ref_keeps_a_given_kind() {
    // (as in Tekton's own `emit-array-results.yaml`; in a pipeline task a kind other than `Task` means a
    // custom task, which the checker rejects without an apiVersion, as Tekton does)
    let y = yaml(r#"emit(task_run(task_ref("x", #{ kind: "task" }), #{ name: "r" }));"#);
    assert!(y.contains("name: x\n    kind: task\n"), "{y}");
    fail(
        r#"task_ref("x", #{ knd: "task" });"#,
        codes::E004,
        "did you mean `kind`?",
    );
}

#[test]
fn the_watchdog_ends_quadratic_copying() {
    // `a = [a]` copies the whole nested array on every iteration; Rhai counts one operation for
    // it. The watchdog (10 s in the binary, shortened here) ends it with E005.
    let input = crate::script::ScriptInput {
        name: "nest.rhai".into(),
        text: "let a = []; for i in 0..100000 { a = [a]; }".into(),
        root: None,
        values: serde_json::Value::Object(Default::default()),
    };
    let (sources, result, _) =
        crate::script::evaluate_within(input, std::time::Duration::from_millis(300));
    let diags = result.expect_err("stopped");
    let d = &diags.0[0];
    assert_eq!(d.code, codes::E005);
    assert_eq!(
        d.message,
        "script limit reached: the script ran longer than 0.3 s"
    );
    let at = sources.location(d.span.expect("a position"));
    assert_eq!((at.line, at.file), (1, "nest.rhai"));
}

#[test]
fn values_nested_too_deep_for_an_object_are_refused() {
    fail(
        r#"let a = "x"; for i in 0..70 { a = [a]; }
        emit(task("t").step(#{ name: "s", image: "alpine", args: a }));"#,
        codes::E005,
        "script limit reached: step field `args`: the value is nested more than 64 levels deep",
    );
    // 64 levels reach the model (where the type is wrong, E003, not a limit)
    fail(
        r#"let a = "x"; for i in 0..60 { a = [a]; }
        emit(task("t").step(#{ name: "s", image: "alpine", args: a }));"#,
        codes::E003,
        "",
    );
}

#[test]
fn sleep_is_removed() {
    fail("sleep(1);", codes::E002, "`sleep` is not available");
    fail("sleep(0.5);", codes::E002, "`sleep` is not available");
}

#[test]
fn a_pipeline_cannot_be_its_own_task() {
    fail(
        r#"let p = pipeline("p"); p.task("x", task_ref("t")); p.task("me", p, #{ embed: true });"#,
        codes::E307,
        "pipeline `p` cannot be one of its own tasks (`me`)",
    );
}

// issue 13 §2.2: E009's help fits the mistake

#[test]
fn unknown_variable_in_a_function_says_functions_cannot_see_script_variables() {
    let text = fail(
        r#"let registry = "r.example.com";
fn image(name) { `${registry}/${name}:1.0` }
let t = task("t"); t.step("s", image("tool"), "true"); emit(t);"#,
        codes::E009,
        "functions cannot see the script's variables",
    );
    assert!(text.contains("fn image(.., registry)"), "{text}");
    assert!(text.contains("closure"), "{text}");
    assert!(
        text.contains("declared here, outside the function"),
        "{text}"
    );
    assert!(!text.contains("declare it with `let`"), "{text}");
}

#[test]
fn unknown_variable_in_backtick_interpolation_suggests_the_shell_form() {
    let text = fail(
        "let t = task(\"t\");\nt.step(\"s\", \"alpine:3.20\", `#!/bin/sh\necho ${SHA}\n`);\nemit(t);",
        codes::E009,
        "for the shell variable write `$SHA`",
    );
    assert!(text.contains(r"`\${SHA}`"), "{text}");
}

#[test]
fn unknown_variable_offers_did_you_mean() {
    fail(
        r#"let who = "world"; let t = task("t"); t.step("s", "alpine:3.20", `echo ${woh}`); emit(t);"#,
        codes::E009,
        "did you mean `who`?",
    );
}

// issue 13 §2.1: `${…}` in a double-quoted string, and image references

#[test]
fn dollar_brace_in_a_double_quoted_image_is_an_invalid_image_and_a_warning() {
    let text = fail(
        r##"let registry = "registry.example.com";
let t = task("t");
t.step("s", "${registry}/tool:1.0", "#!/bin/sh\ntrue");
emit(t);"##,
        codes::E144,
        "invalid image reference `${registry}/tool:1.0`",
    );
    assert!(text.contains("W512"), "{text}");
    assert!(
        text.contains("`${registry}` is not interpolated in a double-quoted string"),
        "{text}"
    );
    assert!(text.contains("backtick"), "{text}");
}

#[test]
fn shell_variables_in_double_quoted_scripts_are_not_flagged() {
    let c = pass(
        r##"let t = task("t"); t.step("s", "alpine:3.20", "#!/bin/sh\necho ${HOME}\n"); emit(t);"##,
    );
    assert!(
        !c.warnings.iter().any(|d| d.code == codes::W512),
        "{:?}",
        c.warnings
    );
}

// issue 13 §2.4: objects built but never emitted

#[test]
fn a_task_built_but_never_emitted_is_a_warning() {
    let mut o = opts();
    o.settings.gates = crate::validate::FeatureGates::parse("alpha").unwrap();
    let c = compile_str(
        "test.rhai",
        r##"let p = pipeline("ci");
let lint = task("lint").step("s", "alpine:3.20", "#!/bin/sh\ntrue");
let used = task("used").step("s", "alpine:3.20", "#!/bin/sh\ntrue");
p.task("used", used);
let child = pipeline("child");
child.task("x", task("x").step("s", "alpine:3.20", "#!/bin/sh\ntrue"));
p.task("nested", child);
emit(p);"##,
        &o,
    )
    .unwrap_or_else(|f| panic!("{}", f.render_plain()));
    let w: Vec<&str> = c
        .warnings
        .iter()
        .filter(|d| d.code == codes::W511)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        w,
        ["the Task `lint` is built but never emitted, so it is not in the output"],
        "{:?}",
        c.warnings
    );
}

// issue 13 §2.5 and §2.6: lints on documented idioms

#[test]
fn w507_sees_a_quoted_result_handle() {
    let c = pass(
        r##"let t = task("t"); let r = t.result("log");
t.step("s", "alpine:3.20", `#!/bin/sh
cat build.log > "${r}"
`);
emit(t);"##,
    );
    assert!(
        c.warnings.iter().any(|d| d.code == codes::W507),
        "{:?}",
        c.warnings
    );
}

#[test]
fn w502_not_on_a_workspace_used_through_its_mount_path() {
    // catalog kaniko: `dockerconfig` is mounted at /kaniko/.docker, which the executor reads by itself
    let c = pass(
        r##"let t = task("kaniko");
let src = t.workspace("source");
t.workspace("dockerconfig", #{ optional: true, mountPath: "/kaniko/.docker" });
t.step(#{ name: "build", image: "gcr.io/kaniko-project/executor:v1.23.2", args: [`--context=${src}`] });
emit(t);"##,
    );
    assert!(
        !c.warnings.iter().any(|d| d.code == codes::W502),
        "{:?}",
        c.warnings
    );
}

// issue 13 §2.7: wrong-type fields

#[test]
fn wrong_type_fields_point_at_the_key_with_help_and_all_at_once() {
    let src = r##"let t = task("t");
t.step(#{
    name: "lint",
    image: "alpine:3.20",
    args: "--fix",
    command: "ruff",
});
emit(t);"##;
    let f = compile_str("test.rhai", src, &opts()).unwrap_err();
    let text = f.render_plain();
    let e003: Vec<_> = f
        .diagnostics
        .iter()
        .filter(|d| d.code == codes::E003)
        .collect();
    assert_eq!(e003.len(), 2, "{text}");
    let args = e003.iter().find(|d| d.message.contains("--fix")).unwrap();
    let at = args.span.unwrap();
    assert_eq!(&src[at.start..at.end], r#""--fix""#, "{text}");
    assert!(
        text.contains(r#"this field takes a list: `["--fix"]`"#),
        "{text}"
    );
    assert!(text.contains(r#"`["ruff"]`"#), "{text}");
}

// issue 13 §3: authored order of name-keyed maps

#[test]
fn pipeline_task_params_and_workspaces_keep_their_authored_order() {
    let y = yaml(
        r##"let t = task("t"); t.param("zeta"); t.param("alpha"); t.workspace("out"); t.workspace("in");
t.step("s", "alpine:3.20", "#!/bin/sh\necho $(params.zeta) $(params.alpha) $(workspaces.out.path) $(workspaces.in.path)");
let p = pipeline("p"); let a = p.workspace("a"); let b = p.workspace("b");
p.task("x", t, #{ params: #{ zeta: "1", alpha: "2" }, workspaces: #{ out: a, "in": b } });
emit(p.run(#{ workspaces: #{ b: empty_dir(), a: empty_dir() } }));"##,
    );
    let zeta = y.find("name: zeta\n      value").unwrap();
    let alpha = y.find("name: alpha\n      value").unwrap();
    assert!(zeta < alpha, "{y}");
    let out = y.find("- name: out\n      workspace: a").unwrap();
    let inn = y.find("- name: in\n      workspace: b").unwrap();
    assert!(out < inn, "{y}");
    let run = &y[y.find("kind: PipelineRun").unwrap()..];
    assert!(
        run.find("name: b").unwrap() < run.find("name: a").unwrap(),
        "{run}"
    );
}

// issue 13 §2.3: diagnostics about objects made inside a module carry the trace to the user's calls

#[test]
fn e011_inside_a_stdlib_module_traces_back_to_both_user_calls() {
    let src = r##"import "kaniko" as kaniko;
let p = pipeline("ci");
let src = p.workspace("source");
p.task("a", kaniko::build(), #{ workspaces: #{ source: src } });
p.task("b", kaniko::build(#{ DOCKERFILE: "other/Dockerfile" }), #{ workspaces: #{ source: src } });
emit(p);"##;
    let f = compile_str("test.rhai", src, &opts()).unwrap_err();
    let text = f.render_plain();
    let d = f
        .diagnostics
        .iter()
        .find(|d| d.code == codes::E011)
        .expect(&text);
    // the trace ends at the user's second call; a label points at the first
    let user = crate::source::FileId(0);
    assert!(d.trace.iter().any(|fr| fr.span.file == user), "{text}");
    let lines: Vec<usize> = d
        .trace
        .iter()
        .chain(d.secondary.iter().map(|(s, _)| s).map(|s| {
            // borrow-compatible shape
            Box::leak(Box::new(crate::diag::Frame {
                span: *s,
                note: String::new(),
            })) as &_
        }))
        .filter(|fr| fr.span.file == user)
        .map(|fr| f.sources.get(user).line_col(fr.span.start).0)
        .collect();
    assert!(
        lines.contains(&4) && lines.contains(&5),
        "{lines:?}\n{text}"
    );
}
