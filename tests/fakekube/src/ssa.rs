//! Field ownership ("managed fields") and server-side apply, modelled on the
//! apiserver's structured-merge-diff behaviour with the simplifications of
//! cluster.md §3.4.3: every list is an atomic leaf, every map is granular.
//!
//! The object JSON is the single source of truth: ownership is read from and
//! written back to `metadata.managedFields` on every write.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// A path of map keys from the object root, e.g. `["spec", "tasks"]`.
pub type Path = Vec<String>;

/// Which part of an object a write may touch and which fields are tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The main resource. With `status_separate` (a status subresource exists)
    /// the `status` field is neither written nor tracked.
    Main {
        /// True when the resource has a `/status` subresource.
        status_separate: bool,
    },
    /// The `/status` subresource: only `status` is written and tracked.
    Status,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Track {
    /// Neither the node nor its descendants take part.
    Skip,
    /// The node itself is not tracked, its children are.
    Descend,
    /// Tracked.
    Yes,
}

const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "clusterName",
];

fn classify(scope: Scope, path: &[String]) -> Track {
    let first = path.first().map(String::as_str);
    match scope {
        Scope::Status => {
            if first == Some("status") {
                Track::Yes
            } else {
                Track::Skip
            }
        }
        Scope::Main { status_separate } => match (path.len(), first) {
            (1, Some("apiVersion" | "kind")) => Track::Skip,
            (1, Some("metadata")) => Track::Descend,
            (_, Some("status")) if status_separate => Track::Skip,
            (2, Some("metadata")) if SERVER_METADATA.contains(&path[1].as_str()) => Track::Skip,
            _ => Track::Yes,
        },
    }
}

/// Copy of `v` restricted to what `scope` may write (server-owned metadata and,
/// for the main resource, `status` are dropped).
pub fn scoped_copy(v: &Value, scope: Scope) -> Value {
    fn walk(v: &Map<String, Value>, path: &mut Path, scope: Scope) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, c) in v {
            path.push(k.clone());
            match classify(scope, path) {
                Track::Skip => {}
                Track::Descend => {
                    if let Value::Object(m) = c {
                        out.insert(k.clone(), Value::Object(walk(m, path, scope)));
                    }
                }
                Track::Yes => {
                    out.insert(k.clone(), c.clone());
                }
            }
            path.pop();
        }
        out
    }
    match v {
        Value::Object(m) => Value::Object(walk(m, &mut Vec::new(), scope)),
        _ => Value::Object(Map::new()),
    }
}

/// The leaves an apply configuration sets: scalars, lists and empty maps.
pub fn apply_leaves(v: &Value, scope: Scope) -> BTreeSet<Path> {
    fn walk(v: &Map<String, Value>, path: &mut Path, scope: Scope, out: &mut BTreeSet<Path>) {
        for (k, c) in v {
            path.push(k.clone());
            match (classify(scope, path), c) {
                (Track::Skip, _) => {}
                (Track::Descend, Value::Object(m)) => walk(m, path, scope, out),
                (Track::Descend, _) => {}
                (Track::Yes, Value::Object(m)) if !m.is_empty() => walk(m, path, scope, out),
                (Track::Yes, _) => {
                    out.insert(path.clone());
                }
            }
            path.pop();
        }
    }
    let mut out = BTreeSet::new();
    if let Value::Object(m) = v {
        walk(m, &mut Vec::new(), scope, &mut out);
    }
    out
}

fn add_all_nodes(v: &Value, path: &mut Path, scope: Scope, out: &mut BTreeSet<Path>) {
    if let Value::Object(m) = v {
        for (k, c) in m {
            path.push(k.clone());
            match classify(scope, path) {
                Track::Skip => {}
                Track::Descend => add_all_nodes(c, path, scope, out),
                Track::Yes => {
                    out.insert(path.clone());
                    add_all_nodes(c, path, scope, out);
                }
            }
            path.pop();
        }
    }
}

