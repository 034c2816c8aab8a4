//! The codes of the structure pass, with their explanations (`tekscript explain CODE`).

use super::Code;

pub const E101: &Code = &Code {
    id: "E101",
    title: "invalid object name",
    explanation: "Tekton objects are Kubernetes objects: `metadata.name` must be a DNS-1123 subdomain (lower-case \
letters, digits, `-` and `.`, starting and ending with a letter or digit) of at most 63 characters, and a \
`generateName` prefix must be able to start such a name. Tekton says `invalid resource name \"<n>\": must be a valid \
DNS label`.\n\nWrong:\n\n    let t = task(\"Build_Image\");\n\nFixed:\n\n    let t = task(\"build-image\");\n",
};

pub const E102: &Code = &Code {
    id: "E102",
    title: "a param's default does not have the param's type",
    explanation: "A param of type `string` needs a string default, an `array` param an array, an `object` param a \
map. Tekton says `\"string\" type does not match default value's type: \"array\"`.\n\nWrong:\n\n    t.param(\"flags\", #{ type: \"string\", default: [\"-v\"] });\n\nFixed:\n\n    t.param(\"flags\", #{ type: \"array\", default: [\"-v\"] });\n",
};

pub const E103: &Code = &Code {
    id: "E103",
    title: "an object param or result has missing or non-string properties",
    explanation: "An `object` param or result must list its keys in `properties`, and every key has type \
`string`. Tekton says `missing field(s): <name>.properties` or `The value type specified for these keys [..] is \
invalid`. (Tekton checks Pipeline-level object params only when the pipeline embeds a task; tekscript always \
checks.)\n\nWrong:\n\n    t.param(\"repo\", #{ type: \"object\" });\n\nFixed:\n\n    t.param(\"repo\", #{ type: \"object\", properties: [\"url\", \"revision\"] });\n",
};

pub const E104: &Code = &Code {
    id: "E104",
    title: "a param is declared twice",
    explanation: "Param names are unique within a task, pipeline or StepAction. Tekton says `parameter appears \
more than once`.\n\nWrong:\n\n    t.param(\"revision\");\n    t.param(\"revision\", #{ default: \"main\" });\n\nFixed:\n\n    t.param(\"revision\", #{ default: \"main\" });\n",
};

pub const E105: &Code = &Code {
    id: "E105",
    title: "invalid param name",
    explanation: "String and array param names start with a letter or `_` and contain only letters, digits, \
`_`, `-` and `.`; object param names and their keys may not contain dots. Tekton checks this for Tasks and \
StepActions (`The format of following array and string variable names is invalid`, `Object param name and key name \
format is invalid`); tekscript applies it to Pipeline params too, since their values end up in task params.\n\n\
Wrong:\n\n    t.param(\"1st-arg\");\n\nFixed:\n\n    t.param(\"first-arg\");\n",
};

pub const E106: &Code = &Code {
    id: "E106",
    title: "invalid param enum",
    explanation: "`enum` lists the allowed values of a string param: only string params can have one, values \
are unique, and a default must be one of them. Tekton says `enum can only be set with string type param`, \
`parameter enum value <v> appears more than once` or `param default value <v> not in the enum list`. (`enum` also \
needs the flag `enable-param-enum`, see E403.)\n\nWrong:\n\n    t.param(\"env\", #{ enum: [\"dev\", \"prod\"], default: \"staging\" });\n\nFixed:\n\n    t.param(\"env\", #{ enum: [\"dev\", \"staging\", \"prod\"], default: \"staging\" });\n",
};

pub const E107: &Code = &Code {
    id: "E107",
    title: "a task has no steps",
    explanation: "Every task needs at least one step. Tekton says `missing field(s): steps`.\n\nWrong:\n\n    let t = task(\"build\");\n    emit(t);\n\nFixed:\n\n    let t = task(\"build\");\n    t.step(\"compile\", \"golang:1.23\", \"go build ./...\");\n    emit(t);\n",
};

