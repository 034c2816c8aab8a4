//! Container image references (`registry.example.com:5000/team/tool:1.0@sha256:…`): an invalid one is
//! only rejected when the pod is created (`InvalidImageName`), so the run certainly fails.

/// What is wrong with an image reference, if anything. Tekton variables (`$(params.image)`) are
/// substituted at run time and accepted as any name part.
pub fn problem(image: &str) -> Option<String> {
    if image.contains("${") {
        return Some(
            "`${…}` is not interpolated here: the image name contains it literally".into(),
        );
    }
    // a reference made of variables is only known at run time
    let mut s = String::with_capacity(image.len());
    let mut rest = image;
    while let Some(i) = rest.find("$(") {
        s.push_str(&rest[..i]);
        match rest[i..].find(')') {
            Some(e) => {
                s.push('x');
                rest = &rest[i + e + 1..];
            }
            None => return Some("an unclosed `$(`".into()),
        }
    }
    s.push_str(rest);
    if let Some(c) = s.chars().find(|c| c.is_whitespace()) {
        return Some(format!("it contains whitespace ({c:?})"));
    }
    let (name, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s.as_str(), None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(algo, hex)| {
            !algo.is_empty()
                && algo
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+._-".contains(c))
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return Some(format!(
                "the digest `{d}` is not `algorithm:hex` (e.g. `sha256:…`)"
            ));
        }
    }
    // the tag is after the last `:` that follows the last `/`
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return Some(format!(
                "the tag `{t}` is not valid (letters, digits, `_`, `.` and `-`, at most 128, not starting with `.` or `-`)"
            ));
        }
    }
    if repo.is_empty() {
        return Some("the repository name is empty".into());
    }
    let mut parts: Vec<&str> = repo.split('/').collect();
    // a first part with `.` or `:` (or `localhost`) is a registry host
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        let host = parts.remove(0);
        let (h, port) = match host.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host, None),
        };
        let ok = !h.is_empty()
            && h.split('.').all(|l| {
                !l.is_empty()
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
            && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Some(format!(
                "the registry `{host}` is not a host name (with an optional port)"
            ));
        }
    }
    for p in parts {
        let ok = !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && p.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Some(if p.chars().any(|c| c.is_ascii_uppercase()) {
                format!(
                    "the repository path `{p}` has upper-case letters (only lower case is allowed)"
                )
            } else {
                format!(
                    "the repository path part `{p}` is not valid (lower-case letters, digits and single separators `.`, `_`, `-`)"
                )
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn valid_references() {
        for i in [
            "alpine",
            "alpine:3.20",
            "docker.io/library/alpine:3.20",
            "localhost:5000/team/tool:1.0",
            "gcr.io/kaniko-project/executor:v1.23.2-debug",
            "registry.example.com/acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "docker.io/library/golang:$(params.version)",
            "$(params.image)",
            "$(params.registry)/tool:$(params.tag)",
            "ghcr.io/a__b/c-d.e:tag_1",
        ] {
            assert_eq!(problem(i), None, "{i}");
        }
    }

    #[test]
    fn invalid_references() {
        for (i, want) in [
            ("${registry}/tool:1.0", "not interpolated"),
            ("alpine 3.20", "whitespace"),
            ("Alpine:3.20", "upper-case"),
            ("alpine:", "tag"),
            ("alpine:-x", "tag"),
            ("a//b", "path part"),
            ("reg.io:port/x", "registry"),
            ("alpine@sha256:xyz", "digest"),
        ] {
            let p = problem(i).unwrap_or_default();
            assert!(p.contains(want), "{i}: {p:?}");
        }
    }
}