/// Node-level comparison: `(changed, removed)` where `changed` holds modified
/// leaves and added nodes (maps included), `removed` the nodes that disappeared.
pub fn node_diff(old: &Value, new: &Value, scope: Scope) -> (BTreeSet<Path>, BTreeSet<Path>) {
    fn walk(
        old: Option<&Map<String, Value>>,
        new: Option<&Map<String, Value>>,
        path: &mut Path,
        scope: Scope,
        changed: &mut BTreeSet<Path>,
        removed: &mut BTreeSet<Path>,
    ) {
        let empty = Map::new();
        let old = old.unwrap_or(&empty);
        let new = new.unwrap_or(&empty);
        let mut keys: Vec<&String> = new.keys().collect();
        keys.extend(old.keys().filter(|k| !new.contains_key(*k)));
        for k in keys {
            path.push(k.clone());
            let track = classify(scope, path);
            if track != Track::Skip {
                match (old.get(k), new.get(k)) {
                    (None, Some(n)) => {
                        if track == Track::Yes {
                            changed.insert(path.clone());
                        }
                        add_all_nodes(n, path, scope, changed);
                    }
                    (Some(o), None) => {
                        if track == Track::Yes {
                            removed.insert(path.clone());
                        }
                        add_all_nodes(o, path, scope, removed);
                    }
                    (Some(Value::Object(o)), Some(Value::Object(n))) => {
                        walk(Some(o), Some(n), path, scope, changed, removed)
                    }
                    (Some(o), Some(n)) => {
                        if o != n {
                            if track == Track::Yes {
                                changed.insert(path.clone());
                            }
                            add_all_nodes(o, path, scope, removed);
                            add_all_nodes(n, path, scope, changed);
                        }
                    }
                    (None, None) => {}
                }
            }
            path.pop();
        }
    }
    let mut changed = BTreeSet::new();
    let mut removed = BTreeSet::new();
    walk(
        old.as_object(),
        new.as_object(),
        &mut Vec::new(),
        scope,
        &mut changed,
        &mut removed,
    );
    (changed, removed)
}

/// Deep merge of an apply configuration: maps merge key by key, everything
/// else (lists included) replaces.
pub fn deep_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        deep_merge(existing, v)
                    }
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Value at `path` (map keys only).
pub fn get_path<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.as_object()?.get(k)?;
    }
    Some(cur)
}

fn remove_path(v: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for k in parent {
        match cur.as_object_mut().and_then(|m| m.get_mut(k)) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.shift_remove(last);
    }
}

/// Operation recorded in a managed-fields entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write (create, update, merge/JSON patch).
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `metadata.managedFields` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Field manager name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// apiVersion of the request that wrote the fields.
    pub api_version: String,
    /// RFC 3339 time of the last change.
    pub time: String,
    /// `Some("status")` for status-subresource writes.
    pub subresource: Option<String>,
    /// Owned field paths.
    pub fields: BTreeSet<Path>,
}

impl Entry {
    /// The apiserver's manager identifier (JSON of the entry without fields and
    /// time; without apiVersion for appliers); also the sort key of conflicts.
    pub fn identifier(&self) -> String {
        let mut s = format!(
            "{{\"manager\":{},\"operation\":\"{}\"",
            Value::String(self.manager.clone()),
            self.operation.as_str()
        );
        if self.operation == Operation::Update {
            s.push_str(&format!(
                ",\"apiVersion\":{}",
                Value::String(self.api_version.clone())
            ));
        }
        if let Some(sub) = &self.subresource {
            s.push_str(&format!(",\"subresource\":{}", Value::String(sub.clone())));
        }
        s.push('}');
        s
    }

