//! Shared server state: objects, resourceVersion counter, event log, pod logs,
//! tokens, denials, faults and the request log.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::resources::ResourceDef;

/// Storage key: (group, plural, namespace or "", name).
pub(crate) type Key = (String, String, String, String);

pub(crate) fn key(def: &ResourceDef, ns: &str, name: &str) -> Key {
    (
        def.group.to_string(),
        def.plural.to_string(),
        if def.namespaced {
            ns.to_string()
        } else {
            String::new()
        },
        name.to_string(),
    )
}

/// One entry of the watch event log.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub rv: u64,
    pub etype: &'static str,
    pub group: String,
    pub plural: String,
    pub ns: String,
    pub object: Value,
    /// The object before a MODIFIED event (for selector transitions).
    pub old: Option<Value>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct LogBuf {
    pub lines: Vec<String>,
    pub ended: bool,
}

/// An authenticated user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// User name (`admin` for the default token).
    pub name: String,
    /// Groups.
    pub groups: Vec<String>,
}

/// Selects requests for [`crate::FakeApi::fail_next`]. Unset parts match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matcher {
    /// HTTP method (`GET`, `PATCH`, …).
    pub method: Option<String>,
    /// Substring of the request path.
    pub path_contains: Option<String>,
    /// Substring of the raw query string.
    pub query_contains: Option<String>,
}

impl Matcher {
    /// Match every request.
    pub fn any() -> Self {
        Self::default()
    }
    /// Match one method.
    pub fn method(method: &str) -> Self {
        Self {
            method: Some(method.to_ascii_uppercase()),
            ..Self::default()
        }
    }
    /// Match a path substring.
    pub fn path(substring: &str) -> Self {
        Self {
            path_contains: Some(substring.to_string()),
            ..Self::default()
        }
    }
    /// Match method and path substring.
    pub fn method_path(method: &str, substring: &str) -> Self {
        Self {
            method: Some(method.to_ascii_uppercase()),
            path_contains: Some(substring.to_string()),
            ..Self::default()
        }
    }
    /// Also require a substring of the query string (e.g. `watch=true`).
    pub fn with_query(mut self, substring: &str) -> Self {
        self.query_contains = Some(substring.to_string());
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str, query: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
            && self
                .query_contains
                .as_deref()
                .is_none_or(|q| query.contains(q))
    }
}

/// What an injected fault does to a matching request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with a Status body; `retry_after_seconds` sets the `Retry-After`
    /// header and `details.retryAfterSeconds`.
    Status {
        /// HTTP code, e.g. 429, 500, 503.
        code: u16,
        /// Status reason, e.g. `TooManyRequests`.
        reason: String,
        /// Status message.
        message: String,
        /// Optional Retry-After seconds.
        retry_after_seconds: Option<u64>,
    },
    /// Close the connection without answering (in-process: the service
    /// returns an error).
    DropConnection,
    /// Wait, then handle the request normally.
    Delay(Duration),
    /// For a watch: answer 200 and send one `ERROR` event with a 410 Expired
    /// Status, then end the stream.
    WatchExpired,
    /// For a watch: answer 200 with an empty stream that ends at once.
    WatchClose,
}

impl Fault {
    /// Shorthand for a Status fault.
    pub fn status(code: u16, reason: &str, message: &str) -> Self {
        Fault::Status {
            code,
            reason: reason.to_string(),
            message: message.to_string(),
            retry_after_seconds: None,
        }
    }
    /// 429 TooManyRequests with a Retry-After.
    pub fn throttled(retry_after_seconds: u64) -> Self {
        Fault::Status {
            code: 429,
            reason: "TooManyRequests".to_string(),
            message: "Too many requests, please try again later.".to_string(),
            retry_after_seconds: Some(retry_after_seconds),
        }
    }
}

pub(crate) struct FaultRule {
    pub matcher: Matcher,
    pub fault: Fault,
    pub remaining: usize,
}

/// One request as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Raw query string ("" if none).
    pub query: String,
    /// Content-Type header.
    pub content_type: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// Authenticated user (None when authentication failed).
    pub user: Option<String>,
    /// Request body (lossy UTF-8).
    pub body: String,
}

