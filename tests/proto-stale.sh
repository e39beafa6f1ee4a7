#!/usr/bin/env bash
# Fails when the committed protobuf-c output differs from what protoc-c generates
# from proto/checkpoint.proto (run `make proto` and commit the result).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd proto && protoc-c --c_out="$tmp" checkpoint.proto)
status=0
diff -u Sources/CCheckpointProto/checkpoint.pb-c.c "$tmp/checkpoint.pb-c.c" >/dev/null || { echo "stale: Sources/CCheckpointProto/checkpoint.pb-c.c (run make proto)"; status=1; }
diff -u Sources/CCheckpointProto/include/checkpoint.pb-c.h "$tmp/checkpoint.pb-c.h" >/dev/null || { echo "stale: Sources/CCheckpointProto/include/checkpoint.pb-c.h (run make proto)"; status=1; }
[ $status -eq 0 ] && echo "proto: generated code is current"
exit $status
