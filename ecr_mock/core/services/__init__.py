"""The core's services: the entry points adapters call, one module per capability."""
