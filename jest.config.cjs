// Jest runs in CommonJS mode: @swc/jest compiles our TypeScript and the ESM-only
// packages of Nest 12 (and their ESM-only dependencies) to CommonJS.
const esmOnly = [
  '@nestjs',
  'file-type',
  'strtok3',
  'token-types',
  '@tokenizer',
  'uint8array-extras',
  '@borewit',
  'nestjs-pino',
];

const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const { readFileSync } = require('node:fs');
const { join } = require('node:path');
/** The installed version of a package (tests read it as the global PEERS). */
const versionOf = (dir) =>
  JSON.parse(readFileSync(join(__dirname, 'node_modules', dir, 'package.json'), 'utf8')).version;

const common = {
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testEnvironment: 'node',
  globals: { PEERS: { bullmq: versionOf('bullmq'), typeorm: versionOf('typeorm') } },
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
    {
      // Load, soak, faults, hostile input, scale-out: bounded in `npm test`,
      // longer with RELIABILITY=full (`npm run test:reliability`).
      ...common,
      displayName: 'reliability',
      testMatch: ['<rootDir>/test/reliability/**/*.rel-spec.ts'],
    },
    {
      // The lowest versions the peer ranges claim, installed under npm aliases
      // (devDependencies bullmq5, typeorm03): the BullMQ, TypeORM and health
      // suites again, with every import of bullmq / typeorm resolved to them.
      // Not the Redis-failure suite: on BullMQ 5.0 a FlowProducer's close()
      // can wait forever for a Redis that is gone (its connection's quit()
      // stays queued), so shutdown with Redis down is bounded on BullMQ 6 only.
      // Run apart (`npm run test:lowest-peers`, with --forceExit): after this
      // project's BullMQ 5.0 suites, something of BullMQ 5's keeps the process
      // alive (each describe alone exits; together they do not; seen, not
      // yet understood).
      ...common,
      displayName: 'lowest-peers',
      testMatch: [
        '<rootDir>/test/bullmq.e2e-spec.ts',
        '<rootDir>/test/typeorm.e2e-spec.ts',
        '<rootDir>/test/health.e2e-spec.ts',
      ],
      globals: { PEERS: { bullmq: versionOf('bullmq5'), typeorm: versionOf('typeorm03') } },
      moduleNameMapper: {
        ...common.moduleNameMapper,
        '^bullmq$': 'bullmq5',
        '^typeorm$': 'typeorm03',
        '^typeorm/(.*)$': 'typeorm03/$1',
      },
    },
    {
      // The oldest BullMQ BullMqTelemetry supports (5.58: the first whose
      // 'process' span names the job): the telemetry and the patches on it.
      ...common,
      displayName: 'lowest-telemetry',
      testMatch: ['<rootDir>/test/bullmq.e2e-spec.ts'],
      globals: { PEERS: { bullmq: versionOf('bullmq558'), typeorm: versionOf('typeorm') } },
      moduleNameMapper: { ...common.moduleNameMapper, '^bullmq$': 'bullmq558' },
    },
  ],
  testTimeout: 30000,
};
