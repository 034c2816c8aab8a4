//! A tolerant reading of a Rhai script's text, for the editor and for diagnostics' help: tokens (also of half-typed text), the variables,
//! functions and imports it declares with their scopes, and a light inference of what an expression
//! is (`p.task("fetch", ..)` is the pipeline task `fetch`). Rhai's own parser stops at the first error,
//! which is every keystroke in an editor, so this never fails.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    /// A string literal; the char is its quote (`"`, `` ` `` or `'`).
    Str(char),
    Punct,
    /// `///` comment lines (documentation of the next `fn`).
    DocComment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    /// For strings: whether the closing quote is there.
    pub closed: bool,
}

/// The tokens of a text. `code` is the main stream (comments dropped); `interp` holds the tokens of
/// `${…}` interpolations inside backtick strings.
#[derive(Debug, Default)]
pub struct Lexed<'a> {
    pub text: &'a str,
    pub code: Vec<Tok>,
    pub interp: Vec<Tok>,
    pub docs: Vec<Tok>,
}

impl<'a> Lexed<'a> {
    pub fn s(&self, t: &Tok) -> &'a str {
        &self.text[t.start..t.end]
    }

    /// The content of a string token without its quotes.
    pub fn str_value(&self, t: &Tok) -> Option<&'a str> {
        match t.kind {
            Kind::Str(_) => {
                let end = if t.closed { t.end - 1 } else { t.end };
                Some(&self.text[(t.start + 1).min(end)..end])
            }
            _ => None,
        }
    }

    pub fn is(&self, i: usize, s: &str) -> bool {
        self.code.get(i).is_some_and(|t| self.s(t) == s)
    }

    /// Index of the last code token that starts before `offset`.
    pub fn before(&self, offset: usize) -> Option<usize> {
        let n = self.code.partition_point(|t| t.start < offset);
        n.checked_sub(1)
    }

    /// The token (code or interpolation) that contains `offset` (or ends right at it).
    pub fn at(&self, offset: usize) -> Option<Tok> {
        let hit = |t: &&Tok| t.start <= offset && offset <= t.end;
        self.interp
            .iter()
            .find(hit)
            .filter(|t| t.kind == Kind::Ident)
            .or_else(|| {
                self.code
                    .iter()
                    .find(hit)
                    .filter(|t| t.start < offset || t.kind == Kind::Ident)
            })
            .copied()
    }

    /// The index of the `(`, `[`, `{` or `#{` that the closer at `close` matches.
    pub fn open_of(&self, close: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in (0..=close).rev() {
            match self.s(&self.code[i]) {
                ")" | "]" | "}" => depth += 1,
                "(" | "[" | "{" | "#{" => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The innermost bracket still open at token index `i` (exclusive), if any.
    pub fn enclosing(&self, i: usize) -> Option<usize> {
        let mut depth = 0usize;
        for j in (0..i).rev() {
            match self.s(&self.code[j]) {
                ")" | "]" | "}" => depth += 1,
                "(" | "[" | "{" | "#{" => {
                    if depth == 0 {
                        return Some(j);
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        None
    }

    /// The index of the closer matching the opener at `open` (or the end of the text).
    pub fn close_of(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (i, t) in self.code.iter().enumerate().skip(open) {
            match self.s(t) {
                "(" | "[" | "{" | "#{" => depth += 1,
                ")" | "]" | "}" => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

pub fn lex(text: &str) -> Lexed<'_> {
    let mut out = Lexed {
        text,
        ..Default::default()
    };
    lex_into(text, 0, text.len(), &mut out, false);
    out
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn lex_into(text: &str, from: usize, to: usize, out: &mut Lexed, nested: bool) {
    let b = text.as_bytes();
    let mut i = from;
    let push = |out: &mut Lexed, t: Tok| {
        if nested {
            out.interp.push(t)
        } else {
            out.code.push(t)
        }
    };
    while i < to {
        let c = text[i..].chars().next().expect("in range");
        let n = c.len_utf8();
        if c.is_whitespace() {
            i += n;
            continue;
        }
        if text[i..to].starts_with("//") {
            let end = text[i..to].find('\n').map(|e| i + e).unwrap_or(to);
            if text[i..to].starts_with("///") && !text[i..to].starts_with("////") && !nested {
                out.docs.push(Tok {
                    kind: Kind::DocComment,
                    start: i,
                    end,
                    closed: true,
                });
            }
            i = end;
            continue;
        }
        if text[i..to].starts_with("/*") {
            let mut depth = 0;
            let mut j = i;
            while j < to {
                if text[j..to].starts_with("/*") {
                    depth += 1;
                    j += 2;
                } else if text[j..to].starts_with("*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += text[j..].chars().next().map_or(1, char::len_utf8);
                }
            }
            i = j.min(to);
            continue;
        }
        if is_ident_start(c) {
            let end = text[i..to]
                .char_indices()
                .find(|(_, c)| !is_ident(*c))
                .map(|(e, _)| i + e)
                .unwrap_or(to);
            push(
                out,
                Tok {
                    kind: Kind::Ident,
                    start: i,
                    end,
                    closed: true,
                },
            );
            i = end;
            continue;
        }
        if c.is_ascii_digit() {
            let end = text[i..to]
                .char_indices()
                .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
                .map(|(e, _)| i + e)
                .unwrap_or(to);
            // `0..n`: a range, not a decimal point
            let end = text[i..end].find("..").map(|e| i + e).unwrap_or(end);
            push(
                out,
                Tok {
                    kind: Kind::Number,
                    start: i,
                    end,
                    closed: true,
                },
            );
            i = end;
            continue;
        }
        if c == '"' || c == '\'' || c == '`' {
            let (end, closed) = string_end(text, i, to, c, out, nested);
            push(
                out,
                Tok {
                    kind: Kind::Str(c),
                    start: i,
                    end,
                    closed,
                },
            );
            i = end;
            continue;
        }
        const PUNCT: &[&str] = &[
            "#{", "::", "=>", "..=", "..", "??", "?.", "?[", "==", "!=", "<=", ">=", "&&", "||",
            "+=", "-=", "*=", "/=", "|>",
        ];
        let len = PUNCT
            .iter()
            .find(|p| b[i..to].starts_with(p.as_bytes()))
            .map_or(n, |p| p.len());
        push(
            out,
            Tok {
                kind: Kind::Punct,
                start: i,
                end: i + len,
                closed: true,
            },
        );
        i += len;
    }
}

/// The end of the string starting at `start`; interpolations of backtick strings are lexed into
/// `out.interp`.
fn string_end(
    text: &str,
    start: usize,
    to: usize,
    q: char,
    out: &mut Lexed,
    nested: bool,
) -> (usize, bool) {
    let mut j = start + 1;
    while j < to {
        let c = text[j..].chars().next().expect("in range");
        if c == '\\' && q != '`' {
            j += 1 + text[j + 1..].chars().next().map_or(0, char::len_utf8);
            continue;
        }
        if c == q {
            // a doubled backtick is a literal backtick
            if q == '`' && text[j + 1..to].starts_with('`') {
                j += 2;
                continue;
            }
            return (j + 1, true);
        }
        if c == '\n' && q != '`' && !text[..j].ends_with('\\') {
            return (j, false);
        }
        if q == '`' && text[j..to].starts_with("${") {
            let inner = j + 2;
            let mut depth = 1;
            let mut k = inner;
            while k < to {
                match text.as_bytes()[k] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b'`' => break,
                    _ => {}
                }
                k += 1;
            }
            if !nested {
                lex_into(text, inner, k, out, true);
            }
            j = if k < to && text.as_bytes()[k] == b'}' {
                k + 1
            } else {
                k
            };
            continue;
        }
        j += c.len_utf8();
    }
    (to, false)
}

// ---------------------------------------------------------------------------------------------
// Declarations

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    Let,
    Const,
    Fn,
    /// A function parameter.
    Arg,
    /// A `for` loop variable.
    For,
    /// `import "x" as name`.
    Import,
    /// A closure parameter `|x|`.
    Closure,
}

#[derive(Debug, Clone)]
pub struct Decl {
    pub name: String,
    pub kind: DeclKind,
    /// Byte range of the name.
    pub start: usize,
    pub end: usize,
    /// Visible from `start` up to this offset (the end of the enclosing block).
    pub until: usize,
    /// The `fn` body it is declared in (byte range); top-level declarations have none.
    pub in_fn: Option<(usize, usize)>,
    /// `let x = …`: index of the first and last code token of the value.
    pub value: Option<(usize, usize)>,
    /// `import "path"`: the path; `fn`: the doc comment lines.
    pub detail: Option<String>,
}

/// Declarations of a script, in source order.
pub fn declarations(lx: &Lexed) -> Vec<Decl> {
    let mut out = Vec::new();
    let toks = &lx.code;
    let fn_bodies = fn_bodies(lx);
    let in_fn = |off: usize| {
        fn_bodies
            .iter()
            .find(|(s, e)| *s <= off && off < *e)
            .copied()
    };
    let until = |i: usize| {
        lx.enclosing(i)
            .and_then(|o| lx.close_of(o))
            .map(|c| toks[c].start)
            .unwrap_or(lx.text.len())
    };
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let word = lx.s(t);
        match word {
            "let" | "const" if toks.get(i + 1).is_some_and(|n| n.kind == Kind::Ident) => {
                let n = toks[i + 1];
                let value = if lx.is(i + 2, "=") {
                    let first = i + 3;
                    let mut j = first;
                    let mut depth = 0i32;
                    while j < toks.len() {
                        match lx.s(&toks[j]) {
                            "(" | "[" | "{" | "#{" => depth += 1,
                            ")" | "]" | "}" => {
                                depth -= 1;
                                if depth < 0 {
                                    break;
                                }
                            }
                            ";" if depth == 0 => break,
                            "let" | "const" | "fn" | "import" if depth == 0 => break,
                            _ => {}
                        }
                        j += 1;
                    }
                    (j > first).then(|| (first, j - 1))
                } else {
                    None
                };
                out.push(Decl {
                    name: lx.s(&n).to_string(),
                    kind: if word == "let" {
                        DeclKind::Let
                    } else {
                        DeclKind::Const
                    },
                    start: n.start,
                    end: n.end,
                    until: until(i),
                    in_fn: in_fn(n.start),
                    value,
                    detail: None,
                });
            }
            "fn" if toks.get(i + 1).is_some_and(|n| n.kind == Kind::Ident) => {
                let n = toks[i + 1];
                let docs = doc_comment_before(lx, t.start);
                out.push(Decl {
                    name: lx.s(&n).to_string(),
                    kind: DeclKind::Fn,
                    start: n.start,
                    end: n.end,
                    until: lx.text.len(),
                    in_fn: None,
                    value: None,
                    detail: Some(docs),
                });
                if lx.is(i + 2, "(")
                    && let Some(close) = lx.close_of(i + 2)
                {
                    let body_end = toks
                        .get(close + 1)
                        .filter(|b| lx.s(b) == "{")
                        .and_then(|_| lx.close_of(close + 1))
                        .map(|c| toks[c].end)
                        .unwrap_or(lx.text.len());
                    let body = toks.get(close + 1).map(|b| (b.start, body_end));
                    for a in &toks[i + 3..close] {
                        if a.kind == Kind::Ident {
                            out.push(Decl {
                                name: lx.s(a).to_string(),
                                kind: DeclKind::Arg,
                                start: a.start,
                                end: a.end,
                                until: body_end,
                                in_fn: body,
                                value: None,
                                detail: None,
                            });
                        }
                    }
                }
            }
            "for" => {
                let mut j = i + 1;
                if lx.is(j, "(") {
                    j += 1;
                }
                while j < toks.len() && toks[j].kind == Kind::Ident && lx.s(&toks[j]) != "in" {
                    let a = toks[j];
                    out.push(Decl {
                        name: lx.s(&a).to_string(),
                        kind: DeclKind::For,
                        start: a.start,
                        end: a.end,
                        until: for_body_end(lx, j),
                        in_fn: in_fn(a.start),
                        value: None,
                        detail: None,
                    });
                    j += 1;
                    if lx.is(j, ",") {
                        j += 1;
                    }
                }
            }
            "import"
                if toks
                    .get(i + 1)
                    .is_some_and(|s| matches!(s.kind, Kind::Str(_)))
                    && lx.is(i + 2, "as")
                    && toks.get(i + 3).is_some_and(|n| n.kind == Kind::Ident) =>
            {
                let n = toks[i + 3];
                out.push(Decl {
                    name: lx.s(&n).to_string(),
                    kind: DeclKind::Import,
                    start: n.start,
                    end: n.end,
                    until: until(i),
                    in_fn: in_fn(n.start),
                    value: None,
                    detail: lx.str_value(&toks[i + 1]).map(str::to_string),
                });
            }
            "|" if closure_start(lx, i) => {
                let mut j = i + 1;
                while j < toks.len() && !lx.is(j, "|") {
                    if toks[j].kind == Kind::Ident {
                        let a = toks[j];
                        out.push(Decl {
                            name: lx.s(&a).to_string(),
                            kind: DeclKind::Closure,
                            start: a.start,
                            end: a.end,
                            until: closure_end(lx, j),
                            in_fn: in_fn(a.start),
                            value: None,
                            detail: None,
                        });
                    }
                    j += 1;
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn closure_start(lx: &Lexed, i: usize) -> bool {
    // `|x|` after `(`, `,`, `=` or at an argument position; not the `|` of `a | b`
    i == 0
        || matches!(
            lx.s(&lx.code[i - 1]),
            "(" | "," | "=" | ":" | "return" | "[" | "{"
        )
}

fn closure_end(lx: &Lexed, param: usize) -> usize {
    lx.enclosing(param + 1)
        .and_then(|o| lx.close_of(o))
        .map(|c| lx.code[c].start)
        .unwrap_or(lx.text.len())
}

fn for_body_end(lx: &Lexed, var: usize) -> usize {
    let mut j = var;
    while j < lx.code.len() && !lx.is(j, "{") {
        j += 1;
    }
    lx.close_of(j)
        .map(|c| lx.code[c].end)
        .unwrap_or(lx.text.len())
}

/// Byte ranges of `fn` bodies.
pub fn fn_bodies(lx: &Lexed) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, t) in lx.code.iter().enumerate() {
        if lx.s(t) == "fn"
            && lx.is(i + 2, "(")
            && let Some(close) = lx.close_of(i + 2)
            && lx.is(close + 1, "{")
        {
            let end = lx
                .close_of(close + 1)
                .map(|c| lx.code[c].end)
                .unwrap_or(lx.text.len());
            out.push((lx.code[close + 1].start, end));
        }
    }
    out
}

/// The `///` lines directly above `offset`, without the slashes.
pub fn doc_comment_before(lx: &Lexed, offset: usize) -> String {
    let mut lines = Vec::new();
    let mut at = offset;
    for d in lx.docs.iter().rev().filter(|d| d.end <= offset) {
        let between = &lx.text[d.end..at];
        if between.trim().is_empty() && between.matches('\n').count() <= 1 {
            let l = &lx.text[d.start + 3..d.end];
            lines.push(l.strip_prefix(' ').unwrap_or(l).to_string());
            at = d.start;
        } else {
            break;
        }
    }
    lines.reverse();
    lines.join("\n")
}

/// The declaration a name at `offset` refers to: the last one visible there (a `fn` body sees only
/// its own declarations, and functions).
pub fn resolve<'d>(decls: &'d [Decl], name: &str, offset: usize, lx: &Lexed) -> Option<&'d Decl> {
    let here_fn = fn_bodies(lx)
        .into_iter()
        .find(|(s, e)| *s <= offset && offset < *e);
    decls
        .iter()
        .filter(|d| d.name == name && visible(d, offset, here_fn))
        .max_by_key(|d| d.start)
        .or_else(|| {
            decls
                .iter()
                .find(|d| d.name == name && d.kind == DeclKind::Fn)
        })
}

pub fn visible(d: &Decl, offset: usize, here_fn: Option<(usize, usize)>) -> bool {
    if d.kind == DeclKind::Fn {
        return true;
    }
    if d.kind == DeclKind::Import && d.in_fn.is_none() {
        return d.start <= offset;
    }
    d.start <= offset && offset <= d.until && d.in_fn == here_fn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_interpolation_and_unclosed_strings() {
        let src = "let a = `x ${b.c} y`; let s = \"open";
        let lx = lex(src);
        let words: Vec<&str> = lx.code.iter().map(|t| lx.s(t)).collect();
        assert_eq!(
            words,
            [
                "let",
                "a",
                "=",
                "`x ${b.c} y`",
                ";",
                "let",
                "s",
                "=",
                "\"open"
            ]
        );
        let inner: Vec<&str> = lx.interp.iter().map(|t| lx.s(t)).collect();
        assert_eq!(inner, ["b", ".", "c"]);
        assert!(!lx.code.last().unwrap().closed);
    }

    #[test]
    fn declarations_and_scopes() {
        let src = "import \"git\" as git;\nlet x = 1;\n/// Doubles.\nfn f(a) { let y = a; y }\nfor i in 0..3 { print(i); }\n";
        let lx = lex(src);
        let d = declarations(&lx);
        let names: Vec<(&str, DeclKind)> = d.iter().map(|d| (d.name.as_str(), d.kind)).collect();
        assert_eq!(
            names,
            [
                ("git", DeclKind::Import),
                ("x", DeclKind::Let),
                ("f", DeclKind::Fn),
                ("a", DeclKind::Arg),
                ("y", DeclKind::Let),
                ("i", DeclKind::For)
            ]
        );
        assert_eq!(d[2].detail.as_deref(), Some("Doubles."));
        // inside f, x is not visible (functions cannot see script variables); a and y are
        let inside = src.find("y }").unwrap();
        assert!(resolve(&d, "x", inside, &lx).is_none());
        assert_eq!(resolve(&d, "a", inside, &lx).unwrap().kind, DeclKind::Arg);
        assert!(resolve(&d, "i", src.find("print").unwrap(), &lx).is_some());
        assert!(resolve(&d, "i", src.len(), &lx).is_none());
    }
}
