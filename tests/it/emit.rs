//! The YAML writer and the `-o DIR` output tree: YAML 1.1 safety, literal blocks, determinism,
//! exact bytes, and the directory writer's promises (only its own files, all or nothing).

use pretty_assertions::assert_eq;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use tekscript::emit::dir::{HEADER_PREFIX, KUSTOMIZATION, LOCK_FILE};
use tekscript::emit::{
    Difference, EmitDoc, EmitError, OutputFile, check_dir, layout, parse_documents,
    parse_documents_with_positions, parse_value, to_yaml, to_yaml_stream, write_dir,
};

// ---------------------------------------------------------------------------------------------
// YAML 1.1 safety

/// Strings a YAML 1.1 reader (go-yaml v2, as kubectl uses) or YAML syntax would misread if they
/// were written plain. Each must come out quoted.
const MUST_QUOTE: &[&str] = &[
    "on",
    "off",
    "yes",
    "no",
    "y",
    "n",
    "Y",
    "N",
    "NO",
    "Yes",
    "ON",
    "Off",
    "true",
    "False",
    "TRUE",
    "null",
    "Null",
    "NULL",
    "~",
    "",
    "0755",
    "012",
    "0o14",
    "0x1F",
    "1:20",
    "1_000",
    "1e3",
    ".inf",
    "-.Inf",
    ".nan",
    "+12",
    "12.",
    "123",
    "1.0",
    "-1",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    " leading",
    "trailing ",
    "  both  ",
    "a: b",
    "#c",
    "- d",
    "@e",
    "`f",
    "*g",
    "&h",
    "!i",
    "%j",
    "{a}",
    "[b]",
    "\t",
    "a\tb",
    "?",
    "-",
    ":",
    "a #b",
    "|",
    ">",
    "'q'",
    "\"dq\"",
    "<<",
    "=",
    "0b101",
    "---",
    "...",
    "cr\r",
    "nul\0",
];

/// Strings that are safe plain (or, with a newline, as a block); they must still read back
/// identical in every position.
const SAFE_PLAIN: &[(&str, &str)] = &[
    ("$(params.x)", "$(params.x)"),
    (
        "$(tasks.build.results.digest)",
        "$(tasks.build.results.digest)",
    ),
    ("héllo wörld ✓", "héllo wörld ✓"),
    ("日本語", "日本語"),
    ("tekton.dev/pipeline", "tekton.dev/pipeline"),
    ("--depth=1", "--depth=1"),
];

fn is_quoted(scalar: &str) -> bool {
    scalar.starts_with('"') || scalar.starts_with('\'')
}

#[test]
fn ambiguous_strings_are_quoted_as_values_items_and_keys() {
    for s in MUST_QUOTE {
        let as_value = to_yaml(&json!({ "value": s })).unwrap();
        let scalar = as_value.strip_prefix("value: ").unwrap();
        assert!(is_quoted(scalar), "value {s:?} not quoted: {as_value}");
        assert_eq!(
            parse_value(&as_value).unwrap(),
            json!({ "value": s }),
            "{as_value}"
        );

        let as_item = to_yaml(&json!([s])).unwrap();
        let scalar = as_item.strip_prefix("- ").unwrap();
        assert!(is_quoted(scalar), "list item {s:?} not quoted: {as_item}");
        assert_eq!(parse_value(&as_item).unwrap(), json!([s]), "{as_item}");

        let mut map = serde_json::Map::new();
        map.insert(s.to_string(), json!("x"));
        let as_key = to_yaml(&map).unwrap();
        assert!(is_quoted(&as_key), "key {s:?} not quoted: {as_key}");
        assert_eq!(
            parse_value(&as_key).unwrap(),
            Value::Object(map),
            "{as_key}"
        );
    }
}

#[test]
fn safe_strings_stay_plain_and_read_back() {
    for (s, written) in SAFE_PLAIN {
        assert_eq!(
            to_yaml(&json!({ "v": s })).unwrap(),
            format!("v: {written}\n")
        );
        assert_eq!(to_yaml(&json!([s])).unwrap(), format!("- {written}\n"));
        assert_eq!(
            to_yaml(&json!({ *s: 1 })).unwrap(),
            format!("{written}: 1\n")
        );
        assert_eq!(
            parse_value(&format!("v: {written}\n")).unwrap(),
            json!({ "v": s })
        );
        assert_eq!(
            parse_value(&format!("{written}: 1\n")).unwrap(),
            json!({ *s: 1 })
        );
    }
}

