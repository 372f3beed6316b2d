#!/usr/bin/env bash
# RegKB in one command: install, ingest the official texts, serve the app.
#
#   ./run.sh            install (once), start the ingest (incremental) and the app on http://127.0.0.1:8501
#                       as soon as the ingest has a first build: a cold ingest serves in stages (BM25 first,
#                       then each model's vectors), and the app says which stage it is serving
#   ./run.sh install    install only (what CI does before the tests)
#   ./run.sh ingest     install and ingest, no app
#
# Environment: REGKB_MIRROR   folder with local copies of the official files
#                             (default ../shared/corpus when it exists; else downloads from EUR-Lex)
#              REGKB_DATA_DIR where the index lives (default ./data)
#              REGKB_MODEL    sentence-transformers model name or path, "a+b" combines two
#                             (default: bundled all-MiniLM-L6-v2 + multilingual-e5-small)
#              PORT           app port (default 8501)
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

install() {
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    local pip=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
    # torch is pinned to the CPU build: an unpinned torch pulls several GB of CUDA packages.
    if [ -d /opt/wheels ]; then
        "${pip[@]}" --find-links /opt/wheels "torch==2.13.0"
    else
        "${pip[@]}" --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
    fi
    "${pip[@]}" -e ".[test]"
}

ingest() {
    local mirror=${REGKB_MIRROR:-../shared/corpus}
    if [ -d "$mirror" ]; then
        "$VENV/bin/python" -m ingest --mirror "$mirror"
    else
        "$VENV/bin/python" -m ingest
    fi
}

# The ingest in the background, the app as soon as there is a build to serve (or at once if there is one):
# the app follows each build the ingest writes. The ingest's output goes to $DATA/ingest.log; a failure is
# said on the terminal. A background job of a script ignores Ctrl-C, so stopping the app stops it here.
ingest_then_serve() {
    local data=${REGKB_DATA_DIR:-data}
    mkdir -p "$data"
    { ingest >"$data/ingest.log" 2>&1 || echo "run.sh: the ingest failed (exit $?); see $data/ingest.log" >&2; } &
    local job=$!
    trap 'pkill -TERM -P "$job" 2>/dev/null; kill "$job" 2>/dev/null' EXIT
    trap 'exit 130' INT TERM
    echo "ingesting in the background (log: $data/ingest.log); the app starts with the first build"
    until [ -e "$data/current" ]; do
        if ! kill -0 "$job" 2>/dev/null; then
            tail -n 20 "$data/ingest.log" >&2
            exit 1
        fi
        sleep 1
    done
    (serve)  # in a subshell, so that this shell is still here to stop the ingest when the app stops
}

serve() {
    exec "$VENV/bin/python" -m streamlit run app.py --server.headless true \
        --server.address "${HOST:-127.0.0.1}" --server.port "${PORT:-8501}"
}

case "${1:-all}" in
    install) install ;;
    ingest) install && ingest ;;
    all) install && ingest_then_serve ;;
    *) echo "usage: ./run.sh [install|ingest]" >&2; exit 2 ;;
esac
