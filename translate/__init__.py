"""translate: Arabic→English translation and parallel-corpus tool.

The names in ``__all__`` are the stable Python API (see ``translate.api`` and the README's "Python API"
section); every other module is internal.
"""
__version__ = "0.1.0"

# The API's segment(), score() and align() share their names with the stage modules translate/segment.py,
# translate/score.py and translate/align.py. Python sets a package attribute to a submodule when that
# submodule is first imported, so the modules are imported here first and the functions bound after:
# `translate.score` is then the function for good, and code inside the package imports from the modules
# (`from .score import score_pair`), never the module through the package (`from . import score`).
from . import align as _align_module  # noqa: E402,F401,I001
from . import score as _score_module  # noqa: E402,F401
from . import segment as _segment_module  # noqa: E402,F401
from .api import (  # noqa: E402
    Bead,
    Corpus,
    DocumentPair,
    Error,
    Pair,
    Score,
    Sentence,
    Translator,
    align,
    align_documents,
    open_store,
    score,
    score_batch,
    segment,
)

__all__ = ["Bead", "Corpus", "DocumentPair", "Error", "Pair", "Score", "Sentence", "Translator", "align",
           "align_documents", "open_store", "score", "score_batch", "segment"]
