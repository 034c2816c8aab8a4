//! Where steps run: a container engine through its CLI (`podman`, `docker`), or this machine's shell
//! (`host`). Everything that starts or stops a process of a run goes through here.

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// The runtime the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// podman when it works, else docker.
    Auto,
    Podman,
    Docker,
    Host,
}

/// A container engine CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Podman,
    Docker,
}

impl Engine {
    pub fn bin(self) -> &'static str {
        match self {
            Engine::Podman => "podman",
            Engine::Docker => "docker",
        }
    }
}

/// The runtime a run uses.
#[derive(Debug)]
pub enum Runtime {
    Containers {
        engine: Engine,
        /// Images checked (and pulled) so far: image → Ok, or the engine's error.
        images: Mutex<HashMap<String, Result<(), String>>>,
    },
    Host,
}

/// Runs a command to its end with a bound on the time; (success, stdout, stderr).
pub fn output(cmd: &mut Command, limit: Duration) -> Result<(bool, String, String), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let ereader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not finish within {}s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let stdout = reader.join().unwrap_or_default();
    let stderr = ereader.join().unwrap_or_default();
    Ok((status.success(), stdout, stderr))
}

fn works(engine: Engine) -> Result<(), String> {
    let mut cmd = Command::new(engine.bin());
    match engine {
        Engine::Podman => cmd.args(["info", "--format", "{{.Host.OCIRuntime.Name}}"]),
        Engine::Docker => cmd.args(["info", "--format", "{{.ServerVersion}}"]),
    };
    match output(&mut cmd, Duration::from_secs(30)) {
        Ok((true, _, _)) => Ok(()),
        Ok((false, _, err)) => Err(err.lines().last().unwrap_or("").trim().to_string()),
        Err(e) => Err(e),
    }
}

/// Picks the runtime: `--runtime`, or podman when it works, else docker when its daemon answers.
pub fn detect(choice: Choice) -> Result<Runtime, String> {
    let containers = |engine| Runtime::Containers {
        engine,
        images: Mutex::new(HashMap::new()),
    };
    match choice {
        Choice::Host => Ok(Runtime::Host),
        Choice::Podman | Choice::Docker => {
            let engine = if choice == Choice::Podman {
                Engine::Podman
            } else {
                Engine::Docker
            };
            works(engine).map_err(|e| {
                format!(
                    "--runtime {}: `{} info` failed: {e}",
                    engine.bin(),
                    engine.bin()
                )
            })?;
            Ok(containers(engine))
        }
        Choice::Auto => {
            let mut why = Vec::new();
            for engine in [Engine::Podman, Engine::Docker] {
                match works(engine) {
                    Ok(()) => return Ok(containers(engine)),
                    Err(e) => why.push(format!(
                        "{}: {}",
                        engine.bin(),
                        if e.contains("No such file") || e.contains("not found") {
                            "not installed".to_string()
                        } else {
                            e
                        }
                    )),
                }
            }
            Err(format!(
                "no container runtime found ({}); install podman or docker, or run the steps with this \
                 machine's tools: --runtime host",
                why.join("; ")
            ))
        }
    }
}

