//! One TaskRun attempt on this machine: the pod Tekton would build (`pkg/pod/pod.go`), as containers or
//! host processes. Sidecars start first and share their network with the steps; the steps run in order
//! in their own containers with `/tekton/{scripts,results,steps,home,creds,artifacts}`, `/workspace` and
//! the workspaces mounted; after each step its exit code is written, results are read back and checked
//! against the size limit; a failed step (unless `onError: continue`) ends the attempt and the steps after
//! it are skipped, as Tekton's entrypoint does.

use super::runtime::{Runtime, map_image, quantity};
use super::workspaces::{self, mkdir};
use crate::exec::run::{CANCELLED_BY_PIPELINE, Ended, Outcome};
use crate::exec::taskrun::{
    self, BoundWorkspace, Container, Paths, ResolvedStep, ResolvedTask, StepResults, TaskRunInput,
};
use crate::exec::when::{self, When};
use crate::model::{Param, ParamValue, StepActionSpec, TaskSpec};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a graceful stop waits before it kills (Kubernetes' default grace period is 30 s).
pub const GRACE: Duration = Duration::from_secs(10);

/// What every attempt of a run shares.
#[derive(Debug)]
pub struct Shared {
    pub runtime: Runtime,
    pub rundir: PathBuf,
    pub namespace: String,
    pub uid: String,
    /// `tekscript.run=<run name>`: every container of the run carries it.
    pub label: String,
    pub image_map: Vec<(String, String)>,
    pub secret_dir: Option<PathBuf>,
    pub step_actions: BTreeMap<String, StepActionSpec>,
}

/// A task workspace of one attempt.
#[derive(Debug, Clone)]
pub struct TaskWorkspace {
    pub name: String,
    pub dir: PathBuf,
    pub claim: Option<String>,
    /// Read-only whatever the Task says (Secrets, ConfigMaps).
    pub read_only: bool,
}

/// One attempt to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: usize,
    /// The pipeline task (log prefixes).
    pub task: String,
    pub taskrun: String,
    pub retry: u32,
    pub spec: TaskSpec,
    /// `context.task.name`.
    pub task_name: String,
    pub params: Vec<Param>,
    pub workspaces: Vec<TaskWorkspace>,
    pub timeout: Duration,
}

/// What attempts tell the driver.
#[derive(Debug)]
pub enum Msg {
    Log {
        task: String,
        step: String,
        attempt: u32,
        line: String,
    },
    Note(String),
    /// A pod that cannot start (`ErrImagePull`).
    Pod {
        task: String,
        pod: String,
        reason: String,
        message: String,
    },
    Done {
        id: usize,
        outcome: Outcome,
        /// The step that failed and its exit code.
        failed_step: Option<(String, i32)>,
        pod_problem: Option<String>,
    },
    /// Ctrl-C.
    Interrupt,
}

#[derive(Debug, Clone)]
enum Proc {
    Container(String),
    /// A host process group.
    Host(i32),
}

/// Stops an attempt from outside: 1 = graceful stop, 2 = kill.
#[derive(Debug, Default)]
pub struct Ctl {
    state: AtomicU8,
    current: Mutex<Vec<Proc>>,
}

impl Ctl {
    /// Stops the attempt: the running step (and sidecars) get SIGTERM, SIGKILL after [`GRACE`]; with
    /// `immediate`, SIGKILL now. Returns at once (the stopping happens on other threads).
    pub fn stop(self: &Arc<Self>, shared: &Arc<Shared>, immediate: bool) {
        let level = if immediate { 2 } else { 1 };
        if self.state.fetch_max(level, Ordering::SeqCst) >= level {
            return;
        }
        let procs = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for p in procs {
            signal(shared, p, immediate);
        }
    }

    fn stopping(&self) -> u8 {
        self.state.load(Ordering::SeqCst)
    }

    fn register(&self, p: Proc) {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(p);
    }

    fn unregister_all(&self) {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

fn signal(shared: &Arc<Shared>, p: Proc, immediate: bool) {
    let shared = shared.clone();
    std::thread::spawn(move || match p {
        Proc::Container(name) => {
            let grace = if immediate { Duration::ZERO } else { GRACE };
            shared.runtime.stop_container(&name, grace);
        }
        Proc::Host(pgid) => {
            use nix::sys::signal::{Signal, killpg};
            use nix::unistd::Pid;
            let pg = Pid::from_raw(pgid);
            if immediate {
                let _ = killpg(pg, Signal::SIGKILL);
            } else {
                let _ = killpg(pg, Signal::SIGTERM);
                std::thread::sleep(GRACE);
                let _ = killpg(pg, Signal::SIGKILL);
            }
        }
    });
}

/// Runs the attempt on its own thread; exactly one [`Msg::Done`] is sent for it.
pub fn spawn(shared: Arc<Shared>, job: Job, ctl: Arc<Ctl>, tx: Sender<Msg>) {
    std::thread::spawn(move || {
        let id = job.id;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Attempt::new(&shared, &job, &ctl, &tx).run()
        }));
        let (outcome, failed_step, pod_problem) = match r {
            Ok(v) => v,
            Err(_) => (
                Outcome::failed("tekscript failed while running this TaskRun (a bug)"),
                None,
                None,
            ),
        };
        ctl.unregister_all();
        let _ = tx.send(Msg::Done {
            id,
            outcome,
            failed_step,
            pod_problem,
        });
    });
}

