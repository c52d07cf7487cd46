#!/usr/bin/env bash
# Regenerates the JSON schemas that tests/dashboards validate the dashboards against, from the
# TypeScript types Grafana publishes for the version the dashboards target (11.6). The output
# is committed, so the tests need neither npm nor network; rerun this after changing the pins
# in package.json or the types in types.ts.
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund --no-save --silent
gen() {
  # --expose none inlines every type: the panel packages all export a type named "Options".
  npx ts-json-schema-generator --path types.ts --tsconfig tsconfig.json --no-type-check \
    --expose none --type "$1" -o "$2"
}
gen GrafanaDashboard dashboard.schema.json
gen GrafanaAction action.schema.json
gen GrafanaPanels panels.schema.json
gen CanvasElementConfigs canvas-elements.schema.json
