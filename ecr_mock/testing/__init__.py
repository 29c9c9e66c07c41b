"""Testing faces: ``mock_ecr``, the remote client, seeding, the faults facade."""
