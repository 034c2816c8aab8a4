//! Codes reported by script evaluation (`script/`), build output (`emit/`), the project file and YAML input.

use super::Code;

pub const E001: &Code = &Code {
    id: "E001",
    title: "syntax error in a script",
    explanation: "The script is not valid Rhai. The caret points at the first token the parser could not \
accept.\n\nWrong:\n\n    let p = pipeline(\"ci\"\n\nFixed:\n\n    let p = pipeline(\"ci\");\n",
};

pub const E002: &Code = &Code {
    id: "E002",
    title: "unknown function or wrong argument types",
    explanation: "No function with this name accepts these argument types. Check the spelling and the \
argument types against the script API reference (README, `docs/script-api.md`).\n\nWrong:\n\n    let t = task(\"build\").stepp(\"go\", \"golang:1.23\", \"go build\");\n\nFixed:\n\n    let t = task(\"build\").step(\"go\", \"golang:1.23\", \"go build\");\n",
};

pub const E003: &Code = &Code {
    id: "E003",
    title: "a value has the wrong type",
    explanation: "A field received a value of a type it cannot hold (a number where a list of strings \
is expected, …).\n\nWrong:\n\n    task(\"t\").step(#{ name: \"s\", image: \"alpine\", args: \"-v\" })\n\nFixed:\n\n    task(\"t\").step(#{ name: \"s\", image: \"alpine\", args: [\"-v\"] })\n",
};

pub const E004: &Code = &Code {
    id: "E004",
    title: "unknown field",
    explanation: "A map passed to a tekscript function has a key that the Tekton field does not have. \
Keys are Tekton's own field names (camelCase). tekscript never drops unknown keys silently, because \
Tekton's webhook would reject them or, worse, the API server would prune them.\n\nWrong:\n\n    p.task(\"test\", t, #{ runafter: [\"build\"] })\n\nFixed:\n\n    p.task(\"test\", t, #{ runAfter: [\"build\"] })\n",
};

pub const E005: &Code = &Code {
    id: "E005",
    title: "a script limit was hit",
    explanation: "Scripts run with limits on operations, call depth, expression depth and the size of \
strings, arrays and maps, so an endless loop or a runaway recursion stops with this error instead of \
hanging. Look for a loop whose condition never becomes false, or a function that calls itself without \
a base case. Other limits: modules import modules at most 16 levels deep; a value passed to a tekscript \
function nests at most 64 levels; a script or module has at most 65,535 lines of at most 65,534 \
characters (positions past that could not be reported); and a watchdog stops a script after 10 seconds \
(Rhai copies an array or map whenever it is read, so a loop like `a = [a]` does much more work than its \
operation count says).\n\nWrong:\n\n    fn f(n) { f(n + 1) }\n    f(0);\n\nFixed:\n\n    fn f(n) { if n > 10 { return n; } f(n + 1) }\n    f(0);\n",
};

pub const E006: &Code = &Code {
    id: "E006",
    title: "the script raised an error",
    explanation: "The script (or a stdlib module) called `throw`, or a runtime operation failed \
(division by zero, index out of bounds, …). The message is the script's own.\n\nExample:\n\n    if values.env == () { throw \"pass --set env=staging|prod\"; }\n",
};

pub const E007: &Code = &Code {
    id: "E007",
    title: "`file()` cannot read this path",
    explanation: "`file(path)` inlines a file that lives in the script's directory tree. Absolute paths, \
paths that leave the tree through `..` or symbolic links, missing files, and files larger than 1 MiB (the \
largest string a script can hold) are refused, so builds stay hermetic and reproducible.\n\nWrong:\n\n    step(\"test\", \"alpine\", file(\"/etc/passwd\"))\n\nFixed:\n\n    step(\"test\", \"alpine\", file(\"scripts/test.sh\"))\n",
};

pub const E008: &Code = &Code {
    id: "E008",
    title: "module not found",
    explanation: "`import \"NAME\" as x;` looks for a stdlib module called NAME first, then for the file \
NAME (with `.rhai` added when missing) relative to the importing script. Run `tekscript stdlib` to list the \
stdlib modules. Modules cannot import each other in a cycle (`main.rhai` importing `\"main\"`, or `a` \
importing `b` importing `a`): the message spells out the chain.\n\nWrong:\n\n    import \"gti\" as git;\n\nFixed:\n\n    import \"git\" as git;\n",
};

