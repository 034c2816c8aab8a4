//! 3.2: param declarations (Task, Pipeline, StepAction, embedded specs), and the uniqueness of
//! supplied param lists.

use super::{Checker, at, go_list, names, tekton};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::model::{Param, ParamSpec, ParamType};
use std::collections::{BTreeMap, HashMap};

impl Checker<'_, '_> {
    /// The declarations `params` at `{base}.params`.
    pub(super) fn param_specs(&mut self, base: &str, params: &[ParamSpec]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, p) in params.iter().enumerate() {
            let path = at(base, &format!("params[{i}]"));
            if let Some(&first) = seen.get(p.name.as_str()) {
                let d = Diagnostic::error(
                    codes::E104,
                    tekton(
                        format!("param {:?} is declared more than once", p.name),
                        "parameter appears more than once",
                    ),
                )
                .label("declared again here")
                .secondary(
                    self.span_of(&at(base, &format!("params[{first}]"))),
                    "first declared here",
                )
                .help("give each param its own name, or remove the extra declaration");
                self.report(&at(&path, "name"), d);
            } else {
                seen.insert(&p.name, i);
            }
            self.param_spec(&path, p);
        }
    }

    fn param_spec(&mut self, path: &str, p: &ParamSpec) {
        let ty = p.effective_type();
        // name format (Task/StepAction in Tekton; every kind here, §8.1)
        if ty == ParamType::Object {
            let bad_keys: Vec<&str> = p
                .properties
                .iter()
                .flat_map(|props| props.keys())
                .filter(|k| !names::is_object_param_name(k))
                .map(String::as_str)
                .collect();
            if !names::is_object_param_name(&p.name) || !bad_keys.is_empty() {
                let what = if names::is_object_param_name(&p.name) {
                    format!(
                        "object param {:?} has the invalid {} {}",
                        p.name,
                        plural("key", bad_keys.len()),
                        quoted(&bad_keys)
                    )
                } else {
                    format!("object param name {:?} is not valid", p.name)
                };
                let d = Diagnostic::error(
                    codes::E105,
                    tekton(
                        format!("{what}: object param names and keys must start with a letter or '_' and contain only letters, digits, '_' and '-' (no dots)"),
                        format!("Object param name and key name format is invalid: map[{}:{}]", p.name, go_list(&bad_keys)),
                    ),
                )
                .label("invalid name");
                let (sub, needle) = match bad_keys.first() {
                    Some(k) if names::is_object_param_name(&p.name) => ("properties", *k),
                    _ => ("name", p.name.as_str()),
                };
                self.report_text(&at(path, sub), needle, d);
            }
        } else if !names::is_param_name(&p.name) {
            let d = Diagnostic::error(
                codes::E105,
                tekton(
                    format!("param name {:?} is not valid: it must start with a letter or '_' and contain only letters, digits, '_', '-' and '.'", p.name),
                    format!("The format of following array and string variable names is invalid: [{}]", p.name),
                ),
            )
            .label("invalid name");
            self.report_text(&at(path, "name"), &p.name, d);
        }
        // default's type
        if let Some(def) = &p.default
            && def.param_type() != ty
        {
            let d = Diagnostic::error(
                codes::E102,
                tekton(
                    format!(
                        "param {:?} is of type {ty}, but its default is {} {}",
                        p.name,
                        article(def.type_name()),
                        def.type_name()
                    ),
                    format!(
                        "\"{ty}\" type does not match default value's type: \"{}\"",
                        def.type_name()
                    ),
                ),
            )
            .label(format!("{} default", def.type_name()))
            .help(format!(
                "make the default {} {ty}, or declare the param with `type: \"{}\"`",
                article(ty.as_str()),
                def.type_name()
            ));
            self.report(&at(path, "default"), d);
        }
        // properties
        self.properties(path, &p.name, "param", ty, p.properties.as_ref(), true);
        // enum
        if !p.enum_.is_empty() {
            let epath = at(path, "enum");
            self.need_param_enum(&epath, &p.name);
            if ty != ParamType::String {
                let d = Diagnostic::error(
                    codes::E106,
                    tekton(
                        format!(
                            "param {:?} is of type {ty}, but only string params can have an `enum`",
                            p.name
                        ),
                        "enum can only be set with string type param",
                    ),
                );
                self.report(&epath, d);
            }
            let mut seen = Vec::new();
            for v in &p.enum_ {
                if seen.contains(&v) {
                    let d = Diagnostic::error(
                        codes::E106,
                        tekton(
                            format!("the enum of param {:?} lists {v:?} twice", p.name),
                            format!("parameter enum value {v} appears more than once"),
                        ),
                    );
                    self.report(&epath, d);
                } else {
                    seen.push(v);
                }
            }
            if let Some(def) = p.default.as_ref().and_then(|d| d.as_str())
                && !def.is_empty()
                && !p.enum_.iter().any(|e| e == def)
            {
                let d = Diagnostic::error(
                    codes::E106,
                    tekton(
                        format!(
                            "the default {def:?} of param {:?} is not one of its enum values",
                            p.name
                        ),
                        format!("param default value {def} not in the enum list"),
                    ),
                )
                .help(format!("allowed values: {}", p.enum_.join(", ")));
                self.report(&at(path, "default"), d);
            }
        }
    }

    /// The `properties` of an object param or result. `required`: an object must declare them.
    pub(super) fn properties(
        &mut self,
        path: &str,
        name: &str,
        what: &str,
        ty: ParamType,
        props: Option<&BTreeMap<String, crate::model::PropertySpec>>,
        required: bool,
    ) {
        match props {
            None if ty == ParamType::Object && required => {
                let d = Diagnostic::error(
                    codes::E103,
                    tekton(
                        format!("object {what} {name:?} does not declare its keys"),
                        format!("missing field(s): {name}.properties"),
                    ),
                )
                .label("no `properties`")
                .help("list the keys, e.g. `properties: [\"url\", \"revision\"]` (every key is a string)");
                self.report(path, d);
            }
            Some(props) => {
                let bad: Vec<&str> = props
                    .iter()
                    .filter(|(_, s)| s.effective_type() != ParamType::String)
                    .map(|(k, _)| k.as_str())
                    .collect();
                if !bad.is_empty() {
                    let theirs = if what == "param" {
                        format!(
                            "The value type specified for these keys {} is invalid",
                            go_list(&bad)
                        )
                    } else {
                        format!(
                            "The value type specified for these keys {} is invalid, the type must be string",
                            go_list(&bad)
                        )
                    };
                    let d = Diagnostic::error(
                        codes::E103,
                        tekton(
                            format!(
                                "the {} {} of object {what} {name:?} must be of type string",
                                plural("key", bad.len()),
                                quoted(&bad)
                            ),
                            theirs,
                        ),
                    )
                    .label("only `type: \"string\"` is allowed")
                    .help(
                        "object keys are always strings; drop their `type` or set it to \"string\"",
                    );
                    self.report(&at(path, "properties"), d);
                }
            }
            None => {}
        }
    }

    /// A supplied param list (`params: [{name, value}]`) at `{base}.params`: names unique, exactly
    /// (pipeline tasks, matrix) or case-insensitively (runs, references).
    pub(super) fn param_values_unique(
        &mut self,
        list_path: &str,
        params: &[Param],
        case_insensitive: bool,
    ) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, p) in params.iter().enumerate() {
            let key = if case_insensitive {
                p.name.to_lowercase()
            } else {
                p.name.clone()
            };
            if let Some(&first) = seen.get(&key) {
                let theirs = if case_insensitive {
                    "expected exactly one, got both".to_string()
                } else {
                    format!(
                        "parameter names must be unique, the parameter \"{}\" is also defined at",
                        p.name
                    )
                };
                let also = if case_insensitive && params[first].name != p.name {
                    format!(
                        " (as {:?}; names are compared ignoring case)",
                        params[first].name
                    )
                } else {
                    String::new()
                };
                let d = Diagnostic::error(
                    codes::E133,
                    tekton(
                        format!("param {:?} is given more than once{also}", p.name),
                        theirs,
                    ),
                )
                .label("given again here")
                .help("pass each param once");
                self.report(&format!("{list_path}[{i}].name"), d);
            } else {
                seen.insert(key, i);
            }
        }
    }
}

/// `"a"`, `"a" and "b"`, `"a", "b" and "c"`.
fn quoted(items: &[&str]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    match q.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn plural(word: &str, n: usize) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
