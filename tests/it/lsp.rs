//! `tekscript lsp` spoken to over real stdio JSON-RPC: the binary is spawned and every request and
//! notification goes through its stdin/stdout, as an editor would send them.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    /// Notifications that arrived while waiting for a response.
    notifications: Vec<Value>,
}

impl Client {
    fn start(cache: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tekscript"))
            .arg("lsp")
            .env("XDG_CACHE_HOME", cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Client {
            child,
            stdin,
            stdout,
            next_id: 1,
            notifications: Vec::new(),
        }
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn read(&mut self) -> Value {
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "server closed stdout"
            );
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                len = v.parse().unwrap();
            }
        }
        let mut buf = vec![0; len];
        self.stdout.read_exact(&mut buf).unwrap();
        serde_json::from_slice(&buf).unwrap()
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let m = self.read();
            if m["id"] == json!(id) {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
            self.notifications.push(m);
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        if let Some(i) = self.notifications.iter().position(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        }) {
            let m = self.notifications.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self.read();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.notifications.push(m);
        }
    }
}

fn pos(text: &str, needle: &str, delta: usize) -> Value {
    let off = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in text"))
        + delta;
    let line = text[..off].matches('\n').count();
    let col = off - text[..off].rfind('\n').map(|i| i + 1).unwrap_or(0);
    json!({ "line": line, "character": col })
}

