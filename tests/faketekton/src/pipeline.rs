//! Reading a Pipeline spec (JSON) the way Tekton's reconciler sees it: the DAG (runAfter + result
//! references), `when` expressions, `$(…)` substitution, step names of embedded task specs.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::duration::parse_go_duration;

/// One `when` expression.
#[derive(Clone, Debug)]
pub(crate) struct When {
    pub input: String,
    pub operator: String,
    pub values: Vec<String>,
    /// CEL expressions are not evaluated (treated as true).
    pub cel: Option<String>,
}

/// One `tasks[]` or `finally[]` entry.
#[derive(Clone, Debug)]
pub(crate) struct PipelineTask {
    pub name: String,
    pub display_name: Option<String>,
    pub finally: bool,
    /// runAfter ∪ producers of `$(tasks.X.results…)` references, sorted, without self.
    pub deps: Vec<String>,
    /// Producers of result references only.
    pub result_producers: Vec<String>,
    pub when: Vec<When>,
    pub when_raw: Option<Value>,
    pub retries: u32,
    pub timeout: Option<Duration>,
    pub on_error_continue: bool,
    pub raw: Value,
}

impl PipelineTask {
    /// `taskSpec` of an embedded task.
    pub fn task_spec(&self) -> Option<&Value> {
        self.raw.get("taskSpec")
    }
    /// `taskRef.name`.
    pub fn task_ref_name(&self) -> Option<&str> {
        self.raw
            .get("taskRef")
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
    }
}

/// A parsed pipeline spec.
#[derive(Clone, Debug)]
pub(crate) struct PipelineSpec {
    /// DAG tasks first, then finally tasks, each in spec order.
    pub tasks: Vec<PipelineTask>,
    /// Declared params with their defaults.
    pub params: Vec<(String, Option<Value>)>,
    /// Pipeline results: name → value expression.
    pub results: Vec<(String, Value)>,
}

