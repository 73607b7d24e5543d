import { randomUUID } from 'node:crypto';
import { afterAll, expect, it, vi } from 'vitest';
import { silentLogger } from '../../observe/index.js';
import { openPglite } from '../../store/index.js';
import { createInProcessTransport, type Message } from '../../transport/index.js';
import { topics } from '../contracts.js';
import { hostService } from '../service-host.js';
import { DEFAULT_SIMULATION } from '../simulation.js';
import { startCarrier } from './carrier.js';
import { shippingService } from './service-definitions.js';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

it('confirms a delivery as soon as the shipment commits (delay 0), not at its next poll', async () => {
  const db = await openPglite();
  const transport = createInProcessTransport();
  stops.push(() => db.close(), () => transport.close());
  const shipping = await hostService(shippingService('orchestration', { ...DEFAULT_SIMULATION, shipmentFailureRate: 0 }), db, transport, silentLogger());
  stops.push(() => shipping.stop());
  // A poll of ten minutes: only the commit of the shipment can make the carrier look in time.
  const carrier = startCarrier(shipping, 0, silentLogger(), 600_000);
  stops.push(() => carrier.stop());

  const reports: Message[] = [];
  const sub = await transport.subscribe({ topic: topics.events('shipping'), group: 'test', handler: ({ message }) => (reports.push(message), Promise.resolve()) });
  stops.push(() => sub.close());

  const orderId = randomUUID();
  const items = [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }];
  await transport.publish([{ id: randomUUID(), topic: topics.commands('shipping'), key: orderId, type: 'PrepareShipment', payload: { orderId, items }, headers: {} }]);
  await vi.waitFor(() => expect(reports.map((r) => r.type)).toEqual(['PackageShipped', 'DeliveryConfirmed']), { timeout: 15_000, interval: 20 });
});
