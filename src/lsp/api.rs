//! The script API as the editor sees it (signatures, docs, option keys, return types), read from
//! `docs/script-api.md` — the one source of truth: hover and completion show what the reference says,
//! and the tests check that the reference documents exactly the functions the engine registers.
//!
//! The parts of the reference that are read:
//! - `### \`f(a)\` / \`f(a, opts)\` → Type` headings: signatures, return type, the text below as docs;
//! - tables whose first column holds calls (`\`t.step(map)\``): one entry per call, the other columns
//!   as docs (a `returns` column gives the return type);
//! - `| option | value |` tables: the option keys of the heading's functions; `| key | … |` tables and the
//!   backticked field list of "A step map has …" in the Steps section: the step map keys;
//! - the handles table: the properties (`.path`, `.all`, …) of each handle type;
//! - `options \`a\`, \`b\`` / `Options: …` / `fields: …` lists inside docs: option keys too.

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub const SOURCE: &str = include_str!("../../docs/script-api.md");

/// A documented function, method or property.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The receiver type of a method or property (`Task`, `Pipeline`, …).
    pub receiver: Option<String>,
    pub name: String,
    /// As documented: `t.param(name, opts)`.
    pub signatures: Vec<String>,
    /// The script type it returns, when that is one of the API's types (or `string`).
    pub returns: Option<String>,
    pub doc: String,
    /// A property (`t.name`, `x.path`) rather than a call.
    pub property: bool,
    /// Key of its options in [`Api::options`].
    pub options: Option<String>,
}

impl Entry {
    /// The numbers of arguments its documented signatures take (without the receiver).
    pub fn arities(&self) -> Vec<usize> {
        self.signatures.iter().filter_map(|s| arity(s)).collect()
    }
}

#[derive(Debug, Clone)]
pub struct OptionKey {
    pub key: String,
    pub doc: String,
}

#[derive(Debug, Default)]
pub struct Api {
    pub entries: Vec<Entry>,
    /// Option sets by key (`task`, `Pipeline.task`, `step`, …).
    pub options: BTreeMap<String, Vec<OptionKey>>,
}

/// Receiver letters used in the reference.
fn receiver_type(letter: &str) -> Option<&'static str> {
    Some(match letter {
        "t" => "Task",
        "p" => "Pipeline",
        "pt" => "PipelineTask",
        "sa" => "StepAction",
        _ => return None,
    })
}

pub const TYPES: &[&str] = &[
    "PipelineWorkspace",
    "PipelineRun",
    "PipelineTask",
    "Pipeline",
    "TaskRun",
    "Task",
    "StepAction",
    "StepResultRef",
    "ResultRef",
    "Result",
    "Param",
    "Workspace",
    "Reference",
];

/// The type named in a piece of doc text (`Param handle`, `pipeline task`, `returns \`pt\``).
fn type_in(text: &str) -> Option<String> {
    let text = text.trim();
    if text.starts_with("pipeline task") || text.contains("returns `pt`") {
        return Some("PipelineTask".into());
    }
    if text.starts_with("string") {
        return Some("string".into());
    }
    let first = text.split([' ', ',', '(']).next().unwrap_or("");
    TYPES.iter().find(|t| **t == first).map(|t| t.to_string())
}

/// `t.param(name, opts)` → (receiver type, name, property?).
fn parse_call(sig: &str) -> Option<(Option<String>, String, bool)> {
    let sig = sig.trim();
    let (head, call) = match sig.find('(') {
        Some(i) => (&sig[..i], true),
        None => (sig, false),
    };
    let (recv, name) = match head.split_once('.') {
        Some((r, n)) => (Some(receiver_type(r)?.to_string()), n),
        None => (None, head),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    if !call && recv.is_none() {
        return None;
    }
    Some((recv, name.to_string(), !call))
}

/// Number of arguments in a documented call.
pub fn arity(sig: &str) -> Option<usize> {
    let open = sig.find('(')?;
    let inner = &sig[open + 1..sig.rfind(')')?];
    if inner.trim().is_empty() {
        return Some(0);
    }
    let mut depth = 0;
    let mut n = 1;
    for c in inner.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => n += 1,
            _ => {}
        }
    }
    Some(n)
}