    /// How conflict messages name the manager (`"m"`, `"m" using v1`).
    pub fn display(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            s.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == Operation::Update {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }

    fn same_identity(
        &self,
        manager: &str,
        op: Operation,
        api_version: &str,
        sub: Option<&str>,
    ) -> bool {
        self.manager == manager
            && self.operation == op
            && self.subresource.as_deref() == sub
            && (op == Operation::Apply || self.api_version == api_version)
    }
}

/// Encode a field set in the apiserver's FieldsV1 format.
pub fn encode_fields(fields: &BTreeSet<Path>) -> Value {
    fn node(fields: &BTreeSet<Path>, prefix: &[String]) -> Map<String, Value> {
        let children: BTreeSet<&String> = fields
            .iter()
            .filter(|p| p.len() > prefix.len() && p.starts_with(prefix))
            .map(|p| &p[prefix.len()])
            .collect();
        let mut out = Map::new();
        for c in children {
            let mut path = prefix.to_vec();
            path.push(c.clone());
            let mut sub = node(fields, &path);
            if !sub.is_empty() && fields.contains(&path) {
                sub.insert(".".to_string(), Value::Object(Map::new()));
            }
            out.insert(format!("f:{c}"), Value::Object(sub));
        }
        out
    }
    sort_keys(Value::Object(node(fields, &[])))
}

/// Decode FieldsV1. Associative-list keys (`k:`, `v:`, `i:`) make the list
/// itself the owned leaf.
pub fn decode_fields(v: &Value) -> BTreeSet<Path> {
    fn walk(v: &Map<String, Value>, path: &mut Path, out: &mut BTreeSet<Path>) {
        if v.is_empty() {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            return;
        }
        for (k, c) in v {
            if k == "." {
                if !path.is_empty() {
                    out.insert(path.clone());
                }
            } else if let Some(name) = k.strip_prefix("f:") {
                path.push(name.to_string());
                match c {
                    Value::Object(m) => walk(m, path, out),
                    _ => {
                        out.insert(path.clone());
                    }
                }
                path.pop();
            } else if !path.is_empty() {
                out.insert(path.clone());
            }
        }
    }
    let mut out = BTreeSet::new();
    if let Value::Object(m) = v {
        walk(m, &mut Vec::new(), &mut out);
    }
    out
}

/// Read `metadata.managedFields` of an object (unknown shapes are skipped).
pub fn read_entries(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
            Some(Entry {
                manager: s("manager").unwrap_or_default(),
                operation: match s("operation")?.as_str() {
                    "Apply" => Operation::Apply,
                    _ => Operation::Update,
                },
                api_version: s("apiVersion").unwrap_or_default(),
                time: s("time").unwrap_or_default(),
                subresource: s("subresource").filter(|x| !x.is_empty()),
                fields: e.get("fieldsV1").map(decode_fields).unwrap_or_default(),
            })
        })
        .collect()
}

/// Sort like the apiserver (operation, time, manager, apiVersion,
/// subresource), drop empty entries and store them in `metadata.managedFields`
/// (removing the key when nothing is left).
pub fn write_entries(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.fields.is_empty());
    entries.sort_by(|a, b| {
        (
            a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if entries.is_empty() {
        meta.shift_remove("managedFields");
        return;
    }
    let list: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut m = json!({
                "manager": e.manager,
                "operation": e.operation.as_str(),
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": encode_fields(&e.fields),
            });
            if let Some(sub) = &e.subresource {
                m["subresource"] = Value::String(sub.clone());
            }
            m
        })
        .collect();
    meta.insert("managedFields".to_string(), Value::Array(list));
}

/// A field another manager owns and the apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The owner's identifier (see [`Entry::identifier`]).
    pub identifier: String,
    /// The owner as printed in messages.
    pub display: String,
    /// The contested field.
    pub path: Path,
}

/// `.spec.tasks` style rendering of a path.
pub fn path_string(p: &[String]) -> String {
    p.iter().map(|k| format!(".{k}")).collect()
}

/// The apiserver's message for a set of apply conflicts (`getConflictMessage`).
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.display,
            path_string(&c.path)
        );
    }
    let mut by: std::collections::BTreeMap<&str, (&str, Vec<&Path>)> = Default::default();
    for c in conflicts {
        by.entry(&c.identifier)
            .or_insert_with(|| (&c.display, Vec::new()))
            .1
            .push(&c.path);
    }
    let mut lines = Vec::new();
    for (display, paths) in by.values() {
        lines.push(format!("conflicts with {display}:"));
        for p in paths {
            lines.push(format!("- {}", path_string(p)));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Parameters of one write, for [`apply`] and [`update`].
#[derive(Clone, Copy, Debug)]
pub struct Writer<'a> {
    /// Field manager.
    pub manager: &'a str,
    /// apiVersion of the request.
    pub api_version: &'a str,
    /// Which part of the object is written.
    pub scope: Scope,
    /// Current time (RFC 3339) for entries that change.
    pub now: &'a str,
}

impl Writer<'_> {
    fn subresource(&self) -> Option<&'static str> {
        match self.scope {
            Scope::Status => Some("status"),
            Scope::Main { .. } => None,
        }
    }
}

