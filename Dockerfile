# Image for the api and the worker (one image, two commands). Built on a maintained Node LTS.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build \
 && node --import tsx -e "import('@temporalio/worker').then(async ({ bundleWorkflowCode }) => { const { workflowsPath } = await import('./worker/main.ts'); const b = await bundleWorkflowCode({ workflowsPath: workflowsPath() }); (await import('node:fs')).writeFileSync('dist/workflow-bundle.js', b.code); })"

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js API_HOST=0.0.0.0
COPY --from=build /app /app
USER node
EXPOSE 8080
CMD ["node", "--import", "tsx", "src/main.ts", "api"]
