#!/usr/bin/env bash
# Every `import` of a package module must be an edge the target table of docs/architecture.md
# allows; the table may not allow an edge of checks/import-rules.forbidden (see
# checks/support/import_rules.py). It first proves on a scratch copy that it fails on a
# planted forbidden import (the coordinator importing MPI), then checks the real tree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r Package.swift Sources examples docs checks "$scratch"/
victim=$(ls "$scratch"/Sources/CohortControl/*.swift | head -n 1)
sed -i '0,/^import /s//import CohortMPI\nimport /' "$victim"
if out=$(python3 checks/support/import_rules.py "$scratch"); then
    echo "import-rules: the self-test's planted 'import CohortMPI' in CohortControl was not caught"; exit 1
fi
grep -q "CohortControl imports CohortMPI" <<<"$out" || { echo "import-rules: self-test failed for another reason:"; echo "$out"; exit 1; }
python3 checks/support/import_rules.py .
echo "import-rules: every import follows docs/architecture.md"
