//! Deserializing model types from a `serde_json::Value` with the path of the offending field in the
//! error (`spec.steps[0].imagee: unknown field ...`), which plain `serde_json::from_value` does
//! not give.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;
use serde_json::Value;
use std::fmt;

/// A deserialization error and where it happened: `path` uses the same syntax as
/// [`crate::bundle::Origins`] (`spec.steps[0].image`; empty for the document itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    path: Option<String>,
    message: String,
}

impl FieldError {
    /// The field path (`spec.tasks[1].taskRef`); empty when the problem is the document itself.
    pub fn path(&self) -> &str {
        self.path.as_deref().unwrap_or("")
    }

    /// serde's message (`unknown field `foo`, expected one of ...`, `missing field `name``,
    /// `invalid type: integer `1`, expected a string`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Sets the path if no deeper level has set it yet.
    fn at(mut self, path: &str) -> FieldError {
        if self.path.is_none() {
            self.path = Some(path.to_string());
        }
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path() {
            "" => f.write_str(&self.message),
            p => write!(f, "{p}: {}", self.message),
        }
    }
}

impl std::error::Error for FieldError {}

impl de::Error for FieldError {
    fn custom<T: fmt::Display>(msg: T) -> FieldError {
        FieldError {
            path: None,
            message: msg.to_string(),
        }
    }
}

/// Deserializes `T` from `value`; on failure the error names the field path.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, FieldError> {
    T::deserialize(ValueDe {
        value,
        path: String::new(),
    })
    .map_err(|e| e.at(""))
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

struct ValueDe<'de> {
    value: &'de Value,
    path: String,
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        let path = self.path;
        let r = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => {
                let mut seq = SeqDe {
                    iter: items.iter().enumerate(),
                    path: &path,
                };
                let v = visitor.visit_seq(&mut seq)?;
                match seq.iter.len() {
                    0 => Ok(v),
                    _ => Err(de::Error::invalid_length(items.len(), &"fewer elements")),
                }
            }
            Value::Object(map) => visitor.visit_map(MapDe {
                iter: map.iter(),
                pending: None,
                path: &path,
            }),
        };
        r.map_err(|e| e.at(&path))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        match self.value {
            Value::Null => visitor
                .visit_none()
                .map_err(|e: FieldError| e.at(&self.path)),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        let path = self.path;
        let r = match self.value {
            Value::String(s) => visitor.visit_enum(BorrowedStrDeserializer::<FieldError>::new(s)),
            Value::Object(m) if m.len() == 1 => {
                let (k, v) = m.iter().next().expect("one entry");
                visitor.visit_enum(EnumDe {
                    variant: k,
                    value: v,
                    path: child(&path, k),
                })
            }
            other => Err(de::Error::invalid_type(
                unexpected(other),
                &"an enum variant",
            )),
        };
        r.map_err(|e| e.at(&path))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

fn unexpected(v: &Value) -> de::Unexpected<'_> {
    match v {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(n) => match n.as_f64() {
            Some(f) => de::Unexpected::Float(f),
            None => de::Unexpected::Other("number"),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

struct SeqDe<'a, 'de> {
    iter: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: &'a str,
}

impl<'de> SeqAccess<'de> for &mut SeqDe<'_, 'de> {
    type Error = FieldError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, FieldError> {
        match self.iter.next() {
            None => Ok(None),
            Some((i, value)) => {
                let path = format!("{}[{i}]", self.path);
                seed.deserialize(ValueDe {
                    value,
                    path: path.clone(),
                })
                .map(Some)
                .map_err(|e| e.at(&path))
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'a, 'de> {
    iter: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
    path: &'a str,
}

impl<'de> MapAccess<'de> for MapDe<'_, 'de> {
    type Error = FieldError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FieldError> {
        match self.iter.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.pending = Some((k.as_str(), v));
                seed.deserialize(BorrowedStrDeserializer::<FieldError>::new(k))
                    .map(Some)
                    .map_err(|e| e.at(&child(self.path, k)))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, FieldError> {
        let (k, value) = self
            .pending
            .take()
            .ok_or_else(|| <FieldError as de::Error>::custom("value requested before key"))?;
        let path = child(self.path, k);
        seed.deserialize(ValueDe {
            value,
            path: path.clone(),
        })
        .map_err(|e| e.at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct EnumDe<'de> {
    variant: &'de str,
    value: &'de Value,
    path: String,
}

impl<'de> EnumAccess<'de> for EnumDe<'de> {
    type Error = FieldError;
    type Variant = ValueDe<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, ValueDe<'de>), FieldError> {
        let v = seed.deserialize(self.variant.into_deserializer())?;
        Ok((
            v,
            ValueDe {
                value: self.value,
                path: self.path,
            },
        ))
    }
}

impl<'de> VariantAccess<'de> for ValueDe<'de> {
    type Error = FieldError;

    fn unit_variant(self) -> Result<(), FieldError> {
        match self.value {
            Value::Null => Ok(()),
            other => Err(de::Error::invalid_type(unexpected(other), &"unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, FieldError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ParamType, Task};
    use serde_json::json;

    #[test]
    fn names_the_unknown_field() {
        let doc = json!({
            "apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"},
            "spec": {"steps": [{"name": "a", "image": "x"}, {"name": "b", "imagee": "x"}]}
        });
        let e = from_value::<Task>(&doc).unwrap_err();
        assert_eq!(e.path(), "spec.steps[1].imagee");
        assert!(
            e.message()
                .starts_with("unknown field `imagee`, expected one of"),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("spec.steps[1].imagee: unknown field"),
            "{e}"
        );
    }

    #[test]
    fn names_wrong_types_and_missing_fields() {
        let doc = json!({"apiVersion": "v", "kind": "Task", "spec": {"params": [{"name": "p", "type": "int"}]}});
        let e = from_value::<Task>(&doc).unwrap_err();
        assert_eq!(e.path(), "spec.params[0].type");
        assert!(e.message().contains("unknown variant `int`"), "{e}");

        let doc = json!({"apiVersion": "v", "kind": "Task", "spec": {"steps": [{"name": 3}]}});
        let e = from_value::<Task>(&doc).unwrap_err();
        assert_eq!(
            e.to_string(),
            "spec.steps[0].name: invalid type: integer `3`, expected a string"
        );

        let doc = json!({"apiVersion": "v", "kind": "Task", "spec": {"steps": [{"ref": {"params": [{"name": "p"}]}}]}});
        let e = from_value::<Task>(&doc).unwrap_err();
        assert_eq!(
            e.to_string(),
            "spec.steps[0].ref.params[0]: missing field `value`"
        );

        let e = from_value::<Task>(&json!({"kind": "Task"})).unwrap_err();
        assert_eq!(e.to_string(), "missing field `apiVersion`");
    }

    #[test]
    fn agrees_with_serde_json_on_success() {
        let doc = json!({
            "apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t", "labels": {"a": "b"}},
            "spec": {"params": [{"name": "p", "default": 1}], "steps": [{"name": "a", "image": "x",
              "computeResources": {"limits": {"cpu": 1}}, "timeout": "1h"}]}
        });
        let a: Task = from_value(&doc).unwrap();
        let b: Task = serde_json::from_value(doc).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.spec.params[0].effective_type(), ParamType::String);
    }
}