fn labels(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

const SCRIPT: &str = r#"import "git" as git;

let p = pipeline("ci");
let repo = p.param("repo-url");
let src = p.workspace("source");
let fetch = p.task("fetch", git::clone(), #{
    params: #{ url: repo },
    workspaces: #{ output: src },
});
let t = task("show", #{ workspaces: [#{ name: "source" }] });
t.step("show", "docker.io/library/alpine:3.20", `#!/bin/sh
ls "$(workspaces.source.path)"
`);
p.task("show", t, #{ workspaces: #{ source: src }, runAfter: ["fetch"] });
emit(p);
"#;

#[test]
fn lsp_session_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let file = dir.path().join("ci.rhai");
    std::fs::write(&file, SCRIPT).unwrap();
    let uri = format!("file://{}", file.display());
    let mut c = Client::start(&cache);

    // initialize
    let init = c.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    let caps = &init["capabilities"];
    assert_eq!(caps["hoverProvider"], true, "{init}");
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["documentSymbolProvider"], true);
    assert!(caps["completionProvider"]["triggerCharacters"].is_array());
    assert_eq!(init["serverInfo"]["name"], "tekscript");
    c.notify("initialized", json!({}));

    // didOpen with an error: diagnostics from the real compiler, on the unsaved text
    let broken = SCRIPT.replace("url: repo", "url: rep");
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "rhai", "version": 1, "text": broken } }),
    );
    let d = c.diagnostics(&uri);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0]["code"], "E009");
    assert_eq!(d[0]["severity"], 1);
    assert_eq!(d[0]["source"], "tekscript");
    assert_eq!(d[0]["range"]["start"], pos(&broken, "rep }", 0));
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `repo`"),
        "{d:#?}"
    );
    // codeDescription opens what `tekscript explain E009` prints
    let href = d[0]["codeDescription"]["href"].as_str().unwrap();
    assert!(
        href.starts_with("file://") && href.ends_with("E009.md"),
        "{href}"
    );
    let explained = std::fs::read_to_string(href.trim_start_matches("file://")).unwrap();
    assert!(explained.contains("E009"), "{explained}");

    // didChange fixes it: the next diagnostics (after the debounce) are empty
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": SCRIPT }] }),
    );
    let d = c.diagnostics(&uri);
    assert!(d.is_empty(), "{d:#?}");

    let at = |needle: &str, delta: usize| json!({ "textDocument": { "uri": uri }, "position": pos(SCRIPT, needle, delta) });

    // completion: methods by receiver type
    let items = c.request("textDocument/completion", at("p.task(\"show\"", 2));
    let l = labels(&items);
    for m in ["task", "finally", "param", "workspace", "result", "run"] {
        assert!(l.contains(&m.to_string()), "p.: {l:?}");
    }
    assert!(
        !l.contains(&"step".to_string()),
        "p. offers Task methods: {l:?}"
    );
    let items = c.request("textDocument/completion", at("t.step(", 2));
    let l = labels(&items);
    assert!(
        l.contains(&"step".to_string()) && l.contains(&"sidecar".to_string()),
        "{l:?}"
    );
    // option keys inside p.task(.., #{ | })
    let items = c.request(
        "textDocument/completion",
        at("workspaces: #{ source: src }", 0),
    );
    let l = labels(&items);
    assert!(
        l.contains(&"matrix".to_string()) && l.contains(&"retries".to_string()),
        "{l:?}"
    );
    // keys the map already has are not offered again
    assert!(!l.contains(&"runAfter".to_string()), "{l:?}");
    let ra = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "timeout")
        .unwrap();
    assert!(
        ra["documentation"]["value"]
            .as_str()
            .unwrap()
            .contains("Go duration")
    );
    // module members after `git::`
    let items = c.request("textDocument/completion", at("clone()", 0));
    assert!(labels(&items).contains(&"clone".to_string()));

    // edits: import names and `$(` variables in strings
    let edited = format!("{SCRIPT}import \"\nlet s = \"$(\";\n");
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": edited }] }),
    );
    let at2 = |needle: &str, delta: usize| json!({ "textDocument": { "uri": uri }, "position": pos(&edited, needle, delta) });
    let items = c.request("textDocument/completion", at2("import \"\n", 8));
    let l = labels(&items);
    assert!(
        l.contains(&"kaniko".to_string()) && l.contains(&"git".to_string()),
        "{l:?}"
    );
    let items = c.request("textDocument/completion", at2("\"$(\";", 3));
    let l = labels(&items);
    for v in [
        "params.repo-url",
        "workspaces.source.path",
        "tasks.fetch.status",
        "context.pipelineRun.name",
    ] {
        assert!(l.contains(&v.to_string()), "$(: {l:?}");
    }
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 4 }, "contentChanges": [{ "text": SCRIPT }] }),
    );

    // hover: a handle shows what it renders as; a method its signature and docs
    let h = c.request("textDocument/hover", at("repo = ", 0));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.contains("let repo: Param") && v.contains("$(params.repo-url)"),
        "{v}"
    );
    let h = c.request("textDocument/hover", at("task(\"fetch\"", 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.contains("p.task(name, task, opts)") && v.contains("PipelineTask"),
        "{v}"
    );
    let h = c.request("textDocument/hover", at("clone()", 1));
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("git-clone")
    );
    let h = c.request("textDocument/hover", at("runAfter", 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(v.contains("option of `p.task(..)`"), "{v}");

    // go to definition: variable, stdlib module member, task name in runAfter
    let d = c.request("textDocument/definition", at("url: repo", 6));
    assert_eq!(d["uri"], uri);
    assert_eq!(d["range"]["start"], pos(SCRIPT, "repo = ", 0));
    let d = c.request("textDocument/definition", at("clone()", 1));
    let target = d["uri"].as_str().unwrap();
    assert!(target.ends_with("/git.rhai"), "{d}");
    let stdlib = std::fs::read_to_string(target.trim_start_matches("file://")).unwrap();
    let line = d["range"]["start"]["line"].as_u64().unwrap() as usize;
    assert!(
        stdlib.lines().nth(line).unwrap().starts_with("fn clone("),
        "{d}"
    );
    let d = c.request("textDocument/definition", at("[\"fetch\"]", 3));
    assert_eq!(d["range"]["start"], pos(SCRIPT, "fetch\", git", 0));

    // document symbols: the pipeline with its tasks, the task with its steps
    let s = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let names: Vec<String> = s
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let kids: Vec<&str> = s["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["name"].as_str().unwrap())
                .collect();
            format!("{} {}", s["name"].as_str().unwrap(), kids.join(","))
        })
        .collect();
    assert_eq!(names, ["ci fetch,show", "show show"]);

    // shutdown, exit: the process ends with 0
    let r = c.request("shutdown", Value::Null);
    assert_eq!(r, Value::Null);
    c.notify("exit", Value::Null);
    let status = c.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn diagnostics_inside_a_stdlib_module_point_at_the_users_call() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ci.rhai");
    // two different git-clone tasks: E011 is raised while emitting, its labels in the user's script
    let text = r#"import "kaniko" as kaniko;
let p = pipeline("ci");
p.task("a", kaniko::build(#{ IMAGE: "x" }));
p.task("b", kaniko::build(#{ IMAGE: 1, bogus: 2 }));
emit(p);
"#;
    let uri = format!("file://{}", file.display());
    let mut c = Client::start(&dir.path().join("cache"));
    c.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    c.notify("initialized", json!({}));
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "rhai", "version": 1, "text": text } }),
    );
    let d = c.diagnostics(&uri);
    assert_eq!(d.len(), 1, "{d:#?}");
    // the range is in the user's file, on the call that failed
    assert_eq!(d[0]["range"]["start"]["line"], 3, "{d:#?}");
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(c.child.wait().unwrap().success());
}
