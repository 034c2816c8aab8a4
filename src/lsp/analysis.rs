//! Completion, hover, go to definition and document symbols over one script's text (byte offsets in,
//! plain data out; `mod.rs` turns it into LSP messages).

use super::api::{self, Entry, api};
use crate::script::stdlib;
use crate::script::syntax::{
    Decl, DeclKind, Kind, Lexed, Tok, declarations, fn_bodies, lex, resolve,
};
use std::path::{Path, PathBuf};

/// What an expression evaluates to, as far as the editor can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Val {
    /// A type of the script API (`Task`, `Param`, …), `string`, or `Map`.
    pub ty: String,
    /// The name given at creation (`p.param("repo-url")` → `repo-url`).
    pub name: Option<String>,
    /// For a task result reference: the pipeline task's name.
    pub owner: Option<String>,
}

impl Val {
    /// What a handle renders as in a string.
    pub fn render(&self) -> Option<String> {
        let n = self.name.as_deref()?;
        Some(match self.ty.as_str() {
            "Param" if n.contains('.') => format!("$(params[\"{n}\"])"),
            "Param" => format!("$(params.{n})"),
            "Result" => format!("$(results.{n}.path)"),
            "Workspace" | "PipelineWorkspace" => format!("$(workspaces.{n}.path)"),
            "ResultRef" => format!("$(tasks.{}.results.{n})", self.owner.as_deref()?),
            "StepResultRef" => format!("$(steps.{}.results.{n})", self.owner.as_deref()?),
            "PipelineTask" => n.to_string(),
            _ => return None,
        })
    }
}

/// A completion proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub label: String,
    pub kind: ItemKind,
    pub detail: Option<String>,
    pub doc: Option<String>,
    /// Text to insert when it differs from the label.
    pub insert: Option<String>,
    /// Byte range to replace (default: the word before the cursor).
    pub replace: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Function,
    Method,
    Property,
    Variable,
    Module,
    Field,
    Value,
}

fn item(label: impl Into<String>, kind: ItemKind) -> Item {
    Item {
        label: label.into(),
        kind,
        detail: None,
        doc: None,
        insert: None,
        replace: None,
    }
}

/// A place: a file (None: the document itself) and a byte range in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: Option<PathBuf>,
    pub start: usize,
    pub end: usize,
    /// The file's text when it is not the document (to convert offsets).
    pub text: Option<String>,
}

/// A document symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// `Pipeline`, `Task`, `StepAction`, `PipelineTask`, `Step`, `fn`.
    pub what: &'static str,
    pub start: usize,
    pub end: usize,
    pub name_start: usize,
    pub name_end: usize,
    pub children: Vec<Symbol>,
}

/// One analysed document.
pub struct Doc<'a> {
    pub lx: Lexed<'a>,
    pub decls: Vec<Decl>,
    /// The document's directory (for relative imports).
    pub dir: Option<PathBuf>,
}

impl<'a> Doc<'a> {
    pub fn new(text: &'a str, path: Option<&Path>) -> Doc<'a> {
        let lx = lex(text);
        let decls = declarations(&lx);
        Doc {
            lx,
            decls,
            dir: path.and_then(Path::parent).map(Path::to_path_buf),
        }
    }

    fn text(&self) -> &'a str {
        self.lx.text
    }

    fn tok(&self, i: usize) -> &Tok {
        &self.lx.code[i]
    }

