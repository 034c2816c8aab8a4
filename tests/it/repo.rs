//! Using tekscript in a repository: grouped warnings, `--allow`/`--deny` and in-file allow comments,
//! `tekscript.toml` (discovery, errors, building and checking every entry).

use std::path::Path;
use std::process::{Command, Output};

fn tekscript(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tekscript"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A task with an unpinned image (W503) on line 1 and a script without `#!` (W504) on line 2.
const TWO_WARNINGS: &str = r##"let t = task("hello").step("say", "alpine", "#!/bin/sh\necho hi");
t.step("more", "alpine:3.20", "echo more");
emit(t);
"##;

#[test]
fn a_loop_of_unpinned_images_reports_one_warning_with_a_count() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "big.rhai",
        r##"let t = task("unit").step("run", "alpine", "#!/bin/sh\necho hi");
let p = pipeline("big");
for i in 0..200 { p.task(`t-${i}`, t, #{ embed: true }); }
emit(p);
"##,
    );
    let out = tekscript(dir.path(), &["check", "big.rhai"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "= note: and 199 more like this (in Pipeline/big at spec.tasks[*].taskSpec.steps[0].image)"
        ),
        "{err}"
    );
    assert!(err.contains("warning: 200 warnings emitted"), "{err}");
    // one block (9 lines), the summary and the ok line — not 200 blocks
    assert!(err.lines().count() <= 14, "{err}");
    let short = stderr(&tekscript(
        dir.path(),
        &["check", "big.rhai", "--message-format", "short"],
    ));
    assert_eq!(
        short.lines().next().unwrap(),
        "big.rhai:1:35: warning[W503]: image `alpine` has no tag, so it means `:latest`, which can change under you (and 199 more like this)"
    );
    let json = stderr(&tekscript(
        dir.path(),
        &["check", "big.rhai", "--message-format", "json"],
    ));
    let v: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(v["more"], 199);
    assert_eq!(
        v["more_path"],
        "Pipeline/big: spec.tasks[*].taskSpec.steps[0].image"
    );
}

fn codes(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, r)| r))
        .filter(|r| r.starts_with("warning[") || r.starts_with("error["))
        .map(|r| r[..r.find(']').unwrap() + 1].to_string())
        .collect()
}

