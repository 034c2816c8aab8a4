//! `tekscript run --local` through the binary, with the `host` runtime (always) and `podman` (when it can
//! run the test image `localhost/test/busybox:1`, which `scripts/podman-test-env.sh` builds; without it
//! the podman cases skip and say so, unless `TEKSCRIPT_REQUIRE_PODMAN=1`, as in CI, makes that a
//! failure). Every run is checked to leave nothing behind: no container with its label, no directory.
//!
//! Scripts name `docker.io/library/alpine:3.20`; podman runs map every image to the test image with
//! `--image-map`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const ALPINE: &str = "docker.io/library/alpine:3.20";

fn test_image() -> String {
    std::env::var("TEST_IMAGE").unwrap_or_else(|_| "localhost/test/busybox:1".into())
}

/// podman with the test image, or `None` after saying why.
fn podman() -> bool {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let out = Command::new("podman")
            .args(["image", "exists", &test_image()])
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(_) => {
                return Err(format!(
                    "podman has no image {} (scripts/podman-test-env.sh builds it)",
                    test_image()
                ));
            }
            Err(e) => return Err(format!("podman is not available: {e}")),
        }
        // podman can be installed and still unable to start containers here (this sandbox needs the
        // containers.conf that scripts/podman-test-env.sh writes: `eval "$(scripts/podman-test-env.sh)"`)
        let run = Command::new("podman")
            .args(["run", "--rm", "--network=none", &test_image(), "true"])
            .output();
        match run {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(format!(
                "podman cannot start a container here ({}); eval \"$(scripts/podman-test-env.sh)\" first",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Err(format!("podman is not available: {e}")),
        }
    });
    match ready {
        Ok(()) => true,
        Err(why) => {
            if std::env::var("TEKSCRIPT_REQUIRE_PODMAN").is_ok_and(|v| v == "1") {
                panic!("TEKSCRIPT_REQUIRE_PODMAN=1 but {why}");
            }
            println!("skipping the podman runtime: {why}");
            false
        }
    }
}

/// The runtimes to test: host, and podman when it is there.
fn runtimes() -> Vec<&'static str> {
    let mut r = vec!["host"];
    if podman() {
        r.push("podman");
    }
    r
}

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn has(&self, s: &str) -> bool {
        self.stdout.contains(s) || self.stderr.contains(s)
    }

    #[track_caller]
    fn expect(&self, parts: &[&str]) {
        for p in parts {
            assert!(self.has(p), "missing {p:?} in:\n{self}");
        }
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn command(dir: &Path, runtime: &str, map_images: bool, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tekscript"));
    cmd.current_dir(dir)
        .args(["run", "p.rhai", "--local", "--runtime", runtime])
        .args(["--view", "plain", "--timestamps", "never"]);
    if map_images && runtime != "host" {
        cmd.arg("--image-map").arg(format!("*={}", test_image()));
    }
    cmd.args(args);
    cmd
}

fn script_dir(script: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.rhai"), script).unwrap();
    dir
}

/// The run's name, from `PipelineRun NAME running on this machine`.
fn run_name(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| {
        l.strip_prefix("PipelineRun ")
            .and_then(|r| r.split_once(" running on this machine"))
            .map(|(n, _)| n.to_string())
    })
}

/// Nothing of the run is left: no container with its label, no temporary directory.
#[track_caller]
fn assert_clean(runtime: &str, name: &str) {
    if runtime != "host" {
        let out = Command::new(runtime)
            .args([
                "ps",
                "-a",
                "-q",
                "--filter",
                &format!("label=tekscript.run={name}"),
            ])
            .output()
            .unwrap();
        let left = String::from_utf8_lossy(&out.stdout);
        assert!(left.trim().is_empty(), "containers left by {name}: {left}");
    }
    let prefix = format!("tekscript-{name}-");
    let left: Vec<PathBuf> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "directories left by {name}: {left:?}");
}

fn run_in(dir: &Path, runtime: &str, map_images: bool, args: &[&str]) -> Out {
    let out = command(dir, runtime, map_images, args).output().unwrap();
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    if let Some(name) = run_name(&out.stderr) {
        assert_clean(runtime, &name);
    }
    out
}