pub const E108: &Code = &Code {
    id: "E108",
    title: "invalid step or sidecar name",
    explanation: "Step and sidecar names become container names in the pod, so they must be DNS-1123 labels: \
lower-case letters, digits and `-`, at most 63 characters, starting and ending with a letter or digit. The sidecar \
name `tekton-log-results` is reserved. Tekton says `invalid value \"<n>\"` (`Task step name must be a valid DNS \
Label`) or `cannot use reserved sidecar name tekton-log-results`.\n\nWrong:\n\n    t.step(\"Run_Tests\", \"golang:1.23\", \"go test ./...\");\n\nFixed:\n\n    t.step(\"run-tests\", \"golang:1.23\", \"go test ./...\");\n",
};

pub const E109: &Code = &Code {
    id: "E109",
    title: "two steps or sidecars have the same name",
    explanation: "Step names are unique within a task (Tekton says `expected exactly one, got both`); so are \
sidecar names, whose containers would otherwise clash in the pod.\n\nWrong:\n\n    t.step(\"test\", \"golang:1.23\", \"go test ./a\");\n    t.step(\"test\", \"golang:1.23\", \"go test ./b\");\n\nFixed:\n\n    t.step(\"test-a\", \"golang:1.23\", \"go test ./a\");\n    t.step(\"test-b\", \"golang:1.23\", \"go test ./b\");\n",
};

pub const E110: &Code = &Code {
    id: "E110",
    title: "a step, sidecar or StepAction has no image",
    explanation: "A container needs an image. A step may take it from the task's step template; a step that \
runs a StepAction (`ref`) gets it from there. Tekton says `missing field(s): Image`.\n\nWrong:\n\n    t.step(#{ name: \"build\", script: \"make\" });\n\nFixed:\n\n    t.step(#{ name: \"build\", image: \"gcc:14\", script: \"make\" });\n\nor, for all steps at once:\n\n    t.step_template(#{ image: \"gcc:14\" });\n",
};

pub const E111: &Code = &Code {
    id: "E111",
    title: "`script` and `command` together",
    explanation: "A step, sidecar or StepAction runs either a `script` or a `command`, not both (the command \
may also come from the step template). Tekton says `script cannot be used with command`.\n\nWrong:\n\n    t.step(#{ name: \"build\", image: \"alpine\", command: [\"sh\", \"-c\"], script: \"make\" });\n\nFixed:\n\n    t.step(#{ name: \"build\", image: \"alpine\", script: \"make\" });\n",
};

pub const E112: &Code = &Code {
    id: "E112",
    title: "a step's `ref` conflicts with its other fields",
    explanation: "A step that runs a StepAction (`ref`) takes image, command, args, script, working dir, env, \
volume mounts and results from the StepAction; it passes inputs with `params`. Without `ref`, a step has no \
`params`. Tekton says `image cannot be used with Ref` (and so on) or `params cannot be used without Ref`.\n\nWrong:\n\n    t.step(#{ name: \"clone\", ref: \"git-clone\", image: \"alpine/git\" });\n\nFixed:\n\n    t.step(#{ name: \"clone\", ref: \"git-clone\", params: #{ url: \"https://example.com/repo.git\" } });\n",
};

pub const E113: &Code = &Code {
    id: "E113",
    title: "invalid onError",
    explanation: "`onError` of a step or pipeline task is `continue` or `stopAndFail` (or a `$(params…)` \
reference). A pipeline task that continues on error cannot also retry. Tekton says `Task step onError must be either \
\"continue\" or \"stopAndFail\"`, `PipelineTask OnError must be either …` or `PipelineTask OnError cannot be set to \
\"continue\" when Retries is greater than 0`.\n\nWrong:\n\n    p.task(\"lint\", lint, #{ onError: \"ignore\" });\n\nFixed:\n\n    p.task(\"lint\", lint, #{ onError: \"continue\" });\n",
};

pub const E114: &Code = &Code {
    id: "E114",
    title: "invalid timeout",
    explanation: "Durations are Go durations (`90s`, `10m`, `1h30m`; `0` means no timeout) and timeouts are \
not negative. A PipelineRun's `timeouts.tasks` and `timeouts.finally` fit into `timeouts.pipeline` (1h when not \
set), and so do `taskRunSpecs[].timeout`s. Tekton says `negative timeout`, `<d> should be >= 0` or `<d> should be <= \
pipeline duration`.\n\nWrong:\n\n    p.run(#{ timeouts: #{ tasks: \"2h\" } });\n\nFixed:\n\n    p.run(#{ timeouts: #{ pipeline: \"3h\", tasks: \"2h\" } });\n",
};

