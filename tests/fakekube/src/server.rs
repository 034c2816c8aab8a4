//! HTTP handling: routing, authentication, faults, CRUD, apply, watch, logs.

// Handlers return `Result<Response, Response>` so `?` yields the error
// response; the size of `Response` does not matter for a test server.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::FakeApi;
use crate::patch;
use crate::resources::{self, ResourceDef};
use crate::selector::{FieldSelector, LabelSelector};
use crate::ssa::{self, Scope, Writer};
use crate::state::{self, Fault, RecordedRequest, State, User, key, remove_meta, set_meta};

/// Boxed error type of the service.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type Resp = http::Response<Body>;
type R = Result<Resp, Resp>;

pub(crate) fn json_resp(code: u16, v: &Value) -> Resp {
    let body = serde_json::to_vec(v).unwrap_or_default();
    http::Response::builder()
        .status(code)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|_| http::Response::new(Body::empty()))
}

fn status_value(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), json!("Status"));
    m.insert("apiVersion".into(), json!("v1"));
    m.insert("metadata".into(), json!({}));
    m.insert("status".into(), json!("Failure"));
    m.insert("message".into(), json!(message));
    m.insert("reason".into(), json!(reason));
    if let Some(d) = details {
        m.insert("details".into(), d);
    }
    m.insert("code".into(), json!(code));
    Value::Object(m)
}

fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Resp {
    json_resp(code, &status_value(code, reason, message, details))
}

fn bad_request(message: &str) -> Resp {
    status(400, "BadRequest", message, None)
}

fn details(def: &ResourceDef, name: &str) -> Value {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !def.group.is_empty() {
        d.insert("group".into(), json!(def.group));
    }
    d.insert("kind".into(), json!(def.plural));
    Value::Object(d)
}

fn not_found(def: &ResourceDef, name: &str) -> Resp {
    status(
        404,
        "NotFound",
        &format!("{} {name:?} not found", def.qualified()),
        Some(details(def, name)),
    )
}

fn namespace_not_found(ns: &str) -> Resp {
    status(
        404,
        "NotFound",
        &format!("namespaces {ns:?} not found"),
        Some(json!({"name": ns, "kind": "namespaces"})),
    )
}

fn stale(def: &ResourceDef, name: &str) -> Resp {
    status(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {} {name:?}: the object has been modified; please apply your changes to the latest version and try again",
            def.qualified()
        ),
        Some(details(def, name)),
    )
}

fn invalid(def: &ResourceDef, name: &str, field: &str, reason: &str, msg: &str) -> Resp {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    if !def.group.is_empty() {
        d.insert("group".into(), json!(def.group));
    }
    d.insert("kind".into(), json!(def.kind));
    d.insert(
        "causes".into(),
        json!([{"reason": reason, "message": msg, "field": field}]),
    );
    status(
        422,
        "Invalid",
        &format!(
            "{} {name:?} is invalid: {field}: {msg}",
            def.qualified_kind()
        ),
        Some(Value::Object(d)),
    )
}

fn unsupported_media() -> Resp {
    status(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        None,
    )
}

