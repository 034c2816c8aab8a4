//! JUnit XML (`--junit FILE`), in the shape GitLab, Jenkins and GitHub test reporters read (Jenkins'
//! `junit-10.xsd`): `<testsuites>` with one `<testsuite>` per test file and one `<testcase>` per case
//! that ran (`classname` is the test file). A failed case has `<failure message type>` with the
//! report's text (type = the diagnostic code), a skipped one `<skipped message>`, a file that could not
//! be evaluated one `<testcase>` with an `<error>`. What a failed case printed goes to `<system-out>`.
//! `time` attributes are seconds.

use super::report::{Style, failure_text};
use super::{Counts, FileReport};
use crate::diag::render::Format;
use crate::script::testing::{Outcome, TestFailure};
use std::fmt::Write;

/// Text for XML content and attribute values: markup characters escaped, characters XML 1.0 cannot
/// carry (control characters other than tab and line breaks) replaced by `?`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn failure_element(tag: &str, f: &FileReport, x: &TestFailure, out: &mut String) {
    let text = failure_text(
        f,
        x,
        &[],
        Style {
            format: Format::Human,
            color: false,
        },
    );
    let _ = writeln!(
        out,
        "      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>",
        escape(&x.diagnostic.message),
        x.diagnostic.code,
        escape(text.trim_end())
    );
}

/// The whole document.
pub fn document(files: &[FileReport]) -> String {
    let total = Counts::of(files);
    let time: std::time::Duration = files.iter().map(|f| f.elapsed).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"tekscript test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        total.passed + total.failed + total.skipped,
        total.failed - total.broken_files,
        total.broken_files,
        total.skipped,
        secs(time)
    );
    for f in files {
        let c = Counts::of(std::slice::from_ref(f));
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
            escape(&f.name),
            c.passed + c.failed + c.skipped,
            c.failed - c.broken_files,
            c.broken_files,
            c.skipped,
            secs(f.elapsed)
        );
        if let Some(e) = &f.result.load_error {
            let _ = writeln!(
                out,
                "    <testcase name=\"(file)\" classname=\"{}\" time=\"{}\">",
                escape(&f.name),
                secs(f.elapsed)
            );
            failure_element("error", f, e, &mut out);
            out.push_str("    </testcase>\n");
        }
        for case in &f.result.cases {
            if matches!(case.outcome, Outcome::Filtered) {
                continue;
            }
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
                escape(&case.name),
                escape(&f.name),
                secs(case.elapsed)
            );
            match &case.outcome {
                Outcome::Passed | Outcome::Filtered => out.push_str("/>\n"),
                Outcome::Skipped(reason) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(reason)
                    );
                }
                Outcome::Failed(x) => {
                    out.push_str(">\n");
                    failure_element("failure", f, x, &mut out);
                    if !case.output.is_empty() {
                        let _ = writeln!(
                            out,
                            "      <system-out>{}</system-out>",
                            escape(&case.output.join("\n"))
                        );
                    }
                    out.push_str("    </testcase>\n");
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("a < b & \"c\" 'd' >\u{1b}[31m"),
            "a &lt; b &amp; &quot;c&quot; &apos;d&apos; &gt;?[31m"
        );
    }
}
