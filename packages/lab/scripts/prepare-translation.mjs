#!/usr/bin/env node
// One-off preparation (NOT run at install): export the KJV and Reina-Valera 1909 Bibles from Debian's SWORD modules,
// join them on the verse reference and write data/translation/kjv-rv1909.tsv.gz (ref \t english \t spanish).
// Needs: apt-get install -y sword-text-kjv sword-text-sparv diatheke. Usage: node scripts/prepare-translation.mjs

import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'data', 'translation', 'kjv-rv1909.tsv.gz');
const MODULES = { en: 'engKJV2006eb', es: 'spaRV1909eb' };
const RANGE = 'Gen 1:1-Rev 22:21';
// Pairs longer than this (words per side) are dropped: the miniature RNNSearch trains on short sentences.
const MAX_WORDS = 30;
// A verse line looks like "   Revelation of John 22:20: text"; other lines are section headings the KJV export
// repeats (e.g. "David’s Psalm of praise.") or blank, and are skipped.
const VERSE = /^\s*(\S.*? \d+:\d+): (.*)$/;

function exportModule(name) {
  const text = execFileSync('diatheke', ['-b', name, '-f', 'plain', '-k', RANGE], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const verses = new Map();
  for (const line of text.split('\n')) {
    const m = VERSE.exec(line);
    if (m !== null) verses.set(m[1], clean(m[2]));
  }
  return verses;
}

function clean(s) {
  return s
    .normalize('NFC')
    .replace(/<[GH]\d+>/g, '') // Strong's numbers leak into the Spanish export
    .replace(/[¶\\]/g, '')
    .replace(/[’‘]/g, "'")
    .replace(/—/g, ' - ')
    .replace(/[\t\r\n]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const words = (s) => s.split(' ').length;
// The Spanish module puts a psalm's superscription ("Al Músico principal: … Salmo de David.") inside verse 1, the KJV
// export keeps it apart as a heading: drop it. RV1909 capitalises the chapter's first word ("¡OH Jehová"), which
// marks where the verse proper starts.
const SUPERSCRIPTION = /^(.+?[.:;]) ([¿¡(«"]?\p{Lu}{2,}.*)$/u;
// Versification differs in a few places (e.g. Numbers 13); pairs whose word counts differ by more than this
// factor are almost always misaligned and are dropped.
const MAX_RATIO = 2.5;
const en = exportModule(MODULES.en);
const es = exportModule(MODULES.es);
const rows = [];
let dropped = 0;
let misaligned = 0;
for (const [ref, e] of en) {
  let s = es.get(ref);
  if (s === undefined || e === '' || s === '') continue;
  if (/^Psalms \d+:1$/.test(ref)) s = s.replace(SUPERSCRIPTION, '$2');
  if (words(e) > MAX_WORDS || words(s) > MAX_WORDS) {
    dropped++;
    continue;
  }
  const ratio = words(s) / words(e);
  if (ratio > MAX_RATIO || ratio < 1 / MAX_RATIO) {
    misaligned++;
    continue;
  }
  rows.push(`${ref}\t${e}\t${s}`);
}
mkdirSync(dirname(OUT), { recursive: true });
const gz = gzipSync(Buffer.from(rows.join('\n') + '\n', 'utf8'), { level: 9 });
writeFileSync(OUT, gz);
console.log(
  `en verses ${en.size}, es verses ${es.size}, pairs kept ${rows.length}, dropped (> ${MAX_WORDS} words) ${dropped}, ` +
    `dropped (length ratio > ${MAX_RATIO}) ${misaligned}, ` +
    `${OUT} ${gz.length} bytes`,
);
