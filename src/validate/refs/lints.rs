//! Warnings (W5xx) about things Tekton accepts but that are usually mistakes. Unused params and
//! workspaces (W501/W502) are found by the reference scans; the rest is here.
//!
//! * W503: an image without a tag or digest, or tagged `latest` (images given by a `$(…)` are
//!   skipped).
//! * W504: a `script` without a `#!` line (Tekton then runs it with `sh`, which is easy to forget
//!   when writing bash).
//! * W505: `set -x` (or `-x` on the shebang, `sh -x` in `command`) in a step that reads a secret
//!   through `env[].valueFrom.secretKeyRef` or `envFrom[].secretRef` (its own or the step
//!   template's): the trace prints the secret's value into the log.
//! * W506: object, pipeline-task and step names that are valid Kubernetes names but not kebab-case
//!   (dots, `--`). Params, results and workspaces are left alone: Tekton's catalog uses names such
//!   as `IMAGE` and `GIT_URL` for them. Names Kubernetes rejects are errors of the structure pass.
//! * W507: a result written straight from a command whose output has no size bound (`cat`, `cp`,
//!   `curl`, `wget`, `git log`/`diff`/`show`, `find`, `ls`, `env`, `printenv`, `tree`, `kubectl
//!   get|describe`, `helm template`): results are limited to 4 KB by default (the container's
//!   termination message), and a larger one fails the task with
//!   `TaskRunResultLargerThanAllowedLimit`. A command piped through a filter first (`| jq …`,
//!   `| head`, …) is not flagged.

use super::Checker;
use super::env::TaskView;
use crate::bundle::Resource;
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::model::PipelineSpec;
use k8s_openapi::api::core::v1::{EnvFromSource, EnvVar};

pub(super) fn check(c: &mut Checker) {
    let obj = c.obj;
    match &obj.resource {
        Resource::Task(t) => {
            object_name(c);
            task_view(c, "spec", (&t.spec).into());
        }
        Resource::Pipeline(p) => {
            object_name(c);
            pipeline_spec(c, "spec", &p.spec);
        }
        Resource::TaskRun(r) => {
            if let Some(ts) = &r.spec.task_spec {
                task_view(c, "spec.taskSpec", ts.into());
            }
        }
        Resource::PipelineRun(r) => {
            if let Some(ps) = &r.spec.pipeline_spec {
                pipeline_spec(c, "spec.pipelineSpec", ps);
            }
        }
        Resource::StepAction(s) => {
            object_name(c);
            if let Some(img) = &s.spec.image {
                image(c, "spec.image", img);
            }
            if let Some(script) = &s.spec.script {
                shebang(c, "spec.script", script);
                xtrace(c, "spec", script, &s.spec.env, &[], &[], &[], &[]);
                result_size(c, "spec.script", script);
            }
        }
    }
}

fn pipeline_spec(c: &mut Checker, base: &str, spec: &PipelineSpec) {
    for (list, tasks) in [("tasks", &spec.tasks), ("finally", &spec.finally)] {
        for (i, pt) in tasks.iter().enumerate() {
            let path = format!("{base}.{list}[{i}]");
            name(c, &format!("{path}.name"), &pt.name, "pipeline task");
            if let Some(ts) = pt.task_spec.as_ref().filter(|t| !t.is_custom()) {
                task_view(c, &format!("{path}.taskSpec"), ts.into());
            }
            if let Some(ps) = &pt.pipeline_spec {
                pipeline_spec(c, &format!("{path}.pipelineSpec"), ps);
            }
        }
    }
}

