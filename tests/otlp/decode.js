// Decode OTLP/HTTP metrics request bodies (files named on the command line)
// with the OpenTelemetry JS project's generated protobuf types, and print
// each as one line of JSON: the test compares that with what the agent saw.
'use strict';
const fs = require('fs');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

const Request = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

for (const file of process.argv.slice(2)) {
  const msg = Request.decode(fs.readFileSync(file));
  const bad = Request.verify(msg);
  if (bad) {
    process.stderr.write(`${file}: ${bad}\n`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(Request.toObject(msg, {
    longs: String, enums: String, oneofs: true,
  })) + '\n');
}
