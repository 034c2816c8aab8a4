//! Completion: methods by receiver, option-map keys, globals, modules and Tekton variables in strings.

use super::modules::{module_doc, module_info};
use super::navigate::set_title;
use super::{Doc, Item, ItemKind, item};
use crate::lsp::api::{Entry, api};
use crate::script::stdlib;
use crate::script::syntax::{Decl, DeclKind, Kind, fn_bodies, resolve};

impl<'a> Doc<'a> {
    pub fn complete(&self, offset: usize) -> Vec<Item> {
        let text = self.text();
        // inside a string?
        if let Some(i) = self.lx.before(offset) {
            let t = *self.tok(i);
            if let Kind::Str(q) = t.kind
                && offset > t.start
                && (offset < t.end || !t.closed)
            {
                return self.complete_in_string(i, q, offset);
            }
        }
        let word_start = text[..offset]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map(|(i, _)| i)
            .unwrap_or(offset);
        let Some(prev) = self.lx.before(word_start) else {
            return self.globals(offset);
        };
        // `git::|`
        if self.s(prev) == "::" && prev >= 1 {
            let alias = self.s(prev - 1);
            return self.module_members(alias, offset);
        }
        // `x.|`
        if self.s(prev) == "." && prev >= 1 {
            return self.members(prev - 1);
        }
        // `#{ key|` / `, key|`
        if matches!(self.s(prev), "#{" | ",")
            && let Some(m) = if self.s(prev) == "#{" {
                Some(prev)
            } else {
                self.lx.enclosing(prev).filter(|o| self.s(*o) == "#{")
            }
            && let Some(set) = self.map_set(m)
        {
            let close = self.lx.close_of(m).unwrap_or(self.lx.code.len());
            let given: Vec<String> = (m + 1..close.min(self.lx.code.len()))
                .filter(|j| self.lx.is(j + 1, ":") && self.lx.enclosing(*j) == Some(m))
                .filter_map(|j| self.key_at(j))
                .collect();
            return self
                .option_keys(&set)
                .into_iter()
                .filter(|(k, _)| !given.contains(k) || text[word_start..offset] == **k)
                .map(|(k, d)| {
                    let mut it = item(k.clone(), ItemKind::Field);
                    it.detail = Some(format!("option of {}", set_title(&set)));
                    it.doc = (!d.is_empty()).then_some(d);
                    if !k.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        it.insert = Some(format!("\"{k}\""));
                    }
                    it
                })
                .collect();
        }
        self.globals(offset)
    }

    pub(super) fn globals(&self, offset: usize) -> Vec<Item> {
        let mut out = Vec::new();
        let here_fn = fn_bodies(&self.lx)
            .into_iter()
            .find(|(s, e)| *s <= offset && offset < *e);
        let mut seen = std::collections::BTreeSet::new();
        for d in self.decls.iter().rev() {
            if !crate::script::syntax::visible(d, offset, here_fn)
                || d.end >= offset && d.start <= offset
            {
                continue;
            }
            if !seen.insert(d.name.clone()) {
                continue;
            }
            let kind = match d.kind {
                DeclKind::Fn => ItemKind::Function,
                DeclKind::Import => ItemKind::Module,
                _ => ItemKind::Variable,
            };
            let mut it = item(d.name.clone(), kind);
            it.detail = self.decl_detail(d);
            out.push(it);
        }
        if here_fn.is_none() && seen.insert("values".into()) {
            let mut it = item("values", ItemKind::Variable);
            it.detail = Some("the --set/--values inputs (a map)".into());
            out.push(it);
        }
        for e in api().members(None) {
            let mut it = item(e.name.clone(), ItemKind::Function);
            it.detail = Some(e.signatures.join(" / "));
            it.doc = Some(e.doc.clone());
            out.push(it);
        }
        out
    }

    pub(super) fn decl_detail(&self, d: &Decl) -> Option<String> {
        match d.kind {
            DeclKind::Import => d.detail.as_ref().map(|p| format!("import \"{p}\"")),
            DeclKind::Fn => Some(format!("fn {}", d.name)),
            _ => {
                let (_, b) = d.value?;
                let v = self.infer(b)?;
                Some(match v.render() {
                    Some(r) => format!("{} → {r}", v.ty),
                    None => v.ty,
                })
            }
        }
    }

    pub(super) fn members(&self, recv_end: usize) -> Vec<Item> {
        let recv = self.infer(recv_end);
        let entries: Vec<&Entry> = match &recv {
            Some(v) => api().members(Some(&v.ty)).collect(),
            // unknown receiver: every method, once
            None => {
                let mut seen = std::collections::BTreeSet::new();
                api()
                    .entries
                    .iter()
                    .filter(|e| e.receiver.is_some() && seen.insert(e.name.clone()))
                    .collect()
            }
        };
        entries
            .into_iter()
            .map(|e| {
                let mut it = item(
                    e.name.clone(),
                    if e.property {
                        ItemKind::Property
                    } else {
                        ItemKind::Method
                    },
                );
                it.detail = Some(e.signatures.join(" / "));
                it.doc = Some(e.doc.clone());
                it
            })
            .collect()
    }

    pub(super) fn module_members(&self, alias: &str, offset: usize) -> Vec<Item> {
        let Some(path) = self.module_path(alias, offset) else {
            return Vec::new();
        };
        let Some(m) = module_info(&path, self.dir.as_deref()) else {
            return Vec::new();
        };
        let mut out: Vec<Item> = Vec::new();
        for f in m.fns {
            // one item per name; the arities go into the detail
            if let Some(it) = out.iter_mut().find(|i| i.label == f.name) {
                let d = it.detail.get_or_insert_with(String::new);
                d.push_str(&format!(" / {}", f.signature));
                if it.doc.as_deref().is_none_or(|d| d.len() < f.doc.len()) {
                    it.doc = Some(f.doc);
                }
                continue;
            }
            let mut it = item(f.name.clone(), ItemKind::Function);
            it.detail = Some(f.signature.clone());
            it.doc = Some(f.doc.clone());
            out.push(it);
        }
        out
    }

    pub(super) fn complete_in_string(&self, i: usize, q: char, offset: usize) -> Vec<Item> {
        let t = *self.tok(i);
        let inner_start = t.start + 1;
        let before = &self.text()[inner_start..offset];
        if i >= 1 && self.s(i - 1) == "import" {
            return self.module_names(inner_start, offset);
        }
        // `$(` without its `)` yet
        if let Some(p) = before.rfind("$(")
            && !before[p..].contains(')')
        {
            let from = inner_start + p + 2;
            return self
                .tekton_variables(offset)
                .into_iter()
                .map(|(label, doc)| {
                    let mut it = item(label, ItemKind::Value);
                    it.doc = Some(doc);
                    it.replace = Some((from, offset));
                    it
                })
                .collect();
        }
        let _ = q;
        Vec::new()
    }

    pub(super) fn module_names(&self, from: usize, to: usize) -> Vec<Item> {
        let mut out: Vec<Item> = stdlib::MODULES
            .iter()
            .map(|(name, src)| {
                let mut it = item(*name, ItemKind::Module);
                it.detail = Some("stdlib module".into());
                it.doc = Some(module_doc(src));
                it.replace = Some((from, to));
                it
            })
            .collect();
        if let Some(dir) = &self.dir
            && let Ok(rd) = std::fs::read_dir(dir)
        {
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let p = e.path();
                    (p.extension()? == "rhai")
                        .then(|| p.file_stem()?.to_str().map(str::to_string))?
                })
                .collect();
            names.sort();
            for n in names {
                let mut it = item(n, ItemKind::Module);
                it.detail = Some("file next to this script".into());
                it.replace = Some((from, to));
                out.push(it);
            }
        }
        out
    }

    /// Tekton variables this script declares: `params.x`, `workspaces.w.path`, `results.r.path`,
    /// `tasks.t.results.r`, plus the context variables.
    pub fn tekton_variables(&self, _offset: usize) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut push = |l: String, d: String| {
            if !out.iter().any(|(x, _)| *x == l) {
                out.push((l, d));
            }
        };
        for c in self.calls() {
            let Some(first) = &c.first else { continue };
            let recv = c.recv.as_deref();
            match (recv, c.name.as_str()) {
                (Some("Pipeline" | "Task" | "StepAction"), "param") => {
                    push(format!("params.{first}"), format!("the param `{first}`"))
                }
                (Some("Pipeline" | "Task"), "workspace") => {
                    push(
                        format!("workspaces.{first}.path"),
                        format!("the path of the workspace `{first}`"),
                    );
                    push(
                        format!("workspaces.{first}.bound"),
                        format!("`true` when the workspace `{first}` is bound"),
                    );
                }
                (Some("Task"), "result") => push(
                    format!("results.{first}.path"),
                    format!("the file to write the result `{first}` to"),
                ),
                (Some("Pipeline"), "task" | "finally") => {
                    push(
                        format!("tasks.{first}.status"),
                        format!("the status of the pipeline task `{first}`"),
                    );
                    for r in self.task_results(c.open) {
                        push(
                            format!("tasks.{first}.results.{r}"),
                            format!("the result `{r}` of the pipeline task `{first}`"),
                        );
                    }
                }
                _ => {}
            }
        }
        for (v, d) in [
            ("context.pipelineRun.name", "the PipelineRun's name"),
            (
                "context.pipelineRun.namespace",
                "the PipelineRun's namespace",
            ),
            ("context.pipelineRun.uid", "the PipelineRun's uid"),
            ("context.pipeline.name", "the Pipeline's name"),
            ("context.taskRun.name", "the TaskRun's name"),
            ("context.taskRun.namespace", "the TaskRun's namespace"),
            ("context.task.name", "the Task's name"),
            ("context.task.retry-count", "how often the task was retried"),
            (
                "tasks.status",
                "the aggregate status of the tasks (finally tasks)",
            ),
        ] {
            push(v.into(), d.into());
        }
        out
    }

    /// The results the task of `p.task("x", TASK, …)` declares, when TASK is a local task.
    pub(super) fn task_results(&self, open: usize) -> Vec<String> {
        // the second argument's variable
        let Some(arg) = self.lx.code.get(open + 3) else {
            return Vec::new();
        };
        if arg.kind != Kind::Ident || !self.lx.is(open + 2, ",") {
            return Vec::new();
        }
        let name = self.s(open + 3);
        let Some(d) = resolve(&self.decls, name, arg.start, &self.lx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for c in self.calls() {
            if c.name == "result"
                && c.recv.as_deref() == Some("Task")
                && c.recv_var.as_deref() == Some(name)
                && c.recv_decl == Some(d.start)
                && let Some(f) = &c.first
            {
                out.push(f.clone());
            }
        }
        out
    }
}
