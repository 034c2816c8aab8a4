//! Codes of the reference, graph and lint checks.
//!
//! | code | rule | Tekton's message (substring) |
//! |---|---|---|
//! | E201 | a `$(…)` with a Tekton prefix that Tekton cannot parse | `Invalid referencing of parameters in "<s>"! Only two dot-separated components after the prefix "params" are allowed.` |
//! | E202 | `$(params.x)` names an undeclared param | `non-existent variable in "<s>"` |
//! | E203 | `$(params.obj.key)` / `$(tasks.t.results.obj.key)`: key not a declared property | `non-existent variable in "<s>"` |
//! | E204 | a variable used where Tekton does not substitute it (task variables in a pipeline, pipeline variables in a Task, …) | – (left as literal text) |
//! | E205 | `$(results.r.path)` / `$(step.results.r.path)` names an undeclared result | `non-existent variable in "<script>"` |
//! | E206 | `$(workspaces.w…)` names an undeclared workspace | – |
//! | E207 | `$(steps.s…)`: unknown step, later step, undeclared step result | `non-existent variable in "<s>"` |
//! | E208 | a value of the wrong shape: whole array/object in a string field, `[*]`/`[N]`/`.key` on the wrong type | `variable type invalid in "<s>"` |
//! | E209 | a whole array that is not its own list element | `variable is not properly isolated in "<s>"` |
//! | E210 | step results outside `env`, `command`, `args` | `stepResult substitutions are only allowed in env, command and args` |
//! | E211 | execution status outside the params/when of a finally task | `pipeline tasks can not refer to execution status of any other pipeline task or aggregate status of tasks` |
//! | E212 | `$(finally.…)` outside pipeline results | – |
//! | E213 | a non-Tekton `$(…)` in pipeline-task params/when/matrix | `invalid variable reference "$(x)", must start with a valid prefix` |
//! | E214 | `$(tasks.t…)` names no pipeline task | `couldn't add link between <a> and <b>`, `pipeline task <t> is not defined in the pipeline` |
//! | E215 | the producing task declares no such result | `InvalidTaskResultReference`: `is not a named result returned by pipeline task` |
//! | E216 | results of a matrixed task: `[*]` required, string type | `A matrixed pipelineTask can only be consumed in aggregate using [*] notation`, `Matrixed PipelineTasks emitting results must have an underlying type string` |
//! | E217 | a pipeline task (or a step, to a StepAction) passes a param the task does not declare | – (ignored by Tekton) |
//! | E218 | a required param (no default) is not passed | `missing values for these params which have no default values`, `pipelineRun missing parameters` |
//! | E219 | a param value of the wrong type, missing object keys, value not in the enum | `param types don't match the user-specified type`, `parameters have inconsistent types`, `missing keys for these params`, `is not in the enum list` |
//! | E220 | matrix params: string params of the task, array values; include values strings | `InvalidMatrixParameterTypes` |
//! | E221 | `$(params.a[N])` with N past the end of a known array | `non-existent param references` (`ParamArrayIndexingInvalid`) |
//! | E222 | a required workspace is not bound | `declared workspace "<w>" is required but has not been bound`, `pipeline requires workspace with name "<w>" be provided by pipelinerun` |
//! | E223 | a binding names a workspace that is not declared | `does not match any declared workspace`, `expects workspace with name "<w>" but none exists in pipeline spec` |
//! | E224 | an optional pipeline workspace bound to a required task workspace | `is marked optional but pipeline task "<t>" requires it be provided` |
//! | E225 | `taskRunSpecs[].pipelineTaskName` names no pipeline task | `pipelineRun's taskrunSpecs defined wrong taskName` |
//! | E227 | a TaskRun `stepSpecs`/`sidecarSpecs` name that is not a step/sidecar of the task | `invalid StepOverride: No Step named`, `invalid SidecarOverride: No Sidecar named` |
//! | E226 | task results in PipelineRun params | `cannot use result expressions in [..] as PipelineRun parameter values` |
//! | E301 | the task graph has a cycle | `cycle detected; task "<a>" depends on "<b>"` |
//! | E302 | `runAfter` names no task | `task <a> depends on <b> but <b> wasn't present in Pipeline` |
//! | E303 | a task depends on itself | `cycle detected` |
//! | E304 | a task depends on a finally task | `… wasn't present in Pipeline` |
//! | E305 | a finally task uses a finally task's result | `final task has task result reference from a final task` |
//! | E306 | a finally task has `runAfter` | `no runAfter allowed under spec.finally` |
//! | E307 | a pipeline runs itself (`pipelineRef`, directly, from an embedded `pipelineSpec` or through other pipelines) | – (each run starts another, without end) |
//! | W501 | a param is never used | – |
//! | W502 | a workspace is never used | – |
//! | W503 | an image is not pinned | – |
//! | W504 | a script has no `#!` line | – |
//! | W505 | `set -x` in a step that reads a secret | – |
//! | W506 | an object, pipeline-task or step name is not kebab-case | – |
//! | W507 | a result written from unbounded output (4 KB limit) | `TaskRunResultLargerThanAllowedLimit` |
//! | W508 | a run passes a param that is not declared | – (ignored by Tekton) |
//! | W509 | `$(…)` in a script that looks like a Tekton variable but is not one | – (left to the shell) |
//! | W510 | a TaskRun does not bind a required workspace (a cluster default may) | `declared workspace "<w>" is required but has not been bound` |

