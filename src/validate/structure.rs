//! Validation pass: structure.

use super::Ctx;
use crate::bundle::Bundle;
use crate::diag::codes::CodeInfo;

pub static CODES: &[CodeInfo] = &[];

pub fn check(bundle: &Bundle, ctx: &mut Ctx) {
    let _ = (bundle, ctx);
}
