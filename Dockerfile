# syntax=docker/dockerfile:1
# The oomtest image: one binary, `oomtest`, whose subcommand is the container's argument:
#   docker run IMAGE bot | worker | all | run <pod> <limit> [flags]
# Two stages: the first compiles TypeScript with every dependency; the second carries only the
# compiled JavaScript and the production dependencies, so compilers and test tools never ship.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# The lockfile first, alone, so the dependency layer is reused until dependencies change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: production dependencies are plain JavaScript; no install hook has to run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
# A numeric user, so Kubernetes can verify runAsNonRoot without looking the name up. The files
# stay owned by root: the process reads its code and never writes it (read-only root filesystem).
USER 10001:10001
# PORT's default: Slack requests (HTTP mode), /healthz, /readyz and /metrics.
EXPOSE 3000
# No HEALTHCHECK here: `oomtest run` serves no HTTP, and Kubernetes ignores the instruction.
# docker-compose.yml and the Helm chart probe /healthz and /readyz themselves.
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["all"]
