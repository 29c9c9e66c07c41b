"""The protocol surfaces over the services: the shared call envelope, the ECR JSON API, the registry."""