impl PipelineSpec {
    /// Parses `spec` (a Pipeline's `spec` or a PipelineRun's `pipelineSpec`).
    pub fn parse(spec: &Value) -> Result<PipelineSpec, String> {
        let mut tasks = Vec::new();
        for (key, finally) in [("tasks", false), ("finally", true)] {
            if let Some(list) = spec.get(key) {
                let list = list
                    .as_array()
                    .ok_or_else(|| format!("spec.{key} is not a list"))?;
                for (i, raw) in list.iter().enumerate() {
                    tasks.push(
                        parse_task(raw, finally).map_err(|e| format!("spec.{key}[{i}]: {e}"))?,
                    );
                }
            }
        }
        let names: BTreeSet<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
        if names.len() != tasks.len() {
            return Err("pipeline task names are not unique".into());
        }
        for t in &tasks {
            for d in &t.deps {
                if !names.contains(d.as_str()) {
                    return Err(format!(
                        "pipeline task {:?} depends on unknown task {:?}",
                        t.name, d
                    ));
                }
            }
        }
        let params = spec
            .get("params")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| {
                        Some((
                            p.get("name")?.as_str()?.to_string(),
                            p.get("default").cloned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let results = spec
            .get("results")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| {
                        Some((
                            r.get("name")?.as_str()?.to_string(),
                            r.get("value")?.clone(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let parsed = PipelineSpec {
            tasks,
            params,
            results,
        };
        parsed.check_acyclic()?;
        Ok(parsed)
    }

    fn check_acyclic(&self) -> Result<(), String> {
        // Kahn's algorithm over DAG tasks.
        let dag: Vec<&PipelineTask> = self.tasks.iter().filter(|t| !t.finally).collect();
        let mut done: BTreeSet<&str> = BTreeSet::new();
        loop {
            let before = done.len();
            for t in &dag {
                if !done.contains(t.name.as_str())
                    && t.deps.iter().all(|d| done.contains(d.as_str()))
                {
                    done.insert(&t.name);
                }
            }
            if done.len() == dag.len() {
                return Ok(());
            }
            if done.len() == before {
                return Err("pipeline tasks form a cycle".into());
            }
        }
    }
}

fn parse_task(raw: &Value, finally: bool) -> Result<PipelineTask, String> {
    let name = raw
        .get("name")
        .and_then(Value::as_str)
        .ok_or("missing name")?
        .to_string();
    let mut deps: BTreeSet<String> = BTreeSet::new();
    if !finally && let Some(ra) = raw.get("runAfter").and_then(Value::as_array) {
        deps.extend(ra.iter().filter_map(Value::as_str).map(String::from));
    }
    let mut producers = BTreeSet::new();
    collect_result_refs(raw, "tasks", &mut producers);
    producers.remove(&name);
    if !finally {
        deps.extend(producers.iter().cloned());
    }
    deps.remove(&name);
    let when_raw = raw.get("when").cloned();
    let when = when_raw
        .as_ref()
        .and_then(Value::as_array)
        .map(|ws| {
            ws.iter()
                .map(|w| When {
                    input: w
                        .get("input")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    operator: w
                        .get("operator")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    values: w
                        .get("values")
                        .and_then(Value::as_array)
                        .map(|vs| {
                            vs.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                    cel: w.get("cel").and_then(Value::as_str).map(String::from),
                })
                .collect()
        })
        .unwrap_or_default();
    let retries = match raw.get("retries") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or("retries is not a non-negative integer")?,
    };
    let timeout_raw = raw.get("timeout").and_then(Value::as_str).map(String::from);
    let timeout = match &timeout_raw {
        None => None,
        Some(t) => Some(parse_go_duration(t).ok_or_else(|| format!("invalid timeout {t:?}"))?),
    };
    Ok(PipelineTask {
        display_name: raw
            .get("displayName")
            .and_then(Value::as_str)
            .map(String::from),
        finally,
        deps: deps.into_iter().collect(),
        result_producers: producers.into_iter().collect(),
        when,
        when_raw,
        retries,
        timeout,
        on_error_continue: raw.get("onError").and_then(Value::as_str) == Some("continue"),
        raw: raw.clone(),
        name,
    })
}

/// Collects `X` of every `$(<prefix>.X.results…)` in all strings of `v`.
pub(crate) fn collect_result_refs(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            for expr in expressions(s) {
                if let Some((task, _)) = result_ref(expr, prefix) {
                    out.insert(task.to_string());
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|i| collect_result_refs(i, prefix, out)),
        Value::Object(map) => map
            .values()
            .for_each(|i| collect_result_refs(i, prefix, out)),
        _ => {}
    }
}

/// `(task, result)` of `<prefix>.task.results.result[…]`.
pub(crate) fn result_ref<'a>(expr: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = expr.strip_prefix(prefix)?.strip_prefix('.')?;
    let (task, rest) = rest.split_once('.')?;
    let rest = rest.strip_prefix("results.")?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    Some((task, &rest[..end]))
}

/// The inner texts of the `$(…)` expressions in `s`.
pub(crate) fn expressions(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("$(") {
        let after = &rest[start + 2..];
        match after.find(')') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Replaces every `$(expr)` of `s` for which `lookup(expr)` answers; others stay as written.
pub(crate) fn substitute(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("$(") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(')') else { break };
        out.push_str(&rest[..start]);
        let expr = &after[..end];
        match lookup(expr) {
            Some(v) => out.push_str(&v),
            None => {
                out.push_str("$(");
                out.push_str(expr);
                out.push(')');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Applies [`substitute`] to every string inside `v`.
pub(crate) fn substitute_value(v: &Value, lookup: &dyn Fn(&str) -> Option<String>) -> Value {
    match v {
        Value::String(s) => Value::String(substitute(s, lookup)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| substitute_value(i, lookup)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, i)| (k.clone(), substitute_value(i, lookup)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The name inside `params.NAME`, `params['NAME']` or `params["NAME"]`.
pub(crate) fn param_name(expr: &str) -> Option<&str> {
    let rest = expr.strip_prefix("params")?;
    if let Some(name) = rest.strip_prefix('.') {
        return (!name.contains(['.', '['])).then_some(name);
    }
    let inner = rest.strip_prefix('[')?.strip_suffix(']')?;
    inner
        .strip_prefix('\'')
        .and_then(|i| i.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|i| i.strip_suffix('"')))
}

/// Whether all `when` expressions allow execution (after substitution by `lookup`).
pub(crate) fn when_allows(when: &[When], lookup: &dyn Fn(&str) -> Option<String>) -> bool {
    when.iter().all(|w| {
        if w.cel.is_some() {
            return true;
        }
        let input = substitute(&w.input, lookup);
        let found = w.values.iter().any(|v| substitute(v, lookup) == input);
        match w.operator.as_str() {
            "notin" => !found,
            _ => found,
        }
    })
}

/// Step names of a task spec (`unnamed-<i>` for unnamed steps, like Tekton's containers) with
/// their images.
pub(crate) fn spec_steps(task_spec: &Value) -> Vec<(String, Option<String>)> {
    task_spec
        .get("steps")
        .and_then(Value::as_array)
        .map(|steps| {
            steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let name = s
                        .get("name")
                        .and_then(Value::as_str)
                        .filter(|n| !n.is_empty())
                        .map(String::from)
                        .unwrap_or_else(|| format!("unnamed-{i}"));
                    (
                        name,
                        s.get("image").and_then(Value::as_str).map(String::from),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// knative's `kmeta.ChildName`: `parent + suffix`, shortened with a hash when longer than 63.
pub(crate) fn child_name(parent: &str, suffix: &str) -> String {
    const LONGEST: usize = 63;
    let full = format!("{parent}{suffix}");
    if full.len() <= LONGEST {
        return full;
    }
    // knative uses an md5 hex digest; any stable 32-hex-digit hash keeps names unique and valid.
    let hash = fnv128(full.as_bytes());
    let keep = LONGEST.saturating_sub(32);
    let head: String = parent.chars().take(keep).collect();
    format!("{}{hash:032x}", head.trim_end_matches('-'))
}

fn fnv128(bytes: &[u8]) -> u128 {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dag_from_run_after_and_result_refs() {
        let spec = json!({
            "tasks": [
                {"name": "a", "taskSpec": {"steps": [{"name": "s", "image": "x"}]}},
                {"name": "b", "runAfter": ["a"]},
                {"name": "c", "params": [{"name": "p", "value": "$(tasks.a.results.digest)"}]},
                {"name": "d", "when": [{"input": "$(tasks.c.results.out[0])", "operator": "in", "values": ["x"]}]}
            ],
            "finally": [{"name": "f", "params": [{"name": "s", "value": "$(tasks.status) $(tasks.b.results.r)"}]}]
        });
        let p = PipelineSpec::parse(&spec).unwrap();
        let deps: Vec<(&str, Vec<String>)> = p
            .tasks
            .iter()
            .map(|t| (t.name.as_str(), t.deps.clone()))
            .collect();
        assert_eq!(
            deps,
            vec![
                ("a", vec![]),
                ("b", vec!["a".to_string()]),
                ("c", vec!["a".to_string()]),
                ("d", vec!["c".to_string()]),
                ("f", vec![]),
            ]
        );
        assert_eq!(p.tasks[4].result_producers, vec!["b".to_string()]);
        assert!(p.tasks[4].finally);
    }

    #[test]
    fn cycles_and_unknown_tasks_are_errors() {
        let cyc =
            json!({"tasks": [{"name": "a", "runAfter": ["b"]}, {"name": "b", "runAfter": ["a"]}]});
        assert_eq!(
            PipelineSpec::parse(&cyc).unwrap_err(),
            "pipeline tasks form a cycle"
        );
        let unknown = json!({"tasks": [{"name": "a", "runAfter": ["zz"]}]});
        assert!(
            PipelineSpec::parse(&unknown)
                .unwrap_err()
                .contains("unknown task \"zz\"")
        );
    }

    #[test]
    fn substitution_and_when() {
        let lookup = |e: &str| match e {
            "params.env" => Some("prod".to_string()),
            _ => None,
        };
        assert_eq!(
            substitute("deploy $(params.env) $(params.x)", &lookup),
            "deploy prod $(params.x)"
        );
        let w = |op: &str| When {
            input: "$(params.env)".into(),
            operator: op.into(),
            values: vec!["prod".into()],
            cel: None,
        };
        assert!(when_allows(&[w("in")], &lookup));
        assert!(!when_allows(&[w("notin")], &lookup));
        assert_eq!(param_name("params['a.b']"), Some("a.b"));
        assert_eq!(param_name("params.x"), Some("x"));
        assert_eq!(
            result_ref("tasks.a.results.r[*]", "tasks"),
            Some(("a", "r"))
        );
    }

    #[test]
    fn child_names() {
        assert_eq!(child_name("run-x", "-build"), "run-x-build");
        let long = child_name(&"p".repeat(60), "-task");
        assert_eq!(long.len(), 63);
        assert_eq!(long, child_name(&"p".repeat(60), "-task"));
    }
}
