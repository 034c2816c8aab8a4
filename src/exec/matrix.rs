//! Matrix fan-out: one combination of string params per TaskRun, as Tekton computes it in
//! `pkg/apis/pipeline/v1/matrix_types.go` (`FanOut`): the first matrix param varies fastest, each later
//! param multiplies the list; `include` entries overwrite the matching combinations' extra params, and an
//! `include` entry that matches none is appended as a new combination. Each combination lists its params
//! sorted by name.

use crate::model::{Matrix, ParamValue};
use std::collections::BTreeMap;

/// One combination: param name → value (sorted by name, like Tekton's `toParams`).
pub type Combination = BTreeMap<String, String>;

/// The combinations of a matrix whose values are already substituted. Array params must be arrays and
/// include params strings; anything else is ignored here (validation reports it).
pub fn fan_out(m: &Matrix) -> Vec<Combination> {
    let include: Vec<Combination> = m
        .include
        .iter()
        .map(|inc| {
            inc.params
                .iter()
                .filter_map(|p| p.value.as_str().map(|s| (p.name.clone(), s.to_string())))
                .collect()
        })
        .collect();
    if m.params.is_empty() {
        return include;
    }
    let mut combos: Vec<Combination> = Vec::new();
    for (k, p) in m.params.iter().enumerate() {
        let values: &[String] = match &p.value {
            ParamValue::Array(a) => a,
            _ => &[],
        };
        if k == 0 {
            combos = values
                .iter()
                .map(|v| Combination::from([(p.name.clone(), v.clone())]))
                .collect();
        } else {
            let mut next = Vec::with_capacity(combos.len() * values.len());
            for v in values {
                for c in &combos {
                    let mut n = c.clone();
                    n.insert(p.name.clone(), v.clone());
                    next.push(n);
                }
            }
            combos = next;
        }
    }
    // overwriteCombinations
    for c in combos.iter_mut() {
        for inc in &include {
            if inc.iter().all(|(k, v)| c.get(k).is_none_or(|x| x == v)) {
                for (k, v) in inc {
                    c.insert(k.clone(), v.clone());
                }
            }
        }
    }
    // addNewCombinations (checked against the combinations as they grow, like Tekton)
    for inc in &include {
        if inc.is_empty() {
            continue;
        }
        let clash = combos
            .iter()
            .any(|c| inc.iter().any(|(k, v)| c.get(k) == Some(v)));
        if !clash {
            combos.push(inc.clone());
        }
    }
    combos
}

/// True when a matrix param is an empty array: the task is skipped with
/// `Matrix Parameters have an empty array` (`skipBecauseEmptyArrayInMatrixParams`).
pub fn has_empty_array(m: &Matrix) -> bool {
    m.params
        .iter()
        .any(|p| matches!(&p.value, ParamValue::Array(a) if a.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IncludeParams, Param};

    fn combo(pairs: &[(&str, &str)]) -> Combination {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn first_param_varies_fastest() {
        // tekton: matrix_types.go distribute — outer loop over the new param's values
        let m = Matrix {
            params: vec![
                Param::new("os", vec!["linux", "mac"]),
                Param::new("go", vec!["1.21", "1.22"]),
            ],
            include: vec![],
        };
        assert_eq!(
            fan_out(&m),
            vec![
                combo(&[("go", "1.21"), ("os", "linux")]),
                combo(&[("go", "1.21"), ("os", "mac")]),
                combo(&[("go", "1.22"), ("os", "linux")]),
                combo(&[("go", "1.22"), ("os", "mac")]),
            ]
        );
    }

    #[test]
    fn include_overwrites_and_adds() {
        // tekton docs/matrix.md "include": the example with GOARCH and version
        let m = Matrix {
            params: vec![Param::new("GOARCH", vec!["linux/amd64", "linux/ppc64le"])],
            include: vec![
                IncludeParams {
                    name: Some("common".into()),
                    params: vec![Param::new("version", "go1.17")],
                },
                IncludeParams {
                    name: Some("s390x".into()),
                    params: vec![
                        Param::new("GOARCH", "linux/s390x"),
                        Param::new("flags", "-cover"),
                    ],
                },
            ],
        };
        let c = fan_out(&m);
        assert_eq!(c.len(), 3);
        assert_eq!(
            c[0],
            combo(&[("GOARCH", "linux/amd64"), ("version", "go1.17")])
        );
        assert_eq!(
            c[2],
            combo(&[("GOARCH", "linux/s390x"), ("flags", "-cover")])
        );
    }

    #[test]
    fn include_only() {
        let m = Matrix {
            params: vec![],
            include: vec![IncludeParams {
                name: None,
                params: vec![Param::new("a", "1")],
            }],
        };
        assert_eq!(fan_out(&m), vec![combo(&[("a", "1")])]);
    }
}