#[test]
fn a_string_with_a_newline_round_trips_in_every_position() {
    let s = "line one\nline two";
    let value = json!({ "v": s, "l": [s], "m": { s: s } });
    let text = to_yaml(&value).unwrap();
    assert_eq!(parse_value(&text).unwrap(), value, "{text}");
    assert!(
        text.starts_with("v: |-\n  line one\n  line two\n"),
        "{text}"
    );
}

/// Everything at once, in one document, also read back through the stream reader.
#[test]
fn all_tricky_strings_in_one_document_round_trip() {
    let mut strings: Vec<&str> = MUST_QUOTE.to_vec();
    strings.extend(SAFE_PLAIN.iter().map(|(s, _)| *s));
    strings.push("multi\nline\n");
    let map: serde_json::Map<String, Value> =
        strings.iter().map(|s| (s.to_string(), json!(s))).collect();
    let value = json!({ "list": strings, "map": map });
    let text = to_yaml(&value).unwrap();
    assert_eq!(parse_value(&text).unwrap(), value);
    assert_eq!(parse_documents(&text).unwrap(), vec![value]);
}

// ---------------------------------------------------------------------------------------------
// Multi-line scripts and long lines

#[derive(Serialize)]
struct Step {
    name: &'static str,
    script: String,
}

#[test]
fn scripts_are_literal_blocks_and_round_trip_exactly() {
    let cases: &[(&str, &str)] = &[
        ("#!/bin/sh\nset -e\necho hi\n", "|\n"),
        ("echo a\necho b", "|-\n"),
        ("  indented first line\nsecond\n", "|2\n"),
        ("    deeper\n  less\n", "|2\n"),
        ("trailing blank lines\n\n\n", "|+\n"),
        ("before\n---\nafter\n", "|\n"),
        ("before\n...\nafter", "|-\n"),
        ("\nleading empty line\n", "|\n"),
        ("tab\tinside\nnext\n", "|\n"),
        ("key: value\n- item\n# comment\n", "|\n"),
        ("unicode ✓\n日本語\n", "|\n"),
    ];
    for (script, header) in cases {
        let step = Step {
            name: "s",
            script: script.to_string(),
        };
        let text = to_yaml(&step).unwrap();
        assert!(
            text.starts_with(&format!("name: s\nscript: {header}")),
            "{script:?} was written as:\n{text}"
        );
        let back = parse_value(&text).unwrap();
        assert_eq!(back["script"], json!(script), "{text}");
        // Also inside a stream, where the next document follows right after the block.
        let stream = to_yaml_stream(&[&step, &step]).unwrap();
        let docs = parse_documents(&stream).unwrap();
        assert_eq!(docs.len(), 2, "{stream}");
        for doc in docs {
            assert_eq!(doc["script"], json!(script), "{stream}");
        }
    }
}

#[test]
fn long_lines_are_not_folded() {
    let long = "x".repeat(200);
    let words = ["word"; 60].join(" ");
    for s in [&long, &words] {
        let text = to_yaml(&json!({ "arg": s })).unwrap();
        assert_eq!(text, format!("arg: {s}\n"));
        assert_eq!(text.lines().count(), 1);
    }
    let script = format!("echo {words}\necho done\n");
    let text = to_yaml(&json!({ "script": script })).unwrap();
    assert_eq!(text, format!("script: |\n  echo {words}\n  echo done\n"));
}

#[test]
fn trailing_blank_lines_of_the_last_value_are_kept() {
    // The one case where a document ends with more than one newline: the blank lines are content.
    let text = to_yaml(&json!({ "script": "a\n\n" })).unwrap();
    assert_eq!(text, "script: |+\n  a\n\n");
    assert_eq!(parse_value(&text).unwrap(), json!({ "script": "a\n\n" }));
}

