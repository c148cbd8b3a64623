/**
 * From a request to an outcome, without node:http. For a CRM API call (Attachments or COQL)
 * the order is: route → authentication → admission (concurrency, credits) → fault or handler
 * → latency → counters and the credits header. A call is in flight from admission until its
 * exchange is over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { refuseUnauthorized } from './auth.js';
import type { FakeZohoControls } from './controls.js';
import { headerValue, type Answer, type ApiAnswer, type FakeRequest, type Outcome } from './exchange.js';
import type { FaultContext } from './faults.js';
import type { Latency } from './options.js';
import { resolveRoute, type ApiOperation, type AttachmentsTarget } from './router.js';
import { handleDelete, handleDownload, handleList } from './routes/attachments.js';
import { authorizeQuery, handleCoql } from './routes/coql.js';
import { handleControl } from './routes/control.js';
import { handleTokenRequest } from './routes/oauth.js';
import { refuseInvalidTarget } from './routes/record-target.js';
import { handleUpload } from './routes/upload.js';
import type { FakeZohoState } from './state.js';
import { zohoError } from './zoho-answers.js';

/** Turns requests into outcomes for one fake. */
export class Dispatcher {
  constructor(
    private readonly state: FakeZohoState,
    private readonly controls: FakeZohoControls,
    /** The fake's own URL, which the token endpoint gives out as `api_domain`. */
    private readonly apiDomain: () => string,
  ) {}

  /** Decides what to do with one request. Never rejects. */
  async dispatch(request: FakeRequest): Promise<Outcome> {
    const route = resolveRoute(request.method, request.url.pathname);
    try {
      switch (route.kind) {
        case 'api':
          return await this.dispatchApi(request, route.operation, route.target);
        case 'coql':
          return await this.dispatchQuery(request);
        case 'token':
          return await this.applyFaults({ path: 'token', method: request.method }, () =>
            handleTokenRequest(request, this.state.tokens, this.state.options, this.apiDomain()),
          );
        case 'control':
          return answer(await handleControl(request, route.path, this.controls));
        case 'wrongMethod':
          return this.finishApiAnswer(zohoError('INVALID_REQUEST_METHOD'));
        case 'notFound':
          return this.finishApiAnswer(zohoError('INVALID_URL_PATTERN'));
      }
    } catch (error) {
      // A client that left mid-request (an aborted upload) is not the fake's failure.
      if (request.signal.aborted) return { kind: 'reset' };
      this.state.options.onInternalError(error);
      const failure = zohoError('INTERNAL_ERROR');
      return route.kind === 'api' || route.kind === 'coql' ? this.finishApiAnswer(failure) : answer(failure);
    }
  }

  private async dispatchApi(
    request: FakeRequest,
    operation: ApiOperation,
    target: AttachmentsTarget,
  ): Promise<Outcome> {
    const { state } = this;
    state.countCall(operation);
    const unauthorized = refuseUnauthorized(headerValue(request, 'authorization'), operation, state.tokens);
    if (unauthorized) return this.finishApiAnswer(unauthorized);
    const faultContext = { path: operation, method: request.method, module: target.module, recordId: target.recordId };
    return this.admitAndRun(request, faultContext, (options) => this.handleApi(request, operation, target, options));
  }

  /** `POST …/coql`: counted, authenticated, admitted and faulted like any other API call. */
  private async dispatchQuery(request: FakeRequest): Promise<Outcome> {
    const { state } = this;
    state.countQuery();
    const authorized = authorizeQuery(headerValue(request, 'authorization'), state.tokens);
    if ('refused' in authorized) return this.finishApiAnswer(authorized.refused);
    return this.admitAndRun(request, { path: 'coql', method: request.method }, () =>
      handleCoql(request, authorized.scopes, state),
    );
  }

  /**
   * The part every authenticated API call shares: admission (429 when refused), then the fault
   * or the handler, then the latency, then the counted answer.
   */
  private async admitAndRun(
    request: FakeRequest,
    faultContext: FaultContext,
    handle: (options?: { storeDelayMs?: number }) => Promise<ApiAnswer>,
  ): Promise<Outcome> {
    const { state } = this;
    if (state.admission.tryAdmit() !== undefined) return this.finishApiAnswer(zohoError('TOO_MANY_REQUESTS'));
    void request.done.then(() => state.admission.release());

    const outcome = await this.applyFaults(faultContext, handle);
    if (outcome.kind === 'hang') return outcome;
    await waitLatency(state.options.latencyMs, request.signal);
    return outcome.kind === 'answer' ? this.finishApiAnswer(outcome.answer) : outcome;
  }

  private async handleApi(
    request: FakeRequest,
    operation: ApiOperation,
    target: AttachmentsTarget,
    options: { storeDelayMs?: number } = {},
  ): Promise<ApiAnswer> {
    const invalid = refuseInvalidTarget(target, this.state.modules);
    if (invalid) return invalid;
    switch (operation) {
      case 'upload':
        return handleUpload(request, target, this.state, options);
      case 'list':
        return handleList(request, target, this.state);
      case 'download':
        return handleDownload(target, this.state);
      case 'delete':
        return handleDelete(request, target, this.state);
    }
  }

  /** Runs `handle` unless a fault rule fires for this call, in which case the fault decides. */
  private async applyFaults<A extends Answer>(
    call: FaultContext,
    handle: (options?: { storeDelayMs?: number }) => Promise<A>,
  ): Promise<{ kind: 'answer'; answer: A | ApiAnswer } | { kind: 'hang' } | { kind: 'reset' }> {
    const fault = this.state.faults.take(call);
    switch (fault?.kind) {
      case undefined:
        return answer(await handle());
      case 'error500':
        return answer(zohoError('INTERNAL_ERROR'));
      case 'error429':
        return answer(zohoError('TOO_MANY_REQUESTS'));
      case 'noPermission':
        return answer(zohoError('NO_PERMISSION'));
      case 'authorizationFailed':
        return answer(zohoError('AUTHORIZATION_FAILED'));
      case 'hang':
        return { kind: 'hang' };
      case 'reset':
        return { kind: 'reset' };
      case 'storeThen500':
        (await handle()).stream?.destroy();
        return answer(zohoError('INTERNAL_ERROR'));
      case 'resetAfterStore':
        (await handle()).stream?.destroy();
        return { kind: 'reset' };
      case 'lateStore':
        // Read it all, answer nothing (the client gives up), store it later.
        (await handle({ storeDelayMs: fault.delayMs })).stream?.destroy();
        return { kind: 'hang' };
    }
  }

  /** Counts an API answer and adds the credits header. */
  private finishApiAnswer(apiAnswer: ApiAnswer): Outcome {
    this.state.countAnswer(apiAnswer.status, apiAnswer.code);
    return answer({ ...apiAnswer, headers: { ...apiAnswer.headers, ...this.state.admission.creditsHeader() } });
  }
}

function answer<A extends Answer>(value: A): { kind: 'answer'; answer: A } {
  return { kind: 'answer', answer: value };
}

/** Waits the configured latency, or less if the client leaves. */
async function waitLatency(latency: Latency, signal: AbortSignal): Promise<void> {
  const ms = typeof latency === 'number' ? latency : latency.min + Math.random() * (latency.max - latency.min);
  if (ms <= 0) return;
  await sleep(ms, undefined, { signal, ref: false }).catch(() => {});
}