pub const E115: &Code = &Code {
    id: "E115",
    title: "a volume mount uses a path or name Tekton reserves",
    explanation: "Tekton mounts its own volumes under `/tekton/` (only `/tekton/home` is free) and names them \
`tekton-internal-…`. Tekton says `volumeMount cannot be mounted under /tekton/` or `cannot start with \
\"tekton-internal-\"`.\n\nWrong:\n\n    t.step(#{ name: \"s\", image: \"alpine\", volumeMounts: [#{ name: \"cache\", mountPath: \"/tekton/cache\" }] });\n\nFixed:\n\n    t.step(#{ name: \"s\", image: \"alpine\", volumeMounts: [#{ name: \"cache\", mountPath: \"/cache\" }] });\n",
};

pub const E116: &Code = &Code {
    id: "E116",
    title: "two volumes have the same name",
    explanation: "Volume names are unique within a task. Tekton says `multiple volumes with same name \
\"<v>\"`.\n\nWrong:\n\n    t.volume(#{ name: \"cache\", emptyDir: #{} });\n    t.volume(#{ name: \"cache\", configMap: #{ name: \"c\" } });\n\nFixed:\n\n    t.volume(#{ name: \"cache\", emptyDir: #{} });\n    t.volume(#{ name: \"config\", configMap: #{ name: \"c\" } });\n",
};

pub const E117: &Code = &Code {
    id: "E117",
    title: "invalid result name",
    explanation: "Result names (of tasks, steps and StepActions) consist of letters, digits, `-`, `_` and `.`, \
and start and end with a letter or digit. Avoid dots: `$(tasks.t.results.a.b)` reads as key `b` of an object result \
`a`. Tekton says `invalid key name \"<n>\"`.\n\nWrong:\n\n    t.result(\"image digest\");\n\nFixed:\n\n    t.result(\"image-digest\");\n",
};

pub const E118: &Code = &Code {
    id: "E118",
    title: "a result is declared twice",
    explanation: "Result names are unique within a task, step, StepAction or pipeline: two declarations would \
write (or read) the same file. Tekton does not check this; the second declaration silently shadows the first.\n\n\
Wrong:\n\n    t.result(\"digest\");\n    t.result(\"digest\", #{ description: \"the image digest\" });\n\nFixed:\n\n    t.result(\"digest\", #{ description: \"the image digest\" });\n",
};

pub const E119: &Code = &Code {
    id: "E119",
    title: "invalid task result value",
    explanation: "A task result's `value` lifts a step's result to the task: it is a string of the form \
`$(steps.<step>.results.<result>)`, with a valid step name and result name. Tekton says `Could not extract step name \
and result name`, `invalid extracted step name`, `invalid extracted result name` or `Invalid Type. Wanted string`.\n\n\
Wrong:\n\n    t.result(\"digest\", #{ value: \"sha256:abc\" });\n\nFixed:\n\n    t.result(\"digest\", #{ value: \"$(steps.build.results.digest)\" });\n",
};

pub const E120: &Code = &Code {
    id: "E120",
    title: "invalid or duplicate workspace declaration",
    explanation: "Workspace names are non-empty and unique within a task or pipeline. Tekton says `workspace \
name \"<w>\" must be unique` (tasks) or `workspace with name \"<w>\" appears more than once` (pipelines).\n\nWrong:\n\n    t.workspace(\"source\");\n    t.workspace(\"source\", #{ readOnly: true });\n\nFixed:\n\n    t.workspace(\"source\", #{ readOnly: true });\n",
};

pub const E121: &Code = &Code {
    id: "E121",
    title: "two workspaces or volumes share a mount path",
    explanation: "A task's workspaces are mounted at their `mountPath` (default `/workspace/<name>`); no two \
workspaces, and no workspace and step volume mount, may use the same path. Tekton says `workspace mount path \
\"<p>\" must be unique`.\n\nWrong:\n\n    t.workspace(\"src\", #{ mountPath: \"/src\" });\n    t.workspace(\"cache\", #{ mountPath: \"/src\" });\n\nFixed:\n\n    t.workspace(\"src\", #{ mountPath: \"/src\" });\n    t.workspace(\"cache\", #{ mountPath: \"/cache\" });\n",
};

