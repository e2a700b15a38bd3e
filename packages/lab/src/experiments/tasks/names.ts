// The reproduction's task names in report order, without their model code (no tfjs), for the CLI's --help, argument
// checks and peer checks. tasks/index.ts registers one task per name, in this order (checked by experiments-cli.test.ts).
export const TASK_NAMES = ['char-lm', 'translation', 'transformer', 'cnn', 'cloze'] as const;