use super::Code;

pub const E201: &Code = &Code {
    id: "E201",
    title: "a `$(…)` reference Tekton cannot parse",
    explanation: "The text starts like a Tekton variable (`params`, `tasks`, `results`, `steps`, \
`workspaces`, `context`, …) but is not one of its forms. Tekton rejects `$(params.a.b.c)` (only two \
dot-separated components after `params`: a param name, and an object key) and leaves other malformed \
variables in the text. Names with dots are written with brackets: `$(params['a.b'])`.\n\n\
Forms: `$(params.p)`, `$(params.p[N])`, `$(params.p[*])`, `$(params.obj.key)`, \
`$(tasks.t.results.r)`, `$(tasks.t.status)`, `$(results.r.path)`, `$(steps.s.results.r)`, \
`$(workspaces.w.path|bound|claim|volume)`, `$(context.taskRun.name|namespace|uid)`, \
`$(context.task.name|retry-count)`, `$(context.pipelineRun.name|namespace|uid)`, `$(context.pipeline.name)`, \
`$(context.pipelineTask.retries)`.\n\n\
Wrong:\n\n    task(\"t\").param(\"cfg\", #{ properties: [\"url\"] })\n        .step(\"s\", \"alpine:3.20\", \"echo $(params.cfg.url.host)\")\n\n\
Fixed:\n\n    task(\"t\").param(\"cfg\", #{ properties: [\"url\"] })\n        .step(\"s\", \"alpine:3.20\", \"echo $(params.cfg.url)\")\n\nSeverity: error: Tekton's webhook rejects the Task or Pipeline (`pkg/apis/pipeline/v1/task_validation.go`: `ValidateNameFormat`, `validateTaskContextVariables`).\n",
};

pub const E202: &Code = &Code {
    id: "E202",
    title: "unknown param",
    explanation: "`$(params.x)` names a param that is not declared where it is used: by the task (or \
pipeline) itself, or, for a task embedded in a pipeline, by the pipeline task or the pipeline (params \
propagate into embedded specs). Tekton rejects it with `non-existent variable`.\n\n\
Wrong:\n\n    task(\"t\").param(\"image\").step(\"s\", \"alpine:3.20\", \"echo $(params.imgae)\")\n\n\
Fixed:\n\n    task(\"t\").param(\"image\").step(\"s\", \"alpine:3.20\", \"echo $(params.image)\")\n\nSeverity: error: Tekton's webhook rejects a Task or Pipeline that uses an undeclared param (`ValidateUsageOfDeclaredParameters` in `pkg/apis/pipeline/v1/task_validation.go`, `validatePipelineParameterUsage` in `pipeline_validation.go`).\n",
};

pub const E203: &Code = &Code {
    id: "E203",
    title: "unknown property of an object",
    explanation: "`$(params.obj.key)` (or `$(tasks.t.results.obj.key)`) names a key that the object \
param (or result) does not declare in its `properties`.\n\n\
Wrong:\n\n    task(\"t\").param(\"git\", #{ properties: [\"url\", \"revision\"] })\n        .step(\"s\", \"alpine:3.20\", \"git clone $(params.git.uri)\")\n\n\
Fixed:\n\n    task(\"t\").param(\"git\", #{ properties: [\"url\", \"revision\"] })\n        .step(\"s\", \"alpine:3.20\", \"git clone $(params.git.url)\")\n\nSeverity: error: Tekton's webhook rejects it (`validateObjectUsage` in `pkg/apis/pipeline/v1/task_validation.go`).\n",
};

pub const E204: &Code = &Code {
    id: "E204",
    title: "a variable used where Tekton does not substitute it",
    explanation: "Tekton substitutes each variable in some places only (tekton-api §4): task variables \
(`$(results.r.path)`, `$(steps…)`, `$(workspaces.w.path)`, `$(context.taskRun.name)`, …) inside a task; \
pipeline variables (`$(tasks…)`, `$(context.pipelineRun.name)`, `$(workspaces.w.bound)`) in a pipeline \
task's params, `when`, `matrix`, `displayName`; `$(context.pipelineTask.retries)` and \
`$(tasks.t.matrix.length)` in pipeline-task params only. Elsewhere the text is left as it is and reaches \
the container unchanged. Pass the value in as a param instead.\n\n\
Wrong:\n\n    task(\"t\").step(\"s\", \"alpine:3.20\", \"echo $(context.pipelineRun.name)\")\n\n\
Fixed:\n\n    let t = task(\"t\").param(\"run\").step(\"s\", \"alpine:3.20\", \"echo $(params.run)\");\n    p.task(\"t\", t, #{ params: #{ run: \"$(context.pipelineRun.name)\" } });\n\nSeverity: warning: Tekton does not reject it and leaves the text as it is, so the run goes on with the literal `$(…)` text (no validation in `pkg/apis/pipeline/v1/task_validation.go` or `pipeline_validation.go` covers these places). It is almost always a mistake, so it is reported; `--deny E204` makes it an error.\n",
};

