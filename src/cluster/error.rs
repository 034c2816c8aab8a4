//! Errors of the cluster commands, worded for people: each names what was being done, to which object,
//! and what to do about it. [`ClusterError::from_kube`] maps kube's errors onto them.

use kube::core::Status;
use std::fmt;

/// Something went wrong talking to the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterError {
    /// No kubeconfig and not inside a pod.
    NoConfig,
    /// The kubeconfig could not be read or has no usable context.
    BadConfig(String),
    /// TCP/TLS/HTTP trouble reaching the API server (after retries).
    Unreachable { server: String, detail: String },
    /// 401: the credentials were refused.
    Unauthorized { server: String, context: String },
    /// `tekton.dev/<version>` is not served.
    TektonMissing {
        server: String,
        api_version: String,
        kinds: Vec<String>,
    },
    /// The namespace objects go to does not exist.
    NamespaceMissing(String),
    /// 403 for one verb on one resource.
    Forbidden {
        verb: String,
        what: String,
        message: String,
    },
    /// A server-side apply conflict with other field managers.
    Conflict {
        what: String,
        message: String,
        fields: Vec<(String, String)>,
    },
    /// Any other answer of the API server.
    Api {
        verb: String,
        what: String,
        code: u16,
        reason: String,
        message: String,
    },
    /// The ApplySet parent is managed by another tool or is malformed.
    ApplySet(String),
    /// The request did not finish within the request timeout.
    Timeout {
        verb: String,
        what: String,
        secs: u64,
    },
    /// Usage problems found before talking to the cluster (e.g. namespace mismatch).
    Usage(String),
}

impl ClusterError {
    /// Maps a kube error that happened while doing `verb` (e.g. "apply") to `what`
    /// (e.g. `task.tekton.dev/git-clone`).
    pub fn from_kube(err: &kube::Error, verb: &str, what: &str, server: &str) -> ClusterError {
        match err {
            kube::Error::Api(status) => Self::from_status(status, verb, what, server),
            kube::Error::Auth(e) => ClusterError::Unauthorized {
                server: server.to_string(),
                context: format!("credentials could not be obtained: {e}"),
            },
            other => ClusterError::Unreachable {
                server: server.to_string(),
                detail: transport_detail(other),
            },
        }
    }

    fn from_status(s: &Status, verb: &str, what: &str, server: &str) -> ClusterError {
        let details = s.details.as_ref();
        match s.code {
            401 => ClusterError::Unauthorized {
                server: server.to_string(),
                context: s.message.clone(),
            },
            403 => ClusterError::Forbidden {
                verb: verb.to_string(),
                what: what.to_string(),
                message: s.message.clone(),
            },
            404 if details.is_some_and(|d| d.kind == "namespaces") => {
                ClusterError::NamespaceMissing(details.map(|d| d.name.clone()).unwrap_or_default())
            }
            409 if details
                .is_some_and(|d| d.causes.iter().any(|c| c.reason == "FieldManagerConflict")) =>
            {
                let fields = details
                    .map(|d| {
                        d.causes
                            .iter()
                            .filter(|c| c.reason == "FieldManagerConflict")
                            .map(|c| (manager_of(&c.message), c.field.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                ClusterError::Conflict {
                    what: what.to_string(),
                    message: s.message.clone(),
                    fields,
                }
            }
            code => ClusterError::Api {
                verb: verb.to_string(),
                what: what.to_string(),
                code,
                reason: s.reason.clone(),
                message: s.message.clone(),
            },
        }
    }

    /// Errors about the environment rather than one object: no point trying the next object.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ClusterError::NoConfig
                | ClusterError::BadConfig(_)
                | ClusterError::Unreachable { .. }
                | ClusterError::Unauthorized { .. }
                | ClusterError::TektonMissing { .. }
                | ClusterError::NamespaceMissing(_)
        )
    }
}

/// `conflict with "kubectl"` / `conflict with "kubectl" using v1` → `kubectl`.
fn manager_of(message: &str) -> String {
    message
        .split('"')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| message.to_string())
}

/// The innermost useful cause of a transport error (`Connection refused (os error 111)`).
fn transport_detail(err: &kube::Error) -> String {
    let mut msg = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::NoConfig => write!(
                f,
                "no Kubernetes configuration found: set KUBECONFIG, pass --kubeconfig FILE, create ~/.kube/config, \
                 or run inside a pod"
            ),
            ClusterError::BadConfig(m) => write!(f, "cannot use the kubeconfig: {m}"),
            ClusterError::Unreachable { server, detail } => write!(
                f,
                "cannot reach the Kubernetes API server at {server}: {detail}\n  \
                 help: check that the cluster is running and that the kubeconfig's server address is right \
                 (`kubectl cluster-info`)"
            ),
            ClusterError::Unauthorized { server, context } => write!(
                f,
                "the API server at {server} refused the credentials (401 Unauthorized): {context}\n  \
                 help: the token or certificate may have expired; log in again or refresh the kubeconfig"
            ),
            ClusterError::TektonMissing {
                server,
                api_version,
                kinds,
            } => write!(
                f,
                "{api_version} is not served by this cluster ({server}) — is Tekton installed? \
                 (needed for {})\n  help: install Tekton Pipelines, or point --context/--kubeconfig at a cluster \
                 that has it (`kubectl api-resources --api-group=tekton.dev`)",
                kinds.join(", ")
            ),
            ClusterError::NamespaceMissing(ns) => write!(
                f,
                "namespace \"{ns}\" does not exist\n  help: create it with `kubectl create namespace {ns}`, \
                 or choose another with -n/--namespace"
            ),
            ClusterError::Forbidden {
                verb,
                what,
                message,
            } => write!(
                f,
                "not allowed to {verb} {what}: {message}\n  help: ask for RBAC permission to {verb} this resource \
                 (`kubectl auth can-i {} ...`), or use another --context",
                rbac_verb(verb)
            ),
            ClusterError::Conflict {
                what,
                message,
                fields,
            } => {
                write!(f, "conflict applying {what}: ")?;
                if fields.is_empty() {
                    write!(f, "{message}")?;
                } else {
                    write!(f, "fields are owned by other field managers:")?;
                    for (manager, field) in fields {
                        write!(f, "\n    {field} (owned by \"{manager}\")")?;
                    }
                }
                write!(
                    f,
                    "\n  help: the script sets a different value than another tool did. Either\n    \
                     - re-run with --force-conflicts to take ownership of these fields (the other tool may \
                     change them back),\n    \
                     - remove the fields from the script so the other manager keeps them, or\n    \
                     - set the same value as the live object, to co-own the fields"
                )
            }
            ClusterError::Api {
                verb,
                what,
                code,
                reason,
                message,
            } => {
                if reason.is_empty() {
                    write!(f, "{verb} {what} failed ({code}): {message}")
                } else {
                    write!(f, "{verb} {what} failed ({code} {reason}): {message}")
                }
            }
            ClusterError::ApplySet(m) => write!(f, "{m}"),
            ClusterError::Timeout { verb, what, secs } => write!(
                f,
                "{verb} {what} did not finish within {secs}s (--request-timeout)"
            ),
            ClusterError::Usage(m) => write!(f, "{m}"),
        }
    }
}

