/**
 * The tool's own code threw: a tool error result, not a daemon failure. Its own file so that the
 * daemon's code-tool wiring does not import the QuickJS engine on the main thread (the engine
 * runs in the pool's worker threads; issue 13).
 */
export class ToolCodeError extends Error {
  override readonly name = 'ToolCodeError';
}
