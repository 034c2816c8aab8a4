//! Using tekscript as a library, e.g. from another project's `build.rs` or tool:
//! compile a script with inputs, then write YAML or print diagnostics.
//!
//! Run with `cargo run --example library`.

use tekscript::{Options, compile_str};

const SCRIPT: &str = r##"
let p = pipeline(values.name);
let msg = p.param("message", #{ "default": "hello" });
p.task("say", task("say").step("echo", "alpine:3.20", "#!/bin/sh\necho \"$(params.message)\""),
       #{ params: #{ message: msg }, embed: true });
emit(p);
"##;

fn main() {
    let mut opts = Options::default();
    opts.set("name=from-a-library").expect("key=value");
    match compile_str("inline.rhai", SCRIPT, &opts) {
        Ok(out) => {
            // `documents()` gives JSON values (what an API server receives), `to_yaml()` the YAML text.
            eprintln!(
                "{} document(s), {} warning(s)",
                out.documents().len(),
                out.warnings.warnings()
            );
            print!("{}", out.to_yaml());
        }
        Err(failure) => {
            eprint!("{}", failure.render_plain());
            std::process::exit(1);
        }
    }
}
