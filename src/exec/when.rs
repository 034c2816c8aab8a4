//! `when` expressions: `input` `in`/`notin` `values` (`pkg/apis/pipeline/v1/when_types.go`,
//! `AllowsExecution`: every expression must hold), and `cel` expressions (alpha flag
//! `enable-cel-in-whenexpression`) through a small evaluator for what people write in them: string,
//! integer and boolean literals, `== != < <= > >=`, `in [..]`, `&& || !`, parentheses, and the string
//! methods `startsWith`, `endsWith`, `contains`, `matches` (a literal regular expression is only
//! supported as a plain substring/anchor pattern). Anything else is [`When::Undecidable`], never a guess.

use crate::model::WhenExpression;

/// The outcome of a task's `when` expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// All hold: the task runs.
    True,
    /// One does not hold: `When Expressions evaluated to false`.
    False,
    /// Cannot be decided: a placeholder value is compared, or a CEL form this evaluator does not know.
    Undecidable(String),
}

/// One substituted `when` expression, with whether a placeholder went into it.
#[derive(Debug, Clone)]
pub struct Substituted {
    pub expr: WhenExpression,
    pub unknown: bool,
}

/// Evaluates substituted `when` expressions in order, like `AllowsExecution`: the first one that is false
/// decides; an undecidable one decides only if none after it is false.
pub fn evaluate(whens: &[Substituted]) -> When {
    let mut undecided = None;
    for w in whens {
        let r = if let Some(cel) = &w.expr.cel {
            match eval_cel(cel) {
                Ok(b) if !w.unknown => b,
                Ok(_) => {
                    undecided.get_or_insert(format!(
                        "the CEL expression `{cel}` compares a value nobody supplied"
                    ));
                    continue;
                }
                Err(e) => {
                    undecided
                        .get_or_insert(format!("cannot evaluate the CEL expression `{cel}`: {e}"));
                    continue;
                }
            }
        } else {
            let input = w.expr.input.as_deref().unwrap_or("");
            if w.unknown {
                undecided.get_or_insert(format!(
                    "`{input}` {} {:?} compares a value nobody supplied",
                    w.expr.operator.as_deref().unwrap_or("in"),
                    w.expr.values
                ));
                continue;
            }
            let found = w.expr.values.iter().any(|v| v == input);
            match w.expr.operator.as_deref() {
                Some("notin") => !found,
                _ => found,
            }
        };
        if !r {
            return When::False;
        }
    }
    match undecided {
        Some(u) => When::Undecidable(u),
        None => When::True,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Val>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Int(i64),
    Ident(String),
    Op(&'static str),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'\'' || c == b'"' {
            let mut j = i + 1;
            let mut text = String::new();
            while j < b.len() && b[j] != c {
                if b[j] == b'\\' && j + 1 < b.len() {
                    j += 1;
                }
                let ch = s[j..].chars().next().expect("in bounds");
                text.push(ch);
                j += ch.len_utf8();
            }
            if j >= b.len() {
                return Err("unterminated string".into());
            }
            out.push(Tok::Str(text));
            i = j + 1;
        } else if c.is_ascii_digit() {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            out.push(Tok::Int(s[i..j].parse().map_err(|_| "integer too large")?));
            i = j;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            out.push(Tok::Ident(s[i..j].to_string()));
            i = j;
        } else {
            let two = s.get(i..i + 2).unwrap_or("");
            let op = ["==", "!=", "<=", ">=", "&&", "||"]
                .into_iter()
                .find(|o| *o == two);
            if let Some(o) = op {
                out.push(Tok::Op(o));
                i += 2;
                continue;
            }
            let one = match c {
                b'<' => "<",
                b'>' => ">",
                b'!' => "!",
                b'(' => "(",
                b')' => ")",
                b'[' => "[",
                b']' => "]",
                b',' => ",",
                b'.' => ".",
                _ => {
                    return Err(format!(
                        "unexpected `{}`",
                        &s[i..].chars().next().unwrap_or(' ')
                    ));
                }
            };
            out.push(Tok::Op(one));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.eat(op) {
            Ok(())
        } else {
            Err(format!("expected `{op}`"))
        }
    }
    fn or(&mut self) -> Result<Val, String> {
        let mut l = self.and()?;
        while self.eat("||") {
            let r = self.and()?;
            l = Val::Bool(truthy(&l)? || truthy(&r)?);
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Val, String> {
        let mut l = self.cmp()?;
        while self.eat("&&") {
            let r = self.cmp()?;
            l = Val::Bool(truthy(&l)? && truthy(&r)?);
        }
        Ok(l)
    }
    fn cmp(&mut self) -> Result<Val, String> {
        let l = self.unary()?;
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.eat(op) {
                let r = self.unary()?;
                return compare(op, &l, &r).map(Val::Bool);
            }
        }
        if matches!(self.peek(), Some(Tok::Ident(k)) if k == "in") {
            self.at += 1;
            let r = self.unary()?;
            let Val::List(items) = r else {
                return Err("`in` needs a list".into());
            };
            return Ok(Val::Bool(items.contains(&l)));
        }
        Ok(l)
    }
    fn unary(&mut self) -> Result<Val, String> {
        if self.eat("!") {
            let v = self.unary()?;
            return Ok(Val::Bool(!truthy(&v)?));
        }
        let mut v = self.primary()?;
        while self.eat(".") {
            let Some(Tok::Ident(m)) = self.peek().cloned() else {
                return Err("expected a method name after `.`".into());
            };
            self.at += 1;
            self.expect("(")?;
            let arg = self.or()?;
            self.expect(")")?;
            let (Val::Str(s), Val::Str(a)) = (&v, &arg) else {
                return Err(format!("`{m}` needs strings"));
            };
            v = Val::Bool(match m.as_str() {
                "startsWith" => s.starts_with(a.as_str()),
                "endsWith" => s.ends_with(a.as_str()),
                "contains" => s.contains(a.as_str()),
                "matches" => simple_match(s, a)?,
                _ => return Err(format!("unsupported function `{m}`")),
            });
        }
        Ok(v)
    }
    fn primary(&mut self) -> Result<Val, String> {
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.at += 1;
                Ok(Val::Str(s))
            }
            Some(Tok::Int(n)) => {
                self.at += 1;
                Ok(Val::Int(n))
            }
            Some(Tok::Ident(k)) if k == "true" || k == "false" => {
                self.at += 1;
                Ok(Val::Bool(k == "true"))
            }
            Some(Tok::Ident(k)) => Err(format!(
                "unknown name `{k}` (Tekton variables must be quoted inside CEL: '$(params.x)')"
            )),
            Some(Tok::Op("(")) => {
                self.at += 1;
                let v = self.or()?;
                self.expect(")")?;
                Ok(v)
            }
            Some(Tok::Op("[")) => {
                self.at += 1;
                let mut items = Vec::new();
                if !self.eat("]") {
                    loop {
                        items.push(self.or()?);
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Ok(Val::List(items))
            }
            _ => Err("unexpected end of expression".into()),
        }
    }
}

fn truthy(v: &Val) -> Result<bool, String> {
    match v {
        Val::Bool(b) => Ok(*b),
        _ => Err("a condition must be a boolean".into()),
    }
}

fn compare(op: &str, l: &Val, r: &Val) -> Result<bool, String> {
    use std::cmp::Ordering;
    let ord = match (l, r) {
        (Val::Str(a), Val::Str(b)) => a.cmp(b),
        (Val::Int(a), Val::Int(b)) => a.cmp(b),
        (Val::Bool(a), Val::Bool(b)) if matches!(op, "==" | "!=") => a.cmp(b),
        _ => return Err("cannot compare values of different types".into()),
    };
    Ok(match op {
        "==" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        "<" => ord == Ordering::Less,
        "<=" => ord != Ordering::Greater,
        ">" => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    })
}

/// `matches` for patterns without regular-expression operators other than `^` and `$` anchors.
fn simple_match(s: &str, pat: &str) -> Result<bool, String> {
    let core = pat.trim_start_matches('^').trim_end_matches('$');
    if core.chars().any(|c| "\\.*+?()[]{}|".contains(c)) {
        return Err(format!(
            "regular expression `{pat}` is not supported by the simulator"
        ));
    }
    Ok(match (pat.starts_with('^'), pat.ends_with('$')) {
        (true, true) => s == core,
        (true, false) => s.starts_with(core),
        (false, true) => s.ends_with(core),
        (false, false) => s.contains(core),
    })
}

/// Evaluates a substituted CEL expression to a boolean.
pub fn eval_cel(src: &str) -> Result<bool, String> {
    let mut p = Parser {
        toks: lex(src)?,
        at: 0,
    };
    let v = p.or()?;
    if p.at != p.toks.len() {
        return Err("unexpected text after the expression".into());
    }
    truthy(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(input: &str, op: &str, values: &[&str]) -> Substituted {
        Substituted {
            expr: WhenExpression {
                input: Some(input.into()),
                operator: Some(op.into()),
                values: values.iter().map(|s| s.to_string()).collect(),
                cel: None,
            },
            unknown: false,
        }
    }

    #[test]
    fn in_and_notin() {
        // tekton: when_types.go isTrue
        assert_eq!(evaluate(&[w("a", "in", &["a", "b"])]), When::True);
        assert_eq!(evaluate(&[w("c", "in", &["a", "b"])]), When::False);
        assert_eq!(evaluate(&[w("c", "notin", &["a"])]), When::True);
        assert_eq!(
            evaluate(&[w("a", "in", &["a"]), w("a", "notin", &["a"])]),
            When::False
        );
    }

    #[test]
    fn placeholders_are_undecidable_unless_another_is_false() {
        let mut u = w("<t.r>", "in", &["x"]);
        u.unknown = true;
        assert!(matches!(
            evaluate(std::slice::from_ref(&u)),
            When::Undecidable(_)
        ));
        assert_eq!(evaluate(&[u, w("a", "in", &["b"])]), When::False);
    }

    #[test]
    fn cel() {
        for (src, want) in [
            ("'main' == 'main'", true),
            ("'a' != 'a'", false),
            ("'release-1'.startsWith('release') && !('x' in ['y'])", true),
            ("2 > 10 || 'b' >= 'a'", true),
            ("'prod' in ['dev', 'prod']", true),
            ("('a' == 'b') || ('c'.matches('^c$'))", true),
        ] {
            assert_eq!(eval_cel(src), Ok(want), "{src}");
        }
        assert!(eval_cel("size('x') > 0").is_err());
        assert!(eval_cel("params.x == 'a'").unwrap_err().contains("quoted"));
    }
}
