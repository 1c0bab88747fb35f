import { InvalidRequestError, NotAllowedError } from '../../src/errors.js';
import {
  parseCommand,
  parseTokens,
  type DrillRequest,
  type ParsedCommand,
  type RequestDefaults,
} from '../../src/request/index.js';

const GI = 1024 ** 3;
const MI = 1024 ** 2;

const DEFAULTS: RequestDefaults = {
  namespace: 'oomtest',
  image: 'registry.example.com/tools/stress:1.0',
  cpu: '100m',
  kills: 2,
  timeoutSeconds: 300,
  maxMemoryBytes: 4 * GI,
};

const BASE: DrillRequest = {
  pod: 'mem-nginx',
  namespace: 'oomtest',
  memoryLimit: '200Mi',
  memoryLimitBytes: 200 * MI,
  kills: 2,
  method: 'tmpfs',
  fill: '400Mi',
  fillBytes: 400 * MI,
  image: 'registry.example.com/tools/stress:1.0',
  cpu: '100m',
  timeoutSeconds: 300,
  keep: false,
};

function drill(text: string): DrillRequest {
  const parsed = parseCommand(text, DEFAULTS);
  if (parsed.kind !== 'drill') throw new Error(`expected a drill, got ${parsed.kind}`);
  return parsed.request;
}

function refusal(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal, but the command was accepted');
}

describe('parseCommand: accepted drills', () => {
  it.each<[string, Partial<DrillRequest>]>([
    ['mem-nginx 200Mi', {}],
    ['  mem-nginx\t200Mi  ', {}],
    [
      'mem-nginx 1024Mi',
      { memoryLimit: '1Gi', memoryLimitBytes: GI, fill: '2Gi', fillBytes: 2 * GI },
    ],
    [
      'mem-nginx 1.5Gi',
      { memoryLimit: '1536Mi', memoryLimitBytes: 1536 * MI, fill: '3Gi', fillBytes: 3 * GI },
    ],
    ['mem-nginx 500M', { memoryLimit: '500M', memoryLimitBytes: 5e8, fill: '1G', fillBytes: 1e9 }],
    [
      'mem-nginx 4Gi',
      { memoryLimit: '4Gi', memoryLimitBytes: 4 * GI, fill: '8Gi', fillBytes: 8 * GI },
    ],
    [
      'mem-nginx 6Mi',
      { memoryLimit: '6Mi', memoryLimitBytes: 6 * MI, fill: '12Mi', fillBytes: 12 * MI },
    ],
    ['mem-nginx 200Mi --kills 3 --method emptydir', { kills: 3, method: 'emptydir' }],
    ['mem-nginx 200Mi --kills=10 --method=anon', { kills: 10, method: 'anon' }],
    ['mem-nginx 200Mi --method emptyDir', { method: 'emptydir' }],
    ['mem-nginx 200Mi --kills 1', { kills: 1 }],
    ['mem-nginx 200Mi --fill 300Mi', { fill: '300Mi', fillBytes: 300 * MI }],
    ['mem-nginx 200Mi --fill 8Gi', { fill: '8Gi', fillBytes: 8 * GI }],
    ['mem-nginx 200Mi --fill 1G', { fill: '1G', fillBytes: 1e9 }],
    ['mem-nginx 200Mi --cpu 0.5', { cpu: '500m' }],
    ['mem-nginx 200Mi --cpu 2000m', { cpu: '2' }],
    ['mem-nginx 200Mi --cpu 8', { cpu: '8' }],
    ['mem-nginx 200Mi --timeout 90s', { timeoutSeconds: 90 }],
    ['mem-nginx 200Mi --timeout 1h', { timeoutSeconds: 3600 }],
    ['mem-nginx 200Mi --timeout 10s', { timeoutSeconds: 10 }],
    ['mem-nginx 200Mi --timeout=2m30s', { timeoutSeconds: 150 }],
    ['mem-nginx 200Mi --keep', { keep: true }],
    ['mem-nginx 200Mi --namespace game-day', { namespace: 'game-day' }],
    [
      'mem-nginx 200Mi --cluster arn:aws:eks:eu-west-1:1234:cluster/prod',
      { cluster: 'arn:aws:eks:eu-west-1:1234:cluster/prod' },
    ],
    ['mem-nginx 200Mi --cluster alice@kind-kind', { cluster: 'alice@kind-kind' }],
    ['mem-nginx 200Mi --image busybox', { image: 'busybox' }],
    ['mem-nginx 200Mi --image busybox:1.36.1', { image: 'busybox:1.36.1' }],
    [
      'mem-nginx 200Mi --image localhost:5000/team/stress_tool',
      { image: 'localhost:5000/team/stress_tool' },
    ],
    [
      `mem-nginx 200Mi --image ghcr.io/org/img:v1@sha256:${'0a'.repeat(32)}`,
      { image: `ghcr.io/org/img:v1@sha256:${'0a'.repeat(32)}` },
    ],
    ['--kills 3 mem-nginx --keep 200Mi', { kills: 3, keep: true }],
    ['a 200Mi', { pod: 'a' }],
    [`${'a'.repeat(63)} 200Mi`, { pod: 'a'.repeat(63) }],
    ['0day 200Mi', { pod: '0day' }],
  ])('reads %j', (text, expected) => {
    expect(drill(text)).toStrictEqual({ ...BASE, ...expected });
  });

  it('fills in every default when no flag is given', () => {
    const defaults = {
      ...DEFAULTS,
      namespace: 'drills',
      cpu: '250m',
      kills: 4,
      timeoutSeconds: 600,
    };
    const parsed = parseCommand('mem-nginx 200Mi', defaults);

    expect(parsed).toStrictEqual({
      kind: 'drill',
      request: { ...BASE, namespace: 'drills', cpu: '250m', kills: 4, timeoutSeconds: 600 },
    });
  });

  it('produces a request that survives a JSON round trip unchanged', () => {
    for (const text of ['mem-nginx 200Mi', 'mem-nginx 200Mi --keep --cluster prod --fill 1Gi']) {
      const parsed = parseCommand(text, DEFAULTS);

      expect(JSON.parse(JSON.stringify(parsed))).toStrictEqual(parsed);
    }
  });

  it('leaves cluster out entirely when no --cluster is given', () => {
    expect(Object.keys(drill('mem-nginx 200Mi'))).not.toContain('cluster');
  });
});

