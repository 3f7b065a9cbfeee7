"""The quality scorer's parts, one concern per module; ``translate.score`` puts them together
(``signals_for``, ``score_pair``) and is where every public name is imported from.

* ``carried``: what a translation carries over unchanged: numbers (also written as words) and
  Latin-script tokens;
* ``sentences``: a light sentence splitter for counting (English and Arabic), glued sentences;
* ``adequacy``: lexical coverage from the IBM Model 1 lexicon, per line and per source sentence;
* ``omission``: source sentences whose content the output lacks;
* ``frequency``: word frequency (wordfreq Zipf tables);
* ``form``: punctuation, names, capitalisation and repetition of the output against the source;
* ``calibration``: the features the score weighs, their weights, and the labels.
"""
