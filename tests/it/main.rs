//! The one integration-test binary: a module per area.

mod agreement;
mod cluster_apply;
mod cluster_env;
mod cluster_import;
mod cluster_run;
mod conformance;
mod corpus;
mod docs;
mod emit;
mod examples;
mod hostile;
mod import;
mod local_run;
mod lsp;
mod openapi;
mod refs;
mod repo;
mod robustness;
mod simulate;
mod stdlib;
mod structure;
mod support;
mod testing;
