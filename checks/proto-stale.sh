#!/usr/bin/env bash
# Fails when the committed protobuf-c output differs from what protoc-c generates
# from proto/checkpoint.proto, proto/tensorboard_event.proto or proto/onnx.proto (run `make proto`
# and commit the result).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
# check PROTO TARGET_DIR: the .c beside the sources, the .h under include/.
check() {
    local name=${1%.proto} dir=$2
    (cd proto && protoc-c --c_out="$tmp" "$1")
    diff -u "$dir/$name.pb-c.c" "$tmp/$name.pb-c.c" >/dev/null || { echo "stale: $dir/$name.pb-c.c (run make proto)"; status=1; }
    diff -u "$dir/include/$name.pb-c.h" "$tmp/$name.pb-c.h" >/dev/null || { echo "stale: $dir/include/$name.pb-c.h (run make proto)"; status=1; }
}
check checkpoint.proto Sources/CCheckpointProto
check tensorboard_event.proto Sources/CTensorBoardProto
check onnx.proto Sources/CONNXProto
[ $status -eq 0 ] && echo "proto: generated code is current"
exit $status