pub const E205: &Code = &Code {
    id: "E205",
    title: "unknown result in `$(results.<r>.path)`",
    explanation: "A step writes a result to `$(results.r.path)` (task results) or \
`$(step.results.r.path)` (its own step results), but no result of that name is declared. Tekton rejects \
it with `non-existent variable`; an undeclared result would be dropped anyway.\n\n\
Wrong:\n\n    task(\"t\").result(\"digest\").step(\"s\", \"alpine:3.20\", \"echo x > $(results.digets.path)\")\n\n\
Fixed:\n\n    task(\"t\").result(\"digest\").step(\"s\", \"alpine:3.20\", \"echo x > $(results.digest.path)\")\n\nSeverity: error: Tekton's webhook rejects a script writing an undeclared result (`validateTaskResultsVariables` in `pkg/apis/pipeline/v1/task_validation.go`).\n",
};

pub const E206: &Code = &Code {
    id: "E206",
    title: "unknown workspace",
    explanation: "`$(workspaces.w.path)` (or `.bound`, `.claim`, `.volume`) names a workspace the task \
does not declare; in a pipeline, `$(workspaces.w.bound)` must name a pipeline workspace. Tekton leaves \
the text as it is.\n\n\
Wrong:\n\n    task(\"t\").workspace(\"source\").step(\"s\", \"alpine:3.20\", \"ls $(workspaces.src.path)\")\n\n\
Fixed:\n\n    task(\"t\").workspace(\"source\").step(\"s\", \"alpine:3.20\", \"ls $(workspaces.source.path)\")\n\nSeverity: warning: Tekton does not check `$(workspaces.…)` names and leaves an unknown one as literal text (`validateWorkspaceUsages` in `pkg/apis/pipeline/v1/task_validation.go` checks only `steps[].workspaces` bindings); the step then sees the literal `$(…)`. `--deny E206` makes it an error.\n",
};

pub const E207: &Code = &Code {
    id: "E207",
    title: "unknown step or step result",
    explanation: "`$(steps.s.results.r)`, `$(steps.step-s.exitCode.path)` and step artifacts name a \
step of the same task. The step must exist, come before the step that uses it, and declare the result.\n\n\
Wrong:\n\n    task(\"t\")\n        .step(#{ name: \"a\", image: \"alpine:3.20\", script: \"echo 1 > $(step.results.n.path)\", results: [\"n\"] })\n        .step(#{ name: \"b\", image: \"alpine:3.20\", args: [\"$(steps.a.results.m)\"] })\n\n\
Fixed:\n\n    task(\"t\")\n        .step(#{ name: \"a\", image: \"alpine:3.20\", script: \"echo 1 > $(step.results.n.path)\", results: [\"n\"] })\n        .step(#{ name: \"b\", image: \"alpine:3.20\", args: [\"$(steps.a.results.n)\"] })\n\nSeverity: error: the step fails when its entrypoint cannot read the earlier step's result file (`loadStepResult` in `pkg/entrypoint/entrypointer.go`), and Tekton's webhook rejects an undeclared `$(step.results.r.path)` (`ValidateStepResultsVariables` in `pkg/apis/pipeline/v1/task_validation.go`).\n",
};

pub const E208: &Code = &Code {
    id: "E208",
    title: "a value used with the wrong shape",
    explanation: "An array or object param (or result) used whole where a single string is needed \
(`image`, `script`, `workingDir`, env values, `when` input, or mixed with other text), or a selector that \
does not fit the type: `[*]` on a string, `[N]` on a non-array, `.key` on a non-object. Tekton: `variable \
type invalid`. Whole arrays go in `command`/`args` (one argument per item) or whole param values.\n\n\
Wrong:\n\n    task(\"t\").param(\"flags\", #{ type: \"array\" })\n        .step(\"s\", \"alpine:3.20\", \"run $(params.flags[*])\")\n\n\
Fixed:\n\n    task(\"t\").param(\"flags\", #{ type: \"array\" })\n        .step(#{ name: \"s\", image: \"alpine:3.20\", command: [\"run\"], args: [\"$(params.flags[*])\"] })\n\nSeverity: error: Tekton's webhook rejects it (`variable type invalid`, `validateArrayUsage` in `pkg/apis/pipeline/v1/task_validation.go`).\n",
};

pub const E209: &Code = &Code {
    id: "E209",
    title: "a whole array that is not properly isolated",
    explanation: "A whole array (`$(params.list[*])`, `$(tasks.t.results.list[*])`) in a list \
(`command`, `args`, an array param value, `when` values, matrix params) must be an element on its own: \
Tekton replaces that element with the array's items. Tekton: `variable is not properly isolated`.\n\n\
Wrong:\n\n    step(#{ name: \"s\", image: \"alpine:3.20\", command: [\"ls\"], args: [\"--files=$(params.files[*])\"] })\n\n\
Fixed:\n\n    step(#{ name: \"s\", image: \"alpine:3.20\", command: [\"ls\"], args: [\"$(params.files[*])\"] })\n\nSeverity: error: Tekton's webhook rejects it (`variable is not properly isolated`).\n",
};

