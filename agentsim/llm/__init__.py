"""The LiteLLM adapter: the only package that imports litellm.

Importing this package sets ``LITELLM_LOCAL_MODEL_COST_MAP`` so that a later
``import litellm`` never tries to download the model cost map.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
