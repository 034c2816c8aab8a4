//! `tekscript lsp`: a Language Server Protocol server over stdio — the only module that knows
//! `lsp-server` and `lsp-types`.
//!
//! Diagnostics come from the real compiler and checker ([`crate::compile_text`] on the editor's
//! unsaved text), debounced while typing; completion, hover, go to definition and document symbols
//! come from a tolerant reading of the text ([`crate::script::syntax`], [`analysis`]) and from the API reference
//! ([`api`], parsed from `docs/script-api.md`).

pub mod analysis;
pub mod api;
mod text;

pub use crate::script::syntax;

use crate::diag::{Diagnostic as TsDiagnostic, Severity};
use crate::source::{FileId, SourceMap};
use analysis::{Doc, ItemKind, Place, Symbol};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest, Request as _,
};
use lsp_types::{
    CodeDescription, CompletionItem, CompletionItemKind, CompletionOptions, CompletionParams,
    CompletionResponse, CompletionTextEdit, DiagnosticRelatedInformation, DiagnosticSeverity,
    DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, Documentation,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams,
    HoverProviderCapability, Location, MarkupContent, MarkupKind, NumberOrString, OneOf,
    PublishDiagnosticsParams, ServerCapabilities, ServerInfo, SymbolKind,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Url,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use text::{LineIndex, path_of, uri_of};

/// How long typing must pause before the script is compiled again.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

/// Runs the server on stdin/stdout until the client says `exit`. Errors are protocol failures.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io) = Connection::stdio();
    let result = serve(&connection);
    drop(connection);
    io.join().map_err(|e| e.to_string())?;
    result
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(
                [".", ":", "\"", "(", "{", " "]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            ..Default::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..Default::default()
    }
}

/// The server's state: the open documents and the ones waiting to be compiled.
struct Server<'c> {
    conn: &'c Connection,
    docs: BTreeMap<Url, String>,
    /// Documents changed since they were last compiled, with the time to compile them.
    pending: BTreeMap<Url, Instant>,
    opts: crate::Options,
}

fn serve(conn: &Connection) -> Result<(), String> {
    let init = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo { name: "tekscript".into(), version: Some(env!("CARGO_PKG_VERSION").into()) },
    });
    let (id, _params) = conn.initialize_start().map_err(|e| e.to_string())?;
    conn.initialize_finish(id, init)
        .map_err(|e| e.to_string())?;
    let mut s = Server {
        conn,
        docs: BTreeMap::new(),
        pending: BTreeMap::new(),
        opts: crate::Options::default(),
    };
    loop {
        let msg = match s.pending.values().min().copied() {
            None => match conn.receiver.recv() {
                Ok(m) => m,
                Err(_) => return Ok(()),
            },
            Some(due) => {
                let wait = due.saturating_duration_since(Instant::now());
                match conn.receiver.recv_timeout(wait) {
                    Ok(m) => m,
                    Err(crossbeam_timeout) if crossbeam_timeout.is_timeout() => {
                        s.publish_due();
                        continue;
                    }
                    Err(_) => return Ok(()),
                }
            }
        };
        match msg {
            Message::Request(req) => {
                if conn.handle_shutdown(&req).map_err(|e| e.to_string())? {
                    return Ok(());
                }
                let resp = s.request(req);
                send(conn, Message::Response(resp));
            }
            Message::Notification(n) if n.method == "exit" => return Ok(()),
            Message::Notification(n) => s.notification(n),
            Message::Response(_) => {}
        }
    }
}

fn send(conn: &Connection, msg: Message) {
    // a closed channel means the client is gone; the loop ends on the next receive
    let _ = conn.sender.send(msg);
}