pub const E210: &Code = &Code {
    id: "E210",
    title: "a step result used outside env, command or args",
    explanation: "`$(steps.s.results.r)` is substituted by the step's entrypoint at run time, which \
only happens in `env` values, `command` and `args` (and in a task result's `value`). Tekton: \
`stepResult substitutions are only allowed in env, command and args`.\n\n\
Wrong:\n\n    step(#{ name: \"b\", image: \"alpine:3.20\", script: \"echo $(steps.a.results.n)\" })\n\n\
Fixed:\n\n    step(#{ name: \"b\", image: \"alpine:3.20\", env: #{ N: \"$(steps.a.results.n)\" }, script: \"echo $N\" })\n\nSeverity: error: Tekton's webhook rejects it (`stepResult substitutions are only allowed in env, command and args`).\n",
};

pub const E211: &Code = &Code {
    id: "E211",
    title: "execution status used outside a finally task",
    explanation: "`$(tasks.t.status)`, `$(tasks.t.reason)` and `$(tasks.status)` are only known once the \
tasks are done, so only `finally` tasks may use them, and only in their `params` and `when` (not inside \
their task). Tekton: `pipeline tasks can not refer to execution status of any other pipeline task`.\n\n\
Wrong:\n\n    p.task(\"notify\", n, #{ params: #{ status: \"$(tasks.build.status)\" } });\n\n\
Fixed:\n\n    p.finally(\"notify\", n, #{ params: #{ status: \"$(tasks.build.status)\" } });\n\nSeverity: error: Tekton's webhook rejects it (`validateExecutionStatusVariables` in `pkg/apis/pipeline/v1/pipeline_validation.go`).\n",
};

pub const E212: &Code = &Code {
    id: "E212",
    title: "`$(finally.…)` outside pipeline results",
    explanation: "Results of finally tasks can only be used in the pipeline's own `results`; no task \
runs after a finally task.\n\n\
Wrong:\n\n    p.finally(\"b\", t, #{ params: #{ x: \"$(finally.a.results.r)\" } });\n\n\
Fixed:\n\n    p.result(\"r\", \"$(finally.a.results.r)\");\n\nSeverity: warning: Tekton accepts the prefix `finally` in a pipeline task (`validateVarSubstitutionExpressions` in `pkg/apis/pipeline/v1/pipeline_validation.go`) but never substitutes it there, so the task gets the literal text. `--deny E212` makes it an error.\n",
};

pub const E213: &Code = &Code {
    id: "E213",
    title: "a non-Tekton `$(…)` in a pipeline task's params, when or matrix",
    explanation: "Tekton requires every `$(…)` in a pipeline task's `params`, `when` and `matrix` to be \
a Tekton variable (prefix `params`, `tasks`, `finally`, `context`, `workspaces`, `results`). Shell \
command substitution belongs in the task's script. Tekton: `invalid variable reference \"$(x)\", must \
start with a valid prefix`.\n\n\
Wrong:\n\n    p.task(\"t\", t, #{ params: #{ stamp: \"$(date)\" } });\n\n\
Fixed:\n\n    // compute it in the task: script: \"stamp=$(date)\"\n    p.task(\"t\", t);\n\nSeverity: error: Tekton's webhook rejects it (`validateVarSubstitutionExpressions` in `pkg/apis/pipeline/v1/pipeline_validation.go`).\n",
};

pub const E214: &Code = &Code {
    id: "E214",
    title: "reference to a pipeline task that does not exist",
    explanation: "`$(tasks.t.results.r)` (or `.status`, `.reason`, `.matrix.length`) names a task the \
pipeline does not have (or, for status, a finally task). Tekton: `couldn't add link between a and b: task \
a depends on b but b wasn't present in Pipeline`.\n\n\
Wrong:\n\n    p.task(\"test\", t, #{ params: #{ image: \"$(tasks.biuld.results.image)\" } });\n\n\
Fixed:\n\n    p.task(\"test\", t, #{ params: #{ image: \"$(tasks.build.results.image)\" } });\n\nSeverity: error: Tekton's webhook rejects the Pipeline (`validateGraph`, result references in `pkg/apis/pipeline/v1/pipeline_validation.go`).\n",
};

pub const E215: &Code = &Code {
    id: "E215",
    title: "reference to a result the task does not declare",
    explanation: "`$(tasks.t.results.r)` names a result that the task run by `t` does not declare (checked \
when the task is embedded or is a Task of the same build). Tekton fails the run with \
`InvalidTaskResultReference`. Using `build.result(\"r\")` in the script catches this earlier.\n\n\
Wrong:\n\n    let build = p.task(\"build\", task(\"b\").result(\"digest\") /* … */);\n    p.result(\"d\", \"$(tasks.build.results.digets)\");\n\n\
Fixed:\n\n    p.result(\"d\", build.result(\"digest\"));\n\nSeverity: error: the PipelineRun fails (`InvalidTaskResultReference`).\n",
};