fn task_view(c: &mut Checker, base: &str, v: TaskView) {
    let (tenv, tenv_from): (&[EnvVar], &[EnvFromSource]) = match v.step_template {
        Some(t) => (&t.env, &t.env_from),
        None => (&[], &[]),
    };
    if let Some(img) = v.step_template.and_then(|t| t.image.as_deref()) {
        image(c, &format!("{base}.stepTemplate.image"), img);
    }
    for (i, s) in v.steps.iter().enumerate() {
        let path = format!("{base}.steps[{i}]");
        name(c, &format!("{path}.name"), &s.name, "step");
        if let Some(img) = &s.image {
            image(c, &format!("{path}.image"), img);
        }
        let script_path = format!("{path}.script");
        if let Some(script) = &s.script {
            shebang(c, &script_path, script);
            result_size(c, &script_path, script);
        }
        xtrace(
            c,
            &path,
            s.script.as_deref().unwrap_or(""),
            &s.env,
            &s.env_from,
            tenv,
            tenv_from,
            &[s.command.as_slice(), s.args.as_slice()].concat(),
        );
    }
    for (i, s) in v.sidecars.iter().enumerate() {
        let path = format!("{base}.sidecars[{i}]");
        if let Some(img) = &s.image {
            image(c, &format!("{path}.image"), img);
        }
        if let Some(script) = &s.script {
            shebang(c, &format!("{path}.script"), script);
        }
    }
}

/// Why an image reference is not pinned, if it is not.
pub(super) fn unpinned(img: &str) -> Option<&'static str> {
    if img.contains("$(") || img.contains('@') || img.is_empty() {
        return None;
    }
    let last = img.rsplit('/').next().unwrap_or(img);
    match last.rsplit_once(':') {
        None => Some("has no tag, so it means `:latest`"),
        Some((_, "latest")) => Some("is tagged `latest`"),
        Some(_) => None,
    }
}

fn image(c: &mut Checker, path: &str, img: &str) {
    if let Some(why) = unpinned(img) {
        let d = Diagnostic::warning(
            codes::W503,
            format!("image `{img}` {why}, which can change under you"),
        )
        .label("not pinned")
        .help(format!(
            "pin a version (`{}:1.2.3`) or, better, a digest (`{}@sha256:…`)",
            img.trim_end_matches(":latest"),
            img.trim_end_matches(":latest")
        ));
        c.report_at(path, img, d);
    }
}

fn shebang(c: &mut Checker, path: &str, script: &str) {
    let t = script.trim_start();
    if t.is_empty() || t.starts_with("#!") || t.starts_with("$(") {
        return;
    }
    let first = t.lines().next().unwrap_or("");
    let d = Diagnostic::warning(codes::W504, "this script has no `#!` line, so Tekton runs it with `sh`")
        .label("no shebang")
        .help("start the script with `#!/bin/sh` (or `#!/usr/bin/env bash`, …) to say which shell runs it");
    c.report_at(path, first, d);
}

/// The `set -x`-like text in a script or command, if any.
pub(super) fn xtrace_in(script: &str, cmd: &[String]) -> Option<String> {
    let mut lines = script.lines().map(str::trim);
    if let Some(first) = script.trim_start().lines().next()
        && first.starts_with("#!")
        && first.split_whitespace().skip(1).any(is_x_flag)
    {
        return Some(first.trim().to_string());
    }
    if let Some(line) = lines.find(|l| {
        let mut w = l.split_whitespace();
        w.next() == Some("set") && {
            let rest: Vec<&str> = w.collect();
            rest.iter().any(|t| is_x_flag(t)) || rest.windows(2).any(|p| p == ["-o", "xtrace"])
        }
    }) {
        return Some(line.to_string());
    }
    let shell = cmd
        .first()
        .map(|c| c.rsplit('/').next().unwrap_or(c))
        .is_some_and(|c| matches!(c, "sh" | "bash" | "zsh" | "ash" | "dash" | "ksh"));
    if shell && let Some(t) = cmd[1..].iter().find(|t| is_x_flag(t)) {
        return Some(t.clone());
    }
    None
}

fn is_x_flag(t: &str) -> bool {
    t.starts_with('-')
        && !t.starts_with("--")
        && t.len() > 1
        && t[1..].chars().all(|c| c.is_ascii_alphabetic())
        && t.contains('x')
}