impl Runtime {
    pub fn name(&self) -> &'static str {
        match self {
            Runtime::Containers { engine, .. } => engine.bin(),
            Runtime::Host => "host",
        }
    }

    pub fn engine(&self) -> Option<Engine> {
        match self {
            Runtime::Containers { engine, .. } => Some(*engine),
            Runtime::Host => None,
        }
    }

    /// Makes sure `image` is there: present, or pulled. The engine's message when it cannot be had.
    pub fn ensure_image(&self, image: &str, policy: Option<&str>) -> Result<(), String> {
        let Runtime::Containers { engine, images } = self else {
            return Ok(());
        };
        let mut known = images.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = known.get(image) {
            return r.clone();
        }
        let bin = engine.bin();
        let present = match engine {
            Engine::Podman => output(
                Command::new(bin).args(["image", "exists", image]),
                Duration::from_secs(60),
            )
            .is_ok_and(|o| o.0),
            Engine::Docker => output(
                Command::new(bin).args(["image", "inspect", "--format", "{{.Id}}", image]),
                Duration::from_secs(60),
            )
            .is_ok_and(|o| o.0),
        };
        let result = if present && policy != Some("Always") {
            Ok(())
        } else if policy == Some("Never") {
            Err(format!(
                "Container image \"{image}\" is not present with pull policy of Never"
            ))
        } else {
            match output(
                Command::new(bin).args(["pull", "--quiet", image]),
                Duration::from_secs(3600),
            ) {
                Ok((true, _, _)) => Ok(()),
                Ok((false, _, err)) if present => {
                    // imagePullPolicy Always with no registry: the local copy is used
                    let _ = err;
                    Ok(())
                }
                Ok((false, _, err)) => Err(last_line(&err)),
                Err(e) => Err(e),
            }
        };
        known.insert(image.to_string(), result.clone());
        result
    }

    /// Stops a container: SIGTERM, then SIGKILL after `grace` (immediately when `grace` is zero).
    pub fn stop_container(&self, name: &str, grace: Duration) {
        let Some(engine) = self.engine() else { return };
        let mut cmd = Command::new(engine.bin());
        if grace.is_zero() {
            cmd.args(["kill", name]);
        } else {
            cmd.args(["stop", "-t", &grace.as_secs().max(1).to_string(), name]);
        }
        let _ = output(&mut cmd, grace + Duration::from_secs(30));
    }

    /// Removes a container whatever its state.
    pub fn remove_container(&self, name: &str) {
        let Some(engine) = self.engine() else { return };
        let mut cmd = Command::new(engine.bin());
        match engine {
            Engine::Podman => cmd.args(["rm", "-f", "-t", "0", name]),
            Engine::Docker => cmd.args(["rm", "-f", name]),
        };
        let _ = output(&mut cmd, Duration::from_secs(60));
    }

    /// Removes every container labelled for this run (what a stopped step may have left).
    pub fn remove_labelled(&self, label: &str) {
        let Some(engine) = self.engine() else { return };
        let Ok((true, ids, _)) = output(
            Command::new(engine.bin()).args([
                "ps",
                "-a",
                "-q",
                "--filter",
                &format!("label={label}"),
            ]),
            Duration::from_secs(60),
        ) else {
            return;
        };
        for id in ids.split_whitespace() {
            self.remove_container(id);
        }
    }

    /// `exec` readiness probe of a running sidecar: true when the command exits 0.
    pub fn probe(&self, container: &str, command: &[String]) -> bool {
        let Some(engine) = self.engine() else {
            return true;
        };
        let mut cmd = Command::new(engine.bin());
        cmd.arg("exec").arg(container).args(command);
        output(&mut cmd, Duration::from_secs(30)).is_ok_and(|o| o.0)
    }
}

fn last_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("the image cannot be pulled")
        .trim_start_matches("Error: ")
        .to_string()
}

/// Rewrites an image with the first matching `--image-map PATTERN=IMAGE` (`*` in the pattern matches
/// any text, which `*` in the replacement repeats).
pub fn map_image(image: &str, map: &[(String, String)]) -> String {
    for (pattern, to) in map {
        if let Some(star) = pattern.find('*') {
            let (pre, post) = (&pattern[..star], &pattern[star + 1..]);
            if image.len() >= pre.len() + post.len()
                && image.starts_with(pre)
                && image.ends_with(post)
            {
                let matched = &image[pre.len()..image.len() - post.len()];
                return to.replacen('*', matched, 1);
            }
        } else if pattern == image {
            return to.clone();
        }
    }
    image.to_string()
}

/// A Kubernetes quantity as a plain number (`500m` → 0.5, `1Gi` → 1073741824).
pub fn quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mul = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        s if s.starts_with('e') || s.starts_with('E') => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(n * mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_map() {
        let map = vec![
            (
                "docker.io/library/*".to_string(),
                "mirror.local/*".to_string(),
            ),
            (
                "alpine:3.20".to_string(),
                "localhost/test/busybox:1".to_string(),
            ),
            ("*".to_string(), "localhost/test/busybox:1".to_string()),
        ];
        assert_eq!(
            map_image("docker.io/library/golang:1.24", &map),
            "mirror.local/golang:1.24"
        );
        assert_eq!(map_image("alpine:3.20", &map), "localhost/test/busybox:1");
        assert_eq!(map_image("gcr.io/x/y", &map), "localhost/test/busybox:1");
        assert_eq!(map_image("a", &[]), "a");
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("2"), Some(2.0));
        assert_eq!(quantity("1Gi"), Some(1073741824.0));
        assert_eq!(quantity("128M"), Some(128e6));
        assert_eq!(quantity("x"), None);
    }
}
