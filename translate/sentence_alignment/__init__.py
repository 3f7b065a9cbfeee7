"""The parts of sentence alignment; ``translate.align`` puts them together and is the module to import."""
