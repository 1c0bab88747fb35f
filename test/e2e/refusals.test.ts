/**
 * Refusals end to end: `oomtest bot` and `oomtest worker` as separate processes with
 * allowlists set, real Redis between them, the fake Slack and Kubernetes APIs outside.
 * Every bad or unauthorised command must get an ephemeral reply naming the problem, and
 * nothing may reach the channel, the queue or the cluster.
 */
import {
  DEFAULT_CHANNEL,
  DEFAULT_USER,
  postSigned,
  slashCommandBody,
} from '../support/slack-signing.js';
import { startOomtest, waitFor, type OomtestProcess } from '../support/processes.js';
import { podsNamed, startBoundaries, waitForSummary, type Boundaries } from './support.js';

const TEST_TIMEOUT_MS = 90_000;

/** Command text (from the allowed user and channel) → what the refusal must say. */
const BAD_INPUTS: Array<[string, RegExp]> = [
  ['mem-nginx 200', /unit/i],
  ['mem-nginx 0Mi', /zero|greater than|at least/i],
  ['mem-nginx -200Mi', /negative|-200Mi/i],
  ['mem-nginx 1e400Mi', /exponent|1e400Mi/i],
  ['mem-nginx 5Gi', /4Gi/],
  ['mem-nginx 200Mi --kils 3', /--kills/],
  ['mem-nginx 200Mi --kills', /--kills/],
  ['mem-nginx 200Mi --kills 11', /10/],
  ['mem-nginx 200Mi --method swap', /tmpfs|emptydir|anon/],
  ['mem-nginx 200Mi --fill 100Mi', /--fill/],
  ['mem;rm 200Mi', /;|character/i],
  ['Mem-Nginx 200Mi', /lower case|mem-nginx/i],
  [`${'a'.repeat(64)} 200Mi`, /63/],
  ['mem-nginx 200Mi —kills 3', /two hyphens/i],
  ['mem-nginx', /limit/i],
];

/** Authorisation refusals: [what, command text, fields] → what the refusal must say. */
const UNAUTHORISED: Array<[string, string, { userId?: string; channelId?: string }, RegExp]> = [
  [
    'a user not in the allowlist',
    'mem-nginx 200Mi',
    { userId: 'U0OUTSIDER' },
    /OOMTEST_ALLOWED_USERS/,
  ],
  [
    'a channel not in the allowlist',
    'mem-nginx 200Mi',
    { channelId: 'C0ELSEWHERE' },
    /OOMTEST_ALLOWED_CHANNELS/,
  ],
  [
    'a namespace not in the allowlist',
    'mem-nginx 200Mi --namespace kube-system',
    {},
    /kube-system/,
  ],
  [
    'a cluster not in the allowlist',
    'mem-nginx 200Mi --cluster prod',
    {},
    /OOMTEST_ALLOWED_CLUSTERS/,
  ],
];

describe('refused commands with bot and worker as separate processes', () => {
  let boundaries: Boundaries;
  let bot: OomtestProcess;
  let worker: OomtestProcess;

  beforeAll(async () => {
    boundaries = await startBoundaries();
    const env = {
      ...boundaries.env,
      OOMTEST_ALLOWED_USERS: DEFAULT_USER,
      OOMTEST_ALLOWED_CHANNELS: DEFAULT_CHANNEL,
      OOMTEST_ALLOWED_NAMESPACES: 'default',
    };
    [bot, worker] = await Promise.all([startOomtest('bot', env), startOomtest('worker', env)]);
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([bot?.stop(), worker?.stop()]);
    await boundaries?.stop();
  }, TEST_TIMEOUT_MS);

  const send = (text: string, fields: { userId?: string; channelId?: string } = {}) =>
    postSigned(`http://127.0.0.1:${bot.port}/slack/events`, slashCommandBody({ text, ...fields }));

  const nothingReachedTheCluster = (): void => {
    expect(boundaries.kube.requests.filter((r) => r.verb === 'create')).toEqual([]);
    expect(boundaries.slack.calls.filter((call) => call.method === 'chat.postMessage')).toEqual([]);
  };

  it.each(BAD_INPUTS)(
    'refuses "%s" with an ephemeral reply naming the problem',
    async (text, says) => {
      const answer = await send(text);

      expect(answer.status).toBe(200);
      expect(answer.json?.response_type).toBe('ephemeral');
      expect(answer.json?.text).toMatch(says);
      nothingReachedTheCluster();
    },
  );

  it.each(UNAUTHORISED)('refuses %s', async (_what, text, fields, says) => {
    const answer = await send(text, fields);

    expect(answer.json?.response_type).toBe('ephemeral');
    expect(answer.json?.text).toMatch(says);
    nothingReachedTheCluster();
  });

  it(
    'still runs a valid drill from the allowed user and channel (the refusals were not a broken rig)',
    async () => {
      nothingReachedTheCluster();

      await send('allowed 128Mi --kills 1');

      await waitForSummary(boundaries.slack, 'allowed');
      // A create is a POST to the collection: the name is in the body, not the path.
      expect(boundaries.kube.requests.filter((r) => r.verb === 'create')).toHaveLength(1);
      await waitFor(
        'the drill pod to be deleted',
        () => podsNamed(boundaries.kube, 'allowed') === 0,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
