//! The raw-Rhai floor of `scripts/bench.sh`: evaluates a script of plain Rhai maps with a bare engine and
//! writes them as a YAML stream with the same YAML crate — what any Rhai-to-YAML tool must at least do.
//! tekscript's `build` of the equivalent script is measured against it.
//!
//!     raw-floor SCRIPT                 # YAML on stdout
//!     raw-floor SCRIPT --same-as FILE  # exit 0 when FILE (tekscript's output) has the same content

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: raw-floor SCRIPT [--same-as FILE]");
        return std::process::ExitCode::from(2);
    };
    let engine = rhai::Engine::new();
    let docs: rhai::Array = match engine.eval_file(path.into()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let values: Vec<serde_json::Value> = docs
        .into_iter()
        .map(|d| rhai::serde::from_dynamic(&d).expect("plain maps convert"))
        .collect();
    if let (Some(flag), Some(other)) = (args.get(2), args.get(3))
        && flag == "--same-as"
    {
        let text = std::fs::read_to_string(other).expect("readable");
        let theirs: Vec<serde_json::Value> = text
            .split("\n---\n")
            .map(|d| serde_saphyr::from_str(d).expect("yaml"))
            .collect();
        return if theirs == values {
            std::process::ExitCode::SUCCESS
        } else {
            eprintln!("raw-floor: {other} differs from the floor's objects");
            std::process::ExitCode::from(1)
        };
    }
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_saphyr::to_string(v).expect("json values serialize"));
    }
    use std::io::Write;
    let _ = std::io::stdout().write_all(out.as_bytes());
    std::process::ExitCode::SUCCESS
}
