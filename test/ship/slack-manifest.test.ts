import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import type { AppsManifestCreateArguments } from '@slack/web-api';
import { repoRoot } from './helm.js';

type Manifest = AppsManifestCreateArguments['manifest'];

/**
 * The bot scope each Web API method needs (docs.slack.dev/reference/methods). A method the
 * code calls that is missing here fails the test: look its scope up and add it.
 */
const METHOD_SCOPES: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.delete': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  // uploadV2 is WebClient's wrapper over these two; both need files:write.
  'files.uploadV2': ['files:write'],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
  'conversations.join': ['channels:join'],
  'conversations.info': ['channels:read', 'groups:read'],
  'reactions.add': ['reactions:write'],
  'users.info': ['users:read'],
  'auth.test': [],
  'views.open': [],
  'views.update': [],
  'views.publish': [],
};

/** Web API families; `x.family.method(` in src is a call through a WebClient. */
const FAMILIES =
  'chat|files|conversations|reactions|users|views|auth|pins|bookmarks|usergroups|team';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const sources = sourceFiles(join(repoRoot, 'src')).map((path) => ({
  path: path.slice(repoRoot.length + 1),
  text: readFileSync(path, 'utf8'),
}));
const allText = sources.map((source) => source.text).join('\n');

/** The value of `const NAME = '...'` anywhere in src, for registrations made through a constant. */
function constant(name: string): string | undefined {
  return new RegExp(`\\b${name}\\s*(?::\\s*string)?\\s*=\\s*'([^']+)'`).exec(allText)?.[1];
}

/** Arguments of `.command(...)` in src: slash commands the Bolt app registers. */
function registeredCommands(): string[] {
  return [...allText.matchAll(/\.command(?:<[^>]*>)?\(\s*(?:'([^']+)'|([A-Za-z_$][\w$.]*))/g)].map(
    (match) => match[1] ?? constant(match[2]!.split('.').at(-1)!) ?? `<unresolved ${match[2]}>`,
  );
}

function registersActions(): boolean {
  return /\.action(<[^>]*>)?\(/.test(allText);
}

/** Web API methods called in src, with where each was seen. */
function calledMethods(): Map<string, string[]> {
  const calls = new Map<string, string[]>();
  const pattern = new RegExp(`\\.(${FAMILIES})\\.([a-zA-Z0-9]+)\\(`, 'g');
  for (const source of sources) {
    for (const match of source.text.matchAll(pattern)) {
      const method = `${match[1]}.${match[2]}`;
      calls.set(method, [...(calls.get(method) ?? []), source.path]);
    }
    for (const match of source.text.matchAll(/apiCall\(\s*'([\w.]+)'/g)) {
      calls.set(match[1]!, [...(calls.get(match[1]!) ?? []), source.path]);
    }
  }
  return calls;
}

/** The scopes the code needs: from its calls, its commands, and posting in unjoined channels. */
function requiredScopes(): string[] {
  const scopes = new Set<string>();
  for (const [method, where] of calledMethods()) {
    const needed = METHOD_SCOPES[method];
    if (needed === undefined) {
      throw new Error(`${where.join(', ')} calls ${method}: add its scope to METHOD_SCOPES`);
    }
    needed.forEach((scope) => scopes.add(scope));
  }
  if (registeredCommands().length > 0) scopes.add('commands');
  // Drills are posted in the channel where /oomtest was typed, which the app need not have
  // joined (design.md); without chat:write.public that post fails with not_in_channel.
  if (scopes.has('chat:write')) scopes.add('chat:write.public');
  return [...scopes].sort();
}

function manifest(file: string): Manifest {
  return load(readFileSync(join(repoRoot, 'slack', file), 'utf8')) as Manifest;
}

const MANIFESTS = ['manifest.http.yaml', 'manifest.socket.yaml'];

describe('what the code registers and calls', () => {
  it('registers /oomtest and the Stop button', () => {
    expect(registeredCommands()).toEqual(['/oomtest']);
    expect(registersActions()).toBe(true);
  });

  it('maps every Web API method it calls to a scope', () => {
    expect(calledMethods().size).toBeGreaterThan(0);
    expect(() => requiredScopes()).not.toThrow();
  });
});

describe.each(MANIFESTS)('slack/%s', (file) => {
  const app = manifest(file);

  it('stays within the limits Slack enforces on import', () => {
    const info = app.display_information;

    expect(info.name.length).toBeLessThanOrEqual(35);
    expect((info.description ?? '').length).toBeLessThanOrEqual(140);
    expect((info.long_description ?? '').length).toBeGreaterThanOrEqual(175);
    expect((info.long_description ?? '').length).toBeLessThanOrEqual(4_000);
    expect(app.features?.bot_user?.display_name).toMatch(/^[a-z0-9._-]{1,80}$/);
    for (const command of app.features?.slash_commands ?? []) {
      expect(command.command.length).toBeLessThanOrEqual(32);
      expect(command.description.length).toBeLessThanOrEqual(2_000);
      expect((command.usage_hint ?? '').length).toBeLessThanOrEqual(1_000);
    }
  });

  it('declares exactly the slash commands the code registers, with a description and usage hint', () => {
    const commands = app.features?.slash_commands ?? [];

    expect(commands.map((command) => command.command)).toEqual(registeredCommands());
    for (const command of commands) {
      expect(command.description).not.toBe('');
      expect(command.usage_hint).toContain('<pod-name> <memory-limit>');
    }
  });

  it('asks for exactly the bot scopes the code needs, and no user scopes', () => {
    expect([...(app.oauth_config?.scopes?.bot ?? [])].sort()).toEqual(requiredScopes());
    expect(app.oauth_config?.scopes?.user).toBeUndefined();
  });

  it('turns on interactivity for the Stop button', () => {
    expect(app.settings?.interactivity?.is_enabled).toBe(registersActions());
  });
});

describe('the two variants', () => {
  const http = manifest('manifest.http.yaml');
  const socket = manifest('manifest.socket.yaml');

  it('sends HTTP-mode commands and button clicks to /slack/events over https', () => {
    const commandUrl = http.features?.slash_commands?.[0]?.url;

    expect(http.settings?.socket_mode_enabled).toBe(false);
    expect(commandUrl).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    expect(http.settings?.interactivity?.request_url).toBe(commandUrl);
  });

  it('gives Socket Mode no URLs at all', () => {
    expect(socket.settings?.socket_mode_enabled).toBe(true);
    expect(socket.features?.slash_commands?.[0]?.url).toBeUndefined();
    expect(socket.settings?.interactivity?.request_url).toBeUndefined();
  });

  it('differ only in the settings that select the mode', () => {
    const strip = (app: Manifest) => {
      const copy = JSON.parse(JSON.stringify(app)) as Manifest;
      delete copy.features!.slash_commands![0]!.url;
      delete copy.settings!.interactivity!.request_url;
      delete copy.settings!.socket_mode_enabled;
      return copy;
    };

    expect(strip(socket)).toEqual(strip(http));
  });
});
