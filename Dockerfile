# syntax=docker/dockerfile:1
# tusk-collector image: stage 1 builds dist/ with the dev dependencies, stage 2 runs it with the production ones.
#   docker build --build-arg VERSION=$(node -p "require('./package.json').version") \
#     --build-arg SOURCE_URL=$(git remote get-url origin) -t tusk-collector .
#   docker run --read-only -p 4317:4317 -p 4318:4318 tusk-collector                    # embedded pipeline
#   docker run ... tusk-collector run config/cluster.tsk --pipeline ingest              # a cluster tier
#   docker run -v $PWD/my.tsk:/etc/tusk-collector/pipeline.tsk:ro ... run /etc/tusk-collector/pipeline.tsk

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY pipeline ./pipeline
COPY config ./config
COPY receivers ./receivers
COPY processors ./processors
COPY exporters ./exporters
COPY instrument ./instrument
# npm ci runs the `prepare` script (tsc -> dist/); native modules (snappy, lz4, zstd) come prebuilt.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="tusk-collector" \
      org.opencontainers.image.description="Tail-sampling trace pipeline: OTLP in, Kafka, Redis, Jaeger out" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# tini forwards SIGTERM to node (which drains) and reaps zombies; node never runs as PID 1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.0-1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tusk \
 && useradd --system --uid 10001 --gid tusk --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin tusk
WORKDIR /opt/tusk-collector
# Owned by root and not writable by the runtime user; the root filesystem may be mounted read-only.
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/config/*.tsk ./config/
# The embedded pipeline's write-ahead log lives in a volume the runtime user owns (writable also with a
# read-only root filesystem); mount a persistent volume there to keep it across containers.
RUN ln -s /opt/tusk-collector/bin/tusk-collector.js /usr/local/bin/tusk-collector \
 && mkdir -p /var/lib/tusk-collector && chown 10001:10001 /var/lib/tusk-collector
VOLUME /var/lib/tusk-collector
ENV NODE_ENV=production \
    TUSK_STATE_DIR=/var/lib/tusk-collector/wal \
    TUSK_ADMIN_ENDPOINT=0.0.0.0:13133 \
    OTLP_GRPC_ENDPOINT=0.0.0.0:4317 \
    OTLP_HTTP_ENDPOINT=0.0.0.0:4318
EXPOSE 4317 4318 13133
USER 10001:10001
# Liveness on the admin endpoint (its port follows TUSK_ADMIN_ENDPOINT); no curl/wget in the image.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p = (process.env.TUSK_ADMIN_ENDPOINT || '').split(':').pop() || '13133'; \
fetch('http://127.0.0.1:' + p + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "tusk-collector"]
CMD ["run", "config/embedded.tsk"]
