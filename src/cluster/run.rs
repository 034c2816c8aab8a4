//! `tekscript run` on a cluster: creating the run (`generateName`), following it and cancelling one
//! (`spec.status`, merge patch). Choosing and checking the run is [`crate::exec::plan`].

use super::connect::{Connection, Target};
use super::error::ClusterError;
use super::objects::{api_resource, display};
use super::retry::with_retry;
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

fn pipelineruns(target: &Target, namespace: &str) -> Api<DynamicObject> {
    let ar = api_resource("tekton.dev/v1", "PipelineRun", "pipelineruns");
    Api::namespaced_with(target.client.clone(), namespace, &ar)
}

/// Creates the PipelineRun in `namespace`; returns its name (server-generated with `generateName`).
pub async fn create(
    target: &Target,
    namespace: &str,
    body: &Value,
) -> Result<String, ClusterError> {
    let api = pipelineruns(target, namespace);
    let mut body = body.clone();
    body["metadata"]["namespace"] = namespace.into();
    let obj: DynamicObject = serde_json::from_value(body.clone())
        .map_err(|e| ClusterError::Usage(format!("the PipelineRun is not a valid object: {e}")))?;
    let shown = body["metadata"]["name"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            body["metadata"]["generateName"]
                .as_str()
                .map(|g| format!("{g}*"))
        })
        .unwrap_or_default();
    let what = display("PipelineRun", "tekton.dev", &shown);
    // Not retried on transport errors: a create that reached the server would start a second run.
    let created = match tokio::time::timeout(
        target.request_timeout,
        api.create(&PostParams::default(), &obj),
    )
    .await
    {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return Err(ClusterError::from_kube(&e, "create", &what, &target.server)),
        Err(_) => {
            return Err(ClusterError::Timeout {
                verb: "create".into(),
                what,
                secs: target.request_timeout.as_secs(),
            });
        }
    };
    Ok(created.metadata.name.unwrap_or_default())
}

/// How to cancel a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelMode {
    /// `Cancelled`: stop running tasks at once, skip finally.
    Cancel,
    /// `CancelledRunFinally`: stop running tasks, then run the finally tasks.
    Graceful,
}

impl CancelMode {
    /// The `spec.status` value.
    pub fn spec_status(self) -> &'static str {
        match self {
            CancelMode::Cancel => "Cancelled",
            CancelMode::Graceful => "CancelledRunFinally",
        }
    }
}

/// What [`cancel`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelResult {
    /// `spec.status` was set.
    Requested,
    /// The run had already finished: `(reason, message)` of its condition.
    AlreadyFinished(String, String),
}

/// Sets `spec.status` of a running PipelineRun (merge patch; works on CRDs without JSON-patch support).
pub async fn cancel(
    target: &Target,
    namespace: &str,
    name: &str,
    mode: CancelMode,
) -> Result<CancelResult, ClusterError> {
    let live = super::follow::get_run(target, namespace, name).await?;
    let api = pipelineruns(target, namespace);
    let what = display("PipelineRun", "tekton.dev", name);
    let cond = super::follow::succeeded(&live);
    if let Some(c) = cond.filter(|c| c.status != "Unknown") {
        return Ok(CancelResult::AlreadyFinished(c.reason, c.message));
    }
    let patch = Patch::Merge(json!({"spec": {"status": mode.spec_status()}}));
    let pp = PatchParams::default();
    with_retry(target, "cancel", &what, || api.patch(name, &pp, &patch)).await?;
    Ok(CancelResult::Requested)
}

/// How `run` ended before following, or the summary of the followed run.
#[derive(Debug)]
pub enum RunOutcome {
    /// Applying what the run needs failed (or was interrupted); the run was not created.
    ApplyFailed(super::ApplyReport),
    /// Ctrl-C before the run was created.
    Interrupted,
    /// `--detach`: the run's name.
    Detached(String),
    /// The run was followed.
    Followed(super::follow::Summary),
}

/// Everything `tekscript run` needs once connected.
pub struct RunJob<'a> {
    /// The PipelineRun to create.
    pub body: Value,
    /// Objects to apply first, with their options (`None`: apply nothing).
    pub apply: Option<(Vec<super::Planned>, super::ApplyOptions)>,
    pub detach: bool,
    pub follow: super::follow::FollowOptions,
    pub on_apply: &'a mut (dyn FnMut(&super::ObjectResult) + Send),
    /// Called with (name, namespace) once the run exists.
    pub on_created: &'a mut dyn FnMut(&str, &str),
    pub on_event: &'a mut dyn FnMut(super::follow::FollowEvent),
}

