//! The one integration-test binary: a module per area.

mod conformance;
mod emit;
mod openapi;