pub const E216: &Code = &Code {
    id: "E216",
    title: "results of a matrixed task need `[*]`",
    explanation: "A task that runs as a matrix produces one value of each result per combination; \
Tekton collects them into an array, which must be used whole, `$(tasks.t.results.r[*])`, and the \
result must be declared as a string. Tekton: `A matrixed pipelineTask can only be consumed in aggregate \
using [*] notation`.\n\n\
Wrong:\n\n    p.task(\"report\", r, #{ params: #{ digests: \"$(tasks.build.results.digest)\" } });\n\n\
Fixed:\n\n    p.task(\"report\", r, #{ params: #{ digests: \"$(tasks.build.results.digest[*])\" } });\n\nSeverity: error: Tekton's webhook rejects it (`validateMatrixedPipelineTaskConsumed`, `validateMatrixEmittingStringResults` in `pkg/apis/pipeline/v1/pipeline_validation.go`).\n",
};

pub const E217: &Code = &Code {
    id: "E217",
    title: "a param the task does not declare",
    explanation: "A pipeline task passes a param that its task does not declare. Tekton ignores it, so \
the value is lost — usually a misspelt name. (An embedded task may use such a param without declaring \
it; then it is not reported.)\n\n\
Wrong:\n\n    let t = task(\"t\").param(\"image\") /* … */;\n    p.task(\"t\", t, #{ params: #{ imgae: \"alpine\" } });\n\n\
Fixed:\n\n    p.task(\"t\", t, #{ params: #{ image: \"alpine\" } });\n\nSeverity: a **warning** for a pipeline task (referenced or embedded task): Tekton accepts and ignores params a task does not declare (`pkg/reconciler/taskrun/validate_taskrun.go`, `wrongTypeParamsNames`: \"Ignore any missing params - this happens when extra params were passed to the task that aren't being used\"), and propagated params make passing extra ones common. An **error** for a step passing a param to a StepAction: the TaskRun fails with `extra params passed by Step to StepAction` (`pkg/reconciler/taskrun/resources/validate_params.go`, `validateStepHasStepActionParameters`).\n",
};

pub const E218: &Code = &Code {
    id: "E218",
    title: "a required param is not passed",
    explanation: "The task (or pipeline) declares a param without a default, and the pipeline task (or \
run) does not pass it. Tekton fails the run: `missing values for these params which have no default \
values` / `pipelineRun missing parameters`.\n\n\
Wrong:\n\n    let t = task(\"t\").param(\"url\") /* … */;\n    p.task(\"t\", t);\n\n\
Fixed:\n\n    p.task(\"t\", t, #{ params: #{ url: \"https://example.com\" } });\n\nSeverity: error: the run fails (`missing values for these params which have no default values`, `pkg/reconciler/taskrun/validate_taskrun.go`).\n",
};

pub const E219: &Code = &Code {
    id: "E219",
    title: "a param value of the wrong type",
    explanation: "A value does not match the param's declared type (string, array, object), an object \
value lacks declared keys, or a value is not in the param's `enum`. Tekton fails the run: `param types \
don't match the user-specified type`, `parameters have inconsistent types`, `missing keys for these \
params`, `is not in the enum list`.\n\n\
Wrong:\n\n    let t = task(\"t\").param(\"flags\", #{ type: \"array\" }) /* … */;\n    p.task(\"t\", t, #{ params: #{ flags: \"-v\" } });\n\n\
Fixed:\n\n    p.task(\"t\", t, #{ params: #{ flags: [\"-v\"] } });\n\nSeverity: error: the run fails (`param types don't match the user-specified type`, `pkg/reconciler/taskrun/validate_taskrun.go`).\n",
};

pub const E220: &Code = &Code {
    id: "E220",
    title: "wrong types in a matrix",
    explanation: "Each matrix combination passes one item of each matrix param, so a matrix param must \
be a string param of the task and be given an array; `include` entries give strings. Tekton fails the \
run with `InvalidMatrixParameterTypes`.\n\n\
Wrong:\n\n    p.task(\"build\", t, #{ matrix: #{ params: #{ platform: \"linux\" } } });\n\n\
Fixed:\n\n    p.task(\"build\", t, #{ matrix: #{ params: #{ platform: [\"linux\", \"mac\"] } } });\n\nSeverity: error: the run fails (`InvalidMatrixParameterTypes`).\n",
};

pub const E221: &Code = &Code {
    id: "E221",
    title: "array index out of range",
    explanation: "`$(params.list[N])` indexes an array whose length is known here (the value a pipeline \
task or run passes, or the default), and `N` is past its end. Tekton fails the run with \
`ParamArrayIndexingInvalid` (`non-existent param references`).\n\n\
Wrong:\n\n    let t = task(\"t\").param(\"os\", #{ type: \"array\" }).step(\"s\", \"alpine:3.20\", \"echo $(params.os[2])\");\n    p.task(\"t\", t, #{ params: #{ os: [\"linux\", \"mac\"] } });\n\n\
Fixed:\n\n    p.task(\"t\", t, #{ params: #{ os: [\"linux\", \"mac\", \"windows\"] } });\n\nSeverity: error: the run fails (`ParamArrayIndexingInvalid`, `pkg/reconciler/taskrun/resources/validate_params.go`).\n",
};

