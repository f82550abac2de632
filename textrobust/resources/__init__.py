"""Linguistic resources, found or built offline and cached; nothing is loaded at import time.

- ``stopwords``: English and Arabic stopword lists written in the project;
- ``wordnet``: WordNet 3.0 synonyms/antonyms (nltk data, else Debian's files read through nltk);
- ``neighbours``: word-neighbour tables (GloVe counter-fitted here, plain GloVe, original counter-fitted
  vectors, any vectors file), with ``counterfit`` (the algorithm) and ``lexical_pairs`` (its constraints);
- ``sentence_encoder``: USE-multilingual or any sentence-transformers model;
- ``pos``: universal POS tags from spaCy or nltk;
- ``registry``: what ``textrobust resources status`` / ``prepare`` show and do.
"""
