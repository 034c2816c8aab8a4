//! The one YAML writer, and YAML reading into `serde_json::Value`.
//!
//! # Writing
//!
//! [`to_yaml`] serializes with serde-saphyr and a fixed set of options ([`ser_options`]). What that
//! gives, and what our tests (`tests/it/emit.rs`) hold it to:
//!
//! - **YAML 1.1 safety.** Strings that a YAML 1.1 resolver (go-yaml v2, used by kubectl through
//!   `sigs.k8s.io/yaml`) would read as a bool, null, number or timestamp are double-quoted:
//!   `"on"`, `"yes"`, `"n"`, `"~"`, `"0755"`, `"0o14"`, `"1_000"`, `"1:20"`, `".inf"`,
//!   `"2001-12-14"`, … This holds for map values, list items and map keys. Strings that YAML
//!   syntax would misread (`"a: b"`, `"#c"`, `"- d"`, `"*g"`, `"{a}"`, leading/trailing spaces,
//!   tabs, control characters) are quoted as well. `$(params.x)` and non-ASCII text stay plain.
//! - **Multi-line strings** are literal blocks. The chomping indicator follows the trailing
//!   newlines: `|-` (none), `|` (exactly one), `|+` (more than one). A first line that starts with
//!   spaces gets an explicit indentation indicator (`|2`). Strings that contain `\r`, NUL or other
//!   characters a block cannot carry are double-quoted with escapes instead. A `---` or `...`
//!   line inside a script is safe: block content is always indented.
//! - **No folding.** Single-line strings are never wrapped, however long.
//! - **Keys in serialization order**: struct field order, `serde_json::Map` insertion order
//!   (`preserve_order`), `BTreeMap` key order. Nothing here iterates a `HashMap`.
//! - Lists use the compact, kubectl-style indentation (`- ` at the parent key's column).
//!
//! A document ends with a newline. The one case where it ends with more than one is a final
//! string that itself ends with blank lines: its `|+` block keeps them, since they are content.
//!
//! # Reading
//!
//! [`parse_documents`], [`parse_value`] and [`parse_documents_with_positions`] read YAML the way
//! Kubernetes does as far as scalars go (YAML 1.1): `yes`/`no`/`on`/`off`/`y`/`n` are booleans,
//! `0755` is octal (493), `1_000` is 1000, dates stay strings, `~` and empty values are null.
//! Duplicate keys are an error; anchors, aliases and `<<` merge keys are expanded; non-finite
//! numbers (`.inf`, `.nan`, `1e400`) are an error because JSON cannot carry them. Map keys must
//! be scalars and become strings (`1: a` gives the key `"1"`).

use super::EmitError;
use serde::Serialize;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{Location, Spanned};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// The serializer options every emitted document uses. Defaults are spelled out so that a
/// change of serde-saphyr's defaults cannot change our output silently.
///
/// Never set `yaml_12`: it drops the quoting of YAML 1.1 booleans, sexagesimals and timestamps.
fn ser_options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        indent_step: 2,
        compact_list_indent: true,
        prefer_block_scalars: true,
        folded_wrap_chars: usize::MAX,
        quote_all: false,
        tagged_enums: false,
        yaml_12: false,
    }
}

/// Serializes one value as one YAML document (no leading `---`), ending in a newline.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, EmitError> {
    let mut out = serde_saphyr::to_string_with_options(value, ser_options())
        .map_err(|e| EmitError::Serialize(e.to_string()))?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Serializes several documents into one stream: each document as [`to_yaml`] writes it, joined
/// by `---\n` (no leading `---`). An empty slice gives an empty string.
pub fn to_yaml_stream<T: Serialize>(docs: &[T]) -> Result<String, EmitError> {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(doc)?);
    }
    Ok(out)
}