struct Attempt<'a> {
    shared: &'a Arc<Shared>,
    job: &'a Job,
    ctl: &'a Arc<Ctl>,
    tx: &'a Sender<Msg>,
    dir: PathBuf,
    paths: Paths,
    /// Container path → host directory (longest prefix wins), for working directories.
    mounts: Vec<(String, PathBuf)>,
    started: Instant,
    /// Containers started for this attempt (sidecars), removed at the end.
    sidecars: Vec<Proc>,
}

type Result3 = (Outcome, Option<(String, i32)>, Option<String>);

impl<'a> Attempt<'a> {
    fn new(shared: &'a Arc<Shared>, job: &'a Job, ctl: &'a Arc<Ctl>, tx: &'a Sender<Msg>) -> Self {
        let mut dir = shared.rundir.join("taskruns").join(&job.taskrun);
        if job.retry > 0 {
            dir = dir.join(format!("retry-{}", job.retry));
        }
        let host = matches!(shared.runtime, Runtime::Host);
        let paths = if host {
            let p = |s: &str| dir.join(s).to_string_lossy().to_string();
            Paths {
                workspace: p("workspace"),
                results: p("results"),
                steps: p("steps"),
                scripts: p("scripts"),
                credentials: p("creds"),
                artifacts: p("artifacts"),
                home: p("home"),
                workspace_paths: BTreeMap::new(),
            }
        } else {
            Paths::tekton()
        };
        Attempt {
            shared,
            job,
            ctl,
            tx,
            dir,
            paths,
            mounts: Vec::new(),
            started: Instant::now(),
            sidecars: Vec::new(),
        }
    }

    fn host(&self) -> bool {
        matches!(self.shared.runtime, Runtime::Host)
    }

    fn log(&self, step: &str, line: String) {
        let _ = self.tx.send(Msg::Log {
            task: self.job.task.clone(),
            step: step.to_string(),
            attempt: self.job.retry,
            line,
        });
    }

    fn fail(reason: &str, message: String) -> Result3 {
        let mut o = Outcome::failed(message);
        o.reason = reason.to_string();
        (o, None, None)
    }

    fn cancelled() -> Result3 {
        (
            Outcome {
                ended: Ended::Cancelled,
                reason: "TaskRunCancelled".into(),
                message: CANCELLED_BY_PIPELINE.into(),
                results: BTreeMap::new(),
                unknown_results: BTreeSet::new(),
            },
            None,
            None,
        )
    }

    fn run(mut self) -> Result3 {
        let r = self.run_inner();
        for p in std::mem::take(&mut self.sidecars) {
            match p {
                Proc::Container(name) => self.shared.runtime.remove_container(&name),
                Proc::Host(pgid) => {
                    use nix::sys::signal::{Signal, killpg};
                    let _ = killpg(nix::unistd::Pid::from_raw(pgid), Signal::SIGKILL);
                }
            }
        }
        r
    }

