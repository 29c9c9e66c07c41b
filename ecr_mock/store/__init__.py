"""The store: the Store (state, lock, clock, tokens, event log) and its persistence."""
