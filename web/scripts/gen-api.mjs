#!/usr/bin/env node
// Regenerate the typed API client from the server's OpenAPI schema.
//
//   node scripts/gen-api.mjs          write openapi.json and src/api/schema.d.ts
//   node scripts/gen-api.mjs --check  exit 1 if either committed file is stale
//
// The schema comes from `${POSTWISE_BIN:-../.venv/bin/postwise} openapi`
// (run from web/), which prints it as JSON on stdout.
import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const schemaPath = path.join(webDir, "openapi.json");
const typesPath = path.join(webDir, "src", "api", "schema.d.ts");
const check = process.argv.includes("--check");

function fail(message, code = 2) {
  console.error(`gen-api: ${message}`);
  process.exit(code);
}

function fetchSchemaText() {
  // Through the shell so POSTWISE_BIN may be a command with arguments,
  // e.g. POSTWISE_BIN="uv run postwise".
  const command = '${POSTWISE_BIN:-../.venv/bin/postwise} openapi';
  const run = spawnSync("sh", ["-c", command], {
    cwd: webDir,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) fail(`could not run \`${command}\`: ${run.error.message}`);
  if (run.status !== 0) {
    process.stderr.write(run.stderr);
    fail(`\`${command}\` exited with status ${run.status}`);
  }
  return run.stdout;
}

async function generate() {
  const text = fetchSchemaText();
  let schema;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    fail(`the openapi command did not print JSON: ${error.message}`);
  }
  if (typeof schema?.openapi !== "string" || typeof schema.paths !== "object") {
    fail("the openapi command printed JSON that is not an OpenAPI document");
  }
  // JSON.stringify keeps the key order the server printed, so diffs stay small.
  const schemaJson = `${JSON.stringify(schema, null, 2)}\n`;
  const ast = await openapiTS(schema, { alphabetize: false, exportType: false });
  const header = `${COMMENT_HEADER}// Generated from openapi.json by \`npm run gen:api\`; do not edit.\n\n`;
  const typesTs = header + astToString(ast);
  return { schemaJson, typesTs };
}

async function readOrEmpty(file) {
  try {
    return await readFile(file, "utf8");
  } catch {
    return "";
  }
}

const { schemaJson, typesTs } = await generate();
const outputs = [
  [schemaPath, schemaJson],
  [typesPath, typesTs],
];

if (check) {
  const stale = [];
  for (const [file, content] of outputs) {
    if ((await readOrEmpty(file)) !== content) stale.push(path.relative(webDir, file));
  }
  if (stale.length > 0) {
    console.error(
      `generated API client is stale: run npm run gen:api (differs: ${stale.join(", ")})`,
    );
    process.exit(1);
  }
  console.log("generated API client is up to date");
} else {
  for (const [file, content] of outputs) await writeFile(file, content);
  console.log(`wrote ${outputs.map(([file]) => path.relative(webDir, file)).join(", ")}`);
}
