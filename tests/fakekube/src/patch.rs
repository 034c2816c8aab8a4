//! JSON merge patch (RFC 7386) and JSON patch (RFC 6902).

use serde_json::{Map, Value};

/// Apply an RFC 7386 merge patch: `null` deletes, objects merge, anything else
/// replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.shift_remove(k);
            } else {
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                merge_patch(slot, v);
            }
        }
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(ptr: &str) -> Result<Vec<String>, String> {
    if ptr.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = ptr.strip_prefix('/') else {
        return Err(format!("invalid JSON pointer {ptr:?}"));
    };
    Ok(rest.split('/').map(unescape).collect())
}

fn parent_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| format!("missing path segment {t:?}"))?,
            Value::Array(a) => {
                let i: usize = t.parse().map_err(|_| format!("invalid index {t:?}"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("index {i} out of range"))?
            }
            _ => return Err(format!("cannot descend into {t:?}")),
        };
    }
    Ok(cur)
}

fn get<'a>(doc: &'a Value, ptr: &str) -> Result<&'a Value, String> {
    let tokens = split_pointer(ptr)?;
    let mut cur = doc;
    for t in &tokens {
        cur = match cur {
            Value::Object(m) => m.get(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        }
        .ok_or_else(|| format!("path {ptr:?} does not exist"))?;
    }
    Ok(cur)
}

fn add(doc: &mut Value, ptr: &str, value: Value) -> Result<(), String> {
    let tokens = split_pointer(ptr)?;
    let Some((last, parent)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent_mut(doc, parent)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid index {last:?}"))?;
            if i > a.len() {
                return Err(format!("index {i} out of range"));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("cannot add at {ptr:?}")),
    }
}

fn remove(doc: &mut Value, ptr: &str) -> Result<Value, String> {
    let tokens = split_pointer(ptr)?;
    let Some((last, parent)) = tokens.split_last() else {
        return Err("cannot remove the document root".to_string());
    };
    match parent_mut(doc, parent)? {
        Value::Object(m) => m
            .shift_remove(last)
            .ok_or_else(|| format!("path {ptr:?} does not exist")),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid index {last:?}"))?;
            if i >= a.len() {
                return Err(format!("index {i} out of range"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("path {ptr:?} does not exist")),
    }
}

/// Apply an RFC 6902 JSON patch (`add`, `remove`, `replace`, `move`, `copy`,
/// `test`). Errors are human-readable strings.
pub fn json_patch(doc: &mut Value, patch: &Value) -> Result<(), String> {
    let ops = patch
        .as_array()
        .ok_or_else(|| "a JSON patch must be an array of operations".to_string())?;
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| "operation is missing \"path\"".to_string())?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("operation {kind:?} is missing \"value\""))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("operation {kind:?} is missing \"from\""))
        };
        match kind {
            "add" => add(doc, path, value()?)?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                remove(doc, path)?;
                add(doc, path, value()?)?;
            }
            "move" => {
                let v = remove(doc, from()?)?;
                add(doc, path, v)?;
            }
            "copy" => {
                let v = get(doc, from()?)?.clone();
                add(doc, path, v)?;
            }
            "test" => {
                if get(doc, path)? != &value()? {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_rfc7386() {
        let mut d = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut d, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(d, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn json_patch_ops() {
        let mut d = json!({"spec": {"status": "", "l": [1, 2]}});
        json_patch(
            &mut d,
            &json!([
                {"op": "replace", "path": "/spec/status", "value": "Cancelled"},
                {"op": "add", "path": "/spec/l/-", "value": 3},
                {"op": "remove", "path": "/spec/l/0"},
                {"op": "test", "path": "/spec/l", "value": [2, 3]},
                {"op": "add", "path": "/metadata", "value": {"a~b/c": 1}}
            ]),
        )
        .unwrap();
        assert_eq!(
            d,
            json!({"spec": {"status": "Cancelled", "l": [2, 3]}, "metadata": {"a~b/c": 1}})
        );
        assert!(
            json_patch(
                &mut d,
                &json!([{"op": "test", "path": "/spec/status", "value": "x"}])
            )
            .is_err()
        );
        assert!(
            json_patch(
                &mut d,
                &json!([{"op": "replace", "path": "/nope", "value": 1}])
            )
            .is_err()
        );
        assert!(
            json_patch(
                &mut d,
                &json!([{"op": "remove", "path": "/metadata/a~0b~1c"}])
            )
            .is_ok()
        );
    }
}
