"""The parts of alignment repair (the editor's changes to a document pair's links, and alignments stored
whole); ``translate.alignment_edit`` puts them together and is the module to import."""
