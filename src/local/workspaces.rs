//! Host directories for a run's workspaces and volumes, and values from `--secret-dir` (Secrets and
//! ConfigMaps as `DIR/NAME/KEY` files).

use crate::model::WorkspaceBinding;
use k8s_openapi::api::core::v1::{KeyToPath, Volume};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What backs a pipeline workspace on this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct HostWorkspace {
    pub dir: PathBuf,
    /// `$(workspaces.W.claim)`.
    pub claim: Option<String>,
    /// Secrets and ConfigMaps are mounted read-only whatever the Task says.
    pub read_only: bool,
    /// `emptyDir`, `persistentVolumeClaim`, …, or `directory` for `-w NAME=DIR`.
    pub kind: &'static str,
}

/// Makes a directory (and its parents); an error message naming it.
pub fn mkdir(p: &Path) -> Result<(), String> {
    std::fs::create_dir_all(p).map_err(|e| format!("cannot create {}: {e}", p.display()))
}

/// The directory of Secret/ConfigMap `name` under `--secret-dir`.
pub fn secret_path(secret_dir: Option<&Path>, kind: &str, name: &str) -> Result<PathBuf, String> {
    let Some(root) = secret_dir else {
        return Err(format!(
            "{kind} {name:?} is needed: give its keys as files with --secret-dir DIR (DIR/{name}/KEY)"
        ));
    };
    let p = root.join(name);
    if p.is_dir() {
        Ok(p)
    } else {
        Err(format!(
            "{kind} {name:?} is needed but {} is not a directory (--secret-dir DIR holds DIR/{name}/KEY files)",
            p.display()
        ))
    }
}

/// One key of a Secret/ConfigMap.
pub fn secret_value(
    secret_dir: Option<&Path>,
    kind: &str,
    name: &str,
    key: &str,
) -> Result<String, String> {
    let dir = secret_path(secret_dir, kind, name)?;
    let f = dir.join(key);
    std::fs::read_to_string(&f).map_err(|e| {
        format!(
            "{kind} {name:?} has no key {key:?}: cannot read {}: {e}",
            f.display()
        )
    })
}

/// Every key of a Secret/ConfigMap, in name order.
pub fn secret_entries(
    secret_dir: Option<&Path>,
    kind: &str,
    name: &str,
) -> Result<Vec<(String, String)>, String> {
    let dir = secret_path(secret_dir, kind, name)?;
    let mut out = Vec::new();
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let p = e.path();
        if !p.is_file() {
            continue;
        }
        let key = e.file_name().to_string_lossy().to_string();
        if key.starts_with('.') {
            continue;
        }
        let v = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        out.push((key, v));
    }
    out.sort();
    Ok(out)
}

/// A Secret/ConfigMap directory, restricted to `items` (copied to `into`) when given.
fn projected(
    secret_dir: Option<&Path>,
    kind: &str,
    name: &str,
    items: Option<&Vec<KeyToPath>>,
    into: &Path,
) -> Result<PathBuf, String> {
    let src = secret_path(secret_dir, kind, name)?;
    let Some(items) = items.filter(|i| !i.is_empty()) else {
        return Ok(src);
    };
    mkdir(into)?;
    for it in items {
        let from = src.join(&it.key);
        let to = into.join(&it.path);
        if let Some(parent) = to.parent() {
            mkdir(parent)?;
        }
        std::fs::copy(&from, &to).map_err(|e| {
            format!(
                "{kind} {name:?} has no key {:?}: cannot read {}: {e}",
                it.key,
                from.display()
            )
        })?;
    }
    Ok(into.to_path_buf())
}