pub const E122: &Code = &Code {
    id: "E122",
    title: "a workspace is bound twice",
    explanation: "A pipeline task binds each of its task's workspaces once, and a run binds each workspace \
once (TaskRuns compare names ignoring case). Tekton says `workspace name \"<w>\" must be unique`, `expected exactly \
one, got both` or `workspace \"<w>\" provided by pipelinerun more than once`.\n\nWrong:\n\n    p.task(\"build\", t, #{ workspaces: [#{ name: \"src\", workspace: \"a\" }, #{ name: \"src\", workspace: \"b\" }] });\n\nFixed:\n\n    p.task(\"build\", t, #{ workspaces: #{ src: \"a\" } });\n",
};

pub const E123: &Code = &Code {
    id: "E123",
    title: "invalid run workspace binding",
    explanation: "A run binds a workspace to exactly one volume source (`persistentVolumeClaim`, \
`volumeClaimTemplate`, `emptyDir`, `configMap`, `secret`, `projected`, `csi`), with the source's required field \
(`claimName`, `name`, `secretName`, `sources`, `driver`). Tekton says `expected exactly one, got both`, `expected \
exactly one, got neither` or `missing field(s): …`.\n\nWrong:\n\n    p.run(#{ workspaces: #{ src: #{ emptyDir: #{}, persistentVolumeClaim: #{ claimName: \"src\" } } } });\n\nFixed:\n\n    p.run(#{ workspaces: #{ src: pvc(\"src\") } });\n",
};

pub const E124: &Code = &Code {
    id: "E124",
    title: "invalid pipeline result value",
    explanation: "A pipeline result's value is made of task result references, `$(tasks.<task>.results.<r>)` \
or `$(finally.<task>.results.<r>)`, with no text before the first reference. Tekton says `expected pipeline results \
to be task result expressions but …` or `referencing a nonexistent task`.\n\nWrong:\n\n    p.result(\"image\", \"registry.example.com/app\");\n\nFixed:\n\n    let build = p.task(\"build\", t);\n    p.result(\"image\", build.result(\"image\"));\n",
};

pub const E125: &Code = &Code {
    id: "E125",
    title: "invalid pipeline task name",
    explanation: "Pipeline task names are DNS-1123 labels (lower-case letters, digits and `-`, at most 63 \
characters). Tekton says `invalid value \"<n>\"` (`Pipeline Task name must be a valid DNS Label.`).\n\nWrong:\n\n    p.task(\"Unit_Tests\", t);\n\nFixed:\n\n    p.task(\"unit-tests\", t);\n",
};

pub const E126: &Code = &Code {
    id: "E126",
    title: "two pipeline tasks have the same name",
    explanation: "Names are unique over `tasks` and `finally` together. Tekton says `expected exactly one, got \
both`.\n\nWrong:\n\n    p.task(\"test\", unit);\n    p.task(\"test\", e2e);\n\nFixed:\n\n    p.task(\"unit-test\", unit);\n    p.task(\"e2e-test\", e2e);\n",
};

pub const E127: &Code = &Code {
    id: "E127",
    title: "a pipeline task must run exactly one task",
    explanation: "A pipeline task has exactly one of `taskRef`, `taskSpec` (and, with alpha features, \
`pipelineRef`, `pipelineSpec`). Tekton says `expected exactly one, got multiple` or `expected exactly one, got \
neither`. The script API always sets one; this shows up for YAML input.\n\nWrong (YAML):\n\n    tasks:\n      - name: build\n\nFixed:\n\n    p.task(\"build\", task_ref(\"build\"));\n",
};

