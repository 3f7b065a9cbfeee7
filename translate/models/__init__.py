"""Translation model management: list, pull, import, resolve and remove models.

Split along what it does:
- ``catalogue``: the catalogue of known models, the installed models (``ModelInfo``), choosing, listing
  and removing them;
- ``download``: fetching a release with size limits, and unpacking archives safely (entry count, sizes,
  compression ratio and paths checked before anything is written; streamed with the limit enforced);
- ``convert``: laying out CTranslate2, Argos and OPUS-MT releases as an installed model (OPUS-MT's
  Marian weights converted to int8) and checking that it loads;
- ``install``: ``pull`` and ``import_model``, atomic installs with the download's sha256 checked and
  recorded.
"""
from __future__ import annotations

from .catalogue import (CATALOGUE, MODELS_DIR_ENV, ModelError, ModelInfo, bundled_models, format_size, list_models,
                        load_model_dir, models_dir, parse_size, remove, resolve_model)
from .download import (BASE_URL_ENV, DEFAULT_MAX_DOWNLOAD, DEFAULT_MAX_UNPACKED, MAX_ARCHIVE_ENTRIES, _extract)
from .install import import_model, pull

__all__ = ["BASE_URL_ENV", "CATALOGUE", "DEFAULT_MAX_DOWNLOAD", "DEFAULT_MAX_UNPACKED", "MAX_ARCHIVE_ENTRIES",
           "MODELS_DIR_ENV", "ModelError", "ModelInfo", "bundled_models", "format_size", "import_model",
           "list_models", "load_model_dir", "models_dir", "parse_size", "pull", "remove", "resolve_model", "_extract"]