pub const E009: &Code = &Code {
    id: "E009",
    title: "unknown variable",
    explanation: "The script uses a variable that was never declared with `let` or `const` (scripts run \
with strict variables). Inputs from `--set`/`--values` are in the `values` map.\n\nWrong:\n\n    let p = pipeline(name);\n\nFixed:\n\n    let p = pipeline(values.name);\n",
};

pub const E010: &Code = &Code {
    id: "E010",
    title: "invalid value",
    explanation: "A value has the right type but is not acceptable here: an unparsable duration, a \
handle used where it has no meaning, a workspace binding with no volume, …. The message says which value \
and what is expected.\n\nWrong:\n\n    p.task(\"t\", t, #{ timeout: \"ten minutes\" })\n\nFixed:\n\n    p.task(\"t\", t, #{ timeout: \"10m\" })\n",
};

pub const E011: &Code = &Code {
    id: "E011",
    title: "conflicting definitions of one object",
    explanation: "Two different objects of the same kind and name were emitted (for instance two \
different tasks both called `build`, referenced from pipelines by `taskRef`). Give them different names, or \
embed one with `embed: true`.\n",
};

pub const E012: &Code = &Code {
    id: "E012",
    title: "nothing was emitted",
    explanation: "The script ran to the end without calling `emit(...)`, so there is nothing to build. \
Call `emit(p)` for each pipeline, task or run that should be written.\n",
};

pub const E013: &Code = &Code {
    id: "E013",
    title: "a map key is missing",
    explanation: "A map was indexed with a property it does not have (scripts run with \
`fail_on_invalid_map_property`). Use `m.get(\"key\")` or `\"key\" in m` for optional keys, or `values.get(\"key\") ?? \"default\"` for inputs.\n\nWrong:\n\n    let env = values.environment;\n\nFixed:\n\n    let env = values.get(\"environment\") ?? \"dev\";\n",
};

pub const E014: &Code = &Code {
    id: "E014",
    title: "invalid input value (--set / --values)",
    explanation: "A `--set key=value` argument has no `=`, has an empty key part or nests more than 64 \
levels, or a `--values` file is not valid YAML or not a YAML mapping. Keys may be dotted (`--set \
image.tag=v1` sets `values.image.tag`). Like a usage error, it exits with status 2.\n\nWrong:\n\n    \
tekscript build ci.rhai --set env\n\nFixed:\n\n    tekscript build ci.rhai --set env=staging\n",
};

pub const E015: &Code = &Code {
    id: "E015",
    title: "unknown task result",
    explanation: "A pipeline task's result was used (`t.result(\"name\")`), but the task it runs declares no \
result with that name, so Tekton would fail the run with `InvalidTaskResultReference`.\n\nWrong:\n\n    let build = p.task(\"build\", task(\"b\").result(\"digest\") ...);\n    p.result(\"d\", build.result(\"digets\"));\n\nFixed:\n\n    p.result(\"d\", build.result(\"digest\"));\n",
};

pub const E016: &Code = &Code {
    id: "E016",
    title: "an input file cannot be read",
    explanation: "The script or YAML file given on the command line does not exist or cannot be read. \
Check the path.\n",
};

pub const E601: &Code = &Code {
    id: "E601",
    title: "the output directory is out of date",
    explanation: "`tekscript build --check -o DIR` found that DIR does not contain exactly what a build \
would write. Run `tekscript build -o DIR` and commit the result.\n",
};

pub const E602: &Code = &Code {
    id: "E602",
    title: "the output directory cannot be written safely",
    explanation: "`-o DIR` refuses to write when DIR exists but is not a directory, or when a file \
tekscript would write is already there and was not written by tekscript (it has no `# Generated by \
tekscript` header). Move the file away or choose another directory.\n",
};

pub const W511: &Code = &Code {
    id: "W511",
    title: "a Task or Pipeline is built but never emitted",
    explanation: "Only what the script passes to `emit` (and what the emitted objects use) is written. A Task \
or Pipeline that is built but neither emitted nor used by an emitted object is silently missing from the \
output; usually an `emit` was forgotten.\n\nWrong:\n\n    let lint = task(\"lint\").step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\ntrue\");\n    emit(p);   // p does not use lint\n\nFixed:\n\n    emit([p, lint]);\n",
};

