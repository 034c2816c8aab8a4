//! Rhai values → JSON → typed model values, with errors that name the offending key.
//!
//! Handles (params, results, workspaces) are lowered to their `$(…)` text on the way, so a map like
//! `#{ url: repo }` becomes `{"url": "$(params.repo-url)"}`.

use super::HostError;
use super::handles;
use crate::diag::codes;
use crate::diag::suggest::did_you_mean;
use rhai::Dynamic;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Converts a script value to JSON. `what` names the place for error messages ("step", "param value").
///
/// Arrays and maps nested deeper than [`super::limits::MAX_VALUE_DEPTH`] are refused (E005): nothing
/// in a Tekton object nests that deep, and everything after this point (validation, YAML) then
/// works on values of bounded depth.
pub fn to_json(v: &Dynamic, what: &str) -> Result<Value, HostError> {
    to_json_at(v, what, 0)
}

fn to_json_at(v: &Dynamic, what: &str, depth: usize) -> Result<Value, HostError> {
    if depth > super::limits::MAX_VALUE_DEPTH {
        return Err(HostError::new(
            codes::E005,
            format!(
                "script limit reached: {what}: the value is nested more than {} levels deep",
                super::limits::MAX_VALUE_DEPTH
            ),
        )
        .help("arrays and maps in Tekton objects nest a few levels; look for a loop that wraps a value in itself (`a = [a]`)"));
    }
    if v.is_unit() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.clone().try_cast::<bool>() {
        return Ok(Value::Bool(b));
    }
    if let Some(i) = v.clone().try_cast::<rhai::INT>() {
        return Ok(Value::from(i));
    }
    if let Some(f) = v.clone().try_cast::<rhai::FLOAT>() {
        return Ok(serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null));
    }
    if v.is_string() {
        return Ok(Value::String(v.clone().into_string().unwrap_or_default()));
    }
    if let Some(c) = v.clone().try_cast::<char>() {
        return Ok(Value::String(c.to_string()));
    }
    if v.is_array() {
        let arr = v.clone().into_array().unwrap_or_default();
        return arr
            .iter()
            .map(|x| to_json_at(x, what, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if v.is_map() {
        let map = v.clone().cast::<rhai::Map>();
        let mut out = Map::new();
        for (k, x) in map.iter() {
            out.insert(k.to_string(), to_json_at(x, what, depth + 1)?);
        }
        return Ok(Value::Object(out));
    }
    if let Some(text) = handles::render(v)? {
        return Ok(Value::String(text));
    }
    Err(HostError::new(
        codes::E003,
        format!("a {} cannot be used as a {what}", handles::type_label(v)),
    ))
}

/// Converts a script value to a string, rendering handles; numbers and bools are written out, as Tekton
/// coerces them (param values are always strings).
pub fn to_string_value(v: &Dynamic, what: &str) -> Result<String, HostError> {
    match to_json(v, what)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(HostError::new(
            codes::E003,
            format!(
                "expected a string for {what}, found {}",
                json_type_name(&other)
            ),
        )),
    }
}

pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (`()`)",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a map",
    }
}

/// Deserializes JSON into a model type. Unknown keys (including keys that a Kubernetes sub-struct would
/// silently drop) and wrong types become E004 / E003 errors naming the field path.
pub fn from_json<T: DeserializeOwned + Serialize>(
    value: Value,
    what: &str,
) -> Result<T, HostError> {
    let typed: T = match serde_path_to_error::deserialize(&value) {
        Ok(t) => t,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            let mut first = serde_error(&inner, &path, what);
            // report every wrong field at once: drop the failing one and try again
            let mut rest = value.clone();
            for _ in 0..16 {
                if path.is_empty()
                    || path == "."
                    || !remove_path(&mut rest, &path_for_removal(&path, &inner))
                {
                    break;
                }
                match serde_path_to_error::deserialize::<_, T>(&rest) {
                    Ok(_) => break,
                    Err(e2) => {
                        let p2 = e2.path().to_string();
                        let i2 = e2.into_inner().to_string();
                        first.more.push(serde_error(&i2, &p2, what));
                        if !remove_path(&mut rest, &path_for_removal(&p2, &i2)) {
                            break;
                        }
                    }
                }
            }
            return Err(first);
        }
    };
    // Kubernetes types from k8s-openapi ignore unknown keys; compare what went in with what came out.
    let back = serde_json::to_value(&typed).expect("model types always serialize");
    if let Some((path, key)) = dropped_key(&value, &back, "") {
        return Err(HostError::new(
            codes::E004,
            format!("unknown field `{key}` in {what}{}", at_path(&path)),
        )
        .needle(key.clone())
        .help("keys are Tekton's and Kubernetes' own field names, in camelCase"));
    }
    Ok(typed)
}