fn server_not_found() -> Resp {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// Present a stored object at the requested group/version with sorted keys.
fn present(obj: &Value, gv: &str) -> Value {
    let mut o = obj.clone();
    if o.is_object() {
        o["apiVersion"] = json!(gv);
    }
    ssa::sort_keys(o)
}

struct Ctx {
    method: String,
    path: String,
    q: HashMap<String, String>,
    content_type: String,
    user_agent: Option<String>,
    user: User,
    body: Bytes,
}

impl Ctx {
    fn param(&self, k: &str) -> Option<&str> {
        self.q.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }
    fn flag(&self, k: &str) -> bool {
        matches!(self.param(k), Some("true" | "1"))
    }
    fn dry_run(&self) -> bool {
        self.q.get("dryRun").is_some_and(|v| v == "All")
    }
    fn manager(&self) -> String {
        if let Some(m) = self.param("fieldManager") {
            return m.to_string();
        }
        match &self.user_agent {
            Some(ua) if !ua.is_empty() => ua.split('/').next().unwrap_or("unknown").to_string(),
            _ => "unknown".to_string(),
        }
    }
}

struct Target {
    def: &'static ResourceDef,
    version: String,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

impl Target {
    fn gv(&self) -> String {
        self.def.group_version(&self.version)
    }
    fn ns(&self) -> &str {
        self.ns.as_deref().unwrap_or("")
    }
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
    fn key(&self) -> state::Key {
        key(self.def, self.ns(), self.name())
    }
    fn scope(&self) -> Scope {
        if self.sub.as_deref() == Some("status") {
            Scope::Status
        } else {
            Scope::Main {
                status_separate: self.def.status,
            }
        }
    }
}

enum Route {
    Json(Value),
    NotFound,
    Resource(Target),
}

fn route(tekton: bool, path: &str, host: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let resource = |group: &str, version: &str, rest: &[&str]| -> Route {
        let (ns, rest) = if rest.first() == Some(&"namespaces")
            && rest.len() >= 3
            && !(rest.len() == 3 && matches!(rest[2], "status" | "finalize"))
        {
            (Some(rest[1].to_string()), &rest[2..])
        } else {
            (None, rest)
        };
        if rest.is_empty() || rest.len() > 3 {
            return Route::NotFound;
        }
        let Some(def) = resources::find(tekton, group, version, rest[0]) else {
            return Route::NotFound;
        };
        let sub = rest.get(2).map(|s| s.to_string());
        match sub.as_deref() {
            None => {}
            Some("status") if def.status => {}
            Some("log") if def.plural == "pods" => {}
            Some(_) => return Route::NotFound,
        }
        if ns.is_some() && !def.namespaced {
            return Route::NotFound;
        }
        if ns.is_none() && def.namespaced && rest.len() > 1 {
            return Route::NotFound;
        }
        Route::Resource(Target {
            def,
            version: version.to_string(),
            ns,
            name: rest.get(1).map(|s| s.to_string()),
            sub,
        })
    };
    match segs.as_slice() {
        ["version"] => Route::Json(resources::version()),
        ["api"] => Route::Json(resources::api_versions(host)),
        ["api", "v1"] => {
            resources::resource_list(tekton, "", "v1").map_or(Route::NotFound, Route::Json)
        }
        ["api", "v1", rest @ ..] => resource("", "v1", rest),
        ["apis"] => Route::Json(resources::api_group_list(tekton)),
        ["apis", g] => resources::api_group(tekton, g).map_or(Route::NotFound, Route::Json),
        ["apis", g, v] => {
            resources::resource_list(tekton, g, v).map_or(Route::NotFound, Route::Json)
        }
        ["apis", g, v, rest @ ..] => resource(g, v, rest),
        _ => Route::NotFound,
    }
}

fn verb(method: &str, t: &Target, watch: bool) -> &'static str {
    match (method, t.name.is_some()) {
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
}

fn forbidden(t: &Target, user: &str, verb: &str) -> Resp {
    let mut resource = t.def.plural.to_string();
    if let Some(s) = &t.sub {
        resource = format!("{resource}/{s}");
    }
    let reason = match &t.ns {
        Some(ns) => format!(
            "User {user:?} cannot {verb} resource {resource:?} in API group {:?} in the namespace {ns:?}",
            t.def.group
        ),
        None => format!(
            "User {user:?} cannot {verb} resource {resource:?} in API group {:?} at the cluster scope",
            t.def.group
        ),
    };
    let message = match &t.name {
        Some(n) => format!("{} {n:?} is forbidden: {reason}", t.def.qualified()),
        None => format!("{} is forbidden: {reason}", t.def.qualified()),
    };
    status(403, "Forbidden", &message, Some(details(t.def, t.name())))
}

fn parse_json_body(body: &Bytes) -> Result<Value, Resp> {
    if body.starts_with(b"k8s\0") {
        return Err(status(
            415,
            "UnsupportedMediaType",
            "fakekube decodes JSON and YAML only, not protobuf (send application/json)",
            None,
        ));
    }
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => serde_saphyr::from_slice(body)
            .map_err(|e| bad_request(&format!("the object provided is unrecognized: {e}")))?,
    };
    if !v.is_object() {
        return Err(bad_request("the object provided is not a JSON object"));
    }
    Ok(v)
}

fn b64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Type-specific normalisation of a write (Secret stringData → data).
fn normalise(def: &ResourceDef, obj: &mut Value) {
    if def.group.is_empty() && def.plural == "secrets" {
        if let Some(Value::Object(sd)) = obj
            .as_object_mut()
            .and_then(|m| m.shift_remove("stringData"))
        {
            if !obj["data"].is_object() {
                obj["data"] = json!({});
            }
            for (k, v) in sd {
                obj["data"][&k] = json!(b64(v.as_str().unwrap_or_default().as_bytes()));
            }
        }
        if obj.get("type").is_none() {
            obj["type"] = json!("Opaque");
        }
    }
}

/// Defaults a create gets from the real apiserver's strategies.
fn create_defaults(def: &ResourceDef, obj: &mut Value) {
    match (def.group, def.plural) {
        ("", "pods") => obj["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"}),
        ("", "namespaces") => {
            let name = str_at(obj, "/metadata/name")
                .unwrap_or_default()
                .to_string();
            if !obj["metadata"]["labels"].is_object() {
                obj["metadata"]["labels"] = json!({});
            }
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            if obj.get("spec").is_none() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
            obj["status"] = json!({"phase": "Active"});
        }
        _ => {
            if def.status
                && let Some(m) = obj.as_object_mut()
            {
                m.shift_remove("status");
            }
        }
    }
}

impl FakeApi {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn notify(&self) {
        self.shared.tick.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Collect a request body (any transport) into bytes.
    pub(crate) async fn collect<B>(
        req: http::Request<B>,
    ) -> Result<(http::request::Parts, Bytes), BoxError>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        match axum::body::to_bytes(Body::new(body), 256 << 20).await {
            Ok(b) => Ok((parts, b)),
            Err(e) => Err(e.to_string().into()),
        }
    }

