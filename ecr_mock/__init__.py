"""ecr_mock: a local, offline emulator of Amazon ECR."""
