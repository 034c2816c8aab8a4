// A client only: starts `tekscript lsp` and lets VS Code talk to it over stdio. No build step.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("tekscript").get("path") || "tekscript";
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "tekscript",
    "tekscript",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "rhai" }, { scheme: "untitled", language: "rhai" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