// ---------------------------------------------------------------------------------------------
// Determinism and exact bytes

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: TaskSpec,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct TaskSpec {
    params: Vec<Param>,
    steps: Vec<TaskStep>,
}

#[derive(Serialize)]
struct Param {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskStep {
    name: &'static str,
    image: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script: Option<&'static str>,
}

#[derive(Serialize)]
struct EnvVar {
    name: &'static str,
    value: &'static str,
}

fn sample_task() -> Task {
    Task {
        api_version: "tekton.dev/v1",
        kind: "Task",
        metadata: Metadata {
            name: "git-clone".to_string(),
            labels: BTreeMap::from([
                ("app.kubernetes.io/version".to_string(), "0.9".to_string()),
                ("tekton.dev/pipeline".to_string(), "ci".to_string()),
            ]),
            annotations: BTreeMap::from([
                ("example.com/enabled".to_string(), "yes".to_string()),
                ("example.com/mode".to_string(), "0755".to_string()),
            ]),
        },
        spec: TaskSpec {
            params: vec![
                Param {
                    name: "url",
                    kind: "string",
                    default: None,
                },
                Param {
                    name: "depth",
                    kind: "string",
                    default: Some("1"),
                },
            ],
            steps: vec![
                TaskStep {
                    name: "clone",
                    image: "cgr.dev/chainguard/git:latest",
                    args: vec!["clone", "--depth", "$(params.depth)", "$(params.url)", "."],
                    env: vec![
                        EnvVar {
                            name: "GIT_TERMINAL_PROMPT",
                            value: "0",
                        },
                        EnvVar {
                            name: "VERBOSE",
                            value: "no",
                        },
                    ],
                    working_dir: Some("$(workspaces.output.path)"),
                    script: None,
                },
                TaskStep {
                    name: "report",
                    image: "alpine:3.20",
                    args: vec![],
                    env: vec![],
                    working_dir: None,
                    script: Some(
                        "#!/bin/sh\nset -eu\ngit log -1 --format=%H > $(results.commit.path)\n",
                    ),
                },
            ],
        },
    }
}

#[test]
fn task_snapshot() {
    insta::assert_snapshot!(to_yaml(&sample_task()).unwrap());
}

#[test]
fn emitting_twice_gives_the_same_bytes() {
    let a = to_yaml(&sample_task()).unwrap();
    let b = to_yaml(&sample_task()).unwrap();
    assert_eq!(a, b);
    let value = serde_json::to_value(sample_task()).unwrap();
    let c = to_yaml(&value).unwrap();
    assert_eq!(a, c, "a serde_json::Value keeps the struct's key order");
    let stream = to_yaml_stream(&[&value, &value]).unwrap();
    assert_eq!(stream, to_yaml_stream(&[&value, &value]).unwrap());
    assert_eq!(stream, format!("{a}---\n{a}"));
    assert_eq!(
        parse_documents(&stream).unwrap(),
        vec![value.clone(), value]
    );
}

#[test]
fn keys_follow_struct_order() {
    let text = to_yaml(&sample_task()).unwrap();
    let top: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('-'))
        .collect();
    assert_eq!(
        top,
        [
            "apiVersion: tekton.dev/v1",
            "kind: Task",
            "metadata:",
            "spec:"
        ]
    );
}

#[test]
fn positions_point_at_values() {
    let text = to_yaml(&sample_task()).unwrap();
    let docs = parse_documents_with_positions(&text).unwrap();
    let (value, positions) = &docs[0];
    assert_eq!(value, &serde_json::to_value(sample_task()).unwrap());
    // Every path of the value has a position, and each points at a line of the text.
    let lines: Vec<&str> = text.lines().collect();
    for (path, (line, column)) in positions {
        assert!(*line >= 1 && *line <= lines.len(), "{path}: line {line}");
        assert!(*column >= 1, "{path}");
    }
    let image = positions["spec.steps[0].image"];
    assert_eq!(
        &lines[image.0 - 1][image.1 - 1..],
        "cgr.dev/chainguard/git:latest"
    );
    let label = positions["metadata.labels[\"app.kubernetes.io/version\"]"];
    assert_eq!(&lines[label.0 - 1][label.1 - 1..], "\"0.9\"");
    let env = positions["spec.steps[0].env[1].value"];
    assert_eq!(&lines[env.0 - 1][env.1 - 1..], "\"no\"");
}

