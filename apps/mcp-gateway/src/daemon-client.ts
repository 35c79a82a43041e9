import { Agent, request } from 'node:http';
import {
  API_PATHS,
  BriefcaseError,
  ToolCallResponse,
  ToolListResponse,
  type ApprovalStatus,
} from '@briefcase/protocol';

/**
 * The gateway's only line to the daemon: the agent surface of the daemon API over its Unix
 * socket, with the agent token. Connections are kept alive; every response is schema-checked.
 */
export class DaemonClient {
  readonly #socket: string;
  readonly #token: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(socket: string, token: string) {
    this.#socket = socket;
    this.#token = token;
  }

  async listTools(): Promise<ToolListResponse> {
    return ToolListResponse.parse(await this.#request('GET', API_PATHS.agentTools));
  }

  async callTool(tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolCallResponse> {
    return ToolCallResponse.parse(await this.#request('POST', API_PATHS.agentCall, { tool, args }, signal));
  }

  async approvalStatus(id: string, waitMs: number, signal?: AbortSignal): Promise<{ status: ApprovalStatus }> {
    const path = `${API_PATHS.agentApproval}${encodeURIComponent(id)}?wait_ms=${Math.max(0, Math.floor(waitMs))}`;
    return (await this.#request('GET', path, undefined, signal)) as { status: ApprovalStatus };
  }

  close(): void {
    this.#agent.destroy();
  }

  #request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.#socket,
          path,
          method,
          agent: this.#agent,
          ...(signal ? { signal } : {}),
          headers: {
            authorization: `Bearer ${this.#token}`,
            ...(payload !== undefined
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              reject(new BriefcaseError('unavailable', 'the Briefcase daemon sent an unreadable answer'));
              return;
            }
            if ((res.statusCode ?? 500) >= 400) {
              const e = (json as { error?: { code?: string; message?: string } }).error;
              reject(new BriefcaseError(mapCode(e?.code), e?.message ?? `daemon answered ${res.statusCode}`));
              return;
            }
            resolve(json);
          });
          res.on('error', reject);
        },
      );
      req.on('error', (e) => {
        if ((e as Error).name === 'AbortError') reject(e);
        else
          reject(new BriefcaseError('unavailable', 'the Briefcase daemon is not running or not reachable', e.message));
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

function mapCode(code: string | undefined): 'invalid_args' | 'unavailable' | 'internal' {
  if (code === 'bad_request' || code === 'payload_too_large') return 'invalid_args';
  if (code === 'unavailable' || code === 'vault_locked') return 'unavailable';
  return 'internal';
}
