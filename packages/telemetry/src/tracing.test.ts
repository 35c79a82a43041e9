import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';
import { describe, it } from 'node:test';
import { otelRequested } from './otel-env.ts';
import { NOOP_TELEMETRY, startTelemetry } from './tracing.ts';

/** Every module specifier resolved from here on (the hook sees dynamic imports too). */
const resolved: string[] = [];
registerHooks({
  resolve(specifier, context, next) {
    resolved.push(specifier);
    return next(specifier, context);
  },
});

describe('telemetry off costs nothing (issue 11, issue 13: the gateway stays thin)', () => {
  it('is off unless an OTEL_* variable asks for export, and OTEL_SDK_DISABLED wins', () => {
    assert.equal(otelRequested({}), false);
    assert.equal(otelRequested({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), false);
    assert.equal(otelRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' }), false);
    assert.equal(otelRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), true);
    assert.equal(otelRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }), true);
    assert.equal(otelRequested({ OTEL_TRACES_EXPORTER: 'otlp' }), true);
    assert.equal(otelRequested({ OTEL_METRICS_EXPORTER: 'none,otlp' }), true);
    assert.equal(
      otelRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }),
      false,
    );
  });

  it('does not import the OpenTelemetry SDK when off, and does when asked (the hook sees it)', async () => {
    const off = await startTelemetry('t', {});
    assert.equal(off, NOOP_TELEMETRY);
    const span = off.startCall('daemon', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    span.stage('policy');
    assert.equal(span.outbound('x').traceparent, undefined, 'nothing is propagated when off');
    span.end('ok');
    assert.deepEqual(
      resolved.filter((s) => s.includes('opentelemetry') || s.includes('otel/sdk')),
      [],
      'nothing of OpenTelemetry was resolved',
    );
    // The same hook does see the SDK once export is asked for (the check above can fail).
    // Port 9 (discard) refuses: the export fails, and shutdown must still return.
    const on = await startTelemetry('t', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    try {
      assert.equal(on.enabled, true);
      assert.ok(resolved.some((s) => s.includes('@opentelemetry/sdk-node')));
      const s = on.startCall('daemon', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      const out = s.outbound('HTTP GET', { host: '127.0.0.1', port: 1 });
      assert.match(out.traceparent ?? '', /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      out.end(200);
      s.end('ok');
    } finally {
      await on.shutdown();
    }
  });
});
