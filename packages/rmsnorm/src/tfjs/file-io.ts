// `file://` save/load for tfjs in Node without tfjs-node: a small IOHandler on node:fs (imported lazily, so the
// plug-in still bundles for browsers) and the routers that make model.save('file://dir') / loadLayersModel work.
import * as tf from '@tensorflow/tfjs';

type ModelArtifacts = tf.io.ModelArtifacts;
const PREFIX = 'file://';

function toBuffer(data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data);
}

/**
 * An IOHandler writing `dir/model.json` + `dir/weights.bin` (save) or reading a model.json and the weight files its
 * manifest names (load). `path` is a directory for saving and a model.json path (or its directory) for loading.
 *
 * @example
 * await model.save(fileSystem('/tmp/my-model'));
 * const again = await tf.loadLayersModel(fileSystem('/tmp/my-model/model.json'));
 */
export function fileSystem(path: string): tf.io.IOHandler {
  return {
    async save(artifacts: ModelArtifacts): Promise<tf.io.SaveResult> {
      const fs = await import('node:fs/promises');
      const nodePath = await import('node:path');
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new TypeError('fileSystem: saving a binary model topology is not supported');
      }
      await fs.mkdir(path, { recursive: true });
      const weights = toBuffer(artifacts.weightData as ArrayBuffer | ArrayBuffer[] | undefined);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await fs.writeFile(nodePath.join(path, 'weights.bin'), weights);
      await fs.writeFile(nodePath.join(path, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<ModelArtifacts> {
      const fs = await import('node:fs/promises');
      const nodePath = await import('node:path');
      const jsonPath = (await fs.stat(path)).isDirectory() ? nodePath.join(path, 'model.json') : path;
      const modelJson = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
      const dir = nodePath.dirname(jsonPath);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const parts: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const buf = await fs.readFile(nodePath.join(dir, p));
            parts.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
          }
        }
        const specs = manifest.flatMap((group) => group.weights);
        return [specs, tf.io.CompositeArrayBuffer.join(parts)];
      });
    },
  };
}

let registered = false;

/**
 * Route 'file://…' URLs to fileSystem() for tf.io's save and load (what tfjs-node does, without its native install).
 * Idempotent. Call once before model.save('file://dir') or tf.loadLayersModel('file://dir/model.json').
 *
 * @example
 * registerFileRouters();
 * await model.save('file:///tmp/m');
 * const m2 = await tf.loadLayersModel('file:///tmp/m/model.json');
 */
export function registerFileRouters(): void {
  if (registered) return;
  registered = true;
  const route = (url: string | string[]) => {
    const u = Array.isArray(url) ? url[0] : url;
    return typeof u === 'string' && u.startsWith(PREFIX) ? fileSystem(u.slice(PREFIX.length)) : null;
  };
  tf.io.registerSaveRouter(route as never);
  tf.io.registerLoadRouter(route as never);
}
