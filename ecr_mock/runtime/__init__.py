"""The runtime: what runs the protocols in a process: interception, providers, TLS, host names, logs."""
