//! `tekscript run` / `logs` / `cancel` end to end through the binary, with the fake Tekton controller
//! (`faketekton`) driving runs: on the fake API server (logs through `FakeApi::push_log`) and, when its
//! binaries are present, on a real kube-apiserver 1.20 (logs through the fake kubelet) — the same
//! assertions on both (`each_backend`). The controller runs in this test process on its own tokio runtime;
//! the binary is a child process talking to the same server over loopback.

use crate::cluster_env::{Backend, TestCluster, each_backend};
use faketekton::{
    Controller, ControllerHandle, FakeKubelet, FanOutLogSink, FnLogSink, LogSink, PodProblem,
    Scenario, StepScript, TaskScript,
};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The fixture: build (with a result) → test ∥ lint → deploy (only for env=prod); finally report.
const SCRIPT: &str = r##"
fn sh(text) { "#!/bin/sh\n" + text + "\n" }
let build = task("build");
build.result("digest");
let tags = build.param("tags", #{ type: "array" });
let bcache = build.workspace("cache", #{ optional: true });
build.step(#{ name: "compile", image: "alpine:3.20", script: sh(`echo compiling in ${bcache}`), args: [tags.all] });
build.step("package", "alpine:3.20", sh("echo packaging"));
let test = task("test")
    .step("unit", "alpine:3.20", sh("echo unit"))
    .step("integration", "alpine:3.20", sh("echo integration"))
    .step("e2e", "alpine:3.20", sh("echo e2e"));
let lint = task("lint").step("lint", "alpine:3.20", sh("echo lint"));
let deploy = task("deploy").step("deploy", "alpine:3.20", sh("echo deploy"));
let report = task("report").step("report", "alpine:3.20", sh("echo report"));

let p = pipeline("ci");
let env = p.param("env", #{ "default": "dev" });
let ptags = p.param("tags", #{ type: "array", "default": ["latest"] });
let cache = p.workspace("cache", #{ optional: true });
let b = p.task("build", build, #{ retries: 2, params: #{ tags: ptags.all }, workspaces: #{ cache: cache } });
let t = p.task("test", test).after(b);
let l = p.task("lint", lint).after(b);
p.task("deploy", deploy, #{ when: when_in(env, ["prod"]) }).after([t, l]);
p.finally("report", report);
p.result("digest", b.result("digest"));
emit(p.run());
"##;

const WAIT: Duration = Duration::from_secs(30);

/// Drops the `HH:MM:SS ` timestamps of plain status lines.
fn strip_timestamps(stderr: &str) -> String {
    stderr
        .lines()
        .map(|l| {
            let b = l.as_bytes();
            let stamped = b.len() >= 9
                && b[2] == b':'
                && b[5] == b':'
                && b[8] == b' '
                && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit());
            if stamped { &l[9..] } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A log sink that notes when each line was pushed (for the latency measurement).
#[derive(Default)]
struct Timed {
    lines: Mutex<Vec<(Instant, String)>>,
}

impl LogSink for Timed {
    fn push_line(&self, _: &str, _: &str, _: &str, line: &str) {
        self.lines
            .lock()
            .unwrap()
            .push((Instant::now(), line.to_string()));
    }
    fn end(&self, _: &str, _: &str, _: &str) {}
}

/// The fake controller (and, on the real server, the fake kubelet) for one test cluster.
struct Tekton {
    rt: tokio::runtime::Runtime,
    ctl: Option<ControllerHandle>,
    kubelet: Option<FakeKubelet>,
    client: kube::Client,
    pushed: Arc<Timed>,
}

impl Tekton {
    fn start(c: &TestCluster, scenario: Scenario) -> Tekton {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let pushed = Arc::new(Timed::default());
        let (client, kubelet, sink): (kube::Client, Option<FakeKubelet>, Arc<dyn LogSink>) =
            match c.fake_api() {
                Some(api) => {
                    let _g = rt.enter();
                    let client = kube::Client::new(api.service(), c.namespace().to_string());
                    let (push, end) = (api.clone(), api.clone());
                    let adapter = FnLogSink::new(
                        move |ns, pod, ctr, line| push.push_log(ns, pod, ctr, line),
                        move |ns, pod, ctr| end.end_log(ns, pod, ctr),
                    );
                    (client, None, Arc::new(adapter))
                }
                None => rt.block_on(async {
                    let client = faketekton::testenv::client_from_kubeconfig(c.kubeconfig())
                        .await
                        .unwrap();
                    let kubelet = FakeKubelet::start(client.clone()).await.unwrap();
                    let sink = kubelet.log_sink();
                    (client, Some(kubelet), sink)
                }),
            };
        let mut scenario = scenario;
        if let Some(k) = &kubelet {
            scenario = scenario.node_name(k.node_name());
        }
        let scenario = scenario.log_sink(Arc::new(FanOutLogSink(vec![
            pushed.clone() as Arc<dyn LogSink>,
            sink,
        ])));
        let ctl = rt.block_on(async {
            let h = Controller::start(client.clone(), c.namespace(), scenario);
            tokio::time::timeout(WAIT, h.ready()).await.unwrap();
            h
        });
        Tekton {
            rt,
            ctl: Some(ctl),
            kubelet,
            client,
            pushed,
        }
    }

    /// The run's `(status, reason)` as stored.
    fn condition(&self, ns: &str, name: &str) -> (String, String) {
        let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
            self.client.clone(),
            ns,
            &faketekton::pipelinerun_resource(),
        );
        let pr = self.rt.block_on(api.get(name)).unwrap();
        let c = faketekton::testenv::succeeded(&pr).unwrap_or_default();
        (c.0, c.1)
    }

    /// Waits until TaskRun `<run>-<task>` satisfies `cond` (on its Succeeded condition status/reason).
    fn wait_taskrun(&self, ns: &str, name: &str, cond: impl Fn(&str, &str) -> bool) {
        let api =
            kube::Api::namespaced_with(self.client.clone(), ns, &faketekton::taskrun_resource());
        self.rt
            .block_on(faketekton::testenv::wait_for(&api, name, WAIT, |o| {
                faketekton::testenv::succeeded(o).is_some_and(|(s, r, _)| cond(&s, &r))
            }))
            .unwrap();
    }

    fn stop(self) {
        self.stop_expecting(|e| e.is_empty());
    }

    /// Stops; `ok` judges the controller's errors (a test that breaks watches on purpose sees some).
    fn stop_expecting(mut self, ok: impl Fn(&[String]) -> bool) {
        let ctl = self.ctl.take().unwrap();
        let errors = ctl.errors();
        assert!(ok(&errors), "fake controller errors: {errors:#?}");
        drop(ctl);
        if let Some(k) = self.kubelet.take() {
            let _ = self.rt.block_on(k.shutdown());
        }
    }
}

/// A running tekscript child with its stdout read line by line (each line timestamped on arrival).
struct Child {
    child: std::process::Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

struct Done {
    code: Option<i32>,
    stdout: Vec<String>,
    timed: Vec<(Instant, String)>,
    stderr: String,
}

impl Done {
    fn out(&self) -> String {
        self.stdout.iter().map(|l| format!("{l}\n")).collect()
    }
}

fn spawn(c: &TestCluster, args: &[&str]) -> Child {
    let mut all: Vec<String> = vec![args[0].to_string(), "--kubeconfig".into()];
    all.push(c.kubeconfig().to_string_lossy().into_owned());
    all.extend(args[1..].iter().map(|s| s.to_string()));
    eprintln!("$ tekscript {}", all.join(" "));
    let mut child = Command::new(env!("CARGO_BIN_EXE_tekscript"))
        .args(&all)
        .env("NO_COLOR", "1")
        .env("HOME", c.dir().join("home"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = child.stdout.take().unwrap();
    let sink = lines.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push((Instant::now(), line));
        }
    });
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    Child {
        child,
        lines,
        reader: Some(reader),
        stderr: Some(stderr),
    }
}

impl Child {
    /// Waits (bounded) until a stdout line satisfies `pred`.
    fn wait_line(&self, pred: impl Fn(&str) -> bool) {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if self.lines.lock().unwrap().iter().any(|(_, l)| pred(l)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "no such line within {WAIT:?}: {:?}",
            self.lines.lock().unwrap()
        );
    }

    fn interrupt(&self) {
        let ok = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -INT failed");
    }

    fn wait(mut self) -> Done {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("tekscript did not finish within 60 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.reader.take().unwrap().join().unwrap();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        let timed = self.lines.lock().unwrap().clone();
        eprintln!("→ {status}\n--- stdout\n{}--- stderr\n{stderr}", {
            let s: String = timed.iter().map(|(_, l)| format!("{l}\n")).collect();
            s
        });
        Done {
            code: status.code(),
            stdout: timed.iter().map(|(_, l)| l.clone()).collect(),
            timed,
            stderr,
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn write_script(c: &TestCluster) -> String {
    let path: PathBuf = c.dir().join("ci.rhai");
    std::fs::write(&path, SCRIPT).unwrap();
    path.to_string_lossy().into_owned()
}

fn run(c: &TestCluster, extra: &[&str]) -> Done {
    let script = write_script(c);
    let mut args = vec![
        "run",
        script.as_str(),
        "--timeout",
        "40s",
        "--timestamps",
        "never",
    ];
    args.extend_from_slice(extra);
    spawn(c, &args).wait()
}

/// `PipelineRun <name> created in namespace <ns>` → name.
fn run_name(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("PipelineRun ")?
                .split_once(" created in namespace ")
        })
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| panic!("no run name in:\n{stderr}"))
}

fn lines_of<'a>(d: &'a Done, prefix: &str) -> Vec<&'a str> {
    d.stdout
        .iter()
        .filter_map(|l| l.strip_prefix(prefix))
        .collect()
}

fn build_script() -> TaskScript {
    TaskScript::new()
        .step(StepScript::new("compile").lines(["compiling main.rs", "compiling lib.rs"]))
        .step(StepScript::new("package").line("wrote app.tar"))
        .result("digest", "sha256:feed")
}

fn green() -> Scenario {
    Scenario::new()
        .task("build", build_script())
        .task(
            "test",
            TaskScript::new()
                .step(StepScript::new("unit").line("12 passed"))
                .step(StepScript::new("integration").line("3 passed"))
                .step(StepScript::new("e2e").line("1 passed")),
        )
        .task(
            "lint",
            TaskScript::new().step(StepScript::new("lint").line("clean")),
        )
        .task(
            "report",
            TaskScript::new().step(StepScript::new("report").line("all good")),
        )
}

#[test]
fn success_with_skipped_task_results_and_summary() {
    each_backend(|c| {
        let tk = Tekton::start(c, green());
        let d = run(c, &[]);
        assert_eq!(d.code, Some(0), "{}", d.stderr);
        // every step's lines, in order per step, prefixed
        assert_eq!(
            lines_of(&d, "[build/compile] "),
            ["compiling main.rs", "compiling lib.rs"]
        );
        assert_eq!(lines_of(&d, "[build/package] "), ["wrote app.tar"]);
        assert_eq!(lines_of(&d, "[test/unit] "), ["12 passed"]);
        assert_eq!(lines_of(&d, "[test/e2e] "), ["1 passed"]);
        assert_eq!(lines_of(&d, "[lint/lint] "), ["clean"]);
        assert_eq!(lines_of(&d, "[report/report] "), ["all good"]);
        assert_eq!(d.stdout.len(), 8, "{:?}", d.stdout);
        // what run applied (same ApplySet as `tekscript apply`) and the status lines
        let e = &d.stderr;
        for needle in [
            "task.tekton.dev/build created",
            "pipeline.tekton.dev/ci created",
            "task build: succeeded",
            "task deploy: skipped: When Expressions evaluated to false",
            "task report (finally): succeeded",
            "PipelineRun: Completed",
            "completed (some tasks were skipped) in ",
            "results:\n  digest: sha256:feed\n",
        ] {
            assert!(e.contains(needle), "missing {needle:?} in\n{e}");
        }
        let name = run_name(e);
        assert_eq!(
            tk.condition(c.namespace(), &name),
            ("True".into(), "Completed".into())
        );
        // the summary: every task in pipeline order with its outcome
        let summary: Vec<String> = e
            .lines()
            .skip_while(|l| !l.starts_with(&format!("PipelineRun {name} completed")))
            .skip(1)
            .take(5)
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            summary,
            [
                "build succeeded",
                "test succeeded",
                "lint succeeded",
                "deploy skipped",
                "report succeeded"
            ]
        );
        // a second run re-applies nothing new: the objects are unchanged
        let d2 = run(c, &["-p", "env=prod"]);
        assert_eq!(d2.code, Some(0), "{}", d2.stderr);
        assert!(
            d2.stderr.contains("pipeline.tekton.dev/ci unchanged"),
            "{}",
            d2.stderr
        );
        assert!(
            d2.stderr.contains("task deploy: succeeded"),
            "{}",
            d2.stderr
        );
        assert!(d2.stderr.contains(" succeeded in "), "{}", d2.stderr);
        tk.stop();
    });
}

#[test]
fn failure_in_a_middle_step() {
    each_backend(|c| {
        let scenario = green().task(
            "test",
            TaskScript::new()
                .step(StepScript::new("unit").line("12 passed"))
                .step(
                    StepScript::new("integration")
                        .lines(["connecting", "assertion failed"])
                        .exit_code(3),
                )
                .step(StepScript::new("e2e").line("must not run")),
        );
        let tk = Tekton::start(c, scenario);
        let d = run(c, &[]);
        assert_eq!(d.code, Some(1), "{}", d.stderr);
        assert_eq!(
            lines_of(&d, "[test/integration] "),
            ["connecting", "assertion failed"]
        );
        assert!(lines_of(&d, "[test/e2e] ").is_empty(), "{:?}", d.stdout);
        assert_eq!(
            lines_of(&d, "[report/report] "),
            ["all good"],
            "finally runs"
        );
        let e = &d.stderr;
        for needle in [
            "task test: failed: \"step-integration\" exited with code 3: Error",
            "  test  ",
            "step integration exited with code 3",
            "error: task test failed, step integration, exit code 3: \"step-integration\" exited with code 3: Error",
        ] {
            assert!(e.contains(needle), "missing {needle:?} in\n{e}");
        }
        assert!(e.contains(" failed in "), "{e}");
        assert!(e.contains("Failed: Tasks Completed: "), "{e}");
        let name = run_name(e);
        assert_eq!(
            tk.condition(c.namespace(), &name),
            ("False".into(), "Failed".into())
        );
        tk.stop();
    });
}

#[test]
fn retries_are_followed_and_reported() {
    each_backend(|c| {
        let scenario = green().task("build", build_script().fail_times(1));
        let tk = Tekton::start(c, scenario);
        let d = run(c, &[]);
        assert_eq!(d.code, Some(0), "{}", d.stderr);
        // the first attempt's lines, then the retry's
        assert_eq!(
            lines_of(&d, "[build/compile] "),
            ["compiling main.rs", "compiling lib.rs"]
        );
        assert_eq!(
            lines_of(&d, "[build/compile retry 1] "),
            ["compiling main.rs", "compiling lib.rs"]
        );
        let e = &d.stderr;
        assert!(
            e.contains("task build: retrying (attempt 1 failed: "),
            "{e}"
        );
        assert!(e.contains("task build: running (retry 1)"), "{e}");
        assert!(e.contains("2 attempts"), "{e}");
        tk.stop();
    });
}

#[test]
fn ctrl_c_cancels_the_run_and_waits_for_tekton() {
    each_backend(|c| {
        let scenario = green().task(
            "test",
            TaskScript::new().step(StepScript::new("unit").line("waiting forever").hang()),
        );
        let tk = Tekton::start(c, scenario);
        let script = write_script(c);
        let child = spawn(
            c,
            &["run", &script, "--timeout", "40s", "--timestamps", "never"],
        );
        child.wait_line(|l| l == "[test/unit] waiting forever");
        child.interrupt();
        let d = child.wait();
        assert_eq!(d.code, Some(1), "{}", d.stderr);
        let e = &d.stderr;
        assert!(e.contains("note: cancelling PipelineRun "), "{e}");
        assert!(e.contains("(spec.status: Cancelled)"), "{e}");
        assert!(e.contains(" was cancelled in "), "{e}");
        assert!(e.contains("task test: cancelled"), "{e}");
        let name = run_name(e);
        assert_eq!(
            tk.condition(c.namespace(), &name),
            ("False".into(), "Cancelled".into())
        );
        // the finally task did not run (plain cancel)
        assert!(lines_of(&d, "[report/report] ").is_empty());
        tk.stop();
    });
}

#[test]
fn graceful_cancel_runs_finally_and_cancel_command() {
    let c = TestCluster::fake();
    let scenario = green().task(
        "test",
        TaskScript::new().step(StepScript::new("unit").line("waiting forever").hang()),
    );
    let tk = Tekton::start(&c, scenario);
    let script = write_script(&c);
    // started detached: the name on stdout
    let d = spawn(&c, &["run", &script, "--detach"]).wait();
    assert_eq!(d.code, Some(0), "{}", d.stderr);
    let name = d.stdout[0].clone();
    assert!(name.starts_with("ci-run-"), "{name}");
    tk.wait_taskrun(c.namespace(), &format!("{name}-test"), |_, r| {
        r == "Running"
    });
    let d = spawn(&c, &["cancel", &name, "--graceful"]).wait();
    assert_eq!(d.code, Some(0), "{}", d.stderr);
    assert!(d.out().contains(&format!(
        "PipelineRun {name} cancelled (CancelledRunFinally)"
    )));
    let d = spawn(
        &c,
        &[
            "logs",
            &name,
            "-f",
            "--timestamps",
            "never",
            "--timeout",
            "30s",
        ],
    )
    .wait();
    assert_eq!(d.code, Some(1), "{}", d.stderr);
    assert_eq!(
        lines_of(&d, "[report/report] "),
        ["all good"],
        "finally ran"
    );
    assert!(d.stderr.contains("was cancelled"), "{}", d.stderr);
    // a finished run cannot be cancelled
    let d = spawn(&c, &["cancel", &name]).wait();
    assert_eq!(d.code, Some(1));
    assert!(
        d.stderr.contains(&format!(
            "error: PipelineRun {name} has already finished (Cancelled: "
        )),
        "{}",
        d.stderr
    );
    tk.stop();
}

#[test]
fn pipeline_timeout_fails_the_run() {
    each_backend(|c| {
        let scenario = green().task(
            "test",
            TaskScript::new().step(StepScript::new("unit").line("slow").hang()),
        );
        let tk = Tekton::start(c, scenario);
        let d = run(c, &["--pipeline-timeout", "1s"]);
        assert_eq!(d.code, Some(1), "{}", d.stderr);
        let e = &d.stderr;
        assert!(e.contains(" timed out in "), "{e}");
        assert!(e.contains("PipelineRunTimeout: PipelineRun \""), "{e}");
        assert!(e.contains("failed to finish within \"1s\""), "{e}");
        tk.stop();
    });
}

#[test]
fn client_timeout_gives_up_without_cancelling() {
    let c = TestCluster::fake();
    let scenario = green().task(
        "lint",
        TaskScript::new().pod_problem(PodProblem::Unschedulable),
    );
    let tk = Tekton::start(&c, scenario);
    let script = write_script(&c);
    let started = Instant::now();
    let d = spawn(
        &c,
        &["run", &script, "--timeout", "3s", "--timestamps", "never"],
    )
    .wait();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(d.code, Some(1), "{}", d.stderr);
    let e = &d.stderr;
    // the pod's own reason is shown as soon as it is known, and in the summary
    assert!(e.contains("cannot start: Unschedulable: "), "{e}");
    assert!(e.contains("Insufficient cpu"), "{e}");
    assert!(
        e.contains("gave up waiting after 3s (--timeout); it was not cancelled"),
        "{e}"
    );
    let name = run_name(e);
    assert_eq!(tk.condition(c.namespace(), &name).0, "Unknown");
    tk.stop();
}

#[test]
fn image_pull_backoff_is_reported_with_the_pods_reason() {
    each_backend(|c| {
        let scenario = green().task(
            "lint",
            TaskScript::new()
                .step(StepScript::new("lint"))
                .pod_problem(PodProblem::ImagePullBackOff),
        );
        let tk = Tekton::start(c, scenario);
        let d = run(c, &[]);
        assert_eq!(d.code, Some(1), "{}", d.stderr);
        let e = &d.stderr;
        assert!(
            e.contains(
                "cannot start: ImagePullBackOff: container step-lint: Back-off pulling image"
            ),
            "{e}"
        );
        assert!(e.contains("error: task lint failed"), "{e}");
        assert!(
            e.contains("TaskRunImagePullFailed") || e.contains("ImagePullBackOff"),
            "{e}"
        );
        tk.stop();
    });
}

#[test]
fn parallel_tasks_never_mix_lines_and_latency() {
    each_backend(|c| {
        let n = 40;
        let many = |who: &str| {
            (0..n)
                .map(|i| format!("{who} line {i:03} {}", "x".repeat(200)))
                .collect::<Vec<_>>()
        };
        let scenario = green()
            .task(
                "test",
                TaskScript::new()
                    .step(StepScript::new("unit").lines(many("test")).duration_ms(800))
                    .step(StepScript::new("integration"))
                    .step(StepScript::new("e2e")),
            )
            .task(
                "lint",
                TaskScript::new()
                    .step(StepScript::new("lint").lines(many("lint")).duration_ms(800)),
            );
        let tk = Tekton::start(c, scenario);
        let d = run(c, &[]);
        assert_eq!(d.code, Some(0), "{}", d.stderr);
        // every line whole and in order per task, and the two tasks really interleaved
        assert_eq!(lines_of(&d, "[test/unit] "), many("test"));
        assert_eq!(lines_of(&d, "[lint/lint] "), many("lint"));
        for l in &d.stdout {
            assert!(l.starts_with('['), "mixed line {l:?}");
            assert_eq!(
                l.matches(" line ").count(),
                usize::from(l.contains(" line ")),
                "{l}"
            );
        }
        let tasks: Vec<&str> = d
            .stdout
            .iter()
            .filter(|l| l.starts_with("[test/unit]") || l.starts_with("[lint/lint]"))
            .map(|l| &l[..6])
            .collect();
        let switches = tasks.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(
            switches >= 4,
            "the tasks ran one after the other: {tasks:?}"
        );
        // latency: pushed to the server → read from tekscript's stdout
        let pushed = tk.pushed.lines.lock().unwrap().clone();
        let mut lat: Vec<Duration> = d
            .timed
            .iter()
            .filter_map(|(at, l)| {
                let body = l.split_once("] ")?.1;
                let (p, _) = pushed.iter().find(|(_, x)| x == body)?;
                Some(at.saturating_duration_since(*p))
            })
            .collect();
        lat.sort();
        assert!(lat.len() >= 2 * n, "{}", lat.len());
        let median = lat[lat.len() / 2];
        let p95 = lat[lat.len() * 95 / 100];
        eprintln!(
            "LATENCY {} ({} lines): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            c.backend(),
            lat.len(),
            median.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            lat[lat.len() - 1].as_secs_f64() * 1e3
        );
        std::fs::write(
            std::env::temp_dir().join(format!(
                "tekscript-run-latency-{}.txt",
                if c.backend() == Backend::Fake {
                    "fake"
                } else {
                    "real"
                }
            )),
            format!("{} {} {}\n", lat.len(), median.as_micros(), p95.as_micros()),
        )
        .unwrap();
        assert!(
            median < Duration::from_millis(500),
            "median latency {median:?}"
        );
        tk.stop();
    });
}

#[test]
fn watches_dropped_and_expired_mid_run() {
    let c = TestCluster::fake();
    let api = c.fake_api().unwrap().clone();
    let scenario = green().task(
        "test",
        TaskScript::new()
            .step(
                StepScript::new("unit")
                    .lines(["u1", "u2", "u3", "u4"])
                    .duration_ms(900),
            )
            .step(StepScript::new("integration").line("i1").duration_ms(300))
            .step(StepScript::new("e2e").line("e1")),
    );
    let tk = Tekton::start(&c, scenario);
    let script = write_script(&c);
    let child = spawn(
        &c,
        &["run", &script, "--timeout", "40s", "--timestamps", "never"],
    );
    child.wait_line(|l| l == "[test/unit] u1");
    api.close_watches();
    std::thread::sleep(Duration::from_millis(150));
    api.expire_watches();
    std::thread::sleep(Duration::from_millis(150));
    api.compact();
    api.expire_watches();
    let d = child.wait();
    assert_eq!(d.code, Some(0), "{}", d.stderr);
    assert_eq!(lines_of(&d, "[test/unit] "), ["u1", "u2", "u3", "u4"]);
    assert_eq!(lines_of(&d, "[test/integration] "), ["i1"]);
    assert_eq!(lines_of(&d, "[test/e2e] "), ["e1"]);
    assert_eq!(lines_of(&d, "[report/report] "), ["all good"]);
    assert!(
        d.stderr.contains("expired (410 Gone); listing again"),
        "{}",
        d.stderr
    );
    // no request storm: a handful of watch requests per resource
    let watches = api
        .requests()
        .iter()
        .filter(|r| r.query.contains("watch=true") && r.path.ends_with("/pipelineruns"))
        .count();
    assert!(
        (2..=12).contains(&watches),
        "{watches} watch requests of pipelineruns"
    );
    // the controller's own watch saw the 410s too
    tk.stop_expecting(|e| e.iter().all(|m| m.contains("too old resource version")));
}

#[test]
fn logs_follow_attaches_to_a_half_done_run() {
    each_backend(|c| {
        let scenario = green().task(
            "test",
            TaskScript::new()
                .step(
                    StepScript::new("unit")
                        .lines(["t1", "t2", "t3", "t4", "t5"])
                        .duration_ms(1500),
                )
                .step(StepScript::new("integration"))
                .step(StepScript::new("e2e")),
        );
        let tk = Tekton::start(c, scenario);
        let script = write_script(c);
        let d = spawn(c, &["run", &script, "--detach"]).wait();
        assert_eq!(d.code, Some(0), "{}", d.stderr);
        let name = d.stdout[0].clone();
        tk.wait_taskrun(c.namespace(), &format!("{name}-lint"), |s, _| s == "True");
        let d = spawn(
            c,
            &[
                "logs",
                &name,
                "-f",
                "--timestamps",
                "never",
                "--timeout",
                "30s",
            ],
        )
        .wait();
        assert_eq!(d.code, Some(0), "{}", d.stderr);
        // finished tasks first, in pipeline order, then the live ones; nothing twice
        assert_eq!(
            &d.stdout[..4],
            [
                "[build/compile] compiling main.rs",
                "[build/compile] compiling lib.rs",
                "[build/package] wrote app.tar",
                "[lint/lint] clean"
            ]
        );
        assert_eq!(lines_of(&d, "[test/unit] "), ["t1", "t2", "t3", "t4", "t5"]);
        assert_eq!(lines_of(&d, "[report/report] "), ["all good"]);
        assert_eq!(d.stdout.len(), 10, "{:?}", d.stdout);
        assert!(
            d.stderr.contains("completed (some tasks were skipped)"),
            "{}",
            d.stderr
        );
        // and without -f on the finished run: the same logs in pipeline order
        let d = spawn(c, &["logs", &name, "--timestamps", "never"]).wait();
        assert_eq!(d.code, Some(0), "{}", d.stderr);
        let order: Vec<&str> = d
            .stdout
            .iter()
            .map(|l| l.split(']').next().unwrap())
            .collect();
        let mut dedup = order.clone();
        dedup.dedup();
        assert_eq!(
            dedup,
            [
                "[build/compile",
                "[build/package",
                "[test/unit",
                "[lint/lint",
                "[report/report"
            ]
        );
        tk.stop();
    });
}

#[test]
fn dry_run_prints_the_run_and_sends_nothing() {
    let c = TestCluster::fake();
    let script = write_script(&c);
    let d = spawn(
        &c,
        &[
            "run",
            &script,
            "--dry-run",
            "-p",
            "env=prod",
            "-p",
            "tags=a,b",
            "-w",
            "cache=emptyDir",
            "--embed",
        ],
    )
    .wait();
    assert_eq!(d.code, Some(0), "{}", d.stderr);
    let y = d.out();
    assert!(
        y.starts_with(
            "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  generateName: ci-run-\n"
        ),
        "{y}"
    );
    for needle in [
        "  pipelineSpec:\n",
        "taskSpec:",
        "  - name: env\n    value: prod\n",
        "  - name: tags\n    value:\n    - a\n    - b\n",
        "  - name: cache\n    emptyDir: {}\n",
    ] {
        assert!(y.contains(needle), "missing {needle:?} in\n{y}");
    }
    assert!(!y.contains("taskRef"), "{y}");
    assert!(
        c.fake_api().unwrap().requests().is_empty(),
        "dry run sent requests"
    );
}

#[test]
fn bad_params_are_refused_before_anything_is_sent() {
    let c = TestCluster::fake();
    let script = write_script(&c);
    let d = spawn(
        &c,
        &[
            "run",
            &script,
            "-p",
            "enviroment=prod",
            "-p",
            "tags=[1",
            "-w",
            "tmp=emptyDir",
            "-w",
            "cache=nfs:x",
        ],
    )
    .wait();
    assert_eq!(d.code, Some(1), "{}", d.stderr);
    assert_eq!(
        d.stderr,
        "error: -p enviroment: the pipeline has no param \"enviroment\" (params: env, tags)\n\
         error: -p tags: param \"tags\" is an array: expected a JSON array of strings: invalid type: integer `1`, expected a string at line 1 column 2\n\
         error: -w tmp: the pipeline has no workspace \"tmp\" (workspaces: cache)\n\
         error: -w \"cache=nfs:x\": unknown binding \"nfs\": use emptyDir, pvc:CLAIM, configMap:NAME, secret:NAME or volumeClaimTemplate:SIZE\n"
    );
    assert!(c.fake_api().unwrap().requests().is_empty());
    let d = spawn(&c, &["run", &script, "--pipeline", "nope"]).wait();
    assert_eq!(d.code, Some(1));
    assert_eq!(
        d.stderr,
        "error: the script has no pipeline \"nope\" (pipelines: ci)\n"
    );
}

#[test]
fn status_lines_are_timestamped_by_default_when_not_a_terminal() {
    let c = TestCluster::fake();
    let tk = Tekton::start(&c, green());
    let script = write_script(&c);
    let d = spawn(&c, &["run", &script, "--timeout", "40s"]).wait();
    assert_eq!(d.code, Some(0), "{}", d.stderr);
    let stamped: Vec<&str> = d
        .stderr
        .lines()
        .filter(|l| l.contains("task build: "))
        .collect();
    assert!(!stamped.is_empty());
    for l in &stamped {
        assert_ne!(strip_timestamps(l), *l, "not timestamped: {l}");
    }
    let plain = strip_timestamps(&d.stderr);
    assert!(plain.contains("\ntask build: running\n"), "{plain}");
    // no status line twice in a row
    let lines: Vec<&str> = plain.lines().collect();
    assert!(lines.windows(2).all(|w| w[0] != w[1]), "{plain}");

    // the live view (forced: stderr is a pipe here) redraws in place and ends with the same summary
    let d = spawn(&c, &["run", &script, "--timeout", "40s", "--view", "live"]).wait();
    assert_eq!(d.code, Some(0), "{}", d.stderr);
    assert!(d.stderr.contains("\x1b[J"), "{}", d.stderr);
    assert!(d.stderr.contains("  ✓ build"), "{}", d.stderr);
    assert!(
        d.stderr.contains("results:\n  digest: sha256:feed\n"),
        "{}",
        d.stderr
    );
    assert_eq!(lines_of(&d, "[report/report] "), ["all good"]);
    tk.stop();
}