pub const E128: &Code = &Code {
    id: "E128",
    title: "invalid custom task or embedded task kind",
    explanation: "A custom task (a `taskRef`/`taskSpec` with an `apiVersion`, or a `kind` other than `Task`) \
needs both `kind` and an `apiVersion` of the form `group/version`; an embedded task with steps is a Tekton task and \
sets neither. Tekton says `custom task ref must specify kind`, `custom task ref must specify apiVersion`, `invalid \
apiVersion format \"<v>\", must be in the format \"group/version\"` or `taskSpec.kind cannot be specified when using \
taskSpec.steps`.\n\nWrong:\n\n    p.task(\"wait\", custom_task(\"wait.example.dev\", \"Wait\"));\n\nFixed:\n\n    p.task(\"wait\", custom_task(\"wait.example.dev/v1alpha1\", \"Wait\"));\n",
};

pub const E129: &Code = &Code {
    id: "E129",
    title: "empty pipeline, or finally tasks without tasks",
    explanation: "A pipeline has content, and `finally` tasks run after normal tasks, so a pipeline with \
`finally` tasks has at least one normal task. Tekton says `expected at least one, got none` or `spec.tasks is empty \
but spec.finally has <n> tasks`.\n\nWrong:\n\n    let p = pipeline(\"ci\");\n    p.finally(\"notify\", notify);\n\nFixed:\n\n    let p = pipeline(\"ci\");\n    p.task(\"build\", build);\n    p.finally(\"notify\", notify);\n",
};

pub const E130: &Code = &Code {
    id: "E130",
    title: "invalid reference",
    explanation: "A `taskRef`, `pipelineRef` or step `ref` names the object (a Kubernetes qualified name), or \
fetches it with a `resolver` and its `params`, not both. A URL-like name (`git://…`) needs a resolver and the \
concise-syntax flag. Tekton says `missing field(s): name`, `expected exactly one, got both`, `missing field(s): \
resolver`, `invalid value: invalid URI for request` or `invalid value: <reason>`.\n\nWrong:\n\n    p.task(\"build\", task_ref(\"build task\"));\n\nFixed:\n\n    p.task(\"build\", task_ref(\"build-task\"));\n",
};

pub const E131: &Code = &Code {
    id: "E131",
    title: "invalid when expression",
    explanation: "A when expression is `input` + `operator` (`in` or `notin`, lower case) + non-empty `values`, \
or a `cel` expression alone. Tekton says `operator \"<op>\" is not recognized. valid operators: in,notin`, `expecting \
non-empty values field`, `missing field(s)` or `cel and input+operator+values cannot be set in one \
WhenExpression`.\n\nWrong:\n\n    p.task(\"deploy\", d, #{ when: [#{ input: \"$(params.env)\", operator: \"In\", values: [\"prod\"] }] });\n\nFixed:\n\n    p.task(\"deploy\", d, #{ when: [when_in(\"$(params.env)\", [\"prod\"])] });\n",
};

pub const E132: &Code = &Code {
    id: "E132",
    title: "too many matrix combinations",
    explanation: "A matrix fans a pipeline task out into one TaskRun per combination of its params (plus new \
combinations from `include`); Tekton allows at most `default-max-matrix-combinations-count` (256) and says \
`expected 0 <= <n> <= 256`.\n\nWrong:\n\n    p.task(\"test\", t, #{ matrix: #{ params: #{ os: oses, arch: arches, version: versions } } });  // 300 combinations\n\nFixed: split the matrix over two pipeline tasks, or shorten the lists.\n",
};

pub const E133: &Code = &Code {
    id: "E133",
    title: "a param is passed twice",
    explanation: "Param names are unique in a pipeline task's `params`, in `matrix.params`, in each \
`matrix.include[].params`, in run params and in resolver params (runs and resolvers compare names ignoring case). \
Tekton says `parameter names must be unique, the parameter \"<n>\" is also defined at` or `expected exactly one, got \
both`.\n\nWrong:\n\n    t.run(#{ params: [#{ name: \"url\", value: \"a\" }, #{ name: \"URL\", value: \"b\" }] });\n\nFixed:\n\n    t.run(#{ params: #{ url: \"a\" } });\n",
};

pub const E134: &Code = &Code {
    id: "E134",
    title: "a param is both in params and in the matrix",
    explanation: "A pipeline task takes a param either from `params` (one value) or from `matrix` (fanned \
out). Tekton says `expected exactly one, got both: matrix[<n>], params[<n>]`.\n\nWrong:\n\n    p.task(\"test\", t, #{ params: #{ os: \"linux\" }, matrix: #{ params: #{ os: [\"linux\", \"mac\"] } } });\n\nFixed:\n\n    p.task(\"test\", t, #{ matrix: #{ params: #{ os: [\"linux\", \"mac\"] } } });\n",
};

