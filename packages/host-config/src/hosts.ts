import { posix, win32 } from 'node:path';

/**
 * The agent hosts whose MCP configuration `briefcase client connect` edits: where each keeps it,
 * per operating system and scope, and how it spells a stdio server. Pure: no file system access,
 * so every platform's paths are testable on any platform.
 */
export const HOST_IDS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf'] as const;
export type HostId = (typeof HOST_IDS)[number];

/** `user`: the person's own configuration, every project. `project`: a file in one project directory. */
export const SCOPES = ['user', 'project'] as const;
export type Scope = (typeof SCOPES)[number];

export function isHostId(value: string): value is HostId {
  return (HOST_IDS as readonly string[]).includes(value);
}

/** What a path depends on, read once from the process (hostEnv) or given by a test. */
export interface HostEnv {
  platform: NodeJS.Platform;
  home: string;
  /** Windows %APPDATA% (default <home>\AppData\Roaming). */
  appData?: string | undefined;
  /** $XDG_CONFIG_HOME on Linux and the BSDs (default <home>/.config; a relative value is ignored). */
  xdgConfigHome?: string | undefined;
  /** $CLAUDE_CONFIG_DIR: Claude Code keeps .claude.json there instead of the home directory. */
  claudeConfigDir?: string | undefined;
}

/** A stdio MCP server as the Briefcase writes it (the host adds its own spelling, e.g. `type`). */
export interface ServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export interface Host {
  id: HostId;
  name: string;
  /** The object that maps server names to servers. */
  container: 'mcpServers' | 'servers';
  /** The host reads comments and trailing commas (JSONC); else the file must be strict JSON. */
  jsonc: boolean;
  scopes: readonly Scope[];
  /** The public documentation the paths and format come from. */
  docs: string;
  configPath(scope: Scope, env: HostEnv, projectDir: string): string;
  /** A directory (or file) that exists once the host has run for this user: "installed". */
  installMarker(env: HostEnv): string;
  /** The entry in this host's format. */
  entry(base: ServerEntry): Record<string, unknown>;
}

const pathFor = (env: HostEnv) => (env.platform === 'win32' ? win32 : posix);

/** Where Electron apps and VS Code keep per-user data: %APPDATA%, ~/Library/Application Support, XDG. */
function appDataDir(env: HostEnv): string {
  const p = pathFor(env);
  if (env.platform === 'win32') return env.appData || p.join(env.home, 'AppData', 'Roaming');
  if (env.platform === 'darwin') return p.join(env.home, 'Library', 'Application Support');
  return env.xdgConfigHome && p.isAbsolute(env.xdgConfigHome) ? env.xdgConfigHome : p.join(env.home, '.config');
}

function unsupported(host: string, scope: Scope): never {
  throw new Error(`${host} has no ${scope} scope`);
}

const plain = (base: ServerEntry): Record<string, unknown> => ({ ...base });