    fn s(&self, i: usize) -> &'a str {
        self.lx.s(&self.lx.code[i])
    }

    // -----------------------------------------------------------------------------------------
    // Inference

    /// The value of the expression whose last code token is `end`.
    pub fn infer(&self, end: usize) -> Option<Val> {
        self.infer_depth(end, 0)
    }

    fn infer_depth(&self, end: usize, depth: usize) -> Option<Val> {
        if depth > 16 {
            return None;
        }
        let t = *self.tok(end);
        let word = self.s(end);
        match t.kind {
            Kind::Str(_) => {
                return Some(Val {
                    ty: "string".into(),
                    name: None,
                    owner: None,
                });
            }
            Kind::Punct if word == ")" => {
                let open = self.lx.open_of(end)?;
                let callee = open.checked_sub(1)?;
                if self.tok(callee).kind != Kind::Ident {
                    return None;
                }
                let name = self.s(callee);
                let first = self.first_string_arg(open);
                if callee >= 2 && self.s(callee - 1) == "." {
                    let recv = self.infer_depth(callee - 2, depth + 1)?;
                    return self.method_result(&recv, name, first, open);
                }
                if callee >= 2 && self.s(callee - 1) == "::" {
                    let module = self.s(callee - 2);
                    let path = self.module_path(module, self.tok(callee).start)?;
                    let m = module_info(&path, self.dir.as_deref())?;
                    let f = m.fns.iter().find(|f| f.name == name)?;
                    return Some(Val {
                        ty: f.returns.clone(),
                        name: None,
                        owner: None,
                    });
                }
                return self.global_result(name, first, open);
            }
            Kind::Punct if word == "}" => {
                let open = self.lx.open_of(end)?;
                if self.s(open) == "#{" {
                    return Some(Val {
                        ty: "Map".into(),
                        name: None,
                        owner: None,
                    });
                }
                return None;
            }
            Kind::Ident => {
                if end >= 2 && self.s(end - 1) == "." {
                    let recv = self.infer_depth(end - 2, depth + 1)?;
                    let e = api().find(Some(&recv.ty), word)?;
                    return Some(Val {
                        ty: e.returns.clone().unwrap_or_else(|| "string".into()),
                        name: None,
                        owner: None,
                    });
                }
                let d = resolve(&self.decls, word, t.start, &self.lx)?;
                let (a, b) = d.value?;
                if d.start > t.start || b >= end && a <= end {
                    return None;
                }
                return self.infer_depth(b, depth + 1);
            }
            _ => {}
        }
        None
    }

    /// The string literal that is the first argument of the call opened at `open`.
    fn first_string_arg(&self, open: usize) -> Option<String> {
        let t = self.lx.code.get(open + 1)?;
        let s = self.lx.str_value(t)?;
        Some(s.to_string())
    }

    fn second_string_arg(&self, open: usize) -> Option<String> {
        if !self.lx.is(open + 2, ",") {
            return None;
        }
        let t = self.lx.code.get(open + 3)?;
        Some(self.lx.str_value(t)?.to_string())
    }

    fn method_result(
        &self,
        recv: &Val,
        name: &str,
        first: Option<String>,
        open: usize,
    ) -> Option<Val> {
        let e = api().find(Some(&recv.ty), name)?;
        let ty = e.returns.clone()?;
        if ty == recv.ty {
            return Some(recv.clone());
        }
        let owner = match (recv.ty.as_str(), ty.as_str()) {
            ("PipelineTask", "ResultRef") => recv.name.clone(),
            _ => None,
        };
        let _ = open;
        Some(Val {
            ty,
            name: first,
            owner,
        })
    }

    fn global_result(&self, name: &str, first: Option<String>, open: usize) -> Option<Val> {
        if name == "step_result" {
            return Some(Val {
                ty: "StepResultRef".into(),
                owner: first,
                name: self.second_string_arg(open),
            });
        }
        let e = api().find(None, name)?;
        Some(Val {
            ty: e.returns.clone()?,
            name: first,
            owner: None,
        })
    }

    /// The import path bound to a module alias visible at `offset`.
    fn module_path(&self, alias: &str, offset: usize) -> Option<String> {
        let d = resolve(&self.decls, alias, offset, &self.lx)?;
        (d.kind == DeclKind::Import)
            .then(|| d.detail.clone())
            .flatten()
    }

    // -----------------------------------------------------------------------------------------
    // Contexts

    /// The option set of the map opened by the `#{` at code index `m`.
    pub fn map_set(&self, m: usize) -> Option<String> {
        self.map_set_depth(m, 0)
    }

    fn map_set_depth(&self, m: usize, depth: usize) -> Option<String> {
        if depth > 8 || m == 0 {
            return None;
        }
        let prev = m - 1;
        match self.s(prev) {
            "(" | "," => {
                let open = if self.s(prev) == "(" {
                    prev
                } else {
                    self.lx.enclosing(m)?
                };
                match self.s(open) {
                    "(" => self.call_set(open),
                    "[" => self.array_set(open, depth),
                    _ => None,
                }
            }
            ":" => {
                let key = self.key_at(prev.checked_sub(1)?)?;
                let outer = self.lx.enclosing(m)?;
                if self.s(outer) != "#{" {
                    return None;
                }
                let set = self.map_set_depth(outer, depth + 1)?;
                api::nested_set(&set, &key).map(str::to_string)
            }
            "[" => self.array_set(prev, depth),
            _ => None,
        }
    }

    fn key_at(&self, i: usize) -> Option<String> {
        let t = self.tok(i);
        match t.kind {
            Kind::Ident => Some(self.s(i).to_string()),
            Kind::Str(_) => self.lx.str_value(t).map(str::to_string),
            _ => None,
        }
    }

    fn array_set(&self, a: usize, depth: usize) -> Option<String> {
        if a < 2 || self.s(a - 1) != ":" {
            return None;
        }
        let key = self.key_at(a - 2)?;
        let outer = self.lx.enclosing(a)?;
        if self.s(outer) != "#{" {
            return None;
        }
        let set = self.map_set_depth(outer, depth + 1)?;
        api::nested_set(&set, &key).map(str::to_string)
    }

    /// The option set of the call whose `(` is at `open`.
    fn call_set(&self, open: usize) -> Option<String> {
        let callee = open.checked_sub(1)?;
        if self.tok(callee).kind != Kind::Ident {
            return None;
        }
        let name = self.s(callee);
        let recv = if callee >= 2 && self.s(callee - 1) == "." {
            Some(self.infer(callee - 2)?.ty)
        } else if callee >= 1 && self.s(callee - 1) == "::" {
            return None;
        } else {
            None
        };
        api().find(recv.as_deref(), name)?.options.clone()
    }

    fn option_keys(&self, set: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = api()
            .option_keys(set)
            .iter()
            .map(|k| (k.key.clone(), k.doc.clone()))
            .collect();
        for (k, d) in api::builtin_set(set) {
            out.push((k.to_string(), d.to_string()));
        }
        out
    }

    // -----------------------------------------------------------------------------------------
    // Completion

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

    fn globals(&self, offset: usize) -> Vec<Item> {
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

    fn decl_detail(&self, d: &Decl) -> Option<String> {
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

    fn members(&self, recv_end: usize) -> Vec<Item> {
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

    fn module_members(&self, alias: &str, offset: usize) -> Vec<Item> {
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

    fn complete_in_string(&self, i: usize, q: char, offset: usize) -> Vec<Item> {
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

    fn module_names(&self, from: usize, to: usize) -> Vec<Item> {
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
    fn task_results(&self, open: usize) -> Vec<String> {
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

    /// Calls with a receiver or a string first argument: `p.task("x", …)`, `task("t")`.
    pub fn calls(&self) -> Vec<Call> {
        let mut out = Vec::new();
        let n = self.lx.code.len();
        for i in 0..n {
            if self.tok(i).kind != Kind::Ident || !self.lx.is(i + 1, "(") {
                continue;
            }
            let is_method = i >= 2 && self.s(i - 1) == ".";
            if i >= 1 && self.s(i - 1) == "::" {
                continue;
            }
            if !is_method && i >= 1 && self.s(i - 1) == "fn" {
                continue;
            }
            let (recv, recv_var, recv_decl) = if is_method {
                let r = self.infer(i - 2).map(|v| v.ty);
                let var = (self.tok(i - 2).kind == Kind::Ident).then(|| self.s(i - 2).to_string());
                let decl = var.as_ref().and_then(|v| {
                    resolve(&self.decls, v, self.tok(i - 2).start, &self.lx).map(|d| d.start)
                });
                (r, var, decl)
            } else {
                (None, None, None)
            };
            let first_tok = self.lx.code.get(i + 2).copied();
            let first = first_tok.and_then(|t| self.lx.str_value(&t).map(str::to_string));
            out.push(Call {
                name: self.s(i).to_string(),
                method: is_method,
                recv,
                recv_var,
                recv_decl,
                at: i,
                open: i + 1,
                first,
                first_tok: first_tok.filter(|t| matches!(t.kind, Kind::Str(_))),
            });
        }
        out
    }

    // -----------------------------------------------------------------------------------------
    // Hover

    /// Markdown for the thing at `offset`, and its byte range.
    pub fn hover(&self, offset: usize) -> Option<(String, usize, usize)> {
        let t = self.lx.at(offset)?;
        if t.kind != Kind::Ident {
            return None;
        }
        let word = self.lx.s(&t);
        let in_code = self.lx.code.iter().position(|c| *c == t);
        if let Some(i) = in_code {
            // a method or property
            if i >= 2 && self.s(i - 1) == "." {
                let recv = self.infer(i - 2);
                let entries: Vec<&Entry> =
                    match recv.as_ref().and_then(|r| api().find(Some(&r.ty), word)) {
                        Some(e) => vec![e],
                        None => api()
                            .any_named(word)
                            .into_iter()
                            .filter(|e| e.receiver.is_some())
                            .collect(),
                    };
                let mut md = entries
                    .iter()
                    .map(|e| entry_md(e))
                    .collect::<Vec<_>>()
                    .join("\n\n---\n\n");
                if self.lx.is(i + 1, "(")
                    && let Some(close) = self.lx.close_of(i + 1)
                    && let Some(v) = self.infer(close)
                    && let Some(r) = v.render()
                {
                    md.push_str(&format!("\n\nrenders as `{r}`"));
                }
                return (!md.is_empty()).then_some((md, t.start, t.end));
            }
            // a module member
            if i >= 2 && self.s(i - 1) == "::" {
                let path = self.module_path(self.s(i - 2), t.start)?;
                let m = module_info(&path, self.dir.as_deref())?;
                let f = m.fns.iter().find(|f| f.name == word)?;
                return Some((
                    format!(
                        "```rhai\n{}::{}\n```\n\n{}",
                        self.s(i - 2),
                        f.signature,
                        f.doc
                    ),
                    t.start,
                    t.end,
                ));
            }
            // an option key
            if self.lx.is(i + 1, ":")
                && let Some(m) = self.lx.enclosing(i).filter(|o| self.s(*o) == "#{")
                && let Some(set) = self.map_set(m)
                && let Some((_, d)) = self.option_keys(&set).into_iter().find(|(k, _)| k == word)
            {
                return Some((
                    format!("`{word}` — option of {}\n\n{d}", set_title(&set)),
                    t.start,
                    t.end,
                ));
            }
        }
        // a variable or function of the script
        if let Some(d) = resolve(&self.decls, word, t.start, &self.lx) {
            let md = match d.kind {
                DeclKind::Fn => {
                    let sig = self.fn_signature(d);
                    format!(
                        "```rhai\n{sig}\n```\n\n{}",
                        d.detail.clone().unwrap_or_default()
                    )
                }
                DeclKind::Import => format!(
                    "```rhai\nimport \"{}\" as {}\n```\n\n{}",
                    d.detail.clone().unwrap_or_default(),
                    d.name,
                    d.detail
                        .as_deref()
                        .and_then(|p| module_info(p, self.dir.as_deref()))
                        .map(|m| m.doc)
                        .unwrap_or_default()
                ),
                _ => {
                    let kw = match d.kind {
                        DeclKind::Const => "const",
                        DeclKind::Let => "let",
                        _ => "",
                    };
                    let v = d.value.and_then(|(_, b)| self.infer(b));
                    let mut md = match &v {
                        Some(v) => format!("```rhai\n{kw} {}: {}\n```", d.name, v.ty),
                        None => format!("```rhai\n{kw} {}\n```", d.name),
                    };
                    if let Some(r) = v.as_ref().and_then(Val::render) {
                        md.push_str(&format!("\n\nrenders as `{r}`"));
                    }
                    md
                }
            };
            return Some((md.trim().to_string(), t.start, t.end));
        }
        if word == "values" {
            return Some((
                "`values` — the inputs of the build: `--values` files merged in order, then `--set` pairs (a constant map; entry script only)".into(),
                t.start,
                t.end,
            ));
        }
        let e = api().find(None, word)?;
        Some((entry_md(e), t.start, t.end))
    }

    fn fn_signature(&self, d: &Decl) -> String {
        let Some(i) = self.lx.code.iter().position(|t| t.start == d.start) else {
            return format!("fn {}()", d.name);
        };
        let close = self.lx.close_of(i + 1).unwrap_or(i + 1);
        let args: Vec<&str> = (i + 2..close)
            .filter(|j| self.tok(*j).kind == Kind::Ident)
            .map(|j| self.s(j))
            .collect();
        format!("fn {}({})", d.name, args.join(", "))
    }

    // -----------------------------------------------------------------------------------------
    // Go to definition

    pub fn definition(&self, offset: usize) -> Option<Place> {
        // a task name in a string: runAfter, .after(..), $(tasks.NAME…)
        if let Some(i) = self.lx.before(offset + 1) {
            let t = *self.tok(i);
            if let Kind::Str(_) = t.kind
                && offset > t.start
                && offset < t.end
            {
                return self.definition_in_string(i, offset);
            }
        }
        let t = self.lx.at(offset)?;
        if t.kind != Kind::Ident {
            return None;
        }
        let word = self.lx.s(&t);
        if let Some(i) = self.lx.code.iter().position(|c| *c == t)
            && i >= 2
        {
            if self.s(i - 1) == "::" {
                let path = self.module_path(self.s(i - 2), t.start)?;
                let m = module_info(&path, self.dir.as_deref())?;
                let f = m.fns.iter().find(|f| f.name == word)?;
                return Some(Place {
                    file: Some(m.file.clone()),
                    start: f.start,
                    end: f.end,
                    text: Some(m.text.clone()),
                });
            }
            if self.s(i - 1) == "." {
                return None;
            }
        }
        let d = resolve(&self.decls, word, t.start, &self.lx)?;
        Some(Place {
            file: None,
            start: d.start,
            end: d.end,
            text: None,
        })
    }

    fn definition_in_string(&self, i: usize, offset: usize) -> Option<Place> {
        let t = *self.tok(i);
        let value = self.lx.str_value(&t)?;
        if i >= 1 && self.s(i - 1) == "import" {
            let m = module_info(value, self.dir.as_deref())?;
            return Some(Place {
                file: Some(m.file),
                start: 0,
                end: 0,
                text: Some(m.text),
            });
        }
        // `$(tasks.NAME.…)` around the cursor
        let inner = t.start + 1;
        let rel = offset - inner;
        let name = if let Some(p) = value[..rel.min(value.len())].rfind("$(tasks.") {
            let rest = &value[p + 8..];
            rest.split(['.', ')']).next().map(str::to_string)
        } else {
            // runAfter: "x" / runAfter: ["x"] / .after("x")
            let is_after = (i >= 2 && self.s(i - 1) == ":" && self.s(i - 2) == "runAfter")
                || self.lx.enclosing(i).is_some_and(|o| {
                    (self.s(o) == "["
                        && o >= 2
                        && self.s(o - 1) == ":"
                        && self.s(o - 2) == "runAfter")
                        || (self.s(o) == "(" && o >= 1 && self.s(o - 1) == "after")
                });
            is_after.then(|| value.to_string())
        }?;
        let c = self.calls().into_iter().find(|c| {
            matches!(c.name.as_str(), "task" | "finally")
                && c.method
                && c.first.as_deref() == Some(&name)
        })?;
        let ft = c.first_tok?;
        Some(Place {
            file: None,
            start: ft.start + 1,
            end: ft.end.saturating_sub(1),
            text: None,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Document symbols

    pub fn symbols(&self) -> Vec<Symbol> {
        let calls = self.calls();
        let mut top: Vec<(usize, Symbol)> = Vec::new(); // (call index in code, symbol)
        let sym = |c: &Call, what: &'static str, d: &Self| -> Option<Symbol> {
            let ft = c.first_tok?;
            let close = d.lx.close_of(c.open).unwrap_or(c.open);
            Some(Symbol {
                name: c.first.clone()?,
                what,
                start: d.tok(c.at).start,
                end: d.tok(close).end,
                name_start: ft.start,
                name_end: ft.end,
                children: Vec::new(),
            })
        };
        for c in &calls {
            if c.method {
                continue;
            }
            let what = match c.name.as_str() {
                "pipeline" => "Pipeline",
                "task" => "Task",
                "step_action" => "StepAction",
                _ => continue,
            };
            if let Some(s) = sym(c, what, self) {
                top.push((c.at, s));
            }
        }
        // children: p.task / p.finally under their pipeline, t.step under its task
        for c in &calls {
            let what = match (c.recv.as_deref(), c.name.as_str()) {
                (Some("Pipeline"), "task" | "finally") => "PipelineTask",
                (Some("Task"), "step" | "sidecar") => "Step",
                _ => continue,
            };
            let Some(s) = sym(c, what, self) else {
                continue;
            };
            let Some(decl) = c
                .recv_decl
                .and_then(|st| self.decls.iter().find(|d| d.start == st))
            else {
                continue;
            };
            let Some((a, b)) = decl.value else { continue };
            if let Some((_, parent)) = top.iter_mut().find(|(at, _)| *at >= a && *at <= b) {
                parent.children.push(s);
            }
        }
        let mut out: Vec<Symbol> = top.into_iter().map(|(_, s)| s).collect();
        for d in &self.decls {
            if d.kind == DeclKind::Fn {
                let end = fn_bodies(&self.lx)
                    .into_iter()
                    .find(|(s, _)| *s > d.start)
                    .map(|(_, e)| e)
                    .unwrap_or(d.end);
                out.push(Symbol {
                    name: d.name.clone(),
                    what: "fn",
                    start: d.start,
                    end,
                    name_start: d.start,
                    name_end: d.end,
                    children: Vec::new(),
                });
            }
        }
        out.sort_by_key(|s| s.start);
        out
    }
}

/// A call found in the script.
#[derive(Debug, Clone)]
pub struct Call {
    pub name: String,
    pub method: bool,
    /// The receiver's type, when known.
    pub recv: Option<String>,
    /// The receiver when it is a variable, and where that variable is declared.
    pub recv_var: Option<String>,
    pub recv_decl: Option<usize>,
    /// Code index of the name, and of the `(`.
    pub at: usize,
    pub open: usize,
    pub first: Option<String>,
    pub first_tok: Option<Tok>,
}

fn set_title(set: &str) -> String {
    match set {
        "step" => "a step map".into(),
        "matrix" => "`matrix`".into(),
        "timeouts" => "`timeouts`".into(),
        s => match s.split_once('.') {
            Some((t, m)) => format!("`{}.{m}(..)`", receiver_letter(t)),
            None => format!("`{s}(..)`"),
        },
    }
}

fn receiver_letter(ty: &str) -> &str {
    match ty {
        "Task" => "t",
        "Pipeline" => "p",
        "PipelineTask" => "pt",
        "StepAction" => "sa",
        t => t,
    }
}

fn entry_md(e: &Entry) -> String {
    let sigs = e.signatures.join("\n");
    let ret = match &e.returns {
        Some(r) if !e.property => format!(" → {r}"),
        _ => String::new(),
    };
    format!("```rhai\n{sigs}{ret}\n```\n\n{}", e.doc)
}

// ---------------------------------------------------------------------------------------------
// Modules

/// A module's functions with their docs.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub file: PathBuf,
    pub text: String,
    pub doc: String,
    pub fns: Vec<ModuleFn>,
}

#[derive(Debug, Clone)]
pub struct ModuleFn {
    pub name: String,
    pub signature: String,
    pub doc: String,
    pub returns: String,
    pub start: usize,
    pub end: usize,
}

/// The `//!` header of a module.
pub fn module_doc(src: &str) -> String {
    src.lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| {
            let l = &l[3..];
            l.strip_prefix(' ').unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where the stdlib sources are written for editors to open: a per-version cache directory.
pub fn stdlib_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("tekscript")
        .join(format!("stdlib-{}", env!("CARGO_PKG_VERSION")))
}

/// The file a stdlib module is shown from (written on first use).
pub fn stdlib_file(name: &str) -> Option<PathBuf> {
    let src = stdlib::get(name)?;
    let dir = stdlib_dir();
    let file = dir.join(format!("{name}.rhai"));
    if std::fs::read_to_string(&file).ok().as_deref() != Some(src) {
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::write(&file, src).ok()?;
    }
    Some(file)
}

/// The functions of the module `import "path"` names: a stdlib module or a file next to the script.
pub fn module_info(path: &str, dir: Option<&Path>) -> Option<ModuleInfo> {
    let (file, text) = match stdlib::get(path) {
        Some(src) => (
            stdlib_file(path).unwrap_or_else(|| PathBuf::from(stdlib::source_name(path))),
            src.to_string(),
        ),
        None => {
            let mut f = dir?.join(path);
            if f.extension().is_none() {
                f.set_extension("rhai");
            }
            let t = std::fs::read_to_string(&f).ok()?;
            (f, t)
        }
    };
    let lx = lex(&text);
    let decls = declarations(&lx);
    let mut fns = Vec::new();
    for d in decls.iter().filter(|d| d.kind == DeclKind::Fn) {
        let i = lx.code.iter().position(|t| t.start == d.start)?;
        if i >= 2 && lx.s(&lx.code[i - 2]) == "private" {
            continue;
        }
        let close = lx.close_of(i + 1).unwrap_or(i + 1);
        let args: Vec<&str> = (i + 2..close)
            .filter(|j| lx.code[*j].kind == Kind::Ident)
            .map(|j| lx.s(&lx.code[j]))
            .collect();
        let doc = d.detail.clone().unwrap_or_default();
        // stdlib functions return Tasks; `…_on_finish(p, …)` adds a finally task
        let returns = if d.name.ends_with("on_finish") {
            "PipelineTask"
        } else {
            "Task"
        };
        fns.push(ModuleFn {
            name: d.name.clone(),
            signature: format!("{}({})", d.name, args.join(", ")),
            doc,
            returns: returns.into(),
            start: d.start,
            end: d.end,
        });
    }
    Some(ModuleInfo {
        file,
        doc: module_doc(&text),
        text,
        fns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"import "git" as git;

let p = pipeline("ci");
let repo = p.param("repo-url");
let src = p.workspace("source");
let fetch = p.task("fetch", git::clone(), #{
    params: #{ url: repo },
    workspaces: #{ output: src },
});
let commit = fetch.result("commit");
let t = task("show");
t.step("show", "alpine:3.20", "echo $(params.x)");
p.task("show", t, #{ runAfter: ["fetch"] });
emit(p);
"#;

    fn labels(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.label.as_str()).collect()
    }

    #[test]
    fn infers_handles() {
        let d = Doc::new(SRC, None);
        let at = |s: &str| {
            let off = SRC.find(s).unwrap();
            d.lx.code.iter().position(|t| t.start == off).unwrap()
        };
        let repo = d.decls.iter().find(|x| x.name == "repo").unwrap();
        assert_eq!(
            d.infer(repo.value.unwrap().1).unwrap().render().unwrap(),
            "$(params.repo-url)"
        );
        let _ = at("commit");
        let c = d.decls.iter().find(|x| x.name == "commit").unwrap();
        let v = d.infer(c.value.unwrap().1).unwrap();
        assert_eq!(v.render().unwrap(), "$(tasks.fetch.results.commit)");
    }

    #[test]
    fn completes_methods_options_modules_and_variables() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "let p = pipeline(\"x\");\np.",
                "p.",
                &["task", "param", "workspace", "finally"],
            ),
            (
                "let t = task(\"x\");\nt.",
                "t.",
                &["step", "param", "result"],
            ),
            (
                "let p = pipeline(\"x\");\np.task(\"a\", t, #{ ",
                "#{ ",
                &["runAfter", "params", "matrix"],
            ),
            (
                "let t = task(\"x\", #{ steps: [#{ im",
                "im",
                &["image", "workingDir"],
            ),
            ("import \"", "\"", &["git", "kaniko"]),
            ("import \"git\" as git;\ngit::", "::", &["clone"]),
        ];
        for (src, _, want) in cases {
            let d = Doc::new(src, None);
            let got = d.complete(src.len());
            for w in *want {
                assert!(
                    labels(&got).contains(w),
                    "{src:?}: {w} not in {:?}",
                    labels(&got)
                );
            }
        }
    }

    #[test]
    fn completes_tekton_variables_in_strings() {
        let src = format!("{SRC}\nlet s = \"$(");
        let d = Doc::new(&src, None);
        let got = d.complete(src.len());
        let l = labels(&got);
        assert!(l.contains(&"params.repo-url"), "{l:?}");
        assert!(l.contains(&"workspaces.source.path"), "{l:?}");
        assert!(l.contains(&"tasks.fetch.status"), "{l:?}");
    }

    #[test]
    fn hover_and_definition() {
        let d = Doc::new(SRC, None);
        let (md, _, _) = d.hover(SRC.find("repo =").unwrap()).unwrap();
        assert!(md.contains("$(params.repo-url)"), "{md}");
        let (md, _, _) = d.hover(SRC.find("task(\"fetch\"").unwrap() + 1).unwrap();
        assert!(md.contains("p.task(name, task"), "{md}");
        let (md, _, _) = d.hover(SRC.find("clone()").unwrap() + 1).unwrap();
        assert!(md.contains("git-clone"), "{md}");
        // variable → its let
        let use_at = SRC.find("url: repo").unwrap() + 6;
        let place = d.definition(use_at).unwrap();
        assert_eq!(&SRC[place.start..place.end], "repo");
        assert_eq!(place.start, SRC.find("repo =").unwrap());
        // runAfter string → the pipeline task
        let place = d.definition(SRC.find("[\"fetch\"]").unwrap() + 3).unwrap();
        assert_eq!(place.start, SRC.find("fetch\", git").unwrap());
        // module member → stdlib source
        let place = d.definition(SRC.find("clone()").unwrap() + 1).unwrap();
        assert!(place.file.unwrap().ends_with("git.rhai"));
    }

    #[test]
    fn symbols_nest_tasks_under_pipelines() {
        let d = Doc::new(SRC, None);
        let s = d.symbols();
        let p = s.iter().find(|s| s.what == "Pipeline").unwrap();
        let kids: Vec<&str> = p.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(kids, ["fetch", "show"]);
        let t = s.iter().find(|s| s.what == "Task").unwrap();
        assert_eq!(t.children[0].name, "show");
    }
}
