"""fp-indexer: the command line that fills and manages an fp store (imports as fp.indexer)."""
