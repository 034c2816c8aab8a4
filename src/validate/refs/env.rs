//! What a scope declares: params (in layers, for propagation), results, workspaces, steps; and the
//! uniform view of a task spec ([`TaskView`]) whether it is a Task, a run's `taskSpec` or a
//! pipeline task's embedded `taskSpec`.

use crate::bundle::{Bundle, Object, Resource};
use crate::expr::Selector;
use crate::model::{
    EmbeddedTask, ParamSpec, ParamType, ParamValue, PipelineSpec, PipelineTask, Sidecar, Step,
    StepActionSpec, StepTemplate, TaskRef, TaskResult, TaskSpec, WorkspaceDeclaration,
};
use crate::source::Span;
use std::cell::Cell;
use std::collections::HashMap;

/// The fields of a task spec that references are checked against.
#[derive(Debug, Clone, Copy)]
pub(super) struct TaskView<'a> {
    pub params: &'a [ParamSpec],
    pub results: &'a [TaskResult],
    pub workspaces: &'a [WorkspaceDeclaration],
    pub steps: &'a [Step],
    pub sidecars: &'a [Sidecar],
    pub step_template: Option<&'a StepTemplate>,
}

impl<'a> From<&'a TaskSpec> for TaskView<'a> {
    fn from(t: &'a TaskSpec) -> TaskView<'a> {
        TaskView {
            params: &t.params,
            results: &t.results,
            workspaces: &t.workspaces,
            steps: &t.steps,
            sidecars: &t.sidecars,
            step_template: t.step_template.as_deref(),
        }
    }
}

impl<'a> From<&'a EmbeddedTask> for TaskView<'a> {
    fn from(t: &'a EmbeddedTask) -> TaskView<'a> {
        TaskView {
            params: &t.params,
            results: &t.results,
            workspaces: &t.workspaces,
            steps: &t.steps,
            sidecars: &t.sidecars,
            step_template: t.step_template.as_deref(),
        }
    }
}

impl<'a> TaskView<'a> {
    pub(super) fn result(&self, name: &str) -> Option<&'a TaskResult> {
        self.results.iter().find(|r| r.name == name)
    }

    pub(super) fn workspace(&self, name: &str) -> Option<&'a WorkspaceDeclaration> {
        self.workspaces.iter().find(|w| w.name == name)
    }

    pub(super) fn param(&self, name: &str) -> Option<&'a ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// The objects of the bundle, by kind and name (built once; lookups are O(1)).
pub(super) struct Index<'a> {
    pub tasks: HashMap<&'a str, (&'a Object, &'a TaskSpec)>,
    pub pipelines: HashMap<&'a str, (&'a Object, &'a PipelineSpec)>,
    pub actions: HashMap<&'a str, &'a StepActionSpec>,
}

impl<'a> Index<'a> {
    pub(super) fn new(bundle: &'a Bundle) -> Index<'a> {
        let mut ix = Index {
            tasks: HashMap::new(),
            pipelines: HashMap::new(),
            actions: HashMap::new(),
        };
        for o in &bundle.objects {
            let Some(name) = o.resource.metadata().name.as_deref() else {
                continue;
            };
            match &o.resource {
                Resource::Task(t) => {
                    ix.tasks.entry(name).or_insert((o, &t.spec));
                }
                Resource::Pipeline(p) => {
                    ix.pipelines.entry(name).or_insert((o, &p.spec));
                }
                Resource::StepAction(s) => {
                    ix.actions.entry(name).or_insert(&s.spec);
                }
                _ => {}
            }
        }
        ix
    }

    /// The Task a `taskRef` names, when it is a plain reference to a Task of this bundle.
    pub(super) fn task_ref(&self, r: &TaskRef) -> Option<(&'a Object, &'a TaskSpec)> {
        self.tasks.get(r.local_name()?).copied()
    }

    /// The StepAction a step's `ref` names, when it is in this bundle.
    pub(super) fn step_action(&self, step: &Step) -> Option<&'a StepActionSpec> {
        let r = step.ref_.as_ref()?;
        if r.resolver.is_some() {
            return None;
        }
        self.actions.get(r.name.as_deref()?).copied()
    }
}