/// The backticked spans of a line.
fn ticks(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

fn cells(line: &str) -> Vec<String> {
    let t = line.trim().trim_start_matches('|').trim_end_matches('|');
    // `|` inside backticks is not a column separator
    let mut out = vec![String::new()];
    let mut in_tick = false;
    for c in t.chars() {
        match c {
            '`' => {
                in_tick = !in_tick;
                out.last_mut().expect("one cell").push(c);
            }
            '|' if !in_tick => out.push(String::new()),
            _ => out.last_mut().expect("one cell").push(c),
        }
    }
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// Option keys named in a doc text: "options `a`, `b`", "opts `a`", "Options: `a`, …", "fields: `a`".
fn inline_options(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in [
        "options `",
        "opts `",
        "Options: `",
        "fields: `",
        "`opts`: `",
    ] {
        let mut rest = text;
        while let Some(i) = rest.find(marker) {
            let after = &rest[i + marker.len() - 1..];
            let mut s = after;
            while let Some(body) = s.strip_prefix('`') {
                let Some(end) = body.find('`') else { break };
                let key = &body[..end];
                if key
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                {
                    out.push(key.to_string());
                }
                s = &body[end + 1..];
                // skip a parenthesized remark: `type` (`artifact`/`tekton`)
                let t = s.trim_start();
                let t = if t.starts_with('(') {
                    t.find(')').map(|e| &t[e + 1..]).unwrap_or("")
                } else {
                    t
                };
                let Some(t) = t
                    .strip_prefix(',')
                    .or_else(|| t.strip_prefix(" and"))
                    .or_else(|| t.strip_prefix("and"))
                else {
                    break;
                };
                s = t.trim_start();
                if let Some(r) = s.strip_prefix("and ") {
                    s = r;
                }
            }
            rest = &after[1..];
        }
    }
    out
}

fn strip_md(s: &str) -> String {
    s.replace("**", "")
}

/// Reads the reference.
pub fn parse(md: &str) -> Api {
    let mut api = Api::default();
    // option sets that an `| option |` table below the current heading fills
    let mut heading_sets: Vec<String> = Vec::new();
    let mut section = String::new();
    let mut in_code = false;
    let mut table: Option<Vec<String>> = None;
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim().to_string();
            heading_sets.clear();
            table = None;
            continue;
        }
        if let Some(h) = line.strip_prefix("### ") {
            heading_sets.clear();
            if h.trim() == "Pipeline task options" {
                heading_sets = vec!["Pipeline.task".into(), "Pipeline.finally".into()];
            }
            table = None;
            // `f(a)` / `f(a, opts)` → T, `g(b)` → U
            let mut groups: Vec<(Vec<String>, Option<String>)> = Vec::new();
            for part in h.split(", `") {
                let sigs: Vec<String> = ticks(&format!("`{}", part.trim_start_matches('`')))
                    .into_iter()
                    .filter(|s| s.contains('('))
                    .map(str::to_string)
                    .collect();
                let ret = part.split('→').nth(1).and_then(type_in);
                if !sigs.is_empty() {
                    groups.push((sigs, ret));
                }
            }
            let mut doc = String::new();
            while i < lines.len()
                && !lines[i].starts_with('#')
                && !lines[i].starts_with('|')
                && !lines[i].starts_with("```")
                && !lines[i].starts_with("---")
            {
                doc.push_str(lines[i]);
                doc.push('\n');
                i += 1;
            }
            let doc = strip_md(doc.trim());
            for (sigs, ret) in groups {
                let Some((recv, name, prop)) = parse_call(&sigs[0]) else {
                    continue;
                };
                let key = match &recv {
                    Some(r) => format!("{r}.{name}"),
                    None => name.clone(),
                };
                let inline = inline_options(&doc);
                if !inline.is_empty() {
                    add_keys(&mut api, &key, inline, "");
                }
                heading_sets.push(key.clone());
                add_entry(
                    &mut api,
                    Entry {
                        receiver: recv,
                        name,
                        signatures: sigs,
                        returns: ret,
                        doc: doc.clone(),
                        property: prop,
                        options: Some(key),
                    },
                );
            }
            continue;
        }
        if line.starts_with('|') {
            let row = cells(line);
            if row.iter().all(|c| c.chars().all(|c| c == '-' || c == ':')) {
                continue;
            }
            let Some(header) = &table else {
                table = Some(row);
                continue;
            };
            let first_col = header[0].as_str();
            if first_col == "option" || first_col == "key" {
                let sets: Vec<String> = if section == "Steps" {
                    vec!["step".to_string()]
                } else {
                    heading_sets.clone()
                };
                let names: Vec<String> = ticks(&row[0]).into_iter().map(str::to_string).collect();
                let doc = strip_md(&row[1..].join(" — "));
                for set in sets {
                    add_keys(&mut api, &set, names.clone(), &doc);
                }
                continue;
            }
            if first_col == "handle" {
                handle_row(&mut api, &row);
                continue;
            }
            // only tables of calls document functions (`| call |`, `| helper |`, …)
            if !matches!(first_col, "call" | "helper" | "function" | "getter") {
                continue;
            }
            let all_task = header
                .get(1)
                .is_some_and(|h| h.contains("returns the Task"));
            let ret_col = header.iter().position(|h| h == "returns");
            let ret = if all_task {
                Some("Task".to_string())
            } else {
                ret_col.and_then(|c| row.get(c)).and_then(|c| type_in(c))
            };
            let doc_cells: Vec<&String> = row
                .iter()
                .enumerate()
                .filter(|(c, s)| *c > 0 && Some(*c) != ret_col && !s.is_empty())
                .map(|(_, s)| s)
                .collect();
            let mut doc = strip_md(
                &doc_cells
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" — "),
            );
            if let (Some(c), Some(r)) = (ret_col, ret_col.and_then(|c| row.get(c)))
                && !r.is_empty()
                && r != "–"
                && c > 0
            {
                doc = format!("returns {r}. {doc}");
            }
            for sig in ticks(&row[0]) {
                let Some((recv, name, prop)) = parse_call(sig) else {
                    continue;
                };
                let key = match &recv {
                    Some(r) => format!("{r}.{name}"),
                    None => name.clone(),
                };
                let inline = inline_options(&doc);
                let options = if matches!(
                    key.as_str(),
                    "Task.step" | "Task.sidecar" | "Task.step_template"
                ) {
                    Some("step".to_string())
                } else if !inline.is_empty() {
                    add_keys(&mut api, &key, inline, "");
                    Some(key.clone())
                } else {
                    None
                };
                add_entry(
                    &mut api,
                    Entry {
                        receiver: recv,
                        name,
                        signatures: vec![sig.to_string()],
                        returns: ret.clone(),
                        doc: doc.clone(),
                        property: prop,
                        options,
                    },
                );
            }
            continue;
        }
        table = None;
        if section == "Steps" && line.starts_with("A step map has") {
            let mut text = line.to_string();
            while i < lines.len() && !lines[i].trim().is_empty() {
                text.push(' ');
                text.push_str(lines[i]);
                i += 1;
            }
            let keys: Vec<String> = ticks(&text)
                .into_iter()
                .filter(|k| k.chars().all(char::is_alphanumeric) && *k != "Step")
                .map(str::to_string)
                .collect();
            add_keys(&mut api, "step", keys, "a Tekton Step field");
        }
        if !heading_sets.is_empty() && !line.trim().is_empty() {
            // more text after a table: options named there belong to the heading too
            let inline = inline_options(line);
            if !inline.is_empty() {
                for set in heading_sets.clone() {
                    add_keys(&mut api, &set, inline.clone(), "");
                }
            }
        }
    }
    for e in &mut api.entries {
        if e.options.is_none() {
            let key = match &e.receiver {
                Some(r) => format!("{r}.{}", e.name),
                None => e.name.clone(),
            };
            if api.options.contains_key(&key) {
                e.options = Some(key);
            }
        }
    }
    api
}

