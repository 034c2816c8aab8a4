//! `apply`: server-side apply (field manager `tekscript`) in dependency order with bounded concurrency,
//! ApplySet membership, and `--prune` of members the script no longer produces.

use super::applyset::{self, Parent, Recorded};
use super::connect::{FIELD_MANAGER, Target, check_served};
use super::error::ClusterError;
use super::objects::{Planned, api_resource, display, needed_kinds, plural_of, tekton_api_version};
use super::retry::with_retry;
use futures::StreamExt;
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, Preconditions};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Settings of one `apply`.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub dry_run: bool,
    pub force_conflicts: bool,
    pub prune: bool,
    /// Where the ApplySet is recorded; `None` (`--applyset none`) applies without one (no `--prune` then).
    pub parent: Option<Parent>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Set by Ctrl-C: start nothing new, finish what is in flight.
    pub interrupted: Arc<AtomicBool>,
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
    Pruned,
    /// The server refused or the request failed.
    Failed(ClusterError),
    /// Not attempted (a fatal error or Ctrl-C came first).
    NotAttempted(String),
}

impl Outcome {
    pub fn word(&self) -> &str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
            Outcome::Pruned => "pruned",
            Outcome::Failed(_) => "failed",
            Outcome::NotAttempted(_) => "not applied",
        }
    }

    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failed(_) | Outcome::NotAttempted(_))
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectResult {
    /// `task.tekton.dev/git-clone`
    pub display: String,
    pub namespace: String,
    pub outcome: Outcome,
}

/// The result of an `apply`.
#[derive(Debug, Default)]
pub struct ApplyReport {
    pub applied: Vec<ObjectResult>,
    pub pruned: Vec<ObjectResult>,
    /// Why pruning did not happen although asked for.
    pub prune_skipped: Option<String>,
    pub interrupted: bool,
}

impl ApplyReport {
    pub fn failed(&self) -> bool {
        self.interrupted
            || self.prune_skipped.is_some()
            || self
                .applied
                .iter()
                .chain(&self.pruned)
                .any(|r| r.outcome.is_failure())
    }
}

/// Applies `planned` (already in dependency order). `on_result` sees each object's result, in plan order,
/// as soon as it and all before it are done. Fatal errors (cluster unreachable, credentials, Tekton
/// missing, ApplySet parent not ours) return `Err` before anything is written, or are recorded on the
/// objects when they happen midway.
pub async fn apply(
    target: &Target,
    mut planned: Vec<Planned>,
    opts: &ApplyOptions,
    on_result: &mut (dyn FnMut(&ObjectResult) + Send),
) -> Result<ApplyReport, ClusterError> {
    check_served(target, &needed_kinds(&planned)).await?;
    if opts.prune && opts.parent.is_none() {
        return Err(ClusterError::Usage(
            "--prune needs an ApplySet to know what was applied before; drop `--applyset none`"
                .into(),
        ));
    }
    let set = match &opts.parent {
        Some(parent) => Some(record_superset(target, parent, &mut planned, opts.dry_run).await?),
        None => None,
    };

    let mut report = ApplyReport::default();
    let fatal = Arc::new(std::sync::Mutex::new(None::<ClusterError>));
    let mut ranks: Vec<u8> = planned.iter().map(|p| p.rank).collect();
    ranks.dedup();
    for rank in ranks {
        let tier: Vec<&Planned> = planned.iter().filter(|p| p.rank == rank).collect();
        let mut results = futures::stream::iter(tier.into_iter().map(|p| {
            let fatal = fatal.clone();
            async move {
                let outcome = if opts.interrupted.load(Ordering::SeqCst) {
                    Outcome::NotAttempted("interrupted (Ctrl-C)".into())
                } else if let Some(e) = fatal.lock().expect("not poisoned").clone() {
                    Outcome::NotAttempted(format!(
                        "stopped after an earlier error: {}",
                        first_line(&e)
                    ))
                } else {
                    match apply_one(target, p, opts).await {
                        Ok(o) => o,
                        Err(e) => {
                            if e.is_fatal() {
                                fatal.lock().expect("not poisoned").get_or_insert(e.clone());
                            }
                            Outcome::Failed(e)
                        }
                    }
                };
                ObjectResult {
                    display: p.display(),
                    namespace: p.namespace.clone(),
                    outcome,
                }
            }
        }))
        .buffered(opts.concurrency.max(1));
        while let Some(r) = results.next().await {
            on_result(&r);
            report.applied.push(r);
        }
    }
    report.interrupted = opts.interrupted.load(Ordering::SeqCst);

    if let (true, Some(set)) = (opts.prune, set) {
        let SetState {
            parent,
            id,
            new_set,
            superset,
        } = set;
        let failures = report
            .applied
            .iter()
            .filter(|r| r.outcome.is_failure())
            .count();
        if report.interrupted {
            report.prune_skipped = Some("interrupted before pruning".into());
        } else if failures > 0 {
            report.prune_skipped = Some(format!(
                "{failures} object(s) failed to apply; nothing was pruned (the ApplySet keeps recording \
                 every kind, so a later apply --prune cleans up)"
            ));
        } else {
            let stale = stale_members(target, &planned, &superset, &id).await?;
            if planned.is_empty() && !stale.is_empty() {
                // Like kapp's --dangerous-allow-empty-list-of-resources: an empty script is more likely a
                // mistake (wrong --set, wrong file) than a wish to delete everything.
                report.prune_skipped = Some(format!(
                    "the script produces nothing to apply; refusing to prune all {} objects of the ApplySet {} \
                     (delete them with kubectl if that is what you want)",
                    stale.len(),
                    parent.display()
                ));
                return Ok(report);
            }
            for m in stale {
                if opts.interrupted.load(Ordering::SeqCst) {
                    report.interrupted = true;
                    break;
                }
                let r = prune_one(target, &m, opts.dry_run).await;
                on_result(&r);
                report.pruned.push(r);
            }
            let prune_failed = report.pruned.iter().any(|r| r.outcome.is_failure());
            if !prune_failed && !report.interrupted && superset != new_set {
                write_parent(target, parent, &new_set, opts.dry_run).await?;
            }
        }
    }
    Ok(report)
}

