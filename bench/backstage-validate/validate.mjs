#!/usr/bin/env node
// Reference timing: validate every entity in a catalog directory with the
// validators the Backstage catalog itself applies (@backstage/catalog-model).
//
//   node validate.mjs DIR [--quiet]
//
// Mirrors the Backstage catalog backend's processing of a location's entities:
//   1. entity policies (DefaultEntityPolicies in catalog-backend):
//        DefaultNamespaceEntityPolicy, NoForeignRootFieldsEntityPolicy,
//        FieldFormatEntityPolicy, SchemaValidEntityPolicy
//   2. BuiltinKindsEntityProcessor.validateEntityKind: the kind validators,
//      the first whose check() claims the entity wins; none => unknown kind.
// Prints counts and timings; exit 1 if any entity failed.
const tStart = performance.now();

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  EntityPolicies,
  DefaultNamespaceEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  FieldFormatEntityPolicy,
  SchemaValidEntityPolicy,
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';

const args = process.argv.slice(2);
const quiet = args.includes('--quiet') || args.includes('-q');
const json = args.includes('--json');
const dir = args.find(a => !a.startsWith('-'));
if (!dir) {
  console.error('usage: node validate.mjs DIR [--quiet] [--json]');
  process.exit(2);
}

const policy = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);

const kindValidators = [
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
];

async function findYaml(root) {
  const out = [];
  const walk = async d => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name === '.git' || e.name === 'node_modules') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
    }
  };
  await walk(root);
  return out.sort();
}

// Backstage's PlaceholderProcessor runs before validation and replaces
// `{$text: ./file}`-style placeholders with the referenced content. We do not
// read the files; a placeholder just becomes a string so validation can proceed.
function resolvePlaceholders(v) {
  if (Array.isArray(v)) return v.map(resolvePlaceholders);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0].startsWith('$')) {
      return ['$json', '$yaml'].includes(keys[0]) ? {} : `<${keys[0]} ${v[keys[0]]}>`;
    }
    const out = {};
    for (const k of keys) out[k] = resolvePlaceholders(v[k]);
    return out;
  }
  return v;
}

async function validateEntity(raw) {
  raw = resolvePlaceholders(raw);
  const entity = await policy.enforce(raw);
  if (!entity) throw new Error('rejected by entity policy');
  for (const v of kindValidators) {
    if (await v.check(entity)) return;
  }
  throw new Error(`unsupported kind ${entity.apiVersion}/${entity.kind}`);
}

const tPhase = performance.now();
const files = await findYaml(dir);
let entities = 0;
let skipped = 0;
let errors = 0;
const shown = [];
for (const file of files) {
  const text = await readFile(file, 'utf8');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs]; // EmptyStream for empty files
  for (const doc of list) {
    const rel = path.relative(dir, file);
    if (doc.errors && doc.errors.length) {
      errors++;
      if (shown.length < 20) shown.push(`${rel}: YAML error: ${doc.errors[0].message}`);
      continue;
    }
    const raw = doc.toJS();
    if (!raw || typeof raw !== 'object' || Array.isArray(raw) || !raw.apiVersion || !raw.kind) {
      skipped++;
      continue;
    }
    entities++;
    try {
      await validateEntity(raw);
    } catch (e) {
      errors++;
      if (shown.length < 20) {
        const name = raw.metadata?.name ?? '?';
        shown.push(`${rel}: ${raw.kind}:${name}: ${e.message}`);
      }
    }
  }
}
const tEnd = performance.now();
const phaseMs = tEnd - tPhase;
// performance.now() counts from process start, so this includes Node startup
// and module loading (not process teardown; hyperfine measures that).
const totalMs = tEnd;

if (!quiet) for (const s of shown) console.error(s);
const result = {
  files: files.length,
  entities,
  skippedDocuments: skipped,
  errors,
  parseValidateMs: Math.round(phaseMs * 10) / 10,
  importMs: Math.round((tPhase - tStart) * 10) / 10,
  totalMs: Math.round(totalMs * 10) / 10,
  entitiesPerSecond: Math.round(entities / (phaseMs / 1000)),
};
if (json) {
  console.log(JSON.stringify(result));
} else {
  console.log(
    `files=${result.files} entities=${result.entities} skipped_docs=${result.skippedDocuments} errors=${result.errors}`,
  );
  console.log(
    `parse+validate: ${result.parseValidateMs} ms (${result.entitiesPerSecond} entities/s); ` +
      `total incl. node startup: ${result.totalMs} ms`,
  );
}
process.exit(errors ? 1 : 0);