pub(crate) struct Deny {
    pub user: String,
    pub verb: String,
    pub resource: String,
}

pub(crate) struct State {
    pub tekton: bool,
    pub rv: u64,
    pub objects: BTreeMap<Key, Value>,
    pub events: VecDeque<Event>,
    pub event_capacity: usize,
    /// Highest resourceVersion dropped from the event log.
    pub compacted: u64,
    pub rng: u64,
    /// Separate stream for generateName suffixes (independent of UIDs).
    pub name_rng: u64,
    pub now: String,
    pub logs: BTreeMap<(String, String, String), LogBuf>,
    pub tokens: HashMap<String, User>,
    pub require_token: bool,
    pub denies: Vec<Deny>,
    pub faults: Vec<FaultRule>,
    pub requests: Vec<RecordedRequest>,
    pub close_epoch: u64,
    pub expire_epoch: u64,
}

/// The token every fake accepts (user `admin`, group `system:masters`).
pub const DEFAULT_TOKEN: &str = "fake-token";

const NAME_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

impl State {
    pub fn new(tekton: bool) -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(
            DEFAULT_TOKEN.to_string(),
            User {
                name: "admin".to_string(),
                groups: vec![
                    "system:masters".to_string(),
                    "system:authenticated".to_string(),
                ],
            },
        );
        let mut st = State {
            tekton,
            rv: 0,
            objects: BTreeMap::new(),
            events: VecDeque::new(),
            event_capacity: 1000,
            compacted: 0,
            rng: 0x005e_ed0f_fa4e_c0de,
            name_rng: 0x6e61_6d65_5eed,
            now: "2026-01-01T00:00:00Z".to_string(),
            logs: BTreeMap::new(),
            tokens,
            require_token: false,
            denies: Vec::new(),
            faults: Vec::new(),
            requests: Vec::new(),
            close_epoch: 0,
            expire_epoch: 0,
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            st.create_namespace(ns);
        }
        st
    }

    /// splitmix64 over the UID stream.
    pub fn next_u64(&mut self) -> u64 {
        splitmix(&mut self.rng)
    }

    pub fn uid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let hex = format!("{a:016x}{b:016x}");
        let mut h: Vec<char> = hex.chars().collect();
        h[12] = '4';
        h[16] = ['8', '9', 'a', 'b'][(b >> 60) as usize % 4];
        let h: String = h.into_iter().collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    pub fn name_suffix(&mut self) -> String {
        (0..5)
            .map(|_| {
                NAME_CHARS[(splitmix(&mut self.name_rng) % NAME_CHARS.len() as u64) as usize]
                    as char
            })
            .collect()
    }

    pub fn namespace_exists(&self, ns: &str) -> bool {
        self.objects.contains_key(&(
            String::new(),
            "namespaces".to_string(),
            String::new(),
            ns.to_string(),
        ))
    }

    pub fn create_namespace(&mut self, name: &str) -> Value {
        let def = crate::resources::CORE
            .iter()
            .find(|r| r.plural == "namespaces")
            .expect("namespaces is served");
        if let Some(existing) = self.objects.get(&key(def, "", name)) {
            return existing.clone();
        }
        let obj = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        });
        self.commit_create(def, obj, false)
    }

    fn emit(&mut self, etype: &'static str, def: &ResourceDef, object: &Value, old: Option<Value>) {
        let ns = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.events.push_back(Event {
            rv: self.rv,
            etype,
            group: def.group.to_string(),
            plural: def.plural.to_string(),
            ns,
            object: object.clone(),
            old,
        });
        while self.events.len() > self.event_capacity {
            if let Some(e) = self.events.pop_front() {
                self.compacted = e.rv;
            }
        }
    }

    /// Drop the whole event log: every earlier resourceVersion becomes too old.
    pub fn compact(&mut self) {
        self.events.clear();
        self.compacted = self.rv;
    }

    /// Finish a create: uid, creationTimestamp, generation, resourceVersion,
    /// store and emit ADDED (only the server fields when `dry_run`).
    pub fn commit_create(&mut self, def: &ResourceDef, mut obj: Value, dry_run: bool) -> Value {
        let uid = self.uid();
        let now = self.now.clone();
        if obj.pointer("/metadata/uid").is_none() {
            set_meta(&mut obj, "uid", json!(uid));
        }
        if obj.pointer("/metadata/creationTimestamp").is_none() {
            set_meta(&mut obj, "creationTimestamp", json!(now));
        }
        if def.custom && obj.pointer("/metadata/generation").is_none() {
            set_meta(&mut obj, "generation", json!(1));
        }
        remove_meta(&mut obj, "resourceVersion");
        if dry_run {
            return obj;
        }
        self.rv += 1;
        set_meta(&mut obj, "resourceVersion", json!(self.rv.to_string()));
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.objects.insert(key(def, &ns, &name), obj.clone());
        self.emit("ADDED", def, &obj, None);
        obj
    }

    /// Finish an update: no-op detection, generation bump, resourceVersion,
    /// store, MODIFIED event; deletes the object when a finalizer removal
    /// completes a pending deletion.
    pub fn commit_update(
        &mut self,
        def: &ResourceDef,
        old: &Value,
        mut new: Value,
        dry_run: bool,
    ) -> Value {
        if &new == old {
            return old.clone();
        }
        if def.custom {
            let strip = |v: &Value| {
                let mut v = v.clone();
                if let Some(m) = v.as_object_mut() {
                    m.shift_remove("metadata");
                    m.shift_remove("status");
                }
                v
            };
            if strip(old) != strip(&new) {
                let g = old
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                set_meta(&mut new, "generation", json!(g + 1));
            }
        }
        let old_rv = old
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or(Value::Null);
        if dry_run {
            set_meta(&mut new, "resourceVersion", old_rv);
            return new;
        }
        let finalizing = new.pointer("/metadata/deletionTimestamp").is_some()
            && new
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
        self.rv += 1;
        set_meta(&mut new, "resourceVersion", json!(self.rv.to_string()));
        let k = object_key(def, &new);
        if finalizing {
            self.objects.remove(&k);
            self.emit("DELETED", def, &new, None);
            return new;
        }
        self.objects.insert(k, new.clone());
        self.emit("MODIFIED", def, &new, Some(old.clone()));
        new
    }

    /// Store `obj` over `old` as is and emit MODIFIED (for seeding).
    pub fn replace(&mut self, def: &ResourceDef, old: &Value, obj: Value) -> Value {
        self.objects.insert(object_key(def, &obj), obj.clone());
        self.emit("MODIFIED", def, &obj, Some(old.clone()));
        obj
    }

    /// Remove an object (emit DELETED with a fresh resourceVersion).
    pub fn commit_delete(&mut self, def: &ResourceDef, old: &Value, dry_run: bool) -> Value {
        if dry_run {
            return old.clone();
        }
        let mut gone = old.clone();
        self.rv += 1;
        set_meta(&mut gone, "resourceVersion", json!(self.rv.to_string()));
        self.objects.remove(&object_key(def, old));
        self.emit("DELETED", def, &gone, None);
        if def.plural == "namespaces" {
            let ns = old
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let inside: Vec<(Key, Value)> = self
                .objects
                .iter()
                .filter(|(k, _)| k.2 == ns)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (k, v) in inside {
                if let Some(d) =
                    crate::resources::all(self.tekton).find(|r| r.group == k.0 && r.plural == k.1)
                {
                    self.commit_delete(d, &v, false);
                }
            }
        }
        gone
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Set `metadata.<k>`, turning non-object containers into objects.
pub(crate) fn set_meta(obj: &mut Value, k: &str, v: Value) {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    if !obj["metadata"].is_object() {
        obj["metadata"] = Value::Object(Map::new());
    }
    obj["metadata"][k] = v;
}

/// Remove `metadata.<k>` if present.
pub(crate) fn remove_meta(obj: &mut Value, k: &str) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.shift_remove(k);
    }
}

pub(crate) fn object_key(def: &ResourceDef, obj: &Value) -> Key {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    key(def, s("/metadata/namespace"), s("/metadata/name"))
}