    /// Handle one request (both transports end here).
    pub(crate) async fn handle(
        &self,
        parts: http::request::Parts,
        body: Bytes,
        host: String,
    ) -> Result<Resp, BoxError> {
        let header = |h: http::header::HeaderName| {
            parts
                .headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let method = parts.method.as_str().to_string();
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().unwrap_or("").to_string();
        let content_type = header(http::header::CONTENT_TYPE);
        let user_agent = header(http::header::USER_AGENT);
        let auth = header(http::header::AUTHORIZATION);
        let impersonate = header(http::header::HeaderName::from_static("impersonate-user"));

        let (user, fault) = {
            let mut st = self.lock();
            let user = match auth
                .as_deref()
                .map(|a| a.strip_prefix("Bearer ").map(str::trim))
            {
                None if !st.require_token => st.tokens.get(state::DEFAULT_TOKEN).cloned(),
                Some(Some(tok)) => st.tokens.get(tok).cloned(),
                _ => None,
            };
            // `kubectl --as=NAME`: members of system:masters may impersonate.
            let user = match (user, impersonate) {
                (Some(u), Some(name)) if u.groups.iter().any(|g| g == "system:masters") => {
                    Some(User {
                        name,
                        groups: vec!["system:authenticated".to_string()],
                    })
                }
                (u, _) => u,
            };
            st.requests.push(RecordedRequest {
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                content_type: content_type.clone(),
                user_agent: user_agent.clone(),
                user: user.as_ref().map(|u| u.name.clone()),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let mut fault = None;
            if let Some(rule) = st
                .faults
                .iter_mut()
                .find(|r| r.remaining > 0 && r.matcher.matches(&method, &path, &query))
            {
                rule.remaining -= 1;
                fault = Some(rule.fault.clone());
            }
            st.faults.retain(|r| r.remaining > 0);
            (user, fault)
        };
        let mut watch_fault = None;
        match fault {
            Some(Fault::Status {
                code,
                reason,
                message,
                retry_after_seconds,
            }) => {
                let details = retry_after_seconds.map(|s| json!({"retryAfterSeconds": s}));
                let mut resp = status(code, &reason, &message, details);
                if let Some(s) = retry_after_seconds
                    && let Ok(v) = http::HeaderValue::from_str(&s.to_string())
                {
                    resp.headers_mut().insert(http::header::RETRY_AFTER, v);
                }
                return Ok(resp);
            }
            Some(Fault::DropConnection) => {
                return Err("fakekube: connection dropped by fault injection".into());
            }
            Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
            Some(f @ (Fault::WatchExpired | Fault::WatchClose)) => watch_fault = Some(f),
            None => {}
        }
        let Some(user) = user else {
            return Ok(status(401, "Unauthorized", "Unauthorized", None));
        };
        let ctx = Ctx {
            q: parse_query(&query),
            method,
            path,
            content_type: content_type.unwrap_or_default(),
            user_agent,
            user,
            body,
        };
        let resp = self.dispatch(&ctx, &host, watch_fault);
        if ctx.method != "GET" {
            self.notify();
        }
        Ok(match resp {
            Ok(r) | Err(r) => r,
        })
    }

    fn dispatch(&self, ctx: &Ctx, host: &str, watch_fault: Option<Fault>) -> R {
        let tekton = self.lock().tekton;
        let t = match route(tekton, &ctx.path, host) {
            Route::Json(v) if ctx.method == "GET" => return Ok(json_resp(200, &v)),
            Route::Json(_) => {
                return Err(status(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    None,
                ));
            }
            Route::NotFound => return Err(server_not_found()),
            Route::Resource(t) => t,
        };
        let watch = ctx.flag("watch");
        let verb = verb(&ctx.method, &t, watch);
        {
            let st = self.lock();
            let resource = match &t.sub {
                Some(s) => format!("{}/{s}", t.def.plural),
                None => t.def.plural.to_string(),
            };
            if st.denies.iter().any(|d| {
                (d.user == ctx.user.name || d.user == "*")
                    && (d.verb == verb || d.verb == "*")
                    && (d.resource == resource || d.resource == "*")
            }) {
                return Err(forbidden(&t, &ctx.user.name, verb));
            }
        }
        match (ctx.method.as_str(), &t.name, t.sub.as_deref()) {
            ("GET", _, Some("log")) => self.logs(ctx, &t),
            ("GET", None, _) if watch => Ok(self.watch(ctx, &t, watch_fault)),
            ("GET", None, _) => self.list_objects(ctx, &t),
            ("GET", Some(_), _) => {
                let st = self.lock();
                let obj = st
                    .objects
                    .get(&t.key())
                    .ok_or_else(|| not_found(t.def, t.name()))?;
                Ok(json_resp(200, &present(obj, &t.gv())))
            }
            ("POST", None, None) => self.create(ctx, &t),
            ("PUT", Some(_), _) => self.put(ctx, &t),
            ("PATCH", Some(_), _) => self.patch(ctx, &t),
            ("DELETE", Some(_), None) => self.delete(ctx, &t),
            ("DELETE", None, None) => self.delete_collection(ctx, &t),
            _ => Err(status(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                None,
            )),
        }
    }

    fn selectors(ctx: &Ctx) -> Result<(LabelSelector, FieldSelector), Resp> {
        let ls = LabelSelector::parse(ctx.param("labelSelector").unwrap_or(""))
            .map_err(|e| bad_request(&e))?;
        let fs = FieldSelector::parse(ctx.param("fieldSelector").unwrap_or(""))
            .map_err(|e| bad_request(&e))?;
        Ok((ls, fs))
    }

    fn list_objects(&self, ctx: &Ctx, t: &Target) -> R {
        let (ls, fs) = Self::selectors(ctx)?;
        let st = self.lock();
        let gv = t.gv();
        let items: Vec<Value> = st
            .objects
            .iter()
            .filter(|(k, v)| {
                k.0 == t.def.group
                    && k.1 == t.def.plural
                    && t.ns.as_deref().is_none_or(|ns| k.2 == ns)
                    && ls.matches(v)
                    && fs.matches(v)
            })
            .map(|(_, v)| present(v, &gv))
            .collect();
        Ok(json_resp(
            200,
            &json!({"apiVersion": gv, "items": items, "kind": format!("{}List", t.def.kind),
                    "metadata": {"resourceVersion": st.rv.to_string()}}),
        ))
    }

    fn check_body_identity(t: &Target, body: &Value) -> Result<(), Resp> {
        if let Some(n) = str_at(body, "/metadata/name")
            && let Some(url) = &t.name
            && n != url
        {
            return Err(bad_request(&format!(
                "the name of the object ({n}) does not match the name on the URL ({url})"
            )));
        }
        if let Some(ns) = str_at(body, "/metadata/namespace")
            && t.def.namespaced
            && !ns.is_empty()
            && ns != t.ns()
        {
            return Err(bad_request(&format!(
                "the namespace of the object ({ns}) does not match the namespace on the request ({})",
                t.ns()
            )));
        }
        Ok(())
    }

    fn writer<'a>(t: &Target, manager: &'a str, gv: &'a str, now: &'a str) -> Writer<'a> {
        Writer {
            manager,
            api_version: gv,
            scope: t.scope(),
            now,
        }
    }

    fn create(&self, ctx: &Ctx, t: &Target) -> R {
        let mut obj = parse_json_body(&ctx.body)?;
        Self::check_body_identity(t, &obj)?;
        if str_at(&obj, "/metadata/resourceVersion").is_some_and(|s| !s.is_empty()) {
            return Err(bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        let gv = t.gv();
        obj["apiVersion"] = json!(gv);
        obj["kind"] = json!(t.def.kind);
        let mut st = self.lock();
        if t.def.namespaced {
            set_meta(&mut obj, "namespace", json!(t.ns()));
        } else {
            remove_meta(&mut obj, "namespace");
        }
        let name = match str_at(&obj, "/metadata/name").filter(|s| !s.is_empty()) {
            Some(n) => n.to_string(),
            None => match str_at(&obj, "/metadata/generateName").filter(|s| !s.is_empty()) {
                Some(g) => format!("{g}{}", st.name_suffix()),
                None => {
                    return Err(invalid(
                        t.def,
                        "",
                        "metadata.name",
                        "FieldValueRequired",
                        "Required value: name or generateName is required",
                    ));
                }
            },
        };
        set_meta(&mut obj, "name", json!(name));
        if t.def.namespaced && !st.namespace_exists(t.ns()) {
            return Err(namespace_not_found(t.ns()));
        }
        if st.objects.contains_key(&key(t.def, t.ns(), &name)) {
            return Err(status(
                409,
                "AlreadyExists",
                &format!("{} {name:?} already exists", t.def.qualified()),
                Some(details(t.def, &name)),
            ));
        }
        for f in [
            "uid",
            "creationTimestamp",
            "generation",
            "managedFields",
            "deletionTimestamp",
        ] {
            remove_meta(&mut obj, f);
        }
        create_defaults(t.def, &mut obj);
        normalise(t.def, &mut obj);
        let manager = ctx.manager();
        let now = st.now.clone();
        ssa::update(
            &Value::Null,
            &mut obj,
            Writer {
                scope: Scope::Main {
                    status_separate: t.def.status,
                },
                ..Self::writer(t, &manager, &gv, &now)
            },
        );
        let out = st.commit_create(t.def, obj, ctx.dry_run());
        Ok(json_resp(201, &present(&out, &gv)))
    }

    /// Build the new object of a non-apply write from the request's version
    /// of it, keeping what the scope may not change.
    fn merge_scope(t: &Target, old: &Value, mut incoming: Value) -> Value {
        match t.scope() {
            Scope::Status => {
                let mut new = old.clone();
                if let Some(m) = new.as_object_mut() {
                    match incoming
                        .as_object_mut()
                        .and_then(|i| i.shift_remove("status"))
                    {
                        Some(s) => {
                            m.insert("status".into(), s);
                        }
                        None => {
                            m.shift_remove("status");
                        }
                    }
                }
                if let Some(mf) = incoming.pointer("/metadata/managedFields") {
                    set_meta(&mut new, "managedFields", mf.clone());
                }
                new
            }
            Scope::Main { status_separate } => {
                for f in [
                    "name",
                    "namespace",
                    "uid",
                    "creationTimestamp",
                    "generation",
                    "deletionTimestamp",
                ] {
                    match old.pointer(&format!("/metadata/{f}")) {
                        Some(v) => set_meta(&mut incoming, f, v.clone()),
                        None => remove_meta(&mut incoming, f),
                    }
                }
                if status_separate && let Some(m) = incoming.as_object_mut() {
                    match old.get("status") {
                        Some(s) => {
                            m.insert("status".into(), s.clone());
                        }
                        None => {
                            m.shift_remove("status");
                        }
                    }
                }
                incoming
            }
        }
    }

    fn finish_update(
        &self,
        ctx: &Ctx,
        t: &Target,
        st: &mut State,
        old: &Value,
        incoming: Value,
    ) -> R {
        let gv = t.gv();
        let mut new = Self::merge_scope(t, old, incoming);
        set_meta(
            &mut new,
            "resourceVersion",
            old["metadata"]["resourceVersion"].clone(),
        );
        new["apiVersion"] = old["apiVersion"].clone();
        new["kind"] = json!(t.def.kind);
        normalise(t.def, &mut new);
        let manager = ctx.manager();
        let now = st.now.clone();
        ssa::update(old, &mut new, Self::writer(t, &manager, &gv, &now));
        let out = st.commit_update(t.def, old, new, ctx.dry_run());
        Ok(json_resp(200, &present(&out, &gv)))
    }

    fn put(&self, ctx: &Ctx, t: &Target) -> R {
        let body = parse_json_body(&ctx.body)?;
        Self::check_body_identity(t, &body)?;
        let mut st = self.lock();
        let old = st
            .objects
            .get(&t.key())
            .cloned()
            .ok_or_else(|| not_found(t.def, t.name()))?;
        match str_at(&body, "/metadata/resourceVersion").filter(|s| !s.is_empty()) {
            None if t.def.custom => {
                return Err(invalid(
                    t.def,
                    t.name(),
                    "metadata.resourceVersion",
                    "FieldValueInvalid",
                    "Invalid value: 0x0: must be specified for an update",
                ));
            }
            Some(rv) if Some(rv) != str_at(&old, "/metadata/resourceVersion") => {
                return Err(stale(t.def, t.name()));
            }
            _ => {}
        }
        self.finish_update(ctx, t, &mut st, &old, body)
    }

    fn patch(&self, ctx: &Ctx, t: &Target) -> R {
        let ct = ctx.content_type.split(';').next().unwrap_or("").trim();
        if ct == "application/apply-patch+yaml" {
            return self.apply(ctx, t);
        }
        if ctx.q.contains_key("force") {
            return Err(status(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
                Some(json!({"group": "meta.k8s.io", "kind": "PatchOptions",
                            "causes": [{"reason": "FieldValueForbidden", "message": "Forbidden: may not be specified for non-apply patch", "field": "force"}]})),
            ));
        }
        let patch_body: Value = serde_json::from_slice(&ctx.body)
            .map_err(|e| bad_request(&format!("error decoding patch: {e}")))?;
        let mut st = self.lock();
        let old = st
            .objects
            .get(&t.key())
            .cloned()
            .ok_or_else(|| not_found(t.def, t.name()))?;
        let mut patched = old.clone();
        match ct {
            "application/merge-patch+json" => patch::merge_patch(&mut patched, &patch_body),
            "application/strategic-merge-patch+json" if !t.def.custom => {
                patch::merge_patch(&mut patched, &patch_body)
            }
            "application/json-patch+json" => {
                patch::json_patch(&mut patched, &patch_body).map_err(|e| {
                    status(
                        422,
                        "Invalid",
                        &format!(
                            "the server rejected our request due to an error in our request: {e}"
                        ),
                        None,
                    )
                })?;
            }
            _ => return Err(unsupported_media()),
        }
        if !patched.is_object() {
            return Err(bad_request("the patch did not produce an object"));
        }
        if str_at(&patched, "/metadata/resourceVersion")
            != str_at(&old, "/metadata/resourceVersion")
        {
            return Err(stale(t.def, t.name()));
        }
        self.finish_update(ctx, t, &mut st, &old, patched)
    }

    fn apply(&self, ctx: &Ctx, t: &Target) -> R {
        let Some(manager) = ctx.param("fieldManager").map(str::to_string) else {
            return Err(status(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                Some(json!({"group": "meta.k8s.io", "kind": "PatchOptions",
                            "causes": [{"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]})),
            ));
        };
        let force = ctx.flag("force");
        let intent: Value = serde_saphyr::from_slice(&ctx.body)
            .map_err(|e| bad_request(&format!("error decoding YAML: {e}")))?;
        if !intent.is_object() {
            return Err(bad_request(
                "error decoding YAML: the apply patch is not an object",
            ));
        }
        if intent
            .pointer("/metadata/managedFields")
            .is_some_and(|v| !v.is_null())
        {
            return Err(bad_request("metadata.managedFields must be nil"));
        }
        let gv = t.gv();
        if let Some(av) = str_at(&intent, "/apiVersion")
            && av != gv
        {
            return Err(bad_request(&format!(
                "Incorrect version specified in apply patch. Specified patch version: {av}, expected: {gv}"
            )));
        }
        if let Some(kind) = str_at(&intent, "/kind")
            && kind != t.def.kind
        {
            return Err(status(
                500,
                "InternalError",
                &format!(
                    "failed to create typed patch object: no corresponding type for {gv}, Kind={kind}"
                ),
                None,
            ));
        }
        Self::check_body_identity(t, &intent)?;
        let mut st = self.lock();
        let now = st.now.clone();
        let w = Self::writer(t, &manager, &gv, &now);
        let dry = ctx.dry_run();
        match st.objects.get(&t.key()).cloned() {
            None => {
                if t.scope() == Scope::Status {
                    return Err(not_found(t.def, t.name()));
                }
                if t.def.namespaced && !st.namespace_exists(t.ns()) {
                    return Err(namespace_not_found(t.ns()));
                }
                let mut skeleton =
                    json!({"apiVersion": gv, "kind": t.def.kind, "metadata": {"name": t.name()}});
                if t.def.namespaced {
                    skeleton["metadata"]["namespace"] = json!(t.ns());
                }
                let mut obj = ssa::apply(&skeleton, &intent, w, force).map_err(|c| conflict(&c))?;
                create_defaults(t.def, &mut obj);
                normalise(t.def, &mut obj);
                let out = st.commit_create(t.def, obj, dry);
                Ok(json_resp(201, &present(&out, &gv)))
            }
            Some(live) => {
                if let Some(rv) = str_at(&intent, "/metadata/resourceVersion")
                    && Some(rv) != str_at(&live, "/metadata/resourceVersion")
                {
                    return Err(stale(t.def, t.name()));
                }
                let mut obj = ssa::apply(&live, &intent, w, force).map_err(|c| conflict(&c))?;
                normalise(t.def, &mut obj);
                let out = st.commit_update(t.def, &live, obj, dry);
                Ok(json_resp(200, &present(&out, &gv)))
            }
        }
    }

    fn delete_options(ctx: &Ctx) -> (bool, Option<Value>) {
        let body: Value = serde_json::from_slice(&ctx.body).unwrap_or(Value::Null);
        let dry = ctx.dry_run()
            || body
                .get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| v == "All"));
        (dry, body.get("preconditions").cloned())
    }

    fn delete(&self, ctx: &Ctx, t: &Target) -> R {
        let (dry, pre) = Self::delete_options(ctx);
        let mut st = self.lock();
        let old = st
            .objects
            .get(&t.key())
            .cloned()
            .ok_or_else(|| not_found(t.def, t.name()))?;
        if let Some(pre) = pre {
            for (field, ptr, label) in [
                ("uid", "/metadata/uid", "UID"),
                (
                    "resourceVersion",
                    "/metadata/resourceVersion",
                    "ResourceVersion",
                ),
            ] {
                if let Some(want) = pre.get(field).and_then(Value::as_str) {
                    let have = str_at(&old, ptr).unwrap_or_default();
                    if want != have {
                        return Err(status(
                            409,
                            "Conflict",
                            &format!(
                                "Operation cannot be fulfilled on {} {:?}: Precondition failed: {label} in precondition: {want}, {label} in object meta: {have}",
                                t.def.qualified(),
                                t.name()
                            ),
                            Some(details(t.def, t.name())),
                        ));
                    }
                }
            }
        }
        let gv = t.gv();
        let has_finalizers = old
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if has_finalizers {
            let mut new = old.clone();
            if new.pointer("/metadata/deletionTimestamp").is_none() {
                let now = st.now.clone();
                set_meta(&mut new, "deletionTimestamp", json!(now));
                set_meta(&mut new, "deletionGracePeriodSeconds", json!(0));
            }
            let out = st.commit_update(t.def, &old, new, dry);
            return Ok(json_resp(200, &present(&out, &gv)));
        }
        let gone = st.commit_delete(t.def, &old, dry);
        Ok(match (t.def.group, t.def.plural) {
            ("", "pods") => json_resp(200, &present(&gone, &gv)),
            ("", "namespaces") => {
                let mut ns = gone;
                let now = st.now.clone();
                set_meta(&mut ns, "deletionTimestamp", json!(now));
                ns["status"] = json!({"phase": "Terminating"});
                json_resp(200, &present(&ns, &gv))
            }
            _ => {
                let mut d = details(t.def, t.name());
                d["uid"] = old["metadata"]["uid"].clone();
                json_resp(
                    200,
                    &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d}),
                )
            }
        })
    }

    fn delete_collection(&self, ctx: &Ctx, t: &Target) -> R {
        let (ls, fs) = Self::selectors(ctx)?;
        let (dry, _) = Self::delete_options(ctx);
        let mut st = self.lock();
        let victims: Vec<Value> = st
            .objects
            .iter()
            .filter(|(k, v)| {
                k.0 == t.def.group
                    && k.1 == t.def.plural
                    && t.ns.as_deref().is_none_or(|ns| k.2 == ns)
                    && ls.matches(v)
                    && fs.matches(v)
            })
            .map(|(_, v)| v.clone())
            .collect();
        let gv = t.gv();
        let items: Vec<Value> = victims
            .iter()
            .map(|v| present(&st.commit_delete(t.def, v, dry), &gv))
            .collect();
        Ok(json_resp(
            200,
            &json!({"apiVersion": gv, "items": items, "kind": format!("{}List", t.def.kind),
                    "metadata": {"resourceVersion": st.rv.to_string()}}),
        ))
    }

    fn watch(&self, ctx: &Ctx, t: &Target, fault: Option<Fault>) -> Resp {
        let (ls, fs) = match Self::selectors(ctx) {
            Ok(s) => s,
            Err(r) => return r,
        };
        let gv = t.gv();
        let timeout = ctx
            .param("timeoutSeconds")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(1800);
        let mut w = WatchStream {
            api: self.clone(),
            group: t.def.group,
            plural: t.def.plural,
            kind: t.def.kind,
            ns: t.ns.clone(),
            ls,
            fs,
            gv,
            cursor: 0,
            pending: VecDeque::new(),
            done: false,
            bookmarks: ctx.flag("allowWatchBookmarks"),
            deadline: tokio::time::Instant::now() + Duration::from_secs(timeout),
            rx: self.shared.tick.subscribe(),
            close_epoch: 0,
            expire_epoch: 0,
        };
        {
            let st = self.lock();
            w.close_epoch = st.close_epoch;
            w.expire_epoch = st.expire_epoch;
            let rv = ctx
                .param("resourceVersion")
                .and_then(|s| s.parse::<u64>().ok());
            match (fault, rv) {
                (Some(Fault::WatchClose), _) => w.done = true,
                (Some(Fault::WatchExpired), _) => w.expire(st.rv),
                (_, Some(n)) if n > 0 => {
                    w.cursor = n;
                    if n < st.compacted {
                        w.expire(st.compacted);
                    }
                }
                _ => {
                    w.cursor = st.rv;
                    let objs: Vec<Value> = st
                        .objects
                        .iter()
                        .filter(|(k, v)| {
                            k.0 == w.group
                                && k.1 == w.plural
                                && w.ns.as_deref().is_none_or(|ns| k.2 == ns)
                                && w.ls.matches(v)
                                && w.fs.matches(v)
                        })
                        .map(|(_, v)| v.clone())
                        .collect();
                    for o in objs {
                        w.push("ADDED", &o);
                    }
                    if ctx.flag("sendInitialEvents") {
                        let mut b = w.bookmark();
                        b["object"]["metadata"]["annotations"] =
                            json!({"k8s.io/initial-events-end": "true"});
                        w.push_raw(&b);
                    }
                }
            }
        }
        let stream = futures::stream::unfold(w, |mut w| async move {
            w.next_chunk()
                .await
                .map(|b| (Ok::<Bytes, std::io::Error>(b), w))
        });
        http::Response::builder()
            .status(200)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(stream))
            .unwrap_or_else(|_| http::Response::new(Body::empty()))
    }

    fn logs(&self, ctx: &Ctx, t: &Target) -> R {
        let st = self.lock();
        let pod = st
            .objects
            .get(&t.key())
            .cloned()
            .ok_or_else(|| not_found(t.def, t.name()))?;
        let names = |ptr: &str| -> Vec<String> {
            pod.pointer(ptr)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let containers = names("/spec/containers");
        let inits = names("/spec/initContainers");
        let name = t.name();
        let container = match ctx.param("container") {
            Some(c) => {
                if !containers.iter().chain(inits.iter()).any(|n| n == c) {
                    return Err(bad_request(&format!(
                        "container {c} is not valid for pod {name}"
                    )));
                }
                c.to_string()
            }
            None => match containers.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(bad_request(&format!(
                        "pod {name} does not have a container"
                    )));
                }
                many => {
                    let mut msg = format!(
                        "a container name must be specified for pod {name}, choose one of: [{}]",
                        many.join(" ")
                    );
                    if !inits.is_empty() {
                        msg.push_str(&format!(
                            " or one of the init containers: [{}]",
                            inits.join(" ")
                        ));
                    }
                    return Err(bad_request(&msg));
                }
            },
        };
        for ptr in ["/status/containerStatuses", "/status/initContainerStatuses"] {
            let statuses = pod
                .pointer(ptr)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if let Some(s) = statuses
                .iter()
                .find(|s| s.get("name").and_then(Value::as_str) == Some(container.as_str()))
                && let Some(waiting) = s.pointer("/state/waiting")
            {
                let reason = waiting
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("ContainerCreating");
                return Err(bad_request(&format!(
                    "container {container:?} in pod {name:?} is waiting to start: {reason}"
                )));
            }
        }
        let follow = ctx.flag("follow");
        let buf = st
            .logs
            .get(&(t.ns().to_string(), name.to_string(), container.clone()))
            .cloned()
            .unwrap_or_default();
        let ts = if ctx.flag("timestamps") {
            let now = st.now.clone();
            Some(match now.strip_suffix('Z') {
                Some(s) if !s.contains('.') => format!("{s}.000000000Z "),
                _ => format!("{now} "),
            })
        } else {
            None
        };
        drop(st);
        let skip = match ctx.param("tailLines").and_then(|s| s.parse::<usize>().ok()) {
            Some(n) => buf.lines.len().saturating_sub(n),
            None => 0,
        };
        let limit = ctx
            .param("limitBytes")
            .and_then(|s| s.parse::<usize>().ok());
        let stream = LogStream {
            api: self.clone(),
            key: (t.ns().to_string(), name.to_string(), container),
            next: skip,
            follow,
            prefix: ts,
            remaining: limit,
            rx: self.shared.tick.subscribe(),
            done: false,
        };
        let body = futures::stream::unfold(stream, |mut s| async move {
            s.next_chunk()
                .await
                .map(|b| (Ok::<Bytes, std::io::Error>(b), s))
        });
        Ok(http::Response::builder()
            .status(200)
            .header(http::header::CONTENT_TYPE, "text/plain")
            .body(Body::from_stream(body))
            .unwrap_or_else(|_| http::Response::new(Body::empty())))
    }
}

fn conflict(conflicts: &[ssa::Conflict]) -> Resp {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", c.display),
                   "field": ssa::path_string(&c.path)})
        })
        .collect();
    status(
        409,
        "Conflict",
        &ssa::conflict_message(conflicts),
        Some(json!({"causes": causes})),
    )
}

