# One image for both processes (api and worker); docker-compose.yml builds it once and picks the entry point.
# Node 20, as the README states and the lock file is made for.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# The commit shown by twindex_build_info (`docker build --build-arg GIT_COMMIT=$(git rev-parse --short HEAD)`).
ARG GIT_COMMIT=unknown
ENV GIT_COMMIT=${GIT_COMMIT}
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Node cannot raise its open-files limit itself: the entry point raises the soft limit to the hard one (`ulimit -n`)
# and then runs the command (compose and Kubernetes set the command, api or worker). docs/operations.md
# "File descriptors" says how to raise the hard limit (`--ulimit nofile=65536:65536`).
COPY --from=build /app/scripts/with-fd-limit.sh ./scripts/with-fd-limit.sh
# The image's `node` user by number: Kubernetes' runAsNonRoot can only check a numeric user (deploy/kubernetes).
USER 1000:1000
EXPOSE 8080 9464
ENTRYPOINT ["sh", "scripts/with-fd-limit.sh"]
CMD ["node", "dist/apps/api/main.js"]
