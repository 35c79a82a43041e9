export { Daemon, VERSION, type DaemonOptions, type Services } from './daemon.ts';
export { initDataDir, isInitialised, softwareKeysWarning, type InitOptions, type InitReport } from './init.ts';
export { daemonAnswers, dataPaths, resolveHome, type DataPaths } from './paths.ts';
export { AgentSocketConfig, Config, formatIssues, loadConfig, parseConfig, findSecretValues } from './config.ts';
export { loadConnector, loadRegistry } from './tools/registry.ts';
export { isLoopback } from './api/server.ts';
export { startDemoApi, demoConnectorManifest, DEMO_API_SECRET } from './demo/demo-api.ts';
