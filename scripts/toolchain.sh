#!/usr/bin/env bash
# Puts a Pulumi CLI and its Python language host on PATH, building them from the
# Go module proxy when no usable `pulumi` is installed. Prints the bin directory.
#
# Pulumi publishes no CLI through the package registries this project can reach,
# so the CLI is built from source at a pinned release into a cache outside the
# repository, where every later checkout (and CI's fresh clone) reuses it.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-v3.274.1}"
# The Python language host became its own, untagged Go module in v3.80; the
# module proxy reachable here refuses every pseudo-version of that module, so
# the host is built from the last SDK release that still carried it. It speaks
# the same LanguageRuntime protocol; the one option it does not read from
# Pulumi.yaml is `virtualenv`, which callers supply as PULUMI_PYTHON_CMD.
LANGUAGE_HOST_SDK_VERSION="${LANGUAGE_HOST_SDK_VERSION:-v3.68.0}"
MINIMUM_PULUMI="3.150.0"
CACHE_ROOT="${SENTRY_DSN_SYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sentry-dsn-sync}"
BIN_DIR="$CACHE_ROOT/pulumi-$PULUMI_VERSION/bin"

say() { printf 'toolchain: %s\n' "$*" >&2; }

version_at_least() {  # version_at_least HAVE WANT
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

existing_pulumi_is_usable() {
  command -v pulumi >/dev/null 2>&1 || return 1
  command -v pulumi-language-python >/dev/null 2>&1 || return 1
  local have
  have="$(pulumi version 2>/dev/null | sed 's/^v//')" || return 1
  version_at_least "$have" "$MINIMUM_PULUMI"
}

build_cli() {
  local work="$1" pkg_dir
  say "building pulumi $PULUMI_VERSION from github.com/pulumi/pulumi/pkg/v3 (a few minutes, once)"
  pkg_dir="$(cd "$work" && go mod download -json "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" \
    | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  mkdir -p "$work/cli"
  {
    printf 'module pulumibuild/cli\n\ngo %s\n\n' "$(sed -n 's/^go //p' "$pkg_dir/go.mod")"
    # Upstream's replace lines that point at other modules still apply; the
    # ones that point at sibling directories of the monorepo do not.
    grep '^replace' "$pkg_dir/go.mod" | grep -v '=> \.' || true
    printf '\nrequire github.com/pulumi/pulumi/pkg/v3 %s\n' "$PULUMI_VERSION"
  } >"$work/cli/go.mod"
  cp "$pkg_dir/go.sum" "$work/cli/go.sum"
  chmod u+w "$work/cli/go.sum"
  (cd "$work/cli" && GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$work/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

build_language_host() {
  local work="$1" sdk_dir
  say "building pulumi-language-python from github.com/pulumi/pulumi/sdk/v3@$LANGUAGE_HOST_SDK_VERSION"
  sdk_dir="$(cd "$work" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@$LANGUAGE_HOST_SDK_VERSION" \
    | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  mkdir -p "$work/langhost"
  printf 'module pulumibuild/langhost\n\ngo 1.21\n\nrequire github.com/pulumi/pulumi/sdk/v3 %s\n' \
    "$LANGUAGE_HOST_SDK_VERSION" >"$work/langhost/go.mod"
  cp "$sdk_dir/go.sum" "$work/langhost/go.sum"
  chmod u+w "$work/langhost/go.sum"
  (cd "$work/langhost" && GOFLAGS=-mod=mod go build -trimpath \
    -o "$work/bin/pulumi-language-python" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python)
}

copy_python_scripts() {
  # The two scripts the engine runs for Python programs and dynamic providers
  # ship inside the SDK module of the pinned release.
  local work="$1" sdk_dir
  sdk_dir="$(cd "$work" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" \
    | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$work/bin/"
  install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$work/bin/"
}

main() {
  if [ -z "${SENTRY_DSN_SYNC_BUILD_PULUMI:-}" ] && existing_pulumi_is_usable; then
    say "using $(command -v pulumi) ($(pulumi version))"
    dirname "$(command -v pulumi)"
    return
  fi
  if [ -x "$BIN_DIR/pulumi" ] && [ -x "$BIN_DIR/pulumi-language-python" ] \
    && [ -x "$BIN_DIR/pulumi-resource-pulumi-python" ]; then
    say "using cached pulumi $PULUMI_VERSION in $BIN_DIR"
    echo "$BIN_DIR"
    return
  fi
  command -v go >/dev/null 2>&1 || { say "error: Go is needed to build the Pulumi CLI; install Go 1.26 or put pulumi on PATH"; exit 1; }
  mkdir -p "$CACHE_ROOT"
  local work
  work="$(mktemp -d "$CACHE_ROOT/build.XXXXXX")"
  # shellcheck disable=SC2064  # expand now: $work is local to this function
  trap "rm -rf '$work'" EXIT
  mkdir -p "$work/bin"
  export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
  build_cli "$work"
  build_language_host "$work"
  copy_python_scripts "$work"
  mkdir -p "$(dirname "$BIN_DIR")"
  rm -rf "$BIN_DIR"
  mv "$work/bin" "$BIN_DIR"
  say "installed pulumi $("$BIN_DIR/pulumi" version) into $BIN_DIR"
  echo "$BIN_DIR"
}

main "$@"