pub const E135: &Code = &Code {
    id: "E135",
    title: "a run must have exactly one task or pipeline",
    explanation: "A TaskRun has exactly one of `taskRef` and `taskSpec`; a PipelineRun exactly one of \
`pipelineRef` and `pipelineSpec`. Tekton says `expected exactly one, got neither` or `expected exactly one, got \
both`. The script API always sets one; this shows up for YAML input.\n\nFixed:\n\n    let run = t.run(#{ params: #{ url: \"https://example.com/repo.git\" } });\n",
};

pub const E136: &Code = &Code {
    id: "E136",
    title: "invalid run status",
    explanation: "A run may be created with `status` `TaskRunCancelled` or `TaskRunPending` (TaskRun), or \
`Cancelled`, `CancelledRunFinally`, `StoppedRunFinally` or `PipelineRunPending` (PipelineRun); a TaskRun's \
`statusMessage` needs a `status`. Tekton says `<v> should be TaskRunCancelled or TaskRunPending` or `statusMessage \
should not be set if status is not set`.\n\nWrong:\n\n    p.run(#{ status: \"Pending\" });\n\nFixed:\n\n    p.run(#{ status: \"PipelineRunPending\" });\n",
};

pub const E137: &Code = &Code {
    id: "E137",
    title: "negative retries",
    explanation: "A TaskRun's `retries` is not negative. Tekton says `<n> should be >= 0`.\n\nWrong:\n\n    t.run(#{ retries: -1 });\n\nFixed:\n\n    t.run(#{ retries: 2 });\n",
};

pub const E138: &Code = &Code {
    id: "E138",
    title: "invalid step or sidecar override",
    explanation: "Each `stepSpecs`/`sidecarSpecs` entry names the step or sidecar whose resources it changes, \
once (names compared ignoring case). Tekton says `missing field(s): name` or `expected exactly one, got both`.\n\n\
Wrong:\n\n    t.run(#{ stepSpecs: [#{ computeResources: #{ limits: #{ memory: \"1Gi\" } } }] });\n\nFixed:\n\n    t.run(#{ stepSpecs: [#{ name: \"build\", computeResources: #{ limits: #{ memory: \"1Gi\" } } }] });\n",
};

pub const E139: &Code = &Code {
    id: "E139",
    title: "task-level and step-level resources together",
    explanation: "A run sets resources for the whole task (`computeResources`) or per step (`stepSpecs`), not \
both. Tekton says `expected exactly one, got both: stepSpecs.resources, computeResources`.\n\nWrong:\n\n    t.run(#{ computeResources: #{ limits: #{ cpu: \"2\" } }, stepSpecs: [#{ name: \"build\", computeResources: #{ limits: #{ cpu: \"1\" } } }] });\n\nFixed:\n\n    t.run(#{ computeResources: #{ limits: #{ cpu: \"2\" } } });\n",
};

pub const E140: &Code = &Code {
    id: "E140",
    title: "invalid debug breakpoints",
    explanation: "A TaskRun's `debug.breakpoints.onFailure` can only be `enabled`, and `beforeSteps` lists each \
step once. Tekton says `onFailure breakpoint is empty, it is only allowed to be set as enabled`, `… is not a valid \
onFailure breakpoint value` or `before step must be unique`.\n\nWrong:\n\n    t.run(#{ \"debug\": #{ breakpoints: #{ onFailure: \"true\" } } });\n\nFixed:\n\n    t.run(#{ \"debug\": #{ breakpoints: #{ onFailure: \"enabled\" } } });\n",
};

pub const E141: &Code = &Code {
    id: "E141",
    title: "a StepAction script uses a param",
    explanation: "Params are not substituted into a StepAction's script (it would let a param value inject \
shell code). Pass them through environment variables. Tekton says `param substitution in scripts is not \
allowed.`\n\nWrong:\n\n    step_action(\"greet\", #{ image: \"alpine\", params: [\"who\"], script: \"echo hello $(params.who)\" });\n\nFixed:\n\n    step_action(\"greet\", #{ image: \"alpine\", params: [\"who\"], env: #{ WHO: \"$(params.who)\" }, script: \"echo hello \\\"$WHO\\\"\" });\n",
};

