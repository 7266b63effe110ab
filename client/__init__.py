"""fp-client: the command line that recognises audio (imports as fp.client)."""
