# whalestack daemon image (used by docker-compose.yml)
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
# npm ci runs the package's `prepare` script, which builds: the sources must be in place first.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 HTTP_PORT=9464 DATA_DIR=/data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY schema ./schema
VOLUME ["/data"]
EXPOSE 9464
USER node
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["run"]