/// The RBAC verb behind one of our verbs.
fn rbac_verb(verb: &str) -> &str {
    match verb {
        "apply" | "dry-run apply" => "patch",
        "read" => "get",
        other => other,
    }
}

impl std::error::Error for ClusterError {}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::response::{StatusCause, StatusDetails};

    fn status(
        code: u16,
        reason: &str,
        message: &str,
        details: Option<StatusDetails>,
    ) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            status: None,
            code,
            message: message.to_string(),
            metadata: None,
            reason: reason.to_string(),
            details,
        }))
    }

    fn details(name: &str, kind: &str, causes: Vec<StatusCause>) -> StatusDetails {
        StatusDetails {
            name: name.into(),
            group: String::new(),
            kind: kind.into(),
            uid: String::new(),
            causes,
            retry_after_seconds: 0,
        }
    }

    #[test]
    fn ssa_conflicts_name_manager_and_field() {
        let e = status(
            409,
            "Conflict",
            "Apply failed with 1 conflict: conflict with \"other\": .spec.description",
            Some(details(
                "",
                "",
                vec![StatusCause {
                    reason: "FieldManagerConflict".into(),
                    message: "conflict with \"other\"".into(),
                    field: ".spec.description".into(),
                }],
            )),
        );
        let c = ClusterError::from_kube(&e, "apply", "task.tekton.dev/a", "https://x");
        assert_eq!(
            c,
            ClusterError::Conflict {
                what: "task.tekton.dev/a".into(),
                message: "Apply failed with 1 conflict: conflict with \"other\": .spec.description"
                    .into(),
                fields: vec![("other".into(), ".spec.description".into())],
            }
        );
        let text = c.to_string();
        assert!(
            text.contains(".spec.description (owned by \"other\")"),
            "{text}"
        );
        assert!(text.contains("--force-conflicts"), "{text}");
    }

    #[test]
    fn optimistic_lock_conflict_is_plain_api_error() {
        let e = status(409, "Conflict", "the object has been modified", None);
        assert!(matches!(
            ClusterError::from_kube(&e, "apply", "x", "s"),
            ClusterError::Api { code: 409, .. }
        ));
    }

    #[test]
    fn missing_namespace_and_forbidden() {
        let e = status(
            404,
            "NotFound",
            "namespaces \"nope\" not found",
            Some(details("nope", "namespaces", vec![])),
        );
        let c = ClusterError::from_kube(&e, "apply", "x", "s");
        assert_eq!(c, ClusterError::NamespaceMissing("nope".into()));
        assert!(c.is_fatal());
        assert!(c.to_string().contains("kubectl create namespace nope"));

        let e = status(
            403,
            "Forbidden",
            "tasks.tekton.dev \"a\" is forbidden: User \"bob\" cannot patch resource \"tasks\" in API group \"tekton.dev\" in the namespace \"default\"",
            None,
        );
        let c = ClusterError::from_kube(&e, "apply", "task.tekton.dev/a", "s");
        assert!(!c.is_fatal());
        let t = c.to_string();
        assert!(
            t.starts_with(
                "not allowed to apply task.tekton.dev/a: tasks.tekton.dev \"a\" is forbidden"
            ),
            "{t}"
        );
        assert!(t.contains("kubectl auth can-i patch"), "{t}");
    }

    #[test]
    fn unauthorized_is_fatal() {
        let e = status(401, "Unauthorized", "Unauthorized", None);
        let c = ClusterError::from_kube(&e, "read", "x", "https://h:1");
        assert!(c.is_fatal());
        assert!(c.to_string().contains("401 Unauthorized"));
    }
}
