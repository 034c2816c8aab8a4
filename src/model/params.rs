//! Parameters: declarations ([`ParamSpec`]), values ([`Param`], [`ParamValue`]) and their types.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// The type of a param or result: `string` (the default), `array` (of strings) or `object`
/// (string → string).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    #[default]
    String,
    Array,
    Object,
}

/// Tekton's `ResultsType` has the same three values as [`ParamType`].
pub type ResultsType = ParamType;

impl ParamType {
    /// `string`, `array` or `object`, as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Array => "array",
            ParamType::Object => "object",
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The declaration of one key of an object param or result (`properties.<key>`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertySpec {
    /// Only `string` is allowed by Tekton; defaulted to `string` when absent.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ParamType>,
}

impl PropertySpec {
    pub fn string() -> PropertySpec {
        PropertySpec {
            type_: Some(ParamType::String),
        }
    }

    /// The type after Tekton's defaulting: the explicit one, else `string`.
    pub fn effective_type(&self) -> ParamType {
        self.type_.unwrap_or(ParamType::String)
    }
}

/// A param declaration (`spec.params[]` of a Task, Pipeline or StepAction).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParamSpec {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ParamType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Keys of an object param. `Some(empty)` (written `properties: {}`) is kept distinct from
    /// absent because Tekton's type defaulting looks at presence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, PropertySpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<ParamValue>,
    /// Allowed values (string params only; alpha flag `enable-param-enum`).
    #[serde(rename = "enum", default, skip_serializing_if = "Vec::is_empty")]
    pub enum_: Vec<String>,
}

impl ParamSpec {
    /// A `string` param without default.
    pub fn new(name: impl Into<String>) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            ..ParamSpec::default()
        }
    }

    /// The type Tekton's defaulting webhook gives this param (reference §5): the explicit `type`;
    /// else `object` when `properties` is present (even empty); else `string` when there is no
    /// default; else the type of the default value.
    pub fn effective_type(&self) -> ParamType {
        if let Some(t) = self.type_ {
            t
        } else if self.properties.is_some() {
            ParamType::Object
        } else {
            match &self.default {
                None => ParamType::String,
                Some(v) => v.param_type(),
            }
        }
    }
}

/// A param value given to a task, pipeline, run or step action (`params[]` with `name` + `value`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Param {
    #[serde(default)]
    pub name: String,
    /// Required: a missing `value` is a deserialization error (`""` is a real value).
    pub value: ParamValue,
}

