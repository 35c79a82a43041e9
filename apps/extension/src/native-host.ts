import type { Readable, Writable } from 'node:stream';
import { EXTENSION_ORIGIN } from './extension-id.ts';
import { FrameReader, encodeFrame } from './framing.ts';
import { HostError, errorAnswer, parseRequest, type HostAnswer, type ViewerSession } from './messages.ts';

export interface HostOptions {
  /** argv[1] as Chromium passes it: the calling extension's origin, `chrome-extension://<id>/`. */
  origin: string | undefined;
  input: Readable;
  output: Writable;
  /** Where sessions come from (daemon-session.ts in the real host). */
  mintSession: () => Promise<ViewerSession>;
  /** The one origin allowed to call (the Briefcase extension's fixed ID). */
  allowedOrigin?: string;
}

/**
 * The native messaging host: answers {"type":"session"} with a short-lived viewer session and
 * everything else with an error. Resolves with the exit code once the input ends (Chromium closes
 * stdin when the extension's port or one-off message is done) or the stream is unusable.
 *
 * The origin check repeats what the host manifest's allowed_origins already makes Chromium do: if
 * someone registers this host for another extension, it still serves only ours.
 */
export async function runHost(o: HostOptions): Promise<number> {
  const write = (answer: HostAnswer) =>
    new Promise<void>((resolve) => o.output.write(encodeFrame(answer), () => resolve()));
  if (o.origin !== (o.allowedOrigin ?? EXTENSION_ORIGIN)) {
    await write(errorAnswer('forbidden_origin', 'this host serves the Briefcase extension only'));
    return 1;
  }
  const reader = new FrameReader();
  let queue = Promise.resolve();
  let code = 0;
  let stopped = false;

  const answer = async (value: unknown): Promise<HostAnswer> => {
    const request = parseRequest(value);
    if (!request.ok) return request.answer;
    try {
      return { type: 'session', ...(await o.mintSession()) };
    } catch (e) {
      if (e instanceof HostError) return errorAnswer(e.code, e.message);
      return errorAnswer('daemon_error', 'the session could not be made');
    }
  };

  return new Promise<number>((resolve) => {
    const finish = () => {
      if (stopped) return;
      stopped = true;
      o.input.off('data', onData);
      o.input.off('end', onEnd);
      void queue.then(() => resolve(code));
    };
    const handle = (events: ReturnType<FrameReader['push']>) => {
      for (const event of events) {
        if (event.kind === 'message') {
          queue = queue.then(async () => write(await answer(event.value)));
        } else {
          const c = event.error.code === 'too_large' ? 'too_large' : 'bad_message';
          queue = queue.then(() => write(errorAnswer(c, event.error.message)));
          code = 1;
          finish();
          return;
        }
      }
    };
    const onData = (chunk: Buffer) => handle(reader.push(chunk));
    const onEnd = () => {
      handle(reader.end());
      finish();
    };
    o.input.on('data', onData);
    o.input.on('end', onEnd);
    o.input.on('error', onEnd);
  });
}