struct WatchStream {
    api: FakeApi,
    group: &'static str,
    plural: &'static str,
    kind: &'static str,
    ns: Option<String>,
    ls: LabelSelector,
    fs: FieldSelector,
    gv: String,
    cursor: u64,
    pending: VecDeque<Bytes>,
    done: bool,
    bookmarks: bool,
    deadline: tokio::time::Instant,
    rx: tokio::sync::watch::Receiver<u64>,
    close_epoch: u64,
    expire_epoch: u64,
}

impl WatchStream {
    fn push_raw(&mut self, ev: &Value) {
        let mut line = serde_json::to_vec(ev).unwrap_or_default();
        line.push(b'\n');
        self.pending.push_back(Bytes::from(line));
    }

    fn push(&mut self, etype: &str, obj: &Value) {
        let ev = json!({"type": etype, "object": present(obj, &self.gv)});
        self.push_raw(&ev);
    }

    fn bookmark(&self) -> Value {
        json!({"type": "BOOKMARK", "object": {"apiVersion": self.gv, "kind": self.kind,
               "metadata": {"resourceVersion": self.cursor.to_string()}}})
    }

    fn expire(&mut self, current: u64) {
        let st = status_value(
            410,
            "Expired",
            &format!("too old resource version: {} ({current})", self.cursor),
            None,
        );
        self.push_raw(&json!({"type": "ERROR", "object": st}));
        self.done = true;
    }

