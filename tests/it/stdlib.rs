//! The stdlib modules: each exported function compiled from a small script and snapshot-tested
//! (`it__stdlib__*`), strict options, and documentation on every module and function.

use tekscript::Options;
use tekscript::script::stdlib::MODULES;

/// Compiles a script given as text; a failure panics with the rendered diagnostics.
fn build(name: &str, text: &str) -> String {
    match tekscript::compile_str(name, text, &Options::default()) {
        Ok(out) => {
            assert!(
                out.warnings.0.is_empty(),
                "{name} has warnings: {:?}",
                out.warnings
                    .0
                    .iter()
                    .map(|w| &w.message)
                    .collect::<Vec<_>>()
            );
            out.to_yaml()
        }
        Err(failure) => panic!("{name} does not compile:\n{}", failure.render_plain()),
    }
}

/// The code and message of the first diagnostic of a script that must fail.
fn error(text: &str) -> (String, String) {
    let failure = tekscript::compile_str("bad.rhai", text, &Options::default())
        .expect_err("the script should not compile");
    let d = &failure.diagnostics.0[0];
    (d.code.to_string(), d.message.clone())
}

#[test]
fn git() {
    let yaml = build(
        "git.rhai",
        r##"
import "git" as git;
emit(git::clone());
emit(git::clone(#{
    name: "clone-full-history",
    image: "registry.example.com/mirror/alpine-git:2.45.2",
    url: "https://github.com/tektoncd/pipeline.git",
    revision: "release-v1.0.x",
    depth: 0,
    subdirectory: "src",
    deleteExisting: false,
    sslVerify: "false",
}));
"##,
    );
    insta::assert_snapshot!(yaml);
}

#[test]
fn kaniko() {
    let yaml = build(
        "kaniko.rhai",
        r##"
import "kaniko" as kaniko;
emit(kaniko::build());
emit(kaniko::build(#{
    name: "kaniko-build-web",
    image: "gcr.io/kaniko-project/executor:v1.23.2-debug",
    IMAGE: "registry.example.com/web:latest-build",
    DOCKERFILE: "web/Dockerfile",
    CONTEXT: "web",
    EXTRA_ARGS: ["--cache=true", "--build-arg=NODE_ENV=production"],
}));
"##,
    );
    insta::assert_snapshot!(yaml);
}

#[test]
fn buildah() {
    let yaml = build(
        "buildah.rhai",
        r##"
import "buildah" as buildah;
emit(buildah::build());
emit(buildah::build(#{
    name: "buildah-build-docker",
    image: "quay.io/buildah/stable:v1.37.5",
    IMAGE: "quay.io/acme/app:dev",
    DOCKERFILE: "Containerfile",
    CONTEXT: "app",
    STORAGE_DRIVER: "overlay",
    FORMAT: "docker",
    TLSVERIFY: "false",
    BUILD_EXTRA_ARGS: ["--layers"],
    PUSH_EXTRA_ARGS: ["--retry=3"],
}));
"##,
    );
    insta::assert_snapshot!(yaml);
}

#[test]
fn golang() {
    let yaml = build(
        "golang.rhai",
        r##"
import "golang" as golang;
emit(golang::test());
emit(golang::test(#{
    name: "go-unit-test",
    image: "registry.example.com/mirror/golang:$(params.version)",
    version: "1.23",
    packages: "./internal/...",
    flags: "-short",
    context: "backend",
}));
emit(golang::test(#{ name: "go-test-pinned", image: "docker.io/library/golang:1.24.4-bookworm" }));
emit(golang::build());
emit(golang::build(#{
    name: "go-build-arm64",
    version: "1.24",
    packages: "./cmd/server",
    flags: "-trimpath -ldflags=-s",
    context: "backend",
    output: "bin/server",
    GOOS: "linux",
    GOARCH: "arm64",
    CGO_ENABLED: "1",
}));
"##,
    );
    insta::assert_snapshot!(yaml);
}

