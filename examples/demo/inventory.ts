// Demo service "inventory": POST /reserve reserves stock inside a monitor() span. Scenario
// slow-inventory takes DEMO_SLOW_MS (default 600 ms); scenario inventory-error throws out of the
// handler, so the kit's wrapHandler answers 500 and records the exception on the server span.
// Run by `npm run demo`, or alone: SERVICE_NAME=inventory PORT=8083 METRICS_PORT=9466 npx tsx examples/demo/inventory.ts

import { readJson, runService, scenarioOf, sendJson, pathOf } from './service';
import { envNumber, sleep } from './scenarios';

void runService('inventory', 8083, (tracing) => async (req, res) => {
  if (req.method !== 'POST' || pathOf(req) !== '/reserve') return sendJson(res, 404, { error: 'not found' });
  const body = ((await readJson(req)) ?? {}) as { order_id?: string; item?: string; qty?: number };
  const scenario = scenarioOf(req, { error: 'inventory-error', slow: 'slow-inventory' });
  tracing.logger.info({ order_id: body.order_id, item: body.item, qty: body.qty, scenario }, 'reserving stock');
  const reservation = await tracing.monitor('reserve-stock', async (span) => {
    span.setAttributes({ 'inventory.item': String(body.item), 'inventory.qty': Number(body.qty ?? 0) });
    const slow = scenario === 'slow-inventory';
    await sleep(slow ? envNumber('DEMO_SLOW_MS', 600) : envNumber('DEMO_INVENTORY_MS', 10) * (0.5 + Math.random()));
    if (scenario === 'inventory-error') throw new Error('stock ledger unavailable');
    return { reserved: body.qty, item: body.item, order_id: body.order_id };
  });
  sendJson(res, 200, reservation);
});
