"""The runtime: what turns a Store into a running emulator (composition root, HTTP, intercept)."""
