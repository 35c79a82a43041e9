export { X402Backend, withinAuthorization, type X402BackendOptions } from './backend.ts';
export { checkTransferAuthorization, type TypedDataRequest } from './authorize.ts';
export { localX402Signer, type X402Signer } from './signer.ts';
export { parseX402, type X402Offer } from './parse.ts';
export { formatRef, parseRef, settlementOnChain } from './chain.ts';
export {
  mcpChallenge,
  mcpPaymentMeta,
  mcpPaymentRequired,
  mcpRetryResponse,
  MCP_PAYMENT_META,
  MCP_PAYMENT_RESPONSE_META,
  type McpToolResult,
} from './mcp.ts';
