# One image for every zoho-attach process: the upload workers, the dashboard, and one-off
# commands (`docker compose run --rm worker doctor`, `… enqueue`, `… status`).

FROM node:20-slim AS build
WORKDIR /app
# Dependencies first, so that editing the source does not reinstall them. --ignore-scripts:
# the package's own `prepare` (a build) needs the source, not copied yet, and no runtime
# dependency needs an install script (msgpackr's native extension is optional).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Where docker-compose.yml mounts the files to upload, read-only; ZOHO_ATTACH_FILE_ROOTS points here.
RUN mkdir -p /data/files
# The image's unprivileged user (uid 1000). The code stays root-owned, so the process cannot change it;
# the mounted files must be readable by uid 1000 (`zoho-attach doctor` checks).
USER node
# Healthy while the configuration is valid and Redis answers (no Zoho call: no credit spent).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["node", "dist/cli/main.js", "health"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["worker"]