/// The ApplySet of one apply: its parent and id, the set the script produces, and what was recorded.
struct SetState<'p> {
    parent: &'p Parent,
    id: String,
    new_set: Recorded,
    superset: Recorded,
}

/// Reads the parent, labels the planned objects as members, and records the union of the old and new
/// kinds and namespaces before any member is written, so a failure midway never orphans an object.
async fn record_superset<'p>(
    target: &Target,
    parent: &'p Parent,
    planned: &mut [Planned],
    dry_run: bool,
) -> Result<SetState<'p>, ClusterError> {
    let recorded = read_parent(target, parent).await?;
    let id = parent.id();
    for p in planned.iter_mut() {
        p.label_part_of(&id);
    }
    let new_set = member_set(planned, parent);
    let superset = Recorded {
        group_kinds: union(
            &recorded.as_ref().map(|r| r.group_kinds.clone()),
            &new_set.group_kinds,
        ),
        namespaces: union(
            &recorded.as_ref().map(|r| r.namespaces.clone()),
            &new_set.namespaces,
        ),
    };
    let parent_needed = !planned.is_empty() || recorded.is_some();
    if parent_needed && recorded.as_ref() != Some(&superset) {
        write_parent(target, parent, &superset, dry_run).await?;
    }
    Ok(SetState {
        parent,
        id,
        new_set,
        superset,
    })
}

fn first_line(e: &ClusterError) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

fn union(a: &Option<BTreeSet<String>>, b: &BTreeSet<String>) -> BTreeSet<String> {
    let mut s = a.clone().unwrap_or_default();
    s.extend(b.iter().cloned());
    s
}

/// Group-kinds and namespaces of the planned objects (the parent's namespace always included).
pub fn member_set(planned: &[Planned], parent: &Parent) -> Recorded {
    let mut r = Recorded::default();
    r.namespaces.insert(parent.namespace.clone());
    for p in planned {
        r.group_kinds.insert(p.group_kind());
        r.namespaces.insert(p.namespace.clone());
    }
    r
}

fn parent_api(target: &Target, parent: &Parent) -> Api<DynamicObject> {
    let ar = api_resource("v1", parent.kind.kind(), parent.kind.plural());
    Api::namespaced_with(target.client.clone(), &parent.namespace, &ar)
}

/// Reads the ApplySet parent: `None` when it does not exist yet.
pub async fn read_parent(
    target: &Target,
    parent: &Parent,
) -> Result<Option<Recorded>, ClusterError> {
    let api = parent_api(target, parent);
    let what = display(parent.kind.kind(), "", &parent.name);
    let live = with_retry(target, "read", &what, || api.get_opt(&parent.name)).await?;
    match live {
        None => Ok(None),
        Some(obj) => {
            let v = serde_json::to_value(&obj).unwrap_or_default();
            applyset::read_parent(parent, &v)
                .map(Some)
                .map_err(ClusterError::ApplySet)
        }
    }
}

async fn write_parent(
    target: &Target,
    parent: &Parent,
    set: &Recorded,
    dry_run: bool,
) -> Result<(), ClusterError> {
    let api = parent_api(target, parent);
    let body = parent.body(&set.group_kinds, &set.namespaces);
    // The parent is ours alone: take its fields back if someone touched them.
    let mut pp = PatchParams::apply(FIELD_MANAGER).force();
    pp.dry_run = dry_run;
    let what = display(parent.kind.kind(), "", &parent.name);
    let patch = Patch::Apply(&body);
    with_retry(target, "apply", &what, || {
        api.patch(&parent.name, &pp, &patch)
    })
    .await?;
    Ok(())
}

