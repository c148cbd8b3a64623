/**
 * The HTTP control API under `/__fake/` (JSON in, JSON out), for tests in another process:
 * the same operations as {@link FakeZohoControls}.
 */
import type { FakeZohoControls, IssueTokenOptions } from '../controls.js';
import { jsonAnswer, type Answer, type FakeRequest } from '../exchange.js';
import { InvalidFaultRuleError, type FaultRule } from '../faults.js';
import { BodyTooLargeError, readSmallBody } from '../small-body.js';

const MAX_CONTROL_BODY_BYTES = 64 * 1024;
const NO_CONTENT: Answer = { status: 204 };

/** A control request that cannot be carried out; answered 400 with its message. */
class BadControlRequest extends Error {
  override readonly name = 'BadControlRequest';
}

/** Answers one control request; `path` is what follows `/__fake`. */
export async function handleControl(request: FakeRequest, path: string, controls: FakeZohoControls): Promise<Answer> {
  try {
    return await dispatchControl(request, path, controls);
  } catch (error) {
    if (error instanceof BadControlRequest || error instanceof InvalidFaultRuleError) {
      return jsonAnswer(400, { error: error.message });
    }
    throw error;
  }
}

async function dispatchControl(request: FakeRequest, path: string, controls: FakeZohoControls): Promise<Answer> {
  const route = `${request.method} ${path}`;
  switch (route) {
    case 'GET /state':
      return jsonAnswer(200, controls.inspect());
    case 'POST /faults':
      // faults.add validates whatever it is given.
      return jsonAnswer(200, { id: controls.faults.add((await readJson(request)) as FaultRule) });
    case 'DELETE /faults':
      controls.faults.clear();
      return NO_CONTENT;
    case 'POST /tokens':
      return jsonAnswer(200, { accessToken: controls.issueAccessToken(issueOptions(await readJson(request))) });
    case 'POST /tokens/expire':
      controls.expireAllTokens();
      return NO_CONTENT;
    case 'POST /refresh-tokens/revoke':
      controls.revokeRefreshToken(refreshTokenOf(await readJson(request)));
      return NO_CONTENT;
    case 'POST /refresh-tokens/restore':
      controls.restoreRefreshToken(refreshTokenOf(await readJson(request)));
      return NO_CONTENT;
    case 'POST /reset':
      await controls.reset();
      return NO_CONTENT;
    case 'POST /list-lag': {
      const body = await readJson(request);
      const ms = body && typeof body === 'object' ? (body as { ms?: unknown }).ms : undefined;
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0)
        return jsonAnswer(400, { error: 'ms must be a whole number of milliseconds, at least 0' });
      controls.setListLag(ms);
      return NO_CONTENT;
    }
  }
  const faultId = /^DELETE \/faults\/([^/]+)$/.exec(route)?.[1];
  if (faultId !== undefined) {
    return controls.faults.remove(faultId) ? NO_CONTENT : jsonAnswer(404, { error: 'no such fault rule' });
  }
  return jsonAnswer(404, { error: `no control route ${route}` });
}

/** The JSON body, or undefined when there is none. */
async function readJson(request: FakeRequest): Promise<unknown> {
  let text: string;
  try {
    text = (await readSmallBody(request.body, MAX_CONTROL_BODY_BYTES)).toString('utf8');
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new BadControlRequest(error.message);
    throw error;
  }
  if (text.trim().length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new BadControlRequest('the body is not JSON');
  }
}

function refreshTokenOf(body: unknown): string {
  const { refreshToken } = objectBody(body);
  if (typeof refreshToken !== 'string') throw new BadControlRequest('refreshToken (a string) is required');
  return refreshToken;
}

function issueOptions(body: unknown): IssueTokenOptions {
  const { scopes, ttlSeconds } = objectBody(body ?? {});
  if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string'))) {
    throw new BadControlRequest('scopes must be an array of strings');
  }
  if (ttlSeconds !== undefined && !(typeof ttlSeconds === 'number' && ttlSeconds > 0)) {
    throw new BadControlRequest('ttlSeconds must be a positive number');
  }
  return { scopes, ttlSeconds };
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadControlRequest('the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
