//! A small validator for the structural `openAPIV3Schema`s of Tekton's CRDs, so tests can check that
//! documents (the corpus after a model round trip, or anything tekscript emits) would pass the API
//! server's schema validation.
//!
//! Supported: `type` (object, array, string, integer, number, boolean), `properties`, `required`,
//! `items`, `additionalProperties` (schema or bool), `nullable`, `enum`,
//! `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-int-or-string`, `format: int32/int64`
//! ranges, `x-kubernetes-list-type: set|map` uniqueness (with `x-kubernetes-list-map-keys` and item
//! defaults), and the one `pattern` the Tekton CRDs use (resource quantities). Other patterns,
//! `format: date-time` and `default` are not checked. Unknown properties are errors unless the
//! schema preserves unknown fields. As in the API server, the root `metadata` is not checked
//! against the CRD (its schema is just `type: object`); it must be an object.
//!
//! Problems are `path: problem` strings, paths written like `spec.steps[0].image`.

#![allow(dead_code)]

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Where the shared Tekton CRDs live (only in the tekscript workspace).
pub fn crds_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/tekton-crds"
    ))
}

/// `(kind, apiVersion)` → openAPIV3Schema, for every CRD version in [`crds_dir`].
fn schemas() -> &'static BTreeMap<(String, String), Value> {
    static SCHEMAS: OnceLock<BTreeMap<(String, String), Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut out = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir(crds_dir()) else {
            return out;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        for f in files {
            if f.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let text =
                std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            for crd in docs {
                if crd["kind"] != "CustomResourceDefinition" {
                    continue;
                }
                let group = crd["spec"]["group"].as_str().unwrap_or_default();
                let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or_default();
                for v in crd["spec"]["versions"].as_array().into_iter().flatten() {
                    let version = v["name"].as_str().unwrap_or_default();
                    let schema = v["schema"]["openAPIV3Schema"].clone();
                    if !schema.is_null() {
                        out.insert((kind.to_string(), format!("{group}/{version}")), schema);
                    }
                }
            }
        }
        out
    })
}

/// The openAPIV3Schema of the CRD version serving `kind` at `api_version` (`tekton.dev/v1`), if the
/// shared CRDs are present and have it.
pub fn crd_schema(kind: &str, api_version: &str) -> Option<Value> {
    schemas()
        .get(&(kind.to_string(), api_version.to_string()))
        .cloned()
}

/// Validates a whole document against the CRD for its `kind` and `apiVersion`.
pub fn validate_document(doc: &Value) -> Result<(), Vec<String>> {
    let kind = doc["kind"].as_str().unwrap_or_default();
    let api_version = doc["apiVersion"].as_str().unwrap_or_default();
    let Some(schema) = schemas().get(&(kind.to_string(), api_version.to_string())) else {
        return Err(vec![format!(
            "<root>: no CRD schema for kind {kind:?} at apiVersion {api_version:?}"
        )]);
    };
    let problems = validate(schema, doc);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Every problem of `value` against `schema` (a document root: `metadata` is only checked to be an
/// object).
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, value, "", &mut out);
    out
}

fn show(path: &str) -> &str {
    if path.is_empty() { "<root>" } else { path }
}

fn key_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn flag(schema: &Value, name: &str) -> bool {
    schema.get(name).and_then(Value::as_bool).unwrap_or(false)
}

