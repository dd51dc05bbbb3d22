#!/usr/bin/env node
// Regenerates imports/k8s.ts offline. `cdk8s import k8s@1.27.0` downloads the Kubernetes
// OpenAPI definitions from the internet; this runs the same cdk8s-cli generator but reads
// the identical definitions file from the local schema folder instead.
// Online, `npx cdk8s import k8s@1.27.0 --language typescript` produces the same file.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const K8S_VERSION = '1.27.0';
const schemasDir = process.env.K8S_SCHEMAS_DIR ?? path.resolve(__dirname, '../../shared/k8s-schemas');
const schemaFile = path.join(schemasDir, `v${K8S_VERSION}`, '_definitions.json');

// cdk8s-cli exports no subpaths, so its modules are loaded by file path.
const cliDir = path.dirname(require.resolve('cdk8s-cli/package.json'));
const util = require(path.join(cliDir, 'lib/util'));
util.download = async () => fs.readFileSync(schemaFile, 'utf8');
const { ImportKubernetesApi } = require(path.join(cliDir, 'lib/import/k8s'));
const { Language } = require(path.join(cliDir, 'lib/import/base'));

new ImportKubernetesApi({ apiVersion: K8S_VERSION })
  .import({ outdir: path.resolve(__dirname, '../imports'), targetLanguage: Language.TYPESCRIPT })
  .then(() => console.log(`imports/k8s.ts generated from ${schemaFile}`))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
