"""Start llama-cpp-python's OpenAI-compatible server with ggml's extra buffer types off.

On CPUs with AMX, ggml repacks weights into extra buffer types and the server crashes on its first
request; with them off it runs. Everything after the patch is the server's own `python -m
llama_cpp.server` entry point, with its own flags (--model, --host, --port, --n_ctx, ...).
"""

from __future__ import annotations

import llama_cpp.llama_cpp as bindings

_default_params = bindings.llama_model_default_params


def _params_without_extra_buffers() -> bindings.llama_model_params:
    params = _default_params()
    params.use_extra_bufts = False
    return params


bindings.llama_model_default_params = _params_without_extra_buffers

from llama_cpp.server.__main__ import main  # noqa: E402  (after the patch, which it must see)

if __name__ == "__main__":
    main()
