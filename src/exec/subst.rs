//! Tekton's variable substitution: replacing `$(…)` references in strings, lists and param values.
//!
//! Tekton substitutes by plain text replacement (`pkg/substitution/substitution.go`,
//! `ApplyReplacements` / `ApplyArrayReplacements`): every known variable is replaced wherever it occurs,
//! unknown ones are left as written. Array and object values are special:
//! - in a list of strings (`command`, `args`, an array param value) an element that is *exactly*
//!   `$(params.a[*])` (or a result `[*]`) is replaced by the array's elements (`ApplyArrayReplacements`);
//! - a param value that is exactly `$(params.a[*])` / `$(params.o[*])` becomes the whole array or object
//!   (`pkg/reconciler/pipelinerun/resources/apply.go`, `replaceParamValues`);
//! - elsewhere, `[N]` picks an element and `.key` an object property.
//!
//! The resolver decides what a [`Var`] means in its scope ([`Resolved`]); a value marked `unknown` (a
//! placeholder standing for a result nobody supplied) taints every string it is substituted into, so a
//! caller can tell a decided value from a guessed one.

use crate::expr::{Selector, Var, find_refs};
use crate::model::ParamValue;

/// What a variable stands for, as the resolver sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub value: ParamValue,
    /// True for a placeholder value (a result nobody supplied to a simulation).
    pub unknown: bool,
}

impl Resolved {
    pub fn known(value: impl Into<ParamValue>) -> Resolved {
        Resolved {
            value: value.into(),
            unknown: false,
        }
    }
}

/// A substituted string (or value), and whether a placeholder went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subst<T> {
    pub value: T,
    pub unknown: bool,
}

/// The resolver: `None` leaves the reference as written (Tekton does not touch unknown variables).
pub type Resolver<'a> = dyn FnMut(&Var) -> Option<Resolved> + 'a;

/// Applies a selector (`[*]`, `[N]`, `.key`, none) to a value. `None` when it does not apply (an index
/// out of range, a missing key, an index into a string).
pub fn select(value: &ParamValue, sel: &Selector) -> Option<ParamValue> {
    match (sel, value) {
        (Selector::None | Selector::Star, v) => Some(v.clone()),
        (Selector::Index(i), ParamValue::Array(a)) => a.get(*i).cloned().map(ParamValue::String),
        (Selector::Key(k), ParamValue::Object(o)) => o.get(k).cloned().map(ParamValue::String),
        _ => None,
    }
}

/// The selector of a variable that carries one.
pub fn selector_of(var: &Var) -> Option<&Selector> {
    match var {
        Var::Params { sel, .. }
        | Var::TaskResult { sel, .. }
        | Var::FinallyResult { sel, .. }
        | Var::StepResult { sel, .. } => Some(sel),
        _ => None,
    }
}

/// Replaces every resolvable `$(…)` in `s` whose value is a string. Array and object values are only
/// substituted whole by [`substitute_list`] / [`substitute_value`]; in running text they stay as written,
/// as in Tekton.
pub fn substitute_str(s: &str, resolve: &mut Resolver<'_>) -> Subst<String> {
    if !s.contains("$(") {
        return Subst {
            value: s.to_string(),
            unknown: false,
        };
    }
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    let mut unknown = false;
    for r in find_refs(s) {
        let Ok(var) = &r.var else { continue };
        if !var.is_tekton() || r.start < at {
            continue;
        }
        // `$$(params.a)`: Tekton still substitutes (there is no escaping); the reference starts at the
        // second `$`, which find_refs already reports.
        let Some(res) = resolve(var) else { continue };
        let ParamValue::String(text) = res.value else {
            continue;
        };
        out.push_str(&s[at..r.start]);
        out.push_str(&text);
        unknown |= res.unknown;
        at = r.end;
    }
    out.push_str(&s[at..]);
    Subst {
        value: out,
        unknown,
    }
}

/// The variable when `s` is exactly one Tekton reference (`$(params.a[*])`), else `None`.
pub fn isolated(s: &str) -> Option<Var> {
    if !s.starts_with("$(") || !s.ends_with(')') {
        return None;
    }
    let refs = find_refs(s);
    match refs.as_slice() {
        [r] if r.start == 0 && r.end == s.len() => r.var.clone().ok().filter(Var::is_tekton),
        _ => None,
    }
}