/// A YAML text that could not be read. `line` and `column` are 1-based (the column counts
/// characters, not bytes); both are 0 in the rare case the parser cannot tell where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct YamlError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl YamlError {
    fn describe(&self) -> String {
        if self.line == 0 {
            self.message.clone()
        } else {
            format!(
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

/// Field paths of one document mapped to the 1-based (line, column) of the value found there.
/// See [`parse_documents_with_positions`] for the path syntax.
pub type Positions = BTreeMap<String, (usize, usize)>;

/// Reads every document of a YAML stream. Empty documents (nothing, only comments, or a plain
/// null such as `~`) are skipped, so an empty file gives an empty list.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    let docs: Vec<Spanned<Node>> =
        serde_saphyr::from_multiple_with_options(text, de_options()).map_err(yaml_error)?;
    Ok(docs
        .into_iter()
        .map(|d| into_value(d, "", &mut None))
        .collect())
}

/// Reads a text that holds one YAML document. An empty text (or only comments) is `null`; more
/// than one document is an error.
pub fn parse_value(text: &str) -> Result<Value, YamlError> {
    let doc: Spanned<Node> =
        serde_saphyr::from_str_with_options(text, de_options()).map_err(yaml_error)?;
    Ok(into_value(doc, "", &mut None))
}

/// Reads a `--values` document (like [`parse_value`]), keeping the source text of scalars whose
/// parsed value would not print back the same: `tag: 1.10` stays the string `"1.10"` (not the number
/// 1.1), `flag: on` stays `"on"`, `id: 010` stays `"010"`. Scalars that print back unchanged (`2`,
/// `3.5`, `true`) keep their YAML type.
pub fn parse_values(text: &str) -> Result<Value, YamlError> {
    let mut docs = parse_documents_with_positions(text)?;
    if docs.len() > 1 {
        return parse_value(text); // the same "more than one document" error
    }
    let Some((mut value, positions)) = docs.pop() else {
        return Ok(Value::Null);
    };
    let lines: Vec<&str> = text.lines().collect();
    keep_scalar_text(&mut value, "", &positions, &lines);
    Ok(value)
}

fn keep_scalar_text(v: &mut Value, path: &str, positions: &Positions, lines: &[&str]) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                keep_scalar_text(x, &path_key(path, k), positions, lines);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                keep_scalar_text(x, &path_index(path, i), positions, lines);
            }
        }
        Value::Number(_) | Value::Bool(_) => {
            let Some(&(line, col)) = positions.get(path) else {
                return;
            };
            let Some(src) = lines.get(line.wrapping_sub(1)) else {
                return;
            };
            let rest: String = src.chars().skip(col.saturating_sub(1)).collect();
            // a plain scalar ends at a comment, or at a flow separator
            let end = rest
                .find(" #")
                .into_iter()
                .chain(rest.find([',', ']', '}']))
                .min()
                .unwrap_or(rest.len());
            let token = rest[..end].trim();
            let canonical = v.to_string();
            if !token.is_empty() && canonical != token {
                *v = Value::String(token.to_string());
            }
        }
        _ => {}
    }
}

/// Like [`parse_documents`], and also where each value is: for every node, its path and the
/// 1-based (line, column) where the value starts.
///
/// Path syntax (the same as [`crate::bundle::Origins`]): the document root is `""`; map keys are
/// joined with `.` (`spec.steps`); list items are `[i]` (`spec.steps[0].image`). A key that is
/// empty or contains `.`, `[`, `]`, `"` or `\` is written as a JSON string in brackets:
/// `metadata.labels["tekton.dev/pipeline"]`. [`path_key`] and [`path_index`] build paths the
/// same way.
///
/// The position is that of the value, not of its key: for `image: alpine` it is the `a` of
/// `alpine`; for a block map it is its first key; for a block list, the first item's value (after
/// the `- `); for an empty value (`key:`), the colon. For a value that comes from an
/// alias (`*a`) or a `<<` merge it is where the alias is used, not where the anchor defines it.
pub fn parse_documents_with_positions(text: &str) -> Result<Vec<(Value, Positions)>, YamlError> {
    let docs: Vec<Spanned<Node>> =
        serde_saphyr::from_multiple_with_options(text, de_options()).map_err(yaml_error)?;
    Ok(docs
        .into_iter()
        .map(|d| {
            let mut positions = Positions::new();
            let value = into_value(d, "", &mut Some(&mut positions));
            (value, positions)
        })
        .collect())
}

/// `path` extended with a map key, in the syntax of [`parse_documents_with_positions`].
pub fn path_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && !key
            .chars()
            .any(|c| matches!(c, '.' | '[' | ']' | '"' | '\\') || c.is_control());
    if !plain {
        let quoted = serde_json::to_string(key).expect("a string always serializes");
        format!("{path}[{quoted}]")
    } else if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `path` extended with a list index: `spec.steps` → `spec.steps[0]`.
