// Registry of the reproduction's tasks, in the order they are reported.
import { charLm } from './char-lm.js';
import { cloze } from './cloze.js';
import { cnn } from './cnn.js';
import type { TaskDef } from './task.js';
import { transformer } from './transformer.js';
import { translation } from './translation.js';

export const TASKS: TaskDef[] = [charLm, translation, transformer, cnn, cloze];

export function getTask(name: string): TaskDef {
  const t = TASKS.find((x) => x.name === name);
  if (!t) throw new RangeError(`task: unknown task '${name}' (expected one of: ${TASKS.map((x) => x.name).join(', ')})`);
  return t;
}