/// Host directories for the run's workspace bindings. `dirs` are the `-w NAME=DIR` bindings; the others
/// get fresh directories under `rundir` (shared by every task of the run), claims by claim name.
pub fn prepare(
    bindings: &[WorkspaceBinding],
    dirs: &BTreeMap<String, PathBuf>,
    rundir: &Path,
    secret_dir: Option<&Path>,
) -> Result<BTreeMap<String, HostWorkspace>, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for b in bindings {
        let fresh = rundir.join("workspaces").join(&b.name);
        let got: Result<HostWorkspace, String> = if let Some(d) = dirs.get(&b.name) {
            Ok(HostWorkspace {
                dir: d.clone(),
                claim: None,
                read_only: false,
                kind: "directory",
            })
        } else if b.empty_dir.is_some() || b.volume_claim_template.is_some() {
            mkdir(&fresh).map(|_| HostWorkspace {
                dir: fresh.clone(),
                claim: None,
                read_only: false,
                kind: if b.empty_dir.is_some() {
                    "emptyDir"
                } else {
                    "volumeClaimTemplate"
                },
            })
        } else if let Some(pvc) = &b.persistent_volume_claim {
            let d = rundir.join("claims").join(&pvc.claim_name);
            mkdir(&d).map(|_| HostWorkspace {
                dir: d.clone(),
                claim: Some(pvc.claim_name.clone()),
                read_only: pvc.read_only == Some(true),
                kind: "persistentVolumeClaim",
            })
        } else if let Some(s) = &b.secret {
            let name = s.secret_name.clone().unwrap_or_default();
            projected(secret_dir, "secret", &name, s.items.as_ref(), &fresh).map(|d| {
                HostWorkspace {
                    dir: d,
                    claim: None,
                    read_only: true,
                    kind: "secret",
                }
            })
        } else if let Some(c) = &b.config_map {
            projected(secret_dir, "configMap", &c.name, c.items.as_ref(), &fresh).map(|d| {
                HostWorkspace {
                    dir: d,
                    claim: None,
                    read_only: true,
                    kind: "configMap",
                }
            })
        } else {
            Err(format!(
                "is bound to a {} volume, which run --local cannot provide: bind it with -w {}=DIR or -w {}=emptyDir",
                b.sources().join("/"),
                b.name,
                b.name
            ))
        };
        match got {
            Ok(mut w) => {
                if let Some(sp) = b.sub_path.as_deref().filter(|s| !s.is_empty()) {
                    w.dir = w.dir.join(sp);
                    if let Err(e) = mkdir(&w.dir) {
                        problems.push(format!("workspace {:?}: {e}", b.name));
                        continue;
                    }
                }
                out.insert(b.name.clone(), w);
            }
            Err(e) => problems.push(format!("workspace {:?}: {e}", b.name)),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A host directory for one of a Task's `volumes`: emptyDir under the attempt, claims shared by the
/// run, Secrets/ConfigMaps from `--secret-dir` (read-only). `(dir, read_only)`.
pub fn volume(
    v: &Volume,
    attempt_dir: &Path,
    rundir: &Path,
    secret_dir: Option<&Path>,
) -> Result<(PathBuf, bool), String> {
    let fresh = attempt_dir.join("volumes").join(&v.name);
    if v.empty_dir.is_some() {
        mkdir(&fresh)?;
        return Ok((fresh, false));
    }
    if let Some(pvc) = &v.persistent_volume_claim {
        let d = rundir.join("claims").join(&pvc.claim_name);
        mkdir(&d)?;
        return Ok((d, pvc.read_only == Some(true)));
    }
    if let Some(s) = &v.secret {
        let name = s.secret_name.clone().unwrap_or_default();
        let optional = s.optional == Some(true);
        return match projected(secret_dir, "secret", &name, s.items.as_ref(), &fresh) {
            Ok(d) => Ok((d, true)),
            Err(_) if optional => {
                mkdir(&fresh)?;
                Ok((fresh, true))
            }
            Err(e) => Err(e),
        };
    }
    if let Some(c) = &v.config_map {
        let optional = c.optional == Some(true);
        return match projected(secret_dir, "configMap", &c.name, c.items.as_ref(), &fresh) {
            Ok(d) => Ok((d, true)),
            Err(_) if optional => {
                mkdir(&fresh)?;
                Ok((fresh, true))
            }
            Err(e) => Err(e),
        };
    }
    Err(format!(
        "volume {:?} is of a kind run --local cannot provide (emptyDir, persistentVolumeClaim, secret and configMap volumes are)",
        v.name
    ))
}

/// Copies a directory tree (a read-only workspace for the host runtime, which cannot mount one).
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    mkdir(to)?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for e in entries.flatten() {
        let src = e.path();
        let dst = to.join(e.file_name());
        let ft = e
            .file_type()
            .map_err(|e| format!("{}: {e}", src.display()))?;
        if ft.is_dir() {
            copy_tree(&src, &dst)?;
        } else if ft.is_symlink() {
            if let Ok(target) = std::fs::read_link(&src) {
                let _ = std::os::unix::fs::symlink(target, &dst);
            }
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_get_directories() {
        let root = std::env::temp_dir().join(format!("tekscript-ws-test-{}", std::process::id()));
        let secrets = root.join("secrets");
        std::fs::create_dir_all(secrets.join("creds")).unwrap();
        std::fs::write(secrets.join("creds/token"), "t0k").unwrap();
        let bindings: Vec<WorkspaceBinding> = serde_json::from_value(serde_json::json!([
            {"name": "a", "emptyDir": {}},
            {"name": "b", "persistentVolumeClaim": {"claimName": "c1"}, "subPath": "x"},
            {"name": "s", "secret": {"secretName": "creds"}},
            {"name": "m", "configMap": {"name": "nope"}},
            {"name": "mine", "emptyDir": {}},
        ]))
        .unwrap();
        let dirs = BTreeMap::from([("mine".to_string(), root.join("checkout"))]);
        let run = root.join("run");
        let err = prepare(&bindings, &dirs, &run, Some(&secrets)).unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(
            err[0].starts_with("workspace \"m\": configMap \"nope\" is needed but"),
            "{err:?}"
        );
        let ok = prepare(&bindings[..3], &dirs, &run, Some(&secrets)).unwrap();
        assert_eq!(ok["a"].dir, run.join("workspaces/a"));
        assert_eq!(ok["b"].dir, run.join("claims/c1/x"));
        assert_eq!(ok["b"].claim.as_deref(), Some("c1"));
        assert!(ok["s"].read_only);
        assert_eq!(
            secret_value(Some(&secrets), "secret", "creds", "token").unwrap(),
            "t0k"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
