//! References to tasks, pipelines and step actions that live elsewhere (resolvers, custom tasks).

use super::*;
use crate::diag::codes;

// ---------------------------------------------------------------------------------------------
// References (resolvers, custom tasks)

impl RefValue {
    pub(super) fn resolver(
        resolver: &str,
        params: Vec<(String, Value)>,
        kind_param: bool,
    ) -> RefValue {
        let mut json = Map::new();
        json.insert("resolver".into(), Value::String(resolver.into()));
        json.insert(
            "params".into(),
            Value::Array(
                params
                    .into_iter()
                    .map(|(n, v)| json!({ "name": n, "value": v }))
                    .collect(),
            ),
        );
        RefValue {
            json,
            kind_param,
            custom_spec: None,
        }
    }

    /// The reference as used for a `kind` of object (`task`, `pipeline`, `stepaction`).
    pub fn finish(&self, kind: &str, set_task_kind: bool) -> Map<String, Value> {
        let mut j = self.json.clone();
        if self.kind_param
            && let Some(Value::Array(ps)) = j.get_mut("params")
            && !ps.iter().any(|p| p["name"] == "kind")
        {
            ps.insert(0, json!({ "name": "kind", "value": kind }));
        }
        if set_task_kind && !j.contains_key("resolver") && !j.contains_key("kind") {
            j.insert("kind".into(), Value::String("Task".into()));
        }
        j
    }
}

pub(super) fn opts_params(
    opts: &rhai::Map,
    allowed: &[&str],
    what: &str,
) -> Result<Vec<(String, Value)>, HostError> {
    let mut out = Vec::new();
    for (k, v) in opts.iter() {
        if !allowed.contains(&k.as_str()) {
            return Err(unknown_key(k, what, allowed));
        }
        out.push((k.to_string(), convert::param_value(v, what)?));
    }
    Ok(out)
}

pub(super) fn from_hub(name: &str, version: &str, opts: rhai::Map) -> R<RefValue> {
    let mut ps = Vec::new();
    let extra = opts_params(
        &opts,
        &["catalog", "type", "kind", "url"],
        "from_hub options",
    )?;
    for key in ["catalog", "type", "kind", "url"] {
        if let Some((k, v)) = extra.iter().find(|(k, _)| k == key) {
            ps.push((k.clone(), v.clone()));
        }
    }
    let has_kind = ps.iter().any(|(k, _)| k == "kind");
    ps.push(("name".into(), Value::String(name.into())));
    ps.push(("version".into(), Value::String(version.into())));
    Ok(RefValue::resolver("hub", ps, !has_kind))
}

pub(super) fn from_git(opts: rhai::Map) -> R<RefValue> {
    const KEYS: &[&str] = &[
        "url",
        "org",
        "repo",
        "revision",
        "pathInRepo",
        "token",
        "tokenKey",
        "gitToken",
        "gitTokenKey",
        "serverURL",
        "scmType",
        "cache",
    ];
    let given = opts_params(&opts, KEYS, "from_git options")?;
    if !given.iter().any(|(k, _)| k == "url" || k == "repo") {
        return Err(HostError::new(codes::E010, "from_git needs `url` (or `org` and `repo`)")
            .help("from_git(#{ url: \"https://github.com/org/repo\", revision: \"main\", pathInRepo: \"task/x.yaml\" })")
            .into());
    }
    if !given.iter().any(|(k, _)| k == "pathInRepo") {
        return Err(HostError::new(
            codes::E010,
            "from_git needs `pathInRepo`, the YAML file to fetch",
        )
        .into());
    }
    // Tekton's documented order
    let mut ps = Vec::new();
    for key in KEYS {
        if let Some(p) = given.iter().find(|(k, _)| k == key) {
            ps.push(p.clone());
        }
    }
    Ok(RefValue::resolver("git", ps, false))
}

pub(super) fn from_bundle(image: &str, name: &str, opts: rhai::Map) -> R<RefValue> {
    let extra = opts_params(&opts, &["kind", "secret", "cache"], "from_bundle options")?;
    let mut ps = vec![
        ("bundle".to_string(), Value::String(image.into())),
        ("name".to_string(), Value::String(name.into())),
    ];
    let has_kind = extra.iter().any(|(k, _)| k == "kind");
    ps.extend(extra);
    Ok(RefValue::resolver("bundles", ps, !has_kind))
}

pub(super) fn from_cluster(name: &str, opts: rhai::Map) -> R<RefValue> {
    let extra = opts_params(
        &opts,
        &["kind", "namespace", "cache"],
        "from_cluster options",
    )?;
    let mut ps = Vec::new();
    if let Some(k) = extra.iter().find(|(k, _)| k == "kind") {
        ps.push(k.clone());
    }
    ps.push(("name".into(), Value::String(name.into())));
    ps.extend(extra.iter().filter(|(k, _)| k != "kind").cloned());
    let has_kind = extra.iter().any(|(k, _)| k == "kind");
    Ok(RefValue::resolver("cluster", ps, !has_kind))
}

pub(super) fn from_http(url: &str, opts: rhai::Map) -> R<RefValue> {
    let extra = opts_params(
        &opts,
        &[
            "http-username",
            "http-password-secret",
            "http-password-secret-key",
            "digest",
        ],
        "from_http options",
    )?;
    let mut ps = vec![("url".to_string(), Value::String(url.into()))];
    ps.extend(extra);
    Ok(RefValue::resolver("http", ps, false))
}

pub(super) fn from_resolver(resolver: &str, params: rhai::Map) -> R<RefValue> {
    let mut ps = Vec::new();
    for (k, v) in params.iter() {
        ps.push((k.to_string(), convert::param_value(v, "resolver params")?));
    }
    Ok(RefValue::resolver(resolver, ps, false))
}

pub(super) fn custom_task(api_version: &str, kind: &str, name: &str) -> RefValue {
    let mut json = Map::new();
    json.insert("apiVersion".into(), Value::String(api_version.into()));
    json.insert("kind".into(), Value::String(kind.into()));
    if !name.is_empty() {
        json.insert("name".into(), Value::String(name.into()));
    }
    RefValue {
        json,
        kind_param: false,
        custom_spec: None,
    }
}
