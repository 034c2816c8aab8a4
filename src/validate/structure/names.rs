//! Name and string-shape checks shared by the structure rules: Kubernetes DNS-1123 labels and
//! subdomains, qualified names, Tekton's param and result name formats, URL-like references and Go's
//! `filepath.Clean`. Each function mirrors the Go code it names (Kubernetes'
//! `k8s.io/apimachinery/pkg/util/validation`, Tekton's regular expressions), written out by hand.

/// Kubernetes' message for a string that is not a DNS-1123 subdomain.
pub const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const QUALIFIED_NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const QUALIFIED_NAME_MSG: &str = "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";

/// Tekton's `ResultNameFormat`.
pub const RESULT_NAME_FORMAT: &str = "^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$";

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// One label of `[a-z0-9]([-a-z0-9]*[a-z0-9])?` (without the length limit).
fn label_shape(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && is_lower_alnum(b[0])
        && is_lower_alnum(b[b.len() - 1])
        && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
}

/// `validation.IsDNS1123Label`: at most 63 characters of `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && label_shape(s)
}

/// `validation.IsDNS1123Subdomain`: at most 253 characters, dot-separated labels.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(label_shape)
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, anchored: Kubernetes' qualified-name part and
/// Tekton's result name format.
pub fn is_result_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && is_alnum(b[0])
        && is_alnum(b[b.len() - 1])
        && b.iter()
            .all(|&c| is_alnum(c) || matches!(c, b'-' | b'_' | b'.'))
}

/// `validation.IsQualifiedName`: an optional DNS subdomain prefix and `/`, then a name part of at
/// most 63 characters. Returns Kubernetes' messages (empty when valid).
pub fn qualified_name_errors(s: &str) -> Vec<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            let mut out = Vec::new();
            if prefix.is_empty() {
                out.push("prefix part must be non-empty".to_string());
            } else if !is_dns1123_subdomain(prefix) {
                if prefix.len() > 253 {
                    out.push("prefix part must be no more than 253 characters".to_string());
                } else {
                    out.push(format!("prefix part {DNS1123_SUBDOMAIN_MSG}"));
                }
            }
            if !out.is_empty() {
                return out;
            }
            *name
        }
        _ => return vec![QUALIFIED_NAME_MSG.to_string()],
    };
    if name.is_empty() {
        return vec!["name part must be non-empty".to_string()];
    }
    let mut out = Vec::new();
    if name.len() > 63 {
        out.push("name part must be no more than 63 characters".to_string());
    }
    if !is_result_name(name) {
        out.push(QUALIFIED_NAME_PART_MSG.to_string());
    }
    out
}

/// Tekton's `stringAndArrayVariableNameFormat`: `^[_a-zA-Z][_a-zA-Z0-9.-]*$`.
pub fn is_param_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0] == b'_' || b[0].is_ascii_alphabetic())
        && b.iter()
            .all(|&c| c == b'_' || c == b'.' || c == b'-' || is_alnum(c))
}

/// Tekton's `objectVariableNameFormat`: `^[_a-zA-Z][_a-zA-Z0-9-]*$` (no dots).
pub fn is_object_param_name(s: &str) -> bool {
    is_param_name(s) && !s.contains('.')
}

/// Tekton's `RefNameLikeUrl`: the name contains `[\w-]+:/` somewhere (`git://…`, `hub://…`).
pub fn looks_like_url(s: &str) -> bool {
    let b = s.as_bytes();
    (1..b.len()).any(|i| {
        b[i] == b':'
            && b.get(i + 1) == Some(&b'/')
            && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'-')
    })
}

/// Go's `filepath.Clean` for `/`-separated paths.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// A DNS-1123 label close to `s` (lower case, other characters turned into `-`, trimmed), to suggest
/// as a fix; `None` when nothing usable is left or `s` is already valid.
pub fn suggest_label(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-');
    let t = if t.len() > 63 {
        t[..63].trim_end_matches('-')
    } else {
        t
    };
    (!t.is_empty() && t != s && is_dns1123_label(t)).then(|| t.to_string())
}