impl Server<'_> {
    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                {
                    let uri = p.text_document.uri;
                    self.docs.insert(uri.clone(), p.text_document.text);
                    self.publish(&uri);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                {
                    let uri = p.text_document.uri;
                    // full sync: the last change holds the whole text
                    if let Some(c) = p.content_changes.into_iter().last() {
                        self.docs.insert(uri.clone(), c.text);
                    }
                    self.pending.insert(uri, Instant::now() + DEBOUNCE);
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidSaveTextDocumentParams>(n.params)
                {
                    self.pending.remove(&p.text_document.uri);
                    self.publish(&p.text_document.uri);
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                {
                    let uri = p.text_document.uri;
                    self.docs.remove(&uri);
                    self.pending.remove(&uri);
                    self.send_diagnostics(uri, Vec::new());
                }
            }
            _ => {}
        }
    }

    fn publish_due(&mut self) {
        let now = Instant::now();
        let due: Vec<Url> = self
            .pending
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(u, _)| u.clone())
            .collect();
        for uri in due {
            self.pending.remove(&uri);
            self.publish(&uri);
        }
    }

    fn publish(&self, uri: &Url) {
        let Some(text) = self.docs.get(uri) else {
            return;
        };
        let diags = diagnostics(uri, text, &self.opts);
        self.send_diagnostics(uri.clone(), diags);
    }

    fn send_diagnostics(&self, uri: Url, diagnostics: Vec<lsp_types::Diagnostic>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        send(
            self.conn,
            Message::Notification(Notification::new(PublishDiagnostics::METHOD.into(), params)),
        );
    }

    fn request(&self, req: Request) -> Response {
        let id = req.id.clone();
        let result = match req.method.as_str() {
            Completion::METHOD => parse(req).map(|p: CompletionParams| {
                let pos = p.text_document_position;
                self.with_doc(&pos.text_document.uri, |doc, ix| {
                    let off = ix.offset(pos.position);
                    let items = doc.complete(off);
                    serde_json::to_value(CompletionResponse::Array(completion_items(
                        items, ix, off,
                    )))
                })
            }),
            HoverRequest::METHOD => parse(req).map(|p: HoverParams| {
                let pos = p.text_document_position_params;
                self.with_doc(&pos.text_document.uri, |doc, ix| {
                    let off = ix.offset(pos.position);
                    let h = doc.hover(off).map(|(md, a, b)| Hover {
                        contents: HoverContents::Markup(MarkupContent {
                            kind: MarkupKind::Markdown,
                            value: md,
                        }),
                        range: Some(ix.range(a, b)),
                    });
                    serde_json::to_value(h)
                })
            }),
            GotoDefinition::METHOD => parse(req).map(|p: GotoDefinitionParams| {
                let pos = p.text_document_position_params;
                let uri = pos.text_document.uri.clone();
                self.with_doc(&uri, |doc, ix| {
                    let off = ix.offset(pos.position);
                    let loc = doc.definition(off).and_then(|pl| location(&uri, ix, pl));
                    serde_json::to_value(loc.map(GotoDefinitionResponse::Scalar))
                })
            }),
            DocumentSymbolRequest::METHOD => parse(req).map(|p: DocumentSymbolParams| {
                self.with_doc(&p.text_document.uri, |doc, ix| {
                    let syms: Vec<DocumentSymbol> = doc
                        .symbols()
                        .into_iter()
                        .map(|s| document_symbol(s, ix))
                        .collect();
                    serde_json::to_value(DocumentSymbolResponse::Nested(syms))
                })
            }),
            other => Err((
                ErrorCode::MethodNotFound,
                format!("tekscript lsp does not handle `{other}`"),
            )),
        };
        match result {
            Ok(Ok(v)) => Response::new_ok(id, v),
            Ok(Err(e)) => err(id, ErrorCode::InternalError, e.to_string()),
            Err((code, msg)) => err(id, code, msg),
        }
    }

    fn with_doc(
        &self,
        uri: &Url,
        f: impl FnOnce(&Doc, &LineIndex) -> serde_json::Result<serde_json::Value>,
    ) -> serde_json::Result<serde_json::Value> {
        let Some(text) = self.docs.get(uri) else {
            return Ok(serde_json::Value::Null);
        };
        let path = path_of(uri);
        let doc = Doc::new(text, path.as_deref());
        let ix = LineIndex::new(text);
        f(&doc, &ix)
    }
}

fn err(id: RequestId, code: ErrorCode, msg: String) -> Response {
    Response::new_err(id, code as i32, msg)
}

fn parse<P: serde::de::DeserializeOwned>(req: Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(req.params).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn completion_items(items: Vec<analysis::Item>, ix: &LineIndex, off: usize) -> Vec<CompletionItem> {
    items
        .into_iter()
        .enumerate()
        .map(|(n, it)| {
            let kind = match it.kind {
                ItemKind::Function => CompletionItemKind::FUNCTION,
                ItemKind::Method => CompletionItemKind::METHOD,
                ItemKind::Property => CompletionItemKind::PROPERTY,
                ItemKind::Variable => CompletionItemKind::VARIABLE,
                ItemKind::Module => CompletionItemKind::MODULE,
                ItemKind::Field => CompletionItemKind::FIELD,
                ItemKind::Value => CompletionItemKind::VALUE,
            };
            let insert = it.insert.clone().unwrap_or_else(|| it.label.clone());
            let text_edit = it.replace.map(|(a, _)| {
                CompletionTextEdit::Edit(TextEdit {
                    range: ix.range(a, off),
                    new_text: insert.clone(),
                })
            });
            CompletionItem {
                label: it.label,
                kind: Some(kind),
                detail: it.detail,
                documentation: it.doc.filter(|d| !d.is_empty()).map(|d| {
                    Documentation::MarkupContent(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: d,
                    })
                }),
                insert_text: text_edit.is_none().then_some(insert),
                text_edit,
                // keep the order the server chose (declared things before host functions)
                sort_text: Some(format!("{n:04}")),
                ..Default::default()
            }
        })
        .collect()
}