    fn run_inner(&mut self) -> Result3 {
        let job = self.job;
        for d in [
            "workspace",
            "results",
            "steps",
            "scripts",
            "creds",
            "artifacts",
            "home",
        ] {
            if let Err(e) = mkdir(&self.dir.join(d)) {
                return Self::fail("TaskRunValidationFailed", e);
            }
        }
        // workspaces: host runtime paths are the directories themselves (read-only ones copied)
        let mut bound = Vec::new();
        for w in &job.workspaces {
            let decl = job.spec.workspaces.iter().find(|d| d.name == w.name);
            let read_only = w.read_only || decl.is_some_and(|d| d.read_only == Some(true));
            let mut dir = w.dir.clone();
            if self.host() {
                if read_only && !w.read_only {
                    let copy = self.dir.join("ro").join(&w.name);
                    if let Err(e) = workspaces::copy_tree(&w.dir, &copy) {
                        return Self::fail("TaskRunValidationFailed", e);
                    }
                    dir = copy;
                }
                self.paths
                    .workspace_paths
                    .insert(w.name.clone(), dir.to_string_lossy().to_string());
                // /workspace/NAME as in the pod, for scripts that use the default path
                let link = self.dir.join("workspace").join(&w.name);
                let _ = std::os::unix::fs::symlink(&dir, &link);
            }
            bound.push(BoundWorkspace {
                name: w.name.clone(),
                claim: w.claim.clone(),
            });
        }
        let input = TaskRunInput {
            taskrun: &job.taskrun,
            namespace: &self.shared.namespace,
            uid: &self.shared.uid,
            task_name: &job.task_name,
            retry: job.retry,
            spec: &job.spec,
            params: &job.params,
            workspaces: &bound,
            step_actions: &self.shared.step_actions,
            paths: &self.paths,
        };
        let resolved = match taskrun::resolve(&input) {
            Ok(r) => r,
            Err(e) => return Self::fail(&e.reason, e.message),
        };
        if let Err(e) = self.place_files(&resolved) {
            return Self::fail("TaskRunValidationFailed", e);
        }
        let mounts = match self.mount_table(&resolved) {
            Ok(m) => m,
            Err(e) => return Self::fail("CreateContainerConfigError", e),
        };
        self.mounts = mounts
            .iter()
            .map(|m| (m.target.clone(), m.source.clone()))
            .collect();
        // images (the pod cannot start without every one of them)
        let mut images: BTreeMap<String, String> = BTreeMap::new();
        if !self.host() {
            let containers = resolved
                .sidecars
                .iter()
                .chain(resolved.steps.iter().map(|s| &s.container));
            for c in containers {
                let image = map_image(
                    c.image.as_deref().unwrap_or_default(),
                    &self.shared.image_map,
                );
                if let Err(e) = self
                    .shared
                    .runtime
                    .ensure_image(&image, c.image_pull_policy.as_deref())
                {
                    let pod = format!("{}-pod", job.taskrun);
                    let _ = self.tx.send(Msg::Pod {
                        task: job.task.clone(),
                        pod: pod.clone(),
                        reason: "ErrImagePull".into(),
                        message: format!("container {}: {e}", c.name),
                    });
                    let kind = if c.name.starts_with("sidecar-") {
                        "sidecar"
                    } else {
                        "step"
                    };
                    let short = c
                        .name
                        .strip_prefix("step-")
                        .or_else(|| c.name.strip_prefix("sidecar-"))
                        .unwrap_or(&c.name);
                    let mut o = Self::fail(
                        "TaskRunImagePullFailed",
                        format!(
                            "the {kind} {short:?} in TaskRun {:?} failed to pull the image {image:?}. The pod errored with the message: \"{e}.\"",
                            job.taskrun
                        ),
                    );
                    o.2 = Some(format!("ErrImagePull: {e}"));
                    return o;
                }
                images.insert(c.name.clone(), image);
            }
        }
        // environment (Secrets and ConfigMaps from --secret-dir)
        let mut envs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for c in resolved
            .sidecars
            .iter()
            .chain(resolved.steps.iter().map(|s| &s.container))
        {
            match self.env_of(c) {
                Ok(e) => {
                    envs.insert(c.name.clone(), e);
                }
                Err(e) => {
                    return Self::fail(
                        "CreateContainerConfigError",
                        format!(
                            "Failed to create pod due to config error: container {}: {e}",
                            c.name
                        ),
                    );
                }
            }
        }
        // sidecars
        let mut network: Option<String> = None;
        for c in &resolved.sidecars {
            if self.ctl.stopping() > 0 {
                return Self::cancelled();
            }
            match self.start_sidecar(c, &images, &envs, &mounts, network.as_deref()) {
                Ok(Some(name)) => {
                    network.get_or_insert(name);
                }
                Ok(None) => {}
                Err(e) => {
                    return Self::fail(
                        "Failed",
                        format!("sidecar {:?} could not start: {e}", c.name),
                    );
                }
            }
        }
        self.wait_ready(&resolved);
        // steps
        let deadline = self.started + job.timeout;
        let mut step_results: StepResults = BTreeMap::new();
        for step in &resolved.steps {
            if self.ctl.stopping() > 0 {
                return Self::cancelled();
            }
            if Instant::now() >= deadline {
                return (Outcome::timed_out(&job.taskrun, job.timeout), None, None);
            }
            let mut step = step.clone();
            let label = step
                .container
                .name
                .strip_prefix("step-")
                .unwrap_or(&step.container.name)
                .to_string();
            let step_dir = self.dir.join("steps").join(&step.container.name);
            if let Err(e) = taskrun::apply_step_results(&mut step, &step_results) {
                self.log(&label, e.clone());
                let _ = std::fs::write(step_dir.join("exitCode"), "1");
                if step.on_error_continue {
                    continue;
                }
                return (
                    Outcome::failed(format!(
                        "\"{}\" exited with code 1: Error",
                        step.container.name
                    )),
                    Some((label, 1)),
                    None,
                );
            }
            if !step.when.is_empty() {
                let subs: Vec<when::Substituted> = step
                    .when
                    .iter()
                    .map(|w| when::Substituted {
                        expr: w.clone(),
                        unknown: false,
                    })
                    .collect();
                match when::evaluate(&subs) {
                    When::True => {}
                    When::False => {
                        let _ = std::fs::write(step_dir.join("exitCode"), "0");
                        continue;
                    }
                    When::Undecidable(why) => {
                        self.log(
                            &label,
                            format!("cannot evaluate the step's when expressions: {why}"),
                        );
                        return (
                            Outcome::failed(format!(
                                "\"{}\" exited with code 1: Error",
                                step.container.name
                            )),
                            Some((label, 1)),
                            None,
                        );
                    }
                }
            }
            let env = envs.remove(&step.container.name).unwrap_or_default();
            let image = images.get(&step.container.name).cloned();
            let ran = self.run_step(
                &step,
                image.as_deref(),
                &env,
                &mounts,
                network.as_deref(),
                deadline,
            );
            match ran {
                StepEnd::Cancelled => return Self::cancelled(),
                StepEnd::TaskTimeout => {
                    return (Outcome::timed_out(&job.taskrun, job.timeout), None, None);
                }
                StepEnd::StepTimeout => {
                    let _ = std::fs::write(step_dir.join("exitCode"), "1");
                    if !step.on_error_continue {
                        return (
                            Outcome::failed(format!(
                                "\"{}\" exited because the step exceeded the specified timeout limit",
                                step.container.name
                            )),
                            None,
                            None,
                        );
                    }
                }
                StepEnd::Start(e) => {
                    self.log(&label, e.clone());
                    return Self::fail(
                        "Failed",
                        format!("\"{}\" could not be started: {e}", step.container.name),
                    );
                }
                StepEnd::Exited(code) => {
                    let _ = std::fs::write(step_dir.join("exitCode"), code.to_string());
                    if code != 0 && !step.on_error_continue {
                        return (
                            Outcome::failed(format!(
                                "\"{}\" exited with code {code}: Error",
                                step.container.name
                            )),
                            Some((label, code)),
                            None,
                        );
                    }
                    // the entrypoint reads the results back into the termination message
                    let task_files = read_results(
                        &self.dir.join("results"),
                        resolved.results.iter().map(|r| r.name.as_str()),
                    );
                    let own = read_results(
                        &step_dir.join("results"),
                        step.results.iter().map(|r| r.name.as_str()),
                    );
                    if let Err(msg) = taskrun::check_result_size(&task_files, &own) {
                        self.log(&label, msg.to_string());
                        let _ = std::fs::write(step_dir.join("exitCode"), "1");
                        return (
                            Outcome::failed(format!(
                                "\"{}\" exited with code 1: Error",
                                step.container.name
                            )),
                            Some((label, 1)),
                            None,
                        );
                    }
                    step_results.insert(
                        step.name.clone(),
                        taskrun::step_result_values(&step.results, &own),
                    );
                }
            }
        }
        let files = read_results(
            &self.dir.join("results"),
            resolved.results.iter().map(|r| r.name.as_str()),
        );
        match taskrun::task_results(&resolved.results, &files, &step_results) {
            Ok(results) => (Outcome::succeeded(results), None, None),
            Err(e) => Self::fail(&e.reason, e.message),
        }
    }

