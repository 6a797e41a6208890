# whalestack daemon image (docker-compose.yml builds it). Two stages:
#   build    all dependencies, compiles TypeScript to dist/ (npm ci runs the `prepare` script: npm run build)
#   runtime  production dependencies only (npm ci --omit=dev), the compiled code, the schema migrations;
#            runs as the unprivileged `node` user with a /healthz health check.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# tsconfig.build.json compiles src, bench and the fake exchange bench/bybit-order-ack.ts drives (test/support).
COPY src ./src
COPY bench ./bench
COPY scripts ./scripts
COPY test/support ./test/support
RUN npm ci --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 HTTP_PORT=9464 DATA_DIR=/data
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would try to compile without the dev dependencies; no production dependency has
# an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# The migrator reads schema/*.sql next to dist/ at every start (run and migrate apply pending migrations).
COPY schema ./schema
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
EXPOSE 9464
USER node
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["run"]