/// Adds an entry, merging it into an existing one with the same receiver and name (another arity).
fn add_entry(api: &mut Api, e: Entry) {
    if let Some(old) = api
        .entries
        .iter_mut()
        .find(|o| o.receiver == e.receiver && o.name == e.name && o.property == e.property)
    {
        for s in e.signatures {
            if !old.signatures.contains(&s) {
                old.signatures.push(s);
            }
        }
        if old.options.is_none() {
            old.options = e.options;
        }
        if old.returns.is_none() {
            old.returns = e.returns;
        }
        // a section's text says more than a table row
        if e.doc.len() > old.doc.len() {
            old.doc = e.doc;
        }
        return;
    }
    api.entries.push(e);
}

fn add_keys(api: &mut Api, set: &str, keys: Vec<String>, doc: &str) {
    let v = api.options.entry(set.to_string()).or_default();
    for k in keys {
        let k = k.trim_end_matches(" (required)").to_string();
        match v.iter_mut().find(|o| o.key == k) {
            Some(o) if o.doc.is_empty() || o.doc == "a Tekton Step field" => {
                if !doc.is_empty() {
                    o.doc = doc.to_string();
                }
            }
            Some(_) => {}
            None => v.push(OptionKey {
                key: k,
                doc: doc.to_string(),
            }),
        }
    }
}