    /// Scripts, step directories, working directories.
    fn place_files(&self, r: &ResolvedTask) -> Result<(), String> {
        let scripts = self.dir.join("scripts");
        for c in r
            .sidecars
            .iter()
            .chain(r.steps.iter().map(|s| &s.container))
        {
            if let Some(s) = &c.script {
                let f = scripts.join(&s.file);
                std::fs::write(&f, &s.text).map_err(|e| format!("{}: {e}", f.display()))?;
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| format!("{}: {e}", f.display()))?;
            }
        }
        for s in &r.steps {
            let d = self.dir.join("steps").join(&s.container.name);
            mkdir(&d.join("results"))?;
            mkdir(&d.join("artifacts"))?;
        }
        Ok(())
    }

    /// The mounts of the pod: Tekton's implicit volumes, the workspaces, the Task's volumes.
    fn mount_table(&self, r: &ResolvedTask) -> Result<Vec<Mount>, String> {
        let d = &self.dir;
        let mut out = vec![
            Mount::new(d.join("workspace"), "/workspace", false),
            Mount::new(d.join("home"), "/tekton/home", false),
            Mount::new(d.join("results"), "/tekton/results", false),
            Mount::new(d.join("steps"), "/tekton/steps", false),
            Mount::new(d.join("scripts"), "/tekton/scripts", true),
            Mount::new(d.join("creds"), "/tekton/creds", false),
            Mount::new(d.join("artifacts"), "/tekton/artifacts", false),
        ];
        // a workspace that some container lists in its `workspaces` is isolated to those containers
        let listed: BTreeSet<&str> = r
            .steps
            .iter()
            .map(|s| &s.container)
            .chain(r.sidecars.iter())
            .flat_map(|c| c.workspaces.iter().map(|w| w.name.as_str()))
            .collect();
        for w in &self.job.workspaces {
            let Some(decl) = r.workspaces.iter().find(|d| d.name == w.name) else {
                continue;
            };
            let ro = w.read_only || decl.read_only == Some(true);
            if !listed.contains(w.name.as_str()) {
                out.push(Mount::new(w.dir.clone(), &decl.effective_mount_path(), ro));
                continue;
            }
            // isolated: only the containers that list it, at their own mountPath if they give one
            for c in r
                .steps
                .iter()
                .map(|s| &s.container)
                .chain(r.sidecars.iter())
            {
                let Some(u) = c.workspaces.iter().find(|u| u.name == w.name) else {
                    continue;
                };
                let target = u
                    .mount_path
                    .clone()
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| decl.effective_mount_path());
                let mut m = Mount::new(w.dir.clone(), &target, ro);
                m.container = Some(c.name.clone());
                out.push(m);
            }
        }
        let mut volumes: BTreeMap<&str, (PathBuf, bool)> = BTreeMap::new();
        for v in &r.volumes {
            let got = workspaces::volume(
                v,
                &self.dir,
                &self.shared.rundir,
                self.shared.secret_dir.as_deref(),
            )?;
            volumes.insert(v.name.as_str(), got);
        }
        for c in r
            .steps
            .iter()
            .map(|s| &s.container)
            .chain(r.sidecars.iter())
        {
            for vm in &c.volume_mounts {
                let Some((dir, ro)) = volumes.get(vm.name.as_str()) else {
                    return Err(format!(
                        "container {} mounts volume {:?}, which the Task does not declare",
                        c.name, vm.name
                    ));
                };
                let mut source = dir.clone();
                if let Some(sp) = vm.sub_path.as_deref().filter(|s| !s.is_empty()) {
                    source = source.join(sp);
                    mkdir(&source)?;
                }
                let mut m = Mount::new(source, &vm.mount_path, *ro || vm.read_only == Some(true));
                m.container = Some(c.name.clone());
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Where a container path is on this machine (longest mount prefix), for working directories.
    fn host_path(&self, container_path: &str) -> Option<PathBuf> {
        let mut best: Option<(&str, &PathBuf)> = None;
        for (target, source) in &self.mounts {
            let t = target.trim_end_matches('/');
            if (container_path == t || container_path.starts_with(&format!("{t}/")))
                && best.is_none_or(|(b, _)| t.len() > b.len())
            {
                best = Some((t, source));
            }
        }
        let (t, source) = best?;
        let rest = container_path[t.len()..].trim_start_matches('/');
        Some(if rest.is_empty() {
            source.clone()
        } else {
            source.join(rest)
        })
    }

    fn env_of(&self, c: &Container) -> Result<Vec<(String, String)>, String> {
        let sd = self.shared.secret_dir.as_deref();
        let mut out: Vec<(String, String)> = Vec::new();
        let mut set = |k: String, v: String| match out.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        };
        for ef in &c.env_from {
            let prefix = ef.prefix.clone().unwrap_or_default();
            let (kind, name, optional) = if let Some(s) = &ef.secret_ref {
                ("secret", s.name.clone(), s.optional == Some(true))
            } else if let Some(m) = &ef.config_map_ref {
                ("configMap", m.name.clone(), m.optional == Some(true))
            } else {
                continue;
            };
            match workspaces::secret_entries(sd, kind, &name) {
                Ok(entries) => {
                    for (k, v) in entries {
                        set(format!("{prefix}{k}"), v);
                    }
                }
                Err(_) if optional => {}
                Err(e) => return Err(e),
            }
        }
        for e in &c.env {
            let value = if let Some(vf) = &e.value_from {
                if let Some(k) = &vf.secret_key_ref {
                    match workspaces::secret_value(sd, "secret", &k.name, &k.key) {
                        Ok(v) => v,
                        Err(_) if k.optional == Some(true) => continue,
                        Err(err) => return Err(err),
                    }
                } else if let Some(k) = &vf.config_map_key_ref {
                    match workspaces::secret_value(sd, "configMap", &k.name, &k.key) {
                        Ok(v) => v,
                        Err(_) if k.optional == Some(true) => continue,
                        Err(err) => return Err(err),
                    }
                } else if let Some(f) = &vf.field_ref {
                    match f.field_path.as_str() {
                        "metadata.name" => format!("{}-pod", self.job.taskrun),
                        "metadata.namespace" => self.shared.namespace.clone(),
                        _ => String::new(),
                    }
                } else {
                    String::new()
                }
            } else {
                e.value.clone().unwrap_or_default()
            };
            set(e.name.clone(), value);
        }
        Ok(out)
    }

    fn container_name(&self, c: &str) -> String {
        let base = format!("{}-{c}", self.job.taskrun);
        let base = if self.job.retry > 0 {
            format!("{base}-retry{}", self.job.retry)
        } else {
            base
        };
        base.chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '.' {
                    ch
                } else {
                    '-'
                }
            })
            .collect()
    }

    /// `podman|docker run` arguments for a container of this pod.
    #[allow(clippy::too_many_arguments)]
    fn engine_args(
        &self,
        c: &Container,
        name: &str,
        image: &str,
        env: &[(String, String)],
        mounts: &[Mount],
        network: Option<&str>,
        detach: bool,
    ) -> Vec<String> {
        let mut a: Vec<String> = vec!["run".into()];
        if detach {
            a.push("-d".into());
        } else {
            a.push("--rm".into());
        }
        a.extend([
            "--init".into(),
            "--name".into(),
            name.into(),
            "--label".into(),
            self.shared.label.clone(),
            "--pull".into(),
            "never".into(),
        ]);
        if let Some(n) = network {
            a.push("--network".into());
            a.push(format!("container:{n}"));
        }
        for m in mounts {
            if !m.applies_to(c) {
                continue;
            }
            let mut spec = format!(
                "type=bind,source={},target={}",
                m.source.display(),
                m.target
            );
            if m.read_only {
                spec.push_str(",readonly");
            }
            a.push("--mount".into());
            a.push(spec);
        }
        for (k, v) in env {
            a.push("-e".into());
            a.push(format!("{k}={v}"));
        }
        if let Some(wd) = taskrun::working_dir(c, &self.paths) {
            a.push("-w".into());
            a.push(wd);
        }
        if let Some(r) = &c.resources {
            let limits = r.limits.as_ref();
            if let Some(cpu) = limits
                .and_then(|l| l.get("cpu"))
                .and_then(|q| quantity(&q.0))
            {
                a.push("--cpus".into());
                a.push(format!("{cpu}"));
            }
            if let Some(mem) = limits
                .and_then(|l| l.get("memory"))
                .and_then(|q| quantity(&q.0))
            {
                a.push("--memory".into());
                a.push(format!("{}", mem.round() as u64));
            }
        }
        if let Some(sc) = &c.security_context {
            match (sc.run_as_user, sc.run_as_group) {
                (Some(u), Some(g)) => a.extend(["--user".into(), format!("{u}:{g}")]),
                (Some(u), None) => a.extend(["--user".into(), u.to_string()]),
                (None, Some(g)) => a.extend(["--group-add".into(), g.to_string()]),
                _ => {}
            }
            if sc.privileged == Some(true) {
                a.push("--privileged".into());
            }
            if sc.read_only_root_filesystem == Some(true) {
                a.push("--read-only".into());
            }
            if sc.allow_privilege_escalation == Some(false) {
                a.extend(["--security-opt".into(), "no-new-privileges".into()]);
            }
            if let Some(caps) = &sc.capabilities {
                for cap in caps.drop.iter().flatten() {
                    a.extend(["--cap-drop".into(), cap.clone()]);
                }
                for cap in caps.add.iter().flatten() {
                    a.extend(["--cap-add".into(), cap.clone()]);
                }
            }
        }
        let mut rest: Vec<String> = Vec::new();
        if let Some((first, more)) = c.command.split_first() {
            a.push("--entrypoint".into());
            a.push(first.clone());
            rest.extend(more.iter().cloned());
        }
        rest.extend(c.args.iter().cloned());
        a.push(image.into());
        a.extend(rest);
        a
    }

    fn start_sidecar(
        &mut self,
        c: &Container,
        images: &BTreeMap<String, String>,
        envs: &BTreeMap<String, Vec<(String, String)>>,
        mounts: &[Mount],
        network: Option<&str>,
    ) -> Result<Option<String>, String> {
        let env = envs.get(&c.name).cloned().unwrap_or_default();
        match self.shared.runtime.engine() {
            Some(engine) => {
                let name = self.container_name(&c.name);
                let image = images.get(&c.name).cloned().unwrap_or_default();
                let args = self.engine_args(c, &name, &image, &env, mounts, network, true);
                let mut cmd = Command::new(engine.bin());
                cmd.args(&args).process_group(0);
                self.sidecars.push(Proc::Container(name.clone()));
                self.ctl.register(Proc::Container(name.clone()));
                match super::runtime::output(&mut cmd, Duration::from_secs(300)) {
                    Ok((true, _, _)) => Ok(Some(name)),
                    Ok((false, _, err)) => Err(err.trim().to_string()),
                    Err(e) => Err(e),
                }
            }
            None => {
                let mut cmd = self.host_command(c, &env)?;
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
                let child = cmd.spawn().map_err(|e| e.to_string())?;
                let pg = child.id() as i32;
                self.sidecars.push(Proc::Host(pg));
                self.ctl.register(Proc::Host(pg));
                // reap it when it ends
                std::thread::spawn(move || {
                    let mut child = child;
                    let _ = child.wait();
                });
                Ok(None)
            }
        }
    }

    /// Sidecars with an `exec` readiness probe: wait (up to a minute) until it passes.
    fn wait_ready(&self, r: &ResolvedTask) {
        let Some(_) = self.shared.runtime.engine() else {
            return;
        };
        for (i, sc) in self.job.spec.sidecars.iter().enumerate() {
            let Some(cmd) = sc
                .readiness_probe
                .as_ref()
                .and_then(|p| p.exec.as_ref())
                .and_then(|e| e.command.clone())
            else {
                continue;
            };
            let Some(c) = r.sidecars.get(i) else { continue };
            let name = self.container_name(&c.name);
            let until = Instant::now() + Duration::from_secs(60);
            while Instant::now() < until && self.ctl.stopping() == 0 {
                if self.shared.runtime.probe(&name, &cmd) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }

    fn host_command(&self, c: &Container, env: &[(String, String)]) -> Result<Command, String> {
        let Some((first, more)) = c.command.split_first() else {
            return Err(format!(
                "{} has neither script nor command: the host runtime runs scripts and commands, not an image's default entrypoint",
                c.name
            ));
        };
        let mut cmd = Command::new(first);
        cmd.args(more).args(&c.args);
        let wd = match &c.working_dir {
            None => self.dir.join("workspace"),
            Some(w) if w.starts_with('/') => self
                .host_path(w)
                .filter(|_| w.starts_with(taskrun::WORKSPACE_DIR))
                .unwrap_or_else(|| PathBuf::from(w)),
            Some(w) => self.dir.join("workspace").join(w),
        };
        let _ = mkdir(&wd);
        cmd.current_dir(wd);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null()).process_group(0);
        Ok(cmd)
    }

    #[allow(clippy::too_many_arguments)]
    fn run_step(
        &self,
        step: &ResolvedStep,
        image: Option<&str>,
        env: &[(String, String)],
        mounts: &[Mount],
        network: Option<&str>,
        deadline: Instant,
    ) -> StepEnd {
        let c = &step.container;
        let label = c.name.strip_prefix("step-").unwrap_or(&c.name).to_string();
        let (mut cmd, proc_of): (Command, ProcOf) = match self.shared.runtime.engine() {
            Some(engine) => {
                // working directories under /workspace exist before the step (workingdir_init.go)
                if let Some(wd) = taskrun::working_dir(c, &self.paths)
                    && (wd == "/workspace" || wd.starts_with("/workspace/"))
                    && let Some(h) = self.host_path(&wd)
                {
                    let _ = mkdir(&h);
                }
                let name = self.container_name(&c.name);
                let args = self.engine_args(
                    c,
                    &name,
                    image.unwrap_or_default(),
                    env,
                    mounts,
                    network,
                    false,
                );
                let mut cmd = Command::new(engine.bin());
                cmd.args(&args).stdin(Stdio::null()).process_group(0);
                (cmd, Box::new(move |_| Proc::Container(name.clone())))
            }
            None => match self.host_command(c, env) {
                Ok(cmd) => (cmd, Box::new(|ch: &Child| Proc::Host(ch.id() as i32))),
                Err(e) => return StepEnd::Start(e),
            },
        };
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(ch) => ch,
            Err(e) => {
                let what = cmd.get_program().to_string_lossy().to_string();
                return StepEnd::Start(format!("cannot run {what}: {e}"));
            }
        };
        let proc = proc_of(&child);
        self.ctl.register(proc.clone());
        // log readers: whole lines, stdout and stderr
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let mut readers = 0;
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            readers += 1;
            let tx = self.tx.clone();
            let done = done_tx.clone();
            let task = self.job.task.clone();
            let step = label.clone();
            let attempt = self.job.retry;
            std::thread::spawn(move || {
                let mut r = BufReader::new(stream);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match r.read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                                buf.pop();
                            }
                            let line = String::from_utf8_lossy(&buf).into_owned();
                            let _ = tx.send(Msg::Log {
                                task: task.clone(),
                                step: step.clone(),
                                attempt,
                                line,
                            });
                        }
                    }
                }
                let _ = done.send(());
            });
        }
        drop(done_tx);
        let (st_tx, st_rx) = mpsc::channel::<std::io::Result<ExitStatus>>();
        std::thread::spawn(move || {
            let _ = st_tx.send(child.wait());
        });
        if self.ctl.stopping() > 0 {
            signal(self.shared, proc.clone(), self.ctl.stopping() > 1);
        }
        let step_deadline = step.timeout.map(|t| Instant::now() + t);
        let mut timed_out: Option<StepEnd> = None;
        let mut signalled = 0u8;
        let mut last_signal = Instant::now();
        let status = loop {
            let now = Instant::now();
            let mut wake = now + Duration::from_millis(250);
            if timed_out.is_none() {
                wake = wake.min(deadline);
                if let Some(d) = step_deadline {
                    wake = wake.min(d);
                }
            }
            match st_rx.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(st) => break st,
                Err(RecvTimeoutError::Disconnected) => {
                    break Err(std::io::Error::other("lost the step's process"));
                }
                Err(RecvTimeoutError::Timeout) => {
                    let now = Instant::now();
                    if timed_out.is_none() {
                        if now >= deadline {
                            timed_out = Some(StepEnd::TaskTimeout);
                            signal(self.shared, proc.clone(), true);
                        } else if step_deadline.is_some_and(|d| now >= d) {
                            timed_out = Some(StepEnd::StepTimeout);
                            signal(self.shared, proc.clone(), true);
                        }
                    }
                    let level = self.ctl.stopping();
                    // a stop sent before the container existed is sent again
                    if level > signalled
                        || (level > 0 && last_signal.elapsed() > Duration::from_secs(2))
                    {
                        signal(self.shared, proc.clone(), level > 1);
                        signalled = level;
                        last_signal = Instant::now();
                    }
                }
            }
        };
        // let the readers reach the end of the output (bounded: a leftover background process may
        // keep the pipe open)
        let until = Instant::now() + Duration::from_secs(2);
        for _ in 0..readers {
            if done_rx
                .recv_timeout(until.saturating_duration_since(Instant::now()))
                .is_err()
            {
                break;
            }
        }
        self.ctl
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| {
                !matches!((p, &proc), (Proc::Container(a), Proc::Container(b)) if a == b)
                    && !matches!((p, &proc), (Proc::Host(a), Proc::Host(b)) if a == b)
            });
        if self.ctl.stopping() > 0 {
            return StepEnd::Cancelled;
        }
        if let Some(t) = timed_out {
            return t;
        }
        match status {
            Ok(st) => {
                use std::os::unix::process::ExitStatusExt;
                let code = st
                    .code()
                    .or_else(|| st.signal().map(|s| 128 + s))
                    .unwrap_or(1);
                if self.shared.runtime.engine().is_some() && code == 125 {
                    return StepEnd::Start(format!(
                        "the {} run failed (exit code 125)",
                        self.shared.runtime.name()
                    ));
                }
                StepEnd::Exited(code)
            }
            Err(e) => StepEnd::Start(e.to_string()),
        }
    }
}

