"""The domain: entities, errors and pure rules (names, manifests, IAM and lifecycle policy languages).

Modules here import nothing else of ecr_mock; no transport, no I/O beyond a blob's spill file.
"""
