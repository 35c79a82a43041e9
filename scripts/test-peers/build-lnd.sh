#!/usr/bin/env bash
# Builds the Lightning test peers (NOT product code): lnd + lncli v0.19.3-beta and btcd + btcctl
# v0.24.2, from the Go module proxy, into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/briefcase/test-peers/<name>-<version>/
# and does nothing when the binaries are already there. The L402 tests (test/payments/) skip with
# a message naming this script when they are missing. Recipe and gotchas:
# /work/shared/reference/RECIPES.md §5 (lnd's go.mod has `replace` directives, so `go install`
# is refused; we build it from a scratch module that copies lnd's non-local replaces).
# Usage: scripts/test-peers/build-lnd.sh   (needs `go` >= 1.23 on PATH; ~15 min on 2 busy cores)
set -euo pipefail

LND_VERSION=v0.19.3-beta
BTCD_VERSION=v0.24.2
root="${XDG_CACHE_HOME:-$HOME/.cache}/briefcase/test-peers"
lnd_dir="$root/lnd-$LND_VERSION"
btcd_dir="$root/btcd-$BTCD_VERSION"
nice_cmd="nice -n 19"

log() { echo "build-lnd: $*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; else
    log "go is not on PATH; install Go (https://go.dev/dl) to build the Lightning test peers"; exit 1
  fi
fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

if [ -x "$btcd_dir/btcd" ] && [ -x "$btcd_dir/btcctl" ]; then
  log "btcd $BTCD_VERSION already built in $btcd_dir"
else
  log "building btcd + btcctl $BTCD_VERSION into $btcd_dir"
  start=$(date +%s)
  mkdir -p "$btcd_dir.tmp"
  GOBIN="$btcd_dir.tmp" $nice_cmd go install "github.com/btcsuite/btcd@$BTCD_VERSION"
  GOBIN="$btcd_dir.tmp" $nice_cmd go install "github.com/btcsuite/btcd/cmd/btcctl@$BTCD_VERSION"
  rm -rf "$btcd_dir" && mv "$btcd_dir.tmp" "$btcd_dir"
  log "btcd built in $(($(date +%s) - start)) s"
fi

if [ -x "$lnd_dir/lnd" ] && [ -x "$lnd_dir/lncli" ]; then
  log "lnd $LND_VERSION already built in $lnd_dir"
else
  log "building lnd + lncli $LND_VERSION into $lnd_dir (takes ~15 min)"
  start=$(date +%s)
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cd "$work"
  go mod init lndbuild >/dev/null 2>&1
  printf 'package main\n\nimport _ "github.com/lightningnetwork/lnd"\n\nfunc main() {}\n' > main.go
  # lnd's own non-local replace directives (go.mod of v0.19.3-beta); `go get` does not apply a
  # dependency's replaces, so the build module must repeat them.
  go mod edit \
    -replace=github.com/ulikunitz/xz=github.com/ulikunitz/xz@v0.5.11 \
    -replace=github.com/gogo/protobuf=github.com/gogo/protobuf@v1.3.2 \
    -replace=google.golang.org/protobuf=github.com/lightninglabs/protobuf-go-hex-display@v1.30.0-hex-display
  $nice_cmd go get "github.com/lightningnetwork/lnd@$LND_VERSION"
  $nice_cmd go mod tidy
  tags="signrpc walletrpc chainrpc invoicesrpc routerrpc"
  mkdir -p "$lnd_dir.tmp"
  $nice_cmd go build -tags="$tags" -o "$lnd_dir.tmp/lnd" github.com/lightningnetwork/lnd/cmd/lnd
  log "lnd built; building lncli"
  $nice_cmd go build -tags="$tags" -o "$lnd_dir.tmp/lncli" github.com/lightningnetwork/lnd/cmd/lncli
  rm -rf "$lnd_dir" && mv "$lnd_dir.tmp" "$lnd_dir"
  log "lnd built in $(($(date +%s) - start)) s"
fi
