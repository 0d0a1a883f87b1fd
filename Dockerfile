# The scalar-ray image: Ray head and worker (actors, Serve, jobs) in docker-compose and on AKS (KubeRay).
# Python dependencies come from the project's lock (constraints.txt), the same pins `make setup` installs; a unit test
# checks that this file keeps to them (tests/unit/deploy/test_dockerfile.py).
# The explorer's chart library from the npm registry, checked against the SHA-256 the Makefile pins (make setup does
# the same locally); only the built script, its stylesheet and the licence reach the image.
FROM node:22-bookworm-slim AS explorer-vendor
ARG UPLOT_VERSION=1.6.32
ARG UPLOT_SHA256=4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d
WORKDIR /vendor
RUN npm pack --silent "uplot@${UPLOT_VERSION}" \
 && echo "${UPLOT_SHA256}  uplot-${UPLOT_VERSION}.tgz" | sha256sum --check --quiet \
 && tar -xzf "uplot-${UPLOT_VERSION}.tgz" package/dist/uPlot.iife.min.js package/dist/uPlot.min.css package/LICENSE \
 && mkdir out && cp package/dist/uPlot.iife.min.js package/dist/uPlot.min.css out/ && cp package/LICENSE out/uPlot.LICENSE

FROM python:3.11-slim-bookworm

# libgomp1: AutoGluon's LightGBM and torch; curl: health checks; tini: signals reach Ray as PID 1 would not pass them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 curl tini \
 && rm -rf /var/lib/apt/lists/*

# Ray's session files and AutoGluon's scratch live here; the platform's data folder is a volume.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    SCALAR_LOCAL__DATA_DIR=/data \
    RAY_SERVE_THROUGHPUT_OPTIMIZED=1 \
    RAY_SERVE_ENABLE_HA_PROXY=1

RUN useradd --create-home --uid 1000 ray && mkdir -p /data /app && chown ray:ray /data /app
WORKDIR /app

# Dependencies first (a layer that changes only with the lock), then the code.
COPY --chown=ray:ray pyproject.toml constraints.txt README.md ./
COPY --chown=ray:ray scalar_ray ./scalar_ray
COPY --chown=ray:ray --from=explorer-vendor /vendor/out ./scalar_ray/serving/explorer/vendor
COPY --chown=ray:ray actors ./actors
COPY --chown=ray:ray serve ./serve
COPY --chown=ray:ray jobs ./jobs
COPY --chown=ray:ray commands ./commands
RUN pip install -c constraints.txt .

USER ray
VOLUME ["/data"]
# 6379 is left to Redis: the GCS listens on 6380 (as locally); 8265 dashboard; 10001 Ray Client; 8000 Serve;
# 8090 Ray's metrics export (scraped by the collector).
EXPOSE 6380 8265 10001 8000 8090
ENTRYPOINT ["tini", "--"]
CMD ["ray", "start", "--head", "--block", "--port=6380", "--dashboard-host=0.0.0.0", "--metrics-export-port=8090"]
