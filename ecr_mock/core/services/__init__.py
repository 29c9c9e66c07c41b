"""The core's entry points: one module of functions over a Store per capability."""
