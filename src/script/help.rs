//! Help for the script-level errors that depend on where in the text they happen: an unknown variable
//! (a function reading a script variable, `${VAR}` meant for the shell, a typo) and syntax errors
//! on keywords.

use super::syntax::{self, DeclKind, Kind};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::diag::suggest::did_you_mean;
use crate::source::{SourceMap, Span};

/// The keywords Rhai uses; they cannot be variable names or unquoted map keys. (Every other word Rhai
/// reserves is read as a plain identifier, see `new_engine`.)
pub const KEYWORDS: &[&str] = &[
    "as",
    "break",
    "catch",
    "const",
    "continue",
    "do",
    "else",
    "export",
    "false",
    "fn",
    "for",
    "global",
    "if",
    "import",
    "in",
    "let",
    "loop",
    "private",
    "return",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "until",
    "while",
    "Fn",
    "call",
    "curry",
    "debug",
    "eval",
    "is_def_fn",
    "is_def_var",
    "is_shared",
    "print",
    "type_of",
];

/// E009 with help that fits the place: inside a `fn` that reads a script variable, inside `${…}` of a
/// backtick string (meant as a shell variable), or a near miss of a declared name.
pub fn unknown_variable(name: &str, span: Option<Span>, sources: &SourceMap) -> Diagnostic {
    let d = Diagnostic::error(codes::E009, format!("unknown variable `{name}`"))
        .at(span)
        .label("not declared");
    let Some(span) = span else {
        return d.help(DEFAULT_HELP);
    };
    let text = &sources.get(span.file).text;
    let at = span.start.min(text.len());
    let lx = syntax::lex(text);
    let decls = syntax::declarations(&lx);

    // a function reading a variable of the script
    let body = syntax::fn_bodies(&lx)
        .into_iter()
        .find(|(s, e)| *s <= at && at < *e);
    if let Some(body) = body
        && let Some(outer) = decls.iter().find(|d| {
            d.name == name
                && matches!(d.kind, DeclKind::Let | DeclKind::Const)
                && d.in_fn.is_none()
                && d.start < body.0
        })
    {
        let fn_name = decls
            .iter()
            .filter(|d| d.kind == DeclKind::Fn && d.start < body.0)
            .max_by_key(|d| d.start)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| "f".into());
        return d
            .label("functions cannot see the script's variables")
            .secondary(
                Some(Span::new(span.file, outer.start, outer.end)),
                "declared here, outside the function",
            )
            .help(format!(
                "pass it as an argument: `fn {fn_name}(.., {name})` and `{fn_name}(.., {name})`"
            ))
            .help(format!(
                "or use a closure, which captures script variables: `let {fn_name} = |..| {{ .. {name} .. }};` called as `{fn_name}.call(..)`"
            ));
    }

    // a typo of something visible here
    let here_fn = body;
    let mut names: Vec<&str> = decls
        .iter()
        .filter(|d| syntax::visible(d, at, here_fn) && d.kind != DeclKind::Fn)
        .map(|d| d.name.as_str())
        .collect();
    if here_fn.is_none() {
        names.push("values");
    }
    let suggestion = did_you_mean(name, names.iter().copied()).filter(|s| *s != name);
    let mut d = d;
    if let Some(s) = suggestion {
        d = d.help(format!("did you mean `{s}`?"));
    }
    // `${SHA}` inside a backtick string: perhaps meant for the shell
    let in_interp = lx.interp.iter().any(|t| t.start == at)
        && lx
            .code
            .iter()
            .any(|t| t.kind == Kind::Str('`') && t.start < at && at < t.end);
    if in_interp {
        return d.help(format!(
            "in a backtick string `${{{name}}}` inserts the Rhai variable `{name}`; for the shell variable write `${name}`, or `\\${{{name}}}` for a literal `${{{name}}}`"
        ));
    }
    if suggestion.is_none() {
        d = d.help(DEFAULT_HELP);
    }
    d
}

const DEFAULT_HELP: &str =
    "declare it with `let`; inputs from --set/--values are in the `values` map";

/// Help for a syntax error, naming the keyword the error is on when there is one.
pub fn syntax_help(message: &str, span: Option<Span>, sources: &SourceMap) -> String {
    let word = span.and_then(|s| {
        let text = &sources.get(s.file).text;
        let rest = &text[s.start.min(text.len())..];
        let w: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        KEYWORDS.contains(&w.as_str()).then_some(w)
    });
    if let Some(w) = word {
        return format!(
            "`{w}` is a Rhai keyword: quote it as a map key (`#{{ \"{w}\": x }}`) or choose another name (`{w}_`)"
        );
    }
    if message.contains("reserved keyword") {
        return "Rhai reserves this word: quote it as a map key or choose another name".into();
    }
    "see the Rhai language reference: https://rhai.rs/book/".into()
}

/// W512: `${name}` inside a double-quoted string, where `name` is a variable of the script: Rhai only
/// interpolates backtick strings, so the text goes out literally (`image: ${registry}/tool:1.0`).
pub fn uninterpolated(sources: &SourceMap, file: crate::source::FileId) -> Vec<Diagnostic> {
    let text = &sources.get(file).text;
    let lx = syntax::lex(text);
    let decls = syntax::declarations(&lx);
    let mut out = Vec::new();
    for t in lx.code.iter().filter(|t| t.kind == Kind::Str('"')) {
        let Some(value) = lx.str_value(t) else {
            continue;
        };
        let base = t.start + 1;
        let mut from = 0;
        while let Some(i) = value[from..].find("${") {
            let at = from + i;
            from = at + 2;
            let inner = &value[at + 2..];
            let Some(close) = inner.find('}') else { break };
            let expr = &inner[..close];
            let name: String = expr
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let declared = name == "values"
                || decls.iter().any(|d| {
                    d.name == name && d.start < t.start && !matches!(d.kind, DeclKind::Fn)
                });
            if name.is_empty() || !declared {
                continue;
            }
            let span = Span::new(file, base + at, base + at + close + 3);
            out.push(
                Diagnostic::warning(
                    codes::W512,
                    format!("`${{{expr}}}` is not interpolated in a double-quoted string"),
                )
                .at(Some(span))
                .label("written literally")
                .help(format!(
                    "Rhai interpolates `${{…}}` only in backtick strings: write `…${{{expr}}}…` in backticks, or join with `+`"
                )),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_what_rhai_uses() {
        // every listed keyword is rejected as a variable name, and none of Rhai's reserved-but-unused
        // words is (they are plain identifiers here)
        let opts = crate::Options::default();
        for w in KEYWORDS {
            let src = format!("let {w} = 1;");
            assert!(
                crate::compile_str("k.rhai", &src, &opts).is_err(),
                "`{w}` is usable as a name"
            );
        }
    }

    #[test]
    fn helps_name_the_keyword() {
        let mut sources = SourceMap::new();
        let f = sources.add("x.rhai", "let if = 1;");
        let h = syntax_help("", Some(Span::new(f, 4, 6)), &sources);
        assert!(
            h.contains("`if` is a Rhai keyword") && h.contains("\"if\""),
            "{h}"
        );
    }
}