/// Server-side apply of `intent` onto `live` (the current object, or a skeleton
/// with apiVersion/kind/metadata for a create). Returns the new object with
/// `metadata.managedFields` updated, or the conflicts when `force` is false.
pub fn apply(
    live: &Value,
    intent: &Value,
    w: Writer<'_>,
    force: bool,
) -> Result<Value, Vec<Conflict>> {
    let sub = w.subresource();
    let mut entries = read_entries(live);
    let intent = scoped_copy(intent, w.scope);
    let mut merged = live.clone();
    deep_merge(&mut merged, &intent);
    let (changed, removed) = node_diff(live, &merged, w.scope);
    let touched: BTreeSet<&Path> = changed.iter().chain(removed.iter()).collect();

    let is_me = |e: &Entry| e.same_identity(w.manager, Operation::Apply, w.api_version, sub);
    let mut conflicts = Vec::new();
    for e in entries.iter().filter(|e| !is_me(e)) {
        for p in &e.fields {
            if touched.contains(p) {
                conflicts.push(Conflict {
                    identifier: e.identifier(),
                    display: e.display(),
                    path: p.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() {
        if !force {
            conflicts.sort_by(|a, b| (&a.identifier, &a.path).cmp(&(&b.identifier, &b.path)));
            return Err(conflicts);
        }
        for e in entries.iter_mut().filter(|e| !is_me(e)) {
            e.fields.retain(|p| !touched.contains(p));
        }
    }

    let new_set = apply_leaves(&intent, w.scope);
    let prev: BTreeSet<Path> = entries
        .iter()
        .find(|e| is_me(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let others_own = |entries: &[Entry], p: &Path| {
        entries
            .iter()
            .filter(|e| !is_me(e))
            .any(|e| e.fields.iter().any(|q| q.starts_with(p)))
    };
    for p in prev.difference(&new_set) {
        if new_set.iter().any(|q| q.starts_with(p) || p.starts_with(q)) || others_own(&entries, p) {
            continue;
        }
        remove_path(&mut merged, p);
        // Prune maps the removal emptied, unless someone owns them.
        let mut anc = p.clone();
        anc.pop();
        while !anc.is_empty() && classify(w.scope, &anc) == Track::Yes {
            let empty = get_path(&merged, &anc)
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty);
            let owned = new_set.contains(&anc)
                || entries.iter().any(|e| !is_me(e) && e.fields.contains(&anc));
            if !empty || owned {
                break;
            }
            remove_path(&mut merged, &anc);
            anc.pop();
        }
    }

    let content_changed = {
        let mut a = live.clone();
        let mut b = merged.clone();
        strip_managed(&mut a);
        strip_managed(&mut b);
        a != b
    };
    match entries.iter_mut().find(|e| is_me(e)) {
        Some(e) => {
            if content_changed || e.fields != new_set {
                e.time = w.now.to_string();
                e.api_version = w.api_version.to_string();
            }
            e.fields = new_set;
        }
        None => entries.push(Entry {
            manager: w.manager.to_string(),
            operation: Operation::Apply,
            api_version: w.api_version.to_string(),
            time: w.now.to_string(),
            subresource: sub.map(str::to_string),
            fields: new_set,
        }),
    }
    if entries_unchanged(live, &entries) {
        // Keep the exact stored encoding (no-op applies must not rewrite it).
        return Ok(merged);
    }
    write_entries(&mut merged, entries);
    Ok(merged)
}

fn entries_unchanged(live: &Value, entries: &[Entry]) -> bool {
    let mut old = read_entries(live);
    let mut new: Vec<Entry> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .cloned()
        .collect();
    let key = |e: &Entry| (e.identifier(), e.time.clone());
    old.sort_by_key(key);
    new.sort_by_key(key);
    old == new
}

fn strip_managed(v: &mut Value) {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.shift_remove("managedFields");
    }
}

/// Record a non-apply write (`operation: Update`) from `old` to `new` (use
/// `Value::Null` for `old` on create). Fields the write changed move to the
/// writer; removed fields leave every manager. Updates `new`'s managedFields.
pub fn update(old: &Value, new: &mut Value, w: Writer<'_>) {
    let sub = w.subresource();
    let old_entries = read_entries(old);
    let new_entries = read_entries(new);
    let explicit = new.pointer("/metadata/managedFields").is_some();
    let mut entries = if explicit && new_entries != old_entries {
        new_entries
    } else {
        old_entries
    };
    let (changed, removed) = node_diff(old, new, w.scope);
    for e in entries.iter_mut() {
        e.fields
            .retain(|p| !changed.contains(p) && !removed.contains(p));
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.same_identity(w.manager, Operation::Update, w.api_version, sub))
        {
            Some(e) => {
                e.fields.extend(changed);
                e.time = w.now.to_string();
            }
            None => entries.push(Entry {
                manager: w.manager.to_string(),
                operation: Operation::Update,
                api_version: w.api_version.to_string(),
                time: w.now.to_string(),
                subresource: sub.map(str::to_string),
                fields: changed,
            }),
        }
    }
    if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
        m.shift_remove("managedFields");
    }
    write_entries(new, entries);
}

/// Recursively sort object keys (Go's JSON encoding of unstructured objects).
pub fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut pairs: Vec<(String, Value)> = m.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(pairs.into_iter().map(|(k, v)| (k, sort_keys(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: Scope = Scope::Main {
        status_separate: true,
    };

    fn w(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            api_version: "tekton.dev/v1",
            scope: MAIN,
            now: "2026-01-01T00:00:00Z",
        }
    }

    fn skeleton() -> Value {
        json!({"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "hello", "namespace": "default"}})
    }

    fn pipeline(desc: &str, labels: Value) -> Value {
        json!({"apiVersion": "tekton.dev/v1", "kind": "Pipeline",
               "metadata": {"name": "hello", "labels": labels},
               "spec": {"description": desc, "tasks": [{"name": "t1"}]}})
    }

    #[test]
    fn apply_create_records_leaves_in_fieldsv1_format() {
        let obj = apply(
            &skeleton(),
            &pipeline("one", json!({"app": "a"})),
            w("kubectl"),
            false,
        )
        .unwrap();
        assert_eq!(obj["spec"]["description"], "one");
        let mf = &obj["metadata"]["managedFields"];
        assert_eq!(mf.as_array().unwrap().len(), 1);
        assert_eq!(mf[0]["manager"], "kubectl");
        assert_eq!(mf[0]["operation"], "Apply");
        assert_eq!(mf[0]["fieldsType"], "FieldsV1");
        assert_eq!(
            mf[0]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:description": {}, "f:tasks": {}}})
        );
        assert!(mf[0].get("subresource").is_none());
    }

    #[test]
    fn identical_reapply_is_noop() {
        let a = apply(
            &skeleton(),
            &pipeline("one", json!({"app": "a"})),
            w("kubectl"),
            false,
        )
        .unwrap();
        let b = apply(
            &a,
            &pipeline("one", json!({"app": "a"})),
            w("kubectl"),
            false,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
    }

    #[test]
    fn conflict_with_other_applier_unless_forced() {
        let a = apply(
            &skeleton(),
            &pipeline("one", json!({"app": "a"})),
            w("tool"),
            false,
        )
        .unwrap();
        let err = apply(
            &a,
            &pipeline("two", json!({"app": "a"})),
            w("kubectl"),
            false,
        )
        .unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"tool\": .spec.description"
        );
        let forced = apply(
            &a,
            &pipeline("two", json!({"app": "a"})),
            w("kubectl"),
            true,
        )
        .unwrap();
        assert_eq!(forced["spec"]["description"], "two");
        let entries = read_entries(&forced);
        let tool = entries.iter().find(|e| e.manager == "tool").unwrap();
        assert!(
            !tool
                .fields
                .contains(&vec!["spec".to_string(), "description".to_string()])
        );
        assert!(
            tool.fields
                .contains(&vec!["spec".to_string(), "tasks".to_string()])
        );
        let me = entries.iter().find(|e| e.manager == "kubectl").unwrap();
        assert!(
            me.fields
                .contains(&vec!["spec".to_string(), "description".to_string()])
        );
    }

    #[test]
    fn equal_values_co_own_and_removal_respects_other_owners() {
        let a = apply(
            &skeleton(),
            &pipeline("one", json!({"app": "a"})),
            w("tool"),
            false,
        )
        .unwrap();
        // Same values: no conflict, co-ownership.
        let b = apply(
            &a,
            &pipeline("one", json!({"app": "a", "team": "x"})),
            w("kubectl"),
            false,
        )
        .unwrap();
        let entries = read_entries(&b);
        assert_eq!(entries.len(), 2);
        // kubectl drops app (tool still owns it) and team (nobody else owns it).
        let only_spec = json!({"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "hello"},
                               "spec": {"description": "one", "tasks": [{"name": "t1"}]}});
        let c = apply(&b, &only_spec, w("kubectl"), false).unwrap();
        assert_eq!(c["metadata"]["labels"], json!({"app": "a"}));
        // tool now drops its labels: app goes, and the emptied labels map too.
        let d = apply(&c, &only_spec, w("tool"), false).unwrap();
        assert!(d["metadata"].get("labels").is_none(), "{d}");
    }

    #[test]
    fn multi_conflict_message_groups_by_manager_and_prints_update_owners() {
        let a = apply(
            &skeleton(),
            &pipeline("one", json!({"app": "a"})),
            w("kubectl"),
            false,
        )
        .unwrap();
        let mut b = a.clone();
        b["spec"]["description"] = json!("patched");
        update(&a, &mut b, w("kubectl-patch"));
        let intent = json!({"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "hello"},
                            "spec": {"description": "three", "tasks": [{"name": "t3"}]}});
        let err = apply(&b, &intent, w("other"), false).unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.tasks\nconflicts with \"kubectl-patch\" using tekton.dev/v1:\n- .spec.description"
        );
        assert_eq!(err[1].display, "\"kubectl-patch\" using tekton.dev/v1");
    }

    #[test]
    fn update_takes_changed_fields_and_marks_new_maps() {
        let old = Value::Null;
        let mut new = json!({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "c1", "labels": {"a": "b"}}, "data": {"k": "v"}});
        update(
            &old,
            &mut new,
            Writer {
                manager: "curl",
                api_version: "v1",
                scope: Scope::Main {
                    status_separate: false,
                },
                now: "t",
            },
        );
        assert_eq!(
            new["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}})
        );
    }

    #[test]
    fn status_scope_only_touches_status() {
        let a = apply(
            &skeleton(),
            &pipeline("one", json!({})),
            w("kubectl"),
            false,
        )
        .unwrap();
        let intent = json!({"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "hello"},
                            "spec": {"description": "ignored"}, "status": {"phase": "x"}});
        let ws = Writer {
            scope: Scope::Status,
            ..w("ctl")
        };
        let b = apply(&a, &intent, ws, false).unwrap();
        assert_eq!(b["spec"]["description"], "one");
        assert_eq!(b["status"]["phase"], "x");
        let e = read_entries(&b);
        let ctl = e.iter().find(|e| e.manager == "ctl").unwrap();
        assert_eq!(ctl.subresource.as_deref(), Some("status"));
        // Main-scope apply ignores status.
        let c = apply(
            &b,
            &json!({"metadata": {"name": "hello"}, "status": {"phase": "y"}}),
            w("kubectl"),
            false,
        )
        .unwrap();
        assert_eq!(c["status"]["phase"], "x");
    }

    #[test]
    fn fieldsv1_round_trip() {
        let v = json!({"f:data": {".": {}, "f:k": {}}, "f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}}}}});
        let set = decode_fields(&v);
        assert!(set.contains(&vec!["data".to_string()]));
        assert!(set.contains(&vec!["data".to_string(), "k".to_string()]));
        assert!(set.contains(&vec!["spec".to_string(), "containers".to_string()]));
        let back = encode_fields(&decode_fields(&json!({"f:data": {".": {}, "f:k": {}}})));
        assert_eq!(back, json!({"f:data": {".": {}, "f:k": {}}}));
    }
}