    fn matches(&self, obj: &Value) -> bool {
        self.ls.matches(obj) && self.fs.matches(obj)
    }

    fn poll_state(&mut self) {
        self.rx.borrow_and_update();
        let api = self.api.clone();
        let st = api.lock();
        if st.close_epoch != self.close_epoch {
            self.done = true;
            return;
        }
        if st.expire_epoch != self.expire_epoch {
            self.expire(st.rv);
            return;
        }
        if self.cursor < st.compacted {
            self.expire(st.compacted);
            return;
        }
        let events: Vec<state::Event> = st
            .events
            .iter()
            .filter(|e| e.rv > self.cursor)
            .filter(|e| {
                e.group == self.group
                    && e.plural == self.plural
                    && self.ns.as_deref().is_none_or(|ns| e.ns == ns)
            })
            .cloned()
            .collect();
        let top = st.rv.max(self.cursor);
        drop(st);
        for e in events {
            let now = self.matches(&e.object);
            let before = e.old.as_ref().is_some_and(|o| self.matches(o));
            match e.etype {
                "MODIFIED" if now && before => self.push("MODIFIED", &e.object),
                "MODIFIED" if now => self.push("ADDED", &e.object),
                "MODIFIED" if before => self.push("DELETED", &e.object),
                "MODIFIED" => {}
                t if now => self.push(t, &e.object),
                _ => {}
            }
        }
        self.cursor = top;
    }

    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some(b);
            }
            if self.done {
                return None;
            }
            self.poll_state();
            if !self.pending.is_empty() || self.done {
                continue;
            }
            tokio::select! {
                r = self.rx.changed() => if r.is_err() { self.done = true; },
                _ = tokio::time::sleep_until(self.deadline) => {
                    if self.bookmarks {
                        let b = self.bookmark();
                        self.push_raw(&b);
                    }
                    self.done = true;
                }
            }
        }
    }
}

