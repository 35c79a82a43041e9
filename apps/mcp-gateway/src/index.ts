export { DaemonClient } from './daemon-client.ts';
export { createGatewayServer, GATEWAY_NAME, GATEWAY_VERSION, type GatewayOptions } from './server.ts';
export { gatewayHandlers, type GatewayHandlers } from './handlers.ts';
export { serveStdio, DEFAULT_MAX_MESSAGE_BYTES } from './stdio.ts';
export { StdioMcpSession, PROTOCOL_VERSIONS } from './stdio-server.ts';
export { serveHttp, type HttpGatewayOptions } from './http.ts';
export { LineFramer, LineGuard } from './line-guard.ts';