pub const E142: &Code = &Code {
    id: "E142",
    title: "a StepAction volume mount name is not a param reference",
    explanation: "A StepAction does not know the volumes of the task that uses it, so each volume mount's \
`name` is exactly one param reference, filled in by the task. Tekton says `expect the Name to be a single param \
reference`.\n\nWrong:\n\n    step_action(\"cache\", #{ image: \"alpine\", volumeMounts: [#{ name: \"cache\", mountPath: \"/cache\" }] });\n\nFixed:\n\n    step_action(\"cache\", #{ image: \"alpine\", params: [\"volume\"], volumeMounts: [#{ name: \"$(params.volume)\", mountPath: \"/cache\" }] });\n",
};

pub const E143: &Code = &Code {
    id: "E143",
    title: "a Kubernetes field value the API server rejects",
    explanation: "Some fields of Tekton objects are Kubernetes core types that Tekton's webhook passes \
through but the API server checks when it validates the object or the pod Tekton creates, so the run fails \
late: resource quantities (`computeResources.limits.cpu: \"abc\"` — Kubernetes reads `<number><suffix>` such \
as `500m`, `2`, `1Gi`, `1e3`, and requests and limits cannot be negative), environment variable names (required; \
printable ASCII without `=`, the rule since Kubernetes 1.34), label and annotation keys (qualified names: an \
optional DNS prefix and `/`, then 1–63 letters, digits, `-`, `_`, `.`, starting and ending with a letter or \
digit) and label values (at most 63 of those characters, or empty).\n\nWrong:\n\n    \
task(\"t\").step(#{ name: \"s\", image: \"alpine\", computeResources: #{ limits: #{ cpu: \"two\" } } })\n\n\
Fixed:\n\n    task(\"t\").step(#{ name: \"s\", image: \"alpine\", computeResources: #{ limits: #{ cpu: \"2\" } } })\n",
};

pub const E144: &Code = &Code {
    id: "E144",
    title: "an invalid image reference",
    explanation: "An image reference is `[registry[:port]/]path[:tag][@digest]`: lower-case path parts, a tag of \
letters, digits, `_`, `.` and `-`. Kubernetes accepts any string in the field but fails the pod with \
`InvalidImageName`, so the run would certainly fail. A `${…}` in the name usually means a Rhai variable was \
written in a double-quoted string, which does not interpolate.\n\nWrong:\n\n    t.step(\"s\", \"${registry}/tool:1.0\", \"#!/bin/sh\\ntrue\");\n\nFixed:\n\n    t.step(\"s\", `${registry}/tool:1.0`, \"#!/bin/sh\\ntrue\");\n",
};

pub const E401: &Code = &Code {
    id: "E401",
    title: "a beta feature is used, but the target allows only stable fields",
    explanation: "The target cluster's `enable-api-fields` is `stable` (`--feature-gates stable`), and this \
field is beta: resolvers and resolver params, `matrix`, step and sidecar `workspaces`, pipeline task `onError`, run \
`stepSpecs`/`sidecarSpecs`/`computeResources`. Tekton says `<feature> requires \"enable-api-fields\" feature gate to \
be \"alpha\" or \"beta\" but it is \"stable\"`. Compile with `--feature-gates beta` (Tekton's default) if the \
cluster allows beta fields, or avoid the field.\n\nWrong (with `--feature-gates stable`):\n\n    p.task(\"test\", t, #{ matrix: #{ params: #{ os: [\"linux\", \"mac\"] } } });\n\nFixed:\n\n    p.task(\"test-linux\", t, #{ params: #{ os: \"linux\" } });\n    p.task(\"test-mac\", t, #{ params: #{ os: \"mac\" } });\n",
};