pub const W512: &Code = &Code {
    id: "W512",
    title: "`${…}` in a double-quoted string is not interpolated",
    explanation: "Rhai interpolates `${expr}` only in backtick strings; in a double-quoted string it is plain text, \
so the YAML gets `${registry}` literally. The warning is given when the name inside is a variable of the \
script (a shell variable such as `${HOME}` is left alone).\n\nWrong:\n\n    let registry = \"registry.example.com\";\n    t.step(\"s\", \"${registry}/tool:1.0\", \"#!/bin/sh\\ntrue\");\n\nFixed:\n\n    t.step(\"s\", `${registry}/tool:1.0`, \"#!/bin/sh\\ntrue\");\n",
};

pub const E701: &Code = &Code {
    id: "E701",
    title: "invalid project file",
    explanation: "`tekscript.toml` is not valid TOML, a value has the wrong type, or a value is not one tekscript knows (a feature gate, a diagnostic code in `allow`/`deny`, a glob, a `set` value that is not a string, number or boolean). The caret points at the value.\n\nWrong:\n\n    allow = \"W503\"\n    feature-gates = \"beta,fast\"\n\nFixed:\n\n    allow = [\"W503\"]\n    feature-gates = \"beta,enable-param-enum\"\n",
};

pub const E702: &Code = &Code {
    id: "E702",
    title: "unknown key in the project file",
    explanation: "`tekscript.toml` has a key tekscript does not know; it is refused rather than ignored, so a typo cannot silently drop a setting. Keys are kebab-case: top level `feature-gates`, `allow`, `deny`, `[cluster]` (`namespace`, `context`) and `[[entry]]` (`script`, `out-dir`, `values`, `set`).\n\nWrong:\n\n    [[entry]]\n    script = \"ci.rhai\"\n    out_dir = \"deploy\"\n\nFixed:\n\n    [[entry]]\n    script = \"ci.rhai\"\n    out-dir = \"deploy\"\n",
};

pub const E703: &Code = &Code {
    id: "E703",
    title: "an entry of the project file matches no script",
    explanation: "The `script` glob of an `[[entry]]` in `tekscript.toml` matches no file. Paths are relative to the directory of `tekscript.toml`.\n\nWrong:\n\n    [[entry]]\n    script = \"pipeline/*.rhai\"   # the directory is `pipelines`\n\nFixed:\n\n    [[entry]]\n    script = \"pipelines/*.rhai\"\n",
};

pub const E704: &Code = &Code {
    id: "E704",
    title: "two builds would write one output directory",
    explanation: "Each build owns its output directory (it removes the files it wrote before and no longer writes), so two scripts cannot share one. An entry whose glob matches several scripts needs `{name}` in its `out-dir`; two entries need different directories.\n\nWrong:\n\n    [[entry]]\n    script = \"pipelines/*.rhai\"\n    out-dir = \"deploy\"\n\nFixed:\n\n    [[entry]]\n    script = \"pipelines/*.rhai\"\n    out-dir = \"deploy/{name}\"\n",
};

pub const E901: &Code = &Code {
    id: "E901",
    title: "invalid YAML",
    explanation: "`tekscript check FILE.yaml` could not parse the file as YAML. The caret points at the \
first character the parser could not accept (often an indentation mistake or a tab).\n\nWrong:\n\n    spec:\n      steps:\n      - name: a\n       image: alpine\n\nFixed:\n\n    spec:\n      steps:\n      - name: a\n        image: alpine\n",
};

pub const W901: &Code = &Code {
    id: "W901",
    title: "a YAML field name is spelled in the wrong case",
    explanation: "Tekton decodes objects with Go's encoding/json, which matches field names ignoring case, \
so `mountpath` works like `mountPath`. Other tools (kubectl's strict field validation, kubeconform, \
tekscript's own model) do not. `tekscript check` accepts it and warns.\n\nWrong:\n\n    workspaces:\n    - name: source\n      mountpath: /src\n\nFixed:\n\n    workspaces:\n    - name: source\n      mountPath: /src\n",
};

/// Every code of this table, in order.
pub(super) const ALL: &[&Code] = &[
    E001, E002, E003, E004, E005, E006, E007, E008, E009, E010, E011, E012, E013, E014, E015, E016,
    E601, E602, W511, W512, E701, E702, E703, E704, E901, W901,
];