fn run(runtime: &str, script: &str, args: &[&str]) -> Out {
    let dir = script_dir(script);
    run_in(dir.path(), runtime, true, args)
}

/// [`run`], then the outcome must agree with `simulate` (given `sim_args` for `-p`/`-w`).
fn run_agreeing(runtime: &str, script: &str, args: &[&str], sim_args: &[&str]) -> Out {
    let dir = script_dir(script);
    let out = run_in(dir.path(), runtime, true, args);
    let sim: Vec<String> = sim_args.iter().map(|a| a.to_string()).collect();
    assert_agrees(&dir.path().join("p.rhai"), &sim, &out.stderr, runtime);
    out
}

#[test]
fn results_and_files_flow_through_a_workspace() {
    let script = r##"
let make = task("make", #{ results: ["version", #{ name: "files", type: "array" }] });
let out = make.workspace("out");
make.step("write", "docker.io/library/alpine:3.20", `#!/bin/sh
echo hello > ${out}/file.txt
printf 'v1' > $(results.version.path)
printf '["a.txt","b.txt"]' > $(results.files.path)
`);
let reader = task("use", #{ params: ["v", #{ name: "files", type: "array" }] });
let inp = reader.workspace("in");
reader.step(#{
    name: "read",
    image: "docker.io/library/alpine:3.20",
    command: ["sh", "-c", "cat \"$0/file.txt\"; echo \"version $1\"; shift; echo \"files $*\""],
    args: [inp, "$(params.v)", "$(params.files[*])"],
});
let p = pipeline("flow");
let ws = p.workspace("shared");
let m = p.task("make", make, #{ workspaces: #{ out: ws } });
p.task("use", reader, #{ workspaces: #{ "in": ws }, params: #{ v: m.result("version"), files: m.result("files").all } });
p.result("version", m.result("version"));
emit(p);
"##;
    for rt in runtimes() {
        let out = run_agreeing(
            rt,
            script,
            &["-w", "shared=vct:1Gi"],
            &["-w", "shared=vct:1Gi"],
        );
        assert_eq!(out.code, 0, "{rt}: {out}");
        out.expect(&[
            "[use/read] hello\n",
            "[use/read] version v1\n",
            "[use/read] files a.txt b.txt\n",
            "succeeded",
            "results:\n  version: v1\n",
        ]);
    }
}

#[test]
fn a_users_directory_is_seen_and_written_back_unless_read_only() {
    let script = format!(
        r##"
let w = task("writer");
let src = w.workspace("src");
w.step("write", "{ALPINE}", `#!/bin/sh
cat ${{src}}/input.txt
echo written > ${{src}}/out.txt
`);
let r = task("reader");
let ro = r.workspace("src", #{{ readOnly: true }});
r.step("try", "{ALPINE}", `#!/bin/sh
cat ${{ro}}/out.txt
if echo nope > ${{ro}}/ro.txt 2>/dev/null; then echo "wrote a copy"; else echo "read-only"; fi
`);
let p = pipeline("mine");
let ws = p.workspace("src");
let a = p.task("writer", w, #{{ workspaces: #{{ src: ws }} }});
p.task("reader", r, #{{ workspaces: #{{ src: ws }} }}).after(a);
emit(p);
"##
    );
    for rt in runtimes() {
        let dir = script_dir(&script);
        let mine = dir.path().join("checkout");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("input.txt"), "from the user\n").unwrap();
        let out = run_in(dir.path(), rt, true, &["-w", "src=./checkout"]);
        assert_eq!(out.code, 0, "{rt}: {out}");
        out.expect(&["[writer/write] from the user\n", "[reader/try] written\n"]);
        // podman mounts it read-only; the host runtime gives the task a copy
        out.expect(&[if rt == "host" {
            "[reader/try] wrote a copy\n"
        } else {
            "[reader/try] read-only\n"
        }]);
        assert_eq!(
            std::fs::read_to_string(mine.join("out.txt")).unwrap(),
            "written\n"
        );
        assert!(
            !mine.join("ro.txt").exists(),
            "{rt}: the read-only task wrote back"
        );
    }
}

#[test]
fn a_failing_step_stops_the_run_finally_runs_and_when_skips() {
    let script = format!(
        r##"
let check = task("check");
check.step("build", "{ALPINE}", "#!/bin/sh\necho building\n");
check.step("unit", "{ALPINE}", "#!/bin/sh\necho failing\nexit 3\n");
check.step("after", "{ALPINE}", "#!/bin/sh\necho never\n");
let say = task("say", #{{ params: ["status"] }});
say.step("say", "{ALPINE}", "#!/bin/sh\necho status $(params.status)\n");
let p = pipeline("failing");
let mode = p.param("mode", #{{ "default": "quick" }});
let c = p.task("check", check);
p.task("lint", say, #{{ params: #{{ status: "lint" }}, when: when_in(mode, ["full"]) }});
p.task("deploy", say, #{{ params: #{{ status: "deploy" }} }}).after(c);
p.finally("report", say, #{{ params: #{{ status: c.status }} }});
emit(p);
"##
    );
    for rt in runtimes() {
        let out = run_agreeing(rt, &script, &[], &[]);
        assert_eq!(out.code, 1, "{rt}: {out}");
        out.expect(&[
            "[check/build] building\n",
            "[check/unit] failing\n",
            "[report/say] status Failed\n",
            "task lint: skipped: When Expressions evaluated to false",
            "task deploy: skipped: PipelineRun was stopping",
            "PipelineRun failing-run-",
            "failed in",
            "Failed: Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 2",
            "check   failed",
            "step unit exited with code 3",
            "error: task check failed, step unit, exit code 3",
        ]);
        assert!(!out.stdout.contains("never"), "{rt}: {out}");
    }
}

#[test]
fn retries_run_a_task_again() {
    let script = format!(
        r##"
let flaky = task("flaky");
flaky.step("try", "{ALPINE}", `#!/bin/sh
echo "attempt $(context.task.retry-count)"
[ "$(context.task.retry-count)" = "2" ]
`);
let p = pipeline("again");
p.task("flaky", flaky, #{{ retries: 2 }});
emit(p);
"##
    );
    for rt in runtimes() {
        let out = run_agreeing(rt, &script, &[], &[]);
        assert_eq!(out.code, 0, "{rt}: {out}");
        out.expect(&[
            "[flaky/try] attempt 0\n",
            "task flaky: retrying (attempt 1 failed: \"step-try\" exited with code 1: Error)",
            "[flaky/try retry 1] attempt 1\n",
            "[flaky/try retry 2] attempt 2\n",
            "3 attempts",
        ]);
    }
}

#[test]
fn on_error_continue_records_the_exit_code() {
    let script = format!(
        r##"
let t = task("tolerant");
t.step(#{{ name: "lenient", image: "{ALPINE}", onError: "continue", script: "#!/bin/sh\necho trying\nexit 7\n" }});
t.step("after", "{ALPINE}", `#!/bin/sh
read code < "$(steps.step-lenient.exitCode.path)"
echo "previous exit code $code"
`);
let p = pipeline("tolerant");
p.task("tolerant", t);
emit(p);
"##
    );
    for rt in runtimes() {
        let out = run_agreeing(rt, &script, &[], &[]);
        assert_eq!(out.code, 0, "{rt}: {out}");
        out.expect(&[
            "[tolerant/lenient] trying\n",
            "[tolerant/after] previous exit code 7\n",
        ]);
    }
}

#[test]
fn a_matrix_fans_out_and_its_results_are_collected() {
    let script = format!(
        r##"
let b = task("build", #{{ params: ["os"], results: ["out"] }});
b.step("show", "{ALPINE}", "#!/bin/sh\necho building for $(params.os)\nprintf '%s' \"$(params.os)-ok\" > $(results.out.path)\n");
let s = task("collect", #{{ params: [#{{ name: "all", type: "array" }}] }});
s.step(#{{ name: "list", image: "{ALPINE}", command: ["echo"], args: ["got", "$(params.all[*])"] }});
let p = pipeline("fan");
let bt = p.task("build", b, #{{ matrix: #{{ params: #{{ os: ["linux", "mac"] }} }} }});
p.task("collect", s, #{{ params: #{{ all: bt.result("out").all }} }});
emit(p);
"##
    );
    for rt in runtimes() {
        let out = run_agreeing(rt, &script, &[], &[]);
        assert_eq!(out.code, 0, "{rt}: {out}");
        out.expect(&[
            "[build/show] building for linux\n",
            "[build/show] building for mac\n",
            "[collect/list] got linux-ok mac-ok\n",
        ]);
    }
}

#[test]
fn timeouts_stop_tasks_and_runs() {
    let script = format!(
        r##"
let slow = task("slow");
slow.step("wait", "{ALPINE}", "#!/bin/sh\necho waiting\nsleep 120\n");
let p = pipeline("slowpoke");
p.task("slow", slow, #{{ timeout: "2s" }});
p.task("slower", slow);
emit(p);
"##
    );
    for rt in runtimes() {
        // the task's own timeout, then the run's (--pipeline-timeout) for the one without
        let out = run(rt, &script, &["--pipeline-timeout", "5s"]);
        assert_eq!(out.code, 1, "{rt}: {out}");
        out.expect(&[
            "[slow/wait] waiting\n",
            "failed to finish within \"2s\"",
            "timed out",
            "PipelineRunTimeout",
            "PipelineRun \"slowpoke-run-",
            "failed to finish within \"5s\"",
        ]);
    }
}

#[test]
fn a_result_over_the_size_limit_fails_the_step() {
    let script = format!(
        r##"
let big = task("big", #{{ results: ["blob"] }});
big.step("write", "{ALPINE}", "#!/bin/sh\nhead -c 5000 /dev/zero | tr '\\0' x > $(results.blob.path)\n");
let p = pipeline("big");
p.task("big", big);
emit(p);
"##
    );
    for rt in runtimes() {
        let out = run_agreeing(rt, &script, &[], &[]);
        assert_eq!(out.code, 1, "{rt}: {out}");
        out.expect(&[
            "[big/write] Termination message is above max allowed size 4096, caused by large task result.\n",
            "error: task big failed, step write, exit code 1",
        ]);
    }
}

#[test]
fn a_missing_image_fails_the_task_not_the_tool() {
    if !podman() {
        return;
    }
    let script = r##"
let t = task("pull");
t.step("run", "localhost/test/no-such-image:1", "#!/bin/sh\necho never\n");
let p = pipeline("missing");
p.task("pull", t);
emit(p);
"##;
    let dir = script_dir(script);
    let out = run_in(dir.path(), "podman", false, &[]);
    assert_eq!(out.code, 1, "{out}");
    out.expect(&[
        "task pull: pod missing-run-",
        "cannot start: ErrImagePull",
        "the step \"run\" in TaskRun",
        "failed to pull the image \"localhost/test/no-such-image:1\"",
        "(pod: ErrImagePull:",
    ]);
}

#[test]
fn a_sidecar_is_reachable_from_a_step() {
    if !podman() {
        return;
    }
    let script = format!(
        r##"
let t = task("probe", #{{ sidecars: [#{{ name: "server", image: "{ALPINE}", script: "#!/bin/sh\nwhile true; do echo pong | nc -l -p 8080; done\n" }}] }});
t.step("call", "{ALPINE}", `#!/bin/sh
for i in $(seq 1 100); do
  if out=$(nc 127.0.0.1 8080 </dev/null 2>/dev/null) && [ -n "$out" ]; then echo "sidecar says $out"; exit 0; fi
  sleep 0.2
done
echo "no answer"
exit 1
`);
let p = pipeline("sidecar");
p.task("probe", t);
emit(p);
"##
    );
    let out = run("podman", &script, &[]);
    assert_eq!(out.code, 0, "{out}");
    out.expect(&["[probe/call] sidecar says pong\n"]);
}

#[test]
fn compute_resources_and_security_context_reach_the_container() {
    if !podman() {
        return;
    }
    let script = format!(
        r##"
let t = task("limited");
t.step(#{{
    name: "show",
    image: "{ALPINE}",
    computeResources: #{{ limits: #{{ memory: "64Mi" }} }},
    securityContext: #{{ runAsUser: 1234, seccompProfile: #{{ type: "RuntimeDefault" }} }},
    script: "#!/bin/sh\necho uid $(id -u)\necho memory $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)\n",
}});
let p = pipeline("limited");
p.task("limited", t);
emit(p);
"##
    );
    let out = run("podman", &script, &[]);
    assert_eq!(out.code, 0, "{out}");
    out.expect(&[
        "[limited/show] uid 1234\n",
        "[limited/show] memory 67108864\n",
        "note: securityContext fields the container runtime does not honour: seccompProfile (task limited step show)",
    ]);
}

#[test]
fn ctrl_c_stops_everything_and_leaves_nothing_behind() {
    let script = format!(
        r##"
let t = task("long");
t.step("wait", "{ALPINE}", "#!/bin/sh\necho started\nsleep 300\necho finished\n");
let p = pipeline("interrupted");
p.task("long", t);
p.task("other", t);
emit(p);
"##
    );
    for rt in runtimes() {
        let dir = script_dir(&script);
        let mut child = command(dir.path(), rt, true, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut stderr, &mut s).unwrap();
            s
        });
        // wait until a step runs, then Ctrl-C
        let mut seen = String::new();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if line.ends_with("started") {
                break;
            }
        }
        assert!(seen.contains("started"), "{rt}: no step started:\n{seen}");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        for line in lines {
            seen.push_str(&line.unwrap());
            seen.push('\n');
        }
        let status = child.wait().unwrap();
        let stderr = err.join().unwrap();
        let out = Out {
            code: status.code().unwrap_or(-1),
            stdout: seen,
            stderr,
        };
        assert_eq!(out.code, 1, "{rt}: {out}");
        out.expect(&["cancelling the run", "was cancelled", "Cancelled"]);
        assert!(!out.stdout.contains("finished"), "{rt}: {out}");
        let name = run_name(&out.stderr).expect("the run's name");
        assert_clean(rt, &name);
    }
}

#[test]
fn keep_and_timeout_flags() {
    let script = format!(
        r##"
let t = task("work", #{{ results: ["r"] }});
t.step("write", "{ALPINE}", "#!/bin/sh\nprintf kept > $(results.r.path)\n");
let slow = task("slow");
slow.step("wait", "{ALPINE}", "#!/bin/sh\necho waiting\nsleep 120\n");
let p = pipeline("flags");
let w = p.task("work", t);
p.task("slow", slow).after(w);
emit(p);
"##
    );
    let dir = script_dir(&script);
    // --timeout stops the run; --keep keeps its directory and says where
    let out = command(dir.path(), "host", false, &["--timeout", "3s", "--keep"])
        .output()
        .unwrap();
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(out.code, 1, "{out}");
    out.expect(&[
        "[slow/wait] waiting\n",
        "note: --timeout 3s reached: stopping the run",
        "was cancelled",
    ]);
    let kept = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("note: kept the run's directories: "))
        .and_then(|l| l.split(' ').next())
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no kept directory in:\n{out}"));
    let name = run_name(&out.stderr).unwrap();
    let result = kept
        .join("taskruns")
        .join(format!("{name}-work"))
        .join("results/r");
    assert_eq!(std::fs::read_to_string(&result).unwrap(), "kept");
    std::fs::remove_dir_all(&kept).unwrap();
    assert_clean("host", &name);
}

#[test]
fn isolated_workspaces_are_mounted_only_where_listed() {
    if !podman() {
        return;
    }
    let script = format!(
        r##"
let t = task("iso");
let src = t.workspace("src");
t.step(#{{ name: "listed", image: "{ALPINE}", workspaces: [#{{ name: "src", mountPath: "/mnt/src" }}],
    script: "#!/bin/sh\necho at $(workspaces.src.path)\ncat /mnt/src/input.txt\n" }});
t.step("unlisted", "{ALPINE}", "#!/bin/sh\nls /workspace/src 2>/dev/null || echo not mounted\n");
let p = pipeline("iso");
let ws = p.workspace("src");
p.task("iso", t, #{{ workspaces: #{{ src: ws }} }});
emit(p);
"##
    );
    let dir = script_dir(&script);
    let mine = dir.path().join("checkout");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("input.txt"), "isolated\n").unwrap();
    let out = run_in(dir.path(), "podman", true, &["-w", "src=./checkout"]);
    assert_eq!(out.code, 0, "{out}");
    out.expect(&[
        "[iso/listed] at /mnt/src\n",
        "[iso/listed] isolated\n",
        "[iso/unlisted] not mounted\n",
    ]);
}

#[test]
fn remote_tasks_need_a_task_file() {
    let script = r##"
let p = pipeline("remote");
p.task("lint", from_hub("yamllint", "0.2"));
emit(p);
"##;
    let dir = script_dir(script);
    let out = run_in(dir.path(), "host", false, &[]);
    assert_eq!(out.code, 1, "{out}");
    out.expect(&[
        "error: task \"lint\": its Task comes from the hub resolver",
        "cannot be fetched offline; define it in the script, or give its YAML with --task-file FILE",
    ]);
    std::fs::write(
        dir.path().join("yamllint.yaml"),
        "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: yamllint\nspec:\n  steps:\n  - name: lint\n    image: alpine\n    script: |\n      #!/bin/sh\n      echo linting $(context.task.name)\n",
    )
    .unwrap();
    let out = run_in(dir.path(), "host", false, &["--task-file", "yamllint.yaml"]);
    assert_eq!(out.code, 0, "{out}");
    out.expect(&["[lint/lint] linting yamllint\n"]);
}

// ------------------------------------------------------------------------------------------------------
// Agreement with `simulate`

/// `(task, state, detail)` rows and the run's `reason: message` from the summary on stderr.
fn local_outcome(stderr: &str) -> (Vec<(String, String, String)>, String) {
    let mut lines = stderr.lines().skip_while(|l| {
        !(l.starts_with("PipelineRun ")
            && (l.contains(" failed in ")
                || l.contains(" succeeded in ")
                || l.contains(" completed ")
                || l.contains(" was cancelled")
                || l.contains(" timed out")))
    });
    let head = lines.next().expect("a summary line");
    let status = if head.contains(" succeeded in ") {
        "Succeeded".to_string()
    } else if head.contains(" completed ") {
        "Completed".to_string()
    } else {
        head.split_once(": ")
            .map(|x| x.1)
            .unwrap_or_default()
            .to_string()
    };
    let mut rows = Vec::new();
    for l in lines {
        let Some(row) = l.strip_prefix("  ") else {
            break;
        };
        let mut parts = row.split_whitespace();
        let name = parts.next().unwrap_or_default().to_string();
        let mut state = parts.next().unwrap_or_default().to_string();
        if state == "timed" || state == "not" {
            state = format!("{state} {}", parts.next().unwrap_or_default());
        }
        let detail: Vec<&str> = parts.collect();
        rows.push((name, state, detail.join(" ")));
    }
    (rows, status)
}

/// The run's outcome on stderr agrees with `simulate` told the same failures: every task's outcome, the
/// skip reasons, the run's status. `sim_args` are the `-p`/`-w` the run had (as simulate takes them).
/// Returns the status.
#[track_caller]
fn assert_agrees(script: &Path, sim_args: &[String], stderr: &str, label: &str) -> String {
    let (rows, status) = local_outcome(stderr);
    let mut sim_cmd = Command::new(env!("CARGO_BIN_EXE_tekscript"));
    sim_cmd
        .arg("simulate")
        .arg(script)
        .args(["--format", "json"])
        .args(sim_args);
    for (task, state, detail) in &rows {
        // "3 attempts; …": the attempts before the last one failed
        let attempts: u32 = detail
            .split_once(" attempts")
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or(1);
        match state.as_str() {
            "failed" => {
                sim_cmd.args(["--fail", task]);
            }
            "timed out" => {
                sim_cmd.args(["--timeout-task", task]);
            }
            "succeeded" if attempts > 1 => {
                sim_cmd.args(["--fail", &format!("{task}:{}", attempts - 1)]);
            }
            _ => {}
        }
    }
    let so = sim_cmd.output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&so.stdout).unwrap_or_else(|e| {
        panic!(
            "{label}: simulate output: {e}: {}",
            String::from_utf8_lossy(&so.stderr)
        )
    });
    let mut want: Vec<(String, String)> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let o = t["outcome"]
                .as_str()
                .unwrap()
                .replace("timed-out", "timed out");
            (t["name"].as_str().unwrap().to_string(), o)
        })
        .collect();
    let mut got: Vec<(String, String)> = rows
        .iter()
        .map(|(n, s, _)| (n.clone(), s.clone()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{label}: task outcomes differ\n{stderr}");
    for (n, s, detail) in &rows {
        if s == "skipped" {
            let t = report["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == n.as_str())
                .unwrap();
            assert!(
                detail.starts_with(t["reason"].as_str().unwrap()),
                "{label}: {n} skipped for {detail:?}, simulate says {}",
                t["reason"]
            );
        }
    }
    let sim_status = match report["status"].as_str().unwrap() {
        ok @ ("Succeeded" | "Completed") => ok.to_string(),
        failed => format!("{failed}: {}", report["message"].as_str().unwrap()),
    };
    assert_eq!(status, sim_status, "{label}: run status differs\n{stderr}");
    status
}

#[test]
fn local_runs_agree_with_simulate_on_the_examples() {
    // resolvers.rhai: its pipeline comes from a git resolver (nothing to run offline);
    // step-actions.rhai: emits StepActions only (no pipeline);
    // pac-tekton-dir.rhai: two PipelineRuns of one pipeline (pull request, push), which `run` does not
    // choose between.
    let skip = ["resolvers.rhai", "step-actions.rhai", "pac-tekton-dir.rhai"];
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let secrets = tempfile::tempdir().unwrap();
    for (name, key) in [
        ("registry-credentials", ".dockerconfigjson"),
        ("{{ git_auth_secret }}", ".git-credentials"),
        ("release-slack", "url"),
        ("slack-webhook", "url"),
    ] {
        std::fs::create_dir_all(secrets.path().join(name)).unwrap();
        std::fs::write(secrets.path().join(name).join(key), "x").unwrap();
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        // `*.test.rhai` beside the examples are their tests (`tekscript test`), not pipelines
        .filter(|p| !p.to_string_lossy().ends_with(".test.rhai"))
        .collect();
    entries.sort();
    for rt in runtimes() {
        for ex in &entries {
            let file = ex.file_name().unwrap().to_string_lossy().to_string();
            if skip.contains(&file.as_str()) {
                println!("{file}: skipped (nothing that runs offline)");
                continue;
            }
            let mut args: Vec<String> =
                vec!["--secret-dir".into(), secrets.path().display().to_string()];
            let mut sim: Vec<String> = Vec::new();
            if file == "monorepo.rhai" {
                for a in [
                    "-p",
                    "repo-url=https://example.invalid/mono.git",
                    "-w",
                    "source=emptyDir",
                ] {
                    args.push(a.into());
                    sim.push(a.into());
                }
            }
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_tekscript"));
            cmd.args(["run"])
                .arg(ex)
                .args([
                    "--local",
                    "--runtime",
                    rt,
                    "--view",
                    "plain",
                    "--timestamps",
                    "never",
                ])
                .args(&args);
            if rt != "host" {
                cmd.arg("--image-map").arg(format!("*={}", test_image()));
            }
            let o = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr).to_string();
            if let Some(n) = run_name(&stderr) {
                assert_clean(rt, &n);
            }
            assert!(
                stderr.contains(" running on this machine"),
                "{rt} {file}: the run did not start:\n{stderr}"
            );
            let status = assert_agrees(ex, &sim, &stderr, &format!("{rt} {file}"));
            println!("{rt} {file}: {status}");
        }
    }
}
