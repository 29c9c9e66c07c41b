"""The protocols: the ECR JSON API (ECR and ECR Public), the OCI registry and the control API.

Each parses requests, calls services and writes answers; none imports another or a runtime.
"""
