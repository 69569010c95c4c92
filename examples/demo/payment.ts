// Demo service "payment": POST /pay charges a card inside a monitor() span. Scenario payment-error
// makes the card processor fail: the span records the error and the service answers 503.
// Run by `npm run demo`, or alone: SERVICE_NAME=payment PORT=8082 METRICS_PORT=9465 npx tsx examples/demo/payment.ts

import { readJson, runService, scenarioOf, sendJson, pathOf } from './service';
import { envNumber, sleep } from './scenarios';

/** PaymentUnavailableError is the injected failure of the card processor. */
class PaymentUnavailableError extends Error {
  override name = 'PaymentUnavailableError';
}

let payments = 0;

void runService('payment', 8082, (tracing) => async (req, res) => {
  if (req.method !== 'POST' || pathOf(req) !== '/pay') return sendJson(res, 404, { error: 'not found' });
  const body = ((await readJson(req)) ?? {}) as { order_id?: string; amount?: number };
  const scenario = scenarioOf(req, { error: 'payment-error' });
  tracing.logger.info({ order_id: body.order_id, amount: body.amount, scenario }, 'charging card');
  try {
    const receipt = await tracing.monitor('charge-card', async (span) => {
      span.setAttribute('payment.amount', Number(body.amount ?? 0));
      await sleep(envNumber('DEMO_PAYMENT_MS', 15) * (0.5 + Math.random()));
      if (scenario === 'payment-error') throw new PaymentUnavailableError('card processor unavailable');
      return { payment_id: `pay-${process.pid}-${++payments}`, order_id: body.order_id };
    });
    sendJson(res, 200, receipt);
  } catch (err) {
    tracing.logger.error({ order_id: body.order_id, error: (err as Error).message }, 'charge failed');
    sendJson(res, 503, { error: 'card processor unavailable' });
  }
});
