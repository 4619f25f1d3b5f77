// Validates Prometheus Operator objects (PodMonitor, PrometheusRule) against the operator's own CRD
// schemas, as @kubernetes-models/prometheus-operator generates them from the CRDs.
// Usage: node validate_operator_objects.mjs <node_modules dir>  < objects.json  (a JSON array)
// Prints one line per problem, "<kind>/<name>: <errors>"; exits 1 when there is any.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
const v1 = await import(
  pathToFileURL(join(modules, "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/index.js")).href
);
const objects = JSON.parse(readFileSync(0, "utf8"));
let problems = 0;
for (const object of objects) {
  const Model = v1[object.kind];
  const name = `${object.kind}/${object.metadata?.name}`;
  if (object.apiVersion !== "monitoring.coreos.com/v1" || typeof Model !== "function") {
    console.log(`${name}: not a monitoring.coreos.com/v1 kind`);
    problems++;
    continue;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    console.log(`${name}: ${error.message}`);
    problems++;
  }
}
process.exit(problems ? 1 : 0);
