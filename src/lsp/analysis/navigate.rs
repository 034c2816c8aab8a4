//! Hover, go to definition, document symbols and the calls the diagnostics need.

use super::modules::module_info;
use super::{Doc, Place, Symbol, Val};
use crate::lsp::api::{Entry, api};
use crate::script::syntax::{Decl, DeclKind, Kind, Tok, fn_bodies, resolve};

impl<'a> Doc<'a> {
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

    pub(super) fn fn_signature(&self, d: &Decl) -> String {
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

    pub(super) fn definition_in_string(&self, i: usize, offset: usize) -> Option<Place> {
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

pub(super) fn set_title(set: &str) -> String {
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