impl Param {
    pub fn new(name: impl Into<String>, value: impl Into<ParamValue>) -> Param {
        Param {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Tekton's `ParamValue`: a string, an array of strings, or an object of string values.
///
/// Serialized untagged (as the plain YAML value). Deserializing accepts what Tekton's decoder
/// accepts and turns YAML numbers and booleans into strings (`1` → `"1"`, `true` → `"true"`,
/// `1.50` → `"1.5"`, like Go's JSON round trip) and `null` into `""`. Differences from Tekton: numbers
/// and booleans *inside* arrays and objects are coerced too (Tekton would turn the whole `[1, 2]`
/// into the string `"[1,2]"`), and nested arrays/objects inside an array or object are an error
/// (Tekton would stringify them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    String(String),
    Array(Vec<String>),
    Object(BTreeMap<String, String>),
}

impl Default for ParamValue {
    fn default() -> ParamValue {
        ParamValue::String(String::new())
    }
}

impl ParamValue {
    /// The [`ParamType`] of this value.
    pub fn param_type(&self) -> ParamType {
        match self {
            ParamValue::String(_) => ParamType::String,
            ParamValue::Array(_) => ParamType::Array,
            ParamValue::Object(_) => ParamType::Object,
        }
    }

    /// `string`, `array` or `object` (for messages).
    pub fn type_name(&self) -> &'static str {
        self.param_type().as_str()
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            ParamValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[String]> {
        match self {
            ParamValue::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            ParamValue::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Every string in the value (the string itself, the array items, or the object values in key
    /// order), e.g. to look for `$(…)` references.
    pub fn strings(&self) -> Vec<&str> {
        match self {
            ParamValue::String(s) => vec![s.as_str()],
            ParamValue::Array(a) => a.iter().map(String::as_str).collect(),
            ParamValue::Object(o) => o.values().map(String::as_str).collect(),
        }
    }
}

impl From<&str> for ParamValue {
    fn from(s: &str) -> ParamValue {
        ParamValue::String(s.to_string())
    }
}

impl From<String> for ParamValue {
    fn from(s: String) -> ParamValue {
        ParamValue::String(s)
    }
}

impl From<Vec<String>> for ParamValue {
    fn from(a: Vec<String>) -> ParamValue {
        ParamValue::Array(a)
    }
}

impl From<Vec<&str>> for ParamValue {
    fn from(a: Vec<&str>) -> ParamValue {
        ParamValue::Array(a.into_iter().map(str::to_string).collect())
    }
}

impl From<BTreeMap<String, String>> for ParamValue {
    fn from(o: BTreeMap<String, String>) -> ParamValue {
        ParamValue::Object(o)
    }
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ParamValue::String(v) => s.serialize_str(v),
            ParamValue::Array(v) => v.serialize(s),
            ParamValue::Object(v) => v.serialize(s),
        }
    }
}

/// Formats a float the way Go's `encoding/json` does (shortest representation; exponent form
/// `1e+21` / `1e-7` outside `[1e-6, 1e21)`).
fn go_float(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || (1e-6..1e21).contains(&a) {
        format!("{v}")
    } else {
        let e = format!("{v:e}");
        match e.split_once('e') {
            Some((m, x)) if !x.starts_with('-') => format!("{m}e+{x}"),
            _ => e,
        }
    }
}

/// A scalar coerced to a string (array items and object values).
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string (or a number or boolean, which becomes a string)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(go_float(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ParamValue, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ParamValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, an array of strings or an object of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue::String(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ParamValue, E> {
                Ok(ParamValue::String(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
                Ok(ParamValue::String(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
                Ok(ParamValue::String(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
                Ok(ParamValue::String(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<ParamValue, E> {
                Ok(ParamValue::String(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<ParamValue, E> {
                Ok(ParamValue::String(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
                Ok(ParamValue::String(go_float(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ParamValue, E> {
                Ok(ParamValue::String(String::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<ParamValue, E> {
                Ok(ParamValue::String(String::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<ParamValue, D::Error> {
                ParamValue::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamValue, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(Scalar(s)) = seq.next_element()? {
                    out.push(s);
                }
                Ok(ParamValue::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParamValue, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, Scalar(v))) = map.next_entry::<String, Scalar>()? {
                    out.insert(k, v);
                }
                Ok(ParamValue::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pv(v: serde_json::Value) -> ParamValue {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn param_value_shapes_round_trip() {
        for v in [
            json!("x"),
            json!(["a", "b"]),
            json!({"k": "v"}),
            json!([]),
            json!({}),
        ] {
            assert_eq!(serde_json::to_value(pv(v.clone())).unwrap(), v);
        }
        assert_eq!(pv(json!(["a"])).type_name(), "array");
        assert_eq!(pv(json!({"a": "b"})).type_name(), "object");
        assert_eq!(pv(json!("a")).type_name(), "string");
    }

    #[test]
    fn param_value_coerces_scalars_like_tekton() {
        assert_eq!(pv(json!(1)), ParamValue::from("1"));
        assert_eq!(pv(json!(-3)), ParamValue::from("-3"));
        assert_eq!(pv(json!(true)), ParamValue::from("true"));
        assert_eq!(pv(json!(1.5)), ParamValue::from("1.5"));
        assert_eq!(pv(json!(2.0)), ParamValue::from("2"));
        assert_eq!(pv(json!(null)), ParamValue::from(""));
        assert_eq!(pv(json!([1, false])), ParamValue::from(vec!["1", "false"]));
        assert_eq!(
            pv(json!({"n": 8080})),
            ParamValue::Object(BTreeMap::from([("n".to_string(), "8080".to_string())]))
        );
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1e-7), "1e-7");
        assert_eq!(go_float(0.000001), "0.000001");
    }

    #[test]
    fn param_value_coerces_yaml_scalars() {
        let p: Param = serde_saphyr::from_str("name: port\nvalue: 8080\n").unwrap();
        assert_eq!(p.value, ParamValue::from("8080"));
        let p: Param = serde_saphyr::from_str("name: on\nvalue: [1, true, x]\n").unwrap();
        assert_eq!(p.value, ParamValue::from(vec!["1", "true", "x"]));
    }

    #[test]
    fn param_value_rejects_nesting() {
        let e = serde_json::from_value::<ParamValue>(json!([["a"]])).unwrap_err();
        assert!(e.to_string().contains("invalid type: sequence"), "{e}");
        let e = serde_json::from_value::<ParamValue>(json!({"a": {"b": "c"}})).unwrap_err();
        assert!(e.to_string().contains("invalid type: map"), "{e}");
    }

    #[test]
    fn effective_type_follows_tekton_defaulting() {
        let mut p = ParamSpec::new("p");
        assert_eq!(p.effective_type(), ParamType::String);
        p.default = Some(ParamValue::from(vec!["a"]));
        assert_eq!(p.effective_type(), ParamType::Array);
        p.default = Some(ParamValue::Object(BTreeMap::new()));
        assert_eq!(p.effective_type(), ParamType::Object);
        p.default = Some(ParamValue::from("x"));
        assert_eq!(p.effective_type(), ParamType::String);
        p.properties = Some(BTreeMap::new());
        assert_eq!(
            p.effective_type(),
            ParamType::Object,
            "properties: {{}} means object"
        );
        p.type_ = Some(ParamType::Array);
        assert_eq!(p.effective_type(), ParamType::Array, "explicit type wins");
        assert_eq!(PropertySpec::default().effective_type(), ParamType::String);
    }

    #[test]
    fn param_type_is_lowercase_and_strict() {
        assert_eq!(
            serde_json::to_value(ParamType::Object).unwrap(),
            json!("object")
        );
        let e =
            serde_json::from_value::<ParamSpec>(json!({"name": "p", "type": "int"})).unwrap_err();
        assert!(e.to_string().contains("unknown variant `int`"), "{e}");
    }

    #[test]
    fn unknown_field_is_rejected_by_name() {
        let e =
            serde_json::from_value::<ParamSpec>(json!({"name": "p", "defualt": "x"})).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("unknown field `defualt`, expected one of"),
            "{e}"
        );
        let e = serde_json::from_value::<Param>(json!({"name": "p"})).unwrap_err();
        assert_eq!(e.to_string(), "missing field `value`");
    }
}
