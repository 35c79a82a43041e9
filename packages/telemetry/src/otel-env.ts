/**
 * Whether the standard OpenTelemetry environment variables ask for export
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
 * Off unless an OTLP endpoint or a traces/metrics exporter other than "none" is named;
 * OTEL_SDK_DISABLED=true wins over everything.
 */
export function otelRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const named = (v: string | undefined) =>
    v !== undefined &&
    v
      .split(',')
      .map((s) => s.trim())
      .some((s) => s !== '' && s !== 'none');
  return (
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) ||
    Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()) ||
    Boolean(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim()) ||
    named(env.OTEL_TRACES_EXPORTER) ||
    named(env.OTEL_METRICS_EXPORTER)
  );
}