/// Like [`suggest_label`], for an object name (a DNS-1123 subdomain: dots are kept).
pub fn suggest_subdomain(s: &str) -> Option<String> {
    let parts: Vec<String> = s
        .split('.')
        .filter_map(|p| suggest_label(p).or_else(|| is_dns1123_label(p).then(|| p.to_string())))
        .collect();
    let joined = parts.join(".");
    let t = if joined.len() > 63 {
        joined[..63].trim_end_matches(['-', '.']).to_string()
    } else {
        joined
    };
    (!t.is_empty() && t != s && is_dns1123_subdomain(&t)).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        for ok in ["a", "abc", "a-b", "0", "build-123", &"a".repeat(63)] {
            assert!(is_dns1123_label(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", "ä", &"a".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
    }

    #[test]
    fn dns_subdomains() {
        for ok in ["a", "a.b", "example.com", "a-b.c-d", "0.1"] {
            assert!(is_dns1123_subdomain(ok), "{ok}");
        }
        for bad in ["", ".a", "a.", "a..b", "A.b", "a_b", "a.-b"] {
            assert!(!is_dns1123_subdomain(bad), "{bad}");
        }
        assert!(!is_dns1123_subdomain(&format!(
            "{}.{}",
            "a".repeat(200),
            "b".repeat(60)
        )));
    }

    #[test]
    fn qualified_names() {
        for ok in [
            "a",
            "MyName",
            "my.name",
            "123-abc",
            "my_name",
            "example.com/MyName",
            &"a".repeat(63),
        ] {
            assert!(qualified_name_errors(ok).is_empty(), "{ok}");
        }
        assert_eq!(
            qualified_name_errors(""),
            vec!["name part must be non-empty"]
        );
        assert_eq!(
            qualified_name_errors("/a"),
            vec!["prefix part must be non-empty"]
        );
        assert_eq!(
            qualified_name_errors("a/"),
            vec!["name part must be non-empty"]
        );
        assert!(qualified_name_errors("a/b/c")[0].starts_with("a qualified name must consist"));
        assert!(
            qualified_name_errors("Ex_ample/b")[0]
                .starts_with("prefix part a lowercase RFC 1123 subdomain")
        );
        assert!(qualified_name_errors("-a")[0].starts_with("name part must consist"));
        assert!(qualified_name_errors("a b")[0].starts_with("name part must consist"));
        assert_eq!(
            qualified_name_errors(&"a".repeat(64)),
            vec!["name part must be no more than 63 characters"]
        );
    }

    #[test]
    fn param_and_result_names() {
        for ok in ["a", "_a", "a.b", "a-b", "A_1"] {
            assert!(is_param_name(ok), "{ok}");
        }
        for bad in ["", "1a", "-a", ".a", "a b", "a/b", "a$"] {
            assert!(!is_param_name(bad), "{bad}");
        }
        assert!(is_object_param_name("a-b_c"));
        assert!(!is_object_param_name("a.b"));
        for ok in ["a", "A", "1", "a-b", "a_b", "a.b", "aB9"] {
            assert!(is_result_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "_a", "a_", "a b", "a/b"] {
            assert!(!is_result_name(bad), "{bad}");
        }
    }

    #[test]
    fn url_like_names() {
        for url in [
            "git://github.com/x",
            "hub://task",
            "https://x",
            "bundle-v1://x",
            "a:/b",
        ] {
            assert!(looks_like_url(url), "{url}");
        }
        for plain in ["git-clone", "a:b", "://x", ":/", "example.com/task"] {
            assert!(!looks_like_url(plain), "{plain}");
        }
    }

    #[test]
    fn clean_paths_like_go() {
        let cases = [
            ("", "."),
            ("/", "/"),
            ("/tekton/", "/tekton"),
            ("/tekton/../tekton/results", "/tekton/results"),
            ("/a//b/./c/", "/a/b/c"),
            ("/..", "/"),
            ("a/../..", ".."),
            ("a/b/..", "a"),
            ("./", "."),
        ];
        for (p, want) in cases {
            assert_eq!(clean_path(p), want, "{p}");
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest_label("Bad_Name").as_deref(), Some("bad-name"));
        assert_eq!(suggest_label("build go!").as_deref(), Some("build-go"));
        assert_eq!(suggest_label("ok"), None);
        assert_eq!(suggest_label("__"), None);
        assert_eq!(suggest_subdomain("My.App_1").as_deref(), Some("my.app-1"));
        assert_eq!(suggest_label(&"x".repeat(70)).map(|s| s.len()), Some(63));
    }
}