pub const E222: &Code = &Code {
    id: "E222",
    title: "a required workspace is not bound",
    explanation: "The task (or pipeline) declares a workspace that is not `optional`, and the pipeline \
task (or run) does not bind it. Tekton fails the run: `declared workspace is required but has not been \
bound` / `pipeline requires workspace … be provided by pipelinerun`.\n\n\
Wrong:\n\n    let t = task(\"t\").workspace(\"source\") /* … */;\n    p.task(\"t\", t);\n\n\
Fixed:\n\n    let ws = p.workspace(\"shared\");\n    p.task(\"t\", t, #{ workspaces: #{ source: ws } });\n\nSeverity: error: the run fails (the workspace is required but not bound).\n",
};

pub const E223: &Code = &Code {
    id: "E223",
    title: "a binding names an undeclared workspace",
    explanation: "A pipeline task binds a workspace its task does not declare, or binds to a pipeline \
workspace the pipeline does not declare; or a TaskRun binds a workspace its Task does not declare. \
Tekton: `workspace binding \"w\" does not match any declared workspace`, `pipeline task \"t\" expects \
workspace with name \"w\" but none exists in pipeline spec`.\n\n\
Wrong:\n\n    p.task(\"t\", t, #{ workspaces: #{ sorce: ws } });\n\n\
Fixed:\n\n    p.task(\"t\", t, #{ workspaces: #{ source: ws } });\n\nSeverity: error: Tekton's webhook rejects the Pipeline (`validatePipelineTasksWorkspacesUsage` in `pkg/apis/pipeline/v1/pipeline_validation.go`), and a TaskRun binding an undeclared workspace fails.\n",
};

pub const E224: &Code = &Code {
    id: "E224",
    title: "an optional pipeline workspace bound to a required task workspace",
    explanation: "A run may leave an optional pipeline workspace unbound, but the task needs its \
workspace. Tekton fails the run with `RequiredWorkspaceMarkedOptional`. Make both optional (and check \
`$(workspaces.w.bound)` in the task), or make the pipeline workspace required.\n\n\
Wrong:\n\n    let cache = p.workspace(\"cache\", #{ optional: true });\n    p.task(\"t\", task(\"t\").workspace(\"cache\") /* … */, #{ workspaces: #{ cache: cache } });\n\n\
Fixed:\n\n    p.task(\"t\", task(\"t\").workspace(\"cache\", #{ optional: true }) /* … */, #{ workspaces: #{ cache: cache } });\n\nSeverity: error: the run fails (`RequiredWorkspaceMarkedOptional`).\n",
};

pub const E225: &Code = &Code {
    id: "E225",
    title: "`taskRunSpecs` names an unknown pipeline task",
    explanation: "Each `taskRunSpecs[].pipelineTaskName` of a PipelineRun must be a task of its \
pipeline. Tekton fails the run with `InvalidTaskRunSpecs`.\n\n\
Wrong:\n\n    p.run(#{ taskRunSpecs: [#{ pipelineTaskName: \"biuld\", serviceAccountName: \"builder\" }] })\n\n\
Fixed:\n\n    p.run(#{ taskRunSpecs: [#{ pipelineTaskName: \"build\", serviceAccountName: \"builder\" }] })\n\nSeverity: error: the run fails (`InvalidTaskRunSpecs`).\n",
};

pub const E226: &Code = &Code {
    id: "E226",
    title: "task results in PipelineRun params",
    explanation: "A PipelineRun's params are fixed when it starts; no task has produced results yet. \
Tekton: `cannot use result expressions in [..] as PipelineRun parameter values`. Pass results between \
pipeline tasks instead.\n\n\
Wrong:\n\n    p.run(#{ params: #{ digest: \"$(tasks.build.results.digest)\" } })\n\n\
Fixed:\n\n    p.task(\"deploy\", d, #{ params: #{ digest: build.result(\"digest\") } });\n\nSeverity: error: Tekton's webhook rejects the PipelineRun.\n",
};

pub const E227: &Code = &Code {
    id: "E227",
    title: "a step or sidecar override names no step or sidecar of the task",
    explanation: "A TaskRun's `stepSpecs`/`sidecarSpecs` (or a PipelineRun's `taskRunSpecs[].stepSpecs`) \
override the resources of steps and sidecars by name. A name the task does not have fails the TaskRun \
when it starts: `invalid StepOverride: No Step named <s>`.\n\n\
Wrong:\n\n    let t = task(\"t\").step(\"build\", \"golang:1.23\", \"#!/bin/sh\\ngo build\");\n    emit(t.run(#{ stepSpecs: [#{ name: \"biuld\", computeResources: #{ limits: #{ memory: \"1Gi\" } } }] }));\n\n\
Fixed:\n\n    emit(t.run(#{ stepSpecs: [#{ name: \"build\", computeResources: #{ limits: #{ memory: \"1Gi\" } } }] }));\n\nSeverity: error: the TaskRun fails when it starts (`invalid StepOverride`).\n",
};

