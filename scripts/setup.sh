#!/usr/bin/env bash
# Idempotent set-up for building and testing bedrock on a fresh Debian machine.
# Quiet when everything is already present; says what it installs otherwise.
# Usage: scripts/setup.sh [base|qemu|server|bench|browser|fuzz|container|kube|metrics]...   (default: base)
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
say() { echo "setup: $*" >&2; }

need_apt=()
want_pkg() { # want_pkg <command-to-check> <debian-package>
    command -v "$1" >/dev/null 2>&1 || need_apt+=("$2")
}

rust_base() {
    if ! rustup toolchain list | grep -q "^$TOOLCHAIN"; then
        say "installing Rust toolchain $TOOLCHAIN"
        rustup toolchain install "$TOOLCHAIN" --profile minimal -c rustfmt -c clippy
    fi
    for comp in rustfmt clippy; do
        if ! rustup component list --toolchain "$TOOLCHAIN" --installed | grep -q "^$comp"; then
            say "adding component $comp"
            rustup component add --toolchain "$TOOLCHAIN" "$comp"
        fi
    done
    if ! rustup target list --toolchain "$TOOLCHAIN" --installed | grep -qx aarch64-unknown-none; then
        say "adding target aarch64-unknown-none"
        rustup target add --toolchain "$TOOLCHAIN" aarch64-unknown-none
    fi
}

install_apt() {
    [ ${#need_apt[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
}

# Headless Chromium, its WebDriver and Debian's selenium for the web page's
# browser test. Not fatal: without them that test says so and skips.
browser_tools() {
    local missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
    /usr/bin/python3 -c 'import selenium' >/dev/null 2>&1 || missing+=(python3-selenium)
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages for the browser test: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
        say "could not install ${missing[*]}: the browser test will skip"
    fi
}

# podman and runc for the OCI image (`make image`, `make image-test`):
# these machines need the runc runtime (docs in the Makefile).
container_tools() {
    want_pkg podman podman
    want_pkg runc runc
    want_pkg curl curl
}

# kubernetes-validate (PyPI; it carries the Kubernetes JSON schemas, so
# validation needs no cluster and no network at test time) in a venv of
# its own under target/, pinned, for `make deploy-test`.
KUBE_VENV=target/kube-venv
KUBE_VALIDATE_VERSION=1.37.0
kube_tools() {
    want_pkg python3 python3
    /usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
    install_apt
    need_apt=()
    if ! "$KUBE_VENV/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$KUBE_VALIDATE_VERSION"; then
        say "installing kubernetes-validate $KUBE_VALIDATE_VERSION from PyPI into $KUBE_VENV"
        rm -rf "$KUBE_VENV"
        /usr/bin/python3 -m venv "$KUBE_VENV"
        "$KUBE_VENV/bin/pip" install --quiet "kubernetes-validate==$KUBE_VALIDATE_VERSION"
    fi
}

fuzz_tools() {
    if ! rustup toolchain list | grep -q '^nightly'; then
        say "installing the nightly toolchain (cargo-fuzz needs it)"
        rustup toolchain install nightly --profile minimal
    fi
    if ! command -v cargo-fuzz >/dev/null 2>&1; then
        say "installing cargo-fuzz from crates.io"
        cargo install --quiet --locked cargo-fuzz
    fi
}

[ $# -eq 0 ] && set -- base
for part in "$@"; do
    case "$part" in
        base) rust_base ;;
        qemu)
            # QEMU for the unikernel; the tap end-to-end test drives it
            # with Linux's own tools and decodes its pcap with tshark.
            rust_base
            want_pkg qemu-system-aarch64 qemu-system-arm
            want_pkg ip iproute2
            want_pkg ping iputils-ping
            want_pkg arping iputils-arping
            want_pkg tshark tshark
            want_pkg python3 python3
            ;;
        server)
            # The hosted server: aarch64 Linux target (run under qemu-user)
            # and the clients its end-to-end tests use.
            rust_base
            if ! rustup target list --toolchain "$TOOLCHAIN" --installed | grep -qx aarch64-unknown-linux-gnu; then
                say "adding target aarch64-unknown-linux-gnu"
                rustup target add --toolchain "$TOOLCHAIN" aarch64-unknown-linux-gnu
            fi
            want_pkg qemu-aarch64 qemu-user
            want_pkg curl curl
            want_pkg python3 python3
            ;;
        bench)
            # wrk and nginx for the hosted server's side-by-side benchmark.
            rust_base
            want_pkg wrk wrk
            want_pkg nginx nginx
            want_pkg curl curl
            ;;
        metrics)
            # promtool and a Prometheus server for `make metrics-test`
            # (both in Debian's prometheus package).
            want_pkg promtool prometheus
            want_pkg python3 python3
            ;;
        browser) browser_tools ;;
        fuzz) fuzz_tools ;;
        container) container_tools ;;
        kube) kube_tools ;;
        *) say "unknown part '$part'"; exit 2 ;;
    esac
done
install_apt