#[test]
fn parse_errors_carry_line_and_column() {
    let e = parse_documents("a: 1\n---\nb:\n  - x\n - y\n").unwrap_err();
    assert_eq!(e.line, 5, "{e}");
    let e = parse_value("spec:\n  steps: [a, b\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 10), "{e}");
    assert!(e.to_string().starts_with("line 2, column 10: "), "{e}");
}

// ---------------------------------------------------------------------------------------------
// The output directory

fn doc(kind: &str, name: &str) -> EmitDoc {
    EmitDoc {
        kind: kind.to_string(),
        name: name.to_string(),
        yaml: to_yaml(&json!({
            "apiVersion": "tekton.dev/v1",
            "kind": kind,
            "metadata": { "name": name },
        }))
        .unwrap(),
    }
}

fn sample_docs() -> Vec<EmitDoc> {
    vec![
        doc("StepAction", "setup"),
        doc("Task", "git-clone"),
        doc("Task", "build"),
        doc("Pipeline", "ci"),
        doc("PipelineRun", "ci-run-"),
    ]
}

/// Every entry under `dir`: files with their bytes, directories as `None`.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

fn paths(files: &[OutputFile]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.path.to_string_lossy().into_owned())
        .collect()
}

fn pathbufs(list: &[&str]) -> Vec<PathBuf> {
    list.iter().map(PathBuf::from).collect()
}

#[test]
fn layout_paths_headers_and_kustomization() {
    let files = layout(&sample_docs(), "ci.rhai").unwrap();
    assert_eq!(
        paths(&files),
        [
            "stepactions/setup.yaml",
            "tasks/git-clone.yaml",
            "tasks/build.yaml",
            "pipelines/ci.yaml",
            "pipelineruns/ci-run-.yaml",
            "kustomization.yaml",
        ]
    );
    assert_eq!(
        files[1].contents,
        "# Generated by tekscript from ci.rhai. Do not edit.\n\
         apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: git-clone\n"
    );
    assert_eq!(
        files[5].contents,
        "# Generated by tekscript from ci.rhai. Do not edit.\n\
         # Not listed (generateName: create them with `kubectl create -f FILE`):\n\
         #   pipelineruns/ci-run-.yaml\n\
         apiVersion: kustomize.config.k8s.io/v1beta1\n\
         kind: Kustomization\n\
         resources:\n\
         - stepactions/setup.yaml\n\
         - tasks/git-clone.yaml\n\
         - tasks/build.yaml\n\
         - pipelines/ci.yaml\n"
    );
    for f in &files {
        assert!(f.contents.starts_with(HEADER_PREFIX));
        // Every file is valid YAML (the header is a comment).
        parse_value(&f.contents).unwrap();
    }
    let empty = layout(&[], "x.rhai").unwrap();
    assert_eq!(paths(&empty), ["kustomization.yaml"]);
    assert!(
        empty[0].contents.ends_with("resources: []\n"),
        "{}",
        empty[0].contents
    );
}