pub fn path_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

fn de_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // Kubernetes reads YAML with go-yaml v2 (YAML 1.1): `0755` is octal there. Without
        // this, serde-saphyr reads `0755` as the float 755.0.
        legacy_octal_numbers: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        merge_keys: serde_saphyr::MergeKeyPolicy::Merge,
        strict_booleans: false,
        // We report line and column ourselves; the caller renders its own snippet.
        with_snippet: false,
    }
}

/// Drops serde-saphyr's " at line X, column Y" suffix: [`YamlError`] carries them as fields.
struct NoLocationSuffix;

impl serde_saphyr::Localizer for NoLocationSuffix {
    fn attach_location<'a>(&self, base: Cow<'a, str>, _loc: Location) -> Cow<'a, str> {
        base
    }

    fn alias_used_at(&self, _used: Location) -> String {
        String::new()
    }
}

fn yaml_error(e: serde_saphyr::Error) -> YamlError {
    let (line, column) = e
        .location()
        .map(|l| (to_usize(l.line()), to_usize(l.column())))
        .unwrap_or((0, 0));
    let formatter = serde_saphyr::UserMessageFormatter.with_localizer(&NoLocationSuffix);
    let message = e.render_with_options(serde_saphyr::render_options! {
        formatter: &formatter,
        snippets: serde_saphyr::SnippetMode::Off,
    });
    YamlError {
        message,
        line,
        column,
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A YAML node as serde-saphyr hands it over, with the position of every value.
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(String, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// Converts a node to JSON, recording positions when asked to.
fn into_value(node: Spanned<Node>, path: &str, positions: &mut Option<&mut Positions>) -> Value {
    if let Some(p) = positions.as_deref_mut() {
        let at = node.referenced;
        p.insert(
            path.to_string(),
            (to_usize(at.line()), to_usize(at.column())),
        );
    }
    match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Int(i) => Value::from(i),
        Node::UInt(u) => Value::from(u),
        Node::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Node::Str(s) => Value::String(s),
        Node::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let child = if positions.is_some() {
                        path_index(path, i)
                    } else {
                        String::new()
                    };
                    into_value(item, &child, positions)
                })
                .collect(),
        ),
        Node::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                let child = if positions.is_some() {
                    path_key(path, &key)
                } else {
                    String::new()
                };
                let value = into_value(value, &child, positions);
                map.insert(key, value);
            }
            Value::Object(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_never_use_yaml_12_or_folding() {
        let o = ser_options();
        assert!(!o.yaml_12);
        assert_eq!(o.folded_wrap_chars, usize::MAX);
        assert!(!o.quote_all);
    }

    #[test]
    fn document_ends_with_one_newline() {
        assert_eq!(to_yaml(&json!({"a": 1})).unwrap(), "a: 1\n");
        assert_eq!(to_yaml(&"x").unwrap(), "x\n");
        assert_eq!(to_yaml(&json!({})).unwrap(), "{}\n");
    }

    #[test]
    fn stream_joins_with_separator() {
        let docs = [json!({"a": 1}), json!({"b": [1, 2]})];
        assert_eq!(to_yaml_stream(&docs).unwrap(), "a: 1\n---\nb:\n- 1\n- 2\n");
        assert_eq!(to_yaml_stream::<Value>(&[]).unwrap(), "");
    }

    #[test]
    fn yaml_1_1_scalars_are_read_as_kubernetes_reads_them() {
        let v = parse_value("a: yes\nb: off\nc: 0755\nd: 1_000\ne: 2001-12-14\nf: ~\ng: 0x1F\n")
            .unwrap();
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": 493, "d": 1000, "e": "2001-12-14", "f": null, "g": 31})
        );
    }

    #[test]
    fn errors_have_line_and_column_and_no_suffix() {
        let e = parse_value("a: 1\nb: [1, 2\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 4), "{e:?}");
        assert!(!e.message.contains("line"), "{e:?}");
        assert_eq!(e.to_string(), format!("line 2, column 4: {}", e.message));

        let e = parse_value("a: 1\na: 2\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("duplicate"), "{e:?}");

        let e = parse_value("a: .inf\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 4));

        let e = parse_value("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
    }

    #[test]
    fn empty_documents_are_skipped() {
        assert_eq!(parse_documents("").unwrap(), Vec::<Value>::new());
        assert_eq!(
            parse_documents("# only a comment\n").unwrap(),
            Vec::<Value>::new()
        );
        let docs = parse_documents("---\na: 1\n---\n---\n# c\n---\n~\n---\n- x\n").unwrap();
        assert_eq!(docs, vec![json!({"a": 1}), json!(["x"])]);
        assert_eq!(parse_value("").unwrap(), Value::Null);
        assert_eq!(parse_value("# c\n").unwrap(), Value::Null);
    }

    #[test]
    fn keys_keep_document_order() {
        let v = parse_value("z: 1\na: 2\nm: 3\n").unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn paths() {
        assert_eq!(path_key("", "spec"), "spec");
        assert_eq!(path_key("spec", "steps"), "spec.steps");
        assert_eq!(path_index("spec.steps", 0), "spec.steps[0]");
        assert_eq!(
            path_key("metadata.labels", "tekton.dev/pipeline"),
            "metadata.labels[\"tekton.dev/pipeline\"]"
        );
        assert_eq!(path_key("", ""), "[\"\"]");
        assert_eq!(path_key("a", "x y"), "a.x y");
    }

    #[test]
    fn positions_of_values() {
        let text = "\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: x
  labels: {a: b, \"c.d\": e}
spec:
  steps:
  - name: s
    image: alpine
    args: [a, b]
  - name: t
    empty:
---
- 1
";
        let docs = parse_documents_with_positions(text).unwrap();
        assert_eq!(docs.len(), 2);
        let (value, pos) = &docs[0];
        assert_eq!(value["spec"]["steps"][0]["image"], "alpine");
        assert_eq!(pos[""], (1, 1));
        assert_eq!(pos["kind"], (2, 7));
        assert_eq!(pos["metadata"], (4, 3));
        assert_eq!(pos["metadata.labels.a"], (5, 15));
        assert_eq!(pos["metadata.labels[\"c.d\"]"], (5, 25));
        assert_eq!(pos["spec.steps"], (8, 5));
        assert_eq!(pos["spec.steps[0]"], (8, 5));
        assert_eq!(pos["spec.steps[0].image"], (9, 12));
        assert_eq!(pos["spec.steps[0].args[1]"], (10, 15));
        assert_eq!(pos["spec.steps[1].name"], (11, 11));
        assert_eq!(value["spec"]["steps"][1]["empty"], Value::Null);
        assert_eq!(pos["spec.steps[1].empty"], (12, 10));
        let (value, pos) = &docs[1];
        assert_eq!(value, &json!([1]));
        assert_eq!(pos[""], (14, 1));
        assert_eq!(pos["[0]"], (14, 3));
    }

    #[test]
    fn positions_and_plain_parse_agree() {
        let text = "a: &x {p: 1, q: [1, 2]}\nb: *x\nc:\n  <<: *x\n  p: 2\nd: 1.5\ne: -3\nf: 18446744073709551615\ng: !custom v\n";
        let plain = parse_documents(text).unwrap();
        let with: Vec<Value> = parse_documents_with_positions(text)
            .unwrap()
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        assert_eq!(plain, with);
        let direct: Value = serde_saphyr::from_str_with_options(text, de_options()).unwrap();
        assert_eq!(plain[0], direct);
        assert_eq!(plain[0]["c"], json!({"p": 2, "q": [1, 2]}));
    }
}

#[cfg(test)]
mod values_tests {
    use super::parse_values;
    use serde_json::json;

    #[test]
    fn scalars_keep_their_source_text_when_parsing_would_change_it() {
        // issue 13 §3: version numbers survive `--values`
        let v = parse_values(
            "tag: 1.10\nflag: on\nid: 010\nreplicas: 2\nratio: 3.5\nenabled: true\nlist: [1.20, 7]\nnested:\n  go: 1.20 # pinned\nname: x\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({
                "tag": "1.10", "flag": "on", "id": "010", "replicas": 2, "ratio": 3.5,
                "enabled": true, "list": ["1.20", 7], "nested": { "go": "1.20" }, "name": "x"
            })
        );
    }
}