/// One declared (or propagated) param.
#[derive(Debug)]
pub(super) struct Param<'a> {
    pub name: &'a str,
    pub ty: ParamType,
    /// Declared properties of an object param (or the keys of an object value); `None` when not
    /// known.
    pub keys: Option<Vec<&'a str>>,
    /// Field path of the declaration (for "unused" warnings); `None` for propagated params.
    pub decl: Option<String>,
    pub used: Cell<bool>,
    /// The type is not known (a value that is itself a `$(…)` reference): no shape checks.
    pub any: bool,
}

impl<'a> Param<'a> {
    /// A param given by a value whose type may not be known.
    pub(super) fn given(
        name: &'a str,
        ty: Option<ParamType>,
        keys: Option<Vec<&'a str>>,
    ) -> Param<'a> {
        Param {
            name,
            ty: ty.unwrap_or_default(),
            keys,
            decl: None,
            used: Cell::new(false),
            any: ty.is_none(),
        }
    }
}

/// A list of params with O(1) lookup by name.
#[derive(Debug, Default)]
pub(super) struct Params<'a> {
    list: Vec<Param<'a>>,
    by_name: HashMap<&'a str, usize>,
}

impl<'a> Params<'a> {
    /// Declarations (`params[]` of a Task, Pipeline or StepAction) at `base.params[i]`.
    pub(super) fn declared(specs: &'a [ParamSpec], base: &str) -> Params<'a> {
        let mut p = Params::default();
        for (i, s) in specs.iter().enumerate() {
            let keys = s
                .properties
                .as_ref()
                .map(|m| m.keys().map(String::as_str).collect());
            p.add(Param {
                name: &s.name,
                ty: s.effective_type(),
                keys,
                decl: Some(format!("{base}.params[{i}]")),
                used: Cell::new(false),
                any: false,
            });
        }
        p
    }

    /// Values (`params[]` of a run or pipeline task), typed by their value.
    pub(super) fn values(
        values: impl IntoIterator<Item = (&'a str, &'a ParamValue)>,
    ) -> Params<'a> {
        let mut p = Params::default();
        for (name, v) in values {
            // A value that is one `$(…)` reference gets its type only when substituted.
            let pure = v.as_str().is_some_and(crate::expr::is_isolated);
            p.add(Param::given(
                name,
                (!pure).then(|| v.param_type()),
                v.as_object()
                    .map(|o| o.keys().map(String::as_str).collect()),
            ));
        }
        p
    }

    /// Names only, all strings (matrix params as seen by one combination).
    pub(super) fn strings(names: impl IntoIterator<Item = &'a str>) -> Params<'a> {
        let mut p = Params::default();
        for name in names {
            p.add(Param::given(name, Some(ParamType::String), None));
        }
        p
    }

    /// Adds `p` unless a param of that name is there already (the first declaration wins).
    pub(super) fn add(&mut self, p: Param<'a>) {
        if !self.by_name.contains_key(p.name) {
            self.by_name.insert(p.name, self.list.len());
            self.list.push(p);
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&Param<'a>> {
        self.by_name.get(name).map(|&i| &self.list[i])
    }

    pub(super) fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Param<'a>> {
        self.list.iter()
    }

    pub(super) fn into_iter_owned(self) -> impl Iterator<Item = Param<'a>> {
        self.list.into_iter()
    }
}

/// Which layer of a scope a param was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layer {
    /// Declared by the spec itself.
    Own,
    /// Given by the pipeline task that runs an embedded spec (implicit params).
    PipelineTask,
    /// A pipeline param (propagated into an embedded task spec), or given by a run (propagated into
    /// its embedded spec).
    Outer,
}

/// Params visible in a scope: own declarations first, then propagated ones.
#[derive(Clone, Copy)]
pub(super) struct ParamScope<'s, 'a> {
    pub own: &'s Params<'a>,
    pub pt: Option<&'s Params<'a>>,
    pub outer: Option<&'s Params<'a>>,
    /// Extra names visible only here (matrix params in a pipeline task's `displayName`).
    pub extra: Option<&'s Params<'a>>,
}