#[test]
fn layout_rejects_two_docs_on_one_path() {
    let docs = vec![
        doc("Task", "build"),
        doc("Pipeline", "ci"),
        doc("Task", "build"),
    ];
    let e = layout(&docs, "ci.rhai").unwrap_err();
    assert!(matches!(e, EmitError::PathConflict { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "Task \"build\" (document 1) and Task \"build\" (document 3) would both be written to tasks/build.yaml"
    );

    let docs = vec![doc("PipelineRun", "ci-run-"), doc("PipelineRun", "ci-run-")];
    let e = layout(&docs, "ci.rhai").unwrap_err();
    assert!(e.to_string().contains("generateName"), "{e}");

    // Names that differ only in case would be one file on macOS or Windows.
    let docs = vec![doc("Task", "Build"), doc("Task", "build")];
    assert!(matches!(
        layout(&docs, "ci.rhai"),
        Err(EmitError::PathConflict { .. })
    ));
}

#[test]
fn layout_rejects_names_that_are_not_file_names() {
    for name in ["", "../escape", "a/b", ".hidden", "with space"] {
        let e = layout(&[doc("Task", name)], "ci.rhai").unwrap_err();
        assert!(
            matches!(e, EmitError::InvalidName { .. }),
            "{name:?}: {e:?}"
        );
    }
    let e = layout(&[doc("../Task", "x")], "ci.rhai").unwrap_err();
    assert!(matches!(e, EmitError::InvalidName { .. }), "{e:?}");
}

#[test]
fn write_creates_the_tree_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("deploy/nested");
    let files = layout(&sample_docs(), "ci.rhai").unwrap();
    let report = write_dir(&out, &files).unwrap();
    assert_eq!(
        report.written,
        files.iter().map(|f| f.path.clone()).collect::<Vec<_>>()
    );
    assert!(report.unchanged.is_empty() && report.removed.is_empty());
    let expected: BTreeMap<PathBuf, Option<Vec<u8>>> = files
        .iter()
        .map(|f| (f.path.clone(), Some(f.contents.clone().into_bytes())))
        .chain(
            ["stepactions", "tasks", "pipelines", "pipelineruns"]
                .iter()
                .map(|d| (PathBuf::from(d), None)),
        )
        .collect();
    assert_eq!(tree(&out), expected, "no temporary files are left behind");
    assert!(check_dir(&out, &files).is_empty());
}

#[test]
fn rewrite_removes_stale_files_and_keeps_hand_written_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    write_dir(out, &layout(&sample_docs(), "ci.rhai").unwrap()).unwrap();
    // Files tekscript did not write, next to generated ones.
    fs::write(out.join("tasks/notes.yaml"), "kind: ConfigMap\n").unwrap();
    fs::write(
        out.join("tasks/README.md"),
        "# Generated by tekscript, but not yaml\n",
    )
    .unwrap();
    fs::write(out.join("values.yaml"), "a: 1\n").unwrap();
    // A temporary file an interrupted build left behind, and one that only looks like it.
    fs::write(
        out.join("tasks/.gone.yaml.tekscript-tmp"),
        format!("{HEADER_PREFIX} from ci.rhai. Do not edit.\n"),
    )
    .unwrap();
    fs::write(out.join("tasks/.mine.tekscript-tmp"), "mine\n").unwrap();

    // Drop the Task "build" and the StepAction (its directory empties).
    let docs: Vec<EmitDoc> = sample_docs()
        .into_iter()
        .filter(|d| d.name != "build" && d.kind != "StepAction")
        .collect();
    let files = layout(&docs, "ci.rhai").unwrap();
    let report = write_dir(out, &files).unwrap();
    assert_eq!(
        report.removed,
        pathbufs(&[
            "stepactions/setup.yaml",
            "tasks/.gone.yaml.tekscript-tmp",
            "tasks/build.yaml"
        ])
    );
    assert_eq!(report.removed_dirs, pathbufs(&["stepactions"]));
    assert_eq!(report.written, pathbufs(&["kustomization.yaml"]));
    assert_eq!(
        report.unchanged,
        pathbufs(&[
            "tasks/git-clone.yaml",
            "pipelines/ci.yaml",
            "pipelineruns/ci-run-.yaml"
        ])
    );
    assert!(!out.join("tasks/build.yaml").exists());
    assert!(!out.join("stepactions").exists());
    assert_eq!(
        fs::read_to_string(out.join("tasks/notes.yaml")).unwrap(),
        "kind: ConfigMap\n"
    );
    assert!(out.join("tasks/README.md").exists());
    assert!(out.join("values.yaml").exists());
    assert!(out.join("tasks/.mine.tekscript-tmp").exists());
    assert!(check_dir(out, &files).is_empty());
}

#[test]
fn another_kustomize_root_inside_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    // Another build's output in a subdirectory.
    write_dir(
        &out.join("other"),
        &layout(&[doc("Task", "x")], "other.rhai").unwrap(),
    )
    .unwrap();
    let before = tree(&out.join("other"));
    write_dir(out, &layout(&sample_docs(), "ci.rhai").unwrap()).unwrap();
    assert_eq!(tree(&out.join("other")), before);
}