fn at_path(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!(" (at `{path}`)")
    }
}

fn serde_error(msg: &str, path: &str, what: &str) -> HostError {
    // serde: "unknown field `imagee`, expected one of `name`, `image`, ..."
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest
            .split("expected one of ")
            .nth(1)
            .or_else(|| rest.split("expected ").nth(1))
            .map(|l| {
                l.split([',', ' '])
                    .filter(|s| *s != "or")
                    .map(|s| s.trim().trim_matches('`'))
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let parent = path.rsplit_once('.').map(|(p, _)| p).unwrap_or("");
        let mut err = HostError::new(
            codes::E004,
            format!("unknown field `{key}` in {what}{}", at_path(parent)),
        )
        .needle(key);
        if let Some(s) = did_you_mean(key, expected.iter().copied()) {
            err = err.help(format!("did you mean `{s}`?"));
        } else if !expected.is_empty() {
            err = err.help(format!("the fields here are: {}", expected.join(", ")));
        }
        return err;
    }
    if msg.starts_with("missing field") {
        return HostError::new(codes::E010, format!("{what}: {msg}{}", at_path(path)));
    }
    if msg.starts_with("unknown variant") {
        return HostError::new(codes::E010, format!("{what}: {msg}{}", at_path(path)));
    }
    let mut err = HostError::new(codes::E003, format!("{what}: {msg}{}", at_path(path)));
    // point at the field's key (its value is right after it), and say how to write it
    if let Some(key) = path
        .rsplit(['.', '['])
        .next()
        .filter(|k| !k.is_empty() && !k.ends_with(']'))
    {
        err = err.needle(format!("{key}:"));
    }
    if let Some(rest) = msg.strip_prefix("invalid type: string \"")
        && let Some((val, expected)) = rest.split_once("\", expected ")
    {
        if expected.starts_with("a sequence") {
            err = err.help(format!("this field takes a list: `[\"{val}\"]`"));
        } else if expected.starts_with("a map") || expected.starts_with("struct") {
            err = err.help("this field takes a map: `#{ .. }`");
        }
    } else if msg.starts_with("invalid type: sequence") && msg.contains("expected a string") {
        err = err.help("this field takes one string, not a list");
    }
    err
}

/// serde_path_to_error points an unknown field's path at the field itself; a type error at the field
/// too. Either way the path is what to drop.
fn path_for_removal(path: &str, _msg: &str) -> String {
    path.to_string()
}

/// Removes the value at a serde_path_to_error path (`args`, `env[0].value`) from `v`.
fn remove_path(v: &mut Value, path: &str) -> bool {
    let mut segs: Vec<String> = Vec::new();
    for part in path.split('.') {
        let mut p = part;
        while let Some(i) = p.find('[') {
            if i > 0 {
                segs.push(p[..i].to_string());
            }
            let Some(e) = p[i..].find(']') else {
                return false;
            };
            segs.push(p[i..i + e + 1].to_string());
            p = &p[i + e + 1..];
        }
        if !p.is_empty() {
            segs.push(p.to_string());
        }
    }
    let Some(last) = segs.pop() else {
        return false;
    };
    let mut cur = v;
    for s in &segs {
        cur = match (s.strip_prefix('[').and_then(|x| x.strip_suffix(']')), cur) {
            (Some(i), Value::Array(a)) => {
                match i.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                    Some(x) => x,
                    None => return false,
                }
            }
            (None, Value::Object(m)) => match m.get_mut(s.as_str()) {
                Some(x) => x,
                None => return false,
            },
            _ => return false,
        };
    }
    match (
        last.strip_prefix('[').and_then(|x| x.strip_suffix(']')),
        cur,
    ) {
        (Some(i), Value::Array(a)) => match i.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        },
        (None, Value::Object(m)) => m.remove(last.as_str()).is_some(),
        _ => false,
    }
}