impl<'s, 'a> ParamScope<'s, 'a> {
    pub(super) fn own(own: &'s Params<'a>) -> ParamScope<'s, 'a> {
        ParamScope {
            own,
            pt: None,
            outer: None,
            extra: None,
        }
    }

    pub(super) fn lookup(&self, name: &str) -> Option<(&'s Param<'a>, Layer)> {
        if let Some(p) = self.own.get(name) {
            return Some((p, Layer::Own));
        }
        if let Some(p) = self.pt.and_then(|l| l.get(name)) {
            return Some((p, Layer::PipelineTask));
        }
        if let Some(p) = self.extra.and_then(|l| l.get(name)) {
            return Some((p, Layer::PipelineTask));
        }
        self.outer
            .and_then(|l| l.get(name))
            .map(|p| (p, Layer::Outer))
    }

    /// Whether any layer has a param `name` that may have the key `key` (object params are merged
    /// across layers when propagated).
    pub(super) fn any_layer_has_key(&self, name: &str, key: &str) -> bool {
        [Some(self.own), self.pt, self.extra, self.outer]
            .into_iter()
            .flatten()
            .filter_map(|l| l.get(name))
            .filter(|p| p.any || p.keys.as_ref().is_none_or(|k| k.contains(&key)))
            .inspect(|p| p.used.set(true))
            .count()
            > 0
    }

    /// Marks `name` used in every layer: Tekton substitutes a propagated value into an embedded
    /// spec even where the spec declares the param itself.
    pub(super) fn mark_used(&self, name: &str) {
        for l in [Some(self.own), self.pt, self.extra, self.outer]
            .into_iter()
            .flatten()
        {
            if let Some(p) = l.get(name) {
                p.used.set(true);
            }
        }
    }

    pub(super) fn names(&self) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = self.own.iter().map(|p| p.name).collect();
        for l in [self.pt, self.extra, self.outer].into_iter().flatten() {
            out.extend(l.iter().map(|p| p.name));
        }
        out
    }
}

/// An array element reference `$(params.<p>[N])`, remembered so that callers that know the array's
/// length can check the index.
#[derive(Debug, Clone)]
pub(super) struct IndexRef {
    pub param: String,
    pub index: usize,
    /// The reference as written.
    pub text: String,
    /// Where it is (already narrowed to the `$(…)` text when possible).
    pub span: Option<Span>,
    /// Which object it is in, for messages (`Task/build at spec.steps[0].script`).
    pub place: String,
}

/// What a `$(…)` evaluates to, as far as shape goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Val {
    /// A single string.
    Str,
    /// A whole array.
    Array,
    /// A whole object.
    Object,
    /// Not known.
    Unknown,
}

impl Val {
    pub(super) fn is_whole(self) -> bool {
        matches!(self, Val::Array | Val::Object)
    }

    /// As a param type, when known.
    pub(super) fn param_type(self) -> Option<ParamType> {
        match self {
            Val::Str => Some(ParamType::String),
            Val::Array => Some(ParamType::Array),
            Val::Object => Some(ParamType::Object),
            Val::Unknown => None,
        }
    }
}

/// Why a selector does not fit a value's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SelError {
    /// `[*]` on a string.
    StarOnString,
    /// `[N]` on something that is not an array.
    IndexOnNonArray(ParamType),
    /// `.key` on something that is not an object.
    KeyOnNonObject(ParamType),
    /// `.key` that is not a declared property.
    UnknownKey(String),
}

/// What `sel` applied to a value of type `ty` (with object keys `keys`) gives.
pub(super) fn select(
    ty: ParamType,
    keys: Option<&[&str]>,
    sel: &Selector,
) -> Result<Val, SelError> {
    match (ty, sel) {
        (ParamType::String, Selector::None) => Ok(Val::Str),
        // Tekton substitutes `$(params.s[*])` of a string param with the string (its examples pass
        // `$(params.x[*])` on to StepActions whatever the type); results are stricter, see
        // `result_ref`.
        (ParamType::String, Selector::Star) => Ok(Val::Str),
        (ParamType::Array, Selector::None | Selector::Star) => Ok(Val::Array),
        (ParamType::Object, Selector::None | Selector::Star) => Ok(Val::Object),
        (ParamType::Array, Selector::Index(_)) => Ok(Val::Str),
        (t, Selector::Index(_)) => Err(SelError::IndexOnNonArray(t)),
        (ParamType::Object, Selector::Key(k)) => match keys {
            Some(ks) if !ks.contains(&k.as_str()) => Err(SelError::UnknownKey(k.clone())),
            _ => Ok(Val::Str),
        },
        (t, Selector::Key(_)) => Err(SelError::KeyOnNonObject(t)),
    }
}

