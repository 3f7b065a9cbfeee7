"""The parts of Arabic sentence segmentation; ``translate.segment`` puts them together and is the module to
import (``from translate.segment import segment``)."""
