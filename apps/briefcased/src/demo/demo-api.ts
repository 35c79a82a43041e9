import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

/**
 * A tiny local "weather API" that stands in for a real third-party API in the demo: it wants a
 * bearer key (kept in the vault, injected by the daemon at egress) and reports a per-call cost.
 * It binds 127.0.0.1 only. It is demo scaffolding, not part of the enforcement path.
 */
export const DEMO_API_SECRET = 'demo_api_key';
export const DEMO_COST_HEADER = 'x-demo-cost';

const FORECASTS = ['sunny', 'light rain', 'overcast', 'windy', 'snow showers', 'clear skies'];

export function startDemoApi(key: string, port: number): Promise<Server> {
  const expected = Buffer.from(`Bearer ${key}`);
  const server = createServer((req, res) => {
    // `URL.parse`: `new URL` throws on a target such as `http://[`, which ended the daemon.
    const url = URL.parse(req.url ?? '/', 'http://127.0.0.1');
    const presented = Buffer.from(req.headers.authorization ?? '');
    const authorised = presented.length === expected.length && timingSafeEqual(presented, expected);
    if (!authorised) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'missing or wrong API key' }));
      return;
    }
    if (url?.pathname !== '/v1/forecast') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found' }));
      return;
    }
    const city = url.searchParams.get('city') ?? 'nowhere';
    const seed = [...city].reduce((a, c) => a + c.charCodeAt(0), 0);
    const body = {
      city,
      forecast: FORECASTS[seed % FORECASTS.length],
      temp_c: (seed % 30) - 5,
      source: 'briefcase demo API',
    };
    res.writeHead(200, { 'content-type': 'application/json', [DEMO_COST_HEADER]: '1' });
    res.end(JSON.stringify(body));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

export function demoConnectorManifest(port: number): Record<string, unknown> {
  return {
    kind: 'http',
    name: 'demo.weather',
    title: 'Demo weather',
    description:
      'Weather forecast for a city from the local demo API. The API key is kept in the Briefcase vault and never shown to the agent.',
    category: 'read',
    tags: ['demo'],
    input_schema: {
      type: 'object',
      properties: { city: { type: 'string', minLength: 1, maxLength: 100, description: 'City name' } },
      required: ['city'],
      additionalProperties: false,
    },
    request: {
      method: 'GET',
      url: `http://127.0.0.1:${port}/v1/forecast?city={city}`,
      headers: { Authorization: `Bearer {{secret:${DEMO_API_SECRET}}}` },
    },
    // The demo API on loopback, granted by its IP literal and port; the one secret its header names.
    access: { network: [`127.0.0.1:${port}`], secrets: { DEMO_API_KEY: DEMO_API_SECRET } },
    cost: { estimate: 1, currency: 'USD', actual_header: DEMO_COST_HEADER },
    reads: 'a weather forecast from the local demo API',
  };
}