/// The namespace a run goes to: its own `metadata.namespace`, else the target's (an error when `-n` names
/// another one, as with kubectl).
pub fn run_namespace(body: &Value, target: &Target) -> Result<String, ClusterError> {
    match body["metadata"]["namespace"]
        .as_str()
        .filter(|n| !n.is_empty())
    {
        Some(n) if target.namespace_explicit && n != target.namespace => {
            Err(ClusterError::Usage(format!(
                "the PipelineRun sets namespace {n:?}, but -n/--namespace is {:?}; remove one of them",
                target.namespace
            )))
        }
        Some(n) => Ok(n.to_string()),
        None => Ok(target.namespace.clone()),
    }
}

const RUN_INTERRUPT_MESSAGE: &str = "interrupted (Ctrl-C again to leave at once)";

/// Connects, applies what the run needs, creates the run and follows it. `prepare` builds the job once the
/// target (and so the namespace) is known.
pub fn run_blocking<'a>(
    conn: &Connection,
    prepare: impl FnOnce(&Target) -> Result<RunJob<'a>, ClusterError>,
) -> Result<RunOutcome, ClusterError> {
    let interrupt = super::follow::Interrupt::default();
    super::block_on_with(
        interrupt.flag.clone(),
        Some(interrupt.notify.clone()),
        RUN_INTERRUPT_MESSAGE,
        async move {
            let target = super::connect::connect(conn).await?;
            let job = prepare(&target)?;
            let ns = run_namespace(&job.body, &target)?;
            if let Some((planned, mut opts)) = job.apply {
                opts.interrupted = interrupt.flag.clone();
                let report = super::apply::apply(&target, planned, &opts, job.on_apply).await?;
                if report.failed() {
                    return Ok(RunOutcome::ApplyFailed(report));
                }
            } else {
                super::connect::check_served(
                    &target,
                    &[(
                        "tekton.dev/v1".to_string(),
                        "PipelineRun".to_string(),
                        "pipelineruns".to_string(),
                    )],
                )
                .await?;
            }
            if interrupt.is_set() {
                return Ok(RunOutcome::Interrupted);
            }
            let name = create(&target, &ns, &job.body).await?;
            (job.on_created)(&name, &ns);
            if job.detach {
                return Ok(RunOutcome::Detached(name));
            }
            let streams = super::follow::streaming_target(conn).await?;
            let summary = super::follow::follow(
                &target,
                &streams,
                &ns,
                &name,
                &job.follow,
                &interrupt,
                job.on_event,
            )
            .await?;
            Ok(RunOutcome::Followed(summary))
        },
    )
}

/// `tekscript logs RUN [-f]`: prints the logs of an existing run (following it with `follow`).
pub fn logs_blocking(
    conn: &Connection,
    name: &str,
    follow: Option<super::follow::FollowOptions>,
    on_event: &mut dyn FnMut(super::follow::FollowEvent),
) -> Result<super::follow::Summary, ClusterError> {
    let interrupt = super::follow::Interrupt::default();
    super::block_on_with(
        interrupt.flag.clone(),
        Some(interrupt.notify.clone()),
        "",
        async move {
            let target = super::connect::connect(conn).await?;
            let streams = super::follow::streaming_target(conn).await?;
            let ns = target.namespace.clone();
            let run = super::follow::get_run(&target, &ns, name).await?;
            let finished = super::follow::succeeded(&run).is_some_and(|c| c.status != "Unknown");
            match follow {
                Some(opts) if !finished => {
                    super::follow::follow(&target, &streams, &ns, name, &opts, &interrupt, on_event)
                        .await
                }
                _ => super::follow::dump(&target, &streams, &ns, name, on_event).await,
            }
        },
    )
}

/// `tekscript cancel RUN`.
pub fn cancel_blocking(
    conn: &Connection,
    name: &str,
    mode: CancelMode,
) -> Result<(String, CancelResult), ClusterError> {
    super::block_on(Default::default(), async move {
        let target = super::connect::connect(conn).await?;
        let ns = target.namespace.clone();
        let r = cancel(&target, &ns, name, mode).await?;
        Ok((ns, r))
    })
}