#[test]
fn unchanged_files_are_not_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    let files = layout(&sample_docs(), "ci.rhai").unwrap();
    write_dir(out, &files).unwrap();
    let stamp = |p: &str| {
        let m = fs::metadata(out.join(p)).unwrap();
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let ino = 0u64;
        (m.modified().unwrap(), ino)
    };
    let before: Vec<_> = files
        .iter()
        .map(|f| stamp(&f.path.to_string_lossy()))
        .collect();

    // Same build again: nothing written.
    let report = write_dir(out, &files).unwrap();
    assert!(report.written.is_empty(), "{report:?}");
    assert_eq!(report.unchanged.len(), files.len());
    let after: Vec<_> = files
        .iter()
        .map(|f| stamp(&f.path.to_string_lossy()))
        .collect();
    assert_eq!(before, after);

    // One document changes: only it (and not, say, the kustomization) is replaced.
    let mut docs = sample_docs();
    docs[1].yaml = docs[1]
        .yaml
        .replace("git-clone", "git-clone\n  labels: {a: b}");
    let changed = layout(&docs, "ci.rhai").unwrap();
    let report = write_dir(out, &changed).unwrap();
    assert_eq!(report.written, pathbufs(&["tasks/git-clone.yaml"]));
    #[cfg(unix)]
    assert_ne!(stamp("tasks/git-clone.yaml").1, before[1].1);
    assert_eq!(stamp("kustomization.yaml"), before[5]);
}

#[test]
fn a_hand_written_file_in_the_way_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    write_dir(out, &layout(&sample_docs(), "ci.rhai").unwrap()).unwrap();
    // Someone replaced a generated file with their own.
    fs::write(
        out.join("tasks/build.yaml"),
        "apiVersion: tekton.dev/v1\n# mine\n",
    )
    .unwrap();
    let before = tree(out);

    // A build that would add files in new directories, change files and remove others.
    let mut docs = sample_docs();
    docs.remove(0);
    docs.push(doc("TaskRun", "smoke"));
    docs[0].yaml.push_str("# changed\n");
    let files = layout(&docs, "ci.rhai").unwrap();
    let e = write_dir(out, &files).unwrap_err();
    assert!(matches!(e, EmitError::NotGenerated { .. }), "{e:?}");
    let message = e.to_string();
    assert!(
        message.starts_with(&format!(
            "refusing to overwrite {}: it was not generated by tekscript",
            out.join("tasks/build.yaml").display()
        )),
        "{message}"
    );
    assert_eq!(tree(out), before);

    // check_dir reports it (first), along with what would change.
    let diffs = check_dir(out, &files);
    assert!(
        matches!(&diffs[0], Difference::Conflict(p, why) if p == Path::new("tasks/build.yaml") && why.contains("not generated")),
        "{diffs:?}"
    );
    assert_eq!(tree(out), before);
}

#[test]
fn a_failure_while_staging_undoes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    let mut docs = sample_docs();
    write_dir(out, &layout(&docs, "ci.rhai").unwrap()).unwrap();
    // Make staging the last file (kustomization.yaml) fail: every name its temporary may take is
    // taken by a directory. By then new directories and other temporary files exist.
    fs::create_dir_all(out.join(".kustomization.yaml.tekscript-tmp/x")).unwrap();
    for n in 1..10 {
        fs::create_dir_all(out.join(format!(".kustomization.yaml.{n}.tekscript-tmp/x"))).unwrap();
    }
    let before = tree(out);

    docs.remove(0);
    docs.push(doc("TaskRun", "smoke"));
    docs[0].yaml.push_str("# changed\n");
    let files = layout(&docs, "ci.rhai").unwrap();
    let e = write_dir(out, &files).unwrap_err();
    assert!(
        matches!(&e, EmitError::Io { action: "write", path, .. } if path.ends_with(KUSTOMIZATION)),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("cannot write "), "{e}");
    assert_eq!(tree(out), before);
}

#[test]
fn output_path_that_is_a_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("deploy");
    fs::write(&out, "not a directory").unwrap();
    let files = layout(&sample_docs(), "ci.rhai").unwrap();
    let e = write_dir(&out, &files).unwrap_err();
    assert!(matches!(e, EmitError::NotADirectory { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "cannot write to {}: it exists and is not a directory",
            out.display()
        )
    );
    assert_eq!(fs::read_to_string(&out).unwrap(), "not a directory");
    assert!(matches!(
        &check_dir(&out, &files)[..],
        [Difference::Conflict(..)]
    ));
}

