//! Bad input gets a diagnostic, never a panic: every example, mutated in many deterministic ways
//! (characters deleted, duplicated or replaced), compiles to YAML or to rendered diagnostics.

use std::path::Path;
use tekscript::Options;

/// A small deterministic generator (no external crates, same sequence on every machine).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(text: &str, rng: &mut Lcg) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    for _ in 0..1 + rng.below(3) {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        let len = 1 + rng.below(12).min(out.len() - at - 1);
        match rng.below(4) {
            0 => {
                out.drain(at..at + len);
            }
            1 => {
                let piece: Vec<char> = out[at..at + len].to_vec();
                out.splice(at..at, piece);
            }
            2 => {
                let pool = [
                    '"', '`', '{', '}', '(', ')', '$', '#', ',', ':', 'é', '\n', '0',
                ];
                out[at] = pool[rng.below(pool.len())];
            }
            _ => {
                let other = rng.below(chars.len());
                let take = len.min(chars.len() - other);
                out.splice(at..at, chars[other..other + take].iter().copied());
            }
        }
    }
    out.into_iter().collect()
}

#[test]
fn mutated_examples_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai") && !super::examples::is_test_file(p))
        .collect();
    files.sort();
    let mut rng = Lcg(0x7e45c819);
    let (mut ok, mut failed) = (0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for i in 0..60 {
            let mutated = mutate(&text, &mut rng);
            let name = format!("{}#{i}", f.file_name().unwrap().to_string_lossy());
            let result = std::panic::catch_unwind(|| {
                match tekscript::compile_str(&name, &mutated, &Options::default()) {
                    Ok(c) => {
                        let _ = c.to_yaml();
                        true
                    }
                    Err(failure) => {
                        let text = failure.render_plain();
                        assert!(text.contains("error"), "{text}");
                        false
                    }
                }
            });
            match result {
                Ok(true) => ok += 1,
                Ok(false) => failed += 1,
                Err(_) => panic!("panic on mutation {i} of {}:\n{mutated}", f.display()),
            }
        }
    }
    println!("{ok} mutated scripts compiled, {failed} were rejected with diagnostics");
    assert!(failed > 0);
}

#[test]
fn mutated_yaml_never_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut rng = Lcg(0x5eed_4a31);
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for i in 0..60 {
            let path = tmp.path().join(format!("m{i}.yaml"));
            std::fs::write(&path, mutate(&text, &mut rng)).unwrap();
            let result = std::panic::catch_unwind(|| {
                match tekscript::check_yaml_files(std::slice::from_ref(&path), &Options::default())
                {
                    Ok(_) => {}
                    Err(failure) => {
                        let _ = failure.render_plain();
                    }
                }
            });
            assert!(result.is_ok(), "panic on mutation {i} of {}", f.display());
            checked += 1;
        }
    }
    println!("{checked} mutated YAML files checked without a panic");
}