fn check(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let ty = schema.get("type").and_then(Value::as_str);
    let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
    if value.is_null() {
        let anything_goes = ty.is_none() && preserve;
        if !(flag(schema, "nullable") || anything_goes) {
            out.push(format!("{}: null is not allowed", show(path)));
        }
        return;
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        if !matches!(json_type(value), "integer" | "string") {
            out.push(format!(
                "{}: expected an integer or a string, found {}",
                show(path),
                json_type(value)
            ));
        }
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        out.push(format!(
            "{}: {value} is not one of {}",
            show(path),
            Value::Array(allowed.clone())
        ));
    }
    match ty {
        Some("object") => match value {
            Value::Object(map) if path == "metadata" => {
                let _ = map;
            }
            Value::Object(map) => check_object(schema, map, path, preserve, out),
            other => out.push(format!(
                "{}: expected an object, found {}",
                show(path),
                json_type(other)
            )),
        },
        Some("array") => match value {
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        check(item_schema, item, &format!("{path}[{i}]"), out);
                    }
                    check_list_type(schema, item_schema, items, path, out);
                }
            }
            other => out.push(format!(
                "{}: expected an array, found {}",
                show(path),
                json_type(other)
            )),
        },
        Some("string") => match value {
            Value::String(s) => {
                let pattern = schema.get("pattern").and_then(Value::as_str);
                if pattern == Some(QUANTITY_PATTERN) && !is_quantity(s) {
                    out.push(format!("{}: {s:?} is not a resource quantity", show(path)));
                }
            }
            other => out.push(format!(
                "{}: expected a string, found {}",
                show(path),
                json_type(other)
            )),
        },
        Some("integer") => match value
            .as_i64()
            .map(i128::from)
            .or(value.as_u64().map(i128::from))
        {
            Some(n) => {
                let range = match schema.get("format").and_then(Value::as_str) {
                    Some("int32") => Some((i128::from(i32::MIN), i128::from(i32::MAX))),
                    Some("int64") => Some((i128::from(i64::MIN), i128::from(i64::MAX))),
                    _ => None,
                };
                if let Some((lo, hi)) = range
                    && (n < lo || n > hi)
                {
                    out.push(format!(
                        "{}: {n} is out of range for {}",
                        show(path),
                        schema["format"]
                    ));
                }
            }
            None => out.push(format!(
                "{}: expected an integer, found {}",
                show(path),
                json_type(value)
            )),
        },
        Some("number") => {
            if !value.is_number() {
                out.push(format!(
                    "{}: expected a number, found {}",
                    show(path),
                    json_type(value)
                ));
            }
        }
        Some("boolean") => {
            if !value.is_boolean() {
                out.push(format!(
                    "{}: expected a boolean, found {}",
                    show(path),
                    json_type(value)
                ));
            }
        }
        Some(other) => out.push(format!(
            "{}: schema has unsupported type {other:?}",
            show(path)
        )),
        None => {
            // No type: only meaningful with preserve-unknown-fields (anything goes), but apply
            // properties if there are some.
            if let (Value::Object(map), Some(_)) = (value, schema.get("properties")) {
                check_object(schema, map, path, true, out);
            }
        }
    }
}

fn check_object(
    schema: &Value,
    map: &Map<String, Value>,
    path: &str,
    preserve: bool,
    out: &mut Vec<String>,
) {
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    for (k, v) in map {
        let p = key_path(path, k);
        if let Some(s) = props.and_then(|ps| ps.get(k)) {
            check(s, v, &p, out);
        } else {
            match additional {
                Some(s @ Value::Object(_)) => check(s, v, &p, out),
                Some(Value::Bool(true)) => {}
                _ if preserve => {}
                _ => out.push(format!("{p}: unknown field {k:?}")),
            }
        }
    }
    for r in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(r) = r.as_str()
            && !map.contains_key(r)
        {
            out.push(format!(
                "{}: missing required field {r:?}",
                key_path(path, r)
            ));
        }
    }
}

/// `set`: items unique; `map`: the `x-kubernetes-list-map-keys` tuple (with item defaults) unique.
fn check_list_type(
    schema: &Value,
    item_schema: &Value,
    items: &[Value],
    path: &str,
    out: &mut Vec<String>,
) {
    let keys: Vec<Value> = match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => items.to_vec(),
        Some("map") => {
            let names: Vec<&str> = schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            items
                .iter()
                .map(|it| {
                    Value::Array(
                        names
                            .iter()
                            .map(|n| {
                                it.get(*n)
                                    .or_else(|| item_schema["properties"][*n].get("default"))
                                    .cloned()
                                    .unwrap_or(Value::Null)
                            })
                            .collect(),
                    )
                })
                .collect()
        }
        _ => return,
    };
    for (i, k) in keys.iter().enumerate() {
        if let Some(j) = keys[..i].iter().position(|x| x == k) {
            out.push(format!("{path}[{i}]: duplicate of {path}[{j}] (key {k})"));
        }
    }
}

/// The only `pattern` in Tekton's CRDs (resource.Quantity).
const QUANTITY_PATTERN: &str = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