#[test]
fn check_reports_missing_changed_and_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("deploy");
    let files = layout(&sample_docs(), "ci.rhai").unwrap();

    // Nothing there yet: everything is missing, and checking creates nothing.
    let diffs = check_dir(&out, &files);
    assert_eq!(
        diffs,
        files
            .iter()
            .map(|f| Difference::Missing(f.path.clone()))
            .collect::<Vec<_>>()
    );
    assert!(!out.exists());

    write_dir(&out, &files).unwrap();
    fs::remove_file(out.join("pipelines/ci.yaml")).unwrap();
    let edited = files[1]
        .contents
        .replace("name: git-clone", "name: git-clone-old");
    fs::write(out.join("tasks/git-clone.yaml"), &edited).unwrap();
    fs::write(
        out.join("tasks/old.yaml"),
        "# Generated by tekscript from ci.rhai. Do not edit.\nkind: Task\n",
    )
    .unwrap();
    let before = tree(&out);

    let diffs = check_dir(&out, &files);
    assert_eq!(
        diffs,
        vec![
            Difference::Changed(
                PathBuf::from("tasks/git-clone.yaml"),
                "--- tasks/git-clone.yaml (on disk)\n\
                 +++ tasks/git-clone.yaml (this build)\n\
                 @@ -2,4 +2,4 @@\n \
                 apiVersion: tekton.dev/v1\n \
                 kind: Task\n \
                 metadata:\n\
                 -  name: git-clone-old\n\
                 +  name: git-clone\n"
                    .to_string()
            ),
            Difference::Missing(PathBuf::from("pipelines/ci.yaml")),
            Difference::Stale(PathBuf::from("tasks/old.yaml")),
        ]
    );
    assert_eq!(
        diffs
            .iter()
            .map(|d| d.to_string().lines().next().unwrap().to_string())
            .collect::<Vec<_>>(),
        [
            "changed: tasks/git-clone.yaml",
            "missing: pipelines/ci.yaml",
            "stale: tasks/old.yaml"
        ]
    );
    assert_eq!(tree(&out), before, "check_dir never writes");

    write_dir(&out, &files).unwrap();
    assert_eq!(check_dir(&out, &files), vec![]);
}

#[test]
fn invalid_output_file_paths_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["../x.yaml", "/abs.yaml", "", "a/../b.yaml"] {
        let files = vec![OutputFile {
            path: PathBuf::from(bad),
            contents: format!("{HEADER_PREFIX}\n"),
        }];
        let e = write_dir(tmp.path(), &files).unwrap_err();
        assert!(matches!(e, EmitError::InvalidPath { .. }), "{bad:?}: {e:?}");
    }
    assert!(tree(tmp.path()).is_empty());
}

/// `tasks -> /elsewhere` inside DIR: the build refuses it instead of writing through it.
#[cfg(unix)]
#[test]
fn a_symlinked_subdirectory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("deploy");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(&out).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("tasks")).unwrap();
    let files = layout(&sample_docs(), "ci.rhai").unwrap();
    let e = write_dir(&out, &files).unwrap_err();
    assert!(
        matches!(&e, EmitError::Blocked { path, reason } if path.ends_with("tasks") && reason.contains("symbolic link")),
        "{e:?}"
    );
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert!(
        fs::symlink_metadata(out.join("tasks"))
            .unwrap()
            .is_symlink()
    );
    // nothing else was written either, and no lock file is left
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
    assert!(matches!(
        &check_dir(&out, &files)[0],
        Difference::Conflict(p, why) if p == Path::new("tasks") && why.contains("symbolic link")
    ));
}

