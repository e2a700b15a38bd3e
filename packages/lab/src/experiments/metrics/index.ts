// Metrics of the reproduction: corpus BLEU (sacreBLEU semantics) and small statistics.
export * from './bleu.js';
export * from './stats.js';