#[allow(clippy::too_many_arguments)]
fn xtrace(
    c: &mut Checker,
    path: &str,
    script: &str,
    env: &[EnvVar],
    env_from: &[EnvFromSource],
    tenv: &[EnvVar],
    tenv_from: &[EnvFromSource],
    cmd: &[String],
) {
    let secret = env
        .iter()
        .chain(tenv)
        .find(|e| {
            e.value_from
                .as_ref()
                .is_some_and(|v| v.secret_key_ref.is_some())
        })
        .map(|e| format!("env var `{}`", e.name))
        .or_else(|| {
            env_from
                .iter()
                .chain(tenv_from)
                .find(|e| e.secret_ref.is_some())
                .map(|e| {
                    format!(
                        "secret `{}`",
                        e.secret_ref.as_ref().map(|s| s.name.as_str()).unwrap_or("")
                    )
                })
        });
    let Some(secret) = secret else { return };
    let Some(found) = xtrace_in(script, cmd) else {
        return;
    };
    let d = Diagnostic::warning(
        codes::W505,
        format!(
            "`{found}` traces every command into the log, and this step reads a secret ({secret})"
        ),
    )
    .label("prints commands with their expanded values")
    .help("remove `-x`, or turn tracing off (`set +x`) around the commands that use the secret");
    let at = if script.contains(&found) {
        format!("{path}.script")
    } else {
        path.to_string()
    };
    c.report_at(&at, &found, d);
}

/// Commands whose output has no size bound.
const UNBOUNDED: &[&str] = &[
    "cat",
    "cp",
    "curl",
    "wget",
    "find",
    "ls",
    "env",
    "printenv",
    "tree",
    "git log",
    "git diff",
    "git show",
    "kubectl get",
    "kubectl describe",
    "helm template",
];

/// The line of a script that writes an unbounded command's output to a result, if any.
pub(super) fn big_result_line(script: &str) -> Option<&str> {
    script.lines().map(str::trim).find(|line| {
        let Some(at) = line
            .find("$(results.")
            .or_else(|| line.find("$(step.results."))
        else {
            return false;
        };
        // the path may be quoted: `cmd > "$(results.x.path)"` (what a handle in `"${r}"` renders as)
        let before = line[..at].trim_end_matches(['"', '\'']);
        // `cmd > $(results.x.path)`, `cmd >> …`, `cmd | tee …`, `cp file …`
        let cmd = if let Some(b) = before
            .trim_end()
            .strip_suffix(">>")
            .or_else(|| before.trim_end().strip_suffix('>'))
        {
            b.trim()
        } else if let Some(b) = before
            .trim_end()
            .strip_suffix("| tee")
            .or_else(|| before.trim_end().strip_suffix("| tee -a"))
        {
            b.trim()
        } else if before.trim_start().starts_with("cp ") {
            before.trim()
        } else {
            return false;
        };
        // the last command of a `;` / `&&` / `||` list
        let cmd = cmd
            .rsplit([';', '&'])
            .next()
            .unwrap_or(cmd)
            .rsplit("||")
            .next()
            .unwrap_or(cmd)
            .trim();
        if cmd.contains('|') || cmd.is_empty() {
            return false;
        }
        UNBOUNDED
            .iter()
            .any(|u| cmd == *u || cmd.starts_with(&format!("{u} ")))
    })
}

fn result_size(c: &mut Checker, path: &str, script: &str) {
    if let Some(line) = big_result_line(script) {
        let d = Diagnostic::warning(codes::W507, "this result is written from a command whose output can be large; results are limited to 4 KB by default")
            .label("unbounded output into a result")
            .note("Tekton: a larger result fails the task with TaskRunResultLargerThanAllowedLimit")
            .help("write a small value (a digest, a path, a count) to the result and keep large data in a workspace");
        c.report_at(path, line, d);
    }
}

fn object_name(c: &mut Checker) {
    let Some(n) = c.obj.resource.metadata().name.clone() else {
        return;
    };
    let kind = c.obj.resource.kind();
    name(c, "metadata.name", &n, kind);
}

/// Valid for Kubernetes (lowercase alphanumerics, `-`, and `.` in object names) but not kebab-case.
/// Step and pipeline-task names are DNS labels (no dots): a dot there is the structure pass's error.
pub(super) fn not_kebab(n: &str, label: bool) -> bool {
    let k8s = !n.is_empty()
        && n.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (c == '.' && !label)
        })
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric());
    k8s && (n.contains('.') || n.contains("--"))
}