export const HOSTS: Record<HostId, Host> = {
  // https://modelcontextprotocol.io/docs/develop/connect-local-servers (Settings → Developer → Edit
  // Config): macOS ~/Library/Application Support/Claude/claude_desktop_config.json, Windows
  // %APPDATA%\Claude\claude_desktop_config.json, top-level `mcpServers`. Anthropic ships no Linux
  // build; the community builds are Electron apps and use the same name under $XDG_CONFIG_HOME.
  'claude-desktop': {
    id: 'claude-desktop',
    name: 'Claude Desktop',
    container: 'mcpServers',
    jsonc: false,
    scopes: ['user'],
    docs: 'https://modelcontextprotocol.io/docs/develop/connect-local-servers',
    configPath(scope, env) {
      if (scope !== 'user') unsupported('Claude Desktop', scope);
      return pathFor(env).join(appDataDir(env), 'Claude', 'claude_desktop_config.json');
    },
    installMarker: (env) => pathFor(env).join(appDataDir(env), 'Claude'),
    entry: plain,
  },
  // https://code.claude.com/docs/en/mcp ("MCP installation scopes"): user scope is the top-level
  // `mcpServers` of ~/.claude.json (in $CLAUDE_CONFIG_DIR when set), project scope is `.mcp.json`
  // at the project root, same shape. (Local scope, projects["<dir>"].mcpServers inside
  // ~/.claude.json, is left to `claude mcp add`.)
  'claude-code': {
    id: 'claude-code',
    name: 'Claude Code',
    container: 'mcpServers',
    jsonc: false,
    scopes: ['user', 'project'],
    docs: 'https://code.claude.com/docs/en/mcp',
    configPath(scope, env, projectDir) {
      const p = pathFor(env);
      if (scope === 'project') return p.join(projectDir, '.mcp.json');
      return p.join(env.claudeConfigDir || env.home, '.claude.json');
    },
    installMarker: (env) => pathFor(env).join(env.claudeConfigDir || env.home, '.claude.json'),
    entry: (base) => ({ type: 'stdio', ...base }),
  },
  // https://cursor.com/docs/mcp ("Configuration locations"): ~/.cursor/mcp.json for every project
  // (%USERPROFILE%\.cursor\mcp.json on Windows), .cursor/mcp.json in a project; `mcpServers`.
  // Cursor is a VS Code fork and edits the file as JSONC.
  cursor: {
    id: 'cursor',
    name: 'Cursor',
    container: 'mcpServers',
    jsonc: true,
    scopes: ['user', 'project'],
    docs: 'https://cursor.com/docs/mcp',
    configPath(scope, env, projectDir) {
      const p = pathFor(env);
      return scope === 'project' ? p.join(projectDir, '.cursor', 'mcp.json') : p.join(env.home, '.cursor', 'mcp.json');
    },
    installMarker: (env) => pathFor(env).join(env.home, '.cursor'),
    entry: plain,
  },
  // https://code.visualstudio.com/docs/agents/reference/mcp-configuration: `mcp.json` in the user
  // profile or `.vscode/mcp.json` in a workspace, top-level `servers`, stdio servers need
  // "type": "stdio"; the file is JSONC. The default profile's folder is %APPDATA%\Code\User,
  // ~/Library/Application Support/Code/User or ~/.config/Code/User
  // (https://code.visualstudio.com/docs/configure/settings#_settings-file-locations).
  vscode: {
    id: 'vscode',
    name: 'VS Code',
    container: 'servers',
    jsonc: true,
    scopes: ['user', 'project'],
    docs: 'https://code.visualstudio.com/docs/agents/reference/mcp-configuration',
    configPath(scope, env, projectDir) {
      const p = pathFor(env);
      return scope === 'project'
        ? p.join(projectDir, '.vscode', 'mcp.json')
        : p.join(appDataDir(env), 'Code', 'User', 'mcp.json');
    },
    installMarker: (env) => pathFor(env).join(appDataDir(env), 'Code', 'User'),
    entry: (base) => ({ type: 'stdio', ...base }),
  },
  // https://docs.windsurf.com/windsurf/cascade/mcp ("mcp_config.json"): ~/.codeium/windsurf/
  // mcp_config.json (%USERPROFILE%\.codeium\windsurf on Windows), the Claude Desktop schema.
  windsurf: {
    id: 'windsurf',
    name: 'Windsurf',
    container: 'mcpServers',
    jsonc: false,
    scopes: ['user'],
    docs: 'https://docs.windsurf.com/windsurf/cascade/mcp',
    configPath(scope, env) {
      if (scope !== 'user') unsupported('Windsurf', scope);
      return pathFor(env).join(env.home, '.codeium', 'windsurf', 'mcp_config.json');
    },
    installMarker: (env) => pathFor(env).join(env.home, '.codeium', 'windsurf'),
    entry: plain,
  },
};

/** The paths' inputs from this process's environment. */
export function hostEnv(home: string, env: NodeJS.ProcessEnv = process.env): HostEnv {
  return {
    platform: process.platform,
    home,
    appData: env.APPDATA,
    xdgConfigHome: env.XDG_CONFIG_HOME,
    claudeConfigDir: env.CLAUDE_CONFIG_DIR,
  };
}
