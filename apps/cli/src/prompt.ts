import { BriefcaseError } from '@briefcase/protocol/errors';
import { ask, warn } from './output.ts';

/** Read a secret from stdin (piped) or a prompt that does not echo. Never from argv. */
export async function readSecretValue(name: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  return readHidden(`Value for ${name} (input hidden): `);
}

/** Ask at the terminal without echoing; undefined when there is no terminal to ask at. */
export async function askHidden(question: string): Promise<string | undefined> {
  return process.stdin.isTTY ? readHidden(question) : undefined;
}

function readHidden(question: string): Promise<string> {
  // Echo off before the question shows: a fast typist (or a pasted PIN) must not be echoed.
  process.stdin.setRawMode(true);
  process.stdin.resume();
  ask(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && value === '')) {
          finish();
          reject(new BriefcaseError('bad_request', 'cancelled'));
          return;
        }
        if (ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const finish = () => {
      process.stdin.off('data', onData);
      process.stdin.setRawMode(false);
      process.stdin.pause();
      warn('');
    };
    process.stdin.on('data', onData);
  });
}
