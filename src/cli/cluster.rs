//! Flags shared by the commands that talk to a cluster (the kubectl ones), and the ApplySet flags.

use crate::cluster::applyset::Parent;
use crate::cluster::{ClusterError, Connection};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context)
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Namespace for objects that do not set one (default: the context's namespace)
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Give up on a request after this many seconds (each retry gets the full time)
    #[arg(long = "request-timeout", value_name = "SECONDS", default_value_t = 30)]
    request_timeout: u64,
}

impl ClusterArgs {
    /// The connection settings: the flags, else tekscript.toml's `[cluster]` defaults.
    pub fn connection(&self) -> Connection {
        let (namespace, context) = super::project::cluster_defaults();
        Connection {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone().or(context),
            namespace: self.namespace.clone().or(namespace),
            request_timeout: Duration::from_secs(self.request_timeout.max(1)),
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplySetArgs {
    /// Delete objects applied earlier from this script that it no longer produces (ApplySet prune)
    #[arg(long)]
    pub prune: bool,
    /// The ApplySet parent recording what this script applied: [configmaps/|secrets/]NAME
    /// (default: configmaps/tekscript-<script file name>); `none`: apply without recording (no --prune)
    #[arg(long, value_name = "PARENT")]
    pub applyset: Option<String>,
    /// Take ownership of fields other field managers own, instead of failing with a conflict
    #[arg(long = "force-conflicts")]
    pub force_conflicts: bool,
    /// Requests in flight at once
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
}

/// What `apply`/`diff` send for a compilation: the planned objects, the ones left out, the ApplySet parent.
pub struct Plan {
    pub planned: Vec<crate::cluster::Planned>,
    pub skipped: Vec<crate::cluster::Skipped>,
    pub parent: Option<Parent>,
}

impl ApplySetArgs {
    /// Plans `compiled` for the connected cluster (its namespace, `-n` rules) and picks the ApplySet parent.
    pub fn plan(
        &self,
        compiled: &crate::Compilation,
        script: &Path,
        target: &crate::cluster::Target,
    ) -> Result<Plan, ClusterError> {
        let (planned, skipped) = crate::cluster::objects::plan(
            compiled.bundle.bundle().objects.iter().map(|o| &o.resource),
            &target.namespace,
            target.namespace_explicit,
        )?;
        Ok(Plan {
            planned,
            skipped,
            parent: self.parent(script, &target.namespace)?,
        })
    }

    pub fn parent(&self, script: &Path, namespace: &str) -> Result<Option<Parent>, ClusterError> {
        match self.applyset.as_deref() {
            Some("none") if self.prune => Err(ClusterError::Usage(
                "--prune needs an ApplySet to know what was applied before; drop `--applyset none`"
                    .into(),
            )),
            Some("none") => Ok(None),
            Some(spec) => Parent::parse(spec, namespace)
                .map(Some)
                .map_err(ClusterError::Usage),
            None => {
                let stem = script
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Ok(Some(Parent::for_script(&stem, namespace)))
            }
        }
    }
}

/// Prints a cluster error and maps it to the exit status: problems of the user's objects (conflicts,
/// invalid objects, namespace mismatches) are 1, the environment failing is 2.
pub fn report_error(e: &ClusterError) -> super::ExitStatus {
    eprintln!("error: {e}");
    match e {
        ClusterError::Usage(_) | ClusterError::ApplySet(_) => super::ExitStatus::Failure,
        _ => super::ExitStatus::Error,
    }
}