/// A row of the handles table: `| Param | from | renders as | also |`.
fn handle_row(api: &mut Api, row: &[String]) {
    let ty = match row[0].as_str() {
        s if s.starts_with("pipeline task") => "PipelineTask",
        s => TYPES
            .iter()
            .find(|t| s.split(' ').next() == Some(**t))
            .copied()
            .unwrap_or(""),
    };
    if ty.is_empty() {
        return;
    }
    let also = row.get(3).map(String::as_str).unwrap_or("");
    let renders = row.get(2).map(String::as_str).unwrap_or("");
    // `.status` → `$(tasks.t.status)`, `.name`
    let parts: Vec<&str> = also.split(", ").collect();
    for part in parts {
        let t = ticks(part);
        for (j, p) in t.iter().enumerate() {
            // `.path` or `x.all`
            let Some(name) = p.split_once('.').map(|(_, n)| n) else {
                continue;
            };
            if !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let doc = match t.get(j + 1) {
                Some(r) if r.starts_with("$(") => format!("renders as `{r}`"),
                _ if name == "name" => "the name".to_string(),
                _ => format!("a {ty} handle: {renders}"),
            };
            if api
                .entries
                .iter()
                .any(|e| e.receiver.as_deref() == Some(ty) && e.name == name)
            {
                continue;
            }
            api.entries.push(Entry {
                receiver: Some(ty.to_string()),
                name: name.to_string(),
                signatures: vec![format!("x.{name}")],
                returns: Some("string".into()),
                doc,
                property: true,
                options: None,
            });
        }
    }
}

/// The reference, parsed once.
pub fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| parse(SOURCE))
}

impl Api {
    /// Entries with this receiver (`None`: global functions).
    pub fn members<'a>(
        &'a self,
        receiver: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.receiver.as_deref() == receiver)
    }

    pub fn find(&self, receiver: Option<&str>, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.receiver.as_deref() == receiver && e.name == name)
    }

    /// Any entry with this name, for hovering over a method whose receiver is unknown.
    pub fn any_named(&self, name: &str) -> Vec<&Entry> {
        self.entries.iter().filter(|e| e.name == name).collect()
    }

    pub fn option_keys(&self, set: &str) -> &[OptionKey] {
        self.options.get(set).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// The option set of a map that is the value of `key` inside a map of option set `set` (`steps: [#{`
/// inside `task(..)` options is a step map).
pub fn nested_set(set: &str, key: &str) -> Option<&'static str> {
    Some(match (set, key) {
        ("task", "steps" | "sidecars" | "stepTemplate") => "step",
        ("task" | "step_action", "params") => "Task.param",
        ("task" | "step_action", "results") => "Task.result",
        ("task", "workspaces") => "Task.workspace",
        ("Pipeline.task" | "Pipeline.finally", "matrix") => "matrix",
        ("Pipeline.run" | "pipeline_run", "timeouts") => "timeouts",
        _ => return None,
    })
}

