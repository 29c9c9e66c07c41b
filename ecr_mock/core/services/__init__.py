"""The core's capabilities as functions and small objects over the backend's state."""