/// Substitutes a list of strings (`command`, `args`, an array value): an element that is exactly a
/// reference to an array value is replaced by its elements; other elements are substituted as strings.
pub fn substitute_list(items: &[String], resolve: &mut Resolver<'_>) -> Subst<Vec<String>> {
    let mut out = Vec::with_capacity(items.len());
    let mut unknown = false;
    for item in items {
        if let Some(var) = isolated(item)
            && let Some(res) = resolve(&var)
            && let ParamValue::Array(a) = &res.value
        {
            out.extend(a.iter().cloned());
            unknown |= res.unknown;
            continue;
        }
        let s = substitute_str(item, resolve);
        unknown |= s.unknown;
        out.push(s.value);
    }
    Subst {
        value: out,
        unknown,
    }
}

/// Substitutes a param value: a string that is exactly a reference to an array or object becomes that
/// array or object; arrays expand their `[*]` elements; object values are substituted as strings.
pub fn substitute_value(v: &ParamValue, resolve: &mut Resolver<'_>) -> Subst<ParamValue> {
    match v {
        ParamValue::String(s) => {
            if let Some(var) = isolated(s)
                && let Some(res) = resolve(&var)
                && !matches!(res.value, ParamValue::String(_))
            {
                return Subst {
                    value: res.value,
                    unknown: res.unknown,
                };
            }
            let s = substitute_str(s, resolve);
            Subst {
                value: ParamValue::String(s.value),
                unknown: s.unknown,
            }
        }
        ParamValue::Array(a) => {
            let s = substitute_list(a, resolve);
            Subst {
                value: ParamValue::Array(s.value),
                unknown: s.unknown,
            }
        }
        ParamValue::Object(o) => {
            let mut unknown = false;
            let value = o
                .iter()
                .map(|(k, v)| {
                    let s = substitute_str(v, resolve);
                    unknown |= s.unknown;
                    (k.clone(), s.value)
                })
                .collect();
            Subst {
                value: ParamValue::Object(value),
                unknown,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn params(var: &Var) -> Option<Resolved> {
        let Var::Params { name, sel } = var else {
            return None;
        };
        let v = match name.as_str() {
            "s" => ParamValue::from("hello"),
            "a" => ParamValue::from(vec!["x", "y"]),
            "o" => ParamValue::Object(BTreeMap::from([("k".to_string(), "v".to_string())])),
            "u" => {
                return Some(Resolved {
                    value: ParamValue::from("<t.r>"),
                    unknown: true,
                });
            }
            _ => return None,
        };
        select(&v, sel).map(Resolved::known)
    }

    #[test]
    fn strings_indices_and_keys() {
        let s = substitute_str(
            "$(params.s) $(params.a[1]) $(params.o.k) $(params.nope) $(date)",
            &mut params,
        );
        assert_eq!(s.value, "hello y v $(params.nope) $(date)");
        assert!(!s.unknown);
    }

    #[test]
    fn whole_arrays_stay_in_running_text() {
        // tekton: pkg/substitution/substitution.go replaces strings only; validation rejects the rest
        let s = substitute_str("x $(params.a[*]) y", &mut params);
        assert_eq!(s.value, "x $(params.a[*]) y");
    }

    #[test]
    fn isolated_star_expands_in_lists() {
        let items = vec![
            "--a".to_string(),
            "$(params.a[*])".to_string(),
            "$(params.s)".to_string(),
        ];
        let s = substitute_list(&items, &mut params);
        assert_eq!(s.value, ["--a", "x", "y", "hello"]);
    }

    #[test]
    fn whole_values() {
        let v = substitute_value(&ParamValue::from("$(params.o[*])"), &mut params);
        assert_eq!(v.value.type_name(), "object");
        let v = substitute_value(&ParamValue::from("$(params.a[*])"), &mut params);
        assert_eq!(v.value, ParamValue::from(vec!["x", "y"]));
    }

    #[test]
    fn placeholders_taint() {
        let s = substitute_str("rev=$(params.u)", &mut params);
        assert_eq!(s.value, "rev=<t.r>");
        assert!(s.unknown);
    }

    #[test]
    fn double_dollar_is_still_substituted() {
        // tekton has no escaping for its own variables (docs/variables.md)
        assert_eq!(substitute_str("$$(params.s)", &mut params).value, "$hello");
    }
}
