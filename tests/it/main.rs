//! The one integration-test binary: a module per area.

mod conformance;
mod corpus;
mod emit;
mod examples;
mod import;
mod openapi;
mod refs;
mod robustness;
mod stdlib;
mod structure;
mod support;