/// The first key present (and non-empty) in `input` but absent from `output`.
fn dropped_key(input: &Value, output: &Value, path: &str) -> Option<(String, String)> {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let is_empty = matches!(v, Value::Null)
                    || matches!(v, Value::Array(x) if x.is_empty())
                    || matches!(v, Value::Bool(false));
                match b.get(k) {
                    None if !is_empty => return Some((path.to_string(), k.clone())),
                    None => {}
                    Some(w) => {
                        let p = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        if let Some(found) = dropped_key(v, w, &p) {
                            return Some(found);
                        }
                    }
                }
            }
            None
        }
        (Value::Array(a), Value::Array(b)) => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| dropped_key(x, y, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// `#{ a: "x", b: ["y"] }` → `[{name: a, value: x}, {name: b, value: [y]}]`; a list is taken as is.
/// Values are strings, arrays of strings or maps of strings; numbers and bools become strings.
pub fn params_list(v: &Dynamic, what: &str) -> Result<Value, HostError> {
    if v.is_map() {
        let map = v.clone().cast::<rhai::Map>();
        let mut out = Vec::new();
        for (k, x) in map.iter() {
            out.push(serde_json::json!({ "name": k.as_str(), "value": param_value(x, what)? }));
        }
        return Ok(Value::Array(out));
    }
    if v.is_array() {
        let mut out = Vec::new();
        for item in v.clone().into_array().unwrap_or_default() {
            let mut j = to_json(&item, what)?;
            if let Value::Object(m) = &mut j
                && let Some(val) = item
                    .clone()
                    .try_cast::<rhai::Map>()
                    .and_then(|m| m.get("value").cloned())
            {
                m.insert("value".into(), param_value(&val, what)?);
            }
            out.push(j);
        }
        return Ok(Value::Array(out));
    }
    Err(HostError::new(
        codes::E003,
        format!(
            "{what} must be a map (`#{{ name: value }}`) or a list of `#{{ name, value }}` maps, found {}",
            handles::type_label(v)
        ),
    ))
}

/// A param value: string, array of strings or map of strings.
pub fn param_value(v: &Dynamic, what: &str) -> Result<Value, HostError> {
    if v.is_array() {
        let arr = v.clone().into_array().unwrap_or_default();
        return arr
            .iter()
            .map(|x| to_string_value(x, what).map(Value::String))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if v.is_map() {
        let map = v.clone().cast::<rhai::Map>();
        let mut out = Map::new();
        for (k, x) in map.iter() {
            out.insert(k.to_string(), Value::String(to_string_value(x, what)?));
        }
        return Ok(Value::Object(out));
    }
    to_string_value(v, what).map(Value::String)
}

/// `#{ A: "1", B: secret_env(..) }` → env var list sorted by name; a list is taken as is.
pub fn env_list(v: &Dynamic) -> Result<Value, HostError> {
    if v.is_map() {
        let map = v.clone().cast::<rhai::Map>();
        let mut out = Vec::new();
        for (k, x) in map.iter() {
            let j = to_json(x, "env value")?;
            match j {
                Value::Object(mut m) if m.contains_key("valueFrom") => {
                    m.insert("name".into(), Value::String(k.to_string()));
                    let mut ordered = Map::new();
                    ordered.insert("name".into(), Value::String(k.to_string()));
                    for (kk, vv) in m {
                        if kk != "name" {
                            ordered.insert(kk, vv);
                        }
                    }
                    out.push(Value::Object(ordered));
                }
                other => {
                    let s = match other {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        other => {
                            return Err(HostError::new(
                                codes::E003,
                                format!(
                                    "env `{k}` must be a string or a `secret_env(..)` / `config_map_env(..)` value, found {}",
                                    json_type_name(&other)
                                ),
                            ));
                        }
                    };
                    out.push(serde_json::json!({ "name": k.as_str(), "value": s }));
                }
            }
        }
        return Ok(Value::Array(out));
    }
    to_json(v, "env")
}

/// A list of maps given as a list of names: `["a", "b"]` → `[{name: a}, {name: b}]`.
pub fn names_to_maps(v: Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => serde_json::json!({ "name": s }),
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

/// Reads a script map into an ordered JSON object, or errors.
pub fn expect_map(v: &Dynamic, what: &str) -> Result<rhai::Map, HostError> {
    v.clone().try_cast::<rhai::Map>().ok_or_else(|| {
        HostError::new(
            codes::E003,
            format!(
                "{what} must be a map (`#{{ key: value }}`), found {}",
                handles::type_label(v)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dropped_keys_are_found() {
        let a = json!({"a": {"b": 1, "c": [{"d": 1, "e": 2}]}});
        let b = json!({"a": {"b": 1, "c": [{"d": 1}]}});
        assert_eq!(
            dropped_key(&a, &b, ""),
            Some(("a.c[0]".to_string(), "e".to_string()))
        );
        assert_eq!(dropped_key(&a, &a, ""), None);
        let empty = json!({"x": [], "y": null});
        assert_eq!(dropped_key(&empty, &json!({}), ""), None);
    }

    #[test]
    fn unknown_field_message_suggests() {
        let e = serde_error(
            "unknown field `imagee`, expected one of `name`, `image`, `script`",
            "imagee",
            "step",
        );
        assert_eq!(e.code, codes::E004);
        assert_eq!(e.message, "unknown field `imagee` in step");
        assert_eq!(e.help, vec!["did you mean `image`?".to_string()]);
    }
}