pub const E402: &Code = &Code {
    id: "E402",
    title: "an alpha feature is used, but the target does not allow alpha fields",
    explanation: "This field needs `enable-api-fields: alpha` on the cluster: pipelines in pipelines \
(`pipelineRef`/`pipelineSpec` on a pipeline task), step `stdoutConfig`/`stderrConfig`, `#!win` scripts, TaskRun \
`debug`. Tekton says `<feature> requires \"enable-api-fields\" feature gate to be \"alpha\" but it is \"beta\"`. \
Compile with `--feature-gates alpha` if the cluster allows alpha fields.\n\nWrong (with the default gates):\n\n    t.run(#{ \"debug\": #{ breakpoints: #{ onFailure: \"enabled\" } } });\n\nFixed: `tekscript build --feature-gates alpha ci.rhai`, or drop `debug`.\n",
};

pub const E403: &Code = &Code {
    id: "E403",
    title: "`enum` needs the flag enable-param-enum",
    explanation: "Param enums are behind the per-feature flag `enable-param-enum` (independent of \
`enable-api-fields`). Tekton says ``feature flag `enable-param-enum` should be set to true to use Enum``. Compile \
with e.g. `--feature-gates beta,enable-param-enum` if the cluster sets the flag, or drop `enum`.\n\nWrong (with the default gates):\n\n    t.param(\"env\", #{ enum: [\"dev\", \"prod\"] });\n\nFixed:\n\n    t.param(\"env\", #{ description: \"dev or prod\" });\n",
};

pub const E404: &Code = &Code {
    id: "E404",
    title: "a CEL when expression needs the flag enable-cel-in-whenexpression",
    explanation: "`cel` in a when expression is behind the per-feature flag `enable-cel-in-whenexpression`. \
Tekton says `feature flag enable-cel-in-whenexpression should be set to true to use CEL: <expr> in WhenExpression`. \
Compile with e.g. `--feature-gates beta,enable-cel-in-whenexpression` if the cluster sets the flag, or use \
`input`/`operator`/`values`.\n\nWrong (with the default gates):\n\n    p.task(\"deploy\", d, #{ when: [cel(\"'$(params.env)' == 'prod'\")] });\n\nFixed:\n\n    p.task(\"deploy\", d, #{ when: [when_in(\"$(params.env)\", [\"prod\"])] });\n",
};

pub const E405: &Code = &Code {
    id: "E405",
    title: "artifacts need the flag enable-artifacts",
    explanation: "`$(step.artifacts.path)`, `$(artifacts.path)`, `$(steps.<s>.inputs|outputs.<a>)` and \
`$(tasks.<t>.inputs|outputs.<a>)` are behind the per-feature flag `enable-artifacts`. Tekton says `feature flag \
enable-artifacts should be set to true to use artifacts feature.` Compile with e.g. `--feature-gates \
beta,enable-artifacts` if the cluster sets the flag.\n\nWrong (with the default gates):\n\n    t.step(\"produce\", \"alpine\", \"echo '{}' > $(step.artifacts.path)\");\n\nFixed: use a result instead:\n\n    t.result(\"out\");\n    t.step(\"produce\", \"alpine\", \"echo '{}' > $(results.out.path)\");\n",
};

pub const E406: &Code = &Code {
    id: "E406",
    title: "a URL-like reference needs the flag enable-concise-resolver-syntax",
    explanation: "A reference whose `name` looks like a URL (`git://…`, `hub://…`) uses the concise resolver \
syntax, behind the per-feature flag `enable-concise-resolver-syntax` (and it still needs a `resolver`). Tekton says \
`feature flag enable-concise-resolver-syntax should be set to true to use concise resolver syntax`.\n\nWrong (with the default gates):\n\n    p.task(\"lint\", task_ref(\"git://github.com/org/tasks/lint.yaml\"));\n\nFixed:\n\n    p.task(\"lint\", from_git(#{ url: \"https://github.com/org/tasks\", revision: \"main\", pathInRepo: \"lint.yaml\" }));\n",
};

/// Every code of this table, in order.
pub(super) const ALL: &[&Code] = &[
    E101, E102, E103, E104, E105, E106, E107, E108, E109, E110, E111, E112, E113, E114, E115, E116,
    E117, E118, E119, E120, E121, E122, E123, E124, E125, E126, E127, E128, E129, E130, E131, E132,
    E133, E134, E135, E136, E137, E138, E139, E140, E141, E142, E143, E144, E401, E402, E403, E404,
    E405, E406,
];
