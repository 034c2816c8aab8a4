#!/bin/sh
# Creates the GitHub release for tag v$VERSION of $REPO_URL and records its URL.
# Kept in its own file (read with `file()`) so it can be linted with shellcheck and uses
# ${VAR} freely: no Rhai interpolation happens in files.
set -eu
apk add --no-cache curl jq >/dev/null

repo="${REPO_URL#https://github.com/}"
repo="${repo%.git}"
tag="v${VERSION}"

body="$(jq -n --arg tag "$tag" --arg image "$IMAGE" \
  '{tag_name: $tag, name: $tag, body: ("Image: `" + $image + "`"), draft: false}')"

url="$(curl --fail --silent --show-error \
  -H "Authorization: Bearer ${GITHUB_TOKEN}" \
  -H "Accept: application/vnd.github+json" \
  --data "$body" \
  "https://api.github.com/repos/${repo}/releases" | jq -r .html_url)"

printf '%s' "$url" > "$(results.url.path)"
echo "released ${tag}: ${url}"