/// A symlink planted at a temporary's name (`tasks/.build.yaml.tekscript-tmp -> /victim`) is
/// neither written through nor removed: the build takes the next temporary name.
#[cfg(unix)]
#[test]
fn a_symlink_at_a_temporary_name_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("deploy");
    let victim = tmp.path().join("victim.txt");
    fs::write(&victim, "precious\n").unwrap();
    let mut docs = sample_docs();
    write_dir(&out, &layout(&docs, "ci.rhai").unwrap()).unwrap();
    let planted = out.join("tasks/.build.yaml.tekscript-tmp");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    // a dangling one too
    let dangling = out.join("tasks/.git-clone.yaml.tekscript-tmp");
    std::os::unix::fs::symlink(tmp.path().join("created-by-nobody"), &dangling).unwrap();

    docs[1].yaml.push_str("# changed\n");
    docs[2].yaml.push_str("# changed\n");
    let files = layout(&docs, "ci.rhai").unwrap();
    let report = write_dir(&out, &files).unwrap();
    assert_eq!(
        report.written,
        pathbufs(&["tasks/git-clone.yaml", "tasks/build.yaml"])
    );
    assert!(report.removed.is_empty(), "{report:?}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!tmp.path().join("created-by-nobody").exists());
    assert!(fs::symlink_metadata(&planted).unwrap().is_symlink());
    assert!(fs::symlink_metadata(&dangling).unwrap().is_symlink());
    assert_eq!(
        fs::read_to_string(out.join("tasks/build.yaml")).unwrap(),
        files[2].contents
    );
    assert!(!out.join("tasks/.build.yaml.1.tekscript-tmp").exists());
}

/// What `kill -9` leaves behind in the middle of a build (temporaries with tekscript's header,
/// some files already renamed, the lock file) does not stop the next identical build.
#[test]
fn leftovers_of_a_killed_build_are_recovered() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("deploy");
    let old_docs = sample_docs();
    write_dir(&out, &layout(&old_docs, "ci.rhai").unwrap()).unwrap();
    let mut docs = sample_docs();
    for d in &mut docs {
        d.yaml.push_str("# v2\n");
    }
    let files = layout(&docs, "ci.rhai").unwrap();
    // Killed in the rename phase: two files renamed, the others still staged.
    for f in &files[2..] {
        let target = out.join(&f.path);
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        fs::write(
            target.with_file_name(format!(".{name}.tekscript-tmp")),
            &f.contents,
        )
        .unwrap();
    }
    for f in &files[..2] {
        fs::write(out.join(&f.path), &f.contents).unwrap();
    }
    fs::write(out.join(LOCK_FILE), "").unwrap();

    let report = write_dir(&out, &files).unwrap();
    // (the kustomization lists the same files as before)
    assert_eq!(
        report.unchanged,
        pathbufs(&[
            "stepactions/setup.yaml",
            "tasks/git-clone.yaml",
            "kustomization.yaml"
        ])
    );
    assert_eq!(
        report.written,
        pathbufs(&[
            "tasks/build.yaml",
            "pipelines/ci.yaml",
            "pipelineruns/ci-run-.yaml"
        ])
    );
    assert_eq!(report.removed.len(), 4, "the four temporaries: {report:?}");
    let expected: BTreeMap<PathBuf, Option<Vec<u8>>> = files
        .iter()
        .map(|f| (f.path.clone(), Some(f.contents.clone().into_bytes())))
        .chain(
            ["stepactions", "tasks", "pipelines", "pipelineruns"]
                .iter()
                .map(|d| (PathBuf::from(d), None)),
        )
        .collect();
    assert_eq!(
        tree(&out),
        expected,
        "no temporaries and no lock file are left"
    );
}

/// A symlink planted at the lock file's name is not opened for writing or followed: the build
/// refuses, and the file it points to is untouched.
#[cfg(unix)]
#[test]
fn a_symlink_at_the_lock_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("deploy");
    let victim = tmp.path().join("victim.txt");
    fs::write(&victim, "precious\n").unwrap();
    fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&victim, out.join(LOCK_FILE)).unwrap();
    let e = write_dir(&out, &layout(&sample_docs(), "ci.rhai").unwrap()).unwrap_err();
    assert!(
        matches!(&e, EmitError::Blocked { path, reason } if path.ends_with(LOCK_FILE) && reason.contains("not a regular file")),
        "{e:?}"
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(
        fs::symlink_metadata(out.join(LOCK_FILE))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        1,
        "nothing else was written"
    );
}