/// Option sets the reference describes in prose rather than in a table.
pub fn builtin_set(set: &str) -> &'static [(&'static str, &'static str)] {
    match set {
        "matrix" => &[
            (
                "params",
                "`#{ name: [..] }` — the lists whose combinations fan the task out",
            ),
            (
                "include",
                "`[#{ name, params: #{..} }]` — explicit extra combinations",
            ),
        ],
        "timeouts" => &[
            ("pipeline", "Go duration for the whole run"),
            ("tasks", "Go duration for the tasks"),
            ("finally", "Go duration for the finally tasks"),
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headings_tables_and_options() {
        let a = api();
        let task = a.find(None, "task").unwrap();
        assert_eq!(task.returns.as_deref(), Some("Task"));
        assert_eq!(task.arities(), [1, 2]);
        assert!(task.doc.contains("shared builder"), "{}", task.doc);
        let keys: Vec<&str> = a
            .option_keys("task")
            .iter()
            .map(|k| k.key.as_str())
            .collect();
        assert!(
            keys.contains(&"stepTemplate") && keys.contains(&"displayName"),
            "{keys:?}"
        );
        let pt = a.find(Some("Pipeline"), "task").unwrap();
        assert_eq!(pt.returns.as_deref(), Some("PipelineTask"));
        let ptk: Vec<&str> = a
            .option_keys("Pipeline.task")
            .iter()
            .map(|k| k.key.as_str())
            .collect();
        assert!(
            ptk.contains(&"runAfter") && ptk.contains(&"matrix"),
            "{ptk:?}"
        );
        let steps: Vec<&str> = a
            .option_keys("step")
            .iter()
            .map(|k| k.key.as_str())
            .collect();
        assert!(
            steps.contains(&"workingDir") && steps.contains(&"env"),
            "{steps:?}"
        );
        assert_eq!(
            a.find(Some("Task"), "step").unwrap().options.as_deref(),
            Some("step")
        );
        let ws = a.find(Some("Workspace"), "bound").unwrap();
        assert!(ws.property);
        let git: Vec<&str> = a
            .option_keys("from_git")
            .iter()
            .map(|k| k.key.as_str())
            .collect();
        assert!(
            git.contains(&"pathInRepo") && git.contains(&"url"),
            "{git:?}"
        );
        let ws_opts: Vec<&str> = a
            .option_keys("Task.workspace")
            .iter()
            .map(|k| k.key.as_str())
            .collect();
        assert!(ws_opts.contains(&"mountPath"), "{ws_opts:?}");
    }

    #[test]
    fn inline_option_lists() {
        assert_eq!(
            inline_options(
                "resolver: hub; opts `catalog`, `type` (`artifact`/`tekton`), `kind`, `url`. `kind` is"
            ),
            ["catalog", "type", "kind", "url"]
        );
        assert_eq!(
            inline_options("declares a workspace; options `description`, `optional`"),
            ["description", "optional"]
        );
    }
}

#[cfg(test)]
mod agreement {
    //! docs/script-api.md documents exactly the host API the engine registers.
    use super::*;
    use crate::script::meta::host_functions;

    #[test]
    fn every_registered_function_is_documented() {
        let a = api();
        let mut missing = Vec::new();
        for f in host_functions() {
            let doc = a.entries.iter().find(|e| {
                e.name == f.name
                    && e.receiver == f.receiver
                    && (e.property == (f.kind == "get"))
                    && (e.property || e.arities().contains(&f.arity))
            });
            if doc.is_none() {
                missing.push(format!(
                    "{}{}{}",
                    f.receiver.map(|r| format!("{r}.")).unwrap_or_default(),
                    f.name,
                    if f.kind == "get" {
                        String::new()
                    } else {
                        format!("/{}", f.arity)
                    }
                ));
            }
        }
        assert!(
            missing.is_empty(),
            "not in docs/script-api.md: {missing:#?}"
        );
    }

    #[test]
    fn every_documented_function_is_registered() {
        let fns = host_functions();
        let mut extra = Vec::new();
        for e in &api().entries {
            let found = |arity: Option<usize>| {
                fns.iter().any(|f| {
                    f.name == e.name
                        && f.receiver == e.receiver
                        && arity.is_none_or(|a| a == f.arity)
                })
            };
            if e.property {
                if !found(None) {
                    extra.push(format!("{:?}.{}", e.receiver, e.name));
                }
                continue;
            }
            for (sig, a) in e.signatures.iter().zip(e.arities()) {
                if !found(Some(a)) {
                    extra.push(sig.clone());
                }
            }
        }
        assert!(
            extra.is_empty(),
            "documented but not registered: {extra:#?}"
        );
    }

    #[test]
    fn step_keys_are_the_step_fields() {
        // serde names every field of the model's Step when it meets an unknown one
        let err = serde_json::from_value::<crate::model::Step>(serde_json::json!({ "zzz": 1 }))
            .unwrap_err()
            .to_string();
        let fields: Vec<&str> = err.split('`').skip(3).step_by(2).collect();
        assert!(fields.len() > 10, "{err}");
        let documented: Vec<&str> = api()
            .option_keys("step")
            .iter()
            .map(|k| k.key.as_str())
            .collect();
        let missing: Vec<&&str> = fields.iter().filter(|f| !documented.contains(f)).collect();
        assert!(
            missing.is_empty(),
            "Step fields not in the Steps section: {missing:?}"
        );
    }
}
