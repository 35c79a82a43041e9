/** A JSON call to lnd's REST gateway (test side: bob's invoices, alice's payment records). */
import { request } from 'node:https';

export function restCall<T>(
  baseUrl: string,
  tlsCertPem: string,
  macaroonHex: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  return new Promise((res, rej) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const r = request(
      new URL(path, baseUrl),
      {
        method,
        ca: tlsCertPem,
        headers: {
          'grpc-metadata-macaroon': macaroonHex,
          ...(data ? { 'content-type': 'application/json' } : {}),
        },
      },
      (resp) => {
        let text = '';
        resp.setEncoding('utf8');
        resp.on('data', (c: string) => (text += c));
        resp.on('end', () => {
          if ((resp.statusCode ?? 0) >= 300) rej(new Error(`lnd ${method} ${path}: ${resp.statusCode} ${text}`));
          else res(JSON.parse(text) as T);
        });
      },
    );
    r.on('error', rej);
    if (data) r.write(data);
    r.end();
  });
}
