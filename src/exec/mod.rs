//! What Tekton would do with a run: the task graph, variable substitution, `when` and matrix
//! evaluation, and the PipelineRun state machine — pure and typed on [`crate::model`], no I/O.
//!
//! Everything that asks "what happens when this runs" stands on this module: validation's DAG checks
//! report over [`graph::TaskGraph`], `simulate` drives [`run::Execution`] with stated outcomes, the local
//! runner drives it with real containers, and `graph` draws the same graph.

pub mod graph;
pub mod matrix;
pub mod plan;
pub mod run;
pub mod simulate;
pub mod subst;
pub mod taskrun;
pub mod when;

pub use graph::TaskGraph;
pub use run::{
    Action, Ended, Execution, Outcome, Report, RunInput, Start, TaskOutcome, TaskReport, TaskSource,
};

#[cfg(test)]
mod tests;