fn location(uri: &Url, ix: &LineIndex, p: Place) -> Option<Location> {
    match (&p.file, &p.text) {
        (None, _) => Some(Location::new(uri.clone(), ix.range(p.start, p.end))),
        (Some(f), Some(t)) => {
            let fix = LineIndex::new(t);
            Some(Location::new(uri_of(f)?, fix.range(p.start, p.end)))
        }
        (Some(f), None) => Some(Location::new(uri_of(f)?, Default::default())),
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be given
fn document_symbol(s: Symbol, ix: &LineIndex) -> DocumentSymbol {
    let kind = match s.what {
        "Pipeline" => SymbolKind::CLASS,
        "Task" | "StepAction" => SymbolKind::STRUCT,
        "PipelineTask" => SymbolKind::FIELD,
        "Step" => SymbolKind::METHOD,
        _ => SymbolKind::FUNCTION,
    };
    let name = s.name.clone();
    DocumentSymbol {
        name,
        detail: Some(s.what.to_string()),
        kind,
        tags: None,
        deprecated: None,
        range: ix.range(s.start, s.end),
        selection_range: ix.range(s.name_start, s.name_end),
        children: Some(
            s.children
                .into_iter()
                .map(|c| document_symbol(c, ix))
                .collect(),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

/// Compiles the document's text and turns errors and warnings into LSP diagnostics. Problems located
/// in other files (a stdlib module) are shown at the user's call site, with the module location as
/// related information.
pub fn diagnostics(uri: &Url, text: &str, opts: &crate::Options) -> Vec<lsp_types::Diagnostic> {
    let path = path_of(uri).unwrap_or_else(|| PathBuf::from(uri.path()));
    let (sources, diags) = match crate::compile_text(&path, text, opts) {
        Ok(c) => (c.sources, c.warnings.0),
        Err(f) => (f.sources, f.diagnostics.0),
    };
    let ix = LineIndex::new(text);
    diags
        .iter()
        .map(|d| to_lsp(d, uri, &ix, &sources))
        .collect()
}

fn file_location(
    uri: &Url,
    ix: &LineIndex,
    sources: &SourceMap,
    span: crate::source::Span,
) -> Option<Location> {
    if span.file == FileId(0) {
        return Some(Location::new(uri.clone(), ix.range(span.start, span.end)));
    }
    let f = sources.get(span.file);
    let path = match f.name.strip_prefix("<stdlib>/") {
        Some(m) => analysis::stdlib_file(m.trim_end_matches(".rhai"))?,
        None => PathBuf::from(&f.name),
    };
    let fix = LineIndex::new(&f.text);
    Some(Location::new(
        uri_of(&path)?,
        fix.range(span.start, span.end),
    ))
}

fn to_lsp(
    d: &TsDiagnostic,
    uri: &Url,
    ix: &LineIndex,
    sources: &SourceMap,
) -> lsp_types::Diagnostic {
    let mut related = Vec::new();
    // the primary range: in this document, or the outermost call from it
    let in_doc = d.span.filter(|s| s.file == FileId(0));
    let range = match in_doc {
        Some(s) => ix.range(s.start, s.end),
        None => {
            let frame = d
                .trace
                .iter()
                .rev()
                .find(|f| f.span.file == FileId(0))
                .or(d.trace.first());
            match frame.filter(|f| f.span.file == FileId(0)) {
                Some(f) => ix.range(f.span.start, f.span.end),
                None => Default::default(),
            }
        }
    };
    if let Some(s) = d.span.filter(|s| s.file != FileId(0))
        && let Some(loc) = file_location(uri, ix, sources, s)
    {
        related.push(DiagnosticRelatedInformation {
            location: loc,
            message: d.label.clone().unwrap_or_else(|| "raised here".into()),
        });
    }
    for (s, label) in &d.secondary {
        if let Some(loc) = file_location(uri, ix, sources, *s) {
            related.push(DiagnosticRelatedInformation {
                location: loc,
                message: label.clone(),
            });
        }
    }
    for f in &d.trace {
        if let Some(loc) = file_location(uri, ix, sources, f.span) {
            related.push(DiagnosticRelatedInformation {
                location: loc,
                message: f.note.clone(),
            });
        }
    }
    let mut message = d.message.clone();
    if let Some(l) = &d.label
        && in_doc.is_some()
    {
        message.push_str(&format!(" ({l})"));
    }
    for h in &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    for n in &d.notes {
        message.push_str(&format!("\nnote: {n}"));
    }
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        code_description: explain_uri(d.code.id).map(|href| CodeDescription { href }),
        source: Some("tekscript".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// A file holding what `tekscript explain CODE` prints, for the diagnostic's link.
fn explain_uri(code: &str) -> Option<Url> {
    let info = crate::diag::codes::lookup(code)?;
    let dir =
        analysis::stdlib_dir().with_file_name(format!("explain-{}", env!("CARGO_PKG_VERSION")));
    let file = dir.join(format!("{code}.md"));
    if !file.exists() {
        std::fs::create_dir_all(&dir).ok()?;
        let body = format!(
            "<!-- tekscript explain {code} -->\n# {}: {}\n\n{}",
            info.id, info.title, info.explanation
        );
        std::fs::write(&file, body).ok()?;
    }
    uri_of(&file)
}
