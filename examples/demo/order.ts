// Demo service "order": POST /orders validates the order (a monitor() span), charges it through
// payment, then reserves stock through inventory, both with tracedFetch (CLIENT spans, W3C context
// injected), and answers with the order's trace_id. A downstream failure becomes 502; an invalid order 400.
// Run by `npm run demo`, or alone: SERVICE_NAME=order PORT=8081 METRICS_PORT=9464 npx tsx examples/demo/order.ts

import { readJson, runService, sendJson, pathOf } from './service';
import { SCENARIO_HEADER, isScenario } from './scenarios';

const PAYMENT_URL = process.env.PAYMENT_URL ?? 'http://127.0.0.1:8082';
const INVENTORY_URL = process.env.INVENTORY_URL ?? 'http://127.0.0.1:8083';

interface Order {
  item: string;
  qty: number;
}

let orders = 0;

void runService('order', 8081, (tracing) => async (req, res) => {
  if (req.method !== 'POST' || pathOf(req) !== '/orders') return sendJson(res, 404, { error: 'not found' });
  const orderId = `ord-${process.pid}-${++orders}`;
  const body = (await readJson(req)) as Partial<Order> | undefined;
  const traceId = tracing.correlationFields().trace_id;
  tracing.logger.info({ order_id: orderId, item: body?.item, qty: body?.qty }, 'order received');

  const valid = tracing.monitor('validate-order', (span) => {
    const ok =
      typeof body?.item === 'string' &&
      body.item !== '' &&
      Number.isInteger(body.qty) &&
      body.qty! >= 1 &&
      body.qty! <= 100;
    span.setAttribute('order.valid', ok);
    return ok;
  });
  if (!valid) {
    tracing.logger.warn({ order_id: orderId }, 'order rejected: invalid');
    return sendJson(res, 400, { order_id: orderId, status: 'invalid', trace_id: traceId });
  }
  const order = body as Order;

  // the scenario header, when the driver set one, travels on so downstream services inject its fault
  const scenario = req.headers[SCENARIO_HEADER];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (isScenario(scenario)) headers[SCENARIO_HEADER] = scenario;

  const pay = await tracing.tracedFetch(`${PAYMENT_URL}/pay`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ order_id: orderId, amount: order.qty * 9.5 }),
  });
  await pay.arrayBuffer();
  if (!pay.ok) {
    tracing.logger.error({ order_id: orderId, status: pay.status }, 'order failed: payment');
    return sendJson(res, 502, { order_id: orderId, status: 'failed', failed: 'payment', trace_id: traceId });
  }
  const reserve = await tracing.tracedFetch(`${INVENTORY_URL}/reserve`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ order_id: orderId, item: order.item, qty: order.qty }),
  });
  await reserve.arrayBuffer();
  if (!reserve.ok) {
    tracing.logger.error({ order_id: orderId, status: reserve.status }, 'order failed: inventory');
    return sendJson(res, 502, { order_id: orderId, status: 'failed', failed: 'inventory', trace_id: traceId });
  }
  tracing.logger.info({ order_id: orderId }, 'order confirmed');
  sendJson(res, 200, { order_id: orderId, status: 'confirmed', trace_id: traceId });
});