fn name(c: &mut Checker, path: &str, n: &str, what: &str) {
    let label = matches!(what, "step" | "pipeline task");
    if not_kebab(n, label) {
        let suggestion: String = {
            let mut s = n.replace('.', "-");
            while s.contains("--") {
                s = s.replace("--", "-");
            }
            s
        };
        let d = Diagnostic::warning(codes::W506, format!("{what} name `{n}` is not kebab-case"))
            .label("dots or doubled dashes")
            .help(format!(
                "use lowercase words joined by single dashes, e.g. `{suggestion}`"
            ));
        c.report_at(path, n, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images() {
        assert_eq!(
            unpinned("alpine"),
            Some("has no tag, so it means `:latest`")
        );
        assert_eq!(unpinned("alpine:latest"), Some("is tagged `latest`"));
        assert_eq!(unpinned("alpine:3.20"), None);
        assert_eq!(
            unpinned("registry:5000/team/app"),
            Some("has no tag, so it means `:latest`")
        );
        assert_eq!(unpinned("registry:5000/team/app:v1"), None);
        assert_eq!(unpinned("gcr.io/x/y@sha256:abc"), None);
        assert_eq!(unpinned("$(params.image)"), None);
    }

    #[test]
    fn xtrace_detection() {
        let none: &[String] = &[];
        assert_eq!(
            xtrace_in("#!/bin/bash\nset -ex\necho", none),
            Some("set -ex".into())
        );
        assert_eq!(
            xtrace_in("set -euxo pipefail", none),
            Some("set -euxo pipefail".into())
        );
        assert_eq!(
            xtrace_in("set -o xtrace", none),
            Some("set -o xtrace".into())
        );
        assert_eq!(
            xtrace_in("#!/bin/sh -x\necho", none),
            Some("#!/bin/sh -x".into())
        );
        assert_eq!(xtrace_in("set -e\nset +x\necho -x", none), None);
        let cmd = vec![
            "/bin/bash".to_string(),
            "-xc".to_string(),
            "echo".to_string(),
        ];
        assert_eq!(xtrace_in("", &cmd), Some("-xc".into()));
        let cmd = vec!["echo".to_string(), "-x".to_string()];
        assert_eq!(xtrace_in("", &cmd), None);
    }

    #[test]
    fn big_results() {
        assert_eq!(
            big_result_line("cat out.json > $(results.data.path)"),
            Some("cat out.json > $(results.data.path)")
        );
        assert!(big_result_line("git log | tee $(results.log.path)").is_some());
        assert!(big_result_line("cp report.txt $(results.report.path)").is_some());
        assert!(big_result_line("curl -s https://x | jq -r .id > $(results.id.path)").is_none());
        assert!(big_result_line("echo -n $DIGEST > $(results.digest.path)").is_none());
        assert!(big_result_line("ls /cache; printf x > $(results.x.path)").is_none());
        assert!(big_result_line("make && cat out.txt > $(results.x.path)").is_some());
        assert!(
            big_result_line("printf '%s' \"$(cat f | head -c 100)\" > $(results.x.path)").is_none()
        );
    }

    #[test]
    fn kebab() {
        assert!(!not_kebab("build-image", false));
        assert!(not_kebab("build.image", false));
        assert!(
            !not_kebab("build.image", true),
            "a dot in a label is an error elsewhere"
        );
        assert!(not_kebab("build--image", true));
        assert!(
            !not_kebab("Build_Image", false),
            "invalid names are the structure pass's"
        );
        assert!(!not_kebab("", false));
    }
}

#[cfg(test)]
mod result_size_tests {
    use super::big_result_line;

    #[test]
    fn quoted_result_paths_are_seen() {
        // issue 13 §2.5: the documented handle idiom `> "${r}"` renders with quotes
        assert!(big_result_line("cat log.txt > \"$(results.log.path)\"").is_some());
        assert!(big_result_line("cat log.txt > '$(results.log.path)'").is_some());
        assert!(big_result_line("cat log.txt > $(results.log.path)").is_some());
        assert!(big_result_line("printf '%s' \"$v\" > \"$(results.log.path)\"").is_none());
    }
}