/// How to name the process of a step once it is spawned.
type ProcOf = Box<dyn Fn(&Child) -> Proc>;

enum StepEnd {
    Exited(i32),
    StepTimeout,
    TaskTimeout,
    Cancelled,
    /// The step's process could not be started.
    Start(String),
}

/// A bind mount of the pod.
#[derive(Debug, Clone)]
struct Mount {
    source: PathBuf,
    target: String,
    read_only: bool,
    /// Only for this container (its own `volumeMounts`, isolated workspaces).
    container: Option<String>,
}

impl Mount {
    fn new(source: PathBuf, target: &str, read_only: bool) -> Mount {
        Mount {
            source,
            target: target.to_string(),
            read_only,
            container: None,
        }
    }

    fn applies_to(&self, c: &Container) -> bool {
        self.container.as_ref().is_none_or(|n| *n == c.name)
    }
}

/// Result files of the declared names that exist.
fn read_results<'n>(dir: &Path, names: impl Iterator<Item = &'n str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for n in names {
        if let Ok(bytes) = std::fs::read(dir.join(n)) {
            out.insert(n.to_string(), String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    out
}

/// The value of a result for messages and the summary: strings as they are, others as JSON.
pub fn result_text(v: &ParamValue) -> String {
    match v {
        ParamValue::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}
