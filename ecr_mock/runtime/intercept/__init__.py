"""In-process interception: the botocore hook and the requests hook."""
