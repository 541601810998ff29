"""Beschlusslage: cited German answers over IT-Planungsrat decisions, laws and municipal papers.

Importing the package pins every library to offline mode, so no code path can
reach for a model hub or phone home (see ../shared/MODELS.md).
"""

import os

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
for _key, _value in _OFFLINE_ENV.items():
    os.environ.setdefault(_key, _value)

__version__ = "0.1.0"
