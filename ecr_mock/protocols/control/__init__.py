"""The control API's faces beyond the JSON routes of ``ecr_mock.control``: the web console."""
