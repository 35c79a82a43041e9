export { EXTENSION_ID, EXTENSION_ORIGIN, HOST_NAME, extensionIdFromKey } from './extension-id.ts';
export {
  BROWSERS,
  EXTENSION_DIR,
  InstallError,
  hostManifest,
  hostManifestDir,
  installNativeHost,
  launcherScript,
  uninstallNativeHost,
  type Browser,
  type InstallReport,
} from './install.ts';