async fn apply_one(
    target: &Target,
    p: &Planned,
    opts: &ApplyOptions,
) -> Result<Outcome, ClusterError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(target.client.clone(), &p.namespace, &p.api_resource());
    let what = p.display();
    let before = with_retry(target, "read", &what, || api.get_opt(&p.name)).await?;
    let mut pp = PatchParams::apply(FIELD_MANAGER);
    pp.force = opts.force_conflicts;
    pp.dry_run = opts.dry_run;
    let patch = Patch::Apply(&p.body);
    let after = with_retry(target, "apply", &what, || api.patch(&p.name, &pp, &patch)).await?;
    Ok(match before {
        None => Outcome::Created,
        Some(before) => {
            let unchanged = if opts.dry_run {
                // A dry-run update keeps the live resourceVersion even when the object would change.
                super::diff::comparable(&serde_json::to_value(&before).unwrap_or_default())
                    == super::diff::comparable(&serde_json::to_value(&after).unwrap_or_default())
            } else {
                before.metadata.resource_version == after.metadata.resource_version
            };
            if unchanged {
                Outcome::Unchanged
            } else {
                Outcome::Configured
            }
        }
    })
}

/// A live ApplySet member that the script no longer produces.
#[derive(Debug, Clone)]
pub struct Stale {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: Option<String>,
    pub rank: u8,
    pub live: serde_json::Value,
}

impl Stale {
    pub fn display(&self) -> String {
        let group = self.api_version.split_once('/').map_or("", |(g, _)| g);
        display(&self.kind, group, &self.name)
    }
}

/// Members recorded in the ApplySet (by label, in its recorded kinds and namespaces) that are not planned,
/// in deletion order: users before what they use (Pipelines, then Tasks, then StepActions), then by name.
pub async fn stale_members(
    target: &Target,
    planned: &[Planned],
    recorded: &Recorded,
    id: &str,
) -> Result<Vec<Stale>, ClusterError> {
    let keep: BTreeSet<(String, String, String)> = planned
        .iter()
        .map(|p| (p.group_kind(), p.namespace.clone(), p.name.clone()))
        .collect();
    let mut stale = Vec::new();
    for gk in &recorded.group_kinds {
        let Some((api_version, kind)) = tekton_api_version(gk) else {
            eprintln!(
                "warning: the ApplySet records kind {gk}, which tekscript does not manage; not pruning it"
            );
            continue;
        };
        let ar = api_resource(api_version, kind, &plural_of(kind));
        for ns in &recorded.namespaces {
            let api: Api<DynamicObject> = Api::namespaced_with(target.client.clone(), ns, &ar);
            let lp = ListParams::default().labels(&format!("{}={id}", applyset::LABEL_PART_OF));
            let what = format!("{} in namespace {ns}", ar.plural);
            let list = with_retry(target, "list", &what, || api.list(&lp)).await?;
            for obj in list.items {
                let name = obj.metadata.name.clone().unwrap_or_default();
                if keep.contains(&(gk.clone(), ns.clone(), name.clone())) {
                    continue;
                }
                let rank = match kind {
                    "Pipeline" => 0,
                    "Task" => 1,
                    _ => 2,
                };
                stale.push(Stale {
                    api_version: api_version.to_string(),
                    kind: kind.to_string(),
                    namespace: ns.clone(),
                    name,
                    uid: obj.metadata.uid.clone(),
                    rank,
                    live: serde_json::to_value(&obj).unwrap_or_default(),
                });
            }
        }
    }
    stale.sort_by(|a, b| (a.rank, &a.namespace, &a.name).cmp(&(b.rank, &b.namespace, &b.name)));
    Ok(stale)
}

async fn prune_one(target: &Target, m: &Stale, dry_run: bool) -> ObjectResult {
    let ar = api_resource(&m.api_version, &m.kind, &plural_of(&m.kind));
    let api: Api<DynamicObject> = Api::namespaced_with(target.client.clone(), &m.namespace, &ar);
    let dp = DeleteParams {
        dry_run,
        // Never delete a different object that took the name since we listed it.
        preconditions: m.uid.clone().map(|uid| Preconditions {
            uid: Some(uid),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let what = m.display();
    let outcome = match with_retry(target, "delete", &what, || api.delete(&m.name, &dp)).await {
        Ok(_) => Outcome::Pruned,
        // Already gone (e.g. a retried delete): the goal is reached.
        Err(ClusterError::Api { code: 404, .. }) => Outcome::Pruned,
        Err(e) => Outcome::Failed(e),
    };
    ObjectResult {
        display: what,
        namespace: m.namespace.clone(),
        outcome,
    }
}
