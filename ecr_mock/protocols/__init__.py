"""The faces the emulator speaks through: the ECR API, the registry, the control API."""
