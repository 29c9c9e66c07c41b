# ecr-mock: the ECR API and an OCI registry on one port, configured by ECR_MOCK_* variables.
#   docker build -t ecr-mock .
#   docker run -p 5000:5000 ecr-mock
# Offline: put every wheel (pip wheel -w wheels . && pip download -d wheels setuptools wheel)
# in ./wheels and build with --build-arg PIP_NO_INDEX=1. Few instructions on purpose: each one
# is a full copy of the file system with some storage drivers.
ARG BASE=python:3.12-slim

FROM ${BASE} AS build
# pip's own settings, passed through when given
ARG PIP_INDEX_URL
ARG PIP_NO_INDEX
COPY . /src
RUN export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore \
 && if [ -d /src/wheels ]; then export PIP_FIND_LINKS=/src/wheels; fi \
 && python3 -m venv /opt/ecr-mock \
 && /opt/ecr-mock/bin/pip install /src \
 && /opt/ecr-mock/bin/pip uninstall -y -q pip \
 && find /opt/ecr-mock -name __pycache__ -prune -exec rm -rf {} + \
 && /opt/ecr-mock/bin/python -m compileall -q /opt/ecr-mock/lib

FROM ${BASE}
COPY --from=build /opt/ecr-mock /opt/ecr-mock
RUN (useradd --system --uid 10001 --user-group --home-dir /var/lib/ecr-mock ecr-mock \
     || (echo 'ecr-mock:x:10001:10001::/var/lib/ecr-mock:/usr/sbin/nologin' >> /etc/passwd \
         && echo 'ecr-mock:x:10001:' >> /etc/group)) \
 && mkdir -p /var/lib/ecr-mock \
 && chown 10001:10001 /var/lib/ecr-mock
ENV PATH=/opt/ecr-mock/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ECR_MOCK_HOST=0.0.0.0 \
    ECR_MOCK_PORT=5000 \
    ECR_MOCK_STATE_DIR=/var/lib/ecr-mock
VOLUME /var/lib/ecr-mock
USER 10001:10001
HEALTHCHECK --interval=2s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ecr-mock/health' % os.environ.get('ECR_MOCK_PORT', '5000'), timeout=2)"]
CMD ["ecr-mock", "serve"]