struct LogStream {
    api: FakeApi,
    key: (String, String, String),
    next: usize,
    follow: bool,
    prefix: Option<String>,
    remaining: Option<usize>,
    rx: tokio::sync::watch::Receiver<u64>,
    done: bool,
}

impl LogStream {
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if self.done || self.remaining == Some(0) {
                return None;
            }
            self.rx.borrow_and_update();
            let (chunk, ended, pod_gone) = {
                let st = self.api.lock();
                let buf = st.logs.get(&self.key);
                let lines: Vec<String> = buf
                    .map(|b| b.lines[self.next.min(b.lines.len())..].to_vec())
                    .unwrap_or_default();
                let pod_gone = !st.objects.contains_key(&(
                    String::new(),
                    "pods".to_string(),
                    self.key.0.clone(),
                    self.key.1.clone(),
                ));
                (lines, buf.is_some_and(|b| b.ended), pod_gone)
            };
            if !chunk.is_empty() {
                self.next += chunk.len();
                let mut out = String::new();
                for l in chunk {
                    if let Some(p) = &self.prefix {
                        out.push_str(p);
                    }
                    out.push_str(&l);
                    out.push('\n');
                }
                let mut bytes = out.into_bytes();
                if let Some(r) = self.remaining.as_mut() {
                    bytes.truncate(*r);
                    *r -= bytes.len();
                }
                return Some(Bytes::from(bytes));
            }
            if !self.follow || ended || pod_gone {
                return None;
            }
            if self.rx.changed().await.is_err() {
                self.done = true;
            }
        }
    }
}