pub const E301: &Code = &Code {
    id: "E301",
    title: "the tasks of a pipeline wait for each other in a cycle",
    explanation: "Tasks run after the tasks they name in `runAfter` and the tasks whose results they use \
(`$(tasks.t.results.r)` in params, `when`, `matrix` or an embedded task). These dependencies form a \
cycle, so none of the tasks in it can start. The message shows one cycle (`a → b` means `a` waits for \
`b`) and each task's place in the script. Tekton: `cycle detected`.\n\n\
Wrong:\n\n    let build = p.task(\"build\", b, #{ runAfter: [\"test\"] });\n    p.task(\"test\", t, #{ params: #{ image: build.result(\"image\") } });\n\n\
Fixed:\n\n    let build = p.task(\"build\", b);\n    p.task(\"test\", t, #{ params: #{ image: build.result(\"image\") } });\n",
};

pub const E302: &Code = &Code {
    id: "E302",
    title: "`runAfter` names a task that does not exist",
    explanation: "Every name in `runAfter` must be a task (not a finally task) of the same pipeline. \
Tekton: `task a depends on b but b wasn't present in Pipeline`.\n\n\
Wrong:\n\n    p.task(\"test\", t, #{ runAfter: [\"biuld\"] });\n\n\
Fixed:\n\n    p.task(\"test\", t, #{ runAfter: [\"build\"] });\n",
};

pub const E303: &Code = &Code {
    id: "E303",
    title: "a task depends on itself",
    explanation: "A task names itself in `runAfter`, or uses its own result through \
`$(tasks.<itself>.results.r)`: it would wait for itself forever. Inside a task, a step writes results \
with `$(results.r.path)` and reads earlier steps' results with `$(steps.s.results.r)`.\n\n\
Wrong:\n\n    p.task(\"build\", b, #{ runAfter: [\"build\"] });\n\n\
Fixed:\n\n    p.task(\"build\", b);\n",
};

pub const E304: &Code = &Code {
    id: "E304",
    title: "a task depends on a finally task",
    explanation: "Finally tasks run after all other tasks, so a regular task cannot run after one \
(`runAfter`) or use its results. Tekton: `… wasn't present in Pipeline`.\n\n\
Wrong:\n\n    p.finally(\"cleanup\", c);\n    p.task(\"report\", r, #{ runAfter: [\"cleanup\"] });\n\n\
Fixed:\n\n    p.finally(\"cleanup\", c);\n    p.finally(\"report\", r);\n",
};

pub const E305: &Code = &Code {
    id: "E305",
    title: "a finally task uses a result of another finally task",
    explanation: "Finally tasks run in parallel, so one cannot use another's results. Tekton: \
`invalid task result reference, final task has task result reference from a final task`.\n\n\
Wrong:\n\n    p.finally(\"b\", t, #{ params: #{ x: \"$(tasks.a.results.r)\" } }); // `a` is a finally task\n\n\
Fixed:\n\n    // produce the value in a regular task and use it from the finally task\n    p.finally(\"b\", t, #{ params: #{ x: \"$(tasks.build.results.r)\" } });\n",
};

pub const E306: &Code = &Code {
    id: "E306",
    title: "a finally task has `runAfter`",
    explanation: "Finally tasks always run after all other tasks; they cannot be ordered with \
`runAfter`. Tekton: `no runAfter allowed under spec.finally`.\n\n\
Wrong:\n\n    # imported YAML\n    finally:\n    - name: report\n      runAfter: [build]\n\n\
Fixed:\n\n    finally:\n    - name: report\n",
};

pub const E307: &Code = &Code {
    id: "E307",
    title: "a pipeline runs itself",
    explanation: "A pipeline task runs a pipeline (`pipelineRef`, pipelines in pipelines) that is the \
pipeline itself, directly, from a pipeline it embeds (`pipelineSpec`), or through other pipelines of the \
same build (`a` runs `b`, which runs `a`). Every run would start a child run of the same pipeline, without \
end. In a script, a pipeline also cannot be one of its own tasks.\n\n\
Wrong:\n\n    let p = pipeline(\"ci\");\n    p.task(\"again\", p);\n\n\
Fixed:\n\n    let shared = pipeline(\"shared\");\n    shared.task(\"build\", build);\n    let p = pipeline(\"ci\");\n    p.task(\"shared\", shared);\n",
};

pub const W501: &Code = &Code {
    id: "W501",
    title: "a param is never used",
    explanation: "A task, pipeline or step action declares a param that no `$(params…)` refers to. It \
is probably left over, or a reference to it is misspelt.\n\n\
Wrong:\n\n    task(\"t\").param(\"image\").step(\"s\", \"alpine:3.20\", \"echo hi\")\n\n\
Fixed:\n\n    task(\"t\").param(\"image\").step(\"s\", \"$(params.image)\", \"echo hi\")\n",
};

pub const W502: &Code = &Code {
    id: "W502",
    title: "a workspace is never used",
    explanation: "A task declares a workspace that no `$(workspaces.w…)`, step workspace or mention of \
its mount path uses; or a pipeline declares a workspace no task binds. A task workspace with an explicit \
`mountPath` counts as used: tools read such places by themselves (kaniko's `/kaniko/.docker`).\n\n\
Wrong:\n\n    task(\"t\").workspace(\"source\").step(\"s\", \"alpine:3.20\", \"ls\")\n\n\
Fixed:\n\n    task(\"t\").workspace(\"source\").step(\"s\", \"alpine:3.20\", \"ls $(workspaces.source.path)\")\n",
};

