// bpe_count.mjs - counts tokens of texts with real BPE tokenizers, for the
// bench's token phase, beside its characters / 4 estimate.
//
// stdin:  {"texts": {"name": "text", ...}}
// stdout: {"claude_legacy": {"name": count, ...}, "o200k_base": {...}}
//
// claude_legacy is Anthropic's published tokenizer (@anthropic-ai/tokenizer,
// the one of Claude 1 and 2; Claude 3 and later use an unpublished one);
// o200k_base is OpenAI's newest published encoding (tiktoken). Both come from
// tests/tools/node_modules (deploy/local/deps.sh installs them, pinned).
import { createRequire } from 'module';
import { fileURLToPath } from 'url';
import path from 'path';
import fs from 'fs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'tools', 'package.json'));
const { countTokens } = require('@anthropic-ai/tokenizer');
const { get_encoding } = require('tiktoken');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const o200k = get_encoding('o200k_base');
const out = { claude_legacy: {}, o200k_base: {} };
for (const [name, text] of Object.entries(input.texts)) {
  out.claude_legacy[name] = countTokens(text);
  out.o200k_base[name] = o200k.encode(text).length;
}
o200k.free();
process.stdout.write(JSON.stringify(out));