#[test]
fn allow_and_deny_precedence() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.rhai", TWO_WARNINGS);
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "t.rhai", "--message-format", "short"];
        args.extend_from_slice(extra);
        tekscript(dir.path(), &args)
    };
    let o = check(&[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(codes(&o), ["warning[W503]", "warning[W504]"]);
    let o = check(&["--deny", "warnings"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(codes(&o), ["error[W503]", "error[W504]"]);
    // a code beats the group
    let o = check(&["--deny", "warnings", "--allow", "W503"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(codes(&o), ["error[W504]"]);
    let o = check(&["--allow", "warnings", "--deny", "w504"]);
    assert_eq!(codes(&o), ["error[W504]"]);
    // a code both allowed and denied is denied
    let o = check(&["--allow", "W503", "--deny", "W503"]);
    assert_eq!(codes(&o), ["error[W503]", "warning[W504]"]);
    let o = check(&["--allow", "W503", "--allow", "W504"]);
    assert_eq!((o.status.code(), codes(&o)), (Some(0), vec![]));
    // unknown codes are usage errors with a suggestion
    let o = check(&["--allow", "W530"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `W503`?"),
        "{}",
        stderr(&o)
    );
    // build has --deny too, and then writes nothing
    let o = tekscript(dir.path(), &["build", "t.rhai", "--deny", "warnings"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains("= note: this warning is an error because of `--deny warnings`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_allow_comment_covers_its_line_even_against_deny() {
    let dir = tempfile::tempdir().unwrap();
    // a trailing comment covers its line; an own-line comment the next statement
    let script = TWO_WARNINGS
        .replace("echo hi\");\n", "echo hi\"); // tekscript: allow(W503)\n")
        .replace(
            "t.step(\"more\"",
            "// tekscript: allow(W504)\nt.step(\"more\"",
        );
    write(dir.path(), "t.rhai", &script);
    let o = tekscript(dir.path(), &["build", "t.rhai", "--deny", "warnings"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // on the line above the first statement, it does not reach the third line
    let moved = script
        .replace("// tekscript: allow(W504)\n", "")
        .replace("let t", "// tekscript: allow(W504)\nlet t");
    write(dir.path(), "t.rhai", &moved);
    let o = tekscript(
        dir.path(),
        &[
            "check",
            "t.rhai",
            "--deny",
            "warnings",
            "--message-format",
            "short",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(codes(&o), ["error[W504]"]);
    assert!(stderr(&o).starts_with("t.rhai:3:"), "{}", stderr(&o));
}

/// A repository: two pipelines built from one glob, a third entry with values and `set`, gates and
/// allowed codes in the project file.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "tekscript.toml",
        r#"# the target cluster
feature-gates = "alpha"
allow = ["W504"]

[cluster]
namespace = "ci"

[[entry]]
script = "pipelines/*.rhai"
out-dir = "deploy/{name}"

[[entry]]
script = "release/release.rhai"
out-dir = "deploy/release"
values = ["release/prod.yaml"]
set = { channel = "stable" }

[[entry]]
script = "run/*.rhai"      # checked, not built
"#,
    );
    for name in ["api", "web"] {
        write(
            dir.path(),
            &format!("pipelines/{name}.rhai"),
            &format!(
                "let t = task(\"{name}-test\").step(\"t\", \"alpine:3.20\", \"echo test\");\nemit(t);\n"
            ),
        );
    }
    write(
        dir.path(),
        "release/release.rhai",
        "let t = task(`release-${values.env}-${values.channel}`).step(\"r\", \"alpine:3.20\", \"#!/bin/sh\\necho release\");\nemit(t);\n",
    );
    write(dir.path(), "release/prod.yaml", "env: prod\n");
    write(
        dir.path(),
        "run/smoke.rhai",
        "emit(task(\"smoke\").step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\necho ok\"));\n",
    );
    std::fs::create_dir_all(dir.path().join("pipelines/sub")).unwrap();
    dir
}

#[test]
fn build_without_a_script_builds_every_entry_from_any_subdirectory() {
    let dir = repo();
    let sub = dir.path().join("pipelines/sub");
    let o = tekscript(&sub, &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("wrote ../../deploy/api: 2 written"), "{err}");
    assert!(err.contains("wrote ../../deploy/web: 2 written"), "{err}");
    assert!(!err.contains("W504"), "allowed in tekscript.toml: {err}");
    assert!(
        err.contains(
            "note: ../../run/smoke.rhai has no `out-dir` in ../../tekscript.toml: not built"
        ),
        "{err}"
    );
    assert!(!dir.path().join("deploy/smoke").exists());
    let release = std::fs::read_to_string(
        dir.path()
            .join("deploy/release/tasks/release-prod-stable.yaml"),
    )
    .unwrap();
    assert!(release.contains("name: release-prod-stable"), "{release}");
    let o = tekscript(dir.path(), &["build", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("deploy/web is up to date"),
        "{}",
        stderr(&o)
    );
    // drift in one entry fails the gate and names the directory
    write(
        dir.path(),
        "pipelines/web.rhai",
        "let t = task(\"web-test\").step(\"t\", \"alpine:3.21\", \"echo test\");\nemit(t);\n",
    );
    let o = tekscript(dir.path(), &["build", "--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error[E601]: deploy/web is out of date"),
        "{}",
        stderr(&o)
    );
    // check checks every entry; a CLI --deny beats the project's allow
    let o = tekscript(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("has no problems").count(), 4);
    let o = tekscript(
        dir.path(),
        &["check", "--deny", "W504", "--message-format", "short"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(codes(&o), ["error[W504]", "error[W504]"]);
    // one script of the project gets its entry's values and the project's gates
    let o = tekscript(dir.path(), &["build", "release/release.rhai"]);
    assert!(
        stdout(&o).contains("name: release-prod-stable"),
        "{}",
        stderr(&o)
    );
    let o = tekscript(
        dir.path(),
        &["build", "release/release.rhai", "--set", "channel=beta"],
    );
    assert!(
        stdout(&o).contains("name: release-prod-beta"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn project_file_errors_have_positions_and_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "tekscript.toml",
        "[[entry]]\nscript = \"ci.rhai\"\nout_dir = \"deploy\"\n",
    );
    write(dir.path(), "ci.rhai", TWO_WARNINGS);
    let o = tekscript(dir.path(), &["build"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(stderr(&o), @r#"
    error[E702]: unknown key `out_dir` in tekscript.toml
     --> tekscript.toml:3:1
      |
    3 | out_dir = "deploy"
      | ^^^^^^^ unknown key
      |
      = help: did you mean `out-dir`?

    error: 1 error emitted
    "#);
    // a script given explicitly is refused too: the settings would be wrong
    let o = tekscript(dir.path(), &["check", "ci.rhai"]);
    assert_eq!(o.status.code(), Some(1));
    write(
        dir.path(),
        "tekscript.toml",
        "[[entry]]\nscript = \"pipelines/*.rhai\"\n",
    );
    let o = tekscript(dir.path(), &["check", "--message-format", "short"]);
    assert_eq!(
        stderr(&o),
        "tekscript.toml:2:10: error[E703]: `pipelines/*.rhai` matches no file\n"
    );
}

#[test]
fn without_a_project_file_a_script_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let o = tekscript(dir.path(), &["build"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`tekscript build` needs a script, or a tekscript.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn import_writes_the_gates_its_input_needs_so_a_plain_build_works() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "yaml/task.yaml",
        "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: deploy\nspec:\n  params:\n    - name: env\n      enum: [dev, prod]\n  steps:\n    - name: go\n      image: alpine:3.20\n      script: |\n        #!/bin/sh\n        echo $(params.env)\n",
    );
    let o = tekscript(dir.path(), &["import", "yaml/task.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: the input needs the feature gates `beta,enable-param-enum`"),
        "{}",
        stderr(&o)
    );
    let o = tekscript(dir.path(), &["import", "yaml", "-o", "scripts"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("wrote tekscript.toml: feature-gates = \"beta,enable-param-enum\""),
        "{}",
        stderr(&o)
    );
    let o = tekscript(dir.path(), &["build", "scripts/task.rhai"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("enum:"), "{}", stdout(&o));
    // without the project file the gate is missing
    std::fs::remove_file(dir.path().join("tekscript.toml")).unwrap();
    let o = tekscript(dir.path(), &["build", "scripts/task.rhai"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[E403]"), "{}", stderr(&o));
}

/// YAML written the way big repositories write it (tests/fixtures/realworld): Pipelines-as-Code
/// `.tekton/` runs with `{{ … }}` placeholders and annotations, kustomize output, bundles and git
/// resolvers, v1alpha1 StepActions. All of it checks without errors and round-trips through import.
#[test]
fn real_world_yaml_checks_clean_and_round_trips() {
    use tekscript::import::script::{self, Verdict};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realworld");
    let mut files = Vec::new();
    super::support::yaml_files(&root, &mut files);
    assert_eq!(files.len(), 5);
    let rel: Vec<std::path::PathBuf> = files
        .iter()
        .map(|f| {
            f.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap()
                .to_path_buf()
        })
        .collect();
    let o = tekscript(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            &["check", "--message-format", "short"][..],
            &rel.iter().map(|p| p.to_str().unwrap()).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stderr(&o), @r"
    tests/fixtures/realworld/.tekton/pull-request.yaml:34:15: warning[W501]: pipeline param `output-image` is declared but never used
    tests/fixtures/realworld/.tekton/pull-request.yaml:60:19: warning[E217]: its embedded task has no param `pull_request_number`
    ");
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let mut sources = tekscript::source::SourceMap::new();
        let id = sources.add(name.clone(), text.clone());
        let (bundle, _, _) = tekscript::import::parse_file(&sources, id)
            .unwrap_or_else(|_| panic!("{name} is rejected"));
        let docs: Vec<_> = bundle.objects.into_iter().map(|o| o.resource).collect();
        let opts = script::Options {
            sources: vec![name.clone()],
            skipped: script::skipped_documents(&name, &text),
        };
        let generated = script::to_script(&docs, &opts);
        match script::verify(&format!("{name}.rhai"), &generated.text, &docs) {
            Verdict::Same => {}
            Verdict::Differs(d) => panic!("{name}: {d}"),
            Verdict::Fails(..) => panic!("{name}: the script fails:\n{}", generated.text),
        }
        // placeholders survive verbatim
        if text.contains("{{ revision }}") {
            assert!(
                generated.text.contains("{{ revision }}"),
                "{}",
                generated.text
            );
        }
    }
}

#[test]
fn completions_are_generated_for_every_shell_and_bash_parses_them() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = tekscript(here, &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let s = stdout(&o);
        assert!(s.len() > 1000 && s.contains("tekscript"), "{shell}: {s}");
        assert!(s.contains("completions"), "{shell}");
        // the codes for `explain` and `--deny` (clap_complete's PowerShell script has no values)
        assert!(shell == "powershell" || s.contains("W503"), "{shell}");
    }
    let o = tekscript(here, &["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("tekscript.bash");
    std::fs::write(&f, &o.stdout).unwrap();
    match Command::new("bash").arg("-n").arg(&f).output() {
        Ok(r) => assert!(r.status.success(), "bash -n: {}", stderr(&r)),
        Err(e) => println!("skipping: bash -n: {e}"),
    }
    let man = stdout(&tekscript(here, &["man"]));
    assert!(man.contains(".TH tekscript 1"), "{man}");
    assert!(man.contains("completions"), "{man}");
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.email=ci@example.com",
            "-c",
            "user.name=ci",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

/// `.pre-commit-hooks.yaml` with the real `pre-commit` (PyPI): a hook repository holding our file,
/// a project repository using both hooks. Skips (and says so) when `pre-commit` or git is missing.
#[test]
fn pre_commit_hooks_run_with_the_real_pre_commit() {
    if Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_err()
    {
        // CI installs it (.ci/run) and sets TEKSCRIPT_REQUIRE_PRECOMMIT so that this cannot skip there
        assert!(
            std::env::var_os("TEKSCRIPT_REQUIRE_PRECOMMIT").is_none(),
            "TEKSCRIPT_REQUIRE_PRECOMMIT is set but `pre-commit` is not installed"
        );
        println!("skipping: `pre-commit` is not installed (pip install pre-commit)");
        return;
    }
    if Command::new("git").arg("--version").output().is_err() {
        println!("skipping: git is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hooks = tmp.path().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(&hooks, &["init", "-q"]);
    git(&hooks, &["add", "."]);
    git(&hooks, &["commit", "-qm", "hooks"]);
    let rev = String::from_utf8(
        Command::new("git")
            .current_dir(&hooks)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    write(
        &repo,
        "tekscript.toml",
        "[[entry]]\nscript = \"ci.rhai\"\nout-dir = \"deploy\"\n",
    );
    write(
        &repo,
        "ci.rhai",
        "emit(task(\"hello\").step(\"say\", \"alpine:3.20\", \"#!/bin/sh\\necho hi\"));\n",
    );
    write(
        &repo,
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: tekscript-check\n      - id: tekscript-build-check\n",
            hooks.display(),
            rev.trim()
        ),
    );
    assert_eq!(tekscript(&repo, &["build"]).status.code(), Some(0));
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_tekscript")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let pre_commit = |repo: &Path| {
        Command::new("pre-commit")
            .current_dir(repo)
            .args(["run", "--all-files", "--color", "never"])
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", tmp.path().join("cache"))
            .output()
            .expect("pre-commit runs")
    };
    let o = pre_commit(&repo);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(
        out.contains("tekscript check") && out.contains("Passed"),
        "{out}"
    );
    // an edit without a rebuild: build --check fails the commit
    write(
        &repo,
        "ci.rhai",
        "emit(task(\"hello\").step(\"say\", \"alpine:3.21\", \"#!/bin/sh\\necho hi\"));\n",
    );
    git(&repo, &["add", "."]);
    let o = pre_commit(&repo);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("deploy is out of date"), "{out}");
}

/// `integrations/argocd/plugin.yaml`: its generate command, run as the CMP sidecar runs it (`command` +
/// `args` in the application's source directory, only Argo CD's variables in the environment),
/// prints the scripts' objects as one YAML stream.
#[test]
fn argocd_cmp_generate_runs_as_the_sidecar_would() {
    let plugin = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("integrations/argocd/plugin.yaml"),
    )
    .unwrap();
    let plugin = tekscript::emit::parse_value(&plugin).unwrap();
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    let generate = &plugin["spec"]["generate"];
    let argv: Vec<String> = generate["command"]
        .as_array()
        .unwrap()
        .iter()
        .chain(generate["args"].as_array().unwrap())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "tekscript.toml", "allow = [\"W504\"]\n");
    let app = repo.path().join("pipelines");
    write(
        &app,
        "build.rhai",
        "emit(task(`build-${values.env}`).step(\"b\", \"alpine:3.20\", \"echo build\"));\n",
    );
    write(
        &app,
        "release.rhai",
        "emit(task(`release-${values.argocd.app}-${values.argocd.namespace}`).step(\"r\", \"alpine:3.20\", \"#!/bin/sh\\necho \" + values.tier));\n",
    );
    write(&app, "values/prod.yaml", "tier: gold\n");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_tekscript")).parent().unwrap();
    let sidecar = |env: &[(&str, &str)]| {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..])
            .current_dir(&app)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env("HOME", repo.path())
            .env("ARGOCD_APP_NAME", "ci-pipelines")
            .env("ARGOCD_APP_NAMESPACE", "ci")
            .env("ARGOCD_APP_REVISION", "0123abc");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("sh runs")
    };
    let o = sidecar(&[
        ("ARGOCD_ENV_TEKSCRIPT_VALUES", "values/prod.yaml"),
        ("ARGOCD_ENV_TEKSCRIPT_SET", "env=prod"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "W504 is allowed by the project file");
    let docs = tekscript::emit::yaml::parse_documents(&stdout(&o)).unwrap();
    let names: Vec<&str> = docs
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["build-prod", "release-ci-pipelines-ci"]);
    assert!(stdout(&o).contains("echo gold"), "{}", stdout(&o));
    // one script, and a failing one: the sync fails with the diagnostics
    let o = sidecar(&[
        ("ARGOCD_ENV_TEKSCRIPT_SCRIPTS", "build.rhai"),
        ("ARGOCD_ENV_TEKSCRIPT_SET", "env=dev"),
    ]);
    let docs = tekscript::emit::yaml::parse_documents(&stdout(&o)).unwrap();
    assert_eq!(docs.len(), 1);
    let o = sidecar(&[("ARGOCD_ENV_TEKSCRIPT_SCRIPTS", "build.rhai")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("build.rhai:1:"), "{}", stderr(&o));
}

#[test]
fn yaml_allow_comments_cover_the_node_below_them() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "t.yaml",
        "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n    # tekscript: allow(W503, W504)\n    - name: a\n      image: alpine\n      script: echo a\n    - name: b\n      image: busybox\n      script: \"#!/bin/sh\\necho b\"\n",
    );
    let o = tekscript(
        dir.path(),
        &["check", "t.yaml", "--message-format", "short"],
    );
    assert_eq!(
        stderr(&o),
        "t.yaml:12:14: warning[W503]: image `busybox` has no tag, so it means `:latest`, which can change under you\n"
    );
}