#[test]
fn node() {
    let yaml = build(
        "node.rhai",
        r##"
import "node" as node;
emit(node::ci_test());
emit(node::ci_test(#{ name: "npm-test-web", version: "20", context: "web" }));
emit(node::build());
emit(node::build(#{ name: "npm-build-prod", env: #{ NODE_ENV: "production" } }));
emit(node::npm("lint:css"));
emit(node::npm("test:e2e", #{
    image: "mcr.microsoft.com/playwright:v1.48.2-jammy",
    install: false,
    env: #{ BASE_URL: "http://web:8080", TOKEN: secret_env("e2e", "token") },
}));
"##,
    );
    insta::assert_snapshot!(yaml);
}

#[test]
fn shell() {
    let yaml = build(
        "shell.rhai",
        r##"
import "shell" as shell;
emit(shell::script("hello", "docker.io/library/alpine:3.20", "#!/bin/sh\necho hello\n"));
emit(shell::script("read-version", "docker.io/library/alpine:3.20", shell::dedent(`
    #!/bin/sh
    set -eu

    printf '%s' "$(cat VERSION)" > "$(results.version.path)"
    ls "$(workspaces.cache.path)"
`), #{
    description: "Reads the VERSION file.",
    params: ["level", #{ name: "files", type: "array", "default": [] }],
    workspaces: ["source", #{ name: "cache", optional: true }],
    results: [#{ name: "version", description: "The version." }],
    env: #{ LEVEL: "$(params.level)", TOKEN: secret_env("api", "token") },
    workingDir: "$(workspaces.source.path)",
    step: "read",
    stepOptions: #{ args: ["$(params.files[*])"], timeout: "2m" },
}));
"##,
    );
    insta::assert_snapshot!(yaml);
}

#[test]
fn shell_dedent() {
    let yaml = build(
        "dedent.rhai",
        r##"
import "shell" as shell;
let text = shell::dedent(`
        #!/bin/sh
          indented

        last
    `);
if text != "#!/bin/sh\n  indented\n\nlast\n" {
    throw "unexpected: " + text;
}
if shell::dedent("a\n  b") != "a\n  b\n" { throw "no-indent case"; }
if shell::dedent("\n\t\tx\n\t\t  y\n") != "x\n  y\n" { throw "tab case"; }
if shell::dedent("") != "" { throw "empty case"; }
emit(task("t", #{ steps: [#{ name: "s", image: "alpine:3.20", script: text }] }));
"##,
    );
    assert!(yaml.contains("    indented"), "{yaml}");
}

#[test]
fn notify() {
    let yaml = build(
        "notify.rhai",
        r##"
import "notify" as notify;
emit(notify::slack());
emit(notify::slack(#{
    name: "slack-notify-team",
    image: "docker.io/curlimages/curl:8.10.1",
    secret: "team-slack",
    key: "webhook",
    message: "CI finished",
    status: "None",
}));
emit(notify::webhook());
emit(notify::webhook(#{ name: "webhook-notify-secret", secret: "teams-webhook", key: "url", method: "PUT" }));

let p = pipeline("notify-demo");
p.task("work", task("work", #{ steps: [#{ name: "s", image: "alpine:3.20", script: "#!/bin/sh\ntrue\n" }] }));
notify::slack_on_finish(p, "run $(context.pipelineRun.name)");
p.finally("hook", notify::webhook(), #{
    params: #{ url: "https://hooks.example.com/ci", payload: `{"status": "$(tasks.status)"}` },
});
emit(p);
"##,
    );
    insta::assert_snapshot!(yaml);
}

#[test]
fn notify_slack_on_finish_with_options() {
    let yaml = build(
        "notify2.rhai",
        r##"
import "notify" as notify;
let p = pipeline("p");
p.task("work", task("work", #{ steps: [#{ name: "s", image: "alpine:3.20", script: "#!/bin/sh\ntrue\n" }] }));
let n = notify::slack_on_finish(p, "done", #{ name: "slack-nightly", secret: "nightly" });
if n.name != "notify-slack" { throw "name"; }
emit(p);
"##,
    );
    assert!(yaml.contains("name: slack-nightly"), "{yaml}");
    assert!(yaml.contains("value: $(tasks.status)"), "{yaml}");
}

/// Every module rejects an unknown option key with the allowed keys in the message, and suggests the
/// nearest key.
#[test]
fn pac() {
    let yaml = build(
        "pac.rhai",
        r##"import "pac" as pac;
let t = task("t").step("s", "alpine:3.20", "#!/bin/sh\necho $(params.revision)");
t.param("revision");
emit(t.run(#{
    name: "t-on-pr",
    annotations: pac::annotations(#{
        on_event: "pull_request",
        on_target_branch: ["main", "release-*"],
        on_comment: "^/retest",
        max_keep_runs: 2,
        tasks: ["git-clone", ".tekton/tasks/lint.yaml"],
    }),
    params: #{ revision: pac::variable("revision") },
}));
"##,
    );
    insta::assert_snapshot!(yaml);
    for (opts, msg) in [
        (
            "#{ on_events: \"push\" }",
            "pac::annotations: unknown option `on_events`",
        ),
        (
            "#{ max_keep_runs: \"5\" }",
            "`max_keep_runs` must be a positive number",
        ),
        ("#{ on_event: 5 }", "expected a string or a list of strings"),
    ] {
        let (code, message) = error(&format!(
            "import \"pac\" as pac;\nlet a = pac::annotations({opts});\nemit(task(\"t\").step(\"s\", \"alpine:3.20\", \"#!/bin/sh\"));\n"
        ));
        assert_eq!(code, "E006");
        assert!(message.contains(msg), "{message}");
    }
}

#[test]
fn unknown_options_are_errors() {
    let cases = [
        (
            "git",
            "git::clone(#{ revison: \"x\" })",
            "git::clone: unknown option `revison` (did you mean `revision`?)",
        ),
        (
            "kaniko",
            "kaniko::build(#{ dockerfile: \"x\" })",
            "kaniko::build: unknown option `dockerfile` (did you mean `DOCKERFILE`?)",
        ),
        (
            "buildah",
            "buildah::build(#{ push_args: [] })",
            "buildah::build: unknown option `push_args`",
        ),
        (
            "golang",
            "golang::test(#{ goversion: \"1.24\" })",
            "golang::test: unknown option `goversion`",
        ),
        (
            "golang",
            "golang::build(#{ goos: \"linux\" })",
            "golang::build: unknown option `goos` (did you mean `GOOS`?)",
        ),
        (
            "node",
            "node::npm(\"test\", #{ versions: \"22\" })",
            "node::npm: unknown option `versions` (did you mean `version`?)",
        ),
        (
            "node",
            "node::ci_test(#{ nme: \"x\" })",
            "node::npm: unknown option `nme` (did you mean `name`?)",
        ),
        (
            "shell",
            "shell::script(\"x\", \"alpine:3.20\", \"true\", #{ workdir: \"/\" })",
            "shell::script: unknown option `workdir`",
        ),
        (
            "notify",
            "notify::slack(#{ channel: \"#ci\" })",
            "notify::slack: unknown option `channel`",
        ),
        (
            "notify",
            "notify::webhook(#{ headers: #{} })",
            "notify::webhook: unknown option `headers`",
        ),
    ];
    for (module, call, expected) in cases {
        let (code, message) = error(&format!(
            "import \"{module}\" as {module};\nemit({call});\n"
        ));
        assert_eq!(code, "E006", "{call}");
        assert!(message.contains(expected), "{call}: {message}");
        assert!(message.contains("; the options are: "), "{call}: {message}");
    }
}

#[test]
fn bad_option_values_are_errors() {
    let cases = [
        (
            "kaniko",
            "kaniko::build(\"IMAGE\")",
            "kaniko::build: the options must be a map",
        ),
        (
            "kaniko",
            "kaniko::build(#{ EXTRA_ARGS: \"--cache\" })",
            "option `EXTRA_ARGS` must be an array",
        ),
        (
            "node",
            "node::npm(\"\")",
            "node::npm: the npm script must be a non-empty string",
        ),
        (
            "node",
            "node::npm(\"x\", #{ image: \"node:22\", version: \"20\" })",
            "node::npm: the option `version` has no effect",
        ),
        (
            "golang",
            "golang::build(#{ image: \"golang:1.24\", version: \"1.23\" })",
            "golang::build: the option `version` has no effect",
        ),
        (
            "notify",
            "notify::webhook(#{ url: \"https://x\", secret: \"s\" })",
            "give either `url` or `secret`",
        ),
        (
            "notify",
            "notify::webhook(#{ key: \"k\" })",
            "`key` needs `secret`",
        ),
    ];
    for (module, call, expected) in cases {
        let (code, message) = error(&format!(
            "import \"{module}\" as {module};\nemit({call});\n"
        ));
        assert_eq!(code, "E006", "{call}");
        assert!(message.contains(expected), "{call}: {message}");
    }
}

/// `tekscript stdlib` lists each module with its first `//!` line; every exported function has a
/// `///` doc comment with an example (an indented line).
#[test]
fn modules_are_documented() {
    for (name, src) in MODULES {
        let first = src.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("//! {name}: ")),
            "{name}: the first line must be `//! {name}: summary`, found {first:?}"
        );
        let lines: Vec<&str> = src.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.starts_with("fn ") {
                continue;
            }
            let docs: Vec<&str> = lines[..i]
                .iter()
                .rev()
                .take_while(|l| l.starts_with("///"))
                .copied()
                .collect();
            assert!(!docs.is_empty(), "{name}: `{line}` has no /// doc comment");
            assert!(
                docs.iter().any(|l| l.starts_with("///     ")),
                "{name}: `{line}` has no example (an indented `///     ` line)"
            );
        }
    }
}