describe('parseCommand: other commands', () => {
  it.each<[string, ParsedCommand]>([
    ['', { kind: 'help' }],
    ['   ', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['Help', { kind: 'help' }],
    ['help me please', { kind: 'help' }],
    ['mem-nginx 200Mi --help', { kind: 'help' }],
    ['-h', { kind: 'help' }],
    ['status', { kind: 'status' }],
    ['stop mem-nginx', { kind: 'stop', pod: 'mem-nginx', namespace: 'oomtest' }],
    [
      'Stop mem-nginx --namespace=game-day',
      { kind: 'stop', pod: 'mem-nginx', namespace: 'game-day' },
    ],
    [
      'stop mem-nginx --cluster prod',
      { kind: 'stop', pod: 'mem-nginx', namespace: 'oomtest', cluster: 'prod' },
    ],
  ])('reads %j', (text, expected) => {
    expect(parseCommand(text, DEFAULTS)).toStrictEqual(expected);
  });
});

type ErrorClass = typeof InvalidRequestError | typeof NotAllowedError;

describe('parseCommand: refusals name the problem', () => {
  it.each<[string, ErrorClass, RegExp]>([
    // The memory limit.
    ['mem-nginx 200', InvalidRequestError, /memory limit "200" has no unit: write 200Mi/],
    ['mem-nginx 0Mi', InvalidRequestError, /memory limit "0Mi" is zero/],
    ['mem-nginx 0', InvalidRequestError, /memory limit "0" has no unit/],
    ['mem-nginx -200Mi', InvalidRequestError, /memory limit "-200Mi" is negative/],
    [
      'mem-nginx 1e400Mi',
      InvalidRequestError,
      /memory limit "1e400Mi" has both an exponent and a unit/,
    ],
    ['mem-nginx 99999999999999999Gi', InvalidRequestError, /memory limit ".*" is too large/],
    ['mem-nginx 1Mi', InvalidRequestError, /memory limit "1Mi" is below 6Mi/],
    ['mem-nginx 200MB', InvalidRequestError, /memory limit "200MB" has an unknown unit/],
    [
      'mem-nginx 8Gi',
      NotAllowedError,
      /^memory limit "8Gi" is above the 4Gi cap \(OOMTEST_MAX_MEMORY\)$/,
    ],
    ['mem-nginx 4097Mi', NotAllowedError, /above the 4Gi cap/],
    // Flags.
    [
      'mem-nginx 200Mi --kils 3',
      InvalidRequestError,
      /unknown flag "--kils": did you mean --kills\?/,
    ],
    ['mem-nginx 200Mi --namspace x', InvalidRequestError, /did you mean --namespace\?/],
    ['mem-nginx 200Mi --context prod', InvalidRequestError, /did you mean --cluster\?/],
    [
      'mem-nginx 200Mi --frobnicate',
      InvalidRequestError,
      /unknown flag "--frobnicate"; flags are --namespace/,
    ],
    [
      'mem-nginx 200Mi -n game-day',
      InvalidRequestError,
      /unknown flag "-n": flags take two hyphens, e.g. --namespace/,
    ],
    ['mem-nginx 200Mi --kills', InvalidRequestError, /^--kills needs a value$/],
    ['mem-nginx 200Mi --kills=', InvalidRequestError, /^--kills needs a value$/],
    [
      'mem-nginx 200Mi --kills --keep',
      InvalidRequestError,
      /--kills needs a value, but "--keep" follows it/,
    ],
    ['mem-nginx 200Mi --kills 2 --kills 3', InvalidRequestError, /--kills is given twice/],
    ['mem-nginx 200Mi --keep --keep', InvalidRequestError, /--keep is given twice/],
    ['mem-nginx 200Mi --keep=yes', InvalidRequestError, /--keep takes no value \(got "yes"\)/],
    ['mem-nginx 200Mi --keep true', InvalidRequestError, /--keep takes no value \(got "true"\)/],
    ['mem-nginx 200Mi --', InvalidRequestError, /"--" is not a flag/],
    ['mem-nginx 200Mi --kills 0', InvalidRequestError, /--kills "0" is out of range: give 1 to 10/],
    ['mem-nginx 200Mi --kills 11', InvalidRequestError, /--kills "11" is out of range/],
    ['mem-nginx 200Mi --kills -1', InvalidRequestError, /--kills "-1" is out of range/],
    ['mem-nginx 200Mi --kills 2.5', InvalidRequestError, /--kills "2.5" is not a whole number/],
    ['mem-nginx 200Mi --kills two', InvalidRequestError, /--kills "two" is not a number/],
    [
      'mem-nginx 200Mi --method stress',
      InvalidRequestError,
      /--method "stress" is not one of tmpfs, emptydir, anon/,
    ],
    [
      'mem-nginx 200Mi --fill 200Mi',
      InvalidRequestError,
      /--fill "200Mi" must be above the memory limit 200Mi/,
    ],
    ['mem-nginx 200Mi --fill 100Mi', InvalidRequestError, /must be above the memory limit/],
    ['mem-nginx 200Mi --fill 300', InvalidRequestError, /--fill "300" has no unit/],
    ['mem-nginx 200Mi --fill 9Gi', NotAllowedError, /--fill "9Gi" is above 8Gi, twice the 4Gi cap/],
    [
      'mem-nginx 200Mi --image Nginx',
      InvalidRequestError,
      /--image "Nginx" has upper-case letters/,
    ],
    [
      'mem-nginx 200Mi --image busybox:',
      InvalidRequestError,
      /--image "busybox:" has a malformed tag/,
    ],
    ['mem-nginx 200Mi --image busybox@sha256:abc', InvalidRequestError, /has a malformed digest/],
    ['mem-nginx 200Mi --image a@b@c', InvalidRequestError, /has more than one @/],
    ['mem-nginx 200Mi --image /busybox', InvalidRequestError, /is not a valid image reference/],
    ['mem-nginx 200Mi --image busy..box', InvalidRequestError, /is not a valid image reference/],
    ['mem-nginx 200Mi --cpu 0', InvalidRequestError, /--cpu "0" is zero/],
    ['mem-nginx 200Mi --cpu 9', InvalidRequestError, /--cpu "9" is above 8 cores/],
    ['mem-nginx 200Mi --cpu 0.0005', InvalidRequestError, /finer than one millicore/],
    ['mem-nginx 200Mi --timeout 5', InvalidRequestError, /--timeout "5" has no unit/],
    ['mem-nginx 200Mi --timeout soon', InvalidRequestError, /--timeout "soon" is not a duration/],
    [
      'mem-nginx 200Mi --timeout 5s',
      InvalidRequestError,
      /--timeout "5s" is out of range: give 10s to 1h/,
    ],
    ['mem-nginx 200Mi --timeout 61m', InvalidRequestError, /is out of range/],
    ['mem-nginx 200Mi --timeout 0s', InvalidRequestError, /is zero/],
    [
      'mem-nginx 200Mi --namespace Game',
      InvalidRequestError,
      /--namespace "Game" has upper-case letters/,
    ],
    ['mem-nginx 200Mi --namespace a_b', InvalidRequestError, /--namespace "a_b" may contain only/],
    ['mem-nginx 200Mi --cluster a,b', InvalidRequestError, /--cluster "a,b" may contain only/],
    [
      `mem-nginx 200Mi --cluster ${'c'.repeat(254)}`,
      InvalidRequestError,
      /--cluster ".*" is 254 characters long/,
    ],
    // Positional arguments.
    ['--kills 3', InvalidRequestError, /missing the pod name and memory limit/],
    ['mem-nginx', InvalidRequestError, /missing the memory limit after "mem-nginx"/],
    ['mem-nginx --kills 3', InvalidRequestError, /missing the memory limit/],
    ['200Mi', InvalidRequestError, /missing the pod name before "200Mi"/],
    ['200Mi mem-nginx', InvalidRequestError, /the pod name comes first: "mem-nginx 200Mi"/],
    ['mem-nginx 200Mi 3', InvalidRequestError, /unexpected extra argument "3"/],
    [
      'mem nginx 200Mi',
      InvalidRequestError,
      /unexpected extra argument "200Mi": a drill takes a pod name and a memory limit/,
    ],
    [
      `${'a'.repeat(64)} 200Mi`,
      InvalidRequestError,
      /pod name ".*" is 64 characters long; at most 63/,
    ],
    [
      'Mem-Nginx 200Mi',
      InvalidRequestError,
      /pod name "Mem-Nginx" has upper-case letters: .* "mem-nginx"/,
    ],
    [
      'mem_nginx 200Mi',
      InvalidRequestError,
      /pod name "mem_nginx" may contain only .*\(found '_'\)/,
    ],
    ['mem.nginx 200Mi', InvalidRequestError, /may contain only/],
    ['mem-nginx- 200Mi', InvalidRequestError, /must start and end with a letter or digit/],
    ['-mem 200Mi', InvalidRequestError, /unknown flag "-mem"/],
    // Characters.
    ['mem;rm 200Mi', InvalidRequestError, /"mem;rm" contains the shell metacharacter ;/],
    ['mem-nginx $(id)', InvalidRequestError, /"\$\(id\)" contains the shell metacharacter \$/],
    ['mem-nginx `id`', InvalidRequestError, /shell metacharacter `/],
    ['mem-nginx 200Mi | sh', InvalidRequestError, /shell metacharacter \|/],
    [
      'mem-nginx 200Mi &amp;&amp; reboot',
      InvalidRequestError,
      /metacharacter & \(Slack sends it as &amp;\)/,
    ],
    [
      'mem-nginx 200Mi &gt; /etc/passwd',
      InvalidRequestError,
      /metacharacter > \(Slack sends it as &gt;\)/,
    ],
    ['mem-nginx 200Mi &lt;x', InvalidRequestError, /metacharacter < \(Slack sends it as &lt;\)/],
    ['mem-nginx 200Mi --image "busybox"', InvalidRequestError, /metacharacter "/],
    ["mem-nginx 200Mi --namespace 'x'", InvalidRequestError, /metacharacter '/],
    ['mem-nginx 200Mi --image a/*', InvalidRequestError, /metacharacter \*/],
    ['mem-nginx 200Mi ~', InvalidRequestError, /metacharacter ~/],
    ['mem-nginx 200Mi #x', InvalidRequestError, /metacharacter #/],
    ['mem-nginx 200Mi\nreboot', InvalidRequestError, /spans several lines/],
    ['mem-nginx 200Mi\u0007', InvalidRequestError, /control character \(U\+0007\)/],
    [
      'mem-nginx 200Mi \u2014kills 3',
      InvalidRequestError,
      /"\u2014kills" has the dash \u2014 \(em dash, U\+2014\).* type two hyphens, "--kills"/,
    ],
    ['mem-nginx 200Mi \u2013keep', InvalidRequestError, /en dash.*type two hyphens, "--keep"/],
    ['mem-nginx 200Mi -\u2014keep', InvalidRequestError, /type two hyphens, "--keep"/],
    ['m\u00e9m 200Mi', InvalidRequestError, /"m\u00e9m" contains '\u00e9' \(U\+00E9\)/],
    ['mem-nginx\u00a0200Mi', InvalidRequestError, /a no-break space \(U\+00A0\)/],
    [
      'mem-nginx 200Mi --image \u201cbusybox\u201d',
      InvalidRequestError,
      /a curly quote \(U\+201C\)/,
    ],
    ['mem-nginx 200Mi \ud83d\udca5', InvalidRequestError, /\(U\+1F4A5\)/],
    // Length and other commands.
    [
      `mem-nginx 200Mi ${'x'.repeat(1000)}`,
      InvalidRequestError,
      /the command is 1016 characters long; at most 1000/,
    ],
    ['status now', InvalidRequestError, /status takes no arguments \(got "now"\)/],
    ['stop', InvalidRequestError, /stop needs the pod name/],
    ['stop a b', InvalidRequestError, /unexpected extra argument "b"/],
    [
      'stop mem-nginx --kills 3',
      InvalidRequestError,
      /--kills does not apply to stop: it takes only --namespace and --cluster/,
    ],
    ['stop Mem', InvalidRequestError, /pod name "Mem" has upper-case letters/],
  ])('refuses %j', (text, errorClass, message) => {
    const error = refusal(() => parseCommand(text, DEFAULTS));

    expect(error).toBeInstanceOf(errorClass);
    expect(error.message).toMatch(message);
  });

  it('marks a limit above the cap as not allowed, and other problems as invalid', () => {
    expect(refusal(() => parseCommand('mem-nginx 5Gi', DEFAULTS))).toMatchObject({
      code: 'auth.denied',
    });
    expect(refusal(() => parseCommand('mem-nginx 0Mi', DEFAULTS))).toMatchObject({
      code: 'request.invalid',
    });
  });

  it('follows the configured cap', () => {
    const small = { ...DEFAULTS, maxMemoryBytes: 512 * MI };

    expect(refusal(() => parseCommand('mem-nginx 1Gi', small)).message).toContain('512Mi cap');
    expect(refusal(() => parseCommand('mem-nginx 200Mi --fill 2Gi', small)).message).toContain(
      'above 1Gi, twice the 512Mi cap',
    );
  });

  it('reads a Slack link back as the text the user typed', () => {
    const text = 'mem-nginx 200Mi --image <http://ghcr.io/org/img:1|ghcr.io/org/img:1>';

    expect(drill(text).image).toBe('ghcr.io/org/img:1');
  });

  it.each(['<@U024BE7LH>', '<#C024BE7LR|general>', '<!channel>', '<!subteam^S123|@oncall>'])(
    'refuses the Slack mention %s without echoing it',
    (mention) => {
      const error = refusal(() => parseCommand(`mem-nginx 200Mi ${mention}`, DEFAULTS));

      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(error.message).toContain('Slack mention or channel link');
      expect(error.message).not.toContain('<');
    },
  );

  it('refuses a raw < that is not Slack markup as a metacharacter', () => {
    expect(refusal(() => parseCommand('mem-nginx 200Mi <x', DEFAULTS)).message).toMatch(
      /shell metacharacter <:/,
    );
  });

  it('reports bad characters before anything else is interpreted', () => {
    expect(refusal(() => parseCommand('Bad_Pod 0 --what $(id)', DEFAULTS)).message).toContain(
      'shell metacharacter $',
    );
  });
});

describe('parseTokens', () => {
  it('reads argv tokens the same way as text', () => {
    const tokens = ['mem-nginx', '200Mi', '--kills', '3', '--keep'];

    expect(parseTokens(tokens, DEFAULTS)).toStrictEqual(parseCommand(tokens.join(' '), DEFAULTS));
  });

  it('means help when there are no tokens', () => {
    expect(parseTokens([], DEFAULTS)).toStrictEqual({ kind: 'help' });
  });

  it.each<[string[], RegExp]>([
    [['mem nginx', '200Mi'], /argument "mem nginx" contains a space/],
    [['mem-nginx', ''], /empty argument/],
    [['mem-nginx', '200Mi', '--image', 'busybox;reboot'], /shell metacharacter ;/],
    [['mem-nginx', '200Mi', '--image', 'a\nb'], /contains a space|several lines/],
    [['mem-nginx', '200Mi', '\u2014kills', '3'], /type two hyphens/],
    [['mem-nginx', '200Mi', ...Array.from({ length: 200 }, () => '--keep')], /at most 1000/],
  ])('refuses %j', (tokens, message) => {
    const error = refusal(() => parseTokens(tokens, DEFAULTS));

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toMatch(message);
  });
});