/// True when a pipeline task fans out (`matrix` with params or include).
pub(super) fn is_matrixed(pt: &PipelineTask) -> bool {
    pt.matrix
        .as_ref()
        .is_some_and(|m| !m.params.is_empty() || !m.include.is_empty())
}

/// `name` in backquotes, or `(unnamed)`.
pub(super) fn q(name: &str) -> String {
    if name.is_empty() {
        "(unnamed)".to_string()
    } else {
        format!("`{name}`")
    }
}

/// ` (did you mean `x`?)`-style help, or a list of what exists.
pub(super) fn suggestion<'n>(
    name: &str,
    candidates: impl IntoIterator<Item = &'n str> + Clone,
    what: &str,
) -> String {
    match crate::diag::suggest::did_you_mean(name, candidates.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let mut all: Vec<&str> = candidates.into_iter().collect();
            // Distinct names; not worth hashing thousands of them again for every misspelt name
            // (names repeat only in input that has other errors).
            if all.len() <= 1000 {
                let mut seen = std::collections::HashSet::new();
                all.retain(|c| seen.insert(*c));
            }
            if all.len() <= 12 {
                all.sort_unstable();
            }
            if all.is_empty() {
                format!("there are no {what} here")
            } else if all.len() <= 12 {
                format!(
                    "the {what} here are: {}",
                    all.iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!("there are {} {what} here; check the spelling", all.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_fit_types() {
        use ParamType::*;
        assert_eq!(select(String, None, &Selector::None), Ok(Val::Str));
        assert_eq!(select(String, None, &Selector::Star), Ok(Val::Str));
        assert_eq!(select(Array, None, &Selector::None), Ok(Val::Array));
        assert_eq!(select(Array, None, &Selector::Index(3)), Ok(Val::Str));
        assert_eq!(
            select(Array, None, &Selector::Key("k".into())),
            Err(SelError::KeyOnNonObject(Array))
        );
        assert_eq!(
            select(Object, Some(&["a"]), &Selector::Key("a".into())),
            Ok(Val::Str)
        );
        assert_eq!(
            select(Object, Some(&["a"]), &Selector::Key("b".into())),
            Err(SelError::UnknownKey("b".into()))
        );
        assert_eq!(
            select(Object, None, &Selector::Key("b".into())),
            Ok(Val::Str)
        );
        assert_eq!(
            select(Object, None, &Selector::Index(0)),
            Err(SelError::IndexOnNonArray(Object))
        );
        assert_eq!(select(Object, None, &Selector::Star), Ok(Val::Object));
    }

    #[test]
    fn param_scope_layers() {
        let own_specs = vec![ParamSpec::new("a")];
        let own = Params::declared(&own_specs, "spec");
        let v = ParamValue::Array(vec!["x".into()]);
        let outer = Params::values([("b", &v), ("a", &v)]);
        let s = ParamScope {
            outer: Some(&outer),
            ..ParamScope::own(&own)
        };
        let (p, l) = s.lookup("a").unwrap();
        assert_eq!((p.ty, l), (ParamType::String, Layer::Own));
        let (p, l) = s.lookup("b").unwrap();
        assert_eq!((p.ty, l), (ParamType::Array, Layer::Outer));
        assert!(s.lookup("c").is_none());
        assert_eq!(s.names(), vec!["a", "b", "a"]);
        assert_eq!(
            own.get("a").unwrap().decl.as_deref(),
            Some("spec.params[0]")
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggestion("imgae", ["image", "tag"], "params"),
            "did you mean `image`?"
        );
        assert_eq!(
            suggestion("zzz", ["image", "tag"], "params"),
            "the params here are: `image`, `tag`"
        );
        assert_eq!(suggestion("zzz", [], "params"), "there are no params here");
    }
}