pub const W503: &Code = &Code {
    id: "W503",
    title: "an image is not pinned",
    explanation: "An image without a tag means `:latest`, which changes when the image is republished, \
so the same pipeline can behave differently from one day to the next. Pin a version, or a digest.\n\n\
Wrong:\n\n    step(\"s\", \"alpine\", \"echo hi\")\n\n\
Fixed:\n\n    step(\"s\", \"alpine:3.20\", \"echo hi\")\n",
};

pub const W504: &Code = &Code {
    id: "W504",
    title: "a script has no `#!` line",
    explanation: "Without a shebang Tekton runs the script with `sh`, so bash syntax (`[[ ]]`, arrays, \
`set -o pipefail`) fails at run time. Say which interpreter runs it.\n\n\
Wrong:\n\n    step(\"s\", \"alpine:3.20\", \"echo hi\")\n\n\
Fixed:\n\n    step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\necho hi\")\n",
};

pub const W505: &Code = &Code {
    id: "W505",
    title: "`set -x` in a step that reads a secret",
    explanation: "Shell tracing prints each command with its variables expanded, so a secret read into \
an env var ends up in the task's log.\n\n\
Wrong:\n\n    step(\"push\", \"alpine:3.20\", \"#!/bin/sh\\nset -x\\nlogin -p \\\"$TOKEN\\\"\", #{ env: #{ TOKEN: secret_env(\"reg\", \"token\") } })\n\n\
Fixed:\n\n    step(\"push\", \"alpine:3.20\", \"#!/bin/sh\\nset -e\\nlogin -p \\\"$TOKEN\\\"\", #{ env: #{ TOKEN: secret_env(\"reg\", \"token\") } })\n",
};

pub const W506: &Code = &Code {
    id: "W506",
    title: "a name is not kebab-case",
    explanation: "Object, pipeline-task and step names that contain dots or doubled dashes are valid \
Kubernetes names, but unusual, and dots read like field paths in Tekton variables. Params, results and \
workspaces are not checked: Tekton's catalog uses names like `IMAGE` for them.\n\n\
Wrong:\n\n    pipeline(\"ci.main\")\n\n\
Fixed:\n\n    pipeline(\"ci-main\")\n",
};

pub const W507: &Code = &Code {
    id: "W507",
    title: "a result may exceed Tekton's 4 KB limit",
    explanation: "Results travel in the container's termination message, 4 KB by default for all of a \
task's results together; a larger result fails the task with `TaskRunResultLargerThanAllowedLimit`. \
The check flags results written straight from commands whose output has no bound (`cat`, `cp`, `curl`, \
`git log`, `find`, `ls`, `kubectl get`, …, not piped through a filter). Keep large data in a workspace.\n\n\
Wrong:\n\n    step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\ncat report.json > $(results.report.path)\")\n\n\
Fixed:\n\n    step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\ncp report.json $(workspaces.out.path)/ && sha256sum report.json | cut -c1-64 > $(results.digest.path)\")\n",
};

pub const W508: &Code = &Code {
    id: "W508",
    title: "a run passes a param that is not declared",
    explanation: "A TaskRun or PipelineRun passes a param its Task or Pipeline does not declare; Tekton \
ignores it. Usually a misspelt name. (Embedded specs may use run params without declaring them; those \
are not reported.)\n\n\
Wrong:\n\n    p.run(#{ params: #{ revison: \"main\" } })\n\n\
Fixed:\n\n    p.run(#{ params: #{ revision: \"main\" } })\n",
};

pub const W509: &Code = &Code {
    id: "W509",
    title: "a `$(…)` in a script looks like a Tekton variable but is not one",
    explanation: "The text starts with a Tekton prefix but is not a valid variable, so Tekton leaves it \
alone and the shell runs it as a command substitution, which fails. Fix the variable, or use `${…}` for \
shell variables. The old v1alpha1 form `$(inputs.params.x)` is reported too: write `$(params.x)`.\n\n\
Wrong:\n\n    step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\necho $(results.digest)\")\n\n\
Fixed:\n\n    step(\"s\", \"alpine:3.20\", \"#!/bin/sh\\necho x > $(results.digest.path)\")\n",
};

pub const W510: &Code = &Code {
    id: "W510",
    title: "a TaskRun does not bind a required workspace",
    explanation: "The Task declares a workspace that is not `optional`, and the TaskRun does not bind \
it. Tekton fails the run (`declared workspace \"w\" is required but has not been bound`) unless the \
cluster binds missing TaskRun workspaces by default (`default-task-run-workspace-binding` in the \
`config-defaults` config map), which Tekton's own examples use; hence a warning, not an error.\n\n\
Wrong:\n\n    emit(t.run());\n\n\
Fixed:\n\n    emit(t.run(#{ workspaces: #{ source: empty_dir() } }));\n",
};

/// Every code of this table, in order.
pub(super) const ALL: &[&Code] = &[
    E201, E202, E203, E204, E205, E206, E207, E208, E209, E210, E211, E212, E213, E214, E215, E216,
    E217, E218, E219, E220, E221, E222, E223, E224, E225, E226, E227, E301, E302, E303, E304, E305,
    E306, E307, W501, W502, W503, W504, W505, W506, W507, W508, W509, W510,
];
