export {
  HOST_IDS,
  HOSTS,
  SCOPES,
  hostEnv,
  isHostId,
  type Host,
  type HostEnv,
  type HostId,
  type Scope,
  type ServerEntry,
} from './hosts.ts';
export {
  configPath,
  connectHost,
  disconnectHost,
  entryMatches,
  hostStatus,
  type Change,
  type ConnectOptions,
  type HostStatus,
  type Target,
} from './connect.ts';