/// Matches [`QUANTITY_PATTERN`].
pub fn is_quantity(s: &str) -> bool {
    /// `(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))`: the length of the signed number at the start.
    fn number(s: &[u8]) -> Option<usize> {
        let mut i = usize::from(matches!(s.first(), Some(b'+' | b'-')));
        let int = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += int;
        if s.get(i) == Some(&b'.') {
            let frac = s[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if int == 0 && frac == 0 {
                return None;
            }
            i += 1 + frac;
        } else if int == 0 {
            return None;
        }
        Some(i)
    }
    let b = s.as_bytes();
    let Some(n) = number(b) else { return false };
    let rest = &b[n..];
    match rest {
        [] => true,
        [c, b'i'] if b"KMGTPE".contains(c) => true,
        [c] if b"numkMGTPE".contains(c) => true,
        [b'e' | b'E', exp @ ..] => number(exp) == Some(exp.len()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tiny() -> Value {
        json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "count": {"type": "integer", "format": "int32"},
                "ratio": {"type": "number"},
                "on": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "free": {"x-kubernetes-preserve-unknown-fields": true},
                "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                         "properties": {"n": {"type": "integer"}}},
                "maybe": {"type": "string", "nullable": true},
                "cpu": {"type": "string", "pattern": QUANTITY_PATTERN}
            }
        })
    }

    #[test]
    fn accepts_a_valid_value() {
        let v = json!({
            "name": "x", "count": 3, "ratio": 0.5, "on": true, "tags": ["a", "b"],
            "labels": {"a": "b"}, "port": "http", "free": {"any": [1, {"thing": null}]},
            "open": {"n": 1, "extra": "kept"}, "maybe": null, "cpu": "500m"
        });
        assert_eq!(validate(&tiny(), &v), Vec::<String>::new());
        assert_eq!(
            validate(&tiny(), &json!({"name": "x", "port": 8080})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let v = json!({
            "count": "3", "ratio": "x", "on": 1, "tags": ["a", 2, "a"], "labels": {"a": 1},
            "port": true, "open": {"n": 1.5}, "extra": 1, "cpu": "1.5x", "maybe": 3
        });
        let got = validate(&tiny(), &v);
        let want = vec![
            "count: expected an integer, found string",
            "ratio: expected a number, found string",
            "on: expected a boolean, found integer",
            "tags[1]: expected a string, found integer",
            "tags[2]: duplicate of tags[0] (key \"a\")",
            "labels.a: expected a string, found integer",
            "port: expected an integer or a string, found boolean",
            "open.n: expected an integer, found number",
            "extra: unknown field \"extra\"",
            "cpu: \"1.5x\" is not a resource quantity",
            "maybe: expected a string, found integer",
            "name: missing required field \"name\"",
        ];
        assert_eq!(got, want);
        assert_eq!(
            validate(&tiny(), &json!({"name": null})),
            vec!["name: null is not allowed"]
        );
        assert_eq!(
            validate(&tiny(), &json!({"name": "x", "count": 3_000_000_000u64})),
            vec!["count: 3000000000 is out of range for \"int32\""]
        );
    }

    #[test]
    fn list_map_keys_use_defaults() {
        let s = json!({"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["port", "protocol"],
            "items": {"type": "object", "properties": {"port": {"type": "integer"},
                "protocol": {"type": "string", "default": "TCP"}}}});
        assert_eq!(
            validate(&s, &json!([{"port": 1}, {"port": 1, "protocol": "UDP"}])),
            Vec::<String>::new()
        );
        assert_eq!(
            validate(&s, &json!([{"port": 1}, {"port": 1, "protocol": "TCP"}])),
            vec!["[1]: duplicate of [0] (key [1,\"TCP\"])"]
        );
    }

    #[test]
    fn quantities() {
        for ok in [
            "1", "0.5", ".5", "1.", "500m", "1Gi", "2E", "1e3", "1E-3", "+1", "-1.5Ki", "1e+2",
        ] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in [
            "", ".", "1x", "1 Gi", "Gi", "1e", "1ee3", "1Gii", "1.2.3", "1gi", "e3",
        ] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn validates_documents_against_the_shared_crds() {
        if crd_schema("Task", "tekton.dev/v1").is_none() {
            println!(
                "skipping: ../shared/corpus not found (only present in the tekscript workspace)"
            );
            return;
        }
        let good = json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"},
            "spec": {"steps": [{"name": "s", "image": "alpine", "computeResources": {"limits": {"cpu": "1"}}}]}});
        assert_eq!(validate_document(&good), Ok(()));
        let bad = json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"},
            "spec": {"steps": [{"image": "alpine", "imagee": "x", "timeout": 5}]}});
        assert_eq!(
            validate_document(&bad),
            Err(vec![
                "spec.steps[0].imagee: unknown field \"imagee\"".to_string(),
                "spec.steps[0].timeout: expected a string, found integer".to_string(),
                "spec.steps[0].name: missing required field \"name\"".to_string(),
            ])
        );
        let e = validate_document(&json!({"apiVersion": "tekton.dev/v1", "kind": "StepAction"}))
            .unwrap_err();
        assert_eq!(
            e,
            vec!["<root>: no CRD schema for kind \"StepAction\" at apiVersion \"tekton.dev/v1\""]
        );
        assert!(crd_schema("StepAction", "tekton.dev/v1beta1").is_some());
        assert!(crd_schema("StepAction", "tekton.dev/v1alpha1").is_some());
    }
}
