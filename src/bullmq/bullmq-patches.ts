import { FlowProducer, Queue, Worker } from 'bullmq';
import type { FlowJob, Job, JobsOptions } from 'bullmq';
import { usesObservedTelemetry } from './telemetry-mark.js';

/**
 * What the patched BullMQ methods call into: the instrumentation of the
 * application that installed them last (one per process in practice).
 */
export interface BullMqHooks {
  /** Before a job is added: returns the options to add it with (trace attached) and its organization. */
  beforeAdd(queue: Queue, name: string, data: unknown, opts: JobsOptions | undefined): PreparedAdd;
  /** After a job was added. */
  afterAdd(queue: Queue, name: string, org: string | undefined): void;
  /** Before a flow node is added (flows bypass Queue.add). */
  beforeFlowNode(node: FlowJob): PreparedAdd;
  afterFlowNode(node: FlowJob, org: string | undefined, prefix: string | undefined): void;
  /** Runs one attempt of a job inside the worker. */
  runJob<T>(worker: Worker, job: Job, attempt: () => Promise<T>): Promise<T>;
  /** A worker started running (for shutdown). */
  workerStarted(worker: Worker): void;
  /**
   * BullMQ methods that were not there to instrument (a BullMQ version that
   * renamed them): told once per installation, so that the loss is logged and
   * counted instead of silent.
   */
  missingTargets(targets: string[]): void;
}

export interface PreparedAdd {
  opts: JobsOptions | undefined;
  org: string | undefined;
}

type AnyFn = (...args: never[]) => unknown;

interface Installed {
  restore: () => void;
  /** `Class.method` names that could not be patched. */
  missing: string[];
}

let hooks: BullMqHooks | undefined;
let installed: Installed | undefined;
const owners: BullMqHooks[] = [];
/** Which application's instrumentation a queue, flow producer or worker belongs to. */
const claimed = new WeakMap<object, BullMqHooks>();

/**
 * Binds a BullMQ object to one application's instrumentation. Unclaimed
 * objects use the application that installed the patches last.
 */
export function claimBullMqObject(obj: object, owner: BullMqHooks): void {
  claimed.set(obj, owner);
}

const hooksFor = (obj: object): BullMqHooks | undefined => {
  // BullMqTelemetry instruments this one already: counting it here too would count twice
  if (usesObservedTelemetry(obj)) return undefined;
  const owner = claimed.get(obj);
  return owner !== undefined && owners.includes(owner) ? owner : hooks;
};

/**
 * Patches BullMQ so that every job added through a Queue or a FlowProducer
 * is counted and carries the current trace, and every job a Worker processes
 * runs instrumented — `@nestjs/bullmq` processors, queue-level processors and
 * plain `new Worker()` alike, including jobs picked up before Nest's
 * lifecycle hooks ran. Installed when the module is instantiated (before any
 * worker starts) and removed when the last application using it shuts down.
 */
export function installBullMqPatches(owner: BullMqHooks): () => void {
  owners.push(owner);
  hooks = owner;
  if (!installed) installed = patch();
  if (installed.missing.length > 0) owner.missingTargets(installed.missing);
  return () => {
    const i = owners.lastIndexOf(owner);
    // (claims of this owner fall back to the remaining owners from now on)
    if (i !== -1) owners.splice(i, 1);
    hooks = owners[owners.length - 1];
    if (owners.length === 0 && installed) {
      installed.restore();
      installed = undefined;
    }
  };
}

function patch(): Installed {
  const restores: (() => void)[] = [];
  const missing: string[] = [];
  const replace = <T extends object>(proto: T, key: string, make: (orig: AnyFn) => AnyFn) => {
    const orig = (proto as Record<string, AnyFn>)[key];
    if (typeof orig !== 'function') {
      missing.push(`${(proto as { constructor: { name: string } }).constructor.name}.${key}`);
      return;
    }
    const had = Object.prototype.hasOwnProperty.call(proto, key);
    (proto as Record<string, AnyFn>)[key] = make(orig);
    restores.push(() => {
      if (had) (proto as Record<string, AnyFn>)[key] = orig;
      else delete (proto as Record<string, AnyFn>)[key];
    });
  };

  replace(
    Queue.prototype,
    'add',
    (orig) =>
      async function add(this: Queue, name: string, data: unknown, opts?: JobsOptions) {
        const h = hooksFor(this);
        if (!h) return orig.call(this, name as never, data as never, opts as never);
        const prepared = h.beforeAdd(this, name, data, opts);
        const job = await orig.call(this, name as never, data as never, prepared.opts as never);
        h.afterAdd(this, name, prepared.org);
        return job;
      },
  );

  replace(
    Queue.prototype,
    'addBulk',
    (orig) =>
      async function addBulk(
        this: Queue,
        jobs: { name: string; data: unknown; opts?: JobsOptions }[],
      ) {
        const h = hooksFor(this);
        if (!h || !Array.isArray(jobs)) return orig.call(this, jobs as never);
        const prepared = jobs.map((j) => ({
          job: j,
          p: h.beforeAdd(this, j.name, j.data, j.opts),
        }));
        const result = await orig.call(
          this,
          prepared.map(({ job, p }) => ({ ...job, opts: p.opts })) as never,
        );
        for (const { job, p } of prepared) h.afterAdd(this, job.name, p.org);
        return result;
      },
  );

  const walkFlow = (
    h: BullMqHooks,
    node: FlowJob,
    after: [FlowJob, string | undefined][],
  ): FlowJob => {
    const p = h.beforeFlowNode(node);
    after.push([node, p.org]);
    return {
      ...node,
      opts: p.opts as FlowJob['opts'],
      children: node.children?.map((c) => walkFlow(h, c, after)),
    };
  };

  // add(flow, opts) and addBulk(flows): both walk every node of every flow.
  const patchFlows = (key: 'add' | 'addBulk', many: boolean) =>
    replace(
      FlowProducer.prototype,
      key,
      (orig) =>
        async function (this: FlowProducer, input: FlowJob | FlowJob[], opts?: unknown) {
          const h = hooksFor(this);
          if (!h || !input || (many && !Array.isArray(input))) {
            return orig.call(this, input as never, opts as never);
          }
          const after: [FlowJob, string | undefined][] = [];
          const walked = many
            ? (input as FlowJob[]).map((f) => walkFlow(h, f, after))
            : walkFlow(h, input as FlowJob, after);
          const result = await orig.call(this, walked as never, opts as never);
          const prefix = (this as unknown as { opts?: { prefix?: string } }).opts?.prefix;
          for (const [node, org] of after) h.afterFlowNode(node, org, prefix);
          return result;
        },
    );
  patchFlows('add', false);
  patchFlows('addBulk', true);

  // Every processed job goes through callProcessJob, whatever created the worker.
  replace(
    Worker.prototype,
    'callProcessJob',
    (orig) =>
      function callProcessJob(this: Worker, job: Job, token: string, signal?: unknown) {
        const h = hooksFor(this);
        if (!h) return orig.call(this, job as never, token as never, signal as never);
        return h.runJob(
          this,
          job,
          () => orig.call(this, job as never, token as never, signal as never) as Promise<unknown>,
        );
      },
  );

  replace(
    Worker.prototype,
    'run',
    (orig) =>
      function run(this: Worker) {
        // A worker belongs to the application being initialised when it starts.
        if (hooks && !claimed.has(this)) claimed.set(this, hooks);
        hooksFor(this)?.workerStarted(this);
        return orig.call(this);
      },
  );

  return { restore: () => restores.reverse().forEach((r) => r()), missing };
}
