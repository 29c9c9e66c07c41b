"""Core services: the operations adapters and faces call, as functions over the backend's state."""
