//! Everything that talks to a Kubernetes cluster: connecting like kubectl, `diff`, `apply` (with ApplySet
//! prune), `run`/`logs`/`cancel` (starting and following PipelineRuns), and reading live objects for
//! `import --from-cluster`. The only module that uses kube and tokio; the rest of tekscript is synchronous
//! and calls the blocking entry points here with validated objects.
//!
//! Flow of `apply`: [`objects::plan`] turns compiled objects into apply intents in dependency order →
//! [`connect::connect`] → discovery check (is Tekton served?) → ApplySet parent recorded with the superset
//! of kinds → server-side apply of each object (field manager `tekscript`, bounded concurrency, retries)
//! → prune of stale members → parent recorded with exactly the new set.

pub mod apply;
pub mod applyset;
pub mod connect;
pub mod diff;
pub mod error;
pub mod fetch;
pub mod follow;
pub mod objects;
pub mod retry;
pub mod run;

pub use apply::{ApplyOptions, ApplyReport, ObjectResult, Outcome};
pub use connect::{Connection, FIELD_MANAGER, Target};
pub use diff::{Change, DiffOptions, DiffReport};
pub use error::ClusterError;
pub use follow::{FollowEvent, FollowOptions, OnInterrupt, Summary, TaskState};
pub use objects::{Planned, Skipped};
pub use run::{CancelMode, RunOutcome};

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs `f` on a fresh single-threaded runtime. The first Ctrl-C sets `interrupted` (the commands
/// finish what is in flight and start nothing new); a second one exits at once with status 130.
pub fn block_on<F, T>(interrupted: Arc<AtomicBool>, f: F) -> Result<T, ClusterError>
where
    F: Future<Output = Result<T, ClusterError>>,
{
    block_on_with(
        interrupted,
        None,
        "interrupted: finishing the requests in flight, starting no new ones (Ctrl-C again to quit now)",
        f,
    )
}

/// [`block_on`] with a say in what the first Ctrl-C does: `notify` is woken too (for code that waits,
/// e.g. `run` cancelling its PipelineRun), and `message` is printed. The second Ctrl-C exits with 130.
pub fn block_on_with<F, T>(
    interrupted: Arc<AtomicBool>,
    notify: Option<Arc<tokio::sync::Notify>>,
    message: &str,
    f: F,
) -> Result<T, ClusterError>
where
    F: Future<Output = Result<T, ClusterError>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClusterError::BadConfig(format!("cannot start the async runtime: {e}")))?;
    let message = message.to_string();
    rt.block_on(async move {
        let flag = interrupted.clone();
        let watcher = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            flag.store(true, Ordering::SeqCst);
            if let Some(n) = &notify {
                n.notify_one();
            }
            if !message.is_empty() {
                eprintln!("{message}");
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted twice: quitting without waiting");
                std::process::exit(130);
            }
        });
        let out = f.await;
        watcher.abort();
        out
    })
}

/// Connects and applies. See [`apply::apply`].
pub fn apply_blocking(
    conn: &Connection,
    planned_for: impl FnOnce(&Target) -> Result<(Vec<Planned>, ApplyOptions), ClusterError>,
    on_result: &mut (dyn FnMut(&ObjectResult) + Send),
) -> Result<ApplyReport, ClusterError> {
    let interrupted = Arc::new(AtomicBool::new(false));
    block_on(interrupted.clone(), async move {
        let target = connect::connect(conn).await?;
        let (planned, mut opts) = planned_for(&target)?;
        opts.interrupted = interrupted;
        apply::apply(&target, planned, &opts, on_result).await
    })
}

/// Connects and diffs. See [`diff::diff`].
pub fn diff_blocking(
    conn: &Connection,
    planned_for: impl FnOnce(&Target) -> Result<(Vec<Planned>, DiffOptions), ClusterError>,
) -> Result<DiffReport, ClusterError> {
    block_on(Arc::new(AtomicBool::new(false)), async move {
        let target = connect::connect(conn).await?;
        let (planned, opts) = planned_for(&target)?;
        diff::diff(&target, planned, &opts).await
    })
}

/// Connects and reads live objects for `import --from-cluster`; also returns a name for the source
/// (`cluster <context>/<namespace>`). See [`fetch::fetch`].
pub fn fetch_blocking(
    conn: &Connection,
    refs: &[fetch::FetchRef],
    selector: Option<&str>,
) -> Result<(Vec<serde_json::Value>, String), ClusterError> {
    block_on(Arc::new(AtomicBool::new(false)), async move {
        let target = connect::connect(conn).await?;
        let objects = fetch::fetch(&target, refs, selector).await?;
        Ok((
            objects,
            format!("cluster {}/{}", target.context, target.namespace),
        ))
    })
}
