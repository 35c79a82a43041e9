export { DaemonClient } from './daemon-client.ts';
export { createGatewayServer, GATEWAY_NAME, GATEWAY_VERSION, type GatewayOptions } from './server.ts';
export { serveStdio, DEFAULT_MAX_MESSAGE_BYTES } from './stdio.ts';
export { serveHttp, type HttpGatewayOptions } from './http.ts';
export { LineGuard } from './line-guard.ts';
